/**
 * Match-action table storage and lookup for every bmv2 match kind (bm_sim match_units.cpp,
 * lookup_structures.cpp). Exact tables are hash maps; LPM tables are one map per prefix length,
 * probed longest first; ternary/range tables (which also hold exact, optional and lpm fields) are
 * a tuple-space search (`tuple-space.ts`), where, as in bmv2, the numerically LOWEST priority
 * wins and ties go to the entry added first.
 */

import { type MaskedField, TupleSpace } from "./tuple-space.js";
import { type FieldValue, MAX_NUMBER_BITS, toBigInt, truncate } from "./values.js";

/** 2^n for every number width. */
const POW2 = Array.from({ length: MAX_NUMBER_BITS + 1 }, (_, n) => 2 ** n);

export type KeyKind = "exact" | "lpm" | "ternary" | "range" | "valid" | "optional";

export interface KeyField {
  name: string;
  kind: KeyKind;
  /** Bit width of the key field (1 for `valid`). */
  width: number;
}

export type MatchParam =
  | { kind: "exact"; value: FieldValue }
  | { kind: "valid"; value: boolean }
  | { kind: "lpm"; value: FieldValue; prefixLength: number }
  | { kind: "ternary"; value: FieldValue; mask: FieldValue }
  | { kind: "range"; low: FieldValue; high: FieldValue }
  /** `wildcard` = don't care (bmv2 stores it as a ternary with mask 0). */
  | { kind: "optional"; value: FieldValue; wildcard: boolean };

export type TableErrorCode =
  | "BAD_MATCH_KEY"
  | "DUPLICATE_ENTRY"
  | "TABLE_FULL"
  | "INVALID_HANDLE"
  | "IMMUTABLE_TABLE";

export class TableError extends Error {
  constructor(
    readonly code: TableErrorCode,
    readonly table: string,
    detail: string,
  ) {
    super(`table "${table}": ${code}: ${detail}`);
    this.name = "TableError";
  }
}

export interface TableEntry<A> {
  handle: number;
  match: readonly MatchParam[];
  priority: number;
  action: A;
  /** Direct counter cells (when the table has direct counters). */
  packets: number;
  bytes: number;
  /** Order of insertion, for ties. */
  seq: number;
  /** When the entry was added or last matched (µs, switch clock); kept by ageing tables. */
  lastHit: number;
}

export type TableMatchType = "exact" | "lpm" | "ternary" | "range";

export class MatchTable<A> {
  private readonly entries = new Map<number, TableEntry<A>>();
  private nextHandle = 0;
  private seq = 0;
  /**
   * Exact entries: one Map level per key group (`groups`), the entry at the last level. Keys
   * are numbers (narrow fields packed together) or bigints (a wide field): no strings to build
   * and hash per lookup.
   */
  private readonly exact = new Map<unknown, unknown>();
  /** Exact keys: runs of narrow fields of at most 53 bits in all, or one wide field each. */
  private readonly groups: { first: number; count: number }[] = [];
  /** LPM: prefix length → (exact fields + truncated prefix) → entry. */
  private readonly lpm = new Map<number, Map<number | string, TableEntry<A>>>();
  private lpmLengths: number[] = [];
  /** Ternary and range tables: entries by mask combination. */
  private readonly classifier: TupleSpace<TableEntry<A>>;
  private readonly lpmIndex: number;
  private readonly singleExact: boolean;
  /** Exact keys of all-narrow fields totalling at most 53 bits are one number, not a string. */
  private readonly numericKey: boolean;
  readonly usesPriority: boolean;

  constructor(
    readonly name: string,
    readonly keys: readonly KeyField[],
    readonly matchType: TableMatchType,
    readonly maxSize: number,
  ) {
    this.lpmIndex = keys.findIndex((k) => k.kind === "lpm");
    this.singleExact = keys.length === 1;
    this.numericKey = keys.reduce((n, k) => n + k.width, 0) <= MAX_NUMBER_BITS;
    let bits = 0;
    keys.forEach((k, i) => {
      const last = this.groups[this.groups.length - 1];
      const narrow = k.width <= MAX_NUMBER_BITS;
      if (last && narrow && bits + k.width <= MAX_NUMBER_BITS) {
        last.count++;
        bits += k.width;
      } else {
        this.groups.push({ first: i, count: 1 });
        bits = narrow ? k.width : MAX_NUMBER_BITS + 1;
      }
    });
    this.usesPriority = matchType === "ternary" || matchType === "range";
    this.classifier = new TupleSpace(keys.map((k) => k.width));
  }

