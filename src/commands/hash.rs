//! Hash group: HSET, HGET and the rest of Redis's hash commands.
//!
//! Redis stores a small hash as a listpack, so its fields come back in insertion order, HDEL
//! keeps the order of the others, HRANDFIELD samples in that order and HSCAN returns
//! everything in one call with cursor 0. Larger hashes live in a hash table with no defined
//! order, iterated by cursor. [`HashValue`] records which of the two Redis would use (it
//! switches for good on the write that passes `hash-max-listpack-entries` or
//! `hash-max-listpack-value`), and these commands reproduce the matching behaviour.

use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use rand::RngExt;

use super::args::{eq_ignore_case, parse_cursor, parse_i64};
use super::longdouble::LongDouble;
use super::propagate::forms;
use super::scan::{ScanOptions, scan_reply};
use super::table::{CommandSpec, Flags, KeyFlags, KeySpec};
use super::{Args, ExecCtx};
use crate::error::CmdError;
use crate::keyspace::{Guard, HashValue, Value, scan_indexmap};
use crate::protocol::{Protocol, Reply};
use crate::pubsub::NotifyClass;

const G: &str = "hash";
const RO: &[KeySpec] = &[KeySpec::key(1, KeyFlags::RO)];
const RO_ACCESS: &[KeySpec] = &[KeySpec::key(1, KeyFlags::RO_ACCESS)];
const RW_UPDATE: &[KeySpec] = &[KeySpec::key(1, KeyFlags::RW_UPDATE)];
const RW_ACCESS_UPDATE: &[KeySpec] = &[KeySpec::key(1, KeyFlags::RW_ACCESS_UPDATE)];
const READ: Flags = Flags::READONLY;
const READ_FAST: Flags = Flags::READONLY.union(Flags::FAST);
const WRITE_FAST: Flags = Flags::WRITE.union(Flags::FAST);
const GROW_FAST: Flags = Flags::WRITE.union(Flags::DENYOOM).union(Flags::FAST);

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        keys: RW_UPDATE,
        summary: "Creates or modifies the value of a field in a hash.",
        since: "2.0.0",
        ..CommandSpec::new("hset", -4, GROW_FAST, G, hset)
    },
    CommandSpec {
        keys: &[KeySpec::key(1, KeyFlags::RW_INSERT)],
        summary: "Sets the value of a field in a hash only when the field doesn't exist.",
        since: "2.0.0",
        ..CommandSpec::new("hsetnx", 4, GROW_FAST, G, hsetnx)
    },
    CommandSpec {
        keys: RW_UPDATE,
        summary: "Sets the values of multiple fields.",
        since: "2.0.0",
        ..CommandSpec::new("hmset", -4, GROW_FAST, G, hmset)
    },
    CommandSpec {
        keys: RO_ACCESS,
        summary: "Returns the value of a field in a hash.",
        since: "2.0.0",
        ..CommandSpec::new("hget", 3, READ_FAST, G, hget)
    },
    CommandSpec {
        keys: RO_ACCESS,
        summary: "Returns the values of all fields in a hash.",
        since: "2.0.0",
        ..CommandSpec::new("hmget", -3, READ_FAST, G, hmget)
    },
    CommandSpec {
        keys: RO_ACCESS,
        tips: &["nondeterministic_output_order"],
        summary: "Returns all fields and values in a hash.",
        since: "2.0.0",
        ..CommandSpec::new("hgetall", 2, READ, G, hgetall)
    },
    CommandSpec {
        keys: &[KeySpec::key(1, KeyFlags::RW.union(KeyFlags::DELETE))],
        summary: "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.",
        since: "2.0.0",
        ..CommandSpec::new("hdel", -3, WRITE_FAST, G, hdel)
    },
    CommandSpec {
        keys: RO,
        summary: "Returns the number of fields in a hash.",
        since: "2.0.0",
        ..CommandSpec::new("hlen", 2, READ_FAST, G, hlen)
    },
    CommandSpec {
        keys: RO,
        summary: "Determines whether a field exists in a hash.",
        since: "2.0.0",
        ..CommandSpec::new("hexists", 3, READ_FAST, G, hexists)
    },
    CommandSpec {
        keys: RO_ACCESS,
        tips: &["nondeterministic_output_order"],
        summary: "Returns all fields in a hash.",
        since: "2.0.0",
        ..CommandSpec::new("hkeys", 2, READ, G, hkeys)
    },
    CommandSpec {
        keys: RO_ACCESS,
        tips: &["nondeterministic_output_order"],
        summary: "Returns all values in a hash.",
        since: "2.0.0",
        ..CommandSpec::new("hvals", 2, READ, G, hvals)
    },
    CommandSpec {
        keys: RW_ACCESS_UPDATE,
        summary: "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.",
        since: "2.0.0",
        ..CommandSpec::new("hincrby", 4, GROW_FAST, G, hincrby)
    },
    CommandSpec {
        keys: RW_ACCESS_UPDATE,
        summary: "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.",
        since: "2.6.0",
        ..CommandSpec::new("hincrbyfloat", 4, GROW_FAST, G, hincrbyfloat)
    },
    CommandSpec {
        keys: RO,
        summary: "Returns the length of the value of a field.",
        since: "3.2.0",
        ..CommandSpec::new("hstrlen", 3, READ_FAST, G, hstrlen)
    },
    CommandSpec {
        keys: RO_ACCESS,
        tips: &["nondeterministic_output"],
        summary: "Returns one or more random fields from a hash.",
        since: "6.2.0",
        ..CommandSpec::new("hrandfield", -2, READ, G, hrandfield)
    },
    CommandSpec {
        keys: RO_ACCESS,
        tips: &["nondeterministic_output"],
        summary: "Iterates over fields and values of a hash.",
        since: "2.8.0",
        ..CommandSpec::new("hscan", -3, READ, G, hscan)
    },
    CommandSpec {
        keys: RW_UPDATE,
        summary: "Set expiry for hash field using relative time to expire (seconds)",
        since: "7.4.0",
        complexity: "O(N) where N is the number of specified fields",
        ..CommandSpec::new("hexpire", -6, GROW_FAST, G, hexpire)
    },
    CommandSpec {
        keys: RW_UPDATE,
        summary: "Set expiry for hash field using relative time to expire (milliseconds)",
        since: "7.4.0",
        complexity: "O(N) where N is the number of specified fields",
        ..CommandSpec::new("hpexpire", -6, GROW_FAST, G, hpexpire)
    },
    CommandSpec {
        keys: RW_UPDATE,
        summary: "Set expiry for hash field using an absolute Unix timestamp (seconds)",
        since: "7.4.0",
        complexity: "O(N) where N is the number of specified fields",
        ..CommandSpec::new("hexpireat", -6, GROW_FAST, G, hexpireat)
    },
    CommandSpec {
        keys: RW_UPDATE,
        summary: "Set expiry for hash field using an absolute Unix timestamp (milliseconds)",
        since: "7.4.0",
        complexity: "O(N) where N is the number of specified fields",
        ..CommandSpec::new("hpexpireat", -6, GROW_FAST, G, hpexpireat)
    },
    CommandSpec {
        keys: RO_ACCESS,
        summary: "Returns the TTL in seconds of a hash field.",
        since: "7.4.0",
        complexity: "O(N) where N is the number of specified fields",
        ..CommandSpec::new("httl", -5, READ_FAST, G, httl)
    },
    CommandSpec {
        keys: RO_ACCESS,
        summary: "Returns the TTL in milliseconds of a hash field.",
        since: "7.4.0",
        complexity: "O(N) where N is the number of specified fields",
        ..CommandSpec::new("hpttl", -5, READ_FAST, G, hpttl)
    },
    CommandSpec {
        keys: RO_ACCESS,
        summary: "Returns the expiration time of a hash field as a Unix timestamp, in seconds.",
        since: "7.4.0",
        complexity: "O(N) where N is the number of specified fields",
        ..CommandSpec::new("hexpiretime", -5, READ_FAST, G, hexpiretime)
    },
    CommandSpec {
        keys: RO_ACCESS,
        summary: "Returns the expiration time of a hash field as a Unix timestamp, in msec.",
        since: "7.4.0",
        complexity: "O(N) where N is the number of specified fields",
        ..CommandSpec::new("hpexpiretime", -5, READ_FAST, G, hpexpiretime)
    },
    CommandSpec {
        keys: RW_UPDATE,
        summary: "Removes the expiration time for each specified field",
        since: "7.4.0",
        complexity: "O(N) where N is the number of specified fields",
        ..CommandSpec::new("hpersist", -5, WRITE_FAST, G, hpersist)
    },
];

