/**
 * Failover of the controller cluster, measured the way an operator would judge it: while one
 * VM pings another every 10 ms, the leading replica is killed with SIGKILL (its host died).
 * Measured: the time until every switch's primary is the successor (the switches' own
 * arbitration answers carry the new leader's term), the pings lost, and the P4Runtime updates
 * the successor wrote when it took over (its reconcile events; 0 when it found every switch
 * as the intent wants it).
 */
import type { ControllerCluster } from "./cluster.js";
import { primaryTermOnEverySwitch } from "./cluster.js";
import { ControllerError } from "./daemon.js";
import type { Fabric, VmInfo } from "./fabric.js";
import { continuousPing, hostAddress } from "./traffic.js";

export interface FailoverResult {
  killed: string;
  successor: string;
  leaseTtlS: number;
  oldTerm: number;
  newTerm: number;
  /** From the SIGKILL to every switch naming the successor's primary. */
  failoverMs: number;
  /** From the SIGKILL to the successor having reconciled every switch. */
  reconciledMs: number;
  from: string;
  to: string;
  intervalMs: number;
  transmitted: number;
  received: number;
  /** Requests sent in the last 100 ms before ping stopped, after the last reply: still on
   * their way (ping ends at once on SIGINT), not lost. */
  inFlight: number;
  /** Requests never answered, in flight at the stop not counted. */
  lost: number;
  /** P4Runtime updates the successor wrote on taking over, per switch. */
  written: Map<string, number>;
  rewritten: number;
}

/** Longer than any round trip through the fabric: a request unanswered for longer is lost. */
const IN_FLIGHT_MS = 100;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Two VMs of one virtual subnet on different leaves (their frames cross the fabric). */
export function pingPair(fabric: Fabric): [VmInfo, VmInfo] {
  const vms = fabric.description.vms;
  for (const a of vms) {
    const b = vms.find((v) => v.vsid === a.vsid && v.leaf !== a.leaf);
    if (b) return [a, b];
  }
  throw new ControllerError("the fabric has no two VMs of one virtual subnet on different leaves");
}

export async function killLeader(
  fabric: Fabric,
  cluster: ControllerCluster,
  options: { intervalMs?: number; settleMs?: number; timeoutMs?: number } = {},
): Promise<FailoverResult> {
  const intervalMs = options.intervalMs ?? 10;
  const settleMs = options.settleMs ?? 1000;
  const timeoutMs = options.timeoutMs ?? (cluster.leaseTtlS + 20) * 1000;
  const leader = await cluster.waitForLeader(10_000);
  const successor = cluster.replicas.find((r) => r !== leader && r.running);
  if (!successor) throw new ControllerError("no replica is left to take over");
  const oldTerm = await primaryTermOnEverySwitch(fabric);
  if (oldTerm === undefined) {
    throw new ControllerError("the switches do not all name the leader's primary");
  }
  const seen = new Set((await successor.events("reconcile")).map((e) => e.seq));
  const switches = fabric.description.switches.map((s) => s.name);
  const [from, to] = pingPair(fabric);
  const pinger = continuousPing(fabric, from.name, hostAddress(to.ipv4), intervalMs / 1000);
  try {
    await sleep(settleMs);
    const killedAt = performance.now();
    await leader.signal("SIGKILL");
    const deadline = Date.now() + timeoutMs;
    let newTerm: number | undefined;
    for (;;) {
      newTerm = await primaryTermOnEverySwitch(fabric);
      if (newTerm !== undefined && newTerm > oldTerm) break;
      if (Date.now() > deadline) {
        throw new ControllerError(
          `no new primary on every switch ${timeoutMs} ms after the SIGKILL; see ${successor.logPath}`,
        );
      }
      await sleep(20);
    }
    const failoverMs = performance.now() - killedAt;
    const written = new Map<string, number>();
    for (;;) {
      const fresh = (await successor.events("reconcile")).filter((e) => !seen.has(e.seq));
      const failed = fresh.find((e) => e.level === "error");
      if (failed) throw new ControllerError(`${successor.name}: ${failed.message}`);
      for (const event of fresh) {
        if (!event.switch) continue;
        const n = Number(event.data?.written ?? 0);
        written.set(event.switch, (written.get(event.switch) ?? 0) + n);
        seen.add(event.seq);
      }
      if (switches.every((s) => written.has(s))) break;
      if (Date.now() > deadline) {
        throw new ControllerError(
          `${successor.name} did not reconcile every switch after taking over; see ${successor.logPath}`,
        );
      }
      await sleep(20);
    }
    const reconciledMs = performance.now() - killedAt;
    await sleep(settleMs);
    const pings = await pinger.stop();
    const inFlight = Math.min(
      pings.transmitted - pings.lastAnswered,
      Math.ceil(IN_FLIGHT_MS / intervalMs),
    );
    return {
      killed: leader.name,
      successor: successor.name,
      leaseTtlS: cluster.leaseTtlS,
      oldTerm,
      newTerm,
      failoverMs,
      reconciledMs,
      from: from.name,
      to: to.name,
      intervalMs,
      transmitted: pings.transmitted,
      received: pings.received,
      inFlight,
      lost: pings.transmitted - pings.received - inFlight,
      written,
      rewritten: [...written.values()].reduce((a, b) => a + b, 0),
    };
  } catch (error) {
    await pinger.stop().catch(() => undefined);
    throw error;
  }
}
