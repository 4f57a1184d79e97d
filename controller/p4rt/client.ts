/**
 * A P4Runtime client for one device: connection (insecure, TLS, mutual TLS), arbitration on the
 * StreamChannel, pipeline config, batched writes with per-update errors, streamed reads and
 * packet I/O. It speaks plain protocol messages (the types generated from the vendored protos);
 * building entities by name from the P4Info is a layer above.
 */
import { EventEmitter } from "node:events";
import * as grpc from "@grpc/grpc-js";
import type { DigestList__Output } from "../../proto/gen/p4/v1/DigestList.js";
import type { Entity, Entity__Output } from "../../proto/gen/p4/v1/Entity.js";
import type { ForwardingPipelineConfig } from "../../proto/gen/p4/v1/ForwardingPipelineConfig.js";
import type { IdleTimeoutNotification__Output } from "../../proto/gen/p4/v1/IdleTimeoutNotification.js";
import type { P4RuntimeClient as GrpcP4RuntimeClient } from "../../proto/gen/p4/v1/P4Runtime.js";
import type { PacketIn__Output } from "../../proto/gen/p4/v1/PacketIn.js";
import type { PacketMetadata } from "../../proto/gen/p4/v1/PacketMetadata.js";
import type { SetForwardingPipelineConfigRequest } from "../../proto/gen/p4/v1/SetForwardingPipelineConfigRequest.js";
import type { StreamError__Output } from "../../proto/gen/p4/v1/StreamError.js";
import type { StreamMessageRequest } from "../../proto/gen/p4/v1/StreamMessageRequest.js";
import type { StreamMessageResponse__Output } from "../../proto/gen/p4/v1/StreamMessageResponse.js";
import type { Update } from "../../proto/gen/p4/v1/Update.js";
import { p4runtimeProto } from "../../proto/load.js";
import { fromUint128, toUint128 } from "../../proto/uint128.js";
import { NotPrimaryError, P4RuntimeRpcError, type UpdateFailure, WriteError } from "./errors.js";
import { diagnoseTls, type TlsOptions } from "./tls-diagnosis.js";
import { WriteRequestEncoder } from "./write-encoding.js";

export type { TlsOptions } from "./tls-diagnosis.js";

export interface ClientOptions {
  /** host:port of the switch's P4Runtime server. */
  address: string;
  deviceId: bigint | number;
  /** 128-bit election id; the highest among a role's clients is the primary. */
  electionId: bigint;
  /** P4Runtime role name; the default role when absent. */
  role?: string;
  tls?: TlsOptions;
  /** How long connect() waits for the switch to answer before failing. */
  connectTimeoutMs?: number;
  /** Reconnect with exponential backoff after the stream breaks (default on). */
  reconnect?: { initialDelayMs: number; maxDelayMs: number } | false;
  /** gRPC message size limit in both directions; full-table reads need it large. */
  maxMessageBytes?: number;
  keepaliveMs?: number;
  /**
   * Deadline of each unary call (Capabilities, pipeline config, each Write batch), ms; a call
   * past it fails with P4RuntimeTimeoutError instead of waiting forever on a silent switch.
   */
  callTimeoutMs?: number;
}

/** Default deadline of a unary call: far beyond any healthy answer (a 1,000-update batch). */
export const DEFAULT_CALL_TIMEOUT_MS = 60_000;

/** A unary call got no answer within its deadline (the switch is stuck or unreachable). */
export class P4RuntimeTimeoutError extends Error {
  override readonly name = "P4RuntimeTimeoutError";
  readonly code = grpc.status.DEADLINE_EXCEEDED;
  constructor(
    readonly rpc: string,
    readonly timeoutMs: number,
  ) {
    super(`${rpc} failed: no answer from the switch within its deadline of ${timeoutMs} ms`);
  }
}

export interface ArbitrationState {
  primary: boolean;
  /** The election id of the current primary as the switch reports it. */
  primaryElectionId: bigint;
}

export interface ClientEvents {
  arbitration: [ArbitrationState];
  connected: [];
  disconnected: [reason: string];
  "packet-in": [PacketIn__Output];
  digest: [DigestList__Output];
  "idle-timeout": [IdleTimeoutNotification__Output];
  "stream-error": [StreamError__Output];
}

const defaultMaxMessageBytes = 256 * 1024 * 1024;

type StreamCall = grpc.ClientDuplexStream<StreamMessageRequest, StreamMessageResponse__Output>;

