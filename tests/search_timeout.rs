//! FT.SEARCH / FT.AGGREGATE / FT.PROFILE query budgets end to end: the TIMEOUT argument
//! (0: none) over the TIMEOUT setting, ON_TIMEOUT FAIL's error, ON_TIMEOUT RETURN's partial
//! results (RESP3 `warning`), FT.PROFILE's Warning entry, and TIMEOUT's argument errors.
//!
//! The index is big enough (every query here spends tens of milliseconds gathering its
//! matches in a test build, most of it scanning a numeric range of as many values as
//! documents) that a 1 ms budget is always spent before the query ends.

mod common;

use common::{Client, Server, V};

const DOCS: usize = 5_000;
const TIMEOUT_ERROR: &str = "Timeout limit was reached";

/// An index of `DOCS` documents with distinct numbers and a hundred words.
fn server() -> (Server, Client) {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(
        c.q("FT.CREATE idx SCHEMA t TEXT n NUMERIC SORTABLE"),
        V::ok()
    );
    let script = format!(
        "for i = 1, {DOCS} do redis.call('HSET', 'd' .. i, 't', 'w' .. (i % 100), 'n', i) end"
    );
    assert_eq!(c.cmd(&["EVAL", &script, "0"]), V::Nil);
    (server, c)
}

fn set(c: &mut Client, name: &str, value: &str) {
    assert_eq!(c.cmd(&["FT.CONFIG", "SET", name, value]), V::ok());
}

/// A query that gathers every document, sorts them and loads a big page.
fn search(c: &mut Client, extra: &[&str]) -> V {
    let limit = DOCS.to_string();
    let mut args = vec![
        "FT.SEARCH",
        "idx",
        "@n:[-inf +inf]",
        "SORTBY",
        "n",
        "LIMIT",
        "0",
        &limit,
    ];
    args.extend_from_slice(extra);
    c.cmd(&args)
}

fn aggregate(c: &mut Client, extra: &[&str]) -> V {
    let mut args = vec![
        "FT.AGGREGATE",
        "idx",
        "@n:[-inf +inf]",
        "LOAD",
        "1",
        "@n",
        "APPLY",
        "@n * 2",
        "AS",
        "m",
    ];
    args.extend_from_slice(extra);
    c.cmd(&args)
}

/// The RESP3 map entry called `key`.
fn total(reply: &V) -> i64 {
    match reply {
        V::Map(_) => match reply.field("total_results") {
            V::Int(n) => n,
            other => panic!("total: {other:?}"),
        },
        other => match other.items()[0] {
            V::Int(n) => n,
            ref first => panic!("total: {first:?}"),
        },
    }
}

#[test]
fn fail_policy_answers_the_timeout_error() {
    let (_server, mut c) = server();
    set(&mut c, "ON_TIMEOUT", "FAIL");
    for protocol in ["2", "3"] {
        c.cmd(&["HELLO", protocol]);
        assert_eq!(search(&mut c, &["TIMEOUT", "1"]), V::err(TIMEOUT_ERROR));
        assert_eq!(aggregate(&mut c, &["TIMEOUT", "1"]), V::err(TIMEOUT_ERROR));
        let cursor = aggregate(&mut c, &["TIMEOUT", "1", "WITHCURSOR", "COUNT", "10"]);
        assert_eq!(cursor, V::err(TIMEOUT_ERROR));
        // The setting is the budget when the query gives none; TIMEOUT 0 lifts it.
        set(&mut c, "TIMEOUT", "1");
        assert_eq!(search(&mut c, &[]), V::err(TIMEOUT_ERROR));
        let whole = search(&mut c, &["TIMEOUT", "0", "NOCONTENT"]);
        assert_eq!(total(&whole), DOCS as i64, "{protocol}");
        set(&mut c, "TIMEOUT", "500");
        // A generous budget changes nothing.
        let whole = aggregate(&mut c, &["TIMEOUT", "60000"]);
        assert_eq!(total(&whole), DOCS as i64, "{protocol}");
    }
}

