/**
 * Digests, as PI's DigestMgr (digest_mgr.cpp) delivers bmv2's learn-engine output. The target
 * buffers samples (max_list_size of them, 1024 when 0, or for max_timeout_ns) and PI acks each
 * buffer at once; PI then builds DigestLists for the primary client: a list goes out when it has
 * max_list_size samples (counting only samples kept for acks), or at once when max_timeout_ns is
 * 0, else by a sweep that sends a list once it has waited between one and two max_timeout_ns
 * periods (at least 100 ms). With ack_timeout_ns > 0 a sample is sent once and suppressed until
 * its list is acked or a sweep of the same shape expires it; with 0 nothing is suppressed.
 * Nothing is sent for a digest until a DigestEntry configures it.
 */
import type { DigestEntry, DigestEntry__Output } from "../../proto/gen/p4/v1/DigestEntry.js";
import type { DigestListAck__Output } from "../../proto/gen/p4/v1/DigestListAck.js";
import type { P4Data } from "../../proto/gen/p4/v1/P4Data.js";
import type { DigestMessage } from "../core/learning.js";
import type { UpdateType } from "./counters.js";
import { Code, invalidArgument, P4RuntimeError } from "./errors.js";
import type { DigestModel, PipelineModel } from "./pipeline-model.js";
import type { StreamSink } from "./target.js";

/** PI's floor on both sweep periods. */
const MIN_SWEEP_NS = 100_000_000n;
/** How often the target's learn buffers are checked for their timeout. */
const TARGET_POLL_MS = 10;

interface ListData {
  cacheKeys: string[];
  timeoutBit: boolean;
}

function keyOf(sample: Uint8Array): string {
  return Buffer.from(sample).toString("latin1");
}

/** A sample's bytes as P4Data, each member byte-padded in the sample and canonical in P4Data. */
function p4Data(model: DigestModel, sample: Uint8Array): P4Data {
  let offset = 0;
  const members = model.bitwidths.map((w) => {
    const n = (w + 7) >> 3;
    const bytes = sample.subarray(offset, offset + n);
    offset += n;
    let first = 0;
    while (first < bytes.length - 1 && bytes[first] === 0) first++;
    return { bitstring: Buffer.from(bytes.subarray(first)) };
  });
  if (model.shape === "struct") return { struct: { members } };
  if (model.shape === "tuple") return { tuple: { members } };
  return members[0] ?? {};
}

interface DigestConfig {
  maxTimeoutNs: bigint;
  maxListSize: number;
  ackTimeoutNs: bigint;
}

