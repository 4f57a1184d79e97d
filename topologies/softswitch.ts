/**
 * Starts our softswitch's CLI as its own process, like bmv2's, for tests and benchmarks. Without
 * a namespace it serves P4Runtime on loopback and has no data ports; inside a test namespace
 * (netns.ts) it gets the namespace's veth ends as data ports (libpcap) and serves P4Runtime on a
 * unix socket named after the namespace, as startBmv2 does.
 */
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestNamespace } from "./netns.js";
import {
  CPU_PORT,
  type RunningSwitch,
  type SwitchProcessOptions,
  startSwitchProcess,
} from "./switch-process.js";

/** The built CLI (package.json bin "softswitch"). */
export const softswitchCli = fileURLToPath(new URL("../softswitch/cli.js", import.meta.url));

export interface SoftswitchOptions extends SwitchProcessOptions {
  /** Run inside this namespace with its veth ends as data ports. */
  netns?: TestNamespace;
  /** --log-level (default info). */
  logLevel?: "trace" | "debug" | "info" | "warn" | "error" | "off";
}

export async function startSoftswitch(options: SoftswitchOptions = {}): Promise<RunningSwitch> {
  const deviceId = options.deviceId ?? 1;
  const netns = options.netns;
  const socket = netns ? join(tmpdir(), `${netns.name}.softswitch.sock`) : undefined;
  const args = (address: string) => [
    softswitchCli,
    "--device-id",
    String(deviceId),
    "--grpc-server-addr",
    address,
    "--cpu-port",
    String(CPU_PORT),
    ...(netns?.ports ?? []).flatMap((port) => ["-i", `${port}@${netns?.switchIface(port)}`]),
    "--log-level",
    options.logLevel ?? "info",
    "--no-p4",
  ];
  const running = await startSwitchProcess(
    "softswitch",
    netns ? "ip" : process.execPath,
    netns ? (address) => ["netns", "exec", netns.name, process.execPath, ...args(address)] : args,
    deviceId,
    socket ? `unix:${socket}` : options.address,
  );
  if (!socket) return running;
  return {
    ...running,
    async stop() {
      await running.stop();
      rmSync(socket, { force: true });
    },
  };
}
