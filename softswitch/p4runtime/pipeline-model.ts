/**
 * What the P4Info says, joined to the objects of the loaded program that carry it out: each
 * table, action, counter, meter, register, action profile and digest by P4Runtime id, bound to
 * the softswitch's runtime object of the same name (PI and bmv2 join them by name the same way).
 * Building the model is the VERIFY step of SetForwardingPipelineConfig: a P4Info that does not
 * describe the device config (a missing table, another match kind or width, an action whose
 * parameters differ, a size that disagrees) is refused with INVALID_ARGUMENT naming the object,
 * instead of failing later on the first write, as bmv2 would.
 */
import type { P4Info__Output } from "../../proto/gen/p4/config/v1/P4Info.js";
import type { Preamble__Output } from "../../proto/gen/p4/config/v1/Preamble.js";
import type { Table__Output } from "../../proto/gen/p4/config/v1/Table.js";
import type { CompiledAction } from "../compile/actions.js";
import type { ActionCall, TableState } from "../compile/control.js";
import type { ActionProfile } from "../core/action-profile.js";
import type { CounterArray } from "../core/counters.js";
import type { LearnList } from "../core/learning.js";
import type { KeyKind } from "../core/match-table.js";
import type { MeterArray } from "../core/meters.js";
import type { RegisterArray } from "../core/registers.js";
import type { SimpleSwitch } from "../v1model/switch.js";
import { Code, invalidArgument, invalidP4Id, P4RuntimeError } from "./errors.js";

export interface ParamModel {
  id: number;
  name: string;
  bitwidth: number;
  /** "action.param", how errors name it (built once, not per written entry). */
  what: string;
}

export interface ActionModel {
  id: number;
  name: string;
  /** Parameters in P4Info order, which is the order of the compiled action's data. */
  params: ParamModel[];
}

/** An action as one table uses it: p4c gives each table its own copy of the action. */
export interface TableActionModel {
  action: ActionModel;
  compiled: CompiledAction;
  scope: ActionScope;
}

export type MatchKind = "EXACT" | "LPM" | "TERNARY" | "RANGE" | "OPTIONAL";

export interface MatchFieldModel {
  id: number;
  name: string;
  bitwidth: number;
  kind: MatchKind;
  /** bmv2's kind for the key ("valid" for a P4_14 validity match shown as EXACT). */
  targetKind: KeyKind;
}

export type ActionScope = "TABLE_AND_DEFAULT" | "TABLE_ONLY" | "DEFAULT_ONLY";

export interface TableModel {
  id: number;
  name: string;
  info: Table__Output;
  state: TableState;
  /** Match fields in P4Info order (= the key order of the program). */
  fields: MatchFieldModel[];
  /** Ternary, range or optional fields: entries need a priority. */
  needsPriority: boolean;
  actions: Map<number, TableActionModel>;
  constDefaultAction: boolean;
  /** Entries come from the program only (`const entries`). */
  isConst: boolean;
  profile: ProfileModel | undefined;
  directCounter: DirectResourceModel | undefined;
  directMeter: (DirectResourceModel & { unit: MeterUnit }) | undefined;
  supportsIdleTimeout: boolean;
}

export type CounterUnit = "BYTES" | "PACKETS" | "BOTH";
export type MeterUnit = "BYTES" | "PACKETS";

export interface CounterModel {
  id: number;
  name: string;
  size: number;
  unit: CounterUnit;
  array: CounterArray;
}

export interface MeterModel {
  id: number;
  name: string;
  size: number;
  unit: MeterUnit;
  array: MeterArray;
}

export interface DirectResourceModel {
  id: number;
  name: string;
  tableId: number;
}

export interface RegisterModel {
  id: number;
  name: string;
  size: number;
  bitwidth: number;
  array: RegisterArray;
}

export interface ProfileModel {
  id: number;
  name: string;
  tableIds: number[];
  withSelector: boolean;
  size: number;
  /** P4Info max_group_size; 0 = no static limit. */
  maxGroupSize: number;
  profile: ActionProfile<ActionCall>;
  /** Actions allowed in members: those of the profile's tables (their copies). */
  actions: Map<number, TableActionModel>;
}

export interface DigestModel {
  id: number;
  name: string;
  /** How a sample is split into P4Data: a struct's or tuple's members, or one bitstring. */
  shape: "struct" | "tuple" | "bitstring";
  bitwidths: number[];
  learnList: LearnList;
}

export interface ControllerHeaderModel {
  id: number;
  name: string;
  fields: { id: number; name: string; bitwidth: number; bitOffset: number }[];
  /** Total width in bits; the header occupies whole bytes. */
  bitwidth: number;
}

