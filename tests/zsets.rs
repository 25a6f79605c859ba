//! Sorted sets end to end: replies in both protocols, encodings, DUMP/RESTORE, blocking pops.
//! The differential test covers the breadth against real Redis; these pin the shapes and
//! the paths it cannot reach (other clients waking a blocked one, timeouts, FIFO order).

mod common;

use std::time::{Duration, Instant};

use common::{Server, V};

fn b(s: &str) -> V {
    V::bulk(s)
}

fn d(s: &str) -> V {
    V::Double(s.into())
}

#[test]
fn scores_reply_as_redis_7_0_formats_them() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("ZADD z 1.1 a 2 b 1e20 c -inf d"), V::Int(4));
    assert_eq!(c.q("ZSCORE z a"), b("1.1000000000000001"));
    assert_eq!(
        c.q("ZRANGE z 0 -1 WITHSCORES"),
        V::Array(vec![
            b("d"),
            b("-inf"),
            b("a"),
            b("1.1000000000000001"),
            b("b"),
            b("2"),
            b("c"),
            b("1e+20"),
        ])
    );
    c.resp3();
    assert_eq!(c.q("ZSCORE z b"), d("2"));
    // RESP3 nests [member, score] pairs; a pop without count stays flat.
    assert_eq!(
        c.q("ZRANGE z 0 1 WITHSCORES"),
        V::Array(vec![
            V::Array(vec![b("d"), d("-inf")]),
            V::Array(vec![b("a"), d("1.1")]),
        ])
    );
    assert_eq!(c.q("ZPOPMIN z"), V::Array(vec![b("d"), d("-inf")]));
    assert_eq!(
        c.q("ZPOPMAX z 1"),
        V::Array(vec![V::Array(vec![b("c"), d("100000000000000000000")])])
    );
    assert_eq!(
        c.q("ZMPOP 1 z MIN"),
        V::Array(vec![
            b("z"),
            V::Array(vec![V::Array(vec![b("a"), d("1.1")])])
        ])
    );
}

#[test]
fn zadd_options_and_errors() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("ZADD z 1 a 2 b"), V::Int(2));
    assert_eq!(c.q("ZADD z CH GT 0 a 3 b 4 c"), V::Int(2));
    assert_eq!(c.q("ZADD z XX 9 nosuch"), V::Int(0));
    assert_eq!(c.q("ZADD z INCR 1.5 a"), b("2.5"));
    assert_eq!(c.q("ZADD z INCR NX 1 a"), V::Nil);
    assert_eq!(
        c.q("ZADD z NX XX 1 a"),
        V::err("ERR XX and NX options at the same time are not compatible")
    );
    assert_eq!(
        c.q("ZADD z GT LT 1 a"),
        V::err("ERR GT, LT, and/or NX options at the same time are not compatible")
    );
    assert_eq!(
        c.q("ZADD z INCR 1 a 2 b"),
        V::err("ERR INCR option supports a single increment-element pair")
    );
    assert_eq!(c.q("ZADD z 1 a 2"), V::err("ERR syntax error"));
    assert_eq!(c.q("ZADD z x a"), V::err("ERR value is not a valid float"));
    assert_eq!(c.q("ZADD z inf a"), V::Int(0));
    assert_eq!(
        c.q("ZINCRBY z -inf a"),
        V::err("ERR resulting score is not a number (NaN)")
    );
    assert_eq!(c.q("ZSCORE z a"), b("inf"));
    c.q("SET s v");
    assert!(c.q("ZADD s 1 a").text().starts_with("WRONGTYPE"));
}

