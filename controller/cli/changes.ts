/**
 * Everything that changes the fabric: `apply -f`, `endpoint add|move|del`, `vsid add|del`,
 * `route add|del`. Each sends the change to the daemon, which validates it against the whole
 * intent, stores it and reconciles the switches; the answer is printed per switch (the diff
 * itself on a dry run or with -v), and the exit status says whether every switch converged.
 */
import { SingleBar } from "cli-progress";
import type {
  ApplyStreamLine,
  ChangeResult,
  EndpointLocationSpec,
  EntityChange,
  SwitchPlan,
} from "../daemon/protocol.js";
import type { CliContext } from "./context.js";
import { CliError, ExitCode } from "./exit-codes.js";
import { colour, formatData, type OutputFormat, renderTable } from "./output.js";
import { readFabricInput } from "./read-input.js";

export interface ChangeOptions {
  dryRun?: boolean;
  verbose?: boolean;
  output: OutputFormat;
  expectedRevision?: number;
}

/** Below this many planned writes no progress bar is drawn: it would only flicker. */
const progressThreshold = 500;

export async function applyFile(
  context: CliContext,
  file: string,
  options: ChangeOptions & { progress: boolean; maxBytes: number },
): Promise<void> {
  const { text } = await readFabricInput(file, options.maxBytes);
  const bar = new ProgressDisplay(
    options.progress && options.output === "table" && context.io.interactive,
  );
  let result: ChangeResult | undefined;
  try {
    await (await context.api()).stream(
      "POST",
      "/v1/apply",
      {
        text,
        source: file === "-" ? "stdin" : file,
        dryRun: options.dryRun ?? false,
        verbose: Boolean(options.verbose || options.dryRun),
        // Planning first costs one more read of each switch: only when a bar will show it.
        ...(bar.enabled ? { progress: true } : {}),
        ...(options.expectedRevision === undefined
          ? {}
          : { expectedRevision: options.expectedRevision }),
      },
      (line) => {
        const message = line as ApplyStreamLine;
        if (message.type === "plan") bar.start(message.switches);
        else if (message.type === "progress") bar.update(message.switch, message.done);
        else if (message.type === "result") result = message.result;
      },
    );
  } finally {
    bar.stop();
  }
  if (!result) throw new CliError("the daemon ended the apply without a result", ExitCode.failed);
  printChangeResult(context, result, options);
}

/** A change through one API call (endpoint/vsid/route add, move, del). */
export async function sendChange(
  context: CliContext,
  method: "POST" | "PUT" | "DELETE",
  path: string,
  body: Record<string, unknown>,
  options: ChangeOptions,
): Promise<void> {
  const result = await (await context.api()).call<ChangeResult>(method, path, {
    ...body,
    dryRun: options.dryRun ?? false,
    verbose: Boolean(options.verbose || options.dryRun),
    ...(options.expectedRevision === undefined
      ? {}
      : { expectedRevision: options.expectedRevision }),
  });
  printChangeResult(context, result, options);
}

/** `--to leaf3:4 [--vlan 10]` or `--nve hv-7`, exactly one of them. */
export function locationFrom(options: {
  to?: { switch: string; port: number };
  vlan?: number;
  nve?: string;
}): EndpointLocationSpec {
  if (options.to && options.nve) {
    throw new CliError("give either --to SWITCH:PORT or --nve NAME, not both", ExitCode.usage);
  }
  if (options.nve) {
    if (options.vlan !== undefined) {
      throw new CliError("--vlan applies to a switch port, not to --nve", ExitCode.usage);
    }
    return { nve: options.nve };
  }
  if (!options.to) {
    throw new CliError(
      "a location is needed: --to SWITCH:PORT [--vlan N] or --nve NAME",
      ExitCode.usage,
    );
  }
  return { ...options.to, ...(options.vlan === undefined ? {} : { vlan: options.vlan }) };
}

