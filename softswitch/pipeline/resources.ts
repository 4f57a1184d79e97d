/** The stateful objects and program facts compiled code refers to (built once per program). */
import type { Program } from "../program/load.js";
import type { CounterArray } from "../runtime/counters.js";
import type { MeterArray } from "../runtime/meters.js";
import type { RegisterArray } from "../runtime/registers.js";
import type { Calculation } from "./calculations.js";
import type { HeaderCodec } from "./headers.js";
import type { PhvLayout } from "./layout.js";

export interface Resources {
  program: Program;
  layout: PhvLayout;
  codecs: readonly HeaderCodec[];
  counters: Map<string, CounterArray>;
  meters: Map<string, MeterArray>;
  registers: Map<string, RegisterArray>;
  calculations: Map<string, Calculation>;
  dropPort: number;
  /** Uniform integer in [lo, hi] (v1model random). */
  random: (lo: bigint, hi: bigint) => bigint;
  /** log_msg output. */
  log: (message: string) => void;
}
