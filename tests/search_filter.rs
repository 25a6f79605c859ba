//! FT.CREATE `FILTER {expr}` end to end: only hashes the expression holds for are indexed,
//! whichever write brings them in or out (HSET, HDEL, RENAME, the initial scan), and a bad
//! expression fails FT.CREATE with RediSearch's text.

mod common;

use common::{Client, Server, V};

/// A field of FT.INFO's RESP2 reply (a flat key / value array).
fn info_field(c: &mut Client, index: &str, key: &str) -> V {
    let info = c.q(&format!("FT.INFO {index}")).items();
    info.chunks(2)
        .find(|kv| is_text(&kv[0], key))
        .map(|kv| kv[1].clone())
        .unwrap_or_else(|| panic!("no {key} in FT.INFO {index}"))
}

fn is_text(v: &V, s: &str) -> bool {
    match v {
        V::Bulk(b) => b == s.as_bytes(),
        V::Simple(t) => t == s,
        _ => false,
    }
}

/// The keys `*` matches, sorted, after checking the total FT.SEARCH reports.
fn indexed(c: &mut Client, index: &str) -> Vec<String> {
    let reply = c
        .q(&format!("FT.SEARCH {index} * NOCONTENT LIMIT 0 100"))
        .items();
    let mut keys: Vec<String> = reply[1..].iter().map(V::text).collect();
    assert_eq!(reply[0], V::Int(keys.len() as i64), "{reply:?}");
    assert_eq!(
        info_field(c, index, "num_docs"),
        V::Int(keys.len() as i64),
        "FT.INFO num_docs"
    );
    keys.sort();
    keys
}

fn wait_indexed(c: &mut Client, index: &str) {
    for _ in 0..500 {
        if info_field(c, index, "indexing") == V::Int(0) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("{index} still indexing");
}

fn create(c: &mut Client, index: &str, filter: &str, schema: &str) -> V {
    let mut args = vec!["FT.CREATE", index, "ON", "HASH", "PREFIX", "1", "p:"];
    args.extend(["FILTER", filter, "SCHEMA"]);
    args.extend(schema.split_whitespace());
    c.cmd(&args)
}

#[test]
fn documents_enter_and_leave_as_the_filter_changes_its_mind() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let filter = "@age > 18 && startswith(@__key, 'p:a')";
    assert_eq!(
        create(&mut c, "idx", filter, "name TEXT age NUMERIC"),
        V::ok()
    );
    c.q("HSET p:a1 name ann age 20");
    c.q("HSET p:a2 name al age 10");
    c.q("HSET p:b1 name bob age 30");
    c.q("HSET q:a1 name out age 50");
    assert_eq!(indexed(&mut c, "idx"), ["p:a1"]);

    c.q("HSET p:a2 age 19");
    assert_eq!(indexed(&mut c, "idx"), ["p:a1", "p:a2"]);
    c.q("HSET p:a1 age 5");
    assert_eq!(indexed(&mut c, "idx"), ["p:a2"]);
    c.q("HINCRBY p:a1 age 30");
    assert_eq!(indexed(&mut c, "idx"), ["p:a1", "p:a2"]);
    // A missing field is NULL: `NULL > 18` is false.
    c.q("HDEL p:a1 age");
    assert_eq!(indexed(&mut c, "idx"), ["p:a2"]);
    // The key name is part of the filter: renaming moves the hash in and out.
    c.q("RENAME p:a2 p:b2");
    assert_eq!(indexed(&mut c, "idx"), Vec::<String>::new());
    c.q("RENAME p:b1 p:a3");
    assert_eq!(indexed(&mut c, "idx"), ["p:a3"]);
    // The query still sees field values of what is indexed.
    let hit = c.cmd(&["FT.SEARCH", "idx", "@age:[25 35]", "NOCONTENT"]);
    assert_eq!(hit, V::Array(vec![V::Int(1), V::bulk("p:a3")]));
    // Rejected documents are no indexing failures.
    assert_eq!(
        info_field(&mut c, "idx", "hash_indexing_failures"),
        V::Int(0)
    );
}

#[test]
fn initial_scan_applies_the_filter() {
    let server = Server::start(&[]);
    let mut c = server.client();
    for i in 0..50 {
        c.q(&format!("HSET p:{i} n {i}"));
    }
    assert_eq!(create(&mut c, "idx", "@n % 10 == 0", "n NUMERIC"), V::ok());
    wait_indexed(&mut c, "idx");
    assert_eq!(
        indexed(&mut c, "idx"),
        ["p:0", "p:10", "p:20", "p:30", "p:40"]
    );
}

#[test]
fn filter_reads_attributes_by_alias_and_fields_outside_the_schema() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let filter = "lower(@k) == \"book\" && !exists(@hidden)";
    assert_eq!(create(&mut c, "idx", filter, "kind AS k TAG"), V::ok());
    c.q("HSET p:1 kind Book");
    c.q("HSET p:2 kind film");
    c.q("HSET p:3 kind book hidden 1");
    assert_eq!(indexed(&mut c, "idx"), ["p:1"]);
    c.q("HDEL p:3 hidden");
    assert_eq!(indexed(&mut c, "idx"), ["p:1", "p:3"]);
    // FT.INFO shows the filter as written.
    let definition = info_field(&mut c, "idx", "index_definition").items();
    let at = definition
        .iter()
        .position(|v| is_text(v, "filter"))
        .expect("filter in index_definition");
    assert!(is_text(&definition[at + 1], filter), "{definition:?}");
}

#[test]
fn bad_filters_fail_ft_create() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let cases = [
        ("@age = 1", "Syntax error at offset 5 near '='"),
        ("@age > ", "Syntax error at offset 7 near ''"),
        ("(@age > 1", "Syntax error at offset 9 near ''"),
        ("a", "Unknown symbol 'a'"),
        ("nosuch(@age)", "Unknown function name 'nosuch'"),
        (
            "startswith(@__key)",
            "Function 'startswith' expects 2 arguments, but got 1",
        ),
    ];
    for (filter, error) in cases {
        assert_eq!(
            create(&mut c, "idx", filter, "age NUMERIC"),
            V::err(error),
            "{filter}"
        );
    }
    assert_eq!(c.q("FT._LIST"), V::Array(vec![]));
    assert_eq!(create(&mut c, "idx", "@age >= 0", "age NUMERIC"), V::ok());
}
