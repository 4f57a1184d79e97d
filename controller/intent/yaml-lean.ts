/**
 * A fabric file parsed to plain data the fast way. The `yaml` package, which reports every
 * problem with its line (load.ts), builds a syntax tree first: about 3 s and 100× the text's size
 * per megabyte, so 30 s and 1.5 GB for a 100,000-endpoint file. JSON (which is YAML too) goes
 * through JSON.parse, once no object in it repeats a key; YAML through js-yaml, which builds the
 * data directly, 8–17× faster (`bench/yaml-parsing`), with a schema that resolves plain scalars
 * exactly as the `yaml` package's YAML 1.2 core schema does (js-yaml's own core schema also
 * reads 0b101, -0x1 and +0o7 as numbers and -.5 as a string).
 *
 * Only an optimisation: whenever the text is anything but a plain mapping js-yaml reads without
 * a word (a syntax error, a key given twice, a tag, an alias to a collection, a warning), the
 * caller parses it with `yaml` instead, which reports the problem with its line as before.
 */
import { FAILSAFE_SCHEMA, load, Type } from "js-yaml";

/** A plain scalar's type when one of its forms matches (tried in order), with its value. */
function coreType(tag: string, forms: [RegExp, (text: string) => unknown][]): Type {
  const formOf = (text: string) => forms.find(([pattern]) => pattern.test(text));
  return new Type(`tag:yaml.org,2002:${tag}`, {
    kind: "scalar",
    resolve: (text: string) => formOf(text) !== undefined,
    construct: (text: string) => (formOf(text) as [RegExp, (text: string) => unknown])[1](text),
  });
}

/** YAML 1.2's core schema, form by form as the `yaml` package resolves it (its schema/core). */
const CORE_1_2 = FAILSAFE_SCHEMA.extend({
  implicit: [
    coreType("null", [[/^(?:~|[Nn]ull|NULL)?$/, () => null]]),
    coreType("bool", [
      [/^(?:[Tt]rue|TRUE)$/, () => true],
      [/^(?:[Ff]alse|FALSE)$/, () => false],
    ]),
    coreType("int", [
      [/^0o[0-7]+$/, (text) => Number.parseInt(text.slice(2), 8)],
      [/^[-+]?[0-9]+$/, (text) => Number.parseInt(text, 10)],
      [/^0x[0-9a-fA-F]+$/, (text) => Number.parseInt(text.slice(2), 16)],
    ]),
    coreType("float", [
      [
        /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/,
        (text) =>
          text.slice(-3).toLowerCase() === "nan"
            ? Number.NaN
            : text.startsWith("-")
              ? Number.NEGATIVE_INFINITY
              : Number.POSITIVE_INFINITY,
      ],
      [/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/, Number.parseFloat],
      [/^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/, Number.parseFloat],
    ]),
  ],
});

/** Whether some collection of the data appears twice in it (a YAML alias to a collection). */
function sharesACollection(data: unknown, seen = new Set<object>()): boolean {
  if (typeof data !== "object" || data === null) return false;
  if (seen.has(data)) return true;
  seen.add(data);
  for (const value of Object.values(data)) if (sharesACollection(value, seen)) return true;
  return false;
}

/** A mapping read by js-yaml, or undefined when `yaml` must read (and judge) the text. */
function parseYamlFast(text: string): Record<string, unknown> | undefined {
  let warned = false;
  let data: unknown;
  try {
    data = load(text, {
      schema: CORE_1_2,
      onWarning: () => {
        warned = true;
      },
    });
  } catch {
    return undefined;
  }
  // An alias to a collection shares it: the `yaml` path counts and bounds such expansions.
  if (warned || typeof data !== "object" || data === null || Array.isArray(data)) return undefined;
  return sharesACollection(data) ? undefined : (data as Record<string, unknown>);
}

/** The file's data parsed the lean way, or undefined: then parse it whole with `yaml`. */
export function parseLean(text: string): unknown {
  if (/^\s*\{/.test(text)) {
    // Most texts that open with a brace are JSON; the others are flow-style YAML.
    try {
      const data: unknown = JSON.parse(text);
      return repeatsAKey(text) ? undefined : data;
    } catch {}
  }
  return parseYamlFast(text);
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
