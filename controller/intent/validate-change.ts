/**
 * A change's validation: the fabric after a few endpoint changes (adds, moves, edits, deletes,
 * learned ones), checked against the current fabric's indexes instead of by validating the
 * whole document again. Only the changed endpoints are schema-checked, and the endpoint rules
 * of rules.ts run for them and for the endpoints holding one of their unique keys (MAC or CA
 * in the VSID, CA in the tenant's routing domain), in file order, exactly as the whole
 * validation would meet them; then the rules of what refers to them: the tenant routes whose
 * next hop is a changed endpoint, the remote NVEs and PA families of the VSIDs they leave or
 * join. The issues are the ones validateDocument would report (paths, messages, order; a
 * property test compares them over random changes), and so is the next Fabric, which shares
 * every unchanged part of the current one.
 *
 * Tenant route changes run the route rules alone (nothing refers to a route). Anything else
 * (settings, switches, NVEs, tenants, VSIDs, endpoints and routes together, or more than
 * MAX_INCREMENTAL_CHANGES changes) is validated whole: those changes are rare, and a switch,
 * an NVE or a VSID is referred to by much of the fabric.
 */

import { parseIp, parseMac } from "./addresses.js";
import { IntentError, type IntentIssue, IssueList } from "./errors.js";
import { LayeredMap } from "./layered-map.js";
import { validateDocument, zodIssues } from "./load.js";
import type { Endpoint, Fabric, TenantRoute, VirtualSubnet } from "./model.js";
import { lowerBound, type ResourceChange } from "./resources.js";
import { caKey, type EndpointClaims, FabricRules, macKey, routedCaKey } from "./rules.js";
import {
  type EndpointSpec,
  endpointSchema,
  type FabricDocument,
  type TenantRouteSpec,
  tenantRouteSchema,
} from "./schema.js";

/** Larger changes (an apply) are validated whole: checking each one alone would cost more. */
export const MAX_INCREMENTAL_CHANGES = 1000;

/**
 * The Fabric of `document`, which is `current`'s document with `changes` applied (as
 * StoredIntent.prepare or a store watch gives them). `document` must be canonical (each list
 * sorted by resource name, resources.ts) and `current` the fabric validated from its previous
 * version. Throws IntentError exactly as validateDocument(document, source) does.
 */
export function validateChange(
  current: Fabric | undefined,
  document: FabricDocument,
  changes: readonly ResourceChange[],
  source?: string,
): Fabric {
  if (current && changes.length === 0) return current;
  const only = (kind: ResourceChange["kind"]) => changes.every((change) => change.kind === kind);
  const incremental =
    !current || changes.length > MAX_INCREMENTAL_CHANGES
      ? undefined
      : only("endpoint")
        ? validateEndpointChanges(current, document, changes, source)
        : only("route")
          ? validateRouteChanges(current, document, source)
          : undefined;
  return incremental ?? validateDocument(document, source);
}

/**
 * The next Fabric after tenant route changes: nothing refers to a route, so only the route
 * rules run, over the document's routes (as many as the fabric routes, whatever its endpoints).
 */
export function validateRouteChanges(
  current: Fabric,
  document: FabricDocument,
  source?: string,
): Fabric {
  const specs: TenantRouteSpec[] = [];
  const schemaIssues: IntentIssue[] = [];
  (document.routes ?? []).forEach((item, index) => {
    const parsed = tenantRouteSchema.safeParse(item, { reportInput: true });
    if (parsed.success) specs.push(parsed.data);
    else {
      for (const issue of zodIssues(parsed.error)) {
        schemaIssues.push({ ...issue, path: ["routes", index, ...issue.path] });
      }
    }
  });
  if (schemaIssues.length > 0) throw new IntentError(schemaIssues, source);
  const issues = new IssueList();
  const rules = new FabricRules(current, issues);
  const tenants = new Set(current.tenants.map((t) => t.name));
  const seen = new Set<string>();
  const routes: TenantRoute[] = [];
  specs.forEach((spec, index) => {
    const route = rules.tenantRoute(spec, ["routes", index], tenants, seen);
    if (route) routes.push(route);
  });
  issues.throwIfAny(source);
  return { ...current, routes };
}

const nameOf = (item: { name: string }) => item.name;

/** A changed or affected endpoint: its place in the document and its spec there. */
interface Placed {
  index: number;
  spec: EndpointSpec;
}

/**
 * The next Fabric after endpoint changes (validateChange's incremental path); undefined when
 * the document is not the one the changes make (the caller then validates it whole).
 */
