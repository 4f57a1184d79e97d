/**
 * A controller cluster for tests: a real 3-member etcd, daemon replicas as real processes
 * (`nvgre-ctl run --store etcd://…`, so they can be killed, stopped and resumed by pid), and
 * two softswitches in this process, so the test can put frames on their ports and see what
 * leaves while the controllers come and go. What the replicas write to each switch is counted
 * by a P4Runtime pass-through in front of it; who is primary on a switch is asked by a client of
 * the test's own joining its election for a moment (election id 2: a backup's answer names the
 * primary's id).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { termOf } from "../../../controller/cluster/election-id.js";
import type { ChangeResult, StatusResponse } from "../../../controller/daemon/protocol.js";
import { P4RuntimeClient } from "../../../controller/p4rt/client.js";
import { SoftswitchDevice } from "../../../softswitch/device.js";
import { startP4RuntimeServer } from "../../../softswitch/p4runtime/server.js";
import { type EtcdCluster, startEtcdCluster } from "../../../topologies/etcd.js";
import { CPU_PORT } from "../../../topologies/switch-process.js";
import { runCaptured } from "../../support/cli-capture.js";
import { type P4RuntimeRecorder, startRecorder } from "../daemon/p4runtime-recorder.js";

const cliMain = fileURLToPath(new URL("../../../controller/nvgre-ctl/main.js", import.meta.url));

export const LEASE_TTL_SECONDS = 2;

/** Two leaves joined by a fabric link; VSID 0x5001 learns on leaf1:3. */
export function fabricText(addresses: string[]): string {
  return `version: 1
name: cluster-test
switches:
  - name: leaf1
    role: leaf
    p4runtime: { address: "${addresses[0]}", deviceId: 1 }
    routerMac: "02:00:00:00:0a:01"
    providerAddresses: [10.0.0.1]
    ports:
      - { port: 1, kind: access, untagged: 0x5001 }
      - { port: 2, kind: access, untagged: 0x5001 }
      - { port: 3, kind: access, untagged: 0x5001 }
      - { port: 10, kind: fabric, peer: { switch: leaf2, port: 10 }, mtu: 1600 }
  - name: leaf2
    role: leaf
    p4runtime: { address: "${addresses[1]}", deviceId: 2 }
    routerMac: "02:00:00:00:0a:02"
    providerAddresses: [10.0.0.2]
    ports:
      - { port: 1, kind: access, untagged: 0x5001 }
      - { port: 2, kind: access, untagged: 0x5001 }
      - { port: 10, kind: fabric, peer: { switch: leaf1, port: 10 }, mtu: 1600 }
tenants:
  - name: contoso
virtualSubnets:
  - { vsid: 0x5001, name: web, tenant: contoso, sourceGuard: false, learning: { local: true } }
endpoints:
  - { name: web-1, vsid: 0x5001, mac: "02:00:00:00:01:01", ips: [10.1.1.10], location: { switch: leaf1, port: 1 } }
  - { name: web-2, vsid: 0x5001, mac: "02:00:00:00:01:02", ips: [10.1.1.11], location: { switch: leaf2, port: 1 } }
`;
}

export class Replica {
  process: ChildProcess | undefined;
  readonly socket: string;
  readonly logPath: string;
  /** SIGSTOPped and not yet continued: it cannot answer, so nobody asks it. */
  paused = false;

  constructor(
    readonly id: string,
    private readonly dir: string,
    private readonly endpoints: string[],
  ) {
    this.socket = join(dir, `${id}.sock`);
    this.logPath = join(dir, `${id}.log`);
  }

  /** Started and not ended (by exit or signal). */
  get running(): boolean {
    return (
      this.process !== undefined &&
      this.process.exitCode === null &&
      this.process.signalCode === null
    );
  }

  start(): void {
    const log = openSync(this.logPath, "a");
    this.process = spawn(
      process.execPath,
      [
        cliMain,
        "run",
        "--store",
        `etcd://${this.endpoints.join(",")}/nvgre/cluster-test/`,
        "--member",
        this.id,
        "--lease-ttl",
        String(LEASE_TTL_SECONDS),
        "--state-dir",
        join(this.dir, `${this.id}-state`),
        "--socket",
        this.socket,
        "--reconcile-interval",
        "0",
        "--learned-ageing",
        "0",
        "--log-level",
        "debug",
      ],
      { stdio: ["ignore", log, log] },
    );
  }

  /** Sends `signal`; for SIGKILL and SIGTERM waits until the process is gone. */
  async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.process;
    if (!child || !this.running) return;
    if (signal === "SIGSTOP" || signal === "SIGCONT") {
      child.kill(signal);
      this.paused = signal === "SIGSTOP";
      return;
    }
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill(signal);
    await exited;
  }

  cli(...args: string[]) {
    return runCaptured(this.socket, ...args);
  }

  async status(): Promise<StatusResponse | undefined> {
    const result = await this.cli("status", "-o", "json");
    if (result.out.trim() === "") return undefined;
    try {
      return JSON.parse(result.out) as StatusResponse;
    } catch {
      return undefined;
    }
  }

  log(): string {
    return existsSync(this.logPath) ? readFileSync(this.logPath, "utf8") : "";
  }
}

