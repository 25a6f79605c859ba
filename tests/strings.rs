//! String commands against the real binary (RESP2 and RESP3), plus in-process checks of what a
//! client cannot see with string commands alone: exact expiry times, type errors against a
//! hash, keyspace hit / miss counting and change events.
//!
//! Expected replies were taken from Redis 7.0.15.
// Integration test helpers: panicking is how a test reports a broken set-up.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::{Server, V};
use ferrostack::clients::ClientState;
use ferrostack::commands::execute;
use ferrostack::config::Config;
use ferrostack::keyspace::{HashLimits, KeyEvent, KeyEventKind, KeyObserver, Ttl, Value};
use ferrostack::protocol::Reply;
use ferrostack::state::ServerState;
use parking_lot::Mutex;

fn int(n: i64) -> V {
    V::Int(n)
}

fn arr(items: Vec<V>) -> V {
    V::Array(items)
}

fn syntax() -> V {
    V::err("ERR syntax error")
}

fn not_integer() -> V {
    V::err("ERR value is not an integer or out of range")
}

fn not_float() -> V {
    V::err("ERR value is not a valid float")
}

fn invalid_expire(cmd: &str) -> V {
    V::Error(format!("ERR invalid expire time in '{cmd}' command"))
}

fn arity(cmd: &str) -> V {
    V::Error(format!("ERR wrong number of arguments for '{cmd}' command"))
}

#[test]
fn set_conditions_and_get_option() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("SET k v"), V::ok());
    assert_eq!(c.q("SET k v NX"), V::Nil);
    assert_eq!(c.q("SET k v2 XX"), V::ok());
    assert_eq!(c.q("GET k"), V::bulk("v2"));
    assert_eq!(c.q("SET missing v XX"), V::Nil);
    assert_eq!(c.q("GET missing"), V::Nil);
    assert_eq!(c.q("SET fresh v nx"), V::ok());

    // GET returns the old value whether or not NX / XX let the write happen.
    assert_eq!(c.q("SET k v3 GET"), V::bulk("v2"));
    assert_eq!(c.q("SET k v4 NX GET"), V::bulk("v3"));
    assert_eq!(c.q("GET k"), V::bulk("v3"));
    assert_eq!(c.q("SET new1 v GET"), V::Nil);
    assert_eq!(c.q("GET new1"), V::bulk("v"));
    assert_eq!(c.q("SET new2 v XX GET"), V::Nil);
    assert_eq!(c.q("GET new2"), V::Nil);
    assert_eq!(c.q("SET new3 v NX EX 100 GET"), V::Nil);
    assert_eq!(c.q("SET new3 w nx get"), V::bulk("v"));

    // Repeats are allowed; the last expiry wins.
    assert_eq!(c.q("SET k v GET GET"), V::bulk("v3"));
    assert_eq!(c.q("SET k v NX NX"), V::Nil);
    assert_eq!(c.q("SET k v KEEPTTL KEEPTTL"), V::ok());
    assert_eq!(c.q("SET k v EX 10 EX 20"), V::ok());
    assert_eq!(c.q("SET k v px 10000 PX 20000"), V::ok());

    for conflicting in [
        "SET k v NX XX",
        "SET k v XX NX",
        "SET k v EX 10 PX 100",
        "SET k v EX 10 KEEPTTL",
        "SET k v KEEPTTL EX 10",
        "SET k v KEEPTTL PXAT 10",
        "SET k v EXAT 10 PXAT 10",
        "SET k v PERSIST",
        "SET k v EX",
        "SET k v bogus",
        "SET k v GET EX 10 NX XX",
        // Options are all parsed before the expiry is read.
        "SET k v EX abc NX XX",
    ] {
        assert_eq!(c.q(conflicting), syntax(), "{conflicting}");
    }
    assert_eq!(c.q("GET k"), V::bulk("v"));
    assert_eq!(c.q("SET k"), arity("set"));
    assert_eq!(c.q("GET"), arity("get"));
    assert_eq!(c.q("GET a b"), arity("get"));

    c.resp3();
    assert_eq!(c.q("SET k v NX"), V::Nil);
    assert_eq!(c.q("SET other v GET"), V::Nil);
    assert_eq!(c.q("GET nothing"), V::Nil);
}

#[test]
fn expire_arguments_are_validated_like_redis() {
    let server = Server::start(&[]);
    let mut c = server.client();
    for (option, value) in [
        ("EX", "0"),
        ("EX", "-5"),
        ("PX", "0"),
        ("EXAT", "0"),
        ("PXAT", "-1"),
        // Seconds that overflow when turned into milliseconds.
        ("EX", "9223372036854776"),
        ("EXAT", "9223372036854776"),
        // Milliseconds that overflow when the current time is added.
        ("EX", "9223372036854775"),
        ("PX", "9223372036854775807"),
    ] {
        let line = format!("SET k v {option} {value}");
        assert_eq!(c.q(&line), invalid_expire("set"), "{line}");
    }
    for value in ["abc", "1.5", "01", "+1", ""] {
        assert_eq!(
            c.cmd(&["SET", "k", "v", "EX", value]),
            not_integer(),
            "{value:?}"
        );
    }
    // No addition happens for absolute times, so the largest ones are fine.
    assert_eq!(c.q("SET k v EXAT 9223372036854775"), V::ok());
    assert_eq!(c.q("SET k v PXAT 9223372036854775807"), V::ok());
    assert_eq!(c.q("GET k"), V::bulk("v"));
    // The expiry is checked before GET looks at the old value, and nothing is written.
    assert_eq!(c.q("SET k w EX 0 GET"), invalid_expire("set"));
    assert_eq!(c.q("GET k"), V::bulk("v"));

    assert_eq!(c.q("SETEX k 0 v"), invalid_expire("setex"));
    assert_eq!(c.q("SETEX k -1 v"), invalid_expire("setex"));
    assert_eq!(c.q("SETEX k 9223372036854775 v"), invalid_expire("setex"));
    assert_eq!(c.q("SETEX k abc v"), not_integer());
    assert_eq!(c.q("PSETEX k 0 v"), invalid_expire("psetex"));
    assert_eq!(
        c.q("PSETEX k 9223372036854775807 v"),
        invalid_expire("psetex")
    );
    assert_eq!(c.q("PSETEX k 1.5 v"), not_integer());
    assert_eq!(c.q("GETEX k EX 0"), invalid_expire("getex"));
    assert_eq!(
        c.q("GETEX k PX 9223372036854775807"),
        invalid_expire("getex")
    );
    assert_eq!(c.q("GETEX k EXAT x"), not_integer());
    // A missing key answers nil before the expiry is looked at.
    assert_eq!(c.q("GETEX nokey EX 0"), V::Nil);
    assert_eq!(c.q("GETEX nokey EX abc"), V::Nil);
    assert_eq!(c.q("GET k"), V::bulk("v"));
}