#[test]
fn ranges_by_rank_score_and_lex() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("ZADD z 1 a 2 b 3 c 4 d 5 e");
    let members = |v: V| v.items().iter().map(V::text).collect::<Vec<_>>().join(",");
    assert_eq!(members(c.q("ZRANGE z 1 -2")), "b,c,d");
    assert_eq!(members(c.q("ZRANGE z 0 1 REV")), "e,d");
    assert_eq!(members(c.q("ZRANGE z (1 4 BYSCORE LIMIT 1 2")), "c,d");
    assert_eq!(members(c.q("ZRANGE z 4 (1 BYSCORE REV LIMIT 1 -1")), "c,b");
    assert_eq!(members(c.q("ZREVRANGEBYSCORE z +inf -inf LIMIT 0 1")), "e");
    assert_eq!(c.q("ZCOUNT z (1 3"), V::Int(2));
    assert_eq!(
        c.q("ZRANGE z 0 1 LIMIT 0 1"),
        V::err(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
        )
    );
    assert_eq!(
        c.q("ZRANGEBYSCORE z x 1"),
        V::err("ERR min or max is not a float")
    );
    c.q("ZADD l 0 a 0 b 0 c 0 d");
    assert_eq!(members(c.q("ZRANGEBYLEX l (a [c")), "b,c");
    assert_eq!(members(c.q("ZREVRANGEBYLEX l + - LIMIT 1 2")), "c,b");
    assert_eq!(c.q("ZLEXCOUNT l - +"), V::Int(4));
    assert_eq!(
        c.q("ZRANGEBYLEX l a c"),
        V::err("ERR min or max not valid string range item")
    );
    assert_eq!(c.q("ZRANK z c"), V::Int(2));
    assert_eq!(
        c.q("ZREVRANK z c WITHSCORE"),
        V::Array(vec![V::Int(2), b("3")])
    );
    assert_eq!(c.q("ZRANK z nosuch WITHSCORE"), V::Nil);
    assert_eq!(c.q("ZRANGESTORE dst z 0 1"), V::Int(2));
    assert_eq!(members(c.q("ZRANGE dst 0 -1")), "a,b");
    assert_eq!(c.q("ZRANGESTORE dst nokey 0 -1"), V::Int(0));
    assert_eq!(c.q("EXISTS dst"), V::Int(0));
    assert_eq!(c.q("ZREMRANGEBYSCORE z -inf (3"), V::Int(2));
    assert_eq!(c.q("ZREMRANGEBYRANK z 0 0"), V::Int(1));
    assert_eq!(c.q("ZREMRANGEBYLEX l [b +"), V::Int(3));
    assert_eq!(members(c.q("ZRANGE z 0 -1")), "d,e");
}

#[test]
fn set_operations_weights_and_aggregates() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("ZADD a 1 x 2 y 3 z");
    c.q("ZADD b 10 y 20 z 30 w");
    assert_eq!(
        c.q("ZUNION 2 a b WEIGHTS 2 1 AGGREGATE MAX WITHSCORES"),
        V::Array(["x", "2", "y", "10", "z", "20", "w", "30"].map(b).to_vec())
    );
    assert_eq!(
        c.q("ZINTER 2 a b WITHSCORES"),
        V::Array(["y", "12", "z", "23"].map(b).to_vec())
    );
    assert_eq!(c.q("ZDIFF 2 a b"), V::Array(vec![b("x")]));
    assert_eq!(c.q("ZINTERCARD 2 a b LIMIT 1"), V::Int(1));
    assert_eq!(c.q("ZUNIONSTORE d 2 a b"), V::Int(4));
    assert_eq!(c.q("OBJECT ENCODING d"), b("listpack"));
    assert_eq!(c.q("ZDIFFSTORE d 2 a a"), V::Int(0));
    assert_eq!(c.q("EXISTS d"), V::Int(0));
    // inf * 0 is taken as 0, inf + -inf as 0.
    c.q("ZADD i +inf m");
    assert_eq!(
        c.q("ZUNION 2 i i WEIGHTS 1 -1 WITHSCORES"),
        V::Array(vec![b("m"), b("0")])
    );
    assert_eq!(
        c.q("ZUNION 0 a"),
        V::err("ERR at least 1 input key is needed for 'zunion' command")
    );
    assert_eq!(
        c.q("ZUNION 2 a b WEIGHTS 1 x"),
        V::err("ERR weight value is not a float")
    );
    assert_eq!(
        c.q("ZUNIONSTORE d 1 a WITHSCORES"),
        V::err("ERR syntax error")
    );
}

#[test]
fn encodings_follow_redis_thresholds() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("CONFIG SET zset-max-listpack-entries 3");
    c.q("ZADD z 1 a 2 b 3 c");
    assert_eq!(c.q("OBJECT ENCODING z"), b("listpack"));
    c.q("ZADD z 4 d");
    assert_eq!(c.q("OBJECT ENCODING z"), b("skiplist"));
    c.q("ZREM z a b c");
    assert_eq!(
        c.q("OBJECT ENCODING z"),
        b("skiplist"),
        "never converts back"
    );
    assert_eq!(c.q("ZUNIONSTORE small 1 z"), V::Int(1));
    assert_eq!(c.q("OBJECT ENCODING small"), b("listpack"));
    let long = "m".repeat(65);
    c.cmd(&["ZADD", "long", "1", &long]);
    assert_eq!(c.q("OBJECT ENCODING long"), b("skiplist"));
    // -0 reads back as 0 from a listpack, as -0 from a skiplist.
    c.q("ZADD zero -0 a");
    assert_eq!(c.q("ZSCORE zero a"), b("0"));
    c.cmd(&["ZADD", "long", "-0", "a"]);
    assert_eq!(c.q("ZSCORE long a"), b("-0"));
}

