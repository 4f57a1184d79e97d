/**
 * Property test of the softswitch's match structures (exact maps, LPM per-prefix-length maps,
 * the tuple-space search of ternary/range tables): random tables of every match kind and mix,
 * random inserts, modifies and deletes interleaved with random lookups, each lookup compared with
 * a plain scan of the table's entries under bmv2's rules (lowest priority value wins, ties to
 * the entry added first; LPM: longest prefix). Seeded, so a failure repeats.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type KeyField,
  type KeyKind,
  type MatchParam,
  MatchTable,
  type TableEntry,
  type TableMatchType,
} from "../../softswitch/core/match-table.js";
import type { FieldValue } from "../../softswitch/core/values.js";
import { seededRandom } from "../support/random.js";

const WIDTHS = [1, 3, 8, 12, 16, 32, 48, 53, 64, 128];

function randomBits(rand: () => number, width: number): bigint {
  let v = 0n;
  for (let i = 0; i < width; i += 16) v = (v << 16n) | BigInt(Math.floor(rand() * 65536));
  return BigInt.asUintN(width, v);
}

/** Values of narrow fields are numbers, of wide ones bigints (as the pipeline gives them). */
function asField(v: bigint, width: number): FieldValue {
  return width <= 53 ? Number(v) : v;
}

/** Few distinct values per field, so random keys and entries overlap often. */
function pickValue(rand: () => number, width: number, pool: bigint[]): bigint {
  return rand() < 0.8
    ? (pool[Math.floor(rand() * pool.length)] as bigint)
    : randomBits(rand, width);
}

function randomTable(rand: () => number): { keys: KeyField[]; type: TableMatchType } {
  const type = (["exact", "lpm", "ternary", "range"] as const)[
    Math.floor(rand() * 4)
  ] as TableMatchType;
  const n = 1 + Math.floor(rand() * 3);
  const keys: KeyField[] = [];
  for (let i = 0; i < n; i++) {
    const width = WIDTHS[Math.floor(rand() * WIDTHS.length)] as number;
    let kind: KeyKind = "exact";
    if (type === "lpm" && i === 0) kind = "lpm";
    if (type === "ternary")
      kind = (["exact", "ternary", "lpm", "optional", "ternary"] as const)[
        Math.floor(rand() * 5)
      ] as KeyKind;
    if (type === "range")
      kind = (["exact", "ternary", "range", "optional", "range"] as const)[
        Math.floor(rand() * 5)
      ] as KeyKind;
    keys.push({ name: `f${i}`, kind, width });
  }
  if (type === "ternary" && !keys.some((k) => k.kind === "ternary"))
    (keys[0] as KeyField).kind = "ternary";
  if (type === "range" && !keys.some((k) => k.kind === "range"))
    (keys[0] as KeyField).kind = "range";
  return { keys, type };
}

/** A mask of a few shapes: full, none, a prefix, random bits. */
function randomMask(rand: () => number, width: number): bigint {
  const full = (1n << BigInt(width)) - 1n;
  const r = rand();
  if (r < 0.3) return full;
  if (r < 0.45) return 0n;
  if (r < 0.75) {
    const len = Math.floor(rand() * (width + 1));
    return full ^ ((1n << BigInt(width - len)) - 1n);
  }
  return randomBits(rand, width);
}

function randomParam(rand: () => number, key: KeyField, pool: bigint[]): MatchParam {
  const w = key.width;
  const value = pickValue(rand, w, pool);
  switch (key.kind) {
    case "exact":
      return { kind: "exact", value: asField(value, w) };
    case "lpm":
      return { kind: "lpm", value: asField(value, w), prefixLength: Math.floor(rand() * (w + 1)) };
    case "ternary":
      return { kind: "ternary", value: asField(value, w), mask: asField(randomMask(rand, w), w) };
    case "optional":
      return { kind: "optional", value: asField(value, w), wildcard: rand() < 0.4 };
    case "range": {
      const other =
        rand() < 0.5 ? pickValue(rand, w, pool) : value + BigInt(Math.floor(rand() * 40));
      const [low, high] = value <= other ? [value, other] : [other, value];
      const top = (1n << BigInt(w)) - 1n;
      return { kind: "range", low: asField(low, w), high: asField(high > top ? top : high, w) };
    }
    default:
      throw new Error(`no ${key.kind}`);
  }
}

