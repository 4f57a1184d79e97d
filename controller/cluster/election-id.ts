/**
 * P4Runtime election ids of a controller cluster (ONOS derives mastership from terms the same
 * way). A leader's id is its term in the upper 64 bits: every new leader's term is above every
 * earlier leader's, so the switches make it primary and refuse the writes of any leader before
 * it — fencing done by the switches themselves, whatever an old leader still believes. A
 * backup's id is 2^32 + its member ordinal: distinct among live members (a switch refuses two
 * streams with one id), below every leader's, and clear of the small ids single tools use.
 */
const BACKUP_BASE = 1n << 32n;

export function leaderElectionId(term: number): bigint {
  if (!Number.isSafeInteger(term) || term < 1) {
    throw new RangeError(`term ${term} is not a positive integer`);
  }
  return BigInt(term) << 64n;
}

export function followerElectionId(ordinal: number): bigint {
  if (!Number.isSafeInteger(ordinal) || ordinal < 1 || ordinal >= 2 ** 31) {
    throw new RangeError(`member ordinal ${ordinal} is not in 1–2^31`);
  }
  return BACKUP_BASE + BigInt(ordinal);
}

/** The term of a leader's election id (0 for a backup's or a tool's). */
export function termOf(electionId: bigint): number {
  return Number(electionId >> 64n);
}
