/**
 * The Makefile's window on `toolchain.ts`: `report` (make setup / make toolchain) and
 * `compile-p4` (make p4 / make p4-check), so detection and the compile command live in one place.
 */
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { Command } from "commander";
import { disagreement } from "../../controller/p4rt/enums.js";
import { P4InfoIndex } from "../../controller/p4rt/p4info.js";
import { p4runtimeProto } from "../../proto/load.js";
import { repoRoot } from "../../topologies/repo.js";
import {
  allTools,
  bfP4cCompileArgs,
  findTool,
  p4cCompileArgs,
  type TofinoProfile,
  tofinoProfiles,
} from "../../topologies/toolchain.js";
import { enumDeclarations } from "./p4-enum-declarations.js";

interface Program {
  source: string;
  outDir: string;
  /** The file declaring the program's serializable enums, written out as NAME.enums.json. */
  enums?: string;
}

/** Every P4 program the repository commits compiled: the product and the softswitch fixtures. */
function programs(): Program[] {
  const list: Program[] = [];
  if (existsSync(join(repoRoot, "p4/nvgre.p4")))
    list.push({ source: "p4/nvgre.p4", outDir: "p4/build", enums: "p4/include/defines.p4" });
  const fixtureDir = join(repoRoot, "test/fixtures/p4");
  if (existsSync(fixtureDir)) {
    for (const file of readdirSync(fixtureDir).sort()) {
      if (file.endsWith(".p4")) {
        list.push({ source: `test/fixtures/p4/${file}`, outDir: "test/fixtures/build" });
      }
    }
  }
  return list;
}

const program = new Command("toolchain")
  .description("find p4c and bmv2, and compile the project's P4 programs")
  .showHelpAfterError();

program
  .command("report")
  .description("print which p4lang tools are installed and what their absence changes")
  .action(() => {
    for (const name of allTools) {
      const status = findTool(name);
      if (status.found) console.log(`  ${name.padEnd(19)} ${status.path} (${status.version})`);
      else
        console.log(
          `  ${name.padEnd(19)} missing: ${status.reason}\n${" ".repeat(22)}→ ${status.missingMeans}`,
        );
    }
  });

program
  .command("compile-p4")
  .description("compile every committed P4 program with p4c-bm2-ss (v1model) below OUT_ROOT")
  .argument("[out-root]", "directory that receives p4/build and test/fixtures/build", repoRoot)
  .action((outRoot: string) => {
    const p4c = findTool("p4c-bm2-ss");
    if (!p4c.found) {
      console.error(`compile-p4: ${p4c.reason}`);
      process.exit(3);
    }
    for (const { source, outDir, enums } of programs()) {
      const name = basename(source, ".p4");
      const out = join(outRoot, outDir);
      mkdirSync(out, { recursive: true });
      const args = p4cCompileArgs(source, join(out, `${name}.json`), [
        join(out, `${name}.p4info.txtpb`),
        join(out, `${name}.p4info.bin`),
      ]);
      // Relative source paths from the repository root keep p4c's source_info identical
      // wherever the repository is cloned.
      execFileSync(p4c.path, args, { cwd: repoRoot, stdio: "inherit" });
      console.log(`compiled ${source} → ${join(outDir, `${name}.json`)}`);
      if (enums)
        writeEnums(enums, join(out, `${name}.p4info.bin`), join(out, `${name}.enums.json`));
    }
  });

/**
 * The enums of `source` with their descriptions, for the controller (drop and punt reasons);
 * refused when they disagree with what p4c put in the P4Info.
 */
function writeEnums(source: string, p4infoPath: string, outPath: string): void {
  const enums = enumDeclarations(readFileSync(join(repoRoot, source), "utf8"), source);
  const problem = disagreement(enums, P4InfoIndex.fromBinaryFile(p4infoPath));
  if (problem) throw new Error(`${source} and the compiled P4Info disagree: ${problem}`);
  writeFileSync(outPath, `${JSON.stringify(enums, null, 2)}\n`);
  console.log(`wrote the enums of ${source} → ${outPath}`);
}

/** The TNA program; bf-p4c's __TARGET_TOFINO__ selects its Tofino 2 profile. */
const tofinoSource = "p4/tna/nvgre.p4";
/** The P4 files a Tofino compile reads: the TNA tree and the controls it shares with v1model. */
const tofinoSourceDirs = ["p4/tna", "p4/include"];
/** Beside each committed Tofino build: the compiler and the sha256 of every source it read. */
const tofinoStampFile = "sources.json";

