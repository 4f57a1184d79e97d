/**
 * The packet replication engine: multicast groups and clone (mirroring) sessions, as
 * simple_switch configures them (McSimplePreLAG and MirroringSessions).
 */

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

export class ReplicationEngine {
  private readonly groups = new Map<number, Replica[]>();
  private readonly sessions = new Map<number, CloneSession>();

  /** Creates or replaces a multicast group. Group 0 means "no multicast" in v1model. */
  setGroup(mgid: number, replicas: readonly Replica[]): void {
    if (!Number.isInteger(mgid) || mgid <= 0 || mgid > 0xffff) {
      throw new PreError(`multicast group id ${mgid} out of range 1..65535`);
    }
    this.groups.set(mgid, orderReplicas(replicas));
  }

  deleteGroup(mgid: number): boolean {
    return this.groups.delete(mgid);
  }

  group(mgid: number): readonly Replica[] | undefined {
    return this.groups.get(mgid);
  }

  /** The copies a packet sent to `mgid` becomes; none for an unknown group. */
  replicate(mgid: number): readonly Replica[] {
    return this.groups.get(mgid) ?? [];
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

/**
 * bmv2 replicates node by node (one node per rid, in the order the nodes were associated with the
 * group, which PI does in first-appearance order) and, within a node, by ascending port.
 */
function orderReplicas(replicas: readonly Replica[]): Replica[] {
  const byRid = new Map<number, Set<number>>();
  for (const r of replicas) {
    let ports = byRid.get(r.rid);
    if (!ports) {
      ports = new Set();
      byRid.set(r.rid, ports);
    }
    ports.add(r.port);
  }
  const out: Replica[] = [];
  for (const [rid, ports] of byRid) {
    for (const port of [...ports].sort((a, b) => a - b)) out.push({ rid, port });
  }
  return out;
}
