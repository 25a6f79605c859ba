"""Runs every script in python-examples/ against the test server (REDIS_URL)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "python-examples").glob("*.py"))
# These need the search commands, which the redis-server oracle (no modules) lacks.
SEARCH_EXAMPLES = {"vector_search.py", "redisvl_quickstart.py"}


def test_there_are_examples():
    assert any(p.name == "quickstart.py" for p in EXAMPLES)
    assert SEARCH_EXAMPLES <= {p.name for p in EXAMPLES}


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(server, script):
    if script.name in SEARCH_EXAMPLES and os.environ.get("FERRO_TEST_TARGET") == "redis":
        pytest.skip("the redis-server oracle has no search module")
    env = {**os.environ, "REDIS_URL": server.url}
    done = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, f"{script.name} failed:\n{done.stdout}\n{done.stderr}"
    assert "all good" in done.stdout
