/**
 * The embedded intent store: one JSON file, replaced atomically. A write goes to a temporary
 * file in the same directory, is fsynced, renamed over the store and the directory fsynced, so
 * after a crash at any instant the file holds either the old record or the new one, whole.
 * Writers serialise on a lock file (created exclusively, holding the writer's pid; a lock left
 * by a dead process is taken over), and the revision is compared under the lock. Leftover
 * temporary files of crashed writers are removed by the next writer.
 * Meant for one controller host: two processes taking over the same dead writer's lock at the
 * same instant could both proceed. Several controllers share an etcd-backed IntentStore instead.
 */
import { randomBytes } from "node:crypto";
import { constants, promises as fs } from "node:fs";
import { basename, dirname, join } from "node:path";
import {
  type IntentRecord,
  type IntentStore,
  IntentStoreCorruptError,
  type IntentUpdate,
  RevisionConflictError,
} from "./store.js";

const FORMAT = "nvgre-intent/1";

/** The lock stayed taken by a live process for too long. */
export class IntentStoreBusyError extends Error {
  override readonly name = "IntentStoreBusyError";
  constructor(
    readonly lockPath: string,
    readonly holder: number,
  ) {
    super(`intent store is locked by process ${holder} (${lockPath}); try again`);
  }
}

export interface FileIntentStoreOptions {
  /** How long a writer waits for the lock (default 10 s). */
  lockTimeoutMs?: number;
}

export class FileIntentStore implements IntentStore {
  private readonly lockPath: string;
  private readonly tempPrefix: string;

  constructor(
    readonly path: string,
    private readonly options: FileIntentStoreOptions = {},
  ) {
    this.lockPath = `${path}.lock`;
    this.tempPrefix = `${basename(path)}.tmp-`;
  }

  async read(): Promise<IntentRecord | undefined> {
    let text: string;
    try {
      text = await fs.readFile(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new IntentStoreCorruptError(this.path, `not JSON (${(error as Error).message})`);
    }
    return checkRecord(parsed, this.path);
  }

  async write(next: IntentUpdate, expectedRevision: number): Promise<IntentRecord> {
    await fs.mkdir(dirname(this.path), { recursive: true });
    await this.lock();
    try {
      await this.removeLeftovers();
      const current = await this.read();
      const actual = current?.revision ?? 0;
      if (actual !== expectedRevision) throw new RevisionConflictError(expectedRevision, actual);
      const record: IntentRecord = {
        revision: actual + 1,
        updatedAt: new Date().toISOString(),
        document: next.document,
        allocations: next.allocations,
      };
      await this.replace(`${JSON.stringify({ format: FORMAT, ...record })}\n`);
      return record;
    } finally {
      await fs.rm(this.lockPath, { force: true });
    }
  }

  /** Temp file + fsync + rename + directory fsync. */
  private async replace(text: string): Promise<void> {
    const temp = join(
      dirname(this.path),
      `${this.tempPrefix}${process.pid}-${randomBytes(4).toString("hex")}`,
    );
    const file = await fs.open(temp, "wx", 0o600);
    try {
      await file.writeFile(text, "utf8");
      await file.sync();
    } finally {
      await file.close();
    }
    try {
      await fs.rename(temp, this.path);
    } catch (error) {
      await fs.rm(temp, { force: true });
      throw error;
    }
    const dir = await fs.open(dirname(this.path), constants.O_RDONLY);
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  private async lock(): Promise<void> {
    const deadline = Date.now() + (this.options.lockTimeoutMs ?? 10_000);
    for (;;) {
      // The pid goes into a private file first and is then linked into place: link() fails
      // if the lock exists, and a lock file is never seen without its holder's pid (a writer
      // killed between creating and filling the lock would otherwise leave it locked forever).
      const mine = `${this.lockPath}.${process.pid}.${randomBytes(4).toString("hex")}`;
      await fs.writeFile(mine, String(process.pid), { mode: 0o600 });
      try {
        await fs.link(mine, this.lockPath);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      } finally {
        await fs.rm(mine, { force: true });
      }
      const holder = Number((await fs.readFile(this.lockPath, "utf8").catch(() => "")).trim());
      if (holder > 0 && !isAlive(holder)) {
        // The writer died holding the lock; its write either completed or left the old file.
        await fs.rm(this.lockPath, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new IntentStoreBusyError(this.lockPath, holder);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /**
   * Temporary files of writers that crashed before their rename, and pid files of writers
   * killed while trying the lock (we hold the lock; a live contender's pid file stays).
   */
  private async removeLeftovers(): Promise<void> {
    const dir = dirname(this.path);
    const pidFilePrefix = `${basename(this.lockPath)}.`;
    for (const name of await fs.readdir(dir)) {
      const deadContender =
        name.startsWith(pidFilePrefix) &&
        !isAlive(Number(name.slice(pidFilePrefix.length).split(".")[0]));
      if (name.startsWith(this.tempPrefix) || deadContender) {
        await fs.rm(join(dir, name), { force: true });
      }
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function checkRecord(value: unknown, path: string): IntentRecord {
  const record = value as Partial<IntentRecord> & { format?: unknown };
  if (typeof record !== "object" || record === null || record.format !== FORMAT) {
    throw new IntentStoreCorruptError(path, `not an intent store file (format is not "${FORMAT}")`);
  }
  if (!Number.isSafeInteger(record.revision) || (record.revision as number) < 1) {
    throw new IntentStoreCorruptError(path, "revision is not a positive integer");
  }
  if (typeof record.document !== "object" || record.document === null) {
    throw new IntentStoreCorruptError(path, "no document");
  }
  if (
    typeof record.allocations !== "object" ||
    record.allocations === null ||
    typeof record.allocations.pools !== "object"
  ) {
    throw new IntentStoreCorruptError(path, "no allocations");
  }
  return {
    revision: record.revision as number,
    updatedAt: String(record.updatedAt ?? ""),
    document: record.document,
    allocations: record.allocations,
  };
}
