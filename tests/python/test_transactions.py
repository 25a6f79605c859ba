"""Transactions through redis-py: MULTI/EXEC pipelines, WATCH with retries, and the errors
redis-py raises for EXECABORT and run-time errors, in RESP2 and RESP3."""

import threading

import pytest
import redis


def test_transaction_pipeline(r, key):
    r.hset(key("h"), mapping={"f": "1"})
    pipe = r.pipeline(transaction=True)
    pipe.set(key("a"), "1")
    pipe.incr(key("a"))
    pipe.hgetall(key("h"))
    pipe.get(key("missing"))
    assert pipe.execute() == [True, 2, {b"f": b"1"}, None]


def test_run_time_error_raises_after_running_the_rest(r, key):
    r.hset(key("h"), "f", "v")
    pipe = r.pipeline(transaction=True)
    pipe.set(key("a"), "1")
    pipe.incr(key("h"))
    pipe.incr(key("a"))
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        pipe.execute()
    assert r.get(key("a")) == b"2", "the other commands ran"
    pipe = r.pipeline(transaction=True)
    pipe.incr(key("h"))
    pipe.get(key("a"))
    results = pipe.execute(raise_on_error=False)
    assert isinstance(results[0], redis.ResponseError)
    assert results[1] == b"2"


def test_queue_error_discards_the_transaction(r, key):
    pipe = r.pipeline(transaction=True)
    pipe.set(key("a"), "1")
    pipe.execute_command("GET")
    with pytest.raises(redis.ResponseError) as info:
        pipe.execute()
    assert "wrong number of arguments for 'get' command" in str(info.value)
    assert r.get(key("a")) is None


def test_transaction_helper_retries_on_watch_error(server, protocol, key):
    r = server.client(protocol=protocol)
    other = server.client(protocol=protocol)
    r.set(key("n"), 10)
    attempts = []

    def double(pipe):
        value = int(pipe.get(key("n")))
        if not attempts:
            other.incr(key("n"))  # the first attempt loses the race
        attempts.append(value)
        pipe.multi()
        pipe.set(key("n"), value * 2)

    assert r.transaction(double, key("n")) == [True]
    assert attempts == [10, 11]
    assert r.get(key("n")) == b"22"


def test_watch_error_from_pipeline(server, protocol, key):
    r = server.client(protocol=protocol)
    other = server.client(protocol=protocol)
    with r.pipeline() as pipe:
        pipe.watch(key("w"))
        other.set(key("w"), "changed")
        pipe.multi()
        pipe.set(key("w"), "mine")
        with pytest.raises(redis.WatchError):
            pipe.execute()
    assert r.get(key("w")) == b"changed"
    # Nothing touched the key: the transaction goes through.
    with r.pipeline() as pipe:
        pipe.watch(key("w"))
        assert pipe.get(key("w")) == b"changed"
        pipe.multi()
        pipe.set(key("w"), "mine")
        assert pipe.execute() == [True]


def test_concurrent_increments_with_watch_lose_nothing(server, protocol, key):
    workers, rounds = 4, 25

    def work():
        client = server.client(protocol=protocol)

        def incr(pipe):
            value = int(pipe.get(key("c")) or 0)
            pipe.multi()
            pipe.set(key("c"), value + 1)

        for _ in range(rounds):
            client.transaction(incr, key("c"))
        client.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert int(server.client(protocol=protocol).get(key("c"))) == workers * rounds


def test_raw_replies(r, key):
    assert r.execute_command("MULTI") in (True, b"OK")
    with pytest.raises(redis.ResponseError, match="MULTI calls can not be nested"):
        r.execute_command("MULTI")
    assert r.execute_command("ECHO", "x") == b"QUEUED"
    assert r.execute_command("DISCARD") == b"OK"
    with pytest.raises(redis.ResponseError, match="EXEC without MULTI"):
        r.execute_command("EXEC")
    with pytest.raises(redis.ResponseError, match="DISCARD without MULTI"):
        r.execute_command("DISCARD")
