/**
 * A revisioned key-value store, as etcd's v3 API defines one and as the embedded SQLite store
 * (embedded.ts) reproduces it on one host. It knows nothing of the intent model: keys are
 * strings such as `resources/endpoint/web-1`, values anything JSON can carry.
 *
 * Every commit makes ONE new store revision (a counter, +1 per commit); each key remembers the
 * revision that created it and the one that last changed it. Writers make changes atomic and
 * safe against concurrent writers by comparing, in the same transaction, the modRevision of
 * every key their decision read (compare-and-set). Watchers replay history from a revision and
 * then follow live changes, so a reader that read at revision R misses nothing after R.
 */
import { TooManyOpsError, TRANSACTION, ValueTooLargeError } from "./errors.js";

export interface StoredValue<T = unknown> {
  key: string;
  value: T;
  /** The revision of the commit that last wrote this key. */
  modRevision: number;
  /** The revision of the commit that created this key (since its last deletion). */
  createRevision: number;
}

/** Holds when the key's modRevision is exactly `modRevision`; 0 means the key must be absent. */
export interface TxnCompare {
  key: string;
  modRevision: number;
}

export interface Txn {
  compares?: TxnCompare[];
  puts?: { key: string; value: unknown }[];
  deletes?: string[];
}

export interface WatchEvent {
  type: "put" | "delete";
  key: string;
  /** The new value of a put; absent for a delete. */
  value?: unknown;
  modRevision: number;
}

/** All events of one store revision together; batches arrive in revision order. */
export interface WatchBatch {
  revision: number;
  events: WatchEvent[];
}

export interface Watch {
  close(): Promise<void>;
}

export interface RangeOptions {
  /** Keys per read (default 1000), so that no single response is large. */
  pageSize?: number;
  /** Read as of this revision instead of the current one (StoreCompactedError if gone). */
  atRevision?: number;
}

/** What one transaction may hold in this store; larger changes are split by their writer. */
export interface TxnLimits {
  /** Puts and deletes together (etcd: its --max-txn-ops, 128 by default). */
  ops: number;
  /** Keys and values' JSON text together. */
  bytes: number;
}

export interface KvStore {
  readonly kind: "embedded" | "etcd";
  readonly limits: TxnLimits;
  /** The file path, or etcd's endpoints and prefix: for messages. */
  readonly location: string;
  /** The store's current revision (0 if it was never written). */
  revision(): Promise<number>;
  get<T>(key: string): Promise<StoredValue<T> | undefined>;
  /**
   * Every key under prefix as of ONE revision (atRevision or current), read in pages of
   * pageSize (default 1000) so no single response is large; returns that revision. Items are in
   * key order.
   */
  range<T>(
    prefix: string,
    options?: RangeOptions,
  ): Promise<{ revision: number; items: StoredValue<T>[] }>;
  /**
   * Atomic: if every compare holds, apply puts and deletes as ONE new revision and return it;
   * otherwise throw StoreConflictError naming the first key whose modRevision differed
   * (expected vs actual) and change nothing. An empty txn (no puts/deletes) only checks
   * compares and returns the current revision. Deleting an absent key is not an error. A key
   * may appear at most once among puts and deletes.
   */
  commit(txn: Txn): Promise<number>;
  /**
   * Events under prefix with revision > afterRevision, delivered in order, one batch per
   * revision, then live. Throws StoreCompactedError if afterRevision is compacted away (the
   * caller re-reads); onError reports a watch that fell behind compaction later (or failed for
   * good) — after onError the watch delivers nothing more.
   */
  watch(
    prefix: string,
    afterRevision: number,
    onBatch: (batch: WatchBatch) => void,
    onError: (error: Error) => void,
  ): Promise<Watch>;
  close(): Promise<void>;
}

/** Largest single value (its JSON text): far below etcd's 1.5 MiB request limit. */
export const MAX_VALUE_BYTES = 512 * 1024;
/** Largest etcd transaction (keys and values' JSON text together): etcd refuses over 1.5 MiB. */
export const MAX_TXN_BYTES = 1024 * 1024;
/** etcd's default --max-txn-ops. */
export const ETCD_DEFAULT_TXN_OPS = 128;
/** The embedded store's transactions are SQLite's: one holds a 100,000-endpoint fabric. */
export const EMBEDDED_TXN_BYTES = 64 * 1024 * 1024;
export const DEFAULT_PAGE_SIZE = 1000;

export interface EncodedPut {
  key: string;
  json: string;
}

/**
 * Serialises a transaction's values and refuses it (ValueTooLargeError) if a value or the whole
 * is over the limits, before anything is sent; also refuses a key written twice.
 */
export function encodeTxn(
  txn: Txn,
  limits: TxnLimits,
): {
  puts: EncodedPut[];
  deletes: string[];
  compares: TxnCompare[];
} {
  const puts: EncodedPut[] = [];
  const seen = new Set<string>();
  let total = 0;
  for (const { key, value } of txn.puts ?? []) {
    const json = JSON.stringify(value);
    if (json === undefined) throw new TypeError(`${key}: the value is not JSON-serialisable`);
    const bytes = Buffer.byteLength(json);
    if (bytes > MAX_VALUE_BYTES) throw new ValueTooLargeError(key, bytes, MAX_VALUE_BYTES);
    total += bytes + Buffer.byteLength(key);
    puts.push({ key, json });
    claimOnce(seen, key);
  }
  const deletes = txn.deletes ?? [];
  const ops = puts.length + deletes.length;
  if (ops > limits.ops) throw new TooManyOpsError(ops, limits.ops);
  for (const key of deletes) {
    total += Buffer.byteLength(key);
    claimOnce(seen, key);
  }
  const compares = txn.compares ?? [];
  for (const compare of compares) total += Buffer.byteLength(compare.key) + 16;
  if (total > limits.bytes) throw new ValueTooLargeError(TRANSACTION, total, limits.bytes);
  return { puts, deletes, compares };
}

function claimOnce(seen: Set<string>, key: string): void {
  if (seen.has(key)) throw new TypeError(`${key} is written twice in one transaction`);
  seen.add(key);
}

/** Groups events (in revision order) into one batch per revision. */
export function batchByRevision(events: WatchEvent[]): WatchBatch[] {
  const batches: WatchBatch[] = [];
  for (const event of events) {
    const last = batches.at(-1);
    if (last && last.revision === event.modRevision) last.events.push(event);
    else batches.push({ revision: event.modRevision, events: [event] });
  }
  return batches;
}
