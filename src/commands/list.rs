//! List commands (LPUSH ... LMPOP) and the blocking ones (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP).
//!
//! Arguments are checked in the order Redis checks them (some before the key is looked up,
//! some after), so the same bad command gets the same error. Each change notifies the event
//! Redis's t_list.c notifies, plus `del` when a pop or trim empties the key (the guard then
//! deletes it). A blocking command first tries to serve exactly as its non-blocking form
//! does; when nothing is there it asks to block, and is run again unchanged when one of its
//! keys receives a list, so finding nothing must leave everything as it was.

use bytes::Bytes;

use super::propagate::forms;
use super::table::{CommandSpec, Flags, KeyFlags, KeySpec};
use super::{Args, ExecCtx};
use crate::blocking::{self, BlockRequest};
use crate::error::CmdError;
use crate::keyspace::list::End;
use crate::keyspace::{Guard, ListValue, Value};
use crate::protocol::Reply;
use crate::pubsub::NotifyClass;

type CmdResult = Result<Reply, CmdError>;

const G: &str = "list";
const RO: &[KeySpec] = &[KeySpec::key(1, KeyFlags::RO)];
const RO_ACCESS: &[KeySpec] = &[KeySpec::key(1, KeyFlags::RO_ACCESS)];
const RW_INSERT: &[KeySpec] = &[KeySpec::key(1, KeyFlags::RW_INSERT)];
const RW_UPDATE: &[KeySpec] = &[KeySpec::key(1, KeyFlags::RW_UPDATE)];
const RW_DELETE: &[KeySpec] = &[KeySpec::key(1, KeyFlags::RW.union(KeyFlags::DELETE))];
const POP: KeyFlags = KeyFlags::RW.union(KeyFlags::ACCESS).union(KeyFlags::DELETE);
const RW_POP: &[KeySpec] = &[KeySpec::key(1, POP)];
/// Source and destination of LMOVE and its relatives.
const MOVE: &[KeySpec] = &[KeySpec::key(1, POP), KeySpec::key(2, KeyFlags::RW_INSERT)];
/// BLPOP / BRPOP: every argument but the last (the timeout) is a key.
const BPOP: &[KeySpec] = &[KeySpec::range(1, -2, 1, POP)];
/// LMPOP numkeys key ... / BLMPOP timeout numkeys key ...
const MPOP: &[KeySpec] = &[KeySpec::keynum(1, 0, 1, 1, POP)];
const BMPOP: &[KeySpec] = &[KeySpec::keynum(2, 0, 1, 1, POP)];
const READ: Flags = Flags::READONLY;
const READ_FAST: Flags = Flags::READONLY.union(Flags::FAST);
const WRITE: Flags = Flags::WRITE;
const WRITE_FAST: Flags = Flags::WRITE.union(Flags::FAST);
const GROW: Flags = Flags::WRITE.union(Flags::DENYOOM);
const GROW_FAST: Flags = GROW.union(Flags::FAST);
const BLOCKING: Flags = Flags::WRITE.union(Flags::NOSCRIPT).union(Flags::BLOCKING);
const BLOCKING_GROW: Flags = BLOCKING.union(Flags::DENYOOM);

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        keys: RW_INSERT,
        summary: "Prepends one or more elements to a list. Creates the key if it doesn't exist.",
        ..CommandSpec::new("lpush", -3, GROW_FAST, G, lpush)
    },
    CommandSpec {
        keys: RW_INSERT,
        summary: "Appends one or more elements to a list. Creates the key if it doesn't exist.",
        ..CommandSpec::new("rpush", -3, GROW_FAST, G, rpush)
    },
    CommandSpec {
        keys: RW_INSERT,
        summary: "Prepends one or more elements to a list only when the list exists.",
        since: "2.2.0",
        ..CommandSpec::new("lpushx", -3, GROW_FAST, G, lpushx)
    },
    CommandSpec {
        keys: RW_INSERT,
        summary: "Appends an element to a list only when the list exists.",
        since: "2.2.0",
        ..CommandSpec::new("rpushx", -3, GROW_FAST, G, rpushx)
    },
    CommandSpec {
        keys: RW_POP,
        summary: "Returns the first elements in a list after removing it. Deletes the list if the last element was popped.",
        ..CommandSpec::new("lpop", -2, WRITE_FAST, G, lpop)
    },
    CommandSpec {
        keys: RW_POP,
        summary: "Returns and removes the last elements of a list. Deletes the list if the last element was popped.",
        ..CommandSpec::new("rpop", -2, WRITE_FAST, G, rpop)
    },
    CommandSpec {
        keys: RO,
        summary: "Returns the length of a list.",
        ..CommandSpec::new("llen", 2, READ_FAST, G, llen)
    },
    CommandSpec {
        keys: RO_ACCESS,
        summary: "Returns a range of elements from a list.",
        ..CommandSpec::new("lrange", 4, READ, G, lrange)
    },
    CommandSpec {
        keys: RO_ACCESS,
        summary: "Returns an element from a list by its index.",
        ..CommandSpec::new("lindex", 3, READ, G, lindex)
    },
    CommandSpec {
        keys: RW_UPDATE,
        summary: "Sets the value of an element in a list by its index.",
        ..CommandSpec::new("lset", 4, GROW, G, lset)
    },
    CommandSpec {
        keys: RW_INSERT,
        summary: "Inserts an element before or after another element in a list.",
        since: "2.2.0",
        ..CommandSpec::new("linsert", 5, GROW, G, linsert)
    },
    CommandSpec {
        keys: RW_DELETE,
        summary: "Removes elements from a list. Deletes the list if the last element was removed.",
        ..CommandSpec::new("lrem", 4, WRITE, G, lrem)
    },
    CommandSpec {
        keys: RW_DELETE,
        summary: "Removes elements from both ends a list. Deletes the list if all elements were trimmed.",
        ..CommandSpec::new("ltrim", 4, WRITE, G, ltrim)
    },
    CommandSpec {
        keys: RO_ACCESS,
        summary: "Returns the index of matching elements in a list.",
        since: "6.0.6",
        ..CommandSpec::new("lpos", -3, READ, G, lpos)
    },
    CommandSpec {
        keys: MOVE,
        summary: "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.",
        since: "6.2.0",
        ..CommandSpec::new("lmove", 5, GROW, G, lmove)
    },
    CommandSpec {
        keys: MOVE,
        summary: "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped.",
        since: "1.2.0",
        ..CommandSpec::new("rpoplpush", 3, GROW, G, rpoplpush)
    },
    CommandSpec {
        keys: MPOP,
        summary: "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.",
        since: "7.0.0",
        ..CommandSpec::new("lmpop", -4, WRITE, G, lmpop)
    },
    CommandSpec {
        keys: BMPOP,
        summary: "Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
        since: "7.0.0",
        ..CommandSpec::new("blmpop", -5, Flags::WRITE.union(Flags::BLOCKING), G, blmpop)
    },
    CommandSpec {
        keys: BPOP,
        summary: "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
        since: "2.0.0",
        ..CommandSpec::new("blpop", -3, BLOCKING, G, blpop)
    },
    CommandSpec {
        keys: BPOP,
        summary: "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
        since: "2.0.0",
        ..CommandSpec::new("brpop", -3, BLOCKING, G, brpop)
    },
    CommandSpec {
        keys: MOVE,
        summary: "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved.",
        since: "6.2.0",
        ..CommandSpec::new("blmove", 6, BLOCKING_GROW, G, blmove)
    },
    CommandSpec {
        keys: MOVE,
        summary: "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped.",
        since: "2.2.0",
        ..CommandSpec::new("brpoplpush", 4, BLOCKING_GROW, G, brpoplpush)
    },
];

