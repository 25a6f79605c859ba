//! `SearchError`: every failure of the search layer, with the reply text RediSearch 2.10
//! writes for it. RediSearch's errors carry no `ERR` prefix: the first word of the text is
//! the error code Redis counts (`Unknown index name` is code `Unknown`).

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Error)]
pub enum SearchError {
    /// FT.INFO, FT.DROPINDEX, FT.TAGVALS ... of an index that does not exist.
    #[error("Unknown index name")]
    UnknownIndexName,
    /// FT.DROPINDEX / FT.TAGVALS / FT.ALIASDEL spelling, capitalised as RediSearch does.
    #[error("Unknown Index name")]
    UnknownIndexNameCap,
    /// FT.SEARCH / FT.AGGREGATE of an index that does not exist.
    #[error("No such index {0}")]
    NoSuchIndex(String),
    /// FT.EXPLAIN and friends: `idx: no such index`.
    #[error("{0}: no such index")]
    NoSuchIndexSuffix(String),
    #[error("Index already exists")]
    IndexExists,
    /// `Syntax error at offset N near X`.
    #[error("Syntax error at offset {offset} near {near}")]
    Syntax { offset: usize, near: String },
    /// A query over its TIMEOUT under ON_TIMEOUT FAIL.
    #[error("Timeout limit was reached")]
    Timeout,
    /// Any other error whose full text is given (argument errors, vector parameter errors,
    /// query errors with their own wording).
    #[error("{0}")]
    Other(String),
}

impl SearchError {
    pub fn other(text: impl Into<String>) -> SearchError {
        SearchError::Other(text.into())
    }
}
