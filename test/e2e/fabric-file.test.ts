/**
 * The fabric file the topology writes (topologies/fabric.py write) is what the controller
 * accepts: valid for the intent schema and its cross-checks, and compilable for every switch.
 * No Mininet needed: this runs everywhere, so a change on either side that makes topology and
 * intent drift apart fails here first.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { compileFabric } from "../../controller/compile/compile.js";
import { loadFabricText } from "../../controller/intent/load.js";
import { loadNvgrePipeline } from "../../controller/nvgre-build.js";
import { fabricScript, systemPython } from "../../topologies/demo/fabric.js";

function writtenFabric(args: string[] = []): string {
  const result = spawnSync(systemPython, [fabricScript, "write", ...args], { encoding: "utf8" });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

test("the default fabric file: two tenants sharing CAs and MACs, a routed tenant, an IPv6-only leaf", () => {
  const { fabric } = loadFabricText(writtenFabric(), "fabric.py write");
  assert.deepEqual(
    fabric.switches.map((s) => `${s.name}/${s.role}`),
    ["spine1/spine", "spine2/spine", "leaf1/leaf", "leaf2/leaf", "leaf3/leaf"],
  );
  assert.deepEqual(
    fabric.virtualSubnets.map((s) => [s.name, s.tenant, s.vsid, s.gateway !== undefined]),
    [
      ["blue-web", "blue", 0x5001, true],
      ["blue-db", "blue", 0x5002, true],
      ["red-web", "red", 0x6001, false],
    ],
  );
  const blue = fabric.endpoints.find((e) => e.name === "blue-web1");
  const red = fabric.endpoints.find((e) => e.name === "red-web1");
  assert.equal(blue?.mac.text, red?.mac.text, "same MAC in both tenants");
  assert.deepEqual(
    blue?.ips.map((ip) => ip.text),
    red?.ips.map((ip) => ip.text),
    "same CAs in both tenants",
  );
  const leaf3 = fabric.switchByName.get("leaf3");
  assert.deepEqual(
    leaf3?.providerAddresses.map((pa) => pa.address.family),
    [6],
    "the last leaf has only an IPv6 PA",
  );
  const compiled = compileFabric(fabric, loadNvgrePipeline().index);
  assert.deepEqual(
    [...compiled.switches.keys()],
    fabric.switches.map((s) => s.name),
  );
});

test("the fabric file of any size of leaf-spine is valid and compiles", () => {
  for (const [spines, leaves] of [
    [1, 2],
    [4, 6],
  ] as const) {
    const text = writtenFabric(["--spines", String(spines), "--leaves", String(leaves)]);
    const { fabric } = loadFabricText(text, `${spines}x${leaves}`);
    assert.equal(fabric.switches.length, spines + leaves);
    const compiled = compileFabric(fabric, loadNvgrePipeline().index);
    assert.equal(compiled.switches.size, spines + leaves);
  }
});

test("the topology refuses a fabric it cannot wire, naming the limit", () => {
  const result = spawnSync(systemPython, [fabricScript, "write", "--spines", "7"], {
    encoding: "utf8",
  });
  assert.notEqual(result.status, 0);
  assert.match(result.stderr, /spines must be 1\.\.6/);
});
