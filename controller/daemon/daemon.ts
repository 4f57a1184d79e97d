/**
 * The nvgre daemon, one replica of the controller: it keeps a copy of the stored intent (the
 * fabric's resources and the compiler's ids, stored-intent.ts) compiled and current from the
 * store's watch, and holds a P4Runtime session to every switch of it. One replica leads (the
 * cluster's election, leadership.ts): its sessions carry the election id of its term, the
 * highest any leader had, so the switches make it primary and refuse every earlier leader's
 * writes; the others hold backup sessions with lower ids, ready to lead.
 *
 *   intent change taken by any replica (apply, endpoint/vsid/route edits, learning)
 *        → validate → compile → commit to the store (compare-and-set on the latest change)
 *   store change (this replica's or another's) → recompile → the leader reconciles all switches
 *   leadership won → election id raised on every session → primary → reconcile from what the
 *        switches hold (rewriting nothing that is right)
 *   leadership lost (lease gone, deposed, store unreachable) → backup id: no more writes
 *   every reconcileIntervalMs the leader reconciles all (drift repair)
 *   digest learn_t, idle-timeout notices, packet-ins: only the primary gets them, so only the
 *        leader handles them; a digest is acknowledged once its change is stored
 *
 * Restart is hitless: the intent and the compiler's id allocations come back from the store,
 * the compile is identical, the pipeline is pushed only when the cookie differs, and the
 * reconcile finds nothing to write. A replica with no stored intent has no sessions, so it
 * never touches (let alone wipes) a switch on start.
 */
import type { Logger } from "pino";
import type { DigestList__Output } from "../../proto/gen/p4/v1/DigestList.js";
import type { IdleTimeoutNotification__Output } from "../../proto/gen/p4/v1/IdleTimeoutNotification.js";
import type { PacketIn__Output } from "../../proto/gen/p4/v1/PacketIn.js";
import type { Election } from "../cluster/types.js";
import { type CanonicalCodec, idleTimeoutOf } from "../compile/canonical.js";
import {
  type CompiledFabric,
  type CompileOptions,
  codecFor,
  compileFabric,
} from "../compile/compile.js";
import { recompile } from "../compile/incremental.js";
import type { SwitchState } from "../compile/state.js";
import {
  checkWritable,
  type TargetPipeline,
  TargetPipelines,
} from "../compile/target-pipelines.js";
import { formatPath, IntentError } from "../intent/errors.js";
import { validateDocument } from "../intent/load.js";
import { loadFabricDocument } from "../intent/load-off-thread.js";
import type { Fabric } from "../intent/model.js";
import { DuplicateResourceError, type ResourceChange, ResourceSet } from "../intent/resources.js";
import type { FabricDocument } from "../intent/schema.js";
import { StoreConflictError } from "../intent/store/errors.js";
import type { KvStore, Watch } from "../intent/store/types.js";
import { validateChange } from "../intent/validate-change.js";
import { P4RuntimeClient } from "../p4rt/client.js";
import { loadP4Enums } from "../p4rt/enums.js";
import type { Pipeline } from "../p4rt/pipeline.js";
import { planSize } from "../reconcile/diff.js";
import { reconcileSwitch, type SwitchReconcileResult } from "../reconcile/reconcile.js";
import { AgeingNoticeError, learnedMacKey, matchedWithin } from "./ageing.js";
import type { DaemonConfig } from "./config.js";
import { IntentConflictError, IntentInvalidError } from "./errors.js";
import { EventRing } from "./events.js";
import { carryLearnedEndpoints, type ResourceEdit } from "./intent-changes.js";
import { knownAfter, planFromKnown, reconcileFromKnown } from "./known-state.js";
import { Leadership } from "./leadership.js";
import {
  type AgeingDecision,
  decideAgeing,
  decideLearning,
  type LearnSample,
  recordLearned,
  removeLearned,
} from "./learning.js";
import type {
  ChangeResult,
  IntentIssueView,
  ReconcileSummary,
  ResourceDiff,
  StatusResponse,
  SwitchPlan,
} from "./protocol.js";
import { handlePunt } from "./punt/handler.js";
import { TokenBucket } from "./punt/rate-limit.js";
import { dropReasons, puntReasons, type Reasons } from "./reasons.js";
import { SwitchSession } from "./session.js";
import {
  type AppliedChange,
  ChangeInProgressError,
  type HistoryRecord,
  StoredIntent,
} from "./stored-intent.js";
import { switchView } from "./switch-view.js";

export const daemonVersion = "0.1.0";

interface LiveIntent {
  revision: number;
  document: FabricDocument;
  fabric: Fabric;
  compiled: CompiledFabric;
}

/** A change to the intent: the next document, or undefined for none. */
/**
 * A change of the intent: the next document (diffed against the stored resources), or the
 * resource changes themselves (an edit of single resources, read from `resources`).
 */
export type IntentEdit = (
  current: FabricDocument | undefined,
  resources: ResourceSet,
) => FabricDocument | ResourceChange[] | undefined;

export interface ChangeOptions {
  /** What caused it, for events and logs ("apply fabric.yaml", "endpoint move web-1", …). */
  trigger: string;
  /** Who asked, for the history (default: the controller itself). */
  actor?: string;
  dryRun?: boolean;
  verbose?: boolean;
  expectedRevision?: number;
  /**
   * Diff against the state each switch was last converged to instead of reading it back
   * (known-state.ts): small edits. `apply` reads, so it also repairs any drift.
   */
  incremental?: boolean;
  /** Long applies: plan first (a dry run), then report updates sent per switch. */
  progress?: {
    plan(plans: SwitchPlan[]): void;
    sent(switchName: string, done: number, total: number): void;
  };
}

/** Issues of an invalid intent as the API reports them (path text, message, line). */
export function issueViews(error: IntentError): IntentIssueView[] {
  return error.issues.map((issue) => ({
    path: formatPath(issue.path),
    message: issue.message,
    ...(issue.line === undefined ? {} : { line: issue.line, column: issue.column ?? 1 }),
  }));
}

function invalidIntent(error: IntentError): IntentInvalidError {
  return new IntentInvalidError(error.message.split("\n")[0] ?? error.message, issueViews(error));
}

