/**
 * The compiler: a validated fabric → each switch's desired P4Runtime state, in canonical form.
 * Pure and deterministic: the same fabric and previous allocations give the same state and the
 * same allocations, whatever ran before. It writes nothing; the reconciler does.
 *
 * What each table gets (see p4/include/*.p4 for what the entries mean to the data plane):
 *   switch_config default, clone session 511 → CPU port (MTU punts), learn_t digest config
 *   port_type, port_vsid (untagged also admits priority-tagged), egress_vlan (every (port,
 *     VSID) a frame may leave by, VSID 0 = underlay on fabric ports), port_mtu (fabric ports)
 *   my_mac (router MAC; IPv4/IPv6 multicast MAC ranges where PA multicast groups pass),
 *     local_pa_v4/v6 (own PAs, multicast groups of member VSIDs), arp/nd_responder VSID 0
 *   route_v4/v6 + ecmp selector: derived from the links (underlay.ts), static routes outside
 *   per member VSID: vsid, vsid_flood + two multicast groups (flood: local ports rid 0 plus one
 *     tunnel replica per remote NVE or toward the PA group; local: local ports only),
 *     flood_replica, mac, arp/nd_responder, source_guard, learned_mac, vsid_nve_v4/v6
 *   per routing domain served: tenant_route_v4/v6, tenant_nexthop, mac for remote targets
 *   nve (every tunnel destination used), src_pa (default PAs, per-VSID PAs of R8)
 */
import type { IpAddress, IpFamily } from "../intent/addresses.js";
import { IntentError, type IntentIssue, type IntentPath } from "../intent/errors.js";
import {
  type Endpoint,
  type Fabric,
  type Nve,
  providerAddressFor,
  type Switch,
  type TunnelEndpoint,
  tunnelFamily,
  type VirtualSubnet,
} from "../intent/model.js";
import { formatVsid } from "../intent/schema.js";
import type { P4InfoIndex } from "../p4rt/p4info.js";
import { targetProfile } from "../targets/profiles.js";
import { type Allocations, IdAllocator, IdExhaustedError, type IdPool } from "./allocate.js";
import {
  CanonicalCodec,
  CLONE_SESSIONS,
  cloneSessionText,
  digestConfigText,
  groupMembersText,
  groupTarget,
  lpm,
  MULTICAST_GROUPS,
  replicasText,
  tableOfCollection,
  ternary,
  withIdleTimeout,
} from "./canonical.js";
import { type FabricLayout, layoutOf, type RouteGroup, targetKey } from "./layout.js";
import { DesiredStateConflictError, type EntitySink, SwitchState } from "./state.js";
import type { DomainRoute, RoutingDomain } from "./tenant-routes.js";
import { multicastMac, type NextHop, type Underlay, UnderlayError } from "./underlay.js";
import { type TableWriters, tableWriters } from "./writers.js";

/** learn_t digest delivery: batch up to 64 samples or 1 ms; resend unacknowledged after 1 s. */
const LEARN_DIGEST_CONFIG = digestConfigText({
  maxTimeoutNs: 1_000_000,
  maxListSize: 64,
  ackTimeoutNs: 1_000_000_000,
});

/** Priorities of ternary entries; entries of one table never overlap, so one level each suffices. */
const PRIORITY = { exact: 10, srcPaDefault: 1, srcPaVsid: 10 } as const;

const ALL_ONES_48 = "ffffffffffff";
const ALL_ONES_128 = "ffffffffffffffffffffffffffffffff";
/** fe80::/10 as a 128-bit value and mask (link-local sources pass the source guard). */
const LINK_LOCAL = {
  value: "fe800000000000000000000000000000",
  mask: "ffc00000000000000000000000000000",
};
/** Multicast MAC ranges: IPv4 01:00:5e/25, IPv6 33:33/16. */
const MULTICAST_MAC_RANGE = {
  4: ternary("1005e000000", "ffffff800000"),
  6: ternary("333300000000", "ffff00000000"),
} as const;

export interface CompiledFabric {
  /** Desired state per switch name, in fabric order. */
  switches: Map<string, SwitchState>;
  allocations: Allocations;
  /** What it was compiled from, for an incremental recompile of a later change (incremental.ts). */
  basis: CompileBasis;
}

export interface CompileBasis {
  fabric: Fabric;
  usage: Map<string, SwitchUsage>;
  /** An incremental recompile compiles with the same options. */
  options: CompileOptions;
}

/**
 * What the parts of a switch's state (units: one per member VSID, one per routing domain the
 * switch routes for) use of what the switch shares between them, counted per unit so that an
 * incremental recompile of some units knows what the others still need.
 */
export interface SwitchUsage {
  /** Per id pool name: key → number of units asking for its id. */
  ids: Map<string, Map<string, number>>;
  /** Tunnel destinations (nve entries): nve id → PA and number of units tunnelling to it. */
  tunnels: Map<number, { pa: IpAddress; uses: number }>;
  /** VSIDs encapsulated in (src_pa entries): VSID → number of units. */
  encap: Map<number, number>;
}

/**
 * One unit of a switch's state; units are compiled in the order of unitsOf. A member VSID is
 * its own entries (flooding, PA validation, gateway) and one unit per endpoint, so a change of
 * endpoints recompiles those alone; a routing domain is one unit per route target (VSID + MAC,
 * its next hop), with every route leading there.
 */
export type CompileUnit =
  | { kind: "subnet"; subnet: VirtualSubnet }
  | { kind: "endpoint"; subnet: VirtualSubnet; endpoint: Endpoint }
  | { kind: "routing"; domain: RoutingDomain; target: string; routes: DomainRoute[] };

