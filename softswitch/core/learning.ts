/**
 * Digests with bmv2's LearnEngine semantics (bm_sim learning.cpp): a sample is the concatenation
 * of the learn list's fields, each byte-padded. A sample already sent and not yet acked (or
 * already buffered) is dropped. A buffer is sent when it holds `maxSamples` samples, or when
 * `timeoutMs` has passed since its first sample (checked by `poll`). Acking a buffer id forgets
 * its samples, so they can be learned again.
 */

export interface DigestMessage {
  listId: number;
  listName: string;
  bufferId: number;
  samples: Uint8Array[];
}

export type DigestListener = (message: DigestMessage) => void;

export interface LearnListConfig {
  maxSamples: number;
  /** 0 disables the timeout. */
  timeoutMs: number;
}

function keyOf(sample: Uint8Array): string {
  return Buffer.from(sample.buffer, sample.byteOffset, sample.byteLength).toString("latin1");
}

export class LearnList {
  private config: LearnListConfig = { maxSamples: 1, timeoutMs: 1000 };
  private buffer: Uint8Array[] = [];
  private bufferStarted = 0;
  private bufferId = 0;
  private readonly filter = new Set<string>();
  private readonly unacked = new Map<number, string[]>();

  constructor(
    readonly id: number,
    readonly name: string,
    private readonly emit: (message: DigestMessage) => void,
    private readonly nowMs: () => number,
  ) {}

  configure(config: LearnListConfig): void {
    this.config = { ...config };
    if (this.buffer.length > 0 && this.buffer.length >= this.config.maxSamples) this.send();
  }

  add(sample: Uint8Array): void {
    const key = keyOf(sample);
    if (this.filter.has(key)) return;
    this.filter.add(key);
    let keys = this.unacked.get(this.bufferId);
    if (!keys) {
      keys = [];
      this.unacked.set(this.bufferId, keys);
    }
    keys.push(key);
    this.buffer.push(sample);
    if (this.buffer.length === 1) this.bufferStarted = this.nowMs();
    if (this.buffer.length >= this.config.maxSamples) this.send();
  }

  /** Sends the pending buffer if its timeout has expired. */
  poll(): void {
    if (this.buffer.length === 0 || this.config.timeoutMs <= 0) return;
    if (this.nowMs() >= this.bufferStarted + this.config.timeoutMs) this.send();
  }

  ack(bufferId: number): void {
    for (const key of this.unacked.get(bufferId) ?? []) this.filter.delete(key);
    this.unacked.delete(bufferId);
  }

  reset(): void {
    this.buffer = [];
    this.bufferId = 0;
    this.filter.clear();
    this.unacked.clear();
  }

  private send(): void {
    const samples = this.buffer;
    this.buffer = [];
    const bufferId = this.bufferId++;
    this.emit({ listId: this.id, listName: this.name, bufferId, samples });
  }
}
