/**
 * Compiler behaviour beyond the goldens: which entries a change touches (and which it must
 * not), id stability across compiles, tenant isolation of the compiled routes (R18), and the
 * intents that cannot be built, each refused with its path and reason.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { parse } from "yaml";
import type { Allocations } from "../../../controller/compile/allocate.js";
import {
  type CompiledFabric,
  codecFor,
  compileFabric,
} from "../../../controller/compile/compile.js";
import type { SwitchState } from "../../../controller/compile/state.js";
import { formatPath, IntentError } from "../../../controller/intent/errors.js";
import { validateDocument } from "../../../controller/intent/load.js";
import { loadNvgrePipeline } from "../../../controller/nvgre-build.js";
import { diffStates } from "../../../controller/reconcile/diff.js";
import { repoRoot } from "../../../topologies/repo.js";

const pipeline = loadNvgrePipeline();
const codec = codecFor(pipeline.index);
// biome-ignore lint/suspicious/noExplicitAny: tests reach into arbitrary parts of the document
type Doc = Record<string, any>;
const small = (): Doc => parse(readFileSync(`${repoRoot}test/fixtures/fabric/small.yaml`, "utf8"));
const compile = (doc: Doc, previous?: Allocations) =>
  compileFabric(validateDocument(doc), pipeline.index, previous);

/** What reconciling `before` into `after` would write, per switch, as "OP entity" lines. */
function changes(before: CompiledFabric, after: CompiledFabric): Map<string, string[]> {
  const result = new Map<string, string[]>();
  for (const [name, state] of after.switches) {
    const plan = diffStates(state, before.switches.get(name) as SwitchState, codec);
    result.set(
      name,
      plan.steps
        .flat()
        .map((u) => `${u.type} ${codec.describe(u.collection, u.key, u.value)}`)
        .sort(),
    );
  }
  return result;
}

function compileIssues(doc: Doc): { path: string; message: string }[] {
  try {
    compile(doc);
  } catch (error) {
    assert.ok(error instanceof IntentError, String(error));
    return error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
  }
  assert.fail("the fabric compiled");
}