  /**
   * Number of entries (read it, never write it): a plain field kept in step with `entries`, as
   * generated code reads it for every table a packet meets and a getter call is not always
   * inlined there.
   */
  entryCount = 0;

  get size(): number {
    return this.entryCount;
  }

  get(handle: number): TableEntry<A> | undefined {
    return this.entries.get(handle);
  }

  all(): IterableIterator<TableEntry<A>> {
    return this.entries.values();
  }

  /** Adds an entry and returns its handle. */
  add(match: readonly MatchParam[], action: A, priority = 0): number {
    const normalized = this.normalize(match);
    if (this.entries.size >= this.maxSize) {
      throw new TableError("TABLE_FULL", this.name, `max size ${this.maxSize} reached`);
    }
    const handle = this.nextHandle++;
    const entry: TableEntry<A> = {
      handle,
      match: normalized,
      priority: this.usesPriority ? priority : 0,
      action,
      packets: 0,
      bytes: 0,
      seq: this.seq++,
      lastHit: 0,
    };
    this.insert(entry);
    this.entries.set(handle, entry);
    this.entryCount = this.entries.size;
    return handle;
  }

  modify(handle: number, action: A): void {
    const entry = this.entries.get(handle);
    if (!entry) throw new TableError("INVALID_HANDLE", this.name, `no entry ${handle}`);
    entry.action = action;
  }

  delete(handle: number): void {
    const entry = this.entries.get(handle);
    if (!entry) throw new TableError("INVALID_HANDLE", this.name, `no entry ${handle}`);
    this.entries.delete(handle);
    this.entryCount = this.entries.size;
    if (this.matchType === "exact") this.exactDelete(entry.match);
    else if (this.matchType === "lpm") {
      const prefix = this.prefixOf(entry.match);
      this.lpm.get(prefix)?.delete(this.lpmKey(entry.match, prefix));
    } else this.classifier.remove(entry);
  }

  clear(): void {
    this.entries.clear();
    this.entryCount = 0;
    this.exact.clear();
    this.lpm.clear();
    this.lpmLengths = [];
    this.classifier.clear();
  }

  /** Finds the handle of an entry with exactly this match (and priority, where it counts). */
  find(match: readonly MatchParam[], priority = 0): number | undefined {
    const normalized = this.normalize(match);
    if (this.matchType === "exact") {
      const entry = this.singleExact
        ? (this.exact.get(exactValue(normalized[0] as MatchParam)) as TableEntry<A> | undefined)
        : this.exactGet(normalized.map(exactValue));
      return entry?.handle;
    }
    if (this.matchType === "lpm") {
      const prefix = this.prefixOf(normalized);
      return this.lpm.get(prefix)?.get(this.lpmKey(normalized, prefix))?.handle;
    }
    return this.classifier.find(this.maskedFields(normalized), priority)?.handle;
  }

  /** Looks a packet's key up (values already truncated to each key field's width). */
  lookup(key: readonly FieldValue[]): TableEntry<A> | undefined {
    switch (this.matchType) {
      case "exact":
        return this.singleExact
          ? (this.exact.get(key[0]) as TableEntry<A> | undefined)
          : this.exactGet(key);
      case "lpm":
        for (const prefix of this.lpmLengths) {
          const hit = this.lpm.get(prefix)?.get(this.lpmKeyOf(key, prefix));
          if (hit) return hit;
        }
        return undefined;
      default:
        return this.classifier.lookup(key);
    }
  }

  /** The first level of exact entries, for generated lookups (`exactLookupSource`). */
  get exactRoot(): Map<unknown, unknown> {
    return this.exact;
  }

