/**
 * What the P4Runtime layer needs of the device it serves (PI's target interface): the softswitch's
 * SoftswitchDevice (../device.ts) implements it, one layer up, so P4Runtime never imports the
 * device that holds it.
 */
import type { StreamMessageResponse } from "../../proto/gen/p4/v1/StreamMessageResponse.js";
import type { SimpleSwitch } from "../v1model/switch.js";
import type { P4RuntimeError } from "./errors.js";

/** Where stream messages for the primary controller(s) go: packet-in, digests, idle-timeouts. */
export type StreamSink = (message: StreamMessageResponse) => void;

/** The device as the DeviceManager drives it. */
export interface P4RuntimeTarget {
  /** Compiles a bmv2 JSON program with the device's options (throws ProgramError). */
  createSwitch(json: string): SimpleSwitch;
  /** Makes `sw` the running program (P4Runtime's commit). */
  install(sw: SimpleSwitch): void;
  /** A frame from the controller, entering the pipeline on the CPU port. */
  packetOut(frame: Uint8Array): unknown;
  /** A stream message for the primary controller(s). */
  emit(event: "stream", message: StreamMessageResponse): boolean;
  /** Logs a refused request's detail (its answer carries PI's message alone). */
  logRefusal(error: P4RuntimeError): void;
}
