//! The RDB file: Redis 7.0's snapshot format, written so that Redis 7.0 and later load it
//! and read as Redis 7.x writes it (RDB versions 1 to 12).
//!
//! A file is `REDIS` + a 4-digit version, auxiliary fields (`redis-ver`, `redis-bits`, `ctime`,
//! `used-mem`, `aof-base` and, ours, one `ferrostack-ft-index` per search index), function
//! libraries (`FUNCTION2`), then per non-empty database `SELECTDB`, `RESIZEDB` and its keys —
//! each an optional `EXPIRETIME_MS`, an optional `IDLE` or `FREQ` access record, the value's
//! type byte, the key and the value in the object encoding of `keyspace::rdb` — then `EOF`
//! and the CRC-64 of everything before it. Redis ignores AUX fields it does not know, so a
//! real Redis loads our files (without the search indexes).
//!
//! Reading is all-or-nothing: [`read`] decodes the whole file into an [`Image`] (checksum
//! verified) before anything is applied, so a truncated or corrupt file changes nothing.
//! Module auxiliary data (`MODULE_AUX`) is skipped generically, as a module's values are
//! self-describing; module-typed keys load only when they are RediSearch suggestion
//! dictionaries. Reading logs what Redis logs of a file it loads (the `redis-ver`, `ctime` and
//! `used-mem` AUX fields) and, for a big file, its progress. Depends on `keyspace` and
//! `progress` only.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;

use crate::keyspace::rdb::{self, CRC64, Reader};
use crate::keyspace::{EncodingConfig, Value};
use crate::progress::Progress;

/// The version written: Redis 7.0's (it refuses anything newer).
pub const WRITE_VERSION: u16 = rdb::WRITE_VERSION;

// Opcodes (Redis's rdb.h).
const OPCODE_SLOT_INFO: u8 = 244;
const OPCODE_FUNCTION2: u8 = 245;
const OPCODE_FUNCTION_PRE_GA: u8 = 246;
const OPCODE_MODULE_AUX: u8 = 247;
const OPCODE_IDLE: u8 = 248;
const OPCODE_FREQ: u8 = 249;
const OPCODE_AUX: u8 = 250;
const OPCODE_RESIZEDB: u8 = 251;
const OPCODE_EXPIRETIME_MS: u8 = 252;
const OPCODE_EXPIRETIME: u8 = 253;
const OPCODE_SELECTDB: u8 = 254;
const OPCODE_EOF: u8 = 255;

/// The AUX field holding one search index definition.
const AUX_FT_INDEX: &[u8] = b"ferrostack-ft-index";
/// The AUX field that follows a hash with field TTLs (Redis 7.4's, which RDB 10 cannot
/// hold): each field with one and its expiry time. Redis 7.0 skips it, loading the fields
/// without TTLs.
const AUX_FIELD_TTLS: &[u8] = b"ferrostack-field-ttls";
/// The AUX field holding one FT.DICTADD dictionary.
const AUX_FT_DICT: &[u8] = b"ferrostack-ft-dict";

/// A point-in-time copy of everything a snapshot holds.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Image {
    /// Non-empty databases, ascending.
    pub dbs: Vec<DbImage>,
    /// FUNCTION LOAD libraries' code.
    pub functions: Vec<Bytes>,
    pub indexes: Vec<IndexRecord>,
    /// Spell-check dictionaries (FT.DICTADD): name and terms.
    pub dicts: Vec<(String, Vec<String>)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DbImage {
    pub db: usize,
    pub keys: Vec<KeyImage>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct KeyImage {
    pub key: Bytes,
    pub value: Value,
    /// Unix milliseconds.
    pub expire_at: Option<u64>,
    pub access: Access,
}

/// The access record saved with a key: idle time under an LRU policy, the LFU counter under
/// an LFU policy, as Redis saves them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    None,
    IdleSecs(u64),
    Freq(u8),
}

/// A search index as FT.CREATE made it: its name, the arguments after the name (with any
/// FT.ALTER additions appended), its aliases and its synonym groups (FT.SYNUPDATE).
#[derive(Debug, Clone, PartialEq)]
pub struct IndexRecord {
    pub name: String,
    pub args: Vec<Bytes>,
    pub aliases: Vec<String>,
    /// Group id and terms.
    pub synonyms: Vec<(String, Vec<String>)>,
}

impl Image {
    pub fn key_count(&self) -> usize {
        self.dbs.iter().map(|d| d.keys.len()).sum()
    }
}

