#!/usr/bin/env python3
"""Keyspace throughput: ferrostack against Debian's redis-server, measured with redis-benchmark.

Builds ferrostack in release mode, starts it and `redis-server` (persistence off) on free
loopback ports, runs every (test, pipeline depth) with redis-benchmark against both servers,
repeats the whole round `--runs` times, and prints a markdown table of the median requests
per second and the ratio ferrostack / redis-server. Both servers are stopped on exit.

Rounds are interleaved (run 1 of everything, then run 2, ...) and each step alternates the
two servers, so background load on a shared machine hits both sides alike.

A test whose command a server refuses (for example an unknown command) is reported as an
error for that server; the other tests still run.

Usage:
    benches/keyspace.py                         # default tests, -P 1 and -P 16, 3 runs
    benches/keyspace.py --tests SET,GET --runs 5
    benches/keyspace.py --tests all --no-build --ferrostack-bin /tmp/ferrostack-old
    benches/keyspace.py --results target/keyspace.jsonl   # also JSON lines (benches/report.py)

Only the standard library is used; needs cargo, redis-server and redis-benchmark on PATH.
"""

import argparse
import dataclasses
import json
import os
import shlex
import socket
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclasses.dataclass(frozen=True)
class Test:
    """One benchmark: a built-in redis-benchmark test (`-t name`) or a custom command line.

    `setup` commands run once per server before the first run (to fill keys a read test
    needs). In a custom `command`, redis-benchmark replaces `__rand_int__` with a random
    number below the keyspace size.
    """

    name: str
    builtin: str = ""
    command: tuple = ()
    setup: tuple = ()

    def benchmark_args(self):
        return list(self.command) if self.command else ["-t", self.builtin]


# Every known test, in report order. Add a line here to benchmark a new command.
KNOWN_TESTS = [
    Test("SET", builtin="set"),
    Test("GET", builtin="get"),
    Test("HSET", builtin="hset"),
    Test("INCR", builtin="incr"),
    Test("MSET", builtin="mset"),
    Test("LPUSH", builtin="lpush"),
    Test("LPOP", builtin="lpop"),
    Test("SADD", builtin="sadd"),
    Test("ZADD", builtin="zadd"),
    Test(
        "ZRANGE",
        command=("ZRANGE", "bench:zset", "0", "9"),
        setup=(("ZADD", "bench:zset", *[x for i in range(100) for x in (str(i), f"m{i}")]),),
    ),
    # redis-benchmark 7.0 has no built-in XADD test: one stream, server-generated ids.
    Test("XADD", command=("XADD", "bench:stream", "*", "field", "__rand_int__")),
]
DEFAULT_TESTS = "SET,GET,HSET,INCR,MSET"


