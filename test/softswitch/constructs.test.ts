/**
 * bmv2 JSON constructs p4c never emits but bmv2 runs (JSON_format.md): direct action calls,
 * `/` and `%`, union copies and union stack accesses, `==u`, `valid_union`; and extern instances, which
 * simple_switch has no types for, rejected at load with their place named. The programs are
 * written here in bmv2 JSON; expected frames by hand.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UnsupportedConstructError } from "../../softswitch/program/errors.js";
import { SimpleSwitch } from "../../softswitch/v1model/switch.js";
import {
  assign,
  expr,
  field,
  hex,
  parser,
  parseState,
  pipelines,
  send,
  standardMetadata,
  transition,
} from "./bmv2-json.js";

/** `h`: bytes a and b. */
const hType = {
  name: "h_t",
  id: 1,
  fields: [
    ["a", 8, false],
    ["b", 8, false],
  ],
};

/**
 * A program whose parser extracts `h` (bytes a, b) then the union stack `us` of two unions of
 * `x` (8 bits) or `y` (16 bits) as byte `a` says (1: x then y, 2: y then x), and whose ingress
 * pipeline is `ingress` (nodes given by the test); the deparser emits everything.
 */
function program(ingress: Record<string, unknown>, actions: unknown[]): Record<string, unknown> {
  const headers = [
    { name: "standard_metadata", id: 0, header_type: "standard_metadata", metadata: true },
    { name: "h", id: 1, header_type: "h_t", metadata: false },
    { name: "us[0].x", id: 2, header_type: "x_t", metadata: false },
    { name: "us[0].y", id: 3, header_type: "y_t", metadata: false },
    { name: "us[1].x", id: 4, header_type: "x_t", metadata: false },
    { name: "us[1].y", id: 5, header_type: "y_t", metadata: false },
  ];
  const extract = (member: string) => ({
    op: "extract",
    parameters: [{ type: "union_stack", value: ["us", member] }],
  });
  return {
    __meta__: { version: [2, 23] },
    header_types: [
      standardMetadata,
      hType,
      { name: "x_t", id: 2, fields: [["v", 8, false]] },
      { name: "y_t", id: 3, fields: [["v", 16, false]] },
    ],
    headers,
    header_union_types: [
      {
        name: "u_t",
        id: 0,
        headers: [
          ["x", "x_t"],
          ["y", "y_t"],
        ],
      },
    ],
    header_unions: [
      { name: "us[0]", id: 0, union_type: "u_t", header_ids: [2, 3] },
      { name: "us[1]", id: 1, union_type: "u_t", header_ids: [4, 5] },
    ],
    header_union_stacks: [{ name: "us", id: 0, union_type: "u_t", header_union_ids: [0, 1] }],
    parsers: parser([
      parseState(
        "start",
        [{ op: "extract", parameters: [{ type: "regular", value: "h" }] }],
        [field("h", "a")],
        [transition("xy", "0x01"), transition("yx", "0x02"), transition(null)],
      ),
      parseState("xy", [extract("x"), extract("y")], [], [transition("last")]),
      parseState("yx", [extract("y"), extract("x")], [], [transition("last")]),
      // The last union's x member, read from the union stack in a transition key.
      parseState(
        "last",
        [],
        [{ type: "union_stack_field", value: ["us", "x", "v"] }],
        [transition("noted", "0x77"), transition(null)],
      ),
      parseState(
        "noted",
        [{ op: "set", parameters: [field("h", "b"), hex("0x77")] }],
        [],
        [transition(null)],
      ),
    ]),
    deparsers: [
      { name: "deparser", id: 0, order: ["h", "us[0].x", "us[0].y", "us[1].x", "us[1].y"] },
    ],
    actions,
    pipelines: pipelines(ingress),
  };
}

