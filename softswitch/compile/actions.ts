/**
 * Compiles actions: each primitive call becomes a closure over the packet and the action data.
 * Semantics follow bmv2's core primitives (bm_sim core/primitives.cpp, actions.cpp) and
 * simple_switch's (targets/simple_switch/primitives.cpp).
 */

import type { PhvLayout } from "../core/layout.js";
import { type PacketState, readSlot, writeSlot } from "../core/packet.js";
import { type FieldValue, MAX_NUMBER_BITS, toIndex, truncate } from "../core/values.js";
import { ProgramError, sourceOf, UnsupportedConstructError } from "../program/errors.js";
import type { ActionSpec, PrimitiveCall } from "../program/schema.js";
import { type Code, CodeGen, literal, PHV_PRELUDE, slotSource } from "./codegen.js";
import {
  asData,
  asHeader,
  bigSource,
  compileData,
  compileExpr,
  type DataExpr,
  type ExprContext,
  type Locals,
  numSource,
} from "./expressions.js";
import type { Resources } from "./resources.js";

export type ActionFn = (p: PacketState, data: Locals) => void;
type Step = (p: PacketState, l: Locals) => void;
/** A step that may redirect control: returns the next primitive index, or -1 to fall through. */
type JumpStep = (p: PacketState, l: Locals) => number;

export interface CompiledAction {
  id: number;
  name: string;
  paramWidths: number[];
  run: ActionFn;
  /** The body as source over `p`, `l`, `v`, `V` (codegen.ts), to inline; absent with jumps. */
  code?: Code;
  /** The body may set `exited` (an `exit` primitive). */
  exits: boolean;
}

/** An assignable location: a fixed slot, or one computed per packet (stack element fields). */
interface LValue {
  width: number;
  header: number;
  slot: (p: PacketState, l: Locals) => number;
  /** The slot, when it is the same for every packet. */
  fixedSlot?: number;
}

export function compileAction(spec: ActionSpec, res: Resources): CompiledAction {
  const paramWidths = spec.runtime_data.map((r) => r.bitwidth);
  const body = compileBody(spec.primitives, res, paramWidths, `action "${spec.name}"`);
  return { id: spec.id, name: spec.name, paramWidths, ...body };
}

/** Compiles a primitive list (an action body, a parser method call, deparser primitives). */
export function compilePrimitives(
  calls: readonly PrimitiveCall[],
  res: Resources,
  paramWidths: readonly number[],
  owner: string,
): ActionFn {
  return compileBody(calls, res, paramWidths, owner).run;
}

/**
 * Compiles a primitive list into one generated function, and keeps its source for callers that
 * inline it. Lists with jumps (`_jump`, `_jump_if_zero`) run as a loop over closures instead.
 */
export function compileBody(
  calls: readonly PrimitiveCall[],
  res: Resources,
  paramWidths: readonly number[],
  owner: string,
): { run: ActionFn; code?: Code; exits: boolean } {
  const exits = calls.some((c) => c.op === "exit");
  const hasJumps = calls.some((c) => c.op === "_jump" || c.op === "_jump_if_zero");
  const steps: JumpStep[] = [];
  const plain: Step[] = [];
  const codes: Code[] = [];
  for (const call of calls) {
    const ctx: ExprContext = {
      layout: res.layout,
      where: `primitive "${call.op}" in ${owner}`,
      source: sourceOf(call),
      localWidths: paramWidths,
      registerReader: (name) => {
        const reg = res.registers.get(name);
        if (!reg) throw new ProgramError(ctx.where, `unknown register array "${name}"`);
        return { width: reg.width, read: (i) => reg.read(i) };
      },
    };
    if (call.op === "_jump" || call.op === "_jump_if_zero") {
      steps.push(compileJump(call, ctx));
    } else {
      const step = compilePrimitive(call, ctx, res);
      plain.push(step);
      codes.push(primitiveCode(call, ctx, res) ?? ((g) => `${g.ref(step)}(p, l);\n`));
      steps.push((p, l) => {
        step(p, l);
        return -1;
      });
    }
  }
  if (!hasJumps) {
    const code: Code = (g) => codes.map((c) => c(g)).join("");
    const g = new CodeGen(owner);
    const body = code(g);
    return { run: g.build<ActionFn>("p, l", PHV_PRELUDE + body), code, exits };
  }
  const run: ActionFn = (p, l) => {
    let pc = 0;
    while (pc < steps.length) {
      const next = (steps[pc] as JumpStep)(p, l);
      pc = next < 0 ? pc + 1 : next;
    }
  };
  return { run, exits };
}

