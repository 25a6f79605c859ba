//! Command execution: the table lookup, arity / auth checks, the handlers (one module per Redis
//! command group), statistics, slow log and MONITOR feed.
//!
//! Handlers are synchronous `fn(&mut ExecCtx, &mut Args) -> Result<Reply, CmdError>`; they lock
//! the shards they need through the keyspace and never see a socket. This module must not
//! import `server`.

pub mod aof;
pub mod args;
pub mod bitmap;
pub mod connection;
pub mod generic;
pub mod graphs;
pub mod hash;
pub mod hyperloglog;
pub mod list;
pub mod longdouble;
pub mod propagate;
pub mod pubsub;
pub mod scan;
pub mod scripting;
pub mod search;
pub mod server;
pub mod set;
pub mod snapshot;
pub mod sort;
pub mod stream;
pub mod string;
pub mod table;
pub mod transaction;
pub mod zset;

use std::borrow::Cow;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering;
use std::time::Instant;

use bytes::Bytes;

pub use args::Args;
pub use table::{Command, CommandSpec, CommandStats, Flags, KeyFlags, KeySpec, table};

use crate::clients::{ClientFlags, ClientState, CommandName};
use crate::config::IntParam;
use crate::error::CmdError;
use crate::keyspace::{EncodingConfig, HashLimits, SetLimits, ZSetLimits};
use crate::protocol::{Reply, repr};
use crate::state::ServerState;

/// Every group's rows; the table is built from these.
pub(crate) static GROUPS: &[&[CommandSpec]] = &[
    aof::COMMANDS,
    bitmap::COMMANDS,
    connection::COMMANDS,
    generic::COMMANDS,
    hash::COMMANDS,
    hyperloglog::COMMANDS,
    list::COMMANDS,
    pubsub::COMMANDS,
    scripting::COMMANDS,
    search::COMMANDS,
    server::COMMANDS,
    set::COMMANDS,
    snapshot::COMMANDS,
    sort::COMMANDS,
    stream::COMMANDS,
    string::COMMANDS,
    transaction::COMMANDS,
    zset::COMMANDS,
];

/// What a handler runs with: the shared state and the calling connection's state.
pub struct ExecCtx<'a> {
    pub state: &'a ServerState,
    pub client: &'a mut ClientState,
}

impl ExecCtx<'_> {
    /// The keyspace.
    pub fn ks(&self) -> &crate::keyspace::Keyspace {
        &self.state.keyspace
    }

    /// The selected database.
    pub fn db(&self) -> usize {
        self.client.db
    }

    /// The settings that decide how the values this command writes are encoded.
    pub fn encodings(&self) -> EncodingConfig {
        ExecCtx::encodings_of(self.state)
    }

    /// The settings that decide how values written (or loaded) under `state` are encoded.
    pub fn encodings_of(state: &ServerState) -> EncodingConfig {
        // Read for every write of a value: names resolved once.
        static MAXMEMORY: IntParam = IntParam::new("maxmemory");
        static HASH_ENTRIES: IntParam = IntParam::new("hash-max-listpack-entries");
        static HASH_VALUE: IntParam = IntParam::new("hash-max-listpack-value");
        static LIST_SIZE: IntParam = IntParam::new("list-max-listpack-size");
        static SET_INTSET: IntParam = IntParam::new("set-max-intset-entries");
        static SET_ENTRIES: IntParam = IntParam::new("set-max-listpack-entries");
        static SET_VALUE: IntParam = IntParam::new("set-max-listpack-value");
        static ZSET_ENTRIES: IntParam = IntParam::new("zset-max-listpack-entries");
        static ZSET_VALUE: IntParam = IntParam::new("zset-max-listpack-value");
        let config = &state.config;
        let limit = |param: &IntParam| usize::try_from(param.get(config)).unwrap_or(0);
        // Redis gives up shared integers when evicting by LRU or LFU, which needs a private
        // access time per value.
        let share_integers = MAXMEMORY.get(config) == 0 || {
            let policy = config.get("maxmemory-policy");
            !(policy.ends_with("-lru") || policy.ends_with("-lfu"))
        };
        EncodingConfig {
            share_integers,
            hash: HashLimits {
                entries: limit(&HASH_ENTRIES),
                value: limit(&HASH_VALUE),
            },
            list_max_listpack_size: LIST_SIZE.get(config),
            set: SetLimits {
                intset_entries: limit(&SET_INTSET),
                listpack_entries: limit(&SET_ENTRIES),
                listpack_value: limit(&SET_VALUE),
            },
            zset: ZSetLimits {
                entries: limit(&ZSET_ENTRIES),
                value: limit(&ZSET_VALUE),
            },
        }
    }
}