export function printChangeResult(
  context: CliContext,
  result: ChangeResult,
  options: ChangeOptions,
): void {
  const { io } = context;
  if (options.output !== "table") {
    io.out(formatData(result, options.output));
  } else {
    if (result.dryRun || options.verbose) {
      for (const plan of result.switches) io.out(describeDiff(plan));
    }
    io.out(
      renderTable(result.switches, [
        { key: "switch", header: "switch" },
        {
          key: "reachable",
          header: "state",
          format: (_, row) => switchState(row, result.dryRun),
        },
        { key: "pipeline", header: "pipeline", format: (v) => (v ? "push" : "-") },
        { key: "inserts", header: "insert" },
        { key: "modifies", header: "modify" },
        { key: "deletes", header: "delete" },
        ...(result.dryRun ? [] : [{ key: "written", header: "written" }]),
      ]),
    );
    io.out(
      result.dryRun
        ? `dry run: nothing was changed (intent revision ${result.revision})\n`
        : `intent revision ${result.revision}\n`,
    );
    if (result.leader) {
      io.out(
        `stored by a replica that does not lead: ${result.leader} writes it to the switches (\`nvgre-ctl status\` shows when they are in sync)\n`,
      );
    }
  }
  if (result.leader === null) {
    throw new CliError(
      `stored as intent revision ${result.revision}, but no replica leads now: the next leader writes it to the switches`,
      ExitCode.notConverged,
    );
  }
  const failed = result.switches.filter((plan) => !plan.reachable || plan.error);
  if (failed.length > 0) {
    throw new CliError(
      `${failed.length} of ${result.switches.length} switches ${result.dryRun ? "could not be planned" : "are not converged yet (the daemon keeps retrying)"}: ${failed.map((p) => `${p.switch} (${p.error ?? "unreachable"})`).join("; ")}`,
      ExitCode.notConverged,
    );
  }
}

function switchState(plan: SwitchPlan, dryRun: boolean): string {
  if (!plan.reachable) return colour.bad("unreachable");
  if (plan.error) return colour.bad("failed");
  const changes = plan.inserts + plan.modifies + plan.deletes;
  if (changes === 0 && !plan.pipeline) return colour.good("in sync");
  return dryRun ? colour.warn("would change") : colour.good("converged");
}

const opSigns: Record<EntityChange["op"], string> = { insert: "+", modify: "~", delete: "-" };

/** A switch's changes, one per line, marked like a diff: + insert, ~ modify, - delete. */
export function describeDiff(plan: SwitchPlan): string {
  const lines = [colour.bold(`--- ${plan.switch}`)];
  if (!plan.reachable) lines.push(colour.bad(`  unreachable: ${plan.error ?? "no session"}`));
  if (plan.pipeline)
    lines.push(colour.warn("  ~ pipeline (cookie differs): pushed before any entity"));
  for (const change of plan.changes ?? []) {
    const text = `  ${opSigns[change.op]} ${change.entity}`;
    lines.push(
      change.op === "insert"
        ? colour.good(text)
        : change.op === "delete"
          ? colour.bad(text)
          : colour.warn(text),
    );
  }
  if (plan.reachable && (plan.changes ?? []).length === 0 && !plan.pipeline) {
    lines.push(colour.dim("  (no changes)"));
  }
  return `${lines.join("\n")}\n`;
}

/** One cli-progress bar over all switches' writes, on stderr, only on a terminal. */
class ProgressDisplay {
  private bar: SingleBar | undefined;
  private readonly doneBySwitch = new Map<string, number>();

  constructor(readonly enabled: boolean) {}

  start(plans: SwitchPlan[]): void {
    const total = plans.reduce((sum, p) => sum + p.inserts + p.modifies + p.deletes, 0);
    if (!this.enabled || total < progressThreshold) return;
    this.bar = new SingleBar({
      format: "applying [{bar}] {percentage}% | {value}/{total} entities | {eta_formatted} left",
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
    });
    this.bar.start(total, 0);
  }

  update(switchName: string, done: number): void {
    if (!this.bar) return;
    this.doneBySwitch.set(switchName, done);
    let sum = 0;
    for (const value of this.doneBySwitch.values()) sum += value;
    this.bar.update(sum);
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}
