/**
 * Compiles the deparser (bm_sim deparser.cpp): update checksums, run deparser primitives, then
 * emit the valid headers in order followed by the payload.
 */

import type { HeaderLayout } from "../core/layout.js";
import type { PacketState } from "../core/packet.js";
import { ProgramError } from "../program/errors.js";
import { compileBody } from "./actions.js";
import type { CompiledChecksums } from "./checksums.js";
import { CodeGen, PHV_PRELUDE } from "./codegen.js";
import { NO_LOCALS } from "./expressions.js";
import { emitCode } from "./headers.js";
import type { Resources } from "./resources.js";

export type Deparser = (p: PacketState) => Uint8Array;

export function compileDeparser(res: Resources, checksums: CompiledChecksums): Deparser {
  const spec = res.program.spec.deparsers.find((d) => d.name === "deparser");
  if (!spec) throw new ProgramError('deparser "deparser"', "missing");
  const order = spec.order.map((name) => res.layout.header(name, `deparser "${spec.name}"`).index);
  const primitives = compileBody(spec.primitives ?? [], res, [], `deparser "${spec.name}"`);
  // One generated function: fixed-size headers are written field by field at constant offsets
  // from their start; headers with a varbit field go through their codec.
  const g = new CodeGen("deparser");
  let size = `${g.ref(checksums.update)}(p);\n${PHV_PRELUDE}const l = ${g.ref(NO_LOCALS)};\n`;
  size += `{\n${primitives.code(g)}}\nconst phv = p.phv;\nlet size = p.payloadLength;\n`;
  let write = "let at = 0;\n";
  for (const i of order) {
    const header = res.layout.headers[i] as HeaderLayout;
    if (header.varbitSlot >= 0) {
      const codec = g.ref(res.codecs[i]);
      size += `if (V[${i}] === 1) size += ${codec}.byteLength(phv);\n`;
      write += `if (V[${i}] === 1) { ${codec}.emit(phv, o, at); at += ${codec}.byteLength(phv); }\n`;
      continue;
    }
    const bytes = header.fixedBits >>> 3;
    size += `if (V[${i}] === 1) size += ${bytes};\n`;
    write += `if (V[${i}] === 1) {\n${emitCode(g, header, "o", "at")}at += ${bytes};\n}\n`;
  }
  const frames = new FrameBlocks();
  // Short payloads are copied byte by byte: cheaper than making a view of them to copy.
  const payload = `const from = p.payloadFrom, start = p.payloadStart, n = from.length - start;
if (n > 128) o.set(p.payload, at);
else for (let i = 0; i < n; i++) o[at + i] = from[start + i];
`;
  const body = `${size}const o = ${g.ref(frames)}.take(size);\n${write}${payload}return o;\n`;
  return g.build<Deparser>("p", body);
}

/**
 * Output frames as views into shared zeroed blocks: a view costs far less than a Uint8Array
 * with a backing store of its own (allocated, tracked and swept by the GC per packet), as
 * Node's Buffer pool does. A block is never reused, so a frame kept by its receiver stays
 * intact; it keeps at most its block alive.
 */
class FrameBlocks {
  private static readonly BLOCK = 16 * 1024;
  private block = new ArrayBuffer(FrameBlocks.BLOCK);
  private used = 0;

  take(size: number): Uint8Array {
    if (size > FrameBlocks.BLOCK / 4) return new Uint8Array(size);
    if (this.used + size > FrameBlocks.BLOCK) {
      this.block = new ArrayBuffer(FrameBlocks.BLOCK);
      this.used = 0;
    }
    const frame = new Uint8Array(this.block, this.used, size);
    // Eight-byte steps keep views aligned, as Node's pool does.
    this.used += (size + 7) & ~7;
    return frame;
  }
}
