//! Streams, consumer groups and blocking reads.

use super::Entry;

#[rustfmt::skip]
pub fn commands() -> Vec<Entry> {
    vec![]
}