/** Units to compile again: those of these endpoints (by name), tenants (all their routes) and route targets. */
export interface UnitSelection {
  endpoints: Set<string>;
  tenants: Set<string>;
  targets: Set<string>;
}

/** What one unit used while it was compiled. */
export interface UnitUsage {
  ids: Map<IdPool, Set<string>>;
  tunnels: Map<number, IpAddress>;
  encap: Set<number>;
}

export const newUnitUsage = (): UnitUsage => ({
  ids: new Map(),
  tunnels: new Map(),
  encap: new Set(),
});

const codecs = new WeakMap<P4InfoIndex, CanonicalCodec>();

/** One codec per P4Info (names are resolved once). */
export function codecFor(p4info: P4InfoIndex): CanonicalCodec {
  let codec = codecs.get(p4info);
  if (!codec) {
    codec = new CanonicalCodec(p4info);
    codecs.set(p4info, codec);
  }
  return codec;
}

/** What the compiled state depends on besides the fabric (the daemon's settings). */
export interface CompileOptions {
  /**
   * Idle timeout of learned endpoints' learned_mac entries where their frames enter (the
   * access port's switch; every switch for one behind a remote NVE): the switch notifies the
   * controller when one goes unmatched this long, and the endpoint ages out. 0 = never.
   */
  learnedIdleTimeoutNs?: number;
}

/** Compiles the whole fabric; throws IntentError naming what cannot be built. */
export function compileFabric(
  fabric: Fabric,
  p4info: P4InfoIndex,
  previous?: Allocations,
  options: CompileOptions = {},
): CompiledFabric {
  return new FabricCompiler(fabric, codecFor(p4info), previous, options).compile();
}

const NO_KEYS: string[] = [];

/** Canonical keys of one endpoint, computed once and shared by every switch's state. */
interface EndpointKeys {
  mac: string;
  arp: string[];
  nd: string[];
  arpValue: string;
  ndValue: string;
  /** learned_mac key as seen from other switches, for the PA they see the endpoint behind. */
  learnedRemote?: { pa: IpAddress; key: string };
}

/** Canonical keys of one tenant route, shared by every switch that routes for its tenant. */
interface RouteKeys {
  route: string;
  /** Allocation key of its next hop (VSID + destination MAC). */
  nexthop: string;
  vsid: string;
  /** tenant_forward value for the VSID counter index it was last built with. */
  forwardIndex?: number;
  forward?: string;
}

/** Per-switch working state while compiling it. */
export interface SwitchContext {
  sw: Switch;
  /** Where the unit being compiled puts its entities. */
  state: EntitySink;
  vsidIndex: IdPool;
  nve: IdPool;
  nexthop: IdPool;
  /** What the unit being compiled uses. */
  unit: UnitUsage;
  /** Tunnels toward each (VSID, tunnel endpoint). */
  toNode: Map<VirtualSubnet, Map<TunnelEndpoint, Tunnel>>;
}

/** How a switch reaches a tunnel endpoint in a VSID: its PA, nve id and the mac-table value. */
interface Tunnel {
  value: string;
  pa: IpAddress;
  nveId: number;
}

export class FabricCompiler {
  readonly w: TableWriters;
  private readonly underlay: Underlay;
  private readonly alloc: IdAllocator;
  readonly domains: Map<string, RoutingDomain>;
  private readonly vrf: IdPool;
  private readonly endpointKeys = new Map<Endpoint, EndpointKeys>();
  private readonly routeKeys = new Map<DomainRoute, RouteKeys>();
  /** tenant_nexthop keys by next hop id (ids repeat across switches). */
  private readonly nexthopKeys: string[] = [];
  private readonly trees: FabricLayout["trees"];
  private readonly subnetsBySwitch: FabricLayout["subnetsBySwitch"];
  private readonly routers: FabricLayout["routers"];
  private readonly routeGroups: FabricLayout["routeGroups"];
  private readonly memberVsids: FabricLayout["memberVsids"];
  private readonly bits: {
    vsidIndex: number;
    nveId: number;
    nexthop: number;
    mcast: number;
    ecmp: number;
  };
  private readonly issues: IntentIssue[] = [];

  constructor(
    readonly fabric: Fabric,
    private readonly codec: CanonicalCodec,
    previous: Allocations | undefined,
    readonly options: CompileOptions,
    /** Ids are only looked up (an incremental recompile's view of the previous fabric). */
    lookupOnly = false,
  ) {
    this.w = tableWriters(codec);
    this.alloc = new IdAllocator(previous, lookupOnly);
    this.bits = {
      vsidIndex: codec.paramBitwidth("set_vsid", "vsid_index"),
      nveId: codec.paramBitwidth("bridge_to_nve", "nve_id"),
      nexthop: codec.paramBitwidth("set_tenant_nexthop", "nexthop_id"),
      mcast: codec.paramBitwidth("set_flood_groups", "group"),
      ecmp: codec.paramBitwidth("set_ecmp_group", "group_id"),
    };
    this.vrf = this.alloc.pool("vrf", 1, 2 ** codec.paramBitwidth("set_vsid", "vrf_id") - 1);
    this.checkPorts();
    const layout = layoutOf(fabric);
    this.underlay = layout.underlay;
    this.domains = layout.domains;
    this.trees = layout.trees;
    this.subnetsBySwitch = layout.subnetsBySwitch;
    this.routers = layout.routers;
    this.routeGroups = layout.routeGroups;
    this.memberVsids = layout.memberVsids;
    this.issues.push(...layout.issues);
    for (const tenant of fabric.tenants) this.vrf.id(tenant.name);
  }

