//! FT.SPELLCHECK and FT.DICTADD / DICTDEL / DICTDUMP against a real server: suggestions and
//! their scores, INCLUDE / EXCLUDE dictionaries, DISTANCE, RESP2 and RESP3 reply shapes and
//! RediSearch's error texts (cases follow RediSearch's test_spell_check.py).

// Integration test helpers: panicking is how a test reports a broken set-up.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Client, Server, V};

fn setup() -> (Server, Client) {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(
        c.q("FT.CREATE idx ON HASH PREFIX 1 doc: SCHEMA name TEXT body TEXT"),
        V::ok()
    );
    c.q("HSET doc:1 name name1 body body1");
    c.q("HSET doc:2 name name2 body body2");
    c.q("HSET doc:3 name name2 body name2");
    (server, c)
}

fn pair(score: &str, term: &str) -> V {
    V::Array(vec![V::bulk(score), V::bulk(term)])
}

fn term(word: &str, suggestions: Vec<V>) -> V {
    V::Array(vec![
        V::Simple("TERM".into()),
        V::bulk(word),
        V::Array(suggestions),
    ])
}

#[test]
fn dictionaries() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("FT.DICTADD dict term1 term2 term3"), V::Int(3));
    assert_eq!(c.q("FT.DICTADD dict term1 term2 term4"), V::Int(1));
    assert_eq!(
        c.q("FT.DICTDUMP dict"),
        V::Array(["term1", "term2", "term3", "term4"].map(V::bulk).to_vec())
    );
    assert_eq!(c.q("FT.DICTDEL dict term1 term2 term5"), V::Int(2));
    assert_eq!(c.q("FT.DICTDEL nosuch term1"), V::Int(0));
    // Dictionaries are not keys.
    assert_eq!(c.q("KEYS *"), V::Array(vec![]));
    c.resp3();
    assert_eq!(
        c.q("FT.DICTDUMP dict"),
        V::Set(vec![V::bulk("term3"), V::bulk("term4")])
    );
    assert_eq!(c.q("FT.DICTDEL dict term3 term4"), V::Int(2));
    assert_eq!(c.q("FT.DICTDUMP dict"), V::err("could not open dict key"));
    for line in ["FT.DICTADD dict", "FT.DICTDEL dict", "FT.DICTDUMP"] {
        assert!(c.q(line).text().starts_with("ERR wrong number"), "{line}");
    }
}

#[test]
fn suggestions_and_scores() {
    let (_server, mut c) = setup();
    assert_eq!(
        c.q("FT.SPELLCHECK idx name"),
        V::Array(vec![term(
            "name",
            vec![
                pair("0.66666666666666663", "name2"),
                pair("0.33333333333333331", "name1")
            ]
        )])
    );
    // Only body holds name2: the suggestion keeps its score over every field.
    assert_eq!(
        c.q("FT.SPELLCHECK idx @body:name"),
        V::Array(vec![term(
            "name",
            vec![pair("0.66666666666666663", "name2")]
        )])
    );
    assert_eq!(
        c.q("FT.SPELLCHECK idx somenotexiststext"),
        V::Array(vec![term("somenotexiststext", vec![])])
    );
    // A word the index holds is not reported.
    assert_eq!(c.q("FT.SPELLCHECK idx name2"), V::Array(vec![]));
    // "bod" is two insertions away from body1 and body2: DISTANCE 2 reaches them.
    assert_eq!(
        c.q("FT.SPELLCHECK idx bod DISTANCE 2"),
        V::Array(vec![term(
            "bod",
            vec![
                pair("0.33333333333333331", "body1"),
                pair("0.33333333333333331", "body2")
            ]
        )])
    );
    assert_eq!(
        c.q("FT.SPELLCHECK idx bod"),
        V::Array(vec![term("bod", vec![])])
    );
}

