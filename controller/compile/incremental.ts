/**
 * Incremental recompile: when a change touches only endpoints and tenant routes (an endpoint
 * moved, added or removed; a route added or removed; learning), only the units of the switches'
 * state that depend on them are compiled again: the changed endpoints' own units on the member
 * switches of their VSIDs (a VSID's other entries depend only on what must stay the same), and
 * the route targets of their tenants on the switches routing for them. Each such unit is
 * compiled twice, from the previous fabric (what it contributed, with the ids it had) and from
 * the new one, and the difference is applied to the switches' states
 * in place, so a move costs its few entities whatever the size of the fabric.
 *
 * The result equals a full compile of the new fabric with the previous allocations, entity for
 * entity and id for id (test/controller/compile/incremental.test.ts checks it over random
 * change sequences): new ids are asked for in the full compile's order, ids no unit uses any
 * more are released. Anything else (switches, ports, VSIDs, NVEs, settings, a VSID's set of
 * NVEs or a tenant's routed VSIDs changing) and any error (which the full compile then reports
 * with its proper path) make recompile answer undefined: the caller compiles the whole fabric.
 */
import type { IpAddress } from "../intent/addresses.js";
import type { Endpoint, Fabric, TenantRoute, VirtualSubnet } from "../intent/model.js";
import type { ResourceChange } from "../intent/resources.js";
import type { P4InfoIndex } from "../p4rt/p4info.js";
import type { Allocations, PoolState } from "./allocate.js";
import type { Collection } from "./canonical.js";
import {
  type CompiledFabric,
  type CompileUnit,
  changeCount,
  codecFor,
  type Entity,
  FabricCompiler,
  newUnitUsage,
  type SwitchContext,
  type SwitchUsage,
  type UnitSelection,
  type UnitUsage,
} from "./compile.js";
import { layoutOf, sharesParts, targetKey } from "./layout.js";
import {
  DesiredStateConflictError,
  type EntityChange,
  type EntitySink,
  type SwitchState,
} from "./state.js";
import type { RoutingDomain } from "./tenant-routes.js";

/** A recompile computed but not applied yet: the caller stores the allocations, then commits. */
export interface PendingRecompile {
  allocations: Allocations;
  /** Switches whose state changes. */
  changed: string[];
  /**
   * Applies the changes to the previous compile's switch states (in place: each changed state
   * moves to a new generation) and returns the new compiled fabric. The previous CompiledFabric
   * must not be used afterwards.
   */
  commit(): CompiledFabric;
}

/**
 * The change from `previous` to `fabric` as a pending recompile, or undefined: compile in full.
 * `changes`, when the caller knows them, are the resource changes that turned the previous
 * compile's fabric into `fabric`: the changed endpoints are then looked up by name instead of
 * found by comparing every endpoint.
 */
export function recompile(
  previous: CompiledFabric,
  fabric: Fabric,
  p4info: P4InfoIndex,
  changes?: readonly ResourceChange[],
): PendingRecompile | undefined {
  try {
    return recompileOrThrow(previous, fabric, p4info, changes);
  } catch {
    // Whatever went wrong (an invalid change, ids exhausted), the full compile says it properly.
    return undefined;
  }
}

interface SwitchDelta {
  state: SwitchState;
  changes: (EntityChange & { uses: number })[];
  usage: UsageChange;
}

