/**
 * The fast path of small intent changes (endpoint move, learning): the daemon remembers which
 * desired state, at which generation, it last converged each switch to, and while that holds
 * (the session stayed up and primary, nothing was rejected since) a change is planned from it
 * instead of reading the whole switch back. When the change was compiled incrementally (the
 * same state object, a later generation), the plan is just the entities logged as changed
 * since, so a move costs its few writes whatever the size of the fabric; after a full compile
 * (a new state object) the old state is diffed against the new one. Anything that could make
 * the memory wrong (reconnect, lost mastership, a rejected update) forgets it, and the next
 * reconcile reads the switch; the periodic drift check always reads.
 */
import type { CanonicalCodec } from "../compile/canonical.js";
import type { SwitchState } from "../compile/state.js";
import type { P4RuntimeClient } from "../p4rt/client.js";
import { diffStates, planSince, type SwitchPlan } from "../reconcile/diff.js";
import { type SwitchReconcileResult, writePlan } from "../reconcile/reconcile.js";

/** What a switch is known to hold: `state` as it was at `generation`. */
export interface KnownState {
  state: SwitchState;
  generation: number;
}

/** After a reconcile that wrote `plan` without a rejection, the switch holds this. */
export function knownAfter(desired: SwitchState, plan: SwitchPlan): KnownState {
  return { state: desired, generation: plan.generation };
}

/** The plan from what the switch is known to hold to `desired`; undefined: read the switch. */
export function planFromKnown(
  desired: SwitchState,
  known: KnownState,
  codec: CanonicalCodec,
): SwitchPlan | undefined {
  if (known.state === desired) return planSince(desired, known.generation, codec);
  // Another state object (a full compile since): usable while it is still as it was then.
  if (known.state.generation !== known.generation) return undefined;
  return diffStates(desired, known.state, codec);
}

/**
 * Converges a switch known to hold `known` to `desired`: the steps of the plan, in order.
 * Undefined when the known state cannot say (the caller reads the switch instead).
 */
export async function reconcileFromKnown(
  client: P4RuntimeClient,
  codec: CanonicalCodec,
  desired: SwitchState,
  known: KnownState,
): Promise<SwitchReconcileResult | undefined> {
  const plan = planFromKnown(desired, known, codec);
  if (!plan) return undefined;
  return {
    switchName: desired.switchName,
    pipelinePushed: false,
    plan,
    dryRun: false,
    ...(await writePlan(client, codec, plan)),
  };
}
