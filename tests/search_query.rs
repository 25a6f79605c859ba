//! FT.SEARCH end to end: every option, RESP2 and RESP3 reply shapes (byte-exact where clients
//! parse them), KNN over FLAT and HNSW with filters, VECTOR_RANGE, SORTBY / LIMIT / RETURN /
//! NOCONTENT / WITHSCORES combinations, and RediSearch's error texts — plus garbage that must
//! never take the server down.

mod common;

use common::{Client, Server, V};

fn blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn b(s: &str) -> V {
    V::bulk(s)
}

fn arr(items: Vec<V>) -> V {
    V::Array(items)
}

/// Runs a command given as byte-string arguments.
fn run(c: &mut Client, args: &[&[u8]]) -> V {
    c.cmd(args)
}

/// One test document: key, t, tag, n (if any), v.
type Doc = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    [f32; 2],
);

/// Index `idx` over `doc:*`: TEXT t, TAG tag, NUMERIC n (SORTABLE), VECTOR v (2-d, L2,
/// `algo`), with four documents; `doc:d` has no `n`.
fn setup(c: &mut Client, algo: &str) {
    let create = format!(
        "FT.CREATE idx ON HASH PREFIX 1 doc: SCHEMA t TEXT tag TAG n NUMERIC SORTABLE \
         v VECTOR {algo} 6 TYPE FLOAT32 DIM 2 DISTANCE_METRIC L2"
    );
    assert_eq!(c.q(&create), V::ok());
    let docs: [Doc; 4] = [
        ("doc:a", "hello world", "red", Some("3"), [0.0, 0.0]),
        ("doc:b", "hello there", "blue", Some("1"), [1.0, 0.0]),
        ("doc:c", "goodbye world", "red", Some("2"), [0.0, 2.0]),
        ("doc:d", "nothing here", "green", None, [3.0, 3.0]),
    ];
    for (key, t, tag, n, v) in docs {
        let v = blob(&v);
        let mut args: Vec<&[u8]> = vec![b"HSET", key.as_bytes(), b"t", t.as_bytes(), b"tag"];
        args.push(tag.as_bytes());
        args.extend([b"v".as_ref(), &v]);
        if let Some(n) = n {
            args.extend([b"n".as_ref(), n.as_bytes()]);
        }
        run(c, &args);
    }
}

fn knn(c: &mut Client, query: &str, q: [f32; 2], extra: &[&str]) -> V {
    let q = blob(&q);
    let mut args: Vec<&[u8]> = vec![b"FT.SEARCH", b"idx", query.as_bytes()];
    args.extend(extra.iter().map(|s| s.as_bytes()));
    args.extend([b"PARAMS".as_ref(), b"2", b"q", &q, b"DIALECT", b"2"]);
    run(c, &args)
}

#[test]
fn knn_flat_resp2_exact() {
    let server = Server::start(&[]);
    let mut c = server.client();
    setup(&mut c, "FLAT");
    let reply = knn(
        &mut c,
        "*=>[KNN 3 @v $q AS dist]",
        [0.0, 0.0],
        &["SORTBY", "dist", "RETURN", "1", "dist"],
    );
    assert_eq!(
        reply,
        arr(vec![
            V::Int(3),
            b("doc:a"),
            arr(vec![b("dist"), b("0")]),
            b("doc:b"),
            arr(vec![b("dist"), b("1")]),
            b("doc:c"),
            arr(vec![b("dist"), b("4")]),
        ])
    );
    // DESC, LIMIT paging, and the total staying K.
    let reply = knn(
        &mut c,
        "*=>[KNN 3 @v $q AS dist]",
        [0.0, 0.0],
        &[
            "SORTBY", "dist", "DESC", "RETURN", "1", "dist", "LIMIT", "1", "1",
        ],
    );
    assert_eq!(
        reply,
        arr(vec![V::Int(3), b("doc:b"), arr(vec![b("dist"), b("1")])])
    );
}

