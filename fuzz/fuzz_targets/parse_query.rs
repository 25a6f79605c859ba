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
use ferrostack::search::IndexDef;
use ferrostack::search::query::{Params, explain, parse};
use libfuzzer_sys::fuzz_target;

/// The schema as FT.CREATE would receive it, so the fuzzed index is one a client can make.
const SCHEMA: &str = "SCHEMA t TEXT g TAG INDEXMISSING n NUMERIC \
    v VECTOR HNSW 6 TYPE FLOAT32 DIM 2 DISTANCE_METRIC COSINE \
    f VECTOR FLAT 6 TYPE FLOAT32 DIM 2 DISTANCE_METRIC COSINE";

static DEF: LazyLock<IndexDef> = LazyLock::new(|| {
    let args: Vec<Bytes> = SCHEMA
        .split_whitespace()
        .map(|word| Bytes::copy_from_slice(word.as_bytes()))
        .collect();
    IndexDef::parse("idx", &args).expect("the fuzzed schema is valid")
});

static PARAMS: LazyLock<Params> = LazyLock::new(|| {
    [
        ("b", &b"\0\0\x80?\0\0\0\0"[..]),
        ("k", b"3"),
        ("x", b"1.5"),
        ("w", b"a|b*"),
    ]
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
        assert!(
            rendered.ends_with('\n'),
            "explain output must end with a newline"
        );
    }
});
