/**
 * Header (de)serialisation between packet bytes and the header vector, compiled per header type:
 * source for the generated parser and deparser (byte-aligned fields read and written as whole
 * bytes, others through the bit helpers), and a codec per header for what is chosen per packet
 * (stack elements, varbit headers, whole headers in hash inputs).
 */

import type { HeaderLayout } from "../core/layout.js";
import { type Phv, readSlot, writeSlot } from "../core/packet.js";
import { readBits, truncate, writeBits } from "../core/values.js";
import { CodeGen, slotSource, vectorPrelude } from "./codegen.js";

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

export function compileHeaderCodec(header: HeaderLayout): HeaderCodec {
  const fixedBytes = header.fixedBits >>> 3;
  const index = header.index;
  /** Field after field at their widths now (a varbit field's current length), from any bit. */
  const emitBits = (phv: Phv, out: Uint8Array, bitOffset: number) => {
    let bit = bitOffset;
    for (const f of header.fields) {
      const width = f.varbit ? (phv.varbitBits[index] as number) : f.width;
      if (width > 0) writeBits(out, bit, width, readSlot(phv, f.slot, f.width));
      bit += width;
    }
  };
  const emit = (phv: Phv, out: Uint8Array, offset: number) => emitBits(phv, out, offset * 8);
  if (header.varbitSlot < 0) {
    // The parser's own extraction code (extractCode), as a function of its own.
    const g = new CodeGen(`extract_${header.name}`);
    const extract = g.build<HeaderCodec["extract"]>(
      "phv, d, at",
      `${vectorPrelude("phv")}${extractCode(g, header, "d", "at")}`,
    );
    return { byteLength: () => fixedBytes, extract, emit, emitBits };
  }
  // With a varbit field, offsets after it depend on its current length.
  const varbitMaxWidth = header.fields.find((f) => f.varbit)?.width ?? 0;
  return {
    byteLength: (phv) => fixedBytes + ((phv.varbitBits[index] as number) >>> 3),
    extract(phv, bytes, offset, varbitBits) {
      phv.varbitBits[index] = varbitBits;
      let bit = offset * 8;
      for (const f of header.fields) {
        const width = f.varbit ? varbitBits : f.width;
        const v = width > 0 ? readBits(bytes, bit, width) : 0;
        writeSlot(phv, f.slot, f.width, f.varbit ? truncate(v, varbitMaxWidth) : v);
        bit += width;
      }
      phv.valid[index] = 1;
    },
    emit,
    emitBits,
  };
}

/** A value packed into or read from bytes: its width and where it lives in the vector. */
export interface PackItem {
  width: number;
  /** Source of the value (a field `v[slot]`, or a constant). */
  src: string;
  /** Slot of a field (extraction), -1 for a constant. */
  slot: number;
}

/**
 * A run of items that starts and ends on a byte boundary: read or written as one number when it
 * spans at most 32 bits (or is a single item of up to 53 bits), item by item otherwise.
 */
interface Chunk {
  /** Byte offset of the chunk from the start. */
  byte: number;
  bits: number;
  items: PackItem[];
}

function chunksOf(items: readonly PackItem[]): Chunk[] {
  const chunks: Chunk[] = [];
  let bit = 0;
  let current: Chunk | undefined;
  for (const item of items) {
    current ??= { byte: bit >>> 3, bits: 0, items: [] };
    current.items.push(item);
    current.bits += item.width;
    bit += item.width;
    if (bit % 8 === 0) {
      chunks.push(current);
      current = undefined;
    }
  }
  if (current) chunks.push(current);
  return chunks;
}

/** Whole-number chunks: up to 32 bits, or one item of up to 53 bits, ending on a byte. */
function isNumberChunk(c: Chunk): boolean {
  if (c.bits % 8 !== 0) return false;
  return c.bits <= 32 || (c.items.length === 1 && c.bits <= 53);
}

const fieldItems = (header: HeaderLayout): PackItem[] =>
  header.fields.map((f) => ({ width: f.width, src: slotSource(f.slot, f.width), slot: f.slot }));

/** Source for `n` bytes at `at` of `data` as one big-endian number (exact up to 53 bits). */
function bytesSource(data: string, at: string, n: number): string {
  const terms: string[] = [];
  for (let i = 0; i < n; i++) {
    const weight = 2 ** (8 * (n - 1 - i));
    terms.push(weight === 1 ? `${data}[${at} + ${i}]` : `${data}[${at} + ${i}] * ${weight}`);
  }
  return terms.join(" + ");
}

