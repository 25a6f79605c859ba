"""A sliding-window rate limiter on a sorted set (one member per request, scored by time),
trimmed and counted atomically in MULTI/EXEC.

    REDIS_URL=redis://127.0.0.1:6379 python sliding_window_limiter.py

Exits non-zero if the limiter misbehaves. Keys live under "sliding:".
"""

import os
import sys
import time
import uuid

import redis

URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")
LIMIT = 4
WINDOW_MS = 400


def allow(r: redis.Redis, client: str) -> bool:
    key = f"sliding:{client}"
    now = time.time() * 1000
    with r.pipeline() as pipe:
        pipe.zremrangebyscore(key, 0, now - WINDOW_MS)
        pipe.zadd(key, {uuid.uuid4().hex: now})
        pipe.zcard(key)
        pipe.pexpire(key, WINDOW_MS)
        _, _, count, _ = pipe.execute()
    if count > LIMIT:
        r.zremrangebyscore(key, now, now)  # a refused request does not count
        return False
    return True


def main() -> None:
    r = redis.Redis.from_url(URL)
    r.delete("sliding:alice")
    decisions = [allow(r, "alice") for _ in range(LIMIT + 2)]
    print(f"{LIMIT + 2} quick requests: {decisions}")
    if decisions != [True] * LIMIT + [False] * 2:
        sys.exit(f"unexpected decisions {decisions}")
    time.sleep(WINDOW_MS / 1000 + 0.05)
    if not allow(r, "alice"):
        sys.exit("once the window slid past, requests are allowed again")
    print("window slid: allowed again")
    r.delete("sliding:alice")
    print("sliding_window_limiter: all good")


if __name__ == "__main__":
    main()
