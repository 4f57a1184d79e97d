/**
 * What the data plane's drop and punt reason codes mean: the DropReason_t and PuntReason_t
 * enums of the P4 program (p4/include/defines.p4), as `make p4` wrote them beside the P4Info
 * (controller/p4rt/enums.ts). Drop reasons index the `drops` and `egress_drops` counters; a
 * punt reason comes with every packet-in.
 */
import { type P4Enums, p4Enum } from "../p4rt/enums.js";

export interface Reason {
  code: number;
  /** The enum member's name in lower case, e.g. "gre_no_key" (DropReason_t.GRE_NO_KEY). */
  name: string;
  /** The comment beside the member. */
  description: string;
}

/** Reasons by code. */
export type Reasons = ReadonlyMap<number, Reason>;

function reasonsOf(enums: P4Enums, enumName: string): Reasons {
  return new Map(
    p4Enum(enums, enumName).members.map((m) => [
      m.value,
      { code: m.value, name: m.name.toLowerCase(), description: m.description },
    ]),
  );
}

export const dropReasons = (enums: P4Enums): Reasons => reasonsOf(enums, "DropReason_t");
export const puntReasons = (enums: P4Enums): Reasons => reasonsOf(enums, "PuntReason_t");
