/**
 * P4Runtime client write-rate benchmark (issue 4). For each available switch, entry count and
 * batch size it writes exact-match entries twice, each time into a freshly started switch:
 *   client  the project's client: entities built by name, encoded, written in batches;
 *   bare    the same WriteRequests pre-encoded before the clock starts and sent by a bare
 *           grpc-js loop: the floor of client overhead.
 * Each run is a separate worker process, so its CPU time and peak RSS are its own. The two
 * alternate, --repeat times each (default 3), and the best run of each is reported: on a shared
 * machine the best run is the one least disturbed, and alternating exposes both to the same load.
 *
 *   node dist/bench/p4rt-writes.js [--entries 10000,100000] [--batches 1,100,1000]
 *                                  [--targets softswitch,bmv2] [--repeat 3]
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { P4RuntimeClient } from "../controller/p4rt/client.js";
import { EntityBuilder } from "../controller/p4rt/entities.js";
import { ensurePipeline, loadPipeline } from "../controller/p4rt/pipeline.js";
import { WriteRequestEncoder } from "../controller/p4rt/write-encoding.js";
import { printTable } from "./report.js";
import {
  type BenchSwitch,
  bareWriter,
  benchTargets,
  hostUpdates,
  preEncodedWrites,
  writeScaleBuild,
} from "./support/switches.js";

interface RunResult {
  entriesPerSecond: number;
  cpuMicrosPerEntry: number;
  peakRssMB: number;
}

const deviceId = 1;
const electionId = 1n;

async function connectPrimary(address: string): Promise<P4RuntimeClient> {
  const client = new P4RuntimeClient({ address, deviceId, electionId, reconnect: false });
  const state = await client.connect();
  if (!state.primary) throw new Error(`${address}: this benchmark's client is not primary`);
  const pipeline = loadPipeline(writeScaleBuild);
  await ensurePipeline(client, pipeline);
  return client;
}

/** One measured run (worker process): prints its RunResult as JSON on stdout. */
async function worker(mode: "client" | "bare", address: string, count: number, batch: number) {
  const client = await connectPrimary(address);
  const builder = new EntityBuilder(loadPipeline(writeScaleBuild).index);
  let elapsedNs: bigint;
  let cpu: NodeJS.CpuUsage;
  if (mode === "client") {
    // A controller is long-running: warm the build-and-encode path (JIT)
    // on entries that are never sent, as the bare loop encodes outside its clock too.
    new WriteRequestEncoder({ deviceId: BigInt(deviceId), electionId }).encode([
      ...hostUpdates(builder, Math.min(count, 2000)),
    ]);
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await client.write(hostUpdates(builder, count), { batchSize: batch });
    elapsedNs = process.hrtime.bigint() - t0;
    cpu = process.cpuUsage(cpu0);
  } else {
    const requests = preEncodedWrites(builder, count, batch, deviceId, electionId);
    const bare = bareWriter(address);
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await bare.send(requests);
    elapsedNs = process.hrtime.bigint() - t0;
    cpu = process.cpuUsage(cpu0);
    bare.close();
  }
  client.close();
  const result: RunResult = {
    entriesPerSecond: count / (Number(elapsedNs) / 1e9),
    cpuMicrosPerEntry: (cpu.user + cpu.system) / count,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function runWorker(mode: string, sw: BenchSwitch, count: number, batch: number): RunResult {
  const out = execFileSync(
    process.execPath,
    [
      fileURLToPath(import.meta.url),
      "--worker",
      mode,
      "--address",
      sw.address,
      "--entries",
      String(count),
      "--batches",
      String(batch),
    ],
    { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 20 },
  );
  return JSON.parse(out.trim().split("\n").pop() ?? "{}") as RunResult;
}

async function main(): Promise<void> {
  const program = new Command("p4rt-writes")
    .option("--entries <list>", "entry counts", "10000,100000")
    .option("--batches <list>", "batch sizes", "1,100,1000")
    .option("--targets <list>", "switches to write into", "softswitch,bmv2")
    .option("--repeat <n>", "runs of each mode, alternating; the best is reported", "3")
    .option("--worker <mode>", "(internal) run one measurement: client | bare")
    .option("--address <host:port>", "(internal) switch address for --worker")
    .parse();
  const opts = program.opts<{
    entries: string;
    batches: string;
    targets: string;
    repeat: string;
    worker?: "client" | "bare";
    address?: string;
  }>();
  const list = (text: string) => text.split(",").map((v) => Number(v.trim()));
  if (opts.worker) {
    await worker(
      opts.worker,
      opts.address ?? "",
      list(opts.entries)[0] ?? 0,
      list(opts.batches)[0] ?? 1,
    );
    return;
  }
  const rows: (string | number)[][] = [];
  for (const target of benchTargets(opts.targets.split(","))) {
    if (!target.available) {
      console.log(`${target.name}: skipped (${target.reason})`);
      continue;
    }
    for (const count of list(opts.entries)) {
      for (const batch of list(opts.batches)) {
        const measure = async (mode: string) => {
          const sw = await target.start();
          try {
            return runWorker(mode, sw, count, batch);
          } finally {
            await sw.stop();
          }
        };
        let client: RunResult | undefined;
        let bare: RunResult | undefined;
        const best = (a: RunResult | undefined, b: RunResult) =>
          a && a.entriesPerSecond >= b.entriesPerSecond ? a : b;
        for (let run = 0; run < Number(opts.repeat); run++) {
          client = best(client, await measure("client"));
          bare = best(bare, await measure("bare"));
        }
        if (!client || !bare) throw new Error("--repeat must be at least 1");
        rows.push([
          target.name,
          count,
          batch,
          Math.round(client.entriesPerSecond),
          Math.round(bare.entriesPerSecond),
          `${((100 * client.entriesPerSecond) / bare.entriesPerSecond).toFixed(1)}%`,
          client.cpuMicrosPerEntry.toFixed(1),
          bare.cpuMicrosPerEntry.toFixed(1),
          client.peakRssMB.toFixed(0),
        ]);
        console.log(`done: ${target.name} ${count} entries, batch ${batch}`);
      }
    }
  }
  console.log(
    `P4Runtime client write rate, best of ${opts.repeat} alternating runs each (goal at batch 1,000: client ≥ 90% of bare; peak RSS ≤ 300 MB at 100,000)`,
  );
  printTable(
    [
      "switch",
      "entries",
      "batch",
      "client entries/s",
      "bare entries/s",
      "client/bare",
      "client CPU µs/entry",
      "bare CPU µs/entry",
      "client peak RSS MB",
    ],
    rows,
  );
}

await main();
