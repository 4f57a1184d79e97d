/**
 * From a fabric file's text (YAML, which includes JSON) to the validated Fabric: YAML syntax,
 * then the schema, then the cross-reference checks. Every issue is reported with the line and
 * column of the node it is about, so "switches[1].ports[0].mtu" becomes "fabric.yaml:23:11".
 */
import { type Document, isNode, LineCounter, parseDocument } from "yaml";
import type { z } from "zod";
import { IntentError, type IntentIssue, type IntentPath } from "./errors.js";
import type { Fabric } from "./model.js";
import { type FabricDocument, type FabricFile, fabricFileSchema } from "./schema.js";
import { validateFabric } from "./validate.js";

export interface LoadedFabric {
  /** The document as written (what an intent store keeps). */
  document: FabricDocument;
  fabric: Fabric;
}

/** Parses and validates fabric text; throws IntentError naming every problem. */
export function loadFabricText(text: string, source = "fabric"): LoadedFabric {
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
  const document = yaml.toJS() as FabricDocument;
  try {
    return { document, fabric: validateDocument(document, source) };
  } catch (error) {
    if (error instanceof IntentError) {
      throw new IntentError(
        error.issues.map((issue) => locate(issue, yaml, lines)),
        source,
      );
    }
    throw error;
  }
}

/** Validates a document already in memory (e.g. read back from an intent store). */
export function validateDocument(document: unknown, source?: string): Fabric {
  // reportInput: so a field of the wrong type is told apart from a missing one (zodIssues).
  const parsed = fabricFileSchema.safeParse(document ?? {}, { reportInput: true });
  if (!parsed.success) throw new IntentError(zodIssues(parsed.error), source);
  return validateFabric(parsed.data as FabricFile, source);
}

function zodIssues(error: z.ZodError): IntentIssue[] {
  return error.issues.map((issue) => {
    const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
    if (issue.code === "unrecognized_keys") {
      return {
        path,
        message: `unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}`,
      };
    }
    if (issue.code === "invalid_type" && issue.input === undefined) {
      return { path, message: `missing (expected ${issue.expected})` };
    }
    return { path, message: issue.message };
  });
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
