//! Set commands against the real binary: replies and error texts as Redis gives them, RESP2
//! and RESP3 shapes, the encodings Redis 7.4 reports (intset, listpack, hashtable) and how
//! writes move between them, reply order of intsets (ascending) and listpacks (insertion),
//! random picks, the STORE commands and SSCAN over large sets.
// Integration test helpers: panicking is how a test reports a broken set-up.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;

use common::{Client, Server, V};

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

fn bulks(items: &[&str]) -> V {
    V::Array(items.iter().map(|s| V::bulk(s)).collect())
}

fn texts(reply: &V) -> Vec<String> {
    reply.items().iter().map(V::text).collect()
}

fn sorted(reply: &V) -> Vec<String> {
    let mut items = texts(reply);
    items.sort();
    items
}

fn encoding(c: &mut Client, key: &str) -> String {
    c.cmd(&["OBJECT", "ENCODING", key]).text()
}

/// SADD of `members` given as separate arguments.
fn sadd(c: &mut Client, key: &str, members: &[String]) -> V {
    let mut args = vec!["SADD".to_string(), key.to_string()];
    args.extend(members.iter().cloned());
    c.cmd(&args)
}

fn numbered(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

#[test]
fn basic_commands() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("SADD s 3 1 2 1"), V::Int(3));
    assert_eq!(c.q("SADD s 1 2"), V::Int(0));
    assert_eq!(c.q("SCARD s"), V::Int(3));
    assert_eq!(c.q("SCARD nokey"), V::Int(0));
    assert_eq!(c.q("SISMEMBER s 2"), V::Int(1));
    assert_eq!(c.q("SISMEMBER s 02"), V::Int(0));
    assert_eq!(c.q("SISMEMBER nokey 2"), V::Int(0));
    assert_eq!(
        c.q("SMISMEMBER s 1 9 3"),
        V::Array(vec![V::Int(1), V::Int(0), V::Int(1)])
    );
    assert_eq!(
        c.q("SMISMEMBER nokey 1 2"),
        V::Array(vec![V::Int(0), V::Int(0)])
    );
    assert_eq!(c.q("SREM s 3 7 3"), V::Int(1));
    assert_eq!(c.q("SREM nokey 3"), V::Int(0));
    assert_eq!(c.q("SMEMBERS s"), bulks(&["1", "2"]));
    assert_eq!(c.q("SREM s 1 2"), V::Int(2));
    assert_eq!(c.q("EXISTS s"), V::Int(0), "an emptied set is deleted");
    assert_eq!(c.q("SMEMBERS nokey"), V::Array(vec![]));
    assert_eq!(c.cmd(&[b"SADD".as_ref(), b"bin", b"a\x00\xff"]), V::Int(1));
    assert_eq!(
        c.cmd(&[b"SISMEMBER".as_ref(), b"bin", b"a\x00\xff"]),
        V::Int(1)
    );
    assert_eq!(c.q("TYPE bin"), V::Simple("set".into()));
}

#[test]
fn wrong_types_and_arity() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("SET str x");
    c.q("SADD s a");
    for cmd in [
        "SADD str a",
        "SREM str a",
        "SMEMBERS str",
        "SISMEMBER str a",
        "SMISMEMBER str a",
        "SCARD str",
        "SPOP str",
        "SPOP str 2",
        "SRANDMEMBER str",
        "SRANDMEMBER str 2",
        "SMOVE str s a",
        "SMOVE s str a",
        "SUNION s str",
        "SINTER nokey str",
        "SDIFF s str",
        "SUNIONSTORE d s str",
        "SINTERSTORE d nokey str",
        "SDIFFSTORE d str",
        "SINTERCARD 2 nokey str",
        "SSCAN str 0",
    ] {
        assert_eq!(c.q(cmd), V::err(WRONGTYPE), "{cmd}");
    }
    assert_eq!(c.q("SMOVE nokey str a"), V::Int(0), "a missing source wins");
    assert_eq!(
        c.q("SADD s"),
        V::err("ERR wrong number of arguments for 'sadd' command")
    );
    assert_eq!(c.q("SPOP s 1 2"), V::err("ERR syntax error"));
    assert_eq!(c.q("SRANDMEMBER s 1 2"), V::err("ERR syntax error"));
}

