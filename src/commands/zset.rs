//! Sorted set commands (ZADD ... ZSCAN) and the blocking BZPOPMIN BZPOPMAX BZMPOP.
//!
//! The data structure is [`ZSetValue`] (member -> score map plus an order-statistics tree);
//! this module parses arguments, applies Redis's option rules and shapes replies. Scores
//! are replied as doubles: bulk strings in RESP2, RESP3 doubles, and pairs of member and
//! score become nested `[member, score]` arrays in RESP3 where Redis 7 nests them.

use bytes::Bytes;
use rand::RngExt;

use super::args::{eq_ignore_case, parse_cursor, parse_i64};
use super::propagate::forms;
use super::scan::{ScanOptions, scan_reply};
use super::table::{CommandSpec, Flags, KeyFlags, KeySpec};
use super::{Args, ExecCtx};
use crate::blocking::{self, BlockRequest};
use crate::error::CmdError;
use crate::keyspace::zset::{LexBound, ScoreBound, ZSetLimits};
use crate::keyspace::{Guard, Ttl, Value, ZSetValue, scan_indexmap};
use crate::protocol::reply::format_double_g17;
use crate::protocol::{Protocol, Reply};
use crate::pubsub::NotifyClass;

const G: &str = "sorted-set";
const RO: &[KeySpec] = &[KeySpec::key(1, KeyFlags::RO)];
const RO_ACCESS: &[KeySpec] = &[KeySpec::key(1, KeyFlags::RO_ACCESS)];
const RW_DELETE: &[KeySpec] = &[KeySpec::key(1, KeyFlags::RW.union(KeyFlags::DELETE))];
const RW_ACCESS_DELETE: &[KeySpec] = &[KeySpec::key(1, RW_ACCESS_DELETE_FLAGS)];
const BLOCKING_KEYS: &[KeySpec] = &[KeySpec::range(1, -2, 1, RW_ACCESS_DELETE_FLAGS)];
/// ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE: the destination, then `numkeys key...`.
const STORE_KEYS: &[KeySpec] = &[
    KeySpec::key(1, KeyFlags::OW_UPDATE),
    KeySpec::keynum(2, 0, 1, 1, KeyFlags::RO_ACCESS),
];
/// ZUNION, ZINTER, ZDIFF, ZINTERCARD: `numkeys key...`.
const NUMKEYS_READ: &[KeySpec] = &[KeySpec::keynum(1, 0, 1, 1, KeyFlags::RO_ACCESS)];
const RW_ACCESS_DELETE_FLAGS: KeyFlags =
    KeyFlags::RW.union(KeyFlags::ACCESS).union(KeyFlags::DELETE);
const READ: Flags = Flags::READONLY;
const READ_FAST: Flags = Flags::READONLY.union(Flags::FAST);
const WRITE: Flags = Flags::WRITE;
const WRITE_FAST: Flags = Flags::WRITE.union(Flags::FAST);
const GROW: Flags = Flags::WRITE.union(Flags::DENYOOM);
const GROW_FAST: Flags = GROW.union(Flags::FAST);
const BLOCK_FAST: Flags = Flags::WRITE
    .union(Flags::NOSCRIPT)
    .union(Flags::BLOCKING)
    .union(Flags::FAST);

/// A row of this group's table.
const fn row(
    name: &'static str,
    arity: i32,
    flags: Flags,
    keys: &'static [KeySpec],
    since: &'static str,
    summary: &'static str,
    handler: super::table::Handler,
) -> CommandSpec {
    CommandSpec {
        keys,
        summary,
        since,
        ..CommandSpec::new(name, arity, flags, G, handler)
    }
}

