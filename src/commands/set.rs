//! Set group: SADD, SREM, SMEMBERS ... SSCAN.
//!
//! [`SetValue`] holds the members and the encoding Redis 7.4 would use (intset, listpack or
//! hashtable); these commands follow Redis's `t_set.c` in how each write changes that
//! encoding, in the order replies list members (an intset ascending, a listpack in insertion
//! order) and in the keyspace events they report. The STORE commands build their result the
//! way Redis does — member by member from an empty intset (SUNIONSTORE, SDIFFSTORE) or from
//! an empty set shaped like the smallest input (SINTERSTORE) — so the result's encoding is
//! the one Redis reports.

use bytes::Bytes;
use rand::RngExt;

use super::args::{eq_ignore_case, parse_cursor, parse_i64};
use super::propagate::forms;
use super::scan::{ScanOptions, scan_reply};
use super::table::{CommandSpec, Flags, KeyFlags, KeySpec};
use super::{Args, ExecCtx};
use crate::error::CmdError;
use crate::keyspace::set::{SetEncoding, SetLimits};
use crate::keyspace::{Guard, SetValue, Ttl, Value, scan_positions};
use crate::protocol::Reply;
use crate::pubsub::NotifyClass;

const G: &str = "set";
const RO: &[KeySpec] = &[KeySpec::key(1, KeyFlags::RO)];
const RO_ACCESS: &[KeySpec] = &[KeySpec::key(1, KeyFlags::RO_ACCESS)];
const ALL_RO_ACCESS: &[KeySpec] = &[KeySpec::range(1, -1, 1, KeyFlags::RO_ACCESS)];
const READ: Flags = Flags::READONLY;
const READ_FAST: Flags = Flags::READONLY.union(Flags::FAST);
const WRITE_FAST: Flags = Flags::WRITE.union(Flags::FAST);
const GROW: Flags = Flags::WRITE.union(Flags::DENYOOM);
const ORDER_TIP: &[&str] = &["nondeterministic_output_order"];
const RANDOM_TIP: &[&str] = &["nondeterministic_output"];

