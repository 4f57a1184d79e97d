/**
 * Building blocks for programs written by hand in bmv2 JSON (JSON_format.md), for the tests of
 * constructs no fixture program uses, and a way to send them one frame.
 */
import { SimpleSwitch } from "../../softswitch/v1model/switch.js";

export const field = (h: string, f: string) => ({ type: "field", value: [h, f] });
export const hex = (value: string) => ({ type: "hexstr", value });
export const header = (name: string) => ({ type: "header", value: name });
export const expr = (op: string, left: unknown, right: unknown) => ({
  type: "expression",
  value: { op, left, right },
});
export const assign = (dst: unknown, src: unknown) => ({ op: "assign", parameters: [dst, src] });

export const standardMetadata = {
  name: "standard_metadata",
  id: 0,
  fields: [
    ["ingress_port", 9, false],
    ["egress_spec", 9, false],
    ["egress_port", 9, false],
    ["instance_type", 32, false],
    ["packet_length", 32, false],
  ],
};

/** A parse state. */
export const parseState = (
  name: string,
  ops: unknown[],
  key: unknown[],
  transitions: unknown[],
) => ({ name, id: 0, parser_ops: ops, transition_key: key, transitions });

/** A transition to `next` (null: accept): on `value` under `mask`, or the default one. */
export const transition = (
  next: string | null,
  value: string | null = null,
  mask: string | null = null,
) => ({ type: value === null ? "default" : "hexstr", value, mask, next_state: next });

/** The `parsers` of a program: one parser, starting at state "start". */
export const parser = (states: unknown[]) => [
  { name: "parser", id: 0, init_state: "start", parse_states: states },
];

/** An ingress pipeline with these nodes, and an empty egress. */
export const pipelines = (ingress: Record<string, unknown>) => [
  { name: "ingress", id: 0, action_profiles: [], tables: [], conditionals: [], ...ingress },
  { name: "egress", id: 1, init_table: null, action_profiles: [], tables: [], conditionals: [] },
];

/** The frames `json` sends for `frame` (hex, spaces ignored) entering port 0, as `port:hex`. */
export const send = (json: object, frame: string) =>
  new SimpleSwitch(json)
    .process(0, Buffer.from(frame.replace(/ /g, ""), "hex"))
    .map((o) => `${o.port}:${Buffer.from(o.frame).toString("hex")}`);