#[test]
fn expiry_is_set_kept_and_cleared_as_in_redis() {
    let server = Server::start(&[]);
    let mut c = server.client();
    // Every key gets a short TTL; the commands below either keep it or clear it.
    for line in [
        "SET plain v PX 1000",
        "SET keepttl v PX 1000",
        "SET cleared v PX 1000",
        "SET counter 1 PX 1000",
        "SET float 1.5 PX 1000",
        "SET appended a PX 1000",
        "SET ranged a PX 1000",
        "SET getset a PX 1000",
        "SET mset a PX 1000",
        "SET persisted a PX 1000",
        "SET xxkeep a PX 1000",
        "SET setnx a PX 1000",
    ] {
        assert_eq!(c.q(line), V::ok(), "{line}");
    }
    assert_eq!(c.q("PSETEX psetex 1000 v"), V::ok());
    assert_eq!(c.q("SETEX setex 1 v"), V::ok());
    assert_eq!(c.q("SET getex v"), V::ok());
    assert_eq!(c.q("GETEX getex PX 1000"), V::bulk("v"));

    assert_eq!(c.q("SET keepttl w KEEPTTL"), V::ok());
    assert_eq!(c.q("SET cleared w"), V::ok());
    assert_eq!(c.q("INCR counter"), int(2));
    assert_eq!(c.q("INCRBYFLOAT float 1"), V::bulk("2.5"));
    assert_eq!(c.q("APPEND appended b"), int(2));
    assert_eq!(c.q("SETRANGE ranged 2 c"), int(3));
    assert_eq!(c.q("GETSET getset b"), V::bulk("a"));
    assert_eq!(c.q("MSET mset b"), V::ok());
    assert_eq!(c.q("GETEX persisted PERSIST"), V::bulk("a"));
    assert_eq!(c.q("SET xxkeep b XX KEEPTTL GET"), V::bulk("a"));
    assert_eq!(c.q("SETNX setnx b"), int(0));

    std::thread::sleep(Duration::from_millis(1300));
    let gone = [
        "plain", "keepttl", "counter", "float", "appended", "ranged", "xxkeep", "setnx", "psetex",
        "setex", "getex",
    ];
    for key in gone {
        assert_eq!(
            c.q(&format!("GET {key}")),
            V::Nil,
            "{key} should have expired"
        );
    }
    assert_eq!(c.q("GET cleared"), V::bulk("w"));
    assert_eq!(c.q("GET getset"), V::bulk("b"));
    assert_eq!(c.q("GET mset"), V::bulk("b"));
    assert_eq!(c.q("GET persisted"), V::bulk("a"));

    // A time already past removes the key at once.
    assert_eq!(c.q("SET past v PXAT 1"), V::ok());
    assert_eq!(c.q("GET past"), V::Nil);
    assert_eq!(c.q("SET past v"), V::ok());
    assert_eq!(c.q("SET past w EXAT 1 GET"), V::bulk("v"));
    assert_eq!(c.q("GET past"), V::Nil);
    assert_eq!(c.q("SET past v"), V::ok());
    assert_eq!(c.q("GETEX past EXAT 1"), V::bulk("v"));
    assert_eq!(c.q("GET past"), V::Nil);
    assert_eq!(c.q("STRLEN past"), int(0));
}

#[test]
fn getex_getdel_getset() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("GETEX nokey"), V::Nil);
    assert_eq!(c.q("SET k v"), V::ok());
    for line in [
        "GETEX k",
        "GETEX k EX 100",
        "GETEX k px 100000",
        "GETEX k EXAT 99999999999",
        "GETEX k PXAT 99999999999999",
        "GETEX k PERSIST",
        "GETEX k PERSIST PERSIST",
        "GETEX k EX 10 EX 20",
    ] {
        assert_eq!(c.q(line), V::bulk("v"), "{line}");
    }
    for line in [
        "GETEX k EX 10 PERSIST",
        "GETEX k PERSIST EX 10",
        "GETEX k EX 10 PX 20",
        "GETEX k NX",
        "GETEX k XX",
        "GETEX k KEEPTTL",
        "GETEX k GET",
        "GETEX k EX",
        "GETEX nokey BOGUS",
    ] {
        assert_eq!(c.q(line), syntax(), "{line}");
    }
    assert_eq!(c.q("GETEX"), arity("getex"));

    assert_eq!(c.q("GETDEL k"), V::bulk("v"));
    assert_eq!(c.q("GETDEL k"), V::Nil);
    assert_eq!(c.q("GET k"), V::Nil);
    assert_eq!(c.q("GETDEL a b"), arity("getdel"));

    assert_eq!(c.q("GETSET g a"), V::Nil);
    assert_eq!(c.q("GETSET g b"), V::bulk("a"));
    assert_eq!(c.q("GET g"), V::bulk("b"));
    assert_eq!(c.q("GETSET g"), arity("getset"));
}

