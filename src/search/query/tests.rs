//! Table-driven tests of the query parser: query text -> AST or error text, including the
//! shapes redis-py, redisvl, langchain and llama-index send.

use bytes::Bytes;

use super::ast::*;
use super::{Params, parse};
use crate::search::index::testing::{self, numeric, text, vector};
use crate::search::schema::{FieldKind, IndexDef, Metric, VectorAlgorithm};

pub(super) fn def() -> IndexDef {
    let mut missing = testing::tag("opt");
    missing.index_missing = true;
    testing::def(vec![
        text("title"),
        text("body"),
        testing::tag("t"),
        numeric("n"),
        vector("v", VectorAlgorithm::Hnsw, 2, Metric::Cosine),
        vector("fv", VectorAlgorithm::Flat, 2, Metric::Cosine),
        missing,
        testing::field("g", FieldKind::Geo),
    ])
}

pub(super) fn params() -> Params {
    [
        ("vec", &b"\x00\x00\x80?\x00\x00\x00\x00"[..]),
        ("k", b"5"),
        ("ef", b"40"),
        ("lo", b"1.5"),
        ("hi", b"(20"),
        ("r", b"0.2"),
        ("tagp", b"a b|c"),
        ("word", b"Hello"),
        ("alias", b"dist"),
        ("bad", b"x1"),
        ("lon", b"10"),
        ("lat", b"20"),
        ("rad", b"30"),
        ("unit", b"KM"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), Bytes::copy_from_slice(v)))
    .collect()
}

fn p2(q: &str) -> Result<Query, String> {
    parse(q.as_bytes(), &def(), &params(), 2).map_err(|e| e.to_string())
}

fn f2(q: &str) -> QueryNode {
    match p2(q) {
        Ok(query) => {
            assert_eq!(query.knn, None, "{q}");
            query.filter
        }
        Err(e) => panic!("{q}: {e}"),
    }
}

fn err2(q: &str) -> String {
    match p2(q) {
        Ok(query) => panic!("{q} parsed: {query:?}"),
        Err(e) => e,
    }
}

fn word(w: &str) -> QueryNode {
    QueryNode::Text {
        fields: None,
        term: TextTerm::Word(w.into()),
    }
}

fn fword(fields: &[&str], w: &str) -> QueryNode {
    QueryNode::Text {
        fields: Some(fields.iter().map(|f| f.to_string()).collect()),
        term: TextTerm::Word(w.into()),
    }
}

fn and(v: Vec<QueryNode>) -> QueryNode {
    QueryNode::And(v)
}

fn or(v: Vec<QueryNode>) -> QueryNode {
    QueryNode::Or(v)
}

fn not(n: QueryNode) -> QueryNode {
    QueryNode::Not(Box::new(n))
}

fn opt(n: QueryNode) -> QueryNode {
    QueryNode::Optional(Box::new(n))
}

fn tag(field: &str, exact: &[&str]) -> QueryNode {
    QueryNode::Tag {
        field: field.into(),
        patterns: exact
            .iter()
            .map(|t| TagPattern::Exact(t.to_string()))
            .collect(),
    }
}

fn b(value: f64, inclusive: bool) -> NumBound {
    NumBound { value, inclusive }
}

fn num(field: &str, min: NumBound, max: NumBound) -> QueryNode {
    QueryNode::Numeric {
        field: field.into(),
        min,
        max,
    }
}

const INF: f64 = f64::INFINITY;

fn vec_blob() -> Bytes {
    params()["vec"].clone()
}

fn knn(k: usize, field: &str) -> KnnClause {
    KnnClause::new(k, field.into(), vec_blob(), "vec".into())
}

fn range(radius: f64, yield_as: Option<&str>, epsilon: Option<f64>) -> QueryNode {
    QueryNode::VectorRange {
        field: "v".into(),
        radius,
        blob: vec_blob(),
        blob_param: "vec".into(),
        yield_as: yield_as.map(String::from),
        epsilon,
    }
}

#[test]
fn wildcard_and_empty() {
    assert_eq!(f2("*"), QueryNode::All);
    assert_eq!(f2("(*)"), QueryNode::All);
    assert_eq!(f2("((*))"), QueryNode::All);
    assert_eq!(f2(""), QueryNode::Nothing);
    assert_eq!(f2("   "), QueryNode::Nothing);
    assert_eq!(f2("the AND a"), QueryNode::Nothing);
}

