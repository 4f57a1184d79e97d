/**
 * Compiles the parser (bm_sim parser.cpp). A parser error stops parsing and is recorded for
 * standard_metadata.parser_error; it does not drop the packet (simple_switch still runs ingress).
 * Headers extracted before the error stay valid; the unparsed bytes become the payload.
 */

import type { FieldSlot } from "../core/layout.js";
import { type PacketState, writeSlot } from "../core/packet.js";
import {
  type FieldValue,
  MAX_NUMBER_BITS,
  parseHexstr,
  readBits,
  truncate,
} from "../core/values.js";
import { ProgramError, sourceOf, UnsupportedConstructError } from "../program/errors.js";
import type { ParserOp, ParseState, PrimitiveCall, Transition } from "../program/schema.js";
import { compileBody, compilePrimitives, storeCode } from "./actions.js";
import { type Code, CodeGen, PHV_PRELUDE } from "./codegen.js";
import {
  asBool,
  type BoolFn,
  bigSource,
  boolSource,
  compileBool,
  compileData,
  compileExpr,
  type DataExpr,
  dataExpr,
  type ExprContext,
  NO_LOCALS,
  type NumFn,
  numSource,
} from "./expressions.js";
import { extractCode, type HeaderCodec } from "./headers.js";
import type { Resources } from "./resources.js";

/** bmv2's core parser errors, added after the program's own when the program lacks them. */
const CORE_ERRORS = [
  "NoError",
  "PacketTooShort",
  "NoMatch",
  "StackOutOfBounds",
  "HeaderTooShort",
  "ParserTimeout",
  "ParserInvalidArgument",
] as const;
type CoreError = (typeof CORE_ERRORS)[number];

/** Thrown inside the compiled parser only; carries the error code to record. */
class ParseFault {
  constructor(readonly code: number) {}
}

interface Cursor {
  data: Uint8Array;
  pos: number;
}

type Op = (p: PacketState, c: Cursor) => void;

/** Parse value sets: keys in the transition-key format (byte-padded fields), set by the control plane. */
export class ValueSet {
  readonly values = new Set<bigint>();
  constructor(
    readonly name: string,
    readonly bitwidth: number,
  ) {}
}

export interface CompiledParser {
  parse(p: PacketState): void;
  errorCodes: ReadonlyMap<string, number>;
  valueSets: ReadonlyMap<string, ValueSet>;
}

interface CompiledState {
  ops: Op[];
  /** Returns the next state index, or -1 to accept. */
  next: (p: PacketState, c: Cursor) => number;
  /** The state as source of the generated parser, when every operation has one. */
  code?: Code;
}

export function errorCodeMap(res: Resources): Map<string, number> {
  const codes = new Map(res.program.errors);
  let next = codes.size === 0 ? 0 : Math.max(...codes.values()) + 1;
  for (const name of CORE_ERRORS) if (!codes.has(name)) codes.set(name, next++);
  return codes;
}

export function compileParser(
  res: Resources,
  verifyChecksums: (p: PacketState) => void,
): CompiledParser {
  const spec = res.program.spec.parsers.find((x) => x.name === "parser");
  if (!spec) throw new ProgramError('parser "parser"', "missing");
  const codes = errorCodeMap(res);
  const code = (name: CoreError) => codes.get(name) as number;
  const valueSets = new Map<string, ValueSet>();
  for (const v of res.program.parseVsets.values())
    valueSets.set(v.name, new ValueSet(v.name, v.bitwidth));
  const stateIndex = new Map(spec.parse_states.map((s, i) => [s.name, i]));
  const states = spec.parse_states.map((s) => compileState(s, res, stateIndex, code, valueSets));
  const init = stateIndex.get(spec.init_state) as number;
  const noError = code("NoError");
  return {
    errorCodes: codes,
    valueSets,
    parse: generateParser(states, init, noError, verifyChecksums),
  };
}

/**
 * The parser as one generated function: a loop over a switch on the state, with the cursor in
 * a local. A state without source runs its closures on a cursor object, which may throw a
 * ParseFault as before.
 */
