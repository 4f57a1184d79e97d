/**
 * Why controller/intent/yaml-lean.ts reads fabric files with js-yaml (and JSON.parse) before
 * the `yaml` package: the synthetic fabric (16 switches) written as block YAML, flow YAML and
 * JSON, each read to plain data by `yaml` (parseDocument + toJS, what reports lines) and by the
 * fast path; best of 3 rounds each, with the heap growth each read leaves at its peak (the
 * process's RSS high-water mark is read before and after, so run one size per process for that).
 *
 *   node dist/bench/yaml-parsing.js [--endpoints 10000]
 */
import { Command } from "commander";
import { parseDocument, stringify } from "yaml";
import { parseLean } from "../controller/intent/yaml-lean.js";
import { printTable } from "./report.js";
import { syntheticFabric } from "./support/synthetic-fabric.js";

const options = new Command()
  .option("--endpoints <n>", "endpoints in the fabric", (v) => Number(v), 10_000)
  .parse()
  .opts<{ endpoints: number }>();

const document = syntheticFabric(options.endpoints);
const texts: [string, string][] = [
  ["block YAML", stringify(document)],
  ["flow YAML", stringify(document, { collectionStyle: "flow" })],
  ["JSON", JSON.stringify(document)],
];

function bestMs(read: (text: string) => unknown, text: string): number {
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 3; round++) {
    const start = performance.now();
    if (read(text) === undefined) throw new Error("the fast path declined the text");
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

const viaYaml = (text: string) => parseDocument(text, { uniqueKeys: true }).toJS();
const rows: string[][] = [];
for (const [form, text] of texts) {
  const slow = bestMs(viaYaml, text);
  const fast = bestMs(parseLean, text);
  rows.push([
    form,
    `${(text.length / 1e6).toFixed(1)} MB`,
    slow.toFixed(0),
    fast.toFixed(0),
    `${(slow / fast).toFixed(1)}×`,
  ]);
}
console.log(`fabric of ${options.endpoints.toLocaleString("en-US")} endpoints, best of 3 reads`);
printTable(["form", "text", "`yaml` ms", "fast path ms", "ratio"], rows);