/// Writes `image` as an RDB file to `out`, buffering and checksumming as it goes. Returns
/// the bytes written, or `Interrupted` as soon as `cancel` is set.
pub fn write(
    out: &mut impl Write,
    image: &Image,
    used_mem: u64,
    aof_base: bool,
    cancel: &AtomicBool,
) -> io::Result<u64> {
    let mut w = Checksummed {
        out,
        digest: CRC64.digest(),
        written: 0,
    };
    let mut buf = Vec::with_capacity(64 * 1024);
    buf.extend_from_slice(format!("REDIS{WRITE_VERSION:04}").as_bytes());
    let ctime = crate::keyspace::unix_ms() / 1000;
    let aux: [(&[u8], Vec<u8>); 5] = [
        (b"redis-ver", crate::REDIS_VERSION.as_bytes().to_vec()),
        (b"redis-bits", b"64".to_vec()),
        (b"ctime", ctime.to_string().into_bytes()),
        (b"used-mem", used_mem.to_string().into_bytes()),
        (b"aof-base", if aof_base { b"1" } else { b"0" }.to_vec()),
    ];
    for (name, value) in &aux {
        write_aux(&mut buf, name, value);
    }
    for index in &image.indexes {
        write_aux(&mut buf, AUX_FT_INDEX, &encode_index(index));
    }
    for (name, terms) in &image.dicts {
        let mut value = Vec::new();
        write_named_list(&mut value, name, terms);
        write_aux(&mut buf, AUX_FT_DICT, &value);
    }
    for code in &image.functions {
        buf.push(OPCODE_FUNCTION2);
        rdb::write_string(&mut buf, code);
    }
    let mut object = Vec::new();
    for db in &image.dbs {
        buf.push(OPCODE_SELECTDB);
        rdb::write_len(&mut buf, db.db as u64);
        buf.push(OPCODE_RESIZEDB);
        rdb::write_len(&mut buf, db.keys.len() as u64);
        let volatile = db.keys.iter().filter(|k| k.expire_at.is_some()).count();
        rdb::write_len(&mut buf, volatile as u64);
        for key in &db.keys {
            if let Some(at) = key.expire_at {
                buf.push(OPCODE_EXPIRETIME_MS);
                buf.extend_from_slice(&at.to_le_bytes());
            }
            match key.access {
                Access::None => {}
                Access::IdleSecs(secs) => {
                    buf.push(OPCODE_IDLE);
                    rdb::write_len(&mut buf, secs);
                }
                Access::Freq(counter) => {
                    buf.push(OPCODE_FREQ);
                    buf.push(counter);
                }
            }
            // The key goes between the value's type byte and its object.
            object.clear();
            rdb::write_object(&mut object, &key.value);
            buf.push(object[0]);
            rdb::write_string(&mut buf, &key.key);
            buf.extend_from_slice(&object[1..]);
            if let Value::Hash(hash) = &key.value
                && hash.has_field_ttls()
            {
                write_aux(&mut buf, AUX_FIELD_TTLS, &encode_field_ttls(hash));
            }
            if buf.len() >= 64 * 1024 {
                w.put(&buf)?;
                buf.clear();
                if cancel.load(Ordering::Relaxed) {
                    return Err(io::Error::new(io::ErrorKind::Interrupted, "save cancelled"));
                }
            }
        }
    }
    buf.push(OPCODE_EOF);
    w.put(&buf)?;
    let crc = w.digest.finalize();
    w.out.write_all(&crc.to_le_bytes())?;
    Ok(w.written + 8)
}

/// A writer that keeps the CRC-64 of what went through it.
struct Checksummed<'a, W: Write> {
    out: &'a mut W,
    digest: crc::Digest<'static, u64, crc::Table<16>>,
    written: u64,
}

impl<W: Write> Checksummed<'_, W> {
    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.digest.update(bytes);
        self.written += bytes.len() as u64;
        self.out.write_all(bytes)
    }
}

fn write_aux(buf: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    buf.push(OPCODE_AUX);
    rdb::write_string(buf, name);
    rdb::write_string(buf, value);
}

/// A hash's field TTLs: a count, then each field and its expiry time (Unix ms, 8 bytes
/// little-endian).
fn encode_field_ttls(hash: &crate::keyspace::value::HashValue) -> Vec<u8> {
    let ttls: Vec<(&Bytes, u64)> = hash
        .into_iter()
        .filter_map(|(field, _)| Some((field, hash.field_expire_at(field)?)))
        .collect();
    let mut out = Vec::new();
    rdb::write_len(&mut out, ttls.len() as u64);
    for (field, at) in ttls {
        rdb::write_string(&mut out, field);
        out.extend_from_slice(&at.to_le_bytes());
    }
    out
}

