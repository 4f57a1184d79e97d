/**
 * Routing between virtual subnets of one tenant (R14): frames to a VSID's gateway MAC are
 * routed in the tenant's routing domain to a local or remote endpoint of another VSID, or by a
 * default route to a gateway NVE (VPN / Internet gateway), with MACs rewritten and TTL / hop
 * limit decremented. Two tenants with the same prefixes each reach only their own endpoints;
 * nothing is ever routed across tenants (R18).
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

// Tenant 1 (routing domain 1): web (port 3), app (port 4 VLAN 200, and behind NVE1), and the
// VSID of its VPN gateway (an NVE at NVE2).
const T1_WEB = { vsid: 0x6001, index: 1, gw: "00:00:5e:00:53:a1" };
const T1_APP = { vsid: 0x6002, index: 2, gw: "00:00:5e:00:53:a2" };
const T1_EDGE = { vsid: 0x6003, index: 3, gw: "00:00:5e:00:53:a3" };
// Tenant 2 (routing domain 2) reuses tenant 1's prefixes: web (port 5), app (port 6).
const T2_WEB = { vsid: 0x7001, index: 4, gw: "00:00:5e:00:53:b1" };
const T2_APP = { vsid: 0x7002, index: 5, gw: "00:00:5e:00:53:b2" };
const WEB_VM = "02:00:00:00:1a:01"; // 10.1.0.1 / fd00:1::1 in both tenants
const APP_VM = "02:00:00:00:1b:05"; // tenant 1, 10.2.0.5 / fd00:2::5, port 4
const APP_REMOTE = "02:00:00:00:1b:07"; // tenant 1, 10.2.0.7, behind NVE1
const APP_VM_T2 = "02:00:00:00:2b:05"; // tenant 2, 10.2.0.5, port 6
const VPN_GW_MAC = "02:00:00:00:ee:01"; // tenant 1's VPN gateway, behind NVE2
const NVE1 = "198.51.100.2";
const NVE2 = "198.51.100.3";

const fromWeb = (gw: string, dst: string, ttl = 64) =>
  `Ether(src=${py(WEB_VM)}, dst=${py(gw)})/IP(src="10.1.0.1", dst=${py(dst)}, ttl=${ttl})/UDP(sport=3333, dport=8080)/Raw(b"get")`;
const routed = (smac: string, dmac: string, dst: string, ttl = 63) =>
  `Ether(src=${py(smac)}, dst=${py(dmac)})/IP(src="10.1.0.1", dst=${py(dst)}, ttl=${ttl})/UDP(sport=3333, dport=8080)/Raw(b"get")`;
const tagged = (vlan: number, inner: string) =>
  `(lambda f: Ether(src=f.src, dst=f.dst)/Dot1Q(vlan=${vlan})/f.payload)(${inner})`;
const encap = (vsid: number, nve: string, inner: string) =>
  `nvgre4(${py(SWITCH_MAC)}, ${py(SPINE_MAC)}, ${py(PA4)}, ${py(nve)}, ${vsid}, flow_id(${inner}), ${inner})`;

for (const factory of targets()) {
  describe(`tenant routing on ${factory.kind}`, () => {
    const { skip } = factory;
    let target: DataplaneTarget;
    const scapy = new Scapy();

    async function expectRouted(port: number, frameExpr: string, outPort: number, outExpr: string) {
      const [frame, expected] = await scapy.frames([frameExpr, outExpr]);
      assert.deepEqual(await target.send(port, frame as Buffer), [
        { port: outPort, frame: expected },
      ]);
    }

    before(async () => {
      if (skip) return;
      target = await factory.start();
      const batch = leafBase(new Batch(target));
      for (const [v, vrf] of [
        [T1_WEB, 1],
        [T1_APP, 1],
        [T1_EDGE, 1],
        [T2_WEB, 2],
        [T2_APP, 2],
      ] as const) {
        addVsid(batch, { vsid: v.vsid, index: v.index, vrf, gwMac: v.gw });
        addSourcePa(batch, v.vsid, { v4: PA4 });
      }
      addAccess(batch, 3, T1_WEB.vsid);
      addAccess(batch, 4, T1_APP.vsid, 200);
      addAccess(batch, 5, T2_WEB.vsid);
      addAccess(batch, 6, T2_APP.vsid);
      addNve(batch, 1, NVE1);
      addNve(batch, 2, NVE2);
      const mac = (vsid: number, dst_mac: string, action: string, params: Record<string, number>) =>
        batch.entry("mac", { vsid, dst_mac }, action, params);
      mac(T1_APP.vsid, APP_VM, "bridge_to_port", { port: 4 });
      mac(T1_APP.vsid, APP_REMOTE, "bridge_to_nve", { nve_id: 1 });
      mac(T1_EDGE.vsid, VPN_GW_MAC, "bridge_to_nve", { nve_id: 2 });
      mac(T2_APP.vsid, APP_VM_T2, "bridge_to_port", { port: 6 });
      const nexthop = (id: number, to: typeof T1_APP, dmac: string) =>
        batch.entry("tenant_nexthop", { nexthop_id: id }, "tenant_forward", {
          vsid: to.vsid,
          vsid_index: to.index,
          smac: to.gw,
          dmac,
        });
      nexthop(1, T1_APP, APP_VM);
      nexthop(2, T1_APP, APP_REMOTE);
      nexthop(3, T1_EDGE, VPN_GW_MAC);
      nexthop(4, T2_APP, APP_VM_T2);
      const route = (table: string, vrf_id: number, dst_ca: string, nexthop_id: number) =>
        batch.entry(table, { vrf_id, dst_ca }, "set_tenant_nexthop", { nexthop_id });
      route("tenant_route_v4", 1, "10.2.0.5/32", 1);
      route("tenant_route_v4", 1, "10.2.0.7/32", 2);
      route("tenant_route_v4", 1, "0.0.0.0/0", 3);
      route("tenant_route_v6", 1, "fd00:2::5/128", 1);
      route("tenant_route_v4", 2, "10.2.0.5/32", 4);
      await batch.commit();
    });

    after(async () => {
      await scapy.close();
      await target?.close();
    });

    test("R14: routed to a local endpoint of another VSID: MACs rewritten, TTL - 1, re-tagged", {
      skip,
    }, async () => {
      await expectRouted(
        3,
        fromWeb(T1_WEB.gw, "10.2.0.5"),
        4,
        tagged(200, routed(T1_APP.gw, APP_VM, "10.2.0.5")),
      );
    });

    test("R14 R13: IPv6 is routed too, hop limit - 1", { skip }, async () => {
      const v6 = (smac: string, dmac: string, hlim: number) =>
        `Ether(src=${py(smac)}, dst=${py(dmac)})/IPv6(src="fd00:1::1", dst="fd00:2::5", hlim=${hlim})/TCP(sport=3334, dport=443, flags="S")`;
      await expectRouted(3, v6(WEB_VM, T1_WEB.gw, 64), 4, tagged(200, v6(T1_APP.gw, APP_VM, 63)));
    });

    test("R14 R11 R15: routed to a remote endpoint: encapsulated with the destination VSID", {
      skip,
    }, async () => {
      const before = await readCounter(target, "vsid_encap", T1_APP.index);
      const inner = routed(T1_APP.gw, APP_REMOTE, "10.2.0.7");
      await expectRouted(
        3,
        fromWeb(T1_WEB.gw, "10.2.0.7"),
        UPLINK,
        encap(T1_APP.vsid, NVE1, inner),
      );
      const after = await readCounter(target, "vsid_encap", T1_APP.index);
      assert.equal(after.packets - before.packets, 1);
    });

    test("R14: the default route leads to the tenant's VPN gateway over NVGRE", {
      skip,
    }, async () => {
      const inner = routed(T1_EDGE.gw, VPN_GW_MAC, "192.0.2.200");
      await expectRouted(
        3,
        fromWeb(T1_WEB.gw, "192.0.2.200"),
        UPLINK,
        encap(T1_EDGE.vsid, NVE2, inner),
      );
    });

    test("R14 R18: two tenants with the same prefixes each reach only their own endpoint", {
      skip,
    }, async () => {
      await expectRouted(
        5,
        fromWeb(T2_WEB.gw, "10.2.0.5"),
        6,
        routed(T2_APP.gw, APP_VM_T2, "10.2.0.5"),
      );
      await expectRouted(
        3,
        fromWeb(T1_WEB.gw, "10.2.0.5"),
        4,
        tagged(200, routed(T1_APP.gw, APP_VM, "10.2.0.5")),
      );
    });

    test("R14 R18: no route across tenants: tenant 2 cannot reach tenant 1's remote endpoint", {
      skip,
    }, async () => {
      const drops = await DropCounters.read(target);
      // 10.2.0.7 exists only in tenant 1, and tenant 2 has no default route.
      const frame = await scapy.frame(fromWeb(T2_WEB.gw, "10.2.0.7"));
      assert.deepEqual(await target.send(5, frame), []);
      assert.deepEqual((await DropCounters.read(target)).since(drops), { TENANT_ROUTE_MISS: 1 });
    });

    test("R18: another tenant's gateway MAC routes nothing: the frame stays in its VSID", {
      skip,
    }, async () => {
      const drops = await DropCounters.read(target);
      const frame = await scapy.frame(fromWeb(T2_WEB.gw, "10.2.0.5"));
      // Sent in tenant 1's web VSID, which has no flood group: an unknown unicast, dropped.
      assert.deepEqual(await target.send(3, frame), []);
      assert.deepEqual((await DropCounters.read(target)).since(drops), { FLOOD_NO_GROUP: 1 });
    });
  });
}
