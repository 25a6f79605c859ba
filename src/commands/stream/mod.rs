//! Stream commands: XADD, XLEN, XRANGE / XREVRANGE, XDEL, XTRIM, XSETID and XREAD here;
//! consumer groups (XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM) in [`group`];
//! XINFO in [`info`]. The value itself lives in `keyspace::stream`.
//!
//! Ids are parsed as Redis parses them (`streamGenericParseIDOrReply`): `ms-seq`, `ms` alone
//! (the sequence then defaults to 0 or the maximum, depending on the range end), `-` and `+`
//! where allowed, `(` for exclusive range ends, and `*` / `ms-*` in XADD.

mod group;
mod info;

use bytes::Bytes;

use super::args::{eq_ignore_case, parse_i64};
use super::server::help_reply;
use super::table::{Acl, CommandSpec, FindKeys, Flags, KeyFlags, KeySpec};
use super::{Args, ExecCtx};
use crate::blocking::{self, BlockRequest};
use crate::error::CmdError;
use crate::keyspace::stream::{NodeLimits, StreamId, Trim};
use crate::keyspace::{Guard, StreamValue, Value};
use crate::protocol::{Protocol, Reply};
use crate::pubsub::NotifyClass;

const G: &str = "stream";
const RW_UPDATE: &[KeySpec] = &[KeySpec::key(1, KeyFlags::RW_UPDATE)];
const XADD_KEYS: &[KeySpec] = &[KeySpec::key(1, KeyFlags::RW_UPDATE)
    .notes("UPDATE instead of INSERT because of the optional trimming feature")];