#[test]
fn knn_hnsw_with_filters() {
    let server = Server::start(&[]);
    let mut c = server.client();
    setup(&mut c, "HNSW");
    // Tag pre-filter: only the red documents compete.
    let reply = knn(
        &mut c,
        "(@tag:{red})=>[KNN 5 @v $q AS dist]",
        [3.0, 3.0],
        &["SORTBY", "dist", "RETURN", "2", "dist", "tag", "NOCONTENT"],
    );
    assert_eq!(reply, arr(vec![V::Int(2), b("doc:c"), b("doc:a")]));
    // Numeric filter and the default distance field name.
    let reply = knn(
        &mut c,
        "(@n:[2 +inf])=>[KNN 10 @v $q]",
        [0.0, 0.0],
        &["SORTBY", "__v_score", "RETURN", "1", "__v_score"],
    );
    assert_eq!(
        reply,
        arr(vec![
            V::Int(2),
            b("doc:a"),
            arr(vec![b("__v_score"), b("0")]),
            b("doc:c"),
            arr(vec![b("__v_score"), b("4")]),
        ])
    );
    // Legacy FILTER joins the KNN's filter.
    let reply = knn(
        &mut c,
        "*=>[KNN 10 @v $q AS dist]",
        [0.0, 0.0],
        &["FILTER", "n", "(1", "+inf", "SORTBY", "dist", "NOCONTENT"],
    );
    assert_eq!(reply, arr(vec![V::Int(2), b("doc:a"), b("doc:c")]));
}

#[test]
fn knn_without_return_sends_distance_first_then_every_hash_field() {
    let server = Server::start(&[]);
    let mut c = server.client();
    setup(&mut c, "FLAT");
    let reply = knn(
        &mut c,
        "*=>[KNN 1 @v $q AS dist]",
        [1.0, 0.0],
        &["SORTBY", "dist"],
    );
    assert_eq!(
        reply,
        arr(vec![
            V::Int(1),
            b("doc:b"),
            arr(vec![
                b("dist"),
                b("0"),
                b("t"),
                b("hello there"),
                b("tag"),
                b("blue"),
                b("v"),
                V::Bulk(blob(&[1.0, 0.0])),
                b("n"),
                b("1"),
            ]),
        ])
    );
    // RETURN order: the distance still comes first, as RediSearch creates it first.
    let reply = knn(
        &mut c,
        "*=>[KNN 1 @v $q AS dist]",
        [1.0, 0.0],
        &["RETURN", "2", "t", "dist", "SORTBY", "dist"],
    );
    assert_eq!(
        reply,
        arr(vec![
            V::Int(1),
            b("doc:b"),
            arr(vec![b("dist"), b("0"), b("t"), b("hello there")]),
        ])
    );
}

#[test]
fn knn_resp3_map_shape() {
    let server = Server::start(&[]);
    let mut c = server.client();
    setup(&mut c, "FLAT");
    c.resp3();
    let reply = knn(
        &mut c,
        "*=>[KNN 2 @v $q AS dist]",
        [0.0, 0.0],
        &["SORTBY", "dist", "RETURN", "2", "dist", "tag", "WITHSCORES"],
    );
    let result = |id: &str, dist: &str, tag: &str| {
        V::Map(vec![
            (V::Simple("id".into()), b(id)),
            (V::Simple("score".into()), V::Double("1".into())),
            (
                V::Simple("extra_attributes".into()),
                V::Map(vec![(b("dist"), b(dist)), (b("tag"), b(tag))]),
            ),
            (V::Simple("values".into()), arr(vec![])),
        ])
    };
    assert_eq!(
        reply,
        V::Map(vec![
            (V::Simple("attributes".into()), arr(vec![])),
            (V::Simple("format".into()), V::Simple("STRING".into())),
            (
                V::Simple("results".into()),
                arr(vec![
                    result("doc:a", "0", "red"),
                    result("doc:b", "1", "blue")
                ])
            ),
            (V::Simple("total_results".into()), V::Int(2)),
            (V::Simple("warning".into()), arr(vec![])),
        ])
    );
    // NOCONTENT: no extra_attributes at all.
    let reply = knn(
        &mut c,
        "*=>[KNN 1 @v $q AS dist]",
        [0.0, 0.0],
        &["NOCONTENT"],
    );
    let V::Map(top) = reply else {
        panic!("not a map: {reply:?}")
    };
    assert_eq!(
        top[2].1,
        arr(vec![V::Map(vec![
            (V::Simple("id".into()), b("doc:a")),
            (V::Simple("values".into()), arr(vec![])),
        ])])
    );
}

