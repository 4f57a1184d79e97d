/**
 * Bytestrings in and out of the server (P4Runtime 1.3+ "Bytestrings"): a received value may be
 * padded with leading zeros but must fit its P4Info bitwidth (PI: INVALID_ARGUMENT "Bytestring
 * provided does not fit within N bits"); every value sent back is canonical, the shortest form.
 * PI also takes an empty bytestring as 0; the spec forbids it, and so does the softswitch.
 * Values of up to 53 bits, nearly all of them, are converted with plain numbers (no bigint or
 * hex strings), which keeps large batched writes and reads cheap.
 */
import {
  BytestringRangeError,
  decodeUnsigned,
  encodeSafeInteger,
  encodeUnsigned,
} from "../../proto/bytestring.js";
import { type FieldValue, isNumberWidth, toBigInt, truncate } from "../core/values.js";
import { invalidArgument } from "./errors.js";

function tooWide(bitwidth: number, what: string) {
  return invalidArgument(`Bytestring provided does not fit within ${bitwidth} bits`, `${what}`);
}

/** The value of a received bytestring of a `bitwidth`-bit object; `what` names it in errors. */
export function decodeBits(bytes: Uint8Array, bitwidth: number, what: string): bigint {
  try {
    return decodeUnsigned(bytes, bitwidth, what);
  } catch (error) {
    if (!(error instanceof BytestringRangeError)) throw error;
    if (bytes.length === 0) throw invalidArgument(`Empty bytestring for ${what}`);
    throw tooWide(bitwidth, what);
  }
}

/** As decodeBits, in the softswitch's field representation. */
export function decodeField(bytes: Uint8Array, bitwidth: number, what: string): FieldValue {
  if (!isNumberWidth(bitwidth)) return truncate(decodeBits(bytes, bitwidth, what), bitwidth);
  if (bytes.length === 0) throw invalidArgument(`Empty bytestring for ${what}`);
  const limit = 2 ** bitwidth;
  let value = 0;
  for (let i = 0; i < bytes.length; i++) {
    value = value * 256 + (bytes[i] as number);
    // Leading zero bytes keep value at 0; anything at or above 2^bitwidth does not fit.
    if (value >= limit) throw tooWide(bitwidth, what);
  }
  return value;
}

/** The canonical bytestring of a stored value. */
export function encodeField(value: FieldValue, bitwidth: number): Buffer {
  if (typeof value === "number") return encodeSafeInteger(value);
  return encodeUnsigned(toBigInt(value), Math.max(bitwidth, 1), "value");
}
