/**
 * Traffic between VMs of a running fabric: pings (one-off and continuous), tagged probes that
 * show which VM a frame really reached, and iperf3. Everything runs inside the VMs' network
 * namespaces with the standard tools (iputils ping, iperf3) and topologies/probe.py.
 */
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { type Fabric, repoRoot, systemPython, type VmInfo } from "./fabric.js";

export const probeScript = join(repoRoot, "topologies", "probe.py");

export class TrafficError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TrafficError";
  }
}

/** The address part of a CA written with its prefix length. */
export function hostAddress(cidr: string): string {
  return cidr.split("/")[0] as string;
}

export interface PingSummary {
  transmitted: number;
  received: number;
  /** Average round-trip time (ms) when anything came back. */
  rttAvgMs: number | undefined;
  /** Why nothing could be sent (e.g. no route in the VM: a subnet without a gateway). */
  error?: string;
}

/** Reads iputils ping's summary lines. */
export function parsePingSummary(output: string): PingSummary {
  const counts = /(\d+) packets transmitted, (\d+) received/.exec(output);
  if (!counts) throw new TrafficError(`no ping summary in: ${output.trim().slice(-300)}`);
  const rtt = /= [\d.]+\/([\d.]+)\//.exec(output);
  return {
    transmitted: Number(counts[1]),
    received: Number(counts[2]),
    rttAvgMs: rtt ? Number(rtt[1]) : undefined,
  };
}

export interface PingOptions {
  count?: number;
  intervalS?: number;
  /** Seconds to wait for the last reply. */
  waitS?: number;
  /** Tag (4 hex digits) repeated in the payload, for the probe listeners. */
  tag?: string;
}

/** Pings `address` from a VM; resolves with the counts (never throws on loss). */
export async function ping(
  fabric: Fabric,
  from: string,
  address: string,
  options: PingOptions = {},
): Promise<PingSummary> {
  const count = options.count ?? 3;
  const argv = [
    "ping",
    "-n",
    "-q",
    "-c",
    String(count),
    "-i",
    String(options.intervalS ?? 0.2),
    "-W",
    String(options.waitS ?? 2),
  ];
  if (options.tag) argv.push("-p", `4e5647${options.tag}`);
  argv.push(address);
  const result = await fabric.execInVm(from, argv, 60_000);
  if (!/packets transmitted/.test(result.stdout)) {
    // ping refused to send at all (exit status 2), e.g. "Network is unreachable".
    return { transmitted: 0, received: 0, rttAvgMs: undefined, error: result.stderr.trim() };
  }
  return parsePingSummary(result.stdout);
}

export interface ProbeHit {
  tag: string;
  kind: "icmp-echo" | "raw";
  dst_mac: string;
  src_mac: string;
  /** IPv4 TTL / IPv6 hop limit as received (null for non-IP probes). */
  ttl: number | null;
}

/** A probe listener in each of some VMs, collecting the tags that reach each VM. */
export class ProbeListeners {
  private readonly hits = new Map<string, ProbeHit[]>();
  private readonly children: ChildProcess[] = [];

  static async start(fabric: Fabric, vms: string[]): Promise<ProbeListeners> {
    const listeners = new ProbeListeners();
    try {
      await Promise.all(vms.map((vm) => listeners.startOne(fabric, vm)));
    } catch (error) {
      listeners.stop();
      throw error;
    }
    return listeners;
  }

  private startOne(fabric: Fabric, vm: string): Promise<void> {
    const child = fabric.spawnInVm(vm, [systemPython, probeScript, "listen"]);
    this.children.push(child);
    this.hits.set(vm, []);
    return new Promise((resolve, reject) => {
      let stderr = "";
      child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
        stderr += chunk;
      });
      child.once("exit", (code) =>
        reject(new TrafficError(`probe listener in ${vm} exited (${code}): ${stderr.trim()}`)),
      );
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
        const message = JSON.parse(line) as ProbeHit | { ready: true };
        if ("ready" in message) resolve();
        else this.hits.get(vm)?.push(message);
      });
    });
  }

  /** Tags seen by a VM so far. */
  seen(vm: string): ProbeHit[] {
    return this.hits.get(vm) ?? [];
  }

  /** Whether `vm` received a frame carrying `tag`. */
  reached(vm: string, tag: string): boolean {
    return this.seen(vm).some((hit) => hit.tag === tag);
  }

  stop(): void {
    for (const child of this.children) child.kill("SIGKILL");
  }
}

/** Sends one broadcast (or given destination) frame carrying `tag` from a VM (Scapy-built). */
export async function sendProbe(
  fabric: Fabric,
  from: string,
  tag: string,
  dst = "ff:ff:ff:ff:ff:ff",
): Promise<void> {
  const result = await fabric.execInVm(from, [
    systemPython,
    probeScript,
    "send",
    "--tag",
    tag,
    "--dst",
    dst,
  ]);
  if (result.code !== 0) throw new TrafficError(`probe send from ${from}: ${result.stderr.trim()}`);
}

/** A tag unique to an ordered pair of VMs (by their index in the fabric's list). */
export function pairTag(fabric: Fabric, from: string, to: string): string {
  const index = (name: string) => fabric.description.vms.findIndex((v) => v.name === name);
  return ((index(from) << 8) | index(to)).toString(16).padStart(4, "0");
}

/** Whether VM a must reach VM b over `family`: same tenant, and the same virtual subnet or
 * both subnets routed by their tenant's gateways (R14). Never across tenants (R18). */
