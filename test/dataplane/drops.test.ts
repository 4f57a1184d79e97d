/**
 * Every drop reason of the program (p4/include/defines.p4), each provoked by one frame that
 * must not leave the switch and must be counted once, under its own reason and no other, in
 * the "drops" (ingress) or "egress_drops" counter read back through P4Runtime. NVGRE
 * validation follows R1, R5, R6, R12, R17; malformed input never reaches a VSID (R18).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { PacketIoCodec } from "../../controller/p4rt/packet-io.js";
import {
  addAccess,
  addNve,
  addSourcePa,
  addTenantRoute,
  addVsid,
  CPU_PORT,
  ENCAP_TTL,
  leafBase,
  PA4,
  PA6,
  SPINE_MAC,
  SWITCH_MAC,
} from "../../topologies/leaf.js";
import { allDropReasons, Batch, puntReason } from "../../topologies/leaf-program.js";
import { py, Scapy } from "../../topologies/scapy.js";
import { type DataplaneTarget, targets } from "../support/targets.js";
import { DropCounters } from "./observe.js";

const FABRIC = [1, 2];
const ACCESS = [3, 4, 5, 6, 7]; // port 8 is not configured
const VSID_A = 0x5001; // ports 3 (untagged), 4 (VLAN 100); tenant routing on
const VSID_B = 0x5002; // port 5; PA validation on, NVE1 admitted
const VSID_C = 0x5003; // port 6 untagged; source guard on, nothing admitted
const VSID_D = 0x5004; // port 7; a flood group with an unknown replica
const VSID_F = 0x5006; // port 6 VLAN 10; no flood group
const VSID_UNCONFIGURED = 0x5998; // port 4 VLAN 300 maps to it, the vsid table lacks it
const NVE1 = "198.51.100.2";
const NVE1_V6 = "2001:db8:100::2";
const STRANGER = "198.51.100.66"; // not an NVE of VSID_B
const NVE_MTU = "203.0.113.8"; // behind port 2, whose MTU is tiny
const GW_A = "00:00:5e:00:53:a1";
const VM_A = "02:00:00:00:0a:01"; // VSID_A, port 3
const VM_B = "02:00:00:00:0b:01"; // VSID_A, behind NVE1
const VM_B2 = "02:00:00:00:0b:02"; // VSID_B, port 5
const VM_NO_NVE = "02:00:00:00:0e:09"; // VSID_A, bridged to an NVE id without entry
const VM_V6_NVE = "02:00:00:00:0e:05"; // VSID_A, behind an IPv6 NVE (VSID_A has no IPv6 PA)
const VM_UNROUTED = "02:00:00:00:0e:06"; // VSID_A, behind an NVE whose PA is not routed
const VM_MTU = "02:00:00:00:0e:08"; // VSID_A, behind NVE_MTU
const VM_WRONG_PORT = "02:00:00:00:0d:06"; // VSID_D, bridged to port 6 (no VLAN map for D)
const HOST_MISSING = "02:00:00:00:0f:0f"; // tenant next hop MAC that is nowhere
const TINY_MTU = 60;

const udp = (src: string, dst: string) =>
  `Ether(src=${py(src)}, dst=${py(dst)})/IP(src="10.1.0.1", dst="10.1.0.2")/UDP(sport=1, dport=2)`;
const fromSpine = `Ether(src=${py(SPINE_MAC)}, dst=${py(SWITCH_MAC)})`;
/** NVGRE from NVE1 to our PA; `gre` and `ip` are keyword arguments that override defaults. */
const nvgre = (vsid: number, inner: string, gre = "", ip = "") =>
  `${fromSpine}/IP(**{**dict(src=${py(NVE1)}, dst=${py(PA4)}, id=0, flags="DF"), **dict(${ip})})/` +
  `GRE(**{**dict(key_present=1, proto=0x6558, key=gre_key(${vsid}, 0x11)), **dict(${gre})})/${inner}`;
const toA = udp(VM_B, VM_A);

interface DropCase {
  title: string;
  port: number;
  frame: string;
  /** Expected counter deltas by reason ("egress:" for egress_drops). */
  counted: Record<string, number>;
  /** PacketIns expected with it (punt reason name). */
  punted?: string;
  /** The punted payload is the frame as it arrived. */
  puntedAsReceived?: boolean;
}

