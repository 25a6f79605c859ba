//! Generic group: commands on keys of any type — DEL, UNLINK, EXISTS, TYPE, RENAME, RENAMENX,
//! COPY, MOVE, KEYS, SCAN, RANDOMKEY, TOUCH, OBJECT, DUMP, RESTORE and the expiry commands
//! (EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST).
//!
//! Replies, error texts and the order in which arguments are checked follow Redis 7. The DUMP
//! payload format lives in `keyspace::rdb`.

use bytes::Bytes;

use super::args::{eq_ignore_case, parse_cursor, parse_i64};
use super::propagate::forms;
use super::table::{Acl, CommandSpec, Flags, KeyFlags, KeySpec};
use super::{Args, ExecCtx};
use crate::error::{CmdError, c_str};
use crate::glob::glob_match;
use crate::keyspace::rdb::{self, PayloadError};
use crate::keyspace::value::StrEncoding;
use crate::keyspace::{Entry, Ttl, Value, unix_ms};
use crate::protocol::Reply;
use crate::pubsub::NotifyClass;

const G: &str = "generic";
const RO: &[KeySpec] = &[KeySpec::key(1, KeyFlags::RO)];
const RO_ACCESS: &[KeySpec] = &[KeySpec::key(1, KeyFlags::RO_ACCESS)];
const RW_UPDATE: &[KeySpec] = &[KeySpec::key(1, KeyFlags::RW_UPDATE)];
/// DEL and UNLINK: every argument is a key they remove.
const REMOVED_KEYS: &[KeySpec] = &[KeySpec::range(
    1,
    -1,
    1,
    KeyFlags::RM.union(KeyFlags::DELETE),
)];
/// EXISTS and TOUCH look at every argument's key without reading its value.
const LOOKED_AT_KEYS: &[KeySpec] = &[KeySpec::range(1, -1, 1, KeyFlags::RO)];
/// RENAME / RENAMENX: the source is read and deleted, the destination written.
const RENAMED: KeyFlags = KeyFlags::RW.union(KeyFlags::ACCESS).union(KeyFlags::DELETE);
/// OBJECT subcommands take their key after the subcommand name.
const OBJECT_KEY: &[KeySpec] = &[KeySpec::key(2, KeyFlags::RO)];
/// The tip of commands whose answer depends on time or on the server's internals.
const NONDETERMINISTIC: &[&str] = &["nondeterministic_output"];
/// The tips of commands a cluster client splits over the shards of their keys and whose
/// answers it adds up.
const MULTI_SHARD_SUM: &[&str] = &["request_policy:multi_shard", "response_policy:agg_sum"];
const READ_FAST: Flags = Flags::READONLY.union(Flags::FAST);
const WRITE_FAST: Flags = Flags::WRITE.union(Flags::FAST);

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        keys: REMOVED_KEYS,
        tips: MULTI_SHARD_SUM,
        summary: "Deletes one or more keys.",
        ..CommandSpec::new("del", -2, Flags::WRITE, G, del)
    },
    CommandSpec {
        keys: REMOVED_KEYS,
        tips: MULTI_SHARD_SUM,
        summary: "Asynchronously deletes one or more keys.",
        since: "4.0.0",
        ..CommandSpec::new("unlink", -2, WRITE_FAST, G, unlink)
    },
    CommandSpec {
        keys: LOOKED_AT_KEYS,
        tips: MULTI_SHARD_SUM,
        summary: "Determines whether one or more keys exist.",
        ..CommandSpec::new("exists", -2, READ_FAST, G, exists)
    },
    CommandSpec {
        keys: RO,
        summary: "Determines the type of value stored at a key.",
        ..CommandSpec::new("type", 2, READ_FAST, G, r#type)
    },
    CommandSpec {
        keys: &[
            KeySpec::key(1, RENAMED),
            KeySpec::key(2, KeyFlags::OW_UPDATE),
        ],
        summary: "Renames a key and overwrites the destination.",
        ..CommandSpec::new("rename", 3, Flags::WRITE, G, rename)
    },
    CommandSpec {
        keys: &[
            KeySpec::key(1, RENAMED),
            KeySpec::key(2, KeyFlags::OW_INSERT),
        ],
        summary: "Renames a key only when the target key name doesn't exist.",
        ..CommandSpec::new("renamenx", 3, WRITE_FAST, G, renamenx)
    },
    CommandSpec {
        keys: &[
            KeySpec::key(1, KeyFlags::RO_ACCESS),
            KeySpec::key(2, KeyFlags::OW_UPDATE),
        ],
        summary: "Copies the value of a key to a new key.",
        since: "6.2.0",
        ..CommandSpec::new("copy", -3, Flags::WRITE.union(Flags::DENYOOM), G, copy)
    },
    CommandSpec {
        keys: &[KeySpec::key(1, KeyFlags::RW_ACCESS_UPDATE)],
        summary: "Moves a key to another database.",
        ..CommandSpec::new("move", 3, WRITE_FAST, G, r#move)
    },
    CommandSpec {
        tips: &["request_policy:all_shards", "nondeterministic_output_order"],
        acl: Acl::KEYSPACE.union(Acl::DANGEROUS),
        summary: "Returns all key names that match a pattern.",
        ..CommandSpec::new("keys", 2, Flags::READONLY, G, keys)
    },
    CommandSpec {
        tips: &["nondeterministic_output", "request_policy:special"],
        summary: "Iterates over the key names in the database.",
        since: "2.8.0",
        ..CommandSpec::new("scan", -2, Flags::READONLY, G, scan)
    },
    CommandSpec {
        tips: &["request_policy:all_shards", "nondeterministic_output"],
        summary: "Returns a random key name from the database.",
        ..CommandSpec::new("randomkey", 1, Flags::READONLY, G, randomkey)
    },
    CommandSpec {
        keys: LOOKED_AT_KEYS,
        tips: MULTI_SHARD_SUM,
        summary: "Returns the number of existing keys out of those specified after updating the time they were last accessed.",
        since: "3.2.1",
        ..CommandSpec::new("touch", -2, READ_FAST, G, touch)
    },
    CommandSpec {
        acl: Acl::empty(),
        summary: "A container for object introspection commands.",
        since: "2.2.3",
        handler: None,
        subcommands: OBJECT_SUBCOMMANDS,
        ..CommandSpec::new("object", -2, Flags::empty(), G, object_help)
    },
    CommandSpec {
        keys: RO_ACCESS,
        tips: NONDETERMINISTIC,
        summary: "Returns a serialized representation of the value stored at a key.",
        since: "2.6.0",
        ..CommandSpec::new("dump", 2, Flags::READONLY, G, dump)
    },
    CommandSpec {
        keys: &[KeySpec::key(1, KeyFlags::OW_UPDATE)],
        acl: Acl::KEYSPACE.union(Acl::DANGEROUS),
        summary: "Creates a key from the serialized representation of a value.",
        since: "2.6.0",
        ..CommandSpec::new(
            "restore",
            -4,
            Flags::WRITE.union(Flags::DENYOOM),
            G,
            restore,
        )
    },
    CommandSpec {
        keys: RW_UPDATE,
        summary: "Sets the expiration time of a key in seconds.",
        ..CommandSpec::new("expire", -3, WRITE_FAST, G, expire)
    },
    CommandSpec {
        keys: RW_UPDATE,
        summary: "Sets the expiration time of a key in milliseconds.",
        since: "2.6.0",
        ..CommandSpec::new("pexpire", -3, WRITE_FAST, G, pexpire)
    },
    CommandSpec {
        keys: RW_UPDATE,
        summary: "Sets the expiration time of a key to a Unix timestamp.",
        since: "1.2.0",
        ..CommandSpec::new("expireat", -3, WRITE_FAST, G, expireat)
    },
    CommandSpec {
        keys: RW_UPDATE,
        summary: "Sets the expiration time of a key to a Unix milliseconds timestamp.",
        since: "2.6.0",
        ..CommandSpec::new("pexpireat", -3, WRITE_FAST, G, pexpireat)
    },
    CommandSpec {
        keys: RO_ACCESS,
        tips: NONDETERMINISTIC,
        summary: "Returns the expiration time in seconds of a key.",
        ..CommandSpec::new("ttl", 2, READ_FAST, G, ttl)
    },
    CommandSpec {
        keys: RO_ACCESS,
        tips: NONDETERMINISTIC,
        summary: "Returns the expiration time in milliseconds of a key.",
        since: "2.6.0",
        ..CommandSpec::new("pttl", 2, READ_FAST, G, pttl)
    },
    CommandSpec {
        keys: RO_ACCESS,
        summary: "Returns the expiration time of a key as a Unix timestamp.",
        since: "7.0.0",
        ..CommandSpec::new("expiretime", 2, READ_FAST, G, expiretime)
    },
    CommandSpec {
        keys: RO_ACCESS,
        summary: "Returns the expiration time of a key as a Unix milliseconds timestamp.",
        since: "7.0.0",
        ..CommandSpec::new("pexpiretime", 2, READ_FAST, G, pexpiretime)
    },
    CommandSpec {
        keys: RW_UPDATE,
        summary: "Removes the expiration time of a key.",
        since: "2.2.0",
        ..CommandSpec::new("persist", 2, WRITE_FAST, G, persist)
    },
];

static OBJECT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        keys: OBJECT_KEY,
        tips: NONDETERMINISTIC,
        summary: "Returns the internal encoding of a Redis object.",
        since: "2.2.3",
        ..CommandSpec::new("encoding", 3, Flags::READONLY, G, object_encoding)
    },
    CommandSpec {
        keys: OBJECT_KEY,
        tips: NONDETERMINISTIC,
        summary: "Returns the logarithmic access frequency counter of a Redis object.",
        since: "4.0.0",
        ..CommandSpec::new("freq", 3, Flags::READONLY, G, object_freq)
    },
    CommandSpec {
        summary: "Returns helpful text about the different subcommands.",
        since: "6.2.0",
        ..CommandSpec::new(
            "help",
            2,
            Flags::LOADING.union(Flags::STALE),
            G,
            object_help,
        )
    },
    CommandSpec {
        keys: OBJECT_KEY,
        tips: NONDETERMINISTIC,
        summary: "Returns the time since the last access to a Redis object.",
        since: "2.2.3",
        ..CommandSpec::new("idletime", 3, Flags::READONLY, G, object_idletime)
    },
    CommandSpec {
        keys: OBJECT_KEY,
        tips: NONDETERMINISTIC,
        summary: "Returns the reference count of a value of a key.",
        since: "2.2.3",
        ..CommandSpec::new("refcount", 3, Flags::READONLY, G, object_refcount)
    },
];

