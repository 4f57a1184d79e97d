/**
 * The canonical form of a switch's P4Runtime state: every entity as a (collection, key, value)
 * triple of short strings. The compiler produces desired state in this form, the reconciler
 * turns what a switch reads back into it, and a diff is then string comparison. Keys are what
 * P4Runtime identifies an entity by (table + match + priority; member, group, multicast group
 * or clone session id), values the rest (action and parameters; members; replicas).
 *
 * Numbers are canonical hex (P4Runtime's shortest bytestring, as text), so the same entity is
 * the same string whichever side produced it. Names (tables, fields, actions, parameters) are
 * resolved from the P4Info once; entities to write are built by the EntityBuilder, which
 * range-checks every value again.
 *
 * Collections and their key / value formats:
 *   table:<t>    "<field> <field> … [#<priority>]"  "<action>(<param>,…)" | "@member:<id>" | "@group:<id>"
 *                                                   [" idle=<ns>"] (idle timeout, tables with support_timeout)
 *                field: "<hex>" exact | "<hex>/<len>" lpm | "<hex>&<mask>" ternary | "*" don't care
 *   default:<t>  ""                                  "<action>(<param>,…)"
 *   member:<p>   "<member id>"                       "<action>(<param>,…)"
 *   group:<p>    "<group id>"                        "<member id>*<weight>,…" (sorted)
 *   mcast        "<group id>"                        "<port hex>:<instance>,…" (sorted)
 *   clone        "<session id>"                      "<port hex>:<instance>,…;<truncate bytes>"
 *   digest:<d>   ""                                  "<max timeout ns>,<max list size>,<ack timeout ns>"
 *
 * This module is the only one that writes or reads these strings: the compiler writes keys and
 * values through typed writers (values by P4 name) and the helpers below, the reconciler and
 * the daemon ask the named predicates (isDefaultCollection, idleTimeoutOf …), and text for
 * people is describe.ts's, from the decoded entity.
 */

import type { Action__Output } from "../../proto/gen/p4/config/v1/Action.js";
import type { Table__Output } from "../../proto/gen/p4/config/v1/Table.js";
import type { Action__Output as ActionMessage } from "../../proto/gen/p4/v1/Action.js";
import type { Entity, Entity__Output } from "../../proto/gen/p4/v1/Entity.js";
import type { FieldMatch__Output } from "../../proto/gen/p4/v1/FieldMatch.js";
import type { Replica__Output } from "../../proto/gen/p4/v1/Replica.js";
import type { TableAction__Output } from "../../proto/gen/p4/v1/TableAction.js";
import { type ActionCall, EntityBuilder } from "../p4rt/entities.js";
import { EntitySpecError } from "../p4rt/errors.js";
import type { P4InfoIndex } from "../p4rt/p4info.js";
import {
  type DecodedAction,
  type DecodedEntity,
  type DecodedMatchValue,
  describeEntity,
  type Replica,
} from "./describe.js";

export type Collection = string;

/** A value for a match field or action parameter: canonical hex, or a number. */
export type FieldValue = string | number;

interface FieldSchema {
  name: string;
  id: number;
  kind: string;
  bitwidth: number;
}

interface TableSchema {
  name: string;
  fields: FieldSchema[];
  needsPriority: boolean;
  size: number;
  /** Set when the table's actions come from an action profile / selector. */
  profile: string | undefined;
}

/** Values by P4 name: a missing or misspelt name fails to type-check. */
export type NamedValues<N extends string> = Readonly<Record<N, FieldValue>>;

/** Builds keys of one table from field values given by P4 name (names resolved once). */
export class KeyWriter<F extends string = string> {
  constructor(
    readonly collection: Collection,
    private readonly table: TableSchema,
    /** The caller's name of each P4Info field, in P4Info order; undefined = always don't care. */
    private readonly names: (F | undefined)[],
  ) {}

