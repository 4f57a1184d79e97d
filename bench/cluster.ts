/**
 * Controller cluster benchmark (issue 11): real replica processes (`nvgre-ctl run --store
 * etcd://… --lease-ttl S`) on a real 3-member etcd, driving two softswitch processes through a
 * fabric of N endpoints. Each round measures, as the switches themselves report their primary
 * (topologies/primary-term.ts):
 *   handover   SIGTERM of the leader → the other replica's term primary on every switch;
 *   failover   SIGKILL of the leader → the other replica's term primary on every switch
 *              (goal: under the lease TTL + 1 s);
 *   cold start with no replica left, a new replica process started → primary on every switch
 *              and every switch found in sync (read the store, compile, connect, reconcile).
 * Median and max over the rounds; figures only, nothing asserted.
 *
 *   node dist/bench/cluster.js [--endpoints 1000] [--rounds 5] [--lease-ttl 2] [--chunk N]
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Command } from "commander";
import { ApiClient } from "../controller/cli/api-client.js";
import type { StatusResponse } from "../controller/daemon/protocol.js";
import { type EtcdCluster, startEtcdCluster } from "../topologies/etcd.js";
import { primaryTerm, type SwitchAddress } from "../topologies/primary-term.js";
import { percentile, printTable } from "./report.js";
import { type BenchSwitch, benchTargets } from "./support/switches.js";
import { fabricText } from "./support/two-leaf-fabric.js";

const cliMain = fileURLToPath(new URL("../controller/nvgre-ctl/main.js", import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One `nvgre-ctl run` process on the etcd store. */
class Replica {
  private child: ChildProcess | undefined;
  readonly socket: string;
  readonly api: ApiClient;

  constructor(
    readonly id: string,
    private readonly dir: string,
    private readonly store: string,
    private readonly leaseTtlS: number,
  ) {
    this.socket = join(dir, `${id}.sock`);
    this.api = new ApiClient({ socket: this.socket });
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && !this.child.signalCode;
  }

  start(): void {
    const log = openSync(join(this.dir, `${this.id}.log`), "a");
    this.child = spawn(
      process.execPath,
      [
        cliMain,
        "--socket",
        this.socket,
        "run",
        ...["--store", this.store, "--member", this.id, "--lease-ttl", String(this.leaseTtlS)],
        ...["--state-dir", join(this.dir, `${this.id}-state`)],
        ...["--reconcile-interval", "0", "--learned-ageing", "0", "--log-level", "info"],
      ],
      { stdio: ["ignore", log, log] },
    );
  }

  async signal(signal: "SIGTERM" | "SIGKILL"): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill(signal);
    await exited;
  }

  status(): Promise<StatusResponse | undefined> {
    return this.api.call<StatusResponse>("GET", "/v1/status").catch(() => undefined);
  }
}

/** Polls `check` every 20 ms until it holds; throws after timeoutMs. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

class Bench {
  readonly replicas: Replica[];

  constructor(
    readonly switches: SwitchAddress[],
    dir: string,
    store: string,
    readonly leaseTtlS: number,
  ) {
    this.replicas = ["r1", "r2"].map((id) => new Replica(id, dir, store, leaseTtlS));
  }

  /** The running replica that says it leads, with every switch primary and in sync. */
  async convergedLeader(): Promise<Replica | undefined> {
    for (const replica of this.replicas.filter((r) => r.running)) {
      const status = await replica.status();
      if (
        status?.cluster?.role === "leader" &&
        status.switches.length === this.switches.length &&
        status.switches.every((s) => s.connected && s.primary && s.drift === 0)
      ) {
        return replica;
      }
    }
    return undefined;
  }

  async leader(): Promise<Replica> {
    let found: Replica | undefined;
    await until("a leader has every switch in sync", async () => {
      found = await this.convergedLeader();
      return found !== undefined;
    });
    return found as Replica;
  }

  /** Resolves once both replicas run, hold the leader's intent revision, are connected to every
   * switch and both are cluster members: ready to take over, so a takeover's figure holds no
   * start-up of the follower. */
  async bothReady(): Promise<void> {
    await until("both replicas are ready", async () => {
      const statuses = await Promise.all(this.replicas.map((r) => r.status()));
      const revisions = statuses.map((s) => s?.daemon.intentRevision ?? 0);
      return (
        revisions.every((r) => r > 0 && r === revisions[0]) &&
        statuses.every(
          (s) =>
            s?.switches.length === this.switches.length &&
            s.switches.every((sw) => sw.connected) &&
            s.cluster?.members.length === this.replicas.length,
        )
      );
    });
  }

  /** Resolves once every switch's primary carries a term newer than `oldTerm`. */
  newPrimary(what: string, oldTerm: number): Promise<void> {
    return until(what, async () => ((await primaryTerm(this.switches)) ?? 0) > oldTerm);
  }

  /** ms from the signal until every switch's primary carries a newer term than before. */
  async timeTakeover(leader: Replica, signal: "SIGTERM" | "SIGKILL"): Promise<number> {
    const oldTerm = (await primaryTerm(this.switches)) ?? 0;
    const t0 = performance.now();
    // Timed to the switches' answer, not to the old process's exit (which may come later).
    const exited = leader.signal(signal);
    await this.newPrimary(`a new primary after ${signal}`, oldTerm);
    const took = performance.now() - t0;
    await exited;
    return took;
  }
}

