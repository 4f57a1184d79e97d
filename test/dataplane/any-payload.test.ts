/**
 * R4, any Ethernet payload: a tenant frame whose L3 header is malformed or cut short (an IPv4
 * EtherType with version 5 or a header length under 5, IPv4 / IPv6 / ARP / TCP / UDP / ICMP
 * headers cut short) is bridged to a local port or NVGRE-encapsulated byte for byte as it came,
 * from an untagged or a tagged port (the tag still goes, R5), and NVGRE carrying one is
 * decapsulated unchanged. Its L3 matters only where the switch acts on L3: such a frame sent to
 * the gateway MAC is not routed (PARSER_ERROR, R14), an ARP request cut short is bridged rather
 * than answered (R16), and the source guard of a guarded VSID cannot check its CA (R17). A frame
 * cut inside its Ethernet header or 802.1Q tag stays a parser error. Expected frames and
 * FlowIDs are Scapy's (topologies/scapy_reference.py: l3_parses, flow_id).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { MatchValue } from "../../controller/p4rt/entities.js";
import { PacketIoCodec } from "../../controller/p4rt/packet-io.js";
import {
  addAccess,
  addNve,
  addSourcePa,
  addTenantRoute,
  addVsid,
  leafBase,
  PA4,
  SPINE_MAC,
  SWITCH_MAC,
  UPLINK,
} from "../../topologies/leaf.js";
import { Batch, caFamily, exactTernary } from "../../topologies/leaf-program.js";
import { py, Scapy } from "../../topologies/scapy.js";
import { type DataplaneTarget, targets } from "../support/targets.js";
import { DropCounters } from "./observe.js";

const VSID_A = 0x5001; // ports 3 (untagged) and 4 (VLAN 100); tenant routing (VRF 1)
const VSID_G = 0x5007; // port 5; source guard on
const VLAN = 100;
const GW_A = "00:00:5e:00:53:a1";
const VM_A = "02:00:00:00:0a:01"; // VSID_A, port 3
const VM_B = "02:00:00:00:0b:01"; // behind NVE1 in both VSIDs
const VM_G = "02:00:00:00:07:01"; // VSID_G, port 5, admitted with CA 10.7.0.1
const NVE1 = "198.51.100.2";

/** Tenant frames from VM_A to `dst` whose L3 the switch cannot read, by name. */
const malformed = (dst: string): [string, string][] => {
  const eth = `Ether(src=${py(VM_A)}, dst=${py(dst)})`;
  const ip = `IP(src="10.1.0.1", dst="10.1.0.2")`;
  const ip6 = `IPv6(src="fd00:1::1", dst="fd00:1::2")`;
  const cut = (expr: string, bytes: number) => `bytes(${expr})[:${bytes}]`;
  return [
    [
      "IPv4 EtherType, version 5",
      `${eth}/IP(version=5, src="10.1.0.1", dst="10.1.0.2")/UDP(sport=1, dport=2)/Raw(b"r4")`,
    ],
    [
      "IPv4 header length 3",
      `${eth}/IP(ihl=3, src="10.1.0.1", dst="10.1.0.2")/UDP(sport=1, dport=2)/Raw(b"r4")`,
    ],
    ["IPv4 header cut short", cut(`${eth}/${ip}/UDP()`, 14 + 12)],
    [
      "IPv4 options cut short",
      cut(
        `${eth}/IP(src="10.1.0.1", dst="10.1.0.2", options=[IPOption_RR(routers=["192.0.2.7"])])/UDP()`,
        14 + 22,
      ),
    ],
    ["UDP header cut short", cut(`${eth}/${ip}/UDP(sport=7, dport=9)`, 14 + 20 + 5)],
    ["TCP header cut short", cut(`${eth}/${ip}/TCP(sport=7, dport=9)`, 14 + 20 + 12)],
    ["ICMP echo cut inside its identifier", cut(`${eth}/${ip}/ICMP(type=8, id=7)`, 14 + 20 + 5)],
    ["IPv6 header cut short", cut(`${eth}/${ip6}/UDP()`, 14 + 30)],
    [
      "IPv6 EtherType, version 7",
      `${eth}/IPv6(version=7, src="fd00:1::1", dst="fd00:1::2")/UDP(sport=1, dport=2)/Raw(b"r4")`,
    ],
    [
      "ICMPv6 echo cut inside its identifier",
      cut(`${eth}/${ip6}/ICMPv6EchoRequest(id=9)`, 14 + 40 + 5),
    ],
    ["ARP cut short", cut(`${eth}/ARP(op=1, psrc="10.1.0.1", pdst="10.1.0.2")`, 14 + 20)],
  ];
};

