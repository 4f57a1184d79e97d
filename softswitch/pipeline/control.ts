/**
 * Compiles a control pipeline (tables and conditionals) into an array of node closures that
 * return the index of the next node (bm_sim pipeline.cpp, match_tables.cpp, conditionals.cpp).
 */
import { ProgramError, sourceOf } from "../program/errors.js";
import type { PipelineSpec, TableSpec } from "../program/schema.js";
import { ActionProfile } from "../runtime/action-profile.js";
import { type KeyField, MatchTable } from "../runtime/match-table.js";
import { Meter, type MicrosClock } from "../runtime/meters.js";
import type { CompiledAction } from "./actions.js";
import { compileHash } from "./calculations.js";
import { compileBool, type ExprContext, NO_LOCALS } from "./expressions.js";
import type { PacketState } from "./packet.js";
import type { Resources } from "./resources.js";
import { type FieldValue, hexstrValue, parseHexstr, truncate } from "./values.js";

/** An action with its data, as a table entry, default entry or profile member holds it. */
export interface ActionCall {
  action: CompiledAction;
  data: FieldValue[];
}

export type EntryAction =
  | ({ kind: "action" } & ActionCall)
  | { kind: "member"; member: number }
  | { kind: "group"; group: number };

/** A table's runtime state, shared by the data plane and the control plane. */
export class TableState {
  readonly entries: MatchTable<EntryAction>;
  /** The action run on a miss (simple tables), or the member/group (indirect tables). */
  defaultEntry: EntryAction | undefined;
  readonly defaultConst: boolean;
  readonly directMeters = new Map<number, Meter>();
  /** Entries are fixed by the program (`entries` in the JSON). */
  readonly immutable: boolean;

  constructor(
    readonly spec: TableSpec,
    readonly keys: KeyField[],
    readonly actions: Map<number, CompiledAction>,
    readonly profile: ActionProfile<ActionCall> | undefined,
    private readonly meterRateCount: number,
    /** The switch's clock: meters, and the last-hit time of entries of ageing tables. */
    readonly clock: MicrosClock,
  ) {
    this.entries = new MatchTable(
      spec.name,
      keys,
      spec.match_type,
      Math.max(spec.max_size, spec.entries?.length ?? 0),
    );
    this.defaultConst = spec.default_entry?.action_const === true;
    this.immutable = spec.entries !== undefined;
  }

  /** The direct meter of an entry, created unconfigured (GREEN) on first use. */
  directMeter(handle: number): Meter {
    let meter = this.directMeters.get(handle);
    if (!meter) {
      meter = new Meter(this.meterRateCount, this.clock);
      this.directMeters.set(handle, meter);
    }
    return meter;
  }
}

export interface CompiledPipeline {
  apply(p: PacketState): void;
}

type Node = (p: PacketState) => number;

export function compilePipeline(
  spec: PipelineSpec,
  res: Resources,
  actions: Map<number, CompiledAction>,
  tables: Map<string, TableState>,
  clock: MicrosClock,
): CompiledPipeline {
  const calls = spec.action_calls ?? [];
  const names = [
    ...spec.tables.map((t) => t.name),
    ...spec.conditionals.map((c) => c.name),
    ...calls.map((c) => c.name),
  ];
  const indexOf = (name: string | null | undefined) => (name == null ? -1 : names.indexOf(name));
  const profiles = new Map<string, ActionProfile<ActionCall>>();
  const selectors = new Map<string, (p: PacketState) => bigint>();
  for (const ap of spec.action_profiles) {
    profiles.set(
      ap.name,
      new ActionProfile<ActionCall>(ap.name, ap.max_size, ap.selector !== undefined),
    );
    if (ap.selector) {
      const ctx = { layout: res.layout, codecs: res.codecs, where: `action selector "${ap.name}"` };
      selectors.set(ap.name, compileHash(ap.selector.algo, ap.selector.input, ctx).output);
    }
  }
  const nodes: Node[] = [];
  for (const t of spec.tables) {
    const state = buildTableState(t, res, actions, profiles, clock);
    tables.set(t.name, state);
    nodes.push(compileTable(state, res, indexOf, selectors.get(t.action_profile ?? "")));
  }
  for (const c of spec.conditionals) {
    const ctx: ExprContext = {
      layout: res.layout,
      where: `conditional "${c.name}"`,
      source: sourceOf(c),
    };
    const cond = compileBool(c.expression, ctx);
    const t = indexOf(c.true_next);
    const f = indexOf(c.false_next);
    nodes.push((p) => (cond(p, NO_LOCALS) ? t : f));
  }
  for (const c of calls) {
    const run = (actions.get(c.action_id) as CompiledAction).run;
    const next = indexOf(c.next_node);
    nodes.push((p) => {
      run(p, []);
      return next;
    });
  }
  const init = indexOf(spec.init_table);
  return {
    apply(p) {
      let n = init;
      while (n >= 0 && !p.exited) n = (nodes[n] as Node)(p);
    },
  };
}

