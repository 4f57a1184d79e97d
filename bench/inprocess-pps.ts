/**
 * Packets per second through the softswitch's in-process port API (SoftswitchDevice.inject), one
 * core: the NVGRE program's encap and decap paths, beside the plain L2 program on the same
 * target in the same run. Both devices are programmed through their P4Runtime servers by the
 * project's client, as a controller would. Prints figures; asserts nothing.
 *
 *   node dist/bench/inprocess-pps.js [--seconds S] [--runs N]
 */
import { Command, Option } from "commander";
import { printTable } from "./report.js";
import { checkPath, measure, median, programmedDevice } from "./support/inprocess.js";
import {
  buildTraffic,
  l2Pipeline,
  nvgrePipeline,
  programL2,
  programNvgreLeaf,
  SCALE,
} from "./support/scenario.js";

async function main(): Promise<void> {
  const options = new Command("inprocess-pps")
    .addOption(
      new Option("--seconds <s>", "measuring time per run and path").default(2).argParser(Number),
    )
    .addOption(
      new Option("--runs <n>", "runs per path (the median is reported)")
        .default(5)
        .argParser(Number),
    )
    .parse()
    .opts<{ seconds: number; runs: number }>();

  const traffic = await buildTraffic();
  const nvgre = await programmedDevice(nvgrePipeline(), (c) =>
    programNvgreLeaf(c, nvgrePipeline()),
  );
  const l2 = await programmedDevice(l2Pipeline(), (c) => programL2(c, l2Pipeline(), 10_000));
  const paths = [
    { name: "NVGRE encap", device: nvgre, traffic: traffic.encap },
    { name: "NVGRE decap", device: nvgre, traffic: traffic.decap },
    { name: "L2 forward", device: l2, traffic: traffic.l2 },
  ];
  for (const p of paths) checkPath(p.name, p.device, p.traffic);
  // Warm-up: let V8 optimise every path before anything is timed.
  for (const p of paths) measure(p.device, p.traffic, 0.5);
  const wall = new Map<string, number[]>();
  const cpu = new Map<string, number[]>();
  // Interleaved runs, so drift in the machine's speed hits every path alike.
  for (let r = 0; r < options.runs; r++) {
    for (const p of paths) {
      const m = measure(p.device, p.traffic, options.seconds);
      wall.set(p.name, [...(wall.get(p.name) ?? []), m.wall]);
      cpu.set(p.name, [...(cpu.get(p.name) ?? []), m.cpu]);
    }
  }
  const med = (results: Map<string, number[]>, name: string) => median(results.get(name) ?? []);
  console.log(
    `softswitch in-process, one core, node ${process.version}; NVGRE leaf: ${SCALE.vsids} VSIDs, ` +
      `${SCALE.vsids * SCALE.macsPerVsid} remote MACs, ${SCALE.nves} NVEs; L2: 10,000 MACs; ` +
      `${traffic.encap.frames.length} flows; median of ${options.runs} × ${options.seconds} s`,
  );
  printTable(
    ["path", "pps (wall)", "min", "max", "pps (per CPU second)", "goal"],
    paths.map((p) => {
      const xs = wall.get(p.name) ?? [];
      return [
        p.name,
        Math.round(med(wall, p.name)),
        Math.round(Math.min(...xs)),
        Math.round(Math.max(...xs)),
        Math.round(med(cpu, p.name)),
        p.name.startsWith("NVGRE") ? "≥ 500,000" : "",
      ];
    }),
  );
  const ratio = (results: Map<string, number[]>, name: string) =>
    (med(results, name) / med(results, "L2 forward")).toFixed(2);
  printTable(
    ["ratio", "wall", "CPU", "goal"],
    ["NVGRE encap", "NVGRE decap"].map((name) => [
      `${name} / L2`,
      ratio(wall, name),
      ratio(cpu, name),
      "≥ 0.8",
    ]),
  );
}

await main();
