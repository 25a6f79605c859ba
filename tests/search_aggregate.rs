//! FT.AGGREGATE and FT.CURSOR end to end, every case in RESP2 and RESP3: LOAD, GROUPBY with
//! each reducer, SORTBY (MAX), APPLY, FILTER, LIMIT in command order, `__key` / ADDSCORES,
//! KNN distances in the pipeline, cursors (batches, DEL, idle expiry, FT.DROPINDEX) and
//! RediSearch's error texts.

mod common;

use common::{Client, Server, V};

/// Rows as both protocols carry them: the total, then each row's (name, value) pairs.
type Rows = (i64, Vec<Vec<(String, V)>>);

/// Reads a FT.AGGREGATE / FT.CURSOR result (without the cursor id) into [`Rows`].
fn decode(reply: &V) -> Rows {
    match reply {
        V::Array(items) => {
            let V::Int(total) = items[0] else {
                panic!("no total: {reply:?}")
            };
            let rows = items[1..]
                .iter()
                .map(|row| {
                    row.items()
                        .chunks(2)
                        .map(|kv| (kv[0].text(), kv[1].clone()))
                        .collect()
                })
                .collect();
            (total, rows)
        }
        V::Map(pairs) => {
            let get = |k: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| key.text() == k)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_else(|| panic!("no {k}: {reply:?}"))
            };
            assert_eq!(get("format"), V::Simple("STRING".into()));
            assert_eq!(get("attributes"), V::Array(vec![]));
            assert_eq!(get("warning"), V::Array(vec![]));
            let V::Int(total) = get("total_results") else {
                panic!("no total_results: {reply:?}")
            };
            let rows = get("results")
                .items()
                .iter()
                .map(|row| {
                    let V::Map(entry) = row else {
                        panic!("row is not a map: {row:?}")
                    };
                    assert_eq!(entry[1], (V::Simple("values".into()), V::Array(vec![])));
                    let V::Map(fields) = &entry[0].1 else {
                        panic!("no extra_attributes: {row:?}")
                    };
                    fields.iter().map(|(k, v)| (k.text(), v.clone())).collect()
                })
                .collect();
            (total, rows)
        }
        other => panic!("not an aggregate reply: {other:?}"),
    }
}

/// `FT.AGGREGATE idx <line>`, the line split at spaces (expressions are written without).
fn agg(c: &mut Client, line: &str) -> Rows {
    let reply = c.q(&format!("FT.AGGREGATE idx {line}"));
    assert!(!reply.is_error(), "{line}: {reply:?}");
    decode(&reply)
}

fn agg_err(c: &mut Client, line: &str) -> String {
    let reply = c.q(line);
    assert!(reply.is_error(), "{line} should fail: {reply:?}");
    reply.text()
}

fn row(pairs: &[(&str, &str)]) -> Vec<(String, V)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), V::bulk(v)))
        .collect()
}

/// A server with index `idx` (TEXT title, TAG brand SORTABLE, NUMERIC price SORTABLE, a 2-d
/// vector `v`) over five products, and one client per protocol.
fn setup() -> (Server, Vec<Client>) {
    let server = Server::start(&[]);
    let mut c = server.client();
    let reply = c.q(
        "FT.CREATE idx ON HASH PREFIX 1 p: SCHEMA title TEXT brand TAG SORTABLE \
         price NUMERIC SORTABLE v VECTOR FLAT 6 TYPE FLOAT32 DIM 2 DISTANCE_METRIC L2",
    );
    assert_eq!(reply, V::ok());
    let products = [
        ("p:1", "red shoe", "acme", "10", [0.0f32, 0.0]),
        ("p:2", "blue shoe", "acme", "3", [1.0, 0.0]),
        ("p:3", "green hat", "zeta", "8", [2.0, 0.0]),
        ("p:4", "red hat", "zeta", "4.5", [3.0, 0.0]),
        ("p:5", "old sock", "", "1", [4.0, 0.0]),
    ];
    for (key, title, brand, price, v) in products {
        let blob: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        let mut args: Vec<&[u8]> = vec![b"HSET", key.as_bytes(), b"title", title.as_bytes()];
        if !brand.is_empty() {
            args.extend([b"brand".as_ref(), brand.as_bytes()]);
        }
        args.extend([b"price".as_ref(), price.as_bytes(), b"v", &blob]);
        assert!(matches!(c.cmd(&args), V::Int(_)));
    }
    let mut c3 = server.client();
    c3.resp3();
    (server, vec![c, c3])
}

