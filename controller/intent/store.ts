/**
 * Where the fabric intent lives between runs: the document as the operator wrote it, the ids
 * the compiler allocated for it (so a restarted controller compiles exactly what the switches
 * hold, and rewrites nothing), and a revision number that grows by one per change.
 *
 * Writes are compare-and-set on the revision: a writer says which revision it read, and loses
 * (RevisionConflictError) if someone else wrote since. That is all a distributed store such as
 * etcd needs to provide (a transaction comparing the key's version), so it can replace the
 * local file (file-store.ts) without changing callers.
 */
import type { Allocations } from "../compile/allocate.js";
import type { FabricDocument } from "./schema.js";

export interface IntentRecord {
  /** 1 for the first stored intent, +1 per write. */
  revision: number;
  /** ISO 8601 time of the write. */
  updatedAt: string;
  document: FabricDocument;
  allocations: Allocations;
}

export interface IntentUpdate {
  document: FabricDocument;
  allocations: Allocations;
}

export interface IntentStore {
  /** The current record, or undefined when nothing was ever stored (revision 0). */
  read(): Promise<IntentRecord | undefined>;
  /**
   * Stores `next` as revision expectedRevision + 1, if the current revision is still
   * `expectedRevision` (0 for an empty store); otherwise throws RevisionConflictError and
   * changes nothing.
   */
  write(next: IntentUpdate, expectedRevision: number): Promise<IntentRecord>;
}

/** Someone else changed the intent since it was read. */
export class RevisionConflictError extends Error {
  override readonly name = "RevisionConflictError";
  constructor(
    readonly expected: number,
    readonly actual: number,
  ) {
    super(
      `the intent changed meanwhile: expected revision ${expected}, the store is at ${actual}; read it again and retry`,
    );
  }
}

/** The stored intent cannot be read back (damaged or foreign file). */
export class IntentStoreCorruptError extends Error {
  override readonly name = "IntentStoreCorruptError";
  constructor(
    readonly location: string,
    readonly detail: string,
  ) {
    super(`intent store ${location} is unreadable: ${detail}`);
  }
}

/**
 * Read-modify-write: reads the record, lets `change` compute the next one, writes it against
 * the revision read, and starts over when another writer got there first.
 */
export async function updateIntent(
  store: IntentStore,
  change: (current: IntentRecord | undefined) => IntentUpdate | Promise<IntentUpdate>,
  attempts = 5,
): Promise<IntentRecord> {
  for (let attempt = 1; ; attempt++) {
    const current = await store.read();
    const next = await change(current);
    try {
      return await store.write(next, current?.revision ?? 0);
    } catch (error) {
      if (!(error instanceof RevisionConflictError) || attempt >= attempts) throw error;
    }
  }
}
