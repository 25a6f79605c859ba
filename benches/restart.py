#!/usr/bin/env python3
"""Restart time of HNSW indexes: the saved graph adopted vs. the graph built again.

For each dataset (raw float32 rows, see datasets/README.md):
  1. ferrostack (release build) on a fresh directory: FT.CREATE an HNSW index (COSINE, M 16,
     EF_CONSTRUCTION 200), pipelined HSETs, wait for FT.INFO `indexing 0` (the build time),
     recall@10 at EF_RUNTIME 100 against the dataset's exact ground truth, SAVE (its time and
     the sizes of dump.rdb and of the graph file);
  2. restarts on that directory, each timed from process start until the server listens
     (the RDB is loaded) and until FT.INFO says `indexing 0` with `percent_indexed 1` (every
     vector in the graph): with the graph file (adopted; --rounds times) and without it
     (moved aside: the graph is built again). Recall is measured again after each;
  3. the peer: Debian's redis-server loading the same dump.rdb (the keys; it skips the
     index definition), timed the same way, for the keyspace part of the load.
Every figure is a JSON line in --results; a markdown report goes to --report.

Usage:
    benches/restart.py --dataset gcide=../shared/datasets/gcide-minilm \\
        --dataset synth100k=/data/synth-100k-384 --dataset synth1m=/data/synth-1m-128
    (a dataset directory holds base.f32, queries.f32 and gt.i32; the synthetic ones come
    from `gen_synthetic.py DIR --n 100000 --dim 384 --normalize --gt-k 100`.)
Needs numpy and redis-py (benches/requirements.txt, tests/python/requirements.txt).
"""

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time

import numpy as np
import redis

import keyspace  # benches/keyspace.py, beside this script

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EF_RUNTIME = 100
RECALL_QUERIES = 200


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", action="append", required=True, metavar="NAME=DIR")
    ap.add_argument("--bin", default=os.path.join(REPO, "target", "release", "ferrostack"))
    ap.add_argument("--redis", default="redis-server")
    ap.add_argument("--rounds", type=int, default=3, help="adopted restarts per dataset")
    ap.add_argument("--rebuilds", type=int, default=1, help="rebuilt restarts per dataset")
    ap.add_argument("--results", default=os.path.join(REPO, "benches", "results", "restart-results.jsonl"))
    ap.add_argument("--report", default=os.path.join(REPO, "benches", "results", "restart-report.md"))
    return ap.parse_args()


def load_dataset(path):
    base = np.fromfile(os.path.join(path, "base.f32"), dtype=np.float32)
    queries = np.fromfile(os.path.join(path, "queries.f32"), dtype=np.float32)
    gt = np.fromfile(os.path.join(path, "gt.i32"), dtype=np.int32)
    n_queries = len(gt) // 100
    dim = len(queries) // n_queries
    return base.reshape(-1, dim), queries.reshape(-1, dim), gt.reshape(n_queries, 100)


class Server(keyspace.Server):
    """A server process (keyspace.py's: a free port, `ready_s` until its first +PONG) with a
    redis-py client and the moment the process started."""

    def __init__(self, argv, log_path):
        super().__init__("restart", argv, log_path=log_path, start_timeout=600, poll_s=0.005)
        self.started = time.perf_counter() - self.ready_s
        self.client = redis.Redis(port=self.port, socket_timeout=600, protocol=2)


def server_argv(binary, data_dir):
    """ferrostack and redis-server take the same options: persistence off but for the file
    in `data_dir` they load at start."""
    return lambda port: [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", data_dir,
                         "--save", "", "--appendonly", "no"]


def wait_indexed(client, started):
    """Seconds from `started` until FT.INFO shows the index complete."""
    while True:
        info = client.ft("idx").info()
        if str(info["indexing"]) == "0" and float(info["percent_indexed"]) == 1.0:
            return time.perf_counter() - started
        time.sleep(0.01)


def load(client, base):
    dim = base.shape[1]
    client.ft("idx").create_index(
        [redis.commands.search.field.VectorField(
            "v", "HNSW", {"TYPE": "FLOAT32", "DIM": dim, "DISTANCE_METRIC": "COSINE",
                          "M": 16, "EF_CONSTRUCTION": 200})],
        definition=redis.commands.search.index_definition.IndexDefinition(prefix=["doc:"]))
    started = time.perf_counter()
    pipe = client.pipeline(transaction=False)
    for i, row in enumerate(base):
        pipe.hset(f"doc:{i}", "v", row.tobytes())
        if i % 2000 == 1999:
            pipe.execute()
    pipe.execute()
    return time.perf_counter() - started, started


def recall(client, queries, gt):
    hits = 0
    for q, truth in zip(queries[:RECALL_QUERIES], gt):
        res = client.execute_command(
            "FT.SEARCH", "idx", f"*=>[KNN 10 @v $q EF_RUNTIME {EF_RUNTIME}]", "PARAMS", 2, "q",
            q.tobytes(), "NOCONTENT", "DIALECT", 2)
        ids = {int(k.decode().split(":")[1]) for k in (res[1:] if isinstance(res, list) else [])}
        hits += len(ids & set(truth[:10].tolist()))
    return hits / (10 * min(len(queries), RECALL_QUERIES))


