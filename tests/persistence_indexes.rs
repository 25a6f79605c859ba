//! Every kind of search index comes back after a restart, through a snapshot, through the
//! AOF's incremental file and through a rewritten AOF base: the same definitions (FT.INFO's
//! attributes and options, aliases, synonyms, dictionaries) and the same answers to queries
//! of every kind (text with weights, stems and phonetics, tags, numeric ranges, geo radius,
//! FLAT and HNSW KNN, FILTER expressions, sorting, aggregation).
//!
//! Run: `cargo test --test persistence_indexes`.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::ft::{knn_blob, wait_indexed};
use common::{Client, Server, TempDir, V};

const INDEXES: &[&str] = &[
    "FT.CREATE idx ON HASH PREFIX 2 doc: item: LANGUAGE english SCORE 0.5 STOPWORDS 2 the a \
     SCHEMA title TEXT WEIGHT 2.0 body TEXT NOSTEM tags TAG SEPARATOR ; CASESENSITIVE \
     price NUMERIC SORTABLE loc GEO \
     v VECTOR FLAT 6 TYPE FLOAT32 DIM 4 DISTANCE_METRIC L2 \
     h VECTOR HNSW 10 TYPE FLOAT32 DIM 4 DISTANCE_METRIC COSINE M 8 EF_CONSTRUCTION 50",
    "FT.CREATE dear PREFIX 1 doc: FILTER @price>50 SCHEMA name TEXT PHONETIC dm:en price NUMERIC",
    "FT.ALIASADD things idx",
    "FT.SYNUPDATE idx grp quick fast",
    "FT.DICTADD words alpha beta",
];

const TITLES: &[&str] = &[
    "quick running fox",
    "fast runner",
    "the lazy dog",
    "a smith and a smyth",
    "running water",
];

