/**
 * Compiles the parser (bm_sim parser.cpp). A parser error stops parsing and is recorded for
 * standard_metadata.parser_error; it does not drop the packet (simple_switch still runs ingress).
 * Headers extracted before the error stay valid; the unparsed bytes become the payload.
 */
import { ProgramError, sourceOf, UnsupportedConstructError } from "../program/errors.js";
import type { ParserOp, ParseState, PrimitiveCall, Transition } from "../program/schema.js";
import { compilePrimitives } from "./actions.js";
import {
  type BoolFn,
  compileBool,
  compileData,
  type DataExpr,
  dataExpr,
  type ExprContext,
  NO_LOCALS,
  type NumFn,
} from "./expressions.js";
import type { HeaderCodec } from "./headers.js";
import type { FieldSlot } from "./layout.js";
import type { PacketState } from "./packet.js";
import type { Resources } from "./resources.js";
import { type FieldValue, MAX_NUMBER_BITS, parseHexstr, readBits, truncate } from "./values.js";

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
    parse(p) {
      p.parserError = noError;
      p.checksumError = false;
      const cursor: Cursor = { data: p.frame, pos: 0 };
      let state = init;
      try {
        while (state >= 0) {
          const s = states[state] as CompiledState;
          for (let i = 0; i < s.ops.length; i++) (s.ops[i] as Op)(p, cursor);
          state = s.next(p, cursor);
        }
      } catch (fault) {
        if (!(fault instanceof ParseFault)) throw fault;
        p.parserError = fault.code;
      }
      p.payload = p.frame.subarray(cursor.pos);
      verifyChecksums(p);
    },
  };
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
  const next = compileTransitions(spec, ctx, stateIndex, valueSets);
  return {
    ops: [bind, ...ops],
    next: (p, c) => {
      current = c;
      return next(p, c);
    },
  };
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
        p.phv.values[slot] = truncate(big(p, NO_LOCALS), w);
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
): (p: PacketState, c: Cursor) => number {
  const target = (t: Transition) =>
    t.next_state === null ? -1 : (stateIndex.get(t.next_state) as number);
  if (spec.transition_key.length === 0) {
    const fallback = spec.transitions.find(
      (t) => (t.type ?? "default") === "default" || t.value === "default",
    );
    const to = fallback ? target(fallback) : -1;
    return () => to;
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
  return (p) => {
    const k = key(p);
    for (const c of cases) {
      const to = c(k);
      if (to !== undefined) return to;
    }
    return -1;
  };
}

/**
 * The common case done without BigInt: a key of at most 32 bits whose parts are plain unsigned
 * numbers (EtherType, IP protocol, GRE flags...), matched against constants with int32 bit
 * operations. Undefined when the key is wider, or a value set or signed part takes part.
 */
function compileNumberTransitions(
  spec: ParseState,
  parts: { expr: ReturnType<typeof compileData>; shift: bigint }[],
  target: (t: Transition) => number,
): ((p: PacketState, c: Cursor) => number) | undefined {
  const totalBits = parts.reduce((n, part) => n + Number(part.shift), 0);
  if (totalBits > 32) return undefined;
  if (
    parts.some((part) => !part.expr.num || !part.expr.nonneg || part.expr.bits > Number(part.shift))
  ) {
    return undefined;
  }
  if (spec.transitions.some((t) => t.type === "parse_vset")) return undefined;
  const nums = parts.map((part) => part.expr.num as NonNullable<typeof part.expr.num>);
  const shifts = parts.map((part) => Number(part.shift));
  const limit = 2 ** totalBits;
  const values: number[] = [];
  const masks: number[] = [];
  const targets: number[] = [];
  let fallback = -1;
  for (const t of spec.transitions) {
    if (t.type === "default" || t.value === "default" || t.value === null) {
      fallback = target(t);
      break; // later transitions are unreachable, as in the BigInt path
    }
    const value = parseHexstr(t.value);
    const mask = t.mask ? parseHexstr(t.mask) : BigInt(limit - 1);
    // A value or mask wider than the key never equals it (the BigInt path compares exactly).
    if (value < 0n || value >= BigInt(limit) || mask < 0n) continue;
    const m = Number(BigInt.asUintN(32, mask)) | 0;
    values.push((Number(value) & m) >>> 0);
    masks.push(m);
    targets.push(target(t));
  }
  return (p) => {
    let k = 0;
    for (let i = 0; i < nums.length; i++) {
      const shift = shifts[i] as number;
      k = (shift === 32 ? 0 : k << shift) | (nums[i] as NumFn)(p, NO_LOCALS);
    }
    k >>>= 0;
    for (let i = 0; i < values.length; i++) {
      if ((k & (masks[i] as number)) >>> 0 === values[i]) return targets[i] as number;
    }
    return fallback;
  };
}
