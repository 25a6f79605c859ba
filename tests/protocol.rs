//! Raw-byte protocol tests against the real binary: pipelining, inline commands, RESP3, and
//! malformed input that must get Redis's protocol errors without harming other clients.

mod common;

use common::{Server, V};

#[test]
fn pipelined_and_inline_requests() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\nPING\r\n");
    assert_eq!(c.read(), V::ok());
    assert_eq!(c.read(), V::bulk("1"));
    assert_eq!(c.read(), V::Simple("PONG".into()));
    c.send_raw(b"SET b \"x y\"\r\nGET b\n");
    assert_eq!(c.read(), V::ok());
    assert_eq!(c.read(), V::bulk("x y"));
}

#[test]
fn malformed_frames_close_only_that_connection() {
    let server = Server::start(&[]);
    let mut bystander = server.client();
    assert_eq!(bystander.q("SET k v"), V::ok());
    for (input, error) in [
        (
            &b"*1\r\n$99999999999\r\n"[..],
            "ERR Protocol error: invalid bulk length",
        ),
        (b"*abc\r\n", "ERR Protocol error: invalid multibulk length"),
        (
            b"*1\r\n*1\r\n$1\r\na\r\n",
            "ERR Protocol error: expected '$', got '*'",
        ),
        (
            b"SET a \"unbalanced\r\n",
            "ERR Protocol error: unbalanced quotes in request",
        ),
    ] {
        let mut c = server.client();
        c.send_raw(input);
        assert_eq!(c.read(), V::err(error));
        assert_eq!(
            c.try_read(),
            None,
            "connection must close after a protocol error"
        );
    }
    // `*-5` is an empty request: nothing happens, the connection stays usable.
    let mut c = server.client();
    c.send_raw(b"*-5\r\nPING\r\n");
    assert_eq!(c.read(), V::Simple("PONG".into()));
    // Deep nesting never reaches a recursive parser.
    let mut c = server.client();
    c.send_raw(&b"*1\r\n".repeat(100_000));
    assert_eq!(
        c.read(),
        V::err("ERR Protocol error: expected '$', got '*'")
    );
    assert_eq!(bystander.q("GET k"), V::bulk("v"));
}

#[test]
fn unknown_commands_keep_the_connection() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(
        c.q("DPING a b"),
        V::err("ERR unknown command 'DPING', with args beginning with: 'a' 'b' ")
    );
    assert_eq!(
        c.q("GET"),
        V::err("ERR wrong number of arguments for 'get' command")
    );
    assert_eq!(c.q("PING"), V::Simple("PONG".into()));
}

#[test]
fn hello_switches_to_resp3() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let hello = c.q("HELLO 3");
    let V::Map(pairs) = hello else {
        panic!("HELLO 3 must answer a map")
    };
    assert!(pairs.contains(&(V::bulk("proto"), V::Int(3))));
    assert!(pairs.contains(&(V::bulk("server"), V::bulk("redis"))));
    assert_eq!(c.q("GET nosuch"), V::Nil);
    assert_eq!(
        c.q("HELLO 4"),
        V::err("NOPROTO unsupported protocol version")
    );
}