#[test]
fn text_terms() {
    assert_eq!(f2("Hello"), word("hello"));
    assert_eq!(f2("hello world"), and(vec![word("hello"), word("world")]));
    assert_eq!(
        f2("hel* *llo *ell*"),
        and(vec![
            QueryNode::Text {
                fields: None,
                term: TextTerm::Prefix("hel".into())
            },
            QueryNode::Text {
                fields: None,
                term: TextTerm::Suffix("llo".into())
            },
            QueryNode::Text {
                fields: None,
                term: TextTerm::Infix("ell".into())
            },
        ])
    );
    assert_eq!(
        f2("\"Hello the World\""),
        QueryNode::Text {
            fields: None,
            term: TextTerm::Phrase(vec!["hello".into(), "world".into()])
        }
    );
    // A quoted word is exact, even a stopword.
    assert_eq!(
        f2("\"The\""),
        QueryNode::Text {
            fields: None,
            term: TextTerm::Exact("the".into())
        }
    );
    let wild = |p: &str| QueryNode::Text {
        fields: None,
        term: TextTerm::Wildcard(p.into()),
    };
    assert_eq!(f2("w'Hel?o*'"), wild("hel?o*"));
    assert_eq!(f2("w'a\\'b' x"), and(vec![wild("a\\'b"), word("x")]));
    assert_eq!(
        f2("@t:{w'fo*' | bar}"),
        QueryNode::Tag {
            field: "t".into(),
            patterns: vec![
                TagPattern::Wildcard("fo*".into()),
                TagPattern::Exact("bar".into())
            ],
        }
    );
    assert_eq!(err2("x w'abc"), "Syntax error at offset 2 near w'abc");
    assert_eq!(err2("@t:{w'abc}"), "Syntax error at offset 4 near w'abc}");
    let dialect1 = |q: &str| parse(q.as_bytes(), &def(), &params(), 1).map_err(|e| e.to_string());
    assert_eq!(
        dialect1("w'ab'"),
        Err("Syntax error at offset 0 near w'ab'".into())
    );
    assert_eq!(
        dialect1("@t:{w'ab'}"),
        Err("Syntax error at offset 4 near w'ab'".into())
    );
    assert_eq!(
        f2("-20 hello, world."),
        and(vec![word("-20"), word("hello"), word("world")])
    );
    assert_eq!(f2("a\\-b"), word("a-b"));
    assert_eq!(f2("$word"), word("hello"));
    assert_eq!(f2("hello_world"), word("hello_world"));
    assert_eq!(
        f2("@title:%%Hello%%"),
        QueryNode::Text {
            fields: Some(vec!["title".into()]),
            term: TextTerm::Fuzzy {
                word: "hello".into(),
                distance: 2
            }
        }
    );
}

#[test]
fn precedence_dialect2() {
    assert_eq!(
        f2("a1 b1 | c1 d1"),
        or(vec![
            and(vec![word("a1"), word("b1")]),
            and(vec![word("c1"), word("d1")])
        ])
    );
    assert_eq!(
        f2("-hello world"),
        and(vec![not(word("hello")), word("world")])
    );
    assert_eq!(
        f2("~hello world"),
        and(vec![opt(word("hello")), word("world")])
    );
    assert_eq!(
        f2("@title:james brown"),
        and(vec![fword(&["title"], "james"), word("brown")])
    );
    assert_eq!(
        f2("@title:(a1 b1) c1"),
        and(vec![
            and(vec![fword(&["title"], "a1"), fword(&["title"], "b1")]),
            word("c1")
        ])
        .flattened()
    );
    assert_eq!(f2("@title|body:(x)"), fword(&["title", "body"], "x"));
    assert_eq!(
        f2("(a1 | b1) | c1"),
        or(vec![word("a1"), word("b1"), word("c1")])
    );
    assert_eq!(f2("-(a1 b1)"), not(and(vec![word("a1"), word("b1")])));
    assert_eq!(f2("--x"), not(not(word("x"))));
}

trait Flatten {
    fn flattened(self) -> Self;
}

impl Flatten for QueryNode {
    /// `(a b) c` is one intersection, as the parser builds it.
    fn flattened(self) -> QueryNode {
        match self {
            QueryNode::And(kids) => QueryNode::And(
                kids.into_iter()
                    .flat_map(|k| match k {
                        QueryNode::And(inner) => inner,
                        k => vec![k],
                    })
                    .collect(),
            ),
            n => n,
        }
    }
}

