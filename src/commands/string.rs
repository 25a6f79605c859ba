//! String group: SET and its variants (SETNX, SETEX, PSETEX, GETSET, MSET, MSETNX), the readers
//! (GET, GETEX, GETDEL, MGET, STRLEN, GETRANGE / SUBSTR), in-place edits (APPEND, SETRANGE),
//! counters (INCR, INCRBY, INCRBYFLOAT, DECR, DECRBY) and LCS.
//!
//! Strings are stored as `Value::Str`, numbers included (as their decimal text, the way Redis
//! shows them), each with the encoding the writing command would give it in Redis (`int`,
//! `embstr` or `raw`; see `StrValue`). Reads go through `Guard::get` so they count keyspace hits and misses as
//! Redis's read lookups do; writes look at the old value with `Guard::peek`, which does not.
//! Every error text comes from `CmdError`.

use bytes::{Bytes, BytesMut};

use super::args::parse_i64;
use super::longdouble::LongDouble;
use super::propagate::forms;
use super::table::{CommandSpec, Flags, KeyFlags, KeySpec};
use super::{Args, ExecCtx};
use crate::error::CmdError;
use crate::keyspace::{Guard, StrValue, Ttl, Value};
use crate::protocol::Reply;
use crate::pubsub::NotifyClass;

const G: &str = "string";
const RO: &[KeySpec] = &[KeySpec::key(1, KeyFlags::RO)];
const RO_ACCESS: &[KeySpec] = &[KeySpec::key(1, KeyFlags::RO_ACCESS)];
const RW_ACCESS_UPDATE: &[KeySpec] = &[KeySpec::key(1, KeyFlags::RW_ACCESS_UPDATE)];
const RW_UPDATE: &[KeySpec] = &[KeySpec::key(1, KeyFlags::RW_UPDATE)];
const OW_UPDATE: &[KeySpec] = &[KeySpec::key(1, KeyFlags::OW_UPDATE)];
const READ_FAST: Flags = Flags::READONLY.union(Flags::FAST);
const WRITE_OOM: Flags = Flags::WRITE.union(Flags::DENYOOM);
const WRITE_OOM_FAST: Flags = WRITE_OOM.union(Flags::FAST);

/// One row with its key specs, the shape of most string commands.
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

/// SET reads the old value only with its GET option, so its key's flags depend on it.
const SET_KEYS: &[KeySpec] = &[KeySpec {
    actual_flags: Some(set_key_flags),
    ..KeySpec::key(
        1,
        KeyFlags::RW_ACCESS_UPDATE.union(KeyFlags::VARIABLE_FLAGS),
    )
    .notes("RW and ACCESS due to the optional `GET` argument")
}];

