//! FT.HYBRID end to end, every case in RESP2 and RESP3: RRF and LINEAR fusion checked
//! against scores computed by hand on a five-document index, KNN (K, defaults, the LIMIT
//! fallback) and RANGE, the VSIM FILTER, LOAD, post-processing steps, yielded scores, and
//! the error texts.

mod common;

use common::{Client, Server, V};

/// One result row: (name, value) pairs.
type Row = Vec<(String, V)>;

/// Reads a FT.HYBRID reply (a flat array in RESP2, a map in RESP3) into its total and rows.
fn decode(reply: &V) -> (i64, Vec<Row>) {
    let entries: Vec<(String, V)> = match reply {
        V::Array(items) => items
            .chunks(2)
            .map(|kv| (kv[0].text(), kv[1].clone()))
            .collect(),
        V::Map(pairs) => pairs.iter().map(|(k, v)| (k.text(), v.clone())).collect(),
        other => panic!("not a hybrid reply: {other:?}"),
    };
    let names: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        ["total_results", "results", "warnings", "execution_time"]
    );
    assert_eq!(entries[2].1, V::Array(vec![]));
    let time: f64 = entries[3].1.text().parse().expect("execution_time");
    assert!(time >= 0.0);
    let V::Int(total) = entries[0].1 else {
        panic!("no total: {reply:?}")
    };
    let rows = entries[1]
        .1
        .items()
        .iter()
        .map(|row| match row {
            V::Map(fields) => fields.iter().map(|(k, v)| (k.text(), v.clone())).collect(),
            V::Array(items) => items
                .chunks(2)
                .map(|kv| (kv[0].text(), kv[1].clone()))
                .collect(),
            other => panic!("row is neither map nor array: {other:?}"),
        })
        .collect();
    (total, rows)
}

