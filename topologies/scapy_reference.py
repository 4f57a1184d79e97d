"""Reference frames for the data-plane tests, built by Scapy, independently of the code under
test. Speaks JSON lines on stdin/stdout (topologies/json-lines.ts):

  {"eval": [expr, ...]}  ->  {"results": [value, ...]}

Each expression is Python evaluated with Scapy's names and the helpers below. Packets and
bytes come back as {"$bytes": hex}; lists, dicts, numbers, strings, booleans and None as JSON.
Every request starts from the same random seed, so fuzzed frames are reproducible.
"""

import json
import random
import socket
import sys
import zlib

from scapy.all import *  # noqa: F401,F403  (the expressions use Scapy's whole namespace)
from scapy.all import (ARP, GRE, ICMP, IP, TCP, UDP, Dot1Q, Ether, ICMPv6EchoReply,
                       ICMPv6EchoRequest, IPv6, IPv6ExtHdrFragment, Packet, fuzz)

SEED = 7637


def gre_key(vsid, flow_id):
    """RFC 7637: key = VSID << 8 | FlowID."""
    return (vsid << 8) | flow_id


def nvgre4(smac, dmac, src, dst, vsid, flow_id, inner, ttl=64, vlan=None):
    """NVGRE over IPv4 as RFC 7637 puts it on the wire: DF set, protocol 47, GRE 20 00 65 58.
    The IPv4 identification is 0 (DF packets are never reassembled, RFC 6864)."""
    outer = Ether(src=smac, dst=dmac)
    if vlan is not None:
        outer = outer / Dot1Q(vlan=vlan)
    return (outer / IP(src=src, dst=dst, ttl=ttl, flags="DF", id=0, tos=0)
            / GRE(key_present=1, proto=0x6558, key=gre_key(vsid, flow_id)) / inner)


def nvgre6(smac, dmac, src, dst, vsid, flow_id, inner, hlim=64, fl=0, vlan=None):
    """NVGRE over IPv6: next header 47, flow label as given."""
    outer = Ether(src=smac, dst=dmac)
    if vlan is not None:
        outer = outer / Dot1Q(vlan=vlan)
    return (outer / IPv6(src=src, dst=dst, hlim=hlim, fl=fl, tc=0)
            / GRE(key_present=1, proto=0x6558, key=gre_key(vsid, flow_id)) / inner)


def _addr(value, width):
    return value.to_bytes(width, "big")


ECHO_TYPES = {1: (0, 8), 58: (128, 129)}  # ICMP / ICMPv6 echo reply and request
L4_BYTES = {6: 20, 17: 8, 1: 4, 58: 4}  # TCP, UDP, ICMP, ICMPv6 fixed headers


def _l4_complete(proto, l4, ipv6_payload_len=None):
    """Whether the L4 header the NVE reads (TCP, UDP, ICMP / ICMPv6 and an echo's identifier,
    or a Neighbor Solicitation with its one option) is all there."""
    need = L4_BYTES.get(proto, 0)
    if proto in ECHO_TYPES and len(l4) >= 4 and l4[0] in ECHO_TYPES[proto]:
        need = 8
    if proto == 58 and len(l4) >= 4 and l4[0] == 135:
        need = ipv6_payload_len if ipv6_payload_len == 32 else 24
    return len(l4) >= need


def l3_parses(frame):
    """Whether the NVE can read the tenant frame's L3 (and L4) headers, by RFC 791 / 8200 /
    826 and header sizes: ARP 28 bytes; IPv4 version 4, header length >= 5 and the whole
    header (options included) present; IPv6 version 6 and its 40 bytes; then, unless the
    packet is a fragment, its transport header. A frame of another EtherType has no L3 to
    read. (Tenant GRE is not looked into.)"""
    raw = bytes(frame)
    ether_type, body = int.from_bytes(raw[12:14], "big"), raw[14:]
    if ether_type == 0x0806:
        return len(body) >= 28
    if ether_type == 0x0800:
        if len(body) < 20 or body[0] >> 4 != 4 or body[0] & 0xF < 5:
            return False
        header = (body[0] & 0xF) * 4
        if len(body) < header:
            return False
        fragment = int.from_bytes(body[6:8], "big") & 0x3FFF
        return bool(fragment) or _l4_complete(body[9], body[header:])
    if ether_type == 0x86DD:
        if len(body) < 40 or body[0] >> 4 != 6:
            return False
        next_header, l4 = body[6], body[40:]
        if next_header == 44:
            if len(l4) < 8:
                return False
            if int.from_bytes(l4[2:4], "big") & 0xFFF9 or l4[0] not in (6, 17):
                return True
            next_header, l4 = l4[0], l4[8:]
        return _l4_complete(next_header, l4, int.from_bytes(body[4:6], "big"))
    return True