  /**
   * values: every field the writer was made for, by name; priority for ternary/LPM-with-ternary
   * tables. Joined, not concatenated: `+` would leave a tree of cons strings behind every key
   * the state keeps (twice the memory, slower to hash and compare).
   */
  key(values: NamedValues<F>, priority?: number): string {
    const fields = this.table.fields;
    const parts = new Array<string>(fields.length + (this.table.needsPriority ? 1 : 0));
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i] as FieldSchema;
      const name = this.names[i];
      parts[i] = fieldText(this.table.name, field, name === undefined ? "*" : values[name]);
    }
    if (this.table.needsPriority) {
      if (!priority) {
        throw new EntitySpecError(this.table.name, "entries of this table need a priority > 0");
      }
      parts[fields.length] = `#${priority}`;
    }
    return parts.join(" ");
  }
}

/** What an action writer's value() takes: nothing for an action without parameters. */
type ActionArguments<P extends string> = [P] extends [never] ? [] : [values: NamedValues<P>];

/** Builds action values (action + parameters given by P4 name, resolved once). */
export class ActionWriter<P extends string = string> {
  constructor(
    private readonly action: string,
    private readonly params: { name: P; bitwidth: number }[],
  ) {}

  /** Values of actions without parameters, and of one-number calls (ports, ids), are shared. */
  private readonly byNumber = new Map<number, string>();
  private constant: string | undefined;

  value(...args: ActionArguments<P>): string {
    if (this.params.length === 0) {
      this.constant ??= `${this.action}()`;
      return this.constant;
    }
    const values = args[0] as NamedValues<P>;
    const single =
      this.params.length === 1 ? values[(this.params[0] as { name: P }).name] : undefined;
    if (typeof single === "number") {
      const known = this.byNumber.get(single);
      if (known !== undefined) return known;
    }
    // Joined into one flat string, like keys (KeyWriter.key).
    const params = new Array<string>(this.params.length);
    for (let i = 0; i < this.params.length; i++) {
      const param = this.params[i] as { name: P; bitwidth: number };
      params[i] = hexOf(this.action, param.name, values[param.name], param.bitwidth);
    }
    const text = [this.action, "(", params.join(","), ")"].join("");
    if (typeof single === "number") this.byNumber.set(single, text);
    return text;
  }
}

/** "table:mac" → { kind: "table", name: "mac" }; "mcast" → { kind: "mcast", name: "" }. */
export function splitCollection(collection: Collection): { kind: string; name: string } {
  const colon = collection.indexOf(":");
  return colon < 0
    ? { kind: collection, name: "" }
    : { kind: collection.slice(0, colon), name: collection.slice(colon + 1) };
}

/** The kinds of collection this module encodes (the table in the header comment). */
export const COLLECTION_KINDS: ReadonlySet<string> = new Set([
  "table",
  "default",
  "member",
  "group",
  "mcast",
  "clone",
  "digest",
]);

/** The collection of every multicast group, and that of every clone session. */
export const MULTICAST_GROUPS: Collection = "mcast";
export const CLONE_SESSIONS: Collection = "clone";

/** A table's default action: set and read one by one, only ever modified, never deleted. */
export function isDefaultCollection(collection: Collection): boolean {
  return collection.startsWith("default:");
}

/** What a wildcard Read leaves out, so it is read one by one: default actions, digest configs. */
export function isReadOneByOne(collection: Collection): boolean {
  return isDefaultCollection(collection) || collection.startsWith("digest:");
}

/** The table whose entries a collection holds; undefined for every other collection. */
export function tableOfCollection(collection: Collection): string | undefined {
  return collection.startsWith("table:") ? collection.slice(6) : undefined;
}

/** A table entry's value that selects an action profile group. */
export function groupTarget(groupId: number): string {
  return `@group:${groupId}`;
}

/** A clone session's value: its replicas and how many bytes of a packet it keeps (0 = all). */
export function cloneSessionText(
  replicas: { port: string | number; instance: number }[],
  truncateBytes: number,
): string {
  return `${replicasText(replicas)};${truncateBytes}`;
}

export interface DigestConfig {
  /** Nanoseconds, as numbers or as the decimal strings P4Runtime reads int64 back in. */
  maxTimeoutNs: number | string;
  maxListSize: number;
  ackTimeoutNs: number | string;
}

/** A digest config's value. */
export function digestConfigText(config: DigestConfig): string {
  return `${config.maxTimeoutNs},${config.maxListSize},${config.ackTimeoutNs}`;
}

