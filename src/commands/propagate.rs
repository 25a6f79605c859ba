//! Command propagation: what a command appends to the AOF, as Redis's `propagate` /
//! `alsoPropagate` decide it.
//!
//! The rule, applied by the dispatcher around every command while the AOF is on:
//! - a WRITE command that changed a key (the keyspace reported a change on this thread
//!   while it ran) is appended as it was received;
//! - a WRITE command without keys (FLUSHALL, SWAPDB, FUNCTION LOAD, FT.CREATE, FT.ALIASADD,
//!   FT.DICTADD ...) is appended when it succeeded, so that replay rebuilds what it made, and
//!   so is a stream WRITE command (consumer-group state changes without a key event);
//! - a handler whose argv would not replay to the same result (relative TTLs, random or
//!   server-chosen results, floating-point increments, blocking forms) calls
//!   [`ExecCtx::propagate`] with the commands to append instead;
//! - keys a command finds expired are appended as `DEL` before it;
//! - the commands EXEC or a script ran (never EVAL / FCALL / EXEC themselves) make one unit,
//!   wrapped in `MULTI` ... `EXEC` when it has more than one command.
//!
//! A unit takes its place in the file's order at its first change, under that change's
//! shard locks (see `persistence::aof`), so the file replays writes to any key in the order
//! they happened even though commands run on many threads.

use bytes::Bytes;

use super::{CommandSpec, ExecCtx, Flags};
use crate::persistence::aof::{self, Capture, Record};
use crate::state::ServerState;

impl ExecCtx<'_> {
    /// Appends `argv` (run in the client's database) to the AOF instead of the running
    /// command's own argv; call it once per command to append. Without a change to any key
    /// the command is still appended. Does nothing while the AOF is off.
    pub fn propagate(&self, argv: Vec<Bytes>) {
        let db = self.client.db;
        let file = &self.state.aof;
        aof::with_capture(|capture| {
            capture.seq.get_or_insert_with(|| file.take_seq());
            capture
                .replaced
                .get_or_insert_with(Vec::new)
                .push(Record::new(db, argv));
        });
    }
}

/// What the dispatcher keeps between [`begin`] and [`end`] for one command.
pub(super) enum Scope {
    /// The AOF is off: nothing is captured.
    Off,
    /// A client's command: its own capture, replacing `outer` (normally none) meanwhile.
    Top { outer: Option<Capture>, db: usize },
    /// A command EXEC or a script runs: it adds to the running unit's capture; `saved` is
    /// the caller's own state, put back afterwards.
    Nested {
        changed: bool,
        replaced: Option<Vec<Record>>,
        db: usize,
    },
}

/// Called by the dispatcher before a handler runs.
pub(super) fn begin(state: &ServerState, nested: bool, db: usize) -> Scope {
    if nested {
        let taken = aof::with_capture(|c| (std::mem::take(&mut c.changed), c.replaced.take()));
        return match taken {
            Some((changed, replaced)) => Scope::Nested {
                changed,
                replaced,
                db,
            },
            None => Scope::Off,
        };
    }
    if !state.aof.enabled() {
        return Scope::Off;
    }
    Scope::Top {
        outer: aof::begin_capture(),
        db,
    }
}

/// Called by the dispatcher after the handler returned: decides what the command appends
/// and, for a client's command, submits the unit.
pub(super) fn end(
    state: &ServerState,
    scope: Scope,
    runs: &CommandSpec,
    argv: &[Bytes],
    succeeded: bool,
) {
    let db = match &scope {
        Scope::Off => return,
        Scope::Top { db, .. } | Scope::Nested { db, .. } => *db,
    };
    aof::with_capture(|capture| {
        let changed = std::mem::take(&mut capture.changed);
        let own = match capture.replaced.take() {
            Some(replaced) => replaced,
            None if appends_argv(runs, changed, succeeded) => {
                capture.seq.get_or_insert_with(|| state.aof.take_seq());
                vec![Record::new(db, argv.to_vec())]
            }
            None => Vec::new(),
        };
        capture.records.extend(own);
    });
    match scope {
        Scope::Off => {}
        Scope::Nested {
            changed, replaced, ..
        } => {
            aof::with_capture(|capture| {
                capture.changed = changed;
                capture.replaced = replaced;
            });
        }
        Scope::Top { outer, .. } => {
            let Some(capture) = aof::end_capture(outer) else {
                return;
            };
            if let Some(seq) = capture.seq {
                state.aof.submit(seq, wrapped(capture.records));
            }
        }
    }
}

