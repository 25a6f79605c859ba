//! Bad input to the FT.* commands never panics the server nor disconnects anyone: wrong blob
//! sizes (RediSearch's error texts), bad query syntax, unknown indexes and fields, huge K, bad
//! LIMIT and PARAMS, and a few hundred seeded random FT.CREATE / FT.SEARCH / other FT.*
//! commands. After each, the sender still gets a reply and a second connection still answers
//! PING; at the end the index still answers correctly.
// Integration test helpers: panicking is how a test reports a broken set-up.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::ft::{Hnsw, Rng, blob, check_index, create_index, put, snapshot, wait_indexed};
use common::{Client, Server, V};

/// A server with index `idx` (see `create_index`) over four documents, a connection, and a
/// second connection that watches the server stay responsive.
struct Fixture {
    server: Server,
    c: Client,
    watcher: Client,
    /// Commands whose handler panicked (the server answers `internal error in '...'`).
    panics: Vec<String>,
}

impl Fixture {
    fn new() -> Fixture {
        let server = Server::start(&[]);
        let mut c = server.client();
        assert_eq!(create_index(&mut c, "idx", &["doc:"]), V::ok());
        put(&mut c, "doc:1", "red", 1.0, [0.0, 0.0]);
        put(&mut c, "doc:2", "blue", 2.0, [1.0, 0.0]);
        put(&mut c, "doc:3", "red", 3.0, [5.0, 5.0]);
        put(&mut c, "doc:4", "green", 4.0, [-1.0, 2.0]);
        let watcher = server.client();
        Fixture {
            server,
            c,
            watcher,
            panics: Vec::new(),
        }
    }

    /// Sends `args`, which must get some reply, then checks the server still serves others.
    fn send(&mut self, args: &[Vec<u8>]) -> V {
        self.c.send(args);
        let reply = self.c.try_read().unwrap_or_else(|| {
            panic!(
                "connection closed (or no reply in 10 s) after {}",
                show(args)
            )
        });
        self.still_alive(args);
        self.note_panic(&reply, args);
        reply
    }

    fn note_panic(&mut self, reply: &V, args: &[Vec<u8>]) {
        if matches!(reply, V::Error(e) if e.contains("internal error")) {
            self.panics.push(format!("{} -> {reply:?}", show(args)));
        }
    }

    fn still_alive(&mut self, after: &[Vec<u8>]) {
        self.watcher.send(&["PING"]);
        match self.watcher.try_read() {
            Some(V::Simple(s)) if s == "PONG" => {}
            other => panic!("PING got {other:?} after {}", show(after)),
        }
    }

    /// FT.SEARCH idx `query` with the extra arguments; the reply.
    fn search(&mut self, query: &[u8], extra: &[&[u8]]) -> V {
        let mut args = vec![b"FT.SEARCH".to_vec(), b"idx".to_vec(), query.to_vec()];
        args.extend(extra.iter().map(|a| a.to_vec()));
        self.send(&args)
    }

    /// At the end: no handler panicked, the process is running and the index still answers
    /// exactly.
    fn finish(mut self) {
        assert!(
            self.panics.is_empty(),
            "{} commands panicked the handler, e.g.:\n{}",
            self.panics.len(),
            self.panics[..self.panics.len().min(8)].join("\n")
        );
        assert!(
            self.server.wait_exit(Duration::ZERO).is_none(),
            "server exited"
        );
        let hashes = snapshot(&mut self.c);
        check_index(&mut self.c, "idx", &["doc:"], &hashes, Hnsw::Exact)
            .unwrap_or_else(|e| panic!("index wrong after bad input: {e}"));
    }
}

