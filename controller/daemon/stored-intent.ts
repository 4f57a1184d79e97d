/**
 * A replica's copy of the stored intent: the fabric's resources and the compiler's id
 * allocations as of one store revision, kept current from the store's watch and changed only
 * through `commit`, which writes exactly the keys a change touches.
 *
 * Store layout (under the store's own prefix):
 *   intent/resources/<kind>/<name>   one fabric resource (resources.ts)
 *   intent/alloc/<pool>/next         a pool's cursor
 *   intent/alloc/<pool>/ids/<key>    one allocated id
 *   intent/meta/head                 the latest change: sequence number, trigger, actor, time
 *   intent/history/<sequence>        the audit record of every change (who, when, which
 *                                    resources, and the values it replaced: enough to undo it)
 *
 * Every change compares `meta/head` with the revision this replica read it at and rewrites it,
 * so changes are serialised: a change validated against revision R commits only if no other
 * change committed since R. That is what makes validating a change against this replica's
 * indexes safe when several replicas take changes at once; a replica that lost the race reads
 * up (the watch) and tries again. The fabric's revision is the store's revision.
 */
import type { Allocations, PoolState } from "../compile/allocate.js";
import {
  parseResourceKey,
  RESOURCE_PREFIX,
  type ResourceChange,
  ResourceSet,
} from "../intent/resources.js";
import type { FabricDocument } from "../intent/schema.js";
import type { KvStore, Watch, WatchBatch } from "../intent/store/types.js";
import type { RecordedChange } from "./api/protocol.js";
import { NotFoundError } from "./errors.js";

/** Everything of the intent lives under one prefix, apart from the cluster's own keys. */
const INTENT_PREFIX = "intent/";
const ALLOC_PREFIX = `${INTENT_PREFIX}alloc/`;
const META_PREFIX = `${INTENT_PREFIX}meta/`;
const HEAD_KEY = `${META_PREFIX}head`;
/** Audit records kept; older ones are deleted by the change that pushes them out. */
export const HISTORY_KEPT = 10_000;
const HISTORY_PREFIX = `${INTENT_PREFIX}history/`;

/** Who made a change and why, as the history keeps it. */
export interface ChangeAuthor {
  /** What caused it: "apply fabric.yaml", "endpoint move web-1", "learning on leaf1" … */
  trigger: string;
  /** Who: "uid 0 (unix socket)", a certificate subject, "controller" for learning and ageing. */
  actor: string;
}

interface Head extends ChangeAuthor {
  sequence: number;
  time: string;
}

/** One change as history shows it. */
export interface HistoryRecord extends ChangeAuthor {
  sequence: number;
  time: string;
  /** The store revision the change produced. */
  revision: number;
  /** Resource keys written (`resources/endpoint/web-1`) and deleted. */
  put: string[];
  deleted: string[];
  /**
   * What the changed and deleted resources held before the change, by key (added ones are
   * absent): undoing the change restores these, so any recorded revision can be rebuilt from
   * the current intent on either store, however far etcd has compacted. Absent in records
   * written before history kept them (those changes cannot be undone, and show as "changed").
   */
  before?: Record<string, unknown>;
}

/** The resources a history record changed, in key order. */
export function recordedChanges(record: HistoryRecord): RecordedChange[] {
  return [
    ...record.put.map((resource) => ({
      resource,
      op:
        !record.before || Object.hasOwn(record.before, resource)
          ? ("changed" as const)
          : ("added" as const),
    })),
    ...record.deleted.map((resource) => ({ resource, op: "deleted" as const })),
  ].sort((a, b) => (a.resource < b.resource ? -1 : 1));
}

export interface CommitResult {
  revision: number;
  /** Store keys written or deleted (resources, allocations, head, history). */
  keysWritten: number;
  resourcesChanged: number;
}

/** What a store revision changed, for the replica to recompile and reconcile. */
export interface AppliedChange {
  revision: number;
  resources: ResourceChange[];
  allocationsChanged: boolean;
}

/** A change computed against this copy, not stored yet: its canonical document compiles next. */
export interface PreparedChange {
  /** The canonical document after the change (what every replica will compile). */
  document: FabricDocument;
  resources: ResourceChange[];
  /** The copy it was computed against: committing is refused if another change came first. */
  basis: number;
  next: ResourceSet;
}