function recompileOrThrow(
  previous: CompiledFabric,
  fabric: Fabric,
  p4info: P4InfoIndex,
  changes: readonly ResourceChange[] | undefined,
): PendingRecompile | undefined {
  const before = previous.basis.fabric;
  if (!sameStructure(before, fabric)) return undefined;
  const dirty = dirtyUnits(before, fabric, changes);
  const codec = codecFor(p4info);
  const { options } = previous.basis;
  // The new fabric's layout from the previous one's: only the changed tenants' domains again.
  layoutOf(fabric, { fabric: before, tenants: dirty.shapes });
  const old = new FabricCompiler(before, codec, previous.allocations, options, true);
  const next = new FabricCompiler(fabric, codec, previous.allocations, options);
  for (const tenant of dirty.shapes) {
    if (!sameDomainShape(old.domains.get(tenant), next.domains.get(tenant))) return undefined;
  }

  const deltas = new Map<string, SwitchDelta>();
  const poolChanges = new Map<string, { released: Set<string>; added: Set<string> }>();
  fabric.switches.forEach((sw, i) => {
    const swBefore = before.switches[i];
    const state = previous.switches.get(sw.name);
    const usage = previous.basis.usage.get(sw.name);
    if (!swBefore || !state || !usage) throw new Error(`${sw.name} was not compiled before`);
    const unitsBefore = old.unitsOf(swBefore, dirty);
    const unitsAfter = next.unitsOf(sw, dirty);
    if (unitsBefore.length === 0 && unitsAfter.length === 0) return;
    const staged = new StagedState(state);
    const nextUsage = new UsageChange(usage);
    const removed = compileUnits(old, old.context(swBefore, staged), unitsBefore);
    // New ids are handed out here, in the order a full compile would ask for them.
    const added = compileUnits(next, next.context(sw, staged), unitsAfter);
    const usedBefore = removed.map((r) => r.usage);
    const usedAfter = added.map((r) => r.usage);
    for (const unit of usedBefore) nextUsage.add(unit, -1);
    for (const unit of usedAfter) nextUsage.add(unit, 1);
    for (const unit of removed) for (const e of unit.entities) staged.remove(e.collection, e.key);
    for (const unit of added) {
      for (const e of unit.entities) staged.add(e.collection, e.key, e.value, e.explain);
    }
    // Shared parts: nve entries of tunnels nobody else uses, src_pa of VSIDs likewise.
    const tunnels = new Map<number, IpAddress>();
    for (const unit of [...usedBefore, ...usedAfter])
      for (const [id, pa] of unit.tunnels) tunnels.set(id, pa);
    for (const [id, pa] of tunnels) {
      const had = usage.tunnels.has(id);
      const has = nextUsage.tunnels(id);
      if (had && !has) remove(staged, old.nveEntity(id, pa));
      if (!had && has) add(staged, next.nveEntity(id, pa));
    }
    const vsids = new Set<number>();
    for (const unit of [...usedBefore, ...usedAfter])
      for (const vsid of unit.encap) vsids.add(vsid);
    for (const vsid of vsids) {
      const had = usage.encap.has(vsid);
      const has = nextUsage.encaps(vsid);
      const entityBefore = had && !has ? old.srcPaEntity(swBefore, vsid) : undefined;
      const entityAfter = !had && has ? next.srcPaEntity(sw, vsid) : undefined;
      if (entityBefore) remove(staged, entityBefore);
      if (entityAfter) add(staged, entityAfter);
    }
    next.checkCapacity(sw, staged.sizes());

    for (const unit of [...usedBefore, ...usedAfter]) {
      for (const [pool, keys] of unit.ids) {
        const had = usage.ids.get(pool.name);
        for (const key of keys) {
          const wasUsed = had?.has(key) ?? false;
          const isUsed = nextUsage.usesId(pool.name, key);
          if (wasUsed === isUsed) continue;
          let change = poolChanges.get(pool.name);
          if (!change) {
            change = { released: new Set(), added: new Set() };
            poolChanges.set(pool.name, change);
          }
          (isUsed ? change.added : change.released).add(key);
        }
      }
    }
    deltas.set(sw.name, { state, changes: staged.changes(), usage: nextUsage });
  });

  const allocations = nextAllocations(previous.allocations, poolChanges, next);
  return {
    allocations,
    changed: [...deltas].filter(([, d]) => d.changes.length > 0).map(([name]) => name),
    commit() {
      for (const delta of deltas.values()) {
        delta.state.applyChanges(delta.changes);
        delta.usage.apply();
      }
      const { usage } = previous.basis;
      return { switches: previous.switches, allocations, basis: { fabric, usage, options } };
    },
  };
}

/**
 * Whether the two fabrics have the same structure (structureOf). A change's validation shares
 * every part it did not touch with the fabric before (validate-change.ts), so that case is
 * decided by identity, comparing only the VSIDs it replaced.
 */
function sameStructure(a: Fabric, b: Fabric): boolean {
  if (!sharesParts(a, b)) return structureOf(a) === structureOf(b);
  return a.virtualSubnets.every((subnet, i) => {
    const other = b.virtualSubnets[i] as VirtualSubnet;
    return subnet === other || subnetStructure(subnet) === subnetStructure(other);
  });
}

