//! FT.CREATE / FT.INFO / FT._LIST / FT.DROPINDEX / FT.ALIAS* / FT.TAGVALS / FT.CONFIG and the
//! module advertisement, end to end: reply shapes in RESP2 and RESP3 and RediSearch's error
//! texts.

mod common;

use common::{Server, V};

#[test]
fn create_errors_have_redisearch_texts() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let cases = [
        ("FT.CREATE idx FOO SCHEMA t TEXT", "Unknown argument `FOO`"),
        ("FT.CREATE idx ON HASH", "No schema found"),
        ("FT.CREATE idx SCHEMA", "Fields arguments are missing"),
        (
            "FT.CREATE idx ON JSON SCHEMA t TEXT",
            "Invalid rule type: JSON",
        ),
        (
            "FT.CREATE idx SCHEMA t TEXT t TAG",
            "Duplicate field in schema - t",
        ),
        (
            "FT.CREATE idx SCHEMA loc GEO",
            "Invalid field type for field `loc`",
        ),
        (
            "FT.CREATE idx SCHEMA v VECTOR HNSW 6 TYPE FLOAT16 DIM 4 DISTANCE_METRIC L2",
            "Bad arguments for vector similarity HNSW index `TYPE`: Unknown argument",
        ),
        (
            "FT.CREATE idx SCHEMA v VECTOR FLAT 4 TYPE FLOAT32 DIM 4",
            "Missing mandatory parameter: cannot create FLAT index without specifying DISTANCE_METRIC argument",
        ),
    ];
    for (command, error) in cases {
        assert_eq!(c.q(command), V::err(error), "{command}");
    }
    assert_eq!(
        c.q("FT.CREATE"),
        V::err("ERR wrong number of arguments for 'ft.create' command")
    );
    assert_eq!(c.q("FT._LIST"), V::Array(vec![]));
}

#[test]
fn create_refuses_other_databases() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("SELECT 1"), V::ok());
    assert_eq!(
        c.q("FT.CREATE idx SCHEMA t TEXT"),
        V::err("Cannot create index on db != 0")
    );
}

#[test]
fn dropindex_of_unknown_index() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("FT.DROPINDEX nope"), V::err("Unknown Index name"));
    assert_eq!(c.q("FT.DROPINDEX nope DD"), V::err("Unknown Index name"));
    assert_eq!(
        c.q("FT.DROPINDEX nope DD x"),
        V::err("ERR wrong number of arguments for 'ft.dropindex' command")
    );
}

#[test]
fn list_is_a_set_in_resp3() {
    let server = Server::start(&[]);
    let mut c = server.client();
    c.resp3();
    assert_eq!(c.q("FT._LIST"), V::Set(vec![]));
}
