/**
 * What works without a daemon (a CI pipeline checking a fabric file): `validate -f` and
 * `apply --dry-run --offline`. The file goes through the same parsing, validation and compiler
 * as in the daemon, so the messages and exit statuses are the same; a dry run plans against
 * an empty fabric, or against a stored intent (`--against`), instead of reading the switches.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { codecFor, compileFabric } from "../compile/compile.js";
import { SwitchState } from "../compile/state.js";
import { carryLearnedEndpoints } from "../daemon/intent-changes.js";
import type { ChangeResult, SwitchPlan } from "../daemon/protocol.js";
import { StoredIntent } from "../daemon/stored-intent.js";
import { IntentError } from "../intent/errors.js";
import { loadFabricText, validateDocument } from "../intent/load.js";
import type { Fabric } from "../intent/model.js";
import type { FabricDocument } from "../intent/schema.js";
import { decodeFabricBytes } from "../intent/source-text.js";
import { openStore } from "../intent/store/open.js";
import type { KvStore } from "../intent/store/types.js";
import { loadNvgrePipeline } from "../nvgre-build.js";
import { diffStates } from "../reconcile/diff.js";
import { type ChangeOptions, printChangeResult } from "./changes.js";
import type { CliContext } from "./context.js";
import { CliError, ExitCode } from "./exit-codes.js";
import { invalidIntentError } from "./intent-errors.js";
import { formatData, type OutputFormat } from "./output.js";
import { readFabricInput } from "./read-input.js";

/** The daemon's default ageing of learned endpoints (learned_mac idle timeout), as it compiles. */
const defaultCompileOptions = { learnedIdleTimeoutNs: 300 * 1e9 };

function offline<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof IntentError) throw invalidIntentError(error);
    throw error;
  }
}

/** `nvgre-ctl validate -f FILE`: parse, validate and compile; print a summary. */
export async function validateFile(
  context: CliContext,
  file: string,
  options: { maxBytes: number; output: OutputFormat },
): Promise<void> {
  const { text, source } = await readFabricInput(file, options.maxBytes);
  const { fabric, entities } = offline(() => {
    const loaded = loadFabricText(text, source);
    const compiled = compileFabric(
      loaded.fabric,
      loadNvgrePipeline().index,
      undefined,
      defaultCompileOptions,
    );
    let count = 0;
    for (const state of compiled.switches.values()) count += state.size;
    return { fabric: loaded.fabric, entities: count };
  });
  const summary = {
    file: source,
    valid: true,
    switches: fabric.switches.length,
    virtualSubnets: fabric.virtualSubnets.length,
    endpoints: fabric.endpoints.length,
    entities,
  };
  context.io.out(
    options.output === "table"
      ? `${source}: valid (${summary.switches} switches, ${summary.virtualSubnets} virtual subnets, ${summary.endpoints} endpoints; ${entities} P4Runtime entities)\n`
      : formatData(summary, options.output),
  );
}

/** `apply --dry-run --offline [--against STORED]`: the plan of each switch, nothing read or written. */
export async function planOffline(
  context: CliContext,
  file: string,
  options: ChangeOptions & { maxBytes: number; against?: string },
): Promise<void> {
  const { text, source } = await readFabricInput(file, options.maxBytes);
  const stored = options.against === undefined ? undefined : await readStored(options.against);
  const result = offline(() => {
    const pipeline = loadNvgrePipeline();
    const codec = codecFor(pipeline.index);
    const loaded = loadFabricText(text, source);
    const next = stored ? withLearned(loaded, stored.document) : loaded.fabric;
    const before = stored
      ? compileFabric(
          validateDocument(stored.document, options.against),
          pipeline.index,
          stored.allocations,
          defaultCompileOptions,
        )
      : undefined;
    const after = compileFabric(next, pipeline.index, before?.allocations, defaultCompileOptions);
    const switches: SwitchPlan[] = [...after.switches.values()].map((desired) => {
      const held = before?.switches.get(desired.switchName) ?? new SwitchState(desired.switchName);
      const plan = diffStates(desired, held, codec);
      return {
        switch: desired.switchName,
        reachable: true,
        inserts: plan.inserts,
        modifies: plan.modifies,
        deletes: plan.deletes,
        // A switch new to the fabric gets the pipeline first; one of the stored intent holds it.
        pipeline: !before?.switches.has(desired.switchName),
        written: 0,
        changes: plan.steps.flat().map((u) => ({
          op: u.type === "INSERT" ? "insert" : u.type === "MODIFY" ? "modify" : "delete",
          entity: codec.describe(u.collection, u.key, u.value),
        })),
      };
    });
    return { dryRun: true, revision: stored?.revision ?? 0, switches } satisfies ChangeResult;
  });
  printChangeResult(context, result, { ...options, dryRun: true });
}

/**
 * Learned endpoints of the stored intent carry over as the daemon's apply carries them; if
 * they no longer fit the new file, the plan is the file's own.
 */
function withLearned(
  loaded: { document: FabricDocument; fabric: Fabric },
  current: FabricDocument,
): Fabric {
  const merged = carryLearnedEndpoints(loaded.document, current);
  if (merged === loaded.document) return loaded.fabric;
  try {
    return validateDocument(merged);
  } catch (error) {
    if (error instanceof IntentError) return loaded.fabric;
    throw error;
  }
}

interface StoredCopy {
  revision: number;
  document: FabricDocument;
  allocations?: Parameters<typeof compileFabric>[2];
}

/**
 * What `--against` names: the daemon's intent store (its state directory, `embedded:<dir>` or
 * an `etcd://` URL; read without taking the daemon's lock) or a fabric file.
 */
async function readStored(where: string): Promise<StoredCopy> {
  const isStoreUrl = /^(embedded:|etcds?:\/\/)/.test(where);
  const isDirectory = !isStoreUrl && statSync(where, { throwIfNoEntry: false })?.isDirectory();
  if (!isStoreUrl && !isDirectory) return readFabricFile(where);
  if (isDirectory && !existsSync(join(where, "store.db"))) {
    throw new CliError(
      `${where}: no intent store in this directory (no store.db)`,
      ExitCode.failed,
    );
  }
  let store: KvStore;
  try {
    store = await openStore(isDirectory ? { kind: "embedded", dir: where } : where);
  } catch (error) {
    throw new CliError(
      `cannot open the store ${where}: ${(error as Error).message}`,
      ExitCode.failed,
    );
  }
  try {
    const intent = await StoredIntent.load(store);
    if (intent.empty) throw new CliError(`${where}: the store holds no intent`, ExitCode.failed);
    return {
      revision: intent.changeRevision,
      document: intent.document,
      allocations: intent.allocations,
    };
  } finally {
    await store.close();
  }
}

function readFabricFile(path: string): StoredCopy {
  let text: string;
  try {
    text = decodeFabricBytes(readFileSync(path), path);
  } catch (error) {
    if (error instanceof IntentError) throw invalidIntentError(error);
    throw new CliError(`cannot read ${path}: ${(error as Error).message}`, ExitCode.failed);
  }
  return { revision: 0, document: offline(() => loadFabricText(text, path).document) };
}