function buildTableState(
  t: TableSpec,
  res: Resources,
  actions: Map<number, CompiledAction>,
  profiles: Map<string, ActionProfile<ActionCall>>,
  clock: MicrosClock,
): TableState {
  const where = `table "${t.name}"`;
  const keys: KeyField[] = t.key.map((k, i) => {
    const name = k.name ?? (Array.isArray(k.target) ? k.target.join(".") : k.target);
    if (k.match_type === "valid") return { name, kind: "valid", width: 1 };
    if (!Array.isArray(k.target)) throw new ProgramError(where, `key ${i} is not a field`);
    const [h, f] = k.target;
    const width = f === "$valid$" ? 1 : res.layout.field(h, f, where).width;
    return { name, kind: k.match_type, width };
  });
  const tableActions = new Map<number, CompiledAction>();
  for (const id of t.action_ids) tableActions.set(id, actions.get(id) as CompiledAction);
  const profile = t.action_profile ? profiles.get(t.action_profile) : undefined;
  const meterRates = t.direct_meters
    ? (res.program.meterArrays.get(t.direct_meters)?.rate_count ?? 2)
    : 2;
  const state = new TableState(t, keys, tableActions, profile, meterRates, clock);
  if (t.default_entry) {
    const action = actions.get(t.default_entry.action_id);
    if (!action)
      throw new ProgramError(where, `unknown default action id ${t.default_entry.action_id}`);
    state.defaultEntry = {
      kind: "action",
      action,
      data: t.default_entry.action_data.map((d, i) => hexstrValue(d, action.paramWidths[i] ?? 0)),
    };
  }
  for (const [i, e] of (t.entries ?? []).entries()) {
    const action = actions.get(e.action_entry.action_id);
    const entryWhere = { path: `table ${t.name} entries[${i}]`, source: sourceOf(e) };
    if (!action) throw new ProgramError(where, `unknown action id in const entry ${i}`, entryWhere);
    const match = e.match_key.map((m, k) => {
      const w = keys[k]?.width ?? 0;
      switch (m.match_type) {
        case "exact":
          return { kind: "exact" as const, value: hexstrValue(String(m.key), w) };
        case "valid":
          return { kind: "valid" as const, value: m.key === true };
        case "lpm":
          return {
            kind: "lpm" as const,
            value: hexstrValue(String(m.key), w),
            prefixLength: m.prefix_length ?? w,
          };
        case "range":
          return {
            kind: "range" as const,
            low: hexstrValue(String(m.start), w),
            high: hexstrValue(String(m.end), w),
          };
        default:
          return {
            kind: "ternary" as const,
            value: hexstrValue(String(m.key), w),
            mask: hexstrValue(String(m.mask), w),
          };
      }
    });
    const data = e.action_entry.action_data.map((d, k) =>
      hexstrValue(d, action.paramWidths[k] ?? 0),
    );
    state.entries.add(match, { kind: "action", action, data }, e.priority ?? 0);
  }
  return state;
}

