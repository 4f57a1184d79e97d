/**
 * What `counters`, `drops` and `tables` show: read from the switches as they are now (reads
 * need no mastership), named by the P4Info, the intent and the P4 program's drop reasons.
 */

import { status as grpcStatus } from "@grpc/grpc-js";
import type { Allocations } from "../compile/allocate.js";
import type { CanonicalCodec } from "../compile/canonical.js";
import type { Fabric } from "../intent/model.js";
import { EntityBuilder } from "../p4rt/entities.js";
import { P4RuntimeRpcError } from "../p4rt/errors.js";
import type { Pipeline } from "../p4rt/pipeline.js";
import { NotFoundError, SwitchUnavailableError } from "./errors.js";
import type {
  CounterCells,
  CountersResponse,
  DropsResponse,
  TableEntriesResponse,
  TablesResponse,
} from "./protocol.js";
import type { Reasons } from "./reasons.js";
import type { SwitchSession } from "./session.js";

type Cells = Map<number, CounterCells>;

/**
 * A counter's cells: the whole array, or only `indexes` (the per-VSID counters are sized for
 * every VSID a switch could serve; reading the few in use keeps a read small).
 */
async function readCounter(
  session: SwitchSession,
  builder: EntityBuilder,
  name: string,
  indexes?: number[],
): Promise<Cells> {
  const cells: Cells = new Map();
  if (indexes?.length === 0) return cells;
  const wanted = indexes
    ? indexes.map((index) => builder.counterEntry(name, index))
    : [builder.counterEntry(name)];
  for (const entity of await session.client.readAll(wanted)) {
    const entry = entity.counter_entry;
    if (!entry) continue;
    cells.set(Number(entry.index?.index ?? 0), {
      packets: String(entry.data?.packet_count ?? "0"),
      bytes: String(entry.data?.byte_count ?? "0"),
    });
  }
  return cells;
}

const zero: CounterCells = { packets: "0", bytes: "0" };

/** Pick the sessions a request names (all by default); an unknown switch name is a 404. */
export function pickSessions(
  sessions: Map<string, SwitchSession>,
  name: string | null,
): SwitchSession[] {
  if (!name) return [...sessions.values()];
  const session = sessions.get(name);
  if (!session) {
    throw new NotFoundError(
      `switch ${name} is not in the intent (known: ${[...sessions.keys()].join(", ") || "none"})`,
    );
  }
  return [session];
}

/** A switch's pipeline by name: each target's P4Info numbers the counters its own way. */
export type PipelineOfSwitch = (switchName: string) => { pipeline: Pipeline };

export async function readCounters(
  sessions: SwitchSession[],
  pipelineOf: PipelineOfSwitch,
  fabric: Fabric | undefined,
  allocations: Allocations | undefined,
  onlyVsid: number | undefined,
): Promise<CountersResponse> {
  const response: CountersResponse = { rows: [], unreachable: [] };
  await Promise.all(
    sessions.map(async (session) => {
      // The compiler numbers a switch's VSIDs densely (counter index); its allocations say how.
      const indexes = allocations?.pools[`${session.name}/vsid-index`]?.ids ?? {};
      try {
        const builder = new EntityBuilder(pipelineOf(session.name).pipeline.index);
        const used = Object.entries(indexes)
          .filter(([key]) => onlyVsid === undefined || Number(key) === onlyVsid)
          .map(([, index]) => index);
        const [decap, encap, flood] = await Promise.all(
          ["vsid_decap", "vsid_encap", "vsid_flood"].map((name) =>
            readCounter(session, builder, name, used),
          ),
        );
        for (const [key, index] of Object.entries(indexes)) {
          const vsid = Number(key);
          if (onlyVsid !== undefined && vsid !== onlyVsid) continue;
          response.rows.push({
            switch: session.name,
            vsid,
            name: fabric?.subnetByVsid.get(vsid)?.name ?? "",
            decap: decap?.get(index) ?? zero,
            encap: encap?.get(index) ?? zero,
            flood: flood?.get(index) ?? zero,
          });
        }
      } catch (error) {
        response.unreachable.push({ switch: session.name, error: (error as Error).message });
      }
    }),
  );
  response.rows.sort((a, b) => a.switch.localeCompare(b.switch) || a.vsid - b.vsid);
  return response;
}

