//! The search engine behind the FT.* commands: index definitions, the documents each index
//! holds, its field indexes (numeric, tag, text, vector), the query language and the
//! planner / executor that answers FT.SEARCH, FT.AGGREGATE's pipeline and cursors
//! ([`aggregate`]), each query's time budget (TIMEOUT / ON_TIMEOUT, [`deadline`]); also the
//! server's spell-check dictionaries (`dict`), FT.SPELLCHECK (`spellcheck`) and each
//! index's synonym groups (`synonyms`), the query counters INFO and FT.INFO report
//! (`stats`). Suggestion dictionaries are key values, so they live in `keyspace::suggest`.
//!
//! It follows the keyspace through [`Registry`], a [`crate::keyspace::KeyObserver`]: every
//! write to a hash (whatever the command, MULTI/EXEC or Lua) reaches the indexes whose
//! prefixes match while the shard lock of the write is held, so a write acknowledged to a
//! client is visible to the next FT.SEARCH of any client (read-your-writes).
//!
//! This module must not depend on `server` or `commands`: it sees keys as `Bytes` and
//! documents as hash values. Argument parsing for FT.* and reply building live in
//! `commands::search`. Lock order: keyspace shards -> registry -> one index.

pub mod aggregate;
pub mod config;
pub mod datetime;
pub mod deadline;
pub mod dict;
pub mod document;
pub mod error;
mod exec;
pub mod expr;
pub mod fields;
pub mod index;
pub mod query;
pub mod registry;
pub mod schema;
pub mod score;
pub mod spellcheck;
pub mod stats;
pub mod synonyms;
pub mod vector;

pub use deadline::Deadline;
pub use document::DocId;
pub use error::SearchError;
pub use registry::Registry;
pub use schema::{
    FieldDef, FieldKind, IndexDef, Metric, VectorAlgorithm, VectorParams, VectorType,
};
