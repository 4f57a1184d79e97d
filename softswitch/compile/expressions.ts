/**
 * Compiles bmv2 JSON expressions (JSON_format.md "The type value object") into closures, once.
 *
 * bmv2 evaluates with unbounded precision and truncates only when storing into a field. Each
 * compiled data expression carries a static bound on its magnitude (`bits`: |v| < 2^bits). When
 * the bound fits a double exactly (<= 53 bits) the closure works on JS numbers with arithmetic
 * (no 32-bit bitwise operators unless the bound is below 31 bits); otherwise it works on bigint.
 */

import type { PhvLayout } from "../core/layout.js";
import { type PacketState, readSlot } from "../core/packet.js";
import { type FieldValue, MAX_NUMBER_BITS, parseHexstr, toSigned } from "../core/values.js";
import { ProgramError, UnsupportedConstructError } from "../program/errors.js";
import { type Code, type CodeGen, literal } from "./codegen.js";

/** Action data of the running table entry (or the parameters of a parser method call). */
export type Locals = readonly FieldValue[];
/** The locals of code outside actions (conditions, parser, deparser): one shared empty list, so
 * evaluating them allocates nothing per packet. */
export const NO_LOCALS: Locals = Object.freeze([]);
export type NumFn = (p: PacketState, l: Locals) => number;
export type BigFn = (p: PacketState, l: Locals) => bigint;
export type BoolFn = (p: PacketState, l: Locals) => boolean;
/** Evaluates to a header instance index. */
export type HeaderFn = (p: PacketState, l: Locals) => number;

export interface DataExpr {
  kind: "data";
  /** |value| < 2^bits */
  bits: number;
  nonneg: boolean;
  /** Present iff bits <= 53. */
  num?: NumFn;
  big: BigFn;
  /** Set when the value is known at load. */
  constant?: bigint;
  /** Source of the number form (see codegen.ts), when the expression has one. */
  numCode?: Code;
  /** Source of the bigint form, when the expression has one. */
  bigCode?: Code;
}
export interface BoolExpr {
  kind: "bool";
  fn: BoolFn;
  code?: Code;
}
export interface HeaderExpr {
  kind: "header";
  fn: HeaderFn;
  /** Source of the header index, when it is known at load. */
  code?: Code;
  /** Header index of a representative instance (all candidates share its type). */
  typeOf: number;
}
export interface StackExpr {
  kind: "stack";
  stack: number;
}
export interface UnionExpr {
  kind: "union";
  fn: (p: PacketState, l: Locals) => number;
  typeOf: number;
}
export interface UnionStackExpr {
  kind: "union_stack";
  stack: number;
}
export type Expr = DataExpr | BoolExpr | HeaderExpr | StackExpr | UnionExpr | UnionStackExpr;

/** What an expression can refer to besides the header vector. */
export interface ExprContext {
  layout: PhvLayout;
  /** Description of the enclosing construct, for errors. */
  where: string;
  source?: string;
  /** Widths of the locals (action runtime data), when inside an action. */
  localWidths?: readonly number[];
  /** Reads a register cell (`register` operands). */
  registerReader?: (name: string) => { width: number; read: (index: number) => FieldValue };
  /** Parser-only `lookahead` operands: reads bits ahead of the current parse position. */
  lookahead?: (bitOffset: number, width: number) => DataExpr;
}

export function fail(ctx: ExprContext, problem: string): never {
  throw new ProgramError(ctx.where, problem, { source: ctx.source });
}

function unsupported(ctx: ExprContext, problem: string): never {
  throw new UnsupportedConstructError(ctx.where, problem, { source: ctx.source });
}

/** Builds a data expression from a number closure (bits <= 53) or a bigint closure. */
export function dataExpr(
  bits: number,
  nonneg: boolean,
  num: NumFn | undefined,
  big: BigFn | undefined,
  code?: { num?: Code; big?: Code },
): DataExpr {
  let e: DataExpr;
  if (bits <= MAX_NUMBER_BITS) {
    if (!num) throw new Error("dataExpr: a number closure is needed for narrow expressions");
    e = { kind: "data", bits, nonneg, num, big: big ?? ((p, l) => BigInt(num(p, l))) };
    if (code?.num) e.numCode = code.num;
  } else {
    if (!big) throw new Error("dataExpr: a bigint closure is needed for wide expressions");
    e = { kind: "data", bits, nonneg, big };
  }
  if (code?.big) e.bigCode = code.big;
  return e;
}

