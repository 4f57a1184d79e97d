/**
 * The committed Tofino builds (p4/build/tna, p4/build/t2na: bf-p4c's output, `make p4` where
 * bf-p4c is installed) hold every file the controller loads (controller/compile/
 * target-pipelines.ts) but bf_switchd's binary, which stays out of git, and were compiled from the P4 sources as they are now: each carries a
 * stamp of the sources' digests that `make p4-check` compares, with no compiler needed. bf-p4c
 * fails a program that does not fit its device, so a committed build is also the fit proof.
 * Recompiling them takes most of an hour per target on 2 cores: `make p4-check-tofino`, outside
 * this suite; where bf-p4c is installed, the suite asks it only how many stages the program's
 * dependency chains need (`toolchain-cli tofino-stages`, about a minute per target).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { appendFileSync, cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { tofinoBuildFiles } from "../../controller/compile/target-pipelines.js";
import { repoRoot } from "../../topologies/repo.js";
import { skipUnless } from "../../topologies/toolchain.js";

function checkSources(root: string) {
  return spawnSync(
    process.execPath,
    [join(repoRoot, "dist/test/support/toolchain-cli.js"), "check-tofino-sources", root],
    { encoding: "utf8" },
  );
}

/** Until bf-p4c's output is committed (p4/tna/README.md says where that stands), said as a skip. */
const missing = (["tna", "t2na"] as const).filter(
  (arch) => !existsSync(join(repoRoot, "p4/build", arch)),
);
const skip =
  missing.length > 0
    ? `${missing.map((a) => `p4/build/${a}`).join(", ")} not committed: no bf-p4c compile of p4/tna has been committed yet (make p4 where bf-p4c is installed)`
    : false;

test("the committed tofino and tofino2 builds hold every file the controller loads but the binary", {
  skip,
}, () => {
  for (const arch of ["tna", "t2na"] as const) {
    const { binary, ...committed } = tofinoBuildFiles(arch);
    for (const file of Object.values(committed))
      assert.ok(existsSync(file), `${file} is committed`);
    // bf_switchd's binary is the SDE's business: written by make p4, never committed.
    const ignored = spawnSync("git", ["check-ignore", "-q", binary], { cwd: repoRoot });
    assert.equal(ignored.status, 0, `${binary} is kept out of git`);
  }
});

test("the committed tofino and tofino2 builds were compiled from the current P4 sources", {
  skip,
}, () => {
  const result = checkSources(repoRoot);
  assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
  assert.match(result.stdout, /compiled from the current P4 sources/);
});

test("a P4 source edited after the Tofino compile is reported stale, naming the file", {
  skip,
}, () => {
  const root = mkdtempSync(join(tmpdir(), "nvgre-tofino-stamp-"));
  try {
    for (const dir of ["p4/tna", "p4/include", "p4/build/tna", "p4/build/t2na"])
      cpSync(join(repoRoot, dir), join(root, dir), { recursive: true });
    appendFileSync(join(root, "p4/include/defines.p4"), "// edited\n");
    const result = checkSources(root);
    assert.equal(result.status, 1, result.stdout);
    assert.match(
      result.stderr,
      /p4\/build\/tna is stale: p4\/include\/defines\.p4 \(changed since\)/,
    );
    assert.match(result.stderr, /p4\/build\/t2na is stale: p4\/include\/defines\.p4/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

// Where bf-p4c is installed: whether the program can fit at all, in two minutes instead of a
// whole compile. It cannot yet (p4/tna/README.md: the ingress chain needs 33 / 32 stages), so
// this reports as a todo with the figures until the ingress is reshaped; then the todo goes.
test("the TNA program's dependency chains fit the stages of tofino and tofino2", {
  skip: skipUnless("bf-p4c"),
  todo: "the ingress needs 33 (tofino) and 32 (tofino2) stages: p4/tna/README.md",
  timeout: 35 * 60_000,
}, () => {
  const result = spawnSync(
    process.execPath,
    [join(repoRoot, "dist/test/support/toolchain-cli.js"), "tofino-stages"],
    { encoding: "utf8" },
  );
  assert.equal(result.status, 0, result.stderr);
  const targets = result.stdout
    .trim()
    .split("\n")
    .map(
      (line) =>
        JSON.parse(line) as { target: string; device: number; ingress: number; egress: number },
    );
  assert.equal(targets.length, 2);
  const over = targets
    .filter((t) => t.ingress > t.device || t.egress > t.device)
    .map((t) => `${t.target}: ingress ${t.ingress}, egress ${t.egress} of ${t.device} stages`);
  assert.deepEqual(over, []);
});