#[test]
fn load_sort_apply_filter_limit_in_order() {
    let (_s, clients) = setup();
    for mut c in clients {
        let (total, rows) = agg(&mut c, "* LOAD 2 @title price SORTBY 2 @price DESC");
        assert_eq!(total, 5);
        assert_eq!(rows[0], row(&[("title", "red shoe"), ("price", "10")]));
        assert_eq!(rows[4], row(&[("title", "old sock"), ("price", "1")]));

        // SORTBY and LIMIT fold into one step where the first of them stands, as in
        // RediSearch: the page is cut before the APPLY and FILTER written before LIMIT.
        let (total, rows) = agg(
            &mut c,
            "* SORTBY 2 @price ASC APPLY @price*2 AS double FILTER @double>7 LIMIT 1 2",
        );
        assert_eq!(total, 4);
        assert_eq!(rows, vec![row(&[("price", "4.5"), ("double", "9")])]);
        let (_, rows) = agg(&mut c, "* LIMIT 0 2 SORTBY 2 @price ASC");
        assert_eq!(rows, vec![row(&[("price", "1")]), row(&[("price", "3")])]);
        // LIMIT 0 0 counts without rows.
        assert_eq!(agg(&mut c, "* LIMIT 0 0"), (5, vec![]));

        // SORTBY MAX, and APPLY over a loaded field replaces it in place.
        let (_, rows) = agg(
            &mut c,
            "* LOAD 1 @price APPLY @price/2 AS price SORTBY 2 @price ASC MAX 2",
        );
        assert_eq!(
            rows,
            vec![row(&[("price", "0.5")]), row(&[("price", "1.5")])]
        );

        // A query restricts the rows; schema fields the steps read are loaded and sent.
        let (total, rows) = agg(&mut c, "@brand:{zeta} FILTER @price<5&&@brand=='zeta'");
        assert_eq!(total, 1);
        assert_eq!(rows, vec![row(&[("price", "4.5"), ("brand", "zeta")])]);

        // Search options restrict the documents as in FT.SEARCH.
        let (total, _) = agg(&mut c, "* INKEYS 2 p:1 p:3 LANGUAGE english WITHCOUNT");
        assert_eq!(total, 2);

        // No LOAD and no step: one empty row per document.
        let (total, rows) = agg(&mut c, "*");
        assert_eq!((total, rows.len()), (5, 5));
        assert!(rows.iter().all(Vec::is_empty));
    }
}

#[test]
fn load_all_key_and_alias() {
    let (_s, clients) = setup();
    for mut c in clients {
        let (_, rows) = agg(&mut c, "* LOAD 4 __key @title AS name FILTER @__key=='p:1'");
        assert_eq!(rows, vec![row(&[("__key", "p:1"), ("name", "red shoe")])]);
        let (_, rows) = agg(&mut c, "* LOAD * FILTER @price==3");
        let names: Vec<&str> = rows[0].iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["title", "brand", "price", "v"]);
        // A vector blob comes back byte for byte.
        let blob: Vec<u8> = [1.0f32, 0.0].iter().flat_map(|x| x.to_le_bytes()).collect();
        assert_eq!(rows[0][3].1, V::Bulk(blob));
        let (_, rows) = agg(&mut c, "* FILTER @__key=='p:2' APPLY upper(@__key) AS k");
        assert_eq!(rows[0].last(), Some(&("k".to_string(), V::bulk("P:2"))));
    }
}

