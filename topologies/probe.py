#!/usr/bin/python3
"""Tagged probes inside a VM: what the demo and the e2e tests use to see which VM a frame
really reached. Tenants share CAs and MACs, so an echo reply alone cannot tell whether the
blue VM or the red VM with the same address answered; a tag in the payload can.

  probe.py listen [--iface eth0]
      prints {"ready": true}, then one JSON line per received frame whose payload holds a
      tag: {"tag": "...", "kind": "icmp-echo" | "raw", "dst_mac", "src_mac", "ttl"}.
      Tags are TAG_MAGIC followed by 4 hex digits, as `ping -p` repeats them in the payload.
  probe.py send --tag HHHH [--iface eth0] [--dst ff:ff:ff:ff:ff:ff]
      sends one Ethernet frame built by Scapy (the tests' packet reference) from the VM's
      MAC to dst, EtherType 0x88B5 (local experimental), carrying the tag.
"""

import argparse
import json
import re
import socket
import sys

TAG_MAGIC = b'NVG'       # ping -p pattern: 4e5647 + 2 tag bytes
ETH_P_ALL = 0x0003
ETHERTYPE_PROBE = 0x88B5
_tag_re = re.compile(re.escape(TAG_MAGIC) + b'(..)', re.S)


def _mac(raw):
    return ':'.join('%02x' % b for b in raw)


def _ttl(frame):
    """IPv4 TTL or IPv6 hop limit (None for other frames): a routed frame has one less."""
    ethertype = int.from_bytes(frame[12:14], 'big')
    if ethertype == 0x0800 and len(frame) > 22:
        return frame[22]
    if ethertype == 0x86DD and len(frame) > 21:
        return frame[21]
    return None


def _kind(frame):
    ethertype = int.from_bytes(frame[12:14], 'big')
    if ethertype == 0x0800 and len(frame) > 34 and frame[23] == 1 and frame[34] == 8:
        return 'icmp-echo'
    if ethertype == 0x86DD and len(frame) > 54 and frame[20] == 58 and frame[54] == 128:
        return 'icmp-echo'
    return 'raw' if ethertype == ETHERTYPE_PROBE else None


def listen(iface):
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.bind((iface, 0))
    print(json.dumps({'ready': True}), flush=True)
    while True:
        frame, address = sock.recvfrom(65535)
        if address[2] == socket.PACKET_OUTGOING:
            continue
        kind = _kind(frame)
        if kind is None:
            continue
        match = _tag_re.search(frame, 14)
        if match:
            print(json.dumps({'tag': match.group(1).hex(), 'kind': kind,
                              'dst_mac': _mac(frame[0:6]), 'src_mac': _mac(frame[6:12]),
                              'ttl': _ttl(frame)}),
                  flush=True)


def send(iface, tag, dst):
    from scapy.all import Ether, Raw, get_if_hwaddr, sendp
    payload = (TAG_MAGIC + bytes.fromhex(tag)) * 8
    frame = Ether(src=get_if_hwaddr(iface), dst=dst, type=ETHERTYPE_PROBE) / Raw(payload)
    sendp(frame, iface=iface, verbose=False)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    sub = parser.add_subparsers(dest='command', required=True)
    listen_cmd = sub.add_parser('listen')
    listen_cmd.add_argument('--iface', default='eth0')
    send_cmd = sub.add_parser('send')
    send_cmd.add_argument('--iface', default='eth0')
    send_cmd.add_argument('--tag', required=True, type=lambda t: bytes.fromhex(t) and t)
    send_cmd.add_argument('--dst', default='ff:ff:ff:ff:ff:ff')
    args = parser.parse_args(argv)
    if args.command == 'listen':
        try:
            listen(args.iface)
        except KeyboardInterrupt:
            return 0
    else:
        send(args.iface, args.tag, args.dst)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
