//! Consumer groups: XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM and XAUTOCLAIM.
//!
//! Group bookkeeping (cursor, PEL, consumers) is not a change of the key in Redis (no
//! `signalModifiedKey`), so it goes through `Guard::get_mut_quiet`: WATCH and blocked
//! readers are not disturbed by it.

use bytes::Bytes;

use super::{
    IdForm, entry_reply, id_reply, now_ms, parse_count, parse_range_end, parse_read_args,
    parse_strict_id, read_stream, stream_for_write, streams_reply, write_stream,
};
use crate::blocking::{self, BlockRequest};
use crate::clients::ClientFlags;
use crate::commands::args::{eq_ignore_case, parse_i64};
use crate::commands::{Args, ExecCtx};
use crate::error::{CmdError, c_str};
use crate::keyspace::stream::{Group, INVALID_ENTRIES_READ, StreamId};
use crate::keyspace::{Guard, StreamValue, Value};
use crate::protocol::Reply;
use crate::pubsub::NotifyClass;

/// `NOGROUP No such key 'k' or consumer group 'g'` followed by `suffix`.
fn no_key_or_group(key: &[u8], group: &[u8], suffix: &str) -> CmdError {
    CmdError::coded_echo(&[
        b"NOGROUP No such key '",
        c_str(key, usize::MAX),
        b"' or consumer group '",
        c_str(group, usize::MAX),
        b"'",
        suffix.as_bytes(),
    ])
}

/// `NOGROUP No such consumer group 'g' for key name 'k'`.
pub(super) fn no_group(key: &[u8], group: &[u8]) -> CmdError {
    CmdError::coded_echo(&[
        b"NOGROUP No such consumer group '",
        c_str(group, usize::MAX),
        b"' for key name '",
        c_str(key, usize::MAX),
        b"'",
    ])
}

/// The stream and group a group command works on, or the NOGROUP error with `suffix`.
fn stream_and_group<'g>(
    guard: &'g mut Guard,
    key: &[u8],
    group: &[u8],
    suffix: &str,
) -> Result<(&'g mut StreamValue, Bytes), CmdError> {
    match write_stream(guard, key)? {
        Some(stream) if stream.groups.contains_key(group) => {
            Ok((stream, Bytes::copy_from_slice(group)))
        }
        _ => Err(no_key_or_group(key, group, suffix)),
    }
}

/// Creates `consumer` in `group` when missing (notifying as Redis does) and marks it seen.
fn touch_consumer(ctx: &ExecCtx, key: &[u8], group: &mut Group, consumer: &Bytes, now: u64) {
    if group.create_consumer(consumer, now) {
        ctx.notify(NotifyClass::STREAM, "xgroup-createconsumer", key);
    }
    if let Some(c) = group.consumers.get_mut(consumer) {
        c.seen_time = now;
    }
}

// ---------------------------------------------------------------------------------------------
// XGROUP.

fn entries_read_arg(arg: &[u8]) -> Result<i64, CmdError> {
    let n = parse_i64(arg)?;
    if n < 0 && n != INVALID_ENTRIES_READ {
        return Err(CmdError::err(
            "value for ENTRIESREAD must be positive or -1",
        ));
    }
    Ok(n)
}

/// The key and group name of an XGROUP subcommand, with the key's stream (WRONGTYPE for
/// another type). A missing key is an error unless `mkstream`.
fn xgroup_target<'g>(
    guard: &'g mut Guard,
    argv: &[Bytes],
    mkstream: bool,
) -> Result<Option<&'g mut StreamValue>, CmdError> {
    let stream = write_stream(guard, &argv[2])?;
    if stream.is_none() && !mkstream {
        return Err(CmdError::err(
            "The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.",
        ));
    }
    Ok(stream)
}

