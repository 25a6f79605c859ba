"""Server commands as redis-py parses them: INFO, CONFIG, DBSIZE, FLUSH*, TIME, SLOWLOG..."""

import pytest
import redis


def test_info_parses(r, key):
    r.set(key(), "v", ex=1000)
    info = r.info()
    for field in ("redis_version", "redis_mode", "os", "tcp_port", "uptime_in_seconds",
                  "connected_clients", "used_memory", "used_memory_human", "maxmemory",
                  "maxmemory_policy", "total_commands_processed", "keyspace_hits",
                  "keyspace_misses", "expired_keys", "evicted_keys", "role"):
        assert field in info, field
    assert info["redis_mode"] == "standalone"
    assert info["role"] == "master"
    assert isinstance(info["connected_clients"], int) and info["connected_clients"] >= 1
    assert isinstance(info["used_memory"], int)
    db0 = info["db0"]
    assert db0["keys"] >= 1 and db0["expires"] >= 1
    assert set(r.info("keyspace")) <= {f"db{i}" for i in range(16)}
    server = r.info("server")
    assert "redis_version" in server and "connected_clients" not in server
    assert r.info("bogus") == {}
    commandstats = r.info("commandstats")
    assert commandstats["cmdstat_set"]["calls"] >= 1
    both = r.info("server", "clients")
    assert "redis_version" in both and "connected_clients" in both


def test_config_get_set(fresh_server, protocol):
    r = fresh_server.client(protocol=protocol)
    assert r.config_get("hash-max-listpack-entries") == {"hash-max-listpack-entries": "512"}
    assert r.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
    assert r.config_get("hash-max-listpack-*") == {
        "hash-max-listpack-entries": "512",
        "hash-max-listpack-value": "64",
    }
    assert r.config_set("hash-max-listpack-entries", 2) is True
    r.hset("h", mapping={"a": "1", "b": "2"})
    assert r.object("encoding", "h") in (b"listpack", "listpack")
    r.hset("h", "c", "3")
    assert r.object("encoding", "h") in (b"hashtable", "hashtable")
    assert r.config_set("maxmemory", "10mb") is True
    assert r.config_get("maxmemory") == {"maxmemory": "10485760"}
    with pytest.raises(redis.ResponseError, match="argument couldn't be parsed into an integer"):
        r.config_set("hash-max-listpack-entries", "abc")
    with pytest.raises(redis.ResponseError, match="Unknown option or number of arguments for CONFIG SET"):
        r.config_set("no-such-option", "1")
    assert r.config_get("no-such-option") == {}
    assert r.config_resetstat() is True


def test_dbsize_flushdb_flushall_swapdb(fresh_server, protocol):
    r0 = fresh_server.client(protocol=protocol, db=0)
    r1 = fresh_server.client(protocol=protocol, db=1)
    r0.mset({"a": "1", "b": "2"})
    r1.set("c", "3")
    assert r0.dbsize() == 2 and r1.dbsize() == 1
    assert r0.swapdb(0, 1) is True
    assert r0.dbsize() == 1 and r0.get("c") == b"3"
    assert r1.flushdb() is True
    assert r1.dbsize() == 0 and r0.dbsize() == 1
    assert r0.flushall(asynchronous=True) is True
    assert r0.dbsize() == 0


def test_time(r):
    seconds, micros = r.time()
    assert seconds > 1_600_000_000 and 0 <= micros < 1_000_000


def test_slowlog(fresh_server, protocol):
    r = fresh_server.client(protocol=protocol)
    r.config_set("slowlog-log-slower-than", 0)
    r.slowlog_reset()
    r.set("slow", "x")
    entries = r.slowlog_get(10)
    assert r.slowlog_len() >= 1
    commands = [e["command"] for e in entries]
    assert b"SET slow x" in commands
    entry = entries[commands.index(b"SET slow x")]
    assert isinstance(entry["id"], int) and isinstance(entry["duration"], int)
    r.config_set("slowlog-log-slower-than", -1)
    assert r.slowlog_reset() is True
    assert r.slowlog_len() == 0


def test_memory_usage(r, key):
    r.set(key(), "x" * 1000)
    assert r.memory_usage(key()) >= 1000
    assert r.memory_usage(key("none")) is None


def test_command_table(r):
    # redis-py parses COMMAND into a dict; cluster clients use it to find keys.
    table = r.command()
    assert len(table) == r.command_count()
    for name, arity, flag in [
        ("get", 2, "readonly"),
        ("set", -3, "write"),
        ("hset", -4, "write"),
        ("del", -2, "write"),
        ("ping", -1, "fast"),
    ]:
        assert table[name]["arity"] == arity, name
        assert flag in table[name]["flags"], name
    mget = table["mget"]
    assert (mget["first_key_pos"], mget["last_key_pos"], mget["step_count"]) == (1, -1, 1)
    text = lambda keys: [k.decode() if isinstance(k, bytes) else k for k in keys]  # noqa: E731
    assert text(r.command_getkeys("SET", "a", "b")) == ["a"]
    assert text(r.command_getkeys("MSET", "a", "1", "b", "2")) == ["a", "b"]