// ---------------------------------------------------------------------------------------------
// Existence, deletion, type.

fn del(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    remove_keys(ctx, args)
}

/// Same as DEL here: Redis frees big values on a background thread, this server frees them
/// where they are removed.
fn unlink(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    remove_keys(ctx, args)
}

fn remove_keys(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let keys = args.rest();
    let mut guard = ctx.ks().lock(ctx.db(), &keys);
    let mut removed = 0;
    for key in &keys {
        if guard.remove(key).is_some() {
            ctx.notify(NotifyClass::GENERIC, "del", key);
            removed += 1;
        }
    }
    Ok(Reply::Integer(removed))
}

/// Counts every argument that names a live key, repeats included.
fn exists(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let keys = args.rest();
    let mut guard = ctx.ks().lock(ctx.db(), &keys);
    let found = keys.iter().filter(|k| guard.inspect(k).is_some()).count();
    Ok(Reply::Integer(found as i64))
}

/// Like EXISTS, but each found key counts as accessed.
fn touch(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let keys = args.rest();
    let mut guard = ctx.ks().lock(ctx.db(), &keys);
    let found = keys.iter().filter(|k| guard.get(k).is_some()).count();
    Ok(Reply::Integer(found as i64))
}

fn r#type(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let name = guard.inspect(&key).map_or("none", |e| e.value.type_name());
    Ok(Reply::simple(name))
}