def resp_command(argv):
    """Encodes one command as a RESP multibulk request."""
    out = [b"*%d\r\n" % len(argv)]
    for arg in argv:
        data = arg.encode() if isinstance(arg, str) else arg
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def call(port, argv, timeout=5.0):
    """Sends one command and returns the first reply line (enough for OK / errors / ints)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(resp_command(argv))
        data = b""
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        return data.split(b"\r\n", 1)[0].decode(errors="replace")


def shorten(text, limit=120):
    return text if len(text) <= limit else text[:limit] + "..."


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A server process on a free loopback port.

    `ready_s` is the time from starting the process to its first +PONG, polled every
    `poll_s`: a server that is still loading its dataset refuses connections or answers
    -LOADING, so this is also the restart time of a server with data on disk.
    """

    def __init__(self, label, argv_for_port, log_path=None, start_timeout=10.0, poll_s=0.05):
        self.label = label
        self.port = free_port()
        self.log_path = log_path or os.path.join("/tmp", f"bench-{label}-{self.port}.log")
        self.log = open(self.log_path, "w")
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            argv_for_port(self.port), stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = started + start_timeout
        while True:
            try:
                if call(self.port, ["PING"], timeout=1) == "+PONG":
                    self.ready_s = time.perf_counter() - started
                    return
            except OSError:
                pass
            if self.proc.poll() is not None or time.perf_counter() > deadline:
                self.stop()
                sys.exit(f"{label} did not start; see {self.log_path}")
            time.sleep(poll_s)

    def stop(self):
        # Both servers exit cleanly on SIGTERM; with `--save ""` neither writes a snapshot.
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def run_benchmark(port, test, pipeline, opts):
    """One redis-benchmark run. Returns (requests per second, None) or (None, error text)."""
    argv = [
        "redis-benchmark",
        "-h", "127.0.0.1",
        "-p", str(port),
        "-c", str(opts.clients),
        "-n", str(requests_for(pipeline, opts)),
        "-P", str(pipeline),
        "-d", str(opts.data_size),
        "--csv",
    ]
    if opts.keyspace > 0:
        argv += ["-r", str(opts.keyspace)]
    argv += test.benchmark_args()
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=opts.timeout)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {opts.timeout}s"
    # redis-benchmark stops at the first error reply and prints it on stderr.
    if done.returncode != 0:
        lines = (done.stderr.strip() or done.stdout.strip() or "failed").splitlines()
        return None, shorten(lines[-1].replace("Error from server: ", ""))
    for line in done.stdout.splitlines():
        fields = [f.strip('"') for f in line.split(",")]
        if len(fields) > 1 and fields[0] != "test":
            return float(fields[1]), None
    return None, "no result line: " + done.stdout.strip()[:200]


def requests_for(pipeline, opts):
    """Pipelined runs go several times faster; scale the request count to keep runs long
    enough to measure (about a second or more each)."""
    return opts.requests * min(pipeline, opts.pipeline_scale_cap)


def ferrostack_argv(binary):
    return lambda port: [
        binary, "--port", str(port), "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "no", "--loglevel", "warning",
    ]


def redis_argv(port):
    return [
        "redis-server", "--port", str(port), "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning",
    ]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    names = ",".join(t.name for t in KNOWN_TESTS)
    p.add_argument("--tests", default=DEFAULT_TESTS, help=f"comma list or 'all' ({names})")
    p.add_argument("--pipelines", default="1,16", help="comma list of -P values")
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--requests", type=int, default=300_000, help="requests per run at -P 1")
    p.add_argument("--pipeline-scale-cap", type=int, default=8,
                   help="runs at -P N use requests x min(N, this)")
    p.add_argument("--keyspace", type=int, default=100_000,
                   help="-r: random keys per test (0 = one key for every request)")
    p.add_argument("--data-size", type=int, default=3, help="-d: value size in bytes")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--timeout", type=int, default=300, help="seconds per benchmark run")
    p.add_argument("--no-build", action="store_true", help="skip cargo build --release")
    p.add_argument("--ferrostack-bin", default=os.path.join(REPO, "target/release/ferrostack"))
    p.add_argument("--results", help="also write one JSON line per (test, -P, server) here")
    opts = p.parse_args()
    wanted = [t.name for t in KNOWN_TESTS] if opts.tests == "all" else opts.tests.split(",")
    by_name = {t.name: t for t in KNOWN_TESTS}
    unknown = [n for n in wanted if n.upper() not in by_name]
    if unknown:
        p.error(f"unknown tests {unknown}; known: {names}")
    opts.selected = [by_name[n.upper()] for n in wanted]
    opts.pipeline_list = [int(x) for x in opts.pipelines.split(",")]
    return opts


def fmt_rps(value):
    return f"{value:,.0f}" if value is not None else "—"


