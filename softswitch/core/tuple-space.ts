/**
 * Tuple-space search for tables whose entries carry masks or ranges (ternary and range tables,
 * with any exact, LPM, optional or valid fields mixed in), after Open vSwitch's classifier:
 * entries with the same mask on every field share a tuple, which is a hash of the masked key;
 * a lookup probes one hash per tuple, tuples visited best priority first, and stops once no
 * tuple left can hold a better entry. Range fields are expanded into prefixes (each prefix one
 * more place of the entry) while that stays small; wider ranges are left out of the hash and
 * checked per entry. Every candidate is checked against its full match, so a hash may be lossy.
 *
 * Order as bmv2's ternary/range lookup (bm_sim lookup_structures.cpp): the numerically lowest
 * priority wins; among equal priorities the entry added first (bmv2 takes the lowest internal
 * handle, which is the order of adding until a deleted handle is reused; P4Runtime leaves
 * equal-priority overlaps unspecified).
 */
import { type FieldValue, MAX_NUMBER_BITS, toBigInt } from "./values.js";

/** One key field of an entry in comparison form: (key & mask) === value, or low ≤ key ≤ high. */
export interface MaskedField {
  value: bigint;
  mask: bigint;
  low?: bigint;
  high?: bigint;
}

/** What the classifier orders entries by: lower priority first, then lower seq. */
export interface Ranked {
  readonly priority: number;
  readonly seq: number;
}

/**
 * A MaskedField of a key field of at most 53 bits, as numbers: the mask and value split in
 * 32-bit halves (int32 bit operations), the range bounds as they are.
 */
interface NumberMaskedField {
  maskHigh: number;
  maskLow: number;
  valueHigh: number;
  valueLow: number;
  low: number;
  high: number;
  range: boolean;
}

const TWO_32 = 2 ** 32;

/** Tables of at most this many entries are scanned in order: cheaper than a hash per tuple. */
const SMALL_TABLE = 8;

/** Most places one entry takes through range expansion; beyond, ranges are checked per entry. */
const RANGE_EXPANSION_LIMIT = 64;

function numberMasked(f: MaskedField): NumberMaskedField {
  const mask = splitHalves(f.mask);
  const value = splitHalves(f.value);
  return {
    maskHigh: mask.high,
    maskLow: mask.low | 0,
    valueHigh: value.high,
    valueLow: value.low,
    low: Number(f.low ?? 0n),
    high: Number(f.high ?? 0n),
    range: f.low !== undefined,
  };
}

function splitHalves(x: bigint): { high: number; low: number } {
  return { high: Number(x >> 32n), low: Number(BigInt.asUintN(32, x)) };
}

/** Does a key field of at most 53 bits match? */
function matchesNumber(f: NumberMaskedField, v: number): boolean {
  if (f.range) return v >= f.low && v <= f.high;
  if ((v & f.maskLow) >>> 0 !== f.valueLow) return false;
  return f.maskHigh === 0 || (Math.floor(v / TWO_32) & f.maskHigh) === f.valueHigh;
}

/** Does a wider key field match? */
function matchesBigInt(f: MaskedField, v: bigint): boolean {
  if (f.low !== undefined) return v >= f.low && v <= (f.high as bigint);
  return (v & f.mask) === f.value;
}

/** The prefixes (value, mask) that cover [low, high] exactly, on `width` bits. */
export function rangePrefixes(
  low: bigint,
  high: bigint,
  width: number,
): { value: bigint; mask: bigint }[] {
  const full = (1n << BigInt(width)) - 1n;
  const out: { value: bigint; mask: bigint }[] = [];
  let at = low;
  while (at <= high) {
    // The largest aligned block starting at `at` that stays within `high`.
    let size = 1n;
    while ((at & (size * 2n - 1n)) === 0n && at + size * 2n - 1n <= high && size * 2n <= full + 1n)
      size *= 2n;
    out.push({ value: at, mask: full ^ (size - 1n) });
    at += size;
  }
  return out;
}

/** One mask combination and the entries under it. */
interface Tuple<E extends Ranked> {
  /** Per field, the mask hashed: 32-bit halves for narrow fields, a bigint for wide ones. */
  maskHigh: number[];
  maskLow: number[];
  maskWide: bigint[];
  /** Masked key → entries in order (lossy hash for narrow keys: candidates are checked). */
  buckets: Map<number | string, Placed<E>[]>;
  /** The distinct priorities held, ascending, and how many places hold each. */
  priorities: number[];
  counts: Map<number, number>;
  id: string;
}

interface Placed<E extends Ranked> {
  entry: E;
  fields: MaskedField[];
  numbers: (NumberMaskedField | undefined)[];
  places: { tuple: Tuple<E>; key: number | string }[];
  signature: string;
}