/** Source of a narrow expression's number form (its closure, called, when it has no source). */
export function numSource(e: DataExpr, g: CodeGen): string {
  if (e.numCode) return e.numCode(g);
  if (!e.num) throw new Error("numSource: a wide expression has no number form");
  return `${g.ref(e.num)}(p, l)`;
}

/** Source of an expression's bigint form. */
export function bigSource(e: DataExpr, g: CodeGen): string {
  if (e.bigCode) return e.bigCode(g);
  // A narrow expression's number form is exact, so its bigint is the conversion of it.
  if (e.numCode) return `BigInt(${e.numCode(g)})`;
  return `${g.ref(e.big)}(p, l)`;
}

/** Source of a boolean expression. */
export function boolSource(e: BoolExpr, g: CodeGen): string {
  return e.code ? e.code(g) : `${g.ref(e.fn)}(p, l)`;
}

function bool(fn: BoolFn, code?: Code): BoolExpr {
  return code ? { kind: "bool", fn, code } : { kind: "bool", fn };
}

export function constantExpr(value: bigint): DataExpr {
  const magnitude = value < 0n ? -value : value;
  const bits = Math.max(1, magnitude.toString(2).length + (value < 0n ? 1 : 0));
  const n = Number(value);
  const e = dataExpr(
    bits,
    value >= 0n,
    () => n,
    () => value,
    { num: () => literal(n), big: () => literal(value) },
  );
  e.constant = value;
  return e;
}

/** Reads a field, as a signed value when the field is signed. */
export function fieldExpr(slot: number, width: number, signed: boolean): DataExpr {
  if (width <= MAX_NUMBER_BITS) {
    const num: NumFn = signed
      ? (p) => toSigned(p.phv.values[slot] as number, width) as number
      : (p) => p.phv.values[slot] as number;
    return dataExpr(width, !signed, num, undefined, signed ? {} : { num: () => `v[${slot}]` });
  }
  const big: BigFn = signed
    ? (p) => BigInt.asIntN(width, p.phv.wide[slot] as bigint)
    : (p) => p.phv.wide[slot] as bigint;
  return dataExpr(width, !signed, undefined, big, signed ? {} : { big: () => `w[${slot}]` });
}

function validFieldExpr(header: number): DataExpr {
  return dataExpr(1, true, (p) => p.phv.valid[header] as number, undefined, {
    num: () => `V[${header}]`,
  });
}

