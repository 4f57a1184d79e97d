/**
 * Learned-endpoint ageing: what an idle-timeout notice means (learning.ts decideAgeing), the
 * idle timeouts the compiler gives learned endpoints' learned_mac entries (and only those),
 * and end to end on each target: a learned endpoint not seen for `learnedAgeingSeconds` is
 * removed from the intent and the switch, a moved one is updated (and ages at its new place),
 * one behind a remote NVE ages too, declared endpoints never do. No assertion on how fast:
 * the end-to-end cases wait for the daemon's events with a generous deadline.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { codecFor, compileFabric } from "../../../controller/compile/compile.js";
import {
  decideAgeing,
  type LearnSample,
  recordLearned,
  removeLearned,
} from "../../../controller/daemon/learning.js";
import { loadFabricText, validateDocument } from "../../../controller/intent/load.js";
import type { FabricDocument } from "../../../controller/intent/schema.js";
import { loadNvgrePipeline } from "../../../controller/nvgre-build.js";
import { p4runtimeProto } from "../../../proto/load.js";
import { py, Scapy } from "../../../topologies/scapy.js";
import { targets } from "../../support/targets.js";
import { daemonOnTarget } from "./daemon-on-target.js";
import { learnSample } from "./learn-sample.js";

const leafMac = "02:00:00:00:0a:01";
const hv1 = { mac: "02:00:00:00:10:05", pa: "10.0.1.5" };
const web1 = { mac: "02:00:00:00:01:01", ip: "10.1.1.10" };

/** leaf1 (and leaf2, for the compiler): access ports 1, 2 in VSID 0x5001, port 3 to hypervisor hv1. */
function fabricText(address: string, deviceId: number, withLeaf2 = false): string {
  return `switches:
  - name: leaf1
    role: leaf
    p4runtime: { address: "${address}", deviceId: ${deviceId} }
    routerMac: "${leafMac}"
    providerAddresses: [10.0.0.1]
    ports:
      - { port: 1, kind: access, untagged: 0x5001 }
      - { port: 2, kind: access, untagged: 0x5001 }
      - { port: 3, kind: fabric, mtu: 9000 }
${
  withLeaf2
    ? `      - { port: 10, kind: fabric, peer: { switch: leaf2, port: 10 }, mtu: 9000 }
  - name: leaf2
    role: leaf
    p4runtime: { address: "127.0.0.1:1", deviceId: 2 }
    routerMac: "02:00:00:00:0a:02"
    providerAddresses: [10.0.0.2]
    ports:
      - { port: 1, kind: access, untagged: 0x5001 }
      - { port: 10, kind: fabric, peer: { switch: leaf1, port: 10 }, mtu: 9000 }
`
    : ""
}tenants: [{ name: contoso }]
virtualSubnets:
  - { vsid: 0x5001, name: web, tenant: contoso, sourceGuard: false, paValidation: false, learning: true }
nves:
  - { name: hv1, providerAddresses: [${hv1.pa}], attachment: { switch: leaf1, port: 3, mac: "${hv1.mac}" } }
endpoints:
  - { name: web-1, vsid: 0x5001, mac: "${web1.mac}", ips: [${web1.ip}], location: { switch: leaf1, port: 1 } }
  - { name: web-2, vsid: 0x5001, mac: "02:00:00:00:01:02", location: { nve: hv1 } }
`;
}

type EndpointDoc = NonNullable<FabricDocument["endpoints"]>[number];

const learnedLocal: EndpointDoc = {
  name: "learned-5001-020000000009",
  vsid: 0x5001,
  mac: "02:00:00:00:00:09",
  ips: [],
  location: { switch: "leaf1", port: 2 },
  learned: true,
};
const learnedRemote: EndpointDoc = {
  name: "learned-5001-02000000000a",
  vsid: 0x5001,
  mac: "02:00:00:00:00:0a",
  ips: [],
  location: { nve: "hv1" },
  learned: true,
};