def main():
    opts = parse_args()
    if not opts.no_build:
        subprocess.run(["cargo", "build", "--release", "--bin", "ferrostack"], cwd=REPO, check=True)
    servers = {}
    try:
        servers["ferrostack"] = Server("ferrostack", ferrostack_argv(opts.ferrostack_bin))
        servers["redis-server"] = Server("redis-server", redis_argv)
        # results[(test, pipeline, server)] = list of rps; errors[...] = first error text.
        results, errors = {}, {}
        for server in servers.values():
            for test in opts.selected:
                for setup in test.setup:
                    reply = call(server.port, list(setup))
                    if reply.startswith("-"):
                        errors.setdefault((test.name, server.label), shorten(reply[1:]))
        for run in range(1, opts.runs + 1):
            for test in opts.selected:
                for pipeline in opts.pipeline_list:
                    # Alternate which server goes first so neither always runs on a cold cache.
                    order = list(servers.values())
                    if run % 2 == 0:
                        order.reverse()
                    for server in order:
                        if (test.name, server.label) in errors:
                            continue
                        rps, error = run_benchmark(server.port, test, pipeline, opts)
                        if error:
                            errors[(test.name, server.label)] = error
                            print(f"  {server.label} {test.name} -P {pipeline}: error: {error}",
                                  file=sys.stderr)
                            continue
                        results.setdefault((test.name, pipeline, server.label), []).append(rps)
                        print(f"  run {run} {test.name:<6} -P {pipeline:<3} "
                              f"{server.label:<12} {rps:>12,.0f} req/s", file=sys.stderr)
    finally:
        for server in servers.values():
            server.stop()
    print_report(opts, results, errors)
    if opts.results:
        write_results(opts, results, errors)


def write_results(opts, results, errors):
    """One JSON line per (test, pipeline, server): every run's requests/s and their median,
    or the error that server gave; the settings shared by all runs go on each line."""
    common = {"clients": opts.clients, "keyspace": opts.keyspace, "data_size": opts.data_size,
              "requests_p1": opts.requests, "pipeline_scale_cap": opts.pipeline_scale_cap,
              "runs": opts.runs, "cpus": os.cpu_count()}
    lines = []
    for test in opts.selected:
        for pipeline in opts.pipeline_list:
            for label in ("ferrostack", "redis-server"):
                line = {"system": label, "test": test.name, "pipeline": pipeline}
                rps = results.get((test.name, pipeline, label), [])
                if rps:
                    line.update(rps_runs=rps, median_rps=statistics.median(rps))
                if (test.name, label) in errors:
                    line["error"] = errors[(test.name, label)]
                lines.append({**line, **common})
    os.makedirs(os.path.dirname(os.path.abspath(opts.results)), exist_ok=True)
    with open(opts.results, "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in lines)


def print_report(opts, results, errors):
    print()
    print(f"redis-benchmark, {opts.clients} clients, -r {opts.keyspace}, -d {opts.data_size}, "
          f"{opts.requests:,} requests at -P 1 (x min(P, {opts.pipeline_scale_cap}) when "
          f"pipelined), median of {opts.runs} runs, {os.cpu_count()} CPUs")
    print(f"command: {shlex.join([os.path.relpath(sys.argv[0], REPO)] + sys.argv[1:])}")
    print()
    # "per run" is the median of the ratios of each run's back-to-back pair: on a shared
    # machine it moves less with background load than the ratio of the two medians.
    print("| test | -P | ferrostack req/s | redis-server req/s | ferrostack / redis "
          "| per run |")
    print("|---|---:|---:|---:|---:|---:|")
    for test in opts.selected:
        for pipeline in opts.pipeline_list:
            fs_runs = results.get((test.name, pipeline, "ferrostack"), [])
            rs_runs = results.get((test.name, pipeline, "redis-server"), [])
            fs = statistics.median(fs_runs) if fs_runs else None
            rs = statistics.median(rs_runs) if rs_runs else None
            ratio = f"{fs / rs:.2f}" if fs and rs else "—"
            pairs = [f / r for f, r in zip(fs_runs, rs_runs)]
            paired = f"{statistics.median(pairs):.2f}" if pairs else "—"
            print(f"| {test.name} | {pipeline} | {fmt_rps(fs)} | {fmt_rps(rs)} | {ratio} "
                  f"| {paired} |")
    if errors:
        print()
        for (name, label), error in sorted(errors.items()):
            print(f"- {name} on {label}: error: {error}")


if __name__ == "__main__":
    main()
