/**
 * The `p4_device_config` bf_switchd's P4Runtime server (PI on bf-drivers) expects: a serialized
 * `p4.tmp.P4DeviceConfig` (PI's proto/p4/tmp/p4config.proto: reassign = 1, extras = 2,
 * device_data = 3) carrying only device_data, whose bytes are u32-little-endian
 * length-prefixed chunks:
 *
 *   program name · tofino.bin · context.json · pipe name (length 0 = none) [· bf-rt.json]
 *
 * Verified against bf-drivers' `_pi_update_device_start` (src/pi_bf/pi_imp.c, open-p4studio):
 * it reads the program name (at most 100 bytes), writes the next two chunks to the binary
 * config and context files, then ALWAYS reads a fourth length: 0 means no pipe name; otherwise
 * the pipe name (at most 100 bytes) and a bf-rt.json chunk follow. Lengths go through PI's
 * retrieve_uint32 (a memcpy, so host order: little-endian on the x86 / ARM switch CPUs). PI's
 * frontend (device_mgr.cpp) takes device_data when p4_device_config parses as P4DeviceConfig.
 * Older SDEs' p4runtime_update_config.py wrote only the first three chunks (struct.pack("<i",
 * len) each) and their pi_imp.c read no more; the trailing zero length is harmless there and
 * required by the newer reader, so it is always written.
 */
import { ProtoWriter } from "../p4rt/write-encoding.js";

/** p4.tmp.P4DeviceConfig's field number of device_data. */
const P4_DEVICE_CONFIG_DEVICE_DATA = 3;

/** PI copies names into 100-byte buffers and refuses longer ones (PI_STATUS_BUFFER_ERROR). */
export const PI_MAX_NAME_BYTES = 100;

export interface TofinoDeviceConfigParts {
  /** The P4 program's name (bf-p4c's program name, e.g. "nvgre"). */
  programName: string;
  /** bf-p4c's pipe/tofino.bin (tofino2.bin on Tofino 2). */
  binary: Uint8Array;
  /** bf-p4c's pipe/context.json. */
  contextJson: Uint8Array;
  /** The pipeline's name (bf-p4c's pipe directory) and bf-rt.json: both or neither. */
  pipe?: { name: string; bfrtJson: Uint8Array };
}

export class DeviceConfigError extends Error {
  override readonly name = "DeviceConfigError";
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`Tofino device config: ${field} ${reason}`);
  }
}

function chunk(bytes: Uint8Array): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32LE(bytes.length, 0);
  return Buffer.concat([length, bytes]);
}

function nameBytes(field: string, name: string): Buffer {
  const bytes = Buffer.from(name, "utf8");
  if (bytes.length === 0) throw new DeviceConfigError(field, "is empty");
  if (bytes.length > PI_MAX_NAME_BYTES)
    throw new DeviceConfigError(
      field,
      `is ${bytes.length} bytes; PI on bf_switchd takes at most ${PI_MAX_NAME_BYTES}`,
    );
  if (bytes.includes(0)) throw new DeviceConfigError(field, "contains a NUL byte");
  return bytes;
}

/** device_data: the chunks PI's _pi_update_device_start reads, in its order. */
export function tofinoDeviceData(parts: TofinoDeviceConfigParts): Buffer {
  const out = [
    chunk(nameBytes("program name", parts.programName)),
    chunk(parts.binary),
    chunk(parts.contextJson),
  ];
  if (parts.pipe) {
    out.push(chunk(nameBytes("pipe name", parts.pipe.name)), chunk(parts.pipe.bfrtJson));
  } else {
    out.push(chunk(new Uint8Array(0)));
  }
  return Buffer.concat(out);
}

/**
 * Serialized p4.tmp.P4DeviceConfig { device_data }. reassign (false) and extras (empty) are
 * proto3 defaults and so not on the wire.
 */
export function p4DeviceConfig(deviceData: Uint8Array): Buffer {
  const writer = new ProtoWriter();
  writer.bytes(P4_DEVICE_CONFIG_DEVICE_DATA, deviceData);
  return writer.finish();
}

/** What the controller sends as ForwardingPipelineConfig.p4_device_config to bf_switchd. */
export function tofinoP4DeviceConfig(parts: TofinoDeviceConfigParts): Buffer {
  return p4DeviceConfig(tofinoDeviceData(parts));
}