#[test]
fn precedence_dialect1() {
    let p1 = |q: &str| parse(q.as_bytes(), &def(), &params(), 1).map(|q| q.filter);
    assert_eq!(
        p1("a1 b1 | c1 d1").unwrap(),
        and(vec![
            word("a1"),
            or(vec![word("b1"), word("c1")]),
            word("d1")
        ])
    );
    assert_eq!(
        p1("@title:james brown").unwrap(),
        and(vec![fword(&["title"], "james"), fword(&["title"], "brown")])
    );
    assert_eq!(p1("@nosuch:x").unwrap(), fword(&[], "x"));
    assert_eq!(p1("@nosuch:{x}").unwrap(), QueryNode::Nothing);
    assert_eq!(
        p1("*=>[KNN 10 @v $vec]").unwrap_err().to_string(),
        "Syntax error at offset 1 near =>"
    );
    assert_eq!(
        p1("@v:[VECTOR_RANGE 1 $vec]").unwrap_err().to_string(),
        "Syntax error at offset 4 near VECTOR_RANGE"
    );
    assert_eq!(
        p1("$word").unwrap_err().to_string(),
        "Syntax error at offset 0 near $word"
    );
}

#[test]
fn stopwords_vanish() {
    // redisvl TextQuery / RangeQuery shapes.
    assert_eq!(
        f2("(~@title:(engineer | manager) AND @t:{x})"),
        and(vec![
            opt(or(vec![
                fword(&["title"], "engineer"),
                fword(&["title"], "manager")
            ])),
            tag("t", &["x"]),
        ])
    );
    assert_eq!(
        f2("(@v:[VECTOR_RANGE 0.2 $vec]=>{$YIELD_DISTANCE_AS: d}) AND (@n:[1 2])"),
        and(vec![
            range(0.2, Some("d"), None),
            num("n", b(1.0, true), b(2.0, true))
        ])
    );
    assert_eq!(f2("the | x"), word("x"));
    assert_eq!(f2("-the x"), word("x"));
    assert_eq!(f2("@title:(the a)"), QueryNode::Nothing);
}

#[test]
fn custom_stopwords() {
    let mut d = def();
    d.stopwords = Some(vec!["foo".into()]);
    let q = parse(b"foo and", &d, &params(), 2).unwrap();
    assert_eq!(q.filter, word("and"));
    d.stopwords = Some(Vec::new());
    let q = parse(b"the", &d, &params(), 2).unwrap();
    assert_eq!(q.filter, word("the"));
}

#[test]
fn tags() {
    assert_eq!(f2("@t:{a}"), tag("t", &["a"]));
    assert_eq!(
        f2("@t:{ Foo | b\\ c | hello world }"),
        tag("t", &["Foo", "b c", "hello world"])
    );
    assert_eq!(f2("@t:{3d3586fe\\-0416}"), tag("t", &["3d3586fe-0416"]));
    assert_eq!(f2("@t:{a\\@b\\.com}"), tag("t", &["a@b.com"]));
    assert_eq!(f2("@t:{x\\|y}"), tag("t", &["x|y"]));
    assert_eq!(f2("@t:{$tagp}"), tag("t", &["a b|c"]));
    assert_eq!(f2("@t:{ $tagp | x}"), tag("t", &["a b|c", "x"]));
    assert_eq!(
        f2("@t:{*$word*}"),
        QueryNode::Tag {
            field: "t".into(),
            patterns: vec![TagPattern::Infix("Hello".into())]
        }
    );
    assert_eq!(f2("@t:{\\$word}"), tag("t", &["$word"]));
    assert_eq!(
        parse(b"@t:{$x}", &def(), &params(), 1).unwrap().filter,
        tag("t", &["$x"])
    );
    assert_eq!(f2("@t:{\"quoted | x\"}"), tag("t", &["quoted | x"]));
    assert_eq!(
        f2("@t:{pre* | *suf | *in*}"),
        QueryNode::Tag {
            field: "t".into(),
            patterns: vec![
                TagPattern::Prefix("pre".into()),
                TagPattern::Suffix("suf".into()),
                TagPattern::Infix("in".into()),
            ]
        }
    );
    assert_eq!(f2("(-@t:{a})"), not(tag("t", &["a"])));
    assert_eq!(
        f2("@t:{a} @t:{b}"),
        and(vec![tag("t", &["a"]), tag("t", &["b"])])
    );
    // llama-index legacy filter shape.
    assert_eq!(
        f2("((@t:{v1|v2}) (@n:[1 +inf]))"),
        and(vec![
            tag("t", &["v1", "v2"]),
            num("n", b(1.0, true), b(INF, true))
        ])
    );
    // redisvl escapes every punctuation character.
    assert_eq!(f2("@t:{tech\\,\\ ai\\!}"), tag("t", &["tech, ai!"]));
}