/// A command resolved from `argv`: its table entry and, for a container command, the
/// subcommand row and counters.
struct Resolved {
    command: &'static Command,
    sub: Option<(&'static CommandSpec, &'static CommandStats)>,
}

impl Resolved {
    fn spec(&self) -> &'static CommandSpec {
        self.command.spec
    }

    fn sub(&self) -> Option<&'static CommandSpec> {
        self.sub.map(|(sub, _)| sub)
    }

    /// The row whose handler runs.
    fn runs(&self) -> &'static CommandSpec {
        self.sub().unwrap_or(self.command.spec)
    }

    fn stats(&self) -> &'static CommandStats {
        self.sub.map_or(&self.command.stats, |(_, stats)| stats)
    }

    fn name(&self) -> CommandName {
        CommandName {
            name: self.command.spec.name,
            sub: self.sub().map(|s| s.name),
        }
    }
}

/// Resolves `argv` to the spec that will run it (subcommand included), or the error Redis
/// gives with the command Redis then records as the client's last one (CLIENT LIST `cmd`):
/// the command whose arity is wrong, none for an unknown command or subcommand.
fn resolve(argv: &[Bytes]) -> Result<Resolved, (CmdError, Option<CommandName>)> {
    let Some(command) = table().command(&argv[0]) else {
        return Err((CmdError::unknown_command(&argv[0], &argv[1..]), None));
    };
    let spec = command.spec;
    let found = |sub: Option<&'static CommandSpec>| CommandName {
        name: spec.name,
        sub: sub.map(|s| s.name),
    };
    if !spec.arity_ok(argv.len()) {
        return Err((CmdError::wrong_arity(spec.name), Some(found(None))));
    }
    // A container with its own handler (COMMAND) runs it when called without a subcommand.
    if spec.subcommands.is_empty() || argv.len() < 2 {
        return Ok(Resolved { command, sub: None });
    }
    let Some((sub, stats)) = command.subcommand(&argv[1]) else {
        return Err((CmdError::unknown_subcommand(spec.name, &argv[1]), None));
    };
    // Subcommand arities count the container's name too, as in Redis (`config|get` is -3).
    if !sub.arity_ok(argv.len()) {
        let error = CmdError::WrongArity(format!("{}|{}", spec.name, sub.name));
        return Err((error, Some(found(Some(sub)))));
    }
    Ok(Resolved {
        command,
        sub: Some((sub, stats)),
    })
}

/// Whether an unauthenticated connection is refused `runs` (`spec`'s subcommand or itself).
fn refused_before_auth(client: &ClientState, spec: &CommandSpec, runs: &CommandSpec) -> bool {
    !client.authenticated
        && !runs.flags.contains(Flags::NO_AUTH)
        && !spec.flags.contains(Flags::NO_AUTH)
}

/// A command CLIENT PAUSE may hold back.
pub struct Pausable {
    pub name: CommandName,
    /// Whether it writes or may replicate, which a WRITE pause holds back too.
    pub writes: bool,
}

/// How CLIENT PAUSE treats `argv`: `None` when it fails before a pause applies (unknown
/// command, wrong arity, authentication required: Redis answers those at once).
pub fn pausable(client: &ClientState, argv: &[Bytes]) -> Option<Pausable> {
    let resolved = resolve(argv).ok()?;
    let runs = resolved.runs();
    if refused_before_auth(client, resolved.spec(), runs) || runs.handler.is_none() {
        return None;
    }
    Some(Pausable {
        name: resolved.name(),
        writes: runs
            .flags
            .intersects(Flags::WRITE.union(Flags::MAY_REPLICATE))
            || (runs.name == "exec" && transaction::queued_writes(client)),
    })
}

/// Runs one command sent by a client and returns its reply.
pub fn execute(state: &ServerState, client: &mut ClientState, argv: Vec<Bytes>) -> Reply {
    dispatch(state, client, argv, false)
}

/// Runs one command on behalf of an `exclusive` command that already holds the exec gate
/// for writing (the commands EXEC runs, `redis.call` in a script).
pub fn execute_nested(state: &ServerState, client: &mut ClientState, argv: Vec<Bytes>) -> Reply {
    dispatch(state, client, argv, true)
}

