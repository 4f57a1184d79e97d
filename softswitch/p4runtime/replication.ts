/**
 * PacketReplicationEngineEntry: multicast groups and clone sessions (PI pre_mc_mgr.cpp,
 * pre_clone_mgr.cpp). As in PI, a clone session is a multicast group of its own, id
 * 32768 + session id, which the clone session sends its copies to; client groups are 1..32767.
 * Replicas are grouped by instance (egress_rid) and read back with each port as it was given
 * (deprecated egress_port, or the port bytestring with its length). Unlike bmv2, the softswitch
 * honours a clone session's packet_length_bytes (bmv2 refuses any truncation).
 */

import type {
  CloneSessionEntry,
  CloneSessionEntry__Output,
} from "../../proto/gen/p4/v1/CloneSessionEntry.js";
import type {
  MulticastGroupEntry,
  MulticastGroupEntry__Output,
} from "../../proto/gen/p4/v1/MulticastGroupEntry.js";
import type {
  PacketReplicationEngineEntry,
  PacketReplicationEngineEntry__Output,
} from "../../proto/gen/p4/v1/PacketReplicationEngineEntry.js";
import type { Replica, Replica__Output } from "../../proto/gen/p4/v1/Replica.js";
import type { ReplicationEngine } from "../core/pre.js";
import type { UpdateType } from "./counters.js";
import { Code, invalidArgument, P4RuntimeError } from "./errors.js";

/** PI PreMcMgr::first_reserved_group_id(): groups from here on belong to clone sessions. */
export const FIRST_RESERVED_GROUP = 1 << 15;

interface StoredReplica {
  rid: number;
  port: number;
  /** How the client gave the port: egress_port, or a bytestring of this many bytes. */
  bytes: number | "egress_port";
}

interface StoredSession {
  classOfService: number;
  packetLengthBytes: number;
}

function replicaOf(r: Replica__Output): StoredReplica {
  if (r.port_kind === "egress_port") {
    return { rid: r.instance, port: r.egress_port ?? 0, bytes: "egress_port" };
  }
  if (r.port_kind !== "port" || !r.port) {
    throw invalidArgument("Missing port in multicast group replica");
  }
  if (r.port.length === 0) throw invalidArgument("Port must not be the empty string");
  if (r.port.length > 4) {
    throw new P4RuntimeError(
      Code.UNIMPLEMENTED,
      `Got port of ${r.port.length} bytes, but only 4 bytes are supported`,
    );
  }
  const port = r.port.readIntBE(0, r.port.length);
  // PI reads the 4 bytes as a signed port and refuses anything not above 0.
  if (r.port.length === 4 ? r.port.readInt32BE(0) <= 0 : port <= 0) {
    throw invalidArgument("Port must be non-negative.");
  }
  return { rid: r.instance, port: r.port.readUIntBE(0, r.port.length), bytes: r.port.length };
}

function replicaMessage(r: StoredReplica): Replica {
  if (r.bytes === "egress_port") return { instance: r.rid, egress_port: r.port };
  const port = Buffer.alloc(r.bytes);
  port.writeUIntBE(r.port, 0, r.bytes);
  return { instance: r.rid, port };
}

/** Replicas validated: no (instance, port) twice. Ordered for the target: by node, then port. */
function replicasOf(list: Replica__Output[]): StoredReplica[] {
  const replicas = list.map(replicaOf);
  const seen = new Set<number | string>();
  for (const r of replicas) {
    // One number while it stays exact (ports are at most 32 bits): no string per replica.
    const key = r.rid < 2 ** 21 ? r.rid * 2 ** 32 + r.port : `${r.rid}/${r.port}`;
    if (seen.has(key)) throw invalidArgument("Duplicate replica in multicast group");
    seen.add(key);
  }
  const byRid = new Map<number, StoredReplica[]>();
  for (const r of replicas) {
    const node = byRid.get(r.rid);
    if (node) node.push(r);
    else byRid.set(r.rid, [r]);
  }
  return [...byRid.values()].flatMap((node) => node.sort((a, b) => a.port - b.port));
}

function checkType(type: UpdateType): void {
  if (type === "UNSPECIFIED") throw invalidArgument("Update type is not set");
  if (type !== "INSERT" && type !== "MODIFY" && type !== "DELETE") {
    throw invalidArgument("Invalid update type");
  }
}

export class ReplicationEntries {
  private readonly groups = new Map<number, StoredReplica[]>();
  private readonly sessions = new Map<number, StoredSession>();

  constructor(private readonly pre: ReplicationEngine) {}

  write(type: UpdateType, entry: PacketReplicationEngineEntry__Output): void {
    if (entry.multicast_group_entry) this.writeGroup(type, entry.multicast_group_entry);
    else if (entry.clone_session_entry) this.writeSession(type, entry.clone_session_entry);
    else throw invalidArgument("Invalid PRE operation");
  }

