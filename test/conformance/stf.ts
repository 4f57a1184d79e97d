/**
 * Local conformance run: p4c's `testdata/p4_16_samples/*-bmv2.p4` v1model programs that have an
 * `.stf` file, compiled with the installed p4c-bm2-ss and run on a target through the STF driver.
 * The samples are not part of this repository: point --corpus at a checkout of p4c's
 * testdata/p4_16_samples. Every test ends in one category, so the figures explain themselves:
 *
 *   node dist/test/conformance/stf.js --corpus /work/stf-corpus/testdata/p4_16_samples \
 *     --build /work/stf-corpus/build [--target softswitch|bmv2] [--only REGEX] [--markdown FILE]
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { promisify } from "node:util";
import { Command } from "commander";
import { loadPipeline } from "../../controller/p4rt/pipeline.js";
import { ProgramError, UnsupportedConstructError } from "../../softswitch/program/errors.js";
import { SimpleSwitch } from "../../softswitch/v1model/switch.js";
import { findTool, p4cCompileArgs } from "../../topologies/toolchain.js";
import { type DataplaneTarget, type TargetKind, targets } from "../support/targets.js";
import { startBmv2Pcap } from "./bmv2-pcap.js";
import { P4RuntimeStfTarget, UnsendableFrame } from "./stf-p4runtime.js";
import { parseStf, StfSyntaxError } from "./stf-parser.js";
import { StfProgram, StfResolveError } from "./stf-program.js";
import { runStf, type StfTarget } from "./stf-runner.js";
import { SoftswitchStfTarget } from "./stf-softswitch.js";

const run = promisify(execFile);

export type Category =
  | "pass"
  | "p4c compile failure"
  | "target rejects the program"
  | "STF needs what bmv2stf cannot do"
  | "packet processing fault"
  | "frames under 14 bytes (veth cannot send them)"
  | "output mismatch"
  | "target failure";

export interface TestResult {
  name: string;
  category: Category;
  detail: string;
  commandErrors: string[];
}

interface Sample {
  name: string;
  p4: string;
  stf: string;
}

/** The v1model samples with an STF file (psa/pna samples need other bmv2 targets). */
export function findSamples(corpus: string, only?: RegExp): Sample[] {
  return readdirSync(corpus)
    .filter((f) => f.endsWith("-bmv2.p4"))
    .sort()
    .map((f) => ({
      name: basename(f, ".p4"),
      p4: join(corpus, f),
      stf: join(corpus, f.replace(/\.p4$/, ".stf")),
    }))
    .filter((s) => existsSync(s.stf) && /include\s*<v1model\.p4>/.test(readFileSync(s.p4, "utf8")))
    .filter((s) => !only || only.test(s.name));
}

interface Compiled {
  json: string;
  p4infoBin: string;
}

/** Compiles once per source change; returns the outputs or the compiler's first error. */
async function compile(
  sample: Sample,
  corpus: string,
  build: string,
): Promise<Compiled | { error: string }> {
  const json = join(build, `${sample.name}.json`);
  const p4info = join(build, `${sample.name}.p4info.txtpb`);
  const p4infoBin = join(build, `${sample.name}.p4info.bin`);
  const fresh = (path: string) =>
    existsSync(path) && statSync(path).mtimeMs > statSync(sample.p4).mtimeMs;
  if (fresh(json) && fresh(p4infoBin)) return { json, p4infoBin };
  const p4c = findTool("p4c-bm2-ss");
  if (!p4c.found) return { error: p4c.reason };
  try {
    await run(p4c.path, p4cCompileArgs(basename(sample.p4), json, [p4info, p4infoBin]), {
      cwd: corpus,
      timeout: 120_000,
      maxBuffer: 16 << 20,
    });
    return { json, p4infoBin };
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? (error as Error).message);
    const line = stderr.split("\n").find((l) => /error/i.test(l)) ?? stderr.split("\n")[0];
    return { error: (line ?? "").trim() };
  }
}

export interface CompiledSample extends Compiled {
  /** Every port the STF file sends to or expects on. */
  ports: number[];
  /** The ports it sends to. */
  inputPorts: number[];
}