fn count_reply(n: usize) -> Reply {
    Reply::Integer(i64::try_from(n).unwrap_or(i64::MAX))
}

/// The event Redis notifies for a push or pop at `end`.
fn push_event(end: End) -> &'static str {
    match end {
        End::Head => "lpush",
        End::Tail => "rpush",
    }
}

fn pop_event(end: End) -> &'static str {
    match end {
        End::Head => "lpop",
        End::Tail => "rpop",
    }
}

/// LEFT / RIGHT as LMOVE takes them.
fn parse_end(arg: &[u8]) -> Result<End, CmdError> {
    if arg.eq_ignore_ascii_case(b"left") {
        Ok(End::Head)
    } else if arg.eq_ignore_ascii_case(b"right") {
        Ok(End::Tail)
    } else {
        Err(CmdError::Syntax)
    }
}

/// A read command's lookup (counts a hit or miss): the list, `None` when missing.
fn read_list<'g>(guard: &'g mut Guard, key: &Bytes) -> Result<Option<&'g ListValue>, CmdError> {
    guard.get(key).map(Value::as_list).transpose()
}

/// A write command's lookup: whether a list is there; WRONGTYPE for another type.
fn list_exists(guard: &mut Guard, key: &Bytes) -> Result<bool, CmdError> {
    match guard.lookup_write(key) {
        Some(entry) => entry.value.as_list().map(|_| true),
        None => Ok(false),
    }
}

