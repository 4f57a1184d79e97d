/**
 * The semantic rules of one resource at a time: an endpoint (its VSID, MAC and CAs unique
 * where they must be, its location a port that maps its VSID or a known NVE), a tenant route
 * (its next hop known and in its own tenant, R18), a VSID's remote NVEs and the PA families its
 * members share. Both validations call them: the whole fabric's (validate.ts, every resource in
 * file order) and a change's (validate-change.ts, the changed resources against the current
 * fabric's indexes), so each rule and its message exist once.
 */
import {
  type IpAddress,
  type MacAddress,
  parseIp,
  parseMac,
  parsePrefix,
  prefixContains,
} from "./addresses.js";
import type { IntentPath, IssueList } from "./errors.js";
import type { Endpoint, Fabric, Nve, TenantRoute, TunnelEndpoint, VirtualSubnet } from "./model.js";
import { providerAddressFor, tunnelFamily } from "./model.js";
import { type EndpointSpec, formatVsid, type TenantRouteSpec } from "./schema.js";

/**
 * Who claimed each unique key so far, as the endpoint rule walks endpoints in file order: the
 * first claimant keeps a key, a later one is reported. Keyed by macKey, caKey and routedCaKey.
 */
export interface EndpointClaims {
  macs: Map<string, string>;
  cas: Map<string, string>;
  /** CAs routed in a tenant's domain must be unique across its VSIDs (one host route each). */
  routedCas: Map<string, string>;
}

export const macKey = (vsid: number, mac: MacAddress) => `${vsid}/${mac.text}`;
export const caKey = (vsid: number, ip: IpAddress) => `${vsid}/${ip.text}`;
export const routedCaKey = (tenant: string, ip: IpAddress) => `${tenant}/${ip.text}`;

/** The parts of the fabric the rules read. */
export type RuleFabric = Pick<
  Fabric,
  "settings" | "tenants" | "nves" | "switchByName" | "nveByName" | "subnetByVsid" | "endpointByName"
>;

export class FabricRules<F extends RuleFabric = RuleFabric> {
  constructor(
    protected readonly fabric: F,
    protected readonly issues: IssueList,
  ) {}

  protected add(path: IntentPath, message: string) {
    this.issues.add(path, message);
  }

  knownVsid(path: IntentPath, vsid: number): boolean {
    if (this.fabric.subnetByVsid.has(vsid)) return true;
    this.add(path, `unknown VSID ${formatVsid(vsid)} (no virtual subnet defines it)`);
    return false;
  }

  /**
   * One endpoint (its name already known to be unique): the Endpoint, or undefined when it has
   * no place in the fabric (unknown VSID, bad location). Claims its keys in `claims`.
   */
  endpoint(spec: EndpointSpec, path: IntentPath, claims: EndpointClaims): Endpoint | undefined {
    const subnet = this.fabric.subnetByVsid.get(spec.vsid);
    if (!subnet) {
      this.knownVsid([...path, "vsid"], spec.vsid);
      return undefined;
    }
    const mac = parseMac(spec.mac);
    const macAt = macKey(spec.vsid, mac);
    const macOwner = claims.macs.get(macAt);
    if (macOwner) {
      this.add(
        [...path, "mac"],
        `MAC ${mac.text} is already endpoint ${macOwner}'s in VSID ${formatVsid(spec.vsid)}`,
      );
    } else if (subnet.gateway && subnet.gateway.mac.value === mac.value) {
      this.add(
        [...path, "mac"],
        `MAC ${mac.text} is the gateway MAC of VSID ${formatVsid(spec.vsid)}`,
      );
    }
    claims.macs.set(macAt, spec.name);
    const ips: IpAddress[] = [];
    spec.ips.forEach((text, j) => {
      const ip = parseIp(text);
      const at = [...path, "ips", j];
      const caAt = caKey(spec.vsid, ip);
      const owner = claims.cas.get(caAt);
      if (owner) {
        this.add(
          at,
          `CA ${ip.text} is already endpoint ${owner}'s in VSID ${formatVsid(spec.vsid)}`,
        );
        return;
      }
      claims.cas.set(caAt, spec.name);
      const gateway = subnet.gateway;
      if (
        gateway?.addresses.some(
          (gw) => gw.address.value === ip.value && gw.address.family === ip.family,
        )
      ) {
        this.add(at, `CA ${ip.text} is the gateway address of VSID ${formatVsid(spec.vsid)}`);
        return;
      }
      const sameFamily = gateway?.addresses.filter((gw) => gw.prefix.family === ip.family) ?? [];
      if (sameFamily.length > 0 && !sameFamily.some((gw) => prefixContains(gw.prefix, ip))) {
        this.add(
          at,
          `CA ${ip.text} is outside the subnet(s) ${sameFamily.map((gw) => gw.prefix.text).join(", ")} of VSID ${formatVsid(spec.vsid)}'s gateway`,
        );
        return;
      }
      if (gateway) {
        const routedAt = routedCaKey(subnet.tenant, ip);
        const other = claims.routedCas.get(routedAt);
        if (other) {
          this.add(
            at,
            `CA ${ip.text} is already endpoint ${other}'s in tenant ${subnet.tenant}'s routing domain`,
          );
          return;
        }
        claims.routedCas.set(routedAt, spec.name);
      }
      ips.push(ip);
    });
    const location = this.location(spec.location, [...path, "location"], spec.vsid);
    if (!location) return undefined;
    return { name: spec.name, path, vsid: spec.vsid, mac, ips, location, learned: spec.learned };
  }