  compile(): CompiledFabric {
    const switches = new Map<string, SwitchState>();
    const usage = new Map<string, SwitchUsage>();
    for (const sw of this.fabric.switches) {
      try {
        const compiled = this.compileSwitch(sw);
        switches.set(sw.name, compiled.state);
        usage.set(sw.name, compiled.usage);
      } catch (error) {
        this.report(error, sw.path);
      }
    }
    if (this.issues.length > 0) throw new IntentError(this.issues);
    // Per-endpoint key caches only share strings within one compile.
    this.endpointKeys.clear();
    this.routeKeys.clear();
    return {
      switches,
      allocations: this.alloc.result(),
      basis: { fabric: this.fabric, usage, options: this.options },
    };
  }

  /** Allocations after this compiler's asks (see IdAllocator.pool). */
  pool(name: string): IdPool | undefined {
    return this.alloc.existing(name);
  }

  private report(error: unknown, path: IntentPath): void {
    if (error instanceof UnderlayError)
      this.issues.push({ path: error.path, message: error.message });
    else if (error instanceof DesiredStateConflictError || error instanceof IdExhaustedError) {
      this.issues.push({ path, message: error.message });
    } else if (error instanceof IntentError) this.issues.push(...error.issues);
    else throw error;
  }

  /** Port numbers must fit the target's port type (bmv2: 9 bits). */
  private checkPorts(): void {
    const bits = this.codec.fieldBitwidth("port_type", "port");
    const issues: IntentIssue[] = [];
    for (const sw of this.fabric.switches) {
      const ports = [
        ...sw.accessPorts.map((p) => ({ port: p.port, path: [...p.path, "port"] })),
        ...sw.fabricPorts.map((p) => ({ port: p.port, path: [...p.path, "port"] })),
        { port: sw.cpuPort, path: [...sw.path, "cpuPort"] },
      ];
      for (const { port, path } of ports) {
        if (port >= 2 ** bits)
          issues.push({
            path,
            message: `port ${port} does not fit the switch's ${bits}-bit port numbers`,
          });
      }
    }
    if (issues.length > 0) throw new IntentError(issues);
  }

  /** A context to compile units of `sw` with, into `sink`. */
  context(sw: Switch, sink: EntitySink): SwitchContext {
    return {
      sw,
      state: sink,
      vsidIndex: this.alloc.pool(`${sw.name}/vsid-index`, 1, 2 ** this.bits.vsidIndex - 1),
      nve: this.alloc.pool(`${sw.name}/nve`, 1, 2 ** this.bits.nveId - 1),
      nexthop: this.alloc.pool(`${sw.name}/nexthop`, 1, 2 ** this.bits.nexthop - 1),
      unit: newUnitUsage(),
      toNode: new Map(),
    };
  }

  /** The units of a switch's state, in compile order (the order new ids are handed out in). */
  unitsOf(sw: Switch, only?: UnitSelection): CompileUnit[] {
    const units: CompileUnit[] = [];
    const selected = only && this.selectedEndpoints(only.endpoints);
    for (const subnet of this.subnetsBySwitch.get(sw) ?? []) {
      if (!selected) {
        units.push({ kind: "subnet", subnet });
        for (const endpoint of subnet.endpoints) units.push({ kind: "endpoint", subnet, endpoint });
        continue;
      }
      for (const endpoint of selected.get(subnet.vsid) ?? []) {
        units.push({ kind: "endpoint", subnet, endpoint });
      }
    }
    for (const domain of this.domains.values()) {
      if (!(this.routers.get(domain.tenant) ?? []).includes(sw)) continue;
      const groups = this.routeGroups.get(domain.tenant) ?? new Map<string, RouteGroup>();
      const selected =
        !only || only.tenants.has(domain.tenant)
          ? [...groups]
          : [...only.targets]
              .filter((target) => groups.has(target))
              .map((target) => [target, groups.get(target) as RouteGroup] as const)
              .sort(([, a], [, b]) => a.order - b.order);
      for (const [target, { routes }] of selected) {
        units.push({ kind: "routing", domain, target, routes });
      }
    }
    return units;
  }

  /** The named endpoints of this fabric per VSID, in the order their VSID lists them. */
  private selectedEndpoints(names: Set<string>): Map<number, Endpoint[]> {
    const byVsid = new Map<number, Endpoint[]>();
    for (const name of names) {
      const endpoint = this.fabric.endpointByName.get(name);
      if (!endpoint) continue;
      const list = byVsid.get(endpoint.vsid) ?? [];
      list.push(endpoint);
      byVsid.set(endpoint.vsid, list);
    }
    // A VSID lists its endpoints in the document's order: their paths' (endpoints[i]).
    const position = (e: Endpoint) => e.path[1] as number;
    for (const list of byVsid.values()) list.sort((a, b) => position(a) - position(b));
    return byVsid;
  }

  /** Compiles one unit into ctx.state; returns what it used (in `usage`, emptied first). */
  compileUnit(ctx: SwitchContext, unit: CompileUnit, usage = newUnitUsage()): UnitUsage {
    for (const keys of usage.ids.values()) keys.clear();
    usage.tunnels.clear();
    usage.encap.clear();
    ctx.unit = usage;
    if (unit.kind === "subnet") this.subnet(ctx, unit.subnet);
    else if (unit.kind === "endpoint") this.endpoint(ctx, unit.subnet, unit.endpoint);
    else this.routing(ctx, unit.domain, unit.routes);
    return ctx.unit;
  }

