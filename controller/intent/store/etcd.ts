/**
 * The store on etcd (v3 API through the `etcd3` client): several controller replicas on several
 * hosts share it. Every key lives under `prefix` (by default `/nvgre/<fabric>/`), so several
 * fabrics share one cluster; revisions are etcd's own (header and key revisions).
 *
 * etcd members must allow the transactions the store sends: `--max-txn-ops` at least the largest
 * transaction's operation count (etcd's default of 128 is too small for an `apply` of a
 * fabric), `--max-request-bytes` above MAX_TXN_BYTES (its default of 1.5 MiB is).
 */
import { ConsecutiveBreaker, circuitBreaker, handleWhen } from "cockatiel";
import {
  Etcd3,
  GRPCDeadlineExceededError,
  GRPCUnavailableError,
  type IKeyValue,
  type IOptions,
  type IWatchResponse,
  isRecoverableError,
  type Watcher,
} from "etcd3";
import {
  StoreCompactedError,
  StoreConflictError,
  StoreCorruptError,
  StoreError,
  StoreUnavailableError,
} from "./errors.js";
import {
  batchByRevision,
  DEFAULT_PAGE_SIZE,
  ETCD_DEFAULT_TXN_OPS,
  encodeTxn,
  type KvStore,
  MAX_TXN_BYTES,
  type RangeOptions,
  type StoredValue,
  type Txn,
  type TxnLimits,
  type Watch,
  type WatchBatch,
  type WatchEvent,
} from "./types.js";

export interface EtcdStoreOptions {
  /** host:port (or http(s)://host:port) of each member. */
  endpoints: string[];
  /** Every key lives under it; ends with "/" (`/nvgre/<fabric>/`). */
  prefix: string;
  /** PEM texts: the CA that signed the members' certificates, and a client certificate (mTLS). */
  tls?: { ca: Buffer; cert?: Buffer; key?: Buffer };
  username?: string;
  password?: string;
  /** How long connecting to a member may take (default 3,000 ms). */
  dialTimeoutMs?: number;
  /** How long one request may take before the member counts as unavailable (default 5,000 ms). */
  requestTimeoutMs?: number;
  /** The members' --max-txn-ops (default etcd's, 128): larger changes are split to fit. */
  maxTxnOps?: number;
}

export function defaultEtcdPrefix(fabricName: string): string {
  return `/nvgre/${fabricName}/`;
}

