#!/usr/bin/env python3
"""Peers of the index-level vector benchmark (benches/vector_index.rs) on the same data and
parameters: hnswlib (M 16, ef_construction 200, space 'cosine', queries on one thread) with
an ef sweep, and exact numpy search. Same JSON lines as the Rust bench, with "system"
"hnswlib" / "numpy".

  python benches/vector_peers.py [--json FILE] [--queries N] [--efs 10,20,...]
                                 [--filters none,letter=k,letter=s,chars=100..140]

Recall@10 is tie-tolerant: a returned row counts when its distance is within the true 10th
distance + 1e-6 (truth: float64 brute force restricted to the filter's rows). Filters go to
hnswlib as its filter callback (applied during traversal, like the Rust index's).
Data: $GCIDE_MINILM_DIR (benches/vector.py sets it; datasets/README.md).
"""
import argparse
import json
import os
import sys
import time

import hnswlib
import numpy as np

K = 10
DIM = 384


def load(directory, queries):
    base = np.fromfile(os.path.join(directory, "base.f32"), dtype="<f4").reshape(-1, DIM)
    qs = np.fromfile(os.path.join(directory, "queries.f32"), dtype="<f4").reshape(-1, DIM)[:queries]
    with open(os.path.join(directory, "meta.jsonl")) as f:
        meta = [json.loads(line) for line in f]
    return base, qs, meta


def filter_rows(meta, name):
    """Row numbers a filter name selects (None for 'none'): letter=x, domain=x, chars=a..b."""
    if name == "none":
        return None
    field, value = name.split("=", 1)
    if field in ("letter", "domain"):
        return np.array([m["row"] for m in meta if m[field] == value], dtype=np.int64)
    if field == "chars":
        lo, hi = (float(x) for x in value.split(".."))
        return np.array([m["row"] for m in meta if lo <= m["chars"] <= hi], dtype=np.int64)
    raise SystemExit(f"unknown filter {name}")


def recall(returned_dists, kth, expected):
    if expected == 0:
        return 1.0
    hits = int(np.sum(np.asarray(returned_dists, dtype=np.float64) <= kth + 1e-6))
    return min(hits, expected) / expected


def measure(run_query, queries, kths, expected):
    lat, total = [], 0.0
    start = time.perf_counter()
    for q, vec in enumerate(queries):
        t = time.perf_counter()
        dists = run_query(vec)
        lat.append((time.perf_counter() - t) * 1e3)
        total += recall(dists, kths[q], expected)
    secs = time.perf_counter() - start
    lat.sort()
    return {
        "recall": total / len(queries),
        "qps": len(queries) / secs,
        "p50_ms": lat[int(len(lat) * 0.5)],
        "p99_ms": lat[min(int(len(lat) * 0.99), len(lat) - 1)],
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--efs", default="10,20,40,80,100,160,320")
    ap.add_argument("--filters", default="none,letter=k,letter=s,chars=100..140")
    args = ap.parse_args()
    directory = os.environ.get("GCIDE_MINILM_DIR", "")
    if not os.path.isdir(directory):
        sys.exit(f"dataset directory {directory} absent")
    base, queries, meta = load(directory, args.queries)
    out = open(args.json, "w") if args.json else sys.stdout
    common = {"rows": len(base), "queries": len(queries), "k": K}

    truth = 1.0 - queries.astype(np.float64) @ base.astype(np.float64).T
    filters = []
    for name in args.filters.split(","):
        rows = filter_rows(meta, name)
        sub = truth if rows is None else truth[:, rows]
        kk = min(K, sub.shape[1])
        kths = np.partition(sub, kk - 1, axis=1)[:, kk - 1] if kk else np.full(len(queries), np.inf)
        filters.append((name, rows, kths, kk))

    def emit(line):
        out.write(json.dumps({**line, **common}) + "\n")
        out.flush()

    # numpy: exact float32 search (matrix-vector product, argpartition), one query at a time.
    for name, rows, kths, kk in filters:
        cand = base if rows is None else base[rows]

        def exact(vec, cand=cand):
            d = 1.0 - cand @ vec
            top = np.argpartition(d, kk - 1)[:kk] if kk < len(d) else np.arange(len(d))
            return d[top]

        res = measure(exact, queries, kths, kk)
        emit({"system": "numpy", "algo": "FLAT", "ef": None, "filter": name,
              "filter_rows": len(cand), **res, "build_s": 0.0})

    t = time.perf_counter()
    index = hnswlib.Index(space="cosine", dim=DIM)
    index.init_index(max_elements=len(base), M=16, ef_construction=200, random_seed=100)
    index.set_num_threads(1)
    index.add_items(base, np.arange(len(base)))
    build_s = time.perf_counter() - t
    print(f"hnswlib built in {build_s:.2f}s (1 thread)", file=sys.stderr)
    for name, rows, kths, kk in filters:
        allowed = None if rows is None else set(rows.tolist())
        flt = None if allowed is None else (lambda label, allowed=allowed: label in allowed)
        for ef in (int(e) for e in args.efs.split(",")):
            index.set_ef(ef)

            def approx(vec, flt=flt):
                _, d = index.knn_query(vec, k=kk, num_threads=1, filter=flt)
                return d[0]

            res = measure(approx, queries, kths, kk)
            emit({"system": "hnswlib", "algo": "HNSW", "ef": ef, "filter": name,
                  "filter_rows": len(base) if rows is None else len(rows), **res, "build_s": build_s})


if __name__ == "__main__":
    main()
