"""Connection handshake and connection commands as redis-py uses them."""

import pytest
import redis


def text(value):
    """redis-py returns some replies as bytes in RESP3 and str in RESP2."""
    return value.decode() if isinstance(value, bytes) else value


def test_default_client_negotiates_resp3(server):
    # redis-py 8 speaks RESP3 by default: it opens every connection with HELLO 3.
    client = server.client()
    assert client.ping() is True
    conn = client.connection_pool.get_connection()
    try:
        assert conn.protocol == 3
        meta = conn.handshake_metadata
        assert meta[b"proto"] == 3
        assert meta[b"server"] == b"redis"
        assert meta[b"role"] == b"master"
        assert meta[b"mode"] == b"standalone"
        assert isinstance(meta[b"id"], int)
    finally:
        client.connection_pool.release(conn)


def test_protocol_2_sends_no_hello(server):
    client = server.client(protocol=2)
    conn = client.connection_pool.get_connection()
    try:
        assert conn.handshake_metadata is None
    finally:
        client.connection_pool.release(conn)
    assert str(client.client_info()["resp"]) == "2"


def test_explicit_protocol_3(server):
    client = server.client(protocol=3)
    assert str(client.client_info()["resp"]) == "3"


def test_ping_echo(r):
    assert r.ping() is True
    assert r.echo("hello") == b"hello"
    assert r.echo(b"\x00\xff") == b"\x00\xff"


@pytest.mark.redis74
def test_client_setinfo_sent_on_connect_is_recorded(r):
    # redis-py sends CLIENT SETINFO LIB-NAME / LIB-VER right after connecting and ignores
    # errors, so a server without it works but loses the information.
    info = r.client_info()
    assert info["lib-name"] == "redis-py"
    assert info["lib-ver"] == redis.__version__
    assert r.client_setinfo("LIB-NAME", "mylib") is True
    assert r.client_info()["lib-name"] == "mylib"
    with pytest.raises(redis.ResponseError):
        r.client_setinfo("BOGUS", "x")


def test_client_name_id_list(r):
    assert r.client_getname() is None
    assert r.client_setname("worker-1") is True
    assert text(r.client_getname()) == "worker-1"
    assert isinstance(r.client_id(), int)
    names = [c["name"] for c in r.client_list()]
    assert "worker-1" in names
    with pytest.raises(redis.ResponseError, match="cannot contain spaces"):
        r.client_setname("bad name")


def test_client_name_given_to_constructor(server, protocol):
    client = server.client(protocol=protocol, client_name="named")
    assert text(client.client_getname()) == "named"


def test_select_through_db_argument(server, protocol, key):
    a = server.client(protocol=protocol, db=3)
    b = server.client(protocol=protocol, db=4)
    a.set(key(), "in-3")
    assert b.get(key()) is None
    assert a.get(key()) == b"in-3"
    assert str(a.client_info()["db"]) == "3"
    with pytest.raises(redis.ResponseError, match="DB index is out of range"):
        server.client(protocol=protocol, db=99).ping()


def test_password_protected_server(protocol):
    from conftest import ServerProcess

    srv = ServerProcess("--requirepass", "s3cret")
    try:
        with pytest.raises(redis.AuthenticationError):
            srv.client(protocol=protocol).ping()
        with pytest.raises(redis.AuthenticationError):
            srv.client(protocol=protocol, password="wrong").ping()
        assert srv.client(protocol=protocol, password="s3cret").ping() is True
        assert srv.client(protocol=protocol, username="default", password="s3cret").ping()
    finally:
        srv.stop()


def test_auth_without_password_configured(r):
    with pytest.raises(redis.AuthenticationError, match="without any password configured"):
        r.execute_command("AUTH", "pw")


def test_reset(r):
    r.client_setname("before-reset")
    r.execute_command("SELECT", 2)
    assert text(r.execute_command("RESET")) == "RESET"
    # RESET also returns the connection to RESP2 (redis-py's RESP3 parser copes with the
    # bulk reply CLIENT INFO sends, not with RESP2 nils, so nothing else is asked here).
    info = r.client_info()
    assert info["name"] == ""
    assert str(info["db"]) == "0"
    assert str(info["resp"]) == "2"


def test_hello_errors(r):
    with pytest.raises(redis.ResponseError, match="NOPROTO"):
        r.execute_command("HELLO", 4)
