/**
 * Echo replies to pings of the switch's own provider addresses (ICMP echo, RFC 792; ICMPv6
 * echo, RFC 4443 §4): operators check the underlay by pinging NVE PAs, and a hardware switch
 * answers those from its CPU. The data plane punts ICMP / ICMPv6 addressed to a local PA
 * (PuntReason_t.ICMP_TO_SELF, p4/include/tunnel_decap.p4); the reply is built here and goes
 * back out of the port the request came in on, to the MAC it came from (the underlay next
 * hop), so it needs no route lookup and works before the underlay has routes.
 *
 * As a host does (RFC 1122 §3.2.2.6): the reply carries the request's identifier, sequence
 * number and data unchanged, the request's TOS / traffic class, and is sent only for a
 * request with a correct checksum, from a unicast source, to a unicast PA of this switch (a
 * PA multicast group (R10) is local too, but is not answered from). IPv4 options of the
 * request are not reflected (record route / timestamp are a SHOULD; an NVE drops them).
 */
import { csum16 } from "../../../common/checksum.js";
import {
  DEFAULT_TTL,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  ethernetHeader,
  IP_PROTO_ICMP,
  IP_PROTO_ICMPV6,
  icmpv6Checksum,
  isUnicast,
} from "./build.js";
import {
  type EthernetView,
  formatAddress,
  type IpView,
  PuntFrameError,
  parseEthernet,
  parseIp,
} from "./frame.js";

const ICMP_ECHO_REPLY = 0;
const ICMP_ECHO_REQUEST = 8;
const ICMPV6_ECHO_REQUEST = 128;
const ICMPV6_ECHO_REPLY = 129;
const ICMP_HEADER_BYTES = 8;

export type EchoResult =
  | {
      reply: Buffer;
      /** "ICMP echo 192.0.2.9 → 192.0.2.1 (id 7, seq 1, 64 bytes)" */
      request: string;
    }
  | { refusal: string };

/**
 * The echo reply to a punted frame (as received, from its Ethernet header on), or why none is
 * sent. `isOwnAddress` says whether an address is one of the switch's unicast PAs. Frames that
 * cannot be read throw PuntFrameError naming the layer.
 */
export function echoReply(frame: Buffer, isOwnAddress: (address: Buffer) => boolean): EchoResult {
  const ethernet = parseEthernet(frame, "request Ethernet");
  const parsed = parseIp(ethernet.etherType, ethernet.payload, "request");
  if (!parsed) {
    const type = ethernet.etherType.toString(16).padStart(4, "0");
    throw new PuntFrameError("request Ethernet", `EtherType 0x${type} is not IP`);
  }
  const ip = withoutPadding(parsed);
  const icmpProtocol = ip.family === 4 ? IP_PROTO_ICMP : IP_PROTO_ICMPV6;
  const name = ip.family === 4 ? "ICMP" : "ICMPv6";
  const what = `${formatAddress(ip.src)} → ${formatAddress(ip.dst)}`;
  if (ip.protocol !== icmpProtocol) {
    return {
      refusal: `${what}: IP protocol ${ip.protocol} is not ${name}${ip.family === 6 ? " (extension headers are not answered)" : ""}`,
    };
  }
  if (ip.fragmentOffset !== 0 || ip.moreFragments) return { refusal: `${what}: a fragment` };
  const icmp = ip.payload;
  if (icmp.length < ICMP_HEADER_BYTES) {
    throw new PuntFrameError(
      `request ${name}`,
      `${icmp.length} bytes, header is ${ICMP_HEADER_BYTES}`,
    );
  }
  const [type, code] = [icmp[0] as number, icmp[1] as number];
  const request = ip.family === 4 ? ICMP_ECHO_REQUEST : ICMPV6_ECHO_REQUEST;
  if (type !== request || code !== 0) {
    return { refusal: `${what}: ${name} type ${type} code ${code} is not an echo request` };
  }
  const checksum = ip.family === 4 ? csum16(icmp) : icmpv6Checksum(ip.src, ip.dst, icmp);
  if (checksum !== 0)
    return { refusal: `${what}: ${name} checksum is wrong (RFC 1122: discarded)` };
  if (!isUnicast(ip.src)) return { refusal: `${what}: source is not a unicast address` };
  if (!isOwnAddress(ip.dst)) {
    return { refusal: `${what}: destination is no unicast PA of this switch` };
  }
  if ((ethernet.src[0] as number) & 1) {
    return {
      refusal: `${what}: Ethernet source ${formatAddress(ethernet.src)} is a group address`,
    };
  }
  return {
    reply: buildReply(ethernet, ip),
    request: `${name} echo ${what} (id ${icmp.readUInt16BE(4)}, seq ${icmp.readUInt16BE(6)}, ${icmp.length - ICMP_HEADER_BYTES} bytes of data)`,
  };
}