export async function readDrops(
  sessions: SwitchSession[],
  pipelineOf: PipelineOfSwitch,
  reasons: Reasons,
): Promise<DropsResponse> {
  const response: DropsResponse = { rows: [], unreachable: [] };
  await Promise.all(
    sessions.map(async (session) => {
      try {
        const builder = new EntityBuilder(pipelineOf(session.name).pipeline.index);
        for (const [stage, counter] of [
          ["ingress", "drops"],
          ["egress", "egress_drops"],
        ] as const) {
          for (const [reason, cells] of await readCounter(session, builder, counter)) {
            if (cells.packets === "0") continue;
            const known = reasons.get(reason);
            response.rows.push({
              switch: session.name,
              stage,
              reason,
              name: known?.name ?? `reason ${reason}`,
              description: known?.description ?? "",
              ...cells,
            });
          }
        }
      } catch (error) {
        response.unreachable.push({ switch: session.name, error: (error as Error).message });
      }
    }),
  );
  response.rows.sort(
    (a, b) =>
      a.switch.localeCompare(b.switch) || a.stage.localeCompare(b.stage) || a.reason - b.reason,
  );
  return response;
}

/**
 * A read of one named switch: while its session is away (first connection or a reconnect) the
 * answer says so, instead of passing on the gRPC layer's "Read failed: UNAVAILABLE".
 */
async function readSwitch(
  session: SwitchSession,
  request: Parameters<SwitchSession["client"]["readAll"]>[0],
) {
  const reconnecting = () =>
    new SwitchUnavailableError(
      `switch ${session.name} is reconnecting (${session.lastError ?? "not connected yet"}); try again once \`nvgre-ctl status\` shows it connected`,
    );
  if (!session.connected) throw reconnecting();
  try {
    return await session.client.readAll(request);
  } catch (error) {
    // The session may learn of the loss only after the read that met it.
    const lost = error instanceof P4RuntimeRpcError && error.code === grpcStatus.UNAVAILABLE;
    if (lost || !session.connected) throw reconnecting();
    throw error;
  }
}

export async function readTables(
  session: SwitchSession,
  pipeline: Pipeline,
): Promise<TablesResponse> {
  const counts = new Map<number, number>();
  for (const entity of await readSwitch(session, [{ table_entry: {} }])) {
    const id = entity.table_entry?.table_id ?? 0;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return {
    switch: session.name,
    tables: pipeline.index.tables.items.map((table) => ({
      name: table.preamble?.alias || table.preamble?.name || String(table.preamble?.id),
      entries: counts.get(table.preamble?.id ?? 0) ?? 0,
      size: Number(table.size),
    })),
  };
}

/**
 * One table's entries by name: the canonical codec's description
 * ("mac vsid=0x5001 dst_mac=… → bridge_to_port(port=1)") split into match fields and action.
 */
export async function readTableEntries(
  session: SwitchSession,
  pipeline: Pipeline,
  codec: CanonicalCodec,
  table: string,
): Promise<TableEntriesResponse> {
  if (!pipeline.index.tables.has(table)) {
    throw new NotFoundError(
      `no table ${table} in the P4 program (known: ${pipeline.index.tables.names().join(", ")})`,
    );
  }
  const tableId = pipeline.index.tables.id(table);
  const entries: TableEntriesResponse["entries"] = [];
  for (const entity of await readSwitch(session, [{ table_entry: { table_id: tableId } }])) {
    const canonical = codec.fromEntity(entity);
    if (!canonical) continue;
    const text = codec.describe(canonical.collection, canonical.key, canonical.value);
    const arrow = text.indexOf(" → ");
    const [, ...fields] = text.slice(0, arrow).split(" ");
    const match: Record<string, string> = {};
    let priority: number | undefined;
    for (const field of fields) {
      if (field.startsWith("#")) priority = Number(field.slice(1));
      else {
        const eq = field.indexOf("=");
        match[field.slice(0, eq)] = field.slice(eq + 1);
      }
    }
    entries.push({
      match,
      action: text.slice(arrow + 3),
      ...(priority === undefined ? {} : { priority }),
    });
  }
  return { switch: session.name, table, entries };
}
