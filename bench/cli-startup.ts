/**
 * nvgre-ctl start-up (issue 16: ≤ 120 ms for `status` and `--help`, where a bare `node -e 0`
 * takes about 80 ms): whole-process wall time of `--help`, of `status` against a socket nobody
 * listens on (start-up, argument parsing, one failed connect: exit 3) and of `validate` of the
 * example fabric (which loads the schema, the compiler and the P4Info), each beside `node -e 0`
 * on the same machine, alternated run by run. Medians of 15 runs after 2 warm-ups; the ratio
 * to `node -e 0` is the figure that travels between machines.
 *
 *   node dist/bench/cli-startup.js [--runs 15]
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { printTable } from "./report.js";

const cli = fileURLToPath(new URL("../controller/nvgre-ctl/main.js", import.meta.url));
const example = fileURLToPath(
  new URL("../../controller/intent/fabric.example.yaml", import.meta.url),
);

function wallMs(args: string[]): number {
  const start = process.hrtime.bigint();
  spawnSync(process.execPath, args, { stdio: "ignore", env: { ...process.env, NO_COLOR: "1" } });
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

const { runs } = new Command()
  .option("--runs <n>", "timed runs per command", (v) => Number(v), 15)
  .parse()
  .opts<{ runs: number }>();

const commands: [string, string[]][] = [
  ["nvgre-ctl --help", [cli, "--help"]],
  ["nvgre-ctl status (no daemon)", [cli, "-s", "/nonexistent/nvgre.sock", "status"]],
  ["nvgre-ctl validate -f fabric.example.yaml", [cli, "validate", "-f", example]],
];
const rows: (string | number)[][] = [];
for (const [name, args] of commands) {
  const own: number[] = [];
  const bare: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < runs + 2; i++) {
    const a = wallMs(args);
    const b = wallMs(["-e", "0"]);
    if (i < 2) continue;
    own.push(a);
    bare.push(b);
    ratios.push(a / b);
  }
  rows.push([
    name,
    median(own).toFixed(0),
    median(bare).toFixed(0),
    median(ratios).toFixed(2),
    (80 * median(ratios)).toFixed(0),
  ]);
}
printTable(["command", "median ms", "node -e 0 ms", "ratio", "ms where node -e 0 is 80 ms"], rows);
