/**
 * A change's validation (controller/intent/validate-change.ts) against the whole document's
 * (validateDocument): over random sequences of valid and invalid endpoint changes (adds, moves
 * between ports, switches and NVEs, edits of VSID, MAC and CAs, learned and declared, deletes,
 * a few at once) and tenant route changes (next hops of every kind, other tenants', unknown), both accept or refuse the same changes with the same issues (paths and
 * messages, in order) and give equal fabrics. Then examples of the main rules, each naming the
 * resource and field at fault.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { formatPath, IntentError } from "../../../controller/intent/errors.js";
import { LayeredMap } from "../../../controller/intent/layered-map.js";
import { validateDocument } from "../../../controller/intent/load.js";
import type { Fabric } from "../../../controller/intent/model.js";
import { type ResourceChange, ResourceSet } from "../../../controller/intent/resources.js";
import type { FabricDocument } from "../../../controller/intent/schema.js";
import {
  validateChange,
  validateEndpointChanges,
  validateRouteChanges,
} from "../../../controller/intent/validate-change.js";
import { repoRoot } from "../../../topologies/repo.js";
import { seededRandom } from "../../support/random.js";

type EndpointDoc = NonNullable<FabricDocument["endpoints"]>[number];

/**
 * small.yaml, plus hv6 (an NVE with only an IPv6 PA: it shares no family with leaf3, nor the
 * IPv4 multicast group of 0x6001) and a route through the endpoint web-2.
 */
function base(): FabricDocument {
  const doc = parse(
    readFileSync(`${repoRoot}test/fixtures/fabric/small.yaml`, "utf8"),
  ) as FabricDocument;
  return {
    ...doc,
    nves: [...(doc.nves ?? []), { name: "hv6", providerAddresses: ["fd00:9::6"] }],
    routes: [
      ...(doc.routes ?? []),
      { tenant: "contoso", prefix: "10.8.0.0/16", nextHop: { endpoint: "web-2" } },
    ],
  };
}

const VSIDS = [0x5001, 0x5002, 0x6001, 0x7001];
/** Where an endpoint of each VSID fits. */
const fits: Record<number, EndpointDoc["location"][]> = {
  20481: [{ switch: "leaf1", port: 1 }, { switch: "leaf2", port: 1 }, { nve: "hv1" }],
  20482: [{ switch: "leaf1", port: 2, vlan: 100 }, { switch: "leaf3", port: 1 }, { nve: "hv1" }],
  24577: [{ switch: "leaf1", port: 2, vlan: 200 }, { switch: "leaf2", port: 2 }, { nve: "hv1" }],
  28673: [{ nve: "hv1" }],
};
/** Anywhere: ports of other VSIDs, fabric ports, unknown names, wrong VLANs, malformed. */
const anywhere: EndpointDoc["location"][] = [
  ...Object.values(fits).flat(),
  { switch: "leaf1", port: 2 },
  { switch: "leaf1", port: 2, vlan: 300 },
  { switch: "leaf3", port: 4 },
  { switch: "leaf1", port: 7 },
  { switch: "leaf9", port: 1 },
  { nve: "gw1" },
  { nve: "hv6" },
  { nve: "nope" },
  { switch: "leaf1", port: 1, nve: "hv1" },
  { switch: "leaf1" },
];
/** CAs: inside and outside each gateway's subnets, gateway addresses, IPv6 routed across VSIDs. */
const CAS = [
  "10.1.1.10",
  "10.1.1.11",
  "10.1.1.12",
  "10.1.1.20",
  "10.1.1.1",
  "10.1.2.10",
  "10.1.2.20",
  "10.1.2.1",
  "10.9.9.9",
  "fd00:1:1::10",
  "fd00:1:1::20",
];
const MACS = [
  "00:00:5e:00:53:01",
  "00:00:5e:00:53:02",
  "00:00:5e:00:53:11",
  "00:00:5e:00:53:21",
  "00:00:5e:00:01:01",
  "02:00:00:00:aa:01",
  "02:00:00:00:aa:02",
  "02:00:00:00:aa:03",
];
/** Not even the schema's: a bad MAC, a reserved VSID, a field no endpoint has. */
const malformed: ((e: EndpointDoc) => EndpointDoc)[] = [
  (e) => ({ ...e, mac: "zz:00:00:00:00:01" }),
  (e) => ({ ...e, vsid: 5 }),
  (e) => ({ ...e, colour: "blue" }) as EndpointDoc,
];

const hex = (byte: number) => (byte & 0xff).toString(16).padStart(2, "0");

