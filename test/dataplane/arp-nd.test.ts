/**
 * ARP and IPv6 neighbour discovery answered by the switch from preconfigured location
 * information instead of broadcast (R16): requests and solicitations for CAs known in the
 * VSID get their reply on the ingress port (re-tagged as the port is); what the switch must
 * not answer (unknown CAs, gratuitous ARP, DAD, invalid NS) is bridged like any frame. On the
 * fabric the switch answers ARP / ND for its own PAs and punts pings to them.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { PacketIoCodec } from "../../controller/p4rt/packet-io.js";
import {
  addAccess,
  addVsid,
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
import { sortedOutputs } from "./observe.js";

const VSID = 0x5001; // ports 3, 4 (VLAN 100), 5
const VM_A = "02:00:00:00:0a:01"; // 10.1.0.1, fd00:1::1, asks
const VM_B = "02:00:00:00:0b:01"; // 10.1.0.2, fd00:1::2, known to the switch
const GW_MAC = "00:00:5e:00:53:a1"; // the VSID's router, fd00:1::fffe

const arpRequest = (pdst: string, psrc = "10.1.0.1") =>
  `Ether(src=${py(VM_A)}, dst="ff:ff:ff:ff:ff:ff")/ARP(op=1, hwsrc=${py(VM_A)}, psrc=${py(psrc)}, pdst=${py(pdst)})`;
const arpReply = (mac: string, psrc: string, pdst = "10.1.0.1", to = VM_A) =>
  `Ether(src=${py(mac)}, dst=${py(to)})/ARP(op=2, hwsrc=${py(mac)}, psrc=${py(psrc)}, hwdst=${py(to)}, pdst=${py(pdst)})`;
/** A Neighbor Solicitation to the target's solicited-node group, as a host sends it. */
const ns = (target: string, { src = "fd00:1::1", hlim = 255, sll = true, mac = VM_A } = {}) =>
  `Ether(src=${py(mac)}, dst=in6_getnsmac(in6_getnsma(inet_pton(socket.AF_INET6, ${py(target)}))))/` +
  `IPv6(src=${py(src)}, dst=inet_ntop(socket.AF_INET6, in6_getnsma(inet_pton(socket.AF_INET6, ${py(target)}))), hlim=${hlim})/` +
  `ICMPv6ND_NS(tgt=${py(target)})${sll ? `/ICMPv6NDOptSrcLLAddr(lladdr=${py(mac)})` : ""}`;
const na = (mac: string, target: string, { router = 0, to = VM_A, dst = "fd00:1::1" } = {}) =>
  `Ether(src=${py(mac)}, dst=${py(to)})/IPv6(src=${py(target)}, dst=${py(dst)}, hlim=255)/` +
  `ICMPv6ND_NA(R=${router}, S=1, O=1, tgt=${py(target)})/ICMPv6NDOptDstLLAddr(lladdr=${py(mac)})`;
const tagged = (vlan: number, frame: string) =>
  `(lambda f: Ether(src=f.src, dst=f.dst)/Dot1Q(vlan=${vlan})/f.payload)(${frame})`;

