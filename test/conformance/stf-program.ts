/**
 * Resolves STF names and values against a program's bmv2 JSON the way p4c's bmv2stf.py does
 * (tableByName, actionByName, TableKeyInstance, makeMask, makeLpm), so an `add` or `setdefault`
 * becomes the same entry on every target: full table and action names, one value per key field
 * in JSON order (unnamed fields are wildcards), action data in declaration order.
 */
import type { StfActionCall, StfCommand, StfKeyMatch } from "./stf-parser.js";
import { stfInteger } from "./stf-parser.js";

/** The STF file asks for something bmv2stf.py itself would reject (the whole test fails). */
export class StfResolveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StfResolveError";
  }
}

export type KeyMatchKind = "exact" | "lpm" | "ternary" | "valid" | "range" | "optional";

export interface JsonTableKey {
  name: string;
  matchType: KeyMatchKind;
  /** Bit width of the key field (1 for validity). */
  width: number;
}

export interface JsonTable {
  name: string;
  matchType: string;
  keys: JsonTableKey[];
  /** Action name → action id, as the table lists them. */
  actions: Map<string, number>;
  actionProfile?: string;
}

export interface JsonAction {
  id: number;
  name: string;
  params: { name: string; width: number }[];
}

export type ResolvedKey =
  | { name: string; kind: "exact" | "valid"; width: number; value: bigint }
  | { name: string; kind: "lpm"; width: number; value: bigint; prefixLength: number }
  | { name: string; kind: "ternary"; width: number; value: bigint; mask: bigint }
  | { name: string; kind: "range"; width: number; low: bigint; high: bigint }
  | { name: string; kind: "optional"; width: number; value: bigint; wildcard: boolean };

export interface ResolvedAction {
  action: JsonAction;
  /** Values in the action's parameter order. */
  args: bigint[];
}

export interface ResolvedEntry {
  table: JsonTable;
  keys: ResolvedKey[];
  /** An action with data, or an action profile member or group by its STF id. */
  target: ResolvedAction | { member: number } | { group: number };
  /** STF priority (higher wins, P4Runtime's sense), for tables with ternary or range keys. */
  priority?: number;
  /** The entry's `= ID`, by which check_counter and meter_set_rates name it. */
  id?: string;
}

export interface ResolvedMember extends ResolvedAction {
  profile: string;
  id: number;
}

export interface ResolvedDefault extends ResolvedAction {
  table: JsonTable;
}

/** A direct counter or meter names its table's entry by STF id; other arrays by index. */
export type CellRef = { index: number } | { entry: string };

export function cellRef(text: string): CellRef {
  return text.startsWith("$") ? { entry: text.slice(1) } : { index: Number(stfInteger(text)) };
}

interface RawJson {
  header_types: { name: string; fields: [string, number | string, boolean?][] }[];
  headers: { name: string; header_type: string }[];
  actions: { id: number; name: string; runtime_data: { name: string; bitwidth: number }[] }[];
  pipelines: {
    tables: {
      name: string;
      match_type: string;
      key: { match_type: string; target: string | [string, string]; name?: string }[];
      actions: string[];
      action_ids: number[];
      action_profile?: string;
    }[];
  }[];
}

export class StfProgram {
  readonly tables: JsonTable[] = [];
  readonly actions = new Map<number, JsonAction>();

  constructor(readonly json: unknown) {
    const j = json as RawJson;
    const headerType = new Map(j.header_types.map((t) => [t.name, t]));
    const headers = new Map(j.headers.map((h) => [h.name, headerType.get(h.header_type)]));
    const widthOf = (target: string | [string, string]): number => {
      if (!Array.isArray(target)) return 1;
      const [h, f] = target;
      if (f === "$valid$") return 1;
      const field = headers.get(h)?.fields.find((x) => x[0] === f);
      return typeof field?.[1] === "number" ? field[1] : 0;
    };
    for (const a of j.actions) {
      this.actions.set(a.id, {
        id: a.id,
        name: a.name,
        params: a.runtime_data.map((r) => ({ name: r.name, width: r.bitwidth })),
      });
    }
    // bmv2stf reads the first two pipelines (ingress, egress).
    for (const pipe of j.pipelines.slice(0, 2)) {
      for (const t of pipe.tables) {
        this.tables.push({
          name: t.name,
          matchType: t.match_type,
          keys: t.key.map((k) => ({
            name: k.name ?? (Array.isArray(k.target) ? k.target.join(".") : k.target),
            matchType: k.match_type as KeyMatchKind,
            width: widthOf(k.target),
          })),
          actions: new Map(t.actions.map((name, i) => [name, t.action_ids[i] as number])),
          ...(t.action_profile ? { actionProfile: t.action_profile } : {}),
        });
      }
    }
  }

