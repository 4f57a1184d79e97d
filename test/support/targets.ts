/**
 * Data-plane targets for tests: the same cases run on every target available here, each
 * programmed through the project's P4Runtime client (controller/p4rt), with frames sent into
 * a data port and everything that leaves collected.
 *
 *   for (const factory of targets()) {
 *     describe(`… on ${factory.kind}`, () => {
 *       const { skip } = factory;
 *       let target: DataplaneTarget;
 *       before(async () => { if (skip) return; target = await factory.start(); });
 *       after(() => target?.close());
 *       test("R1 …", { skip }, async () => { … await target.send(1, frame) … });
 *     });
 *   }
 *
 * softswitch: our SoftswitchDevice and its P4Runtime server in this process, on a free loopback
 * port; `send` runs the frame through the device synchronously, so its outputs are exact; only
 * when the frame was punted does it wait (100 ms of quiet) for a controller's PacketOut answer.
 *
 * bmv2: simple_switch_grpc inside a network namespace of its own (netns.ts) with its data
 * ports on veth pairs, P4Runtime on a unix socket, and a packet agent (port_agent.py) on the
 * peer ends. "Nothing came out" is decided by a quiet period (DP_BMV2_QUIET_MS, default
 * 100 ms). Skipped, visibly, where simple_switch_grpc is not installed.
 */
import { join } from "node:path";
import { loadNvgrePipeline } from "../../controller/nvgre-build.js";
import { P4RuntimeClient } from "../../controller/p4rt/client.js";
import { forwardingPipelineConfig, type Pipeline } from "../../controller/p4rt/pipeline.js";
import type { DigestList__Output } from "../../proto/gen/p4/v1/DigestList.js";
import type { PacketIn__Output } from "../../proto/gen/p4/v1/PacketIn.js";
import type { PacketMetadata } from "../../proto/gen/p4/v1/PacketMetadata.js";
import { SoftswitchDevice } from "../../softswitch/device.js";
import { SoftswitchMetrics } from "../../softswitch/metrics.js";
import { startP4RuntimeServer } from "../../softswitch/p4runtime/server.js";
import { CPU_PORT, type RunningSwitch, startBmv2 } from "../../topologies/bmv2.js";
import { JsonLinesProcess } from "../../topologies/json-lines.js";
import { TestNamespace } from "../../topologies/netns.js";
import { repoRoot } from "../../topologies/repo.js";
import { debianPython } from "../../topologies/scapy.js";
import { skipUnless } from "../../topologies/toolchain.js";

export type TargetKind = "softswitch" | "bmv2";

/** A frame that left the switch on a data port. */
export interface Output {
  port: number;
  frame: Buffer;
}

export interface TargetOptions {
  /** Data ports (default 1..8). */
  ports?: readonly number[];
  deviceId?: number;
  /** Pushed by the target's client after it becomes primary (default: the NVGRE program). */
  pipeline?: Pipeline | false;
  /** softswitch: serve the switch's own Prometheus metrics (softswitch/metrics.ts) on loopback. */
  metrics?: boolean;
}

export interface DataplaneTarget {
  readonly kind: TargetKind;
  /** The P4Runtime server's address (host:port or unix:path), for further clients. */
  readonly address: string;
  readonly deviceId: number;
  readonly ports: readonly number[];
  readonly cpuPort: number;
  /** The primary controller (election id 1) that programmed the pipeline. */
  readonly client: P4RuntimeClient;
  readonly pipeline: Pipeline | undefined;
  /** host:port of the switch's /metrics, when asked for and the target has them. */
  readonly metricsAddress?: string;
  /** Sends a frame into `port`; resolves with every frame that left because of it. */
  send(port: number, frame: Uint8Array): Promise<Output[]>;
  /**
   * Sends frames into `port` one after the other; resolves with everything that left, in
   * arrival order, not attributed to the frames (identify them by content). For statistics
   * over many frames, where one round trip per frame would be slow on bmv2.
   */
  sendMany(port: number, frames: Uint8Array[]): Promise<Output[]>;
  /** Sends a PacketOut through the client; resolves with the frames that left data ports. */
  packetOut(payload: Uint8Array, metadata: PacketMetadata[]): Promise<Output[]>;
  /**
   * Frames the switch sent since the last request was over, once a quiet period passed: late
   * output (a switch held up while its tables were read, say) that no request collected.
   */
  lateOutput(): Promise<Output[]>;
  /**
   * The PacketIns received since the last call, once `expect` of them arrived (or waiting
   * ended) and a quiet period passed without more.
   */
  packetIns(expect?: number): Promise<PacketIn__Output[]>;
  /** The same for digest lists. */
  digests(expect?: number): Promise<DigestList__Output[]>;
  /**
   * A target running as a process of its own (bmv2): how it ended, once it has, and its log.
   * The in-process softswitch has none.
   */
  process?: Pick<RunningSwitch, "ended" | "log">;
  close(): Promise<void>;
}

