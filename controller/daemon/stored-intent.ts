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
 *   intent/staging/<sequence>/<part> the journal of a change too large for one transaction
 *
 * Every change compares `meta/head` with the revision this replica read it at and rewrites it,
 * so changes are serialised: a change validated against revision R commits only if no other
 * change committed since R. That is what makes validating a change against this replica's
 * indexes safe when several replicas take changes at once; a replica that lost the race reads
 * up (the watch) and tries again. The fabric's revision is the store's revision.
 *
 * A change that does not fit one transaction of the store (store.limits: etcd's default
 * --max-txn-ops is 128, and it takes at most 1 MiB) is staged: a first transaction claims the head
 * (marking it `staging`), the change's journal is written in parts, then applied in fenced
 * transactions (each compares the claimed head), and a last one writes the final head and the
 * history record. Replicas hold back what they watch while the head is staging and apply it all
 * at once when the final head arrives, so nobody compiles half a change; a copy loaded mid-way
 * overlays the journal. A writer that dies half-way leaves a stalled change that
 * `recoverStalled` finishes (journal whole) or drops (journal incomplete: nothing was applied).
 */
import type { Allocations, PoolState } from "../compile/allocate.js";
import {
  parseResourceKey,
  RESOURCE_PREFIX,
  type ResourceChange,
  ResourceSet,
} from "../intent/resources.js";
import type { FabricDocument } from "../intent/schema.js";
import { StoreConflictError } from "../intent/store/errors.js";
import type { KvStore, Watch, WatchBatch } from "../intent/store/types.js";
import { NotFoundError } from "./errors.js";
import type { RecordedChange } from "./protocol.js";

/** Everything of the intent lives under one prefix, apart from the cluster's own keys. */
const INTENT_PREFIX = "intent/";
const ALLOC_PREFIX = `${INTENT_PREFIX}alloc/`;
const META_PREFIX = `${INTENT_PREFIX}meta/`;
const HEAD_KEY = `${META_PREFIX}head`;
const STAGING_PREFIX = `${INTENT_PREFIX}staging/`;
/** Room left in every transaction for the head and history record beside a change's keys. */
const TXN_OPS_SPARE = 8;
/** Bytes of one journal part (one value, under the store's 512 KiB per value). */
const PART_BYTES = 384 * 1024;
/** Resource names a history record lists; larger changes keep the first ones and the totals. */
const HISTORY_NAMES = 1000;
/** The replaced values a history record keeps (under the store's 512 KiB per value). */
const HISTORY_VALUES_BYTES = 384 * 1024;
/** A staged change whose writer still lives is taken over once it is this old. */
const STALLED_AFTER_MS = 60_000;
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
  /** Set while the change is being written in several transactions. */
  staging?: Staging;
}

interface Staging {
  /** Journal parts (intent/staging/<sequence>/<part>) the change was split into. */
  parts: number;
  /** The replica writing it (its member id). */
  writer: string;
  /** The head before this change (restored if the change is dropped). */
  previous: Head | null;
}

/** One key of a change: a put, or a delete when value is undefined. */
interface StoreOp {
  key: string;
  value?: unknown;
}

/** One change as history shows it. */
export interface HistoryRecord extends ChangeAuthor {
  sequence: number;
  time: string;
  /** The store revision the change produced. */
  revision: number;
  /** Resource keys written (`resources/endpoint/web-1`) and deleted (at most 1,000 each). */
  put: string[];
  deleted: string[];
  /** How many there were in all, when the lists above were cut. */
  putTotal?: number;
  deletedTotal?: number;
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
  /**
   * The canonical documents the copy held before and after `resources` (absent when not known):
   * a replica whose intent is `before` validates only `resources` (validate-change.ts).
   */
  documents?: { before: FabricDocument; after: FabricDocument };
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
  /** The staged change in the store, while it is being written (commits wait for it). */
  private staging: Staging | undefined;
  /** Watched events of the staged change, applied together when its final head arrives. */
  private held: WatchBatch["events"] = [];
  /** True while this copy's own commit runs (its staged change is not stalled). */
  private writing = false;
  private batchesDuringCommit: WatchBatch[] = [];
  private deliver: ((batch: WatchBatch) => void) | undefined;

