/**
 * P4Runtime election ids of a controller cluster (a 128-bit number; the highest connected one
 * is the switch's primary; ONOS derives mastership from terms the same way). A leader's id is
 * its term in the upper 64 bits: every new leader's term is above every earlier leader's, so a
 * new leader outranks all of them and a deposed, paused or partitioned one is refused by the
 * switches themselves (fencing), whatever clocks say. A backup's id is 2^32 + its member
 * ordinal: distinct among live members (a switch refuses two streams with one id), below every
 * leader's (terms start at 1), and clear of the small ids single tools use.
 */
const BACKUP_BASE = 1n << 32n;

export function leaderElectionId(term: number): bigint {
  if (!Number.isSafeInteger(term) || term < 1) {
    throw new RangeError(`election term ${term} must be a positive integer`);
  }
  return BigInt(term) << 64n;
}

export function backupElectionId(memberOrdinal: number): bigint {
  if (!Number.isSafeInteger(memberOrdinal) || memberOrdinal < 1 || memberOrdinal >= 2 ** 31) {
    throw new RangeError(`member ordinal ${memberOrdinal} must be an integer in 1–2^31`);
  }
  return BACKUP_BASE + BigInt(memberOrdinal);
}

/** The leader's term an election id carries (0 for a backup's or a tool's). */
export function termOf(electionId: bigint): number {
  return Number(electionId >> 64n);
}
