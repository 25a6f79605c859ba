#!/usr/bin/env python3
"""Vector search benchmark: ferrostack over RESP, ferrostack's index alone, hnswlib and numpy.

One run on one machine, so the ratios compare like with like:
  1. `cargo build --release`, then ferrostack on a free loopback port;
  2. the RESP tool (`cargo bench --bench vector_resp`): pipelined HSET load, FT.CREATE HNSW
     and FLAT over the loaded hashes (build time), KNN query sets (EF_RUNTIME sweep, 1 and 8
     connections, tag and numeric filters), recall@10 against exact answers, used_memory per
     document; then (--paired) the same HNSW index built inside the tool and, per EF, rounds of
     one RESP pass and one in-process pass side by side: the RESP / index-level ratio;
  3. on a fresh server, the RESP tool again with the index created before the load (ingest
     rate including indexing);
  4. the index-level bench (`cargo bench --bench vector_index`) and the peer script
     (benches/vector_peers.py: hnswlib M 16 / ef_construction 200, exact numpy search);
  5. a markdown report (stdout and --report) and a recall / QPS plot (--plot).

Every tool prints JSON lines (`{"system": ..., "algo": ..., "ef": ..., "filter": ...,
"recall": ..., "qps": ..., "p50_ms": ..., "p99_ms": ..., "build_s": ...}`); all of them are kept
in --results. A part whose tool is missing or fails is reported as missing; the others still run.

Python packages (numpy, matplotlib, hnswlib) are pinned in benches/requirements.txt and
installed into a virtualenv the way tests/run_all.sh does it (default the repository's .venv;
--venv picks another); the script re-runs itself under that venv's python.

Usage:
    benches/vector.py                                  # everything, full dataset
    benches/vector.py --venv /work/main/.venv --plot docs/vector-recall-qps.png
    benches/vector.py --parts resp --resp-args "--rows 5000 --queries 200"   # quick look
    benches/vector.py --report-only target/vector-bench/results.jsonl        # re-render
"""

import argparse
import hashlib
import json
import os
import shlex
import socket
import subprocess
import sys
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(REPO, "target", "vector-bench")
REQUIREMENTS = os.path.join(REPO, "benches", "requirements.txt")
PARTS = ("resp", "live", "index", "peers")
REEXEC_MARK = "FERROSTACK_VECTOR_BENCH_VENV"
# The issue's bar: RESP 1-connection QPS at least this share of the index-level QPS.
RESP_SHARE_TARGET = 0.70
RECALL_TARGET = 0.95


def default_dataset():
    """$GCIDE_MINILM_DIR, $FERRO_DATASETS/gcide-minilm, or shared/datasets/gcide-minilm beside
    the repository or a parent directory (datasets/README.md)."""
    if os.environ.get("GCIDE_MINILM_DIR"):
        return os.environ["GCIDE_MINILM_DIR"]
    if os.environ.get("FERRO_DATASETS"):
        return os.path.join(os.environ["FERRO_DATASETS"], "gcide-minilm")
    up = os.path.dirname(REPO)
    while True:
        path = os.path.join(up, "shared", "datasets", "gcide-minilm")
        if os.path.isdir(path) or up == os.path.dirname(up):
            return path
        up = os.path.dirname(up)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=default_dataset(), help="dataset directory")
    p.add_argument("--parts", default=",".join(PARTS),
                   help="comma list of " + ",".join(PARTS) + " (resp = load, HNSW and FLAT "
                   "query sets; live = ingest with the index present)")
    p.add_argument("--resp-args", default="", help="extra arguments for the RESP tool")
    p.add_argument("--paired", type=int, default=5,
                   help="rounds of side-by-side RESP / in-process passes per EF (the RESP "
                        "tool's --paired; 0: off)")
    p.add_argument("--index-args", default="", help="extra arguments for vector_index")
    p.add_argument("--peers-args", default="", help="extra arguments for vector_peers.py")
    p.add_argument("--report", default=os.path.join(OUT_DIR, "report.md"))
    p.add_argument("--plot", default=os.path.join(OUT_DIR, "recall_qps.png"))
    p.add_argument("--results", default=os.path.join(OUT_DIR, "results.jsonl"),
                   help="where every JSON line of the run is kept")
    p.add_argument("--report-only", metavar="RESULTS",
                   help="only render the report and plot from a results file of a past run")
    p.add_argument("--venv", default=os.path.join(REPO, ".venv"))
    p.add_argument("--no-build", action="store_true", help="skip cargo build --release")
    p.add_argument("--ferrostack-bin", default=os.path.join(REPO, "target/release/ferrostack"))
    p.add_argument("--timeout", type=int, default=3600, help="seconds per tool run")
    opts = p.parse_args()
    opts.part_list = [x for x in opts.parts.split(",") if x]
    unknown = [x for x in opts.part_list if x not in PARTS]
    if unknown:
        p.error(f"unknown parts {unknown}; known: {','.join(PARTS)}")
    return opts