  private constructor(
    readonly store: KvStore,
    /** This replica's member id, written into the changes it stages. */
    private readonly member: string,
  ) {}

  /** Reads every resource and allocation at one revision, in pages. */
  static async load(store: KvStore, member = "controller"): Promise<StoredIntent> {
    const intent = new StoredIntent(store, member);
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
    const staging = intent.head?.staging;
    if (staging) {
      // Mid-way through a staged change: a whole journal is what the store will hold once it is
      // finished (by its writer or by recoverStalled); an incomplete one was never applied.
      intent.staging = staging;
      const journal = await readJournal(store, intent.head as Head, revision);
      for (const op of journal ?? []) {
        const resource = resourceOfKey(op.key, op.value);
        if (resource) resources.push(resource);
        else intent.setAllocation(op.key, op.value);
      }
    }
    intent.resources = intent.resources.with(lastPerKey(resources));
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
    return this.prepareChanges(this.resources.changesTo(document));
  }

  /** Resource changes an edit made from `resources` directly, and the document they give. */
  prepareChanges(resources: ResourceChange[]): PreparedChange {
    const next = this.resources.with(resources);
    return { document: next.document, resources, basis: this.revisionRead, next };
  }

  /** The stored resources, for edits that read and change single ones (intent-changes.ts). */
  get resourceSet(): ResourceSet {
    return this.resources;
  }

  /**
   * Stores a prepared change and the allocations its compile gave, writing only what differs,
   * if no other change committed since (StoreConflictError otherwise: read up and prepare
   * again); in one transaction, or staged (see above) when it does not fit one. This copy then
   * reflects the new revision. While another replica's staged change is being written,
   * ChangeInProgressError.
   */
  async commit(
    change: PreparedChange,
    allocations: Allocations,
    author: ChangeAuthor,
  ): Promise<CommitResult> {
    if (this.staging) throw new ChangeInProgressError(this.head as Head);
    const { resources } = change;
    const allocationOps: StoreOp[] = [];
    this.allocationChanges(allocations, allocationOps);
    const ops: StoreOp[] = [
      ...resources.map((c) => ({ key: `${INTENT_PREFIX}${c.key}`, value: c.value })),
      ...allocationOps,
    ];
    const head: Head = {
      ...author,
      sequence: (this.head?.sequence ?? 0) + 1,
      time: new Date().toISOString(),
    };
    const before = this.valuesBefore(resources);
    this.writing = true;
    let revision: number;
    try {
      const fits = chunk(ops, ...txnSize(this.store)).length <= 1;
      revision = fits
        ? await this.store.commit({
            compares: [{ key: HEAD_KEY, modRevision: this.headModRevision }],
            ...finalTxn(ops, head, ops, before),
          })
        : await this.commitStaged(ops, head, before);
    } catch (error) {
      this.writing = false;
      this.deliverBatchesDuringCommit();
      throw error;
    }
    this.writing = false;
    this.resources =
      change.basis === this.revisionRead ? change.next : this.resources.with(resources);
    for (const op of allocationOps) this.setAllocation(op.key, op.value);
    this.allocationsView = allocations;
    this.setHead(head, revision);
    this.revisionRead = revision;
    this.deliverBatchesDuringCommit();
    return { revision, keysWritten: ops.length + 2, resourcesChanged: resources.length };
  }

  /** Claims the head, writes the journal, then applies it (finishStaged); returns the final revision. */
  private async commitStaged(
    ops: StoreOp[],
    head: Head,
    before: Record<string, unknown>,
  ): Promise<number> {
    const parts = chunk(ops, Number.POSITIVE_INFINITY, PART_BYTES);
    const staged: Head = {
      ...head,
      staging: { parts: parts.length, writer: this.member, previous: this.head ?? null },
    };
    const claimed = await this.store.commit({
      compares: [{ key: HEAD_KEY, modRevision: this.headModRevision }],
      puts: [{ key: HEAD_KEY, value: staged }],
    });
    try {
      for (const [index, part] of parts.entries()) {
        await this.store.commit({
          compares: [{ key: HEAD_KEY, modRevision: claimed }],
          puts: [{ key: partKey(head.sequence, index), value: part }],
        });
      }
      return await finishStaged(this.store, claimed, ops, head, parts.length, before);
    } catch (error) {
      if (!(error instanceof StoreConflictError)) throw error;
      // Another replica took the change over as stalled: it finished it, or dropped it (then
      // the conflict stands and the caller prepares it again).
      const now = await this.store.get<Head>(HEAD_KEY);
      if (now?.value.sequence === head.sequence && !now.value.staging) return now.modRevision;
      throw error;
    }
  }

