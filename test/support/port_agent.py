"""Packet agent for data-plane tests: runs inside the test's network namespace, holds one raw
socket per host-side veth (the switch's data ports are the peers), and speaks JSON lines on
stdin/stdout (topologies/json-lines.ts):

  {"op": "send", "port": P, "frames": [hex, ...], "quiet_ms": Q, "chunk": C, "chunk_quiet_ms": R}
      sends the frames out of port P's host end, C at a time, waiting after each chunk until
      nothing arrived for R ms (so the switch's queues never overflow), then returns every
      frame the switch sent on any port until nothing arrived for Q ms:
      {"out": [{"port": p, "frame": hex}, ...], "stray": n}; n counts frames that were
      already waiting before the send (late output of an earlier request).
  {"op": "listen", "quiet_ms": Q}
      the same without sending (frames the switch sends on its own, e.g. packet_out),
      including frames already waiting.

Frames are returned exactly as on the wire: the kernel hands 802.1Q tags to packet sockets
out of band (PACKET_AUXDATA), and they are put back in place here.

Usage: port_agent.py PORT=IFACE [PORT=IFACE ...]
"""

import json
import select
import socket
import struct
import sys

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_AUXDATA = 8
PACKET_OUTGOING = 4
TP_STATUS_VLAN_VALID = 1 << 4
TP_STATUS_VLAN_TPID_VALID = 1 << 6
AUXDATA = struct.Struct("=IIIHHHH")
MAX_FRAME = 65536


def open_port(iface):
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    sock.bind((iface, 0))
    sock.setblocking(False)
    return sock


def receive(sock):
    """One frame the switch sent (tag restored), or None for our own transmissions."""
    data, ancillary, _flags, address = sock.recvmsg(MAX_FRAME, socket.CMSG_SPACE(AUXDATA.size))
    if address[2] == PACKET_OUTGOING:
        return None
    for level, kind, payload in ancillary:
        if level == SOL_PACKET and kind == PACKET_AUXDATA and len(payload) >= AUXDATA.size:
            status, _len, _snap, _mac, _net, tci, tpid = AUXDATA.unpack_from(payload)
            if status & TP_STATUS_VLAN_VALID:
                if not status & TP_STATUS_VLAN_TPID_VALID:
                    tpid = 0x8100
                data = data[:12] + struct.pack("!HH", tpid, tci) + data[12:]
    return data


class Agent:
    def __init__(self, mapping):
        self.ports = {}
        self.by_fd = {}
        for port, iface in mapping:
            sock = open_port(iface)
            self.ports[port] = sock
            self.by_fd[sock.fileno()] = (port, sock)
        self.poller = select.poll()
        for fd in self.by_fd:
            self.poller.register(fd, select.POLLIN)

    def collect(self, timeout_ms):
        """Frames readable within timeout_ms (0: only those already waiting)."""
        frames = []
        for fd, _event in self.poller.poll(timeout_ms):
            port, sock = self.by_fd[fd]
            while True:
                try:
                    frame = receive(sock)
                except BlockingIOError:
                    break
                if frame is not None:
                    frames.append({"port": port, "frame": frame.hex()})
        return frames

    def until_quiet(self, quiet_ms):
        out = []
        while True:
            frames = self.collect(quiet_ms)
            if not frames:
                return out
            out.extend(frames)

    def send(self, request):
        stray = self.collect(0)
        sock = self.ports[request["port"]]
        frames = request["frames"]
        chunk = request.get("chunk") or len(frames) or 1
        out = []
        for start in range(0, len(frames), chunk):
            if start:
                out.extend(self.until_quiet(request["chunk_quiet_ms"]))
            for frame in frames[start:start + chunk]:
                sock.send(bytes.fromhex(frame))
        out.extend(self.until_quiet(request["quiet_ms"]))
        return {"out": out, "stray": len(stray)}

    def listen(self, request):
        return {"out": self.until_quiet(request["quiet_ms"]), "stray": 0}

    def serve(self):
        for line in sys.stdin:
            try:
                request = json.loads(line)
                op = request.get("op")
                if op == "send":
                    answer = self.send(request)
                elif op == "listen":
                    answer = self.listen(request)
                elif op == "hello":
                    answer = {"ports": sorted(self.ports)}
                else:
                    answer = {"error": "unknown op %r" % (op,)}
            except Exception as error:  # reported to the test, which fails with it
                answer = {"error": "%s: %s" % (type(error).__name__, error)}
            sys.stdout.write(json.dumps(answer) + "\n")
            sys.stdout.flush()


def main(argv):
    mapping = []
    for arg in argv:
        port, _, iface = arg.partition("=")
        mapping.append((int(port), iface))
    Agent(mapping).serve()


if __name__ == "__main__":
    main(sys.argv[1:])
