/**
 * 1,000 malformed frames from Scapy's fuzz() and from truncating or padding good ones, sent
 * into fabric and access ports (R18, R1, R4): the switch stays up; nothing reaches a VSID
 * that should not: from the fabric, exactly the packets Scapy judges well-formed NVGRE are
 * delivered, each as its inner frame to the one port of its VSID, whatever that inner frame
 * holds, and from an access port only encapsulations of the frame in the port's VSID leave;
 * every other frame is counted once under a drop reason, so drops + deliveries = frames sent.
 * Each set also states how many frames must at least be delivered: all of them where only the
 * tenant frame's L3 is fuzzed (R4: any payload is bridged), none where every frame is
 * malformed NVGRE by construction.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  addAccess,
  addNve,
  addSourcePa,
  addVsid,
  leafBase,
  PA4,
  SPINE_MAC,
  SWITCH_MAC,
  UPLINK,
} from "../../topologies/leaf.js";
import { Batch, readCounter } from "../../topologies/leaf-program.js";
import { py, Scapy } from "../../topologies/scapy.js";
import { type DataplaneTarget, targets } from "../support/targets.js";
import { DropCounters } from "./observe.js";

const VSID = 0x5001; // port 3; no flood group, so nothing is ever replicated
const VM_A = "02:00:00:00:0a:01"; // port 3
const VM_B = "02:00:00:00:0b:01"; // behind NVE1
const NVE1 = "198.51.100.2";
const KEY = VSID << 8;
const PER_SET = 200;

const innerToA = `Ether(src=${py(VM_B)}, dst=${py(VM_A)})/IP(src="10.1.0.2", dst="10.1.0.1")/UDP(sport=53, dport=4000)/Raw(b"fuzz")`;
const outerIp = `IP(src=${py(NVE1)}, dst=${py(PA4)}, flags="DF", id=0, proto=47)`;
const fromSpine = `Ether(src=${py(SPINE_MAC)}, dst=${py(SWITCH_MAC)})`;
const good = `${fromSpine}/${outerIp}/GRE(key_present=1, proto=0x6558, key=${KEY})/${innerToA}`;

/**
 * Sets of malformed (or possibly well-formed) frames: a Scapy expression each, a port, the
 * requirements the set checks, and the fewest frames the switch must deliver of it.
 */
const sets = [
  {
    name: "GRE header fields fuzzed",
    ids: "R18 R1",
    // fuzz() sets GRE flags and version at random: rarely valid, and then delivered (below).
    minDelivered: 0,
    port: UPLINK,
    expr: `fuzzed(${fromSpine}/${outerIp}/GRE(key_present=1, key=${KEY}), ${PER_SET / 2}) + [bytes(${fromSpine}/${outerIp}/fuzz(GRE(key_present=1, proto=0x6558, key=${KEY}))/${innerToA}) for _ in range(${PER_SET / 2})]`,
  },
  {
    name: "outer IPv4 header fields fuzzed",
    ids: "R18 R1",
    // The draws Scapy finds well-formed with this seed (5), each delivered.
    minDelivered: 5,
    port: UPLINK,
    expr: `[bytes(${fromSpine}/fuzz(IP(src=${py(NVE1)}, dst=${py(PA4)}, proto=47))/GRE(key_present=1, proto=0x6558, key=${KEY})/${innerToA}) for _ in range(${PER_SET})]`,
  },
  {
    name: "good NVGRE truncated anywhere, or with bytes appended",
    ids: "R18 R1",
    // Every frame's IP length disagrees with the frame: Scapy finds none well-formed, so the
    // equality below wants none delivered.
    minDelivered: 0,
    port: UPLINK,
    expr: `(lambda p: [p[:random.randint(14, len(p) - 1)] for _ in range(${(PER_SET * 3) / 4})] + [p + bytes(random.randint(1, 40)) for _ in range(${PER_SET / 4})])(bytes(${good}))`,
  },
  {
    name: "inner frame fuzzed inside good NVGRE",
    ids: "R18 R1 R4",
    // Good NVGRE whatever its inner L3 and L4 hold: every frame.
    minDelivered: PER_SET,
    port: UPLINK,
    expr: `[bytes(${fromSpine}/${outerIp}/GRE(key_present=1, proto=0x6558, key=${KEY})/fuzz(Ether(src=${py(VM_B)}, dst=${py(VM_A)})/IP(src="10.1.0.2", dst="10.1.0.1")/UDP())) for _ in range(${PER_SET})]`,
  },
  {
    name: "access frames with fuzzed IPv4 / UDP",
    ids: "R18 R4",
    // Bridged whatever their IPv4 / UDP headers hold (R4): every frame.
    minDelivered: PER_SET,
    port: 3,
    expr: `[bytes(Ether(src=${py(VM_A)}, dst=${py(VM_B)})/fuzz(IP(src="10.1.0.1", dst="10.1.0.2")/UDP())) for _ in range(${PER_SET})]`,
  },
];