  /**
   * Finishes or drops a staged change whose writer stopped half-way: one that is gone
   * (`writerGone`), this replica when it is not writing, or any writer after a minute.
   * Returns what it did, for the log; undefined when there was nothing to take over.
   */
  async recoverStalled(
    writerGone: (member: string) => Promise<boolean>,
  ): Promise<string | undefined> {
    const head = await this.store.get<Head>(HEAD_KEY);
    const staging = head?.value.staging;
    if (!head || !staging) return undefined;
    const age = Date.now() - Date.parse(head.value.time);
    const stalled =
      staging.writer === this.member
        ? !this.writing
        : age > STALLED_AFTER_MS || (await writerGone(staging.writer));
    if (!stalled) return undefined;
    const { sequence, trigger } = head.value;
    const journal = await readJournal(this.store, head.value);
    const final: Head = { ...head.value };
    delete final.staging;
    if (journal) {
      await finishStaged(this.store, head.modRevision, journal, final, staging.parts);
      return `finished change ${sequence} (${trigger}) that ${staging.writer} left half-way`;
    }
    await this.store.commit({
      compares: [{ key: HEAD_KEY, modRevision: head.modRevision }],
      ...(staging.previous
        ? { puts: [{ key: HEAD_KEY, value: staging.previous }] }
        : { deletes: [HEAD_KEY] }),
    });
    await deleteJournal(this.store, sequence, staging.parts);
    return `dropped change ${sequence} (${trigger}) that ${staging.writer} left before its journal was whole (nothing of it was applied)`;
  }

  /**
   * Follows the store from this copy's revision: `onChange` gets each later revision's changes
   * once this copy reflects them (revisions it committed itself are not repeated).
   */
  follow(
    onChange: (change: AppliedChange) => void,
    onError: (error: Error) => void,
  ): Promise<Watch> {
    this.deliver = (batch) => {
      const change = this.applyBatch(batch);
      if (change) onChange(change);
    };
    return this.store.watch(
      INTENT_PREFIX,
      this.revisionRead,
      (batch) => {
        // While this copy commits, its own revision may be watched before the commit returns
        // (etcd answers both at once): held until then, so that revision is not applied twice
        // and the copy keeps the very document the change was prepared and compiled from.
        if (this.writing) this.batchesDuringCommit.push(batch);
        else this.deliver?.(batch);
      },
      onError,
    );
  }

  /** Watched batches that arrived during a commit: those after it, applied now. */
  private deliverBatchesDuringCommit(): void {
    for (const batch of this.batchesDuringCommit.splice(0)) this.deliver?.(batch);
  }

