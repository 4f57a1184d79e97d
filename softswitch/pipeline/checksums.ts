/**
 * Checksums (bm_sim checksums.cpp): verified at the end of parsing, updated at the start of
 * deparsing, each only when its `if_cond` holds. A failed verification sets checksum_error.
 */
import { ProgramError, sourceOf } from "../program/errors.js";
import { compileBool, type ExprContext, NO_LOCALS } from "./expressions.js";
import type { PacketState } from "./packet.js";
import type { Resources } from "./resources.js";
import { truncate } from "./values.js";

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
    const cond = spec.if_cond ? compileBool(spec.if_cond, ctx) : () => true;
    const { output, outputNumber } = calc;
    return {
      verify: spec.verify !== false,
      update: spec.update !== false,
      cond,
      output: outputNumber ?? output,
      slot: field.slot,
      width: field.width,
    };
  });
  const verifying = compiled.filter((c) => c.verify);
  const updating = compiled.filter((c) => c.update);
  return {
    verify(p) {
      for (const c of verifying) {
        if (!c.cond(p, NO_LOCALS)) continue;
        const expected = truncate(c.output(p), c.width);
        if (p.phv.values[c.slot] !== expected) p.checksumError = true;
      }
    },
    update(p) {
      for (const c of updating) {
        if (c.cond(p, NO_LOCALS)) p.phv.values[c.slot] = truncate(c.output(p), c.width);
      }
    },
  };
}
