/**
 * The daemon's session with one switch: a P4Runtime client that asks to be primary, keeps
 * trying while the switch is away (first connection and every reconnection), and runs the
 * switch's reconciles one at a time. Whenever the session becomes primary (first connect, a
 * restarted or replaced switch, another controller gone) it reconciles, so the switch gets its
 * pipeline (only if the cookie differs) and its full state back with no operator. A switch's
 * work runs one piece at a time; background reconcile requests that pile up meanwhile are
 * folded into one.
 */
import { EventEmitter } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type { DigestList__Output } from "../../proto/gen/p4/v1/DigestList.js";
import type { IdleTimeoutNotification__Output } from "../../proto/gen/p4/v1/IdleTimeoutNotification.js";
import type { PacketIn__Output } from "../../proto/gen/p4/v1/PacketIn.js";
import type { Update } from "../../proto/gen/p4/v1/Update.js";
import { type ArbitrationState, P4RuntimeClient, type TlsOptions } from "../p4rt/client.js";
import type { SwitchReconcileResult } from "../reconcile/reconcile.js";
import type { EventRing } from "./events.js";
import type { KnownState } from "./known-state.js";
import type { ReconcileSummary } from "./protocol.js";

/** How long close() lets queued work finish before it cancels it. */
const CLOSE_GRACE_MS = 1000;

export interface SessionTarget {
  name: string;
  address: string;
  deviceId: number;
}

export interface SessionOptions {
  /** Changed by setElectionId as this replica starts or stops leading. */
  electionId: bigint;
  role?: string | undefined;
  tls?: TlsOptions | undefined;
  connectTimeoutMs: number;
  logger: Logger;
  events: EventRing;
  /** Whether this replica leads the cluster (only the leader writes). */
  leading: () => boolean;
  /** Does the switch's reconcile (read, diff, write); the session only decides when. */
  reconcile: (session: SwitchSession, trigger: string) => Promise<ReconcileSummary>;
}

interface SessionEvents {
  "packet-in": [PacketIn__Output];
  digest: [DigestList__Output];
  "idle-timeout": [IdleTimeoutNotification__Output];
}

const retryDelay = { initialMs: 200, maxMs: 5_000 };

/**
 * The P4Runtime client with a hook on every update it takes for sending, so a long apply can
 * report progress while the reconciler writes (the count runs at most one batch ahead of
 * what the switch has acknowledged).
 */
export class CountingClient extends P4RuntimeClient {
  onUpdate: (() => void) | undefined;

  override write(updates: Iterable<Update>, options?: { batchSize?: number }): Promise<void> {
    const hook = this.onUpdate;
    if (!hook) return super.write(updates, options);
    return super.write(counted(updates, hook), options);
  }
}

function* counted(updates: Iterable<Update>, hook: () => void): Generator<Update> {
  for (const update of updates) {
    hook();
    yield update;
  }
}

export class SwitchSession extends EventEmitter<SessionEvents> {
  readonly client: CountingClient;
  connected = false;
  arbitration: ArbitrationState = { primary: false, primaryElectionId: 0n };
  lastError: string | undefined;
  lastReconcile: ReconcileSummary | undefined;
  /**
   * What the switch holds, as far as this session knows: the state (and its generation) it
   * last converged it to with nothing rejected. Forgotten whenever that may no longer be true
   * (known-state.ts).
   */
  known: KnownState | undefined;
  /** The last reconcile that wrote (not a dry run), and how many there were. */
  lastResult: SwitchReconcileResult | undefined;
  reconciles = 0;
  private closed = false;
  private queue: Promise<unknown> = Promise.resolve();
  private waiting: { triggers: string[]; done: Promise<void> } | undefined;
  private readonly log: Logger;

  constructor(
    readonly target: SessionTarget,
    private readonly options: SessionOptions,
  ) {
    super();
    this.log = options.logger.child({ switch: target.name });
    this.client = new CountingClient({
      address: target.address,
      deviceId: target.deviceId,
      electionId: options.electionId,
      ...(options.role ? { role: options.role } : {}),
      ...(options.tls ? { tls: options.tls } : {}),
      connectTimeoutMs: options.connectTimeoutMs,
      reconnect: { initialDelayMs: retryDelay.initialMs, maxDelayMs: retryDelay.maxMs },
    });
    this.client.on("arbitration", (state) => this.onArbitration(state));
    this.client.on("connected", () => {
      this.connected = true;
      this.lastError = undefined;
      this.record("connection", "info", `connected to ${target.address}`);
    });
    this.client.on("disconnected", (reason) => {
      this.connected = false;
      this.known = undefined;
      this.arbitration = { ...this.arbitration, primary: false };
      this.lastError = `disconnected: ${reason}`;
      this.record("connection", "warn", `lost ${target.address}: ${reason}; reconnecting`);
    });
    this.client.on("packet-in", (packet) => this.emit("packet-in", packet));
    this.client.on("digest", (list) => this.emit("digest", list));
    this.client.on("idle-timeout", (notice) => this.emit("idle-timeout", notice));
    this.client.on("stream-error", (error) =>
      this.record("connection", "warn", `switch reported a stream error: ${error.message}`, {
        code: error.canonical_code,
      }),
    );
  }

