/**
 * One packet in flight: its header vector and the per-packet registers simple_switch keeps beside
 * it (bmv2 targets/simple_switch/register_access.h): clone session and field list, digest list,
 * resubmit and recirculate field lists, plus the exit flag and truncation length.
 */
import { type FieldValue, MAX_NUMBER_BITS } from "./values.js";

/** The arrays a header vector is made of; PhvLayout.initialPhv holds a new packet's. */
export interface PhvArrays {
  values: Float64Array;
  wide: FieldValue[];
  valid: Uint8Array;
  varbitBits: Int32Array;
  stackNext: Int32Array;
  unionStackNext: Int32Array;
}

/** What a vector needs of its layout (layout.ts's PhvLayout, which builds on this file). */
export interface VectorShape {
  readonly initialPhv: PhvArrays;
  readonly wideSlots: readonly number[];
  readonly headers: readonly {
    readonly metadata: boolean;
    readonly fields: readonly { readonly slot: number; readonly width: number }[];
  }[];
}

/**
 * The header vector. Field values live by slot in one of two arrays, chosen by the field's
 * width: up to 53 bits in `values`, unboxed doubles (no heap number per value, a block copy to
 * reset), wider ones as bigints in `wide`. The other array's entry for a slot is unused.
 */
export class Phv implements PhvArrays {
  values: Float64Array;
  wide: FieldValue[];
  valid: Uint8Array;
  /** Current length in bits of each header's varbit field. */
  varbitBits: Int32Array;
  /** Next free index of each header stack (= number of valid elements pushed). */
  stackNext: Int32Array;
  unionStackNext: Int32Array;

  /** A fresh vector (all invalid but metadata, all zero), or a copy of `from`. */
  constructor(
    private readonly layout: VectorShape,
    from?: Phv,
  ) {
    // Copies of prepared arrays: one allocation each and no per-header loop per packet.
    const source = from ?? layout.initialPhv;
    this.values = source.values.slice();
    this.wide = source.wide.slice();
    this.valid = source.valid.slice();
    // Empty arrays (no varbits, stacks or union stacks in the program) are never written: shared.
    this.varbitBits = copyUnlessEmpty(source.varbitBits);
    this.stackNext = copyUnlessEmpty(source.stackNext);
    this.unionStackNext = copyUnlessEmpty(source.unionStackNext);
  }

  /** Back to what `new Phv(layout)` gives, in place (a vector reused for the next packet). */
  reset(): void {
    const initial = this.layout.initialPhv;
    // A block copy of the zeros (twice as fast as fill(0) on a Float64Array).
    this.values.set(initial.values);
    for (const slot of this.layout.wideSlots) this.wide[slot] = ZERO_WIDE;
    this.valid.set(initial.valid);
    if (this.varbitBits.length > 0) this.varbitBits.set(initial.varbitBits);
    if (this.stackNext.length > 0) this.stackNext.set(initial.stackNext);
    if (this.unionStackNext.length > 0) this.unionStackNext.set(initial.unionStackNext);
  }

  /** A copy of everything (bmv2 clone_with_phv). */
  clone(): Phv {
    return new Phv(this.layout, this);
  }

  /** Zeroes metadata only (bmv2 PHV::reset_metadata), keeping headers. */
  resetMetadata(): void {
    for (const h of this.layout.headers) {
      if (!h.metadata) continue;
      for (const f of h.fields) writeSlot(this, f.slot, f.width, 0);
    }
  }
}

function copyUnlessEmpty(a: Int32Array): Int32Array {
  return a.length === 0 ? a : a.slice();
}

const ZERO_WIDE = 0n;

/** A field's value, from the array its width keeps it in. */
export function readSlot(phv: Phv, slot: number, width: number): FieldValue {
  return width > MAX_NUMBER_BITS ? (phv.wide[slot] as FieldValue) : (phv.values[slot] as number);
}

/** Stores a canonical value (a bigint for wide fields, a number otherwise; 0 for any zero). */
export function writeSlot(phv: Phv, slot: number, width: number, value: FieldValue): void {
  if (width > MAX_NUMBER_BITS) phv.wide[slot] = typeof value === "bigint" ? value : BigInt(value);
  else phv.values[slot] = value as number;
}

/** The payload before parsing: one shared empty array, not an allocation per packet. */
const NO_PAYLOAD = new Uint8Array(0);

export class PacketState {
  /**
   * Bytes not consumed by the parser (the payload), after parsing: `payloadFrom` from
   * `payloadStart` on, kept as an offset so parsing makes no view of it per packet.
   */
  payloadFrom: Uint8Array = NO_PAYLOAD;
  payloadStart = 0;

  get payload(): Uint8Array {
    return this.payloadStart === 0
      ? this.payloadFrom
      : this.payloadFrom.subarray(this.payloadStart);
  }

  set payload(bytes: Uint8Array) {
    this.payloadFrom = bytes;
    this.payloadStart = 0;
  }

  get payloadLength(): number {
    return this.payloadFrom.length - this.payloadStart;
  }
  /** Clone session id | valid bit (0 = no clone requested). */
  cloneSession = 0;
  cloneFieldList = 0;
  /** Learn (digest) list id requested by generate_digest, 0 = none. */
  learnList = 0;
  resubmitFieldList = 0;
  recirculateFieldList = 0;
  exited = false;
  truncateLength = Number.POSITIVE_INFINITY;
  /** bmv2's PACKET_LENGTH register: kept in step by add_header/remove_header. */
  packetLength: number;
  /** Length of the frame when it entered the switch; counters and meters count it. */
  ingressLength: number;
  /** Parser error code set by the last parse (bmv2 packet error code). */
  parserError = 0;
  checksumError = false;
  /** Index of the table entry hit last (direct counters/meters of the action). */
  entryIndex = -1;

  constructor(
    readonly phv: Phv,
    /** The frame as received (kept for ingress clones and resubmit). */
    public frame: Uint8Array,
  ) {
    this.packetLength = frame.length;
    this.ingressLength = frame.length;
  }
}