/** The frame (bytes) with an 802.1Q tag of `vlan` inserted after the MAC addresses. */
const tagged = (vlan: number, expr: string) =>
  `(lambda f: f[:12] + bytes([0x81, 0, ${vlan >> 8}, ${vlan & 0xff}]) + f[12:])(bytes(${expr}))`;
const encap = (vsid: number, inner: string) =>
  `nvgre4(${py(SWITCH_MAC)}, ${py(SPINE_MAC)}, ${py(PA4)}, ${py(NVE1)}, ${vsid}, flow_id(${inner}), bytes(${inner}))`;
const fromNve1 = (inner: string) =>
  `nvgre4(${py(SPINE_MAC)}, ${py(SWITCH_MAC)}, ${py(NVE1)}, ${py(PA4)}, ${VSID_A}, 0x42, bytes(${inner}))`;

for (const factory of targets()) {
  describe(`any Ethernet payload (R4) on ${factory.kind}`, () => {
    const { skip } = factory;
    let target: DataplaneTarget;
    const scapy = new Scapy();

    before(async () => {
      if (skip) return;
      target = await factory.start();
      const batch = leafBase(new Batch(target), { access: [3, 4, 5] });
      addVsid(batch, { vsid: VSID_A, index: 1, vrf: 1, gwMac: GW_A });
      addVsid(batch, { vsid: VSID_G, index: 2, sourceGuard: true });
      addAccess(batch, 3, VSID_A);
      addAccess(batch, 4, VSID_A, VLAN);
      addAccess(batch, 5, VSID_G);
      addNve(batch, 1, NVE1);
      addSourcePa(batch, VSID_A, { v4: PA4 });
      addSourcePa(batch, VSID_G, { v4: PA4 });
      batch.entry("mac", { vsid: VSID_A, dst_mac: VM_A }, "bridge_to_port", { port: 3 });
      batch.entry("mac", { vsid: VSID_A, dst_mac: VM_B }, "bridge_to_nve", { nve_id: 1 });
      batch.entry("mac", { vsid: VSID_G, dst_mac: VM_B }, "bridge_to_nve", { nve_id: 1 });
      batch.entry("arp_responder", { vsid: VSID_A, ip: "10.1.0.2" }, "arp_reply", { mac: VM_B });
      addTenantRoute(batch, {
        vrf: 1,
        prefix: "10.9.0.0/16",
        nexthop: 1,
        vsid: VSID_A,
        index: 1,
        smac: GW_A,
        dmac: VM_B,
      });
      // As the controller admits an endpoint (compile.ts sourceGuard): its MAC with non-IP
      // frames (family 0) and with its CA.
      const permit = (family: number, ca: MatchValue) =>
        batch.entry(
          "source_guard",
          { vsid: VSID_G, port: 5, src_mac: VM_G, ca_family: exactTernary(family, 2), src_ca: ca },
          "permit_source",
          {},
          10,
        );
      permit(0, { value: 0, mask: 0 });
      permit(caFamily("IPV4"), exactTernary("10.7.0.1", 128));
      await batch.commit();
    });

    after(async () => {
      await scapy.close();
      await target?.close();
    });

    /** Sends `frame` on `port`, expecting `outputs` and no drop counted. */
    async function expectForwarded(
      what: string,
      port: number,
      frame: Buffer,
      outputs: { port: number; frame: Buffer }[],
    ) {
      const before = await DropCounters.read(target);
      assert.deepEqual(await target.send(port, frame), outputs, what);
      assert.deepEqual((await DropCounters.read(target)).since(before), {}, `${what}: no drop`);
    }

    /** Sends `frame` on `port`, expecting nothing to leave and one drop under `reason`. */
    async function expectDropped(what: string, port: number, frame: Buffer, reason: string) {
      const before = await DropCounters.read(target);
      assert.deepEqual(await target.send(port, frame), [], what);
      assert.deepEqual((await DropCounters.read(target)).since(before), { [reason]: 1 }, what);
    }

    test("R4 R5: a frame whose L3 header is malformed or cut short is encapsulated unchanged, from an untagged or a tagged port", {
      skip,
    }, async () => {
      const cases = malformed(VM_B);
      const frames = await scapy.frames(
        cases.flatMap(([, f]) => [`bytes(${f})`, tagged(VLAN, f), encap(VSID_A, f)]),
      );
      for (const [i, [name]] of cases.entries()) {
        const [untagged, withTag, expected] = frames.slice(3 * i, 3 * i + 3) as Buffer[];
        const out = [{ port: UPLINK, frame: expected as Buffer }];
        await expectForwarded(`${name}, untagged`, 3, untagged as Buffer, out);
        await expectForwarded(`${name}, VLAN ${VLAN}`, 4, withTag as Buffer, out);
      }
    });

    test("R4 R5: such a frame is bridged to a local port unchanged (its tag removed)", {
      skip,
    }, async () => {
      const cases = malformed(VM_A);
      const frames = await scapy.frames(cases.flatMap(([, f]) => [`bytes(${f})`, tagged(VLAN, f)]));
      for (const [i, [name]] of cases.entries()) {
        const [untagged, withTag] = frames.slice(2 * i, 2 * i + 2) as Buffer[];
        await expectForwarded(name, 4, withTag as Buffer, [{ port: 3, frame: untagged as Buffer }]);
      }
    });

    test("R4: NVGRE carrying such a frame is decapsulated and delivered unchanged", {
      skip,
    }, async () => {
      const cases = malformed(VM_A);
      const frames = await scapy.frames(cases.flatMap(([, f]) => [`bytes(${f})`, fromNve1(f)]));
      for (const [i, [name]] of cases.entries()) {
        const [inner, packet] = frames.slice(2 * i, 2 * i + 2) as Buffer[];
        await expectForwarded(name, UPLINK, packet as Buffer, [
          { port: 3, frame: inner as Buffer },
        ]);
      }
    });

    test("R4 R14: a frame to the gateway MAC is routed only when its IP header parses", {
      skip,
    }, async () => {
      const toGw = (ipArgs: string) =>
        `Ether(src=${py(VM_A)}, dst=${py(GW_A)})/IP(src="10.1.0.1", dst="10.9.0.1", ${ipArgs})/UDP(sport=5, dport=6)/Raw(b"routed")`;
      const routed = `Ether(src=${py(GW_A)}, dst=${py(VM_B)})/IP(src="10.1.0.1", dst="10.9.0.1", ttl=63)/UDP(sport=5, dport=6)/Raw(b"routed")`;
      const [good, expected, badVersion, cutShort] = await scapy.frames([
        toGw("ttl=64"),
        encap(VSID_A, routed),
        toGw("ttl=64, version=5"),
        `bytes(${toGw("ttl=64")})[:14 + 16]`,
      ]);
      await expectForwarded("well-formed", 3, good as Buffer, [
        { port: UPLINK, frame: expected as Buffer },
      ]);
      await expectDropped("IPv4 version 5", 3, badVersion as Buffer, "PARSER_ERROR");
      await expectDropped("IPv4 header cut short", 3, cutShort as Buffer, "PARSER_ERROR");
    });

    test("R4 R16: an ARP request cut short is bridged as it came, not answered", {
      skip,
    }, async () => {
      const request = `Ether(src=${py(VM_A)}, dst=${py(VM_B)})/ARP(op=1, hwsrc=${py(VM_A)}, psrc="10.1.0.1", pdst="10.1.0.2")`;
      const cut = `bytes(${request})[:14 + 24]`;
      const [whole, short, expected] = await scapy.frames([request, cut, encap(VSID_A, cut)]);
      const answer = await target.send(3, whole as Buffer);
      assert.deepEqual(
        answer.map((o) => ({ port: o.port, oper: o.frame.readUInt16BE(14 + 6) })),
        [{ port: 3, oper: 2 }],
        "the whole request is answered on its port",
      );
      await expectForwarded("cut short", 3, short as Buffer, [
        { port: UPLINK, frame: expected as Buffer },
      ]);
    });

    test("R4 R17: with source guard on, a frame whose CA cannot be read is refused; the same MAC's non-IP frames pass", {
      skip,
    }, async () => {
      const eth = `Ether(src=${py(VM_G)}, dst=${py(VM_B)})`;
      const ip = `${eth}/IP(src="10.7.0.1", dst="10.7.0.2")/UDP(sport=1, dport=2)`;
      const nonIp = `Ether(src=${py(VM_G)}, dst=${py(VM_B)}, type=0x88b5)/Raw(bytes(range(46)))`;
      const badIp = `${eth}/IP(version=5, src="10.7.0.1", dst="10.7.0.2")/UDP(sport=1, dport=2)`;
      const [good, goodOut, other, otherOut, bad] = await scapy.frames([
        ip,
        encap(VSID_G, ip),
        nonIp,
        encap(VSID_G, nonIp),
        badIp,
      ]);
      await expectForwarded("IPv4 from its CA", 5, good as Buffer, [
        { port: UPLINK, frame: goodOut as Buffer },
      ]);
      await expectForwarded("non-IP", 5, other as Buffer, [
        { port: UPLINK, frame: otherOut as Buffer },
      ]);
      await expectDropped("IPv4 version 5", 5, bad as Buffer, "SOURCE_GUARD");
    });

    test("R4: a frame cut inside its Ethernet header or 802.1Q tag is a parser error", {
      skip,
    }, async () => {
      const frame = `Ether(src=${py(VM_A)}, dst=${py(VM_B)})/Dot1Q(vlan=${VLAN})/IP()/UDP()`;
      const [inTag, inEthernet] = (await scapy.frames([
        `bytes(${frame})[:16]`,
        `bytes(${frame})[:13]`,
      ])) as Buffer[];
      const codec = new PacketIoCodec(
        (target.pipeline as NonNullable<typeof target.pipeline>).index,
      );
      const cases: [string, number, Buffer][] = [
        ["cut inside the tag", 4, inTag as Buffer],
        ["cut inside the Ethernet header", 3, inEthernet as Buffer],
      ];
      for (const [what, port, cut] of cases) {
        // Linux cannot carry either frame to bmv2's veth ports: a packet socket refuses to send
        // under 14 bytes, and a tag cut short is dropped as it arrives (skb_vlan_untag), before
        // any capture. A PacketOut run through the pipeline meets the same parser on every
        // target, from the CPU port.
        if (target.kind === "softswitch") await expectDropped(what, port, cut, "PARSER_ERROR");
        const before = await DropCounters.read(target);
        const out = await target.packetOut(
          cut,
          codec.packetOutMetadata({ egress_port: 0, through_pipeline: 1 }),
        );
        assert.deepEqual(out, [], `${what}, from the CPU port`);
        const counted = (await DropCounters.read(target)).since(before);
        assert.deepEqual(counted, { PARSER_ERROR: 1 }, `${what}, from the CPU port`);
      }
    });
  });
}
