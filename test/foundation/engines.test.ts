import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import semver from "semver";
import { repoRoot } from "../../topologies/repo.js";

/** The oldest Node the project supports (package.json engines); every dependency must run on it. */
const oldestNode = "20.10.0";

function* packageJsons(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const path = join(dir, entry.name);
    if (entry.name.startsWith("@")) {
      yield* packageJsons(path);
      continue;
    }
    yield join(path, "package.json");
    try {
      yield* packageJsons(join(path, "node_modules"));
    } catch {
      // no nested node_modules
    }
  }
}

test("no installed npm package needs a Node newer than 20", () => {
  const tooNew: string[] = [];
  for (const file of packageJsons(join(repoRoot, "node_modules"))) {
    let manifest: { name?: string; version?: string; engines?: { node?: string } };
    try {
      manifest = JSON.parse(readFileSync(file, "utf8"));
    } catch {
      continue; // directories such as .bin carry no manifest
    }
    const range = manifest.engines?.node;
    if (range && !semver.satisfies(oldestNode, range)) {
      tooNew.push(`${manifest.name}@${manifest.version} needs node ${range}`);
    }
  }
  assert.deepEqual(tooNew, []);
});
