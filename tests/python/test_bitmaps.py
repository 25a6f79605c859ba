"""Bitmap commands through redis-py, in RESP3 and RESP2."""

import pytest
import redis


def test_setbit_getbit_bitcount(r, key):
    k = key()
    assert r.setbit(k, 7, 1) == 0
    assert r.setbit(k, 7, 0) == 1
    assert r.setbit(k, 100, 1) == 0
    assert r.getbit(k, 100) == 1
    assert r.strlen(k) == 13
    assert r.bitcount(k) == 1
    r.set(k, "foobar")
    assert r.bitcount(k) == 26
    assert r.bitcount(k, 1, 1) == 6
    assert r.bitcount(k, 5, 30, mode="BIT") == 17
    with pytest.raises(redis.ResponseError, match="bit offset is not an integer or out of range"):
        r.setbit(k, -1, 1)
    with pytest.raises(redis.ResponseError, match="bit is not an integer or out of range"):
        r.execute_command("SETBIT", k, 1, 2)  # redis-py coerces the bit to 0/1


def test_bitpos_and_bitop(r, key):
    a, b, dest = key("a"), key("b"), key("d")
    r.set(a, b"\xff\xf0\x00")
    assert r.bitpos(a, 0) == 12
    assert r.bitpos(a, 1, 2) == -1
    assert r.bitpos(a, 0, 2, -1, mode="BIT") == 12
    r.set(b, b"\x0f")
    assert r.bitop("AND", dest, a, b) == 3
    assert r.get(dest) == b"\x0f\x00\x00"
    assert r.bitop("NOT", dest, b) == 1
    assert r.get(dest) == b"\xf0"
    assert r.bitop("OR", dest, key("none")) == 0
    assert r.exists(dest) == 0
    with pytest.raises(redis.ResponseError, match="BITOP NOT must be called with a single source key"):
        r.bitop("NOT", dest, a, b)


def test_bitfield(r, key):
    k = key()
    bf = r.bitfield(k)
    assert bf.set("i8", 0, 100).incrby("i8", 0, 100).get("u8", 0).execute() == [0, -56, 200]
    bf = r.bitfield(k, default_overflow="FAIL")
    assert bf.incrby("u8", 0, 100).execute() == [None]
    bf = r.bitfield(k)
    assert bf.overflow("SAT").incrby("u8", 0, 100).execute() == [255]
    assert r.bitfield_ro(k, "u8", 0, items=[("i4", 4)]) == [255, -1]
    with pytest.raises(redis.ResponseError, match="Invalid bitfield type"):
        r.bitfield(k).get("u64", 0).execute()
