/**
 * The P4Runtime gRPC service of a softswitch device (grpc-js, the vendored v1.5.0 protos), with
 * simple_switch_grpc's (PI's) access rules: Write and SetForwardingPipelineConfig only from the
 * primary of the request's role (PERMISSION_DENIED "Not primary"), Read and
 * GetForwardingPipelineConfig from anyone, FAILED_PRECONDITION until a pipeline is set. Packet-ins,
 * digests and idle-timeout notices go to the primaries; packet-outs and digest acks are taken
 * from primaries only. Listens on loopback unless told otherwise; TLS, and mutual TLS when a CA
 * is given to check client certificates.
 */
import * as grpc from "@grpc/grpc-js";
import type { CapabilitiesResponse } from "../../proto/gen/p4/v1/CapabilitiesResponse.js";
import type { Entity } from "../../proto/gen/p4/v1/Entity.js";
import type { P4RuntimeHandlers } from "../../proto/gen/p4/v1/P4Runtime.js";
import type { ReadResponse } from "../../proto/gen/p4/v1/ReadResponse.js";
import type { StreamMessageRequest__Output } from "../../proto/gen/p4/v1/StreamMessageRequest.js";
import type { StreamMessageResponse } from "../../proto/gen/p4/v1/StreamMessageResponse.js";
import { p4runtimeProto } from "../../proto/load.js";
import { Arbitration, type StreamPeer } from "./arbitration.js";
import type { DeviceManager } from "./device-manager.js";
import { asP4RuntimeError, Code, P4RuntimeError } from "./errors.js";
import type { StreamSink } from "./target.js";
import { decodeWriteRequest } from "./write-decoding.js";
import { ERROR_SPACE } from "./write-status.js";

/** The P4Runtime release of the vendored protos this server implements. */
export const P4RUNTIME_API_VERSION = "1.5.0";

export interface ServerTlsOptions {
  /** Server certificate chain and private key (PEM). */
  certChain: Buffer;
  privateKey: Buffer;
  /** CA (PEM) that signs client certificates: given, clients must present one (mutual TLS). */
  clientCa?: Buffer;
}

export interface P4RuntimeServerOptions {
  device: ServedDevice;
  /** host:port or unix:path; default 127.0.0.1:9559. Port 0 picks a free port. */
  address?: string;
  tls?: ServerTlsOptions;
  /** Entities per ReadResponse message (default 1000). */
  readBatchSize?: number;
}

export interface RunningP4RuntimeServer {
  /** The bound host:port (the real port when 0 was asked). */
  address: string;
  close(): Promise<void>;
}

/** PI's gRPC message size limit (256 MB), so full-table writes and reads fit. */
const maxMessageBytes = 256 * 1024 * 1024;

function credentials(tls: ServerTlsOptions | undefined): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(
    tls.clientCa ?? null,
    [{ private_key: tls.privateKey, cert_chain: tls.certChain }],
    tls.clientCa !== undefined,
  );
}

/** The device as the gRPC server serves it: its id, its DeviceManager and its stream. */
export interface ServedDevice {
  readonly deviceId: bigint;
  readonly p4runtime: DeviceManager;
  on(event: "stream", listener: StreamSink): unknown;
  off(event: "stream", listener: StreamSink): unknown;
  logRefusal(error: P4RuntimeError): void;
}

/**
 * Writes one response of a stream, then yields: at the reader's pace when it is behind.
 * Resolves false once the reader has gone (cancelled): nothing more is to be sent.
 */
function send(
  call: grpc.ServerWritableStream<unknown, ReadResponse>,
  response: ReadResponse,
): Promise<boolean> {
  if (call.cancelled) return Promise.resolve(false);
  if (call.write(response)) {
    return new Promise((resolve) => setImmediate(() => resolve(!call.cancelled)));
  }
  return new Promise((resolve) => {
    const done = (open: boolean) => () => {
      call.off("drain", drained);
      call.off("cancelled", cancelled);
      resolve(open);
    };
    const drained = done(true);
    const cancelled = done(false);
    call.once("drain", drained);
    call.once("cancelled", cancelled);
  });
}

/** The status of a refused request; its detail (beyond PI's message) goes to the log. */
function statusOf(device: ServedDevice, error: unknown): Partial<grpc.StatusObject> {
  const e = asP4RuntimeError(error);
  if (e.detail) device.logRefusal(e);
  return { code: e.code, details: e.message };
}

