"""Read-through cache with a TTL: GET, on a miss compute and SET ... EX, then serve hits.

    REDIS_URL=redis://127.0.0.1:6379 python cache_ttl.py

Exits non-zero if the cache misbehaves, so it doubles as a smoke test. Keys live under
"cache:".
"""

import json
import os
import sys
import time

import redis

URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")
TTL_MS = 400
calls = 0


def slow_lookup(user_id: int) -> dict:
    """Stands for a database query."""
    global calls
    calls += 1
    return {"id": user_id, "name": f"user-{user_id}"}


def cached_user(r: redis.Redis, user_id: int) -> dict:
    key = f"cache:user:{user_id}"
    hit = r.get(key)
    if hit is not None:
        return json.loads(hit)
    value = slow_lookup(user_id)
    r.set(key, json.dumps(value), px=TTL_MS)
    return value


def main() -> None:
    r = redis.Redis.from_url(URL)
    r.delete("cache:user:1", "cache:user:2")
    for _ in range(5):
        assert cached_user(r, 1)["name"] == "user-1"
    cached_user(r, 2)
    if calls != 2:
        sys.exit(f"expected 2 lookups (one per user), got {calls}")
    ttl = r.pttl("cache:user:1")
    if not 0 < ttl <= TTL_MS:
        sys.exit(f"cache entry must carry its TTL, PTTL={ttl}")
    print(f"5 reads of user 1 + 1 of user 2: {calls} lookups, PTTL {ttl} ms")
    time.sleep(TTL_MS / 1000 + 0.1)
    if r.exists("cache:user:1"):
        sys.exit("entry should have expired")
    cached_user(r, 1)
    if calls != 3:
        sys.exit("an expired entry is looked up again")
    print("after the TTL: looked up again")
    r.delete("cache:user:1", "cache:user:2")
    print("cache_ttl: all good")


if __name__ == "__main__":
    main()
