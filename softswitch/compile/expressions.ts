/**
 * Compiles bmv2 JSON expressions (JSON_format.md "The type value object") into JavaScript source
 * for the generated functions (codegen.ts), once: each operand type and each operator (the
 * `operators` registry) is written here once, as the source it runs as.
 *
 * bmv2 evaluates with unbounded precision and truncates only when storing into a field. Each
 * compiled data expression carries a static bound on its magnitude (`bits`: |v| < 2^bits). When
 * the bound fits a double exactly (<= 53 bits) the expression has a number form (arithmetic on JS
 * numbers, no 32-bit bitwise operators unless the bound is below 31 bits); every expression has a
 * bigint form. What does not fit one JS expression (header and union comparison, union validity,
 * division by zero, saturation) calls the plain helpers at the end of this file.
 */

import type { PhvLayout } from "../core/layout.js";
import { type PacketState, readSlot } from "../core/packet.js";
import type { RegisterArray } from "../core/registers.js";
import { type FieldValue, MAX_NUMBER_BITS, parseHexstr, toSigned } from "../core/values.js";
import { ProgramError, UnsupportedConstructError } from "../program/errors.js";
import { type Code, type CodeGen, literal } from "./codegen.js";

/** Action data of the running table entry (`l` in generated code). */
export type Locals = readonly FieldValue[];
/** The locals of code outside actions (conditions, parser, deparser): one shared empty list, so
 * evaluating them allocates nothing per packet. */
export const NO_LOCALS: Locals = Object.freeze([]);

export interface DataExpr {
  kind: "data";
  /** |value| < 2^bits */
  bits: number;
  nonneg: boolean;
  /** Set when the value is known at load. */
  constant?: bigint;
  /** Source of the value as a number; present iff bits <= 53. */
  num?: Code;
  /** Source of the value as a bigint. */
  big: Code;
}
export interface BoolExpr {
  kind: "bool";
  code: Code;
}
/** A header instance: source of its index, and the index itself when it is known at load. */
export interface HeaderExpr {
  kind: "header";
  code: Code;
  index?: number;
  /** Header index of a representative instance (all candidates share its type). */
  typeOf: number;
}
export interface StackExpr {
  kind: "stack";
  stack: number;
}
/** A header union instance, as HeaderExpr is a header's. */
export interface UnionExpr {
  kind: "union";
  code: Code;
  index?: number;
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
  /** The register arrays `register` operands read. */
  registers?: ReadonlyMap<string, RegisterArray>;
  /** Parser-only `lookahead` operands: reads bits ahead of the current parse position. */
  lookahead?: (bitOffset: number, width: number) => DataExpr;
}

export function fail(ctx: ExprContext, problem: string): never {
  throw new ProgramError(ctx.where, problem, { source: ctx.source });
}

function unsupported(ctx: ExprContext, problem: string): never {
  throw new UnsupportedConstructError(ctx.where, problem, { source: ctx.source });
}

/**
 * A data expression from its sources: a narrow one (bits <= 53) needs its number form, and its
 * bigint form is the conversion of it unless given; a wide one needs its bigint form.
 */
export function dataExpr(
  bits: number,
  nonneg: boolean,
  code: { num?: Code | undefined; big?: Code | undefined },
): DataExpr {
  const { num, big } = code;
  if (bits <= MAX_NUMBER_BITS) {
    if (!num) throw new Error("dataExpr: a narrow expression needs its number source");
    return { kind: "data", bits, nonneg, num, big: big ?? ((g) => `BigInt(${num(g)})`) };
  }
  if (!big) throw new Error("dataExpr: a wide expression needs its bigint source");
  return { kind: "data", bits, nonneg, big };
}

/** Source of a narrow expression's number form. */
export function numSource(e: DataExpr, g: CodeGen): string {
  if (!e.num) throw new Error("numSource: a wide expression has no number form");
  return e.num(g);
}