export class P4RuntimeClient extends EventEmitter<ClientEvents> {
  readonly options: ClientOptions;
  private readonly stub: GrpcP4RuntimeClient;
  private writeEncoder: WriteRequestEncoder;
  private stream: StreamCall | undefined;
  private state: ArbitrationState = { primary: false, primaryElectionId: 0n };
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(options: ClientOptions) {
    super();
    this.options = options;
    const maxBytes = options.maxMessageBytes ?? defaultMaxMessageBytes;
    const channelOptions: grpc.ChannelOptions = {
      "grpc.max_receive_message_length": maxBytes,
      "grpc.max_send_message_length": maxBytes,
      ...(options.keepaliveMs ? { "grpc.keepalive_time_ms": options.keepaliveMs } : {}),
    };
    this.writeEncoder = new WriteRequestEncoder({
      deviceId: BigInt(options.deviceId),
      electionId: options.electionId,
      ...(options.role ? { role: options.role } : {}),
    });
    const Stub = p4runtimeProto().p4.v1.P4Runtime;
    this.stub = new Stub(options.address, credentialsFor(options.tls), channelOptions);
  }

  /**
   * Takes part in the election with another id from now on: the next requests carry it, and a
   * connected stream sends a new arbitration update (P4Runtime lets a client change its id on
   * its stream). A controller cluster raises the id of its new leader this way, and lowers a
   * deposed leader's, so the switch itself refuses whoever is not the current leader.
   */
  setElectionId(electionId: bigint): void {
    if (electionId === this.options.electionId) return;
    this.options.electionId = electionId;
    this.writeEncoder = new WriteRequestEncoder({
      deviceId: BigInt(this.options.deviceId),
      electionId,
      ...(this.options.role ? { role: this.options.role } : {}),
    });
    this.stream?.write(this.arbitrationRequest());
  }

  get isPrimary(): boolean {
    return this.state.primary;
  }

  get arbitration(): ArbitrationState {
    return { ...this.state };
  }

  /**
   * Opens the StreamChannel and sends the arbitration request; resolves with the first
   * arbitration answer (primary or backup). Later answers arrive as `arbitration` events.
   */
  async connect(): Promise<ArbitrationState> {
    this.closed = false;
    const deadline = Date.now() + (this.options.connectTimeoutMs ?? 10_000);
    const failure = await new Promise<Error | undefined>((resolve) =>
      this.stub.waitForReady(deadline, (error) => resolve(error)),
    );
    if (failure) {
      // gRPC says only "Failed to connect before the deadline": name the TLS check that failed.
      const tlsProblem = this.options.tls
        ? await diagnoseTls(this.options.address, this.options.tls)
        : undefined;
      throw new P4RuntimeRpcError(
        "connect",
        grpc.status.UNAVAILABLE,
        `${this.options.address}: ${tlsProblem ? `TLS: ${tlsProblem}` : failure.message}`,
      );
    }
    return this.openStream();
  }

