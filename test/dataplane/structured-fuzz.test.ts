/**
 * Structured fuzzing (issue 15; R18, R1, R4, R5, R12): Scapy frames that keep most of a packet valid
 * and fuzz one part, so the stages behind the parser are exercised: valid outer Ethernet/IPv4/GRE
 * with fuzzed GRE flags and key, inner Ethernet, inner VLAN tag, inner IPv4/L4; the reverse
 * (a valid inner frame under fuzzed outer fields); and access frames with fuzzed IPv4/L4. Two
 * VSIDs share the leaf and the remote NVE, so a wrong key must not leak into the other one.
 * Per set, counted from the switch's own counters: frames that pass the parser, decapsulated
 * (vsid_decap), bridged to an access port, encapsulated (vsid_encap). Asserted: every frame is
 * delivered once or dropped once under a reason; from the fabric only what Scapy finds
 * well-formed NVGRE is delivered, as its inner frame, to the port of the VSID its key names;
 * most frames of each fabric set pass the parser; where only the tenant frame's L3 and L4 are
 * fuzzed, every frame is delivered (R4). Each set's title names what it checks.
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

const PER_SET = 200;
/** The share of each fabric set that must pass the parser (the point of structuring). */
const MIN_PARSED = 0.6;

const VSID_A = 0x5001; // port 3
const VSID_B = 0x5002; // port 4
const KEY_A = VSID_A << 8;
const KEY_B = VSID_B << 8;
const VM_A = "02:00:00:00:0a:01"; // VSID A, port 3
const VM_B = "02:00:00:00:0b:01"; // VSID A, behind NVE1
const VM_C = "02:00:00:00:0c:01"; // VSID B, port 4
const VM_D = "02:00:00:00:0d:01"; // VSID B, behind NVE1
const NVE1 = "198.51.100.2";
const PORT_OF_KEY = new Map([
  [KEY_A, 3],
  [KEY_B, 4],
]);

const fromSpine = `Ether(src=${py(SPINE_MAC)}, dst=${py(SWITCH_MAC)})`;
const outerIp = `IP(src=${py(NVE1)}, dst=${py(PA4)}, flags="DF", id=0, proto=47)`;
const goodGre = `GRE(key_present=1, proto=0x6558, key=${KEY_A})`;
const innerToA = `Ether(src=${py(VM_B)}, dst=${py(VM_A)})/IP(src="10.1.0.2", dst="10.1.0.1")/UDP(sport=53, dport=4000)/Raw(b"fuzz")`;
/** One of a few values, mostly the first: random.choice over a weighted list. */
const pick = (...values: string[]) => `random.choice([${values.join(", ")}])`;
const bit = (p: number) => `int(random.random() < ${p})`;
/**
 * IPv4 with every field but version and header length random (Scapy fills length and checksum
 * unless the draw sets them), over a fuzzed UDP, TCP or ICMP header.
 */
const fuzzedIp = (src: string, dst: string) =>
  `IP(src=${py(src)}, dst=${py(dst)}, tos=random.randint(0, 255), id=random.randint(0, 0xffff), flags=random.randint(0, 7), frag=${pick("0", "0", "random.randint(1, 8191)")}, ttl=random.randint(0, 255), proto=${pick("17", "6", "1", "random.randint(0, 255)")}, len=${pick("None", "None", "None", "random.randint(0, 0xffff)")}, chksum=${pick("None", "None", "random.randint(0, 0xffff)")})/${pick("fuzz(UDP())", "fuzz(TCP())", "fuzz(ICMP())")}/Raw(b"fuzz")`;
const frames = (body: string) => `[bytes(${body}) for _ in range(${PER_SET})]`;

/**
 * The sets: a Scapy expression of PER_SET frames each, the port they enter, the requirements
 * the set checks, and whether every frame must be delivered.
 */