/// Key specs of the STORE commands: the destination, then the sources.
const fn store_keys(dest: KeyFlags) -> [KeySpec; 2] {
    [
        KeySpec::key(1, dest),
        KeySpec::range(2, -1, 1, KeyFlags::RO_ACCESS),
    ]
}
const OVERWRITE_STORE: &[KeySpec] = &store_keys(KeyFlags::OW_UPDATE);
const UPDATE_STORE: &[KeySpec] = &store_keys(KeyFlags::RW_UPDATE);

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        keys: &[KeySpec::key(1, KeyFlags::RW_INSERT)],
        summary: "Adds one or more members to a set. Creates the key if it doesn't exist.",
        since: "1.0.0",
        ..CommandSpec::new("sadd", -3, GROW.union(Flags::FAST), G, sadd)
    },
    CommandSpec {
        keys: &[KeySpec::key(1, KeyFlags::RW.union(KeyFlags::DELETE))],
        summary: "Removes one or more members from a set. Deletes the set if the last member was removed.",
        since: "1.0.0",
        ..CommandSpec::new("srem", -3, WRITE_FAST, G, srem)
    },
    CommandSpec {
        keys: RO_ACCESS,
        tips: ORDER_TIP,
        summary: "Returns all members of a set.",
        since: "1.0.0",
        ..CommandSpec::new("smembers", 2, READ, G, smembers)
    },
    CommandSpec {
        keys: RO,
        summary: "Determines whether a member belongs to a set.",
        since: "1.0.0",
        ..CommandSpec::new("sismember", 3, READ_FAST, G, sismember)
    },
    CommandSpec {
        keys: RO_ACCESS,
        summary: "Determines whether multiple members belong to a set.",
        since: "6.2.0",
        ..CommandSpec::new("smismember", -3, READ_FAST, G, smismember)
    },
    CommandSpec {
        keys: RO,
        summary: "Returns the number of members in a set.",
        since: "1.0.0",
        ..CommandSpec::new("scard", 2, READ_FAST, G, scard)
    },
    CommandSpec {
        keys: &[KeySpec::key(
            1,
            KeyFlags::RW.union(KeyFlags::ACCESS).union(KeyFlags::DELETE),
        )],
        tips: RANDOM_TIP,
        summary: "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.",
        since: "1.0.0",
        ..CommandSpec::new("spop", -2, WRITE_FAST, G, spop)
    },
    CommandSpec {
        keys: RO_ACCESS,
        tips: RANDOM_TIP,
        summary: "Get one or multiple random members from a set",
        since: "1.0.0",
        ..CommandSpec::new("srandmember", -2, READ, G, srandmember)
    },
    CommandSpec {
        keys: &[
            KeySpec::key(
                1,
                KeyFlags::RW.union(KeyFlags::ACCESS).union(KeyFlags::DELETE),
            ),
            KeySpec::key(2, KeyFlags::RW_INSERT),
        ],
        summary: "Moves a member from one set to another.",
        since: "1.0.0",
        ..CommandSpec::new("smove", 4, WRITE_FAST, G, smove)
    },
    CommandSpec {
        keys: ALL_RO_ACCESS,
        tips: ORDER_TIP,
        summary: "Returns the union of multiple sets.",
        since: "1.0.0",
        ..CommandSpec::new("sunion", -2, READ, G, sunion)
    },
    CommandSpec {
        keys: ALL_RO_ACCESS,
        tips: ORDER_TIP,
        summary: "Returns the intersect of multiple sets.",
        since: "1.0.0",
        ..CommandSpec::new("sinter", -2, READ, G, sinter)
    },
    CommandSpec {
        keys: ALL_RO_ACCESS,
        tips: ORDER_TIP,
        summary: "Returns the difference of multiple sets.",
        since: "1.0.0",
        ..CommandSpec::new("sdiff", -2, READ, G, sdiff)
    },
    CommandSpec {
        keys: OVERWRITE_STORE,
        summary: "Stores the union of multiple sets in a key.",
        since: "1.0.0",
        ..CommandSpec::new("sunionstore", -3, GROW, G, sunionstore)
    },
    CommandSpec {
        keys: UPDATE_STORE,
        summary: "Stores the intersect of multiple sets in a key.",
        since: "1.0.0",
        ..CommandSpec::new("sinterstore", -3, GROW, G, sinterstore)
    },
    CommandSpec {
        keys: OVERWRITE_STORE,
        summary: "Stores the difference of multiple sets in a key.",
        since: "1.0.0",
        ..CommandSpec::new("sdiffstore", -3, GROW, G, sdiffstore)
    },
    CommandSpec {
        keys: &[KeySpec::keynum(1, 0, 1, 1, KeyFlags::RO_ACCESS)],
        summary: "Returns the number of members of the intersect of multiple sets.",
        since: "7.0.0",
        ..CommandSpec::new("sintercard", -3, READ, G, sintercard)
    },
    CommandSpec {
        keys: RO_ACCESS,
        tips: RANDOM_TIP,
        summary: "Iterates over members of a set.",
        since: "2.8.0",
        ..CommandSpec::new("sscan", -3, READ, G, sscan)
    },
];

// ---------------------------------------------------------------------------------------------
// Lookups.

/// The set at `key` for a read command (counts a keyspace hit or miss).
fn read_set<'g>(guard: &'g mut Guard, key: &[u8]) -> Result<Option<&'g SetValue>, CmdError> {
    guard.get(key).map(Value::as_set).transpose()
}

/// The set at `key` as a write command looks it up before writing (an access, no hit or
/// miss).
fn peek_set<'g>(guard: &'g mut Guard, key: &[u8]) -> Result<Option<&'g SetValue>, CmdError> {
    guard
        .lookup_write(key)
        .map(|e| e.value.as_set())
        .transpose()
}

