//! GEO fields end to end: FT.CREATE `GEO`, points indexed from `"lon,lat"` hash values (bad
//! ones counted as indexing failures with RediSearch's texts), `@f:[lon lat radius unit]`
//! queries with and without PARAMS, FT.SEARCH's GEOFILTER, FT.EXPLAIN and FT.INFO, in RESP2
//! and RESP3.

mod common;

use std::collections::BTreeSet;

use common::ft::{ft_info, info_num, search_ids, wait_indexed};
use common::{Client, Server, V};

/// The places of Redis's GEOADD examples, a point across the antimeridian, and two values
/// that cannot be indexed.
fn setup(c: &mut Client) {
    let created = c.q(
        "FT.CREATE idx ON HASH PREFIX 1 place: SCHEMA name TEXT loc GEO SORTABLE opt GEO INDEXMISSING",
    );
    assert_eq!(created, V::ok());
    wait_indexed(c, "idx");
    for (key, name, loc) in [
        ("place:palermo", "palermo", "13.361389,38.115556"),
        ("place:catania", "catania", "15.087269 37.502669"),
        ("place:fiji", "fiji", "179.99,-17.7"),
        ("place:samoa", "samoa", "-179.99,-17.7"),
        ("place:bad", "bad", "nowhere"),
        ("place:off", "off", "200,10"),
    ] {
        let reply = c.cmd(&["HSET", key, "name", name, "loc", loc]);
        assert!(matches!(reply, V::Int(_)), "{reply:?}");
    }
    c.cmd(&["HSET", "place:fiji", "opt", "179.99,-17.7"]);
}

/// The keys of the places named in `names` (space-separated).
fn set(names: &str) -> BTreeSet<String> {
    names
        .split_whitespace()
        .map(|s| format!("place:{s}"))
        .collect()
}

fn ids(c: &mut Client, query: &str) -> BTreeSet<String> {
    search_ids(c, "idx", query).unwrap_or_else(|e| panic!("{e}"))
}

/// Keys of an FT.SEARCH ... NOCONTENT reply in RESP2 or RESP3, with the total checked.
fn keys(reply: &V) -> BTreeSet<String> {
    ordered_keys(reply).into_iter().collect()
}

/// [`keys`] in reply order.
fn ordered_keys(reply: &V) -> Vec<String> {
    match reply {
        V::Array(items) => {
            assert_eq!(items[0], V::Int(items.len() as i64 - 1), "{reply:?}");
            items[1..].iter().map(V::text).collect()
        }
        V::Map(_) => {
            let results = reply.field("results").items();
            assert_eq!(reply.field("total_results"), V::Int(results.len() as i64));
            results
                .iter()
                .map(|r| {
                    let fields = r.items();
                    let at = fields.iter().position(|f| f.text() == "id").expect("id");
                    fields[at + 1].text()
                })
                .collect()
        }
        other => panic!("not a search reply: {other:?}"),
    }
}

#[test]
fn radius_queries_match_by_exact_distance() {
    let server = Server::start(&[]);
    let mut c = server.client();
    setup(&mut c);
    // GEORADIUS Sicily 15 37 200 km -> Palermo, Catania; 100 km -> Catania.
    assert_eq!(ids(&mut c, "@loc:[15 37 200 km]"), set("catania palermo"));
    assert_eq!(ids(&mut c, "@loc:[15 37 100 km]"), set("catania"));
    assert_eq!(ids(&mut c, "@loc:[15 37 100000 M]"), set("catania"));
    assert_eq!(ids(&mut c, "@loc:[15 37 124 mi]"), set("catania palermo"));
    assert_eq!(ids(&mut c, "@loc:[15 37 10 ft]"), set(""));
    // Across the antimeridian: 2.1 km apart.
    assert_eq!(ids(&mut c, "@loc:[180 -17.7 2 km]"), set("fiji samoa"));
    assert_eq!(ids(&mut c, "@loc:[179.99 -17.7 1 km]"), set("fiji"));
    assert_eq!(
        ids(&mut c, "-@loc:[15 37 100 km]"),
        set("fiji palermo samoa")
    );
    assert_eq!(
        ids(&mut c, "@name:palermo | @loc:[180 -17.7 2 km]"),
        set("fiji palermo samoa")
    );
    assert_eq!(ids(&mut c, "ismissing(@opt)"), set("catania palermo samoa"));
    assert_eq!(ids(&mut c, "@opt:[180 -17.7 2 km]"), set("fiji"));

    // PARAMS anywhere in the filter.
    let reply = c.cmd(&[
        "FT.SEARCH",
        "idx",
        "@loc:[$lon $lat $r $unit]",
        "NOCONTENT",
        "PARAMS",
        "8",
        "lon",
        "15",
        "lat",
        "37",
        "r",
        "100",
        "unit",
        "km",
        "DIALECT",
        "2",
    ]);
    assert_eq!(keys(&reply), set("catania"));

    // An update moves the point; a delete drops it.
    c.cmd(&["HSET", "place:catania", "loc", "13.36,38.11"]);
    assert_eq!(ids(&mut c, "@loc:[15 37 100 km]"), set(""));
    assert_eq!(ids(&mut c, "@loc:[13.36 38.11 1 m]"), set("catania"));
    c.cmd(&["DEL", "place:catania"]);
    assert_eq!(ids(&mut c, "@loc:[13.36 38.11 1 m]"), set(""));
}