// ---------------------------------------------------------------------------------------------
// Renaming and copying.

fn rename(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    rename_key(ctx, args, false)?;
    Ok(Reply::ok())
}

fn renamenx(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    Ok(Reply::Integer(rename_key(ctx, args, true)? as i64))
}

/// RENAME / RENAMENX: `ERR no such key` for a missing source; renaming a key to itself changes
/// nothing (and RENAMENX reports 0). Returns whether the key was renamed.
fn rename_key(ctx: &mut ExecCtx, args: &mut Args, only_new: bool) -> Result<bool, CmdError> {
    let from = args.next_bytes()?;
    let to = args.next_bytes()?;
    let mut guard = ctx.ks().lock(ctx.db(), &[&from, &to]);
    if !guard.touch(&from) {
        return Err(CmdError::NoSuchKey);
    }
    if from == to {
        return Ok(!only_new);
    }
    if only_new && guard.touch(&to) {
        return Ok(false);
    }
    let renamed = guard.rename(&from, &to);
    if renamed {
        ctx.notify(NotifyClass::GENERIC, "rename_from", &from);
        ctx.notify(NotifyClass::GENERIC, "rename_to", &to);
    }
    Ok(renamed)
}

/// The TTL a copied entry takes along.
fn same_expiry(entry: &Entry) -> Ttl {
    entry.expire_at.map_or(Ttl::Clear, Ttl::At)
}