/// The list at `key` for writing; the caller has checked that it exists and is a list.
fn list_mut<'g>(guard: &'g mut Guard, key: &Bytes) -> Result<&'g mut ListValue, CmdError> {
    match guard.get_mut(key) {
        Some(value) => value.as_list_mut(),
        None => Err(CmdError::NoSuchKey),
    }
}

/// Pushes `items` at `end` of the list at `key`, creating it; returns the new length.
fn push_items(
    guard: &mut Guard,
    key: &Bytes,
    end: End,
    items: Vec<Bytes>,
    limit: i64,
) -> Result<usize, CmdError> {
    let list = guard
        .get_or_insert_with(key, || Value::List(ListValue::default()))
        .as_list_mut()?;
    list.grow_check(&items, limit);
    for item in items {
        list.push(end, item);
    }
    Ok(list.len())
}

/// Pops up to `count` elements from `end` of the existing list at `key`; also whether the
/// list is now empty (the guard deletes it when it drops).
fn pop_items(
    guard: &mut Guard,
    key: &Bytes,
    end: End,
    count: usize,
    limit: i64,
) -> Result<(Vec<Bytes>, bool), CmdError> {
    let list = list_mut(guard, key)?;
    let n = count.min(list.len());
    let items: Vec<Bytes> = (0..n).filter_map(|_| list.pop(end)).collect();
    list.shrink_check(limit);
    Ok((items, list.is_empty()))
}

impl ExecCtx<'_> {
    /// Notifies a change that removed elements: the command's event, then `del` when the
    /// key went with them.
    fn notify_removal(&self, event: &str, key: &[u8], emptied: bool) {
        self.notify(NotifyClass::LIST, event, key);
        if emptied {
            self.notify(NotifyClass::GENERIC, "del", key);
        }
    }
}

fn push(ctx: &mut ExecCtx, args: &mut Args, end: End, only_existing: bool) -> CmdResult {
    let key = args.next_bytes()?;
    let items = args.rest();
    let limit = ctx.encodings().list_max_listpack_size;
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    if !list_exists(&mut guard, &key)? && only_existing {
        return Ok(Reply::Integer(0));
    }
    let len = push_items(&mut guard, &key, end, items, limit)?;
    drop(guard);
    ctx.notify(NotifyClass::LIST, push_event(end), &key);
    Ok(count_reply(len))
}

fn lpush(ctx: &mut ExecCtx, args: &mut Args) -> CmdResult {
    push(ctx, args, End::Head, false)
}

fn rpush(ctx: &mut ExecCtx, args: &mut Args) -> CmdResult {
    push(ctx, args, End::Tail, false)
}

