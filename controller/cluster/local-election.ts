/**
 * The election on the embedded store: one daemon owns the store (its exclusive lock), so it is
 * always the leader. Its term is a counter in the store, incremented at each campaign (each
 * start of the daemon), so a restarted daemon still outranks its predecessor on the switches.
 */
import { StoreConflictError } from "../intent/store/errors.js";
import type { KvStore, Watch } from "../intent/store/types.js";
import type { Election, LeaderInfo, Leadership, MemberInfo, MemberStatus } from "./types.js";

const TERM = "election/term";

export class LocalElection implements Election {
  /** No lease: nothing can take over from a live local leader. */
  readonly ttlSeconds = 0;
  private info: MemberInfo | undefined;
  private appliedRevision: number | undefined;
  private current: LeaderInfo | undefined;
  private readonly observers = new Set<(leader: LeaderInfo | undefined) => void>();
  private endLeadership: ((why: string) => void) | undefined;

  constructor(private readonly store: KvStore) {}

  async join(info: MemberInfo): Promise<void> {
    this.info = info;
  }

  memberOrdinal(): number | undefined {
    return this.info && 1;
  }

  async members(): Promise<MemberStatus[]> {
    return this.info ? [{ ...this.info, ordinal: 1, revision: this.appliedRevision }] : [];
  }

  async leader(): Promise<LeaderInfo | undefined> {
    return this.current;
  }

  async observe(onChange: (leader: LeaderInfo | undefined) => void): Promise<Watch> {
    this.observers.add(onChange);
    onChange(this.current);
    return {
      close: async () => {
        this.observers.delete(onChange);
      },
    };
  }

  reportRevision(revision: number): void {
    this.appliedRevision = revision;
  }

  async campaign(): Promise<Leadership> {
    const memberId = this.info?.id ?? `pid-${process.pid}`;
    for (;;) {
      const term = await this.store.get<number>(TERM);
      const next = (term?.value ?? 0) + 1;
      try {
        await this.store.commit({
          compares: [{ key: TERM, modRevision: term?.modRevision ?? 0 }],
          puts: [{ key: TERM, value: next }],
        });
      } catch (error) {
        if (error instanceof StoreConflictError) continue; // an offline tool wrote meanwhile
        throw error;
      }
      const lost = new Promise<string>((resolve) => {
        this.endLeadership = resolve;
      });
      this.announce({ memberId, term: next });
      return {
        term: next,
        memberId,
        lost,
        resign: async () => this.stepDown("resigned"),
      };
    }
  }

  async close(): Promise<void> {
    this.stepDown("this member closed its election");
  }

  private stepDown(why: string): void {
    this.endLeadership?.(why);
    this.endLeadership = undefined;
    this.announce(undefined);
  }

  private announce(leader: LeaderInfo | undefined): void {
    this.current = leader;
    for (const observer of this.observers) observer(leader);
  }
}