/** "ternary" field value: canonical hex of value and mask (mask 0 = don't care). */
export function ternary(value: string, mask: string): string {
  return mask === "0" ? "*" : `${value}&${mask}`;
}

/** "lpm" field value: canonical hex and prefix length (length 0 = don't care). */
export function lpm(value: string, length: number): string {
  return length === 0 ? "*" : `${value}/${length}`;
}

export class CanonicalCodec {
  readonly builder: EntityBuilder;
  private readonly tables = new Map<string, TableSchema>();

  constructor(
    readonly p4info: P4InfoIndex,
    replicaPort: "bytes" | "uint32" = "bytes",
  ) {
    this.builder = new EntityBuilder(p4info, replicaPort);
  }

  private tableSchema(name: string): TableSchema {
    const cached = this.tables.get(name);
    if (cached) return cached;
    const table = this.p4info.tables.get(name);
    const schema = schemaOf(table, this.p4info);
    this.tables.set(name, schema);
    this.tables.set(schema.name, schema);
    return schema;
  }

  /** The collection a table's entries live in. */
  tableCollection(table: string): Collection {
    return `table:${this.tableSchema(table).name}`;
  }

  /** The collection holding a table's default action. */
  defaultCollection(table: string): Collection {
    return `default:${this.tableSchema(table).name}`;
  }

  /** The collections of an action profile's members and of its groups. */
  memberCollection(profile: string): Collection {
    return `member:${aliasOf(this.p4info.actionProfiles.get(profile))}`;
  }

  groupCollection(profile: string): Collection {
    return `group:${aliasOf(this.p4info.actionProfiles.get(profile))}`;
  }

  /** The collection holding a digest's config. */
  digestCollection(digest: string): Collection {
    return `digest:${aliasOf(this.p4info.digests.get(digest))}`;
  }

  /** Key writer for `table` taking values for `fieldNames` by name (other fields are don't care). */
  keyWriter<const F extends string>(table: string, fieldNames: readonly F[]): KeyWriter<F> {
    const schema = this.tableSchema(table);
    for (const name of fieldNames) this.p4info.matchField(this.p4info.tables.get(table), name);
    return new KeyWriter<F>(
      `table:${schema.name}`,
      schema,
      schema.fields.map((f) => fieldNames.find((name) => name === f.name)),
    );
  }

  /**
   * Value writer for `action` (checked to be one of `table`'s actions) taking `paramNames` by
   * name: the compiler names every parameter the P4Info declares, no more.
   */
  actionWriter<const P extends string = never>(
    table: string | undefined,
    action: string,
    paramNames: readonly P[] = [],
  ): ActionWriter<P> {
    const info = this.p4info.actions.get(action);
    const alias = aliasOf(info);
    if (table) {
      const tableInfo = this.p4info.tables.get(table);
      if (!tableInfo.action_refs.some((ref) => ref.id === info.preamble?.id)) {
        throw new EntitySpecError(table, `action "${alias}" is not one of its actions`);
      }
    }
    const declared = info.params.map((p) => p.name);
    const given = new Set<string>(paramNames);
    if (declared.length !== given.size || declared.some((n) => !given.has(n))) {
      throw new EntitySpecError(
        alias,
        `parameters are (${declared.join(", ")}), the compiler gives (${paramNames.join(", ")})`,
      );
    }
    return new ActionWriter<P>(
      alias,
      info.params.map((p) => ({ name: p.name as P, bitwidth: p.bitwidth })),
    );
  }

  /** Bitwidth of a table's match field (e.g. how many bits a port number has on this target). */
  fieldBitwidth(table: string, field: string): number {
    return this.p4info.matchField(this.p4info.tables.get(table), field).bitwidth;
  }

  /** Bitwidth of an action parameter (e.g. how many VSID counter indexes exist). */
  paramBitwidth(action: string, param: string): number {
    return this.p4info.actionParam(this.p4info.actions.get(action), param).bitwidth;
  }

  /** Tables in P4Info order, which p4c emits in pipeline order (upstream first). */
  tableOrder(): string[] {
    return this.p4info.p4info.tables.map((t) => aliasOf(t));
  }

