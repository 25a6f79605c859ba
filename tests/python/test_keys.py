"""Keyspace and expiry commands through redis-py, in RESP3 and RESP2."""

import time

import pytest
import redis


def test_delete_unlink_exists_type(r, key):
    a, b, h = key("a"), key("b"), key("h")
    r.mset({a: "1", b: "2"})
    r.hset(h, "f", "v")
    assert r.exists(a, b, h, key("none")) == 3
    assert r.exists(a, a) == 2
    assert r.type(a) == b"string"
    assert r.type(h) == b"hash"
    assert r.type(key("none")) == b"none"
    assert r.delete(a, key("none")) == 1
    assert r.unlink(b, h) == 2
    assert r.exists(a, b, h) == 0


def test_rename_renamenx_copy(r, key):
    a, b, c = key("a"), key("b"), key("c")
    r.set(a, "1", ex=1000)
    assert r.rename(a, b) is True
    assert r.get(b) == b"1" and r.exists(a) == 0
    assert 990 <= r.ttl(b) <= 1000, "RENAME keeps the TTL"
    with pytest.raises(redis.ResponseError, match="no such key"):
        r.rename(a, c)
    r.set(c, "other")
    assert r.renamenx(b, c) is False
    assert r.copy(b, c) is False
    assert r.copy(b, c, replace=True) is True
    assert r.get(c) == b"1"
    assert 990 <= r.ttl(c) <= 1000, "COPY copies the TTL"


def test_copy_and_move_between_databases(server, protocol, key):
    db0 = server.client(protocol=protocol, db=0)
    db5 = server.client(protocol=protocol, db=5)
    k = key()
    db0.set(k, "v")
    assert db0.copy(k, k, destination_db=5) is True
    assert db5.get(k) == b"v"
    db5.delete(k)
    assert db0.move(k, 5) is True
    assert db0.exists(k) == 0 and db5.get(k) == b"v"
    with pytest.raises(redis.ResponseError, match="source and destination objects are the same"):
        db5.execute_command("MOVE", k, 5)


def test_keys_scan_randomkey(fresh_server, protocol):
    r = fresh_server.client(protocol=protocol)
    assert r.randomkey() is None
    assert r.keys("*") == []
    names = {f"user:{i}" for i in range(300)} | {"other"}
    for name in names:
        r.set(name, "x")
    r.hset("a-hash", "f", "v")
    assert {k.decode() for k in r.keys("user:1?")} == {f"user:{i}" for i in range(10, 20)}
    scanned = {k.decode() for k in r.scan_iter(match="user:*", count=17)}
    assert scanned == {n for n in names if n.startswith("user:")}
    assert [k for k in r.scan_iter(_type="hash")] == [b"a-hash"]
    assert r.randomkey().decode() in names | {"a-hash"}
    assert r.dbsize() == 302


def test_touch_object(r, key):
    k = key()
    r.set(k, "12345")
    assert r.touch(k, key("none")) == 1
    assert r.object("encoding", k) in (b"int", "int")
    r.set(k, "a" * 100)
    assert r.object("encoding", k) in (b"raw", "raw")
    r.set(k, "short")
    assert r.object("encoding", k) in (b"embstr", "embstr")
    assert r.object("refcount", k) == 1
    assert 0 <= r.object("idletime", k) <= 2
    assert r.object("encoding", key("none")) is None


def test_dump_restore_roundtrip(r, key):
    s, h = key("s"), key("h")
    r.set(s, b"\x00binary\xff")
    r.hset(h, mapping={"a": "1", "b": "2"})
    for src in (s, h):
        payload = r.dump(src)
        assert isinstance(payload, bytes)
        dst = src + ":copy"
        assert r.restore(dst, 0, payload) == b"OK"
        with pytest.raises(redis.ResponseError, match="^BUSYKEY"):
            r.restore(dst, 0, payload)
        assert r.restore(dst, 5000, payload, replace=True) == b"OK"
        assert 0 < r.pttl(dst) <= 5000
    assert r.get(s + ":copy") == b"\x00binary\xff"
    assert r.hgetall(h + ":copy") == {b"a": b"1", b"b": b"2"}
    assert r.dump(key("none")) is None
    with pytest.raises(redis.ResponseError, match="DUMP payload version or checksum are wrong"):
        r.restore(key("bad"), 0, b"not a payload")


def test_expire_options_and_ttls(r, key):
    k = key()
    assert r.expire(k, 100) is False, "no key"
    r.set(k, "v")
    assert r.ttl(k) == -1 and r.pttl(k) == -1
    assert r.expiretime(k) == -1
    assert r.expire(k, 100, xx=True) is False
    assert r.expire(k, 100, nx=True) is True
    assert r.expire(k, 200, nx=True) is False
    assert r.expire(k, 50, gt=True) is False
    assert r.expire(k, 300, gt=True) is True
    assert r.expire(k, 400, lt=True) is False
    assert r.pexpire(k, 250_000, lt=True) is True
    assert 249 <= r.ttl(k) <= 250
    at = int(time.time()) + 1000
    assert r.expireat(k, at) is True
    assert r.expiretime(k) == at
    assert r.pexpireat(k, at * 1000 + 500) is True
    assert r.pexpiretime(k) == at * 1000 + 500
    assert r.persist(k) is True
    assert r.persist(k) is False
    assert r.ttl(key("none")) == -2 and r.pttl(key("none")) == -2
    with pytest.raises(redis.ResponseError, match="NX and XX, GT or LT options at the same time are not compatible"):
        r.expire(k, 10, nx=True, xx=True)
    assert r.expire(k, -1) is True
    assert r.exists(k) == 0, "a negative TTL deletes the key"


def test_keys_expire(r, key):
    k, h = key("s"), key("h")
    r.set(k, "v", px=50)
    r.hset(h, "f", "v")
    r.pexpire(h, 50)
    time.sleep(0.15)
    assert r.get(k) is None
    assert r.hgetall(h) == {}
    assert r.exists(k, h) == 0