describe("learned-endpoint ageing: decisions and compiled idle timeouts", () => {
  const base = loadFabricText(fabricText("127.0.0.1:2", 1, true), "ageing.yaml").document;
  const document = recordLearned(recordLearned(base, learnedLocal), learnedRemote);
  const fabric = validateDocument(document);

  test("an idle notice for a learned endpoint's own entry ages it; the document loses only it", () => {
    const decision = decideAgeing(
      fabric,
      document,
      "leaf1",
      learnSample({ vsid: 0x5001, mac: 0x02_00_00_00_00_09n, port: 2 }),
    );
    assert.equal(decision.action, "age");
    assert.match(decision.summary, /02:00:00:00:00:09 in VSID 0x5001 aged out at leaf1:2/);
    if (decision.action !== "age") return;
    const next = removeLearned(document, decision.endpoint, decision.location);
    assert.deepEqual(
      next.endpoints?.map((e) => e.name),
      ["web-1", "web-2", "learned-5001-02000000000a"],
    );
    const remote = decideAgeing(
      fabric,
      document,
      "leaf2",
      learnSample({ vsid: 0x5001, mac: 0x02_00_00_00_00_0an, from_nve: 1, pa: 0x0a_00_01_05 }),
    );
    assert.equal(remote.action, "age");
    assert.match(remote.summary, /aged out at NVE hv1/);
  });

  test("kept: a declared endpoint, a moved one's old place, one no longer in the intent", () => {
    const moved = recordLearned(document, {
      ...learnedLocal,
      location: { switch: "leaf1", port: 1 },
    });
    const cases: [FabricDocument, LearnSample, RegExp][] = [
      [
        document,
        learnSample({ vsid: 0x5001, mac: 0x02_00_00_00_01_01n, port: 1 }),
        /declared as web-1, never aged/,
      ],
      [
        moved,
        learnSample({ vsid: 0x5001, mac: 0x02_00_00_00_00_09n, port: 2 }),
        /now at leaf1:1; the idle entry was its old place/,
      ],
      [
        base,
        learnSample({ vsid: 0x5001, mac: 0x02_00_00_00_00_09n, port: 2 }),
        /no longer in the intent/,
      ],
    ];
    for (const [doc, notice, message] of cases) {
      const decision = decideAgeing(validateDocument(doc), doc, "leaf1", notice);
      assert.equal(decision.action, "keep", String(message));
      assert.match(decision.summary, message);
    }
    // Moved or declared in the meantime: removing what the notice was about changes nothing.
    assert.equal(removeLearned(moved, learnedLocal.name, learnedLocal.location), moved);
  });

  test("compiled: learned endpoints' learned_mac entries time out where their frames enter; declared ones and 0 never", () => {
    const pipeline = loadNvgrePipeline();
    const codec = codecFor(pipeline.index);
    const learnedMacs = (timeoutNs: number) => {
      const compiled = compileFabric(fabric, pipeline.index, undefined, {
        learnedIdleTimeoutNs: timeoutNs,
      });
      return Object.fromEntries(
        [...compiled.switches].map(([name, state]) => [
          name,
          [...(state.collections.get("table:learned_mac") ?? [])]
            .map(([k, v]) => codec.describe("table:learned_mac", k, v))
            .sort(),
        ]),
      );
    };
    const timed = learnedMacs(2e9);
    const idle = (lines: string[]) => lines.filter((l) => l.endsWith("idle timeout 2 s"));
    // leaf1: the local learned endpoint (its port) and the one behind hv1 time out.
    const leaf1 = idle(timed.leaf1 ?? []);
    assert.equal(leaf1.length, 2, leaf1.join("\n"));
    assert.match(leaf1[0] ?? "", /mac=02:00:00:00:00:09 port=2 from_nve=0 /);
    assert.match(leaf1[1] ?? "", /mac=02:00:00:00:00:0a port=0 from_nve=1 /);
    // leaf2 sees leaf1's learned endpoint behind leaf1's PA: leaf1 times it, leaf2 does not.
    assert.equal(idle(timed.leaf2 ?? []).length, 1);
    assert.match(idle(timed.leaf2 ?? [])[0] ?? "", /mac=02:00:00:00:00:0a /);
    assert.ok(
      (timed.leaf2 ?? []).some(
        (l) => /mac=02:00:00:00:00:09 .*from_nve=1/.test(l) && !l.includes("idle"),
      ),
    );
    assert.ok(
      (timed.leaf1 ?? []).some((l) => /mac=02:00:00:00:01:01 .*→ known_source\(\)$/.test(l)),
    );
    assert.deepEqual(
      Object.values(learnedMacs(0))
        .flat()
        .filter((l) => l.includes("idle")),
      [],
      "0 = never",
    );
  });

  test("the idle timeout reaches the switch as idle_timeout_ns and reads back to the same value", () => {
    const pipeline = loadNvgrePipeline();
    const codec = codecFor(pipeline.index);
    const compiled = compileFabric(fabric, pipeline.index, undefined, {
      learnedIdleTimeoutNs: 2e9,
    });
    const timed = [...(compiled.switches.get("leaf1")?.collections.get("table:learned_mac") ?? [])];
    const [entryKey, value] =
      timed.find(([, v]) => v.includes("idle")) ?? assert.fail("no timed entry");
    assert.equal(value, "known_source() idle=2000000000");
    const entity = codec.toEntity("table:learned_mac", entryKey, value);
    assert.equal(entity.table_entry?.idle_timeout_ns, "2000000000");
    // Through the wire format, as a switch would return it on a read.
    const Entity = p4runtimeProto().p4.v1.Entity;
    const back = codec.fromEntity(Entity.deserialize(Entity.serialize(entity)));
    assert.deepEqual(back, { collection: "table:learned_mac", key: entryKey, value });
  });
});

