#!/usr/bin/env python3
"""Persistence benchmark: ferrostack against redis-server, both measured in the same run.

Four measurements, each repeated in rounds that alternate the two servers (the one that
goes first swaps every round), so background load on a shared machine hits both alike. The
report gives medians and the ratio ferrostack / redis-server, never a lone figure.

1. write    SET throughput (redis-benchmark) under each AOF setting: appendonly no, and
            appendonly yes with appendfsync no / everysec / always; unpipelined and
            pipelined, same client settings for both servers.
2. snapshot A mixed dataset (small strings, hashes with a 1.5 KB binary field, small sorted
            sets) loaded with `redis-cli --pipe`; SAVE timed as a client round trip, BGSAVE
            until INFO persistence says rdb_bgsave_in_progress:0 (polled every 10 ms);
            RDB file size / time = MB/s.
3. rewrite  BGREWRITEAOF until aof_rewrite_in_progress:0, with aof-use-rdb-preamble yes
            (the default: an RDB base) and no (a command base); base file size / time =
            MB/s; the report says which format each server actually wrote.
4. restart  Time from process start until PING answers +PONG (a loading server refuses
            connections or answers -LOADING), then DBSIZE must match: from an empty
            directory (process start alone), from the RDB file, and from the AOF left by
            each of the two rewrites.

Results are appended as JSON lines to <out-dir>/persistence-results.jsonl (every line
carries the run's start time) and the report is written to <out-dir>/persistence-report.md.

Usage:
    benches/persistence.py --bin target/release/ferrostack
    benches/persistence.py --bin /tmp/ferrostack --rounds 3 --only write
    benches/persistence.py --keys 200000 --only snapshot,restart
    benches/persistence.py --report-only        # the report again, from the results file

Only the standard library; needs redis-server, redis-benchmark and redis-cli on PATH.
MB means 10^6 bytes.
"""

import argparse
import datetime
import json
import os
import random
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import keyspace  # noqa: E402  (Server, resp_command, run_benchmark, Test)

REPO = keyspace.REPO
PHASES = ("write", "snapshot", "rewrite", "restart")
SERVERS = ("ferrostack", "redis-server")

# AOF settings of the write test, in report order, with the share of --requests each run
# sends: `always` waits for the disk and runs several times slower, so it sends fewer to
# keep each run near the same length.
WRITE_MODES = [
    ("appendonly no", {"appendonly": "no"}, 1),
    ("appendfsync no", {"appendonly": "yes", "appendfsync": "no"}, 1),
    ("appendfsync everysec", {"appendonly": "yes", "appendfsync": "everysec"}, 1),
    ("appendfsync always", {"appendonly": "yes", "appendfsync": "always"}, 0.25),
]
# Pipelined runs send --requests x min(P, this): faster, so more requests for a run long
# enough to measure.
PIPELINE_SCALE_CAP = 4
AOF_EVERYSEC = {"appendonly": "yes", "appendfsync": "everysec"}
SET_TEST = keyspace.Test("SET", builtin="set")

BLOB_BYTES = 1536
ZSET_MEMBERS = 16
WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike "
         "november oscar papa quebec romeo sierra tango uniform victor whiskey").split()


# ---------------------------------------------------------------- talking to a server


class ReplyError(Exception):
    """An error reply (-ERR ...) from the server."""