  /**
   * Source of an exact lookup from the root map `root`, given the source of each key field's
   * value and a temporary variable `temp`; it evaluates to the entry or undefined.
   */
  exactLookupSource(root: string, parts: readonly string[], temp: string): string {
    const keys = this.groups.map((group) => {
      if (group.count === 1) return parts[group.first] as string;
      let acc = parts[group.first] as string;
      for (let i = group.first + 1; i < group.first + group.count; i++) {
        acc = `(${acc} * ${POW2[(this.keys[i] as KeyField).width]} + ${parts[i]})`;
      }
      return acc;
    });
    if (keys.length === 1) return `${root}.get(${keys[0]})`;
    // (t = root.get(k0)) === undefined ? undefined : (t = t.get(k1)) === undefined ? ... : t.get(kn)
    const steps = keys.map((key, i) =>
      i === 0 ? `(${temp} = ${root}.get(${key}))` : `(${temp} = ${temp}.get(${key}))`,
    );
    const last = `${temp}.get(${keys[keys.length - 1]})`;
    return `${steps
      .slice(0, -1)
      .map((step) => `${step} === undefined ? undefined : `)
      .join("")}${last}`;
  }

  /** The group keys of an exact key. */
  private groupKeys(values: readonly FieldValue[]): unknown[] {
    return this.groups.map((group) => {
      if (group.count === 1) return values[group.first];
      let acc = 0;
      for (let i = group.first; i < group.first + group.count; i++) {
        acc = acc * (POW2[(this.keys[i] as KeyField).width] as number) + (values[i] as number);
      }
      return acc;
    });
  }

  private exactGet(values: readonly FieldValue[]): TableEntry<A> | undefined {
    let level: unknown = this.exact;
    for (const key of this.groupKeys(values)) {
      level = (level as Map<unknown, unknown>).get(key);
      if (level === undefined) return undefined;
    }
    return level as TableEntry<A>;
  }

  /** Adds an entry; false when one with the same key exists. */
  private exactSet(match: readonly MatchParam[], entry: TableEntry<A>): boolean {
    if (this.singleExact) {
      // A single field is its own key: no arrays on the write path.
      const key = exactValue(match[0] as MatchParam);
      if (this.exact.has(key)) return false;
      this.exact.set(key, entry);
      return true;
    }
    const keys = this.groupKeys(match.map(exactValue));
    let level = this.exact;
    for (const key of keys.slice(0, -1)) {
      let next = level.get(key) as Map<unknown, unknown> | undefined;
      if (!next) {
        next = new Map();
        level.set(key, next);
      }
      level = next;
    }
    const last = keys[keys.length - 1];
    if (level.has(last)) return false;
    level.set(last, entry);
    return true;
  }

  /** Removes an entry, and the levels it leaves empty. */
  private exactDelete(match: readonly MatchParam[]): void {
    if (this.singleExact) {
      this.exact.delete(exactValue(match[0] as MatchParam));
      return;
    }
    const keys = this.groupKeys(match.map(exactValue));
    const path: Map<unknown, unknown>[] = [this.exact];
    for (const key of keys.slice(0, -1)) {
      const next = (path[path.length - 1] as Map<unknown, unknown>).get(key);
      if (!next) return;
      path.push(next as Map<unknown, unknown>);
    }
    for (let i = keys.length - 1; i >= 0; i--) {
      const level = path[i] as Map<unknown, unknown>;
      level.delete(keys[i]);
      if (level.size > 0 || i === 0) return;
    }
  }

  private insert(entry: TableEntry<A>): void {
    if (this.matchType === "exact") {
      if (!this.exactSet(entry.match, entry)) {
        throw new TableError("DUPLICATE_ENTRY", this.name, "same key");
      }
      return;
    }
    if (this.matchType === "lpm") {
      const prefix = this.prefixOf(entry.match);
      let group = this.lpm.get(prefix);
      if (!group) {
        group = new Map();
        this.lpm.set(prefix, group);
        this.lpmLengths = [...this.lpm.keys()].sort((a, b) => b - a);
      }
      const key = this.lpmKey(entry.match, prefix);
      if (group.has(key)) throw new TableError("DUPLICATE_ENTRY", this.name, "same key");
      group.set(key, entry);
      return;
    }
    if (!this.classifier.insert(entry, this.maskedFields(entry.match))) {
      throw new TableError("DUPLICATE_ENTRY", this.name, "same key and priority");
    }
  }

  private normalize(match: readonly MatchParam[]): MatchParam[] {
    if (match.length !== this.keys.length) {
      throw new TableError(
        "BAD_MATCH_KEY",
        this.name,
        `${match.length} match fields given, table has ${this.keys.length}`,
      );
    }
    return match.map((m, i) => this.normalizeParam(m, this.keys[i] as KeyField));
  }