/// The set at `key` for writing; the caller has checked it exists and is a set.
fn set_mut<'g>(guard: &'g mut Guard, key: &Bytes) -> Result<&'g mut SetValue, CmdError> {
    guard.get_mut(key).ok_or(CmdError::NoSuchKey)?.as_set_mut()
}

/// Runs `read` on the set at `key` (`None` when missing) under the key's lock.
fn with_set(
    ctx: &ExecCtx,
    key: &Bytes,
    read: impl FnOnce(Option<&SetValue>) -> Result<Reply, CmdError>,
) -> Result<Reply, CmdError> {
    let mut guard = ctx.ks().lock(ctx.db(), &[key]);
    read(read_set(&mut guard, key)?)
}

fn count_reply(n: usize) -> Reply {
    Reply::Integer(i64::try_from(n).unwrap_or(i64::MAX))
}

fn members_reply<'a>(members: impl IntoIterator<Item = &'a Bytes>) -> Vec<Reply> {
    members.into_iter().cloned().map(Reply::Bulk).collect()
}

/// Reports that `key` lost its last member and was deleted (the guard removes it on drop).
fn notify_if_emptied(ctx: &ExecCtx, guard: &mut Guard, key: &Bytes) {
    if guard
        .peek(key)
        .is_some_and(|e| e.value.is_empty_aggregate())
    {
        ctx.notify(NotifyClass::GENERIC, "del", key);
    }
}

// ---------------------------------------------------------------------------------------------
// Single-set commands.

fn sadd(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let members = args.rest();
    let limits = ctx.encodings().set;
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let existing = peek_set(&mut guard, &key)?;
    // A set that gains nothing is not written (WATCH and keyspace events see no change).
    if existing.is_some_and(|s| members.iter().all(|m| s.contains(m))) {
        return Ok(Reply::Integer(0));
    }
    let set = if existing.is_some() {
        let set = set_mut(&mut guard, &key)?;
        set.reserve_for(members.len(), &limits);
        set
    } else {
        let first = members.first().cloned().unwrap_or_default();
        guard
            .get_or_insert_with(&key, || {
                Value::Set(SetValue::for_first(&first, members.len(), &limits))
            })
            .as_set_mut()?
    };
    let added = members
        .into_iter()
        .filter(|m| set.insert(m.clone(), &limits))
        .count();
    ctx.notify(NotifyClass::SET, "sadd", &key);
    Ok(count_reply(added))
}

fn srem(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let members = args.rest();
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let present = peek_set(&mut guard, &key)?;
    if !present.is_some_and(|s| members.iter().any(|m| s.contains(m))) {
        return Ok(Reply::Integer(0));
    }
    let set = set_mut(&mut guard, &key)?;
    let removed = members.iter().filter(|m| set.remove(m)).count();
    ctx.notify(NotifyClass::SET, "srem", &key);
    notify_if_emptied(ctx, &mut guard, &key);
    Ok(count_reply(removed))
}

fn smembers(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    with_set(ctx, &key, |s| {
        Ok(Reply::Set(s.map(members_reply).unwrap_or_default()))
    })
}

fn sismember(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let member = args.next_bytes()?;
    with_set(ctx, &key, |s| {
        Ok(Reply::Integer(
            s.is_some_and(|s| s.contains(&member)).into(),
        ))
    })
}

fn smismember(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let members = args.rest();
    with_set(ctx, &key, |s| {
        Ok(Reply::Array(
            members
                .iter()
                .map(|m| Reply::Integer(s.is_some_and(|s| s.contains(m)).into()))
                .collect(),
        ))
    })
}

fn scard(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    with_set(ctx, &key, |s| Ok(count_reply(s.map_or(0, SetValue::len))))
}

