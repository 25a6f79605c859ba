//! Per-field indexes of NUMERIC, TAG and TEXT fields, keyed by [`super::DocId`].
