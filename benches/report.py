#!/usr/bin/env python3
"""One command for the vector, full-text and keyspace benchmarks: runs the three drivers, then
gathers their JSON lines into one JSON document, draws the plots and writes a summary.

  1. runs benches/vector.py, benches/text.py and benches/keyspace.py one after another (each
     with its own defaults; --parts picks some, --vector-args / --text-args / --keyspace-args
     pass options through), each writing its JSON lines and report into --out;
  2. report.json: every part's JSON lines with where they come from (measured by this run,
     or read from a results file left by an earlier run, with that file's date), the run's
     command and timings, and machine facts (CPUs, load average before / after, date, commit);
  3. PNG plots (matplotlib): vector-recall-qps.png (recall@10 against QPS per EF_RUNTIME,
     ferrostack beside hnswlib: benches/vector.py's plot), ingest.png (documents/s loaded with
     the index present, ours and the peers the drivers measure: hnswlib's and SQLite FTS5's
     build) and keyspace.png (requests/s per command, ferrostack beside redis-server);
  4. report.md: the summary, with the plots and the drivers' own reports linked.

The report always covers all three parts: a part not run now is read from its results file
in --out (`<part>-results.jsonl`) when there is one. Every plotted number comes from a
measured JSON line (build rates: its rows / build_s); each plot and report.md say when each
part was measured.

Runs under the benchmarks' virtualenv (numpy, matplotlib, hnswlib pinned in
benches/requirements.txt): creates it if needed and re-runs itself there (vector.ensure_venv).

Durations on 2 cores shared with other work (load average 2.5-4.3): vector 7 minutes, text 7,
keyspace 6 (14 with --tests all); --quick 3. Add `cargo build --release` and, in a fresh
tree, the bench tools' first `cargo bench` build (15 minutes here).

Usage:
    benches/report.py                      # everything, into benches/results/
    benches/report.py --quick              # smoke run, small sizes, into target/bench-report-quick/
    benches/report.py --from-results       # run nothing: re-render from benches/results/*.jsonl
    benches/report.py --parts keyspace --keyspace-args "--tests all"   # one part anew
    benches/report.py --ferrostack-bin /tmp/ferrostack   # a prebuilt server (implies --no-build)
"""

import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vector  # noqa: E402  (the venv, the recall / QPS plot and its series)

REPO = vector.REPO
BENCHES = os.path.join(REPO, "benches")
PARTS = ("vector", "text", "keyspace")
QUICK_OUT = os.path.join(REPO, "target", "bench-report-quick")
# Small sizes for a smoke run: every stage of every driver, a fraction of the queries.
QUICK_ARGS = {
    "vector": ["--paired", "0",
               "--resp-args", "--queries 200 --efs 10,40,160 --filters none --conns 1",
               "--index-args", "--queries 200 --efs 10,40,160 --filters none --algo hnsw",
               "--peers-args", "--queries 200 --efs 10,40,160 --filters none"],
    "text": ["--tool-args", "--synthetic-rows 20000 --per-kind 100 --seconds 0.5 "
                            "--write-seconds 1",
             "--peer-seconds", "0.5"],
    "keyspace": ["--tests", "SET,GET", "--runs", "1", "--requests", "20000"],
}
OURS, PEER = "tab:blue", "tab:orange"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--parts", default=",".join(PARTS),
                   help="comma list of the drivers to run now (" + ",".join(PARTS) + "); the "
                        "report reads the others from their results files in --out")
    p.add_argument("--from-results", action="store_true",
                   help="run nothing; render from the results files in --out")
    p.add_argument("--quick", action="store_true",
                   help="small sizes for a smoke run; --out defaults to " +
                        os.path.relpath(QUICK_OUT, REPO))
    p.add_argument("--out", help="directory for results, reports and plots (benches/results)")
    for part in PARTS:
        p.add_argument(f"--{part}-args", default="",
                       help=f"extra arguments for benches/{part}.py (after --quick's)")
    p.add_argument("--ferrostack-bin",
                   help="a prebuilt ferrostack for every driver (passes --no-build)")
    p.add_argument("--venv", default=os.path.join(REPO, ".venv"))
    opts = p.parse_args()
    opts.part_list = [] if opts.from_results else [x for x in opts.parts.split(",") if x]
    unknown = [x for x in opts.part_list if x not in PARTS]
    if unknown:
        p.error(f"unknown parts {unknown}; known: {','.join(PARTS)}")
    opts.out = os.path.abspath(opts.out or (QUICK_OUT if opts.quick else
                                            os.path.join(BENCHES, "results")))
    return opts