const cases: DropCase[] = [
  {
    title: "PARSER_ERROR R18: an IPv4 header with version 5 never reaches a VSID",
    port: 1,
    frame: `${fromSpine}/IP(version=5, src=${py(NVE1)}, dst=${py(PA4)})/GRE()`,
    counted: { PARSER_ERROR: 1 },
  },
  {
    title: "PARSER_ERROR R5 R18: a QinQ (802.1ad) access frame is refused, its tags cannot go",
    port: 3,
    frame: `Ether(src=${py(VM_A)}, dst=${py(VM_B)})/Dot1AD(vlan=5)/Dot1Q(vlan=100)/IP()/UDP()`,
    counted: { PARSER_ERROR: 1 },
  },
  {
    title: "PARSER_ERROR R18: a truncated NVGRE packet (cut inside the inner Ethernet header)",
    port: 1,
    frame: `bytes(${nvgre(VSID_A, toA)})[:14 + 20 + 8 + 10]`,
    counted: { PARSER_ERROR: 1 },
  },
  {
    title: "IPV4_CHECKSUM: a fabric packet with a bad IPv4 header checksum",
    port: 1,
    frame: nvgre(VSID_A, toA, "", "chksum=0x1234"),
    counted: { IPV4_CHECKSUM: 1 },
  },
  {
    title: "IPV4_CHECKSUM: the same with IPv4 options in the header",
    port: 1,
    frame: nvgre(VSID_A, toA, "", 'chksum=0x1234, options=[IPOption_RR(routers=["192.0.2.77"])]'),
    counted: { IPV4_CHECKSUM: 1 },
  },
  {
    title: "IP_LENGTH R18: NVGRE cut short inside its inner payload (headers all present)",
    port: 1,
    frame: `bytes(${nvgre(VSID_A, `${toA}/Raw(bytes(40))`)})[:-20]`,
    counted: { IP_LENGTH: 1 },
  },
  {
    title: "IP_LENGTH R18: NVGRE followed by bytes beyond its IP length",
    port: 1,
    frame: `bytes(${nvgre(VSID_A, toA)}) + bytes(8)`,
    counted: { IP_LENGTH: 1 },
  },
  {
    title: "IP_LENGTH R18: IPv6 NVGRE whose payload length exceeds the frame",
    port: 1,
    frame:
      `${fromSpine}/IPv6(src=${py(NVE1_V6)}, dst=${py(PA6)}, plen=200)/` +
      `GRE(key_present=1, proto=0x6558, key=gre_key(${VSID_A}, 1))/${toA}`,
    counted: { IP_LENGTH: 1 },
  },
  {
    title: "PORT_UNKNOWN: a frame on a port without a port type",
    port: 8,
    frame: udp(VM_A, VM_B),
    counted: { PORT_UNKNOWN: 1 },
  },
  {
    title: "PORT_VLAN_UNKNOWN R18: an access frame on a VLAN mapped to no VSID",
    port: 3,
    frame: `Ether(src=${py(VM_A)}, dst=${py(VM_B)})/Dot1Q(vlan=999)/IP()/UDP()`,
    counted: { PORT_VLAN_UNKNOWN: 1 },
  },
  {
    title: "NOT_MY_MAC: a fabric frame not sent to the router MAC",
    port: 1,
    frame: `Ether(src=${py(SPINE_MAC)}, dst="02:99:99:99:99:99")/IP(src=${py(NVE1)}, dst=${py(PA4)})/UDP()`,
    counted: { NOT_MY_MAC: 1 },
  },
  {
    title: "TO_SELF_UNHANDLED: UDP to an own PA",
    port: 1,
    frame: `${fromSpine}/IP(src=${py(NVE1)}, dst=${py(PA4)})/UDP(sport=9, dport=9)`,
    counted: { TO_SELF_UNHANDLED: 1 },
  },
  {
    title: "UNDERLAY_TTL_EXPIRED: transit with TTL 1",
    port: 1,
    frame: `${fromSpine}/IP(src=${py(NVE1)}, dst="198.51.100.9", ttl=1)/UDP()`,
    counted: { UNDERLAY_TTL_EXPIRED: 1 },
  },
  {
    title: "UNDERLAY_ROUTE_MISS: transit to an unrouted address",
    port: 1,
    frame: `${fromSpine}/IP(src=${py(NVE1)}, dst="192.0.2.99")/UDP()`,
    counted: { UNDERLAY_ROUTE_MISS: 1 },
  },
  {
    title: "UNDERLAY_ROUTE_MISS R11: a tenant frame toward an NVE whose PA is not routed",
    port: 3,
    frame: udp(VM_A, VM_UNROUTED),
    counted: { UNDERLAY_ROUTE_MISS: 1 },
  },
  {
    title: "OUTER_FRAGMENT R12: a first fragment (MF set) of NVGRE",
    port: 1,
    frame: nvgre(VSID_A, toA, "", 'flags="MF"'),
    counted: { OUTER_FRAGMENT: 1 },
  },
  {
    title: "OUTER_FRAGMENT R12: a later fragment (offset set) of NVGRE",
    port: 1,
    frame: `${fromSpine}/IP(src=${py(NVE1)}, dst=${py(PA4)}, proto=47, frag=100)/Raw(bytes(40))`,
    counted: { OUTER_FRAGMENT: 1 },
  },
  {
    title: "OUTER_FRAGMENT R12: NVGRE in an IPv6 fragment",
    port: 1,
    frame:
      `${fromSpine}/IPv6(src=${py(NVE1_V6)}, dst=${py(PA6)})/IPv6ExtHdrFragment(m=1, id=7)/` +
      `GRE(key_present=1, proto=0x6558, key=gre_key(${VSID_A}, 1))/${toA}`,
    counted: { OUTER_FRAGMENT: 1 },
  },
  {
    title: "GRE_FLAGS R1 R17: checksum present (C = 1)",
    port: 1,
    frame: nvgre(VSID_A, toA, "chksum_present=1"),
    counted: { GRE_FLAGS: 1 },
  },
  {
    title: "GRE_FLAGS R1: sequence number present (S = 1)",
    port: 1,
    frame: nvgre(VSID_A, toA, "seqnum_present=1, sequence_number=5"),
    counted: { GRE_FLAGS: 1 },
  },
  {
    title: "GRE_FLAGS R1: routing present (R = 1)",
    port: 1,
    frame: nvgre(VSID_A, toA, "routing_present=1"),
    counted: { GRE_FLAGS: 1 },
  },
  {
    title: "GRE_FLAGS R1: strict source route (s = 1)",
    port: 1,
    frame: nvgre(VSID_A, toA, "strict_route_source=1"),
    counted: { GRE_FLAGS: 1 },
  },
  {
    title: "GRE_FLAGS R1: recursion control's top bit set",
    port: 1,
    frame: nvgre(VSID_A, toA, "recursion_control=4"),
    counted: { GRE_FLAGS: 1 },
  },
  {
    title: "GRE_VERSION R1: version 1",
    port: 1,
    frame: nvgre(VSID_A, toA, "version=1"),
    counted: { GRE_VERSION: 1 },
  },
  {
    title: "GRE_NO_KEY R1 R2: no key (K = 0)",
    port: 1,
    frame: `${fromSpine}/IP(src=${py(NVE1)}, dst=${py(PA4)})/GRE(proto=0x6558)/${toA}`,
    counted: { GRE_NO_KEY: 1 },
  },
  {
    title: "GRE_PROTOCOL R1: protocol 0x0800 instead of 0x6558",
    port: 1,
    frame: nvgre(VSID_A, `IP(src="10.1.0.1", dst="10.1.0.2")/UDP()`, "proto=0x0800"),
    counted: { GRE_PROTOCOL: 1 },
  },
  {
    title: "VSID_RESERVED R6: VSID 0xFFF (reserved range 0-0xFFF)",
    port: 1,
    frame: nvgre(0xfff, toA),
    counted: { VSID_RESERVED: 1 },
  },
  {
    title: "VSID_RESERVED R6: VSID 0",
    port: 1,
    frame: nvgre(0, toA),
    counted: { VSID_RESERVED: 1 },
  },
  {
    title: "VSID_FFFFFF R6: vendor-specific VSID 0xFFFFFF is never bridged, punted as received",
    port: 1,
    frame: nvgre(0xffffff, toA),
    counted: { VSID_FFFFFF: 1 },
    punted: "VSID_FFFFFF",
    puntedAsReceived: true,
  },
  {
    title: "INNER_VLAN R5: an inner frame carrying an 802.1Q tag",
    port: 1,
    frame: nvgre(VSID_A, `Ether(src=${py(VM_B)}, dst=${py(VM_A)})/Dot1Q(vlan=100)/IP()/UDP()`),
    counted: { INNER_VLAN: 1 },
  },
  {
    title: "INNER_VLAN R5: an inner frame carrying an 802.1ad S-tag (QinQ)",
    port: 1,
    frame: nvgre(
      VSID_A,
      `Ether(src=${py(VM_B)}, dst=${py(VM_A)})/Dot1AD(vlan=5)/Dot1Q(vlan=100)/IP()/UDP()`,
    ),
    counted: { INNER_VLAN: 1 },
  },
  {
    title: "INNER_VLAN R5: an inner frame carrying a 0x9100 tag",
    port: 1,
    frame: nvgre(
      VSID_A,
      `Ether(src=${py(VM_B)}, dst=${py(VM_A)}, type=0x9100)/Dot1Q(vlan=100)/IP()/UDP()`,
    ),
    counted: { INNER_VLAN: 1 },
  },
  {
    title: "PARSER_ERROR R4 R5: an inner 802.1Q tag cut short is not decapsulated",
    port: 1,
    frame: `bytes(${nvgre(VSID_A, `Ether(src=${py(VM_B)}, dst=${py(VM_A)})/Dot1Q(vlan=100)`)})[:14 + 20 + 8 + 16]`,
    counted: { PARSER_ERROR: 1 },
  },
  {
    title: "VSID_UNKNOWN R18: NVGRE for a VSID not configured here",
    port: 1,
    frame: nvgre(0x5999, toA),
    counted: { VSID_UNKNOWN: 1 },
  },
  {
    title: "VSID_UNKNOWN R18: an access VLAN mapped to a VSID the vsid table lacks",
    port: 4,
    frame: `Ether(src=${py(VM_A)}, dst=${py(VM_B)})/Dot1Q(vlan=300)/IP()/UDP()`,
    counted: { VSID_UNKNOWN: 1 },
  },
  {
    title: "PA_NOT_NVE_OF_VSID R17: NVGRE from a PA that is not an NVE of the VSID",
    port: 1,
    frame:
      `${fromSpine}/IP(src=${py(STRANGER)}, dst=${py(PA4)}, flags="DF")/` +
      `GRE(key_present=1, proto=0x6558, key=gre_key(${VSID_B}, 0))/${udp(VM_B, VM_B2)}`,
    counted: { PA_NOT_NVE_OF_VSID: 1 },
  },
  {
    title: "SOURCE_GUARD R17: a source MAC the VSID does not admit on the port",
    port: 6,
    frame: udp("02:00:00:00:66:66", VM_A),
    counted: { SOURCE_GUARD: 1 },
  },
  {
    title: "TENANT_ROUTE_MISS R14: a routed frame with no route in its tenant",
    port: 3,
    frame: `Ether(src=${py(VM_A)}, dst=${py(GW_A)})/IP(src="10.1.0.1", dst="10.8.0.1")/UDP()`,
    counted: { TENANT_ROUTE_MISS: 1 },
  },
  {
    title: "TENANT_TTL_EXPIRED R14: a routed frame with TTL 1",
    port: 3,
    frame: `Ether(src=${py(VM_A)}, dst=${py(GW_A)})/IP(src="10.1.0.1", dst="10.9.0.1", ttl=1)/UDP()`,
    counted: { TENANT_TTL_EXPIRED: 1 },
  },
  {
    title: "ROUTED_DST_UNKNOWN R14: a route whose next-hop MAC is in no table",
    port: 3,
    frame: `Ether(src=${py(VM_A)}, dst=${py(GW_A)})/IP(src="10.1.0.1", dst="10.9.0.1")/UDP()`,
    counted: { ROUTED_DST_UNKNOWN: 1 },
  },
  {
    title: "BRIDGE_SAME_PORT: a frame for a MAC on its own ingress port",
    port: 3,
    frame: udp("02:00:00:00:0a:02", VM_A),
    counted: { BRIDGE_SAME_PORT: 1 },
  },
  {
    title: "SPLIT_HORIZON R10: a decapsulated frame for a MAC behind another NVE",
    port: 1,
    frame: nvgre(VSID_A, udp(VM_A, VM_B)),
    counted: { SPLIT_HORIZON: 1 },
  },
  {
    title: "FLOOD_NO_GROUP R10: a broadcast in a VSID without flood group",
    port: 6,
    frame: `Ether(src=${py(VM_A)}, dst="ff:ff:ff:ff:ff:ff")/Dot1Q(vlan=10)/IP()/UDP()`,
    counted: { FLOOD_NO_GROUP: 1 },
  },
  {
    title: "NVE_UNKNOWN R11: a MAC bridged to an NVE id without nve entry",
    port: 3,
    frame: udp(VM_A, VM_NO_NVE),
    counted: { NVE_UNKNOWN: 1 },
  },
  {
    title: "SRC_PA_MISS R8 R13: a VSID without a source PA of the NVE's family",
    port: 3,
    frame: udp(VM_A, VM_V6_NVE),
    counted: { SRC_PA_MISS: 1 },
  },
  {
    title: "egress FLOOD_PRUNE and REPLICA_UNKNOWN R10: the ingress copy and an unknown replica",
    port: 7,
    frame: `Ether(src=${py(VM_A)}, dst="ff:ff:ff:ff:ff:ff")/IP()/UDP()`,
    counted: { "egress:FLOOD_PRUNE": 1, "egress:REPLICA_UNKNOWN": 1 },
  },
  {
    title: "egress EGRESS_VLAN_MISS R18: bridged to a port with no VLAN map for the VSID",
    port: 7,
    frame: udp(VM_A, VM_WRONG_PORT),
    counted: { "egress:EGRESS_VLAN_MISS": 1 },
  },
  {
    title: "egress MTU_EXCEEDED R12: an encapsulated frame above the port MTU, punted",
    port: 3,
    frame: udp(VM_A, VM_MTU),
    counted: { "egress:MTU_EXCEEDED": 1 },
    punted: "MTU_EXCEEDED",
  },
  {
    title: "egress SPLIT_HORIZON R10: a fabric flood never gets a tunnel copy",
    port: 1,
    frame: nvgre(VSID_D, `Ether(src=${py(VM_B)}, dst="ff:ff:ff:ff:ff:ff")/IP()/UDP()`),
    counted: { "egress:FLOOD_PRUNE": 0, "egress:SPLIT_HORIZON": 1 },
  },
];

