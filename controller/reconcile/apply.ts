/**
 * Applying a fabric intent end to end: compile it with the ids already allocated, store it
 * (compare-and-set on the revision), then reconcile every switch. The store is written before
 * any switch, so a controller that dies half-way finds the new intent on restart and finishes
 * the job; an intent that does not compile, or a revision that moved on, changes nothing at all.
 */
import { isDeepStrictEqual } from "node:util";
import { type CompiledFabric, codecFor, compileFabric } from "../compile/compile.js";
import { type LoadedFabric, validateDocument } from "../intent/load.js";
import { type IntentRecord, type IntentStore, RevisionConflictError } from "../intent/store.js";
import type { P4RuntimeClient } from "../p4rt/client.js";
import type { Pipeline } from "../p4rt/pipeline.js";
import {
  type ReconcileOptions,
  reconcileFabric,
  type SwitchReconcileFailure,
  type SwitchReconcileResult,
} from "./reconcile.js";

export interface FabricTargets {
  pipeline: Pipeline;
  /** Connected, primary clients by switch name; switches without one are not touched. */
  clients: Map<string, P4RuntimeClient>;
}

export interface ApplyOptions extends ReconcileOptions {
  /** Refuse (RevisionConflictError) unless the stored intent is still at this revision. */
  expectedRevision?: number;
}

export interface ApplyResult {
  /** The stored revision after the apply (unchanged by a dry run or an identical intent). */
  revision: number;
  compiled: CompiledFabric;
  results: SwitchReconcileResult[];
  failures: SwitchReconcileFailure[];
  dryRun: boolean;
}

export async function applyIntent(
  store: IntentStore,
  intent: LoadedFabric,
  targets: FabricTargets,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const current = await store.read();
  const revision = current?.revision ?? 0;
  if (options.expectedRevision !== undefined && options.expectedRevision !== revision) {
    throw new RevisionConflictError(options.expectedRevision, revision);
  }
  const compiled = compileFabric(intent.fabric, targets.pipeline.index, current?.allocations);
  let stored = revision;
  const unchanged =
    current &&
    isDeepStrictEqual(current.document, intent.document) &&
    isDeepStrictEqual(current.allocations, compiled.allocations);
  if (!options.dryRun && !unchanged) {
    stored = (
      await store.write({ document: intent.document, allocations: compiled.allocations }, revision)
    ).revision;
  }
  const codec = codecFor(targets.pipeline.index);
  const { results, failures } = await reconcileFabric(
    compiled,
    targets.clients,
    targets.pipeline,
    codec,
    options,
  );
  return { revision: stored, compiled, results, failures, dryRun: options.dryRun ?? false };
}

/**
 * The desired state of what is stored, as it was compiled when stored: the same ids, so a
 * restarted controller reconciling it writes nothing to switches that already hold it.
 */
export function compileStored(record: IntentRecord, pipeline: Pipeline): CompiledFabric {
  return compileFabric(validateDocument(record.document), pipeline.index, record.allocations);
}