#[test]
fn setnx_setex_psetex() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("SETNX n a"), int(1));
    assert_eq!(c.q("SETNX n b"), int(0));
    assert_eq!(c.q("GET n"), V::bulk("a"));
    assert_eq!(c.q("SETEX e 100 v"), V::ok());
    assert_eq!(c.q("GET e"), V::bulk("v"));
    assert_eq!(c.q("PSETEX p 100000 w"), V::ok());
    assert_eq!(c.q("GET p"), V::bulk("w"));
    assert_eq!(c.q("SETEX e 10"), arity("setex"));
    assert_eq!(c.q("PSETEX e 10 v x"), arity("psetex"));
    assert_eq!(c.q("SETNX n"), arity("setnx"));
}

#[test]
fn mset_msetnx_mget() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("MSET a 1 b 2 c 3"), V::ok());
    assert_eq!(
        c.q("MGET a b c d"),
        arr(vec![V::bulk("1"), V::bulk("2"), V::bulk("3"), V::Nil])
    );
    assert_eq!(c.q("MSET a 1 b"), arity("mset"));
    assert_eq!(c.q("MSET a"), arity("mset"));
    assert_eq!(c.q("MSETNX a 1 b"), arity("msetnx"));
    assert_eq!(c.q("MGET"), arity("mget"));
    // One existing key stops all of MSETNX.
    assert_eq!(c.q("MSETNX a x z y"), int(0));
    assert_eq!(c.q("MGET a z"), arr(vec![V::bulk("1"), V::Nil]));
    assert_eq!(c.q("MSETNX y x z y"), int(1));
    assert_eq!(c.q("MGET y z"), arr(vec![V::bulk("x"), V::bulk("y")]));
    // A repeated key takes its last value.
    assert_eq!(c.q("MSET d 1 d 2"), V::ok());
    assert_eq!(c.q("MSETNX e 1 e 2"), int(1));
    assert_eq!(c.q("MGET d e"), arr(vec![V::bulk("2"), V::bulk("2")]));
    c.resp3();
    assert_eq!(c.q("MGET d nothing"), arr(vec![V::bulk("2"), V::Nil]));
}

#[test]
fn mset_is_atomic_for_concurrent_readers() {
    let server = Server::start(&[]);
    let port = server.port;
    let keys: Vec<String> = (0..8).map(|i| format!("atomic:{i}")).collect();
    let writer_keys = keys.clone();
    let writer = std::thread::spawn(move || {
        let mut w = common::Client::connect(port);
        for round in 0..400 {
            let mut args = vec!["MSET".to_string()];
            for k in &writer_keys {
                args.push(k.clone());
                args.push(round.to_string());
            }
            assert_eq!(w.cmd(&args), V::ok());
        }
    });
    let mut r = server.client();
    let mut mget = vec!["MGET".to_string()];
    mget.extend(keys.iter().cloned());
    while !writer.is_finished() {
        let values = r.cmd(&mget).items();
        assert!(
            values.windows(2).all(|w| w[0] == w[1]),
            "MGET saw a half-applied MSET: {values:?}"
        );
    }
    writer.join().unwrap();
}

#[test]
fn msetnx_races_have_one_winner() {
    let server = Server::start(&[]);
    for round in 0..100 {
        let (x, y) = (format!("x{round}"), format!("y{round}"));
        let mut handles = Vec::new();
        for (value, first, second) in [("1", &x, &y), ("2", &y, &x)] {
            let port = server.port;
            let args = vec![
                "MSETNX".to_string(),
                first.clone(),
                value.to_string(),
                second.clone(),
                value.to_string(),
            ];
            handles.push(std::thread::spawn(move || {
                common::Client::connect(port).cmd(&args)
            }));
        }
        let mut results: Vec<V> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        results.sort_by_key(|v| format!("{v:?}"));
        assert_eq!(results, vec![int(0), int(1)], "round {round}");
        let mut c = server.client();
        let both = c.cmd(&["MGET", &x, &y]).items();
        assert_eq!(both[0], both[1], "round {round}");
    }
}

#[test]
fn append_and_strlen() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("APPEND k hello"), int(5));
    assert_eq!(c.cmd(&["APPEND", "k", " world"]), int(11));
    assert_eq!(c.q("GET k"), V::bulk("hello world"));
    assert_eq!(c.q("STRLEN k"), int(11));
    assert_eq!(c.q("STRLEN nothing"), int(0));
    assert_eq!(c.cmd(&["APPEND", "k", ""]), int(11));
    // Appending nothing to a missing key still creates it.
    assert_eq!(c.cmd(&["APPEND", "empty", ""]), int(0));
    assert_eq!(c.q("GET empty"), V::bulk(""));
    // Numbers are strings too.
    assert_eq!(c.q("SET n 10"), V::ok());
    assert_eq!(c.q("APPEND n 5"), int(3));
    assert_eq!(c.q("INCR n"), int(106));
    // Many appends grow the value in place.
    for i in 0..200 {
        assert_eq!(c.q("APPEND grow abcde"), int(5 * (i + 1)));
    }
    assert_eq!(c.q("GET grow"), V::bulk(&"abcde".repeat(200)));
    assert_eq!(c.q("APPEND k"), arity("append"));
    assert_eq!(c.q("STRLEN"), arity("strlen"));
}

