//! Redis's serialization of one value: the payload DUMP returns and RESTORE accepts.
//!
//! A payload is `<type byte><object>` in the RDB object encoding, then the RDB version (2 bytes)
//! and the CRC-64/Jones checksum of everything before it (8 bytes), both little-endian.
//!
//! Reading accepts every encoding Redis 2.x to 7.4 writes for the types this server holds:
//! strings (raw, integer-encoded, LZF-compressed) and hashes (field/value pairs, zipmap,
//! ziplist, listpack — the last three stored as one string blob, itself possibly
//! LZF-compressed) and sets (members, intset, listpack). Anything else — other types, hashes
//! with field expiry, malformed data — is [`PayloadError::BadFormat`]. The compact encodings are validated as strictly as Redis's
//! deep sanitization does (sizes, counts, back-lengths, duplicate fields), so a corrupt payload
//! never becomes a corrupt value.
//!
//! Writing produces the plain forms: strings integer-encoded exactly when Redis would, so short
//! strings dump byte-for-byte as Redis dumps them, otherwise raw (uncompressed); hashes as
//! field/value pairs, which Redis 7 loads into a listpack or a hash table by its own limits;
//! sets as an intset when they are one (as Redis dumps an intset it does not compress), else
//! as members. Streams (listpack nodes, ids, consumer groups) are read and written by the
//! child module `stream_rdb`, in Redis 7.0's own stream encoding.
//! The version written is Redis 7.0's, so Redis 7.0 and every later release restore our payloads.
//!
//! Depends only on `value` and `set`.

use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;

#[path = "stream_rdb.rs"]
mod stream_rdb;

use super::set::{SetEncoding, SetLimits, SetMembers, SetValue};
use super::value::{
    EncodingConfig, HashFields, HashLimits, HashValue, ListValue, StrValue, SuggestValue, Value,
    ZSetLimits, ZSetValue, canonical_i64,
};

/// RDB version written into payloads: Redis 7.0's (7.0 refuses anything newer).
pub const WRITE_VERSION: u16 = 10;
/// Newest RDB version accepted: Redis 7.4's.
pub const READ_VERSION: u16 = 12;

/// Redis's CRC-64 (Jones), shared by DUMP payloads, snapshots and graph files. Sixteen
/// tables (slice-by-16): the one-byte table took a third of a snapshot load's read time.
pub static CRC64: crc::Crc<u64, crc::Table<16>> =
    crc::Crc::<u64, crc::Table<16>>::new(&crc::CRC_64_REDIS);

/// Why a payload cannot be restored; each maps to one Redis error reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadError {
    /// Shorter than its footer, written by a newer RDB version, or failing its checksum.
    VersionOrChecksum,
    /// The object is malformed or of a type this server does not hold.
    BadFormat,
}

// Object types (Redis's rdb.h).
const TYPE_STRING: u8 = 0;
const TYPE_LIST: u8 = 1;
const TYPE_SET: u8 = 2;
const TYPE_HASH: u8 = 4;
const TYPE_HASH_ZIPMAP: u8 = 9;
const TYPE_LIST_ZIPLIST: u8 = 10;
const TYPE_SET_INTSET: u8 = 11;
const TYPE_HASH_ZIPLIST: u8 = 13;
const TYPE_LIST_QUICKLIST: u8 = 14;
const TYPE_HASH_LISTPACK: u8 = 16;
const TYPE_ZSET: u8 = 3;
const TYPE_ZSET_2: u8 = 5;
const TYPE_ZSET_ZIPLIST: u8 = 12;
const TYPE_ZSET_LISTPACK: u8 = 17;
const TYPE_LIST_QUICKLIST_2: u8 = 18;
const TYPE_SET_LISTPACK: u8 = 20;
// Quicklist 2 node containers: one plain element, or a listpack of elements.
const QUICKLIST_NODE_PLAIN: usize = 1;
const QUICKLIST_NODE_PACKED: usize = 2;

// The two high bits of a length's first byte say how it is stored.
const LEN_6BIT: u8 = 0;
const LEN_14BIT: u8 = 1;
const LEN_ENCODED: u8 = 3;
const LEN_32BIT: u8 = 0x80;
const LEN_64BIT: u8 = 0x81;
// Kinds of encoded strings (the low six bits when the high bits are `LEN_ENCODED`).
const ENC_INT8: u8 = 0;
const ENC_INT16: u8 = 1;
const ENC_INT32: u8 = 2;
const ENC_LZF: u8 = 3;

/// The DUMP payload of `value`.
pub fn dump(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_object(&mut out, value);
    out.extend_from_slice(&WRITE_VERSION.to_le_bytes());
    let crc = CRC64.checksum(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Appends `<type byte><object>` for `value`: a DUMP payload without its footer, and the
/// form a key's value takes in an RDB file.
pub fn write_object(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Str(s) => {
            out.push(TYPE_STRING);
            write_string(out, s);
        }
        Value::Hash(hash) => {
            out.push(TYPE_HASH);
            write_len(out, hash.len() as u64);
            for (field, value) in hash {
                write_string(out, field);
                write_string(out, value);
            }
        }
        // The plain list type: every Redis version loads it (into its own encoding).
        Value::List(list) => {
            out.push(TYPE_LIST);
            write_len(out, list.len() as u64);
            for item in list.iter() {
                write_string(out, item);
            }
        }
        Value::ZSet(zset) => {
            // ZSET_2 whatever the encoding: every Redis since 4.0 loads it, and re-encodes
            // it as a listpack when it fits.
            out.push(TYPE_ZSET_2);
            write_len(out, zset.len() as u64);
            zset.for_range(0, zset.len(), |score, member| {
                write_string(out, member);
                out.extend_from_slice(&score.to_le_bytes());
            });
        }
        Value::Set(set) => write_set(out, set),
        Value::Stream(stream) => {
            out.push(stream_rdb::TYPE_STREAM_LISTPACKS_2);
            stream_rdb::write(out, stream);
        }
        Value::Suggest(dict) => write_suggestions(out, dict),
    }
}

// FUNCTION DUMP / RESTORE payloads: one entry per library, its code as an RDB string.
const OPCODE_FUNCTION2: u8 = 245;
const OPCODE_FUNCTION_PRE_GA: u8 = 246;

/// The FUNCTION DUMP payload of libraries with these codes.
pub fn dump_functions<'a>(codes: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for code in codes {
        out.push(OPCODE_FUNCTION2);
        write_string(&mut out, code);
    }
    out.extend_from_slice(&WRITE_VERSION.to_le_bytes());
    let crc = CRC64.checksum(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// The library codes of a FUNCTION RESTORE payload, or Redis's error text (without `ERR`).
pub fn restore_functions(payload: &[u8]) -> Result<Vec<Bytes>, &'static str> {
    let body = verify(payload).map_err(|_| "DUMP payload version or checksum are wrong")?;
    let mut reader = Reader::new(body);
    let mut codes = Vec::new();
    while reader.remaining() > 0 {
        match reader.byte() {
            Ok(OPCODE_FUNCTION2) => {}
            Ok(OPCODE_FUNCTION_PRE_GA) => return Err("Pre-GA function format not supported"),
            Ok(_) => return Err("given type is not a function"),
            Err(_) => return Err("can not read data type"),
        }
        codes.push(
            reader
                .string()
                .map_err(|_| "Failed loading library payload")?,
        );
    }
    Ok(codes)
}

