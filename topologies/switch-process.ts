/**
 * Runs a P4Runtime switch (bmv2's simple_switch_grpc or our softswitch) as a child process on
 * a free loopback port for a test or benchmark, and stops it afterwards, also when the caller
 * fails. Its output goes to a temporary log file that failures can quote.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.js";

/** The CPU port every switch of the project runs with (the P4 program's CPU_PORT). */
export const CPU_PORT = 510;

export interface RunningSwitch {
  address: string;
  /** The switch's process id, when it runs as a child process (benches read its memory use). */
  pid?: number;
  deviceId: number;
  /** The switch's log so far, for assertion messages. */
  log(): string;
  /** Resolves with how the process ended (exit code or signal name) once it has. */
  ended: Promise<string>;
  stop(): Promise<void>;
}

export interface SwitchProcessOptions {
  deviceId?: number;
  /** host:port to serve P4Runtime on (a restarted switch reuses its predecessor's); free by default. */
  address?: string;
}

/**
 * Spawns `command` with the arguments `args(grpcAddress)` builds; resolves once spawned (the
 * client's connect() waits for the port to answer).
 */
export async function startSwitchProcess(
  name: string,
  command: string,
  args: (grpcAddress: string) => string[],
  deviceId: number,
  address?: string,
): Promise<RunningSwitch> {
  address ??= `127.0.0.1:${await freePort()}`;
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  const logPath = join(dir, "switch.log");
  const logFd = openSync(logPath, "w");
  const child = spawn(command, args(address), { stdio: ["ignore", logFd, logFd] });
  const exited = new Promise<string>((resolve) =>
    child.once("exit", (code, signal) => resolve(signal ?? `exit ${code}`)),
  );
  return {
    address,
    pid: child.pid as number,
    deviceId,
    log: () => readFileSync(logPath, "utf8"),
    ended: exited,
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
