//! Hash commands against the real binary: every command, option and error text as Redis 7
//! gives them, RESP2 and RESP3 reply shapes, binary-safe fields, the insertion order Redis keeps
//! for small (listpack) hashes, and cursor iteration over large ones.
// Integration test helpers: panicking is how a test reports a broken set-up.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{HashMap, HashSet};
use std::io::Read;

use common::{Client, Server, V, encode_command};

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

fn bulks(items: &[&str]) -> V {
    V::Array(items.iter().map(|s| V::bulk(s)).collect())
}

fn int(n: i64) -> V {
    V::Int(n)
}

/// Sends a command and checks the exact bytes of the reply (for RESP2 nulls and shapes).
fn raw_reply(c: &mut Client, args: &[&str], expected: &[u8]) {
    use std::io::Write;
    c.stream.write_all(&encode_command(args)).unwrap();
    let mut got = vec![0u8; expected.len()];
    c.stream.read_exact(&mut got).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(expected),
        "{args:?}"
    );
}

/// The (field, value) pairs of a flat RESP2 array or a RESP3 map.
fn pairs(reply: &V) -> Vec<(String, String)> {
    reply
        .items()
        .chunks(2)
        .map(|p| (p[0].text(), p[1].text()))
        .collect()
}

/// Runs HSCAN to completion and returns every item seen (fields, and values unless
/// NOVALUES) and the number of calls.
fn full_hscan(c: &mut Client, key: &str, extra: &[&str]) -> (Vec<String>, usize) {
    let mut cursor = "0".to_string();
    let mut seen = Vec::new();
    let mut calls = 0;
    loop {
        let mut args = vec!["HSCAN", key, &cursor];
        args.extend_from_slice(extra);
        let reply = c.cmd(&args).items();
        calls += 1;
        seen.extend(reply[1].items().iter().map(V::text));
        cursor = reply[0].text();
        if cursor == "0" {
            return (seen, calls);
        }
        assert!(calls < 10_000, "HSCAN does not terminate");
    }
}

#[test]
fn hset_hget_hmset_hsetnx() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("HSET h a 1 b 2"), int(2));
    assert_eq!(c.q("HSET h a 10 c 3"), int(1), "only c is new");
    assert_eq!(c.q("HSET h a 11 a 12"), int(0));
    assert_eq!(c.q("HGET h a"), V::bulk("12"));
    assert_eq!(c.q("HMSET h d 4 e 5"), V::ok());
    assert_eq!(c.q("HSETNX h d 40"), int(0));
    assert_eq!(c.q("HGET h d"), V::bulk("4"));
    assert_eq!(c.q("HSETNX h f 6"), int(1));
    assert_eq!(c.q("HSETNX fresh x 1"), int(1));
    assert_eq!(c.q("HLEN h"), int(6));
    assert_eq!(c.q("HLEN fresh"), int(1));
    assert_eq!(c.q("HLEN nokey"), int(0));
    for (line, name) in [
        ("HSET h a 1 b", "hset"),
        ("HSET h a", "hset"),
        ("HMSET h a 1 b", "hmset"),
        ("HSETNX h a", "hsetnx"),
        ("HGET h", "hget"),
        ("HMGET h", "hmget"),
        ("HGETALL", "hgetall"),
        ("HDEL h", "hdel"),
        ("HLEN", "hlen"),
        ("HEXISTS h", "hexists"),
        ("HKEYS", "hkeys"),
        ("HVALS h x", "hvals"),
        ("HINCRBY h a", "hincrby"),
        ("HINCRBYFLOAT h a", "hincrbyfloat"),
        ("HSTRLEN h", "hstrlen"),
        ("HRANDFIELD", "hrandfield"),
        ("HSCAN h", "hscan"),
    ] {
        assert_eq!(
            c.q(line),
            V::err(&format!(
                "ERR wrong number of arguments for '{name}' command"
            )),
            "{line}"
        );
    }
    assert_eq!(c.q("HLEN h"), int(6), "rejected writes changed nothing");
}