export function validateEndpointChanges(
  current: Fabric,
  document: FabricDocument,
  changes: readonly ResourceChange[],
  source?: string,
): Fabric | undefined {
  const items = document.endpoints ?? [];
  const indexOf = (name: string) => {
    const at = lowerBound(items, name, nameOf);
    return items[at]?.name === name ? at : undefined;
  };
  /** Every changed name: its old version (if any) leaves the fabric. */
  const changed = new Set<string>();
  const puts: { index: number; item: unknown }[] = [];
  for (const change of changes) {
    changed.add(change.name);
    const index = indexOf(change.name);
    if ((change.value === undefined) !== (index === undefined)) return undefined;
    if (index !== undefined) puts.push({ index, item: items[index] });
  }
  puts.sort((a, b) => a.index - b.index);

  // The schema of each changed endpoint alone: the rest of the document passed it before.
  const schemaIssues: IntentIssue[] = [];
  const placed: Placed[] = [];
  for (const { index, item } of puts) {
    const parsed = endpointSchema.safeParse(item, { reportInput: true });
    if (parsed.success) placed.push({ index, spec: parsed.data });
    else {
      for (const issue of zodIssues(parsed.error)) {
        schemaIssues.push({ ...issue, path: ["endpoints", index, ...issue.path] });
      }
    }
  }
  if (schemaIssues.length > 0) throw new IntentError(schemaIssues, source);

  // The endpoint rules, in file order, for the changed endpoints and those sharing a unique
  // key with one: nobody else holds those keys (the current fabric is valid), so claims made
  // in this run alone are what the whole validation's claims would be when it meets them.
  const affected = new Map(placed.map((p) => [p.spec.name, p]));
  for (const { spec } of placed) {
    for (const holder of keyHolders(current, spec)) {
      if (changed.has(holder) || affected.has(holder)) continue;
      const index = indexOf(holder);
      if (index === undefined) return undefined;
      const parsed = endpointSchema.safeParse(items[index]);
      if (!parsed.success) return undefined;
      affected.set(holder, { index, spec: parsed.data });
    }
  }
  const issues = new IssueList();
  const claims: EndpointClaims = { macs: new Map(), cas: new Map(), routedCas: new Map() };
  const checked = new FabricRules(current, issues);
  const accepted = new Map<string, Endpoint>();
  for (const { index, spec } of [...affected.values()].sort((a, b) => a.index - b.index)) {
    const endpoint = checked.endpoint(spec, ["endpoints", index], claims);
    if (endpoint && changed.has(spec.name)) accepted.set(spec.name, endpoint);
  }
  const byName = LayeredMap.derive(
    current.endpointByName,
    [...changed].map((name) => [name, accepted.get(name)] as const),
  );

  // What refers to them: tenant routes through a changed endpoint, in file order …
  const rules = new FabricRules({ ...current, endpointByName: byName }, issues);
  const tenants = new Set(current.tenants.map((t) => t.name));
  for (const route of current.routes) {
    const hop = route.nextHop;
    if (hop.kind !== "endpoint" || !changed.has(hop.endpoint)) continue;
    const index = route.path[1] as number;
    const spec = document.routes?.[index];
    if (!spec) return undefined;
    const parsed = routeSpec(spec);
    if (!parsed) return undefined;
    rules.tenantRoute(parsed, route.path, tenants, new Set());
  }
  // … and the remote NVEs and PA families of the VSIDs they left or joined, in VSID order.
  const touched = new Set<number>();
  for (const name of changed) {
    for (const endpoint of [current.endpointByName.get(name), accepted.get(name)]) {
      if (endpoint) touched.add(endpoint.vsid);
    }
  }
  const subnets = new Map<number, VirtualSubnet>();
  for (const subnet of current.virtualSubnets) {
    if (!touched.has(subnet.vsid)) continue;
    const joined = [...accepted.values()].filter((e) => e.vsid === subnet.vsid);
    const endpoints = mergeByName(
      subnet.endpoints.filter((e) => !changed.has(e.name)),
      joined.sort((a, b) => (a.name < b.name ? -1 : 1)),
    );
    const next: VirtualSubnet = { ...subnet, endpoints };
    next.nves = rules.subnetNves(next);
    if (!sameList(next.nves, subnet.nves)) rules.tunnelFamilies(next);
    subnets.set(subnet.vsid, next);
  }
  issues.throwIfAny(source);
  return nextFabric(current, items, byName, accepted, changed, subnets, claims);
}

/** The endpoints now holding one of the unique keys `spec` would claim. */
function keyHolders(current: Fabric, spec: EndpointSpec): string[] {
  const subnet = current.subnetByVsid.get(spec.vsid);
  if (!subnet) return [];
  const holders: (string | undefined)[] = [
    current.endpointByMac.get(macKey(spec.vsid, parseMac(spec.mac))),
  ];
  for (const text of spec.ips) {
    const ip = parseIp(text);
    holders.push(current.endpointByCa.get(caKey(spec.vsid, ip)));
    if (subnet.gateway)
      holders.push(current.endpointByRoutedCa.get(routedCaKey(subnet.tenant, ip)));
  }
  return holders.filter((name): name is string => name !== undefined);
}

