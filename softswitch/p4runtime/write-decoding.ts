/**
 * WriteRequests from protobuf bytes, the table entries among them without protobufjs. Its
 * generic path (decode into message objects, then convert those into plain objects with every
 * default filled in) cost more than applying the entries; this reads the wire format once and
 * builds the same plain objects (`WriteRequest__Output`, the loader options of proto/load.ts:
 * decimal strings for 64-bit integers, enum names, defaults, oneof names) directly. Whatever it
 * does not cover — other entities, table entries with direct counter or meter data, one-shot
 * action sets, unknown fields, values beyond 2^53 — is handed to protobufjs, update by update
 * or for the whole request, so every request decodes exactly as before.
 *
 * Kept rather than a library (issue 13) because the kept ones are slower on the same workload:
 * `bench/protobuf-codecs.ts` (100,000 compiled table entries, batch 1,000, entries per CPU second)
 * measured this decoder at 689,000 / 491,000 (two runs) against 149,000 / 138,000 for
 * @bufbuild/protobuf's fromBinary on its generated code and 188,000 / 148,000 for
 * protobufjs; figures and method in bench/README.md.
 */
import type { Action__Output } from "../../proto/gen/p4/v1/Action.js";
import type { FieldMatch__Output } from "../../proto/gen/p4/v1/FieldMatch.js";
import type { TableAction__Output } from "../../proto/gen/p4/v1/TableAction.js";
import type { TableEntry__Output } from "../../proto/gen/p4/v1/TableEntry.js";
import type { Update__Output } from "../../proto/gen/p4/v1/Update.js";
import type { WriteRequest__Output } from "../../proto/gen/p4/v1/WriteRequest.js";
import { p4runtimeProto } from "../../proto/load.js";

/** The fast path does not cover this message: protobufjs decodes it. */
class NotCovered extends Error {}
const notCovered = new NotCovered();

const VARINT = 0;
const LENGTH_DELIMITED = 2;

const updateTypes = ["UNSPECIFIED", "INSERT", "MODIFY", "DELETE"] as const;
const atomicities = ["CONTINUE_ON_ERROR", "ROLLBACK_ON_ERROR", "DATAPLANE_ATOMIC"] as const;

/** One empty buffer for every absent bytes field (nothing writes into a received message). */
const EMPTY: Buffer = Buffer.alloc(0);

class Reader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  /** A varint below 2^49 (7 bytes); longer ones are left to protobufjs. */
  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 7; i++) {
      if (this.pos >= this.end) throw notCovered;
      const byte = this.buf[this.pos++] as number;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
    }
    throw notCovered;
  }

  /** A key: field number × 8 + wire type. */
  key(): { field: number; wire: number } {
    const key = this.varint();
    return { field: Math.floor(key / 8), wire: key % 8 };
  }

  /** The bounds of a length-delimited field's content; the reader moves past it. */
  span(): number {
    const length = this.varint();
    const start = this.pos;
    if (start + length > this.end) throw notCovered;
    this.pos += length;
    return start;
  }

  /** A reader of the field span() just passed (from `start` to here). */
  sub(start: number): Reader {
    return new Reader(this.buf, start, this.pos);
  }

  /** A bytes field as a view of the request (no copy). */
  bytes(): Buffer {
    const start = this.span();
    return this.buf.subarray(start, this.pos);
  }

  /** A uint32/int32 field; negative int32s (10-byte varints) are left to protobufjs. */
  uint32(): number {
    const value = this.varint();
    if (value > 0xffff_ffff) throw notCovered;
    return value;
  }
}

function expect(wire: number, expected: number): void {
  if (wire !== expected) throw notCovered;
}