export type TargetFactory = (sample: CompiledSample) => Promise<{
  target: StfTarget;
  faults: () => string[];
  close: () => Promise<void>;
}>;

export const softswitchTarget: TargetFactory = async (sample) => {
  const faults: string[] = [];
  const sw = new SimpleSwitch(readFileSync(sample.json, "utf8"), {
    onFault: (error, port) => faults.push(`port ${port}: ${(error as Error).stack ?? error}`),
  });
  return { target: new SoftswitchStfTarget(sw), faults: () => faults, close: async () => {} };
};

/** The target refused to load the program (e.g. SetForwardingPipelineConfig failed). */
class TargetRejectsProgram extends Error {}

/**
 * A target of the data-plane harness (test/support/targets.ts), programmed through P4Runtime:
 * bmv2 in a network namespace with veth ports, or the softswitch behind its P4Runtime server.
 */
const harnessTarget =
  (kind: TargetKind): TargetFactory =>
  async (sample) => {
    const factory = targets().find((t) => t.kind === kind);
    if (!factory || factory.skip) throw new Error(`${kind}: ${factory?.skip || "no such target"}`);
    let target: DataplaneTarget;
    try {
      target = await factory.start({
        ports: sample.ports,
        pipeline: loadPipeline({ json: sample.json, p4info: sample.p4infoBin }),
      });
    } catch (error) {
      throw new TargetRejectsProgram((error as Error).message);
    }
    return {
      target: P4RuntimeStfTarget.onHarness(target),
      faults: () => [],
      close: () => target.close(),
    };
  };

/** bmv2 simple_switch_grpc with pcap-file ports, as p4c's bmv2stf.py runs it. */
export const bmv2PcapTarget: TargetFactory = async (sample) => {
  const pipeline = loadPipeline({ json: sample.json, p4info: sample.p4infoBin });
  let sw: Awaited<ReturnType<typeof startBmv2Pcap>>;
  try {
    sw = await startBmv2Pcap(sample.ports, sample.inputPorts, pipeline);
  } catch (error) {
    throw new TargetRejectsProgram((error as Error).message);
  }
  return {
    target: new P4RuntimeStfTarget(sw.client, pipeline.index, sw.io),
    faults: () => [],
    close: () => sw.close(),
  };
};

export async function runSample(
  sample: Sample,
  compiled: Compiled,
  factory: TargetFactory,
): Promise<TestResult> {
  const base = { name: sample.name, commandErrors: [] as string[] };
  let statements: ReturnType<typeof parseStf>;
  try {
    statements = parseStf(readFileSync(sample.stf, "utf8"));
  } catch (error) {
    if (!(error instanceof StfSyntaxError)) throw error;
    return { ...base, category: "STF needs what bmv2stf cannot do", detail: error.message };
  }
  const program = new StfProgram(JSON.parse(readFileSync(compiled.json, "utf8")));
  const ports = new Set<number>();
  const inputPorts = new Set<number>();
  for (const { command } of statements) {
    if (command.kind === "packet" || command.kind === "expect") ports.add(command.port);
    if (command.kind === "packet") inputPorts.add(command.port);
  }
  let made: Awaited<ReturnType<TargetFactory>>;
  try {
    const sorted = (set: Set<number>) => [...set].sort((a, b) => a - b);
    made = await factory({ ...compiled, ports: sorted(ports), inputPorts: sorted(inputPorts) });
  } catch (error) {
    if (error instanceof ProgramError) {
      const kind = error instanceof UnsupportedConstructError ? "unsupported" : "rejected";
      return {
        ...base,
        category: "target rejects the program",
        detail: `${kind}: ${error.message}`,
      };
    }
    if (error instanceof TargetRejectsProgram) {
      return { ...base, category: "target rejects the program", detail: error.message };
    }
    return { ...base, category: "target failure", detail: (error as Error).message };
  }
  try {
    const result = await runStf(statements, program, made.target);
    const faults = made.faults();
    const commandErrors = result.commandErrors;
    if (faults.length > 0) {
      return {
        ...base,
        commandErrors,
        category: "packet processing fault",
        detail: faults[0] ?? "",
      };
    }
    if (result.pass) return { ...base, commandErrors, category: "pass", detail: "" };
    return { ...base, commandErrors, category: "output mismatch", detail: result.mismatch ?? "" };
  } catch (error) {
    if (error instanceof UnsendableFrame) {
      return {
        ...base,
        category: "frames under 14 bytes (veth cannot send them)",
        detail: error.message,
      };
    }
    if (error instanceof StfResolveError) {
      return { ...base, category: "STF needs what bmv2stf cannot do", detail: error.message };
    }
    return { ...base, category: "target failure", detail: (error as Error).stack ?? String(error) };
  } finally {
    await made.close();
  }
}