/** A route as the document holds it, through the schema's defaults (it passed them before). */
function routeSpec(item: unknown) {
  const parsed = tenantRouteSchema.safeParse(item);
  return parsed.success ? parsed.data : undefined;
}

/**
 * The next Fabric: the endpoint list with the changed ones in place (and, when endpoints came
 * or went, the later ones' paths moved: a new object each), its indexes derived, the touched
 * VSIDs replaced; everything else shared with `current`.
 */
function nextFabric(
  current: Fabric,
  items: NonNullable<FabricDocument["endpoints"]>,
  byName: ReadonlyMap<string, Endpoint>,
  accepted: ReadonlyMap<string, Endpoint>,
  changed: ReadonlySet<string>,
  touched: ReadonlyMap<number, VirtualSubnet>,
  claims: EndpointClaims,
): Fabric {
  const shifted = items.length !== current.endpoints.length || accepted.size !== changed.size;
  let endpoints: Endpoint[];
  let endpointByName = byName;
  if (!shifted) {
    endpoints = current.endpoints.slice();
    for (const endpoint of accepted.values()) endpoints[endpoint.path[1] as number] = endpoint;
  } else {
    // From the first change on, every endpoint's index may differ from its path's.
    const first = Math.min(...[...changed].map((name) => lowerBound(items, name, nameOf)));
    endpoints = current.endpoints.slice(0, first);
    const moved: [string, Endpoint][] = [];
    for (let index = first; index < items.length; index++) {
      const name = (items[index] as { name: string }).name;
      const endpoint = byName.get(name) as Endpoint;
      if (endpoint.path[1] === index) endpoints.push(endpoint);
      else {
        const renumbered = { ...endpoint, path: ["endpoints", index] };
        endpoints.push(renumbered);
        moved.push([name, renumbered]);
      }
    }
    endpointByName = LayeredMap.derive(byName, moved);
  }
  const virtualSubnets = current.virtualSubnets.map((subnet) => {
    const next = touched.get(subnet.vsid);
    if (!shifted) return next ?? subnet;
    const base = next ?? subnet;
    return {
      ...base,
      endpoints: base.endpoints.map((e) => endpointByName.get(e.name) as Endpoint),
    };
  });
  return {
    ...current,
    endpoints,
    virtualSubnets,
    subnetByVsid:
      touched.size === 0 && !shifted
        ? current.subnetByVsid
        : new Map(virtualSubnets.map((subnet) => [subnet.vsid, subnet])),
    endpointByName,
    endpointByMac: deriveIndex(current, current.endpointByMac, changed, claims.macs, macKeys),
    endpointByCa: deriveIndex(current, current.endpointByCa, changed, claims.cas, caKeys),
    endpointByRoutedCa: deriveIndex(
      current,
      current.endpointByRoutedCa,
      changed,
      claims.routedCas,
      routedCaKeys,
    ),
  };
}

const macKeys = (_: Fabric, e: Endpoint) => [macKey(e.vsid, e.mac)];
const caKeys = (_: Fabric, e: Endpoint) => e.ips.map((ip) => caKey(e.vsid, ip));
const routedCaKeys = (fabric: Fabric, e: Endpoint) => {
  const subnet = fabric.subnetByVsid.get(e.vsid);
  return subnet?.gateway ? e.ips.map((ip) => routedCaKey(subnet.tenant, ip)) : [];
};

/** An index without the changed endpoints' old keys, with this run's claims. */
function deriveIndex(
  current: Fabric,
  index: ReadonlyMap<string, string>,
  changed: ReadonlySet<string>,
  claimed: ReadonlyMap<string, string>,
  keysOf: (fabric: Fabric, endpoint: Endpoint) => string[],
): ReadonlyMap<string, string> {
  const updates = new Map<string, string | undefined>();
  for (const name of changed) {
    const was = current.endpointByName.get(name);
    if (!was) continue;
    for (const key of keysOf(current, was))
      if (index.get(key) === name) updates.set(key, undefined);
  }
  for (const [key, name] of claimed) updates.set(key, name);
  return LayeredMap.derive(index, updates);
}

/** Two name-sorted lists as one. */
function mergeByName(a: Endpoint[], b: Endpoint[]): Endpoint[] {
  if (b.length === 0) return a;
  const merged: Endpoint[] = [];
  let j = 0;
  for (const endpoint of a) {
    while (j < b.length && (b[j] as Endpoint).name < endpoint.name) merged.push(b[j++] as Endpoint);
    merged.push(endpoint);
  }
  while (j < b.length) merged.push(b[j++] as Endpoint);
  return merged;
}

function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}
