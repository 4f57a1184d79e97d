/**
 * The packet header vector's layout: every field of every header instance gets one slot in a flat
 * index (in `phv.values` or `phv.wide` by width), so compiled code reads fields with no name
 * lookups per packet.
 */
import { ProgramError } from "../program/errors.js";
import type { FieldInfo, Program } from "../program/load.js";
import type { PhvArrays } from "./packet.js";
import { type FieldValue, zeroOf } from "./values.js";

export interface FieldSlot {
  /** `header.field` */
  name: string;
  header: number;
  slot: number;
  width: number;
  signed: boolean;
  varbit: boolean;
}

export interface HeaderLayout {
  index: number;
  name: string;
  metadata: boolean;
  fields: FieldSlot[];
  /** Width of the fixed part in bits (varbit field excluded). */
  fixedBits: number;
  /** Slot of the varbit field, or -1. */
  varbitSlot: number;
  /** Maximum header size in bytes when it has a varbit field. */
  maxBytes: number;
  /** Index of the union this header belongs to, or -1. */
  union: number;
}

export interface StackLayout {
  index: number;
  name: string;
  headers: number[];
}

export interface UnionLayout {
  index: number;
  name: string;
  members: { name: string; header: number }[];
}

export interface UnionStackLayout {
  index: number;
  name: string;
  unions: number[];
}

export class PhvLayout {
  readonly headers: HeaderLayout[] = [];
  readonly stacks: StackLayout[] = [];
  readonly unions: UnionLayout[] = [];
  readonly unionStacks: UnionStackLayout[] = [];
  private readonly headerByName = new Map<string, number>();
  private readonly stackByName = new Map<string, number>();
  private readonly unionByName = new Map<string, number>();
  private readonly unionStackByName = new Map<string, number>();
  /** Initial values of all slots (zeros in each field's representation). */
  readonly zeroValues: FieldValue[] = [];
  /** Field aliases (`field_aliases`): target-expected name → program name. */
  private readonly aliases = new Map<string, string>();

  constructor(program: Program) {
    const headerIndexById = new Map<number, number>();
    for (const info of program.spec.headers) {
      const h = program.headers.get(info.name);
      if (!h) continue;
      const index = this.headers.length;
      headerIndexById.set(h.id, index);
      this.headerByName.set(h.name, index);
      const fixedBits = h.type.fields.reduce((sum, f) => sum + f.width, 0);
      const fields = h.type.fields.map((f: FieldInfo) => {
        const slot = this.zeroValues.length;
        // A varbit field's width is its maximum (max_length counts the whole header, in bytes);
        // its value is held in the representation of that width, whatever its current length.
        const width = f.varbit ? Math.max(0, h.type.maxLength * 8 - fixedBits) : f.width;
        this.zeroValues.push(zeroOf(width));
        return {
          name: `${h.name}.${f.name}`,
          header: index,
          slot,
          width,
          signed: f.signed,
          varbit: f.varbit,
        };
      });
      this.headers.push({
        index,
        name: h.name,
        metadata: h.metadata,
        fields,
        fixedBits,
        varbitSlot: fields.find((f) => f.varbit)?.slot ?? -1,
        maxBytes: h.type.maxLength,
        union: -1,
      });
    }
    for (const [name, s] of program.stacks) {
      this.stackByName.set(name, this.stacks.length);
      this.stacks.push({
        index: this.stacks.length,
        name,
        headers: s.headerIds.map((id) => headerIndexById.get(id) ?? -1),
      });
    }
    const unionIndexById = new Map<number, number>();
    for (const u of program.spec.header_unions) {
      const info = program.unions.get(u.name);
      if (!info) continue;
      const index = this.unions.length;
      unionIndexById.set(u.id, index);
      this.unionByName.set(u.name, index);
      const members = info.members.map((m) => ({
        name: m.name,
        header: headerIndexById.get(m.headerId) ?? -1,
      }));
      for (const m of members) {
        const header = this.headers[m.header];
        if (header) header.union = index;
      }
      this.unions.push({ index, name: u.name, members });
    }
    for (const [name, s] of program.unionStacks) {
      this.unionStackByName.set(name, this.unionStacks.length);
      this.unionStacks.push({
        index: this.unionStacks.length,
        name,
        unions: s.unionIds.map((id) => unionIndexById.get(id) ?? -1),
      });
    }
    for (const [expected, [header, field]] of program.spec.field_aliases) {
      this.aliases.set(expected, `${header}.${field}`);
    }
  }