/** Runs `work` over `items` with at most `limit` in flight, keeping the input order. */
async function pool<T, R>(items: readonly T[], limit: number, work: (t: T) => Promise<R>) {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export function summarize(results: readonly TestResult[]): string {
  const counts = new Map<Category, number>();
  for (const r of results) counts.set(r.category, (counts.get(r.category) ?? 0) + 1);
  const lines = [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([c, n]) => `  ${String(n).padStart(4)}  ${c}`);
  const pass = counts.get("pass") ?? 0;
  return [`${pass}/${results.length} pass`, ...lines].join("\n");
}

function markdown(target: string, results: readonly TestResult[]): string {
  const rows = results
    .filter((r) => r.category !== "pass")
    .map(
      (r) =>
        `| ${r.name} | ${r.category} | ${r.detail.split("\n")[0]?.replace(/\|/g, "\\|").slice(0, 300)} |`,
    );
  return [
    `## ${target}`,
    "",
    "```",
    summarize(results),
    "```",
    "",
    "| test | category | detail |",
    "|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}

async function main(): Promise<void> {
  const cli = new Command("stf")
    .description("run p4c's v1model STF samples on the softswitch (or bmv2)")
    .requiredOption("--corpus <dir>", "p4c testdata/p4_16_samples checkout")
    .option("--build <dir>", "where compiled JSON is cached", "/tmp/stf-build")
    .option(
      "--target <name>",
      "softswitch (its API), softswitch-p4runtime, bmv2 (pcap-file ports) or bmv2-veth",
      "softswitch",
    )
    .option("--only <regex>", "run only the samples whose name matches")
    .option("--jobs <n>", "parallel p4c compilations", "2")
    .option("--markdown <file>", "write the figures and every failure as Markdown")
    .option("--verbose", "print every result")
    .parse();
  const opts = cli.opts<{
    corpus: string;
    build: string;
    target: string;
    only?: string;
    jobs: string;
    markdown?: string;
    verbose?: boolean;
  }>();
  mkdirSync(opts.build, { recursive: true });
  const samples = findSamples(opts.corpus, opts.only ? new RegExp(opts.only) : undefined);
  const factory = await targetFactory(opts.target);
  const compiled = await pool(samples, Number(opts.jobs), (s) =>
    compile(s, opts.corpus, opts.build),
  );
  const results: TestResult[] = [];
  for (const [i, sample] of samples.entries()) {
    const c = compiled[i] as Awaited<ReturnType<typeof compile>>;
    const result =
      "error" in c
        ? {
            name: sample.name,
            category: "p4c compile failure" as const,
            detail: c.error,
            commandErrors: [],
          }
        : await runSample(sample, c, factory);
    results.push(result);
    if (opts.verbose || result.category !== "pass") {
      console.log(
        `${result.category === "pass" ? "PASS" : "FAIL"} ${sample.name}: ${result.category} ${result.detail.split("\n")[0] ?? ""}`,
      );
      for (const e of result.commandErrors) console.log(`     command error ${e}`);
    }
  }
  console.log(summarize(results));
  if (opts.markdown) writeFileSync(opts.markdown, markdown(opts.target, results));
}

async function targetFactory(name: string): Promise<TargetFactory> {
  if (name === "softswitch") return softswitchTarget;
  if (name === "bmv2") return bmv2PcapTarget;
  if (name === "bmv2-veth") return harnessTarget("bmv2");
  if (name === "softswitch-p4runtime") return harnessTarget("softswitch");
  throw new Error(`unknown target "${name}"`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
