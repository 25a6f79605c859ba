//! Lists end to end: replies and null shapes in RESP2 and RESP3, errors, the Redis 7.4
//! listpack / quicklist encodings, DUMP / RESTORE, and the blocking pops and moves.
// Integration test helpers: panicking is how a test reports a broken set-up.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Client, Server, V};

fn bulks(items: &[&str]) -> V {
    V::Array(items.iter().map(|s| V::bulk(s)).collect())
}

/// The raw bytes of the reply to `line`.
fn raw(c: &mut Client, line: &str) -> Vec<u8> {
    let args: Vec<&str> = line.split_whitespace().collect();
    c.send(&args);
    c.read_raw().unwrap().1
}

#[test]
fn pushes_pops_and_ranges() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("RPUSH l a b c"), V::Int(3));
    assert_eq!(c.q("LPUSH l x y"), V::Int(5));
    assert_eq!(c.q("LRANGE l 0 -1"), bulks(&["y", "x", "a", "b", "c"]));
    assert_eq!(c.q("LRANGE l -2 100"), bulks(&["b", "c"]));
    assert_eq!(c.q("LRANGE l 3 1"), bulks(&[]));
    assert_eq!(c.q("LPUSHX nokey a"), V::Int(0));
    assert_eq!(c.q("EXISTS nokey"), V::Int(0));
    assert_eq!(c.q("RPUSHX l z"), V::Int(6));
    assert_eq!(c.q("LPOP l"), V::bulk("y"));
    assert_eq!(c.q("RPOP l 2"), bulks(&["z", "c"]));
    assert_eq!(c.q("LPOP l 0"), bulks(&[]));
    assert_eq!(c.q("LLEN l"), V::Int(3));
    assert_eq!(c.q("LINDEX l -1"), V::bulk("b"));
    assert_eq!(c.q("LINDEX l 3"), V::Nil);
    assert_eq!(c.q("RPOP l 10"), bulks(&["b", "a", "x"]));
    assert_eq!(c.q("EXISTS l"), V::Int(0), "emptied list is deleted");
}

#[test]
fn null_shapes_follow_the_protocol() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(raw(&mut c, "LPOP none"), b"$-1\r\n");
    assert_eq!(raw(&mut c, "LPOP none 2"), b"*-1\r\n");
    assert_eq!(raw(&mut c, "LPOP none 0"), b"*-1\r\n");
    assert_eq!(raw(&mut c, "LMPOP 1 none LEFT"), b"*-1\r\n");
    assert_eq!(raw(&mut c, "BLPOP none 0.01"), b"*-1\r\n");
    assert_eq!(
        raw(&mut c, "BLMOVE none d LEFT LEFT 0.01"),
        b"*-1\r\n",
        "a timed-out block answers a null array, as in Redis"
    );
    assert_eq!(raw(&mut c, "LPOS none a"), b"$-1\r\n");
    c.resp3();
    assert_eq!(raw(&mut c, "LPOP none"), b"_\r\n");
    assert_eq!(raw(&mut c, "LPOP none 2"), b"_\r\n");
    assert_eq!(raw(&mut c, "BLPOP none 0.01"), b"_\r\n");
    assert_eq!(raw(&mut c, "RPOPLPUSH none d"), b"_\r\n");
}

