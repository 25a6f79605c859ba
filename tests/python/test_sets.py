"""Set commands through redis-py, in RESP3 and RESP2."""

import pytest
import redis


def test_sadd_srem_smembers(r, key):
    k = key()
    assert r.sadd(k, "a", "b", "c", "a") == 3
    assert r.sadd(k, "a") == 0
    assert r.smembers(k) == {b"a", b"b", b"c"}
    assert r.scard(k) == 3
    assert r.srem(k, "a", "zz") == 1
    assert r.sismember(k, "b") == 1
    assert r.sismember(k, "a") == 0
    assert r.smismember(k, ["a", "b", "c"]) == [False, True, True]
    assert r.srem(k, "b", "c") == 2
    assert r.exists(k) == 0
    assert r.smembers(key("missing")) == set()


def test_intset_order(r, key):
    k = key()
    r.sadd(k, 10, -3, 7, 0)
    assert r.object("encoding", k) == b"intset"
    # An intset replies in ascending order in every Redis version.
    assert r.sscan(k, 0) == (0, [b"-3", b"0", b"7", b"10"])
    assert set(r.spop(k, 10)) == {b"-3", b"0", b"7", b"10"}


@pytest.mark.redis74
def test_listpack_encoding(r, key):
    k = key()
    r.sadd(k, 1, "x", 2)
    assert r.object("encoding", k) == b"listpack"
    assert r.sscan(k, 0) == (0, [b"1", b"x", b"2"])
    r.sadd(k, "y" * 65)
    assert r.object("encoding", k) == b"hashtable"


def test_spop_srandmember(r, key):
    k = key()
    members = {str(i).encode() for i in range(20)}
    r.sadd(k, *members)
    one = r.spop(k)
    assert one in members
    several = r.spop(k, 5)
    assert len(several) == 5 and set(several) <= members
    assert r.scard(k) == 14
    picks = r.srandmember(k, -30)
    assert len(picks) == 30 and set(picks) <= members
    distinct = r.srandmember(k, 10)
    assert len(set(distinct)) == 10
    assert r.srandmember(key("missing")) is None
    assert r.spop(key("missing")) is None
    with pytest.raises(redis.ResponseError, match="must be positive"):
        r.spop(k, -1)


def test_smove(r, key):
    a, b = key("a"), key("b")
    r.sadd(a, "x", "y")
    assert r.smove(a, b, "x") is True
    assert r.smove(a, b, "nope") is False
    assert r.smembers(b) == {b"x"}
    r.set(key("str"), "v")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.smove(a, key("str"), "y")


def test_algebra(r, key):
    a, b, c, d = key("a"), key("b"), key("c"), key("d")
    r.sadd(a, "1", "2", "3", "x")
    r.sadd(b, "2", "3", "4")
    r.sadd(c, "3")
    assert r.sunion(a, b) == {b"1", b"2", b"3", b"4", b"x"}
    assert r.sinter(a, b, c) == {b"3"}
    assert r.sdiff(a, b) == {b"1", b"x"}
    assert r.sinterstore(d, [a, b]) == 2
    assert r.smembers(d) == {b"2", b"3"}
    assert r.sunionstore(d, [a, b]) == 5
    assert r.sdiffstore(d, [a, b, c]) == 2
    assert r.sdiffstore(d, [c, a]) == 0
    assert r.exists(d) == 0
    assert r.sintercard(2, [a, b]) == 2
    assert r.sintercard(2, [a, b], limit=1) == 1
    with pytest.raises(redis.ResponseError, match="numkeys should be greater than 0"):
        r.execute_command("SINTERCARD", 0, a)


def test_sscan_iter(r, key):
    k = key()
    members = {f"m{i}".encode() for i in range(500)}
    r.sadd(k, *members)
    assert set(r.sscan_iter(k, count=37)) == members
    assert set(r.sscan_iter(k, match="m1*")) == {m for m in members if m.startswith(b"m1")}


def test_dump_restore(r, key):
    k, copy = key(), key("copy")
    r.sadd(k, 1, 2, 3)
    payload = r.dump(k)
    assert r.restore(copy, 0, payload) == b"OK"
    assert r.smembers(copy) == {b"1", b"2", b"3"}
    assert r.object("encoding", copy) == b"intset"