#[test]
fn geofilter_option_joins_the_query() {
    let server = Server::start(&[]);
    let mut c = server.client();
    setup(&mut c);
    for resp3 in [false, true] {
        if resp3 {
            c.resp3();
        }
        let search = |c: &mut Client, args: &str| {
            let mut all = vec!["FT.SEARCH", "idx"];
            all.extend(args.split_whitespace());
            c.cmd(&all)
        };
        let reply = search(&mut c, "* NOCONTENT GEOFILTER loc 15 37 200 km");
        assert_eq!(keys(&reply), set("catania palermo"), "resp3 {resp3}");
        let reply = search(&mut c, "palermo NOCONTENT GEOFILTER loc 15 37 200 KM");
        assert_eq!(keys(&reply), set("palermo"));
        // Two filters: both must hold.
        let reply = search(
            &mut c,
            "* NOCONTENT GEOFILTER loc 15 37 200 km GEOFILTER loc 15 37 100 km",
        );
        assert_eq!(keys(&reply), set("catania"));
        // A field that is not GEO matches nothing, as in RediSearch.
        let reply = search(&mut c, "* NOCONTENT GEOFILTER name 15 37 200 km");
        assert_eq!(keys(&reply), set(""));
        let reply = search(&mut c, "* GEOFILTER loc 15 37 200 parsec");
        assert!(reply.is_error(), "{reply:?}");
        let reply = search(&mut c, "* GEOFILTER loc x 37 200 km");
        assert!(reply.is_error(), "{reply:?}");
        // SORTBY a GEO field orders by the value as written.
        let query = ["FT.SEARCH", "idx", "@loc:[15 37 200 km]", "NOCONTENT"];
        let reply = c.cmd(&[&query[..], &["SORTBY", "loc", "DESC"]].concat());
        assert_eq!(ordered_keys(&reply), ["place:catania", "place:palermo"]);
    }
}

#[test]
fn explain_info_and_errors() {
    let server = Server::start(&[]);
    let mut c = server.client();
    setup(&mut c);
    assert_eq!(
        c.cmd(&["FT.EXPLAIN", "idx", "@loc:[15 37 200 km] @name:x"]),
        V::bulk("INTERSECT {\n  GEO loc:{15.000000,37.000000 --> 200.000000 km}\n  @name:x\n}\n")
    );
    assert_eq!(
        c.cmd(&[
            "FT.EXPLAIN",
            "idx",
            "@loc:[$a 1 2 ft]",
            "PARAMS",
            "2",
            "a",
            "-3",
            "DIALECT",
            "2"
        ]),
        V::bulk("GEO loc:{-3.000000,1.000000 --> 2.000000 ft}\n")
    );
    for (query, error) in [
        ("@loc:[15 37 200 parsec]", "Invalid GeoFilter unit"),
        ("@loc:[15 97 200 km]", "Invalid GeoFilter lat/lon"),
        ("@loc:[15 37 0 km]", "Invalid GeoFilter radius"),
        ("@loc:[15 37 km]", "Syntax error at offset 12 near km"),
        ("@loc:[15 37 1]", "Syntax error at offset 13 near ]"),
        // The bracket's shape says range or geo filter; then the field must be of its type.
        (
            "@name:[15 37 200 km]",
            "Expected a GEO field at offset 0 near name",
        ),
        (
            "@loc:[15 37]",
            "Expected a NUMERIC field at offset 0 near loc",
        ),
    ] {
        let reply = c.cmd(&["FT.SEARCH", "idx", query, "DIALECT", "2"]);
        assert_eq!(reply, V::err(error), "{query}");
    }

    // Four hashes indexed, two failures with RediSearch's texts.
    assert_eq!(info_num(&mut c, "idx", "num_docs").unwrap(), 4.0);
    assert_eq!(
        info_num(&mut c, "idx", "hash_indexing_failures").unwrap(),
        2.0
    );
    let info = ft_info(&mut c, "idx").unwrap();
    let text = format!("{info:?}");
    assert!(
        text.contains("Invalid geo coordinates: 200.000000, 10.000000"),
        "{text}"
    );
    let attributes = info["attributes"].items();
    let loc: Vec<String> = attributes[1]
        .items()
        .iter()
        .filter(|v| !matches!(v, V::Array(_)))
        .map(V::text)
        .collect();
    assert_eq!(
        loc,
        [
            "identifier",
            "loc",
            "attribute",
            "loc",
            "type",
            "GEO",
            "SORTABLE",
            "UNF"
        ]
    );
    let fresh = c.cmd(&["HSET", "place:new", "loc", "abc"]);
    assert_eq!(fresh, V::Int(1));
    assert!(format!("{:?}", ft_info(&mut c, "idx").unwrap()).contains("Invalid geo string"));
}

