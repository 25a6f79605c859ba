//! The values a key can hold and the per-key entry (value, expiry, access time).

use bytes::Bytes;
use indexmap::IndexMap;

use crate::error::CmdError;

/// Hasher used by every map in the keyspace: fast, and seeded per process.
pub type Hasher = foldhash::fast::RandomState;

/// A hash value: field -> value, in an `IndexMap` so HSCAN can iterate with a stable cursor
/// and HRANDFIELD can pick by position.
pub type HashValue = IndexMap<Bytes, Bytes, Hasher>;

/// A Redis value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(Bytes),
    Hash(HashValue),
}

impl Value {
    /// The name `TYPE` reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Hash(_) => "hash",
        }
    }

    /// Aggregates that became empty are deleted, as in Redis.
    pub fn is_empty_aggregate(&self) -> bool {
        match self {
            Value::Str(_) => false,
            Value::Hash(h) => h.is_empty(),
        }
    }

    /// The name `OBJECT ENCODING` reports: what Redis would use for this content. Strings are
    /// `int` (the canonical text of an i64), `embstr` (at most 44 bytes) or `raw`; hashes are
    /// `listpack` while within `hash-max-listpack-entries` fields and
    /// `hash-max-listpack-value` bytes per field and value, else `hashtable`.
    pub fn encoding(
        &self,
        hash_max_listpack_entries: usize,
        hash_max_listpack_value: usize,
    ) -> &'static str {
        match self {
            Value::Str(s) if canonical_i64(s).is_some() => "int",
            Value::Str(s) if s.len() <= EMBSTR_MAX => "embstr",
            Value::Str(_) => "raw",
            Value::Hash(h) => {
                if hash_is_compact(h, hash_max_listpack_entries, hash_max_listpack_value) {
                    "listpack"
                } else {
                    "hashtable"
                }
            }
        }
    }

    pub fn new_hash() -> Value {
        Value::Hash(HashValue::default())
    }

    pub fn as_str(&self) -> Result<&Bytes, CmdError> {
        match self {
            Value::Str(s) => Ok(s),
            _ => Err(CmdError::WrongType),
        }
    }

    pub fn as_hash(&self) -> Result<&HashValue, CmdError> {
        match self {
            Value::Hash(h) => Ok(h),
            _ => Err(CmdError::WrongType),
        }
    }

    pub fn as_hash_mut(&mut self) -> Result<&mut HashValue, CmdError> {
        match self {
            Value::Hash(h) => Ok(h),
            _ => Err(CmdError::WrongType),
        }
    }
}

/// Longest string Redis stores in one allocation with its header (`OBJ_ENCODING_EMBSTR`).
const EMBSTR_MAX: usize = 44;

/// The integer whose canonical decimal text `bytes` is (no sign `+`, no leading zeros, no
/// `-0`, fits an i64): the strings Redis stores as integers.
pub fn canonical_i64(bytes: &[u8]) -> Option<i64> {
    if bytes.is_empty() || bytes.len() > 20 {
        return None;
    }
    let n: i64 = std::str::from_utf8(bytes).ok()?.parse().ok()?;
    (itoa::Buffer::new().format(n).as_bytes() == bytes).then_some(n)
}

/// One key's slot in a shard.
#[derive(Debug, Clone)]
pub struct Entry {
    pub value: Value,
    /// Absolute expiry time in Unix milliseconds.
    pub expire_at: Option<u64>,
    /// Last access, on the keyspace's seconds clock (`Keyspace::clock`; OBJECT IDLETIME).
    pub accessed: u32,
}

/// Whether Redis would keep `h` in its compact listpack encoding: at most `max_entries` fields
/// (`hash-max-listpack-entries`) and no field or value longer than `max_value` bytes
/// (`hash-max-listpack-value`). Compact hashes keep insertion order (HGETALL, HDEL) and answer
/// HSCAN in one step; larger ones behave like Redis's hash table.
pub fn hash_is_compact(h: &HashValue, max_entries: usize, max_value: usize) -> bool {
    h.len() <= max_entries
        && h.iter()
            .all(|(field, value)| field.len() <= max_value && value.len() <= max_value)
}