function generateParser(
  states: readonly CompiledState[],
  init: number,
  noError: number,
  verifyChecksums: (p: PacketState) => void,
): (p: PacketState) => void {
  const g = new CodeGen("parser");
  const cases = states.map((state, i) => {
    if (state.code) return `case ${i}: {\n${state.code(g)}}\n`;
    const run = (p: PacketState, c: Cursor) => {
      for (let k = 0; k < state.ops.length; k++) (state.ops[k] as Op)(p, c);
      return state.next(p, c);
    };
    return `case ${i}: {\nif (c === null) c = { data: d, pos: 0 };\nc.pos = pos;\ns = ${g.ref(run)}(p, c);\npos = c.pos;\ncontinue S;\n}\n`;
  });
  const body = `${PHV_PRELUDE}const l = ${g.ref(NO_LOCALS)};
p.checksumError = false;
const d = p.frame, len = d.length;
let pos = 0, err = ${noError}, s = ${init}, c = null;
try {
S: while (s >= 0) switch (s) {
${cases.join("")}default: s = -1;
}
} catch (fault) {
if (!(fault instanceof ${g.ref(ParseFault)})) throw fault;
err = fault.code;
if (c !== null) pos = c.pos;
}
p.parserError = err;
p.payloadFrom = d;
p.payloadStart = pos;
${g.ref(verifyChecksums)}(p);
`;
  return g.build<(p: PacketState) => void>("p", body);
}

function compileState(
  spec: ParseState,
  res: Resources,
  stateIndex: Map<string, number>,
  code: (name: CoreError) => number,
  valueSets: Map<string, ValueSet>,
): CompiledState {
  const where = `parse state "${spec.name}"`;
  // Lookahead reads relative to the cursor of the running state; bound at each call.
  let current: Cursor = { data: new Uint8Array(0), pos: 0 };
  const lookahead = (bitOffset: number, width: number): DataExpr => {
    const read = () => readBits(current.data, current.pos * 8 + bitOffset, width);
    return width <= MAX_NUMBER_BITS
      ? dataExpr(width, true, () => read() as number, undefined)
      : dataExpr(width, true, undefined, () => read() as bigint);
  };
  const ctx: ExprContext = {
    layout: res.layout,
    where,
    source: sourceOf(spec),
    lookahead,
    registerReader: (name) => {
      const reg = res.registers.get(name);
      if (!reg) throw new ProgramError(where, `unknown register array "${name}"`);
      return { width: reg.width, read: (i) => reg.read(i) };
    },
  };
  const ops = spec.parser_ops.map((op, i) =>
    compileOp(op, { ...ctx, where: `parser op ${i} (${op.op}) in ${where}` }, res, code),
  );
  const bind: Op = (_p, c) => {
    current = c;
  };
  const transitions = compileTransitions(spec, ctx, stateIndex, valueSets);
  const next = transitions.next;
  const state: CompiledState = {
    ops: [bind, ...ops],
    next: (p, c) => {
      current = c;
      return next(p, c);
    },
  };
  // Lookahead reads the cursor through `current`, which generated code does not keep: a state
  // using it runs as closures.
  if (transitions.code && !JSON.stringify(spec).includes('"lookahead"')) {
    const opCodes = spec.parser_ops.map((op, i) =>
      opCode(op, { ...ctx, where: `parser op ${i} (${op.op}) in ${where}` }, res, code),
    );
    if (opCodes.every((c) => c !== undefined)) {
      const transition = transitions.code;
      state.code = (g) => opCodes.map((c) => (c as Code)(g)).join("") + transition(g);
    }
  }
  return state;
}

/**
 * Source for a parser operation inside the generated parser (names: `d` the frame, `len` its
 * length, `pos` the cursor, `err` the error code; a fault sets `err` and leaves the loop `S`).
 * Undefined for operations that run as closures.
 */