#[test]
fn encodings_follow_redis_7_4() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("SADD ints 5 -1 100");
    assert_eq!(encoding(&mut c, "ints"), "intset");
    assert_eq!(
        c.q("SMEMBERS ints"),
        bulks(&["-1", "5", "100"]),
        "ascending"
    );
    c.q("SADD ints abc");
    assert_eq!(encoding(&mut c, "ints"), "listpack");
    c.q("SADD ints 7");
    assert_eq!(
        c.q("SMEMBERS ints"),
        bulks(&["-1", "5", "100", "abc", "7"]),
        "a listpack keeps insertion order"
    );
    c.q("SREM ints abc");
    assert_eq!(encoding(&mut c, "ints"), "listpack", "never converts back");

    c.q("SADD strs a b");
    assert_eq!(encoding(&mut c, "strs"), "listpack");
    c.cmd(&["SADD", "strs", &"x".repeat(65)]);
    assert_eq!(
        encoding(&mut c, "strs"),
        "hashtable",
        "member over 64 bytes"
    );

    sadd(&mut c, "many", &numbered("m", 129));
    assert_eq!(encoding(&mut c, "many"), "hashtable", "over 128 members");
    sadd(&mut c, "lp", &numbered("m", 128));
    assert_eq!(encoding(&mut c, "lp"), "listpack");
    c.q("SADD lp extra");
    assert_eq!(encoding(&mut c, "lp"), "hashtable");

    let ints: Vec<String> = (0..512).map(|i| i.to_string()).collect();
    sadd(&mut c, "bigints", &ints);
    assert_eq!(encoding(&mut c, "bigints"), "intset");
    c.q("SADD bigints 512");
    assert_eq!(encoding(&mut c, "bigints"), "hashtable");

    // 'Not canonical' integers are strings.
    c.q("SADD odd 007");
    assert_eq!(encoding(&mut c, "odd"), "listpack");
    c.q("SADD neg -0");
    assert_eq!(encoding(&mut c, "neg"), "listpack");
}

#[test]
fn encoding_limits_come_from_config() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("CONFIG SET set-max-intset-entries 2");
    c.q("CONFIG SET set-max-listpack-entries 3");
    c.q("CONFIG SET set-max-listpack-value 4");
    c.q("SADD a 1 2");
    assert_eq!(encoding(&mut c, "a"), "intset");
    c.q("SADD a 3");
    assert_eq!(encoding(&mut c, "a"), "hashtable");
    c.q("SADD b 1 2 3");
    assert_eq!(
        encoding(&mut c, "b"),
        "listpack",
        "size hint over the intset limit"
    );
    c.q("SADD c abcd");
    assert_eq!(encoding(&mut c, "c"), "listpack");
    c.q("SADD c abcde");
    assert_eq!(encoding(&mut c, "c"), "hashtable");
    c.q("SADD d 1 2 3 4");
    assert_eq!(encoding(&mut c, "d"), "hashtable");
}

#[test]
fn resp3_shapes() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.resp3();
    c.q("SADD s 1 2");
    c.q("SADD t 2 3");
    assert!(matches!(c.q("SMEMBERS s"), V::Set(_)));
    assert!(matches!(c.q("SUNION s t"), V::Set(_)));
    assert!(matches!(c.q("SINTER s t"), V::Set(_)));
    assert!(matches!(c.q("SDIFF s t"), V::Set(_)));
    assert!(matches!(c.q("SPOP nokey 2"), V::Set(_)));
    assert!(matches!(c.q("SPOP s 0"), V::Set(_)));
    assert!(matches!(c.q("SRANDMEMBER s 2"), V::Array(_)));
    assert_eq!(c.q("SRANDMEMBER nokey"), V::Nil);
    assert_eq!(c.q("SPOP nokey"), V::Nil);
    assert_eq!(c.q("SMEMBERS nokey"), V::Set(vec![]));
}

