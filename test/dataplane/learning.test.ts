/**
 * Source MAC learning: an unknown (VSID, MAC, location) on an access port, or behind a remote
 * NVE, raises the learn_t digest once, however many frames carry it, until the controller
 * has acknowledged it (no digest storms); a known one raises nothing, a moved one is reported
 * again. Frames are forwarded meanwhile.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { PacketIoCodec } from "../../controller/p4rt/packet-io.js";
import { toInteger } from "../../controller/p4rt/values.js";
import {
  addAccess,
  addNve,
  addSourcePa,
  addVsid,
  leafBase,
  PA4,
  PA6,
  SPINE_MAC,
  SWITCH_MAC,
} from "../../topologies/leaf.js";
import { Batch } from "../../topologies/leaf-program.js";
import { py, Scapy } from "../../topologies/scapy.js";
import { type DataplaneTarget, targets } from "../support/targets.js";

const LEARNING = 0x5001; // ports 3, 4; learns on both sides
const SILENT = 0x5002; // port 5; learning off
const VM_B = "02:00:00:00:0b:01"; // behind NVE1, the destination of access frames
const NVE1 = "198.51.100.2";
const NVE1_V6 = "2001:db8:100::2";

const fromAccess = (src: string, dst = VM_B) =>
  `Ether(src=${py(src)}, dst=${py(dst)})/IP(src="10.1.0.1", dst="10.1.0.2")/UDP(sport=1, dport=2)`;
const fromNve = (pa: string, src: string, vsid = LEARNING) => {
  const inner = `Ether(src=${py(src)}, dst="ff:ff:ff:ff:ff:ff")/IP(src="10.1.0.7", dst="10.1.0.255")/UDP(sport=1, dport=2)`;
  return pa.includes(":")
    ? `nvgre6(${py(SPINE_MAC)}, ${py(SWITCH_MAC)}, ${py(pa)}, ${py(PA6)}, ${vsid}, 1, ${inner})`
    : `nvgre4(${py(SPINE_MAC)}, ${py(SWITCH_MAC)}, ${py(pa)}, ${py(PA4)}, ${vsid}, 1, ${inner})`;
};

interface Sample {
  vsid: number;
  mac: string;
  port?: number;
  pa?: string;
}

/** A learn_t sample as the P4 program defines it (digest member names from the P4Info). */
function expectedSample({ vsid, mac, port, pa }: Sample): Record<string, bigint> {
  return {
    vsid: BigInt(vsid),
    mac: toInteger(mac, "mac"),
    port: BigInt(port ?? 0),
    from_nve: pa ? 1n : 0n,
    pa_is_v6: pa?.includes(":") ? 1n : 0n,
    pa: pa ? toInteger(pa, "pa") : 0n,
  };
}