fn lpushx(ctx: &mut ExecCtx, args: &mut Args) -> CmdResult {
    push(ctx, args, End::Head, true)
}

fn rpushx(ctx: &mut ExecCtx, args: &mut Args) -> CmdResult {
    push(ctx, args, End::Tail, true)
}

/// LPOP / RPOP key [count]: one element (or nil), or with a count an array (or a null
/// array when the key is missing).
fn pop(ctx: &mut ExecCtx, args: &mut Args, end: End, name: &str) -> CmdResult {
    let key = args.next_bytes()?;
    let count = match args.remaining() {
        0 => None,
        1 => Some(positive(
            &args.next_bytes()?,
            "value is out of range, must be positive",
        )?),
        _ => return Err(CmdError::wrong_arity(name)),
    };
    let limit = ctx.encodings().list_max_listpack_size;
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    if !list_exists(&mut guard, &key)? {
        return Ok(if count.is_some() {
            Reply::NilArray
        } else {
            Reply::Nil
        });
    }
    if count == Some(0) {
        return Ok(Reply::Array(Vec::new()));
    }
    let (items, emptied) = pop_items(&mut guard, &key, end, count.unwrap_or(1), limit)?;
    drop(guard);
    ctx.notify_removal(pop_event(end), &key, emptied);
    Ok(match count {
        Some(_) => Reply::Array(items.into_iter().map(Reply::Bulk).collect()),
        None => Reply::opt_bulk(items.into_iter().next()),
    })
}

/// A non-negative integer argument; `message` is the error for anything else (Redis uses
/// the same text for a non-number).
fn positive(arg: &[u8], message: &str) -> Result<usize, CmdError> {
    super::args::parse_i64(arg)
        .ok()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| CmdError::err(message))
}

/// An integer argument of at least 1 (LMPOP's numkeys and COUNT).
fn at_least_one(arg: &[u8], message: &str) -> Result<usize, CmdError> {
    positive(arg, message).and_then(|n| {
        if n == 0 {
            Err(CmdError::err(message))
        } else {
            Ok(n)
        }
    })
}

fn lpop(ctx: &mut ExecCtx, args: &mut Args) -> CmdResult {
    pop(ctx, args, End::Head, "lpop")
}

fn rpop(ctx: &mut ExecCtx, args: &mut Args) -> CmdResult {
    pop(ctx, args, End::Tail, "rpop")
}

fn llen(ctx: &mut ExecCtx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    Ok(count_reply(
        read_list(&mut guard, &key)?.map_or(0, ListValue::len),
    ))
}

/// `start..=stop` (Redis's inclusive, negative-from-the-end indexes) as a half-open range
/// within a list of `len`; `None` when empty.
fn clamp_range(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    let start = if start < 0 { start + len } else { start }.max(0);
    let stop = if stop < 0 { stop + len } else { stop };
    if start > stop || start >= len {
        return None;
    }
    let stop = stop.min(len - 1);
    Some((start as usize, stop as usize + 1))
}

fn lrange(ctx: &mut ExecCtx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let start = args.next_i64()?;
    let stop = args.next_i64()?;
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let Some(list) = read_list(&mut guard, &key)? else {
        return Ok(Reply::Array(Vec::new()));
    };
    let items = match clamp_range(start, stop, list.len()) {
        Some((from, to)) => list.range(from, to).cloned().map(Reply::Bulk).collect(),
        None => Vec::new(),
    };
    Ok(Reply::Array(items))
}

/// Index `index` (negative from the end) of a list of `len`, when in range.
fn position(index: i64, len: usize) -> Option<usize> {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    let index = if index < 0 { index + len } else { index };
    (0..len).contains(&index).then_some(index as usize)
}

fn lindex(ctx: &mut ExecCtx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let index = args.next_bytes()?;
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let Some(list) = read_list(&mut guard, &key)? else {
        return Ok(Reply::Nil);
    };
    let index = super::args::parse_i64(&index)?;
    Ok(Reply::opt_bulk(
        position(index, list.len()).and_then(|i| list.get(i).cloned()),
    ))
}

