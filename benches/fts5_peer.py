"""The text benchmark's peer: SQLite's FTS5 full-text engine, in process, on the same documents
and query sets the RESP tool ran (the files its `--workload-dir` writes).

FTS5 is a widely deployed inverted-index engine with BM25 ranking; it ships with Python's
standard library, so the peer needs no install. It is measured in process, with no network
round trip, so it is an upper bound for what a server could answer one client at a time.

Per corpus: one transaction loads every document (the `porter unicode61` tokenizer, English
stemming as our TEXT fields do; tag and num in an ordinary table with an index on (tag, num)),
then each query set runs closed-loop, up to the same budget as the RESP tool (most queries,
longest time), fetching the 10 best ids by BM25 rank. The query kinds map as follows:
    term / and / phrase / prefix  ->  an FTS5 MATCH expression (`a AND b`, `"a b"`, `man*`)
    tag_range                     ->  WHERE tag = ? AND num BETWEEN ? AND ?
    text_tag                      ->  MATCH joined with the tag
    fuzzy, hybrid_knn             ->  not measured (FTS5 has neither)
"""

import json
import re
import sqlite3
import time

SYSTEM = "sqlite-fts5"

TAG_RANGE = re.compile(r"@tag:\{([^}]*)\} @num:\[(-?\d+) (-?\d+)\]$")
TEXT_TAG = re.compile(r"(\S+) @tag:\{([^}]*)\}$")

TOP_TEXT = ("SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY rank LIMIT 10",
            "SELECT count(*) FROM fts WHERE fts MATCH ?")
TOP_TAG_RANGE = ("SELECT id FROM docs WHERE tag = ? AND num BETWEEN ? AND ? LIMIT 10",
                 "SELECT count(*) FROM docs WHERE tag = ? AND num BETWEEN ? AND ?")
TOP_TEXT_TAG = ("SELECT fts.rowid FROM fts JOIN docs ON docs.id = fts.rowid "
                "WHERE fts MATCH ? AND docs.tag = ? ORDER BY rank LIMIT 10",
                "SELECT count(*) FROM fts JOIN docs ON docs.id = fts.rowid "
                "WHERE fts MATCH ? AND docs.tag = ?")


def quoted(word):
    return '"' + word.replace('"', '""') + '"'


def translate(kind, query):
    """(top-10 SQL, count SQL, parameters) for a dialect-2 query of `kind`, or None."""
    if kind == "term":
        return (*TOP_TEXT, (quoted(query),))
    if kind == "and":
        return (*TOP_TEXT, (" AND ".join(quoted(w) for w in query.split()),))
    if kind == "phrase":
        return (*TOP_TEXT, (quoted(query.strip('"')),))
    if kind == "prefix":
        return (*TOP_TEXT, (quoted(query.rstrip("*")) + "*",))
    m = TAG_RANGE.match(query) if kind == "tag_range" else None
    if m:
        return (*TOP_TAG_RANGE, (m.group(1), int(m.group(2)), int(m.group(3))))
    m = TEXT_TAG.match(query) if kind == "text_tag" else None
    if m:
        return (*TOP_TEXT_TAG, (quoted(m.group(1)), m.group(2)))
    return None


def read_workload(path):
    docs, queries = [], {}
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            if "doc" in r:
                docs.append((r["doc"], r["text"], r["tag"], r["num"]))
            else:
                queries.setdefault(r["kind"], []).append(r["query"])
    return docs, queries


def load(docs):
    """An in-memory database holding `docs`; returns (connection, docs per second)."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE docs (id INTEGER PRIMARY KEY, tag TEXT, num INTEGER)")
    db.execute("CREATE INDEX docs_tag_num ON docs (tag, num)")
    db.execute("CREATE VIRTUAL TABLE fts USING fts5(text, tokenize = 'porter unicode61')")
    start = time.perf_counter()
    with db:
        db.executemany("INSERT INTO docs VALUES (?, ?, ?)",
                       ((i, tag, num) for i, _, tag, num in docs))
        db.executemany("INSERT INTO fts (rowid, text) VALUES (?, ?)",
                       ((i, text) for i, text, _, _ in docs))
    return db, len(docs) / (time.perf_counter() - start)


def quantile_ms(sorted_latencies, q):
    n = len(sorted_latencies)
    rank = min(max(int(-(-q * n // 1)), 1), n)
    return sorted_latencies[rank - 1] * 1e3


def run_set(db, plans, max_queries, seconds):
    """Closed loop over `plans` round-robin until the budget is spent."""
    latencies = []
    start = time.perf_counter()
    while len(latencies) < max_queries and time.perf_counter() - start < seconds:
        top, _, params = plans[len(latencies) % len(plans)]
        t = time.perf_counter()
        db.execute(top, params).fetchall()
        latencies.append(time.perf_counter() - t)
    wall = time.perf_counter() - start
    latencies.sort()
    # Hits averaged over the requests sent, as the RESP tool averages FT.SEARCH's totals.
    ran = plans[:len(latencies)]
    hits = [db.execute(count, params).fetchone()[0] for _, count, params in ran]
    sent = sum(h * len(range(i, len(latencies), len(plans))) for i, h in enumerate(hits))
    return {"requests": len(latencies), "per_s": len(latencies) / wall,
            "p50_ms": quantile_ms(latencies, 0.50), "p99_ms": quantile_ms(latencies, 0.99),
            "mean_hits": sent / len(latencies)}


def measure(path, corpus, max_queries=20000, seconds=3.0):
    """Result lines (the RESP tool's shape, system sqlite-fts5) for one workload file."""
    docs, queries = read_workload(path)
    db, rate = load(docs)
    base = {"system": SYSTEM, "corpus": corpus, "docs": len(docs)}
    lines = [{**base, "phase": "ingest", "docs_per_s": rate}]
    for kind, texts in queries.items():
        plans = [p for p in (translate(kind, q) for q in texts) if p]
        if plans:
            lines.append({**base, "phase": "query", "kind": kind, "conns": 1,
                          "distinct_queries": len(plans),
                          **run_set(db, plans, max_queries, seconds)})
    db.close()
    return lines
