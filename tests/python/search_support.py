"""Helpers shared by the search suites (test_search.py, test_redisvl.py)."""

import os
import time
from pathlib import Path


def wait_indexed(index, timeout: float = 10.0) -> dict:
    """Polls FT.INFO until the background scan is over, as redis-py's own tests do.

    `index` is anything with an `info()` returning FT.INFO as a dict: redis-py's `r.ft(name)`
    or a redisvl SearchIndex.
    """
    deadline = time.monotonic() + timeout
    while True:
        info = index.info()
        if int(info["indexing"]) == 0:
            return info
        assert time.monotonic() < deadline, f"still indexing: {info}"
        time.sleep(0.02)


def dataset() -> Path | None:
    """gcide-minilm (real 384-d embeddings), found as datasets/README.md says, if there."""
    if os.environ.get("GCIDE_MINILM_DIR"):
        return Path(os.environ["GCIDE_MINILM_DIR"])
    if os.environ.get("FERRO_DATASETS"):
        return Path(os.environ["FERRO_DATASETS"]) / "gcide-minilm"
    repo = Path(__file__).resolve().parents[2]
    for root in (repo.parent, *repo.parents):
        candidate = root / "shared" / "datasets" / "gcide-minilm"
        if (candidate / "base.f32").exists():
            return candidate
    return None
