/**
 * The underlay as the fabric file describes it: switches joined by fabric links, PAs of
 * switches, NVE hosts plugged into fabric ports, and prefixes that leave the fabric at a switch.
 * Routes are derived from the links (shortest paths by hop count, every equal-cost next hop in
 * ECMP), so they can never disagree with the cabling the file declares; the file only states
 * what lies outside the fabric (underlay.routes, NVE attachments).
 *
 * PA multicast groups (R10) are carried on a bidirectional shared tree: a breadth-first tree
 * from a root spine, pruned to the switches that lead to members. Each switch on it relays the
 * group to its tree ports except the one it came in on (the data plane prunes the ingress port).
 */
import {
  hostPrefix,
  type IpAddress,
  type IpPrefix,
  type MacAddress,
  prefixContains,
} from "../intent/addresses.js";
import type { IntentPath } from "../intent/errors.js";
import type { Fabric, Nve, Switch, TunnelEndpoint } from "../intent/model.js";

export interface NextHop {
  port: number;
  mac: MacAddress;
}

/** A prefix reachable through the fabric: where it is (a switch) and how that switch reaches it. */
export interface UnderlayDestination {
  prefix: IpPrefix;
  at: Switch;
  /** Next hops at `at`; empty = `at` itself owns the prefix (its own PA). */
  nextHops: NextHop[];
  path: IntentPath;
}

export interface UnderlayRouteEntry {
  prefix: IpPrefix;
  nextHops: NextHop[];
  path: IntentPath;
}

/** Something in the intent the underlay cannot carry; the compiler reports it with its path. */
export class UnderlayError extends Error {
  override readonly name = "UnderlayError";
  constructor(
    readonly path: IntentPath,
    message: string,
  ) {
    super(message);
  }
}

export interface MulticastTree {
  group: IpAddress;
  /** Per switch on the tree: its tree ports (toward members and toward the root). */
  ports: Map<Switch, number[]>;
}

export class Underlay {
  /** Hop distance between switches; missing = unreachable. */
  private readonly distance = new Map<Switch, Map<Switch, number>>();
  private readonly neighbours = new Map<
    Switch,
    { port: number; peer: Switch; peerPort: number }[]
  >();
  readonly destinations: UnderlayDestination[] = [];
  private readonly hopCache = new Map<string, NextHop[]>();
  private readonly paCache = new Map<string, UnderlayDestination | undefined>();

  constructor(private readonly fabric: Fabric) {
    for (const sw of fabric.switches) {
      const links = [];
      for (const port of sw.fabricPorts) {
        const peer = port.peer && fabric.switchByName.get(port.peer.switch);
        if (peer && port.peer) links.push({ port: port.port, peer, peerPort: port.peer.port });
      }
      links.sort((a, b) => a.port - b.port);
      this.neighbours.set(sw, links);
    }
    for (const sw of fabric.switches) this.distance.set(sw, this.bfs(sw).distance);
    this.collectDestinations();
  }

  private bfs(root: Switch) {
    const distance = new Map<Switch, number>([[root, 0]]);
    const parent = new Map<Switch, { via: Switch; port: number; parentPort: number }>();
    const queue = [root];
    for (let i = 0; i < queue.length; i++) {
      const sw = queue[i] as Switch;
      for (const link of this.neighbours.get(sw) ?? []) {
        if (distance.has(link.peer)) continue;
        distance.set(link.peer, (distance.get(sw) ?? 0) + 1);
        parent.set(link.peer, { via: sw, port: link.peerPort, parentPort: link.port });
        queue.push(link.peer);
      }
    }
    return { distance, parent };
  }

  private collectDestinations() {
    for (const sw of this.fabric.switches) {
      for (const pa of sw.providerAddresses) {
        this.destinations.push({
          prefix: hostPrefix(pa.address),
          at: sw,
          nextHops: [],
          path: sw.path,
        });
      }
    }
    for (const nve of this.fabric.nves) {
      const attachment = nve.attachment;
      if (!attachment) continue;
      const at = this.fabric.switchByName.get(attachment.switch) as Switch;
      for (const pa of nve.providerAddresses) {
        this.destinations.push({
          prefix: hostPrefix(pa.address),
          at,
          nextHops: [{ port: attachment.port, mac: attachment.mac }],
          path: nve.path,
        });
      }
    }
    for (const route of this.fabric.underlayRoutes) {
      this.destinations.push({
        prefix: route.prefix,
        at: this.fabric.switchByName.get(route.switch) as Switch,
        nextHops: route.nextHops,
        path: route.path,
      });
    }
  }

  /** Ports of `from` on a shortest path to `to`, each with the neighbour's router MAC. */
  nextHopsToward(from: Switch, to: Switch): NextHop[] {
    const cacheKey = `${from.name}>${to.name}`;
    const cached = this.hopCache.get(cacheKey);
    if (cached) return cached;
    const total = this.distance.get(from)?.get(to);
    const hops: NextHop[] = [];
    if (total !== undefined && total > 0) {
      for (const link of this.neighbours.get(from) ?? []) {
        if (this.distance.get(link.peer)?.get(to) === total - 1) {
          hops.push({ port: link.port, mac: link.peer.routerMac });
        }
      }
    }
    this.hopCache.set(cacheKey, hops);
    return hops;
  }