fn lset(ctx: &mut ExecCtx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let index = args.next_bytes()?;
    let item = args.next_bytes()?;
    let limit = ctx.encodings().list_max_listpack_size;
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    if !list_exists(&mut guard, &key)? {
        return Err(CmdError::NoSuchKey);
    }
    let index = super::args::parse_i64(&index)?;
    // A failed LSET leaves the list untouched and unreported (WATCH), as in Redis.
    let Some(at) = position(index, read_existing(&mut guard, &key)?.len()) else {
        return Err(CmdError::OutOfRange);
    };
    let list = list_mut(&mut guard, &key)?;
    list.grow_check([&item], limit);
    list.set(at, item);
    // A smaller element may let a quicklist become a listpack again.
    list.shrink_check(limit);
    drop(guard);
    ctx.notify(NotifyClass::LIST, "lset", &key);
    Ok(Reply::ok())
}

fn linsert(ctx: &mut ExecCtx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let side = args.next_bytes()?;
    let after = if side.eq_ignore_ascii_case(b"after") {
        true
    } else if side.eq_ignore_ascii_case(b"before") {
        false
    } else {
        return Err(CmdError::Syntax);
    };
    let pivot = args.next_bytes()?;
    let item = args.next_bytes()?;
    let limit = ctx.encodings().list_max_listpack_size;
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    if !list_exists(&mut guard, &key)? {
        return Ok(Reply::Integer(0));
    }
    // Without the pivot nothing changes and no write is reported (WATCH), as in Redis.
    let Some(found) = read_existing(&mut guard, &key)?
        .iter()
        .position(|i| *i == pivot)
    else {
        return Ok(Reply::Integer(-1));
    };
    let list = list_mut(&mut guard, &key)?;
    list.grow_check([&item], limit);
    list.insert(found + usize::from(after), item);
    let len = list.len();
    drop(guard);
    ctx.notify(NotifyClass::LIST, "linsert", &key);
    Ok(count_reply(len))
}

fn lrem(ctx: &mut ExecCtx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let count = args.next_i64()?;
    let item = args.next_bytes()?;
    let limit = ctx.encodings().list_max_listpack_size;
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    if !list_exists(&mut guard, &key)? {
        return Ok(Reply::Integer(0));
    }
    let (from, most) = match count {
        0 => (End::Head, None),
        n if n > 0 => (End::Head, usize::try_from(n).ok()),
        n => (End::Tail, usize::try_from(n.unsigned_abs()).ok()),
    };
    // Look before writing, so a list that loses nothing is not reported as written.
    let present = read_existing(&mut guard, &key)?.iter().any(|i| *i == item);
    if !present {
        return Ok(Reply::Integer(0));
    }
    let list = list_mut(&mut guard, &key)?;
    let removed = list.remove_matching(&item, most, from);
    list.shrink_check(limit);
    let emptied = list.is_empty();
    drop(guard);
    ctx.notify_removal("lrem", &key, emptied);
    Ok(count_reply(removed))
}

/// The list at `key` after [`list_exists`] found it, without counting another access.
fn read_existing<'g>(guard: &'g mut Guard, key: &Bytes) -> Result<&'g ListValue, CmdError> {
    match guard.peek(key) {
        Some(entry) => entry.value.as_list(),
        None => Err(CmdError::NoSuchKey),
    }
}