export function mustReach(fabric: Fabric, a: VmInfo, b: VmInfo, family: 4 | 6): boolean {
  if (a.tenant !== b.tenant) return false;
  if (family === 6 && (!a.ipv6 || !b.ipv6)) return false;
  if (a.subnet === b.subnet) return true;
  const subnet = (name: string) => fabric.description.subnets.find((s) => s.name === name);
  const gateway = (name: string) =>
    family === 4 ? subnet(name)?.gateway_v4 : subnet(name)?.gateway_v6;
  return Boolean(gateway(a.subnet) && gateway(b.subnet));
}

export interface MatrixCell {
  from: string;
  to: string;
  family: 4 | 6;
  expected: boolean;
  /** Echo requests tagged by `from` arrived in `to`, and replies came back. */
  reached: boolean;
  /** Echo requests tagged by `from` arrived in `to` (what isolation is judged on). */
  delivered: boolean;
  replies: number;
}

/**
 * Pings every VM's CA from every other VM (IPv4, and IPv6 between VMs that have one) with a
 * tag per pair, and records where the tagged requests arrived. Across tenants the address
 * pinged may belong to a VM of the sender's own tenant (CAs overlap): that VM may answer,
 * but the other tenant's VM must never see the request.
 */
export async function pingMatrix(fabric: Fabric, count = 3): Promise<MatrixCell[]> {
  const vms = fabric.description.vms;
  const listeners = await ProbeListeners.start(
    fabric,
    vms.map((v) => v.name),
  );
  try {
    const cells: MatrixCell[] = [];
    // One source at a time, all its destinations at once: bounded load on a small machine.
    for (const a of vms) {
      const jobs: Promise<void>[] = [];
      for (const b of vms) {
        if (a.name === b.name) continue;
        for (const family of [4, 6] as const) {
          const address = family === 4 ? b.ipv4 : b.ipv6;
          if (!address || (family === 6 && !a.ipv6)) continue;
          const tag = pairTag(fabric, a.name, b.name);
          jobs.push(
            ping(fabric, a.name, hostAddress(address), { count, tag }).then((summary) => {
              const delivered = listeners
                .seen(b.name)
                .some((hit) => hit.tag === tag && hit.kind === "icmp-echo");
              cells.push({
                from: a.name,
                to: b.name,
                family,
                expected: mustReach(fabric, a, b, family),
                delivered,
                reached: delivered && summary.received > 0,
                replies: summary.received,
              });
            }),
          );
        }
      }
      await Promise.all(jobs);
    }
    return cells;
  } finally {
    listeners.stop();
  }
}

export interface IperfResult {
  bitsPerSecond: number;
  retransmits: number;
  seconds: number;
  streams: number;
}

/** TCP throughput from one VM to another (iperf3, `streams` parallel flows). */
export async function iperf(
  fabric: Fabric,
  client: string,
  server: string,
  address: string,
  options: { seconds?: number; streams?: number } = {},
): Promise<IperfResult> {
  const seconds = options.seconds ?? 5;
  const streams = options.streams ?? 4;
  const serverProcess = fabric.spawnInVm(server, ["iperf3", "-s", "-1", "-J"]);
  try {
    // The server listens within a few ms; the client retries its connection anyway.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const result = await fabric.execInVm(
      client,
      ["iperf3", "-c", address, "-t", String(seconds), "-P", String(streams), "-J"],
      (seconds + 60) * 1000,
    );
    let report: {
      error?: string;
      end?: { sum_received?: { bits_per_second: number }; sum_sent?: { retransmits?: number } };
    };
    try {
      report = JSON.parse(result.stdout);
    } catch {
      throw new TrafficError(`iperf3 ${client} → ${server}: ${result.stdout}${result.stderr}`);
    }
    if (report.error || !report.end?.sum_received) {
      throw new TrafficError(`iperf3 ${client} → ${server}: ${report.error ?? "no result"}`);
    }
    return {
      bitsPerSecond: report.end.sum_received.bits_per_second,
      retransmits: report.end.sum_sent?.retransmits ?? 0,
      seconds,
      streams,
    };
  } finally {
    serverProcess.kill("SIGKILL");
  }
}

export interface ContinuousPing {
  /** Ends the ping; resolves with every reply's arrival time (Unix ms), the counts, and the
   * highest sequence number answered (requests after it were unanswered when ping stopped). */
  stop(): Promise<{
    replies: number[];
    transmitted: number;
    received: number;
    lastAnswered: number;
  }>;
}

/**
 * Pings continuously (every intervalS) from a VM, noting when each reply arrives (ping -D
 * timestamps, the wall clock Date.now() uses too).
 */
export function continuousPing(
  fabric: Fabric,
  from: string,
  address: string,
  intervalS = 0.01,
): ContinuousPing {
  const child = fabric.spawnInVm(from, ["ping", "-n", "-D", "-i", String(intervalS), address]);
  const replies: number[] = [];
  let lastAnswered = 0;
  let output = "";
  child.stdout?.setEncoding("utf8");
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
    output += `${line}\n`;
    const reply = /^\[(\d+\.\d+)\] \d+ bytes from .*icmp_seq=(\d+)/.exec(line);
    if (reply) {
      replies.push(Number(reply[1]) * 1000);
      lastAnswered = Math.max(lastAnswered, Number(reply[2]));
    }
  });
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  return {
    async stop() {
      child.kill("SIGINT");
      await closed;
      const summary = parsePingSummary(output);
      return {
        replies,
        transmitted: summary.transmitted,
        received: summary.received,
        lastAnswered,
      };
    },
  };
}