for (const factory of targets()) {
  describe(`ARP and ND answered locally on ${factory.kind}`, () => {
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

    /** What a frame flooded from port 3 looks like on the VSID's other ports. */
    const flooded = (frame: string) => [
      { port: 4, expr: tagged(100, frame) },
      { port: 5, expr: frame },
    ];

    before(async () => {
      if (skip) return;
      target = await factory.start();
      const batch = leafBase(new Batch(target));
      addVsid(batch, { vsid: VSID, index: 1 });
      addAccess(batch, 3, VSID);
      addAccess(batch, 4, VSID, 100);
      addAccess(batch, 5, VSID);
      const ports = [3, 4, 5].map((port) => ({ port, instance: 0 }));
      batch.insert(batch.builder.multicastGroup(1, ports));
      batch.entry("vsid_flood", { vsid: VSID }, "set_flood_groups", { group: 1, local_group: 1 });
      batch.entry("arp_responder", { vsid: VSID, ip: "10.1.0.2" }, "arp_reply", { mac: VM_B });
      batch.entry("nd_responder", { vsid: VSID, ip: "fd00:1::2" }, "nd_advertise", {
        mac: VM_B,
        router: 0,
      });
      batch.entry("nd_responder", { vsid: VSID, ip: "fd00:1::fffe" }, "nd_advertise", {
        mac: GW_MAC,
        router: 1,
      });
      // The switch's own PAs, answered on fabric ports (VSID 0).
      batch.entry("arp_responder", { vsid: 0, ip: PA4 }, "arp_reply", { mac: SWITCH_MAC });
      batch.entry("nd_responder", { vsid: 0, ip: PA6 }, "nd_advertise", {
        mac: SWITCH_MAC,
        router: 1,
      });
      await batch.commit();
    });

    after(async () => {
      await scapy.close();
      await target?.close();
    });

    test("R16: an ARP request for a CA known in the VSID is answered on the ingress port", {
      skip,
    }, async () => {
      await expectOut(3, arpRequest("10.1.0.2"), [{ port: 3, expr: arpReply(VM_B, "10.1.0.2") }]);
    });

    test("R16: on a tagged port the reply carries the port's VLAN", { skip }, async () => {
      await expectOut(4, tagged(100, arpRequest("10.1.0.2")), [
        { port: 4, expr: tagged(100, arpReply(VM_B, "10.1.0.2")) },
      ]);
    });

    test("R16: a Neighbor Solicitation, with or without source link-layer option, gets the Advertisement", {
      skip,
    }, async () => {
      await expectOut(3, ns("fd00:1::2"), [{ port: 3, expr: na(VM_B, "fd00:1::2") }]);
      await expectOut(3, ns("fd00:1::2", { sll: false }), [
        { port: 3, expr: na(VM_B, "fd00:1::2") },
      ]);
    });

    test("R16: the VSID's gateway address is advertised with the router flag", {
      skip,
    }, async () => {
      await expectOut(3, ns("fd00:1::fffe"), [
        { port: 3, expr: na(GW_MAC, "fd00:1::fffe", { router: 1 }) },
      ]);
    });

    test("R16: requests for unknown CAs are bridged (flooded), not answered", {
      skip,
    }, async () => {
      await expectOut(3, arpRequest("10.1.0.99"), flooded(arpRequest("10.1.0.99")));
      await expectOut(3, ns("fd00:1::99"), flooded(ns("fd00:1::99")));
    });

    test("R16: gratuitous ARP, DAD probes and invalid solicitations are never answered", {
      skip,
    }, async () => {
      const gratuitous = arpRequest("10.1.0.2", "10.1.0.2");
      const probe = arpRequest("10.1.0.2", "0.0.0.0");
      const dad = ns("fd00:1::2", { src: "::", sll: false });
      const hopLimit64 = ns("fd00:1::2", { hlim: 64 });
      for (const frame of [gratuitous, probe, dad, hopLimit64]) {
        await expectOut(3, frame, flooded(frame));
      }
    });

    test("R16: on the fabric the switch answers ARP and ND for its own PAs", { skip }, async () => {
      const request = `Ether(src=${py(SPINE_MAC)}, dst="ff:ff:ff:ff:ff:ff")/ARP(op=1, hwsrc=${py(SPINE_MAC)}, psrc="192.0.2.254", pdst=${py(PA4)})`;
      await expectOut(UPLINK, request, [
        { port: UPLINK, expr: arpReply(SWITCH_MAC, PA4, "192.0.2.254", SPINE_MAC) },
      ]);
      await expectOut(UPLINK, ns(PA6, { src: "2001:db8::fe", mac: SPINE_MAC }), [
        {
          port: UPLINK,
          expr: na(SWITCH_MAC, PA6, { router: 1, to: SPINE_MAC, dst: "2001:db8::fe" }),
        },
      ]);
    });

    test("a ping to an own PA is punted to the controller with its reason", {
      skip,
    }, async () => {
      const codec = new PacketIoCodec(
        (target.pipeline as NonNullable<typeof target.pipeline>).index,
      );
      const frame = await scapy.frame(
        `Ether(src=${py(SPINE_MAC)}, dst=${py(SWITCH_MAC)})/IP(src="192.0.2.254", dst=${py(PA4)})/ICMP(type=8, id=7, seq=1)`,
      );
      assert.deepEqual(await target.send(UPLINK, frame), []);
      const punts = (await target.packetIns(1)).map((p) => codec.decodePacketIn(p));
      assert.equal(punts.length, 1);
      assert.deepEqual(punts[0]?.payload, frame);
      assert.equal(punts[0]?.metadata.punt_reason, BigInt(puntReason("ICMP_TO_SELF")));
      assert.equal(punts[0]?.metadata.ingress_port, BigInt(UPLINK));
    });
  });
}
