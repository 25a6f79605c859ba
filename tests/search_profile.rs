//! FT.PROFILE SEARCH end to end: the search results unchanged, and the profile in
//! RediSearch 2.10's layout (RESP2 list of `[name, value...]`, RESP3 `profile` map entry),
//! with real times and per-iterator counts; argument errors with RediSearch's texts.

mod common;

use common::{Client, Server, V};

fn setup(c: &mut Client) {
    assert_eq!(c.q("FT.CREATE idx SCHEMA t TEXT n NUMERIC"), V::ok());
    c.q("HSET d1 t hello n 1");
    c.q("HSET d2 t world n 2");
    c.q("HSET d3 t other n 3");
}

/// The `[name, value...]` row called `name` of a RESP2 profile.
fn row(profile: &[V], name: &str) -> Vec<V> {
    profile
        .iter()
        .map(V::items)
        .find(|r| r[0].text() == name)
        .unwrap_or_else(|| panic!("no {name} in {profile:?}"))
}

fn millis(v: &V) -> f64 {
    v.text()
        .parse()
        .unwrap_or_else(|_| panic!("not a time: {v:?}"))
}

/// `key value` pairs of a flat RESP2 entry, values as text (nested arrays left out).
fn pairs(entry: &V) -> Vec<(String, String)> {
    entry
        .items()
        .chunks(2)
        .filter(|p| p.len() == 2 && !matches!(p[1], V::Array(_)))
        .map(|p| (p[0].text(), p[1].text()))
        .filter(|(k, _)| k != "Time")
        .collect()
}

#[test]
fn resp2_profile_layout_and_counts() {
    let server = Server::start(&[]);
    let mut c = server.client();
    setup(&mut c);
    let reply = c.cmd(&[
        "FT.PROFILE",
        "idx",
        "SEARCH",
        "QUERY",
        "hello|world -@n:[2 2]",
        "NOCONTENT",
    ]);
    let parts = reply.items();
    assert_eq!(parts[0], V::Array(vec![V::Int(1), V::bulk("d1")]));
    let profile = parts[1].items();
    let names: Vec<String> = profile.iter().map(|r| r.items()[0].text()).collect();
    assert_eq!(
        names,
        [
            "Total profile time",
            "Parsing time",
            "Pipeline creation time",
            "Warning",
            "Iterators profile",
            "Result processors profile"
        ]
    );
    let total = millis(&row(&profile, "Total profile time")[1]);
    let parsing = millis(&row(&profile, "Parsing time")[1]);
    assert!(
        total > 0.0 && parsing > 0.0 && parsing <= total,
        "{profile:?}"
    );
    assert_eq!(row(&profile, "Warning").len(), 1);

    let iterators = row(&profile, "Iterators profile");
    let root = &iterators[1];
    assert_eq!(
        pairs(root),
        [
            ("Type".to_string(), "INTERSECT".to_string()),
            ("Counter".into(), "1".into()),
        ]
    );
    let root = root.items();
    let at = root
        .iter()
        .position(|v| v.text() == "Child iterators")
        .unwrap();
    let union = &root[at + 1];
    let not = &root[at + 2];
    assert_eq!(
        pairs(union),
        [
            ("Type".to_string(), "UNION".to_string()),
            ("Query type".into(), "UNION".into()),
            ("Counter".into(), "2".into()),
        ]
    );
    let hello = &union.items()[union.items().len() - 2];
    assert_eq!(
        pairs(hello),
        [
            ("Type".to_string(), "TEXT".to_string()),
            ("Term".into(), "hello".into()),
            ("Counter".into(), "1".into()),
            ("Size".into(), "1".into()),
        ]
    );
    assert_eq!(
        pairs(not)[..2],
        [
            ("Type".to_string(), "NOT".to_string()),
            ("Counter".into(), "2".into()),
        ]
    );

    let processors = row(&profile, "Result processors profile");
    let kinds: Vec<(String, String)> = processors[1..]
        .iter()
        .map(|p| {
            let p = pairs(p);
            (p[0].1.clone(), p[1].1.clone())
        })
        .collect();
    let expect = |k: &str, n: &str| (k.to_string(), n.to_string());
    assert_eq!(
        kinds,
        [
            expect("Index", "1"),
            expect("Scorer", "1"),
            expect("Sorter", "1"),
            expect("Loader", "1")
        ]
    );

    // LIMIT 0 0 counts; LIMITED summarises unions.
    let reply = c.cmd(&[
        "FT.PROFILE",
        "idx",
        "SEARCH",
        "LIMITED",
        "QUERY",
        "hello|world",
        "LIMIT",
        "0",
        "0",
    ]);
    let parts = reply.items();
    assert_eq!(parts[0], V::Array(vec![V::Int(2)]));
    let profile = parts[1].items();
    let union = row(&profile, "Iterators profile")[1].items();
    assert_eq!(
        union.last().unwrap().text(),
        "The number of iterators in the union is 2"
    );
    let processors = row(&profile, "Result processors profile");
    assert_eq!(pairs(&processors[2])[0].1, "Counter");
}

