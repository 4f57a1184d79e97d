/**
 * The only place that speaks HTTP about failures: an ApiError carries the status and code the
 * client sees; the daemon's domain errors (daemon/errors.ts) are mapped to one here.
 */

import {
  IntentConflictError,
  IntentInvalidError,
  NotFoundError,
  SwitchUnavailableError,
} from "../daemon/errors.js";
import type { ApiErrorBody, ApiErrorCode } from "../daemon/protocol.js";

/** An API failure with the status and code the client sees. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** The status and code of any error a route handler threw; undefined for unexpected ones. */
export function knownApiError(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (error instanceof IntentInvalidError) {
    return new ApiError(422, "invalid-intent", error.message, error.issues);
  }
  if (error instanceof IntentConflictError) return new ApiError(409, "conflict", error.message);
  if (error instanceof NotFoundError) return new ApiError(404, "not-found", error.message);
  if (error instanceof SwitchUnavailableError) {
    return new ApiError(503, "switch-unavailable", error.message);
  }
  return undefined;
}

export function internalError(error: unknown): ApiError {
  return new ApiError(
    500,
    "internal",
    `the daemon failed: ${error instanceof Error ? error.message : String(error)}`,
  );
}

export function errorBody(error: ApiError): ApiErrorBody {
  return {
    error: {
      code: error.code,
      message: error.message,
      ...(error.details === undefined ? {} : { details: error.details }),
    },
  };
}