pub static COMMANDS: &[CommandSpec] = &[
    row(
        "append",
        3,
        WRITE_OOM_FAST,
        &[KeySpec::key(1, KeyFlags::RW_INSERT)],
        "2.0.0",
        "Appends a string to the value of a key. Creates the key if it doesn't exist.",
        append,
    ),
    row(
        "decr",
        2,
        WRITE_OOM_FAST,
        RW_ACCESS_UPDATE,
        "1.0.0",
        "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
        decr,
    ),
    row(
        "decrby",
        3,
        WRITE_OOM_FAST,
        RW_ACCESS_UPDATE,
        "1.0.0",
        "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.",
        decrby,
    ),
    row(
        "get",
        2,
        READ_FAST,
        RO_ACCESS,
        "1.0.0",
        "Returns the string value of a key.",
        get,
    ),
    row(
        "getdel",
        2,
        Flags::WRITE.union(Flags::FAST),
        &[KeySpec::key(
            1,
            KeyFlags::RW.union(KeyFlags::ACCESS).union(KeyFlags::DELETE),
        )],
        "6.2.0",
        "Returns the string value of a key after deleting the key.",
        getdel,
    ),
    row(
        "getex",
        -2,
        Flags::WRITE.union(Flags::FAST),
        &[KeySpec::key(1, KeyFlags::RW_ACCESS_UPDATE)
            .notes("RW and UPDATE because it changes the TTL")],
        "6.2.0",
        "Returns the string value of a key after setting its expiration time.",
        getex,
    ),
    row(
        "getrange",
        4,
        Flags::READONLY,
        RO_ACCESS,
        "2.4.0",
        "Returns a substring of the string stored at a key.",
        getrange,
    ),
    row(
        "getset",
        3,
        WRITE_OOM_FAST,
        RW_ACCESS_UPDATE,
        "1.0.0",
        "Returns the previous string value of a key after setting it to a new value.",
        getset,
    ),
    row(
        "incr",
        2,
        WRITE_OOM_FAST,
        RW_ACCESS_UPDATE,
        "1.0.0",
        "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
        incr,
    ),
    row(
        "incrby",
        3,
        WRITE_OOM_FAST,
        RW_ACCESS_UPDATE,
        "1.0.0",
        "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
        incrby,
    ),
    row(
        "incrbyfloat",
        3,
        WRITE_OOM_FAST,
        RW_ACCESS_UPDATE,
        "2.6.0",
        "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
        incrbyfloat,
    ),
    CommandSpec {
        keys: &[KeySpec::range(1, 1, 1, KeyFlags::RO_ACCESS)],
        summary: "Finds the longest common substring.",
        since: "7.0.0",
        ..CommandSpec::new("lcs", -3, Flags::READONLY, G, lcs)
    },
    CommandSpec {
        keys: &[KeySpec::range(1, -1, 1, KeyFlags::RO_ACCESS)],
        tips: &["request_policy:multi_shard"],
        summary: "Atomically returns the string values of one or more keys.",
        since: "1.0.0",
        ..CommandSpec::new("mget", -2, READ_FAST, G, mget)
    },
    CommandSpec {
        keys: &[KeySpec::range(1, -1, 2, KeyFlags::OW_UPDATE)],
        tips: &[
            "request_policy:multi_shard",
            "response_policy:all_succeeded",
        ],
        summary: "Atomically creates or modifies the string values of one or more keys.",
        since: "1.0.1",
        ..CommandSpec::new("mset", -3, WRITE_OOM, G, mset)
    },
    CommandSpec {
        keys: &[KeySpec::range(1, -1, 2, KeyFlags::OW_INSERT)],
        tips: &["request_policy:multi_shard", "response_policy:agg_min"],
        summary: "Atomically modifies the string values of one or more keys only when all keys don't exist.",
        since: "1.0.1",
        ..CommandSpec::new("msetnx", -3, WRITE_OOM, G, msetnx)
    },
    row(
        "psetex",
        4,
        WRITE_OOM,
        OW_UPDATE,
        "2.6.0",
        "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.",
        psetex,
    ),
    row(
        "set",
        -3,
        WRITE_OOM,
        SET_KEYS,
        "1.0.0",
        "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
        set,
    ),
    row(
        "setex",
        4,
        WRITE_OOM,
        OW_UPDATE,
        "2.0.0",
        "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.",
        setex,
    ),
    row(
        "setnx",
        3,
        WRITE_OOM_FAST,
        &[KeySpec::key(1, KeyFlags::OW_INSERT)],
        "1.0.0",
        "Set the string value of a key only when the key doesn't exist.",
        setnx,
    ),
    row(
        "setrange",
        4,
        WRITE_OOM,
        RW_UPDATE,
        "2.2.0",
        "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.",
        setrange,
    ),
    row(
        "strlen",
        2,
        READ_FAST,
        RO,
        "2.2.0",
        "Returns the length of a string value.",
        strlen,
    ),
    // SUBSTR is GETRANGE's older name and behaves identically.
    row(
        "substr",
        4,
        Flags::READONLY,
        RO_ACCESS,
        "1.0.0",
        "Returns a substring from a string value.",
        getrange,
    ),
];

// ---------------------------------------------------------------------------------------------
// Shared pieces: reading strings, expiry arguments, SET's options, the store step.
// ---------------------------------------------------------------------------------------------

/// A read lookup (GET, GETRANGE, ...): counts a keyspace hit or miss. Other types are WRONGTYPE.
fn read_str(guard: &mut Guard<'_>, key: &[u8]) -> Result<Option<Bytes>, CmdError> {
    guard.get(key).map(|v| v.as_str().cloned()).transpose()
}

/// The look a write command takes before writing: no hit / miss statistics, but an access,
/// as in Redis (even when the command then fails on the type or the old value).
fn peek_str(guard: &mut Guard<'_>, key: &[u8]) -> Result<Option<Bytes>, CmdError> {
    guard
        .lookup_write(key)
        .map(|e| e.value.as_str().cloned())
        .transpose()
}

/// The expiry forms of SET, GETEX, SETEX and PSETEX.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExpireKind {
    /// Seconds from now.
    Ex,
    /// Milliseconds from now.
    Px,
    /// Unix time in seconds.
    ExAt,
    /// Unix time in milliseconds.
    PxAt,
}

impl ExpireKind {
    fn from_keyword(word: &[u8]) -> Option<ExpireKind> {
        [
            ("EX", ExpireKind::Ex),
            ("PX", ExpireKind::Px),
            ("EXAT", ExpireKind::ExAt),
            ("PXAT", ExpireKind::PxAt),
        ]
        .into_iter()
        .find(|(name, _)| word.eq_ignore_ascii_case(name.as_bytes()))
        .map(|(_, kind)| kind)
    }

