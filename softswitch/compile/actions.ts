/**
 * Compiles actions: each primitive call becomes JavaScript source, joined into one generated
 * function per action (codegen.ts); primitives too rare to write out call plain helpers.
 * Semantics follow bmv2's core primitives (bm_sim core/primitives.cpp, actions.cpp) and
 * simple_switch's (targets/simple_switch/primitives.cpp).
 */

import { type PacketState, readSlot, writeSlot } from "../core/packet.js";
import { type FieldValue, MAX_NUMBER_BITS, toIndex, truncate } from "../core/values.js";
import { ProgramError, sourceOf, UnsupportedConstructError } from "../program/errors.js";
import type { ActionSpec, PrimitiveCall } from "../program/schema.js";
import type { Calculation } from "./calculations.js";
import { type Code, CodeGen, literal, PHV_PRELUDE, slotSource } from "./codegen.js";
import {
  accessedField,
  asData,
  asHeader,
  asUnion,
  bigSource,
  compileData,
  compileExpr,
  type DataExpr,
  type ExprContext,
  type Locals,
  numSource,
} from "./expressions.js";
import type { JumpTo, PrimitiveCode, PrimitiveCompiler, Resources } from "./resources.js";

export type ActionFn = (p: PacketState, data: Locals) => void;

export interface CompiledAction {
  id: number;
  name: string;
  paramWidths: number[];
  run: ActionFn;
  /** The body as source over `p`, `l`, `v`, `w`, `V` (codegen.ts), to inline. */
  code: Code;
  /** The body may set `exited` (an `exit` primitive). */
  exits: boolean;
}

/** An assignable location: a fixed slot, or one computed per packet (stack element fields). */
interface LValue {
  width: number;
  /** Source of the slot. */
  slot: Code;
  /** The slot, when it is the same for every packet. */
  fixedSlot?: number;
}

/** An action: its body as source, and as one generated function of its own (table hits). */
export function compileAction(spec: ActionSpec, res: Resources): CompiledAction {
  const paramWidths = spec.runtime_data.map((r) => r.bitwidth);
  const owner = `action "${spec.name}"`;
  const { code, exits } = compileBody(spec.primitives, res, paramWidths, owner);
  const g = new CodeGen(owner);
  const run = g.build<ActionFn>("p, l", PHV_PRELUDE + code(g));
  return { id: spec.id, name: spec.name, paramWidths, run, code, exits };
}

/**
 * Compiles a primitive list (an action body, a parser method call, deparser primitives) into
 * source. Lists with jumps (`_jump`, `_jump_if_zero`) become a `switch` over the primitive index
 * in a loop, each case falling through to the next.
 */
export function compileBody(
  calls: readonly PrimitiveCall[],
  res: Resources,
  paramWidths: readonly number[],
  owner: string,
): { code: Code; exits: boolean } {
  const exits = calls.some((c) => c.op === "exit");
  const hasJumps = calls.some((c) => c.op === "_jump" || c.op === "_jump_if_zero");
  const codes = calls.map((call) => {
    const ctx: ExprContext = {
      layout: res.layout,
      where: `primitive "${call.op}" in ${owner}`,
      source: sourceOf(call),
      localWidths: paramWidths,
      registers: res.registers,
    };
    return primitiveCode(call, ctx, res);
  });
  const code: Code = hasJumps
    ? (g) => {
        const pc = g.local("pc");
        const loop = g.local("jump");
        const jumps: JumpTo = (target) => `{ ${pc} = ${target}; continue ${loop}; }`;
        const cases = codes.map((c, i) => `case ${i}:\n${c(g, jumps)}`).join("");
        return `let ${pc} = 0;\n${loop}: for (;;) {\nswitch (${pc}) {\n${cases}}\nbreak;\n}\n`;
      }
    : (g) => codes.map((c) => c(g, noJumps)).join("");
  return { code, exits };
}

const noJumps: JumpTo = () => {
  throw new Error("a jump outside a list compiled with jumps");
};

/**
 * Every primitive, once, as the source it runs as (bmv2's core primitives, then
 * simple_switch's). The common forms are written out in place; the rest call the plain helpers
 * below them (stacks, unions, varbit headers, per-packet field locations).
 */
const jump: PrimitiveCompiler = (call, ctx, _res) => {
  const target = constantOf(compileData(call.parameters[0], ctx), ctx);
  return (_g, jump) => `${jump(target)}\n`;
};