describe("bmv2 JSON constructs p4c does not emit", () => {
  it("runs direct action calls (action_calls) in pipeline order", () => {
    const json = program(
      {
        init_table: "first",
        action_calls: [
          { name: "first", id: 0, action_id: 0, next_node: "second" },
          { name: "second", id: 1, action_id: 1, next_node: null },
        ],
      },
      [
        {
          name: "port3",
          id: 0,
          runtime_data: [],
          primitives: [assign(field("standard_metadata", "egress_spec"), hex("0x0003"))],
        },
        // b = (a * 7) / 3 % 5, bmv2's unbounded integers: a = 0x10 -> 112 / 3 = 37 % 5 = 2
        {
          name: "arith",
          id: 1,
          runtime_data: [],
          primitives: [
            assign(
              field("h", "b"),
              expr(
                "%",
                expr("/", expr("*", field("h", "a"), hex("0x07")), hex("0x03")),
                hex("0x05"),
              ),
            ),
          ],
        },
      ],
    );
    assert.deepEqual(send(json, "1000"), ["3:1002"]);
  });

  it("rejects a direct call of an action that takes parameters", () => {
    const json = program(
      { init_table: "c", action_calls: [{ name: "c", id: 0, action_id: 0, next_node: null }] },
      [{ name: "p", id: 0, runtime_data: [{ name: "x", bitwidth: 8 }], primitives: [] }],
    );
    assert.throws(() => new SimpleSwitch(json), /action call "c".*takes parameters/);
  });

  it("reads union stack fields in transition keys and copies unions (assign_union)", () => {
    // us[0] = us[1]; then ==u between them holds, so b = 1
    const json = program(
      {
        init_table: "copy",
        action_calls: [{ name: "copy", id: 0, action_id: 0, next_node: "same" }],
        conditionals: [
          {
            name: "same",
            id: 0,
            expression: expr(
              "==u",
              { type: "header_union", value: "us[0]" },
              { type: "header_union", value: "us[1]" },
            ),
            true_next: "mark",
            false_next: null,
          },
        ],
      },
      [
        {
          name: "copy",
          id: 0,
          runtime_data: [],
          primitives: [
            {
              op: "assign_union",
              parameters: [
                { type: "header_union", value: "us[0]" },
                { type: "header_union", value: "us[1]" },
              ],
            },
          ],
        },
      ],
    );
    (json.pipelines as { action_calls: unknown[] }[])[0]?.action_calls.push({
      name: "mark",
      id: 1,
      action_id: 1,
      next_node: null,
    });
    (json.actions as unknown[]).push({
      name: "mark",
      id: 1,
      runtime_data: [],
      primitives: [assign(field("h", "a"), hex("0xee"))],
    });
    // y then x = 0x77: the last union's x is 0x77, so the parser sets b = 0x77. After the copy
    // us[0] holds x = 0x77 too, and the unions compare equal.
    assert.deepEqual(send(json, "0200 1234 77 ff"), ["0:ee77 77 77 ff".replace(/ /g, "")]);
    // x then y: the last union has no valid x, so b stays; the copy makes us[0] a y as well.
    assert.deepEqual(send(json, "0100 55 abcd"), ["0:ee00abcdabcd"]);
  });

  it("dereferences union stacks and reaches members by offset", () => {
    // b = us[h.a - 1].x.v through dereference_union_stack + access_union_header + access_field
    const member = {
      type: "expression",
      value: {
        op: "access_union_header",
        left: expr(
          "dereference_union_stack",
          { type: "header_union_stack", value: "us" },
          expr("-", field("h", "a"), hex("0x01")),
        ),
        right: 0,
      },
    };
    const json = program(
      {
        init_table: "read",
        action_calls: [{ name: "read", id: 0, action_id: 0, next_node: null }],
      },
      [
        {
          name: "read",
          id: 0,
          runtime_data: [],
          primitives: [
            assign(field("h", "b"), {
              type: "expression",
              value: { op: "access_field", left: member, right: 0 },
            }),
          ],
        },
      ],
    );
    assert.deepEqual(send(json, "0100 55 abcd"), ["0:0155 55 abcd".replace(/ /g, "")]);
  });

  /** `program` whose ingress runs one action `act` with these primitives, then ends. */
  const oneAction = (primitives: unknown[]) =>
    program(
      {
        init_table: "act",
        action_calls: [{ name: "act", id: 0, action_id: 0, next_node: null }],
      },
      [{ name: "act", id: 0, runtime_data: [], primitives }],
    );

  it("setValid on a union member zeroes it and invalidates its sibling (generated code)", () => {
    // x then y: us[0] holds x = 55; making us[0].y valid drops x and adds y = 0000.
    const json = oneAction([
      { op: "add_header", parameters: [{ type: "header", value: "us[0].y" }] },
    ]);
    assert.deepEqual(send(json, "0100 55 abcd"), ["0:01000000abcd"]);
    // Already valid: nothing changes.
    const again = oneAction([
      { op: "add_header", parameters: [{ type: "header", value: "us[1].y" }] },
    ]);
    assert.deepEqual(send(again, "0100 55 abcd"), ["0:010055abcd"]);
  });

  it("tells a header union with a valid member from one without (valid_union)", () => {
    const validUnion = (name: string) =>
      expr("b2d", null, expr("valid_union", null, { type: "header_union", value: name }));
    const both = [
      assign(field("h", "a"), validUnion("us[0]")),
      assign(field("h", "b"), validUnion("us[1]")),
    ];
    // Neither union extracted; then both (x, then y).
    assert.deepEqual(send(oneAction(both), "0300"), ["0:0000"]);
    assert.deepEqual(send(oneAction(both), "0100 55 abcd"), ["0:0101 55 abcd".replace(/ /g, "")]);
    // us[0]'s only valid member removed: us[0] has none left, us[1] still has y.
    const removed = oneAction([
      { op: "remove_header", parameters: [{ type: "header", value: "us[0].x" }] },
      ...both,
    ]);
    assert.deepEqual(send(removed, "0100 55 abcd"), ["0:0001abcd"]);
  });

  it("setValid on a varbit header resets its length to 0 (generated code)", () => {
    // h.b bytes of varbit o follow h; the action removes o and adds it back, empty.
    const json = {
      __meta__: { version: [2, 23] },
      header_types: [
        standardMetadata,
        hType,
        { name: "o_t", id: 2, fields: [["d", "*"]], max_length: 4 },
      ],
      headers: [
        { name: "standard_metadata", id: 0, header_type: "standard_metadata", metadata: true },
        { name: "h", id: 1, header_type: "h_t", metadata: false },
        { name: "o", id: 2, header_type: "o_t", metadata: false },
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
              parser_ops: [
                { op: "extract", parameters: [{ type: "regular", value: "h" }] },
                {
                  op: "extract_VL",
                  parameters: [
                    { type: "regular", value: "o" },
                    expr("<<", field("h", "b"), hex("0x03")),
                  ],
                },
              ],
              transition_key: [],
              transitions: [{ type: "default", value: null, mask: null, next_state: null }],
            },
          ],
        },
      ],
      deparsers: [{ name: "deparser", id: 0, order: ["h", "o"] }],
      actions: [
        {
          name: "act",
          id: 0,
          runtime_data: [],
          primitives: [
            { op: "remove_header", parameters: [{ type: "header", value: "o" }] },
            { op: "add_header", parameters: [{ type: "header", value: "o" }] },
          ],
        },
      ],
      pipelines: pipelines({
        init_table: "act",
        action_calls: [{ name: "act", id: 0, action_id: 0, next_node: null }],
      }),
    };
    assert.deepEqual(send(json, "0102 abcd ef"), ["0:0102ef"]);
    assert.deepEqual(send(json, "0100 ef"), ["0:0100ef"]);
  });

  it("runs _jump and _jump_if_zero inside an action body, falling through otherwise", () => {
    // if (h.b == 0) h.a = 0x22 else h.a = 0x11, as p4c lowers a conditional inside an action.
    const json = oneAction([
      { op: "_jump_if_zero", parameters: [field("h", "b"), hex("0x03")] },
      assign(field("h", "a"), hex("0x11")),
      { op: "_jump", parameters: [hex("0x04")] },
      assign(field("h", "a"), hex("0x22")),
    ]);
    assert.deepEqual(send(json, "0300"), ["0:2200"]);
    assert.deepEqual(send(json, "0305"), ["0:1105"]);
  });

  it("rejects extern instances (simple_switch registers no extern types), naming them", () => {
    const json = program({ init_table: null }, []);
    json.extern_instances = [{ name: "my_ext", id: 0, type: "FooExtern", attribute_values: [] }];
    assert.throws(
      () => new SimpleSwitch(json),
      (e: unknown) =>
        e instanceof UnsupportedConstructError &&
        e.message.includes('extern instance "my_ext" of type "FooExtern"') &&
        e.message.includes("extern_instances[0]"),
    );
  });
});
