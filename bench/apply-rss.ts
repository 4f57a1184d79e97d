/**
 * The daemon's peak memory applying a large fabric file (issue 16: a 43 MB file killed the
 * daemon; goal: 100,000 endpoints applied with a peak RSS under 1 GB). The synthetic fabric
 * (bench/support/synthetic-fabric.ts: 16 switches) is written as a YAML file; 16 softswitch
 * processes serve its switches on loopback; the daemon (`nvgre-ctl run`) runs as its own
 * process and `nvgre-ctl apply -f` sends it the file. Printed: the file's size, the apply's
 * wall time and exit status, and the daemon's peak RSS (VmHWM from /proc). A second figure,
 * in its own process, is parse + validate + compile alone (what `nvgre-ctl validate` does).
 *
 *   node dist/bench/apply-rss.js [--endpoints 100000] [--format yaml|json]
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { stringify } from "yaml";
import { printTable } from "./report.js";
import { syntheticFabric } from "./support/synthetic-fabric.js";

const cli = fileURLToPath(new URL("../controller/nvgre-ctl/main.js", import.meta.url));
const softswitch = fileURLToPath(new URL("../softswitch/cli.js", import.meta.url));
const self = fileURLToPath(import.meta.url);

const program = new Command()
  .option("--endpoints <n>", "endpoints in the fabric", (v) => Number(v), 100_000)
  .option("--format <format>", "yaml or json (JSON is YAML too)", "yaml")
  .option("--apply-timeout <s>", "give up on the apply after S seconds", (v) => Number(v), 1800)
  .option("--offline-only <file>", "(internal) parse + validate + compile FILE, print peak RSS")
  .parse();
const options = program.opts<{
  endpoints: number;
  format: string;
  applyTimeout: number;
  offlineOnly?: string;
}>();

/** Peak resident set of a live process, in MB (the kernel's high-water mark). */
function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

async function offlineOnly(file: string): Promise<void> {
  const { loadFabricText } = await import("../controller/intent/load.js");
  const { compileFabric } = await import("../controller/compile/compile.js");
  const { loadNvgrePipeline } = await import("../controller/nvgre-build.js");
  const start = performance.now();
  const loaded = loadFabricText(readFileSync(file, "utf8"), file);
  const parsedMs = performance.now() - start;
  compileFabric(loaded.fabric, loadNvgrePipeline().index);
  console.log(
    JSON.stringify({
      parseValidateMs: Math.round(parsedMs),
      totalMs: Math.round(performance.now() - start),
      peakRssMb: peakRssMb(process.pid),
    }),
  );
}

async function waitFor(check: () => boolean, what: string, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "nvgre-apply-rss-"));
  const children: ChildProcess[] = [];
  try {
    const document = syntheticFabric(options.endpoints);
    // Ports of our own, away from the synthetic fabric's fixed ones (another run may hold them).
    const base = 20_000 + (process.pid % 2_000) * 10;
    for (const [i, sw] of document.switches.entries()) {
      sw.p4runtime.address = `127.0.0.1:${base + i}`;
    }
    const file = join(dir, `fabric.${options.format}`);
    writeFileSync(file, options.format === "json" ? JSON.stringify(document) : stringify(document));
    const fileMb = statSync(file).size / 1e6;

    const offline = JSON.parse(
      execFileSync(process.execPath, [self, "--offline-only", file], { encoding: "utf8" }),
    ) as { parseValidateMs: number; totalMs: number; peakRssMb: number };

    for (const sw of document.switches) {
      children.push(
        spawn(
          process.execPath,
          [
            softswitch,
            "--no-p4",
            "--device-id",
            String(sw.p4runtime.deviceId),
            "--grpc-server-addr",
            sw.p4runtime.address,
            "--cpu-port",
            "510",
            "--log-level",
            "warn",
          ],
          { stdio: "ignore" },
        ),
      );
    }
    const socket = join(dir, "api.sock");
    const daemon = spawn(
      process.execPath,
      [
        cli,
        "--socket",
        socket,
        "run",
        "--state-dir",
        join(dir, "state"),
        "--reconcile-interval",
        "0",
        "--log-level",
        "warn",
      ],
      { stdio: "ignore" },
    );
    children.push(daemon);
    const ctl = (...args: string[]) =>
      spawnSync(process.execPath, [cli, "--socket", socket, ...args], {
        encoding: "utf8",
        maxBuffer: 1 << 26,
        timeout: options.applyTimeout * 1000,
      });
    await waitFor(() => ctl("status", "-o", "json").status !== 3, "the daemon's API");
    const before = peakRssMb(daemon.pid as number);
    const start = performance.now();
    const applied = ctl("apply", "-f", file, "--no-progress", "-o", "json");
    const applyS = (performance.now() - start) / 1000;
    const written =
      applied.status === 0 || applied.status === 5
        ? (JSON.parse(applied.stdout) as { switches: { written: number }[] }).switches.reduce(
            (sum, s) => sum + s.written,
            0,
          )
        : 0;
    printTable(
      ["measure", "figure"],
      [
        ["endpoints / switches", `${options.endpoints} / ${document.switches.length}`],
        [`fabric file (${options.format})`, `${fileMb.toFixed(1)} MB`],
        [
          "parse + validate + compile, own process",
          `${offline.totalMs} ms (parse + validate ${offline.parseValidateMs} ms), peak RSS ${offline.peakRssMb} MB`,
        ],
        ["daemon peak RSS before the apply", `${before} MB`],
        [
          "nvgre-ctl apply -f",
          applied.status === null
            ? `did not finish within ${options.applyTimeout} s`
            : `exit ${applied.status}, ${applyS.toFixed(1)} s, ${written.toLocaleString("en-US")} entities written`,
        ],
        ["daemon peak RSS (VmHWM) after the apply", `${peakRssMb(daemon.pid as number)} MB`],
      ],
    );
    if (applied.status !== 0) console.log(applied.stderr.trim());
  } finally {
    for (const child of children) child.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
}

if (options.offlineOnly) await offlineOnly(options.offlineOnly);
else await main();