/// Checks a RESTORE payload's version and checksum, then decodes its value, encoded as
/// Redis encodes a loaded value under `config` (a hash is a listpack exactly when within the
/// limits, whatever it was when dumped).
pub fn restore(payload: &[u8], config: &EncodingConfig) -> Result<Value, PayloadError> {
    decode(verify(payload)?, config)
}

/// The object part of a payload whose footer is valid.
fn verify(payload: &[u8]) -> Result<&[u8], PayloadError> {
    let Some(body_len) = payload.len().checked_sub(10) else {
        return Err(PayloadError::VersionOrChecksum);
    };
    let (body, footer) = payload.split_at(body_len);
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    let mut crc = [0u8; 8];
    crc.copy_from_slice(&footer[2..]);
    if version > READ_VERSION || CRC64.checksum(&payload[..body_len + 2]) != u64::from_le_bytes(crc)
    {
        return Err(PayloadError::VersionOrChecksum);
    }
    Ok(body)
}

/// Decodes `<type byte><object>`. Bytes after the object are ignored, as Redis does.
fn decode(body: &[u8], config: &EncodingConfig) -> Result<Value, PayloadError> {
    let mut r = Reader::new(body);
    let kind = r.byte()?;
    read_object(&mut r, kind, config)
}

/// Reads the object of type `kind` at the reader's position (the part after the type byte),
/// encoded as Redis encodes a loaded value under `config`.
pub fn read_object(
    r: &mut Reader,
    kind: u8,
    config: &EncodingConfig,
) -> Result<Value, PayloadError> {
    let limits = &config.hash;
    let value = match kind {
        TYPE_STRING => Value::Str(StrValue::new(r.string()?, config)),
        TYPE_HASH => {
            let pairs = r.plain_len()?;
            // The count is untrusted: each pair takes at least two bytes.
            let mut fields = Vec::with_capacity(pairs.min(r.remaining() / 2));
            for _ in 0..pairs {
                fields.push(r.string()?);
                fields.push(r.string()?);
            }
            hash_from(fields, limits)?
        }
        TYPE_HASH_ZIPMAP => hash_from(zipmap_entries(&r.string()?)?, limits)?,
        TYPE_HASH_ZIPLIST => hash_from(ziplist_entries(&r.string()?)?, limits)?,
        TYPE_HASH_LISTPACK => hash_from(listpack_entries(&r.string()?)?, limits)?,
        kind @ (stream_rdb::TYPE_STREAM_LISTPACKS
        | stream_rdb::TYPE_STREAM_LISTPACKS_2
        | stream_rdb::TYPE_STREAM_LISTPACKS_3) => Value::Stream(stream_rdb::read(r, kind)?),
        TYPE_LIST => {
            let count = r.plain_len()?;
            // The count is untrusted: each element takes at least one byte.
            let mut items = Vec::with_capacity(count.min(r.remaining()));
            for _ in 0..count {
                items.push(r.string()?);
            }
            list_from(items, config)?
        }
        TYPE_LIST_ZIPLIST => list_from(ziplist_entries(&r.string()?)?, config)?,
        TYPE_LIST_QUICKLIST | TYPE_LIST_QUICKLIST_2 => {
            let nodes = r.plain_len()?;
            let mut items = Vec::new();
            for _ in 0..nodes {
                if kind == TYPE_LIST_QUICKLIST {
                    items.extend(ziplist_entries(&r.string()?)?);
                    continue;
                }
                match r.plain_len()? {
                    QUICKLIST_NODE_PLAIN => items.push(r.string()?),
                    // Redis skips empty listpack nodes.
                    QUICKLIST_NODE_PACKED => items.extend(listpack_entries(&r.string()?)?),
                    _ => return Err(PayloadError::BadFormat),
                }
            }
            list_from(items, config)?
        }
        TYPE_SET => {
            let count = r.plain_len()?;
            let mut members = Vec::with_capacity(count.min(r.remaining()));
            for _ in 0..count {
                members.push(r.string()?);
            }
            set_from_plain(members, &config.set)?
        }
        TYPE_SET_INTSET => Value::Set(SetValue::from_integers(
            &intset_values(&r.string()?)?,
            &config.set,
        )),
        TYPE_SET_LISTPACK => {
            let entries = listpack_entries(&r.string()?)?;
            let count = entries.len();
            let members: SetMembers = entries.into_iter().collect();
            if count == 0 || members.len() != count {
                return Err(PayloadError::BadFormat);
            }
            Value::Set(SetValue::from_listpack(members, &config.set))
        }
        TYPE_ZSET | TYPE_ZSET_2 => {
            let len = r.plain_len()?;
            // Untrusted count: each element takes at least two bytes.
            let mut pairs = Vec::with_capacity(len.min(r.remaining() / 2));
            for _ in 0..len {
                let member = r.string()?;
                let score = if kind == TYPE_ZSET {
                    r.text_double()?
                } else {
                    f64::from_le_bytes(r.array()?)
                };
                pairs.push((member, score));
            }
            zset_from(pairs, &config.zset)?
        }
        TYPE_ZSET_ZIPLIST => zset_from_flat(ziplist_entries(&r.string()?)?, &config.zset)?,
        TYPE_ZSET_LISTPACK => zset_from_flat(listpack_entries(&r.string()?)?, &config.zset)?,
        TYPE_MODULE_2 => Value::Suggest(read_suggestions(r)?),
        _ => return Err(PayloadError::BadFormat),
    };
    Ok(value)
}

/// A list of `items` (an empty list is a corrupt payload), encoded as Redis 7.4 encodes a
/// loaded list.
fn list_from(items: Vec<Bytes>, config: &EncodingConfig) -> Result<Value, PayloadError> {
    if items.is_empty() {
        return Err(PayloadError::BadFormat);
    }
    Ok(Value::List(ListValue::from_items(
        items,
        config.list_max_listpack_size,
    )))
}

/// A hash from alternating fields and values; empty hashes, an odd count and repeated fields
/// are corrupt payloads.
fn hash_from(entries: Vec<Bytes>, limits: &HashLimits) -> Result<Value, PayloadError> {
    if entries.is_empty() || !entries.len().is_multiple_of(2) {
        return Err(PayloadError::BadFormat);
    }
    let mut hash = HashFields::with_capacity_and_hasher(entries.len() / 2, Default::default());
    let mut it = entries.into_iter();
    while let (Some(field), Some(value)) = (it.next(), it.next()) {
        if hash.insert(field, value).is_some() {
            return Err(PayloadError::BadFormat);
        }
    }
    Ok(Value::Hash(HashValue::loaded(hash, limits)))
}

/// A sorted set from member / score pairs; empty sets, NaN scores and repeated members are
/// corrupt payloads. Loaded as a listpack exactly when it fits `limits`.
fn zset_from(pairs: Vec<(Bytes, f64)>, limits: &ZSetLimits) -> Result<Value, PayloadError> {
    let mut seen = std::collections::HashSet::with_capacity(pairs.len());
    if pairs.is_empty()
        || pairs
            .iter()
            .any(|(m, s)| s.is_nan() || !seen.insert(m.clone()))
    {
        return Err(PayloadError::BadFormat);
    }
    Ok(Value::ZSet(ZSetValue::built(pairs, limits)))
}

