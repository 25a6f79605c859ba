//! One FT index: its definition, document table, field indexes and statistics, with the
//! upsert / remove operations the registry applies on keyspace changes and the search
//! execution FT.SEARCH runs.

use std::sync::atomic::{AtomicBool, AtomicU64};

use bytes::Bytes;
use parking_lot::Mutex;

use super::query::Query;
use super::{DocId, IndexDef, SearchError};
use crate::keyspace::value::HashValue;

/// One index.
pub struct Index {
    pub def: IndexDef,
    pub stats: IndexStats,
}

/// Counters FT.INFO reports.
#[derive(Default)]
pub struct IndexStats {
    /// Documents that could not be indexed (`hash_indexing_failures`).
    pub failures: AtomicU64,
    /// The last indexing error and the key it happened on.
    pub last_error: Mutex<Option<(String, Bytes)>>,
    /// The initial scan (backfill) is running.
    pub indexing: AtomicBool,
    /// Backfill progress in millionths (1_000_000 = done).
    pub progress_ppm: AtomicU64,
    /// FT.SEARCH / FT.AGGREGATE calls (`number_of_uses`).
    pub uses: AtomicU64,
}

/// A snapshot of an index's size figures for FT.INFO.
#[derive(Debug, Clone, Default)]
pub struct IndexInfo {
    pub num_docs: u64,
    pub max_doc_id: u64,
    pub num_terms: u64,
    pub num_records: u64,
    pub inverted_bytes: u64,
    pub vector_index_bytes: u64,
    pub doc_table_bytes: u64,
    pub tag_overhead_bytes: u64,
    pub text_overhead_bytes: u64,
}

/// One matching document, as [`Index::search`] returns it.
#[derive(Debug, Clone)]
pub struct Hit {
    pub id: DocId,
    pub key: Bytes,
    /// Text score (1.0 when the query has no scored text).
    pub score: f64,
    /// Yielded distances: the KNN score field (alias or `__<field>_score`) and every
    /// VECTOR_RANGE `$YIELD_DISTANCE_AS`, by name.
    pub distances: Vec<(String, f64)>,
}

/// Restrictions FT.SEARCH options put on a query.
#[derive(Debug, Clone, Default)]
pub struct SearchOptions {
    /// `INKEYS`: only these keys.
    pub in_keys: Option<Vec<Bytes>>,
    /// `INFIELDS`: text terms only match in these attributes.
    pub in_fields: Option<Vec<String>>,
    /// `VERBATIM`: no stemming (until stemming exists, no effect).
    pub verbatim: bool,
}

/// A value to order results by (SORTBY), read from the index.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
pub enum SortKey {
    Num(f64),
    Str(String),
}

impl Index {
    pub fn new(def: IndexDef) -> Index {
        let _ = def;
        todo!()
    }

    /// Indexes (or re-indexes, under a fresh doc id) the hash stored at `key`. A value that
    /// cannot be indexed drops the document and counts an indexing failure.
    pub fn upsert(&self, key: &Bytes, hash: &HashValue, now_ms: u64) {
        let _ = (key, hash, now_ms);
        todo!()
    }

    /// Drops the document of `key`, if indexed.
    pub fn remove(&self, key: &[u8]) {
        let _ = key;
        todo!()
    }

    /// Drops every document (FLUSHDB, SWAPDB before re-scanning).
    pub fn clear(&self) {
        todo!()
    }

    /// Keys of every live document, in doc-id order (FT.DROPINDEX DD).
    pub fn keys(&self) -> Vec<Bytes> {
        todo!()
    }

    pub fn info(&self) -> IndexInfo {
        todo!()
    }

    /// Every document matching `query`, in RediSearch's default order (text score, then
    /// ascending doc id). A KNN query returns at most its K nearest documents among those
    /// passing its filter, each with its distance in [`Hit::distances`].
    pub fn search(&self, query: &Query, options: &SearchOptions) -> Result<Vec<Hit>, SearchError> {
        let _ = (query, options);
        todo!()
    }

    /// The value of attribute `attribute` of each hit, as SORTBY compares them (`None`:
    /// the document has no value for it). Numeric fields compare as numbers, others as
    /// strings.
    pub fn sort_keys(&self, hits: &[Hit], attribute: &str) -> Vec<Option<SortKey>> {
        let _ = (hits, attribute);
        todo!()
    }

    /// FT.TAGVALS: the distinct normalised values of TAG field `attribute`.
    pub fn tag_values(&self, attribute: &str) -> Result<Vec<String>, SearchError> {
        let _ = attribute;
        todo!()
    }
}