#[test]
fn apply_string_math_and_time_functions() {
    let (_s, clients) = setup();
    for mut c in clients {
        let reply = c.cmd(&[
            "FT.AGGREGATE",
            "idx",
            "*",
            "FILTER",
            "@price==8",
            "APPLY",
            "@price * 86400 * 365",
            "AS",
            "t",
            "APPLY",
            "year(@t)",
            "AS",
            "y",
            "APPLY",
            "timefmt(@t, '%F')",
            "AS",
            "date",
            "APPLY",
            "dayofweek(@t)",
            "AS",
            "dow",
            "APPLY",
            "format('%s:%s', @title, log2(@price))",
            "AS",
            "f",
            "APPLY",
            "split(@title, ' ')",
            "AS",
            "words",
        ]);
        let (_, rows) = decode(&reply);
        assert_eq!(
            rows[0][3..],
            [
                ("y".to_string(), V::bulk("1977")),
                ("date".to_string(), V::bulk("1977-12-30")),
                ("dow".to_string(), V::bulk("5")),
                ("f".to_string(), V::bulk("green hat:3")),
                (
                    "words".to_string(),
                    V::Array(vec![V::bulk("green"), V::bulk("hat")])
                ),
            ]
        );
    }
}

#[test]
fn groupby_with_every_reducer() {
    let (_s, clients) = setup();
    for mut c in clients {
        let (total, rows) = agg(
            &mut c,
            "* GROUPBY 1 @brand REDUCE COUNT 0 REDUCE SUM 1 @price REDUCE MIN 1 @price AS lo REDUCE MAX 1 @price AS hi REDUCE AVG 1 @price AS avg REDUCE COUNT_DISTINCT 1 @title REDUCE COUNT_DISTINCTISH 1 @title AS cdi REDUCE QUANTILE 2 @price 0.5 REDUCE STDDEV 1 @price AS sd REDUCE FIRST_VALUE 3 @title BY @price AS cheapest SORTBY 2 @brand ASC",
        );
        assert_eq!(total, 3);
        assert_eq!(
            rows[0],
            row(&[
                ("brand", "acme"),
                ("__generated_aliascount", "2"),
                ("__generated_aliassumprice", "13"),
                ("lo", "3"),
                ("hi", "10"),
                ("avg", "6.5"),
                ("__generated_aliascount_distincttitle", "2"),
                ("cdi", "2"),
                ("__generated_aliasquantileprice,0.5", "3"),
                ("sd", "4.94974746831"),
                ("cheapest", "blue shoe"),
            ])
        );
        assert_eq!(rows[1][0], ("brand".to_string(), V::bulk("zeta")));
        // The document without a brand forms a group whose key is null; nulls sort last.
        assert_eq!(rows[2][0], ("brand".to_string(), V::Nil));

        let (_, rows) = agg(
            &mut c,
            "@brand:{zeta} GROUPBY 0 REDUCE TOLIST 1 @title AS all REDUCE RANDOM_SAMPLE 2 @title 1 AS one",
        );
        let mut all = rows[0][0].1.items().iter().map(V::text).collect::<Vec<_>>();
        all.sort();
        assert_eq!(all, ["green hat", "red hat"]);
        assert_eq!(rows[0][1].1.items().len(), 1);

        // Groups of groups: reducer outputs feed later steps.
        let (_, rows) = agg(
            &mut c,
            "* GROUPBY 1 @brand REDUCE COUNT 0 AS n GROUPBY 1 @n REDUCE COUNT 0 AS brands SORTBY 2 @n DESC",
        );
        assert_eq!(
            rows,
            vec![
                row(&[("n", "2"), ("brands", "2")]),
                row(&[("n", "1"), ("brands", "1")]),
            ]
        );
    }
}