export interface TargetFactory {
  kind: TargetKind;
  /** false when the target runs here, else the reason (node:test's `skip`). */
  skip: false | string;
  start(options?: TargetOptions): Promise<DataplaneTarget>;
}

const defaultPorts = [1, 2, 3, 4, 5, 6, 7, 8] as const;
/** How long the controller side waits for expected PacketIns or digests. */
const streamWaitMs = 5_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Collects stream messages of one kind and hands them out once expected ones arrived. */
class StreamBuffer<T> {
  private items: T[] = [];

  push(item: T): void {
    this.items.push(item);
  }

  async take(expect: number, quietMs: number): Promise<T[]> {
    const deadline = Date.now() + streamWaitMs;
    while (this.items.length < expect && Date.now() < deadline) await sleep(5);
    let seen = -1;
    while (seen !== this.items.length) {
      seen = this.items.length;
      await sleep(quietMs);
    }
    return this.items.splice(0);
  }
}

/** The controller side every target shares: the primary client, its pipeline, its streams. */
async function connectController(
  address: string,
  deviceId: number,
  options: TargetOptions,
): Promise<{
  client: P4RuntimeClient;
  pipeline: Pipeline | undefined;
  packetIns: StreamBuffer<PacketIn__Output>;
  digests: StreamBuffer<DigestList__Output>;
}> {
  const client = new P4RuntimeClient({ address, deviceId, electionId: 1n, reconnect: false });
  const packetIns = new StreamBuffer<PacketIn__Output>();
  const digests = new StreamBuffer<DigestList__Output>();
  client.on("packet-in", (packet) => packetIns.push(packet));
  client.on("digest", (digest) => digests.push(digest));
  try {
    const arbitration = await client.connect();
    if (!arbitration.primary) throw new Error(`${address}: the test client is not primary`);
    const pipeline =
      options.pipeline === false ? undefined : (options.pipeline ?? loadNvgrePipeline());
    if (pipeline) await client.setPipeline(forwardingPipelineConfig(pipeline));
    return { client, pipeline, packetIns, digests };
  } catch (error) {
    client.close();
    throw error;
  }
}

/**
 * The softswitch answers data-port frames synchronously; only what travels over gRPC
 * (PacketIns, digests, PacketOuts) needs a quiet period, on loopback a short one.
 */
const softswitchQuietMs = 20;
/**
 * After a frame that was punted, how long a controller may take to answer with a PacketOut
 * that still counts as output of the frame (bmv2's quiet period catches such answers too).
 */
const softswitchReactionMs = 100;
/** sendMany hands the event loop back after this many frames. */
const softswitchBurst = 64;

const softswitchFactory: TargetFactory = {
  kind: "softswitch",
  skip: false,
  async start(options: TargetOptions = {}): Promise<DataplaneTarget> {
    const ports = options.ports ?? defaultPorts;
    const deviceId = options.deviceId ?? 1;
    const device = new SoftswitchDevice({ deviceId, cpuPort: CPU_PORT });
    // Frames the device sends on its own (PacketOut to a port); inject() returns the rest.
    const unsolicited: Output[] = [];
    let injecting = false;
    device.attach({
      send(port, frame) {
        if (!injecting) unsolicited.push({ port, frame: Buffer.from(frame) });
      },
    });
    let packetInsSent = 0;
    device.on("stream", (message) => {
      if (message.packet) packetInsSent++;
    });
    const metrics = options.metrics
      ? await new SoftswitchMetrics(device).listen("127.0.0.1:0")
      : undefined;
    /** The device's own output once none came for `quietMs`. */
    const settle = async (quietMs: number): Promise<Output[]> => {
      let seen = -1;
      while (seen !== unsolicited.length) {
        seen = unsolicited.length;
        await sleep(quietMs);
      }
      return unsolicited.splice(0);
    };
    const server = await startP4RuntimeServer({ device, address: "127.0.0.1:0" });
    try {
      const controller = await connectController(server.address, deviceId, options);
      const inject = (port: number, frame: Uint8Array): Output[] => {
        injecting = true;
        try {
          return device
            .inject(port, frame)
            .map((o) => ({ port: o.port, frame: Buffer.from(o.frame) }));
        } finally {
          injecting = false;
        }
      };
      /** The frames' output, plus any controller's answer to what they punted. */
      const sendFrames = async (port: number, frames: Uint8Array[]): Promise<Output[]> => {
        if (unsolicited.length > 0) {
          throw new Error(
            `softswitch: ${unsolicited.length} frame(s) left the switch after the previous ` +
              `request was over (a late PacketOut?)`,
          );
        }
        const punted = packetInsSent;
        const out: Output[] = [];
        for (const [i, frame] of frames.entries()) {
          // Frames arrive over time on a real port: let timers and I/O (controllers,
          // gRPC) run between bursts, as they would beside bmv2.
          if (i > 0 && i % softswitchBurst === 0) await new Promise(setImmediate);
          out.push(...inject(port, frame));
        }
        if (packetInsSent !== punted) out.push(...(await settle(softswitchReactionMs)));
        return out;
      };
      return {
        kind: "softswitch",
        address: server.address,
        ...(metrics ? { metricsAddress: metrics.address } : {}),
        deviceId,
        ports,
        cpuPort: CPU_PORT,
        client: controller.client,
        pipeline: controller.pipeline,
        send: (port, frame) => sendFrames(port, [frame]),
        sendMany: sendFrames,
        async packetOut(payload, metadata) {
          controller.client.packetOut(Buffer.from(payload), metadata);
          return settle(softswitchQuietMs);
        },
        lateOutput: () => settle(softswitchQuietMs),
        packetIns: (expect = 0) => controller.packetIns.take(expect, softswitchQuietMs),
        digests: (expect = 0) => controller.digests.take(expect, softswitchQuietMs),
        async close() {
          controller.client.close();
          metrics?.server.close();
          await server.close();
          await device.close();
        },
      };
    } catch (error) {
      metrics?.server.close();
      await server.close();
      throw error;
    }
  },
};