async function main(): Promise<void> {
  const opts = new Command("cluster")
    .option("--endpoints <n>", "endpoints of the fabric the replicas serve", "1000")
    .option("--rounds <n>", "rounds of handover, failover and cold start", "5")
    .option("--lease-ttl <s>", "the replicas' leadership lease (seconds)", "2")
    .option(
      "--chunk <n>",
      "endpoints added per apply while the fabric is set up (default: all at once)",
    )
    .option("--keep-logs", "keep the replicas' logs (their directory is printed)", false)
    .parse()
    .opts<{
      endpoints: string;
      rounds: string;
      leaseTtl: string;
      chunk?: string;
      keepLogs: boolean;
    }>();
  const chunk = opts.chunk === undefined ? Number(opts.endpoints) : Number(opts.chunk);
  const endpoints = Number(opts.endpoints);
  const rounds = Number(opts.rounds);
  const leaseTtlS = Number(opts.leaseTtl);
  const [softswitch] = benchTargets(["softswitch"]);
  if (!softswitch?.available) {
    console.log(`softswitch: skipped (${softswitch?.reason})`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "nvgre-bench-cluster-"));
  const started: BenchSwitch[] = [];
  let etcd: EtcdCluster | undefined;
  let bench: Bench | undefined;
  try {
    etcd = await startEtcdCluster({ members: 3 });
    for (const deviceId of [1, 2]) started.push(await softswitch.start({ deviceId }));
    const store = `etcd://${etcd.endpoints.join(",")}/nvgre/bench-cluster/`;
    bench = new Bench(
      started.map((s) => ({ address: s.address, deviceId: s.deviceId })),
      dir,
      store,
      leaseTtlS,
    );
    const fabricFile = join(dir, "fabric.yaml");
    for (const replica of bench.replicas) replica.start();
    let leader: Replica | undefined;
    await until("a replica leads", async () => {
      for (const r of bench?.replicas ?? []) {
        if ((await r.status())?.cluster?.role === "leader") leader = r;
      }
      return leader !== undefined;
    });
    const applyStarted = performance.now();
    // One apply by default (a change larger than a store transaction is staged); --chunk grows
    // the fabric in several applies instead.
    for (let count = Math.min(chunk, endpoints); ; count = Math.min(count + chunk, endpoints)) {
      writeFileSync(
        fabricFile,
        fabricText(
          started.map((s) => s.address),
          count,
        ),
      );
      await promisify(execFile)(
        process.execPath,
        [cliMain, "--socket", (leader as Replica).socket, "apply", "-f", fabricFile],
        { maxBuffer: 64 * 1024 * 1024 },
      );
      if (count === endpoints) break;
    }
    console.log(
      `applied ${endpoints} endpoints through ${leader?.id} in ${((performance.now() - applyStarted) / 1000).toFixed(1)} s`,
    );
    const handover: number[] = [];
    const failover: number[] = [];
    const coldReady: number[] = [];
    const coldStart: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const first = await bench.leader();
      await bench.bothReady();
      handover.push(await bench.timeTakeover(first, "SIGTERM"));
      first.start();
      const second = await bench.leader();
      await bench.bothReady();
      failover.push(await bench.timeTakeover(second, "SIGKILL"));
      // Cold start: no replica left, then a new process on the stored fabric.
      const last = await bench.leader();
      const lastTerm = (await primaryTerm(bench.switches)) ?? 0;
      await last.signal("SIGTERM");
      const t0 = performance.now();
      second.start();
      await bench.newPrimary("the new replica is primary on every switch", lastTerm);
      coldReady.push(performance.now() - t0);
      await until("the new replica leads with every switch in sync", async () => {
        return (await bench?.convergedLeader()) === second;
      });
      coldStart.push(performance.now() - t0);
      last.start();
      console.log(
        `round ${round}: handover ${handover.at(-1)?.toFixed(0)} ms, failover ${failover.at(-1)?.toFixed(0)} ms, cold start ${coldReady.at(-1)?.toFixed(0)} ms to primary, ${coldStart.at(-1)?.toFixed(0)} ms to in sync`,
      );
    }
    const row = (what: string, goal: string, values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      return [
        what,
        values.length,
        percentile(sorted, 50).toFixed(0),
        (sorted.at(-1) ?? 0).toFixed(0),
        goal,
      ];
    };
    console.log(
      `2 replicas, 3-member etcd 3.4 on loopback, 2 softswitches, ${endpoints} endpoints, lease TTL ${leaseTtlS} s; load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")}`,
    );
    printTable(
      ["event → new primary on every switch", "rounds", "median ms", "max ms", "goal"],
      [
        row("SIGTERM of the leader (handover)", "< 1,000 ms", handover),
        row(
          "SIGKILL of the leader (failover)",
          `< ${((leaseTtlS + 1) * 1000).toLocaleString("en-US")} ms`,
          failover,
        ),
        row("cold start: process start → primary (store read, compiled)", "< 5,000 ms", coldReady),
        row("cold start: … → every switch read back and in sync", "", coldStart),
      ],
    );
  } finally {
    for (const replica of bench?.replicas ?? []) await replica.signal("SIGKILL");
    for (const sw of started) await sw.stop();
    await etcd?.stop();
    if (opts.keepLogs) console.log(`replica logs kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