/**
 * Everything a compile reads except endpoints and tenant routes (and the paths of things,
 * which only name them in messages): equal text = the same switches, ports, VSIDs with the
 * same member switches and NVEs, tenants, NVEs, underlay and settings.
 */
function structureOf(fabric: Fabric): string {
  const cached = structures.get(fabric);
  if (cached !== undefined) return cached;
  const text = JSON.stringify(
    {
      name: fabric.name,
      settings: fabric.settings,
      switches: fabric.switches,
      tenants: fabric.tenants.map((t) => t.name),
      subnets: fabric.virtualSubnets.map(subnetStructure),
      nves: fabric.nves,
      underlay: fabric.underlayRoutes,
    },
    withoutPaths,
  );
  structures.set(fabric, text);
  return text;
}

/** What a compile reads of a VSID besides its endpoints, as text. */
function subnetStructure(subnet: VirtualSubnet): string {
  return JSON.stringify(
    {
      ...subnet,
      endpoints: undefined,
      switches: subnet.switches.map((sw) => sw.name),
      nves: subnet.nves.map((nve) => nve.name),
    },
    withoutPaths,
  );
}

/** JSON replacer: paths only name things in messages; bigints as text. */
const withoutPaths = (key: string, value: unknown) =>
  key === "path" ? undefined : typeof value === "bigint" ? String(value) : value;

const structures = new WeakMap<Fabric, string>();

interface DirtyUnits extends UnitSelection {
  /** Endpoints that changed (added, removed, or compiled differently), by name. */
  endpoints: Set<string>;
  /** Tenants whose routes changed: every routing unit. */
  tenants: Set<string>;
  /** Route targets (VSID/MAC) of changed endpoints: their routing units. */
  targets: Set<string>;
  /** Tenants whose routed VSIDs or gateway NVEs may have changed (checked to be the same). */
  shapes: Set<string>;
}

function dirtyUnits(
  before: Fabric,
  after: Fabric,
  changes: readonly ResourceChange[] | undefined,
): DirtyUnits {
  const dirty: DirtyUnits = {
    endpoints: new Set(),
    tenants: new Set(),
    targets: new Set(),
    shapes: new Set(),
  };
  const touch = (fabric: Fabric, endpoint: Endpoint) => {
    dirty.endpoints.add(endpoint.name);
    dirty.targets.add(targetKey(endpoint.vsid, endpoint.mac));
    const tenant = fabric.subnetByVsid.get(endpoint.vsid)?.tenant;
    if (tenant !== undefined) dirty.shapes.add(tenant);
  };
  const changed = (was: Endpoint | undefined, endpoint: Endpoint | undefined) => {
    if (was && endpoint && sameEndpoint(was, endpoint)) return;
    if (endpoint) touch(after, endpoint);
    if (was) touch(before, was);
  };
  if (changes) {
    for (const { kind, name } of changes) {
      if (kind === "endpoint") {
        changed(before.endpointByName.get(name), after.endpointByName.get(name));
      }
    }
    if (!changes.some((change) => change.kind === "route")) return dirty;
  } else {
    // Endpoints found in `before` by name; all of them (and no more in `before`) = none deleted.
    let kept = 0;
    after.endpoints.forEach((endpoint, i) => {
      // Usually the same object in the same place (a change's validation shares what it did
      // not touch); else looked up by name.
      const same = before.endpoints[i];
      if (same === endpoint) {
        kept++;
        return;
      }
      const was = same?.name === endpoint.name ? same : before.endpointByName.get(endpoint.name);
      if (was) kept++;
      changed(was, endpoint);
    });
    if (kept < before.endpoints.length) {
      for (const endpoint of before.endpoints) {
        if (!after.endpointByName.has(endpoint.name)) touch(before, endpoint);
      }
    }
  }
  const routes = new Map<string, number>();
  for (const route of before.routes) {
    routes.set(routeText(route), (routes.get(routeText(route)) ?? 0) + 1);
  }
  for (const route of after.routes) {
    routes.set(routeText(route), (routes.get(routeText(route)) ?? 0) - 1);
  }
  for (const [text, count] of routes) {
    if (count === 0) continue;
    const tenant = JSON.parse(text)[0] as string;
    dirty.tenants.add(tenant);
    dirty.shapes.add(tenant);
  }
  return dirty;
}

