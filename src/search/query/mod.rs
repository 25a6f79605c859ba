//! The query language of FT.SEARCH / FT.EXPLAIN (RediSearch dialect 2): a hand-written lexer
//! (tokens with byte offsets, for `Syntax error at offset N near X`), a recursive-descent
//! parser producing the [`ast`], and FT.EXPLAIN's rendering of it.
//!
//! Parsing needs the index definition (to resolve `@field` names and their types, and the
//! stopword list) and the PARAMS of the request; it never touches index data.

pub mod ast;
mod explain;
mod lexer;
mod parser;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use bytes::Bytes;

pub use ast::{
    ClauseAttrs, GeoFilter, GeoUnit, HybridPolicy, KnnClause, NumBound, Query, QueryNode,
    TagPattern, TextTerm, wildcard_match,
};
pub use parser::{check_knn, parse};

/// FT.SEARCH's `PARAMS`: name (without `$`) -> value.
pub type Params = HashMap<String, Bytes>;

/// FT.EXPLAIN's rendering of a parsed query, as RediSearch prints it.
pub fn explain(query: &Query) -> String {
    explain::explain(query)
}
