/**
 * Builds P4Runtime entities by P4 name from the P4Info: the rest of the controller says
 * `tableEntry("bridging", { match: { vsid: 0x5001, dst_mac: "00:00:5e:00:53:01" }, action: "to_port", params: { port: 3 } })`
 * and gets the plain protocol message, every value range-checked and canonically encoded.
 * Match rules are P4Runtime's: a ternary with an all-zero mask, an LPM of length 0 and an
 * unset optional are omitted (don't care); bits outside a mask or prefix must be zero.
 */

import type { Entity } from "../../proto/gen/p4/v1/Entity.js";
import type { FieldMatch } from "../../proto/gen/p4/v1/FieldMatch.js";
import type { TableAction } from "../../proto/gen/p4/v1/TableAction.js";
import { EntitySpecError } from "./errors.js";
import type { P4InfoIndex } from "./p4info.js";
import { type P4Value, prefixMask, toBytes, toInteger } from "./values.js";

export type MatchValue =
  | P4Value
  | { value: P4Value; mask: P4Value }
  | { value: P4Value; prefixLength: number }
  | { low: P4Value; high: P4Value };

export interface ActionCall {
  action: string;
  params?: Record<string, P4Value>;
}

export type TableTarget =
  | ActionCall
  | { member: number }
  | { group: number }
  /** One-shot action selector programming: weighted actions, no member ids to manage. */
  | { oneShot: (ActionCall & { weight?: number })[] };

export interface TableEntrySpec {
  match?: Record<string, MatchValue | undefined>;
  target: TableTarget;
  /** Required for tables with ternary, range or optional fields (higher wins). */
  priority?: number;
  /** For tables with idle-timeout support: the switch notifies after this long unhit. */
  idleTimeoutNs?: number;
}

/** Packets and bytes of a counter cell (what a read returns; what a write sets). */
export interface CounterValues {
  packets: number | bigint;
  bytes: number | bigint;
}

/** A meter's rates (per second, in the meter's unit: bytes or packets) and bursts. */
export interface MeterRates {
  cir: number;
  cburst: number;
  pir: number;
  pburst: number;
}

/** What tableEntry needs of a table, looked up once per table name. */
interface TablePlan {
  id: number | undefined;
  /** The table's short name, for errors. */
  where: string;
  needsPriority: boolean;
  fields: Map<string, { id: number; kind: string; bitwidth: number; what: string }>;
}

/** What an action call needs of an action, looked up once per action name. */
interface ActionPlan {
  id: number | undefined;
  name: string;
  params: { name: string; id: number; bitwidth: number; what: string }[];
  paramNames: Set<string>;
}

export class EntityBuilder {
  /**
   * Per-name lookups (ids, widths, the strings errors name things by), so building the
   * hundred-thousandth entry of a table costs no P4Info search.
   */
  private readonly tablePlans = new Map<string, TablePlan>();
  private readonly actionPlans = new Map<string, ActionPlan>();

  constructor(
    readonly p4info: P4InfoIndex,
    /** Replica ports as P4Runtime 1.4's bytes, or the uint32 egress_port (PI on bf_switchd). */
    readonly replicaPort: "bytes" | "uint32" = "bytes",
  ) {}

  tableEntry(tableName: string, spec: TableEntrySpec): Entity {
    const plan = this.tablePlan(tableName);
    const match: FieldMatch[] = [];
    const given = spec.match ?? {};
    for (const fieldName in given) {
      const value = given[fieldName];
      if (value === undefined) continue;
      const field = plan.fields.get(fieldName) ?? this.unknownField(tableName, fieldName);
      const fm = this.fieldMatch(field.what, field.kind, field.bitwidth, value);
      if (fm) {
        fm.field_id = field.id;
        match.push(fm);
      }
    }
    if (plan.needsPriority && !spec.priority) {
      throw new EntitySpecError(
        plan.where,
        "entries of a table with ternary, range or optional fields need a priority > 0",
      );
    }
    const entry: NonNullable<Entity["table_entry"]> = {
      table_id: plan.id,
      match,
      action: this.tableAction(plan.where, spec.target),
    };
    if (spec.priority) entry.priority = spec.priority;
    if (spec.idleTimeoutNs) entry.idle_timeout_ns = String(spec.idleTimeoutNs);
    return { table_entry: entry };
  }

