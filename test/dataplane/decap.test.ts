/**
 * NVGRE decapsulation: a valid NVGRE packet for a local PA delivers its inner frame, byte for
 * byte, to the local port of the VSID (R1, R2, R4, R11), re-tagged where the port is tagged
 * (the port's own VLAN; R5 only keeps tags off the wire between NVEs), whatever the FlowID (R3), over IPv4 or
 * IPv6 (R13), with or without an outer VLAN (R7), counted per VSID (R15). Invalid NVGRE is in
 * drops.test.ts.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  addAccess,
  addVsid,
  leafBase,
  PA4,
  PA6,
  SPINE_MAC,
  SWITCH_MAC,
} from "../../topologies/leaf.js";
import { Batch, readCounter } from "../../topologies/leaf-program.js";
import { py, Scapy } from "../../topologies/scapy.js";
import { type DataplaneTarget, targets } from "../support/targets.js";

const VSID = 0x5001;
const VSID_INDEX = 1;
const VM_A = "02:00:00:00:0a:01"; // port 3, untagged
const VM_A4 = "02:00:00:00:0a:04"; // port 4, VLAN 100
const VM_B = "02:00:00:00:0b:01"; // behind the remote NVE
const NVE1 = "198.51.100.2";
const NVE1_V6 = "2001:db8:100::2";

const udp4 = (dst: string) =>
  `Ether(src=${py(VM_B)}, dst=${py(dst)})/IP(src="10.1.0.2", dst="10.1.0.1")/UDP(sport=53, dport=4000)/Raw(b"reply")`;
const tcp6 = (dst: string) =>
  `Ether(src=${py(VM_B)}, dst=${py(dst)})/IPv6(src="fd00:1::2", dst="fd00:1::1")/TCP(sport=443, dport=4001, flags="SA")`;
const over4 = (inner: string, flowId = 0x42, vlan = "None") =>
  `nvgre4(${py(SPINE_MAC)}, ${py(SWITCH_MAC)}, ${py(NVE1)}, ${py(PA4)}, ${VSID}, ${flowId}, ${inner}, ttl=60, vlan=${vlan})`;
const over6 = (inner: string) =>
  `nvgre6(${py(SPINE_MAC)}, ${py(SWITCH_MAC)}, ${py(NVE1_V6)}, ${py(PA6)}, ${VSID}, 0x99, ${inner}, hlim=60, fl=0x12345)`;
/** The frame as a tagged access port carries it. */
const retagged = (vlan: number, inner: string) =>
  `(lambda f: Ether(src=f.src, dst=f.dst)/Dot1Q(vlan=${vlan})/f.payload)(${inner})`;

for (const factory of targets()) {
  describe(`NVGRE decapsulation on ${factory.kind}`, () => {
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
      batch.entry("mac", { vsid: VSID, dst_mac: VM_A }, "bridge_to_port", { port: 3 });
      batch.entry("mac", { vsid: VSID, dst_mac: VM_A4 }, "bridge_to_port", { port: 4 });
      await batch.commit();
    });

    after(async () => {
      await scapy.close();
      await target?.close();
    });

    test("R1 R2 R3 R11: NVGRE over IPv4 to our PA delivers the inner frame, whatever the FlowID", {
      skip,
    }, async () => {
      const flowIds = [0, 0x42, 0xff];
      const frames = await scapy.frames([udp4(VM_A), ...flowIds.map((f) => over4(udp4(VM_A), f))]);
      const [inner, ...packets] = frames as [Buffer, ...Buffer[]];
      for (const [i, packet] of packets.entries()) {
        assert.deepEqual(await target.send(1, packet), [{ port: 3, frame: inner }], `FlowID ${i}`);
      }
    });

    test("the decapsulated frame is re-tagged with a tagged access port's VLAN", {
      skip,
    }, async () => {
      const [packet, expected] = await scapy.frames([
        over4(udp4(VM_A4)),
        retagged(100, udp4(VM_A4)),
      ]);
      assert.deepEqual(await target.send(1, packet as Buffer), [{ port: 4, frame: expected }]);
    });

    test("R13: NVGRE over IPv6 carries IPv4 and IPv6 CAs", { skip }, async () => {
      const frames = await scapy.frames([
        udp4(VM_A),
        over6(udp4(VM_A)),
        tcp6(VM_A),
        over6(tcp6(VM_A)),
      ]);
      assert.deepEqual(await target.send(2, frames[1] as Buffer), [{ port: 3, frame: frames[0] }]);
      assert.deepEqual(await target.send(2, frames[3] as Buffer), [{ port: 3, frame: frames[2] }]);
    });

    test("R7: NVGRE arriving with an outer VLAN tag is decapsulated", { skip }, async () => {
      const [inner, packet] = await scapy.frames([udp4(VM_A), over4(udp4(VM_A), 7, "300")]);
      assert.deepEqual(await target.send(1, packet as Buffer), [{ port: 3, frame: inner }]);
    });

    test("R4: a non-IP inner frame is delivered as it was carried", { skip }, async () => {
      const inner = `Ether(src=${py(VM_B)}, dst=${py(VM_A)}, type=0x88b5)/Raw(bytes(range(60)))`;
      const [frame, packet] = await scapy.frames([inner, over4(inner)]);
      assert.deepEqual(await target.send(1, packet as Buffer), [{ port: 3, frame }]);
    });

    test("R1: an outer IPv4 header with options does not stop decapsulation", {
      skip,
    }, async () => {
      const packet =
        `Ether(src=${py(SPINE_MAC)}, dst=${py(SWITCH_MAC)})/` +
        `IP(src=${py(NVE1)}, dst=${py(PA4)}, flags="DF", options=[IPOption_RR(routers=["192.0.2.77"])])/` +
        `GRE(key_present=1, proto=0x6558, key=gre_key(${VSID}, 1))/${udp4(VM_A)}`;
      const [inner, frame] = await scapy.frames([udp4(VM_A), packet]);
      assert.deepEqual(await target.send(1, frame as Buffer), [{ port: 3, frame: inner }]);
    });

    test("R15: vsid_decap counts each decapsulated packet of the VSID", { skip }, async () => {
      const packet = await scapy.frame(over4(udp4(VM_A)));
      const before = await readCounter(target, "vsid_decap", VSID_INDEX);
      for (let i = 0; i < 2; i++) assert.equal((await target.send(1, packet)).length, 1);
      const after = await readCounter(target, "vsid_decap", VSID_INDEX);
      assert.deepEqual(
        { packets: after.packets - before.packets, bytes: after.bytes - before.bytes },
        { packets: 2, bytes: 2 * packet.length },
      );
    });
  });
}