/// Gives the fields of `hash` the TTLs [`encode_field_ttls`] wrote (fields gone are skipped,
/// fields whose time has passed are removed, as Redis leaves them out of a load). `None` if
/// the value is malformed.
fn apply_field_ttls(
    value: &[u8],
    hash: &mut crate::keyspace::value::HashValue,
    now_ms: u64,
) -> Option<()> {
    let mut r = Reader::new(value);
    let count = r.plain_len().ok()?;
    for _ in 0..count {
        let field = r.string().ok()?;
        let at = u64::from_le_bytes(r.array().ok()?);
        if hash.get(&field).is_some() {
            hash.set_field_expire(&field, at);
        }
    }
    hash.remove_expired(now_ms);
    Some(())
}

/// An index record as RDB strings: name, argument count, arguments, alias count, aliases,
/// then synonym group count and each group as [`write_named_list`] writes it (files written
/// before synonyms were saved end after the aliases).
fn encode_index(index: &IndexRecord) -> Vec<u8> {
    let mut out = Vec::new();
    rdb::write_string(&mut out, index.name.as_bytes());
    rdb::write_len(&mut out, index.args.len() as u64);
    for arg in &index.args {
        rdb::write_string(&mut out, arg);
    }
    rdb::write_len(&mut out, index.aliases.len() as u64);
    for alias in &index.aliases {
        rdb::write_string(&mut out, alias.as_bytes());
    }
    rdb::write_len(&mut out, index.synonyms.len() as u64);
    for (group, terms) in &index.synonyms {
        write_named_list(&mut out, group, terms);
    }
    out
}

fn decode_index(blob: &[u8]) -> Option<IndexRecord> {
    let mut r = Reader::new(blob);
    let name = utf8(r.string().ok()?)?;
    let argc = r.plain_len().ok()?;
    let mut args = Vec::with_capacity(argc.min(r.remaining()));
    for _ in 0..argc {
        args.push(r.string().ok()?);
    }
    let aliases = read_list(&mut r)?;
    let mut synonyms = Vec::new();
    if r.remaining() > 0 {
        let groups = r.plain_len().ok()?;
        for _ in 0..groups {
            synonyms.push(read_named_list(&mut r)?);
        }
    }
    Some(IndexRecord {
        name,
        args,
        aliases,
        synonyms,
    })
}

/// A name, then a count and that many strings (a dictionary, a synonym group).
fn write_named_list(out: &mut Vec<u8>, name: &str, items: &[String]) {
    rdb::write_string(out, name.as_bytes());
    rdb::write_len(out, items.len() as u64);
    for item in items {
        rdb::write_string(out, item.as_bytes());
    }
}

fn read_named_list(r: &mut Reader) -> Option<(String, Vec<String>)> {
    let name = utf8(r.string().ok()?)?;
    Some((name, read_list(r)?))
}

/// A count and that many UTF-8 strings.
fn read_list(r: &mut Reader) -> Option<Vec<String>> {
    let count = r.plain_len().ok()?;
    let mut items = Vec::with_capacity(count.min(r.remaining()));
    for _ in 0..count {
        items.push(utf8(r.string().ok()?)?);
    }
    Some(items)
}

fn utf8(bytes: Bytes) -> Option<String> {
    String::from_utf8(bytes.to_vec()).ok()
}

/// Why a file cannot be loaded. Displayed as Redis logs the same failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    /// The file ends before its EOF opcode and checksum.
    ShortRead,
    Checksum {
        expected: u64,
        got: u64,
    },
    Signature,
    Version(u16),
    /// Malformed contents at a byte offset.
    Corrupt {
        offset: usize,
        what: String,
    },
    /// A database number beyond the `databases` setting.
    TooManyDbs(usize),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::ShortRead => {
                write!(
                    f,
                    "Short read or OOM loading DB. Unrecoverable error, aborting now."
                )
            }
            LoadError::Checksum { expected, got } => write!(
                f,
                "Wrong RDB checksum expected: ({expected:x}) but got ({got:x}). Aborting now."
            ),
            LoadError::Signature => write!(f, "Wrong signature trying to load DB from file"),
            LoadError::Version(v) => write!(f, "Can't handle RDB format version {v}"),
            LoadError::Corrupt { offset, what } => {
                write!(f, "Internal error in RDB reading offset {offset} -> {what}")
            }
            LoadError::TooManyDbs(n) => write!(
                f,
                "FATAL: Data file was created with a Redis server configured to handle more than {n} databases. Exiting"
            ),
        }
    }
}