for (const factory of targets()) {
  describe(`MAC learning digests on ${factory.kind}`, () => {
    const { skip } = factory;
    let target: DataplaneTarget;
    let codec: PacketIoCodec;
    const scapy = new Scapy();

    const ack = (listId: string) =>
      target.client.ackDigest(target.pipeline?.index.digests.id("learn_t") ?? 0, listId);

    /** Sends the frames; returns the samples of every digest list that arrived, acked. */
    async function samplesAfter(port: number, frames: string[], expect: number) {
      for (const frame of await scapy.frames(frames)) await target.send(port, frame);
      const lists = (await target.digests(expect)).map((l) => codec.decodeDigestList(l));
      for (const list of lists) ack(list.listId);
      return lists.flatMap((l) => l.samples);
    }

    before(async () => {
      if (skip) return;
      target = await factory.start();
      codec = new PacketIoCodec((target.pipeline as NonNullable<typeof target.pipeline>).index);
      const batch = leafBase(new Batch(target));
      addVsid(batch, { vsid: LEARNING, index: 1, learnLocal: true, learnRemote: true });
      addVsid(batch, { vsid: SILENT, index: 2 });
      addAccess(batch, 3, LEARNING);
      addAccess(batch, 4, LEARNING);
      addAccess(batch, 5, SILENT);
      addNve(batch, 1, NVE1);
      addSourcePa(batch, LEARNING, { v4: PA4 });
      addSourcePa(batch, SILENT, { v4: PA4 });
      batch.entry("mac", { vsid: LEARNING, dst_mac: VM_B }, "bridge_to_nve", { nve_id: 1 });
      batch.entry("mac", { vsid: SILENT, dst_mac: VM_B }, "bridge_to_nve", { nve_id: 1 });
      const local = [3, 4].map((port) => ({ port, instance: 0 }));
      batch.insert(batch.builder.multicastGroup(1, local));
      batch.entry("vsid_flood", { vsid: LEARNING }, "set_flood_groups", {
        group: 1,
        local_group: 1,
      });
      // One sample per list at once; an unacknowledged sample is not resent within the test.
      batch.insert(
        batch.builder.digestEntry("learn_t", {
          maxTimeoutNs: 1_000_000,
          maxListSize: 1,
          ackTimeoutNs: 60_000_000_000,
        }),
      );
      await batch.commit();
    });

    after(async () => {
      await scapy.close();
      await target?.close();
    });

    test("learning: an unknown source on an access port is reported once, however often it is seen", {
      skip,
    }, async () => {
      const mac = "02:00:00:00:0a:01";
      const frame = await scapy.frame(fromAccess(mac));
      for (let i = 0; i < 5; i++) {
        assert.equal((await target.send(3, frame)).length, 1, "the frame is forwarded meanwhile");
      }
      const lists = (await target.digests(1)).map((l) => codec.decodeDigestList(l));
      assert.deepEqual(
        lists.map((l) => [l.digest, l.samples]),
        [["learn_t", [expectedSample({ vsid: LEARNING, mac, port: 3 })]]],
      );
      for (const list of lists) ack(list.listId);
    });

    test("learning: a source the controller installed is never reported", { skip }, async () => {
      const mac = "02:00:00:00:0a:02";
      await new Batch(target)
        .entry(
          "learned_mac",
          { vsid: LEARNING, mac, port: 3, from_nve: 0, pa_is_v6: 0, pa: 0 },
          "known_source",
        )
        .commit();
      assert.deepEqual(await samplesAfter(3, [fromAccess(mac), fromAccess(mac)], 0), []);
    });

    test("learning: a known MAC seen at another port (it moved) is reported again", {
      skip,
    }, async () => {
      const mac = "02:00:00:00:0a:02"; // installed on port 3 above
      assert.deepEqual(await samplesAfter(4, [fromAccess(mac)], 1), [
        expectedSample({ vsid: LEARNING, mac, port: 4 }),
      ]);
    });

    test("learning: an unknown source behind a remote NVE is reported with its PA, IPv4 or IPv6", {
      skip,
    }, async () => {
      const mac = "02:00:00:00:0c:01";
      assert.deepEqual(await samplesAfter(1, [fromNve(NVE1, mac), fromNve(NVE1, mac)], 1), [
        expectedSample({ vsid: LEARNING, mac, pa: NVE1 }),
      ]);
      const mac6 = "02:00:00:00:0c:02";
      assert.deepEqual(await samplesAfter(1, [fromNve(NVE1_V6, mac6)], 1), [
        expectedSample({ vsid: LEARNING, mac: mac6, pa: NVE1_V6 }),
      ]);
    });

    test("learning: nothing is reported where learning is off, or for a group source MAC", {
      skip,
    }, async () => {
      assert.deepEqual(await samplesAfter(5, [fromAccess("02:00:00:00:0d:01")], 0), []);
      assert.deepEqual(await samplesAfter(3, [fromAccess("03:00:00:00:0d:01")], 0), []);
    });
  });
}