/** Told of each reconcile of a switch (metrics: duration, rejected writes). */
export type ReconcileObserver = (
  switchName: string,
  seconds: number,
  result: SwitchReconcileResult,
) => void;

/** How long a change waits for another replica's staged change before it is refused. */
const CHANGE_IN_PROGRESS_WAIT_MS = 30_000;

export class Daemon {
  readonly events: EventRing;
  readonly reconcileObservers = new Set<ReconcileObserver>();
  /** The v1model pipeline: the compiler's P4Info (every target's P4Info has its names). */
  readonly pipeline: Pipeline;
  /** What the program's drop reason codes (the drop counters' indexes) mean. */
  readonly dropReasons: Reasons;
  private readonly puntReasons: Reasons;
  private readonly targets: TargetPipelines;
  readonly codec: CanonicalCodec;
  readonly sessions = new Map<string, SwitchSession>();
  readonly startedAt = new Date();
  readonly leadership: Leadership;
  private stored: StoredIntent | undefined;
  private intent: LiveIntent | undefined;
  private watch: Watch | undefined;
  /** Intent changes (taken here or seen in the store) run one at a time, in arrival order. */
  private changes: Promise<unknown> = Promise.resolve();
  private driftTimer: NodeJS.Timeout | undefined;
  private readonly puntLimits = new Map<string, TokenBucket>();
  private readonly compileOptions: CompileOptions;

  constructor(
    readonly config: DaemonConfig,
    private readonly store: KvStore,
    election: Election,
    readonly logger: Logger,
  ) {
    this.events = new EventRing(config.eventCapacity);
    this.targets = new TargetPipelines(config.pipeline, config.targetBuilds);
    this.pipeline = this.targets.of(undefined).pipeline;
    const enums = loadP4Enums(config.pipeline.enums, this.pipeline.index);
    this.dropReasons = dropReasons(enums);
    this.puntReasons = puntReasons(enums);
    this.codec = codecFor(this.pipeline.index);
    this.compileOptions = { learnedIdleTimeoutNs: Math.round(config.learnedAgeingSeconds * 1e9) };
    this.leadership = new Leadership(
      election,
      store.kind === "etcd" ? "etcd" : "local",
      {
        record: (level, message, data) => this.record("cluster", level, message, data),
        lead: (term) => this.lead(term),
        follow: () => this.follow(),
      },
      config.memberId,
    );
  }

  /** The intent's revision: the store revision of the latest change this replica holds. */
  get revision(): number {
    return this.intent?.revision ?? this.stored?.changeRevision ?? 0;
  }

  /** The stored document (learned endpoints included), lists in canonical order. */
  get intentDocument(): FabricDocument | undefined {
    return this.intent?.document;
  }

  get fabric(): Fabric | undefined {
    return this.intent?.fabric;
  }

  get allocations() {
    return this.intent?.compiled.allocations;
  }

  get storeLocation(): string {
    return `${this.store.kind} ${this.store.location}`;
  }

  /** True while this replica leads: only then does it write to switches. */
  get leading(): boolean {
    return this.leadership.term !== undefined;
  }

  /**
   * Loads the stored intent, opens a backup session to each of its switches, follows the
   * store and joins the election; a replica that wins raises its sessions to primary.
   */
  async start(): Promise<void> {
    const stored = await StoredIntent.load(this.store, this.leadership.member.id);
    this.stored = stored;
    if (!stored.empty) {
      let fabric: Fabric;
      try {
        fabric = validateDocument(stored.document, this.storeLocation);
      } catch (error) {
        if (error instanceof IntentError) {
          throw new Error(
            `the stored intent (revision ${stored.revision}) is not valid for this version; fix it with \`nvgre-ctl apply\` against a daemon that accepts it:\n${error.message}`,
          );
        }
        throw error;
      }
      this.intent = {
        revision: stored.changeRevision,
        document: stored.document,
        fabric,
        compiled: compileFabric(
          fabric,
          this.pipeline.index,
          stored.allocations,
          this.compileOptions,
        ),
      };
    }
    this.record(
      "daemon",
      "info",
      `started: intent revision ${this.revision} (${this.storeLocation}), ${this.intent?.fabric.switches.length ?? 0} switches`,
    );
    await this.leadership.join();
    this.leadership.reportRevision(this.revision);
    this.syncSessions();
    this.watch = await stored.follow(
      (change) => {
        this.changes = this.changes.then(() => this.onStoreChange(change)).catch(() => {});
      },
      (error) => this.onWatchError(error),
    );
    this.leadership.start();
    if (this.config.reconcileIntervalMs > 0) {
      this.driftTimer = setInterval(() => {
        if (this.leading) void this.reconcileAll("periodic drift check");
      }, this.config.reconcileIntervalMs);
    }
  }

  /**
   * Stops the replica: a leader hands over at once (its lease is revoked, so another replica
   * need not wait for it to expire), sessions close, switch state stays as it is.
   */
  async stop(): Promise<void> {
    clearInterval(this.driftTimer);
    await this.changes.catch(() => {});
    await this.leadership.stop();
    await this.watch?.close().catch(() => {});
    await Promise.all([...this.sessions.values()].map((session) => session.close()));
    this.sessions.clear();
    this.record("daemon", "info", "stopped");
  }

  private record(
    kind: "daemon" | "intent" | "cluster",
    level: "info" | "warn" | "error",
    message: string,
    data?: Record<string, unknown>,
  ) {
    this.events.push({ kind, level, message, ...(data ? { data } : {}) });
    this.logger[level]({ event: kind, ...data }, message);
  }

  // ------------------------------------------------------------------ leadership

  /** The election id every session carries now: the term's while leading, a backup's otherwise. */
  private get electionId(): bigint {
    return this.leadership.electionId;
  }

  /**
   * Won the election: catch up with the store first (a change another replica committed just
   * before must not be undone), then ask every switch for mastership with the term's id.
   */
  private async lead(term: number): Promise<void> {
    await this.recoverStalledChange();
    await this.catchUp();
    this.record("cluster", "info", `leading (term ${term}): taking primary on every switch`, {
      term,
    });
    for (const session of this.sessions.values()) session.setElectionId(this.electionId);
  }

