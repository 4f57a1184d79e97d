/**
 * Checksums (bm_sim checksums.cpp): verified at the end of parsing, updated at the start of
 * deparsing, each only when its `if_cond` holds. A failed verification sets checksum_error.
 */

import type { PacketState } from "../core/packet.js";
import { truncate } from "../core/values.js";
import { ProgramError, sourceOf } from "../program/errors.js";
import { CodeGen, PHV_PRELUDE, slotSource } from "./codegen.js";
import { asBool, compileExpr, type ExprContext, NO_LOCALS } from "./expressions.js";
import type { Resources } from "./resources.js";

export interface CompiledChecksums {
  verify(p: PacketState): void;
  update(p: PacketState): void;
}

export function compileChecksums(res: Resources): CompiledChecksums {
  const compiled = res.program.spec.checksums.map((spec) => {
    const where = `checksum "${spec.name}"`;
    const calc = res.calculations.get(spec.calculation);
    if (!calc) throw new ProgramError(where, `unknown calculation "${spec.calculation}"`);
    const field = res.layout.field(spec.target[0], spec.target[1], where);
    const ctx: ExprContext = { layout: res.layout, where, source: sourceOf(spec) };
    const cond = spec.if_cond ? asBool(compileExpr(spec.if_cond, ctx), ctx) : undefined;
    const { output, outputNumber } = calc;
    return {
      verify: spec.verify !== false,
      update: spec.update !== false,
      cond: (g: CodeGen) => (cond ? cond.code(g) : "true"),
      output: outputNumber ?? output,
      target: slotSource(field.slot, field.width),
      width: field.width,
    };
  });
  // Each pass as one generated function (codegen.ts), conditions inline.
  const generate = (name: string, each: (c: (typeof compiled)[number], g: CodeGen) => string) => {
    const g = new CodeGen(name);
    const body = compiled.map((c) => each(c, g)).join("");
    return g.build<(p: PacketState) => void>(
      "p",
      `${PHV_PRELUDE}const l = ${g.ref(NO_LOCALS)};\n${body}`,
    );
  };
  const computed = (c: (typeof compiled)[number], g: CodeGen) =>
    `${g.ref(truncate)}(${g.ref(c.output)}(p), ${c.width})`;
  return {
    verify: generate("verify_checksums", (c, g) =>
      c.verify
        ? `if (${c.cond(g)} && ${c.target} !== ${computed(c, g)}) p.checksumError = true;\n`
        : "",
    ),
    update: generate("update_checksums", (c, g) =>
      c.update ? `if (${c.cond(g)}) ${c.target} = ${computed(c, g)};\n` : "",
    ),
  };
}