  private compileSwitch(sw: Switch): { state: SwitchState; usage: SwitchUsage } {
    const state = new SwitchState(sw.name);
    const mcastMax = 2 ** this.bits.mcast - 1;
    const ctx = this.context(sw, state);
    const usage: SwitchUsage = { ids: new Map(), tunnels: new Map(), encap: new Map() };
    if (2 * (2 ** this.bits.vsidIndex - 1) >= mcastMax) {
      throw new IntentError([
        {
          path: sw.path,
          message: "the P4 program's multicast group ids are too narrow for two groups per VSID",
        },
      ]);
    }
    this.switchConfig(ctx);
    this.ports(ctx);
    this.ownAddresses(ctx);
    this.underlayRoutes(ctx);
    this.multicastTransit(ctx);
    // One usage record serves every unit in turn: a fabric has many small units.
    const used = newUnitUsage();
    for (const unit of this.unitsOf(sw)) addUsage(usage, this.compileUnit(ctx, unit, used), 1);
    this.tunnels(sw, state, usage);
    this.checkCapacity(sw, state.collections);
    return { state, usage };
  }

  private switchConfig({ sw, state }: SwitchContext): void {
    const s = this.fabric.settings;
    state.add(
      this.w.switchConfig.collection,
      "",
      this.w.switchConfig.set.value({
        encap_ttl: s.encapTtl,
        punt_vsid_ffffff: s.puntVendorVsid ? 1 : 0,
      }),
    );
    state.add(
      CLONE_SESSIONS,
      String(targetProfile(sw.target).cpuCloneSession),
      cloneSessionText([{ port: sw.cpuPort, instance: 0 }], 0),
    );
    state.add(this.w.learnDigest, "", LEARN_DIGEST_CONFIG);
  }

  private ports({ sw, state }: SwitchContext): void {
    const w = this.w;
    for (const port of sw.accessPorts) {
      state.add(
        w.portType.key.collection,
        w.portType.key.key({ port: port.port }),
        w.portType.access.value(),
      );
      for (const { vlan, vsid } of port.vlans) {
        const classify = w.portVsid.set.value({ vsid });
        const egress = w.egressVlan.key.key({ port: port.port, vsid });
        if (vlan === 0) {
          // Priority-tagged frames (VLAN 0) belong to the untagged VSID (IEEE 802.1Q).
          state.add(
            w.portVsid.key.collection,
            w.portVsid.key.key({ port: port.port, tagged: 0, vlan_id: 0 }),
            classify,
          );
          state.add(
            w.portVsid.key.collection,
            w.portVsid.key.key({ port: port.port, tagged: 1, vlan_id: 0 }),
            classify,
          );
          state.add(w.egressVlan.key.collection, egress, w.egressVlan.untagged.value());
        } else {
          state.add(
            w.portVsid.key.collection,
            w.portVsid.key.key({ port: port.port, tagged: 1, vlan_id: vlan }),
            classify,
          );
          state.add(
            w.egressVlan.key.collection,
            egress,
            w.egressVlan.tagged.value({ vlan_id: vlan }),
          );
        }
      }
    }
    for (const port of sw.fabricPorts) {
      state.add(
        w.portType.key.collection,
        w.portType.key.key({ port: port.port }),
        w.portType.fabric.value(),
      );
      const tag =
        port.vlan === undefined
          ? w.egressVlan.untagged.value()
          : w.egressVlan.tagged.value({ vlan_id: port.vlan });
      state.add(
        w.egressVlan.key.collection,
        w.egressVlan.key.key({ port: port.port, vsid: 0 }),
        tag,
      );
      state.add(
        w.portMtu.key.collection,
        w.portMtu.key.key({ port: port.port }),
        w.portMtu.set.value({ mtu: port.mtu }),
      );
    }
  }

  /** Router MAC, own PAs (local_pa, ARP/ND answers on fabric ports under VSID 0). */
  private ownAddresses({ sw, state }: SwitchContext): void {
    const w = this.w;
    state.add(
      w.myMac.key.collection,
      w.myMac.key.key({ dst_mac: ternary(sw.routerMac.hex, ALL_ONES_48) }, PRIORITY.exact),
      w.myMac.set.value(),
    );
    for (const pa of sw.providerAddresses) {
      const family = pa.address.family;
      state.add(
        w.localPa[family].key.collection,
        w.localPa[family].key.key({ pa: pa.address.hex }),
        w.localPa[family].set.value(),
      );
      if (family === 4) {
        state.add(
          w.arp.key.collection,
          w.arp.key.key({ vsid: 0, ip: pa.address.hex }),
          w.arp.reply.value({ mac: sw.routerMac.hex }),
        );
      } else {
        state.add(
          w.nd.key.collection,
          w.nd.key.key({ vsid: 0, ip: pa.address.hex }),
          w.nd.advertise.value({ mac: sw.routerMac.hex, router: 1 }),
        );
      }
    }
  }

