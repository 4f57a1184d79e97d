/**
 * The controller as an operator runs it beside a fabric: the nvgre daemon (`nvgre-ctl run`)
 * with its state and API socket in the fabric's run directory, its log there too, recorded in
 * the run's registry like every other process of the fabric; and `nvgre-ctl` commands against
 * it. Benchmarks that time the controller itself talk to the same API with its client, as an
 * orchestrator would, so the CLI's own start-up is not in their figures. A replica of a
 * controller cluster (`make demo STORE=etcd`, cluster.ts) is the same daemon on an etcd store,
 * its files named after its member id.
 */
import type { ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ApiClient } from "../../controller/cli/api-client.js";
import type { DaemonEvent } from "../../controller/daemon/events.js";
import type {
  ChangeResult,
  EventsResponse,
  StatusResponse,
} from "../../controller/daemon/protocol.js";
import { type Pem, pkcs12, ThrowawayPki } from "../pki.js";
import type { Fabric } from "./fabric.js";

export const nvgreCtl = fileURLToPath(
  new URL("../../controller/nvgre-ctl/main.js", import.meta.url),
);

export class ControllerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ControllerError";
  }
}

export interface CtlResult {
  /** The command as an operator types it. */
  command: string;
  code: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The demo's TCP door: a throwaway CA's files, and an operator certificate for a browser. */
export interface WebAccess {
  /** https://127.0.0.1:PORT/, once the daemon bound it. */
  url: string;
  ca: string;
  operator: Pem;
  /** The operator certificate as PKCS#12, for a browser to import (password `nvgre`). */
  p12: string;
}

/** A replica of a controller cluster: its member id, the etcd store's URL, the lease TTL. */
export interface ReplicaOptions {
  member: string;
  store: string;
  leaseTtlS: number;
}

export interface DaemonOptions {
  reconcileIntervalS?: number;
  timeoutMs?: number;
  /** Run as a cluster replica on etcd (default: alone, on the embedded store). */
  replica?: ReplicaOptions;
}

export class ControllerDaemon {
  readonly api: ApiClient;
  web: WebAccess | undefined;

  private constructor(
    private readonly fabric: Fabric,
    /** The replica's member id, or "controller" for the daemon alone. */
    readonly name: string,
    readonly socket: string,
    readonly logPath: string,
    private readonly child: ChildProcess,
    private readonly exited: Promise<void>,
  ) {
    this.api = new ApiClient({ socket });
  }

  /** Starts the daemon with an empty intent; resolves once its API answers. */
  static async start(fabric: Fabric, options: DaemonOptions = {}): Promise<ControllerDaemon> {
    const replica = options.replica;
    // The daemon alone keeps the names operators know from the README; replicas are suffixed.
    const suffix = replica ? `-${replica.member}` : "";
    const socket = join(fabric.runDir, `nvgre-ctl${suffix}.sock`);
    const logPath = join(fabric.runDir, `controller${suffix}.log`);
    // The API's TCP listener (mTLS only) for the web view, with a CA made for this run.
    const pkiDir = join(fabric.runDir, `pki${suffix}`);
    mkdirSync(pkiDir, { recursive: true, mode: 0o700 });
    const pki = new ThrowawayPki(pkiDir, "nvgre-demo");
    const server = pki.issue("daemon", "/CN=localhost", { server: true });
    const operator = pki.issue("operator", "/CN=demo-operator/OU=operator");
    const p12 = join(pkiDir, "operator.p12");
    pkcs12(operator, p12, "nvgre");
    const log = openSync(logPath, "a");
    const child = fabric.spawnOnHost(
      [
        process.execPath,
        nvgreCtl,
        "--socket",
        socket,
        "run",
        "--state-dir",
        join(fabric.runDir, `controller${suffix}`),
        ...(replica
          ? [
              ...["--store", replica.store, "--member", replica.member],
              ...["--lease-ttl", String(replica.leaseTtlS)],
            ]
          : []),
        "--reconcile-interval",
        String(options.reconcileIntervalS ?? 5),
        ...["--listen", "127.0.0.1:0", "--listen-cert", server.cert, "--listen-key", server.key],
        ...["--client-ca", pki.ca.cert],
      ],
      { stdio: ["ignore", log, log] },
    );
    closeSync(log);
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const daemon = new ControllerDaemon(
      fabric,
      replica?.member ?? "controller",
      socket,
      logPath,
      child,
      exited,
    );
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    for (;;) {
      if (child.exitCode !== null) {
        throw new ControllerError(`the nvgre daemon exited (${child.exitCode}); see ${logPath}`);
      }
      try {
        await daemon.status();
        const tcp = /"tcp":"([^"]+)"/.exec(readFileSync(logPath, "utf8"))?.[1];
        daemon.web = tcp ? { url: `https://${tcp}/`, ca: pki.ca.cert, operator, p12 } : undefined;
        return daemon;
      } catch (error) {
        if (Date.now() > deadline) {
          await daemon.stop();
          throw new ControllerError(
            `the nvgre daemon did not answer on ${socket}: ${String(error)}`,
          );
        }
        await sleep(100);
      }
    }
  }

  status(): Promise<StatusResponse> {
    return this.api.call<StatusResponse>("GET", "/v1/status");
  }

  /** The daemon's recent events of one kind, oldest first. */
  async events(kind: DaemonEvent["kind"]): Promise<DaemonEvent[]> {
    return (await this.api.call<EventsResponse>("GET", `/v1/events?kind=${kind}`)).events;
  }

  /** Whether its process still runs. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Runs `nvgre-ctl <args>` against this daemon; never throws on a non-zero exit. */
  async ctl(args: string[]): Promise<CtlResult> {
    const started = Date.now();
    const result = await this.fabric.execOnHost(
      [process.execPath, nvgreCtl, "--socket", this.socket, "--no-color", ...args],
      120_000,
    );
    return {
      command: `nvgre-ctl ${args.join(" ")}`,
      ...result,
      durationMs: Date.now() - started,
    };
  }

  /** `nvgre-ctl apply -f FILE`; throws with its output unless every switch converged. */
  async apply(file: string): Promise<CtlResult> {
    return this.must(await this.ctl(["apply", "-f", file, "--no-progress"]));
  }

  /** `nvgre-ctl endpoint move NAME --to SWITCH:PORT`; throws unless every switch converged. */
  async moveEndpoint(name: string, to: { leaf: string; port: number }): Promise<CtlResult> {
    return this.must(await this.ctl(["endpoint", "move", name, "--to", `${to.leaf}:${to.port}`]));
  }

  /** The same move as one API request (what an orchestrator sends), for timing the controller. */
  moveEndpointByApi(name: string, to: { leaf: string; port: number }): Promise<ChangeResult> {
    return this.api.call<ChangeResult>(
      "PUT",
      `/v1/endpoints/${encodeURIComponent(name)}/location`,
      {
        location: { switch: to.leaf, port: to.port },
      },
    );
  }

  private must(result: CtlResult): CtlResult {
    if (result.code !== 0) {
      throw new ControllerError(
        `${result.command} exited with ${result.code}:\n${result.stdout}${result.stderr}`.trim(),
      );
    }
    return result;
  }

  /** Stops the daemon (SIGTERM: it closes its sessions and leaves the switches as they are). */
  stop(): Promise<void> {
    return this.signal("SIGTERM");
  }

  /** Sends a signal (SIGKILL: the host died) and waits until the process has ended. */
  async signal(signal: "SIGTERM" | "SIGKILL"): Promise<void> {
    if (this.running) this.child.kill(signal);
    await this.exited;
  }
}
