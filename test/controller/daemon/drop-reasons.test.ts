/**
 * Every drop reason of the P4 program has a name and a description in the controller's table
 * (what `nvgre-ctl drops` prints), checked against the list in p4/include/defines.p4 read here
 * with a pattern of the test's own (issue 16: `underlay_route_miss` had none).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadDropReasons } from "../../../controller/daemon/drop-reasons.js";
import { repoRoot } from "../../../topologies/repo.js";

test("every DROP_ constant of defines.p4 has a named, described drop reason", () => {
  const source = readFileSync(join(repoRoot, "p4/include/defines.p4"), "utf8");
  const declared = [...source.matchAll(/\bDROP_([A-Z0-9_]+)\s*=\s*(\d+)/g)].map((m) => ({
    name: (m[1] as string).toLowerCase(),
    code: Number(m[2]),
  }));
  assert.ok(declared.length >= 30, `only ${declared.length} drop reasons found in defines.p4`);
  const reasons = loadDropReasons();
  assert.equal(reasons.size, declared.length, "the table has exactly the program's reasons");
  for (const { name, code } of declared) {
    const reason = reasons.get(code);
    assert.equal(reason?.name, name, `code ${code}`);
    const words = reason.description.replace(/\(?R\d+\)?/g, "").trim();
    assert.ok(words.length > 3, `${name} (${code}) has no description: "${reason.description}"`);
  }
  assert.match(reasons.get(8)?.description ?? "", /underlay route/);
});