  /** Lost the leadership: stop writing at once, then take a backup's id. */
  private follow(): void {
    for (const session of this.sessions.values()) session.setElectionId(this.electionId);
  }

  /**
   * A change staged by a replica that stopped half-way blocks every other change: the leader
   * finishes it (its journal is whole) or drops it, once its writer is gone.
   */
  private async recoverStalledChange(): Promise<void> {
    try {
      const done = await this.stored?.recoverStalled((member) => this.leadership.isGone(member));
      if (done) this.record("intent", "warn", done);
    } catch (error) {
      this.record(
        "intent",
        "error",
        `taking over a stalled change failed: ${(error as Error).message}`,
      );
    }
  }

  /** Waits until this replica's copy reflects every change the store held when it was called. */
  private async catchUp(): Promise<void> {
    await this.awaitDelivered();
    await this.changes.catch(() => {});
  }

  private onWatchError(error: Error): void {
    this.record("cluster", "error", `store watch failed: ${error.message}; reloading`);
    void this.reload();
  }

  /** The watch broke (compaction, store restart): read the whole intent again and follow anew. */
  private async reload(): Promise<void> {
    await this.watch?.close().catch(() => {});
    for (let delay = 200; ; delay = Math.min(delay * 2, 5_000)) {
      try {
        const stored = await StoredIntent.load(this.store, this.leadership.member.id);
        const run = this.changes.then(() => this.adopt(stored));
        this.changes = run.catch(() => {});
        await run;
        this.watch = await stored.follow(
          (change) => {
            this.changes = this.changes.then(() => this.onStoreChange(change)).catch(() => {});
          },
          (error) => this.onWatchError(error),
        );
        return;
      } catch (error) {
        this.record("cluster", "warn", `store reload failed: ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  /** Takes a freshly loaded copy as the intent (a full compile with its allocations). */
  private async adopt(stored: StoredIntent): Promise<void> {
    this.stored = stored;
    if (stored.empty) return;
    const fabric = validateDocument(stored.document, this.storeLocation);
    this.intent = {
      revision: stored.changeRevision,
      document: stored.document,
      fabric,
      compiled: compileFabric(fabric, this.pipeline.index, stored.allocations, this.compileOptions),
    };
    this.syncSessions();
    if (this.leading) await this.reconcileAll(`store revision ${stored.revision}`);
  }

  /**
   * A change another replica committed (or this one, before a reload): recompile, and the leader
   * brings the switches along. An intent this version cannot validate is reported, not applied.
   */
  private async onStoreChange(change: AppliedChange): Promise<void> {
    const stored = this.stored;
    if (!stored || change.revision <= (this.intent?.revision ?? 0)) return;
    if (change.resources.length === 0 && !change.allocationsChanged) {
      if (this.intent) this.intent = { ...this.intent, revision: change.revision };
      return;
    }
    const current = this.intent;
    let fabric: Fabric;
    let ofChange = false;
    try {
      // The change alone when this replica's intent is what it was made on (else, having
      // fallen behind or been caught up, the whole document).
      const documents = change.documents;
      ofChange =
        current !== undefined &&
        documents?.before === current.document &&
        documents.after === stored.document;
      fabric =
        current && ofChange
          ? validateChange(current.fabric, stored.document, change.resources, this.storeLocation)
          : validateDocument(stored.document, this.storeLocation);
    } catch (error) {
      this.record(
        "intent",
        "error",
        `store revision ${change.revision} is not a valid intent for this replica: ${(error as Error).message}`,
      );
      return;
    }
    const pending = current
      ? recompile(
          current.compiled,
          fabric,
          this.pipeline.index,
          ofChange ? change.resources : undefined,
        )
      : undefined;
    const compiled = pending
      ? pending.commit()
      : compileFabric(fabric, this.pipeline.index, stored.allocations, this.compileOptions);
    this.intent = { revision: change.revision, document: stored.document, fabric, compiled };
    this.leadership.reportRevision(change.revision);
    const last = stored.lastChange;
    this.record(
      "intent",
      "info",
      `revision ${change.revision}: ${last?.trigger ?? "stored change"}`,
      {
        revision: change.revision,
        ...(last ? { actor: last.actor } : {}),
      },
    );
    this.syncSessions();
    if (this.leading) {
      await Promise.all(
        [...compiled.switches.values()].map((desired) =>
          this.applyTo(
            desired,
            { trigger: last?.trigger ?? "stored change", incremental: true },
            0,
          ),
        ),
      );
    }
  }

  /** Sessions follow the intent: new switches get one, removed ones are let go (not wiped). */
  private syncSessions(): void {
    const wanted = new Map((this.intent?.fabric.switches ?? []).map((sw) => [sw.name, sw]));
    for (const [name, session] of this.sessions) {
      const sw = wanted.get(name);
      if (
        sw &&
        sw.p4runtime.address === session.target.address &&
        sw.p4runtime.deviceId === session.target.deviceId
      ) {
        continue;
      }
      this.sessions.delete(name);
      void session.close();
      session.record(
        "connection",
        "info",
        sw
          ? "switch address changed: new session"
          : "switch left the intent: session closed, its state left as it is",
      );
    }
    for (const [name, sw] of wanted) {
      if (this.sessions.has(name)) continue;
      const session = new SwitchSession(
        { name, address: sw.p4runtime.address, deviceId: sw.p4runtime.deviceId },
        {
          electionId: this.electionId,
          role: this.config.role,
          tls: this.config.tls,
          connectTimeoutMs: this.config.connectTimeoutMs,
          logger: this.logger,
          events: this.events,
          leading: () => this.leading,
          reconcile: (s, trigger) => this.backgroundReconcile(s, trigger),
        },
      );
      session.on("packet-in", (packet) => this.onPacketIn(session, packet));
      session.on("digest", (list) => void this.onDigest(session, list));
      session.on("idle-timeout", (notice) => void this.onIdleTimeout(session, notice));
      this.sessions.set(name, session);
      session.start();
    }
  }

  /** Reconciles every switch in the background (drift repair, after learning). */
  reconcileAll(trigger: string): Promise<void> {
    return Promise.all([...this.sessions.values()].map((s) => s.requestReconcile(trigger))).then(
      () => {},
    );
  }

  private async backgroundReconcile(
    session: SwitchSession,
    trigger: string,
  ): Promise<ReconcileSummary> {
    const desired = this.intent?.compiled.switches.get(session.name);
    // Only the leader writes: a backup made primary by a switch (no leader anywhere, its id the
    // highest left) keeps its hands off.
    if (!desired || !this.leading) {
      return {
        time: new Date().toISOString(),
        trigger,
        ok: true,
        writes: 0,
        pipelinePushed: false,
      };
    }
    try {
      const result = await this.reconcileSession(session, desired, trigger, false);
      return summaryOf(result, trigger);
    } catch (error) {
      session.lastError = (error as Error).message;
      session.record("reconcile", "error", `${trigger}: failed: ${session.lastError}`);
      return {
        time: new Date().toISOString(),
        trigger,
        ok: false,
        writes: 0,
        pipelinePushed: false,
        error: session.lastError,
      };
    }
  }

  /**
   * The pipeline and codec of a switch's target (controller/targets), refusing desired state
   * the target cannot take before anything is written.
   */
  private targetOf(
    name: string,
    desired: SwitchState,
    fabric: Fabric | undefined = this.intent?.fabric,
  ): TargetPipeline {
    const entry = this.targets.of(fabric?.switchByName.get(name)?.target);
    checkWritable(entry.profile, desired.collections.keys());
    return entry;
  }

  /**
   * The pipeline a switch of the intent runs: what its messages and reads decode with. A bound
   * function, so that the API's reads can be handed it as it is.
   */
  readonly switchTarget = (name: string): TargetPipeline =>
    this.targets.of(this.intent?.fabric?.switchByName.get(name)?.target);

  /** One reconcile of one switch (call inside session.exclusive); records what it found. */
  private async reconcileSession(
    session: SwitchSession,
    desired: SwitchState,
    trigger: string,
    dryRun: boolean,
    trustKnown = false,
  ): Promise<SwitchReconcileResult> {
    const { pipeline, codec } = this.targetOf(session.name, desired);
    const fromKnown =
      trustKnown && !dryRun && session.known
        ? await reconcileFromKnown(session.client, codec, desired, session.known)
        : undefined;
    const started = performance.now();
    const result =
      fromKnown ?? (await reconcileSwitch(session.client, pipeline, codec, desired, { dryRun }));
    const size = planSize(result.plan);
    if (dryRun) return result;
    const seconds = (performance.now() - started) / 1000;
    for (const observe of this.reconcileObservers) observe(session.name, seconds, result);
    session.known = result.rejected.length === 0 ? knownAfter(desired, result.plan) : undefined;
    session.lastResult = result;
    session.reconciles++;
    if (result.pipelinePushed) {
      session.record(
        "pipeline",
        "info",
        `pushed pipeline ${pipeline.cookie} (the switch ran another or none)`,
        {
          cookie: pipeline.cookie.toString(),
        },
      );
    }
    const counts = `${result.plan.inserts} inserted, ${result.plan.modifies} modified, ${result.plan.deletes} deleted`;
    if (result.rejected.length > 0) {
      const first = result.rejected[0];
      session.lastError = `${result.rejected.length} updates rejected; first: ${first?.codeName}: ${first?.message} (${first ? codec.describe(first.update.collection, first.update.key, first.update.value) : ""})`;
      session.record(
        "reconcile",
        "error",
        `${trigger}: wrote ${result.written} (${counts}); ${session.lastError}`,
        {
          written: result.written,
          rejected: result.rejected.length,
        },
      );
    } else {
      session.lastError = undefined;
      if (size > 0 || !trigger.startsWith("periodic")) {
        session.record(
          "reconcile",
          "info",
          size === 0
            ? `${trigger}: in sync, nothing written`
            : `${trigger}: wrote ${result.written} (${counts})`,
          {
            written: result.written,
            inserts: result.plan.inserts,
            modifies: result.plan.modifies,
            deletes: result.plan.deletes,
          },
        );
      }
      if (size > 0 && trigger.startsWith("periodic")) {
        session.record(
          "reconcile",
          "warn",
          `drift repaired: ${size} entities differed from the intent`,
          { drift: size },
        );
      }
    }
    return result;
  }

  // ------------------------------------------------------------------ intent changes

  /**
   * Applies an edit of the intent: validated and compiled, stored against the latest change
   * this replica knows (another replica's change in between: read up and redo the edit), then,
   * on the leader, every switch reconciled. Invalid intent changes nothing (422). A dry run
   * plans against each switch's current state and changes nothing anywhere. A replica that does
   * not lead stores the change and leaves the switches to the leader, which follows the store.
   */
  change(edit: IntentEdit, options: ChangeOptions): Promise<ChangeResult> {
    const run = this.changes.then(() => this.changeWithRetries(edit, options));
    this.changes = run.catch(() => {});
    return run;
  }

  private async changeWithRetries(edit: IntentEdit, options: ChangeOptions): Promise<ChangeResult> {
    const started = Date.now();
    if (options.expectedRevision !== undefined && options.expectedRevision > this.revision) {
      // The caller read a revision (from another replica) this one has not taken in yet: a
      // replica behind is no conflict, so it reads up before comparing.
      await this.catchUpNow();
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.changeNow(edit, options);
      } catch (error) {
        if (error instanceof ChangeInProgressError) {
          // A large change is being staged (seconds): wait for it, then prepare on top of it.
          if (Date.now() - started > CHANGE_IN_PROGRESS_WAIT_MS) {
            throw new IntentConflictError(`${error.message}; nothing was changed`);
          }
          if (this.leading) await this.recoverStalledChange();
          await new Promise((resolve) => setTimeout(resolve, 100));
          await this.catchUpNow();
          attempt--;
          continue;
        }
        if (!(error instanceof StoreConflictError) || attempt >= 5) {
          if (error instanceof StoreConflictError) {
            throw new IntentConflictError(`${error.message}; nothing was changed`);
          }
          throw error;
        }
        // Another replica's change came first: take it in, then redo this edit on top of it.
        await this.catchUpNow();
      }
    }
  }

  /** Waits (10 s at most) until the store's watch has delivered every change it held when called. */
  private async awaitDelivered(): Promise<void> {
    const target = (await this.stored?.latestChange()) ?? 0;
    const deadline = Date.now() + 10_000;
    while ((this.stored?.revision ?? 0) < target && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Applies every store change already delivered (inside the change queue, so no await on it). */
  private async catchUpNow(): Promise<void> {
    await this.awaitDelivered();
    const stored = this.stored;
    if (stored && stored.changeRevision > (this.intent?.revision ?? 0)) {
      await this.onStoreChange({
        revision: stored.changeRevision,
        resources: [],
        allocationsChanged: true,
      });
    }
  }

  private async changeNow(edit: IntentEdit, options: ChangeOptions): Promise<ChangeResult> {
    const stored = this.stored;
    if (!stored) throw new Error("the daemon is not started");
    const current = this.intent;
    const revision = this.revision;
    if (options.expectedRevision !== undefined && options.expectedRevision !== revision) {
      throw new IntentConflictError(
        `the intent is at revision ${revision}, not ${options.expectedRevision}; nothing was changed`,
      );
    }
    let prepared: ReturnType<StoredIntent["prepare"]>;
    let fabric: Fabric;
    // Small edits recompile only what they touch (compile/incremental.ts), applied once stored.
    let pending: ReturnType<typeof recompile>;
    let full: CompiledFabric | undefined;
    try {
      const next = edit(current?.document, stored.resourceSet);
      if (!next) return { dryRun: Boolean(options.dryRun), revision, switches: [] };
      // The diff is the store copy's: the intent's fabric is its basis only when they agree.
      const basis = current?.document === stored.document ? current.fabric : undefined;
      prepared = Array.isArray(next) ? stored.prepareChanges(next) : stored.prepare(next);
      if (prepared.resources.length === 0 && current) {
        // The same intent again (a repeated apply) stores nothing; it still reconciles below.
        return this.reconcileUnchanged(current, options);
      }
      // What every replica compiles: the canonical document (lists in resource-name order),
      // validated by checking what changed against the current fabric's indexes when few
      // endpoints changed (controller/intent/validate-change.ts), else whole.
      fabric = validateChange(basis, prepared.document, prepared.resources, "intent");
      pending =
        current && options.incremental && !options.dryRun
          ? recompile(
              current.compiled,
              fabric,
              this.pipeline.index,
              basis ? prepared.resources : undefined,
            )
          : undefined;
      if (!pending) {
        full = compileFabric(
          fabric,
          this.pipeline.index,
          current?.compiled.allocations,
          this.compileOptions,
        );
      }
    } catch (error) {
      if (error instanceof IntentError) throw invalidIntent(error);
      if (error instanceof DuplicateResourceError) {
        throw new IntentInvalidError(error.message, []);
      }
      throw error;
    }
    const allocations = (pending ?? (full as CompiledFabric)).allocations;
    if (options.dryRun) {
      return {
        dryRun: true,
        revision,
        switches: await this.planAll(full as CompiledFabric, fabric, options.verbose ?? true),
      };
    }
    const committed = await stored.commit(prepared, allocations, {
      trigger: options.trigger,
      actor: options.actor ?? "controller",
    });
    this.record("intent", "info", `revision ${committed.revision}: ${options.trigger}`, {
      revision: committed.revision,
      keysWritten: committed.keysWritten,
      ...(options.actor ? { actor: options.actor } : {}),
    });
    const compiled = pending ? pending.commit() : (full as CompiledFabric);
    this.intent = { revision: committed.revision, document: prepared.document, fabric, compiled };
    this.leadership.reportRevision(committed.revision);
    this.syncSessions();
    if (!this.leading) {
      // The leader applies it from the store; this replica has nothing to write.
      const leader = await this.leadership.leaderId().catch(() => null);
      return { dryRun: false, revision: committed.revision, switches: [], leader };
    }
    return {
      dryRun: false,
      revision: committed.revision,
      switches: await this.applyAll(compiled, fabric, options),
    };
  }

  /** An edit that changes no resource: reconciles (repairing drift) without storing anything. */
  private async reconcileUnchanged(
    current: LiveIntent,
    options: ChangeOptions,
  ): Promise<ChangeResult> {
    if (options.dryRun) {
      return {
        dryRun: true,
        revision: current.revision,
        switches: await this.planAll(current.compiled, current.fabric, options.verbose ?? true),
      };
    }
    if (!this.leading) return { dryRun: false, revision: current.revision, switches: [] };
    return {
      dryRun: false,
      revision: current.revision,
      switches: await this.applyAll(current.compiled, current.fabric, options),
    };
  }

  private async applyAll(
    compiled: CompiledFabric,
    fabric: Fabric,
    options: ChangeOptions,
  ): Promise<SwitchPlan[]> {
    const totals = new Map<string, number>();
    if (options.progress) {
      const plans = await this.planAll(compiled, fabric, false);
      for (const plan of plans)
        totals.set(plan.switch, plan.inserts + plan.modifies + plan.deletes);
      options.progress.plan(plans);
    }
    return Promise.all(
      [...compiled.switches.values()].map((desired) =>
        this.applyTo(desired, options, totals.get(desired.switchName) ?? 0),
      ),
    );
  }

  /**
   * Dry runs of every switch of `compiled`. Reads need no mastership, so a switch the daemon
   * has no session with yet (a first apply, a new switch) is read with a one-off client.
   */
  private async planAll(
    compiled: CompiledFabric,
    fabric: Fabric,
    verbose: boolean,
  ): Promise<SwitchPlan[]> {
    return Promise.all(
      [...compiled.switches.values()].map(async (desired) => {
        const session = this.sessions.get(desired.switchName);
        const plan = (client: P4RuntimeClient) => {
          const { pipeline, codec } = this.targetOf(desired.switchName, desired, fabric);
          return reconcileSwitch(client, pipeline, codec, desired, { dryRun: true });
        };
        try {
          if (session?.connected)
            return this.planOf(await session.exclusive(() => plan(session.client)), verbose);
          const sw = fabric.switchByName.get(desired.switchName);
          if (!sw) return unreachable(desired.switchName, session);
          const client = new P4RuntimeClient({
            address: sw.p4runtime.address,
            deviceId: sw.p4runtime.deviceId,
            electionId: this.electionId,
            ...(this.config.tls ? { tls: this.config.tls } : {}),
            reconnect: false,
          });
          try {
            return this.planOf(await plan(client), verbose);
          } finally {
            client.close();
          }
        } catch (error) {
          return { ...unreachable(desired.switchName, session), error: (error as Error).message };
        }
      }),
    );
  }

  private async applyTo(
    desired: SwitchState,
    options: ChangeOptions,
    planned: number,
  ): Promise<SwitchPlan> {
    const session = this.sessions.get(desired.switchName);
    if (!session) return unreachable(desired.switchName, session);
    if (!this.leading)
      return { ...unreachable(desired.switchName, session), error: "this replica no longer leads" };
    if (!session.primary) {
      // A session just opened (a first apply, a new switch) gets its connect timeout to come
      // up. Becoming primary queues a reconcile of the intent now in place: its result is
      // this change's result.
      const mark = session.reconciles;
      if (session.connected || !(await session.waitForPrimary(this.config.connectTimeoutMs))) {
        return unreachable(desired.switchName, session);
      }
      await session.idle();
      if (session.reconciles > mark && session.lastResult) {
        return this.planOf(session.lastResult, options.verbose ?? false);
      }
    }
    return session.exclusive(async () => {
      let sent = 0;
      if (options.progress) {
        const progress = options.progress;
        session.client.onUpdate = () => {
          sent++;
          if (sent % 100 === 0) progress.sent(desired.switchName, sent, Math.max(planned, sent));
        };
      }
      try {
        const result = await this.reconcileSession(
          session,
          desired,
          options.trigger,
          false,
          options.incremental,
        );
        session.lastReconcile = summaryOf(result, options.trigger);
        options.progress?.sent(desired.switchName, sent, sent);
        return this.planOf(result, options.verbose ?? false);
      } catch (error) {
        session.lastError = (error as Error).message;
        session.record("reconcile", "error", `${options.trigger}: failed: ${session.lastError}`);
        return {
          ...unreachable(desired.switchName, session),
          reachable: true,
          error: session.lastError,
        };
      } finally {
        session.client.onUpdate = undefined;
      }
    });
  }

  private planOf(result: SwitchReconcileResult, verbose: boolean): SwitchPlan {
    const first = result.rejected[0];
    return {
      switch: result.switchName,
      reachable: true,
      inserts: result.plan.inserts,
      modifies: result.plan.modifies,
      deletes: result.plan.deletes,
      pipeline: result.pipelinePushed,
      written: result.written,
      ...(verbose
        ? {
            changes: result.plan.steps.flat().map((u) => ({
              op:
                u.type === "INSERT"
                  ? ("insert" as const)
                  : u.type === "MODIFY"
                    ? ("modify" as const)
                    : ("delete" as const),
              entity: this.codec.describe(u.collection, u.key, u.value),
            })),
          }
        : {}),
      ...(first
        ? {
            error: `${result.rejected.length} updates rejected; first: ${first.codeName}: ${first.message}`,
          }
        : {}),
    };
  }

  /** `apply -f`: the file is the new intent; learned endpoints carry over where they still fit. */
  async applyText(text: string, source: string, options: ChangeOptions): Promise<ChangeResult> {
    // Parsed (off the event loop when large) before the change queue: the file's own problems,
    // with their lines, do not wait for other changes.
    let document: FabricDocument;
    try {
      document = await loadFabricDocument(text, source);
    } catch (error) {
      if (error instanceof IntentError) throw invalidIntent(error);
      throw error;
    }
    return this.change((current) => {
      const merged = carryLearnedEndpoints(document, current);
      return merged === document ? document : validateWithoutMisfits(merged, document);
    }, options);
  }

  /** A change of single resources (the CLI's endpoint edits): reads and writes only those. */
  editResources(edit: ResourceEdit, options: ChangeOptions): Promise<ChangeResult> {
    return this.change((_current, resources) => edit(resources), {
      incremental: true,
      ...options,
    });
  }

  /** A change of the stored document (the CLI's vsid/route edits). */
  editDocument(
    edit: (document: FabricDocument) => FabricDocument,
    options: ChangeOptions,
  ): Promise<ChangeResult> {
    return this.change((current) => edit(current ?? { switches: [] }), {
      incremental: true,
      ...options,
    });
  }

  // ------------------------------------------------------------------ history and rollback

  /** Every recorded change after revision `since` (oldest first), as the store keeps them. */
  async history(since = 0): Promise<HistoryRecord[]> {
    const stored = this.requireStored();
    return (await stored.history()).filter((record) => record.revision > since);
  }

  /** The resources that differ between two revisions of the intent. */
  async diff(from: number, to: number): Promise<ResourceDiff[]> {
    const stored = this.requireStored();
    const [before, after] = await Promise.all([stored.documentAt(from), stored.documentAt(to)]);
    const base = ResourceSet.of(before);
    return base
      .changesTo(after)
      .map(
        (change) =>
          ({
            resource: change.key,
            op:
              change.value === undefined
                ? "deleted"
                : base.get(change.kind, change.name) === undefined
                  ? "added"
                  : "changed",
            ...(base.get(change.kind, change.name) === undefined
              ? {}
              : { before: base.get(change.kind, change.name) }),
            ...(change.value === undefined ? {} : { after: change.value }),
          }) as ResourceDiff,
      )
      .sort((a, b) => (a.resource < b.resource ? -1 : 1));
  }

  /**
   * Makes the intent what it was at `revision`: a new change (audited like any other) whose
   * resources are those of that revision, compiled with today's ids where they still apply.
   */
  async rollback(revision: number, options: ChangeOptions): Promise<ChangeResult> {
    // NotFoundError naming the revision when no recorded change produced it.
    const document = await this.requireStored().documentAt(revision);
    return this.change(() => document, options);
  }

  /** Store revisions between the latest change in the store and the one this replica applied. */
  async revisionLag(): Promise<number> {
    return Math.max(0, (await this.requireStored().latestChange()) - this.revision);
  }

  private requireStored(): StoredIntent {
    if (!this.stored) throw new Error("the daemon is not started");
    return this.stored;
  }

  // ------------------------------------------------------------------ learning and punts

  private async onDigest(session: SwitchSession, list: DigestList__Output): Promise<void> {
    // Not leading (a backup a switch made primary while no replica leads): not acknowledged,
    // so the switch offers the samples again to whoever is primary after its ack timeout.
    if (!this.leading) return;
    let samples: LearnSample[];
    try {
      const decoded = this.switchTarget(session.name).packetIo.decodeDigestList(list);
      if (decoded.digest !== "learn_t") {
        session.record(
          "learning",
          "warn",
          `digest ${decoded.digest} is not one this daemon handles; acknowledged`,
        );
        session.client.ackDigest(list.digest_id, list.list_id);
        return;
      }
      samples = decoded.samples as unknown as LearnSample[];
    } catch (error) {
      session.record(
        "learning",
        "error",
        `unreadable digest list ${list.list_id}: ${(error as Error).message}; acknowledged`,
      );
      session.client.ackDigest(list.digest_id, list.list_id);
      return;
    }
    // Recorded as events once stored: "learned" means it is in the intent and on the switches.
    let learned: { summary: string; endpoint: string }[] = [];
    try {
      await this.change(
        (current) => {
          const fabric = this.intent?.fabric;
          learned = [];
          if (!current || !fabric) return undefined;
          let document = current;
          for (const sample of samples) {
            const decision = decideLearning(fabric, document, session.name, sample);
            if (decision.action === "record") {
              document = recordLearned(document, decision.endpoint);
              learned.push({ summary: decision.summary, endpoint: decision.endpoint.name });
            } else if (decision.level === "warn") {
              session.record("learning", "warn", decision.summary);
            }
          }
          return document === current ? undefined : document;
        },
        { trigger: `learning on ${session.name}`, incremental: true },
      );
      for (const { summary, endpoint } of learned) {
        session.record("learning", "info", summary, { endpoint });
      }
      // Acknowledged once the learned_mac entries are written: until then the switch holds
      // back repeats of these samples, after that it has no reason to send them.
      session.client.ackDigest(list.digest_id, list.list_id);
    } catch (error) {
      // Not acknowledged: the switch sends the samples again after its ack timeout.
      const message =
        error instanceof IntentInvalidError
          ? `${error.message}: ${error.issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`
          : (error as Error).message;
      session.record(
        "learning",
        "error",
        `could not record ${learned.map((l) => l.endpoint).join(", ") || "learned endpoints"}: ${message}`,
      );
    }
  }

  /**
   * Learned endpoints whose learned_mac entry went unmatched for `learnedAgeingSeconds` are
   * removed from the intent (and so from every switch). One behind a remote NVE ages only
   * when no other switch holding its entry matched it within that time either.
   */
  private async onIdleTimeout(
    session: SwitchSession,
    notice: IdleTimeoutNotification__Output,
  ): Promise<void> {
    const fabric = this.intent?.fabric;
    const document = this.intent?.document;
    if (!fabric || !document || !this.leading) return;
    const aged: (AgeingDecision & { action: "age" })[] = [];
    let target: TargetPipeline;
    try {
      target = this.switchTarget(session.name);
    } catch (error) {
      // A target whose build is gone cannot say what the notice names; the switch repeats it.
      session.record(
        "learning",
        "warn",
        `idle-timeout notice not read: ${(error as Error).message}`,
      );
      return;
    }
    for (const entry of notice.table_entry) {
      try {
        const key = learnedMacKey(target.pipeline.index, entry);
        if (!key) continue;
        const decision = decideAgeing(fabric, document, session.name, key);
        if (decision.action === "keep") {
          session.record("learning", "info", `idle-timeout notice: ${decision.summary}`);
          continue;
        }
        const seenOn =
          "nve" in decision.location
            ? await this.matchedElsewhere(session, target, entry)
            : undefined;
        if (seenOn) {
          session.record(
            "learning",
            "info",
            `${decision.endpoint}: idle on ${session.name}, still seen by ${seenOn}; kept`,
          );
          continue;
        }
        aged.push(decision);
      } catch (error) {
        if (!(error instanceof AgeingNoticeError)) throw error;
        session.record("learning", "warn", `idle-timeout notice not understood: ${error.message}`);
      }
    }
    if (aged.length === 0) return;
    try {
      await this.change(
        (current) => {
          if (!current) return undefined;
          let next = current;
          for (const d of aged) next = removeLearned(next, d.endpoint, d.location);
          return next === current ? undefined : next;
        },
        { trigger: `ageing on ${session.name}`, incremental: true },
      );
      for (const d of aged) {
        session.record(
          "learning",
          "info",
          `${d.summary} (not seen for ${this.config.learnedAgeingSeconds} s)`,
          { endpoint: d.endpoint, aged: true },
        );
      }
    } catch (error) {
      // Not removed: the switch repeats the notice while the entry stays idle.
      session.record(
        "learning",
        "error",
        `could not age out ${aged.map((d) => d.endpoint).join(", ")}: ${(error as Error).message}`,
      );
    }
  }

  /**
   * Another switch whose desired state gives the same learned_mac entry an idle timeout and
   * that matched it within that time. (A notice carries the key, not always the action.)
   */
  private async matchedElsewhere(
    session: SwitchSession,
    target: TargetPipeline,
    entry: IdleTimeoutNotification__Output["table_entry"][number],
  ): Promise<string | undefined> {
    const triple = target.codec.fromEntity({ table_entry: entry });
    if (!triple) return undefined;
    for (const [name, desired] of this.intent?.compiled.switches ?? []) {
      const other = this.sessions.get(name);
      if (other === session || !other?.connected) continue;
      const value = desired.collections.get(triple.collection)?.get(triple.key);
      const ttl = value === undefined ? 0 : idleTimeoutOf(value);
      if (ttl === 0) continue;
      try {
        // The other switch may run another target, whose P4Info numbers the table otherwise.
        const { codec } = this.switchTarget(name);
        const asOther = codec.toEntity(triple.collection, triple.key, value as string).table_entry;
        if (asOther && (await matchedWithin(other.client, asOther, BigInt(ttl)))) return name;
      } catch (error) {
        // A switch that cannot be asked is not forwarding for the endpoint as far as we know.
        other.record("learning", "warn", `ageing check failed: ${(error as Error).message}`);
      }
    }
    return undefined;
  }

  private onPacketIn(session: SwitchSession, packet: PacketIn__Output): void {
    const sw = this.intent?.fabric.switchByName.get(session.name);
    const fabric = this.intent?.fabric;
    if (!sw || !fabric || !this.leading) return;
    let limit = this.puntLimits.get(session.name);
    if (!limit) {
      limit = new TokenBucket(this.config.icmpAnswersPerSecond);
      this.puntLimits.set(session.name, limit);
    }
    if (!limit.take()) return;
    const suppressed = limit.suppressed;
    limit.suppressed = 0;
    const note = suppressed > 0 ? ` (${suppressed} punts before it not handled: rate limit)` : "";
    try {
      const { packetIo } = this.switchTarget(session.name);
      const decoded = packetIo.decodePacketIn(packet);
      const reason = Number(decoded.metadata.punt_reason ?? 0n);
      const meta = {
        ingressPort: Number(decoded.metadata.ingress_port ?? 0n),
        puntReason: this.puntReasons.get(reason)?.name ?? `code ${reason}`,
        mtu: Number(decoded.metadata.mtu ?? 0n),
      };
      const outcome = handlePunt(meta, decoded.payload, switchView(fabric, sw));
      if (outcome.action === "answer") {
        session.client.packetOut(
          outcome.frame,
          packetIo.packetOutMetadata({ egress_port: outcome.egressPort, through_pipeline: 0 }),
        );
      }
      session.record(
        "punt",
        meta.puntReason === "vsid_ffffff" ? "warn" : "info",
        `${outcome.summary}${note}`,
        {
          reason,
          port: meta.ingressPort,
          answered: outcome.action === "answer",
        },
      );
    } catch (error) {
      session.record("punt", "error", `packet-in not handled: ${(error as Error).message}${note}`);
    }
  }

  // ------------------------------------------------------------------ status

  /**
   * Entities the switch lacks or holds wrongly. Known from what this replica last read and wrote
   * when it can be (status and metrics ask often; reading every table of a large fabric each
   * time would keep the switches and this replica busy), else by reading the switch (a dry run).
   * Changes made behind the controller's back show at the next read: the periodic drift check.
   */
  private async driftOf(session: SwitchSession, desired: SwitchState): Promise<number> {
    const known = session.known;
    const plan = known && planFromKnown(desired, known, this.targetOf(session.name, desired).codec);
    if (plan) return planSize(plan);
    const result = await session.exclusive(() =>
      this.reconcileSession(session, desired, "status", true),
    );
    return planSize(result.plan) + (result.pipelinePushed ? 1 : 0);
  }

  /** Per switch: session state and how far it is from the intent (driftOf). */
  async status(): Promise<StatusResponse> {
    const switches = await Promise.all(
      [...this.sessions.values()].map(async (session) => {
        const desired = this.intent?.compiled.switches.get(session.name);
        let drift: number | undefined;
        let cookie: bigint | undefined;
        if (session.connected && desired) {
          try {
            cookie = await session.client.pipelineCookie();
            if (session.primary) drift = await this.driftOf(session, desired);
          } catch (error) {
            session.lastError = (error as Error).message;
          }
        }
        return {
          name: session.name,
          address: session.target.address,
          deviceId: session.target.deviceId,
          connected: session.connected,
          primary: session.primary,
          electionId: this.electionId.toString(),
          ...(session.connected
            ? { primaryElectionId: session.arbitration.primaryElectionId.toString() }
            : {}),
          ...(cookie === undefined ? {} : { pipelineCookie: cookie.toString() }),
          pipelineCurrent:
            cookie ===
            this.targets.cookieOf(this.intent?.fabric.switchByName.get(session.name)?.target),
          ...(drift === undefined ? {} : { drift }),
          ...(session.lastReconcile ? { lastReconcile: session.lastReconcile } : {}),
          ...(session.lastError ? { lastError: session.lastError } : {}),
        };
      }),
    );
    return {
      daemon: {
        pid: process.pid,
        version: daemonVersion,
        startedAt: this.startedAt.toISOString(),
        socket: this.config.socketPath,
        intentRevision: this.revision,
        intentPath: this.storeLocation,
        reconcileIntervalSeconds: this.config.reconcileIntervalMs / 1000,
      },
      cluster: await this.leadership.view(this.revision),
      switches,
    };
  }
}

function unreachable(name: string, session: SwitchSession | undefined): SwitchPlan {
  return {
    switch: name,
    reachable: false,
    inserts: 0,
    modifies: 0,
    deletes: 0,
    pipeline: false,
    written: 0,
    error: !session
      ? "no session yet"
      : !session.connected
        ? (session.lastError ?? "not connected")
        : `not primary (election id ${session.arbitration.primaryElectionId} is)`,
  };
}

function summaryOf(result: SwitchReconcileResult, trigger: string): ReconcileSummary {
  const first = result.rejected[0];
  return {
    time: new Date().toISOString(),
    trigger,
    ok: result.rejected.length === 0,
    writes: result.written,
    pipelinePushed: result.pipelinePushed,
    ...(first
      ? { error: `${result.rejected.length} rejected; first: ${first.codeName}: ${first.message}` }
      : {}),
  };
}

/**
 * Validates a document of declared + carried-over learned endpoints. Learned endpoints the
 * new fabric has no place for (their VSID, port or NVE is gone) are dropped, since they are
 * soft state; a problem anywhere else is reported as it is.
 */
function validateWithoutMisfits(merged: FabricDocument, declared: FabricDocument): FabricDocument {
  const declaredCount = declared.endpoints?.length ?? 0;
  try {
    validateDocument(merged);
    return merged;
  } catch (error) {
    if (!(error instanceof IntentError)) throw error;
    const misfits = new Set<number>();
    for (const issue of error.issues) {
      const index = issue.path[0] === "endpoints" ? issue.path[1] : undefined;
      if (typeof index !== "number" || index < declaredCount) throw error;
      misfits.add(index);
    }
    const kept = {
      ...merged,
      endpoints: (merged.endpoints ?? []).filter((_, i) => !misfits.has(i)),
    };
    validateDocument(kept);
    return kept;
  }
}