fn smove(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let src = args.next_bytes()?;
    let dst = args.next_bytes()?;
    let member = args.next_bytes()?;
    let limits = ctx.encodings().set;
    let mut guard = ctx.ks().lock(ctx.db(), &[&src, &dst]);
    // Both keys are looked up before either is checked, as in Redis.
    let in_src = peek_set(&mut guard, &src).map(|s| s.map(|s| s.contains(&member)));
    let dst_exists = peek_set(&mut guard, &dst).map(|d| d.is_some());
    let Some(in_src) = in_src? else {
        return Ok(Reply::Integer(0));
    };
    let dst_exists = dst_exists?;
    if src == dst || !in_src {
        return Ok(Reply::Integer(in_src.into()));
    }
    set_mut(&mut guard, &src)?.remove(&member);
    ctx.notify(NotifyClass::SET, "srem", &src);
    notify_if_emptied(ctx, &mut guard, &src);
    let set = if dst_exists {
        set_mut(&mut guard, &dst)?
    } else {
        guard
            .get_or_insert_with(&dst, || {
                Value::Set(SetValue::for_first(&member, 1, &limits))
            })
            .as_set_mut()?
    };
    if set.insert(member, &limits) {
        ctx.notify(NotifyClass::SET, "sadd", &dst);
    }
    Ok(Reply::Integer(1))
}

// ---------------------------------------------------------------------------------------------
// Random members.

/// SPOP pops member by member while the set keeps at least this many times fewer members
/// than it loses; past that it builds a new set from the members that stay (Redis's
/// `SPOP_MOVE_STRATEGY_MUL`), which can change the encoding.
const SPOP_MOVE_STRATEGY_MUL: usize = 5;

/// `wanted` distinct positions in `0..len`, ascending (a listpack is sampled in order).
fn sorted_sample(len: usize, wanted: usize) -> Vec<usize> {
    let mut picks = rand::seq::index::sample(&mut rand::rng(), len, wanted).into_vec();
    picks.sort_unstable();
    picks
}

fn spop(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let count = match args.next() {
        None => None,
        Some(_) if !args.is_empty() => return Err(CmdError::Syntax),
        Some(count) => Some(
            parse_i64(&count)
                .ok()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| CmdError::err("value is out of range, must be positive"))?,
        ),
    };
    let limits = ctx.encodings().set;
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let Some(size) = peek_set(&mut guard, &key)?.map(SetValue::len) else {
        return Ok(match count {
            None => Reply::Nil,
            Some(_) => Reply::Set(Vec::new()),
        });
    };
    let reply = match count {
        Some(0) => return Ok(Reply::Set(Vec::new())),
        None => {
            let set = set_mut(&mut guard, &key)?;
            let pick = rand::rng().random_range(0..size);
            ctx.notify(NotifyClass::SET, "spop", &key);
            let popped = set.remove_index(pick);
            propagate_srem(ctx, &key, popped.iter());
            Reply::opt_bulk(popped)
        }
        Some(count) if count >= size => {
            ctx.notify(NotifyClass::SET, "spop", &key);
            let popped = guard.remove(&key).map(|e| e.value);
            let members = match &popped {
                Some(Value::Set(set)) => members_reply(set),
                _ => Vec::new(),
            };
            ctx.notify(NotifyClass::GENERIC, "del", &key);
            ctx.propagate(forms::del(&[&key]));
            return Ok(Reply::Set(members));
        }
        Some(count) => {
            ctx.notify(NotifyClass::SET, "spop", &key);
            let set = set_mut(&mut guard, &key)?;
            let popped = pop_many(set, count, &limits);
            let members = popped.iter().filter_map(|m| match m {
                Reply::Bulk(member) => Some(member),
                _ => None,
            });
            propagate_srem(ctx, &key, members);
            Reply::Set(popped)
        }
    };
    notify_if_emptied(ctx, &mut guard, &key);
    Ok(reply)
}

/// SPOP is propagated as the SREM of the members it happened to pick, 1024 a command as
/// in Redis.
fn propagate_srem<'m>(ctx: &ExecCtx, key: &Bytes, members: impl Iterator<Item = &'m Bytes>) {
    let members: Vec<&[u8]> = members.map(|m| m.as_ref()).collect();
    for batch in members.chunks(1024) {
        ctx.propagate(forms::command(b"SREM", key, batch));
    }
}

