/**
 * The P4Runtime state of one installed pipeline: its model (P4Info joined to the loaded switch),
 * the config as the client sent it (returned by GetForwardingPipelineConfig), and what clients
 * wrote into it. Each kind of entity has its own module; this class routes updates and reads to
 * them (PI device_mgr.cpp write_ and read_one_) and carries the per-pipeline stream traffic
 * (packet-in, packet-out, digests, idle-timeout notices).
 */
import type { P4Info__Output } from "../../proto/gen/p4/config/v1/P4Info.js";
import type { DigestListAck__Output } from "../../proto/gen/p4/v1/DigestListAck.js";
import type { Entity, Entity__Output } from "../../proto/gen/p4/v1/Entity.js";
import type { PacketIn } from "../../proto/gen/p4/v1/PacketIn.js";
import type { PacketOut__Output } from "../../proto/gen/p4/v1/PacketOut.js";
import type { TableEntry__Output } from "../../proto/gen/p4/v1/TableEntry.js";
import type { Update__Output } from "../../proto/gen/p4/v1/Update.js";
import { ActionProfileManager } from "./action-profiles.js";
import {
  readCounters,
  readDirectCounters,
  type UpdateType,
  writeCounter,
  writeDirectCounter,
} from "./counters.js";
import { DigestManager } from "./digests.js";
import { Code, invalidArgument, invalidP4Id, P4RuntimeError } from "./errors.js";
import { IdleTimeouts } from "./idle-timeouts.js";
import { readDirectMeters, readMeters, writeDirectMeter, writeMeter } from "./meters.js";
import { frameFromPacketOut, packetInFromFrame } from "./packet-io.js";
import type { PipelineModel } from "./pipeline-model.js";
import { readRegisters, writeRegister } from "./registers.js";
import { ReplicationEntries } from "./replication.js";
import { TableEntries } from "./table-entries.js";
import type { StreamSink } from "./target.js";

export interface SavedConfig {
  p4info: P4Info__Output;
  deviceConfig: Buffer;
  /** Absent when the client sent no cookie (then none is returned either, as in PI). */
  cookie: string | undefined;
}

/** An update that rebuilds part of the state (RECONCILE_AND_COMMIT replays them). */
export interface ReplayUpdate {
  type: "INSERT" | "MODIFY";
  entity: Entity;
}

export class PipelineState {
  private readonly tables = new Map<number, TableEntries>();
  private readonly profiles = new Map<number, ActionProfileManager>();
  private readonly replication: ReplicationEntries;
  private readonly digests: DigestManager;
  private readonly idleTimeouts: IdleTimeouts;

  constructor(
    readonly model: PipelineModel,
    readonly config: SavedConfig,
    readonly emit: StreamSink,
  ) {
    for (const p of model.profiles.values()) {
      this.profiles.set(p.id, new ActionProfileManager(p, (id) => model.actions.has(id)));
    }
    for (const t of model.tables.values()) {
      this.tables.set(
        t.id,
        new TableEntries(t, model, t.profile && this.profiles.get(t.profile.id)),
      );
    }
    this.replication = new ReplicationEntries(model.sw.pre);
    this.digests = new DigestManager(model, emit);
    this.idleTimeouts = new IdleTimeouts([...this.tables.values()], emit);
  }

  /** Table by id, for the direct counter and meter readers and writers. */
  private readonly tableLookup = (id: number) => this.table(id);

  private table(id: number): TableEntries {
    const t = this.tables.get(id);
    if (t) return t;
    const absent = this.model.absentTables.get(id);
    if (absent !== undefined) {
      throw invalidArgument(
        `Table ${absent} is in the P4Info but not in the device config (p4c removed it as never applied)`,
      );
    }
    throw invalidP4Id("table", id);
  }

  private profile(id: number): ActionProfileManager {
    const p = this.profiles.get(id);
    if (!p) throw invalidP4Id("action profile", id);
    return p;
  }