/** Compiles a type-value object used as an rvalue. */
export function compileExpr(node: unknown, ctx: ExprContext): Expr {
  if (typeof node !== "object" || node === null) fail(ctx, "malformed operand");
  const { type, value } = node as { type?: unknown; value?: unknown };
  switch (type) {
    case "field": {
      const [h, f] = asPair(value, ctx);
      const header = ctx.layout.header(h, ctx.where);
      if (f === "$valid$") return validFieldExpr(header.index);
      const field = ctx.layout.field(h, f, ctx.where);
      return fieldExpr(field.slot, field.width, field.signed);
    }
    case "hexstr":
      if (typeof value !== "string") fail(ctx, "hexstr operand is not a string");
      return constantExpr(parseHexstr(value));
    case "bool":
      if (typeof value !== "boolean") fail(ctx, "bool operand is not a boolean");
      return bool(value ? () => true : () => false, () => String(value));
    case "runtime_data":
    case "local": {
      if (typeof value !== "number" || !ctx.localWidths) fail(ctx, `${type} outside an action`);
      const width = ctx.localWidths[value];
      if (width === undefined) fail(ctx, `${type} index ${value} out of range`);
      const i = value;
      return width <= MAX_NUMBER_BITS
        ? dataExpr(width, true, (_p, l) => l[i] as number, undefined, { num: () => `l[${i}]` })
        : dataExpr(width, true, undefined, (_p, l) => l[i] as bigint, { big: () => `l[${i}]` });
    }
    case "header": {
      const header = ctx.layout.header(String(value), ctx.where);
      const index = header.index;
      return { kind: "header", fn: () => index, typeOf: index, code: () => String(index) };
    }
    case "header_stack":
      return { kind: "stack", stack: ctx.layout.stack(String(value), ctx.where).index };
    case "header_union": {
      const union = ctx.layout.union(String(value), ctx.where);
      const index = union.index;
      return { kind: "union", fn: () => index, typeOf: index };
    }
    case "header_union_stack":
      return { kind: "union_stack", stack: ctx.layout.unionStack(String(value), ctx.where).index };
    case "stack_field": {
      const [s, f] = asPair(value, ctx);
      const stack = ctx.layout.stack(s, ctx.where);
      return lastElementField(ctx, stack.headers, (p) => p.phv.stackNext[stack.index] ?? 0, f);
    }
    case "union_stack_field": {
      // [union stack, member, field]: the member's field in the last extracted union.
      const [s, member, f] = (Array.isArray(value) ? value : []) as [string, string, string];
      const stack = ctx.layout.unionStack(String(s), ctx.where);
      const unions = stack.unions.map((u) => ctx.layout.unions[u]);
      const offset = unions[0]?.members.findIndex((m) => m.name === member) ?? -1;
      if (offset < 0) fail(ctx, `union stack "${s}" has no member "${member}"`);
      const headers = unions.map((u) => u?.members[offset]?.header ?? -1);
      return lastElementField(ctx, headers, (p) => p.phv.unionStackNext[stack.index] ?? 0, f);
    }
    case "register": {
      const [name, indexNode] = (Array.isArray(value) ? value : []) as [unknown, unknown];
      if (typeof name !== "string" || !ctx.registerReader) fail(ctx, "malformed register operand");
      const reg = ctx.registerReader(name);
      const index = asData(compileExpr(indexNode, ctx), ctx);
      const idx = index.big;
      return reg.width <= MAX_NUMBER_BITS
        ? dataExpr(reg.width, true, (p, l) => reg.read(Number(idx(p, l))) as number, undefined)
        : dataExpr(reg.width, true, undefined, (p, l) => reg.read(Number(idx(p, l))) as bigint);
    }
    case "lookahead": {
      const [offset, width] = (Array.isArray(value) ? value : []) as [unknown, unknown];
      if (typeof offset !== "number" || typeof width !== "number" || !ctx.lookahead) {
        fail(ctx, "lookahead operand outside a parser or malformed");
      }
      return ctx.lookahead(offset, width);
    }
    case "expression":
      // Primitive parameters wrap twice ({type: expression, value: {type: expression, ...}}).
      if (typeof value === "object" && value !== null && !("op" in value) && "type" in value) {
        return compileExpr(value, ctx);
      }
      return compileOp(value, ctx);
    default:
      return unsupported(ctx, `operand type "${String(type)}" is not supported`);
  }
}

function asPair(value: unknown, ctx: ExprContext): [string, string] {
  if (!Array.isArray(value) || typeof value[0] !== "string" || typeof value[1] !== "string") {
    fail(ctx, "field reference is not a [header, field] pair");
  }
  return [value[0], value[1]];
}

/** A field of the last extracted element (`next - 1`) of a stack, given its headers in order. */
function lastElementField(
  ctx: ExprContext,
  headers: readonly number[],
  next: (p: PacketState) => number,
  fieldName: string,
): DataExpr {
  const first = ctx.layout.headers[headers[0] ?? -1];
  if (!first) fail(ctx, "empty stack");
  const offset = first.fields.findIndex((f) => f.name === `${first.name}.${fieldName}`);
  const field = first.fields[offset];
  if (!field) fail(ctx, `field "${fieldName}" not in "${first.name}"`);
  const slots = headers.map((h) => ctx.layout.headers[h]?.fields[offset]?.slot ?? 0);
  const slotOf = (p: PacketState) => slots[Math.max(0, next(p) - 1)] ?? 0;
  return field.width <= MAX_NUMBER_BITS
    ? dataExpr(field.width, true, (p) => p.phv.values[slotOf(p)] as number, undefined)
    : dataExpr(field.width, true, undefined, (p) => p.phv.wide[slotOf(p)] as bigint);
}

export function asData(e: Expr, ctx: ExprContext): DataExpr {
  if (e.kind !== "data") fail(ctx, `expected a data value, got ${e.kind}`);
  return e;
}

export function asBool(e: Expr, ctx: ExprContext): BoolExpr {
  if (e.kind !== "bool") fail(ctx, `expected a boolean, got ${e.kind}`);
  return e;
}

export function asHeader(e: Expr, ctx: ExprContext): HeaderExpr {
  if (e.kind !== "header") fail(ctx, `expected a header, got ${e.kind}`);
  return e;
}

/** Compiles a boolean-valued type-value object (conditions, verify, if_cond). */
export function compileBool(node: unknown, ctx: ExprContext): BoolFn {
  return asBool(compileExpr(node, ctx), ctx).fn;
}

