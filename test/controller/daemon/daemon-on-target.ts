/**
 * A daemon in this process (API on a unix socket in a temporary directory) programming one
 * data-plane target (test/support/targets.ts) from a fabric file, through a recording
 * P4Runtime proxy (which also gives bmv2's unix socket a host:port the intent can name). The
 * target's own client (election id 1) stays connected as a backup; the daemon (on the embedded
 * store, leading with its term's election id) becomes primary. For the tests of what the daemon
 * does with packet-ins, digests and idle timeouts.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { pino } from "pino";
import { daemonRoutes } from "../../../controller/api/routes.js";
import { type ApiServer, startApiServer } from "../../../controller/api/server.js";
import { type DaemonOverrides, loadDaemonConfig } from "../../../controller/daemon/config.js";
import { Daemon } from "../../../controller/daemon/daemon.js";
import type { DaemonEvent } from "../../../controller/daemon/events.js";
import { openReplica } from "../../../controller/daemon/replica.js";
import type { KvStore } from "../../../controller/intent/store/types.js";
import { runCaptured } from "../../support/cli-capture.js";
import type { DataplaneTarget, TargetFactory } from "../../support/targets.js";
import { type P4RuntimeRecorder, startRecorder } from "./p4runtime-recorder.js";

export interface DaemonOnTargetOptions {
  ports: readonly number[];
  /** The fabric file, given the address and device id the daemon reaches the switch by. */
  fabric: (address: string, deviceId: number) => string;
  /** Daemon settings beyond the harness's (state dir, socket, no drift timer). */
  settings?: DaemonOverrides;
  /** The target's own /metrics (softswitch). */
  metrics?: boolean;
}

/**
 * The harness of one describe block: started before its tests (unless the target is skipped
 * here), closed after them, also when they fail.
 */
export function daemonOnTarget(
  factory: TargetFactory,
  options: DaemonOnTargetOptions,
): DaemonOnTarget {
  const harness = new DaemonOnTarget(options);
  before(async () => {
    if (factory.skip) return;
    await harness.start(factory);
  });
  after(() => harness.close());
  return harness;
}

export class DaemonOnTarget {
  readonly dir = mkdtempSync(join(tmpdir(), "nvgre-daemon-target-"));
  readonly socket = join(this.dir, "ctl.sock");
  private started: DataplaneTarget | undefined;
  recorder: P4RuntimeRecorder | undefined;
  daemon: Daemon | undefined;
  private store: KvStore | undefined;
  private api: ApiServer | undefined;

  constructor(private readonly options: DaemonOnTargetOptions) {}

  /** Starts the target, the proxy and the daemon, and applies the fabric file. */
  async start(factory: TargetFactory): Promise<void> {
    this.started = await factory.start({
      ports: this.options.ports,
      pipeline: false,
      ...(this.options.metrics ? { metrics: true } : {}),
    });
    this.recorder = await startRecorder(this.started.address);
    const fabricFile = join(this.dir, "fabric.yaml");
    writeFileSync(fabricFile, this.options.fabric(this.recorder.address, this.started.deviceId));
    await this.startDaemon();
    const applied = await this.cli("apply", "-f", fabricFile);
    assert.equal(applied.code, 0, `${applied.err}${applied.out}`);
  }

  /** The switch under test (once started). */
  get target(): DataplaneTarget {
    if (!this.started) throw new Error("the harness's target is not started");
    return this.started;
  }

  /** A daemon on the harness's state directory (again, after stopDaemon: a restart). */
  async startDaemon(): Promise<Daemon> {
    const config = loadDaemonConfig({
      stateDir: join(this.dir, "state"),
      socket: this.socket,
      reconcileInterval: "0",
      ...this.options.settings,
    });
    const { store, election } = await openReplica(config);
    this.store = store;
    const daemon = new Daemon(config, store, election, pino({ level: "silent" }));
    await daemon.start();
    this.daemon = daemon;
    this.api = await startApiServer({
      socketPath: this.socket,
      routes: daemonRoutes(daemon),
      logger: daemon.logger,
    });
    return daemon;
  }

  async stopDaemon(): Promise<void> {
    await this.api?.close();
    await this.daemon?.stop();
    await this.store?.close();
    this.store = undefined;
  }

  /** nvgre-ctl against the daemon. */
  cli(...args: string[]) {
    return runCaptured(this.socket, ...args);
  }

  /** The first event of a kind whose message matches, once there is one (or the wait ends). */
  async eventMatching(
    kind: string,
    pattern: RegExp,
    waitMs = 5_000,
  ): Promise<DaemonEvent | undefined> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const events = this.daemon?.events.since(0).filter((e) => e.kind === kind) ?? [];
      const found = events.find((e) => pattern.test(e.message));
      if (found || Date.now() > deadline) return found;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async close(): Promise<void> {
    await this.stopDaemon();
    await this.recorder?.close();
    await this.started?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
