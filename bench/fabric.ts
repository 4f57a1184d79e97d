/**
 * Fabric benchmark (issue 7), on every available target, in a Mininet fabric (needs root):
 *   - iperf3 TCP throughput VM to VM across the fabric through NVGRE (blue-web1 on leaf1 →
 *     blue-web2 on leaf2: leaf, spine, leaf) beside the same two VMs over a plain L2 P4 path
 *     of as many switches on the same target (test/fixtures/p4/l2_switch.p4), in the same run:
 *     the ratio says what NVGRE costs (goal ≥ 0.8);
 *   - the NVGRE throughput of the softswitch over bmv2's (goal ≥ 2);
 *   - live-migration convergence, median of N moves of blue-web1 between leaf1 and leaf2 while
 *     blue-web3 pings it every 10 ms: from the controller command to the first delivered reply
 *     (goal under 100 ms).
 * It prints figures; nothing here is a pass/fail test.
 *
 *   node dist/bench/fabric.js [--targets softswitch,bmv2] [--seconds 10] [--streams 4] [--moves 10]
 */
import { fileURLToPath } from "node:url";
import Table from "cli-table3";
import { Command } from "commander";
import { EntityBuilder } from "../controller/p4rt/entities.js";
import { ensurePipeline, loadPipeline } from "../controller/p4rt/pipeline.js";
import { ControllerDaemon } from "../topologies/demo/daemon.js";
import {
  type BaselineInfo,
  Fabric,
  type SwitchTarget,
  switchClient,
} from "../topologies/demo/fabric.js";
import { migrate } from "../topologies/demo/migration.js";
import { skipUnlessMininet } from "../topologies/demo/mininet.js";
import { hostAddress, iperf } from "../topologies/demo/traffic.js";
import { benchTargets } from "./support/switches.js";

const l2Build = {
  json: fileURLToPath(new URL("../../test/fixtures/build/l2_switch.json", import.meta.url)),
  p4info: fileURLToPath(new URL("../../test/fixtures/build/l2_switch.p4info.bin", import.meta.url)),
};

interface TargetResult {
  target: SwitchTarget;
  nvgreMbps: number;
  baselineMbps: number;
  convergenceMs: number[];
  lost: number[];
}

/** Programs the baseline chain: each switch forwards a's MAC to port 1 and b's to port 2. */
async function programBaseline(baseline: BaselineInfo): Promise<void> {
  const pipeline = loadPipeline(l2Build);
  const builder = new EntityBuilder(pipeline.index);
  for (const sw of baseline.switches) {
    const client = switchClient(sw, 1n);
    try {
      await client.connect();
      await ensurePipeline(client, pipeline);
      await client.write(
        [
          [baseline.a.mac, 1],
          [baseline.b.mac, 2],
        ].map(([mac, port]) => ({
          type: "INSERT" as const,
          entity: builder.tableEntry("mac_table", {
            match: { "hdr.ethernet.dst": mac as string },
            target: { action: "forward", params: { port: port as number } },
          }),
        })),
      );
    } finally {
      client.close();
    }
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

async function measure(
  target: SwitchTarget,
  options: { seconds: number; streams: number; moves: number },
): Promise<TargetResult> {
  const fabric = await Fabric.start({ target, baselinePath: true });
  let controller: ControllerDaemon | undefined;
  try {
    controller = await ControllerDaemon.start(fabric);
    await controller.apply(fabric.fabricFile);
    const daemon = controller;
    const baseline = fabric.description.baseline;
    if (!baseline) throw new Error("the fabric has no baseline path");
    await programBaseline(baseline);
    const run = { seconds: options.seconds, streams: options.streams };
    const nvgre = await iperf(
      fabric,
      "blue-web1",
      "blue-web2",
      hostAddress(fabric.vm("blue-web2").ipv4),
      run,
    );
    const plain = await iperf(
      fabric,
      baseline.a.vm,
      baseline.b.vm,
      hostAddress(baseline.b.ipv4),
      run,
    );
    const convergenceMs: number[] = [];
    const lost: number[] = [];
    for (let i = 0; i < options.moves; i++) {
      const to = fabric.vm("blue-web1").leaf === "leaf1" ? "leaf2" : "leaf1";
      // The move as one API request, as an orchestrator sends it (no CLI start-up timed).
      const moved = await migrate(
        fabric,
        "blue-web1",
        to,
        "blue-web3",
        (vm, place) => daemon.moveEndpointByApi(vm, place),
        { settleMs: 500 },
      );
      if (moved.convergenceMs !== undefined) convergenceMs.push(moved.convergenceMs);
      lost.push(moved.lost);
    }
    return {
      target,
      nvgreMbps: nvgre.bitsPerSecond / 1e6,
      baselineMbps: plain.bitsPerSecond / 1e6,
      convergenceMs,
      lost,
    };
  } finally {
    await controller?.stop();
    await fabric.stop();
  }
}

async function main(options: { targets: string; seconds: string; streams: string; moves: string }) {
  const mininet = skipUnlessMininet();
  if (mininet) {
    console.log(`fabric bench: skipped (${mininet})`);
    return;
  }
  const results: TargetResult[] = [];
  for (const target of benchTargets(options.targets.split(","))) {
    if (!target.available) {
      console.log(`fabric bench on ${target.name}: skipped (${target.reason})`);
      continue;
    }
    console.log(`fabric bench on ${target.name}: 2 spines × 3 leaves, measuring…`);
    results.push(
      await measure(target.name as SwitchTarget, {
        seconds: Number(options.seconds),
        streams: Number(options.streams),
        moves: Number(options.moves),
      }),
    );
  }
  const table = new Table({
    head: [
      "target",
      "NVGRE Mbit/s",
      "plain L2 Mbit/s",
      "NVGRE / L2 (goal ≥ 0.8)",
      "migration median ms (goal < 100)",
      "lost per move (median)",
    ],
    style: { head: [], border: [] },
  });
  for (const r of results) {
    table.push([
      r.target,
      r.nvgreMbps.toFixed(1),
      r.baselineMbps.toFixed(1),
      (r.nvgreMbps / r.baselineMbps).toFixed(2),
      r.convergenceMs.length > 0
        ? `${median(r.convergenceMs).toFixed(0)} (${r.convergenceMs.length} moves)`
        : "no move converged",
      r.lost.length > 0 ? String(median(r.lost)) : "-",
    ]);
  }
  console.log(table.toString());
  const soft = results.find((r) => r.target === "softswitch");
  const bmv2 = results.find((r) => r.target === "bmv2");
  if (soft && bmv2) {
    console.log(
      `softswitch / bmv2 NVGRE throughput: ${(soft.nvgreMbps / bmv2.nvgreMbps).toFixed(2)} (goal ≥ 2)`,
    );
  }
}

await new Command("fabric-bench")
  .description(
    "NVGRE fabric throughput vs a plain L2 P4 path, softswitch vs bmv2, migration convergence",
  )
  .option("--targets <list>", "switch targets", "softswitch,bmv2")
  .option("--seconds <n>", "iperf3 duration per run", "10")
  .option("--streams <n>", "iperf3 parallel TCP streams", "4")
  .option("--moves <n>", "live migrations for the convergence median", "10")
  .action(main)
  .parseAsync();