const jumpIfZero: PrimitiveCompiler = (call, ctx, _res) => {
  const cond = compileData(call.parameters[0], ctx);
  const target = constantOf(compileData(call.parameters[1], ctx), ctx);
  return (g, jump) => `if (${bigSource(cond, g)} === 0n) ${jump(target)}\n`;
};

const assign: PrimitiveCompiler = (call, ctx, _res) => {
  const [dst, src] = params(call, 2, ctx);
  const d = compileLValue(dst, ctx);
  const s = compileData(src, ctx);
  if (d.fixedSlot !== undefined) return storeCode(d.fixedSlot, d.width, s);
  return (g) =>
    storeAt(d, s.num && d.width <= MAX_NUMBER_BITS ? numSource(s, g) : bigSource(s, g), g);
};

const assignVL: PrimitiveCompiler = (call, ctx, res) => {
  const { layout } = res;
  const [dst, src] = params(call, 2, ctx);
  const d = compileLValue(dst, ctx);
  const s = compileLValue(src, ctx);
  const dIndex = layout.header((dst as { value: [string, string] }).value[0], ctx.where).index;
  const sIndex = layout.header((src as { value: [string, string] }).value[0], ctx.where).index;
  return (g) =>
    `${storeAt(d, `${g.ref(readSlot)}(p.phv, ${s.slot(g)}, ${s.width})`, g)}` +
    `p.phv.varbitBits[${dIndex}] = p.phv.varbitBits[${sIndex}];\n`;
};

const assignHeader: PrimitiveCompiler = (call, ctx, res) => {
  const { layout } = res;
  const [dst, src] = params(call, 2, ctx);
  const d = asHeader(compileExpr(dst, ctx), ctx);
  const s = asHeader(compileExpr(src, ctx), ctx);
  const to = d.index !== undefined ? layout.headers[d.index] : undefined;
  const from = s.index !== undefined ? layout.headers[s.index] : undefined;
  if (!to || !from || to.union >= 0 || to.varbitSlot >= 0 || from.varbitSlot >= 0) {
    return (g) => `${g.ref(copyHeader)}(p, ${g.ref(res)}, ${d.code(g)}, ${s.code(g)});\n`;
  }
  const copy = to.fields
    .map(
      (f, i) =>
        `${slotSource(f.slot, f.width)} = ${slotSource(from.fields[i]?.slot ?? -1, f.width)}; `,
    )
    .join("");
  return () =>
    `if (V[${from.index}] !== 1) V[${to.index}] = 0; else { ${copy}V[${to.index}] = 1; }\n`;
};

const setValidPrimitive: PrimitiveCompiler = (call, ctx, res) => {
  const { layout } = res;
  const [h] = params(call, 1, ctx);
  const header = asHeader(compileExpr(h, ctx), ctx);
  const info = header.index !== undefined ? layout.headers[header.index] : undefined;
  // Varbit headers (their length varies) and union members (siblings) take the helper.
  if (!info || info.varbitSlot >= 0 || info.union >= 0) {
    return (g) => `${g.ref(addHeader)}(p, ${g.ref(res)}, ${header.code(g)});\n`;
  }
  const zero = info.fields
    .map(
      (f) =>
        `${slotSource(f.slot, f.width)} = ${literal(layout.zeroValues[f.slot] as FieldValue)}; `,
    )
    .join("");
  const i = info.index;
  return () =>
    `if (V[${i}] !== 1) { ${zero}V[${i}] = 1; p.packetLength += ${info.fixedBits >>> 3}; }\n`;
};

const addHeaderFast: PrimitiveCompiler = (call, ctx, res) => {
  const [h] = params(call, 1, ctx);
  const header = asHeader(compileExpr(h, ctx), ctx);
  return (g) => `${g.ref(markValid)}(p, ${g.ref(res)}, ${header.code(g)});\n`;
};

const setInvalidPrimitive: PrimitiveCompiler = (call, ctx, res) => {
  const { layout } = res;
  const [h] = params(call, 1, ctx);
  const header = asHeader(compileExpr(h, ctx), ctx);
  const info = header.index !== undefined ? layout.headers[header.index] : undefined;
  if (!info || info.varbitSlot >= 0) {
    return (g) => `${g.ref(removeHeader)}(p, ${g.ref(res)}, ${header.code(g)});\n`;
  }
  const i = info.index;
  return () => `if (V[${i}] === 1) { p.packetLength -= ${info.fixedBits >>> 3}; V[${i}] = 0; }\n`;
};