#[test]
fn knn_total_is_k_capped_by_matches_and_k_zero_is_empty() {
    let server = Server::start(&[]);
    let mut c = server.client();
    setup(&mut c, "FLAT");
    let reply = knn(&mut c, "*=>[KNN 10 @v $q]", [0.0, 0.0], &["NOCONTENT"]);
    assert_eq!(reply.items()[0], V::Int(4));
    let reply = knn(&mut c, "*=>[KNN 0 @v $q]", [0.0, 0.0], &[]);
    assert_eq!(reply, arr(vec![V::Int(0)]));
    // LIMIT 0 0 counts only.
    let reply = knn(&mut c, "*=>[KNN 3 @v $q]", [0.0, 0.0], &["LIMIT", "0", "0"]);
    assert_eq!(reply, arr(vec![V::Int(3)]));
}

#[test]
fn vector_range_yields_distance() {
    let server = Server::start(&[]);
    let mut c = server.client();
    setup(&mut c, "FLAT");
    let reply = knn(
        &mut c,
        "@v:[VECTOR_RANGE 2 $q]=>{$YIELD_DISTANCE_AS: d}",
        [0.0, 0.0],
        &["SORTBY", "d", "RETURN", "1", "d"],
    );
    assert_eq!(
        reply,
        arr(vec![
            V::Int(2),
            b("doc:a"),
            arr(vec![b("d"), b("0")]),
            b("doc:b"),
            arr(vec![b("d"), b("1")]),
        ])
    );
}

#[test]
fn cosine_distances_print_with_twelve_digits() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(
        c.q("FT.CREATE cos SCHEMA v VECTOR FLAT 6 TYPE FLOAT32 DIM 2 DISTANCE_METRIC COSINE"),
        V::ok()
    );
    run(&mut c, &[b"HSET", b"x", b"v", &blob(&[1.0, 1.0])]);
    let q = blob(&[1.0, 0.0]);
    let reply = run(
        &mut c,
        &[
            b"FT.SEARCH",
            b"cos",
            b"*=>[KNN 1 @v $q AS d]",
            b"PARAMS",
            b"2",
            b"q",
            &q,
            b"RETURN",
            b"1",
            b"d",
            b"DIALECT",
            b"2",
        ],
    );
    let d = reply.items()[2].items()[1].text();
    assert!(d.starts_with("0.29289"), "{d}");
    assert!(d.len() <= 14, "more than 12 significant digits: {d}");
}

