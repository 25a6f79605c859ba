//! FT.EXPLAIN / FT.EXPLAINCLI against a real server: RediSearch's plan layout, FT.SEARCH's
//! arguments accepted (redis-py sends LIMIT and DIALECT), PARAMS, the default dialect, and
//! RediSearch's error texts.

// Integration test helpers: panicking is how a test reports a broken set-up.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Client, Server, V};

fn setup() -> (Server, Client) {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(
        c.q(
            "FT.CREATE idx ON HASH PREFIX 1 doc: SCHEMA t TEXT tg TAG n NUMERIC \
             v VECTOR HNSW 6 TYPE FLOAT32 DIM 2 DISTANCE_METRIC L2"
        ),
        V::ok()
    );
    (server, c)
}

fn explain(c: &mut Client, args: &[&[u8]]) -> V {
    let mut argv: Vec<&[u8]> = vec![b"FT.EXPLAIN", b"idx"];
    argv.extend_from_slice(args);
    c.cmd(&argv)
}

#[test]
fn plans_in_redisearch_layout() {
    let (_server, mut c) = setup();
    let cases: &[(&str, &str)] = &[
        (
            "hello world | @n:[10 (20]",
            "UNION {\n  INTERSECT {\n    hello\n    world\n  }\n  NUMERIC {10.000000 <= @n < 20.000000}\n}\n",
        ),
        ("@tg:{a | b\\ c}", "TAG:@tg {\n  a\n  b c\n}\n"),
        ("-@t:hello", "NOT{\n  @t:hello\n}\n"),
        ("*", "<WILDCARD>\n"),
        ("the AND a", "<empty>\n"),
    ];
    for (query, want) in cases {
        let got = explain(&mut c, &[query.as_bytes(), b"DIALECT", b"2"]);
        assert_eq!(got, V::bulk(want), "{query}");
    }
}

#[test]
fn knn_with_params_and_search_options() {
    let (_server, mut c) = setup();
    let blob: Vec<u8> = [1.0f32, 0.0].iter().flat_map(|f| f.to_le_bytes()).collect();
    // redis-py's explain() sends the whole FT.SEARCH argument list.
    let got = explain(
        &mut c,
        &[
            b"(@tg:{x})=>[KNN $k @v $vec EF_RUNTIME 20 AS dist]",
            b"RETURN",
            b"1",
            b"dist",
            b"SORTBY",
            b"dist",
            b"ASC",
            b"DIALECT",
            b"2",
            b"LIMIT",
            b"0",
            b"10",
            b"PARAMS",
            b"4",
            b"k",
            b"5",
            b"vec",
            &blob,
        ],
    );
    assert_eq!(
        got,
        V::bulk(
            "VECTOR {\n  TAG:@tg {\n    x\n  }\n} => {K=5 nearest vectors to `$vec` in vector index \
             associated with field @v, EF_RUNTIME = 20, yields distance as `dist`}\n"
        )
    );
}

#[test]
fn explaincli_returns_lines() {
    let (_server, mut c) = setup();
    let got = c.cmd(&[
        b"FT.EXPLAINCLI".as_ref(),
        b"idx",
        b"@n:[1 2] | x",
        b"DIALECT",
        b"2",
    ]);
    let want = [
        "UNION {",
        "  NUMERIC {1.000000 <= @n <= 2.000000}",
        "  x",
        "}",
        "",
    ];
    assert_eq!(got, V::Array(want.iter().map(|l| V::bulk(l)).collect()));
}

#[test]
fn default_dialect_is_one() {
    let (_server, mut c) = setup();
    // Dialect 1: `|` binds tighter than juxtaposition.
    assert_eq!(
        explain(&mut c, &[b"x1 y1 | z1"]),
        V::bulk("INTERSECT {\n  x1\n  UNION {\n    y1\n    z1\n  }\n}\n")
    );
    assert_eq!(
        explain(&mut c, &[b"x1 y1 | z1", b"DIALECT", b"2"]),
        V::bulk("UNION {\n  INTERSECT {\n    x1\n    y1\n  }\n  z1\n}\n")
    );
    // No KNN in dialect 1.
    assert_eq!(
        explain(&mut c, &[b"*=>[KNN 2 @v $b]"]),
        V::err("Syntax error at offset 1 near =>")
    );
}

#[test]
fn errors() {
    let (_server, mut c) = setup();
    assert_eq!(c.q("FT.EXPLAIN nosuch *"), V::err("nosuch: no such index"));
    assert_eq!(
        explain(&mut c, &[b"@bad:{x}", b"DIALECT", b"2"]),
        V::err("Unknown field at offset 0 near bad")
    );
    assert_eq!(
        explain(
            &mut c,
            &[
                b"*=>[KNN 2 @tg $b]",
                b"DIALECT",
                b"2",
                b"PARAMS",
                b"2",
                b"b",
                b"x"
            ]
        ),
        V::err("Expected a VECTOR field at offset 10 near tg")
    );
    assert_eq!(
        explain(&mut c, &[b"*=>[KNN 2 @v $b]", b"DIALECT", b"2"]),
        V::err("No such parameter `b`")
    );
    assert_eq!(
        explain(&mut c, &[b"(a b", b"DIALECT", b"2"]),
        V::err("Syntax error at offset 3 near b")
    );
    assert!(c.q("FT.EXPLAIN idx").is_error());
    // The connection is still usable.
    assert_eq!(c.q("PING"), V::Simple("PONG".into()));
}

#[test]
fn resp3_reply_is_a_bulk_string() {
    let (_server, mut c) = setup();
    c.resp3();
    assert_eq!(
        explain(&mut c, &[b"@n:[-inf 5]", b"DIALECT", b"2"]),
        V::bulk("NUMERIC {-inf <= @n <= 5.000000}\n")
    );
}
