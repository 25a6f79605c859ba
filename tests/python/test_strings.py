"""String commands through redis-py, in RESP3 and RESP2."""

import time

import pytest
import redis


def test_set_get_and_options(r, key):
    k = key()
    assert r.get(k) is None
    assert r.set(k, "v1") is True
    assert r.get(k) == b"v1"
    assert r.set(k, "v2", nx=True) is None
    assert r.set(key("other"), "x", xx=True) is None
    assert r.set(k, "v3", xx=True, get=True) == b"v1"
    assert r.set(k, "v4", get=True) == b"v3"
    assert r.set(k, "v5", ex=100) is True
    assert 99 <= r.ttl(k) <= 100
    assert r.set(k, "v6", keepttl=True) is True
    assert 99 <= r.ttl(k) <= 100
    assert r.set(k, "v7", px=200_000) is True
    assert 199_000 <= r.pttl(k) <= 200_000
    r.set(k, "v8", exat=int(time.time()) + 50)
    assert 48 <= r.ttl(k) <= 50
    r.set(k, "v9")
    assert r.ttl(k) == -1
    with pytest.raises(redis.ResponseError, match="invalid expire time in 'set' command"):
        r.set(k, "v", ex=0)
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("SET", k, "v", "NX", "XX")


def test_binary_values(r, key):
    blob = bytes(range(256)) * 4
    r.set(key(), blob)
    assert r.get(key()) == blob
    r.set(b"\x00bin\xff" + key().encode(), b"\r\n")
    assert r.get(b"\x00bin\xff" + key().encode()) == b"\r\n"
    assert r.strlen(key()) == 1024


def test_decode_responses(server, protocol, key):
    client = server.client(protocol=protocol, decode_responses=True)
    client.set(key(), "héllo")
    assert client.get(key()) == "héllo"
    assert client.strlen(key()) == len("héllo".encode())


def test_getex_getdel_getset_setnx(r, key):
    k = key()
    r.set(k, "a")
    assert r.getex(k, ex=60) == b"a"
    assert 59 <= r.ttl(k) <= 60
    assert r.getex(k, persist=True) == b"a"
    assert r.ttl(k) == -1
    assert r.getset(k, "b") == b"a"
    assert r.getdel(k) == b"b"
    assert r.getdel(k) is None
    assert r.setnx(k, "c") is True
    assert r.setnx(k, "d") is False
    assert r.get(k) == b"c"


def test_setex_psetex_expire_for_real(r, key):
    k = key()
    # redis-py marks setex/psetex deprecated (as Redis does since 2.6.12); send them raw.
    assert r.execute_command("SETEX", k, 100, "v") is True
    assert 99 <= r.ttl(k) <= 100
    assert r.execute_command("PSETEX", k, 50, "short") is True
    time.sleep(0.12)
    assert r.get(k) is None
    assert r.exists(k) == 0


def test_mset_msetnx_mget(r, key):
    a, b, c = key("a"), key("b"), key("c")
    assert r.mset({a: "1", b: "2"}) is True
    assert r.mget([a, b, c]) == [b"1", b"2", None]
    assert r.msetnx({b: "x", c: "3"}) is False
    assert r.get(c) is None
    assert r.msetnx({c: "3"}) is True
    assert r.mget(a, c) == [b"1", b"3"]


def test_append_strlen_ranges(r, key):
    k = key()
    assert r.append(k, "Hello") == 5
    assert r.append(k, " World") == 11
    assert r.strlen(k) == 11
    assert r.getrange(k, 0, 4) == b"Hello"
    assert r.getrange(k, -5, -1) == b"World"
    assert r.getrange(k, 5, 1) == b""
    assert r.setrange(k, 6, "Redis") == 11
    assert r.get(k) == b"Hello Redis"
    assert r.setrange(key("pad"), 3, "x") == 4
    assert r.get(key("pad")) == b"\x00\x00\x00x"
    with pytest.raises(redis.ResponseError, match="offset is out of range"):
        r.setrange(k, -1, "x")


def test_counters(r, key):
    k = key()
    assert r.incr(k) == 1
    assert r.incrby(k, 10) == 11
    assert r.decr(k) == 10
    assert r.decrby(k, 4) == 6
    assert r.incrbyfloat(k, 1.5) == 7.5
    assert r.get(k) == b"7.5"
    r.set(k, "10.50")
    assert r.incrbyfloat(k, 0.1) == pytest.approx(10.6)
    assert r.get(k) == b"10.6"
    r.set(k, "abc")
    with pytest.raises(redis.ResponseError, match="value is not an integer or out of range"):
        r.incr(k)
    with pytest.raises(redis.ResponseError, match="value is not a valid float"):
        r.incrbyfloat(k, 1)
    r.set(k, 2**63 - 1)
    with pytest.raises(redis.ResponseError, match="increment or decrement would overflow"):
        r.incr(k)


def test_lcs(r, key):
    a, b = key("a"), key("b")
    r.mset({a: "ohmytext", b: "mynewtext"})
    assert r.lcs(a, b) == b"mytext"
    assert r.lcs(a, b, len=True) == 6
    idx = r.lcs(a, b, idx=True, minmatchlen=4, withmatchlen=True)
    matches = idx[b"matches"] if isinstance(idx, dict) else idx[1]
    length = idx[b"len"] if isinstance(idx, dict) else idx[3]
    assert length == 6
    assert matches == [[[4, 7], [5, 8], 4]]


def test_wrong_type(r, key):
    r.hset(key(), "f", "v")
    with pytest.raises(redis.ResponseError) as err:
        r.get(key())
    assert str(err.value) == "WRONGTYPE Operation against a key holding the wrong kind of value"
