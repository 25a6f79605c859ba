"""Helpers shared by the search suites (test_search.py, test_redisvl.py)."""

import time


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