const RW_DELETE: &[KeySpec] = &[KeySpec::key(1, KeyFlags::RW.union(KeyFlags::DELETE))];
const RO: &[KeySpec] = &[KeySpec::key(1, KeyFlags::RO)];
const RO_ACCESS: &[KeySpec] = &[KeySpec::key(1, KeyFlags::RO_ACCESS)];
const SUB_RO_ACCESS: &[KeySpec] = &[KeySpec::key(2, KeyFlags::RO_ACCESS)];
const WRITE_FAST: Flags = Flags::WRITE.union(Flags::FAST);
const GROW_FAST: Flags = Flags::WRITE.union(Flags::DENYOOM).union(Flags::FAST);
/// XREAD / XREADGROUP: the keys are the first half of the arguments after STREAMS.
const fn streams_keys(startfrom: i32) -> [KeySpec; 1] {
    [KeySpec::keyword(
        "STREAMS",
        startfrom,
        FindKeys::Range {
            lastkey: -1,
            keystep: 1,
            limit: 2,
        },
        KeyFlags::RO_ACCESS,
    )]
}
const XREAD_KEYS: &[KeySpec] = &streams_keys(1);
const XREADGROUP_KEYS: &[KeySpec] = &streams_keys(4);
const NONDET: &[&str] = &["nondeterministic_output"];
const HELP_SUMMARY: &str = "Returns helpful text about the different subcommands.";

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        keys: XADD_KEYS,
        tips: NONDET,
        summary: "Appends a new message to a stream. Creates the key if it doesn't exist.",
        since: "5.0.0",
        ..CommandSpec::new("xadd", -5, GROW_FAST, G, xadd)
    },
    CommandSpec {
        keys: RO,
        summary: "Return the number of messages in a stream.",
        since: "5.0.0",
        ..CommandSpec::new("xlen", 2, Flags::READONLY.union(Flags::FAST), G, xlen)
    },
    CommandSpec {
        keys: RO_ACCESS,
        summary: "Returns the messages from a stream within a range of IDs.",
        since: "5.0.0",
        ..CommandSpec::new("xrange", -4, Flags::READONLY, G, xrange)
    },
    CommandSpec {
        keys: RO_ACCESS,
        summary: "Returns the messages from a stream within a range of IDs in reverse order.",
        since: "5.0.0",
        ..CommandSpec::new("xrevrange", -4, Flags::READONLY, G, xrevrange)
    },
    CommandSpec {
        keys: XREAD_KEYS,
        summary: "Returns messages from multiple streams with IDs greater than the ones requested. Blocks until a message is available otherwise.",
        since: "5.0.0",
        ..CommandSpec::new(
            "xread",
            -4,
            Flags::READONLY.union(Flags::BLOCKING),
            G,
            xread,
        )
    },
    CommandSpec {
        keys: XREADGROUP_KEYS,
        summary: "Returns new or historical messages from a stream for a consumer in a group. Blocks until a message is available otherwise.",
        since: "5.0.0",
        ..CommandSpec::new(
            "xreadgroup",
            -7,
            Flags::WRITE.union(Flags::BLOCKING),
            G,
            group::xreadgroup,
        )
    },
    CommandSpec {
        keys: RW_UPDATE,
        summary: "Returns the number of messages that were successfully acknowledged by the consumer group member of a stream.",
        since: "5.0.0",
        ..CommandSpec::new("xack", -4, WRITE_FAST, G, group::xack)
    },
    CommandSpec {
        keys: RO_ACCESS,
        tips: NONDET,
        summary: "Returns the information and entries from a stream consumer group's pending entries list.",
        since: "5.0.0",
        ..CommandSpec::new("xpending", -3, Flags::READONLY, G, group::xpending)
    },
    CommandSpec {
        keys: RW_UPDATE,
        tips: NONDET,
        summary: "Changes, or acquires, ownership of a message in a consumer group, as if the message was delivered a consumer group member.",
        since: "5.0.0",
        ..CommandSpec::new("xclaim", -6, WRITE_FAST, G, group::xclaim)
    },
    CommandSpec {
        keys: RW_DELETE,
        tips: NONDET,
        summary: "Changes, or acquires, ownership of messages in a consumer group, as if the messages were delivered to as consumer group member.",
        since: "6.2.0",
        ..CommandSpec::new("xautoclaim", -6, WRITE_FAST, G, group::xautoclaim)
    },
    CommandSpec {
        keys: RW_DELETE,
        tips: NONDET,
        summary: "Deletes messages from the beginning of a stream.",
        since: "5.0.0",
        ..CommandSpec::new("xtrim", -4, Flags::WRITE, G, xtrim)
    },
    CommandSpec {
        keys: RW_DELETE,
        summary: "Returns the number of messages after removing them from a stream.",
        since: "5.0.0",
        ..CommandSpec::new("xdel", -3, WRITE_FAST, G, xdel)
    },
    CommandSpec {
        keys: RW_UPDATE,
        summary: "An internal command for replicating stream values.",
        since: "5.0.0",
        ..CommandSpec::new("xsetid", -3, GROW_FAST, G, xsetid)
    },
    CommandSpec {
        summary: "A container for consumer groups commands.",
        since: "5.0.0",
        complexity: "Depends on subcommand.",
        acl: Acl::empty(),
        handler: None,
        subcommands: XGROUP,
        ..CommandSpec::new("xgroup", -2, Flags::empty(), G, xlen)
    },
    CommandSpec {
        summary: "A container for stream introspection commands.",
        since: "5.0.0",
        complexity: "Depends on subcommand.",
        acl: Acl::empty(),
        handler: None,
        subcommands: XINFO,
        ..CommandSpec::new("xinfo", -2, Flags::empty(), G, xlen)
    },
];

static XGROUP: &[CommandSpec] = &[
    CommandSpec {
        keys: &[KeySpec::key(2, KeyFlags::RW_INSERT)],
        summary: "Creates a consumer group.",
        since: "5.0.0",
        ..CommandSpec::new(
            "create",
            -5,
            Flags::WRITE.union(Flags::DENYOOM),
            G,
            group::xgroup_create,
        )
    },
    CommandSpec {
        keys: &[KeySpec::key(2, KeyFlags::RW_INSERT)],
        summary: "Creates a consumer in a consumer group.",
        since: "6.2.0",
        ..CommandSpec::new(
            "createconsumer",
            5,
            Flags::WRITE.union(Flags::DENYOOM),
            G,
            group::xgroup_createconsumer,
        )
    },
    CommandSpec {
        keys: &[KeySpec::key(2, KeyFlags::RW.union(KeyFlags::DELETE))],
        summary: "Deletes a consumer from a consumer group.",
        since: "5.0.0",
        ..CommandSpec::new("delconsumer", 5, Flags::WRITE, G, group::xgroup_delconsumer)
    },
    CommandSpec {
        keys: &[KeySpec::key(2, KeyFlags::RW.union(KeyFlags::DELETE))],
        summary: "Destroys a consumer group.",
        since: "5.0.0",
        ..CommandSpec::new("destroy", 4, Flags::WRITE, G, group::xgroup_destroy)
    },
    CommandSpec {
        keys: &[KeySpec::key(2, KeyFlags::RW_UPDATE)],
        summary: "Sets the last-delivered ID of a consumer group.",
        since: "5.0.0",
        ..CommandSpec::new("setid", -5, Flags::WRITE, G, group::xgroup_setid)
    },
    CommandSpec {
        summary: HELP_SUMMARY,
        since: "5.0.0",
        ..CommandSpec::new(
            "help",
            2,
            Flags::LOADING.union(Flags::STALE),
            G,
            group::xgroup_help,
        )
    },
];