fn blob(v: [f32; 2]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// `FT.HYBRID idx SEARCH <search> VSIM @v $vec <rest> PARAMS 2 vec <(0,0)>`, `rest`
/// split at spaces.
fn hybrid_reply(c: &mut Client, search: &str, rest: &str) -> V {
    let query = blob([0.0, 0.0]);
    let mut args: Vec<&[u8]> = vec![b"FT.HYBRID", b"idx", b"SEARCH", search.as_bytes()];
    args.extend([b"VSIM".as_ref(), b"@v", b"$vec"]);
    args.extend(rest.split_whitespace().map(str::as_bytes));
    args.extend([b"PARAMS".as_ref(), b"2", b"vec", &query]);
    c.cmd(&args)
}

fn hybrid(c: &mut Client, search: &str, rest: &str) -> (i64, Vec<Row>) {
    let reply = hybrid_reply(c, search, rest);
    assert!(!reply.is_error(), "{search} {rest}: {reply:?}");
    decode(&reply)
}

fn field(row: &Row, name: &str) -> Option<String> {
    row.iter().find(|(k, _)| k == name).map(|(_, v)| v.text())
}

fn number(row: &Row, name: &str) -> f64 {
    field(row, name)
        .unwrap_or_else(|| panic!("no {name} in {row:?}"))
        .parse()
        .expect("a number")
}

/// The keys of the rows and their `__score`s.
fn ranked(rows: &[Row]) -> Vec<(String, f64)> {
    rows.iter()
        .map(|r| (field(r, "__key").expect("__key"), number(r, "__score")))
        .collect()
}

/// Asserts the ranking equals `want`, scores within 1e-9 (they are sent as `%.12g`).
fn assert_ranked(rows: &[Row], want: &[(&str, f64)]) {
    let got = ranked(rows);
    assert_eq!(got.len(), want.len(), "{got:?}");
    for ((key, score), (want_key, want_score)) in got.iter().zip(want) {
        assert_eq!(key, want_key, "{got:?}");
        assert!((score - want_score).abs() < 1e-9, "{key}: {score} {got:?}");
    }
}

/// A server with index `idx` (TEXT t, TAG tag, 2-d L2 FLAT vector v) over five documents,
/// and one client per protocol. Query vector (0, 0): squared L2 distances d1 0, d2 1,
/// d3 4, d4 9; d5 has no vector. "apple" is in d1, d2, d4 alike (equal text scores, so
/// doc id order); "banana" in d3 and d5.
fn setup() -> (Server, Vec<Client>) {
    let server = Server::start(&[]);
    let mut c = server.client();
    let reply = c.q("FT.CREATE idx ON HASH PREFIX 1 d SCHEMA t TEXT tag TAG \
         v VECTOR FLAT 6 TYPE FLOAT32 DIM 2 DISTANCE_METRIC L2");
    assert_eq!(reply, V::ok());
    let docs: [(&str, &str, &str, Option<[f32; 2]>); 5] = [
        ("d1", "apple", "x", Some([0.0, 0.0])),
        ("d2", "apple", "y", Some([1.0, 0.0])),
        ("d3", "banana", "x", Some([2.0, 0.0])),
        ("d4", "apple", "y", Some([3.0, 0.0])),
        ("d5", "banana", "x", None),
    ];
    for (key, t, tag, v) in docs {
        let vector = v.map(blob);
        let mut args: Vec<&[u8]> = vec![b"HSET", key.as_bytes(), b"t", t.as_bytes()];
        args.extend([b"tag".as_ref(), tag.as_bytes()]);
        if let Some(vector) = &vector {
            args.extend([b"v".as_ref(), vector]);
        }
        assert!(matches!(c.cmd(&args), V::Int(_)));
    }
    let mut c3 = server.client();
    c3.resp3();
    (server, vec![c, c3])
}

fn rrf(ranks: &[usize], constant: f64) -> f64 {
    ranks.iter().map(|r| 1.0 / (constant + *r as f64)).sum()
}

/// "apple" (d1, d2, d4) fused by RRF with d1 and d2 as the vector side.
fn apples_and_two_nearest() -> [(&'static str, f64); 3] {
    [
        ("d1", rrf(&[1, 1], 60.0)),
        ("d2", rrf(&[2, 2], 60.0)),
        ("d4", rrf(&[3], 60.0)),
    ]
}

#[test]
fn rrf_fuses_text_and_knn_ranks() {
    let (_s, clients) = setup();
    for mut c in clients {
        // Text ranks: d1 1, d2 2, d4 3. Vector ranks: d1 1, d2 2, d3 3, d4 4.
        let (total, rows) = hybrid(&mut c, "apple", "");
        assert_eq!(total, 4);
        assert_ranked(
            &rows,
            &[
                ("d1", rrf(&[1, 1], 60.0)),
                ("d2", rrf(&[2, 2], 60.0)),
                ("d4", rrf(&[3, 4], 60.0)),
                ("d3", rrf(&[3], 60.0)),
            ],
        );
        // Rows hold exactly the key and the fused score by default.
        let names: Vec<&str> = rows[0].iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["__key", "__score"]);
        assert_eq!(field(&rows[0], "__score").unwrap(), "0.0327868852459");

        // An explicit RRF with its defaults gives the same.
        let (_, same) = hybrid(&mut c, "apple", "COMBINE RRF 4 CONSTANT 60 WINDOW 20");
        assert_eq!(ranked(&same), ranked(&rows));
        let (_, bare) = hybrid(&mut c, "apple", "COMBINE RRF");
        assert_eq!(ranked(&bare), ranked(&rows));

        // WINDOW cuts both lists to their first two.
        let (total, rows) = hybrid(&mut c, "apple", "COMBINE RRF 4 CONSTANT 1 WINDOW 2");
        assert_eq!(total, 2);
        assert_ranked(
            &rows,
            &[("d1", rrf(&[1, 1], 1.0)), ("d2", rrf(&[2, 2], 1.0))],
        );

        // KNN K 2: only d1 and d2 come from the vector side.
        let (total, rows) = hybrid(&mut c, "apple", "KNN 2 K 2");
        assert_eq!(total, 3);
        assert_ranked(&rows, &apples_and_two_nearest());

        // A text query matching nothing leaves the vector ranking.
        let (total, rows) = hybrid(&mut c, "cherry", "KNN 2 K 3");
        assert_eq!(total, 3);
        let keys: Vec<String> = ranked(&rows).into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["d1", "d2", "d3"]);
    }
}

#[test]
fn range_and_the_vsim_filter() {
    let (_s, clients) = setup();
    for mut c in clients {
        // RADIUS 1.5 (squared L2) takes d1 and d2.
        let (total, rows) = hybrid(&mut c, "apple", "RANGE 2 RADIUS 1.5");
        assert_eq!(total, 3);
        assert_ranked(&rows, &apples_and_two_nearest());
        let (total, _) = hybrid(&mut c, "apple", "RANGE 4 RADIUS 1.5 EPSILON 0.5");
        assert_eq!(total, 3);

        // FILTER restricts the vector candidates only: d3 is the one banana with a
        // vector. Equal scores keep the text side first.
        let (total, rows) = hybrid(&mut c, "apple", "FILTER @t:banana");
        assert_eq!(total, 4);
        assert_ranked(
            &rows,
            &[
                ("d1", rrf(&[1], 60.0)),
                ("d3", rrf(&[1], 60.0)),
                ("d2", rrf(&[2], 60.0)),
                ("d4", rrf(&[3], 60.0)),
            ],
        );
        let (total, rows) = hybrid(&mut c, "apple", "KNN 2 K 1 FILTER @tag:{y}");
        assert_eq!(total, 3);
        assert_ranked(&rows[..1], &[("d2", rrf(&[2, 1], 60.0))]);
        // A filter matching no vector leaves the text ranking.
        let (total, _) = hybrid(&mut c, "apple", "FILTER @tag:{none}");
        assert_eq!(total, 3);
    }
}

