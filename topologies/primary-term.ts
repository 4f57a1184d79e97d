/**
 * Who controls a set of P4Runtime switches, as the switches themselves say it: a client joins
 * each switch's election for a moment with election id 2 (below every controller replica's, so
 * it never takes over) and reads the primary's election id from the arbitration answer. A
 * cluster leader's id carries its term in the upper half (controller/cluster/election-id.ts).
 */
import { termOf } from "../controller/cluster/election-id.js";
import { P4RuntimeClient } from "../controller/p4rt/client.js";

export interface SwitchAddress {
  address: string;
  deviceId: number;
}

/** The term of every switch's primary when they all name the same leader's primary, else
 * undefined (no answer, a backup primary, or different terms). */
export async function primaryTerm(switches: SwitchAddress[]): Promise<number | undefined> {
  const terms = await Promise.all(
    switches.map(async ({ address, deviceId }) => {
      const client = new P4RuntimeClient({
        address,
        deviceId,
        electionId: 2n,
        reconnect: false,
        connectTimeoutMs: 2_000,
      });
      try {
        return termOf((await client.connect()).primaryElectionId);
      } catch {
        return undefined;
      } finally {
        client.close();
      }
    }),
  );
  const distinct = new Set(terms);
  const [term] = distinct;
  return distinct.size === 1 && term !== undefined && term > 0 ? term : undefined;
}
