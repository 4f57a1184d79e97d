/**
 * Runs a real etcd cluster (Debian's /usr/bin/etcd, 3.4) of 1 or 3 members for a test, a
 * benchmark or the demo: free loopback ports, data dirs in a temporary directory (or one the
 * caller names), never the Debian service.
 * Members can be killed, stopped, paused (SIGSTOP) and resumed by their pid; stop() ends every
 * member and removes the directory, and a process exit kills whatever is still running.
 *
 *   const cluster = await startEtcdCluster({ members: 3 });
 *   try { ... cluster.endpoints ... await cluster.members[0].kill(); } finally { await cluster.stop(); }
 */
import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.js";

export const ETCD_BINARY = "/usr/bin/etcd";

export interface EtcdMember {
  readonly name: string;
  /** host:port of its client URL. */
  readonly endpoint: string;
  /** The running process's pid (undefined while it is down). */
  readonly pid: number | undefined;
  /** SIGKILL, waiting for the process to end. */
  kill(): Promise<void>;
  /** SIGTERM (a graceful stop), waiting for the process to end. */
  stop(): Promise<void>;
  /** SIGSTOP: the process stays, answering nothing. */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Starts a killed or stopped member again on its data dir and ports. */
  restart(): Promise<void>;
  /** Whether it is the cluster's raft leader now (its /metrics' etcd_server_is_leader). */
  isRaftLeader(): Promise<boolean>;
  log(): string;
}

