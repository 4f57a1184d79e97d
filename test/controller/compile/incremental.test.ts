/**
 * Incremental recompile (controller/compile/incremental.ts) against the full compile, over
 * random sequences of the changes the daemon makes incrementally (endpoint moves, adds,
 * deletes, address changes; tenant routes added and removed): after every step both give the
 * same state on every switch and the same allocations, and what changed since the previous
 * generation is exactly what the reconciler would write to go from one full compile to the next.
 * Each step is recompiled twice: from the fabric validated afresh, and from the one a change's
 * validation derives from the previous fabric (sharing its untouched objects, which the
 * recompile then reuses: the daemon's case).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { parse } from "yaml";
import {
  type CompiledFabric,
  codecFor,
  compileFabric,
} from "../../../controller/compile/compile.js";
import { recompile } from "../../../controller/compile/incremental.js";
import type { SwitchState } from "../../../controller/compile/state.js";
import { IntentError } from "../../../controller/intent/errors.js";
import { validateDocument } from "../../../controller/intent/load.js";
import {
  DuplicateResourceError,
  type ResourceChange,
  ResourceSet,
} from "../../../controller/intent/resources.js";
import type { FabricDocument } from "../../../controller/intent/schema.js";
import { validateChange } from "../../../controller/intent/validate-change.js";
import { loadNvgrePipeline } from "../../../controller/nvgre-build.js";
import { diffStates, planSince, type SwitchPlan } from "../../../controller/reconcile/diff.js";
import { repoRoot } from "../../../topologies/repo.js";
import { seededRandom } from "../../support/random.js";

const pipeline = loadNvgrePipeline();
const codec = codecFor(pipeline.index);
type EndpointDoc = NonNullable<FabricDocument["endpoints"]>[number];
type RouteDoc = NonNullable<FabricDocument["routes"]>[number];

const small = (): FabricDocument =>
  parse(readFileSync(`${repoRoot}test/fixtures/fabric/small.yaml`, "utf8")) as FabricDocument;

/** Where an endpoint of each VSID of small.yaml can be. */
const places: Record<number, EndpointDoc["location"][]> = {
  20481: [{ switch: "leaf1", port: 1 }, { switch: "leaf2", port: 1 }, { nve: "hv1" }],
  20482: [{ switch: "leaf1", port: 2, vlan: 100 }, { switch: "leaf3", port: 1 }, { nve: "hv1" }],
  24577: [{ switch: "leaf1", port: 2, vlan: 200 }, { switch: "leaf2", port: 2 }, { nve: "hv1" }],
};
/** Learned endpoints' entries age (an idle timeout in their learned_mac values). */
const ageing = { learnedIdleTimeoutNs: 300e9 };
const caPrefix: Record<number, string> = { 20481: "10.1.1", 20482: "10.1.2", 24577: "10.1.1" };