export async function startP4RuntimeServer(
  options: P4RuntimeServerOptions,
): Promise<RunningP4RuntimeServer> {
  const { device } = options;
  const manager = device.p4runtime;
  const arbitration = new Arbitration(device.deviceId);
  const batchSize = options.readBatchSize ?? 1000;

  const checkDevice = (deviceId: string) => {
    if (BigInt(deviceId) !== device.deviceId) {
      throw new P4RuntimeError(
        Code.NOT_FOUND,
        `Invalid device id ${deviceId}: this switch is device ${device.deviceId}`,
      );
    }
  };

  /** Open StreamChannels, ended when the server closes so shutdown does not wait for clients. */
  const streams = new Set<
    grpc.ServerDuplexStream<StreamMessageRequest__Output, StreamMessageResponse>
  >();
  const toPrimaries = (message: StreamMessageResponse) => {
    for (const peer of arbitration.primaries()) peer.send(message);
  };
  device.on("stream", toPrimaries);

  const handlers: P4RuntimeHandlers = {
    Capabilities(_call, callback) {
      const response: CapabilitiesResponse = { p4runtime_api_version: P4RUNTIME_API_VERSION };
      callback(null, response);
    },

    SetForwardingPipelineConfig(call, callback) {
      try {
        const request = call.request;
        checkDevice(request.device_id);
        arbitration.checkPrimary(request.role, request.election_id);
        manager.setPipelineConfig(request.action, request.config);
        callback(null, {});
      } catch (error) {
        callback(statusOf(device, error));
      }
    },

    GetForwardingPipelineConfig(call, callback) {
      try {
        checkDevice(call.request.device_id);
        callback(null, { config: manager.getPipelineConfig(call.request.response_type) });
      } catch (error) {
        callback(statusOf(device, error));
      }
    },

    Write(call, callback) {
      try {
        const request = call.request;
        checkDevice(request.device_id);
        arbitration.checkPrimary(request.role, request.election_id);
        const outcome = manager.write(request);
        if (outcome.code === Code.OK) callback(null, {});
        else callback({ code: outcome.code, details: outcome.details, metadata: outcome.metadata });
      } catch (error) {
        callback(statusOf(device, error));
      }
    },

    async Read(call) {
      try {
        checkDevice(call.request.device_id);
        const entities = manager.read(call.request.entities);
        // One response per batch; between batches the switch serves everything else (a new
        // primary's arbitration, packets), and a slow reader holds the next batch back.
        let batch: Entity[] = [];
        let sent = 0;
        for (const entity of entities) {
          batch.push(entity);
          if (batch.length < batchSize) continue;
          if (!(await send(call, { entities: batch }))) return;
          batch = [];
          sent++;
        }
        if (batch.length > 0 || sent === 0) call.write({ entities: batch });
        call.end();
      } catch (error) {
        call.emit("error", statusOf(device, error));
      }
    },

    StreamChannel(call) {
      let open = true;
      const peer: StreamPeer = {
        send(message) {
          if (open) call.write(message);
        },
      };
      streams.add(call);
      const close = () => {
        if (!open) return;
        open = false;
        streams.delete(call);
        arbitration.leave(peer);
      };
      call.on("data", (message: StreamMessageRequest__Output) => {
        if (!open) return;
        if (message.update === "arbitration" && message.arbitration) {
          try {
            arbitration.arbitrate(peer, message.arbitration);
          } catch (error) {
            close();
            call.emit("error", statusOf(device, error));
          }
          return;
        }
        // As PI: stream messages count only from the primary, and only after arbitration.
        if (!arbitration.isPrimaryPeer(peer)) return;
        try {
          manager.handleStreamMessage(message);
        } catch (error) {
          const e = asP4RuntimeError(error);
          peer.send({
            error: {
              canonical_code: e.code,
              message: e.message,
              space: ERROR_SPACE,
              ...(message.update === "packet" ? { packet_out: {} } : {}),
            },
          });
        }
      });
      call.on("end", () => {
        close();
        call.end();
      });
      call.on("cancelled", close);
      call.on("error", close);
    },
  };

  const server = new grpc.Server({
    "grpc.max_receive_message_length": maxMessageBytes,
    "grpc.max_send_message_length": maxMessageBytes,
  });
  const service = p4runtimeProto().p4.v1.P4Runtime.service;
  // Writes carry up to hundreds of thousands of table entries: they get the fast decoder.
  server.addService(
    { ...service, Write: { ...service.Write, requestDeserialize: decodeWriteRequest } },
    handlers,
  );
  const requested = options.address ?? "127.0.0.1:9559";
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(requested, credentials(options.tls), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  const host = requested.slice(0, requested.lastIndexOf(":"));
  return {
    address: requested.startsWith("unix:") ? requested : `${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        device.off("stream", toPrimaries);
        for (const call of streams) call.end();
        // Unary calls in flight get a second to finish.
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 1000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
