/**
 * In-process ports for tests and benches: inject a frame on a port, get what leaves which port,
 * either as the return value or through listeners (per port or for all).
 */
import type { OutputPacket, SimpleSwitch } from "../v1model/switch.js";

export type OutputListener = (packet: OutputPacket) => void;

export class InProcessPorts {
  private readonly listeners: OutputListener[] = [];
  private readonly portListeners = new Map<number, OutputListener[]>();

  constructor(readonly sw: SimpleSwitch) {}

  /** Sends `frame` into the switch on `port`; returns the frames that leave, in order. */
  inject(port: number, frame: Uint8Array): OutputPacket[] {
    const out = this.sw.process(port, frame);
    for (const packet of out) {
      for (const l of this.listeners) l(packet);
      for (const l of this.portListeners.get(packet.port) ?? []) l(packet);
    }
    return out;
  }

  /** Listens to every output, or to one port's when `port` is given. */
  onOutput(listener: OutputListener, port?: number): void {
    if (port === undefined) {
      this.listeners.push(listener);
      return;
    }
    const list = this.portListeners.get(port) ?? [];
    list.push(listener);
    this.portListeners.set(port, list);
  }
}
