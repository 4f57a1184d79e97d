/** Paths and commands that tests and benchmarks share. Run from dist/topologies/, two levels below the root. */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/** Runs a make target in the repository; returns its exit status and combined output. */
export function runMake(target: string): { status: number | null; output: string } {
  const result = spawnSync("make", ["-s", target], { cwd: repoRoot, encoding: "utf8" });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}