#[test]
fn text_queries_sortby_limit_return_withscores() {
    let server = Server::start(&[]);
    let mut c = server.client();
    setup(&mut c, "FLAT");
    // SORTBY a numeric field; the document without a value comes last either way.
    assert_eq!(
        c.q("FT.SEARCH idx * SORTBY n ASC NOCONTENT"),
        arr(vec![
            V::Int(4),
            b("doc:b"),
            b("doc:c"),
            b("doc:a"),
            b("doc:d")
        ])
    );
    assert_eq!(
        c.q("FT.SEARCH idx * SORTBY n DESC NOCONTENT"),
        arr(vec![
            V::Int(4),
            b("doc:a"),
            b("doc:c"),
            b("doc:b"),
            b("doc:d")
        ])
    );
    assert_eq!(
        c.q("FT.SEARCH idx * SORTBY n LIMIT 1 2 NOCONTENT"),
        arr(vec![V::Int(4), b("doc:c"), b("doc:a")])
    );
    // Default order without SORTBY: doc order; LIMIT beyond the end is empty.
    assert_eq!(
        c.q("FT.SEARCH idx * NOCONTENT LIMIT 10 10"),
        arr(vec![V::Int(4)])
    );
    // RETURN with AS, a non-indexed field and a missing one.
    assert_eq!(c.q("HSET doc:b extra x"), V::Int(1));
    assert_eq!(
        c.q("FT.SEARCH idx @tag:{blue} RETURN 5 t AS title extra missing"),
        arr(vec![
            V::Int(1),
            b("doc:b"),
            arr(vec![b("title"), b("hello there"), b("extra"), b("x")]),
        ])
    );
    // WITHSCORES: the score is a bulk string in RESP2, before the fields.
    let reply = c.q("FT.SEARCH idx @tag:{blue} WITHSCORES RETURN 1 tag");
    assert_eq!(reply.items().len(), 4);
    assert!(reply.items()[2].text().parse::<f64>().is_ok());
    assert_eq!(reply.items()[3], arr(vec![b("tag"), b("blue")]));
    // WITHSCORES + NOCONTENT: [total, key, score].
    let reply = c.q("FT.SEARCH idx @tag:{green} WITHSCORES NOCONTENT");
    assert_eq!(reply.items().len(), 3);
    // Options in lower case and any order.
    assert_eq!(
        c.q("FT.SEARCH idx * limit 0 1 nocontent sortby n desc dialect 2"),
        arr(vec![V::Int(4), b("doc:a")])
    );
    // RETURN 0 behaves like NOCONTENT.
    assert_eq!(
        c.q("FT.SEARCH idx @tag:{green} RETURN 0"),
        arr(vec![V::Int(1), b("doc:d")])
    );
    // INKEYS / INFIELDS.
    assert_eq!(
        c.q("FT.SEARCH idx * INKEYS 2 doc:c doc:zz NOCONTENT"),
        arr(vec![V::Int(1), b("doc:c")])
    );
    assert_eq!(
        c.q("FT.SEARCH idx hello INFIELDS 1 t NOCONTENT SORTBY n"),
        arr(vec![V::Int(2), b("doc:b"), b("doc:a")])
    );
}

#[test]
fn sortby_field_comes_first_and_sortkeys_payloads() {
    let server = Server::start(&[]);
    let mut c = server.client();
    setup(&mut c, "FLAT");
    assert_eq!(
        c.q("FT.SEARCH idx @tag:{blue} RETURN 2 t n SORTBY n"),
        arr(vec![
            V::Int(1),
            b("doc:b"),
            arr(vec![b("n"), b("1"), b("t"), b("hello there")]),
        ])
    );
    assert_eq!(c.q("HSET doc:b __payload pay"), V::Int(1));
    assert_eq!(
        c.q("FT.SEARCH idx @tag:{blue} WITHPAYLOADS WITHSORTKEYS SORTBY n NOCONTENT"),
        arr(vec![V::Int(1), b("doc:b"), b("pay"), b("#1")])
    );
    assert_eq!(
        c.q("FT.SEARCH idx @tag:{red} WITHPAYLOADS WITHSORTKEYS NOCONTENT LIMIT 0 1"),
        arr(vec![V::Int(2), b("doc:a"), V::Nil, V::Nil])
    );
    c.resp3();
    let reply = c.q("FT.SEARCH idx @tag:{blue} WITHSORTKEYS SORTBY t NOCONTENT");
    let V::Map(top) = reply else {
        panic!("not a map")
    };
    assert_eq!(
        top[2].1,
        arr(vec![V::Map(vec![
            (V::Simple("id".into()), b("doc:b")),
            (V::Simple("sortkey".into()), b("$hello there")),
            (V::Simple("values".into()), arr(vec![])),
        ])])
    );
}

#[test]
fn highlight_and_summarize() {
    let server = Server::start(&[]);
    let mut c = server.client();
    setup(&mut c, "FLAT");
    assert_eq!(
        c.q("FT.SEARCH idx hello HIGHLIGHT FIELDS 1 t SORTBY n LIMIT 0 1"),
        arr(vec![
            V::Int(2),
            b("doc:b"),
            arr(vec![b("t"), b("<b>hello</b> there")]),
        ])
    );
    let reply = run(
        &mut c,
        &[
            b"FT.SEARCH",
            b"idx",
            b"world",
            b"RETURN",
            b"1",
            b"t",
            b"SUMMARIZE",
            b"LEN",
            b"1",
            b"HIGHLIGHT",
            b"TAGS",
            b"[",
            b"]",
            b"SORTBY",
            b"n",
        ],
    );
    assert_eq!(
        reply,
        arr(vec![
            V::Int(2),
            b("doc:c"),
            arr(vec![b("t"), b("[world]... ")]),
            b("doc:a"),
            arr(vec![b("t"), b("[world]... ")]),
        ])
    );
    assert_eq!(
        c.q("FT.SEARCH idx hello RETURN 1 extra HIGHLIGHT"),
        V::err("Property `extra` is not in schema")
    );
}

