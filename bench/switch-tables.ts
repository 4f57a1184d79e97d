/**
 * The switch's side of table writes: for each switch (the softswitch CLI, and bmv2's
 * simple_switch_grpc when installed), started fresh as its own process, the project's client
 * writes 100,000 exact entries at batch 1,000 into the 128K-entry table of the write_scale
 * fixture, and so does a bare grpc-js loop with the same requests pre-encoded (how fast the
 * switch itself applies writes); printed: entries/s of each, and the switch process's resident
 * memory before and after the client's writes (/proc: VmRSS now, VmHWM peak). Prints figures;
 * asserts nothing.
 *
 *   node dist/bench/switch-tables.js [--entries N] [--batch B] [--targets softswitch,bmv2]
 *                                    [--repeat 3]
 */
import { readFileSync } from "node:fs";
import { Command, Option } from "commander";
import { P4RuntimeClient } from "../controller/p4rt/client.js";
import { EntityBuilder } from "../controller/p4rt/entities.js";
import { forwardingPipelineConfig, loadPipeline } from "../controller/p4rt/pipeline.js";
import { printTable } from "./report.js";
import {
  type BenchTarget,
  bareWriter,
  benchTargets,
  hostUpdates,
  preEncodedWrites,
  writeScaleBuild,
} from "./support/switches.js";

const electionId = 1n;

/** Resident and peak resident memory of a process, MB (Linux /proc). */
function memoryMB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1]);
  return { rss: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 };
}

interface Result {
  target: string;
  /** Written by the project's client. */
  entriesPerSecond: number;
  /** The same entries pre-encoded, sent by a bare grpc-js loop: the switch's own rate. */
  bareEntriesPerSecond: number;
  rssBefore: number;
  rssAfter: number;
  peak: number;
}

/** One fresh switch, written by `mode`; the switch's memory before and after. */
async function measure(
  target: BenchTarget,
  mode: "client" | "bare",
  entries: number,
  batch: number,
): Promise<{ entriesPerSecond: number; rssBefore: number; rssAfter: number; peak: number }> {
  const sw = await target.start();
  const client = new P4RuntimeClient({
    address: sw.address,
    deviceId: sw.deviceId,
    electionId,
    reconnect: false,
  });
  try {
    await client.connect();
    const pipeline = loadPipeline(writeScaleBuild);
    await client.setPipeline(forwardingPipelineConfig(pipeline));
    const pid = sw.pid as number;
    const before = memoryMB(pid);
    const builder = new EntityBuilder(pipeline.index);
    let seconds: number;
    if (mode === "client") {
      const t0 = process.hrtime.bigint();
      await client.write(hostUpdates(builder, entries), { batchSize: batch });
      seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    } else {
      const requests = preEncodedWrites(builder, entries, batch, sw.deviceId, electionId);
      const bare = bareWriter(sw.address);
      const t0 = process.hrtime.bigint();
      await bare.send(requests);
      seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      bare.close();
    }
    const after = memoryMB(pid);
    return {
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
    .addOption(
      new Option("--repeat <n>", "alternating runs per switch and sender; the best is reported")
        .default(3)
        .argParser(Number),
    )
    .parse()
    .opts<{ entries: number; batch: number; targets: string; repeat: number }>();
  const targets = benchTargets(options.targets.split(",")).filter((target) => {
    if (!target.available) console.log(`${target.name}: SKIPPED (${target.reason})`);
    return target.available;
  });
  const results = new Map<string, Result>();
  // Switches and senders alternate, so a burst of load on the shared machine hits all alike.
  for (let run = 0; run < options.repeat; run++) {
    for (const target of targets) {
      const client = await measure(target, "client", options.entries, options.batch);
      const bare = await measure(target, "bare", options.entries, options.batch);
      const best = results.get(target.name);
      results.set(target.name, {
        target: target.name,
        ...(best && best.entriesPerSecond >= client.entriesPerSecond ? best : client),
        bareEntriesPerSecond: Math.max(best?.bareEntriesPerSecond ?? 0, bare.entriesPerSecond),
      });
    }
  }
  console.log(
    `switch side of table writes: ${options.entries.toLocaleString("en-US")} exact entries, batch ${options.batch}, best of ${options.repeat} alternating runs; client = the project's P4Runtime client, bare = pre-encoded requests from a bare grpc-js loop (goals: softswitch ≥ 2× bmv2 writes/s; RSS ≤ 200 MB)`,
  );
  printTable(
    [
      "switch",
      "client entries/s",
      "bare entries/s",
      "RSS before MB",
      "RSS after MB",
      "peak RSS MB",
    ],
    [...results.values()].map((r) => [
      r.target,
      Math.round(r.entriesPerSecond),
      Math.round(r.bareEntriesPerSecond),
      r.rssBefore.toFixed(0),
      r.rssAfter.toFixed(0),
      r.peak.toFixed(0),
    ]),
  );
  const soft = results.get("softswitch");
  const bmv2 = results.get("bmv2");
  if (soft && bmv2)
    console.log(
      `writes/s softswitch / bmv2: client ${(soft.entriesPerSecond / bmv2.entriesPerSecond).toFixed(2)}, bare ${(soft.bareEntriesPerSecond / bmv2.bareEntriesPerSecond).toFixed(2)}`,
    );
}

await main();