/** Offset of the inner frame in the switch's NVGRE over untagged IPv4. */
const OUTER_V4 = 14 + 20 + 8;

for (const factory of targets()) {
  describe(`R1 R4 R18: 1,000 malformed frames on ${factory.kind}`, () => {
    const { skip } = factory;
    let target: DataplaneTarget;
    const scapy = new Scapy();

    before(async () => {
      if (skip) return;
      target = await factory.start();
      const batch = leafBase(new Batch(target));
      addVsid(batch, { vsid: VSID, index: 1 });
      addAccess(batch, 3, VSID);
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

    for (const set of sets) {
      test(`${set.ids}: ${set.name}: at least ${set.minDelivered} of ${PER_SET} delivered, each only where it belongs, the rest counted`, {
        skip,
      }, async (t) => {
        const [list] = await scapy.eval([set.expr]);
        const frames = list as Buffer[];
        assert.equal(frames.length, PER_SET);
        // Scapy's verdict on each fabric frame: its inner frame when well-formed NVGRE.
        const verdicts = (await scapy.eval(
          frames.map((f) => `nvgre_delivery(${py(f)}, ${py(SWITCH_MAC)}, ${py(PA4)})`),
        )) as ([number, Buffer] | null)[];
        const rxBefore = await readCounter(target, "port_rx", set.port);
        const drops = await DropCounters.read(target);

        const out = await target.sendMany(set.port, frames);

        const dropped = (await DropCounters.read(target)).total() - drops.total();
        t.diagnostic(`${out.length} delivered, ${dropped} dropped`);
        assert.equal(
          (await readCounter(target, "port_rx", set.port)).packets - rxBefore.packets,
          PER_SET,
        );
        assert.equal(dropped + out.length, PER_SET, "every frame delivered once or counted once");
        assert.ok(out.length >= set.minDelivered, `${out.length} delivered`);
        if (set.port === UPLINK) {
          // From the fabric: into VSID's port 3, as the inner frame of a sent packet.
          const sentInner = new Set(
            verdicts
              .filter((v) => v !== null && v[0] === KEY)
              .map((v) => (v as [number, Buffer])[1].toString("hex")),
          );
          for (const o of out) {
            assert.equal(o.port, 3);
            assert.ok(
              sentInner.has(o.frame.toString("hex")),
              "delivered only if Scapy finds it well-formed",
            );
          }
          // Every well-formed packet is delivered, whatever its inner frame holds (R4).
          assert.equal(out.length, verdicts.filter((v) => v !== null).length);
        } else {
          // From the access port: only NVGRE of the VSID toward NVE1 carrying a sent frame.
          const sent = new Set(frames.map((f) => f.toString("hex")));
          for (const o of out) {
            assert.equal(o.port, UPLINK);
            assert.equal(o.frame.readUInt32BE(14 + 20 + 4) >>> 8, VSID);
            assert.ok(sent.has(o.frame.subarray(OUTER_V4).toString("hex")));
          }
        }
      });
    }

    test("R18: the switch is still alive and forwards a good packet after the fuzzing", {
      skip,
    }, async () => {
      const [packet, inner] = await scapy.frames([good, innerToA]);
      assert.deepEqual(await target.send(UPLINK, packet as Buffer), [{ port: 3, frame: inner }]);
    });
  });
}
