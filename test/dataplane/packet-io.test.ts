/**
 * The controller's packet path and the per-port counters: a PacketOut goes either straight
 * out of the port it names, untouched, or through the pipeline as a frame received on the CPU
 * port (which the controller configures like any port), e.g. the ICMP "fragmentation needed"
 * it answers an MTU punt with (sending it is the controller's part of R12, tested there). port_rx / port_tx count every packet per port (R15).
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
  SPINE_MAC,
  SWITCH_MAC,
  UPLINK,
} from "../../topologies/leaf.js";
import { Batch, readCounters } from "../../topologies/leaf-program.js";
import { py, Scapy } from "../../topologies/scapy.js";
import { type DataplaneTarget, targets } from "../support/targets.js";

const VSID = 0x5001; // port 3 and, untagged, the CPU port
const VM_A = "02:00:00:00:0a:01"; // port 3
const VM_B = "02:00:00:00:0b:01"; // behind NVE1
const GW_MAC = "00:00:5e:00:53:a1";
const NVE1 = "198.51.100.2";

/** What a controller sends a VM whose packet was too big for the tunnel (RFC 1191). */
const fragNeeded = (dst: string) =>
  `Ether(src=${py(GW_MAC)}, dst=${py(dst)})/IP(src="10.1.0.254", dst="10.1.0.1")/ICMP(type=3, code=4, nexthopmtu=958)/IP(src="10.1.0.1", dst="10.1.0.2", flags="DF", len=1400)/UDP(sport=1, dport=2)`;

for (const factory of targets()) {
  describe(`packet I/O and port counters on ${factory.kind}`, () => {
    const { skip } = factory;
    let target: DataplaneTarget;
    let codec: PacketIoCodec;
    const scapy = new Scapy();

    before(async () => {
      if (skip) return;
      target = await factory.start();
      codec = new PacketIoCodec((target.pipeline as NonNullable<typeof target.pipeline>).index);
      const batch = leafBase(new Batch(target));
      addVsid(batch, { vsid: VSID, index: 1 });
      addAccess(batch, 3, VSID);
      batch.entry("port_type", { port: CPU_PORT }, "set_port_access");
      addAccess(batch, CPU_PORT, VSID);
      addNve(batch, 1, NVE1);
      addSourcePa(batch, VSID, { v4: PA4 });
      batch.entry("mac", { vsid: VSID, dst_mac: VM_A }, "bridge_to_port", { port: 3 });
      batch.entry("mac", { vsid: VSID, dst_mac: VM_B }, "bridge_to_nve", { nve_id: 1 });
      await batch.commit();
    });

    after(async () => {
      await scapy.close();
      await target?.close();
    });

    test("packet_out to a port: the frame leaves that port unchanged, no table applied", {
      skip,
    }, async () => {
      // LLDP: nothing in the pipeline would forward it.
      const frame = await scapy.frame(
        `Ether(src=${py(SWITCH_MAC)}, dst="01:80:c2:00:00:0e", type=0x88cc)/Raw(bytes(range(40)))`,
      );
      const out = await target.packetOut(
        frame,
        codec.packetOutMetadata({ egress_port: 4, through_pipeline: 0 }),
      );
      assert.deepEqual(out, [{ port: 4, frame }]);
    });

    test("packet_out through the pipeline: bridged in the CPU port's VSID like a received frame", {
      skip,
    }, async () => {
      const frame = await scapy.frame(fragNeeded(VM_A));
      const out = await target.packetOut(
        frame,
        codec.packetOutMetadata({ egress_port: 0, through_pipeline: 1 }),
      );
      assert.deepEqual(out, [{ port: 3, frame }]);
    });

    test("R11 packet_out through the pipeline: encapsulated toward a remote NVE", {
      skip,
    }, async () => {
      const inner = fragNeeded(VM_B);
      const [frame, expected] = await scapy.frames([
        inner,
        `nvgre4(${py(SWITCH_MAC)}, ${py(SPINE_MAC)}, ${py(PA4)}, ${py(NVE1)}, ${VSID}, flow_id(${inner}), ${inner})`,
      ]);
      const out = await target.packetOut(
        frame as Buffer,
        codec.packetOutMetadata({ egress_port: 0, through_pipeline: 1 }),
      );
      assert.deepEqual(out, [{ port: UPLINK, frame: expected }]);
    });

    test("R15: port_rx and port_tx count every packet received and sent, per port", {
      skip,
    }, async () => {
      const frame = await scapy.frame(
        `Ether(src=${py(VM_B)}, dst=${py(VM_A)})/IP(src="10.1.0.2", dst="10.1.0.1")/UDP(sport=1, dport=2)`,
      );
      const rx = (await readCounters(target, "port_rx", [3, 4])).map((c) => c.packets);
      const tx = (await readCounters(target, "port_tx", [3, UPLINK])).map((c) => c.packets);
      // In on 4 (no VSID there: dropped, still received) and in on 3 toward VM_B (sent on 1).
      assert.deepEqual(await target.send(4, frame), []);
      const toB = await scapy.frame(
        `Ether(src=${py(VM_A)}, dst=${py(VM_B)})/IP(src="10.1.0.1", dst="10.1.0.2")/UDP(sport=1, dport=2)`,
      );
      await target.send(3, toB);
      await target.send(3, toB);
      const rxAfter = (await readCounters(target, "port_rx", [3, 4])).map((c) => c.packets);
      const txAfter = (await readCounters(target, "port_tx", [3, UPLINK])).map((c) => c.packets);
      assert.deepEqual(
        rxAfter.map((n, i) => n - (rx[i] ?? 0)),
        [2, 1],
      );
      assert.deepEqual(
        txAfter.map((n, i) => n - (tx[i] ?? 0)),
        [0, 2],
      );
    });
  });
}
