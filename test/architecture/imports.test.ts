/**
 * The import guard (issue 13): no import circle between files or folders, products that never
 * import each other, tests or benchmarks, bench/ apart from test/, and the softswitch's layers
 * (program ← core ← compile ← v1model ← p4runtime ← ports ← cli) pointing one way. It runs over
 * the repository's sources, then over small trees built here to show it catches each breach.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { repoRoot } from "../../topologies/repo.js";
import { importProblems, importSpecifiers } from "./import-graph.js";

/**
 * Breaches that other branches are removing, each with why it is still here; nothing else may be.
 * Remove an entry when its breach is gone.
 */
const known = new Map<string, string>([]);

describe("import guard", () => {
  test("the repository's imports keep the layers and form no circle", () => {
    const problems = importProblems(repoRoot).filter((p) => !known.has(p));
    assert.deepEqual(problems, []);
  });

  const dirs: string[] = [];
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /** A temporary tree of .ts files, each importing the files listed for it. */
  function tree(files: Record<string, string[]>): string {
    const root = mkdtempSync(join(tmpdir(), "import-guard-"));
    dirs.push(root);
    for (const [file, imports] of Object.entries(files)) {
      mkdirSync(join(root, dirname(file)), { recursive: true });
      const lines = imports.map((target, i) => {
        const depth = file.split("/").length - 1;
        const spec = `${"../".repeat(depth) || "./"}${target.replace(/\.ts$/, ".js")}`;
        return `import { x${i} } from "${spec}";`;
      });
      writeFileSync(join(root, file), `${lines.join("\n")}\nexport const x = 1;\n`);
    }
    return root;
  }

  test("a clean layered tree passes", () => {
    const root = tree({
      "softswitch/core/values.ts": [],
      "softswitch/compile/actions.ts": ["softswitch/core/values.ts"],
      "softswitch/v1model/switch.ts": ["softswitch/compile/actions.ts"],
      "softswitch/p4runtime/server.ts": ["softswitch/v1model/switch.ts", "common/checksum.ts"],
      "softswitch/cli.ts": ["softswitch/p4runtime/server.ts"],
      "common/checksum.ts": [],
      "controller/punt.ts": ["common/checksum.ts", "proto/gen/p4/v1/Entity.ts"],
      "proto/gen/p4/v1/Entity.ts": ["proto/gen/p4/v1/Update.ts"],
      "proto/gen/p4/v1/Update.ts": ["proto/gen/p4/v1/Entity.ts"],
      "bench/pps.ts": ["topologies/softswitch.ts"],
      "test/x.test.ts": ["topologies/softswitch.ts", "softswitch/cli.ts"],
      "topologies/softswitch.ts": [],
    });
    assert.deepEqual(importProblems(root), []);
  });

  test("a forbidden direction or a circle fails, naming the files", () => {
    const root = tree({
      "softswitch/core/values.ts": ["softswitch/v1model/switch.ts"],
      "softswitch/v1model/switch.ts": [],
      "softswitch/p4runtime/arbitration.ts": ["controller/p4rt/client.ts"],
      "controller/p4rt/client.ts": [],
      "controller/daemon/punt.ts": ["softswitch/core/hash.ts"],
      "softswitch/core/hash.ts": [],
      "softswitch/pipeline/old.ts": [],
      "common/checksum.ts": ["softswitch/core/hash.ts"],
      "bench/pps.ts": ["test/support/scapy.ts"],
      "test/support/scapy.ts": [],
      "a/one.ts": ["a/two.ts"],
      "a/two.ts": ["a/one.ts"],
      "b/x.ts": ["c/y.ts"],
      "c/y.ts": ["b/z.ts"],
      "b/z.ts": [],
    });
    assert.deepEqual(importProblems(root).sort(), [
      "bench/pps.ts → test/support/scapy.ts (benchmarks use topologies/, never the tests' own code)",
      "common/checksum.ts → softswitch/core/hash.ts (common/ is dependency-free: both products import it, it imports neither)",
      "controller/daemon/punt.ts → softswitch/core/hash.ts (the products share code only via common/, proto/)",
      "import circle between files: a/one.ts ↔ a/two.ts",
      "import circle between folders: b ↔ c",
      "softswitch/core/values.ts → softswitch/v1model/switch.ts (softswitch layer core must not import the higher layer v1model)",
      "softswitch/p4runtime/arbitration.ts → controller/p4rt/client.ts (the products share code only via common/, proto/)",
      "softswitch/pipeline/old.ts is in no softswitch layer (program,core,compile,v1model,p4runtime,ports,)",
    ]);
  });

  test("import specifiers: multi-line, export-from, side effect and dynamic; packages left out", () => {
    const source = [
      "/**",
      ' *   import { example } from "./in-a-comment.js";',
      " */",
      'import {\n  a,\n  type B,\n} from "./multi.js";',
      'import type { C } from "../types.js";',
      'export { d } from "./re-export.js";',
      'import "./side-effect.js";',
      'import { readFileSync } from "node:fs";',
      'import { z } from "zod";',
      'const later = await import("./dynamic.js");',
      'const bytes = Buffer.from("not an import");',
    ].join("\n");
    assert.deepEqual(importSpecifiers(source).sort(), [
      "../types.js",
      "./dynamic.js",
      "./multi.js",
      "./re-export.js",
      "./side-effect.js",
    ]);
  });
});