describe("compiler", () => {
  test("moving one endpoint changes only its entries, on the switches that see it", () => {
    const before = compile(small());
    const doc = small();
    const web1 = doc.endpoints.find((e: Doc) => e.name === "web-1");
    web1.location = { switch: "leaf2", port: 1 };
    const after = compile(doc, before.allocations);
    const mac = "vsid=0x5001 dst_mac=00:00:5e:00:53:01";
    const guard = (port: number, op: string) =>
      [
        "ca_family=0&3",
        "ca_family=1&3 src_ca=::&ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "ca_family=1&3 src_ca=::a01:10a&ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "ca_family=2&3 src_ca=::&ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "ca_family=2&3 src_ca=fd00:1:1::10&ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "ca_family=2&3 src_ca=fe80::&ffc0::",
      ].map(
        (m) =>
          `${op} source_guard vsid=0x5001 port=${port} src_mac=00:00:5e:00:53:01 ${m} #10 → permit_source()`,
      );
    const learned = (op: string, port: number) =>
      `${op} learned_mac vsid=0x5001 mac=00:00:5e:00:53:01 port=${port} from_nve=0 pa_is_v6=0 pa=:: → known_source()`;
    const expected = new Map<string, string[]>([
      // leaf1 (old port): tunnel to leaf2 (its nve 1 = 10.0.0.2) instead of port 1; guard and learned entry go.
      [
        "leaf1",
        [
          `MODIFY mac ${mac} → bridge_to_nve(nve_id=1)`,
          ...guard(1, "DELETE"),
          learned("DELETE", 1),
        ],
      ],
      // leaf2 (new port): port 1 instead of the tunnel to leaf1; guard and learned entry come.
      [
        "leaf2",
        [`MODIFY mac ${mac} → bridge_to_port(port=1)`, ...guard(1, "INSERT"), learned("INSERT", 1)],
      ],
      // leaf3 routes into 0x5001: its tunnel target moves to leaf2 (nve 3), and nothing else
      // of leaf3 goes to leaf1's 10.0.0.1 any more, so that tunnel is removed.
      [
        "leaf3",
        [
          `MODIFY mac ${mac} → bridge_to_nve(nve_id=3)`,
          "DELETE nve nve_id=2 → set_nve_v4(pa=10.0.0.1)",
        ],
      ],
      ["spine1", []],
      ["spine2", []],
    ]);
    const actual = changes(before, after);
    for (const [name, lines] of expected) assert.deepEqual(actual.get(name), lines.sort(), name);
  });

  test("adding an endpoint only inserts: no id of anything else changes", () => {
    const before = compile(small());
    const doc = small();
    doc.endpoints.push({
      name: "web-4",
      vsid: 0x5001,
      mac: "00:00:5e:00:53:04",
      ips: ["10.1.1.13"],
      location: { switch: "leaf2", port: 1 },
    });
    doc.virtualSubnets.push({ vsid: 0x4fff, name: "first", tenant: "contoso" });
    doc.switches
      .find((s: Doc) => s.name === "leaf3")
      .ports.push({ port: 7, kind: "access", untagged: 0x4fff });
    const after = compile(doc, before.allocations);
    for (const [name, lines] of changes(before, after)) {
      assert.deepEqual(
        lines.filter((l) => !l.startsWith("INSERT")),
        [],
        name,
      );
    }
  });

  test("an id freed by a change is not handed to a new object in the same compile", () => {
    const before = compile(small());
    const doc = small();
    const web2 = doc.endpoints.findIndex((e: Doc) => e.name === "web-2");
    doc.endpoints.splice(web2, 1, {
      name: "web-5",
      vsid: 0x5001,
      mac: "00:00:5e:00:53:05",
      ips: ["10.1.1.15"],
      location: { switch: "leaf2", port: 1 },
    });
    const after = compile(doc, before.allocations);
    // web-2 had tenant next hop 2 everywhere; web-5 must get a new one, so no switch ever sees
    // next hop 2 (still used by routes not yet deleted) change its destination.
    for (const [name, lines] of changes(before, after)) {
      assert.ok(
        !lines.some((l) => l.startsWith("MODIFY tenant_nexthop")),
        `${name}: ${lines.join("\n")}`,
      );
      if (name.startsWith("spine")) continue;
      assert.ok(
        lines.some((l) =>
          /^DELETE tenant_nexthop nexthop_id=2 → tenant_forward\(vsid=0x5001, .*dmac=00:00:5e:00:53:02\)$/.test(
            l,
          ),
        ),
        name,
      );
      assert.ok(
        lines.some((l) =>
          /^INSERT tenant_nexthop nexthop_id=7 → .*dmac=00:00:5e:00:53:05\)$/.test(l),
        ),
        name,
      );
    }
  });

  test("R18: every compiled tenant route leads into a VSID of its own tenant", () => {
    const doc = small();
    const compiled = compile(doc);
    const vrfTenant = new Map(
      Object.entries(compiled.allocations.pools.vrf?.ids ?? {}).map(([t, id]) => [id, t]),
    );
    const vsidTenant = new Map<number, string>(
      doc.virtualSubnets.map((s: Doc) => [s.vsid, s.tenant]),
    );
    let routes = 0;
    for (const [name, state] of compiled.switches) {
      const nexthops = state.collections.get("table:tenant_nexthop") ?? new Map();
      for (const table of ["table:tenant_route_v4", "table:tenant_route_v6"]) {
        for (const [key, value] of state.collections.get(table) ?? []) {
          const vrf = Number.parseInt(key.split(" ")[0] as string, 16);
          const nexthop = /\(([0-9a-f]+)\)/.exec(value)?.[1] as string;
          const forward = nexthops.get(nexthop) as string;
          const vsid = Number.parseInt(/\(([0-9a-f]+),/.exec(forward)?.[1] as string, 16);
          assert.equal(vsidTenant.get(vsid), vrfTenant.get(vrf), `${name}: ${key} → ${forward}`);
          routes++;
        }
      }
    }
    assert.ok(routes > 20, `${routes} routes checked`);
  });

  test("R17: PA validation admits exactly the NVEs that send into the VSID", () => {
    const compiled = compile(small());
    const admitted = (sw: string) =>
      [...(compiled.switches.get(sw)?.collections.get("table:vsid_nve_v4")?.keys() ?? [])]
        .map((k) => codec.describe("table:vsid_nve_v4", k, "permit_nve()"))
        .sort();
    // 0x5002 on leaf3: its other member leaf1 (on its dedicated PA 10.0.0.11, R8) and leaf2,
    // which routes contoso's traffic into 0x5002.
    assert.deepEqual(admitted("leaf3"), [
      "vsid_nve_v4 vsid=0x5002 pa=10.0.0.11 → permit_nve()",
      "vsid_nve_v4 vsid=0x5002 pa=10.0.0.2 → permit_nve()",
    ]);
  });

  test("R10, R17: an NVE declared in a VSID with no endpoint behind it is flooded to and admitted", () => {
    const doc = small();
    const before = compile(doc);
    const hv1 = (doc.nves as Doc[])[0] as Doc;
    hv1.vsids = [0x5002];
    const after = compile(doc, before.allocations);
    const describe = (compiled: CompiledFabric) =>
      [...(compiled.switches.get("leaf3") as SwitchState).sorted()].map((e) =>
        codec.describe(e.collection, e.key, e.value),
      );
    const had = new Set(describe(before));
    const added = describe(after).filter((line) => !had.has(line));
    // hv1 (PA 10.0.1.5, behind leaf3:4) hosts no endpoint of 0x5002, yet is one of its NVEs.
    assert.ok(
      added.includes("vsid_nve_v4 vsid=0x5002 pa=10.0.1.5 → permit_nve()"),
      added.join("\n"),
    );
    assert.ok(
      added.some((line) =>
        /^flood_replica rid=\d+ → replicate_v4\(dst_pa=10\.0\.1\.5, .*dmac=02:00:00:00:10:05\)$/.test(
          line,
        ),
      ),
      added.join("\n"),
    );
    hv1.vsids = [0x5002, 0x5002];
    assert.throws(
      () => compile(doc),
      (e: unknown) =>
        e instanceof IntentError &&
        e.issues.some(
          (i) => formatPath(i.path) === "nves[0].vsids[1]" && /listed twice/.test(i.message),
        ),
    );
  });

  test("refuses a table that would overflow, naming the switch and the table", () => {
    const doc = small();
    const leaf3 = doc.switches.find((s: Doc) => s.name === "leaf3");
    leaf3.providerAddresses.push(...Array.from({ length: 256 }, (_, i) => `10.9.0.${i}`));
    const issues = compileIssues(doc);
    assert.ok(
      issues.some(
        (i) =>
          i.path === "switches[4]" &&
          /leaf3 would need 257 entries in table local_pa_v4, which holds 256/.test(i.message),
      ),
      JSON.stringify(issues),
    );
  });

  test("R10: refuses a multicast tree where a member would also have to relay", () => {
    const doc = small();
    // leaf2 loses its spine links and hangs off leaf1 instead: the tree spine1 → leaf1 →
    // leaf2 makes leaf1, a member of 0x6001, a relay for 239.1.1.1.
    const leaf1 = doc.switches.find((s: Doc) => s.name === "leaf1");
    const leaf2 = doc.switches.find((s: Doc) => s.name === "leaf2");
    leaf1.ports.push({ port: 51, kind: "fabric", peer: { switch: "leaf2", port: 51 }, mtu: 9000 });
    leaf2.ports = leaf2.ports.filter((p: Doc) => p.kind === "access");
    leaf2.ports.push({ port: 51, kind: "fabric", peer: { switch: "leaf1", port: 51 }, mtu: 9000 });
    for (const spine of doc.switches.filter((s: Doc) => s.role === "spine")) {
      spine.ports = spine.ports.filter((p: Doc) => p.peer.switch !== "leaf2");
    }
    const issues = compileIssues(doc);
    assert.ok(
      issues.some(
        (i) =>
          i.path === "virtualSubnets[2].flood" &&
          /leaf1 would have to both receive multicast group 239\.1\.1\.1 and relay it \(ports 51\)/.test(
            i.message,
          ),
      ),
      JSON.stringify(issues),
    );
  });

  test("refuses a tunnel to an NVE the underlay cannot reach", () => {
    const doc = small();
    doc.underlay.routes = [];
    const issues = compileIssues(doc);
    assert.ok(
      issues.some(
        (i) =>
          i.path === "nves[1]" &&
          /gw1's provider address 192\.0\.2\.10 is not reachable/.test(i.message),
      ),
      JSON.stringify(issues),
    );
  });

  test("refuses a tenant prefix that would lead to two places", () => {
    const doc = small();
    doc.routes.push({ tenant: "contoso", prefix: "10.1.1.10/32", nextHop: { endpoint: "web-2" } });
    const issues = compileIssues(doc);
    assert.ok(
      issues.some(
        (i) =>
          i.path === "routes[1]" &&
          /10\.1\.1\.10\/32 leads to endpoint web-2 here but to endpoint web-1 elsewhere in tenant contoso's routing domain/.test(
            i.message,
          ),
      ),
      JSON.stringify(issues),
    );
  });

  test("refuses port numbers the switch cannot represent (bmv2: 9 bits, 511 the drop port)", () => {
    const doc = small();
    doc.switches.find((s: Doc) => s.name === "leaf3").ports[0].port = 600;
    doc.endpoints.find((e: Doc) => e.name === "db-2").location.port = 600;
    const issues = compileIssues(doc);
    const message =
      "port 600 is outside 0–510 (ports are 9 bits on every target; 511 is the drop port of bmv2 and the softswitch)";
    assert.deepEqual(issues, [
      { path: "switches[4].ports[0].port", message },
      { path: "endpoints[4].location.port", message },
    ]);
  });

  test("R9: a leaf reaches remote PAs over every spine (one ECMP group)", () => {
    const leaf1 = compile(small()).switches.get("leaf1") as SwitchState;
    const group = leaf1.collections.get("group:ecmp_selector");
    assert.deepEqual([...(group ?? [])], [["1", "1*1,2*1"]]);
    assert.deepEqual(
      [...(leaf1.collections.get("member:ecmp_selector") ?? [])].map(([k, v]) =>
        codec.describe("member:ecmp_selector", k, v),
      ),
      [
        "ecmp_selector member 1 → set_next_hop(port=49, smac=02:00:00:00:0a:01, dmac=02:00:00:00:0b:01)",
        "ecmp_selector member 2 → set_next_hop(port=50, smac=02:00:00:00:0a:01, dmac=02:00:00:00:0b:02)",
      ],
    );
  });
});
