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
 */
import { type CanonicalCodec, type Collection, splitCollection } from "../compile/canonical.js";
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

export function diffStates(
  desired: SwitchState,
  observed: SwitchState,
  codec: CanonicalCodec,
): SwitchPlan {
  const tableRank = new Map(codec.tableOrder().map((name, i) => [name, i]));
  const steps = new Map<number, PlannedUpdate[]>();
  const push = (step: number, update: PlannedUpdate) => {
    const list = steps.get(step) ?? [];
    steps.set(step, list);
    list.push(update);
  };
  let inserts = 0;
  let modifies = 0;
  let deletes = 0;
  const complete = new Set<Collection>();
  for (const [collection, wanted] of desired.collections) {
    const have = observed.collections.get(collection);
    const step = stepOf(collection, false, tableRank);
    // A table's default action always exists on the switch: it is only ever modified.
    const isDefault = collection.startsWith("default:");
    let matched = 0;
    for (const [key, value] of wanted) {
      const current = have?.get(key);
      if (current !== undefined) matched++;
      if (current === value) continue;
      if (current === undefined && !isDefault) {
        push(step, { type: "INSERT", collection, key, value });
        inserts++;
      } else {
        push(step, { type: "MODIFY", collection, key, value, previous: current });
        modifies++;
      }
    }
    if (have && matched === have.size) complete.add(collection);
  }
  for (const [collection, have] of observed.collections) {
    // What the controller never sets (other tables' defaults) is not read, so never deleted;
    // a collection whose every key was matched above holds nothing extra.
    if (collection.startsWith("default:") || complete.has(collection)) continue;
    const wanted = desired.collections.get(collection);
    const step = stepOf(collection, true, tableRank);
    for (const [key, value] of have) {
      if (wanted?.has(key)) continue;
      push(step, { type: "DELETE", collection, key, value });
      deletes++;
    }
  }
  return {
    switchName: desired.switchName,
    steps: [...steps.keys()]
      .sort((a, b) => a - b)
      .map((step) => steps.get(step) as PlannedUpdate[]),
    inserts,
    modifies,
    deletes,
  };
}
