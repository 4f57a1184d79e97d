/**
 * nvgre-ctl's exit statuses: what a script can rely on (documented in `nvgre-ctl --help` and
 * the README). Each error class of the CLI carries one of these.
 */
export const ExitCode = {
  /** Done; for apply and changes: the intent is stored and every switch matches it. */
  ok: 0,
  /** The operation failed (a switch refused a write, a named object does not exist, …). */
  failed: 1,
  /** The command line is wrong (unknown command or option, bad value). */
  usage: 2,
  /** No daemon answers on the socket (not running, wrong --socket, no permission). */
  unreachable: 3,
  /** The fabric intent is invalid; nothing was changed. */
  invalidIntent: 4,
  /** The intent is stored but some switch is not converged yet (unreachable or failed); the daemon keeps retrying. */
  notConverged: 5,
  /** The intent changed since it was read (--expected-revision); nothing was changed. */
  conflict: 6,
} as const;

export type ExitStatus = (typeof ExitCode)[keyof typeof ExitCode];

export const exitCodeHelp = `Exit status:
  0  ok (for apply and changes: stored, and every switch matches the intent)
  1  the operation failed (a switch refused, an object does not exist, …)
  2  usage error (unknown command or option, bad value)
  3  the daemon is unreachable (not running, wrong --socket, no permission)
  4  the fabric intent is invalid; nothing was changed
  5  stored, but some switch has not converged yet (the daemon keeps retrying)
  6  the intent changed since --expected-revision; nothing was changed`;

/** An error that ends the CLI with a given status after printing its message. */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    message: string,
    readonly exitCode: ExitStatus,
    /** Extra lines printed after the message (e.g. every issue of an invalid intent). */
    readonly detailLines: string[] = [],
  ) {
    super(message);
  }
}
