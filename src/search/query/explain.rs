//! FT.EXPLAIN's rendering of a parsed query.

use super::ast::Query;

pub fn explain(query: &Query) -> String {
    format!("{query:?}")
}
