"""A fixed-window rate limiter with INCR + EXPIRE NX, one round trip per request.

    REDIS_URL=redis://127.0.0.1:6379 python rate_limiter.py

Allows LIMIT requests per client per window; prints the decisions and exits non-zero if
the limiter misbehaves, so it doubles as a smoke test. Keys live under "ratelimit:".
"""

import os
import sys
import time

import redis

URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")
LIMIT = 5
WINDOW_MS = 300


def allow(r: redis.Redis, client: str) -> bool:
    """Counts the request in the current window; True while under the limit."""
    window = int(time.time() * 1000) // WINDOW_MS
    key = f"ratelimit:{client}:{window}"
    pipe = r.pipeline(transaction=False)
    pipe.incr(key)
    # NX: only the first request of a window sets the expiry.
    pipe.pexpire(key, WINDOW_MS * 2, nx=True)
    count, _ = pipe.execute()
    return count <= LIMIT


def main() -> None:
    r = redis.Redis.from_url(URL)
    # Start at the beginning of a window so all requests below fall into one.
    time.sleep((WINDOW_MS - int(time.time() * 1000) % WINDOW_MS) / 1000)
    decisions = [allow(r, "alice") for _ in range(LIMIT + 3)]
    print(f"alice, {LIMIT + 3} quick requests: {decisions}")
    if decisions != [True] * LIMIT + [False] * 3:
        sys.exit(f"unexpected decisions {decisions}")
    if not allow(r, "bob"):
        sys.exit("bob has his own budget")
    time.sleep(WINDOW_MS / 1000)
    if not allow(r, "alice"):
        sys.exit("a new window should allow alice again")
    print("next window: alice allowed again")
    keys = list(r.scan_iter(match="ratelimit:*"))
    if any(r.pttl(k) <= 0 for k in keys):
        sys.exit("every window key must expire")
    r.delete(*keys)
    print("rate_limiter: all good")


if __name__ == "__main__":
    main()
