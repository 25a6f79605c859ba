//! Transactions: MULTI EXEC DISCARD WATCH UNWATCH, with Redis 7's semantics.
//!
//! While a connection is inside MULTI the dispatcher hands every command except EXEC,
//! DISCARD, MULTI, WATCH, QUIT and RESET to [`queue`] once it has passed the checks Redis
//! makes before queueing (unknown command, arity, authentication). Those that fail them, and
//! `no-multi` commands, are refused and mark the transaction, so that EXEC answers EXECABORT.
//! EXEC is an `exclusive` command: it holds the exec gate for writing, so no other client
//! sees the queued commands half done, and runs them through `execute_nested` with blocking
//! denied. Run-time errors stay per command in its reply array.
//!
//! WATCH registers keys with `ServerState::watches` (see `clients::WatchRegistry`), which the
//! keyspace tells about every change; EXEC fails with a null array once a watched key was
//! touched, or when one that was live when watched has expired by then.

use bytes::Bytes;

use super::{Args, CommandSpec, ExecCtx, Flags, KeyFlags, KeySpec};
use crate::clients::{ClientFlags, ClientState, WatchSet};
use crate::error::CmdError;
use crate::protocol::Reply;

const G: &str = "transactions";
/// MULTI, DISCARD, WATCH and UNWATCH.
const TX_FLAGS: Flags = Flags::NOSCRIPT
    .union(Flags::LOADING)
    .union(Flags::STALE)
    .union(Flags::FAST)
    .union(Flags::ALLOW_BUSY);

/// This group's rows of the command table.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        summary: "Starts a transaction.",
        since: "1.2.0",
        complexity: "O(1)",
        ..CommandSpec::new("multi", 1, TX_FLAGS, G, multi)
    },
    CommandSpec {
        summary: "Executes all commands in a transaction.",
        since: "1.2.0",
        complexity: "Depends on commands in the transaction",
        exclusive: true,
        ..CommandSpec::new(
            "exec",
            1,
            Flags::NOSCRIPT
                .union(Flags::LOADING)
                .union(Flags::STALE)
                .union(Flags::SKIP_SLOWLOG),
            G,
            exec,
        )
    },
    CommandSpec {
        summary: "Discards a transaction.",
        since: "2.0.0",
        complexity: "O(N), when N is the number of queued commands",
        ..CommandSpec::new("discard", 1, TX_FLAGS, G, discard)
    },
    CommandSpec {
        keys: &[KeySpec::range(1, -1, 1, KeyFlags::RO)],
        summary: "Monitors changes to keys to determine the execution of a transaction.",
        since: "2.2.0",
        complexity: "O(1) for every key.",
        ..CommandSpec::new("watch", -2, TX_FLAGS, G, watch)
    },
    CommandSpec {
        summary: "Forgets about watched keys of a transaction.",
        since: "2.2.0",
        complexity: "O(1)",
        ..CommandSpec::new("unwatch", 1, TX_FLAGS, G, unwatch)
    },
];

/// Whether `spec` runs at once even inside MULTI instead of being queued.
pub(super) fn runs_at_once(spec: &CommandSpec) -> bool {
    matches!(
        spec.name,
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    )
}

/// Queues `argv` (whose command `runs`) in the client's transaction, or refuses it when the
/// command may not run inside MULTI.
pub(super) fn queue(
    client: &mut ClientState,
    runs: &CommandSpec,
    argv: Vec<Bytes>,
) -> Result<Reply, CmdError> {
    if runs.flags.contains(Flags::NO_MULTI) {
        refuse(client);
        return Err(CmdError::err("Command not allowed inside a transaction"));
    }
    let tx = &mut client.tx;
    // Nothing queued after a refusal will ever run (as Redis, it still says QUEUED).
    if !tx.refused
        && let Some(queued) = tx.queued.as_mut()
    {
        let mem: usize = argv.iter().map(|a| a.len() + size_of::<usize>()).sum();
        queued.push(argv);
        let mut info = client.handle.info.lock();
        info.multi = queued.len() as i64;
        info.multi_mem += mem;
    }
    Ok(Reply::simple("QUEUED"))
}

/// Whether a queued command writes or may replicate: a WRITE pause then holds EXEC back,
/// as in Redis.
pub(super) fn queued_writes(client: &ClientState) -> bool {
    let writing = Flags::WRITE.union(Flags::MAY_REPLICATE);
    client.tx.queued.iter().flatten().any(|argv| {
        super::resolve(argv).is_ok_and(|resolved| resolved.runs().flags.intersects(writing))
    })
}

