import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  FormatVersionError,
  ProgramError,
  UnsupportedConstructError,
} from "../../softswitch/program/errors.js";
import { loadProgram } from "../../softswitch/program/load.js";
import { SimpleSwitch } from "../../softswitch/v1model/switch.js";
import { standardMetadata } from "./bmv2-json.js";

/** The smallest program the loader accepts; tests break one thing in it at a time. */
function minimal(): Record<string, unknown> {
  return {
    __meta__: { version: [2, 23], compiler: "hand-written for loader tests" },
    header_types: [structuredClone(standardMetadata)],
    headers: [
      { name: "standard_metadata", id: 0, header_type: "standard_metadata", metadata: true },
    ],
    parsers: [
      {
        name: "parser",
        id: 0,
        init_state: "start",
        parse_states: [
          {
            name: "start",
            id: 0,
            parser_ops: [],
            transition_key: [],
            transitions: [{ type: "default", value: null, mask: null, next_state: null }],
          },
        ],
      },
    ],
    deparsers: [{ name: "deparser", id: 0, order: [] }],
    actions: [],
    pipelines: [
      {
        name: "ingress",
        id: 0,
        init_table: null,
        action_profiles: [],
        tables: [],
        conditionals: [],
      },
      {
        name: "egress",
        id: 1,
        init_table: null,
        action_profiles: [],
        tables: [],
        conditionals: [],
      },
    ],
  };
}

describe("program loader", () => {
  it("accepts a well-formed 2.x program", () => {
    const program = loadProgram(JSON.stringify(minimal()));
    assert.deepEqual(program.version, [2, 23]);
  });

  it("rejects another major format version, naming it", () => {
    const json = { ...minimal(), __meta__: { version: [3, 0] } };
    assert.throws(
      () => loadProgram(json),
      (e: unknown) =>
        e instanceof FormatVersionError && e.version === "3.0" && /3\.0/.test(e.message),
    );
  });

  it("rejects text that is not JSON at all", () => {
    assert.throws(
      () => loadProgram('{"__meta__": {"version": [2, 23]}, "header_types": ['),
      (e: unknown) => e instanceof ProgramError && /not valid JSON/.test(e.message),
    );
  });

  it("reads field flags as bmv2 does (asBool: p4c writes 0 for bool fields)", () => {
    const json = minimal();
    const std = (json.header_types as { fields: unknown[][] }[])[0];
    std?.fields.push(["flag", 1, 0], ["signed", 8, true]);
    const fields = loadProgram(json).headerTypes.get("standard_metadata")?.fields ?? [];
    assert.deepEqual(
      fields.slice(-2).map((f) => [f.name, f.signed]),
      [
        ["flag", false],
        ["signed", true],
      ],
    );
  });

  it("rejects saturating fields, naming the field and its place", () => {
    const json = minimal();
    (json.header_types as { fields: unknown[][] }[])[0]?.fields.push(["sat", 8, false, true]);
    assert.throws(
      () => loadProgram(json),
      (e: unknown) =>
        e instanceof UnsupportedConstructError &&
        e.message.includes('field "standard_metadata.sat"') &&
        e.message.includes("header_types[0].fields[5]"),
    );
  });

  it("rejects JSON that is not a program, naming the path", () => {
    const json = minimal();
    (json.headers as unknown[]).push({ name: "x", id: 1 });
    assert.throws(
      () => loadProgram(json),
      (e: unknown) => e instanceof ProgramError && /headers\[1\]/.test(e.message),
    );
  });

  it("rejects an unknown primitive, naming it, its action and its source line", () => {
    const json = minimal();
    json.actions = [
      {
        name: "bar",
        id: 0,
        runtime_data: [],
        primitives: [
          { op: "foo", parameters: [], source_info: { filename: "p4/nvgre.p4", line: 120 } },
        ],
      },
    ];
    assert.throws(
      () => new SimpleSwitch(json),
      (e: unknown) =>
        e instanceof UnsupportedConstructError &&
        e.message.includes('primitive "foo" in action "bar"') &&
        e.message.includes("nvgre.p4:120"),
    );
  });

  it("rejects an unknown expression operator", () => {
    const json = minimal();
    json.actions = [
      {
        name: "a",
        id: 0,
        runtime_data: [],
        primitives: [
          {
            op: "assign",
            parameters: [
              { type: "field", value: ["standard_metadata", "egress_spec"] },
              {
                type: "expression",
                value: { op: "**", left: null, right: { type: "hexstr", value: "0x1" } },
              },
            ],
          },
        ],
      },
    ];
    assert.throws(
      () => new SimpleSwitch(json),
      (e: unknown) => e instanceof UnsupportedConstructError && e.message.includes('"**"'),
    );
  });

  it("rejects dangling references and bmv2's unknown hash algorithms", () => {
    const json = minimal();
    (json.pipelines as { init_table: string | null }[])[0] = {
      ...(json.pipelines as object[])[0],
      init_table: "nope",
    } as never;
    assert.throws(
      () => loadProgram(json),
      (e: unknown) => e instanceof ProgramError && e.message.includes('"nope"'),
    );
    const calc = minimal();
    calc.calculations = [{ name: "c", id: 0, algo: "random", input: [] }];
    assert.throws(
      () => new SimpleSwitch(calc),
      (e: unknown) => e instanceof UnsupportedConstructError && e.message.includes('"random"'),
    );
  });
});
