/**
 * Controller benchmark (issues 6 and 11), through the daemon's own code path (validate, compile,
 * store, reconcile: read, diff, write) against two switch processes of each available kind, on
 * each intent store (the embedded SQLite store, or a real 3-member etcd on loopback that the
 * benchmark starts), for each fabric size:
 *   full apply  a fabric of N endpoints onto empty switches: time, entries/s;
 *   move        100 endpoint moves (`endpoint move`), each timed from request to every switch
 *               converged: median and p99 latency (goal p99 < 50 ms) and entries written.
 *
 *   node dist/bench/controller-move.js [--sizes 1000,10000] [--moves 100]
 *        [--stores embedded,etcd] [--targets softswitch,bmv2]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { pino } from "pino";
import { loadDaemonConfig } from "../controller/daemon/config.js";
import { Daemon } from "../controller/daemon/daemon.js";
import { moveEndpoint } from "../controller/daemon/intent-changes.js";
import { openReplica } from "../controller/daemon/replica.js";
import type { KvStore } from "../controller/intent/store/types.js";
import { startBmv2 } from "../topologies/bmv2.js";
import { type EtcdCluster, startEtcdCluster } from "../topologies/etcd.js";
import { startSoftswitch } from "../topologies/softswitch.js";
import type { RunningSwitch } from "../topologies/switch-process.js";
import { percentile, printTable } from "./report.js";
import { benchTargets } from "./support/switches.js";
import { fabricText, movedEndpoint } from "./support/two-leaf-fabric.js";

interface MoveFigures {
  medianMs: number;
  p99Ms: number;
  entriesPerMove: number;
}

async function measureMoves(
  daemon: Daemon,
  endpoints: number,
  moves: number,
): Promise<MoveFigures> {
  const latencies: number[] = [];
  let written = 0;
  for (let i = 0; i < moves; i++) {
    const { name, location } = movedEndpoint(i, endpoints);
    const t0 = process.hrtime.bigint();
    const result = await daemon.editResources(moveEndpoint(name, location), {
      trigger: "bench move",
    });
    latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    written += result.switches.reduce((sum, s) => sum + s.written, 0);
    if (result.switches.some((s) => !s.reachable || s.error))
      throw new Error(`move ${i} did not converge`);
  }
  latencies.sort((a, b) => a - b);
  return {
    medianMs: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    entriesPerMove: written / moves,
  };
}

interface Applied {
  entries: number;
  seconds: number;
  applies: number;
}

/** Applies the fabric of `endpoints` endpoints, growing by `chunk` endpoints per apply (one
 * apply when chunk ≥ endpoints); every apply must converge on every switch. */
async function applyFabric(
  daemon: Daemon,
  addresses: string[],
  endpoints: number,
  chunk: number,
): Promise<Applied> {
  const total: Applied = { entries: 0, seconds: 0, applies: 0 };
  for (let count = Math.min(chunk, endpoints); ; count = Math.min(count + chunk, endpoints)) {
    const t0 = process.hrtime.bigint();
    const applied = await daemon.applyText(fabricText(addresses, count), "bench", {
      trigger: "bench apply",
    });
    total.seconds += Number(process.hrtime.bigint() - t0) / 1e9;
    total.entries += applied.switches.reduce((sum, s) => sum + s.written, 0);
    total.applies++;
    if (applied.switches.length === 0) {
      throw new Error("the fabric was stored but not applied: the daemon stopped leading");
    }
    if (applied.switches.some((s) => !s.reachable || s.error)) {
      throw new Error(
        `apply did not converge: ${JSON.stringify(applied.switches.map((s) => s.error))}`,
      );
    }
    if (count === endpoints) return total;
  }
}

/** The daemon's store: its embedded one, or a key prefix of its own on the etcd cluster. */
type StoreChoice =
  | { kind: "embedded" }
  | { kind: "etcd"; cluster: EtcdCluster; prefix: string; leaseTtl: string };

