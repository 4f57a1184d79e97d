/**
 * Each tenant's routing domain (R14) as a flat list of prefixes and where they lead. The data
 * plane routes by rewriting the destination MAC, so every route must end at a known MAC in a
 * VSID of the same tenant (R18):
 *   - every VSID with a gateway is on-link for its gateway prefixes: a host route per endpoint
 *     CA inside them (like Hyper-V's lookup records, the CA → location is known, never ARPed);
 *   - routes { vsid } add more on-link prefixes the same way;
 *   - routes { endpoint } send a prefix to an endpoint (an appliance VM);
 *   - routes { nve, vsid, mac } send a prefix to a gateway NVE (VPN / Internet gateway).
 * A prefix means one thing per domain: two routes for it with different targets are an error.
 */
import { hostPrefix, type IpPrefix, type MacAddress, prefixContains } from "../intent/addresses.js";
import { IntentError, type IntentIssue, type IntentPath } from "../intent/errors.js";
import type { Endpoint, Fabric, Nve, VirtualSubnet } from "../intent/model.js";
import { formatVsid } from "../intent/schema.js";

export interface RouteTarget {
  vsid: number;
  mac: MacAddress;
  /** The endpoint the route leads to, or the gateway NVE. */
  endpoint: Endpoint | undefined;
  nve: Nve | undefined;
  /** What to call the target in messages. */
  label: string;
}

export interface DomainRoute {
  prefix: IpPrefix;
  target: RouteTarget;
  path: IntentPath;
}

export interface RoutingDomain {
  tenant: string;
  routes: DomainRoute[];
  /** VSIDs of the tenant with a gateway: frames in them can be routed. */
  gatewaySubnets: VirtualSubnet[];
  /** VSIDs some route leads into, so every routing switch of the tenant may tunnel into them. */
  targetVsids: Set<number>;
  /** Gateway NVEs per VSID: they send into the VSID too (PA validation must admit them). */
  gatewayNves: Map<number, Nve[]>;
}

/**
 * The routing domains of the fabric's tenants, in tenant order; of `only` these tenants when
 * given (a domain depends on its own tenant's VSIDs, endpoints and routes alone).
 */
export function routingDomains(
  fabric: Fabric,
  only?: ReadonlySet<string>,
): Map<string, RoutingDomain> {
  const domains = new Map<string, RoutingDomain>();
  const byPrefix = new Map<string, Map<string, DomainRoute>>();
  const issues: IntentIssue[] = [];
  for (const tenant of fabric.tenants) {
    if (only && !only.has(tenant.name)) continue;
    domains.set(tenant.name, {
      tenant: tenant.name,
      routes: [],
      gatewaySubnets: [],
      targetVsids: new Set(),
      gatewayNves: new Map(),
    });
    byPrefix.set(tenant.name, new Map());
  }

  const add = (tenant: string, route: DomainRoute) => {
    const domain = domains.get(tenant) as RoutingDomain;
    const seen = byPrefix.get(tenant) as Map<string, DomainRoute>;
    const other = seen.get(route.prefix.text);
    if (other) {
      if (
        other.target.vsid !== route.target.vsid ||
        other.target.mac.value !== route.target.mac.value
      ) {
        issues.push({
          path: route.path,
          message: `${route.prefix.text} leads to ${route.target.label} here but to ${other.target.label} elsewhere in tenant ${tenant}'s routing domain`,
        });
      }
      return;
    }
    seen.set(route.prefix.text, route);
    domain.routes.push(route);
    domain.targetVsids.add(route.target.vsid);
  };

  const onLink = (tenant: string, subnet: VirtualSubnet, prefix: IpPrefix) => {
    for (const endpoint of subnet.endpoints) {
      for (const ip of endpoint.ips) {
        if (!prefixContains(prefix, ip)) continue;
        add(tenant, {
          prefix: hostPrefix(ip),
          target: {
            vsid: subnet.vsid,
            mac: endpoint.mac,
            endpoint,
            nve: undefined,
            label: `endpoint ${endpoint.name}`,
          },
          path: endpoint.path,
        });
      }
    }
  };

  for (const subnet of fabric.virtualSubnets) {
    if (!subnet.gateway) continue;
    const domain = domains.get(subnet.tenant);
    if (!domain) continue;
    domain.gatewaySubnets.push(subnet);
    for (const gw of subnet.gateway.addresses) onLink(subnet.tenant, subnet, gw.prefix);
  }

  for (const route of fabric.routes) {
    if (!domains.has(route.tenant)) continue;
    const hop = route.nextHop;
    if (hop.kind === "vsid") {
      onLink(route.tenant, fabric.subnetByVsid.get(hop.vsid) as VirtualSubnet, route.prefix);
    } else if (hop.kind === "endpoint") {
      const endpoint = fabric.endpointByName.get(hop.endpoint) as Endpoint;
      add(route.tenant, {
        prefix: route.prefix,
        target: {
          vsid: endpoint.vsid,
          mac: endpoint.mac,
          endpoint,
          nve: undefined,
          label: `endpoint ${endpoint.name}`,
        },
        path: route.path,
      });
    } else {
      const nve = fabric.nveByName.get(hop.nve) as Nve;
      add(route.tenant, {
        prefix: route.prefix,
        target: {
          vsid: hop.vsid,
          mac: hop.mac,
          endpoint: undefined,
          nve,
          label: `gateway NVE ${nve.name} (${hop.mac.text} in VSID ${formatVsid(hop.vsid)})`,
        },
        path: route.path,
      });
      const domain = domains.get(route.tenant) as RoutingDomain;
      const list = domain.gatewayNves.get(hop.vsid) ?? [];
      if (!list.includes(nve)) list.push(nve);
      domain.gatewayNves.set(hop.vsid, list);
    }
  }
  if (issues.length > 0) throw new IntentError(issues);
  return domains;
}
