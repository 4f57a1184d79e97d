/**
 * A P4Runtime pass-through for daemon tests: listens on loopback, forwards every RPC to the
 * real switch behind it unchanged, and records each update the controller writes and each
 * pipeline it pushes. Tests count what the daemon wrote from here, not from the daemon's own
 * report. The switch behind may restart: calls fail while it is away (as they would against
 * it directly) and the pass-through forwards again once it is back.
 */
import * as grpc from "@grpc/grpc-js";
import type { StreamMessageRequest } from "../../../proto/gen/p4/v1/StreamMessageRequest.js";
import type { StreamMessageResponse__Output } from "../../../proto/gen/p4/v1/StreamMessageResponse.js";
import type { WriteRequest__Output } from "../../../proto/gen/p4/v1/WriteRequest.js";
import { p4runtimeProto } from "../../../proto/load.js";

export interface RecordedUpdate {
  type: string;
  /** The entity's kind: table_entry, packet_replication_engine_entry, … */
  entity: string;
}

export interface P4RuntimeRecorder {
  /** host:port the daemon should use for the switch. */
  address: string;
  updates: RecordedUpdate[];
  pipelinePushes: number;
  /** Read RPCs (each a read of one or more tables). */
  reads: number;
  /** Forgets what was recorded so far. */
  reset(): void;
  close(): Promise<void>;
}

type Handler = grpc.UntypedServiceImplementation[string];

export async function startRecorder(upstreamAddress: string): Promise<P4RuntimeRecorder> {
  const proto = p4runtimeProto();
  const upstream = new proto.p4.v1.P4Runtime(upstreamAddress, grpc.credentials.createInsecure(), {
    "grpc.max_receive_message_length": 256 * 1024 * 1024,
    "grpc.max_send_message_length": 256 * 1024 * 1024,
  });
  const recorder = {
    address: "",
    updates: [] as RecordedUpdate[],
    pipelinePushes: 0,
    reads: 0,
    reset() {
      recorder.updates = [];
      recorder.pipelinePushes = 0;
      recorder.reads = 0;
    },
    close: async () => {},
  };
  const stub = upstream as unknown as Record<string, (...args: unknown[]) => unknown>;
  const unary =
    (method: string, record?: (request: never) => void): Handler =>
    (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      record?.(call.request as never);
      (stub[method] as (r: unknown, cb: grpc.requestCallback<unknown>) => void).call(
        upstream,
        call.request,
        (error, response) => callback(error, response),
      );
    };
  const handlers: grpc.UntypedServiceImplementation = {
    Capabilities: unary("Capabilities"),
    GetForwardingPipelineConfig: unary("GetForwardingPipelineConfig"),
    SetForwardingPipelineConfig: unary("SetForwardingPipelineConfig", () => {
      recorder.pipelinePushes++;
    }),
    Write: unary("Write", (request: WriteRequest__Output) => {
      for (const update of request.updates) {
        recorder.updates.push({ type: update.type, entity: update.entity?.entity ?? "?" });
      }
    }),
    Read: ((call: grpc.ServerWritableStream<unknown, unknown>) => {
      recorder.reads++;
      const reading = upstream.Read(call.request as never);
      reading.on("data", (response) => call.write(response));
      reading.on("end", () => call.end());
      reading.on("error", (error) => call.emit("error", error));
      call.on("cancelled", () => reading.cancel());
    }) as Handler,
    StreamChannel: ((
      call: grpc.ServerDuplexStream<StreamMessageRequest, StreamMessageResponse__Output>,
    ) => {
      const channel = upstream.StreamChannel();
      call.on("data", (message) => channel.write(message));
      call.on("end", () => channel.end());
      call.on("cancelled", () => channel.cancel());
      call.on("error", () => channel.cancel());
      channel.on("data", (message) => call.write(message));
      channel.on("end", () => call.end());
      channel.on("error", (error) => call.emit("error", error));
    }) as Handler,
  };
  const server = new grpc.Server({
    "grpc.max_receive_message_length": 256 * 1024 * 1024,
    "grpc.max_send_message_length": 256 * 1024 * 1024,
  });
  server.addService(proto.p4.v1.P4Runtime.service, handlers);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  recorder.address = `127.0.0.1:${port}`;
  recorder.close = () =>
    new Promise<void>((resolve) => {
      upstream.close();
      server.tryShutdown(() => resolve());
      server.forceShutdown();
    });
  return recorder;
}
