//! The values a key can hold and the per-key entry (value, expiry, access time).
//!
//! Values remember the representation Redis would have given them, because clients can see
//! it: `OBJECT ENCODING`, `OBJECT REFCOUNT` and, for hashes, the reply order of HGETALL and
//! the paging of HSCAN. Redis chooses a representation when a value is written and keeps it
//! until a later write changes it — it never converts back when a value shrinks or when the
//! limits change — so the same content can be held differently depending on its history.
//! [`EncodingConfig`] carries the settings those choices depend on; commands read it once and
//! pass it to the writes that need it.

use std::ops::Deref;

use bytes::Bytes;
use indexmap::IndexMap;

use crate::error::CmdError;

pub use super::list::ListValue;
pub use super::set::{SetLimits, SetValue};
pub use super::stream::StreamValue;
pub use super::suggest::SuggestValue;
pub use super::zset::{ZSetLimits, ZSetValue};

/// Hasher used by every map in the keyspace: fast, and seeded per process.
pub type Hasher = foldhash::fast::RandomState;

/// The field -> value map inside a hash.
pub type HashFields = IndexMap<Bytes, Bytes, Hasher>;

/// Field -> expiry time (Unix milliseconds) of the hash fields that have one.
pub type FieldTtls = IndexMap<Bytes, u64, Hasher>;

/// The settings that decide how newly written values are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodingConfig {
    /// Whether the integers 0..9999 become Redis's shared integer objects: true unless
    /// `maxmemory` is set with an LRU or LFU policy (those need a private access time per key).
    pub share_integers: bool,
    pub hash: HashLimits,
    /// `list-max-listpack-size`: entries (positive) or a byte-size level (-1 .. -5) of the
    /// largest list kept as one listpack.
    pub list_max_listpack_size: i64,
    pub set: SetLimits,
    pub zset: ZSetLimits,
}

impl EncodingConfig {
    /// Redis's default settings (no `maxmemory`, default listpack and intset limits).
    pub const REDIS_DEFAULTS: EncodingConfig = EncodingConfig {
        share_integers: true,
        hash: HashLimits {
            entries: 512,
            value: 64,
        },
        list_max_listpack_size: -2,
        set: SetLimits::DEFAULT,
        zset: ZSetLimits {
            entries: 128,
            value: 64,
        },
    };
}

/// `hash-max-listpack-entries` and `hash-max-listpack-value`: the largest hash Redis keeps in
/// its compact listpack encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashLimits {
    pub entries: usize,
    pub value: usize,
}

impl Default for HashLimits {
    /// Redis 7's defaults.
    fn default() -> Self {
        HashLimits {
            entries: 512,
            value: 64,
        }
    }
}

/// `as_x` / `as_x_mut`: the value as variant `X`, or Redis's WRONGTYPE error.
macro_rules! typed_access {
    ($get:ident, $get_mut:ident, $variant:ident, $ty:ty) => {
        pub fn $get(&self) -> Result<&$ty, CmdError> {
            match self {
                Value::$variant(v) => Ok(v),
                _ => Err(CmdError::WrongType),
            }
        }

        pub fn $get_mut(&mut self) -> Result<&mut $ty, CmdError> {
            match self {
                Value::$variant(v) => Ok(v),
                _ => Err(CmdError::WrongType),
            }
        }
    };
}

/// A Redis value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(StrValue),
    Hash(HashValue),
    List(ListValue),
    Set(SetValue),
    ZSet(ZSetValue),
    Stream(StreamValue),
    /// An FT.SUGADD suggestion dictionary (RediSearch's module type).
    Suggest(SuggestValue),
}