#[test]
fn numeric_ranges() {
    assert_eq!(f2("@n:[10 20]"), num("n", b(10.0, true), b(20.0, true)));
    assert_eq!(f2("@n:[(10 (20]"), num("n", b(10.0, false), b(20.0, false)));
    assert_eq!(f2("@n:[-inf (5]"), num("n", b(-INF, true), b(5.0, false)));
    assert_eq!(f2("@n:[(5 +inf]"), num("n", b(5.0, false), b(INF, true)));
    assert_eq!(f2("@n:[5 inf]"), num("n", b(5.0, true), b(INF, true)));
    assert_eq!(
        f2("@n:[1e-05 10.5]"),
        num("n", b(1e-5, true), b(10.5, true))
    );
    assert_eq!(
        f2("@n:[ -1.5   -0.5 ]"),
        num("n", b(-1.5, true), b(-0.5, true))
    );
    assert_eq!(f2("@n:[$lo $hi]"), num("n", b(1.5, true), b(20.0, false)));
    assert_eq!(f2("@n:[($lo 30]"), num("n", b(1.5, false), b(30.0, true)));
    assert_eq!(f2("@n:[7]"), num("n", b(7.0, true), b(7.0, true)));
    assert_eq!(f2("(-@n:[3 3])"), not(num("n", b(3.0, true), b(3.0, true))));
    assert_eq!(f2("@n==5"), num("n", b(5.0, true), b(5.0, true)));
    assert_eq!(f2("@n!=5"), not(num("n", b(5.0, true), b(5.0, true))));
    assert_eq!(f2("@n>5"), num("n", b(5.0, false), b(INF, true)));
    assert_eq!(f2("@n>=-5"), num("n", b(-5.0, true), b(INF, true)));
    assert_eq!(f2("@n<$lo"), num("n", b(-INF, true), b(1.5, false)));
    assert_eq!(f2("@n<=5"), num("n", b(-INF, true), b(5.0, true)));
}

fn geo(lon: f64, lat: f64, radius: f64, unit: GeoUnit) -> QueryNode {
    QueryNode::Geo {
        field: "g".into(),
        filter: GeoFilter {
            lon,
            lat,
            radius,
            unit,
        },
    }
}

#[test]
fn geo_filters() {
    assert_eq!(f2("@g:[1.5 -2.5 10 km]"), geo(1.5, -2.5, 10.0, GeoUnit::Km));
    assert_eq!(f2("@g:[ 1 2 3 MI ]"), geo(1.0, 2.0, 3.0, GeoUnit::Mi));
    assert_eq!(
        f2("@g:[$lon $lat $rad $unit]"),
        geo(10.0, 20.0, 30.0, GeoUnit::Km)
    );
    assert_eq!(
        f2("hello @g:[1 2 3 ft]"),
        and(vec![word("hello"), geo(1.0, 2.0, 3.0, GeoUnit::Ft)])
    );
    let q = parse(b"@g:[1 2 3 m]", &def(), &params(), 1).expect("dialect 1");
    assert_eq!(q.filter, geo(1.0, 2.0, 3.0, GeoUnit::M));
    for (q, e) in [
        ("@g:[1 2 3 parsec]", "Invalid GeoFilter unit"),
        ("@g:[1 2 3 $bad]", "Invalid GeoFilter unit"),
        ("@g:[1 91 3 km]", "Invalid GeoFilter lat/lon"),
        ("@g:[-181 1 3 km]", "Invalid GeoFilter lat/lon"),
        ("@g:[1 2 0 km]", "Invalid GeoFilter radius"),
        ("@g:[1 2 -3 km]", "Invalid GeoFilter radius"),
        ("@g:[1 2 3]", "Syntax error at offset 9 near ]"),
        ("@g:[5]", "Expected a NUMERIC field at offset 0 near g"),
        ("@g:[1 x 3 km]", "Syntax error at offset 6 near x"),
        ("@g:[1 2 3 km 4]", "Syntax error at offset 13 near 4"),
        (
            "@g:[$bad 2 3 km]",
            "Invalid numeric value (x1) for parameter `bad`",
        ),
        ("@g:[1 2 3 $nope]", "No such parameter `nope`"),
        ("@g:{x}", "Expected a TAG field at offset 0 near g"),
    ] {
        assert_eq!(err2(q), e, "{q}");
    }
}

