#!/usr/bin/env python3
"""Bulk TCP transfer with an end-to-end checksum, for the tunnels tests.

    tunnels-xfer.py serve ADDR PORT     accept one connection, read to EOF,
                                        print "<bytes> <sha256>"
    tunnels-xfer.py send ADDR PORT MB   send MB MiB of seeded pseudo-random
                                        data, print "<bytes> <sha256>"

The sender writes in 256 KiB chunks so the kernel makes TSO super-packets
and the receiving forwarder sees trains of full segments (the case the
user backend's coalescing handles).  Both ends time out after 30 s.
"""
import hashlib
import random
import socket
import sys


def serve(addr, port):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(1)
    ls.settimeout(30)
    print("listening", flush=True)
    c, _ = ls.accept()
    c.settimeout(30)
    h = hashlib.sha256()
    n = 0
    while True:
        b = c.recv(1 << 20)
        if not b:
            break
        h.update(b)
        n += len(b)
    print(n, h.hexdigest(), flush=True)


def send(addr, port, mib):
    rnd = random.Random(4)
    chunk = rnd.randbytes(1 << 18)
    s = socket.create_connection((addr, port), timeout=30)
    h = hashlib.sha256()
    n = 0
    for i in range(mib * 4):
        # Vary the data so a misplaced segment changes the digest.
        b = bytes([i & 0xff]) + chunk[1:]
        s.sendall(b)
        h.update(b)
        n += len(b)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    s.close()
    print(n, h.hexdigest(), flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) == 5 and sys.argv[1] == "send":
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit("usage: tunnels-xfer.py serve ADDR PORT | send ADDR PORT MIB")