/**
 * Source extracting a fixed-size header (no varbit) from `data` at byte `at` into the vector,
 * marking it valid; bounds are the caller's. Fields are read as `readBits` reads them.
 */
export function extractCode(g: CodeGen, header: HeaderLayout, data: string, at: string): string {
  let code = "";
  for (const c of chunksOf(fieldItems(header))) {
    const base = `${at} + ${c.byte}`;
    if (!isNumberChunk(c)) {
      let bit = c.byte * 8;
      for (const f of c.items) {
        code += `${f.src} = ${g.ref(readBits)}(${data}, (${at}) * 8 + ${bit}, ${f.width});\n`;
        bit += f.width;
      }
      continue;
    }
    const only = c.items.length === 1 ? c.items[0] : undefined;
    if (only) {
      code += `v[${only.slot}] = ${bytesSource(data, base, c.bits / 8)};\n`;
      continue;
    }
    // Up to 32 bits: unsigned shifts and masks split the number into its fields.
    const x = g.local("x");
    code += `const ${x} = ${bytesSource(data, base, c.bits / 8)};\n`;
    let shift = c.bits;
    for (const f of c.items) {
      shift -= f.width;
      const mask = 2 ** f.width - 1;
      code += `v[${f.slot}] = ${f.width === 32 ? x : `(${x} >>> ${shift}) & ${mask}`};\n`;
    }
  }
  return `${code}V[${header.index}] = 1;\n`;
}

/** Source writing a fixed-size header into `out` at byte `at` (what the codec's emit does). */
export function emitCode(g: CodeGen, header: HeaderLayout, out: string, at: string): string {
  return packCode(g, fieldItems(header), out, at);
}

/**
 * Source writing canonical values (fields or constants) bit after bit into `out` from byte
 * `at`, as `writeBits` would one by one. Bits of a last partial byte are merged, not cleared.
 */
export function packCode(
  g: CodeGen,
  items: readonly PackItem[],
  out: string,
  at: string,
  /** A DataView of `out`, when there is one: wide fields go in 64 bits at a time. */
  view?: string,
): string {
  let code = "";
  for (const c of chunksOf(items)) {
    if (!isNumberChunk(c)) {
      let bit = c.byte * 8;
      for (const f of c.items) {
        if (view && f.width % 64 === 0 && bit % 8 === 0) {
          // A bigint of 64n bits: its 64-bit words, least significant last.
          const b = g.local("b");
          code += `{ let ${b} = ${f.src};\n`;
          for (let word = f.width / 64 - 1; word >= 0; word--) {
            const byte = `${at} + ${bit / 8 + word * 8}`;
            // setBigUint64 keeps the value modulo 2^64 itself.
            code += `${view}.setBigUint64(${byte}, ${b});\n`;
            if (word > 0) code += `${b} >>= 64n;\n`;
          }
          code += "}\n";
          bit += f.width;
          continue;
        }
        code += `${g.ref(writeBits)}(${out}, (${at}) * 8 + ${bit}, ${f.width}, ${f.src});\n`;
        bit += f.width;
      }
      continue;
    }
    const n = c.bits / 8;
    // The chunk's value, composed from its items (exact: at most 53 bits).
    let value = "";
    let shift = c.bits;
    for (const f of c.items) {
      shift -= f.width;
      const term = shift === 0 ? f.src : `${f.src} * ${2 ** shift}`;
      value = value ? `${value} + ${term}` : term;
    }
    const x = g.local("x");
    code += `const ${x} = ${value};\n`;
    // Uint8Array stores keep the low 8 bits; `>>>` works on the value modulo 2^32.
    const high = n > 4 ? g.local("h") : "";
    if (high) code += `const ${high} = Math.floor(${x} / 4294967296);\n`;
    for (let i = 0; i < n; i++) {
      const fromEnd = n - 1 - i;
      const source = fromEnd < 4 ? x : high;
      const s = 8 * (fromEnd < 4 ? fromEnd : fromEnd - 4);
      code += `${out}[${at} + ${c.byte + i}] = ${s === 0 ? source : `${source} >>> ${s}`};\n`;
    }
  }
  return code;
}