/** One softswitch in this process, behind a recorder, watched by a backup client. */
export interface Leaf {
  name: string;
  device: SoftswitchDevice;
  /** The address the replicas reach it by (the recorder's). */
  address: string;
  recorder: P4RuntimeRecorder;
  /** The switch's own address (not through the recorder). */
  direct: string;
}

/** The election id of the switch's primary now, as its arbitration answer names it. */
async function primaryElectionId(leaf: Leaf, deviceId: number): Promise<bigint> {
  const client = new P4RuntimeClient({
    address: leaf.direct,
    deviceId,
    electionId: 2n,
    reconnect: false,
    connectTimeoutMs: 2_000,
  });
  try {
    return (await client.connect()).primaryElectionId;
  } finally {
    client.close();
  }
}

export class ClusterHarness {
  readonly dir = mkdtempSync(join(tmpdir(), "nvgre-cluster-"));
  readonly fabricFile = join(this.dir, "fabric.yaml");
  etcd: EtcdCluster | undefined;
  readonly leaves: Leaf[] = [];
  readonly replicas: Replica[] = [];
  private closers: (() => Promise<void>)[] = [];

  async start(replicaCount: number): Promise<void> {
    this.etcd = await startEtcdCluster({ members: 3 });
    for (const [i, name] of ["leaf1", "leaf2"].entries()) {
      const device = new SoftswitchDevice({ deviceId: i + 1, cpuPort: CPU_PORT });
      const server = await startP4RuntimeServer({ device, address: "127.0.0.1:0" });
      const recorder = await startRecorder(server.address);
      this.leaves.push({
        name,
        device,
        address: recorder.address,
        recorder,
        direct: server.address,
      });
      this.closers.push(async () => {
        await recorder.close();
        await server.close();
        await device.close();
      });
    }
    writeFileSync(this.fabricFile, fabricText(this.leaves.map((l) => l.address)));
    for (let i = 1; i <= replicaCount; i++) {
      const replica = new Replica(`r${i}`, this.dir, this.etcd.endpoints);
      replica.start();
      this.replicas.push(replica);
    }
    await this.until("every replica answers", async () => {
      for (const r of this.replicas) if (!(await r.status())) return false;
      return true;
    });
  }

  /** The replica every running replica names as leader, once they agree and it says it leads. */
  async leader(): Promise<Replica | undefined> {
    const running = this.replicas.filter((r) => r.running && !r.paused);
    const statuses = await Promise.all(running.map((r) => r.status()));
    const leading = running.filter((_, i) => statuses[i]?.cluster?.role === "leader");
    if (leading.length !== 1) return undefined;
    const leader = leading[0] as Replica;
    const agreed = statuses.every((s) => s?.cluster?.leader === leader.id);
    return agreed ? leader : undefined;
  }

  /** The term of the primary on every leaf, when every leaf has the same leader's primary. */
  async primaryTerm(): Promise<number | undefined> {
    const ids = await Promise.all(this.leaves.map((leaf, i) => primaryElectionId(leaf, i + 1)));
    const terms = new Set(ids.map(termOf));
    const [term] = terms;
    return terms.size === 1 && term !== undefined && term > 0 ? term : undefined;
  }

  /** Every switch holds the leader's intent: the leader's status shows them primary and in sync. */
  async converged(): Promise<boolean> {
    const leader = await this.leader();
    const status = await leader?.status();
    return (
      status?.switches.length === this.leaves.length &&
      status.switches.every((s) => s.connected && s.primary && s.drift === 0)
    );
  }

  async apply(via: Replica): Promise<ChangeResult> {
    const result = await via.cli("apply", "-f", this.fabricFile, "-o", "json");
    assert.equal(result.code, 0, `${result.err}${result.out}`);
    return JSON.parse(result.out) as ChangeResult;
  }

  resetRecorders(): void {
    for (const leaf of this.leaves) leaf.recorder.reset();
  }

  /** Updates the replicas sent to the switches since the last reset. */
  updatesWritten(): number {
    return this.leaves.reduce((n, leaf) => n + leaf.recorder.updates.length, 0);
  }

  async until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}\n${this.logs()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  logs(): string {
    return this.replicas
      .map((r) => `--- ${r.id} (last lines)\n${r.log().split("\n").slice(-25).join("\n")}`)
      .join("\n");
  }

  async close(): Promise<void> {
    for (const replica of this.replicas) {
      if (replica.running) {
        await replica.signal("SIGCONT");
        await replica.signal("SIGKILL");
      }
    }
    for (const close of this.closers) await close().catch(() => {});
    await this.etcd?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
