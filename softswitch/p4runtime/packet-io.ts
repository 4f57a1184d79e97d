/**
 * Packet I/O through the CPU port (PI packet_io_mgr.cpp): a frame the data plane sends to the CPU
 * port starts with the `@controller_header("packet_in")` header, whose fields become the
 * PacketIn's metadata (canonical bytestrings, in P4Info order) and whose bytes are removed from
 * the payload; a PacketOut's metadata is serialised into the `@controller_header("packet_out")`
 * header in front of its payload, and the result enters the pipeline on the CPU port (bmv2 PI
 * `_pi_packetout_send`). Missing PacketOut fields are 0, as in PI.
 */
import type { PacketIn } from "../../proto/gen/p4/v1/PacketIn.js";
import type { PacketOut__Output } from "../../proto/gen/p4/v1/PacketOut.js";
import { readBits, writeBits } from "../core/values.js";
import { decodeField, encodeField } from "./bytes.js";
import { invalidArgument } from "./errors.js";
import type { ControllerHeaderModel } from "./pipeline-model.js";

/** The PacketIn for a frame sent to the CPU port; undefined if it is shorter than the header. */
export function packetInFromFrame(
  header: ControllerHeaderModel | undefined,
  frame: Uint8Array,
): PacketIn | undefined {
  if (!header) return { payload: Buffer.from(frame) };
  const nbytes = Math.ceil(header.bitwidth / 8);
  if (frame.length < nbytes) return undefined;
  return {
    payload: Buffer.from(frame.subarray(nbytes)),
    metadata: header.fields.map((f) => ({
      metadata_id: f.id,
      value: encodeField(readBits(frame, f.bitOffset, f.bitwidth), f.bitwidth),
    })),
  };
}

/** The frame a PacketOut injects on the CPU port. Throws INVALID_ARGUMENT on bad metadata. */
export function frameFromPacketOut(
  header: ControllerHeaderModel | undefined,
  packet: PacketOut__Output,
): Uint8Array {
  if (!header) {
    if (packet.metadata.length > 0) {
      throw invalidArgument("Unexpected metadata in PacketOut message");
    }
    return packet.payload;
  }
  const nbytes = Math.ceil(header.bitwidth / 8);
  const frame = new Uint8Array(nbytes + packet.payload.length);
  for (const m of packet.metadata) {
    const field = header.fields.find((f) => f.id === m.metadata_id);
    if (!field) {
      throw invalidArgument("Unknown metadata id in PacketOut message", `${m.metadata_id}`);
    }
    const value = decodeField(m.value, field.bitwidth, `packet_out metadata "${field.name}"`);
    writeBits(frame, field.bitOffset, field.bitwidth, value);
  }
  frame.set(packet.payload, nbytes);
  return frame;
}
