/**
 * Linux interfaces as switch ports through libpcap (npm `cap`), like bmv2's BMI ports
 * (`-i PORT@IFACE`): one handle per interface, promiscuous, immediate mode, non-blocking, read
 * from the event loop. A received frame goes to the device; frames the device sends leave on the
 * port's interface. With a capture directory, every frame in and out is written to
 * `<iface>_in.pcap` / `<iface>_out.pcap` there, the names bmv2's `--pcap DIR` uses.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { CaptureWriter } from "./capture.js";

/** The part of `cap`'s native handle used here (the package ships no types). */
interface CapHandle {
  open(device: string, filter: string, bufferSize: number, buffer: Buffer): string;
  on(event: "packet", listener: (nbytes: number, truncated: boolean) => void): void;
  send(buffer: Buffer, length?: number): void;
  close(): void;
}

const require = createRequire(import.meta.url);
const { Cap } = require("cap") as { Cap: new () => CapHandle };

/** Where received frames go: the device's `inject` (its return value is not needed here). */
export interface FrameSink {
  inject(port: number, frame: Uint8Array): unknown;
}

/** Logging the ports need (a pino logger fits). */
export interface PortLog {
  warn(fields: object, message: string): void;
}

export interface PortInterface {
  port: number;
  iface: string;
}

/** A port/interface mapping or an interface that cannot be used, naming it. */
export class PortError extends Error {
  constructor(
    readonly subject: string,
    reason: string,
  ) {
    super(`${subject}: ${reason}`);
    this.name = "PortError";
  }
}

/** Largest port number a v1model program can address (9-bit port fields). */
export const MAX_PORT = 511;
/** Linux IFNAMSIZ - 1. */
const MAX_IFACE_NAME = 15;

/** Parses bmv2's `PORT@IFACE` interface argument. */
export function parsePortInterface(text: string): PortInterface {
  const match = /^(\d+)@(.+)$/.exec(text);
  if (!match) throw new PortError(`interface "${text}"`, "expected PORT@IFACE, e.g. 1@veth0");
  const port = Number(match[1]);
  const iface = match[2] as string;
  if (port > MAX_PORT) {
    throw new PortError(`interface "${text}"`, `port ${port} is above ${MAX_PORT}`);
  }
  if (iface.length > MAX_IFACE_NAME || /[\s/]/.test(iface)) {
    throw new PortError(`interface "${text}"`, `"${iface}" is not a valid interface name`);
  }
  return { port, iface };
}

export interface PcapPortsOptions {
  interfaces: readonly PortInterface[];
  sink: FrameSink;
  /** Directory for per-interface captures (bmv2 `--pcap DIR`). */
  captureDir?: string;
  log?: PortLog;
  /** Kernel capture buffer per interface, bytes (pcap_set_buffer_size). */
  bufferSize?: number;
}

interface OpenPort {
  port: number;
  iface: string;
  handle: CapHandle;
  /** Reused receive buffer: `cap` copies each frame into it before the packet event. */
  buffer: Buffer;
  captureIn?: CaptureWriter;
  captureOut?: CaptureWriter;
}

/** Counters a user can read to see frames the ports could not handle. */
export interface PortStats {
  received: number;
  sent: number;
  /** Frames longer than the snap length: dropped like bmv2 does (caplen != len). */
  truncated: number;
  sendErrors: number;
}

/**
 * No capture filter, as bmv2: the kernel never loops a packet socket's own transmitted frames
 * back to that socket (dev_queue_xmit_nit skips the sender), so frames the switch sends are not
 * received again. Frames the host's own stack sends on a port interface are seen, as by bmv2:
 * switch ports should carry no addresses (Mininet's do not; disable IPv6 on them). libpcap's
 * "inbound" filter would drop those, but with libpcap 1.10 it loses the first frame received.
 */
const NO_FILTER = "";
const SNAPLEN_BUFFER = 65535;
const failedHandles: CapHandle[] = [];
const DEFAULT_BUFFER_SIZE = 8 * 1024 * 1024;

export class PcapPorts {
  private readonly ports = new Map<number, OpenPort>();
  private readonly stats = new Map<number, PortStats>();
  private closed = false;

