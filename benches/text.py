#!/usr/bin/env python3
"""Full-text search benchmark: ferrostack over RESP on the gcide passages and a synthetic corpus.

  1. `cargo build --release`, then ferrostack on a free loopback port (benches/vector.py's
     Server: persistence off);
  2. the RESP tool (`cargo bench --bench text_resp`): per corpus, FT.CREATE TEXT + TAG +
     NUMERIC, pipelined HSET load with the index present (ingest rate, time until searchable),
     query sets (term, AND, phrase, prefix, fuzzy, tag + numeric, text + tag, hybrid text + KNN
     on gcide) on 1 and N connections, and a steady write load with and without a searcher;
  3. the peer, with the server stopped: SQLite's FTS5 engine in process on the same documents
     and query sets (benches/fts5_peer.py; the tool writes them with --workload-dir);
  4. a markdown report (stdout and --report).

The tool prints JSON lines, all kept in --results with the peer's. Needs only the standard
library.

Usage:
    benches/text.py                                    # everything, defaults of the tool
    benches/text.py --tool-args "--synthetic-rows 20000 --seconds 1"   # quick look
    benches/text.py --report-only target/text-bench/results.jsonl      # re-render
"""

import argparse
import json
import os
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fts5_peer  # noqa: E402
import vector  # noqa: E402  (Server, run_tool, the dataset location)

REPO = vector.REPO
OUT_DIR = os.path.join(REPO, "target", "text-bench")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=vector.default_dataset(), help="gcide dataset directory")
    p.add_argument("--tool-args", default="", help="extra arguments for the RESP tool")
    p.add_argument("--report", default=os.path.join(OUT_DIR, "report.md"))
    p.add_argument("--results", default=os.path.join(OUT_DIR, "results.jsonl"),
                   help="where every JSON line of the run is kept")
    p.add_argument("--report-only", metavar="RESULTS",
                   help="only render the report from a results file of a past run")
    p.add_argument("--no-build", action="store_true", help="skip cargo build --release")
    p.add_argument("--ferrostack-bin", default=os.path.join(REPO, "target/release/ferrostack"))
    p.add_argument("--timeout", type=int, default=3600, help="seconds for the tool run")
    p.add_argument("--no-peer", action="store_true", help="skip the SQLite FTS5 peer")
    p.add_argument("--peer-seconds", type=float, default=3.0,
                   help="longest run of a peer query set (the tool's --seconds default)")
    return p.parse_args()