#[test]
fn getrange_and_substr() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.cmd(&["SET", "k", "This is a string"]), V::ok());
    for (start, end, want) in [
        ("0", "3", "This"),
        ("-3", "-1", "ing"),
        ("0", "-1", "This is a string"),
        ("10", "100", "string"),
        ("-1", "-5", ""),
        ("-100", "-5", "This is a st"),
        ("-100", "100", "This is a string"),
        ("5", "3", ""),
        ("16", "20", ""),
        ("15", "15", "g"),
        (
            "-9223372036854775808",
            "9223372036854775807",
            "This is a string",
        ),
        ("9223372036854775807", "-9223372036854775808", ""),
    ] {
        assert_eq!(
            c.cmd(&["GETRANGE", "k", start, end]),
            V::bulk(want),
            "{start} {end}"
        );
        assert_eq!(
            c.cmd(&["SUBSTR", "k", start, end]),
            V::bulk(want),
            "{start} {end}"
        );
    }
    assert_eq!(c.q("GETRANGE k a 1"), not_integer());
    assert_eq!(c.q("GETRANGE k 1 1.5"), not_integer());
    assert_eq!(c.q("GETRANGE nothing 0 -1"), V::bulk(""));
    assert_eq!(c.q("GETRANGE nothing x 1"), not_integer());
    assert_eq!(c.cmd(&["SET", "empty", ""]), V::ok());
    assert_eq!(c.q("GETRANGE empty 0 -1"), V::bulk(""));
    assert_eq!(c.q("GETRANGE empty 0 0"), V::bulk(""));
    assert_eq!(c.q("GETRANGE k 0"), arity("getrange"));
    assert_eq!(c.q("SUBSTR k 0"), arity("substr"));
    c.resp3();
    assert_eq!(c.q("GETRANGE nothing 0 -1"), V::bulk(""));
}

#[test]
fn setrange_pads_and_overwrites() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("SETRANGE k 6 Redis"), int(11));
    assert_eq!(c.q("GET k"), V::Bulk(b"\0\0\0\0\0\0Redis".to_vec()));
    assert_eq!(c.q("SETRANGE k 0 Hello"), int(11));
    assert_eq!(c.q("GET k"), V::Bulk(b"Hello\0Redis".to_vec()));
    assert_eq!(c.q("SETRANGE k 13 X"), int(14));
    assert_eq!(c.q("GET k"), V::Bulk(b"Hello\0Redis\0\0X".to_vec()));
    assert_eq!(c.cmd(&[&b"SETRANGE"[..], b"k", b"1", b"\0\x7f"]), int(14));
    assert_eq!(c.q("GET k"), V::Bulk(b"H\0\x7flo\0Redis\0\0X".to_vec()));
    // Writing nothing reports the length and creates nothing, whatever the offset.
    assert_eq!(c.cmd(&["SETRANGE", "k", "0", ""]), int(14));
    assert_eq!(c.cmd(&["SETRANGE", "k", "536870912", ""]), int(14));
    assert_eq!(c.cmd(&["SETRANGE", "new", "5", ""]), int(0));
    assert_eq!(c.q("GET new"), V::Nil);
    assert_eq!(c.q("SETRANGE k -1 x"), V::err("ERR offset is out of range"));
    assert_eq!(
        c.q("SETRANGE k -9223372036854775808 x"),
        V::err("ERR offset is out of range")
    );
    assert_eq!(c.q("SETRANGE k abc x"), not_integer());
    assert_eq!(c.q("SETRANGE k 9223372036854775808 x"), not_integer());
    let too_big = V::err("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    assert_eq!(c.q("SETRANGE k 536870912 x"), too_big);
    assert_eq!(c.q("SETRANGE k 536870911 xy"), too_big);
    assert_eq!(c.q("SETRANGE new 536870912 x"), too_big);
    assert_eq!(c.q("SETRANGE k 9223372036854775807 x"), too_big);
    assert_eq!(c.q("GET new"), V::Nil);
    assert_eq!(c.q("SETRANGE k 0"), arity("setrange"));
}

#[test]
fn growth_limits_follow_proto_max_bulk_len() {
    let server = Server::start(&["--proto-max-bulk-len", "1mb"]);
    let mut c = server.client();
    let too_big = V::err("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    let mb = 1024 * 1024;
    let almost = "a".repeat(mb - 1);
    assert_eq!(c.cmd(&["SET", "k", &almost]), V::ok());
    assert_eq!(c.q("APPEND k b"), int(mb as i64));
    assert_eq!(c.q("APPEND k c"), too_big);
    assert_eq!(c.q("STRLEN k"), int(mb as i64));
    assert_eq!(c.q("SETRANGE k 1048575 z"), int(mb as i64));
    assert_eq!(c.q("SETRANGE k 1048576 z"), too_big);
    assert_eq!(c.q("SETRANGE other 1048575 z"), int(mb as i64));
    assert_eq!(c.q("SETRANGE third 1048576 z"), too_big);
    assert_eq!(c.q("GET third"), V::Nil);
}

#[test]
fn integer_counters() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("INCR i"), int(1));
    assert_eq!(c.q("INCR i"), int(2));
    assert_eq!(c.q("INCRBY i 10"), int(12));
    assert_eq!(c.q("INCRBY i -20"), int(-8));
    assert_eq!(c.q("DECR i"), int(-9));
    assert_eq!(c.q("DECRBY i 5"), int(-14));
    assert_eq!(c.q("DECRBY i -5"), int(-9));
    assert_eq!(c.q("GET i"), V::bulk("-9"));
    assert_eq!(c.q("DECR fresh"), int(-1));
    assert_eq!(c.q("INCRBY i abc"), not_integer());
    assert_eq!(c.q("INCRBY i 1.5"), not_integer());
    assert_eq!(c.q("DECRBY i 9223372036854775808"), not_integer());
    assert_eq!(
        c.q("DECRBY i -9223372036854775808"),
        V::err("ERR decrement would overflow")
    );

    let overflow = V::err("ERR increment or decrement would overflow");
    assert_eq!(c.q("SET max 9223372036854775807"), V::ok());
    assert_eq!(c.q("INCR max"), overflow);
    assert_eq!(c.q("INCRBY max 0"), int(i64::MAX));
    assert_eq!(c.q("DECR max"), int(i64::MAX - 1));
    assert_eq!(c.q("SET min -9223372036854775808"), V::ok());
    assert_eq!(c.q("DECR min"), overflow);
    assert_eq!(c.q("INCRBY min -1"), overflow);
    assert_eq!(c.q("INCR min"), int(i64::MIN + 1));
    assert_eq!(c.q("DECRBY big -9223372036854775807"), int(i64::MAX));
    assert_eq!(c.q("INCR big"), overflow);

    for stored in [
        "abc",
        " 1",
        "1 ",
        "01",
        "+1",
        "-0",
        "1.0",
        "",
        "99999999999999999999",
    ] {
        assert_eq!(c.cmd(&["SET", "bad", stored]), V::ok());
        assert_eq!(c.q("INCR bad"), not_integer(), "{stored:?}");
        assert_eq!(c.q("DECRBY bad 1"), not_integer(), "{stored:?}");
        assert_eq!(c.q("GET bad"), V::bulk(stored));
    }
    assert_eq!(c.q("INCR"), arity("incr"));
    assert_eq!(c.q("INCRBY i"), arity("incrby"));
    assert_eq!(c.q("DECR a b"), arity("decr"));
    assert_eq!(c.q("DECRBY i"), arity("decrby"));
}