/// Pops `count` members (fewer than the set holds) the way Redis 7.4 does, returning them
/// in Redis's reply order.
fn pop_many(set: &mut SetValue, count: usize, limits: &SetLimits) -> Vec<Reply> {
    let size = set.len();
    let remaining = size - count;
    let listpack = set.encoding_kind() == SetEncoding::Listpack;
    if remaining.saturating_mul(SPOP_MOVE_STRATEGY_MUL) > count {
        if listpack {
            // Sampled in list order; removed from the back so positions stay valid.
            let picks = sorted_sample(size, count);
            let replies = picks
                .iter()
                .filter_map(|&i| set.get_index(i).cloned().map(Reply::Bulk))
                .collect();
            for &i in picks.iter().rev() {
                set.remove_index(i);
            }
            return replies;
        }
        let mut rng = rand::rng();
        return (0..count)
            .filter_map(|_| {
                let pick = rng.random_range(0..set.len());
                set.remove_index(pick).map(Reply::Bulk)
            })
            .collect();
    }
    // Keep `remaining` random members in a new set; the old one is the reply.
    let kept_encoding = match set.encoding_kind() {
        SetEncoding::Intset => SetEncoding::Intset,
        SetEncoding::Listpack | SetEncoding::Hashtable => SetEncoding::Listpack,
    };
    let mut kept = SetValue::with_encoding(kept_encoding);
    if listpack {
        for i in sorted_sample(size, remaining).into_iter().rev() {
            if let Some(member) = set.remove_index(i) {
                kept.insert(member, limits);
            }
        }
        // Collected from the back: restore list order.
        let members: Vec<Bytes> = kept.members().iter().rev().cloned().collect();
        kept = SetValue::with_encoding(SetEncoding::Listpack);
        for member in members {
            kept.insert(member, limits);
        }
    } else {
        let mut rng = rand::rng();
        for _ in 0..remaining {
            let pick = rng.random_range(0..set.len());
            if let Some(member) = set.remove_index(pick) {
                kept.insert(member, limits);
            }
        }
    }
    let popped = std::mem::replace(set, kept);
    members_reply(&popped)
}

fn srandmember(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let count = match args.next() {
        None => None,
        Some(_) if !args.is_empty() => return Err(CmdError::Syntax),
        Some(count) => {
            let count = parse_i64(&count)?;
            if count == i64::MIN {
                return Err(CmdError::CountOutOfRange);
            }
            Some(count)
        }
    };
    with_set(ctx, &key, |s| match (s, count) {
        (None, None) => Ok(Reply::Nil),
        (None, Some(_)) => Ok(Reply::Array(Vec::new())),
        (Some(s), None) => {
            let pick = rand::rng().random_range(0..s.len().max(1));
            Ok(Reply::opt_bulk(s.get_index(pick).cloned()))
        }
        (Some(s), Some(count)) => Ok(Reply::Array(random_members(s, count))),
    })
}