    /// The absolute expiry (Unix ms) for `arg`. Like Redis, zero and negative values are
    /// rejected, and so is anything whose conversion to milliseconds or addition to the
    /// current time overflows a signed 64-bit integer.
    fn deadline(self, arg: &[u8], now_ms: u64, command: &'static str) -> Result<u64, CmdError> {
        let n = parse_i64(arg)?;
        let invalid = || CmdError::InvalidExpire(command);
        if n <= 0 {
            return Err(invalid());
        }
        let ms = match self {
            ExpireKind::Ex | ExpireKind::ExAt => n.checked_mul(1000).ok_or_else(invalid)?,
            ExpireKind::Px | ExpireKind::PxAt => n,
        };
        let at = match self {
            ExpireKind::Ex | ExpireKind::Px => i64::try_from(now_ms)
                .ok()
                .and_then(|now| ms.checked_add(now))
                .ok_or_else(invalid)?,
            ExpireKind::ExAt | ExpireKind::PxAt => ms,
        };
        u64::try_from(at).map_err(|_| invalid())
    }
}

/// Which command's options are being read: SET takes NX, XX, GET and KEEPTTL; GETEX takes
/// PERSIST; both take one of EX, PX, EXAT, PXAT.
#[derive(Clone, Copy, PartialEq, Eq)]
enum OptionsOf {
    Set,
    Getex,
}

/// The options of SET and GETEX.
#[derive(Default)]
struct SetOptions {
    expire: Option<(ExpireKind, Bytes)>,
    keep_ttl: bool,
    persist: bool,
    nx: bool,
    xx: bool,
    get: bool,
}

impl SetOptions {
    /// Reads the options after the key (and value), with Redis's rules for conflicts: NX and
    /// XX exclude each other; the expiry forms, KEEPTTL and PERSIST exclude each other;
    /// repeating an option is allowed (the last expiry wins). Anything else is a syntax error.
    fn parse(args: &mut Args, of: OptionsOf) -> Result<SetOptions, CmdError> {
        let set = of == OptionsOf::Set;
        let mut o = SetOptions::default();
        while let Some(arg) = args.next() {
            let is = |name: &str| arg.eq_ignore_ascii_case(name.as_bytes());
            if set && is("NX") && !o.xx {
                o.nx = true;
            } else if set && is("XX") && !o.nx {
                o.xx = true;
            } else if set && is("GET") {
                o.get = true;
            } else if set && is("KEEPTTL") && o.expire.is_none() {
                o.keep_ttl = true;
            } else if !set && is("PERSIST") && o.expire.is_none() {
                o.persist = true;
            } else if let Some(kind) = ExpireKind::from_keyword(&arg)
                && !o.keep_ttl
                && !o.persist
                && o.expire.as_ref().is_none_or(|(k, _)| *k == kind)
                && let Some(value) = args.next()
            {
                o.expire = Some((kind, value));
            } else {
                return Err(CmdError::Syntax);
            }
        }
        Ok(o)
    }

    /// The validated absolute expiry, if an expiry option was given.
    fn deadline(&self, now_ms: u64, command: &'static str) -> Result<Option<u64>, CmdError> {
        self.expire
            .as_ref()
            .map(|(kind, arg)| kind.deadline(arg, now_ms, command))
            .transpose()
    }

    /// What the write does to the key's TTL.
    fn ttl(&self, deadline: Option<u64>) -> Ttl {
        match deadline {
            Some(at) => Ttl::At(at),
            None if self.keep_ttl => Ttl::Keep,
            None => Ttl::Clear,
        }
    }

    fn condition(&self) -> Condition {
        if self.nx {
            Condition::IfMissing
        } else if self.xx {
            Condition::IfExists
        } else {
            Condition::Always
        }
    }
}

/// SET's NX / XX.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Condition {
    Always,
    IfMissing,
    IfExists,
}

/// The store step of SET and its variants: writes `value` (over any type) unless the
/// condition says no. Returns whether it wrote.
fn store(guard: &mut Guard<'_>, key: Bytes, value: Value, ttl: Ttl, only: Condition) -> bool {
    // A condition is checked with Redis's write lookup, which counts as an access.
    let allowed = match only {
        Condition::Always => true,
        Condition::IfMissing => !guard.touch(&key),
        Condition::IfExists => guard.touch(&key),
    };
    if allowed {
        guard.insert(key, value, ttl);
    }
    allowed
}

