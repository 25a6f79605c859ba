//! HyperLogLog commands against the real binary: exact HLL bytes, counts and errors as Redis
//! 7.0.15 gives them (the expected values were read from it), and the estimator's accuracy.
// Integration test helpers: panicking is how a test reports a broken set-up.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Client, Server, V};

fn int(n: i64) -> V {
    V::Int(n)
}

fn bytes(c: &mut Client, key: &str) -> Vec<u8> {
    match c.cmd(&["GET", key]) {
        V::Bulk(b) => b,
        other => panic!("GET {key}: {other:?}"),
    }
}

/// Adds `e<from>` .. `e<to - 1>`, a thousand per command.
fn add_range(c: &mut Client, key: &str, from: usize, to: usize) {
    for start in (from..to).step_by(1000) {
        let mut argv = vec!["PFADD".to_string(), key.to_string()];
        argv.extend((start..to.min(start + 1000)).map(|i| format!("e{i}")));
        c.cmd(&argv);
    }
}

/// A new HLL after PFADD: one XZERO opcode, the count cache marked stale.
const EMPTY: &[u8] = b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff";
const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
const CORRUPT: &str = "INVALIDOBJ Corrupted HLL object detected";

#[test]
fn pfadd_writes_redis_bytes_and_caches_the_count() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("PFADD h"), int(1));
    assert_eq!(bytes(&mut c, "h"), EMPTY);
    assert_eq!(c.q("PFADD h"), int(0));
    assert_eq!(c.q("PFADD h hello"), int(1));
    // The count cache is marked stale (top bit of the last header byte).
    assert_eq!(
        bytes(&mut c, "h"),
        b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x63\xff\x80\x5b\xfe"
    );
    assert_eq!(c.q("PFADD h hello"), int(0));
    assert_eq!(c.q("PFCOUNT h"), int(1));
    // PFCOUNT stored the count in the header.
    assert_eq!(
        bytes(&mut c, "h"),
        b"HYLL\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x63\xff\x80\x5b\xfe"
    );
    assert_eq!(c.q("OBJECT ENCODING h"), V::bulk("raw"));
    assert_eq!(c.q("PFCOUNT nokey"), int(0));
}

#[test]
fn representation_turns_dense_like_redis() {
    let server = Server::start(&[]);
    let mut c = server.client();
    add_range(&mut c, "x", 0, 10);
    assert_eq!(c.q("STRLEN x"), int(48));
    add_range(&mut c, "x", 10, 1000);
    assert_eq!(c.q("STRLEN x"), int(1906));
    assert_eq!(c.q("PFCOUNT x"), int(1008));
    add_range(&mut c, "x", 1000, 20000);
    assert_eq!(c.q("STRLEN x"), int(12304));
    assert_eq!(c.q("PFCOUNT x"), int(19901));
    // A lower hll-sparse-max-bytes promotes earlier.
    c.q("CONFIG SET hll-sparse-max-bytes 100");
    add_range(&mut c, "y", 0, 100);
    assert_eq!(c.q("STRLEN y"), int(12304));
}

#[test]
fn standard_error_is_about_0_81_percent() {
    let server = Server::start(&[]);
    let mut c = server.client();
    add_range(&mut c, "big", 0, 100_000);
    let V::Int(estimate) = c.q("PFCOUNT big") else {
        panic!("PFCOUNT did not answer an integer")
    };
    // The very number Redis gives for these elements.
    assert_eq!(estimate, 100_853);
    let error = (estimate - 100_000).abs() as f64 / 100_000.0;
    assert!(error < 0.02, "relative error {error}");
}

#[test]
fn union_count_and_merge() {
    let server = Server::start(&[]);
    let mut c = server.client();
    add_range(&mut c, "a", 0, 600);
    add_range(&mut c, "b", 300, 900);
    let V::Int(union) = c.q("PFCOUNT a b nokey") else {
        panic!("no count")
    };
    assert!((880..=920).contains(&union), "{union}");
    assert_eq!(c.q("PFMERGE m a b"), V::ok());
    assert_eq!(c.q("PFCOUNT m"), int(union));
    // Merging sparse inputs keeps the destination sparse; a dense input makes it dense.
    assert!(bytes(&mut c, "m").len() < 12304);
    add_range(&mut c, "d", 0, 5000);
    assert_eq!(c.q("PFMERGE m2 a d"), V::ok());
    assert_eq!(c.q("STRLEN m2"), int(12304));
    assert_eq!(c.q("PFMERGE empty"), V::ok());
    assert_eq!(bytes(&mut c, "empty"), EMPTY);
}

#[test]
fn errors_for_other_values() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("SET s foo");
    assert_eq!(c.q("PFADD s a"), V::err(NOT_HLL));
    assert_eq!(c.q("PFCOUNT s"), V::err(NOT_HLL));
    assert_eq!(c.q("PFMERGE d s"), V::err(NOT_HLL));
    c.q("HSET hh a 1");
    assert!(c.q("PFADD hh a").text().starts_with("WRONGTYPE Operation"));
    // A sparse HLL whose opcodes do not cover 16384 registers.
    c.cmd(&[
        b"SET".as_ref(),
        b"bad",
        b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f",
    ]);
    assert_eq!(c.q("PFCOUNT bad"), V::err(CORRUPT));
    // Keys are checked in order.
    assert_eq!(c.q("PFCOUNT bad s"), V::err(CORRUPT));
    assert_eq!(c.q("PFCOUNT s bad"), V::err(NOT_HLL));
    assert_eq!(c.q("PFMERGE d2 bad"), V::err(CORRUPT));
    // A dense header over a short string is not an HLL.
    c.cmd(&[
        b"SET".as_ref(),
        b"short",
        b"HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f",
    ]);
    assert_eq!(c.q("PFCOUNT short"), V::err(NOT_HLL));
    // A valid cached count is answered as stored.
    c.cmd(&[
        b"SET".as_ref(),
        b"cached",
        b"HYLL\x01\x00\x00\x00\x07\x00\x00\x00\x00\x00\x00\x00\x7f\xff",
    ]);
    assert_eq!(c.q("PFCOUNT cached"), int(7));
}

#[test]
fn pfdebug_shows_and_converts_the_representation() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.q("PFADD h hello");
    assert_eq!(c.q("PFDEBUG DECODE h"), V::bulk("Z:9216 v:1,1 Z:7167"));
    assert_eq!(c.q("PFDEBUG ENCODING h"), V::Simple("sparse".into()));
    assert_eq!(c.q("PFDEBUG TODENSE h"), int(1));
    assert_eq!(c.q("PFDEBUG TODENSE h"), int(0));
    assert_eq!(c.q("STRLEN h"), int(12304));
    assert_eq!(
        c.q("PFDEBUG DECODE h"),
        V::err("ERR HLL encoding is not sparse")
    );
    let registers = c.q("PFDEBUG GETREG h").items();
    assert_eq!(registers.len(), 16384);
    assert_eq!(registers[9216], int(1));
    assert_eq!(
        c.q("PFDEBUG bogus h"),
        V::err("ERR Unknown PFDEBUG subcommand 'bogus'")
    );
    assert_eq!(
        c.q("PFDEBUG GETREG nokey"),
        V::err("ERR The specified key does not exist")
    );
}
