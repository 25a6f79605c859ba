//! Blocking commands (BLPOP, BLMOVE, BZPOPMIN, XREAD BLOCK ...): the request a handler makes
//! when it finds nothing to serve, the registry of blocked clients, and the timeout arguments
//! those commands share.
//!
//! A handler that would block calls [`ExecCtx::block`] with a [`BlockRequest`]. The
//! connection then registers the client with [`Blocking::wait`] and waits for a reply on a
//! channel. The keyspace reports writes to [`Blocking`] (a [`KeyObserver`]), which notes the
//! keys clients wait on as ready. After each command the connection that ran it calls
//! [`Blocking::serve_ready`]: for every ready key, the clients blocked on it are tried in the
//! order they blocked (FIFO), each by running its command again on its behalf (Redis 7.2's
//! model); a client whose command finds something gets that reply, one that still finds
//! nothing keeps waiting. So, as in Redis, a client's next command already sees the blocked
//! clients served. Inside MULTI and scripts nothing blocks: the command answers its timeout
//! reply at once, and the keys it wrote are served after EXEC or the script.
//!
//! Lock order: the registry, then the exec gate and shard locks (through the command run),
//! then the ready list and key counts (leaves, the only thing the observer touches).
//! Depends on `commands`, `clients`, `keyspace` and `protocol`; never on `server`.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::oneshot;

use crate::clients::{ClientFlags, ClientHandle, ClientState};
use crate::commands::ExecCtx;
use crate::commands::args::{parse_f64, parse_i64};
use crate::error::CmdError;
use crate::keyspace::{Entry, KeyEvent, KeyEventKind, KeyObserver};
use crate::protocol::{Protocol, Reply};
use crate::state::ServerState;

/// What a blocked command waits for.
#[derive(Debug, Clone)]
pub struct BlockRequest {
    /// The keys whose writes may let the command through, in argument order.
    pub keys: Vec<Bytes>,
    /// The type (`TYPE` name: "list", "zset", "stream") a key must hold to wake the client.
    pub value_type: &'static str,
    /// Whether deleting a key also wakes the client (XREADGROUP then fails, as in Redis).
    pub wake_on_delete: bool,
    /// When to give up; `None` waits forever (a timeout of 0).
    pub deadline: Option<Instant>,
    /// The reply sent when the deadline passes (a null of the command's shape).
    pub timeout_reply: Reply,
    /// The command to run again when woken. A handler sets it only when that is not the
    /// command the client sent (XREAD's `$` becomes the stream's last id at the time it
    /// blocked); the dispatcher fills in the sent command otherwise.
    pub retry_argv: Option<Vec<Bytes>>,
}

impl ExecCtx<'_> {
    /// Blocks the calling client on `request`; returns the reply to give now: the timeout
    /// reply where blocking is denied (MULTI, scripts), else a placeholder the connection
    /// never sends.
    pub fn block(&mut self, request: BlockRequest) -> Reply {
        if self.client.deny_blocking {
            return request.timeout_reply;
        }
        self.client.blocked = Some(request);
        Reply::Nil
    }
}

/// One blocked client.
struct Waiter {
    handle: Arc<ClientHandle>,
    db: usize,
    protocol: Protocol,
    user: String,
    /// What runs when the client is woken.
    argv: Vec<Bytes>,
    request: BlockRequest,
    reply: oneshot::Sender<Reply>,
}

/// Blocked clients by client id, and the queue of clients per awaited key.
#[derive(Default)]
struct Waiters {
    by_client: HashMap<u64, Waiter>,
    by_key: HashMap<(usize, Bytes), VecDeque<u64>>,
}

impl Waiters {
    /// Removes client `id` from the registry and from every key queue it is in.
    fn remove(&mut self, id: u64) -> Option<Waiter> {
        let waiter = self.by_client.remove(&id)?;
        for key in &waiter.request.keys {
            let slot = (waiter.db, key.clone());
            if let Some(queue) = self.by_key.get_mut(&slot) {
                queue.retain(|&queued| queued != id);
                if queue.is_empty() {
                    self.by_key.remove(&slot);
                }
            }
        }
        Some(waiter)
    }
}

