"""Runs every script in python-examples/ as a subprocess against a server of its own, and
checks its exit status and the lines that show it did its work. The scripts check their own
results and exit non-zero on a wrong one.

The search examples take `--port`; the keyspace ones read REDIS_URL. Both are given to every
script.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from search_support import dataset

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "python-examples").glob("*.py"))

# Lines (substrings) each search example must print besides "<name>: all good". These need the
# search commands, which the redis-server oracle (no modules) lacks.
SEARCH_EXAMPLES = {
    "quickstart.py": [
        "index qs_movies: 7 movies",
        "KNN 3 nearest to space+crime:",
        "KNN 2 among comedies and romances since 2005:",
        "within cosine distance 0.2 of space+crime:",
        "text 'pirate | robbery':",
    ],
    "vector_search.py": ["nearest to 'hiking boots':"],
    "redisvl_quickstart.py": ["high credit, older than 15: ['john', 'tyler']"],
    "redisvl_example.py": [
        "loaded 7 articles into rvl_articles",
        "among security articles updated since 2020: ['Enable two-factor login']",
        "text 'password reset' in account articles: [('Reset your password',",
        "hybrid 'password' + question vector:",
    ],
    "semantic_cache.py": [
        "MISS alice 'What is the capital of France?'",
        "HIT  alice 'what is the capital city of France'",
        "MISS bob   'What is the capital of France?'",
        "MISS alice after expiry",
    ],
    "langchain_example.py": [
        "added 6 recipes to lc_recipes",
        "indian, 30 minutes or less: ['lentil dal with garlic and rice']",
        "retriever, japanese only: ['miso soup with tofu']",
    ],
    "llamaindex_example.py": [
        "platform notes from 2024: ['deploy-guide'",
        "after deleting pricing-faq",
    ],
    "rag_pipeline.py": [
        "embedded 993 chunks with precomputed (base.f32)",
        "stored 993 chunks in rag_chunks",
        "--- filter @domain:{nautical}: retrieved",
        "Answer the question using only the numbered sources; cite them as [n].",
        "retrieval recall@4 against exact search:",
    ],
}

# Extra arguments: rag_pipeline runs on the shared dataset's embeddings (no model in CI),
# every 32nd dictionary entry so that a debug build loads it quickly.
ARGS = {"rag_pipeline.py": ["--precomputed", "--stride", "32"]}


def test_there_are_examples():
    names = {p.name for p in EXAMPLES}
    assert "quickstart.py" in names
    assert set(SEARCH_EXAMPLES) <= names


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(fresh_server, script):
    if script.name in SEARCH_EXAMPLES and os.environ.get("FERRO_TEST_TARGET") == "redis":
        pytest.skip("the redis-server oracle has no search module")
    env = {**os.environ, "REDIS_URL": fresh_server.url}
    if script.name == "rag_pipeline.py":
        found = dataset()
        if found is None:
            pytest.skip("gcide-minilm dataset not found (see datasets/README.md)")
        env["GCIDE_MINILM_DIR"] = str(found)
    argv = [sys.executable, str(script), "--port", str(fresh_server.port), *ARGS.get(script.name, [])]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{script.name} failed:\n{done.stdout}\n{done.stderr}"
    assert f"{script.stem}: all good" in done.stdout, done.stdout
    for line in SEARCH_EXAMPLES.get(script.name, []):
        assert line in done.stdout, f"{script.name} did not print {line!r}:\n{done.stdout}"


def test_rag_chunking():
    """rag_pipeline's chunker, on texts longer than the dataset's (whose entries are each one
    chunk): whole sentences packed up to the limit, an over-long sentence cut, nothing lost."""
    sys.path.insert(0, str(EXAMPLES[0].parent))
    try:
        from rag_pipeline import chunk
    finally:
        sys.path.pop(0)
    text = "One two three. " * 10 + "x" * 250 + " Last one? Yes!"
    chunks = chunk(text, 100)
    assert chunks[:2] == ["One two three. " * 5 + "One two three.", "One two three. " * 3 + "One two three."]
    assert chunks[2:] == ["x" * 100, "x" * 100, "x" * 50 + " Last one? Yes!"]
    assert all(len(c) <= 100 for c in chunks)
    assert "".join(chunks).replace(" ", "") == text.replace(" ", "")
    assert chunk("  A short entry. Two sentences.  ", 100) == ["  A short entry. Two sentences.  "]