function before(a: Ranked, b: Ranked): boolean {
  return a.priority < b.priority || (a.priority === b.priority && a.seq < b.seq);
}

/** First index in a sorted array whose value is ≥ x. */
function lowerBound(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class TupleSpace<E extends Ranked> {
  private readonly tuples = new Map<string, Tuple<E>>();
  /** Non-empty tuples, best (lowest) priority first. */
  private order: Tuple<E>[] = [];
  private readonly placed = new Map<E, Placed<E>>();
  /** Match + priority → entry, for duplicate checks and finds in O(1). */
  private readonly bySignature = new Map<string, Placed<E>>();
  /** Every entry in order, while there are at most SMALL_TABLE of them. */
  private small: Placed<E>[] | undefined = [];
  private readonly narrow: boolean[];
  /** All fields at most 53 bits wide: buckets keyed by a 32-bit hash, not a string. */
  private readonly hashed: boolean;

  constructor(private readonly widths: readonly number[]) {
    this.narrow = widths.map((w) => w <= MAX_NUMBER_BITS);
    this.hashed = this.narrow.every(Boolean);
  }

  /** The entry with exactly this match and priority. */
  find(fields: readonly MaskedField[], priority: number): E | undefined {
    return this.bySignature.get(signatureOf(fields, priority))?.entry;
  }

  /** Adds an entry; false (nothing changed) when one with the same match and priority exists. */
  insert(entry: E, fields: MaskedField[]): boolean {
    const signature = signatureOf(fields, entry.priority);
    if (this.bySignature.has(signature)) return false;
    const rec: Placed<E> = {
      entry,
      fields,
      numbers: fields.map((f, i) => (this.narrow[i] ? numberMasked(f) : undefined)),
      places: [],
      signature,
    };
    for (const choice of this.placements(fields)) {
      const tuple = this.tupleFor(choice.map((c) => c.mask));
      const key = this.storedKey(tuple, choice);
      rec.places.push({ tuple, key });
      let bucket = tuple.buckets.get(key);
      if (!bucket) {
        bucket = [];
        tuple.buckets.set(key, bucket);
      }
      let at = bucket.length;
      while (at > 0 && before(entry, (bucket[at - 1] as Placed<E>).entry)) at--;
      bucket.splice(at, 0, rec);
      this.countPriority(tuple, entry.priority, +1);
    }
    this.placed.set(entry, rec);
    this.bySignature.set(signature, rec);
    this.keepSmall();
    return true;
  }

  /** The in-order list of a small table, kept while the table stays small. */
  private keepSmall(): void {
    this.small =
      this.placed.size <= SMALL_TABLE
        ? [...this.placed.values()].sort((a, b) => (before(a.entry, b.entry) ? -1 : 1))
        : undefined;
  }

  remove(entry: E): void {
    const rec = this.placed.get(entry);
    if (!rec) return;
    this.placed.delete(entry);
    this.bySignature.delete(rec.signature);
    for (const { tuple, key } of rec.places) {
      const bucket = tuple.buckets.get(key) as Placed<E>[];
      bucket.splice(bucket.indexOf(rec), 1);
      if (bucket.length === 0) tuple.buckets.delete(key);
      this.countPriority(tuple, entry.priority, -1);
    }
    this.keepSmall();
  }

  clear(): void {
    this.tuples.clear();
    this.order = [];
    this.placed.clear();
    this.bySignature.clear();
    this.small = [];
  }

  /** The best entry matching a packet's key (values truncated to each field's width). */
  lookup(key: readonly FieldValue[]): E | undefined {
    const small = this.small;
    if (small !== undefined) {
      for (const rec of small) if (this.matches(rec, key)) return rec.entry;
      return undefined;
    }
    let best: Placed<E> | undefined;
    for (const tuple of this.order) {
      if (best !== undefined && (tuple.priorities[0] as number) > best.entry.priority) break;
      const bucket = tuple.buckets.get(
        this.hashed ? this.numberKey(tuple, key) : this.stringKey(tuple, key),
      );
      if (bucket === undefined) continue;
      for (const rec of bucket) {
        if (best !== undefined && !before(rec.entry, best.entry)) break;
        if (this.matches(rec, key)) {
          best = rec;
          break;
        }
      }
    }
    return best?.entry;
  }

  private matches(rec: Placed<E>, key: readonly FieldValue[]): boolean {
    for (let i = 0; i < rec.fields.length; i++) {
      const n = rec.numbers[i];
      const ok = n
        ? matchesNumber(n, key[i] as number)
        : matchesBigInt(rec.fields[i] as MaskedField, toBigInt(key[i] as FieldValue));
      if (!ok) return false;
    }
    return true;
  }

  /**
   * The (value, mask) hashed per field, for each place of an entry: a range field expanded
   * into prefixes while the places stay within RANGE_EXPANSION_LIMIT, else not hashed.
   */
  private placements(
    fields: readonly MaskedField[],
  ): (readonly { value: bigint; mask: bigint }[])[] {
    // Without ranges, an entry has one place: its own masks (no arrays to build).
    if (!fields.some((f) => f.low !== undefined)) return [fields];
    let places: { value: bigint; mask: bigint }[][] = [[]];
    fields.forEach((f, i) => {
      let options = [{ value: f.value, mask: f.mask }];
      if (f.low !== undefined) {
        const prefixes = rangePrefixes(f.low, f.high as bigint, this.widths[i] as number);
        options =
          places.length * prefixes.length <= RANGE_EXPANSION_LIMIT
            ? prefixes
            : [{ value: 0n, mask: 0n }];
      }
      places = places.flatMap((p) => options.map((o) => [...p, o]));
    });
    return places;
  }

  private tupleFor(masks: bigint[]): Tuple<E> {
    const id = masks.join(",");
    const known = this.tuples.get(id);
    if (known) return known;
    const tuple: Tuple<E> = {
      maskHigh: masks.map((m, i) => (this.narrow[i] ? splitHalves(m).high : 0)),
      maskLow: masks.map((m, i) => (this.narrow[i] ? splitHalves(m).low | 0 : 0)),
      maskWide: masks,
      buckets: new Map(),
      priorities: [],
      counts: new Map(),
      id,
    };
    this.tuples.set(id, tuple);
    return tuple;
  }

  /** Keeps a tuple's priorities, and the tuples' order when a tuple's best one changes. */
  private countPriority(tuple: Tuple<E>, priority: number, delta: number): void {
    const count = (tuple.counts.get(priority) ?? 0) + delta;
    const bestBefore = tuple.priorities[0];
    if (count > 0) {
      if (!tuple.counts.has(priority)) {
        tuple.priorities.splice(lowerBound(tuple.priorities, priority), 0, priority);
      }
      tuple.counts.set(priority, count);
    } else {
      tuple.counts.delete(priority);
      tuple.priorities.splice(lowerBound(tuple.priorities, priority), 1);
    }
    if (tuple.priorities.length === 0) {
      this.tuples.delete(tuple.id);
      this.order = this.order.filter((t) => t !== tuple);
    } else if (bestBefore === undefined) {
      this.order.push(tuple);
      this.sortOrder();
    } else if (tuple.priorities[0] !== bestBefore) this.sortOrder();
  }

  private sortOrder(): void {
    this.order.sort((a, b) => (a.priorities[0] as number) - (b.priorities[0] as number));
  }

  /** The bucket key of a stored place (its masked values), as `numberKey`/`stringKey` give. */
  private storedKey(tuple: Tuple<E>, choice: readonly { value: bigint }[]): number | string {
    const values = choice.map((c, i) =>
      this.narrow[i] ? Number(c.value) : c.value,
    ) as FieldValue[];
    return this.hashed ? this.numberKey(tuple, values) : this.stringKey(tuple, values);
  }

  /** A 32-bit hash of the key under the tuple's masks (narrow fields only). */
  private numberKey(tuple: Tuple<E>, key: readonly FieldValue[]): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) {
      const v = key[i] as number;
      const low = (v & (tuple.maskLow[i] as number)) >>> 0;
      const mh = tuple.maskHigh[i] as number;
      const high = mh === 0 ? 0 : Math.floor(v / TWO_32) & mh;
      h = Math.imul(h ^ low, 0x85ebca6b);
      h ^= h >>> 13;
      h = Math.imul(h ^ high, 0xc2b2ae35);
      h ^= h >>> 16;
    }
    return h;
  }

  /** The key under the tuple's masks as text (tables with a field wider than 53 bits). */
  private stringKey(tuple: Tuple<E>, key: readonly FieldValue[]): string {
    let out = "";
    for (let i = 0; i < key.length; i++) {
      const v = key[i] as FieldValue;
      if (this.narrow[i]) {
        const mh = tuple.maskHigh[i] as number;
        const high = mh === 0 ? 0 : Math.floor((v as number) / TWO_32) & mh;
        out += `${high * TWO_32 + (((v as number) & (tuple.maskLow[i] as number)) >>> 0)},`;
      } else out += `${(toBigInt(v) & (tuple.maskWide[i] as bigint)).toString(16)},`;
    }
    return out;
  }
}

function signatureOf(fields: readonly MaskedField[], priority: number): string {
  let out = `${priority}`;
  for (const f of fields) out += `|${f.value}/${f.mask}/${f.low ?? ""}/${f.high ?? ""}`;
  return out;
}
