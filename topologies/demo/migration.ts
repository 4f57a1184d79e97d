/**
 * Live migration of a VM to another leaf, measured from a VM that keeps pinging it: the vNIC
 * moves to a spare port of the new leaf (the VM keeps running and announces itself), the
 * controller is told (`tell`: nvgre-ctl endpoint move, or the same request by API), and the
 * pings show how many packets were lost and how long after the command the first one got
 * through again.
 */
import type { Fabric } from "./fabric.js";
import { continuousPing, hostAddress } from "./traffic.js";

export interface MigrationResult {
  vm: string;
  from: { leaf: string; port: number };
  to: { leaf: string; port: number };
  observer: string;
  intervalMs: number;
  transmitted: number;
  received: number;
  lost: number;
  /** From the controller command to the first echo reply after it (undefined: none came). */
  convergenceMs: number | undefined;
  /** How long the controller command itself took (until every switch converged). */
  commandMs: number;
  /** From the vNIC leaving the old leaf to the controller's command completing: the only
   * time the VM can be unreachable. */
  outageWindowMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Tells the controller the VM's new place; resolves once every switch converged. */
export type TellController = (vm: string, to: { leaf: string; port: number }) => Promise<unknown>;

export async function migrate(
  fabric: Fabric,
  vm: string,
  toLeaf: string,
  observer: string,
  tell: TellController,
  options: { intervalMs?: number; settleMs?: number } = {},
): Promise<MigrationResult> {
  const intervalMs = options.intervalMs ?? 10;
  const settleMs = options.settleMs ?? 1000;
  const before = fabric.vm(vm);
  const from = { leaf: before.leaf, port: before.port };
  const pinger = continuousPing(fabric, observer, hostAddress(before.ipv4), intervalMs / 1000);
  try {
    await sleep(settleMs);
    const movedAt = Date.now();
    const to = await fabric.moveVm(vm, toLeaf);
    const commandAt = Date.now();
    await tell(vm, to);
    const appliedAt = Date.now();
    await sleep(settleMs);
    const result = await pinger.stop();
    const firstAfter = result.replies.find((at) => at >= commandAt);
    return {
      vm,
      from,
      to,
      observer,
      intervalMs,
      transmitted: result.transmitted,
      received: result.received,
      lost: result.transmitted - result.received,
      convergenceMs: firstAfter === undefined ? undefined : firstAfter - commandAt,
      commandMs: appliedAt - commandAt,
      outageWindowMs: appliedAt - movedAt,
    };
  } catch (error) {
    await pinger.stop().catch(() => undefined);
    throw error;
  }
}
