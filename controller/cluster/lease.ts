/**
 * One etcd lease and its keepalives, for the election (election.ts). A leader must stop BEFORE
 * another can win: etcd expires the lease at the earliest TTL after it received the last
 * keepalive, which is after we sent it; so `lost` resolves at (send time of the last successful
 * keepalive) + TTL − margin, on this process's monotonic clock — also when the process was
 * paused (SIGSTOP) and resumes late.
 */
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { StoreError, StoreUnavailableError } from "../intent/store/errors.js";
import type { EtcdKvStore } from "../intent/store/etcd.js";

/** The session's lease is gone: whatever depended on it must start over. */
export class LeaseLostError extends StoreError {
  override name = "LeaseLostError";
}

/** One lease and its keepalives; `lost` resolves once it can no longer be trusted. */
export class LeaseSession {
  readonly lost: Promise<string>;
  private resolveLost!: (why: string) => void;
  private reason: string | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  /** performance.now() after which the lease may have expired (less the safety margin). */
  private deadline = 0;
  private lastError = "";

  private constructor(
    private readonly store: EtcdKvStore,
    readonly id: string,
    private readonly ttlMs: number,
    private readonly marginMs: number,
    confirmedAt: number,
  ) {
    this.lost = new Promise((resolve) => {
      this.resolveLost = resolve;
    });
    this.confirmed(confirmedAt);
    void this.keepaliveLoop();
  }

  static async grant(store: EtcdKvStore, ttlMs: number, marginMs: number): Promise<LeaseSession> {
    const sentAt = performance.now();
    const response = await store.call(() =>
      store.client.leaseClient.leaseGrant({ TTL: ttlMs / 1000 }),
    );
    if (response.error)
      throw new StoreError(`${store.location}: lease grant refused: ${response.error}`);
    const grantedMs = Number(response.TTL) * 1000;
    return new LeaseSession(store, response.ID, Math.max(ttlMs, grantedMs), marginMs, sentAt);
  }

  get ended(): boolean {
    return this.reason !== undefined;
  }

  /** The lease id in hex, for key names. */
  get hex(): string {
    return BigInt(this.id).toString(16);
  }

  end(why: string): void {
    if (this.reason !== undefined) return;
    this.reason = why;
    clearTimeout(this.deadlineTimer);
    this.resolveLost(why);
  }

  /** Ends the session and asks etcd to drop the lease (its keys go with it). */
  async revoke(why: string): Promise<void> {
    this.end(why);
    await this.store.client.leaseClient
      .leaseRevoke({ ID: this.id }, { deadline: Date.now() + 1000 })
      .catch(() => undefined); // an unreachable etcd expires it after the TTL anyway
  }

  private confirmed(sentAt: number): void {
    this.deadline = sentAt + this.ttlMs - this.marginMs;
    this.armDeadline();
  }

  /**
   * Node's timers can fire a little early by performance.now() (the event loop's clock is read
   * once per turn), so an early wake-up re-arms for the rest instead of giving up.
   */
  private armDeadline(): void {
    clearTimeout(this.deadlineTimer);
    this.deadlineTimer = setTimeout(
      () => this.expireIfOverdue(),
      Math.max(1, this.deadline - performance.now()),
    );
  }

  private expireIfOverdue(): void {
    if (this.ended) return;
    if (performance.now() < this.deadline) {
      this.armDeadline();
      return;
    }
    this.end(
      `the etcd lease could not be kept alive for ${this.ttlMs - this.marginMs} ms (etcd unreachable or quorum lost), so it may expire (TTL ${this.ttlMs} ms)${this.lastError ? `: ${this.lastError}` : ""}`,
    );
  }

  private async keepaliveLoop(): Promise<void> {
    while (!this.ended) {
      const sentAt = performance.now();
      try {
        const ttl = await this.keepaliveOnce(Math.min(1000, this.ttlMs / 3));
        if (this.ended) return;
        if (ttl <= 0) {
          this.end(`etcd says the lease expired (${this.store.location})`);
          return;
        }
        this.lastError = "";
        this.confirmed(sentAt);
        await sleep(this.ttlMs / 6); // several tries fit in TTL − margin if etcd stalls
      } catch (error) {
        this.lastError = this.store.mapError(error).message;
        this.expireIfOverdue();
        await sleep(50); // try again at once (another member may answer)
      }
    }
  }

  private async keepaliveOnce(timeoutMs: number): Promise<number> {
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
        stream.write({ ID: this.id });
      });
    } finally {
      stream.end();
    }
  }
}
