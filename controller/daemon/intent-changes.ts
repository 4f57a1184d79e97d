/**
 * The CLI's small changes (`endpoint add|move|del`, `vsid add|del`, `route add|del`), and the
 * rule that keeps learned endpoints across `apply -f`. Endpoint edits read and change their
 * endpoint resource alone (ResourceEdit: a move costs the same on any fabric size); the others
 * return a new document, which the stored intent diffs. Whether the result is a valid fabric
 * is the intent validation's call (the daemon validates what each edit changed:
 * intent/validate-change.ts), so these only refuse what cannot be expressed at all: a name
 * that does not exist, one that already does.
 */

import { isDeepStrictEqual } from "node:util";
import { parseMac } from "../intent/addresses.js";
import { type ResourceChange, type ResourceSet, resourceKey } from "../intent/resources.js";
import type { FabricDocument } from "../intent/schema.js";
import { IntentConflictError, NotFoundError } from "./errors.js";
import type {
  EndpointAddRequest,
  EndpointLocationSpec,
  RouteAddRequest,
  RouteDeleteRequest,
  VsidAddRequest,
} from "./protocol.js";

type EndpointDoc = NonNullable<FabricDocument["endpoints"]>[number];
type SubnetDoc = NonNullable<FabricDocument["virtualSubnets"]>[number];
type RouteDoc = NonNullable<FabricDocument["routes"]>[number];

export type DocumentEdit = (document: FabricDocument) => FabricDocument;

/** An edit of single resources: the changes it makes, read from the current resources by name. */
export type ResourceEdit = (resources: ResourceSet) => ResourceChange[];

function endpointChange(name: string, value: EndpointDoc | undefined): ResourceChange {
  return { key: resourceKey("endpoint", name), kind: "endpoint", name, value };
}

function existingEndpoint(resources: ResourceSet, name: string): EndpointDoc {
  const endpoint = resources.get("endpoint", name) as EndpointDoc | undefined;
  if (!endpoint) throw notFound(`endpoint ${name}`);
  return endpoint;
}

function notFound(what: string): NotFoundError {
  return new NotFoundError(`${what} is not in the intent`);
}

/** (VSID, MAC) of an endpoint, in canonical form ("0x5001" and 20481 are the same VSID). */
function stationKey(endpoint: EndpointDoc): string {
  return `${Number(endpoint.vsid)}/${parseMac(endpoint.mac).text}`;
}

/** VSIDs are numbers or "0x…" strings in a document; compared by value. */
function sameVsid(a: unknown, b: number): boolean {
  return (typeof a === "string" ? Number(a) : a) === b;
}

function locationDoc(location: EndpointLocationSpec): EndpointDoc["location"] {
  return "nve" in location
    ? { nve: location.nve }
    : {
        switch: location.switch,
        port: location.port,
        ...(location.vlan === undefined ? {} : { vlan: location.vlan }),
      };
}

export function addEndpoint(request: EndpointAddRequest): ResourceEdit {
  return (resources) => {
    if (resources.get("endpoint", request.name) !== undefined) {
      throw new IntentConflictError(`endpoint ${request.name} already exists`);
    }
    return [
      endpointChange(request.name, {
        name: request.name,
        vsid: request.vsid,
        mac: request.mac,
        ips: request.ips ?? [],
        location: locationDoc(request.location),
      }),
    ];
  };
}

/**
 * A move keeps everything but the location; a learned endpoint moved by hand becomes declared.
 * A declared endpoint moved to where it is changes nothing.
 */
export function moveEndpoint(name: string, location: EndpointLocationSpec): ResourceEdit {
  return (resources) => {
    const endpoint = existingEndpoint(resources, name);
    const to = locationDoc(location);
    if (!endpoint.learned && isDeepStrictEqual(endpoint.location, to)) return [];
    const moved = { ...endpoint, location: to };
    delete moved.learned;
    return [endpointChange(name, moved)];
  };
}

