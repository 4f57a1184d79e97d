/**
 * The workload and the contenders of bench/protobuf-codecs.ts (issue 13): WriteRequests of the
 * table entries the compiler makes for the synthetic fabric, encoded and decoded by the project's
 * hand-written codecs, by @bufbuild/protobuf's generated code (bench/protobuf-es, `make
 * protobuf-es`) and by protobufjs as @grpc/proto-loader drives it. checkAgreement() shows the
 * three say the same thing, outside any clock.
 */
import { isDeepStrictEqual } from "node:util";
import { equals, fromBinary, fromJson, type JsonValue, toBinary } from "@bufbuild/protobuf";
import { splitCollection } from "../../controller/compile/canonical.js";
import { codecFor, compileFabric } from "../../controller/compile/compile.js";
import { validateDocument } from "../../controller/intent/load.js";
import { loadNvgrePipeline } from "../../controller/nvgre-build.js";
import { type WriteHeader, WriteRequestEncoder } from "../../controller/p4rt/write-encoding.js";
import type { Update } from "../../proto/gen/p4/v1/Update.js";
import type { WriteRequest as LoaderWriteRequest } from "../../proto/gen/p4/v1/WriteRequest.js";
import { p4runtimeProto } from "../../proto/load.js";
import { decodeWriteRequest } from "../../softswitch/p4runtime/write-decoding.js";
import { type WriteRequest, WriteRequestSchema } from "../protobuf-es/p4/v1/p4runtime_pb.js";
import { syntheticFabric } from "./synthetic-fabric.js";

/** The requests' header, as a client with election id 1 on device 1 sends it. */
const header: WriteHeader = { deviceId: 1n, electionId: 1n };

/** The same WriteRequests in each contender's own input form, and their bytes. */
export interface CodecWorkload {
  entries: number;
  /** Plain objects as the controller builds them (EntityBuilder via the compiler's codec). */
  batches: Update[][];
  /** The same requests as @bufbuild/protobuf messages, built from their JSON form. */
  messages: WriteRequest[];
  /** The hand-written encoder's bytes: what every decoder reads. */
  encoded: Buffer[];
}

/**
 * Up to `limit` INSERTs of the table entries compiled for the synthetic fabric of `endpoints`
 * endpoints, switch by switch and table by table, as the reconciler writes them.
 */
export function compiledTableUpdates(endpoints: number, limit: number): Update[] {
  const pipeline = loadNvgrePipeline();
  const codec = codecFor(pipeline.index);
  const compiled = compileFabric(validateDocument(syntheticFabric(endpoints)), pipeline.index);
  const updates: Update[] = [];
  for (const state of compiled.switches.values()) {
    for (const [collection, entries] of state.collections) {
      if (splitCollection(collection).kind !== "table") continue;
      for (const [key, value] of entries) {
        if (updates.length === limit) return updates;
        updates.push({ type: "INSERT", entity: codec.toEntity(collection, key, value) });
      }
    }
  }
  return updates;
}

/** The request as @grpc/proto-loader's serializer takes it (atomicity left at its default). */
function loaderRequest(updates: Update[]): LoaderWriteRequest {
  return {
    device_id: header.deviceId.toString(),
    election_id: { high: "0", low: header.electionId.toString() },
    updates,
  };
}

/** Protobuf's JSON form of a plain message (bytes as base64), for @bufbuild's fromJson. */
function jsonOf(value: unknown): JsonValue {
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  if (Array.isArray(value)) return value.map(jsonOf);
  if (value !== null && typeof value === "object") {
    const out: Record<string, JsonValue> = {};
    for (const [key, field] of Object.entries(value)) {
      if (field !== undefined && field !== null) out[key] = jsonOf(field);
    }
    return out;
  }
  return value as JsonValue;
}

export function codecWorkload(updates: Update[], batch: number): CodecWorkload {
  const batches: Update[][] = [];
  for (let start = 0; start < updates.length; start += batch) {
    batches.push(updates.slice(start, start + batch));
  }
  const encoder = new WriteRequestEncoder(header);
  return {
    entries: updates.length,
    batches,
    // fromJson reads the .proto field names and enum names the plain objects use.
    messages: batches.map((b) => fromJson(WriteRequestSchema, jsonOf(loaderRequest(b)))),
    encoded: batches.map((b) => encoder.encode(b)),
  };
}

