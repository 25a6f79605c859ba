//! FT.SYNUPDATE / FT.SYNDUMP against a real server: groups, dumps in RESP2 and RESP3, and
//! FT.SEARCH matching a word's synonyms.

// Integration test helpers: panicking is how a test reports a broken set-up.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Client, Server, V};

fn setup() -> (Server, Client) {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(
        c.q("FT.CREATE idx ON HASH PREFIX 1 doc: SCHEMA t TEXT"),
        V::ok()
    );
    c.q("HSET doc:1 t boy");
    c.q("HSET doc:2 t child");
    c.q("HSET doc:3 t kid");
    c.q("HSET doc:4 t other");
    (server, c)
}

fn keys(reply: V) -> Vec<String> {
    let mut keys: Vec<String> = reply.items()[1..].iter().map(V::text).collect();
    keys.sort();
    keys
}

#[test]
fn search_matches_synonyms() {
    let (_server, mut c) = setup();
    assert_eq!(keys(c.q("FT.SEARCH idx boy NOCONTENT")), ["doc:1"]);
    assert_eq!(
        c.q("FT.SYNUPDATE idx g1 SKIPINITIALSCAN Boy child"),
        V::ok()
    );
    assert_eq!(c.q("FT.SYNUPDATE idx g2 child kid"), V::ok());
    assert_eq!(keys(c.q("FT.SEARCH idx boy NOCONTENT")), ["doc:1", "doc:2"]);
    assert_eq!(
        keys(c.q("FT.SEARCH idx child NOCONTENT")),
        ["doc:1", "doc:2", "doc:3"]
    );
    assert_eq!(keys(c.q("FT.SEARCH idx other NOCONTENT")), ["doc:4"]);
    // Documents written after the update match too.
    c.q("HSET doc:5 t kid");
    assert_eq!(
        keys(c.q("FT.SEARCH idx child NOCONTENT")),
        ["doc:1", "doc:2", "doc:3", "doc:5"]
    );
}

#[test]
fn dump_in_both_protocols() {
    let (_server, mut c) = setup();
    c.q("FT.SYNUPDATE idx g1 boy child");
    c.q("FT.SYNUPDATE idx g2 child kid");
    let group = |ids: &[&str]| V::Array(ids.iter().map(|i| V::bulk(i)).collect());
    assert_eq!(
        c.q("FT.SYNDUMP idx"),
        V::Array(vec![
            V::bulk("boy"),
            group(&["g1"]),
            V::bulk("child"),
            group(&["g1", "g2"]),
            V::bulk("kid"),
            group(&["g2"]),
        ])
    );
    c.resp3();
    assert_eq!(
        c.q("FT.SYNDUMP idx"),
        V::Map(vec![
            (V::bulk("boy"), group(&["g1"])),
            (V::bulk("child"), group(&["g1", "g2"])),
            (V::bulk("kid"), group(&["g2"])),
        ])
    );
}

#[test]
fn errors() {
    let (_server, mut c) = setup();
    assert_eq!(c.q("FT.SYNUPDATE nosuch g a"), V::err("Unknown index name"));
    assert_eq!(c.q("FT.SYNDUMP nosuch"), V::err("nosuch: no such index"));
    assert_eq!(
        c.q("FT.SYNUPDATE idx g"),
        V::err("ERR wrong number of arguments for 'ft.synupdate' command")
    );
    assert_eq!(c.q("FT.SYNDUMP idx"), V::Array(vec![]));
}
