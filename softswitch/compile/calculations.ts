/**
 * Named calculations and selector inputs: the bytes bmv2's BufBuilder feeds a hash
 * (calculations.cpp). Fields are packed bit by bit with no padding between them (fields of invalid
 * headers are skipped), constants take their declared bitwidth, whole headers are appended at a
 * byte boundary, `payload` appends the unparsed bytes; the last byte is zero-padded on the right.
 */

import { Hasher, isSupportedAlgorithm } from "../core/hash.js";
import type { PhvLayout } from "../core/layout.js";
import type { PacketState } from "../core/packet.js";
import { type FieldValue, parseHexstr, truncate, writeBits } from "../core/values.js";
import { ProgramError, sourceOf, UnsupportedConstructError } from "../program/errors.js";
import type { CalculationSpec } from "../program/schema.js";
import { CodeGen, literal, PHV_PRELUDE, slotSource } from "./codegen.js";
import { type HeaderCodec, type PackItem, packCode } from "./headers.js";

type Entry =
  /** A varbit field contributes its current length (bmv2 Field::get_nbits). */
  | { kind: "field"; header: number; slot: number; width: number; varbit: boolean }
  | { kind: "constant"; value: FieldValue; width: number }
  | { kind: "header"; header: number };

export type ByteBuilder = (p: PacketState) => Uint8Array;

export interface BuilderContext {
  layout: PhvLayout;
  codecs: readonly HeaderCodec[];
  where: string;
  source?: string;
}

/** Compiles a list of `{type, value}` inputs into a byte builder. */
export function compileByteBuilder(inputs: readonly unknown[], ctx: BuilderContext): ByteBuilder {
  const entries: Entry[] = [];
  let withPayload = false;
  for (const input of inputs) {
    const { type, value, bitwidth } = input as { type: string; value: unknown; bitwidth?: number };
    if (type === "field") {
      const [h, f] = value as [string, string];
      const field = ctx.layout.field(h, f, ctx.where);
      entries.push({
        kind: "field",
        header: field.header,
        slot: field.slot,
        width: field.width,
        varbit: field.varbit,
      });
    } else if (type === "hexstr") {
      if (typeof bitwidth !== "number") {
        throw new ProgramError(ctx.where, "hexstr input without bitwidth", { source: ctx.source });
      }
      entries.push({
        kind: "constant",
        value: truncate(parseHexstr(String(value)), bitwidth),
        width: bitwidth,
      });
    } else if (type === "header") {
      entries.push({ kind: "header", header: ctx.layout.header(String(value), ctx.where).index });
    } else if (type === "payload") {
      withPayload = true;
    } else {
      throw new UnsupportedConstructError(ctx.where, `input type "${type}" is not supported`, {
        source: ctx.source,
      });
    }
  }
  // Generated code (codegen.ts): the inputs at running offsets in a new buffer, and in front
  // of that, for the usual inputs, at constant offsets in a reused buffer while that fits (a
  // function of its own, small enough for V8 to inline where the hash is taken).
  const g = new CodeGen("hash_input");
  const general = g.build<ByteBuilder>(
    "p",
    PHV_PRELUDE + built(g, entries, withPayload, ctx.codecs),
  );
  if (withPayload) return general;
  const packed = new CodeGen("hash_input_packed");
  const code = packedWhenValid(packed, entries, packed.ref(general));
  return code === undefined ? general : packed.build<ByteBuilder>("p", PHV_PRELUDE + code);
}

/**
 * Source returning the input in a new buffer, each item at the offset the ones before it leave:
 * fields and headers of invalid headers are skipped, a varbit field takes its current length.
 */
