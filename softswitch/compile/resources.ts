/** The stateful objects and program facts compiled code refers to (built once per program). */

import type { CounterArray } from "../core/counters.js";
import type { PhvLayout } from "../core/layout.js";
import type { MeterArray } from "../core/meters.js";
import type { RegisterArray } from "../core/registers.js";
import type { Program } from "../program/load.js";
import type { PrimitiveCall } from "../program/schema.js";
import type { Calculation } from "./calculations.js";
import type { CodeGen } from "./codegen.js";
import type { ExprContext } from "./expressions.js";
import type { HeaderCodec } from "./headers.js";

/** Source that continues at primitive `target` (only inside a list with jumps). */
export type JumpTo = (target: number) => string;
/** A primitive call's source; `jump` is for `_jump` and `_jump_if_zero`. */
export type PrimitiveCode = (g: CodeGen, jump: JumpTo) => string;
/** Compiles one primitive call (checking its operands at load) into its source. */
export type PrimitiveCompiler = (
  call: PrimitiveCall,
  ctx: ExprContext,
  res: Resources,
) => PrimitiveCode;

export interface Resources {
  program: Program;
  layout: PhvLayout;
  codecs: readonly HeaderCodec[];
  counters: Map<string, CounterArray>;
  meters: Map<string, MeterArray>;
  registers: Map<string, RegisterArray>;
  calculations: Map<string, Calculation>;
  /** The target's own primitives (v1model's), beside the engine's (compile/actions.ts). */
  primitives: ReadonlyMap<string, PrimitiveCompiler>;
  /** Uniform integer in [lo, hi] (v1model random). */
  random: (lo: bigint, hi: bigint) => bigint;
  /** log_msg output. */
  log: (message: string) => void;
}