const sets = [
  {
    name: "GRE flags and key fuzzed (outer valid)",
    ids: "R18 R1",
    port: UPLINK,
    expr: frames(
      `${fromSpine}/${outerIp}/GRE(chksum_present=${bit(0.1)}, routing_present=${bit(0.1)}, key_present=${bit(0.9)}, seqnum_present=${bit(0.1)}, strict_route_source=${bit(0.05)}, recursion_control=${pick("0", "0", "0", "random.randint(1, 7)")}, version=${pick("0", "0", "0", "0", "random.randint(1, 7)")}, proto=${pick("0x6558", "0x6558", "0x6558", "0x0800", "random.randint(0, 0xffff)")}, key=${pick(`${KEY_A}`, `${KEY_B}`, `${KEY_A} | random.randint(1, 255)`, "random.randint(0, 0xfff)", "0xffffff00", "random.randint(0, 2**32 - 1)")})/${innerToA}`,
    ),
  },
  {
    name: "inner Ethernet fuzzed",
    ids: "R18 R4",
    port: UPLINK,
    expr: frames(
      `${fromSpine}/${outerIp}/GRE(key_present=1, proto=0x6558, key=${pick(`${KEY_A}`, `${KEY_B}`)})/Ether(src=${pick(py(VM_B), py(VM_D), "RandMAC()")}, dst=${pick(py(VM_A), py(VM_C), '"ff:ff:ff:ff:ff:ff"', "RandMAC()")}, type=${pick("0x0800", "0x86dd", "0x0806", "random.randint(0, 0xffff)")})/IP(src="10.1.0.2", dst="10.1.0.1")/UDP()/Raw(b"fuzz")`,
    ),
  },
  {
    name: "inner VLAN tag fuzzed",
    ids: "R18 R5",
    port: UPLINK,
    expr: frames(
      `${fromSpine}/${outerIp}/${goodGre}/Ether(src=${py(VM_B)}, dst=${py(VM_A)})/fuzz(Dot1Q())/IP(src="10.1.0.2", dst="10.1.0.1")/UDP()`,
    ),
  },
  {
    name: "inner IPv4 and L4 fuzzed",
    ids: "R18 R4",
    everyFrameDelivered: true,
    port: UPLINK,
    expr: frames(
      `${fromSpine}/${outerIp}/${goodGre}/Ether(src=${py(VM_B)}, dst=${py(VM_A)})/${fuzzedIp("10.1.0.2", "10.1.0.1")}`,
    ),
  },
  {
    name: "valid inner frame, outer fields fuzzed",
    ids: "R18 R1 R12",
    port: UPLINK,
    expr: frames(
      `Ether(src=${py(SPINE_MAC)}, dst=${pick(py(SWITCH_MAC), py(SWITCH_MAC), py(SWITCH_MAC), "RandMAC()")})/IP(src=${py(NVE1)}, dst=${pick(py(PA4), py(PA4), py(PA4), '"192.0.2.99"')}, proto=47, ttl=${pick("64", "1", "0", "random.randint(0, 255)")}, flags=${pick('"DF"', '"DF"', "0", '"MF"')}, frag=${pick("0", "0", "0", "random.randint(1, 100)")}, ihl=${pick("None", "None", "None", "random.randint(0, 15)")}, version=${pick("4", "4", "4", "random.randint(0, 15)")}, tos=random.randint(0, 255), id=random.randint(0, 0xffff))/${goodGre}/${innerToA}`,
    ),
  },
  {
    name: "access frames, IPv4 and L4 fuzzed",
    ids: "R18 R4",
    everyFrameDelivered: true,
    port: 3,
    expr: frames(`Ether(src=${py(VM_A)}, dst=${py(VM_B)})/${fuzzedIp("10.1.0.1", "10.1.0.2")}`),
  },
];

interface Stages {
  sent: number;
  parsed: number;
  decapsulated: number;
  bridged: number;
  encapsulated: number;
}

