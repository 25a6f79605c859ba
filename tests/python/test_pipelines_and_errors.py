"""Pipelines (without MULTI) and the exceptions redis-py raises for server errors."""

import pytest
import redis


def test_pipeline_without_transaction(r, key):
    pipe = r.pipeline(transaction=False)
    for i in range(500):
        pipe.set(key(f"p{i}"), i)
    pipe.incr(key("counter"))
    pipe.hset(key("h"), mapping={"a": "1"})
    pipe.hgetall(key("h"))
    pipe.get(key("p42"))
    results = pipe.execute()
    assert results[:500] == [True] * 500
    assert results[500:] == [1, 1, {b"a": b"1"}, b"42"]


def test_pipeline_errors_in_place(r, key):
    r.set(key("s"), "text")
    pipe = r.pipeline(transaction=False)
    pipe.incr(key("s"))
    pipe.set(key("t"), "ok")
    pipe.hget(key("s"), "f")
    results = pipe.execute(raise_on_error=False)
    assert isinstance(results[0], redis.ResponseError)
    assert str(results[0]) == "value is not an integer or out of range"
    assert results[1] is True
    assert isinstance(results[2], redis.ResponseError)
    assert str(results[2]).startswith("WRONGTYPE")
    with pytest.raises(redis.ResponseError):
        r.pipeline(transaction=False).incr(key("s")).execute()


@pytest.mark.parametrize(
    "command, message",
    [
        (("NOSUCHCOMMAND", "a"), "unknown command 'NOSUCHCOMMAND', with args beginning with: 'a' "),
        (("GET",), "wrong number of arguments for 'get' command"),
        (("SET", "k", "v", "EX", "abc"), "value is not an integer or out of range"),
        (("SET", "k", "v", "BOGUS"), "syntax error"),
        (("OBJECT", "BOGUS", "k"), "unknown subcommand 'BOGUS'. Try OBJECT HELP."),
        (("SELECT", "99"), "DB index is out of range"),
    ],
)
def test_error_texts(r, command, message):
    # redis-py strips the "ERR " prefix and raises ResponseError with the rest.
    with pytest.raises(redis.ResponseError) as err:
        r.execute_command(*command)
    assert str(err.value) == message


def test_wrongtype_keeps_its_prefix(r, key):
    r.hset(key(), "f", "v")
    with pytest.raises(redis.ResponseError) as err:
        r.incr(key())
    assert str(err.value) == "WRONGTYPE Operation against a key holding the wrong kind of value"


def test_connection_survives_errors(r, key):
    for _ in range(3):
        with pytest.raises(redis.ResponseError):
            r.execute_command("GET")
    assert r.set(key(), "still fine") is True
    assert r.get(key()) == b"still fine"
