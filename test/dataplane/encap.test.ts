/**
 * NVGRE encapsulation of tenant frames from access ports: wire format (R1, R2, R4), 802.1Q
 * stripped (R5), outer headers (R7, R11), source PA policy (R8), every PA/CA family pair
 * (R13), per-VSID encap counters (R15). Expected frames are Scapy's.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  addAccess,
  addNve,
  addSourcePa,
  addVsid,
  ENCAP_TTL,
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

const VSID = 0x5001;
const VSID_INDEX = 1;
const VM_A = "02:00:00:00:0a:01"; // local, port 3 untagged and port 4 VLAN 100
const VM_B = "02:00:00:00:0b:01"; // behind NVE 1 (IPv4 PA)
const VM_C = "02:00:00:00:0c:01"; // behind NVE 2 (IPv6 PA)
const VM_D = "02:00:00:00:0d:01"; // behind NVE 3 (IPv4 PA, per-destination source PA)
const VM_E = "02:00:00:00:0e:01"; // behind NVE 4, reached over port 2 with an outer VLAN
const NVE1 = "198.51.100.2";
const NVE2 = "2001:db8:100::2";
const NVE3 = "198.51.100.3";
const NVE4 = "203.0.113.4";
const PA4_ALT = "192.0.2.9"; // R8: a second PA of this NVE, used toward NVE 3
const OUTER_VLAN = 200;
const P2_NEXT_HOP = "00:00:5e:00:53:fd";

const inner4 = (dst: string) =>
  `Ether(src=${py(VM_A)}, dst=${py(dst)})/IP(src="10.1.0.1", dst="10.1.0.2")/UDP(sport=4000, dport=53)/Raw(b"nvgre")`;
const inner6 = (dst: string) =>
  `Ether(src=${py(VM_A)}, dst=${py(dst)})/IPv6(src="fd00:1::1", dst="fd00:1::2")/TCP(sport=4001, dport=443, flags="S")`;
/** The same frame as it arrives tagged on an access port. */
const tagged = (vlan: number, innerExpr: string) =>
  `(lambda f: Ether(src=f.src, dst=f.dst)/Dot1Q(vlan=${vlan}, prio=5)/f.payload)(${innerExpr})`;

const encap4 = (innerExpr: string, dst = NVE1, src = PA4, ttl = ENCAP_TTL) =>
  `nvgre4(${py(SWITCH_MAC)}, ${py(SPINE_MAC)}, ${py(src)}, ${py(dst)}, ${VSID}, flow_id(${innerExpr}), ${innerExpr}, ttl=${ttl})`;
const encap6 = (innerExpr: string, dst = NVE2) =>
  `nvgre6(${py(SWITCH_MAC)}, ${py(SPINE_MAC)}, ${py(PA6)}, ${py(dst)}, ${VSID}, flow_id(${innerExpr}), ${innerExpr}, hlim=${ENCAP_TTL}, fl=flow_hash(${innerExpr}))`;

