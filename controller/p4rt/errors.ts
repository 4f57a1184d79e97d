/**
 * Typed errors of the P4Runtime client. Each carries what failed so callers (reconciler, CLI)
 * can act on it or print it without parsing messages.
 */
import { status as GrpcStatus } from "@grpc/grpc-js";
import type { Update } from "../../proto/gen/p4/v1/Update.js";

/** The name of a gRPC / google.rpc canonical code, e.g. 6 → "ALREADY_EXISTS". */
export function codeName(code: number): string {
  return GrpcStatus[code] ?? `code ${code}`;
}

/** An RPC failed as a whole (the switch refused or could not be reached). */
export class P4RuntimeRpcError extends Error {
  override readonly name = "P4RuntimeRpcError";
  constructor(
    readonly rpc: string,
    readonly code: number,
    readonly details: string,
  ) {
    super(`${rpc} failed: ${codeName(code)}: ${details}`);
  }
}

/** This client is not the primary for its role, so the switch would refuse its writes. */
export class NotPrimaryError extends Error {
  override readonly name = "NotPrimaryError";
  constructor(readonly operation: string) {
    super(`${operation} refused locally: this client is not the primary controller`);
  }
}

/** One update of a Write that the switch rejected, with the switch's own code and message. */
export interface UpdateFailure {
  /** Position in the list the caller passed to write(). */
  index: number;
  update: Update;
  code: number;
  message: string;
}

/**
 * Some updates of a write failed; the others were applied (CONTINUE_ON_ERROR), so the error
 * lists only the failures, each mapped back to the update that caused it.
 */
export class WriteError extends Error {
  override readonly name = "WriteError";
  constructor(
    readonly failures: UpdateFailure[],
    readonly attempted: number,
  ) {
    const first = failures[0];
    super(
      `${failures.length} of ${attempted} updates failed` +
        (first ? `; first: update ${first.index}: ${codeName(first.code)}: ${first.message}` : ""),
    );
  }
}

/** An entity described by name that cannot be built: wrong shape, missing parameter, bad prefix. */
export class EntitySpecError extends Error {
  override readonly name = "EntitySpecError";
  constructor(
    /** The table, action or field, e.g. `bridging.dst_mac`. */
    readonly what: string,
    readonly detail: string,
  ) {
    super(`${what}: ${detail}`);
  }
}
