/**
 * Names ↔ ids for everything a P4Info declares, so the rest of the controller speaks P4 names
 * ("bridging", "vsid") and never hand-types an id. Objects are found by fully qualified name
 * or by alias (P4Info's shortest unique suffix), as P4Runtime tools conventionally allow.
 */
import { readFileSync } from "node:fs";
import type { Action__Output } from "../../proto/gen/p4/config/v1/Action.js";
import type { P4Info__Output } from "../../proto/gen/p4/config/v1/P4Info.js";
import type { Preamble__Output } from "../../proto/gen/p4/config/v1/Preamble.js";
import type { Table__Output } from "../../proto/gen/p4/config/v1/Table.js";
import { p4runtimeProto } from "../../proto/load.js";

/** A name or id that the P4Info does not declare; says what exists instead. */
export class P4InfoLookupError extends Error {
  override readonly name = "P4InfoLookupError";
  constructor(
    readonly kind: string,
    readonly key: string | number,
    known: string[],
  ) {
    const list = known.length > 12 ? `${known.slice(0, 12).join(", ")}, …` : known.join(", ");
    super(
      `no ${kind} ${typeof key === "number" ? `with id ${key}` : `named "${key}"`} in the P4Info (known: ${list || "none"})`,
    );
  }
}

/** One kind of P4Info object (tables, actions, …) indexed by id, name and alias. */
export class Collection<T extends { preamble: Preamble__Output | null }> {
  private readonly byName = new Map<string, T>();
  private readonly byId = new Map<number, T>();

  constructor(
    readonly kind: string,
    readonly items: T[],
  ) {
    for (const item of items) {
      const preamble = item.preamble;
      if (!preamble) continue;
      this.byId.set(preamble.id, item);
      this.byName.set(preamble.name, item);
      if (preamble.alias) this.byName.set(preamble.alias, item);
    }
  }

  get(nameOrAlias: string): T {
    const item = this.byName.get(nameOrAlias);
    if (!item) throw new P4InfoLookupError(this.kind, nameOrAlias, this.names());
    return item;
  }

  byIdOrThrow(id: number): T {
    const item = this.byId.get(id);
    if (!item) throw new P4InfoLookupError(this.kind, id, this.names());
    return item;
  }

  id(nameOrAlias: string): number {
    return (this.get(nameOrAlias).preamble as Preamble__Output).id;
  }

  has(nameOrAlias: string): boolean {
    return this.byName.has(nameOrAlias);
  }

  /** Short names (aliases) where P4Info gives them, for messages and listings. */
  names(): string[] {
    return this.items.map((item) => item.preamble?.alias || item.preamble?.name || "?");
  }
}

export class P4InfoIndex {
  readonly tables: Collection<Table__Output>;
  readonly actions: Collection<Action__Output>;
  readonly actionProfiles;
  readonly counters;
  readonly directCounters;
  readonly meters;
  readonly directMeters;
  readonly registers;
  readonly digests;
  readonly controllerPacketMetadata;
  readonly valueSets;

  constructor(readonly p4info: P4Info__Output) {
    this.tables = new Collection("table", p4info.tables);
    this.actions = new Collection("action", p4info.actions);
    this.actionProfiles = new Collection("action profile", p4info.action_profiles);
    this.counters = new Collection("counter", p4info.counters);
    this.directCounters = new Collection("direct counter", p4info.direct_counters);
    this.meters = new Collection("meter", p4info.meters);
    this.directMeters = new Collection("direct meter", p4info.direct_meters);
    this.registers = new Collection("register", p4info.registers);
    this.digests = new Collection("digest", p4info.digests);
    this.controllerPacketMetadata = new Collection(
      "controller packet metadata",
      p4info.controller_packet_metadata,
    );
    this.valueSets = new Collection("value set", p4info.value_sets);
  }

  /** Reads a binary P4Info (p4c's `--p4runtime-files NAME.p4info.bin`). */
  static fromBinaryFile(path: string): P4InfoIndex {
    return new P4InfoIndex(p4runtimeProto().p4.config.v1.P4Info.deserialize(readFileSync(path)));
  }

  /**
   * A serializable enum's members (name → value) as the P4Info's type_info declares them;
   * undefined when p4c did not put the enum there (it does only for enums the control plane
   * sees: match fields, action parameters, packet metadata, digests).
   */
  serializableEnum(name: string): Map<string, number> | undefined {
    const spec = this.p4info.type_info?.serializable_enums[name];
    if (!spec) return undefined;
    return new Map(
      spec.members.map((m) => [
        m.name,
        m.value.length ? Number(`0x${m.value.toString("hex")}`) : 0,
      ]),
    );
  }

  /** A table's match field by name, with the table named in the error when it is unknown. */
  matchField(table: Table__Output, fieldName: string) {
    const field = table.match_fields.find((f) => f.name === fieldName);
    if (!field) {
      throw new P4InfoLookupError(
        `match field of table "${table.preamble?.alias}"`,
        fieldName,
        table.match_fields.map((f) => f.name),
      );
    }
    return field;
  }

  /** An action's parameter by name, with the action named in the error when it is unknown. */
  actionParam(action: Action__Output, paramName: string) {
    const param = action.params.find((p) => p.name === paramName);
    if (!param) {
      throw new P4InfoLookupError(
        `parameter of action "${action.preamble?.alias}"`,
        paramName,
        action.params.map((p) => p.name),
      );
    }
    return param;
  }
}
