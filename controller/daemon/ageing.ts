/**
 * The switch side of learned-endpoint ageing (learning.ts decides what a notice means): the
 * learned_mac key an idle-timeout notice names, and whether another switch has matched the
 * same entry recently (an endpoint behind a remote NVE sends to every switch of its VSID, and
 * each one times its own copy of the entry, so one switch's silence is not the endpoint's).
 */
import type { TableEntry, TableEntry__Output } from "../../proto/gen/p4/v1/TableEntry.js";
import type { P4RuntimeClient } from "../p4rt/client.js";
import type { P4InfoIndex } from "../p4rt/p4info.js";
import { fromBytes } from "../p4rt/values.js";
import type { LearnSample } from "./learning.js";

const LEARNED_MAC = "learned_mac";

/** A notice whose learned_mac key cannot be read. */
export class AgeingNoticeError extends Error {
  override readonly name = "AgeingNoticeError";
}

/**
 * The key of a learned_mac entry as learn_t fields (the table's match fields are named like
 * the digest's members); undefined for an entry of another table.
 */
export function learnedMacKey(
  index: P4InfoIndex,
  entry: TableEntry__Output,
): LearnSample | undefined {
  const table = index.tables.get(LEARNED_MAC);
  if (entry.table_id !== table.preamble?.id) return undefined;
  const byId = new Map(entry.match.map((m) => [m.field_id, m]));
  const key: Record<string, bigint> = {};
  for (const field of table.match_fields) {
    const value = byId.get(field.id)?.exact?.value;
    if (!value) {
      throw new AgeingNoticeError(`${LEARNED_MAC}.${field.name}: missing from the notice's key`);
    }
    key[field.name] = fromBytes(value, field.bitwidth, `${LEARNED_MAC}.${field.name}`);
  }
  return key as unknown as LearnSample;
}

/**
 * Whether `client`'s switch matched the entry with this key less than `idleTimeoutNs` ago
 * (P4Runtime time_since_last_hit). An entry it does not hold was not matched there.
 */
export async function matchedWithin(
  client: P4RuntimeClient,
  entry: Pick<TableEntry, "table_id" | "match">,
  idleTimeoutNs: bigint,
): Promise<boolean> {
  const read = await client.readAll([
    {
      table_entry: {
        table_id: entry.table_id,
        match: entry.match,
        time_since_last_hit: {},
      },
    },
  ]);
  const elapsed = read[0]?.table_entry?.time_since_last_hit?.elapsed_ns;
  return elapsed !== undefined && BigInt(elapsed) < idleTimeoutNs;
}
