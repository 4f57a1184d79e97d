/**
 * Packets per second through libpcap ports on veth: the softswitch CLI beside bmv2's
 * simple_switch_grpc (console logging off) in the same run, each inside a network namespace of
 * its own with the same NVGRE JSON, the same entries (through the project's P4Runtime client)
 * and the same traffic, for the encap and the decap path. A generator in the namespace
 * (veth-traffic.ts) sends as fast as it can; the figure is the switch's output rate. Needs root
 * (namespaces); bmv2 is skipped, saying so, when it is not installed. Prints figures only.
 *
 *   node dist/bench/veth-pps.js [--seconds S]
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, Option } from "commander";
import { P4RuntimeClient } from "../controller/p4rt/client.js";
import { forwardingPipelineConfig } from "../controller/p4rt/pipeline.js";
import { startBmv2 } from "../topologies/bmv2.js";
import { TestNamespace } from "../topologies/netns.js";
import { startSoftswitch } from "../topologies/softswitch.js";
import type { RunningSwitch } from "../topologies/switch-process.js";
import { findTool } from "../topologies/toolchain.js";
import { printTable } from "./report.js";
import { buildTraffic, nvgrePipeline, programNvgreLeaf, type Traffic } from "./support/scenario.js";

const PORTS = [1, 2, 3, 4] as const;
const generator = fileURLToPath(new URL("./veth-traffic.js", import.meta.url));

interface PathResult {
  sent: number;
  sendErrors: number;
  received: number;
  txSeconds: number;
  rxSeconds: number;
}

type Start = (netns: TestNamespace) => Promise<RunningSwitch>;

const targets: { name: string; skip: string | false; start: Start }[] = [
  {
    name: "softswitch",
    skip: false,
    start: (netns) => startSoftswitch({ netns, logLevel: "warn" }),
  },
  {
    name: "bmv2",
    skip: (() => {
      const tool = findTool("simple_switch_grpc");
      return tool.found ? false : tool.reason;
    })(),
    start: (netns) => startBmv2({ netns, logLevel: "off" }),
  },
];

async function runTarget(
  start: Start,
  paths: [string, Traffic][],
  seconds: number,
  dir: string,
): Promise<Map<string, PathResult>> {
  const netns = TestNamespace.create(PORTS);
  let sw: RunningSwitch | undefined;
  let client: P4RuntimeClient | undefined;
  try {
    sw = await start(netns);
    client = new P4RuntimeClient({
      address: sw.address,
      deviceId: sw.deviceId,
      electionId: 1n,
      reconnect: false,
    });
    await client.connect();
    const pipeline = nvgrePipeline();
    await client.setPipeline(forwardingPipelineConfig(pipeline));
    await programNvgreLeaf(client, pipeline);
    const results = new Map<string, PathResult>();
    for (const [name, traffic] of paths) {
      const file = join(dir, `${name}.hex`);
      writeFileSync(file, traffic.frames.map((f) => f.toString("hex")).join("\n"));
      const run = netns.exec(process.execPath, [
        generator,
        "--tx",
        netns.hostIface(traffic.inPort),
        "--rx",
        netns.hostIface(traffic.outPort),
        "--frames",
        file,
        "--seconds",
        String(seconds),
      ]);
      const out = execFileSync(run.command, run.args, { encoding: "utf8", timeout: 300_000 });
      results.set(name, JSON.parse(out.trim().split("\n").pop() ?? "{}") as PathResult);
    }
    return results;
  } finally {
    client?.close();
    await sw?.stop();
    netns.remove();
  }
}

async function main(): Promise<void> {
  const options = new Command("veth-pps")
    .addOption(new Option("--seconds <s>", "sending time per path").default(3).argParser(Number))
    .parse()
    .opts<{ seconds: number }>();
  if (process.getuid?.() !== 0) {
    console.log("veth-pps: SKIPPED (needs root to create network namespaces and veth pairs)");
    return;
  }
  const traffic = await buildTraffic();
  const paths: [string, Traffic][] = [
    ["NVGRE encap", traffic.encap],
    ["NVGRE decap", traffic.decap],
  ];
  const dir = mkdtempSync(join(tmpdir(), "veth-pps-"));
  const rows: (string | number)[][] = [];
  const pps = new Map<string, number>();
  try {
    for (const target of targets) {
      if (target.skip) {
        console.log(`${target.name}: SKIPPED (${target.skip})`);
        continue;
      }
      const results = await runTarget(target.start, paths, options.seconds, dir);
      for (const [path, r] of results) {
        const rate = r.rxSeconds > 0 ? r.received / r.rxSeconds : 0;
        pps.set(`${target.name} ${path}`, rate);
        rows.push([target.name, path, Math.round(rate), r.sent, r.received, r.sendErrors]);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    `veth through libpcap, NVGRE program, ${traffic.encap.frames.length} flows, frames offered for ${options.seconds} s per path as fast as the generator sends`,
  );
  printTable(["switch", "path", "pps out", "sent", "received", "send errors"], rows);
  for (const [path] of paths) {
    const soft = pps.get(`softswitch ${path}`);
    const bmv2 = pps.get(`bmv2 ${path}`);
    if (soft && bmv2)
      console.log(`${path}: softswitch / bmv2 = ${(soft / bmv2).toFixed(2)} (goal ≥ 2)`);
  }
}

await main();