  /** One match parameter in the table's stored form; no closure or copy on the common path. */
  private normalizeParam(m: MatchParam, key: KeyField): MatchParam {
    const w = key.width;
    const compatible =
      m.kind === key.kind ||
      (key.kind === "optional" && (m.kind === "exact" || m.kind === "ternary")) ||
      (key.kind === "ternary" && m.kind === "exact");
    if (!compatible) throw this.badKey(key, `${m.kind} given for a ${key.kind} field`);
    switch (m.kind) {
      case "exact": {
        const value = truncate(m.value, w);
        // Already in range (as the control plane gives it): kept, not copied.
        if (key.kind === "exact") return value === m.value ? m : { kind: "exact", value };
        return { kind: "ternary", value, mask: truncate(-1n, w) };
      }
      case "valid":
        return m;
      case "lpm":
        if (m.prefixLength < 0 || m.prefixLength > w) {
          throw this.badKey(key, `prefix length ${m.prefixLength}`);
        }
        return { kind: "lpm", value: truncate(m.value, w), prefixLength: m.prefixLength };
      case "ternary":
        return { kind: "ternary", value: truncate(m.value, w), mask: truncate(m.mask, w) };
      case "range":
        if (toBigInt(m.low) > toBigInt(m.high)) throw this.badKey(key, "range low > high");
        return { kind: "range", low: truncate(m.low, w), high: truncate(m.high, w) };
      case "optional":
        return {
          kind: "ternary",
          value: m.wildcard ? truncate(0, w) : truncate(m.value, w),
          mask: m.wildcard ? truncate(0, w) : truncate(-1n, w),
        };
      default:
        throw this.badKey(key, "unknown match kind");
    }
  }

  private badKey(key: KeyField, why: string): TableError {
    return new TableError("BAD_MATCH_KEY", this.name, `field "${key.name}": ${why}`);
  }

  private prefixOf(match: readonly MatchParam[]): number {
    const m = match[this.lpmIndex];
    return m?.kind === "lpm" ? m.prefixLength : 0;
  }

  private lpmKey(match: readonly MatchParam[], prefix: number): number | string {
    return this.lpmKeyOf(
      match.map((m) => (m.kind === "lpm" ? m.value : exactValue(m))),
      prefix,
    );
  }

  /**
   * Exact parts as they are, the LPM field reduced to its top `prefix` bits (one map per prefix
   * length): one number when the fields fit 53 bits, a string otherwise.
   */
  private lpmKeyOf(values: readonly FieldValue[], prefix: number): number | string {
    if (this.numericKey) {
      let acc = 0;
      for (let i = 0; i < values.length; i++) {
        const v = values[i] as number;
        if (i === this.lpmIndex) {
          const drop = (this.keys[i] as KeyField).width - prefix;
          acc = acc * (POW2[prefix] as number) + Math.floor(v / (POW2[drop] as number));
        } else acc = acc * (POW2[(this.keys[i] as KeyField).width] as number) + v;
      }
      return acc;
    }
    let out = "";
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as FieldValue;
      if (i === this.lpmIndex) {
        const drop = (this.keys[i] as KeyField).width - prefix;
        const top = typeof v === "number" ? Math.floor(v / 2 ** drop) : v >> BigInt(drop);
        out += `${top}/`;
      } else out += `${v},`;
    }
    return out;
  }

  private maskedFields(match: readonly MatchParam[]): MaskedField[] {
    return match.map((m, i) => {
      const w = (this.keys[i] as KeyField).width;
      const full = (1n << BigInt(w)) - 1n;
      switch (m.kind) {
        case "exact":
          return { value: toBigInt(m.value), mask: full };
        case "valid":
          return { value: m.value ? 1n : 0n, mask: 1n };
        case "lpm": {
          const mask = full ^ ((1n << BigInt(w - m.prefixLength)) - 1n);
          return { value: toBigInt(m.value) & mask, mask };
        }
        case "ternary": {
          const mask = toBigInt(m.mask);
          return { value: toBigInt(m.value) & mask, mask };
        }
        case "range":
          return { value: 0n, mask: 0n, low: toBigInt(m.low), high: toBigInt(m.high) };
        default:
          return { value: 0n, mask: 0n };
      }
    });
  }
}

function exactValue(m: MatchParam): FieldValue {
  if (m.kind === "exact") return m.value;
  if (m.kind === "valid") return m.value ? 1 : 0;
  return 0;
}
