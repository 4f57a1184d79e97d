/**
 * Packets per second of the NVGRE program in the softswitch, in process, one core, as a leaf
 * fills up: 10 / 1,000 / 10,000 / 64,000 local endpoints (source guard on, the source_guard, mac
 * and arp_responder tables filled; bench/scenario.ts programLeafEndpoints), frames from the
 * endpoint whose entries were written last. Goal (issue 15): at 64,000 within 20 % of the rate at
 * 10. bmv2 is not measured here (its in-process API does not exist; `bench/veth-pps` compares
 * the two on veth). Prints figures; asserts nothing.
 *
 *   node dist/bench/leaf-scale.js [--endpoints 10,1000,10000,64000] [--seconds S] [--runs N]
 */
import { Command, Option } from "commander";
import { printTable } from "./report.js";
import { checkPath, measure, median, programmedDevice } from "./support/inprocess.js";
import { buildTraffic, nvgrePipeline, programLeafEndpoints } from "./support/scenario.js";

async function main(): Promise<void> {
  const options = new Command("leaf-scale")
    .addOption(new Option("--endpoints <list>", "endpoint counts").default("10,1000,10000,64000"))
    .addOption(new Option("--seconds <s>", "measuring time per run").default(1).argParser(Number))
    .addOption(new Option("--runs <n>", "runs per path (median)").default(5).argParser(Number))
    .parse()
    .opts<{ endpoints: string; seconds: number; runs: number }>();
  const counts = options.endpoints.split(",").map(Number);
  const traffic = await buildTraffic();
  const rows: {
    endpoints: number;
    entries: number;
    programMs: number;
    encap: number;
    decap: number;
  }[] = [];
  for (const endpoints of counts) {
    let entries = 0;
    const t0 = performance.now();
    const device = await programmedDevice(nvgrePipeline(), async (c) => {
      entries = await programLeafEndpoints(c, nvgrePipeline(), endpoints);
    });
    const programMs = performance.now() - t0;
    const paths = { encap: traffic.encap, decap: traffic.decap };
    for (const [name, t] of Object.entries(paths)) checkPath(`NVGRE ${name}`, device, t);
    for (const t of Object.values(paths)) measure(device, t, 0.5);
    const cpu = { encap: [] as number[], decap: [] as number[] };
    for (let r = 0; r < options.runs; r++) {
      cpu.encap.push(measure(device, paths.encap, options.seconds).cpu);
      cpu.decap.push(measure(device, paths.decap, options.seconds).cpu);
    }
    rows.push({
      endpoints,
      entries,
      programMs,
      encap: median(cpu.encap),
      decap: median(cpu.decap),
    });
    await device.close();
  }
  const first = rows[0];
  console.log(
    `NVGRE leaf in process, one core, node ${process.version}: pps per CPU second, median of ` +
      `${options.runs} × ${options.seconds} s; goal: the largest leaf within 20 % of the smallest`,
  );
  printTable(
    ["endpoints", "entries written", "programming s", "encap pps", "decap pps", "vs first"],
    rows.map((r) => [
      r.endpoints,
      r.entries,
      (r.programMs / 1000).toFixed(1),
      Math.round(r.encap),
      Math.round(r.decap),
      first
        ? `${((r.encap / first.encap) * 100).toFixed(0)} % / ${((r.decap / first.decap) * 100).toFixed(0)} %`
        : "",
    ]),
  );
}

await main();