#[test]
fn errors_match_redis() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("SET s v");
    c.q("RPUSH l a b");
    let wrongtype = V::err("WRONGTYPE Operation against a key holding the wrong kind of value");
    for line in [
        "LPUSH s a",
        "LPOP s 0",
        "LRANGE s 0 1",
        "LMOVE l s LEFT LEFT",
        "LMPOP 2 s l LEFT",
        "BLPOP s l 0",
    ] {
        assert_eq!(c.q(line), wrongtype, "{line}");
    }
    assert_eq!(
        c.q("LRANGE l 0 -1"),
        bulks(&["a", "b"]),
        "failed LMOVE kept its element"
    );
    let positive = V::err("ERR value is out of range, must be positive");
    assert_eq!(c.q("LPOP l -1"), positive);
    assert_eq!(c.q("LPOP l x"), positive);
    assert_eq!(
        c.q("LPOP l 1 2"),
        V::err("ERR wrong number of arguments for 'lpop' command")
    );
    assert_eq!(c.q("LSET nokey 0 a"), V::err("ERR no such key"));
    assert_eq!(c.q("LSET l 5 a"), V::err("ERR index out of range"));
    assert_eq!(c.q("LINSERT l MIDDLE a b"), V::err("ERR syntax error"));
    assert_eq!(c.q("LMOVE l d UP LEFT"), V::err("ERR syntax error"));
    assert_eq!(
        c.q("LMPOP 0 l LEFT"),
        V::err("ERR numkeys should be greater than 0")
    );
    assert_eq!(c.q("LMPOP 3 l LEFT"), V::err("ERR syntax error"));
    assert_eq!(
        c.q("LMPOP 1 l LEFT COUNT 0"),
        V::err("ERR count should be greater than 0")
    );
    assert_eq!(
        c.q("LMPOP 1 l LEFT COUNT 1 COUNT 1"),
        V::err("ERR syntax error")
    );
    assert_eq!(c.q("BLPOP l -1"), V::err("ERR timeout is negative"));
    assert_eq!(
        c.q("LPOS l a RANK 0"),
        V::err(
            "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
        )
    );
    assert_eq!(
        c.q("LPOS l a COUNT -1"),
        V::err("ERR COUNT can't be negative")
    );
    assert_eq!(
        c.q("LPOS l a MAXLEN -1"),
        V::err("ERR MAXLEN can't be negative")
    );
    assert_eq!(c.q("LPOS l a COUNT"), V::err("ERR syntax error"));
}

#[test]
fn edits_in_the_middle() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("RPUSH l a b a c a");
    assert_eq!(c.q("LPOS l a"), V::Int(0));
    assert_eq!(c.q("LPOS l a RANK -1"), V::Int(4));
    assert_eq!(
        c.q("LPOS l a RANK 2 COUNT 0"),
        V::Array(vec![V::Int(2), V::Int(4)])
    );
    assert_eq!(
        c.q("LPOS l a COUNT 0 MAXLEN 3"),
        V::Array(vec![V::Int(0), V::Int(2)])
    );
    assert_eq!(
        c.q("LPOS l a RANK -1 COUNT 2"),
        V::Array(vec![V::Int(4), V::Int(2)])
    );
    assert_eq!(c.q("LPOS l zz COUNT 1"), V::Array(vec![]));
    assert_eq!(c.q("LINSERT l BEFORE c X"), V::Int(6));
    assert_eq!(c.q("LINSERT l AFTER nothere X"), V::Int(-1));
    assert_eq!(c.q("LINSERT nokey AFTER a X"), V::Int(0));
    assert_eq!(c.q("LSET l -1 Z"), V::ok());
    assert_eq!(c.q("LRANGE l 0 -1"), bulks(&["a", "b", "a", "X", "c", "Z"]));
    assert_eq!(c.q("LREM l -1 a"), V::Int(1));
    assert_eq!(c.q("LRANGE l 0 -1"), bulks(&["a", "b", "X", "c", "Z"]));
    assert_eq!(c.q("LTRIM l 1 -2"), V::ok());
    assert_eq!(c.q("LRANGE l 0 -1"), bulks(&["b", "X", "c"]));
    assert_eq!(c.q("LTRIM l 5 1"), V::ok());
    assert_eq!(c.q("EXISTS l"), V::Int(0));
}

#[test]
fn moves_between_lists() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("RPUSH src 1 2 3");
    assert_eq!(c.q("LMOVE src src LEFT RIGHT"), V::bulk("1"), "rotation");
    assert_eq!(c.q("LRANGE src 0 -1"), bulks(&["2", "3", "1"]));
    assert_eq!(c.q("RPOPLPUSH src dst"), V::bulk("1"));
    assert_eq!(c.q("LMOVE src dst LEFT RIGHT"), V::bulk("2"));
    assert_eq!(c.q("LRANGE dst 0 -1"), bulks(&["1", "2"]));
    assert_eq!(
        c.q("LMPOP 2 nokey src RIGHT COUNT 5"),
        V::Array(vec![V::bulk("src"), bulks(&["3"])])
    );
    assert_eq!(c.q("EXISTS src"), V::Int(0));
    assert_eq!(c.q("LMOVE src dst LEFT LEFT"), V::Nil);
}