fn dispatch(
    state: &ServerState,
    client: &mut ClientState,
    argv: Vec<Bytes>,
    holds_gate: bool,
) -> Reply {
    let resolved = match resolve(&argv) {
        Ok(resolved) => resolved,
        Err((e, last_cmd)) => {
            if !holds_gate {
                client.last_cmd = last_cmd;
            }
            transaction::refuse(client);
            // Counted on the command or subcommand (`config|set`) the arity error names.
            if let CmdError::WrongArity(name) = &e
                && let Some(stats) = table().stats(name)
            {
                stats.rejected_calls.fetch_add(1, Ordering::Relaxed);
            }
            if last_cmd.is_some_and(|c| c.name == "exec") {
                // Redis feeds an aborted EXEC to MONITOR as it does a run one.
                if state.has_monitors.load(Ordering::Relaxed) {
                    feed_monitors(state, client, &shown_args(&argv));
                }
                return error_reply(state, transaction::exec_refused(client, e));
            }
            return error_reply(state, e);
        }
    };
    let spec = resolved.spec();
    let runs = resolved.runs();
    // Commands run for EXEC or a script leave the caller's last command (CLIENT LIST `cmd=`).
    if !holds_gate {
        client.last_cmd = Some(resolved.name());
    }
    if refused_before_auth(client, spec, runs) {
        transaction::refuse(client);
        if spec.name == "exec" {
            return error_reply(state, transaction::exec_refused(client, CmdError::NoAuth));
        }
        return error_reply(state, CmdError::NoAuth);
    }
    if let Some(e) = crate::pubsub::refused_while_subscribed(client, spec, resolved.name()) {
        return rejected(state, client, &resolved, e);
    }
    let Some(handler) = runs.handler else {
        transaction::refuse(client);
        return error_reply(state, CmdError::wrong_arity(spec.name));
    };
    // After a failed background save, writes (and PING, as in Redis) are refused.
    if !holds_gate
        && (runs.flags.contains(Flags::WRITE)
            || spec.name == "ping"
            || (spec.name == "exec" && transaction::queued_writes(client)))
        && let Some(e) = snapshot::refuses_writes(state)
    {
        return rejected(state, client, &resolved, e);
    }
    if client.tx.queueing() && !transaction::runs_at_once(spec) {
        return transaction::queue(client, runs, argv).unwrap_or_else(|e| {
            resolved
                .stats()
                .rejected_calls
                .fetch_add(1, Ordering::Relaxed);
            error_reply(state, e)
        });
    }
    let mut args = Args::new(argv, if resolved.sub.is_some() { 2 } else { 1 });
    // CLIENT NO-TOUCH: key access times stay as they are, except for TOUCH itself.
    let no_touch = client.handle.has_flag(ClientFlags::NO_TOUCH) && spec.name != "touch";
    let mut ctx = ExecCtx { state, client };
    let exclusive = runs.exclusive || spec.exclusive;
    let allow_busy = runs.flags.contains(Flags::ALLOW_BUSY);
    let _gate = match holds_gate {
        true => None,
        false => match ExecGate::enter(state, exclusive, allow_busy) {
            Ok(gate) => gate,
            Err(e) => return error_reply(state, e),
        },
    };
    // Timed from here, as Redis times only the command's own run: the wait for EXEC or a
    // script holding the gate (in Redis, the time before its single thread reads the
    // command) belongs to neither the slow log nor the command's statistics.
    let started = Instant::now();
    let scope = propagate::begin(state, holds_gate, ctx.client.db);
    // A handler bug must not take the connection, let alone the server, down.
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
        crate::keyspace::with_touch_mode(no_touch, || handler(&mut ctx, &mut args))
    }))
    .unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        let full_name = match resolved.sub() {
            Some(sub) => format!("{}|{}", spec.name, sub.name),
            None => spec.name.to_string(),
        };
        tracing::error!("command '{full_name}' panicked: {what}");
        Err(CmdError::err(format!("internal error in '{full_name}'")))
    });
    propagate::end(state, scope, runs, args.argv(), result.is_ok());
    if let Some(request) = ctx.client.blocked.as_mut() {
        // Blocked: counted when it is served or times out, as Redis counts it.
        if request.retry_argv.is_none() {
            request.retry_argv = Some(args.argv().to_vec());
        }
        return Reply::Nil;
    }
    let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
    let micros = nanos / 1000;
    state
        .stats
        .total_commands_processed
        .fetch_add(1, Ordering::Relaxed);
    let stats = resolved.stats();
    stats.calls.fetch_add(1, Ordering::Relaxed);
    stats.usec.fetch_add(micros, Ordering::Relaxed);
    // Redis times commands in whole microseconds; the histogram keeps nanoseconds.
    static LATENCY_TRACKING: IntParam = IntParam::new("latency-tracking");
    if LATENCY_TRACKING.get(&state.config) == 1 {
        stats.latency.record(nanos);
    }
    if result.is_err() {
        stats.failed_calls.fetch_add(1, Ordering::Relaxed);
    }
    if result.is_ok() && runs.flags.contains(Flags::WRITE) {
        state.stats.dirty.fetch_add(1, Ordering::Relaxed);
    }
    let shown = shown_args(args.argv());
    if !runs.flags.contains(Flags::SKIP_SLOWLOG) {
        server::record_slow(state, ctx.client, &shown, micros);
    }
    // As Redis: after the command ran (so SELECT shows its new db), whether it failed or not,
    // and never for administrative commands, which may carry secrets.
    // Redis 7.0 shows EXEC, not the commands it runs.
    if state.has_monitors.load(Ordering::Relaxed)
        && !ctx.client.tx.executing
        && !runs
            .flags
            .intersects(Flags::SKIP_MONITOR.union(Flags::ADMIN))
    {
        feed_monitors(state, ctx.client, &shown);
    }
    match result {
        Ok(reply) => reply,
        Err(e) => error_reply(state, e),
    }
}