#[test]
fn knn_distances_and_scores_in_the_pipeline() {
    let (_s, clients) = setup();
    let blob: Vec<u8> = [0.0f32, 0.0].iter().flat_map(|x| x.to_le_bytes()).collect();
    for mut c in clients {
        let reply = c.cmd(&[
            b"FT.AGGREGATE".as_ref(),
            b"idx",
            b"*=>[KNN 3 @v $vec AS dist]",
            b"LOAD",
            b"1",
            b"@title",
            b"APPLY",
            b"@dist + 1",
            b"AS",
            b"d1",
            b"SORTBY",
            b"2",
            b"@dist",
            b"DESC",
            b"PARAMS",
            b"2",
            b"vec",
            &blob,
            b"DIALECT",
            b"2",
        ]);
        let (total, rows) = decode(&reply);
        assert_eq!(total, 3);
        assert_eq!(
            rows[0],
            row(&[("dist", "4"), ("title", "green hat"), ("d1", "5")])
        );
        assert_eq!(rows[2][0], ("dist".to_string(), V::bulk("0")));

        let (_, rows) = agg(
            &mut c,
            "* FILTER @price==8 ADDSCORES SCORER BM25STD APPLY @__score*2 AS s2",
        );
        let names: Vec<&str> = rows[0].iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["__score", "price", "s2"]);
    }
}

#[test]
fn errors_carry_redisearch_texts() {
    let (_s, clients) = setup();
    for mut c in clients {
        let cases: &[(&str, &str)] = &[
            ("FT.AGGREGATE nope *", "No such index nope"),
            (
                "FT.AGGREGATE idx * SORTBY 1 @missing",
                "Property `missing` not loaded nor in schema",
            ),
            (
                "FT.AGGREGATE idx * GROUPBY 1 @brand SORTBY 1 @price",
                "Property `price` not loaded nor in schema",
            ),
            (
                "FT.AGGREGATE idx * GROUPBY 1 @nope",
                "No such property `nope`",
            ),
            (
                "FT.AGGREGATE idx * APPLY @nope+1 AS x",
                "Property `nope` not loaded nor in pipeline",
            ),
            (
                "FT.AGGREGATE idx * SORTBY 1 @price LIMIT 0 3 SORTBY 1 @title",
                "Multiple SORTBY steps are not allowed. Sort multiple fields in a single step",
            ),
            (
                "FT.AGGREGATE idx * SORTBY 2 @price UP",
                "MISSING ASC or DESC after sort field (UP)",
            ),
            (
                "FT.AGGREGATE idx * GROUPBY 1 @brand LOAD 1 @title",
                "LOAD cannot be applied after projectors or reducers",
            ),
            (
                "FT.AGGREGATE idx * RETURN 1 title",
                "RETURN is not supported on FT.AGGREGATE",
            ),
            (
                "FT.AGGREGATE idx * LIMIT 2 0",
                "The `offset` of the LIMIT must be 0 when `num` is 0",
            ),
            (
                "FT.AGGREGATE idx * APPLY @__score AS s",
                "Property `__score` not loaded nor in pipeline",
            ),
            (
                "FT.AGGREGATE idx * GROUPBY 1 brand",
                "Bad arguments for GROUPBY: Unknown property `brand`. Did you mean `@brand`?",
            ),
            (
                "FT.AGGREGATE idx * GROUPBY 1 @brand REDUCE NOPE 0",
                "No such reducer: NOPE",
            ),
            (
                "FT.AGGREGATE idx * GROUPBY 1 @brand REDUCE SUM 0",
                "Bad arguments for SUM",
            ),
            (
                "FT.AGGREGATE idx * REDUCE COUNT 0",
                "Unknown argument `REDUCE` at position 1 for <main>",
            ),
            ("FT.AGGREGATE idx * LIMIT 0", "LIMIT requires two arguments"),
            (
                "FT.AGGREGATE idx * LIMIT x 1",
                "LIMIT needs two numeric arguments",
            ),
            (
                "FT.AGGREGATE idx * BOGUS",
                "Unknown argument `BOGUS` at position 1 for <main>",
            ),
            (
                "FT.AGGREGATE idx * APPLY 1+ AS x",
                "Syntax error at offset 2 near ''",
            ),
            (
                "FT.AGGREGATE idx * LOAD 3 @a",
                "Bad arguments for LOAD: Expected an argument, but none provided",
            ),
            ("FT.AGGREGATE idx * SCORER NOPE", "No such scorer NOPE"),
            ("FT.CURSOR READ idx 12345", "Cursor not found, id: 12345"),
            ("FT.CURSOR DEL idx 12345", "Cursor not found, id: 12345"),
            ("FT.CURSOR READ idx abc", "Bad cursor ID"),
            ("FT.CURSOR NOPE idx 1", "Unknown subcommand"),
        ];
        for (line, text) in cases {
            assert_eq!(agg_err(&mut c, line), *text, "{line}");
        }
    }
}