  /** The underlay routes `sw` needs: every destination but its own PAs. */
  routesAt(sw: Switch): UnderlayRouteEntry[] {
    const routes: UnderlayRouteEntry[] = [];
    for (const dest of this.destinations) {
      if (dest.at === sw) {
        if (dest.nextHops.length > 0)
          routes.push({ prefix: dest.prefix, nextHops: dest.nextHops, path: dest.path });
        continue;
      }
      const nextHops = this.nextHopsToward(sw, dest.at);
      if (nextHops.length > 0) routes.push({ prefix: dest.prefix, nextHops, path: dest.path });
    }
    return routes;
  }

  /**
   * How `from` reaches a tunnel endpoint's PA: the next hops toward it (empty when it is `from`
   * itself). Throws when the underlay has no way there.
   */
  nextHopsToPa(from: Switch, node: TunnelEndpoint, pa: IpAddress): NextHop[] {
    const dest = this.destinationOf(pa);
    if (!dest) {
      throw new UnderlayError(
        node.path,
        `${node.name}'s provider address ${pa.text} is not reachable: no switch owns it, no NVE attachment and no underlay route covers it`,
      );
    }
    if (dest.at === from) return dest.nextHops;
    const hops = this.nextHopsToward(from, dest.at);
    if (hops.length === 0) {
      throw new UnderlayError(
        node.path,
        `no fabric path from ${from.name} to ${dest.at.name}, where ${node.name}'s provider address ${pa.text} is`,
      );
    }
    return hops;
  }

  /** The longest-prefix destination covering a PA. */
  private destinationOf(pa: IpAddress): UnderlayDestination | undefined {
    if (this.paCache.has(pa.text)) return this.paCache.get(pa.text);
    let best: UnderlayDestination | undefined;
    for (const dest of this.destinations) {
      if (!prefixContains(dest.prefix, pa)) continue;
      if (!best || dest.prefix.length > best.prefix.length) best = dest;
    }
    this.paCache.set(pa.text, best);
    return best;
  }

  /**
   * The shared tree of a PA multicast group whose receivers are `members` (switches that decap
   * it) and `nves` (NVE hosts behind a fabric port). A member must be a leaf of the tree: the
   * data plane decapsulates traffic to a local group address and never also relays it.
   */
  multicastTree(group: IpAddress, members: Switch[], nves: Nve[], path: IntentPath): MulticastTree {
    const spines = this.fabric.switches.filter((s) => s.role === "spine");
    const candidates = (spines.length > 0 ? spines : this.fabric.switches)
      .slice()
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const root = candidates[0] as Switch;
    const { distance, parent } = this.bfs(root);
    const ports = new Map<Switch, Set<number>>();
    const addPort = (sw: Switch, port: number) => {
      const set = ports.get(sw) ?? new Set<number>();
      ports.set(sw, set);
      set.add(port);
    };
    const climb = (from: Switch) => {
      let sw = from;
      for (let up = parent.get(sw); up; up = parent.get(sw)) {
        addPort(sw, up.port);
        addPort(up.via, up.parentPort);
        sw = up.via;
      }
      if (!ports.has(sw)) ports.set(sw, new Set());
    };
    for (const member of members) {
      if (!distance.has(member)) {
        throw new UnderlayError(
          path,
          `${member.name} has no fabric path to ${root.name}, the root of multicast group ${group.text}`,
        );
      }
      climb(member);
    }
    for (const nve of nves) {
      const attachment = nve.attachment;
      if (!attachment) {
        throw new UnderlayError(
          nve.path,
          `NVE ${nve.name} receives multicast group ${group.text} but has no attachment: the fabric cannot tell which port leads to it`,
        );
      }
      const at = this.fabric.switchByName.get(attachment.switch) as Switch;
      if (!distance.has(at)) {
        throw new UnderlayError(
          nve.path,
          `${at.name} has no fabric path to ${root.name}, the root of multicast group ${group.text}`,
        );
      }
      climb(at);
      addPort(at, attachment.port);
    }
    for (const member of members) {
      const treePorts = ports.get(member);
      const up = parent.get(member)?.port;
      const relays = [...(treePorts ?? [])].filter((p) => p !== up);
      if (relays.length > 0) {
        throw new UnderlayError(
          path,
          `${member.name} would have to both receive multicast group ${group.text} and relay it (ports ${relays.join(", ")}); use head-end flooding, or a leaf-spine layout where members are leaves of the tree`,
        );
      }
    }
    return {
      group,
      ports: new Map([...ports].map(([sw, set]) => [sw, [...set].sort((a, b) => a - b)])),
    };
  }
}

/** The Ethernet address an IP multicast group maps to (RFC 1112 §6.4, RFC 2464 §7). */
export function multicastMac(group: IpAddress): string {
  if (group.family === 4) return (0x01005e000000n | (group.value & 0x7fffffn)).toString(16);
  return (0x333300000000n | (group.value & 0xffffffffn)).toString(16);
}