# ---------------------------------------------------------------- facts


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def git(*args):
    done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else ""


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f
                        if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "?"


def redis_version():
    try:
        out = subprocess.run(["redis-server", "--version"], capture_output=True, text=True)
        return out.stdout.strip()
    except OSError:
        return None


def machine_facts():
    return {"cpus": os.cpu_count(), "cpu_model": cpu_model(), "platform": platform.platform(),
            "python": platform.python_version(), "redis_server": redis_version()}


def server_binary(opts):
    """Which server the drivers run: a prebuilt one (path, size, modification time: it may
    come from another tree than this commit) or the drivers' own release build."""
    if not opts.part_list:
        return {"built": "none run now (the report is rendered from results files)"}
    if not opts.ferrostack_bin:
        return {"built": "by each driver (cargo build --release) from this work tree"}
    path = os.path.abspath(opts.ferrostack_bin)
    st = os.stat(path)
    return {"path": path, "bytes": st.st_size, "modified": datetime.datetime.fromtimestamp(
        st.st_mtime, datetime.timezone.utc).isoformat(timespec="seconds")}


def file_date(path):
    """When a results file was measured, as well as the repository tells: the date of the
    commit that last changed it when it is committed unchanged, else its modification time."""
    rel = os.path.relpath(path, REPO)
    if git("ls-files", rel) and not git("status", "--porcelain", "--", rel):
        return git("log", "-1", "--format=%cI", "--", rel), "commit of the results file"
    mtime = datetime.datetime.fromtimestamp(os.path.getmtime(path), datetime.timezone.utc)
    return mtime.isoformat(timespec="seconds"), "modification time of the results file"


# ---------------------------------------------------------------- running the drivers


def results_path(opts, part):
    return os.path.join(opts.out, f"{part}-results.jsonl")


def driver_argv(opts, part):
    """The driver's command line: its outputs into --out, then --quick's sizes, then the
    user's extra arguments (argparse keeps the last of a repeated option, so they win)."""
    argv = [sys.executable, os.path.join(BENCHES, f"{part}.py"),
            "--results", results_path(opts, part)]
    if part == "vector":
        argv += ["--report", os.path.join(opts.out, "vector-report.md"),
                 "--plot", os.path.join(opts.out, "vector-recall-qps.png"), "--venv", opts.venv]
    elif part == "text":
        argv += ["--report", os.path.join(opts.out, "text-report.md")]
    if opts.ferrostack_bin:
        argv += ["--no-build", "--ferrostack-bin", os.path.abspath(opts.ferrostack_bin)]
    if opts.quick:
        argv += QUICK_ARGS[part]
    return argv + shlex.split(getattr(opts, f"{part}_args"))


def run_driver(opts, part):
    """Runs one driver (its progress on stderr passes through) and returns what the report
    says about the run. keyspace.py prints its report on stdout; it becomes its report file."""
    argv = driver_argv(opts, part)
    print(f"==> report: {part}: {shlex.join(argv)}", file=sys.stderr)
    run = {"command": shlex.join(os.path.relpath(a, REPO) if a.startswith(REPO) else a
                                 for a in argv),
           "started": now(), "loadavg_before": os.getloadavg()}
    start = time.time()
    done = subprocess.run(argv, cwd=REPO, stdout=subprocess.PIPE, text=True)
    run.update(finished=now(), seconds=round(time.time() - start, 1),
               loadavg_after=os.getloadavg(), exit_status=done.returncode)
    if part == "keyspace":
        with open(os.path.join(opts.out, "keyspace-report.md"), "w") as f:
            f.write("# Keyspace benchmark (redis-benchmark)\n" + done.stdout)
    run["started_epoch"] = start
    return run