class DigestState {
  /** Set by a DigestEntry INSERT; nothing is sent before. */
  config: DigestConfig | undefined;
  private readonly cache = new Set<string>();
  private readonly lists = new Map<number, ListData>();
  private data: P4Data[] = [];
  private current: ListData = { cacheKeys: [], timeoutBit: false };
  private listId = 1;
  private timeoutBit = false;
  private maxTimeoutTimer: NodeJS.Timeout | undefined;
  private ackTimeoutTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly model: DigestModel,
    private readonly emit: StreamSink,
  ) {}

  private get maxTimeoutNs() {
    return this.config?.maxTimeoutNs ?? 0n;
  }
  private get maxListSize() {
    return this.config?.maxListSize ?? 0;
  }
  private get ackTimeoutNs() {
    return this.config?.ackTimeoutNs ?? 0n;
  }

  write(type: UpdateType, entry: DigestEntry__Output): void {
    const id = this.model.id;
    if (type === "INSERT" && this.config) {
      throw new P4RuntimeError(Code.ALREADY_EXISTS, `Digest ${id} already configured`);
    }
    if ((type === "MODIFY" || type === "DELETE") && !this.config) {
      throw new P4RuntimeError(Code.NOT_FOUND, `Digest ${id} not configured`);
    }
    if (type === "DELETE") {
      this.reset();
      return;
    }
    if (type !== "INSERT" && type !== "MODIFY") {
      throw invalidArgument("Invalid update type for DigestEntry");
    }
    const config = entry.config;
    const maxTimeoutNs = BigInt(config?.max_timeout_ns ?? 0);
    const ackTimeoutNs = BigInt(config?.ack_timeout_ns ?? 0);
    if (maxTimeoutNs < 0n || ackTimeoutNs < 0n || (config?.max_list_size ?? 0) < 0) {
      throw invalidArgument("DigestEntry config values must not be negative");
    }
    this.config = { maxTimeoutNs, maxListSize: config?.max_list_size ?? 0, ackTimeoutNs };
    this.schedule();
    // What PI asks of bmv2's learn engine (bmv2 PI _pi_learn_config_set).
    const timeoutMs = Number(maxTimeoutNs / 1_000_000n);
    this.model.learnList.configure({
      maxSamples: this.maxListSize === 0 ? 1024 : this.maxListSize,
      timeoutMs,
    });
    clearInterval(this.pollTimer);
    if (timeoutMs > 0) {
      this.pollTimer = setInterval(() => this.model.learnList.poll(), TARGET_POLL_MS).unref();
    }
  }

  read(): DigestEntry {
    if (!this.config) {
      throw new P4RuntimeError(Code.NOT_FOUND, `Digest ${this.model.id} not configured`);
    }
    return this.entry() as DigestEntry;
  }

  /** The DigestEntry that configured this digest, if any. */
  entry(): DigestEntry | undefined {
    const c = this.config;
    if (!c) return undefined;
    return {
      digest_id: this.model.id,
      config: {
        max_timeout_ns: c.maxTimeoutNs.toString(),
        max_list_size: c.maxListSize,
        ack_timeout_ns: c.ackTimeoutNs.toString(),
      },
    };
  }

  /** A buffer of samples from the target (already acked to it, as PI does at once). */
  learn(message: DigestMessage): void {
    if (!this.config) return;
    let added = false;
    for (const sample of message.samples) {
      if (this.ackTimeoutNs > 0n) {
        const key = keyOf(sample);
        if (this.cache.has(key)) continue;
        this.cache.add(key);
        this.current.cacheKeys.push(key);
      }
      this.data.push(p4Data(this.model, sample));
      added = true;
    }
    if (!added) return;
    const size = this.maxListSize;
    if ((size !== 0 && this.current.cacheKeys.length >= size) || this.maxTimeoutNs === 0n) {
      this.send();
    }
  }

  ack(listId: number): void {
    const list = this.lists.get(listId);
    if (!list) return;
    for (const key of list.cacheKeys) this.cache.delete(key);
    this.lists.delete(listId);
  }

  close(): void {
    clearInterval(this.maxTimeoutTimer);
    clearInterval(this.ackTimeoutTimer);
    clearInterval(this.pollTimer);
  }

  private send(): void {
    this.emit({
      digest: {
        digest_id: this.model.id,
        list_id: String(this.listId),
        data: this.data,
        timestamp: (BigInt(Date.now()) * 1_000_000n).toString(),
      },
    });
    this.timeoutBit = false;
    if (this.current.cacheKeys.length > 0) this.lists.set(this.listId, this.current);
    this.current = { cacheKeys: [], timeoutBit: false };
    this.listId++;
    this.data = [];
  }

  /** PI's two sweeps: each acts on what it has already seen once (the timeout bits). */
  private schedule(): void {
    clearInterval(this.maxTimeoutTimer);
    clearInterval(this.ackTimeoutTimer);
    const period = (ns: bigint) => Number((ns < MIN_SWEEP_NS ? MIN_SWEEP_NS : ns) / 1_000_000n);
    if (this.maxTimeoutNs > 0n) {
      this.maxTimeoutTimer = setInterval(() => {
        if (this.data.length === 0) return;
        if (!this.timeoutBit) this.timeoutBit = true;
        else this.send();
      }, period(this.maxTimeoutNs)).unref();
    }
    if (this.ackTimeoutNs > 0n) {
      this.ackTimeoutTimer = setInterval(() => {
        for (const [id, list] of this.lists) {
          if (!list.timeoutBit) list.timeoutBit = true;
          else this.ack(id);
        }
      }, period(this.ackTimeoutNs)).unref();
    }
  }

  private reset(): void {
    this.close();
    this.config = undefined;
    this.cache.clear();
    this.lists.clear();
    this.data = [];
    this.current = { cacheKeys: [], timeoutBit: false };
    this.timeoutBit = false;
  }
}

export class DigestManager {
  private readonly digests = new Map<number, DigestState>();
  private readonly byLearnList = new Map<number, DigestState>();
  private closed = false;

  constructor(model: PipelineModel, emit: StreamSink) {
    for (const d of model.digests.values()) {
      const state = new DigestState(d, emit);
      this.digests.set(d.id, state);
      this.byLearnList.set(d.learnList.id, state);
    }
    model.sw.onDigest((message) => {
      if (this.closed) return;
      // PI acks every target buffer as soon as it arrives (pi_learn_msg_ack).
      const state = this.byLearnList.get(message.listId);
      state?.model.learnList.ack(message.bufferId);
      state?.learn(message);
    });
  }

  private digest(id: number): DigestState {
    const state = this.digests.get(id);
    if (!state) throw new P4RuntimeError(Code.NOT_FOUND, `${id} is not a valid digest id`);
    return state;
  }

  write(type: UpdateType, entry: DigestEntry__Output): void {
    this.digest(entry.digest_id).write(type, entry);
  }

  read(entry: DigestEntry__Output): DigestEntry[] {
    if (entry.digest_id === 0) {
      throw new P4RuntimeError(
        Code.UNIMPLEMENTED,
        "digest_id must be set when reading DigestEntry",
      );
    }
    return [this.digest(entry.digest_id).read()];
  }

  /** Configured digests as INSERTs (RECONCILE_AND_COMMIT). */
  exportEntries(): DigestEntry[] {
    return [...this.digests.values()].flatMap((d) => d.entry() ?? []);
  }

  ack(ack: DigestListAck__Output): void {
    this.digests.get(ack.digest_id)?.ack(Number(ack.list_id));
  }

  close(): void {
    this.closed = true;
    for (const d of this.digests.values()) d.close();
  }
}
