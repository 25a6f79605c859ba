"""ferrostack quickstart with redis-py: a cache with TTLs, counters and a session hash.

Run it against any server speaking the Redis protocol:

    REDIS_URL=redis://127.0.0.1:6379 python keyspace_quickstart.py

It prints what it does and exits non-zero if a reply is not what Redis would give, so it
doubles as a smoke test. All keys live under "quickstart:" and are deleted at the end.
"""

import os
import time

import redis

from example_support import check

URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")



def slow_lookup(user_id: int) -> str:
    """Stands in for a database query worth caching."""
    time.sleep(0.05)
    return f"profile of user {user_id}"


def cached_profile(r: redis.Redis, user_id: int) -> tuple[str, bool]:
    """Cache-aside: read the cache, fall back to the slow lookup and cache it for 60 s."""
    key = f"quickstart:cache:profile:{user_id}"
    hit = r.get(key)
    if hit is not None:
        return hit, True
    value = slow_lookup(user_id)
    r.set(key, value, ex=60)
    return value, False


def remove_quickstart_keys(r: redis.Redis) -> int:
    keys = list(r.scan_iter(match="quickstart:*"))
    return r.delete(*keys) if keys else 0


def main() -> None:
    # decode_responses=True gives str instead of bytes; redis-py 8 negotiates RESP3.
    r = redis.Redis.from_url(URL, decode_responses=True)
    print(f"connected to {URL}: PING -> {r.ping()}")
    remove_quickstart_keys(r)  # leftovers of an interrupted run

    # --- cache with a TTL ---
    value, hit = cached_profile(r, 42)
    print(f"first read: {value!r} (cache hit: {hit})")
    check(not hit, "first read should miss the cache")
    value, hit = cached_profile(r, 42)
    print(f"second read: {value!r} (cache hit: {hit})")
    check(hit and value == "profile of user 42", "second read should hit the cache")
    ttl = r.ttl("quickstart:cache:profile:42")
    print(f"cache entry expires in {ttl} s")
    check(0 < ttl <= 60, f"TTL {ttl}")

    r.set("quickstart:cache:flash", "gone soon", px=100)
    time.sleep(0.2)
    check(r.get("quickstart:cache:flash") is None, "a 100 ms entry should have expired")
    print("a 100 ms cache entry expired as expected")

    # --- counters ---
    for _ in range(5):
        r.incr("quickstart:pageviews")
    views = r.incrby("quickstart:pageviews", 10)
    print(f"page views: {views}")
    check(views == 15, f"counter {views}")
    score = r.incrbyfloat("quickstart:score", 2.5)
    print(f"score: {score}")
    check(score == 2.5, f"float counter {score}")

    # Several counters in one round trip, without a transaction.
    pipe = r.pipeline(transaction=False)
    for day in ("mon", "tue", "wed"):
        pipe.incr(f"quickstart:visits:{day}")
    pipe.mget([f"quickstart:visits:{d}" for d in ("mon", "tue", "wed")])
    *_, visits = pipe.execute()
    print(f"visits per day: {visits}")
    check(visits == ["1", "1", "1"], f"pipelined counters {visits}")

    # --- a session stored as a hash ---
    session = "quickstart:session:abc123"
    r.hset(session, mapping={"user": "alice", "cart_items": 0, "theme": "dark"})
    r.expire(session, 1800)
    r.hincrby(session, "cart_items", 3)
    r.hdel(session, "theme")
    data = r.hgetall(session)
    print(f"session: {data}, expires in {r.ttl(session)} s")
    check(data == {"user": "alice", "cart_items": "3"}, f"session {data}")

    # --- clean up ---
    print(f"removed {remove_quickstart_keys(r)} quickstart keys")
    check(not list(r.scan_iter(match="quickstart:*")), "cleanup")
    print("keyspace_quickstart: all good")


if __name__ == "__main__":
    main()
