/**
 * Compiles the deparser (bm_sim deparser.cpp): update checksums, run deparser primitives, then
 * emit the valid headers in order followed by the payload.
 */
import { ProgramError } from "../program/errors.js";
import { compilePrimitives } from "./actions.js";
import type { CompiledChecksums } from "./checksums.js";
import { NO_LOCALS } from "./expressions.js";
import type { HeaderCodec } from "./headers.js";
import type { PacketState } from "./packet.js";
import type { Resources } from "./resources.js";

export type Deparser = (p: PacketState) => Uint8Array;

export function compileDeparser(res: Resources, checksums: CompiledChecksums): Deparser {
  const spec = res.program.spec.deparsers.find((d) => d.name === "deparser");
  if (!spec) throw new ProgramError('deparser "deparser"', "missing");
  const order = spec.order.map((name) => res.layout.header(name, `deparser "${spec.name}"`).index);
  const codecs = order.map((i) => res.codecs[i] as HeaderCodec);
  const primitives = compilePrimitives(spec.primitives ?? [], res, [], `deparser "${spec.name}"`);
  return (p) => {
    checksums.update(p);
    primitives(p, NO_LOCALS);
    const phv = p.phv;
    let size = p.payload.length;
    for (let i = 0; i < order.length; i++) {
      if (phv.valid[order[i] as number] === 1) size += (codecs[i] as HeaderCodec).byteLength(phv);
    }
    const out = new Uint8Array(size);
    let at = 0;
    for (let i = 0; i < order.length; i++) {
      if (phv.valid[order[i] as number] !== 1) continue;
      const codec = codecs[i] as HeaderCodec;
      codec.emit(phv, out, at);
      at += codec.byteLength(phv);
    }
    out.set(p.payload, at);
    return out;
  };
}
