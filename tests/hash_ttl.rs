//! Hash field expiration (Redis 7.4's HEXPIRE family) against the real binary. The 7.0
//! oracle lacks these commands, so the expectations follow Redis 7.4's documentation and
//! `t_hash.c`: per-field reply codes, error texts, expired fields invisible to every hash
//! command, lazy and active reclamation, and the `listpackex` encoding.
// Integration test helpers: panicking is how a test reports a broken set-up.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{Client, Server, V};

fn ints(items: &[i64]) -> V {
    V::Array(items.iter().map(|&n| V::Int(n)).collect())
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn int_items(reply: &V) -> Vec<i64> {
    reply
        .items()
        .iter()
        .map(|v| match v {
            V::Int(n) => *n,
            other => panic!("not an integer: {other:?}"),
        })
        .collect()
}

/// Polls `check` for up to two seconds.
fn eventually(c: &mut Client, what: &str, check: impl Fn(&mut Client) -> bool) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2) {
        if check(c) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{what} did not happen");
}

#[test]
fn reply_codes_and_conditions() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("HSET h a 1 b 2 c 3");
    assert_eq!(c.q("OBJECT ENCODING h"), V::bulk("listpack"));
    assert_eq!(c.q("HEXPIRE h 100 FIELDS 2 a zz"), ints(&[1, -2]));
    assert_eq!(c.q("OBJECT ENCODING h"), V::bulk("listpackex"));
    assert_eq!(c.q("HEXPIRE h 100 NX FIELDS 2 a b"), ints(&[0, 1]));
    assert_eq!(c.q("HEXPIRE h 200 XX FIELDS 2 a c"), ints(&[1, 0]));
    assert_eq!(
        c.q("HEXPIRE h 50 GT FIELDS 2 a c"),
        ints(&[0, 0]),
        "no TTL is infinite"
    );
    assert_eq!(c.q("HEXPIRE h 50 LT FIELDS 2 a c"), ints(&[1, 1]));
    assert_eq!(c.q("HEXPIRE h 60 gt FIELDS 1 a"), ints(&[1]));
    assert_eq!(c.q("HEXPIRE nokey 10 FIELDS 2 a b"), ints(&[-2, -2]));

    let ttl = int_items(&c.q("HTTL h FIELDS 3 a b zz"));
    assert!((59..=60).contains(&ttl[0]), "{ttl:?}");
    assert!((99..=100).contains(&ttl[1]), "{ttl:?}");
    assert_eq!(ttl[2], -2);
    let pttl = int_items(&c.q("HPTTL h FIELDS 1 a"))[0];
    assert!((59_000..=60_000).contains(&pttl), "{pttl}");
    assert_eq!(c.q("HTTL nokey FIELDS 1 a"), ints(&[-2]));

    let at = now_ms() + 500_000;
    assert_eq!(
        c.cmd(&["HPEXPIREAT", "h", &at.to_string(), "FIELDS", "1", "a"]),
        ints(&[1])
    );
    assert_eq!(c.q("HPEXPIRETIME h FIELDS 1 a"), ints(&[at]));
    assert_eq!(c.q("HEXPIRETIME h FIELDS 1 a"), ints(&[(at + 999) / 1000]));
    let at_secs = now_ms() / 1000 + 1000;
    c.cmd(&["HEXPIREAT", "h", &at_secs.to_string(), "FIELDS", "1", "b"]);
    assert_eq!(c.q("HPEXPIRETIME h FIELDS 1 b"), ints(&[at_secs * 1000]));

    assert_eq!(c.q("HPERSIST h FIELDS 3 a c zz"), ints(&[1, 1, -2]));
    assert_eq!(c.q("HPERSIST h FIELDS 2 a c"), ints(&[-1, -1]));
    assert_eq!(c.q("HTTL h FIELDS 1 a"), ints(&[-1]));
    assert_eq!(c.q("HPERSIST nokey FIELDS 1 a"), ints(&[-2]));
    assert_eq!(
        c.q("OBJECT ENCODING h"),
        V::bulk("listpackex"),
        "stays listpackex"
    );
}

#[test]
fn past_times_delete_fields() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("HSET h a 1 b 2");
    assert_eq!(c.q("HEXPIREAT h 1 FIELDS 2 a zz"), ints(&[2, -2]));
    assert_eq!(c.q("HEXISTS h a"), V::Int(0));
    assert_eq!(c.q("HPEXPIRE h 0 FIELDS 1 b"), ints(&[2]));
    assert_eq!(
        c.q("EXISTS h"),
        V::Int(0),
        "the last field took the hash with it"
    );
}