/** Reasons no frame can provoke: the safety net for a decision the pipeline never leaves open. */
const unreachable = new Set(["NONE", "NO_DECISION"]);

function program(batch: Batch): Batch {
  leafBase(batch, { fabric: FABRIC, access: ACCESS });
  addVsid(batch, { vsid: VSID_A, index: 1, vrf: 1, gwMac: GW_A });
  addVsid(batch, { vsid: VSID_B, index: 2, paCheck: true });
  addVsid(batch, { vsid: VSID_C, index: 3, sourceGuard: true });
  addVsid(batch, { vsid: VSID_D, index: 4 });
  addVsid(batch, { vsid: VSID_F, index: 6 });
  addAccess(batch, 3, VSID_A);
  addAccess(batch, 4, VSID_A, 100);
  addAccess(batch, 4, VSID_UNCONFIGURED, 300);
  addAccess(batch, 5, VSID_B);
  addAccess(batch, 6, VSID_C);
  addAccess(batch, 6, VSID_F, 10);
  addAccess(batch, 7, VSID_D);
  addNve(batch, 1, NVE1);
  addNve(batch, 5, "2001:db8:100::5");
  addNve(batch, 6, "192.0.2.200");
  addNve(batch, 8, NVE_MTU);
  addSourcePa(batch, VSID_A, { v4: PA4 });
  batch.entry("vsid_nve_v4", { vsid: VSID_B, pa: NVE1 }, "permit_nve");
  const mac = (vsid: number, dst_mac: string, action: string, params: Record<string, number>) =>
    batch.entry("mac", { vsid, dst_mac }, action, params);
  mac(VSID_A, VM_A, "bridge_to_port", { port: 3 });
  mac(VSID_A, VM_B, "bridge_to_nve", { nve_id: 1 });
  mac(VSID_A, VM_NO_NVE, "bridge_to_nve", { nve_id: 9 });
  mac(VSID_A, VM_V6_NVE, "bridge_to_nve", { nve_id: 5 });
  mac(VSID_A, VM_UNROUTED, "bridge_to_nve", { nve_id: 6 });
  mac(VSID_A, VM_MTU, "bridge_to_nve", { nve_id: 8 });
  mac(VSID_B, VM_B2, "bridge_to_port", { port: 5 });
  mac(VSID_D, VM_WRONG_PORT, "bridge_to_port", { port: 6 });
  batch.entry("route_v4", { dst_pa: `${NVE_MTU}/32` }, "set_next_hop", {
    port: 2,
    smac: SWITCH_MAC,
    dmac: SPINE_MAC,
  });
  batch.entry("port_mtu", { port: 2 }, "set_port_mtu", { mtu: TINY_MTU });
  batch.insert(batch.builder.cloneSession(511, [{ port: CPU_PORT, instance: 0 }]));
  // VSID_D floods to its port and to a replica id flood_replica does not know; its local
  // group (for fabric floods) wrongly holds a tunnel replica, which egress must refuse.
  batch.insert(
    batch.builder.multicastGroup(3, [
      { port: 7, instance: 0 },
      { port: 1, instance: 77 },
    ]),
  );
  batch.insert(batch.builder.multicastGroup(4, [{ port: 2, instance: 78 }]));
  batch.entry("vsid_flood", { vsid: VSID_D }, "set_flood_groups", { group: 3, local_group: 4 });
  // Tenant routing in VSID_A's domain: 10.9.0.0/16 leads to a MAC no table knows.
  addTenantRoute(batch, {
    vrf: 1,
    prefix: "10.9.0.0/16",
    nexthop: 1,
    vsid: VSID_B,
    index: 2,
    smac: GW_A,
    dmac: HOST_MISSING,
  });
  return batch;
}