  private location(
    spec: EndpointSpec["location"],
    path: IntentPath,
    vsid: number,
  ): Endpoint["location"] | undefined {
    if (spec.nve !== undefined) {
      if (spec.switch !== undefined || spec.port !== undefined || spec.vlan !== undefined) {
        this.add(path, "a location is either { nve } or { switch, port [, vlan] }, not both");
        return undefined;
      }
      if (!this.fabric.nveByName.has(spec.nve)) {
        this.add(
          [...path, "nve"],
          `unknown NVE "${spec.nve}"${hint(this.fabric.nveByName.keys())}`,
        );
        return undefined;
      }
      return { kind: "nve", nve: spec.nve };
    }
    if (spec.switch === undefined || spec.port === undefined) {
      this.add(path, "a location needs { switch, port [, vlan] } or { nve }");
      return undefined;
    }
    const sw = this.fabric.switchByName.get(spec.switch);
    if (!sw) {
      this.add(
        [...path, "switch"],
        `unknown switch "${spec.switch}"${hint(this.fabric.switchByName.keys())}`,
      );
      return undefined;
    }
    const port = sw.accessPorts.find((p) => p.port === spec.port);
    if (!port) {
      const fabricPort = sw.fabricPorts.some((p) => p.port === spec.port);
      this.add(
        [...path, "port"],
        fabricPort
          ? `${sw.name}:${spec.port} is a fabric port, not an access port`
          : `${sw.name} has no access port ${spec.port}`,
      );
      return undefined;
    }
    const mapping = port.vlans.find((m) => m.vsid === vsid);
    if (!mapping) {
      this.add([...path, "port"], `${sw.name}:${spec.port} does not map VSID ${formatVsid(vsid)}`);
      return undefined;
    }
    if (spec.vlan !== undefined && spec.vlan !== mapping.vlan) {
      this.add(
        [...path, "vlan"],
        `${sw.name}:${spec.port} carries VSID ${formatVsid(vsid)} ${mapping.vlan === 0 ? "untagged" : `on VLAN ${mapping.vlan}`}, not on VLAN ${spec.vlan}`,
      );
      return undefined;
    }
    return { kind: "port", switch: sw.name, port: spec.port, vlan: spec.vlan };
  }

  /**
   * A VSID's remote NVEs: those declaring it (in NVE order), then those hosting its endpoints
   * (in order of first endpoint).
   */
  subnetNves(subnet: VirtualSubnet): Nve[] {
    const nves = new Set<Nve>(this.fabric.nves.filter((nve) => nve.vsids.includes(subnet.vsid)));
    for (const endpoint of subnet.endpoints) {
      if (endpoint.location.kind === "nve") {
        const nve = this.fabric.nveByName.get(endpoint.location.nve);
        if (nve) nves.add(nve);
      }
    }
    return [...nves];
  }

