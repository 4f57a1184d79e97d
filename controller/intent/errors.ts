/**
 * Everything wrong with a fabric intent, reported together: each issue names where (the path in
 * the file, and its line when the file's text is known) and why. Nothing is applied when any
 * issue exists, so an operator fixes them all in one round.
 */

export type IntentPath = (string | number)[];

export interface IntentIssue {
  path: IntentPath;
  message: string;
  /** 1-based position in the source text, when the intent came from a file. */
  line?: number;
  column?: number;
}

/** `switches[0].ports[2].mtu`: the path as the file's reader sees it. */
export function formatPath(path: IntentPath): string {
  let text = "";
  for (const part of path) {
    text += typeof part === "number" ? `[${part}]` : text === "" ? part : `.${part}`;
  }
  return text || "(top level)";
}

export function formatIssue(issue: IntentIssue, source?: string): string {
  const where =
    issue.line !== undefined
      ? `${source ?? "fabric"}:${issue.line}:${issue.column ?? 1}: `
      : source
        ? `${source}: `
        : "";
  return `${where}${formatPath(issue.path)}: ${issue.message}`;
}

export class IntentError extends Error {
  override readonly name = "IntentError";
  constructor(
    readonly issues: IntentIssue[],
    /** The file the intent came from, for messages. */
    readonly source?: string,
  ) {
    const shown = issues.slice(0, 20).map((issue) => `  ${formatIssue(issue, source)}`);
    if (issues.length > shown.length) shown.push(`  … and ${issues.length - shown.length} more`);
    super(
      `the fabric intent is invalid (${issues.length} ${issues.length === 1 ? "problem" : "problems"}); nothing was applied:\n${shown.join("\n")}`,
    );
  }
}

/** Collects issues while a check walks the intent; throws them all at the end. */
export class IssueList {
  readonly issues: IntentIssue[] = [];

  add(path: IntentPath, message: string): void {
    this.issues.push({ path, message });
  }

  throwIfAny(source?: string): void {
    if (this.issues.length > 0) throw new IntentError(this.issues, source);
  }
}
