/**
 * Starts bmv2's simple_switch_grpc for a test, on loopback only, and stops it afterwards,
 * also when the test fails. Its log goes to a temporary file named in failures.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findTool } from "./toolchain.js";

export const CPU_PORT = 510;

export interface RunningSwitch {
  address: string;
  deviceId: number;
  /** The switch's log so far, for assertion messages. */
  log(): string;
  stop(): Promise<void>;
}

/** A free TCP port on loopback (bound and released; bmv2 binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(),
      );
    });
  });
}

export async function startBmv2(options: { deviceId?: number } = {}): Promise<RunningSwitch> {
  const tool = findTool("simple_switch_grpc");
  if (!tool.found) throw new Error(tool.reason);
  const deviceId = options.deviceId ?? 1;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "bmv2-"));
  const logPath = join(dir, "switch.log");
  const logFd = openSync(logPath, "w");
  const child: ChildProcess = spawn(
    tool.path,
    [
      "--device-id",
      String(deviceId),
      "--log-console",
      "--no-p4",
      "--",
      "--grpc-server-addr",
      `127.0.0.1:${port}`,
      "--cpu-port",
      String(CPU_PORT),
    ],
    { stdio: ["ignore", logFd, logFd] },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    address: `127.0.0.1:${port}`,
    deviceId,
    log: () => readFileSync(logPath, "utf8"),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const killer = setTimeout(() => child.kill("SIGKILL"), 3000);
        await exited;
        clearTimeout(killer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