#[test]
fn float_counter() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("SET f 10.50"), V::ok());
    assert_eq!(c.q("INCRBYFLOAT f 0.1"), V::bulk("10.6"));
    assert_eq!(c.q("INCRBYFLOAT f -5"), V::bulk("5.6"));
    assert_eq!(c.q("GET f"), V::bulk("5.6"));
    assert_eq!(c.q("SET g 5.0e3"), V::ok());
    assert_eq!(c.q("INCRBYFLOAT g 2.0e2"), V::bulk("5200"));
    assert_eq!(c.q("INCRBYFLOAT h 3"), V::bulk("3"));
    assert_eq!(c.q("INCRBYFLOAT h -3"), V::bulk("0"));
    assert_eq!(c.q("INCRBYFLOAT h -0"), V::bulk("0"));
    // Never an exponent, at most 17 decimals.
    assert_eq!(
        c.q("INCRBYFLOAT big 1e20"),
        V::bulk("100000000000000000000")
    );
    assert_eq!(c.q("INCRBYFLOAT tiny 1e-20"), V::bulk("0"));
    assert_eq!(c.q("INCRBYFLOAT small 1.5e-7"), V::bulk("0.00000015"));
    // C float syntax: hexadecimal, signs, bare points.
    assert_eq!(c.q("INCRBYFLOAT x 0x10"), V::bulk("16"));
    assert_eq!(c.q("INCRBYFLOAT x 0x1p-2"), V::bulk("16.25"));
    assert_eq!(c.q("INCRBYFLOAT x +1"), V::bulk("17.25"));
    assert_eq!(c.q("INCRBYFLOAT x .5"), V::bulk("17.75"));
    assert_eq!(c.q("INCRBYFLOAT x 5."), V::bulk("22.75"));
    assert_eq!(c.q("SET hex 0x10"), V::ok());
    assert_eq!(c.q("INCRBYFLOAT hex 1"), V::bulk("17"));
    // The result is stored as text, and an integral one counts with INCR.
    assert_eq!(c.q("INCR hex"), int(18));
    assert_eq!(c.q("SET frac 1.5"), V::ok());
    assert_eq!(c.q("INCRBYFLOAT frac 1"), V::bulk("2.5"));
    assert_eq!(c.q("INCR frac"), not_integer());

    let nan_inf = V::err("ERR increment would produce NaN or Infinity");
    assert_eq!(c.q("INCRBYFLOAT x inf"), nan_inf);
    assert_eq!(c.q("INCRBYFLOAT x -INFINITY"), nan_inf);
    // Redis adds in 80-bit long double: twice f64's maximum is still finite, and every digit
    // of the exact binary value is printed (texts from Redis 7.0.15).
    let max = c.q("INCRBYFLOAT m 1.7976931348623157e308").text();
    assert_eq!(max.len(), 309);
    assert!(max.starts_with("179769313486231569995921046774104434048386446944329178485314"));
    let twice = c.q("INCRBYFLOAT m 1.7976931348623157e308").text();
    assert_eq!(twice.len(), 309);
    assert!(twice.starts_with("359538626972463139991842093548208868096772893888658356970628"));
    assert!(
        c.q("INCRBYFLOAT huge 1e4932")
            .text()
            .starts_with("10000000000000000000")
    );
    assert_eq!(c.q("INCRBYFLOAT huge 1e4932"), nan_inf);
    for bad in ["nan", "abc", "", " 1", "1 ", "1e", "0x", "0x1p", "1,5"] {
        assert_eq!(c.cmd(&["INCRBYFLOAT", "x", bad]), not_float(), "{bad:?}");
    }
    assert_eq!(
        c.cmd(&["INCRBYFLOAT", "x", &"1".repeat(5 * 1024)]),
        not_float()
    );
    assert_eq!(c.q("GET x"), V::bulk("22.75"));
    assert_eq!(c.q("SET word abc"), V::ok());
    assert_eq!(c.q("INCRBYFLOAT word 1"), not_float());
    assert_eq!(c.q("INCRBYFLOAT f"), arity("incrbyfloat"));
    // A bulk string in RESP3 as well, not a double.
    c.resp3();
    assert_eq!(c.q("INCRBYFLOAT r3 1.5"), V::bulk("1.5"));
}

fn range(a: i64, b: i64) -> V {
    arr(vec![int(a), int(b)])
}

fn lcs_idx(matches: Vec<V>, len: i64) -> V {
    arr(vec![
        V::bulk("matches"),
        arr(matches),
        V::bulk("len"),
        int(len),
    ])
}