# ---------------------------------------------------------------- virtualenv


def ensure_venv(venv, script=__file__):
    """Creates `venv` if needed, installs benches/requirements.txt when it changed since the
    last install (hash stamp, as tests/run_all.sh does), and re-runs `script` (this one, or
    benches/report.py) under it."""
    python = os.path.join(venv, "bin", "python")
    if os.environ.get(REEXEC_MARK) == python:
        return
    if not os.path.exists(python):
        print(f"==> creating {venv}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    stamp = os.path.join(venv, ".bench-requirements.sha256")
    with open(REQUIREMENTS, "rb") as f:
        want = hashlib.sha256(f.read()).hexdigest()
    have = open(stamp).read().strip() if os.path.exists(stamp) else ""
    if have != want:
        print("==> installing benches/requirements.txt", file=sys.stderr)
        subprocess.run([python, "-m", "pip", "install", "--disable-pip-version-check", "-q",
                        "-r", REQUIREMENTS], check=True)
        with open(stamp, "w") as f:
            f.write(want + "\n")
    os.environ[REEXEC_MARK] = python
    os.execv(python, [python, os.path.abspath(script)] + sys.argv[1:])


# ---------------------------------------------------------------- server and tools


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ping(port):
    with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
        sock.sendall(b"*1\r\n$4\r\nPING\r\n")
        return sock.recv(64).startswith(b"+PONG")


class Server:
    """ferrostack on a free loopback port, persistence off; stopped by `stop` or on exit."""

    def __init__(self, binary):
        self.port = free_port()
        self.log_path = os.path.join(OUT_DIR, f"ferrostack-{self.port}.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--loglevel", "warning"],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while True:
            try:
                if ping(self.port):
                    return
            except OSError:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise RuntimeError(f"ferrostack did not start; see {self.log_path}")
            time.sleep(0.05)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        if self.proc.returncode == 0:
            os.remove(self.log_path)


def run_tool(name, argv, timeout, env=None):
    """Runs one benchmark tool, passing its stderr through, and returns (JSON lines of its
    stdout, None) or (the lines it printed before failing, error text)."""
    print(f"==> {name}: {shlex.join(argv)}", file=sys.stderr)
    lines, error = [], None
    try:
        proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, text=True,
                                env={**os.environ, **(env or {})})
    except OSError as e:
        return [], f"{name}: {e}"
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    for raw in proc.stdout:
        raw = raw.strip()
        if raw.startswith("{"):
            try:
                lines.append(json.loads(raw))
            except json.JSONDecodeError:
                print(f"    {name}: not JSON: {raw[:200]}", file=sys.stderr)
        elif raw:
            print(f"    {raw}", file=sys.stderr)
    code = proc.wait()
    if not timer.is_alive():
        error = f"{name}: killed after {timeout}s"
    elif code != 0:
        error = f"{name}: exit status {code}"
    timer.cancel()
    return lines, error


