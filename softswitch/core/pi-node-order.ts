/**
 * The order of a multicast group's nodes when P4Runtime programs bmv2 through PI.
 *
 * PI (p4lang/PI proto/frontend/src/pre_mc_mgr.cpp) makes one bmv2 node per replica instance
 * (rid), holding that rid's ports, keeps the nodes in a `std::unordered_map<uint32_t, Node>`, and
 * attaches them to the group in that map's iteration order; on a MODIFY it keeps the nodes of
 * rids still present where they are and attaches the new ones after them, again in map order.
 * bmv2 replicates node by node in attach order, ports ascending within a node
 * (bm_sim simple_pre.cpp), so the copies a packet makes on one port come out in this order.
 *
 * The iteration order is that of libstdc++'s hashtable (the C++ library of bmv2 on Linux):
 * std::hash of an integer is the integer, a key's bucket is key mod bucket count, a key
 * entering an empty bucket goes to the front of the node list and one entering a used bucket
 * goes to the front of that bucket's run; a rehash walks the list and rebuilds it the same way.
 * Buckets follow _Prime_rehash_policy: 13 on the first insertion, then the next prime at least
 * twice as many once the elements outnumber them.
 */

/** libstdc++'s bucket counts for fewer than 14 requested buckets. */
const FAST_BUCKETS = [2, 2, 2, 3, 5, 5, 7, 7, 11, 11, 11, 11, 13, 13];

function isPrime(n: number): boolean {
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return n > 1;
}

/**
 * _Prime_rehash_policy::_M_next_bkt: the bucket count for at least `n` buckets. Past 13 it is
 * the first prime >= n in libstdc++'s table; the table holds every prime up to 1000, which is as
 * far as a multicast group's rid count goes here (beyond, an error says so rather than guess).
 */
function nextBucketCount(n: number): number {
  if (n < FAST_BUCKETS.length) return n === 0 ? 1 : (FAST_BUCKETS[n] as number);
  for (let p = n; p <= 1000; p++) if (isPrime(p)) return p;
  throw new RangeError(`a group of more than 500 replica instances (${n} buckets asked)`);
}

interface Node {
  key: number;
  next: Node | undefined;
}

/** Iteration order of a libstdc++ std::unordered_map<uint32_t, T> after inserting `keys`. */
export function unorderedMapOrder(keys: Iterable<number>): number[] {
  const head: { next: Node | undefined } = { next: undefined };
  /** For each bucket, the node before its first node (or the list head). */
  let buckets = new Map<number, Node | typeof head>();
  let bucketCount = 1;
  let nextResize = 0;
  let size = 0;
  const seen = new Set<number>();

  const insertAtBucketBegin = (node: Node, bucket: number) => {
    const before = buckets.get(bucket);
    if (before) {
      node.next = before.next;
      before.next = node;
      return;
    }
    node.next = head.next;
    head.next = node;
    if (node.next) buckets.set(node.next.key % bucketCount, node);
    buckets.set(bucket, head);
  };

  const rehash = (count: number) => {
    const fresh = new Map<number, Node | typeof head>();
    let p = head.next;
    head.next = undefined;
    let beginBucket = 0;
    while (p) {
      const next = p.next;
      const bucket = p.key % count;
      const before = fresh.get(bucket);
      if (!before) {
        p.next = head.next;
        head.next = p;
        fresh.set(bucket, head);
        if (p.next) fresh.set(beginBucket, p);
        beginBucket = bucket;
      } else {
        p.next = before.next;
        before.next = p;
      }
      p = next;
    }
    buckets = fresh;
    bucketCount = count;
  };

  for (const key of keys) {
    if (seen.has(key)) continue;
    seen.add(key);
    if (size + 1 > nextResize) {
      const minBuckets = Math.max(size + 1, nextResize === 0 ? 11 : 0);
      if (minBuckets >= bucketCount) {
        const count = nextBucketCount(Math.max(Math.floor(minBuckets) + 1, bucketCount * 2));
        nextResize = count;
        rehash(count);
      } else {
        nextResize = bucketCount;
      }
    }
    insertAtBucketBegin({ key, next: undefined }, key % bucketCount);
    size++;
  }
  const order: number[] = [];
  for (let p = head.next; p; p = p.next) order.push(p.key);
  return order;
}

/**
 * The rids of a group's nodes in bmv2 attach order after PI writes `rids` (in the order the
 * request lists its replicas) over a group whose nodes were `previous` (empty for an INSERT).
 */
export function piNodeOrder(rids: readonly number[], previous: readonly number[] = []): number[] {
  const wanted = new Set(rids);
  const kept = previous.filter((rid) => wanted.has(rid));
  const keptSet = new Set(kept);
  return [...kept, ...unorderedMapOrder(rids).filter((rid) => !keptSet.has(rid))];
}
