/**
 * `nvgre-ctl run` as a real process for the API tests: its JSON log lines collected, the TLS
 * address it bound read from its "API on" line, stopped by its PID (also when a test fails).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const cliMain = fileURLToPath(
  new URL("../../../controller/nvgre-ctl/main.js", import.meta.url),
);

export interface DaemonProcess {
  readonly child: ChildProcess;
  /** host:port of the mTLS listener, when one was asked for. */
  readonly tcpAddress: string | undefined;
  log(): string;
  stop(): Promise<void>;
}

/** Spawns the daemon; resolves with its exit code when it ends, or `running` once it serves. */
export function spawnDaemon(
  args: string[],
): Promise<{ exited: number | null; log: string } | { running: DaemonProcess }> {
  const child = spawn(process.execPath, [cliMain, "run", "--log-level", "info", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  return new Promise((resolve) => {
    const onData = (chunk: Buffer) => {
      log += chunk.toString("utf8");
      const line = log.split("\n").find((l) => l.includes('"msg":"API on '));
      if (!line) return;
      const tcp = (JSON.parse(line) as { tcp?: string }).tcp;
      resolve({
        running: {
          child,
          tcpAddress: tcp,
          log: () => log,
          async stop() {
            if (child.exitCode !== null || child.signalCode !== null) return;
            child.kill("SIGTERM");
            await exited;
          },
        },
      });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    exited.then((code) => resolve({ exited: code, log }));
  });
}

/** The daemon, running (a test failure with its log otherwise). */
export async function startDaemon(args: string[]): Promise<DaemonProcess> {
  const result = await spawnDaemon(args);
  if ("running" in result) return result.running;
  throw new Error(`the daemon exited (${result.exited}) instead of serving:\n${result.log}`);
}