  private tablePlan(tableName: string): TablePlan {
    let plan = this.tablePlans.get(tableName);
    if (!plan) {
      const table = this.p4info.tables.get(tableName);
      const where = table.preamble?.alias ?? tableName;
      plan = {
        id: table.preamble?.id,
        where,
        needsPriority: table.match_fields.some((f) =>
          ["TERNARY", "RANGE", "OPTIONAL"].includes(f.match_type ?? ""),
        ),
        fields: new Map(
          table.match_fields.map((f) => [
            f.name,
            {
              id: f.id,
              kind: f.match_type ?? "UNSPECIFIED",
              bitwidth: f.bitwidth,
              what: `${where}.${f.name}`,
            },
          ]),
        ),
      };
      this.tablePlans.set(tableName, plan);
    }
    return plan;
  }

  /** Throws the P4Info lookup error for a match field the table does not have. */
  private unknownField(tableName: string, fieldName: string): never {
    this.p4info.matchField(this.p4info.tables.get(tableName), fieldName);
    throw new Error(`unreachable: ${tableName}.${fieldName} was found after all`);
  }

  /** The entry that sets a table's default action (P4Runtime: MODIFY only, no match). */
  defaultEntry(tableName: string, call: ActionCall): Entity {
    const table = this.p4info.tables.get(tableName);
    return {
      table_entry: {
        table_id: table.preamble?.id,
        is_default_action: true,
        action: this.tableAction(table.preamble?.alias ?? tableName, call),
      },
    };
  }

  actionProfileMember(profileName: string, memberId: number, call: ActionCall): Entity {
    const profile = this.p4info.actionProfiles.get(profileName);
    return {
      action_profile_member: {
        action_profile_id: profile.preamble?.id,
        member_id: memberId,
        action: this.action(profile.preamble?.alias ?? profileName, call),
      },
    };
  }

  actionProfileGroup(
    profileName: string,
    groupId: number,
    members: { id: number; weight?: number }[],
  ): Entity {
    const profile = this.p4info.actionProfiles.get(profileName);
    return {
      action_profile_group: {
        action_profile_id: profile.preamble?.id,
        group_id: groupId,
        members: members.map((m) => ({ member_id: m.id, weight: m.weight ?? 1 })),
        // A group may not be declared larger than the profile's @max_group_size (PI refuses
        // it with INVALID_ARGUMENT); the profile size bounds it only when that is unset.
        max_size: profile.max_group_size || Number(profile.size),
      },
    };
  }

  /** A multicast group; each replica is (egress port, instance = egress_rid in v1model). */
  multicastGroup(groupId: number, replicas: { port: number; instance: number }[]): Entity {
    return {
      packet_replication_engine_entry: {
        multicast_group_entry: {
          multicast_group_id: groupId,
          replicas: replicaMessages(replicas, this.replicaPort),
        },
      },
    };
  }

  cloneSession(
    sessionId: number,
    replicas: { port: number; instance: number }[],
    truncateBytes = 0,
  ): Entity {
    return {
      packet_replication_engine_entry: {
        clone_session_entry: {
          session_id: sessionId,
          replicas: replicaMessages(replicas, this.replicaPort),
          packet_length_bytes: truncateBytes,
        },
      },
    };
  }

  /** Digest delivery settings (how many samples per list, how long to wait, when to resend). */
  digestEntry(
    digestName: string,
    config: { maxTimeoutNs: number; maxListSize: number; ackTimeoutNs: number },
  ): Entity {
    const digest = this.p4info.digests.get(digestName);
    return {
      digest_entry: {
        digest_id: digest.preamble?.id,
        config: {
          max_timeout_ns: String(config.maxTimeoutNs),
          max_list_size: config.maxListSize,
          ack_timeout_ns: String(config.ackTimeoutNs),
        },
      },
    };
  }

