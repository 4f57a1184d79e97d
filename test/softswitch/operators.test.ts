/**
 * Operators, operands and program parts of bmv2 JSON (JSON_format.md) that no fixture program
 * uses: header stacks indexed per packet, stack sizes, header comparison, signed and wide
 * values, division by wide operands, register operands, masked table keys, deparser primitives
 * and transition keys wider than 32 bits. The programs are written here in bmv2 JSON; expected
 * frames by hand, from bmv2's semantics (unbounded integers, truncated when stored).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  assign,
  expr,
  field,
  header,
  hex,
  parser,
  parseState,
  pipelines,
  send,
  standardMetadata,
  transition,
} from "./bmv2-json.js";

const b2d = (bool: unknown) => expr("b2d", null, bool);
const stack = { type: "header_stack", value: "st" };
/** Field v of st[index], the element chosen per packet. */
const element = (index: unknown) => expr("dereference_stack", stack, index);
const elementField = (index: unknown) => ({
  type: "expression",
  value: { op: "access_field", left: element(index), right: 0 },
});

interface Parts {
  /** The ingress runs one action with these primitives. */
  primitives?: unknown[];
  /** Or these tables (the first one applied), with these actions. */
  tables?: unknown[];
  actions?: unknown[];
  deparserPrimitives?: unknown[];
  calculations?: unknown[];
}

/**
 * `h` (bytes a, b, c) then, as c says, none (0), one (1) or two (2) elements of the stack `st`
 * of 8-bit headers; c = 3 looks 40 bits ahead: 0x1122334455 takes one element, 0xaa........ (a
 * masked value) two, anything else none. Metadata `m`: s (8 bits, signed), w (64 bits, signed),
 * u (64 bits). A register array `r` of four 8-bit cells.
 */
function program(parts: Parts): Record<string, unknown> {
  const extract = (type: string, value: string) => ({
    op: "extract",
    parameters: [{ type, value }],
  });
  const ingress = parts.tables
    ? { init_table: "t", tables: parts.tables }
    : {
        init_table: "act",
        action_calls: [{ name: "act", id: 0, action_id: 0, next_node: null }],
      };
  return {
    __meta__: { version: [2, 23] },
    header_types: [
      standardMetadata,
      {
        name: "h_t",
        id: 1,
        fields: [
          ["a", 8, false],
          ["b", 8, false],
          ["c", 8, false],
        ],
      },
      { name: "x_t", id: 2, fields: [["v", 8, false]] },
      {
        name: "m_t",
        id: 3,
        fields: [
          ["s", 8, true],
          ["w", 64, true],
          ["u", 64, false],
        ],
      },
    ],
    headers: [
      { name: "standard_metadata", id: 0, header_type: "standard_metadata", metadata: true },
      { name: "h", id: 1, header_type: "h_t", metadata: false },
      { name: "st[0]", id: 2, header_type: "x_t", metadata: false },
      { name: "st[1]", id: 3, header_type: "x_t", metadata: false },
      { name: "m", id: 4, header_type: "m_t", metadata: true },
    ],
    header_stacks: [{ name: "st", id: 0, header_type: "x_t", size: 2, header_ids: [2, 3] }],
    register_arrays: [{ name: "r", id: 0, size: 4, bitwidth: 8 }],
    calculations: parts.calculations ?? [],
    parsers: parser([
      parseState(
        "start",
        [extract("regular", "h")],
        [field("h", "c")],
        [
          transition(null, "0x00"),
          transition("one", "0x01"),
          transition("two", "0x02"),
          transition("wide", "0x03"),
          transition(null),
        ],
      ),
      parseState("one", [extract("stack", "st")], [], [transition(null)]),
      parseState("two", [extract("stack", "st"), extract("stack", "st")], [], [transition(null)]),
      parseState(
        "wide",
        [],
        [{ type: "lookahead", value: [0, 40] }],
        [
          transition("one", "0x1122334455"),
          transition("two", "0xaa00000000", "0xff00000000"),
          transition(null),
        ],
      ),
    ]),
    deparsers: [
      {
        name: "deparser",
        id: 0,
        order: ["h", "st[0]", "st[1]"],
        primitives: parts.deparserPrimitives ?? [],
      },
    ],
    actions: parts.actions ?? [
      { name: "act", id: 0, runtime_data: [], primitives: parts.primitives ?? [] },
    ],
    pipelines: pipelines(ingress),
  };
}