  private underlayRoutes({ sw, state }: SwitchContext): void {
    const w = this.w;
    const groups = this.alloc.pool(
      `${sw.name}/ecmp-group`,
      1,
      Math.min(2 ** this.bits.ecmp - 1, this.codec.tableSize("ecmp")),
    );
    const members = this.alloc.pool(`${sw.name}/ecmp-member`, 1, 2 ** 31 - 1);
    const maxGroup = this.codec.actionProfileMaxGroupSize(w.ecmp.profile);
    for (const route of this.underlay.routesAt(sw)) {
      const family = route.prefix.family;
      const table = w.route[family];
      const key = table.key.key({ dst_pa: lpm(route.prefix.hex, route.prefix.length) });
      const explain = () =>
        `${route.prefix.text} is routed two different ways at ${sw.name} (a static route overlapping a PA or another route?)`;
      if (route.nextHops.length === 1) {
        const hop = route.nextHops[0] as NextHop;
        state.add(
          table.key.collection,
          key,
          table.nextHop.value({ port: hop.port, smac: sw.routerMac.hex, dmac: hop.mac.hex }),
          explain,
        );
        continue;
      }
      if (route.nextHops.length > maxGroup) {
        throw new IntentError([
          {
            path: route.path,
            message: `${route.prefix.text} has ${route.nextHops.length} equal-cost next hops at ${sw.name}; ECMP groups hold at most ${maxGroup}`,
          },
        ]);
      }
      const hops = route.nextHops.map((hop) => `${hop.port}/${hop.mac.hex}`);
      const group = groups.id(hops.join(","));
      const memberIds = route.nextHops.map((hop, i) => {
        const id = members.id(hops[i] as string);
        state.add(
          w.ecmp.members,
          String(id),
          w.ecmp.member.value({ port: hop.port, smac: sw.routerMac.hex, dmac: hop.mac.hex }),
        );
        return { id, weight: 1 };
      });
      state.add(w.ecmp.groups, String(group), groupMembersText(memberIds));
      state.add(w.ecmp.key.collection, w.ecmp.key.key({ group_id: group }), groupTarget(group));
      state.add(table.key.collection, key, table.ecmp.value({ group_id: group }), explain);
    }
  }

  /** PA multicast groups this switch relays (on the tree, not a receiver). */
  private multicastTransit({ sw, state }: SwitchContext): void {
    const pool = this.alloc.pool(
      `${sw.name}/underlay-mcast`,
      2 ** (this.bits.vsidIndex + 1),
      2 ** this.bits.mcast - 1,
    );
    for (const tree of this.trees.values()) {
      const ports = tree.ports.get(sw);
      if (!ports) continue;
      const family = tree.group.family;
      state.add(
        this.w.myMac.key.collection,
        this.w.myMac.key.key({ dst_mac: MULTICAST_MAC_RANGE[family] }, PRIORITY.exact),
        this.w.myMac.set.value(),
      );
      if (tree.members.has(sw)) continue;
      const id = pool.id(tree.group.text);
      state.add(
        MULTICAST_GROUPS,
        String(id),
        replicasText(ports.map((port) => ({ port, instance: 0 }))),
      );
      const route = this.w.route[family];
      const length = family === 4 ? 32 : 128;
      state.add(
        route.key.collection,
        route.key.key({ dst_pa: lpm(tree.group.hex, length) }),
        route.mcast.value({ group: id, smac: sw.routerMac.hex }),
        () => `multicast group ${tree.group.text} is also routed as a unicast prefix at ${sw.name}`,
      );
    }
  }

  /** The PA of `node` in a VSID that `ctx.sw` tunnels to, with its nve id (allocated on first use). */
  private tunnelTo(ctx: SwitchContext, subnet: VirtualSubnet, node: TunnelEndpoint): Tunnel {
    let toNode = ctx.toNode.get(subnet);
    if (!toNode) {
      toNode = new Map();
      ctx.toNode.set(subnet, toNode);
    }
    const cached = toNode.get(node);
    if (cached) {
      if (!ctx.unit.tunnels.has(cached.nveId)) {
        noteUse(ctx.unit, ctx.nve, cached.pa.text);
        ctx.unit.tunnels.set(cached.nveId, cached.pa);
      }
      return cached;
    }
    const family = tunnelFamily(ctx.sw, node, subnet.vsid, this.fabric.settings.tunnelFamily);
    if (!family) {
      throw new IntentError([
        {
          path: subnet.path,
          message: `${ctx.sw.name} and ${node.name} have no provider address family in common for VSID ${formatVsid(subnet.vsid)}`,
        },
      ]);
    }
    const pa = providerAddressFor(node, subnet.vsid, family) as IpAddress;
    // Throws, naming the node, when the underlay has no way to that PA.
    this.underlay.nextHopsToPa(ctx.sw, node, pa);
    const nveId = ask(ctx, ctx.nve, pa.text);
    ctx.unit.tunnels.set(nveId, pa);
    const tunnel = { value: this.w.mac.toNve.value({ nve_id: nveId }), pa, nveId };
    toNode.set(node, tunnel);
    return tunnel;
  }