function randomEndpointChange(
  endpoints: EndpointDoc[],
  rand: () => number,
  serial: number,
): EndpointDoc[] {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;
  const index = Math.floor(rand() * endpoints.length);
  const e = endpoints[index];
  const roll = rand();
  const place = (vsid: number) => (rand() < 0.7 ? pick(fits[vsid] ?? []) : pick(anywhere));
  if (!e || roll < 0.25) {
    const vsid = rand() < 0.9 ? pick(VSIDS.slice(0, 3)) : 0x7001;
    const ips = rand() < 0.5 ? [pick(CAS)] : rand() < 0.5 ? [] : [pick(CAS), pick(CAS)];
    const added: EndpointDoc = {
      // Names before and after the existing ones, so later paths move.
      name: `${pick(["a", "m", "z"])}-${serial}`,
      vsid,
      mac: rand() < 0.6 ? `02:00:00:01:${hex(serial >> 8)}:${hex(serial)}` : pick(MACS),
      ips,
      location: place(vsid),
      ...(rand() < 0.3 ? { learned: true } : {}),
    };
    return [...endpoints, added];
  }
  if (roll < 0.55) return endpoints.with(index, { ...e, location: place(Number(e.vsid)) });
  if (roll < 0.65) return endpoints.filter((_, j) => j !== index);
  if (roll < 0.72) {
    const { learned, ...declared } = e;
    return endpoints.with(index, learned ? declared : { ...e, learned: true });
  }
  if (roll < 0.8) return endpoints.with(index, { ...e, ips: [pick(CAS)] });
  if (roll < 0.86) return endpoints.with(index, { ...e, mac: pick(MACS) });
  if (roll < 0.94) {
    const vsid = pick(VSIDS);
    return endpoints.with(index, { ...e, vsid, location: place(vsid) });
  }
  return endpoints.with(index, pick(malformed)(e));
}

type RouteDoc = NonNullable<FabricDocument["routes"]>[number];

/** Next hops of every kind, valid and not: other tenants, VSIDs without a gateway, unknown names. */
const nextHops: RouteDoc["nextHop"][] = [
  { endpoint: "web-1" },
  { endpoint: "db-2" },
  { endpoint: "app-1" },
  { endpoint: "nobody" },
  { vsid: 0x5001 },
  { vsid: 0x6001 },
  { vsid: 0x7001 },
  { vsid: 0x5002, mac: "02:00:00:00:99:01" },
  { nve: "gw1", vsid: 0x5001, mac: "02:00:00:00:99:01" },
  { nve: "gw1", vsid: 0x5001 },
  { nve: "nope", vsid: 0x5001, mac: "02:00:00:00:99:01" },
  { endpoint: "web-1", vsid: 0x5001 },
];
/** Prefixes, two of them the same prefix written differently. */
const PREFIXES = ["10.8.0.0/16", "10.7.0.0/16", "fd00:8::/32", "fd00:8:0::/32", "0.0.0.0/0"];

function randomRouteChange(routes: RouteDoc[], rand: () => number): RouteDoc[] {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;
  if (routes.length > 0 && rand() < 0.35) {
    const index = Math.floor(rand() * routes.length);
    return routes.filter((_, j) => j !== index);
  }
  const route: RouteDoc = {
    tenant: pick(["contoso", "contoso", "fabrikam", "nobody"]),
    prefix: rand() < 0.05 ? "10.8.0.1/16" : pick(PREFIXES),
    nextHop: pick(nextHops),
  };
  return [...routes, route];
}

/** Issues as text, or the fabric as stable text (maps as sorted entries). */
function outcome(validate: () => Fabric): { issues?: string[]; fabric?: string } {
  try {
    return { fabric: serialize(validate()) };
  } catch (error) {
    if (!(error instanceof IntentError)) throw error;
    return { issues: error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`) };
  }
}

function serialize(fabric: Fabric): string {
  return JSON.stringify(fabric, (_, value) => {
    if (value instanceof Map || value instanceof LayeredMap)
      return [...value].sort(([a], [b]) => (String(a) < String(b) ? -1 : 1));
    return typeof value === "bigint" ? String(value) : value;
  });
}

describe("a change's validation (issue 11)", () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    test(`equals the whole document's over a random change sequence (seed ${seed})`, () => {
      const rand = seededRandom(seed);
      let resources = ResourceSet.of(base());
      let fabric = validateDocument(resources.document);
      const seen = { accepted: 0, refused: 0, schema: 0 };
      for (let step = 0; step < 150; step++) {
        const routeStep = rand() < 0.2;
        let endpoints = [...(resources.document.endpoints ?? [])];
        let routes = [...(resources.document.routes ?? [])];
        const count = rand() < 0.8 ? 1 : 2 + Math.floor(rand() * 3);
        for (let k = 0; k < count; k++) {
          if (routeStep) routes = randomRouteChange(routes, rand);
          else endpoints = randomEndpointChange(endpoints, rand, step * 10 + k);
        }
        let changes: ResourceChange[];
        try {
          changes = resources.changesTo({ ...resources.document, endpoints, routes });
        } catch {
          continue; // two resources of one name: refused before validation
        }
        const next = resources.with(changes);
        const whole = outcome(() => validateDocument(next.document));
        const current = fabric;
        const incremental = outcome(() => {
          if (routeStep) return validateRouteChanges(current, next.document);
          const result = validateEndpointChanges(current, next.document, changes);
          assert.ok(result, "an endpoint change is validated incrementally");
          return result;
        });
        assert.deepEqual(incremental, whole, `step ${step}: ${JSON.stringify(changes)}`);
        if (whole.fabric) {
          fabric = validateChange(fabric, next.document, changes);
          resources = next;
          seen.accepted++;
        } else if (whole.issues?.some((i) => i.includes("expected") || i.includes("unknown field")))
          seen.schema++;
        else seen.refused++;
      }
      // The sequence exercised both outcomes.
      assert.ok(seen.accepted > 10 && seen.refused > 10, JSON.stringify(seen));
    });
  }
});