function opCode(
  op: ParserOp,
  ctx: ExprContext,
  res: Resources,
  code: (name: CoreError) => number,
): Code | undefined {
  const params = op.parameters as { type?: string; value?: unknown }[];
  const tooShort = code("PacketTooShort");
  const need = (bytes: number) => `if (len - pos < ${bytes}) { err = ${tooShort}; break S; }\n`;
  switch (op.op) {
    case "extract": {
      const target = params[0] ?? {};
      if (target.type !== "regular") return undefined;
      const header = res.layout.header(String(target.value), ctx.where);
      if (header.varbitSlot >= 0) return undefined;
      const bytes = header.fixedBits >>> 3;
      return (g) => `${need(bytes)}${extractCode(g, header, "d", "pos")}pos += ${bytes};\n`;
    }
    case "set": {
      const [dst, src] = params;
      const [h, f] = (dst?.value ?? []) as [string, string];
      const field = res.layout.field(h, f, ctx.where);
      return storeCode(field.slot, field.width, compileData(src, ctx));
    }
    case "verify": {
      const cond = asBool(compileExpr(params[0], ctx), ctx);
      const error = compileData(params[1], ctx);
      return (g) =>
        `if (!${boolSource(cond, g)}) { err = Number(${bigSource(error, g)}); break S; }\n`;
    }
    case "shift":
    case "advance": {
      const raw: unknown = op.parameters[0];
      if (typeof raw !== "number") return undefined;
      const bytes = op.op === "advance" ? raw / 8 : raw;
      return () => `${need(bytes)}pos += ${bytes};\n`;
    }
    case "primitive": {
      const { code } = compileBody([params[0] as unknown as PrimitiveCall], res, [], ctx.where);
      return (g) => `{\n${code(g)}}\n`;
    }
    default:
      return undefined;
  }
}

function compileOp(
  op: ParserOp,
  ctx: ExprContext,
  res: Resources,
  code: (name: CoreError) => number,
): Op {
  const params = op.parameters as { type?: string; value?: unknown }[];
  const tooShort = code("PacketTooShort");
  const lengthExpr = op.op === "extract_VL" ? compileData(params[1], ctx).big : undefined;
  /** Extracts into element `next` of a stack (headers in stack order), then advances `next`. */
  const extractToStack = (
    headers: readonly number[],
    counters: (p: PacketState) => Int32Array,
    index: number,
  ): Op => {
    const first = res.layout.headers[headers[0] ?? -1];
    if (!first) throw new ProgramError(ctx.where, "empty stack");
    const outOfBounds = code("StackOutOfBounds");
    const inner = extractInto(
      (p) => headers[counters(p)[index] as number] as number,
      undefined,
      first.fixedBits,
      first.maxBytes,
      lengthExpr,
      code,
      res.codecs,
    );
    return (p, c) => {
      const next = counters(p);
      if ((next[index] as number) >= headers.length) throw new ParseFault(outOfBounds);
      inner(p, c);
      next[index] = (next[index] as number) + 1;
    };
  };
  switch (op.op) {
    case "extract":
    case "extract_VL": {
      const target = params[0] ?? {};
      if (target.type === "regular") {
        const header = res.layout.header(String(target.value), ctx.where);
        const codec = res.codecs[header.index] as HeaderCodec;
        return extractInto(
          () => header.index,
          codec,
          header.fixedBits,
          header.maxBytes,
          lengthExpr,
          code,
        );
      }
      if (target.type === "stack") {
        const stack = res.layout.stack(String(target.value), ctx.where);
        return extractToStack(stack.headers, (p) => p.phv.stackNext, stack.index);
      }
      if (target.type === "union_stack") {
        // [union stack, member]: the member of the stack's next union (bmv2 ParserOpExtractUnionStack).
        const [stackName, member] = (target.value ?? []) as [string, string];
        const stack = res.layout.unionStack(String(stackName), ctx.where);
        const unions = stack.unions.map((u) => res.layout.unions[u]);
        const offset = unions[0]?.members.findIndex((m) => m.name === member) ?? -1;
        if (offset < 0) {
          throw new ProgramError(ctx.where, `union stack "${stackName}" has no member "${member}"`);
        }
        const headers = unions.map((u) => u?.members[offset]?.header ?? -1);
        return extractToStack(headers, (p) => p.phv.unionStackNext, stack.index);
      }
      throw new UnsupportedConstructError(
        ctx.where,
        `extract to "${target.type}" is not supported`,
        {
          source: ctx.source,
        },
      );
    }
    case "set": {
      const [dst, src] = params;
      const [h, f] = (dst?.value ?? []) as [string, string];
      const field: FieldSlot = res.layout.field(h, f, ctx.where);
      const value = compileData(src, ctx);
      const isLookahead = src?.type === "lookahead";
      const lookaheadBits = isLookahead ? ((src?.value as number[] | undefined)?.[1] ?? 0) : 0;
      const nbytes = (lookaheadBits + 7) >>> 3;
      const w = field.width;
      const slot = field.slot;
      const big = value.big;
      return (p, c) => {
        if (isLookahead && c.data.length - c.pos < nbytes) throw new ParseFault(tooShort);
        writeSlot(p.phv, slot, w, truncate(big(p, NO_LOCALS), w));
      };
    }
    case "verify": {
      const cond: BoolFn = compileBool(params[0], ctx);
      const error = compileData(params[1], ctx).big;
      return (p) => {
        if (!cond(p, NO_LOCALS)) throw new ParseFault(Number(error(p, NO_LOCALS)));
      };
    }
    case "shift":
    case "advance": {
      const invalid = code("ParserInvalidArgument");
      const inBits = op.op === "advance";
      const raw: unknown = op.parameters[0];
      if (typeof raw === "number") {
        const bytes = inBits ? raw / 8 : raw;
        return (_p, c) => {
          if (c.data.length - c.pos < bytes) throw new ParseFault(tooShort);
          c.pos += bytes;
        };
      }
      const amount = compileData(raw, ctx).big;
      return (p, c) => {
        const n = Number(amount(p, NO_LOCALS));
        if (inBits && n % 8 !== 0) throw new ParseFault(invalid);
        const bytes = inBits ? n / 8 : n;
        if (c.data.length - c.pos < bytes) throw new ParseFault(tooShort);
        c.pos += bytes;
      };
    }
    case "primitive": {
      const call = params[0] as unknown as PrimitiveCall;
      const run = compilePrimitives([call], res, [], ctx.where);
      return (p) => run(p, NO_LOCALS);
    }
    default:
      throw new UnsupportedConstructError(
        ctx.where,
        `parser operation "${op.op}" is not supported`,
        {
          source: ctx.source,
        },
      );
  }
}

