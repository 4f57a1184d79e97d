/**
 * Parses p4c's STF test files (tools/stf/stf_lexer.py + stf_parser.py, and the bmv2 "direct"
 * commands of backends/bmv2/bmv2stf.py) into typed commands. One statement per line; `#` starts
 * a comment. Keywords are case-insensitive, as in the reference lexer.
 *
 * Extensions for this repository's fixtures (bmv2stf has no way to say these; the p4c samples
 * never use them): range keys `k:LO..HI`, optional wildcards `k:*`, action profile members
 * `member PROFILE ID action(args)` and groups `group PROFILE ID MEMBER...`, entries pointing at
 * them (`@member:ID`, `@group:ID` in place of the action), parser value set members
 * `pvs_add VSET VALUE`, and `$ID` (an entry's `= ID`) as the index of direct counters and meters.
 */

/** A number as written in the STF file (`0x1f`, `0b10`, `42`, `0x0a**`), kept as text. */
export type StfNumber = string;

export interface StfActionCall {
  name: string;
  args: { name: string; value: StfNumber }[];
}

export interface StfKeyMatch {
  /** Field name as written, `$N` stack indexes already turned into `[N]`. */
  field: string;
  /** `*` for an optional field's wildcard. */
  value: StfNumber;
  /** Present for `value/len`. */
  prefixLength?: StfNumber;
  /** Present for a range `value..high`. */
  high?: StfNumber;
}

/** What an entry runs: an action, or an action profile member or group by its id. */
export type StfEntryTarget = StfActionCall | { member: number } | { group: number };

export type StfCommand =
  | {
      kind: "add";
      table: string;
      priority?: number;
      keys: StfKeyMatch[];
      action: StfEntryTarget;
      id?: string;
    }
  | { kind: "member"; profile: string; id: number; action: StfActionCall }
  | { kind: "group"; profile: string; id: number; members: number[] }
  | { kind: "pvs_add"; valueSet: string; value: StfNumber }
  | { kind: "setdefault"; table: string; action: StfActionCall }
  | { kind: "packet"; port: number; data: string }
  /** `data` undefined = any packet (bmv2stf then ignores the port entirely). */
  | { kind: "expect"; port: number; data?: string }
  | { kind: "wait" }
  | { kind: "remove_all" }
  | {
      kind: "check_counter";
      counter: string;
      index: string;
      check?: { type: "bytes" | "packets"; op: string; value: StfNumber };
    }
  /** The simple_switch_CLI pass-through commands, arguments as words. */
  | { kind: "cli"; name: CliCommandName; args: string[] };

export const CLI_COMMANDS = [
  "mirroring_add",
  "mirroring_add_mc",
  "mirroring_delete",
  "mirroring_get",
  "mc_mgrp_create",
  "mc_node_create",
  "mc_node_update",
  "mc_node_associate",
  "counter_read",
  "counter_write",
  "register_read",
  "register_write",
  "register_reset",
  "meter_get_rates",
  "meter_set_rates",
  "meter_array_set_rates",
] as const;
export type CliCommandName = (typeof CLI_COMMANDS)[number];

export class StfSyntaxError extends Error {
  constructor(
    readonly line: number,
    readonly text: string,
    problem: string,
  ) {
    super(`STF line ${line}: ${problem}: ${text.trim()}`);
    this.name = "StfSyntaxError";
  }
}

export interface StfStatement {
  line: number;
  command: StfCommand;
}

export function parseStf(text: string): StfStatement[] {
  const out: StfStatement[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, "").trim();
    if (line === "") return;
    try {
      out.push({ line: i + 1, command: parseStatement(line) });
    } catch (error) {
      if (error instanceof StfSyntaxError) throw error;
      throw new StfSyntaxError(i + 1, raw, (error as Error).message);
    }
  });
  return out;
}

function parseStatement(line: string): StfCommand {
  const keyword = (/^\S+/.exec(line)?.[0] ?? "").toLowerCase();
  const rest = line.slice(keyword.length).trim();
  switch (keyword) {
    case "packet": {
      const [port, ...data] = rest.split(/\s+/);
      if (!port || !/^\d+$/.test(port)) throw new Error("packet needs a port number");
      const hex = data.join("");
      if (!/^[0-9a-fA-F]*$/.test(hex) || hex.length % 2 !== 0) {
        throw new Error("packet data is not whole bytes of hex");
      }
      return { kind: "packet", port: Number(port), data: hex.toUpperCase() };
    }
    case "expect": {
      const [port, ...data] = rest.split(/\s+/);
      if (!port || !/^\d+$/.test(port)) throw new Error("expect needs a port number");
      const pattern = data.join("").toUpperCase();
      if (!/^[0-9A-F*]*\$?$/.test(pattern)) throw new Error("bad expected packet pattern");
      return pattern === ""
        ? { kind: "expect", port: Number(port) }
        : { kind: "expect", port: Number(port), data: pattern };
    }
    case "wait":
      return { kind: "wait" };
    case "remove":
      if (rest.toLowerCase() !== "all") throw new Error("only `remove all` exists");
      return { kind: "remove_all" };
    case "add":
      return parseAdd(rest);
    case "member": {
      const m = /^(\S+)\s+(\d+)\s+(.*)$/.exec(rest);
      if (!m) throw new Error("member needs a profile, an id and an action");
      return {
        kind: "member",
        profile: m[1] as string,
        id: Number(m[2]),
        action: parseAction(m[3] as string),
      };
    }
    case "group": {
      const [profile, id, ...members] = rest.split(/\s+/);
      if (!profile || !id || !/^\d+$/.test(id) || !members.every((x) => /^\d+$/.test(x))) {
        throw new Error("group needs a profile, an id and member ids");
      }
      return { kind: "group", profile, id: Number(id), members: members.map(Number) };
    }
    case "pvs_add": {
      const [valueSet, value] = rest.split(/\s+/);
      if (!valueSet || !value) throw new Error("pvs_add needs a value set and a value");
      return { kind: "pvs_add", valueSet, value };
    }
    case "setdefault": {
      const m = /^(\S+)\s+(.*)$/.exec(rest);
      if (!m) throw new Error("setdefault needs a table and an action");
      return {
        kind: "setdefault",
        table: qualifiedName(m[1] as string),
        action: parseAction(m[2] as string),
      };
    }
    case "check_counter": {
      const m =
        /^([A-Za-z_$][\w$.]*)\s*\(\s*([^)]+?)\s*\)\s*(?:(bytes|packets)\s*(==|!=|<=|<|>=|>)\s*(\S+))?$/i.exec(
          rest,
        );
      if (!m) throw new Error("malformed check_counter");
      const type = m[3]?.toLowerCase() as "bytes" | "packets" | undefined;
      return {
        kind: "check_counter",
        counter: m[1] as string,
        index: m[2] as string,
        ...(type ? { check: { type, op: m[4] as string, value: m[5] as string } } : {}),
      };
    }
    default:
      if ((CLI_COMMANDS as readonly string[]).includes(keyword)) {
        return {
          kind: "cli",
          name: keyword as CliCommandName,
          args: rest === "" ? [] : rest.split(/\s+/),
        };
      }
      throw new Error(`unknown command "${keyword}"`);
  }
}

