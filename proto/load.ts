/**
 * Loads the vendored P4Runtime protos once for every part of the project (client, softswitch
 * server, tests). The loader options here and the flags of `make proto-types` must agree:
 * the generated types in `proto/gen/` describe exactly the objects these options produce.
 */
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { packagePath } from "../common/package-path.js";
import type { ProtoGrpcType as CodeGrpcType } from "./gen/code.js";
import type { ProtoGrpcType as P4RuntimeGrpcType } from "./gen/p4runtime.js";

/** The .proto sources (the code runs from dist/ or a bundle of it, never beside them). */
export const protoDir = packagePath("proto");

/**
 * Field names as written in the .proto files (`election_id`, not `electionId`), 64-bit integers
 * as decimal strings (no precision loss), enums by name, defaults filled in, and a virtual field
 * naming the member set in each oneof (`entity.entity === "table_entry"`).
 */
export const loaderOptions: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [protoDir],
};

export type P4RuntimeProto = P4RuntimeGrpcType & CodeGrpcType;

let loaded: P4RuntimeProto | undefined;

/** The `p4.v1` service and message definitions plus `google.rpc`; loaded on first use. */
export function p4runtimeProto(): P4RuntimeProto {
  if (!loaded) {
    const definition = protoLoader.loadSync(
      ["p4/v1/p4runtime.proto", "google/rpc/code.proto"],
      loaderOptions,
    );
    loaded = grpc.loadPackageDefinition(definition) as unknown as P4RuntimeProto;
  }
  return loaded;
}
