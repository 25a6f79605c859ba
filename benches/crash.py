#!/usr/bin/env python3
"""Crash harness: kills the server with SIGKILL while it acknowledges writes, restarts it on
the same data directory and checks that every acknowledged write came back.

Usage:
    benches/crash.py                                   # every mode, 20 cycles each
    benches/crash.py --modes always,rewrite --cycles 5 --seed 7
    benches/crash.py --bin /path/to/server --peer none --out-dir /tmp/crash

Options: --bin (server binary, redis-server style arguments), --modes, --cycles, --seed,
--writers, --batch, --preload-keys, --big-values, --peer (a second binary run through the
same modes for comparison, by default redis-server when it is installed; "none" skips it),
--peer-cycles, --out-dir (default benches/results). Needs only the Python standard library.

Modes (each has a data directory of its own that persists across its cycles, so every
restart loads what the previous crashes left):
    always    appendonly yes, appendfsync always: no acknowledged write may be lost.
    everysec  appendonly yes, appendfsync everysec: lost writes are measured (count and how
              long before the kill they were acknowledged).
    bgsave    appendonly no: BGSAVE again and again while writing; the kill lands while one
              is in progress. The server must come back with exactly the dataset of the last
              completed snapshot (or of the one being written, if it was renamed into place
              just before the kill), never a torn one.
    rewrite   appendonly yes, appendfsync always: BGREWRITEAOF again and again while writing;
              the kill lands while one is in progress. No acknowledged write may be lost.

Write pattern: writer connection w owns the list log:<w> and the keys w:<w>:<seq>. Its write
number seq is two pipelined commands, SET w:<w>:<seq> <tag> then RPUSH log:<w> <tag>, with
tag "<cycle>.<seq>"; the write is acknowledged once the RPUSH reply (which must be seq, the
new length) has been read. One connection's commands run in order, so every state the server
may legitimately restore holds, per writer, a prefix of that command stream: the list is
exactly seqs 1..L in order, and the keys w:<w>:1..S exist with S = L or L + 1. The
stream position 2L + (S - L) is compared with what the writer had acknowledged and sent;
DBSIZE must equal the preload plus those keys, so no key outside the prefix exists.

Results: one JSON line per cycle appended to <out-dir>/crash-results.jsonl, and a markdown
summary in <out-dir>/crash-report.md. Exit status 1 when always or rewrite lose an
acknowledged write, bgsave restores a torn state, a restart fails, or a restored state is
one the server could never have had (a write that was never sent, a duplicate, a gap).

SIGKILL ends the process, not the machine: what the server wrote to the kernel survives in
the page cache, so this measures what the server keeps in its own memory before replying,
not what fsync adds against a power cut. Every write here is acknowledged to the connection
that made it; replies that depend on another connection's write (a blocked BLMOVE served by
someone else's RPUSH) are checked by benches/crash_blocked.py.
"""

import argparse
import glob
import json
import os
import random
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_BIN = "/tmp/ferrostack-aa88a0b"
ALL_MODES = ["always", "everysec", "bgsave", "rewrite"]

# Server arguments per mode. Automatic rewrites are off so that only the rewrite mode
# rewrites, and snapshots happen only when the harness asks for them.
COMMON_ARGS = ["--save", "", "--bind", "127.0.0.1", "--auto-aof-rewrite-percentage", "0"]
MODE_ARGS = {
    "always": ["--appendonly", "yes", "--appendfsync", "always"],
    "everysec": ["--appendonly", "yes", "--appendfsync", "everysec"],
    "bgsave": ["--appendonly", "no"],
    "rewrite": ["--appendonly", "yes", "--appendfsync", "always"],
}
# The background operation a mode repeats, and the INFO persistence fields that show it.
BACKGROUND_OPS = {
    "bgsave": ("BGSAVE", "rdb_bgsave_in_progress", None, "rdb_last_bgsave_status"),
    "rewrite": (
        "BGREWRITEAOF",
        "aof_rewrite_in_progress",
        "aof_rewrite_scheduled",
        "aof_last_bgrewrite_status",
    ),
}
# Modes where losing an acknowledged write fails the run.
ZERO_LOSS_MODES = {"always", "rewrite"}

# How long writers run before the kill (plain modes), or before the harness starts aiming
# the kill at a background operation (bgsave, rewrite), in seconds.
KILL_AFTER = (0.2, 1.2)
# Give up waiting for a background operation to hit after this many seconds of trying.
AIM_TIMEOUT = 20.0
RESTART_TIMEOUT = 120.0
# everysec may lose about the last second or two; more is flagged in the report.
EVERYSEC_BOUND_MS = 2000.0
MGET_CHUNK = 5000