#[test]
fn lcs_all_options() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("MSET a ohmytext b mynewtext"), V::ok());
    assert_eq!(c.q("LCS a b"), V::bulk("mytext"));
    assert_eq!(c.q("LCS a b LEN"), int(6));
    assert_eq!(c.q("LCS a b len len"), int(6));
    assert_eq!(c.q("LCS a b WITHMATCHLEN"), V::bulk("mytext"));
    let long = arr(vec![range(4, 7), range(5, 8)]);
    let short = arr(vec![range(2, 3), range(0, 1)]);
    let all = lcs_idx(vec![long.clone(), short.clone()], 6);
    assert_eq!(c.q("LCS a b IDX"), all);
    assert_eq!(c.q("LCS a b IDX MINMATCHLEN -5"), all);
    assert_eq!(c.q("LCS a b IDX MINMATCHLEN 4"), lcs_idx(vec![long], 6));
    assert_eq!(
        c.q("LCS a b idx minmatchlen 4 withmatchlen"),
        lcs_idx(vec![arr(vec![range(4, 7), range(5, 8), int(4)])], 6)
    );
    assert_eq!(
        c.q("LCS a b IDX WITHMATCHLEN"),
        lcs_idx(
            vec![
                arr(vec![range(4, 7), range(5, 8), int(4)]),
                arr(vec![range(2, 3), range(0, 1), int(2)]),
            ],
            6
        )
    );
    assert_eq!(
        c.q("LCS a a IDX WITHMATCHLEN"),
        lcs_idx(vec![arr(vec![range(0, 7), range(0, 7), int(8)])], 8)
    );
    // Single-byte runs, walked back from the end.
    assert_eq!(c.q("MSET c abcabc d cbacba"), V::ok());
    assert_eq!(c.q("LCS c d"), V::bulk("cbc"));
    let singles = lcs_idx(
        vec![
            arr(vec![range(5, 5), range(3, 3), int(1)]),
            arr(vec![range(4, 4), range(1, 1), int(1)]),
            arr(vec![range(2, 2), range(0, 0), int(1)]),
        ],
        3,
    );
    assert_eq!(c.q("LCS c d IDX WITHMATCHLEN"), singles);
    assert_eq!(c.q("LCS d c IDX WITHMATCHLEN"), singles);
    // Missing keys are empty strings.
    assert_eq!(c.q("LCS a nothing"), V::bulk(""));
    assert_eq!(c.q("LCS a nothing IDX"), lcs_idx(vec![], 0));
    assert_eq!(c.q("LCS nothing other LEN"), int(0));

    let both = V::err("ERR If you want both the length and indexes, please just use IDX.");
    assert_eq!(c.q("LCS a b LEN IDX"), both);
    assert_eq!(c.q("LCS a b IDX LEN"), both);
    assert_eq!(c.q("LCS a b MINMATCHLEN"), syntax());
    assert_eq!(c.q("LCS a b MINMATCHLEN abc"), not_integer());
    assert_eq!(c.q("LCS a b BOGUS"), syntax());
    assert_eq!(c.q("LCS a"), arity("lcs"));

    // RESP3 answers IDX with a map (which the test client decodes in no particular order).
    c.resp3();
    let V::Map(mut pairs) = c.q("LCS a b IDX MINMATCHLEN 4") else {
        panic!("LCS IDX must answer a map in RESP3");
    };
    pairs.sort_by_key(|(k, _)| k.text());
    assert_eq!(
        pairs,
        vec![
            (V::bulk("len"), int(6)),
            (
                V::bulk("matches"),
                arr(vec![arr(vec![range(4, 7), range(5, 8)])])
            ),
        ]
    );
    assert_eq!(c.q("LCS a b"), V::bulk("mytext"));
}

#[test]
fn keys_and_values_are_binary_safe() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let key: &[u8] = b"\x00\xffkey\r\n";
    let value: &[u8] = b"\x00\r\n\xfe\x80";
    assert_eq!(c.cmd(&[&b"SET"[..], key, value]), V::ok());
    assert_eq!(c.cmd(&[&b"GET"[..], key]), V::Bulk(value.to_vec()));
    assert_eq!(c.cmd(&[&b"APPEND"[..], key, b"\x00"]), int(6));
    assert_eq!(c.cmd(&[&b"STRLEN"[..], key]), int(6));
    assert_eq!(
        c.cmd(&[&b"GETRANGE"[..], key, b"1", b"2"]),
        V::Bulk(b"\r\n".to_vec())
    );
    assert_eq!(c.cmd(&[&b"SETRANGE"[..], key, b"6", b"\xff"]), int(7));
    assert_eq!(
        c.cmd(&[&b"MGET"[..], key, b"\x00"]),
        arr(vec![V::Bulk(b"\x00\r\n\xfe\x80\x00\xff".to_vec()), V::Nil])
    );
    assert_eq!(
        c.cmd(&[&b"MSET"[..], b"\x01", b"\xff\x00", b"\x02", b"\x00\xff"]),
        V::ok()
    );
    assert_eq!(
        c.cmd(&[&b"LCS"[..], b"\x01", b"\x02"]),
        V::Bulk(b"\x00".to_vec())
    );
    assert_eq!(
        c.cmd(&[&b"GETDEL"[..], b"\x01"]),
        V::Bulk(b"\xff\x00".to_vec())
    );
    assert_eq!(
        c.cmd(&[&b"GETSET"[..], b"\x02", b"\x00"]),
        V::Bulk(b"\x00\xff".to_vec())
    );
}

// ---------------------------------------------------------------------------------------------
// In-process checks: a server state driven through `execute`, whose keyspace can hold a hash
// and report exact expiry times and change events.
// ---------------------------------------------------------------------------------------------

/// Records every change event.
#[derive(Default)]
struct Recorder(Mutex<Vec<KeyEvent>>);

