//! Sorted sets, blocking pops included.

use super::Entry;

#[rustfmt::skip]
pub fn commands() -> Vec<Entry> {
    vec![]
}
