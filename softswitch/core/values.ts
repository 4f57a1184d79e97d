/**
 * Field values. A field of up to 53 bits is a JS number (exact in a double); a wider one is a
 * bigint. Stored values are always canonical: unsigned, in [0, 2^width). JS bitwise operators
 * work on 32-bit signed integers, so nothing here uses them on values that may be wider.
 */

export type FieldValue = number | bigint;

/** Widest field kept as a JS number. */
export const MAX_NUMBER_BITS = 53;

export function isNumberWidth(width: number): boolean {
  return width <= MAX_NUMBER_BITS;
}

/** The zero of a field of this width, in its representation. */
export function zeroOf(width: number): FieldValue {
  return isNumberWidth(width) ? 0 : 0n;
}

/** Parses a bmv2 hexstr ("0x0a0b", "-0x01") into a bigint. */
export function parseHexstr(text: string): bigint {
  const negative = text.startsWith("-");
  const body = negative ? text.slice(1) : text;
  const value = BigInt(body.startsWith("0x") || body.startsWith("0X") ? body : `0x${body}`);
  return negative ? -value : value;
}

/** 2^n for every number width (a table read instead of Math.pow per call). */
const POW2 = Array.from({ length: MAX_NUMBER_BITS + 1 }, (_, n) => 2 ** n);

/** Truncates any integer to `width` bits (two's complement) in the field's representation. */
export function truncate(value: FieldValue, width: number): FieldValue {
  if (isNumberWidth(width)) {
    if (typeof value === "bigint") return Number(BigInt.asUintN(width, value));
    if (value >= 0 && value < (POW2[width] as number)) return value;
    return wrapNumber(value, width);
  }
  return BigInt.asUintN(width, typeof value === "bigint" ? value : BigInt(value));
}

function wrapNumber(value: number, width: number): number {
  if (Number.isSafeInteger(value)) {
    const modulus = 2 ** width;
    const r = value % modulus;
    return r < 0 ? r + modulus : r;
  }
  return Number(BigInt.asUintN(width, BigInt(Math.trunc(value))));
}

/** Interprets a canonical unsigned value of `width` bits as two's complement signed. */
export function toSigned(value: FieldValue, width: number): FieldValue {
  if (typeof value === "bigint") return BigInt.asIntN(width, value);
  return value >= 2 ** (width - 1) ? value - 2 ** width : value;
}

export function toBigInt(value: FieldValue): bigint {
  return typeof value === "bigint" ? value : BigInt(value);
}

/** A safe JS number for an index or length; bigint inputs are expected to be small. */
export function toIndex(value: FieldValue): number {
  return typeof value === "bigint" ? Number(value) : value;
}

/** Reads `width` bits at bit offset `bitOffset` (big-endian, MSB first) from `bytes`. */
export function readBits(bytes: Uint8Array, bitOffset: number, width: number): FieldValue {
  const first = bitOffset >>> 3;
  const lead = bitOffset & 7;
  const span = lead + width;
  const nbytes = (span + 7) >>> 3;
  if (span <= MAX_NUMBER_BITS) {
    let acc = 0;
    for (let i = 0; i < nbytes; i++) acc = acc * 256 + (bytes[first + i] ?? 0);
    const trailing = nbytes * 8 - span;
    acc = Math.floor(acc / 2 ** trailing);
    return acc % 2 ** width;
  }
  let acc = 0n;
  for (let i = 0; i < nbytes; i++) acc = (acc << 8n) | BigInt(bytes[first + i] ?? 0);
  acc >>= BigInt(nbytes * 8 - span);
  const wide = BigInt.asUintN(width, acc);
  return isNumberWidth(width) ? Number(wide) : wide;
}

/** Writes the canonical `value` of `width` bits at bit offset `bitOffset` into `bytes`. */
export function writeBits(
  bytes: Uint8Array,
  bitOffset: number,
  width: number,
  value: FieldValue,
): void {
  if (typeof value === "number") {
    writeNumber(bytes, bitOffset, width, value);
    return;
  }
  // 32 bits at a time from the least significant end: a few BigInt operations, not one per bit.
  let big = value;
  let remaining = width;
  while (remaining > 32) {
    remaining -= 32;
    writeNumber(bytes, bitOffset + remaining, 32, Number(BigInt.asUintN(32, big)));
    big >>= 32n;
  }
  writeNumber(bytes, bitOffset, remaining, Number(BigInt.asUintN(remaining, big)));
}

/** writeBits for a value held in a JS number (up to 53 bits). */
function writeNumber(bytes: Uint8Array, bitOffset: number, width: number, value: number): void {
  let v = value;
  if ((bitOffset & 7) === 0 && (width & 7) === 0) {
    const first = bitOffset >>> 3;
    for (let i = (width >>> 3) - 1; i >= 0; i--) {
      bytes[first + i] = v % 256;
      v = Math.floor(v / 256);
    }
    return;
  }
  // From the least significant end, as many bits per step as the current byte holds.
  let remaining = width;
  while (remaining > 0) {
    const last = bitOffset + remaining - 1;
    const shift = 7 - (last & 7);
    const n = Math.min(remaining, 8 - shift);
    const mask = ((1 << n) - 1) << shift;
    const at = last >>> 3;
    bytes[at] = ((bytes[at] as number) & ~mask) | ((v % (1 << n)) << shift);
    v = Math.floor(v / (1 << n));
    remaining -= n;
  }
}

/** The big-endian bytes of a value, `nbytes` long (bmv2 byte-padded field representation). */
export function valueBytes(value: FieldValue, nbytes: number): Uint8Array {
  const out = new Uint8Array(nbytes);
  writeBits(out, 0, nbytes * 8, value);
  return out;
}

/** Parses a hexstr into a canonical value of `width` bits. */
export function hexstrValue(text: string, width: number): FieldValue {
  return truncate(parseHexstr(text), width);
}
