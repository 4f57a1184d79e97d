/**
 * Files of the package (p4/build, proto/, compiled workers) by their path from its root, found
 * from wherever the calling code runs: dist/ as tsc lays it out, nvgre-ctl's bundle
 * (dist/controller/nvgre-ctl/, where a compiled file's own location says nothing of the tree),
 * or a global npm install. The root is the nearest folder above this code holding package.json.
 * Dependency-free, like all of common/.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let root: string | undefined;

function packageRoot(): string {
  const here = fileURLToPath(import.meta.url);
  let dir = dirname(here);
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json in any folder above ${here}`);
    dir = parent;
  }
  return dir;
}

/** The absolute path of `segments` (joined) below the package's root. */
export function packagePath(...segments: string[]): string {
  root ??= packageRoot();
  return join(root, ...segments);
}
