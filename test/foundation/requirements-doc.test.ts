/**
 * docs/requirements.md lists, for each requirement R1–R18, the test files whose test titles
 * name it: the list must be exactly those files, so the map of coverage stays true as tests
 * come and go (the failure says which lines to change).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";
import { repoRoot } from "../../topologies/repo.js";

const IDS = Array.from({ length: 18 }, (_, i) => `R${i + 1}`);

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return testFiles(path);
    return name.endsWith(".test.ts") ? [path] : [];
  });
}

/** The requirement IDs a file's test, it and describe titles name. */
function idsInTitles(text: string): Set<string> {
  const ids = new Set<string>();
  for (const match of text.matchAll(
    /\b(?:test|it|describe)\(\s*(["'`])((?:\\.|(?!\1)[\s\S])*)\1/g,
  )) {
    for (const id of match[2]?.match(/\bR\d{1,2}\b/g) ?? []) ids.add(id);
  }
  return ids;
}

test("docs/requirements.md lists, for every requirement, exactly the test files that name it", () => {
  const expected = new Map(IDS.map((id) => [id, [] as string[]]));
  for (const file of testFiles(join(repoRoot, "test")).sort()) {
    for (const id of idsInTitles(readFileSync(file, "utf8"))) {
      expected.get(id)?.push(relative(repoRoot, file));
    }
  }
  const doc = readFileSync(join(repoRoot, "docs/requirements.md"), "utf8");
  for (const id of IDS) {
    assert.match(doc, new RegExp(`^\\| ${id} \\|`, "m"), `${id} is described`);
    const line = new RegExp(`^- \\*\\*${id}\\*\\*: (.*)$`, "m").exec(doc)?.[1] ?? "";
    const listed = [...line.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    const want = expected.get(id) ?? [];
    assert.deepEqual(
      listed,
      want,
      `docs/requirements.md's line for ${id} should read: - **${id}**: ${want.map((f) => `\`${f}\``).join(", ")}`,
    );
  }
});