/** The issues (path: message) of a change made by `edit` on the base fabric, through the change's validation. */
function issuesOf(edit: (endpoints: EndpointDoc[]) => EndpointDoc[]): string[] {
  const resources = ResourceSet.of(base());
  const fabric = validateDocument(resources.document);
  const endpoints = edit([...(resources.document.endpoints ?? [])]);
  const changes = resources.changesTo({ ...resources.document, endpoints });
  const next = resources.with(changes);
  const whole = outcome(() => validateDocument(next.document));
  const incremental = outcome(() => {
    const result = validateEndpointChanges(fabric, next.document, changes);
    assert.ok(result, "validated incrementally");
    return result;
  });
  assert.deepEqual(incremental, whole);
  return incremental.issues ?? [];
}

const added =
  (e: Partial<EndpointDoc>): ((list: EndpointDoc[]) => EndpointDoc[]) =>
  (list) => [
    ...list,
    {
      name: "new-1",
      vsid: 0x5001,
      mac: "02:00:00:00:77:01",
      ips: ["10.1.1.77"],
      location: { switch: "leaf2", port: 1 },
      ...e,
    },
  ];
const changed =
  (name: string, e: Partial<EndpointDoc>): ((list: EndpointDoc[]) => EndpointDoc[]) =>
  (list) =>
    list.map((x) => (x.name === name ? { ...x, ...e } : x));

describe("a change's validation names the endpoint and field at fault (issue 11)", () => {
  test("a MAC already used in the VSID", () => {
    // "x-1" sorts last: endpoints[7] in the canonical list.
    assert.deepEqual(issuesOf(added({ name: "x-1", mac: "00:00:5e:00:53:01" })), [
      "endpoints[7].mac: MAC 00:00:5e:00:53:01 is already endpoint web-1's in VSID 0x5001",
    ]);
  });
  test("a MAC of an endpoint later in the list: that one is reported, as the file's reader meets it", () => {
    assert.deepEqual(issuesOf(added({ name: "a-0", mac: "00:00:5e:00:53:02" })), [
      "endpoints[6].mac: MAC 00:00:5e:00:53:02 is already endpoint a-0's in VSID 0x5001",
    ]);
  });
  test("a CA already used in the VSID, and one outside its gateway's subnet", () => {
    assert.deepEqual(issuesOf(added({ name: "x-1", ips: ["10.1.1.10", "10.2.0.1"] })), [
      "endpoints[7].ips[0]: CA 10.1.1.10 is already endpoint web-1's in VSID 0x5001",
      "endpoints[7].ips[1]: CA 10.2.0.1 is outside the subnet(s) 10.1.1.0/24 of VSID 0x5001's gateway",
    ]);
  });
  test("an unknown VSID", () => {
    assert.deepEqual(issuesOf(added({ vsid: 0x7001 })), [
      "endpoints[4].vsid: unknown VSID 0x7001 (no virtual subnet defines it)",
    ]);
  });
  test("a move to a port that does not map the VSID; the route through it loses its next hop", () => {
    assert.deepEqual(issuesOf(changed("web-2", { location: { switch: "leaf3", port: 1 } })), [
      "endpoints[5].location.port: leaf3:1 does not map VSID 0x5001",
      'routes[1].nextHop.endpoint: unknown endpoint "web-2"',
    ]);
  });
  test("R18 a route's next hop moved into another tenant's VSID is refused", () => {
    const issues = issuesOf(
      changed("web-2", { vsid: 0x6001, location: { switch: "leaf2", port: 2 }, ips: [] }),
    );
    assert.deepEqual(issues, [
      "routes[1].nextHop: the next hop is in VSID 0x6001 of tenant fabrikam; a route of tenant contoso cannot leave its routing domain (R18)",
    ]);
  });
  test("a learned endpoint behind an NVE sharing no PA family with the VSID's switches", () => {
    assert.deepEqual(
      issuesOf(added({ vsid: 0x5002, ips: [], location: { nve: "hv6" }, learned: true })),
      [
        "virtualSubnets[1]: leaf3 and hv6 both serve VSID 0x5002 but have no provider address family in common for it",
      ],
    );
  });
  test("valid moves, adds and deletes give the whole validation's fabric", () => {
    assert.deepEqual(issuesOf(changed("web-1", { location: { nve: "hv1" } })), []);
    assert.deepEqual(issuesOf(added({ name: "a-1", learned: true })), []);
    assert.deepEqual(
      issuesOf((list) => list.filter((e) => e.name !== "db-1")),
      [],
    );
  });
});
