/**
 * Compiler goldens: each fabric under test/fixtures/fabric compiles to exactly the committed
 * per-switch state in <fabric>.golden/<switch>.txt (one entity per line, by P4 names, sorted).
 * A change to the compiler shows up as a reviewable diff of those files: `make goldens`
 * rewrites them deliberately (UPDATE_GOLDENS=1), the test then still compares.
 */
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { codecFor, compileFabric } from "../../../controller/compile/compile.js";
import type { SwitchState } from "../../../controller/compile/state.js";
import { loadFabricText } from "../../../controller/intent/load.js";
import { loadNvgrePipeline } from "../../../controller/nvgre-build.js";
import { repoRoot } from "../../../topologies/repo.js";

const fixtures = join(repoRoot, "test/fixtures/fabric");
const update = process.env.UPDATE_GOLDENS === "1";
const pipeline = loadNvgrePipeline();
const codec = codecFor(pipeline.index);

function render(state: SwitchState): string {
  const lines = [...state.sorted()].map((e) => codec.describe(e.collection, e.key, e.value));
  return `${lines.join("\n")}\n`;
}

for (const file of readdirSync(fixtures)
  .filter((f) => f.endsWith(".yaml"))
  .sort()) {
  describe(`compiler golden: ${file}`, () => {
    const text = readFileSync(join(fixtures, file), "utf8");
    const compiled = compileFabric(loadFabricText(text, file).fabric, pipeline.index);
    const dir = join(fixtures, file.replace(/\.yaml$/, ".golden"));
    if (update) {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      for (const [name, state] of compiled.switches)
        writeFileSync(join(dir, `${name}.txt`), render(state));
    }

    test("one golden per switch, no stale ones", () => {
      const goldens = readdirSync(dir)
        .map((f) => f.replace(/\.txt$/, ""))
        .sort();
      assert.deepEqual(goldens, [...compiled.switches.keys()].sort());
    });

    for (const [name, state] of compiled.switches) {
      test(`${name} compiles to its golden`, () => {
        assert.equal(
          render(state),
          readFileSync(join(dir, `${name}.txt`), "utf8"),
          `${name}: run make goldens and review the diff`,
        );
      });
    }

    test("compiling again gives the same state and the same ids (deterministic)", () => {
      const again = compileFabric(loadFabricText(text, file).fabric, pipeline.index);
      for (const [name, state] of compiled.switches) {
        assert.equal(render(again.switches.get(name) as SwitchState), render(state), name);
      }
      assert.deepEqual(again.allocations, compiled.allocations);
    });

    test("compiling with its own allocations reproduces it exactly", () => {
      const again = compileFabric(
        loadFabricText(text, file).fabric,
        pipeline.index,
        compiled.allocations,
      );
      for (const [name, state] of compiled.switches) {
        assert.equal(render(again.switches.get(name) as SwitchState), render(state), name);
      }
    });
  });
}