function nameOf(preamble: Preamble__Output | null, kind: string): { id: number; name: string } {
  if (!preamble?.id || !preamble.name) {
    throw invalidArgument(`P4Info: a ${kind} has no preamble with an id and a name`);
  }
  return { id: preamble.id, name: preamble.name };
}

function mismatch(kind: string, name: string, problem: string) {
  return invalidArgument(`P4Info ${kind} "${name}" does not match the device config: ${problem}`);
}

const keyKindsFor: Record<MatchKind, KeyKind[]> = {
  EXACT: ["exact", "valid"],
  LPM: ["lpm"],
  TERNARY: ["ternary"],
  RANGE: ["range"],
  OPTIONAL: ["optional", "ternary"],
};

/** bit<W> width of a P4Info type spec, or undefined for anything else. */
function bitWidth(spec: { bitstring?: { bit?: { bitwidth: number } | null } | null } | null) {
  return spec?.bitstring?.bit?.bitwidth;
}

function index<T extends { id: number }>(items: T[], kind: string): Map<number, T> {
  const map = new Map<number, T>();
  for (const item of items) {
    if (map.has(item.id)) throw invalidArgument(`P4Info: two ${kind}s have id ${item.id}`);
    map.set(item.id, item);
  }
  return map;
}

export class PipelineModel {
  readonly tables: Map<number, TableModel>;
  /**
   * Tables the P4Info lists that p4c removed from the JSON as never applied, by id → name.
   * PI loads such pipelines; only entities that name these tables are refused.
   */
  readonly absentTables: Map<number, string>;
  readonly actions: Map<number, ActionModel>;
  readonly profiles: Map<number, ProfileModel>;
  readonly counters: Map<number, CounterModel>;
  readonly directCounters: Map<number, DirectResourceModel>;
  readonly meters: Map<number, MeterModel>;
  readonly directMeters: Map<number, DirectResourceModel & { unit: MeterUnit }>;
  readonly registers: Map<number, RegisterModel>;
  readonly digests: Map<number, DigestModel>;
  readonly packetIn: ControllerHeaderModel | undefined;
  readonly packetOut: ControllerHeaderModel | undefined;

  /** Joins the P4Info to the loaded switch; throws INVALID_ARGUMENT naming any mismatch. */
  constructor(
    readonly p4info: P4Info__Output,
    readonly sw: SimpleSwitch,
  ) {
    this.actions = index(
      p4info.actions.map((a) => this.buildAction(a)),
      "action",
    );
    this.directCounters = index(
      p4info.direct_counters.map((c) => ({
        ...nameOf(c.preamble, "direct counter"),
        tableId: c.direct_table_id,
      })),
      "direct counter",
    );
    this.directMeters = index(
      p4info.direct_meters.map((m) => ({
        ...nameOf(m.preamble, "direct meter"),
        tableId: m.direct_table_id,
        unit: (m.spec?.unit === "BYTES" ? "BYTES" : "PACKETS") as MeterUnit,
      })),
      "direct meter",
    );
    this.profiles = new Map();
    const tables = p4info.tables.map((info) => ({ info, ...nameOf(info.preamble, "table") }));
    this.tables = index(
      tables.flatMap(({ info, name }) => {
        const state = sw.tables.get(name);
        return state ? [this.buildTable(info, state)] : [];
      }),
      "table",
    );
    this.absentTables = new Map(
      tables.filter(({ name }) => !sw.tables.has(name)).map(({ id, name }) => [id, name]),
    );
    for (const ap of p4info.action_profiles) {
      const { id, name } = nameOf(ap.preamble, "action profile");
      const tables = ap.table_ids.map((t) => this.tables.get(t));
      const profile = tables.find((t) => t?.state.profile)?.state.profile;
      if (!profile || profile.name !== name) {
        throw mismatch("action profile", name, "no table of the program implements it");
      }
      if (profile.hasSelector !== ap.with_selector) {
        throw mismatch("action profile", name, `with_selector is ${ap.with_selector}`);
      }
      const model: ProfileModel = {
        id,
        name,
        tableIds: ap.table_ids,
        withSelector: ap.with_selector,
        size: Number(ap.size),
        maxGroupSize: ap.max_group_size,
        profile,
        actions: new Map(tables.flatMap((t) => [...(t?.actions ?? [])]).reverse()),
      };
      this.profiles.set(id, model);
      for (const t of tables) if (t) t.profile = model;
    }
    for (const t of this.tables.values()) {
      if (t.info.implementation_id && !t.profile) {
        throw mismatch("table", t.name, `implementation ${t.info.implementation_id} is unknown`);
      }
    }
    this.counters = index(
      p4info.counters.map((c) => {
        const { id, name } = nameOf(c.preamble, "counter");
        const array = sw.counters.get(name);
        if (!array) throw mismatch("counter", name, "no counter array of that name");
        if (array.size !== Number(c.size)) {
          throw mismatch("counter", name, `size ${c.size}, the program's is ${array.size}`);
        }
        const unit = (c.spec?.unit ?? "BOTH") as CounterUnit | "UNSPECIFIED";
        return { id, name, size: array.size, unit: unit === "UNSPECIFIED" ? "BOTH" : unit, array };
      }),
      "counter",
    );
    this.meters = index(
      p4info.meters.map((m) => {
        const { id, name } = nameOf(m.preamble, "meter");
        const array = sw.meters.get(name);
        if (!array) throw mismatch("meter", name, "no meter array of that name");
        if (array.size !== Number(m.size)) {
          throw mismatch("meter", name, `size ${m.size}, the program's is ${array.size}`);
        }
        return {
          id,
          name,
          size: array.size,
          unit: (m.spec?.unit === "BYTES" ? "BYTES" : "PACKETS") as MeterUnit,
          array,
        };
      }),
      "meter",
    );
    this.registers = index(
      p4info.registers.map((r) => {
        const { id, name } = nameOf(r.preamble, "register");
        const array = sw.registers.get(name);
        if (!array) throw mismatch("register", name, "no register array of that name");
        const bitwidth = bitWidth(r.type_spec);
        if (bitwidth !== array.width) {
          throw mismatch("register", name, `cells are not bit<${array.width}>`);
        }
        if (array.size !== r.size) {
          throw mismatch("register", name, `size ${r.size}, the program's is ${array.size}`);
        }
        return { id, name, size: array.size, bitwidth, array };
      }),
      "register",
    );
    this.digests = index(
      p4info.digests.map((d) => this.buildDigest(d)),
      "digest",
    );
    this.packetIn = this.controllerHeader("packet_in");
    this.packetOut = this.controllerHeader("packet_out");
  }

