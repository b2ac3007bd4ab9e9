#!/usr/bin/env python3
"""Hostile peers for the WAN DNS forwarder's robustness test (robustness.sh).

  chaos.py client HOST PORT SEED   throw malformed, truncated, oversized and random
                                   datagrams and TCP streams at the forwarder, then exit
  chaos.py upstream HOST PORT      a DNS server that misbehaves on purpose, chosen by the
                                   first label of the question (see UPSTREAM_BEHAVIOURS)

Standard library only. The client's randomness is seeded so a failure can be replayed.
"""
import os
import random
import socket
import struct
import sys
import threading
import time


def encode_name(name):
    out = b""
    for label in name.split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def query(qid, name, qtype=1, edns=None, flags=0x0100):
    message = struct.pack(">HHHHHH", qid, flags, 1, 0, 0, 1 if edns else 0)
    message += encode_name(name) + struct.pack(">HH", qtype, 1)
    if edns:
        message += b"\0" + struct.pack(">HHIH", 41, edns, 0, 0)
    return message


def parse_question(message):
    """(id, flags, name, question bytes) of a query, or None."""
    if len(message) < 12:
        return None
    qid, flags, qdcount = struct.unpack(">HHH", message[:6])
    if qdcount != 1:
        return None
    position, labels = 12, []
    while position < len(message):
        length = message[position]
        if length == 0:
            break
        if length & 0xC0:
            return None
        labels.append(message[position + 1 : position + 1 + length].decode("latin-1"))
        position += 1 + length
    end = position + 5
    if end > len(message):
        return None
    return qid, flags, ".".join(labels), message[12:end]


def answer(qid, question, flags=0x8180, records=b"", ancount=0):
    return struct.pack(">HHHHHH", qid, flags, 1, ancount, 0, 0) + question + records


def a_record(last=7):
    return b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + bytes([203, 0, 113, last])


# --- the client ---------------------------------------------------------------------------


def mutations(rng, base):
    """Malformed variants of one well-formed query."""
    for cut in range(len(base)):
        yield base[:cut]
    for _ in range(400):
        flipped = bytearray(base)
        for _ in range(rng.randint(1, 4)):
            flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
        yield bytes(flipped)
    header = bytearray(base[:12])
    for count in (0, 2, 255, 65535):
        for field in (4, 6, 8, 10):
            changed = bytearray(header)
            changed[field : field + 2] = struct.pack(">H", count)
            yield bytes(changed) + base[12:]
    # Names: a compression loop, a pointer past the end, labels longer than what follows,
    # a 64-byte label, a name of more than 255 bytes, extended label types.
    for name in (b"\xc0\x0c", b"\xc0\xff", b"\x3f" + b"a" * 10, b"\x40" + b"a" * 64,
                 (b"\x3f" + b"a" * 63) * 5 + b"\0", b"\x41\x00", b"\x80\x00"):
        yield bytes(header[:4]) + b"\0\x01\0\0\0\0\0\0" + name + b"\0\x01\0\x01"
    # OPT records that lie about their length, or sit in the wrong section.
    opt = b"\0" + struct.pack(">HHIH", 41, 4096, 0, 60000)
    yield bytes(header[:10]) + b"\0\x01" + base[12:] + opt
    yield bytes(header[:6]) + b"\0\x01\0\0\0\0" + base[12:] + opt + b"x" * 10
    yield bytes(header[:10]) + b"\xff\xff" + base[12:]


def udp_chaos(rng, target, family):
    sender = socket.socket(family, socket.SOCK_DGRAM)
    sender.setblocking(False)
    sent = 0

    def send(payload):
        nonlocal sent
        try:
            sender.sendto(payload, target)
            sent += 1
        except (BlockingIOError, OSError):
            time.sleep(0.001)

    base = query(0x1234, "uplink.lab", edns=1232)
    for payload in mutations(rng, base):
        send(payload)
    sizes = [0, 1, 2, 11, 12, 13, 17, 100, 512, 513, 1232, 1500, 4096, 65507]
    for _ in range(1500):
        send(os.urandom(rng.choice(sizes) if rng.random() < 0.3 else rng.randrange(0, 600)))
    for _ in range(50):
        send(b"\x41" * 65507)  # the largest datagram, read as a query with opcode 8
    # Responses (QR set) must be dropped, not answered or forwarded.
    for _ in range(50):
        send(answer(rng.randrange(65536), encode_name("uplink.lab") + b"\0\x01\0\x01"))
    sender.close()
    return sent


def tcp_connect(target, family):
    connection = socket.socket(family, socket.SOCK_STREAM)
    connection.settimeout(2)
    connection.connect(target)
    return connection


def tcp_chaos(rng, target, family, hold):
    framed = lambda m: struct.pack(">H", len(m)) + m
    cases = [
        lambda: os.urandom(rng.randrange(1, 3000)),
        lambda: b"\0\0",                                  # a zero-length message
        lambda: b"\xff\xff" + os.urandom(100),            # announces 65535, sends 100
        lambda: b"\0",                                     # half a length prefix
        lambda: framed(b"\x12"),                          # a message shorter than a header
        lambda: framed(answer(1, encode_name("x.lab") + b"\0\x01\0\x01")),  # a response
        lambda: b"".join(framed(query(i, "uplink.lab")) for i in range(40)),  # pipelined
        lambda: framed(query(7, "uplink.lab"))[:-3],       # cut short
        lambda: framed(os.urandom(65535)),                 # the largest frame, random
    ]
    for _ in range(6):
        for make in cases:
            try:
                connection = tcp_connect(target, family)
                connection.sendall(make())
                if rng.random() < 0.5:
                    # An abortive close (RST) with answers possibly still on their way.
                    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                          struct.pack("ii", 1, 0))
                connection.close()
            except OSError:
                pass
    # More connections than the forwarder takes, held open and silent: they must be
    # refused or closed by the idle timeout, and not keep others out for good.
    for _ in range(100):
        try:
            hold.append(tcp_connect(target, family))
        except OSError:
            break