/** Compiles a data-valued type-value object. */
export function compileData(node: unknown, ctx: ExprContext): DataExpr {
  return asData(compileExpr(node, ctx), ctx);
}

function compileOp(value: unknown, ctx: ExprContext): Expr {
  if (typeof value !== "object" || value === null) fail(ctx, "malformed expression");
  const { op, left, right, cond } = value as {
    op?: unknown;
    left?: unknown;
    right?: unknown;
    cond?: unknown;
  };
  const L = () => compileExpr(left, ctx);
  const R = () => compileExpr(right, ctx);
  switch (op) {
    case "+":
    case "-":
    case "*":
    case "/":
    case "%":
      return arithmetic(op, asData(L(), ctx), asData(R(), ctx), ctx);
    case "<<":
    case ">>":
      return shift(op, asData(L(), ctx), asData(R(), ctx), ctx);
    case "&":
    case "|":
    case "^":
      return bitwise(op, asData(L(), ctx), asData(R(), ctx));
    case "~": {
      const a = asData(R(), ctx);
      const { num: an } = a;
      const ab = a.big;
      return dataExpr(
        a.bits + 1,
        false,
        an ? (p, l) => -an(p, l) - 1 : undefined,
        (p, l) => ~ab(p, l),
        { num: (g) => `(-${numSource(a, g)} - 1)` },
      );
    }
    case "==":
    case "!=":
    case ">":
    case ">=":
    case "<":
    case "<=":
      return compare(op, asData(L(), ctx), asData(R(), ctx));
    case "and": {
      const x = asBool(L(), ctx);
      const y = asBool(R(), ctx);
      const [a, b] = [x.fn, y.fn];
      return bool(
        (p, l) => a(p, l) && b(p, l),
        (g) => `(${boolSource(x, g)} && ${boolSource(y, g)})`,
      );
    }
    case "or": {
      const x = asBool(L(), ctx);
      const y = asBool(R(), ctx);
      const [a, b] = [x.fn, y.fn];
      return bool(
        (p, l) => a(p, l) || b(p, l),
        (g) => `(${boolSource(x, g)} || ${boolSource(y, g)})`,
      );
    }
    case "not": {
      const x = asBool(R(), ctx);
      const a = x.fn;
      return bool(
        (p, l) => !a(p, l),
        (g) => `!${boolSource(x, g)}`,
      );
    }
    case "==b":
    case "!=b": {
      const x = asBool(L(), ctx);
      const y = asBool(R(), ctx);
      const [a, b] = [x.fn, y.fn];
      const eq = op === "==b";
      return bool(
        (p, l) => (a(p, l) === b(p, l)) === eq,
        (g) => `(${boolSource(x, g)} ${eq ? "===" : "!=="} ${boolSource(y, g)})`,
      );
    }
    case "==h":
    case "!=h":
      return headerEquality(asHeader(L(), ctx), asHeader(R(), ctx), op === "==h", ctx);
    case "==u":
    case "!=u": {
      const a = L();
      const b = R();
      if (a.kind !== "union" || b.kind !== "union") fail(ctx, `${op} needs two header unions`);
      return unionEquality(a, b, op === "==u", ctx);
    }
    case "valid": {
      const header = asHeader(R(), ctx);
      const h = header.fn;
      const code = header.code;
      return bool(
        (p, l) => p.phv.valid[h(p, l)] === 1,
        code ? (g) => `(V[${code(g)}] === 1)` : undefined,
      );
    }
    case "valid_union": {
      const u = R();
      if (u.kind !== "union") fail(ctx, "valid_union needs a header union");
      const unions = ctx.layout.unions;
      const fn = u.fn;
      return {
        kind: "bool",
        fn: (p, l) => unions[fn(p, l)]?.members.some((m) => p.phv.valid[m.header] === 1) ?? false,
      };
    }
    case "?": {
      const condition = asBool(compileExpr(cond, ctx), ctx);
      const c = condition.fn;
      const a = L();
      const b = R();
      if (a.kind === "bool" && b.kind === "bool") {
        return bool(
          (p, l) => (c(p, l) ? a.fn(p, l) : b.fn(p, l)),
          (g) => `(${boolSource(condition, g)} ? ${boolSource(a, g)} : ${boolSource(b, g)})`,
        );
      }
      const x = asData(a, ctx);
      const y = asData(b, ctx);
      const bits = Math.max(x.bits, y.bits);
      const xn = x.num;
      const yn = y.num;
      return dataExpr(
        bits,
        x.nonneg && y.nonneg,
        xn && yn ? (p, l) => (c(p, l) ? xn(p, l) : yn(p, l)) : undefined,
        (p, l) => (c(p, l) ? x.big(p, l) : y.big(p, l)),
        {
          num: (g) => `(${boolSource(condition, g)} ? ${numSource(x, g)} : ${numSource(y, g)})`,
        },
      );
    }
    case "d2b": {
      const a = asData(R(), ctx);
      const an = a.num;
      const ab = a.big;
      return an
        ? bool(
            (p, l) => an(p, l) !== 0,
            (g) => `(${numSource(a, g)} !== 0)`,
          )
        : bool((p, l) => ab(p, l) !== 0n);
    }
    case "b2d": {
      const x = asBool(R(), ctx);
      const a = x.fn;
      return dataExpr(1, true, (p, l) => (a(p, l) ? 1 : 0), undefined, {
        num: (g) => `(${boolSource(x, g)} ? 1 : 0)`,
      });
    }
    case "two_comp_mod":
    case "sat_cast":
    case "usat_cast":
      return cast(op, asData(L(), ctx), asData(R(), ctx), ctx);
    case "dereference_stack":
    case "dereference_header_stack": {
      const s = L();
      if (s.kind !== "stack") fail(ctx, `${op} needs a header stack`);
      const headers = ctx.layout.stacks[s.stack]?.headers ?? [];
      const i = asData(R(), ctx).big;
      const last = headers.length - 1;
      // bmv2 aborts on an out-of-range index; clamping keeps one bad packet from stopping us.
      return {
        kind: "header",
        fn: (p, l) => headers[Math.min(Math.max(0, Number(i(p, l))), last)] as number,
        typeOf: headers[0] ?? 0,
      };
    }
    case "dereference_union_stack": {
      const s = L();
      if (s.kind !== "union_stack") fail(ctx, `${op} needs a header union stack`);
      const unions = ctx.layout.unionStacks[s.stack]?.unions ?? [];
      const i = asData(R(), ctx).big;
      const last = unions.length - 1;
      return {
        kind: "union",
        fn: (p, l) => unions[Math.min(Math.max(0, Number(i(p, l))), last)] as number,
        typeOf: unions[0] ?? 0,
      };
    }
    case "last_stack_index":
    case "size_stack": {
      const s = R();
      if (s.kind !== "stack") fail(ctx, `${op} needs a header stack`);
      const index = s.stack;
      if (op === "size_stack")
        return dataExpr(32, true, (p) => p.phv.stackNext[index] ?? 0, undefined);
      // bmv2 computes count - 1 in size_t: an empty stack gives 2^64 - 1.
      return dataExpr(64, true, undefined, (p) =>
        BigInt.asUintN(64, BigInt((p.phv.stackNext[index] ?? 0) - 1)),
      );
    }
    case "access_field": {
      const h = asHeader(L(), ctx);
      if (typeof right !== "number") fail(ctx, "access_field needs an integer field offset");
      const offset = right;
      const representative = ctx.layout.headers[h.typeOf];
      const field = representative?.fields[offset];
      if (!field) fail(ctx, `access_field offset ${offset} out of range`);
      const headers = ctx.layout.headers;
      const hf = h.fn;
      const slotOf = (p: PacketState, l: Locals) =>
        headers[hf(p, l)]?.fields[offset]?.slot ?? field.slot;
      const { width, signed } = field;
      return width <= MAX_NUMBER_BITS
        ? dataExpr(
            width,
            !signed,
            signed
              ? (p, l) => toSigned(p.phv.values[slotOf(p, l)] as number, width) as number
              : (p, l) => p.phv.values[slotOf(p, l)] as number,
            undefined,
          )
        : dataExpr(width, !signed, undefined, (p, l) => {
            const v = p.phv.wide[slotOf(p, l)] as bigint;
            return signed ? BigInt.asIntN(width, v) : v;
          });
    }
    case "access_union_header": {
      const u = L();
      if (u.kind !== "union") fail(ctx, "access_union_header needs a header union");
      if (typeof right !== "number") fail(ctx, "access_union_header needs an integer offset");
      const offset = right;
      const unions = ctx.layout.unions;
      const uf = u.fn;
      const typeOf = unions[u.typeOf]?.members[offset]?.header;
      if (typeOf === undefined) fail(ctx, `access_union_header offset ${offset} out of range`);
      return {
        kind: "header",
        fn: (p, l) => unions[uf(p, l)]?.members[offset]?.header ?? typeOf,
        typeOf,
      };
    }
    default:
      return unsupported(ctx, `expression operator "${String(op)}" is not supported`);
  }
}

