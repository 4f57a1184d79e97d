/**
 * Everything P4Runtime does to one device, whatever the transport (PI's DeviceMgr): the
 * forwarding pipeline config (verify, save, commit, reconcile), writes, reads, and the stream
 * traffic that is not arbitration (packet-out, digest acks). The gRPC server (server.ts) checks
 * who may call; this class checks what is asked.
 */
import type { Entity, Entity__Output } from "../../proto/gen/p4/v1/Entity.js";
import type {
  ForwardingPipelineConfig,
  ForwardingPipelineConfig__Output,
} from "../../proto/gen/p4/v1/ForwardingPipelineConfig.js";
import type { GetForwardingPipelineConfigRequest__Output } from "../../proto/gen/p4/v1/GetForwardingPipelineConfigRequest.js";
import type { SetForwardingPipelineConfigRequest__Output } from "../../proto/gen/p4/v1/SetForwardingPipelineConfigRequest.js";
import type { StreamMessageRequest__Output } from "../../proto/gen/p4/v1/StreamMessageRequest.js";
import type { Update__Output } from "../../proto/gen/p4/v1/Update.js";
import type { WriteRequest__Output } from "../../proto/gen/p4/v1/WriteRequest.js";
import { p4runtimeProto } from "../../proto/load.js";
import { ProgramError } from "../program/errors.js";
import { asP4RuntimeError, Code, invalidArgument, P4RuntimeError } from "./errors.js";
import { PipelineModel } from "./pipeline-model.js";
import { PipelineState } from "./pipeline-state.js";
import type { P4RuntimeTarget } from "./target.js";
import { checkReportable, type WriteOutcome, writeStatus } from "./write-status.js";

export type PipelineAction = SetForwardingPipelineConfigRequest__Output["action"];
export type ResponseType = GetForwardingPipelineConfigRequest__Output["response_type"];

export class DeviceManager {
  /** The pipeline P4Runtime requests act on: the last one saved or committed. */
  private state: PipelineState | undefined;
  /** Saved by VERIFY_AND_SAVE, not yet running in the data plane (COMMIT does that). */
  private uncommitted = false;

  constructor(private readonly device: P4RuntimeTarget) {}

  get hasPipeline(): boolean {
    return this.state !== undefined;
  }

  /** The current pipeline state; FAILED_PRECONDITION (PI's words) when none was set. */
  pipeline(): PipelineState {
    if (!this.state) {
      throw new P4RuntimeError(
        Code.FAILED_PRECONDITION,
        "No forwarding pipeline config set for this device",
      );
    }
    return this.state;
  }

  setPipelineConfig(action: PipelineAction, config: ForwardingPipelineConfig__Output | null): void {
    if (action === "COMMIT") {
      if (!this.state || !this.uncommitted) {
        throw new P4RuntimeError(
          Code.FAILED_PRECONDITION,
          "COMMIT needs a config saved by VERIFY_AND_SAVE first",
        );
      }
      this.device.install(this.state.model.sw);
      this.uncommitted = false;
      return;
    }
    if (
      action !== "VERIFY" &&
      action !== "VERIFY_AND_SAVE" &&
      action !== "VERIFY_AND_COMMIT" &&
      action !== "RECONCILE_AND_COMMIT"
    ) {
      throw invalidArgument("Invalid SetForwardingPipeline action");
    }
    const next = this.verify(config);
    if (action === "VERIFY") return;
    if (action === "RECONCILE_AND_COMMIT" && this.state) this.reconcile(this.state, next);
    this.state?.close();
    this.state = next;
    if (action === "VERIFY_AND_SAVE") {
      this.uncommitted = true;
      return;
    }
    this.uncommitted = false;
    this.device.install(next.model.sw);
  }

  getPipelineConfig(responseType: ResponseType): ForwardingPipelineConfig {
    const state = this.pipeline();
    const { p4info, deviceConfig, cookie } = state.config;
    const withCookie = cookie === undefined ? {} : { cookie: { cookie } };
    switch (responseType) {
      case "ALL":
        return { p4info, p4_device_config: deviceConfig, ...withCookie };
      case "COOKIE_ONLY":
        return withCookie;
      case "P4INFO_AND_COOKIE":
        return { p4info, ...withCookie };
      case "DEVICE_CONFIG_AND_COOKIE":
        return { p4_device_config: deviceConfig, ...withCookie };
      default:
        throw invalidArgument("Invalid response_type in GetForwardingPipelineConfigRequest");
    }
  }