#[test]
fn include_and_exclude_dictionaries() {
    let (_server, mut c) = setup();
    c.q("FT.DICTADD dict name1 name4 name5");
    c.q("FT.DICTADD ex name");
    assert_eq!(
        c.q("FT.SPELLCHECK idx name TERMS INCLUDE dict"),
        V::Array(vec![term(
            "name",
            vec![
                pair("0.66666666666666663", "name2"),
                pair("0.33333333333333331", "name1"),
                pair("0", "name4"),
                pair("0", "name5"),
            ]
        )])
    );
    // An indexed dictionary term absent from the word's fields is left out; others score 0.
    assert_eq!(
        c.q("FT.SPELLCHECK idx @body:name TERMS INCLUDE dict"),
        V::Array(vec![term(
            "name",
            vec![
                pair("0.66666666666666663", "name2"),
                pair("0", "name4"),
                pair("0", "name5"),
            ]
        )])
    );
    assert_eq!(
        c.q("FT.SPELLCHECK idx name TERMS exclude ex"),
        V::Array(vec![])
    );
    assert_eq!(
        c.q("FT.SPELLCHECK idx name TERMS INCLUDE nosuch"),
        V::err("Dict does not exist: nosuch")
    );
}

#[test]
fn resp3_map() {
    let (_server, mut c) = setup();
    c.resp3();
    assert_eq!(
        c.q("FT.SPELLCHECK idx name"),
        V::Map(vec![(
            V::bulk("results"),
            V::Map(vec![(
                V::bulk("name"),
                V::Array(vec![
                    V::Map(vec![(
                        V::bulk("name2"),
                        V::Double("0.6666666666666666".into())
                    )]),
                    V::Map(vec![(
                        V::bulk("name1"),
                        V::Double("0.3333333333333333".into())
                    )]),
                ])
            )])
        )])
    );
}

#[test]
fn errors() {
    let (_server, mut c) = setup();
    let cases: &[(&str, &str)] = &[
        ("FT.SPELLCHECK nosuch name", "Unknown Index name"),
        (
            "FT.SPELLCHECK idx name DISTANCE",
            "DISTANCE arg is given but no DISTANCE comes after",
        ),
        (
            "FT.SPELLCHECK idx name DISTANCE 5",
            "bad distance given, distance must be a natural number between 1 to 4",
        ),
        (
            "FT.SPELLCHECK idx name TERMS INCLUDE",
            "TERM arg is given but no TERM params comes after",
        ),
        (
            "FT.SPELLCHECK idx name TERMS FOO d",
            "bad format, exlude/include operation was not given",
        ),
        (
            "FT.SPELLCHECK idx",
            "ERR wrong number of arguments for 'ft.spellcheck' command",
        ),
    ];
    for (line, want) in cases {
        assert_eq!(c.q(line), V::err(want), "{line}");
    }
}

/// Dictionaries are no keys, yet flushing database 0 drops them, as RediSearch's flush
/// handler does; flushing another database leaves them. Suggestion dictionaries are keys:
/// FLUSHALL takes them too.
#[test]
fn flushing_database_zero_drops_dictionaries() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let gone = V::err("could not open dict key");
    assert_eq!(c.q("FT.DICTADD d a b"), V::Int(2));
    assert_eq!(c.q("FT.SUGADD sug hello 1"), V::Int(1));
    c.q("SELECT 1");
    assert_eq!(c.q("FLUSHDB"), V::ok());
    assert_eq!(c.q("FT.DICTDUMP d").items().len(), 2);
    c.q("SELECT 0");
    assert_eq!(c.q("FLUSHDB"), V::ok());
    assert_eq!(c.q("FT.DICTDUMP d"), gone);
    assert_eq!(c.q("FT.DICTADD d a"), V::Int(1));
    assert_eq!(c.q("FT.SUGADD sug hello 1"), V::Int(1));
    assert_eq!(c.q("FLUSHALL"), V::ok());
    assert_eq!(c.q("FT.DICTDUMP d"), gone);
    assert_eq!(c.q("FT.SUGLEN sug"), V::Int(0));
}
