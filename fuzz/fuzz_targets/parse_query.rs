//! Fuzzes the FT.SEARCH query parser (`ferrostack::search::query::parse`) and FT.EXPLAIN's
//! rendering of what it returns.
//!
//! The first input byte picks the dialect (1 or 2); the rest is the query text, parsed for
//! an index with TEXT, TAG, NUMERIC, VECTOR (HNSW and FLAT) and INDEXMISSING fields and a
//! few PARAMS. Properties checked: parsing never panics (deep nesting is refused, not
//! overflowed), parsing is deterministic, and every parsed query renders.
//!
//! `RUSTC_BOOTSTRAP=1 cargo fuzz run parse_query corpus/parse_query seeds/parse_query \
//!   -- -max_len=512 -max_total_time=300`

#![no_main]

use std::sync::LazyLock;

use bytes::Bytes;
use ferrostack::search::query::{Params, explain, parse};
use ferrostack::search::{
    FieldDef, FieldKind, IndexDef, Metric, VectorAlgorithm, VectorParams, VectorType,
};
use libfuzzer_sys::fuzz_target;

fn field(name: &str, kind: FieldKind, index_missing: bool) -> FieldDef {
    FieldDef {
        identifier: Bytes::copy_from_slice(name.as_bytes()),
        attribute: name.to_string(),
        kind,
        sortable: false,
        unf: false,
        noindex: false,
        index_missing,
        index_empty: false,
    }
}

fn vector(algorithm: VectorAlgorithm) -> FieldKind {
    FieldKind::Vector(VectorParams {
        algorithm,
        data_type: VectorType::Float32,
        dim: 2,
        metric: Metric::Cosine,
        initial_cap: None,
        block_size: 1024,
        m: 16,
        ef_construction: 200,
        ef_runtime: 10,
        epsilon: 0.01,
    })
}

static DEF: LazyLock<IndexDef> = LazyLock::new(|| IndexDef {
    name: "idx".into(),
    prefixes: vec![Bytes::new()],
    filter: None,
    language: "english".into(),
    language_field: None,
    score: 1.0,
    score_field: None,
    payload_field: None,
    stopwords: None,
    skip_initial_scan: false,
    options: Vec::new(),
    temporary: None,
    fields: vec![
        field(
            "t",
            FieldKind::Text {
                weight: 1.0,
                nostem: false,
                phonetic: None,
                with_suffix_trie: false,
            },
            false,
        ),
        field(
            "g",
            FieldKind::Tag {
                separator: b',',
                case_sensitive: false,
                with_suffix_trie: false,
            },
            true,
        ),
        field("n", FieldKind::Numeric, false),
        field("v", vector(VectorAlgorithm::Hnsw), false),
        field("f", vector(VectorAlgorithm::Flat), false),
    ],
});

static PARAMS: LazyLock<Params> = LazyLock::new(|| {
    [("b", &b"\0\0\x80?\0\0\0\0"[..]), ("k", b"3"), ("x", b"1.5"), ("w", b"a|b*")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), Bytes::from_static(v)))
        .collect()
});

fuzz_target!(|data: &[u8]| {
    let Some((&control, text)) = data.split_first() else {
        return;
    };
    let dialect = 1 + u32::from(control & 1);
    let first = parse(text, &DEF, &PARAMS, dialect);
    let again = parse(text, &DEF, &PARAMS, dialect);
    assert_eq!(first, again, "parsing is not deterministic");
    if let Ok(query) = first {
        let rendered = explain(&query);
        assert!(rendered.ends_with('\n'), "explain output must end with a newline");
    }
});
