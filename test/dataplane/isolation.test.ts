/**
 * Tenant isolation (R18): two VSIDs of two tenants use the same MAC addresses and the same
 * CAs, and even the same remote NVE. No frame of one ever reaches the other: not bridged, not
 * flooded, not decapsulated into it, not answered from its ARP bindings; each VSID keeps its
 * own counters (R15).
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
import { Batch, readCounters } from "../../topologies/leaf-program.js";
import { py, Scapy } from "../../topologies/scapy.js";
import { type DataplaneTarget, targets } from "../support/targets.js";
import { sortedOutputs } from "./observe.js";

const RED = { vsid: 0x5001, index: 1, vrf: 1, ports: [3, 4], rid: 1 }; // tenant 1
const BLUE = { vsid: 0x7001, index: 2, vrf: 2, ports: [5, 6], rid: 2 }; // tenant 2
const M1 = "02:00:00:00:00:01"; // 10.1.0.1 in both: RED port 3, BLUE port 5
const M2 = "02:00:00:00:00:02"; // 10.1.0.2 in both: RED behind NVE1, BLUE port 6
const NVE1 = "198.51.100.2"; // serves both tenants
const RED_BINDING = "02:00:00:00:0e:09"; // 10.1.0.9 in RED
const BLUE_BINDING = "02:00:00:00:0b:09"; // 10.1.0.9 in BLUE

const udp = (src: string, dst: string) =>
  `Ether(src=${py(src)}, dst=${py(dst)})/IP(src="10.1.0.1", dst="10.1.0.2")/UDP(sport=1111, dport=2222)/Raw(b"same")`;
const fromNve = (vsid: number, inner: string) =>
  `nvgre4(${py(SPINE_MAC)}, ${py(SWITCH_MAC)}, ${py(NVE1)}, ${py(PA4)}, ${vsid}, 0x33, ${inner})`;
const toNve = (vsid: number, inner: string) =>
  `nvgre4(${py(SWITCH_MAC)}, ${py(SPINE_MAC)}, ${py(PA4)}, ${py(NVE1)}, ${vsid}, flow_id(${inner}), ${inner})`;
const broadcast = `Ether(src=${py(M1)}, dst="ff:ff:ff:ff:ff:ff")/ARP(op=1, hwsrc=${py(M1)}, psrc="10.1.0.1", pdst="10.1.0.77")`;

for (const factory of targets()) {
  describe(`tenant isolation with overlapping MACs and CAs on ${factory.kind}`, () => {
    const { skip } = factory;
    let target: DataplaneTarget;
    const scapy = new Scapy();

    async function expectOut(
      port: number,
      frameExpr: string,
      out: { port: number; expr: string }[],
    ) {
      const [frame, ...expected] = await scapy.frames([frameExpr, ...out.map((o) => o.expr)]);
      assert.deepEqual(
        sortedOutputs(await target.send(port, frame as Buffer)),
        sortedOutputs(out.map((o, i) => ({ port: o.port, frame: expected[i] as Buffer }))),
      );
    }

    before(async () => {
      if (skip) return;
      target = await factory.start();
      const batch = leafBase(new Batch(target));
      addNve(batch, 1, NVE1);
      for (const t of [RED, BLUE]) {
        addVsid(batch, { vsid: t.vsid, index: t.index, vrf: t.vrf });
        for (const port of t.ports) addAccess(batch, port, t.vsid);
        addSourcePa(batch, t.vsid, { v4: PA4 });
        batch.entry("flood_replica", { rid: t.rid }, "replicate_v4", {
          dst_pa: NVE1,
          smac: SWITCH_MAC,
          dmac: SPINE_MAC,
        });
        const local = t.ports.map((port) => ({ port, instance: 0 }));
        batch.insert(
          batch.builder.multicastGroup(t.index * 10, [...local, { port: UPLINK, instance: t.rid }]),
        );
        batch.insert(batch.builder.multicastGroup(t.index * 10 + 1, local));
        batch.entry("vsid_flood", { vsid: t.vsid }, "set_flood_groups", {
          group: t.index * 10,
          local_group: t.index * 10 + 1,
        });
      }
      const mac = (vsid: number, dst_mac: string, action: string, params: Record<string, number>) =>
        batch.entry("mac", { vsid, dst_mac }, action, params);
      mac(RED.vsid, M1, "bridge_to_port", { port: 3 });
      mac(RED.vsid, M2, "bridge_to_nve", { nve_id: 1 });
      mac(BLUE.vsid, M1, "bridge_to_port", { port: 5 });
      mac(BLUE.vsid, M2, "bridge_to_port", { port: 6 });
      batch.entry("arp_responder", { vsid: RED.vsid, ip: "10.1.0.9" }, "arp_reply", {
        mac: RED_BINDING,
      });
      batch.entry("arp_responder", { vsid: BLUE.vsid, ip: "10.1.0.9" }, "arp_reply", {
        mac: BLUE_BINDING,
      });
      await batch.commit();
    });

    after(async () => {
      await scapy.close();
      await target?.close();
    });

    test("R18: the same frame is bridged within each tenant's VSID only", { skip }, async () => {
      const frame = udp(M1, M2);
      await expectOut(3, frame, [{ port: UPLINK, expr: toNve(RED.vsid, frame) }]);
      await expectOut(5, frame, [{ port: 6, expr: frame }]);
    });

    test("R18 R2: NVGRE from one NVE is delivered into the VSID its key names, nowhere else", {
      skip,
    }, async () => {
      const inner = udp(M2, M1);
      await expectOut(UPLINK, fromNve(RED.vsid, inner), [{ port: 3, expr: inner }]);
      await expectOut(UPLINK, fromNve(BLUE.vsid, inner), [{ port: 5, expr: inner }]);
    });

    test("R18 R10: a broadcast floods its own VSID only, from either side", { skip }, async () => {
      await expectOut(3, broadcast, [
        { port: 4, expr: broadcast },
        { port: UPLINK, expr: toNve(RED.vsid, broadcast) },
      ]);
      await expectOut(5, broadcast, [
        { port: 6, expr: broadcast },
        { port: UPLINK, expr: toNve(BLUE.vsid, broadcast) },
      ]);
      await expectOut(UPLINK, fromNve(BLUE.vsid, broadcast), [
        { port: 5, expr: broadcast },
        { port: 6, expr: broadcast },
      ]);
    });

    test("R18 R16: the same CA is answered from each VSID's own binding", { skip }, async () => {
      const request = `Ether(src=${py(M1)}, dst="ff:ff:ff:ff:ff:ff")/ARP(op=1, hwsrc=${py(M1)}, psrc="10.1.0.1", pdst="10.1.0.9")`;
      const reply = (binding: string) =>
        `Ether(src=${py(binding)}, dst=${py(M1)})/ARP(op=2, hwsrc=${py(binding)}, psrc="10.1.0.9", hwdst=${py(M1)}, pdst="10.1.0.1")`;
      await expectOut(3, request, [{ port: 3, expr: reply(RED_BINDING) }]);
      await expectOut(5, request, [{ port: 5, expr: reply(BLUE_BINDING) }]);
    });

    test("R15 R18: each VSID counts only its own traffic", { skip }, async () => {
      const frame = await scapy.frame(udp(M1, M2));
      const before = await readCounters(target, "vsid_encap", [RED.index, BLUE.index]);
      await target.send(3, frame);
      await target.send(3, frame);
      await target.send(5, frame); // bridged locally in BLUE: not encapsulated
      const after = await readCounters(target, "vsid_encap", [RED.index, BLUE.index]);
      assert.deepEqual(
        after.map((a, i) => a.packets - (before[i]?.packets ?? 0)),
        [2, 0],
      );
    });
  });
}