  private openStream(): Promise<ArbitrationState> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const stream = this.stub.StreamChannel();
      this.stream = stream;
      stream.on("data", (message: StreamMessageResponse__Output) => {
        if (message.update === "arbitration" && message.arbitration) {
          this.state = {
            primary: (message.arbitration.status?.code ?? 0) === grpc.status.OK,
            primaryElectionId: fromUint128(message.arbitration.election_id),
          };
          this.emit("arbitration", { ...this.state });
          if (!settled) {
            settled = true;
            this.emit("connected");
            resolve({ ...this.state });
          }
        } else if (message.update === "packet" && message.packet) {
          this.emit("packet-in", message.packet);
        } else if (message.update === "digest" && message.digest) {
          this.emit("digest", message.digest);
        } else if (
          message.update === "idle_timeout_notification" &&
          message.idle_timeout_notification
        ) {
          this.emit("idle-timeout", message.idle_timeout_notification);
        } else if (message.update === "error" && message.error) {
          this.emit("stream-error", message.error);
        }
      });
      const onEnd = (reason: string, error?: grpc.ServiceError) => {
        if (this.stream !== stream) return;
        this.stream = undefined;
        this.state = { primary: false, primaryElectionId: this.state.primaryElectionId };
        if (!settled) {
          settled = true;
          reject(
            new P4RuntimeRpcError("StreamChannel", error?.code ?? grpc.status.UNAVAILABLE, reason),
          );
          return;
        }
        this.emit("disconnected", reason);
        this.scheduleReconnect(
          this.options.reconnect === false
            ? undefined
            : (this.options.reconnect?.initialDelayMs ?? 100),
        );
      };
      stream.on("error", (error: grpc.ServiceError) =>
        onEnd(error.details || error.message, error),
      );
      stream.on("end", () => onEnd("stream closed by the switch"));
      stream.write(this.arbitrationRequest());
    });
  }

  private scheduleReconnect(delayMs: number | undefined): void {
    if (this.closed || delayMs === undefined) return;
    const maxDelay = this.options.reconnect ? this.options.reconnect.maxDelayMs : 5_000;
    this.reconnectTimer = setTimeout(() => {
      this.openStream().catch(() => this.scheduleReconnect(Math.min(delayMs * 2, maxDelay)));
    }, delayMs);
  }

  private arbitrationRequest(): StreamMessageRequest {
    return {
      arbitration: {
        device_id: this.options.deviceId.toString(),
        election_id: toUint128(this.options.electionId),
        ...(this.options.role ? { role: { name: this.options.role } } : {}),
      },
    };
  }

  private requestHeader() {
    return {
      device_id: this.options.deviceId.toString(),
      election_id: toUint128(this.options.electionId),
      ...(this.options.role ? { role: this.options.role } : {}),
    };
  }

  /** Call options of one unary call: its deadline. */
  private unaryOptions(): grpc.CallOptions {
    return { deadline: Date.now() + this.callTimeoutMs };
  }

  private get callTimeoutMs(): number {
    return this.options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  }

  /** The typed error of a failed unary call: a timeout, or the switch's status. */
  private unaryError(
    rpc: string,
    error: grpc.ServiceError,
  ): P4RuntimeRpcError | P4RuntimeTimeoutError {
    return error.code === grpc.status.DEADLINE_EXCEEDED
      ? new P4RuntimeTimeoutError(rpc, this.callTimeoutMs)
      : rpcError(rpc, error);
  }

  private requirePrimary(operation: string): void {
    if (!this.state.primary) throw new NotPrimaryError(operation);
  }

  /** The P4Runtime API version the switch implements. */
  capabilities(): Promise<string> {
    return new Promise((resolve, reject) =>
      this.stub.Capabilities({}, this.unaryOptions(), (error, response) =>
        error
          ? reject(this.unaryError("Capabilities", error))
          : resolve(response?.p4runtime_api_version ?? ""),
      ),
    );
  }

  /** Pushes a pipeline (P4Info + target config) with its cookie; only the primary may. */
  setPipeline(
    config: ForwardingPipelineConfig,
    action: SetForwardingPipelineConfigRequest["action"] = "VERIFY_AND_COMMIT",
  ): Promise<void> {
    this.requirePrimary("SetForwardingPipelineConfig");
    return new Promise((resolve, reject) =>
      this.stub.SetForwardingPipelineConfig(
        { ...this.requestHeader(), action, config },
        this.unaryOptions(),
        (error) =>
          error ? reject(this.unaryError("SetForwardingPipelineConfig", error)) : resolve(),
      ),
    );
  }

  /** The cookie of the installed pipeline, or undefined when the switch has none. */
  pipelineCookie(): Promise<bigint | undefined> {
    return new Promise((resolve, reject) =>
      this.stub.GetForwardingPipelineConfig(
        { device_id: this.options.deviceId.toString(), response_type: "COOKIE_ONLY" },
        this.unaryOptions(),
        (error, response) => {
          if (error) {
            // PI answers FAILED_PRECONDITION when no pipeline has been set yet.
            if (error.code === grpc.status.FAILED_PRECONDITION) resolve(undefined);
            else reject(this.unaryError("GetForwardingPipelineConfig", error));
            return;
          }
          const cookie = response?.config?.cookie?.cookie;
          resolve(cookie === undefined ? undefined : BigInt(cookie));
        },
      ),
    );
  }

  /**
   * Writes updates in batches (CONTINUE_ON_ERROR): every good update applies, and the failures
   * come back together as one WriteError whose entries point at the caller's updates.
   * Batches go one at a time, in order (a later batch may depend on an earlier one), but the
   * next batch is taken from `updates` and encoded while the switch works on the previous one:
   * a generator of updates is built lazily and overlaps with the switch's work. If the
   * generator throws, the batches already sent stand and its error is rethrown.
   */
  async write(updates: Iterable<Update>, options: { batchSize?: number } = {}): Promise<void> {
    this.requirePrimary("Write");
    const batchSize = options.batchSize ?? 1000;
    const failures: UpdateFailure[] = [];
    let attempted = 0;
    let inFlight: Promise<void> | undefined;
    try {
      for (const batch of batches(updates, batchSize)) {
        const start = attempted;
        attempted += batch.length;
        const request = this.writeEncoder.encode(batch);
        await inFlight;
        inFlight = this.sendWrite(request).then((error) => {
          if (!error) return;
          const perUpdate = decodeWriteErrorDetails(error);
          if (!perUpdate) throw this.unaryError("Write", error);
          perUpdate.forEach((detail, i) => {
            const update = batch[i];
            if (detail.code !== grpc.status.OK && update) {
              failures.push({
                index: start + i,
                update,
                code: detail.code,
                message: detail.message,
              });
            }
          });
        });
        // Marked as handled here (awaited above on the next round or below): it may fail
        // while the next batch is built.
        inFlight.catch(() => {});
        // grpc-js puts the request on the socket only on a later turn of the event loop:
        // without this, building the next batch would hold it back and the switch would sit
        // idle instead of working while the client builds.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } catch (error) {
      // An update that cannot be built (a generator threw): the batches already sent stand.
      await inFlight?.catch(() => {});
      throw error;
    }
    await inFlight;
    if (failures.length > 0) throw new WriteError(failures, attempted);
  }

  /** One Write RPC with an already encoded request; resolves with its error, if any. */
  private sendWrite(request: Buffer): Promise<grpc.ServiceError | null> {
    return new Promise((resolve) =>
      this.stub.makeUnaryRequest(
        "/p4.v1.P4Runtime/Write",
        (encoded: Buffer) => encoded,
        (response: Buffer) => response,
        request,
        this.unaryOptions(),
        (error) => resolve(error),
      ),
    );
  }

  /** Streams the entities matching the given (possibly wildcard) entities. */
  async *read(entities: Entity[]): AsyncGenerator<Entity__Output> {
    const call = this.stub.Read({ device_id: this.options.deviceId.toString(), entities });
    try {
      for await (const response of call) {
        yield* (response as { entities: Entity__Output[] }).entities;
      }
    } catch (error) {
      throw rpcError("Read", error as grpc.ServiceError);
    }
  }

  async readAll(entities: Entity[]): Promise<Entity__Output[]> {
    const all: Entity__Output[] = [];
    for await (const entity of this.read(entities)) all.push(entity);
    return all;
  }

  /** Sends a packet to the switch's CPU port with its controller metadata. */
  packetOut(payload: Buffer, metadata: PacketMetadata[]): void {
    this.requirePrimary("PacketOut");
    if (!this.stream)
      throw new P4RuntimeRpcError("PacketOut", grpc.status.UNAVAILABLE, "not connected");
    this.stream.write({ packet: { payload, metadata } });
  }

  /** Acknowledges a digest list so the switch may send the same samples again later. */
  ackDigest(digestId: number, listId: string): void {
    this.stream?.write({ digest_ack: { digest_id: digestId, list_id: listId } });
  }

  /** Ends the stream and the channel; no reconnect follows. */
  close(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const stream = this.stream;
    this.stream = undefined;
    stream?.end();
    stream?.cancel();
    this.stub.close();
  }
}

