/**
 * Compiles a control pipeline (tables and conditionals; bm_sim pipeline.cpp, match_tables.cpp,
 * conditionals.cpp) into one generated function (codegen.ts): conditionals become `if`s, the
 * bodies of actions run by keyless tables (p4c's `tbl_*` wrappers, most nodes a packet visits)
 * are inlined with their data as constants, and a node reached from one place only is emitted
 * in that place, so a packet runs long straight stretches of code. A table's key is built and
 * looked up in place; what follows a lookup (counters, meters, profiles, the action) is the
 * table's `apply` helper, which returns the next node.
 */

import { ActionProfile } from "../core/action-profile.js";
import { type KeyField, MatchTable, type TableEntry } from "../core/match-table.js";
import { Meter, type MicrosClock } from "../core/meters.js";
import { type PacketState, writeSlot } from "../core/packet.js";
import { type FieldValue, hexstrValue, parseHexstr, truncate } from "../core/values.js";
import { ProgramError, sourceOf } from "../program/errors.js";
import type { PipelineSpec, TableSpec } from "../program/schema.js";
import type { CompiledAction } from "./actions.js";
import { compileHash } from "./calculations.js";
import { type Code, CodeGen, literal, PHV_PRELUDE, slotSource } from "./codegen.js";
import { asBool, type BoolExpr, compileExpr, type ExprContext, NO_LOCALS } from "./expressions.js";
import type { Resources } from "./resources.js";

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

/** A node of the control graph as the generator sees it. */
type GraphNode =
  | {
      kind: "table";
      state: TableState;
      /** Source of the lookup, the action and the next node, evaluating to the next node. */
      code: Code;
      /** Next nodes the table can go to. */
      next: number[];
      /** Keyless table (no action profile): the default action's next node. */
      defaultNext?: (action: CompiledAction) => number;
      exits: boolean;
    }
  | { kind: "conditional"; cond: BoolExpr; next: [number, number] }
  | { kind: "call"; action: CompiledAction; next: number };

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
  const nodes: GraphNode[] = [];
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
    const cond = asBool(compileExpr(c.expression, ctx), ctx);
    nodes.push({ kind: "conditional", cond, next: [indexOf(c.true_next), indexOf(c.false_next)] });
  }
  for (const c of calls) {
    const action = actions.get(c.action_id) as CompiledAction;
    nodes.push({ kind: "call", action, next: indexOf(c.next_node) });
  }
  const init = indexOf(spec.init_table);
  return { apply: generatePipeline(spec.name, nodes, init) };
}

/** The distinct nodes `node` can go to next (-1: the end of the control). */
function successors(node: GraphNode): number[] {
  if (node.kind === "call") return [node.next];
  return [...new Set(node.next)];
}

/**
 * Emits the control as `L: for (;;) switch (n) { ... }`: a node with two or more predecessors
 * (or the first) is a case of the switch; any other node is emitted where its one predecessor
 * goes to it. The graph p4c emits is acyclic, so inlining ends.
 */
function generatePipeline(
  name: string,
  nodes: readonly GraphNode[],
  init: number,
): (p: PacketState) => void {
  const preds = new Array<number>(nodes.length).fill(0);
  for (const node of nodes) {
    for (const s of successors(node)) if (s >= 0) preds[s] = (preds[s] as number) + 1;
  }
  const labelled = (n: number) => n === init || (preds[n] as number) >= 2;
  const g = new CodeGen(name);
  const goTo = (n: number): string => {
    if (n < 0) return "return;\n";
    if (labelled(n)) return `n = ${n}; continue L;\n`;
    return emit(n);
  };
  /** Goes to whichever of `targets` the variable `t` holds. */
  const dispatch = (t: string, targets: number[]): string => {
    if (targets.length === 1) return goTo(targets[0] as number);
    const cases = targets.map((x, i) =>
      i === targets.length - 1 ? `default: {\n${goTo(x)}}\n` : `case ${x}: {\n${goTo(x)}}\n`,
    );
    return `switch (${t}) {\n${cases.join("")}}\n`;
  };
  const emit = (n: number): string => {
    const node = nodes[n] as GraphNode;
    if (node.kind === "conditional") {
      const [t, f] = node.next;
      if (t === f) return goTo(t);
      return `if (${node.cond.code(g)}) {\n${goTo(t)}} else {\n${goTo(f)}}\n`;
    }
    if (node.kind === "call") {
      return `${inlineAction(g, node.action, g.ref([]))}${exitCheck(node.action.exits)}${goTo(node.next)}`;
    }
    const t = g.local("t");
    let code = `let ${t};\n`;
    const d = node.state.defaultEntry;
    if (node.defaultNext && d?.kind === "action") {
      // While the table has no entries and its default is the one the program gave (it may
      // be changed at run time), the default action runs inline with its data as constants.
      const state = g.ref(node.state);
      const entries = g.ref(node.state.entries);
      code += `if (${entries}.entryCount === 0 && ${state}.defaultEntry === ${g.ref(d)}) {\n`;
      code += `${inlineAction(g, d.action, g.ref(d.data))}${t} = ${node.defaultNext(d.action)};\n`;
      code += `} else ${t} = ${node.code(g)};\n`;
    } else code += `${t} = ${node.code(g)};\n`;
    return `${code}${exitCheck(node.exits)}${dispatch(t, successors(node))}`;
  };
  const cases = nodes
    .map((_, n) => n)
    .filter((n) => labelled(n) && (n === init || (preds[n] as number) > 0))
    .map((n) => `case ${n}: {\n${emit(n)}}\n`);
  if (init < 0) return () => {};
  // Conditions outside actions see no action data.
  // `m`: the temporary of exact lookups (MatchTable.exactLookupSource).
  const body = `${PHV_PRELUDE}const l = ${g.ref(NO_LOCALS)};\nlet m;\nif (p.exited) return;\nlet n = ${init};\nL: for (;;) switch (n) {\n${cases.join("")}default: return;\n}\n`;
  return g.build<(p: PacketState) => void>("p", body);
}

