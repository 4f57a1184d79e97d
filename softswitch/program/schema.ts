/**
 * The shape of p4c's bmv2 JSON (format 2.x, bmv2 docs/JSON_format.md), checked with zod at load.
 * Shapes are structural only; references between objects are resolved by `load.ts`, and the
 * per-construct support checks happen where each construct is compiled.
 */
import { z } from "zod";

const sourceInfo = z.looseObject({ filename: z.string(), line: z.number() }).optional();

/** A `{type, value}` object (JSON_format.md "The type value object"); `value` is checked by users. */
export const typedValue = z.looseObject({ type: z.string(), value: z.unknown() });
export type TypedValue = z.infer<typeof typedValue>;

/** bmv2 reads the flags with Json asBool, so p4c's `0` (bool fields) means false. */
const jsonBool = z
  .union([z.boolean(), z.number()])
  .transform((v) => (typeof v === "boolean" ? v : v !== 0));
const fieldWidth = z.union([z.number().int().positive(), z.literal("*")]);
/** [name, width | "*", signed?, saturating?] */
const fieldSpec = z.union([
  z.tuple([z.string(), fieldWidth]),
  z.tuple([z.string(), fieldWidth, jsonBool]),
  z.tuple([z.string(), fieldWidth, jsonBool, jsonBool]),
]);

const headerType = z.looseObject({
  name: z.string(),
  id: z.number().int(),
  fields: z.array(fieldSpec),
  length_exp: z.unknown().optional(),
  max_length: z.number().int().nullable().optional(),
});

const headerInstance = z.looseObject({
  name: z.string(),
  id: z.number().int(),
  header_type: z.string(),
  metadata: z.boolean(),
});

const headerStack = z.looseObject({
  name: z.string(),
  id: z.number().int(),
  header_type: z.string(),
  header_ids: z.array(z.number().int()),
});

const headerUnionType = z.looseObject({
  name: z.string(),
  id: z.number().int(),
  headers: z.array(z.tuple([z.string(), z.string()])),
});

const headerUnion = z.looseObject({
  name: z.string(),
  id: z.number().int(),
  union_type: z.string(),
  header_ids: z.array(z.number().int()),
});

const headerUnionStack = z.looseObject({
  name: z.string(),
  id: z.number().int(),
  union_type: z.string(),
  header_union_ids: z.array(z.number().int()),
});

const primitiveCall = z.looseObject({
  op: z.string(),
  parameters: z.array(typedValue),
  source_info: sourceInfo,
});
export type PrimitiveCall = z.infer<typeof primitiveCall>;

const parserOp = z.looseObject({ op: z.string(), parameters: z.array(z.unknown()) });
export type ParserOp = z.infer<typeof parserOp>;

const transition = z.looseObject({
  type: z.enum(["default", "hexstr", "parse_vset"]).optional(),
  value: z.string().nullable(),
  mask: z.string().nullable().optional(),
  next_state: z.string().nullable(),
});
export type Transition = z.infer<typeof transition>;

const parseState = z.looseObject({
  name: z.string(),
  id: z.number().int(),
  parser_ops: z.array(parserOp),
  transition_key: z.array(typedValue),
  transitions: z.array(transition),
});
export type ParseState = z.infer<typeof parseState>;

const parser = z.looseObject({
  name: z.string(),
  id: z.number().int(),
  init_state: z.string(),
  parse_states: z.array(parseState),
});

const parseVset = z.looseObject({
  name: z.string(),
  id: z.number().int(),
  compressed_bitwidth: z.number().int(),
});

const deparser = z.looseObject({
  name: z.string(),
  id: z.number().int(),
  order: z.array(z.string()),
  primitives: z.array(primitiveCall).optional(),
});