  /**
   * Applies one watched revision; undefined when this copy already reflects it, or while a
   * staged change is being written (its revisions are held and applied with its final head).
   */
  applyBatch(batch: WatchBatch): AppliedChange | undefined {
    if (batch.revision <= this.revisionRead) return undefined;
    this.revisionRead = batch.revision;
    const headEvent = batch.events.findLast((event) => event.key === HEAD_KEY);
    const headNow = headEvent?.type === "put" ? (headEvent.value as Head) : undefined;
    if (headEvent ? headNow?.staging : this.staging) {
      if (headEvent) {
        this.staging = headNow?.staging;
        this.setHead(headNow as Head, headEvent.modRevision);
      }
      this.held.push(...batch.events);
      return undefined;
    }
    const events = this.held.length > 0 ? [...this.held, ...batch.events] : batch.events;
    this.held = [];
    this.staging = undefined;
    const resources: ResourceChange[] = [];
    const pools = new Set<string>();
    for (const event of events) {
      const value = event.type === "put" ? event.value : undefined;
      const resource = resourceOfKey(event.key, value);
      if (resource) resources.push(resource);
      else if (event.key.startsWith(ALLOC_PREFIX)) {
        const pool = this.setAllocation(event.key, value);
        if (pool !== undefined) pools.add(pool);
      }
    }
    if (headEvent) {
      if (headNow) this.setHead(headNow, headEvent.modRevision);
      else {
        this.head = undefined;
        this.headModRevision = 0;
      }
    }
    // Revisions of other keys (a journal's removal) change nothing a replica compiles.
    if (resources.length === 0 && pools.size === 0 && !headEvent) return undefined;
    const changed = lastPerKey(resources);
    const before = this.resources.document;
    this.resources = this.resources.with(changed);
    if (pools.size > 0) this.allocationsView = this.allocationsOf(pools);
    return {
      revision: batch.revision,
      resources: changed,
      allocationsChanged: pools.size > 0,
      documents: { before, after: this.resources.document },
    };
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
          `revision ${revision} cannot be rebuilt: the change at revision ${record.revision} was recorded without the values it replaced (a change too large to record them, or one made by an older version)`,
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
  private allocationChanges(next: Allocations, ops: StoreOp[]): void {
    const previous = this.allocationsView.pools;
    for (const [name, pool] of Object.entries(next.pools)) {
      const was = previous[name];
      if (was === pool) continue;
      if (was?.next !== pool.next) ops.push({ key: nextKey(name), value: pool.next });
      for (const [id, value] of Object.entries(pool.ids)) {
        if (was?.ids[id] !== value) ops.push({ key: idKey(name, id), value });
      }
      for (const id of Object.keys(was?.ids ?? {})) {
        if (!Object.hasOwn(pool.ids, id)) ops.push({ key: idKey(name, id) });
      }
    }
    for (const [name, was] of Object.entries(previous)) {
      if (Object.hasOwn(next.pools, name)) continue;
      ops.push({ key: nextKey(name) });
      for (const id of Object.keys(was.ids)) ops.push({ key: idKey(name, id) });
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

/** Thrown by commit while another replica's staged change is being written. */
export class ChangeInProgressError extends Error {
  override readonly name = "ChangeInProgressError";
  constructor(readonly head: ChangeAuthor & { sequence: number; time: string }) {
    super(
      `change ${head.sequence} (${head.trigger}, by ${head.actor}, since ${head.time}) is still being written; try again when it is done`,
    );
  }
}

/**
 * The transaction that ends a change: the head, the history record of all its ops, and those
 * of them still to write (all of a change in one transaction; none of a staged one).
 */
function finalTxn(
  ops: StoreOp[],
  head: Head,
  unwritten: StoreOp[],
  before?: Record<string, unknown>,
): { puts: { key: string; value: unknown }[]; deletes: string[] } {
  const { puts, deletes } = splitOps(unwritten);
  puts.push(
    { key: HEAD_KEY, value: head },
    { key: historyKey(head.sequence), value: historyOf(head, ops, before) },
  );
  if (head.sequence > HISTORY_KEPT) deletes.push(historyKey(head.sequence - HISTORY_KEPT));
  return { puts, deletes };
}

/**
 * Applies a staged change's ops in transactions fenced by the claimed head (another writer
 * taking it over makes them fail), then ends it; returns the final revision.
 */
async function finishStaged(
  store: KvStore,
  claimed: number,
  ops: StoreOp[],
  head: Head,
  parts: number,
  before?: Record<string, unknown>,
): Promise<number> {
  const compares = [{ key: HEAD_KEY, modRevision: claimed }];
  for (const batch of chunk(ops, ...txnSize(store))) {
    const { puts, deletes } = splitOps(batch);
    await store.commit({ compares, puts, deletes });
  }
  const revision = await store.commit({ compares, ...finalTxn(ops, head, [], before) });
  await deleteJournal(store, head.sequence, parts);
  return revision;
}

function splitOps(ops: StoreOp[]): { puts: { key: string; value: unknown }[]; deletes: string[] } {
  const puts: { key: string; value: unknown }[] = [];
  const deletes: string[] = [];
  for (const op of ops) {
    if (op.value === undefined) deletes.push(op.key);
    else puts.push({ key: op.key, value: op.value });
  }
  return { puts, deletes };
}

/** The staged change's ops, or undefined while its journal is incomplete. */
async function readJournal(
  store: KvStore,
  head: Head,
  atRevision?: number,
): Promise<StoreOp[] | undefined> {
  const parts = head.staging?.parts ?? 0;
  const { items } = await store.range<StoreOp[]>(
    journalPrefix(head.sequence),
    atRevision === undefined ? {} : { atRevision },
  );
  const byKey = new Map(items.map((item) => [item.key, item.value]));
  const journal: StoreOp[] = [];
  for (let index = 0; index < parts; index++) {
    const part = byKey.get(partKey(head.sequence, index));
    if (!part) return undefined;
    journal.push(...part);
  }
  return journal;
}

/** The journal is not needed once the final head is stored: removed after it, in batches. */
async function deleteJournal(store: KvStore, sequence: number, parts: number): Promise<void> {
  const keys = Array.from({ length: parts }, (_, index) => partKey(sequence, index));
  const [ops] = txnSize(store);
  for (let at = 0; at < keys.length; at += ops) {
    await store.commit({ deletes: keys.slice(at, at + ops) });
  }
}

/** Ops in runs of at most maxOps and maxBytes (a single op larger than maxBytes goes alone). */
function chunk(ops: StoreOp[], maxOps: number, maxBytes: number): StoreOp[][] {
  const runs: StoreOp[][] = [];
  let run: StoreOp[] = [];
  let bytes = 0;
  for (const op of ops) {
    const size = opBytes(op);
    if (run.length > 0 && (run.length >= maxOps || bytes + size > maxBytes)) {
      runs.push(run);
      run = [];
      bytes = 0;
    }
    run.push(op);
    bytes += size;
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

/** Ops and bytes of a change's keys per transaction, with room for the head and history. */
function txnSize(store: KvStore): [ops: number, bytes: number] {
  return [store.limits.ops - TXN_OPS_SPARE, Math.floor(store.limits.bytes * 0.75)];
}

/** Bytes as the store counts them (encodeTxn: UTF-8), so a run never exceeds its limit. */
const opBytes = (op: StoreOp) =>
  Buffer.byteLength(op.key) +
  (op.value === undefined ? 0 : Buffer.byteLength(JSON.stringify(op.value))) +
  16;

/**
 * The audit record of a change: who, when, which resources it wrote and deleted, and the values
 * it replaced (so it can be undone) while they fit one record; a larger change keeps the first
 * names, the totals, and no values (history cannot be rebuilt past it).
 */
function historyOf(head: Head, ops: StoreOp[], before?: Record<string, unknown>) {
  const put: string[] = [];
  const deleted: string[] = [];
  for (const op of ops) {
    if (!op.key.startsWith(`${INTENT_PREFIX}${RESOURCE_PREFIX}`)) continue;
    (op.value === undefined ? deleted : put).push(op.key.slice(INTENT_PREFIX.length));
  }
  const { staging: _, ...record } = head;
  const cut = put.length > HISTORY_NAMES || deleted.length > HISTORY_NAMES;
  const undo =
    before && !cut && JSON.stringify(before).length <= HISTORY_VALUES_BYTES ? { before } : {};
  return {
    ...record,
    put: put.slice(0, HISTORY_NAMES),
    deleted: deleted.slice(0, HISTORY_NAMES),
    ...(put.length > HISTORY_NAMES ? { putTotal: put.length } : {}),
    ...(deleted.length > HISTORY_NAMES ? { deletedTotal: deleted.length } : {}),
    ...undo,
  };
}

/** One change per resource key, the last one winning (a held batch may write a key twice). */
function lastPerKey(changes: ResourceChange[]): ResourceChange[] {
  const byKey = new Map<string, ResourceChange>();
  for (const change of changes) {
    byKey.delete(change.key);
    byKey.set(change.key, change);
  }
  return byKey.size === changes.length ? changes : [...byKey.values()];
}

const journalPrefix = (sequence: number) =>
  `${STAGING_PREFIX}${String(sequence).padStart(12, "0")}/`;
const partKey = (sequence: number, index: number) =>
  `${journalPrefix(sequence)}${String(index).padStart(6, "0")}`;
