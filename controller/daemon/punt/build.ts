/**
 * Pieces every answer the daemon builds from a punt shares (ICMP too-big, echo replies): the
 * Ethernet header (tagged or not), the ICMPv6 checksum over its pseudo-header, and which
 * addresses an answer may be sent to or from.
 */
import { csum16 } from "../../../common/checksum.js";

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
export const IP_PROTO_ICMP = 1;
export const IP_PROTO_ICMPV6 = 58;
/** TTL / hop limit of what the switch itself originates (Linux's default, RFC 1700). */
export const DEFAULT_TTL = 64;

export interface EthernetSpec {
  src: Buffer;
  dst: Buffer;
  vlan?: number | undefined;
}

export function ethernetHeader(ethernet: EthernetSpec, etherType: number): Buffer {
  const tagged = ethernet.vlan !== undefined;
  const header = Buffer.alloc(tagged ? 18 : 14);
  ethernet.dst.copy(header, 0);
  ethernet.src.copy(header, 6);
  if (tagged) {
    header.writeUInt16BE(ETHERTYPE_VLAN, 12);
    header.writeUInt16BE((ethernet.vlan as number) & 0x0fff, 14);
    header.writeUInt16BE(etherType, 16);
  } else {
    header.writeUInt16BE(etherType, 12);
  }
  return header;
}

/**
 * The ICMPv6 checksum of `icmp` (its checksum field counted as it is): it covers the
 * pseudo-header too (RFC 8200 §8.1): addresses, upper-layer length, next header. Writing the
 * result into a zeroed field makes a message whose checksum verifies to 0.
 */
export function icmpv6Checksum(src: Buffer, dst: Buffer, icmp: Buffer): number {
  const pseudo = Buffer.alloc(40);
  src.copy(pseudo, 0);
  dst.copy(pseudo, 16);
  pseudo.writeUInt32BE(icmp.length, 32);
  pseudo[39] = IP_PROTO_ICMPV6;
  return csum16(Buffer.concat([pseudo, icmp]));
}

/** Not 0.0.0.0/8, loopback, multicast, class E or limited broadcast (RFC 1812 §4.3.2.7). */
export function isUnicastV4(address: Buffer): boolean {
  const first = address[0] as number;
  return first !== 0 && first !== 127 && first < 224;
}

/** Not unspecified, loopback or multicast (RFC 4443 §2.4 (e)). */
export function isUnicastV6(address: Buffer): boolean {
  if (address[0] === 0xff) return false;
  const lastByte = address[15] as number;
  const allZeroButLast = address.subarray(0, 15).every((b) => b === 0);
  return !(allZeroButLast && (lastByte === 0 || lastByte === 1));
}

export function isUnicast(address: Buffer): boolean {
  return address.length === 4 ? isUnicastV4(address) : isUnicastV6(address);
}