/// The events of a SET-family write: `set`, then `expire` when it set a TTL.
fn notify_set(ctx: &ExecCtx, key: &[u8], with_ttl: bool) {
    ctx.notify(NotifyClass::STRING, "set", key);
    if with_ttl {
        ctx.notify(NotifyClass::GENERIC, "expire", key);
    }
}

/// Fails when a string of `len` bytes grown by `extra` would pass `proto-max-bulk-len`.
fn check_length(ctx: &ExecCtx, len: u64, extra: u64) -> Result<(), CmdError> {
    let max = u64::try_from(ctx.state.config.get_int("proto-max-bulk-len")).unwrap_or(0);
    match len.checked_add(extra) {
        Some(total) if total <= max => Ok(()),
        _ => Err(CmdError::StringTooLong),
    }
}

/// Edits a stored string in place. The buffer is reused when nothing else holds it (no copy);
/// otherwise it is copied once. Returns the new length.
pub(super) fn edit_str(value: &mut Bytes, edit: impl FnOnce(&mut BytesMut)) -> usize {
    let mut buf = std::mem::take(value)
        .try_into_mut()
        .unwrap_or_else(|shared| BytesMut::from(&shared[..]));
    edit(&mut buf);
    *value = buf.freeze();
    value.len()
}

/// Applies `edit` to the string at `key`, which the caller has checked is a live string.
fn edit_stored(guard: &mut Guard<'_>, key: &Bytes, edit: impl FnOnce(&mut BytesMut)) -> usize {
    match guard.get_mut(key) {
        Some(Value::Str(s)) => edit_str(s.bytes_for_edit(), edit),
        _ => 0,
    }
}

fn len_reply(len: usize) -> Reply {
    Reply::Integer(i64::try_from(len).unwrap_or(i64::MAX))
}

// ---------------------------------------------------------------------------------------------
// SET and its variants.
// ---------------------------------------------------------------------------------------------
/// SET's key flags for `argv`: it reads the old value only when a `GET` comes after the
/// value. Redis looks at every later argument as a C string, so an option's value spelled
/// `get`, or `get` followed by a NUL byte, counts too.
fn set_key_flags(argv: &[Bytes]) -> KeyFlags {
    let get = argv.iter().skip(3).any(|arg| {
        arg.get(..3).is_some_and(|p| p.eq_ignore_ascii_case(b"get"))
            && arg.get(3).is_none_or(|&b| b == 0)
    });
    if get {
        KeyFlags::RW_ACCESS_UPDATE
    } else {
        KeyFlags::OW_UPDATE
    }
}

fn set(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let raw = args.next_bytes()?;
    let value = Value::string(raw.clone(), &ctx.encodings());
    let opts = SetOptions::parse(args, OptionsOf::Set)?;
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let deadline = opts.deadline(guard.now_ms(), "set")?;
    let old = if opts.get {
        read_str(&mut guard, &key)?
    } else {
        None
    };
    let stored = store(
        &mut guard,
        key.clone(),
        value,
        opts.ttl(deadline),
        opts.condition(),
    );
    if stored {
        notify_set(ctx, &key, deadline.is_some());
        // EX / PX / EXAT become the absolute PXAT (Redis keeps a PXAT command as sent).
        let pxat = matches!(opts.expire, Some((ExpireKind::PxAt, _)));
        if let Some(at) = deadline.filter(|_| !pxat) {
            ctx.propagate(forms::set_pxat(&key, &raw, at));
        }
    }
    Ok(if opts.get {
        Reply::opt_bulk(old)
    } else if stored {
        Reply::ok()
    } else {
        Reply::Nil
    })
}

fn setnx(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let value = Value::string(args.next_bytes()?, &ctx.encodings());
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let stored = store(
        &mut guard,
        key.clone(),
        value,
        Ttl::Clear,
        Condition::IfMissing,
    );
    if stored {
        notify_set(ctx, &key, false);
    }
    Ok(Reply::Integer(i64::from(stored)))
}

fn setex(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    set_with_expire(ctx, args, ExpireKind::Ex, "setex")
}

fn psetex(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    set_with_expire(ctx, args, ExpireKind::Px, "psetex")
}

/// SETEX / PSETEX: `key ttl value`.
fn set_with_expire(
    ctx: &mut ExecCtx,
    args: &mut Args,
    kind: ExpireKind,
    command: &'static str,
) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let ttl = args.next_bytes()?;
    let raw = args.next_bytes()?;
    let value = Value::string(raw.clone(), &ctx.encodings());
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let at = kind.deadline(&ttl, guard.now_ms(), command)?;
    ctx.propagate(forms::set_pxat(&key, &raw, at));
    store(
        &mut guard,
        key.clone(),
        value,
        Ttl::At(at),
        Condition::Always,
    );
    notify_set(ctx, &key, true);
    Ok(Reply::ok())
}