#[test]
fn linear_combines_weighted_scores() {
    let (_s, clients) = setup();
    for mut c in clients {
        // BETA alone: the L2 score 1 / (1 + d).
        let (total, rows) = hybrid(&mut c, "apple", "COMBINE LINEAR 4 ALPHA 0 BETA 1");
        assert_eq!(total, 4);
        assert_ranked(&rows, &[("d1", 1.0), ("d2", 0.5), ("d3", 0.2), ("d4", 0.1)]);

        // Defaults 0.3 / 0.7, checked against the yielded text and vector scores.
        let (total, rows) = hybrid(
            &mut c,
            "apple",
            "YIELD_SCORE_AS vs COMBINE LINEAR 2 YIELD_SCORE_AS fused",
        );
        assert_eq!(total, 4);
        let (_, text) = hybrid(
            &mut c,
            "apple",
            "COMBINE LINEAR 6 ALPHA 1 BETA 0 YIELD_SCORE_AS fused",
        );
        let text_score = number(&text[0], "fused");
        assert!(text_score > 0.0);
        for row in &rows {
            let key = field(row, "__key").unwrap();
            let vector = match key.as_str() {
                "d1" => 1.0,
                "d2" => 0.5,
                "d3" => 0.2,
                _ => 0.1,
            };
            assert!((number(row, "vs") - vector).abs() < 1e-9, "{row:?}");
            let search = if key == "d3" { 0.0 } else { text_score };
            let want = 0.3 * search + 0.7 * vector;
            assert!((number(row, "fused") - want).abs() < 1e-9, "{row:?}");
            assert!((number(row, "__score") - want).abs() < 1e-9, "{row:?}");
        }
    }
}

#[test]
fn load_steps_limit_and_yields() {
    let (_s, clients) = setup();
    for mut c in clients {
        // LOAD replaces the default fields.
        let (total, rows) = hybrid(&mut c, "apple", "LOAD 3 @t @tag __key");
        assert_eq!(total, 4);
        assert_eq!(
            rows[0],
            vec![
                ("t".to_string(), V::bulk("apple")),
                ("tag".to_string(), V::bulk("x")),
                ("__key".to_string(), V::bulk("d1")),
            ]
        );
        let (_, rows) = hybrid(&mut c, "apple", "LOAD 3 @t AS text");
        assert_eq!(rows[3], vec![("text".to_string(), V::bulk("banana"))]);

        // LIMIT pages the fused rows; given alone it also stands for K and WINDOW.
        let (total, rows) = hybrid(&mut c, "apple", "LIMIT 0 2");
        assert_eq!(total, 2);
        assert_eq!(rows.len(), 2);
        let (total, rows) = hybrid(
            &mut c,
            "apple",
            "KNN 2 K 10 COMBINE RRF 2 WINDOW 20 LIMIT 1 2",
        );
        assert_eq!(total, 4);
        let keys: Vec<String> = ranked(&rows).into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["d2", "d4"]);

        // The post-processing steps of FT.AGGREGATE, over the fused rows.
        let (_, rows) = hybrid(
            &mut c,
            "apple",
            "APPLY upper(@__key) AS up SORTBY 2 @__score ASC",
        );
        let ups: Vec<String> = rows.iter().map(|r| field(r, "up").unwrap()).collect();
        assert_eq!(ups, ["D3", "D4", "D2", "D1"]);
        let (total, rows) = hybrid(
            &mut c,
            "apple",
            "LOAD 1 @tag GROUPBY 1 @tag REDUCE COUNT 0 AS n SORTBY 2 @tag ASC",
        );
        assert_eq!(total, 2);
        assert_eq!(
            rows[0],
            vec![
                ("tag".to_string(), V::bulk("x")),
                ("n".to_string(), V::bulk("2"))
            ]
        );
        let (total, rows) = hybrid(
            &mut c,
            "apple",
            "COMBINE RRF 2 CONSTANT 60 FILTER @__score>0.03",
        );
        assert_eq!(total, 3);
        assert_eq!(rows.len(), 3);

        // Yielded scores appear only on the rows of their side.
        let (_, rows) = hybrid(
            &mut c,
            "banana",
            "KNN 2 K 1 YIELD_SCORE_AS vs COMBINE RRF 2 YIELD_SCORE_AS fused",
        );
        let d1 = rows
            .iter()
            .find(|r| field(r, "__key").unwrap() == "d1")
            .unwrap();
        assert_eq!(field(d1, "vs").unwrap(), "1");
        assert_eq!(field(d1, "fused"), field(d1, "__score"));
        let d5 = rows
            .iter()
            .find(|r| field(r, "__key").unwrap() == "d5")
            .unwrap();
        assert_eq!(field(d5, "vs"), None);
    }
}