  private subnet(ctx: SwitchContext, subnet: VirtualSubnet): void {
    const { sw, state } = ctx;
    const w = this.w;
    const vsid = subnet.vsid;
    const index = ask(ctx, ctx.vsidIndex, String(vsid));
    ctx.unit.encap.add(vsid);
    const gateway = subnet.gateway;
    state.add(
      w.vsid.key.collection,
      w.vsid.key.key({ vsid }),
      w.vsid.set.value({
        vsid_index: index,
        vrf_id: this.vrf.id(subnet.tenant),
        gw_mac: gateway ? gateway.mac.hex : 0,
        learn_local: subnet.learnLocal ? 1 : 0,
        learn_remote: subnet.learnRemote ? 1 : 0,
        source_guard: subnet.sourceGuard ? 1 : 0,
        pa_check: subnet.paValidation ? 1 : 0,
      }),
    );

    // Flooding (R10): local ports rid 0, then tunnel copies.
    const localPorts = sw.accessPorts
      .filter((p) => p.vlans.some((m) => m.vsid === vsid))
      .map((p) => ({ port: p.port, instance: 0 }));
    const tunnelCopies: { port: number; instance: number }[] = [];
    if (subnet.flood.mode === "head-end") {
      for (const node of [...subnet.switches, ...subnet.nves]) {
        if (node === sw) continue;
        const tunnel = this.tunnelTo(ctx, subnet, node);
        const hops = this.underlay.nextHopsToPa(sw, node, tunnel.pa);
        // One fixed path per destination (a group node names one port); spread by id.
        const hop = hops[tunnel.nveId % hops.length] as NextHop;
        tunnelCopies.push({ port: hop.port, instance: tunnel.nveId });
        state.add(
          w.floodReplica.key.collection,
          w.floodReplica.key.key({ rid: tunnel.nveId }),
          w.floodReplica.set[tunnel.pa.family].value({
            dst_pa: tunnel.pa.hex,
            smac: sw.routerMac.hex,
            dmac: hop.mac.hex,
          }),
        );
      }
    } else {
      const group = subnet.flood.group;
      const tree = this.trees.get(group.text);
      const rid = ask(ctx, ctx.nve, `group:${group.text}`);
      state.add(
        w.localPa[group.family].key.collection,
        w.localPa[group.family].key.key({ pa: group.hex }),
        w.localPa[group.family].set.value(),
      );
      state.add(
        w.floodReplica.key.collection,
        w.floodReplica.key.key({ rid }),
        w.floodReplica.set[group.family].value({
          dst_pa: group.hex,
          smac: sw.routerMac.hex,
          dmac: multicastMac(group),
        }),
      );
      for (const port of tree?.ports.get(sw) ?? []) tunnelCopies.push({ port, instance: rid });
    }
    const floodGroup = 2 * index - 1;
    const localGroup = 2 * index;
    state.add(MULTICAST_GROUPS, String(floodGroup), replicasText([...localPorts, ...tunnelCopies]));
    state.add(MULTICAST_GROUPS, String(localGroup), replicasText(localPorts));
    state.add(
      w.vsidFlood.key.collection,
      w.vsidFlood.key.key({ vsid }),
      w.vsidFlood.set.value({ group: floodGroup, local_group: localGroup }),
    );

    // R17: NVGRE into this VSID only from its NVEs (and the routers and gateways that send into it).
    if (subnet.paValidation) {
      for (const sender of this.sendersInto(subnet)) {
        if (sender === sw) continue;
        const family = tunnelFamily(sender, sw, vsid, this.fabric.settings.tunnelFamily);
        if (!family) continue;
        const pa = providerAddressFor(sender, vsid, family) as IpAddress;
        state.add(
          w.vsidNve[family].key.collection,
          w.vsidNve[family].key.key({ vsid, pa: pa.hex }),
          w.vsidNve[family].permit.value(),
        );
      }
    }

    if (gateway) {
      for (const gw of gateway.addresses) {
        if (gw.address.family === 4) {
          state.add(
            w.arp.key.collection,
            w.arp.key.key({ vsid, ip: gw.address.hex }),
            w.arp.reply.value({ mac: gateway.mac.hex }),
          );
        } else {
          state.add(
            w.nd.key.collection,
            w.nd.key.key({ vsid, ip: gw.address.hex }),
            w.nd.advertise.value({ mac: gateway.mac.hex, router: 1 }),
          );
        }
      }
    }
  }

  private sendersInto(subnet: VirtualSubnet): TunnelEndpoint[] {
    const senders = new Set<TunnelEndpoint>([...subnet.switches, ...subnet.nves]);
    const domain = this.domains.get(subnet.tenant);
    if (domain?.targetVsids.has(subnet.vsid)) {
      for (const sw of this.routers.get(subnet.tenant) ?? []) senders.add(sw);
    }
    for (const nve of domain?.gatewayNves.get(subnet.vsid) ?? []) senders.add(nve);
    return [...senders];
  }

  private keysOf(endpoint: Endpoint): EndpointKeys {
    let keys = this.endpointKeys.get(endpoint);
    if (!keys) {
      const w = this.w;
      const arp: string[] = [];
      const nd: string[] = [];
      for (const ip of endpoint.ips) {
        if (ip.family === 4) arp.push(w.arp.key.key({ vsid: endpoint.vsid, ip: ip.hex }));
        else nd.push(w.nd.key.key({ vsid: endpoint.vsid, ip: ip.hex }));
      }
      keys = {
        mac: w.mac.key.key({ vsid: endpoint.vsid, dst_mac: endpoint.mac.hex }),
        arp: arp.length > 0 ? arp : NO_KEYS,
        nd: nd.length > 0 ? nd : NO_KEYS,
        arpValue: w.arp.reply.value({ mac: endpoint.mac.hex }),
        ndValue: w.nd.advertise.value({ mac: endpoint.mac.hex, router: 0 }),
      };
      this.endpointKeys.set(endpoint, keys);
    }
    return keys;
  }

