/**
 * Packet I/O and digests by name: the P4Info's `@controller_header` metadata ("packet_in",
 * "packet_out") and digest struct types tell the field names and widths, so callers say
 * `packetOut(frame, { egress_port: 3 })` and read `packetIn.metadata.punt_reason` instead of
 * handling ids and bytestrings.
 */
import type { DigestList__Output } from "../../proto/gen/p4/v1/DigestList.js";
import type { P4Data__Output } from "../../proto/gen/p4/v1/P4Data.js";
import type { PacketIn__Output } from "../../proto/gen/p4/v1/PacketIn.js";
import type { PacketMetadata } from "../../proto/gen/p4/v1/PacketMetadata.js";
import { EntitySpecError } from "./errors.js";
import type { P4InfoIndex } from "./p4info.js";
import { fromBytes, type P4Value, toBytes } from "./values.js";

export interface DecodedPacketIn {
  payload: Buffer;
  /** Every metadata field the switch sent, by its P4Info name. */
  metadata: Record<string, bigint>;
}

export interface DecodedDigestList {
  digest: string;
  listId: string;
  /** One record per sample, member name → value. */
  samples: Record<string, bigint>[];
}

interface MetadataField {
  id: number;
  name: string;
  bitwidth: number;
}

export class PacketIoCodec {
  private readonly packetOutFields: MetadataField[];
  private readonly packetInFields: Map<number, MetadataField>;

  constructor(readonly p4info: P4InfoIndex) {
    this.packetOutFields = this.metadataFields("packet_out");
    this.packetInFields = new Map(this.metadataFields("packet_in").map((f) => [f.id, f]));
  }

  private metadataFields(header: string): MetadataField[] {
    if (!this.p4info.controllerPacketMetadata.has(header)) return [];
    return this.p4info.controllerPacketMetadata
      .get(header)
      .metadata.map((m) => ({ id: m.id, name: m.name, bitwidth: m.bitwidth }));
  }

  /**
   * The PacketMetadata list of a PacketOut. Every field must be given except those whose
   * name starts with "_" (padding), which default to 0, so a forgotten field is an error.
   */
  packetOutMetadata(values: Record<string, P4Value>): PacketMetadata[] {
    const known = new Set(this.packetOutFields.map((f) => f.name));
    for (const name of Object.keys(values)) {
      if (!known.has(name)) {
        throw new EntitySpecError(
          `packet_out.${name}`,
          `no such metadata field (known: ${[...known].join(", ") || "none"})`,
        );
      }
    }
    return this.packetOutFields.map((field) => {
      const value = values[field.name];
      if (value === undefined && !field.name.startsWith("_")) {
        throw new EntitySpecError(`packet_out.${field.name}`, "value is missing");
      }
      return {
        metadata_id: field.id,
        value: toBytes(value ?? 0, field.bitwidth, `packet_out.${field.name}`),
      };
    });
  }

  decodePacketIn(packet: PacketIn__Output): DecodedPacketIn {
    const metadata: Record<string, bigint> = {};
    for (const m of packet.metadata) {
      const field = this.packetInFields.get(m.metadata_id);
      if (!field) {
        throw new EntitySpecError("packet_in", `unknown metadata id ${m.metadata_id}`);
      }
      metadata[field.name] = fromBytes(m.value, field.bitwidth, `packet_in.${field.name}`);
    }
    return { payload: packet.payload, metadata };
  }

  /** Decodes each sample of a digest list by its struct's member names and widths. */
  decodeDigestList(list: DigestList__Output): DecodedDigestList {
    const digest = this.p4info.digests.byIdOrThrow(list.digest_id);
    const name = digest.preamble?.name ?? String(list.digest_id);
    const structName = digest.type_spec?.struct?.name;
    const members = structName
      ? this.p4info.p4info.type_info?.structs[structName]?.members
      : undefined;
    const samples = list.data.map((data, i) => {
      const what = `digest ${name} sample ${i}`;
      if (!members) {
        // A digest of a single bitstring (no struct): one unnamed value.
        const width = digest.type_spec?.bitstring?.bit?.bitwidth ?? 0;
        return { value: bitstring(data, width, what) };
      }
      const fields = data.struct?.members ?? [];
      if (fields.length !== members.length) {
        throw new EntitySpecError(
          what,
          `has ${fields.length} members, struct ${structName} has ${members.length}`,
        );
      }
      const record: Record<string, bigint> = {};
      members.forEach((member, j) => {
        const width = member.type_spec?.bitstring?.bit?.bitwidth ?? 0;
        record[member.name] = bitstring(
          fields[j] as P4Data__Output,
          width,
          `${what}.${member.name}`,
        );
      });
      return record;
    });
    return { digest: name, listId: list.list_id, samples };
  }
}

function bitstring(data: P4Data__Output, bitwidth: number, what: string): bigint {
  if (data.data !== "bitstring" || !data.bitstring) {
    throw new EntitySpecError(what, `expected a bitstring, got ${data.data ?? "nothing"}`);
  }
  return fromBytes(data.bitstring, bitwidth, what);
}