/// A sorted set from a ziplist / listpack's alternating members and scores (as text). Redis
/// keeps such a set a listpack unless it has too many entries, whatever their length.
fn zset_from_flat(entries: Vec<Bytes>, limits: &ZSetLimits) -> Result<Value, PayloadError> {
    if !entries.len().is_multiple_of(2) {
        return Err(PayloadError::BadFormat);
    }
    let pairs = entries
        .chunks_exact(2)
        .map(|p| {
            let text = std::str::from_utf8(&p[1]).map_err(|_| PayloadError::BadFormat)?;
            let score = parse_double_text(text).ok_or(PayloadError::BadFormat)?;
            Ok((p[0].clone(), score))
        })
        .collect::<Result<Vec<_>, PayloadError>>()?;
    let any_length = ZSetLimits {
        value: usize::MAX,
        ..*limits
    };
    zset_from(pairs, &any_length)
}

/// A double written as text (`1.5`, `inf`, `-inf`).
fn parse_double_text(text: &str) -> Option<f64> {
    match text {
        "inf" | "+inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        _ => text.parse().ok(),
    }
}

// ---------------------------------------------------------------------------------------------
// Sets.

/// An intset as its own object (Redis 7.0 writes one for every intset-encoded set, and
/// restores it as an intset); any other set as its members, which Redis re-encodes on load.
fn write_set(out: &mut Vec<u8>, set: &SetValue) {
    if set.encoding_kind() == SetEncoding::Intset {
        out.push(TYPE_SET_INTSET);
        let values: Vec<i64> = set.into_iter().filter_map(|m| canonical_i64(m)).collect();
        let blob = intset_blob(&values);
        write_len(out, blob.len() as u64);
        out.extend_from_slice(&blob);
        return;
    }
    out.push(TYPE_SET);
    write_len(out, set.len() as u64);
    for member in set {
        write_string(out, member);
    }
}

/// Redis's intset: the width of each value (2, 4 or 8 bytes, the least that holds them all),
/// the count, then the values ascending; all little-endian.
fn intset_blob(sorted: &[i64]) -> Vec<u8> {
    let width: u32 = if sorted.iter().all(|&n| i16::try_from(n).is_ok()) {
        2
    } else if sorted.iter().all(|&n| i32::try_from(n).is_ok()) {
        4
    } else {
        8
    };
    let mut blob = Vec::with_capacity(8 + sorted.len() * width as usize);
    blob.extend_from_slice(&width.to_le_bytes());
    blob.extend_from_slice(&(sorted.len() as u32).to_le_bytes());
    for &n in sorted {
        blob.extend_from_slice(&n.to_le_bytes()[..width as usize]);
    }
    blob
}

/// The values of an intset blob, checked as Redis's deep sanitization does: a known width,
/// a count that matches the size, at least one value, strictly ascending.
fn intset_values(blob: &[u8]) -> Result<Vec<i64>, PayloadError> {
    let header = |at: usize| {
        blob.get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
            .ok_or(PayloadError::BadFormat)
    };
    let width = header(0)? as usize;
    let count = header(4)? as usize;
    if !matches!(width, 2 | 4 | 8) || count == 0 || blob.len() - 8 != count * width {
        return Err(PayloadError::BadFormat);
    }
    let values: Vec<i64> = blob[8..]
        .chunks_exact(width)
        .map(|c| match c.len() {
            2 => i64::from(i16::from_le_bytes([c[0], c[1]])),
            4 => i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            _ => {
                let mut b = [0u8; 8];
                b.copy_from_slice(c);
                i64::from_le_bytes(b)
            }
        })
        .collect();
    if values.windows(2).any(|w| w[0] >= w[1]) {
        return Err(PayloadError::BadFormat);
    }
    Ok(values)
}

/// A set loaded from its members as Redis 7.4 loads one: a hash table when more members than
/// an intset holds, else built up from an intset. Empty sets and repeated members are corrupt.
fn set_from_plain(members: Vec<Bytes>, limits: &SetLimits) -> Result<Value, PayloadError> {
    if members.is_empty() {
        return Err(PayloadError::BadFormat);
    }
    let mut set = if members.len() > limits.intset_entries.min(1 << 30) {
        SetValue::with_encoding(SetEncoding::Hashtable)
    } else {
        SetValue::default()
    };
    for member in members {
        if !set.insert(member, limits) {
            return Err(PayloadError::BadFormat);
        }
    }
    Ok(Value::Set(set))
}

// ---------------------------------------------------------------------------------------------
// Suggestion dictionaries, as RediSearch saves its `trietype0` module values: the entry count,
// then per entry its string and payload (each with a trailing NUL, an empty payload standing
// for none) and its score, every item preceded by its module opcode.

const TYPE_MODULE_2: u8 = 7;
const MODULE_OPCODE_EOF: u64 = 0;
const MODULE_OPCODE_UINT: u64 = 2;
const MODULE_OPCODE_DOUBLE: u64 = 4;
const MODULE_OPCODE_STRING: u64 = 5;
/// Encoding version 1 (with payloads): the one every RediSearch since 1.2 loads.
const TRIE_ENCVER: u64 = 1;

/// Redis's module type id: the 9-character type name in 6-bit symbols, then the encoding
/// version in the low 10 bits.
fn trie_type_id(encver: u64) -> u64 {
    const SYMBOLS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let name = b"trietype0".iter().fold(0u64, |id, c| {
        let symbol = SYMBOLS.iter().position(|s| s == c).unwrap_or(0) as u64;
        id << 6 | symbol
    });
    name << 10 | encver
}

fn write_suggestions(out: &mut Vec<u8>, dict: &SuggestValue) {
    let with_nul = |bytes: &[u8]| [bytes, b"\0"].concat();
    out.push(TYPE_MODULE_2);
    write_len(out, trie_type_id(TRIE_ENCVER));
    write_len(out, MODULE_OPCODE_UINT);
    write_len(out, dict.len() as u64);
    for (text, entry) in dict.iter() {
        write_len(out, MODULE_OPCODE_STRING);
        write_string(out, &with_nul(text));
        write_len(out, MODULE_OPCODE_DOUBLE);
        out.extend_from_slice(&f64::from(entry.score).to_le_bytes());
        write_len(out, MODULE_OPCODE_STRING);
        write_string(out, &with_nul(entry.payload.as_deref().unwrap_or_default()));
    }
    write_len(out, MODULE_OPCODE_EOF);
}

fn read_suggestions(r: &mut Reader) -> Result<SuggestValue, PayloadError> {
    let id = match r.length()? {
        Length::Plain(id) => id,
        Length::Encoded(_) => return Err(PayloadError::BadFormat),
    };
    let with_payloads = match id {
        id if id == trie_type_id(0) => false,
        id if id == trie_type_id(TRIE_ENCVER) => true,
        _ => return Err(PayloadError::BadFormat),
    };
    r.opcode(MODULE_OPCODE_UINT)?;
    let count = r.plain_len()?;
    let mut dict = SuggestValue::default();
    for _ in 0..count {
        r.opcode(MODULE_OPCODE_STRING)?;
        let text = strip_nul(r.string()?)?;
        r.opcode(MODULE_OPCODE_DOUBLE)?;
        let score = f64::from_le_bytes(r.array()?);
        let payload = if with_payloads {
            r.opcode(MODULE_OPCODE_STRING)?;
            Some(strip_nul(r.string()?)?).filter(|p| !p.is_empty())
        } else {
            None
        };
        dict.add(text, score, false, payload);
    }
    r.opcode(MODULE_OPCODE_EOF)?;
    if dict.is_empty() {
        return Err(PayloadError::BadFormat);
    }
    Ok(dict)
}