#[test]
fn return_policy_answers_partial_results() {
    let (_server, mut c) = server();
    set(&mut c, "ON_TIMEOUT", "RETURN");
    // RESP2: partial results, nothing says so.
    let reply = search(&mut c, &["TIMEOUT", "1", "NOCONTENT"]);
    let partial = total(&reply);
    assert!(partial < DOCS as i64, "{partial}");
    assert_eq!(reply.items().len() as i64, partial + 1);
    let reply = aggregate(&mut c, &["TIMEOUT", "1"]);
    let partial = total(&reply);
    assert!(partial < DOCS as i64, "{partial}");
    // Each row gathered went through the whole pipeline.
    for row in &reply.items()[1..] {
        let row = row.items();
        let n: i64 = row[1].text().parse().expect("n");
        assert_eq!(row[2..], [V::bulk("m"), V::bulk(&(2 * n).to_string())]);
    }
    // RESP3: the same, with the warning.
    c.q("HELLO 3");
    let warned = V::Array(vec![V::Simple(TIMEOUT_ERROR.into())]);
    for reply in [
        search(&mut c, &["TIMEOUT", "1"]),
        aggregate(&mut c, &["TIMEOUT", "1"]),
    ] {
        assert_eq!(reply.field("warning"), warned);
        let results = reply.field("results").items();
        assert!(total(&reply) < DOCS as i64);
        assert_eq!(results.len() as i64, total(&reply));
    }
    let whole = search(&mut c, &["TIMEOUT", "0", "LIMIT", "0", "0"]);
    assert_eq!(whole.field("warning"), V::Array(Vec::new()));
    assert_eq!(total(&whole), DOCS as i64);
}

#[test]
fn profile_reports_the_timeout_as_a_warning_under_either_policy() {
    let (_server, mut c) = server();
    for policy in ["FAIL", "RETURN"] {
        set(&mut c, "ON_TIMEOUT", policy);
        c.q("HELLO 2");
        for kind in ["SEARCH", "AGGREGATE"] {
            let reply = c.cmd(&[
                "FT.PROFILE",
                "idx",
                kind,
                "QUERY",
                "@n:[-inf +inf]",
                "TIMEOUT",
                "1",
            ]);
            let profile = reply.items()[1].items();
            let warning = profile
                .iter()
                .map(V::items)
                .find(|r| r[0].text() == "Warning")
                .expect("Warning");
            assert_eq!(
                warning,
                [V::Simple("Warning".into()), V::Simple(TIMEOUT_ERROR.into())]
            );
        }
        c.q("HELLO 3");
        let reply = c.cmd(&[
            "FT.PROFILE",
            "idx",
            "SEARCH",
            "QUERY",
            "@n:[-inf +inf]",
            "TIMEOUT",
            "1",
        ]);
        let profile = reply.field("profile");
        assert_eq!(profile.field("Warning"), V::Simple(TIMEOUT_ERROR.into()));
        let results = reply.field("warning");
        assert_eq!(results, V::Array(vec![V::Simple(TIMEOUT_ERROR.into())]));
    }
}

#[test]
fn timeout_argument_errors() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("FT.CREATE idx SCHEMA n NUMERIC"), V::ok());
    for command in ["FT.SEARCH", "FT.AGGREGATE"] {
        assert_eq!(
            c.cmd(&[command, "idx", "*", "TIMEOUT"]),
            V::err("Need argument for TIMEOUT")
        );
        for bad in ["-1", "soon", "1.5", ""] {
            assert_eq!(
                c.cmd(&[command, "idx", "*", "TIMEOUT", bad]),
                V::err("TIMEOUT requires a non negative integer"),
                "{command} {bad}"
            );
        }
        for fine in ["0", "18446744073709551615"] {
            assert!(!c.cmd(&[command, "idx", "*", "TIMEOUT", fine]).is_error());
        }
    }
}
