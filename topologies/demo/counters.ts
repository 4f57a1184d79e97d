/**
 * Reads the NVGRE program's per-port counters (port_rx / port_tx, indexed by port) from a
 * fabric switch over P4Runtime. A Read needs no arbitration, so this never competes with the
 * controller for primary.
 */

import { loadNvgrePipeline } from "../../controller/nvgre-build.js";
import { EntityBuilder } from "../../controller/p4rt/entities.js";
import { type SwitchInfo, switchClient } from "./fabric.js";

export interface PortCount {
  packets: bigint;
  bytes: bigint;
}

let builder: EntityBuilder | undefined;

function entities(): EntityBuilder {
  builder ??= new EntityBuilder(loadNvgrePipeline().index);
  return builder;
}

/** The named counter's cells for the given ports of one switch. */
export async function readPortCounters(
  sw: SwitchInfo,
  counter: "port_rx" | "port_tx",
  ports: number[],
): Promise<Map<number, PortCount>> {
  const client = switchClient(sw);
  try {
    const found = await client.readAll(ports.map((port) => entities().counterEntry(counter, port)));
    const counts = new Map<number, PortCount>();
    for (const entity of found) {
      const cell = entity.counter_entry;
      if (!cell) continue;
      counts.set(Number(cell.index?.index ?? 0), {
        packets: BigInt(cell.data?.packet_count ?? 0),
        bytes: BigInt(cell.data?.byte_count ?? 0),
      });
    }
    return counts;
  } finally {
    client.close();
  }
}

/** Packets received by each spine from the leaves (sum of its port_rx cells). */
export async function spinePackets(spines: SwitchInfo[]): Promise<Map<string, bigint>> {
  const totals = new Map<string, bigint>();
  for (const spine of spines) {
    const ports = Object.keys(spine.ports).map(Number);
    const counts = await readPortCounters(spine, "port_rx", ports);
    let sum = 0n;
    for (const count of counts.values()) sum += count.packets;
    totals.set(spine.name, sum);
  }
  return totals;
}
