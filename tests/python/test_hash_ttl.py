"""Hash field expiration (Redis 7.4) through redis-py, in RESP3 and RESP2.

The 7.0 oracle lacks these commands, so every test is marked `redis74`.
"""

import time

import pytest
import redis

pytestmark = pytest.mark.redis74


def test_hexpire_httl_hpersist(r, key):
    k = key()
    r.hset(k, mapping={"a": "1", "b": "2"})
    assert r.hexpire(k, 100, "a", "zz") == [1, -2]
    assert r.object("encoding", k) == b"listpackex"
    assert r.hexpire(k, 100, "a", "b", nx=True) == [0, 1]
    assert r.hexpire(k, 50, "a", gt=True) == [0]
    assert r.hpexpire(k, 50_000, "a", lt=True) == [1]
    ttl = r.httl(k, "a", "b", "zz")
    assert 49 <= ttl[0] <= 50 and 99 <= ttl[1] <= 100 and ttl[2] == -2
    assert 0 < r.hpttl(k, "a")[0] <= 50_000
    assert r.hexpiretime(k, "b")[0] >= int(time.time()) + 99
    assert r.hpexpiretime(k, "b")[0] >= int(time.time() * 1000) + 99_000
    assert r.hpersist(k, "a", "zz") == [1, -2]
    assert r.httl(k, "a") == [-1]


def test_expired_fields_disappear(r, key):
    k = key()
    r.hset(k, mapping={"a": "1", "b": "2"})
    assert r.hpexpire(k, 20, "a") == [1]
    time.sleep(0.05)
    assert r.hgetall(k) == {b"b": b"2"}
    assert r.hlen(k) == 1
    assert r.hexpireat(k, 1, "b") == [2]
    assert r.exists(k) == 0


def test_errors(r, key):
    k = key()
    r.hset(k, "a", "1")
    with pytest.raises(redis.ResponseError, match="numFields"):
        r.execute_command("HEXPIRE", k, 10, "FIELDS", 0, "a")
    with pytest.raises(redis.ResponseError, match="Mandatory argument FIELDS"):
        r.execute_command("HTTL", k, "NOPE", 1, "a")
    with pytest.raises(redis.ResponseError, match="invalid expire time"):
        r.execute_command("HEXPIRE", k, -1, "FIELDS", 1, "a")