/** Equal in everything the compiler reads of an endpoint (learned ones age: learnedMacValue). */
function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  if (a.vsid !== b.vsid || a.mac.hex !== b.mac.hex || a.learned !== b.learned) return false;
  if (a.ips.length !== b.ips.length) return false;
  if (a.ips.some((ip, i) => ip.text !== b.ips[i]?.text)) return false;
  const x = a.location;
  const y = b.location;
  if (x.kind === "nve") return y.kind === "nve" && x.nve === y.nve;
  return y.kind === "port" && x.switch === y.switch && x.port === y.port && x.vlan === y.vlan;
}

function routeText(route: TenantRoute): string {
  const hop = route.nextHop;
  const target =
    hop.kind === "endpoint"
      ? ["endpoint", hop.endpoint]
      : hop.kind === "vsid"
        ? ["vsid", hop.vsid]
        : ["nve", hop.nve, hop.vsid, hop.mac.hex];
  return JSON.stringify([route.tenant, route.prefix.text, ...target]);
}

/** Routed VSIDs and gateway NVEs shape other units (PA validation, tunnels): they must stay. */
function sameDomainShape(a: RoutingDomain | undefined, b: RoutingDomain | undefined): boolean {
  if (!a || !b) return a === b;
  const vsids = (d: RoutingDomain) => [...d.targetVsids].sort((x, y) => x - y).join(",");
  const nves = (d: RoutingDomain) =>
    [...d.gatewayNves]
      .map(([vsid, list]) => `${vsid}:${list.map((n) => n.name).join("+")}`)
      .sort()
      .join(",");
  return vsids(a) === vsids(b) && nves(a) === nves(b);
}

/**
 * A switch's usage as a recompile changes it: the counts' changes beside the usage, which
 * stays untouched until `apply` (commit) changes it in place, so a move copies none of it.
 */
class UsageChange {
  private readonly ids = new Map<string, Map<string, number>>();
  private readonly tunnelUses = new Map<number, { pa: IpAddress; delta: number }>();
  private readonly encapUses = new Map<number, number>();

  constructor(private readonly usage: SwitchUsage) {}

  add(unit: UnitUsage, sign: 1 | -1): void {
    for (const [pool, keys] of unit.ids) {
      let counts = this.ids.get(pool.name);
      if (!counts) {
        counts = new Map();
        this.ids.set(pool.name, counts);
      }
      for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + sign);
    }
    for (const [id, pa] of unit.tunnels) {
      this.tunnelUses.set(id, { pa, delta: (this.tunnelUses.get(id)?.delta ?? 0) + sign });
    }
    for (const vsid of unit.encap) {
      this.encapUses.set(vsid, (this.encapUses.get(vsid) ?? 0) + sign);
    }
  }

  usesId(pool: string, key: string): boolean {
    const before = this.usage.ids.get(pool)?.get(key) ?? 0;
    return before + (this.ids.get(pool)?.get(key) ?? 0) > 0;
  }

  tunnels(id: number): boolean {
    return (this.usage.tunnels.get(id)?.uses ?? 0) + (this.tunnelUses.get(id)?.delta ?? 0) > 0;
  }

  encaps(vsid: number): boolean {
    return (this.usage.encap.get(vsid) ?? 0) + (this.encapUses.get(vsid) ?? 0) > 0;
  }

  /** Changes the usage in place. */
  apply(): void {
    for (const [pool, deltas] of this.ids) {
      let counts = this.usage.ids.get(pool);
      if (!counts) {
        counts = new Map();
        this.usage.ids.set(pool, counts);
      }
      for (const [key, delta] of deltas) changeCount(counts, key, delta);
    }
    for (const [id, { pa, delta }] of this.tunnelUses) {
      const uses = (this.usage.tunnels.get(id)?.uses ?? 0) + delta;
      if (uses > 0) this.usage.tunnels.set(id, { pa, uses });
      else this.usage.tunnels.delete(id);
    }
    for (const [vsid, delta] of this.encapUses) changeCount(this.usage.encap, vsid, delta);
  }
}

