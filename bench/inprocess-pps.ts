/**
 * Packets per second through the softswitch's in-process port API (SoftswitchDevice.inject), one
 * core: the NVGRE program's encap and decap paths, beside the plain L2 program on the same
 * target in the same run. Both devices are programmed through their P4Runtime servers by the
 * project's client, as a controller would. Prints figures; asserts nothing.
 *
 *   node dist/bench/inprocess-pps.js [--seconds S] [--runs N]
 */
import { Command, Option } from "commander";
import { P4RuntimeClient } from "../controller/p4rt/client.js";
import { forwardingPipelineConfig, type Pipeline } from "../controller/p4rt/pipeline.js";
import { SoftswitchDevice } from "../softswitch/device.js";
import { startP4RuntimeServer } from "../softswitch/p4runtime/server.js";
import { printTable } from "./report.js";
import {
  buildTraffic,
  l2Pipeline,
  nvgrePipeline,
  programL2,
  programNvgreLeaf,
  SCALE,
  type Traffic,
} from "./scenario.js";

/** A device behind its own P4Runtime server, programmed by a client that then disconnects. */
async function programmedDevice(
  pipeline: Pipeline,
  program: (client: P4RuntimeClient) => Promise<unknown>,
): Promise<SoftswitchDevice> {
  const device = new SoftswitchDevice({ deviceId: 1, cpuPort: 510 });
  const server = await startP4RuntimeServer({ device, address: "127.0.0.1:0" });
  const client = new P4RuntimeClient({
    address: server.address,
    deviceId: 1,
    electionId: 1n,
    reconnect: false,
  });
  try {
    await client.connect();
    await client.setPipeline(forwardingPipelineConfig(pipeline));
    await program(client);
  } finally {
    client.close();
    await server.close();
  }
  return device;
}

/** Checks that every frame takes the path the bench claims to measure. */
function checkPath(name: string, device: SoftswitchDevice, traffic: Traffic): void {
  for (const frame of traffic.frames) {
    const out = device.inject(traffic.inPort, frame);
    if (out.length !== 1 || out[0]?.port !== traffic.outPort) {
      throw new Error(
        `${name}: a frame on port ${traffic.inPort} gave ${JSON.stringify(out.map((o) => o.port))}, ` +
          `not one frame on port ${traffic.outPort}: the bench's entries or frames are wrong`,
      );
    }
  }
}

/**
 * Injects the frames round-robin for about `seconds`. Returns packets per second of wall time
 * and per second of this process's CPU time: on a shared machine the second is the steadier
 * measure of what one core does.
 */
function measure(
  device: SoftswitchDevice,
  traffic: Traffic,
  seconds: number,
): { wall: number; cpu: number } {
  const { frames, inPort } = traffic;
  const n = frames.length;
  const budget = BigInt(Math.round(seconds * 1e9));
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  let packets = 0;
  let elapsed = 0n;
  // Check the clock every 4096 packets so reading it costs nothing measurable.
  while (elapsed < budget) {
    for (let i = 0; i < 4096; i++) device.inject(inPort, frames[(packets + i) % n] as Buffer);
    packets += 4096;
    elapsed = process.hrtime.bigint() - start;
  }
  const cpu = process.cpuUsage(cpu0);
  return {
    wall: packets / (Number(elapsed) / 1e9),
    cpu: packets / ((cpu.user + cpu.system) / 1e6),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

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
