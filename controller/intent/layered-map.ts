/**
 * A read-only map whose versions share one base: each version keeps the keys changed since
 * that base in a small overlay, so the next version of a 100,000-entry index costs the change,
 * not a copy of the index. An overlay that outgrows OVERLAY_MAX (or its base) is folded into a
 * new base, once per that many changed keys. Iteration gives the base's order with changed
 * keys in place and added keys last (not insertion order: nothing reads these in order).
 */

/** Keys an overlay holds before it is folded into a new base. */
const OVERLAY_MAX = 1024;
/** An overlay's mark of a deleted key. */
const GONE: unique symbol = Symbol("deleted");

export class LayeredMap<K, V> implements ReadonlyMap<K, V> {
  private constructor(
    private readonly base: ReadonlyMap<K, V>,
    private readonly overlay: ReadonlyMap<K, V | typeof GONE>,
    readonly size: number,
  ) {}

  /**
   * `map` with `changes` applied (a value, or undefined to delete the key); `map` is left as it
   * is and must not change afterwards (it becomes the new version's base).
   */
  static derive<K, V>(
    map: ReadonlyMap<K, V>,
    changes: Iterable<readonly [K, V | undefined]>,
  ): ReadonlyMap<K, V> {
    const layered =
      map instanceof LayeredMap
        ? (map as LayeredMap<K, V>)
        : new LayeredMap<K, V>(map, new Map(), map.size);
    const overlay = new Map(layered.overlay);
    let size = layered.size;
    for (const [key, value] of changes) {
      const present = overlay.has(key) ? overlay.get(key) !== GONE : layered.base.has(key);
      if (value === undefined) {
        if (!present) continue;
        overlay.set(key, GONE);
        size--;
      } else {
        overlay.set(key, value);
        if (!present) size++;
      }
    }
    if (overlay.size > OVERLAY_MAX || overlay.size > layered.base.size) {
      return new Map(new LayeredMap(layered.base, overlay, size));
    }
    return new LayeredMap(layered.base, overlay, size);
  }

  // The overlay never holds undefined (derive deletes with GONE): one lookup tells it apart.
  get(key: K): V | undefined {
    const value = this.overlay.get(key);
    if (value === undefined) return this.base.get(key);
    return value === GONE ? undefined : value;
  }

  has(key: K): boolean {
    const value = this.overlay.get(key);
    if (value === undefined) return this.base.has(key);
    return value !== GONE;
  }

  *entries(): MapIterator<[K, V]> {
    for (const [key, value] of this.base) {
      const now = this.overlay.has(key) ? this.overlay.get(key) : value;
      if (now !== GONE) yield [key, now as V];
    }
    for (const [key, value] of this.overlay) {
      if (value !== GONE && !this.base.has(key)) yield [key, value];
    }
  }

  *keys(): MapIterator<K> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): MapIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  forEach(callback: (value: V, key: K, map: ReadonlyMap<K, V>) => void): void {
    for (const [key, value] of this.entries()) callback(value, key, this);
  }
}