/// The caller's hold on `ServerState::exec_gate` while its command runs.
enum ExecGate<'a> {
    Shared {
        _held: crossbeam_utils::sync::ShardedLockReadGuard<'a, ()>,
    },
    Exclusive {
        _held: crossbeam_utils::sync::ShardedLockWriteGuard<'a, ()>,
    },
}

impl<'a> ExecGate<'a> {
    /// Waits for the gate, unless a script has held it past `busy-reply-threshold`: then
    /// the command is answered BUSY, or (`allow_busy`: SCRIPT KILL, SHUTDOWN ...) runs
    /// without the gate (`None`).
    fn enter(
        state: &'a ServerState,
        exclusive: bool,
        allow_busy: bool,
    ) -> Result<Option<ExecGate<'a>>, CmdError> {
        static BUSY_THRESHOLD: IntParam = IntParam::new("busy-reply-threshold");
        if let Some(entered) = ExecGate::try_enter(state, exclusive) {
            return Ok(Some(entered));
        }
        // Held by EXEC or a script: this worker's other connections move to another thread
        // while this one waits.
        crate::scripting::off_worker(|| {
            loop {
                let threshold = u64::try_from(BUSY_THRESHOLD.get(&state.config)).unwrap_or(0);
                if let Some(busy) = state.scripting.busy_error(threshold) {
                    return if allow_busy { Ok(None) } else { Err(busy) };
                }
                std::thread::sleep(std::time::Duration::from_micros(50));
                if let Some(entered) = ExecGate::try_enter(state, exclusive) {
                    return Ok(Some(entered));
                }
            }
        })
    }

    fn try_enter(state: &'a ServerState, exclusive: bool) -> Option<ExecGate<'a>> {
        use std::sync::TryLockError;
        // The gate guards no data, so a panic while it was held leaves nothing to repair.
        let gate = &state.exec_gate;
        if exclusive {
            match gate.try_write() {
                Ok(held) => Some(ExecGate::Exclusive { _held: held }),
                Err(TryLockError::Poisoned(e)) => Some(ExecGate::Exclusive {
                    _held: e.into_inner(),
                }),
                Err(TryLockError::WouldBlock) => None,
            }
        } else {
            match gate.try_read() {
                Ok(held) => Some(ExecGate::Shared { _held: held }),
                Err(TryLockError::Poisoned(e)) => Some(ExecGate::Shared {
                    _held: e.into_inner(),
                }),
                Err(TryLockError::WouldBlock) => None,
            }
        }
    }
}

/// Counts a call of the blocking command `name` that ended without running again: timed out
/// or CLIENT UNBLOCK (Redis counts a blocked command once, when it unblocks).
pub fn count_unblocked(state: &ServerState, name: &[u8]) {
    if let Some(command) = table().command(name) {
        command.stats.calls.fetch_add(1, Ordering::Relaxed);
        state
            .stats
            .total_commands_processed
            .fetch_add(1, Ordering::Relaxed);
    }
}

