/**
 * Installed npm packages whose `engines.node` excludes the oldest Node the project supports
 * (package.json engines): what a dependency's newer release brings in unnoticed, such as
 * cookie 2, which needs Node 22 and comes with light-my-request's newest 6.x.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import semver from "semver";

/** The oldest Node the project supports; every dependency must run on it. */
export const oldestNode = "20.10.0";

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

/** "name@version needs node RANGE" for every package below `nodeModules` that excludes it. */
export function packagesNeedingNewerNode(nodeModules: string): string[] {
  const tooNew: string[] = [];
  for (const file of packageJsons(nodeModules)) {
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
  return tooNew;
}
