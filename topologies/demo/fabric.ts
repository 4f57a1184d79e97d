/**
 * Drives a Mininet fabric (topologies/fabric.py, Debian's /usr/bin/python3) from Node: starts
 * it, talks to it over its control channel (fd 3, one JSON object per line each way), runs
 * commands inside VMs, and stops it. Whatever happens to this process, nothing is left
 * behind: the fabric tears itself down when the channel closes, and every process started in
 * a VM is recorded in the run's registry, so the fabric's own cleanup (or `make clean-net`
 * after a SIGKILL) ends it by its id.
 */
import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import { appendFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Duplex } from "node:stream";
import { fileURLToPath } from "node:url";
import { P4RuntimeClient } from "../../controller/p4rt/client.js";

export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
export const fabricScript = join(repoRoot, "topologies", "fabric.py");
/** Debian's interpreter: it has Mininet and Scapy (the python3 first on PATH may not). */
export const systemPython = "/usr/bin/python3";

export type SwitchTarget = "softswitch" | "bmv2";

export interface SwitchInfo {
  name: string;
  role: "leaf" | "spine";
  target: SwitchTarget;
  device_id: number;
  grpc_address: string;
  cpu_port: number;
  pid: number | null;
  log: string;
  router_mac: string;
  pa_v4: string | null;
  pa_v6: string | null;
  spare_ports: number[];
  /** Port number (as a string: JSON keys) → interface name in the root namespace. */
  ports: Record<string, string>;
}

export interface LinkInfo {
  a: string;
  a_port: number;
  b: string;
  b_port: number;
  a_interface: string;
  b_interface: string;
  up: boolean;
}

export interface VmInfo {
  name: string;
  tenant: string;
  subnet: string;
  vsid: number;
  mac: string;
  /** CA with prefix length, e.g. 10.1.1.11/24. */
  ipv4: string;
  ipv6: string | null;
  leaf: string;
  port: number;
  /** The VM's shell: its network namespace is /proc/<pid>/ns/net. */
  pid: number;
}

export interface SubnetInfo {
  name: string;
  tenant: string;
  vsid: number;
  ipv4: string;
  ipv6: string | null;
  gateway_v4: string | null;
  gateway_v6: string | null;
  gateway_mac: string | null;
}

/** The plain L2 baseline path (fabric.py run --baseline-path), for benchmarks. */
export interface BaselineInfo {
  switches: (Omit<SwitchInfo, "role" | "router_mac" | "pa_v4" | "pa_v6" | "spare_ports"> & {
    role: "baseline";
  })[];
  a: { vm: string; mac: string; ipv4: string };
  b: { vm: string; mac: string; ipv4: string };
}

export interface FabricDescription {
  target: SwitchTarget;
  run_dir: string;
  /** The fabric file written from the plan; rewritten after a migration or a link change. */
  fabric_file: string;
  switches: SwitchInfo[];
  links: LinkInfo[];
  subnets: SubnetInfo[];
  vms: VmInfo[];
  baseline: BaselineInfo | null;
}

export interface FabricOptions {
  target: SwitchTarget;
  spines?: number;
  leaves?: number;
  sparePorts?: number;
  /** The switches' log level (their logs are in the run directory). */
  switchLogLevel?: string;
  /** Hand the terminal to the fabric (the Mininet CLI of `make lab`). */
  terminal?: boolean;
  /** How long building and starting may take (switch start-up included). */
  startTimeoutMs?: number;
  /** Add the plain L2 baseline path between blue-web1 and blue-web2 (eth1). */
  baselinePath?: boolean;
}

/**
 * A P4Runtime client for one fabric switch, without reconnection: for a tool's short session
 * (reads need no arbitration; election id 0 never competes with the controller).
 */
export function switchClient(
  sw: { grpc_address: string; device_id: number },
  electionId = 0n,
): P4RuntimeClient {
  return new P4RuntimeClient({
    address: sw.grpc_address,
    deviceId: sw.device_id,
    electionId,
    reconnect: false,
  });
}

export class FabricError extends Error {
  constructor(
    message: string,
    readonly runDir?: string,
  ) {
    super(message);
    this.name = "FabricError";
  }
}

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Reply {
  id: number | null;
  ok: boolean;
  result?: unknown;
  error?: string;
  trace?: string;
}

/** The kernel's start time of a process (clock ticks since boot), as rundir.py records it. */
function processStartTime(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[19]);
  } catch {
    return null;
  }
}

/** A process a run recorded in its registry (the Python side records the same way). */
export interface RecordedProcess {
  process: string;
  pid: number;
  start: number | null;
}