/**
 * The IP packet without what follows it in the frame (the padding of a minimum-size frame):
 * the data plane admits IP to its PAs only when the lengths agree that far (RFC 1812 §5.2.2).
 */
function withoutPadding(ip: IpView): IpView {
  const length = ip.family === 4 ? ip.packet.readUInt16BE(2) : 40 + ip.packet.readUInt16BE(4);
  if (length > ip.packet.length || length < ip.headerLength) {
    throw new PuntFrameError(
      `request IPv${ip.family}`,
      `length ${length} disagrees with the ${ip.packet.length} bytes received`,
    );
  }
  const packet = ip.packet.subarray(0, length);
  return { ...ip, packet, payload: packet.subarray(ip.headerLength) };
}

function buildReply(ethernet: EthernetView, ip: IpView): Buffer {
  // Back to the station the request came from, on the same VLAN, from the MAC it was sent to.
  const header = ethernetHeader(
    { src: ethernet.dst, dst: ethernet.src, vlan: ethernet.vlan },
    ip.family === 4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6,
  );
  const icmpLength = ip.payload.length;
  if (ip.family === 4) {
    const packet = Buffer.alloc(20 + icmpLength);
    packet[0] = 0x45;
    packet[1] = ip.packet[1] as number;
    packet.writeUInt16BE(packet.length, 2);
    // Identification 0 with DF: an atomic datagram (RFC 6864 §4.1); the reply is as long as
    // the request, which came over this very link.
    packet.writeUInt16BE(0x4000, 6);
    packet[8] = DEFAULT_TTL;
    packet[9] = IP_PROTO_ICMP;
    ip.dst.copy(packet, 12);
    ip.src.copy(packet, 16);
    packet.writeUInt16BE(csum16(packet.subarray(0, 20)), 10);
    const icmp = packet.subarray(20);
    ip.payload.copy(icmp);
    icmp[0] = ICMP_ECHO_REPLY;
    icmp.writeUInt16BE(0, 2);
    icmp.writeUInt16BE(csum16(icmp), 2);
    return Buffer.concat([header, packet]);
  }
  const packet = Buffer.alloc(40 + icmpLength);
  // Version 6, the request's traffic class, flow label 0.
  const trafficClass = (ip.packet.readUInt32BE(0) >>> 20) & 0xff;
  packet.writeUInt32BE(((0x6 << 28) | (trafficClass << 20)) >>> 0, 0);
  packet.writeUInt16BE(icmpLength, 4);
  packet[6] = IP_PROTO_ICMPV6;
  packet[7] = DEFAULT_TTL;
  ip.dst.copy(packet, 8);
  ip.src.copy(packet, 24);
  const icmp = packet.subarray(40);
  ip.payload.copy(icmp);
  icmp[0] = ICMPV6_ECHO_REPLY;
  icmp.writeUInt16BE(0, 2);
  icmp.writeUInt16BE(icmpv6Checksum(ip.dst, ip.src, icmp), 2);
  return Buffer.concat([header, packet]);
}
