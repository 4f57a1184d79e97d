/**
 * Large fabric files are parsed in parts (controller/intent/yaml-parts.ts) so that memory
 * follows the data, not the YAML syntax tree: the parts give exactly what one parse of the
 * whole text gives, and anything a part cannot judge alone falls back to the whole parse,
 * whose messages (with lines) are what the operator sees.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { IntentError } from "../../../controller/intent/errors.js";
import { loadFabricText } from "../../../controller/intent/load.js";
import { parseInParts, parseLean } from "../../../controller/intent/yaml-parts.js";

const ENDPOINTS = 2_500;

function fabric(endpointLines: (i: number) => string = endpoint): string {
  const lines = [
    "# a fabric with many endpoints",
    "switches:",
    "  - name: leaf1",
    "    role: leaf",
    '    p4runtime: { address: "127.0.0.1:50001", deviceId: 1 }',
    '    routerMac: "02:00:00:00:0a:01"',
    "    providerAddresses: [10.0.0.1]",
    "    ports:",
    "      - { port: 1, kind: access, untagged: 0x5001 }",
    "tenants: [{ name: contoso }]",
    "virtualSubnets:",
    "  - vsid: 0x5001",
    "    name: web",
    "    tenant: contoso",
    "endpoints:",
  ];
  for (let i = 0; i < ENDPOINTS; i++) lines.push(endpointLines(i));
  return `${lines.join("\n")}\n`;
}

function endpoint(i: number): string {
  const mac = `02:00:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, "0")}:${(i & 0xff).toString(16).padStart(2, "0")}`;
  return `  - name: ep-${i}\n    vsid: 0x5001\n    mac: "${mac}" # comment\n\n    location:\n      switch: leaf1\n      port: 1`;
}

function issuesOf(text: string): string[] {
  try {
    loadFabricText(text, "f.yaml");
  } catch (error) {
    assert.ok(error instanceof IntentError);
    return error.issues.map((i) => `${i.line}: ${i.message}`);
  }
  return [];
}

describe("fabric files parsed in parts", () => {
  test("the parts give what the whole parse gives, and the fabric validates", () => {
    const text = fabric();
    const parts = parseInParts(text);
    assert.ok(parts, "a block-style file is parsed in parts");
    assert.deepEqual(parts, parse(text));
    assert.equal(loadFabricText(text).fabric.endpoints.length, ENDPOINTS);
  });

  test("an alias to an anchor in another part falls back to the whole parse", () => {
    const location = "    location:\n      switch: leaf1\n      port: 1";
    const text = fabric((i) =>
      i === 0
        ? endpoint(i).replace(location, "    location: &loc\n      switch: leaf1\n      port: 1")
        : i === 2_400
          ? endpoint(i).replace(location, "    location: *loc")
          : endpoint(i),
    );
    assert.equal(parseInParts(text), undefined);
    assert.deepEqual(issuesOf(text), []);
  });

  test("a syntax error in a late item is reported with its line in the file", () => {
    const text = fabric((i) =>
      i === 2_100 ? endpoint(i).replace("vsid: 0x5001", "vsid: [") : endpoint(i),
    );
    assert.equal(parseInParts(text), undefined);
    const issues = issuesOf(text);
    assert.ok(issues.length > 0);
    // 15 header lines, then 7 lines per endpoint: item 2,100's "vsid: [" is on line 15 + 2100 × 7
    // + 2; the parser notices on that line or the next (a line of the file, not of a part).
    const line = Number((issues[0] ?? "").split(":")[0]);
    assert.ok(line >= 15 + 2_100 * 7 + 2 && line <= 15 + 2_100 * 7 + 3, issues[0]);
  });

  test("a top-level key given twice is refused as by the whole parse", () => {
    const text = `${fabric()}tenants: [{ name: other }]\n`;
    assert.equal(parseInParts(text), undefined);
    assert.match(issuesOf(text)[0] ?? "", /Map keys must be unique/);
  });

  test("JSON goes through JSON.parse, unless an object repeats a key", () => {
    const json = JSON.stringify(parse(fabric()));
    assert.deepEqual(parseLean(json), parse(json));
    const twice = json.replace('{"name":"ep-7",', '{"name":"ep-7","name":"ep-8",');
    assert.equal(parseLean(twice), undefined);
    assert.match(issuesOf(twice)[0] ?? "", /Map keys must be unique/);
    const escaped = json.replace('{"name":"ep-7",', '{"name":"e\\"p","vsid":20481,');
    assert.equal(parseLean(escaped), undefined, "vsid twice, after a key with an escaped quote");
  });
});