impl KeyObserver for Recorder {
    fn on_event(&self, event: &KeyEvent, _entry: Option<&ferrostack::keyspace::Entry>) {
        self.0.lock().push(event.clone());
    }
}

struct Local {
    state: Arc<ServerState>,
    client: ClientState,
    events: Arc<Recorder>,
}

impl Local {
    fn new() -> Local {
        let events = Arc::new(Recorder::default());
        let state = ServerState::with_observers(Config::default(), vec![events.clone()]);
        let addr: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let handle = state.clients.register(addr, addr, -1, 1).unwrap();
        let client = ClientState::new(handle, true);
        Local {
            state,
            client,
            events,
        }
    }

    fn q(&mut self, line: &str) -> Reply {
        self.cmd(&line.split_whitespace().collect::<Vec<_>>())
    }

    fn cmd(&mut self, args: &[&str]) -> Reply {
        let argv = args
            .iter()
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect();
        execute(&self.state, &mut self.client, argv)
    }

    fn put_hash(&self, key: &str) {
        let mut value = Value::new_hash();
        if let Value::Hash(h) = &mut value {
            h.insert(
                Bytes::from_static(b"f"),
                Bytes::from_static(b"v"),
                &HashLimits::default(),
            );
        }
        let mut guard = self.state.keyspace.lock(0, &[key]);
        guard.insert(Bytes::copy_from_slice(key.as_bytes()), value, Ttl::Clear);
    }

    fn is_hash(&self, key: &str) -> bool {
        let mut guard = self.state.keyspace.lock(0, &[key]);
        matches!(
            guard.peek(key.as_bytes()).map(|e| &e.value),
            Some(Value::Hash(_))
        )
    }

    /// `None`: missing; `Some(None)`: no TTL; `Some(Some(ms))`: expires at ms.
    fn expire_at(&self, key: &str) -> Option<Option<u64>> {
        self.state
            .keyspace
            .lock(0, &[key])
            .expire_at(key.as_bytes())
    }

    fn take_events(&self) -> Vec<(String, KeyEventKind)> {
        std::mem::take(&mut *self.events.0.lock())
            .into_iter()
            .map(|e| (String::from_utf8_lossy(&e.key).into_owned(), e.kind))
            .collect()
    }

    fn hits_misses(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        let stats = &self.state.keyspace.stats;
        (stats.hits.load(Relaxed), stats.misses.load(Relaxed))
    }
}

fn now_ms() -> u64 {
    ferrostack::keyspace::unix_ms()
}

fn error(text: &str) -> Reply {
    Reply::Error(Bytes::copy_from_slice(text.as_bytes()))
}

fn bulk(s: &str) -> Reply {
    Reply::Bulk(Bytes::copy_from_slice(s.as_bytes()))
}

#[test]
fn other_types_get_wrongtype_or_are_overwritten() {
    let wrongtype = error("WRONGTYPE Operation against a key holding the wrong kind of value");
    let mut l = Local::new();
    l.put_hash("h");
    for line in [
        "GET h",
        "GETEX h",
        "GETEX h PERSIST",
        "GETEX h EX 0",
        "GETDEL h",
        "GETSET h v",
        "SET h v GET",
        "SET h v NX GET",
        "SET h v XX GET",
        "APPEND h x",
        "STRLEN h",
        "GETRANGE h 0 -1",
        "SUBSTR h 0 -1",
        "SETRANGE h 0 x",
        "SETRANGE h 99999999999 x",
        "INCR h",
        "DECR h",
        "INCRBY h 1",
        "DECRBY h 1",
        "INCRBYFLOAT h 1",
        "INCRBYFLOAT h abc",
    ] {
        assert_eq!(l.q(line), wrongtype, "{line}");
        assert!(l.is_hash("h"), "{line} must leave the hash alone");
    }
    // Empty values are looked at only after the type.
    assert_eq!(l.cmd(&["SETRANGE", "h", "0", ""]), wrongtype);
    assert_eq!(l.cmd(&["APPEND", "h", ""]), wrongtype);
    // Argument errors that Redis checks before looking at the key win.
    let not_integer = error("ERR value is not an integer or out of range");
    assert_eq!(l.q("GETRANGE h x 1"), not_integer);
    assert_eq!(l.q("INCRBY h x"), not_integer);
    assert_eq!(l.q("SETRANGE h -1 x"), error("ERR offset is out of range"));
    assert_eq!(
        l.q("SET h v EX 0 GET"),
        error("ERR invalid expire time in 'set' command")
    );
    assert_eq!(l.q("SET h v EX"), error("ERR syntax error"));
    let lcs_err = error("ERR The specified keys must contain string values");
    assert_eq!(l.q("LCS h nothing"), lcs_err);
    assert_eq!(l.q("LCS nothing h IDX LEN"), lcs_err);
    assert_eq!(
        l.q("MGET h nothing"),
        Reply::Array(vec![Reply::Nil, Reply::Nil])
    );
    assert_eq!(l.q("SET h v NX"), Reply::Nil);
    assert_eq!(l.q("SETNX h v"), Reply::Integer(0));
    assert_eq!(l.q("MSETNX h v x y"), Reply::Integer(0));
    assert!(l.is_hash("h"));

    // Plain writes replace a value of any type.
    for line in [
        "SET h v",
        "SET h v XX",
        "SETEX h 100 v",
        "PSETEX h 100000 v",
        "MSET h v",
    ] {
        l.put_hash("h");
        assert_ne!(l.q(line), wrongtype, "{line}");
        assert_eq!(l.q("GET h"), bulk("v"), "{line}");
    }
}