#[test]
fn spop() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(
        c.q("SPOP s -1"),
        V::err("ERR value is out of range, must be positive")
    );
    assert_eq!(
        c.q("SPOP s abc"),
        V::err("ERR value is out of range, must be positive")
    );
    assert_eq!(c.q("SPOP nokey"), V::Nil);
    assert_eq!(c.q("SPOP nokey 3"), V::Array(vec![]));
    c.q("SADD s a b c d e");
    let one = c.q("SPOP s").text();
    assert!(["a", "b", "c", "d", "e"].contains(&one.as_str()));
    assert_eq!(c.cmd(&["SISMEMBER", "s", &one]), V::Int(0));
    let two = texts(&c.q("SPOP s 2"));
    assert_eq!(two.len(), 2);
    assert_ne!(two[0], two[1]);
    assert_eq!(c.q("SCARD s"), V::Int(2));
    assert_eq!(c.q("SPOP s 0"), V::Array(vec![]));
    assert_eq!(texts(&c.q("SPOP s 10")).len(), 2);
    assert_eq!(c.q("EXISTS s"), V::Int(0));

    // Popping most of a hash table builds a new, compact set from what stays.
    sadd(&mut c, "big", &numbered("m", 200));
    c.q("EXPIRE big 1000");
    let popped = texts(&c.q("SPOP big 190"));
    assert_eq!(popped.iter().collect::<HashSet<_>>().len(), 190);
    assert_eq!(c.q("SCARD big"), V::Int(10));
    assert_eq!(encoding(&mut c, "big"), "listpack");
    assert!(
        matches!(c.q("TTL big"), V::Int(t) if t > 0),
        "the TTL stays"
    );
    for m in popped {
        assert_eq!(c.cmd(&["SISMEMBER", "big", &m]), V::Int(0));
    }

    // An intset stays one, and replies in ascending order when popped whole.
    c.q("SADD ints 3 1 2");
    assert_eq!(c.q("SPOP ints 3"), bulks(&["1", "2", "3"]));
}

#[test]
fn srandmember() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("SRANDMEMBER nokey"), V::Nil);
    assert_eq!(c.q("SRANDMEMBER nokey 3"), V::Array(vec![]));
    assert_eq!(c.q("SRANDMEMBER nokey -3"), V::Array(vec![]));
    assert_eq!(
        c.q("SRANDMEMBER s abc"),
        V::err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        c.q("SRANDMEMBER s -9223372036854775808"),
        V::err(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
        )
    );
    c.q("SADD s 1 2 3");
    assert_eq!(c.q("SRANDMEMBER s 0"), V::Array(vec![]));
    assert_eq!(c.q("SRANDMEMBER s 10"), bulks(&["1", "2", "3"]));
    let picks = texts(&c.q("SRANDMEMBER s -20"));
    assert_eq!(picks.len(), 20);
    assert!(picks.iter().all(|p| ["1", "2", "3"].contains(&p.as_str())));
    let two = texts(&c.q("SRANDMEMBER s 2"));
    assert_eq!(two.len(), 2);
    assert_ne!(two[0], two[1]);
    assert_eq!(c.q("SCARD s"), V::Int(3), "nothing removed");

    sadd(&mut c, "big", &numbered("m", 300));
    let picks = texts(&c.q("SRANDMEMBER big 250"));
    assert_eq!(picks.iter().collect::<HashSet<_>>().len(), 250);
    // Every member turns up eventually.
    let mut seen = HashSet::new();
    for _ in 0..50 {
        seen.extend(texts(&c.q("SRANDMEMBER big -100")));
    }
    assert_eq!(seen.len(), 300);
}