interface TofinoStamp {
  compiler: string;
  sources: Record<string, string>;
}

function tofinoSourceDigests(root: string): Record<string, string> {
  const digests: Record<string, string> = {};
  for (const dir of tofinoSourceDirs) {
    for (const file of readdirSync(join(root, dir)).sort()) {
      if (!file.endsWith(".p4")) continue;
      const path = `${dir}/${file}`;
      digests[path] = createHash("sha256")
        .update(readFileSync(join(root, path)))
        .digest("hex");
    }
  }
  return digests;
}

/** The source files whose digests differ between a stamp and the tree, each with how. */
function staleSources(stamped: Record<string, string>, now: Record<string, string>): string[] {
  const paths = [...new Set([...Object.keys(stamped), ...Object.keys(now)])].sort();
  return paths.flatMap((path) => {
    if (!(path in now)) return [`${path} (removed since)`];
    if (!(path in stamped)) return [`${path} (added since)`];
    return stamped[path] === now[path] ? [] : [`${path} (changed since)`];
  });
}

program
  .command("compile-tofino")
  .description(
    "compile the TNA program for tofino (p4/build/tna) and tofino2 (p4/build/t2na) with bf-p4c",
  )
  .argument("[out-root]", "directory that receives p4/build/tna and p4/build/t2na", repoRoot)
  .action((outRoot: string) => {
    const bfP4c = findTool("bf-p4c");
    if (!bfP4c.found) {
      const skipped = tofinoProfiles.map((p) => p.target).join(", ");
      console.error(`compile-tofino: SKIPPED ${skipped}: ${bfP4c.reason}`);
      process.exit(3);
    }
    for (const profile of tofinoProfiles) {
      const work = mkdtempSync(join(tmpdir(), `bf-p4c-${profile.target}-`));
      try {
        const name = basename(tofinoSource, ".p4");
        const args = bfP4cCompileArgs(tofinoSource, profile, work, [
          join(work, `${name}.p4info.txtpb`),
          join(work, `${name}.p4info.bin`),
        ]);
        const sources = tofinoSourceDigests(repoRoot);
        execFileSync(bfP4c.path, args, { cwd: repoRoot, stdio: "inherit" });
        // A compile takes most of an hour: a source edited meanwhile would make the stamp lie.
        const edited = staleSources(sources, tofinoSourceDigests(repoRoot));
        if (edited.length > 0)
          throw new Error(`P4 sources changed during the ${profile.target} compile: ${edited}`);
        const out = join(outRoot, "p4/build", profile.arch);
        rmSync(out, { recursive: true, force: true });
        mkdirSync(join(out, "pipe"), { recursive: true });
        mkdirSync(join(out, "resources"), { recursive: true });
        // Committed: P4Info, BF-RT schema, context.json, resource summaries, and the stamp
        // p4-check compares the sources with. The binary is copied for the controller on this
        // machine and kept out of git (.gitignore), as issue 12 asks.
        const binary = profile.target === "tofino" ? "tofino.bin" : "tofino2.bin";
        for (const file of [`${name}.p4info.txtpb`, `${name}.p4info.bin`, "bfrt.json"])
          copyFileSync(join(work, file), join(out, file));
        for (const file of ["context.json", binary])
          copyFileSync(join(work, "pipe", file), join(out, "pipe", file));
        const logs = join(work, "pipe/logs");
        for (const file of existsSync(logs) ? readdirSync(logs).sort() : []) {
          if (/summary|^resources\.json$/.test(file))
            copyFileSync(join(logs, file), join(out, "resources", file));
        }
        const stamp: TofinoStamp = { compiler: `bf-p4c ${bfP4c.version}`, sources };
        writeFileSync(join(out, tofinoStampFile), `${JSON.stringify(stamp, null, 2)}\n`);
        console.log(`compiled ${tofinoSource} for ${profile.target} → p4/build/${profile.arch}`);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    }
  });

/**
 * The stages the TNA program's dependency chains need, per gress: bf-p4c's table dependency
 * graph just before PHV allocation ("Maximum stage number according to dependences"), a lower
 * bound table placement cannot beat. Written a minute or two into a compile, while the rest
 * takes most of an hour; the compile is stopped once it is there.
 */
async function tofinoStages(
  bfP4c: string,
  profile: TofinoProfile,
): Promise<{ ingress: number; egress: number }> {
  const work = mkdtempSync(join(tmpdir(), `bf-p4c-stages-${profile.target}-`));
  const log = join(work, "pipe/logs/table_dependency_graph.log");
  const args = bfP4cCompileArgs(tofinoSource, profile, work, [join(work, "nvgre.p4info.bin")]);
  // Its own process group, so that stopping the driver stops the compiler it started.
  const child = spawn(bfP4c, args, {
    cwd: repoRoot,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk));
  const ended = new Promise<number | null>((resolve) => child.once("exit", resolve));
  try {
    const deadline = Date.now() + 15 * 60_000;
    for (;;) {
      const text = existsSync(log) ? readFileSync(log, "utf8") : "";
      const section = text.indexOf("Just Before PHV allocation");
      const found =
        section >= 0 &&
        /Maximum stage number according to dependences:\s*INGRESS: (\d+)\s*EGRESS: (\d+)/.exec(
          text.slice(section),
        );
      if (found) return { ingress: Number(found[1]), egress: Number(found[2]) };
      if (child.exitCode !== null)
        throw new Error(`bf-p4c ended (${child.exitCode}) before its dependency graph: ${output}`);
      if (Date.now() > deadline) throw new Error("bf-p4c wrote no dependency graph in 15 minutes");
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  } finally {
    if (child.exitCode === null && child.pid) {
      process.kill(-child.pid, "SIGKILL");
      await ended;
    }
    rmSync(work, { recursive: true, force: true });
  }
}

program
  .command("tofino-stages")
  .description(
    "print, as JSON per target, the stages the TNA program's ingress and egress need (bf-p4c's dependency graph, a lower bound) beside the stages the device has",
  )
  .action(async () => {
    const bfP4c = findTool("bf-p4c");
    if (!bfP4c.found) {
      console.error(`tofino-stages: SKIPPED: ${bfP4c.reason}`);
      process.exit(3);
    }
    for (const profile of tofinoProfiles) {
      const needed = await tofinoStages(bfP4c.path, profile);
      console.log(JSON.stringify({ target: profile.target, device: profile.stages, ...needed }));
    }
  });

program
  .command("check-tofino-sources")
  .description(
    "exit 1 unless the committed Tofino builds were compiled from the P4 sources as they are now (their stamps); needs no compiler",
  )
  .argument("[root]", "repository root holding p4/ and p4/build/{tna,t2na}", repoRoot)
  .action((root: string) => {
    const now = tofinoSourceDigests(root);
    const problems: string[] = [];
    const absent: string[] = [];
    for (const { arch } of tofinoProfiles) {
      if (!existsSync(join(root, "p4/build", arch))) {
        absent.push(`p4/build/${arch}`);
        continue;
      }
      const path = join(root, "p4/build", arch, tofinoStampFile);
      if (!existsSync(path)) {
        problems.push(`p4/build/${arch}/${tofinoStampFile} is missing`);
        continue;
      }
      const stamp = JSON.parse(readFileSync(path, "utf8")) as TofinoStamp;
      for (const stale of staleSources(stamp.sources, now))
        problems.push(`p4/build/${arch} is stale: ${stale}`);
    }
    if (problems.length > 0) {
      console.error(
        `check-tofino-sources: ${problems.join("; ")} — recompile with make p4 where bf-p4c is installed`,
      );
      process.exit(1);
    }
    if (absent.length > 0)
      console.log(
        `SKIPPED ${absent.join(", ")}: not committed (make p4 where bf-p4c is installed)`,
      );
    if (absent.length < tofinoProfiles.length)
      console.log("committed Tofino outputs were compiled from the current P4 sources");
  });

program
  .command("same-p4info")
  .description(
    "exit 1 unless two binary P4Infos hold the same message: p4c writes a map's entries (type_info's enums) in no fixed order, so equal P4Infos need not be equal bytes",
  )
  .argument("<a>")
  .argument("<b>")
  .action((a: string, b: string) => {
    const decode = (path: string) =>
      p4runtimeProto().p4.config.v1.P4Info.deserialize(readFileSync(path));
    if (!isDeepStrictEqual(decode(a), decode(b))) {
      console.error(`same-p4info: ${a} and ${b} hold different P4Infos`);
      process.exit(1);
    }
  });

await program.parseAsync();