/// FT.AGGREGATE APPLY `geodistance`, with the points and distances of RediSearch's own test
/// (`testGeoDistanceSimple`): fields, `"lon,lat"` strings and numbers in every order, meters
/// rounded to centimeters; NaN for a value that is not a point; arity errors.
#[test]
fn geodistance_in_apply() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let created = c.q("FT.CREATE g ON HASH PREFIX 1 geo SCHEMA location GEO hq GEO");
    assert_eq!(created, V::ok());
    for (key, loc) in [
        ("geo1", "1.22,4.56"),
        ("geo2", "1.24,4.56"),
        ("geo3", "1.23,4.55"),
        ("geo4", "1.23,4.57"),
    ] {
        c.cmd(&["HSET", key, "location", loc, "hq", "1.25,4.5"]);
    }
    c.cmd(&["HSET", "geo5", "hq", "1.25,4.5"]);
    let expected = ["5987.15", "6765.06", "7456.63", "8095.49"];
    for protocol in ["2", "3"] {
        c.cmd(&["HELLO", protocol]);
        let distances = |c: &mut Client, expr: &str| -> Vec<String> {
            let reply = c.cmd(&[
                "FT.AGGREGATE",
                "g",
                "-@location:[0 0 1 m]",
                "LOAD",
                "2",
                "@location",
                "@hq",
                "APPLY",
                expr,
                "AS",
                "d",
                "SORTBY",
                "2",
                "@d",
                "ASC",
            ]);
            let rows: Vec<V> = match &reply {
                V::Map(_) => reply
                    .field("results")
                    .items()
                    .iter()
                    .map(|row| row.items()[1].clone())
                    .collect(),
                other => other.items()[1..].to_vec(),
            };
            rows.iter()
                .map(|row| {
                    let fields = row.items();
                    let at = fields.iter().position(|f| f.text() == "d").expect("d");
                    fields[at + 1].text()
                })
                .collect()
        };
        for expr in [
            "geodistance(@location,@hq)",
            "geodistance(@location,1.25,4.5)",
            "geodistance(@location,\"1.25,4.5\")",
            "geodistance(1.25,4.5,@location)",
            "geodistance(\"1.25,4.5\",@location)",
            "geodistance(\"1.25 4.5\",@location)",
        ] {
            let got = distances(&mut c, expr);
            // geo5 has no location: its distance is NaN, sorted last.
            assert_eq!(got[..4], expected, "{expr} RESP{protocol}");
            assert_eq!(got[4].to_lowercase(), "nan", "{expr} RESP{protocol}");
        }
        assert_eq!(
            distances(&mut c, "geodistance(\"1.26,4.5\",\"1.25,4.5\")")[0],
            "1108.83"
        );
        assert_eq!(
            distances(&mut c, "geodistance(1.2,4.5,1.25,4.5)")[0],
            "5544.17"
        );
        assert_eq!(
            distances(&mut c, "geodistance(\"1.2\",4.5,\"1.25\",\"4.5\")")[0],
            "5544.17"
        );
        // A number standing for a point is a geohash, a GEOADD score: Palermo to Catania as
        // GEODIST measures it.
        assert_eq!(
            distances(&mut c, "geodistance(3479099956230698,3479447370796909)")[0],
            "166274.15"
        );
        // Catania as written to its geohash cell's center: under a meter.
        let cell = distances(&mut c, "geodistance(15.087269,37.502669,3479447370796909)");
        assert!(cell[0].parse::<f64>().expect("meters") < 1.0, "{cell:?}");
        for (expr, got) in [("geodistance(@location)", 1), ("geodistance(1,2,3,4,5)", 5)] {
            let reply = c.cmd(&["FT.AGGREGATE", "g", "*", "APPLY", expr, "AS", "d"]);
            let error = format!("Function 'geodistance' expects 2 to 4 arguments, but got {got}");
            assert_eq!(reply, V::err(&error));
        }
    }
}