  private endpoint(ctx: SwitchContext, subnet: VirtualSubnet, endpoint: Endpoint): void {
    const { sw, state } = ctx;
    const w = this.w;
    const keys = this.keysOf(endpoint);
    const location = endpoint.location;
    const conflict = () =>
      `endpoint ${endpoint.name}'s MAC ${endpoint.mac.text} in VSID ${formatVsid(subnet.vsid)} is also a gateway NVE's next hop`;
    if (location.kind === "port" && location.switch === sw.name) {
      state.add(
        w.mac.key.collection,
        keys.mac,
        w.mac.toPort.value({ port: location.port }),
        conflict,
      );
      if (subnet.sourceGuard) this.sourceGuard(ctx, subnet, endpoint, location.port);
      if (subnet.learnLocal) {
        state.add(
          w.learnedMac.key.collection,
          w.learnedMac.key.key({
            vsid: subnet.vsid,
            mac: endpoint.mac.hex,
            port: location.port,
            from_nve: 0,
            pa_is_v6: 0,
            pa: 0,
          }),
          this.learnedMacValue(endpoint),
        );
      }
    } else {
      const node = this.nodeOf(endpoint);
      const tunnel = this.tunnelTo(ctx, subnet, node);
      state.add(w.mac.key.collection, keys.mac, tunnel.value, conflict);
      if (subnet.learnRemote) {
        // The outer source this switch sees from that NVE is the PA it tunnels to (same
        // family both ways), usually the same PA for every switch: the key is shared.
        if (keys.learnedRemote?.pa !== tunnel.pa) {
          keys.learnedRemote = {
            pa: tunnel.pa,
            key: w.learnedMac.key.key({
              vsid: subnet.vsid,
              mac: endpoint.mac.hex,
              port: 0,
              from_nve: 1,
              pa_is_v6: tunnel.pa.family === 6 ? 1 : 0,
              pa: tunnel.pa.hex,
            }),
          };
        }
        // An endpoint on another switch's port ages there, where all its frames enter; one
        // behind a remote NVE ages wherever its frames arrive (the daemon asks them all).
        state.add(
          w.learnedMac.key.collection,
          keys.learnedRemote.key,
          location.kind === "nve" ? this.learnedMacValue(endpoint) : w.learnedMac.known.value(),
        );
      }
    }
    for (const key of keys.arp) state.add(w.arp.key.collection, key, keys.arpValue);
    for (const key of keys.nd) state.add(w.nd.key.collection, key, keys.ndValue);
  }

  /** known_source, with the ageing idle timeout for learned endpoints. */
  private learnedMacValue(endpoint: Endpoint): string {
    const known = this.w.learnedMac.known.value();
    const timeout = this.options.learnedIdleTimeoutNs ?? 0;
    return endpoint.learned ? withIdleTimeout(known, timeout) : known;
  }

  private nodeOf(endpoint: Endpoint): TunnelEndpoint {
    const location = endpoint.location;
    return location.kind === "nve"
      ? (this.fabric.nveByName.get(location.nve) as Nve)
      : (this.fabric.switchByName.get(location.switch) as Switch);
  }

  /**
   * R17 on access ports: the endpoint's MAC on its port, with its CAs; also non-IP frames, IPv4
   * 0.0.0.0 (DHCP, ARP probes), IPv6 :: (DAD) and link-local sources (ND), none of which can
   * reach beyond the VSID's own L2 segment.
   */
  private sourceGuard(
    { state }: SwitchContext,
    subnet: VirtualSubnet,
    endpoint: Endpoint,
    port: number,
  ): void {
    const w = this.w.sourceGuard;
    const permit = w.permit.value();
    const add = (family: number, ca: string) =>
      state.add(
        w.key.collection,
        w.key.key(
          {
            vsid: subnet.vsid,
            port,
            src_mac: endpoint.mac.hex,
            ca_family: ternary(String(family), "3"),
            src_ca: ca,
          },
          PRIORITY.exact,
        ),
        permit,
      );
    const { NONE, IPV4, IPV6 } = w.caFamily;
    add(NONE, "*");
    const v4 = endpoint.ips.filter((ip) => ip.family === 4);
    const v6 = endpoint.ips.filter((ip) => ip.family === 6);
    if (v4.length > 0) add(IPV4, ternary("0", ALL_ONES_128));
    for (const ip of v4) add(IPV4, ternary(ip.hex, ALL_ONES_128));
    if (v6.length > 0) {
      add(IPV6, ternary("0", ALL_ONES_128));
      add(IPV6, ternary(LINK_LOCAL.value, LINK_LOCAL.mask));
    }
    for (const ip of v6) add(IPV6, ternary(ip.hex, ALL_ONES_128));
  }

  /** Routes of a tenant's routing domain (R14) on a switch that routes for it. */
  private routing(ctx: SwitchContext, domain: RoutingDomain, routes: DomainRoute[]): void {
    const { sw, state } = ctx;
    const w = this.w;
    const vrf = this.vrf.id(domain.tenant);
    const member = this.memberVsids.get(sw) as Set<number>;
    for (const route of routes) {
      const target = route.target;
      const subnet = this.fabric.subnetByVsid.get(target.vsid) as VirtualSubnet;
      const table = w.tenantRoute[route.prefix.family];
      let keys = this.routeKeys.get(route);
      if (!keys) {
        keys = {
          route: table.key.key({ vrf_id: vrf, dst_ca: lpm(route.prefix.hex, route.prefix.length) }),
          nexthop: targetKey(target.vsid, target.mac),
          vsid: String(target.vsid),
        };
        this.routeKeys.set(route, keys);
      }
      const nexthop = ask(ctx, ctx.nexthop, keys.nexthop);
      state.add(table.key.collection, keys.route, table.nexthop.value({ nexthop_id: nexthop }));
      let nexthopKey = this.nexthopKeys[nexthop];
      if (nexthopKey === undefined) {
        nexthopKey = w.tenantNexthop.key.key({ nexthop_id: nexthop });
        this.nexthopKeys[nexthop] = nexthopKey;
      }
      // The VSID's counter index is per switch but usually the same on all: share the value.
      const index = ask(ctx, ctx.vsidIndex, keys.vsid);
      if (keys.forwardIndex !== index) {
        keys.forwardIndex = index;
        keys.forward = w.tenantNexthop.forward.value({
          vsid: target.vsid,
          vsid_index: index,
          smac: (subnet.gateway as { mac: { hex: string } }).mac.hex,
          dmac: target.mac.hex,
        });
      }
      state.add(w.tenantNexthop.key.collection, nexthopKey, keys.forward as string);
      ctx.unit.encap.add(target.vsid);
      // Members have the endpoint's mac entry already; others need one toward its NVE.
      if (target.nve || !member.has(target.vsid)) {
        const node = target.nve ?? this.nodeOf(target.endpoint as Endpoint);
        if (node === sw) continue;
        const tunnel = this.tunnelTo(ctx, subnet, node);
        state.add(
          w.mac.key.collection,
          w.mac.key.key({ vsid: target.vsid, dst_mac: target.mac.hex }),
          tunnel.value,
          () =>
            `${target.label}'s MAC ${target.mac.text} in VSID ${formatVsid(target.vsid)} is also an endpoint's at another place`,
        );
      }
    }
  }