export class StoredIntent {
  private resources = ResourceSet.empty();
  private readonly pools = new Map<string, PoolState>();
  private allocationsView: Allocations = { pools: {} };
  private headModRevision = 0;
  private head: Head | undefined;
  private revisionRead = 0;

  private constructor(readonly store: KvStore) {}

  /** Reads every resource and allocation at one revision, in pages. */
  static async load(store: KvStore): Promise<StoredIntent> {
    const intent = new StoredIntent(store);
    // Three reads at one revision (history is read only when asked for).
    const first = await store.range(`${INTENT_PREFIX}${RESOURCE_PREFIX}`);
    const { revision } = first;
    const rest = await Promise.all([
      store.range(ALLOC_PREFIX, { atRevision: revision }),
      store.range(META_PREFIX, { atRevision: revision }),
    ]);
    const resources: ResourceChange[] = [];
    for (const item of [first, ...rest].flatMap((read) => read.items)) {
      const resource = resourceOfKey(item.key, item.value);
      if (resource) resources.push(resource);
      else if (item.key.startsWith(ALLOC_PREFIX)) intent.setAllocation(item.key, item.value);
      else if (item.key === HEAD_KEY) intent.setHead(item.value as Head, item.modRevision);
    }
    intent.resources = intent.resources.with(resources);
    intent.allocationsView = intent.allocationsOf(new Set(intent.pools.keys()));
    intent.revisionRead = revision;
    return intent;
  }

  /** The store revision this copy reflects (its watch position; other keys move it too). */
  get revision(): number {
    return this.revisionRead;
  }

  /** The intent's revision: the store revision of the latest change this copy holds (0: none). */
  get changeRevision(): number {
    return this.headModRevision;
  }

  /** True while nothing was ever stored. */
  get empty(): boolean {
    return this.head === undefined;
  }

  /**
   * The revision of the latest change in the store (every change rewrites the head): once this
   * copy's revision reaches it, this copy holds every change committed before the call.
   */
  async latestChange(): Promise<number> {
    return (await this.store.get(HEAD_KEY))?.modRevision ?? 0;
  }

  /** The canonical document (lists sorted by resource name). */
  get document(): FabricDocument {
    return this.resources.document;
  }

  get allocations(): Allocations {
    return this.allocationsView;
  }

  get resourceCount(): number {
    return this.resources.size;
  }

  get lastChange(): (ChangeAuthor & { time: string }) | undefined {
    return this.head;
  }

  /**
   * The resource changes that turn the stored intent into `document`, and the canonical
   * document they give. Throws DuplicateResourceError for a resource named twice.
   */
  prepare(document: FabricDocument): PreparedChange {
    const resources = this.resources.changesTo(document);
    const next = this.resources.with(resources);
    return { document: next.document, resources, basis: this.revisionRead, next };
  }

  /**
   * Stores a prepared change and the allocations its compile gave as one transaction, writing
   * only what differs, if no other change committed since (StoreConflictError otherwise: read
   * up and prepare again). This copy then reflects the new revision.
   */
  async commit(
    change: PreparedChange,
    allocations: Allocations,
    author: ChangeAuthor,
  ): Promise<CommitResult> {
    const { resources } = change;
    const allocationPuts: { key: string; value: unknown }[] = [];
    const allocationDeletes: string[] = [];
    this.allocationChanges(allocations, allocationPuts, allocationDeletes);
    const sequence = (this.head?.sequence ?? 0) + 1;
    const head: Head = { ...author, sequence, time: new Date().toISOString() };
    const storeKey = (c: ResourceChange) => `${INTENT_PREFIX}${c.key}`;
    const history = {
      ...head,
      put: resources.filter((c) => c.value !== undefined).map((c) => c.key),
      deleted: resources.filter((c) => c.value === undefined).map((c) => c.key),
      before: this.valuesBefore(resources),
    };
    const puts = [
      ...resources.flatMap((c) =>
        c.value === undefined ? [] : [{ key: storeKey(c), value: c.value }],
      ),
      ...allocationPuts,
      { key: HEAD_KEY, value: head },
      { key: historyKey(sequence), value: history },
    ];
    const deletes = [
      ...resources.flatMap((c) => (c.value === undefined ? [storeKey(c)] : [])),
      ...allocationDeletes,
      ...(sequence > HISTORY_KEPT ? [historyKey(sequence - HISTORY_KEPT)] : []),
    ];
    const revision = await this.store.commit({
      compares: [{ key: HEAD_KEY, modRevision: this.headModRevision }],
      puts,
      deletes,
    });
    this.resources =
      change.basis === this.revisionRead ? change.next : this.resources.with(resources);
    for (const { key, value } of allocationPuts) this.setAllocation(key, value);
    for (const key of allocationDeletes) this.setAllocation(key, undefined);
    this.allocationsView = allocations;
    this.setHead(head, revision);
    this.revisionRead = revision;
    return {
      revision,
      keysWritten: puts.length + deletes.length,
      resourcesChanged: resources.length,
    };
  }

