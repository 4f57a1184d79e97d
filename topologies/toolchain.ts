/**
 * The one place that finds the p4lang toolchain (p4c and bmv2). Tests, benches and the Makefile
 * (through `toolchain-cli`) all ask here, so "is bmv2 installed?" has one answer everywhere.
 * Environment overrides: P4C (p4c-bm2-ss, the bmv2 backend of p4c), BMV2_SWITCH (simple_switch_grpc),
 * BMV2_CLI (simple_switch_CLI).
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

export type ToolName = "p4c-bm2-ss" | "simple_switch_grpc" | "simple_switch_CLI" | "bf-p4c";

interface ToolSpec {
  /** Executables tried on PATH, best first. */
  candidates: string[];
  envVar: string;
  versionArgs: string[];
  /** What a user loses when the tool is absent; printed by `make setup` and in skip reasons. */
  missingMeans: string;
}

const specs: Record<ToolName, ToolSpec> = {
  "p4c-bm2-ss": {
    candidates: ["p4c-bm2-ss"],
    envVar: "P4C",
    versionArgs: ["--version"],
    missingMeans:
      "the committed p4/build outputs are used as they are; `make p4` and the freshness check (make p4-check) cannot run",
  },
  simple_switch_grpc: {
    candidates: ["simple_switch_grpc"],
    envVar: "BMV2_SWITCH",
    versionArgs: ["--version"],
    missingMeans:
      "tests and benches that compare the softswitch with bmv2 are skipped; the softswitch runs everything else",
  },
  "bf-p4c": {
    // p4lang/p4c built with -DENABLE_TOFINO=ON installs the driver as p4c-barefoot too.
    candidates: ["bf-p4c", "p4c-barefoot"],
    envVar: "BF_P4C",
    versionArgs: ["--version"],
    missingMeans:
      "the Tofino (tofino, tofino2) programs are not compiled: `make p4` and `make p4-check` skip them, and tests of the committed Tofino build are skipped while p4/build/tna is absent",
  },
  simple_switch_CLI: {
    candidates: ["simple_switch_CLI"],
    envVar: "BMV2_CLI",
    versionArgs: ["--help"],
    missingMeans:
      "only the optional bmv2 Thrift CLI is missing; nothing in the test suite needs it",
  },
};

export type ToolStatus =
  | { name: ToolName; found: true; path: string; version: string }
  | { name: ToolName; found: false; reason: string; missingMeans: string };

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function searchPath(executable: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && isExecutable(join(dir, executable))) return join(dir, executable);
  }
  return undefined;
}

/** The tool's version line, wherever it prints it (p4c writes its version to stderr). */
function readVersion(path: string, args: string[]): string {
  const result = spawnSync(path, args, { encoding: "utf8", timeout: 10_000 });
  const lines = `${result.stdout ?? ""}\n${result.stderr ?? ""}`.split("\n").map((l) => l.trim());
  return (
    lines.find((line) => /\d+\.\d+/.test(line)) ?? lines.find((line) => line !== "") ?? "unknown"
  );
}

const cache = new Map<ToolName, ToolStatus>();

/** Finds one tool: the environment override first, then PATH. Cached per process. */
export function findTool(name: ToolName): ToolStatus {
  const cached = cache.get(name);
  if (cached) return cached;
  const spec = specs[name];
  const override = process.env[spec.envVar];
  let status: ToolStatus;
  if (override) {
    const path = override.includes("/") ? override : searchPath(override);
    status =
      path && isExecutable(path)
        ? { name, found: true, path, version: readVersion(path, spec.versionArgs) }
        : {
            name,
            found: false,
            reason: `${spec.envVar}=${override} is not an executable`,
            missingMeans: spec.missingMeans,
          };
  } else {
    const path = spec.candidates.map(searchPath).find((p) => p !== undefined);
    status = path
      ? { name, found: true, path, version: readVersion(path, spec.versionArgs) }
      : {
          name,
          found: false,
          reason: `${spec.candidates.join(" or ")} not on PATH (or set ${spec.envVar})`,
          missingMeans: spec.missingMeans,
        };
  }
  cache.set(name, status);
  return status;
}

export const allTools: ToolName[] = [
  "p4c-bm2-ss",
  "simple_switch_grpc",
  "simple_switch_CLI",
  "bf-p4c",
];

/**
 * For node:test's `skip` option: false when every named tool is present, otherwise the reason,
 * which the runner prints beside the skipped test.
 */
export function skipUnless(...names: ToolName[]): false | string {
  for (const name of names) {
    const status = findTool(name);
    if (!status.found) return `needs ${name}: ${status.reason}`;
  }
  return false;
}

/** The argument list that compiles a v1model program for bmv2 with p4c-bm2-ss. */
export function p4cCompileArgs(source: string, outJson: string, p4infoFiles: string[]): string[] {
  return ["--arch", "v1model", "--p4runtime-files", p4infoFiles.join(","), "-o", outJson, source];
}

/** A Tofino profile of the TNA program: its bf-p4c target, architecture and MAU stages. */
export interface TofinoProfile {
  target: "tofino" | "tofino2";
  arch: "tna" | "t2na";
  /** Match-action stages per gress the device has. */
  stages: number;
}

export const tofinoProfiles: TofinoProfile[] = [
  { target: "tofino", arch: "tna", stages: 12 },
  { target: "tofino2", arch: "t2na", stages: 20 },
];

/**
 * bf-p4c's arguments for one Tofino profile: P4Info with the standard P4Runtime externs (what
 * PI on bf_switchd serves), BF-RT schema, and `-g` for the resource logs.
 */
export function bfP4cCompileArgs(
  source: string,
  profile: TofinoProfile,
  outDir: string,
  p4infoFiles: string[],
): string[] {
  return [
    "--std",
    "p4-16",
    "--target",
    profile.target,
    "--arch",
    profile.arch,
    "-g",
    "--p4runtime-force-std-externs",
    "--p4runtime-files",
    p4infoFiles.join(","),
    "--bf-rt-schema",
    join(outDir, "bfrt.json"),
    "-o",
    outDir,
    source,
  ];
}