function arithmetic(op: string, a: DataExpr, b: DataExpr, ctx: ExprContext): DataExpr {
  const an = a.num;
  const bn = b.num;
  const ab = a.big;
  const bb = b.big;
  const both = an && bn;
  switch (op) {
    case "+": {
      const bits = Math.max(a.bits, b.bits) + 1;
      return dataExpr(
        bits,
        a.nonneg && b.nonneg,
        both ? (p, l) => an(p, l) + bn(p, l) : undefined,
        (p, l) => ab(p, l) + bb(p, l),
        {
          num: (g) => `(${numSource(a, g)} + ${numSource(b, g)})`,
          big: (g) => `(${bigSource(a, g)} + ${bigSource(b, g)})`,
        },
      );
    }
    case "-": {
      const bits = Math.max(a.bits, b.bits) + 1;
      return dataExpr(
        bits,
        false,
        both ? (p, l) => an(p, l) - bn(p, l) : undefined,
        (p, l) => ab(p, l) - bb(p, l),
        {
          num: (g) => `(${numSource(a, g)} - ${numSource(b, g)})`,
          big: (g) => `(${bigSource(a, g)} - ${bigSource(b, g)})`,
        },
      );
    }
    case "*": {
      const bits = a.bits + b.bits;
      return dataExpr(
        bits,
        a.nonneg && b.nonneg,
        both ? (p, l) => an(p, l) * bn(p, l) : undefined,
        (p, l) => ab(p, l) * bb(p, l),
        {
          num: (g) => `(${numSource(a, g)} * ${numSource(b, g)})`,
          big: (g) => `(${bigSource(a, g)} * ${bigSource(b, g)})`,
        },
      );
    }
    case "/":
    case "%": {
      // bmv2 requires a >= 0 and b > 0; a zero divisor yields 0 here rather than aborting.
      const div = op === "/";
      const bits = div ? a.bits : Math.min(a.bits, b.bits);
      return dataExpr(
        bits,
        true,
        both
          ? (p, l) => {
              const y = bn(p, l);
              if (y === 0) return 0;
              const x = an(p, l);
              return div ? Math.trunc(x / y) : x % y;
            }
          : undefined,
        (p, l) => {
          const y = bb(p, l);
          if (y === 0n) return 0n;
          return div ? ab(p, l) / y : ab(p, l) % y;
        },
      );
    }
    default:
      return fail(ctx, `operator ${op}`);
  }
}

