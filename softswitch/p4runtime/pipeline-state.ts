/**
 * The P4Runtime state of one installed pipeline: its model (P4Info joined to the loaded switch),
 * the config as the client sent it (returned by GetForwardingPipelineConfig), and what clients
 * wrote into it. Each kind of entity has its own module; this class routes updates and reads to
 * them and carries the per-pipeline stream traffic (packet-in, packet-out, digests).
 */
import type { P4Info__Output } from "../../proto/gen/p4/config/v1/P4Info.js";
import type { DigestListAck__Output } from "../../proto/gen/p4/v1/DigestListAck.js";
import type { Entity, Entity__Output } from "../../proto/gen/p4/v1/Entity.js";
import type { PacketIn } from "../../proto/gen/p4/v1/PacketIn.js";
import type { PacketOut__Output } from "../../proto/gen/p4/v1/PacketOut.js";
import type { StreamMessageResponse } from "../../proto/gen/p4/v1/StreamMessageResponse.js";
import type { Update__Output } from "../../proto/gen/p4/v1/Update.js";
import { Code, P4RuntimeError } from "./errors.js";
import { frameFromPacketOut, packetInFromFrame } from "./packet-io.js";
import type { PipelineModel } from "./pipeline-model.js";

export interface SavedConfig {
  p4info: P4Info__Output;
  deviceConfig: Buffer;
  /** Absent when the client sent no cookie (then none is returned either, as in PI). */
  cookie: string | undefined;
}

export type StreamSink = (message: StreamMessageResponse) => void;

export class PipelineState {
  constructor(
    readonly model: PipelineModel,
    readonly config: SavedConfig,
    readonly emit: StreamSink,
  ) {}

  /** Validates then applies one update; throws P4RuntimeError and changes nothing on failure. */
  apply(update: Update__Output): void {
    const kind = update.entity?.entity;
    throw new P4RuntimeError(
      Code.UNIMPLEMENTED,
      kind ? `${kind} writes are not supported yet` : "Incorrect entity type",
    );
  }

  /** Appends the entities matching one requested entity. */
  read(entity: Entity__Output, _out: Entity[]): void {
    throw new P4RuntimeError(
      Code.UNIMPLEMENTED,
      `${entity.entity ?? "this entity"} reads are not supported yet`,
    );
  }

  /** The forwarding state as INSERT/MODIFY updates, in an order that replays cleanly. */
  exportState(): { type: "INSERT" | "MODIFY"; entity: Entity }[] {
    return [];
  }

  packetIn(frame: Uint8Array): PacketIn | undefined {
    return packetInFromFrame(this.model.packetIn, frame);
  }

  packetOutFrame(packet: PacketOut__Output): Uint8Array {
    return frameFromPacketOut(this.model.packetOut, packet);
  }

  ackDigest(_ack: DigestListAck__Output): void {}

  /** Stops this pipeline's timers; it is being replaced. */
  close(): void {}
}
