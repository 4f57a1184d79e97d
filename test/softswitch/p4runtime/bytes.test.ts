/**
 * The server's bytestring conversions agree with the project's bigint reference
 * (proto/bytestring.ts) for every width up to 64 bits: padded input accepted, values that do not
 * fit refused with PI's message, output canonical.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeUnsigned, encodeUnsigned } from "../../../proto/bytestring.js";
import { toBigInt } from "../../../softswitch/core/values.js";
import { decodeField, encodeField } from "../../../softswitch/p4runtime/bytes.js";
import { P4RuntimeError } from "../../../softswitch/p4runtime/errors.js";

/** Deterministic pseudo-random bigints below 2^64 (xorshift), so failures reproduce. */
function* values(count: number): Generator<bigint> {
  let x = 0x9e3779b97f4a7c15n;
  for (let i = 0; i < count; i++) {
    x ^= (x << 13n) & 0xffff_ffff_ffff_ffffn;
    x ^= x >> 7n;
    x ^= (x << 17n) & 0xffff_ffff_ffff_ffffn;
    yield x;
  }
}

test("decodeField and encodeField match the bigint reference for widths 1..64", () => {
  for (let width = 1; width <= 64; width++) {
    const limit = 1n << BigInt(width);
    for (const raw of values(50)) {
      const v = raw % limit;
      const canonical = encodeUnsigned(v, width, "v");
      const padded = Buffer.concat([Buffer.alloc(3), canonical]);
      assert.equal(toBigInt(decodeField(padded, width, "v")), decodeUnsigned(padded, width, "v"));
      assert.deepEqual(encodeField(decodeField(canonical, width, "v"), width), canonical);
      const tooWide = encodeUnsigned(v + limit, width + 1, "v");
      assert.throws(
        () => decodeField(tooWide, width, "field f"),
        (e: unknown) =>
          e instanceof P4RuntimeError &&
          e.message === `Bytestring provided does not fit within ${width} bits` &&
          e.detail === "field f",
      );
    }
  }
  assert.throws(() => decodeField(Buffer.alloc(0), 9, "port"), /Empty bytestring for port/);
});
