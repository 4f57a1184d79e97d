/**
 * Fabric files are read the fast way (controller/intent/yaml-lean.ts: JSON.parse, or js-yaml
 * with the YAML 1.2 core schema): what it gives must be exactly what the `yaml` package gives,
 * and whatever it cannot read without a doubt falls back to `yaml`, whose messages (with lines)
 * are what the operator sees.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parse, stringify } from "yaml";
import { IntentError } from "../../../controller/intent/errors.js";
import { loadFabricText } from "../../../controller/intent/load.js";
import { parseLean } from "../../../controller/intent/yaml-lean.js";
import { repoRoot } from "../../../topologies/repo.js";

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

/** The fast path either declines or gives exactly what `yaml` gives. */
function sameAsYaml(text: string): unknown {
  const lean = parseLean(text);
  if (lean !== undefined) assert.deepEqual(lean, parse(text, { uniqueKeys: true }), text);
  return lean;
}

describe("fabric files read the fast way", () => {
  test("a block-style file gives what `yaml` gives, and the fabric validates", () => {
    const text = fabric();
    assert.ok(sameAsYaml(text), "read by the fast path");
    assert.equal(loadFabricText(text).fabric.endpoints.length, ENDPOINTS);
  });

  test("every fabric file of the repository, and a flow-style file, give what `yaml` gives", () => {
    for (const file of [
      "controller/intent/fabric.example.yaml",
      "test/fixtures/fabric/small.yaml",
      "test/fixtures/fabric/ipv6-underlay.yaml",
    ]) {
      assert.ok(sameAsYaml(readFileSync(join(repoRoot, file), "utf8")), file);
    }
    const flow = fabric((i) => {
      const [name, vsid, mac] = endpoint(i).split("\n");
      return `  - { ${name?.slice(4)}, ${vsid?.trim()}, ${mac?.trim().replace(" # comment", "")}, location: { switch: leaf1, port: 1 } }`;
    });
    assert.ok(sameAsYaml(flow), "read fast");
    const braced = stringify(parse(fabric()), { collectionStyle: "flow" });
    assert.ok(braced.startsWith("{") && sameAsYaml(braced), "flow YAML that opens with a brace");
    assert.deepEqual(parseLean(flow), parseLean(fabric()));
  });

  test("plain scalars resolve as YAML 1.2's core schema says (numbers, null, booleans, strings)", () => {
    const scalars = [
      ...["0x5001", "0X5001", "0o17", "0O7", "017", "+12", "-0", "1_000", "0b101", "+0b1"],
      ...["-0x1", "+0o7", "1e3", "1E+3", "1.0e-3", ".5", "-.5", "5.", "0.", "1.2.3"],
      ...[".inf", "-.Inf", "+.INF", ".nan", ".NaN", ".NAN", "~", "null", "Null", "NULL", ""],
      ...["true", "True", "TRUE", "yes", "on", "off", "y", "n", "2001-12-14", "12:30:45"],
      ...["02:00:00:00:0a:01", "190:20:30", "10.0.0.1", "fe80::1", "<<", "=", "'5'", '"0x10"'],
    ];
    for (const scalar of scalars) {
      assert.ok(sameAsYaml(`key: ${scalar}\nlist: [${scalar}]\n`), `read fast: ${scalar}`);
    }
  });

  test("tags, documents that are not one mapping, and odd texts go to `yaml`", () => {
    for (const text of [
      "k: !!binary aGk=\n",
      "k: !!set {a}\n",
      "k: !custom x\n",
      "k: !!int x\n",
      "- a\n- b\n",
      "just text\n",
      "",
      "a: 1\n---\nb: 2\n",
      "k: ::\n",
    ]) {
      assert.equal(sameAsYaml(text), undefined, JSON.stringify(text));
    }
    assert.deepEqual(sameAsYaml("k: !!str 5\nn: !!int '7'\n"), { k: "5", n: 7 });
  });

  test("an alias to a collection goes to `yaml` (which bounds expansions); one to a scalar does not", () => {
    const location = "    location:\n      switch: leaf1\n      port: 1";
    const text = fabric((i) =>
      i === 0
        ? endpoint(i).replace(location, "    location: &loc\n      switch: leaf1\n      port: 1")
        : i === 2_400
          ? endpoint(i).replace(location, "    location: *loc")
          : endpoint(i),
    );
    assert.equal(parseLean(text), undefined);
    assert.deepEqual(issuesOf(text), []);
    assert.deepEqual(sameAsYaml("a: &one leaf1\nb: *one\n"), { a: "leaf1", b: "leaf1" });
  });

  test("a syntax error in a late item is reported with its line in the file", () => {
    const text = fabric((i) =>
      i === 2_100 ? endpoint(i).replace("vsid: 0x5001", "vsid: [") : endpoint(i),
    );
    assert.equal(parseLean(text), undefined);
    const issues = issuesOf(text);
    assert.ok(issues.length > 0);
    // 15 header lines, then 7 lines per endpoint: item 2,100's "vsid: [" is on line 15 + 2100 × 7
    // + 2; the parser notices on that line or the next.
    const line = Number((issues[0] ?? "").split(":")[0]);
    assert.ok(line >= 15 + 2_100 * 7 + 2 && line <= 15 + 2_100 * 7 + 3, issues[0]);
  });

  test("a key given twice is refused as by `yaml`, at the top level and inside an item", () => {
    const text = `${fabric()}tenants: [{ name: other }]\n`;
    assert.equal(parseLean(text), undefined);
    assert.match(issuesOf(text)[0] ?? "", /Map keys must be unique/);
    const inner = fabric((i) => (i === 9 ? `${endpoint(i)}\n    vsid: 0x5002` : endpoint(i)));
    assert.equal(parseLean(inner), undefined);
    assert.match(issuesOf(inner)[0] ?? "", /Map keys must be unique/);
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
