/**
 * What can go wrong talking to a revisioned key-value store (store/types.ts), as typed errors
 * that carry what failed; the API layer decides how each is shown (HTTP status, exit code).
 */

export class StoreError extends Error {
  override name = "StoreError";
}

/** A transaction's compare failed: someone changed `key` since the caller read it. */
export class StoreConflictError extends StoreError {
  override name = "StoreConflictError";
  constructor(
    readonly key: string,
    /** The modRevision the caller expected (0: absent). */
    readonly expected: number,
    /** The key's modRevision in the store (0: absent). */
    readonly actual: number,
  ) {
    super(
      `conflict on ${key}: expected ${describeRevision(expected)}, the store has ${describeRevision(actual)} (someone else changed it; read again and retry)`,
    );
  }
}

function describeRevision(revision: number): string {
  return revision === 0 ? "no such key" : `revision ${revision}`;
}

/** The history a watch or a read at an old revision needs was compacted away: read again. */
export class StoreCompactedError extends StoreError {
  override name = "StoreCompactedError";
  constructor(
    readonly revision: number,
    /** Revisions up to this one are gone. */
    readonly compactRevision: number,
  ) {
    super(
      `revision ${revision} is no longer in the store's history (compacted up to ${compactRevision}); read the current state again`,
    );
  }
}

/** The store cannot be reached or cannot serve (etcd unreachable, no leader, quorum lost). */
export class StoreUnavailableError extends StoreError {
  override name = "StoreUnavailableError";
  constructor(
    readonly location: string,
    readonly detail: string,
  ) {
    super(`${location}: ${detail}`);
  }
}

/** The store's data is not what this code wrote (damaged file, foreign schema, bad JSON). */
export class StoreCorruptError extends StoreError {
  override name = "StoreCorruptError";
  constructor(
    readonly location: string,
    readonly detail: string,
  ) {
    super(`${location} is damaged: ${detail}`);
  }
}

/** Another live process holds the embedded store's exclusive lock (a second daemon). */
export class StoreLockedError extends StoreError {
  override name = "StoreLockedError";
  constructor(
    readonly location: string,
    /** The holder's pid as it recorded it; undefined when it had not recorded it yet. */
    readonly holderPid: number | undefined,
  ) {
    super(
      `${location} is in use by another process${holderPid === undefined ? "" : ` (pid ${holderPid})`}; only one daemon may own an embedded store (stop it, or use etcd for several replicas)`,
    );
  }
}

/** A value or a transaction too large to store; refused before anything is sent or written. */
export class ValueTooLargeError extends StoreError {
  override name = "ValueTooLargeError";
  constructor(
    /** The value's key, or "(transaction)" when the transaction as a whole is too large. */
    readonly key: string,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(
      `${key}: ${bytes} bytes is over the store's limit of ${limit} bytes${key === TRANSACTION ? " per transaction (split the change)" : " per value"}`,
    );
  }
}

/** ValueTooLargeError's key when the transaction as a whole is over the limit. */
export const TRANSACTION = "(transaction)";

/** A transaction with more puts and deletes than the store takes (etcd's --max-txn-ops). */
export class TooManyOpsError extends StoreError {
  override name = "TooManyOpsError";
  constructor(
    readonly ops: number,
    readonly limit: number,
  ) {
    super(
      `a transaction of ${ops} operations is over the store's limit of ${limit} (etcd's --max-txn-ops; split the change)`,
    );
  }
}