fn ltrim(ctx: &mut ExecCtx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let start = args.next_i64()?;
    let stop = args.next_i64()?;
    let limit = ctx.encodings().list_max_listpack_size;
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    if !list_exists(&mut guard, &key)? {
        return Ok(Reply::ok());
    }
    let list = list_mut(&mut guard, &key)?;
    let (from, to) = clamp_range(start, stop, list.len()).unwrap_or((0, 0));
    list.keep_range(from, to);
    list.shrink_check(limit);
    let emptied = list.is_empty();
    drop(guard);
    ctx.notify_removal("ltrim", &key, emptied);
    Ok(Reply::ok())
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len].
fn lpos(ctx: &mut ExecCtx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let item = args.next_bytes()?;
    let (mut rank, mut count, mut maxlen) = (1i64, None, 0usize);
    while let Some(option) = args.peek().cloned() {
        args.next_bytes()?;
        if args.is_empty() {
            return Err(CmdError::Syntax);
        }
        let value = args.next_bytes()?;
        if option.eq_ignore_ascii_case(b"rank") {
            rank = super::args::parse_i64(&value)?;
            if rank == i64::MIN {
                return Err(CmdError::err(format!(
                    "value is out of range, value must between {} and {}",
                    -i64::MAX,
                    i64::MAX
                )));
            }
            if rank == 0 {
                return Err(CmdError::err(
                    "RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
                ));
            }
        } else if option.eq_ignore_ascii_case(b"count") {
            count = Some(positive(&value, "COUNT can't be negative")?);
        } else if option.eq_ignore_ascii_case(b"maxlen") {
            maxlen = positive(&value, "MAXLEN can't be negative")?;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let Some(list) = read_list(&mut guard, &key)? else {
        return Ok(match count {
            Some(_) => Reply::Array(Vec::new()),
            None => Reply::Nil,
        });
    };
    let len = list.len();
    let scanned: Box<dyn Iterator<Item = (usize, &Bytes)>> = if rank > 0 {
        Box::new(list.iter().enumerate())
    } else {
        Box::new(list.iter().enumerate().rev())
    };
    let limit = if maxlen == 0 { len } else { maxlen.min(len) };
    let skip = usize::try_from(rank.unsigned_abs() - 1).unwrap_or(usize::MAX);
    let wanted = match count {
        Some(0) => usize::MAX,
        Some(n) => n,
        None => 1,
    };
    let found: Vec<usize> = scanned
        .take(limit)
        .filter(|(_, i)| **i == item)
        .skip(skip)
        .take(wanted)
        .map(|(at, _)| at)
        .collect();
    Ok(match count {
        Some(_) => Reply::Array(found.into_iter().map(count_reply).collect()),
        None => found.first().map_or(Reply::Nil, |&at| count_reply(at)),
    })
}

/// Moves one element from `from` of `source` to `to` of `destination`: `None` when the
/// source is missing. Both keys must be locked by `guard`.
fn move_item(
    ctx: &ExecCtx,
    mut guard: Guard,
    source: &Bytes,
    destination: &Bytes,
    from: End,
    to: End,
) -> Result<Option<Bytes>, CmdError> {
    if !list_exists(&mut guard, source)? {
        return Ok(None);
    }
    list_exists(&mut guard, destination)?;
    let limit = ctx.encodings().list_max_listpack_size;
    let (items, _) = pop_items(&mut guard, source, from, 1, limit)?;
    let Some(item) = items.into_iter().next() else {
        return Ok(None);
    };
    push_items(&mut guard, destination, to, vec![item.clone()], limit)?;
    let emptied = read_existing(&mut guard, source)?.is_empty();
    drop(guard);
    ctx.notify(NotifyClass::LIST, push_event(to), destination);
    ctx.notify_removal(pop_event(from), source, emptied);
    Ok(Some(item))
}

/// LMOVE / RPOPLPUSH, and the blocking forms when `timeout` is given.
fn lmove_generic(
    ctx: &mut ExecCtx,
    source: Bytes,
    destination: Bytes,
    (from, to): (End, End),
    timeout: Option<&Bytes>,
) -> CmdResult {
    let timeout = timeout.map(|t| blocking::timeout_secs(t)).transpose()?;
    let guard = ctx.ks().lock(ctx.db(), &[&source, &destination]);
    if let Some(item) = move_item(ctx, guard, &source, &destination, from, to)? {
        if timeout.is_some() {
            // A blocking move that was served is replayed as the plain move.
            let ends = [side(from).as_bytes(), side(to).as_bytes()];
            ctx.propagate(forms::command(
                b"LMOVE",
                &source,
                &[&destination, ends[0], ends[1]],
            ));
        }
        return Ok(Reply::Bulk(item));
    }
    Ok(match timeout {
        // Where blocking is denied (MULTI, scripts) the reply is a plain nil, but a client
        // that blocked and timed out gets a null array, as from every blocking list command.
        Some(timeout) if !ctx.client.deny_blocking => ctx.block(BlockRequest {
            keys: vec![source],
            value_type: "list",
            wake_on_delete: false,
            deadline: blocking::deadline(timeout),
            timeout_reply: Reply::NilArray,
            retry_argv: None,
        }),
        _ => Reply::Nil,
    })
}

fn lmove(ctx: &mut ExecCtx, args: &mut Args) -> CmdResult {
    let (source, destination) = (args.next_bytes()?, args.next_bytes()?);
    let ends = (
        parse_end(&args.next_bytes()?)?,
        parse_end(&args.next_bytes()?)?,
    );
    lmove_generic(ctx, source, destination, ends, None)
}

fn rpoplpush(ctx: &mut ExecCtx, args: &mut Args) -> CmdResult {
    let (source, destination) = (args.next_bytes()?, args.next_bytes()?);
    lmove_generic(ctx, source, destination, (End::Tail, End::Head), None)
}

fn blmove(ctx: &mut ExecCtx, args: &mut Args) -> CmdResult {
    let (source, destination) = (args.next_bytes()?, args.next_bytes()?);
    let ends = (
        parse_end(&args.next_bytes()?)?,
        parse_end(&args.next_bytes()?)?,
    );
    let timeout = args.next_bytes()?;
    lmove_generic(ctx, source, destination, ends, Some(&timeout))
}

fn brpoplpush(ctx: &mut ExecCtx, args: &mut Args) -> CmdResult {
    let (source, destination) = (args.next_bytes()?, args.next_bytes()?);
    let timeout = args.next_bytes()?;
    lmove_generic(
        ctx,
        source,
        destination,
        (End::Tail, End::Head),
        Some(&timeout),
    )
}

/// Pops up to `count` elements from the first of `keys` holding a list: that key and the
/// elements, or `None` when all are missing. A key of another type before it is an error.
fn pop_first(
    ctx: &ExecCtx,
    keys: &[Bytes],
    end: End,
    count: usize,
) -> Result<Option<(Bytes, Vec<Bytes>)>, CmdError> {
    let limit = ctx.encodings().list_max_listpack_size;
    let mut guard = ctx.ks().lock(ctx.db(), keys);
    for key in keys {
        if !list_exists(&mut guard, key)? {
            continue;
        }
        let (items, emptied) = pop_items(&mut guard, key, end, count, limit)?;
        drop(guard);
        ctx.notify_removal(pop_event(end), key, emptied);
        return Ok(Some((key.clone(), items)));
    }
    Ok(None)
}

/// The plain pop a served blocking pop (or LMPOP) is propagated as.
fn pop_name(end: End) -> &'static [u8] {
    match end {
        End::Head => b"LPOP",
        End::Tail => b"RPOP",
    }
}

/// LMOVE's name for an end.
fn side(end: End) -> &'static str {
    match end {
        End::Head => "LEFT",
        End::Tail => "RIGHT",
    }
}