  read(entry: PacketReplicationEngineEntry__Output): PacketReplicationEngineEntry[] {
    if (entry.multicast_group_entry) {
      return this.readGroups(entry.multicast_group_entry.multicast_group_id).map((g) => ({
        multicast_group_entry: g,
      }));
    }
    if (entry.clone_session_entry) {
      return this.readSessions(entry.clone_session_entry.session_id).map((s) => ({
        clone_session_entry: s,
      }));
    }
    throw invalidArgument("Invalid PRE operation");
  }

  /** Everything as INSERTs (RECONCILE_AND_COMMIT). */
  exportEntries(): PacketReplicationEngineEntry[] {
    return [
      ...this.readGroups(0).map((g) => ({ multicast_group_entry: g })),
      ...this.readSessions(0).map((s) => ({ clone_session_entry: s })),
    ];
  }

  private writeGroup(type: UpdateType, g: MulticastGroupEntry__Output): void {
    const id = g.multicast_group_id;
    if (id === 0) throw invalidArgument("0 is not a valid group id");
    if (id >= FIRST_RESERVED_GROUP) {
      throw new P4RuntimeError(Code.OUT_OF_RANGE, "Group id value is too high");
    }
    checkType(type);
    this.setGroup(type, id, g.replicas);
  }

  private setGroup(type: UpdateType, id: number, replicas: Replica__Output[]): void {
    const exists = this.groups.has(id);
    if (type === "INSERT" && exists) {
      throw new P4RuntimeError(Code.ALREADY_EXISTS, "Multicast group already exists");
    }
    if (type !== "INSERT" && !exists) {
      throw new P4RuntimeError(Code.NOT_FOUND, "Multicast group does not exist");
    }
    if (type === "DELETE") {
      this.groups.delete(id);
      this.pre.deleteGroup(id);
      return;
    }
    const stored = replicasOf(replicas);
    this.groups.set(id, stored);
    this.pre.setGroup(id, stored);
  }

  private writeSession(type: UpdateType, s: CloneSessionEntry__Output): void {
    const id = s.session_id;
    if (id === 0) throw invalidArgument("0 is not a valid session id");
    checkType(type);
    if (id < 1 || id >= FIRST_RESERVED_GROUP)
      throw invalidArgument("Clone session id out-of-range");
    const exists = this.sessions.has(id);
    if (type === "INSERT" && exists) {
      throw new P4RuntimeError(Code.ALREADY_EXISTS, "Clone session id already exists");
    }
    if (type !== "INSERT" && !exists) {
      throw new P4RuntimeError(Code.NOT_FOUND, "Clone session id does not exist");
    }
    const mgid = FIRST_RESERVED_GROUP + id;
    if (type === "DELETE") {
      this.pre.deleteCloneSession(id);
      this.setGroup("DELETE", mgid, []);
      this.sessions.delete(id);
      return;
    }
    const replicas = replicasOf(s.replicas);
    if (s.class_of_service !== 0) {
      throw new P4RuntimeError(Code.UNIMPLEMENTED, "COS for clone sessions not supported yet");
    }
    this.groups.set(mgid, replicas);
    this.pre.setGroup(mgid, replicas);
    // PI passes the length to the target as 16 bits.
    const truncateLength = s.packet_length_bytes & 0xffff;
    this.pre.setCloneSession(id, { mgid, ...(truncateLength ? { truncateLength } : {}) });
    this.sessions.set(id, {
      classOfService: s.class_of_service,
      packetLengthBytes: s.packet_length_bytes,
    });
  }

  private readGroups(id: number): MulticastGroupEntry[] {
    if (id >= FIRST_RESERVED_GROUP) {
      throw new P4RuntimeError(Code.OUT_OF_RANGE, "Group id value is too high");
    }
    if (id !== 0 && !this.groups.has(id)) {
      throw new P4RuntimeError(Code.NOT_FOUND, "Multicast group does not exist");
    }
    const ids = id === 0 ? [...this.groups.keys()].filter((g) => g < FIRST_RESERVED_GROUP) : [id];
    return ids.map((g) => ({
      multicast_group_id: g,
      replicas: (this.groups.get(g) ?? []).map(replicaMessage),
    }));
  }

  private readSessions(id: number): CloneSessionEntry[] {
    if (id !== 0 && !this.sessions.has(id)) {
      throw new P4RuntimeError(Code.NOT_FOUND, "Clone session id does not exist");
    }
    const ids = id === 0 ? [...this.sessions.keys()] : [id];
    return ids.map((sid) => {
      const session = this.sessions.get(sid) as StoredSession;
      return {
        session_id: sid,
        class_of_service: session.classOfService,
        packet_length_bytes: session.packetLengthBytes,
        replicas: (this.groups.get(FIRST_RESERVED_GROUP + sid) ?? []).map(replicaMessage),
      };
    });
  }
}