#[test]
fn encodings_follow_redis_7_4() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("CONFIG SET list-max-listpack-size 4");
    c.q("RPUSH l 1 2 3 4");
    assert_eq!(c.q("OBJECT ENCODING l"), V::bulk("listpack"));
    c.q("RPUSH l 5");
    assert_eq!(c.q("OBJECT ENCODING l"), V::bulk("quicklist"));
    c.q("RPOP l 2");
    assert_eq!(
        c.q("OBJECT ENCODING l"),
        V::bulk("quicklist"),
        "3 is more than half of 4"
    );
    c.q("RPOP l");
    assert_eq!(
        c.q("OBJECT ENCODING l"),
        V::bulk("listpack"),
        "back at half the limit"
    );
    // The default -2 is a size limit of 8 KiB.
    c.q("CONFIG SET list-max-listpack-size -2");
    let big = "x".repeat(5000);
    c.cmd(&["RPUSH", "b", &big]);
    assert_eq!(c.q("OBJECT ENCODING b"), V::bulk("listpack"));
    c.cmd(&["RPUSH", "b", &big]);
    assert_eq!(c.q("OBJECT ENCODING b"), V::bulk("quicklist"));
    c.q("LPOP b");
    assert_eq!(
        c.q("OBJECT ENCODING b"),
        V::bulk("quicklist"),
        "5000 bytes > 4 KiB"
    );
    c.q("LSET b 0 small");
    assert_eq!(c.q("OBJECT ENCODING b"), V::bulk("listpack"));
}

#[test]
fn dump_and_restore() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("RPUSH l a 1 -300 hello");
    let V::Bulk(payload) = c.q("DUMP l") else {
        panic!("DUMP gave no payload")
    };
    assert_eq!(
        c.cmd(&[b"RESTORE".as_ref(), b"copy", b"0", &payload]),
        V::ok()
    );
    assert_eq!(c.q("LRANGE copy 0 -1"), bulks(&["a", "1", "-300", "hello"]));
    assert_eq!(c.q("OBJECT ENCODING copy"), V::bulk("listpack"));
}

#[test]
fn a_push_wakes_waiters_in_fifo_order() {
    let server = Server::start(&[]);
    let (mut first, mut second, mut pusher) = (server.client(), server.client(), server.client());
    first.send(&["BLPOP", "q1", "q", "5"]);
    // Make sure the first is blocked before the second.
    std::thread::sleep(Duration::from_millis(100));
    second.send(&["BRPOP", "q", "5"]);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(pusher.q("RPUSH q a b"), V::Int(2));
    assert_eq!(first.read(), bulks(&["q", "a"]));
    assert_eq!(second.read(), bulks(&["q", "b"]));
    assert_eq!(pusher.q("EXISTS q"), V::Int(0));
}

#[test]
fn blocking_times_out_and_ignores_other_types() {
    let server = Server::start(&[]);
    let (mut waiter, mut writer) = (server.client(), server.client());
    let start = Instant::now();
    waiter.send(&["BLMPOP", "0.3", "1", "k", "LEFT"]);
    std::thread::sleep(Duration::from_millis(50));
    writer.q("SET k v");
    assert_eq!(waiter.read(), V::Nil);
    assert!(start.elapsed() >= Duration::from_millis(300));
    // A key of another type at serve time is an error.
    assert_eq!(
        waiter.q("BLPOP k 0.01"),
        V::err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
}

#[test]
fn blmove_chains_to_the_next_waiter() {
    let server = Server::start(&[]);
    let (mut mover, mut popper, mut pusher) = (server.client(), server.client(), server.client());
    mover.send(&["BLMOVE", "a", "b", "LEFT", "RIGHT", "5"]);
    popper.send(&["BLMPOP", "5", "1", "b", "LEFT", "COUNT", "2"]);
    std::thread::sleep(Duration::from_millis(100));
    pusher.q("LPUSH a x");
    assert_eq!(mover.read(), V::bulk("x"));
    assert_eq!(popper.read(), V::Array(vec![V::bulk("b"), bulks(&["x"])]));
    assert_eq!(pusher.q("EXISTS a b"), V::Int(0));
    // BRPOPLPUSH served at once when the source has elements.
    pusher.q("RPUSH a 1 2");
    assert_eq!(pusher.q("BRPOPLPUSH a b 0"), V::bulk("2"));
    assert_eq!(pusher.q("LRANGE b 0 -1"), bulks(&["2"]));
}
