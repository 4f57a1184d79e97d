/**
 * Reads a bmv2 JSON program and validates it: the format version, the structure (zod), and every
 * cross-reference (header types, instances, stacks, unions, actions, tables, profiles, parser
 * states, calculations, field lists, counters, meters, registers). What this returns is safe to
 * compile: names resolve and ids are unique.
 */
import type { z } from "zod";
import { FormatVersionError, ProgramError, sourceOf, UnsupportedConstructError } from "./errors.js";
import {
  type ActionCallSpec,
  type ActionProfileSpec,
  type ActionSpec,
  type Bmv2Program,
  bmv2Program,
  type CalculationSpec,
  type ConditionalSpec,
  type CounterArraySpec,
  type FieldListSpec,
  type LearnListSpec,
  type MeterArraySpec,
  type PipelineSpec,
  type RegisterArraySpec,
  type TableSpec,
} from "./schema.js";

export interface FieldInfo {
  name: string;
  /** Bit width; 0 for the variable-length field of a header. */
  width: number;
  signed: boolean;
  varbit: boolean;
}

export interface HeaderTypeInfo {
  name: string;
  fields: FieldInfo[];
  /** Maximum length in bytes of a header with a varbit field (`max_length`). */
  maxLength: number;
}

export interface HeaderInfo {
  name: string;
  id: number;
  type: HeaderTypeInfo;
  metadata: boolean;
}

export interface StackInfo {
  name: string;
  headerIds: number[];
}

export interface UnionInfo {
  name: string;
  /** Member names in declaration order, with the header instance id of each. */
  members: { name: string; headerId: number }[];
}

export interface UnionStackInfo {
  name: string;
  unionIds: number[];
}

/** A validated program with name indexes. */
export interface Program {
  spec: Bmv2Program;
  version: [number, number];
  headerTypes: Map<string, HeaderTypeInfo>;
  headers: Map<string, HeaderInfo>;
  headersById: Map<number, HeaderInfo>;
  stacks: Map<string, StackInfo>;
  unions: Map<string, UnionInfo>;
  unionsById: Map<number, UnionInfo>;
  unionStacks: Map<string, UnionStackInfo>;
  errors: Map<string, number>;
  actionsById: Map<number, ActionSpec>;
  pipelines: Map<string, PipelineSpec>;
  tables: Map<string, TableSpec>;
  conditionals: Map<string, ConditionalSpec>;
  /** Direct action calls (JSON_format.md note 1: p4c uses dummy tables instead). */
  actionCalls: Map<string, ActionCallSpec>;
  actionProfiles: Map<string, ActionProfileSpec>;
  calculations: Map<string, CalculationSpec>;
  fieldListsById: Map<number, FieldListSpec>;
  learnListsById: Map<number, LearnListSpec>;
  counterArrays: Map<string, CounterArraySpec>;
  meterArrays: Map<string, MeterArraySpec>;
  registerArrays: Map<string, RegisterArraySpec>;
  parseVsets: Map<string, { name: string; bitwidth: number }>;
}

/** Loads a program from JSON text or an already-parsed object. Throws ProgramError. */
export function loadProgram(input: string | unknown): Program {
  let raw: unknown = input;
  if (typeof input === "string") {
    try {
      raw = JSON.parse(input);
    } catch (error) {
      throw new ProgramError("bmv2 JSON", `not valid JSON: ${(error as Error).message}`);
    }
  }
  checkVersion(raw);
  const parsed = bmv2Program.safeParse(raw);
  if (!parsed.success) throw structureError(parsed.error);
  return index(parsed.data);
}

function checkVersion(raw: unknown): void {
  const meta = (raw as { __meta__?: { version?: unknown } } | null)?.__meta__;
  const version = meta?.version;
  if (!Array.isArray(version) || typeof version[0] !== "number") {
    throw new ProgramError("__meta__.version", "missing: not a bmv2 JSON of format 2.x", {
      path: "__meta__",
    });
  }
  if (version[0] !== 2) throw new FormatVersionError(version.join("."));
}

function structureError(error: z.ZodError): ProgramError {
  const issue = error.issues[0];
  const path = issue ? formatPath(issue.path) : "";
  return new ProgramError(path || "bmv2 JSON", issue?.message ?? "malformed", { path });
}