# ---------------------------------------------------------------- collecting


def read_lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def collect_part(opts, part, run):
    """One part of report.json: its JSON lines and where and when they were measured."""
    path = results_path(opts, part)
    entry = {"results_file": os.path.relpath(path, REPO)}
    if run:
        entry["run"] = {k: v for k, v in run.items() if k != "started_epoch"}
    # A driver that failed before writing leaves an older file in place: not this run's.
    fresh = run and os.path.exists(path) and os.path.getmtime(path) >= run["started_epoch"]
    if fresh:
        entry.update(source="measured by this run", measured=run["finished"],
                     date_basis="end of the driver's run")
    elif os.path.exists(path):
        date, basis = file_date(path)
        entry.update(source="results file of an earlier run", measured=date, date_basis=basis)
    else:
        entry.update(source="missing", lines=[])
        return entry
    entry["lines"] = read_lines(path)
    return entry


# ---------------------------------------------------------------- what is plotted


def vector_ingest_bars(lines):
    """Vector ingest: ours over RESP (HSET with the HNSW index present; FT.CREATE over loaded
    hashes), our index in process and hnswlib building over the same rows."""
    live, built = [], []
    for r in lines:
        if r.get("system") != "ferrostack-resp":
            continue
        if r.get("phase") == "ingest" and r.get("index", "none") != "none":
            # The writes are acknowledged ~10x faster than the graph takes them in; that bar
            # would flatten the others, so its rate goes into the label.
            if r.get("docs_per_s_indexed"):
                live.append((f"ours, RESP: HSET with {r['index']} present, until indexed\n"
                             f"(writes acknowledged at {r['docs_per_s']:,.0f}/s)",
                             r["docs_per_s_indexed"], True))
            else:
                live.append((f"ours, RESP: HSET with {r['index']} present, acknowledged",
                             r["docs_per_s"], True))
        elif r.get("phase") == "build" and r.get("algo") == "HNSW" and r.get("build_s"):
            built.append(("ours, RESP: FT.CREATE HNSW over loaded hashes",
                          r["indexed_docs"] / r["build_s"], True))
    # The headline (loading with the index present) first, then the builds over loaded rows.
    bars = live + built
    builds = {}
    for r in vector.query_lines(lines):
        if r.get("algo", "").upper() == "HNSW" and r.get("build_s") and r.get("rows") \
                and r.get("system") != "ferrostack-resp":
            builds.setdefault(r["system"], r["rows"] / r["build_s"])
    for system, rate in builds.items():
        ours = system.startswith("ferrostack")
        label = "ours, in process: HNSW build" if ours else f"{system}: HNSW build (1 thread)"
        bars.append((label, rate, ours))
    return bars


def text_ingest_bars(lines):
    """Full-text ingest per corpus: ours (HSET with the index present) and SQLite FTS5."""
    panels = {}
    for r in lines:
        if r.get("phase") != "ingest" or "corpus" not in r:
            continue
        bars = panels.setdefault(f"full text, {r['corpus']} ({r['docs']:,} docs)", [])
        if r.get("system") == "ferrostack-resp":
            bars.append(("ours, RESP: HSET with the index present, acknowledged",
                         r["docs_per_s"], True))
            if r.get("docs_per_s_searchable"):
                bars.append(("ours, RESP: HSET with the index present, until searchable",
                             r["docs_per_s_searchable"], True))
        else:
            bars.append((f"{r['system']}: insert, one transaction", r["docs_per_s"], False))
    return panels


def ingest_panels(parts):
    panels = {}
    vec = parts["vector"]["lines"]
    if vector_ingest_bars(vec):
        rows = next((r["docs"] for r in vec if r.get("phase") == "ingest"), None)
        title = "vectors, gcide-minilm 384-d" + (f" ({rows:,} docs)" if rows else "")
        panels[title] = vector_ingest_bars(vec)
    panels.update(text_ingest_bars(parts["text"]["lines"]))
    return panels