  table(id: number): TableModel {
    const t = this.tables.get(id);
    if (!t) throw invalidP4Id("table", id);
    return t;
  }

  action(id: number): ActionModel {
    const a = this.actions.get(id);
    if (!a) throw invalidP4Id("action", id);
    return a;
  }

  profile(id: number): ProfileModel {
    const p = this.profiles.get(id);
    if (!p) throw invalidP4Id("action profile", id);
    return p;
  }

  counter(id: number): CounterModel {
    const c = this.counters.get(id);
    if (!c) throw invalidP4Id("counter", id);
    return c;
  }

  meter(id: number): MeterModel {
    const m = this.meters.get(id);
    if (!m) throw invalidP4Id("meter", id);
    return m;
  }

  register(id: number): RegisterModel {
    const r = this.registers.get(id);
    if (!r) throw invalidP4Id("register", id);
    return r;
  }

  private buildAction(info: P4Info__Output["actions"][number]): ActionModel {
    const { id, name } = nameOf(info.preamble, "action");
    const params = info.params.map((p) => ({
      id: p.id,
      name: p.name,
      bitwidth: p.bitwidth,
      what: `${name}.${p.name}`,
    }));
    // None when p4c kept the action in the P4Info but dropped it from the JSON with the only
    // table that used it (absentTables); PI loads that, and so no table here offers it.
    const copies = [...this.sw.actions.values()].filter((a) => a.name === name);
    for (const compiled of copies) {
      const widths = compiled.paramWidths;
      if (
        widths.length !== params.length ||
        params.some((p, i) => p.bitwidth !== (widths[i] as number))
      ) {
        throw mismatch(
          "action",
          name,
          `parameter widths (${params.map((p) => p.bitwidth).join(", ")}) differ from the program's (${widths.join(", ")})`,
        );
      }
    }
    return { id, name, params };
  }