/// What [`read`] found: the image of the keys still live at `now_ms`, plus counts.
#[derive(Debug, Default)]
pub struct Loaded {
    pub image: Image,
    /// Keys skipped because their expiry had passed.
    pub expired: u64,
    pub version: u16,
    /// Module auxiliary sections skipped (by module name).
    pub skipped_modules: Vec<String>,
    /// Bytes the RDB took, checksum included (an AOF base goes on with commands after it).
    pub length: usize,
}

/// Decodes a whole RDB file. Keys whose expiry is before `now_ms` are left out, as a Redis
/// master leaves them out. `databases` bounds the database numbers accepted.
pub fn read(
    file: &[u8],
    config: &EncodingConfig,
    databases: usize,
    now_ms: u64,
) -> Result<Loaded, LoadError> {
    let mut r = Reader::new(file);
    let corrupt = |r: &Reader, what: &str| {
        if r.ran_out() {
            LoadError::ShortRead
        } else {
            LoadError::Corrupt {
                offset: r.pos(),
                what: what.to_string(),
            }
        }
    };
    let magic = r.take(9).map_err(|_| LoadError::ShortRead)?;
    if &magic[..5] != b"REDIS" {
        return Err(LoadError::Signature);
    }
    let version: u16 = std::str::from_utf8(&magic[5..])
        .ok()
        .and_then(|v| v.parse().ok())
        .ok_or(LoadError::Signature)?;
    if !(1..=rdb::READ_VERSION).contains(&version) {
        return Err(LoadError::Version(version));
    }
    let mut loaded = Loaded {
        version,
        ..Loaded::default()
    };
    let mut db = 0usize;
    let mut expire_at: Option<u64> = None;
    let mut access = Access::None;
    // Whether the last key read was kept (not left out as expired).
    let mut last_loaded = false;
    // Decoding a big file takes a while before any key is applied: say how far it got.
    let mut progress = Progress::start("keys");
    let mut decoded = 0u64;
    loop {
        let opcode = r.byte().map_err(|_| corrupt(&r, "opcode"))?;
        match opcode {
            OPCODE_EOF => break,
            OPCODE_SELECTDB => {
                db = r.plain_len().map_err(|_| corrupt(&r, "SELECTDB"))?;
                if db >= databases {
                    return Err(LoadError::TooManyDbs(databases));
                }
            }
            OPCODE_RESIZEDB => {
                let keys = r.plain_len().map_err(|_| corrupt(&r, "RESIZEDB"))?;
                r.plain_len().map_err(|_| corrupt(&r, "RESIZEDB"))?;
                // The database's key count: room for them at once (bounded by the bytes
                // left, each key taking at least a few, so a lying header costs nothing).
                let room = keys.min(r.remaining() / 4);
                let image = &mut loaded.image.dbs;
                if image.last().is_none_or(|d| d.db != db) {
                    image.push(DbImage {
                        db,
                        keys: Vec::with_capacity(room),
                    });
                }
            }
            OPCODE_SLOT_INFO => {
                for _ in 0..3 {
                    r.plain_len().map_err(|_| corrupt(&r, "SLOT_INFO"))?;
                }
            }
            OPCODE_EXPIRETIME => {
                let secs = u32::from_le_bytes(r.array().map_err(|_| corrupt(&r, "EXPIRETIME"))?);
                expire_at = Some(u64::from(secs) * 1000);
            }
            OPCODE_EXPIRETIME_MS => {
                let ms = i64::from_le_bytes(r.array().map_err(|_| corrupt(&r, "EXPIRETIME"))?);
                expire_at = Some(ms.max(0) as u64);
            }
            OPCODE_IDLE => {
                let secs = r.plain_len().map_err(|_| corrupt(&r, "IDLE"))?;
                access = Access::IdleSecs(secs as u64);
            }
            OPCODE_FREQ => {
                access = Access::Freq(r.byte().map_err(|_| corrupt(&r, "FREQ"))?);
            }
            OPCODE_AUX => {
                let name = r.string().map_err(|_| corrupt(&r, "AUX name"))?;
                let value = r.string().map_err(|_| corrupt(&r, "AUX value"))?;
                if name.as_ref() == AUX_FT_INDEX {
                    let index = decode_index(&value)
                        .ok_or_else(|| corrupt(&r, "search index definition"))?;
                    loaded.image.indexes.push(index);
                } else if name.as_ref() == AUX_FIELD_TTLS {
                    // It follows its hash: the last key loaded, unless that was left out.
                    let keys = loaded.image.dbs.last_mut().map(|d| &mut d.keys);
                    if let Some(keys) = keys.filter(|_| last_loaded)
                        && let Some(Value::Hash(hash)) = keys.last_mut().map(|k| &mut k.value)
                    {
                        apply_field_ttls(&value, hash, now_ms)
                            .ok_or_else(|| corrupt(&r, "hash field TTLs"))?;
                        if hash.is_empty() {
                            // Every field's time had passed: the hash is gone, as in Redis.
                            keys.pop();
                            loaded.expired += 1;
                        }
                    }
                } else if name.as_ref() == AUX_FT_DICT {
                    let dict = read_named_list(&mut Reader::new(&value))
                        .ok_or_else(|| corrupt(&r, "search dictionary"))?;
                    loaded.image.dicts.push(dict);
                } else {
                    log_aux(&name, &value, now_ms);
                }
            }
            OPCODE_MODULE_AUX => {
                let name = skip_module_aux(&mut r).map_err(|_| corrupt(&r, "module aux"))?;
                loaded.skipped_modules.push(name);
            }
            OPCODE_FUNCTION2 => {
                let code = r.string().map_err(|_| corrupt(&r, "function library"))?;
                loaded.image.functions.push(code);
            }
            OPCODE_FUNCTION_PRE_GA => {
                return Err(LoadError::Corrupt {
                    offset: r.pos(),
                    what: "Pre-GA function format not supported".into(),
                });
            }
            kind => {
                let key = r.string().map_err(|_| corrupt(&r, "key"))?;
                let value = rdb::read_object(&mut r, kind, config).map_err(|_| {
                    let what = format!(
                        "value of key '{}' (type {kind})",
                        String::from_utf8_lossy(&key)
                    );
                    corrupt(&r, &what)
                })?;
                decoded += 1;
                let share = r.pos() as f64 / file.len() as f64;
                if let Some(report) = progress.tick(decoded, share) {
                    tracing::info!("Reading RDB file: {report}");
                }
                let at = expire_at.take();
                let record = std::mem::replace(&mut access, Access::None);
                last_loaded = at.is_none_or(|at| at >= now_ms);
                if !last_loaded {
                    loaded.expired += 1;
                    continue;
                }
                let image = &mut loaded.image.dbs;
                if image.last().is_none_or(|d| d.db != db) {
                    image.push(DbImage {
                        db,
                        keys: Vec::new(),
                    });
                }
                if let Some(d) = image.last_mut() {
                    d.keys.push(KeyImage {
                        key,
                        value,
                        expire_at: at,
                        access: record,
                    });
                }
            }
        }
    }
    let body_end = r.pos();
    if version >= 5 {
        let stored = u64::from_le_bytes(r.array().map_err(|_| LoadError::ShortRead)?);
        // Zero means the file was written with `rdbchecksum no`.
        let actual = CRC64.checksum(&file[..body_end]);
        if stored != 0 && stored != actual {
            return Err(LoadError::Checksum {
                expected: stored,
                got: actual,
            });
        }
    }
    loaded.length = r.pos();
    Ok(loaded)
}

