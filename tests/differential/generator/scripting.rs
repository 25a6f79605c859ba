//! Lua scripts and functions.

use super::Entry;

#[rustfmt::skip]
pub fn commands() -> Vec<Entry> {
    vec![]
}
