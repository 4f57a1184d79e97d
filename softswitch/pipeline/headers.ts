/**
 * Header (de)serialisation between packet bytes and the header vector, compiled per header type:
 * byte-aligned fields read and write whole bytes; others go through the bit helpers.
 */
import type { HeaderLayout } from "./layout.js";
import type { Phv } from "./packet.js";
import { type FieldValue, readBits, truncate, writeBits } from "./values.js";

export interface HeaderCodec {
  /** Size in bytes of the header as it is now (fixed part + current varbit length). */
  byteLength(phv: Phv): number;
  /** Reads the header from `bytes` at `offset`, with `varbitBits` for its varbit field. */
  extract(phv: Phv, bytes: Uint8Array, offset: number, varbitBits: number): void;
  /** Writes the header into `out` at `offset`. */
  emit(phv: Phv, out: Uint8Array, offset: number): void;
  /** Writes the header at a bit offset (hash input building: fields may be unaligned). */
  emitBits(phv: Phv, out: Uint8Array, bitOffset: number): void;
}

type Reader = (bytes: Uint8Array, at: number) => FieldValue;

function readerFor(bitOffset: number, width: number): Reader {
  if ((bitOffset & 7) === 0 && (width & 7) === 0 && width <= 48) {
    const start = bitOffset >>> 3;
    const n = width >>> 3;
    return (bytes, at) => {
      let v = 0;
      const base = at + start;
      for (let i = 0; i < n; i++) v = v * 256 + (bytes[base + i] as number);
      return v;
    };
  }
  return (bytes, at) => readBits(bytes, at * 8 + bitOffset, width);
}

type Writer = (out: Uint8Array, at: number, value: FieldValue) => void;

/** Byte-aligned fields of whole bytes are stored directly, wider than 32 bits in two parts. */
function writerFor(bitOffset: number, width: number): Writer {
  if ((bitOffset & 7) === 0 && (width & 7) === 0 && width <= 48) {
    const start = bitOffset >>> 3;
    const n = width >>> 3;
    if (n <= 4) {
      return (out, at, value) => {
        const v = value as number;
        const base = at + start;
        for (let i = n - 1, shift = 0; i >= 0; i--, shift += 8) out[base + i] = v >>> shift;
      };
    }
    return (out, at, value) => {
      const v = value as number;
      const base = at + start;
      const low = v >>> 0;
      const high = Math.floor(v / 0x100000000);
      for (let i = n - 1, shift = 0; i >= n - 4; i--, shift += 8) out[base + i] = low >>> shift;
      for (let i = n - 5, shift = 0; i >= 0; i--, shift += 8) out[base + i] = high >>> shift;
    };
  }
  return (out, at, value) => writeBits(out, at * 8 + bitOffset, width, value);
}

export function compileHeaderCodec(header: HeaderLayout): HeaderCodec {
  const fixedBytes = header.fixedBits >>> 3;
  const index = header.index;
  if (header.varbitSlot < 0) {
    let bit = 0;
    const fields = header.fields.map((f) => {
      const entry = {
        slot: f.slot,
        width: f.width,
        bitOffset: bit,
        read: readerFor(bit, f.width),
        write: writerFor(bit, f.width),
      };
      bit += f.width;
      return entry;
    });
    return {
      byteLength: () => fixedBytes,
      extract(phv, bytes, offset) {
        const values = phv.values;
        for (let i = 0; i < fields.length; i++) {
          const f = fields[i] as (typeof fields)[number];
          values[f.slot] = f.read(bytes, offset);
        }
        phv.valid[index] = 1;
      },
      emit(phv, out, offset) {
        const values = phv.values;
        for (let i = 0; i < fields.length; i++) {
          const f = fields[i] as (typeof fields)[number];
          f.write(out, offset, values[f.slot] as FieldValue);
        }
      },
      emitBits(phv, out, bitOffset) {
        for (const f of fields) {
          writeBits(out, bitOffset + f.bitOffset, f.width, phv.values[f.slot] as FieldValue);
        }
      },
    };
  }
  // With a varbit field, offsets after it depend on its current length.
  const varbitMaxWidth = header.fields.find((f) => f.varbit)?.width ?? 0;
  const layout = (phv: Phv) => {
    const vbits = phv.varbitBits[index] as number;
    return header.fields.map((f) => ({ slot: f.slot, width: f.varbit ? vbits : f.width }));
  };
  const emitAt = (phv: Phv, out: Uint8Array, bitOffset: number) => {
    let bit = bitOffset;
    for (const f of layout(phv)) {
      if (f.width > 0) writeBits(out, bit, f.width, phv.values[f.slot] as FieldValue);
      bit += f.width;
    }
  };
  return {
    byteLength: (phv) => fixedBytes + ((phv.varbitBits[index] as number) >>> 3),
    extract(phv, bytes, offset, varbitBits) {
      phv.varbitBits[index] = varbitBits;
      let bit = offset * 8;
      for (const f of layout(phv)) {
        const isVarbit = f.slot === header.varbitSlot;
        const v = f.width > 0 ? readBits(bytes, bit, f.width) : 0;
        phv.values[f.slot] = isVarbit ? truncate(v, varbitMaxWidth) : v;
        bit += f.width;
      }
      phv.valid[index] = 1;
    },
    emit: (phv, out, offset) => emitAt(phv, out, offset * 8),
    emitBits: emitAt,
  };
}