  /**
   * An indirect counter cell, or every cell when index is omitted (for reads); with `data`,
   * a MODIFY sets the cell (e.g. back to zero).
   */
  counterEntry(counterName: string, index?: number, data?: CounterValues): Entity {
    const counter = this.p4info.counters.get(counterName);
    return {
      counter_entry: {
        counter_id: counter.preamble?.id,
        ...(index === undefined ? {} : { index: { index } }),
        ...(data ? { data: counterData(data) } : {}),
      },
    };
  }

  /** The direct counter cell of one table entry (built by tableEntry), for read or MODIFY. */
  directCounterEntry(tableEntry: Entity, data?: CounterValues): Entity {
    return {
      direct_counter_entry: {
        table_entry: entryOf(tableEntry, "direct counter"),
        ...(data ? { data: counterData(data) } : {}),
      },
    };
  }

  /** An indirect meter cell (every cell when index is omitted); `rates` configures it. */
  meterEntry(meterName: string, index?: number, rates?: MeterRates): Entity {
    const meter = this.p4info.meters.get(meterName);
    return {
      meter_entry: {
        meter_id: meter.preamble?.id,
        ...(index === undefined ? {} : { index: { index } }),
        ...(rates ? { config: meterConfig(rates) } : {}),
      },
    };
  }

  /** The direct meter of one table entry, for read or MODIFY with `rates`. */
  directMeterEntry(tableEntry: Entity, rates?: MeterRates): Entity {
    return {
      direct_meter_entry: {
        table_entry: entryOf(tableEntry, "direct meter"),
        ...(rates ? { config: meterConfig(rates) } : {}),
      },
    };
  }

  /** A register cell (every cell when index is omitted); `value` writes it. */
  registerEntry(registerName: string, index?: number, value?: P4Value): Entity {
    const register = this.p4info.registers.get(registerName);
    const name = register.preamble?.alias ?? registerName;
    const bitwidth = register.type_spec?.bitstring?.bit?.bitwidth;
    if (value !== undefined && bitwidth === undefined) {
      throw new EntitySpecError(name, "only registers of bit<W> cells can be written by value");
    }
    return {
      register_entry: {
        register_id: register.preamble?.id,
        ...(index === undefined ? {} : { index: { index } }),
        ...(value === undefined
          ? {}
          : { data: { bitstring: toBytes(value, bitwidth ?? 0, `${name}[${index ?? "*"}]`) } }),
      },
    };
  }

