/**
 * Bytestrings in and out of the server (P4Runtime 1.3+ "Bytestrings"): a received value may be
 * padded with leading zeros but must fit its P4Info bitwidth (PI: INVALID_ARGUMENT "Bytestring
 * provided does not fit within N bits"); every value sent back is canonical, the shortest form.
 * PI also takes an empty bytestring as 0; the spec forbids it, and so does the softswitch.
 */
import { BytestringRangeError, decodeUnsigned, encodeUnsigned } from "../../proto/bytestring.js";
import { type FieldValue, toBigInt, truncate } from "../pipeline/values.js";
import { invalidArgument } from "./errors.js";

/** The value of a received bytestring of a `bitwidth`-bit object; `what` names it in errors. */
export function decodeBits(bytes: Uint8Array, bitwidth: number, what: string): bigint {
  try {
    return decodeUnsigned(bytes, bitwidth, what);
  } catch (error) {
    if (!(error instanceof BytestringRangeError)) throw error;
    if (bytes.length === 0) throw invalidArgument(`Empty bytestring for ${what}`);
    throw invalidArgument(`Bytestring provided does not fit within ${bitwidth} bits (${what})`);
  }
}

/** As decodeBits, in the softswitch's field representation. */
export function decodeField(bytes: Uint8Array, bitwidth: number, what: string): FieldValue {
  return truncate(decodeBits(bytes, bitwidth, what), bitwidth);
}

/** The canonical bytestring of a stored value. */
export function encodeField(value: FieldValue, bitwidth: number): Buffer {
  return encodeUnsigned(toBigInt(value), Math.max(bitwidth, 1), "value");
}