/// The registry of blocked clients.
#[derive(Default)]
pub struct Blocking {
    waiters: Mutex<Waiters>,
    /// How many clients wait on each `(db, key)`: what the observer checks.
    awaited: Mutex<HashMap<(usize, Bytes), usize>>,
    /// Awaited keys written since the last [`Blocking::serve_ready`].
    ready: Mutex<Vec<(usize, Bytes)>>,
    has_ready: AtomicBool,
    /// How many clients are blocked: while none is, writes need not be followed at all.
    waiting: AtomicUsize,
}

/// INFO's counts of blocked clients and keys.
pub struct BlockCounts {
    /// Keys at least one client waits on (`total_blocking_keys`).
    pub keys: usize,
    /// Of those, keys a client waits on that wakes on deletion (`total_blocking_keys_on_nokey`).
    pub keys_on_nokey: usize,
    /// Blocked clients with a timeout (`clients_in_timeout_table`).
    pub with_timeout: usize,
}

/// How a wait registered with [`Blocking::wait`] ends.
pub struct Wait {
    pub client_id: u64,
    /// The command's name as sent, for its statistics when it times out.
    pub command: Bytes,
    pub deadline: Option<Instant>,
    pub reply: oneshot::Receiver<Reply>,
}

impl Blocking {
    /// Blocks `client`, whose command `argv` made `request`. The reply arrives on the
    /// returned channel when a write serves it or [`Blocking::unblock`] ends the wait; at the
    /// deadline the connection calls [`Blocking::time_out`].
    pub fn wait(&self, client: &ClientState, request: BlockRequest) -> Wait {
        let (tx, rx) = oneshot::channel();
        let id = client.id();
        let deadline = request.deadline;
        let db = client.db;
        let mut waiters = self.waiters.lock();
        // A client blocks once at a time; a leftover entry would be a bug, not a second wait.
        waiters.remove(id);
        {
            let mut awaited = self.awaited.lock();
            for key in &request.keys {
                let queue = waiters.by_key.entry((db, key.clone())).or_default();
                // BLPOP k k waits once on k.
                if !queue.contains(&id) {
                    queue.push_back(id);
                    *awaited.entry((db, key.clone())).or_default() += 1;
                }
            }
        }
        let argv = request.retry_argv.clone().unwrap_or_default();
        let command = argv.first().cloned().unwrap_or_default();
        waiters.by_client.insert(
            id,
            Waiter {
                handle: client.handle.clone(),
                db,
                protocol: client.protocol,
                user: client.user.clone(),
                argv,
                request,
                reply: tx,
            },
        );
        client.handle.set_flag(ClientFlags::BLOCKED, true);
        self.waiting.fetch_add(1, Ordering::AcqRel);
        // A write may have come between the command finding nothing and this registration,
        // unseen by the registry: look again at the next `serve_ready`.
        self.ready.lock().extend(
            waiters.by_client[&id]
                .request
                .keys
                .iter()
                .map(|k| (db, k.clone())),
        );
        self.has_ready.store(true, Ordering::Release);
        Wait {
            client_id: id,
            command,
            deadline,
            reply: rx,
        }
    }

    /// Ends client `id`'s wait with its timeout reply; `None` when it is no longer waiting
    /// (served meanwhile: its reply is on the channel).
    pub fn time_out(&self, id: u64) -> Option<Reply> {
        let waiter = self.forget(id)?;
        Some(waiter.request.timeout_reply)
    }

    /// Forgets client `id` (it disconnected); no reply is sent.
    pub fn cancel(&self, id: u64) {
        self.forget(id);
    }

    /// CLIENT UNBLOCK: ends client `id`'s wait with its timeout reply, or with Redis's
    /// UNBLOCKED error when `error`. Returns the name of the command it was blocked in, or
    /// `None` when the client is not blocked on keys.
    pub fn unblock(&self, id: u64, error: bool) -> Option<Bytes> {
        let waiter = self.forget(id)?;
        let command = waiter.argv.first().cloned().unwrap_or_default();
        let reply = if error {
            Reply::from(CmdError::Coded(
                "UNBLOCKED client unblocked via CLIENT UNBLOCK".into(),
            ))
        } else {
            waiter.request.timeout_reply
        };
        let _ = waiter.reply.send(reply);
        Some(command)
    }

