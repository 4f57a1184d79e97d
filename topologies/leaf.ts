/**
 * The leaf (ToR NVE) the data-plane tests program: addresses from the documentation ranges
 * (RFC 5737, RFC 3849, RFC 7042) and the entries every scenario starts from. Each test file
 * adds its own VSIDs, endpoints and NVEs on top.
 *
 *   ports 1, 2   fabric (underlay), next hop SPINE_MAC behind port 1 (or as the test says)
 *   ports 3..8   access (or as the test says)
 *   own PAs      PA4 / PA6, router MAC SWITCH_MAC
 *   remote NVEs  198.51.100.0/24 and 2001:db8:100::/48, routed to port 1
 */
import { CPU_PORT } from "./bmv2.js";
import type { Batch } from "./leaf-program.js";

export const SWITCH_MAC = "00:00:5e:00:53:01";
export const SPINE_MAC = "00:00:5e:00:53:fe";
export const FABRIC_PORTS = [1, 2] as const;
export const ACCESS_PORTS = [3, 4, 5, 6, 7, 8] as const;
export const UPLINK = 1;

export const PA4 = "192.0.2.1";
export const PA6 = "2001:db8::1";
export const REMOTE_PREFIX4 = "198.51.100.0/24";
export const REMOTE_PREFIX6 = "2001:db8:100::/48";
export const ENCAP_TTL = 64;

export { CPU_PORT };

export interface LeafOptions {
  fabric?: readonly number[];
  access?: readonly number[];
  /** Route the remote NVE prefixes to UPLINK (default); off when the test routes them. */
  uplinkRoutes?: boolean;
}

/** switch_config, port types, router MAC, own PAs and the routes toward the remote NVEs. */
export function leafBase(batch: Batch, options: LeafOptions = {}): Batch {
  batch.defaultAction("switch_config", {
    action: "set_switch_config",
    params: { encap_ttl: ENCAP_TTL, punt_vsid_ffffff: 1 },
  });
  for (const port of options.fabric ?? FABRIC_PORTS) {
    batch.entry("port_type", { port }, "set_port_fabric");
  }
  for (const port of options.access ?? ACCESS_PORTS) {
    batch.entry("port_type", { port }, "set_port_access");
  }
  batch.entry(
    "my_mac",
    { dst_mac: { value: SWITCH_MAC, mask: "ff:ff:ff:ff:ff:ff" } },
    "set_my_mac",
    {},
    1,
  );
  batch.entry("local_pa_v4", { pa: PA4 }, "set_local_pa");
  batch.entry("local_pa_v6", { pa: PA6 }, "set_local_pa");
  if (options.uplinkRoutes !== false) {
    const uplink = { port: UPLINK, smac: SWITCH_MAC, dmac: SPINE_MAC };
    batch.entry("route_v4", { dst_pa: REMOTE_PREFIX4 }, "set_next_hop", uplink);
    batch.entry("route_v6", { dst_pa: REMOTE_PREFIX6 }, "set_next_hop", uplink);
  }
  return batch;
}

export interface VsidSpec {
  vsid: number;
  /** Index of the VSID's counters (vsid_encap / vsid_decap / vsid_flood). */
  index: number;
  vrf?: number;
  gwMac?: string;
  learnLocal?: boolean;
  learnRemote?: boolean;
  sourceGuard?: boolean;
  paCheck?: boolean;
}

const bit = (on: boolean | undefined) => (on ? 1 : 0);

export function addVsid(batch: Batch, spec: VsidSpec): Batch {
  return batch.entry("vsid", { vsid: spec.vsid }, "set_vsid", {
    vsid_index: spec.index,
    vrf_id: spec.vrf ?? 0,
    gw_mac: spec.gwMac ?? 0,
    learn_local: bit(spec.learnLocal),
    learn_remote: bit(spec.learnRemote),
    source_guard: bit(spec.sourceGuard),
    pa_check: bit(spec.paCheck),
  });
}

/** An access port (untagged, or one VLAN on it) in a VSID, in both directions. */
export function addAccess(batch: Batch, port: number, vsid: number, vlan?: number): Batch {
  batch.entry(
    "port_vsid",
    { port, tagged: vlan === undefined ? 0 : 1, vlan_id: vlan ?? 0 },
    "set_port_vsid",
    { vsid },
  );
  return vlan === undefined
    ? batch.entry("egress_vlan", { port, vsid }, "set_egress_untagged")
    : batch.entry("egress_vlan", { port, vsid }, "set_egress_vlan", { vlan_id: vlan });
}

/** A remote NVE (tunnel destination) with an IPv4 or IPv6 PA. */
export function addNve(batch: Batch, nveId: number, pa: string): Batch {
  return pa.includes(":")
    ? batch.entry("nve", { nve_id: nveId }, "set_nve_v6", { pa })
    : batch.entry("nve", { nve_id: nveId }, "set_nve_v4", { pa });
}

/** The source PAs of a VSID's tunnels (both families; per-destination entries win). */
export function addSourcePa(
  batch: Batch,
  vsid: number,
  pa: { v4?: string; v6?: string },
  nveId?: number,
): Batch {
  return batch.entry(
    "src_pa",
    {
      vsid: { value: vsid, mask: 0xffffff },
      nve_id: nveId === undefined ? undefined : { value: nveId, mask: 0xffff },
    },
    "set_src_pa",
    { pa_v4: pa.v4 ?? 0, pa_v6: pa.v6 ?? 0 },
    nveId === undefined ? 10 : 20,
  );
}

/** A tenant route (R14): `prefix` in routing domain `vrf`, to MAC `dmac` in VSID `vsid` from `smac`. */
export function addTenantRoute(
  batch: Batch,
  route: {
    vrf: number;
    prefix: string;
    nexthop: number;
    vsid: number;
    index: number;
    smac: string;
    dmac: string;
  },
): Batch {
  const table = route.prefix.includes(":") ? "tenant_route_v6" : "tenant_route_v4";
  batch.entry(table, { vrf_id: route.vrf, dst_ca: route.prefix }, "set_tenant_nexthop", {
    nexthop_id: route.nexthop,
  });
  return batch.entry("tenant_nexthop", { nexthop_id: route.nexthop }, "tenant_forward", {
    vsid: route.vsid,
    vsid_index: route.index,
    smac: route.smac,
    dmac: route.dmac,
  });
}