const meterArray = z
  .looseObject({
    name: z.string(),
    id: z.number().int(),
    type: z.enum(["bytes", "packets"]),
    rate_count: z.number().int(),
    // p4c gives direct (per-entry) arrays no size: they live in their table's entries.
    size: z.number().int().optional(),
    is_direct: z.boolean(),
    binding: z.string().optional(),
    result_target: z.tuple([z.string(), z.string()]).optional(),
    source_info: sourceInfo,
  })
  .refine((m) => m.is_direct || m.size !== undefined, {
    message: "an indirect meter array needs a size",
    path: ["size"],
  });
export type MeterArraySpec = z.infer<typeof meterArray>;

const counterArray = z
  .looseObject({
    name: z.string(),
    id: z.number().int(),
    size: z.number().int().optional(),
    is_direct: z.boolean(),
    binding: z.string().optional(),
    source_info: sourceInfo,
  })
  .refine((c) => c.is_direct || c.size !== undefined, {
    message: "an indirect counter array needs a size",
    path: ["size"],
  });
export type CounterArraySpec = z.infer<typeof counterArray>;

const registerArray = z.looseObject({
  name: z.string(),
  id: z.number().int(),
  size: z.number().int(),
  bitwidth: z.number().int().positive(),
  source_info: sourceInfo,
});
export type RegisterArraySpec = z.infer<typeof registerArray>;

const action = z.looseObject({
  name: z.string(),
  id: z.number().int(),
  runtime_data: z.array(z.looseObject({ name: z.string(), bitwidth: z.number().int() })),
  primitives: z.array(primitiveCall),
  source_info: sourceInfo,
});
export type ActionSpec = z.infer<typeof action>;

const selector = z.looseObject({ algo: z.string(), input: z.array(typedValue) });

const actionProfile = z.looseObject({
  name: z.string(),
  id: z.number().int(),
  max_size: z.number().int(),
  selector: selector.optional(),
});
export type ActionProfileSpec = z.infer<typeof actionProfile>;

const matchKind = z.enum(["exact", "lpm", "ternary", "range", "valid", "optional"]);
export type MatchKind = z.infer<typeof matchKind>;

const tableKey = z.looseObject({
  match_type: matchKind,
  target: z.union([z.tuple([z.string(), z.string()]), z.string()]),
  mask: z.string().nullable().optional(),
  name: z.string().optional(),
});
export type TableKeySpec = z.infer<typeof tableKey>;

const entryKey = z.looseObject({
  match_type: matchKind,
  key: z.union([z.string(), z.boolean()]).optional(),
  mask: z.string().optional(),
  prefix_length: z.number().int().optional(),
  start: z.string().optional(),
  end: z.string().optional(),
});
export type EntryKeySpec = z.infer<typeof entryKey>;

const actionEntry = z.looseObject({
  action_id: z.number().int(),
  action_data: z.array(z.string()),
});

const constEntry = z.looseObject({
  match_key: z.array(entryKey),
  action_entry: actionEntry,
  priority: z.number().int().optional(),
  source_info: sourceInfo,
});
export type ConstEntrySpec = z.infer<typeof constEntry>;

const table = z.looseObject({
  name: z.string(),
  id: z.number().int(),
  match_type: z.enum(["exact", "lpm", "ternary", "range"]),
  type: z.enum(["simple", "indirect", "indirect_ws"]),
  action_profile: z.string().optional(),
  max_size: z.number().int(),
  with_counters: z.boolean(),
  support_timeout: z.boolean(),
  direct_meters: z.string().nullable(),
  key: z.array(tableKey),
  actions: z.array(z.string()),
  action_ids: z.array(z.number().int()),
  next_tables: z.record(z.string(), z.string().nullable()),
  base_default_next: z.string().nullable().optional(),
  default_entry: z
    .looseObject({
      action_id: z.number().int(),
      action_const: z.boolean().optional(),
      action_data: z.array(z.string()),
      action_entry_const: z.boolean().optional(),
    })
    .optional(),
  entries: z.array(constEntry).optional(),
  source_info: sourceInfo,
});
export type TableSpec = z.infer<typeof table>;

