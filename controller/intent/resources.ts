/**
 * The fabric intent as typed resources: each switch, tenant, VSID, NVE, endpoint, underlay
 * route and tenant route is one resource with its own store key (and so its own revision in a
 * store), and the fabric's name, version and settings are one more. A fabric file is the same
 * resources written together; `apply -f` stores the difference.
 *
 * Every replica must compile the same entities from the same resources, and the compiler reads
 * lists in order (multicast replicas, id requests), so the document a replica compiles is
 * always the canonical one: each list sorted by resource name, whatever order a file or an
 * edit gave. ResourceSet keeps that document current at the cost of what changed.
 */
import type { FabricDocument } from "./schema.js";

export type ResourceKind =
  | "fabric"
  | "switch"
  | "tenant"
  | "vsid"
  | "nve"
  | "endpoint"
  | "underlay-route"
  | "route";

type Doc = FabricDocument;
type ListKind = Exclude<ResourceKind, "fabric">;

/** Where each kind's list lives in a fabric document, and how an item's name is made. */
const lists: Record<
  ListKind,
  {
    get(doc: Doc): readonly unknown[] | undefined;
    set(doc: Doc, items: unknown[]): Doc;
    name(item: never): string;
  }
> = {
  switch: {
    get: (d) => d.switches,
    set: (d, items) => ({ ...d, switches: items as Doc["switches"] }),
    name: (item: { name: string }) => item.name,
  },
  tenant: {
    get: (d) => d.tenants,
    set: (d, items) => ({ ...d, tenants: items as Doc["tenants"] }),
    name: (item: { name: string }) => item.name,
  },
  vsid: {
    get: (d) => d.virtualSubnets,
    set: (d, items) => ({ ...d, virtualSubnets: items as Doc["virtualSubnets"] }),
    name: (item: { vsid: unknown }) => vsidName(item.vsid),
  },
  nve: {
    get: (d) => d.nves,
    set: (d, items) => ({ ...d, nves: items as Doc["nves"] }),
    name: (item: { name: string }) => item.name,
  },
  endpoint: {
    get: (d) => d.endpoints,
    set: (d, items) => ({ ...d, endpoints: items as Doc["endpoints"] }),
    name: (item: { name: string }) => item.name,
  },
  "underlay-route": {
    get: (d) => d.underlay?.routes,
    set: (d, items) => ({ ...d, underlay: { ...d.underlay, routes: items as never } }),
    name: (item: { switch: unknown; prefix: unknown }) =>
      `${String(item.switch)}|${String(item.prefix)}`,
  },
  route: {
    get: (d) => d.routes,
    set: (d, items) => ({ ...d, routes: items as Doc["routes"] }),
    name: (item: { tenant: unknown; prefix: unknown }) =>
      `${String(item.tenant)}|${String(item.prefix)}`,
  },
};

export const listKinds = Object.keys(lists) as ListKind[];

/** The document's section that holds a kind, for messages ("endpoints", "virtualSubnets" …). */
export const sectionOf: Record<ListKind, string> = {
  switch: "switches",
  tenant: "tenants",
  vsid: "virtualSubnets",
  nve: "nves",
  endpoint: "endpoints",
  "underlay-route": "underlay.routes",
  route: "routes",
};

/** VSIDs are numbers or "0x…" strings in a document; as a resource name always "0x…". */
function vsidName(vsid: unknown): string {
  const value = typeof vsid === "string" ? Number(vsid) : Number(vsid);
  return Number.isInteger(value) ? `0x${value.toString(16).toUpperCase()}` : String(vsid);
}

export function resourceName(kind: ListKind, item: unknown): string {
  return lists[kind].name(item as never);
}

/** The store key of a resource: `resources/<kind>/<name>` (names are escaped: routes hold '/'). */
export function resourceKey(kind: ResourceKind, name = ""): string {
  return kind === "fabric" ? "resources/fabric" : `resources/${kind}/${encodeURIComponent(name)}`;
}

