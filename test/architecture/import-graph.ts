/**
 * The repository's import graph and the rules it must keep (issue 13): no import circle between
 * files or between folders, and arrows only in the directions the layers allow. Read from the
 * TypeScript sources' import specifiers (relative ones; packages and node: built-ins are not
 * files of ours), so it needs nothing but the file system. proto/gen (generated protobuf types,
 * which reference each other freely) is left out.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative, sep } from "node:path";

const skippedDirs = new Set(["node_modules", "dist", ".git", "captures"]);
const generated = ["proto/gen/"];

/** `import … from "x"`, `export … from "x"`, `import "x"` at a line start, and `import("x")`. */
const specifierPatterns = [
  /^(?:import|export)\s[^;]*?\sfrom\s*["']([^"']+)["']/gm,
  /^import\s*["']([^"']+)["']/gm,
  /\bimport\(\s*["']([^"']+)["']\s*\)/g,
];

/** Relative import specifiers of one source text, in order of appearance per pattern. */
export function importSpecifiers(source: string): string[] {
  const out: string[] = [];
  for (const pattern of specifierPatterns) {
    for (const match of source.matchAll(pattern)) out.push(match[1] as string);
  }
  return out.filter((s) => s.startsWith("./") || s.startsWith("../"));
}

/** Edges file → imported file, both repository-relative with "/" separators (".ts" sources). */
export type ImportGraph = Map<string, Set<string>>;

function sourceFiles(root: string, dir = root): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (skippedDirs.has(entry.name)) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(root, path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")
      ? [relative(root, path).split(sep).join("/")]
      : [];
  });
}

const isGenerated = (file: string) => generated.some((prefix) => file.startsWith(prefix));

export function importGraph(root: string): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const file of sourceFiles(root)) {
    if (isGenerated(file)) continue;
    const targets = new Set<string>();
    for (const spec of importSpecifiers(readFileSync(join(root, file), "utf8"))) {
      const target = normalize(join(dirname(file), spec.replace(/\.js$/, ".ts")))
        .split(sep)
        .join("/");
      if (!isGenerated(target)) targets.add(target);
    }
    graph.set(file, targets);
  }
  return graph;
}

/** Strongly connected components with more than one member or a self edge (Tarjan). */
export function circles(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next);
    next++;
    stack.push(node);
    onStack.add(node);
    for (const to of graph.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node) as number, low.get(to) as number));
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node) as number, index.get(to) as number));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop() as string;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || graph.get(node)?.has(node)) found.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

/** The graph between folders: an edge wherever a file of one imports a file of another. */
export function folderGraph(graph: ImportGraph): Map<string, Set<string>> {
  const folders = new Map<string, Set<string>>();
  for (const [file, targets] of graph) {
    const from = dirname(file);
    const edges = folders.get(from) ?? new Set<string>();
    folders.set(from, edges);
    for (const target of targets) if (dirname(target) !== from) edges.add(dirname(target));
  }
  return folders;
}

/** An import direction the layers forbid: files under `from` must not import files under `to`. */
export interface ForbiddenImport {
  from: string;
  to: string;
  why: string;
}

/**
 * The softswitch's layers, lowest first (bmv2's bm_sim engine below its simple_switch target): a
 * file may import its own layer and those below, never one above. "" is the softswitch's own
 * top-level files (cli.ts, device.ts, metrics.ts).
 */
export const softswitchLayers = ["program", "core", "compile", "v1model", "p4runtime", "ports", ""];

/** The layer index of a softswitch file, -1 outside softswitch/, NaN in a folder of no layer. */
function softswitchLayer(file: string): number {
  if (!file.startsWith("softswitch/")) return -1;
  const rest = file.slice("softswitch/".length);
  const folder = rest.includes("/") ? (rest.split("/")[0] as string) : "";
  const layer = softswitchLayers.indexOf(folder);
  return layer < 0 ? Number.NaN : layer;
}

const products = ["controller/", "softswitch/"];
const productCode = [...products, "common/", "proto/"];

export const forbiddenImports: readonly ForbiddenImport[] = [
  {
    from: "controller/",
    to: "softswitch/",
    why: "the products share code only via common/, proto/",
  },
  {
    from: "softswitch/",
    to: "controller/",
    why: "the products share code only via common/, proto/",
  },
  ...productCode.flatMap((from) =>
    ["test/", "bench/", "topologies/"].map((to) => ({
      from,
      to,
      why: "product code never depends on tests, benchmarks or lab harnesses",
    })),
  ),
  ...["controller/", "softswitch/", "proto/", "topologies/"].map((to) => ({
    from: "common/",
    to,
    why: "common/ is dependency-free: both products import it, it imports neither",
  })),
  ...products.map((to) => ({ from: "proto/", to, why: "proto/ is shared by both products" })),
  { from: "bench/", to: "test/", why: "benchmarks use topologies/, never the tests' own code" },
  { from: "topologies/", to: "test/", why: "tests and benchmarks import topologies/, not back" },
];

/** Every forbidden edge, as "from → to (why)". */
export function forbiddenEdges(
  graph: ImportGraph,
  rules: readonly ForbiddenImport[] = forbiddenImports,
): string[] {
  const out: string[] = [];
  for (const [file, targets] of graph) {
    const layer = softswitchLayer(file);
    if (Number.isNaN(layer)) out.push(`${file} is in no softswitch layer (${softswitchLayers})`);
    for (const target of targets) {
      for (const rule of rules) {
        if (file.startsWith(rule.from) && target.startsWith(rule.to)) {
          out.push(`${file} → ${target} (${rule.why})`);
        }
      }
      const targetLayer = softswitchLayer(target);
      if (layer >= 0 && targetLayer > layer) {
        out.push(
          `${file} → ${target} (softswitch layer ${softswitchLayers[layer] || "softswitch/"} ` +
            `must not import the higher layer ${softswitchLayers[targetLayer] || "softswitch/"})`,
        );
      }
    }
  }
  return out;
}

/** Everything wrong with the tree at `root`: forbidden edges, file circles, folder circles. */
export function importProblems(root: string): string[] {
  const graph = importGraph(root);
  return [
    ...forbiddenEdges(graph),
    ...circles(graph).map((c) => `import circle between files: ${c.join(" ↔ ")}`),
    ...circles(folderGraph(graph)).map((c) => `import circle between folders: ${c.join(" ↔ ")}`),
  ];
}
