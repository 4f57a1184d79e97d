/**
 * The one error type of the P4Runtime server: a google.rpc canonical code and a message. Every
 * check that refuses a request throws it; the server turns it into the RPC status, or into the
 * p4.v1.Error of one update of a Write. Messages start with PI's wording for the same fault
 * (PI's frontend in p4lang/PI proto/frontend, what simple_switch_grpc answers) so clients and
 * people who know bmv2 recognise them; where PI says little, the rest names what is wrong.
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
  ) {
    super(message);
  }
}

export function invalidArgument(message: string): P4RuntimeError {
  return new P4RuntimeError(Code.INVALID_ARGUMENT, message);
}

/** PI's answer for an id of the wrong kind or absent from the P4Info. */
export function invalidP4Id(kind: string, id: number): P4RuntimeError {
  return invalidArgument(`Invalid P4 id: no ${kind} with id ${id} in the P4Info`);
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