#[test]
fn expiry_times_are_exact() {
    let mut l = Local::new();
    let before = now_ms();
    for line in [
        "SET ex v EX 100",
        "SET px v PX 100000",
        "SET exat v EXAT 4000000000",
        "SET pxat v PXAT 4000000000123",
        "SET far v EXAT 9223372036854775",
        "SETEX setex 100 v",
        "PSETEX psetex 100000 v",
    ] {
        assert_eq!(l.q(line), Reply::ok(), "{line}");
    }
    let after = now_ms();
    for key in ["ex", "px", "setex", "psetex"] {
        let at = l.expire_at(key).flatten().unwrap();
        assert!(
            (before + 100_000..=after + 100_000).contains(&at),
            "{key}: {at}"
        );
    }
    assert_eq!(l.expire_at("exat"), Some(Some(4_000_000_000_000)));
    assert_eq!(l.expire_at("pxat"), Some(Some(4_000_000_000_123)));
    assert_eq!(l.expire_at("far"), Some(Some(9_223_372_036_854_775_000)));

    // KEEPTTL and the in-place commands keep the exact time; SET, GETSET, MSET clear it.
    let at = Some(Some(4_000_000_000_123));
    l.q("SET pxat w KEEPTTL");
    assert_eq!(l.expire_at("pxat"), at);
    for line in [
        "SET n 1 PXAT 4000000000123",
        "INCR n",
        "DECRBY n 3",
        "INCRBYFLOAT n 1.5",
        "APPEND n x",
        "SETRANGE n 0 y",
        "SET n z XX KEEPTTL",
        "SETNX n q",
        "MSETNX n q",
        "GETEX n",
    ] {
        l.q(line);
        assert_eq!(l.expire_at("n"), at, "{line}");
    }
    for line in ["SET n 1", "GETSET n 2", "MSET n 3", "SET n 4 GET"] {
        l.q("SET n 0 PXAT 4000000000123");
        l.q(line);
        assert_eq!(l.expire_at("n"), Some(None), "{line}");
    }

    l.q("SET g v");
    assert_eq!(l.q("GETEX g PXAT 4000000000999"), bulk("v"));
    assert_eq!(l.expire_at("g"), Some(Some(4_000_000_000_999)));
    assert_eq!(l.q("GETEX g EXAT 4000000001"), bulk("v"));
    assert_eq!(l.expire_at("g"), Some(Some(4_000_000_001_000)));
    let before = now_ms();
    assert_eq!(l.q("GETEX g PX 5000"), bulk("v"));
    let at = l.expire_at("g").flatten().unwrap();
    assert!((before + 5000..=now_ms() + 5000).contains(&at));
    assert_eq!(l.q("GETEX g PERSIST"), bulk("v"));
    assert_eq!(l.expire_at("g"), Some(None));
    // Failed validation changes nothing.
    l.q("SET g v PXAT 4000000000123");
    l.q("GETEX g EX 0");
    l.q("SET g w EX -1");
    assert_eq!(l.expire_at("g"), Some(Some(4_000_000_000_123)));
    assert_eq!(l.q("GET g"), bulk("v"));
}

#[test]
fn reads_count_hits_and_misses_like_redis() {
    let mut l = Local::new();
    // Writes look keys up without counting, as Redis's write lookups do.
    for line in [
        "SET a 1",
        "SET a 2 NX",
        "SET b 1 XX",
        "SETNX a 1",
        "MSET c 1 d 2",
        "MSETNX c 1",
        "INCR a",
        "INCRBYFLOAT a 1",
        "APPEND a 1",
        "SETRANGE a 0 1",
        "SETEX e 10 v",
    ] {
        l.q(line);
        assert_eq!(l.hits_misses(), (0, 0), "{line}");
    }
    for (line, expected) in [
        ("GET a", (1, 0)),
        ("GET nothing", (1, 1)),
        ("MGET a nothing c", (3, 2)),
        ("STRLEN a", (4, 2)),
        ("GETRANGE nothing 0 1", (4, 3)),
        ("SET a 5 GET", (5, 3)),
        ("GETSET a 6", (6, 3)),
        ("GETEX a", (7, 3)),
        ("GETDEL a", (8, 3)),
        ("LCS c d", (10, 3)),
        ("LCS c nothing", (11, 4)),
    ] {
        l.q(line);
        assert_eq!(l.hits_misses(), expected, "{line}");
    }
}

#[test]
fn only_real_changes_emit_events() {
    use KeyEventKind::{Deleted, Written};
    let mut l = Local::new();
    let written = |k: &str| (k.to_string(), Written);
    l.q("SET k v");
    assert_eq!(l.take_events(), vec![written("k")]);
    for line in [
        "SET k v NX",
        "SET nothing v XX",
        "SETNX k v",
        "MSETNX x 1 k 2",
        "SET k v EX 0",
        "INCR k",
        "INCRBYFLOAT k x",
        "GET k",
        "GETEX k",
        "GETEX k PERSIST",
        "GETDEL nothing",
        "LCS k k",
    ] {
        l.q(line);
        assert_eq!(l.take_events(), vec![], "{line}");
    }
    // SETRANGE with nothing to write changes nothing.
    l.cmd(&["SETRANGE", "k", "3", ""]);
    l.cmd(&["SETRANGE", "nothing", "3", ""]);
    assert_eq!(l.take_events(), vec![]);
    l.put_hash("h");
    l.take_events();
    for line in [
        "APPEND h x",
        "SETRANGE h 0 x",
        "INCR h",
        "GETSET h v",
        "SET h v GET",
    ] {
        l.q(line);
        assert_eq!(l.take_events(), vec![], "{line}");
    }
    l.q("APPEND k x");
    assert_eq!(l.take_events(), vec![written("k")]);
    l.q("MSET a 1 b 2");
    let mut events = l.take_events();
    events.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(events, vec![written("a"), written("b")]);
    l.q("GETDEL a");
    assert_eq!(l.take_events(), vec![("a".to_string(), Deleted)]);
    l.q("GETEX b EXAT 1");
    assert_eq!(l.take_events(), vec![("b".to_string(), Deleted)]);
}