#[test]
fn reads_of_fields_and_missing_keys() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("HSET h a 1 b hello");
    raw_reply(
        &mut c,
        &["HMGET", "h", "a", "zz", "b"],
        b"*3\r\n$1\r\n1\r\n$-1\r\n$5\r\nhello\r\n",
    );
    assert_eq!(c.q("HEXISTS h a"), int(1));
    assert_eq!(c.q("HEXISTS h zz"), int(0));
    assert_eq!(c.q("HEXISTS nokey a"), int(0));
    assert_eq!(c.q("HSTRLEN h b"), int(5));
    assert_eq!(c.q("HSTRLEN h zz"), int(0));
    assert_eq!(c.q("HSTRLEN nokey a"), int(0));
    assert_eq!(c.q("HKEYS nokey"), V::Array(vec![]));
    assert_eq!(c.q("HVALS nokey"), V::Array(vec![]));
    // RESP2 shapes, byte for byte.
    raw_reply(&mut c, &["HGET", "h", "zz"], b"$-1\r\n");
    raw_reply(&mut c, &["HGET", "nokey", "a"], b"$-1\r\n");
    raw_reply(
        &mut c,
        &["HMGET", "nokey", "a", "b"],
        b"*2\r\n$-1\r\n$-1\r\n",
    );
    raw_reply(&mut c, &["HGETALL", "nokey"], b"*0\r\n");
    raw_reply(
        &mut c,
        &["HGETALL", "h"],
        b"*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$5\r\nhello\r\n",
    );
}

#[test]
fn resp3_shapes() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.resp3();
    c.q("HSET h a 1 b 2");
    // Checked as bytes: the decoded map would not keep the order.
    raw_reply(
        &mut c,
        &["HGETALL", "h"],
        b"%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n",
    );
    raw_reply(&mut c, &["HGETALL", "nokey"], b"%0\r\n");
    raw_reply(&mut c, &["HGET", "h", "zz"], b"_\r\n");
    assert_eq!(c.q("HMGET h a zz"), V::Array(vec![V::bulk("1"), V::Nil]));
    assert_eq!(c.q("HKEYS h"), bulks(&["a", "b"]));
    assert_eq!(c.q("HVALS h"), bulks(&["1", "2"]));
    assert_eq!(c.q("HRANDFIELD nokey"), V::Nil);
    assert_eq!(c.q("HRANDFIELD nokey 3 WITHVALUES"), V::Array(vec![]));
    assert_eq!(c.q("HRANDFIELD h 0 WITHVALUES"), V::Array(vec![]));
    // WITHVALUES nests each field with its value in RESP3.
    assert_eq!(
        c.q("HRANDFIELD h 5 WITHVALUES"),
        V::Array(vec![bulks(&["a", "1"]), bulks(&["b", "2"])])
    );
    let repeated = c.q("HRANDFIELD h -3 WITHVALUES").items();
    assert_eq!(repeated.len(), 3);
    for pair in repeated {
        assert!(
            pair == bulks(&["a", "1"]) || pair == bulks(&["b", "2"]),
            "{pair:?}"
        );
    }
    // HSCAN stays a flat array in RESP3, as in Redis.
    assert_eq!(
        c.q("HSCAN h 0"),
        V::Array(vec![V::bulk("0"), bulks(&["a", "1", "b", "2"])])
    );
    // Float results are bulk strings in both protocols.
    assert_eq!(c.q("HINCRBYFLOAT h f 1.5"), V::bulk("1.5"));
}

#[test]
fn binary_safe_fields_and_values() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let field: &[u8] = b"f\x00\r\n\xff";
    let value: &[u8] = b"v\x00\r\n\xfe";
    let key: &[u8] = b"k\x00ey";
    assert_eq!(c.cmd(&[b"HSET".as_ref(), key, field, value]), int(1));
    assert_eq!(c.cmd(&[b"HSET".as_ref(), key, b"", b""]), int(1));
    assert_eq!(
        c.cmd(&[b"HGET".as_ref(), key, field]),
        V::Bulk(value.to_vec())
    );
    assert_eq!(c.cmd(&[b"HGET".as_ref(), key, b""]), V::Bulk(vec![]));
    assert_eq!(c.cmd(&[b"HSTRLEN".as_ref(), key, field]), int(5));
    assert_eq!(c.cmd(&[b"HEXISTS".as_ref(), key, b"f"]), int(0));
    assert_eq!(
        c.cmd(&[b"HKEYS".as_ref(), key]),
        V::Array(vec![V::Bulk(field.to_vec()), V::Bulk(vec![])])
    );
    assert_eq!(
        c.cmd(&[b"HSCAN".as_ref(), key, b"0", b"MATCH", b"f*"]),
        V::Array(vec![
            V::bulk("0"),
            V::Array(vec![V::Bulk(field.to_vec()), V::Bulk(value.to_vec())])
        ])
    );
    assert_eq!(c.cmd(&[b"HDEL".as_ref(), key, field, b""]), int(2));
    assert_eq!(c.cmd(&[b"HLEN".as_ref(), key]), int(0));
}