fn getset(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let value = Value::string(args.next_bytes()?, &ctx.encodings());
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let old = read_str(&mut guard, &key)?;
    guard.insert(key.clone(), value, Ttl::Clear);
    notify_set(ctx, &key, false);
    Ok(Reply::opt_bulk(old))
}

fn mset(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    mset_generic(ctx, args, false)
}

fn msetnx(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    mset_generic(ctx, args, true)
}

/// MSET / MSETNX: all keys are locked together, so other clients see all or none of the
/// writes, and MSETNX's existence check and its writes are one atomic step.
fn mset_generic(ctx: &mut ExecCtx, args: &mut Args, nx: bool) -> Result<Reply, CmdError> {
    let pairs = args.rest();
    if !pairs.len().is_multiple_of(2) {
        return Err(CmdError::wrong_arity(if nx { "msetnx" } else { "mset" }));
    }
    let keys: Vec<&Bytes> = pairs.iter().step_by(2).collect();
    let encodings = ctx.encodings();
    let mut guard = ctx.ks().lock(ctx.db(), &keys);
    if nx && keys.iter().any(|k| guard.touch(k)) {
        return Ok(Reply::Integer(0));
    }
    for pair in pairs.chunks_exact(2) {
        let value = Value::string(pair[1].clone(), &encodings);
        guard.insert(pair[0].clone(), value, Ttl::Clear);
        notify_set(ctx, &pair[0], false);
    }
    Ok(if nx { Reply::Integer(1) } else { Reply::ok() })
}

// ---------------------------------------------------------------------------------------------
// Readers.
// ---------------------------------------------------------------------------------------------

fn get(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    Ok(Reply::opt_bulk(read_str(&mut guard, &key)?))
}

fn getex(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let opts = SetOptions::parse(args, OptionsOf::Getex)?;
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    // Redis looks the key up before validating the expiry: a missing key answers nil and a
    // wrong type answers WRONGTYPE whatever the expiry says.
    let Some(value) = read_str(&mut guard, &key)? else {
        return Ok(Reply::Nil);
    };
    let now = guard.now_ms();
    match opts.deadline(now, "getex")? {
        // Only EXAT / PXAT can name a time already past; the key goes at once.
        Some(at) if at <= now => {
            guard.remove(&key);
            ctx.notify(NotifyClass::GENERIC, "del", &key);
            ctx.propagate(forms::del(&[&key]));
        }
        Some(at) => {
            guard.set_expire(&key, Some(at));
            ctx.notify(NotifyClass::GENERIC, "expire", &key);
            ctx.propagate(forms::pexpireat(&key, at));
        }
        // Only a key that had a TTL is persisted, and only then announced.
        None if opts.persist && guard.peek(&key).is_some_and(|e| e.expire_at.is_some()) => {
            guard.set_expire(&key, None);
            ctx.notify(NotifyClass::GENERIC, "persist", &key);
            ctx.propagate(forms::command(b"PERSIST", &key, &[]));
        }
        None => {}
    }
    Ok(Reply::Bulk(value))
}

fn getdel(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let old = read_str(&mut guard, &key)?;
    if old.is_some() {
        guard.remove(&key);
        ctx.notify(NotifyClass::GENERIC, "del", &key);
        ctx.propagate(forms::del(&[&key]));
    }
    Ok(Reply::opt_bulk(old))
}

fn mget(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let keys = args.rest();
    let mut guard = ctx.ks().lock(ctx.db(), &keys);
    let values = keys
        .iter()
        .map(|key| match guard.get(key) {
            Some(Value::Str(s)) => Reply::Bulk(Bytes::clone(s)),
            _ => Reply::Nil,
        })
        .collect();
    Ok(Reply::Array(values))
}

fn strlen(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let len = read_str(&mut guard, &key)?.map_or(0, |s| s.len());
    Ok(len_reply(len))
}

/// GETRANGE and SUBSTR.
fn getrange(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let start = args.next_i64()?;
    let end = args.next_i64()?;
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let value = read_str(&mut guard, &key)?.unwrap_or_default();
    Ok(Reply::Bulk(match byte_range(value.len(), start, end) {
        Some((from, to)) => value.slice(from..=to),
        None => Bytes::new(),
    }))
}

