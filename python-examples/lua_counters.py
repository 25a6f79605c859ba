"""Atomic counters with a Lua script using cjson: one script call decodes a JSON event,
bumps per-type counters in a hash and keeps a JSON summary, atomically.

    REDIS_URL=redis://127.0.0.1:6379 python lua_counters.py

Exits non-zero if a count is lost under concurrent callers. Keys live under "counters:".
"""

import json
import os
import sys
import threading

import redis

URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")
RECORD = """
local event = cjson.decode(ARGV[1])
local n = redis.call('HINCRBY', KEYS[1], event.type, event.count or 1)
local total = redis.call('HINCRBY', KEYS[1], '_total', event.count or 1)
local summary = {last_type = event.type, total = total}
redis.call('SET', KEYS[2], cjson.encode(summary))
return {n, total}
"""


def main() -> None:
    r = redis.Redis.from_url(URL)
    r.delete("counters:events", "counters:summary")
    record = r.register_script(RECORD)

    def worker(kind: str):
        client = redis.Redis.from_url(URL)
        script = client.register_script(RECORD)
        for _ in range(100):
            script(keys=["counters:events", "counters:summary"],
                   args=[json.dumps({"type": kind, "count": 2})])

    threads = [threading.Thread(target=worker, args=(k,)) for k in ("click", "view", "click")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    n, total = record(keys=["counters:events", "counters:summary"],
                      args=[json.dumps({"type": "buy"})])
    counts = {k.decode(): int(v) for k, v in r.hgetall("counters:events").items()}
    summary = json.loads(r.get("counters:summary"))
    print("counts:", counts, "summary:", summary)
    if counts != {"click": 400, "view": 200, "buy": 1, "_total": 601} or total != 601 or n != 1:
        sys.exit("a concurrent update was lost")
    if summary != {"last_type": "buy", "total": 601}:
        sys.exit(f"unexpected summary {summary}")
    r.delete("counters:events", "counters:summary")
    print("lua_counters: all good")


if __name__ == "__main__":
    main()