const conditional = z.looseObject({
  name: z.string(),
  id: z.number().int(),
  expression: typedValue,
  true_next: z.string().nullable(),
  false_next: z.string().nullable(),
  source_info: sourceInfo,
});
export type ConditionalSpec = z.infer<typeof conditional>;

const actionCall = z.looseObject({
  name: z.string(),
  id: z.number().int(),
  action_id: z.number().int(),
  next_node: z.string().nullable(),
});
export type ActionCallSpec = z.infer<typeof actionCall>;

const pipeline = z.looseObject({
  name: z.string(),
  id: z.number().int(),
  init_table: z.string().nullable(),
  action_profiles: z.array(actionProfile),
  tables: z.array(table),
  conditionals: z.array(conditional),
  action_calls: z.array(actionCall).optional(),
});
export type PipelineSpec = z.infer<typeof pipeline>;

const calculationInput = z.looseObject({
  type: z.enum(["field", "hexstr", "header", "payload"]),
  value: z.unknown(),
  bitwidth: z.number().int().optional(),
});
export type CalculationInput = z.infer<typeof calculationInput>;

const calculation = z.looseObject({
  name: z.string(),
  id: z.number().int(),
  algo: z.string(),
  input: z.array(calculationInput),
  source_info: sourceInfo,
});
export type CalculationSpec = z.infer<typeof calculation>;

const checksum = z.looseObject({
  name: z.string(),
  id: z.number().int(),
  target: z.tuple([z.string(), z.string()]),
  type: z.string(),
  calculation: z.string(),
  update: z.boolean().optional(),
  verify: z.boolean().optional(),
  if_cond: typedValue.nullable().optional(),
  source_info: sourceInfo,
});
export type ChecksumSpec = z.infer<typeof checksum>;

const fieldList = z.looseObject({
  name: z.string(),
  id: z.number().int(),
  elements: z.array(typedValue),
});
export type FieldListSpec = z.infer<typeof fieldList>;

const learnList = z.looseObject({
  name: z.string(),
  id: z.number().int(),
  elements: z.array(typedValue),
});
export type LearnListSpec = z.infer<typeof learnList>;

const externInstance = z.looseObject({ name: z.string(), id: z.number().int(), type: z.string() });

/** The root object of a bmv2 JSON program. */
export const bmv2Program = z.looseObject({
  __meta__: z.looseObject({ version: z.tuple([z.number().int(), z.number().int()]) }),
  header_types: z.array(headerType),
  headers: z.array(headerInstance),
  header_stacks: z.array(headerStack).default([]),
  header_union_types: z.array(headerUnionType).default([]),
  header_unions: z.array(headerUnion).default([]),
  header_union_stacks: z.array(headerUnionStack).default([]),
  field_lists: z.array(fieldList).default([]),
  errors: z.array(z.tuple([z.string(), z.number().int()])).default([]),
  enums: z
    .array(z.looseObject({ name: z.string(), entries: z.array(z.tuple([z.string(), z.number()])) }))
    .default([]),
  parsers: z.array(parser),
  parse_vsets: z.array(parseVset).default([]),
  deparsers: z.array(deparser),
  meter_arrays: z.array(meterArray).default([]),
  counter_arrays: z.array(counterArray).default([]),
  register_arrays: z.array(registerArray).default([]),
  calculations: z.array(calculation).default([]),
  learn_lists: z.array(learnList).default([]),
  actions: z.array(action),
  pipelines: z.array(pipeline),
  checksums: z.array(checksum).default([]),
  force_arith: z.array(z.unknown()).default([]),
  extern_instances: z.array(externInstance).default([]),
  field_aliases: z.array(z.tuple([z.string(), z.tuple([z.string(), z.string()])])).default([]),
});
export type Bmv2Program = z.infer<typeof bmv2Program>;