  /** Number of entries a table holds (P4Info size), for capacity checks. */
  tableSize(table: string): number {
    return this.tableSchema(table).size;
  }

  actionProfileMaxGroupSize(profile: string): number {
    const info = this.p4info.actionProfiles.get(profile);
    return Number(info.max_group_size) || Number(info.size);
  }

  profileName(profile: string): string {
    return aliasOf(this.p4info.actionProfiles.get(profile));
  }

  // ------------------------------------------------------------------------------------
  // Canonical form of what a switch reads back
  // ------------------------------------------------------------------------------------

  /** The canonical triple of a read-back entity; undefined for what the controller does not own (const entries). */
  fromEntity(
    entity: Entity__Output,
  ): { collection: Collection; key: string; value: string } | undefined {
    if (entity.table_entry) {
      const te = entity.table_entry;
      if (te.is_const) return undefined;
      const info = this.p4info.tables.byIdOrThrow(te.table_id);
      const schema = this.tableSchema(aliasOf(info));
      const action = this.tableActionText(schema, te.action);
      if (te.is_default_action) {
        return { collection: this.defaultCollection(schema.name), key: "", value: action };
      }
      const value = withIdleTimeout(action, BigInt(te.idle_timeout_ns || 0));
      const byId = new Map<number, FieldMatch__Output>(te.match.map((m) => [m.field_id, m]));
      const key = schema.fields
        .map((field) => readField(schema.name, field, byId.get(field.id)))
        .join(" ");
      const priority = Number(te.priority);
      return {
        collection: `table:${schema.name}`,
        key: schema.needsPriority ? `${key} #${priority}` : key,
        value,
      };
    }
    if (entity.action_profile_member) {
      const m = entity.action_profile_member;
      const profile = aliasOf(this.p4info.actionProfiles.byIdOrThrow(m.action_profile_id));
      return {
        collection: this.memberCollection(profile),
        key: String(m.member_id),
        value: this.actionText(m.action),
      };
    }
    if (entity.action_profile_group) {
      const g = entity.action_profile_group;
      const profile = aliasOf(this.p4info.actionProfiles.byIdOrThrow(g.action_profile_id));
      return {
        collection: this.groupCollection(profile),
        key: String(g.group_id),
        value: groupMembersText(g.members.map((m) => ({ id: m.member_id, weight: m.weight }))),
      };
    }
    const pre = entity.packet_replication_engine_entry;
    if (pre?.multicast_group_entry) {
      const mg = pre.multicast_group_entry;
      return {
        collection: MULTICAST_GROUPS,
        key: String(mg.multicast_group_id),
        value: replicasText(mg.replicas.map(readReplica)),
      };
    }
    if (pre?.clone_session_entry) {
      const cs = pre.clone_session_entry;
      return {
        collection: CLONE_SESSIONS,
        key: String(cs.session_id),
        value: cloneSessionText(cs.replicas.map(readReplica), cs.packet_length_bytes),
      };
    }
    if (entity.digest_entry) {
      const d = entity.digest_entry;
      const name = aliasOf(this.p4info.digests.byIdOrThrow(d.digest_id));
      const c = d.config;
      return {
        collection: this.digestCollection(name),
        key: "",
        value: digestConfigText({
          maxTimeoutNs: c?.max_timeout_ns ?? 0,
          maxListSize: c?.max_list_size ?? 0,
          ackTimeoutNs: c?.ack_timeout_ns ?? 0,
        }),
      };
    }
    return undefined;
  }

  private tableActionText(schema: TableSchema, action: TableAction__Output | null): string {
    if (!action) return "";
    if (action.type === "action_profile_member_id")
      return `@member:${action.action_profile_member_id}`;
    if (action.type === "action_profile_group_id")
      return `@group:${action.action_profile_group_id}`;
    if (action.type === "action" && action.action) return this.actionText(action.action);
    throw new EntitySpecError(schema.name, `unsupported table action kind ${action.type}`);
  }

