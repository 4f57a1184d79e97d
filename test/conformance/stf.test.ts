/**
 * The STF driver against p4c's own reading of STF (tools/stf, backends/bmv2/bmv2stf.py):
 * statement syntax, key and action resolution, ternary masks and LPM prefixes from the written
 * digits, and bmv2stf's packet comparison.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseStf, StfSyntaxError, splitStfCases } from "./stf-parser.js";
import { StfProgram, StfResolveError } from "./stf-program.js";
import { matchPattern } from "./stf-runner.js";

/** A bmv2 JSON with just what name resolution reads. */
const json = {
  header_types: [
    {
      name: "h_t",
      fields: [
        ["f", 16, false],
        ["g", 8, false],
        ["b", 8, false],
      ],
    },
  ],
  headers: [
    { name: "h", header_type: "h_t" },
    { name: "extra[0]", header_type: "h_t" },
  ],
  actions: [
    { id: 0, name: "ingress.setb", runtime_data: [{ name: "val", bitwidth: 8 }] },
    { id: 1, name: "NoAction", runtime_data: [] },
  ],
  pipelines: [
    {
      tables: [
        {
          name: "ingress.tern",
          match_type: "ternary",
          key: [
            { match_type: "ternary", target: ["h", "f"], name: "h.f" },
            { match_type: "exact", target: ["extra[0]", "g"], name: "extra[0].g" },
            { match_type: "exact", target: ["h", "$valid$"], name: "h.$valid$" },
          ],
          actions: ["ingress.setb", "NoAction"],
          action_ids: [0, 1],
        },
        {
          name: "ingress.routes",
          match_type: "lpm",
          key: [{ match_type: "lpm", target: ["h", "f"], name: "h.f" }],
          actions: ["NoAction"],
          action_ids: [1],
        },
      ],
    },
    { tables: [] },
  ],
};

describe("STF parser", () => {
  it("reads add with priority, $N stack keys, actions with arguments and an id", () => {
    const [s] = parseStf("ADD tern 5 h.f:0x0a** extra$0.g:7 setb(val:0x7f) = A\n");
    assert.deepEqual(s, {
      line: 1,
      command: {
        kind: "add",
        table: "tern",
        priority: 5,
        keys: [
          { field: "h.f", value: "0x0a**" },
          { field: "extra[0].g", value: "7" },
        ],
        action: { name: "setb", args: [{ name: "val", value: "0x7f" }] },
        id: "A",
      },
    });
  });

  it("reads packets, expectations with wildcards and exact length, and CLI commands", () => {
    const statements = parseStf(
      [
        "# comment",
        "packet 2 0102 03",
        "expect 1 01** 03 $",
        "expect 4",
        "mc_node_create 400 1 2",
        "wait",
      ].join("\n"),
    ).map((s) => s.command);
    assert.deepEqual(statements, [
      { kind: "packet", port: 2, data: "010203" },
      { kind: "expect", port: 1, data: "01**03$" },
      { kind: "expect", port: 4 },
      { kind: "cli", name: "mc_node_create", args: ["400", "1", "2"] },
      { kind: "wait" },
    ]);
  });

  it("names the line of a statement it cannot read", () => {
    assert.throws(
      () => parseStf("packet 0 00\nfrobnicate 1\n"),
      (e: unknown) => e instanceof StfSyntaxError && e.line === 2 && /frobnicate/.test(e.message),
    );
  });

  it("splits `## name` cases, each with the preamble", () => {
    const cases = splitStfCases("add t a()\n## one\npacket 0 00\n## two\npacket 1 11\n");
    assert.deepEqual(
      cases.map((c) => [c.name, parseStf(c.text).map((s) => [s.line, s.command.kind])]),
      [
        [
          "one",
          [
            [1, "add"],
            [3, "packet"],
          ],
        ],
        [
          "two",
          [
            [1, "add"],
            [5, "packet"],
          ],
        ],
      ],
    );
  });
});

describe("STF resolution (bmv2stf rules)", () => {
  const program = new StfProgram(json);

  it("finds tables and actions by suffix, keys by suffix and .valid, wildcards the rest", () => {
    const [add] = parseStf("add tern 3 f:0x0a** h.valid:1 setb(val:2)");
    assert.equal(add?.command.kind, "add");
    const entry = program.resolveAdd(add?.command as never);
    assert.equal(entry.table.name, "ingress.tern");
    assert.ok("action" in entry.target);
    assert.equal(entry.target.action.name, "ingress.setb");
    assert.deepEqual(entry.target.args, [2n]);
    assert.equal(entry.priority, 3);
    assert.deepEqual(
      entry.keys.map((k) => ({ ...k })),
      [
        // every written digit is cared about: "0x0a**" is value 0x0a00, mask 0xff00
        { name: "h.f", kind: "ternary", width: 16, value: 0x0a00n, mask: 0xff00n },
        { name: "extra[0].g", kind: "exact", width: 8, value: 0n },
        { name: "h.$valid$", kind: "exact", width: 1, value: 1n },
      ],
    );
  });

  it("takes an LPM prefix from the written digits, or from /len", () => {
    const lpm = (text: string) => {
      const [s] = parseStf(`add routes ${text} NoAction()`);
      const [k] = program.resolveAdd(s?.command as never).keys;
      return k?.kind === "lpm" ? [k.value, k.prefixLength] : undefined;
    };
    assert.deepEqual(lpm("h.f:0x0a**"), [0x0a00n, 8]);
    assert.deepEqual(lpm("h.f:0x0a00/7"), [0x0a00n, 7]);
  });

  it("fails as bmv2stf does: no priority on a ternary table, a missing action argument", () => {
    const resolve = (text: string) => () => program.resolveAdd(parseStf(text)[0]?.command as never);
    assert.throws(resolve("add tern h.f:0x01 NoAction()"), StfResolveError);
    assert.throws(resolve("add tern 1 h.f:0x01 setb()"), /parameter "val" not given/);
    assert.throws(resolve("add nope 1 h.f:0x01 setb()"), /no table "nope"/);
  });
});

describe("STF packet comparison (testutils.compare_pkt)", () => {
  const frame = Uint8Array.from([0x01, 0x02, 0x03]);
  it("matches nibble by nibble, * anywhere, extra bytes allowed unless $", () => {
    assert.equal(matchPattern("01*203", frame), undefined);
    assert.equal(matchPattern("0102", frame), undefined);
    assert.match(matchPattern("0102$", frame) ?? "", /longer/);
    assert.match(matchPattern("01020304", frame) ?? "", /shorter/);
    assert.match(matchPattern("0103", frame) ?? "", /byte 1/);
  });
});