#[test]
fn smove() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("SADD src 1 a");
    assert_eq!(c.q("SMOVE src dst 1"), V::Int(1));
    assert_eq!(
        encoding(&mut c, "dst"),
        "intset",
        "created for its first member"
    );
    assert_eq!(c.q("SMOVE src dst 1"), V::Int(0));
    assert_eq!(c.q("SMOVE src src a"), V::Int(1));
    assert_eq!(c.q("SMOVE src src zz"), V::Int(0));
    assert_eq!(c.q("SMOVE src dst a"), V::Int(1));
    assert_eq!(c.q("EXISTS src"), V::Int(0), "emptied source deleted");
    assert_eq!(c.q("SMEMBERS dst"), bulks(&["1", "a"]));
    c.q("SADD other a");
    assert_eq!(c.q("SMOVE other dst a"), V::Int(1), "already in the target");
    assert_eq!(c.q("SCARD dst"), V::Int(2));
}

#[test]
fn algebra_and_store() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("SADD a 1 2 3 x");
    c.q("SADD b 2 3 4");
    c.q("SADD c 3 9");
    assert_eq!(sorted(&c.q("SUNION a b nokey")), ["1", "2", "3", "4", "x"]);
    assert_eq!(
        c.q("SINTER a b"),
        bulks(&["2", "3"]),
        "the smallest set's order"
    );
    assert_eq!(c.q("SINTER a b c"), bulks(&["3"]));
    assert_eq!(c.q("SINTER a nokey"), V::Array(vec![]));
    assert_eq!(c.q("SDIFF a b c"), bulks(&["1", "x"]));
    assert_eq!(c.q("SDIFF nokey a"), V::Array(vec![]));
    assert_eq!(c.q("SDIFF a a"), V::Array(vec![]));

    c.q("SET dst old");
    c.q("EXPIRE dst 100");
    assert_eq!(c.q("SINTERSTORE dst a b"), V::Int(2));
    assert_eq!(
        c.q("TTL dst"),
        V::Int(-1),
        "the STORE commands clear the TTL"
    );
    assert_eq!(encoding(&mut c, "dst"), "intset", "integers only");
    assert_eq!(c.q("SMEMBERS dst"), bulks(&["2", "3"]));
    assert_eq!(c.q("SUNIONSTORE dst a b"), V::Int(5));
    assert_eq!(encoding(&mut c, "dst"), "listpack");
    assert_eq!(c.q("SDIFFSTORE dst b a"), V::Int(1));
    assert_eq!(encoding(&mut c, "dst"), "intset");
    assert_eq!(c.q("SDIFFSTORE dst b b"), V::Int(0));
    assert_eq!(
        c.q("EXISTS dst"),
        V::Int(0),
        "an empty result deletes the target"
    );
    assert_eq!(c.q("SINTERSTORE a a nokey"), V::Int(0));
    assert_eq!(c.q("EXISTS a"), V::Int(0), "a source may be the target");

    sadd(&mut c, "h1", &numbered("m", 200));
    sadd(&mut c, "h2", &numbered("m", 150));
    assert_eq!(c.q("SINTERSTORE big h1 h2"), V::Int(150));
    assert_eq!(encoding(&mut c, "big"), "hashtable");
    assert_eq!(c.q("SDIFFSTORE small h1 h2"), V::Int(50));
    assert_eq!(encoding(&mut c, "small"), "listpack");
}

