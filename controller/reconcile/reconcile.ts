/**
 * Converges a switch to its desired state: pipeline first (pushed only when the switch's cookie
 * differs, so a restarted controller never disturbs a running switch), then read, diff, and
 * write only the difference, step by step (diff.ts). Updates the switch rejects are returned
 * with the switch's own code and message; the others are applied, and the next reconcile
 * retries what is still missing.
 */

import type { Update } from "../../proto/gen/p4/v1/Update.js";
import type { CanonicalCodec } from "../compile/canonical.js";
import { SwitchState } from "../compile/state.js";
import type { P4RuntimeClient } from "../p4rt/client.js";
import { codeName, WriteError } from "../p4rt/errors.js";
import { ensurePipeline, type Pipeline } from "../p4rt/pipeline.js";
import { diffStates, type PlannedUpdate, type SwitchPlan } from "./diff.js";
import { readSwitchState } from "./read.js";

export interface UpdateRejection {
  update: PlannedUpdate;
  code: number;
  codeName: string;
  message: string;
}

export interface SwitchReconcileResult {
  switchName: string;
  /** The pipeline was (or, in a dry run, would be) pushed: the switch starts empty. */
  pipelinePushed: boolean;
  plan: SwitchPlan;
  /** Updates the switch accepted. */
  written: number;
  rejected: UpdateRejection[];
  dryRun: boolean;
}

export interface ReconcileOptions {
  dryRun?: boolean;
  /** Updates per Write RPC (default 1000). */
  batchSize?: number;
}

export async function reconcileSwitch(
  client: P4RuntimeClient,
  pipeline: Pipeline,
  codec: CanonicalCodec,
  desired: SwitchState,
  options: ReconcileOptions = {},
): Promise<SwitchReconcileResult> {
  const switchName = desired.switchName;
  const dryRun = options.dryRun ?? false;
  const pipelinePushed = dryRun
    ? (await client.pipelineCookie()) !== pipeline.cookie
    : await ensurePipeline(client, pipeline);
  const observed = pipelinePushed
    ? new SwitchState(switchName)
    : await readSwitchState(client, codec, switchName, desired);
  const plan = diffStates(desired, observed, codec);
  if (dryRun) return { switchName, pipelinePushed, plan, written: 0, rejected: [], dryRun };
  return {
    switchName,
    pipelinePushed,
    plan,
    dryRun,
    ...(await writePlan(client, codec, plan, options)),
  };
}

/**
 * Writes a plan step by step (each step its own Write, so the switch cannot reorder across
 * steps); a rejected update is reported with the switch's code and message, the rest written.
 */
export async function writePlan(
  client: P4RuntimeClient,
  codec: CanonicalCodec,
  plan: SwitchPlan,
  options: { batchSize?: number } = {},
): Promise<{ written: number; rejected: UpdateRejection[] }> {
  let written = 0;
  const rejected: UpdateRejection[] = [];
  for (const step of plan.steps) {
    // Built lazily, batch by batch, while the switch applies the batch before (client.write).
    const updates = (function* (): Generator<Update> {
      for (const u of step) {
        yield { type: u.type, entity: codec.toEntity(u.collection, u.key, u.value) };
      }
    })();
    try {
      await client.write(updates, { batchSize: options.batchSize ?? 1000 });
      written += step.length;
    } catch (error) {
      if (!(error instanceof WriteError)) throw error;
      written += step.length - error.failures.length;
      for (const failure of error.failures) {
        rejected.push({
          update: step[failure.index] as PlannedUpdate,
          code: failure.code,
          codeName: codeName(failure.code),
          message: failure.message,
        });
      }
    }
  }
  return { written, rejected };
}
