/**
 * How the daemon edits the intent: learn_t digest samples → learned endpoints (per-VSID
 * policy, declared endpoints win), the CLI's endpoint/vsid/route edits, learned endpoints
 * kept across `apply -f`, and the punt handler's view of a switch built from the intent.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  addEndpoint,
  addRoute,
  addVsid,
  carryLearnedEndpoints,
  deleteEndpoint,
  deleteRoute,
  deleteVsid,
  moveEndpoint,
  type ResourceEdit,
} from "../../../controller/daemon/intent-changes.js";
import {
  decideLearning,
  type LearnSample,
  recordLearned,
} from "../../../controller/daemon/learning.js";
import { switchView } from "../../../controller/daemon/switch-view.js";
import { loadFabricText, validateDocument } from "../../../controller/intent/load.js";
import type { Switch } from "../../../controller/intent/model.js";
import { ResourceSet } from "../../../controller/intent/resources.js";
import type { FabricDocument } from "../../../controller/intent/schema.js";
import { learnSample } from "./learn-sample.js";

const fabricYaml = `
switches:
  - name: leaf1
    role: leaf
    p4runtime: { address: "127.0.0.1:50001", deviceId: 1 }
    routerMac: "02:00:00:00:0a:01"
    providerAddresses: [10.0.0.1, "fd00::1"]
    ports:
      - { port: 1, kind: access, untagged: 0x5001 }
      - { port: 2, kind: access, vlans: [{ vlan: 100, vsid: 0x5001 }, { vlan: 200, vsid: 0x6001 }] }
      - { port: 4, kind: fabric, mtu: 1600, vlan: 42 }
      - { port: 10, kind: fabric, peer: { switch: leaf2, port: 10 }, mtu: 9000 }
  - name: leaf2
    role: leaf
    p4runtime: { address: "127.0.0.1:50002", deviceId: 2 }
    routerMac: "02:00:00:00:0a:02"
    providerAddresses: [10.0.0.2]
    ports:
      - { port: 1, kind: access, untagged: 0x5001 }
      - { port: 10, kind: fabric, peer: { switch: leaf1, port: 10 }, mtu: 9000 }
tenants: [{ name: contoso }]
virtualSubnets:
  - { vsid: 0x5001, name: web, tenant: contoso, learning: true, sourceGuard: false, gateway: { mac: "00:00:5e:00:01:01", ips: [10.1.1.1/24] } }
  - { vsid: 0x6001, name: app, tenant: contoso, learning: { remote: true } }
nves:
  - name: hv1
    providerAddresses: [10.0.1.5]
    attachment: { switch: leaf1, port: 4, mac: "02:00:00:00:10:05" }
endpoints:
  - { name: web-1, vsid: 0x5001, mac: "02:00:00:00:01:01", ips: [10.1.1.10], location: { switch: leaf1, port: 1 } }
`;

const loaded = loadFabricText(fabricYaml, "test.yaml");
const { fabric, document } = loaded;

describe("learning: digest samples → learned endpoints", () => {
  test("an unknown MAC on an access port is recorded at that port (with the VSID's VLAN), marked learned", () => {
    const decision = decideLearning(
      fabric,
      document,
      "leaf1",
      learnSample({ vsid: 0x5001, mac: 0x02_00_00_00_00_09n, port: 2 }),
    );
    assert.equal(decision.action, "record");
    assert.deepEqual(decision.action === "record" && decision.endpoint, {
      name: "learned-5001-020000000009",
      vsid: 0x5001,
      mac: "02:00:00:00:00:09",
      ips: [],
      location: { switch: "leaf1", port: 2, vlan: 100 },
      learned: true,
    });
    assert.match(decision.summary, /learned 02:00:00:00:00:09 in VSID 0x5001 at leaf1:2 VLAN 100/);
    const next = recordLearned(
      document,
      decision.action === "record" ? decision.endpoint : assert.fail(),
    );
    const valid = validateDocument(next);
    assert.equal(valid.endpointByName.get("learned-5001-020000000009")?.learned, true);
  });

  test("a MAC behind a remote NVE's PA is recorded behind that NVE; a learned one seen elsewhere moves", () => {
    const remote = learnSample({
      vsid: 0x6001,
      mac: 0x02_00_00_00_00_0an,
      from_nve: 1,
      pa: 0x0a_00_01_05,
    });
    const first = decideLearning(fabric, document, "leaf1", remote);
    assert.equal(first.action, "record");
    const withLearned = recordLearned(
      document,
      first.action === "record" ? first.endpoint : assert.fail(),
    );
    const local = decideLearning(
      fabric,
      withLearned,
      "leaf1",
      learnSample({ vsid: 0x6001, mac: 0x02_00_00_00_00_0an, port: 2 }),
    );
    assert.equal(local.action, "ignore", "local learning is off in 0x6001");
    const again = decideLearning(fabric, withLearned, "leaf2", remote);
    assert.match(again.summary, /already learned at NVE hv1/);
  });

  test("policy and authority: learning off, unknown VSID, port outside the VSID, switch PA, unknown PA, declared endpoint", () => {
    const cases: [string, LearnSample, RegExp][] = [
      [
        "leaf1",
        learnSample({ vsid: 0x6001, mac: 9, port: 2 }),
        /local learning is off for the VSID/,
      ],
      [
        "leaf1",
        learnSample({ vsid: 0x7777, mac: 9, port: 1 }),
        /VSID is not in the intent; not learned/,
      ],
      [
        "leaf2",
        learnSample({ vsid: 0x5001, mac: 9, port: 7 }),
        /port leaf2:7 does not carry the VSID; not learned/,
      ],
      [
        "leaf1",
        learnSample({ vsid: 0x5001, mac: 9, from_nve: 1, pa: 0x0a_00_00_02 }),
        /behind switch leaf2, which learns its own ports/,
      ],
      [
        "leaf1",
        learnSample({ vsid: 0x5001, mac: 9, from_nve: 1, pa: 0xc0_00_02_63 }),
        /behind PA 192\.0\.2\.99, which is no NVE of the intent/,
      ],
      [
        "leaf2",
        learnSample({ vsid: 0x5001, mac: 0x02_00_00_00_01_01n, port: 1 }),
        /seen at leaf2:1, but web-1 is declared at leaf1:1; the intent wins/,
      ],
    ];
    for (const [switchName, s, message] of cases) {
      const decision = decideLearning(fabric, document, switchName, s);
      assert.equal(decision.action, "ignore", String(message));
      assert.match(decision.summary, message);
    }
  });
});

describe("CLI edits of the intent document", () => {
  test("endpoint add, move (a learned one becomes declared), del: each changes its endpoint resource alone", () => {
    const applied = (edit: ResourceEdit, on: FabricDocument) => {
      const resources = ResourceSet.of(on);
      const changes = edit(resources);
      assert.ok(changes.every((c) => c.kind === "endpoint"));
      return resources.with(changes).document;
    };
    const add = addEndpoint({
      name: "web-2",
      vsid: 0x5001,
      mac: "02:00:00:00:01:02",
      ips: ["10.1.1.11"],
      location: { switch: "leaf2", port: 1 },
    });
    assert.deepEqual(
      add(ResourceSet.of(document)).map((c) => c.key),
      ["resources/endpoint/web-2"],
    );
    const added = applied(add, document);
    assert.equal(validateDocument(added).endpointByName.get("web-2")?.location.kind, "port");
    assert.throws(
      () =>
        applied(
          addEndpoint({
            name: "web-2",
            vsid: 0x5001,
            mac: "02:00:00:00:01:03",
            location: { nve: "hv1" },
          }),
          added,
        ),
      /endpoint web-2 already exists/,
    );
    const learned = recordLearned(added, {
      name: "learned-x",
      vsid: 0x5001,
      mac: "02:00:00:00:00:09",
      location: { switch: "leaf1", port: 1 },
      learned: true,
    });
    const moved = applied(moveEndpoint("learned-x", { nve: "hv1" }), learned);
    const endpoint = moved.endpoints?.find((e) => e.name === "learned-x");
    assert.deepEqual(endpoint?.location, { nve: "hv1" });
    assert.equal(endpoint?.learned, undefined);
    // A declared endpoint moved to where it is: no change.
    assert.deepEqual(
      moveEndpoint("web-2", { switch: "leaf2", port: 1 })(ResourceSet.of(added)),
      [],
    );
    assert.equal(applied(deleteEndpoint("web-2"), added).endpoints?.length, 1);
    assert.throws(
      () => applied(deleteEndpoint("nope"), added),
      /endpoint nope is not in the intent/,
    );
  });

  test("vsid add creates its tenant; vsid del drops its learned endpoints; a used VSID is refused by validation", () => {
    const added = addVsid({
      vsid: 0x7001,
      name: "new",
      tenant: "fabrikam",
      learning: { local: true, remote: false },
    })(document);
    assert.deepEqual(
      added.tenants?.map((t) => t.name),
      ["contoso", "fabrikam"],
    );
    assert.equal(validateDocument(added).subnetByVsid.get(0x7001)?.learnLocal, true);
    assert.throws(
      () => addVsid({ vsid: 0x5001, name: "dup", tenant: "contoso" })(document),
      /VSID 0x5001 already exists/,
    );
    const withLearned = recordLearned(document, {
      name: "l",
      vsid: 0x6001,
      mac: "02:00:00:00:00:09",
      location: { nve: "hv1" },
      learned: true,
    });
    assert.deepEqual(
      deleteVsid(0x6001)(withLearned).endpoints?.map((e) => e.name),
      ["web-1"],
    );
    assert.throws(() => validateDocument(deleteVsid(0x5001)(document)), /endpoints\[0\]\.vsid/);
  });

  test("route add and del by tenant and prefix", () => {
    const added = addRoute({
      tenant: "contoso",
      prefix: "10.9.0.0/16",
      nextHop: { endpoint: "web-1" },
    })(document);
    assert.equal(validateDocument(added).routes.length, 1);
    assert.throws(
      () =>
        addRoute({ tenant: "contoso", prefix: "10.9.0.0/16", nextHop: { endpoint: "web-1" } })(
          added,
        ),
      /already routes 10\.9\.0\.0\/16/,
    );
    assert.deepEqual(deleteRoute({ tenant: "contoso", prefix: "10.9.0.0/16" })(added).routes, []);
    assert.throws(
      () => deleteRoute({ tenant: "contoso", prefix: "10.8.0.0/16" })(added),
      /route 10\.8\.0\.0\/16 of tenant contoso is not in the intent/,
    );
  });

  test("apply keeps learned endpoints unless the new file declares the same name or (VSID, MAC)", () => {
    const learnedA = {
      name: "learned-a",
      vsid: 0x5001,
      mac: "02:00:00:00:00:0a",
      location: { switch: "leaf1", port: 1 },
      learned: true,
    };
    const learnedB = {
      name: "learned-b",
      vsid: "0x5001",
      mac: "02-00-00-00-00-0B",
      location: { switch: "leaf1", port: 1 },
      learned: true,
    };
    const current = { ...document, endpoints: [...(document.endpoints ?? []), learnedA, learnedB] };
    const next = {
      ...document,
      endpoints: [
        ...(document.endpoints ?? []),
        {
          name: "b-declared",
          vsid: 0x5001,
          mac: "02:00:00:00:00:0b",
          location: { switch: "leaf2", port: 1 },
        },
      ],
    };
    assert.deepEqual(
      carryLearnedEndpoints(next, current).endpoints?.map((e) => e.name),
      ["web-1", "b-declared", "learned-a"],
    );
    assert.equal(
      carryLearnedEndpoints(document, document),
      document,
      "nothing learned: the same document",
    );
  });
});

describe("the punt handler's view of a switch, from the intent", () => {
  const leaf1 = fabric.switchByName.get("leaf1") as Switch;
  const view = switchView(fabric, leaf1);

  test("access VLANs per VSID: untagged is null, other VSIDs and ports undefined", () => {
    assert.equal(view.accessVlan(1, 0x5001), null);
    assert.equal(view.accessVlan(2, 0x6001), 200);
    assert.equal(view.accessVlan(2, 0x7777), undefined);
    assert.equal(view.accessVlan(4, 0x5001), undefined);
  });

  test("fabric ports: a peer switch's router MAC, an attached NVE host's MAC with the link's VLAN", () => {
    assert.deepEqual(view.fabricPort(10), {
      routerMac: Buffer.from("02000000 0a01".replace(" ", ""), "hex"),
      neighbourMac: Buffer.from("020000000a02", "hex"),
    });
    assert.deepEqual(view.fabricPort(4), {
      routerMac: Buffer.from("020000000a01", "hex"),
      neighbourMac: Buffer.from("020000001005", "hex"),
      vlan: 42,
    });
    assert.equal(view.fabricPort(1), undefined);
  });

  test("the switch's own PA per family", () => {
    assert.deepEqual(view.providerAddress(4), Buffer.from([10, 0, 0, 1]));
    assert.deepEqual(
      view.providerAddress(6),
      Buffer.from("fd000000000000000000000000000001", "hex"),
    );
    assert.equal(
      switchView(fabric, fabric.switchByName.get("leaf2") as Switch).providerAddress(6),
      undefined,
    );
  });
});
