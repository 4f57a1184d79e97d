/**
 * The fast path of small intent changes (endpoint move, learning): the daemon remembers the
 * state it last converged each switch to, and while that holds (the session stayed up and
 * primary, nothing was rejected since) a change is diffed against it instead of reading the
 * whole switch back, so a move costs its few writes rather than a full read. Anything that
 * could make the memory wrong (reconnect, lost mastership, a rejected update) forgets it, and
 * the next reconcile reads the switch; the periodic drift check always reads.
 */
import type { CanonicalCodec } from "../compile/canonical.js";
import type { SwitchState } from "../compile/state.js";
import type { P4RuntimeClient } from "../p4rt/client.js";
import { diffStates } from "../reconcile/diff.js";
import { type SwitchReconcileResult, writePlan } from "../reconcile/reconcile.js";

/** Converges a switch known to hold `known` to `desired`: the steps of the diff, in order. */
export async function reconcileFromKnown(
  client: P4RuntimeClient,
  codec: CanonicalCodec,
  desired: SwitchState,
  known: SwitchState,
): Promise<SwitchReconcileResult> {
  const plan = diffStates(desired, known, codec);
  return {
    switchName: desired.switchName,
    pipelinePushed: false,
    plan,
    dryRun: false,
    ...(await writePlan(client, codec, plan)),
  };
}
