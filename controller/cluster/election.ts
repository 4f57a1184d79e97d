/**
 * Leader election and membership on etcd, after etcd's own concurrency election: each candidate
 * puts a campaign key bound to its lease; the candidate whose key is the oldest live one (lowest
 * create revision) leads, the others wait for the key just older than theirs to go.
 *
 * TERM: `election/term` is a counter the new leader increments in the same transaction that
 * confirms its campaign key is still the oldest live one (a compare over the whole campaign
 * range) and that nobody incremented the term meanwhile (a compare of its mod revision). So
 * every new leader's term is strictly greater than every earlier leader's, derived neither
 * from a wall clock nor from the member's own key revision.
 *
 * LOSS: `lost` resolves before the lease could expire (lease.ts), when the campaign key or the
 * leader key goes, or on resign()/close().
 *
 * Keys, under the store's prefix:
 *   election/campaign/<lease>   the member id, bound to its lease
 *   election/term               the last leader's term (no lease: it must outlive everyone)
 *   election/leader             {memberId, term} of the leader, bound to its lease
 *   members/<id>                MemberStatus, bound to the member's lease
 *   ordinals/<n>                the member id holding ordinal n, bound to its lease
 */
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { IKeyValue } from "etcd3";
import { StoreError, StoreUnavailableError } from "../intent/store/errors.js";
import type { EtcdKvStore } from "../intent/store/etcd.js";
import { prefixRangeEnd } from "../intent/store/etcd.js";
import type { Watch } from "../intent/store/types.js";
import { LeaseLostError, LeaseSession } from "./lease.js";
import { LeaseKeeper } from "./lease-keeper.js";
import type { Election, LeaderInfo, Leadership, MemberInfo, MemberStatus } from "./types.js";

export type { Election, LeaderInfo, Leadership, MemberInfo, MemberStatus } from "./types.js";

export interface EtcdElectionOptions {
  /** The lease TTL (default 2 s): how long a dead leader blocks a new one. */
  ttlSeconds?: number;
  /** Stop leading this long before the lease could expire (default a quarter of the TTL, ≥ 250 ms). */
  safetyMarginMs?: number;
  /**
   * Give the lease up when this process's event loop has been blocked this long (default 15 s):
   * shorter stalls (a large compile) keep the leadership, a wedged leader does not.
   */
  maxStallSeconds?: number;
}

const CAMPAIGN = "election/campaign/";
const TERM = "election/term";
const LEADER = "election/leader";
const MEMBERS = "members/";
const ORDINALS = "ordinals/";

export function createEtcdElection(
  store: EtcdKvStore,
  options: EtcdElectionOptions = {},
): EtcdElection {
  return new EtcdElection(store, options);
}

export class EtcdElection implements Election {
  readonly ttlSeconds: number;
  private readonly marginMs: number;
  /** Grants and keeps this member's leases off the event loop; started by the first grant. */
  private keeper: LeaseKeeper | undefined;
  private readonly maxStallMs: number;
  private session: LeaseSession | undefined;
  private registeredIn: LeaseSession | undefined;
  private info: MemberInfo | undefined;
  private ordinal: number | undefined;
  private appliedRevision: number | undefined;
  private reportTimer: NodeJS.Timeout | undefined;
  private lastReportAt = 0;
  private leadership: { session: LeaseSession; end(why: string): void } | undefined;
  private closed = false;

  constructor(
    private readonly store: EtcdKvStore,
    options: EtcdElectionOptions,
  ) {
    this.ttlSeconds = options.ttlSeconds ?? 2;
    this.marginMs = options.safetyMarginMs ?? Math.max(250, (this.ttlSeconds * 1000) / 4);
    this.maxStallMs = (options.maxStallSeconds ?? 15) * 1000;
  }

  async join(info: MemberInfo): Promise<void> {
    this.info = info;
    await this.currentSession();
  }

  memberOrdinal(): number | undefined {
    return this.ordinal;
  }

  async members(): Promise<MemberStatus[]> {
    const { items } = await this.store.range<MemberStatus>(MEMBERS);
    return items.map((item) => item.value);
  }

  async leader(): Promise<LeaderInfo | undefined> {
    return toLeader((await this.store.get<LeaderInfo>(LEADER))?.value);
  }

