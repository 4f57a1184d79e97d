/**
 * Where bf-p4c is installed (skipped, naming it, elsewhere): p4/tna compiles for Tofino 1 and
 * Tofino 2 — bf-p4c fails a program that does not fit the device, so a compile is also the fit
 * check — into the layout the controller loads (controller/compile/target-pipelines.ts), and the
 * committed p4/build/tna and p4/build/t2na are what it makes of the sources (make p4-check).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { tofinoBuildFiles } from "../../controller/compile/target-pipelines.js";
import { repoRoot, runMake } from "../../topologies/repo.js";
import { skipUnless } from "../../topologies/toolchain.js";

const skip = skipUnless("bf-p4c");

test("p4/tna compiles and fits for tofino and tofino2, in the layout the controller loads", {
  skip,
}, () => {
  const out = mkdtempSync(join(tmpdir(), "nvgre-tofino-build-"));
  try {
    const result = spawnSync(
      process.execPath,
      [join(repoRoot, "dist/test/support/toolchain-cli.js"), "compile-tofino", out],
      { encoding: "utf8" },
    );
    assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
    for (const arch of ["tna", "t2na"] as const) {
      for (const file of Object.values(tofinoBuildFiles(arch, join(out, "p4/build", arch))))
        assert.ok(existsSync(file), `${file} written`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("committed p4/build/tna and p4/build/t2na are fresh (make p4-check)", { skip }, () => {
  const { status, output } = runMake("p4-check");
  assert.equal(status, 0, output);
  assert.match(output, /committed Tofino outputs are fresh/);
});
