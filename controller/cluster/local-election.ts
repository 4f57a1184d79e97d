/**
 * The election of a controller on the embedded store: one host, one replica (the store's
 * exclusive lock keeps a second daemon out), which always leads. Its term still counts up at
 * every start, through the store, so a restarted daemon's election id is above its previous
 * incarnation's and a switch never mistakes the old one for the primary.
 */
import type { ClusterView, Lease, MemberInfo } from "../daemon/leadership.js";
import type { KvStore } from "../intent/store/types.js";

const TERM_KEY = "cluster/term";

export class LocalElection implements ClusterView {
  readonly kind = "local";
  readonly ttlSeconds = 0;
  readonly ordinal = 1;
  private member: MemberInfo | undefined;
  private term: number | undefined;
  private revision: number | undefined;
  private resign: (() => void) | undefined;

  constructor(private readonly store: KvStore) {}

  async join(info: MemberInfo): Promise<void> {
    this.member = info;
  }

  async members() {
    return this.member
      ? [{ ...this.member, ...(this.revision ? { revision: this.revision } : {}) }]
      : [];
  }

  async campaign(): Promise<Lease> {
    const current = await this.store.get<number>(TERM_KEY);
    const term = (current?.value ?? 0) + 1;
    await this.store.commit({
      compares: [{ key: TERM_KEY, modRevision: current?.modRevision ?? 0 }],
      puts: [{ key: TERM_KEY, value: term }],
    });
    this.term = term;
    const lost = new Promise<string>((resolve) => {
      this.resign = () => resolve("stopped");
    });
    return {
      term,
      memberId: this.member?.id ?? "local",
      lost,
      resign: async () => {
        this.term = undefined;
        this.resign?.();
      },
    };
  }

  async leader() {
    return this.term === undefined
      ? undefined
      : { memberId: this.member?.id ?? "local", term: this.term };
  }

  reportRevision(revision: number): void {
    this.revision = revision;
  }

  async close(): Promise<void> {
    this.resign?.();
  }
}