/// A module string buffer without the NUL RediSearch saves after it.
fn strip_nul(mut bytes: Bytes) -> Result<Bytes, PayloadError> {
    match bytes.last() {
        Some(0) => {
            bytes.truncate(bytes.len() - 1);
            Ok(bytes)
        }
        _ => Err(PayloadError::BadFormat),
    }
}

// ---------------------------------------------------------------------------------------------
// Lengths and strings.

pub fn write_len(out: &mut Vec<u8>, len: u64) {
    if len < 1 << 6 {
        out.push(len as u8 | LEN_6BIT << 6);
    } else if len < 1 << 14 {
        out.push((len >> 8) as u8 | LEN_14BIT << 6);
        out.push(len as u8);
    } else if let Ok(len) = u32::try_from(len) {
        out.push(LEN_32BIT);
        out.extend_from_slice(&len.to_be_bytes());
    } else {
        out.push(LEN_64BIT);
        out.extend_from_slice(&len.to_be_bytes());
    }
}

/// `rdbcompression`: whether strings are written LZF-compressed (see [`write_string`]).
/// Process-wide, set from the configuration by [`set_compression`].
static COMPRESSION: AtomicBool = AtomicBool::new(true);

/// Applies `rdbcompression` to every snapshot, AOF base and DUMP payload written from now on.
pub fn set_compression(on: bool) {
    COMPRESSION.store(on, Ordering::Relaxed);
}

/// Strings longer than this are compressed, as in Redis.
const COMPRESS_ABOVE: usize = 20;

/// Writes a string, as an integer when it is the canonical text of one that fits 32 bits (what
/// Redis does for strings of at most 11 bytes), LZF-compressed when `rdbcompression` is on,
/// it is longer than 20 bytes and compression saves at least 4 of them (Redis's rule),
/// otherwise raw.
pub fn write_string(out: &mut Vec<u8>, s: &[u8]) {
    if s.len() <= 11
        && let Some(n) = canonical_i64(s)
    {
        let encoded = LEN_ENCODED << 6;
        if let Ok(n) = i8::try_from(n) {
            out.push(encoded | ENC_INT8);
            out.extend_from_slice(&n.to_le_bytes());
            return;
        }
        if let Ok(n) = i16::try_from(n) {
            out.push(encoded | ENC_INT16);
            out.extend_from_slice(&n.to_le_bytes());
            return;
        }
        if let Ok(n) = i32::try_from(n) {
            out.push(encoded | ENC_INT32);
            out.extend_from_slice(&n.to_le_bytes());
            return;
        }
    }
    if s.len() > COMPRESS_ABOVE
        && COMPRESSION.load(Ordering::Relaxed)
        && let Ok(packed) = lzf::compress(s)
        && packed.len() + 4 <= s.len()
    {
        out.push(LEN_ENCODED << 6 | ENC_LZF);
        write_len(out, packed.len() as u64);
        write_len(out, s.len() as u64);
        out.extend_from_slice(&packed);
        return;
    }
    write_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// A length as stored: a plain count, or the kind of a specially encoded string.
enum Length {
    Plain(u64),
    Encoded(u8),
}

/// A cursor over untrusted payload bytes; every read is bounds-checked.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Set when a read wanted more bytes than were left (a truncated file, as opposed to
    /// malformed contents).
    ran_out: bool,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader {
            buf,
            pos: 0,
            ran_out: false,
        }
    }

    /// Bytes consumed so far.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Whether a read failed for lack of bytes.
    pub fn ran_out(&self) -> bool {
        self.ran_out
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn byte(&mut self) -> Result<u8, PayloadError> {
        Ok(self.take(1)?[0])
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], PayloadError> {
        if n > self.remaining() {
            self.ran_out = true;
            return Err(PayloadError::BadFormat);
        }
        let bytes = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(bytes)
    }

    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], PayloadError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn length(&mut self) -> Result<Length, PayloadError> {
        let first = self.byte()?;
        Ok(match first {
            LEN_32BIT => Length::Plain(u32::from_be_bytes(self.array()?) as u64),
            LEN_64BIT => Length::Plain(u64::from_be_bytes(self.array()?)),
            _ => match first >> 6 {
                LEN_6BIT => Length::Plain((first & 0x3f) as u64),
                LEN_14BIT => Length::Plain(((first & 0x3f) as u64) << 8 | self.byte()? as u64),
                LEN_ENCODED => Length::Encoded(first & 0x3f),
                _ => return Err(PayloadError::BadFormat),
            },
        })
    }

    /// Reads a module value's opcode; any other than `expected` is corrupt.
    fn opcode(&mut self, expected: u64) -> Result<(), PayloadError> {
        match self.plain_len()? as u64 == expected {
            true => Ok(()),
            false => Err(PayloadError::BadFormat),
        }
    }

    /// A count or size; an encoded-string marker here is corrupt.
    pub fn plain_len(&mut self) -> Result<usize, PayloadError> {
        match self.length()? {
            Length::Plain(n) => usize::try_from(n).map_err(|_| PayloadError::BadFormat),
            Length::Encoded(_) => Err(PayloadError::BadFormat),
        }
    }

    /// A double in the old text form: a length byte (253 NaN, 254 +inf, 255 -inf), then
    /// that many bytes of text.
    fn text_double(&mut self) -> Result<f64, PayloadError> {
        match self.byte()? {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            n => {
                let text = std::str::from_utf8(self.take(n as usize)?)
                    .map_err(|_| PayloadError::BadFormat)?;
                parse_double_text(text).ok_or(PayloadError::BadFormat)
            }
        }
    }

    pub fn string(&mut self) -> Result<Bytes, PayloadError> {
        let int = |n: i64| Ok(Bytes::from(itoa::Buffer::new().format(n).to_owned()));
        match self.length()? {
            Length::Plain(n) => {
                let n = usize::try_from(n).map_err(|_| PayloadError::BadFormat)?;
                Ok(Bytes::copy_from_slice(self.take(n)?))
            }
            Length::Encoded(ENC_INT8) => int(i8::from_le_bytes(self.array()?) as i64),
            Length::Encoded(ENC_INT16) => int(i16::from_le_bytes(self.array()?) as i64),
            Length::Encoded(ENC_INT32) => int(i32::from_le_bytes(self.array()?) as i64),
            Length::Encoded(ENC_LZF) => {
                let compressed_len = self.plain_len()?;
                let len = self.plain_len()?;
                let compressed = self.take(compressed_len)?;
                lzf_decompress(compressed, len)
                    .map(Bytes::from)
                    .ok_or(PayloadError::BadFormat)
            }
            Length::Encoded(_) => Err(PayloadError::BadFormat),
        }
    }
}

/// LZF expands at most this much: a 3-byte back reference copies up to 264 bytes.
const LZF_MAX_RATIO: usize = 88;

