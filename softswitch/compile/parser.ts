/**
 * Compiles the parser (bm_sim parser.cpp) into one generated function (codegen.ts). A parser error stops parsing and is recorded for
 * standard_metadata.parser_error; it does not drop the packet (simple_switch still runs ingress).
 * Headers extracted before the error stay valid; the unparsed bytes become the payload.
 */

import type { HeaderLayout } from "../core/layout.js";
import type { PacketState } from "../core/packet.js";
import { MAX_NUMBER_BITS, parseHexstr, readBits } from "../core/values.js";
import { ProgramError, sourceOf, UnsupportedConstructError } from "../program/errors.js";
import type { ParserOp, ParseState, PrimitiveCall, Transition } from "../program/schema.js";
import { compileBody, storeCode } from "./actions.js";
import { type Code, CodeGen, literal, PHV_PRELUDE } from "./codegen.js";
import {
  asBool,
  bigSource,
  compileData,
  compileExpr,
  type DataExpr,
  dataExpr,
  type ExprContext,
  NO_LOCALS,
  numSource,
} from "./expressions.js";
import { extractCode } from "./headers.js";
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
 * a local (names the states' source uses: `d` the frame, `len` its length, `pos` the cursor,
 * `err` the error code; a fault sets `err` and leaves the loop `S`).
 */
function generateParser(
  states: readonly Code[],
  init: number,
  noError: number,
  verifyChecksums: (p: PacketState) => void,
): (p: PacketState) => void {
  const g = new CodeGen("parser");
  const cases = states.map((state, i) => `case ${i}: {\n${state(g)}}\n`);
  const body = `${PHV_PRELUDE}const l = ${g.ref(NO_LOCALS)};
p.checksumError = false;
const d = p.frame, len = d.length;
let pos = 0, err = ${noError}, s = ${init};
S: while (s >= 0) switch (s) {
${cases.join("")}default: s = -1;
}
p.parserError = err;
p.payloadFrom = d;
p.payloadStart = pos;
${g.ref(verifyChecksums)}(p);
`;
  return g.build<(p: PacketState) => void>("p", body);
}

/** Source recording the parser error `name` and leaving the parse loop. */
type Fault = (name: CoreError) => string;

function compileState(
  spec: ParseState,
  res: Resources,
  stateIndex: Map<string, number>,
  code: (name: CoreError) => number,
  valueSets: Map<string, ValueSet>,
): Code {
  const where = `parse state "${spec.name}"`;
  // Lookahead reads the bits after the cursor as they are when it is evaluated.
  const lookahead = (bitOffset: number, width: number): DataExpr => {
    const read: Code = (g) => `${g.ref(readBits)}(d, pos * 8 + ${bitOffset}, ${width})`;
    return dataExpr(width, true, width <= MAX_NUMBER_BITS ? { num: read } : { big: read });
  };
  const ctx: ExprContext = {
    layout: res.layout,
    where,
    source: sourceOf(spec),
    lookahead,
    registers: res.registers,
  };
  const fault: Fault = (name) => `{ err = ${code(name)}; break S; }`;
  const ops = spec.parser_ops.map((op, i) =>
    opCode(op, { ...ctx, where: `parser op ${i} (${op.op}) in ${where}` }, res, fault),
  );
  const transition = compileTransitions(spec, ctx, stateIndex, valueSets);
  return (g) => ops.map((c) => c(g)).join("") + transition(g);
}

/** Source of a bounds check: at least `bytes` (source) left after the cursor. */
function need(bytes: string | number, fault: Fault): string {
  return `if (len - pos < ${bytes}) ${fault("PacketTooShort")}\n`;
}