/// Set once any hash field has been given a TTL (only the HEXPIRE family does that).
static FIELD_TTLS_USED: AtomicBool = AtomicBool::new(false);

/// Locks `key` for a hash command and deletes the hash's fields whose TTL has passed
/// (Redis's lazy field expiry), reporting `hexpired` — and `del` when no field is left, the
/// guard then deleting the key. Every hash command starts here, so none sees an expired
/// field.
fn lock_hash<'c>(ctx: &'c ExecCtx, key: &Bytes) -> Guard<'c> {
    let mut guard = ctx.ks().lock(ctx.db(), &[key]);
    // Until a field TTL has been set, no hash can have one: skip the extra lookup.
    if !FIELD_TTLS_USED.load(Ordering::Relaxed) {
        return guard;
    }
    let now = guard.now_ms();
    let due = guard
        .peek(key)
        .is_some_and(|e| matches!(&e.value, Value::Hash(h) if h.has_expired_fields(now)));
    if due && let Some(Value::Hash(hash)) = guard.get_mut(key) {
        hash.remove_expired(now);
        let emptied = hash.is_empty();
        ctx.notify(NotifyClass::HASH, "hexpired", key);
        if emptied {
            ctx.notify(NotifyClass::GENERIC, "del", key);
        }
    }
    guard
}

