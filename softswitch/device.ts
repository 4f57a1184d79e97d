/**
 * One softswitch device, what simple_switch_grpc is for bmv2: the running program (a
 * SimpleSwitch, replaced by SetForwardingPipelineConfig or given on the command line), the CPU
 * port that links the data plane to the controller, the port backend that carries frames to and
 * from the outside (libpcap, or nothing in tests), and the P4Runtime view of the device
 * (`p4runtime`, PI's DeviceMgr). Frames that leave on the CPU port become PacketIns; PacketOuts
 * enter the pipeline on the CPU port, as in bmv2's PI target.
 */
import { EventEmitter } from "node:events";
import type { StreamMessageResponse } from "../proto/gen/p4/v1/StreamMessageResponse.js";
import type { MicrosClock } from "./core/meters.js";
import { DeviceManager } from "./p4runtime/device-manager.js";
import { Code, describeError, P4RuntimeError } from "./p4runtime/errors.js";
import type { P4RuntimeTarget } from "./p4runtime/target.js";
import { type OutputPacket, SimpleSwitch } from "./v1model/switch.js";

/** Where frames leaving data ports go (and, for real ports, where received ones come from). */
export interface PortBackend {
  send(port: number, frame: Uint8Array): void;
  close?(): Promise<void>;
}

export interface DeviceOptions {
  /** P4Runtime device id (simple_switch_grpc --device-id; default 0). */
  deviceId?: bigint | number;
  /** Port connected to the controller (--cpu-port); none when absent, as bmv2's default 0. */
  cpuPort?: number;
  /** bmv2 --drop-port (default 511). */
  dropPort?: number;
  /** Microsecond clock for meters and timestamps (tests inject one). */
  clock?: MicrosClock;
  /** log_msg output and faults inside the pipeline. */
  log?: (message: string) => void;
  /** Refused P4Runtime requests with what PI's message leaves out (which table, which id). */
  p4runtimeLog?: (message: string) => void;
}

export interface DeviceEvents {
  /** A message for the primary controller(s): packet-in, digest list, idle-timeout notice. */
  stream: [StreamMessageResponse];
  /** The data plane now runs another program. */
  pipeline: [];
}

export class SoftswitchDevice extends EventEmitter<DeviceEvents> implements P4RuntimeTarget {
  readonly deviceId: bigint;
  readonly cpuPort: number | undefined;
  readonly dropPort: number;
  readonly p4runtime: DeviceManager;
  private current: SimpleSwitch | undefined;
  private backend: PortBackend | undefined;
  private readonly options: DeviceOptions;

  constructor(options: DeviceOptions = {}) {
    super();
    this.options = options;
    this.deviceId = BigInt(options.deviceId ?? 0);
    this.cpuPort = options.cpuPort || undefined;
    this.dropPort = options.dropPort ?? 511;
    this.p4runtime = new DeviceManager(this);
  }

  /** Logs a refused request's detail (its answer carries PI's message alone). */
  logRefusal(error: P4RuntimeError): void {
    this.options.p4runtimeLog?.(describeError(error));
  }

  /** The program the data plane runs, if any. */
  get switch(): SimpleSwitch | undefined {
    return this.current;
  }

  /** Compiles a bmv2 JSON program with this device's options (throws ProgramError). */
  createSwitch(json: string): SimpleSwitch {
    const log = this.options.log;
    return new SimpleSwitch(json, {
      dropPort: this.dropPort,
      ...(this.options.clock ? { clock: this.options.clock } : {}),
      ...(log
        ? {
            log,
            onFault: (error, port) =>
              log(
                `packet from port ${port} dropped: ${error instanceof Error ? error.message : error}`,
              ),
          }
        : {}),
    });
  }

  /**
   * Runs the program given on the command line (simple_switch_grpc's JSON argument): the data
   * plane forwards at once; P4Runtime sees no pipeline until a controller sets one with its
   * P4Info, as with bmv2.
   */
  loadJson(json: string): void {
    this.install(this.createSwitch(json));
  }

  /** Makes `sw` the running program (P4Runtime's commit). */
  install(sw: SimpleSwitch): void {
    this.current = sw;
    this.emit("pipeline");
  }

  attach(backend: PortBackend): void {
    this.backend = backend;
  }

  /**
   * A frame received on data port `port`: runs it through the program, sends what leaves on
   * data ports to the backend and returns it; what leaves on the CPU port goes to the
   * controller as a PacketIn. Without a program every frame is dropped.
   */
  inject(port: number, frame: Uint8Array): OutputPacket[] {
    const sw = this.current;
    if (!sw) return [];
    const all = sw.process(port, frame);
    // Usually nothing goes to the CPU port: the switch's own list is returned as it is.
    const out = all.some((packet) => packet.port === this.cpuPort) ? [] : all;
    for (const packet of all) {
      if (packet.port === this.cpuPort) {
        this.p4runtime.packetIn(packet.frame);
        continue;
      }
      this.backend?.send(packet.port, packet.frame);
      if (out !== all) out.push(packet);
    }
    return out;
  }

  /** A frame from the controller, entering the pipeline on the CPU port (PacketOut). */
  packetOut(frame: Uint8Array): OutputPacket[] {
    if (this.cpuPort === undefined) {
      throw new P4RuntimeError(
        Code.UNKNOWN,
        "Unknown error when target sending packet-out: the switch has no CPU port (--cpu-port)",
      );
    }
    return this.inject(this.cpuPort, frame);
  }

  async close(): Promise<void> {
    this.p4runtime.close();
    await this.backend?.close?.();
    this.backend = undefined;
  }
}
