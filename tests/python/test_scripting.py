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


def test_cmsgpack_and_struct(r):
    packed = r.eval("return cmsgpack.pack({1, 'x', {a = true}}, 1.5, -200, 300)", 0)
    assert packed == b"\x93\x01\xa1x\x81\xa1a\xc3\xca\x3f\xc0\x00\x00\xd1\xff\x38\xcd\x01\x2c"
    script = "local t = cmsgpack.unpack(ARGV[1]) return {t[1], t[2], t[3].a}"
    assert r.eval(script, 0, packed) == [1, b"x", 1]
    assert r.eval("return struct.pack('>I2 c3', 258, 'abc')", 0) == b"\x01\x02abc"
    assert r.eval("return {struct.unpack('>I2 c3', ARGV[1])}", 0, b"\x01\x02abc") == [258, b"abc", 6]


def _library(name):
    return f"""#!lua name={name}
redis.register_function{{function_name = '{name}_get', callback = function(keys, args)
    return redis.call('GET', keys[1]) end, flags = {{'no-writes'}}, description = 'reads a key'}}
redis.register_function('{name}_set', function(keys, args) return redis.call('SET', keys[1], args[1]) end)
"""


def test_function_load_and_fcall(r, key, protocol):
    lib = f"lib_{protocol}"
    assert r.function_load(_library(lib), replace=True) == lib.encode()
    with pytest.raises(redis.ResponseError, match=f"Library '{lib}' already exists"):
        r.function_load(_library(lib))
    k = key()
    assert r.fcall(f"{lib}_set", 1, k, "v") in (b"OK", "OK", True)
    assert r.fcall_ro(f"{lib}_get", 1, k) == b"v"
    with pytest.raises(redis.ResponseError, match=r"Can not execute a script with write flag using \*_ro command"):
        r.fcall_ro(f"{lib}_set", 1, k, "v")
    with pytest.raises(redis.ResponseError, match="Function not found"):
        r.fcall("no_such_function", 0)
    with pytest.raises(redis.ResponseError, match="Missing library metadata"):
        r.function_load("return 1")
    assert r.function_delete(lib) in (b"OK", "OK", True)


def test_function_list_and_flush(fresh_server, protocol):
    r = fresh_server.client(protocol=protocol)
    assert r.function_load(_library("listed")) == b"listed"
    listed = r.function_list(library="list*", withcode=True)
    assert len(listed) == 1
    entry = listed[0]
    if protocol == 2:
        entry = dict(zip(entry[::2], entry[1::2]))
    assert entry[b"library_name"] == b"listed"
    assert entry[b"engine"] == b"LUA"
    assert entry[b"library_code"] == _library("listed").encode()
    functions = entry[b"functions"]
    if protocol == 2:
        functions = [dict(zip(f[::2], f[1::2])) for f in functions]
    by_name = {f[b"name"]: f for f in functions}
    assert by_name[b"listed_get"][b"description"] == b"reads a key"
    assert list(by_name[b"listed_get"][b"flags"]) in ([b"no-writes"], ["no-writes"])
    assert by_name[b"listed_set"][b"description"] is None
    assert r.function_list(library="other*") == []
    assert r.function_flush() in (b"OK", "OK", True)
    assert r.function_list() == []
