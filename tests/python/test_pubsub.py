"""Pub/sub and keyspace notifications through redis-py's PubSub object, in RESP3 and RESP2."""

import time

import pytest
import redis


def wait_message(p, timeout=5.0):
    """The next message of a PubSub object (subscribe confirmations included)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = p.get_message(timeout=0.1)
        if msg is not None:
            return msg
    raise AssertionError("no message arrived")


def test_subscribe_publish_get_message(r, key):
    ch = key("ch")
    p = r.pubsub()
    p.subscribe(ch)
    assert wait_message(p) == {"type": "subscribe", "pattern": None, "channel": ch.encode(), "data": 1}
    assert r.publish(ch, "hello") == 1
    assert wait_message(p) == {"type": "message", "pattern": None, "channel": ch.encode(), "data": b"hello"}
    assert r.pubsub_numsub(ch) == [(ch.encode(), 1)]
    assert ch.encode() in r.pubsub_channels(key("*"))
    p.unsubscribe(ch)
    assert wait_message(p) == {"type": "unsubscribe", "pattern": None, "channel": ch.encode(), "data": 0}
    assert r.publish(ch, "nobody") == 0
    p.close()


def test_psubscribe_and_handlers(r, key):
    received = []
    p = r.pubsub(ignore_subscribe_messages=True)
    pattern = key("news.*")
    p.psubscribe(**{pattern: received.append})
    # The confirmation is consumed (and ignored) by get_message.
    p.get_message(timeout=1)
    assert r.pubsub_numpat() >= 1
    assert r.publish(key("news.sport"), "goal") == 1
    deadline = time.monotonic() + 5
    while not received and time.monotonic() < deadline:
        p.get_message(timeout=0.1)
    assert received == [
        {"type": "pmessage", "pattern": pattern.encode(), "channel": key("news.sport").encode(), "data": b"goal"}
    ]
    p.punsubscribe()
    p.close()


def test_listen(r, key):
    ch = key("listen")
    p = r.pubsub()
    p.subscribe(ch)
    r.publish(ch, "one")
    r.publish(ch, "two")
    got = []
    for msg in p.listen():
        got.append((msg["type"], msg["data"]))
        if len(got) == 3:
            break
    assert got == [("subscribe", 1), ("message", b"one"), ("message", b"two")]
    p.close()


def test_shard_channels(r, key):
    ch = key("shard")
    p = r.pubsub()
    p.ssubscribe(ch)
    assert wait_message(p)["type"] == "ssubscribe"
    assert r.spublish(ch, "m") == 1
    msg = wait_message(p)
    assert (msg["type"], msg["channel"], msg["data"]) == ("smessage", ch.encode(), b"m")
    assert r.pubsub_shardnumsub(ch) == [(ch.encode(), 1)]
    p.sunsubscribe(ch)
    assert wait_message(p)["type"] == "sunsubscribe"
    p.close()


def test_resp2_subscribed_connection_refuses_commands(server, key):
    conn = redis.Connection(host=server.host, port=server.port, protocol=2)
    conn.connect()
    conn.send_command("SUBSCRIBE", key("c"))
    assert conn.read_response() == [b"subscribe", key("c").encode(), 1]
    conn.send_command("GET", "x")
    with pytest.raises(redis.ResponseError, match="only \\(P\\|S\\)SUBSCRIBE"):
        conn.read_response()
    conn.send_command("PING")
    assert conn.read_response() == [b"pong", b""]
    conn.send_command("RESET")
    assert conn.read_response() == b"RESET"
    conn.disconnect()


def test_keyspace_notifications(fresh_server, protocol):
    r = fresh_server.client(protocol=protocol)
    r.config_set("notify-keyspace-events", "KEA")
    p = r.pubsub(ignore_subscribe_messages=True)
    p.psubscribe("__key*__:*")
    p.get_message(timeout=1)
    r.set("k", "v")
    r.hset("h", "f", "1")
    r.delete("k")
    events = []
    deadline = time.monotonic() + 5
    while len(events) < 6 and time.monotonic() < deadline:
        msg = p.get_message(timeout=0.1)
        if msg:
            events.append((msg["channel"], msg["data"]))
    assert events == [
        (b"__keyspace@0__:k", b"set"),
        (b"__keyevent@0__:set", b"k"),
        (b"__keyspace@0__:h", b"hset"),
        (b"__keyevent@0__:hset", b"h"),
        (b"__keyspace@0__:k", b"del"),
        (b"__keyevent@0__:del", b"k"),
    ]
    p.close()
    r.close()