    fn forget(&self, id: u64) -> Option<Waiter> {
        let waiter = self.waiters.lock().remove(id)?;
        self.release(&waiter);
        Some(waiter)
    }

    /// Ends a departing waiter's wait: its key counts go and it no longer shows as blocked.
    fn release(&self, waiter: &Waiter) {
        waiter.handle.set_flag(ClientFlags::BLOCKED, false);
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        let mut awaited = self.awaited.lock();
        for key in &waiter.request.keys {
            let slot = (waiter.db, key.clone());
            if let Some(count) = awaited.get_mut(&slot) {
                *count -= 1;
                if *count == 0 {
                    awaited.remove(&slot);
                }
            }
        }
    }

    /// What INFO clients reports about blocked clients.
    pub fn counts(&self) -> BlockCounts {
        let waiters = self.waiters.lock();
        let by_client = &waiters.by_client;
        BlockCounts {
            keys: waiters.by_key.len(),
            keys_on_nokey: waiters
                .by_key
                .values()
                .filter(|queue| {
                    queue
                        .iter()
                        .any(|id| by_client.get(id).is_some_and(|w| w.request.wake_on_delete))
                })
                .count(),
            with_timeout: by_client
                .values()
                .filter(|w| w.request.deadline.is_some())
                .count(),
        }
    }

    /// Serves the clients blocked on keys written since the last call, in the order they
    /// blocked, until no ready key is left (serving one client can make another key ready,
    /// as BLMOVE's push does).
    pub fn serve_ready(&self, state: &ServerState) {
        while self.has_ready.swap(false, Ordering::AcqRel) {
            let ready = std::mem::take(&mut *self.ready.lock());
            let mut waiters = self.waiters.lock();
            for (db, key) in ready {
                self.serve_key(state, &mut waiters, db, &key);
            }
        }
    }

    fn serve_key(&self, state: &ServerState, waiters: &mut Waiters, db: usize, key: &Bytes) {
        let Some(queue) = waiters.by_key.get(&(db, key.clone())).cloned() else {
            return;
        };
        for id in queue {
            let Some(waiter) = waiters.by_client.get(&id) else {
                continue;
            };
            let held = {
                let mut guard = state.keyspace.lock(db, &[key]);
                guard.peek(key).map(|entry| entry.value.type_name())
            };
            let wakes = match held {
                Some(kind) => kind == waiter.request.value_type,
                None => waiter.request.wake_on_delete,
            };
            if !wakes {
                // Nothing for this client; the same holds for the ones behind it unless
                // they await another type (a key holds one type), so keep looking.
                continue;
            }
            let mut client = ClientState::new(waiter.handle.clone(), true);
            client.db = waiter.db;
            client.protocol = waiter.protocol;
            client.user = waiter.user.clone();
            let reply = crate::commands::execute(state, &mut client, waiter.argv.clone());
            if client.blocked.is_some() {
                // Someone else got there first: keep waiting in place.
                continue;
            }
            if let Some(waiter) = waiters.remove(id) {
                self.release(&waiter);
                let _ = waiter.reply.send(reply);
            }
        }
    }

    /// Notes `(db, key)` as ready when a client waits on it.
    fn mark_ready(&self, db: usize, key: &Bytes) {
        if !self.listening() || !self.awaited.lock().contains_key(&(db, key.clone())) {
            return;
        }
        self.ready.lock().push((db, key.clone()));
        self.has_ready.store(true, Ordering::Release);
    }

    /// Notes every awaited key of database `db` as ready (FLUSHDB, SWAPDB).
    fn mark_db_ready(&self, db: usize) {
        let keys: Vec<(usize, Bytes)> = self
            .awaited
            .lock()
            .keys()
            .filter(|(d, _)| *d == db)
            .cloned()
            .collect();
        if keys.is_empty() {
            return;
        }
        self.ready.lock().extend(keys);
        self.has_ready.store(true, Ordering::Release);
    }
}