# ---------------------------------------------------------------------------------------
# A small RESP2 client.


class ReplyError(str):
    """An error reply (-ERR ...), returned as a value so pipelines can look at it."""


class UnexpectedReply(Exception):
    """A writer got a reply the server should not have given."""


def encode(*args):
    """One command as a RESP multibulk."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        if not isinstance(arg, bytes):
            arg = str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(out)


class Conn:
    def __init__(self, port, timeout=30.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rfile = self.sock.makefile("rb", buffering=1 << 16)

    def close(self):
        for closer in (self.rfile.close, self.sock.close):
            try:
                closer()
            except OSError:
                pass

    def send(self, payload):
        self.sock.sendall(payload)

    def read(self):
        line = self.rfile.readline()
        if not line.endswith(b"\r\n"):
            raise ConnectionError("connection closed")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return ReplyError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            if size < 0:
                return None
            data = self.rfile.read(size + 2)
            if len(data) != size + 2:
                raise ConnectionError("connection closed")
            return data[:-2]
        if kind == b"*":
            count = int(rest)
            return None if count < 0 else [self.read() for _ in range(count)]
        raise ConnectionError("bad reply line %r" % line)

    def call(self, *args):
        self.send(encode(*args))
        reply = self.read()
        if isinstance(reply, ReplyError):
            raise RuntimeError("%s: %s" % (args[0], reply))
        return reply

    def info(self, section):
        text = self.call("INFO", section).decode()
        return dict(
            line.split(":", 1) for line in text.splitlines() if ":" in line and not line.startswith("#")
        )


# ---------------------------------------------------------------------------------------
# The server process.


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One server binary on one data directory; restarted on that directory after a kill."""

    def __init__(self, binary, data_dir, mode):
        self.binary = binary
        self.data_dir = data_dir
        self.mode = mode
        self.log_path = os.path.join(data_dir, "..", os.path.basename(data_dir) + ".log")
        self.proc = None
        self.port = None

    def start(self):
        """Starts the server and waits until it answers PING; returns the time that took (ms)."""
        self.port = free_port()
        argv = [self.binary, "--port", str(self.port), "--dir", self.data_dir]
        argv += COMMON_ARGS + MODE_ARGS[self.mode]
        started = time.monotonic()
        with open(self.log_path, "ab") as log:
            log.write(b"\n=== harness: starting %s\n" % " ".join(map(shlex.quote, argv)).encode())
            log.flush()
            # A session of its own, so the kill also reaches any child it forks (a snapshot
            # or rewrite child of Redis): a crash takes the whole server down.
            self.proc = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.wait_ready(started + RESTART_TIMEOUT)
        return (time.monotonic() - started) * 1000

    def wait_ready(self, deadline):
        """Retries PING until it is answered with PONG (not -LOADING, not a refused connection)."""
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited with status %s while starting" % self.proc.returncode)
            if time.monotonic() > deadline:
                raise RuntimeError("server did not answer within %.0f s" % RESTART_TIMEOUT)
            try:
                conn = Conn(self.port, timeout=5)
                try:
                    if conn.call("PING") == "PONG":
                        return
                finally:
                    conn.close()
            except (OSError, RuntimeError):
                pass
            time.sleep(0.02)

    def kill(self):
        """SIGKILL to the server's process group; returns the monotonic time of the kill."""
        at = time.monotonic()
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        return at

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.kill()

    def log_tail(self, lines=15):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace").splitlines()[-lines:]
        except OSError:
            return []


# ---------------------------------------------------------------------------------------
# Writers.


def tag(cycle, seq):
    return b"%d.%d" % (cycle, seq)


class Writer(threading.Thread):
    """Pipelines writes seq, seq + 1, ... on one connection until the connection dies.

    Positions count commands in the writer's stream (write seq is positions 2*seq - 1 and
    2*seq). sent_pos is raised before a batch goes out and acked_pos after each reply is
    read, so another thread reading them gets a safe upper and lower bound.
    """

    def __init__(self, port, wid, cycle, first_seq, batch):
        super().__init__(daemon=True)
        self.port, self.wid, self.cycle, self.batch = port, wid, cycle, batch
        self.first_seq = first_seq
        self.sent_pos = self.acked_pos = 2 * (first_seq - 1)
        self.ack_times = []  # monotonic time of each acknowledged write, from first_seq on
        self.error = None  # a reply the server should not have given

    @property
    def acked_writes(self):
        return len(self.ack_times)

    def run(self):
        try:
            conn = Conn(self.port)
        except OSError:
            return
        try:
            seq = self.first_seq
            while True:
                self.write_batch(conn, seq)
                seq += self.batch
        except (OSError, ConnectionError):
            pass  # the kill
        except UnexpectedReply as e:
            self.error = str(e)
        finally:
            conn.close()

    def write_batch(self, conn, first):
        seqs = range(first, first + self.batch)
        payload = b"".join(
            encode(b"SET", b"w:%d:%d" % (self.wid, s), tag(self.cycle, s))
            + encode(b"RPUSH", b"log:%d" % self.wid, tag(self.cycle, s))
            for s in seqs
        )
        self.sent_pos = 2 * seqs[-1]
        conn.send(payload)
        for s in seqs:
            reply = conn.read()
            if reply != "OK":
                raise UnexpectedReply("SET w:%d:%d answered %r" % (self.wid, s, reply))
            self.acked_pos = 2 * s - 1
            reply = conn.read()
            # The new length: a duplicate or missing element before it shows here already.
            if reply != s:
                raise UnexpectedReply("RPUSH log:%d (write %d) answered %r" % (self.wid, s, reply))
            self.acked_pos = 2 * s
            self.ack_times.append(time.monotonic())