export const RESOURCE_PREFIX = "resources/";

/** The kind and name a key stands for; undefined for keys that are not resources. */
export function parseResourceKey(key: string): { kind: ResourceKind; name: string } | undefined {
  if (key === "resources/fabric") return { kind: "fabric", name: "" };
  if (!key.startsWith(RESOURCE_PREFIX)) return undefined;
  const rest = key.slice(RESOURCE_PREFIX.length);
  const slash = rest.indexOf("/");
  const kind = rest.slice(0, slash) as ListKind;
  if (slash < 0 || !(kind in lists)) return undefined;
  return { kind, name: decodeURIComponent(rest.slice(slash + 1)) };
}

/** The fabric-wide part of a document: everything that is not a list of resources. */
function fabricPart(doc: Doc): Record<string, unknown> {
  const { switches, tenants, virtualSubnets, nves, endpoints, routes, underlay, ...rest } = doc;
  const { routes: _underlayRoutes, ...underlayRest } = underlay ?? {};
  return Object.keys(underlayRest).length > 0 ? { ...rest, underlay: underlayRest } : rest;
}

/** A resource change: the value to store, or undefined to delete it. */
export interface ResourceChange {
  key: string;
  kind: ResourceKind;
  name: string;
  value: unknown;
}

/** A resource name used twice in one document (two endpoints both called web-1 …). */
export class DuplicateResourceError extends Error {
  override readonly name = "DuplicateResourceError";
  constructor(
    readonly kind: ResourceKind,
    readonly resource: string,
    readonly indexes: [number, number],
  ) {
    super(
      `${sectionOf[kind as ListKind]}[${indexes[1]}]: ${kind} "${resource}" is already defined at ${sectionOf[kind as ListKind]}[${indexes[0]}]`,
    );
  }
}

/**
 * The resources of the fabric, with the canonical document they make. A set never changes:
 * `with(changes)` gives a new one sharing every section the changes leave alone, so a replica
 * can compile the next intent before it stores it and keep the current one if storing fails.
 * Values are the document objects they came from; `changesTo` compares by identity first, so a
 * document an edit derived from this set's (sharing every untouched object) is diffed with one
 * pointer comparison per resource and a lookup per changed one.
 */
export class ResourceSet {
  private constructor(
    private readonly fabric: Record<string, unknown>,
    private readonly sections: ReadonlyMap<ListKind, Section>,
    /** The canonical document: each list sorted by resource name. */
    readonly document: Doc,
  ) {}

  static empty(): ResourceSet {
    return new ResourceSet({}, new Map(listKinds.map((kind) => [kind, { names: [], items: [] }])), {
      switches: [],
    });
  }

  /** A set holding exactly the resources of `document` (a fabric file, a stored intent). */
  static of(document: Doc): ResourceSet {
    const empty = ResourceSet.empty();
    return empty.with(empty.changesTo(document));
  }

  get size(): number {
    let n = 1;
    for (const section of this.sections.values()) n += section.names.length;
    return n;
  }

  get(kind: ResourceKind, name = ""): unknown {
    if (kind === "fabric") return this.fabric;
    const section = this.sections.get(kind) as Section;
    const at = lowerBound(section.names, name);
    return section.names[at] === name ? section.items[at] : undefined;
  }

  /** Every resource as store key → value. */
  *entries(): Generator<[string, unknown]> {
    yield [resourceKey("fabric"), this.fabric];
    for (const [kind, section] of this.sections) {
      for (const [i, name] of section.names.entries()) {
        yield [resourceKey(kind, name), section.items[i]];
      }
    }
  }

  /**
   * The changes that turn this set into the resources of `next` (a whole document); throws
   * DuplicateResourceError when `next` names a resource twice.
   */
  changesTo(next: Doc): ResourceChange[] {
    const changes: ResourceChange[] = [];
    const nextFabric = fabricPart(next);
    if (JSON.stringify(nextFabric) !== JSON.stringify(this.fabric)) {
      changes.push({ key: resourceKey("fabric"), kind: "fabric", name: "", value: nextFabric });
    }
    for (const kind of listKinds) {
      const items = lists[kind].get(next) ?? [];
      const section = this.sections.get(kind) as Section;
      // The very list this set's document holds: untouched.
      if (items !== section.items) sectionChanges(kind, section, items, changes);
    }
    return changes;
  }