/** Connects and reads the revision once, so an unreachable cluster is reported at open. */
export async function openEtcdStore(options: EtcdStoreOptions): Promise<EtcdKvStore> {
  if (!options.prefix.endsWith("/"))
    throw new TypeError(`etcd prefix ${options.prefix} must end with "/"`);
  if (options.endpoints.length === 0) throw new TypeError("etcd: no endpoints given");
  const store = new EtcdKvStore(options);
  try {
    await store.revision();
    return store;
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** The key after every key that starts with `prefix` (etcd's range_end for a prefix). */
export function prefixRangeEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

export class EtcdKvStore implements KvStore {
  readonly kind = "etcd" as const;
  readonly location: string;
  readonly limits: TxnLimits;
  readonly prefix: string;
  /** The client, shared with the election (controller/cluster/election.ts). */
  readonly client: Etcd3;
  readonly requestTimeoutMs: number;

  /** `options`: kept so another thread can open its own client (cluster/lease-keeper.ts). */
  constructor(readonly options: EtcdStoreOptions) {
    this.prefix = options.prefix;
    this.location = `etcd ${options.endpoints.join(",")} (prefix ${options.prefix})`;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5000;
    this.limits = { ops: options.maxTxnOps ?? ETCD_DEFAULT_TXN_OPS, bytes: MAX_TXN_BYTES };
    const secure = options.tls !== undefined;
    const clientOptions: IOptions = {
      hosts: options.endpoints.map((endpoint) =>
        /^https?:\/\//.test(endpoint) ? endpoint : `${secure ? "https" : "http"}://${endpoint}`,
      ),
      dialTimeout: options.dialTimeoutMs ?? 3000,
      // Every unary call gets a deadline: a member that is stopped or lost quorum must not
      // hang its caller (streams have none: watches and keepalives run for long).
      defaultCallOptions: (context) =>
        context.isStream ? {} : { deadline: Date.now() + this.requestTimeoutMs },
      faultHandling: {
        // A failing member is skipped for 1 s (etcd3's default is 5 s): a cluster that regains
        // quorum is used again quickly.
        host: () =>
          circuitBreaker(handleWhen(isRecoverableError), {
            halfOpenAfter: 1000,
            breaker: new ConsecutiveBreaker(3),
          }),
      },
    };
    if (options.tls) {
      clientOptions.credentials = {
        rootCertificate: options.tls.ca,
        ...(options.tls.key && { privateKey: options.tls.key }),
        ...(options.tls.cert && { certChain: options.tls.cert }),
      };
    }
    if (options.username !== undefined) {
      clientOptions.auth = { username: options.username, password: options.password ?? "" };
    }
    this.client = new Etcd3(clientOptions);
  }

  /** The etcd key of a store key. */
  etcdKey(key: string): Buffer {
    return Buffer.from(this.prefix + key);
  }

  /** The store key of an etcd key under the prefix. */
  storeKey(etcdKey: Buffer): string {
    return etcdKey.toString("utf8").slice(this.prefix.length);
  }

  async revision(): Promise<number> {
    const response = await this.call(() =>
      this.client.kv.range({ key: this.etcdKey(""), limit: 1, keys_only: true }),
    );
    return Number(response.header.revision);
  }

  async get<T>(key: string): Promise<StoredValue<T> | undefined> {
    const response = await this.call(() => this.client.kv.range({ key: this.etcdKey(key) }));
    const kv = response.kvs[0];
    return kv && this.toStored<T>(kv);
  }

  async range<T>(
    prefix: string,
    options: RangeOptions = {},
  ): Promise<{ revision: number; items: StoredValue<T>[] }> {
    const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    const start = this.etcdKey(prefix);
    const rangeEnd = prefixRangeEnd(start);
    let revision = options.atRevision;
    let key = start;
    const items: StoredValue<T>[] = [];
    for (;;) {
      // The first page fixes the revision; the others read at it, so all see one snapshot.
      const at = revision;
      const response = await this.call(() =>
        this.client.kv.range({ key, range_end: rangeEnd, limit: pageSize, revision: at ?? 0 }),
      ).catch((error: unknown) => {
        // Compacted while we paged, or atRevision too old: the caller reads again.
        throw error instanceof StoreCompactedError && at !== undefined
          ? new StoreCompactedError(at, at)
          : error;
      });
      revision ??= Number(response.header.revision);
      for (const kv of response.kvs) items.push(this.toStored<T>(kv));
      const last = response.kvs.at(-1);
      if (!response.more || !last) break;
      key = Buffer.concat([last.key, Buffer.from([0])]);
    }
    return { revision, items };
  }

  async commit(txn: Txn): Promise<number> {
    const { puts, deletes, compares } = encodeTxn(txn, this.limits);
    const response = await this.call(() =>
      this.client.kv.txn({
        compare: compares.map(({ key, modRevision }) => ({
          key: this.etcdKey(key),
          target: "Mod",
          result: "Equal",
          mod_revision: modRevision,
        })),
        success: [
          ...puts.map(({ key, json }) => ({
            request_put: { key: this.etcdKey(key), value: Buffer.from(json) },
          })),
          ...deletes.map((key) => ({ request_delete_range: { key: this.etcdKey(key) } })),
        ],
        // On a conflict, read back each compared key to say which one differed and how.
        failure: compares.map(({ key }) => ({ request_range: { key: this.etcdKey(key) } })),
      }),
    );
    if (response.succeeded) return Number(response.header.revision);
    compares.forEach(({ key, modRevision }, i) => {
      const actual = Number(response.responses[i]?.response_range?.kvs[0]?.mod_revision ?? 0);
      if (actual !== modRevision) throw new StoreConflictError(key, modRevision, actual);
    });
    // The compared keys changed and changed back between our txn and nothing: not possible in
    // one txn, but never report success for a failed txn.
    throw new StoreError(`${this.location}: the transaction's compares failed`);
  }

  async watch(
    prefix: string,
    afterRevision: number,
    onBatch: (batch: WatchBatch) => void,
    onError: (error: Error) => void,
  ): Promise<Watch> {
    // etcd accepts a watch from a compacted revision and cancels it just after: find out first,
    // so the caller gets the error from watch() itself.
    const compacted = await this.compactedSince(afterRevision);
    if (compacted) throw compacted;
    const builder = this.client
      .watch()
      .prefix(this.prefix + prefix)
      .startRevision(String(afterRevision + 1));
    let watcher: Watcher;
    try {
      watcher = await builder.create();
    } catch (error) {
      throw await this.watchError(error, afterRevision);
    }
    let failed = false;
    watcher.on("data", (response: IWatchResponse) => {
      if (failed || response.events.length === 0) return;
      const events: WatchEvent[] = response.events.map((event) => {
        const kv = event.kv as IKeyValue;
        const key = this.storeKey(kv.key);
        const modRevision = Number(kv.mod_revision);
        return event.type === "Delete"
          ? { type: "delete", key, modRevision }
          : { type: "put", key, value: this.parse(key, kv.value), modRevision };
      });
      for (const batch of batchByRevision(events)) onBatch(batch);
    });
    // Lost connections are retried by etcd3 itself, resuming after the last revision seen;
    // an error here (compaction, cancellation) ends the watch.
    watcher.on("error", (error: Error) => {
      if (failed) return;
      failed = true;
      const seen = Number(watcher.request.start_revision ?? afterRevision + 1) - 1;
      void watcher.cancel().catch(() => undefined);
      void this.watchError(error, seen).then(onError);
    });
    return {
      close: async () => {
        failed = true;
        await watcher.cancel();
      },
    };
  }

  /** A watch refused or cancelled by etcd: compaction (found by reading at the revision), or else. */
  private async watchError(error: unknown, afterRevision: number): Promise<Error> {
    try {
      return (await this.compactedSince(afterRevision)) ?? this.mapError(error);
    } catch (probeError) {
      return this.mapError(probeError);
    }
  }

  /** StoreCompactedError if the events after `afterRevision` are no longer kept. */
  private async compactedSince(afterRevision: number): Promise<StoreCompactedError | undefined> {
    const current = await this.revision();
    if (afterRevision + 1 > current || (await this.readable(afterRevision + 1))) return undefined;
    // Find the oldest readable revision: everything before it was compacted away.
    let [gone, readable] = [afterRevision + 1, current];
    while (readable - gone > 1) {
      const middle = Math.floor((gone + readable) / 2);
      if (await this.readable(middle)) readable = middle;
      else gone = middle;
    }
    return new StoreCompactedError(afterRevision, readable - 1);
  }

  private async readable(revision: number): Promise<boolean> {
    try {
      await this.call(() =>
        this.client.kv.range({ key: this.etcdKey(""), limit: 1, revision, count_only: true }),
      );
      return true;
    } catch (error) {
      if (error instanceof StoreCompactedError) return false;
      throw error;
    }
  }

  async close(): Promise<void> {
    this.client.close();
  }

  /** Runs one etcd call, turning etcd3's errors into store errors. */
  async call<R>(request: () => Promise<R>): Promise<R> {
    try {
      return await request();
    } catch (error) {
      throw this.mapError(error);
    }
  }

  mapError(error: unknown): Error {
    if (error instanceof StoreError || !(error instanceof Error)) return error as Error;
    const message = error.message;
    if (/no leader/i.test(message))
      return new StoreUnavailableError(this.location, "no leader (quorum lost)");
    if (error instanceof GRPCDeadlineExceededError || /deadline exceeded/i.test(message)) {
      return new StoreUnavailableError(
        this.location,
        `no answer within ${this.requestTimeoutMs} ms (members down or quorum lost)`,
      );
    }
    if (
      error instanceof GRPCUnavailableError ||
      isRecoverableError(error) ||
      /request timed out|leader changed|unavailable|ECONNREFUSED|circuit/i.test(message)
    ) {
      return new StoreUnavailableError(this.location, message);
    }
    if (isCompaction(error)) return new StoreCompactedError(0, 0);
    if (/too many operations in txn/i.test(message)) {
      return new StoreError(
        `${this.location}: ${message} (start the etcd members with a larger --max-txn-ops)`,
      );
    }
    return new StoreError(`${this.location}: ${message}`);
  }

  private parse(key: string, value: Buffer): unknown {
    try {
      return JSON.parse(value.toString("utf8"));
    } catch (error) {
      throw new StoreCorruptError(
        this.location,
        `${key}: the value is not JSON (${(error as Error).message})`,
      );
    }
  }

  private toStored<T>(kv: IKeyValue): StoredValue<T> {
    const key = this.storeKey(kv.key);
    return {
      key,
      value: this.parse(key, kv.value) as T,
      modRevision: Number(kv.mod_revision),
      createRevision: Number(kv.create_revision),
    };
  }
}

function isCompaction(error: unknown): boolean {
  return error instanceof Error && /compacted/i.test(error.message);
}