/// Marks the transaction, if any, as failed: a command was refused while queueing.
pub(super) fn refuse(client: &mut ClientState) {
    if client.tx.queueing() {
        client.tx.refused = true;
    }
}

/// The reply to an EXEC refused before it could run (wrong arity, authentication): as in
/// Redis, any transaction is discarded and the refusal is given as the reason.
pub(super) fn exec_refused(client: &mut ClientState, e: CmdError) -> CmdError {
    discard_transaction(client);
    let text = e.to_string();
    let reason = text.strip_prefix("ERR ").unwrap_or(&text);
    CmdError::Coded(format!(
        "EXECABORT Transaction discarded because of: {reason}"
    ))
}

/// Leaves MULTI: drops the queue and the refusal and unwatches every key (Redis's
/// `discardTransaction`). RESET calls it too.
pub fn discard_transaction(client: &mut ClientState) {
    client.tx.queued = None;
    client.tx.refused = false;
    client.tx.watching = None;
    client.handle.set_flag(ClientFlags::MULTI, false);
    let mut info = client.handle.info.lock();
    info.multi = -1;
    info.multi_mem = 0;
}

fn multi(ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    if ctx.client.tx.queueing() {
        return Err(CmdError::err("MULTI calls can not be nested"));
    }
    ctx.client.tx.queued = Some(Vec::new());
    ctx.client.handle.set_flag(ClientFlags::MULTI, true);
    ctx.client.handle.info.lock().multi = 0;
    Ok(Reply::ok())
}

fn discard(ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    if !ctx.client.tx.queueing() {
        return Err(CmdError::err("DISCARD without MULTI"));
    }
    discard_transaction(ctx.client);
    Ok(Reply::ok())
}

fn exec(ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    let Some(queued) = ctx.client.tx.queued.take() else {
        return Err(CmdError::err("EXEC without MULTI"));
    };
    if ctx.client.tx.refused {
        discard_transaction(ctx.client);
        return Err(CmdError::Coded(
            "EXECABORT Transaction discarded because of previous errors.".to_string(),
        ));
    }
    // Unwatched before the commands run: their own writes must not matter.
    let watching = ctx.client.tx.watching.take();
    if watching.is_some_and(|w| w.is_dirty() || watched_key_expired(ctx, &w)) {
        discard_transaction(ctx.client);
        return Ok(Reply::NilArray);
    }
    let denied_before = std::mem::replace(&mut ctx.client.deny_blocking, true);
    ctx.client.tx.executing = true;
    // The client shows as in MULTI (`x`, `multi=<n>`) until its commands have run.
    let replies = queued
        .into_iter()
        .map(|argv| super::execute_nested(ctx.state, ctx.client, argv))
        .collect();
    ctx.client.tx.executing = false;
    ctx.client.deny_blocking = denied_before;
    discard_transaction(ctx.client);
    Ok(Reply::Array(replies))
}

/// Whether a watched key that was live when watched has logically expired by now: Redis 7
/// fails EXEC then, even if nothing reclaimed the key yet.
fn watched_key_expired(ctx: &ExecCtx, watching: &WatchSet) -> bool {
    let keys = watching.live_when_watched();
    if keys.is_empty() {
        return false;
    }
    let mut guard = ctx.ks().lock_across(&keys);
    let now = guard.now_ms();
    keys.iter().any(|(db, key)| {
        guard.select(*db);
        guard.stored(key).is_some_and(|e| !e.is_live(now))
    })
}

fn watch(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    if ctx.client.tx.queueing() {
        return Err(CmdError::err("WATCH inside MULTI is not allowed"));
    }
    let registry = &ctx.state.watches;
    let watching = ctx
        .client
        .tx
        .watching
        .get_or_insert_with(|| WatchSet::new(registry.clone()));
    // A key already touched dooms the next EXEC: watching more changes nothing.
    if watching.is_dirty() {
        return Ok(Reply::ok());
    }
    let db = ctx.client.db;
    let keys = args.rest();
    // Registered under the keys' shard locks, so no write slips between look and watch.
    let guard = ctx.state.keyspace.lock(db, &keys);
    let now = guard.now_ms();
    for key in keys {
        if !watching.contains(db, &key) {
            let expired = guard.stored(&key).is_some_and(|e| !e.is_live(now));
            watching.add(db, key, expired);
        }
    }
    Ok(Reply::ok())
}

fn unwatch(ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    ctx.client.tx.watching = None;
    Ok(Reply::ok())
}