impl Value {
    /// The name `TYPE` reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Hash(_) => "hash",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
            // The module type name RediSearch registers for suggestion tries.
            Value::Suggest(_) => "trietype0",
        }
    }

    /// Aggregates that became empty are deleted, as in Redis.
    pub fn is_empty_aggregate(&self) -> bool {
        match self {
            // An empty stream is a valid value (XADD with MAXLEN 0, XDEL of every entry).
            Value::Str(_) | Value::Stream(_) => false,
            Value::Hash(h) => h.is_empty(),
            Value::List(l) => l.is_empty(),
            Value::Set(s) => s.is_empty(),
            Value::ZSet(z) => z.is_empty(),
            Value::Suggest(s) => s.is_empty(),
        }
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => match s.encoding {
                StrEncoding::Int { .. } => "int",
                StrEncoding::Embstr => "embstr",
                StrEncoding::Raw => "raw",
            },
            Value::Hash(h) => h.encoding(),
            Value::List(l) => l.encoding(),
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(),
            Value::Stream(_) => "stream",
            // Redis holds every module value as a raw-encoded object.
            Value::Suggest(_) => "raw",
        }
    }

    /// A string value encoded as SET stores it (see [`StrValue::new`]).
    pub fn string(bytes: Bytes, config: &EncodingConfig) -> Value {
        Value::Str(StrValue::new(bytes, config))
    }

    pub fn new_hash() -> Value {
        Value::Hash(HashValue::default())
    }

    /// What COPY stores: an equal value in the same encoding, but never a shared object.
    pub fn duplicate(&self) -> Value {
        match self {
            Value::Str(s) => Value::Str(StrValue {
                bytes: s.bytes.clone(),
                encoding: match s.encoding {
                    StrEncoding::Int { .. } => StrEncoding::Int { shared: false },
                    other => other,
                },
            }),
            other => other.clone(),
        }
    }

    typed_access!(as_hash, as_hash_mut, Hash, HashValue);
    typed_access!(as_list, as_list_mut, List, ListValue);
    typed_access!(as_set, as_set_mut, Set, SetValue);
    typed_access!(as_zset, as_zset_mut, ZSet, ZSetValue);
    typed_access!(as_stream, as_stream_mut, Stream, StreamValue);
    typed_access!(as_suggest, as_suggest_mut, Suggest, SuggestValue);

    pub fn as_str(&self) -> Result<&Bytes, CmdError> {
        match self {
            Value::Str(s) => Ok(&s.bytes),
            _ => Err(CmdError::WrongType),
        }
    }
}

/// Longest string Redis stores in one allocation with its header (`OBJ_ENCODING_EMBSTR`).
const EMBSTR_MAX: usize = 44;

/// Redis keeps one shared object for each of the integers `0..SHARED_INTEGERS`.
pub const SHARED_INTEGERS: i64 = 10_000;

/// The integer whose canonical decimal text `bytes` is (no sign `+`, no leading zeros, no
/// `-0`, fits an i64): the strings Redis stores as integers.
pub fn canonical_i64(bytes: &[u8]) -> Option<i64> {
    if bytes.is_empty() || bytes.len() > 20 {
        return None;
    }
    let n: i64 = std::str::from_utf8(bytes).ok()?.parse().ok()?;
    (itoa::Buffer::new().format(n).as_bytes() == bytes).then_some(n)
}

/// How Redis holds a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrEncoding {
    /// As a 64-bit integer (the bytes are its canonical decimal text). `shared`: one of
    /// Redis's shared objects for 0..9999, whose `OBJECT REFCOUNT` is `INT_MAX`.
    Int { shared: bool },
    /// Together with its header in one allocation (at most 44 bytes).
    Embstr,
    /// In a buffer of its own: long strings, and every string APPEND or SETRANGE changed.
    Raw,
}

/// A string value and its encoding. Derefs to its bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct StrValue {
    bytes: Bytes,
    encoding: StrEncoding,
}

impl StrValue {
    /// A string as SET, MSET, INCR and RESTORE store it (Redis's `tryObjectEncoding`): an
    /// integer when it is one's canonical text — shared when `config` allows — else embstr
    /// when short, else raw.
    pub fn new(bytes: Bytes, config: &EncodingConfig) -> StrValue {
        let encoding = match canonical_i64(&bytes) {
            Some(n) => StrEncoding::Int {
                shared: config.share_integers && (0..SHARED_INTEGERS).contains(&n),
            },
            None => Self::text_encoding(bytes.len()),
        };
        StrValue { bytes, encoding }
    }

