//! Per-field indexes of NUMERIC, GEO, TAG and TEXT fields, keyed by [`super::DocId`], and the
//! parsing of a hash value into what each of them indexes (RediSearch's rules: numbers as
//! doubles, tags split / trimmed / case-folded, text tokenised with stopwords dropped).
//!
//! They hold postings only; which documents are live, and the values documents were indexed
//! with, live in [`super::document::DocTable`]. Vector fields are [`super::vector`]'s.

pub mod geo;
pub mod numeric;
pub mod tag;
pub mod text;

pub use geo::GeoIndex;
pub use numeric::NumericIndex;
pub use tag::TagIndex;
pub use text::TextIndex;