/// A printable form of a command, for failure messages.
fn show(args: &[Vec<u8>]) -> String {
    args.iter()
        .map(|a| format!("{:?}", String::from_utf8_lossy(a)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn words(line: &str) -> Vec<Vec<u8>> {
    line.split_whitespace()
        .map(|w| w.as_bytes().to_vec())
        .collect()
}

fn error_text(reply: &V, what: &str) -> String {
    match reply {
        V::Error(e) => e.clone(),
        other => panic!("{what}: expected an error, got {other:?}"),
    }
}

fn blob_size_error(n: usize) -> V {
    V::err(&format!(
        "Error parsing vector similarity query: query vector blob size ({n}) does not match \
         index's expected size (8)."
    ))
}

#[test]
fn wrong_blob_sizes_in_hset_and_in_queries() {
    let mut f = Fixture::new();
    for len in [0usize, 1, 7, 9, 16, 4096, 1 << 20] {
        let bad = vec![0x41u8; len];
        let mut args = words("HSET doc:bad t red v");
        args.push(bad.clone());
        // The write itself succeeds; the document is just not indexed.
        assert!(
            matches!(f.send(&args), V::Int(_)),
            "HSET with a {len}-byte blob"
        );
        let query = b"*=>[KNN 3 @v $q AS d]";
        let reply = f.search(query, &[b"PARAMS", b"2", b"q", &bad, b"DIALECT", b"2"]);
        assert_eq!(reply, blob_size_error(len), "KNN with a {len}-byte blob");
        let reply = f.search(
            b"@h:[VECTOR_RANGE 1 $q]",
            &[b"PARAMS", b"2", b"q", &bad, b"DIALECT", b"2"],
        );
        assert!(
            reply.is_error(),
            "VECTOR_RANGE with a {len}-byte blob: {reply:?}"
        );
    }
    assert_eq!(f.c.q("DEL doc:bad"), V::Int(1));
    f.finish();
}

#[test]
fn bad_query_syntax_is_an_error() {
    let mut f = Fixture::new();
    let q = blob(&[0.0, 0.0]);
    let mut accepted = Vec::new();
    for query in [
        "@t:{red",
        "(@n:[1 2]",
        "@n:[1",
        "@n:[a b]",
        "@n:[1 2 3]",
        "*=>[KNN 5 @v $q",
        "*=>[KNN @v $q]",
        "*=>[KNN five @v $q]",
        "*=>[KNN 5 @v]",
        "*=>",
        "=>[KNN 5 @v $q]",
        ")",
        "((((",
        "@t:{}",
        "@v:[VECTOR_RANGE $q]",
        "*=>[KNN 5 @v $q AS]",
        "*=>[KNN 5 @v $q EF_RUNTIME]",
    ] {
        let reply = f.search(
            query.as_bytes(),
            &[b"PARAMS", b"2", b"q", &q, b"DIALECT", b"2"],
        );
        if !reply.is_error() {
            accepted.push(format!("{query:?} -> {reply:?}"));
        }
    }
    assert!(accepted.is_empty(), "bad queries accepted: {accepted:#?}");
    for query in ["@t:{red", "*=>[KNN 5 @v $q"] {
        let reply = f.search(
            query.as_bytes(),
            &[b"PARAMS", b"2", b"q", &q, b"DIALECT", b"2"],
        );
        let text = error_text(&reply, query);
        assert!(text.starts_with("Syntax error"), "{query}: {text}");
    }
    f.finish();
}

#[test]
fn unknown_index_and_field() {
    let mut f = Fixture::new();
    assert_eq!(
        f.send(&words("FT.SEARCH nosuch *")),
        V::err("No such index nosuch")
    );
    let info = error_text(&f.send(&words("FT.INFO nosuch")), "FT.INFO nosuch");
    assert!(info.to_lowercase().contains("unknown index name"), "{info}");
    assert_eq!(
        f.send(&words("FT.DROPINDEX nosuch")),
        V::err("Unknown Index name")
    );
    assert!(f.send(&words("FT.TAGVALS nosuch t")).is_error());
    assert!(f.send(&words("FT.EXPLAIN nosuch *")).is_error());

    let text = error_text(
        &f.search(b"@nosuch:{x}", &[b"DIALECT", b"2"]),
        "unknown tag field",
    );
    assert!(text.contains("Unknown field"), "{text}");
    let q = blob(&[0.0, 0.0]);
    let knn = |field: &str| format!("*=>[KNN 2 @{field} $q AS d]");
    let params: [&[u8]; 6] = [b"PARAMS", b"2", b"q", &q, b"DIALECT", b"2"];
    assert!(f.search(knn("nosuch").as_bytes(), &params).is_error());
    let text = error_text(
        &f.search(knn("t").as_bytes(), &params),
        "KNN on a TAG field",
    );
    assert!(text.contains("Expected a VECTOR field"), "{text}");
    let text = error_text(
        &f.search(b"*=>[KNN 2 @v $nosuch AS d]", &params),
        "unknown parameter",
    );
    assert_eq!(text, "No such parameter `nosuch`");
    f.finish();
}

#[test]
fn huge_k() {
    let mut f = Fixture::new();
    let q = blob(&[0.0, 0.0]);
    // K up to 2^58 is allowed and just returns every document with a vector.
    for (k, ok) in [
        ("1000000", true),
        ("288230376151711743", true),
        ("18446744073709551615", false),
        ("99999999999999999999999", false),
        ("-1", false),
    ] {
        for field in ["v", "h"] {
            let query = format!("*=>[KNN {k} @{field} $q AS d]");
            let reply = f.search(
                query.as_bytes(),
                &[b"PARAMS", b"2", b"q", &q, b"NOCONTENT", b"DIALECT", b"2"],
            );
            if ok {
                let items = reply.items();
                assert_eq!(items.first(), Some(&V::Int(4)), "{query}: {reply:?}");
            } else {
                assert!(reply.is_error(), "{query}: {reply:?}");
            }
        }
    }
    let reply = f.search(
        b"*=>[KNN $k @v $q AS d]",
        &[
            b"PARAMS",
            b"4",
            b"q",
            &q,
            b"k",
            b"288230376151711743",
            b"DIALECT",
            b"2",
        ],
    );
    assert!(!reply.is_error(), "$k = 2^58: {reply:?}");
    f.finish();
}

#[test]
fn bad_limits() {
    let mut f = Fixture::new();
    for limit in [
        ["-1", "10"],
        ["0", "-1"],
        ["0", "2000000"],
        ["999999999", "10"],
    ] {
        let reply = f.search(b"*", &[b"LIMIT", limit[0].as_bytes(), limit[1].as_bytes()]);
        assert!(reply.is_error(), "LIMIT {limit:?}: {reply:?}");
    }
    for limit in [["0", "0"], ["3", "10"], ["100", "10"]] {
        let reply = f.search(b"*", &[b"LIMIT", limit[0].as_bytes(), limit[1].as_bytes()]);
        assert!(!reply.is_error(), "LIMIT {limit:?}: {reply:?}");
        assert_eq!(reply.items()[0], V::Int(4));
    }
    f.finish();
}

#[test]
fn params_with_odd_or_wrong_counts() {
    let mut f = Fixture::new();
    let q = blob(&[0.0, 0.0]);
    let query: &[u8] = b"*=>[KNN 2 @v $q AS d]";
    for params in [
        vec![b"PARAMS".as_ref(), b"1", b"q"],
        vec![b"PARAMS", b"3", b"q", &q, b"x"],
        vec![b"PARAMS", b"2", b"q"],
        vec![b"PARAMS", b"-2", b"q", &q],
        vec![b"PARAMS", b"1000000000", b"q", &q],
        vec![b"PARAMS", b"18446744073709551617", b"q", &q],
        vec![b"PARAMS"],
        vec![b"PARAMS", b"two", b"q", &q],
    ] {
        let mut before = params.clone();
        before.extend([b"DIALECT".as_ref(), b"2"]);
        let reply = f.search(query, &before);
        assert!(reply.is_error(), "{params:?} DIALECT 2: {reply:?}");
        let mut last = vec![b"DIALECT".as_ref(), b"2"];
        last.extend(params.iter().copied());
        let reply = f.search(query, &last);
        assert!(reply.is_error(), "DIALECT 2 {params:?}: {reply:?}");
    }
    let reply = f.search(query, &[b"DIALECT", b"2", b"PARAMS", b"2", b"q"]);
    assert_eq!(
        reply,
        V::err("Bad arguments for PARAMS: Expected an argument, but none provided")
    );
    // Unused parameters are fine.
    let reply = f.search(
        query,
        &[b"PARAMS", b"4", b"q", &q, b"unused", b"x", b"DIALECT", b"2"],
    );
    assert!(!reply.is_error(), "{reply:?}");
    f.finish();
}

const CREATE_TOKENS: &[&str] = &[
    "ON",
    "HASH",
    "JSON",
    "PREFIX",
    "FILTER",
    "LANGUAGE",
    "english",
    "SCORE",
    "1.0",
    "SCORE_FIELD",
    "PAYLOAD_FIELD",
    "STOPWORDS",
    "SCHEMA",
    "TEXT",
    "TAG",
    "NUMERIC",
    "VECTOR",
    "GEO",
    "FLAT",
    "HNSW",
    "TYPE",
    "FLOAT32",
    "FLOAT64",
    "FLOAT16",
    "DIM",
    "DISTANCE_METRIC",
    "COSINE",
    "L2",
    "IP",
    "INITIAL_CAP",
    "BLOCK_SIZE",
    "M",
    "EF_CONSTRUCTION",
    "EF_RUNTIME",
    "EPSILON",
    "SEPARATOR",
    "CASESENSITIVE",
    "SORTABLE",
    "NOSTEM",
    "NOINDEX",
    "WEIGHT",
    "AS",
    "UNF",
    "INDEXMISSING",
    "INDEXEMPTY",
    "SKIPINITIALSCAN",
    "MAXTEXTFIELDS",
    "NOOFFSETS",
    "TEMPORARY",
    "NOHL",
    "NOFIELDS",
    "NOFREQS",
    "0",
    "1",
    "2",
    "3",
    "4",
    "6",
    "8",
    "10",
    "16",
    "-1",
    "-6",
    "3.5",
    "1e308",
    "nan",
    "inf",
    "-inf",
    "99999999999999999999",
    "4294967296",
    "2147483647",
    "18446744073709551615",
    "9223372036854775807",
    "",
    ",",
    "|",
    ";",
    "t",
    "n",
    "v",
    "doc:",
    "@t",
    "$q",
    "\u{0}",
    "\u{ff}\u{fe}",
    "é",
    "*",
];

/// A random token: mostly from `vocabulary`, sometimes random bytes.
fn token(rng: &mut Rng, vocabulary: &[&str]) -> Vec<u8> {
    if rng.chance(0.1) {
        (0..rng.below(12)).map(|_| rng.below(256) as u8).collect()
    } else {
        rng.pick(vocabulary).as_bytes().to_vec()
    }
}

#[test]
fn ft_create_garbage() {
    let mut f = Fixture::new();
    let mut rng = Rng::new(0xC0FFEE);
    let mut created = 0;
    for i in 0..300 {
        let name = format!("g{}", i % 50);
        let mut args = vec![b"FT.CREATE".to_vec(), name.clone().into_bytes()];
        match i % 3 {
            // Plausible schemas with odd types and values: the fixture's hashes (the default
            // prefix covers them) get backfilled into fields of the wrong type.
            0 => {
                args.extend(words("ON HASH SCHEMA"));
                for _ in 0..1 + rng.below(3) {
                    args.extend(words(&random_field(&mut rng)));
                }
            }
            // Half start like a real vector schema, so the soup reaches the deeper parsers.
            1 => {
                let algo = *rng.pick(&["FLAT", "HNSW"]);
                let count = *rng.pick(&["0", "1", "2", "6", "8", "10", "12", "-2", "100"]);
                args.extend(words(&format!("SCHEMA v VECTOR {algo} {count}")));
            }
            _ => {}
        }
        if i % 3 != 0 {
            for _ in 0..rng.below(25) {
                args.push(token(&mut rng, CREATE_TOKENS));
            }
        }
        if f.send(&args) != V::ok() {
            continue;
        }
        created += 1;
        // Use the new index: info, a scan, a KNN on whatever `v` / `h` became.
        f.send(&words(&format!("FT.INFO {name}")));
        f.send(&words(&format!("FT.SEARCH {name} * LIMIT 0 100")));
        for field in ["v", "h"] {
            let query = format!("*=>[KNN 3 @{field} $q]");
            f.send(&[
                b"FT.SEARCH".to_vec(),
                name.clone().into_bytes(),
                query.into_bytes(),
                b"PARAMS".to_vec(),
                b"2".to_vec(),
                b"q".to_vec(),
                blob(&[1.0, 1.0]),
                b"DIALECT".to_vec(),
                b"2".to_vec(),
            ]);
        }
    }
    let names = f.send(&words("FT._LIST")).items();
    for name in names {
        let name = name.text();
        if name != "idx" {
            assert_eq!(
                f.send(&[b"FT.DROPINDEX".to_vec(), name.into_bytes()]),
                V::ok()
            );
        }
    }
    eprintln!("ft_create_garbage: {created} of 300 random FT.CREATE accepted");
    f.finish();
}

/// A schema field over one of the fixture's hash fields, of any type, with odd attributes.
fn random_field(rng: &mut Rng) -> String {
    let name = *rng.pick(&["t", "n", "v", "h", "s", "missing"]);
    let alias = if rng.chance(0.2) { " AS a" } else { "" };
    let body = match rng.below(4) {
        0 => format!(
            "TAG{}{}",
            if rng.chance(0.5) { " SEPARATOR ;" } else { "" },
            if rng.chance(0.5) {
                " CASESENSITIVE"
            } else {
                ""
            }
        ),
        1 => format!("NUMERIC{}", if rng.chance(0.5) { " SORTABLE" } else { "" }),
        2 => format!(
            "TEXT{}",
            if rng.chance(0.5) {
                " WEIGHT 0.5 NOSTEM"
            } else {
                ""
            }
        ),
        _ => format!(
            "VECTOR {} 6 TYPE {} DIM {} DISTANCE_METRIC {}",
            rng.pick(&["FLAT", "HNSW"]),
            rng.pick(&["FLOAT32", "FLOAT64", "FLOAT16", "BFLOAT16", "INT8", "UINT8"]),
            rng.pick(&["1", "2", "3", "4", "8", "1024"]),
            rng.pick(&["L2", "IP", "COSINE"]),
        ),
    };
    format!("{name}{alias} {body}")
}

const QUERY_TOKENS: &[&str] = &[
    "@t:",
    "@n:",
    "@v:",
    "@h:",
    "@nosuch:",
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "=>",
    "KNN",
    "5",
    "-5",
    "0",
    "$q",
    "$k",
    "$nosuch",
    "@v",
    "@h",
    "@t",
    "AS",
    "d",
    "EF_RUNTIME",
    "|",
    "-",
    "~",
    "*",
    "red",
    "blue",
    "\\",
    "\"",
    "'",
    "VECTOR_RANGE",
    "$YIELD_DISTANCE_AS:",
    "$EPSILON:",
    ";",
    "+inf",
    "-inf",
    "(1",
    "2]",
    "ismissing(@t)",
    "%",
    "%%",
    "hel*",
    "=>{",
    ":",
    " ",
    "  ",
    "99999999999999999999",
    "1e400",
    "nan",
    "AND",
    "HYBRID_POLICY",
    "BATCHES",
    "ADHOC_BF",
    "BATCH_SIZE",
    "EPSILON",
    "@n==5",
    "@n>",
    "!",
    "\u{0}",
    "é",
    "$",
    "@",
    "{red|blue}",
];

const OPTION_TOKENS: &[&str] = &[
    "NOCONTENT",
    "WITHSCORES",
    "RETURN",
    "SORTBY",
    "LIMIT",
    "PARAMS",
    "DIALECT",
    "TIMEOUT",
    "INKEYS",
    "INFIELDS",
    "VERBATIM",
    "NOSTOPWORDS",
    "ASC",
    "DESC",
    "AS",
    "WITHCOUNT",
    "FILTER",
    "SCORER",
    "BM25",
    "0",
    "1",
    "2",
    "3",
    "4",
    "5",
    "-1",
    "10",
    "d",
    "q",
    "k",
    "t",
    "n",
    "v",
    "1000000",
    "18446744073709551615",
    "",
];

#[test]
fn ft_search_garbage() {
    let mut f = Fixture::new();
    let mut resp3 = f.server.client();
    resp3.resp3();
    let mut rng = Rng::new(0x5EA2C4);
    let good = blob(&[0.5, 0.5]);
    for i in 0..400 {
        let mut query = Vec::new();
        for _ in 0..1 + rng.below(10) {
            query.extend(token(&mut rng, QUERY_TOKENS));
            if rng.chance(0.5) {
                query.push(b' ');
            }
        }
        let mut args = vec![b"FT.SEARCH".to_vec(), b"idx".to_vec(), query];
        for _ in 0..rng.below(8) {
            args.push(token(&mut rng, OPTION_TOKENS));
        }
        if rng.chance(0.6) {
            let q = if rng.chance(0.8) {
                good.clone()
            } else {
                vec![1u8; rng.below(20)]
            };
            args.extend([b"PARAMS".to_vec(), b"4".to_vec(), b"q".to_vec(), q]);
            args.extend(words("k 3 DIALECT 2"));
        }
        if i % 2 == 0 {
            f.send(&args);
        } else {
            resp3.send(&args);
            let Some(reply) = resp3.try_read() else {
                panic!("RESP3 connection closed after {}", show(&args));
            };
            f.still_alive(&args);
            f.note_panic(&reply, &args);
        }
    }
    f.finish();
}

#[test]
fn other_ft_commands_garbage() {
    let mut f = Fixture::new();
    let mut rng = Rng::new(0x0DD);
    let commands = [
        "FT.INFO",
        "FT.DROPINDEX",
        "FT.EXPLAIN",
        "FT.TAGVALS",
        "FT.ALIASADD",
        "FT.ALIASUPDATE",
        "FT.ALIASDEL",
        "FT.CONFIG",
        "FT._LIST",
        "FT.SEARCH",
        "FT.CREATE",
    ];
    let mut vocabulary: Vec<&str> = QUERY_TOKENS.to_vec();
    // No SET: FT.CONFIG SET could change limits the final check relies on.
    vocabulary.extend([
        "idx", "nosuch", "GET", "*", "DD", "t", "n", "v", "a1", "TIMEOUT",
    ]);
    for _ in 0..300 {
        let command = *rng.pick(&commands);
        let mut args = vec![command.as_bytes().to_vec()];
        for _ in 0..rng.below(6) {
            args.push(token(&mut rng, &vocabulary));
        }
        // Never drop the fixture's index: the final check needs it.
        if command == "FT.DROPINDEX" && args.get(1).is_some_and(|a| a == b"idx") {
            continue;
        }
        f.send(&args);
    }
    // An alias of `idx` may have been dropped with DD: bring the index back to check it.
    if f.send(&words("FT.INFO idx")).is_error() {
        assert_eq!(create_index(&mut f.c, "idx", &["doc:"]), V::ok());
        wait_indexed(&mut f.c, "idx");
    }
    f.finish();
}

/// Vector attributes at and beyond their limits: each FT.CREATE is accepted or refused, and an
/// accepted index then takes a write and a query, without exhausting memory or panicking.
#[test]
fn extreme_vector_parameters() {
    let mut f = Fixture::new();
    let mut accepted = Vec::new();
    for (i, attrs) in [
        "DIM 0",
        "DIM -1",
        "DIM 4294967296",
        "DIM 1000000000",
        "DIM 2 INITIAL_CAP 9223372036854775807",
        "DIM 2 INITIAL_CAP 0",
        "DIM 2 BLOCK_SIZE 0",
        "DIM 2 BLOCK_SIZE 18446744073709551615",
        "DIM 2 M 0",
        "DIM 2 M 4294967296",
        "DIM 2 M 1",
        "DIM 2 EF_CONSTRUCTION 0",
        "DIM 2 EF_CONSTRUCTION 99999999999",
        "DIM 2 EF_RUNTIME 0",
        "DIM 2 EPSILON -1",
        "DIM 2 EPSILON nan",
    ]
    .iter()
    .enumerate()
    {
        for algo in ["FLAT", "HNSW"] {
            let count = 4 + attrs.split_whitespace().count();
            let line = format!(
                "FT.CREATE x{i}{algo} PREFIX 1 x{i}{algo}: SCHEMA v VECTOR {algo} {count} \
                 TYPE FLOAT32 DISTANCE_METRIC L2 {attrs}"
            );
            if f.send(&words(&line)) != V::ok() {
                continue;
            }
            accepted.push(format!("{algo} {attrs}"));
            let key = format!("x{i}{algo}:1");
            let b = blob(&[1.0, 2.0]);
            f.send(&[b"HSET".to_vec(), key.into_bytes(), b"v".to_vec(), b.clone()]);
            let index = format!("x{i}{algo}");
            f.send(&[
                b"FT.SEARCH".to_vec(),
                index.clone().into_bytes(),
                b"*=>[KNN 3 @v $q]".to_vec(),
                b"PARAMS".to_vec(),
                b"2".to_vec(),
                b"q".to_vec(),
                b,
                b"DIALECT".to_vec(),
                b"2".to_vec(),
            ]);
            f.send(&words(&format!("FT.INFO {index}")));
            assert_eq!(f.send(&words(&format!("FT.DROPINDEX {index} DD"))), V::ok());
        }
    }
    eprintln!("extreme_vector_parameters accepted: {accepted:?}");
    f.finish();
}