function shift(op: string, a: DataExpr, b: DataExpr, ctx: ExprContext): DataExpr {
  const an = a.num;
  const ab = a.big;
  const bb = b.big;
  const left = op === "<<";
  const constShift = b.constant !== undefined ? Number(b.constant) : undefined;
  if (constShift !== undefined && constShift < 0) fail(ctx, "negative shift amount");
  const maxShift = constShift ?? (b.bits >= 16 ? 65535 : 2 ** b.bits - 1);
  const bits = left ? a.bits + maxShift : a.bits;
  const bigShift = (p: PacketState, l: Locals) => {
    const s = bb(p, l);
    return left ? ab(p, l) << s : ab(p, l) >> s;
  };
  const bigCode: Code = (g) => `(${bigSource(a, g)} ${left ? "<<" : ">>"} ${bigSource(b, g)})`;
  if (bits > MAX_NUMBER_BITS || !an) {
    return dataExpr(bits, a.nonneg, undefined, bigShift, { big: bigCode });
  }
  if (constShift !== undefined) {
    const factor = 2 ** constShift;
    return dataExpr(
      bits,
      a.nonneg,
      left ? (p, l) => an(p, l) * factor : (p, l) => Math.floor(an(p, l) / factor),
      bigShift,
      {
        num: left
          ? (g) => `(${numSource(a, g)} * ${factor})`
          : (g) => `Math.floor(${numSource(a, g)} / ${factor})`,
      },
    );
  }
  const bn = b.num as NumFn;
  return dataExpr(
    bits,
    a.nonneg,
    left ? (p, l) => an(p, l) * 2 ** bn(p, l) : (p, l) => Math.floor(an(p, l) / 2 ** bn(p, l)),
    bigShift,
  );
}