/// Runs `read` on the hash at `key` (`None` when the key is missing) under the key's lock,
/// counting a keyspace hit or miss as a read command does.
fn with_hash(
    ctx: &ExecCtx,
    key: &Bytes,
    read: impl FnOnce(Option<&HashValue>) -> Result<Reply, CmdError>,
) -> Result<Reply, CmdError> {
    let mut guard = lock_hash(ctx, key);
    match guard.get(key) {
        Some(value) => read(Some(value.as_hash()?)),
        None => read(None),
    }
}

/// The hash at `key` as a write command looks it up before writing: an access, but no hit or
/// miss counted.
fn peek_hash<'g>(guard: &'g mut Guard, key: &Bytes) -> Result<Option<&'g HashValue>, CmdError> {
    guard
        .lookup_write(key)
        .map(|e| e.value.as_hash())
        .transpose()
}

/// The hash at `key` for writing, created empty when missing. A key of another type is left
/// as it is and gets WRONGTYPE.
fn hash_for_write<'g>(guard: &'g mut Guard, key: &Bytes) -> Result<&'g mut HashValue, CmdError> {
    peek_hash(guard, key)?;
    guard.get_or_insert_with(key, Value::new_hash).as_hash_mut()
}

/// HSET and HMSET: stores the field / value pairs after the key; returns how many fields are
/// new. An existing field keeps its position, as in a listpack.
fn set_pairs(ctx: &mut ExecCtx, args: &mut Args, command: &str) -> Result<i64, CmdError> {
    let key = args.next_bytes()?;
    if !args.remaining().is_multiple_of(2) {
        return Err(CmdError::wrong_arity(command));
    }
    let pairs = args.rest();
    let limits = ctx.encodings().hash;
    let mut guard = lock_hash(ctx, &key);
    let hash = hash_for_write(&mut guard, &key)?;
    let mut created = 0;
    for pair in pairs.chunks_exact(2) {
        if hash
            .insert(pair[0].clone(), pair[1].clone(), &limits)
            .is_none()
        {
            created += 1;
        }
    }
    ctx.notify(NotifyClass::HASH, "hset", &key);
    Ok(created)
}

fn hset(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    set_pairs(ctx, args, "hset").map(Reply::Integer)
}

fn hmset(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    set_pairs(ctx, args, "hmset").map(|_| Reply::ok())
}