/** Extracts into a header chosen per packet (a fixed header, or the next stack element). */
function extractInto(
  headerOf: (p: PacketState) => number,
  fixedCodec: HeaderCodec | undefined,
  fixedBits: number,
  maxBytes: number,
  lengthExpr: ((p: PacketState, l: readonly FieldValue[]) => bigint) | undefined,
  code: (name: CoreError) => number,
  codecs?: readonly HeaderCodec[],
): Op {
  const tooShort = code("PacketTooShort");
  const headerTooShort = code("HeaderTooShort");
  const invalid = code("ParserInvalidArgument");
  const fixedBytes = fixedBits >>> 3;
  return (p, c) => {
    const index = headerOf(p);
    const codec = fixedCodec ?? (codecs?.[index] as HeaderCodec);
    let varbits = 0;
    if (lengthExpr) {
      varbits = Number(lengthExpr(p, NO_LOCALS));
      if (varbits % 8 !== 0) throw new ParseFault(invalid);
    }
    const bytes = fixedBytes + varbits / 8;
    if (c.data.length - c.pos < bytes) throw new ParseFault(tooShort);
    if (lengthExpr && maxBytes !== 0 && maxBytes < bytes) throw new ParseFault(headerTooShort);
    codec.extract(p.phv, c.data, c.pos, varbits);
    c.pos += bytes;
  };
}

/** Builds the transition key (byte-padded fields concatenated) and matches the transitions. */
function compileTransitions(
  spec: ParseState,
  ctx: ExprContext,
  stateIndex: Map<string, number>,
  valueSets: Map<string, ValueSet>,
): Transitions {
  const target = (t: Transition) =>
    t.next_state === null ? -1 : (stateIndex.get(t.next_state) as number);
  if (spec.transition_key.length === 0) {
    const fallback = spec.transitions.find(
      (t) => (t.type ?? "default") === "default" || t.value === "default",
    );
    const to = fallback ? target(fallback) : -1;
    return { next: () => to, code: () => `s = ${to}; continue S;\n` };
  }
  const parts = spec.transition_key.map((k) => {
    const expr = compileData(k, ctx);
    let width: number;
    if (k.type === "lookahead") width = (k.value as number[])[1] ?? 0;
    else if (k.type === "field" || k.type === "stack_field" || k.type === "union_stack_field") {
      width = expr.bits;
    } else {
      throw new UnsupportedConstructError(
        ctx.where,
        `transition key of type "${k.type}" is not supported`,
        {
          source: ctx.source,
        },
      );
    }
    return { expr, shift: BigInt(((width + 7) >>> 3) * 8) };
  });
  const numberKey = compileNumberTransitions(spec, parts, target);
  if (numberKey) return numberKey;
  const key = (p: PacketState): bigint => {
    let acc = 0n;
    for (const part of parts)
      acc = (acc << part.shift) | BigInt.asUintN(Number(part.shift), part.expr.big(p, NO_LOCALS));
    return acc;
  };
  const cases = spec.transitions.map((t) => {
    const to = target(t);
    const mask = t.mask ? parseHexstr(t.mask) : undefined;
    if (t.type === "parse_vset") {
      const set = valueSets.get(String(t.value)) as ValueSet;
      return (k: bigint) => {
        for (const v of set.values)
          if ((mask === undefined ? v : v & mask) === (mask === undefined ? k : k & mask))
            return to;
        return undefined;
      };
    }
    if (t.type === "default" || t.value === "default" || t.value === null) return () => to;
    const value = parseHexstr(t.value);
    if (mask === undefined) return (k: bigint) => (k === value ? to : undefined);
    const masked = value & mask;
    return (k: bigint) => ((k & mask) === masked ? to : undefined);
  });
  return {
    next: (p) => {
      const k = key(p);
      for (const c of cases) {
        const to = c(k);
        if (to !== undefined) return to;
      }
      return -1;
    },
  };
}

