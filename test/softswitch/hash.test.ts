import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { csum16 } from "../../common/checksum.js";
import { Hasher, identity, xor16 } from "../../softswitch/core/hash.js";

const ascii = (s: string) => new TextEncoder().encode(s);

describe("bmv2 hash algorithms", () => {
  it("crc32 is the reflected CRC-32 (check value of 123456789)", () => {
    assert.equal(new Hasher("crc32").fn(ascii("123456789")), 0xcbf43926n);
  });

  it("crc16 is CRC-16/ARC, as bmv2's reflected 0x8005 table gives", () => {
    assert.equal(new Hasher("crc16").fn(ascii("123456789")), 0xbb3dn);
  });

  it("custom CRCs default to the plain ones and can be reconfigured", () => {
    const h = new Hasher("crc16_custom");
    assert.equal(h.fn(ascii("123456789")), 0xbb3dn);
    // CRC-16/CCITT-FALSE: poly 0x1021, init 0xffff, no reflection; check value 0x29b1.
    h.setCrcConfig({
      polynomial: 0x1021,
      initialRemainder: 0xffff,
      finalXor: 0,
      reflectData: false,
      reflectRemainder: false,
    });
    assert.equal(h.fn(ascii("123456789")), 0x29b1n);
  });

  it("csum16 is the Internet checksum of an IPv4 header", () => {
    // RFC 1071 example header with the checksum field zeroed; expected checksum 0xb861.
    const header = Uint8Array.from([
      0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00,
      0x01, 0xc0, 0xa8, 0x00, 0xc7,
    ]);
    assert.equal(csum16(header), 0xb861);
    assert.equal(csum16(Uint8Array.from([0x01])), 0xfeff);
  });

  it("xor16 folds big-endian words, a trailing byte being a high byte", () => {
    assert.equal(xor16(Uint8Array.from([0x12, 0x34, 0x56, 0x78, 0x9a])), 0x1234 ^ 0x5678 ^ 0x9a00);
  });

  it("identity takes the first 8 bytes big-endian", () => {
    assert.equal(identity(Uint8Array.from([1, 2, 3])), 0x010203n);
    assert.equal(identity(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9])), 0x0102030405060708n);
  });
});