def positions(writers, attr):
    return {w.wid: getattr(w, attr) for w in writers}


def wait_for_first_acks(writers, timeout=15.0):
    deadline = time.monotonic() + timeout
    while any(w.acked_writes == 0 for w in writers):
        if time.monotonic() > deadline or any(not w.is_alive() for w in writers):
            raise RuntimeError("writers got no acknowledgement")
        time.sleep(0.005)


# ---------------------------------------------------------------------------------------
# Killing the server: after a random time, or inside a background operation.


def kill_after_random_time(server, rng):
    time.sleep(rng.uniform(*KILL_AFTER))
    return {"kill_t": server.kill(), "kill_during": None}


def op_state(conn, mode):
    """'running', 'done' (ok or failed) or 'pending' (scheduled, not started yet)."""
    _, running, scheduled, status = BACKGROUND_OPS[mode]
    info = conn.info("persistence")
    if info.get(running) == "1":
        return "running", None
    if scheduled and info.get(scheduled) == "1":
        return "pending", None
    return "done", info.get(status)


def wait_op_done(conn, mode):
    while True:
        state, status = op_state(conn, mode)
        if state == "done":
            return status == "ok"
        time.sleep(0.005)


def kill_during_background_op(server, writers, mode, rng):
    """Repeats BGSAVE / BGREWRITEAOF while the writers run. Once the random start time has
    passed, each new operation is given a random share of the usual operation's duration,
    then the server is killed at once if INFO still shows it running.

    Each operation's window brackets the moment its dataset was fixed, per writer, in stream
    positions: at least what was acknowledged before the command was sent, at most what was
    sent before its reply was read.
    """
    command = BACKGROUND_OPS[mode][0]
    aim_from = time.monotonic() + rng.uniform(*KILL_AFTER)
    give_up = aim_from + AIM_TIMEOUT
    durations = []
    out = {"ops_completed": 0, "completed_window": None, "running_window": None}
    conn = Conn(server.port)
    try:
        while True:
            time.sleep(rng.uniform(0.02, 0.15))
            low = positions(writers, "acked_pos")
            dump_before = dump_mtime(server.data_dir)
            conn.call(command)
            high = positions(writers, "sent_pos")
            started = time.monotonic()
            window = {wid: (low[wid], high[wid]) for wid in low}
            if started >= aim_from:
                usual = statistics.median(durations) if durations else 0.1
                time.sleep(rng.uniform(0.05, 1.0) * usual)
                if op_state(conn, mode)[0] == "running":
                    out.update(
                        running_window=window,
                        op_age_ms=(time.monotonic() - started) * 1000,
                        dump_before_op=dump_before,
                    )
                    out.update(kill_t=server.kill(), kill_during=mode)
                    return out
            ok = wait_op_done(conn, mode)
            durations.append(time.monotonic() - started)
            if ok:
                out["ops_completed"] += 1
                out["completed_window"] = window
            if time.monotonic() > give_up:
                out.update(kill_t=server.kill(), kill_during=None)
                return out
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------
# Reading back and checking what the restarted server holds.


def temp_files(data_dir):
    """Temporary files of snapshots and rewrites (temp-*), relative to the data directory."""
    found = glob.glob(os.path.join(data_dir, "temp-*")) + glob.glob(
        os.path.join(data_dir, "appendonlydir", "temp-*")
    )
    return sorted(os.path.relpath(p, data_dir) for p in found)


def dump_mtime(data_dir):
    """dump.rdb's modification time (ns), None when there is none: a snapshot renamed into
    place changes it."""
    try:
        return os.stat(os.path.join(data_dir, "dump.rdb")).st_mtime_ns
    except FileNotFoundError:
        return None


