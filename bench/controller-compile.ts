/**
 * Controller compile + diff benchmark (issue 6): a synthetic fabric of 16 switches
 * (bench/support/synthetic-fabric.ts) with 1,000 / 10,000 / 100,000 endpoints, compiled to
 * every switch's desired state and diffed, switch by switch, against what the switch reads
 * back when it is in sync (a full comparison that finds nothing); then one endpoint moved,
 * as a full compile (compile with the stored ids + diff of every switch) and as the daemon
 * does it (incremental recompile + the plan from each switch's change log; median of 21 moves),
 * with the writes it needs. Both exclude validating the moved document (the validate column).
 * Goal: 100,000 endpoints compiled and diffed in under 1 s and 500 MB (peak RSS, taken right
 * after the diff). Each size runs in its own worker process, so its peak RSS is its own.
 *
 *   node dist/bench/controller-compile.js [--endpoints 1000,10000,100000]
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { codecFor, compileFabric } from "../controller/compile/compile.js";
import { recompile } from "../controller/compile/incremental.js";
import { SwitchState } from "../controller/compile/state.js";
import { moveEndpoint } from "../controller/daemon/intent-changes.js";
import { validateDocument } from "../controller/intent/load.js";
import { type ResourceChange, ResourceSet } from "../controller/intent/resources.js";
import { validateChange } from "../controller/intent/validate-change.js";
import { loadNvgrePipeline } from "../controller/nvgre-build.js";
import { diffStates, planSince, planSize } from "../controller/reconcile/diff.js";
import { printTable } from "./report.js";
import { moveToAnotherLeaf, syntheticFabric } from "./support/synthetic-fabric.js";

interface RunResult {
  endpoints: number;
  entities: number;
  validateMs: number;
  compileMs: number;
  diffMs: number;
  moveMs: number;
  moveWrites: number;
  incrementalMoveMs: number;
  incrementalMoveWrites: number;
  heapMB: number;
  peakRssMB: number;
}

function totalEntities(states: Map<string, SwitchState>): number {
  let total = 0;
  for (const state of states.values()) total += state.size;
  return total;
}

/**
 * What a switch reads back, as the reconciler holds it: the same entities, every key and value
 * a fresh string (decoded from a Read, so no string is shared with the desired state).
 */
function readBackCopy(state: SwitchState): SwitchState {
  const copy = new SwitchState(state.switchName);
  for (const [collection, entries] of state.collections) {
    const target = copy.collection(collection);
    for (const [key, value] of entries) target.set(` ${key}`.slice(1), ` ${value}`.slice(1));
  }
  return copy;
}

const INCREMENTAL_MOVES = 21;

/** Endpoint `index` (modulo their number) moved to another leaf of its VSID, as resource changes. */
function movedOne(resources: ResourceSet, index: number): ResourceChange[] {
  const { name, location } = moveToAnotherLeaf(resources.document, index);
  return moveEndpoint(name, location)(resources);
}