#[test]
fn small_hashes_keep_insertion_order() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("HSET h z 1 y 2 x 3 w 4 v 5");
    assert_eq!(c.q("HKEYS h"), bulks(&["z", "y", "x", "w", "v"]));
    // Updating keeps the field's place; new fields go to the end.
    c.q("HSET h x 30 a 6");
    assert_eq!(c.q("HVALS h"), bulks(&["1", "2", "30", "4", "5", "6"]));
    // HDEL keeps the order of the others.
    assert_eq!(c.q("HDEL h y zz w"), int(2));
    assert_eq!(
        c.q("HGETALL h"),
        bulks(&["z", "1", "x", "30", "v", "5", "a", "6"])
    );
    // HSCAN returns a small hash whole, whatever the cursor and COUNT.
    for cursor in ["0", "123", "-1"] {
        assert_eq!(
            c.cmd(&["HSCAN", "h", cursor, "COUNT", "1"]),
            V::Array(vec![
                V::bulk("0"),
                bulks(&["z", "1", "x", "30", "v", "5", "a", "6"])
            ])
        );
    }
    // HRANDFIELD with a count covering the hash returns it in order.
    assert_eq!(c.q("HRANDFIELD h 10"), bulks(&["z", "x", "v", "a"]));
    // A sample of a small hash comes in listpack order too.
    let order = ["z", "x", "v", "a"];
    for _ in 0..20 {
        let sample: Vec<String> = c.q("HRANDFIELD h 3").items().iter().map(V::text).collect();
        let positions: Vec<usize> = sample
            .iter()
            .map(|f| order.iter().position(|o| o == f).unwrap())
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{sample:?}");
    }
}

#[test]
fn deleting_the_last_field_deletes_the_key() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("HSET h a 1 b 2");
    assert_eq!(c.q("HDEL h a a nope"), int(1), "duplicates count once");
    assert_eq!(c.q("HDEL nokey a"), int(0));
    assert_eq!(c.q("HDEL h b"), int(1));
    // A surviving empty hash would make GET fail with WRONGTYPE; a deleted key reads as nil.
    raw_reply(&mut c, &["GET", "h"], b"$-1\r\n");
    assert_eq!(c.q("HLEN h"), int(0));
    assert_eq!(c.q("SET h now-a-string"), V::ok());
    assert_eq!(c.q("GET h"), V::bulk("now-a-string"));
}

#[test]
fn wrong_type_is_reported_and_harmless() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("SET s text");
    for line in [
        "HSET s a 1",
        "HSETNX s a 1",
        "HMSET s a 1",
        "HGET s a",
        "HMGET s a",
        "HGETALL s",
        "HDEL s a",
        "HLEN s",
        "HEXISTS s a",
        "HKEYS s",
        "HVALS s",
        "HINCRBY s a 1",
        "HINCRBYFLOAT s a 1",
        "HSTRLEN s a",
        "HRANDFIELD s",
        "HRANDFIELD s 2 WITHVALUES",
        "HSCAN s 0",
        "HSCAN s 0 COUNT 0",
    ] {
        assert_eq!(c.q(line), V::err(WRONGTYPE), "{line}");
    }
    assert_eq!(c.q("GET s"), V::bulk("text"));
    // Argument errors Redis finds before looking at the key win over WRONGTYPE.
    assert_eq!(
        c.q("HINCRBY s a x"),
        V::err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        c.q("HINCRBYFLOAT s a x"),
        V::err("ERR value is not a valid float")
    );
    assert_eq!(c.q("HRANDFIELD s 1 x"), V::err("ERR syntax error"));
    assert_eq!(c.q("HSCAN s x"), V::err("ERR invalid cursor"));
}

