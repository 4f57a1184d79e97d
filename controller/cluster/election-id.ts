/**
 * P4Runtime election ids from the election (a 128-bit number; the highest connected one is the
 * switch's primary). The leader's id is {high: term, low: 0}: every new leader's term is larger
 * than every earlier leader's, so a new leader outranks all of them and a deposed or paused one
 * is refused by the switches themselves (fencing), whatever clocks say. A follower's (backup)
 * id is {high: 0, low: ordinal}: distinct among live members, as P4Runtime requires, and below
 * every leader's id (terms start at 1).
 */

export interface ElectionIdParts {
  high: bigint;
  low: bigint;
}

export function leaderElectionId(term: number): bigint {
  if (!Number.isSafeInteger(term) || term < 1)
    throw new RangeError(`election term ${term} must be a positive integer`);
  return BigInt(term) << 64n;
}

export function backupElectionId(memberOrdinal: number): bigint {
  if (!Number.isSafeInteger(memberOrdinal) || memberOrdinal < 1) {
    throw new RangeError(`member ordinal ${memberOrdinal} must be a positive integer`);
  }
  return BigInt(memberOrdinal);
}

export function electionIdParts(id: bigint): ElectionIdParts {
  return { high: id >> 64n, low: id & 0xffff_ffff_ffff_ffffn };
}
