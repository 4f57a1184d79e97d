/**
 * The fast path of small intent changes (endpoint move, learning): the daemon remembers the
 * state it last converged each switch to, and while that holds (the session stayed up and
 * primary, nothing was rejected since) a change is diffed against it instead of reading the
 * whole switch back, so a move costs its few writes rather than a full read. Anything that
 * could make the memory wrong (reconnect, lost mastership, a rejected update) forgets it, and
 * the next reconcile reads the switch; the periodic drift check always reads.
 */
import type { Update } from "../../proto/gen/p4/v1/Update.js";
import type { CanonicalCodec } from "../compile/canonical.js";
import type { SwitchState } from "../compile/state.js";
import type { P4RuntimeClient } from "../p4rt/client.js";
import { codeName, WriteError } from "../p4rt/errors.js";
import { diffStates, type PlannedUpdate } from "../reconcile/diff.js";
import type { SwitchReconcileResult } from "../reconcile/reconcile.js";

/** Converges a switch known to hold `known` to `desired`: the steps of the diff, in order. */
export async function reconcileFromKnown(
  client: P4RuntimeClient,
  codec: CanonicalCodec,
  desired: SwitchState,
  known: SwitchState,
): Promise<SwitchReconcileResult> {
  const plan = diffStates(desired, known, codec);
  const result: SwitchReconcileResult = {
    switchName: desired.switchName,
    pipelinePushed: false,
    plan,
    written: 0,
    rejected: [],
    dryRun: false,
  };
  for (const step of plan.steps) {
    const updates: Update[] = step.map((u) => ({
      type: u.type,
      entity: codec.toEntity(u.collection, u.key, u.value),
    }));
    try {
      await client.write(updates);
      result.written += updates.length;
    } catch (error) {
      if (!(error instanceof WriteError)) throw error;
      result.written += updates.length - error.failures.length;
      result.rejected.push(
        ...error.failures.map((failure) => ({
          update: step[failure.index] as PlannedUpdate,
          code: failure.code,
          codeName: codeName(failure.code),
          message: failure.message,
        })),
      );
    }
  }
  return result;
}