const assignUnion: PrimitiveCompiler = (call, ctx, res) => {
  const [dst, src] = params(call, 2, ctx);
  const d = asUnion(compileExpr(dst, ctx), ctx);
  const s = asUnion(compileExpr(src, ctx), ctx);
  return (g) => `${g.ref(copyUnion)}(p, ${g.ref(res)}, ${d.code(g)}, ${s.code(g)});\n`;
};

const assignHeaderStack: PrimitiveCompiler = (call, ctx, res) => {
  // bmv2 core assign_header_stack / assign_union_stack: `next`, then element by element.
  const [dst, src] = params(call, 2, ctx);
  const d = stackArg(dst, ctx);
  const s = stackArg(src, ctx);
  if (d.unions !== s.unions || d.elements.length !== s.elements.length) {
    throw new ProgramError(ctx.where, "stacks of different kinds or depths", {
      source: ctx.source,
    });
  }
  return (g) => `${g.ref(assignStack)}(p, ${g.ref(res)}, ${g.ref(d)}, ${g.ref(s)});\n`;
};

const pushPrimitive: PrimitiveCompiler = (call, ctx, res) => {
  const [s, n] = params(call, 2, ctx);
  const stack = stackArg(s, ctx);
  const count = compileData(n, ctx);
  const push = call.op === "push";
  return (g) =>
    `${g.ref(shiftStack)}(p, ${g.ref(res)}, ${g.ref(stack)}, Number(${bigSource(count, g)}), ${push});\n`;
};

const exitPrimitive: PrimitiveCompiler = (_call, _ctx, _res) => {
  return () => "p.exited = true;\n";
};

const noOp: PrimitiveCompiler = (_call, _ctx, _res) => {
  return () => "";
};

const addToField: PrimitiveCompiler = (call, ctx, _res) => {
  const [dst, src] = params(call, 2, ctx);
  const d = compileLValue(dst, ctx);
  const cur = compileData(dst, ctx);
  const v = compileData(src, ctx);
  const op = call.op === "add_to_field" ? "+" : "-";
  return (g) => storeAt(d, `(${bigSource(cur, g)} ${op} ${bigSource(v, g)})`, g);
};

const addPrimitive: PrimitiveCompiler = (call, ctx, _res) => {
  const [dst, a, b] = params(call, 3, ctx);
  const d = compileLValue(dst, ctx);
  const x = compileData(a, ctx);
  const y = compileData(b, ctx);
  const op = binaryOperators[call.op];
  return (g) => storeAt(d, `(${bigSource(x, g)} ${op} ${bigSource(y, g)})`, g);
};

const modifyFieldWithHashBasedOffset: PrimitiveCompiler = (call, ctx, res) => {
  const [dst, base, calc, size] = params(call, 4, ctx);
  const d = compileLValue(dst, ctx);
  const b = compileData(base, ctx);
  const name = String((calc as { value: unknown }).value);
  const calculation = res.calculations.get(name);
  if (!calculation) throw new ProgramError(ctx.where, `unknown calculation "${name}"`);
  const sz = compileData(size, ctx);
  // The usual form, constant base and size with a hash of at most 32 bits, in numbers.
  const output = calculation.outputNumber;
  const max = sz.constant === undefined ? 0n : BigInt.asUintN(64, sz.constant) || 1n; // bmv2 treats a maximum of 0 as 1
  const offset = b.constant === undefined ? 0n : BigInt.asUintN(64, b.constant);
  if (
    d.fixedSlot !== undefined &&
    b.constant !== undefined &&
    sz.constant !== undefined &&
    output &&
    max < 1n << 53n &&
    offset < 1n << 52n
  ) {
    return (g) =>
      `${slotSource(d.fixedSlot as number, d.width)} = ${g.ref(truncate)}(${g.ref(output)}(p) % ${max} + ${offset}, ${d.width});\n`;
  }
  return (g) =>
    storeAt(
      d,
      `${g.ref(hashOffset)}(${g.ref(calculation)}, p, ${bigSource(b, g)}, ${bigSource(sz, g)})`,
      g,
    );
};