// Module value opcodes (Redis's rdb.h `RDB_MODULE_OPCODE_*`).
const MODULE_EOF: usize = 0;
const MODULE_SINT: usize = 1;
const MODULE_UINT: usize = 2;
const MODULE_FLOAT: usize = 3;
const MODULE_DOUBLE: usize = 4;
const MODULE_STRING: usize = 5;

/// The AUX fields Redis logs as it loads a file, logged as Redis words them (a number
/// that does not parse counts as 0, as Redis's `strtol` makes it).
fn log_aux(name: &[u8], value: &[u8], now_ms: u64) {
    let text = String::from_utf8_lossy(value);
    let number = || text.parse::<i64>().unwrap_or(0);
    match name {
        b"redis-ver" => tracing::info!("Loading RDB produced by version {text}"),
        b"ctime" => {
            let age = (now_ms / 1000) as i64 - number();
            tracing::info!("RDB age {} seconds", age.max(0));
        }
        b"used-mem" => tracing::info!(
            "RDB memory usage when created {:.2} Mb",
            number() as f64 / (1024.0 * 1024.0)
        ),
        _ => {}
    }
}

/// Skips a `MODULE_AUX` section (module id, when-opcode, when, then opcode-tagged values up
/// to EOF) and returns the module's type name.
fn skip_module_aux(r: &mut Reader) -> Result<String, rdb::PayloadError> {
    let id = r.plain_len()? as u64;
    // The when-opcode and its value.
    r.plain_len()?;
    r.plain_len()?;
    loop {
        match r.plain_len()? {
            MODULE_EOF => break,
            MODULE_SINT | MODULE_UINT => {
                r.plain_len()?;
            }
            MODULE_FLOAT => {
                r.take(4)?;
            }
            MODULE_DOUBLE => {
                r.take(8)?;
            }
            MODULE_STRING => {
                r.string()?;
            }
            _ => return Err(rdb::PayloadError::BadFormat),
        }
    }
    Ok(module_name(id))
}