const bmv2QuietMs = Number(process.env.DP_BMV2_QUIET_MS ?? 100);
/**
 * sendMany sends this many frames at a time and waits for their output to calm down before
 * the next ones, so bmv2's queues (64 packets per port) never overflow, even on a busy host.
 */
const bmv2Chunk = 16;
const bmv2ChunkQuietMs = 10;

interface AgentAnswer {
  out: { port: number; frame: string }[];
  stray: number;
}

const bmv2Factory: TargetFactory = {
  kind: "bmv2",
  skip: skipUnless("simple_switch_grpc"),
  async start(options: TargetOptions = {}): Promise<DataplaneTarget> {
    const ports = options.ports ?? defaultPorts;
    const deviceId = options.deviceId ?? 1;
    const netns = TestNamespace.create(ports);
    let sw: RunningSwitch | undefined;
    let agent: JsonLinesProcess | undefined;
    try {
      sw = await startBmv2({ netns, deviceId, logLevel: "warn" });
      const run = netns.exec(debianPython, [
        join(repoRoot, "test/support/port_agent.py"),
        ...ports.map((port) => `${port}=${netns.hostIface(port)}`),
      ]);
      agent = new JsonLinesProcess("port agent", run.command, run.args);
      await agent.request({ op: "hello" });
      const controller = await connectController(sw.address, deviceId, options);
      const running = sw;
      const portAgent = agent;
      const outputs = async (answer: Promise<AgentAnswer>): Promise<Output[]> => {
        const { out, stray } = await answer;
        if (stray > 0) {
          throw new Error(
            `bmv2: ${stray} frame(s) left the switch after the previous quiet period ` +
              `(${bmv2QuietMs} ms; raise DP_BMV2_QUIET_MS)`,
          );
        }
        return out.map((o) => ({ port: o.port, frame: Buffer.from(o.frame, "hex") }));
      };
      const sendFrames = (port: number, frames: Uint8Array[]) =>
        outputs(
          portAgent.request<AgentAnswer>({
            op: "send",
            port,
            frames: frames.map((f) => Buffer.from(f).toString("hex")),
            quiet_ms: bmv2QuietMs,
            chunk: bmv2Chunk,
            chunk_quiet_ms: bmv2ChunkQuietMs,
          }),
        );
      const listen = () =>
        outputs(portAgent.request<AgentAnswer>({ op: "listen", quiet_ms: bmv2QuietMs }));
      return {
        kind: "bmv2",
        address: running.address,
        deviceId,
        ports,
        cpuPort: CPU_PORT,
        client: controller.client,
        pipeline: controller.pipeline,
        send: (port, frame) => sendFrames(port, [frame]),
        sendMany: sendFrames,
        async packetOut(payload, metadata) {
          controller.client.packetOut(Buffer.from(payload), metadata);
          return listen();
        },
        lateOutput: listen,
        packetIns: (expect = 0) => controller.packetIns.take(expect, bmv2QuietMs),
        digests: (expect = 0) => controller.digests.take(expect, bmv2QuietMs),
        process: running,
        async close() {
          controller.client.close();
          await portAgent.close();
          await running.stop();
          netns.remove();
        },
      };
    } catch (error) {
      const log = sw?.log().slice(-2000) ?? "";
      await agent?.close();
      await sw?.stop();
      netns.remove();
      if (log && error instanceof Error) error.message += `\nbmv2 log:\n${log}`;
      throw error;
    }
  },
};

/** Every target, available or not; unavailable ones carry the reason they are skipped. */
export function targets(): TargetFactory[] {
  return [softswitchFactory, bmv2Factory];
}
