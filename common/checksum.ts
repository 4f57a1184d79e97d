/**
 * The Internet checksum, shared by the softswitch (bmv2's csum16 hash and checksum externs) and
 * the controller (ICMP replies it builds for punted packets). Dependency-free, like all of
 * common/: both products import it, it imports nothing of theirs.
 */

/** RFC 1071 ones' complement sum (bmv2 csum16 / cksum16): odd trailing byte padded on the right. */
export function csum16(bytes: Uint8Array): number {
  let sum = 0;
  const even = bytes.length & ~1;
  for (let i = 0; i < even; i += 2) {
    sum += ((bytes[i] as number) << 8) | (bytes[i + 1] as number);
  }
  if (bytes.length & 1) sum += (bytes[bytes.length - 1] as number) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}