fn hsetnx(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    let value = args.next_bytes()?;
    let limits = ctx.encodings().hash;
    let mut guard = lock_hash(ctx, &key);
    if peek_hash(&mut guard, &key)?.is_some_and(|h| h.contains_key(&field)) {
        return Ok(Reply::Integer(0));
    }
    hash_for_write(&mut guard, &key)?.insert(field, value, &limits);
    ctx.notify(NotifyClass::HASH, "hset", &key);
    Ok(Reply::Integer(1))
}

fn hget(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    with_hash(ctx, &key, |h| {
        Ok(Reply::opt_bulk(h.and_then(|h| h.get(&field)).cloned()))
    })
}

fn hmget(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let fields = args.rest();
    with_hash(ctx, &key, |h| {
        let values = fields
            .iter()
            .map(|f| Reply::opt_bulk(h.and_then(|h| h.get(f)).cloned()))
            .collect();
        Ok(Reply::Array(values))
    })
}

fn hgetall(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    with_hash(ctx, &key, |h| {
        let pairs = h
            .into_iter()
            .flatten()
            .map(|(f, v)| (Reply::Bulk(f.clone()), Reply::Bulk(v.clone())))
            .collect();
        Ok(Reply::Map(pairs))
    })
}

fn hkeys(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    with_hash(ctx, &key, |h| {
        Ok(Reply::Array(
            h.into_iter()
                .flat_map(|h| h.keys())
                .cloned()
                .map(Reply::Bulk)
                .collect(),
        ))
    })
}

fn hvals(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    with_hash(ctx, &key, |h| {
        Ok(Reply::Array(
            h.into_iter()
                .flat_map(|h| h.values())
                .cloned()
                .map(Reply::Bulk)
                .collect(),
        ))
    })
}

fn hlen(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    with_hash(ctx, &key, |h| Ok(count_reply(h.map_or(0, |h| h.len()))))
}

fn hexists(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    with_hash(ctx, &key, |h| {
        Ok(Reply::Integer(
            h.is_some_and(|h| h.contains_key(&field)).into(),
        ))
    })
}

fn hstrlen(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    with_hash(ctx, &key, |h| {
        Ok(count_reply(
            h.and_then(|h| h.get(&field)).map_or(0, Bytes::len),
        ))
    })
}

fn count_reply(n: usize) -> Reply {
    Reply::Integer(i64::try_from(n).unwrap_or(i64::MAX))
}

fn hdel(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let fields = args.rest();
    let mut guard = lock_hash(ctx, &key);
    let present = peek_hash(&mut guard, &key)?;
    // Only a hash that actually loses a field is reported as written (the lookup above
    // counted as an access either way, as Redis's write lookup does).
    if !present.is_some_and(|h| fields.iter().any(|f| h.contains_key(f))) {
        return Ok(Reply::Integer(0));
    }
    let Some(value) = guard.get_mut(&key) else {
        return Ok(Reply::Integer(0));
    };
    let hash = value.as_hash_mut()?;
    let removed = fields.iter().filter(|f| hash.remove(f).is_some()).count();
    let emptied = hash.is_empty();
    // A hash left empty is deleted by the guard when it drops.
    ctx.notify(NotifyClass::HASH, "hdel", &key);
    if emptied {
        ctx.notify(NotifyClass::GENERIC, "del", &key);
    }
    Ok(count_reply(removed))
}

fn hincrby(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    let by = args.next_i64()?;
    let limits = ctx.encodings().hash;
    let mut guard = lock_hash(ctx, &key);
    let current = match peek_hash(&mut guard, &key)?.and_then(|h| h.get(&field)) {
        Some(text) => parse_i64(text).map_err(|_| CmdError::HashNotInteger)?,
        None => 0,
    };
    let value = current.checked_add(by).ok_or(CmdError::Overflow)?;
    let text = Bytes::copy_from_slice(itoa::Buffer::new().format(value).as_bytes());
    hash_for_write(&mut guard, &key)?.update(field, text, &limits);
    ctx.notify(NotifyClass::HASH, "hincrby", &key);
    Ok(Reply::Integer(value))
}

