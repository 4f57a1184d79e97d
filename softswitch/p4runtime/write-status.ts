/**
 * The status of a Write, as PI reports it (device_mgr.cpp P4ErrorReporter): OK when every update
 * applied; otherwise code UNKNOWN with one p4.v1.Error per update, in order, packed as Any in the
 * details of a google.rpc.Status that travels in the `grpc-status-details-bin` trailer. Updates
 * that applied get an Error with every field zero; failed ones their canonical code, message and
 * PI's error space.
 */
import { Metadata } from "@grpc/grpc-js";
import { p4runtimeProto } from "../../proto/load.js";
import { Code, type P4RuntimeError } from "./errors.js";

/** PI's error space for simple_switch_grpc. */
export const ERROR_SPACE = "ALL-sswitch-p4org";

export interface WriteOutcome {
  code: Code;
  details: string;
  metadata?: Metadata;
}

/** Builds the RPC status of a Write from the outcome of each update (undefined = applied). */
export function writeStatus(results: (P4RuntimeError | undefined)[]): WriteOutcome {
  const failed = results.filter((r) => r !== undefined).length;
  if (failed === 0) return { code: Code.OK, details: "" };
  const proto = p4runtimeProto();
  const details = results.map((r) => ({
    type_url: "type.googleapis.com/p4.v1.Error",
    value: proto.p4.v1.Error.serialize(
      r ? { canonical_code: r.code, message: r.message, space: ERROR_SPACE } : {},
    ),
  }));
  const message = `${failed} of ${results.length} updates failed`;
  const metadata = new Metadata();
  metadata.set(
    "grpc-status-details-bin",
    proto.google.rpc.Status.serialize({ code: Code.UNKNOWN, message, details }),
  );
  return { code: Code.UNKNOWN, details: message, metadata };
}