for (const factory of targets()) {
  describe(`drop reasons and their counters on ${factory.kind}`, () => {
    const { skip } = factory;
    let target: DataplaneTarget;
    let codec: PacketIoCodec;
    const scapy = new Scapy();
    let frames: Buffer[] = [];

    before(async () => {
      if (skip) return;
      target = await factory.start();
      codec = new PacketIoCodec((target.pipeline as NonNullable<typeof target.pipeline>).index);
      await program(new Batch(target)).commit();
      frames = await scapy.frames(cases.map((c) => c.frame));
    });

    after(async () => {
      await scapy.close();
      await target?.close();
    });

    for (const [i, c] of cases.entries()) {
      test(c.title, { skip }, async () => {
        const frame = frames[i] as Buffer;
        const before = await DropCounters.read(target);
        assert.deepEqual(await target.send(c.port, frame), [], "nothing leaves");
        const delta = (await DropCounters.read(target)).since(before);
        const expected = Object.fromEntries(Object.entries(c.counted).filter(([, n]) => n !== 0));
        assert.deepEqual(delta, expected);
        const punts = (await target.packetIns(c.punted ? 1 : 0)).map((p) =>
          codec.decodePacketIn(p),
        );
        if (!c.punted) {
          assert.deepEqual(punts, []);
          return;
        }
        assert.equal(punts.length, 1);
        assert.equal(punts[0]?.metadata.punt_reason, BigInt(puntReason(c.punted)));
        assert.equal(punts[0]?.metadata.ingress_port, BigInt(c.port));
        if (c.puntedAsReceived) assert.deepEqual(punts[0]?.payload, frame);
      });
    }

    test("VSID_FFFFFF R6: with punting off, vendor VSID 0xFFFFFF is dropped silently", {
      skip,
    }, async () => {
      const batch = new Batch(target);
      const config = (punt: number) =>
        batch.defaultAction("switch_config", {
          action: "set_switch_config",
          params: { encap_ttl: ENCAP_TTL, punt_vsid_ffffff: punt },
        });
      await config(0).commit();
      try {
        const frame = await scapy.frame(nvgre(0xffffff, toA));
        const before = await DropCounters.read(target);
        assert.deepEqual(await target.send(1, frame), []);
        assert.deepEqual((await DropCounters.read(target)).since(before), { VSID_FFFFFF: 1 });
        assert.deepEqual(await target.packetIns(), []);
      } finally {
        await config(1).commit();
      }
    });

    test("every drop reason the program defines is provoked by a case above", () => {
      const provoked = new Set(
        cases.flatMap((c) => Object.keys(c.counted).map((k) => k.replace(/^egress:/, ""))),
      );
      const missing = [...allDropReasons().keys()].filter(
        (name) => !provoked.has(name) && !unreachable.has(name),
      );
      assert.deepEqual(missing, []);
    });
  });
}