  private buildTable(info: Table__Output, state: TableModel["state"]): TableModel {
    const { id, name } = nameOf(info.preamble, "table");
    if (info.match_fields.length !== state.keys.length) {
      throw mismatch(
        "table",
        name,
        `${info.match_fields.length} match fields, the program's key has ${state.keys.length}`,
      );
    }
    const fields = info.match_fields.map((f, i): MatchFieldModel => {
      const key = state.keys[i] as (typeof state.keys)[number];
      const kind = (f.match_type ?? "UNSPECIFIED") as MatchKind | "UNSPECIFIED";
      if (kind === "UNSPECIFIED" || !keyKindsFor[kind]) {
        throw mismatch("table", name, `match field "${f.name}" has no supported match type`);
      }
      // P4Info gives an error- or enum-typed key no width (P4Runtime cannot express its
      // values); PI loads the pipeline and no entry can match on the field, as here.
      const expressible = f.bitwidth !== 0 || f.type_name !== null || kind !== "EXACT";
      if (!keyKindsFor[kind].includes(key.kind) || (expressible && f.bitwidth !== key.width)) {
        throw mismatch(
          "table",
          name,
          `match field "${f.name}" is ${kind.toLowerCase()} bit<${f.bitwidth}>, the program's key ${i} is ${key.kind} bit<${key.width}>`,
        );
      }
      return { id: f.id, name: f.name, bitwidth: f.bitwidth, kind, targetKind: key.kind };
    });
    const actions = new Map<number, TableActionModel>();
    for (const ref of info.action_refs) {
      const action = this.actions.get(ref.id);
      if (!action) throw mismatch("table", name, `action ${ref.id} is not in the P4Info`);
      const compiled = [...state.actions.values()].find((a) => a.name === action.name);
      if (!compiled) {
        throw mismatch("table", name, `action "${action.name}" is not one of the table's`);
      }
      actions.set(ref.id, {
        action,
        compiled,
        scope: (ref.scope ?? "TABLE_AND_DEFAULT") as ActionScope,
      });
    }
    const direct = (prefix: number) =>
      info.direct_resource_ids.find((r) => r >>> 24 === prefix) ?? 0;
    const directCounter = this.directCounters.get(direct(0x13));
    const directMeter = this.directMeters.get(direct(0x15));
    if (Boolean(directCounter) !== state.spec.with_counters) {
      throw mismatch("table", name, "direct counters differ from the program's");
    }
    if (directMeter && state.spec.direct_meters !== directMeter.name) {
      throw mismatch("table", name, `direct meter "${directMeter.name}" is not the program's`);
    }
    return {
      id,
      name,
      info,
      state,
      fields,
      needsPriority: fields.some((f) => f.kind !== "EXACT" && f.kind !== "LPM"),
      actions,
      constDefaultAction: info.const_default_action_id !== 0,
      isConst: info.is_const_table,
      profile: undefined,
      directCounter,
      directMeter,
      supportsIdleTimeout: info.idle_timeout_behavior === "NOTIFY_CONTROL",
    };
  }

  private buildDigest(info: P4Info__Output["digests"][number]): DigestModel {
    const { id, name } = nameOf(info.preamble, "digest");
    const learnList = [...this.sw.learnLists.values()].find((l) => l.name === name);
    if (!learnList) throw mismatch("digest", name, "no learn list of that name");
    const spec = info.type_spec;
    let shape: DigestModel["shape"];
    let bitwidths: (number | undefined)[];
    if (spec?.struct) {
      shape = "struct";
      const members = this.p4info.type_info?.structs[spec.struct.name]?.members;
      if (!members) {
        throw invalidArgument(
          `Struct name '${spec.struct.name}' name not found in P4TypeInfo struct map`,
        );
      }
      bitwidths = members.map((m) => bitWidth(m.type_spec));
    } else if (spec?.tuple) {
      shape = "tuple";
      bitwidths = spec.tuple.members.map((m) => bitWidth(m));
    } else {
      shape = "bitstring";
      bitwidths = [bitWidth(spec)];
    }
    if (bitwidths.some((w) => w === undefined)) {
      throw new P4RuntimeError(
        Code.UNIMPLEMENTED,
        `Digest "${name}": only bit<W> members are supported in digests`,
      );
    }
    const learnSpec = this.sw.program.spec.learn_lists.find((l) => l.name === name);
    const widths = (learnSpec?.elements ?? []).map((e) => {
      const [h, f] = e.value as [string, string];
      return this.sw.layout.field(h, f).width;
    });
    if (widths.join() !== bitwidths.join()) {
      throw mismatch(
        "digest",
        name,
        `member widths (${bitwidths.join(", ")}) differ from the learn list's (${widths.join(", ")})`,
      );
    }
    return { id, name, shape, bitwidths: bitwidths as number[], learnList };
  }

  private controllerHeader(name: string): ControllerHeaderModel | undefined {
    const info = this.p4info.controller_packet_metadata.find((c) => c.preamble?.name === name);
    if (!info) return undefined;
    let bitOffset = 0;
    const fields = info.metadata.map((m) => {
      const field = { id: m.id, name: m.name, bitwidth: m.bitwidth, bitOffset };
      bitOffset += m.bitwidth;
      return field;
    });
    return { id: info.preamble?.id ?? 0, name, fields, bitwidth: bitOffset };
  }
}
