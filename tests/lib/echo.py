#!/usr/bin/env python3
"""The lab's echo service: it answers every TCP connection and UDP datagram with the
source address it saw, so a test knows from which address the client reached "the
internet" (the VPN's exit or the uplink's NAT address). Standard library only.

  echo.py serve PORT
      TCP and UDP on PORT, IPv4 and IPv6; answers "ADDRESS\\n" (an IPv4 client
      shows as plain a.b.c.d, not ::ffff:a.b.c.d), from the address asked.

  echo.py ask tcp|udp HOST PORT [TIMEOUT]
      one question; prints the address the service saw. Exit status 1 and a
      message on stderr when no answer came within TIMEOUT seconds (default 1).

  echo.py stream PORT HOST [HOST...]
      continuous traffic until SIGTERM: every 20 ms one question, cycling through
      TCP and UDP to each HOST; one line per question on stdout:
          MILLISECONDS PROTO HOST ANSWER      (ANSWER: the address, or "-" and why)
      A question waits at most 0.5 s for its answer.
"""

import selectors
import signal
import socket
import struct
import sys
import time


def plain(address):
    return address[7:] if address.startswith("::ffff:") else address


# Linux's IP_PKTINFO (<linux/in.h>), which the socket module does not name.
IP_PKTINFO = 8


def udp_socket(family, port):
    """A UDP socket that learns each datagram's destination address, so that the
    answer leaves from it: a host with several addresses (inet) must not answer
    from whichever address its route prefers, or a connected client drops it."""
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
    else:
        sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
    sock.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", port))
    return sock


def answer_datagram(sock):
    _, ancillary, _, peer = sock.recvmsg(2048, socket.CMSG_SPACE(32))
    reply = []
    for level, kind, data in ancillary:
        if level == socket.IPPROTO_IP and kind == IP_PKTINFO:
            # struct in_pktinfo { int ifindex; in_addr spec_dst; in_addr addr; }:
            # the answer's source is spec_dst, set to the address asked.
            reply = [(level, kind, struct.pack("i4s4s", 0, data[8:12], bytes(4)))]
        elif level == socket.IPPROTO_IPV6 and kind == socket.IPV6_PKTINFO:
            # struct in6_pktinfo { in6_addr addr; int ifindex; }
            reply = [(level, kind, struct.pack("16si", data[:16], 0))]
    sock.sendmsg([(peer[0] + "\n").encode()], reply, 0, peer)


def serve(port):
    selector = selectors.DefaultSelector()
    listener = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    listener.bind(("::", port))
    listener.listen(64)
    selector.register(listener, selectors.EVENT_READ, "tcp")
    for family in (socket.AF_INET, socket.AF_INET6):
        selector.register(udp_socket(family, port), selectors.EVENT_READ, "udp")
    for key in selector.get_map().values():
        key.fileobj.setblocking(False)
    print(f"echo: serving TCP and UDP on port {port}", flush=True)
    while True:
        for key, _ in selector.select():
            try:
                if key.data == "udp":
                    answer_datagram(key.fileobj)
                else:
                    connection, peer = key.fileobj.accept()
                    with connection:
                        connection.setblocking(True)
                        connection.settimeout(1)
                        connection.sendall((plain(peer[0]) + "\n").encode())
            except OSError as error:
                # A client that vanished mid-answer must not stop the service.
                print(f"echo: {error}", file=sys.stderr, flush=True)


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def ask(proto, host, port, timeout):
    """The address the service saw, or raises OSError."""
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    with socket.socket(family_of(host), kind) as sock:
        sock.settimeout(timeout)
        sock.connect((host, port))
        if proto == "udp":
            sock.send(b"?")
            answer = sock.recv(2048)
        else:
            answer = b""
            while not answer.endswith(b"\n"):
                chunk = sock.recv(2048)
                if not chunk:
                    break
                answer += chunk
    text = answer.decode(errors="replace").strip()
    if not text:
        raise OSError("empty answer")
    return text


def stream(port, hosts):
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    targets = [(proto, host) for host in hosts for proto in ("tcp", "udp")]
    start = time.monotonic()
    index = 0
    while not stopping:
        proto, host = targets[index % len(targets)]
        index += 1
        began = time.monotonic()
        try:
            answer = ask(proto, host, port, 0.5)
        except OSError as error:
            answer = "- " + (error.strerror or str(error) or type(error).__name__)
        print(f"{int((began - start) * 1000)} {proto} {host} {answer}", flush=True)
        rest = 0.02 - (time.monotonic() - began)
        if rest > 0:
            time.sleep(rest)


def main(argv):
    try:
        if len(argv) == 3 and argv[1] == "serve":
            serve(int(argv[2]))
        elif len(argv) in (5, 6) and argv[1] == "ask" and argv[2] in ("tcp", "udp"):
            timeout = float(argv[5]) if len(argv) == 6 else 1.0
            print(ask(argv[2], argv[3], int(argv[4]), timeout))
        elif len(argv) >= 4 and argv[1] == "stream":
            stream(int(argv[2]), argv[3:])
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except OSError as error:
        print(f"echo: {' '.join(argv[1:])}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