/** Source for one parser operation inside the generated parser. */
function opCode(op: ParserOp, ctx: ExprContext, res: Resources, fault: Fault): Code {
  const params = op.parameters as { type?: string; value?: unknown }[];
  switch (op.op) {
    case "extract":
    case "extract_VL": {
      const target = params[0] ?? {};
      const length = op.op === "extract_VL" ? compileData(params[1], ctx) : undefined;
      if (target.type === "regular") {
        const header = res.layout.header(String(target.value), ctx.where);
        if (header.varbitSlot >= 0 || length) {
          return (g) => extractVarying(g, String(header.index), header, length, res, fault);
        }
        const bytes = header.fixedBits >>> 3;
        return (g) =>
          `${need(bytes, fault)}${extractCode(g, header, "d", "pos")}pos += ${bytes};\n`;
      }
      if (target.type === "stack") {
        const stack = res.layout.stack(String(target.value), ctx.where);
        const next = `p.phv.stackNext[${stack.index}]`;
        return extractToStack(stack.headers, next, length, ctx, res, fault);
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
        const next = `p.phv.unionStackNext[${stack.index}]`;
        return extractToStack(headers, next, length, ctx, res, fault);
      }
      throw new UnsupportedConstructError(
        ctx.where,
        `extract to "${target.type}" is not supported`,
        { source: ctx.source },
      );
    }
    case "set": {
      const [dst, src] = params;
      const [h, f] = (dst?.value ?? []) as [string, string];
      const field = res.layout.field(h, f, ctx.where);
      const store = storeCode(field.slot, field.width, compileData(src, ctx));
      if (src?.type !== "lookahead") return store;
      // Setting from a lookahead needs the bytes it reads.
      const bits = (src.value as number[] | undefined)?.[1] ?? 0;
      return (g) => `${need((bits + 7) >>> 3, fault)}${store(g)}`;
    }
    case "verify": {
      const cond = asBool(compileExpr(params[0], ctx), ctx);
      const error = compileData(params[1], ctx);
      return (g) => `if (!${cond.code(g)}) { err = Number(${bigSource(error, g)}); break S; }\n`;
    }
    case "shift":
    case "advance": {
      const inBits = op.op === "advance";
      const raw: unknown = op.parameters[0];
      if (typeof raw === "number") {
        const bytes = inBits ? raw / 8 : raw;
        return () => `${need(bytes, fault)}pos += ${bytes};\n`;
      }
      const amount = compileData(raw, ctx);
      return (g) => {
        const n = g.local("n");
        const bytes = g.local("bytes");
        let out = `const ${n} = Number(${bigSource(amount, g)});\n`;
        if (inBits) out += `if (${n} % 8 !== 0) ${fault("ParserInvalidArgument")}\n`;
        out += `const ${bytes} = ${inBits ? `${n} / 8` : n};\n`;
        return `${out}${need(bytes, fault)}pos += ${bytes};\n`;
      };
    }
    case "primitive": {
      const { code } = compileBody([params[0] as unknown as PrimitiveCall], res, [], ctx.where);
      return (g) => `{\n${code(g)}}\n`;
    }
    default:
      throw new UnsupportedConstructError(
        ctx.where,
        `parser operation "${op.op}" is not supported`,
        { source: ctx.source },
      );
  }
}

/** Extracts into element `next` of a stack (headers in stack order), then advances `next`. */
function extractToStack(
  headers: readonly number[],
  next: string,
  length: DataExpr | undefined,
  ctx: ExprContext,
  res: Resources,
  fault: Fault,
): Code {
  const first = res.layout.headers[headers[0] ?? -1];
  if (!first) throw new ProgramError(ctx.where, "empty stack");
  return (g) => {
    const i = g.local("i");
    const into = extractVarying(g, `${g.ref(headers)}[${i}]`, first, length, res, fault);
    return `{\nconst ${i} = ${next};\nif (${i} >= ${headers.length}) ${fault("StackOutOfBounds")}\n${into}${next} = ${i} + 1;\n}\n`;
  };
}

/**
 * Source extracting through the header's codec the header whose index `header` gives (all
 * candidates of the type of `type`), with a varbit field as long as `length` (bits) says.
 */