/// Decompresses LZF data (Redis's `lzf_decompress` format) that must expand to exactly `len`
/// bytes. `None` on any malformed input, and before allocating for a `len` the input could
/// never expand to.
fn lzf_decompress(input: &[u8], len: usize) -> Option<Vec<u8>> {
    if len == 0 {
        return input.is_empty().then(Vec::new);
    }
    if len > input.len().saturating_mul(LZF_MAX_RATIO) {
        return None;
    }
    lzf::decompress(input, len)
        .ok()
        .filter(|out| out.len() == len)
}

fn int_text(n: i64) -> Bytes {
    Bytes::from(itoa::Buffer::new().format(n).to_owned())
}

fn u16_le(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_le(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// A little-endian two's-complement integer of `width` bytes (1 to 8) at `at`.
fn int_le(b: &[u8], at: usize, width: usize) -> Option<i64> {
    let bytes = b.get(at..at + width)?;
    let mut wide = [0u8; 8];
    wide[..width].copy_from_slice(bytes);
    let shift = 64 - 8 * width as u32;
    Some(i64::from_le_bytes(wide) << shift >> shift)
}

// ---------------------------------------------------------------------------------------------
// Listpack (hashes since Redis 7.0): <total u32><count u16> entries... 0xFF, each entry being
// <encoding + data><back-length>.

fn listpack_entries(lp: &[u8]) -> Result<Vec<Bytes>, PayloadError> {
    parse_listpack(lp).ok_or(PayloadError::BadFormat)
}

fn parse_listpack(lp: &[u8]) -> Option<Vec<Bytes>> {
    const HEADER: usize = 6;
    const END: u8 = 0xff;
    if lp.len() < HEADER + 1 || u32_le(lp, 0)? as usize != lp.len() || lp.last() != Some(&END) {
        return None;
    }
    let count = u16_le(lp, 4)?;
    let end = lp.len() - 1;
    let mut entries = Vec::new();
    let mut p = HEADER;
    while p < end {
        let (entry, size) = listpack_entry(lp, p)?;
        let back = backlen(size);
        let back = &back.0[..back.1];
        if lp.get(p + size..p + size + back.len())? != back || p + size + back.len() > end {
            return None;
        }
        entries.push(entry);
        p += size + back.len();
    }
    // `u16::MAX` means "too many to count in the header".
    (p == end && (count == u16::MAX || count as usize == entries.len())).then_some(entries)
}

/// The entry at `p` and the size of its encoding plus data (without the back-length).
fn listpack_entry(lp: &[u8], p: usize) -> Option<(Bytes, usize)> {
    let b = *lp.get(p)?;
    let string = |start: usize, len: usize| {
        let s = lp.get(start..start.checked_add(len)?)?;
        Some((Bytes::copy_from_slice(s), start + len - p))
    };
    let int = |n: i64, size: usize| Some((int_text(n), size));
    match b {
        0x00..=0x7f => int(b as i64, 1),
        0x80..=0xbf => string(p + 1, (b & 0x3f) as usize),
        0xc0..=0xdf => {
            // 13-bit two's complement.
            let raw = ((b & 0x1f) as i64) << 8 | *lp.get(p + 1)? as i64;
            int(if raw >= 1 << 12 { raw - (1 << 13) } else { raw }, 2)
        }
        0xe0..=0xef => string(p + 2, ((b & 0x0f) as usize) << 8 | *lp.get(p + 1)? as usize),
        0xf0 => string(p + 5, u32_le(lp, p + 1)? as usize),
        0xf1 => int(int_le(lp, p + 1, 2)?, 3),
        0xf2 => int(int_le(lp, p + 1, 3)?, 4),
        0xf3 => int(int_le(lp, p + 1, 4)?, 5),
        0xf4 => int(int_le(lp, p + 1, 8)?, 9),
        _ => None,
    }
}

/// The back-length bytes Redis writes after an entry of `size` bytes, and how many there are.
fn backlen(size: usize) -> ([u8; 5], usize) {
    let n = match size {
        0..=127 => 1,
        128..16383 => 2,
        16383..2097151 => 3,
        2097151..268435455 => 4,
        _ => 5,
    };
    let mut out = [0u8; 5];
    for (i, byte) in out[..n].iter_mut().enumerate() {
        // Most significant group first; every byte but the first has the high bit set.
        let group = ((size >> (7 * (n - 1 - i))) & 0x7f) as u8;
        *byte = if i == 0 { group } else { group | 0x80 };
    }
    (out, n)
}

// ---------------------------------------------------------------------------------------------
// Ziplist (hashes before Redis 7.0): <bytes u32><tail offset u32><count u16> entries... 0xFF,
// each entry being <previous entry's size><encoding><data>.

fn ziplist_entries(zl: &[u8]) -> Result<Vec<Bytes>, PayloadError> {
    parse_ziplist(zl).ok_or(PayloadError::BadFormat)
}

fn parse_ziplist(zl: &[u8]) -> Option<Vec<Bytes>> {
    const HEADER: usize = 10;
    const END: u8 = 0xff;
    if zl.len() < HEADER + 1 || u32_le(zl, 0)? as usize != zl.len() || zl.last() != Some(&END) {
        return None;
    }
    let tail = u32_le(zl, 4)? as usize;
    let count = u16_le(zl, 8)?;
    let end = zl.len() - 1;
    let mut entries = Vec::new();
    let (mut p, mut prev_size, mut last) = (HEADER, 0, HEADER);
    while p < end {
        let (prev, prev_len) = match zl[p] {
            0..=253 => (zl[p] as usize, 1),
            254 => (u32_le(zl, p + 1)? as usize, 5),
            _ => return None,
        };
        if prev != prev_size {
            return None;
        }
        let (entry, size) = ziplist_entry(zl, p + prev_len)?;
        let size = prev_len + size;
        if p + size > end {
            return None;
        }
        entries.push(entry);
        (last, prev_size) = (p, size);
        p += size;
    }
    let count_ok = count == u16::MAX || count as usize == entries.len();
    (p == end && tail == last && count_ok).then_some(entries)
}

/// The entry whose encoding byte is at `p`, and the size of its encoding plus data.
fn ziplist_entry(zl: &[u8], p: usize) -> Option<(Bytes, usize)> {
    let b = *zl.get(p)?;
    let string = |header: usize, len: usize| {
        let start = p + header;
        let s = zl.get(start..start.checked_add(len)?)?;
        Some((Bytes::copy_from_slice(s), header + len))
    };
    let int = |width: usize| Some((int_text(int_le(zl, p + 1, width)?), 1 + width));
    match b >> 6 {
        0 => string(1, (b & 0x3f) as usize),
        1 => string(2, ((b & 0x3f) as usize) << 8 | *zl.get(p + 1)? as usize),
        2 => {
            let len = u32::from_be_bytes(zl.get(p + 1..p + 5)?.try_into().ok()?);
            string(5, len as usize)
        }
        _ => match b {
            0xc0 => int(2),
            0xd0 => int(4),
            0xe0 => int(8),
            0xf0 => int(3),
            0xfe => int(1),
            // A small integer 0..=12 held in the encoding byte itself.
            0xf1..=0xfd => Some((int_text((b & 0x0f) as i64 - 1), 1)),
            _ => None,
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Zipmap (hashes before Redis 2.6): <count u8> then <len>field<len><free>value<free bytes>...
// 0xFF, where a length is one byte below 254, or 254 followed by a little-endian u32.

fn zipmap_entries(zm: &[u8]) -> Result<Vec<Bytes>, PayloadError> {
    parse_zipmap(zm).ok_or(PayloadError::BadFormat)
}

fn parse_zipmap(zm: &[u8]) -> Option<Vec<Bytes>> {
    const END: u8 = 0xff;
    const BIG_LEN: u8 = 254;
    if zm.len() < 2 || zm.last() != Some(&END) {
        return None;
    }
    let len_at = |p: usize| -> Option<(usize, usize)> {
        match *zm.get(p)? {
            BIG_LEN => Some((u32_le(zm, p + 1)? as usize, 5)),
            END => None,
            n => Some((n as usize, 1)),
        }
    };
    let end = zm.len() - 1;
    let mut entries = Vec::new();
    let mut p = 1;
    while p < end {
        let (field_len, header) = len_at(p)?;
        p += header;
        entries.push(Bytes::copy_from_slice(
            zm.get(p..p.checked_add(field_len)?)?,
        ));
        p += field_len;
        let (value_len, header) = len_at(p)?;
        let free = *zm.get(p + header)? as usize;
        p += header + 1;
        entries.push(Bytes::copy_from_slice(
            zm.get(p..p.checked_add(value_len)?)?,
        ));
        p += value_len + free;
    }
    let pairs = entries.len() / 2;
    // The header count is only kept below 254.
    let count_ok = zm[0] >= BIG_LEN || zm[0] as usize == pairs;
    (p == end && pairs > 0 && count_ok).then_some(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Redis's default settings.
    const CONFIG: EncodingConfig = EncodingConfig::REDIS_DEFAULTS;

    #[test]
    fn zsets_from_redis_7_payloads() {
        // ZADD rz 1.5 a 2 b -inf c (a listpack) and a skiplist with a 70-byte member.
        let listpack = hex(
            "111d1d0000000600816302842d696e660581610283312e35048162020201ff0a0017dce91ab8436c89",
        );
        let Value::ZSet(z) = load(&listpack).unwrap() else {
            panic!("not a zset")
        };
        assert_eq!(z.encoding(), "listpack");
        let items: Vec<(f64, Bytes)> = z.range(0, 3);
        assert_eq!(
            items,
            [
                (f64::NEG_INFINITY, Bytes::from("c")),
                (1.5, Bytes::from("a")),
                (2.0, Bytes::from("b"))
            ]
        );
        let skiplist = hex(
            "050201620000000000000040c3094046017878e03900017878000000000000f03f0a0062197e7f1e53d643",
        );
        let value = load(&skiplist).unwrap();
        assert_eq!(value.encoding(), "skiplist");
        assert_eq!(value.as_zset().unwrap().score(b"b"), Some(2.0));
        // What we write reads back the same.
        for value in [Value::ZSet(z), value] {
            assert_eq!(load(&dump(&value)).unwrap(), value);
        }
    }

    fn load(payload: &[u8]) -> Result<Value, PayloadError> {
        restore(payload, &CONFIG)
    }

    fn str_value(s: &str) -> Value {
        Value::string(Bytes::copy_from_slice(s.as_bytes()), &CONFIG)
    }

    fn hash_value(pairs: &[(&str, &str)]) -> Value {
        let fields = pairs
            .iter()
            .map(|(f, v)| {
                (
                    Bytes::copy_from_slice(f.as_bytes()),
                    Bytes::copy_from_slice(v.as_bytes()),
                )
            })
            .collect();
        Value::Hash(HashValue::loaded(fields, &CONFIG.hash))
    }

    /// Wraps an object in a footer with a valid checksum.
    fn with_footer(body: &[u8], version: u16) -> Vec<u8> {
        let mut out = body.to_vec();
        out.extend_from_slice(&version.to_le_bytes());
        let crc = CRC64.checksum(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    // Payloads DUMPed by redis-server 7.0.15 (RDB 10) and 6.2.14 (RDB 9).
    const R70_STR_RAW: &str = "000b68656c6c6f20776f726c640a000bfc49b9a6c7a034";
    const R70_STR_INT8: &str = "00c07b0a0048e253e1007a67b9";
    const R70_STR_INT16: &str = "00c12efb0a009dab25f0f753e9b6";
    const R70_STR_INT32: &str = "00c24e61bc000a00e8848a08472ff6fb";
    const R70_STR_BIGINT: &str = "000b31323334353637383930310a00304e52d727176510";
    const R70_STR_LZF: &str = "00c3094064016161e057000161610a00e8a3b507b06df271";
    const R70_STR_LZF2: &str = "00c311407d0668656c6c6f2068e0680504776f726c640a005d287f60d35d9254";
    const R70_STR_EMPTY: &str = "00000a005d9b5c400f7fa2da";
    const R70_HASH_LISTPACK: &str = "1028280000000600846e616d650585616c6963650683616765041e0184636974790585706172697306ff0a00819ab9e5f74c186a";
    const R70_HASH_LISTPACK_INTS: &str = "104042420000000c000101dffb02c0c802f270110104836e656704f400e68ee7fdffffff098362696704f400286bee0000000009817802f2ffff7f04817902f200008004ff0a00bac07154b6377534";
    const R70_HASH_LISTPACK_LZF: &str = "10c340b6415b135b0100002800866669656c6430078676616c75652007600f0031a00f2007600f0032a00f2007600f0033a00f2007600f0034a00f2007600f0035a00f2007600f0036a00f2007600f0037a00f2007600f0038a00f2007600f0039a00f02390787600f033130088760a0400880110031c011200880110032c011200880110033c011200880110034c011200880110035c011200880110036c011200880110037c011200880110038c011200880110039c011023908ff0a0081b1a06de433ca2d";
    const R70_HASH_TABLE: &str = "040a026630c000026636c02a026635c023026634c01c026633c015026638c038026639c03f026632c00e026637c031026631c0070a0040092c8f1b7cd41a";
    const R70_HASH_LONG_VALUE: &str = "04010166c3094064017676e057000176760a009e66178459093c4e";
    const R62_HASH_ZIPLIST: &str = "0d2d2d00000025000000060000046e616d650605616c696365070361676505fe1e03046369747906057061726973ff0900339ffd7922ef1d1b";
    const R62_HASH_ZIPLIST_INTS: &str = "0d404747000000410000000c0000f202fefb03c0c80004f070110105036e656705e000e68ee7fdffffff0a0362696705e000286bee000000000a017803f0ffff7f05017903f0000080ff0900df04a1babd07990b";
    const R62_HASH_ZIPLIST_LZF: &str = "0dc340ba415f045f01000055200310280000066669656c6430080676616c75652007600f0031a00f2007600f0032a00f2007600f0033a00f2007600f0034a00f2007600f0035a00f2007600f0036a00f2007600f0037a00f2007600f0038a00f2007600f0039a00f02390807600f033130090760a0400880110031c011200880110032c011200880110033c011200880110034c011200880110035c011200880110036c011200880110037c011200880110038c011200880110039c0110139ff0900e87fcf40b7c939d8";
    const R62_STR_INT8: &str = "00c07b09009810022d54fc0408";
    // Zipmaps (pre-2.6 hashes) built by hand and accepted by redis-server 7.0.15; the second
    // has a value followed by two free bytes.
    const ZIPMAP: &str = "0907010161010062ff0a00511a439e1b5161fc";
    const ZIPMAP_FREE: &str = "090e02016201026378780163010064ff0a000f85bb4a077535e8";

    #[test]
    fn real_string_payloads() {
        let cases = [
            (R70_STR_RAW, "hello world".to_string()),
            (R70_STR_INT8, "123".into()),
            (R70_STR_INT16, "-1234".into()),
            (R70_STR_INT32, "12345678".into()),
            (R70_STR_BIGINT, "12345678901".into()),
            (R70_STR_LZF, "a".repeat(100)),
            (R70_STR_LZF2, "hello ".repeat(20) + "world"),
            (R70_STR_EMPTY, String::new()),
            (R62_STR_INT8, "123".into()),
        ];
        for (payload, expected) in cases {
            assert_eq!(load(&hex(payload)), Ok(str_value(&expected)), "{payload}");
        }
    }

    #[test]
    fn strings_dump_as_redis_dumps_them() {
        // Redis compresses long strings; everything else must be byte-identical.
        for payload in [
            R70_STR_RAW,
            R70_STR_INT8,
            R70_STR_INT16,
            R70_STR_INT32,
            R70_STR_BIGINT,
            R70_STR_EMPTY,
        ] {
            let value = load(&hex(payload)).unwrap();
            assert_eq!(dump(&value), hex(payload), "{payload}");
        }
    }

    #[test]
    fn real_hash_payloads() {
        let small = hash_value(&[("name", "alice"), ("age", "30"), ("city", "paris")]);
        let ints = hash_value(&[
            ("1", "-5"),
            ("200", "70000"),
            ("neg", "-9000000000"),
            ("big", "4000000000"),
            ("x", "8388607"),
            ("y", "-8388608"),
        ]);
        let twenty: Vec<(String, String)> = (0..20)
            .map(|i| (format!("field{i}"), format!("value{i}")))
            .collect();
        let twenty: Vec<(&str, &str)> = twenty
            .iter()
            .map(|(f, v)| (f.as_str(), v.as_str()))
            .collect();
        let twenty = hash_value(&twenty);
        let cases = [
            (R70_HASH_LISTPACK, &small),
            (R62_HASH_ZIPLIST, &small),
            (R70_HASH_LISTPACK_INTS, &ints),
            (R62_HASH_ZIPLIST_INTS, &ints),
            (R70_HASH_LISTPACK_LZF, &twenty),
            (R62_HASH_ZIPLIST_LZF, &twenty),
        ];
        for (payload, expected) in cases {
            assert_eq!(load(&hex(payload)).as_ref(), Ok(expected), "{payload}");
        }
        let long = load(&hex(R70_HASH_LONG_VALUE)).unwrap();
        assert_eq!(long, hash_value(&[("f", &"v".repeat(100))]));
        let table = load(&hex(R70_HASH_TABLE)).unwrap();
        assert_eq!(table.as_hash().unwrap().len(), 10);
        assert_eq!(table.as_hash().unwrap()[&b"f6"[..]], &b"42"[..]);
    }

    #[test]
    fn zipmaps() {
        assert_eq!(load(&hex(ZIPMAP)), Ok(hash_value(&[("a", "b")])));
        assert_eq!(
            load(&hex(ZIPMAP_FREE)),
            Ok(hash_value(&[("b", "c"), ("c", "d")]))
        );
    }

    #[test]
    fn plain_hash_dump_is_byte_identical() {
        // The decoded map keeps Redis's field order, so dumping it again gives Redis's bytes.
        let value = load(&hex(R70_HASH_TABLE)).unwrap();
        assert_eq!(dump(&value), hex(R70_HASH_TABLE));
    }

    #[test]
    fn round_trips() {
        let long = "x".repeat(70_000);
        let mut values = vec![
            str_value(""),
            str_value("0"),
            str_value("-0"),
            str_value("007"),
            str_value("+1"),
            str_value("127"),
            str_value("128"),
            str_value("-128"),
            str_value("-129"),
            str_value("32767"),
            str_value("32768"),
            str_value("2147483647"),
            str_value("2147483648"),
            str_value("-2147483648"),
            str_value("9223372036854775807"),
            str_value(&"y".repeat(63)),
            str_value(&"y".repeat(64)),
            str_value(&"y".repeat(16384)),
            str_value(&long),
            Value::string(Bytes::from_static(b"\x00\xff\r\n"), &CONFIG),
            hash_value(&[("a", "1"), ("", ""), ("big", &long)]),
        ];
        let many: Vec<(String, String)> = (0..1000)
            .map(|i| (format!("f{i}"), i.to_string()))
            .collect();
        let many: Vec<(&str, &str)> = many.iter().map(|(f, v)| (f.as_str(), v.as_str())).collect();
        values.push(hash_value(&many));
        for value in values {
            assert_eq!(load(&dump(&value)), Ok(value));
        }
    }

    #[test]
    fn accepts_versions_up_to_redis_7_4() {
        let body = &hex(R70_STR_RAW)[..13];
        for version in [6, 9, 10, 11, 12] {
            assert_eq!(
                load(&with_footer(body, version)),
                Ok(str_value("hello world"))
            );
        }
        assert_eq!(
            load(&with_footer(body, 13)),
            Err(PayloadError::VersionOrChecksum)
        );
    }

    #[test]
    fn rejects_bad_footers() {
        let mut payload = hex(R70_STR_RAW);
        let last = payload.len() - 1;
        payload[last] ^= 1;
        assert_eq!(load(&payload), Err(PayloadError::VersionOrChecksum));
        assert_eq!(load(&[0u8; 9]), Err(PayloadError::VersionOrChecksum));
        assert_eq!(load(b""), Err(PayloadError::VersionOrChecksum));
    }

    #[test]
    fn rejects_bad_objects() {
        let bad = [
            "c8",                         // unknown type
            "0100",                       // empty list
            "01020161",                   // list shorter than its count
            "1201030161",                 // quicklist node of an unknown container
            "0004616263",                 // string shorter than its length
            "00c4",                       // unknown string encoding
            "00c3",                       // LZF without lengths
            "00c302032005",               // LZF back reference before the start
            "0400",                       // empty hash
            "0401",                       // hash count with no pairs
            "04c0010161",                 // encoded string where a count belongs
            "0402016101620161016364",     // duplicate hash field
            "0d0b0b0000000a0000000000ff", // empty ziplist
            "090200ff",                   // empty zipmap
            "0908010161010062ff",         // zipmap shorter than stated
            "19070700000000 00ff",        // hash with field expiry (Redis 7.4): unsupported
        ];
        for body in bad {
            let body = hex(&body.replace(' ', ""));
            assert_eq!(
                load(&with_footer(&body, 10)),
                Err(PayloadError::BadFormat),
                "{body:02x?}"
            );
        }
    }

    /// Valid compact encodings of {"1": "2"}, then each with one defect.
    #[test]
    fn rejects_corrupt_compact_encodings() {
        let one_two = Ok(hash_value(&[("1", "2")]));
        let cases = [
            // Listpack: total size, count, entries `1` and `2` with their back-lengths, end.
            ("100b0b00000002000101020 1ff", true),
            ("100b0c00000002000101020 1ff", false), // wrong total size
            ("100b0b00000003000101020 1ff", false), // wrong count
            ("100b0b00000002000101020 2ff", false), // wrong back-length
            ("100b0b00000002000101f5 01ff", false), // invalid entry encoding
            ("100b0b000000020001010201 fe", false), // no end marker
            ("100b0b00000001000101ff0 1ff", false), // end marker before the last entry
            // Ziplist: size, tail offset, count, entries (previous size, immediate 1 / 2), end.
            ("0d0f0f0000000c0000000200 00f202f3 ff", true),
            ("0d0f0f0000000c0000000300 00f202f3 ff", false), // wrong count
            ("0d0f0f0000000a0000000200 00f202f3 ff", false), // wrong tail offset
            ("0d0f0f0000000c0000000200 00f203f3 ff", false), // wrong previous size
            ("0d0f0f0000000c0000000200 00f202ff ff", false), // end marker as an encoding
            // Zipmap: count, field `1`, value `2` with no free bytes, end.
            ("090701013101003 2ff", true),
            ("090702013101003 2ff", false), // wrong count
            ("090701013101053 2ff", false), // free bytes past the end
        ];
        for (body, valid) in cases {
            let body = hex(&body.replace(' ', ""));
            let expected = if valid {
                one_two.clone()
            } else {
                Err(PayloadError::BadFormat)
            };
            assert_eq!(load(&with_footer(&body, 10)), expected, "{body:02x?}");
        }
    }

    #[test]
    fn lzf() {
        // Literal run, then a back reference overlapping its own output.
        assert_eq!(
            lzf_decompress(&[1, b'a', b'b', 0x20, 1], 5).as_deref(),
            Some(&b"ababa"[..])
        );
        assert_eq!(lzf_decompress(&[0, b'a'], 2), None);
        assert_eq!(lzf_decompress(&[0, b'a'], usize::MAX), None);
        assert_eq!(lzf_decompress(&[], 0).as_deref(), Some(&b""[..]));
    }

    fn list_items(value: &Value) -> Vec<Bytes> {
        value.as_list().unwrap().iter().cloned().collect()
    }

    #[test]
    fn lists_from_redis_7_0_and_back() {
        // RPUSH ql a 1 bb -300: one listpack node.
        let one_node = "12010213130000000400816102010182626203ded402ff0a004eb6fdc54d9182d8";
        // RPUSH q2 a b c with list-max-listpack-size 2: two nodes.
        let two_nodes =
            "1202020d0d0000000200816102816202ff020a0a0000000100816302ff0a00a60192a8f736b5c0";
        let value = load(&hex(one_node)).unwrap();
        assert_eq!(list_items(&value), ["a", "1", "bb", "-300"]);
        assert_eq!(value.encoding(), "listpack");
        assert_eq!(list_items(&load(&hex(two_nodes)).unwrap()), ["a", "b", "c"]);
        let dumped = dump(&value);
        assert_eq!(load(&dumped).unwrap(), value);
        // Older formats: a plain list and a quicklist of ziplists.
        let plain = load(&with_footer(&hex("01020161c0ff"), 10)).unwrap();
        assert_eq!(list_items(&plain), ["a", "-1"]);
    }

    #[test]
    fn listpack_back_lengths() {
        assert_eq!(backlen(5), ([5, 0, 0, 0, 0], 1));
        assert_eq!(backlen(127).1, 1);
        assert_eq!(backlen(128), ([1, 0x80, 0, 0, 0], 2));
        assert_eq!(backlen(16383).1, 3);
        assert_eq!(backlen(300_000_000).1, 5);
    }
    fn set_members(value: &Value) -> Vec<&[u8]> {
        match value {
            Value::Set(set) => set.into_iter().map(|m| m.as_ref()).collect(),
            other => panic!("not a set: {other:?}"),
        }
    }

    #[test]
    fn real_set_payloads() {
        // SADD a 1 2 -300 70000 on Redis 7.0: an intset of 4-byte values.
        let intset =
            hex("0b180400000004000000d4feffff0100000002000000701101000a00ce0bedd980149edc");
        let value = load(&intset).unwrap();
        assert_eq!(value.encoding(), "intset");
        assert_eq!(set_members(&value), [&b"-300"[..], b"1", b"2", b"70000"]);
        assert_eq!(
            dump(&value),
            intset,
            "an intset dumps byte for byte as Redis does"
        );

        // SADD b x 1 on Redis 7.0: a plain set, a listpack once loaded here (as on 7.4).
        let plain = load(&hex("0202c00101780a002d1a8a175e6e4bd2")).unwrap();
        assert_eq!(plain.encoding(), "listpack");
        assert_eq!(set_members(&plain), [&b"1"[..], b"x"]);
        assert_eq!(load(&dump(&plain)).unwrap(), plain);

        // Redis 7.2+'s listpack set: the listpack entries of a hash payload, as members.
        // Header (total bytes, count), two 1-byte strings with their back-lengths, end.
        let lp = [13, 0, 0, 0, 2, 0, 0x81, b'a', 2, 0x81, b'b', 2, 0xff];
        let mut body = vec![TYPE_SET_LISTPACK];
        write_len(&mut body, lp.len() as u64);
        body.extend_from_slice(&lp);
        let loaded = load(&with_footer(&body, 11)).unwrap();
        assert_eq!(loaded.encoding(), "listpack");
        assert_eq!(set_members(&loaded), [&b"a"[..], b"b"]);
    }

    #[test]
    fn rejects_corrupt_sets() {
        let intset_payload = |blob: &[u8]| {
            let mut body = vec![TYPE_SET_INTSET];
            write_len(&mut body, blob.len() as u64);
            body.extend_from_slice(blob);
            with_footer(&body, 10)
        };
        let blob = |width: u32, count: u32, values: &[u8]| {
            let mut b = width.to_le_bytes().to_vec();
            b.extend_from_slice(&count.to_le_bytes());
            b.extend_from_slice(values);
            b
        };
        assert!(load(&intset_payload(&blob(2, 2, &[1, 0, 2, 0]))).is_ok());
        for bad in [
            blob(2, 2, &[2, 0, 1, 0]), // not ascending
            blob(2, 2, &[1, 0, 1, 0]), // repeated
            blob(2, 3, &[1, 0, 2, 0]), // count does not match
            blob(3, 1, &[1, 0, 0]),    // unknown width
            blob(2, 0, &[]),           // empty
        ] {
            assert_eq!(load(&intset_payload(&bad)), Err(PayloadError::BadFormat));
        }
        // A plain set with a repeated member, and an empty one.
        let mut body = vec![TYPE_SET, 2];
        write_string(&mut body, b"a");
        write_string(&mut body, b"a");
        assert_eq!(load(&with_footer(&body, 10)), Err(PayloadError::BadFormat));
        assert_eq!(
            load(&with_footer(&[TYPE_SET, 0], 10)),
            Err(PayloadError::BadFormat)
        );
    }

    #[test]
    fn big_plain_sets_load_as_hash_tables() {
        let mut body = vec![TYPE_SET];
        write_len(&mut body, 600);
        for i in 0..600 {
            write_string(&mut body, i.to_string().as_bytes());
        }
        assert_eq!(
            load(&with_footer(&body, 10)).unwrap().encoding(),
            "hashtable"
        );
    }
}
