/**
 * The switch as an NVGRE-aware underlay router: transit NVGRE (e.g. on a spine) routed with
 * TTL / hop limit decremented and the key, FlowID included, untouched (R3); PA multicast
 * groups routed to their ports (R10); FlowID entropy from the inner flow, ping sessions told
 * apart by their echo identifier (R3); ECMP over the outer addresses and the whole 32-bit key, or
 * over the 5-tuple (an echo identifier as a port) for other transit IP (R9).
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
  REMOTE_PREFIX4,
  SWITCH_MAC,
} from "../../topologies/leaf.js";
import { Batch } from "../../topologies/leaf-program.js";
import { py, Scapy } from "../../topologies/scapy.js";
import { type DataplaneTarget, type Output, targets } from "../support/targets.js";
import { sortedOutputs } from "./observe.js";

const NEXT_HOPS = [1, 2, 3, 4]; // ECMP members toward the remote NVEs
const SPINE_PORT = 5; // where transit traffic comes from
const ACCESS = [6, 7, 8];
const nextHopMac = (port: number) => `00:00:5e:00:53:${(0xf0 + port).toString(16)}`;
const SPINE_MAC = nextHopMac(SPINE_PORT);
const VSID_1 = 0x5001; // port 6
const VSID_2 = 0x5002; // port 7
const NVE1 = "198.51.100.2"; // behind the ECMP group
const VM_A = "02:00:00:00:0a:01";
const VM_B = "02:00:00:00:0b:01"; // behind NVE1 in both VSIDs
const TRANSIT_DST = "203.0.113.9"; // routed to port 2 alone
const TRANSIT_DST6 = "2001:db8:203::9";
const GROUP_PA = "239.1.1.1";
const GROUP_MAC = "01:00:5e:01:01:01";
const FLOWS = 1000;
const ECHO_IDS = 256;

const inner = `Ether(src=${py(VM_A)}, dst=${py(VM_B)})/IP(src="10.1.0.1", dst="10.1.0.2")/UDP(sport=5000, dport=80)`;
/** 1,000 distinct flows from VM_A to VM_B: sources, destinations and ports all vary. */
const flows = `[Ether(src=${py(VM_A)}, dst=${py(VM_B)})/IP(src="10.1.%d.%d" % (i // 250, i % 250 + 1), dst="10.2.%d.%d" % (i % 7, i % 13 + 1))/UDP(sport=1024 + i, dport=53 + (i % 3)) for i in range(${FLOWS})]`;

/** Outer IPv4 + GRE key: the first 42 bytes of an NVGRE packet over untagged IPv4. */
const OUTER_V4 = 14 + 20 + 8;
const greKey = (frame: Buffer) => frame.readUInt32BE(14 + 20 + 4);