  /** Applies each update on its own (CONTINUE_ON_ERROR, the only mode PI implements). */
  write(request: WriteRequest__Output): WriteOutcome {
    const state = this.pipeline();
    if (request.atomicity !== "CONTINUE_ON_ERROR") {
      return {
        code: Code.UNIMPLEMENTED,
        details: "Support for atomic write modes has not been implemented yet",
      };
    }
    checkReportable(request.updates.length);
    return writeStatus(request.updates.map((u) => this.tryUpdate(state, u)));
  }

  /** The entities matching each requested (possibly wildcard) entity, in request order. */
  /**
   * The entities a ReadRequest returns. Every part of the request is checked first (an invalid
   * one fails the read before anything is sent); table entries are built as they are taken.
   */
  read(entities: Entity__Output[]): Iterable<Entity> {
    const state = this.pipeline();
    const parts = entities.map((entity) => state.read(entity));
    return (function* () {
      for (const part of parts) yield* part;
    })();
  }

  /** Packet-out and digest acks from the primary; errors go back to the sender's stream. */
  handleStreamMessage(message: StreamMessageRequest__Output): void {
    if (!this.state) return;
    if (message.update === "packet" && message.packet) {
      this.device.packetOut(this.state.packetOutFrame(message.packet));
    } else if (message.update === "digest_ack" && message.digest_ack) {
      this.state.ackDigest(message.digest_ack);
    }
  }

  /** Stops the pipeline's timers (digest and idle-timeout sweeps): the device is closing. */
  close(): void {
    this.state?.close();
  }

  /** A frame the data plane sent to the CPU port, as the PacketIn for the primary. */
  packetIn(frame: Uint8Array): void {
    const packet = this.state?.packetIn(frame);
    if (packet) this.device.emit("stream", { packet });
  }

  private tryUpdate(state: PipelineState, update: Update__Output): P4RuntimeError | undefined {
    try {
      state.apply(update);
      return undefined;
    } catch (error) {
      const refused = asP4RuntimeError(error);
      if (refused.detail) this.device.logRefusal(refused);
      return refused;
    }
  }

  /** Loads the device config and joins the P4Info to it; nothing changes if either is bad. */
  private verify(config: ForwardingPipelineConfig__Output | null): PipelineState {
    if (!config?.p4info) throw invalidArgument("Error when importing p4info", "no p4info given");
    const deviceConfig = config.p4_device_config;
    let sw: ReturnType<P4RuntimeTarget["createSwitch"]>;
    try {
      sw = this.device.createSwitch(deviceConfig.toString("utf8"));
    } catch (error) {
      if (error instanceof ProgramError || error instanceof SyntaxError) {
        throw invalidArgument(`Invalid p4_device_config (bmv2 JSON): ${error.message}`);
      }
      throw error;
    }
    const model = new PipelineModel(config.p4info, sw);
    return new PipelineState(
      model,
      {
        p4info: config.p4info,
        deviceConfig,
        cookie: config.cookie ? config.cookie.cookie : undefined,
      },
      (message) => this.device.emit("stream", message),
    );
  }

  /**
   * RECONCILE_AND_COMMIT: the forwarding state of the old pipeline is replayed into the new one
   * (PI reads it and writes it back); P4Runtime ids that still exist and still validate keep
   * their state. If any of it does not fit the new pipeline the whole request fails and the old
   * pipeline stays in place, rather than committing half the state as PI would.
   */
  private reconcile(from: PipelineState, to: PipelineState): void {
    for (const update of from.exportState()) {
      try {
        to.apply(roundTrip(update));
      } catch (error) {
        const e = asP4RuntimeError(error);
        throw new P4RuntimeError(
          Code.FAILED_PRECONDITION,
          "Error when reconciling config",
          `existing state does not fit the new pipeline: ${e.message}`,
        );
      }
    }
  }
}

/** An update as the server would have received it (defaults filled, oneof markers set). */
function roundTrip(update: { type: "INSERT" | "MODIFY"; entity: Entity }): Update__Output {
  const Update = p4runtimeProto().p4.v1.Update;
  return Update.deserialize(Update.serialize(update));
}