/// The inclusive byte range GETRANGE returns for `start..=end` over a string of `len` bytes,
/// or `None` for an empty reply. Negative indexes count from the end and are clamped to the
/// string, in Redis's order (which makes e.g. `-1 -5` empty but `-100 -5` a prefix).
fn byte_range(len: usize, start: i64, end: i64) -> Option<(usize, usize)> {
    if start < 0 && end < 0 && start > end {
        return None;
    }
    let len = i64::try_from(len).ok()?;
    let from_end = |i: i64| if i < 0 { (len + i).max(0) } else { i };
    let start = from_end(start);
    let end = from_end(end).min(len - 1);
    if len == 0 || start > end {
        return None;
    }
    Some((usize::try_from(start).ok()?, usize::try_from(end).ok()?))
}

// ---------------------------------------------------------------------------------------------
// In-place edits.
// ---------------------------------------------------------------------------------------------

fn append(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let suffix = args.next_bytes()?;
    let encodings = ctx.encodings();
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let Some(old) = peek_str(&mut guard, &key)? else {
        // A new key is stored as SET would store it; appending to an existing one makes it raw.
        let len = suffix.len();
        guard.insert(key.clone(), Value::string(suffix, &encodings), Ttl::Clear);
        ctx.notify(NotifyClass::STRING, "append", &key);
        return Ok(len_reply(len));
    };
    check_length(ctx, old.len() as u64, suffix.len() as u64)?;
    // Drop our handle on the old value so the stored one can be extended without a copy.
    drop(old);
    let len = edit_stored(&mut guard, &key, |buf| buf.extend_from_slice(&suffix));
    ctx.notify(NotifyClass::STRING, "append", &key);
    Ok(len_reply(len))
}

fn setrange(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let offset = args.next_i64()?;
    let patch = args.next_bytes()?;
    let Ok(offset) = usize::try_from(offset) else {
        return Err(CmdError::OffsetOutOfRange);
    };
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let old_len = peek_str(&mut guard, &key)?.map(|s| s.len());
    // Writing nothing changes nothing (and creates no key), whatever the offset.
    if patch.is_empty() {
        return Ok(len_reply(old_len.unwrap_or(0)));
    }
    check_length(ctx, offset as u64, patch.len() as u64)?;
    let end = offset + patch.len();
    let write = |buf: &mut BytesMut| {
        if buf.len() < end {
            buf.resize(end, 0);
        }
        buf[offset..end].copy_from_slice(&patch);
    };
    let len = if old_len.is_some() {
        edit_stored(&mut guard, &key, write)
    } else {
        let mut buf = BytesMut::new();
        write(&mut buf);
        guard.insert(
            key.clone(),
            Value::Str(StrValue::raw(buf.freeze())),
            Ttl::Clear,
        );
        end
    };
    ctx.notify(NotifyClass::STRING, "setrange", &key);
    Ok(len_reply(len))
}

// ---------------------------------------------------------------------------------------------
// Counters.
// ---------------------------------------------------------------------------------------------

fn incr(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    add_integer(ctx, key, 1)
}

fn decr(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    add_integer(ctx, key, -1)
}

fn incrby(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let by = args.next_i64()?;
    add_integer(ctx, key, by)
}

fn decrby(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let by = args.next_i64()?;
    let by = by.checked_neg().ok_or(CmdError::DecrementOverflow)?;
    add_integer(ctx, key, by)
}

/// INCR, DECR, INCRBY, DECRBY: adds `delta` to the integer at `key` (0 when missing), keeping
/// its TTL.
fn add_integer(ctx: &mut ExecCtx, key: Bytes, delta: i64) -> Result<Reply, CmdError> {
    let encodings = ctx.encodings();
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let current = match peek_str(&mut guard, &key)? {
        Some(text) => parse_i64(&text)?,
        None => 0,
    };
    let value = current.checked_add(delta).ok_or(CmdError::Overflow)?;
    let mut text = itoa::Buffer::new();
    let text = Bytes::copy_from_slice(text.format(value).as_bytes());
    guard.insert(key.clone(), Value::string(text, &encodings), Ttl::Keep);
    // INCR, DECR and DECRBY are announced as `incrby` too, as Redis does.
    ctx.notify(NotifyClass::STRING, "incrby", &key);
    Ok(Reply::Integer(value))
}

fn incrbyfloat(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let by = args.next_bytes()?;
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    // Redis reads the stored value first, then the increment; both errors read the same.
    let current = match peek_str(&mut guard, &key)? {
        Some(text) => LongDouble::parse(&text)?,
        None => LongDouble::ZERO,
    };
    let text = Bytes::from(current.add_to_text(LongDouble::parse(&by)?)?);
    // Redis builds the sum as text: embstr or raw, never an integer.
    guard.insert(
        key.clone(),
        Value::Str(StrValue::text(text.clone())),
        Ttl::Keep,
    );
    ctx.notify(NotifyClass::STRING, "incrbyfloat", &key);
    // The sum, not the increment: float arithmetic must not be redone on replay.
    let keep = b"KEEPTTL".as_slice();
    ctx.propagate(forms::command(b"SET", &key, &[&text, keep]));
    Ok(Reply::Bulk(text))
}

