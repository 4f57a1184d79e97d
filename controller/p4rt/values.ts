/**
 * Turns what operators write (numbers, bigints, MAC and IP strings, bytes) into P4 integers of
 * a given bitwidth, with errors that name the object and field ("bridging.dst_mac: ...").
 */
import ipaddr from "ipaddr.js";
import { BytestringRangeError, decodeUnsigned, encodeUnsigned } from "../../proto/bytestring.js";

export type P4Value = bigint | number | string | Uint8Array;

const macPattern = /^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$/i;

/** The integer a value stands for: MAC and IP strings by their bytes, "0x…" and decimal strings as numbers. */
export function toInteger(value: P4Value, what: string): bigint {
  if (typeof value === "bigint") return value;
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value))
      throw new BytestringRangeError(what, `${value} is not an integer`);
    return BigInt(value);
  }
  if (value instanceof Uint8Array) {
    return value.length === 0 ? 0n : BigInt(`0x${Buffer.from(value).toString("hex")}`);
  }
  const text = value.trim();
  if (macPattern.test(text)) return BigInt(`0x${text.replace(/[:-]/g, "")}`);
  if (/^(0x[0-9a-f]+|\d+)$/i.test(text)) return BigInt(text);
  if (ipaddr.isValid(text))
    return BigInt(`0x${Buffer.from(ipaddr.parse(text).toByteArray()).toString("hex")}`);
  throw new BytestringRangeError(
    what,
    `"${value}" is neither a number, a MAC address nor an IP address`,
  );
}

/** Canonical P4Runtime bytes of a value that must fit `bitwidth` bits. */
export function toBytes(value: P4Value, bitwidth: number, what: string): Buffer {
  // Integers go to the encoder as numbers: it has a path for them without bigint.
  if (typeof value === "number" && Number.isSafeInteger(value)) {
    return encodeUnsigned(value, bitwidth, what);
  }
  return encodeUnsigned(toInteger(value, what), bitwidth, what);
}

export function fromBytes(bytes: Uint8Array, bitwidth: number, what: string): bigint {
  return decodeUnsigned(bytes, bitwidth, what);
}

/** A mask of the top `prefixLength` bits of a `bitwidth`-bit field. */
export function prefixMask(prefixLength: number, bitwidth: number): bigint {
  return ((1n << BigInt(prefixLength)) - 1n) << BigInt(bitwidth - prefixLength);
}