for (const factory of targets()) {
  describe(`NVGRE encapsulation on ${factory.kind}`, () => {
    const { skip } = factory;
    let target: DataplaneTarget;
    const scapy = new Scapy();

    before(async () => {
      if (skip) return;
      target = await factory.start();
      const batch = leafBase(new Batch(target));
      addVsid(batch, { vsid: VSID, index: VSID_INDEX });
      addAccess(batch, 3, VSID);
      addAccess(batch, 4, VSID, 100);
      addAccess(batch, 5, VSID, 0); // priority-tagged frames only
      addNve(batch, 1, NVE1);
      addNve(batch, 2, NVE2);
      addNve(batch, 3, NVE3);
      addNve(batch, 4, NVE4);
      addSourcePa(batch, VSID, { v4: PA4, v6: PA6 });
      addSourcePa(batch, VSID, { v4: PA4_ALT }, 3);
      batch.entry("mac", { vsid: VSID, dst_mac: VM_B }, "bridge_to_nve", { nve_id: 1 });
      batch.entry("mac", { vsid: VSID, dst_mac: VM_C }, "bridge_to_nve", { nve_id: 2 });
      batch.entry("mac", { vsid: VSID, dst_mac: VM_D }, "bridge_to_nve", { nve_id: 3 });
      batch.entry("mac", { vsid: VSID, dst_mac: VM_E }, "bridge_to_nve", { nve_id: 4 });
      batch.entry("route_v4", { dst_pa: `${NVE4}/32` }, "set_next_hop", {
        port: 2,
        smac: SWITCH_MAC,
        dmac: P2_NEXT_HOP,
      });
      batch.entry("egress_vlan", { port: 2, vsid: 0 }, "set_egress_vlan", {
        vlan_id: OUTER_VLAN,
      });
      await batch.commit();
    });

    after(async () => {
      await scapy.close();
      await target?.close();
    });

    test("R1 R2 R3 R4 R7 R11: an untagged access frame leaves NVGRE-encapsulated toward its NVE", {
      skip,
    }, async () => {
      const [frame, expected] = await scapy.frames([inner4(VM_B), encap4(inner4(VM_B))]);
      const out = await target.send(3, frame as Buffer);
      assert.deepEqual(out, [{ port: UPLINK, frame: expected }]);
      // R1 spelled out: the GRE header starts 20 00 65 58 (after Ethernet 14 + IPv4 20).
      assert.equal(out[0]?.frame.subarray(34, 38).toString("hex"), "20006558");
    });

    test("R5: a tagged access frame loses its 802.1Q tag before encapsulation", {
      skip,
    }, async () => {
      const [frame, expected] = await scapy.frames([
        tagged(100, inner4(VM_B)),
        encap4(inner4(VM_B)),
      ]);
      assert.deepEqual(await target.send(4, frame as Buffer), [{ port: UPLINK, frame: expected }]);
    });

    test("R5: a priority-tagged frame (VLAN 0) is classified by its port and loses the tag", {
      skip,
    }, async () => {
      const [frame, expected] = await scapy.frames([tagged(0, inner4(VM_B)), encap4(inner4(VM_B))]);
      assert.deepEqual(await target.send(5, frame as Buffer), [{ port: UPLINK, frame: expected }]);
    });

    test("R7: the outer TTL is the one configured in switch_config", { skip }, async () => {
      const config = (ttl: number) =>
        new Batch(target)
          .defaultAction("switch_config", {
            action: "set_switch_config",
            params: { encap_ttl: ttl, punt_vsid_ffffff: 1 },
          })
          .commit();
      await config(17);
      try {
        const [frame, expected] = await scapy.frames([
          inner4(VM_B),
          encap4(inner4(VM_B), NVE1, PA4, 17),
        ]);
        assert.deepEqual(await target.send(3, frame as Buffer), [
          { port: UPLINK, frame: expected },
        ]);
      } finally {
        await config(ENCAP_TTL);
      }
    });

    test("R4: any Ethernet payload is carried, not only IP", { skip }, async () => {
      const inner = `Ether(src=${py(VM_A)}, dst=${py(VM_B)}, type=0x88b5)/Raw(bytes(range(46)))`;
      const [frame, expected] = await scapy.frames([inner, encap4(inner)]);
      assert.deepEqual(await target.send(3, frame as Buffer), [{ port: UPLINK, frame: expected }]);
    });

    test("R13: IPv4 and IPv6 CAs in IPv4 and IPv6 PAs, all four combinations", {
      skip,
    }, async () => {
      const cases = [
        { name: "IPv4 CA in IPv4 PA", frame: inner4(VM_B), expected: encap4(inner4(VM_B)) },
        { name: "IPv6 CA in IPv4 PA", frame: inner6(VM_B), expected: encap4(inner6(VM_B)) },
        { name: "IPv4 CA in IPv6 PA", frame: inner4(VM_C), expected: encap6(inner4(VM_C)) },
        { name: "IPv6 CA in IPv6 PA", frame: inner6(VM_C), expected: encap6(inner6(VM_C)) },
      ];
      const frames = await scapy.frames(cases.flatMap((c) => [c.frame, c.expected]));
      for (const [i, c] of cases.entries()) {
        const out = await target.send(3, frames[2 * i] as Buffer);
        assert.deepEqual(out, [{ port: UPLINK, frame: frames[2 * i + 1] }], c.name);
      }
    });

    test("R8: the source PA is chosen per VSID, and per destination NVE where configured", {
      skip,
    }, async () => {
      const [toD, expectedD] = await scapy.frames([
        inner4(VM_D),
        encap4(inner4(VM_D), NVE3, PA4_ALT),
      ]);
      assert.deepEqual(await target.send(3, toD as Buffer), [{ port: UPLINK, frame: expectedD }]);
    });

    test("R7: the outer VLAN tag is added on a fabric port configured for one", {
      skip,
    }, async () => {
      const expectedExpr = `nvgre4(${py(SWITCH_MAC)}, ${py(P2_NEXT_HOP)}, ${py(PA4)}, ${py(NVE4)}, ${VSID}, flow_id(${inner4(VM_E)}), ${inner4(VM_E)}, vlan=${OUTER_VLAN})`;
      const [frame, expected] = await scapy.frames([inner4(VM_E), expectedExpr]);
      assert.deepEqual(await target.send(3, frame as Buffer), [{ port: 2, frame: expected }]);
    });

    test("R15: vsid_encap counts each encapsulated packet of the VSID", { skip }, async () => {
      const frame = await scapy.frame(inner4(VM_B));
      const before = await readCounter(target, "vsid_encap", VSID_INDEX);
      for (let i = 0; i < 3; i++) assert.equal((await target.send(3, frame)).length, 1);
      const after = await readCounter(target, "vsid_encap", VSID_INDEX);
      assert.equal(after.packets - before.packets, 3);
      // v1model counters count the packet's length as received (bmv2), here the tenant frame.
      assert.equal(after.bytes - before.bytes, 3 * frame.length);
    });
  });
}