fn blob(v: [f32; 4]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn vector(i: usize) -> [f32; 4] {
    let f = i as f32;
    [f.sin(), (f * 0.3).cos(), (f * 0.7).sin() + 1.0, f % 5.0]
}

fn fill(c: &mut Client) {
    for q in INDEXES {
        assert!(!c.q(q).is_error(), "{q}");
    }
    for i in 0..300 {
        let key = format!("{}:{i}", if i % 3 == 0 { "item" } else { "doc" });
        let title = TITLES[i % TITLES.len()];
        let body = format!("running note {}", i % 7);
        let tags = ["A", "a;B", "C;b", "A;C"][i % 4];
        let price = (i * 7 % 100).to_string();
        let loc = format!("{:.4},{:.4}", (i % 20) as f64 * 0.1, (i / 20) as f64 * 0.1);
        let name = ["smith", "smyth", "jones"][i % 3];
        let v = blob(vector(i));
        c.send(&[
            b"HSET".as_ref(),
            key.as_bytes(),
            b"title",
            title.as_bytes(),
            b"body",
            body.as_bytes(),
            b"tags",
            tags.as_bytes(),
            b"price",
            price.as_bytes(),
            b"loc",
            loc.as_bytes(),
            b"name",
            name.as_bytes(),
            b"v",
            &v,
            b"h",
            &v,
        ]);
    }
    for _ in 0..300 {
        assert!(!c.read().is_error());
    }
}

/// A reply with the order of its rows left out (ties are ordered by document id, and ids
/// are handed out afresh by the scan after a load, as in RediSearch). A row is `per_row`
/// items after the leading total (FT.SEARCH: id, score, fields), or one item when the reply
/// has no total.
fn normalised(reply: &V, per_row: usize) -> String {
    let items = reply.items();
    let (head, rows) = match items.first() {
        Some(V::Int(total)) => (format!("{total} "), &items[1..]),
        _ => (String::new(), &items[..]),
    };
    let mut rows: Vec<String> = rows.chunks(per_row).map(|r| format!("{r:?}")).collect();
    rows.sort();
    format!("{head}{rows:?}")
}

/// What the indexes hold and answer, normalised.
fn answers(c: &mut Client) -> Vec<String> {
    for index in ["idx", "dear"] {
        wait_indexed(c, index);
    }
    let q = blob(vector(42));
    let mut out = Vec::new();
    for query in [
        "@title:run",
        "@body:run",
        "@body:running",
        "quick",
        "@tags:{A}",
        "@tags:{a}",
        "@tags:{B} -@tags:{C}",
        "@price:[10 (50]",
        "@loc:[0 0 30 km]",
        "(@title:running) | (@tags:{C} @price:[90 +inf])",
    ] {
        out.push(format!(
            "{query}: {}",
            normalised(
                &c.cmd(&[
                    "FT.SEARCH",
                    "things",
                    query,
                    "WITHSCORES",
                    "RETURN",
                    "1",
                    "price",
                    "LIMIT",
                    "0",
                    "1000",
                    "DIALECT",
                    "2"
                ]),
                3
            )
        ));
    }
    for (field, extra) in [("v", ""), ("h", " EF_RUNTIME 300")] {
        let query = format!("@price:[0 80]=>[KNN 7 @{field} $q{extra} AS d]");
        let hits = knn_blob(c, "idx", &query, &q, 7).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(hits.len(), 7, "{query}");
        out.push(format!("{query}: {hits:?}"));
    }
    // Ties may come in another order: the sorted values may not.
    let sorted = c.q("FT.SEARCH idx @tags:{C} SORTBY price DESC RETURN 1 price LIMIT 0 20");
    let prices: Vec<String> = sorted
        .items()
        .iter()
        .skip(2)
        .step_by(2)
        .map(|fields| fields.items()[1].text())
        .collect();
    out.push(format!("sorted: {prices:?}"));
    out.push(format!(
        "phonetic: {}",
        normalised(&c.q("FT.SEARCH dear @name:smith NOCONTENT LIMIT 0 1000"), 1)
    ));
    out.push(format!(
        "aggregate: {}",
        normalised(&c.q(
            "FT.AGGREGATE idx * LOAD 1 @tags GROUPBY 1 @tags REDUCE COUNT 0 AS n REDUCE SUM 1 @price AS total"
        ), 1)
    ));
    for index in ["idx", "dear"] {
        let info = c.cmd(&["FT.INFO", index]).items();
        for field in [
            "index_definition",
            "attributes",
            "num_docs",
            "index_options",
        ] {
            let at = info
                .iter()
                .position(|v| matches!(v, V::Bulk(_) | V::Simple(_)) && v.text() == field)
                .unwrap();
            out.push(format!("{index} {field}: {:?}", info[at + 1]));
        }
    }
    out.push(format!("syn: {}", normalised(&c.q("FT.SYNDUMP idx"), 2)));
    out.push(format!(
        "dict: {}",
        normalised(&c.q("FT.DICTDUMP words"), 1)
    ));
    out.push(format!("aliased: {:?}", c.q("FT.INFO things").items()[1]));
    out
}

fn ferro(dir: &TempDir, extra: &[&str]) -> Server {
    let mut args = vec!["--dir", dir.str()];
    args.extend_from_slice(extra);
    Server::start(&args)
}

fn shutdown(mut server: Server, c: &mut Client) {
    c.send(&["SHUTDOWN"]);
    assert!(server.wait_exit(Duration::from_secs(30)).is_some());
}

/// Every query matched something (so the comparisons after a restart mean something),
/// but the one NOSTEM must keep empty.
fn assert_all_match(answers: &[String]) {
    for answer in answers.iter().filter(|a| !a.starts_with("@body:run:")) {
        assert!(!answer.contains(": 0 ["), "{answer}");
    }
}

fn assert_same(got: &[String], want: &[String], how: &str) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g, w, "after {how}");
    }
}

#[test]
fn every_index_kind_survives_a_snapshot() {
    let dir = TempDir::new("idx-rdb");
    let server = ferro(&dir, &[]);
    let mut c = server.client();
    fill(&mut c);
    let before = answers(&mut c);
    assert_all_match(&before);
    assert_eq!(c.q("SAVE"), V::ok());
    drop(server);
    let server = ferro(&dir, &[]);
    let mut c = server.client();
    assert_same(&answers(&mut c), &before, "a snapshot");
}

#[test]
fn every_index_kind_survives_the_aof_from_incr_and_from_a_rewritten_base() {
    let dir = TempDir::new("idx-aof");
    let server = ferro(&dir, &["--appendonly", "yes"]);
    let mut c = server.client();
    fill(&mut c);
    let before = answers(&mut c);
    assert_all_match(&before);
    shutdown(server, &mut c);

    let server = ferro(&dir, &["--appendonly", "yes"]);
    let mut c = server.client();
    assert_same(&answers(&mut c), &before, "the incremental file");
    c.q("BGREWRITEAOF");
    server
        .log_line(
            "Background AOF rewrite finished successfully",
            Duration::from_secs(30),
        )
        .expect("the rewrite finishes");
    shutdown(server, &mut c);

    let server = ferro(&dir, &["--appendonly", "yes"]);
    let mut c = server.client();
    assert_same(&answers(&mut c), &before, "a rewritten base");
}
