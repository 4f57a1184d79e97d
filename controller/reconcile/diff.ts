/**
 * The difference between a switch's desired and observed state, as P4Runtime updates in the
 * order that keeps every reference valid and traffic flowing:
 *   1. action profile members, 2. groups, 3. PRE (multicast groups, clone sessions) and
 *   digest config, 4. table entries, downstream tables first (the reverse of the pipeline's
 *   order), so an entry that lets packets in is written after what they will meet further on
 *   — inserts and modifies only;
 *   then deletions in the reverse order: 5. table entries, upstream first, 6. PRE, 7. groups,
 *   8. members.
 * P4Runtime lets a switch apply the updates of one Write in any order, so each step is its own
 * Write. A key present on both sides with another value is a MODIFY, never delete + insert.
 * Two ways in: diffStates compares whole states (a switch read back), planChanges takes the
 * entities known to have changed (a desired state's changesSince the generation a switch holds).
 */
import {
  type CanonicalCodec,
  type Collection,
  isDefaultCollection,
  splitCollection,
} from "../compile/canonical.js";
import type { SwitchState } from "../compile/state.js";

export type UpdateKind = "INSERT" | "MODIFY" | "DELETE";

export interface PlannedUpdate {
  type: UpdateKind;
  collection: Collection;
  key: string;
  /** The value to write; for DELETE, the value the switch holds. */
  value: string;
  /** For MODIFY: what the switch holds now. */
  previous?: string;
}

export interface SwitchPlan {
  switchName: string;
  /** The desired state's generation the plan leads to (SwitchState.generation). */
  generation: number;
  /** Updates grouped in write steps, in order; no step is empty. */
  steps: PlannedUpdate[][];
  inserts: number;
  modifies: number;
  deletes: number;
}

export function planSize(plan: SwitchPlan): number {
  return plan.inserts + plan.modifies + plan.deletes;
}

/** Write step of a collection for inserts/modifies (`deleting` false) or deletes (true). */
function stepOf(collection: Collection, deleting: boolean, tableRank: Map<string, number>): number {
  const tables = tableRank.size;
  const { kind, name } = splitCollection(collection);
  // Layout: [members][groups][pre] [tables downstream-first] | [tables upstream-first][pre][groups][members]
  if (!deleting) {
    if (kind === "member") return 0;
    if (kind === "group") return 1;
    if (kind === "table" || kind === "default")
      return 3 + (tables - 1 - (tableRank.get(name) ?? 0));
    return 2;
  }
  const base = 3 + tables;
  if (kind === "table" || kind === "default") return base + (tableRank.get(name) ?? 0);
  if (kind === "group") return base + tables + 1;
  if (kind === "member") return base + tables + 2;
  return base + tables;
}

/** Collects updates into their write steps. */
class PlanBuilder {
  private readonly tableRank: Map<string, number>;
  private readonly steps = new Map<number, PlannedUpdate[]>();
  inserts = 0;
  modifies = 0;
  deletes = 0;

  constructor(codec: CanonicalCodec) {
    this.tableRank = new Map(codec.tableOrder().map((name, i) => [name, i]));
  }

  /** Write steps by collection, [inserts/modifies, deletes]. */
  private readonly stepCache = new Map<Collection, [number, number]>();

  private push(collection: Collection, deleting: boolean, update: PlannedUpdate): void {
    let cached = this.stepCache.get(collection);
    if (!cached) {
      cached = [
        stepOf(collection, false, this.tableRank),
        stepOf(collection, true, this.tableRank),
      ];
      this.stepCache.set(collection, cached);
    }
    const step = cached[deleting ? 1 : 0];
    let list = this.steps.get(step);
    if (!list) {
      list = [];
      this.steps.set(step, list);
    }
    list.push(update);
  }

  /** `current` is what the switch holds (undefined: nothing); a default is only ever modified. */
  write(collection: Collection, key: string, value: string, current: string | undefined): void {
    if (current === value) return;
    if (current === undefined && !isDefaultCollection(collection)) {
      this.push(collection, false, { type: "INSERT", collection, key, value });
      this.inserts++;
    } else {
      this.push(collection, false, { type: "MODIFY", collection, key, value, previous: current });
      this.modifies++;
    }
  }

  delete(collection: Collection, key: string, value: string): void {
    this.push(collection, true, { type: "DELETE", collection, key, value });
    this.deletes++;
  }

  plan(switchName: string, generation: number): SwitchPlan {
    return {
      switchName,
      generation,
      steps: [...this.steps.keys()]
        .sort((a, b) => a - b)
        .map((step) => this.steps.get(step) as PlannedUpdate[]),
      inserts: this.inserts,
      modifies: this.modifies,
      deletes: this.deletes,
    };
  }
}

export function diffStates(
  desired: SwitchState,
  observed: SwitchState,
  codec: CanonicalCodec,
): SwitchPlan {
  const plan = new PlanBuilder(codec);
  const complete = new Set<Collection>();
  for (const [collection, wanted] of desired.collections) {
    const have = observed.collections.get(collection);
    let matched = 0;
    for (const [key, value] of wanted) {
      const current = have?.get(key);
      if (current !== undefined) matched++;
      plan.write(collection, key, value, current);
    }
    if (have && matched === have.size) complete.add(collection);
  }
  for (const [collection, have] of observed.collections) {
    // What the controller never sets (other tables' defaults) is not read, so never deleted;
    // a collection whose every key was matched above holds nothing extra.
    if (isDefaultCollection(collection) || complete.has(collection)) continue;
    const wanted = desired.collections.get(collection);
    for (const [key, value] of have) {
      if (!wanted?.has(key)) plan.delete(collection, key, value);
    }
  }
  return plan.plan(desired.switchName, desired.generation);
}

/**
 * The plan that takes a switch holding generation `since` of `desired` to its current one;
 * undefined when its change log no longer reaches back that far.
 */
export function planSince(
  desired: SwitchState,
  since: number,
  codec: CanonicalCodec,
): SwitchPlan | undefined {
  const changes = desired.changesSince(since);
  if (!changes) return undefined;
  const plan = new PlanBuilder(codec);
  for (const { collection, key, before, after } of changes) {
    if (after !== undefined) plan.write(collection, key, after, before);
    else if (before !== undefined && !isDefaultCollection(collection)) {
      plan.delete(collection, key, before);
    }
  }
  return plan.plan(desired.switchName, desired.generation);
}