/// Whether a command appends its argv as received.
fn appends_argv(runs: &CommandSpec, changed: bool, succeeded: bool) -> bool {
    runs.flags.contains(Flags::WRITE)
        && (changed || (succeeded && (keyless(runs) || quiet_writes(runs))))
}

/// Stream consumer-group bookkeeping (XGROUP, XACK, XCLAIM, XREADGROUP ...) changes a
/// stream without the keyspace reporting a change of the key (as in Redis, WATCH does not
/// see it), yet it must be replayed.
fn quiet_writes(runs: &CommandSpec) -> bool {
    runs.group == "stream"
}

/// A command that names no keys: what it changes is not reported by the keyspace.
fn keyless(runs: &CommandSpec) -> bool {
    runs.keys.is_empty() && runs.getkeys.is_none()
}

/// A unit of several commands is made atomic for replay, as Redis does.
fn wrapped(records: Vec<Record>) -> Vec<Record> {
    if records.len() < 2 {
        return records;
    }
    let db = records[0].db;
    let mut out = Vec::with_capacity(records.len() + 2);
    out.push(Record::of(db, &[b"MULTI"]));
    let last_db = records.last().map_or(db, |r| r.db);
    out.extend(records);
    out.push(Record::of(last_db, &[b"EXEC"]));
    out
}

/// Builders of the forms Redis propagates in place of a command.
pub mod forms {
    use bytes::Bytes;

    fn int(n: impl itoa::Integer) -> Bytes {
        Bytes::copy_from_slice(itoa::Buffer::new().format(n).as_bytes())
    }

    fn words(parts: &[&[u8]]) -> Vec<Bytes> {
        parts.iter().map(|p| Bytes::copy_from_slice(p)).collect()
    }

    /// `PEXPIREAT key ms`: every relative or second-based expiry, made absolute.
    pub fn pexpireat(key: &Bytes, at_ms: u64) -> Vec<Bytes> {
        vec![Bytes::from_static(b"PEXPIREAT"), key.clone(), int(at_ms)]
    }

    /// `SET key value PXAT ms` (SETEX, PSETEX, SET with EX / PX / EXAT).
    pub fn set_pxat(key: &Bytes, value: &Bytes, at_ms: u64) -> Vec<Bytes> {
        let mut argv = vec![Bytes::from_static(b"SET"), key.clone(), value.clone()];
        argv.extend([Bytes::from_static(b"PXAT"), int(at_ms)]);
        argv
    }

    /// `DEL key ...`.
    pub fn del(keys: &[&Bytes]) -> Vec<Bytes> {
        let mut argv = vec![Bytes::from_static(b"DEL")];
        argv.extend(keys.iter().map(|k| (*k).clone()));
        argv
    }

    /// `name key` plus `args`: the plain forms of pops and moves (`LPOP key`, `ZPOPMIN key
    /// count`, `LMOVE src dst LEFT RIGHT`).
    pub fn command(name: &[u8], key: &Bytes, args: &[&[u8]]) -> Vec<Bytes> {
        let mut argv = vec![Bytes::copy_from_slice(name), key.clone()];
        argv.extend(words(args));
        argv
    }

    /// A count argument.
    pub fn count(n: usize) -> Bytes {
        int(n)
    }
}