/// Adds in Redis's `long double` and stores the sum as Redis prints it, so that, for
/// example, 0.1 + 0.2 gives `0.3` as in Redis.
fn hincrbyfloat(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    let by = LongDouble::parse(&args.next_bytes()?)?;
    if !by.is_finite() {
        return Err(CmdError::NanOrInfinityValue);
    }
    let limits = ctx.encodings().hash;
    let mut guard = lock_hash(ctx, &key);
    let current = match peek_hash(&mut guard, &key)?.and_then(|h| h.get(&field)) {
        Some(text) => LongDouble::parse(text).map_err(|_| CmdError::HashNotFloat)?,
        None => LongDouble::ZERO,
    };
    let text = Bytes::from(current.add_to_text(by)?);
    hash_for_write(&mut guard, &key)?.update(field.clone(), text.clone(), &limits);
    ctx.notify(NotifyClass::HASH, "hincrbyfloat", &key);
    // The result, not the increment: float arithmetic must not be redone on replay.
    ctx.propagate(forms::command(b"HSET", &key, &[&field, &text]));
    Ok(Reply::Bulk(text))
}

/// How HRANDFIELD was asked to sample.
struct Sample {
    /// Number of fields; negative allows repeats.
    count: i64,
    with_values: bool,
}

fn hrandfield(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let sample = match args.next() {
        None => None,
        Some(count) => {
            let count = parse_i64(&count)?;
            if count == i64::MIN {
                return Err(CmdError::CountOutOfRange);
            }
            let with_values = match (args.next(), args.is_empty()) {
                (None, _) => false,
                (Some(opt), true) if eq_ignore_case(&opt, "withvalues") => true,
                _ => return Err(CmdError::Syntax),
            };
            // Each pair is two replies; Redis refuses counts whose doubling could overflow.
            if with_values && count.unsigned_abs() > (i64::MAX / 2) as u64 {
                return Err(CmdError::ValueOutOfRange);
            }
            Some(Sample { count, with_values })
        }
    };
    let protocol = ctx.client.protocol;
    // A live hash is never empty; treating one as missing keeps the random picks in range.
    with_hash(ctx, &key, |h| match (h.filter(|h| !h.is_empty()), sample) {
        (None, None) => Ok(Reply::Nil),
        (None, Some(_)) => Ok(Reply::Array(Vec::new())),
        (Some(h), None) => {
            let pick = rand::rng().random_range(0..h.len());
            Ok(Reply::opt_bulk(h.get_index(pick).map(|(f, _)| f.clone())))
        }
        (Some(h), Some(sample)) => Ok(random_fields(h, &sample, protocol)),
    })
}

/// HRANDFIELD with a count: distinct fields for a positive count (the whole hash when it asks
/// for more, in listpack order for a compact hash), independent picks for a negative one.
fn random_fields(h: &HashValue, sample: &Sample, protocol: Protocol) -> Reply {
    let mut rng = rand::rng();
    let wanted = usize::try_from(sample.count.unsigned_abs()).unwrap_or(usize::MAX);
    let positions: Vec<usize> = if sample.count < 0 {
        // Never reserve from the client's number up front: the reply grows as it is built.
        let mut picks = Vec::with_capacity(wanted.min(1024));
        picks.extend((0..wanted).map(|_| rng.random_range(0..h.len())));
        picks
    } else if wanted >= h.len() {
        (0..h.len()).collect()
    } else {
        let mut picks = rand::seq::index::sample(&mut rng, h.len(), wanted).into_vec();
        if h.is_compact() {
            picks.sort_unstable();
        }
        picks
    };
    let entries = positions.into_iter().filter_map(|i| h.get_index(i));
    if !sample.with_values {
        return Reply::Array(entries.map(|(f, _)| Reply::Bulk(f.clone())).collect());
    }
    let pairs = entries.map(|(f, v)| [Reply::Bulk(f.clone()), Reply::Bulk(v.clone())]);
    match protocol {
        // RESP3 nests each field with its value.
        Protocol::Resp3 => Reply::Array(pairs.map(|p| Reply::Array(p.into())).collect()),
        Protocol::Resp2 => Reply::Array(pairs.flatten().collect()),
    }
}

