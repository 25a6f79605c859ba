"""Sorted set commands through redis-py, in RESP3 and RESP2: the reply shapes redis-py
parses (scores as floats, (member, score) tuples) must come out the same in both."""

import threading
import time

import pytest
import redis


def as_pairs(reply):
    """(member, score) tuples from any shape redis-py gives for scored replies: nested
    pairs (RESP3), tuples (RESP2 with its score parser) or a flat member, score list."""
    if reply and not isinstance(reply[0], (list, tuple)):
        items = iter(reply)
        return [(m, float(s)) for m, s in zip(items, items)]
    return [(m, float(s)) for m, s in reply]


def test_zadd_zscore_zrange_withscores(r, key):
    k = key()
    assert r.zadd(k, {"a": 1.1, "b": 2, "c": float("-inf")}) == 3
    assert r.zscore(k, "a") == 1.1
    assert r.zscore(k, "nope") is None
    assert r.zrange(k, 0, -1) == [b"c", b"a", b"b"]
    assert as_pairs(r.zrange(k, 0, -1, withscores=True)) == [
        (b"c", float("-inf")),
        (b"a", 1.1),
        (b"b", 2.0),
    ]
    assert as_pairs(r.zrange(k, 0, 0, desc=True, withscores=True)) == [(b"b", 2.0)]
    assert r.zmscore(k, ["a", "nope"]) == [1.1, None]
    assert r.zcard(k) == 3


def test_zadd_options_and_zincrby(r, key):
    k = key()
    r.zadd(k, {"a": 1, "b": 2})
    assert r.zadd(k, {"a": 0, "b": 5, "c": 1}, gt=True, ch=True) == 2
    assert r.zscore(k, "a") == 1.0
    assert r.zadd(k, {"a": 2}, incr=True) == 3.0
    assert r.zadd(k, {"zz": 1}, xx=True, incr=True) is None
    assert r.zincrby(k, 1.5, "a") == 4.5
    with pytest.raises(redis.ResponseError, match="not compatible"):
        r.execute_command("ZADD", k, "NX", "XX", 1, "a")
    with pytest.raises(redis.ResponseError, match="not a valid float"):
        r.execute_command("ZADD", k, "abc", "a")


def test_score_and_lex_ranges(r, key):
    k = key()
    r.zadd(k, {"a": 1, "b": 2, "c": 3, "d": 4})
    assert r.zrangebyscore(k, "(1", 3) == [b"b", b"c"]
    top = r.zrevrangebyscore(k, "+inf", 2, start=0, num=1, withscores=True)
    assert as_pairs(top) == [(b"d", 4.0)]
    assert r.zrange(k, "(1", "+inf", byscore=True, offset=1, num=2) == [b"c", b"d"]
    assert r.zcount(k, "-inf", "(3") == 2
    lex = key("lex")
    r.zadd(lex, {m: 0 for m in "abcde"})
    assert r.zrangebylex(lex, "[b", "(e") == [b"b", b"c", b"d"]
    assert r.zrevrangebylex(lex, "+", "-", start=0, num=2) == [b"e", b"d"]
    assert r.zlexcount(lex, "-", "+") == 5
    assert r.zremrangebylex(lex, "[a", "[b") == 2
    assert r.zrank(k, "c") == 2
    assert r.zrevrank(k, "c") == 1
    assert r.zrank(k, "nope") is None
    with pytest.raises(redis.ResponseError, match="min or max is not a float"):
        r.zrangebyscore(k, "x", 1)


@pytest.mark.redis74
def test_zrank_withscore(r, key):
    k = key()
    r.zadd(k, {"a": 1.5, "b": 2})
    assert r.zrank(k, "a", withscore=True) == [0, 1.5]
    assert r.zrevrank(k, "a", withscore=True) == [1, 1.5]
    assert r.zrank(k, "nope", withscore=True) is None


def test_pops(r, key):
    k = key()
    r.zadd(k, {"a": 1, "b": 2, "c": 3, "d": 4})
    assert as_pairs(r.zpopmin(k)) == [(b"a", 1.0)]
    assert as_pairs(r.zpopmax(k, 2)) == [(b"d", 4.0), (b"c", 3.0)]
    popped_key, popped = r.zmpop(2, [key("missing"), k], min=True)
    assert (popped_key, as_pairs(popped)) == (k.encode(), [(b"b", 2.0)])
    assert r.exists(k) == 0
    assert r.zmpop(1, [k], max=True) is None
    assert r.bzpopmin([k], timeout=0.05) is None


def test_set_operations(r, key):
    a, b, d = key("a"), key("b"), key("d")
    r.zadd(a, {"x": 1, "y": 2})
    r.zadd(b, {"y": 10, "z": 20})
    union = r.zunion([a, b], withscores=True)
    assert as_pairs(union) == [(b"x", 1.0), (b"y", 12.0), (b"z", 20.0)]
    assert as_pairs(r.zinter({a: 2, b: 1}, aggregate="MAX", withscores=True)) == [(b"y", 10.0)]
    assert r.zdiff([a, b]) == [b"x"]
    assert r.zintercard(2, [a, b]) == 1
    assert r.zunionstore(d, [a, b], aggregate="MIN") == 3
    stored = r.zrange(d, 0, -1, withscores=True)
    assert as_pairs(stored) == [(b"x", 1.0), (b"y", 2.0), (b"z", 20.0)]
    assert r.zrangestore(d, a, 0, 0) == 1
    assert r.zrange(d, 0, -1) == [b"x"]


def test_zrandmember_and_zscan(r, key):
    k = key()
    members = {f"m{i}": i for i in range(10)}
    r.zadd(k, members)
    picked = as_pairs(r.zrandmember(k, 3, withscores=True))
    assert len({m for m, _ in picked}) == 3
    assert all(members[m.decode()] == s for m, s in picked)
    assert r.zrandmember(k).decode() in members
    assert len(r.zrandmember(k, -20)) == 20
    scanned = dict(r.zscan_iter(k))
    assert scanned == {m.encode(): float(s) for m, s in members.items()}


def test_encoding_and_dump_restore(r, key):
    k = key()
    r.zadd(k, {"a": 1, "b": 2})
    assert r.object("encoding", k) == b"listpack"
    r.zadd(k, {"x" * 65: 3})
    assert r.object("encoding", k) == b"skiplist"
    payload = r.dump(k)
    copy = key("copy")
    assert r.restore(copy, 0, payload)
    assert r.zrange(copy, 0, -1, withscores=True) == r.zrange(k, 0, -1, withscores=True)
    assert r.object("encoding", copy) == b"skiplist"


def test_blocking_pop_woken_by_another_client(server, protocol, key):
    k = key()
    waiter = server.client(protocol=protocol)
    writer = server.client(protocol=protocol)
    result = {}

    def block():
        result["reply"] = waiter.bzpopmax([key("other"), k], timeout=5)

    thread = threading.Thread(target=block)
    thread.start()
    deadline = time.monotonic() + 5
    while writer.info("clients")["blocked_clients"] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    writer.zadd(k, {"a": 1, "b": 2})
    thread.join(timeout=5)
    assert tuple(result["reply"]) == (k.encode(), b"b", 2.0)
    assert writer.zrange(k, 0, -1) == [b"a"]
    waiter.close()
    writer.close()
