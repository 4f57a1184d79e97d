/**
 * Leadership among controller replicas: one leader at a time, with a term that grows with every
 * new leader (P4Runtime election ids derive from it: election-id.ts), and the list of live
 * members. election.ts implements it on etcd, local-election.ts for the embedded store (one
 * process, always the leader).
 */
import type { Watch } from "../intent/store/types.js";

export interface MemberInfo {
  id: string;
  /** The member's API address (host:port), for status and for forwarding requests. */
  api?: string;
  host: string;
  pid: number;
  startedAt: string;
}

export interface MemberStatus extends MemberInfo {
  /** The store revision the member last reported it had applied (reportRevision). */
  revision?: number;
  /** The member's small distinct number among live members (its backup election id). */
  ordinal?: number;
}

export interface LeaderInfo {
  memberId: string;
  term: number;
}

export interface Leadership {
  term: number;
  memberId: string;
  /** Resolves, with the reason, once this member must stop acting as leader. */
  lost: Promise<string>;
  /** Steps down: another candidate can lead at once. */
  resign(): Promise<void>;
}

export interface Election {
  readonly ttlSeconds: number;
  /** Registers this member (a key bound to its lease) and claims its ordinal. */
  join(info: MemberInfo): Promise<void>;
  members(): Promise<MemberStatus[]>;
  /** Resolves when this member leads (retrying while the store is unavailable). */
  campaign(): Promise<Leadership>;
  leader(): Promise<LeaderInfo | undefined>;
  /** Calls onChange with the current leader, then on every change (undefined: no leader). */
  observe(onChange: (leader: LeaderInfo | undefined) => void): Promise<Watch>;
  /** This member's applied store revision, written at most once per second (revision lag in status). */
  reportRevision(revision: number): void;
  /** This member's ordinal once joined (undefined before): its backup election id. */
  memberOrdinal(): number | undefined;
  /** Leaves: releases the lease, so another candidate leads at once (< 1 s). */
  close(): Promise<void>;
}