#[test]
fn knn_clauses() {
    let q = p2("*=>[KNN 10 @v $vec]").unwrap();
    assert_eq!(q.filter, QueryNode::All);
    assert_eq!(q.knn, Some(knn(10, "v")));
    assert_eq!(q.knn.unwrap().score_field(), "__v_score");

    let q = p2("*=>[KNN 10 @v $vec AS vector_distance]").unwrap();
    assert_eq!(q.knn.unwrap().alias.as_deref(), Some("vector_distance"));

    let q = p2("(@t:{x} @n:[1 5])=>[knn $k @v $vec as score ef_runtime $ef]").unwrap();
    assert_eq!(
        q.filter,
        and(vec![tag("t", &["x"]), num("n", b(1.0, true), b(5.0, true))])
    );
    let mut want = knn(5, "v");
    want.alias = Some("score".into());
    want.ef_runtime = Some(40);
    assert_eq!(q.knn, Some(want.clone()));

    let q = p2("(@t:{x})=>[KNN 5 @v $vec EF_RUNTIME 40 AS score]").unwrap();
    assert_eq!(q.knn, Some(want));

    let q = p2("*=>[KNN 3 @v $vec AS $alias]").unwrap();
    assert_eq!(q.knn.unwrap().alias.as_deref(), Some("dist"));

    let q = p2("@t:{x}=>[KNN 3 @v $vec HYBRID_POLICY BATCHES BATCH_SIZE 50 AS vector_distance]")
        .unwrap();
    let k = q.knn.unwrap();
    assert_eq!(k.hybrid_policy, Some(HybridPolicy::Batches));
    assert_eq!(k.batch_size, Some(50));

    let q = p2("@t:{x}=>[KNN 3 @v $vec HYBRID_POLICY adhoc_bf]").unwrap();
    assert_eq!(q.knn.unwrap().hybrid_policy, Some(HybridPolicy::AdhocBf));

    let q = p2("*=>[KNN 3 @v $vec]=>{$YIELD_DISTANCE_AS: d; $EF_RUNTIME: $ef;}").unwrap();
    let k = q.knn.unwrap();
    assert_eq!((k.alias.as_deref(), k.ef_runtime), (Some("d"), Some(40)));

    // A text filter whose words are all stopwords leaves a pure KNN.
    let q = p2("(the)=>[KNN 3 @v $vec]").unwrap();
    assert_eq!(q.filter, QueryNode::All);

    // redisvl AggregateHybridQuery.
    let q = p2("(~@title:(sky | blue) AND @t:{x})=>[KNN 7 @v $vec AS vector_distance]").unwrap();
    assert_eq!(
        q.filter,
        and(vec![
            opt(or(vec![
                fword(&["title"], "sky"),
                fword(&["title"], "blue")
            ])),
            tag("t", &["x"])
        ])
    );
    assert_eq!(q.knn.unwrap().k, 7);

    // VECTOR_RANGE as the filter of a KNN.
    let q = p2("@v:[VECTOR_RANGE $r $vec]=>[KNN 2 @fv $vec]").unwrap();
    assert_eq!(q.filter, range(0.2, None, None));
    assert_eq!(q.knn.unwrap().field, "fv");
}