pub(super) fn xgroup_create(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let argv = args.argv().to_vec();
    let mut mkstream = false;
    let mut entries_read = INVALID_ENTRIES_READ;
    let mut i = 5;
    while i < argv.len() {
        if eq_ignore_case(&argv[i], "mkstream") {
            mkstream = true;
            i += 1;
        } else if eq_ignore_case(&argv[i], "entriesread") && i + 1 < argv.len() {
            entries_read = entries_read_arg(&argv[i + 1])?;
            i += 2;
        } else {
            return Err(CmdError::subcommand_syntax("xgroup", &argv[1]));
        }
    }
    let (key, name) = (&argv[2], &argv[3]);
    let mut guard = ctx.ks().lock(ctx.db(), &[key]);
    let existing = xgroup_target(&mut guard, &argv, mkstream)?;
    let exists = existing
        .as_ref()
        .is_some_and(|s| s.groups.contains_key(name));
    if argv.len() > 8 {
        return Err(CmdError::subcommand_syntax("xgroup", &argv[1]));
    }
    let id = match argv[4].as_ref() {
        b"$" => existing.as_ref().map_or(StreamId::ZERO, |s| s.last_id),
        arg => parse_strict_id(arg)?,
    };
    if exists {
        return Err(CmdError::Coded(
            "BUSYGROUP Consumer Group name already exists".to_string(),
        ));
    }
    let stream = match existing {
        Some(stream) => stream,
        None => stream_for_write(&mut guard, key)?,
    };
    stream
        .groups
        .insert(name.clone(), Group::new(id, entries_read));
    drop(guard);
    ctx.notify(NotifyClass::STREAM, "xgroup-create", key);
    Ok(Reply::ok())
}

pub(super) fn xgroup_setid(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let argv = args.argv().to_vec();
    let mut entries_read = INVALID_ENTRIES_READ;
    match argv.len() {
        5 => {}
        7 if eq_ignore_case(&argv[5], "entriesread") => {
            entries_read = entries_read_arg(&argv[6])?;
        }
        _ => return Err(CmdError::subcommand_syntax("xgroup", &argv[1])),
    }
    let (key, name) = (&argv[2], &argv[3]);
    let mut guard = ctx.ks().lock(ctx.db(), &[key]);
    let Some(stream) = xgroup_target(&mut guard, &argv, false)? else {
        return Err(no_group(key, name));
    };
    let last = stream.last_id;
    let Some(group) = stream.groups.get_mut(name) else {
        return Err(no_group(key, name));
    };
    let id = match argv[4].as_ref() {
        b"$" => last,
        arg => super::parse_id_form(arg, 0, IdForm::Range)?.0,
    };
    group.last_id = id;
    group.entries_read = entries_read;
    drop(guard);
    ctx.notify(NotifyClass::STREAM, "xgroup-setid", key);
    Ok(Reply::ok())
}

pub(super) fn xgroup_destroy(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let argv = args.argv().to_vec();
    let (key, name) = (&argv[2], &argv[3]);
    let mut guard = ctx.ks().lock(ctx.db(), &[key]);
    let Some(stream) = xgroup_target(&mut guard, &argv, false)? else {
        return Ok(Reply::Integer(0));
    };
    if !stream.groups.contains_key(name) {
        return Ok(Reply::Integer(0));
    }
    // A written key: readers blocked on the group wake up and get NOGROUP.
    if let Some(Value::Stream(stream)) = guard.get_mut(key) {
        stream.groups.remove(name);
    }
    drop(guard);
    ctx.notify(NotifyClass::STREAM, "xgroup-destroy", key);
    Ok(Reply::Integer(1))
}

pub(super) fn xgroup_createconsumer(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let argv = args.argv().to_vec();
    let (key, name, consumer) = (&argv[2], &argv[3], &argv[4]);
    let mut guard = ctx.ks().lock(ctx.db(), &[key]);
    let group = xgroup_target(&mut guard, &argv, false)?
        .and_then(|s| s.groups.get_mut(name))
        .ok_or_else(|| no_group(key, name))?;
    let created = group.create_consumer(consumer, now_ms());
    drop(guard);
    if created {
        ctx.notify(NotifyClass::STREAM, "xgroup-createconsumer", key);
    }
    Ok(Reply::Integer(i64::from(created)))
}

pub(super) fn xgroup_delconsumer(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let argv = args.argv().to_vec();
    let (key, name, consumer) = (&argv[2], &argv[3], &argv[4]);
    let mut guard = ctx.ks().lock(ctx.db(), &[key]);
    let group = xgroup_target(&mut guard, &argv, false)?
        .and_then(|s| s.groups.get_mut(name))
        .ok_or_else(|| no_group(key, name))?;
    let pending = group.delete_consumer(consumer);
    drop(guard);
    if pending.is_some() {
        ctx.notify(NotifyClass::STREAM, "xgroup-delconsumer", key);
    }
    Ok(Reply::Integer(pending.unwrap_or(0) as i64))
}

