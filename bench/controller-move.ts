/**
 * Controller benchmark (issue 6), through the daemon's own code path (validate, compile, store,
 * reconcile: read, diff, write) against two switch processes of each available kind:
 *   full apply  a fabric of N endpoints (default 10,000) onto empty switches: time, entries/s;
 *   move        100 endpoint moves (`endpoint move`), each timed from request to every switch
 *               converged: median and p99 latency (goal p99 < 50 ms) and entries written,
 *               on a small fabric (100 endpoints) and on the large one.
 *
 *   node dist/bench/controller-move.js [--endpoints 10000] [--moves 100] [--targets softswitch,bmv2]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { pino } from "pino";
import { loadDaemonConfig } from "../controller/daemon/config.js";
import { Daemon } from "../controller/daemon/daemon.js";
import { moveEndpoint } from "../controller/daemon/intent-changes.js";
import { openReplica } from "../controller/daemon/replica.js";
import type { KvStore } from "../controller/intent/store/types.js";
import { startBmv2 } from "../test/support/bmv2.js";
import { startSoftswitch } from "../test/support/softswitch.js";
import type { RunningSwitch } from "../test/support/switch-process.js";
import { percentile, printTable } from "./report.js";
import { benchTargets } from "./support/switches.js";
import { fabricText, trunkPorts, vsids } from "./support/two-leaf-fabric.js";

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
    const j = (i * 7919) % endpoints;
    const v = j % vsids;
    // Across leaves and ports, so each move changes entries on both switches.
    const location = {
      switch: `leaf${((j + i + 1) % 2) + 1}`,
      port: 1 + ((i + 3) % trunkPorts),
      vlan: 100 + v,
    };
    const t0 = process.hrtime.bigint();
    const result = await daemon.editDocument(moveEndpoint(`ep-${j}`, location), {
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

async function withDaemon<T>(
  kind: string,
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
    });
    const replica = await openReplica(config);
    store = replica.store;
    daemon = new Daemon(config, replica.store, replica.election, pino({ level: "warn" }));
    await daemon.start();
    return await work(
      daemon,
      switches.map((s) => s.address),
    );
  } finally {
    await daemon?.stop();
    await store?.close();
    for (const sw of switches) await sw.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const opts = new Command("controller-move")
    .option("--endpoints <n>", "endpoints of the large fabric", "10000")
    .option("--small <n>", "endpoints of the small fabric (moves only)", "100")
    .option("--moves <n>", "moves measured per fabric", "100")
    .option("--targets <list>", "switch kinds", "softswitch,bmv2")
    .parse()
    .opts<{ endpoints: string; small: string; moves: string; targets: string }>();
  const large = Number(opts.endpoints);
  const small = Number(opts.small);
  const moves = Number(opts.moves);
  const applyRows: (string | number)[][] = [];
  const moveRows: (string | number)[][] = [];
  for (const target of benchTargets(opts.targets.split(","))) {
    if (!target.available) {
      console.log(`${target.name}: skipped (${target.reason})`);
      continue;
    }
    for (const endpoints of [small, large]) {
      await withDaemon(target.name, async (daemon, addresses) => {
        const t0 = process.hrtime.bigint();
        const applied = await daemon.applyText(fabricText(addresses, endpoints), "bench", {
          trigger: "bench apply",
        });
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        const entries = applied.switches.reduce((sum, s) => sum + s.written, 0);
        if (applied.switches.some((s) => !s.reachable || s.error)) {
          throw new Error(
            `apply did not converge: ${JSON.stringify(applied.switches.map((s) => s.error))}`,
          );
        }
        if (endpoints === large) {
          applyRows.push([
            `2 × ${target.name}`,
            endpoints,
            entries,
            seconds.toFixed(2),
            Math.round(entries / seconds),
          ]);
        }
        const figures = await measureMoves(daemon, endpoints, moves);
        moveRows.push([
          `2 × ${target.name}`,
          endpoints,
          moves,
          figures.medianMs.toFixed(1),
          figures.p99Ms.toFixed(1),
          figures.entriesPerMove.toFixed(1),
        ]);
        console.log(`done: ${target.name}, ${endpoints} endpoints`);
      });
    }
  }
  console.log("Full apply onto empty switches (validate, compile, store, push pipeline, write):");
  printTable(["switches", "endpoints", "entries written", "apply s", "entries/s"], applyRows);
  console.log("Endpoint move, request to every switch converged (goal: p99 < 50 ms):");
  printTable(
    ["switches", "fabric endpoints", "moves", "median ms", "p99 ms", "entries written / move"],
    moveRows,
  );
}

await main();