  /**
   * What a new packet's vector starts as (bmv2 metadata headers are always valid, everything
   * else invalid and zero), copied for each packet.
   */
  get initialPhv(): PhvArrays {
    if (!this.initial) {
      const valid = new Uint8Array(this.headers.length);
      for (const h of this.headers) if (h.metadata) valid[h.index] = 1;
      this.initial = {
        values: new Float64Array(this.zeroValues.length),
        wide: this.zeroValues,
        valid,
        // Read only for headers with a varbit field: without any, an empty array that is shared
        // (stores into it, e.g. setValid's reset, do nothing).
        varbitBits: new Int32Array(
          this.headers.some((h) => h.varbitSlot >= 0) ? this.headers.length : 0,
        ),
        stackNext: new Int32Array(this.stacks.length),
        unionStackNext: new Int32Array(this.unionStacks.length),
      };
    }
    return this.initial;
  }

  private initial: PhvArrays | undefined;

  /** Slots of fields wider than 53 bits (bigint values). */
  get wideSlots(): readonly number[] {
    this.wide ??= this.zeroValues.flatMap((z, slot) => (typeof z === "bigint" ? [slot] : []));
    return this.wide;
  }

  private wide: number[] | undefined;

  get slotCount(): number {
    return this.zeroValues.length;
  }

  hasHeader(name: string): boolean {
    return this.headerByName.has(name);
  }

  header(name: string, context = "program"): HeaderLayout {
    const index = this.headerByName.get(name);
    const header = index === undefined ? undefined : this.headers[index];
    if (!header) throw new ProgramError(`header "${name}"`, `unknown, referenced by ${context}`);
    return header;
  }

  /** A field by header and member name; `field_aliases` apply to the whole dotted name. */
  field(headerName: string, fieldName: string, context = "program"): FieldSlot {
    const alias = this.aliases.get(`${headerName}.${fieldName}`);
    const [h, f] = alias ? (alias.split(".") as [string, string]) : [headerName, fieldName];
    const header = this.header(h, context);
    const field = header.fields.find((x) => x.name === `${h}.${f}`);
    if (!field) throw new ProgramError(`field "${h}.${f}"`, `unknown, referenced by ${context}`);
    return field;
  }

  /** A field when the program declares it (optional v1model fields such as mcast_grp). */
  optionalField(headerName: string, fieldName: string): FieldSlot | undefined {
    try {
      return this.field(headerName, fieldName);
    } catch {
      return undefined;
    }
  }

  stack(name: string, context = "program"): StackLayout {
    const index = this.stackByName.get(name);
    const stack = index === undefined ? undefined : this.stacks[index];
    if (!stack)
      throw new ProgramError(`header stack "${name}"`, `unknown, referenced by ${context}`);
    return stack;
  }

  union(name: string, context = "program"): UnionLayout {
    const index = this.unionByName.get(name);
    const union = index === undefined ? undefined : this.unions[index];
    if (!union)
      throw new ProgramError(`header union "${name}"`, `unknown, referenced by ${context}`);
    return union;
  }

  unionStack(name: string, context = "program"): UnionStackLayout {
    const index = this.unionStackByName.get(name);
    const stack = index === undefined ? undefined : this.unionStacks[index];
    if (!stack) {
      throw new ProgramError(`header union stack "${name}"`, `unknown, referenced by ${context}`);
    }
    return stack;
  }
}