  async observe(onChange: (leader: LeaderInfo | undefined) => void): Promise<Watch> {
    let closed = false;
    let current: Watch | undefined;
    // A watch that ends (history compacted, etcd unreachable for good) is started again from a
    // fresh read, so observers keep getting the leader; meanwhile they hear "no leader known".
    const start = async (): Promise<void> => {
      const { revision, items } = await this.store.range<LeaderInfo>(LEADER);
      onChange(toLeader(items.find((item) => item.key === LEADER)?.value));
      current = await this.store.watch(
        LEADER,
        revision,
        (batch) => {
          const event = batch.events.filter((e) => e.key === LEADER).at(-1);
          if (event)
            onChange(event.type === "put" ? toLeader(event.value as LeaderInfo) : undefined);
        },
        () => {
          onChange(undefined);
          void restart();
        },
      );
      if (closed) await current.close();
    };
    const restart = async (): Promise<void> => {
      while (!closed) {
        await sleep(250);
        try {
          if (!closed) await start();
          return;
        } catch {
          // still unavailable: try again
        }
      }
    };
    await start();
    return {
      close: async () => {
        closed = true;
        await current?.close();
      },
    };
  }

  reportRevision(revision: number): void {
    this.appliedRevision = revision;
    if (this.reportTimer || !this.info || this.closed) return;
    const wait = Math.max(0, this.lastReportAt + 1000 - performance.now());
    this.reportTimer = setTimeout(() => {
      this.reportTimer = undefined;
      this.lastReportAt = performance.now();
      const session = this.session;
      if (session && !session.ended) void this.putMember(session).catch(() => undefined); // the next report retries
    }, wait);
  }

