/**
 * The one error type of the P4Runtime server: a google.rpc canonical code and a message. Every
 * check that refuses a request throws it; the server turns it into the RPC status, or into the
 * p4.v1.Error of one update of a Write. Where PI answers the same fault (PI's frontend in
 * p4lang/PI proto/frontend, what simple_switch_grpc answers), the message is PI's text exactly,
 * so clients that compare strings work alike; what the softswitch knows beyond it (which table,
 * which id) is the `detail`, which goes to the server's log, never into the answer.
 */
import { status as Code } from "@grpc/grpc-js";
import { BytestringRangeError } from "../../proto/bytestring.js";

export { Code };

export class P4RuntimeError extends Error {
  override readonly name = "P4RuntimeError";
  constructor(
    /** google.rpc.Code (the same numbers as gRPC status codes). */
    readonly code: Code,
    message: string,
    /** What PI's message leaves out, for the server's log. */
    readonly detail?: string,
  ) {
    super(message);
  }
}

export function invalidArgument(message: string, detail?: string): P4RuntimeError {
  return new P4RuntimeError(Code.INVALID_ARGUMENT, message, detail);
}

/** The error and its detail in one line, for the server's log. */
export function describeError(error: P4RuntimeError): string {
  return error.detail ? `${error.message}: ${error.detail}` : error.message;
}

/** PI's answer for an id of the wrong kind or absent from the P4Info. */
export function invalidP4Id(kind: string, id: number): P4RuntimeError {
  return invalidArgument("Invalid P4 id", `no ${kind} with id ${id} in the P4Info`);
}

/** Any value thrown while serving a request, as the status the client receives. */
export function asP4RuntimeError(error: unknown): P4RuntimeError {
  if (error instanceof P4RuntimeError) return error;
  if (error instanceof BytestringRangeError) return invalidArgument(error.message);
  return new P4RuntimeError(
    Code.INTERNAL,
    `internal error: ${error instanceof Error ? error.message : String(error)}`,
  );
}