  /**
   * One tenant route: the TenantRoute, or undefined when it is refused. `seen` holds the
   * tenant/prefix keys routed before it in file order.
   */
  tenantRoute(
    spec: TenantRouteSpec,
    path: IntentPath,
    tenants: ReadonlySet<string>,
    seen: Set<string>,
  ): TenantRoute | undefined {
    if (!tenants.has(spec.tenant)) {
      this.add([...path, "tenant"], `unknown tenant "${spec.tenant}"${hint(tenants)}`);
      return undefined;
    }
    const prefix = parsePrefix(spec.prefix);
    const key = `${spec.tenant}/${prefix.text}`;
    if (seen.has(key)) {
      this.add([...path, "prefix"], `tenant ${spec.tenant} already has a route for ${prefix.text}`);
      return undefined;
    }
    seen.add(key);
    const hop = spec.nextHop;
    const at = [...path, "nextHop"];
    const forms = [
      hop.endpoint !== undefined,
      hop.nve !== undefined,
      hop.vsid !== undefined && hop.nve === undefined,
    ];
    if (
      forms.filter(Boolean).length !== 1 ||
      (hop.endpoint !== undefined && (hop.vsid !== undefined || hop.mac !== undefined))
    ) {
      this.add(at, "a next hop is exactly one of { endpoint }, { vsid } or { nve, vsid, mac }");
      return undefined;
    }
    let nextHop: TenantRoute["nextHop"];
    let vsid: number;
    if (hop.endpoint !== undefined) {
      const endpoint = this.fabric.endpointByName.get(hop.endpoint);
      if (!endpoint) {
        this.add([...at, "endpoint"], `unknown endpoint "${hop.endpoint}"`);
        return undefined;
      }
      nextHop = { kind: "endpoint", endpoint: endpoint.name };
      vsid = endpoint.vsid;
    } else if (hop.nve !== undefined) {
      if (!this.fabric.nveByName.has(hop.nve)) {
        this.add([...at, "nve"], `unknown NVE "${hop.nve}"${hint(this.fabric.nveByName.keys())}`);
        return undefined;
      }
      if (hop.vsid === undefined || hop.mac === undefined) {
        this.add(
          at,
          "a gateway-NVE next hop needs { nve, vsid, mac }: the VSID and MAC the gateway answers on",
        );
        return undefined;
      }
      if (!this.knownVsid([...at, "vsid"], hop.vsid)) return undefined;
      nextHop = { kind: "nve", nve: hop.nve, vsid: hop.vsid, mac: parseMac(hop.mac) };
      vsid = hop.vsid;
    } else {
      if (hop.mac !== undefined) {
        this.add([...at, "mac"], "an on-link { vsid } next hop takes no MAC");
        return undefined;
      }
      if (!this.knownVsid([...at, "vsid"], hop.vsid ?? 0)) return undefined;
      vsid = hop.vsid ?? 0;
      nextHop = { kind: "vsid", vsid };
    }
    const target = this.fabric.subnetByVsid.get(vsid);
    if (!target) return undefined;
    if (target.tenant !== spec.tenant) {
      this.add(
        at,
        `the next hop is in VSID ${formatVsid(vsid)} of tenant ${target.tenant}; a route of tenant ${spec.tenant} cannot leave its routing domain (R18)`,
      );
      return undefined;
    }
    if (!target.gateway) {
      this.add(
        at,
        `VSID ${formatVsid(vsid)} has no gateway, so routed frames could not enter it (they leave the gateway MAC as source)`,
      );
      return undefined;
    }
    return { path, tenant: spec.tenant, prefix, nextHop };
  }

  /**
   * Every pair of a VSID's tunnel endpoints has a common PA family in it, and every member of a
   * multicast-flooded VSID has a PA of its group's family.
   */
  tunnelFamilies(subnet: VirtualSubnet): void {
    const preferred = this.fabric.settings.tunnelFamily;
    const list: TunnelEndpoint[] = [...subnet.switches, ...subnet.nves];
    for (const [i, a] of list.entries()) {
      if (!list.slice(i + 1).every((b) => this.familyPair(a, b, subnet, preferred))) break;
    }
    if (subnet.flood.mode === "multicast") {
      const family = subnet.flood.group.family;
      for (const node of list) {
        if (!providerAddressFor(node, subnet.vsid, family)) {
          this.add(
            [...subnet.path, "flood"],
            `${node.name} is in VSID ${formatVsid(subnet.vsid)} but has no IPv${family} provider address for its multicast group ${subnet.flood.group.text}`,
          );
        }
      }
    }
  }

  private familyPair(
    a: TunnelEndpoint,
    b: TunnelEndpoint,
    subnet: VirtualSubnet,
    preferred: 4 | 6,
  ): boolean {
    if (tunnelFamily(a, b, subnet.vsid, preferred)) return true;
    this.add(
      subnet.path,
      `${a.name} and ${b.name} both serve VSID ${formatVsid(subnet.vsid)} but have no provider address family in common for it`,
    );
    return false;
  }
}

/** " (known: a, b, c)" for unknown-name messages. */
export function hint(known: Iterable<string>): string {
  const names = [...known];
  if (names.length === 0) return " (none are defined)";
  return ` (known: ${names.slice(0, 8).join(", ")}${names.length > 8 ? ", …" : ""})`;
}