impl KeyObserver for Blocking {
    fn listening(&self) -> bool {
        self.waiting.load(Ordering::Acquire) > 0
    }

    fn on_event(&self, event: &KeyEvent, _entry: Option<&Entry>) {
        match &event.kind {
            KeyEventKind::Written | KeyEventKind::Renamed { .. } | KeyEventKind::Deleted => {
                self.mark_ready(event.db, &event.key)
            }
            KeyEventKind::Expired | KeyEventKind::FieldsExpired => {}
            KeyEventKind::Flushed => self.mark_db_ready(event.db),
            KeyEventKind::Swapped { other } => {
                self.mark_db_ready(event.db);
                self.mark_db_ready(*other);
            }
        }
    }
}

/// A timeout in seconds as BLPOP, BLMOVE, BZPOPMIN ... take it: a non-negative float,
/// rounded up to whole milliseconds (as Redis 7.2+ does, so a tiny timeout never means
/// forever); 0 means forever (`None`). A value too large for a millisecond count is
/// "negative", as in Redis 7.0, whose conversion wraps it to the most negative integer.
pub fn timeout_secs(arg: &[u8]) -> Result<Option<Duration>, CmdError> {
    let secs =
        parse_f64(arg).map_err(|_| CmdError::err("timeout is not a float or out of range"))?;
    let ms = (secs * 1000.0).ceil();
    let ms = if ms >= i64::MAX as f64 {
        i64::MIN
    } else {
        ms as i64
    };
    checked_timeout(ms)
}

/// A timeout in milliseconds as XREAD / XREADGROUP BLOCK take it: a non-negative integer;
/// 0 means forever (`None`).
pub fn timeout_ms(arg: &[u8]) -> Result<Option<Duration>, CmdError> {
    let ms =
        parse_i64(arg).map_err(|_| CmdError::err("timeout is not an integer or out of range"))?;
    checked_timeout(ms)
}

fn checked_timeout(ms: i64) -> Result<Option<Duration>, CmdError> {
    if ms < 0 {
        return Err(CmdError::err("timeout is negative"));
    }
    let now_ms = i64::try_from(crate::keyspace::unix_ms()).unwrap_or(i64::MAX);
    if ms > i64::MAX - now_ms {
        return Err(CmdError::err("timeout is out of range"));
    }
    Ok((ms > 0).then(|| Duration::from_millis(ms as u64)))
}

/// The deadline of a timeout parsed by [`timeout_secs`] or [`timeout_ms`].
pub fn deadline(timeout: Option<Duration>) -> Option<Instant> {
    timeout.map(|t| Instant::now() + t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_parse_like_redis() {
        assert_eq!(timeout_secs(b"0").unwrap(), None);
        assert_eq!(
            timeout_secs(b"0.0001").unwrap(),
            Some(Duration::from_millis(1)),
            "rounded up"
        );
        assert_eq!(
            timeout_secs(b"1.5").unwrap(),
            Some(Duration::from_millis(1500))
        );
        let text = |r: Result<Option<Duration>, CmdError>| r.unwrap_err().to_string();
        assert_eq!(text(timeout_secs(b"-1")), "ERR timeout is negative");
        assert_eq!(
            text(timeout_secs(b"abc")),
            "ERR timeout is not a float or out of range"
        );
        assert_eq!(text(timeout_secs(b"inf")), "ERR timeout is negative");
        assert_eq!(
            text(timeout_secs(b"99999999999999999999")),
            "ERR timeout is negative"
        );
        assert_eq!(
            text(timeout_ms(b"1.5")),
            "ERR timeout is not an integer or out of range"
        );
        assert_eq!(text(timeout_ms(b"-5")), "ERR timeout is negative");
        assert_eq!(
            timeout_ms(b"250").unwrap(),
            Some(Duration::from_millis(250))
        );
    }
}