  async campaign(): Promise<Leadership> {
    for (;;) {
      if (this.closed) throw new StoreError("the election was closed");
      try {
        return await this.campaignOnce();
      } catch (error) {
        if (!(error instanceof StoreUnavailableError || error instanceof LeaseLostError))
          throw error;
        await sleep(250); // etcd unreachable or our lease gone: try again with a new lease
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.reportTimer);
    this.leadership?.end("this member closed its election");
    await this.session?.revoke("the election was closed");
    await this.keeper?.close();
  }

  private leaseKeeper(): LeaseKeeper {
    this.keeper ??= new LeaseKeeper(this.store.options, this.maxStallMs, (report) => {
      // Reports name the lease; "*" (the keeper thread died) concerns the current one.
      const session = this.session;
      if (session && (report.lease === session.id || report.lease === "*")) session.report(report);
    });
    return this.keeper;
  }

  /** The live session, granting a new lease (and registering again) when the last was lost. */
  private async currentSession(): Promise<LeaseSession> {
    if (this.closed) throw new StoreError("the election was closed");
    if (!this.session || this.session.ended) {
      const old = this.session;
      this.session = await LeaseSession.grant(
        this.store,
        this.leaseKeeper(),
        this.ttlSeconds * 1000,
        this.marginMs,
      );
      if (old) void old.revoke("replaced"); // in case etcd still holds it: its keys must go
    }
    const session = this.session;
    if (this.info && this.registeredIn !== session) {
      this.ordinal = await this.claimOrdinal(session);
      await this.putMember(session);
      this.registeredIn = session;
    }
    return session;
  }

  private async putMember(session: LeaseSession): Promise<void> {
    const info = this.info as MemberInfo;
    const status: MemberStatus = { ...info, ordinal: this.ordinal, revision: this.appliedRevision };
    await this.store.call(() =>
      this.store.client.kv.put({
        key: this.store.etcdKey(MEMBERS + info.id),
        value: Buffer.from(JSON.stringify(status)),
        lease: session.id,
      }),
    );
  }

  /** The lowest free ordinal, claimed with compare-absent and bound to the lease. */
  private async claimOrdinal(session: LeaseSession): Promise<number> {
    const memberId = (this.info as MemberInfo).id;
    const { items } = await this.store.range<string>(ORDINALS);
    const taken = new Set(items.map((item) => Number(item.key.slice(ORDINALS.length))));
    for (let n = 1; ; n++) {
      if (taken.has(n)) continue;
      const key = this.store.etcdKey(`${ORDINALS}${n}`);
      const response = await this.store.call(() =>
        this.store.client.kv.txn({
          compare: [{ key, target: "Create", result: "Equal", create_revision: 0 }],
          success: [
            {
              request_put: { key, value: Buffer.from(JSON.stringify(memberId)), lease: session.id },
            },
          ],
        }),
      );
      if (response.succeeded) return n;
    }
  }

  private async campaignOnce(): Promise<Leadership> {
    const session = await this.currentSession();
    const memberId = this.info?.id ?? `lease-${session.hex}`;
    const myKey = this.store.etcdKey(CAMPAIGN + session.hex);
    const created = await this.store.call(() =>
      this.store.client.kv.txn({
        compare: [{ key: myKey, target: "Create", result: "Equal", create_revision: 0 }],
        success: [
          {
            request_put: {
              key: myKey,
              value: Buffer.from(JSON.stringify(memberId)),
              lease: session.id,
            },
          },
        ],
        failure: [{ request_range: { key: myKey } }],
      }),
    );
    const myCreate = created.succeeded
      ? Number(created.header.revision)
      : Number(created.responses[0]?.response_range?.kvs[0]?.create_revision);
    const campaignStart = this.store.etcdKey(CAMPAIGN);
    const campaignEnd = prefixRangeEnd(campaignStart);
    for (;;) {
      if (session.ended)
        throw new LeaseLostError(`lease lost while campaigning: ${await session.lost}`);
      const range = await this.store.call(() =>
        this.store.client.kv.range({ key: campaignStart, range_end: campaignEnd }),
      );
      const older = range.kvs
        .filter((kv) => Number(kv.create_revision) < myCreate)
        .sort((a, b) => Number(b.create_revision) - Number(a.create_revision))[0];
      if (older) {
        await this.waitForDeletion(session, older, Number(range.header.revision));
        continue;
      }
      const term = await this.store.get<number>(TERM);
      const nextTerm = (term?.value ?? 0) + 1;
      const leaderValue: LeaderInfo = { memberId, term: nextTerm };
      const confirmed = await this.store.call(() =>
        this.store.client.kv.txn({
          compare: [
            // Our campaign key is still there, and no live key is older than it…
            { key: myKey, target: "Create", result: "Equal", create_revision: myCreate },
            {
              key: campaignStart,
              range_end: campaignEnd,
              target: "Create",
              result: "Greater",
              create_revision: myCreate - 1,
            },
            // …and nobody became leader since we read the term.
            {
              key: this.store.etcdKey(TERM),
              target: "Mod",
              result: "Equal",
              mod_revision: term?.modRevision ?? 0,
            },
          ],
          success: [
            {
              request_put: {
                key: this.store.etcdKey(TERM),
                value: Buffer.from(JSON.stringify(nextTerm)),
              },
            },
            {
              request_put: {
                key: this.store.etcdKey(LEADER),
                value: Buffer.from(JSON.stringify(leaderValue)),
                lease: session.id,
              },
            },
          ],
        }),
      );
      if (confirmed.succeeded) {
        return this.lead(
          session,
          memberId,
          nextTerm,
          CAMPAIGN + session.hex,
          Number(confirmed.header.revision),
        );
      }
    }
  }

  /** Waits until `older` is deleted (or our lease is lost). */
  private async waitForDeletion(
    session: LeaseSession,
    older: IKeyValue,
    revision: number,
  ): Promise<void> {
    const key = this.store.storeKey(older.key);
    let watch: Watch | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        void session.lost.then((why) =>
          reject(new LeaseLostError(`lease lost while campaigning: ${why}`)),
        );
        this.store
          .watch(
            key,
            revision,
            (batch) => {
              if (batch.events.some((e) => e.key === key && e.type === "delete")) resolve();
            },
            reject,
          )
          .then((w) => {
            watch = w;
          }, reject);
      });
    } finally {
      await watch?.close().catch(() => undefined);
    }
  }

  private async lead(
    session: LeaseSession,
    memberId: string,
    term: number,
    campaignKey: string,
    revision: number,
  ): Promise<Leadership> {
    let resolveLost!: (why: string) => void;
    const lost = new Promise<string>((resolve) => {
      resolveLost = resolve;
    });
    let watch: Watch | undefined;
    let ended = false;
    const end = (why: string) => {
      if (ended) return;
      ended = true;
      if (this.leadership?.session === session) this.leadership = undefined;
      void watch?.close().catch(() => undefined);
      resolveLost(why);
    };
    this.leadership = { session, end };
    void session.lost.then(end);
    // The campaign key or the leader key gone (or someone else's leader key) means deposed.
    watch = await this.store.watch(
      "election/",
      revision,
      (batch) => {
        for (const event of batch.events) {
          if (event.key === campaignKey && event.type === "delete")
            end(`this member's campaign key ${campaignKey} was deleted`);
          if (
            event.key === LEADER &&
            (event.type === "delete" || (event.value as LeaderInfo).term !== term)
          ) {
            end(`the leader key changed (term ${term} is over)`);
          }
        }
      },
      (error) => end(`lost the watch on the election keys: ${error.message}`),
    );
    if (ended) void watch.close();
    return {
      term,
      memberId,
      lost,
      resign: async () => {
        if (ended) return;
        end("resigned");
        await this.store.call(() =>
          this.store.client.kv.txn({
            compare: [
              {
                key: this.store.etcdKey(LEADER),
                target: "Lease",
                result: "Equal",
                lease: session.id,
              },
            ],
            success: [
              { request_delete_range: { key: this.store.etcdKey(LEADER) } },
              { request_delete_range: { key: this.store.etcdKey(campaignKey) } },
            ],
            failure: [{ request_delete_range: { key: this.store.etcdKey(campaignKey) } }],
          }),
        );
      },
    };
  }
}

function toLeader(value: LeaderInfo | undefined): LeaderInfo | undefined {
  return value && { memberId: value.memberId, term: value.term };
}