/** Consecutive slices of at most `size` updates, taken lazily from any iterable. */
function* batches(updates: Iterable<Update>, size: number): Generator<Update[]> {
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`batch size must be a positive integer, got ${size}`);
  }
  let batch: Update[] = [];
  for (const update of updates) {
    batch.push(update);
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

function credentialsFor(tls: TlsOptions | undefined): grpc.ChannelCredentials {
  if (!tls) return grpc.credentials.createInsecure();
  if (Boolean(tls.privateKey) !== Boolean(tls.certChain)) {
    throw new TypeError("mutual TLS needs both privateKey and certChain");
  }
  return grpc.credentials.createSsl(
    tls.rootCert ?? null,
    tls.privateKey ?? null,
    tls.certChain ?? null,
  );
}

function rpcError(rpc: string, error: grpc.ServiceError): P4RuntimeRpcError {
  return new P4RuntimeRpcError(
    rpc,
    error.code ?? grpc.status.UNKNOWN,
    error.details || error.message,
  );
}

/**
 * PI reports per-update results of a failed Write as a google.rpc.Status in the
 * `grpc-status-details-bin` trailer whose details are one p4.v1.Error per update, in order.
 * Returns undefined when the error carries no such details (the RPC failed as a whole).
 */
export function decodeWriteErrorDetails(
  error: grpc.ServiceError,
): { code: number; message: string }[] | undefined {
  const raw = error.metadata?.get("grpc-status-details-bin")[0];
  if (!(raw instanceof Buffer)) return undefined;
  const proto = p4runtimeProto();
  const status = proto.google.rpc.Status.deserialize(raw);
  if (status.details.length === 0) return undefined;
  return status.details.map((any) => {
    if (!any.type_url.endsWith("/p4.v1.Error")) {
      return { code: grpc.status.UNKNOWN, message: `unexpected detail ${any.type_url}` };
    }
    const detail = proto.p4.v1.Error.deserialize(any.value);
    return { code: detail.canonical_code, message: detail.message };
  });
}
