/**
 * Every path a file points at exists (issue 16: the example fabric's header named
 * docs/fabric-file.md, examples/fabric.yaml and ../docs/fabric.schema.json, none of which
 * exist): markdown links, `$schema=` lines and repository paths in backticks, in the README,
 * every markdown file and the example fabric, resolved beside the file or from the root.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { test } from "node:test";
import { repoRoot } from "../../topologies/repo.js";

const skipped = new Set(["node_modules", "dist", ".git", "captures"]);

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (skipped.has(entry.name)) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return markdownFiles(path);
    return entry.name.endsWith(".md") ? [path] : [];
  });
}

const reference = /\]\(([^)\s#]+)[^)]*\)|\$schema=([^\s…]+)|`((?:[\w.-]+\/)+[\w.@-]+\.[a-z0-9]+)`/g;

test("paths named in the README, the docs and the example fabric exist", () => {
  const files = [
    ...markdownFiles(repoRoot),
    join(repoRoot, "controller/intent/fabric.example.yaml"),
  ];
  const missing: string[] = [];
  for (const file of files) {
    for (const match of readFileSync(file, "utf8").matchAll(reference)) {
      const target = (match[1] ?? match[2] ?? match[3]) as string;
      if (/^[a-z]+:/.test(target)) continue;
      if (![join(dirname(file), target), join(repoRoot, target)].some((p) => existsSync(p))) {
        missing.push(`${relative(repoRoot, file)}: ${target}`);
      }
    }
  }
  assert.deepEqual(missing, []);
});
