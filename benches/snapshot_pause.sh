#!/bin/sh
# Snapshot costs for N small string keys (default 1,000,000): how long clients wait while
# BGSAVE starts (a PING every millisecond on another connection; its worst round trip),
# and SAVE's time and file size (the server log has the write alone, "DB saved on disk").
# Usage: benches/snapshot_pause.sh [ferrostack binary] [keys]   (needs redis-cli, python3)
BIN=${1:-target/release/ferrostack}; KEYS=${2:-1000000}; PORT=17431
DIR=$(mktemp -d /tmp/ferro-snapbench-XXXXXX)
python3 - "$KEYS" > $DIR/load.resp <<'PY'
import sys
out = sys.stdout.buffer
for i in range(int(sys.argv[1])):
    k, v = b"key:%d" % i, b"value:%d" % i
    out.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
PY
$BIN --port $PORT --save "" --dir $DIR > $DIR/log.txt 2>&1 &
SPID=$!
sleep 1
redis-cli -p $PORT --pipe < $DIR/load.resp | tail -1
redis-cli -p $PORT dbsize
# Client-side view of the pause: a PING probe every 1 ms while BGSAVE runs.
python3 - $PORT <<'PY'
import socket, sys, time, threading
port = int(sys.argv[1])
def conn():
    s = socket.create_connection(("127.0.0.1", port)); s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1); return s
probe = conn(); ctl = conn()
worst = [0.0]; stop = [False]
def ping_loop():
    while not stop[0]:
        t = time.perf_counter(); probe.sendall(b"PING\r\n"); probe.recv(64)
        worst[0] = max(worst[0], time.perf_counter() - t); time.sleep(0.001)
th = threading.Thread(target=ping_loop); th.start(); time.sleep(0.2)
for round in (1, 2):
    worst[0] = 0.0
    t = time.perf_counter(); ctl.sendall(b"BGSAVE\r\n"); r = ctl.recv(100); bg = time.perf_counter() - t
    print("BGSAVE #%d reply %r after %.1f ms" % (round, r, bg * 1000))
    while True:
        ctl.sendall(b"INFO persistence\r\n"); time.sleep(0.05); info = ctl.recv(65536)
        if b"rdb_bgsave_in_progress:0" in info: break
    print("worst PING round trip during BGSAVE #%d: %.1f ms" % (round, worst[0] * 1000))
stop[0] = True; th.join()
t = time.perf_counter(); ctl.sendall(b"SAVE\r\n"); r = ctl.recv(100)
print("SAVE %r in %.2f s" % (r, time.perf_counter() - t))
PY
ls -la $DIR/dump.rdb
grep -E "Background saving|DB saved on disk" $DIR/log.txt
redis-cli -p $PORT shutdown nosave >/dev/null 2>&1
wait $SPID 2>/dev/null
rm -rf $DIR
