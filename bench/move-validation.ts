/**
 * An endpoint move's controller work in one process (issue 11), stage by stage, on the
 * synthetic fabric of bench/controller-compile (16 switches: two leaves cannot hold 100,000
 * endpoints) with 1,000 / 10,000 / 100,000 endpoints, each move to another leaf of its VSID:
 * the resource change (the move's own, read by name) applied to the resources, the validation of the whole moved document
 * (validateDocument, what every move paid before), the change's validation
 * (validate-change.ts, what the daemon does now) and the incremental recompile. Median and p99
 * over the moves; no store and no switches (bench/controller-move times those end to end).
 *
 *   node dist/bench/move-validation.js [--sizes 1000,10000,100000] [--moves 100]
 */
import { loadavg } from "node:os";
import { Command } from "commander";
import { compileFabric } from "../controller/compile/compile.js";
import { recompile } from "../controller/compile/incremental.js";
import { moveEndpoint } from "../controller/daemon/intent-changes.js";
import { validateDocument } from "../controller/intent/load.js";
import { ResourceSet } from "../controller/intent/resources.js";
import { validateChange } from "../controller/intent/validate-change.js";
import { loadNvgrePipeline } from "../controller/nvgre-build.js";
import { percentile, printTable } from "./report.js";
import { moveToAnotherLeaf, syntheticFabric } from "./support/synthetic-fabric.js";

const stages = ["resource change", "whole validation", "change validation", "recompile"] as const;

function measure(endpoints: number, moves: number): Record<(typeof stages)[number], number[]> {
  const pipeline = loadNvgrePipeline();
  let resources = ResourceSet.of(syntheticFabric(endpoints));
  let fabric = validateDocument(resources.document);
  let compiled = compileFabric(fabric, pipeline.index);
  const times = Object.fromEntries(stages.map((s) => [s, [] as number[]])) as Record<
    (typeof stages)[number],
    number[]
  >;
  for (let i = 0; i < moves; i++) {
    const { name, location } = moveToAnotherLeaf(resources.document, i * 7919);
    const t0 = performance.now();
    const changes = moveEndpoint(name, location)(resources);
    const next = resources.with(changes);
    const t1 = performance.now();
    validateDocument(next.document);
    const t2 = performance.now();
    const nextFabric = validateChange(fabric, next.document, changes);
    const t3 = performance.now();
    const pending = recompile(compiled, nextFabric, pipeline.index);
    if (!pending) throw new Error("the move was not recompiled incrementally");
    compiled = pending.commit();
    const t4 = performance.now();
    times["resource change"].push(t1 - t0);
    times["whole validation"].push(t2 - t1);
    times["change validation"].push(t3 - t2);
    times.recompile.push(t4 - t3);
    resources = next;
    fabric = nextFabric;
  }
  return times;
}

function main(): void {
  const opts = new Command("move-validation")
    .option("--sizes <list>", "fabric sizes (endpoints)", "1000,10000,100000")
    .option("--moves <n>", "moves measured per size", "100")
    .parse()
    .opts<{ sizes: string; moves: string }>();
  const rows: string[][] = [];
  for (const endpoints of opts.sizes.split(",").map(Number)) {
    const times = measure(endpoints, Number(opts.moves));
    const row = [endpoints.toLocaleString("en")];
    for (const stage of stages) {
      const sorted = times[stage].sort((a, b) => a - b);
      row.push(`${percentile(sorted, 50).toFixed(2)} / ${percentile(sorted, 99).toFixed(2)}`);
    }
    rows.push(row);
  }
  console.log(
    `endpoint move, controller stages in one process, median / p99 ms over ${opts.moves} moves (load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}):`,
  );
  printTable(["endpoints", ...stages], rows);
}

main();
