//! Pub/sub and keyspace notifications.

use super::Entry;

#[rustfmt::skip]
pub fn commands() -> Vec<Entry> {
    vec![]
}