const run = (primitives: unknown[], frame: string) => send(program({ primitives }), frame);

describe("bmv2 JSON operators no fixture program uses", () => {
  it("dereferences a stack by a per-packet index, clamped to its last element", () => {
    const primitives = [
      assign(field("h", "b"), elementField(field("h", "a"))),
      assign(field("h", "a"), b2d(expr("valid", null, element(field("h", "a"))))),
    ];
    assert.deepEqual(run(primitives, "00 00 02 11 22"), ["0:0111021122"]);
    // Index 5 of a stack of two: bmv2 aborts; we take the last element.
    assert.deepEqual(run(primitives, "05 00 02 11 22"), ["0:0122021122"]);
    // st[1] was not extracted: not valid, its field still zero.
    assert.deepEqual(run(primitives, "01 00 01 11"), ["0:00000111"]);
  });

  it("writes the field of a stack element chosen per packet", () => {
    // A primitive's expression parameter wraps the expression once more (as p4c writes it).
    const destination = { type: "expression", value: elementField(field("h", "a")) };
    const primitives = [assign(destination, field("h", "b"))];
    assert.deepEqual(run(primitives, "01 77 02 11 22"), ["0:0177021177"]);
    assert.deepEqual(run(primitives, "00 77 02 11 22"), ["0:0077027722"]);
  });

  it("gives a stack's size and last index; an empty stack's last index is 2^64 - 1", () => {
    const primitives = [
      assign(field("h", "a"), expr("size_stack", null, stack)),
      assign(field("h", "b"), expr("last_stack_index", null, stack)),
    ];
    assert.deepEqual(run(primitives, "00 00 02 11 22"), ["0:0201021122"]);
    // 2^64 - 1 stored into 8 bits.
    assert.deepEqual(run(primitives, "00 00 00"), ["0:00ff00"]);
  });

  it("compares headers: equal when both are valid and every field is equal (==h, !=h)", () => {
    const primitives = [
      assign(field("h", "a"), b2d(expr("==h", header("st[0]"), header("st[1]")))),
      assign(field("h", "b"), b2d(expr("!=h", header("st[0]"), header("st[1]")))),
    ];
    assert.deepEqual(run(primitives, "00 00 02 33 33"), ["0:0100023333"]);
    assert.deepEqual(run(primitives, "00 00 02 33 34"), ["0:0001023334"]);
    // st[1] invalid: not equal even though its field (0) equals st[0]'s.
    assert.deepEqual(run(primitives, "00 00 01 00"), ["0:00010100"]);
  });

  it("reads signed fields as signed, narrow and wide", () => {
    const primitives = [
      assign(field("m", "s"), field("h", "a")),
      // m.s < 0
      assign(field("h", "b"), b2d(expr("<", field("m", "s"), hex("0x00")))),
      // m.w = a - 0x20, then its top four bits shifted down arithmetically, masked to 8 bits
      assign(field("m", "w"), expr("-", field("h", "a"), hex("0x20"))),
      assign(field("h", "c"), expr("&", expr(">>", field("m", "w"), hex("0x3c")), hex("0xff"))),
    ];
    // a = 0x10: s = 16, w = -16, whose top bits shifted down are -1 (0xff), not 0x0f.
    assert.deepEqual(run(primitives, "10 00 00"), ["0:1000ff"]);
    // a = 0xf0: s = -16; w = 0xd0.
    assert.deepEqual(run(primitives, "f0 00 00"), ["0:f00100"]);
  });

  it("compares values wider than 53 bits", () => {
    const primitives = [
      assign(field("m", "u"), expr("<<", field("h", "a"), hex("0x38"))),
      assign(field("h", "b"), b2d(expr(">", field("m", "u"), hex("0x7f00000000000000")))),
      assign(field("h", "c"), b2d(expr("==", field("m", "u"), hex("0x8000000000000000")))),
    ];
    assert.deepEqual(run(primitives, "80 00 00"), ["0:800101"]);
    assert.deepEqual(run(primitives, "7f 00 00"), ["0:7f0000"]);
  });

  it("divides with operands wider than 53 bits; a zero divisor gives 0", () => {
    const wide = hex("0x10000000000000013");
    const primitives = [
      // A narrow result (the bound of a remainder is its divisor's) of a wide divisor.
      assign(field("h", "b"), expr("%", field("h", "a"), hex("0x10000000000000005"))),
      // 0x10000000000000013 / 0x10 = 0x1000000000000001, stored into 8 bits.
      assign(field("h", "c"), expr("/", wide, field("h", "a"))),
    ];
    assert.deepEqual(run(primitives, "10 00 00"), ["0:101001"]);
    assert.deepEqual(run(primitives, "00 00 00"), ["0:000000"]);
    const modulo = [assign(field("h", "b"), expr("%", wide, field("h", "a")))];
    assert.deepEqual(run(modulo, "10 00 00"), ["0:100300"]);
  });

  it("reads register cells in expressions; a cell past the end reads 0", () => {
    const r = { type: "register_array", value: "r" };
    const cell = (index: string) => ({ type: "register", value: ["r", hex(index)] });
    const primitives = [
      { op: "register_write", parameters: [r, hex("0x01"), field("h", "a")] },
      assign(field("h", "b"), expr("+", cell("0x01"), hex("0x01"))),
      assign(field("h", "c"), expr("+", cell("0x09"), hex("0x03"))),
    ];
    assert.deepEqual(run(primitives, "07 00 00"), ["0:070803"]);
  });

  it("builds a table key through the key's mask", () => {
    const action = (name: string, id: number, primitives: unknown[]) => ({
      name,
      id,
      runtime_data: [],
      primitives,
    });
    const json = program({
      actions: [action("hit", 0, [assign(field("h", "b"), hex("0x01"))]), action("miss", 1, [])],
      tables: [
        {
          name: "t",
          id: 0,
          key: [{ match_type: "exact", name: "h.a", target: ["h", "a"], mask: "0xf0" }],
          match_type: "exact",
          type: "simple",
          max_size: 4,
          with_counters: false,
          support_timeout: false,
          direct_meters: null,
          action_ids: [0, 1],
          actions: ["hit", "miss"],
          base_default_next: null,
          next_tables: { hit: null, miss: null },
          default_entry: { action_id: 1, action_const: false, action_data: [] },
          entries: [
            {
              match_key: [{ match_type: "exact", key: "0x10" }],
              action_entry: { action_id: 0, action_data: [] },
            },
          ],
        },
      ],
    });
    assert.deepEqual(send(json, "1f 00 00"), ["0:1f0100"]);
    assert.deepEqual(send(json, "2f 00 00"), ["0:2f0000"]);
  });

  it("runs the deparser's primitives before it emits the headers", () => {
    const json = program({ deparserPrimitives: [assign(field("h", "b"), hex("0x99"))] });
    assert.deepEqual(send(json, "01 00 00"), ["0:019900"]);
  });

  it("builds hash inputs of whole headers and constants, skipping invalid headers' fields", () => {
    // identity: the input's first 8 bytes as a number; here at most 3 bytes, spread over h.
    const input = [header("st[0]"), field("st[1]", "v"), { ...hex("0x5"), bitwidth: 4 }];
    const hash = {
      op: "modify_field_with_hash_based_offset",
      parameters: [
        field("m", "u"),
        hex("0x00"),
        { type: "calculation", value: "c" },
        hex("0x1000000"),
      ],
    };
    const primitives = [
      hash,
      assign(field("h", "a"), expr(">>", field("m", "u"), hex("0x10"))),
      assign(field("h", "b"), expr(">>", field("m", "u"), hex("0x08"))),
      assign(field("h", "c"), field("m", "u")),
    ];
    const json = program({
      primitives,
      calculations: [{ name: "c", id: 0, algo: "identity", input }],
    });
    // st[0], st[1].v, then 0x5 in the high half of the last byte.
    assert.deepEqual(send(json, "00 00 02 11 22"), ["0:1122501122"]);
    // st[1] not extracted: its field is left out.
    assert.deepEqual(send(json, "00 00 01 11"), ["0:00115011"]);
    assert.deepEqual(send(json, "00 00 00"), ["0:000050"]);
  });

  it("matches a 40-bit lookahead transition key exactly and under a mask", () => {
    const primitives = [assign(field("h", "a"), expr("size_stack", null, stack))];
    assert.deepEqual(run(primitives, "00 00 03 1122334455"), ["0:0100031122334455"]);
    assert.deepEqual(run(primitives, "00 00 03 aa00000000 bb"), ["0:020003aa00000000bb"]);
    // Neither: nothing more is extracted.
    assert.deepEqual(run(primitives, "00 00 03 1122334456"), ["0:0000031122334456"]);
  });
});
