/**
 * Broadcast, multicast and unknown unicast inside a VSID (R10), both ways RFC 7637 allows,
 * chosen per VSID: head-end replication (one NVGRE copy per remote NVE of the VSID, IPv4 and
 * IPv6 NVEs alike) and an administratively scoped PA multicast group; local copies re-tagged
 * per port, never back to the ingress port; floods from the fabric reach local ports only
 * (split horizon); flood and encap counters per VSID (R15).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  addAccess,
  addSourcePa,
  addVsid,
  leafBase,
  PA4,
  PA6,
  SPINE_MAC,
  SWITCH_MAC,
  UPLINK,
} from "../../topologies/leaf.js";
import { Batch, readCounter } from "../../topologies/leaf-program.js";
import { py, Scapy } from "../../topologies/scapy.js";
import { type DataplaneTarget, targets } from "../support/targets.js";
import { DropCounters, sortedOutputs } from "./observe.js";

const VSID_HER = 0x5001; // ports 3, 4 (VLAN 100), 5; NVEs 198.51.100.2 and 2001:db8:100::3
const VSID_MCAST = 0x5002; // ports 6, 7; PA multicast group 239.1.1.1
const NVE1 = "198.51.100.2";
const NVE2_V6 = "2001:db8:100::3";
const GROUP_PA = "239.1.1.1";
const GROUP_MAC = "01:00:5e:01:01:01"; // RFC 1112 mapping of 239.1.1.1
const VM_A = "02:00:00:00:0a:01";
const VM_B = "02:00:00:00:0b:01";

const arpWhoHas = (src: string) =>
  `Ether(src=${py(src)}, dst="ff:ff:ff:ff:ff:ff")/ARP(op=1, hwsrc=${py(src)}, psrc="10.1.0.1", pdst="10.1.0.99")`;
const unknownUnicast = `Ether(src=${py(VM_A)}, dst="02:00:00:00:99:99")/IP(src="10.1.0.1", dst="10.1.0.9")/UDP(sport=7, dport=7)`;
const ipv6Multicast = `Ether(src=${py(VM_A)}, dst="33:33:00:00:00:01")/IPv6(src="fd00:1::1", dst="ff02::1")/UDP(sport=9, dport=9)`;
const tagged = (vlan: number, inner: string) =>
  `(lambda f: Ether(src=f.src, dst=f.dst)/Dot1Q(vlan=${vlan})/f.payload)(${inner})`;

interface Copy {
  port: number;
  /** Scapy expression of the frame expected on that port. */
  expr: string;
}

/** What a flood of `inner` from port 3 must produce in VSID_HER. */
const herCopies = (inner: string): Copy[] => [
  { port: 4, expr: tagged(100, inner) },
  { port: 5, expr: inner },
  {
    port: UPLINK,
    expr: `nvgre4(${py(SWITCH_MAC)}, ${py(SPINE_MAC)}, ${py(PA4)}, ${py(NVE1)}, ${VSID_HER}, flow_id(${inner}), ${inner})`,
  },
  {
    port: UPLINK,
    expr: `nvgre6(${py(SWITCH_MAC)}, ${py(SPINE_MAC)}, ${py(PA6)}, ${py(NVE2_V6)}, ${VSID_HER}, flow_id(${inner}), ${inner}, fl=flow_hash(${inner}))`,
  },
];