pub(super) fn xgroup_help(_ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    Ok(super::help_reply(
        "XGROUP",
        &[
            "CREATE <key> <groupname> <id|$> [option]",
            "    Create a new consumer group. Options are:",
            "    * MKSTREAM",
            "      Create the empty stream if it does not exist.",
            "    * ENTRIESREAD entries_read",
            "      Set the group's entries_read counter (internal use).",
            "CREATECONSUMER <key> <groupname> <consumer>",
            "    Create a new consumer in the specified group.",
            "DELCONSUMER <key> <groupname> <consumer>",
            "    Remove the specified consumer.",
            "DESTROY <key> <groupname>",
            "    Remove the specified group.",
            "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
            "    Set the current group ID and entries_read counter.",
        ],
    ))
}

// ---------------------------------------------------------------------------------------------
// XREADGROUP.

pub(super) fn xreadgroup(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let argv = args.argv().to_vec();
    let parsed = parse_read_args(&argv, true)?;
    let Some((group_name, consumer)) = parsed.group.clone() else {
        return Err(CmdError::err("Missing GROUP option for XREADGROUP"));
    };
    // Run again for a blocked client: a stream or group that vanished meanwhile ends the
    // wait with Redis's own errors.
    let rerun = ctx.client.handle.has_flag(ClientFlags::BLOCKED);
    let mut guard = ctx.ks().lock(ctx.db(), &parsed.keys);
    // Check every key, group and id before serving any. `None`: `>`.
    let mut history = Vec::with_capacity(parsed.keys.len());
    for (key, arg) in parsed.keys.iter().zip(&parsed.ids) {
        let stream = read_stream(&mut guard, key)?;
        if rerun {
            match stream {
                None => {
                    return Err(CmdError::Coded(
                        "UNBLOCKED the stream key no longer exists".to_string(),
                    ));
                }
                Some(s) if !s.groups.contains_key(&group_name) => {
                    return Err(CmdError::Coded(
                        "NOGROUP the consumer group this client was blocked on no longer exists"
                            .to_string(),
                    ));
                }
                Some(_) => {}
            }
        }
        if !stream.is_some_and(|s| s.groups.contains_key(&group_name)) {
            return Err(no_key_or_group(
                key,
                &group_name,
                " in XREADGROUP with GROUP option",
            ));
        }
        history.push(match arg.as_ref() {
            b"$" => {
                return Err(CmdError::err(
                    "The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
                ));
            }
            b">" => None,
            _ => Some(parse_strict_id(arg)?),
        });
    }
    let now = now_ms();
    let take = match parsed.count {
        0 => usize::MAX,
        n => usize::try_from(n).unwrap_or(usize::MAX),
    };
    let mut served = Vec::new();
    for (key, from) in parsed.keys.iter().zip(&history) {
        let Some(stream) = write_stream(&mut guard, key)? else {
            continue;
        };
        let Some(group) = stream.groups.get_mut(&group_name) else {
            continue;
        };
        // `>` serves only when the stream holds entries the group has not seen; the
        // consumer is created (or marked seen) only when the stream is served, as in 7.0.
        let group_last = group.last_id;
        if from.is_none() && stream.last().is_none_or(|(top, _)| top <= group_last) {
            continue;
        }
        if let Some(group) = stream.groups.get_mut(&group_name) {
            touch_consumer(ctx, key, group, &consumer, now);
        }
        let entries = match from {
            Some(after) => read_history(stream, &group_name, &consumer, *after, take, now),
            None => deliver_new(stream, &group_name, &consumer, take, parsed.noack, now),
        };
        served.push((Reply::Bulk(key.clone()), Reply::Array(entries)));
    }
    drop(guard);
    if !served.is_empty() {
        return Ok(streams_reply(ctx, served));
    }
    let Some(timeout) = parsed.block else {
        return Ok(Reply::NilArray);
    };
    Ok(ctx.block(BlockRequest {
        keys: parsed.keys,
        value_type: "stream",
        wake_on_delete: true,
        deadline: blocking::deadline(timeout),
        timeout_reply: Reply::NilArray,
        retry_argv: None,
    }))
}