#[test]
fn errors() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("HSET h a 1");
    c.q("SET s x");
    let cases = [
        (
            "HEXPIRE h 10 FIELDS 0 a",
            "ERR Parameter `numFields` should be greater than 0",
        ),
        (
            "HEXPIRE h 10 FIELDS x a",
            "ERR Parameter `numFields` should be greater than 0",
        ),
        (
            "HEXPIRE h 10 FIELDS 2 a",
            "ERR The `numfields` parameter must match the number of arguments",
        ),
        (
            "HEXPIRE h 10 FIELDS 1 a b",
            "ERR The `numfields` parameter must match the number of arguments",
        ),
        (
            "HEXPIRE h 10 BOGUS 1 a",
            "ERR Mandatory argument FIELDS is missing or not at the right position",
        ),
        (
            "HEXPIRE h 10 NX XX FIELDS 1 a",
            "ERR Mandatory argument FIELDS is missing or not at the right position",
        ),
        (
            "HEXPIRE h -1 FIELDS 1 a",
            "ERR invalid expire time, must be >= 0",
        ),
        (
            "HEXPIRE h x FIELDS 1 a",
            "ERR value is not an integer or out of range",
        ),
        (
            "HEXPIRE h 281474976710 FIELDS 1 a",
            "ERR invalid expire time in 'hexpire' command",
        ),
        (
            "HPEXPIREAT h 281474976710656 FIELDS 1 a",
            "ERR invalid expire time in 'hpexpireat' command",
        ),
        (
            "HTTL h FIELDS 0 a",
            "ERR Parameter `numFields` should be greater than 0",
        ),
        (
            "HPERSIST h NOTFIELDS 1 a",
            "ERR Mandatory argument FIELDS is missing or not at the right position",
        ),
        (
            "HEXPIRE s x FIELDS 1 a",
            "WRONGTYPE Operation against a key holding the wrong kind of value",
        ),
        (
            "HTTL s FIELDS 1 a",
            "WRONGTYPE Operation against a key holding the wrong kind of value",
        ),
        (
            "HEXPIRE h 10 FIELDS 1",
            "ERR wrong number of arguments for 'hexpire' command",
        ),
    ];
    for (cmd, err) in cases {
        assert_eq!(c.q(cmd), V::err(err), "{cmd}");
    }
}

#[test]
fn expired_fields_are_invisible_and_reclaimed_lazily() {
    // No active expiry: whatever disappears, the commands themselves reclaimed.
    let server = Server::start(&["--hz", "1"]);
    let mut c = server.client();
    c.q("HSET h a 1 b 2 c 3");
    c.q("HPEXPIRE h 30 FIELDS 2 a b");
    std::thread::sleep(Duration::from_millis(60));
    assert_eq!(c.q("HGET h a"), V::Nil);
    assert_eq!(c.q("HLEN h"), V::Int(1));
    assert_eq!(c.q("HKEYS h"), V::Array(vec![V::bulk("c")]));
    assert_eq!(c.q("HRANDFIELD h"), V::bulk("c"));
    assert_eq!(
        c.q("HSCAN h 0"),
        V::Array(vec![
            V::bulk("0"),
            V::Array(vec![V::bulk("c"), V::bulk("3")])
        ])
    );
    assert_eq!(c.q("HTTL h FIELDS 2 a c"), ints(&[-2, -1]));
    assert_eq!(
        c.q("HSETNX h a new"),
        V::Int(1),
        "an expired field is gone for writes too"
    );

    c.q("HSET g x 1");
    c.q("HPEXPIRE g 20 FIELDS 1 x");
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(c.q("HGETALL g"), V::Array(vec![]));
    assert_eq!(
        c.q("EXISTS g"),
        V::Int(0),
        "reaping the last field deleted the hash"
    );
}

#[test]
fn writes_and_ttls() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("HSET h a 1 n 5");
    c.q("HEXPIRE h 100 FIELDS 2 a n");
    c.q("HINCRBY h n 1");
    assert!(
        int_items(&c.q("HTTL h FIELDS 1 n"))[0] > 0,
        "HINCRBY keeps the TTL"
    );
    c.q("HSET h a 2");
    assert_eq!(c.q("HTTL h FIELDS 1 a"), ints(&[-1]), "HSET drops the TTL");
    c.q("HDEL h n");
    c.q("HSET h n 1");
    assert_eq!(
        c.q("HTTL h FIELDS 1 n"),
        ints(&[-1]),
        "a re-created field has no TTL"
    );
    c.q("HEXPIRE h 100 FIELDS 1 a");
    c.q("RENAME h h2");
    assert!(
        int_items(&c.q("HTTL h2 FIELDS 1 a"))[0] > 0,
        "RENAME keeps field TTLs"
    );
    c.q("COPY h2 h3");
    assert!(
        int_items(&c.q("HTTL h3 FIELDS 1 a"))[0] > 0,
        "COPY keeps field TTLs"
    );

    c.q("CONFIG SET hash-max-listpack-entries 1");
    c.q("HSET big a 1 b 2");
    c.q("HEXPIRE big 100 FIELDS 1 a");
    assert_eq!(c.q("OBJECT ENCODING big"), V::bulk("hashtable"));
}

#[test]
fn active_expiry_deletes_fields_and_emptied_hashes() {
    let server = Server::start(&[]);
    let mut c = server.client();
    for i in 0..20 {
        let key = format!("h{i}");
        c.cmd(&["HSET", &key, "f", "v", "keep", "v"]);
        c.cmd(&["HSET", &format!("gone{i}"), "f", "v"]);
        c.cmd(&["HPEXPIRE", &key, "30", "FIELDS", "1", "f"]);
        c.cmd(&["HPEXPIRE", &format!("gone{i}"), "30", "FIELDS", "1", "f"]);
    }
    // Nothing reads the hashes: only active expiry can empty and delete them.
    eventually(&mut c, "active field expiry", |c| {
        c.q("DBSIZE") == V::Int(20)
    });
    assert_eq!(c.q("EXISTS gone0"), V::Int(0));
    assert_eq!(c.q("HLEN h0"), V::Int(1));
}
