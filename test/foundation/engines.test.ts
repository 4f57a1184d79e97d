import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { repoRoot } from "../../topologies/repo.js";
import { packagesNeedingNewerNode } from "../support/engines.js";

test("no installed npm package needs a Node newer than 20", () => {
  assert.deepEqual(packagesNeedingNewerNode(join(repoRoot, "node_modules")), []);
});