/** One contender: each call encodes, or decodes, every request of the workload once. */
export interface Codec {
  name: string;
  /** What encode() reads: the plain updates (batches) or the @bufbuild messages. */
  encodes: "batches" | "messages";
  /** Returns the bytes written. */
  encode(workload: CodecWorkload): number;
  /** Returns the updates read. */
  decode(workload: CodecWorkload): number;
}

const handWritten: Codec = {
  name: "hand-written (write-encoding.ts, write-decoding.ts)",
  encodes: "batches",
  encode(workload) {
    // One encoder per client session, as P4RuntimeClient keeps it.
    const encoder = new WriteRequestEncoder(header);
    let bytes = 0;
    for (const b of workload.batches) bytes += encoder.encode(b).length;
    return bytes;
  },
  decode(workload) {
    let updates = 0;
    for (const bytes of workload.encoded) updates += decodeWriteRequest(bytes).updates.length;
    return updates;
  },
};

const bufbuild: Codec = {
  name: "@bufbuild/protobuf, generated code (toBinary, fromBinary)",
  encodes: "messages",
  encode(workload) {
    let bytes = 0;
    for (const message of workload.messages) bytes += toBinary(WriteRequestSchema, message).length;
    return bytes;
  },
  decode(workload) {
    let updates = 0;
    for (const bytes of workload.encoded) {
      updates += fromBinary(WriteRequestSchema, bytes).updates.length;
    }
    return updates;
  },
};

const protobufjs: Codec = {
  name: "protobufjs via @grpc/proto-loader (serialize, deserialize)",
  encodes: "batches",
  encode(workload) {
    const { WriteRequest } = p4runtimeProto().p4.v1;
    let bytes = 0;
    for (const b of workload.batches) bytes += WriteRequest.serialize(loaderRequest(b)).length;
    return bytes;
  },
  decode(workload) {
    const { WriteRequest } = p4runtimeProto().p4.v1;
    let updates = 0;
    for (const bytes of workload.encoded) updates += WriteRequest.deserialize(bytes).updates.length;
    return updates;
  },
};

export const codecs: readonly Codec[] = [handWritten, bufbuild, protobufjs];

/** Two contenders disagree on a request of the workload. */
export class CodecDisagreementError extends Error {
  constructor(
    readonly request: number,
    readonly what: string,
  ) {
    super(`request ${request}: ${what}`);
  }
}

/**
 * Every request, checked three ways: the hand-written encoder and @bufbuild's toBinary write the
 * same bytes, and protobufjs's bytes read back as the same message; @bufbuild's fromBinary reads
 * the message it was built as; the hand-written decoder returns exactly what protobufjs returns.
 */
export function checkAgreement(workload: CodecWorkload): void {
  const { WriteRequest } = p4runtimeProto().p4.v1;
  workload.batches.forEach((batch, i) => {
    const encoded = workload.encoded[i] as Buffer;
    const message = workload.messages[i] as WriteRequest;
    const fail = (what: string) => {
      throw new CodecDisagreementError(i, what);
    };
    if (!Buffer.from(toBinary(WriteRequestSchema, message)).equals(encoded)) {
      fail("@bufbuild toBinary and the hand-written encoder wrote different bytes");
    }
    const fromProtobufjs = WriteRequest.serialize(loaderRequest(batch));
    if (!equals(WriteRequestSchema, fromBinary(WriteRequestSchema, fromProtobufjs), message)) {
      fail("protobufjs encoded another message");
    }
    if (!equals(WriteRequestSchema, fromBinary(WriteRequestSchema, encoded), message)) {
      fail("@bufbuild fromBinary read another message than it was built as");
    }
    const decoded = decodeWriteRequest(encoded);
    if (decoded.updates.length !== batch.length) fail("the hand-written decoder lost updates");
    if (!isDeepStrictEqual(decoded, WriteRequest.deserialize(encoded))) {
      fail("the hand-written decoder and protobufjs read different objects");
    }
  });
}