/** Source of an expression's bigint form. */
export function bigSource(e: DataExpr, g: CodeGen): string {
  return e.big(g);
}

function bool(code: Code): BoolExpr {
  return { kind: "bool", code };
}

export function constantExpr(value: bigint): DataExpr {
  const magnitude = value < 0n ? -value : value;
  const bits = Math.max(1, magnitude.toString(2).length + (value < 0n ? 1 : 0));
  const n = Number(value);
  const e = dataExpr(bits, value >= 0n, { num: () => literal(n), big: () => literal(value) });
  e.constant = value;
  return e;
}

/** A field read at a slot given as source (a constant, or one chosen per packet). */
function slotExpr(slot: Code, width: number, signed: boolean): DataExpr {
  if (width <= MAX_NUMBER_BITS) {
    const read: Code = (g) => `v[${slot(g)}]`;
    return dataExpr(width, !signed, {
      num: signed ? (g) => `${g.ref(toSigned)}(${read(g)}, ${width})` : read,
    });
  }
  const read: Code = (g) => `w[${slot(g)}]`;
  return dataExpr(width, !signed, {
    big: signed ? (g) => `BigInt.asIntN(${width}, ${read(g)})` : read,
  });
}

/** A field of a header operand (`access_field`): its width, sign and slot as source. */
export function accessedField(
  h: HeaderExpr,
  offset: number,
  ctx: ExprContext,
): { width: number; signed: boolean; slot: Code; fixedSlot?: number } {
  const headers = ctx.layout.headers;
  const field = headers[h.typeOf]?.fields[offset];
  if (!field) fail(ctx, `access_field offset ${offset} out of range`);
  const { width, signed } = field;
  if (h.index !== undefined) {
    const fixedSlot = headers[h.index]?.fields[offset]?.slot ?? field.slot;
    return { width, signed, slot: () => String(fixedSlot), fixedSlot };
  }
  // Per packet: the slot of the field at `offset` of whichever header the operand gives.
  const slots = headers.map((x) => x.fields[offset]?.slot ?? field.slot);
  return { width, signed, slot: (g) => `${g.ref(slots)}[${h.code(g)}]` };
}

