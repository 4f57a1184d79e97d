/**
 * Packets per second through libpcap ports on veth: the softswitch CLI beside bmv2's
 * simple_switch_grpc (console logging off) in the same run, each inside a network namespace of
 * its own with the same NVGRE JSON, the same entries (through the project's P4Runtime client)
 * and the same traffic, for the encap and the decap path. A generator in the namespace
 * (veth-traffic.ts) sends as fast as it can; the figure is the switch's output rate. Needs root
 * (namespaces); bmv2 is skipped, saying so, when it is not installed. Prints figures only.
 * `--endpoints 10,1000,10000,64000` fills the leaf as `bench/leaf-scale` does (source guard,
 * mac and arp_responder entries per endpoint, the measured endpoint's written last), one run per
 * count: bmv2 beside the softswitch as the leaf grows (issue 15).
 *
 *   node dist/bench/veth-pps.js [--seconds S] [--endpoints LIST]
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
import {
  buildTraffic,
  nvgrePipeline,
  programLeafEndpoints,
  programNvgreLeaf,
  type Traffic,
} from "./support/scenario.js";

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

/** A path's name in the table, with the leaf's endpoints when the run filled it. */
const labelOf = (path: string, endpoints: number | undefined) =>
  endpoints === undefined ? path : `${path}, ${endpoints} endpoints`;

async function runTarget(
  start: Start,
  paths: [string, Traffic][],
  seconds: number,
  dir: string,
  endpoints: number | undefined,
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
    if (endpoints === undefined) await programNvgreLeaf(client, pipeline);
    else await programLeafEndpoints(client, pipeline, endpoints);
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
    .addOption(new Option("--endpoints <list>", "fill the leaf with these endpoint counts"))
    .parse()
    .opts<{ seconds: number; endpoints?: string }>();
  const counts: (number | undefined)[] = options.endpoints?.split(",").map(Number) ?? [undefined];
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
      for (const count of counts) {
        const results = await runTarget(target.start, paths, options.seconds, dir, count);
        for (const [path, r] of results) {
          const rate = r.rxSeconds > 0 ? r.received / r.rxSeconds : 0;
          const label = labelOf(path, count);
          pps.set(`${target.name} ${label}`, rate);
          rows.push([target.name, label, Math.round(rate), r.sent, r.received, r.sendErrors]);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    `veth through libpcap, NVGRE program, ${traffic.encap.frames.length} flows, frames offered for ${options.seconds} s per path as fast as the generator sends`,
  );
  printTable(["switch", "path", "pps out", "sent", "received", "send errors"], rows);
  for (const count of counts) {
    for (const [path] of paths) {
      const label = labelOf(path, count);
      const soft = pps.get(`softswitch ${label}`);
      const bmv2 = pps.get(`bmv2 ${label}`);
      if (soft && bmv2)
        console.log(`${label}: softswitch / bmv2 = ${(soft / bmv2).toFixed(2)} (goal ≥ 2)`);
    }
  }
}

await main();