function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((part, i) =>
      typeof part === "number" ? `[${part}]` : `${i > 0 ? "." : ""}${String(part)}`,
    )
    .join("");
}

function uniqueByName<T extends { name: string }>(
  items: T[],
  what: string,
  path: string,
): Map<string, T> {
  const map = new Map<string, T>();
  items.forEach((item, i) => {
    if (map.has(item.name)) {
      throw new ProgramError(`${what} "${item.name}"`, "declared twice", {
        path: `${path}[${i}]`,
        source: sourceOf(item),
      });
    }
    map.set(item.name, item);
  });
  return map;
}

function uniqueById<T extends { id: number; name: string }>(
  items: T[],
  what: string,
  path: string,
): Map<number, T> {
  const map = new Map<number, T>();
  items.forEach((item, i) => {
    if (map.has(item.id)) {
      throw new ProgramError(`${what} "${item.name}"`, `id ${item.id} used twice`, {
        path: `${path}[${i}]`,
      });
    }
    map.set(item.id, item);
  });
  return map;
}

function index(spec: Bmv2Program): Program {
  const headerTypes = new Map<string, HeaderTypeInfo>();
  spec.header_types.forEach((ht, i) => {
    ht.fields.forEach(([name, , , saturating], f) => {
      if (saturating === true) {
        // p4c never emits saturating fields (it compiles |+| to sat_cast expressions).
        throw new UnsupportedConstructError(
          `field "${ht.name}.${name}"`,
          "saturating fields are not supported",
          { path: `header_types[${i}].fields[${f}]` },
        );
      }
    });
    const fields = ht.fields.map(([name, width, signed]) => ({
      name,
      width: width === "*" ? 0 : width,
      signed: signed === true,
      varbit: width === "*",
    }));
    if (fields.filter((f) => f.varbit).length > 1) {
      throw new ProgramError(`header type "${ht.name}"`, "more than one variable-length field", {
        path: `header_types[${i}]`,
      });
    }
    headerTypes.set(ht.name, { name: ht.name, fields, maxLength: ht.max_length ?? 0 });
  });

  const headers = new Map<string, HeaderInfo>();
  const headersById = new Map<number, HeaderInfo>();
  spec.headers.forEach((h, i) => {
    const type = headerTypes.get(h.header_type);
    const where = { path: `headers[${i}]` };
    if (!type) {
      throw new ProgramError(`header "${h.name}"`, `unknown header type "${h.header_type}"`, where);
    }
    if (headers.has(h.name) || headersById.has(h.id)) {
      throw new ProgramError(`header "${h.name}"`, "name or id declared twice", where);
    }
    const info = { name: h.name, id: h.id, type, metadata: h.metadata };
    headers.set(h.name, info);
    headersById.set(h.id, info);
  });

  const knownHeaderIds = (ids: number[], what: string, path: string) => {
    for (const id of ids) {
      if (!headersById.has(id)) throw new ProgramError(what, `unknown header id ${id}`, { path });
    }
  };
  const stacks = new Map<string, StackInfo>();
  spec.header_stacks.forEach((s, i) => {
    knownHeaderIds(s.header_ids, `header stack "${s.name}"`, `header_stacks[${i}]`);
    stacks.set(s.name, { name: s.name, headerIds: s.header_ids });
  });

  const unionTypes = uniqueByName(
    spec.header_union_types,
    "header union type",
    "header_union_types",
  );
  const unions = new Map<string, UnionInfo>();
  const unionsById = new Map<number, UnionInfo>();
  spec.header_unions.forEach((u, i) => {
    const path = `header_unions[${i}]`;
    const type = unionTypes.get(u.union_type);
    if (!type) {
      throw new ProgramError(`header union "${u.name}"`, `unknown union type "${u.union_type}"`, {
        path,
      });
    }
    knownHeaderIds(u.header_ids, `header union "${u.name}"`, path);
    const members = type.headers.map(([name], k) => ({ name, headerId: u.header_ids[k] ?? -1 }));
    if (members.some((m) => m.headerId < 0)) {
      throw new ProgramError(`header union "${u.name}"`, "fewer headers than its type", { path });
    }
    const info = { name: u.name, members };
    unions.set(u.name, info);
    unionsById.set(u.id, info);
  });
  const unionStacks = new Map<string, UnionStackInfo>();
  spec.header_union_stacks.forEach((s, i) => {
    for (const id of s.header_union_ids) {
      if (!unionsById.has(id)) {
        throw new ProgramError(`header union stack "${s.name}"`, `unknown union id ${id}`, {
          path: `header_union_stacks[${i}]`,
        });
      }
    }
    unionStacks.set(s.name, { name: s.name, unionIds: s.header_union_ids });
  });

  spec.extern_instances.forEach((e, i) => {
    throw new UnsupportedConstructError(
      `extern instance "${e.name}" of type "${e.type}"`,
      "v1model externs other than the standard ones are not supported",
      { path: `extern_instances[${i}]` },
    );
  });

  const pipelines = uniqueByName(spec.pipelines, "pipeline", "pipelines");
  const tables = new Map<string, TableSpec>();
  const conditionals = new Map<string, ConditionalSpec>();
  const actionCalls = new Map<string, ActionCallSpec>();
  const actionProfiles = new Map<string, ActionProfileSpec>();
  for (const [p, pipe] of spec.pipelines.entries()) {
    for (const [i, t] of pipe.tables.entries()) {
      if (tables.has(t.name)) {
        throw new ProgramError(`table "${t.name}"`, "declared twice", {
          path: `pipelines[${p}].tables[${i}]`,
        });
      }
      tables.set(t.name, t);
    }
    for (const c of pipe.conditionals) conditionals.set(c.name, c);
    for (const ap of pipe.action_profiles) actionProfiles.set(ap.name, ap);
    for (const c of pipe.action_calls ?? []) actionCalls.set(c.name, c);
  }

  const program: Program = {
    spec,
    version: spec.__meta__.version,
    headerTypes,
    headers,
    headersById,
    stacks,
    unions,
    unionsById,
    unionStacks,
    errors: new Map(spec.errors.map(([name, value]) => [name, value])),
    actionsById: uniqueById(spec.actions, "action", "actions"),
    pipelines,
    tables,
    conditionals,
    actionCalls,
    actionProfiles,
    calculations: uniqueByName(spec.calculations, "calculation", "calculations"),
    fieldListsById: uniqueById(spec.field_lists, "field list", "field_lists"),
    learnListsById: uniqueById(spec.learn_lists, "learn list", "learn_lists"),
    counterArrays: uniqueByName(spec.counter_arrays, "counter array", "counter_arrays"),
    meterArrays: uniqueByName(spec.meter_arrays, "meter array", "meter_arrays"),
    registerArrays: uniqueByName(spec.register_arrays, "register array", "register_arrays"),
    parseVsets: new Map(
      spec.parse_vsets.map((v) => [v.name, { name: v.name, bitwidth: v.compressed_bitwidth }]),
    ),
  };
  checkReferences(program);
  return program;
}

