//! FT.ALTER ... SCHEMA ADD end to end: new fields of every type are indexed for existing and
//! new documents (existing ones left without them under SKIPINITIALSCAN), aliases and
//! FT.INFO follow, and errors carry RediSearch's texts.

mod common;

use std::collections::BTreeSet;

use common::ft::{blob, ft_info, search_ids, wait_indexed};
use common::{Client, Server, V};

fn ids(c: &mut Client, index: &str, query: &str) -> BTreeSet<String> {
    search_ids(c, index, query).unwrap_or_else(|e| panic!("{e}"))
}

fn set(keys: &str) -> BTreeSet<String> {
    keys.split_whitespace().map(String::from).collect()
}

#[test]
fn added_fields_index_existing_and_new_documents() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("FT.CREATE idx PREFIX 1 d: SCHEMA t TEXT"), V::ok());
    assert_eq!(c.q("FT.ALIASADD al idx"), V::ok());
    let v = blob(&[1.0, 0.0]);
    for (key, n) in [("d:1", "5"), ("d:2", "50")] {
        let reply = c.cmd(&[
            "HSET".as_bytes(),
            key.as_bytes(),
            b"t",
            b"hello",
            b"n",
            n.as_bytes(),
            b"tags",
            b"a,b",
            b"loc",
            b"13.36,38.11",
            b"v",
            &v,
        ]);
        assert_eq!(reply, V::Int(5));
    }
    wait_indexed(&mut c, "idx");
    assert_eq!(ids(&mut c, "idx", "hello"), set("d:1 d:2"));

    let altered = c.q(
        "FT.ALTER idx SCHEMA ADD n NUMERIC SORTABLE tags TAG loc GEO \
         v VECTOR HNSW 6 TYPE FLOAT32 DIM 2 DISTANCE_METRIC L2",
    );
    assert_eq!(altered, V::ok());
    wait_indexed(&mut c, "idx");
    assert_eq!(ids(&mut c, "idx", "@n:[1 10]"), set("d:1"));
    assert_eq!(ids(&mut c, "al", "@tags:{b}"), set("d:1 d:2"));
    assert_eq!(
        ids(&mut c, "idx", "@loc:[13.36 38.11 1 km]"),
        set("d:1 d:2")
    );
    assert_eq!(ids(&mut c, "idx", "hello"), set("d:1 d:2"));
    let knn = c.cmd(&[
        "FT.SEARCH".as_bytes(),
        b"idx",
        b"*=>[KNN 1 @v $q]",
        b"NOCONTENT",
        b"PARAMS",
        b"2",
        b"q",
        &v,
        b"DIALECT",
        b"2",
    ]);
    assert_eq!(knn.items()[0], V::Int(1));

    // Documents written afterwards get the new fields too.
    c.q("HSET d:3 t bye n 7");
    assert_eq!(ids(&mut c, "idx", "@n:[1 10]"), set("d:1 d:3"));

    // FT.INFO lists the attributes in schema order.
    let info = ft_info(&mut c, "idx").unwrap();
    let names: Vec<String> = info["attributes"]
        .items()
        .iter()
        .map(|a| {
            let a = a.items();
            let at = a.iter().position(|v| v.text() == "attribute").unwrap();
            a[at + 1].text()
        })
        .collect();
    assert_eq!(names, ["t", "n", "tags", "loc", "v"]);
    assert_eq!(info["num_docs"], V::Int(3));
}

#[test]
fn alter_errors() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("FT.CREATE idx SCHEMA t TEXT"), V::ok());
    let cases = [
        ("FT.ALTER nope SCHEMA ADD x TAG", "Unknown index name"),
        ("FT.ALTER idx ADD x TAG", "ALTER must be followed by SCHEMA"),
        (
            "FT.ALTER idx SCHEMA x TAG",
            "Unknown action passed to ALTER SCHEMA",
        ),
        ("FT.ALTER idx SCHEMA ADD", "No fields provided"),
        (
            "FT.ALTER idx SCHEMA ADD t TAG",
            "Duplicate field in schema - t",
        ),
        (
            "FT.ALTER idx SCHEMA ADD x",
            "Field `x` does not have a type",
        ),
        (
            "FT.ALTER idx SCHEMA ADD x GEOSHAPE",
            "Invalid field type for field `x`",
        ),
    ];
    for (command, error) in cases {
        assert_eq!(c.q(command), V::err(error), "{command}");
    }
    // A failed ALTER leaves the index as it was.
    let info = ft_info(&mut c, "idx").unwrap();
    assert_eq!(info["attributes"].items().len(), 1);
    assert_eq!(
        c.q("FT.ALTER idx SKIPINITIALSCAN SCHEMA ADD x TAG"),
        V::ok()
    );
    let info = ft_info(&mut c, "idx").unwrap();
    assert_eq!(info["attributes"].items().len(), 2);
}

#[test]
fn skipinitialscan_leaves_existing_documents_without_the_added_fields() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("FT.CREATE idx PREFIX 1 d: SCHEMA t TEXT"), V::ok());
    c.q("HSET d:1 t hello n 5");
    c.q("HSET d:2 t hello n 6");
    wait_indexed(&mut c, "idx");
    assert_eq!(
        c.q("FT.ALTER idx SKIPINITIALSCAN SCHEMA ADD n NUMERIC"),
        V::ok()
    );
    wait_indexed(&mut c, "idx");
    // The existing documents stay indexed by their old fields only...
    assert_eq!(ids(&mut c, "idx", "hello"), set("d:1 d:2"));
    assert_eq!(ids(&mut c, "idx", "@n:[0 10]"), set(""));
    // ...until written again; new documents get every field.
    c.q("HSET d:2 t hello");
    c.q("HSET d:3 t other n 7");
    assert_eq!(ids(&mut c, "idx", "@n:[0 10]"), set("d:2 d:3"));
    // Without SKIPINITIALSCAN the scan indexes the added fields of every document.
    assert_eq!(c.q("FT.ALTER idx SCHEMA ADD t2 TEXT"), V::ok());
    wait_indexed(&mut c, "idx");
    assert_eq!(ids(&mut c, "idx", "@n:[0 10]"), set("d:1 d:2 d:3"));
}