/**
 * Source for the primitives most actions are made of (assignments to fixed fields, validity,
 * drop, exit); undefined for the others, which run as their closures.
 */
function primitiveCode(call: PrimitiveCall, ctx: ExprContext, res: Resources): Code | undefined {
  const { layout } = res;
  switch (call.op) {
    case "assign":
    case "modify_field": {
      const [dst, src] = params(call, 2, ctx);
      const d = compileLValue(dst, ctx);
      if (d.fixedSlot === undefined) return undefined;
      return storeCode(d.fixedSlot, d.width, compileData(src, ctx));
    }
    case "add_header":
    case "setValid":
    case "remove_header":
    case "setInvalid": {
      const [h] = params(call, 1, ctx);
      const header = asHeader(compileExpr(h, ctx), ctx);
      const info = header.code ? layout.headers[header.typeOf] : undefined;
      // Varbit headers and union members keep the closures (sizes and siblings vary).
      if (!info || info.varbitSlot >= 0 || info.union >= 0) return undefined;
      const bytes = info.fixedBits >>> 3;
      const i = info.index;
      if (call.op === "remove_header" || call.op === "setInvalid") {
        return () => `if (V[${i}] === 1) { p.packetLength -= ${bytes}; V[${i}] = 0; }\n`;
      }
      const zero = info.fields
        .map(
          (f) =>
            `${slotSource(f.slot, f.width)} = ${literal(layout.zeroValues[f.slot] as FieldValue)}; `,
        )
        .join("");
      return () => `if (V[${i}] !== 1) { ${zero}V[${i}] = 1; p.packetLength += ${bytes}; }\n`;
    }
    case "assign_header":
    case "copy_header": {
      const [dst, src] = params(call, 2, ctx);
      const d = asHeader(compileExpr(dst, ctx), ctx);
      const s = asHeader(compileExpr(src, ctx), ctx);
      const to = d.code ? layout.headers[d.typeOf] : undefined;
      const from = s.code ? layout.headers[s.typeOf] : undefined;
      if (!to || !from || to.union >= 0 || to.varbitSlot >= 0 || from.varbitSlot >= 0) {
        return undefined;
      }
      const copy = to.fields
        .map(
          (f, i) =>
            `${slotSource(f.slot, f.width)} = ${slotSource(from.fields[i]?.slot ?? -1, f.width)}; `,
        )
        .join("");
      return () =>
        `if (V[${from.index}] !== 1) V[${to.index}] = 0; else { ${copy}V[${to.index}] = 1; }\n`;
    }
    case "count": {
      const [array, index] = params(call, 2, ctx);
      const counter = res.counters.get(String((array as { value: unknown }).value));
      const i = compileData(index, ctx);
      if (!counter || !i.num) return undefined;
      return (g) => `${g.ref(counter)}.count(${numSource(i, g)}, p.ingressLength);\n`;
    }
    case "modify_field_with_hash_based_offset": {
      // The usual form, constant base and size with a hash of at most 32 bits, in numbers.
      const [dst, base, calc, size] = params(call, 4, ctx);
      const d = compileLValue(dst, ctx);
      const b = compileData(base, ctx).constant;
      const sz = compileData(size, ctx).constant;
      const output = res.calculations.get(String((calc as { value: unknown }).value))?.outputNumber;
      if (d.fixedSlot === undefined || b === undefined || sz === undefined || !output) {
        return undefined;
      }
      const max = BigInt.asUintN(64, sz) || 1n; // bmv2 treats a maximum of 0 as 1
      const offset = BigInt.asUintN(64, b);
      if (max >= 1n << 53n || offset >= 1n << 52n) return undefined;
      return (g) =>
        `${slotSource(d.fixedSlot as number, d.width)} = ${g.ref(truncate)}(${g.ref(output)}(p) % ${max} + ${offset}, ${d.width});\n`;
    }
    case "mark_to_drop":
    case "drop": {
      const { spec, mcast } = dropSlots(layout, ctx.where);
      const clear = mcast !== undefined ? ` v[${mcast}] = 0;` : "";
      return () => `v[${spec}] = ${res.dropPort};${clear}\n`;
    }
    case "exit":
      return () => "p.exited = true;\n";
    case "no_op":
      return () => "";
    default:
      return undefined;
  }
}

