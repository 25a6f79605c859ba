#!/usr/bin/env python3
"""Crash check for blocked clients under `appendfsync always`: a BLMOVE that another
connection's RPUSH serves must be in the AOF (and fsynced) before its reply goes out.

Each round, on one server (appendonly yes, appendfsync always):
    A:  BLMOVE q dst LEFT RIGHT 0        (waits)
    A2: BLPOP q2 0                       (waits; a second wake-up, see below)
    B:  RPUSH q item<n>; RPUSH q2 x; EVAL <a script that counts to 30 million> 0
        (one pipelined batch: the pushes serve A and A2, then the script keeps B's
        connection busy for a while before B's replies, and B's AOF flush, are due)
As soon as A's reply (item<n>: moved to dst) is read, the server gets SIGKILL; after the
restart dst must hold item<n>, since A was told it does.

Redis answers A only after B's whole batch and the fsync that covers it, so nothing A saw
can be lost. The second blocked client makes the wake-up of A run on another thread than
B's, as it does whenever several clients are woken at once.

Usage:
    benches/crash_blocked.py [--bin PATH] [--rounds N] [--peer redis-server|none]
Exit status 1 when the tested binary loses an acknowledged BLMOVE. Standard library only.
"""

import argparse
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

DEFAULT_BIN = "/tmp/ferrostack-aa88a0b"
SLOW_SCRIPT = b"local i=0 while i<30000000 do i=i+1 end return i"


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def call(port, command):
    with connect(port) as s:
        s.sendall(command)
        return s.recv(4096)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary, data_dir, port):
    argv = [binary, "--port", str(port), "--dir", data_dir, "--save", ""]
    argv += ["--appendonly", "yes", "--appendfsync", "always"]
    with open(data_dir + ".log", "ab") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    for _ in range(1500):
        try:
            if call(port, b"PING\r\n") == b"+PONG\r\n":
                return proc
        except OSError:
            pass
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    raise RuntimeError("%s did not start" % binary)


def moves_in_aof(data_dir):
    """LMOVE records in the incremental AOF files (BLMOVE is appended as LMOVE)."""
    files = sorted(glob.glob(os.path.join(data_dir, "appendonlydir", "*.incr.aof")))
    return sum(open(f, "rb").read().count(b"LMOVE") for f in files)


def one_round(port, n):
    """Runs the three clients; returns A's reply and the ms until it came."""
    a, a2, b = connect(port), connect(port), connect(port)
    try:
        a.sendall(b"BLMOVE q dst LEFT RIGHT 0\r\n")
        a2.sendall(b"BLPOP q2 0\r\n")
        time.sleep(0.2)  # both are waiting
        started = time.monotonic()
        script = b"*3\r\n$4\r\nEVAL\r\n$%d\r\n%s\r\n$1\r\n0\r\n" % (len(SLOW_SCRIPT), SLOW_SCRIPT)
        b.sendall(b"RPUSH q item%d\r\nRPUSH q2 x\r\n" % n + script)
        reply = a.recv(100)
        return reply, (time.monotonic() - started) * 1000
    finally:
        for s in (a, a2, b):
            s.close()


def run(binary, rounds):
    """Returns the number of acknowledged BLMOVEs lost out of `rounds`."""
    data_dir = tempfile.mkdtemp(prefix="crash-blocked-")
    port = free_port()
    proc = start(binary, data_dir, port)
    lost = 0
    try:
        for n in range(rounds):
            reply, ms = one_round(port, n)
            in_file = moves_in_aof(data_dir)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            proc = start(binary, data_dir, port)
            dst = call(port, b"LRANGE dst 0 -1\r\n")
            kept = b"item%d\r\n" % n in dst
            lost += not kept
            print(
                "  round %d: A read %r after %.0f ms (LMOVE records in the AOF then: %d); "
                "after SIGKILL + restart dst holds item%d: %s" % (n, reply, ms, in_file, n, kept)
            )
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        shutil.rmtree(data_dir, ignore_errors=True)
        os.remove(data_dir + ".log")
    return lost


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bin", default=DEFAULT_BIN)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--peer", default="auto", help="redis-server path, 'auto' or 'none'")
    args = p.parse_args()
    peer = shutil.which("redis-server") if args.peer == "auto" else (None if args.peer == "none" else args.peer)
    print("%s:" % args.bin)
    lost = run(args.bin, args.rounds)
    print("  acknowledged BLMOVEs lost: %d of %d" % (lost, args.rounds))
    if peer:
        print("%s:" % peer)
        peer_lost = run(peer, args.rounds)
        print("  acknowledged BLMOVEs lost: %d of %d" % (peer_lost, args.rounds))
    sys.exit(1 if lost else 0)


if __name__ == "__main__":
    main()
