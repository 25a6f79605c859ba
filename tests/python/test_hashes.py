"""Hash commands through redis-py, in RESP3 and RESP2."""

import pytest
import redis


def test_hset_hget_hgetall(r, key):
    k = key()
    assert r.hset(k, "f1", "v1") == 1
    assert r.hset(k, mapping={"f2": "v2", "f3": "v3"}) == 2
    assert r.hset(k, items=["f1", "new", "f4", "v4"]) == 1
    assert r.hget(k, "f1") == b"new"
    assert r.hget(k, "nope") is None
    assert r.hget(key("missing"), "f") is None
    # Small hashes keep insertion order in Redis; clients can observe it.
    assert r.hgetall(k) == {b"f1": b"new", b"f2": b"v2", b"f3": b"v3", b"f4": b"v4"}
    assert list(r.hgetall(k)) == [b"f1", b"f2", b"f3", b"f4"]
    assert r.hkeys(k) == [b"f1", b"f2", b"f3", b"f4"]
    assert r.hvals(k) == [b"new", b"v2", b"v3", b"v4"]
    assert r.hgetall(key("missing")) == {}


def test_hmset_hmget_hsetnx(r, key):
    k = key()
    assert r.execute_command("HMSET", k, "a", "1", "b", "2") is True
    assert r.hmget(k, ["a", "b", "c"]) == [b"1", b"2", None]
    assert r.hsetnx(k, "a", "x") == 0
    assert r.hsetnx(k, "c", "3") == 1
    assert r.hmget(k, "a", "c") == [b"1", b"3"]


def test_hdel_hlen_hexists_hstrlen(r, key):
    k = key()
    r.hset(k, mapping={"a": "1", "b": "22", "c": "333"})
    assert r.hlen(k) == 3
    assert r.hexists(k, "b") is True
    assert r.hstrlen(k, "c") == 3
    assert r.hdel(k, "a", "nope") == 1
    assert r.hexists(k, "a") is False
    assert r.hkeys(k) == [b"b", b"c"]
    assert r.hdel(k, "b", "c") == 2
    assert r.exists(k) == 0, "a hash emptied by HDEL is deleted"
    assert r.hlen(k) == 0


def test_hincrby_hincrbyfloat(r, key):
    k = key()
    assert r.hincrby(k, "n", 5) == 5
    assert r.hincrby(k, "n", -7) == -2
    assert r.hincrbyfloat(k, "x", 1.5) == 1.5
    assert r.hincrbyfloat(k, "x", 0.1) == pytest.approx(1.6)
    assert r.hget(k, "x") == b"1.6"
    r.hset(k, "s", "abc")
    with pytest.raises(redis.ResponseError, match="hash value is not an integer"):
        r.hincrby(k, "s", 1)
    with pytest.raises(redis.ResponseError, match="hash value is not a float"):
        r.hincrbyfloat(k, "s", 1)


def test_hrandfield(r, key):
    k = key()
    fields = {f"f{i}": str(i) for i in range(5)}
    r.hset(k, mapping=fields)
    assert r.hrandfield(k).decode() in fields
    picked = r.hrandfield(k, 3)
    assert len(picked) == 3 and len(set(picked)) == 3
    assert {f.decode() for f in picked} <= set(fields)
    assert len(r.hrandfield(k, 10)) == 5
    assert len(r.hrandfield(k, -10)) == 10
    with_values = r.hrandfield(k, 2, withvalues=True)
    flat = [x for pair in with_values for x in pair] if with_values and isinstance(with_values[0], list) else with_values
    assert len(flat) == 4
    for field, value in zip(flat[::2], flat[1::2]):
        assert fields[field.decode()] == value.decode()
    assert r.hrandfield(key("missing")) is None
    assert r.hrandfield(key("missing"), 3) == []


def test_hscan_iter(r, key):
    k = key()
    small = {f"f{i}": str(i) for i in range(10)}
    r.hset(k, mapping=small)
    assert dict(r.hscan_iter(k)) == {f.encode(): v.encode() for f, v in small.items()}
    assert {f for f, _ in r.hscan_iter(k, match="f1*")} == {b"f1"}
    big = key("big")
    fields = {f"field:{i}": str(i) for i in range(1000)}
    r.hset(big, mapping=fields)
    seen = dict(r.hscan_iter(big, count=50))
    assert len(seen) == 1000
    assert seen[b"field:999"] == b"999"
    assert len(dict(r.hscan_iter(big, match="field:1??"))) == 100


def test_large_hash_keeps_all_fields(r, key):
    k = key()
    r.hset(k, mapping={f"f{i}": "x" * 100 for i in range(600)})
    assert r.hlen(k) == 600
    assert len(r.hgetall(k)) == 600
    assert r.object("encoding", k) == b"hashtable"


def test_binary_fields_and_values(r, key):
    k = key()
    r.hset(k, b"\x00\xff", b"\r\n\x00")
    assert r.hget(k, b"\x00\xff") == b"\r\n\x00"
    assert r.hgetall(k) == {b"\x00\xff": b"\r\n\x00"}


def test_wrong_type_and_arity(r, key):
    r.set(key(), "string")
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE Operation against a key"):
        r.hset(key(), "f", "v")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'hset' command"):
        r.execute_command("HSET", key("h"), "f")