/// This group's rows of the command table.
pub static COMMANDS: &[CommandSpec] = &[
    row(
        "zadd",
        -4,
        GROW_FAST,
        &[KeySpec::key(1, KeyFlags::RW_UPDATE)],
        "1.2.0",
        "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.",
        zadd,
    ),
    row(
        "zincrby",
        4,
        GROW_FAST,
        &[KeySpec::key(1, KeyFlags::RW_ACCESS_UPDATE)],
        "1.2.0",
        "Increments the score of a member in a sorted set.",
        zincrby,
    ),
    row(
        "zrem",
        -3,
        WRITE_FAST,
        RW_DELETE,
        "1.2.0",
        "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.",
        zrem,
    ),
    row(
        "zscore",
        3,
        READ_FAST,
        RO_ACCESS,
        "1.2.0",
        "Returns the score of a member in a sorted set.",
        zscore,
    ),
    row(
        "zmscore",
        -3,
        READ_FAST,
        RO_ACCESS,
        "6.2.0",
        "Returns the score of one or more members in a sorted set.",
        zmscore,
    ),
    row(
        "zcard",
        2,
        READ_FAST,
        RO,
        "1.2.0",
        "Returns the number of members in a sorted set.",
        zcard,
    ),
    row(
        "zcount",
        4,
        READ_FAST,
        RO_ACCESS,
        "2.0.0",
        "Returns the count of members in a sorted set that have scores within a range.",
        zcount,
    ),
    row(
        "zlexcount",
        4,
        READ_FAST,
        RO_ACCESS,
        "2.8.9",
        "Returns the number of members in a sorted set within a lexicographical range.",
        zlexcount,
    ),
    row(
        "zrange",
        -4,
        READ,
        RO_ACCESS,
        "1.2.0",
        "Returns members in a sorted set within a range of indexes.",
        zrange,
    ),
    row(
        "zrangestore",
        -5,
        GROW,
        &[
            KeySpec::key(1, KeyFlags::OW_UPDATE),
            KeySpec::key(2, KeyFlags::RO_ACCESS),
        ],
        "6.2.0",
        "Stores a range of members from sorted set in a key.",
        zrangestore,
    ),
    row(
        "zrevrange",
        -4,
        READ,
        RO_ACCESS,
        "1.2.0",
        "Returns members in a sorted set within a range of indexes in reverse order.",
        zrevrange,
    ),
    row(
        "zrangebyscore",
        -4,
        READ,
        RO_ACCESS,
        "1.0.5",
        "Returns members in a sorted set within a range of scores.",
        zrangebyscore,
    ),
    row(
        "zrevrangebyscore",
        -4,
        READ,
        RO_ACCESS,
        "2.2.0",
        "Returns members in a sorted set within a range of scores in reverse order.",
        zrevrangebyscore,
    ),
    row(
        "zrangebylex",
        -4,
        READ,
        RO_ACCESS,
        "2.8.9",
        "Returns members in a sorted set within a lexicographical range.",
        zrangebylex,
    ),
    row(
        "zrevrangebylex",
        -4,
        READ,
        RO_ACCESS,
        "2.8.9",
        "Returns members in a sorted set within a lexicographical range in reverse order.",
        zrevrangebylex,
    ),
    row(
        "zrank",
        -3,
        READ_FAST,
        RO_ACCESS,
        "2.0.0",
        "Returns the index of a member in a sorted set ordered by ascending scores.",
        zrank,
    ),
    row(
        "zrevrank",
        -3,
        READ_FAST,
        RO_ACCESS,
        "2.0.0",
        "Returns the index of a member in a sorted set ordered by descending scores.",
        zrevrank,
    ),
    row(
        "zremrangebyrank",
        4,
        WRITE,
        RW_DELETE,
        "2.0.0",
        "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.",
        zremrangebyrank,
    ),
    row(
        "zremrangebyscore",
        4,
        WRITE,
        RW_DELETE,
        "1.2.0",
        "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.",
        zremrangebyscore,
    ),
    row(
        "zremrangebylex",
        4,
        WRITE,
        RW_DELETE,
        "2.8.9",
        "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.",
        zremrangebylex,
    ),
    row(
        "zpopmin",
        -2,
        WRITE_FAST,
        RW_ACCESS_DELETE,
        "5.0.0",
        "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.",
        zpopmin,
    ),
    row(
        "zpopmax",
        -2,
        WRITE_FAST,
        RW_ACCESS_DELETE,
        "5.0.0",
        "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.",
        zpopmax,
    ),
    row(
        "zmpop",
        -4,
        WRITE,
        &[KeySpec::keynum(1, 0, 1, 1, RW_ACCESS_DELETE_FLAGS)],
        "7.0.0",
        "Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped.",
        zmpop,
    ),
    row(
        "bzpopmin",
        -3,
        BLOCK_FAST,
        BLOCKING_KEYS,
        "5.0.0",
        "Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.",
        bzpopmin,
    ),
    row(
        "bzpopmax",
        -3,
        BLOCK_FAST,
        BLOCKING_KEYS,
        "5.0.0",
        "Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member available otherwise.  Deletes the sorted set if the last element was popped.",
        bzpopmax,
    ),
    row(
        "bzmpop",
        -5,
        WRITE.union(Flags::BLOCKING),
        &[KeySpec::keynum(2, 0, 1, 1, RW_ACCESS_DELETE_FLAGS)],
        "7.0.0",
        "Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.",
        bzmpop,
    ),
    row(
        "zunion",
        -3,
        READ,
        NUMKEYS_READ,
        "6.2.0",
        "Returns the union of multiple sorted sets.",
        zunion,
    ),
    row(
        "zinter",
        -3,
        READ,
        NUMKEYS_READ,
        "6.2.0",
        "Returns the intersect of multiple sorted sets.",
        zinter,
    ),
    row(
        "zdiff",
        -3,
        READ,
        NUMKEYS_READ,
        "6.2.0",
        "Returns the difference between multiple sorted sets.",
        zdiff,
    ),
    row(
        "zunionstore",
        -4,
        GROW,
        STORE_KEYS,
        "2.0.0",
        "Stores the union of multiple sorted sets in a key.",
        zunionstore,
    ),
    row(
        "zinterstore",
        -4,
        GROW,
        STORE_KEYS,
        "2.0.0",
        "Stores the intersect of multiple sorted sets in a key.",
        zinterstore,
    ),
    row(
        "zdiffstore",
        -4,
        GROW,
        STORE_KEYS,
        "6.2.0",
        "Stores the difference of multiple sorted sets in a key.",
        zdiffstore,
    ),
    row(
        "zintercard",
        -3,
        READ,
        NUMKEYS_READ,
        "7.0.0",
        "Returns the number of members of the intersect of multiple sorted sets.",
        zintercard,
    ),
    CommandSpec {
        tips: &["nondeterministic_output"],
        ..row(
            "zrandmember",
            -2,
            READ,
            RO_ACCESS,
            "6.2.0",
            "Returns one or more random members from a sorted set.",
            zrandmember,
        )
    },
    CommandSpec {
        tips: &["nondeterministic_output"],
        ..row(
            "zscan",
            -3,
            READ,
            RO_ACCESS,
            "2.8.0",
            "Iterates over members and scores of a sorted set.",
            zscan,
        )
    },
];

// ---------------------------------------------------------------------------------------
// Replies

/// A score as Redis 7 replies it: a double (bulk string in RESP2).
fn score_reply(score: f64) -> Reply {
    Reply::Double(score)
}

/// Member / score pairs: flat in RESP2 (`withscores`) or without scores, nested
/// `[member, score]` arrays in RESP3.
fn pairs_reply(proto: Protocol, items: Vec<(f64, Bytes)>, withscores: bool) -> Reply {
    if !withscores {
        return Reply::Array(items.into_iter().map(|(_, m)| Reply::Bulk(m)).collect());
    }
    match proto {
        Protocol::Resp3 => Reply::Array(
            items
                .into_iter()
                .map(|(s, m)| Reply::Array(vec![Reply::Bulk(m), score_reply(s)]))
                .collect(),
        ),
        Protocol::Resp2 => Reply::Array(
            items
                .into_iter()
                .flat_map(|(s, m)| [Reply::Bulk(m), score_reply(s)])
                .collect(),
        ),
    }
}