/// BLPOP / BRPOP key [key ...] timeout.
fn bpop(ctx: &mut ExecCtx, args: &mut Args, end: End) -> CmdResult {
    let mut keys = args.rest();
    let timeout = blocking::timeout_secs(&keys.pop().unwrap_or_default())?;
    match pop_first(ctx, &keys, end, 1)? {
        Some((key, items)) => {
            ctx.propagate(forms::command(pop_name(end), &key, &[]));
            let mut reply = vec![Reply::Bulk(key)];
            reply.extend(items.into_iter().map(Reply::Bulk));
            Ok(Reply::Array(reply))
        }
        None => Ok(ctx.block(BlockRequest {
            keys,
            value_type: "list",
            wake_on_delete: false,
            deadline: blocking::deadline(timeout),
            timeout_reply: Reply::NilArray,
            retry_argv: None,
        })),
    }
}

/// LMPOP's and BLMPOP's arguments after the timeout: numkeys key [key ...] LEFT|RIGHT
/// [COUNT count].
fn mpop_args(args: &mut Args) -> Result<(Vec<Bytes>, End, usize), CmdError> {
    let numkeys = at_least_one(&args.next_bytes()?, "numkeys should be greater than 0")?;
    let rest = args.rest();
    if numkeys >= rest.len() {
        return Err(CmdError::Syntax);
    }
    let end = parse_end(&rest[numkeys])?;
    let mut count = None;
    let mut options = rest[numkeys + 1..].iter();
    while let Some(option) = options.next() {
        match options.clone().next() {
            Some(value) if count.is_none() && option.eq_ignore_ascii_case(b"count") => {
                count = Some(at_least_one(value, "count should be greater than 0")?);
                options.next();
            }
            _ => return Err(CmdError::Syntax),
        }
    }
    Ok((rest[..numkeys].to_vec(), end, count.unwrap_or(1)))
}

