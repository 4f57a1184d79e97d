/** Cases are the P4Runtime 1.5 spec's own tables of valid and invalid bytestrings. */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  BytestringRangeError,
  decodeSigned,
  decodeUnsigned,
  encodeSigned,
  encodeUnsigned,
} from "../../proto/bytestring.js";

const b = (hex: string) => Buffer.from(hex, "hex");

const valid: {
  type: "bit" | "int";
  width: number;
  value: bigint;
  bytes: string;
  canonical: boolean;
}[] = [
  { type: "bit", width: 8, value: 0x63n, bytes: "63", canonical: true },
  { type: "bit", width: 16, value: 0x63n, bytes: "0063", canonical: false },
  { type: "bit", width: 16, value: 0x63n, bytes: "63", canonical: true },
  { type: "bit", width: 16, value: 0x3064n, bytes: "3064", canonical: true },
  { type: "bit", width: 16, value: 0x3064n, bytes: "003064", canonical: false },
  { type: "bit", width: 12, value: 0x63n, bytes: "0063", canonical: false },
  { type: "bit", width: 12, value: 0x63n, bytes: "63", canonical: true },
  { type: "bit", width: 12, value: 0x63n, bytes: "000063", canonical: false },
  { type: "int", width: 8, value: 99n, bytes: "63", canonical: true },
  { type: "int", width: 8, value: -99n, bytes: "9d", canonical: true },
  { type: "int", width: 8, value: -99n, bytes: "ff9d", canonical: false },
  { type: "int", width: 12, value: -739n, bytes: "fd1d", canonical: true },
  { type: "int", width: 16, value: 0n, bytes: "0000", canonical: false },
  { type: "int", width: 16, value: 0n, bytes: "00", canonical: true },
];

for (const c of valid) {
  test(`${c.type}<${c.width}> ${c.value} as ${c.bytes} decodes${c.canonical ? " and is what we encode" : ""}`, () => {
    const decode = c.type === "bit" ? decodeUnsigned : decodeSigned;
    assert.equal(decode(b(c.bytes), c.width, "x"), c.value);
    if (c.canonical) {
      const encode = c.type === "bit" ? encodeUnsigned : encodeSigned;
      assert.equal(encode(c.value, c.width, "x").toString("hex"), c.bytes);
    }
  });
}

const invalid: { type: "bit" | "int"; width: number; bytes: string }[] = [
  { type: "bit", width: 8, bytes: "0163" },
  { type: "bit", width: 8, bytes: "" },
  { type: "bit", width: 16, bytes: "010063" },
  { type: "bit", width: 12, bytes: "1063" },
  { type: "bit", width: 12, bytes: "010063" },
  { type: "bit", width: 12, bytes: "004063" },
  { type: "int", width: 8, bytes: "009d" },
  { type: "int", width: 12, bytes: "8d1d" },
  { type: "int", width: 16, bytes: "" },
];

for (const c of invalid) {
  test(`${c.type}<${c.width}> rejects "${c.bytes}" as out of range`, () => {
    const decode = c.type === "bit" ? decodeUnsigned : decodeSigned;
    assert.throws(() => decode(b(c.bytes), c.width, "x"), BytestringRangeError);
  });
}

test("zero encodes as a single zero byte; wide values round-trip through bigint", () => {
  assert.equal(encodeUnsigned(0, 9, "port").toString("hex"), "00");
  const ipv6 = 0x20010db8000000000000000000000001n;
  assert.equal(
    encodeUnsigned(ipv6, 128, "addr").toString("hex"),
    "20010db8000000000000000000000001",
  );
  assert.equal(decodeUnsigned(encodeUnsigned(ipv6, 128, "addr"), 128, "addr"), ipv6);
});

test("errors name the value, what it is and the width it missed", () => {
  assert.throws(() => encodeUnsigned(0x1000000, 24, 'table "bridging" field "vsid"'), {
    name: "BytestringRangeError",
    message: 'table "bridging" field "vsid": 0x1000000 does not fit in 24 bits',
  });
  assert.throws(() => encodeUnsigned(-1, 8, "ttl"), /ttl: -0x1 does not fit in 8 bits/);
  assert.throws(() => encodeUnsigned(2 ** 60, 64, "big"), /not an integer \(use a bigint/);
  assert.throws(() => encodeSigned(128, 8, "delta"), /delta: 0x80 does not fit in int<8>/);
});