/** Compiles a type-value object used as an rvalue. */
export function compileExpr(node: unknown, ctx: ExprContext): Expr {
  if (typeof node !== "object" || node === null) fail(ctx, "malformed operand");
  const { type, value } = node as { type?: unknown; value?: unknown };
  switch (type) {
    case "field": {
      const [h, f] = asPair(value, ctx);
      const header = ctx.layout.header(h, ctx.where);
      if (f === "$valid$") return dataExpr(1, true, { num: () => `V[${header.index}]` });
      const field = ctx.layout.field(h, f, ctx.where);
      return slotExpr(() => String(field.slot), field.width, field.signed);
    }
    case "hexstr":
      if (typeof value !== "string") fail(ctx, "hexstr operand is not a string");
      return constantExpr(parseHexstr(value));
    case "bool":
      if (typeof value !== "boolean") fail(ctx, "bool operand is not a boolean");
      return bool(() => String(value));
    case "runtime_data":
    case "local": {
      if (typeof value !== "number" || !ctx.localWidths) fail(ctx, `${type} outside an action`);
      const width = ctx.localWidths[value];
      if (width === undefined) fail(ctx, `${type} index ${value} out of range`);
      const read: Code = () => `l[${value}]`;
      return dataExpr(width, true, width <= MAX_NUMBER_BITS ? { num: read } : { big: read });
    }
    case "header": {
      const index = ctx.layout.header(String(value), ctx.where).index;
      return { kind: "header", code: () => String(index), index, typeOf: index };
    }
    case "header_stack":
      return { kind: "stack", stack: ctx.layout.stack(String(value), ctx.where).index };
    case "header_union": {
      const index = ctx.layout.union(String(value), ctx.where).index;
      return { kind: "union", code: () => String(index), index, typeOf: index };
    }
    case "header_union_stack":
      return { kind: "union_stack", stack: ctx.layout.unionStack(String(value), ctx.where).index };
    case "stack_field": {
      const [s, f] = asPair(value, ctx);
      const stack = ctx.layout.stack(s, ctx.where);
      return lastElementField(ctx, stack.headers, `p.phv.stackNext[${stack.index}]`, f);
    }
    case "union_stack_field": {
      // [union stack, member, field]: the member's field in the last extracted union.
      const [s, member, f] = (Array.isArray(value) ? value : []) as [string, string, string];
      const stack = ctx.layout.unionStack(String(s), ctx.where);
      const unions = stack.unions.map((u) => ctx.layout.unions[u]);
      const offset = unions[0]?.members.findIndex((m) => m.name === member) ?? -1;
      if (offset < 0) fail(ctx, `union stack "${s}" has no member "${member}"`);
      const headers = unions.map((u) => u?.members[offset]?.header ?? -1);
      return lastElementField(ctx, headers, `p.phv.unionStackNext[${stack.index}]`, f);
    }
    case "register": {
      const [name, indexNode] = (Array.isArray(value) ? value : []) as [unknown, unknown];
      const reg = typeof name === "string" ? ctx.registers?.get(name) : undefined;
      if (!reg) fail(ctx, `unknown register array "${String(name)}"`);
      const index = compileData(indexNode, ctx);
      const read: Code = (g) => `${g.ref(reg)}.read(Number(${index.big(g)}))`;
      return dataExpr(
        reg.width,
        true,
        reg.width <= MAX_NUMBER_BITS ? { num: read } : { big: read },
      );
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
      return compileOperator(value, ctx);
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
  next: string,
  fieldName: string,
): DataExpr {
  const first = ctx.layout.headers[headers[0] ?? -1];
  if (!first) fail(ctx, "empty stack");
  const offset = first.fields.findIndex((f) => f.name === `${first.name}.${fieldName}`);
  const field = first.fields[offset];
  if (!field) fail(ctx, `field "${fieldName}" not in "${first.name}"`);
  const slots = headers.map((h) => ctx.layout.headers[h]?.fields[offset]?.slot ?? 0);
  return slotExpr((g) => `(${g.ref(slots)}[Math.max(0, ${next} - 1)] ?? 0)`, field.width, false);
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

export function asUnion(e: Expr, ctx: ExprContext): UnionExpr {
  if (e.kind !== "union") fail(ctx, `expected a header union, got ${e.kind}`);
  return e;
}

/** Compiles a data-valued type-value object. */
export function compileData(node: unknown, ctx: ExprContext): DataExpr {
  return asData(compileExpr(node, ctx), ctx);
}

/** Compiles a boolean-valued type-value object. */
function compileBool(node: unknown, ctx: ExprContext): BoolExpr {
  return asBool(compileExpr(node, ctx), ctx);
}

/** An `expression` object's operator and operands (JSON_format.md). */
interface OperatorNode {
  op: string;
  left?: unknown;
  right?: unknown;
  cond?: unknown;
}

/** Compiles one operator application, checking its operands at load. */
type OperatorCompiler = (node: OperatorNode, ctx: ExprContext) => Expr;

function compileOperator(value: unknown, ctx: ExprContext): Expr {
  if (typeof value !== "object" || value === null) fail(ctx, "malformed expression");
  const node = value as OperatorNode;
  const compile = operators.get(node.op);
  if (!compile)
    return unsupported(ctx, `expression operator "${String(node.op)}" is not supported`);
  return compile(node, ctx);
}

/** `+`, `-`, `*`: exact in numbers below 2^53, in bigints otherwise. */
function arithmetic(op: "+" | "-" | "*"): OperatorCompiler {
  return (node, ctx) => {
    const a = compileData(node.left, ctx);
    const b = compileData(node.right, ctx);
    const bits = op === "*" ? a.bits + b.bits : Math.max(a.bits, b.bits) + 1;
    return dataExpr(bits, op !== "-" && a.nonneg && b.nonneg, {
      num: (g) => `(${numSource(a, g)} ${op} ${numSource(b, g)})`,
      big: (g) => `(${bigSource(a, g)} ${op} ${bigSource(b, g)})`,
    });
  };
}

/** `/` and `%` (bmv2 requires a >= 0 and b > 0; a zero divisor yields 0 here, not an abort). */
function division(op: "/" | "%"): OperatorCompiler {
  const [number, big] = op === "/" ? [quotient, bigQuotient] : [remainder, bigRemainder];
  return (node, ctx) => {
    const a = compileData(node.left, ctx);
    const b = compileData(node.right, ctx);
    const bits = op === "/" ? a.bits : Math.min(a.bits, b.bits);
    const bigCode: Code = (g) => `${g.ref(big)}(${bigSource(a, g)}, ${bigSource(b, g)})`;
    return dataExpr(bits, true, {
      // A narrow result of a wide operand: the bigint result, converted.
      num:
        a.num && b.num
          ? (g) => `${g.ref(number)}(${numSource(a, g)}, ${numSource(b, g)})`
          : (g) => `Number(${bigCode(g)})`,
      big: bigCode,
    });
  };
}

const shift: OperatorCompiler = (node, ctx) => {
  const a = compileData(node.left, ctx);
  const b = compileData(node.right, ctx);
  const left = node.op === "<<";
  const constShift = b.constant !== undefined ? Number(b.constant) : undefined;
  if (constShift !== undefined && constShift < 0) fail(ctx, "negative shift amount");
  const maxShift = constShift ?? (b.bits >= 16 ? 65535 : 2 ** b.bits - 1);
  const bits = left ? a.bits + maxShift : a.bits;
  const big: Code = (g) => `(${bigSource(a, g)} ${node.op} ${bigSource(b, g)})`;
  if (bits > MAX_NUMBER_BITS) return dataExpr(bits, a.nonneg, { big });
  if (constShift !== undefined) {
    const factor = 2 ** constShift;
    return dataExpr(bits, a.nonneg, {
      num: left
        ? (g) => `(${numSource(a, g)} * ${factor})`
        : (g) => `Math.floor(${numSource(a, g)} / ${factor})`,
    });
  }
  return dataExpr(bits, a.nonneg, {
    num: left
      ? (g) => `(${numSource(a, g)} * 2 ** ${numSource(b, g)})`
      : (g) => `Math.floor(${numSource(a, g)} / 2 ** ${numSource(b, g)})`,
    big,
  });
};

/** n when `e` is the constant 2^n - 1 (a mask of the n low bits). */
function lowMask(e: DataExpr): number | undefined {
  const c = e.constant;
  if (c === undefined || c < 0n) return undefined;
  const n = c.toString(2).length;
  return c === (1n << BigInt(n)) - 1n ? n : undefined;
}

const bitwise: OperatorCompiler = (node, ctx) => {
  const op = node.op;
  const a = compileData(node.left, ctx);
  const b = compileData(node.right, ctx);
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
  const big: Code = (g) => `(${bigSource(a, g)} ${op} ${bigSource(b, g)})`;
  if (!a.num || !b.num || bits > MAX_NUMBER_BITS) {
    // One operand is wide: the result may still be narrow (a mask), so convert back.
    return dataExpr(bits, nonneg, { num: (g) => `Number(${big(g)})`, big });
  }
  if (a.bits <= 31 && b.bits <= 31) {
    return dataExpr(bits, nonneg, { num: (g) => `(${numSource(a, g)} ${op} ${numSource(b, g)})` });
  }
  const mask = lowMask(a) ?? lowMask(b);
  const other = lowMask(a) !== undefined ? b : a;
  if (op === "&" && mask !== undefined && mask <= 32) {
    // The common cast to 32 bits or fewer: ToUint32 and int32 masks are exact on integers
    // below 2^53 in magnitude, negative ones included (two's complement).
    return dataExpr(bits, nonneg, {
      num: (g) =>
        mask === 32
          ? `(${numSource(other, g)} >>> 0)`
          : `(${numSource(other, g)} & ${2 ** mask - 1})`,
    });
  }
  return dataExpr(bits, nonneg, {
    num: (g) => `${g.ref(wideBitwise)}("${op}", ${numSource(a, g)}, ${numSource(b, g)})`,
  });
};

const complement: OperatorCompiler = (node, ctx) => {
  const a = compileData(node.right, ctx);
  return dataExpr(a.bits + 1, false, {
    num: (g) => `(-${numSource(a, g)} - 1)`,
    big: (g) => `(~${bigSource(a, g)})`,
  });
};

const compare: OperatorCompiler = (node, ctx) => {
  const a = compileData(node.left, ctx);
  const b = compileData(node.right, ctx);
  const js = node.op === "==" ? "===" : node.op === "!=" ? "!==" : node.op;
  const form = a.num && b.num ? numSource : bigSource;
  return bool((g) => `(${form(a, g)} ${js} ${form(b, g)})`);
};

/** `and`, `or`, `==b`, `!=b`: JavaScript's operator on both booleans. */
function logical(js: string): OperatorCompiler {
  return (node, ctx) => {
    const x = compileBool(node.left, ctx);
    const y = compileBool(node.right, ctx);
    return bool((g) => `(${x.code(g)} ${js} ${y.code(g)})`);
  };
}

const not: OperatorCompiler = (node, ctx) => {
  const x = compileBool(node.right, ctx);
  return bool((g) => `!${x.code(g)}`);
};

function headerEquality(equal: boolean): OperatorCompiler {
  return (node, ctx) => {
    const a = asHeader(compileExpr(node.left, ctx), ctx);
    const b = asHeader(compileExpr(node.right, ctx), ctx);
    const layout = ctx.layout;
    return bool(
      (g) =>
        `(${g.ref(sameHeaders)}(p, ${g.ref(layout)}, ${a.code(g)}, ${b.code(g)}) === ${equal})`,
    );
  };
}

function unionEquality(equal: boolean): OperatorCompiler {
  return (node, ctx) => {
    const a = compileExpr(node.left, ctx);
    const b = compileExpr(node.right, ctx);
    if (a.kind !== "union" || b.kind !== "union") fail(ctx, `${node.op} needs two header unions`);
    const layout = ctx.layout;
    return bool(
      (g) => `(${g.ref(sameUnions)}(p, ${g.ref(layout)}, ${a.code(g)}, ${b.code(g)}) === ${equal})`,
    );
  };
}

const valid: OperatorCompiler = (node, ctx) => {
  const header = asHeader(compileExpr(node.right, ctx), ctx);
  return bool((g) => `(V[${header.code(g)}] === 1)`);
};

const validUnion: OperatorCompiler = (node, ctx) => {
  const u = compileExpr(node.right, ctx);
  if (u.kind !== "union") fail(ctx, "valid_union needs a header union");
  const layout = ctx.layout;
  return bool((g) => `${g.ref(unionValid)}(p, ${g.ref(layout)}, ${u.code(g)})`);
};

const conditional: OperatorCompiler = (node, ctx) => {
  const c = compileBool(node.cond, ctx);
  const a = compileExpr(node.left, ctx);
  const b = compileExpr(node.right, ctx);
  if (a.kind === "bool" && b.kind === "bool") {
    return bool((g) => `(${c.code(g)} ? ${a.code(g)} : ${b.code(g)})`);
  }
  const x = asData(a, ctx);
  const y = asData(b, ctx);
  const bits = Math.max(x.bits, y.bits);
  const choose = (form: typeof numSource) => (g: CodeGen) =>
    `(${c.code(g)} ? ${form(x, g)} : ${form(y, g)})`;
  return bits <= MAX_NUMBER_BITS
    ? dataExpr(bits, x.nonneg && y.nonneg, { num: choose(numSource) })
    : dataExpr(bits, x.nonneg && y.nonneg, { big: choose(bigSource) });
};

const dataToBool: OperatorCompiler = (node, ctx) => {
  const a = compileData(node.right, ctx);
  return bool(a.num ? (g) => `(${numSource(a, g)} !== 0)` : (g) => `(${bigSource(a, g)} !== 0n)`);
};

const boolToData: OperatorCompiler = (node, ctx) => {
  const x = compileBool(node.right, ctx);
  return dataExpr(1, true, { num: (g) => `(${x.code(g)} ? 1 : 0)` });
};

/** two_comp_mod, sat_cast, usat_cast to a constant width (the right operand). */
const cast: OperatorCompiler = (node, ctx) => {
  const a = compileData(node.left, ctx);
  const widthExpr = compileData(node.right, ctx);
  if (widthExpr.constant === undefined) fail(ctx, `${node.op} needs a constant width`);
  const width = Number(widthExpr.constant);
  const w = BigInt(width);
  let big: Code;
  if (node.op === "two_comp_mod") {
    big = (g) => `BigInt.asIntN(${width}, ${bigSource(a, g)})`;
  } else {
    const [min, max] =
      node.op === "usat_cast" ? [0n, (1n << w) - 1n] : [-(1n << (w - 1n)), (1n << (w - 1n)) - 1n];
    big = (g) => `${g.ref(saturate)}(${bigSource(a, g)}, ${literal(min)}, ${literal(max)})`;
  }
  return dataExpr(width + 1, node.op === "usat_cast", {
    num: (g) => `Number(${big(g)})`,
    big,
  });
};

/**
 * The element of a stack (its headers, or its unions) at a per-packet index. bmv2 aborts on an
 * out-of-range index; clamping keeps one bad packet from stopping us.
 */
function elementAt(elements: readonly number[], index: DataExpr): Code {
  return (g) =>
    `${g.ref(elements)}[Math.min(Math.max(0, Number(${bigSource(index, g)})), ${elements.length - 1})]`;
}

const dereferenceStack: OperatorCompiler = (node, ctx) => {
  const s = compileExpr(node.left, ctx);
  if (s.kind !== "stack") fail(ctx, `${node.op} needs a header stack`);
  const headers = ctx.layout.stacks[s.stack]?.headers ?? [];
  const code = elementAt(headers, compileData(node.right, ctx));
  return { kind: "header", code, typeOf: headers[0] ?? 0 };
};

const dereferenceUnionStack: OperatorCompiler = (node, ctx) => {
  const s = compileExpr(node.left, ctx);
  if (s.kind !== "union_stack") fail(ctx, `${node.op} needs a header union stack`);
  const unions = ctx.layout.unionStacks[s.stack]?.unions ?? [];
  const code = elementAt(unions, compileData(node.right, ctx));
  return { kind: "union", code, typeOf: unions[0] ?? 0 };
};

const stackSize: OperatorCompiler = (node, ctx) => {
  const s = compileExpr(node.right, ctx);
  if (s.kind !== "stack") fail(ctx, `${node.op} needs a header stack`);
  const next = `p.phv.stackNext[${s.stack}]`;
  if (node.op === "size_stack") return dataExpr(32, true, { num: () => next });
  // bmv2 computes count - 1 in size_t: an empty stack gives 2^64 - 1.
  return dataExpr(64, true, { big: () => `BigInt.asUintN(64, BigInt(${next} - 1))` });
};

const accessField: OperatorCompiler = (node, ctx) => {
  const h = asHeader(compileExpr(node.left, ctx), ctx);
  if (typeof node.right !== "number") fail(ctx, "access_field needs an integer field offset");
  const field = accessedField(h, node.right, ctx);
  return slotExpr(field.slot, field.width, field.signed);
};

const accessUnionHeader: OperatorCompiler = (node, ctx) => {
  const u = asUnion(compileExpr(node.left, ctx), ctx);
  const offset = node.right;
  if (typeof offset !== "number") fail(ctx, "access_union_header needs an integer offset");
  const unions = ctx.layout.unions;
  const typeOf = unions[u.typeOf]?.members[offset]?.header;
  if (typeOf === undefined) fail(ctx, `access_union_header offset ${offset} out of range`);
  if (u.index !== undefined) {
    const index = unions[u.index]?.members[offset]?.header ?? typeOf;
    return { kind: "header", code: () => String(index), index, typeOf };
  }
  // Per packet: the member at `offset` of whichever union the operand gives.
  const members = unions.map((x) => x.members[offset]?.header ?? typeOf);
  return { kind: "header", code: (g) => `${g.ref(members)}[${u.code(g)}]`, typeOf };
};

/** Every operator bmv2 JSON expressions use, by name: one entry each. */
const operators: ReadonlyMap<string, OperatorCompiler> = new Map([
  ["+", arithmetic("+")],
  ["-", arithmetic("-")],
  ["*", arithmetic("*")],
  ["/", division("/")],
  ["%", division("%")],
  ["<<", shift],
  [">>", shift],
  ["&", bitwise],
  ["|", bitwise],
  ["^", bitwise],
  ["~", complement],
  ["==", compare],
  ["!=", compare],
  [">", compare],
  [">=", compare],
  ["<", compare],
  ["<=", compare],
  ["and", logical("&&")],
  ["or", logical("||")],
  ["==b", logical("===")],
  ["!=b", logical("!==")],
  ["not", not],
  ["==h", headerEquality(true)],
  ["!=h", headerEquality(false)],
  ["==u", unionEquality(true)],
  ["!=u", unionEquality(false)],
  ["valid", valid],
  ["valid_union", validUnion],
  ["?", conditional],
  ["d2b", dataToBool],
  ["b2d", boolToData],
  ["two_comp_mod", cast],
  ["sat_cast", cast],
  ["usat_cast", cast],
  ["dereference_stack", dereferenceStack],
  ["dereference_header_stack", dereferenceStack],
  ["dereference_union_stack", dereferenceUnionStack],
  ["size_stack", stackSize],
  ["last_stack_index", stackSize],
  ["access_field", accessField],
  ["access_union_header", accessUnionHeader],
]);

// Helpers the generated code calls where one JavaScript expression does not do.

function quotient(x: number, y: number): number {
  return y === 0 ? 0 : Math.trunc(x / y);
}

function bigQuotient(x: bigint, y: bigint): bigint {
  return y === 0n ? 0n : x / y;
}

function remainder(x: number, y: number): number {
  return y === 0 ? 0 : x % y;
}

function bigRemainder(x: bigint, y: bigint): bigint {
  return y === 0n ? 0n : x % y;
}

function saturate(v: bigint, min: bigint, max: bigint): bigint {
  return v > max ? max : v < min ? min : v;
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

/** The index of a union's valid member, -1 when none is. */
function validMember(p: PacketState, layout: PhvLayout, u: number): number {
  return layout.unions[u]?.members.findIndex((m) => p.phv.valid[m.header] === 1) ?? -1;
}

function unionValid(p: PacketState, layout: PhvLayout, u: number): boolean {
  return validMember(p, layout, u) >= 0;
}

/** bmv2 HeaderUnion::cmp: both valid, the same member valid, and that member equal. */
function sameUnions(p: PacketState, layout: PhvLayout, x: number, y: number): boolean {
  const i = validMember(p, layout, x);
  return (
    i >= 0 &&
    i === validMember(p, layout, y) &&
    sameHeaders(
      p,
      layout,
      layout.unions[x]?.members[i]?.header ?? -1,
      layout.unions[y]?.members[i]?.header ?? -1,
    )
  );
}