for (const factory of targets()) {
  describe(`underlay routing, transit and ECMP on ${factory.kind}`, () => {
    const { skip } = factory;
    let target: DataplaneTarget;
    const scapy = new Scapy();

    before(async () => {
      if (skip) return;
      target = await factory.start();
      const batch = leafBase(new Batch(target), {
        fabric: [...NEXT_HOPS, SPINE_PORT],
        access: ACCESS,
        uplinkRoutes: false,
      });
      addVsid(batch, { vsid: VSID_1, index: 1 });
      addVsid(batch, { vsid: VSID_2, index: 2 });
      addAccess(batch, 6, VSID_1);
      addAccess(batch, 7, VSID_2);
      addNve(batch, 1, NVE1);
      addSourcePa(batch, VSID_1, { v4: PA4 });
      addSourcePa(batch, VSID_2, { v4: PA4 });
      batch.entry("mac", { vsid: VSID_1, dst_mac: VM_B }, "bridge_to_nve", { nve_id: 1 });
      batch.entry("mac", { vsid: VSID_2, dst_mac: VM_B }, "bridge_to_nve", { nve_id: 1 });
      const b = batch.builder;
      for (const port of NEXT_HOPS) {
        batch.insert(
          b.actionProfileMember("ecmp_selector", port, {
            action: "set_next_hop",
            params: { port, smac: SWITCH_MAC, dmac: nextHopMac(port) },
          }),
        );
      }
      batch.insert(
        b.actionProfileGroup(
          "ecmp_selector",
          1,
          NEXT_HOPS.map((id) => ({ id })),
        ),
      );
      batch.groupEntry("ecmp", { group_id: 1 }, 1);
      batch.entry("route_v4", { dst_pa: REMOTE_PREFIX4 }, "set_ecmp_group", { group_id: 1 });
      const toPort2 = { port: 2, smac: SWITCH_MAC, dmac: nextHopMac(2) };
      batch.entry("route_v4", { dst_pa: `${TRANSIT_DST}/32` }, "set_next_hop", toPort2);
      batch.entry("route_v6", { dst_pa: `${TRANSIT_DST6}/128` }, "set_next_hop", toPort2);
      batch.entry(
        "my_mac",
        { dst_mac: { value: "01:00:5e:00:00:00", mask: "ff:ff:ff:80:00:00" } },
        "set_my_mac",
        {},
        2,
      );
      batch.entry("route_v4", { dst_pa: "239.0.0.0/8" }, "set_underlay_mcast", {
        group: 10,
        smac: SWITCH_MAC,
      });
      batch.insert(
        b.multicastGroup(
          10,
          [2, 3, SPINE_PORT].map((port) => ({ port, instance: 0 })),
        ),
      );
      await batch.commit();
    });

    after(async () => {
      await scapy.close();
      await target?.close();
    });

    test("R3: transit NVGRE over IPv4 is routed with TTL - 1 and its key, FlowID included, untouched", {
      skip,
    }, async () => {
      const packet = (smac: string, dmac: string, ttl: number) =>
        `nvgre4(${py(smac)}, ${py(dmac)}, "198.51.100.7", ${py(TRANSIT_DST)}, 0x7777, 0xab, ${inner}, ttl=${ttl})`;
      const [frame, expected] = await scapy.frames([
        packet(SPINE_MAC, SWITCH_MAC, 10),
        packet(SWITCH_MAC, nextHopMac(2), 9),
      ]);
      const out = await target.send(SPINE_PORT, frame as Buffer);
      assert.deepEqual(out, [{ port: 2, frame: expected }]);
      assert.equal(greKey(out[0]?.frame as Buffer), 0x7777ab);
    });

    test("R3: transit NVGRE over IPv6 is routed with hop limit - 1, key and flow label untouched", {
      skip,
    }, async () => {
      const packet = (smac: string, dmac: string, hlim: number) =>
        `nvgre6(${py(smac)}, ${py(dmac)}, "2001:db8:100::7", ${py(TRANSIT_DST6)}, 0x7777, 0xcd, ${inner}, hlim=${hlim}, fl=0xbeef)`;
      const [frame, expected] = await scapy.frames([
        packet(SPINE_MAC, SWITCH_MAC, 10),
        packet(SWITCH_MAC, nextHopMac(2), 9),
      ]);
      assert.deepEqual(await target.send(SPINE_PORT, frame as Buffer), [
        { port: 2, frame: expected },
      ]);
    });

    test("R3: transit IPv4 with options keeps a correct header checksum", { skip }, async () => {
      const packet = (smac: string, dmac: string, ttl: number) =>
        `Ether(src=${py(smac)}, dst=${py(dmac)})/IP(src="198.51.100.7", dst=${py(TRANSIT_DST)}, ttl=${ttl}, flags="DF", options=[IPOption_RR(routers=["192.0.2.77", "0.0.0.0"])])/GRE(key_present=1, proto=0x6558, key=0x777701)/${inner}`;
      const [frame, expected] = await scapy.frames([
        packet(SPINE_MAC, SWITCH_MAC, 33),
        packet(SWITCH_MAC, nextHopMac(2), 32),
      ]);
      assert.deepEqual(await target.send(SPINE_PORT, frame as Buffer), [
        { port: 2, frame: expected },
      ]);
    });

    test("R10: NVGRE to a PA multicast group is routed to the group's ports but the ingress one", {
      skip,
    }, async () => {
      const packet = (smac: string, ttl: number) =>
        `nvgre4(${py(smac)}, ${py(GROUP_MAC)}, "198.51.100.7", ${py(GROUP_PA)}, 0x5009, 0x01, ${inner}, ttl=${ttl})`;
      const [frame, expected] = await scapy.frames([packet(SPINE_MAC, 20), packet(SWITCH_MAC, 19)]);
      // The group holds ports 2, 3 and the spine port the packet came in on.
      assert.deepEqual(
        sortedOutputs(await target.send(SPINE_PORT, frame as Buffer)),
        [2, 3].map((port) => ({ port, frame: expected })),
      );
    });

    describe("1,000 distinct flows from one VM to one remote VM", () => {
      let frames: Buffer[] = [];
      let flowIds: number[] = [];
      /** Output of each flow, found by its inner frame (bmv2's outputs are not attributed). */
      let outputs: Output[] = [];

      before(async () => {
        if (skip) return;
        const [list, ids] = await scapy.eval([flows, `[flow_id(f) for f in ${flows}]`]);
        frames = list as Buffer[];
        flowIds = ids as number[];
        const byInner = new Map(frames.map((f, i) => [f.toString("hex"), i]));
        const out = await target.sendMany(6, frames);
        outputs = new Array(frames.length);
        for (const o of out) {
          const i = byInner.get(o.frame.subarray(OUTER_V4).toString("hex"));
          assert.ok(i !== undefined && outputs[i] === undefined, "one output per flow");
          outputs[i] = o;
        }
      });

      test("R3: every FlowID is the inner-flow hash, and 1,000 flows get at least 200 FlowIDs", {
        skip,
      }, (t) => {
        assert.equal(outputs.filter(Boolean).length, FLOWS);
        const got = outputs.map((o) => greKey(o.frame) & 0xff);
        assert.deepEqual(got, flowIds);
        assert.ok(outputs.every((o) => greKey(o.frame) >>> 8 === VSID_1));
        const distinct = new Set(got).size;
        t.diagnostic(`${distinct} distinct FlowIDs over ${FLOWS} flows`);
        assert.ok(distinct >= 200, `${distinct} distinct FlowIDs`);
      });

      test("R9: ECMP spreads the flows over 4 next hops, each within 25% of an even share", {
        skip,
      }, (t) => {
        const perPort = new Map(NEXT_HOPS.map((p) => [p, 0]));
        for (const o of outputs) perPort.set(o.port, (perPort.get(o.port) ?? 0) + 1);
        assert.deepEqual([...perPort.keys()].sort(), NEXT_HOPS);
        t.diagnostic(`flows per next hop: ${JSON.stringify(Object.fromEntries(perPort))}`);
        const share = FLOWS / NEXT_HOPS.length;
        for (const [port, n] of perPort) {
          assert.ok(Math.abs(n - share) <= share / 4, `port ${port}: ${n} flows of ${FLOWS}`);
        }
      });

      test("R3 R9: the same flow again gets the same FlowID and the same next hop", {
        skip,
      }, async () => {
        const again = await target.sendMany(6, frames.slice(0, 100));
        const byInner = new Map(again.map((o) => [o.frame.subarray(OUTER_V4).toString("hex"), o]));
        for (const [i, frame] of frames.slice(0, 100).entries()) {
          assert.deepEqual(byInner.get(frame.toString("hex")), outputs[i], `flow ${i}`);
        }
      });
    });

    test("R3 R9: ping sessions (ICMP and ICMPv6 echo) of different identifiers get their own FlowIDs and spread over the next hops", {
      skip,
    }, async (t) => {
      const pings = (seq: number) =>
        `[Ether(src=${py(VM_A)}, dst=${py(VM_B)})/IP(src="10.1.0.1", dst="10.1.0.2")/ICMP(type=8, id=i, seq=${seq})/Raw(b"ping") for i in range(${ECHO_IDS})] + ` +
        `[Ether(src=${py(VM_A)}, dst=${py(VM_B)})/IPv6(src="fd00:1::1", dst="fd00:1::2")/ICMPv6EchoReply(id=i, seq=${seq}) for i in range(${ECHO_IDS})]`;
      const [first, again, ids] = await scapy.eval([
        pings(1),
        pings(2),
        `[flow_id(f) for f in ${pings(1)}]`,
      ]);
      const sessions = first as Buffer[];
      const expected = ids as number[];
      /** FlowID and next hop of each frame, found by its inner frame. */
      const sent = async (frames: Buffer[]) => {
        const byInner = new Map(frames.map((f, i) => [f.toString("hex"), i]));
        const got: { flowId: number; port: number }[] = new Array(frames.length);
        for (const o of await target.sendMany(6, frames)) {
          const i = byInner.get(o.frame.subarray(OUTER_V4).toString("hex"));
          assert.ok(i !== undefined && got[i] === undefined, "one output per ping");
          got[i] = { flowId: greKey(o.frame) & 0xff, port: o.port };
        }
        assert.equal(got.filter(Boolean).length, frames.length);
        return got;
      };
      const got = await sent(sessions);
      assert.deepEqual(
        got.map((g) => g.flowId),
        expected,
      );
      for (const family of [0, 1]) {
        const slice = got.slice(family * ECHO_IDS, (family + 1) * ECHO_IDS);
        const flowIds = new Set(slice.map((g) => g.flowId)).size;
        const ports = [...new Set(slice.map((g) => g.port))].sort();
        t.diagnostic(`${["ICMP", "ICMPv6"][family]}: ${flowIds} FlowIDs, next hops ${ports}`);
        assert.ok(flowIds >= ECHO_IDS / 4, `${flowIds} distinct FlowIDs of ${ECHO_IDS} sessions`);
        assert.deepEqual(ports, NEXT_HOPS);
      }
      // The next packet of each session (sequence number + 1) keeps its FlowID and next hop.
      assert.deepEqual(await sent(again as Buffer[]), got);
    });

    test("R9: transit pings of different echo identifiers spread over the next hops, each session on one", {
      skip,
    }, async (t) => {
      const pings = (seq: number) =>
        `[Ether(src=${py(SPINE_MAC)}, dst=${py(SWITCH_MAC)})/IP(src="203.0.113.50", dst="198.51.100.9")/ICMP(type=8, id=i, seq=${seq}) for i in range(${ECHO_IDS})]`;
      const [first, again] = await scapy.eval([pings(1), pings(2)]);
      /** Next hop of each session, by the echo identifier of its output. */
      const nextHops = async (frames: Buffer[]) => {
        const port: number[] = new Array(frames.length);
        for (const o of await target.sendMany(SPINE_PORT, frames)) {
          port[o.frame.readUInt16BE(14 + 20 + 4)] = o.port;
        }
        assert.equal(port.filter(Boolean).length, frames.length, "one output per ping");
        return port;
      };
      const ports = await nextHops(first as Buffer[]);
      const used = [...new Set(ports)].sort();
      t.diagnostic(`${ECHO_IDS} sessions over next hops ${used}`);
      assert.deepEqual(used, NEXT_HOPS);
      assert.deepEqual(await nextHops(again as Buffer[]), ports, "the next packet of each session");
    });

    test("R9: changing only the FlowID or only the VSID of transit NVGRE moves it to other next hops", {
      skip,
    }, async () => {
      const transit = (vsid: string, flowId: string) =>
        `[nvgre4(${py(SPINE_MAC)}, ${py(SWITCH_MAC)}, "203.0.113.50", ${py(NVE1)}, ${vsid}, ${flowId}, ${inner}) for i in range(256)]`;
      const [byFlowId, byVsid] = await scapy.eval([
        transit("0x5001", "i"),
        transit("0x5001 + i", "0x10"),
      ]);
      for (const [what, packets] of [
        ["FlowID", byFlowId],
        ["VSID", byVsid],
      ] as const) {
        const out = await target.sendMany(SPINE_PORT, packets as Buffer[]);
        assert.equal(out.length, 256);
        const used = new Set(out.map((o) => o.port));
        assert.deepEqual([...used].sort(), NEXT_HOPS, `varying only the ${what}`);
      }
    });
  });
}
