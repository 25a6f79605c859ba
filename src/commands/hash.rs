//! Hash group: HSET, HGET and the rest of Redis's hash commands.
//!
//! Redis stores a small hash as a listpack, so its fields come back in insertion order, HDEL
//! keeps the order of the others, HRANDFIELD samples in that order and HSCAN returns
//! everything in one call with cursor 0. Larger hashes live in a hash table with no defined
//! order, iterated by cursor. [`HashValue`] records which of the two Redis would use (it
//! switches for good on the write that passes `hash-max-listpack-entries` or
//! `hash-max-listpack-value`), and these commands reproduce the matching behaviour.

use bytes::Bytes;
use rand::RngExt;

use super::args::{eq_ignore_case, parse_cursor, parse_i64};
use super::longdouble::LongDouble;
use super::table::{CommandSpec, Flags, KeyFlags, KeySpec};
use super::{Args, ExecCtx};
use crate::error::CmdError;
use crate::glob::glob_match;
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
];

/// Runs `read` on the hash at `key` (`None` when the key is missing) under the key's lock,
/// counting a keyspace hit or miss as a read command does.
fn with_hash(
    ctx: &ExecCtx,
    key: &Bytes,
    read: impl FnOnce(Option<&HashValue>) -> Result<Reply, CmdError>,
) -> Result<Reply, CmdError> {
    let mut guard = ctx.ks().lock(ctx.db(), &[key]);
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
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
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
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
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
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
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
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let current = match peek_hash(&mut guard, &key)?.and_then(|h| h.get(&field)) {
        Some(text) => parse_i64(text).map_err(|_| CmdError::HashNotInteger)?,
        None => 0,
    };
    let value = current.checked_add(by).ok_or(CmdError::Overflow)?;
    let text = Bytes::copy_from_slice(itoa::Buffer::new().format(value).as_bytes());
    hash_for_write(&mut guard, &key)?.insert(field, text, &limits);
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
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let current = match peek_hash(&mut guard, &key)?.and_then(|h| h.get(&field)) {
        Some(text) => LongDouble::parse(text).map_err(|_| CmdError::HashNotFloat)?,
        None => LongDouble::ZERO,
    };
    let text = Bytes::from(current.add_to_text(by)?);
    hash_for_write(&mut guard, &key)?.insert(field, text.clone(), &limits);
    ctx.notify(NotifyClass::HASH, "hincrbyfloat", &key);
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

/// HSCAN's options, parsed after the key is found (as Redis does).
struct ScanOptions {
    count: usize,
    pattern: Option<Bytes>,
    with_values: bool,
}

fn parse_scan_options(args: &mut Args) -> Result<ScanOptions, CmdError> {
    let mut opts = ScanOptions {
        count: 10,
        pattern: None,
        with_values: true,
    };
    while let Some(opt) = args.next() {
        let has_value = !args.is_empty();
        if eq_ignore_case(&opt, "count") && has_value {
            let count = args.next_i64()?;
            if count < 1 {
                return Err(CmdError::Syntax);
            }
            opts.count = usize::try_from(count).unwrap_or(usize::MAX);
        } else if eq_ignore_case(&opt, "match") && has_value {
            let pattern = args.next_bytes()?;
            opts.pattern = (pattern.as_ref() != b"*").then_some(pattern);
        } else if eq_ignore_case(&opt, "novalues") {
            opts.with_values = false;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok(opts)
}

fn hscan(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let cursor = parse_cursor(&args.next_bytes()?)?;
    with_hash(ctx, &key, |h| {
        let Some(h) = h else {
            return Ok(scan_reply(0, Vec::new()));
        };
        let opts = parse_scan_options(args)?;
        let mut items = Vec::new();
        let mut visit = |field: &Bytes, value: &Bytes| {
            if opts
                .pattern
                .as_ref()
                .is_some_and(|p| !glob_match(p, field, false))
            {
                return;
            }
            items.push(Reply::Bulk(field.clone()));
            if opts.with_values {
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

fn scan_reply(cursor: u64, items: Vec<Reply>) -> Reply {
    Reply::Array(vec![
        Reply::bulk_str(cursor.to_string()),
        Reply::Array(items),
    ])
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