const modifyFieldRngUniform: PrimitiveCompiler = (call, ctx, res) => {
  const [dst, lo, hi] = params(call, 3, ctx);
  const d = compileLValue(dst, ctx);
  const a = compileData(lo, ctx);
  const b = compileData(hi, ctx);
  // bmv2 leaves the field alone when lo > hi ("not specified").
  return (g) => {
    const x = g.local("lo");
    const y = g.local("hi");
    return `{ const ${x} = ${bigSource(a, g)}, ${y} = ${bigSource(b, g)};\nif (${x} <= ${y}) ${storeAt(d, `${g.ref(res)}.random(${x}, ${y})`, g)}}\n`;
  };
};

const countPrimitive: PrimitiveCompiler = (call, ctx, res) => {
  const [array, index] = params(call, 2, ctx);
  const counter = namedArray(res.counters, array, "counter", ctx);
  const i = compileData(index, ctx);
  return (g) =>
    `${g.ref(counter)}.count(${i.num ? numSource(i, g) : `Number(${bigSource(i, g)})`}, p.ingressLength);\n`;
};

const executeMeter: PrimitiveCompiler = (call, ctx, res) => {
  const [array, index, dst] = params(call, 3, ctx);
  const meter = namedArray(res.meters, array, "meter", ctx);
  const i = compileData(index, ctx);
  const d = compileLValue(dst, ctx);
  return (g) => readCell(d, meter, i, (m, idx) => `${m}.execute(${idx}, p.ingressLength)`, g);
};

const registerRead: PrimitiveCompiler = (call, ctx, res) => {
  const [dst, array, index] = params(call, 3, ctx);
  const reg = namedArray(res.registers, array, "register", ctx);
  const d = compileLValue(dst, ctx);
  const i = compileData(index, ctx);
  return (g) => readCell(d, reg, i, (r, idx) => `${r}.read(${idx})`, g);
};

const registerWrite: PrimitiveCompiler = (call, ctx, res) => {
  const [array, index, src] = params(call, 3, ctx);
  const reg = namedArray(res.registers, array, "register", ctx);
  const i = compileData(index, ctx);
  const v = compileData(src, ctx);
  return (g) => `${g.ref(reg)}.write(Number(${bigSource(i, g)}), ${bigSource(v, g)});\n`;
};

const truncatePrimitive: PrimitiveCompiler = (call, ctx, _res) => {
  const [len] = params(call, 1, ctx);
  const n = compileData(len, ctx);
  return (g) =>
    `p.truncateLength = Math.min(p.truncateLength, ${g.ref(toIndex)}(${bigSource(n, g)}));\n`;
};

const logMsg: PrimitiveCompiler = (call, ctx, res) => {
  // p4c writes an empty parameters_vector as {} rather than [].
  const [format, args] = params(call, 2, ctx);
  const text = String((format as { value: unknown }).value);
  const list = (args as { value?: unknown }).value;
  const values = (Array.isArray(list) ? list : []).map((a) => asData(compileExpr(a, ctx), ctx));
  return (g) =>
    `${g.ref(logMessage)}(${g.ref(res)}, ${g.ref(text)}, [${values.map((v) => bigSource(v, g)).join(", ")}]);\n`;
};

const assertPrimitive: PrimitiveCompiler = (call, ctx, res) => {
  // p4c passes the condition as data (b2d of it); bmv2 fails when it equals 0.
  const [cond] = params(call, 1, ctx);
  const c = compileExpr(cond, ctx);
  const failure = { op: call.op, at: ctx.source ?? ctx.where };
  const holds = (g: CodeGen) =>
    c.kind === "bool" ? c.code(g) : `${bigSource(asData(c, ctx), g)} !== 0n`;
  // bmv2 logs and aborts the whole switch; we log and drop only this packet (a fault).
  return (g) =>
    `if (!(${holds(g)})) ${g.ref(assertionFailed)}(${g.ref(res)}, ${g.ref(failure)});\n`;
};

