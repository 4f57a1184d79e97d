/**
 * The daemon's Prometheus metrics (prom-client), served at /metrics. What they are made from:
 *   - switch state (connected, primary, in sync, drift) and the cluster (this replica leading,
 *     the leader's term, how far this replica's applied intent is behind the store) from the
 *     daemon's status;
 *   - reconcile durations and rejected writes from the daemon's reconcile observers;
 *   - punts, ICMP answers, learning and ageing from its event ring;
 *   - per-VSID encap/decap/flood packets and bytes and per-reason drops, read from the
 *     switches' counters and exported as counters with the switch's own values.
 * Status and counters are read every `countersIntervalMs`, not at scrape: a scrape never
 * waits on a switch (status checks drift by reading each switch's tables).
 * Cardinality is bounded by the fabric, never by traffic: switch × VSID × 3 directions for
 * the VSID counters, switch × stage × the P4 program's drop reasons (a fixed enum), switch ×
 * punt reason (a fixed enum), switch × P4Runtime error code (gRPC's 17 codes); the cluster
 * gauges have no labels (each replica reports itself; Prometheus's instance tells them apart).
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Daemon, ReconcileObserver } from "../daemon/daemon.js";
import type { DaemonEvent } from "../daemon/events.js";
import type { ClusterStatus, CountersResponse, DropsResponse } from "../daemon/protocol.js";
import { readCounters, readDrops } from "../daemon/switch-reads.js";

export interface DaemonMetricsOptions {
  /** How often the switches' counters are read (default 10 s). */
  countersIntervalMs?: number;
}

const directions = ["encap", "decap", "flood"] as const;

export class DaemonMetrics {
  readonly registry = new Registry();
  private switches: SwitchRow[] = [];
  private counters: CountersResponse = { rows: [], unreachable: [] };
  private drops: DropsResponse = { rows: [], unreachable: [] };
  private cluster: ClusterStatus | undefined;
  private revisionLag: number | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly stopEvents: () => void;
  private readonly observer: ReconcileObserver;
  private reading: Promise<void> | undefined;

  constructor(
    private readonly daemon: Daemon,
    options: DaemonMetricsOptions = {},
  ) {
    const registers = [this.registry];
    const switchGauge = (name: string, help: string, value: (s: SwitchRow) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ["switch"],
        registers,
        collect: () => {
          const gauge = this.registry.getSingleMetric(name) as Gauge;
          gauge.reset();
          for (const row of this.switches) gauge.set({ switch: row.name }, value(row));
        },
      });
    switchGauge("nvgre_switch_connected", "1 when the daemon's P4Runtime session is up", (s) =>
      Number(s.connected),
    );
    switchGauge("nvgre_switch_primary", "1 when this daemon is the switch's primary", (s) =>
      Number(s.primary),
    );
    switchGauge(
      "nvgre_switch_in_sync",
      "1 when the switch held the intent at the last check (no drift, our pipeline)",
      (s) => Number(s.connected && s.pipelineCurrent && s.drift === 0),
    );
    switchGauge(
      "nvgre_switch_drift_entries",
      "entities that differed from the intent at the last check (-1 before the first)",
      (s) => s.drift ?? -1,
    );

