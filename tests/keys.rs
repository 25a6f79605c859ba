//! Integration tests of the generic (keyspace) command group against the real server binary:
//! every command, option and error, in RESP2 and RESP3, expiry (lazy and active), moves and
//! copies across databases, SCAN under concurrent writes, and DUMP / RESTORE with payloads
//! captured from real Redis servers.
// Integration test helpers: panicking is how a test reports a broken set-up.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;
use std::thread::sleep;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{Client, Server, V};

fn int(n: i64) -> V {
    V::Int(n)
}

fn err(text: &str) -> V {
    V::err(text)
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A RESP2 and a RESP3 connection; tests run their checks on both.
fn both(server: &Server) -> [Client; 2] {
    let resp2 = server.client();
    let mut resp3 = server.client();
    resp3.resp3();
    [resp2, resp3]
}

fn restore(c: &mut Client, key: &str, ttl: &str, payload: &[u8], opts: &[&str]) -> V {
    let mut args: Vec<&[u8]> = vec![b"RESTORE", key.as_bytes(), ttl.as_bytes(), payload];
    args.extend(opts.iter().map(|o| o.as_bytes()));
    c.cmd(&args)
}

fn dump(c: &mut Client, key: &str) -> V {
    c.cmd(&["DUMP", key])
}

fn sorted_keys(reply: V) -> Vec<String> {
    let mut keys: Vec<String> = reply.items().iter().map(V::text).collect();
    keys.sort();
    keys
}

// Payloads DUMPed by redis-server 7.0.15 (RDB 10) and 6.2.14 (RDB 9).
const R70_STR: &str = "000b68656c6c6f20776f726c640a000bfc49b9a6c7a034"; // "hello world"
const R70_STR_INT: &str = "00c24e61bc000a00e8848a08472ff6fb"; // "12345678"
const R70_STR_LZF: &str = "00c3094064016161e057000161610a00e8a3b507b06df271"; // 100 x "a"
const R70_HASH_LISTPACK: &str = "1028280000000600846e616d650585616c6963650683616765041e0184636974790585706172697306ff0a00819ab9e5f74c186a";
const R70_HASH_LISTPACK_INTS: &str = "104042420000000c000101dffb02c0c802f270110104836e656704f400e68ee7fdffffff098362696704f400286bee0000000009817802f2ffff7f04817902f200008004ff0a00bac07154b6377534";
const R70_HASH_LONG_VALUE: &str = "04010166c3094064017676e057000176760a009e66178459093c4e"; // f -> 100 x "v"
const R62_HASH_ZIPLIST: &str = "0d2d2d00000025000000060000046e616d650605616c696365070361676505fe1e03046369747906057061726973ff0900339ffd7922ef1d1b";
const R62_HASH_ZIPLIST_INTS: &str = "0d404747000000410000000c0000f202fefb03c0c80004f070110105036e656705e000e68ee7fdffffff0a0362696705e000286bee000000000a017803f0ffff7f05017903f0000080ff0900df04a1babd07990b";
// The bodies of R70 payloads re-footed with the RDB versions of Redis 7.2 (11), 7.4 (12) and a
// future release (13); the string and hash encodings did not change in 7.2 and 7.4.
const V11_STR: &str = "000b68656c6c6f20776f726c640b006223f4ca5b5849bd";
const V12_STR_LZF: &str = "00c3094064016161e057000161610c0023d581c74a476c38";
const V12_HASH_LISTPACK: &str = "1028280000000600846e616d650585616c6963650683616765041e0184636974790585706172697306ff0c004aec8d250d668623";
const V13_STR: &str = "000b68656c6c6f20776f726c640d00a955c00aa172d7f4";
// A valid payload of a type this server does not hold: a Redis 7.4 hash with field expiry
// (listpack-ex).
const HASH_WITH_FIELD_TTL: &str = "1907070000000000ff0a00e7c743b58fb02439";
// How this server DUMPs the two hashes above (plain field/value form); redis-server 7.0.15
// restores these to the same fields and values.
const OURS_HASH: &str =
    "0403046e616d6505616c69636503616765c01e04636974790570617269730a00652d640aeea8c3b3";
const OURS_HASH_INTS: &str = "0406c001c0fbc1c800c270110100036e65670b2d39303030303030303030036269670a343030303030303030300178c2ffff7f000179c2000080ff0a00978407f242eb0531";

#[test]
fn del_unlink_exists_touch_type() {
    let server = Server::start(&[]);
    for (i, mut c) in both(&server).into_iter().enumerate() {
        let (a, b, h) = (format!("a{i}"), format!("b{i}"), format!("h{i}"));
        c.cmd(&["SET", &a, "1"]);
        c.cmd(&["SET", &b, "2"]);
        assert_eq!(restore(&mut c, &h, "0", &hex(OURS_HASH), &[]), V::ok());
        assert_eq!(c.cmd(&["EXISTS", &a, &a, "nosuch", &b]), int(3));
        assert_eq!(c.cmd(&["TOUCH", &a, &a, "nosuch"]), int(2));
        assert_eq!(c.cmd(&["TYPE", &a]), V::Simple("string".into()));
        assert_eq!(c.cmd(&["TYPE", &h]), V::Simple("hash".into()));
        assert_eq!(c.cmd(&["TYPE", "nosuch"]), V::Simple("none".into()));
        assert_eq!(c.cmd(&["DEL", &a, &a, "nosuch"]), int(1));
        assert_eq!(c.cmd(&["UNLINK", &b, &h, "nosuch"]), int(2));
        assert_eq!(c.cmd(&["EXISTS", &a, &b, &h]), int(0));
        for cmd in ["DEL", "UNLINK", "EXISTS", "TOUCH", "TYPE"] {
            assert_eq!(
                c.cmd(&[cmd]),
                err(&format!(
                    "ERR wrong number of arguments for '{}' command",
                    cmd.to_lowercase()
                ))
            );
        }
    }
}

#[test]
fn rename_and_renamenx() {
    let server = Server::start(&[]);
    for (i, mut c) in both(&server).into_iter().enumerate() {
        let (a, b) = (format!("a{i}"), format!("b{i}"));
        assert_eq!(c.cmd(&["RENAME", "nosuch", &b]), err("ERR no such key"));
        assert_eq!(
            c.cmd(&["RENAME", "nosuch", "nosuch"]),
            err("ERR no such key")
        );
        assert_eq!(c.cmd(&["RENAMENX", "nosuch", &b]), err("ERR no such key"));
        c.cmd(&["SET", &a, "v1"]);
        assert_eq!(c.cmd(&["RENAME", &a, &a]), V::ok());
        assert_eq!(c.cmd(&["RENAMENX", &a, &a]), int(0));
        c.cmd(&["SET", &b, "v2"]);
        assert_eq!(c.cmd(&["RENAMENX", &a, &b]), int(0));
        assert_eq!(c.cmd(&["PEXPIRE", &a, "100000"]), int(1));
        assert_eq!(c.cmd(&["EXPIRE", &b, "500"]), int(1));
        // The destination's value and TTL are replaced by the source's.
        assert_eq!(c.cmd(&["RENAME", &a, &b]), V::ok());
        assert_eq!(c.cmd(&["GET", &b]), V::bulk("v1"));
        assert_eq!(c.cmd(&["EXISTS", &a]), int(0));
        let pttl = c.cmd(&["PTTL", &b]).text().parse::<i64>().unwrap();
        assert!((90_000..=100_000).contains(&pttl), "{pttl}");
        assert_eq!(c.cmd(&["RENAMENX", &b, &a]), int(1));
        assert_eq!(c.cmd(&["GET", &a]), V::bulk("v1"));
        assert_eq!(
            c.cmd(&["RENAME", &a]),
            err("ERR wrong number of arguments for 'rename' command")
        );
    }
}

#[test]
fn copy_within_and_across_databases() {
    let server = Server::start(&[]);
    for (i, mut c) in both(&server).into_iter().enumerate() {
        let (src, dst) = (format!("src{i}"), format!("dst{i}"));
        c.cmd(&["SET", &src, "v"]);
        c.cmd(&["PEXPIRE", &src, "100000"]);
        assert_eq!(
            c.cmd(&["COPY", &src, &src]),
            err("ERR source and destination objects are the same")
        );
        assert_eq!(
            c.cmd(&["COPY", &src, &src, "DB", "0"]),
            err("ERR source and destination objects are the same")
        );
        assert_eq!(
            c.cmd(&["COPY", &src, &dst, "DB", "x"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            c.cmd(&["COPY", &src, &dst, "DB", "2147483648"]),
            err("ERR value is out of range, value must between -2147483648 and 2147483647")
        );
        for db in ["16", "-1"] {
            assert_eq!(
                c.cmd(&["COPY", &src, &dst, "DB", db]),
                err("ERR DB index is out of range")
            );
        }
        assert_eq!(c.cmd(&["COPY", &src, &dst, "DB"]), err("ERR syntax error"));
        assert_eq!(c.cmd(&["COPY", &src, &dst, "FOO"]), err("ERR syntax error"));
        assert_eq!(c.cmd(&["COPY", "nosuch", &dst]), int(0));

        // Same database: value and TTL; the copy is independent of its source.
        assert_eq!(c.cmd(&["COPY", &src, &dst]), int(1));
        assert_eq!(c.cmd(&["GET", &dst]), V::bulk("v"));
        let pttl = c.cmd(&["PTTL", &dst]).text().parse::<i64>().unwrap();
        assert!((90_000..=100_000).contains(&pttl), "{pttl}");
        c.cmd(&["SET", &src, "changed"]);
        assert_eq!(c.cmd(&["GET", &dst]), V::bulk("v"));
        assert_eq!(c.cmd(&["COPY", &src, &dst]), int(0));
        assert_eq!(c.cmd(&["COPY", &src, &dst, "REPLACE"]), int(1));
        assert_eq!(c.cmd(&["GET", &dst]), V::bulk("changed"));
        assert_eq!(c.cmd(&["TTL", &dst]), int(-1), "SET cleared the TTL");

        // Another database, same name allowed.
        assert_eq!(c.cmd(&["COPY", &src, &src, "db", "3"]), int(1));
        assert_eq!(c.cmd(&["COPY", &src, &src, "db", "3"]), int(0));
        assert_eq!(c.cmd(&["COPY", &src, &src, "replace", "db", "3"]), int(1));
        assert_eq!(c.cmd(&["SELECT", "3"]), V::ok());
        assert_eq!(c.cmd(&["GET", &src]), V::bulk("changed"));
        assert_eq!(c.cmd(&["SELECT", "0"]), V::ok());
        assert_eq!(c.cmd(&["GET", &src]), V::bulk("changed"));
    }
}

#[test]
fn move_between_databases() {
    let server = Server::start(&[]);
    for (i, mut c) in both(&server).into_iter().enumerate() {
        let k = format!("k{i}");
        c.cmd(&["SET", &k, "v"]);
        c.cmd(&["EXPIRE", &k, "100"]);
        assert_eq!(
            c.cmd(&["MOVE", &k, "abc"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            c.cmd(&["MOVE", &k, "4294967297"]),
            err("ERR value is out of range, value must between -2147483648 and 2147483647")
        );
        for db in ["-1", "16"] {
            assert_eq!(
                c.cmd(&["MOVE", &k, db]),
                err("ERR DB index is out of range")
            );
        }
        assert_eq!(
            c.cmd(&["MOVE", &k, "0"]),
            err("ERR source and destination objects are the same")
        );
        assert_eq!(
            c.cmd(&["MOVE", "nosuch", "0"]),
            err("ERR source and destination objects are the same")
        );
        assert_eq!(c.cmd(&["MOVE", "nosuch", "1"]), int(0));

        assert_eq!(c.cmd(&["MOVE", &k, "1"]), int(1));
        assert_eq!(c.cmd(&["EXISTS", &k]), int(0));
        c.cmd(&["SET", &k, "again"]);
        assert_eq!(c.cmd(&["MOVE", &k, "1"]), int(0), "taken in the target");
        assert_eq!(c.cmd(&["GET", &k]), V::bulk("again"));
        c.cmd(&["SELECT", "1"]);
        assert_eq!(c.cmd(&["GET", &k]), V::bulk("v"));
        let ttl = c.cmd(&["TTL", &k]).text().parse::<i64>().unwrap();
        assert!((95..=100).contains(&ttl), "the TTL moves along: {ttl}");
        assert_eq!(
            c.cmd(&["MOVE", &k]),
            err("ERR wrong number of arguments for 'move' command")
        );
        c.cmd(&["SELECT", "0"]);
    }
}

#[test]
fn keys_glob_patterns() {
    let server = Server::start(&[]);
    let mut c = server.client();
    for k in [
        "hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo", "other",
    ] {
        c.cmd(&["SET", k, "1"]);
    }
    c.cmd(&["PEXPIRE", "other", "1"]);
    sleep(Duration::from_millis(20));
    assert_eq!(
        sorted_keys(c.q("KEYS *")),
        ["h*llo", "hallo", "heeeello", "hello", "hllo", "hxllo"]
    );
    assert_eq!(
        sorted_keys(c.q("KEYS h?llo")),
        ["h*llo", "hallo", "hello", "hxllo"]
    );
    assert_eq!(sorted_keys(c.q("KEYS h*llo")).len(), 6);
    assert_eq!(sorted_keys(c.q("KEYS h[ae]llo")), ["hallo", "hello"]);
    assert_eq!(
        sorted_keys(c.q("KEYS h[^e]llo")),
        ["h*llo", "hallo", "hxllo"]
    );
    assert_eq!(sorted_keys(c.q("KEYS h[a-b]llo")), ["hallo"]);
    assert_eq!(sorted_keys(c.cmd(&["KEYS", "h\\*llo"])), ["h*llo"]);
    assert_eq!(c.q("KEYS nomatch*"), V::Array(vec![]));
    c.resp3();
    assert_eq!(c.q("KEYS hel*"), V::Array(vec![V::bulk("hello")]));
    assert_eq!(
        c.q("KEYS"),
        err("ERR wrong number of arguments for 'keys' command")
    );
}

#[test]
fn scan_options_and_errors() {
    let server = Server::start(&[]);
    for mut c in both(&server) {
        c.q("SET s:1 a");
        c.q("SET s:2 b");
        c.q("SET t:1 c");
        assert_eq!(
            restore(&mut c, "h:1", "0", &hex(OURS_HASH), &["REPLACE"]),
            V::ok()
        );
        for bad in ["abc", " 1", "1x", "18446744073709551616", "+"] {
            assert_eq!(c.cmd(&["SCAN", bad]), err("ERR invalid cursor"), "{bad}");
        }
        assert_eq!(c.q("SCAN 0 COUNT 0"), err("ERR syntax error"));
        assert_eq!(c.q("SCAN 0 COUNT -1"), err("ERR syntax error"));
        assert_eq!(
            c.q("SCAN 0 COUNT x"),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(c.q("SCAN 0 MATCH"), err("ERR syntax error"));
        assert_eq!(c.q("SCAN 0 FOO bar"), err("ERR syntax error"));
        assert_eq!(
            c.q("SCAN"),
            err("ERR wrong number of arguments for 'scan' command")
        );

        let full = |c: &mut Client, opts: &[&str]| -> Vec<String> {
            let mut cursor = "0".to_string();
            let mut found = Vec::new();
            loop {
                let mut args = vec!["SCAN", cursor.as_str()];
                args.extend_from_slice(opts);
                let reply = c.cmd(&args).items();
                assert!(matches!(reply[0], V::Bulk(_)), "cursor is a bulk string");
                found.extend(reply[1].items().iter().map(V::text));
                cursor = reply[0].text();
                if cursor == "0" {
                    break;
                }
            }
            found.sort();
            found.dedup();
            found
        };
        assert_eq!(full(&mut c, &[]), ["h:1", "s:1", "s:2", "t:1"]);
        assert_eq!(
            full(&mut c, &["MATCH", "s:*", "COUNT", "1"]),
            ["s:1", "s:2"]
        );
        assert_eq!(full(&mut c, &["TYPE", "hash"]), ["h:1"]);
        assert_eq!(
            full(&mut c, &["type", "STRING", "match", "*:1"]),
            ["s:1", "t:1"]
        );
        assert!(full(&mut c, &["TYPE", "nosuchtype"]).is_empty());
        // Cursors are parsed like strtoul: signs and leading zeros pass; -1 wraps around.
        for odd in ["+0", "00", "", "-1"] {
            let reply = c.cmd(&["SCAN", odd, "COUNT", "1000"]).items();
            assert_eq!(reply.len(), 2, "{odd}");
        }
        c.q("DEL s:1 s:2 t:1 h:1");
    }
}

#[test]
fn scan_returns_every_key_present_throughout() {
    for shards in ["1", "16"] {
        let server = Server::start(&["--shards", shards]);
        let mut c = server.client();
        let mut w = server.client();
        for i in 0..500 {
            c.cmd(&["SET", &format!("stable:{i}"), "1"]);
            c.cmd(&["SET", &format!("gone:{i}"), "1"]);
        }
        let mut seen = HashSet::new();
        let mut cursor = "0".to_string();
        let mut step = 0;
        loop {
            let reply = c.cmd(&["SCAN", &cursor, "COUNT", "20"]).items();
            seen.extend(reply[1].items().iter().map(V::text));
            cursor = reply[0].text();
            if cursor == "0" {
                break;
            }
            // Between steps another client deletes and creates keys, moving others around.
            for j in 0..10 {
                let n = step * 10 + j;
                w.cmd(&["DEL", &format!("gone:{n}")]);
                w.cmd(&["SET", &format!("new:{n}"), "1"]);
            }
            step += 1;
            assert!(step < 10_000, "the iteration must end");
        }
        let missing: Vec<_> = (0..500)
            .map(|i| format!("stable:{i}"))
            .filter(|k| !seen.contains(k))
            .collect();
        assert!(
            missing.is_empty(),
            "shards {shards}: never returned {missing:?}"
        );
    }
}

#[test]
fn randomkey_only_returns_live_keys() {
    let server = Server::start(&[]);
    for mut c in both(&server) {
        assert_eq!(c.q("RANDOMKEY"), V::Nil);
        c.q("SET only 1");
        assert_eq!(c.q("RANDOMKEY"), V::bulk("only"));
        c.q("PEXPIRE only 1");
        sleep(Duration::from_millis(20));
        assert_eq!(c.q("RANDOMKEY"), V::Nil);
        for i in 0..20 {
            c.cmd(&["SET", &format!("r{i}"), "1"]);
        }
        let key = c.q("RANDOMKEY").text();
        assert!(key.starts_with('r'), "{key}");
        assert_eq!(
            c.q("RANDOMKEY x"),
            err("ERR wrong number of arguments for 'randomkey' command")
        );
        for i in 0..20 {
            c.cmd(&["DEL", &format!("r{i}")]);
        }
    }
}

/// A string's encoding and sharing are decided by the command that wrote it, as in Redis: SET
/// and INCR store integers (0..9999 as shared objects), APPEND and SETRANGE leave a raw
/// string, INCRBYFLOAT a text one; COPY keeps the encoding but not the sharing; RENAME and
/// MOVE keep the object.
#[test]
fn string_encodings_follow_the_writing_command() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let enc = |c: &mut Client, key: &str| c.cmd(&["OBJECT", "ENCODING", key]).text();
    let refcount = |c: &mut Client, key: &str| c.cmd(&["OBJECT", "REFCOUNT", key]);
    const SHARED: V = V::Int(2147483647);

    c.q("SET a 1");
    c.q("APPEND a 2");
    assert_eq!(
        (enc(&mut c, "a"), refcount(&mut c, "a")),
        ("raw".into(), int(1))
    );
    c.q("APPEND fresh 7");
    assert_eq!(
        (enc(&mut c, "fresh"), refcount(&mut c, "fresh")),
        ("int".into(), SHARED)
    );
    c.q("SETRANGE sr 0 12");
    assert_eq!(enc(&mut c, "sr"), "raw");
    c.q("INCR sr");
    assert_eq!(
        (enc(&mut c, "sr"), refcount(&mut c, "sr")),
        ("int".into(), SHARED)
    );
    c.q("INCRBY sr 100000");
    assert_eq!(
        (enc(&mut c, "sr"), refcount(&mut c, "sr")),
        ("int".into(), int(1))
    );
    c.q("INCRBYFLOAT f 1");
    assert_eq!(
        (enc(&mut c, "f"), refcount(&mut c, "f")),
        ("embstr".into(), int(1))
    );
    c.q("SET abc abc");
    c.q("SETRANGE abc 0 x");
    assert_eq!(enc(&mut c, "abc"), "raw");

    c.q("SET s 5");
    c.q("COPY s copied");
    assert_eq!(
        (enc(&mut c, "copied"), refcount(&mut c, "copied")),
        ("int".into(), int(1))
    );
    c.q("COPY a copied_raw");
    assert_eq!(enc(&mut c, "copied_raw"), "raw");
    c.q("RENAME s renamed");
    assert_eq!(refcount(&mut c, "renamed"), SHARED);
    c.q("MOVE renamed 1");
    c.q("SELECT 1");
    assert_eq!(refcount(&mut c, "renamed"), SHARED);
    c.q("SELECT 0");

    // RESTORE stores a value as SET would.
    let payload = match c.q("DUMP a") {
        V::Bulk(p) => p,
        other => panic!("DUMP: {other:?}"),
    };
    c.cmd(&[b"RESTORE".as_ref(), b"restored", b"0", &payload]);
    assert_eq!(enc(&mut c, "restored"), "int");

    // Sharing follows the eviction policy in force when the value is written.
    c.q("CONFIG SET maxmemory-policy allkeys-lru");
    c.q("CONFIG SET maxmemory 100mb");
    c.q("SET private 5");
    assert_eq!(refcount(&mut c, "private"), int(1));
    c.q("CONFIG SET maxmemory 0");
    assert_eq!(refcount(&mut c, "private"), int(1));
    c.q("SET shared 5");
    assert_eq!(refcount(&mut c, "shared"), SHARED);
}

/// Under an LFU `maxmemory-policy` accesses update a logarithmic frequency counter, which
/// OBJECT FREQ reports and RESTORE ... FREQ sets; a new key starts at 5 and its first access
/// always counts; overwriting a key keeps its counter.
#[test]
fn object_freq_under_an_lfu_policy() {
    let server = Server::start(&["--maxmemory-policy", "allkeys-lfu"]);
    let mut c = server.client();
    c.q("SET k v");
    assert_eq!(c.q("OBJECT FREQ k"), int(5));
    assert_eq!(
        c.q("EXISTS k"),
        int(1),
        "EXISTS does not count as an access"
    );
    assert_eq!(c.q("OBJECT FREQ k"), int(5));
    c.q("GET k");
    assert_eq!(c.q("OBJECT FREQ k"), int(6));
    c.q("SET k other");
    assert!(matches!(c.q("OBJECT FREQ k"), V::Int(6 | 7)));
    for _ in 0..200 {
        c.q("GET k");
    }
    let V::Int(after) = c.q("OBJECT FREQ k") else {
        panic!("OBJECT FREQ is an integer")
    };
    assert!((7..60).contains(&after), "logarithmic growth: {after}");
    assert!(c.q("OBJECT IDLETIME k").is_error());
    let payload = match c.q("DUMP k") {
        V::Bulk(p) => p,
        other => panic!("DUMP: {other:?}"),
    };
    c.cmd(&[b"RESTORE".as_ref(), b"r", b"0", &payload, b"FREQ", b"100"]);
    assert_eq!(c.q("OBJECT FREQ r"), int(100));
    c.cmd(&[
        b"RESTORE".as_ref(),
        b"i",
        b"0",
        &payload,
        b"IDLETIME",
        b"100",
    ]);
    assert_eq!(
        c.q("OBJECT FREQ i"),
        int(5),
        "IDLETIME is ignored under LFU"
    );
    assert_eq!(c.q("OBJECT FREQ nosuch"), V::Nil);

    c.q("CONFIG SET maxmemory-policy noeviction");
    assert!(c.q("OBJECT FREQ k").is_error());
    c.cmd(&[b"RESTORE".as_ref(), b"f", b"0", &payload, b"FREQ", b"100"]);
    assert_eq!(
        c.q("OBJECT IDLETIME f"),
        int(0),
        "FREQ is ignored without LFU"
    );
}

#[test]
fn object_encoding_refcount_help() {
    let server = Server::start(&[
        "--hash-max-listpack-entries",
        "4",
        "--hash-max-listpack-value",
        "8",
    ]);
    for mut c in both(&server) {
        let enc = |c: &mut Client, key: &str| c.cmd(&["OBJECT", "ENCODING", key]);
        c.q("SET i 12345");
        c.q("SET neg -9223372036854775808");
        c.q("SET lead 007");
        c.cmd(&["SET", "e", &"x".repeat(44)]);
        c.cmd(&["SET", "r", &"x".repeat(45)]);
        assert_eq!(enc(&mut c, "i"), V::bulk("int"));
        assert_eq!(enc(&mut c, "neg"), V::bulk("int"));
        assert_eq!(enc(&mut c, "lead"), V::bulk("embstr"));
        assert_eq!(enc(&mut c, "e"), V::bulk("embstr"));
        assert_eq!(enc(&mut c, "r"), V::bulk("raw"));
        assert_eq!(enc(&mut c, "nosuch"), V::Nil);
        // 3 fields, values within 8 bytes: listpack. 6 fields: too many. Long value: too long.
        restore(&mut c, "small", "0", &hex(OURS_HASH), &["REPLACE"]);
        restore(&mut c, "many", "0", &hex(OURS_HASH_INTS), &["REPLACE"]);
        restore(&mut c, "long", "0", &hex(R70_HASH_LONG_VALUE), &["REPLACE"]);
        assert_eq!(enc(&mut c, "small"), V::bulk("listpack"));
        assert_eq!(enc(&mut c, "many"), V::bulk("hashtable"));
        assert_eq!(enc(&mut c, "long"), V::bulk("hashtable"));

        // Redis shares the integers 0..9999 (refcount INT_MAX).
        c.q("SET shared 9999");
        assert_eq!(c.q("OBJECT REFCOUNT shared"), int(2147483647));
        assert_eq!(c.q("OBJECT REFCOUNT i"), int(1));
        assert_eq!(c.q("OBJECT REFCOUNT small"), int(1));
        assert_eq!(c.q("OBJECT REFCOUNT nosuch"), V::Nil);

        assert_eq!(
            c.q("OBJECT FREQ i"),
            err(
                "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
            )
        );
        assert_eq!(c.q("OBJECT FREQ nosuch"), V::Nil);
        assert_eq!(c.q("OBJECT IDLETIME nosuch"), V::Nil);

        let help = c.q("OBJECT HELP").items();
        assert_eq!(help.len(), 15);
        assert_eq!(
            help[0],
            V::Simple("OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:".into())
        );
        assert_eq!(help[14], V::Simple("    Prints this help.".into()));
        assert_eq!(
            c.q("OBJECT"),
            err("ERR wrong number of arguments for 'object' command")
        );
        assert_eq!(
            c.q("OBJECT ENCODING"),
            err("ERR wrong number of arguments for 'object|encoding' command")
        );
        assert_eq!(
            c.q("OBJECT ENCODING a b"),
            err("ERR wrong number of arguments for 'object|encoding' command")
        );
        assert_eq!(
            c.q("OBJECT HELP x"),
            err("ERR wrong number of arguments for 'object|help' command")
        );
        assert_eq!(
            c.q("OBJECT foo bar"),
            err("ERR unknown subcommand 'foo'. Try OBJECT HELP.")
        );
    }
}

#[test]
fn object_idletime_follows_access() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(
        restore(&mut c, "idle", "0", &hex(R70_STR), &["IDLETIME", "1000"]),
        V::ok()
    );
    let idle = c.q("OBJECT IDLETIME idle").text().parse::<i64>().unwrap();
    assert!((1000..=1002).contains(&idle), "{idle}");
    // Introspection does not count as access; a read does.
    assert_eq!(c.q("TYPE idle"), V::Simple("string".into()));
    assert_eq!(c.q("EXISTS idle"), int(1));
    assert!(c.q("OBJECT IDLETIME idle").text().parse::<i64>().unwrap() >= 1000);
    assert_eq!(c.q("GET idle"), V::bulk("hello world"));
    assert_eq!(c.q("OBJECT IDLETIME idle"), int(0));
    restore(
        &mut c,
        "idle",
        "0",
        &hex(R70_STR),
        &["REPLACE", "IDLETIME", "500"],
    );
    assert!(c.q("OBJECT IDLETIME idle").text().parse::<i64>().unwrap() >= 500);
    assert_eq!(c.q("TOUCH idle"), int(1));
    assert_eq!(c.q("OBJECT IDLETIME idle"), int(0));
}

/// A write command's lookup counts as an access even when the command then fails on the
/// type or on the old value, as Redis's `lookupKeyWrite` comes first.
#[test]
fn failed_writes_still_count_as_access() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("HSET h f v");
    let V::Bulk(hash) = dump(&mut c, "h") else {
        panic!("DUMP of a hash is a bulk string")
    };
    let string = hex(R70_STR);
    let cases: [(&[u8], &[&str]); 8] = [
        (&string, &["INCR", "s"]),
        (&string, &["DECRBY", "s", "2"]),
        (&string, &["INCRBYFLOAT", "s", "1"]),
        (&string, &["HSET", "s", "f", "v"]),
        (&string, &["APPEND", "s", "x"]),
        (&string, &["SETRANGE", "s", "0", ""]),
        (&hash, &["HINCRBY", "s", "f", "1"]),
        (&hash, &["INCR", "s"]),
    ];
    for (payload, command) in cases {
        restore(&mut c, "s", "0", payload, &["REPLACE", "IDLETIME", "1000"]);
        let idle = c.q("OBJECT IDLETIME s").text().parse::<i64>().unwrap();
        assert!(idle >= 1000, "{idle}");
        c.cmd(command);
        assert_eq!(c.q("OBJECT IDLETIME s"), int(0), "{command:?}");
    }
}

/// A command records one access per key however often it looks at it: INCR and HSET (a
/// write lookup, then the write) take a new value's counter from 5 to exactly 6, while a
/// second access would add one more with probability 1/11.
#[test]
fn one_access_per_command_under_lfu() {
    let server = Server::start(&["--maxmemory-policy", "allkeys-lfu"]);
    let mut c = server.client();
    for i in 0..40 {
        let (n, h) = (format!("n{i}"), format!("h{i}"));
        c.cmd(&["SET", &n, "10000"]);
        assert_eq!(c.cmd(&["INCR", &n]), int(10001));
        assert_eq!(c.cmd(&["OBJECT", "FREQ", &n]), int(6), "{n}");
        c.cmd(&["HSET", &h, "f", "1"]);
        c.cmd(&["HSET", &h, "f", "2"]);
        assert_eq!(c.cmd(&["OBJECT", "FREQ", &h]), int(6), "{h}");
    }
}

#[test]
fn object_under_an_lfu_policy() {
    let server = Server::start(&["--maxmemory-policy", "allkeys-lfu"]);
    let mut c = server.client();
    c.q("SET k v");
    assert_eq!(
        c.q("OBJECT IDLETIME k"),
        err(
            "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
        )
    );
    assert_eq!(c.q("OBJECT FREQ k"), int(5));
    assert_eq!(c.q("OBJECT ENCODING k"), V::bulk("embstr"));
}

#[test]
fn restore_payloads_from_real_redis() {
    let server = Server::start(&[]);
    for (i, mut c) in both(&server).into_iter().enumerate() {
        let key = |name: &str| format!("{name}{i}");
        for (name, payload, value) in [
            ("str", R70_STR, "hello world".to_string()),
            ("int", R70_STR_INT, "12345678".into()),
            ("lzf", R70_STR_LZF, "a".repeat(100)),
            ("v11", V11_STR, "hello world".into()),
            ("v12", V12_STR_LZF, "a".repeat(100)),
        ] {
            assert_eq!(
                restore(&mut c, &key(name), "0", &hex(payload), &[]),
                V::ok()
            );
            assert_eq!(c.cmd(&["GET", &key(name)]), V::bulk(&value), "{name}");
        }
        // Short strings dump exactly as Redis dumps them.
        assert_eq!(dump(&mut c, &key("str")), V::Bulk(hex(R70_STR)));
        assert_eq!(dump(&mut c, &key("int")), V::Bulk(hex(R70_STR_INT)));

        // Hashes in every compact encoding: the content shows in our (plain) DUMP of them.
        for (name, payload, ours) in [
            ("lp", R70_HASH_LISTPACK, OURS_HASH),
            ("zl", R62_HASH_ZIPLIST, OURS_HASH),
            ("lp12", V12_HASH_LISTPACK, OURS_HASH),
            ("lpint", R70_HASH_LISTPACK_INTS, OURS_HASH_INTS),
            ("zlint", R62_HASH_ZIPLIST_INTS, OURS_HASH_INTS),
        ] {
            assert_eq!(
                restore(&mut c, &key(name), "0", &hex(payload), &[]),
                V::ok()
            );
            assert_eq!(c.cmd(&["TYPE", &key(name)]), V::Simple("hash".into()));
            assert_eq!(dump(&mut c, &key(name)), V::Bulk(hex(ours)), "{name}");
        }

        // Our own payloads restore here too.
        let V::Bulk(payload) = dump(&mut c, &key("lzf")) else {
            panic!("DUMP of an existing key is a bulk string")
        };
        assert_eq!(restore(&mut c, &key("copy"), "0", &payload, &[]), V::ok());
        assert_eq!(c.cmd(&["GET", &key("copy")]), V::bulk(&"a".repeat(100)));
        assert_eq!(dump(&mut c, "nosuch"), V::Nil);
        assert_eq!(
            c.q("DUMP"),
            err("ERR wrong number of arguments for 'dump' command")
        );
    }
}

#[test]
fn restore_options_and_errors() {
    let server = Server::start(&[]);
    for (i, mut c) in both(&server).into_iter().enumerate() {
        let k = format!("k{i}");
        let payload = hex(R70_STR);
        c.cmd(&["SET", &k, "old"]);
        let busy = err("BUSYKEY Target key name already exists.");
        assert_eq!(restore(&mut c, &k, "0", b"junk", &[]), busy);
        assert_eq!(
            restore(&mut c, &k, "abc", b"junk", &[]),
            busy,
            "BUSYKEY comes first"
        );
        assert_eq!(
            restore(&mut c, &k, "-1", b"junk", &["REPLACE"]),
            err("ERR Invalid TTL value, must be >= 0")
        );
        assert_eq!(
            restore(&mut c, &k, "abc", b"junk", &["REPLACE"]),
            err("ERR value is not an integer or out of range")
        );
        let wrong = err("ERR DUMP payload version or checksum are wrong");
        assert_eq!(restore(&mut c, &k, "0", b"junk", &["REPLACE"]), wrong);
        let mut flipped = payload.clone();
        flipped[3] ^= 1;
        assert_eq!(restore(&mut c, &k, "0", &flipped, &["REPLACE"]), wrong);
        assert_eq!(restore(&mut c, &k, "0", &hex(V13_STR), &["REPLACE"]), wrong);
        let bad = err("ERR Bad data format");
        assert_eq!(
            restore(&mut c, &k, "0", &hex(HASH_WITH_FIELD_TTL), &["REPLACE"]),
            bad
        );
        assert_eq!(
            c.cmd(&["GET", &k]),
            V::bulk("old"),
            "failed RESTOREs change nothing"
        );

        // Option parsing comes before everything else.
        let syntax = err("ERR syntax error");
        assert_eq!(restore(&mut c, &k, "0", &payload, &["FOO"]), syntax);
        assert_eq!(restore(&mut c, &k, "0", &payload, &["IDLETIME"]), syntax);
        assert_eq!(
            restore(&mut c, &k, "0", &payload, &["IDLETIME", "1", "FREQ", "1"]),
            syntax
        );
        assert_eq!(
            restore(&mut c, &k, "0", &payload, &["FREQ", "1", "IDLETIME", "1"]),
            syntax
        );
        assert_eq!(
            restore(&mut c, &k, "0", &payload, &["IDLETIME", "-1"]),
            err("ERR Invalid IDLETIME value, must be >= 0")
        );
        assert_eq!(
            restore(&mut c, &k, "0", &payload, &["FREQ", "256"]),
            err("ERR Invalid FREQ value, must be >= 0 and <= 255")
        );
        assert_eq!(
            restore(&mut c, &k, "0", &payload, &["IDLETIME", "x"]),
            err("ERR value is not an integer or out of range")
        );

        // REPLACE, a relative TTL, an absolute TTL, FREQ (validated; recorded under LFU only).
        assert_eq!(
            restore(&mut c, &k, "5000", &payload, &["replace", "freq", "100"]),
            V::ok()
        );
        assert_eq!(c.cmd(&["GET", &k]), V::bulk("hello world"));
        let pttl = c.cmd(&["PTTL", &k]).text().parse::<i64>().unwrap();
        assert!((4000..=5000).contains(&pttl), "{pttl}");
        let at = now_ms() + 60_000;
        assert_eq!(
            restore(
                &mut c,
                &k,
                &at.to_string(),
                &payload,
                &["REPLACE", "ABSTTL"]
            ),
            V::ok()
        );
        assert_eq!(c.cmd(&["PEXPIRETIME", &k]), int(at));
        // A time already past creates nothing, and REPLACE still removes the old key.
        let other = format!("other{i}");
        assert_eq!(restore(&mut c, &other, "1", &payload, &["ABSTTL"]), V::ok());
        assert_eq!(c.cmd(&["EXISTS", &other]), int(0));
        assert_eq!(
            restore(&mut c, &k, "1", &payload, &["ABSTTL", "REPLACE"]),
            V::ok()
        );
        assert_eq!(c.cmd(&["EXISTS", &k]), int(0));
        // A relative TTL so large that it wraps around counts as past, as in Redis.
        assert_eq!(
            restore(&mut c, &k, "9223372036854775807", &payload, &[]),
            V::ok()
        );
        assert_eq!(c.cmd(&["EXISTS", &k]), int(0));
        assert_eq!(
            c.q("RESTORE a 0"),
            err("ERR wrong number of arguments for 'restore' command")
        );
    }
}

#[test]
fn expire_options_and_errors() {
    let server = Server::start(&[]);
    for (i, mut c) in both(&server).into_iter().enumerate() {
        let k = format!("k{i}");
        c.cmd(&["SET", &k, "v"]);
        let e = |c: &mut Client, args: &[&str]| {
            let mut all = vec![args[0], k.as_str()];
            all.extend_from_slice(&args[1..]);
            c.cmd(&all)
        };
        assert_eq!(
            e(&mut c, &["EXPIRE", "100", "NX", "XX"]),
            err("ERR NX and XX, GT or LT options at the same time are not compatible")
        );
        assert_eq!(
            e(&mut c, &["EXPIRE", "100", "nx", "gt"]),
            err("ERR NX and XX, GT or LT options at the same time are not compatible")
        );
        assert_eq!(
            e(&mut c, &["EXPIRE", "100", "GT", "LT"]),
            err("ERR GT and LT options at the same time are not compatible")
        );
        assert_eq!(
            e(&mut c, &["EXPIRE", "100", "foo"]),
            err("ERR Unsupported option foo")
        );
        assert_eq!(
            e(&mut c, &["EXPIRE", "abc"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            c.cmd(&["EXPIRE", "nosuch", "abc", "foo"]),
            err("ERR Unsupported option foo"),
            "options are checked before the time"
        );
        for (cmd, time) in [
            ("EXPIRE", "9223372036854775807"),
            ("EXPIRE", "-9223372036854775808"),
            ("PEXPIRE", "9223372036854775807"),
            ("EXPIREAT", "9223372036854776"),
        ] {
            assert_eq!(
                e(&mut c, &[cmd, time]),
                err(&format!(
                    "ERR invalid expire time in '{}' command",
                    cmd.to_lowercase()
                ))
            );
        }
        assert_eq!(c.cmd(&["EXPIRE", "nosuch", "10"]), int(0));
        assert_eq!(c.cmd(&["EXPIRE", "nosuch", "10", "NX"]), int(0));

        // NX / XX / GT / LT against a key without a TTL (an infinite one for GT / LT).
        assert_eq!(e(&mut c, &["EXPIRE", "100", "XX"]), int(0));
        assert_eq!(e(&mut c, &["EXPIRE", "100", "GT"]), int(0));
        assert_eq!(e(&mut c, &["TTL"]), int(-1));
        assert_eq!(e(&mut c, &["EXPIRE", "100", "NX"]), int(1));
        assert_eq!(e(&mut c, &["TTL"]), int(100));
        assert_eq!(e(&mut c, &["EXPIRE", "200", "NX"]), int(0));
        assert_eq!(e(&mut c, &["EXPIRE", "200", "XX", "GT"]), int(1));
        assert_eq!(e(&mut c, &["EXPIRE", "150", "GT"]), int(0));
        assert_eq!(e(&mut c, &["EXPIRE", "300", "LT"]), int(0));
        assert_eq!(e(&mut c, &["EXPIRE", "150", "LT"]), int(1));
        assert_eq!(e(&mut c, &["TTL"]), int(150));
        assert_eq!(e(&mut c, &["PERSIST"]), int(1));
        assert_eq!(e(&mut c, &["PERSIST"]), int(0));
        assert_eq!(c.cmd(&["PERSIST", "nosuch"]), int(0));
        assert_eq!(
            e(&mut c, &["EXPIRE", "50", "LT"]),
            int(1),
            "LT beats no TTL"
        );

        // Every unit and base, and how each reader reports it.
        let at_ms = now_ms() + 100_000;
        assert_eq!(e(&mut c, &["PEXPIREAT", &at_ms.to_string()]), int(1));
        assert_eq!(e(&mut c, &["PEXPIRETIME"]), int(at_ms));
        assert_eq!(e(&mut c, &["EXPIRETIME"]), int((at_ms + 500) / 1000));
        let pttl = e(&mut c, &["PTTL"]).text().parse::<i64>().unwrap();
        assert!((99_000..=100_000).contains(&pttl), "{pttl}");
        assert_eq!(e(&mut c, &["TTL"]), int(100));
        assert_eq!(
            e(&mut c, &["EXPIREAT", &(at_ms / 1000 + 50).to_string()]),
            int(1)
        );
        assert_eq!(e(&mut c, &["EXPIRETIME"]), int(at_ms / 1000 + 50));
        assert_eq!(e(&mut c, &["PEXPIRE", "20000"]), int(1));
        assert_eq!(e(&mut c, &["TTL"]), int(20));
        assert_eq!(
            e(&mut c, &["PEXPIREAT", "9223372036854775806"]),
            int(1),
            "the largest representable time is accepted"
        );
        assert_eq!(e(&mut c, &["PEXPIRETIME"]), int(9223372036854775806));
        assert_eq!(e(&mut c, &["EXPIRETIME"]), int(9223372036854776));
        for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
            assert_eq!(c.cmd(&[cmd, "nosuch"]), int(-2));
        }

        // A time in the past deletes the key (and answers 1).
        assert_eq!(e(&mut c, &["EXPIRE", "-1"]), int(1));
        assert_eq!(e(&mut c, &["EXISTS"]), int(0));
        c.cmd(&["SET", &k, "v"]);
        assert_eq!(e(&mut c, &["PEXPIREAT", "1"]), int(1));
        assert_eq!(e(&mut c, &["EXISTS"]), int(0));
        c.cmd(&["SET", &k, "v"]);
        assert_eq!(e(&mut c, &["EXPIRE", "-9223372036854775"]), int(1));
        assert_eq!(e(&mut c, &["EXISTS"]), int(0));
        assert_eq!(
            c.q("EXPIRE a"),
            err("ERR wrong number of arguments for 'expire' command")
        );
        assert_eq!(
            c.q("TTL"),
            err("ERR wrong number of arguments for 'ttl' command")
        );
    }
}

#[test]
fn lazy_expiry() {
    let server = Server::start(&[]);
    for mut c in both(&server) {
        c.q("SET lazy v");
        assert_eq!(c.q("PEXPIRE lazy 50"), int(1));
        assert_eq!(c.q("GET lazy"), V::bulk("v"));
        sleep(Duration::from_millis(80));
        assert_eq!(c.q("TTL lazy"), int(-2));
        assert_eq!(c.q("GET lazy"), V::Nil);
        assert_eq!(c.q("EXISTS lazy"), int(0));
        assert_eq!(c.q("TYPE lazy"), V::Simple("none".into()));
        // An expired key is gone for every command, including writes that need it.
        c.q("SET lazy v");
        c.q("PEXPIRE lazy 30");
        sleep(Duration::from_millis(60));
        assert_eq!(c.q("RENAME lazy other"), err("ERR no such key"));
        assert_eq!(c.q("PERSIST lazy"), int(0));
        assert_eq!(c.q("MOVE lazy 1"), int(0));
        assert_eq!(c.q("COPY lazy other"), int(0));
        assert_eq!(c.q("DUMP lazy"), V::Nil);
        assert_eq!(c.q("KEYS lazy"), V::Array(vec![]));
    }
}

/// SCAN reclaims the expired keys it meets whose names match its pattern (as Redis does), so
/// DBSIZE, which counts keys not yet reclaimed, drops after a full SCAN; KEYS reclaims nothing.
#[test]
fn scan_reclaims_expired_keys() {
    let server = Server::start(&["--enable-debug-command", "yes"]);
    let mut c = server.client();
    assert_eq!(c.q("DEBUG SET-ACTIVE-EXPIRE 0"), V::ok());
    for key in ["a1", "a2", "b1"] {
        c.cmd(&["SET", key, "v", "PX", "20"]);
    }
    c.q("SET live v");
    sleep(Duration::from_millis(60));
    assert_eq!(c.q("DBSIZE"), int(4));
    assert_eq!(c.q("KEYS *"), V::Array(vec![V::bulk("live")]));
    assert_eq!(c.q("DBSIZE"), int(4));
    assert_eq!(
        c.q("SCAN 0 MATCH a* COUNT 100").items()[1],
        V::Array(vec![])
    );
    assert_eq!(c.q("DBSIZE"), int(2));
    assert_eq!(
        c.q("SCAN 0 COUNT 100 TYPE hash").items()[1],
        V::Array(vec![]),
        "the type filter does not keep expired keys alive"
    );
    assert_eq!(c.q("DBSIZE"), int(1));
}

/// Keys nobody touches again are reclaimed by the background expiry cycle.
#[test]
fn active_expiry_reclaims_untouched_keys() {
    let server = Server::start(&["--hz", "100"]);
    let mut c = server.client();
    // All expire at one instant, late enough for the count below to see them all.
    let at = (now_ms() + 1500).to_string();
    for i in 0..200 {
        let key = format!("tmp:{i}");
        c.cmd(&["SET", &key, "v"]);
        c.cmd(&["PEXPIREAT", &key, &at]);
    }
    c.q("SET keep v");
    assert_eq!(c.q("DBSIZE"), int(201));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while c.q("DBSIZE") != int(1) {
        assert!(
            std::time::Instant::now() < deadline,
            "expired keys were never reclaimed"
        );
        sleep(Duration::from_millis(20));
    }
    assert_eq!(c.q("GET keep"), V::bulk("v"));
}

#[test]
fn resp3_reply_shapes() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.resp3();
    c.q("SET k v");
    assert_eq!(c.q("DUMP nosuch"), V::Nil);
    assert_eq!(c.q("RANDOMKEY"), V::bulk("k"));
    assert_eq!(c.q("TYPE k"), V::Simple("string".into()));
    assert_eq!(c.q("KEYS *"), V::Array(vec![V::bulk("k")]));
    assert_eq!(
        c.q("SCAN 0 COUNT 100"),
        V::Array(vec![V::bulk("0"), V::Array(vec![V::bulk("k")])])
    );
    assert_eq!(c.q("OBJECT ENCODING nosuch"), V::Nil);
    assert!(
        c.q("OBJECT HELP")
            .items()
            .iter()
            .all(|l| matches!(l, V::Simple(_)))
    );
}
