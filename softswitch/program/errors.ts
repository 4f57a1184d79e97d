/** Errors raised while loading a bmv2 JSON program: each names the construct and where it is. */

/** Where a construct sits: its JSON path and, when p4c recorded one, its P4 source location. */
export interface ProgramLocation {
  /** JSON path, e.g. `pipelines[0].tables[3]`. */
  path?: string;
  /** P4 source location from `source_info`, e.g. `nvgre.p4:120`. */
  source?: string;
}

/** A program that is malformed or uses a construct this target does not support. */
export class ProgramError extends Error {
  constructor(
    /** What failed, e.g. `primitive "foo" in action "bar"`. */
    readonly construct: string,
    readonly problem: string,
    readonly location: ProgramLocation = {},
  ) {
    super(`${construct}${describeLocation(location)}: ${problem}`);
    this.name = "ProgramError";
  }
}

/** A program whose construct is well-formed bmv2 JSON but not supported by the softswitch. */
export class UnsupportedConstructError extends ProgramError {
  constructor(construct: string, problem: string, location: ProgramLocation = {}) {
    super(construct, problem, location);
    this.name = "UnsupportedConstructError";
  }
}

/** A JSON of a bmv2 format major version other than 2. */
export class FormatVersionError extends ProgramError {
  constructor(readonly version: string) {
    super("__meta__.version", `bmv2 JSON format version ${version} is not supported (need 2.x)`, {
      path: "__meta__.version",
    });
    this.name = "FormatVersionError";
  }
}

function describeLocation(location: ProgramLocation): string {
  const parts: string[] = [];
  if (location.source) parts.push(location.source);
  if (location.path) parts.push(`at ${location.path}`);
  return parts.length > 0 ? ` (${parts.join(", ")})` : "";
}

/** The `file:line` of a p4c `source_info` object, when present. */
export function sourceOf(node: unknown): string | undefined {
  if (typeof node !== "object" || node === null) return undefined;
  const info = (node as { source_info?: { filename?: unknown; line?: unknown } }).source_info;
  if (!info || typeof info.filename !== "string") return undefined;
  const file = info.filename.split("/").pop();
  return typeof info.line === "number" ? `${file}:${info.line}` : file;
}