async function withDaemon<T>(
  kind: string,
  storeChoice: StoreChoice,
  work: (daemon: Daemon, addresses: string[]) => Promise<T>,
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "nvgre-bench-"));
  const switches: RunningSwitch[] = [];
  let daemon: Daemon | undefined;
  let store: KvStore | undefined;
  try {
    for (const deviceId of [1, 2]) {
      switches.push(
        kind === "bmv2"
          ? await startBmv2({ deviceId, logLevel: "warn" })
          : await startSoftswitch({ deviceId }),
      );
    }
    const config = loadDaemonConfig({
      stateDir: dir,
      socket: join(dir, "ctl.sock"),
      reconcileInterval: "0",
      ...(storeChoice.kind === "etcd"
        ? {
            store: `etcd://${storeChoice.cluster.endpoints.join(",")}${storeChoice.prefix}`,
            leaseTtl: storeChoice.leaseTtl,
          }
        : {}),
    });
    const replica = await openReplica(config);
    store = replica.store;
    daemon = new Daemon(config, replica.store, replica.election, pino({ level: "warn" }));
    await daemon.start();
    // On etcd it leads once its campaign wins; a change taken before that would only be stored.
    const deadline = Date.now() + 30_000;
    while (!daemon.leading) {
      if (Date.now() > deadline) throw new Error("the daemon did not become leader within 30 s");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return await work(
      daemon,
      switches.map((s) => s.address),
    );
  } finally {
    // Leadership lost on the way (a stalled lease keepalive) is a finding, printed with its why.
    for (const event of daemon?.events.since(0) ?? []) {
      if (event.kind === "cluster" && event.message.startsWith("no longer leading")) {
        console.log(`  ${event.time} ${event.message}`);
      }
    }
    await daemon?.stop();
    await store?.close();
    for (const sw of switches) await sw.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const opts = new Command("controller-move")
    .option("--sizes <list>", "fabric sizes (endpoints), each applied then moved in", "1000,10000")
    .option("--moves <n>", "moves measured per fabric", "100")
    .option("--stores <list>", "intent stores: embedded, etcd", "embedded,etcd")
    .option("--targets <list>", "switch kinds", "softswitch,bmv2")
    .option(
      "--chunk <n>",
      "when one apply of a whole fabric is refused, apply it growing by this many endpoints",
      (v) => Number.parseInt(v, 10),
      4000,
    )
    .option(
      "--lease-ttl <s>",
      "the etcd leadership lease (s); a leader that cannot renew it within 3/4 of it steps down, and parsing a large fabric file stalls the daemon's event loop that long (bench/README.md)",
      "30",
    )
    .parse()
    .opts<{
      sizes: string;
      moves: string;
      stores: string;
      targets: string;
      chunk: number;
      leaseTtl: string;
    }>();
  const sizes = opts.sizes.split(",").map(Number);
  const moves = Number(opts.moves);
  const stores = opts.stores.split(",");
  for (const store of stores) {
    if (store !== "embedded" && store !== "etcd") {
      throw new Error(`unknown store "${store}" (known: embedded, etcd)`);
    }
  }
  const applyRows: (string | number)[][] = [];
  const moveRows: (string | number)[][] = [];
  const etcd = stores.includes("etcd") ? await startEtcdCluster({ members: 3 }) : undefined;
  let run = 0;
  try {
    for (const target of benchTargets(opts.targets.split(","))) {
      if (!target.available) {
        console.log(`${target.name}: skipped (${target.reason})`);
        continue;
      }
      for (const store of stores) {
        for (const endpoints of sizes) {
          const choice: StoreChoice =
            store === "etcd" && etcd
              ? {
                  kind: "etcd",
                  cluster: etcd,
                  prefix: `/nvgre/bench-move-${++run}/`,
                  leaseTtl: opts.leaseTtl,
                }
              : { kind: "embedded" };
          const label = [`2 × ${target.name}`, store === "etcd" ? "etcd (3 members)" : store];
          try {
            await withDaemon(target.name, choice, async (daemon, addresses) => {
              let applied: Applied;
              try {
                applied = await applyFabric(daemon, addresses, endpoints, endpoints);
              } catch (error) {
                // A change refused whole changes nothing: the same fabric again, in parts.
                const why = (error as Error).message.split("\n")[0]?.slice(0, 200);
                console.log(`  one apply of ${endpoints} endpoints refused: ${why}`);
                applyRows.push([...label, endpoints, `refused (${why})`, "-", "-"]);
                applied = await applyFabric(daemon, addresses, endpoints, opts.chunk);
              }
              applyRows.push([
                ...label,
                applied.applies === 1
                  ? endpoints
                  : `${endpoints} (${applied.applies} applies of ≤ ${opts.chunk})`,
                applied.entries,
                applied.seconds.toFixed(2),
                Math.round(applied.entries / applied.seconds),
              ]);
              const figures = await measureMoves(daemon, endpoints, moves);
              moveRows.push([
                ...label,
                endpoints,
                moves,
                figures.medianMs.toFixed(1),
                figures.p99Ms.toFixed(1),
                figures.entriesPerMove.toFixed(1),
              ]);
              console.log(`done: ${label.join(", ")}, ${endpoints} endpoints`);
            });
          } catch (error) {
            // A size one store cannot take is a finding to print, not the end of the run.
            const message = (error as Error).message.split("\n")[0]?.slice(0, 300);
            console.log(`failed: ${label.join(", ")}, ${endpoints} endpoints: ${message}`);
            applyRows.push([...label, endpoints, "failed", "-", "-"]);
          }
        }
      }
    }
  } finally {
    await etcd?.stop();
  }
  console.log(
    `load average at the end: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}`,
  );
  console.log("Full apply onto empty switches (validate, compile, store, push pipeline, write):");
  printTable(
    ["switches", "store", "endpoints", "entries written", "apply s", "entries/s"],
    applyRows,
  );
  console.log("Endpoint move, request to every switch converged (goal: p99 < 50 ms):");
  printTable(
    [
      "switches",
      "store",
      "fabric endpoints",
      "moves",
      "median ms",
      "p99 ms",
      "entries written / move",
    ],
    moveRows,
  );
}

await main();