static XINFO: &[CommandSpec] = &[
    CommandSpec {
        keys: SUB_RO_ACCESS,
        tips: NONDET,
        summary: "Returns a list of the consumers in a consumer group.",
        since: "5.0.0",
        ..CommandSpec::new("consumers", 4, Flags::READONLY, G, info::xinfo_consumers)
    },
    CommandSpec {
        keys: SUB_RO_ACCESS,
        summary: "Returns a list of the consumer groups of a stream.",
        since: "5.0.0",
        ..CommandSpec::new("groups", 3, Flags::READONLY, G, info::xinfo_groups)
    },
    CommandSpec {
        keys: SUB_RO_ACCESS,
        summary: "Returns information about a stream.",
        since: "5.0.0",
        ..CommandSpec::new("stream", -3, Flags::READONLY, G, info::xinfo_stream)
    },
    CommandSpec {
        summary: HELP_SUMMARY,
        since: "5.0.0",
        ..CommandSpec::new(
            "help",
            2,
            Flags::LOADING.union(Flags::STALE),
            G,
            info::xinfo_help,
        )
    },
];

// ---------------------------------------------------------------------------------------------
// Ids.

fn invalid_id() -> CmdError {
    CmdError::err("Invalid stream ID specified as stream command argument")
}

/// One part of an id as `string2ull` reads it: optional leading white space and `+`, then
/// decimal digits that fit in 64 bits (leading zeros allowed).
fn parse_u64_part(text: &[u8]) -> Option<u64> {
    let trimmed = text.trim_ascii_start();
    let digits = trimmed.strip_prefix(b"+").unwrap_or(trimmed);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, d| {
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// How an id argument may be written.
#[derive(Clone, Copy, PartialEq)]
enum IdForm {
    /// `-` and `+` allowed (range ends, XGROUP SETID).
    Range,
    /// Only `ms[-seq]`.
    Strict,
    /// Strict, plus XADD's `ms-*`.
    Add,
}

/// Parses an id; `missing_seq` is the sequence of an id given as `ms` alone. The flag says
/// whether the sequence was given (false for XADD's `ms-*`).
fn parse_id_form(arg: &[u8], missing_seq: u64, form: IdForm) -> Result<(StreamId, bool), CmdError> {
    // Redis copies the argument into a 128-byte C buffer: longer ones are invalid, and a NUL
    // ends it.
    if arg.len() > 127 {
        return Err(invalid_id());
    }
    let text = arg.split(|&b| b == 0).next().unwrap_or_default();
    match text {
        b"-" | b"+" if form != IdForm::Range => return Err(invalid_id()),
        b"-" => return Ok((StreamId::ZERO, true)),
        b"+" => return Ok((StreamId::MAX, true)),
        _ => {}
    }
    let (ms_part, seq_part) = match text.iter().position(|&b| b == b'-') {
        Some(dash) => (&text[..dash], Some(&text[dash + 1..])),
        None => (text, None),
    };
    let ms = parse_u64_part(ms_part).ok_or_else(invalid_id)?;
    match seq_part {
        None => Ok((StreamId::new(ms, missing_seq), true)),
        Some(b"*") if form == IdForm::Add => Ok((StreamId::new(ms, 0), false)),
        Some(seq) => {
            let seq = parse_u64_part(seq).ok_or_else(invalid_id)?;
            Ok((StreamId::new(ms, seq), true))
        }
    }
}

/// A strict id (no `-` / `+`), sequence 0 when omitted.
fn parse_strict_id(arg: &[u8]) -> Result<StreamId, CmdError> {
    parse_id_form(arg, 0, IdForm::Strict).map(|(id, _)| id)
}

/// A range start (`is_end` false) or end: `-`, `+`, an id, or `(id` for an exclusive end.
fn parse_range_end(arg: &[u8], is_end: bool) -> Result<StreamId, CmdError> {
    let missing_seq = if is_end { u64::MAX } else { 0 };
    if arg.len() > 1 && arg[0] == b'(' {
        let (id, _) = parse_id_form(&arg[1..], missing_seq, IdForm::Strict)?;
        let stepped = if is_end { id.decr() } else { id.incr() };
        return stepped.ok_or_else(|| {
            CmdError::err(if is_end {
                "invalid end ID for the interval"
            } else {
                "invalid start ID for the interval"
            })
        });
    }
    parse_id_form(arg, missing_seq, IdForm::Range).map(|(id, _)| id)
}

// ---------------------------------------------------------------------------------------------
// Replies and lookups shared with the other files.

fn id_reply(id: StreamId) -> Reply {
    Reply::Bulk(id.to_bytes())
}

/// An entry as Redis replies it: `[id, [field, value, ...]]`.
fn entry_reply(id: StreamId, fields: &[Bytes]) -> Reply {
    Reply::Array(vec![
        id_reply(id),
        Reply::Array(fields.iter().cloned().map(Reply::Bulk).collect()),
    ])
}

/// `key: entries` pairs as XREAD / XREADGROUP reply them: a map in RESP3, but in RESP2 an
/// array of `[key, entries]` pairs (not the map's flat RESP2 form); a null when nothing was
/// served.
fn streams_reply(ctx: &ExecCtx, served: Vec<(Reply, Reply)>) -> Reply {
    if served.is_empty() {
        Reply::NilArray
    } else if ctx.client.protocol == Protocol::Resp3 {
        Reply::Map(served)
    } else {
        Reply::Array(
            served
                .into_iter()
                .map(|(key, entries)| Reply::Array(vec![key, entries]))
                .collect(),
        )
    }
}

/// The stream at `key` for reading; WRONGTYPE for another type.
fn read_stream<'g>(guard: &'g mut Guard, key: &[u8]) -> Result<Option<&'g StreamValue>, CmdError> {
    guard.get(key).map(Value::as_stream).transpose()
}

