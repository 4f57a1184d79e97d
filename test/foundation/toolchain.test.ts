import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { type TofinoArch, tofinoBuildFiles } from "../../controller/compile/target-pipelines.js";
import { repoRoot } from "../../topologies/repo.js";

const cli = join(repoRoot, "dist/test/support/toolchain-cli.js");

function report(env: Record<string, string>): string {
  const result = spawnSync(process.execPath, [cli, "report"], {
    encoding: "utf8",
    env: { ...process.env, ...env },
  });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

test("toolchain report names a missing tool, why, and what its absence changes", () => {
  const out = report({ PATH: "/nonexistent", P4C: "", BMV2_SWITCH: "", BMV2_CLI: "" });
  assert.match(out, /p4c-bm2-ss\s+missing: p4c-bm2-ss not on PATH \(or set P4C\)/);
  assert.match(out, /simple_switch_grpc\s+missing: .*\n.*bmv2 are skipped/);
});

test("toolchain overrides (P4C, BMV2_SWITCH) win over PATH and report the tool's version", () => {
  const dir = mkdtempSync(join(tmpdir(), "toolchain-"));
  try {
    const fake = join(dir, "my-p4c");
    writeFileSync(fake, "#!/bin/sh\necho 'p4c 9.9.9 (SHA: fake)'\n");
    chmodSync(fake, 0o755);
    const out = report({ P4C: fake, BMV2_SWITCH: join(dir, "absent") });
    assert.match(out, new RegExp(`p4c-bm2-ss\\s+${fake} \\(p4c 9\\.9\\.9 \\(SHA: fake\\)\\)`));
    assert.match(out, /simple_switch_grpc\s+missing: BMV2_SWITCH=.*absent is not an executable/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("compile-p4 without p4c exits 3 (reported as a skip by make p4-check), naming the tool", () => {
  const result = spawnSync(process.execPath, [cli, "compile-p4", tmpdir()], {
    encoding: "utf8",
    env: { ...process.env, PATH: "/nonexistent", P4C: "" },
  });
  assert.equal(result.status, 3);
  assert.match(result.stderr, /p4c-bm2-ss not on PATH/);
});

test("compile-tofino without bf-p4c exits 3 and says which Tofino targets it skipped", () => {
  const result = spawnSync(process.execPath, [cli, "compile-tofino", tmpdir()], {
    encoding: "utf8",
    env: { ...process.env, PATH: "/nonexistent", BF_P4C: "" },
  });
  assert.equal(result.status, 3);
  assert.match(result.stderr, /SKIPPED tofino, tofino2: bf-p4c or p4c-barefoot not on PATH/);
});

test("compile-tofino lays out what bf-p4c writes as the controller loads it, binaries included", () => {
  const dir = mkdtempSync(join(tmpdir(), "toolchain-"));
  try {
    // A stand-in for bf-p4c writing the files the real one writes, named by its arguments.
    const fake = join(dir, "bf-p4c");
    writeFileSync(
      fake,
      `#!/bin/sh
set -e
while [ $# -gt 1 ]; do
  case "$1" in
    -o) out="$2"; shift ;;
    --target) target="$2"; shift ;;
    --bf-rt-schema) bfrt="$2"; shift ;;
    --p4runtime-files) files="$2"; shift ;;
  esac
  shift
done
bin=tofino.bin; [ "$target" = tofino2 ] && bin=tofino2.bin
mkdir -p "$out/pipe/logs"
echo "$target" > "$out/pipe/$bin"; echo '{}' > "$out/pipe/context.json"; echo '{}' > "$bfrt"
echo '{}' > "$out/pipe/logs/table_summary.log"; echo x > "$out/pipe/logs/other.log"
for f in $(echo "$files" | tr , ' '); do echo p4info > "$f"; done
`,
    );
    chmodSync(fake, 0o755);
    const out = join(dir, "out");
    const result = spawnSync(process.execPath, [cli, "compile-tofino", out], {
      encoding: "utf8",
      env: { ...process.env, BF_P4C: fake },
    });
    assert.equal(result.status, 0, result.stderr);
    for (const [arch, bin] of [
      ["tna", "tofino.bin"],
      ["t2na", "tofino2.bin"],
    ]) {
      const build = join(out, "p4/build", arch as string);
      assert.deepEqual(readdirSync(build).sort(), [
        "bfrt.json",
        "nvgre.p4info.bin",
        "nvgre.p4info.txtpb",
        "pipe",
        "resources",
        "sources.json",
      ]);
      // The stamp p4-check compares the sources with: every P4 file the compile read.
      const stamp = JSON.parse(readFileSync(join(build, "sources.json"), "utf8"));
      assert.ok("p4/tna/nvgre.p4" in stamp.sources && "p4/include/defines.p4" in stamp.sources);
      assert.deepEqual(readdirSync(join(build, "pipe")).sort(), [bin, "context.json"].sort());
      assert.deepEqual(readdirSync(join(build, "resources")), ["table_summary.log"]);
      for (const file of Object.values(tofinoBuildFiles(arch as TofinoArch, build)))
        assert.ok(existsSync(file), `the controller's ${file} is there`);
    }
    assert.match(result.stdout, /compiled p4\/tna\/nvgre\.p4 for tofino2 → p4\/build\/t2na/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