/// The 9-character type name a module id encodes (6 bits per character, high bits first).
fn module_name(id: u64) -> String {
    const SYMBOLS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (0..9)
        .map(|i| SYMBOLS[((id >> (10 + (8 - i) * 6)) & 63) as usize] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::StrValue;

    /// Redis's default settings.
    const CONFIG: EncodingConfig = EncodingConfig::REDIS_DEFAULTS;

    fn sample() -> Image {
        let config = CONFIG;
        let s = |v: &'static [u8]| Value::Str(StrValue::new(Bytes::from_static(v), &config));
        Image {
            dbs: vec![
                DbImage {
                    db: 0,
                    keys: vec![
                        KeyImage {
                            key: Bytes::from_static(b"a"),
                            value: s(b"1"),
                            expire_at: None,
                            access: Access::None,
                        },
                        KeyImage {
                            key: Bytes::from_static(b"b"),
                            value: s(b"hello"),
                            expire_at: Some(u64::MAX / 4),
                            access: Access::IdleSecs(7),
                        },
                    ],
                },
                DbImage {
                    db: 3,
                    keys: vec![KeyImage {
                        key: Bytes::from_static(b"c"),
                        value: s(b"x"),
                        expire_at: None,
                        access: Access::Freq(9),
                    }],
                },
            ],
            functions: vec![Bytes::from_static(b"#!lua name=lib\n")],
            indexes: vec![IndexRecord {
                name: "idx".into(),
                args: vec![Bytes::from_static(b"SCHEMA"), Bytes::from_static(b"t")],
                aliases: vec!["al".into()],
                synonyms: vec![("g1".into(), vec!["car".into(), "auto".into()])],
            }],
            dicts: vec![("d".into(), vec!["foo".into(), "bar".into()])],
        }
    }

    fn written(image: &Image) -> Vec<u8> {
        let mut out = Vec::new();
        write(&mut out, image, 0, false, &AtomicBool::new(false)).unwrap();
        out
    }

    #[test]
    fn round_trip() {
        let image = sample();
        let file = written(&image);
        assert!(file.starts_with(b"REDIS0010"));
        let loaded = read(&file, &CONFIG, 16, 0).unwrap();
        assert_eq!(loaded.image, image);
    }

    #[test]
    fn truncation_and_corruption_are_reported() {
        let file = written(&sample());
        for cut in [3, 20, file.len() / 2, file.len() - 1] {
            let err = read(&file[..cut], &CONFIG, 16, 0).unwrap_err();
            assert_eq!(err, LoadError::ShortRead, "cut at {cut}");
        }
        let mut flipped = file.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(matches!(
            read(&flipped, &CONFIG, 16, 0),
            Err(LoadError::Checksum { .. })
        ));
        assert_eq!(
            read(&file, &CONFIG, 2, 0).unwrap_err(),
            LoadError::TooManyDbs(2)
        );
    }

    #[test]
    fn expired_keys_are_left_out() {
        let file = written(&sample());
        let loaded = read(&file, &CONFIG, 16, u64::MAX / 2).unwrap();
        assert_eq!(loaded.expired, 1);
        assert_eq!(loaded.image.key_count(), 2);
    }

    #[test]
    fn module_names_decode() {
        const SYMBOLS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let id = b"ft_index0".iter().fold(0u64, |id, c| {
            id << 6 | SYMBOLS.iter().position(|s| s == c).unwrap() as u64
        }) << 10
            | 3;
        assert_eq!(module_name(id), "ft_index0");
    }
}