#[test]
fn errors_have_redisearch_texts() {
    let server = Server::start(&[]);
    let mut c = server.client();
    setup(&mut c, "FLAT");
    let cases = [
        ("FT.SEARCH nosuch *", "No such index nosuch"),
        (
            "FT.SEARCH idx * FOO",
            "Unknown argument `FOO` at position 1 for <main>",
        ),
        (
            "FT.SEARCH nosuch * FOO",
            "Unknown argument `FOO` at position 1 for <main>",
        ),
        (
            "FT.SEARCH idx * PARAMS 2 a",
            "Bad arguments for PARAMS: Expected an argument, but none provided",
        ),
        (
            "FT.SEARCH idx * PARAMS 4 a 1 a 2",
            "Duplicate parameter `a`",
        ),
        (
            "FT.SEARCH idx * LIMIT 0 1000001",
            "LIMIT exceeds maximum of 1000000",
        ),
        ("FT.SEARCH idx * SCORER NOPE", "No such scorer NOPE"),
        (
            "FT.SEARCH idx * SORTBY nope",
            "Property `nope` not loaded nor in schema",
        ),
        (
            "FT.SEARCH idx * DIALECT 9",
            "DIALECT requires a non negative integer >=1 and <= 4",
        ),
        (
            "FT.SEARCH idx * EXPLAINSCORE",
            "EXPLAINSCORE must be accompanied with WITHSCORES",
        ),
    ];
    for (command, error) in cases {
        assert_eq!(c.q(command), V::err(error), "{command}");
    }
    assert_eq!(
        c.q("FT.SEARCH idx"),
        V::err("ERR wrong number of arguments for 'ft.search' command")
    );
    // A query blob of the wrong size.
    let reply = run(
        &mut c,
        &[
            b"FT.SEARCH",
            b"idx",
            b"*=>[KNN 2 @v $q]",
            b"PARAMS",
            b"2",
            b"q",
            b"1234567",
            b"DIALECT",
            b"2",
        ],
    );
    assert_eq!(
        reply,
        V::err(
            "Error parsing vector similarity query: query vector blob size (7) does not match \
             index's expected size (8)."
        )
    );
    // Unknown and mistyped fields, a missing parameter, a KNN alias naming a schema field.
    let cases = [
        ("@nosuch:{x}", "Unknown field at offset 0 near nosuch"),
        (
            "*=>[KNN 2 @nosuch $q]",
            "Unknown field at offset 10 near nosuch",
        ),
        (
            "*=>[KNN 2 @t $q]",
            "Expected a VECTOR field at offset 10 near t",
        ),
        ("*=>[KNN 2 @v $nope]", "No such parameter `nope`"),
        (
            "*=>[KNN 2 @v $q AS n]",
            "Property `n` already exists in schema",
        ),
    ];
    for (query, error) in cases {
        assert_eq!(
            knn(&mut c, query, [0.0, 0.0], &[]),
            V::err(error),
            "{query}"
        );
    }
    // Dialect 1 ignores unknown fields: no match.
    assert_eq!(
        c.q("FT.SEARCH idx @nosuch:hello DIALECT 1"),
        arr(vec![V::Int(0)])
    );
    // Bad query syntax is an error, not a crash.
    assert!(c.q("FT.SEARCH idx @t:(( DIALECT 2").is_error());
}

#[test]
fn default_dialect_comes_from_config() {
    let server = Server::start(&[]);
    let mut c = server.client();
    setup(&mut c, "FLAT");
    let q = blob(&[0.0, 0.0]);
    let search = |c: &mut Client| {
        run(
            c,
            &[
                b"FT.SEARCH",
                b"idx",
                b"*=>[KNN 1 @v $q]",
                b"PARAMS",
                b"2",
                b"q",
                &q,
                b"NOCONTENT",
            ],
        )
    };
    // Dialect 1 has no KNN.
    assert!(search(&mut c).is_error());
    assert_eq!(c.q("FT.CONFIG SET DEFAULT_DIALECT 2"), V::ok());
    assert_eq!(search(&mut c), arr(vec![V::Int(1), b("doc:a")]));
}

