"""Stream commands and consumer groups through redis-py, in RESP3 and RESP2."""

import threading
import time

import pytest
import redis


def entries(reply):
    """XREAD / XREADGROUP reply as {stream: [(id, fields)]}, whatever the protocol."""
    if reply is None:
        return {}
    if isinstance(reply, dict):
        return {k: [(i, f) for i, f in v[0]] if v and isinstance(v[0], list) else v
                for k, v in reply.items()}
    return {k: v for k, v in reply}


def test_xadd_xrange_xlen(r, key):
    k = key()
    assert r.xadd(k, {"a": "1"}, id="1-1") == b"1-1"
    assert r.xadd(k, {"a": "2"}, id="1-*") == b"1-2"
    auto = r.xadd(k, {"b": "3"})
    ms, seq = auto.split(b"-")
    assert int(ms) > 1_600_000_000_000 and seq == b"0"
    assert r.xlen(k) == 3
    assert r.xrange(k, "-", "+", count=2) == [(b"1-1", {b"a": b"1"}), (b"1-2", {b"a": b"2"})]
    assert r.xrevrange(k, "+", "(1-2") == [(auto, {b"b": b"3"})]
    assert r.xrange(key("missing")) == []
    with pytest.raises(redis.ResponseError, match="equal or smaller than the target stream top item"):
        r.xadd(k, {"a": "x"}, id="1-1")
    assert r.xadd(key("none"), {"a": "1"}, nomkstream=True) is None
    assert r.exists(key("none")) == 0


def test_trim_and_delete(r, key):
    k = key()
    for i in range(1, 8):
        r.xadd(k, {"n": i}, id=f"{i}-0")
    assert r.xadd(k, {"n": 8}, id="8-0", maxlen=5, approximate=False) == b"8-0"
    assert r.xlen(k) == 5
    assert r.xtrim(k, minid="6-0", approximate=False) == 2
    assert r.xdel(k, "6-0", "99-0") == 1
    info = r.xinfo_stream(k)
    assert info["length"] == 2
    assert info["max-deleted-entry-id"] == b"6-0"
    assert info["entries-added"] == 8
    assert info["recorded-first-entry-id"] == b"7-0"
    assert info["first-entry"] == (b"7-0", {b"n": b"7"})


def test_xread_multiple_streams(r, key):
    a, b = key("a"), key("b")
    r.xadd(a, {"f": "1"}, id="1-0")
    r.xadd(a, {"f": "2"}, id="2-0")
    r.xadd(b, {"g": "1"}, id="5-0")
    got = entries(r.xread({a: "1-0", b: "0"}))
    assert got[a.encode()] == [(b"2-0", {b"f": b"2"})]
    assert got[b.encode()] == [(b"5-0", {b"g": b"1"})]
    assert r.xread({a: "$"}) in (None, [], {})


def test_consumer_group_flow(r, key):
    k = key()
    assert r.xgroup_create(k, "g", id="0", mkstream=True) is True
    with pytest.raises(redis.ResponseError, match="BUSYGROUP"):
        r.xgroup_create(k, "g", id="$")
    for i in range(1, 4):
        r.xadd(k, {"n": i}, id=f"{i}-0")
    got = entries(r.xreadgroup("g", "alice", {k: ">"}, count=2))
    assert [i for i, _ in got[k.encode()]] == [b"1-0", b"2-0"]
    entries(r.xreadgroup("g", "bob", {k: ">"}))
    summary = r.xpending(k, "g")
    assert summary["pending"] == 3
    assert summary["min"] == b"1-0" and summary["max"] == b"3-0"
    assert {c["name"]: c["pending"] for c in summary["consumers"]} == {b"alice": 2, b"bob": 1}
    rows = r.xpending_range(k, "g", min="-", max="+", count=10, consumername="alice")
    assert [row["message_id"] for row in rows] == [b"1-0", b"2-0"]
    assert all(row["times_delivered"] == 1 for row in rows)
    assert r.xack(k, "g", "1-0", "9-0") == 1
    assert r.xclaim(k, "g", "bob", 0, ["2-0"], justid=True) == [b"2-0"]
    r.xdel(k, "3-0")
    cursor, claimed, deleted = r.xautoclaim(k, "g", "carol", 0, "0-0")[:3]
    assert cursor == b"0-0"
    assert claimed == [(b"2-0", {b"n": b"2"})]
    assert deleted == [b"3-0"]
    groups = r.xinfo_groups(k)
    assert groups[0]["name"] == b"g"
    assert groups[0]["pending"] == 1
    assert groups[0]["last-delivered-id"] == b"3-0"
    assert groups[0]["entries-read"] == 3
    assert groups[0]["lag"] == 0
    consumers = {c["name"]: c["pending"] for c in r.xinfo_consumers(k, "g")}
    assert consumers == {b"alice": 0, b"bob": 0, b"carol": 1}
    assert r.xgroup_delconsumer(k, "g", "carol") == 1
    assert r.xgroup_destroy(k, "g") == 1


def test_xinfo_stream_full(r, key):
    k = key()
    r.xadd(k, {"f": "v"}, id="1-0")
    r.xgroup_create(k, "g", id="0")
    r.xreadgroup("g", "alice", {k: ">"})
    full = r.xinfo_stream(k, full=True)
    assert full["length"] == 1
    assert dict(full["entries"]) == {b"1-0": {b"f": b"v"}}
    group = full["groups"][0]
    assert group["name"] == b"g" and group["pel-count"] == 1
    # redis-py leaves RESP3 maps nested this deep with byte keys.
    consumer = group["consumers"][0]
    assert consumer.get("name", consumer.get(b"name")) == b"alice"


def test_blocking_xread_is_woken_by_xadd(server, protocol, key):
    k = key()
    reader = server.client(protocol=protocol)
    writer = server.client(protocol=protocol)
    writer.xadd(k, {"f": "old"}, id="1-0")
    result = {}

    def read():
        result["reply"] = reader.xread({k: "$"}, block=5000)

    thread = threading.Thread(target=read)
    thread.start()
    time.sleep(0.2)
    writer.xadd(k, {"f": "new"}, id="2-0")
    thread.join(5)
    assert entries(result["reply"])[k.encode()] == [(b"2-0", {b"f": b"new"})]
    started = time.monotonic()
    assert reader.xread({k: "$"}, block=100) in (None, [], {})
    assert time.monotonic() - started >= 0.09


def test_blocking_xreadgroup_fails_when_the_stream_goes(server, protocol, key):
    k = key()
    reader = server.client(protocol=protocol)
    writer = server.client(protocol=protocol)
    writer.xgroup_create(k, "g", id="$", mkstream=True)
    errors = []

    def read():
        try:
            reader.xreadgroup("g", "c", {k: ">"}, block=5000)
        except redis.ResponseError as e:
            errors.append(str(e))

    thread = threading.Thread(target=read)
    thread.start()
    time.sleep(0.2)
    writer.delete(k)
    thread.join(5)
    assert errors == ["UNBLOCKED the stream key no longer exists"]


def test_dump_restore_stream(r, key):
    k = key()
    r.xadd(k, {"f": "1"}, id="1-0")
    r.xadd(k, {"f": "2", "g": "x"}, id="2-0")
    r.xgroup_create(k, "g", id="0")
    r.xreadgroup("g", "alice", {k: ">"}, count=1)
    payload = r.dump(k)
    r.restore(key("copy"), 0, payload)
    assert r.xrange(key("copy")) == r.xrange(k)
    assert r.xpending(key("copy"), "g")["pending"] == 1