class Conn:
    """One RESP connection kept open (INFO is polled every 10 ms, so no reconnects)."""

    def __init__(self, port, timeout=300):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.file = self.sock.makefile("rb")

    def __call__(self, *argv):
        self.sock.sendall(keyspace.resp_command([str(a) for a in argv]))
        return self.read_reply()

    def read_reply(self):
        line = self.file.readline()
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise ReplyError(rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            return None if size < 0 else self.file.read(size + 2)[:-2].decode(errors="replace")
        if kind == b"*":
            size = int(rest)
            return None if size < 0 else [self.read_reply() for _ in range(size)]
        raise ReplyError(f"unexpected reply {line[:80]!r}")

    def info(self, section):
        fields = {}
        for line in self("INFO", section).splitlines():
            if ":" in line and not line.startswith("#"):
                name, value = line.split(":", 1)
                fields[name] = value
        return fields

    def close(self):
        self.file.close()
        self.sock.close()


class Node:
    """One server under test: its binary, its data directory, and the process (restartable).

    Every start passes `--save ""` (no automatic snapshots) and
    `--auto-aof-rewrite-percentage 0` (no automatic rewrites): either would land in the
    middle of another measurement; both are measured on their own here.
    """

    def __init__(self, label, binary, workdir):
        self.label = label
        self.binary = binary
        self.workdir = workdir
        self.dir = os.path.join(workdir, label)
        self.server = None
        self.starts = 0
        os.makedirs(self.dir)

    def argv(self, port, settings, data_dir):
        argv = [self.binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", data_dir,
                "--save", "", "--auto-aof-rewrite-percentage", "0"]
        for name, value in settings.items():
            argv += [f"--{name}", value]
        if self.label == "redis-server":
            argv += ["--daemonize", "no"]
        return argv

    def start(self, settings, data_dir=None, start_timeout=10.0, poll_s=0.05):
        """Starts the server; returns the seconds until it answered +PONG."""
        data_dir = data_dir or self.dir
        self.starts += 1
        log_path = os.path.join(self.workdir, f"{self.label}-{self.starts}.log")
        self.server = keyspace.Server(
            self.label, lambda port: self.argv(port, settings, data_dir),
            log_path=log_path, start_timeout=start_timeout, poll_s=poll_s)
        return self.server.ready_s

    def conn(self):
        return Conn(self.server.port)

    def stop(self):
        if self.server:
            self.server.stop()
            self.server = None

    def reset_dir(self):
        shutil.rmtree(self.dir)
        os.makedirs(self.dir)

    def rdb_size(self):
        return os.path.getsize(os.path.join(self.dir, "dump.rdb"))

    def aof_base(self):
        """(name, size, format) of the AOF base file the manifest names (`type b`); the
        format is "rdb" for an RDB-preamble base, else "commands"."""
        aof_dir = os.path.join(self.dir, "appendonlydir")
        with open(os.path.join(aof_dir, "appendonly.aof.manifest")) as f:
            for line in f:
                words = line.split()
                if "type" in words and words[words.index("type") + 1] == "b":
                    path = os.path.join(aof_dir, words[words.index("file") + 1])
                    with open(path, "rb") as base:
                        kind = "rdb" if base.read(5) == b"REDIS" else "commands"
                    return os.path.basename(path), os.path.getsize(path), kind
        raise RuntimeError(f"{self.label}: no base file in the AOF manifest")


def in_turn(nodes, round_no):
    """The nodes in this round's order: the first one swaps every round (ABAB, BABA)."""
    return list(nodes) if round_no % 2 else list(reversed(nodes))


def wait_until_done(conn, busy_fields, counter, before, timeout=600):
    """Polls INFO persistence every 10 ms until no `busy_fields` is set and `counter` has
    gone past `before` (so a job that has not visibly started yet is not taken as done)."""
    deadline = time.perf_counter() + timeout
    while True:
        info = conn.info("persistence")
        if counter not in info:
            raise RuntimeError(f"INFO persistence has no {counter} field")
        if all(info.get(f) == "0" for f in busy_fields) and int(info[counter]) > before:
            return info
        if time.perf_counter() > deadline:
            raise RuntimeError(f"still busy after {timeout}s: {busy_fields}")
        time.sleep(0.01)


# ---------------------------------------------------------------- results


class Results:
    """Measurements of this run: kept for the report and appended to the JSON lines file."""

    def __init__(self, path, run_id):
        self.path = path
        self.run_id = run_id
        self.lines = []
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)

    def add(self, **fields):
        line = {"run": self.run_id, **fields}
        self.lines.append(line)
        with open(self.path, "a") as f:
            f.write(json.dumps(line) + "\n")
        shown = {k: v for k, v in fields.items() if k != "phase"}
        print(f"  {fields['phase']:<8} {shown}", file=sys.stderr)

    @classmethod
    def read_back(cls, path):
        """The lines of the last run in `path` that finished (has a meta line with options),
        and that meta line."""
        with open(path) as f:
            lines = [json.loads(line) for line in f if line.strip()]
        metas = [line for line in lines if line["phase"] == "meta" and "options" in line]
        if not metas:
            sys.exit(f"{path}: no finished run to report")
        meta = metas[-1]
        results = cls.__new__(cls)
        results.path, results.run_id = path, meta["run"]
        results.lines = [line for line in lines if line["run"] == meta["run"]]
        return results, meta

    def values(self, key, **match):
        """{server: [key of every matching line, in round order]}."""
        out = {}
        for line in self.lines:
            if all(line.get(k) == v for k, v in match.items()) and line.get(key) is not None:
                out.setdefault(line["server"], []).append(line[key])
        return out


# ---------------------------------------------------------------- 1. write throughput


