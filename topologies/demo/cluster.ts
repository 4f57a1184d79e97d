/**
 * The controller as a cluster beside the demo fabric (`make demo STORE=etcd`): a 3-member etcd
 * on loopback with its data in the run directory, and controller replicas (`nvgre-ctl run
 * --store etcd://…`) on it. Every process is recorded in the run's registry like the rest of
 * the fabric, so a killed demo leaves nothing that `make clean-net` cannot end.
 */
import { join } from "node:path";
import { type EtcdCluster, startEtcdCluster } from "../etcd.js";
import { primaryTerm } from "../primary-term.js";
import { ControllerDaemon, ControllerError } from "./daemon.js";
import type { Fabric } from "./fabric.js";

export interface ClusterOptions {
  replicas: number;
  /** The leadership lease: a dead leader is replaced within it. */
  leaseTtlS: number;
  timeoutMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The leader's term every switch of the fabric names as its primary's (undefined: none yet). */
export function primaryTermOnEverySwitch(fabric: Fabric): Promise<number | undefined> {
  return primaryTerm(
    fabric.description.switches.map((s) => ({ address: s.grpc_address, deviceId: s.device_id })),
  );
}

export class ControllerCluster {
  private constructor(
    readonly etcd: EtcdCluster,
    readonly replicas: ControllerDaemon[],
    readonly leaseTtlS: number,
  ) {}

  /** Starts etcd and the replicas; resolves once they agree on a leader. Stops what it
   * started when anything fails. */
  static async start(fabric: Fabric, options: ClusterOptions): Promise<ControllerCluster> {
    const etcd = await startEtcdCluster({
      members: 3,
      dir: join(fabric.runDir, "etcd"),
      spawn: (command, args, spawnOptions) =>
        fabric.spawnOnHost([command, ...args], { stdio: spawnOptions.stdio }),
    });
    const cluster = new ControllerCluster(etcd, [], options.leaseTtlS);
    try {
      const store = `etcd://${etcd.endpoints.join(",")}/nvgre/demo/`;
      for (let i = 1; i <= options.replicas; i++) {
        cluster.replicas.push(
          await ControllerDaemon.start(fabric, {
            replica: { member: `r${i}`, store, leaseTtlS: options.leaseTtlS },
          }),
        );
      }
      await cluster.waitForLeader(options.timeoutMs ?? 30_000);
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  /** The running replica every running replica names as leader and that says it leads. */
  async leader(): Promise<ControllerDaemon | undefined> {
    const running = this.replicas.filter((r) => r.running);
    const statuses = await Promise.all(running.map((r) => r.status().catch(() => undefined)));
    const leaders = running.filter((_, i) => statuses[i]?.cluster?.role === "leader");
    const [leader] = leaders;
    if (leaders.length !== 1 || !leader) return undefined;
    return statuses.every((s) => s?.cluster?.leader === leader.name) ? leader : undefined;
  }

  async waitForLeader(timeoutMs: number): Promise<ControllerDaemon> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const leader = await this.leader();
      if (leader) return leader;
      if (Date.now() > deadline) {
        throw new ControllerError(
          `the controller replicas agreed on no leader within ${timeoutMs} ms; see ${this.replicas.map((r) => r.logPath).join(", ")}`,
        );
      }
      await sleep(100);
    }
  }

  /** Ends the replicas (SIGTERM), then etcd; its data stays in the run directory. */
  async stop(): Promise<void> {
    for (const replica of this.replicas) await replica.stop();
    await this.etcd.stop();
  }
}