#[test]
fn sintercard() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("SADD a 1 2 3 4");
    c.q("SADD b 2 3 4 5");
    assert_eq!(c.q("SINTERCARD 2 a b"), V::Int(3));
    assert_eq!(c.q("SINTERCARD 2 a b LIMIT 2"), V::Int(2));
    assert_eq!(c.q("SINTERCARD 2 a b limit 0"), V::Int(3));
    assert_eq!(c.q("SINTERCARD 2 a b LIMIT 9 LIMIT 1"), V::Int(1));
    assert_eq!(c.q("SINTERCARD 2 a nokey"), V::Int(0));
    let numkeys = V::err("ERR numkeys should be greater than 0");
    assert_eq!(c.q("SINTERCARD 0 a"), numkeys);
    assert_eq!(c.q("SINTERCARD abc a"), numkeys);
    assert_eq!(
        c.q("SINTERCARD 3 a b"),
        V::err("ERR Number of keys can't be greater than number of args")
    );
    let negative = V::err("ERR LIMIT can't be negative");
    assert_eq!(c.q("SINTERCARD 1 a LIMIT -1"), negative);
    assert_eq!(c.q("SINTERCARD 1 a LIMIT x"), negative);
    assert_eq!(c.q("SINTERCARD 1 a LIMIT"), V::err("ERR syntax error"));
    assert_eq!(c.q("SINTERCARD 1 a bogus 1"), V::err("ERR syntax error"));
}

#[test]
fn sscan() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(
        c.q("SSCAN nokey 0 bogus"),
        V::Array(vec![V::bulk("0"), V::Array(vec![])]),
        "options are not parsed for a missing key"
    );
    assert_eq!(c.q("SSCAN s abc"), V::err("ERR invalid cursor"));
    c.q("SADD s 3 1 2 10");
    assert_eq!(
        c.q("SSCAN s 0 COUNT 1"),
        V::Array(vec![V::bulk("0"), bulks(&["1", "2", "3", "10"])]),
        "an intset comes back whole"
    );
    assert_eq!(
        c.q("SSCAN s 0 MATCH 1*"),
        V::Array(vec![V::bulk("0"), bulks(&["1", "10"])])
    );
    assert_eq!(c.q("SSCAN s 0 COUNT 0"), V::err("ERR syntax error"));
    assert_eq!(
        c.q("SSCAN s 0 COUNT x"),
        V::err("ERR value is not an integer or out of range")
    );
    assert_eq!(c.q("SSCAN s 0 NOVALUES"), V::err("ERR syntax error"));
    assert_eq!(c.q("SSCAN s 0 MATCH"), V::err("ERR syntax error"));

    let members = numbered("m", 1000);
    sadd(&mut c, "big", &members);
    let mut cursor = "0".to_string();
    let mut seen = HashSet::new();
    let mut calls = 0;
    loop {
        let reply = c.cmd(&["SSCAN", "big", &cursor, "COUNT", "50"]).items();
        calls += 1;
        seen.extend(texts(&reply[1]));
        cursor = reply[0].text();
        if cursor == "0" {
            break;
        }
        // Removals while iterating never hide members present throughout.
        if calls == 3 {
            c.q("SREM big m0 m1 m2 m3");
        }
    }
    assert!(calls > 10, "a hash table is paged");
    for m in &members[4..] {
        assert!(seen.contains(m), "{m} missed");
    }
}

#[test]
fn dump_and_restore() {
    let server = Server::start(&[]);
    let mut c = server.client();
    for (key, members) in [
        ("ints", numbered("", 5)),
        ("lp", numbered("m", 5)),
        ("ht", numbered("m", 300)),
    ] {
        sadd(&mut c, key, &members);
        let before = encoding(&mut c, key);
        let payload = c.cmd(&["DUMP", key]);
        let V::Bulk(payload) = payload else {
            panic!("no payload for {key}")
        };
        let copy = format!("{key}:copy");
        assert_eq!(
            c.cmd(&[b"RESTORE".as_ref(), copy.as_bytes(), b"0", &payload]),
            V::ok()
        );
        assert_eq!(encoding(&mut c, &copy), before, "{key}");
        assert_eq!(
            sorted(&c.cmd(&["SMEMBERS", &copy])),
            sorted(&c.cmd(&["SMEMBERS", key]))
        );
    }
}