  /** Opens every interface; on any failure closes what was opened and throws naming it. */
  constructor(private readonly options: PcapPortsOptions) {
    const seenPorts = new Set<number>();
    const seenIfaces = new Set<string>();
    for (const { port, iface } of options.interfaces) {
      if (seenPorts.has(port)) throw new PortError(`port ${port}`, "given more than once");
      if (seenIfaces.has(iface)) throw new PortError(`interface ${iface}`, "given more than once");
      seenPorts.add(port);
      seenIfaces.add(iface);
    }
    for (const { port, iface } of options.interfaces) {
      try {
        this.ports.set(port, this.open(port, iface));
      } catch (error) {
        this.closeAll();
        throw error;
      }
    }
  }

  private open(port: number, iface: string): OpenPort {
    if (!existsSync(`/sys/class/net/${iface}`)) {
      throw new PortError(`interface ${iface} (port ${port})`, "no such network interface");
    }
    const handle = new Cap();
    const buffer = Buffer.alloc(SNAPLEN_BUFFER);
    let linkType: string;
    try {
      linkType = handle.open(
        iface,
        NO_FILTER,
        this.options.bufferSize ?? DEFAULT_BUFFER_SIZE,
        buffer,
      );
    } catch (error) {
      // `cap` leaves a handle whose open failed half-initialised: closing it, or letting the
      // garbage collector finalise it, aborts the process (uv_poll_stop on a poll handle that
      // was never started). Keep it referenced and never close it.
      failedHandles.push(handle);
      throw new PortError(
        `interface ${iface} (port ${port})`,
        `cannot open with libpcap: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (linkType !== "ETHERNET") {
      handle.close();
      throw new PortError(
        `interface ${iface} (port ${port})`,
        `link type ${linkType}, not Ethernet`,
      );
    }
    const open: OpenPort = { port, iface, handle, buffer };
    const dir = this.options.captureDir;
    if (dir !== undefined) {
      try {
        open.captureIn = new CaptureWriter(join(dir, `${iface}_in.pcap`));
        open.captureOut = new CaptureWriter(join(dir, `${iface}_out.pcap`));
      } catch (error) {
        handle.close();
        open.captureIn?.close();
        throw error;
      }
    }
    const stats: PortStats = { received: 0, sent: 0, truncated: 0, sendErrors: 0 };
    this.stats.set(port, stats);
    handle.on("packet", (nbytes, truncated) => {
      if (truncated) {
        stats.truncated++;
        return;
      }
      stats.received++;
      // A copy: the receive buffer is overwritten by the next frame, and the pipeline may keep
      // references into its input (payload slices, clones) beyond this call.
      const frame = Uint8Array.prototype.slice.call(buffer, 0, nbytes);
      open.captureIn?.write(frame);
      this.options.sink.inject(port, frame);
    });
    return open;
  }

  /** Sends `frame` out of `port`'s interface; frames to ports with no interface are dropped. */
  send(port: number, frame: Uint8Array): void {
    const open = this.ports.get(port);
    if (!open || this.closed) return;
    open.captureOut?.write(frame);
    const stats = this.stats.get(port) as PortStats;
    try {
      const buffer = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
      open.handle.send(buffer, buffer.length);
      stats.sent++;
    } catch (error) {
      // A full socket buffer or a downed link loses this frame, as on a real port; the next one
      // may pass. Logged, not thrown, so one port cannot stop the switch.
      stats.sendErrors++;
      this.options.log?.warn(
        { port, iface: open.iface, err: error },
        `send on interface ${open.iface} failed`,
      );
    }
  }

  /** Per-port counters (undefined for a port with no interface). */
  portStats(port: number): Readonly<PortStats> | undefined {
    return this.stats.get(port);
  }

  /** The interfaces in use, by port. */
  get interfaces(): PortInterface[] {
    return [...this.ports.values()].map(({ port, iface }) => ({ port, iface }));
  }

  /** Closes every pcap handle and capture file. */
  async close(): Promise<void> {
    this.closeAll();
  }

  private closeAll(): void {
    this.closed = true;
    for (const open of this.ports.values()) {
      open.handle.close();
      open.captureIn?.close();
      open.captureOut?.close();
    }
    this.ports.clear();
  }
}