#[test]
fn vector_ranges() {
    assert_eq!(
        f2("@v:[VECTOR_RANGE 0.5 $vec]=>{$YIELD_DISTANCE_AS: vector_distance}"),
        range(0.5, Some("vector_distance"), None)
    );
    assert_eq!(
        f2("@v:[vector_range $r $vec]=>{$YIELD_DISTANCE_AS: d; $EPSILON: 0.01}"),
        range(0.2, Some("d"), Some(0.01))
    );
    assert_eq!(
        f2("(@v:[VECTOR_RANGE 0.5 $vec]=>{$YIELD_DISTANCE_AS: d} @t:{x})"),
        and(vec![range(0.5, Some("d"), None), tag("t", &["x"])])
    );
    // redisvl MultiVectorQuery.
    assert_eq!(
        f2(
            "@v:[VECTOR_RANGE 2.0 $vec]=>{$YIELD_DISTANCE_AS: distance_0} AND @v:[VECTOR_RANGE 2.0 $vec]=>{$YIELD_DISTANCE_AS: distance_1}"
        ),
        and(vec![
            range(2.0, Some("distance_0"), None),
            range(2.0, Some("distance_1"), None)
        ])
    );
}

#[test]
fn ismissing() {
    assert_eq!(f2("ismissing(@opt)"), QueryNode::IsMissing("opt".into()));
    assert_eq!(
        f2("-ismissing(@opt)"),
        not(QueryNode::IsMissing("opt".into()))
    );
    assert_eq!(
        err2("ismissing(@t)"),
        "'ismissing' requires field to be defined with 'INDEXMISSING'"
    );
}

#[test]
fn attributes_on_text() {
    let attributed =
        |node: QueryNode, weight: f64, slop: Option<i64>, inorder: bool| QueryNode::Attributed {
            node: Box::new(node),
            attrs: ClauseAttrs {
                weight,
                slop,
                inorder,
                phonetic: None,
            },
        };
    assert_eq!(
        f2("engineer=>{$weight: 2}"),
        attributed(word("engineer"), 2.0, None, false)
    );
    assert_eq!(
        f2("(a1 b1) => { $weight: 0.5; $slop: 1; $inorder: true; }"),
        attributed(and(vec![word("a1"), word("b1")]), 0.5, Some(1), true)
    );
    // Defaults leave the clause as it is.
    assert_eq!(f2("x=>{$weight: 1; $inorder: false}"), word("x"));
    assert_eq!(
        f2("x=>{$phonetic: true}"),
        QueryNode::Attributed {
            node: Box::new(word("x")),
            attrs: ClauseAttrs {
                phonetic: Some(true),
                ..ClauseAttrs::default()
            },
        }
    );
    assert_eq!(err2("engineer=>{$foo: 2}"), "Invalid attribute foo");
    assert_eq!(
        err2("x=>{$weight: -1}"),
        "Invalid value for weight attribute"
    );
    assert_eq!(err2("x=>{$slop: a}"), "Invalid value for slop attribute");
    assert_eq!(
        err2("x=>{$inorder: maybe}"),
        "Invalid value for inorder attribute"
    );
}

