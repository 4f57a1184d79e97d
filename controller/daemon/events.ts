/**
 * What happened in the daemon that an operator may ask about later (`nvgre-ctl events`):
 * learning, mastership changes, punts, reconcile results, intent changes. Kept in a bounded
 * ring (memory stays flat however long the daemon runs) with a sequence number, so a client
 * can ask for what came after the last event it saw and then follow new ones live.
 */

export type EventKind =
  | "connection"
  | "mastership"
  | "pipeline"
  | "reconcile"
  | "intent"
  | "learning"
  | "punt"
  | "cluster"
  | "daemon";

export type EventLevel = "info" | "warn" | "error";

export interface DaemonEvent {
  /** 1, 2, 3 … since the daemon started; never reused. */
  seq: number;
  /** ISO 8601 time the event was recorded. */
  time: string;
  kind: EventKind;
  level: EventLevel;
  /** The switch the event is about, when it is about one. */
  switch?: string;
  message: string;
  /** Structured details for scripts (`events -o json`). */
  data?: Record<string, unknown>;
}

export type NewEvent = Omit<DaemonEvent, "seq" | "time">;

export class EventRing {
  /** Slot (seq − 1) % capacity holds event seq; the oldest are overwritten. */
  private readonly slots: (DaemonEvent | undefined)[];
  private next = 1;
  private readonly listeners = new Set<(event: DaemonEvent) => void>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`event ring capacity must be a positive integer, got ${capacity}`);
    }
    this.slots = new Array(capacity);
  }

  push(event: NewEvent): DaemonEvent {
    const recorded: DaemonEvent = { seq: this.next++, time: new Date().toISOString(), ...event };
    this.slots[(recorded.seq - 1) % this.capacity] = recorded;
    for (const listener of this.listeners) listener(recorded);
    return recorded;
  }

  /** Events with seq > `after`, oldest first, at most `limit` of the newest. */
  since(after = 0, limit = this.capacity): DaemonEvent[] {
    const last = this.next - 1;
    const first = Math.max(after + 1, last - Math.min(limit, this.capacity) + 1, 1);
    const events: DaemonEvent[] = [];
    for (let seq = first; seq <= last; seq++) {
      events.push(this.slots[(seq - 1) % this.capacity] as DaemonEvent);
    }
    return events;
  }

  /** Calls `listener` for every event pushed from now on; returns the unsubscribe function. */
  subscribe(listener: (event: DaemonEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