/** Whether a recorded process still runs (the same pid with the same start time). */
export function isRunning(recorded: RecordedProcess): boolean {
  return recorded.start !== null && processStartTime(recorded.pid) === recorded.start;
}

/** A child's output and exit status; it is killed after timeoutMs. */
function collect(child: ChildProcess, timeoutMs: number): Promise<ExecResult> {
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export class Fabric {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (reply: Reply) => void; reject: (error: Error) => void }
  >();
  private readonly children = new Set<ChildProcess>();
  private stderrTail: string[] = [];
  private readonly exited: Promise<number | null>;

  private constructor(
    private readonly python: ChildProcess,
    private readonly channel: Duplex,
    public description: FabricDescription,
  ) {
    this.exited = new Promise((resolve) => {
      python.once("exit", (code) => {
        for (const [id, waiter] of this.pending) {
          this.pending.delete(id);
          waiter.reject(
            new FabricError(`the fabric exited: ${this.stderrTail.join("").trim().slice(-1000)}`),
          );
        }
        resolve(code);
      });
    });
  }

  /** Builds and starts a fabric; resolves when every switch answers on its gRPC port. */
  static async start(options: FabricOptions): Promise<Fabric> {
    const args = [
      fabricScript,
      "run",
      "--switch",
      options.target,
      "--spines",
      String(options.spines ?? 2),
      "--leaves",
      String(options.leaves ?? 3),
      "--spare-ports",
      String(options.sparePorts ?? 1),
      "--log-level",
      options.switchLogLevel ?? "warn",
      ...(options.baselinePath ? ["--baseline-path"] : []),
    ];
    const stdio: SpawnOptions["stdio"] = options.terminal
      ? ["inherit", "inherit", "inherit", "pipe"]
      : ["ignore", "ignore", "pipe", "pipe"];
    // Its own process group: Ctrl-C reaches this driver, which tears down in order (the CLI of
    // `make lab` needs the terminal's group instead).
    const python = spawn(systemPython, args, {
      cwd: repoRoot,
      stdio,
      detached: !options.terminal,
      // The softswitch runs under the same node as this driver.
      env: { ...process.env, NODE: process.execPath },
    });
    const channel = python.stdio[3] as Duplex;
    const stderrTail: string[] = [];
    python.stderr?.setEncoding("utf8");
    python.stderr?.on("data", (chunk: string) => {
      stderrTail.push(chunk);
      if (stderrTail.length > 50) stderrTail.shift();
    });
    const lines = createInterface({ input: channel });
    const first = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => {
        python.kill("SIGTERM");
        reject(
          new FabricError(
            `the fabric did not start within ${options.startTimeoutMs ?? 180_000} ms`,
          ),
        );
      }, options.startTimeoutMs ?? 180_000);
      lines.once("line", (line) => {
        clearTimeout(timer);
        resolve(JSON.parse(line) as Record<string, unknown>);
      });
      python.once("exit", (code) => {
        clearTimeout(timer);
        reject(
          new FabricError(
            `the fabric exited (status ${code}) before it was ready: ${stderrTail.join("").trim().slice(-2000)}`,
          ),
        );
      });
    });
    if (first.event !== "ready") {
      await new Promise((resolve) => python.once("exit", resolve));
      throw new FabricError(
        `the fabric failed to start: ${String(first.error)}\n${stderrTail.join("").trim().slice(-2000)}`,
        first.run_dir as string | undefined,
      );
    }
    const fabric = new Fabric(python, channel, first.fabric as FabricDescription);
    fabric.stderrTail = stderrTail;
    lines.on("line", (line) => fabric.onReply(line));
    return fabric;
  }

  get runDir(): string {
    return this.description.run_dir;
  }

  get fabricFile(): string {
    return this.description.fabric_file;
  }

  private onReply(line: string): void {
    const reply = JSON.parse(line) as Reply;
    const waiter = reply.id === null ? undefined : this.pending.get(reply.id);
    if (waiter && reply.id !== null) {
      this.pending.delete(reply.id);
      waiter.resolve(reply);
    }
  }

  /** One request on the control channel; rejects with the fabric's error message. */
  async request<T>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    if (this.python.exitCode !== null) throw new FabricError(`the fabric has exited (${op})`);
    const id = this.nextId++;
    const reply = await new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.channel.write(`${JSON.stringify({ id, op, ...args })}\n`);
    });
    if (!reply.ok)
      throw new FabricError(`${op}: ${reply.error}${reply.trace ? `\n${reply.trace}` : ""}`);
    return reply.result as T;
  }

  switchInfo(name: string): SwitchInfo {
    const found = this.description.switches.find((s) => s.name === name);
    if (!found) throw new FabricError(`no switch named ${name}`);
    return found;
  }

  vm(name: string): VmInfo {
    const found = this.description.vms.find((v) => v.name === name);
    if (!found) throw new FabricError(`no VM named ${name}`);
    return found;
  }

  get leaves(): SwitchInfo[] {
    return this.description.switches.filter((s) => s.role === "leaf");
  }

  get spines(): SwitchInfo[] {
    return this.description.switches.filter((s) => s.role === "spine");
  }

  /** Live-migrates a VM onto a spare port of another leaf (see network.py move_vm). */
  async moveVm(vm: string, toLeaf: string): Promise<{ leaf: string; port: number }> {
    const placed = await this.request<{ leaf: string; port: number }>("move_vm", {
      vm,
      to_leaf: toLeaf,
    });
    this.description = await this.request<FabricDescription>("describe");
    return placed;
  }

  /** Takes a switch-to-switch link down or up; the fabric file follows (the link is left out
   * while down). */
  async setLink(a: string, b: string, up: boolean): Promise<void> {
    await this.request("set_link", { a, b, up });
    this.description = await this.request<FabricDescription>("describe");
  }

  /** Kills a switch process and starts a blank one on the same ports and gRPC address. */
  async restartSwitch(name: string): Promise<void> {
    await this.request("restart_switch", { switch: name });
    this.description = await this.request<FabricDescription>("describe");
  }

  /** Runs the Mininet CLI on the terminal until the operator leaves it. */
  async cli(): Promise<void> {
    await this.request("cli");
  }

  /**
   * Starts a process in a VM's network namespace, recorded in the run's registry so it is
   * ended by its id whatever happens to this driver.
   */
  spawnInVm(
    vm: string,
    argv: string[],
    options: { stdio?: SpawnOptions["stdio"] } = {},
  ): ChildProcess {
    const info = this.vm(vm);
    return this.spawnRecorded(
      `${vm}: ${argv[0]}`,
      "nsenter",
      [`--net=/proc/${info.pid}/ns/net`, "--", ...argv],
      options,
    );
  }

  /** Starts a process in the root namespace (where the switch ports are), recorded likewise. */
  spawnOnHost(argv: string[], options: { stdio?: SpawnOptions["stdio"] } = {}): ChildProcess {
    return this.spawnRecorded(argv[0] as string, argv[0] as string, argv.slice(1), options);
  }

  private spawnRecorded(
    label: string,
    command: string,
    args: string[],
    options: { stdio?: SpawnOptions["stdio"] },
  ): ChildProcess {
    const child = spawn(command, args, { stdio: options.stdio ?? ["ignore", "pipe", "pipe"] });
    if (child.pid !== undefined) {
      appendFileSync(
        join(this.runDir, "registry.jsonl"),
        `${JSON.stringify({ process: label, pid: child.pid, start: processStartTime(child.pid) })}\n`,
      );
    }
    this.children.add(child);
    child.once("exit", () => this.children.delete(child));
    return child;
  }

  /** Every process the run recorded: switches, VM shells, what was started in VMs, tools. */
  recordedProcesses(): RecordedProcess[] {
    return readFileSync(join(this.runDir, "registry.jsonl"), "utf8")
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line) as Partial<RecordedProcess>)
      .filter((entry): entry is RecordedProcess => typeof entry.pid === "number");
  }

  /** Runs a command in a VM to completion (killed after timeoutMs). */
  execInVm(vm: string, argv: string[], timeoutMs = 30_000): Promise<ExecResult> {
    return collect(this.spawnInVm(vm, argv), timeoutMs);
  }

  /** Runs a command in the root namespace to completion (killed after timeoutMs). */
  execOnHost(argv: string[], timeoutMs = 30_000): Promise<ExecResult> {
    return collect(this.spawnOnHost(argv), timeoutMs);
  }

  /**
   * Tears the fabric down: ends what this driver started in VMs, then asks the fabric to stop
   * (it removes its run directory unless keepRunDir) and waits for it to exit.
   */
  async stop(options: { keepRunDir?: boolean } = {}): Promise<void> {
    for (const child of this.children) child.kill("SIGKILL");
    if (this.python.exitCode === null) {
      // Teardown of a large fabric takes a while; a fabric that hangs is told to stop by signal.
      const killer = setTimeout(() => this.python.kill("SIGTERM"), 120_000);
      try {
        await this.request("stop", { keep_run_dir: options.keepRunDir ?? false });
      } catch {
        // The fabric may exit before it replies; its exit is what matters.
      }
      this.channel.end();
      await this.exited;
      clearTimeout(killer);
    }
  }
}