  /**
   * Follows the store from this copy's revision: `onChange` gets each later revision's changes
   * once this copy reflects them (revisions it committed itself are not repeated).
   */
  follow(
    onChange: (change: AppliedChange) => void,
    onError: (error: Error) => void,
  ): Promise<Watch> {
    return this.store.watch(
      INTENT_PREFIX,
      this.revisionRead,
      (batch) => {
        const change = this.applyBatch(batch);
        if (change) onChange(change);
      },
      onError,
    );
  }

  /** Applies one watched revision; undefined when this copy already reflects it. */
  applyBatch(batch: WatchBatch): AppliedChange | undefined {
    if (batch.revision <= this.revisionRead) return undefined;
    const resources: ResourceChange[] = [];
    const pools = new Set<string>();
    for (const event of batch.events) {
      const value = event.type === "put" ? event.value : undefined;
      const resource = resourceOfKey(event.key, value);
      if (resource) resources.push(resource);
      else if (event.key.startsWith(ALLOC_PREFIX)) {
        const pool = this.setAllocation(event.key, value);
        if (pool !== undefined) pools.add(pool);
      } else if (event.key === HEAD_KEY && value !== undefined) {
        this.setHead(value as Head, event.modRevision);
      }
    }
    this.resources = this.resources.with(resources);
    if (pools.size > 0) this.allocationsView = this.allocationsOf(pools);
    this.revisionRead = batch.revision;
    return { revision: batch.revision, resources, allocationsChanged: pools.size > 0 };
  }

  /** The audit records with a sequence above `afterSequence`, oldest first. */
  async history(afterSequence = 0): Promise<HistoryRecord[]> {
    const { items } = await this.store.range<Omit<HistoryRecord, "revision">>(HISTORY_PREFIX);
    return items
      .map((item) => ({ ...item.value, revision: item.modRevision }))
      .filter((record) => record.sequence > afterSequence)
      .sort((a, b) => a.sequence - b.sequence);
  }

  /**
   * The canonical document as the change recorded at `revision` left it (for diff and
   * rollback): this copy's resources with every later change undone, newest first, from the
   * values each history record kept. Reads no old store revision, so it works on the embedded
   * store (which serves only the current one) and on a compacted etcd alike. NotFoundError
   * when no recorded change produced `revision`.
   */
  async documentAt(revision: number): Promise<FabricDocument> {
    // The copy and the revision it reflects, taken together before anything is awaited.
    const base = this.resources;
    const reflected = this.revisionRead;
    const records = (await this.history()).filter((record) => record.revision <= reflected);
    if (!records.some((record) => record.revision === revision)) {
      const range =
        records.length === 0
          ? "no change is recorded yet"
          : `the recorded changes are revisions ${records[0]?.revision}–${records.at(-1)?.revision}`;
      throw new NotFoundError(
        `revision ${revision} is not a recorded change of the intent (${range}; see nvgre-ctl history)`,
      );
    }
    // Newest first: a resource several later changes touched ends with the oldest one's value.
    const undone = new Map<string, unknown>();
    for (const record of records.reverse()) {
      if (record.revision <= revision) break;
      const before = record.before;
      if (!before) {
        throw new NotFoundError(
          `revision ${revision} cannot be rebuilt: the change at revision ${record.revision} was recorded without the values it replaced (by an older version)`,
        );
      }
      for (const key of [...record.put, ...record.deleted]) undone.set(key, before[key]);
    }
    return base.with(
      [...undone].flatMap(([key, value]) => resourceOfKey(`${INTENT_PREFIX}${key}`, value) ?? []),
    ).document;
  }