/// LMPOP / BLMPOP: pops from the first non-empty list, blocking when given a timeout.
fn mpop(ctx: &mut ExecCtx, args: &mut Args, timeout: Option<Bytes>) -> CmdResult {
    // Redis checks the timeout after the other arguments.
    let (keys, end, count) = mpop_args(args)?;
    let timeout = timeout.map(|t| blocking::timeout_secs(&t)).transpose()?;
    if let Some((key, items)) = pop_first(ctx, &keys, end, count)? {
        let popped = forms::count(items.len());
        ctx.propagate(forms::command(pop_name(end), &key, &[&popped]));
        let items = Reply::Array(items.into_iter().map(Reply::Bulk).collect());
        return Ok(Reply::Array(vec![Reply::Bulk(key), items]));
    }
    Ok(match timeout {
        Some(timeout) => ctx.block(BlockRequest {
            keys,
            value_type: "list",
            wake_on_delete: false,
            deadline: blocking::deadline(timeout),
            timeout_reply: Reply::NilArray,
            retry_argv: None,
        }),
        None => Reply::NilArray,
    })
}

fn lmpop(ctx: &mut ExecCtx, args: &mut Args) -> CmdResult {
    mpop(ctx, args, None)
}

fn blmpop(ctx: &mut ExecCtx, args: &mut Args) -> CmdResult {
    let timeout = args.next_bytes()?;
    mpop(ctx, args, Some(timeout))
}

fn blpop(ctx: &mut ExecCtx, args: &mut Args) -> CmdResult {
    bpop(ctx, args, End::Head)
}

fn brpop(ctx: &mut ExecCtx, args: &mut Args) -> CmdResult {
    bpop(ctx, args, End::Tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_clamp_like_redis() {
        assert_eq!(clamp_range(0, -1, 3), Some((0, 3)));
        assert_eq!(clamp_range(-100, 100, 3), Some((0, 3)));
        assert_eq!(clamp_range(2, 1, 3), None);
        assert_eq!(clamp_range(3, 5, 3), None);
        assert_eq!(clamp_range(-2, -2, 3), Some((1, 2)));
        assert_eq!(clamp_range(0, i64::MIN, 3), None);
        assert_eq!(clamp_range(i64::MIN, i64::MAX, 3), Some((0, 3)));
    }

    #[test]
    fn positions_count_from_either_end() {
        assert_eq!(position(-1, 3), Some(2));
        assert_eq!(position(3, 3), None);
        assert_eq!(position(-4, 3), None);
        assert_eq!(position(i64::MIN, 3), None);
    }
}