def disk_bytes(data_dir):
    return sum(os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(data_dir) for f in files)


def mget(conn, keys):
    values = []
    for i in range(0, len(keys), MGET_CHUNK):
        values += conn.call("MGET", *keys[i : i + MGET_CHUNK])
    return values


def read_writer(conn, wid, check_from, cycle, problems):
    """Reads writer wid's list and keys from seq check_from - 1 on (all of them when
    check_from is 1) and checks they form a prefix of its stream. Returns (L, S, tags) where
    tags maps each seq read to its tag."""
    length = conn.call("LLEN", b"log:%d" % wid)
    first = max(1, min(check_from, length) - 1)
    entries = conn.call("LRANGE", b"log:%d" % wid, first - 1, -1) if length else []
    tags, last_cycle = {}, -1
    for seq, entry in enumerate(entries, start=first):
        entry_cycle, _, entry_seq = entry.partition(b".")
        if int(entry_seq) != seq or int(entry_cycle) > cycle or int(entry_cycle) < last_cycle:
            problems.append("log:%d[%d] is %r" % (wid, seq - 1, entry))
            break
        tags[seq], last_cycle = entry, int(entry_cycle)
    if len(entries) != length - first + 1 and length:
        problems.append("log:%d: LLEN %d but LRANGE gave %d" % (wid, length, len(entries)))
    keys = [b"w:%d:%d" % (wid, seq) for seq in range(first, length + 2)]
    values = mget(conn, keys)
    for seq, value in zip(range(first, length + 1), values):
        if value != tags.get(seq):
            problems.append("w:%d:%d is %r, log has %r" % (wid, seq, value, tags.get(seq)))
            break
    extra = values[-1]  # the SET of write L + 1 may have run without its RPUSH
    if extra is not None and not extra.endswith(b".%d" % (length + 1)):
        problems.append("w:%d:%d is %r" % (wid, length + 1, extra))
    return length, length + (extra is not None), tags


def check_preload(conn, preload_keys, big_values, rng, problems):
    for i in rng.sample(range(preload_keys), min(100, preload_keys)):
        value = conn.call("GET", b"pre:%d" % i)
        if value != preload_value(i):
            problems.append("pre:%d is %r" % (i, value))
            break
    for i in range(big_values):
        if conn.call("GETRANGE", b"big:%d" % i, -16, -1) != big_value(i)[-16:]:
            problems.append("big:%d changed" % i)


def manifest_files(data_dir):
    """The files the AOF manifest lists, and the files in appendonlydir it does not list."""
    aof_dir = os.path.join(data_dir, "appendonlydir")
    manifests = glob.glob(os.path.join(aof_dir, "*.manifest"))
    if not manifests:
        return [], []
    listed = []
    with open(manifests[0]) as f:
        for line in f:
            words = line.split()
            if "file" in words:
                listed.append(words[words.index("file") + 1])
    present = set(os.listdir(aof_dir)) - {os.path.basename(manifests[0])}
    return listed, sorted(present - set(listed))


def check_rdb_with_redis(data_dir):
    """Whether redis-check-rdb accepts dump.rdb (None when it or the file is missing)."""
    tool = shutil.which("redis-check-rdb")
    path = os.path.join(data_dir, "dump.rdb")
    if not tool or not os.path.exists(path):
        return None
    done = subprocess.run([tool, path], capture_output=True, timeout=120)
    return done.returncode == 0


# ---------------------------------------------------------------------------------------
# Preload: enough data that snapshots and rewrites take a while.


def preload_value(i):
    return b"preload-value-%d-" % i + b"x" * 24


