"""Pub/sub notifications: a listener thread receives application messages on a channel and
pattern, and keyspace notifications (`notify-keyspace-events`) for expiring keys.

    REDIS_URL=redis://127.0.0.1:6379 python pubsub_notifications.py

Exits non-zero if a message is lost. Keys live under "notif:".
"""

import os
import sys
import time

import redis

URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")


def main() -> None:
    r = redis.Redis.from_url(URL, decode_responses=True)
    old_config = r.config_get("notify-keyspace-events")["notify-keyspace-events"]
    r.config_set("notify-keyspace-events", "Ex")  # keyevent notifications of expiries
    p = r.pubsub(ignore_subscribe_messages=True)
    p.subscribe("orders")
    p.psubscribe("alerts.*", "__keyevent@0__:expired")
    received = []

    def collect(until: float, want: int):
        while time.monotonic() < until and len(received) < want:
            message = p.get_message(timeout=0.1)
            if message:
                received.append((message["channel"], message["data"]))

    collect(time.monotonic() + 0.5, 0)  # drain confirmations
    r.publish("orders", "order-1 created")
    r.publish("alerts.disk", "disk 91% full")
    r.publish("ignored", "nobody listens")
    r.set("notif:reservation", "seat 12A", px=100)
    collect(time.monotonic() + 5, 3)
    print("received:", received)
    want = [
        ("orders", "order-1 created"),
        ("alerts.disk", "disk 91% full"),
        ("__keyevent@0__:expired", "notif:reservation"),
    ]
    p.close()
    r.config_set("notify-keyspace-events", old_config)
    if received != want:
        sys.exit(f"expected {want}")
    print("pubsub_notifications: all good")


if __name__ == "__main__":
    main()
