/**
 * One packet in flight: its header vector and the per-packet registers simple_switch keeps beside
 * it (bmv2 targets/simple_switch/register_access.h): clone session and field list, digest list,
 * resubmit and recirculate field lists, plus the exit flag and truncation length.
 */
import type { PhvLayout } from "./layout.js";
import type { FieldValue } from "./values.js";

export class Phv {
  values: FieldValue[];
  valid: Uint8Array;
  /** Current length in bits of each header's varbit field. */
  varbitBits: Int32Array;
  /** Next free index of each header stack (= number of valid elements pushed). */
  stackNext: Int32Array;
  unionStackNext: Int32Array;

  /** A fresh vector (all invalid but metadata, all zero), or a copy of `from`. */
  constructor(
    private readonly layout: PhvLayout,
    from?: Phv,
  ) {
    // Copies of prepared arrays: one allocation each and no per-header loop per packet.
    const source = from ?? layout.initialPhv;
    this.values = source.values.slice();
    this.valid = source.valid.slice();
    // Empty arrays (no varbits, stacks or union stacks in the program) are never written: shared.
    this.varbitBits = copyUnlessEmpty(source.varbitBits);
    this.stackNext = copyUnlessEmpty(source.stackNext);
    this.unionStackNext = copyUnlessEmpty(source.unionStackNext);
  }

  /** Back to what `new Phv(layout)` gives, in place (a vector reused for the next packet). */
  reset(): void {
    const initial = this.layout.initialPhv;
    // A fresh copy of the zeros: one block copy, where storing into each slot of the old array
    // costs a write barrier per slot.
    this.values = initial.values.slice();
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
      for (const f of h.fields) this.values[f.slot] = this.layout.zeroValues[f.slot] as FieldValue;
    }
  }
}

function copyUnlessEmpty(a: Int32Array): Int32Array {
  return a.length === 0 ? a : a.slice();
}

/** The payload before parsing: one shared empty array, not an allocation per packet. */
const NO_PAYLOAD = new Uint8Array(0);

export class PacketState {
  /** Bytes not consumed by the parser (the payload), after parsing. */
  payload: Uint8Array = NO_PAYLOAD;
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