for (const factory of targets()) {
  describe(`learned endpoints age out on ${factory.kind}`, () => {
    const { skip } = factory;
    const scapy = new Scapy();
    const harness = daemonOnTarget(factory, {
      ports: [1, 2, 3],
      fabric: (address, deviceId) => fabricText(address, deviceId),
      settings: { learnedAgeing: "2" },
    });
    const cli = (...args: string[]) => harness.cli(...args);
    // Ageing takes its idle time plus the switch's sweep; the wait is generous, not a bound.
    const eventMatching = (kind: string, pattern: RegExp) =>
      harness.eventMatching(kind, pattern, 60_000);

    async function endpoints(): Promise<{ name: string; location: string; learned: boolean }[]> {
      return JSON.parse((await cli("get", "endpoints", "-o", "json")).out);
    }

    async function learnedMacEntries(): Promise<string> {
      const listed = await cli("tables", "leaf1", "learned_mac", "-o", "json");
      assert.equal(listed.code, 0, listed.err);
      return listed.out;
    }

    after(() => scapy.close());

    test("a learned endpoint not seen for learnedAgeingSeconds leaves the intent and the switch; declared ones stay", {
      skip,
    }, async () => {
      const [arp] = await scapy.frames([
        `Ether(src="02:00:00:00:00:09", dst="ff:ff:ff:ff:ff:ff") / ARP(hwsrc="02:00:00:00:00:09", psrc="10.1.1.99", pdst=${py(web1.ip)})`,
      ]);
      await harness.target.send(2, arp as Buffer);
      assert.ok(
        await eventMatching("learning", /learned 02:00:00:00:00:09 in VSID 0x5001 at leaf1:2/),
      );
      const aged = await eventMatching(
        "learning",
        /02:00:00:00:00:09 in VSID 0x5001 aged out at leaf1:2 \(not seen for 2 s\)/,
      );
      assert.ok(aged, JSON.stringify(harness.daemon?.events.since(0).slice(-5)));
      assert.equal(aged.data?.endpoint, "learned-5001-020000000009");
      const names = (await endpoints()).map((e) => e.name);
      assert.deepEqual(names.sort(), ["web-1", "web-2"]);
      const entries = await learnedMacEntries();
      assert.doesNotMatch(entries, /02:00:00:00:00:09/, "its learned_mac entry is gone");
      assert.match(
        entries,
        /02:00:00:00:01:01/,
        "the declared web-1 (silent all along) keeps its entry",
      );
      const shown = await cli("events", "-o", "json");
      assert.match(shown.out, /aged out at leaf1:2/, "nvgre-ctl events shows the ageing");
    });

    test("a learned endpoint seen elsewhere is moved, not aged, and later ages at its new place", {
      skip,
    }, async () => {
      const mac = "02:00:00:00:00:0b";
      const [fromPort2, fromPort1] = await scapy.frames([
        `Ether(src=${py(mac)}, dst="ff:ff:ff:ff:ff:ff") / ARP(hwsrc=${py(mac)}, psrc="10.1.1.98", pdst=${py(web1.ip)})`,
        `Ether(src=${py(mac)}, dst=${py(web1.mac)}) / IP(src="10.1.1.98", dst=${py(web1.ip)}) / UDP() / Raw(b"moved")`,
      ]);
      const t = harness.target;
      await t.send(2, fromPort2 as Buffer);
      assert.ok(
        await eventMatching("learning", /learned 02:00:00:00:00:0b in VSID 0x5001 at leaf1:2/),
      );
      await t.send(1, fromPort1 as Buffer);
      assert.ok(
        await eventMatching(
          "learning",
          /02:00:00:00:00:0b in VSID 0x5001 moved from leaf1:2 to leaf1:1/,
        ),
      );
      assert.equal(
        (await endpoints()).find((e) => e.name === "learned-5001-02000000000b")?.location,
        "leaf1:1",
      );
      const aged = await eventMatching("learning", /02:00:00:00:00:0b in VSID 0x5001 aged out/);
      assert.match(
        aged?.message ?? "",
        /aged out at leaf1:1/,
        "aged at its new place, never at the old",
      );
    });

    test("a learned endpoint behind a remote NVE ages out too", { skip }, async () => {
      const mac = "02:00:00:00:00:0c";
      const [tunnelled] = await scapy.frames([
        `nvgre4(${py(hv1.mac)}, ${py(leafMac)}, ${py(hv1.pa)}, "10.0.0.1", 0x5001, 3, Ether(src=${py(mac)}, dst=${py(web1.mac)}) / IP(src="10.1.1.97", dst=${py(web1.ip)}) / UDP() / Raw(b"remote"))`,
      ]);
      const outputs = await harness.target.send(3, tunnelled as Buffer);
      assert.deepEqual(
        outputs.map((o) => o.port),
        [1],
        "decapsulated to web-1",
      );
      assert.ok(
        await eventMatching("learning", /learned 02:00:00:00:00:0c in VSID 0x5001 at NVE hv1/),
      );
      assert.ok(
        await eventMatching("learning", /02:00:00:00:00:0c in VSID 0x5001 aged out at NVE hv1/),
      );
      assert.equal(
        (await endpoints()).find((e) => e.name === "learned-5001-02000000000c"),
        undefined,
      );
    });
  });
}