function readAction(inner: Reader): Action__Output {
  const out: Action__Output = { action_id: 0, params: [] };
  while (inner.pos < inner.end) {
    const { field, wire } = inner.key();
    if (field === 1 && wire === VARINT) out.action_id = inner.uint32();
    else if (field === 4 && wire === LENGTH_DELIMITED) {
      const start = inner.span();
      const p = inner.sub(start);
      let param_id = 0;
      let value: Buffer = EMPTY;
      while (p.pos < p.end) {
        const k = p.key();
        if (k.field === 2 && k.wire === VARINT) param_id = p.uint32();
        else if (k.field === 3 && k.wire === LENGTH_DELIMITED) value = p.bytes();
        else throw notCovered;
      }
      out.params.push({ param_id, value });
    } else throw notCovered;
  }
  return out;
}

function readTableAction(r: Reader): TableAction__Output {
  const out: TableAction__Output = {};
  while (r.pos < r.end) {
    const { field, wire } = r.key();
    if (out.type !== undefined) throw notCovered;
    if (field === 1) {
      expect(wire, LENGTH_DELIMITED);
      out.action = readAction(r.sub(r.span()));
      out.type = "action";
    } else if (field === 2 && wire === VARINT) {
      out.action_profile_member_id = r.uint32();
      out.type = "action_profile_member_id";
    } else if (field === 3 && wire === VARINT) {
      out.action_profile_group_id = r.uint32();
      out.type = "action_profile_group_id";
    } else throw notCovered;
  }
  return out;
}

/** The two bytes fields (1, 2) of FieldMatch.Ternary / Range / LPM's value. */
function readPair(r: Reader): [Buffer, Buffer] {
  let first: Buffer = EMPTY;
  let second: Buffer = EMPTY;
  while (r.pos < r.end) {
    const { field, wire } = r.key();
    expect(wire, LENGTH_DELIMITED);
    if (field === 1) first = r.bytes();
    else if (field === 2) second = r.bytes();
    else throw notCovered;
  }
  return [first, second];
}

function readFieldMatch(r: Reader): FieldMatch__Output {
  const out: FieldMatch__Output = { field_id: 0 };
  while (r.pos < r.end) {
    const { field, wire } = r.key();
    if (field === 1 && wire === VARINT) {
      out.field_id = r.uint32();
      continue;
    }
    expect(wire, LENGTH_DELIMITED);
    if (out.field_match_type !== undefined) throw notCovered;
    const inner = r.sub(r.span());
    switch (field) {
      case 2:
        out.exact = { value: readPair(inner)[0] };
        out.field_match_type = "exact";
        break;
      case 3: {
        const [value, mask] = readPair(inner);
        out.ternary = { value, mask };
        out.field_match_type = "ternary";
        break;
      }
      case 4: {
        let value: Buffer = EMPTY;
        let prefix_len = 0;
        while (inner.pos < inner.end) {
          const k = inner.key();
          if (k.field === 1 && k.wire === LENGTH_DELIMITED) value = inner.bytes();
          else if (k.field === 2 && k.wire === VARINT) prefix_len = inner.uint32();
          else throw notCovered;
        }
        if (prefix_len > 0x7fff_ffff) throw notCovered;
        out.lpm = { value, prefix_len };
        out.field_match_type = "lpm";
        break;
      }
      case 6: {
        const [low, high] = readPair(inner);
        out.range = { low, high };
        out.field_match_type = "range";
        break;
      }
      case 7:
        out.optional = { value: readPair(inner)[0] };
        out.field_match_type = "optional";
        break;
      default:
        throw notCovered;
    }
  }
  return out;
}

