/**
 * What the tests observe of a switch besides its output frames: outputs compared as a set
 * (replication order is not part of the contract), and the drop counters as a delta by
 * reason name, so a test states "this frame was dropped once, as GRE_FLAGS, and nothing
 * else was counted".
 */

import {
  allDropReasons,
  type CounterValue,
  readAllCounters,
} from "../../topologies/leaf-program.js";
import type { DataplaneTarget, Output } from "../support/targets.js";

/** Outputs in a canonical order (port, then bytes) for comparing replicated copies. */
export function sortedOutputs(outputs: Output[]): Output[] {
  return [...outputs].sort((a, b) => a.port - b.port || Buffer.compare(a.frame, b.frame));
}

type Cells = Map<number, CounterValue>;

export class DropCounters {
  private constructor(
    private readonly ingress: Cells,
    private readonly egress: Cells,
  ) {}

  static async read(target: DataplaneTarget): Promise<DropCounters> {
    const [ingress, egress] = await Promise.all([
      readAllCounters(target, "drops"),
      readAllCounters(target, "egress_drops"),
    ]);
    return new DropCounters(ingress, egress);
  }

  /**
   * Packets counted since `earlier`, by reason name; egress reasons are prefixed "egress:".
   * Reasons with no change are left out, so `{}` means nothing was dropped.
   */
  since(earlier: DropCounters): Record<string, number> {
    const names = new Map([...allDropReasons()].map(([name, code]) => [code, name]));
    const delta: Record<string, number> = {};
    const add = (now: Cells, then: Cells, prefix: string) => {
      for (const [index, value] of now) {
        const packets = value.packets - (then.get(index)?.packets ?? 0);
        if (packets !== 0) delta[`${prefix}${names.get(index) ?? `#${index}`}`] = packets;
      }
    };
    add(this.ingress, earlier.ingress, "");
    add(this.egress, earlier.egress, "egress:");
    return delta;
  }

  /** Total packets counted under every reason of both counters. */
  total(): number {
    let sum = 0;
    for (const cells of [this.ingress, this.egress]) {
      for (const value of cells.values()) sum += value.packets;
    }
    return sum;
  }
}