const TWO_32 = 2 ** 32;

/** Two's complement bitwise op on integers below 2^53 in magnitude, via 32-bit halves. */
function wideBitwise(op: string, x: number, y: number): number {
  const xh = Math.floor(x / TWO_32);
  const yh = Math.floor(y / TWO_32);
  const xl = x - xh * TWO_32;
  const yl = y - yh * TWO_32;
  let hi: number;
  let lo: number;
  if (op === "&") {
    hi = xh & yh;
    lo = (xl & yl) >>> 0;
  } else if (op === "|") {
    hi = xh | yh;
    lo = (xl | yl) >>> 0;
  } else {
    hi = xh ^ yh;
    lo = (xl ^ yl) >>> 0;
  }
  return hi * TWO_32 + lo;
}

/** n when `e` is the constant 2^n - 1 (a mask of the n low bits). */
function lowMask(e: DataExpr): number | undefined {
  const c = e.constant;
  if (c === undefined || c < 0n) return undefined;
  const n = c.toString(2).length;
  return c === (1n << BigInt(n)) - 1n ? n : undefined;
}

function bitwise(op: string, a: DataExpr, b: DataExpr): DataExpr {
  if (op === "&") {
    // Masking a value that already fits the mask changes nothing (p4c's casts do this a lot).
    const fits = (x: DataExpr, m: DataExpr) => {
      const n = lowMask(m);
      return n !== undefined && x.nonneg && x.bits <= n;
    };
    if (fits(a, b)) return a;
    if (fits(b, a)) return b;
  }
  let bits = Math.max(a.bits, b.bits);
  let nonneg = a.nonneg && b.nonneg;
  if (op === "&" && (a.nonneg || b.nonneg)) {
    // AND with a non-negative value is bounded by it: masks narrow wide intermediates.
    nonneg = true;
    bits = a.nonneg && b.nonneg ? Math.min(a.bits, b.bits) : a.nonneg ? a.bits : b.bits;
  }
  const ab = a.big;
  const bb = b.big;
  const big: BigFn =
    op === "&"
      ? (p, l) => ab(p, l) & bb(p, l)
      : op === "|"
        ? (p, l) => ab(p, l) | bb(p, l)
        : (p, l) => ab(p, l) ^ bb(p, l);
  const an = a.num;
  const bn = b.num;
  const bigCode: Code = (g) => `(${bigSource(a, g)} ${op} ${bigSource(b, g)})`;
  if (!an || !bn || bits > MAX_NUMBER_BITS) {
    // One operand is wide: the result may still be narrow (a mask), so convert back.
    if (bits <= MAX_NUMBER_BITS) {
      return dataExpr(bits, nonneg, (p, l) => Number(big(p, l)), big, {
        num: (g) => `Number(${bigCode(g)})`,
        big: bigCode,
      });
    }
    return dataExpr(bits, nonneg, undefined, big, { big: bigCode });
  }
  const inputsFit31 = a.bits <= 31 && b.bits <= 31;
  let num: NumFn;
  if (inputsFit31) {
    num =
      op === "&"
        ? (p, l) => an(p, l) & bn(p, l)
        : op === "|"
          ? (p, l) => an(p, l) | bn(p, l)
          : (p, l) => an(p, l) ^ bn(p, l);
    return dataExpr(bits, nonneg, num, big, {
      num: (g) => `(${numSource(a, g)} ${op} ${numSource(b, g)})`,
    });
  }
  num = (p, l) => wideBitwise(op, an(p, l), bn(p, l));
  const mask = lowMask(a) ?? lowMask(b);
  const other = lowMask(a) !== undefined ? b : a;
  if (op === "&" && mask !== undefined && mask <= 32) {
    // The common cast to 32 bits or fewer: ToUint32 and int32 masks are exact on integers
    // below 2^53 in magnitude, negative ones included (two's complement).
    return dataExpr(bits, nonneg, num, big, {
      num: (g) =>
        mask === 32
          ? `(${numSource(other, g)} >>> 0)`
          : `(${numSource(other, g)} & ${2 ** mask - 1})`,
    });
  }
  return dataExpr(bits, nonneg, num, big, {
    num: (g) => `${g.ref(wideBitwise)}("${op}", ${numSource(a, g)}, ${numSource(b, g)})`,
  });
}