  /** Validates then applies one update; throws P4RuntimeError and changes nothing on failure. */
  apply(update: Update__Output): void {
    const e = update.entity;
    const type = update.type;
    switch (e?.entity) {
      case "table_entry":
        this.writeTableEntry(type, present(e.table_entry));
        return;
      case "action_profile_member": {
        const m = present(e.action_profile_member);
        const profile = this.profile(m.action_profile_id);
        dispatch(type, {
          INSERT: () => profile.insertMember(m),
          MODIFY: () => profile.modifyMember(m),
          DELETE: () => profile.deleteMember(m),
        });
        return;
      }
      case "action_profile_group": {
        const g = present(e.action_profile_group);
        const profile = this.profile(g.action_profile_id);
        dispatch(type, {
          INSERT: () => profile.insertGroup(g),
          MODIFY: () => profile.modifyGroup(g),
          DELETE: () => profile.deleteGroup(g),
        });
        return;
      }
      case "counter_entry":
        writeCounter(this.model, type, present(e.counter_entry));
        return;
      case "direct_counter_entry":
        writeDirectCounter(this.tableLookup, type, present(e.direct_counter_entry));
        return;
      case "meter_entry":
        writeMeter(this.model, type, present(e.meter_entry));
        return;
      case "direct_meter_entry":
        writeDirectMeter(this.tableLookup, type, present(e.direct_meter_entry));
        return;
      case "register_entry":
        writeRegister(this.model, type, present(e.register_entry));
        return;
      case "packet_replication_engine_entry":
        this.replication.write(type, present(e.packet_replication_engine_entry));
        return;
      case "value_set_entry":
        throw new P4RuntimeError(Code.UNIMPLEMENTED, "ValueSet writes are not supported yet");
      case "extern_entry":
        throw new P4RuntimeError(Code.UNIMPLEMENTED, "No extern support yet");
      case "digest_entry":
        this.digests.write(type, present(e.digest_entry));
        return;
      default:
        throw new P4RuntimeError(Code.UNKNOWN, "Incorrect entity type");
    }
  }

  private writeTableEntry(type: UpdateType, entry: TableEntry__Output): void {
    const table = this.table(entry.table_id);
    if (entry.time_since_last_hit) {
      throw invalidArgument("has_time_since_last_hit must not be set in WriteRequest");
    }
    // A switch rather than dispatch(): no closures for each of a large batch's entries.
    switch (type) {
      case "INSERT":
        table.insert(entry);
        return;
      case "MODIFY":
        table.modify(entry);
        return;
      case "DELETE":
        table.delete(entry);
        return;
      default:
        throw updateTypeError(type);
    }
  }

  /** The entities matching one requested (possibly wildcard) entity. */
  /** What a read of `entity` returns; a request is checked whole before anything is built. */
  read(entity: Entity__Output): Iterable<Entity> {
    switch (entity.entity) {
      case "table_entry": {
        const request = present(entity.table_entry);
        const selected =
          request.table_id === 0 ? [...this.tables.values()] : [this.table(request.table_id)];
        const tables = selected.map((t) => t.read(request));
        return (function* () {
          for (const entries of tables) for (const table_entry of entries) yield { table_entry };
        })();
      }
      case "action_profile_member": {
        const m = present(entity.action_profile_member);
        return this.profilesFor(m.action_profile_id)
          .flatMap((p) => p.readMembers(m.member_id))
          .map((action_profile_member) => ({ action_profile_member }));
      }
      case "action_profile_group": {
        const g = present(entity.action_profile_group);
        return this.profilesFor(g.action_profile_id)
          .flatMap((p) => p.readGroups(g.group_id))
          .map((action_profile_group) => ({ action_profile_group }));
      }
      case "counter_entry":
        return readCounters(this.model, present(entity.counter_entry)).map((counter_entry) => ({
          counter_entry,
        }));
      case "direct_counter_entry":
        return readDirectCounters(this.tableLookup, present(entity.direct_counter_entry)).map(
          (direct_counter_entry) => ({ direct_counter_entry }),
        );
      case "meter_entry":
        return readMeters(this.model, present(entity.meter_entry)).map((meter_entry) => ({
          meter_entry,
        }));
      case "direct_meter_entry":
        return readDirectMeters(this.tableLookup, present(entity.direct_meter_entry)).map(
          (direct_meter_entry) => ({ direct_meter_entry }),
        );
      case "register_entry":
        return readRegisters(this.model, present(entity.register_entry)).map((register_entry) => ({
          register_entry,
        }));
      case "packet_replication_engine_entry":
        return this.replication
          .read(present(entity.packet_replication_engine_entry))
          .map((packet_replication_engine_entry) => ({ packet_replication_engine_entry }));
      case "digest_entry":
        return this.digests
          .read(present(entity.digest_entry))
          .map((digest_entry) => ({ digest_entry }));
      case "value_set_entry":
        throw new P4RuntimeError(Code.UNIMPLEMENTED, "ValueSet reads are not supported yet");
      default:
        throw new P4RuntimeError(Code.UNKNOWN, "Incorrect entity type");
    }
  }