// ---------------------------------------------------------------------------------------------
// LCS.
// ---------------------------------------------------------------------------------------------

fn lcs(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key_a = args.next_bytes()?;
    let key_b = args.next_bytes()?;
    // Take the two values (cheap handles) and release the locks before the quadratic work.
    let (a, b) = {
        let mut guard = ctx.ks().lock(ctx.db(), &[&key_a, &key_b]);
        let a = read_str(&mut guard, &key_a);
        let b = read_str(&mut guard, &key_b);
        match (a, b) {
            (Ok(a), Ok(b)) => (a.unwrap_or_default(), b.unwrap_or_default()),
            _ => return Err(CmdError::LcsNotStrings),
        }
    };
    let mut want_len = false;
    let mut want_idx = false;
    let mut with_match_len = false;
    let mut min_match_len = 0usize;
    while let Some(opt) = args.next() {
        let is = |name: &str| opt.eq_ignore_ascii_case(name.as_bytes());
        if is("IDX") {
            want_idx = true;
        } else if is("LEN") {
            want_len = true;
        } else if is("WITHMATCHLEN") {
            with_match_len = true;
        } else if is("MINMATCHLEN") && !args.is_empty() {
            // Negative means no minimum.
            min_match_len = usize::try_from(args.next_i64()?).unwrap_or(0);
        } else {
            return Err(CmdError::Syntax);
        }
    }
    if want_idx && want_len {
        return Err(CmdError::LcsLenAndIdx);
    }
    let table = LcsTable::build(&a, &b)?;
    if want_len {
        return Ok(len_reply(table.len()));
    }
    let (common, matches) = table.trace(min_match_len);
    if !want_idx {
        return Ok(Reply::Bulk(common.into()));
    }
    let pair = |from: usize, to: usize| Reply::Array(vec![len_reply(from), len_reply(to)]);
    let matches = matches
        .into_iter()
        .map(|m| {
            let mut item = vec![pair(m.a.0, m.a.1), pair(m.b.0, m.b.1)];
            if with_match_len {
                item.push(len_reply(m.a.1 - m.a.0 + 1));
            }
            Reply::Array(item)
        })
        .collect();
    Ok(Reply::Map(vec![
        (Reply::bulk_str("matches"), Reply::Array(matches)),
        (Reply::bulk_str("len"), len_reply(table.len())),
    ]))
}

/// One run of common bytes: inclusive ranges in the first and the second string.
#[derive(Debug, PartialEq, Eq)]
struct LcsMatch {
    a: (usize, usize),
    b: (usize, usize),
}

/// The dynamic-programming table of LCS lengths: cell (i, j) holds the LCS length of the first
/// i bytes of `a` and the first j bytes of `b`.
struct LcsTable<'s> {
    a: &'s [u8],
    b: &'s [u8],
    cells: Vec<u32>,
}