/** bmv2's core primitives and simple_switch's, by name; the target adds its own (res.primitives). */
export const corePrimitives: ReadonlyMap<string, PrimitiveCompiler> = new Map([
  ["_jump", jump],
  ["_jump_if_zero", jumpIfZero],
  ["assign", assign],
  ["modify_field", assign],
  ["assign_VL", assignVL],
  ["assign_header", assignHeader],
  ["copy_header", assignHeader],
  ["add_header", setValidPrimitive],
  ["setValid", setValidPrimitive],
  ["add_header_fast", addHeaderFast],
  ["remove_header", setInvalidPrimitive],
  ["setInvalid", setInvalidPrimitive],
  ["assign_union", assignUnion],
  ["assign_header_stack", assignHeaderStack],
  ["assign_union_stack", assignHeaderStack],
  ["push", pushPrimitive],
  ["pop", pushPrimitive],
  ["exit", exitPrimitive],
  ["no_op", noOp],
  ["add_to_field", addToField],
  ["subtract_from_field", addToField],
  ["add", addPrimitive],
  ["subtract", addPrimitive],
  ["bit_and", addPrimitive],
  ["bit_or", addPrimitive],
  ["bit_xor", addPrimitive],
  ["shift_left", addPrimitive],
  ["shift_right", addPrimitive],
  ["modify_field_with_hash_based_offset", modifyFieldWithHashBasedOffset],
  ["modify_field_rng_uniform", modifyFieldRngUniform],
  ["count", countPrimitive],
  ["execute_meter", executeMeter],
  ["register_read", registerRead],
  ["register_write", registerWrite],
  ["truncate", truncatePrimitive],
  ["log_msg", logMsg],
  ["assert", assertPrimitive],
  ["assume", assertPrimitive],
]);

function primitiveCode(call: PrimitiveCall, ctx: ExprContext, res: Resources): PrimitiveCode {
  const compile = res.primitives.get(call.op) ?? corePrimitives.get(call.op);
  if (!compile) {
    throw new UnsupportedConstructError(ctx.where, "primitive is not supported", {
      source: ctx.source,
    });
  }
  return compile(call, ctx, res);
}

/** Source storing `src` into a slot of `width` bits, truncated as `truncate` does. */
export function storeCode(slot: number, width: number, src: DataExpr): Code {
  if (width <= MAX_NUMBER_BITS) {
    if (!src.num) {
      return (g) => `v[${slot}] = Number(BigInt.asUintN(${width}, ${bigSource(src, g)}));\n`;
    }
    if (src.nonneg && src.bits <= width) return (g) => `v[${slot}] = ${numSource(src, g)};\n`;
    // Integers below 2^53 in magnitude convert to int32 exactly modulo 2^32 (ToInt32).
    if (width <= 31) {
      return (g) => `v[${slot}] = ${numSource(src, g)} & ${2 ** width - 1};\n`;
    }
    if (width === 32) return (g) => `v[${slot}] = ${numSource(src, g)} >>> 0;\n`;
    return (g) => `v[${slot}] = ${g.ref(truncate)}(${numSource(src, g)}, ${width});\n`;
  }
  if (src.nonneg && src.bits <= width) return (g) => `w[${slot}] = ${bigSource(src, g)};\n`;
  return (g) => `w[${slot}] = BigInt.asUintN(${width}, ${bigSource(src, g)});\n`;
}

/** Source storing the value source `value` (number or bigint) into `d`, truncated to its width. */
function storeAt(d: LValue, value: string, g: CodeGen): string {
  return `${g.ref(writeTruncated)}(p, ${d.slot(g)}, ${d.width}, ${value});\n`;
}

/**
 * Source storing `read(array, index)` into `d` when the index is within the array (meters and
 * registers leave the destination alone past their end, as bmv2 does).
 */
function readCell(
  d: LValue,
  array: { size: number },
  index: DataExpr,
  read: (array: string, index: string) => string,
  g: CodeGen,
): string {
  const i = g.local("i");
  const a = g.ref(array);
  return `{ const ${i} = Number(${bigSource(index, g)});\nif (${i} < ${a}.size) ${storeAt(d, read(a, i), g)}}\n`;
}

function writeTruncated(p: PacketState, slot: number, width: number, value: FieldValue): void {
  writeSlot(p.phv, slot, width, truncate(value, width));
}

/** The counter, meter or register array a primitive names. */
function namedArray<T>(
  arrays: ReadonlyMap<string, T>,
  node: unknown,
  what: string,
  ctx: ExprContext,
): T {
  const array = arrays.get(String((node as { value: unknown }).value));
  if (!array) throw new ProgramError(ctx.where, `unknown ${what} array`);
  return array;
}

function constantOf(e: DataExpr, ctx: ExprContext): number {
  if (e.constant === undefined) throw new ProgramError(ctx.where, "needs a constant");
  return Number(e.constant);
}