#[test]
fn errors() {
    let cases: &[(&str, &str)] = &[
        ("@bad:{x}", "Unknown field at offset 0 near bad"),
        ("hello @bad:(x)", "Unknown field at offset 6 near bad"),
        (
            "*=>[KNN 2 @t $vec]",
            "Expected a VECTOR field at offset 10 near t",
        ),
        (
            "*=>[KNN 2 @nope $vec]",
            "Unknown field at offset 10 near nope",
        ),
        ("*=>[KNN 2 @v $nope]", "No such parameter `nope`"),
        ("@n:[$nope 1]", "No such parameter `nope`"),
        (
            "*=>[KNN $bad @v $vec]",
            "Invalid numeric value (x1) for parameter `bad`",
        ),
        ("*=>[KNN str @v $vec]", "Syntax error at offset 8 near str"),
        ("*=>[KNN 2.5 @v $vec]", "Syntax error at offset 8 near 2.5"),
        (
            "*=>[KNN 2 @v $vec AS a AS b]",
            "Distance field was specified twice for vector query: a and b",
        ),
        (
            "*=>[KNN 2 @v $vec AS n]",
            "Property `n` already exists in schema",
        ),
        (
            "*=>[KNN 2 @v $vec EPSILON 0.1]",
            "Error parsing vector similarity parameters: range query attributes were sent for a non-range query",
        ),
        (
            "*=>[KNN 2 @v $vec HYBRID_POLICY BATCHES]",
            "Error parsing vector similarity parameters: hybrid query attributes were sent for a non-hybrid query",
        ),
        (
            "@t:{x}=>[KNN 2 @v $vec HYBRID_POLICY nope]",
            "Error parsing vector similarity parameters: invalid hybrid policy was given",
        ),
        (
            "@t:{x}=>[KNN 2 @v $vec HYBRID_POLICY ADHOC_BF BATCH_SIZE 5]",
            "Error parsing vector similarity parameters: 'batch size' is irrelevant for the selected policy",
        ),
        (
            "@v:[VECTOR_RANGE -1 $vec]",
            "Error parsing vector similarity query: negative radius (-1) given in a range query",
        ),
        ("@n:[a b]", "Syntax error at offset 4 near a"),
        ("@n:[1 2", "Syntax error at offset 6 near 2"),
        ("@t:{}", "Syntax error at offset 4 near }"),
        ("@t:{a", "Syntax error at offset 4 near a"),
        ("(a b", "Syntax error at offset 3 near b"),
        ("a |", "Syntax error at offset 2 near |"),
        ("(", "Syntax error at offset 0 near ("),
        ("a b)", "Syntax error at offset 3 near )"),
        ("a | | b", "Syntax error at offset 4 near |"),
        ("*=>[KNN 2 @v $vec] x", "Syntax error at offset 19 near x"),
        ("x =>", "Syntax error at offset 2 near =>"),
        ("x @ y", "Syntax error at offset 2 near @"),
        (
            "*=>[KNN 288230376151711745 @v $vec]",
            "KNN K parameter is too large",
        ),
        (
            "*=>[KNN 99999999999999999999999 @v $vec]",
            "Syntax error at offset 8 near 99999999999999999999999",
        ),
        // The KNN filter is one clause: `=>` binds tighter than juxtaposition and `-`.
        (
            "@title:hello world=>[KNN 10 @v $vec]",
            "Syntax error at offset 20 near [",
        ),
        ("-x=>[KNN 2 @v $vec]", "Syntax error at offset 4 near ["),
        (
            "*=>[KNN 2 @fv $vec EF_RUNTIME 5]",
            "Error parsing vector similarity parameters: Unknown parameter `EF_RUNTIME`",
        ),
        (
            "*=>[KNN 2 @v $vec FOO 5]",
            "Error parsing vector similarity parameters: Unknown parameter `FOO`",
        ),
        (
            "@t:{x}=>[KNN 2 @v $vec EF_RUNTIME 0]",
            "Error parsing vector similarity parameters: Invalid EF_RUNTIME value",
        ),
        ("@n:[1 2 3]", "Syntax error at offset 8 near 3"),
        ("@title:{x}", "Expected a TAG field at offset 0 near title"),
        ("@t:[1 2]", "Expected a NUMERIC field at offset 0 near t"),
        ("@t:[1 2 3 km]", "Expected a GEO field at offset 0 near t"),
        ("@n:[1 2 3 km]", "Expected a GEO field at offset 0 near n"),
        ("@g:[1 2]", "Expected a NUMERIC field at offset 0 near g"),
        (
            "@n:[VECTOR_RANGE 1 $vec]",
            "Expected a VECTOR field at offset 0 near n",
        ),
        ("@t>5", "Expected a NUMERIC field at offset 0 near t"),
        (
            "@n:[$bad 5]",
            "Invalid numeric value (x1) for parameter `bad`",
        ),
        ("ismissing(@nope)", "Unknown field at offset 10 near nope"),
    ];
    for (q, want) in cases {
        assert_eq!(err2(q), *want, "{q}");
    }
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let q = "(".repeat(100_000);
    assert_eq!(
        err2(&q),
        "Parser stack overflow. Try moving nested parentheses more to the left"
    );
    let q = "-".repeat(100_000) + "x";
    assert!(p2(&q).is_err());
    let q = format!("{}x{}", "(".repeat(50), ")".repeat(50));
    assert_eq!(f2(&q), word("x"));
}

#[test]
fn random_bytes_never_panic() {
    use rand::{RngExt, SeedableRng};
    let alphabet = b"@$*()[]{}|-~:;=>\"\\ abcKNN01.5(+inf_VECTOR_RANGE,!<";
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let (d, p) = (def(), params());
    for _ in 0..20_000 {
        let len = rng.random_range(0..40);
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                if rng.random_bool(0.1) {
                    rng.random()
                } else {
                    alphabet[rng.random_range(0..alphabet.len())]
                }
            })
            .collect();
        for dialect in [1, 2] {
            if let Ok(q) = parse(&bytes, &d, &p, dialect) {
                super::explain(&q);
            }
        }
    }
}