/// Reads a cursor reply: the rows and the cursor id.
fn cursor(reply: &V) -> (Rows, i64) {
    let items = reply.items();
    assert_eq!(items.len(), 2, "{reply:?}");
    let V::Int(id) = items[1] else {
        panic!("no cursor id: {reply:?}")
    };
    (decode(&items[0]), id)
}

#[test]
fn cursors_read_to_exhaustion_and_delete() {
    let (_s, clients) = setup();
    for mut c in clients {
        let (first, mut id) = cursor(&c.cmd(&[
            "FT.AGGREGATE",
            "idx",
            "*",
            "LOAD",
            "1",
            "@price",
            "SORTBY",
            "2",
            "@price",
            "ASC",
            "WITHCURSOR",
            "COUNT",
            "2",
        ]));
        assert_eq!(first.0, 5);
        assert_ne!(id, 0);
        let mut prices: Vec<V> = first.1.iter().map(|r| r[0].1.clone()).collect();
        let mut reads = 0;
        while id != 0 {
            let (rows, next) = cursor(&c.q(&format!("FT.CURSOR READ idx {id}")));
            prices.extend(rows.1.iter().map(|r| r[0].1.clone()));
            assert!(next == 0 || next == id);
            id = next;
            reads += 1;
        }
        assert_eq!(reads, 2);
        assert_eq!(prices, ["1", "3", "4.5", "8", "10"].map(V::bulk));

        // All rows in the first batch: no cursor is left open.
        let (rows, id) = cursor(&c.q("FT.AGGREGATE idx * WITHCURSOR"));
        assert_eq!((rows.1.len(), id), (5, 0));

        // READ's COUNT overrides the cursor's own; DEL forgets it.
        let (_, id) = cursor(&c.q("FT.AGGREGATE idx * WITHCURSOR COUNT 1 MAXIDLE 10000"));
        let (rows, same) = cursor(&c.q(&format!("FT.CURSOR READ idx {id} COUNT 3")));
        assert_eq!((rows.1.len(), same), (3, id));
        assert_eq!(c.q(&format!("FT.CURSOR DEL idx {id}")), V::ok());
        assert_eq!(
            c.q(&format!("FT.CURSOR READ idx {id}")),
            V::err(&format!("Cursor not found, id: {id}"))
        );
    }
}

#[test]
fn idle_cursors_expire_and_dropping_the_index_releases_them() {
    let (_s, mut clients) = setup();
    let c = &mut clients[0];
    let (_, id) = cursor(&c.q("FT.AGGREGATE idx * WITHCURSOR COUNT 1 MAXIDLE 50"));
    std::thread::sleep(std::time::Duration::from_millis(120));
    assert_eq!(
        c.q(&format!("FT.CURSOR READ idx {id}")),
        V::err(&format!("Cursor not found, id: {id}"))
    );

    let (_, id) = cursor(&c.q("FT.AGGREGATE idx * WITHCURSOR COUNT 1"));
    let info = c.q("FT.INFO idx").items();
    let stats = info
        .chunks(2)
        .find(|kv| kv[0].text() == "cursor_stats")
        .map(|kv| kv[1].items())
        .unwrap();
    for name in ["index_total", "global_total", "global_idle"] {
        let value = stats.chunks(2).find(|kv| kv[0].text() == name);
        assert_eq!(value.map(|kv| kv[1].clone()), Some(V::Int(1)), "{name}");
    }
    assert_eq!(c.q("FT.DROPINDEX idx"), V::ok());
    assert_eq!(
        c.q(&format!("FT.CURSOR READ idx {id}")),
        V::err(&format!("Cursor not found, id: {id}"))
    );
}