/// The value under `name` in a RESP3 map's entries.
fn get(pairs: &[(V, V)], name: &str) -> V {
    pairs
        .iter()
        .find(|(k, _)| k.text() == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("no {name}"))
}

#[test]
fn resp3_profile_entry() {
    let server = Server::start(&[]);
    let mut c = server.client();
    setup(&mut c);
    c.resp3();
    let reply = c.cmd(&["FT.PROFILE", "idx", "SEARCH", "QUERY", "@n:[2 3]"]);
    let V::Map(entries) = &reply else {
        panic!("{reply:?}");
    };
    assert_eq!(get(entries, "total_results"), V::Int(2));
    let V::Map(profile) = get(entries, "profile") else {
        panic!("{reply:?}");
    };
    assert!(matches!(get(&profile, "Total profile time"), V::Double(_)));
    assert_eq!(get(&profile, "Warning").text(), "None");
    let iterators = get(&profile, "Iterators profile").items();
    let V::Map(root) = &iterators[0] else {
        panic!("{iterators:?}");
    };
    assert_eq!(get(root, "Type").text(), "NUMERIC");
    assert_eq!(get(root, "Counter"), V::Int(2));
    let processors = get(&profile, "Result processors profile").items();
    assert_eq!(processors.len(), 4);
}

#[test]
fn argument_errors() {
    let server = Server::start(&[]);
    let mut c = server.client();
    setup(&mut c);
    let cases = [
        (
            "FT.PROFILE idx FOO QUERY *",
            "No `SEARCH` or `AGGREGATE` provided",
        ),
        (
            "FT.PROFILE idx SEARCH FIND *",
            "The QUERY keyword is expected",
        ),
        ("FT.PROFILE nope SEARCH QUERY *", "No such index nope"),
        (
            "FT.PROFILE idx SEARCH QUERY @x:y DIALECT 2",
            "Unknown field at offset 0 near x",
        ),
    ];
    for (command, error) in cases {
        assert_eq!(c.q(command), V::err(error), "{command}");
    }
    assert!(c.q("FT.PROFILE idx SEARCH QUERY").is_error());
    assert_eq!(
        c.q("FT.PROFILE idx AGGREGATE QUERY * WITHCURSOR"),
        V::err("FT.PROFILE does not support cursor")
    );
    assert_eq!(
        c.q("FT.PROFILE idx AGGREGATE QUERY * GROUPBY 1 @nope"),
        V::err("No such property `nope`")
    );
}

/// `(Type, Counter)` of each result processor of a RESP2 profile.
fn processors(profile: &[V]) -> Vec<(String, String)> {
    row(profile, "Result processors profile")[1..]
        .iter()
        .map(|p| {
            let p = pairs(p);
            (p[0].1.clone(), p[1].1.clone())
        })
        .collect()
}

fn expect(kinds: &[(&str, &str)]) -> Vec<(String, String)> {
    kinds
        .iter()
        .map(|(k, n)| (k.to_string(), n.to_string()))
        .collect()
}