fn hscan(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let cursor = parse_cursor(&args.next_bytes()?)?;
    with_hash(ctx, &key, |h| {
        let Some(h) = h else {
            return Ok(scan_reply(0, Vec::new()));
        };
        let opts = ScanOptions::parse(args, true)?;
        let mut items = Vec::new();
        let mut visit = |field: &Bytes, value: &Bytes| {
            if !opts.matches(field) {
                return;
            }
            items.push(Reply::Bulk(field.clone()));
            if !opts.novalues {
                items.push(Reply::Bulk(value.clone()));
            }
        };
        let next = if h.is_compact() {
            // A listpack is returned whole, whatever the cursor and COUNT.
            h.iter().for_each(|(f, v)| visit(f, v));
            0
        } else {
            let remaining = usize::try_from(cursor).unwrap_or(usize::MAX);
            scan_indexmap(h, remaining, opts.count, |f, v| visit(f, v)).0
        };
        Ok(scan_reply(next as u64, items))
    })
}

// ---------------------------------------------------------------------------------------------
// Field expiration (Redis 7.4).

/// Latest field expiry Redis accepts, in Unix milliseconds (2^48 - 1).
const MAX_FIELD_EXPIRE_MS: i64 = (1 << 48) - 1;

/// `FIELDS numfields field...` up to the end of the arguments: the fields.
fn parse_fields(args: &mut Args) -> Result<Vec<Bytes>, CmdError> {
    if !args.next().is_some_and(|k| eq_ignore_case(&k, "fields")) {
        return Err(CmdError::err(
            "Mandatory argument FIELDS is missing or not at the right position",
        ));
    }
    let count = args
        .next()
        .and_then(|n| parse_i64(&n).ok())
        .filter(|&n| n >= 1)
        .ok_or_else(|| CmdError::err("Parameter `numFields` should be greater than 0"))?;
    if usize::try_from(count).ok() != Some(args.remaining()) {
        return Err(CmdError::err(
            "The `numfields` parameter must match the number of arguments",
        ));
    }
    Ok(args.rest())
}

/// HEXPIRE's condition on the field's current TTL.
#[derive(Clone, Copy, PartialEq)]
enum ExpireCondition {
    Always,
    Nx,
    Xx,
    Gt,
    Lt,
}

impl ExpireCondition {
    /// Whether a field whose TTL is `current` (None: persistent, i.e. infinite) takes `at`.
    fn allows(self, current: Option<u64>, at: u64) -> bool {
        match (self, current) {
            (ExpireCondition::Always, _) => true,
            (ExpireCondition::Nx, current) => current.is_none(),
            (ExpireCondition::Xx, current) => current.is_some(),
            (ExpireCondition::Gt, current) => current.is_some_and(|c| at > c),
            (ExpireCondition::Lt, current) => current.is_none_or(|c| at < c),
        }
    }
}

/// Per-field replies of the HEXPIRE family.
const NO_FIELD: i64 = -2;
const CONDITION_NOT_MET: i64 = 0;
const EXPIRE_SET: i64 = 1;
const DELETED: i64 = 2;

