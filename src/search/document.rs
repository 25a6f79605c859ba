//! Document ids and the table between keys and ids of one index.
//!
//! Every (re-)indexing of a key gets a fresh [`DocId`]; ids are never reused, so a stale id
//! met in any structure (a tombstoned graph node, an old tag posting) is simply not live.
//! Default result order (KNN without SORTBY, `*`) is ascending doc id: indexing order.

/// An index-internal document number. Never reused within one index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DocId(pub u32);
