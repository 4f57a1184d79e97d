/**
 * One etcd lease, for the election (election.ts). A leader must stop BEFORE another can win:
 * etcd expires the lease at the earliest TTL after it received the last keepalive, which is
 * after we sent it; so `lost` resolves at (send time of the last successful keepalive) + TTL −
 * margin — also when the process was paused (SIGSTOP) and resumes late.
 *
 * The keepalives run in a worker thread (lease-keeper.ts), so a busy event loop does not lose
 * the lease; they share the last confirmation and this thread's heartbeat through memory.
 */
import { StoreError } from "../intent/store/errors.js";
import type { EtcdKvStore } from "../intent/store/etcd.js";
import { CONFIRMED_AT, type KeptLease, type LeaseKeeper, monotonicMicros } from "./lease-keeper.js";

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
  private lastError = "";

  private constructor(
    private readonly store: EtcdKvStore,
    private readonly keeper: LeaseKeeper,
    private readonly lease: KeptLease,
    private readonly marginMs: number,
  ) {
    this.lost = new Promise((resolve) => {
      this.resolveLost = resolve;
    });
    this.armDeadline();
  }

  /** A new lease, kept alive by `keeper` until the session ends. */
  static async grant(
    store: EtcdKvStore,
    keeper: LeaseKeeper,
    ttlMs: number,
    marginMs: number,
  ): Promise<LeaseSession> {
    return new LeaseSession(store, keeper, await keeper.grant(ttlMs, store.location), marginMs);
  }

  get id(): string {
    return this.lease.id;
  }

  get ended(): boolean {
    return this.reason !== undefined;
  }

  /** The lease id in hex, for key names. */
  get hex(): string {
    return BigInt(this.id).toString(16);
  }

  /** What the keeper reported about this lease. */
  report(report: { ended: string } | { error: string } | { ok: true }): void {
    if ("ended" in report) this.end(report.ended);
    else this.lastError = "error" in report ? report.error : "";
  }

  end(why: string): void {
    if (this.reason !== undefined) return;
    this.reason = why;
    clearTimeout(this.deadlineTimer);
    this.keeper.stop(this.id);
    this.resolveLost(why);
  }

  /** Ends the session and asks etcd to drop the lease (its keys go with it). */
  async revoke(why: string): Promise<void> {
    this.end(why);
    await this.store.client.leaseClient
      .leaseRevoke({ ID: this.id }, { deadline: Date.now() + 1000 })
      .catch(() => undefined); // an unreachable etcd expires it after the TTL anyway
  }

  /** When the lease may have expired, less the margin, in monotonicMicros(). */
  private deadline(): bigint {
    const confirmedAt = Atomics.load(this.lease.shared, CONFIRMED_AT);
    return confirmedAt + BigInt((this.lease.ttlMs - this.marginMs) * 1000);
  }

  /**
   * Checked by a timer that re-arms itself for the latest deadline the keeper confirmed; it
   * also runs when a paused process resumes, and then finds the deadline passed.
   */
  private armDeadline(): void {
    clearTimeout(this.deadlineTimer);
    const waitMs = Number(this.deadline() - monotonicMicros()) / 1000;
    this.deadlineTimer = setTimeout(() => this.expireIfOverdue(), Math.max(1, waitMs));
  }

  private expireIfOverdue(): void {
    if (this.ended) return;
    if (monotonicMicros() < this.deadline()) {
      this.armDeadline();
      return;
    }
    const ttlMs = this.lease.ttlMs;
    const stalled = this.keeper.stallOf(this.lease);
    if (stalled) {
      this.end(stalled);
      return;
    }
    this.end(
      `the etcd lease could not be kept alive for ${ttlMs - this.marginMs} ms (etcd unreachable or quorum lost), so it may expire (TTL ${ttlMs} ms)${this.lastError ? `: ${this.lastError}` : ""}`,
    );
  }
}