function readTableEntry(r: Reader): TableEntry__Output {
  const out: TableEntry__Output = {
    table_id: 0,
    match: [],
    action: null,
    priority: 0,
    controller_metadata: "0",
    meter_config: null,
    counter_data: null,
    is_default_action: false,
    idle_timeout_ns: "0",
    time_since_last_hit: null,
    metadata: EMPTY,
    meter_counter_data: null,
    is_const: false,
  };
  while (r.pos < r.end) {
    const { field, wire } = r.key();
    switch (field) {
      case 1:
        expect(wire, VARINT);
        out.table_id = r.uint32();
        break;
      case 2: {
        expect(wire, LENGTH_DELIMITED);
        out.match.push(readFieldMatch(r.sub(r.span())));
        break;
      }
      case 3: {
        expect(wire, LENGTH_DELIMITED);
        out.action = readTableAction(r.sub(r.span()));
        break;
      }
      case 4:
        expect(wire, VARINT);
        out.priority = r.uint32();
        if (out.priority > 0x7fff_ffff) throw notCovered;
        break;
      case 5:
        expect(wire, VARINT);
        out.controller_metadata = String(r.varint());
        break;
      case 8:
        expect(wire, VARINT);
        out.is_default_action = r.varint() !== 0;
        break;
      case 9:
        expect(wire, VARINT);
        out.idle_timeout_ns = String(r.varint());
        break;
      case 11:
        expect(wire, LENGTH_DELIMITED);
        // Kept with the entry: a copy, so the entry does not hold the whole request's buffer.
        out.metadata = Buffer.from(r.bytes());
        break;
      case 13:
        expect(wire, VARINT);
        out.is_const = r.varint() !== 0;
        break;
      default:
        throw notCovered;
    }
  }
  return out;
}

/** One Update: table entries here, anything else by protobufjs. */
function readUpdate(buf: Buffer, start: number, end: number): Update__Output {
  try {
    const r = new Reader(buf, start, end);
    let type: Update__Output["type"] = "UNSPECIFIED";
    let entry: TableEntry__Output | undefined;
    while (r.pos < end) {
      const { field, wire } = r.key();
      if (field === 1 && wire === VARINT) {
        type = updateTypes[r.varint()] ?? notCoveredValue();
      } else if (field === 2 && wire === LENGTH_DELIMITED && entry === undefined) {
        const entity = r.sub(r.span());
        const k = entity.key();
        if (k.field !== 2 || k.wire !== LENGTH_DELIMITED) throw notCovered;
        entry = readTableEntry(entity.sub(entity.span()));
        if (entity.pos !== entity.end) throw notCovered;
      } else throw notCovered;
    }
    if (!entry) throw notCovered;
    return { type, entity: { table_entry: entry, entity: "table_entry" } };
  } catch (error) {
    if (error !== notCovered) throw error;
    return p4runtimeProto().p4.v1.Update.deserialize(buf.subarray(start, end));
  }
}

function notCoveredValue(): never {
  throw notCovered;
}

/** Decodes a WriteRequest as the loader would (the gRPC server's request deserializer). */
export function decodeWriteRequest(buf: Buffer): WriteRequest__Output {
  try {
    const out: WriteRequest__Output = {
      device_id: "0",
      role_id: "0",
      election_id: null,
      updates: [],
      atomicity: "CONTINUE_ON_ERROR",
      role: "",
    };
    const r = new Reader(buf, 0, buf.length);
    while (r.pos < r.end) {
      const { field, wire } = r.key();
      switch (field) {
        case 1:
          expect(wire, VARINT);
          out.device_id = String(r.varint());
          break;
        case 2:
          expect(wire, VARINT);
          out.role_id = String(r.varint());
          break;
        case 3: {
          expect(wire, LENGTH_DELIMITED);
          const [high, low] = readUint128(r.sub(r.span()));
          out.election_id = { high, low };
          break;
        }
        case 4: {
          expect(wire, LENGTH_DELIMITED);
          const start = r.span();
          out.updates.push(readUpdate(buf, start, r.pos));
          break;
        }
        case 5:
          expect(wire, VARINT);
          out.atomicity = atomicities[r.varint()] ?? notCoveredValue();
          break;
        case 6:
          expect(wire, LENGTH_DELIMITED);
          out.role = r.bytes().toString("utf8");
          break;
        default:
          throw notCovered;
      }
    }
    return out;
  } catch (error) {
    if (error !== notCovered) throw error;
    return p4runtimeProto().p4.v1.WriteRequest.deserialize(buf);
  }
}

function readUint128(r: Reader): [string, string] {
  let high = "0";
  let low = "0";
  while (r.pos < r.end) {
    const { field, wire } = r.key();
    expect(wire, VARINT);
    if (field === 1) high = String(r.varint());
    else if (field === 2) low = String(r.varint());
    else throw notCovered;
  }
  return [high, low];
}