def keyspace_table(lines):
    """{pipeline: {test: {system: line}}} of the keyspace lines that have a median."""
    table = {}
    for r in lines:
        if r.get("median_rps"):
            table.setdefault(r["pipeline"], {}).setdefault(r["test"], {})[r["system"]] = r
    return table


# ---------------------------------------------------------------- plots


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def measured_note(parts, *names):
    """When (and, for a part run now, how busy the machine was) each part was measured."""
    notes = []
    for n in names:
        p = parts[n]
        if not p.get("measured"):
            continue
        note = f"{n} {p['measured'][:16].replace('T', ' ')} UTC ({p['source']}"
        if p["source"] == "measured by this run":
            run = p["run"]
            note += (f", 1-min load average {run['loadavg_before'][0]:.1f} before, "
                     f"{run['loadavg_after'][0]:.1f} after")
        notes.append(note + ")")
    return "measured " + "; ".join(notes)


def plot_ingest(panels, note, path):
    plt = pyplot()
    heights = [len(bars) for bars in panels.values()]
    fig, axes = plt.subplots(len(panels), 1, figsize=(8, 1.2 + 0.42 * sum(heights)
                                                      + 0.5 * len(panels)),
                             dpi=80, gridspec_kw={"height_ratios": heights}, squeeze=False)
    for ax, (title, bars) in zip(axes[:, 0], panels.items()):
        labels = [b[0] for b in bars][::-1]
        values = [b[1] for b in bars][::-1]
        colors = [OURS if b[2] else PEER for b in bars][::-1]
        ax.barh(labels, values, color=colors)
        for y, v in enumerate(values):
            ax.text(v, y, f" {v:,.0f}", va="center", fontsize=8)
        ax.set_xlim(0, max(values) * 1.25)
        ax.xaxis.set_major_formatter(lambda v, _: f"{v / 1000:,.4g}k" if v else "0")
        ax.set_title(title, fontsize=9, loc="left")
        ax.tick_params(labelsize=8)
        ax.grid(True, axis="x", alpha=0.3)
    axes[-1, 0].set_xlabel("documents per second (blue: ferrostack, orange: peer)")
    fig.text(0.01, 0.005, note, fontsize=7, color="dimgray")
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    fig.savefig(path)
    plt.close(fig)