    const reconcileSeconds = new Histogram({
      name: "nvgre_reconcile_duration_seconds",
      help: "time to read a switch, diff it against the intent and write the difference",
      labelNames: ["switch"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    const writeErrors = new Counter({
      name: "nvgre_write_errors_total",
      help: "P4Runtime updates a switch rejected, by gRPC status code",
      labelNames: ["switch", "code"],
      registers,
    });
    this.observer = (switchName, seconds, result) => {
      reconcileSeconds.observe({ switch: switchName }, seconds);
      for (const rejection of result.rejected) {
        writeErrors.inc({ switch: switchName, code: rejection.codeName });
      }
    };
    daemon.reconcileObservers.add(this.observer);

    const punts = new Counter({
      name: "nvgre_punts_total",
      help: "packets the switches sent to the daemon, by punt reason (code of the P4 program's PuntReason_t)",
      labelNames: ["switch", "reason"],
      registers,
    });
    const icmpAnswers = new Counter({
      name: "nvgre_icmp_answers_total",
      help: "ICMP answers sent for punts (too big, echo replies)",
      labelNames: ["switch"],
      registers,
    });
    const learning = new Counter({
      name: "nvgre_learning_events_total",
      help: "endpoints learned and aged out, and learning failures",
      labelNames: ["switch", "event"],
      registers,
    });
    const onEvent = (event: DaemonEvent) => {
      const sw = event.switch ?? "";
      if (event.kind === "punt") {
        punts.inc({ switch: sw, reason: String(event.data?.reason ?? "unknown") });
        if (event.data?.answered) icmpAnswers.inc({ switch: sw });
      } else if (event.kind === "learning") {
        const kind =
          event.level === "error"
            ? "error"
            : event.data?.aged
              ? "aged"
              : event.data?.endpoint
                ? "learned"
                : undefined;
        if (kind) learning.inc({ switch: sw, event: kind });
      }
    };
    this.stopEvents = daemon.events.subscribe(onEvent);

    const vsidCounter = (unit: "packets" | "bytes") =>
      new Counter({
        name: `nvgre_vsid_${unit}_total`,
        help: `${unit} per VSID and direction, as the switch's vsid_encap/vsid_decap/vsid_flood counters hold them`,
        labelNames: ["switch", "vsid", "name", "direction"],
        registers,
        collect: () => {
          const counter = this.registry.getSingleMetric(`nvgre_vsid_${unit}_total`) as Counter;
          counter.reset();
          for (const row of this.counters.rows) {
            for (const direction of directions) {
              counter.inc(
                { switch: row.switch, vsid: vsidLabel(row.vsid), name: row.name, direction },
                Number(row[direction][unit]),
              );
            }
          }
        },
      });
    vsidCounter("packets");
    vsidCounter("bytes");
    const dropCounter = (unit: "packets" | "bytes") =>
      new Counter({
        name: `nvgre_drops_${unit}_total`,
        help: `${unit} the switches dropped, by stage and the P4 program's drop reason`,
        labelNames: ["switch", "stage", "reason"],
        registers,
        collect: () => {
          const counter = this.registry.getSingleMetric(`nvgre_drops_${unit}_total`) as Counter;
          counter.reset();
          for (const row of this.drops.rows) {
            counter.inc(
              { switch: row.switch, stage: row.stage, reason: row.name },
              Number(row[unit]),
            );
          }
        },
      });
    dropCounter("packets");
    dropCounter("bytes");
    new Gauge({
      name: "nvgre_counters_unreadable",
      help: "1 for a switch whose counters could not be read at the last interval",
      labelNames: ["switch"],
      registers,
      collect: () => {
        const gauge = this.registry.getSingleMetric("nvgre_counters_unreadable") as Gauge;
        gauge.reset();
        for (const { switch: name } of this.counters.unreachable) gauge.set({ switch: name }, 1);
      },
    });
    const clusterGauge = (name: string, help: string, value: () => number | undefined) =>
      new Gauge({
        name,
        help,
        registers,
        collect: () => {
          const gauge = this.registry.getSingleMetric(name) as Gauge;
          gauge.reset();
          const now = value();
          if (now !== undefined) gauge.set(now);
        },
      });
    clusterGauge("nvgre_cluster_leader", "1 when this replica leads the controller cluster", () =>
      this.cluster ? Number(this.cluster.role === "leader") : undefined,
    );
    clusterGauge(
      "nvgre_cluster_term",
      "the leader's term as this replica sees it (absent while no leader is known)",
      () => this.cluster?.term,
    );
    clusterGauge(
      "nvgre_cluster_revision_lag",
      "store revisions between the latest intent change in the store and the one this replica applied",
      () => this.revisionLag,
    );

    this.timer = setInterval(() => this.readSwitches(), options.countersIntervalMs ?? 10_000);
    this.timer.unref();
  }

  /** Reads status and counters now (the interval does this; tests may too). */
  readSwitches(): Promise<void> {
    this.reading ??= (async () => {
      try {
        const status = await this.daemon.status();
        this.switches = status.switches;
        this.cluster = status.cluster;
        this.revisionLag = await this.daemon.revisionLag();
        const sessions = [...this.daemon.sessions.values()];
        if (!this.daemon.fabric) return;
        const [counters, drops] = await Promise.all([
          readCounters(
            sessions,
            this.daemon.switchTarget,
            this.daemon.fabric,
            this.daemon.allocations,
            undefined,
          ),
          readDrops(sessions, this.daemon.switchTarget, this.daemon.dropReasons),
        ]);
        this.counters = counters;
        this.drops = drops;
      } catch (error) {
        this.daemon.logger.warn({ err: error }, "reading switch counters for metrics failed");
      } finally {
        this.reading = undefined;
      }
    })();
    return this.reading;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  close(): void {
    clearInterval(this.timer);
    this.stopEvents();
    this.daemon.reconcileObservers.delete(this.observer);
  }
}

type SwitchRow = Awaited<ReturnType<Daemon["status"]>>["switches"][number];

function vsidLabel(vsid: number): string {
  return `0x${vsid.toString(16).toUpperCase().padStart(6, "0")}`;
}
