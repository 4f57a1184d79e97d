/**
 * A fabric file parsed so that its memory stays in proportion to the data rather than to the
 * `yaml` package's syntax tree, which costs about 100× the text (a 14 MB file of 100,000
 * endpoints would take 1.5 GB). JSON (which is YAML too) goes through JSON.parse, once no object
 * in it repeats a key. A block-style YAML file is cut at its top-level keys, and a top-level
 * block sequence (endpoints, …) into runs of items; each part is parsed on its own, turned into
 * plain data and dropped before the next.
 *
 * Only an optimisation: whenever a part does not parse cleanly (a syntax error, an alias to an
 * anchor in another part, a key given twice, anything unusual), the caller parses the whole
 * text instead, which reports the problem with its line as before.
 */
import { parseDocument } from "yaml";
import { MAX_YAML_ALIASES } from "./limits.js";

/** Items of a top-level sequence parsed together: small enough that one part's tree is cheap. */
const ITEMS_PER_PART = 1000;

/** Start offsets of the text's lines. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return starts;
}

/** Plain data of one part, or undefined when the part must not be judged alone. */
function parsePart(text: string): unknown {
  const document = parseDocument(text, { uniqueKeys: true });
  if (document.errors.length > 0 || document.warnings.length > 0) return undefined;
  try {
    return document.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch {
    return undefined;
  }
}

function isContent(text: string, at: number): boolean {
  const c = text[at];
  return c !== undefined && c !== "\n" && c !== "\r" && c !== "#";
}

/** The file's data parsed the lean way, or undefined: then parse it whole with `yaml`. */
export function parseLean(text: string): unknown {
  if (/^\s*\{/.test(text)) {
    try {
      const data: unknown = JSON.parse(text);
      return repeatsAKey(text) ? undefined : data;
    } catch {
      return undefined;
    }
  }
  return parseInParts(text);
}

/**
 * Whether an object of this (well-formed) JSON text names a key twice, which JSON.parse would
 * take silently and YAML refuses. Keys are compared as written, escapes included.
 */
function repeatsAKey(text: string): boolean {
  const open: (Set<string> | undefined)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
      const keys = open[open.length - 1];
      if (expectKey && keys) {
        const key = text.slice(i + 1, end);
        if (keys.has(key)) return true;
        keys.add(key);
      }
      expectKey = false;
      i = end;
    } else if (c === "{") {
      open.push(new Set());
      expectKey = true;
    } else if (c === "[") {
      open.push(undefined);
    } else if (c === "}" || c === "]") {
      open.pop();
    } else if (c === ",") {
      expectKey = open[open.length - 1] !== undefined;
    }
  }
  return false;
}

/** The top-level mapping of a block-style file, parsed part by part; undefined = parse it whole. */
export function parseInParts(text: string): Record<string, unknown> | undefined {
  const starts = lineStarts(text);
  // Sections: lines with content in column 0. A top-level sequence, directives or document
  // markers mean the file is not one block mapping.
  const sections: number[] = [];
  for (const [index, start] of starts.entries()) {
    const c = text[start];
    if (c === "-" || c === "%" || text.startsWith("...", start)) return undefined;
    if (c !== " " && c !== "\t" && isContent(text, start)) sections.push(index);
  }
  if (sections.length === 0) return undefined;
  const result: Record<string, unknown> = {};
  for (const [n, first] of sections.entries()) {
    const last = sections[n + 1] ?? starts.length;
    const from = starts[first] as number;
    const to = starts[last] ?? text.length;
    const parts = sequenceParts(text, starts, first + 1, last);
    let value: Record<string, unknown> | undefined;
    if (!parts) {
      const parsed = parsePart(text.slice(from, to));
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
      value = parsed as Record<string, unknown>;
    } else {
      const header = parsePart(text.slice(from, starts[first + 1] ?? to));
      const keys = typeof header === "object" && header !== null ? Object.keys(header) : [];
      if (keys.length !== 1 || (header as Record<string, unknown>)[keys[0] as string] !== null) {
        return undefined;
      }
      const items: unknown[] = [];
      for (const [partFrom, partTo] of parts) {
        const part = parsePart(text.slice(partFrom, partTo));
        if (!Array.isArray(part)) return undefined;
        for (const item of part) items.push(item);
      }
      value = { [keys[0] as string]: items };
    }
    for (const [key, v] of Object.entries(value)) {
      if (key in result) return undefined;
      result[key] = v;
    }
  }
  return result;
}

/**
 * When the lines [first, last) are a block sequence (items "- " at one indentation), the text
 * ranges of runs of ITEMS_PER_PART items; otherwise undefined.
 */
function sequenceParts(
  text: string,
  starts: number[],
  first: number,
  last: number,
): [number, number][] | undefined {
  let indent = -1;
  const items: number[] = [];
  for (let line = first; line < last; line++) {
    const start = starts[line] as number;
    let at = start;
    while (text[at] === " ") at++;
    if (!isContent(text, at)) continue;
    if (indent === -1) {
      if (text[at] !== "-" || (text[at + 1] !== " " && text[at + 1] !== "\n")) return undefined;
      indent = at - start;
    }
    if (at - start > indent) continue;
    // Another line at the items' indentation (or left of it) that is not an item: not simple.
    if (
      at - start < indent ||
      text[at] !== "-" ||
      (text[at + 1] !== " " && text[at + 1] !== "\n")
    ) {
      return undefined;
    }
    items.push(start);
  }
  if (items.length < 2 * ITEMS_PER_PART) return undefined;
  const end = starts[last] ?? text.length;
  const parts: [number, number][] = [];
  for (let i = 0; i < items.length; i += ITEMS_PER_PART) {
    parts.push([items[i] as number, items[i + ITEMS_PER_PART] ?? end]);
  }
  return parts;
}