def benchmark_settings(opts, share):
    """What keyspace.run_benchmark reads: SET of 64-byte values over 1M random keys."""
    return types.SimpleNamespace(
        clients=opts.clients, requests=int(opts.requests * share),
        pipeline_scale_cap=PIPELINE_SCALE_CAP, data_size=64, keyspace=1_000_000, timeout=300)


def fsync_latency_ms(directory, samples=40):
    """Median time of fdatasync after a 100-byte append in `directory`, in ms: what one
    `appendfsync always` group commit waits for at least. On a shared virtual disk it moves
    from minute to minute, so each round of the write test records it."""
    path = os.path.join(directory, "fsync-probe")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    times = []
    try:
        for _ in range(samples):
            os.write(fd, b"x" * 100)
            started = time.perf_counter()
            os.fdatasync(fd)
            times.append((time.perf_counter() - started) * 1000)
    finally:
        os.close(fd)
        os.remove(path)
    return statistics.median(times)


def measure_writes(opts, nodes, results):
    """A fresh server pair with empty directories for each AOF setting, then rounds."""
    for mode, settings, share in WRITE_MODES:
        bench = benchmark_settings(opts, share)
        for node in nodes:
            node.reset_dir()
            node.start(settings)
        try:
            for round_no in range(1, opts.rounds + 1):
                results.add(phase="fsync_probe", mode=mode, server="", round=round_no,
                            ms=fsync_latency_ms(nodes[0].workdir))
                for pipeline in opts.pipelines:
                    for node in in_turn(nodes, round_no):
                        rps, error = keyspace.run_benchmark(
                            node.server.port, SET_TEST, pipeline, bench)
                        results.add(phase="write", mode=mode, pipeline=pipeline,
                                    server=node.label, round=round_no, rps=rps, error=error)
        finally:
            for node in nodes:
                node.stop()


def write_command(opts, pipeline, share):
    """The redis-benchmark line the write test runs (for the report)."""
    bench = benchmark_settings(opts, share)
    n = keyspace.requests_for(pipeline, bench)
    return (f"redis-benchmark -t set -c {bench.clients} -n {n} -P {pipeline} "
            f"-d {bench.data_size} -r {bench.keyspace} --csv")


# ---------------------------------------------------------------- the dataset


