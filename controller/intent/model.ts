/**
 * The validated fabric: every reference resolved, every address parsed, every default applied.
 * validate.ts builds it from a FabricFile; the compiler reads only this. Each object keeps the
 * path of its spec so later stages (the compiler) can still point at the line at fault.
 */
import type { TargetName } from "../targets/profiles.js";
import type { IpAddress, IpFamily, IpPrefix, MacAddress } from "./addresses.js";
import type { IntentPath } from "./errors.js";

export interface ProviderAddress {
  address: IpAddress;
  /** VSIDs dedicated to this PA (R8); empty = a default PA of its family. */
  vsids: number[];
}

/** Anything that terminates NVGRE tunnels: a leaf switch, or a remote NVE (hypervisor, gateway). */
interface TunnelEndpointBase {
  name: string;
  path: IntentPath;
  providerAddresses: ProviderAddress[];
}

export interface AccessPort {
  port: number;
  path: IntentPath;
  /** VLAN → VSID; vlan 0 stands for untagged (and priority-tagged) frames. */
  vlans: { vlan: number; vsid: number }[];
}

export interface FabricPort {
  port: number;
  path: IntentPath;
  mtu: number;
  /** Outer 802.1Q tag on the link; undefined = untagged. */
  vlan: number | undefined;
  peer: { switch: string; port: number } | undefined;
}

export interface Switch extends TunnelEndpointBase {
  kind: "switch";
  role: "leaf" | "spine";
  p4runtime: { address: string; deviceId: number };
  routerMac: MacAddress;
  /** What runs it (the fabric file's target, or the default): decides the pipeline pushed. */
  target: TargetName;
  cpuPort: number;
  accessPorts: AccessPort[];
  fabricPorts: FabricPort[];
}

export interface Nve extends TunnelEndpointBase {
  kind: "nve";
  attachment: { switch: string; port: number; mac: MacAddress } | undefined;
  /** VSIDs declared as carried by this NVE, endpoints behind it or not. */
  vsids: number[];
}

export type TunnelEndpoint = Switch | Nve;

export interface Tenant {
  name: string;
  path: IntentPath;
}

export interface GatewayAddress {
  address: IpAddress;
  prefix: IpPrefix;
}

export interface VirtualSubnet {
  vsid: number;
  name: string;
  path: IntentPath;
  tenant: string;
  gateway: { mac: MacAddress; addresses: GatewayAddress[] } | undefined;
  flood: { mode: "head-end" } | { mode: "multicast"; group: IpAddress };
  sourceGuard: boolean;
  paValidation: boolean;
  learnLocal: boolean;
  learnRemote: boolean;
  mtu: number;
  /** Endpoints in this VSID, in file order. */
  endpoints: Endpoint[];
  /** Switches with an access port in this VSID (its member leaves), in file order. */
  switches: Switch[];
  /** Remote NVEs in this VSID: those declaring it (in NVE order), then those hosting its endpoints (in order of first endpoint). */
  nves: Nve[];
}

export type EndpointLocation =
  | { kind: "port"; switch: string; port: number; vlan: number | undefined }
  | { kind: "nve"; nve: string };

export interface Endpoint {
  name: string;
  path: IntentPath;
  vsid: number;
  mac: MacAddress;
  ips: IpAddress[];
  location: EndpointLocation;
  learned: boolean;
}

export interface UnderlayRoute {
  path: IntentPath;
  switch: string;
  prefix: IpPrefix;
  nextHops: { port: number; mac: MacAddress }[];
}

export type TenantNextHop =
  | { kind: "endpoint"; endpoint: string }
  | { kind: "vsid"; vsid: number }
  | { kind: "nve"; nve: string; vsid: number; mac: MacAddress };

export interface TenantRoute {
  path: IntentPath;
  tenant: string;
  prefix: IpPrefix;
  nextHop: TenantNextHop;
}

export interface FabricSettings {
  encapTtl: number;
  puntVendorVsid: boolean;
  tunnelFamily: IpFamily;
  tenantMtu: number;
}

export interface Fabric {
  name: string | undefined;
  settings: FabricSettings;
  switches: Switch[];
  tenants: Tenant[];
  virtualSubnets: VirtualSubnet[];
  nves: Nve[];
  endpoints: Endpoint[];
  underlayRoutes: UnderlayRoute[];
  routes: TenantRoute[];
  switchByName: ReadonlyMap<string, Switch>;
  nveByName: ReadonlyMap<string, Nve>;
  subnetByVsid: ReadonlyMap<number, VirtualSubnet>;
  endpointByName: ReadonlyMap<string, Endpoint>;
  /**
   * The endpoint that holds each unique key (rules.ts macKey, caKey, routedCaKey): its MAC in
   * its VSID, its CAs in its VSID, its CAs in its tenant's routing domain when its VSID has a
   * gateway. What a change's uniqueness checks look up (validate-change.ts).
   */
  endpointByMac: ReadonlyMap<string, string>;
  endpointByCa: ReadonlyMap<string, string>;
  endpointByRoutedCa: ReadonlyMap<string, string>;
}

/**
 * The PA a tunnel endpoint uses in a VSID for one family (R8): the PA dedicated to that VSID,
 * else the first PA of the family dedicated to none, else none.
 */
export function providerAddressFor(
  node: TunnelEndpoint,
  vsid: number,
  family: IpFamily,
): IpAddress | undefined {
  let fallback: IpAddress | undefined;
  for (const pa of node.providerAddresses) {
    if (pa.address.family !== family) continue;
    if (pa.vsids.includes(vsid)) return pa.address;
    if (pa.vsids.length === 0 && !fallback) fallback = pa.address;
  }
  return fallback;
}

/**
 * The PA family two tunnel endpoints use between them in a VSID: the fabric's preferred family
 * when both have a PA of it, else the other one when both have that, else none (they cannot
 * reach each other; validation reports it).
 */
export function tunnelFamily(
  a: TunnelEndpoint,
  b: TunnelEndpoint,
  vsid: number,
  preferred: IpFamily,
): IpFamily | undefined {
  for (const family of preferred === 4 ? ([4, 6] as const) : ([6, 4] as const)) {
    if (providerAddressFor(a, vsid, family) && providerAddressFor(b, vsid, family)) return family;
  }
  return undefined;
}
