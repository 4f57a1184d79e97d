/**
 * The status of a Write, as PI reports it (device_mgr.cpp P4ErrorReporter): OK when every update
 * applied; otherwise code UNKNOWN with one p4.v1.Error per update, in order, packed as Any in the
 * details of a google.rpc.Status that travels in the `grpc-status-details-bin` trailer. Updates
 * that applied get an Error with every field zero; failed ones their canonical code, message and
 * PI's error space.
 */
import { Metadata } from "@grpc/grpc-js";
import { p4runtimeProto } from "../../proto/load.js";
import { Code, P4RuntimeError } from "./errors.js";

/** PI's error space for simple_switch_grpc. */
export const ERROR_SPACE = "ALL-sswitch-p4org";

export interface WriteOutcome {
  code: Code;
  details: string;
  metadata?: Metadata;
}

/**
 * The largest header list a grpc-js (Node HTTP/2) peer accepts: SETTINGS_MAX_HEADER_LIST_SIZE,
 * 65,535 by default. grpc-js 1.14 reads no option for it on either side (`grpc.max_metadata_size`
 * is C-core's), so it cannot be raised; a trailer beyond it makes the client's HTTP/2 session
 * fail to decode it and the Write is never answered.
 */
const PEER_HEADER_LIST_LIMIT = 65_535;

/** What the status details may take (base64, as -bin metadata travels): the rest is margin. */
const DETAILS_BUDGET = PEER_HEADER_LIST_LIMIT - 4096;

const base64Length = (bytes: number) => Math.ceil(bytes / 3) * 4;

const ERROR_TYPE_URL = "type.googleapis.com/p4.v1.Error";

/** One update's result as a details entry; `brief`: the code alone (no message, no space). */
function detailOf(r: P4RuntimeError | undefined, brief: boolean) {
  const error = r
    ? brief
      ? { canonical_code: r.code }
      : { canonical_code: r.code, message: r.message, space: ERROR_SPACE }
    : {};
  return { type_url: ERROR_TYPE_URL, value: p4runtimeProto().p4.v1.Error.serialize(error) };
}

/**
 * The most updates one Write may carry: even if every one fails, their codes fit the status
 * trailer. Whether an update fails is known only once it is applied, so a larger batch is
 * refused before anything is applied (`checkReportable`) rather than applied and left
 * unanswered.
 */
export const MAX_UPDATES_PER_WRITE = (() => {
  const Status = p4runtimeProto().google.rpc.Status;
  const one = Status.serialize({ details: [detailOf(new P4RuntimeError(Code.UNKNOWN, ""), true)] });
  // Raw bytes the budget allows, less the status's own code field.
  return Math.floor(((DETAILS_BUDGET / 4) * 3 - 8) / one.length);
})();

/** Refuses (RESOURCE_EXHAUSTED) a Write whose failures could not all be reported. */
export function checkReportable(updates: number): void {
  if (updates > MAX_UPDATES_PER_WRITE) {
    throw new P4RuntimeError(
      Code.RESOURCE_EXHAUSTED,
      `Write of ${updates} updates refused, nothing applied: at most ${MAX_UPDATES_PER_WRITE} ` +
        "updates per request, so that the error of each can be reported; split the batch",
    );
  }
}

/**
 * Builds the RPC status of a Write from the outcome of each update (undefined = applied). When
 * the messages would not fit the trailer (many long ones), each failure keeps its code alone.
 * The top-level message is empty, as PI leaves it.
 */
export function writeStatus(results: (P4RuntimeError | undefined)[]): WriteOutcome {
  const failed = results.filter((r) => r !== undefined).length;
  if (failed === 0) return { code: Code.OK, details: "" };
  const Status = p4runtimeProto().google.rpc.Status;
  const serialize = (brief: boolean) =>
    Status.serialize({ code: Code.UNKNOWN, details: results.map((r) => detailOf(r, brief)) });
  let status = serialize(false);
  if (base64Length(status.length) > DETAILS_BUDGET) status = serialize(true);
  const metadata = new Metadata();
  metadata.set("grpc-status-details-bin", status);
  return { code: Code.UNKNOWN, details: "", metadata };
}