/** A state's transition function, and its source when it has one (codegen.ts). */
interface Transitions {
  next: (p: PacketState, c: Cursor) => number;
  /** Sets `s` to the next state and continues the loop `S` of the generated parser. */
  code?: Code;
}

/**
 * The common case done without BigInt: every part of the key is a plain unsigned number of at
 * most 32 bits (EtherType, IP protocol, flags...). Each transition's value and mask are split
 * per part at load and compared part by part with int32 bit operations. Undefined when a part is
 * wider or signed, or a value set takes part.
 */
function compileNumberTransitions(
  spec: ParseState,
  parts: { expr: ReturnType<typeof compileData>; shift: bigint }[],
  target: (t: Transition) => number,
): Transitions | undefined {
  const widths = parts.map((part) => Number(part.shift));
  if (
    parts.some(
      (part, i) =>
        !part.expr.num ||
        !part.expr.nonneg ||
        part.expr.bits > (widths[i] as number) ||
        (widths[i] as number) > 32,
    )
  ) {
    return undefined;
  }
  if (spec.transitions.some((t) => t.type === "parse_vset")) return undefined;
  const nums = parts.map((part) => part.expr.num as NumFn);
  const totalBits = widths.reduce((n, w) => n + w, 0);
  const limit = 1n << BigInt(totalBits);
  /** Per transition: for each part, its mask and masked value (int32 masks). */
  const cases: { masks: number[]; values: number[]; to: number }[] = [];
  let fallback = -1;
  for (const t of spec.transitions) {
    if (t.type === "default" || t.value === "default" || t.value === null) {
      fallback = target(t);
      break; // later transitions are unreachable, as in the BigInt path
    }
    const value = parseHexstr(t.value);
    const mask = t.mask ? parseHexstr(t.mask) : limit - 1n;
    // A value wider than the key never equals it (the BigInt path compares exactly).
    if (value < 0n || value >= limit || mask < 0n) continue;
    const masks: number[] = [];
    const values: number[] = [];
    let offset = totalBits;
    for (const w of widths) {
      offset -= w;
      const m = Number(BigInt.asUintN(w, mask >> BigInt(offset))) | 0;
      masks.push(m);
      values.push((Number(BigInt.asUintN(w, value >> BigInt(offset))) & m) >>> 0);
    }
    cases.push({ masks, values, to: target(t) });
  }
  const next = (p: PacketState) => {
    const key = nums.map((num) => num(p, NO_LOCALS));
    for (const c of cases) {
      if (key.every((k, i) => (k & (c.masks[i] as number)) >>> 0 === c.values[i])) return c.to;
    }
    return fallback;
  };
  const code: Code = (g) => {
    const keys = parts.map(() => g.local("k"));
    let out = parts.map((part, i) => `const ${keys[i]} = ${numSource(part.expr, g)};\n`).join("");
    for (const c of cases) {
      const tests = keys
        .map((k, i) => ({ k, m: c.masks[i] as number, v: c.values[i] as number }))
        .filter((x) => x.m !== 0)
        .map((x) => `(${x.k} & ${x.m}) >>> 0 === ${x.v}`);
      out += `if (${tests.join(" && ") || "true"}) { s = ${c.to}; continue S; }\n`;
    }
    return `${out}s = ${fallback}; continue S;\n`;
  };
  return { next, code };
}
