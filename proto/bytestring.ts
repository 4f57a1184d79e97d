/**
 * P4Runtime's bytestring encoding of P4 integers (P4Runtime spec 1.5, "Bytestrings"): big-endian,
 * canonical = the shortest string that holds the value (0 is one zero byte). Receivers accept any
 * length as long as the value fits the P4Info bitwidth; an empty string is always rejected.
 * Shared by the client (encodes requests, decodes replies) and the softswitch server (the
 * reverse), so both sides agree bit for bit.
 */

/** A value that does not fit its P4 type, or a bytestring P4Runtime forbids; maps to OUT_OF_RANGE. */
export class BytestringRangeError extends Error {
  override readonly name = "BytestringRangeError";
  constructor(
    /** What the value is, e.g. `table "bridging" field "vsid"`; starts the message. */
    readonly what: string,
    readonly detail: string,
  ) {
    super(`${what}: ${detail}`);
  }
}

function hex(value: bigint): string {
  return value < 0n ? `-0x${(-value).toString(16)}` : `0x${value.toString(16)}`;
}

function toBigInt(value: bigint | number, what: string): bigint {
  if (typeof value === "bigint") return value;
  if (!Number.isSafeInteger(value)) {
    throw new BytestringRangeError(what, `${value} is not an integer (use a bigint above 2^53)`);
  }
  return BigInt(value);
}

/**
 * Canonical bytestring of an unsigned `bit<W>` value; throws when it does not fit W bits.
 * Safe-integer numbers, nearly every P4 value a controller writes, take a path without bigint or
 * hex strings: it is the inner loop of building large batches of table entries.
 */
export function encodeUnsigned(value: bigint | number, bitwidth: number, what: string): Buffer {
  if (
    typeof value === "number" &&
    Number.isSafeInteger(value) &&
    value >= 0 &&
    (bitwidth >= 53 || value < 2 ** bitwidth)
  ) {
    return encodeSafeInteger(value);
  }
  const v = toBigInt(value, what);
  if (v < 0n || v >> BigInt(bitwidth) !== 0n) {
    throw new BytestringRangeError(what, `${hex(v)} does not fit in ${bitwidth} bits`);
  }
  const digits = v.toString(16);
  return Buffer.from(digits.length % 2 ? `0${digits}` : digits, "hex");
}

/** Canonical big-endian bytes of a non-negative safe integer (at most 7 bytes). */
export function encodeSafeInteger(value: number): Buffer {
  let length = 1;
  while (length < 7 && value >= 2 ** (8 * length)) length++;
  const out = Buffer.allocUnsafe(length);
  let v = value;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

/** The value of a received `bit<W>` bytestring; throws when empty or wider than W bits. */
export function decodeUnsigned(bytes: Uint8Array, bitwidth: number, what: string): bigint {
  if (bytes.length === 0) throw new BytestringRangeError(what, "empty bytestring");
  const v = BigInt(
    `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("hex")}`,
  );
  if (v >> BigInt(bitwidth) !== 0n) {
    throw new BytestringRangeError(what, `${hex(v)} does not fit in ${bitwidth} bits`);
  }
  return v;
}

/** Canonical two's-complement bytestring of a signed `int<W>` value (only in P4Data). */
export function encodeSigned(value: bigint | number, bitwidth: number, what: string): Buffer {
  const v = toBigInt(value, what);
  const limit = 1n << BigInt(bitwidth - 1);
  if (v < -limit || v >= limit) {
    throw new BytestringRangeError(what, `${hex(v)} does not fit in int<${bitwidth}>`);
  }
  // Fewest bytes whose sign bit still reads back as v's sign.
  let length = 1;
  while (v < -(1n << BigInt(8 * length - 1)) || v >= 1n << BigInt(8 * length - 1)) length++;
  const twos = BigInt.asUintN(8 * length, v);
  return Buffer.from(twos.toString(16).padStart(2 * length, "0"), "hex");
}

/** The value of a received `int<W>` bytestring (sign-extended to any length); range-checked. */
export function decodeSigned(bytes: Uint8Array, bitwidth: number, what: string): bigint {
  if (bytes.length === 0) throw new BytestringRangeError(what, "empty bytestring");
  const raw = BigInt(
    `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("hex")}`,
  );
  const v = BigInt.asIntN(8 * bytes.length, raw);
  const limit = 1n << BigInt(bitwidth - 1);
  if (v < -limit || v >= limit) {
    throw new BytestringRangeError(what, `${hex(v)} does not fit in int<${bitwidth}>`);
  }
  return v;
}