  /** nve entries for every tunnel destination used; source PAs per VSID (R8). */
  private tunnels(sw: Switch, state: EntitySink, usage: SwitchUsage): void {
    for (const [id, { pa }] of usage.tunnels) {
      const nve = this.nveEntity(id, pa);
      state.add(nve.collection, nve.key, nve.value);
    }
    const srcPa = this.w.srcPa;
    const defaults = this.srcPas(sw, -1);
    if (defaults.pa_v4 !== "0" || defaults.pa_v6 !== "0") {
      state.add(
        srcPa.key.collection,
        srcPa.key.key({ vsid: "*", nve_id: "*" }, PRIORITY.srcPaDefault),
        srcPa.set.value(defaults),
      );
    }
    for (const vsid of usage.encap.keys()) {
      const entity = this.srcPaEntity(sw, vsid);
      if (entity) state.add(entity.collection, entity.key, entity.value);
    }
  }

  /** The nve entry of a tunnel destination. */
  nveEntity(id: number, pa: IpAddress): Entity {
    const nve = this.w.nve;
    return {
      collection: nve.key.collection,
      key: nve.key.key({ nve_id: id }),
      value: nve.set[pa.family].value({ pa: pa.hex }),
    };
  }

  /** src_pa's parameters for a VSID (-1: the switch's default PAs); "0" where it has none. */
  private srcPas(sw: Switch, vsid: number): { pa_v4: string; pa_v6: string } {
    return {
      pa_v4: providerAddressFor(sw, vsid, 4 as IpFamily)?.hex ?? "0",
      pa_v6: providerAddressFor(sw, vsid, 6 as IpFamily)?.hex ?? "0",
    };
  }

  /** The src_pa entry of a VSID the switch encapsulates in, when its PAs are not the defaults. */
  srcPaEntity(sw: Switch, vsid: number): Entity | undefined {
    const defaults = this.srcPas(sw, -1);
    const pas = this.srcPas(sw, vsid);
    if (pas.pa_v4 === defaults.pa_v4 && pas.pa_v6 === defaults.pa_v6) return undefined;
    const srcPa = this.w.srcPa;
    return {
      collection: srcPa.key.collection,
      key: srcPa.key.key(
        { vsid: ternary(vsid.toString(16), "ffffff"), nve_id: "*" },
        PRIORITY.srcPaVsid,
      ),
      value: srcPa.set.value(pas),
    };
  }

  /** Every table fits its P4Info size on this switch, or the intent is refused. */
  checkCapacity(sw: Switch, collections: Map<string, { size: number }>): void {
    const issues: IntentIssue[] = [];
    for (const [collection, entries] of collections) {
      const table = tableOfCollection(collection);
      if (table === undefined) continue;
      const size = this.codec.tableSize(table);
      if (size > 0 && entries.size > size) {
        issues.push({
          path: sw.path,
          message: `${sw.name} would need ${entries.size} entries in table ${table}, which holds ${size}`,
        });
      }
    }
    if (issues.length > 0) throw new IntentError(issues);
  }
}

export interface Entity {
  collection: string;
  key: string;
  value: string;
}

function noteUse(unit: UnitUsage, pool: IdPool, key: string): void {
  let keys = unit.ids.get(pool);
  if (!keys) {
    keys = new Set();
    unit.ids.set(pool, keys);
  }
  keys.add(key);
}

/** The id of `key` in `pool`, noted as used by the unit being compiled. */
function ask(ctx: SwitchContext, pool: IdPool, key: string): number {
  noteUse(ctx.unit, pool, key);
  return pool.id(key);
}

/** Counts (sign 1) or uncounts (sign -1) what a unit used into a switch's usage. */
export function addUsage(usage: SwitchUsage, unit: UnitUsage, sign: 1 | -1): void {
  for (const [pool, keys] of unit.ids) {
    let counts = usage.ids.get(pool.name);
    if (!counts) {
      counts = new Map();
      usage.ids.set(pool.name, counts);
    }
    for (const key of keys) changeCount(counts, key, sign);
  }
  for (const [id, pa] of unit.tunnels) {
    const n = (usage.tunnels.get(id)?.uses ?? 0) + sign;
    if (n > 0) usage.tunnels.set(id, { pa, uses: n });
    else usage.tunnels.delete(id);
  }
  for (const vsid of unit.encap) changeCount(usage.encap, vsid, sign);
}

/** Adds `delta` to a use count; a count that reaches 0 leaves the map. */
export function changeCount<K>(counts: Map<K, number>, key: K, delta: number): void {
  const n = (counts.get(key) ?? 0) + delta;
  if (n > 0) counts.set(key, n);
  else counts.delete(key);
}