def flow_fields(frame):
    """The inner-flow fields the NVE hashes for the FlowID (p4/v1model/hasher.p4): destination
    and source MAC, EtherType, CA source and destination (IPv4 and ARP in the low 32 bits of
    128), IP protocol, L4 ports (an ICMP / ICMPv6 echo's identifier as the source port, R3);
    zeros where the frame has none, and all of them zero when its L3 cannot be read
    (l3_parses). The frame is the tenant frame as encapsulated (untagged)."""
    pkt = Ether(bytes(frame))
    src = dst = proto = sport = dport = 0
    echo = ICMP in pkt and pkt[ICMP].type in ECHO_TYPES[1]
    if not l3_parses(frame):
        pkt = Ether(bytes(pkt)[:14])  # nothing past L2 is read
    elif IP in pkt:
        src = int.from_bytes(socket.inet_aton(pkt[IP].src), "big")
        dst = int.from_bytes(socket.inet_aton(pkt[IP].dst), "big")
        proto = pkt[IP].proto
        if pkt[IP].frag or pkt[IP].flags.MF:  # a fragment's payload is not a header
            pkt = pkt[IP].copy()
            pkt.remove_payload()
    elif IPv6 in pkt:
        src = int.from_bytes(socket.inet_pton(socket.AF_INET6, pkt[IPv6].src), "big")
        dst = int.from_bytes(socket.inet_pton(socket.AF_INET6, pkt[IPv6].dst), "big")
        proto = pkt[IPv6].nh
        # Behind a fragment header only an atomic fragment's TCP / UDP is read.
        echo = IPv6ExtHdrFragment not in pkt
    elif ARP in pkt:
        src = int.from_bytes(socket.inet_aton(pkt[ARP].psrc), "big")
        dst = int.from_bytes(socket.inet_aton(pkt[ARP].pdst), "big")
    if TCP in pkt:
        sport, dport = pkt[TCP].sport, pkt[TCP].dport
    elif UDP in pkt:
        sport, dport = pkt[UDP].sport, pkt[UDP].dport
    elif echo and ICMP in pkt:
        sport = pkt[ICMP].id
    elif echo and (ICMPv6EchoRequest in pkt or ICMPv6EchoReply in pkt):
        sport = (pkt[ICMPv6EchoRequest] if ICMPv6EchoRequest in pkt else pkt[ICMPv6EchoReply]).id
    raw = bytes(frame)
    return (raw[0:6] + raw[6:12] + raw[12:14] + _addr(src, 16) + _addr(dst, 16)
            + _addr(proto, 1) + _addr(sport, 2) + _addr(dport, 2))


def flow_hash(frame):
    """CRC-32 (IEEE 802.3, as zlib) of the flow fields, reduced to 20 bits: the low 8 bits are
    the FlowID, all 20 the outer IPv6 flow label."""
    return zlib.crc32(flow_fields(frame)) % (1 << 20)


def flow_id(frame):
    return flow_hash(frame) & 0xFF


def nvgre_delivery(frame, router_mac, pa):
    """(key, inner frame) when `frame` is well-formed NVGRE over IPv4 sent to `pa` at
    `router_mac`, else None. Well-formed, from the RFCs rather than from the switch: IPv4
    (RFC 791 / 1812) version 4, header length >= 5 and present, correct checksum, not a
    fragment (RFC 7637 lets the receiver discard those), total length matching the frame
    (only minimum-frame padding may follow); GRE (RFC 2784 / 2890 / 7637) C = 0, R = 0,
    K = 1, S = 0, s = 0, recursion < 4, version 0, protocol 0x6558, and an untagged inner
    Ethernet header."""
    frame = bytes(frame)
    if len(frame) < 14 or frame[0:6] != mac2str(router_mac) or frame[12:14] != b"\x08\x00":
        return None
    ip = frame[14:]
    if len(ip) < 20 or ip[0] >> 4 != 4 or ip[0] & 0xF < 5 or len(ip) < (ip[0] & 0xF) * 4:
        return None
    header = (ip[0] & 0xF) * 4
    total = int.from_bytes(ip[2:4], "big")
    if total > len(ip) or (total < len(ip) and len(frame) > 60) or total < header:
        return None
    if checksum(ip[:header]) != 0 or int.from_bytes(ip[6:8], "big") & 0x3FFF:
        return None
    if ip[9] != 47 or ip[16:20] != socket.inet_aton(pa):
        return None
    gre = ip[header:total]
    # Byte 0: C R K S s recursion(3); byte 1: A flags(4) version(3).
    if len(gre) < 8 or gre[0] & 0xF8 != 0x20 or gre[0] & 0x04:
        return None
    if gre[1] & 0x07 or gre[2:4] != b"\x65\x58":
        return None
    inner = gre[8:]
    if len(inner) < 14 or inner[12:14] in (b"\x81\x00", b"\x88\xa8", b"\x91\x00"):
        return None
    return [int.from_bytes(gre[4:8], "big"), inner]


def fuzzed(template, count):
    """`count` frames of Scapy's fuzz() applied to the template (fields the template leaves
    at their defaults get random values); reproducible through the per-request seed."""
    return [bytes(fuzz(template)) for _ in range(count)]


def encode(value):
    if isinstance(value, Packet):
        return {"$bytes": bytes(value).hex()}
    if isinstance(value, (bytes, bytearray)):
        return {"$bytes": bytes(value).hex()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError("cannot return a %s" % type(value).__name__)


def main():
    names = dict(globals())
    for line in sys.stdin:
        try:
            request = json.loads(line)
            random.seed(SEED)
            answer = {"results": [encode(eval(expr, names)) for expr in request["eval"]]}
        except Exception as error:  # reported to the test, which fails with it
            answer = {"error": "%s: %s" % (type(error).__name__, error)}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
