"""Session store: one hash per session with a sliding expiry renewed on every access.

    REDIS_URL=redis://127.0.0.1:6379 python session_store.py

Exits non-zero if sessions misbehave. Keys live under "session:".
"""

import os
import secrets
import sys
import time

import redis

URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")
IDLE_MS = 500


def create(r: redis.Redis, user: str) -> str:
    sid = secrets.token_hex(16)
    key = f"session:{sid}"
    with r.pipeline() as pipe:  # MULTI/EXEC: the session never exists without its TTL
        pipe.hset(key, mapping={"user": user, "cart_items": 0, "created": int(time.time())})
        pipe.pexpire(key, IDLE_MS)
        pipe.execute()
    return sid


def load(r: redis.Redis, sid: str) -> dict | None:
    key = f"session:{sid}"
    with r.pipeline() as pipe:
        pipe.hgetall(key)
        pipe.pexpire(key, IDLE_MS)  # sliding expiry
        data, _ = pipe.execute()
    return {k.decode(): v.decode() for k, v in data.items()} or None


def main() -> None:
    r = redis.Redis.from_url(URL)
    sid = create(r, "alice")
    r.hincrby(f"session:{sid}", "cart_items", 2)
    for _ in range(3):
        time.sleep(IDLE_MS / 2000)  # accesses inside the idle window keep it alive
        session = load(r, sid)
        if session is None:
            sys.exit("an active session must stay alive")
    if session["user"] != "alice" or session["cart_items"] != "2":
        sys.exit(f"unexpected session {session}")
    print(f"session {sid[:8]}...: {session}")
    time.sleep(IDLE_MS / 1000 + 0.2)
    if load(r, sid) is not None:
        sys.exit("an idle session must expire")
    print("idle session expired")
    r.delete(f"session:{sid}")
    print("session_store: all good")


if __name__ == "__main__":
    main()
