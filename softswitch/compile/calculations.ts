/**
 * Named calculations and selector inputs: the bytes bmv2's BufBuilder feeds a hash
 * (calculations.cpp). Fields are packed bit by bit with no padding between them (fields of invalid
 * headers are skipped), constants take their declared bitwidth, whole headers are appended at a
 * byte boundary, `payload` appends the unparsed bytes; the last byte is zero-padded on the right.
 */

import { Hasher, isSupportedAlgorithm } from "../core/hash.js";
import type { PhvLayout } from "../core/layout.js";
import { type PacketState, type Phv, readSlot } from "../core/packet.js";
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
  const codecs = ctx.codecs;
  const general: ByteBuilder = (p) => {
    const phv = p.phv;
    let bits = 0;
    for (const e of entries) {
      if (e.kind === "constant") bits += e.width;
      else if (phv.valid[e.header] === 1) {
        bits +=
          e.kind === "field"
            ? fieldBits(phv, e)
            : (codecs[e.header] as HeaderCodec).byteLength(phv) * 8;
      }
    }
    const headerBytes = (bits + 7) >>> 3;
    const out = new Uint8Array(headerBytes + (withPayload ? p.payload.length : 0));
    let at = 0;
    for (const e of entries) {
      if (e.kind === "constant") {
        writeBits(out, at, e.width, e.value);
        at += e.width;
      } else if (phv.valid[e.header] === 1) {
        if (e.kind === "field") {
          const width = fieldBits(phv, e);
          writeBits(out, at, width, readSlot(phv, e.slot, e.width));
          at += width;
        } else {
          const codec = codecs[e.header] as HeaderCodec;
          codec.emitBits(phv, out, at);
          at += codec.byteLength(phv) * 8;
        }
      }
    }
    if (withPayload) out.set(p.payload, headerBytes);
    return out;
  };
  return withPayload ? general : packedWhenValid(entries, general);
}

/**
 * The usual input, fields of fixed width and constants: while every header they come from is
 * valid, the bytes are packed at constant offsets into one buffer reused from packet to packet
 * (a hash reads it at once and keeps nothing); the general builder otherwise.
 */
function packedWhenValid(entries: readonly Entry[], general: ByteBuilder): ByteBuilder {
  const items: PackItem[] = [];
  const headers = new Set<number>();
  for (const e of entries) {
    if (e.kind === "header" || (e.kind === "field" && e.varbit)) return general;
    if (e.kind === "field") {
      headers.add(e.header);
      items.push({ width: e.width, src: slotSource(e.slot, e.width), slot: e.slot });
    } else items.push({ width: e.width, src: literal(e.value), slot: -1 });
  }
  const bits = items.reduce((n, item) => n + item.width, 0);
  const scratch = new Uint8Array((bits + 7) >>> 3);
  const g = new CodeGen("hash_input");
  const valid = [...headers].map((h) => `V[${h}] === 1`).join(" && ") || "true";
  // Bits of a partial last byte are merged by writeBits: it starts from zero.
  const clear = bits % 8 === 0 ? "" : `o[${scratch.length - 1}] = 0;\n`;
  const body = `${PHV_PRELUDE}if (!(${valid})) return ${g.ref(general)}(p);
const o = ${g.ref(scratch)};
${clear}${packCode(g, items, "o", "0", g.ref(new DataView(scratch.buffer)))}return o;
`;
  return g.build<ByteBuilder>("p", body);
}

function fieldBits(phv: Phv, e: Extract<Entry, { kind: "field" }>): number {
  return e.varbit ? (phv.varbitBits[e.header] as number) : e.width;
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