/// HEXPIRE, HPEXPIRE, HEXPIREAT, HPEXPIREAT: `unit_ms` is 1000 for seconds, `relative`
/// adds the current time.
fn expire_fields(
    ctx: &mut ExecCtx,
    args: &mut Args,
    name: &'static str,
    unit_ms: i64,
    relative: bool,
) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut guard = lock_hash(ctx, &key);
    let exists = peek_hash(&mut guard, &key)?.is_some();
    let time = args.next_i64()?;
    if time < 0 {
        return Err(CmdError::err("invalid expire time, must be >= 0"));
    }
    let base = if relative { guard.now_ms() as i64 } else { 0 };
    let at = time
        .checked_mul(unit_ms)
        .filter(|&ms| ms <= MAX_FIELD_EXPIRE_MS - base)
        .map(|ms| ms + base)
        .ok_or(CmdError::InvalidExpire(name))?;
    let condition = match args.peek() {
        Some(a) if eq_ignore_case(a, "nx") => ExpireCondition::Nx,
        Some(a) if eq_ignore_case(a, "xx") => ExpireCondition::Xx,
        Some(a) if eq_ignore_case(a, "gt") => ExpireCondition::Gt,
        Some(a) if eq_ignore_case(a, "lt") => ExpireCondition::Lt,
        _ => ExpireCondition::Always,
    };
    if condition != ExpireCondition::Always {
        args.next();
    }
    let fields = parse_fields(args)?;
    if !exists {
        return Ok(codes_reply(fields.iter().map(|_| NO_FIELD)));
    }
    let at = u64::try_from(at).unwrap_or(0);
    let now = guard.now_ms();
    let hash = guard
        .get_mut(&key)
        .ok_or(CmdError::NoSuchKey)?
        .as_hash_mut()?;
    let (mut updated, mut deleted) = (false, false);
    let codes: Vec<i64> = fields
        .iter()
        .map(|field| {
            if !hash.contains_key(field) {
                return NO_FIELD;
            }
            if !condition.allows(hash.field_expire_at(field), at) {
                return CONDITION_NOT_MET;
            }
            if at <= now {
                hash.remove(field);
                deleted = true;
                return DELETED;
            }
            FIELD_TTLS_USED.store(true, Ordering::Relaxed);
            hash.set_field_expire(field, at);
            updated = true;
            EXPIRE_SET
        })
        .collect();
    let emptied = hash.is_empty();
    if deleted {
        ctx.notify(NotifyClass::HASH, "hexpired", &key);
    } else if updated {
        ctx.notify(NotifyClass::HASH, "hexpire", &key);
    }
    if emptied {
        ctx.notify(NotifyClass::GENERIC, "del", &key);
    }
    propagate_field_expiry(ctx, &key, &fields, &codes, at);
    Ok(codes_reply(codes))
}

/// The HEXPIRE family is propagated as what it did: HPEXPIREAT of the fields that got the
/// (absolute) time, HDEL of the ones a past time deleted.
fn propagate_field_expiry(ctx: &ExecCtx, key: &Bytes, fields: &[Bytes], codes: &[i64], at: u64) {
    let with = |code: i64| -> Vec<&[u8]> {
        let chosen = fields.iter().zip(codes).filter(|(_, c)| **c == code);
        chosen.map(|(f, _)| f.as_ref()).collect()
    };
    let (set, deleted) = (with(EXPIRE_SET), with(DELETED));
    if !set.is_empty() {
        let (at, count) = (at.to_string(), set.len().to_string());
        let mut args = vec![at.as_bytes(), b"FIELDS".as_slice(), count.as_bytes()];
        args.extend(set);
        ctx.propagate(forms::command(b"HPEXPIREAT", key, &args));
    }
    if !deleted.is_empty() {
        ctx.propagate(forms::command(b"HDEL", key, &deleted));
    }
}

fn codes_reply(codes: impl IntoIterator<Item = i64>) -> Reply {
    Reply::Array(codes.into_iter().map(Reply::Integer).collect())
}

fn hexpire(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    expire_fields(ctx, args, "hexpire", 1000, true)
}

fn hpexpire(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    expire_fields(ctx, args, "hpexpire", 1, true)
}

fn hexpireat(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    expire_fields(ctx, args, "hexpireat", 1000, false)
}

fn hpexpireat(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    expire_fields(ctx, args, "hpexpireat", 1, false)
}

/// HTTL, HPTTL, HEXPIRETIME, HPEXPIRETIME: per field -2 (no field), -1 (no TTL) or the
/// time, as `show(expire_at_ms, now_ms)`.
fn field_times(
    ctx: &mut ExecCtx,
    args: &mut Args,
    show: fn(u64, u64) -> i64,
) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut guard = lock_hash(ctx, &key);
    let now = guard.now_ms();
    let hash = read_hash(&mut guard, &key)?;
    let fields = parse_fields(args)?;
    Ok(codes_reply(fields.iter().map(|field| match hash {
        Some(h) if h.contains_key(field) => h.field_expire_at(field).map_or(-1, |at| show(at, now)),
        _ => NO_FIELD,
    })))
}