#[test]
fn dump_restore_round_trip() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("ZADD z 1.5 a -inf b 3 c");
    let V::Bulk(payload) = c.q("DUMP z") else {
        panic!("DUMP gave no payload")
    };
    assert_eq!(
        c.cmd(&[b"RESTORE".as_ref(), b"copy", b"0", &payload]),
        V::ok()
    );
    assert_eq!(
        c.q("ZRANGE copy 0 -1 WITHSCORES"),
        c.q("ZRANGE z 0 -1 WITHSCORES")
    );
    assert_eq!(c.q("OBJECT ENCODING copy"), b("listpack"));
}

#[test]
fn zrandmember_and_zscan() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("ZADD z 1 a 2 b 3 c");
    assert_eq!(c.q("ZRANDMEMBER z 5").items().len(), 3);
    assert_eq!(c.q("ZRANDMEMBER z -5 WITHSCORES").items().len(), 10);
    assert_eq!(c.q("ZRANDMEMBER nokey"), V::Nil);
    assert_eq!(
        c.q("ZSCAN z 0 MATCH [ab]"),
        V::Array(vec![b("0"), V::Array(["a", "1", "b", "2"].map(b).to_vec())])
    );
}

/// Whether `c` answers a new command (it is no longer blocked).
fn responsive(c: &mut common::Client) -> bool {
    c.q("PING") == V::Simple("PONG".into())
}

#[test]
fn blocking_pops_wake_on_zadd_in_fifo_order() {
    let server = Server::start(&[]);
    let mut first = server.client();
    let mut second = server.client();
    let mut writer = server.client();
    first.q("CLIENT SETNAME first");
    first.send(&["BZPOPMIN", "z1", "z2", "0"]);
    // Wait until the first is blocked before the second blocks.
    while writer
        .q("INFO clients")
        .text()
        .contains("blocked_clients:0")
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    second.send(&["BZMPOP", "0", "1", "z2", "MAX", "COUNT", "2"]);
    while !writer
        .q("INFO clients")
        .text()
        .contains("blocked_clients:2")
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(writer.q("ZADD z2 1 a 2 b 3 c"), V::Int(3));
    assert_eq!(
        first.read(),
        V::Array(vec![b("z2"), b("a"), b("1")]),
        "the first to block is served first"
    );
    assert_eq!(
        second.read(),
        V::Array(vec![
            b("z2"),
            V::Array(vec![
                V::Array(vec![b("c"), b("3")]),
                V::Array(vec![b("b"), b("2")])
            ])
        ])
    );
    assert_eq!(writer.q("EXISTS z2"), V::Int(0));
    assert!(responsive(&mut first));
}

#[test]
fn blocking_pops_time_out_and_serve_at_once() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let start = Instant::now();
    assert_eq!(c.q("BZPOPMAX nokey 0.1"), V::Nil);
    assert!(start.elapsed() >= Duration::from_millis(100));
    assert_eq!(c.q("BZMPOP 0.05 1 nokey MIN"), V::Nil);
    c.q("ZADD z 1 a 2 b");
    assert_eq!(c.q("BZPOPMAX z 0"), V::Array(vec![b("z"), b("b"), b("2")]));
    assert_eq!(c.q("BZPOPMIN z -1"), V::err("ERR timeout is negative"));
    // A key of another type does not wake the client; a zset does.
    let mut waiter = server.client();
    waiter.send(&["BZPOPMIN", "k", "0"]);
    while c.q("INFO clients").text().contains("blocked_clients:0") {
        std::thread::sleep(Duration::from_millis(5));
    }
    c.q("SET k v");
    c.q("DEL k");
    c.q("ZADD k 7 m");
    assert_eq!(waiter.read(), V::Array(vec![b("k"), b("m"), b("7")]));
}