  private fieldMatch(
    what: string,
    kind: string,
    bitwidth: number,
    value: MatchValue,
  ): FieldMatch | undefined {
    switch (kind) {
      case "EXACT":
        return { exact: { value: toBytes(scalar(what, value, "a value"), bitwidth, what) } };
      case "OPTIONAL":
        return { optional: { value: toBytes(scalar(what, value, "a value"), bitwidth, what) } };
      case "LPM": {
        const { v, prefixLength } =
          typeof value === "string" && value.includes("/")
            ? {
                v: value.slice(0, value.indexOf("/")),
                prefixLength: Number(value.slice(value.indexOf("/") + 1)),
              }
            : isObject(value) && "prefixLength" in value
              ? { v: value.value, prefixLength: value.prefixLength }
              : { v: scalar(what, value, "a prefix"), prefixLength: bitwidth };
        if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > bitwidth) {
          throw new EntitySpecError(
            what,
            `prefix length ${prefixLength} is outside 0..${bitwidth}`,
          );
        }
        if (prefixLength === 0) return undefined;
        const integer = toInteger(v, what);
        if ((integer & ~prefixMask(prefixLength, bitwidth)) !== 0n) {
          throw new EntitySpecError(what, `bits beyond the /${prefixLength} prefix must be zero`);
        }
        return { lpm: { value: toBytes(integer, bitwidth, what), prefix_len: prefixLength } };
      }
      case "TERNARY": {
        if (!isObject(value) || !("mask" in value)) {
          throw new EntitySpecError(what, "a ternary field takes { value, mask }");
        }
        const mask = toInteger(value.mask, `${what} mask`);
        if (mask === 0n) return undefined;
        const integer = toInteger(value.value, what);
        if ((integer & ~mask) !== 0n)
          throw new EntitySpecError(what, "value bits outside the mask must be zero");
        return {
          ternary: {
            value: toBytes(integer, bitwidth, what),
            mask: toBytes(mask, bitwidth, `${what} mask`),
          },
        };
      }
      case "RANGE": {
        if (!isObject(value) || !("low" in value)) {
          throw new EntitySpecError(what, "a range field takes { low, high }");
        }
        const low = toInteger(value.low, `${what} low`);
        const high = toInteger(value.high, `${what} high`);
        if (low > high) throw new EntitySpecError(what, "low is above high");
        if (low === 0n && high === (1n << BigInt(bitwidth)) - 1n) return undefined;
        return {
          range: { low: toBytes(low, bitwidth, what), high: toBytes(high, bitwidth, what) },
        };
      }
      default:
        throw new EntitySpecError(what, `match kind ${kind} is not supported`);
    }
  }

  private tableAction(where: string, target: TableTarget): TableAction {
    if ("member" in target) return { action_profile_member_id: target.member };
    if ("group" in target) return { action_profile_group_id: target.group };
    if ("oneShot" in target) {
      return {
        action_profile_action_set: {
          action_profile_actions: target.oneShot.map((call) => ({
            action: this.action(where, call),
            weight: call.weight ?? 1,
          })),
        },
      };
    }
    return { action: this.action(where, target) };
  }

  private action(where: string, call: ActionCall) {
    const plan = this.actionPlan(call.action);
    const given = call.params ?? {};
    for (const key in given) {
      if (!plan.paramNames.has(key)) {
        this.p4info.actionParam(this.p4info.actions.get(call.action), key);
      }
    }
    const params = new Array(plan.params.length);
    for (let i = 0; i < plan.params.length; i++) {
      const param = plan.params[i] as ActionPlan["params"][number];
      const value = given[param.name];
      if (value === undefined) {
        throw new EntitySpecError(
          `${where} action ${plan.name}`,
          `parameter "${param.name}" is missing`,
        );
      }
      params[i] = { param_id: param.id, value: toBytes(value, param.bitwidth, param.what) };
    }
    return { action_id: plan.id, params };
  }

  private actionPlan(actionName: string): ActionPlan {
    let plan = this.actionPlans.get(actionName);
    if (!plan) {
      const action = this.p4info.actions.get(actionName);
      const name = action.preamble?.alias ?? actionName;
      plan = {
        id: action.preamble?.id,
        name,
        params: action.params.map((p) => ({
          name: p.name,
          id: p.id,
          bitwidth: p.bitwidth,
          what: `${name}.${p.name}`,
        })),
        paramNames: new Set(action.params.map((p) => p.name)),
      };
      this.actionPlans.set(actionName, plan);
    }
    return plan;
  }
}

function counterData(data: CounterValues) {
  return { packet_count: String(data.packets), byte_count: String(data.bytes) };
}

function meterConfig(rates: MeterRates) {
  return {
    cir: String(rates.cir),
    cburst: String(rates.cburst),
    pir: String(rates.pir),
    pburst: String(rates.pburst),
  };
}

function entryOf(entity: Entity, what: string) {
  if (!entity.table_entry) throw new EntitySpecError(what, "needs a table entry");
  return entity.table_entry;
}

/**
 * PRE replicas; P4Runtime 1.4+ carries the port as a bytestring (v1model ports fit 32 bits),
 * earlier releases as the uint32 egress_port, which every PI still reads.
 */
function replicaMessages(
  replicas: { port: number; instance: number }[],
  portField: "bytes" | "uint32",
) {
  return replicas.map((r) =>
    portField === "uint32"
      ? { egress_port: r.port, instance: r.instance }
      : { port: toBytes(r.port, 32, "replica port"), instance: r.instance },
  );
}

function isObject(value: MatchValue): value is Exclude<MatchValue, P4Value> {
  return typeof value === "object" && !(value instanceof Uint8Array);
}

function scalar(what: string, value: MatchValue, expected: string): P4Value {
  if (isObject(value))
    throw new EntitySpecError(what, `expected ${expected}, got ${JSON.stringify(value)}`);
  return value;
}
