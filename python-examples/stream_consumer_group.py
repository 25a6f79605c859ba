"""A stream work queue with a consumer group: producers XADD, consumers XREADGROUP and XACK;
a consumer that crashes leaves entries pending, which XPENDING shows and another consumer
takes over with XAUTOCLAIM.

    REDIS_URL=redis://127.0.0.1:6379 python stream_consumer_group.py

Exits non-zero if an entry is lost or processed twice. Keys live under "events:".
"""

import os
import sys
import time

import redis

URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")
STREAM, GROUP = "events:orders", "billing"


def main() -> None:
    r = redis.Redis.from_url(URL, decode_responses=True)
    r.delete(STREAM)
    r.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    for i in range(20):
        r.xadd(STREAM, {"order": i, "amount": 10 * i}, maxlen=1000, approximate=True)
    processed = []

    # Consumer "a" reads 5 entries and crashes before acknowledging them.
    crashed = r.xreadgroup(GROUP, "a", {STREAM: ">"}, count=5)
    lost_ids = [entry_id for entry_id, _ in crashed[0][1]]
    # Consumer "b" works through the rest, acknowledging each.
    while True:
        batch = r.xreadgroup(GROUP, "b", {STREAM: ">"}, count=4, block=100)
        if not batch:
            break
        for entry_id, fields in batch[0][1]:
            processed.append(int(fields["order"]))
            r.xack(STREAM, GROUP, entry_id)
    summary = r.xpending(STREAM, GROUP)
    print(f"pending after the crash: {summary['pending']} (consumers {summary['consumers']})")
    if summary["pending"] != 5:
        sys.exit("the crashed consumer's 5 entries must stay pending")
    # Recovery: "b" claims entries idle for 50 ms or more.
    time.sleep(0.06)
    _, claimed, _ = r.xautoclaim(STREAM, GROUP, "b", min_idle_time=50, start_id="0-0")
    if [entry_id for entry_id, _ in claimed] != lost_ids:
        sys.exit(f"XAUTOCLAIM should hand over {lost_ids}")
    for entry_id, fields in claimed:
        processed.append(int(fields["order"]))
        r.xack(STREAM, GROUP, entry_id)
    print(f"claimed {len(claimed)} entries from the crashed consumer")
    if sorted(processed) != list(range(20)) or r.xpending(STREAM, GROUP)["pending"] != 0:
        sys.exit(f"every entry must be processed exactly once: {sorted(processed)}")
    r.delete(STREAM)
    print("stream_consumer_group: all good")


if __name__ == "__main__":
    main()