  private profilesFor(id: number): ActionProfileManager[] {
    return id === 0 ? [...this.profiles.values()] : [this.profile(id)];
  }

  /**
   * The forwarding state as updates that rebuild it, in dependency order: replication,
   * profile members, groups, table entries (with their direct counters and meters), changed
   * default entries, then counter, meter and register cells that differ from their reset state.
   */
  exportState(): ReplayUpdate[] {
    const out: ReplayUpdate[] = [];
    for (const p of this.replication.exportEntries()) {
      out.push({ type: "INSERT", entity: { packet_replication_engine_entry: p } });
    }
    for (const d of this.digests.exportEntries()) {
      out.push({ type: "INSERT", entity: { digest_entry: d } });
    }
    for (const p of this.profiles.values()) {
      for (const m of p.readMembers(0))
        out.push({ type: "INSERT", entity: { action_profile_member: m } });
    }
    for (const p of this.profiles.values()) {
      for (const g of p.readGroups(0))
        out.push({ type: "INSERT", entity: { action_profile_group: g } });
    }
    for (const t of this.tables.values()) {
      for (const e of t.exportEntries()) out.push({ type: "INSERT", entity: { table_entry: e } });
      const d = t.exportDefault();
      if (d) out.push({ type: "MODIFY", entity: { table_entry: d } });
    }
    for (const c of readCounters(this.model, { counter_id: 0, index: null, data: null })) {
      if (c.data?.packet_count !== "0" || c.data?.byte_count !== "0") {
        out.push({ type: "MODIFY", entity: { counter_entry: c } });
      }
    }
    const allMeters = { meter_id: 0, index: null, config: null, counter_data: null };
    for (const m of readMeters(this.model, allMeters)) {
      if (m.config) out.push({ type: "MODIFY", entity: { meter_entry: m } });
    }
    for (const r of readRegisters(this.model, { register_id: 0, index: null, data: null })) {
      if (r.data?.bitstring && Buffer.from(r.data.bitstring).some((b) => b !== 0)) {
        out.push({ type: "MODIFY", entity: { register_entry: r } });
      }
    }
    return out;
  }

  packetIn(frame: Uint8Array): PacketIn | undefined {
    return packetInFromFrame(this.model.packetIn, frame);
  }

  packetOutFrame(packet: PacketOut__Output): Uint8Array {
    return frameFromPacketOut(this.model.packetOut, packet);
  }

  ackDigest(ack: DigestListAck__Output): void {
    this.digests.ack(ack);
  }

  /** Stops this pipeline's timers and notifications; it is being replaced. */
  close(): void {
    this.digests.close();
    this.idleTimeouts.close();
  }
}

/** The message a oneof marker says is set (the loader sets both together). */
function present<T>(value: T | null | undefined): T {
  if (value === null || value === undefined)
    throw new P4RuntimeError(Code.UNKNOWN, "Incorrect entity type");
  return value;
}

/** Runs the handler of an INSERT, MODIFY or DELETE; PI's errors for anything else. */
function dispatch(
  type: UpdateType,
  handlers: { INSERT: () => void; MODIFY: () => void; DELETE: () => void },
): void {
  const handler = type === "UNSPECIFIED" ? undefined : handlers[type as keyof typeof handlers];
  if (!handler) throw updateTypeError(type);
  handler();
}

/** PI's error for an update that is neither INSERT, MODIFY nor DELETE. */
function updateTypeError(type: UpdateType): P4RuntimeError {
  return invalidArgument(type === "UNSPECIFIED" ? "Update type is not set" : "Invalid update type");
}
