/**
 * Addresses as the fabric file writes them: dotted quads take their own path
 * (bench/address-parsing), everything else ipaddr.js; both must give the same canonical text,
 * value and hex, and refuse the same inputs.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import ipaddr from "ipaddr.js";
import { AddressSyntaxError, parseIp } from "../../../controller/intent/addresses.js";

test("a dotted quad parses to what ipaddr.js makes of it: text, value, hex", () => {
  for (const text of ["0.0.0.0", "10.1.2.3", "192.0.2.255", "255.255.255.255", "1.0.0.10"]) {
    const bytes = ipaddr.IPv4.parse(text).toByteArray();
    const value = bytes.reduce((v, b) => (v << 8n) | BigInt(b), 0n);
    assert.deepEqual(parseIp(text), { family: 4, text, value, hex: value.toString(16) }, text);
  }
});

test("what is not one dotted quad is refused, naming it, as before the own path", () => {
  for (const text of [
    "10.0.0.256",
    "010.1.1.1",
    "10.1.1",
    "10.1.1.1.1",
    "1.2.3.4 ",
    "0x0a.1.1.1",
    "1..2.3",
  ]) {
    assert.throws(
      () => parseIp(text),
      (error: Error) => {
        assert.ok(error instanceof AddressSyntaxError, text);
        assert.match(error.message, new RegExp(`"${text.replaceAll(".", "\\.")}" is not an IPv4`));
        return true;
      },
    );
  }
});

test("IPv6, and IPv4 written inside IPv6, still go through ipaddr.js (RFC 5952 text)", () => {
  assert.equal(parseIp("2001:DB8:0:0::1").text, "2001:db8::1");
  assert.deepEqual(
    { ...parseIp("::ffff:10.1.2.3") },
    { family: 6, text: "::ffff:a01:203", value: 0xffff0a010203n, hex: "ffff0a010203" },
  );
});