/// The stream at `key` for writing, without creating it. The access is quiet: a command
/// that really changed the stream reports it with [`mark_written`] (Redis signals a change
/// only then, so a failed or no-op write disturbs neither WATCH nor blocked readers).
fn write_stream<'g>(
    guard: &'g mut Guard,
    key: &[u8],
) -> Result<Option<&'g mut StreamValue>, CmdError> {
    if guard.lookup_write(key).is_none() {
        return Ok(None);
    }
    guard
        .get_mut_quiet(key)
        .map(Value::as_stream_mut)
        .transpose()
}

/// Reports `key` as written (WATCH, blocked readers).
fn mark_written(guard: &mut Guard, key: &Bytes) {
    guard.get_mut(key);
}

/// The stream at `key`, created empty when missing (WRONGTYPE for another type).
fn stream_for_write<'g>(
    guard: &'g mut Guard,
    key: &Bytes,
) -> Result<&'g mut StreamValue, CmdError> {
    if let Some(entry) = guard.lookup_write(key) {
        entry.value.as_stream()?;
    }
    guard
        .get_or_insert_with(key, || Value::Stream(StreamValue::default()))
        .as_stream_mut()
}

fn node_limits(ctx: &ExecCtx) -> NodeLimits {
    let config = &ctx.state.config;
    NodeLimits {
        entries: u64::try_from(config.get_int("stream-node-max-entries")).unwrap_or(0),
        bytes: usize::try_from(config.get_int("stream-node-max-bytes")).unwrap_or(0),
    }
}

fn now_ms() -> u64 {
    crate::keyspace::unix_ms()
}

/// `COUNT n` in XRANGE / XREAD style: negative counts as 0.
fn parse_count(arg: &[u8]) -> Result<u64, CmdError> {
    Ok(u64::try_from(parse_i64(arg)?).unwrap_or(0))
}

// ---------------------------------------------------------------------------------------------
// XADD and XTRIM.

/// The trimming options of XADD / XTRIM and XADD's own.
struct AddTrimArgs {
    trim: Option<Trim>,
    approx: bool,
    /// 0: unlimited.
    limit: u64,
    no_mkstream: bool,
    /// XADD's id: `None` for `*`, else the id and whether its sequence was given.
    id: Option<(StreamId, bool)>,
}