  private actionText(action: ActionMessage | null): string {
    if (!action) return "";
    const info = this.p4info.actions.byIdOrThrow(action.action_id);
    const byId = new Map(action.params.map((p) => [p.param_id, p.value]));
    const params = info.params.map((p) => {
      const bytes = byId.get(p.id);
      return bytes ? bytesHex(bytes) : "?";
    });
    return `${aliasOf(info)}(${params.join(",")})`;
  }

  // ------------------------------------------------------------------------------------
  // Entities to write, through the EntityBuilder
  // ------------------------------------------------------------------------------------

  toEntity(collection: Collection, key: string, value: string): Entity {
    const entity = this.decode(collection, key, value);
    switch (entity.kind) {
      case "table": {
        const match: Record<string, DecodedMatchValue | undefined> = {};
        for (const field of entity.match) match[field.name] = field.value;
        const target = entity.target;
        return this.builder.tableEntry(entity.table, {
          match,
          target: "action" in target ? actionCall(target) : target,
          ...(entity.priority ? { priority: entity.priority } : {}),
          ...(entity.idleTimeoutNs ? { idleTimeoutNs: entity.idleTimeoutNs } : {}),
        });
      }
      case "default":
        return this.builder.defaultEntry(entity.table, actionCall(entity.action));
      case "member":
        return this.builder.actionProfileMember(
          entity.profile,
          entity.id,
          actionCall(entity.action),
        );
      case "group":
        return this.builder.actionProfileGroup(entity.profile, entity.id, entity.members);
      case "mcast":
        return this.builder.multicastGroup(entity.id, entity.replicas);
      case "clone":
        return this.builder.cloneSession(entity.id, entity.replicas, entity.truncateBytes);
      case "digest":
        return this.builder.digestEntry(entity.digest, entity);
    }
  }

  /** The entity that reads back a whole collection (for the reconciler). */
  readRequest(collection: Collection): Entity {
    const { kind, name } = splitCollection(collection);
    switch (kind) {
      case "default":
        return { table_entry: { table_id: this.p4info.tables.id(name), is_default_action: true } };
      case "digest":
        return { digest_entry: { digest_id: this.p4info.digests.id(name) } };
      default:
        throw new EntitySpecError(collection, "read as part of a wildcard read instead");
    }
  }

  // ------------------------------------------------------------------------------------
  // Decoding: what a canonical triple stands for, named from the P4Info
  // ------------------------------------------------------------------------------------

  /** The entity of a canonical triple: what toEntity() writes and describe() shows. */
  decode(collection: Collection, key: string, value: string): DecodedEntity {
    const { kind, name } = splitCollection(collection);
    switch (kind) {
      case "table": {
        const schema = this.tableSchema(name);
        const parts = key.split(" ");
        const priority = schema.needsPriority ? Number(parts.pop()?.slice(1)) : undefined;
        const { action, idleTimeoutNs } = splitIdleTimeout(value);
        return {
          kind,
          table: schema.name,
          match: schema.fields.map((field, i) => ({
            name: field.name,
            bitwidth: field.bitwidth,
            value: parseField(field, parts[i] ?? "*"),
          })),
          priority,
          target: this.decodeTarget(action),
          idleTimeoutNs,
        };
      }
      case "default":
        return { kind, table: name, action: this.decodeAction(value) };
      case "member":
        return { kind, profile: name, id: Number(key), action: this.decodeAction(value) };
      case "group":
        return { kind, profile: name, id: Number(key), members: parseGroupMembers(value) };
      case "mcast":
        return { kind, id: Number(key), replicas: parseReplicas(value) };
      case "clone": {
        const [replicas = "", truncate = "0"] = value.split(";");
        return {
          kind,
          id: Number(key),
          replicas: parseReplicas(replicas),
          truncateBytes: Number(truncate),
        };
      }
      case "digest": {
        const [timeout = "0", size = "0", ack = "0"] = value.split(",");
        return {
          kind,
          digest: name,
          maxTimeoutNs: Number(timeout),
          maxListSize: Number(size),
          ackTimeoutNs: Number(ack),
        };
      }
      default:
        throw new EntitySpecError(collection, "unknown collection");
    }
  }

