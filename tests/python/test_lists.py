"""List commands through redis-py, in RESP3 and RESP2, blocking ones included."""

import threading
import time

import pytest
import redis


def test_push_pop_range(r, key):
    k = key()
    assert r.rpush(k, "a", "b", "c") == 3
    assert r.lpush(k, "z") == 4
    assert r.lrange(k, 0, -1) == [b"z", b"a", b"b", b"c"]
    assert r.lpushx(key("missing"), "x") == 0
    assert r.rpushx(k, "d") == 5
    assert r.lpop(k) == b"z"
    assert r.rpop(k, 2) == [b"d", b"c"]
    assert r.lpop(k, 0) == []
    assert r.llen(k) == 2
    assert r.lindex(k, -1) == b"b"
    assert r.lindex(k, 10) is None
    assert r.lpop(key("missing")) is None
    assert r.lpop(key("missing"), 3) is None
    assert r.rpop(k, 10) == [b"b", b"a"]
    assert r.exists(k) == 0


def test_list_edits(r, key):
    k = key()
    r.rpush(k, "a", "b", "a", "c", "a")
    assert r.lpos(k, "a") == 0
    assert r.lpos(k, "a", rank=-1) == 4
    assert r.lpos(k, "a", count=0) == [0, 2, 4]
    assert r.lpos(k, "a", rank=2, count=1) == [2]
    assert r.lpos(k, "a", count=0, maxlen=2) == [0]
    assert r.lpos(k, "nope") is None
    assert r.linsert(k, "before", "c", "X") == 6
    assert r.linsert(k, "after", "nope", "X") == -1
    assert r.lset(k, 0, "A") is True
    assert r.lrem(k, 0, "a") == 2
    assert r.lrange(k, 0, -1) == [b"A", b"b", b"X", b"c"]
    assert r.ltrim(k, 1, 2) is True
    assert r.lrange(k, 0, -1) == [b"b", b"X"]


def test_moves_and_mpop(r, key):
    src, dst = key("src"), key("dst")
    r.rpush(src, "1", "2", "3")
    assert r.lmove(src, dst, "LEFT", "RIGHT") == b"1"
    assert r.rpoplpush(src, dst) == b"3"
    assert r.lrange(dst, 0, -1) == [b"3", b"1"]
    assert r.lmove(key("missing"), dst) is None
    assert r.lmpop(2, key("missing"), dst, direction="RIGHT", count=5) == [
        dst.encode(),
        [b"1", b"3"],
    ]
    assert r.lmpop(1, dst, direction="LEFT") is None


def test_list_errors(r, key):
    k, s = key(), key("s")
    r.set(s, "v")
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
        r.lpush(s, "a")
    with pytest.raises(redis.ResponseError, match="^no such key$"):
        r.lset(k, 0, "a")
    r.rpush(k, "a")
    with pytest.raises(redis.ResponseError, match="^index out of range$"):
        r.lset(k, 5, "a")
    with pytest.raises(redis.ResponseError, match="^value is out of range, must be positive$"):
        r.lpop(k, -1)
    with pytest.raises(redis.ResponseError, match="^timeout is negative$"):
        r.blpop([k], -1)
    with pytest.raises(redis.ResponseError, match="^RANK can't be zero"):
        r.lpos(k, "a", rank=0)


def test_blocking_pops(server, r, key, protocol):
    k = key()
    assert r.blpop([key("missing")], timeout=0.05) is None
    assert r.blmove(key("missing"), k, 0.05, "LEFT", "RIGHT") is None
    r.rpush(k, "x")
    assert list(r.brpop([key("missing"), k], timeout=1)) == [k.encode(), b"x"]

    pusher = server.client(protocol=protocol)
    timer = threading.Timer(0.1, lambda: pusher.rpush(k, "late"))
    timer.start()
    started = time.monotonic()
    got = r.blpop([k], timeout=5)
    timer.join()
    pusher.close()
    assert list(got) == [k.encode(), b"late"]
    assert time.monotonic() - started < 4
    assert r.blmpop(0.05, 1, k, direction="LEFT") is None
