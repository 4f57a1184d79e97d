/**
 * A switch's state in canonical form (see canonical.ts): collection → key → value. The compiler
 * fills one per switch; the reconciler reads one back from each switch and diffs the two.
 */
import type { Collection } from "./canonical.js";

/** Two parts of the intent asked for the same entity with different contents. */
export class DesiredStateConflictError extends Error {
  override readonly name = "DesiredStateConflictError";
  constructor(
    readonly switchName: string,
    readonly collection: Collection,
    readonly key: string,
    readonly values: [string, string],
    readonly detail: string,
  ) {
    super(`${switchName}: ${detail}`);
  }
}

export class SwitchState {
  readonly collections = new Map<Collection, Map<string, string>>();

  constructor(readonly switchName: string) {}

  collection(name: Collection): Map<string, string> {
    let entries = this.collections.get(name);
    if (!entries) {
      entries = new Map();
      this.collections.set(name, entries);
    }
    return entries;
  }

  /**
   * Adds an entity; adding the same one twice is fine, a second value for the same key is a
   * conflict in the intent, reported with `explain` (called only then, so it may be costly).
   */
  add(collection: Collection, key: string, value: string, explain?: () => string): void {
    const entries = this.collection(collection);
    const existing = entries.get(key);
    if (existing === undefined) {
      entries.set(key, value);
    } else if (existing !== value) {
      throw new DesiredStateConflictError(
        this.switchName,
        collection,
        key,
        [existing, value],
        explain?.() ?? `${collection} ${key} would be both ${existing} and ${value}`,
      );
    }
  }

  get size(): number {
    let total = 0;
    for (const entries of this.collections.values()) total += entries.size;
    return total;
  }

  /** Every entity, collections and keys sorted: the order of golden files and dry-run output. */
  *sorted(): Generator<{ collection: Collection; key: string; value: string }> {
    for (const collection of [...this.collections.keys()].sort()) {
      const entries = this.collections.get(collection) as Map<string, string>;
      for (const key of [...entries.keys()].sort()) {
        yield { collection, key, value: entries.get(key) as string };
      }
    }
  }
}