def big_value(i):
    return (b"big-%d-" % i) * (1024 * 1024 // 8)


def preload(port, keys, big_values):
    conn = Conn(port)
    try:
        chunk = 10000
        for start in range(0, keys, chunk):
            count = min(chunk, keys - start)
            conn.send(b"".join(encode(b"SET", b"pre:%d" % i, preload_value(i)) for i in range(start, start + count)))
            for _ in range(count):
                if conn.read() != "OK":
                    raise RuntimeError("preload SET failed")
        for i in range(big_values):
            conn.call("SET", b"big:%d" % i, big_value(i))
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------
# One mode: its data directory, its cycles.


class ModeRun:
    """A mode's state across cycles: the server, what each writer's stream holds now, and
    (bgsave) the window of the snapshot on disk."""

    def __init__(self, args, binary, label, mode, work_dir, rng):
        self.args, self.label, self.mode, self.rng = args, label, mode, rng
        self.data_dir = os.path.join(work_dir, "%s-%s" % (label, mode))
        os.makedirs(self.data_dir)
        self.server = Server(binary, self.data_dir, mode)
        self.lengths = {wid: 0 for wid in range(args.writers)}  # L per writer
        self.snapshot_window = None  # bgsave: positions the snapshot on disk holds

    def expected_dbsize(self, stream):
        lists = sum(1 for length, _ in stream.values() if length)
        return self.args.preload_keys + self.args.big_values + lists + sum(s for _, s in stream.values())

    def setup(self):
        """First start on the empty directory, then the preload (saved at once for bgsave,
        so every restart has a snapshot to load)."""
        self.server.start()
        preload(self.server.port, self.args.preload_keys, self.args.big_values)
        if self.mode == "bgsave":
            conn = Conn(self.server.port)
            try:
                conn.call("SAVE")
            finally:
                conn.close()
            self.snapshot_window = {wid: (0, 0) for wid in self.lengths}

    def run_cycle(self, cycle, last):
        record = {"server": self.label, "mode": self.mode, "cycle": cycle}
        temps_before = set(temp_files(self.data_dir))
        writers = [
            Writer(self.server.port, wid, cycle, self.lengths[wid] + 1, self.args.batch)
            for wid in sorted(self.lengths)
        ]
        writing_from = time.monotonic()
        for w in writers:
            w.start()
        kill = self.write_and_kill(writers)
        for w in writers:
            w.join(30)
        new_temps = sorted(set(temp_files(self.data_dir)) - temps_before)
        record.update(
            kill_after_ms=round((kill["kill_t"] - writing_from) * 1000, 1),
            kill_during=kill["kill_during"],
            temp_files_at_kill=new_temps,
            op_age_ms=round(kill.get("op_age_ms", 0), 1) if kill["kill_during"] else None,
            ops_completed=kill.get("ops_completed"),
            sent=sum(w.sent_pos // 2 - w.first_seq + 1 for w in writers),
            acked=sum(w.acked_writes for w in writers),
        )
        problems = [w.error for w in writers if w.error]
        if "error" in kill:
            problems.append(kill["error"])
            record["log_tail"] = self.server.log_tail()
        try:
            record["restart_ms"] = round(self.server.start(), 1)
        except RuntimeError as e:
            record.update(restart_failed=str(e), problems=problems + [str(e)], log_tail=self.server.log_tail())
            return record
        self.verify(record, writers, kill, cycle, last, problems)
        record["problems"] = problems
        return record

    def write_and_kill(self, writers):
        """Waits until the writers are acknowledged, then kills the server as the mode asks.
        A server that dies or stops answering on its own is killed too and reported."""
        try:
            wait_for_first_acks(writers)
            if self.mode in BACKGROUND_OPS:
                return kill_during_background_op(self.server, writers, self.mode, self.rng)
            return kill_after_random_time(self.server, self.rng)
        except (OSError, ConnectionError, RuntimeError) as e:
            exited = self.server.proc.poll()
            return {
                "kill_t": self.server.kill(),
                "kill_during": None,
                "error": "before the kill: %s (server exit status %s)" % (e, exited),
            }

    def verify(self, record, writers, kill, cycle, last, problems):
        started = time.monotonic()
        conn = Conn(self.server.port)
        try:
            stream = {}
            tags = {}
            for w in writers:
                check_from = 1 if last else w.first_seq
                length, keys, tags[w.wid] = read_writer(conn, w.wid, check_from, cycle, problems)
                stream[w.wid] = (length, keys)
            dbsize = conn.call("DBSIZE")
            if dbsize != self.expected_dbsize(stream):
                problems.append("DBSIZE %d, expected %d" % (dbsize, self.expected_dbsize(stream)))
            check_preload(conn, self.args.preload_keys, self.args.big_values, self.rng, problems)
            info = conn.info("persistence")
        finally:
            conn.close()
        record["dbsize"] = dbsize
        self.count_lost(record, writers, kill, cycle, tags)
        pos = {wid: 2 * length + (keys - length) for wid, (length, keys) in stream.items()}
        if self.mode == "bgsave":
            self.check_snapshot(record, pos, kill, info, problems)
        else:
            self.check_log(record, writers, pos, problems)
        if self.mode in ("always", "everysec", "rewrite"):
            record["aof_files"], record["aof_unlisted"] = manifest_files(self.data_dir)
            missing = [f for f in record["aof_files"] if not os.path.exists(os.path.join(self.data_dir, "appendonlydir", f))]
            if missing:
                problems.append("the AOF manifest lists missing files %s" % missing)
        record["disk_bytes"] = disk_bytes(self.data_dir)
        # Temporary files of operations the kills interrupted, still there after the restart.
        leftovers = temp_files(self.data_dir)
        record["leftover_temp_files"] = len(leftovers)
        record["leftover_temp_bytes"] = sum(os.path.getsize(os.path.join(self.data_dir, f)) for f in leftovers)
        if self.mode == "bgsave" and self.args.rdb_check:
            record["rdb_check"] = check_rdb_with_redis(self.data_dir)
        self.lengths = {wid: length for wid, (length, _) in stream.items()}
        record["verify_ms"] = round((time.monotonic() - started) * 1000, 1)

    def count_lost(self, record, writers, kill, cycle, tags):
        """Acknowledged writes whose element is not in the list with this cycle's tag."""
        lost_times = []
        for w in writers:
            for seq, acked_at in enumerate(w.ack_times, start=w.first_seq):
                if tags[w.wid].get(seq) != tag(cycle, seq):
                    lost_times.append(acked_at)
        record["lost"] = len(lost_times)
        record["present"] = record["acked"] - len(lost_times)
        # Replies can be read after the kill (they were sent before it): clamp at zero.
        record["lost_span_ms"] = round(max(0.0, kill["kill_t"] - min(lost_times)) * 1000, 1) if lost_times else 0.0
        newest = max((w.ack_times[-1] for w in writers if w.ack_times), default=kill["kill_t"])
        record["newest_ack_to_kill_ms"] = round((kill["kill_t"] - newest) * 1000, 1)

    def check_log(self, record, writers, pos, problems):
        """AOF modes: nothing past what was sent (a phantom write); losses are counted above."""
        for w in writers:
            if pos[w.wid] > w.sent_pos:
                problems.append("writer %d: position %d restored, only %d sent" % (w.wid, pos[w.wid], w.sent_pos))
        if record["lost"] and self.mode in ZERO_LOSS_MODES:
            problems.append("%d acknowledged writes lost" % record["lost"])
        if record["lost_span_ms"] > EVERYSEC_BOUND_MS:
            record["warning"] = "lost writes span %.0f ms" % record["lost_span_ms"]

    def check_snapshot(self, record, pos, kill, info, problems):
        """The restored dataset must be the last completed snapshot, or the one in progress
        if it finished just before the kill (then its temp file has been renamed away)."""
        completed = kill.get("completed_window") or self.snapshot_window
        running = kill.get("running_window")

        def within(window):
            return window is not None and all(lo <= pos[wid] <= hi for wid, (lo, hi) in window.items())

        renamed = running is not None and dump_mtime(self.data_dir) != kill["dump_before_op"]
        if within(completed):
            record["restored"] = "last completed snapshot"
        elif within(running) and renamed:
            record["restored"] = "snapshot finished just before the kill"
        else:
            record["restored"] = "torn"
            problems.append("restored positions %s match no snapshot (completed %s, running %s)" % (pos, completed, running))
        loaded = int(info.get("rdb_last_load_keys_loaded", -1))
        if loaded != record["dbsize"]:
            problems.append("rdb_last_load_keys_loaded %d but DBSIZE %d" % (loaded, record["dbsize"]))
        # The file on disk is the one just loaded: the next cycle's baseline is exact.
        self.snapshot_window = {wid: (p, p) for wid, p in pos.items()}


def run_mode(args, binary, label, mode, work_dir, cycles, rng, results_file):
    run = ModeRun(args, binary, label, mode, work_dir, rng)
    records = []
    try:
        run.setup()
        for cycle in range(1, cycles + 1):
            record = run.run_cycle(cycle, last=cycle == cycles)
            record.update(run_id=args.run_id, seed=args.seed)
            results_file.write(json.dumps(record) + "\n")
            results_file.flush()
            records.append(record)
            print_cycle(record)
            if "restart_failed" in record:
                break
    finally:
        run.server.stop()
    return records


def print_cycle(r):
    during = "mid-%s" % r["kill_during"] if r.get("kill_during") else "writing"
    print(
        "%-10s %-8s #%-3d killed %s after %6.0f ms: acked %6d lost %4d (%6.1f ms)  restart %s ms  %s"
        % (
            r["server"],
            r["mode"],
            r["cycle"],
            during,
            r["kill_after_ms"],
            r["acked"],
            r.get("lost", -1),
            r.get("lost_span_ms", 0.0),
            r.get("restart_ms", "FAILED"),
            "; ".join(r["problems"]) or "ok",
        ),
        flush=True,
    )


# ---------------------------------------------------------------------------------------
# Report.


def summarize(records):
    """Per (server, mode): the figures of the report table."""
    rows = []
    keys = []
    for r in records:
        if (r["server"], r["mode"]) not in keys:
            keys.append((r["server"], r["mode"]))
    for server, mode in keys:
        rs = [r for r in records if (r["server"], r["mode"]) == (server, mode)]
        restarts = [r["restart_ms"] for r in rs if "restart_ms" in r]
        rows.append(
            {
                "server": server,
                "mode": mode,
                "cycles": len(rs),
                "mid_op": sum(1 for r in rs if r.get("kill_during")),
                "mid_file": sum(1 for r in rs if r.get("kill_during") and r["temp_files_at_kill"]),
                "acked": sum(r["acked"] for r in rs),
                "lost": sum(r.get("lost", 0) for r in rs),
                "max_lost": max((r.get("lost", 0) for r in rs), default=0),
                "max_span": max((r.get("lost_span_ms", 0) for r in rs), default=0),
                "restart_median": statistics.median(restarts) if restarts else None,
                "restart_max": max(restarts) if restarts else None,
                "failures": sum(1 for r in rs if r["problems"]),
                "restart_failures": sum(1 for r in rs if "restart_failed" in r),
                "finished_before_kill": sum(1 for r in rs if r.get("restored") == "snapshot finished just before the kill"),
                "rdb_checked": sum(1 for r in rs if r.get("rdb_check") is not None),
                "rdb_ok": sum(1 for r in rs if r.get("rdb_check")),
                "final_dbsize": rs[-1].get("dbsize"),
                "final_disk_mb": rs[-1].get("disk_bytes", 0) / 1e6,
                "leftovers": rs[-1].get("leftover_temp_files", 0),
                "leftover_mb": rs[-1].get("leftover_temp_bytes", 0) / 1e6,
            }
        )
    return rows


def fmt_ms(value):
    return "—" if value is None else "{:,.0f}".format(value)


def write_report(path, args, records, load_before, load_after, elapsed):
    rows = summarize(records)
    out = ["# Crash harness: acknowledged writes across SIGKILL", ""]
    out.append("Command: `%s`" % args.command_line)
    out.append("")
    out.append(
        "Machine: %d CPUs; 1-minute load average %.2f before the run, %.2f after (server, harness "
        "and any other work share the CPUs). Run took %.0f s. Seed %d; %d writer connections, "
        "batches of %d writes (2 commands each); preload %s keys and %d values of 1 MiB."
        % (os.cpu_count(), load_before, load_after, elapsed, args.seed, args.writers, args.batch,
           "{:,}".format(args.preload_keys), args.big_values)
    )
    out.append("")
    out.append("Binaries: ours `%s`%s." % (args.bin, "; peer `%s` (%s)" % (args.peer, args.peer_version) if args.peer else ""))
    out.append("")
    out.append(
        "| server | mode | cycles | killed mid-op | of which mid-file | acked writes | lost | max lost/cycle "
        "| max lost span (ms) | restart median (ms) | restart max (ms) | cycles failing a check |"
    )
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        mid = "%d" % row["mid_op"] if row["mode"] in BACKGROUND_OPS else "—"
        mid_file = "%d" % row["mid_file"] if row["mode"] in BACKGROUND_OPS else "—"
        out.append(
            "| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %d |"
            % (row["server"], row["mode"], row["cycles"], mid, mid_file, "{:,}".format(row["acked"]),
               "{:,}".format(row["lost"]), "{:,}".format(row["max_lost"]), fmt_ms(row["max_span"]), fmt_ms(row["restart_median"]),
               fmt_ms(row["restart_max"]), row["failures"])
        )
    out.append("")
    out += report_notes(rows, records)
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def report_notes(rows, records):
    out = ["## Reading the table", ""]
    out.append(
        "- *acked writes*: writes whose reply the harness had read before the connection died "
        "(each write is `SET w:<w>:<seq>` + `RPUSH log:<w>`, acknowledged by the RPUSH reply). "
        "*lost*: acknowledged writes missing after the restart. *lost span*: from the "
        "acknowledgement of the oldest lost write to the kill."
    )
    out.append(
        "- *killed mid-op*: kills that landed while INFO persistence showed the BGSAVE / "
        "BGREWRITEAOF running; *of which mid-file*: those where the operation's temporary "
        "file (`temp-*`) was on disk after the kill, i.e. the kill hit the file being written."
    )
    out.append(
        "- bgsave loses by design what was written after the last completed snapshot; its check "
        "is that the restored dataset is exactly one snapshot's point in time (per writer, a "
        "prefix of the command stream between what was acknowledged before BGSAVE was sent and "
        "what was sent before its reply), never a torn or temporary file."
    )
    out.append(
        "- SIGKILL ends the process, not the machine: data already handed to the kernel survives "
        "in the page cache, so `everysec` loses nothing here unless the server held acknowledged "
        "writes in its own memory. What `always` adds over `everysec` (the fsync before the "
        "reply) only shows against a power cut, which this harness does not simulate."
    )
    out.append("- restart: from starting the process until PING is answered with PONG (LOADING retried).")
    out.append(
        "- Every write here is acknowledged to the connection that made it. Replies that depend "
        "on another connection's write (a blocked BLMOVE served by someone else's RPUSH) are "
        "checked by `benches/crash_blocked.py`."
    )
    out.append("")
    out.append("## Details")
    out.append("")
    for row in rows:
        details = []
        if row["mode"] == "bgsave":
            details.append(
                "%d restores were the snapshot that completed just before the kill" % row["finished_before_kill"]
            )
            if row["rdb_checked"]:
                details.append("redis-check-rdb accepted dump.rdb after %d of %d restarts" % (row["rdb_ok"], row["rdb_checked"]))
        if row["final_dbsize"] is not None:
            details.append(
                "after the last restart %s keys, %.0f MB in the data directory, of which %d "
                "temporary files (%.0f MB) left by interrupted operations"
                % ("{:,}".format(row["final_dbsize"]), row["final_disk_mb"], row["leftovers"], row["leftover_mb"])
            )
        if row["restart_failures"]:
            details.append("%d restarts FAILED" % row["restart_failures"])
        problems = [p for r in records if (r["server"], r["mode"]) == (row["server"], row["mode"]) for p in r["problems"]]
        details.append("problems: %s" % ("; ".join(problems[:5]) if problems else "none"))
        out.append("- %s %s: %s." % (row["server"], row["mode"], "; ".join(details)))
    return out


# ---------------------------------------------------------------------------------------


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bin", default=DEFAULT_BIN, help="server binary (redis-server style options)")
    p.add_argument("--modes", default=",".join(ALL_MODES), help="comma-separated, of %s" % ALL_MODES)
    p.add_argument("--cycles", type=int, default=20, help="kill/restart cycles per mode")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--writers", type=int, default=2, help="writer connections")
    p.add_argument("--batch", type=int, default=100, help="writes per pipelined batch")
    p.add_argument("--preload-keys", type=int, default=200000)
    p.add_argument("--big-values", type=int, default=16, help="1 MiB values in the preload")
    p.add_argument("--peer", default="auto", help="second binary for comparison: a path, 'auto' (redis-server if installed) or 'none'")
    p.add_argument("--peer-cycles", type=int, default=5)
    p.add_argument("--no-rdb-check", dest="rdb_check", action="store_false", help="skip redis-check-rdb on dump.rdb")
    p.add_argument("--out-dir", default=os.path.join(REPO, "benches", "results"))
    args = p.parse_args()
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = set(args.modes) - set(ALL_MODES)
    if unknown:
        p.error("unknown modes: %s" % ", ".join(sorted(unknown)))
    if args.peer == "auto":
        args.peer = shutil.which("redis-server")
    elif args.peer == "none":
        args.peer = None
    args.run_id = time.strftime("%Y%m%dT%H%M%S")
    args.command_line = " ".join(shlex.quote(a) for a in ["benches/crash.py"] + sys.argv[1:])
    return args


def binary_version(binary):
    try:
        done = subprocess.run([binary, "--version"], capture_output=True, timeout=10)
        return done.stdout.decode(errors="replace").strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "unknown"


def failed(records):
    """Records of the tested binary that fail the run."""
    return [r for r in records if r["server"] == "ours" and r["problems"]]


def main():
    args = parse_args()
    if not os.access(args.bin, os.X_OK):
        sys.exit("no server binary at %s" % args.bin)
    args.peer_version = binary_version(args.peer) if args.peer else None
    os.makedirs(args.out_dir, exist_ok=True)
    rng = random.Random(args.seed)
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    work_dir = tempfile.mkdtemp(prefix="crash-harness-")
    records = []
    try:
        with open(os.path.join(args.out_dir, "crash-results.jsonl"), "a") as results:
            targets = [("ours", args.bin, args.cycles)]
            if args.peer:
                targets.append(("redis", args.peer, args.peer_cycles))
            for label, binary, cycles in targets:
                for mode in args.modes:
                    records += run_mode(args, binary, label, mode, work_dir, cycles, rng, results)
    finally:
        if os.environ.get("CRASH_KEEP_DIR"):
            print("kept %s" % work_dir)
        else:
            shutil.rmtree(work_dir, ignore_errors=True)
    report = os.path.join(args.out_dir, "crash-report.md")
    write_report(report, args, records, load_before, os.getloadavg()[0], time.monotonic() - started)
    print("report: %s" % report)
    bad = failed(records)
    if bad:
        print("FAILED: %d cycles of ours failed a check" % len(bad), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
