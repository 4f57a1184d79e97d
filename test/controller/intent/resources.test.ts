/**
 * The intent as resources (controller/intent/resources.ts): a document splits into one
 * resource per switch, tenant, VSID, NVE, endpoint and route, the canonical document sorts each
 * list by resource name whatever order it was written in, and the changes between two
 * documents are exactly the resources that differ — found without comparing the untouched ones.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { compileFabric } from "../../../controller/compile/compile.js";
import { validateDocument } from "../../../controller/intent/load.js";
import {
  DuplicateResourceError,
  parseResourceKey,
  ResourceSet,
  resourceKey,
} from "../../../controller/intent/resources.js";
import type { FabricDocument } from "../../../controller/intent/schema.js";
import { loadNvgrePipeline } from "../../../controller/nvgre-build.js";
import { repoRoot } from "../../../topologies/repo.js";

const small = (): FabricDocument =>
  parse(readFileSync(`${repoRoot}test/fixtures/fabric/small.yaml`, "utf8")) as FabricDocument;

type EndpointDoc = NonNullable<FabricDocument["endpoints"]>[number];

/** A copy with every list reversed: the same resources written in another order. */
function reversed(doc: FabricDocument): FabricDocument {
  return {
    ...doc,
    switches: [...doc.switches].reverse(),
    tenants: [...(doc.tenants ?? [])].reverse(),
    virtualSubnets: [...(doc.virtualSubnets ?? [])].reverse(),
    nves: [...(doc.nves ?? [])].reverse(),
    endpoints: [...(doc.endpoints ?? [])].reverse(),
    routes: [...(doc.routes ?? [])].reverse(),
  };
}

describe("intent resources", () => {
  test("one key per resource; keys name kind and (escaped) name and parse back", () => {
    const set = ResourceSet.of(small());
    const doc = small();
    const expected =
      1 +
      doc.switches.length +
      (doc.tenants?.length ?? 0) +
      (doc.virtualSubnets?.length ?? 0) +
      (doc.nves?.length ?? 0) +
      (doc.endpoints?.length ?? 0) +
      (doc.underlay?.routes?.length ?? 0) +
      (doc.routes?.length ?? 0);
    assert.equal(set.size, expected);
    const keys = [...set.entries()].map(([key]) => key);
    assert.equal(new Set(keys).size, keys.length, "keys are unique");
    assert.ok(keys.includes("resources/vsid/0x5001"), "VSIDs are keyed by their hex value");
    const routeKey = resourceKey("route", "blue|10.9.0.0/16");
    assert.equal(routeKey, "resources/route/blue%7C10.9.0.0%2F16");
    assert.deepEqual(parseResourceKey(routeKey), { kind: "route", name: "blue|10.9.0.0/16" });
    assert.equal(parseResourceKey("alloc/x/next"), undefined);
  });

  test("the canonical document is the same whatever order the file used, and compiles the same", () => {
    const a = ResourceSet.of(small()).document;
    const b = ResourceSet.of(reversed(small())).document;
    assert.deepEqual(b, a);
    const names = (a.endpoints ?? []).map((e) => e.name);
    assert.deepEqual(names, [...names].sort(), "endpoints sorted by name");
    const pipeline = loadNvgrePipeline();
    const compile = (doc: FabricDocument) => {
      const compiled = compileFabric(validateDocument(doc), pipeline.index);
      return [...compiled.switches.values()].map((state) => [
        state.switchName,
        [...state.sorted()],
      ]);
    };
    assert.deepEqual(compile(b), compile(a));
  });

  test("a move changes one resource, found by identity; nothing else is compared", () => {
    const set = ResourceSet.of(small());
    const doc = set.document;
    const endpoints = doc.endpoints as EndpointDoc[];
    const moved = { ...(endpoints[0] as EndpointDoc), location: { nve: "hv1" } };
    const next = { ...doc, endpoints: endpoints.with(0, moved) };
    const changes = set.changesTo(next);
    assert.deepEqual(
      changes.map((c) => c.key),
      [resourceKey("endpoint", moved.name)],
    );
    const after = set.with(changes);
    assert.equal(after.get("endpoint", moved.name), moved);
    assert.equal(after.document.switches, doc.switches, "untouched sections are shared");
    assert.equal(set.get("endpoint", moved.name), endpoints[0], "the old set is unchanged");
  });

  test("adds, deletes and equal copies: only real differences are changes", () => {
    const set = ResourceSet.of(small());
    const doc = structuredClone(set.document);
    assert.deepEqual(set.changesTo(doc), [], "an equal copy changes nothing");
    const endpoints = doc.endpoints as EndpointDoc[];
    const removed = endpoints.shift() as EndpointDoc;
    const added: EndpointDoc = { ...removed, name: "zz-new", mac: "02:00:00:00:99:99" };
    endpoints.unshift(added);
    const changes = set.changesTo(doc);
    assert.deepEqual(changes.map((c) => [c.key, c.value === undefined ? "delete" : "put"]).sort(), [
      [resourceKey("endpoint", removed.name), "delete"],
      [resourceKey("endpoint", "zz-new"), "put"],
    ]);
    const after = set.with(changes).document;
    assert.equal(after.endpoints?.at(-1)?.name, "zz-new", "added in its sorted place");
    assert.deepEqual(set.with(changes).changesTo(after), []);
  });

  test("a resource named twice is refused, naming both places", () => {
    const set = ResourceSet.of(small());
    const doc = set.document;
    const endpoints = doc.endpoints as EndpointDoc[];
    const copy = { ...(endpoints[1] as EndpointDoc), mac: "02:00:00:00:99:98" };
    assert.throws(
      () => set.changesTo({ ...doc, endpoints: [...endpoints, copy] }),
      (error: unknown) =>
        error instanceof DuplicateResourceError &&
        error.resource === copy.name &&
        /endpoints\[\d+\]: endpoint ".+" is already defined at endpoints\[1\]/.test(error.message),
    );
  });

  test("settings and the fabric's name are one resource", () => {
    const set = ResourceSet.of(small());
    const doc = set.document;
    const next = { ...doc, settings: { ...doc.settings, encapTtl: 17 } };
    const changes = set.changesTo(next);
    assert.deepEqual(
      changes.map((c) => c.key),
      ["resources/fabric"],
    );
    assert.equal(set.with(changes).document.settings?.encapTtl, 17);
  });
});