  /** The table with this name, or the one whose name ends with it. */
  table(name: string): JsonTable {
    const exact = this.tables.find((t) => t.name === name);
    if (exact) return exact;
    const candidates = this.tables.filter((t) => t.name.endsWith(name));
    if (candidates.length > 1) {
      throw new StfResolveError(
        `table name "${name}" is ambiguous: ${candidates.map((t) => t.name).join(", ")}`,
      );
    }
    const found = candidates[0];
    if (!found) throw new StfResolveError(`no table "${name}"`);
    return found;
  }

  /** One of the table's actions, by name or unique suffix. */
  action(table: JsonTable, name: string): JsonAction {
    const own = [...table.actions.values()].map((id) => this.actions.get(id) as JsonAction);
    const exact = own.find((a) => a.name === name);
    if (exact) return exact;
    const candidates = own.filter((a) => a.name.endsWith(name));
    if (candidates.length > 1) {
      throw new StfResolveError(`action name "${name}" is ambiguous in table "${table.name}"`);
    }
    const found = candidates[0];
    if (!found) throw new StfResolveError(`no action "${name}" in table "${table.name}"`);
    return found;
  }

  resolveAdd(cmd: Extract<StfCommand, { kind: "add" }>): ResolvedEntry {
    const table = this.table(cmd.table);
    const values = new Map<string, ResolvedKey>();
    for (const k of table.keys) values.set(k.name, wildcard(k));
    for (const match of cmd.keys) {
      const key = findKey(table, match.field);
      values.set(key.name, keyValue(key, match));
    }
    const prioritized = table.matchType === "ternary" || table.matchType === "range";
    if (prioritized && cmd.priority === undefined) {
      throw new StfResolveError(
        `add to ${table.matchType} table "${table.name}" without a priority`,
      );
    }
    const a = cmd.action;
    return {
      table,
      keys: table.keys.map((k) => values.get(k.name) as ResolvedKey),
      target: "name" in a ? this.resolveAction(table, a) : a,
      ...(prioritized ? { priority: cmd.priority } : {}),
      ...(cmd.id ? { id: cmd.id } : {}),
    };
  }

  /** A member of an action profile: its action is one of the tables' that use the profile. */
  resolveMember(cmd: Extract<StfCommand, { kind: "member" }>): ResolvedMember {
    const tables = this.tables.filter(
      (t) => t.actionProfile === cmd.profile || t.actionProfile?.endsWith(cmd.profile),
    );
    const table = tables[0];
    if (!table?.actionProfile) throw new StfResolveError(`no action profile "${cmd.profile}"`);
    return { profile: table.actionProfile, id: cmd.id, ...this.resolveAction(table, cmd.action) };
  }

  /** The full name of an action profile named by suffix. */
  profile(name: string): string {
    const found = this.tables.find(
      (t) => t.actionProfile === name || t.actionProfile?.endsWith(name),
    );
    if (!found?.actionProfile) throw new StfResolveError(`no action profile "${name}"`);
    return found.actionProfile;
  }

  resolveDefault(cmd: Extract<StfCommand, { kind: "setdefault" }>): ResolvedDefault {
    const table = this.table(cmd.table);
    return { table, ...this.resolveAction(table, cmd.action) };
  }

  private resolveAction(table: JsonTable, call: StfActionCall): ResolvedAction {
    const action = this.action(table, call.name);
    const given = new Map<string, bigint>();
    for (const arg of call.args) {
      if (!action.params.some((p) => p.name === arg.name)) {
        throw new StfResolveError(`action "${action.name}" has no parameter "${arg.name}"`);
      }
      given.set(arg.name, stfInteger(arg.value));
    }
    const args = action.params.map((p) => {
      const v = given.get(p.name);
      if (v === undefined) {
        throw new StfResolveError(`action "${action.name}": parameter "${p.name}" not given`);
      }
      return v;
    });
    return { action, args };
  }
}