#[test]
fn hincrby() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("HINCRBY h n 5"), int(5));
    assert_eq!(c.q("HINCRBY h n -7"), int(-2));
    assert_eq!(c.q("HGET h n"), V::bulk("-2"));
    c.q("HSET h max 9223372036854775807 min -9223372036854775808");
    assert_eq!(
        c.q("HINCRBY h max 1"),
        V::err("ERR increment or decrement would overflow")
    );
    assert_eq!(
        c.q("HINCRBY h min -1"),
        V::err("ERR increment or decrement would overflow")
    );
    assert_eq!(c.q("HINCRBY h min 9223372036854775807"), int(-1));
    for bad_value in ["abc", "1.5", " 1", "01", "", "99999999999999999999"] {
        c.cmd(&["HSET", "h", "bad", bad_value]);
        assert_eq!(
            c.q("HINCRBY h bad 1"),
            V::err("ERR hash value is not an integer"),
            "{bad_value:?}"
        );
    }
    for bad_increment in ["x", "1.0", "+1", "9223372036854775808"] {
        assert_eq!(
            c.cmd(&["HINCRBY", "h", "n", bad_increment]),
            V::err("ERR value is not an integer or out of range")
        );
    }
    assert_eq!(c.q("HGET h n"), V::bulk("-2"));
}

#[test]
fn hincrbyfloat_matches_redis_long_double_results() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("HINCRBYFLOAT h f 0.1"), V::bulk("0.1"));
    // Redis adds in long double: 0.1 + 0.2 prints as 0.3, not 0.30000000000000004.
    assert_eq!(c.q("HINCRBYFLOAT h f 0.2"), V::bulk("0.3"));
    assert_eq!(c.q("HGET h f"), V::bulk("0.3"));
    c.q("HSET h f 10.5");
    assert_eq!(c.q("HINCRBYFLOAT h f 0.1"), V::bulk("10.6"));
    assert_eq!(c.q("HINCRBYFLOAT h f -10.6"), V::bulk("0"));
    for (start, by, expected) in [
        ("17179869184", "1.5", "17179869185.5"),
        ("9223372036854775807", "1", "9223372036854775808"),
        ("0", "5.0e3", "5000"),
        ("0", "1.5e-7", "0.00000015"),
        ("0", "-1e-20", "0"),
        ("0", "0x1.8p3", "12"),
        ("0", ".5", "0.5"),
        ("0", "0.1234567890123456789", "0.12345678901234568"),
        (
            "1",
            "1e100",
            "9999999999999999999669353532207342619498699019828496079271391541752018669482644324418977840117055488",
        ),
    ] {
        c.cmd(&["HSET", "h", "g", start]);
        assert_eq!(
            c.cmd(&["HINCRBYFLOAT", "h", "g", by]),
            V::bulk(expected),
            "{start} + {by}"
        );
    }
    for bad in ["abc", "nan", " 1", "1e5000", "0x", ""] {
        assert_eq!(
            c.cmd(&["HINCRBYFLOAT", "h", "f", bad]),
            V::err("ERR value is not a valid float"),
            "{bad:?}"
        );
    }
    for infinite in ["inf", "-Infinity"] {
        assert_eq!(
            c.cmd(&["HINCRBYFLOAT", "h", "f", infinite]),
            V::err("ERR value is NaN or Infinity")
        );
    }
    c.q("HSET h s hello");
    assert_eq!(
        c.q("HINCRBYFLOAT h s 1"),
        V::err("ERR hash value is not a float")
    );
    c.q("HSET h i inf");
    assert_eq!(
        c.q("HINCRBYFLOAT h i 1"),
        V::err("ERR increment would produce NaN or Infinity")
    );
    c.q("HSET h big 1.18973149535723176502e+4932");
    assert_eq!(
        c.q("HINCRBYFLOAT h big 1e4932"),
        V::err("ERR increment would produce NaN or Infinity")
    );
    assert_eq!(
        c.q("HGET h i"),
        V::bulk("inf"),
        "failed increments write nothing"
    );
}