/** Cross-references that would otherwise only fail on the first packet to use them. */
function checkReferences(program: Program): void {
  const { spec } = program;
  for (const required of ["ingress", "egress"]) {
    if (!program.pipelines.has(required)) {
      throw new ProgramError(`pipeline "${required}"`, "missing (v1model needs it)", {
        path: "pipelines",
      });
    }
  }
  if (!spec.parsers.some((p) => p.name === "parser")) {
    throw new ProgramError('parser "parser"', "missing (v1model needs it)", { path: "parsers" });
  }
  if (!spec.deparsers.some((d) => d.name === "deparser")) {
    throw new ProgramError('deparser "deparser"', "missing (v1model needs it)", {
      path: "deparsers",
    });
  }
  const std = program.headers.get("standard_metadata");
  for (const field of [
    "ingress_port",
    "packet_length",
    "instance_type",
    "egress_spec",
    "egress_port",
  ]) {
    if (!std?.type.fields.some((f) => f.name === field)) {
      throw new ProgramError(
        `field "standard_metadata.${field}"`,
        "missing (simple_switch needs it)",
        {
          path: "headers",
        },
      );
    }
  }

  const nodeExists = (name: string | null | undefined) =>
    name == null ||
    program.tables.has(name) ||
    program.conditionals.has(name) ||
    program.actionCalls.has(name);
  spec.pipelines.forEach((pipe, p) => {
    if (!nodeExists(pipe.init_table)) {
      throw new ProgramError(`pipeline "${pipe.name}"`, `unknown init_table "${pipe.init_table}"`, {
        path: `pipelines[${p}]`,
      });
    }
    pipe.tables.forEach((t, i) => {
      const where = { path: `pipelines[${p}].tables[${i}]`, source: sourceOf(t) };
      const what = `table "${t.name}"`;
      t.action_ids.forEach((id) => {
        if (!program.actionsById.has(id))
          throw new ProgramError(what, `unknown action id ${id}`, where);
      });
      for (const [key, next] of Object.entries(t.next_tables)) {
        if (!nodeExists(next)) {
          throw new ProgramError(what, `next table "${next}" for "${key}" does not exist`, where);
        }
      }
      const hitMiss = "__HIT__" in t.next_tables || "__MISS__" in t.next_tables;
      if (hitMiss && !("__HIT__" in t.next_tables && "__MISS__" in t.next_tables)) {
        throw new ProgramError(what, "next_tables has only one of __HIT__ and __MISS__", where);
      }
      if (!hitMiss) {
        for (const name of t.actions) {
          if (!(name in t.next_tables)) {
            throw new ProgramError(what, `no next table for action "${name}"`, where);
          }
        }
      }
      if (!nodeExists(t.base_default_next)) {
        throw new ProgramError(what, `unknown base_default_next "${t.base_default_next}"`, where);
      }
      if (t.type !== "simple") {
        const profile = t.action_profile ? program.actionProfiles.get(t.action_profile) : undefined;
        if (!profile) {
          throw new ProgramError(what, `unknown action profile "${t.action_profile}"`, where);
        }
        if (t.type === "indirect_ws" && !profile.selector) {
          throw new ProgramError(what, `action profile "${profile.name}" has no selector`, where);
        }
      }
      if (t.direct_meters != null && !program.meterArrays.has(t.direct_meters)) {
        throw new ProgramError(what, `unknown direct meter "${t.direct_meters}"`, where);
      }
    });
    (pipe.action_calls ?? []).forEach((c, i) => {
      const where = { path: `pipelines[${p}].action_calls[${i}]` };
      const action = program.actionsById.get(c.action_id);
      if (!action) {
        throw new ProgramError(
          `action call "${c.name}"`,
          `unknown action id ${c.action_id}`,
          where,
        );
      }
      if (action.runtime_data.length > 0) {
        throw new ProgramError(
          `action call "${c.name}"`,
          `action "${action.name}" takes parameters; a direct call cannot give them`,
          where,
        );
      }
      if (!nodeExists(c.next_node)) {
        throw new ProgramError(
          `action call "${c.name}"`,
          `unknown next_node "${c.next_node}"`,
          where,
        );
      }
    });
    pipe.conditionals.forEach((c, i) => {
      if (!nodeExists(c.true_next) || !nodeExists(c.false_next)) {
        throw new ProgramError(`conditional "${c.name}"`, "unknown true_next or false_next", {
          path: `pipelines[${p}].conditionals[${i}]`,
          source: sourceOf(c),
        });
      }
    });
  });

  spec.checksums.forEach((c, i) => {
    if (!program.calculations.has(c.calculation)) {
      throw new ProgramError(`checksum "${c.name}"`, `unknown calculation "${c.calculation}"`, {
        path: `checksums[${i}]`,
        source: sourceOf(c),
      });
    }
  });
  spec.parsers.forEach((parser, p) => {
    const states = new Set(parser.parse_states.map((s) => s.name));
    if (!states.has(parser.init_state)) {
      throw new ProgramError(
        `parser "${parser.name}"`,
        `unknown init_state "${parser.init_state}"`,
        {
          path: `parsers[${p}]`,
        },
      );
    }
    parser.parse_states.forEach((s, i) => {
      for (const t of s.transitions) {
        if (t.next_state !== null && !states.has(t.next_state)) {
          throw new ProgramError(
            `parse state "${s.name}"`,
            `unknown next state "${t.next_state}"`,
            { path: `parsers[${p}].parse_states[${i}]` },
          );
        }
        if (t.type === "parse_vset" && !program.parseVsets.has(String(t.value))) {
          throw new ProgramError(`parse state "${s.name}"`, `unknown value set "${t.value}"`, {
            path: `parsers[${p}].parse_states[${i}]`,
          });
        }
      }
    });
  });
}