  /** One line for people (dry-run plans, rejected writes, goldens), written by describe.ts. */
  describe(collection: Collection, key: string, value: string): string {
    // Another kind (none the compiler writes) is shown as it is rather than fail a message.
    if (!COLLECTION_KINDS.has(splitCollection(collection).kind)) {
      return `${collection} ${key} → ${value}`;
    }
    return describeEntity(this.decode(collection, key, value));
  }

  private decodeTarget(value: string): DecodedAction | { member: number } | { group: number } {
    if (value.startsWith("@member:")) return { member: Number(value.slice(8)) };
    if (value.startsWith("@group:")) return { group: Number(value.slice(7)) };
    return this.decodeAction(value);
  }

  private decodeAction(value: string): DecodedAction {
    const open = value.indexOf("(");
    const action = value.slice(0, open);
    const info = this.p4info.actions.get(action);
    const args = value.slice(open + 1, -1);
    const values = args === "" ? [] : args.split(",");
    return {
      action,
      params: info.params.map((p, i) => {
        const hex = values[i];
        return {
          name: p.name,
          bitwidth: p.bitwidth,
          value: hex === undefined || hex === "?" ? undefined : BigInt(`0x${hex}`),
        };
      }),
    };
  }
}

/** The call the EntityBuilder takes (a parameter the switch did not send stays missing). */
function actionCall({ action, params }: DecodedAction): ActionCall {
  const values: Record<string, bigint> = {};
  for (const p of params) if (p.value !== undefined) values[p.name] = p.value;
  return { action, params: values };
}

const IDLE_TIMEOUT = " idle=";

/**
 * A table entry's value with its idle timeout (P4Runtime idle_timeout_ns; 0 = never ages, the
 * value unchanged), so an entry whose timeout changes differs like one whose action does.
 */
export function withIdleTimeout(action: string, idleTimeoutNs: bigint | number): string {
  return BigInt(idleTimeoutNs) > 0n ? `${action}${IDLE_TIMEOUT}${idleTimeoutNs}` : action;
}

/** A table entry value's idle timeout in nanoseconds (0 = never ages). */
export function idleTimeoutOf(value: string): number {
  return splitIdleTimeout(value).idleTimeoutNs;
}

/** A table entry value's action and idle timeout (0 = never ages). */
function splitIdleTimeout(value: string): { action: string; idleTimeoutNs: number } {
  const at = value.indexOf(IDLE_TIMEOUT);
  if (at < 0) return { action: value, idleTimeoutNs: 0 };
  return {
    action: value.slice(0, at),
    idleTimeoutNs: Number(value.slice(at + IDLE_TIMEOUT.length)),
  };
}

function aliasOf(
  item: Table__Output | Action__Output | { preamble: { alias: string; name: string } | null },
): string {
  return item.preamble?.alias || item.preamble?.name || "?";
}

function schemaOf(table: Table__Output, p4info: P4InfoIndex): TableSchema {
  return {
    name: aliasOf(table),
    fields: table.match_fields.map((f) => ({
      name: f.name,
      id: f.id,
      kind: f.match_type ?? "UNSPECIFIED",
      bitwidth: f.bitwidth,
    })),
    needsPriority: table.match_fields.some((f) =>
      ["TERNARY", "RANGE", "OPTIONAL"].includes(f.match_type ?? ""),
    ),
    size: Number(table.size),
    profile: table.implementation_id
      ? aliasOf(p4info.actionProfiles.byIdOrThrow(table.implementation_id))
      : undefined,
  };
}

/**
 * Canonical hex of a value that must fit `bitwidth` bits. Numbers are checked in full; strings
 * come from the address parsers or lpm() / ternary(), canonical by construction, so only their
 * width is checked here (this runs for every entity of a fabric). The EntityBuilder checks
 * every value again when an entity is written.
 */
function hexOf(
  owner: string,
  name: string,
  value: FieldValue | undefined,
  bitwidth: number,
): string {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value) || value < 0 || value >= 2 ** bitwidth) {
      throw new EntitySpecError(`${owner}.${name}`, `${value} does not fit in ${bitwidth} bits`);
    }
    return value.toString(16);
  }
  if (value === undefined) throw new EntitySpecError(`${owner}.${name}`, "no value given");
  if (value.length > (bitwidth + 3) >> 2) {
    throw new EntitySpecError(`${owner}.${name}`, `0x${value} does not fit in ${bitwidth} bits`);
  }
  return value;
}