export interface EtcdCluster {
  readonly members: EtcdMember[];
  /** host:port of every member. */
  readonly endpoints: string[];
  readonly dir: string;
  /** Resolves once the given members (default: all running ones) answer healthy. */
  waitHealthy(members?: EtcdMember[], timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface EtcdClusterOptions {
  members?: 1 | 3;
  /** Serve clients over TLS with this server certificate and require client certificates
   * signed by `ca` (mTLS); PEM file paths. */
  tls?: { ca: string; cert: string; key: string };
  /** etcd's --max-txn-ops (default 20,000: the store's largest transactions). */
  maxTxnOps?: number;
  /** Where the members' data dirs and logs go (kept by stop()); a new temporary one by default. */
  dir?: string;
  /** How a member's process is started (the demo records it in its run's registry). */
  spawn?: (command: string, args: string[], options: SpawnOptions) => ChildProcess;
}

const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

export async function startEtcdCluster(options: EtcdClusterOptions = {}): Promise<EtcdCluster> {
  const count = options.members ?? 1;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "nvgre-etcd-"));
  if (options.dir) mkdirSync(options.dir, { recursive: true });
  const token = `nvgre-test-${process.pid}-${Date.now()}`;
  const specs: { name: string; clientPort: number; peerPort: number; metricsPort: number }[] = [];
  for (let i = 0; i < count; i++) {
    specs.push({
      name: `m${i}`,
      clientPort: await freePort(),
      peerPort: await freePort(),
      // /health and /metrics in plain HTTP on a port of their own, also when clients use TLS.
      metricsPort: await freePort(),
    });
  }
  const scheme = options.tls ? "https" : "http";
  const tlsArgs = options.tls
    ? [
        `--cert-file=${options.tls.cert}`,
        `--key-file=${options.tls.key}`,
        `--trusted-ca-file=${options.tls.ca}`,
        "--client-cert-auth",
      ]
    : [];
  const initialCluster = specs.map((s) => `${s.name}=http://127.0.0.1:${s.peerPort}`).join(",");
  const members = specs.map(
    (spec) =>
      new Member(
        spec.name,
        spec.clientPort,
        spec.metricsPort,
        [
          `--name=${spec.name}`,
          `--data-dir=${join(dir, spec.name)}`,
          `--listen-client-urls=${scheme}://127.0.0.1:${spec.clientPort}`,
          `--advertise-client-urls=${scheme}://127.0.0.1:${spec.clientPort}`,
          ...tlsArgs,
          `--listen-metrics-urls=http://127.0.0.1:${spec.metricsPort}`,
          `--listen-peer-urls=http://127.0.0.1:${spec.peerPort}`,
          `--initial-advertise-peer-urls=http://127.0.0.1:${spec.peerPort}`,
          `--initial-cluster=${initialCluster}`,
          "--initial-cluster-state=new",
          `--initial-cluster-token=${token}`,
          `--max-txn-ops=${options.maxTxnOps ?? 20_000}`,
          // Fast raft elections (loopback): a killed etcd leader is replaced in about a second.
          "--heartbeat-interval=50",
          "--election-timeout=500",
          "--logger=zap",
          "--log-level=warn",
        ],
        join(dir, `${spec.name}.log`),
        options.spawn ?? spawn,
      ),
  );
  const cluster: EtcdCluster = {
    members,
    endpoints: members.map((m) => m.endpoint),
    dir,
    waitHealthy: (which = members.filter((m) => m.pid !== undefined), timeoutMs = 20_000) =>
      waitHealthy(
        members.filter((m) => which.includes(m)),
        timeoutMs,
      ),
    async stop() {
      await Promise.all(members.map((m) => m.kill()));
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    for (const member of members) member.spawn();
    await cluster.waitHealthy(members);
    return cluster;
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

class Member implements EtcdMember {
  readonly endpoint: string;
  /** host:port of its plain-HTTP /health and /metrics. */
  readonly metricsEndpoint: string;
  private child: ChildProcess | undefined;

  constructor(
    readonly name: string,
    clientPort: number,
    metricsPort: number,
    private readonly args: string[],
    private readonly logFile: string,
    private readonly spawnProcess: NonNullable<EtcdClusterOptions["spawn"]>,
  ) {
    this.endpoint = `127.0.0.1:${clientPort}`;
    this.metricsEndpoint = `127.0.0.1:${metricsPort}`;
  }

  get pid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null
      ? this.child.pid
      : undefined;
  }

  spawn(): void {
    const log = openSync(this.logFile, "a");
    const child = this.spawnProcess(ETCD_BINARY, this.args, { stdio: ["ignore", log, log] });
    running.add(child);
    child.once("exit", () => running.delete(child));
    this.child = child;
  }

  kill(): Promise<void> {
    return this.end("SIGKILL");
  }

  stop(): Promise<void> {
    return this.end("SIGTERM");
  }

  private async end(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || this.pid === undefined) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    if (signal !== "SIGKILL") child.kill("SIGCONT");
    child.kill(signal);
    await exited;
  }

  pause(): void {
    this.child?.kill("SIGSTOP");
  }

  resume(): void {
    this.child?.kill("SIGCONT");
  }

  async restart(): Promise<void> {
    await this.kill();
    this.spawn();
  }

  async isRaftLeader(): Promise<boolean> {
    const response = await fetch(`http://${this.metricsEndpoint}/metrics`, {
      signal: AbortSignal.timeout(2000),
    });
    return /^etcd_server_is_leader 1$/m.test(await response.text());
  }

  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, "utf8") : "";
  }
}

async function waitHealthy(members: Member[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const member of members) {
    for (;;) {
      if (await healthy(member.metricsEndpoint)) break;
      if (member.pid === undefined) {
        throw new Error(`etcd member ${member.name} exited:\n${member.log().slice(-2000)}`);
      }
      if (Date.now() > deadline) {
        throw new Error(
          `etcd member ${member.name} (${member.endpoint}) not healthy after ${timeoutMs} ms:\n${member.log().slice(-2000)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** etcd's /health answers {"health":"true"} only while the member has a leader (quorum). */
async function healthy(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(`http://${endpoint}/health`, {
      signal: AbortSignal.timeout(1000),
    });
    const body = (await response.json()) as { health?: string };
    return body.health === "true";
  } catch {
    return false;
  }
}