for (const factory of targets()) {
  describe(`flooding in a VSID on ${factory.kind}`, () => {
    const { skip } = factory;
    let target: DataplaneTarget;
    const scapy = new Scapy();

    /** Builds the expected copies with Scapy and compares them with what left, as sets. */
    async function expectCopies(port: number, frameExpr: string, copies: Copy[]) {
      const [frame, ...expected] = await scapy.frames([frameExpr, ...copies.map((c) => c.expr)]);
      const out = await target.send(port, frame as Buffer);
      assert.deepEqual(
        sortedOutputs(out),
        sortedOutputs(copies.map((c, i) => ({ port: c.port, frame: expected[i] as Buffer }))),
      );
    }

    before(async () => {
      if (skip) return;
      target = await factory.start();
      const batch = leafBase(new Batch(target));
      // PA multicast: IPv4 multicast MACs are for us, and so is the VSID's group address.
      batch.entry(
        "my_mac",
        { dst_mac: { value: "01:00:5e:00:00:00", mask: "ff:ff:ff:80:00:00" } },
        "set_my_mac",
        {},
        2,
      );
      batch.entry("local_pa_v4", { pa: GROUP_PA }, "set_local_pa");
      addVsid(batch, { vsid: VSID_HER, index: 1 });
      addVsid(batch, { vsid: VSID_MCAST, index: 2 });
      addAccess(batch, 3, VSID_HER);
      addAccess(batch, 4, VSID_HER, 100);
      addAccess(batch, 5, VSID_HER);
      addAccess(batch, 6, VSID_MCAST);
      addAccess(batch, 7, VSID_MCAST);
      addSourcePa(batch, VSID_HER, { v4: PA4, v6: PA6 });
      addSourcePa(batch, VSID_MCAST, { v4: PA4 });
      const next = { smac: SWITCH_MAC, dmac: SPINE_MAC };
      batch.entry("flood_replica", { rid: 1 }, "replicate_v4", { dst_pa: NVE1, ...next });
      batch.entry("flood_replica", { rid: 2 }, "replicate_v6", { dst_pa: NVE2_V6, ...next });
      batch.entry("flood_replica", { rid: 3 }, "replicate_v4", {
        dst_pa: GROUP_PA,
        smac: SWITCH_MAC,
        dmac: GROUP_MAC,
      });
      const local = (...ports: number[]) => ports.map((port) => ({ port, instance: 0 }));
      const b = batch.builder;
      batch.insert(
        b.multicastGroup(1, [
          ...local(3, 4, 5),
          { port: UPLINK, instance: 1 },
          { port: UPLINK, instance: 2 },
        ]),
      );
      batch.insert(b.multicastGroup(2, local(3, 4, 5)));
      batch.insert(b.multicastGroup(3, [...local(6, 7), { port: UPLINK, instance: 3 }]));
      batch.insert(b.multicastGroup(4, local(6, 7)));
      batch.entry("vsid_flood", { vsid: VSID_HER }, "set_flood_groups", {
        group: 1,
        local_group: 2,
      });
      batch.entry("vsid_flood", { vsid: VSID_MCAST }, "set_flood_groups", {
        group: 3,
        local_group: 4,
      });
      await batch.commit();
    });

    after(async () => {
      await scapy.close();
      await target?.close();
    });

    test("R10 R15 head-end replication: a broadcast reaches the VSID's other local ports and each remote NVE once", {
      skip,
    }, async () => {
      const [flood, encap] = await Promise.all([
        readCounter(target, "vsid_flood", 1),
        readCounter(target, "vsid_encap", 1),
      ]);
      const drops = await DropCounters.read(target);
      await expectCopies(3, arpWhoHas(VM_A), herCopies(arpWhoHas(VM_A)));
      // R15: one flood, two tunnel copies; the copy to the ingress port was pruned.
      assert.equal((await readCounter(target, "vsid_flood", 1)).packets - flood.packets, 1);
      assert.equal((await readCounter(target, "vsid_encap", 1)).packets - encap.packets, 2);
      assert.deepEqual((await DropCounters.read(target)).since(drops), {
        "egress:FLOOD_PRUNE": 1,
      });
    });

    test("R10: unknown unicast and multicast destinations flood the same way", {
      skip,
    }, async () => {
      await expectCopies(3, unknownUnicast, herCopies(unknownUnicast));
      await expectCopies(3, ipv6Multicast, herCopies(ipv6Multicast));
    });

    test("R10 split horizon: a flood arriving from an NVE goes to local ports only", {
      skip,
    }, async () => {
      const inner = arpWhoHas(VM_B);
      const packet = `nvgre4(${py(SPINE_MAC)}, ${py(SWITCH_MAC)}, ${py(NVE1)}, ${py(PA4)}, ${VSID_HER}, 3, ${inner})`;
      await expectCopies(UPLINK, packet, [
        { port: 3, expr: inner },
        { port: 4, expr: tagged(100, inner) },
        { port: 5, expr: inner },
      ]);
    });

    test("R10 PA multicast: a VSID configured for it sends one copy to its administratively scoped group", {
      skip,
    }, async () => {
      const inner = arpWhoHas(VM_A);
      await expectCopies(6, inner, [
        { port: 7, expr: inner },
        {
          port: UPLINK,
          expr: `nvgre4(${py(SWITCH_MAC)}, ${py(GROUP_MAC)}, ${py(PA4)}, ${py(GROUP_PA)}, ${VSID_MCAST}, flow_id(${inner}), ${inner})`,
        },
      ]);
    });

    test("R10 PA multicast: NVGRE to the VSID's group address is decapsulated and flooded locally", {
      skip,
    }, async () => {
      const inner = arpWhoHas(VM_B);
      const packet = `nvgre4(${py(SPINE_MAC)}, ${py(GROUP_MAC)}, ${py(NVE1)}, ${py(GROUP_PA)}, ${VSID_MCAST}, 9, ${inner})`;
      await expectCopies(UPLINK, packet, [
        { port: 6, expr: inner },
        { port: 7, expr: inner },
      ]);
    });
  });
}