/** Does one stored (normalised) match parameter accept the key value? */
function paramMatches(m: MatchParam, v: bigint, width: number): boolean {
  const big = (x: FieldValue) => BigInt(x);
  switch (m.kind) {
    case "exact":
      return big(m.value) === v;
    case "valid":
      return (m.value ? 1n : 0n) === v;
    case "lpm": {
      const shift = BigInt(width - m.prefixLength);
      return v >> shift === big(m.value) >> shift;
    }
    case "ternary":
      return (v & big(m.mask)) === (big(m.value) & big(m.mask));
    case "range":
      return v >= big(m.low) && v <= big(m.high);
    case "optional":
      return m.wildcard || big(m.value) === v;
  }
}

/** The reference: every entry checked, the best by bmv2's rules. */
function referenceLookup<A>(
  table: MatchTable<A>,
  keys: readonly KeyField[],
  key: readonly bigint[],
): TableEntry<A> | undefined {
  let best: TableEntry<A> | undefined;
  const rank = (e: TableEntry<A>) => {
    if (table.matchType === "lpm") {
      const m = e.match.find((p) => p.kind === "lpm");
      return -(m?.kind === "lpm" ? m.prefixLength : 0);
    }
    return e.priority;
  };
  for (const e of table.all()) {
    if (!e.match.every((m, i) => paramMatches(m, key[i] as bigint, (keys[i] as KeyField).width)))
      continue;
    if (!best || rank(e) < rank(best) || (rank(e) === rank(best) && e.seq < best.seq)) best = e;
  }
  return best;
}

/** A key near an entry (often matching it), or a random one. */
function randomKey(
  rand: () => number,
  table: MatchTable<number>,
  keys: readonly KeyField[],
  pools: bigint[][],
): bigint[] {
  const entries = [...table.all()];
  const near =
    entries.length > 0 && rand() < 0.7 ? entries[Math.floor(rand() * entries.length)] : undefined;
  return keys.map((k, i) => {
    const w = k.width;
    if (!near) return pickValue(rand, w, pools[i] as bigint[]);
    const m = near.match[i] as MatchParam;
    let v: bigint;
    if (m.kind === "range")
      v = BigInt(m.low) + (rand() < 0.5 ? 0n : BigInt(m.high) - BigInt(m.low));
    else v = BigInt(m.kind === "valid" ? Number(m.value) : m.value);
    // Flip a random bit now and then: misses, and other entries' masks.
    if (rand() < 0.3) v ^= 1n << BigInt(Math.floor(rand() * w));
    return v;
  });
}

describe("match structures against a reference scan (property)", () => {
  it("random tables of every match kind and mix, with inserts, modifies and deletes interleaved", () => {
    let lookups = 0;
    let hits = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const rand = seededRandom(seed);
      const { keys, type } = randomTable(rand);
      const pools = keys.map((k) => Array.from({ length: 4 }, () => randomBits(rand, k.width)));
      const table = new MatchTable<number>(`t${seed}`, keys, type, 400);
      let action = 0;
      for (let step = 0; step < 500; step++) {
        const r = rand();
        const entries = [...table.all()];
        if (r < 0.45) {
          const match = keys.map((k, i) => randomParam(rand, k, pools[i] as bigint[]));
          const priority = Math.floor(rand() * 6);
          try {
            table.add(match, action++, priority);
          } catch (e) {
            // Duplicates (same match and priority) are refused, and must really be duplicates.
            assert.notEqual(table.find(match, priority), undefined, `seed ${seed}: ${String(e)}`);
          }
        } else if (r < 0.55 && entries.length > 0) {
          const e = entries[Math.floor(rand() * entries.length)] as TableEntry<number>;
          table.modify(e.handle, action++);
        } else if (r < 0.7 && entries.length > 0) {
          const e = entries[Math.floor(rand() * entries.length)] as TableEntry<number>;
          assert.equal(table.find(e.match, e.priority), e.handle, `seed ${seed}: find`);
          table.delete(e.handle);
          assert.equal(table.find(e.match, e.priority), undefined, `seed ${seed}: deleted`);
        } else {
          const key = randomKey(rand, table, keys, pools);
          const expected = referenceLookup(table, keys, key);
          const got = table.lookup(key.map((v, i) => asField(v, (keys[i] as KeyField).width)));
          assert.equal(
            got?.handle,
            expected?.handle,
            `seed ${seed} (${type}: ${keys.map((k) => `${k.kind}/${k.width}`).join(" ")}), key ${key}`,
          );
          lookups++;
          if (expected) hits++;
        }
      }
      table.clear();
      assert.equal(table.lookup(keys.map((k) => asField(0n, k.width))), undefined);
    }
    // The generator must exercise both outcomes, not only misses.
    assert.ok(hits > lookups / 4, `${hits} hits of ${lookups} lookups`);
  });
});