def dataset_counts(keys):
    """(strings, hashes, sorted sets) for --keys strings."""
    return keys, max(1, keys // 20), max(1, keys // 50)


def write_dataset(path, keys):
    """Writes the dataset as RESP commands (for redis-cli --pipe); returns the key count.

    Strings are small (~25 bytes); each hash has a 1.5 KB random (incompressible) field and
    a ~200 byte text field (compressible); each sorted set has 16 members. A fixed seed
    makes both servers (and every run) get the same bytes.
    """
    strings, hashes, zsets = dataset_counts(keys)
    rng = random.Random(7)
    cmd = keyspace.resp_command
    with open(path, "wb") as f:
        chunk = []
        for i in range(strings):
            value = b"value:%d:%08x" % (i, rng.getrandbits(32))
            chunk.append(cmd([b"SET", b"str:%07d" % i, value]))
            if len(chunk) == 10_000:
                f.write(b"".join(chunk))
                chunk = []
        f.write(b"".join(chunk))
        for i in range(hashes):
            note = " ".join(rng.choice(WORDS) for _ in range(30)).encode()
            f.write(cmd([b"HSET", b"hash:%06d" % i, b"name", b"user-%d" % i,
                         b"visits", b"%d" % rng.randrange(100000),
                         b"note", note, b"blob", rng.randbytes(BLOB_BYTES)]))
        for i in range(zsets):
            members = []
            for j in range(ZSET_MEMBERS):
                members += [b"%d" % rng.randrange(1000), b"member:%02d" % j]
            f.write(cmd([b"ZADD", b"zset:%06d" % i] + members))
    return strings + hashes + zsets


def load_dataset(node, path, expected_keys, results):
    """Feeds the dataset with redis-cli --pipe; checks DBSIZE."""
    started = time.perf_counter()
    with open(path, "rb") as f:
        done = subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", str(node.server.port), "--pipe"],
            stdin=f, capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - started
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr
    conn = node.conn()
    dbsize = conn("DBSIZE")
    conn.close()
    if done.returncode != 0 or "errors: 0" not in summary or dbsize != expected_keys:
        raise RuntimeError(f"{node.label}: loading failed ({summary.strip()}; "
                           f"DBSIZE {dbsize}, expected {expected_keys})")
    results.add(phase="load", server=node.label, seconds=seconds,
                commands_per_s=expected_keys / seconds, keys=dbsize)


# ---------------------------------------------------------------- 2. snapshots


def time_save(node, conn):
    started = time.perf_counter()
    conn("SAVE")
    return time.perf_counter() - started


def time_bgsave(node, conn):
    before = int(conn.info("persistence").get("rdb_saves", -1))
    started = time.perf_counter()
    conn("BGSAVE")
    info = wait_until_done(conn, ["rdb_bgsave_in_progress"], "rdb_saves", before)
    seconds = time.perf_counter() - started
    if info.get("rdb_last_bgsave_status") != "ok":
        raise RuntimeError(f"{node.label}: BGSAVE failed")
    return seconds


def measure_snapshots(opts, nodes, results):
    """Per round: a SAVE by redis-server with rdbcompression off (to tell compression from
    the rest when the file sizes differ), then SAVE on both, then BGSAVE on both; the
    restart test then finds a default (compressed) RDB file of each."""
    conns = {node.label: node.conn() for node in nodes}
    try:
        for round_no in range(1, opts.rounds + 1):
            redis = next((n for n in nodes if n.label == "redis-server"), None)
            if redis:
                save_uncompressed(redis, conns[redis.label], round_no, results)
            for op, timer in (("SAVE", time_save), ("BGSAVE", time_bgsave)):
                for node in in_turn(nodes, round_no):
                    seconds = timer(node, conns[node.label])
                    record_snapshot(results, op, node, round_no, seconds)
    finally:
        for conn in conns.values():
            conn.close()


def save_uncompressed(node, conn, round_no, results):
    conn("CONFIG", "SET", "rdbcompression", "no")
    try:
        seconds = time_save(node, conn)
    finally:
        conn("CONFIG", "SET", "rdbcompression", "yes")
    record_snapshot(results, "SAVE rdbcompression no", node, round_no, seconds)


def record_snapshot(results, op, node, round_no, seconds):
    size = node.rdb_size()
    results.add(phase="snapshot", op=op, server=node.label, round=round_no,
                seconds=seconds, bytes=size, mb_per_s=size / seconds / 1e6)


# ---------------------------------------------------------------- 3. AOF rewrite


def time_rewrite(node, conn, preamble):
    """BGREWRITEAOF with aof-use-rdb-preamble `preamble` ("yes" / "no"); returns seconds."""
    conn("CONFIG", "SET", "aof-use-rdb-preamble", preamble)
    before = int(conn.info("persistence").get("aof_rewrites", -1))
    started = time.perf_counter()
    conn("BGREWRITEAOF")
    info = wait_until_done(
        conn, ["aof_rewrite_in_progress", "aof_rewrite_scheduled"], "aof_rewrites", before)
    seconds = time.perf_counter() - started
    if info.get("aof_last_bgrewrite_status") != "ok":
        raise RuntimeError(f"{node.label}: BGREWRITEAOF failed")
    return seconds


def measure_rewrites(opts, nodes, results):
    """Per round: a rewrite with aof-use-rdb-preamble no, then one with yes, on both
    servers; `yes` goes last so the restart test finds that base on disk."""
    conns = {node.label: node.conn() for node in nodes}
    try:
        for round_no in range(1, opts.rounds + 1):
            for preamble in ("no", "yes"):
                for node in in_turn(nodes, round_no):
                    seconds = time_rewrite(node, conns[node.label], preamble)
                    name, size, kind = node.aof_base()
                    results.add(phase="rewrite", preamble=preamble, server=node.label,
                                round=round_no,
                                seconds=seconds, bytes=size, file=name, format=kind,
                                mb_per_s=size / seconds / 1e6)
    finally:
        for conn in conns.values():
            conn.close()


# ---------------------------------------------------------------- 4. restart


# What is on disk -> the settings a restart uses to load it.
RESTARTS = [
    ("empty directory", {"appendonly": "no"}),
    ("RDB file", {"appendonly": "no"}),
    ("AOF, aof-use-rdb-preamble yes", AOF_EVERYSEC),
]
RESTART_COMMAND_BASE = ("AOF, aof-use-rdb-preamble no", AOF_EVERYSEC)


def time_restart(node, source, settings, expected_keys, empty_dir):
    """Starts the stopped node on its files; returns (seconds until +PONG, DBSIZE)."""
    data_dir = empty_dir if source == "empty directory" else None
    seconds = node.start(settings, data_dir=data_dir, start_timeout=600, poll_s=0.01)
    try:
        conn = node.conn()
        dbsize = conn("DBSIZE")
        conn.close()
    finally:
        node.stop()
    wanted = 0 if data_dir else expected_keys
    if dbsize != wanted:
        raise RuntimeError(f"{node.label}: restart from {source}: DBSIZE {dbsize}, "
                           f"expected {wanted}")
    return seconds, dbsize


def file_on_disk(node, source):
    """(bytes, format) of what a restart from `source` loads."""
    if source == "RDB file":
        return node.rdb_size(), "rdb"
    if source.startswith("AOF"):
        return node.aof_base()[1:]
    return 0, None


def restart_rounds(opts, nodes, sources, expected_keys, results):
    for round_no in range(1, opts.rounds + 1):
        for source, settings in sources:
            for node in in_turn(nodes, round_no):
                empty_dir = tempfile.mkdtemp(dir=node.workdir)
                seconds, dbsize = time_restart(node, source, settings, expected_keys,
                                               empty_dir)
                shutil.rmtree(empty_dir)
                size, kind = file_on_disk(node, source)
                results.add(phase="restart", source=source, server=node.label,
                            round=round_no, seconds=seconds, keys=dbsize, bytes=size,
                            format=kind)


def switch_to_command_base(nodes):
    """Rewrites each AOF with a command base (untimed: measured in the rewrite phase)."""
    for node in nodes:
        node.start(dict(AOF_EVERYSEC, **{"aof-use-rdb-preamble": "no"}), start_timeout=600)
        conn = node.conn()
        time_rewrite(node, conn, preamble="no")
        conn.close()
        node.stop()


# ---------------------------------------------------------------- phases 2-4 together


def measure_dataset_phases(opts, nodes, results):
    """Loads the dataset into both servers (AOF on, everysec), then runs the snapshot,
    rewrite and restart phases that --only selects, on the same data."""
    path = os.path.join(nodes[0].workdir, "dataset.resp")
    expected = write_dataset(path, opts.keys)
    for node in nodes:
        node.reset_dir()
        node.start(AOF_EVERYSEC)
        load_dataset(node, path, expected, results)
    os.remove(path)
    try:
        if "snapshot" in opts.only:
            measure_snapshots(opts, nodes, results)
        if "rewrite" in opts.only:
            measure_rewrites(opts, nodes, results)
        if "restart" in opts.only:
            prepare_files_untimed(opts, nodes)
    finally:
        for node in nodes:
            node.stop()
    if "restart" in opts.only:
        restart_rounds(opts, nodes, RESTARTS, expected, results)
        switch_to_command_base(nodes)
        restart_rounds(opts, nodes, [RESTART_COMMAND_BASE], expected, results)


def prepare_files_untimed(opts, nodes):
    """The restart phase needs an RDB file and an AOF with an RDB base of the whole
    dataset; make them when the phases that would have left them did not run."""
    for node in nodes:
        conn = node.conn()
        if "snapshot" not in opts.only:
            conn("SAVE")
        if "rewrite" not in opts.only:
            time_rewrite(node, conn, preamble="yes")
        conn.close()


# ---------------------------------------------------------------- report


def median_of(values):
    return statistics.median(values) if values else None


def fmt(value, spec=",.0f"):
    return "—" if value is None else format(value, spec)


def ratio(ours, theirs):
    return f"{ours / theirs:.2f}" if ours and theirs else "—"


def paired_ratio(ours, theirs):
    """Median of each round's ours/theirs: moves less with background load than the ratio
    of the two medians, because both sides of a pair ran back to back."""
    pairs = [a / b for a, b in zip(ours, theirs) if a and b]
    return f"{statistics.median(pairs):.2f}" if pairs else "—"


def row_stats(by_server):
    ours, theirs = by_server.get(SERVERS[0], []), by_server.get(SERVERS[1], [])
    return ours, theirs, median_of(ours), median_of(theirs)


def report_writes(opts, results):
    out = ["## 1. Write throughput: SET under each AOF setting", "",
           "Same client settings for both servers; the AOF lives on the same ext4/virtual "
           "disk for both. With `always`, both group-commit: one fsync covers every write "
           "that arrived since the last one, so throughput depends on how many clients "
           "wait at once and on the disk's fsync latency: *fdatasync ms* is the median "
           "time of a 100-byte append + fdatasync in the data directory's file system, "
           "probed at the start of each round of that setting (it varies from minute to "
           "minute on a shared virtual disk).", "",
           "| AOF setting | -P | ferrostack req/s | redis-server req/s | ours / redis "
           "| per-round ratio | fdatasync ms |", "|---|---:|---:|---:|---:|---:|---:|"]
    for mode, _, _ in WRITE_MODES:
        probes = results.values("ms", phase="fsync_probe", mode=mode).get("", [])
        for pipeline in opts.pipelines:
            ours, theirs, a, b = row_stats(results.values("rps", phase="write", mode=mode,
                                                          pipeline=pipeline))
            out.append(f"| {mode} | {pipeline} | {fmt(a)} | {fmt(b)} | {ratio(a, b)} "
                       f"| {paired_ratio(ours, theirs)} | {fmt(median_of(probes), '.2f')} |")
    shares = sorted({share for _, _, share in WRITE_MODES}, reverse=True)
    out += ["", "Commands (a fresh server pair with empty directories for each AOF setting):",
            ""]
    for share in shares:
        modes = ", ".join(m for m, _, s in WRITE_MODES if s == share)
        out += [f"- {modes}: " + "; ".join(f"`{write_command(opts, p, share)}`"
                                           for p in opts.pipelines)]
    out += [""]
    return out


def report_load(opts, results):
    by = results.values("commands_per_s", phase="load")
    secs = results.values("seconds", phase="load")
    if not by:
        return []
    a, b = median_of(by.get(SERVERS[0], [])), median_of(by.get(SERVERS[1], []))
    return ["## Dataset", "",
            f"{dataset_text(opts, results)}. Loaded once per server with `redis-cli --pipe` "
            "(appendonly yes, everysec): ferrostack "
            f"{fmt(median_of(secs.get(SERVERS[0], [])), '.2f')} s ({fmt(a)} commands/s), "
            f"redis-server {fmt(median_of(secs.get(SERVERS[1], [])), '.2f')} s "
            f"({fmt(b)} commands/s); ours / redis {ratio(a, b)} (one sample each).", ""]


def dataset_text(opts, results):
    keys = next((l["keys"] for l in results.lines if l["phase"] == "load"), None)
    strings, hashes, zsets = dataset_counts(opts.keys)
    return (f"{keys:,} keys: {strings:,} strings of ~25 bytes, {hashes:,} hashes "
            f"(`name`, `visits`, a ~200-byte text `note`, a {BLOB_BYTES}-byte random `blob`), "
            f"{zsets:,} sorted sets of {ZSET_MEMBERS} members")


def sizes_and_formats(results, phase, match):
    """(ferrostack MB, redis-server MB, "ours / redis" file formats or None) of a row."""
    cells = []
    for server in SERVERS:
        sizes = results.values("bytes", phase=phase, **match).get(server, [])
        cells.append(fmt(median_of(sizes) / 1e6, ".1f") if sizes and median_of(sizes) else "—")
    kinds = results.values("format", phase=phase, **match)
    formats = None
    if kinds:
        formats = " / ".join(kinds.get(server, ["—"])[-1] for server in SERVERS)
    return cells[0], cells[1], formats


def throughput_rows(results, phase, labels, with_format=False):
    """Rows of seconds, MB/s and file size for each (label, match) in `labels`."""
    out = []
    for label, match in labels:
        _, _, ta, tb = row_stats(results.values("seconds", phase=phase, **match))
        m_ours, m_theirs, ma, mb = row_stats(results.values("mb_per_s", phase=phase, **match))
        if ta is None and tb is None:
            continue
        size_a, size_b, formats = sizes_and_formats(results, phase, match)
        row = (f"| {label} | {fmt(ta, '.3f')} | {fmt(tb, '.3f')} | {ratio(ta, tb)} "
               f"| {fmt(ma, '.1f')} | {fmt(mb, '.1f')} | {ratio(ma, mb)} "
               f"| {paired_ratio(m_ours, m_theirs)} | {size_a} | {size_b} |")
        out.append(row + (f" {formats} |" if with_format else ""))
    return out


def throughput_header(with_format=False):
    extra = " base format (ours / redis) |" if with_format else ""
    return ["| operation | ferrostack s | redis-server s | ours / redis (time) "
            "| ferrostack MB/s | redis-server MB/s | ours / redis (MB/s) "
            "| per-round ratio (MB/s) | ferrostack file MB | redis-server file MB |" + extra,
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
            + ("---|" if with_format else "")]


def report_snapshots(results):
    rows = throughput_rows(results, "snapshot", [
        ("SAVE", {"op": "SAVE"}),
        ("BGSAVE", {"op": "BGSAVE"}),
        ("SAVE, redis-server with rdbcompression no", {"op": "SAVE rdbcompression no"}),
    ])
    if not rows:
        return []
    return ["## 2. Snapshots", "",
            "SAVE: client round trip. BGSAVE: from sending it until INFO persistence shows "
            "`rdb_bgsave_in_progress:0` (polled every 10 ms). MB/s = RDB file size / time. "
            "The last row is redis-server saving without LZF compression, to tell "
            "compression from the rest.", "", *throughput_header(), *rows, ""]


def report_rewrites(results):
    rows = throughput_rows(results, "rewrite", [
        ("BGREWRITEAOF, aof-use-rdb-preamble yes", {"preamble": "yes"}),
        ("BGREWRITEAOF, aof-use-rdb-preamble no", {"preamble": "no"}),
    ], with_format=True)
    if not rows:
        return []
    return ["## 3. AOF rewrite", "",
            "From sending BGREWRITEAOF until `aof_rewrite_in_progress:0` and "
            "`aof_rewrite_scheduled:0`. MB/s = new base file size / time. *base format* is "
            "what the new base file holds: `rdb` (starts with the RDB magic) or `commands`.",
            "", *throughput_header(with_format=True), *rows, ""]


def report_restarts(results):
    out = ["## 4. Restart with the dataset on disk", "",
           "From starting the process until PING answers +PONG (polled every 10 ms; "
           "a loading server refuses connections or answers -LOADING), then DBSIZE is "
           "checked. The files were just written, so they are read from the page cache. "
           "*ours / redis* is a ratio of times: above 1 means ferrostack is slower.", "",
           "| on disk | ferrostack file MB | redis-server file MB | format (ours / redis) "
           "| ferrostack s | redis-server s | ours / redis (time) | per-round ratio |",
           "|---|---:|---:|---|---:|---:|---:|---:|"]
    rows = 0
    for source, _ in RESTARTS + [RESTART_COMMAND_BASE]:
        match = {"source": source}
        ours, theirs, a, b = row_stats(results.values("seconds", phase="restart", **match))
        if a is None and b is None:
            continue
        size_a, size_b, formats = sizes_and_formats(results, "restart", match)
        out.append(f"| {source} | {size_a} | {size_b} | {formats or '—'} | {fmt(a, '.3f')} "
                   f"| {fmt(b, '.3f')} | {ratio(a, b)} | {paired_ratio(ours, theirs)} |")
        rows += 1
    return out + [""] if rows else []


def report_notes(results):
    """What the figures alone do not say: file formats and sizes that differ."""
    notes = []
    for server in SERVERS:
        kinds = results.values("format", phase="rewrite", preamble="yes").get(server, [])
        if "commands" in kinds:
            notes.append(f"{server} wrote a command base although aof-use-rdb-preamble was "
                         "yes: its rewrite and AOF restart rows compare different formats.")
    sizes = {op: results.values("bytes", phase="snapshot", op=op)
             for op in ("SAVE", "SAVE rdbcompression no")}
    ours = median_of(sizes["SAVE"].get(SERVERS[0], []))
    theirs = median_of(sizes["SAVE"].get(SERVERS[1], []))
    plain = median_of(sizes["SAVE rdbcompression no"].get(SERVERS[1], []))
    if ours and theirs and abs(ours / theirs - 1) > 0.02:
        text = (f"The RDB files differ in size: ferrostack {ours / 1e6:.1f} MB, "
                f"redis-server {theirs / 1e6:.1f} MB")
        if plain:
            text += (f" ({plain / 1e6:.1f} MB with rdbcompression no: LZF accounts for "
                     f"{(plain - theirs) / 1e6:.1f} MB of the difference)")
        notes.append(text + ".")
    if not notes:
        return []
    return ["## Notes", ""] + [f"- {n}" for n in notes] + [""]


def render_report(opts, results, meta):
    out = ["# Persistence benchmark: ferrostack vs redis-server", "",
           f"Command: `{meta['command']}`", "",
           f"Date: {meta['date']}. Machine: {os.cpu_count()} CPUs shared by both servers, "
           f"the load generators and any other work; 1-minute load average "
           f"{meta['load_before']:.2f} before the run, {meta['load_after']:.2f} after. "
           f"Duration {meta['duration_s'] / 60:.1f} min.", "",
           f"ferrostack: `{opts.bin}`. redis-server: {meta['redis_version']}. "
           f"Both run with `--save \"\" --auto-aof-rewrite-percentage 0` plus the settings "
           f"named below, data directories on the same disk.", "",
           f"Every figure is the median of {opts.rounds} rounds; rounds alternate which "
           "server goes first. *ours / redis* is the ratio of the two medians; "
           "*per-round ratio* is the median of each round's back-to-back ratio.", ""]
    out += report_writes(opts, results) if "write" in opts.only else []
    out += report_load(opts, results)
    out += report_snapshots(results)
    out += report_rewrites(results)
    out += report_restarts(results)
    out += report_notes(results)
    errors = [l for l in results.lines if l.get("error")]
    if errors:
        out += ["## Errors", ""] + [f"- {l['phase']} {l.get('mode', '')} {l['server']}: "
                                     f"{l['error']}" for l in errors] + [""]
    return "\n".join(out)


# ---------------------------------------------------------------- main


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bin", default=os.path.join(REPO, "target/release/ferrostack"),
                   help="the ferrostack binary")
    p.add_argument("--redis", default="redis-server", help="the redis-server binary")
    p.add_argument("--rounds", type=int, default=4,
                   help="even, so each server goes first equally often")
    p.add_argument("--keys", type=int, default=1_000_000,
                   help="strings in the dataset (plus keys/20 hashes, keys/50 sorted sets)")
    p.add_argument("--requests", type=int, default=100_000,
                   help="SET requests per write run at -P 1 (x min(P, 4) when pipelined; "
                   "a quarter of that under appendfsync always)")
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--pipelines", default="1,16", help="comma list of -P values")
    p.add_argument("--out-dir", default=os.path.join(REPO, "benches/results"))
    p.add_argument("--only", default=",".join(PHASES), help=f"comma list of {PHASES}")
    p.add_argument("--report-only", action="store_true",
                   help="measure nothing: rewrite the report from the last run in the results")
    opts = p.parse_args()
    opts.only = set(opts.only.split(","))
    if not opts.only <= set(PHASES):
        p.error(f"--only: unknown phases {sorted(opts.only - set(PHASES))}")
    opts.pipelines = [int(x) for x in opts.pipelines.split(",")]
    opts.bin = os.path.abspath(opts.bin)
    return opts


