//! Hash field expiration (HEXPIRE ...): nothing to send. The oracle is Redis 7.0, which has
//! none of these commands (they came in 7.4), so no reply could be compared; they are
//! tested against Redis 7.4's documented behaviour in tests/hash_ttl.rs and
//! tests/python/test_hash_ttl.py instead.

use super::Entry;

#[rustfmt::skip]
pub fn commands() -> Vec<Entry> {
    vec![]
}