export function params(call: PrimitiveCall, count: number, ctx: ExprContext): unknown[] {
  if (call.parameters.length !== count) {
    throw new ProgramError(ctx.where, `expects ${count} parameters, got ${call.parameters.length}`);
  }
  return call.parameters;
}

/** An lvalue: a field, or an `access_field` expression over a runtime stack element. */
function compileLValue(node: unknown, ctx: ExprContext): LValue {
  const { type, value } = node as { type?: string; value?: unknown };
  if (type === "field") {
    const [h, f] = value as [string, string];
    const field = ctx.layout.field(h, f, ctx.where);
    return { width: field.width, slot: () => String(field.slot), fixedSlot: field.slot };
  }
  if (type === "expression") {
    const inner = (value as { type?: string; value?: unknown }) ?? {};
    const op =
      inner.type === "expression"
        ? (inner.value as { op?: string; left?: unknown; right?: unknown })
        : undefined;
    if (op?.op === "access_field" && typeof op.right === "number") {
      const { width, slot, fixedSlot } = accessedField(
        asHeader(compileExpr(op.left, ctx), ctx),
        op.right,
        ctx,
      );
      return fixedSlot === undefined ? { width, slot } : { width, slot, fixedSlot };
    }
    return compileLValue(inner, ctx);
  }
  throw new UnsupportedConstructError(ctx.where, `cannot assign to a "${String(type)}" operand`, {
    source: ctx.source,
  });
}

/** A header stack (elements are headers) or a header union stack (elements are unions). */
interface StackRef {
  unions: boolean;
  index: number;
  elements: readonly number[];
}

function stackArg(node: unknown, ctx: ExprContext): StackRef {
  const e = compileExpr(node, ctx);
  if (e.kind === "stack") {
    return { unions: false, index: e.stack, elements: ctx.layout.stacks[e.stack]?.headers ?? [] };
  }
  if (e.kind === "union_stack") {
    const elements = ctx.layout.unionStacks[e.stack]?.unions ?? [];
    return { unions: true, index: e.stack, elements };
  }
  throw new ProgramError(ctx.where, `expected a header stack or union stack, got ${e.kind}`, {
    source: ctx.source,
  });
}

const binaryOperators: Record<string, string> = {
  add: "+",
  subtract: "-",
  bit_and: "&",
  bit_or: "|",
  bit_xor: "^",
  shift_left: "<<",
  shift_right: ">>",
};

/** bmv2 add_header / setValid: fields zeroed, varbit length 0, valid, the packet grows. */
function addHeader(p: PacketState, res: Resources, index: number): void {
  if (p.phv.valid[index] === 1) return;
  const info = res.layout.headers[index];
  if (!info) return;
  for (const f of info.fields) writeSlot(p.phv, f.slot, f.width, 0);
  p.phv.varbitBits[index] = 0;
  markValid(p, res, index);
  p.packetLength += res.codecs[index]?.byteLength(p.phv) ?? 0;
}

/** bmv2 remove_header / setInvalid: the packet shrinks by the header's current length. */
function removeHeader(p: PacketState, res: Resources, index: number): void {
  if (p.phv.valid[index] !== 1) return;
  p.packetLength -= res.codecs[index]?.byteLength(p.phv) ?? 0;
  p.phv.valid[index] = 0;
}

function assignStack(p: PacketState, res: Resources, d: StackRef, s: StackRef): void {
  const next = d.unions ? p.phv.unionStackNext : p.phv.stackNext;
  next[d.index] = next[s.index] as number;
  const copy = d.unions ? copyUnion : copyHeader;
  d.elements.forEach((e, i) => {
    copy(p, res, e, s.elements[i] as number);
  });
}

/** bmv2's hash-based offset: hash % max + base, a maximum of 0 read as 1. */
function hashOffset(calculation: Calculation, p: PacketState, base: bigint, size: bigint): bigint {
  let max = BigInt.asUintN(64, size);
  if (max === 0n) max = 1n; // bmv2: "hash max given as 0, but treating it as 1"
  return (calculation.output(p) % max) + BigInt.asUintN(64, base);
}

function logMessage(res: Resources, text: string, values: readonly bigint[]): void {
  let k = 0;
  res.log(text.replace(/\{\}/g, () => String(values[k++] ?? "")));
}