#[test]
fn garbage_never_takes_the_server_down() {
    let server = Server::start(&[]);
    let mut c = server.client();
    setup(&mut c, "HNSW");
    let words: &[&[u8]] = &[
        b"*",
        b"LIMIT",
        b"0",
        b"-1",
        b"99999999999999999999",
        b"PARAMS",
        b"2",
        b"q",
        b"RETURN",
        b"AS",
        b"SORTBY",
        b"DESC",
        b"NOCONTENT",
        b"WITHSCORES",
        b"FILTER",
        b"n",
        b"(",
        b"inf",
        b"SUMMARIZE",
        b"HIGHLIGHT",
        b"FIELDS",
        b"TAGS",
        b"DIALECT",
        b"3",
        b"INKEYS",
        b"INFIELDS",
        b"=>[KNN",
        b"@v",
        b"$q]",
        b"\xff\xfe",
        b"",
        b"@t:{",
        b"VECTOR_RANGE",
        b"TIMEOUT",
        b"WITHSORTKEYS",
        b"WITHPAYLOADS",
        b"EXPLAINSCORE",
        b"GEOFILTER",
        b"1e400",
        b"nan",
    ];
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..400 {
        let n = (next() % 10) as usize;
        let mut args: Vec<&[u8]> = vec![b"FT.SEARCH", b"idx"];
        for _ in 0..=n {
            args.push(words[(next() % words.len() as u64) as usize]);
        }
        let reply = c.cmd(&args);
        assert!(
            !matches!(reply, V::Error(ref e) if e.contains("panic")),
            "{args:?}"
        );
    }
    // Query strings glued from fragments, with blobs of every length around the right one.
    let pieces: &[&str] = &[
        "*",
        "=>[",
        "KNN ",
        "$k ",
        "@v ",
        "$q",
        "]",
        "AS d",
        " EF_RUNTIME 5",
        "(",
        ")",
        "@n:[",
        "1 ",
        "+inf",
        "(2",
        "]",
        "@tag:{",
        "red",
        "|",
        "}",
        "-",
        "~",
        "hello",
        "*",
        "%",
        "\\",
        "@v:[VECTOR_RANGE ",
        "0.5 ",
        "=>{$YIELD_DISTANCE_AS: d}",
        " ",
        "\"",
        "ismissing(@n)",
        "HYBRID_POLICY ADHOC_BF",
        "@t:",
        "=>",
        "[",
        "{",
        "$",
    ];
    for round in 0..400 {
        let n = 1 + (next() % 12) as usize;
        let query: String = (0..n)
            .map(|_| pieces[(next() % pieces.len() as u64) as usize])
            .collect();
        let q = vec![0u8; round % 12];
        let reply = run(
            &mut c,
            &[
                b"FT.SEARCH",
                b"idx",
                query.as_bytes(),
                b"PARAMS",
                b"4",
                b"q",
                &q,
                b"k",
                b"3",
                b"SORTBY",
                b"d",
                b"WITHSCORES",
                b"DIALECT",
                b"2",
            ],
        );
        assert!(
            !matches!(reply, V::Error(ref e) if e.contains("internal error")),
            "{query:?} -> {reply:?}"
        );
    }
    assert_eq!(c.q("PING"), V::Simple("PONG".into()));
}

