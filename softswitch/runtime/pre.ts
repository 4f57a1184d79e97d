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

export class ReplicationEngine {
  private readonly groups = new Map<number, { rids: number[]; replicas: Replica[] }>();
  private readonly sessions = new Map<number, CloneSession>();

  /**
   * Creates or replaces a multicast group from P4Runtime replicas (in request order), with the
   * node order PI gives bmv2 (pi-node-order.ts): so copies leave one port in bmv2's order.
   * Group 0 means "no multicast" in v1model.
   */
  setGroup(mgid: number, replicas: readonly Replica[]): void {
    checkGroupId(mgid);
    const ports = new Map<number, Set<number>>();
    for (const r of replicas) ports.set(r.rid, (ports.get(r.rid) ?? new Set()).add(r.port));
    const order = piNodeOrder(
      replicas.map((r) => r.rid),
      this.groups.get(mgid)?.rids,
    );
    this.setNodes(
      mgid,
      order.map((rid) => ({ rid, ports: [...(ports.get(rid) ?? [])] })),
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
    const replicas = nodes.flatMap((n) =>
      [...new Set(n.ports)].sort((a, b) => a - b).map((port) => ({ rid: n.rid, port })),
    );
    this.groups.set(mgid, { rids: nodes.map((n) => n.rid), replicas });
  }

  deleteGroup(mgid: number): boolean {
    return this.groups.delete(mgid);
  }

  group(mgid: number): readonly Replica[] | undefined {
    return this.groups.get(mgid)?.replicas;
  }

  /** The copies a packet sent to `mgid` becomes; none for an unknown group. */
  replicate(mgid: number): readonly Replica[] {
    return this.groups.get(mgid)?.replicas ?? [];
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

function checkGroupId(mgid: number): void {
  if (!Number.isInteger(mgid) || mgid <= 0 || mgid > 0xffff) {
    throw new PreError(`multicast group id ${mgid} out of range 1..65535`);
  }
}