/** Source storing `src` into a slot of `width` bits, truncated as `truncate` does. */
/**
 * What mark_to_drop writes: egress_spec gets the drop port, and the multicast group (under
 * either name v1model programs give it) is cleared, as bmv2 does.
 */
function dropSlots(layout: PhvLayout, where: string): { spec: number; mcast: number | undefined } {
  const mcast =
    layout.optionalField("standard_metadata", "mcast_grp") ??
    layout.optionalField("intrinsic_metadata", "mcast_grp");
  return { spec: layout.field("standard_metadata", "egress_spec", where).slot, mcast: mcast?.slot };
}

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

function compileJump(call: PrimitiveCall, ctx: ExprContext): JumpStep {
  if (call.op === "_jump") {
    const target = constantOf(compileData(call.parameters[0], ctx), ctx);
    return () => target;
  }
  const cond = compileData(call.parameters[0], ctx).big;
  const target = constantOf(compileData(call.parameters[1], ctx), ctx);
  return (p, l) => (cond(p, l) === 0n ? target : -1);
}

function constantOf(e: DataExpr, ctx: ExprContext): number {
  if (e.constant === undefined) throw new ProgramError(ctx.where, "needs a constant");
  return Number(e.constant);
}

function params(call: PrimitiveCall, count: number, ctx: ExprContext): unknown[] {
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
    const slot = field.slot;
    return { width: field.width, header: field.header, slot: () => slot, fixedSlot: slot };
  }
  if (type === "expression") {
    const inner = (value as { type?: string; value?: unknown }) ?? {};
    const op =
      inner.type === "expression"
        ? (inner.value as { op?: string; left?: unknown; right?: unknown })
        : undefined;
    if (op?.op === "access_field" && typeof op.right === "number") {
      const h = asHeader(compileExpr(op.left, ctx), ctx);
      const offset = op.right;
      const field = ctx.layout.headers[h.typeOf]?.fields[offset];
      if (!field) throw new ProgramError(ctx.where, `access_field offset ${offset} out of range`);
      const headers = ctx.layout.headers;
      const hf = h.fn;
      return {
        width: field.width,
        header: -1,
        slot: (p, l) => headers[hf(p, l)]?.fields[offset]?.slot ?? field.slot,
      };
    }
    return compileLValue(inner, ctx);
  }
  throw new UnsupportedConstructError(ctx.where, `cannot assign to a "${String(type)}" operand`, {
    source: ctx.source,
  });
}

/** Stores an expression into a field, truncated to the field's width. */
function storer(dst: LValue, src: DataExpr): Step {
  const w = dst.width;
  const slot = dst.slot;
  if (w <= MAX_NUMBER_BITS && src.num) {
    const num = src.num;
    if (src.nonneg && src.bits <= w)
      return (p, l) => {
        p.phv.values[slot(p, l)] = num(p, l);
      };
    return (p, l) => {
      p.phv.values[slot(p, l)] = truncate(num(p, l), w) as number;
    };
  }
  const big = src.big;
  return (p, l) => {
    writeSlot(p.phv, slot(p, l), w, truncate(big(p, l), w));
  };
}