/// XREADGROUP `>`: entries after the group's last delivered id, moved into the PEL of
/// `consumer` unless `noack`.
fn deliver_new(
    stream: &mut StreamValue,
    group_name: &Bytes,
    consumer: &Bytes,
    take: usize,
    noack: bool,
    now: u64,
) -> Vec<Reply> {
    let Some(start) = stream.groups.get(group_name).and_then(|g| g.last_id.incr()) else {
        return Vec::new();
    };
    let batch: Vec<(StreamId, Vec<Bytes>)> = stream
        .range(start, StreamId::MAX, false)
        .take(take)
        .map(|(id, fields)| (id, fields.clone()))
        .collect();
    let mut out = Vec::with_capacity(batch.len());
    for (id, fields) in batch {
        stream.advance_group(group_name, id);
        if !noack && let Some(group) = stream.groups.get_mut(group_name) {
            let pending = group.assign(id, consumer, now);
            pending.delivery_time = now;
            pending.delivery_count = 1;
        }
        out.push(entry_reply(id, &fields));
    }
    out
}

/// XREADGROUP with an id: the consumer's own pending entries after `after`, delivered again
/// (a deleted entry comes back as `[id, nil]`).
fn read_history(
    stream: &mut StreamValue,
    group_name: &Bytes,
    consumer: &Bytes,
    after: StreamId,
    take: usize,
    now: u64,
) -> Vec<Reply> {
    let Some(start) = after.incr() else {
        return Vec::new();
    };
    let ids: Vec<StreamId> = stream
        .groups
        .get(group_name)
        .and_then(|g| g.consumers.get(consumer))
        .map(|c| c.pel.range(start..).take(take).copied().collect())
        .unwrap_or_default();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        match stream.get(id) {
            Some(fields) => {
                out.push(entry_reply(id, fields));
                if let Some(p) = stream
                    .groups
                    .get_mut(group_name)
                    .and_then(|g| g.pel.get_mut(&id))
                {
                    p.delivery_time = now;
                    p.delivery_count = p.delivery_count.wrapping_add(1);
                }
            }
            None => out.push(Reply::Array(vec![id_reply(id), Reply::NilArray])),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// XACK and XPENDING.

pub(super) fn xack(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let name = args.next_bytes()?;
    let ids = args.rest();
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let Some(group) = write_stream(&mut guard, &key)?.and_then(|s| s.groups.get_mut(&name)) else {
        return Ok(Reply::Integer(0));
    };
    // All or nothing: every id is parsed before any is acknowledged.
    let ids = ids
        .iter()
        .map(|arg| parse_strict_id(arg))
        .collect::<Result<Vec<_>, _>>()?;
    let acked = ids.into_iter().filter(|id| group.ack(*id)).count();
    Ok(Reply::Integer(acked as i64))
}

pub(super) fn xpending(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let argv = args.argv().to_vec();
    let argc = argv.len();
    if argc != 3 && !(6..=9).contains(&argc) {
        return Err(CmdError::Syntax);
    }
    // The extended form: [IDLE min] start end count [consumer], checked before the key.
    let mut extended = None;
    if argc >= 6 {
        let mut at = 3;
        let mut min_idle = 0;
        if eq_ignore_case(&argv[3], "idle") {
            min_idle = parse_i64(&argv[4])?;
            if argc < 8 {
                return Err(CmdError::Syntax);
            }
            at += 2;
        }
        let count = parse_count(&argv[at + 2])?;
        let start = parse_range_end(&argv[at], false)?;
        let end = parse_range_end(&argv[at + 1], true)?;
        let consumer = argv.get(at + 3).cloned();
        extended = Some((min_idle, start, end, count, consumer));
    }
    let (key, name) = (&argv[1], &argv[2]);
    let mut guard = ctx.ks().lock(ctx.db(), &[key]);
    let group = read_stream(&mut guard, key)?
        .and_then(|s| s.groups.get(name))
        .ok_or_else(|| no_key_or_group(key, name, ""))?;
    let Some((min_idle, start, end, count, consumer)) = extended else {
        return Ok(pending_summary(group));
    };
    let now = now_ms();
    let ids: Box<dyn Iterator<Item = &StreamId>> = match &consumer {
        Some(name) => match group.consumers.get(name) {
            Some(c) if start <= end => Box::new(c.pel.range(start..=end)),
            Some(_) => Box::new(std::iter::empty()),
            None => return Ok(Reply::Array(Vec::new())),
        },
        None if start <= end => Box::new(group.pel.range(start..=end).map(|(id, _)| id)),
        None => Box::new(std::iter::empty()),
    };
    let mut out = Vec::new();
    for id in ids {
        if out.len() as u64 >= count {
            break;
        }
        let Some(p) = group.pel.get(id) else {
            continue;
        };
        let idle = now.saturating_sub(p.delivery_time) as i64;
        if min_idle > 0 && idle < min_idle {
            continue;
        }
        out.push(Reply::Array(vec![
            id_reply(*id),
            Reply::Bulk(p.consumer.clone()),
            Reply::Integer(idle),
            Reply::Integer(p.delivery_count as i64),
        ]));
    }
    Ok(Reply::Array(out))
}

/// XPENDING key group: count, smallest and greatest pending ids, and per consumer counts.
fn pending_summary(group: &Group) -> Reply {
    let (Some((first, _)), Some((last, _))) =
        (group.pel.iter().next(), group.pel.iter().next_back())
    else {
        return Reply::Array(vec![
            Reply::Integer(0),
            Reply::Nil,
            Reply::Nil,
            Reply::NilArray,
        ]);
    };
    let consumers = group
        .consumers
        .iter()
        .filter(|(_, c)| !c.pel.is_empty())
        .map(|(name, c)| {
            Reply::Array(vec![
                Reply::Bulk(name.clone()),
                Reply::Bulk(Bytes::from(c.pel.len().to_string())),
            ])
        })
        .collect();
    Reply::Array(vec![
        Reply::Integer(group.pel.len() as i64),
        id_reply(*first),
        id_reply(*last),
        Reply::Array(consumers),
    ])
}

// ---------------------------------------------------------------------------------------------
// XCLAIM and XAUTOCLAIM.

/// An integer option of XCLAIM / XAUTOCLAIM with Redis's own error text.
fn claim_int(arg: &[u8], message: &str) -> Result<i64, CmdError> {
    parse_i64(arg).map_err(|_| CmdError::err(message))
}

/// Moves pending entry `id` to `consumer` as a claim does; the reply element for it.
#[allow(clippy::too_many_arguments)]
fn claim_one(
    stream: &mut StreamValue,
    group_name: &Bytes,
    consumer: &Bytes,
    id: StreamId,
    delivery_time: u64,
    retry_count: Option<u64>,
    justid: bool,
) -> Reply {
    let entry = stream.get(id).map(|fields| entry_reply(id, fields));
    if let Some(group) = stream.groups.get_mut(group_name) {
        let pending = group.assign(id, consumer, delivery_time);
        pending.delivery_time = delivery_time;
        match retry_count {
            Some(n) => pending.delivery_count = n,
            None if !justid => pending.delivery_count = pending.delivery_count.wrapping_add(1),
            None => {}
        }
    }
    match (justid, entry) {
        (true, _) => id_reply(id),
        (false, Some(entry)) => entry,
        (false, None) => Reply::Nil,
    }
}

pub(super) fn xclaim(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let argv = args.argv().to_vec();
    let (key, name, consumer) = (&argv[1], &argv[2], &argv[3]);
    let mut guard = ctx.ks().lock(ctx.db(), &[key]);
    let (stream, group_name) = stream_and_group(&mut guard, key, name, "")?;
    let min_idle = claim_int(&argv[4], "Invalid min-idle-time argument for XCLAIM")?.max(0);
    let ids: Vec<StreamId> = argv[5..]
        .iter()
        .map_while(|arg| parse_strict_id(arg).ok())
        .collect();
    let now = now_ms() as i64;
    let (mut force, mut justid) = (false, false);
    let mut delivery_time: Option<i64> = None;
    let mut retry_count: Option<i64> = None;
    let mut last_id = StreamId::ZERO;
    let mut j = 5 + ids.len();
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        let opt = &argv[j];
        if eq_ignore_case(opt, "force") {
            force = true;
        } else if eq_ignore_case(opt, "justid") {
            justid = true;
        } else if eq_ignore_case(opt, "idle") && more > 0 {
            j += 1;
            let idle = claim_int(&argv[j], "Invalid IDLE option argument for XCLAIM")?;
            delivery_time = Some(now.wrapping_sub(idle));
        } else if eq_ignore_case(opt, "time") && more > 0 {
            j += 1;
            delivery_time = Some(claim_int(
                &argv[j],
                "Invalid TIME option argument for XCLAIM",
            )?);
        } else if eq_ignore_case(opt, "retrycount") && more > 0 {
            j += 1;
            retry_count = Some(claim_int(
                &argv[j],
                "Invalid RETRYCOUNT option argument for XCLAIM",
            )?);
        } else if eq_ignore_case(opt, "lastid") && more > 0 {
            j += 1;
            last_id = parse_strict_id(&argv[j])?;
        } else {
            return Err(CmdError::err_echo(&[
                b"Unrecognized XCLAIM option '",
                c_str(opt, usize::MAX),
                b"'",
            ]));
        }
        j += 1;
    }
    let delivery_time = match delivery_time {
        Some(t) if (0..=now).contains(&t) => t,
        _ => now,
    } as u64;
    // A negative RETRYCOUNT means "not given", as in Redis.
    let retry_count = retry_count.and_then(|n| u64::try_from(n).ok());
    let now = now as u64;
    let mut out = Vec::new();
    let mut touched = false;
    {
        let group = stream.groups.get_mut(&group_name);
        if let Some(group) = group
            && last_id > group.last_id
        {
            group.last_id = last_id;
        }
    }
    for id in ids {
        let exists = stream.get(id).is_some();
        let Some(group) = stream.groups.get_mut(&group_name) else {
            break;
        };
        if !exists {
            // The entry is gone: its pending entry goes too.
            group.ack(id);
            continue;
        }
        let known = group.pel.get(&id).map(|p| p.delivery_time);
        let Some(delivered) = known.or(force.then_some(now)) else {
            continue;
        };
        if known.is_some() && min_idle > 0 && now.saturating_sub(delivered) < min_idle as u64 {
            continue;
        }
        if !touched {
            touch_consumer(ctx, key, group, consumer, now);
            touched = true;
        }
        out.push(claim_one(
            stream,
            &group_name,
            consumer,
            id,
            delivery_time,
            retry_count,
            justid,
        ));
    }
    Ok(Reply::Array(out))
}

pub(super) fn xautoclaim(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    const ATTEMPTS_FACTOR: i64 = 10;
    let argv = args.argv().to_vec();
    let (key, name, consumer) = (&argv[1], &argv[2], &argv[3]);
    let min_idle = claim_int(&argv[4], "Invalid min-idle-time argument for XAUTOCLAIM")?.max(0);
    let start = parse_range_end(&argv[5], false)?;
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        if eq_ignore_case(&argv[j], "count") && more > 0 {
            let max = i64::MAX / 16;
            count = match parse_i64(&argv[j + 1]) {
                Ok(n) if (1..=max).contains(&n) => n,
                _ => return Err(CmdError::err("COUNT must be > 0")),
            };
            j += 1;
        } else if eq_ignore_case(&argv[j], "justid") {
            justid = true;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let mut guard = ctx.ks().lock(ctx.db(), &[key]);
    let (stream, group_name) = stream_and_group(&mut guard, key, name, "")?;
    let now = now_ms();
    let pel: Vec<StreamId> = stream
        .groups
        .get(&group_name)
        .map(|g| g.pel.range(start..).map(|(id, _)| *id).collect())
        .unwrap_or_default();
    let mut attempts = count.saturating_mul(ATTEMPTS_FACTOR);
    let mut claimed = Vec::new();
    let mut deleted = Vec::new();
    let mut next = 0;
    let mut touched = false;
    while attempts > 0 && count > 0 && next < pel.len() {
        attempts -= 1;
        let id = pel[next];
        next += 1;
        let exists = stream.get(id).is_some();
        let Some(group) = stream.groups.get_mut(&group_name) else {
            break;
        };
        if !exists {
            group.ack(id);
            deleted.push(id_reply(id));
            count -= 1;
            continue;
        }
        let delivered = group.pel.get(&id).map_or(now, |p| p.delivery_time);
        if min_idle > 0 && now.saturating_sub(delivered) < min_idle as u64 {
            continue;
        }
        if !touched {
            touch_consumer(ctx, key, group, consumer, now);
            touched = true;
        }
        claimed.push(claim_one(
            stream,
            &group_name,
            consumer,
            id,
            now,
            None,
            justid,
        ));
        count -= 1;
    }
    let cursor = pel.get(next).copied().unwrap_or(StreamId::ZERO);
    Ok(Reply::Array(vec![
        id_reply(cursor),
        Reply::Array(claimed),
        Reply::Array(deleted),
    ]))
}