def resp_tool(port, data, phases, extra):
    return ["cargo", "bench", "--bench", "vector_resp", "--", "--port", str(port),
            "--data", data, "--phases", phases, *shlex.split(extra)]


def run_all(opts):
    """Runs the selected parts; returns (all JSON lines, list of what is missing or failed)."""
    os.makedirs(OUT_DIR, exist_ok=True)
    if not opts.no_build and ({"resp", "live"} & set(opts.part_list)):
        subprocess.run(["cargo", "build", "--release", "--bin", "ferrostack"], cwd=REPO,
                       check=True)
    results, missing = [], []
    # Kept as each part ends, so an interrupted run still leaves what it measured.
    os.makedirs(os.path.dirname(os.path.abspath(opts.results)), exist_ok=True)
    open(opts.results, "w").close()

    def keep(lines, error):
        results.extend(lines)
        if error:
            missing.append(error)
        with open(opts.results, "a") as f:
            f.writelines(json.dumps(r) + "\n" for r in lines)
    # Every tool reads the dataset directory from GCIDE_MINILM_DIR.
    env = {"GCIDE_MINILM_DIR": opts.data}
    # The RESP runs each get a fresh server: used_memory per document is only meaningful
    # from an empty process.
    for part, phases in (("resp", "load,hnsw,flat"), ("live", "live")):
        if part not in opts.part_list:
            continue
        with Server(opts.ferrostack_bin) as server:
            extra = opts.resp_args
            if part == "resp" and opts.paired:
                extra += f" --paired {opts.paired}"
            keep(*run_tool(f"vector_resp ({part})",
                           resp_tool(server.port, opts.data, phases, extra),
                           opts.timeout, env))
    if "index" in opts.part_list:
        if os.path.exists(os.path.join(REPO, "benches", "vector_index.rs")):
            argv = ["cargo", "bench", "--bench", "vector_index", "--",
                    *shlex.split(opts.index_args)]
            keep(*run_tool("vector_index", argv, opts.timeout, env))
        else:
            missing.append("index-level bench: benches/vector_index.rs does not exist yet")
    if "peers" in opts.part_list:
        script = os.path.join(REPO, "benches", "vector_peers.py")
        if os.path.exists(script):
            argv = [sys.executable, script, *shlex.split(opts.peers_args)]
            keep(*run_tool("vector_peers", argv, opts.timeout, env))
        else:
            missing.append("peers (hnswlib, numpy): benches/vector_peers.py does not exist yet")
    return results, missing


# ---------------------------------------------------------------- report


def paired_report(results, operating_point, w):
    """The RESP tool's --paired rounds: RESP and in-process passes side by side, per EF."""
    paired = sorted((r for r in results if r.get("phase") == "paired"), key=lambda r: r["ef"])
    if not paired:
        return
    w(f"RESP 1 conn / index-level, measured side by side ({paired[0]['rounds']} rounds per EF "
      "of one RESP pass then one pass over the same index built in the client process; "
      "medians):")
    w("")
    w("| EF_RUNTIME | RESP QPS | index QPS | RESP / index | per-round ratios |")
    w("|---:|---:|---:|---:|---|")
    for r in paired:
        w(f"| {r['ef']} | {r['median_resp_qps']:,.0f} | {r['median_index_qps']:,.0f} "
          f"| {r['median_ratio']:.2f} | {', '.join(f'{x:.2f}' for x in r['ratios'])} |")
    w("")
    at = next((r for r in paired if operating_point and r["ef"] == operating_point["ef"]), None)
    if at:
        verdict = "meets" if at["median_ratio"] >= RESP_SHARE_TARGET else "misses"
        w(f"- at the index's recall >= {RECALL_TARGET} operating point (EF {at['ef']}): "
          f"{at['median_ratio']:.2f}; {verdict} the {RESP_SHARE_TARGET:.0%} bar")
    low = min(paired, key=lambda r: r["median_ratio"])
    w(f"- lowest: {low['median_ratio']:.2f} at EF {low['ef']}")
    w("")