  get name(): string {
    return this.target.name;
  }

  get primary(): boolean {
    return this.connected && this.arbitration.primary;
  }

  /** Connects in the background, retrying with backoff until the switch answers. */
  start(): void {
    void this.connectLoop();
  }

  private async connectLoop(): Promise<void> {
    let delay = retryDelay.initialMs;
    let reported: string | undefined;
    while (!this.closed) {
      try {
        await this.client.connect();
        return;
      } catch (error) {
        if (this.closed) return;
        this.lastError = (error as Error).message;
        // One event per distinct failure, not one per retry.
        if (reported !== this.lastError) {
          reported = this.lastError;
          this.record("connection", "warn", `cannot connect: ${this.lastError}; retrying`);
        }
        await sleep(delay);
        delay = Math.min(delay * 2, retryDelay.maxMs);
      }
    }
  }

  /** Resolves true as soon as the session is primary, false if it is not within `timeoutMs`. */
  async waitForPrimary(timeoutMs: number): Promise<boolean> {
    if (this.primary) return true;
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) {
      await sleep(20);
      if (this.primary) return true;
    }
    return false;
  }

  private onArbitration(state: ArbitrationState): void {
    const was = this.arbitration.primary;
    this.arbitration = state;
    if (!state.primary) this.known = undefined;
    if (state.primary && !was) {
      this.record(
        "mastership",
        "info",
        this.options.leading()
          ? "primary: this replica controls the switch"
          : "primary while no leader is connected (this replica follows: it writes nothing)",
      );
      this.requestReconcile("became primary");
    } else if (!state.primary && was) {
      this.record(
        "mastership",
        "warn",
        `backup: election id ${state.primaryElectionId} is primary; not writing`,
        { primaryElectionId: state.primaryElectionId.toString() },
      );
    } else if (!state.primary && !was) {
      this.record(
        "mastership",
        "warn",
        `backup: election id ${state.primaryElectionId} is primary (ours is ${this.options.electionId})`,
      );
    }
  }

  /**
   * Runs `work` when the switch's earlier work is done: reconciles, dry runs and explicit
   * writes of one switch never interleave.
   */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => {});
    return run;
  }

  /**
   * Asks for a reconcile in the background. Requests made while one is waiting to start are
   * folded into it (their triggers listed together), so a burst of changes is one reconcile.
   * Resolves when that reconcile has finished; nothing is done while not primary.
   */
  requestReconcile(trigger: string): Promise<void> {
    if (this.waiting) {
      this.waiting.triggers.push(trigger);
      return this.waiting.done;
    }
    const waiting = { triggers: [trigger], done: Promise.resolve() };
    this.waiting = waiting;
    waiting.done = this.exclusive(async () => {
      this.waiting = undefined;
      if (this.closed || !this.primary) return;
      try {
        this.lastReconcile = await this.options.reconcile(this, waiting.triggers.join(", "));
      } catch (error) {
        // The reconcile function reports its own failures; this guards against a bug in it.
        this.log.error({ err: error }, "reconcile threw");
      }
    });
    return waiting.done;
  }

  /**
   * Takes part in the switch's election with another id (this replica began or stopped
   * leading). Until the switch answers, the session counts as not primary: a replica that
   * stopped leading must not write on the strength of an old answer.
   */
  setElectionId(electionId: bigint): void {
    if (electionId === this.options.electionId) return;
    this.options.electionId = electionId;
    this.arbitration = { ...this.arbitration, primary: false };
    this.known = undefined;
    this.client.setElectionId(electionId);
  }

  /** Waits for all work queued so far. */
  idle(): Promise<void> {
    return this.queue.then(() => {});
  }

  record(
    kind: "connection" | "mastership" | "pipeline" | "reconcile" | "learning" | "punt",
    level: "info" | "warn" | "error",
    message: string,
    data?: Record<string, unknown>,
  ): void {
    this.options.events.push({
      kind,
      level,
      switch: this.target.name,
      message,
      ...(data ? { data } : {}),
    });
    this.log[level]({ event: kind, ...data }, message);
  }

  /**
   * Lets queued work finish for a moment, then closes the connection, cancelling what is still
   * in flight (a reconcile's read of a large table, a counters read): a stopping replica has
   * already given up its leadership, and whoever leads next reconciles.
   */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.race([this.idle(), sleep(CLOSE_GRACE_MS)]);
    this.client.close();
    this.removeAllListeners();
  }
}