/// The hash at `key` for a read (counts a keyspace hit or miss).
fn read_hash<'g>(guard: &'g mut Guard, key: &Bytes) -> Result<Option<&'g HashValue>, CmdError> {
    guard.get(key).map(Value::as_hash).transpose()
}

fn ms_to_i64(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

fn httl(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    // Seconds round up, as in Redis.
    field_times(ctx, args, |at, now| {
        ms_to_i64(at.saturating_sub(now).div_ceil(1000))
    })
}

fn hpttl(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    field_times(ctx, args, |at, now| ms_to_i64(at.saturating_sub(now)))
}

fn hexpiretime(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    field_times(ctx, args, |at, _| ms_to_i64(at.div_ceil(1000)))
}

fn hpexpiretime(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    field_times(ctx, args, |at, _| ms_to_i64(at))
}

/// HPERSIST: per field -2 (no field), -1 (no TTL) or 1 (TTL removed).
fn hpersist(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut guard = lock_hash(ctx, &key);
    let current = read_hash(&mut guard, &key)?;
    let fields = parse_fields(args)?;
    let Some(current) = current else {
        return Ok(codes_reply(fields.iter().map(|_| NO_FIELD)));
    };
    let code = |h: &HashValue, f: &Bytes| match (h.contains_key(f), h.field_expire_at(f)) {
        (false, _) => NO_FIELD,
        (true, None) => -1,
        (true, Some(_)) => 1,
    };
    let codes: Vec<i64> = fields.iter().map(|f| code(current, f)).collect();
    if codes.contains(&1) {
        let hash = guard
            .get_mut(&key)
            .ok_or(CmdError::NoSuchKey)?
            .as_hash_mut()?;
        for field in &fields {
            hash.persist_field(field);
        }
        ctx.notify(NotifyClass::HASH, "hpersist", &key);
    }
    Ok(codes_reply(codes))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Arity, flags and key positions as Redis 7.0's `COMMAND INFO` reports them.
    #[test]
    fn rows_match_redis_command_info() {
        let expected: &[(&str, i32, &[&str])] = &[
            ("hset", -4, &["write", "denyoom", "fast"]),
            ("hsetnx", 4, &["write", "denyoom", "fast"]),
            ("hget", 3, &["readonly", "fast"]),
            ("hmget", -3, &["readonly", "fast"]),
            ("hmset", -4, &["write", "denyoom", "fast"]),
            ("hgetall", 2, &["readonly"]),
            ("hdel", -3, &["write", "fast"]),
            ("hlen", 2, &["readonly", "fast"]),
            ("hexists", 3, &["readonly", "fast"]),
            ("hkeys", 2, &["readonly"]),
            ("hvals", 2, &["readonly"]),
            ("hincrby", 4, &["write", "denyoom", "fast"]),
            ("hincrbyfloat", 4, &["write", "denyoom", "fast"]),
            ("hstrlen", 3, &["readonly", "fast"]),
            ("hrandfield", -2, &["readonly"]),
            ("hscan", -3, &["readonly"]),
            ("hexpire", -6, &["write", "denyoom", "fast"]),
            ("hpexpire", -6, &["write", "denyoom", "fast"]),
            ("hexpireat", -6, &["write", "denyoom", "fast"]),
            ("hpexpireat", -6, &["write", "denyoom", "fast"]),
            ("httl", -5, &["readonly", "fast"]),
            ("hpttl", -5, &["readonly", "fast"]),
            ("hexpiretime", -5, &["readonly", "fast"]),
            ("hpexpiretime", -5, &["readonly", "fast"]),
            ("hpersist", -5, &["write", "fast"]),
        ];
        assert_eq!(COMMANDS.len(), expected.len());
        for &(name, arity, flags) in expected {
            let spec = COMMANDS
                .iter()
                .find(|s| s.name == name)
                .unwrap_or_else(|| panic!("{name} missing"));
            assert_eq!(spec.arity, arity, "{name}");
            assert_eq!(spec.flags.names(), flags, "{name}");
            assert_eq!(spec.key_triple(), (1, 1, 1), "{name}");
            assert_eq!(spec.group, "hash");
            assert!(!spec.summary.is_empty() && !spec.since.is_empty(), "{name}");
        }
    }
}