/// A database index argument: an integer that fits 32 bits naming an existing database.
fn parse_db(ctx: &ExecCtx, arg: &[u8]) -> Result<usize, CmdError> {
    let n = i32::try_from(parse_i64(arg)?)
        .map_err(|_| CmdError::NotBetween(i32::MIN.into(), i32::MAX.into()))?;
    usize::try_from(n)
        .ok()
        .filter(|&db| db < ctx.ks().databases())
        .ok_or(CmdError::DbIndexOutOfRange)
}

/// COPY source destination [DB destination-db] [REPLACE]: the value and its TTL.
fn copy(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let src = args.next_bytes()?;
    let dst = args.next_bytes()?;
    let src_db = ctx.db();
    let mut dst_db = src_db;
    let mut replace = false;
    while let Some(opt) = args.next() {
        if eq_ignore_case(&opt, "replace") {
            replace = true;
        } else if eq_ignore_case(&opt, "db") && !args.is_empty() {
            dst_db = parse_db(ctx, &args.next_bytes()?)?;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    if src_db == dst_db && src == dst {
        return Err(CmdError::SameObject);
    }
    let mut guard = ctx.ks().lock_across(&[(src_db, &src), (dst_db, &dst)]);
    guard.select(src_db);
    if guard.get(&src).is_none() {
        return Ok(Reply::Integer(0));
    }
    guard.select(dst_db);
    if !replace && guard.touch(&dst) {
        return Ok(Reply::Integer(0));
    }
    guard.select(src_db);
    let Some((value, ttl)) = guard
        .peek(&src)
        .map(|e| (e.value.duplicate(), same_expiry(e)))
    else {
        return Ok(Reply::Integer(0));
    };
    guard.select(dst_db);
    guard.replace(dst.clone(), value, ttl);
    ctx.notify_in(dst_db, NotifyClass::GENERIC, "copy_to", &dst);
    Ok(Reply::Integer(1))
}

/// MOVE key db: only when the key exists here and not there; the TTL goes along.
fn r#move(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let dst_db = parse_db(ctx, &args.next_bytes()?)?;
    let src_db = ctx.db();
    if src_db == dst_db {
        return Err(CmdError::SameObject);
    }
    let mut guard = ctx.ks().lock_across(&[(src_db, &key), (dst_db, &key)]);
    guard.select(src_db);
    if !guard.touch(&key) {
        return Ok(Reply::Integer(0));
    }
    guard.select(dst_db);
    if guard.touch(&key) {
        return Ok(Reply::Integer(0));
    }
    guard.select(src_db);
    let Some(entry) = guard.remove(&key) else {
        return Ok(Reply::Integer(0));
    };
    guard.select(dst_db);
    guard.put_moved(key.clone(), entry);
    ctx.notify_in(src_db, NotifyClass::GENERIC, "move_from", &key);
    ctx.notify_in(dst_db, NotifyClass::GENERIC, "move_to", &key);
    Ok(Reply::Integer(1))
}

// ---------------------------------------------------------------------------------------------
// Listing keys.

fn keys(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let pattern = args.next_bytes()?;
    let all = pattern.as_ref() == b"*";
    let guard = ctx.ks().lock_db(ctx.db());
    let now = guard.now_ms();
    let mut found = Vec::new();
    guard.for_each(|key, entry| {
        if entry.is_live(now) && (all || glob_match(&pattern, key, false)) {
            found.push(Reply::Bulk(key.clone()));
        }
    });
    Ok(Reply::Array(found))
}

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]. A full iteration returns every key
/// present from its start to its end at least once; MATCH and TYPE filter what one step found.
/// Expired keys that match the pattern are reclaimed as the scan meets them, as in Redis.
fn scan(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let cursor = parse_cursor(&args.next_bytes()?)?;
    let mut count = 10;
    let mut pattern = None;
    let mut type_name = None;
    while let Some(opt) = args.next() {
        if eq_ignore_case(&opt, "count") && !args.is_empty() {
            let n = args.next_i64()?;
            if n < 1 {
                return Err(CmdError::Syntax);
            }
            count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if eq_ignore_case(&opt, "match") && !args.is_empty() {
            let p = args.next_bytes()?;
            pattern = (p.as_ref() != b"*").then_some(p);
        } else if eq_ignore_case(&opt, "type") && !args.is_empty() {
            // An unknown type name matches nothing (Redis 7 gives no error).
            type_name = Some(args.next_bytes()?);
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let mut guard = ctx.ks().lock_db(ctx.db());
    let mut found = Vec::new();
    let matches = |key: &Bytes| pattern.as_ref().is_none_or(|p| glob_match(p, key, false));
    let next = guard.scan(cursor, count, matches, |key, entry| {
        let type_ok = type_name
            .as_ref()
            .is_none_or(|t| t.eq_ignore_ascii_case(entry.value.type_name().as_bytes()));
        if type_ok {
            found.push(Reply::Bulk(key.clone()));
        }
    });
    Ok(Reply::Array(vec![
        Reply::bulk_str(itoa::Buffer::new().format(next)),
        Reply::Array(found),
    ]))
}

fn randomkey(ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    let mut guard = ctx.ks().lock_db(ctx.db());
    Ok(Reply::opt_bulk(guard.random_key()))
}

// ---------------------------------------------------------------------------------------------
// OBJECT.

const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

fn object_help(_ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    Ok(Reply::Array(
        OBJECT_HELP.iter().map(|line| Reply::simple(line)).collect(),
    ))
}

/// Runs `answer` on the key argument's entry, or replies nil when the key is missing. The
/// lookup counts as a read but does not refresh the access time.
fn object_lookup(
    ctx: &mut ExecCtx,
    args: &mut Args,
    answer: impl FnOnce(&Entry) -> Result<Reply, CmdError>,
) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    // OBJECT counts a miss but announces no `keymiss`, as in Redis.
    guard
        .inspect_unannounced(&key)
        .map_or(Ok(Reply::Nil), answer)
}

fn object_encoding(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    object_lookup(ctx, args, |e| Ok(Reply::bulk_str(e.value.encoding())))
}

/// Whether `maxmemory-policy` is one of the LFU policies (Redis then tracks access frequency
/// instead of access time).
fn lfu_policy(ctx: &ExecCtx) -> bool {
    ctx.ks().tracks_frequency()
}

/// The access frequency counter, tracked under an LFU `maxmemory-policy` only.
fn object_freq(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    if !lfu_policy(ctx) {
        return object_lookup(ctx, args, |_| {
            Err(CmdError::err(
                "An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
            ))
        });
    }
    let state = ctx.state;
    let now = unix_ms();
    object_lookup(ctx, args, |e| {
        Ok(Reply::Integer(state.keyspace.frequency(e, now).into()))
    })
}

fn object_idletime(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let lfu = lfu_policy(ctx);
    let state = ctx.state;
    let now = unix_ms();
    object_lookup(ctx, args, |e| {
        if lfu {
            return Err(CmdError::err(
                "An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
            ));
        }
        let idle = state.keyspace.idle_secs(e, now);
        Ok(Reply::Integer(i64::try_from(idle).unwrap_or(i64::MAX)))
    })
}

/// Values are never shared here, so this reports what Redis would: `INT_MAX` for the strings
/// it holds as one of its shared integer objects (see `StrEncoding::Int`), 1 for the rest.
fn object_refcount(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    object_lookup(ctx, args, |e| {
        let shared = matches!(&e.value, Value::Str(s)
            if s.encoding() == StrEncoding::Int { shared: true });
        Ok(Reply::Integer(if shared { i32::MAX.into() } else { 1 }))
    })
}

// ---------------------------------------------------------------------------------------------
// DUMP and RESTORE.

fn dump(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    Ok(guard.get(&key).map_or(Reply::Nil, |value| {
        Reply::Bulk(Bytes::from(rdb::dump(value)))
    }))
}

/// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME seconds | FREQ frequency].
fn restore(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let ttl_arg = args.next_bytes()?;
    let payload = args.next_bytes()?;
    let (mut replace, mut absolute) = (false, false);
    let (mut idle, mut freq) = (None, None);
    while let Some(opt) = args.next() {
        if eq_ignore_case(&opt, "replace") {
            replace = true;
        } else if eq_ignore_case(&opt, "absttl") {
            absolute = true;
        } else if eq_ignore_case(&opt, "idletime") && !args.is_empty() && freq.is_none() {
            let secs = args.next_i64()?;
            if secs < 0 {
                return Err(CmdError::err("Invalid IDLETIME value, must be >= 0"));
            }
            idle = Some(secs.unsigned_abs());
        } else if eq_ignore_case(&opt, "freq") && !args.is_empty() && idle.is_none() {
            let n = args.next_i64()?;
            if !(0..=255).contains(&n) {
                return Err(CmdError::err("Invalid FREQ value, must be >= 0 and <= 255"));
            }
            freq = u8::try_from(n).ok();
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    if !replace && guard.touch(&key) {
        return Err(CmdError::BusyKey);
    }
    let ttl = parse_i64(&ttl_arg)?;
    if ttl < 0 {
        return Err(CmdError::err("Invalid TTL value, must be >= 0"));
    }
    let value = rdb::restore(&payload, &ctx.encodings()).map_err(|e| match e {
        PayloadError::VersionOrChecksum => CmdError::DumpPayload,
        PayloadError::BadFormat => CmdError::BadDataFormat,
    })?;
    let now = guard.now_ms() as i64;
    // Redis adds without an overflow check; a wrapped time counts as already past.
    let at = if absolute { ttl } else { ttl.wrapping_add(now) };
    if ttl != 0 && at <= now {
        // Expired on arrival: nothing is created, but REPLACE still drops the old key.
        if replace && guard.remove(&key).is_some() {
            ctx.notify(NotifyClass::GENERIC, "del", &key);
        }
        return Ok(Reply::ok());
    }
    let expiry = if ttl == 0 {
        Ttl::Clear
    } else {
        Ttl::At(at.unsigned_abs())
    };
    guard.replace(key.clone(), value, expiry);
    ctx.notify(NotifyClass::GENERIC, "restore", &key);
    if ttl != 0 && !absolute {
        // As Redis: a relative TTL is propagated as the absolute time it stood for.
        let mut argv = args.argv().to_vec();
        argv[2] = Bytes::from(at.to_string());
        argv.push(Bytes::from_static(b"ABSTTL"));
        ctx.propagate(argv);
    }
    // Redis keeps a frequency under an LFU policy, an access time otherwise, and sets only
    // the one it keeps.
    if lfu_policy(ctx) {
        if let Some(counter) = freq {
            guard.set_frequency(&key, counter);
        }
    } else if let Some(secs) = idle {
        guard.set_idle(&key, secs);
    }
    Ok(Reply::ok())
}

// ---------------------------------------------------------------------------------------------
// Expiry.

fn expire(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    set_expiry(ctx, args, "expire", 1000, false)
}

fn pexpire(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    set_expiry(ctx, args, "pexpire", 1, false)
}

fn expireat(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    set_expiry(ctx, args, "expireat", 1000, true)
}

fn pexpireat(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    set_expiry(ctx, args, "pexpireat", 1, true)
}

/// The NX / XX / GT / LT conditions of the EXPIRE family.
#[derive(Default)]
struct ExpireCondition {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

impl ExpireCondition {
    fn parse(options: &[Bytes]) -> Result<ExpireCondition, CmdError> {
        let mut c = ExpireCondition::default();
        for opt in options {
            let flag = if eq_ignore_case(opt, "nx") {
                &mut c.nx
            } else if eq_ignore_case(opt, "xx") {
                &mut c.xx
            } else if eq_ignore_case(opt, "gt") {
                &mut c.gt
            } else if eq_ignore_case(opt, "lt") {
                &mut c.lt
            } else {
                return Err(CmdError::err_echo(&[
                    b"Unsupported option ",
                    c_str(opt, usize::MAX),
                ]));
            };
            *flag = true;
        }
        if c.nx && (c.xx || c.gt || c.lt) {
            return Err(CmdError::err(
                "NX and XX, GT or LT options at the same time are not compatible",
            ));
        }
        if c.gt && c.lt {
            return Err(CmdError::err(
                "GT and LT options at the same time are not compatible",
            ));
        }
        Ok(c)
    }

    /// Whether a key whose expiry is `current` (None = persistent, i.e. infinite) may get the
    /// new expiry `when`.
    fn allows(&self, current: Option<i64>, when: i64) -> bool {
        !(self.nx && current.is_some()
            || self.xx && current.is_none()
            || self.gt && current.is_none_or(|c| when <= c)
            || self.lt && current.is_some_and(|c| when >= c))
    }
}

/// EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT key time [NX | XX | GT | LT]: `unit_ms` scales the
/// time to milliseconds; relative times are added to now. A time already past deletes the key.
fn set_expiry(
    ctx: &mut ExecCtx,
    args: &mut Args,
    name: &'static str,
    unit_ms: i64,
    absolute: bool,
) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let time = args.next_bytes()?;
    let condition = ExpireCondition::parse(&args.rest())?;
    let when = parse_i64(&time)?
        .checked_mul(unit_ms)
        .ok_or(CmdError::InvalidExpire(name))?;
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let now = guard.now_ms() as i64;
    let when = when
        .checked_add(if absolute { 0 } else { now })
        .ok_or(CmdError::InvalidExpire(name))?;
    guard.touch(&key);
    let Some(current) = guard.expire_at(&key) else {
        return Ok(Reply::Integer(0));
    };
    let current = current.map(|at| i64::try_from(at).unwrap_or(i64::MAX));
    if !condition.allows(current, when) {
        return Ok(Reply::Integer(0));
    }
    if when <= now {
        guard.remove(&key);
        ctx.notify(NotifyClass::GENERIC, "del", &key);
        ctx.propagate(forms::del(&[&key]));
    } else {
        guard.set_expire(&key, Some(when.unsigned_abs()));
        ctx.notify(NotifyClass::GENERIC, "expire", &key);
        // Replayed later, a relative time would mean a later expiry.
        ctx.propagate(forms::pexpireat(&key, when.unsigned_abs()));
    }
    Ok(Reply::Integer(1))
}

fn ttl(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    report_expiry(ctx, args, false, false)
}

fn pttl(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    report_expiry(ctx, args, true, false)
}

fn expiretime(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    report_expiry(ctx, args, false, true)
}

fn pexpiretime(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    report_expiry(ctx, args, true, true)
}

/// TTL / PTTL / EXPIRETIME / PEXPIRETIME: -2 for a missing key, -1 for a persistent one,
/// otherwise the time left (or the expiry time), in seconds rounded to nearest or milliseconds.
fn report_expiry(
    ctx: &mut ExecCtx,
    args: &mut Args,
    millis: bool,
    absolute: bool,
) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let now = guard.now_ms();
    let Some(entry) = guard.inspect(&key) else {
        return Ok(Reply::Integer(-2));
    };
    let Some(at) = entry.expire_at else {
        return Ok(Reply::Integer(-1));
    };
    let ms = if absolute { at } else { at.saturating_sub(now) };
    let shown = if millis {
        ms
    } else {
        (ms.saturating_add(500)) / 1000
    };
    Ok(Reply::Integer(i64::try_from(shown).unwrap_or(i64::MAX)))
}

fn persist(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    guard.touch(&key);
    if guard.expire_at(&key).flatten().is_none() {
        return Ok(Reply::Integer(0));
    }
    guard.set_expire(&key, None);
    ctx.notify(NotifyClass::GENERIC, "persist", &key);
    Ok(Reply::Integer(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `COMMAND INFO` of redis-server 7.0.15: name, arity, flags, first key, last key, step.
    const REDIS_COMMAND_INFO: &[(&str, i32, &str, i32, i32, i32)] = &[
        ("del", -2, "write", 1, -1, 1),
        ("unlink", -2, "write fast", 1, -1, 1),
        ("exists", -2, "readonly fast", 1, -1, 1),
        ("type", 2, "readonly fast", 1, 1, 1),
        ("rename", 3, "write", 1, 2, 1),
        ("renamenx", 3, "write fast", 1, 2, 1),
        ("copy", -3, "write denyoom", 1, 2, 1),
        ("move", 3, "write fast", 1, 1, 1),
        ("keys", 2, "readonly", 0, 0, 0),
        ("scan", -2, "readonly", 0, 0, 0),
        ("randomkey", 1, "readonly", 0, 0, 0),
        ("touch", -2, "readonly fast", 1, -1, 1),
        ("object", -2, "", 0, 0, 0),
        ("object|encoding", 3, "readonly", 2, 2, 1),
        ("object|freq", 3, "readonly", 2, 2, 1),
        ("object|help", 2, "loading stale", 0, 0, 0),
        ("object|idletime", 3, "readonly", 2, 2, 1),
        ("object|refcount", 3, "readonly", 2, 2, 1),
        ("dump", 2, "readonly", 1, 1, 1),
        ("restore", -4, "write denyoom", 1, 1, 1),
        ("expire", -3, "write fast", 1, 1, 1),
        ("pexpire", -3, "write fast", 1, 1, 1),
        ("expireat", -3, "write fast", 1, 1, 1),
        ("pexpireat", -3, "write fast", 1, 1, 1),
        ("ttl", 2, "readonly fast", 1, 1, 1),
        ("pttl", 2, "readonly fast", 1, 1, 1),
        ("expiretime", 2, "readonly fast", 1, 1, 1),
        ("pexpiretime", 2, "readonly fast", 1, 1, 1),
        ("persist", 2, "write fast", 1, 1, 1),
    ];

    #[test]
    fn table_matches_redis_command_info() {
        let mut rows = 0;
        for spec in COMMANDS {
            let subs = spec
                .subcommands
                .iter()
                .map(|s| (format!("object|{}", s.name), s));
            for (name, row) in std::iter::once((spec.name.to_string(), spec)).chain(subs) {
                let redis = REDIS_COMMAND_INFO
                    .iter()
                    .find(|r| r.0 == name)
                    .unwrap_or_else(|| panic!("{name} is not a Redis generic command"));
                let (first, last, step) = row.key_triple();
                assert_eq!(
                    (row.arity, row.flags.names().join(" "), first, last, step),
                    (redis.1, redis.2.to_string(), redis.3, redis.4, redis.5),
                    "{name}"
                );
                rows += 1;
            }
        }
        assert_eq!(rows, REDIS_COMMAND_INFO.len());
    }

    #[test]
    fn expire_conditions() {
        let parse = |opts: &[&str]| {
            let opts: Vec<Bytes> = opts
                .iter()
                .map(|o| Bytes::copy_from_slice(o.as_bytes()))
                .collect();
            ExpireCondition::parse(&opts)
        };
        let gt = parse(&["GT"]).unwrap();
        assert!(!gt.allows(None, 10), "GT treats no expiry as infinite");
        assert!(gt.allows(Some(5), 10));
        assert!(!gt.allows(Some(10), 10));
        let lt = parse(&["lt"]).unwrap();
        assert!(lt.allows(None, 10));
        assert!(!lt.allows(Some(10), 10));
        let xx_gt = parse(&["XX", "GT"]).unwrap();
        assert!(!xx_gt.allows(None, 10));
        assert!(xx_gt.allows(Some(1), 10));
        assert!(parse(&["NX", "XX"]).is_err());
        assert!(parse(&["GT", "LT"]).is_err());
        assert_eq!(
            parse(&["FOO"]).err().map(|e| e.to_string()),
            Some("ERR Unsupported option FOO".to_string())
        );
    }
}