/// Parses the options from argument 2 on (Redis's `streamParseAddOrTrimArgsOrReply`);
/// for XADD stops at the id and returns the position of the first field.
fn parse_add_trim(
    ctx: &ExecCtx,
    argv: &[Bytes],
    xadd: bool,
) -> Result<(AddTrimArgs, usize), CmdError> {
    let mut parsed = AddTrimArgs {
        trim: None,
        approx: false,
        limit: 0,
        no_mkstream: false,
        id: None,
    };
    let mut limit_given = false;
    let mut i = 2;
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        let opt = &argv[i];
        let is_strategy = eq_ignore_case(opt, "maxlen") || eq_ignore_case(opt, "minid");
        if xadd && opt.as_ref() == b"*" {
            break;
        } else if is_strategy && more > 0 {
            if parsed.trim.is_some() {
                return Err(CmdError::err(
                    "syntax error, MAXLEN and MINID options at the same time are not compatible",
                ));
            }
            parsed.approx = false;
            if more >= 2 && (argv[i + 1].as_ref() == b"~" || argv[i + 1].as_ref() == b"=") {
                parsed.approx = argv[i + 1].as_ref() == b"~";
                i += 1;
            }
            let value = &argv[i + 1];
            parsed.trim = Some(if eq_ignore_case(opt, "maxlen") {
                let max = parse_i64(value)?;
                Trim::MaxLen(
                    u64::try_from(max)
                        .map_err(|_| CmdError::err("The MAXLEN argument must be >= 0."))?,
                )
            } else {
                Trim::MinId(parse_strict_id(value)?)
            });
            i += 2;
        } else if eq_ignore_case(opt, "limit") && more > 0 {
            let limit = parse_i64(&argv[i + 1])?;
            parsed.limit = u64::try_from(limit)
                .map_err(|_| CmdError::err("The LIMIT argument must be >= 0."))?;
            limit_given = true;
            i += 2;
        } else if xadd && eq_ignore_case(opt, "nomkstream") {
            parsed.no_mkstream = true;
            i += 1;
        } else if xadd {
            parsed.id = Some(parse_id_form(opt, 0, IdForm::Add)?);
            break;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    if parsed.limit > 0 && parsed.trim.is_none() {
        return Err(CmdError::err(
            "syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ));
    }
    if !xadd && parsed.trim.is_none() {
        return Err(CmdError::err(
            "syntax error, XTRIM must be called with a trimming strategy",
        ));
    }
    if limit_given {
        if !parsed.approx {
            return Err(CmdError::err(
                "syntax error, LIMIT cannot be used without the special ~ option",
            ));
        }
    } else if parsed.approx {
        let per_node = ctx.state.config.get_int("stream-node-max-entries");
        parsed.limit = match per_node.saturating_mul(100) {
            n if n <= 0 || n > 1_000_000 => 10_000,
            n => n as u64,
        };
    } else {
        parsed.limit = 0;
    }
    Ok((parsed, i))
}

fn xadd(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let argv = args.rest();
    let mut full = vec![Bytes::new()];
    full.extend(argv);
    let (parsed, id_pos) = parse_add_trim(ctx, &full, true)?;
    let fields_at = id_pos + 1;
    if full.len() < fields_at + 2 || !(full.len() - fields_at).is_multiple_of(2) {
        return Err(CmdError::wrong_arity("xadd"));
    }
    if let Some((id, true)) = parsed.id
        && id.is_zero()
    {
        return Err(CmdError::err(
            "The ID specified in XADD must be greater than 0-0",
        ));
    }
    let key = full[1].clone();
    let limits = node_limits(ctx);
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let exists = write_stream(&mut guard, &key)?.is_some();
    if !exists && parsed.no_mkstream {
        return Ok(Reply::Nil);
    }
    let stream = match write_stream(&mut guard, &key)? {
        Some(stream) => stream,
        // A new stream: its first id is always valid.
        None => stream_for_write(&mut guard, &key)?,
    };
    if stream.last_id == StreamId::MAX {
        return Err(CmdError::err(
            "The stream has exhausted the last possible ID, unable to add more items",
        ));
    }
    let last = stream.last_id;
    let id = match parsed.id {
        Some((id, true)) => Some(id),
        Some((id, false)) if id.ms == last.ms => {
            last.seq.checked_add(1).map(|seq| StreamId::new(id.ms, seq))
        }
        Some((id, false)) => Some(id),
        None => {
            let now = now_ms();
            Some(if now > last.ms {
                StreamId::new(now, 0)
            } else {
                last.incr().unwrap_or(StreamId::MAX)
            })
        }
    };
    let Some(id) = id.filter(|id| *id > last) else {
        return Err(CmdError::err(
            "The ID specified in XADD is equal or smaller than the target stream top item",
        ));
    };
    stream.append(id, full[fields_at..].to_vec(), limits);
    let trimmed = parsed
        .trim
        .is_some_and(|trim| stream.trim(trim, parsed.approx, parsed.limit) > 0);
    mark_written(&mut guard, &key);
    // The id the server chose (`*`, `ms-*`) is propagated as an explicit one.
    let mut propagated = full.clone();
    propagated[0] = Bytes::from_static(b"XADD");
    propagated[id_pos] = id.to_bytes();
    ctx.propagate(propagated);
    drop(guard);
    ctx.notify(NotifyClass::STREAM, "xadd", &key);
    if trimmed {
        ctx.notify(NotifyClass::STREAM, "xtrim", &key);
    }
    Ok(id_reply(id))
}

fn xtrim(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let argv = args.argv().to_vec();
    let (parsed, _) = parse_add_trim(ctx, &argv, false)?;
    let key = argv[1].clone();
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let Some(stream) = write_stream(&mut guard, &key)? else {
        return Ok(Reply::Integer(0));
    };
    let Some(trim) = parsed.trim else {
        return Ok(Reply::Integer(0));
    };
    let removed = stream.trim(trim, parsed.approx, parsed.limit);
    if removed > 0 {
        mark_written(&mut guard, &key);
        drop(guard);
        ctx.notify(NotifyClass::STREAM, "xtrim", &key);
    }
    Ok(Reply::Integer(removed as i64))
}

// ---------------------------------------------------------------------------------------------
// XLEN, XRANGE, XREVRANGE, XDEL, XSETID.

fn xlen(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let len = read_stream(&mut guard, &key)?.map_or(0, StreamValue::len);
    Ok(Reply::Integer(len as i64))
}

fn xrange(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    range_generic(ctx, args, false)
}

fn xrevrange(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    range_generic(ctx, args, true)
}

fn range_generic(ctx: &mut ExecCtx, args: &mut Args, rev: bool) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let (first, second) = (args.next_bytes()?, args.next_bytes()?);
    let (start_arg, end_arg) = if rev {
        (second, first)
    } else {
        (first, second)
    };
    let start = parse_range_end(&start_arg, false)?;
    let end = parse_range_end(&end_arg, true)?;
    let mut count = None;
    while let Some(opt) = args.peek().cloned() {
        if eq_ignore_case(&opt, "count") && args.remaining() >= 2 {
            args.next_bytes()?;
            count = Some(parse_count(&args.next_bytes()?)?);
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let Some(stream) = read_stream(&mut guard, &key)? else {
        return Ok(Reply::Array(Vec::new()));
    };
    if count == Some(0) {
        return Ok(Reply::NilArray);
    }
    let take = count.map_or(usize::MAX, |c| usize::try_from(c).unwrap_or(usize::MAX));
    let entries = stream
        .range(start, end, rev)
        .take(take)
        .map(|(id, fields)| entry_reply(id, fields))
        .collect();
    Ok(Reply::Array(entries))
}

fn xdel(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    // A missing key answers 0 before the ids are looked at, as in Redis.
    let Some(stream) = write_stream(&mut guard, &key)? else {
        return Ok(Reply::Integer(0));
    };
    // All ids are checked before any is deleted: the command is all or nothing.
    let ids = args
        .rest()
        .iter()
        .map(|arg| parse_strict_id(arg))
        .collect::<Result<Vec<_>, _>>()?;
    let deleted = ids.into_iter().filter(|id| stream.delete(*id)).count();
    if deleted > 0 {
        mark_written(&mut guard, &key);
        drop(guard);
        ctx.notify(NotifyClass::STREAM, "xdel", &key);
    }
    Ok(Reply::Integer(deleted as i64))
}

fn xsetid(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let id = parse_strict_id(&args.next_bytes()?)?;
    let mut entries_added = None;
    let mut max_deleted = StreamId::ZERO;
    while let Some(opt) = args.peek().cloned() {
        if eq_ignore_case(&opt, "entriesadded") && args.remaining() >= 2 {
            args.next_bytes()?;
            let n = parse_i64(&args.next_bytes()?)?;
            entries_added = Some(
                u64::try_from(n).map_err(|_| CmdError::err("entries_added must be positive"))?,
            );
        } else if eq_ignore_case(&opt, "maxdeletedid") && args.remaining() >= 2 {
            args.next_bytes()?;
            max_deleted = parse_strict_id(&args.next_bytes()?)?;
            if id < max_deleted {
                return Err(CmdError::err(
                    "The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
                ));
            }
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let Some(stream) = write_stream(&mut guard, &key)? else {
        return Err(CmdError::NoSuchKey);
    };
    if id < stream.max_deleted_id {
        return Err(CmdError::err(
            "The ID specified in XSETID is smaller than current max_deleted_entry_id",
        ));
    }
    if let Some((top, _)) = stream.last() {
        if id < top {
            return Err(CmdError::err(
                "The ID specified in XSETID is smaller than the target stream top item",
            ));
        }
        if entries_added.is_some_and(|n| (stream.len() as u64) > n) {
            return Err(CmdError::err(
                "The entries_added specified in XSETID is smaller than the target stream length",
            ));
        }
    }
    stream.last_id = id;
    if let Some(n) = entries_added {
        stream.entries_added = n;
    }
    if !max_deleted.is_zero() {
        stream.max_deleted_id = max_deleted;
    }
    mark_written(&mut guard, &key);
    drop(guard);
    ctx.notify(NotifyClass::STREAM, "xsetid", &key);
    Ok(Reply::ok())
}

// ---------------------------------------------------------------------------------------------
// XREAD (and the argument parsing XREADGROUP shares).

/// Where XREAD reads a stream from.
#[derive(Clone, Copy, PartialEq)]
enum ReadFrom {
    /// After this id.
    After(StreamId),
    /// `+` (Redis 7.4): the last entry itself.
    LastEntry,
}

/// The arguments of XREAD / XREADGROUP.
struct ReadArgs {
    block: Option<Option<std::time::Duration>>,
    count: u64,
    noack: bool,
    group: Option<(Bytes, Bytes)>,
    keys: Vec<Bytes>,
    ids: Vec<Bytes>,
    /// Position of the first key in argv.
    streams_at: usize,
}

/// Parses XREAD / XREADGROUP options up to STREAMS (Redis's `xreadCommand` parser).
fn parse_read_args(argv: &[Bytes], xreadgroup: bool) -> Result<ReadArgs, CmdError> {
    let mut parsed = ReadArgs {
        block: None,
        count: 0,
        noack: false,
        group: None,
        keys: Vec::new(),
        ids: Vec::new(),
        streams_at: 0,
    };
    let mut i = 1;
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        let opt = &argv[i];
        if eq_ignore_case(opt, "block") && more > 0 {
            parsed.block = Some(blocking::timeout_ms(&argv[i + 1])?);
            i += 2;
        } else if eq_ignore_case(opt, "count") && more > 0 {
            parsed.count = parse_count(&argv[i + 1])?;
            i += 2;
        } else if eq_ignore_case(opt, "streams") && more > 0 {
            let rest = &argv[i + 1..];
            if !rest.len().is_multiple_of(2) {
                // Redis 7.0's text, the same for XREADGROUP.
                return Err(CmdError::err(
                    "Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
                ));
            }
            let half = rest.len() / 2;
            parsed.keys = rest[..half].to_vec();
            parsed.ids = rest[half..].to_vec();
            parsed.streams_at = i + 1;
            break;
        } else if eq_ignore_case(opt, "group") && more >= 2 {
            if !xreadgroup {
                return Err(CmdError::err(
                    "The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            parsed.group = Some((argv[i + 1].clone(), argv[i + 2].clone()));
            i += 3;
        } else if eq_ignore_case(opt, "noack") {
            if !xreadgroup {
                return Err(CmdError::err(
                    "The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            parsed.noack = true;
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    if parsed.streams_at == 0 {
        return Err(CmdError::Syntax);
    }
    if xreadgroup && parsed.group.is_none() {
        return Err(CmdError::err("Missing GROUP option for XREADGROUP"));
    }
    Ok(parsed)
}

fn xread(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let argv = args.argv().to_vec();
    let parsed = parse_read_args(&argv, false)?;
    let mut guard = ctx.ks().lock(ctx.db(), &parsed.keys);
    // Resolve every id (and check every key's type) before serving any.
    let mut from = Vec::with_capacity(parsed.keys.len());
    for (key, arg) in parsed.keys.iter().zip(&parsed.ids) {
        let stream = read_stream(&mut guard, key)?;
        from.push(match arg.as_ref() {
            b"$" => ReadFrom::After(stream.map_or(StreamId::ZERO, |s| s.last_id)),
            b"+" => ReadFrom::LastEntry,
            b">" => {
                return Err(CmdError::err(
                    "The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
                ));
            }
            _ => ReadFrom::After(parse_strict_id(arg)?),
        });
    }
    let take = if parsed.count == 0 {
        usize::MAX
    } else {
        usize::try_from(parsed.count).unwrap_or(usize::MAX)
    };
    let mut served = Vec::new();
    for (key, from) in parsed.keys.iter().zip(&from) {
        let Some(stream) = read_stream(&mut guard, key)? else {
            continue;
        };
        let entries: Vec<Reply> = match *from {
            ReadFrom::LastEntry => stream
                .last()
                .map(|(id, fields)| entry_reply(id, fields))
                .into_iter()
                .collect(),
            ReadFrom::After(after) => match after.incr() {
                Some(start) => stream
                    .range(start, StreamId::MAX, false)
                    .take(take)
                    .map(|(id, fields)| entry_reply(id, fields))
                    .collect(),
                None => Vec::new(),
            },
        };
        if !entries.is_empty() {
            served.push((Reply::Bulk(key.clone()), Reply::Array(entries)));
        }
    }
    if !served.is_empty() {
        return Ok(streams_reply(ctx, served));
    }
    let Some(timeout) = parsed.block else {
        return Ok(Reply::NilArray);
    };
    // Blocked: `$` and `+` wait for entries after the last id as it is now.
    let mut retry = argv.clone();
    let mut rewritten = false;
    for (n, key) in parsed.keys.iter().enumerate() {
        let arg = &argv[parsed.streams_at + parsed.keys.len() + n];
        if arg.as_ref() == b"$" || arg.as_ref() == b"+" {
            let last = read_stream(&mut guard, key)?.map_or(StreamId::ZERO, |s| s.last_id);
            retry[parsed.streams_at + parsed.keys.len() + n] = last.to_bytes();
            rewritten = true;
        }
    }
    drop(guard);
    Ok(ctx.block(BlockRequest {
        keys: parsed.keys,
        value_type: "stream",
        wake_on_delete: false,
        deadline: blocking::deadline(timeout),
        timeout_reply: Reply::NilArray,
        retry_argv: rewritten.then_some(retry),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_like_redis() {
        let strict = |s: &str| parse_strict_id(s.as_bytes()).ok();
        assert_eq!(strict("5"), Some(StreamId::new(5, 0)));
        assert_eq!(strict("5-3"), Some(StreamId::new(5, 3)));
        assert_eq!(strict("007-1"), Some(StreamId::new(7, 1)));
        assert_eq!(strict("+5"), Some(StreamId::new(5, 0)));
        assert_eq!(strict("-"), None);
        assert_eq!(strict("5-"), None);
        assert_eq!(strict("-5"), None);
        assert_eq!(strict("5-x"), None);
        assert_eq!(strict("18446744073709551616"), None);
        assert_eq!(
            parse_range_end(b"5", true).ok(),
            Some(StreamId::new(5, u64::MAX))
        );
        assert_eq!(
            parse_range_end(b"(5-0", true).ok(),
            Some(StreamId::new(4, u64::MAX))
        );
        assert!(parse_range_end(b"(0-0", true).is_err());
        assert_eq!(parse_range_end(b"+", true).ok(), Some(StreamId::MAX));
        assert_eq!(
            parse_id_form(b"5-*", 0, IdForm::Add).ok(),
            Some((StreamId::new(5, 0), false))
        );
        assert!(parse_id_form(b"5-*", 0, IdForm::Strict).is_err());
    }
}