/// SRANDMEMBER with a count: independent picks for a negative count, else distinct members
/// (the whole set, in its order, when the count covers it; a listpack in list order).
fn random_members(set: &SetValue, count: i64) -> Vec<Reply> {
    let size = set.len();
    let wanted = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
    if size == 0 {
        return Vec::new();
    }
    let positions: Vec<usize> = if count < 0 {
        let mut rng = rand::rng();
        // The reply grows as it is built: never reserve from the client's number.
        let mut picks = Vec::with_capacity(wanted.min(1024));
        picks.extend((0..wanted).map(|_| rng.random_range(0..size)));
        picks
    } else if wanted >= size {
        (0..size).collect()
    } else if set.encoding_kind() == SetEncoding::Listpack {
        sorted_sample(size, wanted)
    } else {
        rand::seq::index::sample(&mut rand::rng(), size, wanted).into_vec()
    };
    positions
        .into_iter()
        .filter_map(|i| set.get_index(i).cloned().map(Reply::Bulk))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Union, intersection, difference.

/// The sets at `keys` (`None` for a missing key), read in order; WRONGTYPE if any key holds
/// another type. Cloned so several can be read at once (member bytes are shared, not copied).
fn read_sets(guard: &mut Guard, keys: &[Bytes]) -> Result<Vec<Option<SetValue>>, CmdError> {
    let mut sets = Vec::with_capacity(keys.len());
    let mut wrong_type = false;
    for key in keys {
        match guard.get(key) {
            None => sets.push(None),
            Some(Value::Set(set)) => sets.push(Some(set.clone())),
            // Every key is still looked up (and counted) before the error.
            Some(_) => wrong_type = true,
        }
    }
    if wrong_type {
        return Err(CmdError::WrongType);
    }
    Ok(sets)
}

#[derive(Clone, Copy, PartialEq)]
enum SetOp {
    Union,
    Diff,
}

/// SUNION / SDIFF (and their STORE forms): the result built as Redis builds it, member by
/// member from an empty intset, so its encoding and order are Redis's.
fn union_or_diff(sets: &[Option<SetValue>], op: SetOp, limits: &SetLimits) -> SetValue {
    let mut result = SetValue::default();
    let present = || sets.iter().flatten();
    match op {
        SetOp::Union => {
            for set in present() {
                for member in set {
                    result.insert(member.clone(), limits);
                }
            }
        }
        SetOp::Diff => {
            let Some(Some(first)) = sets.first() else {
                return result;
            };
            let others: Vec<&SetValue> = sets[1..].iter().flatten().collect();
            // Redis picks the cheaper of two algorithms; they differ in what the result
            // held on the way, hence in its final encoding.
            let one = present().map(|_| first.len()).sum::<usize>() / 2;
            let two = present().map(SetValue::len).sum::<usize>();
            if one <= two {
                for member in first {
                    if !others.iter().any(|s| s.contains(member)) {
                        result.insert(member.clone(), limits);
                    }
                }
            } else {
                for member in first {
                    result.insert(member.clone(), limits);
                }
                for member in others.iter().flat_map(|s| s.members()) {
                    result.remove(member);
                    if result.is_empty() {
                        break;
                    }
                }
            }
        }
    }
    result
}

/// SINTER's members: those of the smallest set found in every other, in the smallest
/// set's order; empty when a key is missing.
fn intersection(sets: &[Option<SetValue>]) -> (Vec<&Bytes>, Option<&SetValue>) {
    let Some(mut present) = sets.iter().map(Option::as_ref).collect::<Option<Vec<_>>>() else {
        return (Vec::new(), None);
    };
    present.sort_by_key(|s| s.len());
    let Some((first, others)) = present.split_first() else {
        return (Vec::new(), None);
    };
    let members = first
        .members()
        .iter()
        .filter(|m| others.iter().all(|s| s.contains(m)))
        .collect();
    (members, Some(first))
}

/// SINTERSTORE's result: started in the smallest set's compact form (an intset from an
/// intset, otherwise a listpack), filled member by member, then an intset when it holds
/// integers only and fits one.
fn intersection_set(sets: &[Option<SetValue>], limits: &SetLimits) -> SetValue {
    let (members, first) = intersection(sets);
    let encoding = match first.map(SetValue::encoding_kind) {
        Some(SetEncoding::Intset) | None => SetEncoding::Intset,
        Some(_) => SetEncoding::Listpack,
    };
    let mut result = SetValue::with_encoding(encoding);
    for member in members {
        result.insert(member.clone(), limits);
    }
    result.compact_integers(limits);
    result
}

fn sunion(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    set_op_reply(ctx, args, SetOp::Union)
}

fn sdiff(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    set_op_reply(ctx, args, SetOp::Diff)
}

fn set_op_reply(ctx: &mut ExecCtx, args: &mut Args, op: SetOp) -> Result<Reply, CmdError> {
    let keys = args.rest();
    let limits = ctx.encodings().set;
    let mut guard = ctx.ks().lock(ctx.db(), &keys);
    let sets = read_sets(&mut guard, &keys)?;
    Ok(Reply::Set(members_reply(&union_or_diff(
        &sets, op, &limits,
    ))))
}

fn sinter(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let keys = args.rest();
    let mut guard = ctx.ks().lock(ctx.db(), &keys);
    let sets = read_sets(&mut guard, &keys)?;
    Ok(Reply::Set(members_reply(intersection(&sets).0)))
}

fn sunionstore(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    store(ctx, args, "sunionstore", |sets, limits| {
        union_or_diff(sets, SetOp::Union, limits)
    })
}

fn sdiffstore(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    store(ctx, args, "sdiffstore", |sets, limits| {
        union_or_diff(sets, SetOp::Diff, limits)
    })
}

fn sinterstore(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    store(ctx, args, "sinterstore", intersection_set)
}

/// The STORE commands: computes the result from the source keys and replaces the
/// destination with it (TTL cleared), or deletes the destination when the result is empty.
fn store(
    ctx: &mut ExecCtx,
    args: &mut Args,
    event: &str,
    compute: impl FnOnce(&[Option<SetValue>], &SetLimits) -> SetValue,
) -> Result<Reply, CmdError> {
    let dst = args.next_bytes()?;
    let keys = args.rest();
    let limits = ctx.encodings().set;
    let mut locked = keys.clone();
    locked.push(dst.clone());
    let mut guard = ctx.ks().lock(ctx.db(), &locked);
    let sets = read_sets(&mut guard, &keys)?;
    let result = compute(&sets, &limits);
    if result.is_empty() {
        if guard.remove(&dst).is_some() {
            ctx.notify(NotifyClass::GENERIC, "del", &dst);
        }
        return Ok(Reply::Integer(0));
    }
    let len = result.len();
    guard.insert(dst.clone(), Value::Set(result), Ttl::Clear);
    ctx.notify(NotifyClass::SET, event, &dst);
    Ok(count_reply(len))
}

fn sintercard(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let numkeys = args.next_bytes()?;
    let numkeys = parse_i64(&numkeys)
        .ok()
        .filter(|&n| n > 0)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| CmdError::err("numkeys should be greater than 0"))?;
    if numkeys > args.remaining() {
        return Err(CmdError::err(
            "Number of keys can't be greater than number of args",
        ));
    }
    let all = args.rest();
    let (keys, options) = all.split_at(numkeys);
    let mut limit = 0usize;
    let mut options = options.iter();
    while let Some(option) = options.next() {
        match options.as_slice().first() {
            Some(value) if eq_ignore_case(option, "limit") => {
                options.next();
                limit = parse_i64(value)
                    .ok()
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or_else(|| CmdError::err("LIMIT can't be negative"))?;
            }
            _ => return Err(CmdError::Syntax),
        }
    }
    let mut guard = ctx.ks().lock(ctx.db(), keys);
    let sets = read_sets(&mut guard, keys)?;
    let found = intersection(&sets).0.len();
    Ok(count_reply(if limit == 0 {
        found
    } else {
        found.min(limit)
    }))
}