#[test]
fn resp2_aggregate_profile() {
    let server = Server::start(&[]);
    let mut c = server.client();
    setup(&mut c);
    c.q("HSET d4 t hello n 4");
    let reply = c.cmd(&[
        "FT.PROFILE",
        "idx",
        "AGGREGATE",
        "QUERY",
        "hello",
        "GROUPBY",
        "1",
        "@t",
        "REDUCE",
        "COUNT",
        "0",
        "AS",
        "sum",
    ]);
    let parts = reply.items();
    assert_eq!(
        parts[0],
        V::Array(vec![
            V::Int(1),
            V::Array(vec![
                V::bulk("t"),
                V::bulk("hello"),
                V::bulk("sum"),
                V::bulk("2")
            ])
        ])
    );
    let profile = parts[1].items();
    assert_eq!(
        pairs(&row(&profile, "Iterators profile")[1]),
        [
            ("Type".to_string(), "TEXT".to_string()),
            ("Term".into(), "hello".into()),
            ("Counter".into(), "2".into()),
            ("Size".into(), "2".into()),
        ]
    );
    assert_eq!(
        processors(&profile),
        expect(&[("Index", "2"), ("Loader", "2"), ("Grouper", "1")])
    );
    let total = millis(&row(&profile, "Total profile time")[1]);
    assert!(total > 0.0, "{profile:?}");

    // Every step in command order, named after its expression's root; no Loader when the
    // pipeline reads nothing from the documents.
    let reply = c.q(
        "FT.PROFILE idx AGGREGATE QUERY * LOAD 1 @n APPLY startswith(@t,\"w\") AS w \
         FILTER @n>1 APPLY @n*2 AS d SORTBY 2 @n DESC LIMIT 0 2",
    );
    let parts = reply.items();
    assert_eq!(parts[0].items().len(), 3, "{reply:?}");
    assert_eq!(
        processors(&parts[1].items()),
        expect(&[
            ("Index", "4"),
            ("Loader", "4"),
            ("Projector - Function startswith", "4"),
            ("Filter - Predicate >", "3"),
            ("Projector - Operator *", "3"),
            ("Sorter", "2"),
        ])
    );
    let reply = c.q("FT.PROFILE idx AGGREGATE LIMITED QUERY hello|world LIMIT 1 1");
    let profile = reply.items()[1].items();
    assert_eq!(
        processors(&profile),
        expect(&[("Index", "3"), ("Pager/Limiter", "1")])
    );
    assert_eq!(
        row(&profile, "Iterators profile")[1]
            .items()
            .last()
            .unwrap()
            .text(),
        "The number of iterators in the union is 2"
    );
}

#[test]
fn resp3_aggregate_profile_entry() {
    let server = Server::start(&[]);
    let mut c = server.client();
    setup(&mut c);
    c.resp3();
    let reply = c.cmd(&[
        "FT.PROFILE",
        "idx",
        "AGGREGATE",
        "QUERY",
        "@n:[2 3]",
        "LOAD",
        "1",
        "@t",
    ]);
    let V::Map(entries) = &reply else {
        panic!("{reply:?}");
    };
    assert_eq!(get(entries, "total_results"), V::Int(2));
    assert_eq!(get(entries, "results").items().len(), 2);
    let V::Map(profile) = get(entries, "profile") else {
        panic!("{reply:?}");
    };
    let kinds: Vec<String> = get(&profile, "Result processors profile")
        .items()
        .iter()
        .map(|p| match p {
            V::Map(p) => format!("{} {}", get(p, "Type").text(), get(p, "Counter").text()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(kinds, ["Index 2", "Loader 2"]);
}

/// A LIMIT offset adds a Pager/Limiter after the Sorter, as RediSearch builds its arrange
/// step; without an offset the Sorter pages alone.
#[test]
fn a_limit_offset_pages_after_the_sorter() {
    let server = Server::start(&[]);
    let mut c = server.client();
    setup(&mut c);
    c.q("HSET d4 t hello n 4");
    let kinds = |c: &mut Client, line: &str| processors(&c.q(line).items()[1].items());
    assert_eq!(
        kinds(&mut c, "FT.PROFILE idx SEARCH QUERY * LIMIT 1 2"),
        expect(&[
            ("Index", "4"),
            ("Scorer", "4"),
            ("Sorter", "4"),
            ("Pager/Limiter", "2"),
            ("Loader", "2"),
        ])
    );
    assert_eq!(
        kinds(&mut c, "FT.PROFILE idx SEARCH QUERY * LIMIT 0 2"),
        expect(&[
            ("Index", "4"),
            ("Scorer", "4"),
            ("Sorter", "4"),
            ("Loader", "2")
        ])
    );
    assert_eq!(
        kinds(
            &mut c,
            "FT.PROFILE idx AGGREGATE QUERY * SORTBY 2 @n DESC LIMIT 1 2"
        ),
        expect(&[
            ("Index", "4"),
            ("Loader", "4"),
            ("Sorter", "3"),
            ("Pager/Limiter", "2"),
        ])
    );
    assert_eq!(
        kinds(
            &mut c,
            "FT.PROFILE idx AGGREGATE QUERY * SORTBY 2 @n DESC LIMIT 0 2"
        ),
        expect(&[("Index", "4"), ("Loader", "4"), ("Sorter", "2")])
    );
}