function headerArg(node: unknown, ctx: ExprContext) {
  return asHeader(compileExpr(node, ctx), ctx).fn;
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

function unionArg(node: unknown, ctx: ExprContext) {
  const e = compileExpr(node, ctx);
  if (e.kind !== "union") {
    throw new ProgramError(ctx.where, `expected a header union, got ${e.kind}`, {
      source: ctx.source,
    });
  }
  return e.fn;
}

function compilePrimitive(call: PrimitiveCall, ctx: ExprContext, res: Resources): Step {
  const { layout } = res;
  switch (call.op) {
    case "assign":
    case "modify_field": {
      const [dst, src] = params(call, 2, ctx);
      return storer(compileLValue(dst, ctx), compileData(src, ctx));
    }
    case "assign_VL": {
      const [dst, src] = params(call, 2, ctx);
      const d = compileLValue(dst, ctx);
      const s = compileLValue(src, ctx);
      const dh = (dst as { value: [string, string] }).value[0];
      const sh = (src as { value: [string, string] }).value[0];
      const dIndex = layout.header(dh, ctx.where).index;
      const sIndex = layout.header(sh, ctx.where).index;
      return (p, l) => {
        const value = readSlot(p.phv, s.slot(p, l), s.width);
        writeSlot(p.phv, d.slot(p, l), d.width, truncate(value, d.width));
        p.phv.varbitBits[dIndex] = p.phv.varbitBits[sIndex] as number;
      };
    }
    case "assign_header":
    case "copy_header": {
      const [dst, src] = params(call, 2, ctx);
      const d = headerArg(dst, ctx);
      const s = headerArg(src, ctx);
      return (p, l) => copyHeader(p, res, d(p, l), s(p, l));
    }
    case "add_header":
    case "setValid": {
      const [h] = params(call, 1, ctx);
      const header = headerArg(h, ctx);
      return (p, l) => {
        const index = header(p, l);
        if (p.phv.valid[index] === 1) return;
        const info = layout.headers[index];
        if (!info) return;
        for (const f of info.fields) writeSlot(p.phv, f.slot, f.width, 0);
        p.phv.varbitBits[index] = 0;
        markValid(p, res, index);
        p.packetLength += res.codecs[index]?.byteLength(p.phv) ?? 0;
      };
    }
    case "add_header_fast": {
      const [h] = params(call, 1, ctx);
      const header = headerArg(h, ctx);
      return (p, l) => markValid(p, res, header(p, l));
    }
    case "remove_header":
    case "setInvalid": {
      const [h] = params(call, 1, ctx);
      const header = headerArg(h, ctx);
      return (p, l) => {
        const index = header(p, l);
        if (p.phv.valid[index] !== 1) return;
        p.packetLength -= res.codecs[index]?.byteLength(p.phv) ?? 0;
        p.phv.valid[index] = 0;
      };
    }
    case "assign_union": {
      const [dst, src] = params(call, 2, ctx);
      const d = unionArg(dst, ctx);
      const s = unionArg(src, ctx);
      return (p, l) => copyUnion(p, res, d(p, l), s(p, l));
    }
    case "assign_header_stack":
    case "assign_union_stack": {
      // bmv2 core assign_header_stack / assign_union_stack: `next`, then element by element.
      const [dst, src] = params(call, 2, ctx);
      const d = stackArg(dst, ctx);
      const s = stackArg(src, ctx);
      if (d.unions !== s.unions || d.elements.length !== s.elements.length) {
        throw new ProgramError(ctx.where, "stacks of different kinds or depths", {
          source: ctx.source,
        });
      }
      const copy = d.unions ? copyUnion : copyHeader;
      return (p) => {
        const next = d.unions ? p.phv.unionStackNext : p.phv.stackNext;
        next[d.index] = next[s.index] as number;
        d.elements.forEach((e, i) => {
          copy(p, res, e, s.elements[i] as number);
        });
      };
    }
    case "push":
    case "pop": {
      const [s, n] = params(call, 2, ctx);
      const stack = stackArg(s, ctx);
      const count = compileData(n, ctx).big;
      const push = call.op === "push";
      return (p, l) => shiftStack(p, res, stack, Number(count(p, l)), push);
    }
    case "mark_to_drop":
    case "drop": {
      const { spec, mcast } = dropSlots(layout, ctx.where);
      const dropPort = res.dropPort;
      return (p) => {
        p.phv.values[spec] = dropPort;
        if (mcast !== undefined) p.phv.values[mcast] = 0;
      };
    }
    case "exit":
      return (p) => {
        p.exited = true;
      };
    case "no_op":
      return () => {};
    case "add_to_field":
    case "subtract_from_field": {
      const [dst, src] = params(call, 2, ctx);
      const d = compileLValue(dst, ctx);
      const cur = compileData(dst, ctx).big;
      const v = compileData(src, ctx).big;
      const sign = call.op === "add_to_field" ? 1n : -1n;
      const w = d.width;
      return (p, l) => {
        writeSlot(p.phv, d.slot(p, l), w, truncate(cur(p, l) + sign * v(p, l), w));
      };
    }
    case "add":
    case "subtract":
    case "bit_and":
    case "bit_or":
    case "bit_xor":
    case "shift_left":
    case "shift_right": {
      const [dst, a, b] = params(call, 3, ctx);
      const d = compileLValue(dst, ctx);
      const x = compileData(a, ctx).big;
      const y = compileData(b, ctx).big;
      const op = binary(call.op);
      const w = d.width;
      return (p, l) => {
        writeSlot(p.phv, d.slot(p, l), w, truncate(op(x(p, l), y(p, l)), w));
      };
    }
    case "clone_ingress_pkt_to_egress":
    case "clone_egress_pkt_to_egress": {
      const [session, fieldList] = params(call, 2, ctx);
      const s = compileData(session, ctx).big;
      const fl = compileData(fieldList, ctx).big;
      return (p, l) => {
        // simple_switch keeps the session id with a valid bit (RegisterAccess).
        p.cloneSession = (Number(BigInt.asUintN(16, s(p, l))) | 0x8000) >>> 0;
        p.cloneFieldList = Number(BigInt.asUintN(16, fl(p, l)));
      };
    }
    case "resubmit":
    case "recirculate": {
      const [fieldList] = params(call, 1, ctx);
      const fl = compileData(fieldList, ctx).big;
      const resubmit = call.op === "resubmit";
      return (p, l) => {
        const id = Number(BigInt.asUintN(16, fl(p, l)));
        if (resubmit) p.resubmitFieldList = id;
        else p.recirculateFieldList = id;
      };
    }
    case "generate_digest": {
      const [, learnId] = params(call, 2, ctx);
      const id = compileData(learnId, ctx).big;
      return (p, l) => {
        p.learnList = Number(BigInt.asUintN(16, id(p, l)));
      };
    }
    case "modify_field_with_hash_based_offset": {
      const [dst, base, calc, size] = params(call, 4, ctx);
      const d = compileLValue(dst, ctx);
      const b = compileData(base, ctx).big;
      const name = String((calc as { value: unknown }).value);
      const calculation = res.calculations.get(name);
      if (!calculation) throw new ProgramError(ctx.where, `unknown calculation "${name}"`);
      const sz = compileData(size, ctx).big;
      const w = d.width;
      return (p, l) => {
        let max = BigInt.asUintN(64, sz(p, l));
        if (max === 0n) max = 1n; // bmv2: "hash max given as 0, but treating it as 1"
        const v = (calculation.output(p) % max) + BigInt.asUintN(64, b(p, l));
        writeSlot(p.phv, d.slot(p, l), w, truncate(v, w));
      };
    }
    case "modify_field_rng_uniform": {
      const [dst, lo, hi] = params(call, 3, ctx);
      const d = compileLValue(dst, ctx);
      const a = compileData(lo, ctx).big;
      const b = compileData(hi, ctx).big;
      const w = d.width;
      return (p, l) => {
        const x = a(p, l);
        const y = b(p, l);
        if (x > y) return; // bmv2 leaves the field alone ("not specified when lo > hi")
        writeSlot(p.phv, d.slot(p, l), w, truncate(res.random(x, y), w));
      };
    }
    case "count": {
      const [array, index] = params(call, 2, ctx);
      const counter = res.counters.get(String((array as { value: unknown }).value));
      if (!counter) throw new ProgramError(ctx.where, "unknown counter array");
      const i = compileData(index, ctx).big;
      return (p, l) => counter.count(Number(i(p, l)), p.ingressLength);
    }
    case "execute_meter": {
      const [array, index, dst] = params(call, 3, ctx);
      const meter = res.meters.get(String((array as { value: unknown }).value));
      if (!meter) throw new ProgramError(ctx.where, "unknown meter array");
      const i = compileData(index, ctx).big;
      const d = compileLValue(dst, ctx);
      const w = d.width;
      return (p, l) => {
        const idx = Number(i(p, l));
        if (idx >= meter.size) return;
        writeSlot(p.phv, d.slot(p, l), w, truncate(meter.execute(idx, p.ingressLength), w));
      };
    }
    case "register_read": {
      const [dst, array, index] = params(call, 3, ctx);
      const reg = res.registers.get(String((array as { value: unknown }).value));
      if (!reg) throw new ProgramError(ctx.where, "unknown register array");
      const d = compileLValue(dst, ctx);
      const i = compileData(index, ctx).big;
      const w = d.width;
      return (p, l) => {
        const idx = Number(i(p, l));
        if (idx >= reg.size) return;
        writeSlot(p.phv, d.slot(p, l), w, truncate(reg.read(idx), w));
      };
    }
    case "register_write": {
      const [array, index, src] = params(call, 3, ctx);
      const reg = res.registers.get(String((array as { value: unknown }).value));
      if (!reg) throw new ProgramError(ctx.where, "unknown register array");
      const i = compileData(index, ctx).big;
      const v = compileData(src, ctx).big;
      return (p, l) => reg.write(Number(i(p, l)), v(p, l));
    }
    case "truncate": {
      const [len] = params(call, 1, ctx);
      const n = compileData(len, ctx).big;
      return (p, l) => {
        p.truncateLength = Math.min(p.truncateLength, toIndex(n(p, l)));
      };
    }
    case "log_msg": {
      // p4c writes an empty parameters_vector as {} rather than [].
      const [format, args] = params(call, 2, ctx);
      const text = String((format as { value: unknown }).value);
      const list = (args as { value?: unknown }).value;
      const values = (Array.isArray(list) ? list : []).map(
        (a) => asData(compileExpr(a, ctx), ctx).big,
      );
      return (p, l) => {
        let k = 0;
        res.log(text.replace(/\{\}/g, () => String(values[k++]?.(p, l) ?? "")));
      };
    }
    case "assert":
    case "assume": {
      // p4c passes the condition as data (b2d of it); bmv2 fails when it equals 0.
      const [cond] = params(call, 1, ctx);
      const c = compileCondition(cond, ctx);
      const where = `${call.op} at ${ctx.source ?? ctx.where}`;
      // bmv2 logs and aborts the whole switch; we log and drop only this packet (a fault).
      return (p, l) => {
        if (c(p, l)) return;
        res.log(`${where} failed`);
        throw new AssertionFailure(call.op, ctx.source ?? ctx.where);
      };
    }
    default:
      throw new UnsupportedConstructError(ctx.where, "primitive is not supported", {
        source: ctx.source,
      });
  }
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

/** A condition given as a boolean or as data (true when non-zero). */
function compileCondition(node: unknown, ctx: ExprContext): (p: PacketState, l: Locals) => boolean {
  const e = compileExpr(node, ctx);
  if (e.kind === "bool") return e.fn;
  const big = asData(e, ctx).big;
  return (p, l) => big(p, l) !== 0n;
}

function binary(op: string): (a: bigint, b: bigint) => bigint {
  switch (op) {
    case "add":
      return (a, b) => a + b;
    case "subtract":
      return (a, b) => a - b;
    case "bit_and":
      return (a, b) => a & b;
    case "bit_or":
      return (a, b) => a | b;
    case "bit_xor":
      return (a, b) => a ^ b;
    case "shift_left":
      return (a, b) => a << b;
    default:
      return (a, b) => a >> b;
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