def plot_keyspace(table, note, path):
    plt = pyplot()
    pipelines = sorted(table)
    width = max(5, 0.6 * max(len(tests) for tests in table.values()) + 1)
    fig, axes = plt.subplots(1, len(pipelines), figsize=(width * len(pipelines), 4.2), dpi=80,
                             squeeze=False)
    for ax, pipeline in zip(axes[0], pipelines):
        tests = list(table[pipeline])
        for i, (system, color, dx) in enumerate((("ferrostack", OURS, -0.2),
                                                 ("redis-server", PEER, 0.2))):
            rows = [table[pipeline][t].get(system) for t in tests]
            xs = [x + dx for x, r in enumerate(rows) if r]
            med = [r["median_rps"] for r in rows if r]
            # Whiskers: the slowest and fastest of the runs the median is taken from.
            err = [[r["median_rps"] - min(r["rps_runs"]) for r in rows if r],
                   [max(r["rps_runs"]) - r["median_rps"] for r in rows if r]]
            ax.bar(xs, med, width=0.4, color=color, yerr=err, capsize=2, label=system,
                   error_kw={"elinewidth": 0.8, "ecolor": "dimgray"})
        for x, t in enumerate(tests):
            pair = table[pipeline][t]
            if len(pair) == 2:
                top = max(max(r["rps_runs"]) for r in pair.values())  # above the whiskers
                ratio = pair["ferrostack"]["median_rps"] / pair["redis-server"]["median_rps"]
                ax.text(x, top * 1.04, f"{ratio:.2f}", ha="center", fontsize=7)
        ax.set_xticks(range(len(tests)), tests, fontsize=8, rotation=45)
        ax.set_ylim(0, ax.get_ylim()[1] * 1.08)
        ax.yaxis.set_major_formatter(lambda v, _: f"{v / 1000:,.0f}k")
        ax.set_title(f"-P {pipeline} (labels: ferrostack / redis-server; whiskers: "
                     "slowest and fastest run)", fontsize=9)
        ax.grid(True, axis="y", alpha=0.3)
    axes[0, 0].set_ylabel("requests per second (median of runs)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=2, fontsize=8)
    fig.text(0.01, 0.01, note, fontsize=7, color="dimgray")
    fig.tight_layout(rect=(0, 0.03, 1, 0.93))
    fig.savefig(path)
    plt.close(fig)


def draw_plots(opts, parts):
    """Draws every plot whose data is there; returns {name: file name}."""
    plots = {}
    vec = parts["vector"]["lines"]
    if vector.query_lines(vec):
        plots["vector-recall-qps"] = "vector-recall-qps.png"
        vector.render_plot(vec, os.path.join(opts.out, plots["vector-recall-qps"]),
                           note=measured_note(parts, "vector"))
    panels = ingest_panels(parts)
    if panels:
        plots["ingest"] = "ingest.png"
        plot_ingest(panels, measured_note(parts, "vector", "text"),
                    os.path.join(opts.out, plots["ingest"]))
    table = keyspace_table(parts["keyspace"]["lines"])
    if table:
        plots["keyspace"] = "keyspace.png"
        plot_keyspace(table, measured_note(parts, "keyspace"),
                      os.path.join(opts.out, plots["keyspace"]))
    return plots


# ---------------------------------------------------------------- report.md


def fmt(value, spec=",.0f"):
    return "—" if value is None else format(value, spec)


def part_table(parts, w):
    w("| part | source | measured (UTC) | load average before / after | driver report |")
    w("|---|---|---|---|---|")
    for name, p in parts.items():
        run = p.get("run") or {}
        load = (f"{run['loadavg_before'][0]:.1f} / {run['loadavg_after'][0]:.1f}"
                if run and p["source"] == "measured by this run" else "—")
        report = f"{name}-report.md"
        when = f"{p['measured']} ({p['date_basis']})" if p.get("measured") else "—"
        w(f"| {name} | {p['source']} | {when} "
          f"| {load} | [{report}]({report}) |")


def vector_section(lines, w):
    sweeps = {}
    for r in vector.query_lines(lines):
        if r.get("algo", "").upper() == "HNSW" and r.get("filter", "none") == "none":
            sweeps.setdefault(vector.series_name(r), {})[r["ef"]] = r
    w(f"Fastest EF_RUNTIME reaching recall@10 >= {vector.RECALL_TARGET} (unfiltered HNSW, "
      "M 16, EF_CONSTRUCTION 200):")
    w("")
    w("| series | EF_RUNTIME | recall@10 | QPS | p50 ms | p99 ms |")
    w("|---|---:|---:|---:|---:|---:|")
    for series, points in sorted(sweeps.items()):
        b = vector.best_at_target(points)
        w(f"| {series} | {fmt(b and b['ef'], 'd')} | {fmt(b and b['recall'], '.4f')} "
          f"| {fmt(b and b['qps'])} | {fmt(b and b.get('p50_ms'), '.3f')} "
          f"| {fmt(b and b.get('p99_ms'), '.3f')} |")


def keyspace_section(table, w):
    w("| test | -P | ferrostack req/s | redis-server req/s | ferrostack / redis-server |")
    w("|---|---:|---:|---:|---:|")
    for pipeline in sorted(table):
        for test, pair in table[pipeline].items():
            fs, rs = (pair.get(s, {}).get("median_rps") for s in ("ferrostack", "redis-server"))
            w(f"| {test} | {pipeline} | {fmt(fs)} | {fmt(rs)} "
              f"| {fmt(fs / rs if fs and rs else None, '.2f')} |")


def render_markdown(doc):
    parts, plots = doc["parts"], doc["plots"]
    out = ["# Benchmark report", ""]
    w = out.append
    m = doc["machine"]
    w(f"Generated {doc['generated']} by `{doc['command']}` at commit {doc['git']['commit'][:12]}"
      f"{' (with uncommitted changes)' if doc['git']['dirty'] else ''}; {m['cpus']} CPUs "
      f"({m['cpu_model']}), servers and clients on the same machine; 1-minute load average "
      f"{doc['loadavg_before'][0]:.1f} before, {doc['loadavg_after'][0]:.1f} after. "
      "All figures: `report.json` (every JSON line of each part, with its source and date).")
    w("")
    binary = doc["ferrostack_bin"]
    w("Server: " + (f"prebuilt `{binary['path']}` (modified {binary['modified']})"
                    if "path" in binary else binary["built"]) + ".")
    w("")
    part_table(parts, w)
    w("")
    earlier = [n for n, p in parts.items() if p["source"].startswith("results file")]
    if earlier:
        w(f"Not measured by this run: {', '.join(earlier)}; rendered from the results files of "
          "earlier runs, dated above.")
        w("")
    sections = (
        ("Vector search: recall against QPS", "vector-recall-qps", "vector",
         lambda: vector_section(parts["vector"]["lines"], w)),
        ("Ingest: loading with the index present, and index builds", "ingest", "vector, text",
         lambda: ingest_section(doc["ingest"], w)),
        ("Keyspace: ferrostack beside redis-server 7.0", "keyspace", "keyspace",
         lambda: keyspace_section(keyspace_table(parts["keyspace"]["lines"]), w)),
    )
    for title, plot, names, body in sections:
        w(f"## {title}")
        w("")
        if plot not in plots:
            w(f"No data: the {names} results are missing.")
            w("")
            continue
        w(f"![{title}]({plots[plot]})")
        w("")
        body()
        w("")
    return "\n".join(out)


def ingest_section(panels, w):
    w("Blue bars are ferrostack, orange its peers: hnswlib building the same HNSW graph "
      "(M 16, ef_construction 200, one thread, in process) and SQLite FTS5 inserting the same "
      "documents in one transaction (in process). *until indexed / searchable*: documents "
      "over the time from the first HSET until FT.INFO counts them all (vectors) or a query "
      "finds the last one (text); *acknowledged*: until the last HSET reply. Pipelined HSET, "
      "500 per round trip, 4 connections.")
    w("")
    w("| data | what | documents/s |")
    w("|---|---|---:|")
    for title, bars in panels.items():
        for bar in bars:
            w(f"| {title} | {bar['label'].replace(chr(10), ' ')} | {bar['docs_per_s']:,.0f} |")


def main():
    opts = parse_args()
    vector.ensure_venv(opts.venv, __file__)
    os.makedirs(opts.out, exist_ok=True)
    command = shlex.join([os.path.relpath(os.path.abspath(sys.argv[0]), REPO)] + sys.argv[1:])
    doc = {"generated": now(), "command": command, "mode": "from-results" if opts.from_results
           else "quick" if opts.quick else "full",
           "git": {"commit": git("rev-parse", "HEAD"),
                   "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))},
           "machine": machine_facts(), "loadavg_before": os.getloadavg(),
           "ferrostack_bin": server_binary(opts)}
    runs = {part: run_driver(opts, part) for part in opts.part_list}
    doc["loadavg_after"] = os.getloadavg()
    doc["finished"] = now()
    doc["parts"] = {part: collect_part(opts, part, runs.get(part)) for part in PARTS}
    doc["plots"] = draw_plots(opts, doc["parts"])
    doc["ingest"] = {title: [{"label": l, "docs_per_s": v, "ferrostack": o} for l, v, o in bars]
                     for title, bars in ingest_panels(doc["parts"]).items()}
    with open(os.path.join(opts.out, "report.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    vector.write_report(os.path.join(opts.out, "report.md"), render_markdown(doc) + "\n")
    print(f"report: {os.path.relpath(os.path.join(opts.out, 'report.md'), REPO)}",
          file=sys.stderr)
    failed = [p for p, r in runs.items() if r["exit_status"] != 0]
    sys.exit(f"failed: {', '.join(failed)}" if failed else 0)


if __name__ == "__main__":
    main()