function extractVarying(
  g: CodeGen,
  header: string,
  type: HeaderLayout,
  length: DataExpr | undefined,
  res: Resources,
  fault: Fault,
): string {
  const bytes = g.local("bytes");
  let out = "";
  let varbits = "0";
  if (length) {
    varbits = g.local("varbits");
    out += `const ${varbits} = Number(${bigSource(length, g)});\n`;
    out += `if (${varbits} % 8 !== 0) ${fault("ParserInvalidArgument")}\n`;
  }
  out += `const ${bytes} = ${type.fixedBits >>> 3} + ${varbits} / 8;\n${need(bytes, fault)}`;
  if (length && type.maxBytes !== 0) {
    out += `if (${type.maxBytes} < ${bytes}) ${fault("HeaderTooShort")}\n`;
  }
  return `${out}${g.ref(res.codecs)}[${header}].extract(p.phv, d, pos, ${varbits});\npos += ${bytes};\n`;
}

/** Source matching the transition key (byte-padded fields concatenated) against the transitions. */
function compileTransitions(
  spec: ParseState,
  ctx: ExprContext,
  stateIndex: Map<string, number>,
  valueSets: Map<string, ValueSet>,
): Code {
  const target = (t: Transition) =>
    t.next_state === null ? -1 : (stateIndex.get(t.next_state) as number);
  if (spec.transition_key.length === 0) {
    const fallback = spec.transitions.find(
      (t) => (t.type ?? "default") === "default" || t.value === "default",
    );
    const to = fallback ? target(fallback) : -1;
    return () => `s = ${to}; continue S;\n`;
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
        { source: ctx.source },
      );
    }
    return { expr, shift: ((width + 7) >>> 3) * 8 };
  });
  const numberKey = compileNumberTransitions(spec, parts, target);
  if (numberKey) return numberKey;
  return (g) => {
    const k = g.local("key");
    const key = parts.reduce(
      (acc, part) =>
        `((${acc} << ${part.shift}n) | BigInt.asUintN(${part.shift}, ${bigSource(part.expr, g)}))`,
      "0n",
    );
    let out = `const ${k} = ${key};\n`;
    for (const t of spec.transitions) {
      const to = target(t);
      const go = `{ s = ${to}; continue S; }\n`;
      const mask = t.mask ? parseHexstr(t.mask) : undefined;
      if (t.type === "parse_vset") {
        const set = g.ref(valueSets.get(String(t.value)));
        const m = mask === undefined ? "undefined" : literal(mask);
        out += `if (${g.ref(inValueSet)}(${set}, ${k}, ${m})) ${go}`;
      } else if (t.type === "default" || t.value === "default" || t.value === null) {
        return `${out}${go}`; // later transitions are unreachable
      } else {
        const value = parseHexstr(t.value);
        out +=
          mask === undefined
            ? `if (${k} === ${literal(value)}) ${go}`
            : `if ((${k} & ${literal(mask)}) === ${literal(value & mask)}) ${go}`;
      }
    }
    return `${out}s = -1; continue S;\n`;
  };
}

/** Whether a value set holds the key (both under the transition's mask, when it has one). */
function inValueSet(set: ValueSet, key: bigint, mask: bigint | undefined): boolean {
  for (const v of set.values) {
    if (mask === undefined ? v === key : (v & mask) === (key & mask)) return true;
  }
  return false;
}

/**
 * The common case done without BigInt: every part of the key is a plain unsigned number of at
 * most 32 bits (EtherType, IP protocol, flags...). Each transition's value and mask are split
 * per part at load and compared part by part with int32 bit operations. Undefined when a part is
 * wider or signed, or a value set takes part.
 */
function compileNumberTransitions(
  spec: ParseState,
  parts: { expr: DataExpr; shift: number }[],
  target: (t: Transition) => number,
): Code | undefined {
  const widths = parts.map((part) => part.shift);
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
  return (g) => {
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
}