    /// A string built as text and never turned into an integer (INCRBYFLOAT's result):
    /// embstr when short, else raw.
    pub fn text(bytes: Bytes) -> StrValue {
        let encoding = Self::text_encoding(bytes.len());
        StrValue { bytes, encoding }
    }

    fn text_encoding(len: usize) -> StrEncoding {
        if len <= EMBSTR_MAX {
            StrEncoding::Embstr
        } else {
            StrEncoding::Raw
        }
    }

    /// A string created by SETRANGE: raw, whatever its content.
    pub fn raw(bytes: Bytes) -> StrValue {
        StrValue {
            bytes,
            encoding: StrEncoding::Raw,
        }
    }

    pub fn encoding(&self) -> StrEncoding {
        self.encoding
    }

    /// The integer whose shared object this string is, if it is one.
    pub fn shared_integer(&self) -> Option<usize> {
        match self.encoding {
            StrEncoding::Int { shared: true } => {
                canonical_i64(&self.bytes).and_then(|n| usize::try_from(n).ok())
            }
            _ => None,
        }
    }

    /// The bytes, for an in-place edit (APPEND, SETRANGE). The string becomes raw, as Redis
    /// gives it a private, growable buffer before changing it.
    pub fn bytes_for_edit(&mut self) -> &mut Bytes {
        self.encoding = StrEncoding::Raw;
        &mut self.bytes
    }

    pub fn into_bytes(self) -> Bytes {
        self.bytes
    }
}

impl Deref for StrValue {
    type Target = Bytes;

    fn deref(&self) -> &Bytes {
        &self.bytes
    }
}

/// A hash: field -> value in an `IndexMap` (so HSCAN can iterate with a stable cursor and
/// HRANDFIELD can pick by position), and whether Redis would hold it as a listpack.
///
/// A compact (listpack) hash keeps insertion order, also when fields are removed, and HSCAN
/// returns it in one step; a hash table has no defined order, so removal may reorder (O(1)
/// `swap_remove`) and HSCAN pages by cursor. A hash starts compact and stops being so at the
/// first write that passes the [`HashLimits`]; it never becomes compact again. Derefs to the
/// map for reading; writes go through [`HashValue::insert`] and [`HashValue::remove`].
///
/// Field expiry (Redis 7.4's HEXPIRE family) lives in a separate map that only hashes which
/// ever had a field TTL carry, so other hashes pay one pointer for it. A compact hash that
/// has it is what Redis calls `listpackex`. Expired fields stay in the map until a command
/// reaps them ([`HashValue::remove_expired`]); the hash commands do so before anything else.
#[derive(Debug, Clone, PartialEq)]
pub struct HashValue {
    map: HashFields,
    compact: bool,
    ttls: Option<Box<FieldTtls>>,
}

impl Default for HashValue {
    fn default() -> Self {
        HashValue {
            map: HashFields::default(),
            compact: true,
            ttls: None,
        }
    }
}

impl HashValue {
    /// A hash loaded from serialized pairs (RESTORE): compact exactly when the content is
    /// within `limits`, however it was held before it was dumped.
    pub fn loaded(map: HashFields, limits: &HashLimits) -> HashValue {
        let compact = map.len() <= limits.entries
            && map
                .iter()
                .all(|(f, v)| f.len() <= limits.value && v.len() <= limits.value);
        HashValue {
            map,
            compact,
            ttls: None,
        }
    }

    /// Whether Redis would hold this hash as a listpack.
    pub fn is_compact(&self) -> bool {
        self.compact
    }