#[test]
fn big_aggregations_group_and_page_through_a_cursor() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let reply = c.q("FT.CREATE big ON HASH PREFIX 1 b: SCHEMA kind TAG n NUMERIC");
    assert_eq!(reply, V::ok());
    let fill = c.cmd(&[
        "EVAL",
        "for i = 1, 6000 do redis.call('HSET', 'b:' .. i, 'kind', 'k' .. (i % 7), 'n', i) end",
        "0",
    ]);
    assert_eq!(fill, V::Nil);
    let reply = c.q(
        "FT.AGGREGATE big * GROUPBY 1 @kind REDUCE COUNT 0 AS c REDUCE SUM 1 @n AS s \
         SORTBY 2 @kind ASC",
    );
    let (total, rows) = decode(&reply);
    assert_eq!(total, 7);
    assert_eq!(
        rows[0],
        row(&[("kind", "k0"), ("c", "857"), ("s", "2573571")])
    );

    let (first, mut id) = cursor(&c.q("FT.AGGREGATE big * LOAD 1 @n WITHCURSOR COUNT 1000"));
    let mut seen: Vec<i64> = first
        .1
        .iter()
        .map(|r| r[0].1.text().parse().unwrap())
        .collect();
    while id != 0 {
        let (rows, next) = cursor(&c.q(&format!("FT.CURSOR READ big {id}")));
        seen.extend(rows.1.iter().map(|r| r[0].1.text().parse::<i64>().unwrap()));
        id = next;
    }
    seen.sort_unstable();
    assert_eq!(seen, (1..=6000).collect::<Vec<i64>>());
}

#[test]
fn config_bounds_limit_and_cursor_idle_time() {
    let (_s, mut clients) = setup();
    let c = &mut clients[0];
    assert_eq!(c.q("FT.CONFIG SET MAXAGGREGATERESULTS 3"), V::ok());
    assert_eq!(
        c.q("FT.AGGREGATE idx * LIMIT 0 5"),
        V::err("LIMIT exceeds maximum of 3")
    );
    assert_eq!(agg(c, "* LIMIT 0 3").1.len(), 3);
    assert_eq!(c.q("FT.CONFIG SET CURSOR_MAX_IDLE 50"), V::ok());
    let (_, id) = cursor(&c.q("FT.AGGREGATE idx * WITHCURSOR COUNT 1 MAXIDLE 100000"));
    std::thread::sleep(std::time::Duration::from_millis(120));
    assert_eq!(
        c.q(&format!("FT.CURSOR READ idx {id}")),
        V::err(&format!("Cursor not found, id: {id}"))
    );
}

#[test]
fn matched_terms_lists_the_terms_each_document_matched() {
    let (_s, clients) = setup();
    let terms = |words: &[&str]| V::Array(words.iter().map(|w| V::bulk(w)).collect());
    for mut c in clients {
        // `shoes` stands for itself and its stem forms; each document lists the dictionary
        // terms it has, in query order.
        let (total, rows) = agg(
            &mut c,
            "@title:(red|shoes) LOAD 1 @__key APPLY matched_terms() AS m SORTBY 2 @__key ASC",
        );
        assert_eq!(total, 3);
        let listed: Vec<(String, V)> = rows
            .iter()
            .map(|r| (r[0].1.text(), r[1].1.clone()))
            .collect();
        assert_eq!(
            listed,
            [
                ("p:1".to_string(), terms(&["red", "shoe"])),
                ("p:2".to_string(), terms(&["shoe"])),
                ("p:4".to_string(), terms(&["red"])),
            ]
        );
        // At most the argument's count; null without text terms or after a GROUPBY.
        let (_, rows) = agg(
            &mut c,
            "@title:(red|shoe) LOAD 1 @__key APPLY matched_terms(1) AS m SORTBY 2 @__key ASC LIMIT 0 1",
        );
        assert_eq!(rows[0][1], ("m".to_string(), terms(&["red"])));
        let (_, rows) = agg(&mut c, "@brand:{zeta} APPLY matched_terms() AS m");
        assert_eq!(rows, vec![vec![("m".to_string(), V::Nil)]; 2]);
        let (_, rows) = agg(
            &mut c,
            "red GROUPBY 0 REDUCE COUNT 0 AS n APPLY matched_terms() AS m",
        );
        assert_eq!(rows[0][1], ("m".to_string(), V::Nil));
    }
}
