/**
 * Grants the election's leases and keeps them alive, in a worker thread with its own etcd
 * client. One keeper lives as long as the election (starting a thread and its gRPC connection
 * takes most of a second, too long to pay for each new lease).
 *
 * Why a thread: compiling, diffing or reading a large fabric can hold the daemon's event loop
 * for seconds. Keepalives sent from that loop would stop, the lease would expire and the leader
 * would lose its leadership in the middle of its work, again and again on a large fabric (a new
 * leader reconciles every switch, which stalls it in turn). Here they go on.
 *
 * A wedged process must not keep the leadership for good, though: the main thread beats a
 * heartbeat into shared memory, and when it has been silent for `maxStallMs` the keeper revokes
 * the lease, so another replica leads at once. A paused process (SIGSTOP) pauses this thread
 * too: its lease expires as before, and switches refuse its late writes (fencing).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { StoreUnavailableError } from "../intent/store/errors.js";
import { EtcdKvStore, type EtcdStoreOptions } from "../intent/store/etcd.js";

/**
 * Microseconds on the system's monotonic clock, which both threads share (each thread's
 * performance.now() has its own origin) and which runs on while the process is paused.
 */
export function monotonicMicros(): bigint {
  return process.hrtime.bigint() / 1000n;
}

/** How often the event loop proves to the keeper that it still runs. */
const HEARTBEAT_MS = 100;

/**
 * A granted lease. `shared[CONFIRMED_AT]`: when the keepalive etcd last answered was sent;
 * `shared[STALLED_MS]`: how long the event loop had been silent when the keeper gave the lease
 * up (0 while it keeps it), so whichever thread notices first tells the same reason.
 */
export interface KeptLease {
  id: string;
  ttlMs: number;
  shared: BigInt64Array;
}
export const CONFIRMED_AT = 0;
const STALLED_MS = 1;

function stallReason(silentMs: number, maxStallMs: number): string {
  return `the event loop was blocked for ${Math.round(silentMs)} ms (limit ${maxStallMs} ms), so the lease was given up for another replica to lead`;
}

/** What the keeper reports about a lease it keeps. */
export type LeaseReport = { lease: string } & (
  | { ended: string }
  | { error: string }
  | { ok: true }
);

type Request = { grant: number; ttlMs: number; shared: SharedArrayBuffer } | { stop: string };
type Answer = { grant: number } & ({ id: string; ttlMs: number } | { failed: string });

interface KeeperData {
  /** Marks this module's workers: another worker that imports the module must not start one. */
  role: "lease-keeper";
  options: EtcdStoreOptions;
  maxStallMs: number;
  heartbeat: SharedArrayBuffer;
}

/** The main thread's side: grants leases through the keeper and hears what happens to them. */
export class LeaseKeeper {
  private worker: Worker | undefined;
  private readonly heartbeat = new BigInt64Array(new SharedArrayBuffer(8));
  private readonly beat: NodeJS.Timeout;
  private readonly pending = new Map<number, (answer: Answer) => void>();
  private nextGrant = 1;

  constructor(
    private readonly options: EtcdStoreOptions,
    readonly maxStallMs: number,
    private readonly onReport: (report: LeaseReport) => void,
  ) {
    Atomics.store(this.heartbeat, 0, monotonicMicros());
    this.beat = setInterval(
      () => Atomics.store(this.heartbeat, 0, monotonicMicros()),
      HEARTBEAT_MS,
    );
    this.beat.unref();
  }

  /** Grants a lease of `ttlMs` (etcd may give more) and keeps it alive until stop(). */
  async grant(ttlMs: number, location: string): Promise<KeptLease> {
    const shared = new BigInt64Array(new SharedArrayBuffer(16));
    const id = this.nextGrant++;
    const answer = await new Promise<Answer>((resolve) => {
      this.pending.set(id, resolve);
      this.thread().postMessage({ grant: id, ttlMs, shared: shared.buffer } as Request);
    });
    if ("failed" in answer) throw new StoreUnavailableError(location, answer.failed);
    return { id: answer.id, ttlMs: answer.ttlMs, shared };
  }

  /** Why the keeper gave `lease` up for a blocked event loop, if it did. */
  stallOf(lease: KeptLease): string | undefined {
    const silentMs = Number(Atomics.load(lease.shared, STALLED_MS));
    return silentMs > 0 ? stallReason(silentMs, this.maxStallMs) : undefined;
  }

  stop(lease: string): void {
    this.worker?.postMessage({ stop: lease } as Request);
  }