/** An action's body in a block of its own, with `l` bound to its data. */
function inlineAction(g: CodeGen, action: CompiledAction, data: string): string {
  return `{\nconst l = ${data};\n${action.code(g)}}\n`;
}

/** bmv2 stops the control when an action exits. */
function exitCheck(exits: boolean): string {
  return exits ? "if (p.exited) return;\n" : "";
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
): GraphNode {
  const t = state.spec;
  const where = `table "${t.name}"`;
  /** Source of each key field's value (codegen.ts). */
  const keyParts = t.key.map((k): Code => {
    if (k.match_type === "valid" || !Array.isArray(k.target)) {
      const header = res.layout.header(String(k.target), where).index;
      return () => `V[${header}]`;
    }
    const [h, f] = k.target;
    if (f === "$valid$") {
      const header = res.layout.header(h, where).index;
      return () => `V[${header}]`;
    }
    const field = res.layout.field(h, f, where);
    const value = slotSource(field.slot, field.width);
    if (!k.mask) return () => value;
    const mask = literal(parseHexstr(k.mask));
    return (g) => `${g.ref(truncate)}(BigInt(${value}) & ${mask}, ${field.width})`;
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
  const key: FieldValue[] = new Array(keyParts.length);

  /** Resolves an entry action to the call to run (a profile member, or a selector's choice). */
  const resolve = (p: PacketState, a: EntryAction): ActionCall | undefined => {
    if (a.kind === "action") return a;
    if (!profile) return undefined;
    if (a.kind === "member") return profile.member(a.member);
    return profile.choose(a.group, selector ? selector(p) : 0n);
  };

  /** What follows the lookup: counters, meters, the action; returns the next node. */
  const apply = (p: PacketState, entry: TableEntry<EntryAction> | undefined): number => {
    if (entry) {
      if (ageing) entry.lastHit = state.clock();
      if (withCounters) {
        entry.packets++;
        entry.bytes += p.ingressLength;
      }
      if (meterTarget) {
        const color = state.directMeter(entry.handle).execute(meterPackets ? 1 : p.ingressLength);
        writeSlot(p.phv, meterTarget.slot, meterTarget.width, truncate(color, meterTarget.width));
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
  const next = [nextMiss, ...t.action_ids.map((id) => nextByAction[id] ?? -1)];
  if (hitMiss) next.push(nextHit);
  const exits = [...state.actions.values()].some((a) => a.exits);
  // The key built inline: exact keys in the table's composite form, others into `key`.
  const code: Code = (g) => {
    const entries = g.ref(state.entries);
    const parts = keyParts.map((k) => k(g));
    const lookup =
      t.match_type === "exact" && parts.length > 0
        ? state.entries.exactLookupSource(g.ref(state.entries.exactRoot), parts, "m")
        : `(${[...parts.map((part, i) => `${g.ref(key)}[${i}] = ${part}`), `${entries}.lookup(${g.ref(key)})`].join(", ")})`;
    return `${g.ref(apply)}(p, ${entries}.entryCount > 0 ? ${lookup} : undefined)`;
  };
  const node: GraphNode = { kind: "table", state, code, next, exits };
  // No key: p4c's wrappers for actions called outside a table (tbl_*). The default action and
  // its next node are what a miss gives.
  if (keyParts.length === 0 && !profile) {
    node.defaultNext = (action) => (hitMiss ? nextMiss : (nextByAction[action.id] ?? nextMiss));
  }
  return node;
}
