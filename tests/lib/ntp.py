#!/usr/bin/env python3
"""The lab's NTP server for inet: just enough of RFC 5905 for an SNTP client such as
systemd-timesyncd to accept its answers, and a log of who asked. Standard library only.

  ntp.py serve ADDRESS...
      UDP port 123 on each ADDRESS (bound to it, so that every answer leaves from the
      address the client asked: timesyncd drops answers from any other). Each client
      request (mode 3) gets a server reply (mode 4) carrying this machine's current time,
      and a line on stdout:
          request from SOURCE_ADDRESS
      The clock is never set here: this only reads it.
"""

import selectors
import socket
import struct
import sys
import time

PORT = 123
# Seconds from 1900-01-01 (NTP's era 0) to 1970-01-01 (the Unix epoch).
UNIX_TO_NTP = 2208988800
MODE_CLIENT = 3
MODE_SERVER = 4
# A server that has a clock to serve: stratum 1..15 and a leap indicator other than 3
# ("not synchronized"), or timesyncd ignores the reply.
STRATUM = 2
PRECISION = -20  # log2 seconds, about a microsecond


def plain(address):
    return address[7:] if address.startswith("::ffff:") else address


def ntp_time(seconds):
    whole = int(seconds)
    return struct.pack("!II", whole + UNIX_TO_NTP, int((seconds - whole) * 2**32) & 0xFFFFFFFF)


def reply(request, received):
    """The reply to one 48-byte client request, or None for anything else."""
    if len(request) < 48:
        return None
    version = (request[0] >> 3) & 0x7
    if request[0] & 0x7 != MODE_CLIENT or version not in (3, 4):
        return None
    poll = request[2]
    header = struct.pack(
        "!BBbb", (0 << 6) | (version << 3) | MODE_SERVER, STRATUM, poll, PRECISION
    )
    root_delay = struct.pack("!I", 0)
    root_dispersion = struct.pack("!I", 1 << 8)  # 1/256 s, in 16.16 fixed point
    reference_id = b"LAB\0"
    # The origin timestamp is the client's transmit timestamp, byte for byte: that is how
    # the client matches the reply to its request.
    origin = request[40:48]
    return (
        header
        + root_delay
        + root_dispersion
        + reference_id
        + ntp_time(received)
        + origin
        + ntp_time(received)
        + ntp_time(time.time())
    )


def serve(addresses):
    selector = selectors.DefaultSelector()
    for address in addresses:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        server = socket.socket(family, socket.SOCK_DGRAM)
        server.bind((address, PORT))
        selector.register(server, selectors.EVENT_READ)
    print("listening", flush=True)
    while True:
        for key, _ in selector.select():
            request, peer = key.fileobj.recvfrom(512)
            received = time.time()
            answer = reply(request, received)
            if answer is None:
                continue
            print(f"request from {plain(peer[0])}", flush=True)
            key.fileobj.sendto(answer, peer)


def main():
    if len(sys.argv) < 3 or sys.argv[1] != "serve":
        sys.stderr.write(__doc__)
        sys.exit(2)
    serve(sys.argv[2:])


if __name__ == "__main__":
    main()