#[test]
fn hrandfield() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("HSET h a 1 b 2 c 3 d 4 e 5");
    let values: HashMap<String, String> =
        [("a", "1"), ("b", "2"), ("c", "3"), ("d", "4"), ("e", "5")]
            .iter()
            .map(|(f, v)| (f.to_string(), v.to_string()))
            .collect();
    let one = c.q("HRANDFIELD h").text();
    assert!(values.contains_key(&one));
    for _ in 0..10 {
        let distinct: Vec<String> = c.q("HRANDFIELD h 3").items().iter().map(V::text).collect();
        assert_eq!(distinct.len(), 3);
        assert_eq!(distinct.iter().collect::<HashSet<_>>().len(), 3);
        assert!(distinct.iter().all(|f| values.contains_key(f)));
    }
    assert_eq!(c.q("HRANDFIELD h 5").items().len(), 5);
    assert_eq!(c.q("HRANDFIELD h 100").items().len(), 5);
    assert_eq!(c.q("HRANDFIELD h 0"), V::Array(vec![]));
    // A negative count allows repeats and returns exactly that many.
    let repeated: Vec<String> = c
        .q("HRANDFIELD h -50")
        .items()
        .iter()
        .map(V::text)
        .collect();
    assert_eq!(repeated.len(), 50);
    assert!(repeated.iter().all(|f| values.contains_key(f)));
    assert!(repeated.iter().collect::<HashSet<_>>().len() < 50);
    // WITHVALUES in RESP2: a flat array of field, value.
    for line in ["HRANDFIELD h 3 WITHVALUES", "HRANDFIELD h -8 withvalues"] {
        let got = pairs(&c.q(line));
        assert_eq!(got.len(), if line.contains("-8") { 8 } else { 3 });
        for (f, v) in got {
            assert_eq!(values[&f], v);
        }
    }
    // Missing key.
    raw_reply(&mut c, &["HRANDFIELD", "nokey"], b"$-1\r\n");
    assert_eq!(c.q("HRANDFIELD nokey 3"), V::Array(vec![]));
    assert_eq!(c.q("HRANDFIELD nokey -3 WITHVALUES"), V::Array(vec![]));
    // Errors, in Redis's order: count, syntax, range; then the key.
    for (line, error) in [
        (
            "HRANDFIELD h x",
            "ERR value is not an integer or out of range",
        ),
        (
            "HRANDFIELD h WITHVALUES",
            "ERR value is not an integer or out of range",
        ),
        ("HRANDFIELD h 1 foo", "ERR syntax error"),
        ("HRANDFIELD h 1 WITHVALUES x", "ERR syntax error"),
        (
            "HRANDFIELD h 9223372036854775808",
            "ERR value is not an integer or out of range",
        ),
        (
            "HRANDFIELD h -9223372036854775808",
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        ),
        (
            "HRANDFIELD h 4611686018427387904 WITHVALUES",
            "ERR value is out of range",
        ),
        (
            "HRANDFIELD h -4611686018427387904 WITHVALUES",
            "ERR value is out of range",
        ),
        (
            "HRANDFIELD nokey 4611686018427387904 WITHVALUES",
            "ERR value is out of range",
        ),
    ] {
        assert_eq!(c.q(line), V::err(error), "{line}");
    }
    // Positive counts are capped by the hash size, so a huge one is harmless.
    assert_eq!(c.q("HRANDFIELD h 9223372036854775807").items().len(), 5);
    assert_eq!(
        c.q("HRANDFIELD h 4611686018427387903 WITHVALUES")
            .items()
            .len(),
        10
    );
}