function built(
  g: CodeGen,
  entries: readonly Entry[],
  withPayload: boolean,
  codecs: readonly HeaderCodec[],
): string {
  let size = "let bits = 0;\n";
  let write = "let at = 0;\n";
  const bitWriter = g.ref(writeBits);
  for (const e of entries) {
    if (e.kind === "constant") {
      size += `bits += ${e.width};\n`;
      write += `${bitWriter}(out, at, ${e.width}, ${literal(e.value)});\nat += ${e.width};\n`;
      continue;
    }
    const ifValid = `if (V[${e.header}] === 1)`;
    if (e.kind === "field") {
      const width = e.varbit ? `p.phv.varbitBits[${e.header}]` : String(e.width);
      size += `${ifValid} bits += ${width};\n`;
      const value = slotSource(e.slot, e.width);
      write += `${ifValid} { ${bitWriter}(out, at, ${width}, ${value}); at += ${width}; }\n`;
      continue;
    }
    const codec = g.ref(codecs[e.header]);
    size += `${ifValid} bits += ${codec}.byteLength(p.phv) * 8;\n`;
    write += `${ifValid} { ${codec}.emitBits(p.phv, out, at); at += ${codec}.byteLength(p.phv) * 8; }\n`;
  }
  const payload = withPayload ? " + p.payload.length" : "";
  const allocate = `const headerBytes = (bits + 7) >>> 3;\nconst out = new Uint8Array(headerBytes${payload});\n`;
  const tail = withPayload ? "out.set(p.payload, headerBytes);\n" : "";
  return `${size}${allocate}${write}${tail}return out;\n`;
}

/**
 * The usual input, fields of fixed width and constants: while every header they come from is
 * valid, the bytes are packed at constant offsets into one buffer reused from packet to packet
 * (a hash reads it at once and keeps nothing); the `general` builder (source) otherwise.
 * Undefined for inputs with whole headers or varbit fields.
 */
function packedWhenValid(
  g: CodeGen,
  entries: readonly Entry[],
  general: string,
): string | undefined {
  const items: PackItem[] = [];
  const headers = new Set<number>();
  for (const e of entries) {
    if (e.kind === "header" || (e.kind === "field" && e.varbit)) return undefined;
    if (e.kind === "field") {
      headers.add(e.header);
      items.push({ width: e.width, src: slotSource(e.slot, e.width), slot: e.slot });
    } else items.push({ width: e.width, src: literal(e.value), slot: -1 });
  }
  const bits = items.reduce((n, item) => n + item.width, 0);
  const scratch = new Uint8Array((bits + 7) >>> 3);
  const valid = [...headers].map((h) => `V[${h}] === 1`).join(" && ") || "true";
  // Bits of a partial last byte are merged by writeBits: it starts from zero.
  const clear = bits % 8 === 0 ? "" : `o[${scratch.length - 1}] = 0;\n`;
  const buffer = g.ref(scratch);
  const view = g.ref(new DataView(scratch.buffer));
  return `if (!(${valid})) return ${general}(p);
const o = ${buffer};
${clear}${packCode(g, items, "o", "0", view)}return o;
`;
}

export interface Calculation {
  name: string;
  hasher: Hasher;
  /** The bmv2 hash output (uint64) for this packet. */
  output(p: PacketState): bigint;
  /** The same as a number, for algorithms of at most 32 bits. */
  outputNumber?: (p: PacketState) => number;
}

/** Compiles a hash over inputs with a bmv2 algorithm name; rejects names bmv2 does not know. */
export function compileHash(
  algo: string,
  inputs: readonly unknown[],
  ctx: BuilderContext,
): Omit<Calculation, "name"> {
  if (!isSupportedAlgorithm(algo)) {
    // bmv2 itself fails to load such a JSON ("Unknown hash algorithm"), e.g. v1model's `random`.
    throw new UnsupportedConstructError(ctx.where, `hash algorithm "${algo}" is not supported`, {
      source: ctx.source,
    });
  }
  const hasher = new Hasher(algo);
  const build = compileByteBuilder(inputs, ctx);
  const calculation: Omit<Calculation, "name"> = { hasher, output: (p) => hasher.fn(build(p)) };
  const numberFn = hasher.numberFn;
  if (numberFn) calculation.outputNumber = (p) => numberFn(build(p));
  return calculation;
}

export function compileCalculation(
  spec: CalculationSpec,
  layout: PhvLayout,
  codecs: readonly HeaderCodec[],
): Calculation {
  const ctx = { layout, codecs, where: `calculation "${spec.name}"`, source: sourceOf(spec) };
  return { name: spec.name, ...compileHash(spec.algo, spec.input, ctx) };
}
