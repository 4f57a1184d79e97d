/**
 * The switch's side of table writes: for each switch (the softswitch CLI, and bmv2's
 * simple_switch_grpc when installed), started fresh as its own process, the project's client
 * writes 100,000 exact entries at batch 1,000 into the 128K-entry table of the write_scale
 * fixture; printed: entries/s, and the switch process's resident memory before and after
 * (/proc: VmRSS now, VmHWM peak). Prints figures; asserts nothing.
 *
 *   node dist/bench/switch-tables.js [--entries N] [--batch B] [--targets softswitch,bmv2]
 */
import { readFileSync } from "node:fs";
import { Command, Option } from "commander";
import { P4RuntimeClient } from "../controller/p4rt/client.js";
import { EntityBuilder } from "../controller/p4rt/entities.js";
import { forwardingPipelineConfig, loadPipeline } from "../controller/p4rt/pipeline.js";
import { printTable } from "./report.js";
import {
  type BenchTarget,
  benchTargets,
  hostUpdates,
  writeScaleBuild,
} from "./support/switches.js";

/** Resident and peak resident memory of a process, MB (Linux /proc). */
function memoryMB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1]);
  return { rss: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 };
}

interface Result {
  target: string;
  entriesPerSecond: number;
  rssBefore: number;
  rssAfter: number;
  peak: number;
}

async function measure(target: BenchTarget, entries: number, batch: number): Promise<Result> {
  const sw = await target.start();
  const client = new P4RuntimeClient({
    address: sw.address,
    deviceId: sw.deviceId,
    electionId: 1n,
    reconnect: false,
  });
  try {
    await client.connect();
    const pipeline = loadPipeline(writeScaleBuild);
    await client.setPipeline(forwardingPipelineConfig(pipeline));
    const pid = sw.pid as number;
    const before = memoryMB(pid);
    const builder = new EntityBuilder(pipeline.index);
    const t0 = process.hrtime.bigint();
    await client.write(hostUpdates(builder, entries), { batchSize: batch });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const after = memoryMB(pid);
    return {
      target: target.name,
      entriesPerSecond: entries / seconds,
      rssBefore: before.rss,
      rssAfter: after.rss,
      peak: after.peak,
    };
  } finally {
    client.close();
    await sw.stop();
  }
}

async function main(): Promise<void> {
  const options = new Command("switch-tables")
    .addOption(
      new Option("--entries <n>", "exact entries written").default(100_000).argParser(Number),
    )
    .addOption(
      new Option("--batch <n>", "updates per WriteRequest").default(1000).argParser(Number),
    )
    .option("--targets <list>", "switches to measure", "softswitch,bmv2")
    .parse()
    .opts<{ entries: number; batch: number; targets: string }>();
  const results: Result[] = [];
  for (const target of benchTargets(options.targets.split(","))) {
    if (!target.available) {
      console.log(`${target.name}: SKIPPED (${target.reason})`);
      continue;
    }
    results.push(await measure(target, options.entries, options.batch));
  }
  console.log(
    `switch side of table writes: ${options.entries.toLocaleString("en-US")} exact entries, batch ${options.batch}, the project's P4Runtime client (goals: softswitch ≥ 2× bmv2 writes/s; RSS ≤ 200 MB)`,
  );
  printTable(
    ["switch", "entries/s", "RSS before MB", "RSS after MB", "peak RSS MB"],
    results.map((r) => [
      r.target,
      Math.round(r.entriesPerSecond),
      r.rssBefore.toFixed(0),
      r.rssAfter.toFixed(0),
      r.peak.toFixed(0),
    ]),
  );
  const soft = results.find((r) => r.target === "softswitch");
  const bmv2 = results.find((r) => r.target === "bmv2");
  if (soft && bmv2)
    console.log(
      `writes/s softswitch / bmv2: ${(soft.entriesPerSecond / bmv2.entriesPerSecond).toFixed(2)}`,
    );
}

await main();