/// Always-nested pairs (ZMPOP, BZMPOP: `[[member, score], ...]` in both protocols).
fn nested_pairs(items: Vec<(f64, Bytes)>) -> Reply {
    Reply::Array(
        items
            .into_iter()
            .map(|(s, m)| Reply::Array(vec![Reply::Bulk(m), score_reply(s)]))
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------
// Parsing

/// A score or weight argument (ZADD, ZINCRBY, WEIGHTS) as Redis's `getDoubleFromObject`
/// reads it: `strtod` over the whole argument, but not empty, no leading space, no NaN and
/// no overflow to infinity or underflow to zero.
fn parse_score(arg: &[u8]) -> Result<f64, CmdError> {
    if arg.first().is_none_or(u8::is_ascii_whitespace) {
        return Err(CmdError::NotFloat);
    }
    let value = parse_strtod(arg).ok_or(CmdError::NotFloat)?;
    let lower = arg.to_ascii_lowercase();
    let overflow = value.is_infinite() && !lower.windows(3).any(|w| w == b"inf");
    let mantissa = lower
        .split(|&b| b == b'e' || b == b'p')
        .next()
        .unwrap_or_default();
    let digits = mantissa.strip_prefix(b"0x").unwrap_or(mantissa);
    let underflow = value == 0.0
        && digits
            .iter()
            .any(|d| d.is_ascii_alphanumeric() && *d != b'0');
    if overflow || underflow {
        return Err(CmdError::NotFloat);
    }
    Ok(value)
}

/// A double as C's `strtod` reads a whole argument, which is how Redis reads range bounds:
/// leading spaces, hex (`0x1p3`), `inf` / `infinity` in any case, and the empty string (0)
/// are accepted; trailing text and NaN are not.
fn parse_strtod(arg: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(arg).ok()?;
    if text.is_empty() {
        return Some(0.0);
    }
    let body = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, unsigned) = match body.as_bytes().first() {
        Some(b'-') => (true, &body[1..]),
        Some(b'+') => (false, &body[1..]),
        _ => (false, body),
    };
    let lower = unsigned.to_ascii_lowercase();
    let magnitude = if lower == "inf" || lower == "infinity" {
        f64::INFINITY
    } else if let Some(hex) = lower.strip_prefix("0x") {
        parse_hex_float(hex)?
    } else if lower.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        lower.parse::<f64>().ok()?
    } else {
        return None;
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// The part of a C hex float after `0x`: hex digits, an optional fraction, an optional
/// binary exponent `p[+-]n`.
fn parse_hex_float(hex: &str) -> Option<f64> {
    let (mantissa, exponent) = match hex.split_once('p') {
        Some((m, e)) => (m, e.parse::<i32>().ok()?),
        None => (hex, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut value = 0.0f64;
    for c in int.chars() {
        value = value * 16.0 + f64::from(c.to_digit(16)?);
    }
    let mut scale = 1.0 / 16.0;
    for c in frac.chars() {
        value += f64::from(c.to_digit(16)?) * scale;
        scale /= 16.0;
    }
    Some(value * 2f64.powi(exponent))
}

/// One end of a score range: `1.5`, `(1.5`, `-inf`, `+inf`.
fn parse_score_bound(arg: &[u8]) -> Result<ScoreBound, CmdError> {
    let (exclusive, text) = match arg.strip_prefix(b"(") {
        Some(rest) => (true, rest),
        None => (false, arg),
    };
    let value = parse_strtod(text).ok_or_else(|| CmdError::err("min or max is not a float"))?;
    Ok(ScoreBound { value, exclusive })
}

fn parse_score_range(min: &[u8], max: &[u8]) -> Result<(ScoreBound, ScoreBound), CmdError> {
    Ok((parse_score_bound(min)?, parse_score_bound(max)?))
}

/// One end of a lex range: `-`, `+`, `[member`, `(member`.
fn parse_lex_bound(arg: &Bytes) -> Result<LexBound, CmdError> {
    match arg.first() {
        Some(b'-') if arg.len() == 1 => Ok(LexBound::Min),
        Some(b'+') if arg.len() == 1 => Ok(LexBound::Max),
        Some(b'[') => Ok(LexBound::Inclusive(arg.slice(1..))),
        Some(b'(') => Ok(LexBound::Exclusive(arg.slice(1..))),
        _ => Err(CmdError::err("min or max not valid string range item")),
    }
}

fn parse_lex_range(min: &Bytes, max: &Bytes) -> Result<(LexBound, LexBound), CmdError> {
    Ok((parse_lex_bound(min)?, parse_lex_bound(max)?))
}

/// Redis's "value is out of range, must be positive" counts (ZPOPMIN, ZRANDMEMBER ...).
fn parse_positive(arg: &[u8]) -> Result<i64, CmdError> {
    parse_i64(arg)
        .ok()
        .filter(|&n| n >= 0)
        .ok_or_else(|| CmdError::err("value is out of range, must be positive"))
}

// ---------------------------------------------------------------------------------------
// Keyspace access

/// Runs `read` on the sorted set at `key` (`None` when missing), counting a hit or miss.
fn with_zset(
    ctx: &ExecCtx,
    key: &Bytes,
    read: impl FnOnce(Option<&ZSetValue>) -> Result<Reply, CmdError>,
) -> Result<Reply, CmdError> {
    let mut guard = ctx.ks().lock(ctx.db(), &[key]);
    match guard.get(key) {
        Some(value) => read(Some(value.as_zset()?)),
        None => read(None),
    }
}

/// The sorted set at `key` as a write command sees it: WRONGTYPE for another type.
fn peek_zset<'g>(guard: &'g mut Guard, key: &Bytes) -> Result<Option<&'g ZSetValue>, CmdError> {
    guard
        .lookup_write(key)
        .map(|e| e.value.as_zset())
        .transpose()
}

/// (score, member) pairs, in the order a command picked or replies them.
type Elements = Vec<(f64, Bytes)>;

/// Removes the elements `doomed` picks from the sorted set at `key` (WRONGTYPE for another
/// type). The key is written only when something goes, as Redis signals a change only then.
/// Returns what was removed, in `doomed`'s order, and whether the set emptied; `None` when
/// the key is missing.
fn remove_picked(
    guard: &mut Guard,
    key: &Bytes,
    doomed: impl FnOnce(&ZSetValue) -> Elements,
) -> Result<Option<(Elements, bool)>, CmdError> {
    let Some(items) = peek_zset(guard, key)?.map(doomed) else {
        return Ok(None);
    };
    if items.is_empty() {
        return Ok(Some((items, false)));
    }
    let Some(z) = guard.get_mut(key).map(Value::as_zset_mut).transpose()? else {
        return Ok(None);
    };
    for (_, member) in &items {
        z.remove(member);
    }
    Ok(Some((items, z.is_empty())))
}

/// After removing members from `key`: the type event, and `del` when it emptied (the
/// guard deletes the key itself).
fn notify_removed(ctx: &ExecCtx, event: &str, key: &Bytes, emptied: bool) {
    ctx.notify(NotifyClass::ZSET, event, key);
    if emptied {
        ctx.notify(NotifyClass::GENERIC, "del", key);
    }
}

/// Stores a store command's result at `dst` (deleting it when empty) and notifies; returns
/// the number of members stored.
fn store_result(
    ctx: &ExecCtx,
    guard: &mut Guard,
    dst: &Bytes,
    result: Vec<(f64, Bytes)>,
    event: &str,
    limits: &ZSetLimits,
) -> i64 {
    if result.is_empty() {
        if guard.remove(dst).is_some() {
            ctx.notify(NotifyClass::GENERIC, "del", dst);
        }
        return 0;
    }
    let set = ZSetValue::built(result.into_iter().map(|(s, m)| (m, s)), limits);
    let len = set.len() as i64;
    guard.insert(dst.clone(), Value::ZSet(set), Ttl::Clear);
    ctx.notify(NotifyClass::ZSET, event, dst);
    len
}

// ---------------------------------------------------------------------------------------
// ZADD, ZINCRBY, ZREM

#[derive(Default)]
struct AddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    ch: bool,
    incr: bool,
}

/// What one ZADD element did.
enum Added {
    /// A new member.
    New(f64),
    /// An existing member's score changed.
    Updated(f64),
    /// An existing member kept its score (or NX / XX / GT / LT declined).
    Same(f64),
    Declined,
}

/// Redis's `zsetAdd` decision for one member whose score is `current` (`None`: absent).
fn decide(current: Option<f64>, score: f64, flags: &AddFlags) -> Result<Added, CmdError> {
    match current {
        Some(_) if flags.nx => Ok(Added::Declined),
        Some(current) => {
            let new = if flags.incr {
                let sum = current + score;
                if sum.is_nan() {
                    return Err(CmdError::err("resulting score is not a number (NaN)"));
                }
                sum
            } else {
                score
            };
            if (flags.lt && new >= current) || (flags.gt && new <= current) {
                Ok(Added::Declined)
            } else if new == current {
                Ok(Added::Same(current))
            } else {
                Ok(Added::Updated(new))
            }
        }
        None if flags.xx => Ok(Added::Declined),
        None => Ok(Added::New(score)),
    }
}

/// What ZADD / ZINCRBY did: counts, and the last element's score for INCR.
#[derive(Default)]
struct AddOutcome {
    added: i64,
    updated: i64,
    score: Option<f64>,
}

/// ZADD's elements applied to the set at `key`. The outcome is decided first on the set as
/// it is (so errors come before any change), and the key is only written, or created, when
/// something changes: a ZADD that changes nothing is no write for WATCH, as in Redis.
fn add_elements(
    guard: &mut Guard,
    key: &Bytes,
    pairs: &[(f64, Bytes)],
    flags: &AddFlags,
    limits: &ZSetLimits,
) -> Result<AddOutcome, CmdError> {
    let existing = peek_zset(guard, key)?;
    let mut outcome = AddOutcome::default();
    // Scores as earlier elements of this same command leave them.
    let mut pending: Vec<(&Bytes, f64)> = Vec::new();
    for (score, member) in pairs {
        let current = match pending.iter().rev().find(|(m, _)| *m == member) {
            Some((_, s)) => Some(*s),
            None => existing.and_then(|z| z.score(member)),
        };
        match decide(current, *score, flags)? {
            Added::New(s) => {
                outcome.added += 1;
                outcome.score = Some(s);
                pending.push((member, s));
            }
            Added::Updated(s) => {
                outcome.updated += 1;
                outcome.score = Some(s);
                pending.push((member, s));
            }
            Added::Same(s) => outcome.score = Some(s),
            Added::Declined => {}
        }
    }
    if !pending.is_empty() {
        let z = guard
            .get_or_insert_with(key, || Value::ZSet(ZSetValue::default()))
            .as_zset_mut()?;
        for (member, score) in pending {
            z.insert(member.clone(), score, limits);
        }
    }
    Ok(outcome)
}

fn zadd(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut flags = AddFlags::default();
    while let Some(arg) = args.peek() {
        let flag = match arg.to_ascii_lowercase().as_slice() {
            b"nx" => &mut flags.nx,
            b"xx" => &mut flags.xx,
            b"gt" => &mut flags.gt,
            b"lt" => &mut flags.lt,
            b"ch" => &mut flags.ch,
            b"incr" => &mut flags.incr,
            _ => break,
        };
        *flag = true;
        args.next_bytes()?;
    }
    let rest = args.rest();
    if rest.is_empty() || !rest.len().is_multiple_of(2) {
        return Err(CmdError::Syntax);
    }
    if flags.nx && flags.xx {
        return Err(CmdError::err(
            "XX and NX options at the same time are not compatible",
        ));
    }
    if (flags.nx && (flags.gt || flags.lt)) || (flags.gt && flags.lt) {
        return Err(CmdError::err(
            "GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if flags.incr && rest.len() > 2 {
        return Err(CmdError::err(
            "INCR option supports a single increment-element pair",
        ));
    }
    let pairs = rest
        .chunks_exact(2)
        .map(|p| Ok((parse_score(&p[0])?, p[1].clone())))
        .collect::<Result<Vec<(f64, Bytes)>, CmdError>>()?;
    let limits = ctx.encodings().zset;
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let outcome = add_elements(&mut guard, &key, &pairs, &flags, &limits)?;
    drop(guard);
    if outcome.added + outcome.updated > 0 {
        let event = if flags.incr { "zincr" } else { "zadd" };
        ctx.notify(NotifyClass::ZSET, event, &key);
    }
    if flags.incr {
        return Ok(outcome.score.map_or(Reply::Nil, score_reply));
    }
    Ok(Reply::Integer(if flags.ch {
        outcome.added + outcome.updated
    } else {
        outcome.added
    }))
}

fn zincrby(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let increment = parse_score(&args.next_bytes()?)?;
    let member = args.next_bytes()?;
    let limits = ctx.encodings().zset;
    let flags = AddFlags {
        incr: true,
        ..AddFlags::default()
    };
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let outcome = add_elements(&mut guard, &key, &[(increment, member)], &flags, &limits)?;
    drop(guard);
    // An increment that leaves the score as it was (0, or onto an infinity) is no change,
    // and Redis sends no event for it.
    if outcome.added + outcome.updated > 0 {
        ctx.notify(NotifyClass::ZSET, "zincr", &key);
    }
    Ok(score_reply(outcome.score.unwrap_or(increment)))
}

fn zrem(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let members = args.rest();
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let removed = remove_picked(&mut guard, &key, |z| {
        let mut present: Vec<(f64, Bytes)> = Vec::new();
        for m in &members {
            if let Some(score) = z.score(m)
                && !present.iter().any(|(_, p)| p == m)
            {
                present.push((score, m.clone()));
            }
        }
        present
    })?;
    drop(guard);
    let Some((removed, emptied)) = removed.filter(|(r, _)| !r.is_empty()) else {
        return Ok(Reply::Integer(0));
    };
    notify_removed(ctx, "zrem", &key, emptied);
    Ok(Reply::Integer(removed.len() as i64))
}

// ---------------------------------------------------------------------------------------
// Reads by member

fn zscore(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let member = args.next_bytes()?;
    with_zset(ctx, &key, |z| {
        Ok(z.and_then(|z| z.score(&member))
            .map_or(Reply::Nil, score_reply))
    })
}

fn zmscore(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let members = args.rest();
    with_zset(ctx, &key, |z| {
        Ok(Reply::Array(
            members
                .iter()
                .map(|m| z.and_then(|z| z.score(m)).map_or(Reply::Nil, score_reply))
                .collect(),
        ))
    })
}

fn zcard(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    with_zset(ctx, &key, |z| {
        Ok(Reply::Integer(z.map_or(0, ZSetValue::len) as i64))
    })
}

/// ZRANK / ZREVRANK key member [WITHSCORE].
fn rank_command(ctx: &mut ExecCtx, args: &mut Args, reverse: bool) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let member = args.next_bytes()?;
    let withscore = match args.remaining() {
        0 => false,
        1 if args.eat("withscore") => true,
        1 => return Err(CmdError::Syntax),
        _ => {
            return Err(CmdError::wrong_arity(if reverse {
                "zrevrank"
            } else {
                "zrank"
            }));
        }
    };
    with_zset(ctx, &key, |z| {
        let found = z.and_then(|z| Some((z.rank(&member)?, z.score(&member)?, z.len())));
        Ok(match found {
            None if withscore => Reply::NilArray,
            None => Reply::Nil,
            Some((rank, score, len)) => {
                let rank = if reverse { len - 1 - rank } else { rank } as i64;
                if withscore {
                    Reply::Array(vec![Reply::Integer(rank), score_reply(score)])
                } else {
                    Reply::Integer(rank)
                }
            }
        })
    })
}

fn zrank(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    rank_command(ctx, args, false)
}

fn zrevrank(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    rank_command(ctx, args, true)
}

fn zcount(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let (min, max) = parse_score_range(&args.next_bytes()?, &args.next_bytes()?)?;
    with_zset(ctx, &key, |z| {
        let (start, end) = z.map_or((0, 0), |z| z.score_ranks(min, max));
        Ok(Reply::Integer((end - start) as i64))
    })
}

fn zlexcount(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let (min, max) = parse_lex_range(&args.next_bytes()?, &args.next_bytes()?)?;
    with_zset(ctx, &key, |z| {
        let (start, end) = z.map_or((0, 0), |z| z.lex_ranks(&min, &max));
        Ok(Reply::Integer((end - start) as i64))
    })
}

// ---------------------------------------------------------------------------------------
// ZRANGE and its older forms

#[derive(Clone, Copy, PartialEq)]
enum RangeKind {
    Rank,
    Score,
    Lex,
}

/// A parsed range: which elements, in which direction, after LIMIT.
enum RangeSpec {
    Rank(i64, i64),
    Score(ScoreBound, ScoreBound),
    Lex(LexBound, LexBound),
}

struct RangeQuery {
    spec: RangeSpec,
    reverse: bool,
    offset: i64,
    limit: i64,
    withscores: bool,
}

/// Parses `min max [options]` as Redis's `zrangeGenericCommand` does. `kind` / `reverse`
/// preset by the older commands (ZRANGEBYSCORE ...) make the matching keywords errors.
fn parse_range(
    args: &mut Args,
    kind: Option<RangeKind>,
    reverse: Option<bool>,
    store: bool,
) -> Result<RangeQuery, CmdError> {
    let mut min = args.next_bytes()?;
    let mut max = args.next_bytes()?;
    let (mut kind, mut reverse) = (kind, reverse);
    let mut withscores = false;
    let mut limit: Option<(i64, i64)> = None;
    while let Some(opt) = args.next() {
        let left = args.remaining();
        if !store && eq_ignore_case(&opt, "withscores") {
            withscores = true;
        } else if eq_ignore_case(&opt, "limit") && left >= 2 {
            let offset = args.next_i64()?;
            let count = args.next_i64()?;
            limit = Some((offset, count));
        } else if reverse.is_none() && eq_ignore_case(&opt, "rev") {
            reverse = Some(true);
        } else if kind.is_none() && eq_ignore_case(&opt, "bylex") {
            kind = Some(RangeKind::Lex);
        } else if kind.is_none() && eq_ignore_case(&opt, "byscore") {
            kind = Some(RangeKind::Score);
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let kind = kind.unwrap_or(RangeKind::Rank);
    let reverse = reverse.unwrap_or(false);
    // Redis keeps "no LIMIT" as a count of -1, so `LIMIT n -1` passes as no LIMIT.
    if limit.is_some_and(|(_, count)| count != -1) && kind == RangeKind::Rank {
        return Err(CmdError::err(
            "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && kind == RangeKind::Lex {
        return Err(CmdError::err(
            "syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    if reverse && kind != RangeKind::Rank {
        // Reverse score and lex ranges are written max first.
        std::mem::swap(&mut min, &mut max);
    }
    let spec = match kind {
        RangeKind::Rank => RangeSpec::Rank(parse_i64(&min)?, parse_i64(&max)?),
        RangeKind::Score => {
            let (a, b) = parse_score_range(&min, &max)?;
            RangeSpec::Score(a, b)
        }
        RangeKind::Lex => {
            let (a, b) = parse_lex_range(&min, &max)?;
            RangeSpec::Lex(a, b)
        }
    };
    let (offset, limit) = limit.unwrap_or((0, -1));
    Ok(RangeQuery {
        spec,
        reverse,
        offset,
        limit,
        withscores,
    })
}

/// Ascending ranks `start..end` of rank range `start stop` (negative from the end).
fn rank_window(len: usize, start: i64, stop: i64) -> (usize, usize) {
    let len = len as i64;
    let start = if start < 0 { len + start } else { start }.max(0);
    let stop = if stop < 0 { len + stop } else { stop };
    if start > stop || start >= len {
        return (0, 0);
    }
    (start as usize, (stop.min(len - 1) + 1) as usize)
}

/// The elements `query` selects, in reply order.
fn select(z: &ZSetValue, query: &RangeQuery) -> Vec<(f64, Bytes)> {
    let len = z.len();
    let (start, end) = match &query.spec {
        RangeSpec::Rank(a, b) => {
            // Rank ranges count from the end in reverse.
            let (s, e) = rank_window(len, *a, *b);
            if query.reverse {
                (len - e, len - s)
            } else {
                (s, e)
            }
        }
        RangeSpec::Score(min, max) => z.score_ranks(*min, *max),
        RangeSpec::Lex(min, max) => z.lex_ranks(min, max),
    };
    if !matches!(query.spec, RangeSpec::Rank(..)) {
        // LIMIT: a negative offset selects nothing, a negative count means all.
        if query.offset < 0 {
            return Vec::new();
        }
        let offset = usize::try_from(query.offset).unwrap_or(usize::MAX);
        let available = (end - start).saturating_sub(offset);
        let take = if query.limit < 0 {
            available
        } else {
            available.min(usize::try_from(query.limit).unwrap_or(usize::MAX))
        };
        return if query.reverse {
            let hi = end - offset.min(end - start);
            let mut items = z.range(hi - take, hi);
            items.reverse();
            items
        } else {
            let lo = start + offset.min(end - start);
            z.range(lo, lo + take)
        };
    }
    let mut items = z.range(start, end);
    if query.reverse {
        items.reverse();
    }
    items
}

/// Every read form of ZRANGE.
fn range_read(
    ctx: &mut ExecCtx,
    args: &mut Args,
    kind: Option<RangeKind>,
    reverse: Option<bool>,
) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let query = parse_range(args, kind, reverse, false)?;
    let proto = ctx.client.protocol;
    with_zset(ctx, &key, |z| {
        let items = z.map(|z| select(z, &query)).unwrap_or_default();
        Ok(pairs_reply(proto, items, query.withscores))
    })
}

fn zrange(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    range_read(ctx, args, None, None)
}

fn zrevrange(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    range_read(ctx, args, Some(RangeKind::Rank), Some(true))
}

fn zrangebyscore(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    range_read(ctx, args, Some(RangeKind::Score), Some(false))
}

fn zrevrangebyscore(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    range_read(ctx, args, Some(RangeKind::Score), Some(true))
}

fn zrangebylex(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    range_read(ctx, args, Some(RangeKind::Lex), Some(false))
}

fn zrevrangebylex(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    range_read(ctx, args, Some(RangeKind::Lex), Some(true))
}

fn zrangestore(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let dst = args.next_bytes()?;
    let src = args.next_bytes()?;
    let query = parse_range(args, None, None, true)?;
    let limits = ctx.encodings().zset;
    let mut guard = ctx.ks().lock(ctx.db(), &[&dst, &src]);
    let items = match guard.get(&src) {
        Some(value) => select(value.as_zset()?, &query),
        None => Vec::new(),
    };
    let stored = store_result(ctx, &mut guard, &dst, items, "zrangestore", &limits);
    Ok(Reply::Integer(stored))
}

// ---------------------------------------------------------------------------------------
// ZREMRANGEBY*

fn remove_range(
    ctx: &mut ExecCtx,
    args: &mut Args,
    kind: RangeKind,
    event: &str,
) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let (a, b) = (args.next_bytes()?, args.next_bytes()?);
    let spec = match kind {
        RangeKind::Rank => RangeSpec::Rank(parse_i64(&a)?, parse_i64(&b)?),
        RangeKind::Score => {
            let (min, max) = parse_score_range(&a, &b)?;
            RangeSpec::Score(min, max)
        }
        RangeKind::Lex => {
            let (min, max) = parse_lex_range(&a, &b)?;
            RangeSpec::Lex(min, max)
        }
    };
    let query = RangeQuery {
        spec,
        reverse: false,
        offset: 0,
        limit: -1,
        withscores: false,
    };
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let removed = remove_picked(&mut guard, &key, |z| select(z, &query))?;
    drop(guard);
    let Some((removed, emptied)) = removed.filter(|(r, _)| !r.is_empty()) else {
        return Ok(Reply::Integer(0));
    };
    notify_removed(ctx, event, &key, emptied);
    Ok(Reply::Integer(removed.len() as i64))
}

fn zremrangebyrank(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    remove_range(ctx, args, RangeKind::Rank, "zremrangebyrank")
}

fn zremrangebyscore(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    remove_range(ctx, args, RangeKind::Score, "zremrangebyscore")
}

fn zremrangebylex(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    remove_range(ctx, args, RangeKind::Lex, "zremrangebylex")
}

// ---------------------------------------------------------------------------------------
// Pops

/// Pops up to `count` members from the low (`max` false) or high end of the set at `key`,
/// notifying as Redis does. `None` when the key is missing.
fn pop_from(
    ctx: &ExecCtx,
    guard: &mut Guard,
    key: &Bytes,
    max: bool,
    count: usize,
) -> Result<Option<Vec<(f64, Bytes)>>, CmdError> {
    let popped = remove_picked(guard, key, |z| {
        let take = count.min(z.len());
        if max {
            let mut items = z.range(z.len() - take, z.len());
            items.reverse();
            items
        } else {
            z.range(0, take)
        }
    })?;
    if let Some((items, emptied)) = &popped
        && !items.is_empty()
    {
        notify_removed(ctx, if max { "zpopmax" } else { "zpopmin" }, key, *emptied);
    }
    Ok(popped.map(|(items, _)| items))
}

fn pop_command(ctx: &mut ExecCtx, args: &mut Args, max: bool) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let count = match args.remaining() {
        0 => None,
        1 => Some(parse_positive(&args.next_bytes()?)?),
        _ => return Err(CmdError::Syntax),
    };
    let proto = ctx.client.protocol;
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let n = count.map_or(1, |c| usize::try_from(c).unwrap_or(usize::MAX));
    let items = pop_from(ctx, &mut guard, &key, max, n)?.unwrap_or_default();
    Ok(match count {
        // Without a count the one pair is flat in both protocols.
        None => pairs_reply(Protocol::Resp2, items, true),
        Some(_) => pairs_reply(proto, items, true),
    })
}

fn zpopmin(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    pop_command(ctx, args, false)
}

fn zpopmax(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    pop_command(ctx, args, true)
}

/// `numkeys key... MIN|MAX [COUNT count]` of ZMPOP and BZMPOP.
fn parse_mpop(args: &mut Args) -> Result<(Vec<Bytes>, bool, usize), CmdError> {
    let numkeys = args
        .next_i64()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| CmdError::err("numkeys should be greater than 0"))?;
    let numkeys = usize::try_from(numkeys).unwrap_or(usize::MAX);
    if numkeys >= args.remaining() {
        return Err(CmdError::Syntax);
    }
    let keys: Vec<Bytes> = (0..numkeys)
        .map(|_| args.next_bytes())
        .collect::<Result<_, _>>()?;
    let where_ = args.next_bytes()?;
    let max = if eq_ignore_case(&where_, "max") {
        true
    } else if eq_ignore_case(&where_, "min") {
        false
    } else {
        return Err(CmdError::Syntax);
    };
    let mut count = None;
    while let Some(opt) = args.next() {
        if count.is_none() && eq_ignore_case(&opt, "count") && !args.is_empty() {
            let n = args
                .next_i64()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| CmdError::err("count should be greater than 0"))?;
            count = Some(usize::try_from(n).unwrap_or(usize::MAX));
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok((keys, max, count.unwrap_or(1)))
}

/// What a multi-key pop took: the key and its (score, member) pairs.
type Popped = (Bytes, Vec<(f64, Bytes)>);

/// Pops from the first non-empty set among `keys`. It is propagated as ZPOPMIN / ZPOPMAX
/// of that key, with the number popped when `counted` (the MPOP forms), as Redis does.
fn pop_first(
    ctx: &ExecCtx,
    keys: &[Bytes],
    max: bool,
    count: usize,
    counted: bool,
) -> Result<Option<Popped>, CmdError> {
    let mut guard = ctx.ks().lock(ctx.db(), keys);
    for key in keys {
        if let Some(items) = pop_from(ctx, &mut guard, key, max, count)? {
            let name: &[u8] = if max { b"ZPOPMAX" } else { b"ZPOPMIN" };
            let popped = forms::count(items.len());
            let args: &[&[u8]] = if counted { &[&popped] } else { &[] };
            ctx.propagate(forms::command(name, key, args));
            return Ok(Some((key.clone(), items)));
        }
    }
    Ok(None)
}

fn mpop_reply(popped: Option<Popped>) -> Reply {
    match popped {
        Some((key, items)) => Reply::Array(vec![Reply::Bulk(key), nested_pairs(items)]),
        None => Reply::NilArray,
    }
}

fn zmpop(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let (keys, max, count) = parse_mpop(args)?;
    Ok(mpop_reply(pop_first(ctx, &keys, max, count, true)?))
}

/// Blocks on `keys` for a sorted set to pop from.
fn block_on(ctx: &mut ExecCtx, keys: Vec<Bytes>, timeout: &[u8]) -> Result<Reply, CmdError> {
    let timeout = blocking::timeout_secs(timeout)?;
    Ok(ctx.block(BlockRequest {
        keys,
        value_type: "zset",
        wake_on_delete: false,
        deadline: blocking::deadline(timeout),
        timeout_reply: Reply::NilArray,
        retry_argv: None,
    }))
}

fn bzpop(ctx: &mut ExecCtx, args: &mut Args, max: bool) -> Result<Reply, CmdError> {
    let mut keys = args.rest();
    let timeout = keys.pop().unwrap_or_default();
    // The timeout is checked before any key is looked at.
    blocking::timeout_secs(&timeout)?;
    match pop_first(ctx, &keys, max, 1, false)? {
        Some((key, items)) => {
            let mut reply = vec![Reply::Bulk(key)];
            for (score, member) in items {
                reply.push(Reply::Bulk(member));
                reply.push(score_reply(score));
            }
            Ok(Reply::Array(reply))
        }
        None => block_on(ctx, keys, &timeout),
    }
}

fn bzpopmin(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    bzpop(ctx, args, false)
}

fn bzpopmax(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    bzpop(ctx, args, true)
}

fn bzmpop(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let timeout = args.next_bytes()?;
    // The timeout is checked after the other arguments, as Redis does.
    let (keys, max, count) = parse_mpop(args)?;
    blocking::timeout_secs(&timeout)?;
    match pop_first(ctx, &keys, max, count, true)? {
        Some(popped) => Ok(mpop_reply(Some(popped))),
        None => block_on(ctx, keys, &timeout),
    }
}

// ---------------------------------------------------------------------------------------
// ZUNION, ZINTER, ZDIFF and their STORE forms, ZINTERCARD

#[derive(Clone, Copy, PartialEq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    fn apply(self, acc: f64, value: f64) -> f64 {
        match self {
            Aggregate::Sum => {
                let sum = acc + value;
                // inf + -inf: Redis stores 0 rather than NaN.
                if sum.is_nan() { 0.0 } else { sum }
            }
            Aggregate::Min => acc.min(value),
            Aggregate::Max => acc.max(value),
        }
    }
}

/// One input of a set operation: its members with scores (a plain set's score is 1).
struct Input {
    members: Vec<(Bytes, f64)>,
    weight: f64,
}

/// `member`'s score in an input value: its score in a sorted set, 1 in a set.
fn input_score(value: &Value, member: &[u8]) -> Option<f64> {
    match value {
        Value::ZSet(z) => z.score(member),
        Value::Set(s) => s.contains(member).then_some(1.0),
        _ => None,
    }
}

/// Reads the inputs `keys` (sorted sets or sets; missing keys are empty).
fn read_inputs(guard: &mut Guard, keys: &[Bytes], write: bool) -> Result<Vec<Value>, CmdError> {
    keys.iter()
        .map(|key| {
            let value = if write {
                guard.lookup_write(key).map(|e| &e.value)
            } else {
                guard.get(key)
            };
            match value {
                None => Ok(Value::ZSet(ZSetValue::default())),
                Some(v @ (Value::ZSet(_) | Value::Set(_))) => Ok(v.clone()),
                Some(_) => Err(CmdError::WrongType),
            }
        })
        .collect()
}

fn members_of(value: &Value) -> Vec<(Bytes, f64)> {
    match value {
        Value::ZSet(z) => z.scores().iter().map(|(m, s)| (m.clone(), *s)).collect(),
        Value::Set(s) => (0..s.len())
            .filter_map(|i| s.get_index(i))
            .map(|m| (m.clone(), 1.0))
            .collect(),
        _ => Vec::new(),
    }
}

struct SetOpOptions {
    weights: Vec<f64>,
    aggregate: Aggregate,
    withscores: bool,
}

/// Parses the options after the keys: WEIGHTS and AGGREGATE (not for ZDIFF), WITHSCORES
/// (only the non-STORE forms).
fn parse_setop_options(
    args: &mut Args,
    op: SetOp,
    numkeys: usize,
    store: bool,
) -> Result<SetOpOptions, CmdError> {
    let mut opts = SetOpOptions {
        weights: vec![1.0; numkeys],
        aggregate: Aggregate::Sum,
        withscores: false,
    };
    while let Some(opt) = args.next() {
        let left = args.remaining();
        if op != SetOp::Diff && left >= numkeys && eq_ignore_case(&opt, "weights") {
            for w in opts.weights.iter_mut() {
                *w = parse_score(&args.next_bytes()?)
                    .map_err(|_| CmdError::err("weight value is not a float"))?;
            }
        } else if op != SetOp::Diff && left >= 1 && eq_ignore_case(&opt, "aggregate") {
            let which = args.next_bytes()?;
            opts.aggregate = if eq_ignore_case(&which, "sum") {
                Aggregate::Sum
            } else if eq_ignore_case(&which, "min") {
                Aggregate::Min
            } else if eq_ignore_case(&which, "max") {
                Aggregate::Max
            } else {
                return Err(CmdError::Syntax);
            };
        } else if !store && eq_ignore_case(&opt, "withscores") {
            opts.withscores = true;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok(opts)
}

/// Reads `numkeys key...`; the command name is for the "at least 1 input key" error.
fn parse_numkeys(args: &mut Args, command: &str) -> Result<Vec<Bytes>, CmdError> {
    let numkeys = args.next_i64()?;
    if numkeys < 1 {
        return Err(CmdError::err(format!(
            "at least 1 input key is needed for '{command}' command"
        )));
    }
    let numkeys = usize::try_from(numkeys).unwrap_or(usize::MAX);
    if numkeys > args.remaining() {
        return Err(CmdError::Syntax);
    }
    (0..numkeys).map(|_| args.next_bytes()).collect()
}

/// Weighted score: NaN (0 * inf) counts as 0, as in Redis.
fn weighted(score: f64, weight: f64) -> f64 {
    let w = score * weight;
    if w.is_nan() { 0.0 } else { w }
}

/// Computes a set operation over `values` with `opts`, sorted by score then member.
fn compute(op: SetOp, values: &[Value], opts: &SetOpOptions) -> Vec<(f64, Bytes)> {
    let mut inputs: Vec<Input> = values
        .iter()
        .zip(&opts.weights)
        .map(|(v, w)| Input {
            members: members_of(v),
            weight: *w,
        })
        .collect();
    let mut order: Vec<usize> = (0..inputs.len()).collect();
    let result: Vec<(Bytes, f64)> = match op {
        SetOp::Diff => {
            let first = std::mem::take(&mut inputs[0].members);
            first
                .into_iter()
                .filter(|(m, _)| values[1..].iter().all(|v| input_score(v, m).is_none()))
                .collect()
        }
        SetOp::Inter => {
            // Smallest input first, as Redis does (it fixes the order of the sums).
            order.sort_by_key(|&i| inputs[i].members.len());
            let first = order[0];
            inputs[first]
                .members
                .iter()
                .filter_map(|(m, s)| {
                    let mut acc = weighted(*s, inputs[first].weight);
                    for &i in &order[1..] {
                        let other = input_score(&values[i], m)?;
                        // Unlike the first input's, these products reach the aggregate
                        // as they are: a NaN (0 * inf) then turns a sum into 0, as in Redis.
                        acc = opts.aggregate.apply(acc, other * inputs[i].weight);
                    }
                    Some((m.clone(), acc))
                })
                .collect()
        }
        SetOp::Union => {
            order.sort_by_key(|&i| inputs[i].members.len());
            let mut acc: indexmap::IndexMap<Bytes, f64> = indexmap::IndexMap::new();
            for &i in &order {
                for (m, s) in &inputs[i].members {
                    let w = weighted(*s, inputs[i].weight);
                    acc.entry(m.clone())
                        .and_modify(|a| *a = opts.aggregate.apply(*a, w))
                        .or_insert(w);
                }
            }
            acc.into_iter().collect()
        }
    };
    let mut out: Vec<(f64, Bytes)> = result.into_iter().map(|(m, s)| (s, m)).collect();
    out.sort_by(|a, b| crate::keyspace::zset::index::compare(a.0, &a.1, b.0, &b.1));
    out
}

fn setop_read(
    ctx: &mut ExecCtx,
    args: &mut Args,
    op: SetOp,
    name: &str,
) -> Result<Reply, CmdError> {
    let keys = parse_numkeys(args, name)?;
    let proto = ctx.client.protocol;
    let mut guard = ctx.ks().lock(ctx.db(), &keys);
    let values = read_inputs(&mut guard, &keys, false)?;
    drop(guard);
    let opts = parse_setop_options(args, op, keys.len(), false)?;
    let result = compute(op, &values, &opts);
    Ok(pairs_reply(proto, result, opts.withscores))
}

fn setop_store(
    ctx: &mut ExecCtx,
    args: &mut Args,
    op: SetOp,
    name: &str,
) -> Result<Reply, CmdError> {
    let dst = args.next_bytes()?;
    let keys = parse_numkeys(args, name)?;
    let limits = ctx.encodings().zset;
    let mut locked = keys.clone();
    locked.push(dst.clone());
    let mut guard = ctx.ks().lock(ctx.db(), &locked);
    let values = read_inputs(&mut guard, &keys, true)?;
    let opts = parse_setop_options(args, op, keys.len(), true)?;
    let result = compute(op, &values, &opts);
    Ok(Reply::Integer(store_result(
        ctx, &mut guard, &dst, result, name, &limits,
    )))
}

fn zunion(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    setop_read(ctx, args, SetOp::Union, "zunion")
}

fn zinter(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    setop_read(ctx, args, SetOp::Inter, "zinter")
}

fn zdiff(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    setop_read(ctx, args, SetOp::Diff, "zdiff")
}

fn zunionstore(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    setop_store(ctx, args, SetOp::Union, "zunionstore")
}

fn zinterstore(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    setop_store(ctx, args, SetOp::Inter, "zinterstore")
}

fn zdiffstore(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    setop_store(ctx, args, SetOp::Diff, "zdiffstore")
}

fn zintercard(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let keys = parse_numkeys(args, "zintercard")?;
    let mut guard = ctx.ks().lock(ctx.db(), &keys);
    let values = read_inputs(&mut guard, &keys, false)?;
    drop(guard);
    let mut limit = 0usize;
    while let Some(opt) = args.next() {
        if eq_ignore_case(&opt, "limit") && !args.is_empty() {
            let n = args
                .next_i64()
                .ok()
                .filter(|&n| n >= 0)
                .ok_or_else(|| CmdError::err("LIMIT can't be negative"))?;
            limit = usize::try_from(n).unwrap_or(usize::MAX);
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let opts = SetOpOptions {
        weights: vec![1.0; keys.len()],
        aggregate: Aggregate::Sum,
        withscores: false,
    };
    let count = compute(SetOp::Inter, &values, &opts).len();
    let count = if limit > 0 { count.min(limit) } else { count };
    Ok(Reply::Integer(count as i64))
}

// ---------------------------------------------------------------------------------------
// ZRANDMEMBER, ZSCAN

fn zrandmember(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let proto = ctx.client.protocol;
    let Some(count_arg) = args.next() else {
        return with_zset(ctx, &key, |z| {
            let Some(z) = z.filter(|z| !z.is_empty()) else {
                return Ok(Reply::Nil);
            };
            let i = rand::rng().random_range(0..z.len());
            Ok(Reply::opt_bulk(
                z.scores().get_index(i).map(|(m, _)| m.clone()),
            ))
        });
    };
    let count = parse_i64(&count_arg)?;
    if count == i64::MIN {
        return Err(CmdError::CountOutOfRange);
    }
    let withscores = match args.remaining() {
        0 => false,
        1 if args.eat("withscores") => true,
        _ => return Err(CmdError::Syntax),
    };
    // Redis refuses counts whose doubled reply length would overflow.
    if withscores && count.unsigned_abs() > (i64::MAX / 2) as u64 {
        return Err(CmdError::ValueOutOfRange);
    }
    with_zset(ctx, &key, |z| {
        let Some(z) = z else {
            return Ok(Reply::Array(Vec::new()));
        };
        let mut rng = rand::rng();
        let picks: Vec<(f64, Bytes)> = if count < 0 {
            // Repetitions allowed: independent picks.
            (0..count.unsigned_abs())
                .filter_map(|_| z.scores().get_index(rng.random_range(0..z.len())))
                .map(|(m, s)| (*s, m.clone()))
                .collect()
        } else {
            let n = usize::try_from(count).unwrap_or(usize::MAX).min(z.len());
            if n == z.len() {
                z.range(0, n)
            } else {
                rand::seq::index::sample(&mut rng, z.len(), n)
                    .into_iter()
                    .filter_map(|i| z.scores().get_index(i))
                    .map(|(m, s)| (*s, m.clone()))
                    .collect()
            }
        };
        Ok(pairs_reply(proto, picks, withscores))
    })
}

fn zscan(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let cursor = parse_cursor(&args.next_bytes()?)?;
    with_zset(ctx, &key, |z| {
        let Some(z) = z else {
            return Ok(scan_reply(0, Vec::new()));
        };
        let opts = ScanOptions::parse(args, false)?;
        let mut items = Vec::new();
        let mut visit = |member: &Bytes, score: f64| {
            if !opts.matches(member) {
                return;
            }
            items.push(Reply::Bulk(member.clone()));
            items.push(Reply::bulk_str(format_double_g17(score)));
        };
        let next = if z.is_listpack() {
            // A listpack is returned whole, in order, whatever the cursor and COUNT.
            z.for_range(0, z.len(), |s, m| visit(m, s));
            0
        } else {
            let remaining = usize::try_from(cursor).unwrap_or(usize::MAX);
            scan_indexmap(z.scores(), remaining, opts.count, |m, s| visit(m, *s)).0
        };
        Ok(scan_reply(next as u64, items))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_bounds_read_like_strtod() {
        let v = |s: &str| parse_strtod(s.as_bytes());
        assert_eq!(v(""), Some(0.0));
        assert_eq!(v(" 1.5"), Some(1.5));
        assert_eq!(v("-INF"), Some(f64::NEG_INFINITY));
        assert_eq!(v("+Infinity"), Some(f64::INFINITY));
        assert_eq!(v("0x10"), Some(16.0));
        assert_eq!(v("0x1.8p1"), Some(3.0));
        assert_eq!(v("1e3"), Some(1000.0));
        assert_eq!(v(".5"), Some(0.5));
        for bad in ["nan", "1 ", "abc", " ", "1x", "0x", "--1"] {
            assert_eq!(v(bad), None, "{bad:?}");
        }
        for (ok, value) in [
            ("0x10", 16.0),
            ("1e-300", 1e-300),
            ("-inf", f64::NEG_INFINITY),
        ] {
            assert_eq!(parse_score(ok.as_bytes()), Ok(value));
        }
        for bad in ["", " 1", "1e400", "1e-400", "nan", "0x1p-2000"] {
            assert_eq!(
                parse_score(bad.as_bytes()),
                Err(CmdError::NotFloat),
                "{bad:?}"
            );
        }
        assert_eq!(
            parse_score_bound(b"(").unwrap(),
            ScoreBound {
                value: 0.0,
                exclusive: true
            }
        );
    }

    #[test]
    fn rank_windows_clamp_like_redis() {
        assert_eq!(rank_window(5, 0, -1), (0, 5));
        assert_eq!(rank_window(5, -2, 10), (3, 5));
        assert_eq!(rank_window(5, 3, 1), (0, 0));
        assert_eq!(rank_window(5, 5, 6), (0, 0));
        assert_eq!(rank_window(5, -10, 0), (0, 1));
    }
}