/** What a key field not named in the `add` matches (bmv2stf's TableKeyInstance defaults). */
function wildcard(k: JsonTableKey): ResolvedKey {
  switch (k.matchType) {
    case "ternary":
      return { name: k.name, kind: "ternary", width: k.width, value: 0n, mask: 0n };
    case "lpm":
      return { name: k.name, kind: "lpm", width: k.width, value: 0n, prefixLength: 0 };
    case "exact":
    case "valid":
      return { name: k.name, kind: k.matchType, width: k.width, value: 0n };
    case "range":
      return {
        name: k.name,
        kind: "range",
        width: k.width,
        low: 0n,
        high: (1n << BigInt(k.width)) - 1n,
      };
    case "optional":
      return { name: k.name, kind: "optional", width: k.width, value: 0n, wildcard: true };
  }
}

/** bmv2stf TableKeyInstance.set: exact name, `$`/`.$valid$` variants, then suffix matches. */
function findKey(table: JsonTable, field: string): JsonTableKey {
  const byName = (n: string) => table.keys.find((k) => k.name === n);
  let found = byName(field) ?? byName(`${field}$`) ?? byName(`${field}.$valid$`);
  if (!found && field.endsWith(".valid")) found = byName(`${field.slice(0, -5)}$valid$`);
  if (!found) {
    for (const k of table.keys) {
      if (k.name.endsWith(`.${field}`) || k.name.endsWith(`.${field}$`)) found = k;
      else if (field === "valid" && k.name.endsWith(".$valid$")) found = k;
    }
  }
  if (!found && field === "valid") found = byName("$valid$");
  if (!found) throw new StfResolveError(`table "${table.name}" has no key field "${field}"`);
  return found;
}

function keyValue(key: JsonTableKey, match: StfKeyMatch): ResolvedKey {
  const { name, width } = key;
  switch (key.matchType) {
    case "ternary": {
      if (match.prefixLength !== undefined) {
        throw new StfResolveError(`ternary key "${name}" given as a prefix`);
      }
      const { value, mask } = ternaryOf(match.value);
      return { name, kind: "ternary", width, value, mask };
    }
    case "lpm": {
      const { value, prefixLength } = lpmOf(match);
      return { name, kind: "lpm", width, value, prefixLength };
    }
    case "exact":
    case "valid":
      if (match.prefixLength !== undefined) {
        throw new StfResolveError(`${key.matchType} key "${name}" given as a prefix`);
      }
      return { name, kind: key.matchType, width, value: stfInteger(match.value) };
    case "range":
      if (match.high === undefined) throw new StfResolveError(`range key "${name}" needs LO..HI`);
      return {
        name,
        kind: "range",
        width,
        low: stfInteger(match.value),
        high: stfInteger(match.high),
      };
    case "optional":
      return match.value === "*"
        ? { name, kind: "optional", width, value: 0n, wildcard: true }
        : { name, kind: "optional", width, value: stfInteger(match.value), wildcard: false };
  }
}

const RADIX = { x: { bits: 4, full: "f" }, b: { bits: 1, full: "1" }, o: { bits: 3, full: "7" } };

/** bmv2stf makeMask: every written digit is cared about, `*` digits are not; no decimals. */
function ternaryOf(text: string): { value: bigint; mask: bigint } {
  const m = /^0([xXbBoO])([0-9a-fA-F*]+)$/.exec(text);
  if (!m) throw new StfResolveError(`ternary value "${text}" is not hex, binary or octal`);
  const radix = RADIX[(m[1] as string).toLowerCase() as keyof typeof RADIX];
  const digits = m[2] as string;
  const prefix = `0${(m[1] as string).toLowerCase()}`;
  const value = BigInt(prefix + digits.replace(/\*/g, "0"));
  const mask = BigInt(prefix + digits.replace(/[^*]/g, radix.full).replace(/\*/g, "0"));
  return { value, mask };
}

/** bmv2stf makeLpm: `v/len` as given, else the written digits (stars excluded) are the prefix. */
function lpmOf(match: StfKeyMatch): { value: bigint; prefixLength: number } {
  if (match.prefixLength !== undefined) {
    return {
      value: stfInteger(match.value),
      prefixLength: Number(stfInteger(match.prefixLength)),
    };
  }
  const m = /^0([xXbBoO])([0-9a-fA-F*]+)$/.exec(match.value);
  // bmv2stf turns a decimal into "0x0x…", which the bmv2 CLI then rejects.
  if (!m) throw new StfResolveError(`lpm value "${match.value}" is not hex, binary or octal`);
  const radix = RADIX[(m[1] as string).toLowerCase() as keyof typeof RADIX];
  const digits = m[2] as string;
  const stars = digits.split("*").length - 1;
  return {
    value: BigInt(`0${(m[1] as string).toLowerCase()}${digits.replace(/\*/g, "0")}`),
    prefixLength: (digits.length - stars) * radix.bits,
  };
}