def series_name(line):
    """The curve a query result belongs to, e.g. 'ferrostack RESP 1 conn' or 'hnswlib'."""
    system = line.get("system", "?")
    if system == "ferrostack-resp":
        conns = line.get("conns", 1)
        return f"ferrostack RESP {conns} conn" + ("s" if conns != 1 else "")
    if system.startswith("ferrostack"):
        return "ferrostack index"
    return system


def query_lines(results):
    return [r for r in results if "recall" in r and "qps" in r]


def pick(results, series, algo, filt):
    """{ef: line} of one series' query results (ef None for exact searches)."""
    return {r.get("ef"): r for r in query_lines(results)
            if series_name(r) == series and r.get("algo", "").upper() == algo
            and r.get("filter", "none") == filt}


def best_at_target(points):
    """The fastest point with recall >= RECALL_TARGET, or None."""
    good = [p for p in points.values() if p["recall"] >= RECALL_TARGET]
    return max(good, key=lambda p: p["qps"]) if good else None


def fmt(value, spec=",.0f"):
    return "—" if value is None else format(value, spec)


def render_report(results, missing, command, opts_data):
    out = []
    w = out.append
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    docs = next((r["docs"] for r in results if r.get("docs")), None)
    nq = next((r["queries"] for r in query_lines(results) if r.get("queries")), None)
    w(f"Dataset {os.path.basename(opts_data.rstrip('/'))}: {fmt(docs)} documents x 384 (cosine), "
      f"{fmt(nq)} queries, k = 10; {os.cpu_count()} CPUs ({cpu}), server and clients on the "
      f"same machine; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.")
    w(f"command: {command}")
    w("")

    conns = max((r["conns"] for r in query_lines(results) if r.get("system") == "ferrostack-resp"),
                default=8)
    resp1, index = "ferrostack RESP 1 conn", "ferrostack index"
    resp8 = f"ferrostack RESP {conns} conns"
    sweeps = {s: pick(results, s, "HNSW", "none") for s in (resp1, resp8, index, "hnswlib")}
    efs = sorted({ef for points in sweeps.values() for ef in points if ef is not None})
    if efs:
        w("HNSW (M 16, EF_CONSTRUCTION 200), unfiltered, recall@10 / queries per second:")
        w("")
        w(f"| EF_RUNTIME | RESP 1 conn recall | RESP 1 conn QPS | RESP {conns} conns QPS "
          "| index recall | index QPS | RESP 1 / index | hnswlib recall | hnswlib QPS |")
        w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for ef in efs:
            r1, r8 = sweeps[resp1].get(ef), sweeps[resp8].get(ef)
            ix, hl = sweeps[index].get(ef), sweeps["hnswlib"].get(ef)
            share = r1["qps"] / ix["qps"] if r1 and ix else None
            w(f"| {ef} | {fmt(r1 and r1['recall'], '.4f')} | {fmt(r1 and r1['qps'])} "
              f"| {fmt(r8 and r8['qps'])} | {fmt(ix and ix['recall'], '.4f')} "
              f"| {fmt(ix and ix['qps'])} | {fmt(share, '.2f')} "
              f"| {fmt(hl and hl['recall'], '.4f')} | {fmt(hl and hl['qps'])} |")
        w("")
        w(f"At recall@10 >= {RECALL_TARGET} (fastest such EF of each):")
        w("")
        best = {s: best_at_target(p) for s, p in sweeps.items()}
        for s, b in best.items():
            if sweeps[s]:
                w(f"- {s}: " + (f"EF {b['ef']}, recall {b['recall']:.4f}, {b['qps']:,.0f} QPS, "
                                f"p50 {fmt(b.get('p50_ms'), '.3f')} ms, "
                                f"p99 {fmt(b.get('p99_ms'), '.3f')} ms"
                                if b else "never reached"))
        for s in (index, resp1, resp8):
            if best[s] and best["hnswlib"]:
                w(f"- {s} / hnswlib: {best[s]['qps'] / best['hnswlib']['qps']:.2f}")
        shares = [(ef, sweeps[resp1][ef]["qps"] / sweeps[index][ef]["qps"]) for ef in efs
                  if ef in sweeps[resp1] and ef in sweeps[index]]
        if shares:
            low = min(shares, key=lambda s: s[1])
            w(f"- RESP 1 conn / index-level QPS at the same EF, from the sweeps above (run "
              f"minutes apart): lowest {low[1]:.2f} (EF {low[0]})")
        w("")
        paired_report(results, best[index], w)

    exact = [r for r in query_lines(results)
             if r.get("ef") is None and r.get("filter", "none") == "none"]
    if exact:
        w("Exact search (unfiltered):")
        w("")
        w("| system | recall@10 | QPS | p50 ms | p99 ms |")
        w("|---|---:|---:|---:|---:|")
        for r in exact:
            w(f"| {series_name(r)} {r.get('algo', '')} | {r['recall']:.4f} | {r['qps']:,.0f} "
              f"| {fmt(r.get('p50_ms'), '.3f')} | {fmt(r.get('p99_ms'), '.3f')} |")
        w("")

    filtered = [r for r in query_lines(results) if r.get("filter", "none") != "none"]
    if filtered:
        w("Filtered KNN, recall@10 (against an exact scan of the rows passing the filter) / QPS, "
          "1 connection:")
        w("")
        systems = [resp1, index, "hnswlib", "numpy"]
        present = [s for s in systems if any(series_name(r) == s for r in filtered)]
        w("| filter | algo | EF | " + " | ".join(f"{s} recall | {s} QPS" for s in present) + " |")
        w("|---|---|---:|" + "---:|---:|" * len(present))
        cells = {(r["filter"], r.get("algo", "").upper(), r.get("ef"), series_name(r)): r
                 for r in filtered}
        keys = sorted({k[:3] for k in cells}, key=lambda k: (k[0], k[1] != "HNSW", k[2] or 0))
        for filt, algo, ef in keys:
            row = [cells.get((filt, algo, ef, s)) for s in present]
            w(f"| {filt} | {algo} | {fmt(ef, 'd')} | " + " | ".join(
                f"{fmt(c and c['recall'], '.4f')} | {fmt(c and c['qps'])}" for c in row) + " |")
        w("")
        for filt in sorted({r["filter"] for r in filtered}):
            for s in (resp1, index, "hnswlib"):
                points = pick(results, s, "HNSW", filt)
                reached = sorted(ef for ef, p in points.items() if p["recall"] >= RECALL_TARGET)
                b = best_at_target(points)
                if points:
                    w(f"- {filt}, {s}: " + (f"recall >= {RECALL_TARGET} from EF {reached[0]} "
                                            f"(recall {points[reached[0]]['recall']:.4f}); "
                                            f"fastest such: EF {b['ef']}, {b['qps']:,.0f} QPS"
                                            if b else f"below {RECALL_TARGET} at every EF"))
        w("")

    phases = [r for r in results if r.get("system") == "ferrostack-resp" and "phase" in r]
    if phases:
        w("Ingest, build and memory (ferrostack over RESP):")
        w("")
        for r in phases:
            if r["phase"] == "ingest" and r["index"] == "none":
                w(f"- ingest without an index: {r['docs_per_s']:,.0f} docs/s ({r['docs']:,} docs, "
                  f"HSET pipelined {r['batch']} per round trip, {r['conns']} connections)")
            elif r["phase"] == "ingest":
                w(f"- ingest with the {r['index']} index present: "
                  f"{r.get('docs_per_s_indexed', 0):,.0f} docs/s until indexed "
                  f"(writes acknowledged at {r['docs_per_s']:,.0f} docs/s, index caught up "
                  f"{r.get('catchup_s', 0):.1f} s later)")
            elif r["phase"] == "build":
                w(f"- {r['algo']} index built over the loaded documents (FT.CREATE to "
                  f"percent_indexed 1): {r['build_s']:.1f} s, {r['indexed_docs']:,} indexed, "
                  f"{r['indexing_failures']} failures, +{r['index_bytes_per_doc']:,.0f} "
                  f"bytes/doc used_memory")
            elif r["phase"] == "memory" and "used_memory_loaded" in r:
                w(f"- used_memory per document, hashes only (384 x f32 blob + text + tags): "
                  f"{r['bytes_per_doc']:,.0f} bytes")
            elif r["phase"] == "memory":
                w(f"- used_memory per document with the {r['index']} index: "
                  f"{r['bytes_per_doc']:,.0f} bytes")
        w("")
    build = [r for r in query_lines(results) if r.get("build_s") is not None
             and r.get("system") != "ferrostack-resp" and r.get("filter", "none") == "none"]
    seen = set()
    for r in build:
        key = (series_name(r), r.get("algo"))
        if key not in seen:
            seen.add(key)
            w(f"- {key[0]} {key[1]} build: {r['build_s']:.1f} s")
    if missing:
        w("")
        w("Missing or failed in this run:")
        w("")
        for m in missing:
            w(f"- {m}")
    return "\n".join(out) + "\n"


