/**
 * The packet replication engine: multicast groups and clone (mirroring) sessions, as
 * simple_switch configures them (McSimplePreLAG and MirroringSessions).
 */

import { piNodeOrder } from "./pi-node-order.js";

export interface Replica {
  /** egress_rid given to the copy (P4Runtime `instance`). */
  rid: number;
  port: number;
}

/** bmv2 MirroringSessionConfig: a clone goes to a port, a multicast group, or both. */
export interface CloneSession {
  egressPort?: number;
  mgid?: number;
  /** Copies are cut to this many bytes when they leave (P4Runtime packet_length_bytes); 0 = whole. */
  truncateLength?: number;
}

/** bmv2 RegisterAccess::MAX_MIRROR_SESSION_ID */
export const MAX_CLONE_SESSION_ID = (1 << 15) - 1;

export class PreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PreError";
  }
}

/** One bmv2 multicast node: a replica instance (rid) and its ports. */
export interface ReplicationNode {
  rid: number;
  ports: readonly number[];
}

interface Group {
  /** Nodes in bmv2's attach order; a packet's copies go node by node, ports ascending. */
  nodes: ReplicationNode[];
  byRid: Map<number, ReplicationNode>;
}

export class ReplicationEngine {
  private readonly groups = new Map<number, Group>();
  private readonly sessions = new Map<number, CloneSession>();

  /**
   * Creates or replaces a multicast group from P4Runtime replicas (in request order), with the
   * node order PI gives bmv2 (pi-node-order.ts): so copies leave one port in bmv2's order.
   * Replacing works by difference: a node whose ports are unchanged is kept as it is, so the
   * work beyond one hash probe per replica is in proportion to what changed. Group 0 means
   * "no multicast" in v1model.
   */
  setGroup(mgid: number, replicas: readonly Replica[]): void {
    checkGroupId(mgid);
    const wanted = new Map<number, Set<number>>();
    for (const r of replicas) {
      let ports = wanted.get(r.rid);
      if (!ports) {
        ports = new Set();
        wanted.set(r.rid, ports);
      }
      ports.add(r.port);
    }
    const old = this.groups.get(mgid);
    const order = piNodeOrder(
      [...wanted.keys()],
      old?.nodes.map((n) => n.rid),
    );
    this.setNodes(
      mgid,
      order.map((rid) => {
        const ports = wanted.get(rid) as Set<number>;
        const kept = old?.byRid.get(rid);
        return kept && samePorts(kept.ports, ports) ? kept : { rid, ports: [...ports] };
      }),
    );
  }

  /**
   * Creates or replaces a multicast group node by node, in the given order, as bmv2's own
   * control plane (simple_switch_CLI mc_node_associate) builds one.
   */
  setGroupNodes(mgid: number, nodes: readonly ReplicationNode[]): void {
    checkGroupId(mgid);
    this.setNodes(mgid, nodes);
  }

  /** bmv2 McSimplePre::replicate: node by node, each node's ports ascending. */
  private setNodes(mgid: number, nodes: readonly ReplicationNode[]): void {
    const sorted = nodes.map((n) =>
      isAscending(n.ports) ? n : { rid: n.rid, ports: [...new Set(n.ports)].sort((a, b) => a - b) },
    );
    this.groups.set(mgid, { nodes: sorted, byRid: new Map(sorted.map((n) => [n.rid, n])) });
  }

  deleteGroup(mgid: number): boolean {
    return this.groups.delete(mgid);
  }

  /** A group's copies as one list (for inspection; packets walk `nodes`). */
  group(mgid: number): readonly Replica[] | undefined {
    return this.groups
      .get(mgid)
      ?.nodes.flatMap((n) => n.ports.map((port) => ({ rid: n.rid, port })));
  }

  /** The copies a packet sent to `mgid` becomes; none for an unknown group. */
  replicate(mgid: number): readonly Replica[] {
    return this.group(mgid) ?? [];
  }

  /** The nodes a packet sent to `mgid` is copied to, in order; none for an unknown group. */
  nodes(mgid: number): readonly ReplicationNode[] {
    return this.groups.get(mgid)?.nodes ?? NO_NODES;
  }

  setCloneSession(id: number, session: CloneSession): void {
    if (!Number.isInteger(id) || id < 0 || id > MAX_CLONE_SESSION_ID) {
      throw new PreError(`clone session id ${id} out of range 0..${MAX_CLONE_SESSION_ID}`);
    }
    this.sessions.set(id, { ...session });
  }

  deleteCloneSession(id: number): boolean {
    return this.sessions.delete(id);
  }

  cloneSession(id: number): CloneSession | undefined {
    return this.sessions.get(id);
  }

  reset(): void {
    this.groups.clear();
    this.sessions.clear();
  }
}

const NO_NODES: readonly ReplicationNode[] = [];

/** Strictly ascending: sorted and without repeats. */
function isAscending(ports: readonly number[]): boolean {
  for (let i = 1; i < ports.length; i++)
    if ((ports[i] as number) <= (ports[i - 1] as number)) return false;
  return true;
}

function samePorts(ports: readonly number[], wanted: ReadonlySet<number>): boolean {
  return ports.length === wanted.size && ports.every((p) => wanted.has(p));
}

function checkGroupId(mgid: number): void {
  if (!Number.isInteger(mgid) || mgid <= 0 || mgid > 0xffff) {
    throw new PreError(`multicast group id ${mgid} out of range 1..65535`);
  }
}