  async close(): Promise<void> {
    clearInterval(this.beat);
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  /** The keeper thread, started again if it died (every lease it kept was reported ended). */
  private thread(): Worker {
    if (this.worker) return this.worker;
    const data: KeeperData = {
      role: "lease-keeper",
      options: this.options,
      maxStallMs: this.maxStallMs,
      heartbeat: this.heartbeat.buffer as SharedArrayBuffer,
    };
    const worker = new Worker(new URL(import.meta.url), { workerData: data });
    worker.unref(); // it never keeps the process alive by itself
    worker.on("message", (message: Answer | LeaseReport) => {
      if ("grant" in message) {
        this.pending.get(message.grant)?.(message);
        this.pending.delete(message.grant);
      } else this.onReport(message);
    });
    const died = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      for (const [grant, resolve] of this.pending) resolve({ grant, failed: why });
      this.pending.clear();
      this.onReport({ lease: "*", ended: why });
    };
    worker.on("error", (error) => died(`the lease keeper failed: ${error.message}`));
    worker.on("exit", (code) => died(`the lease keeper stopped (exit code ${code})`));
    this.worker = worker;
    return worker;
  }
}

/** The keeper thread: one etcd client, the lease it currently keeps. */
class KeeperThread {
  private readonly store: EtcdKvStore;
  private readonly heartbeat: BigInt64Array;
  /** The lease being kept; a new grant or a stop ends the loop of the one before. */
  private current: string | undefined;

  constructor(
    private readonly data: KeeperData,
    private readonly tell: (message: Answer | LeaseReport) => void,
  ) {
    const tls = data.options.tls;
    // Buffers arrive as Uint8Arrays from the main thread; grpc-js wants Buffers.
    this.store = new EtcdKvStore({
      ...data.options,
      ...(tls && {
        tls: {
          ca: Buffer.from(tls.ca),
          ...(tls.cert && { cert: Buffer.from(tls.cert) }),
          ...(tls.key && { key: Buffer.from(tls.key) }),
        },
      }),
    });
    this.heartbeat = new BigInt64Array(data.heartbeat);
  }

  handle(request: Request): void {
    if ("stop" in request) {
      if (this.current === request.stop) this.current = undefined;
      return;
    }
    void this.grant(request);
  }

  private async grant(request: Extract<Request, { grant: number }>): Promise<void> {
    const sentAt = monotonicMicros();
    try {
      const response = await this.store.call(() =>
        this.store.client.leaseClient.leaseGrant({ TTL: request.ttlMs / 1000 }),
      );
      if (response.error) throw new Error(`lease grant refused: ${response.error}`);
      const ttlMs = Math.max(request.ttlMs, Number(response.TTL) * 1000);
      const shared = new BigInt64Array(request.shared);
      Atomics.store(shared, CONFIRMED_AT, sentAt);
      this.current = response.ID;
      this.tell({ grant: request.grant, id: response.ID, ttlMs });
      void this.keep(response.ID, ttlMs, shared);
    } catch (error) {
      this.tell({ grant: request.grant, failed: this.store.mapError(error).message });
    }
  }

  private async keep(lease: string, ttlMs: number, shared: BigInt64Array): Promise<void> {
    let failing = false;
    while (this.current === lease) {
      const silentMs = Number(monotonicMicros() - Atomics.load(this.heartbeat, 0)) / 1000;
      if (silentMs > this.data.maxStallMs) {
        this.current = undefined;
        Atomics.store(shared, STALLED_MS, BigInt(Math.round(silentMs)));
        await this.store.client.leaseClient
          .leaseRevoke({ ID: lease }, { deadline: Date.now() + 1000 })
          .catch(() => undefined); // unreachable: it expires after the TTL anyway
        this.tell({ lease, ended: stallReason(silentMs, this.data.maxStallMs) });
        return;
      }
      const sentAt = monotonicMicros();
      try {
        const ttl = await this.keepaliveOnce(lease, Math.min(1000, ttlMs / 3));
        if (this.current !== lease) return;
        if (ttl <= 0) {
          this.tell({ lease, ended: `etcd says the lease expired (${this.store.location})` });
          return;
        }
        Atomics.store(shared, CONFIRMED_AT, sentAt);
        if (failing) this.tell({ lease, ok: true });
        failing = false;
        await sleep(ttlMs / 6); // several tries fit in TTL − margin if etcd stalls
      } catch (error) {
        failing = true;
        this.tell({ lease, error: this.store.mapError(error).message });
        await sleep(50); // try again at once (another member may answer)
      }
    }
  }

  private async keepaliveOnce(lease: string, timeoutMs: number): Promise<number> {
    const stream = await this.store.client.leaseClient.leaseKeepAlive({
      deadline: Date.now() + timeoutMs,
    });
    try {
      return await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new StoreUnavailableError(
                this.store.location,
                `lease keepalive unanswered for ${timeoutMs} ms (no leader or quorum lost?)`,
              ),
            ),
          timeoutMs,
        );
        stream.on("data", (response) => {
          clearTimeout(timer);
          resolve(Number(response.TTL));
        });
        stream.on("error", (error) => {
          clearTimeout(timer);
          reject(error);
        });
        stream.write({ ID: lease });
      });
    } finally {
      stream.end();
    }
  }
}

if (!isMainThread && parentPort && (workerData as KeeperData)?.role === "lease-keeper") {
  const port = parentPort;
  const keeper = new KeeperThread(workerData as KeeperData, (message) => port.postMessage(message));
  port.on("message", (request: Request) => keeper.handle(request));
}
