/** The stateful objects and program facts compiled code refers to (built once per program). */

import type { CounterArray } from "../core/counters.js";
import type { PhvLayout } from "../core/layout.js";
import type { MeterArray } from "../core/meters.js";
import type { RegisterArray } from "../core/registers.js";
import type { Program } from "../program/load.js";
import type { Calculation } from "./calculations.js";
import type { HeaderCodec } from "./headers.js";

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
