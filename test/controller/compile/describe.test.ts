/**
 * Entities as text for people: every value in the notation of its width (not guessed from its
 * name), IPv6 in RFC 5952 form, don't-care fields left out.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { describeEntity, valueText } from "../../../controller/compile/describe.js";

describe("entities described for people", () => {
  test("a value's width gives its notation", () => {
    assert.equal(valueText(0x0a000102n, 32), "10.0.1.2");
    assert.equal(valueText(0x5e005301n, 48), "00:00:5e:00:53:01");
    assert.equal(valueText(0x5001n, 24), "0x5001");
    assert.equal(valueText(49n, 9), "49");
    assert.equal(valueText(0n, 128), "::");
  });

  test("IPv6 text is RFC 5952's: the first longest zero run as ::, a lone zero group kept", () => {
    const v6 = (hex: string) => valueText(BigInt(`0x${hex}`), 128);
    assert.equal(v6("20010db8000000000001000000000001"), "2001:db8::1:0:0:1");
    assert.equal(v6("20010db8000000010001000100010001"), "2001:db8:0:1:1:1:1:1");
    assert.equal(v6("fd000001000100000000000000000010"), "fd00:1:1::10");
    assert.equal(v6("fe800000000000000000000000000000"), "fe80::");
    assert.equal(v6("0000000000000000000000000a000001"), "::a00:1");
  });

  test("table entries name their fields; don't care is left out; priority and idle timeout", () => {
    assert.equal(
      describeEntity({
        kind: "table",
        table: "source_guard",
        match: [
          { name: "vsid", bitwidth: 24, value: 0x5001n },
          { name: "port", bitwidth: 9, value: undefined },
          {
            name: "src_ca",
            bitwidth: 128,
            value: { value: 0xfe80n << 112n, mask: 0xffc0n << 112n },
          },
          { name: "dst_pa", bitwidth: 32, value: { value: 0x0a000000n, prefixLength: 8 } },
        ],
        priority: 10,
        target: { action: "known_source", params: [] },
        idleTimeoutNs: 300e9,
      }),
      "source_guard vsid=0x5001 src_ca=fe80::&ffc0:: dst_pa=10.0.0.0/8 #10 → known_source(), idle timeout 300 s",
    );
    assert.equal(
      describeEntity({
        kind: "member",
        profile: "ecmp_selector",
        id: 2,
        action: {
          action: "set_next_hop",
          params: [
            { name: "port", bitwidth: 9, value: 31n },
            { name: "smac", bitwidth: 48, value: undefined },
          ],
        },
      }),
      "ecmp_selector member 2 → set_next_hop(port=31, smac=?)",
      "a parameter the switch did not send shows as ?",
    );
  });
});