#[test]
fn knn_replies_byte_exact() {
    let server = Server::start(&[]);
    let mut c = server.client();
    setup(&mut c, "FLAT");
    let q = blob(&[0.0, 0.0]);
    let command: Vec<&[u8]> = vec![
        b"FT.SEARCH",
        b"idx",
        b"*=>[KNN 1 @v $q AS dist]",
        b"WITHSCORES",
        b"RETURN",
        b"1",
        b"dist",
        b"SORTBY",
        b"dist",
        b"PARAMS",
        b"2",
        b"q",
        &q,
        b"DIALECT",
        b"2",
    ];
    c.send(&command);
    let (_, raw) = c.read_raw().expect("reply");
    assert_eq!(
        String::from_utf8_lossy(&raw),
        "*4\r\n:1\r\n$5\r\ndoc:a\r\n$1\r\n1\r\n*2\r\n$4\r\ndist\r\n$1\r\n0\r\n"
    );
    c.resp3();
    c.send(&command);
    let (_, raw) = c.read_raw().expect("reply");
    assert_eq!(
        String::from_utf8_lossy(&raw),
        "%5\r\n+attributes\r\n*0\r\n+format\r\n+STRING\r\n+results\r\n*1\r\n%4\r\n\
         +id\r\n$5\r\ndoc:a\r\n+score\r\n,1\r\n+extra_attributes\r\n%1\r\n$4\r\ndist\r\n$1\r\n0\r\n\
         +values\r\n*0\r\n+total_results\r\n:1\r\n+warning\r\n*0\r\n"
    );
}

#[test]
fn sortby_limit_pages_match_a_full_sort() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.q("FT.CREATE p PREFIX 1 p: SCHEMA n NUMERIC"), V::ok());
    // 60 documents, values with ties, every seventh without a value.
    let mut model: Vec<(usize, Option<i64>)> = Vec::new();
    for i in 0..60 {
        let key = format!("p:{i:02}");
        let value = (i % 7 != 3).then_some(((i * 37) % 11) as i64);
        match value {
            Some(v) => c.q(&format!("HSET {key} n {v} x {i}")),
            None => c.q(&format!("HSET {key} x {i}")),
        };
        model.push((i, value));
    }
    for ascending in [true, false] {
        // Values ordered, ties in indexing order, documents without a value last.
        let mut expected = model.clone();
        expected.sort_by(|a, b| match (a.1, b.1) {
            (Some(x), Some(y)) if ascending => x.cmp(&y).then(a.0.cmp(&b.0)),
            (Some(x), Some(y)) => y.cmp(&x).then(a.0.cmp(&b.0)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.0.cmp(&b.0),
        });
        let keys: Vec<V> = expected
            .iter()
            .map(|(i, _)| b(&format!("p:{i:02}")))
            .collect();
        let dir = if ascending { "ASC" } else { "DESC" };
        for (offset, num) in [(0, 10), (0, 60), (5, 7), (50, 20), (59, 1), (0, 1), (13, 0)] {
            if num == 0 && offset != 0 {
                continue;
            }
            let reply = c.q(&format!(
                "FT.SEARCH p * SORTBY n {dir} LIMIT {offset} {num} NOCONTENT"
            ));
            let mut want = vec![V::Int(60)];
            want.extend(keys.iter().skip(offset).take(num).cloned());
            assert_eq!(reply, arr(want), "{dir} {offset} {num}");
        }
    }
}

#[test]
fn explainscore_nests_the_score() {
    let server = Server::start(&[]);
    let mut c = server.client();
    setup(&mut c, "FLAT");
    let reply = c.q("FT.SEARCH idx @tag:{blue} WITHSCORES EXPLAINSCORE NOCONTENT");
    let items = reply.items();
    assert_eq!(items.len(), 3, "{reply:?}");
    let score = items[2].items();
    assert_eq!(score.len(), 2);
    assert_eq!(score[0], b("1"));
    assert!(matches!(score[1], V::Array(_)));
    c.resp3();
    let reply = c.q("FT.SEARCH idx @tag:{blue} WITHSCORES EXPLAINSCORE WITHPAYLOADS NOCONTENT");
    let V::Map(top) = reply else {
        panic!("not a map")
    };
    let result = &top[2].1.items()[0];
    let V::Map(entry) = result else {
        panic!("not a map: {result:?}")
    };
    let keys: Vec<String> = entry.iter().map(|(k, _)| k.text()).collect();
    assert_eq!(keys, ["id", "score", "payload", "values"]);
    assert_eq!(entry[1].1.items()[0], V::Double("1".into()));
    assert_eq!(entry[2].1, V::Nil);
}