impl<'s> LcsTable<'s> {
    fn build(a: &'s [u8], b: &'s [u8]) -> Result<LcsTable<'s>, CmdError> {
        // Cells are u32 as in Redis, which bounds the string lengths.
        let limit = (u32::MAX - 1) as usize;
        if a.len() >= limit || b.len() >= limit {
            return Err(CmdError::LcsTooLong);
        }
        let size = (a.len() + 1)
            .checked_mul(b.len() + 1)
            .ok_or(CmdError::LcsNoMemory)?;
        let mut cells = Vec::new();
        cells
            .try_reserve_exact(size)
            .map_err(|_| CmdError::LcsNoMemory)?;
        cells.resize(size, 0u32);
        let width = b.len() + 1;
        for i in 1..=a.len() {
            for j in 1..=b.len() {
                cells[i * width + j] = if a[i - 1] == b[j - 1] {
                    cells[(i - 1) * width + j - 1] + 1
                } else {
                    cells[(i - 1) * width + j].max(cells[i * width + j - 1])
                };
            }
        }
        Ok(LcsTable { a, b, cells })
    }

    fn at(&self, i: usize, j: usize) -> u32 {
        self.cells[i * (self.b.len() + 1) + j]
    }

    /// Length of the longest common subsequence.
    fn len(&self) -> usize {
        self.at(self.a.len(), self.b.len()) as usize
    }

    /// Walks the table back from the end, as Redis does, collecting the common bytes and the
    /// runs of at least `min_len` contiguous matches (last run first, Redis's order).
    fn trace(&self, min_len: usize) -> (Vec<u8>, Vec<LcsMatch>) {
        let mut common = vec![0u8; self.len()];
        let mut left = common.len();
        let mut matches = Vec::new();
        let mut run: Option<LcsMatch> = None;
        let (mut i, mut j) = (self.a.len(), self.b.len());
        while i > 0 && j > 0 {
            let mut close_run = false;
            if self.a[i - 1] == self.b[j - 1] {
                left -= 1;
                common[left] = self.a[i - 1];
                match &mut run {
                    None => {
                        run = Some(LcsMatch {
                            a: (i - 1, i - 1),
                            b: (j - 1, j - 1),
                        })
                    }
                    // Contiguous with the run: extend it backwards.
                    Some(r) if r.a.0 == i && r.b.0 == j => {
                        r.a.0 -= 1;
                        r.b.0 -= 1;
                    }
                    Some(_) => close_run = true,
                }
                // A run touching the start of either string cannot grow further.
                if run.as_ref().is_some_and(|r| r.a.0 == 0 || r.b.0 == 0) {
                    close_run = true;
                }
                i -= 1;
                j -= 1;
            } else {
                if self.at(i - 1, j) > self.at(i, j - 1) {
                    i -= 1;
                } else {
                    j -= 1;
                }
                close_run = run.is_some();
            }
            if close_run
                && let Some(r) = run.take()
                && r.a.1 - r.a.0 + 1 >= min_len
            {
                matches.push(r);
            }
        }
        (common, matches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_redis_clamping() {
        assert_eq!(byte_range(5, 0, -1), Some((0, 4)));
        assert_eq!(byte_range(5, -1, -5), None);
        assert_eq!(byte_range(5, -100, -5), Some((0, 0)));
        assert_eq!(byte_range(5, 3, 100), Some((3, 4)));
        assert_eq!(byte_range(5, 5, 100), None);
        assert_eq!(byte_range(0, 0, -1), None);
        assert_eq!(byte_range(5, i64::MIN, i64::MAX), Some((0, 4)));
        assert_eq!(byte_range(5, i64::MAX, i64::MIN), None);
    }

    #[test]
    fn expiry_arithmetic_rejects_overflow() {
        let now = 1_700_000_000_000;
        assert_eq!(ExpireKind::Ex.deadline(b"10", now, "set"), Ok(now + 10_000));
        assert_eq!(ExpireKind::PxAt.deadline(b"5", now, "set"), Ok(5));
        let invalid = Err(CmdError::InvalidExpire("set"));
        assert_eq!(ExpireKind::Ex.deadline(b"0", now, "set"), invalid);
        assert_eq!(ExpireKind::Px.deadline(b"-1", now, "set"), invalid);
        assert_eq!(
            ExpireKind::Px.deadline(b"9223372036854775807", now, "set"),
            invalid
        );
        assert_eq!(
            ExpireKind::ExAt.deadline(b"9223372036854776", now, "set"),
            invalid
        );
        assert_eq!(
            ExpireKind::ExAt.deadline(b"9223372036854775", now, "set"),
            Ok(9_223_372_036_854_775_000)
        );
        assert_eq!(
            ExpireKind::Ex.deadline(b"x", now, "set"),
            Err(CmdError::NotInteger)
        );
    }

    #[test]
    fn unique_strings_are_edited_in_place() {
        let mut buf = BytesMut::with_capacity(64);
        buf.extend_from_slice(b"abc");
        let mut value = buf.freeze();
        let start = value.as_ptr();
        assert_eq!(edit_str(&mut value, |b| b.extend_from_slice(b"def")), 6);
        assert_eq!(value.as_ptr(), start);
        assert_eq!(&value[..], b"abcdef");
        // A shared value is copied, and the other holder keeps the old bytes.
        let other = value.clone();
        edit_str(&mut value, |b| b[0] = b'X');
        assert_ne!(value.as_ptr(), start);
        assert_eq!((&value[..], &other[..]), (&b"Xbcdef"[..], &b"abcdef"[..]));
    }

    #[test]
    fn lcs_traces_runs_from_the_end() {
        let table = LcsTable::build(b"ohmytext", b"mynewtext").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(table.len(), 6);
        let (common, matches) = table.trace(0);
        assert_eq!(common, b"mytext");
        assert_eq!(
            matches,
            vec![
                LcsMatch {
                    a: (4, 7),
                    b: (5, 8)
                },
                LcsMatch {
                    a: (2, 3),
                    b: (0, 1)
                },
            ]
        );
        assert_eq!(table.trace(4).1.len(), 1);
        let empty = LcsTable::build(b"", b"abc").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(empty.trace(0), (Vec::new(), Vec::new()));
    }
}
