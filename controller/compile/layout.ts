/**
 * What the compiler derives from the whole fabric before it compiles any switch: the underlay,
 * routing domains, multicast trees, member VSIDs and routing switches. Computed once per
 * validated Fabric object and kept with it, so an incremental recompile that looks at the
 * previous fabric again does not derive it again; the next fabric's is derived from the
 * previous one's (layoutOf's `base`), at the cost of the tenants the change touched.
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

/**
 * What a fabric was derived from when only endpoints and tenant routes changed (the
 * incremental recompile's case): the previous fabric, with the same switches, ports, VSIDs,
 * tenants, NVEs, underlay and settings, and the tenants whose endpoints or routes changed.
 */
export interface LayoutBase {
  fabric: Fabric;
  tenants: ReadonlySet<string>;
}

/**
 * The fabric's layout; throws IntentError for routes that cannot be built. Given the fabric it
 * was derived from, keeps that one's underlay and multicast trees and the routing domains of
 * every tenant outside `base.tenants` whose VSIDs are the same objects (so are their
 * endpoints), and computes the others: a move costs its tenant's domain, not the fabric's.
 */
export function layoutOf(fabric: Fabric, base?: LayoutBase): FabricLayout {
  const cached = layouts.get(fabric);
  if (cached) return cached;
  const previous = base && sharesParts(base.fabric, fabric) && layouts.get(base.fabric);
  const layout = previous
    ? derivedLayout(fabric, previous, keptTenants(fabric, base.fabric, base.tenants))
    : wholeLayout(fabric);
  layouts.set(fabric, layout);
  return layout;
}

/**
 * Whether `b` holds the very settings, switches, tenants, NVEs and underlay objects of `a`, as a
 * fabric a change's validation derived from `a` does (validate-change.ts): what the layout
 * keeps refers to those objects.
 */
export function sharesParts(a: Fabric, b: Fabric): boolean {
  return (
    a.name === b.name &&
    a.settings === b.settings &&
    a.switches === b.switches &&
    a.tenants === b.tenants &&
    a.nves === b.nves &&
    a.underlayRoutes === b.underlayRoutes &&
    a.virtualSubnets.length === b.virtualSubnets.length
  );
}

function wholeLayout(fabric: Fabric): FabricLayout {
  const underlay = new Underlay(fabric);
  const issues: IntentIssue[] = [];
  const trees = multicastTrees(fabric, underlay, issues);
  const domains = routingDomains(fabric);
  const routers = new Map<string, Switch[]>();
  const routeGroups = new Map<string, Map<string, RouteGroup>>();
  for (const domain of domains.values()) {
    routers.set(domain.tenant, routersOf(fabric, domain));
    routeGroups.set(domain.tenant, routeGroupsOf(domain));
  }
  return { underlay, domains, trees, routers, routeGroups, issues, ...subnetsOf(fabric) };
}

/** Tenants whose domain `fabric` shares with `previous`: not changed, every VSID the same object. */
function keptTenants(fabric: Fabric, previous: Fabric, changed: ReadonlySet<string>): Set<string> {
  const kept = new Set(fabric.tenants.map((t) => t.name));
  for (const name of changed) kept.delete(name);
  fabric.virtualSubnets.forEach((subnet, i) => {
    if (subnet !== previous.virtualSubnets[i]) kept.delete(subnet.tenant);
  });
  return kept;
}

function derivedLayout(fabric: Fabric, previous: FabricLayout, kept: Set<string>): FabricLayout {
  const computed = routingDomains(
    fabric,
    new Set(fabric.tenants.map((t) => t.name).filter((name) => !kept.has(name))),
  );
  const domains = new Map<string, RoutingDomain>();
  const routers = new Map<string, Switch[]>();
  const routeGroups = new Map<string, Map<string, RouteGroup>>();
  for (const { name } of fabric.tenants) {
    const domain = computed.get(name);
    if (domain) {
      domains.set(name, domain);
      routers.set(name, routersOf(fabric, domain));
      routeGroups.set(name, routeGroupsOf(domain));
    } else {
      domains.set(name, previous.domains.get(name) as RoutingDomain);
      routers.set(name, previous.routers.get(name) as Switch[]);
      routeGroups.set(name, previous.routeGroups.get(name) as Map<string, RouteGroup>);
    }
  }
  return { ...previous, domains, routers, routeGroups, ...subnetsOf(fabric) };
}

/** VSIDs per switch (the VSID objects of this fabric: those of a change are new ones). */
function subnetsOf(fabric: Fabric): Pick<FabricLayout, "subnetsBySwitch" | "memberVsids"> {
  const subnetsBySwitch = new Map<Switch, VirtualSubnet[]>();
  for (const sw of fabric.switches) subnetsBySwitch.set(sw, []);
  for (const subnet of fabric.virtualSubnets) {
    for (const sw of subnet.switches) subnetsBySwitch.get(sw)?.push(subnet);
  }
  const memberVsids = new Map<Switch, Set<number>>();
  for (const [sw, subnets] of subnetsBySwitch) {
    memberVsids.set(sw, new Set(subnets.map((s) => s.vsid)));
  }
  return { subnetsBySwitch, memberVsids };
}

/** Switches that route in the domain's tenant (members of one of its gateway VSIDs), in fabric order. */
function routersOf(fabric: Fabric, domain: RoutingDomain): Switch[] {
  const members = new Set<Switch>();
  for (const subnet of domain.gatewaySubnets) for (const sw of subnet.switches) members.add(sw);
  return fabric.switches.filter((sw) => members.has(sw));
}

function routeGroupsOf(domain: RoutingDomain): Map<string, RouteGroup> {
  const groups = new Map<string, RouteGroup>();
  for (const route of domain.routes) {
    const key = targetKey(route.target.vsid, route.target.mac);
    const group = groups.get(key);
    if (group) group.routes.push(route);
    else groups.set(key, { order: groups.size, routes: [route] });
  }
  return groups;
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
