"""HyperLogLog commands through redis-py, in RESP3 and RESP2."""

import pytest
import redis


def test_pfadd_pfcount_pfmerge(r, key):
    a, b, m = key("a"), key("b"), key("m")
    assert r.pfadd(a, *[f"e{i}" for i in range(1000)]) == 1
    assert r.pfadd(a, "e1") == 0
    # The very numbers Redis 7.0 gives for these elements.
    assert r.pfcount(a) == 1008
    assert r.get(a)[:4] == b"HYLL"
    r.pfadd(b, *[f"e{i}" for i in range(500, 1500)])
    union = r.pfcount(a, b)
    assert 1450 <= union <= 1550
    assert r.pfmerge(m, a, b) is True
    assert r.pfcount(m) == union


def test_hll_errors(r, key):
    k = key()
    r.set(k, "not an hll")
    with pytest.raises(redis.ResponseError, match="Key is not a valid HyperLogLog string value"):
        r.pfadd(k, "x")
    r.set(k, b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f")
    with pytest.raises(redis.ResponseError, match="Corrupted HLL object detected"):
        r.pfcount(k)