/** `add T [prio] k:v ... act(a:v, ...) [= ID]` */
function parseAdd(rest: string): StfCommand {
  const idMatch = /=\s*([A-Za-z_$][\w$]*)\s*$/.exec(rest);
  const body = idMatch ? rest.slice(0, idMatch.index).trim() : rest;
  const indirect = /\s@(member|group):(\d+)$/.exec(body);
  const open = indirect ? indirect.index : body.indexOf("(");
  if (open < 0 || (!indirect && !body.endsWith(")"))) throw new Error("add needs an action call");
  const before = body.slice(0, open);
  const words = before.trim().split(/\s+/);
  const actionName = indirect ? "" : words.pop();
  const table = words.shift();
  if (!table || actionName === undefined) throw new Error("add needs a table and an action");
  let priority: number | undefined;
  if (words[0] !== undefined && /^\d+$/.test(words[0])) priority = Number(words.shift());
  const keys = words.map((w): StfKeyMatch => {
    const colon = w.lastIndexOf(":");
    if (colon <= 0) throw new Error(`bad match "${w}"`);
    const field = qualifiedName(w.slice(0, colon));
    const value = w.slice(colon + 1);
    const slash = value.indexOf("/");
    const dots = value.indexOf("..");
    if (dots > 0) return { field, value: value.slice(0, dots), high: value.slice(dots + 2) };
    return slash < 0
      ? { field, value }
      : { field, value: value.slice(0, slash), prefixLength: value.slice(slash + 1) };
  });
  return {
    kind: "add",
    table: qualifiedName(table),
    ...(priority === undefined ? {} : { priority }),
    keys,
    action: indirect
      ? indirect[1] === "member"
        ? { member: Number(indirect[2]) }
        : { group: Number(indirect[2]) }
      : parseAction(`${actionName}${body.slice(open)}`),
    ...(idMatch ? { id: idMatch[1] as string } : {}),
  };
}

function parseAction(text: string): StfActionCall {
  const m = /^([^\s(]+)\s*\((.*)\)\s*$/.exec(text.trim());
  if (!m) throw new Error(`bad action call "${text}"`);
  const inner = (m[2] as string).trim();
  const args =
    inner === ""
      ? []
      : inner.split(",").map((part) => {
          const [name, value] = part.split(":").map((s) => s.trim());
          if (!name || !value) throw new Error(`bad action argument "${part}"`);
          return { name, value };
        });
  return { name: qualifiedName(m[1] as string), args };
}

/** bmv2stf writes stack elements as `name$N`; the JSON names them `name[N]`. */
function qualifiedName(name: string): string {
  return name.replace(/\$(\d+)/g, "[$1]");
}

/** Parses an STF integer (`0x`, `0b`, `0o` or decimal); ternary `*` digits are not allowed. */
export function stfInteger(text: StfNumber): bigint {
  const t = text.trim();
  if (/^-/.test(t)) return -stfInteger(t.slice(1));
  if (/^0[xX][0-9a-fA-F]+$/.test(t) || /^0[bB][01]+$/.test(t) || /^0[oO][0-7]+$/.test(t)) {
    return BigInt(t.toLowerCase());
  }
  if (/^\d+$/.test(t)) return BigInt(t);
  throw new Error(`not an integer: "${text}"`);
}

export interface StfCase {
  name: string;
  /** The file's lines before the first case, then the case's own lines (line numbers kept). */
  text: string;
}

/**
 * Splits an STF file into independent cases, each starting at a `## name` line (a comment to
 * bmv2stf, so the file still runs as a whole there). The lines before the first case are a
 * preamble run at the start of every case.
 */
export function splitStfCases(text: string): StfCase[] {
  const lines = text.split(/\r?\n/);
  const starts = lines.flatMap((l, i) => (/^##\s/.test(l) ? [i] : []));
  const first = starts[0] ?? lines.length;
  const blank = (from: number, to: number) => Array.from({ length: to - from }, () => "");
  return starts.map((start, k) => {
    const end = starts[k + 1] ?? lines.length;
    const own = [...blank(first, start), ...lines.slice(start, end)];
    return {
      name: (lines[start] as string).replace(/^##\s*/, "").trim(),
      text: [...lines.slice(0, first), ...own].join("\n"),
    };
  });
}