function assertionFailed(res: Resources, failure: { op: string; at: string }): never {
  res.log(`${failure.op} at ${failure.at} failed`);
  throw new AssertionFailure(failure.op, failure.at);
}

/** Raised by a failed assert/assume; the switch drops the packet and reports the fault. */
export class AssertionFailure extends Error {
  constructor(
    readonly primitive: string,
    readonly where: string,
  ) {
    super(`${primitive} failed at ${where}`);
    this.name = "AssertionFailure";
  }
}

/** Marks a header valid; a header union member invalidates its siblings (P4_16 unions). */
function markValid(p: PacketState, res: Resources, index: number): void {
  p.phv.valid[index] = 1;
  const union = res.layout.headers[index]?.union ?? -1;
  if (union < 0) return;
  for (const m of res.layout.unions[union]?.members ?? []) {
    if (m.header !== index) p.phv.valid[m.header] = 0;
  }
}

function copyHeader(p: PacketState, res: Resources, dst: number, src: number): void {
  const d = res.layout.headers[dst];
  const s = res.layout.headers[src];
  if (!d || !s) return;
  if (p.phv.valid[src] !== 1) {
    p.phv.valid[dst] = 0;
    return;
  }
  d.fields.forEach((f, i) => {
    writeSlot(p.phv, f.slot, f.width, readSlot(p.phv, s.fields[i]?.slot ?? -1, f.width));
  });
  p.phv.varbitBits[dst] = p.phv.varbitBits[src] as number;
  markValid(p, res, dst);
}

/** bmv2 assign_union: member by member. */
function copyUnion(p: PacketState, res: Resources, dst: number, src: number): void {
  const d = res.layout.unions[dst];
  const s = res.layout.unions[src];
  d?.members.forEach((m, i) => {
    copyHeader(p, res, m.header, s?.members[i]?.header ?? -1);
  });
}

function swapUnions(p: PacketState, res: Resources, a: number, b: number): void {
  const ua = res.layout.unions[a];
  const ub = res.layout.unions[b];
  ua?.members.forEach((m, i) => {
    swapHeaders(p, res, m.header, ub?.members[i]?.header ?? -1);
  });
}

function swapHeaders(p: PacketState, res: Resources, a: number, b: number): void {
  const ha = res.layout.headers[a];
  const hb = res.layout.headers[b];
  if (!ha || !hb) return;
  ha.fields.forEach((f, i) => {
    const other = hb.fields[i]?.slot ?? -1;
    const t = readSlot(p.phv, f.slot, f.width);
    writeSlot(p.phv, f.slot, f.width, readSlot(p.phv, other, f.width));
    writeSlot(p.phv, other, f.width, t);
  });
  const v = p.phv.valid[a] as number;
  p.phv.valid[a] = p.phv.valid[b] as number;
  p.phv.valid[b] = v;
  const vb = p.phv.varbitBits[a] as number;
  p.phv.varbitBits[a] = p.phv.varbitBits[b] as number;
  p.phv.varbitBits[b] = vb;
}

/**
 * P4_16 push_front / pop_front (bm_sim stacks.cpp StackP4_16). The freed elements are marked
 * invalid; for a union stack bmv2's HeaderUnion::mark_invalid does nothing, so they keep what was
 * swapped into them, and we do the same to produce the same packets.
 */
function shiftStack(
  p: PacketState,
  res: Resources,
  stack: StackRef,
  num: number,
  push: boolean,
): void {
  if (num <= 0) return;
  const elements = stack.elements;
  const size = elements.length;
  const counters = stack.unions ? p.phv.unionStackNext : p.phv.stackNext;
  const next = counters[stack.index] as number;
  const swap = stack.unions ? swapUnions : swapHeaders;
  const invalidate = (i: number) => {
    if (!stack.unions) p.phv.valid[elements[i] as number] = 0;
  };
  if (push) {
    counters[stack.index] = Math.min(size, next + num);
    for (let i = size - 1; i > num - 1; i--) {
      swap(p, res, elements[i] as number, elements[i - num] as number);
    }
    for (let i = 0; i < Math.min(size, num); i++) invalidate(i);
  } else {
    counters[stack.index] = next - Math.min(next, num);
    let i = 0;
    if (num < size) {
      for (; i < size - num; i++) swap(p, res, elements[i] as number, elements[i + num] as number);
    }
    for (; i < size; i++) invalidate(i);
  }
}