export function deleteEndpoint(name: string): ResourceEdit {
  return (resources) => {
    existingEndpoint(resources, name);
    return [endpointChange(name, undefined)];
  };
}

export function addVsid(request: VsidAddRequest): DocumentEdit {
  return (document) => {
    const subnets = document.virtualSubnets ?? [];
    if (subnets.some((s) => sameVsid(s.vsid, request.vsid))) {
      throw new IntentConflictError(
        `VSID 0x${request.vsid.toString(16).toUpperCase()} already exists`,
      );
    }
    const subnet: SubnetDoc = {
      vsid: request.vsid,
      name: request.name,
      tenant: request.tenant,
      ...(request.flood === undefined ? {} : { flood: request.flood }),
      ...(request.learning === undefined ? {} : { learning: request.learning }),
      ...(request.sourceGuard === undefined ? {} : { sourceGuard: request.sourceGuard }),
      ...(request.paValidation === undefined ? {} : { paValidation: request.paValidation }),
      ...(request.gateway === undefined ? {} : { gateway: request.gateway }),
      ...(request.mtu === undefined ? {} : { mtu: request.mtu }),
    };
    // A tenant named for the first time is created with the subnet.
    const tenants = document.tenants ?? [];
    const withTenant = tenants.some((t) => t.name === request.tenant)
      ? tenants
      : [...tenants, { name: request.tenant }];
    return { ...document, tenants: withTenant, virtualSubnets: [...subnets, subnet] };
  };
}

/**
 * Deletes a VSID and the endpoints learned in it (soft state); declared endpoints and routes
 * that still use it make the result invalid, which validation reports by name.
 */
export function deleteVsid(vsid: number): DocumentEdit {
  return (document) => {
    const subnets = document.virtualSubnets ?? [];
    if (!subnets.some((s) => sameVsid(s.vsid, vsid))) {
      throw notFound(`VSID 0x${vsid.toString(16).toUpperCase()}`);
    }
    return {
      ...document,
      virtualSubnets: subnets.filter((s) => !sameVsid(s.vsid, vsid)),
      endpoints: (document.endpoints ?? []).filter((e) => !(e.learned && sameVsid(e.vsid, vsid))),
    };
  };
}

export function addRoute(request: RouteAddRequest): DocumentEdit {
  return (document) => {
    const routes = document.routes ?? [];
    if (routes.some((r) => r.tenant === request.tenant && r.prefix === request.prefix)) {
      throw new IntentConflictError(`tenant ${request.tenant} already routes ${request.prefix}`);
    }
    const route: RouteDoc = {
      tenant: request.tenant,
      prefix: request.prefix,
      nextHop: request.nextHop,
    };
    return { ...document, routes: [...routes, route] };
  };
}

export function deleteRoute(request: RouteDeleteRequest): DocumentEdit {
  return (document) => {
    const routes = document.routes ?? [];
    const kept = routes.filter(
      (r) => !(r.tenant === request.tenant && r.prefix === request.prefix),
    );
    if (kept.length === routes.length) {
      throw notFound(`route ${request.prefix} of tenant ${request.tenant}`);
    }
    return { ...document, routes: kept };
  };
}

/**
 * `apply -f` replaces the operator's part of the intent; learned endpoints are not in the
 * operator's file, so they carry over unless the file now declares the same name or the
 * same MAC in the VSID (the declaration wins). Those that no longer fit the new fabric (their
 * VSID or port is gone) are dropped by the caller after validation names them.
 */
export function carryLearnedEndpoints(
  next: FabricDocument,
  current: FabricDocument | undefined,
): FabricDocument {
  const learned = (current?.endpoints ?? []).filter((e) => e.learned);
  if (learned.length === 0) return next;
  const declared = next.endpoints ?? [];
  const names = new Set(declared.map((e) => e.name));
  const macs = new Set(declared.map(stationKey));
  const kept = learned.filter((e) => !names.has(e.name) && !macs.has(stationKey(e)));
  return kept.length === 0 ? next : { ...next, endpoints: [...declared, ...kept] };
}