def run_client(host, port, seed):
    rng = random.Random(seed)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    target = (host, port)
    print(f"chaos client: seed {seed}")
    sent = udp_chaos(rng, target, family)
    print(f"chaos client: {sent} datagrams sent")
    hold = []
    tcp_chaos(rng, target, family, hold)
    print(f"chaos client: TCP cases sent, holding {len(hold)} idle connections")
    # Hold them past the forwarder's idle timeout, then report how many it closed.
    time.sleep(float(os.environ.get("CHAOS_HOLD_SECONDS", "2")))
    closed = 0
    for connection in hold:
        connection.settimeout(0.1)
        try:
            if connection.recv(1) == b"":
                closed += 1
        except (socket.timeout, BlockingIOError):
            pass
        except OSError:
            closed += 1
        connection.close()
    print(f"chaos client: forwarder closed {closed} of {len(hold)} idle connections")
    return 0 if closed == len(hold) else 1


# --- the upstream -------------------------------------------------------------------------

UPSTREAM_BEHAVIOURS = {
    "garbage": "random datagrams only",
    "wrongid": "the answer with another ID",
    "badquestion": "the right ID with a question cut short",
    "otherquestion": "the right ID with another question",
    "flood": "200 random datagrams, then the right answer",
    "slow": "the right answer after 0.8 s",
    "huge": "the right answer padded to 65000 bytes",
    "tc-close": "TC over UDP; over TCP the connection closes unanswered",
    "tc-zero": "TC over UDP; over TCP a zero-length message",
    "tc-stall": "TC over UDP; over TCP 65535 announced, 10 sent, then nothing",
    "tc-garbage": "TC over UDP; over TCP a random message",
    "tc-wrongid": "TC over UDP; over TCP the answer with another ID",
    "tc-ok": "TC over UDP; over TCP the right answer",
}


def udp_reply(sock, message, peer):
    parsed = parse_question(message)
    if parsed is None:
        return
    qid, _, name, question = parsed
    label = name.split(".")[0]
    right = answer(qid, question, records=a_record(), ancount=1)
    if label == "garbage":
        for _ in range(3):
            sock.sendto(os.urandom(random.randrange(0, 600)), peer)
    elif label == "wrongid":
        sock.sendto(answer(qid ^ 0x5A5A, question, records=a_record(), ancount=1), peer)
    elif label == "badquestion":
        sock.sendto(answer(qid, question[:3]), peer)
    elif label == "otherquestion":
        sock.sendto(answer(qid, encode_name("evil.lab") + b"\0\x01\0\x01",
                           records=a_record(66), ancount=1), peer)
    elif label == "flood":
        for _ in range(200):
            sock.sendto(os.urandom(random.randrange(0, 100)), peer)
        sock.sendto(right, peer)
    elif label == "slow":
        threading.Timer(0.8, lambda: sock.sendto(right, peer)).start()
    elif label == "huge":
        sock.sendto(right + b"\0" * (65000 - len(right)), peer)
    elif label.startswith("tc-"):
        sock.sendto(answer(qid, question, flags=0x8380), peer)
    else:
        sock.sendto(right, peer)


def tcp_serve(connection):
    with connection:
        connection.settimeout(10)
        try:
            length = struct.unpack(">H", connection.recv(2, socket.MSG_WAITALL))[0]
            message = connection.recv(length, socket.MSG_WAITALL)
        except (OSError, struct.error):
            return
        parsed = parse_question(message)
        if parsed is None:
            return
        qid, _, name, question = parsed
        label = name.split(".")[0]
        framed = lambda m: struct.pack(">H", len(m)) + m
        try:
            if label == "tc-close":
                return
            if label == "tc-zero":
                connection.sendall(b"\0\0")
            elif label == "tc-stall":
                connection.sendall(b"\xff\xff" + b"\0" * 10)
                time.sleep(8)
            elif label == "tc-garbage":
                connection.sendall(framed(os.urandom(100)))
            elif label == "tc-wrongid":
                connection.sendall(framed(answer(qid ^ 1, question, records=a_record(), ancount=1)))
            else:
                connection.sendall(framed(answer(qid, question, records=a_record(9), ancount=1)))
            time.sleep(0.5)
        except OSError:
            pass


def run_upstream(host, port):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    udp = socket.socket(family, socket.SOCK_DGRAM)
    udp.bind((host, port))
    tcp = socket.socket(family, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((host, port))
    tcp.listen(64)

    def accept_loop():
        while True:
            connection, _ = tcp.accept()
            threading.Thread(target=tcp_serve, args=(connection,), daemon=True).start()

    threading.Thread(target=accept_loop, daemon=True).start()
    print(f"chaos upstream: serving on {host} port {port}", flush=True)
    while True:
        message, peer = udp.recvfrom(65535)
        udp_reply(udp, message, peer)


def main(argv):
    if len(argv) >= 4 and argv[1] == "client":
        seed = int(argv[4]) if len(argv) > 4 else random.randrange(1 << 32)
        return run_client(argv[2], int(argv[3]), seed)
    if len(argv) == 4 and argv[1] == "upstream":
        return run_upstream(argv[2], int(argv[3]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
