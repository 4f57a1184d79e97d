/**
 * NVGRE is never fragmented (R12): encapsulated IPv4 carries DF; a packet that would exceed
 * the egress port's MTU is dropped, counted, and punted to the controller with the reason and
 * the MTU (packet_in metadata), so the controller can answer ICMP "fragmentation needed" /
 * "packet too big" and sources can do path MTU discovery. Routed transit packets likewise.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { PacketIoCodec } from "../../controller/p4rt/packet-io.js";
import {
  addAccess,
  addNve,
  addSourcePa,
  addVsid,
  CPU_PORT,
  leafBase,
  PA4,
  PA6,
  SPINE_MAC,
  SWITCH_MAC,
  UPLINK,
} from "../../topologies/leaf.js";
import { Batch, puntReason } from "../../topologies/leaf-program.js";
import { py, Scapy } from "../../topologies/scapy.js";
import { type DataplaneTarget, targets } from "../support/targets.js";
import { DropCounters } from "./observe.js";

const VSID = 0x5001;
const MTU = 1000;
const VM_A = "02:00:00:00:0a:01";
const VM_B = "02:00:00:00:0b:01"; // behind NVE1 (IPv4 PA)
const VM_C = "02:00:00:00:0c:01"; // behind NVE2 (IPv6 PA)
const NVE1 = "198.51.100.2";
const NVE2 = "2001:db8:100::2";
const TRANSIT_DST = "203.0.113.9"; // routed out of port 2, MTU 1000 too

/** A tenant frame of exactly `length` bytes. */
const frameOf = (dst: string, length: number) =>
  `Ether(src=${py(VM_A)}, dst=${py(dst)})/IP(src="10.1.0.1", dst="10.1.0.2")/UDP(sport=1, dport=2)/Raw(bytes(${length} - 42))`;
const over4 = (inner: string) =>
  `nvgre4(${py(SWITCH_MAC)}, ${py(SPINE_MAC)}, ${py(PA4)}, ${py(NVE1)}, ${VSID}, flow_id(${inner}), ${inner})`;
const over6 = (inner: string) =>
  `nvgre6(${py(SWITCH_MAC)}, ${py(SPINE_MAC)}, ${py(PA6)}, ${py(NVE2)}, ${VSID}, flow_id(${inner}), ${inner}, fl=flow_hash(${inner}))`;
/** A routed IPv4 packet whose IP length is `ipLength`. */
const transit = (smac: string, dmac: string, ttl: number, ipLength: number) =>
  `Ether(src=${py(smac)}, dst=${py(dmac)})/IP(src="198.51.100.7", dst=${py(TRANSIT_DST)}, ttl=${ttl})/UDP(sport=5, dport=6)/Raw(bytes(${ipLength} - 28))`;

for (const factory of targets()) {
  describe(`MTU: never fragment, drop and punt on ${factory.kind}`, () => {
    const { skip } = factory;
    let target: DataplaneTarget;
    let codec: PacketIoCodec;
    const scapy = new Scapy();

    /** Sends a frame that must not fit; checks the drop, its counter and the punt. */
    async function expectPunted(port: number, sent: string, wouldLeave: string) {
      const [frame, punted] = await scapy.frames([sent, wouldLeave]);
      const before = await DropCounters.read(target);
      assert.deepEqual(
        await target.send(port, frame as Buffer),
        [],
        "nothing is sent, not even fragments",
      );
      assert.deepEqual((await DropCounters.read(target)).since(before), {
        "egress:MTU_EXCEEDED": 1,
      });
      const punts = (await target.packetIns(1)).map((p) => codec.decodePacketIn(p));
      assert.equal(punts.length, 1);
      assert.deepEqual(punts[0]?.metadata, {
        ingress_port: BigInt(port),
        punt_reason: BigInt(puntReason("MTU_EXCEEDED")),
        mtu: BigInt(MTU),
        _pad: 0n,
      });
      // The punt is the packet that would have left, outer headers included.
      assert.deepEqual(punts[0]?.payload, punted);
    }

    before(async () => {
      if (skip) return;
      target = await factory.start();
      codec = new PacketIoCodec((target.pipeline as NonNullable<typeof target.pipeline>).index);
      const batch = leafBase(new Batch(target));
      addVsid(batch, { vsid: VSID, index: 1 });
      addAccess(batch, 3, VSID);
      addNve(batch, 1, NVE1);
      addNve(batch, 2, NVE2);
      addSourcePa(batch, VSID, { v4: PA4, v6: PA6 });
      batch.entry("mac", { vsid: VSID, dst_mac: VM_B }, "bridge_to_nve", { nve_id: 1 });
      batch.entry("mac", { vsid: VSID, dst_mac: VM_C }, "bridge_to_nve", { nve_id: 2 });
      batch.entry("route_v4", { dst_pa: `${TRANSIT_DST}/32` }, "set_next_hop", {
        port: 2,
        smac: SWITCH_MAC,
        dmac: SPINE_MAC,
      });
      for (const port of [1, 2]) batch.entry("port_mtu", { port }, "set_port_mtu", { mtu: MTU });
      batch.insert(batch.builder.cloneSession(511, [{ port: CPU_PORT, instance: 0 }]));
      await batch.commit();
    });

    after(async () => {
      await scapy.close();
      await target?.close();
    });

    test("R12: an encapsulated IPv4 packet of exactly the port MTU leaves, with DF set", {
      skip,
    }, async () => {
      // 972-byte tenant frame + 8 GRE + 20 IPv4 = 1000.
      const [frame, expected] = await scapy.frames([frameOf(VM_B, 972), over4(frameOf(VM_B, 972))]);
      const out = await target.send(3, frame as Buffer);
      assert.deepEqual(out, [{ port: UPLINK, frame: expected }]);
      assert.equal((out[0]?.frame[14 + 6] ?? 0) & 0x40, 0x40, "DF");
    });

    test("R12: one byte more is dropped, counted and punted with the reason and the MTU", {
      skip,
    }, async () => {
      await expectPunted(3, frameOf(VM_B, 973), over4(frameOf(VM_B, 973)));
    });

    test("R12 R13: over an IPv6 PA the same holds (40-byte header)", { skip }, async () => {
      const [frame, expected] = await scapy.frames([frameOf(VM_C, 952), over6(frameOf(VM_C, 952))]);
      assert.deepEqual(await target.send(3, frame as Buffer), [{ port: UPLINK, frame: expected }]);
      await expectPunted(3, frameOf(VM_C, 953), over6(frameOf(VM_C, 953)));
    });

    test("R12: a routed transit packet above the MTU is punted too, never fragmented", {
      skip,
    }, async () => {
      const [fits, routed] = await scapy.frames([
        transit(SPINE_MAC, SWITCH_MAC, 9, MTU),
        transit(SWITCH_MAC, SPINE_MAC, 8, MTU),
      ]);
      assert.deepEqual(await target.send(UPLINK, fits as Buffer), [{ port: 2, frame: routed }]);
      await expectPunted(
        UPLINK,
        transit(SPINE_MAC, SWITCH_MAC, 9, MTU + 1),
        transit(SWITCH_MAC, SPINE_MAC, 8, MTU + 1),
      );
    });
  });
}
