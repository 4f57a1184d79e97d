/**
 * What the compiler derives from the whole fabric before it compiles any switch: the underlay,
 * routing domains, multicast trees, member VSIDs and routing switches. Computed once per
 * validated Fabric object and kept with it, so an incremental recompile that looks at the
 * previous fabric again does not derive it again.
 */
import type { IpAddress } from "../intent/addresses.js";
import { IntentError, type IntentIssue, type IntentPath } from "../intent/errors.js";
import type { Fabric, Nve, Switch, VirtualSubnet } from "../intent/model.js";
import { type DomainRoute, type RoutingDomain, routingDomains } from "./tenant-routes.js";
import { type MulticastTree, Underlay, UnderlayError } from "./underlay.js";

export interface FabricLayout {
  underlay: Underlay;
  domains: Map<string, RoutingDomain>;
  trees: Map<string, MulticastTree & { members: Set<Switch> }>;
  subnetsBySwitch: Map<Switch, VirtualSubnet[]>;
  memberVsids: Map<Switch, Set<number>>;
  /** Switches that route in each tenant (members of one of its gateway VSIDs), in fabric order. */
  routers: Map<string, Switch[]>;
  /** Each tenant's routes grouped by target (targetKey), in order of first route. */
  routeGroups: Map<string, Map<string, RouteGroup>>;
  /** Multicast groups the underlay cannot carry (reported with the compile's other issues). */
  issues: IntentIssue[];
}

export interface RouteGroup {
  /** Position among the tenant's groups (the order they are compiled in). */
  order: number;
  routes: DomainRoute[];
}

/** The route target key of an endpoint or a gateway NVE next hop (also its next hop id's key). */
export const targetKey = (vsid: number, mac: { hex: string }): string => `${vsid}/${mac.hex}`;

const layouts = new WeakMap<Fabric, FabricLayout>();

/** The fabric's layout; throws IntentError for routes that cannot be built. */
export function layoutOf(fabric: Fabric): FabricLayout {
  const cached = layouts.get(fabric);
  if (cached) return cached;
  const underlay = new Underlay(fabric);
  const domains = routingDomains(fabric);
  const subnetsBySwitch = new Map<Switch, VirtualSubnet[]>();
  for (const sw of fabric.switches) subnetsBySwitch.set(sw, []);
  for (const subnet of fabric.virtualSubnets) {
    for (const sw of subnet.switches) subnetsBySwitch.get(sw)?.push(subnet);
  }
  const memberVsids = new Map<Switch, Set<number>>();
  for (const [sw, subnets] of subnetsBySwitch) {
    memberVsids.set(sw, new Set(subnets.map((s) => s.vsid)));
  }
  const routers = new Map<string, Switch[]>();
  const routeGroups = new Map<string, Map<string, RouteGroup>>();
  for (const domain of domains.values()) {
    const groups = new Map<string, RouteGroup>();
    for (const route of domain.routes) {
      const key = targetKey(route.target.vsid, route.target.mac);
      const group = groups.get(key);
      if (group) group.routes.push(route);
      else groups.set(key, { order: groups.size, routes: [route] });
    }
    routeGroups.set(domain.tenant, groups);
    const members = new Set<Switch>();
    for (const subnet of domain.gatewaySubnets) for (const sw of subnet.switches) members.add(sw);
    routers.set(
      domain.tenant,
      fabric.switches.filter((sw) => members.has(sw)),
    );
  }
  const issues: IntentIssue[] = [];
  const trees = multicastTrees(fabric, underlay, issues);
  const layout = {
    underlay,
    domains,
    trees,
    subnetsBySwitch,
    memberVsids,
    routers,
    routeGroups,
    issues,
  };
  layouts.set(fabric, layout);
  return layout;
}

function multicastTrees(
  fabric: Fabric,
  underlay: Underlay,
  issues: IntentIssue[],
): Map<string, MulticastTree & { members: Set<Switch> }> {
  const groups = new Map<
    string,
    { group: IpAddress; members: Set<Switch>; nves: Set<Nve>; path: IntentPath }
  >();
  for (const subnet of fabric.virtualSubnets) {
    if (subnet.flood.mode !== "multicast") continue;
    const group = subnet.flood.group;
    const entry = groups.get(group.text) ?? {
      group,
      members: new Set(),
      nves: new Set(),
      path: [...subnet.path, "flood"],
    };
    for (const sw of subnet.switches) entry.members.add(sw);
    for (const nve of subnet.nves) entry.nves.add(nve);
    groups.set(group.text, entry);
  }
  const trees = new Map<string, MulticastTree & { members: Set<Switch> }>();
  for (const [text, entry] of groups) {
    try {
      const tree = underlay.multicastTree(
        entry.group,
        [...entry.members],
        [...entry.nves],
        entry.path,
      );
      trees.set(text, { ...tree, members: entry.members });
    } catch (error) {
      if (error instanceof UnderlayError) issues.push({ path: error.path, message: error.message });
      else if (error instanceof IntentError) issues.push(...error.issues);
      else throw error;
    }
  }
  return trees;
}