  /** This set with `changes` applied (from `changesTo`, or read from a store). */
  with(changes: readonly ResourceChange[]): ResourceSet {
    if (changes.length === 0) return this;
    let fabric = this.fabric;
    const sections = new Map(this.sections);
    const copied = new Set<ListKind>();
    for (const change of changes) {
      if (change.kind === "fabric") {
        fabric = (change.value as Record<string, unknown> | undefined) ?? {};
        continue;
      }
      let section = sections.get(change.kind) as Section;
      if (!copied.has(change.kind)) {
        section = { names: [...section.names], items: [...section.items] };
        sections.set(change.kind, section);
        copied.add(change.kind);
      }
      const at = lowerBound(section.names, change.name);
      const present = section.names[at] === change.name;
      if (change.value === undefined) {
        if (present) {
          section.names.splice(at, 1);
          section.items.splice(at, 1);
        }
      } else if (present) {
        section.items[at] = change.value;
      } else {
        section.names.splice(at, 0, change.name);
        section.items.splice(at, 0, change.value);
      }
    }
    return new ResourceSet(fabric, sections, assemble(fabric, sections));
  }
}

interface Section {
  /** Resource names, sorted (code-unit order, as `<` compares). */
  names: string[];
  /** The document's list: items in the order of `names`. Never changed once a set holds it. */
  items: unknown[];
}

/**
 * The changes of one section. Items at the same position as before and identical are the same
 * resource (names are unique in a section), so only the others need their name and a lookup.
 */
function sectionChanges(
  kind: ListKind,
  section: Section,
  items: readonly unknown[],
  changes: ResourceChange[],
): void {
  const kept = new Uint8Array(section.names.length);
  const others = new Map<string, number>();
  items.forEach((item, index) => {
    if (index < section.items.length && item === section.items[index]) {
      kept[index] = 1;
      return;
    }
    const name = lists[kind].name(item as never);
    const first = others.get(name);
    if (first !== undefined) throw new DuplicateResourceError(kind, name, [first, index]);
    others.set(name, index);
  });
  for (const [name, index] of others) {
    const at = lowerBound(section.names, name);
    const present = section.names[at] === name;
    if (present && kept[at]) throw new DuplicateResourceError(kind, name, [at, index]);
    const item = items[index];
    const was = present ? section.items[at] : undefined;
    if (present) kept[at] = 2;
    if (was !== undefined && JSON.stringify(was) === JSON.stringify(item)) continue;
    changes.push({ key: resourceKey(kind, name), kind, name, value: item });
  }
  section.names.forEach((name, at) => {
    if (!kept[at]) changes.push({ key: resourceKey(kind, name), kind, name, value: undefined });
  });
}

function assemble(fabric: Record<string, unknown>, sections: ReadonlyMap<ListKind, Section>): Doc {
  const items = (kind: ListKind) => (sections.get(kind) as Section).items as never;
  const underlay = (fabric.underlay ?? {}) as Record<string, unknown>;
  return {
    ...fabric,
    switches: items("switch"),
    tenants: items("tenant"),
    virtualSubnets: items("vsid"),
    nves: items("nve"),
    endpoints: items("endpoint"),
    underlay: { ...underlay, routes: items("underlay-route") },
    routes: items("route"),
  } as Doc;
}

/**
 * The first index whose name is not below `name`, in a list sorted by name (resource names, or
 * a canonical document's items with `nameOf`).
 */
export function lowerBound<T = string>(
  names: readonly T[],
  name: string,
  nameOf: (item: T) => string = String,
): number {
  let lo = 0;
  let hi = names.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (nameOf(names[mid] as T) < name) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
