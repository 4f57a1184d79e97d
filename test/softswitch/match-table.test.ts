import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MatchTable, TableError } from "../../softswitch/core/match-table.js";

describe("MatchTable", () => {
  it("exact: hits on the full key, rejects duplicates", () => {
    const t = new MatchTable<string>("t", [{ name: "a", kind: "exact", width: 48 }], "exact", 8);
    t.add([{ kind: "exact", value: 0x0000_0000_0001 }], "one");
    assert.equal(t.lookup([1])?.action, "one");
    assert.equal(t.lookup([2]), undefined);
    assert.throws(
      () => t.add([{ kind: "exact", value: 1 }], "dup"),
      (e: unknown) => e instanceof TableError && e.code === "DUPLICATE_ENTRY",
    );
  });

  it("exact over several fields, including a wide (bigint) one", () => {
    const t = new MatchTable<string>(
      "t",
      [
        { name: "a", kind: "exact", width: 16 },
        { name: "b", kind: "exact", width: 128 },
      ],
      "exact",
      8,
    );
    t.add(
      [
        { kind: "exact", value: 7 },
        { kind: "exact", value: 1n << 100n },
      ],
      "x",
    );
    assert.equal(t.lookup([7, 1n << 100n])?.action, "x");
    assert.equal(t.lookup([7, 1n]), undefined);
  });

  it("lpm: the longest prefix wins", () => {
    const t = new MatchTable<string>("r", [{ name: "dst", kind: "lpm", width: 32 }], "lpm", 8);
    t.add([{ kind: "lpm", value: 0x0a000000, prefixLength: 8 }], "/8");
    t.add([{ kind: "lpm", value: 0x0a010000, prefixLength: 16 }], "/16");
    t.add([{ kind: "lpm", value: 0, prefixLength: 0 }], "/0");
    assert.equal(t.lookup([0x0a010203])?.action, "/16");
    assert.equal(t.lookup([0x0a020203])?.action, "/8");
    assert.equal(t.lookup([0x0b000000])?.action, "/0");
  });

  it("ternary: the numerically lowest priority wins (bmv2), ties go to the first added", () => {
    const t = new MatchTable<string>(
      "acl",
      [{ name: "x", kind: "ternary", width: 8 }],
      "ternary",
      8,
    );
    t.add([{ kind: "ternary", value: 0x10, mask: 0xf0 }], "broad", 20);
    t.add([{ kind: "ternary", value: 0x12, mask: 0xff }], "narrow", 10);
    t.add([{ kind: "ternary", value: 0x00, mask: 0x00 }], "any", 10);
    assert.equal(t.lookup([0x12])?.action, "narrow");
    assert.equal(t.lookup([0x13])?.action, "any");
    t.delete(t.find([{ kind: "ternary", value: 0, mask: 0 }], 10) as number);
    assert.equal(t.lookup([0x13])?.action, "broad");
  });

  it("range and optional fields", () => {
    const t = new MatchTable<string>(
      "r",
      [
        { name: "port", kind: "range", width: 16 },
        { name: "proto", kind: "optional", width: 8 },
      ],
      "range",
      8,
    );
    t.add(
      [
        { kind: "range", low: 1000, high: 2000 },
        { kind: "optional", value: 6, wildcard: false },
      ],
      "tcp",
      1,
    );
    t.add(
      [
        { kind: "range", low: 0, high: 0xffff },
        { kind: "optional", value: 0, wildcard: true },
      ],
      "rest",
      2,
    );
    assert.equal(t.lookup([1500, 6])?.action, "tcp");
    assert.equal(t.lookup([1500, 17])?.action, "rest");
    assert.equal(t.lookup([3000, 6])?.action, "rest");
  });

  it("rejects malformed keys and full tables", () => {
    const t = new MatchTable<string>("t", [{ name: "a", kind: "exact", width: 8 }], "exact", 1);
    assert.throws(
      () => t.add([], "x"),
      (e: unknown) => e instanceof TableError && e.code === "BAD_MATCH_KEY",
    );
    t.add([{ kind: "exact", value: 1 }], "x");
    assert.throws(
      () => t.add([{ kind: "exact", value: 2 }], "y"),
      (e: unknown) => e instanceof TableError && e.code === "TABLE_FULL",
    );
  });
});
