/**
 * The Makefile's window on `toolchain.ts`: `report` (make setup / make toolchain) and
 * `compile-p4` (make p4 / make p4-check), so detection and the compile command live in one place.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { Command } from "commander";
import { repoRoot } from "../../topologies/repo.js";
import { allTools, findTool, p4cCompileArgs } from "../../topologies/toolchain.js";

/** Every P4 program the repository commits compiled: the product and the softswitch fixtures. */
function programs(): { source: string; outDir: string }[] {
  const list: { source: string; outDir: string }[] = [];
  if (existsSync(join(repoRoot, "p4/nvgre.p4")))
    list.push({ source: "p4/nvgre.p4", outDir: "p4/build" });
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
    for (const { source, outDir } of programs()) {
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
    }
  });

program.parse();
