/**
 * This replica's part in the controller cluster: it joins as a member, campaigns for the
 * leadership again and again, and tells the daemon when it leads (with the term) and when it
 * stops leading. The P4Runtime election id follows from that alone: the term's id while
 * leading — above every earlier leader's, so the switches themselves refuse a deposed, paused
 * or partitioned leader — and this member's backup id otherwise (cluster/election-id.ts).
 *
 * The cluster is an etcd election (cluster/election.ts) or, with the embedded store, a local
 * one in which the only replica always leads with a term counted up at every start.
 */
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { backupElectionId, leaderElectionId } from "../cluster/election-id.js";
import type { Election, Leadership as Lease, MemberInfo } from "../cluster/types.js";
import type { ClusterStatus } from "./protocol.js";

export interface LeadershipHooks {
  record(level: "info" | "warn" | "error", message: string, data?: Record<string, unknown>): void;
  /** Leading from now on, in `term`. */
  lead(term: number): Promise<void>;
  /** No longer leading: write nothing more. */
  follow(): void;
}

const retry = { initialMs: 200, maxMs: 5_000 };

/** Before it has an ordinal (its store unreachable at start), a replica is a backup of ordinal 0. */
const NO_ORDINAL = 0;

export class Leadership {
  /** The term while this replica leads; undefined while it does not. */
  term: number | undefined;
  readonly member: MemberInfo;
  private lease: Lease | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly cluster: Election,
    /** "etcd": replicas on etcd; "local": the embedded store's single replica. */
    readonly kind: "etcd" | "local",
    private readonly hooks: LeadershipHooks,
    memberId = `${hostname()}-${process.pid}`,
  ) {
    this.member = {
      id: memberId,
      host: hostname(),
      pid: process.pid,
      startedAt: new Date().toISOString(),
    };
  }

  /** The P4Runtime election id for every session now. */
  get electionId(): bigint {
    if (this.term !== undefined) return leaderElectionId(this.term);
    const ordinal = this.cluster.memberOrdinal();
    return ordinal === undefined ? BigInt(NO_ORDINAL) : backupElectionId(ordinal);
  }

  /** The leading member's id, or null while none leads. */
  async leaderId(): Promise<string | null> {
    return (await this.cluster.leader())?.memberId ?? null;
  }

  /** True when `memberId` is no longer among the cluster's live members. */
  async isGone(memberId: string): Promise<boolean> {
    return !(await this.cluster.members()).some((member) => member.id === memberId);
  }

  async join(): Promise<void> {
    await this.cluster.join(this.member);
  }

  /** Campaigns in the background until stopped. */
  start(): void {
    this.loop = this.campaignLoop();
  }

  reportRevision(revision: number): void {
    this.cluster.reportRevision(revision);
  }

  private async campaignLoop(): Promise<void> {
    let delay = retry.initialMs;
    while (!this.stopped) {
      let lease: Lease;
      try {
        lease = await this.cluster.campaign();
      } catch (error) {
        if (this.stopped) return;
        this.hooks.record("warn", `cannot campaign: ${(error as Error).message}; retrying`);
        await sleep(delay);
        delay = Math.min(delay * 2, retry.maxMs);
        continue;
      }
      delay = retry.initialMs;
      if (this.stopped) {
        await lease.resign().catch(() => {});
        return;
      }
      this.lease = lease;
      this.term = lease.term;
      try {
        await this.hooks.lead(lease.term);
      } catch (error) {
        this.hooks.record("error", `taking the lead failed: ${(error as Error).message}`);
      }
      const why = await lease.lost;
      if (this.lease !== lease) return;
      this.lease = undefined;
      this.term = undefined;
      this.hooks.follow();
      if (!this.stopped) {
        this.hooks.record("warn", `no longer leading (term ${lease.term}): ${why}`, {
          term: lease.term,
        });
      }
    }
  }

  /** Leaves the cluster: a leader resigns at once, so another need not wait for its lease. */
  async stop(): Promise<void> {
    this.stopped = true;
    const lease = this.lease;
    this.lease = undefined;
    this.term = undefined;
    this.hooks.follow();
    await lease?.resign().catch(() => {});
    await this.cluster.close().catch(() => {});
    await this.loop?.catch(() => {});
  }

  /** The cluster as `status` shows it: members, leader, term and each member's revision lag. */
  async view(revision: number): Promise<ClusterStatus> {
    try {
      const [members, leader] = await Promise.all([this.cluster.members(), this.cluster.leader()]);
      return {
        kind: this.kind,
        self: this.member.id,
        role: this.term !== undefined ? "leader" : "follower",
        ...(leader ? { leader: leader.memberId, term: leader.term } : {}),
        revision,
        members: members.map((m) => ({
          id: m.id,
          host: m.host,
          pid: m.pid,
          ...(m.revision === undefined ? {} : { revision: m.revision, lag: revision - m.revision }),
        })),
      };
    } catch (error) {
      return {
        kind: this.kind,
        self: this.member.id,
        role: this.term !== undefined ? "leader" : "follower",
        revision,
        members: [],
        error: (error as Error).message,
      };
    }
  }
}