def render_plot(results, path, note=None):
    """The recall / QPS curves; `note` (e.g. when and where it was measured) goes under them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=80)
    lines = query_lines(results)
    for series in sorted({series_name(r) for r in lines}):
        points = sorted((r for r in lines if series_name(r) == series
                         and r.get("algo", "").upper() == "HNSW"
                         and r.get("filter", "none") == "none"), key=lambda r: r["ef"])
        color = None
        if points:
            (curve,) = ax.plot([p["recall"] for p in points], [p["qps"] for p in points],
                               marker="o", label=series)
            color = curve.get_color()
            for p in points:
                ax.annotate(str(p["ef"]), (p["recall"], p["qps"]), fontsize=7,
                            textcoords="offset points", xytext=(3, 3))
        exact = [r for r in lines if series_name(r) == series and r.get("ef") is None
                 and r.get("filter", "none") == "none"]
        for r in exact:
            ax.scatter([r["recall"]], [r["qps"]], marker="x", color=color,
                       label=f"{series} {r.get('algo', 'exact')}")
    ax.set_xlabel("recall@10")
    ax.set_ylabel("queries per second (log)")
    ax.set_yscale("log")
    ax.set_title("HNSW M 16 / EF_CONSTRUCTION 200, labels = EF_RUNTIME")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    if note:
        fig.text(0.01, 0.01, note, fontsize=7, color="dimgray")
    fig.tight_layout(rect=(0, 0.03 if note else 0, 1, 1))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def results_of(opts, run):
    """(JSON lines, what is missing, the command line): read back with --report-only, else
    measured by `run(opts)`. Shared with benches/text.py."""
    command = shlex.join([os.path.relpath(os.path.abspath(sys.argv[0]), REPO)] + sys.argv[1:])
    if opts.report_only:
        with open(opts.report_only) as f:
            return [json.loads(line) for line in f if line.strip()], [], command
    return (*run(opts), command)


def write_report(path, report):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write(report)


def main():
    opts = parse_args()
    ensure_venv(opts.venv)
    results, missing, command = results_of(opts, run_all)
    report = render_report(results, missing, command, opts.data)
    write_report(opts.report, report)
    if query_lines(results):
        render_plot(results, opts.plot)
        report += f"\nplot: {opts.plot}\n"
    print(report)
    print(f"results: {opts.results}\nreport: {opts.report}", file=sys.stderr)
    sys.exit(1 if missing else 0)


if __name__ == "__main__":
    main()
