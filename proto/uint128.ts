/**
 * P4Runtime's Uint128 (election ids) as the loader gives it, decimal-string halves (--longs=String),
 * to and from bigint. Shared by the client and the softswitch server.
 */

/** Uint128 with decimal-string halves, the form the loader uses for 64-bit integers. */
export function toUint128(value: bigint): { high: string; low: string } {
  return { high: (value >> 64n).toString(), low: (value & 0xffff_ffff_ffff_ffffn).toString() };
}

export function fromUint128(value: { high: string; low: string } | null | undefined): bigint {
  return value ? (BigInt(value.high) << 64n) | BigInt(value.low) : 0n;
}