  /** The values `changes` replace, by resource key (resources they add have none). */
  private valuesBefore(changes: ResourceChange[]): Record<string, unknown> {
    const before: Record<string, unknown> = {};
    // The first change adds everything (an empty set's fabric settings are only a default).
    if (this.empty) return before;
    for (const change of changes) {
      const value = this.resources.get(change.kind, change.name);
      if (value !== undefined) before[change.key] = value;
    }
    return before;
  }

  private setHead(head: Head, modRevision: number): void {
    this.head = head;
    this.headModRevision = modRevision;
  }

  // ------------------------------------------------------------------ allocations as keys

  /** Records one allocation key; returns the pool it belongs to. */
  private setAllocation(key: string, value: unknown): string | undefined {
    const parsed = parseAllocationKey(key);
    if (!parsed) return undefined;
    let pool = this.pools.get(parsed.pool);
    if (!pool) {
      pool = { next: 0, ids: {} };
      this.pools.set(parsed.pool, pool);
    }
    if (parsed.id === undefined) {
      if (typeof value === "number") pool.next = value;
    } else if (typeof value === "number") {
      pool.ids[parsed.id] = value;
    } else {
      delete pool.ids[parsed.id];
    }
    return parsed.pool;
  }

  /**
   * The allocations the compiler takes, with the pools in `changed` copied afresh (the others
   * kept as they are: a compile compares pools by identity) and in name order, as compiles give them.
   */
  private allocationsOf(changed: Set<string>): Allocations {
    const pools: Record<string, PoolState> = {};
    for (const name of [...this.pools.keys()].sort()) {
      const pool = this.pools.get(name) as PoolState;
      if (Object.keys(pool.ids).length === 0) continue;
      const kept = this.allocationsView.pools[name];
      pools[name] = kept && !changed.has(name) ? kept : { next: pool.next, ids: { ...pool.ids } };
    }
    return { pools };
  }

  /** Keys to write for `next`: pools the compile replaced are compared id by id. */
  private allocationChanges(
    next: Allocations,
    puts: { key: string; value: unknown }[],
    deletes: string[],
  ): void {
    const previous = this.allocationsView.pools;
    for (const [name, pool] of Object.entries(next.pools)) {
      const was = previous[name];
      if (was === pool) continue;
      if (was?.next !== pool.next) puts.push({ key: nextKey(name), value: pool.next });
      for (const [id, value] of Object.entries(pool.ids)) {
        if (was?.ids[id] !== value) puts.push({ key: idKey(name, id), value });
      }
      for (const id of Object.keys(was?.ids ?? {})) {
        if (!Object.hasOwn(pool.ids, id)) deletes.push(idKey(name, id));
      }
    }
    for (const [name, was] of Object.entries(previous)) {
      if (Object.hasOwn(next.pools, name)) continue;
      deletes.push(nextKey(name));
      for (const id of Object.keys(was.ids)) deletes.push(idKey(name, id));
    }
  }
}

/** The resource a store key holds, as a change to apply; undefined for other keys. */
function resourceOfKey(key: string, value: unknown): ResourceChange | undefined {
  if (!key.startsWith(INTENT_PREFIX)) return undefined;
  const resourceKeyText = key.slice(INTENT_PREFIX.length);
  const parsed = parseResourceKey(resourceKeyText);
  return parsed ? { key: resourceKeyText, ...parsed, value } : undefined;
}

const nextKey = (pool: string) => `${ALLOC_PREFIX}${encodeURIComponent(pool)}/next`;
const idKey = (pool: string, id: string) =>
  `${ALLOC_PREFIX}${encodeURIComponent(pool)}/ids/${encodeURIComponent(id)}`;
/** Zero-padded so that key order is sequence order. */
const historyKey = (sequence: number) => `${HISTORY_PREFIX}${String(sequence).padStart(12, "0")}`;

function parseAllocationKey(key: string): { pool: string; id?: string } | undefined {
  if (!key.startsWith(ALLOC_PREFIX)) return undefined;
  const [pool, what, id] = key.slice(ALLOC_PREFIX.length).split("/");
  if (pool === undefined) return undefined;
  if (what === "next") return { pool: decodeURIComponent(pool) };
  if (what === "ids" && id !== undefined) {
    return { pool: decodeURIComponent(pool), id: decodeURIComponent(id) };
  }
  return undefined;
}
