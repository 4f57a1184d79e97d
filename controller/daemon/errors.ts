/**
 * What the daemon refuses, as domain errors carrying what failed. The daemon never speaks
 * HTTP: the API layer (controller/api/errors.ts) maps each of these to a status and code.
 */
import type { IntentIssueView } from "./protocol.js";

/** The intent a change would produce is invalid; `issues` name each problem (path, line). */
export class IntentInvalidError extends Error {
  override readonly name = "IntentInvalidError";
  constructor(
    message: string,
    readonly issues: IntentIssueView[],
  ) {
    super(message);
  }
}

/**
 * The change conflicts with the intent as it is: the caller's expected revision is not the
 * stored one, or what it adds exists already. Nothing was changed.
 */
export class IntentConflictError extends Error {
  override readonly name = "IntentConflictError";
}

/** A switch, table, endpoint, VSID or route the request names is not there. */
export class NotFoundError extends Error {
  override readonly name = "NotFoundError";
}

/** A switch the request must read is not connected now (first connection or a reconnect). */
export class SwitchUnavailableError extends Error {
  override readonly name = "SwitchUnavailableError";
}
