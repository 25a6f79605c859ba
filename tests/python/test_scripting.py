"""Lua scripting through redis-py (register_script, eval, evalsha), in RESP3 and RESP2."""

import pytest
import redis


def test_register_script_runs_and_caches(r, key):
    k = key()
    incr_by = r.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
    assert incr_by(keys=[k], args=[5]) == 5
    assert incr_by(keys=[k], args=[2]) == 7
    assert r.script_exists(incr_by.sha) == [True]
    assert r.evalsha(incr_by.sha, 1, k, 1) == 8


def test_eval_conversions(r, key, protocol):
    k = key()
    r.hset(k, mapping={"a": "1"})
    assert r.eval("return {1, 'two', {3}, nil, 5}", 0) == [1, b"two", [3]]
    assert r.eval("return 2.9", 0) == 2
    assert r.eval("return redis.status_reply('DONE')", 0) in (b"DONE", "DONE")
    assert r.eval("return redis.call('HGETALL', KEYS[1])", 1, k) == [b"a", b"1"]
    if protocol == 3:
        assert r.eval("redis.setresp(3) return redis.call('HGETALL', KEYS[1])", 1, k) == {b"a": b"1"}
        assert r.eval("return {double = 2.5}", 0) == 2.5
    else:
        assert r.eval("return {double = 2.5}", 0) == b"2.5"


def test_errors(r, key):
    k = key()
    r.set(k, "text")
    with pytest.raises(redis.ResponseError, match="value is not an integer or out of range script: "):
        r.eval("return redis.call('INCR', KEYS[1])", 1, k)
    with pytest.raises(redis.ResponseError, match="^My error$"):
        r.eval("return redis.error_reply('My error')", 0)
    with pytest.raises(redis.ResponseError, match="Script attempted to access nonexistent global variable 'nope'"):
        r.eval("return nope", 0)
    with pytest.raises(redis.exceptions.NoScriptError):
        r.evalsha("0" * 40, 0)
    with pytest.raises(redis.ResponseError, match="Write commands are not allowed from read-only scripts"):
        r.eval_ro("return redis.call('SET', KEYS[1], 'x')", 1, k)
    assert r.eval_ro("return redis.call('GET', KEYS[1])", 1, k) == b"text"


def test_pcall_returns_error_tables(r, key):
    k = key()
    r.set(k, "text")
    script = "local e = redis.pcall('INCR', KEYS[1]) return {type(e), e.err}"
    assert r.eval(script, 1, k) == [b"table", b"ERR value is not an integer or out of range"]


def test_script_load_flush(fresh_server):
    r = fresh_server.client(protocol=3)
    sha = r.script_load("return ARGV[1]")
    assert r.evalsha(sha, 0, "hi") == b"hi"
    assert r.script_flush() is True
    assert r.script_exists(sha) == [False]
