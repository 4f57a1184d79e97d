/**
 * The embedded store: one host, durable, crash-safe, no server. Why SQLite (better-sqlite3):
 * its write-ahead log gives atomic, durable multi-key commits (a writer killed mid-transaction
 * leaves the old state or the new one), consistent reads while another process writes, and
 * crash recovery we would otherwise hand-roll in a journal format of our own.
 *
 *   <dir>/store.db   kv(key, value, mod_revision, create_revision): the current state;
 *                    changes(revision, seq, key, type, value): the last `historyEvents` events,
 *                    so watch(afterRevision) can replay; meta: revision, compact_revision.
 *   <dir>/lock.db    held by the exclusive opener (the daemon), see takeExclusiveLock.
 *   <dir>/lock.pid   the exclusive opener's pid, only for the message a second opener gets.
 *
 * Commits run in one `BEGIN IMMEDIATE` transaction (WAL, synchronous=FULL). Watchers in this
 * process are told right after a commit; commits by other processes are noticed by polling
 * `PRAGMA data_version` (it changes when another connection committed).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import {
  StoreCompactedError,
  StoreConflictError,
  StoreCorruptError,
  StoreError,
  StoreLockedError,
} from "./errors.js";
import {
  batchByRevision,
  DEFAULT_PAGE_SIZE,
  EMBEDDED_TXN_BYTES,
  encodeTxn,
  type KvStore,
  type RangeOptions,
  type StoredValue,
  type Txn,
  type TxnLimits,
  type Watch,
  type WatchBatch,
  type WatchEvent,
} from "./types.js";

export interface EmbeddedStoreOptions {
  /** Take the store's exclusive lock (the daemon); a second exclusive opener is refused. */
  exclusive?: boolean;
  /** Events kept for watch replay (default 100,000); older ones are compacted away. */
  historyEvents?: number;
  /** How often watchers look for commits made by other processes (default 100 ms). */
  pollMs?: number;
}

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS kv (
  key TEXT PRIMARY KEY, value TEXT NOT NULL,
  mod_revision INTEGER NOT NULL, create_revision INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS changes (
  revision INTEGER NOT NULL, seq INTEGER NOT NULL, key TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('put', 'delete')), value TEXT,
  PRIMARY KEY (revision, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO meta VALUES ('schema', ${SCHEMA_VERSION}), ('revision', 0), ('compact_revision', 0);
`;

interface KvRow {
  key: string;
  value: string;
  mod_revision: number;
  create_revision: number;
}

interface ChangeRow {
  revision: number;
  key: string;
  type: "put" | "delete";
  value: string | null;
}

interface Watcher {
  prefix: string;
  end: string;
  after: number;
  onBatch: (batch: WatchBatch) => void;
  onError: (error: Error) => void;
}

/** Opens (creating if needed) the embedded store in `dir`. */
export async function openEmbeddedStore(
  dir: string,
  options: EmbeddedStoreOptions = {},
): Promise<EmbeddedKvStore> {
  const location = resolve(dir, "store.db");
  mkdirSync(dir, { recursive: true });
  const lock = options.exclusive ? takeExclusiveLock(dir) : undefined;
  try {
    return new EmbeddedKvStore(location, openDatabase(location), lock, options);
  } catch (error) {
    lock?.release();
    throw error;
  }
}

interface HeldLock {
  release(): void;
}

/**
 * The daemon's lock must die with the daemon, whatever kills it: Node has no flock(), so we let
 * SQLite take a POSIX fcntl lock for us. A connection in `locking_mode=EXCLUSIVE` that has
 * written keeps its exclusive lock until it closes, and the kernel drops fcntl locks when the
 * process dies (SIGKILL included), so a dead holder's lock is free at once — even if its pid
 * was reused by an unrelated process, since nothing checks pids. SQLite also tracks these
 * locks across connections of one process, so a second opener in the same process is refused
 * too. The pid file is only for the refusal's message.
 */
function takeExclusiveLock(dir: string): HeldLock {
  const location = resolve(dir, "lock.db");
  const pidFile = join(dir, "lock.pid");
  const db = new Database(location, { timeout: 0 });
  try {
    db.pragma("locking_mode = EXCLUSIVE");
    db.exec(
      "BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS holder (pid INTEGER); DELETE FROM holder; COMMIT;",
    );
    db.prepare("INSERT INTO holder VALUES (?)").run(process.pid);
  } catch (error) {
    db.close();
    if (isBusy(error)) throw new StoreLockedError(resolve(dir), readPid(pidFile));
    throw error;
  }
  writeFileSync(pidFile, `${process.pid}\n`);
  return {
    release() {
      rmSync(pidFile, { force: true });
      db.close();
    },
  };
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, "utf8"), 10);
    return Number.isSafeInteger(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return (
    typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"))
  );
}

function openDatabase(location: string): Database.Database {
  let db: Database.Database | undefined;
  try {
    db = new Database(location, { timeout: 10_000 });
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    db.exec(`BEGIN IMMEDIATE; ${SCHEMA} COMMIT;`);
    const schema = db.prepare("SELECT value FROM meta WHERE name = 'schema'").pluck().get();
    if (schema !== SCHEMA_VERSION) {
      throw new StoreCorruptError(
        location,
        `schema version ${String(schema)}, this controller reads ${SCHEMA_VERSION}`,
      );
    }
    return db;
  } catch (error) {
    db?.close();
    const code = (error as { code?: unknown }).code;
    if (code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT") {
      throw new StoreCorruptError(location, (error as Error).message);
    }
    throw error;
  }
}

/** The smallest string above every string that starts with `prefix` (keys are compared as UTF-8 bytes). */
function prefixEnd(prefix: string): string {
  return `${prefix}\u{10FFFF}`;
}

export class EmbeddedKvStore implements KvStore {
  readonly kind = "embedded" as const;
  readonly limits: TxnLimits = { ops: Number.POSITIVE_INFINITY, bytes: EMBEDDED_TXN_BYTES };
  private readonly historyEvents: number;
  private readonly pollMs: number;
  private readonly watchers = new Set<Watcher>();
  private pollTimer: NodeJS.Timeout | undefined;
  private pumpScheduled = false;
  private lastDataVersion = 0;
  private closed = false;
  private readonly statements;

  constructor(
    readonly location: string,
    private readonly db: Database.Database,
    private readonly lock: HeldLock | undefined,
    options: EmbeddedStoreOptions,
  ) {
    this.historyEvents = options.historyEvents ?? 100_000;
    this.pollMs = options.pollMs ?? 100;
    this.statements = {
      meta: db.prepare<[string], number>("SELECT value FROM meta WHERE name = ?").pluck(),
      setMeta: db.prepare("UPDATE meta SET value = ? WHERE name = ?"),
      get: db.prepare<[string], KvRow>("SELECT * FROM kv WHERE key = ?"),
      firstPage: db.prepare<[string, string, number], KvRow>(
        "SELECT * FROM kv WHERE key >= ? AND key < ? ORDER BY key LIMIT ?",
      ),
      nextPage: db.prepare<[string, string, number], KvRow>(
        "SELECT * FROM kv WHERE key > ? AND key < ? ORDER BY key LIMIT ?",
      ),
      upsert: db.prepare(
        "INSERT INTO kv VALUES (@key, @value, @revision, @revision) ON CONFLICT (key) DO UPDATE SET value = excluded.value, mod_revision = excluded.mod_revision",
      ),
      delete: db.prepare<[string]>("DELETE FROM kv WHERE key = ?"),
      logChange: db.prepare("INSERT INTO changes VALUES (?, ?, ?, ?, ?)"),
      changesSince: db.prepare<[number, string, string], ChangeRow>(
        "SELECT revision, key, type, value FROM changes WHERE revision > ? AND key >= ? AND key < ? ORDER BY revision, seq",
      ),
      horizon: db
        .prepare<[number], number>(
          "SELECT revision FROM changes ORDER BY revision DESC, seq DESC LIMIT 1 OFFSET ?",
        )
        .pluck(),
      prune: db.prepare<[number]>("DELETE FROM changes WHERE revision <= ?"),
      dataVersion: db.prepare<[], number>("PRAGMA data_version").pluck(),
    };
    this.lastDataVersion = this.statements.dataVersion.get() ?? 0;
  }

  async revision(): Promise<number> {
    return this.meta("revision");
  }

  async get<T>(key: string): Promise<StoredValue<T> | undefined> {
    const row = this.statements.get.get(key);
    return row && this.toStored<T>(row);
  }

  async range<T>(
    prefix: string,
    options: RangeOptions = {},
  ): Promise<{ revision: number; items: StoredValue<T>[] }> {
    const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    // One read transaction: every page sees the same snapshot (WAL keeps it while others write).
    const read = this.db.transaction(() => {
      const revision = this.meta("revision");
      if (options.atRevision !== undefined && options.atRevision !== revision) {
        // Only the current state is kept, not older versions of each key: read again.
        if (options.atRevision > revision)
          throw new StoreError(
            `${this.location}: revision ${options.atRevision} is in the future (current ${revision})`,
          );
        throw new StoreCompactedError(options.atRevision, revision - 1);
      }
      const end = prefixEnd(prefix);
      const items: StoredValue<T>[] = [];
      let page = this.statements.firstPage.all(prefix, end, pageSize);
      while (page.length > 0) {
        for (const row of page) items.push(this.toStored<T>(row));
        const last = page.at(-1) as KvRow;
        page = page.length < pageSize ? [] : this.statements.nextPage.all(last.key, end, pageSize);
      }
      return { revision, items };
    });
    return read.deferred();
  }

  async commit(txn: Txn): Promise<number> {
    this.assertOpen();
    const { puts, deletes, compares } = encodeTxn(txn, this.limits);
    const apply = this.db.transaction((): number => {
      for (const compare of compares) {
        const actual = this.statements.get.get(compare.key)?.mod_revision ?? 0;
        if (actual !== compare.modRevision) {
          throw new StoreConflictError(compare.key, compare.modRevision, actual);
        }
      }
      const current = this.meta("revision");
      const revision = current + 1;
      let seq = 0;
      for (const { key, json } of puts) {
        this.statements.upsert.run({ key, value: json, revision });
        this.statements.logChange.run(revision, seq++, key, "put", json);
      }
      for (const key of deletes) {
        if (this.statements.delete.run(key).changes > 0) {
          this.statements.logChange.run(revision, seq++, key, "delete", null);
        }
      }
      if (seq === 0) return current; // nothing changed: no new revision (as etcd)
      this.statements.setMeta.run(revision, "revision");
      if (revision % 256 === 0 || seq > 1000) this.compactHistory();
      return revision;
    });
    const revision = apply.immediate();
    this.schedulePump();
    return revision;
  }

  /**
   * Keeps at least the newest `historyEvents` events, in whole revisions, and records what was
   * dropped: the revision holding the oldest event kept stays whole, so a revision larger than
   * the history (a big apply) is kept, and a watcher one revision behind still gets it.
   */
  private compactHistory(): void {
    const oldestKept = this.statements.horizon.get(this.historyEvents);
    if (oldestKept === undefined || oldestKept <= 1) return;
    this.statements.prune.run(oldestKept - 1);
    this.statements.setMeta.run(oldestKept - 1, "compact_revision");
  }

  async watch(
    prefix: string,
    afterRevision: number,
    onBatch: (batch: WatchBatch) => void,
    onError: (error: Error) => void,
  ): Promise<Watch> {
    this.assertOpen();
    const compactRevision = this.meta("compact_revision");
    if (afterRevision < compactRevision)
      throw new StoreCompactedError(afterRevision, compactRevision);
    const watcher: Watcher = {
      prefix,
      end: prefixEnd(prefix),
      after: afterRevision,
      onBatch,
      onError,
    };
    this.watchers.add(watcher);
    this.pollTimer ??= setInterval(() => this.poll(), this.pollMs);
    this.schedulePump();
    return {
      close: async () => {
        this.removeWatcher(watcher);
      },
    };
  }

  private removeWatcher(watcher: Watcher): void {
    this.watchers.delete(watcher);
    if (this.watchers.size === 0 && this.pollTimer) {
      clearInterval(this.pollTimer);
      this.pollTimer = undefined;
    }
  }

  private poll(): void {
    if (this.closed) return;
    const version = this.statements.dataVersion.get() ?? 0;
    if (version !== this.lastDataVersion) {
      this.lastDataVersion = version;
      this.schedulePump();
    }
  }

  private schedulePump(): void {
    if (this.pumpScheduled || this.watchers.size === 0) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      if (!this.closed) this.pump();
    });
  }

  /** Delivers to each watcher what it has not seen, read from one snapshot. */
  private pump(): void {
    const read = this.db.transaction(() => {
      const head = this.meta("revision");
      const compactRevision = this.meta("compact_revision");
      const deliveries: [Watcher, WatchBatch[] | Error][] = [];
      for (const watcher of this.watchers) {
        if (watcher.after >= head) continue;
        if (watcher.after < compactRevision) {
          deliveries.push([watcher, new StoreCompactedError(watcher.after, compactRevision)]);
          continue;
        }
        const rows = this.statements.changesSince.all(watcher.after, watcher.prefix, watcher.end);
        watcher.after = head;
        if (rows.length > 0)
          deliveries.push([watcher, batchByRevision(rows.map((row) => this.toEvent(row)))]);
      }
      return deliveries;
    });
    for (const [watcher, delivery] of read.deferred()) {
      if (delivery instanceof Error) {
        this.removeWatcher(watcher);
        watcher.onError(delivery);
        continue;
      }
      for (const batch of delivery) {
        if (!this.watchers.has(watcher)) break; // closed by its own callback
        watcher.onBatch(batch);
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const watcher of [...this.watchers]) this.removeWatcher(watcher);
    this.db.close();
    this.lock?.release();
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError(`${this.location}: the store is closed`);
  }

  private meta(name: string): number {
    const value = this.statements.meta.get(name);
    if (value === undefined) throw new StoreCorruptError(this.location, `meta ${name} is missing`);
    return value;
  }

  private parse(key: string, json: string): unknown {
    try {
      return JSON.parse(json);
    } catch (error) {
      throw new StoreCorruptError(
        this.location,
        `${key}: the value is not JSON (${(error as Error).message})`,
      );
    }
  }

  private toStored<T>(row: KvRow): StoredValue<T> {
    return {
      key: row.key,
      value: this.parse(row.key, row.value) as T,
      modRevision: row.mod_revision,
      createRevision: row.create_revision,
    };
  }

  private toEvent(row: ChangeRow): WatchEvent {
    return row.type === "put"
      ? {
          type: "put",
          key: row.key,
          value: this.parse(row.key, row.value ?? ""),
          modRevision: row.revision,
        }
      : { type: "delete", key: row.key, modRevision: row.revision };
  }
}