function randomChange(doc: FabricDocument, rand: () => number, serial: number): FabricDocument {
  const pick = <T>(list: T[]): T => list[Math.floor(rand() * list.length)] as T;
  const endpoints = doc.endpoints ?? [];
  const routes = doc.routes ?? [];
  const roll = rand();
  if (roll < 0.45 && endpoints.length > 0) {
    const i = Math.floor(rand() * endpoints.length);
    const e = endpoints[i] as EndpointDoc;
    const moved = { ...e, location: pick(places[Number(e.vsid)] ?? []) };
    return { ...doc, endpoints: endpoints.with(i, moved) };
  }
  if (roll < 0.6) {
    const vsid = pick([0x5001, 0x5002, 0x6001]);
    const mac = `02:aa:00:00:${(serial >> 8).toString(16).padStart(2, "0")}:${(serial & 0xff).toString(16).padStart(2, "0")}`;
    const endpoint: EndpointDoc = {
      name: `new-${serial}`,
      vsid,
      mac,
      ips: [`${caPrefix[vsid]}.${100 + (serial % 150)}`],
      location: pick(places[vsid] ?? []),
    };
    return { ...doc, endpoints: [...endpoints, endpoint] };
  }
  if (roll < 0.72 && endpoints.length > 0) {
    const i = Math.floor(rand() * endpoints.length);
    return { ...doc, endpoints: endpoints.filter((_, j) => j !== i) };
  }
  if (roll < 0.76 && endpoints.length > 0) {
    // Learned by a switch, or declared by the operator (a learned endpoint moved by hand).
    const i = Math.floor(rand() * endpoints.length);
    const { learned, ...e } = endpoints[i] as EndpointDoc;
    return { ...doc, endpoints: endpoints.with(i, learned ? e : { ...e, learned: true }) };
  }
  if (roll < 0.8 && endpoints.length > 0) {
    const i = Math.floor(rand() * endpoints.length);
    const e = endpoints[i] as EndpointDoc;
    const ips = [`${caPrefix[Number(e.vsid)]}.${20 + (serial % 70)}`];
    // IPv6 CAs too where the VSID's gateway has an IPv6 prefix (host routes and ND entries).
    if (Number(e.vsid) === 0x5001) ips.push(`fd00:1:1::${(0x20 + (serial % 70)).toString(16)}`);
    return { ...doc, endpoints: endpoints.with(i, { ...e, ips }) };
  }
  if (roll < 0.92) {
    const contoso = endpoints.filter((e) => Number(e.vsid) !== 0x6001);
    const target = rand() < 0.5 && contoso.length > 0 ? pick(contoso) : undefined;
    const route: RouteDoc = {
      tenant: "contoso",
      prefix: `10.9.${serial % 250}.0/24`,
      nextHop: target
        ? { endpoint: target.name }
        : { nve: "gw1", vsid: 0x5001, mac: "02:00:00:00:99:01" },
    };
    return { ...doc, routes: [...routes, route] };
  }
  if (routes.length > 1) {
    const i = 1 + Math.floor(rand() * (routes.length - 1));
    return { ...doc, routes: routes.filter((_, j) => j !== i) };
  }
  return doc;
}

function entities(state: SwitchState): string[] {
  return [...state.sorted()].map((e) => `${e.collection} ${e.key} = ${e.value}`);
}

/** A plan's write steps, each as a sorted list (the order within a step is free). */
function stepsOf(plan: SwitchPlan): string[][] {
  return plan.steps.map((step) => step.map((u) => JSON.stringify(u)).sort());
}

/** A full compile's states as entity lists (the incremental one changes its states in place). */
function snapshot(compiled: CompiledFabric): Map<string, string[]> {
  return new Map([...compiled.switches].map(([name, state]) => [name, entities(state)]));
}