def redis_version(binary):
    done = subprocess.run([binary, "--version"], capture_output=True, text=True)
    return done.stdout.split(" sha=")[0].strip()


def print_log_tails(workdir):
    for name in sorted(os.listdir(workdir)):
        if name.endswith(".log"):
            with open(os.path.join(workdir, name), errors="replace") as f:
                tail = f.readlines()[-10:]
            print(f"--- {name}\n" + "".join(tail), file=sys.stderr)


# The options a report needs, kept in the run's meta line for --report-only.
REPORTED_OPTIONS = ("bin", "rounds", "keys", "requests", "clients", "pipelines", "only")


def main():
    opts = parse_args()
    results_path = os.path.join(opts.out_dir, "persistence-results.jsonl")
    if opts.report_only:
        results, meta = Results.read_back(results_path)
        for name, value in meta["options"].items():
            setattr(opts, name, set(value) if name == "only" else value)
    else:
        results, meta = run(opts, results_path)
    report = render_report(opts, results, meta)
    path = os.path.join(opts.out_dir, "persistence-report.md")
    with open(path, "w") as f:
        f.write(report)
    print(report)
    print(f"results: {results.path}\nreport: {path}", file=sys.stderr)


def run(opts, results_path):
    """Runs the selected phases; returns the results and the run's meta line."""
    started = time.time()
    meta = {
        "command": shlex.join([os.path.relpath(os.path.abspath(sys.argv[0]), REPO)]
                              + sys.argv[1:]),
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "load_before": os.getloadavg()[0],
        "redis_version": redis_version(opts.redis),
    }
    results = Results(results_path,
                      datetime.datetime.now().astimezone().isoformat(timespec="seconds"))
    workdir = tempfile.mkdtemp(prefix="ferro-pbench-")
    nodes = [Node("ferrostack", opts.bin, workdir), Node("redis-server", opts.redis, workdir)]
    failed = True
    try:
        if "write" in opts.only:
            measure_writes(opts, nodes, results)
        if opts.only & {"snapshot", "rewrite", "restart"}:
            measure_dataset_phases(opts, nodes, results)
        failed = False
    finally:
        for node in nodes:
            node.stop()
        if failed:
            print_log_tails(workdir)
        shutil.rmtree(workdir, ignore_errors=True)
    meta["load_after"] = os.getloadavg()[0]
    meta["duration_s"] = time.time() - started
    meta["options"] = {name: getattr(opts, name) for name in REPORTED_OPTIONS}
    meta["options"]["only"] = sorted(opts.only)
    results.add(phase="meta", server="", **meta)
    return results, meta


if __name__ == "__main__":
    main()
