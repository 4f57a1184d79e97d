/**
 * A switch's state in canonical form (see canonical.ts): collection → key → value. The compiler
 * fills one per switch; the reconciler reads one back from each switch and diffs the two.
 *
 * A desired state is also changed in place by an incremental recompile (incremental.ts): each
 * change bumps its generation and is logged with the value it replaced, so whoever knows which
 * generation a switch holds (the daemon, after a reconcile) can ask for just the entities that
 * changed since (changesSince) instead of comparing whole states.
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

/** Where the compiler puts entities: a switch's state, or a recording of one part of it. */
export interface EntitySink {
  add(collection: Collection, key: string, value: string, explain?: () => string): void;
}

/** One entity that changed: its value before and after (undefined = absent). */
export interface EntityChange {
  collection: Collection;
  key: string;
  before: string | undefined;
  after: string | undefined;
}

interface LoggedChange {
  generation: number;
  collection: Collection;
  key: string;
  before: string | undefined;
}

/** How many logged changes a state keeps for changesSince; older generations need a read. */
const LOG_LIMIT = 50_000;

export class SwitchState implements EntitySink {
  readonly collections = new Map<Collection, Map<string, string>>();
  /**
   * Entities that parts of the intent asked for more than once (with the same value): how many
   * times beyond the first, so that taking one of those parts away keeps the entity.
   */
  private readonly extraUses = new Map<Collection, Map<string, number>>();
  private generationNumber = 0;
  private log: LoggedChange[] = [];
  /** changesSince(g) is complete for every g ≥ this (older entries were dropped). */
  private logFloor = 0;

  constructor(readonly switchName: string) {}

  /** Bumped by every applied change (applyChanges); 0 as compiled. */
  get generation(): number {
    return this.generationNumber;
  }

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
    } else if (existing === value) {
      let extra = this.extraUses.get(collection);
      if (!extra) {
        extra = new Map();
        this.extraUses.set(collection, extra);
      }
      extra.set(key, (extra.get(key) ?? 0) + 1);
    } else {
      throw new DesiredStateConflictError(
        this.switchName,
        collection,
        key,
        [existing, value],
        explain?.() ?? `${collection} ${key} would be both ${existing} and ${value}`,
      );
    }
  }

  /** How many parts of the intent ask for this entity (0 = absent). */
  uses(collection: Collection, key: string): number {
    if (!this.collections.get(collection)?.has(key)) return 0;
    return 1 + (this.extraUses.get(collection)?.get(key) ?? 0);
  }

  value(collection: Collection, key: string): string | undefined {
    return this.collections.get(collection)?.get(key);
  }

  /**
   * Applies one generation of changes, each with how many parts of the intent now ask for the
   * entity (0 for a removed one).
   */
  applyChanges(changes: (EntityChange & { uses: number })[]): void {
    const generation = ++this.generationNumber;
    for (const change of changes) {
      const { collection, key, after, uses } = change;
      const before = this.value(collection, key);
      if (after === undefined) this.collections.get(collection)?.delete(key);
      else this.collection(collection).set(key, after);
      if (uses > 1) {
        let extra = this.extraUses.get(collection);
        if (!extra) {
          extra = new Map();
          this.extraUses.set(collection, extra);
        }
        extra.set(key, uses - 1);
      } else {
        this.extraUses.get(collection)?.delete(key);
      }
      if (before !== after) this.log.push({ generation, collection, key, before });
    }
    if (this.log.length > LOG_LIMIT) {
      const cut = this.log.length - LOG_LIMIT;
      // Whole generations only: a generation half in the log would give a wrong answer.
      let end = cut;
      const dropped = (this.log[cut - 1] as LoggedChange).generation;
      while (end < this.log.length && (this.log[end] as LoggedChange).generation === dropped) end++;
      this.log = this.log.slice(end);
      this.logFloor = dropped;
    }
  }

  /**
   * What changed since `generation` of this state: per entity, its value then and now (only
   * those that differ); undefined when the log no longer reaches back that far.
   */
  changesSince(generation: number): EntityChange[] | undefined {
    if (generation < this.logFloor || generation > this.generationNumber) return undefined;
    const first = new Map<Collection, Map<string, string | undefined>>();
    for (let i = this.log.length - 1; i >= 0; i--) {
      const entry = this.log[i] as LoggedChange;
      if (entry.generation <= generation) break;
      let keys = first.get(entry.collection);
      if (!keys) {
        keys = new Map();
        first.set(entry.collection, keys);
      }
      // Walking backwards: the last one seen is the oldest, the value at `generation`.
      keys.set(entry.key, entry.before);
    }
    const changes: EntityChange[] = [];
    for (const [collection, keys] of first) {
      for (const [key, before] of keys) {
        const after = this.value(collection, key);
        if (before !== after) changes.push({ collection, key, before, after });
      }
    }
    return changes;
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