/** Field text in a key: exact values are checked here; lpm / ternary text comes from lpm() / ternary(). */
function fieldText(table: string, field: FieldSchema, value: FieldValue): string {
  if (value === "*") {
    if (field.kind === "EXACT") {
      throw new EntitySpecError(`${table}.${field.name}`, "an exact field cannot be don't care");
    }
    return "*";
  }
  switch (field.kind) {
    case "EXACT":
    case "OPTIONAL":
      return hexOf(table, field.name, value, field.bitwidth);
    case "LPM":
      if (typeof value !== "string" || !value.includes("/")) {
        throw new EntitySpecError(
          `${table}.${field.name}`,
          "an LPM value is written with lpm(hex, length)",
        );
      }
      return value;
    case "TERNARY":
      if (typeof value !== "string" || !value.includes("&")) {
        throw new EntitySpecError(
          `${table}.${field.name}`,
          "a ternary value is written with ternary(hex, mask)",
        );
      }
      return value;
    default:
      throw new EntitySpecError(
        `${table}.${field.name}`,
        `match kind ${field.kind} is not supported by the compiler`,
      );
  }
}

function readField(
  table: string,
  field: FieldSchema,
  match: FieldMatch__Output | undefined,
): string {
  if (!match) return "*";
  if (match.exact) return bytesHex(match.exact.value);
  if (match.optional) return bytesHex(match.optional.value);
  if (match.lpm) return `${bytesHex(match.lpm.value)}/${match.lpm.prefix_len}`;
  if (match.ternary) return `${bytesHex(match.ternary.value)}&${bytesHex(match.ternary.mask)}`;
  if (match.range) return `${bytesHex(match.range.low)}-${bytesHex(match.range.high)}`;
  throw new EntitySpecError(`${table}.${field.name}`, "read back a match of an unknown kind");
}

function parseField(field: FieldSchema, text: string): DecodedMatchValue | undefined {
  if (text === "*") return undefined;
  if (field.kind === "LPM") {
    const [hex = "", length = "0"] = text.split("/");
    return { value: BigInt(`0x${hex}`), prefixLength: Number(length) };
  }
  if (field.kind === "TERNARY") {
    const [hex = "", mask = ""] = text.split("&");
    return { value: BigInt(`0x${hex}`), mask: BigInt(`0x${mask}`) };
  }
  return BigInt(`0x${text}`);
}

/** Canonical hex of a bytestring (leading zero bytes and digits dropped). */
export function bytesHex(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("hex");
  const trimmed = hex.replace(/^0+/, "");
  return trimmed === "" ? "0" : trimmed;
}

/** A replica's port, whether the switch sends it as bytes (P4Runtime ≥ 1.4) or as the old uint32. */
function readReplica(replica: Replica__Output): { port: string; instance: number } {
  const port = replica.port ? bytesHex(replica.port) : (replica.egress_port ?? 0).toString(16);
  return { port, instance: replica.instance };
}

export function groupMembersText(members: { id: number; weight: number }[]): string {
  return members
    .map((m) => ({ id: m.id, weight: m.weight || 1 }))
    .sort((a, b) => a.id - b.id)
    .map((m) => `${m.id}*${m.weight}`)
    .join(",");
}

function parseGroupMembers(value: string): { id: number; weight: number }[] {
  if (value === "") return [];
  return value.split(",").map((text) => {
    const [id = "0", weight = "1"] = text.split("*");
    return { id: Number(id), weight: Number(weight) };
  });
}

export function replicasText(replicas: { port: string | number; instance: number }[]): string {
  return replicas
    .map((r) => `${typeof r.port === "number" ? r.port.toString(16) : r.port}:${r.instance}`)
    .sort()
    .join(",");
}

function parseReplicas(value: string): Replica[] {
  if (value === "") return [];
  return value.split(",").map((text) => {
    const [port = "0", instance = "0"] = text.split(":");
    return { port: Number.parseInt(port, 16), instance: Number(instance) };
  });
}
