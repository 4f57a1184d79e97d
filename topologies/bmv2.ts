/**
 * Starts bmv2's simple_switch_grpc for a test or benchmark, with no program. Without a
 * namespace it serves P4Runtime on loopback and has no data ports; inside a test namespace
 * (netns.ts) it gets the namespace's veth ends as data ports and serves P4Runtime on a unix
 * socket in the namespace's directory, which the test process reaches from outside it.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { freePort } from "./free-port.js";
import type { TestNamespace } from "./netns.js";
import {
  CPU_PORT,
  type RunningSwitch,
  type SwitchProcessOptions,
  startSwitchProcess,
} from "./switch-process.js";
import { findTool } from "./toolchain.js";

export { CPU_PORT, type RunningSwitch } from "./switch-process.js";

export interface Bmv2Options extends SwitchProcessOptions {
  /** Run inside this namespace with its veth ends as data ports. */
  netns?: TestNamespace;
  /** bmv2 --log-level of its console log (default trace: every packet's path). */
  logLevel?: "trace" | "debug" | "info" | "warn" | "error" | "off";
}

const thriftBuilds = new Map<string, boolean>();

/**
 * bmv2 built with Thrift (p4lang's packages are) also serves its Thrift API, on 9090 unless
 * told: a second switch on the same loopback would fail to bind it and exit. So each switch
 * gets a free port; a build without Thrift refuses the option, so it is given only where
 * `--help` lists it.
 */
export async function thriftPortArgs(binary: string): Promise<string[]> {
  let hasThrift = thriftBuilds.get(binary);
  if (hasThrift === undefined) {
    const help = spawnSync(binary, ["--help"], { encoding: "utf8" });
    hasThrift = `${help.stdout}${help.stderr}`.includes("--thrift-port");
    thriftBuilds.set(binary, hasThrift);
  }
  return hasThrift ? ["--thrift-port", String(await freePort())] : [];
}

export async function startBmv2(options: Bmv2Options = {}): Promise<RunningSwitch> {
  const tool = findTool("simple_switch_grpc");
  if (!tool.found) throw new Error(tool.reason);
  const deviceId = options.deviceId ?? 1;
  const netns = options.netns;
  const socket = netns ? join(netns.runtimeDir, "p4rt.sock") : undefined;
  const thrift = await thriftPortArgs(tool.path);
  const args = (address: string) => [
    "--device-id",
    String(deviceId),
    ...(netns?.ports ?? []).flatMap((port) => ["-i", `${port}@${netns?.switchIface(port)}`]),
    "--log-console",
    "--log-level",
    options.logLevel ?? "trace",
    ...thrift,
    "--no-p4",
    "--",
    "--grpc-server-addr",
    address,
    "--cpu-port",
    String(CPU_PORT),
  ];
  return startSwitchProcess(
    "bmv2",
    netns ? "ip" : tool.path,
    netns ? (address) => ["netns", "exec", netns.name, tool.path, ...args(address)] : args,
    deviceId,
    socket ? `unix:${socket}` : options.address,
  );
}