#[test]
fn hscan_arguments_and_errors() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("HSET h aa 1 ab 2 b 3");
    let whole = V::Array(vec![V::bulk("0"), bulks(&["aa", "1", "ab", "2", "b", "3"])]);
    // Redis 7.0 reads the cursor with strtoul: signs and an empty cursor are accepted.
    for cursor in ["0", "-1", "+1", "", "18446744073709551615", "007"] {
        assert_eq!(c.cmd(&["HSCAN", "h", cursor]), whole, "{cursor:?}");
    }
    for cursor in ["x", " 1", "1 ", "-", "18446744073709551616", "0x1"] {
        assert_eq!(
            c.cmd(&["HSCAN", "h", cursor]),
            V::err("ERR invalid cursor"),
            "{cursor:?}"
        );
    }
    assert_eq!(
        c.q("HSCAN h 0 MATCH a*"),
        V::Array(vec![V::bulk("0"), bulks(&["aa", "1", "ab", "2"])])
    );
    assert_eq!(c.q("HSCAN h 0 MATCH *"), whole);
    assert_eq!(
        c.q("HSCAN h 0 match a* COUNT 1 MATCH b"),
        V::Array(vec![V::bulk("0"), bulks(&["b", "3"])]),
        "the last MATCH wins"
    );
    assert_eq!(
        c.q("HSCAN h 0 MATCH A*"),
        V::Array(vec![V::bulk("0"), V::Array(vec![])]),
        "MATCH is case-sensitive"
    );
    // NOVALUES (Redis 7.4) returns the fields only.
    assert_eq!(
        c.q("HSCAN h 0 NOVALUES"),
        V::Array(vec![V::bulk("0"), bulks(&["aa", "ab", "b"])])
    );
    assert_eq!(
        c.q("HSCAN h 0 novalues match a?"),
        V::Array(vec![V::bulk("0"), bulks(&["aa", "ab"])])
    );
    for (line, error) in [
        ("HSCAN h 0 COUNT 0", "ERR syntax error"),
        ("HSCAN h 0 COUNT -1", "ERR syntax error"),
        ("HSCAN h 0 COUNT", "ERR syntax error"),
        ("HSCAN h 0 MATCH", "ERR syntax error"),
        ("HSCAN h 0 TYPE hash", "ERR syntax error"),
        ("HSCAN h 0 foo", "ERR syntax error"),
        (
            "HSCAN h 0 COUNT x",
            "ERR value is not an integer or out of range",
        ),
        (
            "HSCAN h 0 COUNT 100000000000000000000",
            "ERR value is not an integer or out of range",
        ),
    ] {
        assert_eq!(c.q(line), V::err(error), "{line}");
    }
    // A missing key answers an empty scan before the options are read.
    let empty = V::Array(vec![V::bulk("0"), V::Array(vec![])]);
    assert_eq!(c.q("HSCAN nokey 0"), empty);
    assert_eq!(c.q("HSCAN nokey 0 COUNT 0 foo"), empty);
    assert_eq!(c.q("HSCAN nokey x"), V::err("ERR invalid cursor"));
}

/// With tiny listpack limits, a handful of fields makes a "large" hash.
#[test]
fn large_hashes_iterate_by_cursor() {
    let server = Server::start(&[
        "--hash-max-listpack-entries",
        "8",
        "--hash-max-listpack-value",
        "16",
    ]);
    let mut c = server.client();
    let mut args = vec!["HSET".to_string(), "big".to_string()];
    for i in 0..50 {
        args.push(format!("f{i}"));
        args.push(format!("v{i}"));
    }
    assert_eq!(c.cmd(&args), int(50));
    let (seen, calls) = full_hscan(&mut c, "big", &["COUNT", "5"]);
    assert!(calls >= 10, "COUNT 5 over 50 fields took {calls} calls");
    let seen: HashMap<String, String> = seen
        .chunks(2)
        .map(|p| (p[0].clone(), p[1].clone()))
        .collect();
    assert_eq!(seen.len(), 50);
    for i in 0..50 {
        assert_eq!(seen[&format!("f{i}")], format!("v{i}"));
    }
    let (mut matched, _) = full_hscan(&mut c, "big", &["MATCH", "f1*", "NOVALUES"]);
    matched.sort();
    let mut expected: Vec<String> = ["f1"]
        .into_iter()
        .map(String::from)
        .chain((10..20).map(|i| format!("f{i}")))
        .collect();
    expected.sort();
    assert_eq!(matched, expected);
    // Fields present for the whole iteration are returned even while others are deleted.
    let first = c.q("HSCAN big 0 COUNT 10").items();
    let mut cursor = first[0].text();
    let mut seen: HashSet<String> = pairs(&first[1]).into_iter().map(|(f, _)| f).collect();
    for i in 0..20 {
        c.cmd(&["HDEL", "big", &format!("f{i}")]);
    }
    while cursor != "0" {
        let step = c.cmd(&["HSCAN", "big", &cursor, "COUNT", "7"]).items();
        cursor = step[0].text();
        seen.extend(pairs(&step[1]).into_iter().map(|(f, _)| f));
    }
    for i in 20..50 {
        assert!(seen.contains(&format!("f{i}")), "f{i} was skipped");
    }
    assert_eq!(c.q("HLEN big"), int(30));
    // A value over hash-max-listpack-value makes even a small hash a large one.
    c.q("HSET wide a 1 b 2 c 3");
    c.cmd(&["HSET", "wide", "long", &"x".repeat(17)]);
    let first = c.q("HSCAN wide 0 COUNT 1").items();
    assert_ne!(
        first[0],
        V::bulk("0"),
        "a hash-table hash iterates by cursor"
    );
    let (seen, _) = full_hscan(&mut c, "wide", &["COUNT", "1", "NOVALUES"]);
    assert_eq!(seen.len(), 4);
}