#[test]
fn errors() {
    let (_s, clients) = setup();
    for mut c in clients {
        let cases = [
            ("apple", "KNN 2 K 0", "Invalid K value"),
            ("apple", "KNN 2 K -1", "Invalid K value"),
            (
                "apple",
                "KNN 2 K 288230376151711745",
                "KNN K parameter is too large",
            ),
            (
                "apple",
                "KNN 3 K 2",
                "Invalid argument count: 3 (must be a positive even number for key/value pairs)",
            ),
            ("apple", "KNN 2 EF_RUNTIME 5", "Missing required argument K"),
            (
                "apple",
                "KNN 2 K 2 RANGE 2 RADIUS 1",
                "Only one of KNN or RANGE may be given",
            ),
            (
                "apple",
                "RANGE 2 EPSILON 1",
                "Missing required argument RADIUS",
            ),
            ("apple", "KNN 2 Q 1", "Unknown argument `Q` in KNN"),
            (
                "apple",
                "COMBINE LINEAR 2 ALPHA 0.5",
                "Missing value for BETA",
            ),
            (
                "apple",
                "COMBINE LINEAR 2 BETA 0.5",
                "Missing value for ALPHA",
            ),
            (
                "apple",
                "COMBINE RRF 2 CONSTANT -1",
                "Bad arguments for CONSTANT: Value below minimum",
            ),
            (
                "apple",
                "COMBINE RRF 2 CONSTANT 100001",
                "Bad arguments for CONSTANT: Value above maximum",
            ),
            (
                "apple",
                "COMBINE RRF 2 CONSTANT nan",
                "Bad arguments for CONSTANT: Could not convert argument to expected type",
            ),
            (
                "apple",
                "COMBINE RRF 2 WINDOW 0",
                "Bad arguments for WINDOW: Value below minimum",
            ),
            (
                "apple",
                "COMBINE RRF 2 WINDOW -1",
                "Bad arguments for WINDOW: Value is outside acceptable bounds",
            ),
            (
                "apple",
                "COMBINE RRF 2 ALPHA 1",
                "Unknown argument `ALPHA` in RRF",
            ),
            (
                "apple",
                "WITHCURSOR",
                "WITHCURSOR is not supported on FT.HYBRID",
            ),
            ("apple", "NOSUCH", "Unknown argument `NOSUCH`"),
            ("@t:(", "", "Syntax error at offset 3 near ("),
            (
                "apple",
                "FILTER @nope:{x}",
                "Unknown field at offset 0 near nope",
            ),
            (
                "apple",
                "LOAD 1 @t SORTBY 2 @nope ASC",
                "Property `nope` not loaded nor in schema",
            ),
        ];
        for (search, rest, want) in cases {
            let reply = hybrid_reply(&mut c, search, rest);
            assert_eq!(reply, V::err(want), "{search} {rest}");
        }
        let err = |c: &mut Client, line: &str| {
            let reply = c.q(line);
            assert!(reply.is_error(), "{line}: {reply:?}");
            reply.text()
        };
        assert_eq!(
            err(&mut c, "FT.HYBRID idx VSIM @v x KNN 2 K 1"),
            "SEARCH argument is required"
        );
        assert_eq!(
            err(&mut c, "FT.HYBRID idx SEARCH apple LIMIT 0 1 x"),
            "Unknown argument `LIMIT` in SEARCH"
        );
        assert_eq!(
            err(&mut c, "FT.HYBRID idx SEARCH apple VSIM v $vec"),
            "Missing @ prefix for vector field name"
        );
        assert_eq!(
            err(&mut c, "FT.HYBRID nope SEARCH apple VSIM @v $vec"),
            "No such index nope"
        );
        assert_eq!(
            err(
                &mut c,
                "FT.HYBRID idx SEARCH apple VSIM @t $vec PARAMS 2 vec x"
            ),
            "Expected a VECTOR field: t"
        );
        assert_eq!(
            err(&mut c, "FT.HYBRID idx SEARCH apple VSIM @v $nope"),
            "No such parameter `nope`"
        );
        let knn = [
            "FT.SEARCH",
            "idx",
            "*=>[KNN 2 @v $vec]",
            "PARAMS",
            "2",
            "vec",
            "short",
            "DIALECT",
            "2",
        ];
        let search_err = c.cmd(&knn);
        assert!(search_err.is_error());
        assert_eq!(c.q("FT.HYBRID idx SEARCH apple VSIM @v short"), search_err);
        assert_eq!(
            err(
                &mut c,
                "FT.HYBRID idx SEARCH apple SCORER nope VSIM @v $vec"
            ),
            "No such scorer nope"
        );
    }
}
