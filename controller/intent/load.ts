/**
 * From a fabric file's text (YAML, which includes JSON) to the validated Fabric: YAML syntax,
 * then the schema, then the cross-reference checks. Every issue is reported with the line and
 * column of the node it is about, so "switches[1].ports[0].mtu" becomes "fabric.yaml:23:11".
 */
import { type Alias, type Document, isNode, LineCounter, parseDocument, visit } from "yaml";
import type { z } from "zod";
import { IntentError, type IntentIssue, type IntentPath } from "./errors.js";
import { MAX_YAML_ALIASES, MAX_YAML_DEPTH } from "./limits.js";
import type { Fabric } from "./model.js";
import { type FabricDocument, type FabricFile, fabricFileSchema } from "./schema.js";
import { validateFabric } from "./validate.js";
import { parseLean } from "./yaml-lean.js";

export interface LoadedFabric {
  /** The document as written (what an intent store keeps). */
  document: FabricDocument;
  fabric: Fabric;
}

/** Parses and validates fabric text; throws IntentError naming every problem. */
export function loadFabricText(text: string, source = "fabric"): LoadedFabric {
  const document = parseFabricYaml(text, source);
  try {
    return { document, fabric: validateDocument(document, source) };
  } catch (error) {
    if (!(error instanceof IntentError)) throw error;
    // Only now the positions: the syntax tree is parsed again (it costs many times the text's
    // size, so a valid file never keeps it while the intent is validated and compiled).
    const lines = new LineCounter();
    const yaml = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
    throw new IntentError(
      error.issues.map((issue) => locate(issue, yaml, lines)),
      source,
    );
  }
}

/**
 * YAML (or JSON) text to plain data, refusing what would exhaust the process: nesting deeper
 * than MAX_YAML_DEPTH (checked on the text, before the parser recurses into it) and aliases
 * that expand more than MAX_YAML_ALIASES times (the "billion laughs").
 */
function parseFabricYaml(text: string, source: string): FabricDocument {
  const tooDeep = nestingBeyond(text, MAX_YAML_DEPTH);
  if (tooDeep !== undefined) {
    throw new IntentError(
      [
        {
          path: [],
          message: `YAML: nested deeper than ${MAX_YAML_DEPTH} levels (a fabric file needs about 6)`,
          line: tooDeep,
        },
      ],
      source,
    );
  }
  const lean = parseLean(text);
  if (lean !== undefined) return lean as FabricDocument;
  const lines = new LineCounter();
  const yaml = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (yaml.errors.length > 0) {
    throw new IntentError(
      yaml.errors.map((error) => {
        const { line, col } = lines.linePos(error.pos[0]);
        return { path: [], message: `YAML: ${error.message.split("\n")[0]}`, line, column: col };
      }),
      source,
    );
  }
  try {
    return yaml.toJS({ maxAliasCount: MAX_YAML_ALIASES }) as FabricDocument;
  } catch (error) {
    // The yaml package's answer to an alias bomb: "Excessive alias count indicates a resource
    // exhaustion attack".
    if (!(error instanceof ReferenceError)) throw error;
    const alias = firstAlias(yaml);
    const at = alias?.range ? lines.linePos(alias.range[0]) : undefined;
    throw new IntentError(
      [
        {
          path: [],
          message: `YAML: aliases expand more than ${MAX_YAML_ALIASES} times (maxAliasCount); refused as a resource-exhaustion document`,
          ...(at ? { line: at.line, column: at.col } : {}),
        },
      ],
      source,
    );
  }
}

/** The first alias (`*name`) of the document, for the line of an alias-count error. */
function firstAlias(yaml: Document) {
  let found: Alias | undefined;
  visit(yaml, {
    Alias(_, node) {
      found = node;
      return visit.BREAK;
    },
  });
  return found;
}