describe("incremental recompile", () => {
  for (const seed of [1, 2, 3, 4]) {
    test(`equals a full compile after every step of a random change sequence (seed ${seed})`, () => {
      const rand = seededRandom(seed);
      let resources = ResourceSet.of(small());
      let doc = resources.document;
      let full = compileFabric(validateDocument(doc), pipeline.index, undefined, ageing);
      // Two recompiled chains: from fabrics validated afresh, and from fabrics a change's
      // validation derived from the previous one, sharing what it did not touch (the daemon's).
      let live = compileFabric(validateDocument(doc), pipeline.index, undefined, ageing);
      let derived = compileFabric(validateDocument(doc), pipeline.index, undefined, ageing);
      let incremental = 0;
      let steps = 0;
      for (let serial = 0; steps < 150; serial++) {
        // One to three changes at once (learning records several endpoints in one change).
        let edited = randomChange(doc, rand, serial);
        for (let more = Math.floor(rand() * 3); more > 0; more--) {
          serial++;
          edited = randomChange(edited, rand, serial);
        }
        let changes: ResourceChange[];
        let nextResources: ResourceSet;
        let next: FabricDocument;
        let nextFull: CompiledFabric;
        try {
          changes = resources.changesTo(edited);
          nextResources = resources.with(changes);
          next = nextResources.document;
          const fabric = validateDocument(next);
          nextFull = compileFabric(fabric, pipeline.index, full.allocations, ageing);
        } catch (error) {
          if (error instanceof IntentError || error instanceof DuplicateResourceError) continue;
          throw error;
        }
        steps++;
        const derivedFabric = validateChange(derived.basis.fabric, next, changes);
        for (const [chain, nextFabric] of [
          ["fresh", validateDocument(next)],
          ["derived", derivedFabric],
        ] as const) {
          const previous = chain === "fresh" ? live : derived;
          const generations = new Map([...previous.switches].map(([n, s]) => [n, s.generation]));
          const pending = recompile(previous, nextFabric, pipeline.index);
          let after: CompiledFabric;
          const at = `step ${steps} (${chain})`;
          if (pending) {
            if (chain === "fresh") incremental++;
            assert.deepEqual(pending.allocations, nextFull.allocations, `${at}: allocations`);
            after = pending.commit();
            for (const [name, state] of after.switches) {
              const fromLog = planSince(state, generations.get(name) ?? 0, codec);
              assert.ok(fromLog, `${name}: the log reaches back one generation`);
              const fromDiff = diffStates(
                nextFull.switches.get(name) as SwitchState,
                full.switches.get(name) as SwitchState,
                codec,
              );
              assert.deepEqual(stepsOf(fromLog), stepsOf(fromDiff), `${at}: ${name} writes`);
            }
          } else {
            after = compileFabric(nextFabric, pipeline.index, full.allocations, ageing);
          }
          assert.deepEqual(snapshot(after), snapshot(nextFull), `${at}: states`);
          assert.deepEqual(after.allocations, nextFull.allocations, `${at}: allocations`);
          if (chain === "fresh") live = after;
          else derived = after;
        }
        resources = nextResources;
        doc = next;
        full = nextFull;
      }
      // Moves within the fabric, adds and deletes are the common case: most steps stay incremental.
      assert.ok(incremental > steps / 2, `${incremental} of ${steps} steps were incremental`);
    });
  }

  test("a change beyond endpoints and routes (a VSID's source guard) is left to the full compile", () => {
    const doc = small();
    const compiled = compileFabric(validateDocument(doc), pipeline.index);
    const virtualSubnets = (doc.virtualSubnets ?? []).map((s) =>
      Number(s.vsid) === 0x5002 ? { ...s, sourceGuard: false } : s,
    );
    assert.equal(
      recompile(compiled, validateDocument({ ...doc, virtualSubnets }), pipeline.index),
      undefined,
    );
  });

  test("an endpoint move changes only the moved endpoint's entities, in one generation", () => {
    const doc = small();
    const compiled = compileFabric(validateDocument(doc), pipeline.index);
    const endpoints = (doc.endpoints ?? []).map((e) =>
      e.name === "web-2" ? { ...e, location: { switch: "leaf1", port: 1 } } : e,
    );
    const pending = recompile(compiled, validateDocument({ ...doc, endpoints }), pipeline.index);
    assert.ok(pending);
    // Members of its VSID and the other router of its tenant (leaf3 routes to it by MAC).
    assert.deepEqual(pending.changed.sort(), ["leaf1", "leaf2", "leaf3"]);
    const after = pending.commit();
    for (const name of pending.changed) {
      const state = after.switches.get(name) as SwitchState;
      assert.equal(state.generation, 1);
      const changes = state.changesSince(0) ?? [];
      assert.ok(changes.length > 0, name);
      for (const change of changes) {
        // Its own entries, or the tunnel toward its new place (leaf3 had no use for it before).
        if (change.collection === "table:nve") continue;
        assert.match(change.key, /5e005302/, `${name}: ${change.collection} ${change.key}`);
      }
    }
    assert.equal((after.switches.get("spine1") as SwitchState).generation, 0);
  });
});
