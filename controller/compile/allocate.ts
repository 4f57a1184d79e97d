/**
 * Stable ids for what the P4 program numbers (VSID counter indexes, routing domains, tunnel
 * destinations, tenant next hops, ECMP members and groups, multicast groups). An object keeps
 * its id for as long as it exists, so adding or removing one object never renumbers the others
 * (which would rewrite every entry that refers to them and disturb traffic).
 *
 * The compiler takes the previous allocations and returns the new ones; the intent store keeps
 * them beside the intent. New objects get ids from a cursor that moves on, so an id freed now is
 * not handed to another object until the pool wraps: a switch that missed a reconcile never
 * sees an id change meaning under entries it still holds.
 */

export interface PoolState {
  /** Where the next search for a free id starts. */
  next: number;
  ids: Record<string, number>;
}

export interface Allocations {
  pools: Record<string, PoolState>;
}

export const emptyAllocations = (): Allocations => ({ pools: {} });

/** An id looked up in a pool that only looks up (an incremental recompile's view of the past) is not there. */
export class IdNotAllocatedError extends Error {
  override readonly name = "IdNotAllocatedError";
  constructor(
    readonly pool: string,
    readonly key: string,
  ) {
    super(`pool "${pool}" has no id for "${key}"`);
  }
}

/** A pool ran out of ids: the fabric has more of something than the P4 program can number. */
export class IdExhaustedError extends Error {
  override readonly name = "IdExhaustedError";
  constructor(
    readonly pool: string,
    readonly max: number,
  ) {
    super(`no free id left in pool "${pool}" (ids ${max} in use)`);
  }
}

export class IdPool {
  private readonly previous: Record<string, number>;
  /** Ids not to hand out: built on the first new id (most compiles hand out none). */
  private taken: Set<number> | undefined;
  private readonly used = new Map<string, number>();
  private cursor: number;

  constructor(
    readonly name: string,
    private readonly min: number,
    private readonly max: number,
    state: PoolState | undefined,
    private readonly lookupOnly = false,
  ) {
    this.previous = state?.ids ?? {};
    const next = state?.next ?? min;
    this.cursor = next >= min && next <= max ? next : min;
  }

  /** The id of `key`: its previous one, or a fresh one. */
  id(key: string): number {
    const known = this.used.get(key);
    if (known !== undefined) return known;
    const previous = Object.hasOwn(this.previous, key) ? this.previous[key] : undefined;
    if (typeof previous === "number" && previous >= this.min && previous <= this.max) {
      this.used.set(key, previous);
      return previous;
    }
    if (this.lookupOnly) throw new IdNotAllocatedError(this.name, key);
    // Ids of last time stay taken during this compile even if their object is gone.
    this.taken ??= new Set([...Object.values(this.previous), ...this.used.values()]);
    const span = this.max - this.min + 1;
    for (let tried = 0; tried < span; tried++) {
      const candidate = this.cursor;
      this.cursor = candidate === this.max ? this.min : candidate + 1;
      if (!this.taken.has(candidate)) {
        this.taken.add(candidate);
        this.used.set(key, candidate);
        return candidate;
      }
    }
    throw new IdExhaustedError(this.name, span);
  }

  get size(): number {
    return this.used.size;
  }

  /** Where the next search for a free id starts. */
  get next(): number {
    return this.cursor;
  }

  state(): PoolState {
    return { next: this.cursor, ids: Object.fromEntries(this.used) };
  }
}

export class IdAllocator {
  private readonly pools = new Map<string, IdPool>();

  constructor(
    private readonly previous: Allocations = emptyAllocations(),
    private readonly lookupOnly = false,
  ) {}

  /** The pool `name` (made on first use, from the previous allocations). */
  pool(name: string, min: number, max: number): IdPool {
    let pool = this.pools.get(name);
    if (!pool) {
      pool = new IdPool(name, min, max, this.previous.pools[name], this.lookupOnly);
      this.pools.set(name, pool);
    }
    return pool;
  }

  existing(name: string): IdPool | undefined {
    return this.pools.get(name);
  }

  /** Only the ids asked for in this compile: objects that are gone lose theirs. */
  result(): Allocations {
    const pools: Record<string, PoolState> = {};
    for (const name of [...this.pools.keys()].sort()) {
      const pool = this.pools.get(name) as IdPool;
      if (pool.size > 0) pools[name] = pool.state();
    }
    return { pools };
  }
}