// ---------------------------------------------------------------------------------------------
// SSCAN.

fn sscan(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let cursor = parse_cursor(&args.next_bytes()?)?;
    with_set(ctx, &key, |s| {
        let Some(s) = s else {
            return Ok(scan_reply(0, Vec::new()));
        };
        let opts = ScanOptions::parse(args, false)?;
        let mut items = Vec::new();
        let mut visit = |member: &Bytes| {
            if opts.matches(member) {
                items.push(Reply::Bulk(member.clone()));
            }
        };
        let next = if s.encoding_kind() == SetEncoding::Hashtable {
            let remaining = usize::try_from(cursor).unwrap_or(usize::MAX);
            scan_positions(s.len(), remaining, opts.count, |i| {
                if let Some(member) = s.get_index(i) {
                    visit(member);
                }
            })
            .0
        } else {
            // An intset or listpack is returned whole, whatever the cursor and COUNT.
            s.members().iter().for_each(&mut visit);
            0
        };
        Ok(scan_reply(next as u64, items))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Arity, flags and key positions as Redis 7.0's `COMMAND INFO` reports them.
    #[test]
    fn rows_match_redis_command_info() {
        type Row = (&'static str, i32, &'static [&'static str], (i32, i32, i32));
        let expected: &[Row] = &[
            ("sadd", -3, &["write", "denyoom", "fast"], (1, 1, 1)),
            ("srem", -3, &["write", "fast"], (1, 1, 1)),
            ("smembers", 2, &["readonly"], (1, 1, 1)),
            ("sismember", 3, &["readonly", "fast"], (1, 1, 1)),
            ("smismember", -3, &["readonly", "fast"], (1, 1, 1)),
            ("scard", 2, &["readonly", "fast"], (1, 1, 1)),
            ("spop", -2, &["write", "fast"], (1, 1, 1)),
            ("srandmember", -2, &["readonly"], (1, 1, 1)),
            ("smove", 4, &["write", "fast"], (1, 2, 1)),
            ("sunion", -2, &["readonly"], (1, -1, 1)),
            ("sinter", -2, &["readonly"], (1, -1, 1)),
            ("sdiff", -2, &["readonly"], (1, -1, 1)),
            ("sunionstore", -3, &["write", "denyoom"], (1, -1, 1)),
            ("sinterstore", -3, &["write", "denyoom"], (1, -1, 1)),
            ("sdiffstore", -3, &["write", "denyoom"], (1, -1, 1)),
            ("sintercard", -3, &["readonly"], (0, 0, 0)),
            ("sscan", -3, &["readonly"], (1, 1, 1)),
        ];
        assert_eq!(COMMANDS.len(), expected.len());
        for &(name, arity, flags, keys) in expected {
            let spec = COMMANDS
                .iter()
                .find(|s| s.name == name)
                .unwrap_or_else(|| panic!("{name} missing"));
            assert_eq!(spec.arity, arity, "{name}");
            assert_eq!(spec.flags.names(), flags, "{name}");
            assert_eq!(spec.key_triple(), keys, "{name}");
            assert_eq!(spec.group, "set");
        }
    }

    fn set_of(members: &[&str]) -> SetValue {
        let limits = SetLimits::DEFAULT;
        let mut set = SetValue::default();
        for m in members {
            set.insert(Bytes::copy_from_slice(m.as_bytes()), &limits);
        }
        set
    }

    #[test]
    fn diff_result_encoding_follows_the_chosen_algorithm() {
        let limits = SetLimits::DEFAULT;
        // Algorithm 1 (iterate the first set): only survivors are added -> intset.
        let sets = [Some(set_of(&["1", "2", "a"])), Some(set_of(&["a"]))];
        assert_eq!(
            union_or_diff(&sets, SetOp::Diff, &limits).encoding(),
            "intset"
        );
        // Algorithm 2 (add all, then remove; chosen when the first set is large against
        // the others): the removed string left its mark.
        let sets = [
            Some(set_of(&["a", "1", "2", "3", "4", "5", "6", "7", "8", "9"])),
            Some(set_of(&["a"])),
            Some(set_of(&["x"])),
            Some(set_of(&["y"])),
            Some(set_of(&["z"])),
        ];
        let result = union_or_diff(&sets, SetOp::Diff, &limits);
        assert_eq!(result.len(), 9);
        assert_eq!(result.encoding(), "listpack");
    }

    #[test]
    fn spop_most_members_rebuilds_the_set() {
        let limits = SetLimits::DEFAULT;
        let members: Vec<String> = (0..200).map(|i| format!("m{i}")).collect();
        let members: Vec<&str> = members.iter().map(String::as_str).collect();
        let mut set = set_of(&members);
        assert_eq!(set.encoding(), "hashtable");
        assert_eq!(pop_many(&mut set, 190, &limits).len(), 190);
        assert_eq!(set.len(), 10);
        assert_eq!(set.encoding(), "listpack");
    }
}