    /// The name `OBJECT ENCODING` reports: a compact hash that has known field TTLs is a
    /// `listpackex` (and stays one, as in Redis, when they are gone).
    pub fn encoding(&self) -> &'static str {
        match (self.compact, self.ttls.is_some()) {
            (true, false) => "listpack",
            (true, true) => "listpackex",
            (false, _) => "hashtable",
        }
    }

    /// Sets `field` to `value` (an existing field keeps its position, as in a listpack).
    /// Returns the old value. As in Redis, a field or value longer than `limits.value`, or
    /// more than `limits.entries` fields afterwards, ends the compact encoding — checked on
    /// every set, updates included. A TTL the field had is dropped (HSET, HSETNX, HMSET).
    pub fn insert(&mut self, field: Bytes, value: Bytes, limits: &HashLimits) -> Option<Bytes> {
        if let Some(ttls) = &mut self.ttls {
            ttls.swap_remove(&field);
        }
        self.update(field, value, limits)
    }

    /// [`HashValue::insert`] that keeps the field's TTL (HINCRBY, HINCRBYFLOAT).
    pub fn update(&mut self, field: Bytes, value: Bytes, limits: &HashLimits) -> Option<Bytes> {
        if field.len() > limits.value || value.len() > limits.value {
            self.compact = false;
        }
        let old = self.map.insert(field, value);
        if self.map.len() > limits.entries {
            self.compact = false;
        }
        old
    }

    /// Removes `field` (and its TTL), keeping the others' order while the hash is compact.
    pub fn remove(&mut self, field: &[u8]) -> Option<Bytes> {
        if let Some(ttls) = &mut self.ttls {
            ttls.swap_remove(field);
        }
        if self.compact {
            self.map.shift_remove(field)
        } else {
            self.map.swap_remove(field)
        }
    }

    /// The expiry time (Unix ms) of `field`, if it has one.
    pub fn field_expire_at(&self, field: &[u8]) -> Option<u64> {
        self.ttls.as_ref().and_then(|t| t.get(field).copied())
    }

    /// Gives the existing `field` an expiry time (Unix ms).
    pub fn set_field_expire(&mut self, field: &[u8], at: u64) {
        if let Some((key, _)) = self.map.get_key_value(field) {
            let key = key.clone();
            self.ttls.get_or_insert_default().insert(key, at);
        }
    }

    /// Removes the TTL of `field`; false when it had none.
    pub fn persist_field(&mut self, field: &[u8]) -> bool {
        self.ttls
            .as_mut()
            .is_some_and(|t| t.swap_remove(field).is_some())
    }

    /// Whether any field has a TTL.
    pub fn has_field_ttls(&self) -> bool {
        self.ttls.as_ref().is_some_and(|t| !t.is_empty())
    }

    /// Whether a field's time has passed at `now_ms` (its TTL is before now, as in Redis).
    pub fn has_expired_fields(&self, now_ms: u64) -> bool {
        self.ttls
            .as_ref()
            .is_some_and(|t| t.values().any(|&at| at < now_ms))
    }

    /// Deletes the fields whose time has passed at `now_ms`; returns how many.
    pub fn remove_expired(&mut self, now_ms: u64) -> usize {
        let due: Vec<Bytes> = match &self.ttls {
            Some(ttls) => ttls
                .iter()
                .filter(|&(_, &at)| at < now_ms)
                .map(|(f, _)| f.clone())
                .collect(),
            None => return 0,
        };
        for field in &due {
            self.remove(field);
        }
        due.len()
    }
}

impl Deref for HashValue {
    type Target = HashFields;

    fn deref(&self) -> &HashFields {
        &self.map
    }
}

impl<'a> IntoIterator for &'a HashValue {
    type Item = (&'a Bytes, &'a Bytes);
    type IntoIter = indexmap::map::Iter<'a, Bytes, Bytes>;

    fn into_iter(self) -> Self::IntoIter {
        self.map.iter()
    }
}

/// One key's slot in a shard.
#[derive(Debug, Clone)]
pub struct Entry {
    pub value: Value,
    /// Absolute expiry time in Unix milliseconds.
    pub expire_at: Option<u64>,
    /// Redis's access record of the value (see `lru`); unused for a shared integer, whose
    /// record is the shared object's (`Keyspace::lru`).
    pub lru: u32,
}