def run_all(opts):
    """Runs the tool against a fresh server; returns (its JSON lines, what failed)."""
    os.makedirs(OUT_DIR, exist_ok=True)
    vector.OUT_DIR = OUT_DIR  # the server log goes beside this run's results
    if not opts.no_build:
        subprocess.run(["cargo", "build", "--release", "--bin", "ferrostack"], cwd=REPO,
                       check=True)
    load_before = os.getloadavg()
    workload = os.path.join(OUT_DIR, "workload")
    with vector.Server(opts.ferrostack_bin) as server:
        argv = ["cargo", "bench", "--bench", "text_resp", "--", "--port", str(server.port),
                "--data", opts.data, "--workload-dir", workload, *shlex.split(opts.tool_args)]
        lines, error = vector.run_tool("text_resp", argv, opts.timeout)
    if not opts.no_peer:
        for corpus in dict.fromkeys(r["corpus"] for r in lines if "corpus" in r):
            print(f"peer: {fts5_peer.SYSTEM} on {corpus}", file=sys.stderr)
            lines += fts5_peer.measure(os.path.join(workload, f"{corpus}.jsonl"), corpus,
                                       seconds=opts.peer_seconds)
    # Other work on the machine moves every figure; the report says how busy it was.
    lines.append({"phase": "machine", "cpus": os.cpu_count(),
                  "loadavg_1m_before": load_before[0], "loadavg_1m_after": os.getloadavg()[0]})
    os.makedirs(os.path.dirname(os.path.abspath(opts.results)), exist_ok=True)
    with open(opts.results, "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in lines)
    return lines, [error] if error else []


def fmt(value, spec=",.0f"):
    return "—" if value is None else format(value, spec)


def render_report(results, missing, command):
    out = ["# Full-text search benchmark (ferrostack over RESP)", "",
           f"Command: `{command}`", ""]
    w = out.append
    for r in results:
        if r.get("phase") == "machine":
            w(f"Machine: {r['cpus']} CPUs; 1-minute load average {r['loadavg_1m_before']:.1f} "
              f"before the run, {r['loadavg_1m_after']:.1f} after (server, tool and any other "
              "work share the CPUs).")
            w("")
    peer = {(r["corpus"], r["phase"], r.get("kind")): r for r in results
            if r.get("system") == fts5_peer.SYSTEM}
    results = [r for r in results if "corpus" in r and r.get("system") != fts5_peer.SYSTEM]
    corpora = list(dict.fromkeys(r["corpus"] for r in results))
    docs = {r["corpus"]: r["docs"] for r in results}
    w("Corpora: " + "; ".join(f"{c}: {docs[c]:,} documents" for c in corpora) + ". Schema "
      "`text TEXT, tag TAG, num NUMERIC` (gcide: tag = part of speech, num = passage length; "
      "synthetic: 16 tags, num 0..9999). Queries return the first 10 ids (`NOCONTENT LIMIT 0 "
      "10 DIALECT 2`), closed loop, each connection sending its next query when the previous "
      "reply arrived. Terms are drawn from random documents among words in 0.05%–5% of the "
      "documents.")
    w("")
    w("Peer: SQLite FTS5 (`porter unicode61` tokenizer, BM25 rank) in the benchmark's own "
      "process, on the same documents and query sets, run after the server stopped; it pays "
      "no network round trip, so *ours / FTS5* compares a server over loopback with an "
      "in-process library. FTS5 has no fuzzy or vector queries.")
    w("")

    w("## Ingest (index present, pipelined HSET)")
    w("")
    w("| corpus | docs | HSET docs/s | indexed after (s) | first query (ms) | repeat (ms) "
      "| searchable after last write (s) | docs/s until searchable | FTS5 docs/s "
      "(one transaction) |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        if r.get("phase") == "ingest":
            p = peer.get((r["corpus"], "ingest", None), {})
            w(f"| {r['corpus']} | {r['docs']:,} | {fmt(r['docs_per_s'])} "
              f"| {fmt(r['indexed_s'], '.3f')} | {fmt(r['first_query_ms'], '.2f')} "
              f"| {fmt(r['repeat_query_ms'], '.2f')} | {fmt(r['searchable_s'], '.3f')} "
              f"| {fmt(r['docs_per_s_searchable'])} | {fmt(p.get('docs_per_s'))} |")
    w("")
    w("*indexed after*: from the last HSET reply until FT.INFO reports every document; *first "
      "query*: the term query right after, which commits and reloads the text index.")
    w("")

    for corpus in corpora:
        rows = [r for r in results if r.get("phase") == "query" and r["corpus"] == corpus]
        if not rows:
            continue
        conns = sorted({r["conns"] for r in rows})
        w(f"## Queries: {corpus}")
        w("")
        head = "| query | example |"
        rule = "|---|---|"
        for c in conns:
            head += f" QPS ({c} conn) | p50 ms | p99 ms |"
            rule += "---:|---:|---:|"
        w(head + " mean hits | FTS5 QPS | FTS5 p50 ms | ours / FTS5 (1 conn) | FTS5 mean hits |")
        w(rule + "---:|---:|---:|---:|---:|")
        for kind in dict.fromkeys(r["kind"] for r in rows):
            by = {r["conns"]: r for r in rows if r["kind"] == kind}
            first = next(iter(by.values()))
            example = first["example"].replace("|", "\\|")
            line = f"| {kind} | `{example}` |"
            for c in conns:
                r = by.get(c)
                line += (f" {fmt(r['per_s'])} | {fmt(r['p50_ms'], '.3f')} "
                         f"| {fmt(r['p99_ms'], '.3f')} |" if r else " — | — | — |")
            p = peer.get((corpus, "query", kind))
            ratio = by[1]["per_s"] / p["per_s"] if p and 1 in by else None
            line += f" {fmt(first['mean_hits'])} |"
            line += (f" {fmt(p['per_s'])} | {fmt(p['p50_ms'], '.3f')} | {fmt(ratio, '.2f')} "
                     f"| {fmt(p['mean_hits'])} |" if p else " — | — | — | — |")
            w(line)
        for r in results:
            if r.get("phase") == "build" and r["corpus"] == corpus:
                w("")
                w(f"hybrid_knn runs on a second index ({r['index']}, built by a background "
                  f"scan over the loaded hashes in {r['build_s']:.2f} s).")
        w("")

    w("## Commits under a steady write load")
    w("")
    w("One connection writes HSETs one at a time (new keys, the corpus's texts again); another "
      "runs the term query set back to back. Every query then finds the index written since "
      "the previous one, so it commits and reloads the text index first (read-your-writes).")
    w("")
    w("| corpus | writes/s alone | writes/s beside searcher | term QPS quiet | p50 ms quiet "
      "| p99 ms quiet | term QPS under writes | p50 ms under writes | p99 ms under writes |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for corpus in corpora:
        wl = {(r["mode"], r["role"]): r for r in results
              if r.get("phase") == "write_load" and r["corpus"] == corpus}
        if not wl:
            continue
        alone = wl.get(("writer_alone", "writer"), {})
        busy_w = wl.get(("writer_and_search", "writer"), {})
        quiet = wl.get(("search_quiet", "search"), {})
        busy_s = wl.get(("writer_and_search", "search"), {})
        w(f"| {corpus} | {fmt(alone.get('per_s'))} | {fmt(busy_w.get('per_s'))} "
          f"| {fmt(quiet.get('per_s'))} | {fmt(quiet.get('p50_ms'), '.3f')} "
          f"| {fmt(quiet.get('p99_ms'), '.3f')} | {fmt(busy_s.get('per_s'))} "
          f"| {fmt(busy_s.get('p50_ms'), '.3f')} | {fmt(busy_s.get('p99_ms'), '.3f')} |")
    w("")
    if missing:
        w("## Missing")
        w("")
        out.extend(f"- {m}" for m in missing)
        w("")
    return "\n".join(out)


def main():
    opts = parse_args()
    results, missing, command = vector.results_of(opts, run_all)
    report = render_report(results, missing, command)
    vector.write_report(opts.report, report)
    print(report)
    print(f"results: {opts.results}\nreport: {opts.report}", file=sys.stderr)
    sys.exit(1 if missing else 0)


if __name__ == "__main__":
    main()