function compare(op: string, a: DataExpr, b: DataExpr): BoolExpr {
  const an = a.num;
  const bn = b.num;
  if (an && bn) {
    const js = op === "==" ? "===" : op === "!=" ? "!==" : op;
    const code: Code = (g) => `(${numSource(a, g)} ${js} ${numSource(b, g)})`;
    return bool(compareNumbers(op, an, bn), code);
  }
  const ab = a.big;
  const bb = b.big;
  switch (op) {
    case "==":
      return { kind: "bool", fn: (p, l) => ab(p, l) === bb(p, l) };
    case "!=":
      return { kind: "bool", fn: (p, l) => ab(p, l) !== bb(p, l) };
    case ">":
      return { kind: "bool", fn: (p, l) => ab(p, l) > bb(p, l) };
    case ">=":
      return { kind: "bool", fn: (p, l) => ab(p, l) >= bb(p, l) };
    case "<":
      return { kind: "bool", fn: (p, l) => ab(p, l) < bb(p, l) };
    default:
      return { kind: "bool", fn: (p, l) => ab(p, l) <= bb(p, l) };
  }
}

function compareNumbers(op: string, an: NumFn, bn: NumFn): BoolFn {
  switch (op) {
    case "==":
      return (p, l) => an(p, l) === bn(p, l);
    case "!=":
      return (p, l) => an(p, l) !== bn(p, l);
    case ">":
      return (p, l) => an(p, l) > bn(p, l);
    case ">=":
      return (p, l) => an(p, l) >= bn(p, l);
    case "<":
      return (p, l) => an(p, l) < bn(p, l);
    default:
      return (p, l) => an(p, l) <= bn(p, l);
  }
}

function cast(op: string, a: DataExpr, widthExpr: DataExpr, ctx: ExprContext): DataExpr {
  if (widthExpr.constant === undefined) fail(ctx, `${op} needs a constant width`);
  const width = Number(widthExpr.constant);
  const one = 1n;
  const w = BigInt(width);
  const ab = a.big;
  let big: BigFn;
  if (op === "two_comp_mod") {
    big = (p, l) => BigInt.asIntN(width, ab(p, l));
  } else if (op === "usat_cast") {
    const max = (one << w) - one;
    big = (p, l) => {
      const v = ab(p, l);
      return v > max ? max : v < 0n ? 0n : v;
    };
  } else {
    const max = (one << (w - one)) - one;
    const min = -(one << (w - one));
    big = (p, l) => {
      const v = ab(p, l);
      return v > max ? max : v < min ? min : v;
    };
  }
  const bits = width + 1;
  const nonneg = op === "usat_cast";
  return dataExpr(
    bits,
    nonneg,
    bits <= MAX_NUMBER_BITS ? (p, l) => Number(big(p, l)) : undefined,
    big,
  );
}

/** bmv2 Header::cmp: equal only when both headers are valid and every field is equal. */
function sameHeaders(p: PacketState, layout: PhvLayout, a: number, b: number): boolean {
  const x = layout.headers[a];
  const y = layout.headers[b];
  if (!x || !y || p.phv.valid[a] !== 1 || p.phv.valid[b] !== 1) return false;
  if (x.fields.length !== y.fields.length) return false;
  return x.fields.every(
    (f, i) =>
      readSlot(p.phv, f.slot, f.width) === readSlot(p.phv, y.fields[i]?.slot ?? -1, f.width),
  );
}

function headerEquality(a: HeaderExpr, b: HeaderExpr, equal: boolean, ctx: ExprContext): BoolExpr {
  const layout = ctx.layout;
  const af = a.fn;
  const bf = b.fn;
  return { kind: "bool", fn: (p, l) => sameHeaders(p, layout, af(p, l), bf(p, l)) === equal };
}

/** bmv2 HeaderUnion::cmp: both valid, the same member valid, and that member equal. */
function unionEquality(a: UnionExpr, b: UnionExpr, equal: boolean, ctx: ExprContext): BoolExpr {
  const layout = ctx.layout;
  const validMember = (p: PacketState, u: number) =>
    layout.unions[u]?.members.findIndex((m) => p.phv.valid[m.header] === 1) ?? -1;
  return {
    kind: "bool",
    fn: (p, l) => {
      const x = a.fn(p, l);
      const y = b.fn(p, l);
      const i = validMember(p, x);
      const same =
        i >= 0 &&
        i === validMember(p, y) &&
        sameHeaders(
          p,
          layout,
          layout.unions[x]?.members[i]?.header ?? -1,
          layout.unions[y]?.members[i]?.header ?? -1,
        );
      return same === equal;
    },
  };
}