function compileTable(
  state: TableState,
  res: Resources,
  indexOf: (name: string | null | undefined) => number,
  selector: ((p: PacketState) => bigint) | undefined,
): Node {
  const t = state.spec;
  const where = `table "${t.name}"`;
  const keyFns = t.key.map((k) => {
    if (k.match_type === "valid" || !Array.isArray(k.target)) {
      const header = res.layout.header(String(k.target), where).index;
      return (p: PacketState): FieldValue => p.phv.valid[header] as number;
    }
    const [h, f] = k.target;
    if (f === "$valid$") {
      const header = res.layout.header(h, where).index;
      return (p: PacketState): FieldValue => p.phv.valid[header] as number;
    }
    const field = res.layout.field(h, f, where);
    const slot = field.slot;
    if (!k.mask) return (p: PacketState) => p.phv.values[slot] as FieldValue;
    const mask = parseHexstr(k.mask);
    const w = field.width;
    return (p: PacketState) => truncate(BigInt(p.phv.values[slot] as FieldValue) & mask, w);
  });
  const hitMiss = "__HIT__" in t.next_tables;
  const nextHit = indexOf(t.next_tables.__HIT__);
  const nextMiss = hitMiss ? indexOf(t.next_tables.__MISS__) : indexOf(t.base_default_next);
  // Indexed by action id (small integers): an array read per packet, not a Map lookup.
  const nextByAction: number[] = [];
  for (const [i, id] of t.action_ids.entries()) {
    nextByAction[id] = indexOf(t.next_tables[t.actions[i] as string]);
  }
  const withCounters = t.with_counters;
  /** Tables with idle timeout (support_timeout) note when each entry was last matched. */
  const ageing = t.support_timeout;
  const meter = t.direct_meters ? res.program.meterArrays.get(t.direct_meters) : undefined;
  const meterTarget = meter?.result_target
    ? res.layout.field(meter.result_target[0], meter.result_target[1], where)
    : undefined;
  const meterPackets = meter?.type === "packets";
  const profile = state.profile;
  const key: FieldValue[] = new Array(keyFns.length);

  /** Resolves an entry action to the call to run (a profile member, or a selector's choice). */
  const resolve = (p: PacketState, a: EntryAction): ActionCall | undefined => {
    if (a.kind === "action") return a;
    if (!profile) return undefined;
    if (a.kind === "member") return profile.member(a.member);
    return profile.choose(a.group, selector ? selector(p) : 0n);
  };

  const general: Node = (p) => {
    for (let i = 0; i < keyFns.length; i++)
      key[i] = (keyFns[i] as (p: PacketState) => FieldValue)(p);
    const entry = state.entries.size > 0 ? state.entries.lookup(key) : undefined;
    if (entry) {
      if (ageing) entry.lastHit = state.clock();
      if (withCounters) {
        entry.packets++;
        entry.bytes += p.ingressLength;
      }
      if (meterTarget) {
        const color = state.directMeter(entry.handle).execute(meterPackets ? 1 : p.ingressLength);
        p.phv.values[meterTarget.slot] = truncate(color, meterTarget.width);
      }
      const call = resolve(p, entry.action);
      if (!call) return nextMiss; // empty group: bmv2 runs no action
      call.action.run(p, call.data);
      return hitMiss ? nextHit : (nextByAction[call.action.id] ?? -1);
    }
    const fallback = state.defaultEntry;
    const call = fallback ? resolve(p, fallback) : undefined;
    if (!call) return nextMiss;
    call.action.run(p, call.data);
    return hitMiss ? nextMiss : (nextByAction[call.action.id] ?? nextMiss);
  };
  if (keyFns.length > 0 || profile) return general;
  // No key: p4c's wrappers for actions called outside a table (tbl_*), most of a program's
  // tables and most nodes a packet visits. Straight to the default action while the table has
  // no entries; the general path otherwise.
  return (p) => {
    const d = state.defaultEntry;
    if (state.entries.size > 0 || d === undefined || d.kind !== "action") return general(p);
    d.action.run(p, d.data);
    return hitMiss ? nextMiss : (nextByAction[d.action.id] ?? nextMiss);
  };
}
