/**
 * Match-action table storage and lookup for every bmv2 match kind (bm_sim match_units.cpp,
 * lookup_structures.cpp). Exact tables are hash maps; LPM tables are one map per prefix length,
 * probed longest first; ternary/range tables (which also hold optional and lpm fields) scan
 * entries in priority order, where, as in bmv2, the numerically LOWEST priority wins and ties go
 * to the entry added first.
 */
import { type FieldValue, MAX_NUMBER_BITS, toBigInt, truncate } from "../pipeline/values.js";

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

/** One key field of a ternary-kind entry in comparison form: (key & mask) === value. */
interface MaskedField {
  value: bigint;
  mask: bigint;
  low?: bigint;
  high?: bigint;
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

function numberMasked(f: MaskedField): NumberMaskedField {
  const half = (x: bigint) => ({ high: Number(x >> 32n), low: Number(BigInt.asUintN(32, x)) });
  const mask = half(f.mask);
  const value = half(f.value);
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

export type TableMatchType = "exact" | "lpm" | "ternary" | "range";

export class MatchTable<A> {
  private readonly entries = new Map<number, TableEntry<A>>();
  private nextHandle = 0;
  private seq = 0;
  private readonly exact = new Map<unknown, TableEntry<A>>();
  /** LPM: prefix length → (exact fields + truncated prefix) → entry. */
  private readonly lpm = new Map<number, Map<number | string, TableEntry<A>>>();
  private lpmLengths: number[] = [];
  private ordered: {
    entry: TableEntry<A>;
    fields: MaskedField[];
    /** Per key field: its number form when the field is at most 53 bits wide. */
    numbers: (NumberMaskedField | undefined)[];
  }[] = [];
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
    this.usesPriority = matchType === "ternary" || matchType === "range";
  }

  get size(): number {
    return this.entries.size;
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
    if (this.matchType === "exact") this.exact.delete(this.exactKey(entry.match));
    else if (this.matchType === "lpm") {
      const prefix = this.prefixOf(entry.match);
      this.lpm.get(prefix)?.delete(this.lpmKey(entry.match, prefix));
    } else this.ordered = this.ordered.filter((o) => o.entry !== entry);
  }

  clear(): void {
    this.entries.clear();
    this.exact.clear();
    this.lpm.clear();
    this.lpmLengths = [];
    this.ordered = [];
  }

  /** Finds the handle of an entry with exactly this match (and priority, where it counts). */
  find(match: readonly MatchParam[], priority = 0): number | undefined {
    const normalized = this.normalize(match);
    if (this.matchType === "exact") return this.exact.get(this.exactKey(normalized))?.handle;
    if (this.matchType === "lpm") {
      const prefix = this.prefixOf(normalized);
      return this.lpm.get(prefix)?.get(this.lpmKey(normalized, prefix))?.handle;
    }
    const fields = this.maskedFields(normalized);
    return this.ordered.find((o) => o.entry.priority === priority && sameMasked(o.fields, fields))
      ?.entry.handle;
  }

  /** Looks a packet's key up (values already truncated to each key field's width). */
  lookup(key: readonly FieldValue[]): TableEntry<A> | undefined {
    switch (this.matchType) {
      case "exact":
        return this.exact.get(this.singleExact ? key[0] : this.composite(key));
      case "lpm":
        for (const prefix of this.lpmLengths) {
          const hit = this.lpm.get(prefix)?.get(this.lpmKeyOf(key, prefix));
          if (hit) return hit;
        }
        return undefined;
      default:
        return this.scan(key);
    }
  }

  private scan(key: readonly FieldValue[]): TableEntry<A> | undefined {
    for (const { entry, fields, numbers } of this.ordered) {
      let ok = true;
      for (let i = 0; i < fields.length && ok; i++) {
        const n = numbers[i];
        ok = n
          ? matchesNumber(n, key[i] as number)
          : matchesBigInt(fields[i] as MaskedField, toBigInt(key[i] as FieldValue));
      }
      if (ok) return entry;
    }
    return undefined;
  }

  /** Exact lookup of a key already in composite form (`compositeSource`). */
  lookupComposite(key: unknown): TableEntry<A> | undefined {
    return this.exact.get(key);
  }

  /**
   * JavaScript source for an exact key's composite form, given the source of each field's value
   * (generated code builds keys inline, in the same form as `composite`).
   */
  compositeSource(parts: readonly string[]): string {
    if (this.singleExact) return parts[0] as string;
    if (!this.numericKey) return `\`${parts.map((part) => `\${${part}}`).join(",")}\``;
    return parts.reduce((acc, part, i) => {
      const weight = POW2[(this.keys[i] as KeyField).width] as number;
      return i === 0 ? part : `(${acc} * ${weight} + ${part})`;
    }, "");
  }

  /** Several exact fields as one Map key: a number when they fit 53 bits, else a string. */
  private composite(values: readonly FieldValue[]): number | string {
    if (!this.numericKey) return values.join(",");
    let acc = 0;
    for (let i = 0; i < values.length; i++) {
      acc = acc * (POW2[(this.keys[i] as KeyField).width] as number) + (values[i] as number);
    }
    return acc;
  }

  private insert(entry: TableEntry<A>): void {
    if (this.matchType === "exact") {
      const key = this.exactKey(entry.match);
      if (this.exact.has(key)) throw new TableError("DUPLICATE_ENTRY", this.name, "same key");
      this.exact.set(key, entry);
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
    const fields = this.maskedFields(entry.match);
    if (
      this.ordered.some((o) => o.entry.priority === entry.priority && sameMasked(o.fields, fields))
    ) {
      throw new TableError("DUPLICATE_ENTRY", this.name, "same key and priority");
    }
    // Insert after every entry of equal or better (lower) priority: ties keep insertion order.
    let at = this.ordered.length;
    while (
      at > 0 &&
      (this.ordered[at - 1] as { entry: TableEntry<A> }).entry.priority > entry.priority
    )
      at--;
    const numbers = fields.map((f, i) =>
      (this.keys[i] as KeyField).width <= MAX_NUMBER_BITS ? numberMasked(f) : undefined,
    );
    this.ordered.splice(at, 0, { entry, fields, numbers });
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

  private exactKey(match: readonly MatchParam[]): unknown {
    if (this.singleExact) return exactValue(match[0] as MatchParam);
    return this.composite(match.map(exactValue));
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

function sameMasked(a: readonly MaskedField[], b: readonly MaskedField[]): boolean {
  return a.every((x, i) => {
    const y = b[i] as MaskedField;
    return x.value === y.value && x.mask === y.mask && x.low === y.low && x.high === y.high;
  });
}