/**
 * The line where the text nests deeper than `limit`, if it does: flow collections counted by
 * their brackets (outside quotes and comments), block collections by their indentation levels,
 * each "- " of a compact sequence as one more level. A bound on what the parser will recurse
 * into, not a YAML parser: it may overcount odd layouts, never undercount.
 */
export function nestingBeyond(text: string, limit: number): number | undefined {
  const blocks: number[] = [];
  let flow = 0;
  let quote = "";
  let line = 0;
  for (let start = 0; start < text.length; ) {
    const newline = text.indexOf("\n", start);
    const end = newline === -1 ? text.length : newline;
    line++;
    let i = start;
    if (flow === 0 && quote === "") {
      // Block structure: the indentation, then each "- " / "? " of a compact collection.
      while (text[i] === " ") i++;
      if (i < end && text[i] !== "#" && text[i] !== "\r") {
        for (;;) {
          const column = i - start;
          while (blocks.length > 0 && (blocks[blocks.length - 1] as number) > column) blocks.pop();
          if (blocks.length === 0 || (blocks[blocks.length - 1] as number) < column)
            blocks.push(column);
          if ((text[i] === "-" || text[i] === "?") && (text[i + 1] === " " || i + 1 >= end)) {
            i += 2;
            while (text[i] === " ") i++;
            if (i < end) continue;
          }
          break;
        }
      }
    }
    for (; i < end; i++) {
      const c = text[i];
      if (quote) {
        if (c === "\\" && quote === '"') i++;
        else if (c === quote) quote = "";
      } else if (c === "#" && (i === start || text[i - 1] === " " || text[i - 1] === "\t")) break;
      else if (c === '"' || c === "'") quote = c;
      else if (c === "[" || c === "{") flow++;
      else if ((c === "]" || c === "}") && flow > 0) flow--;
      if (flow + blocks.length > limit) return line;
    }
    if (flow + blocks.length > limit) return line;
    start = end + 1;
  }
  return undefined;
}

/** Validates a document already in memory (e.g. read back from an intent store). */
export function validateDocument(document: unknown, source?: string): Fabric {
  // reportInput: so a field of the wrong type is told apart from a missing one (zodIssues).
  const parsed = fabricFileSchema.safeParse(document ?? {}, { reportInput: true });
  if (!parsed.success) throw new IntentError(zodIssues(parsed.error), source);
  return validateFabric(parsed.data as FabricFile, source);
}

/** zod's issues as the intent reports them (a wrong type told apart from a missing field). */
export function zodIssues(error: z.ZodError): IntentIssue[] {
  return error.issues.map((issue) => {
    const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
    if (issue.code === "unrecognized_keys") {
      return {
        path,
        message: `unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}`,
      };
    }
    if (issue.code === "invalid_type") {
      const expected = expectedNames[issue.expected] ?? issue.expected;
      return {
        path,
        message:
          issue.input === undefined
            ? `missing (expected ${expected})`
            : `expected ${expected}, got ${describeValue(issue.input)}`,
      };
    }
    return { path, message: issue.message };
  });
}

/** zod's type names as a sentence says them; every number of the fabric file is an integer. */
const expectedNames: Record<string, string> = {
  number: "an integer",
  int: "an integer",
  string: "a string",
  boolean: "true or false",
  array: "a list",
  object: "a mapping",
};

/** What the file holds where a type was wrong, e.g. `the string "one"`, `1.5`, `a list`. */
function describeValue(value: unknown): string {
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  if (value === null) return "null (an empty value)";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return String(value);
}

/** Adds the line and column of the deepest node of the issue's path that exists in the text. */
function locate(issue: IntentIssue, yaml: Document, lines: LineCounter): IntentIssue {
  for (let depth = issue.path.length; depth >= 0; depth--) {
    const node = yaml.getIn(issue.path.slice(0, depth) as IntentPath, true);
    if (isNode(node) && node.range) {
      const { line, col } = lines.linePos(node.range[0]);
      return { ...issue, line, column: col };
    }
  }
  return issue;
}
