/**
 * The intent's audit trail: `history` (who changed what, when, at which revision), `diff`
 * (the resources that differ between two revisions) and `rollback --to` (the intent as it was
 * at a revision, stored as a new change and applied like any other). Thin clients of
 * /v1/history, /v1/diff and /v1/rollback; an unknown revision is the daemon's 404 (exit 1).
 */
import type {
  DiffResponse,
  HistoryResponse,
  RecordedChange,
  ResourceDiff,
} from "../daemon/protocol.js";
import { type ChangeOptions, sendChange } from "./changes.js";
import type { CliContext } from "./context.js";
import { colour, formatData, type OutputFormat, renderTable } from "./output.js";

const opSigns: Record<RecordedChange["op"], string> = { added: "+", changed: "~", deleted: "-" };

/** `resources/endpoint/web-1` → `endpoint/web-1` (the `fabric` resource stays `fabric`). */
function resourceName(key: string): string {
  return key.replace(/^resources\//, "");
}

function signed(change: RecordedChange): string {
  const text = `${opSigns[change.op]}${resourceName(change.resource)}`;
  return change.op === "added"
    ? colour.good(text)
    : change.op === "deleted"
      ? colour.bad(text)
      : colour.warn(text);
}

export async function history(
  context: CliContext,
  options: { since?: number; output: OutputFormat },
): Promise<void> {
  const query = options.since === undefined ? "" : `?since=${options.since}`;
  const response = await (await context.api()).call<HistoryResponse>("GET", `/v1/history${query}`);
  if (options.output !== "table") {
    context.io.out(formatData(response, options.output));
    return;
  }
  context.io.out(
    renderTable(response.records, [
      { key: "revision", header: "revision" },
      { key: "time", header: "time" },
      { key: "actor", header: "actor" },
      { key: "trigger", header: "change" },
      {
        key: "changes",
        header: "resources",
        format: (_, row) => row.changes.map(signed).join(" ") || colour.dim("-"),
      },
    ]),
  );
  context.io.out(`intent revision ${response.revision}\n`);
}

export async function diff(
  context: CliContext,
  from: number,
  to: number,
  options: { output: OutputFormat },
): Promise<void> {
  const response = await (await context.api()).call<DiffResponse>(
    "GET",
    `/v1/diff?from=${from}&to=${to}`,
  );
  if (options.output !== "table") {
    context.io.out(formatData(response, options.output));
    return;
  }
  const lines = [colour.bold(`--- revision ${from}`), colour.bold(`+++ revision ${to}`)];
  for (const change of response.changes) lines.push(...describeChange(change));
  if (response.changes.length === 0) lines.push(colour.dim("(no resource differs)"));
  context.io.out(`${lines.join("\n")}\n`);
}

/** One resource of a diff: its name marked + ~ -, then its value before and after. */
function describeChange(change: ResourceDiff): string[] {
  const lines = [signed(change)];
  if (change.before !== undefined) {
    lines.push(colour.bad(`    - ${JSON.stringify(change.before)}`));
  }
  if (change.after !== undefined) {
    lines.push(colour.good(`    + ${JSON.stringify(change.after)}`));
  }
  return lines;
}

export async function rollback(
  context: CliContext,
  options: ChangeOptions & { to: number },
): Promise<void> {
  await sendChange(context, "POST", "/v1/rollback", { revision: options.to }, options);
}