/// A command refused before it ran: counted as a rejected call, and inside MULTI it makes
/// EXEC fail (an EXEC refused itself answers EXECABORT with the reason).
fn rejected(
    state: &ServerState,
    client: &mut ClientState,
    resolved: &Resolved,
    e: CmdError,
) -> Reply {
    resolved
        .stats()
        .rejected_calls
        .fetch_add(1, Ordering::Relaxed);
    transaction::refuse(client);
    if resolved.spec().name == "exec" {
        return error_reply(state, transaction::exec_refused(client, e));
    }
    error_reply(state, e)
}

fn error_reply(state: &ServerState, e: CmdError) -> Reply {
    state.stats.count_error(&e.code());
    Reply::from(e)
}

/// Sends `argv` (credentials redacted) to every MONITOR connection in Redis's feed format:
/// `1339518083.107412 [0 127.0.0.1:60866] "keys" "*"`.
fn feed_monitors(state: &ServerState, client: &ClientState, argv: &[Bytes]) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut line = format!(
        "{}.{:06} [{} {}]",
        now.as_secs(),
        now.subsec_micros(),
        client.db,
        client.handle.addr
    );
    for arg in argv {
        line.push_str(" \"");
        line.push_str(&repr(arg));
        line.push('"');
    }
    let line = Bytes::from(line);
    let mut monitors = state.monitors.lock();
    monitors.retain(|tx| tx.send(line.clone()).is_ok());
    if monitors.is_empty() {
        state.has_monitors.store(false, Ordering::Relaxed);
    }
}

/// Positions of credentials that MONITOR and the slow log show as `(redacted)`, where Redis
/// redacts them: AUTH's arguments (unless there are too many, a syntax error found first),
/// and the user name and password after each AUTH option of a HELLO whose protocol version
/// was accepted, up to the first option it refuses.
fn redacted_args(argv: &[Bytes]) -> Vec<usize> {
    if argv[0].eq_ignore_ascii_case(b"auth") {
        return if argv.len() <= 3 {
            (1..argv.len()).collect()
        } else {
            Vec::new()
        };
    }
    let hello = argv[0].eq_ignore_ascii_case(b"hello");
    if !hello || argv.len() < 2 || !matches!(args::parse_i64(&argv[1]), Ok(2 | 3)) {
        return Vec::new();
    }
    let mut hidden = Vec::new();
    // HELLO protover [AUTH user pass] [SETNAME name]: options start after the version.
    let mut i = 2;
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        if argv[i].eq_ignore_ascii_case(b"auth") && more >= 2 {
            hidden.extend([i + 1, i + 2]);
            i += 3;
        } else if argv[i].eq_ignore_ascii_case(b"setname") && more >= 1 {
            i += 2;
        } else {
            break;
        }
    }
    hidden
}

/// `argv` as MONITOR and the slow log show it: credentials replaced by `(redacted)`.
fn shown_args(argv: &[Bytes]) -> Cow<'_, [Bytes]> {
    let hidden = redacted_args(argv);
    if hidden.is_empty() {
        return Cow::Borrowed(argv);
    }
    let shown = argv.iter().enumerate().map(|(i, arg)| {
        if hidden.contains(&i) {
            Bytes::from_static(b"(redacted)")
        } else {
            arg.clone()
        }
    });
    Cow::Owned(shown.collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(line: &str) -> Vec<Bytes> {
        line.split(' ')
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect()
    }

    /// Positions as Redis 7 redacts them (checked against redis-server's slow log).
    #[test]
    fn credentials_are_redacted_where_redis_redacts_them() {
        let hidden = |line: &str| redacted_args(&argv(line));
        assert_eq!(hidden("AUTH pw"), [1]);
        assert_eq!(hidden("auth default pw"), [1, 2]);
        assert!(
            hidden("AUTH a b c").is_empty(),
            "a syntax error comes first"
        );
        assert_eq!(hidden("HELLO 3 SETNAME x AUTH u p"), [5, 6]);
        assert_eq!(hidden("HELLO 3 AUTH u p BOGUS AUTH v q"), [3, 4]);
        assert!(hidden("HELLO 4 AUTH u p").is_empty(), "refused version");
        assert!(hidden("HELLO 2 AUTH u").is_empty());
        assert!(hidden("GET k").is_empty());
        let auth = argv("AUTH default pw");
        assert_eq!(
            shown_args(&auth).as_ref(),
            argv("AUTH (redacted) (redacted)")
        );
    }
}