def restart(argv, log, queries, gt):
    server = Server(argv, log)
    try:
        indexed = wait_indexed(server.client, server.started)
        return {"listening_s": server.ready_s, "indexed_s": indexed,
                "recall": recall(server.client, queries, gt),
                "used_memory": server.client.info("memory")["used_memory"]}
    finally:
        server.stop()


def run_dataset(name, path, opts, emit):
    base, queries, gt = load_dataset(path)
    rows, dim = base.shape
    work = tempfile.mkdtemp(prefix=f"ferro-restart-{name}-")
    log = os.path.join(work, "server.log")
    argv = server_argv(opts.bin, work)
    common = {"dataset": name, "rows": rows, "dim": dim}
    try:
        server = Server(argv, log)
        try:
            load_s, started = load(server.client, base)
            build_s = wait_indexed(server.client, started)
            before = recall(server.client, queries, gt)
            t = time.perf_counter()
            server.client.save()
            save_s = time.perf_counter() - t
        finally:
            server.stop()
        graph = os.path.join(work, "hnsw-graphs", "idx.v.graph")
        emit({**common, "phase": "build", "load_s": load_s, "indexed_s": build_s,
              "recall": before, "save_s": save_s,
              "rdb_bytes": os.path.getsize(os.path.join(work, "dump.rdb")),
              "graph_bytes": os.path.getsize(graph)})
        for _ in range(opts.rounds):
            emit({**common, "phase": "adopted", **restart(argv, log, queries, gt)})
        aside = graph + ".aside"
        for _ in range(opts.rebuilds):
            os.rename(graph, aside)
            try:
                emit({**common, "phase": "rebuilt", **restart(argv, log, queries, gt)})
            finally:
                # The rebuilt graph's SAVE never ran (SHUTDOWN NOSAVE): put the file back.
                os.replace(aside, graph)
        if shutil.which(opts.redis):
            for _ in range(opts.rounds):
                peer = Server(server_argv(opts.redis, work), log)
                try:
                    keys = peer.client.dbsize()
                    emit({**common, "phase": "redis-server", "listening_s": peer.ready_s,
                          "keys": keys})
                finally:
                    peer.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def median(lines, dataset, phase, field):
    values = [l[field] for l in lines if l["dataset"] == dataset and l["phase"] == phase]
    return statistics.median(values) if values else None


def report(lines, command):
    out = ["# Restart time: saved HNSW graph adopted vs. built again", "",
           f"Command: `{command}`  ", f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
           f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs.", "",
           "HNSW COSINE M 16 EF_CONSTRUCTION 200; recall@10 at EF_RUNTIME 100 over "
           f"{RECALL_QUERIES} queries. Times from process start; medians of the rounds.", "",
           "| dataset | rows × dim | first build s | SAVE s | dump.rdb MB | graph MB | "
           "listening s (adopted / rebuilt / redis-server) | fully indexed s: adopted | rebuilt | "
           "rebuilt / adopted | recall before → adopted → rebuilt |",
           "|---|---|---:|---:|---:|---:|---|---:|---:|---:|---|"]
    for name in dict.fromkeys(l["dataset"] for l in lines):
        build = next(l for l in lines if l["dataset"] == name and l["phase"] == "build")
        med = lambda phase, field: median(lines, name, phase, field)
        adopted, rebuilt = med("adopted", "indexed_s"), med("rebuilt", "indexed_s")
        peer = med("redis-server", "listening_s")
        f = lambda v, spec=".2f": "—" if v is None else format(v, spec)
        out.append(
            f"| {name} | {build['rows']:,} × {build['dim']} | {build['indexed_s']:.1f} | "
            f"{build['save_s']:.2f} | {build['rdb_bytes'] / 1e6:.0f} | {build['graph_bytes'] / 1e6:.0f} | "
            f"{f(med('adopted', 'listening_s'))} / {f(med('rebuilt', 'listening_s'))} / {f(peer)} | "
            f"**{f(adopted)}** | {f(rebuilt)} | "
            f"{f(rebuilt / adopted if adopted and rebuilt else None, '.1f')}× | "
            f"{build['recall']:.3f} → {f(med('adopted', 'recall'), '.3f')} → {f(med('rebuilt', 'recall'), '.3f')} |")
    return "\n".join(out) + "\n"


def main():
    opts = parse_args()
    os.makedirs(os.path.dirname(opts.results), exist_ok=True)
    lines = []

    def emit(line):
        line = {"ts": time.time(), **line}
        print(json.dumps(line), flush=True)
        lines.append(line)
        with open(opts.results, "a") as f:
            f.write(json.dumps(line) + "\n")

    for spec in opts.dataset:
        name, path = spec.split("=", 1)
        run_dataset(name, path, opts, emit)
    command = "benches/restart.py " + " ".join(f"--dataset {d}" for d in opts.dataset)
    text = report(lines, command)
    print(text)
    with open(opts.report, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