for (const factory of targets()) {
  describe(`R1 R4 R5 R12 R18: structured fuzzing on ${factory.kind}`, () => {
    const { skip } = factory;
    let target: DataplaneTarget;
    const scapy = new Scapy();
    const report: [string, Stages][] = [];

    before(async () => {
      if (skip) return;
      target = await factory.start();
      const batch = leafBase(new Batch(target));
      addVsid(batch, { vsid: VSID_A, index: 1 });
      addVsid(batch, { vsid: VSID_B, index: 2 });
      addAccess(batch, 3, VSID_A);
      addAccess(batch, 4, VSID_B);
      addNve(batch, 1, NVE1);
      addSourcePa(batch, VSID_A, { v4: PA4 });
      addSourcePa(batch, VSID_B, { v4: PA4 });
      batch.entry("mac", { vsid: VSID_A, dst_mac: VM_A }, "bridge_to_port", { port: 3 });
      batch.entry("mac", { vsid: VSID_A, dst_mac: VM_B }, "bridge_to_nve", { nve_id: 1 });
      batch.entry("mac", { vsid: VSID_B, dst_mac: VM_C }, "bridge_to_port", { port: 4 });
      batch.entry("mac", { vsid: VSID_B, dst_mac: VM_D }, "bridge_to_nve", { nve_id: 1 });
      await batch.commit();
    });

    after(async () => {
      if (report.length > 0) {
        console.log(`structured fuzzing on ${factory.kind}, stages reached per set:`);
        console.table(Object.fromEntries(report));
      }
      await scapy.close();
      await target?.close();
    });

    /** vsid_decap + vsid_encap of both VSIDs. */
    const tunnelCounts = async () => {
      let decap = 0;
      let encap = 0;
      for (const index of [1, 2]) {
        decap += (await readCounter(target, "vsid_decap", index)).packets;
        encap += (await readCounter(target, "vsid_encap", index)).packets;
      }
      return { decap, encap };
    };

    for (const set of sets) {
      test(`${set.ids}: ${set.name}: no frame leaks across VSIDs, every frame accounted once`, {
        skip,
      }, async (t) => {
        const [list] = await scapy.eval([set.expr]);
        const sent = list as Buffer[];
        assert.equal(sent.length, PER_SET);
        const verdicts = (await scapy.eval(
          sent.map((f) => `nvgre_delivery(${py(f)}, ${py(SWITCH_MAC)}, ${py(PA4)})`),
        )) as ([number, Buffer] | null)[];
        const drops = await DropCounters.read(target);
        const tunnels = await tunnelCounts();

        const out = await target.sendMany(set.port, sent);

        const dropped = (await DropCounters.read(target)).since(drops);
        const droppedTotal = Object.values(dropped).reduce((a, b) => a + b, 0);
        const tunnelsAfter = await tunnelCounts();
        const stages: Stages = {
          sent: PER_SET,
          parsed: PER_SET - (dropped.PARSER_ERROR ?? 0),
          decapsulated: tunnelsAfter.decap - tunnels.decap,
          bridged: out.filter((o) => o.port === 3 || o.port === 4).length,
          encapsulated: tunnelsAfter.encap - tunnels.encap,
        };
        report.push([set.name, stages]);
        t.diagnostic(`${JSON.stringify(stages)}; drops ${JSON.stringify(dropped)}`);
        assert.equal(
          droppedTotal + out.length,
          PER_SET,
          "every frame delivered once or counted once",
        );
        if (set.everyFrameDelivered) {
          assert.equal(out.length, PER_SET, "bridged whatever the tenant frame's L3 / L4 hold");
        }
        if (set.port === UPLINK) {
          for (const o of out) {
            // Bridged to an access port only as the inner frame of well-formed NVGRE, and only
            // to the port of the VSID its key names: nothing crosses into the other VSID.
            const matching = verdicts.filter(
              (v) => v?.[1].equals(o.frame) && PORT_OF_KEY.get(v[0]) === o.port,
            );
            assert.ok(
              matching.length > 0,
              `a frame on port ${o.port} that Scapy does not deliver there`,
            );
          }
          assert.equal(stages.encapsulated, 0, "nothing from the fabric goes back into the fabric");
          assert.ok(stages.decapsulated >= stages.bridged, "bridged frames were decapsulated");
          assert.ok(
            stages.parsed >= MIN_PARSED * PER_SET,
            `${stages.parsed} of ${PER_SET} passed the parser`,
          );
        } else {
          const sentHex = new Set(sent.map((f) => f.toString("hex")));
          for (const o of out) {
            assert.equal(o.port, UPLINK);
            assert.equal(o.frame.readUInt32BE(14 + 20 + 4) >>> 8, VSID_A);
            assert.ok(sentHex.has(o.frame.subarray(14 + 20 + 8).toString("hex")));
          }
          assert.equal(stages.encapsulated, out.length, "every frame sent out was encapsulated");
        }
      });
    }
  });
}