#[test]
fn hscan_over_a_default_sized_large_hash() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let mut args = vec!["HSET".to_string(), "big".to_string()];
    for i in 0..600 {
        args.push(format!("field:{i}"));
        args.push(i.to_string());
    }
    assert_eq!(c.cmd(&args), int(600));
    let (seen, calls) = full_hscan(&mut c, "big", &[]);
    assert!(
        calls > 1,
        "600 fields exceed hash-max-listpack-entries (512)"
    );
    let seen: HashMap<String, String> = seen
        .chunks(2)
        .map(|p| (p[0].clone(), p[1].clone()))
        .collect();
    assert_eq!(seen.len(), 600);
    assert!((0..600).all(|i| seen[&format!("field:{i}")] == i.to_string()));
    assert_eq!(c.q("HKEYS big").items().len(), 600);
    assert_eq!(c.q("HRANDFIELD big 299").items().len(), 299);
    assert_eq!(
        c.q("HRANDFIELD big 299")
            .items()
            .iter()
            .map(V::text)
            .collect::<HashSet<_>>()
            .len(),
        299
    );
}

/// The encoding is chosen by the writes, as in Redis: a hash becomes a hash table on the write
/// that passes a limit (updates and HINCRBY included), stays one when it shrinks or the limits
/// grow, and keeps its encoding through RENAME and COPY; a refused HSETNX changes nothing.
#[test]
fn hash_encoding_is_sticky() {
    let server = Server::start(&[
        "--hash-max-listpack-entries",
        "3",
        "--hash-max-listpack-value",
        "8",
    ]);
    let mut c = server.client();
    let enc = |c: &mut Client, key: &str| c.cmd(&["OBJECT", "ENCODING", key]).text();
    c.q("HSET h a 1 b 2 c 3");
    assert_eq!(enc(&mut c, "h"), "listpack");
    c.q("HSET h d 4");
    assert_eq!(enc(&mut c, "h"), "hashtable");
    c.q("HDEL h d c");
    assert_eq!(enc(&mut c, "h"), "hashtable", "no conversion back");
    let (_, calls) = full_hscan(&mut c, "h", &["COUNT", "1"]);
    assert!(calls > 1, "a hash table pages by cursor even when small");
    c.q("CONFIG SET hash-max-listpack-entries 512");
    assert_eq!(enc(&mut c, "h"), "hashtable", "CONFIG SET converts nothing");
    c.q("CONFIG SET hash-max-listpack-entries 3");

    // A listpack stays one after CONFIG SET lowers the limit, until it is written.
    c.q("HSET s a 1 b 2 c 3");
    c.q("CONFIG SET hash-max-listpack-entries 1");
    assert_eq!(enc(&mut c, "s"), "listpack");
    assert_eq!(c.q("HKEYS s"), bulks(&["a", "b", "c"]));
    assert_eq!(c.q("HSCAN s 0 COUNT 1").items()[0], V::bulk("0"));
    c.q("RENAME s s2");
    c.q("COPY s2 s3");
    assert_eq!(enc(&mut c, "s2"), "listpack");
    assert_eq!(enc(&mut c, "s3"), "listpack");
    c.q("HSET s2 a 9");
    assert_eq!(
        enc(&mut c, "s2"),
        "hashtable",
        "an update checks the limit too"
    );
    c.q("CONFIG SET hash-max-listpack-entries 3");

    // Long fields or values: HSET and HINCRBY convert, a refused HSETNX does not.
    c.q("HSET l a 1");
    c.cmd(&["HSETNX", "l", "a", "a long value"]);
    assert_eq!(enc(&mut c, "l"), "listpack");
    c.cmd(&["HINCRBY", "l", "a long field", "1"]);
    assert_eq!(enc(&mut c, "l"), "hashtable");

    // RESTORE decides by the limits in force when it loads.
    let payload = match c.q("DUMP h") {
        V::Bulk(p) => p,
        other => panic!("DUMP: {other:?}"),
    };
    c.cmd(&[b"RESTORE".as_ref(), b"r", b"0", &payload]);
    assert_eq!(enc(&mut c, "r"), "listpack");
    assert_eq!(c.q("OBJECT REFCOUNT r"), int(1));
}
