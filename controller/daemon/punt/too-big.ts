/**
 * ICMP "fragmentation needed" (IPv4, type 3 code 4, RFC 792 / RFC 1191) and ICMPv6 "packet
 * too big" (type 2, RFC 4443 §3.2) answers to packets the switch dropped for MTU (R12: an NVE
 * never fragments, so the source must learn the path MTU instead).
 *
 * For a tenant packet the answer is built the way Linux answers for bridged tunnels
 * (iptunnel_pmtud_build_icmp): from the original destination to the original source, with
 * the Ethernet addresses swapped, so the VM's stack accepts it as if the path had said so; no
 * address of the fabric ever shows up in a tenant's network (R18).
 */
import { csum16 } from "../../../common/checksum.js";
import {
  DEFAULT_TTL,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  type EthernetSpec,
  ethernetHeader,
  IP_PROTO_ICMP,
  IP_PROTO_ICMPV6,
  icmpv6Checksum,
  isUnicastV4,
  isUnicastV6,
} from "./build.js";
import type { IpView } from "./frame.js";

/** RFC 1812 §4.3.2.3: an ICMPv4 error is at most 576 bytes of IP. */
const ICMPV4_MAX_DATAGRAM = 576;
/** RFC 4443 §2.4 (c): an ICMPv6 error must not exceed the IPv6 minimum MTU. */
const ICMPV6_MAX_PACKET = 1280;
/** The smallest MTU a host may be told: RFC 791 (68) and RFC 8200 (1280). */
export const MIN_MTU = { 4: 68, 6: 1280 } as const;
/** ICMPv4 error types (RFC 1812 §4.3.2.7: never answer an error with an error). */
const ICMPV4_ERROR_TYPES = new Set([3, 4, 5, 11, 12]);

export interface TooBigSpec {
  /** The packet that did not fit, from its IP header on (possibly truncated by the punt). */
  offending: IpView;
  /** The MTU to announce for packets like the offending one (its own IP layer). */
  mtu: number;
  ethernet: EthernetSpec;
  /** Source address of the answer; the offending packet's destination when absent. */
  source?: Buffer;
}

/**
 * Why no ICMP error may be sent about this packet (RFC 1812 §4.3.2.7, RFC 4443 §2.4, RFC
 * 1191), or undefined when one may. `answerSource` is the address the answer would come from.
 */
export function refuseTooBig(
  offending: IpView,
  mtu: number,
  answerSource: Buffer = offending.dst,
): string | undefined {
  if (mtu < MIN_MTU[offending.family]) {
    return `MTU ${mtu} is below the IPv${offending.family} minimum ${MIN_MTU[offending.family]}`;
  }
  if (offending.family === 4) {
    if (!offending.dontFragment) return "DF is clear (RFC 1191 answers only DF packets)";
    if (offending.fragmentOffset !== 0) return "not the first fragment";
    if (!isUnicastV4(offending.src)) return "source is not a unicast address";
    if (!isUnicastV4(answerSource)) return "answer source is not a unicast address";
    if (offending.protocol === IP_PROTO_ICMP && isIcmpError(offending, ICMPV4_ERROR_TYPES)) {
      return "it is an ICMP error";
    }
    return undefined;
  }
  if (!isUnicastV6(offending.src)) return "source is not a unicast address";
  if (!isUnicastV6(answerSource)) return "answer source is not a unicast address";
  // ICMPv6 error types are 0–127 (RFC 4443 §2.1).
  if (offending.protocol === IP_PROTO_ICMPV6 && (offending.payload[0] ?? 128) < 128) {
    return "it is an ICMPv6 error";
  }
  return undefined;
}

/** The Ethernet frame of the answer (tagged when `ethernet.vlan` is set). */
export function buildTooBig(spec: TooBigSpec): Buffer {
  const source = spec.source ?? spec.offending.dst;
  const destination = spec.offending.src;
  const ip =
    spec.offending.family === 4
      ? icmpv4FragNeeded(source, destination, spec.mtu, spec.offending.packet)
      : icmpv6PacketTooBig(source, destination, spec.mtu, spec.offending.packet);
  return Buffer.concat([
    ethernetHeader(spec.ethernet, spec.offending.family === 4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6),
    ip,
  ]);
}

function icmpv4FragNeeded(src: Buffer, dst: Buffer, mtu: number, quoted: Buffer): Buffer {
  const quote = quoted.subarray(0, ICMPV4_MAX_DATAGRAM - 20 - 8);
  const packet = Buffer.alloc(20 + 8 + quote.length);
  packet[0] = 0x45;
  packet.writeUInt16BE(packet.length, 2);
  // Identification 0 with DF: an atomic datagram (RFC 6864 §4.1).
  packet.writeUInt16BE(0x4000, 6);
  packet[8] = DEFAULT_TTL;
  packet[9] = IP_PROTO_ICMP;
  src.copy(packet, 12);
  dst.copy(packet, 16);
  packet.writeUInt16BE(csum16(packet.subarray(0, 20)), 10);
  const icmp = packet.subarray(20);
  icmp[0] = 3;
  icmp[1] = 4;
  // Bytes 4–5 unused (0), 6–7 the next-hop MTU (RFC 1191 §4).
  icmp.writeUInt16BE(mtu, 6);
  quote.copy(icmp, 8);
  icmp.writeUInt16BE(csum16(icmp), 2);
  return packet;
}

function icmpv6PacketTooBig(src: Buffer, dst: Buffer, mtu: number, quoted: Buffer): Buffer {
  const quote = quoted.subarray(0, ICMPV6_MAX_PACKET - 40 - 8);
  const packet = Buffer.alloc(40 + 8 + quote.length);
  packet.writeUInt32BE(0x6000_0000, 0);
  packet.writeUInt16BE(8 + quote.length, 4);
  packet[6] = IP_PROTO_ICMPV6;
  packet[7] = DEFAULT_TTL;
  src.copy(packet, 8);
  dst.copy(packet, 24);
  const icmp = packet.subarray(40);
  icmp[0] = 2;
  icmp[1] = 0;
  icmp.writeUInt32BE(mtu, 4);
  quote.copy(icmp, 8);
  icmp.writeUInt16BE(icmpv6Checksum(src, dst, icmp), 2);
  return packet;
}

function isIcmpError(ip: IpView, errorTypes: Set<number>): boolean {
  const type = ip.payload[0];
  return type !== undefined && errorTypes.has(type);
}