#[cfg(test)]
impl Entry {
    /// A key without a time to live holding `value` (for observers' tests).
    pub fn persistent(value: Value) -> Entry {
        Entry {
            value,
            expire_at: None,
            lru: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    const SHARING: EncodingConfig = EncodingConfig {
        share_integers: true,
        hash: HashLimits {
            entries: 2,
            value: 4,
        },
        list_max_listpack_size: -2,
        set: SetLimits::DEFAULT,
        zset: ZSetLimits {
            entries: 128,
            value: 64,
        },
    };

    #[test]
    fn string_encodings_follow_the_writing_command() {
        let enc = |s: StrValue| s.encoding();
        assert_eq!(
            enc(StrValue::new(b("42"), &SHARING)),
            StrEncoding::Int { shared: true }
        );
        assert_eq!(
            enc(StrValue::new(b("10000"), &SHARING)),
            StrEncoding::Int { shared: false }
        );
        let private = EncodingConfig {
            share_integers: false,
            ..SHARING
        };
        assert_eq!(
            enc(StrValue::new(b("42"), &private)),
            StrEncoding::Int { shared: false }
        );
        assert_eq!(enc(StrValue::new(b("042"), &SHARING)), StrEncoding::Embstr);
        assert_eq!(
            enc(StrValue::new(b(&"x".repeat(45)), &SHARING)),
            StrEncoding::Raw
        );
        assert_eq!(enc(StrValue::text(b("3"))), StrEncoding::Embstr);
        let mut edited = StrValue::new(b("1"), &SHARING);
        edited.bytes_for_edit();
        assert_eq!(enc(edited), StrEncoding::Raw);
        let copy = Value::string(b("7"), &SHARING).duplicate();
        assert_eq!(copy.encoding(), "int");
        assert!(
            matches!(copy, Value::Str(s) if s.encoding() == StrEncoding::Int { shared: false })
        );
    }

    #[test]
    fn hash_encoding_is_sticky() {
        let limits = SHARING.hash;
        let mut h = HashValue::default();
        h.insert(b("a"), b("1"), &limits);
        h.insert(b("b"), b("2"), &limits);
        assert!(h.is_compact());
        h.insert(b("c"), b("3"), &limits);
        assert!(!h.is_compact(), "more fields than the limit");
        h.remove(b"c");
        assert!(!h.is_compact(), "never converts back");

        let mut h = HashValue::default();
        h.insert(b("a"), b("1"), &limits);
        h.insert(b("b"), b("2"), &limits);
        h.insert(
            b("c"),
            b("3"),
            &HashLimits {
                entries: 5,
                value: 4,
            },
        );
        h.remove(b"a");
        let order: Vec<&Bytes> = h.keys().collect();
        assert_eq!(order, [&b("b"), &b("c")], "listpack order survives removal");
        h.insert(
            b("b"),
            b("long value"),
            &HashLimits {
                entries: 5,
                value: 4,
            },
        );
        assert!(!h.is_compact(), "an update with a long value converts too");

        let map: HashFields = [(b("a"), b("1")), (b("b"), b("2")), (b("c"), b("3"))]
            .into_iter()
            .collect();
        assert!(!HashValue::loaded(map.clone(), &limits).is_compact());
        assert!(HashValue::loaded(map, &HashLimits::default()).is_compact());
    }

    #[test]
    fn field_ttls() {
        let limits = HashLimits::default();
        let mut h = HashValue::default();
        h.insert(b("a"), b("1"), &limits);
        h.insert(b("b"), b("2"), &limits);
        assert_eq!(h.encoding(), "listpack");
        h.set_field_expire(b"a", 100);
        h.set_field_expire(b"zz", 100);
        assert_eq!(h.encoding(), "listpackex");
        assert_eq!(h.field_expire_at(b"a"), Some(100));
        assert_eq!(
            h.field_expire_at(b"zz"),
            None,
            "only existing fields get a TTL"
        );
        h.update(b("a"), b("3"), &limits);
        assert_eq!(h.field_expire_at(b"a"), Some(100), "update keeps the TTL");
        assert!(
            !h.has_expired_fields(100),
            "due only once the time has passed"
        );
        assert!(h.has_expired_fields(101));
        assert_eq!(h.remove_expired(101), 1);
        assert_eq!(h.keys().collect::<Vec<_>>(), [&b("b")]);
        h.set_field_expire(b"b", 500);
        h.insert(b("b"), b("4"), &limits);
        assert!(!h.has_field_ttls(), "insert drops the TTL");
        assert_eq!(h.encoding(), "listpackex", "never converts back");
    }
}