/** The previous allocations with released ids dropped and new ones added, as a full compile gives them. */
function nextAllocations(
  previous: Allocations,
  changes: Map<string, { released: Set<string>; added: Set<string> }>,
  compiler: FabricCompiler,
): Allocations {
  const pools: Record<string, PoolState> = { ...previous.pools };
  for (const [name, { released, added }] of changes) {
    const pool = compiler.pool(name);
    if (!pool) throw new Error(`pool ${name} was not used`);
    const ids = new Map(Object.entries(previous.pools[name]?.ids ?? {}));
    for (const key of released) ids.delete(key);
    for (const key of added) ids.set(key, pool.id(key));
    if (ids.size === 0) delete pools[name];
    else pools[name] = { next: pool.next, ids: Object.fromEntries(ids) };
  }
  return { pools: Object.fromEntries(Object.entries(pools).sort(([a], [b]) => (a < b ? -1 : 1))) };
}

interface RecordedEntity extends Entity {
  explain: (() => string) | undefined;
}

/** Compiles units one by one, each into its own recording. */
function compileUnits(
  compiler: FabricCompiler,
  ctx: SwitchContext,
  units: CompileUnit[],
): RecordedEntities[] {
  return units.map((unit) => {
    const recorded = new RecordedEntities();
    ctx.state = recorded;
    recorded.usage = compiler.compileUnit(ctx, unit);
    return recorded;
  });
}

/** The entities of one unit, as it compiled them, and what it used. */
class RecordedEntities implements EntitySink {
  readonly entities: RecordedEntity[] = [];
  usage: UnitUsage = newUnitUsage();
  add(collection: Collection, key: string, value: string, explain?: () => string): void {
    this.entities.push({ collection, key, value, explain });
  }
}

function add(staged: StagedState, entity: Entity): void {
  staged.add(entity.collection, entity.key, entity.value);
}

function remove(staged: StagedState, entity: Entity): void {
  staged.remove(entity.collection, entity.key);
}

/** A switch state's entities as a recompile changes them, before the change is applied. */
class StagedState implements EntitySink {
  private readonly touched = new Map<
    Collection,
    Map<string, { value: string | undefined; uses: number }>
  >();

  constructor(private readonly state: SwitchState) {}

  private entry(collection: Collection, key: string) {
    let keys = this.touched.get(collection);
    if (!keys) {
      keys = new Map();
      this.touched.set(collection, keys);
    }
    let entry = keys.get(key);
    if (!entry) {
      entry = { value: this.state.value(collection, key), uses: this.state.uses(collection, key) };
      keys.set(key, entry);
    }
    return entry;
  }

  add(collection: Collection, key: string, value: string, explain?: () => string): void {
    const entry = this.entry(collection, key);
    if (entry.uses > 0 && entry.value !== value) {
      throw new DesiredStateConflictError(
        this.state.switchName,
        collection,
        key,
        [entry.value as string, value],
        explain?.() ?? `${collection} ${key} would be both ${entry.value} and ${value}`,
      );
    }
    entry.value = value;
    entry.uses++;
  }

  remove(collection: Collection, key: string): void {
    const entry = this.entry(collection, key);
    if (entry.uses === 0) {
      throw new Error(`${this.state.switchName}: ${collection} ${key} removed but not there`);
    }
    entry.uses--;
    if (entry.uses === 0) entry.value = undefined;
  }

  changes(): (EntityChange & { uses: number })[] {
    const changes: (EntityChange & { uses: number })[] = [];
    for (const [collection, keys] of this.touched) {
      for (const [key, { value, uses }] of keys) {
        const before = this.state.value(collection, key);
        if (before !== value || this.state.uses(collection, key) !== uses) {
          changes.push({ collection, key, before, after: value, uses });
        }
      }
    }
    return changes;
  }

  /** Entity counts per collection after the change (for capacity checks). */
  sizes(): Map<Collection, { size: number }> {
    const sizes = new Map<Collection, { size: number }>();
    for (const [collection, entries] of this.state.collections) {
      sizes.set(collection, { size: entries.size });
    }
    for (const [collection, keys] of this.touched) {
      let size = this.state.collections.get(collection)?.size ?? 0;
      for (const [key, { value }] of keys) {
        size +=
          (value !== undefined ? 1 : 0) - (this.state.value(collection, key) !== undefined ? 1 : 0);
      }
      sizes.set(collection, { size });
    }
    return sizes;
  }
}