/** One measured run (worker process): prints its RunResult as JSON on stdout. */
function worker(endpoints: number): void {
  const pipeline = loadNvgrePipeline();
  const codec = codecFor(pipeline.index);
  // The canonical document (lists in resource-name order), as a daemon holds it.
  const resources = ResourceSet.of(syntheticFabric(endpoints));
  const document = resources.document;
  const t0 = performance.now();
  const fabric = validateDocument(document);
  const t1 = performance.now();
  const compiled = compileFabric(fabric, pipeline.index);
  const t2 = performance.now();
  // Switch by switch, as the reconciler reads them: diff against the read-back state.
  let diffMs = 0;
  for (const [name, state] of compiled.switches) {
    const observed = readBackCopy(state);
    const start = performance.now();
    const differences = planSize(diffStates(state, observed, codec));
    diffMs += performance.now() - start;
    if (differences !== 0)
      throw new Error(`${name}: ${differences} differences in an identical state`);
  }
  const heapMB = process.memoryUsage().heapUsed / 2 ** 20;
  const peakRssMB = process.resourceUsage().maxRSS / 1024;
  // Move one endpoint to another leaf of its VSID: compile with the stored ids, then diff.
  const firstMove = movedOne(resources, 0);
  const moved = resources.with(firstMove);
  const movedFabric = validateDocument(moved.document);
  const t5 = performance.now();
  const after = compileFabric(movedFabric, pipeline.index, compiled.allocations);
  let moveWrites = 0;
  for (const [name, state] of after.switches) {
    moveWrites += planSize(diffStates(state, compiled.switches.get(name) as SwitchState, codec));
  }
  const t6 = performance.now();
  // The same move as the daemon makes it (the move's resource change, validated against the
  // fabric's indexes, then only the units it touches recompiled and planned from the log), then
  // more moves in turn: the median of those, warm, is what a running daemon sees.
  let live = compiled;
  let incrementalMoveWrites = 0;
  const incrementalMs: number[] = [];
  let current = resources;
  let currentFabric = fabric;
  for (let i = 0; i < INCREMENTAL_MOVES; i++) {
    const changes = i === 0 ? firstMove : movedOne(current, i * 7919);
    const next = current.with(changes);
    const nextFabric = validateChange(currentFabric, next.document, changes);
    const generations = new Map([...live.switches].map(([name, s]) => [name, s.generation]));
    const start = performance.now();
    const pending = recompile(live, nextFabric, pipeline.index, changes);
    if (!pending) throw new Error("the move was not recompiled incrementally");
    live = pending.commit();
    let writes = 0;
    for (const [name, state] of live.switches) {
      const plan = planSince(state, generations.get(name) ?? 0, codec);
      if (!plan) throw new Error(`${name}: no change log`);
      writes += planSize(plan);
    }
    incrementalMs.push(performance.now() - start);
    if (i === 0) incrementalMoveWrites = writes;
    current = next;
    currentFabric = nextFabric;
  }
  incrementalMs.sort((a, b) => a - b);
  const result: RunResult = {
    endpoints,
    entities: totalEntities(compiled.switches),
    validateMs: t1 - t0,
    compileMs: t2 - t1,
    diffMs,
    moveMs: t6 - t5,
    moveWrites,
    incrementalMoveMs: incrementalMs[Math.floor(incrementalMs.length / 2)] as number,
    incrementalMoveWrites,
    heapMB,
    peakRssMB,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function main(): void {
  const program = new Command()
    .name("controller-compile")
    .description("compile + diff time and peak memory of the controller for synthetic fabrics")
    .option("--endpoints <list>", "endpoint counts", "1000,10000,100000")
    .option("--worker <count>", "(internal) run one measurement");
  program.parse();
  const opts = program.opts<{ endpoints: string; worker?: string }>();
  if (opts.worker) {
    worker(Number(opts.worker));
    return;
  }
  const head = [
    "endpoints",
    "entities",
    "validate ms",
    "compile ms",
    "diff ms",
    "compile+diff ms",
    "peak RSS MB",
    "move, full compile + diff ms",
    "move, incremental ms (median)",
    "move: writes",
  ];
  const rows: string[][] = [];
  const self = fileURLToPath(import.meta.url);
  for (const count of opts.endpoints.split(",").map(Number)) {
    const out = execFileSync(process.execPath, [self, "--worker", String(count)], {
      encoding: "utf8",
      maxBuffer: 1 << 20,
    });
    const r = JSON.parse(out) as RunResult;
    rows.push([
      r.endpoints.toLocaleString("en"),
      r.entities.toLocaleString("en"),
      r.validateMs.toFixed(0),
      r.compileMs.toFixed(0),
      r.diffMs.toFixed(0),
      (r.compileMs + r.diffMs).toFixed(0),
      r.peakRssMB.toFixed(0),
      r.moveMs.toFixed(0),
      r.incrementalMoveMs.toFixed(0),
      r.moveWrites === r.incrementalMoveWrites
        ? String(r.moveWrites)
        : `${r.moveWrites} ≠ ${r.incrementalMoveWrites}`,
    ]);
  }
  console.log("controller compile + diff, 16 switches (goal: 100,000 endpoints < 1 s, < 500 MB)");
  printTable(head, rows);
}

main();
