/**
 * Coverage of RFC 7637's requirements (R1-R18, the team's numbering) by the data-plane tests:
 * each ID must appear in the title of a test (or of a drop case) in test/dataplane, so
 * removing the last test of a requirement fails here instead of going unnoticed.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { repoRoot } from "../../topologies/repo.js";

const requirements = Array.from({ length: 18 }, (_, i) => `R${i + 1}`);

test("every requirement R1-R18 is named by a data-plane test title", () => {
  const dir = join(repoRoot, "test/dataplane");
  const titles: string[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".test.ts"))) {
    const source = readFileSync(join(dir, file), "utf8");
    // test("…", …), test(`…`, …) and the drop cases' title: "…".
    for (const m of source.matchAll(/(?:\btest\(\s*|\btitle:\s*)(["`])((?:(?!\1).)*)\1/gs)) {
      titles.push(m[2] as string);
    }
  }
  const named = new Set(titles.flatMap((t) => t.match(/\bR\d+\b/g) ?? []));
  assert.deepEqual(
    requirements.filter((r) => !named.has(r)),
    [],
    "requirements no test title names",
  );
});
