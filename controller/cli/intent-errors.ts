/**
 * How an invalid intent is printed, the same whether the daemon found it (its API answer) or
 * the CLI did offline (`validate`, `apply --offline`, a file that is not UTF-8): the summary
 * line, then one line per issue with its line and column.
 */
import type { IntentIssueView } from "../daemon/protocol.js";
import { formatPath, type IntentError } from "../intent/errors.js";
import { CliError, ExitCode } from "./exit-codes.js";

export function issueLine(issue: IntentIssueView): string {
  return `  ${issue.line !== undefined ? `line ${issue.line}:${issue.column ?? 1}: ` : ""}${issue.path}: ${issue.message}`;
}

export function invalidIntentError(error: IntentError): CliError {
  return new CliError(
    error.message.split("\n")[0] ?? error.message,
    ExitCode.invalidIntent,
    error.issues.map((issue) =>
      issueLine({
        path: formatPath(issue.path),
        message: issue.message,
        ...(issue.line === undefined ? {} : { line: issue.line, column: issue.column ?? 1 }),
      }),
    ),
  );
}
