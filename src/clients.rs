//! Client connections as the commands see them: the per-connection `ClientState`, the shared
//! `ClientHandle` other connections can inspect and kill, the registry behind
//! CLIENT LIST / KILL / INFO, `maxclients` and the idle `timeout`, the CLIENT PAUSE state
//! the connections wait on, and each connection's MULTI state with the registry of WATCHed
//! keys (a keyspace observer).
//!
//! Lives below `commands` so handlers can use it without knowing the networking layer; it
//! knows nothing about sockets beyond their addresses and descriptor numbers.

use std::collections::{BTreeMap, HashMap};
use std::fmt::{self, Write as _};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bitflags::bitflags;
use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::{Notify, mpsc};

use crate::keyspace::{Entry, KeyEvent, KeyEventKind, KeyObserver};
use crate::protocol::Protocol;

bitflags! {
    /// Connection states other connections can see (CLIENT LIST `flags=`, CLIENT KILL TYPE,
    /// the idle timeout). Set by the code that owns each state.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct ClientFlags: u32 {
        /// In MONITOR mode (`O`).
        const MONITOR = 1;
        /// Subscribed to pub/sub channels or patterns (`P`): CLIENT LIST TYPE pubsub.
        const PUBSUB = 1 << 1;
        /// Inside MULTI (`x`).
        const MULTI = 1 << 2;
        /// Waiting in a blocking command (`b`); such clients are not closed for idleness.
        const BLOCKED = 1 << 3;
        /// CLIENT NO-EVICT ON (`e`).
        const NO_EVICT = 1 << 4;
        /// CLIENT NO-TOUCH ON (`T`): its commands leave key access times alone.
        const NO_TOUCH = 1 << 5;
    }
}

impl ClientFlags {
    /// The `flags=` field of CLIENT LIST, letters in Redis's order; `N` when none is set.
    pub fn letters(self) -> String {
        const LETTERS: [(ClientFlags, char); 6] = [
            (ClientFlags::MONITOR, 'O'),
            (ClientFlags::PUBSUB, 'P'),
            (ClientFlags::MULTI, 'x'),
            (ClientFlags::BLOCKED, 'b'),
            (ClientFlags::NO_EVICT, 'e'),
            (ClientFlags::NO_TOUCH, 'T'),
        ];
        let letters: String = LETTERS
            .iter()
            .filter(|(flag, _)| self.contains(*flag))
            .map(|(_, letter)| *letter)
            .collect();
        if letters.is_empty() {
            "N".to_string()
        } else {
            letters
        }
    }
}

/// The client classes of `CLIENT LIST TYPE` and `CLIENT KILL TYPE`. Replication does not
/// exist yet, so no connection is ever a master or a replica; MONITOR connections count as
/// normal, as in Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientType {
    Normal,
    Master,
    Replica,
    PubSub,
}

impl ClientType {
    /// Parses a type name as Redis does (`slave` is an alias of `replica`).
    pub fn parse(name: &[u8]) -> Option<ClientType> {
        let lower = name.to_ascii_lowercase();
        match lower.as_slice() {
            b"normal" => Some(ClientType::Normal),
            b"master" => Some(ClientType::Master),
            b"replica" | b"slave" => Some(ClientType::Replica),
            b"pubsub" => Some(ClientType::PubSub),
            _ => None,
        }
    }
}

/// A command as CLIENT LIST names it in `cmd=`: `get`, `client|list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandName {
    pub name: &'static str,
    pub sub: Option<&'static str>,
}

impl fmt::Display for CommandName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.sub {
            Some(sub) => write!(f, "{}|{sub}", self.name),
            None => f.write_str(self.name),
        }
    }
}

/// What CLIENT LIST shows about a connection beyond its fixed identity. The connection task
/// publishes its buffers and last command once per batch; names and library attributes are
/// written when they change.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    /// CLIENT SETNAME / HELLO SETNAME; empty means no name.
    pub name: String,
    pub db: usize,
    /// The last command run, `None` before the first one or after an unknown command.
    pub last_cmd: Option<CommandName>,
    pub resp: u8,
    pub lib_name: String,
    pub lib_ver: String,
    pub user: String,
    /// Channel, pattern and shard-channel subscription counts (maintained by pub/sub).
    pub sub: usize,
    pub psub: usize,
    pub ssub: usize,
    /// Commands queued inside MULTI, -1 outside a transaction (maintained by MULTI).
    pub multi: i64,
    /// Memory the queued commands hold, counted as Redis 7.0 does: their argument bytes plus
    /// one pointer per argument.
    pub multi_mem: usize,
    /// Unprocessed bytes in the query buffer and the buffer's spare capacity.
    pub qbuf: usize,
    pub qbuf_free: usize,
    /// Reply buffer capacity and the largest reply batch written lately.
    pub rbs: usize,
    pub rbp: usize,
}

impl Default for ClientInfo {
    fn default() -> Self {
        ClientInfo {
            name: String::new(),
            db: 0,
            last_cmd: None,
            resp: 2,
            lib_name: String::new(),
            lib_ver: String::new(),
            user: "default".to_string(),
            sub: 0,
            psub: 0,
            ssub: 0,
            multi: -1,
            multi_mem: 0,
            qbuf: 0,
            qbuf_free: 0,
            rbs: 0,
            rbp: 0,
        }
    }
}

/// The shared handle of one connection: what other connections may read (CLIENT LIST) or do
/// to it (CLIENT KILL, idle timeout, shutdown).
pub struct ClientHandle {
    pub id: u64,
    pub addr: SocketAddr,
    pub laddr: SocketAddr,
    /// The socket's file descriptor number (CLIENT LIST `fd=`).
    pub fd: i64,
    created: Instant,
    /// Milliseconds after `created` of the last read from or write to the socket.
    last_interaction_ms: AtomicU64,
    pub info: Mutex<ClientInfo>,
    flags: AtomicU32,
    killed: AtomicBool,
    kill_signal: Notify,
}

impl ClientHandle {
    /// Time since the connection was accepted (CLIENT LIST `age=`).
    pub fn age(&self) -> Duration {
        self.created.elapsed()
    }

    /// Time since the last socket activity (CLIENT LIST `idle=`, the `timeout` option).
    pub fn idle(&self) -> Duration {
        let last = Duration::from_millis(self.last_interaction_ms.load(Ordering::Relaxed));
        self.age().saturating_sub(last)
    }

    /// Records socket activity now.
    pub fn touch(&self) {
        let ms = self.created.elapsed().as_millis() as u64;
        self.last_interaction_ms.store(ms, Ordering::Relaxed);
    }

    pub fn flags(&self) -> ClientFlags {
        ClientFlags::from_bits_truncate(self.flags.load(Ordering::Relaxed))
    }

    pub fn has_flag(&self, flag: ClientFlags) -> bool {
        self.flags().contains(flag)
    }

    pub fn set_flag(&self, flag: ClientFlags, on: bool) {
        if on {
            self.flags.fetch_or(flag.bits(), Ordering::Relaxed);
        } else {
            self.flags.fetch_and(!flag.bits(), Ordering::Relaxed);
        }
    }

    pub fn client_type(&self) -> ClientType {
        if self.has_flag(ClientFlags::PUBSUB) {
            ClientType::PubSub
        } else {
            ClientType::Normal
        }
    }

    /// Asks the connection task to close the socket. Use [`ClientRegistry::kill`], which
    /// also removes the client from the registry at once.
    fn signal_kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        self.kill_signal.notify_one();
    }

    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Relaxed)
    }

    /// Resolves once the connection has been killed.
    pub async fn killed(&self) {
        if !self.is_killed() {
            self.kill_signal.notified().await;
        }
    }

    /// One CLIENT LIST / CLIENT INFO line (without the trailing newline), in Redis's field
    /// order. `argv_mem` is the size of the arguments of the command being run, which Redis
    /// only reports for the connection asking.
    pub fn describe(&self, argv_mem: usize) -> String {
        let info = self.info.lock().clone();
        let cmd = info
            .last_cmd
            .map_or_else(|| "NULL".to_string(), |c| c.to_string());
        // Our own estimate of what the connection holds: its buffers and pending arguments.
        let tot_mem = info.qbuf + info.qbuf_free + info.rbs + argv_mem + info.multi_mem;
        let mut line = String::with_capacity(320);
        let _ = write!(
            line,
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} \
             ssub={} multi={} qbuf={} qbuf-free={} argv-mem={argv_mem} multi-mem={} rbs={} \
             rbp={} obl=0 oll=0 omem=0 tot-mem={tot_mem} events=r cmd={cmd} user={} redir=-1 \
             resp={} lib-name={} lib-ver={}",
            self.id,
            self.addr,
            self.laddr,
            self.fd,
            info.name,
            self.age().as_secs(),
            self.idle().as_secs(),
            self.flags().letters(),
            info.db,
            info.sub,
            info.psub,
            info.ssub,
            info.multi,
            info.qbuf,
            info.qbuf_free,
            info.multi_mem,
            info.rbs,
            info.rbp,
            info.user,
            info.resp,
            info.lib_name,
            info.lib_ver,
        );
        line
    }
}

/// How replies are sent, per CLIENT REPLY.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReplyMode {
    #[default]
    On,
    Off,
    /// Skip the reply of the next command only.
    SkipNext,
    /// Skipping the current command's reply (SkipNext was armed by the previous command).
    Skipping,
}

/// Connection state owned by the connection task and lent to every command it runs.
pub struct ClientState {
    pub handle: Arc<ClientHandle>,
    pub db: usize,
    pub protocol: Protocol,
    pub authenticated: bool,
    pub user: String,
    pub reply_mode: ReplyMode,
    /// Set by QUIT and a self-targeting CLIENT KILL: close after writing the pending replies.
    pub close_after_reply: bool,
    /// Set by a command whose reply must not be sent at all (SHUTDOWN, a repeated MONITOR);
    /// consumed by [`ClientState::reply_wanted`].
    pub suppress_reply: bool,
    /// The MONITOR feed while the connection is in monitor mode; dropping it leaves the mode.
    pub monitor: Option<mpsc::UnboundedReceiver<Bytes>>,
    /// The last command resolved by the dispatcher (CLIENT LIST `cmd=`).
    pub last_cmd: Option<CommandName>,
    /// Set by a blocking command that found nothing to serve; taken by the connection,
    /// which then waits (see `blocking`).
    pub blocked: Option<crate::blocking::BlockRequest>,
    /// Inside MULTI/EXEC and scripts blocking commands answer at once instead of blocking.
    pub deny_blocking: bool,
    /// MULTI state and WATCHed keys (see `commands::transaction`).
    pub tx: Transaction,
    /// Pub/sub subscriptions and the feed their messages arrive on.
    pub subscriptions: crate::pubsub::Subscriptions,
}

impl ClientState {
    pub fn new(handle: Arc<ClientHandle>, authenticated: bool) -> ClientState {
        ClientState {
            handle,
            db: 0,
            protocol: Protocol::Resp2,
            authenticated,
            user: "default".to_string(),
            reply_mode: ReplyMode::On,
            close_after_reply: false,
            suppress_reply: false,
            monitor: None,
            last_cmd: None,
            blocked: None,
            deny_blocking: false,
            tx: Transaction::default(),
            subscriptions: Default::default(),
        }
    }

    pub fn id(&self) -> u64 {
        self.handle.id
    }

    /// Decides whether the reply of the command that just ran is sent, and advances
    /// CLIENT REPLY SKIP (which silences the SKIP command itself and the one after it).
    pub fn reply_wanted(&mut self) -> bool {
        let by_mode = match self.reply_mode {
            ReplyMode::On => true,
            ReplyMode::Off => false,
            ReplyMode::SkipNext => {
                self.reply_mode = ReplyMode::Skipping;
                false
            }
            ReplyMode::Skipping => {
                self.reply_mode = ReplyMode::On;
                false
            }
        };
        !std::mem::take(&mut self.suppress_reply) && by_mode
    }

    /// Switches the reply protocol (HELLO, RESET) and shows it in CLIENT LIST.
    pub fn set_protocol(&mut self, protocol: Protocol) {
        self.protocol = protocol;
        self.handle.info.lock().resp = match protocol {
            Protocol::Resp2 => 2,
            Protocol::Resp3 => 3,
        };
    }

    /// Copies the state only this task sees (db, last command) into the shared handle, so
    /// CLIENT LIST is current. Called once per batch and before listing clients.
    pub fn publish(&self) {
        let mut info = self.handle.info.lock();
        info.db = self.db;
        info.last_cmd = self.last_cmd;
    }
}

/// One connection's MULTI / EXEC state: Redis's queued commands and its MULTI and
/// DIRTY_EXEC flags, plus the keys it WATCHes. `commands::transaction` drives it.
#[derive(Default)]
pub struct Transaction {
    /// The commands queued since MULTI; `None` outside a transaction.
    pub queued: Option<Vec<Vec<Bytes>>>,
    /// A command was refused while queueing: EXEC answers EXECABORT.
    pub refused: bool,
    /// EXEC is running the queued commands.
    pub executing: bool,
    /// The keys watched since the last EXEC, DISCARD, UNWATCH or RESET; dropping it
    /// (which disconnecting does too) unwatches them.
    pub watching: Option<WatchSet>,
}

impl Transaction {
    /// Whether the connection is inside MULTI (queueing commands).
    pub fn queueing(&self) -> bool {
        self.queued.is_some()
    }
}

/// One connection's watch on one key.
struct Watch {
    /// The watching connection's "a watched key changed" flag (Redis's DIRTY_CAS).
    dirty: Arc<AtomicBool>,
    /// The key had logically expired when WATCHed: its later reclamation is no change.
    expired: AtomicBool,
}

impl Watch {
    /// Redis's rule for a touched key: a key that was already expired when watched and is
    /// now gone (`exists` false) has not changed; anything else makes the watcher dirty.
    fn touch(&self, exists: bool) {
        if self.expired.load(Ordering::Relaxed) && !exists {
            self.expired.store(false, Ordering::Relaxed);
        } else {
            self.dirty.store(true, Ordering::Relaxed);
        }
    }
}

/// A key of a database: what WATCH watches.
type DbKey = (usize, Bytes);

/// Every WATCHed `(db, key)` with the connections watching it. It is a keyspace observer:
/// writes, deletions, expiry, renames, flushes and SWAPDB of a watched key mark its watchers
/// dirty, so that their next EXEC fails. Lock order: shards, then this registry.
#[derive(Default)]
pub struct WatchRegistry {
    keys: Mutex<HashMap<DbKey, Vec<Arc<Watch>>>>,
    /// How many keys are watched: events skip the lock while nothing is.
    watched: AtomicUsize,
}

impl WatchRegistry {
    /// INFO's `watching_clients` and `total_watched_keys` (distinct database keys). Redis
    /// 7.4 unwatches a connection as soon as one of its keys is touched; here its watches
    /// stay registered until EXEC, DISCARD or UNWATCH, so touched ones are left out.
    pub fn counts(&self) -> (usize, usize) {
        let keys = self.keys.lock();
        let mut clients = std::collections::HashSet::new();
        let mut live_keys = 0;
        for watches in keys.values() {
            let mut live = watches
                .iter()
                .filter(|w| !w.dirty.load(Ordering::Relaxed))
                .peekable();
            if live.peek().is_some() {
                live_keys += 1;
            }
            clients.extend(live.map(|w| Arc::as_ptr(&w.dirty)));
        }
        (clients.len(), live_keys)
    }
}

impl KeyObserver for WatchRegistry {
    fn listening(&self) -> bool {
        self.watched.load(Ordering::Relaxed) > 0
    }

    fn on_event(&self, event: &KeyEvent, entry: Option<&Entry>) {
        if self.watched.load(Ordering::Relaxed) == 0 {
            return;
        }
        match event.kind {
            KeyEventKind::Written
            | KeyEventKind::Deleted
            | KeyEventKind::Expired
            | KeyEventKind::Renamed { .. } => {
                let keys = self.keys.lock();
                for watch in keys
                    .get(&(event.db, event.key.clone()))
                    .into_iter()
                    .flatten()
                {
                    watch.touch(entry.is_some());
                }
            }
            // The `Written` (or `Deleted`) event that follows touches the key.
            KeyEventKind::FieldsExpired => {}
            // Handled before the change, while it could still be seen which keys existed.
            KeyEventKind::Flushed | KeyEventKind::Swapped { .. } => {}
        }
    }

    /// Redis's rules for FLUSHDB, FLUSHALL and SWAPDB: a watched key is touched when it
    /// exists in the database being emptied or in the one replacing it, except that a key
    /// expired before and after stays unchanged, and a missing key replaced by an expired one
    /// counts as expired when watched.
    fn before_db_replaced(
        &self,
        db: usize,
        replaced_with: Option<usize>,
        stored: &dyn Fn(usize, &[u8]) -> Option<bool>,
    ) {
        if self.watched.load(Ordering::Relaxed) == 0 {
            return;
        }
        let keys = self.keys.lock();
        for ((_, key), watches) in keys.iter().filter(|((d, _), _)| *d == db) {
            let before = stored(db, key);
            let after = replaced_with.and_then(|other| stored(other, key));
            if before.is_none() && after.is_none() {
                continue;
            }
            for watch in watches {
                if watch.expired.load(Ordering::Relaxed) {
                    match after {
                        None => {
                            watch.expired.store(false, Ordering::Relaxed);
                            continue;
                        }
                        Some(true) => continue,
                        Some(false) => {}
                    }
                } else if before.is_none() && after == Some(true) {
                    watch.expired.store(true, Ordering::Relaxed);
                    continue;
                }
                watch.dirty.store(true, Ordering::Relaxed);
            }
        }
    }
}

/// The keys one connection watches. Dropping it unwatches them.
pub struct WatchSet {
    registry: Arc<WatchRegistry>,
    dirty: Arc<AtomicBool>,
    keys: Vec<(DbKey, Arc<Watch>)>,
}

impl WatchSet {
    pub fn new(registry: Arc<WatchRegistry>) -> WatchSet {
        WatchSet {
            registry,
            dirty: Arc::new(AtomicBool::new(false)),
            keys: Vec::new(),
        }
    }

    /// Whether a watched key was touched since it was watched.
    pub fn is_dirty(&self) -> bool {
        self.dirty.load(Ordering::Relaxed)
    }

    pub fn contains(&self, db: usize, key: &[u8]) -> bool {
        self.keys.iter().any(|((d, k), _)| *d == db && k == key)
    }

    /// Watches `key` of `db`; `expired`: it is stored but has logically expired. The caller
    /// holds the key's shard lock, so no write can slip between its look and this.
    pub fn add(&mut self, db: usize, key: Bytes, expired: bool) {
        let watch = Arc::new(Watch {
            dirty: self.dirty.clone(),
            expired: AtomicBool::new(expired),
        });
        let slot = (db, key);
        self.registry
            .keys
            .lock()
            .entry(slot.clone())
            .or_default()
            .push(watch.clone());
        self.registry.watched.fetch_add(1, Ordering::Relaxed);
        self.keys.push((slot, watch));
    }

    /// The watched keys that had not expired when watched: EXEC fails if one has expired
    /// since, as in Redis 7.
    pub fn live_when_watched(&self) -> Vec<DbKey> {
        self.keys
            .iter()
            .filter(|(_, w)| !w.expired.load(Ordering::Relaxed))
            .map(|(slot, _)| slot.clone())
            .collect()
    }
}

impl Drop for WatchSet {
    fn drop(&mut self) {
        if self.keys.is_empty() {
            return;
        }
        let mut keys = self.registry.keys.lock();
        for (slot, watch) in self.keys.drain(..) {
            if let Some(watches) = keys.get_mut(&slot) {
                watches.retain(|w| !Arc::ptr_eq(w, &watch));
                if watches.is_empty() {
                    keys.remove(&slot);
                }
            }
            self.registry.watched.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// All live connections, by id.
#[derive(Default)]
pub struct ClientRegistry {
    next_id: AtomicU64,
    clients: Mutex<BTreeMap<u64, Arc<ClientHandle>>>,
    /// CLIENT PAUSE / UNPAUSE.
    pub pause: PauseState,
}

/// Which commands CLIENT PAUSE holds back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PauseMode {
    /// Commands that write or may replicate (`CLIENT PAUSE ... WRITE`).
    Write,
    /// Every command (`CLIENT PAUSE ... ALL`, the default).
    All,
}

/// The pause CLIENT PAUSE sets: until when, and for which commands. Connections check it
/// before running each command and wait — in the connection task, holding no lock — until
/// it no longer holds that command back. Errors found before running (unknown command, arity,
/// authentication) are never held, as in Redis.
#[derive(Default)]
pub struct PauseState {
    /// Unix milliseconds when the pause ends; 0 when there is none. Read without the lock on
    /// every command, so an unpaused server pays one atomic load.
    until_ms: AtomicU64,
    /// Whether the pause holds every command, not only writes.
    all: AtomicBool,
    /// Serializes changes, which merge two fields.
    change: Mutex<()>,
    changed: Notify,
}

impl PauseState {
    /// Pauses until `until_ms` (Unix milliseconds). A pause already in force keeps the later
    /// end and the more restrictive mode, as Redis does. Returns the end now in force.
    pub fn pause(&self, mode: PauseMode, until_ms: u64, now_ms: u64) -> u64 {
        let _change = self.change.lock();
        let current = self.current(now_ms);
        let mode = current.map_or(mode, |(old, _)| old.max(mode));
        let until = current.map_or(until_ms, |(_, old)| old.max(until_ms));
        self.all.store(mode == PauseMode::All, Ordering::SeqCst);
        self.until_ms.store(until, Ordering::SeqCst);
        self.changed.notify_waiters();
        until
    }

    /// Ends the pause (CLIENT UNPAUSE); held commands run.
    pub fn unpause(&self) {
        let _change = self.change.lock();
        self.until_ms.store(0, Ordering::SeqCst);
        self.changed.notify_waiters();
    }

    /// The pause in force at `now_ms`: its mode and end.
    pub fn current(&self, now_ms: u64) -> Option<(PauseMode, u64)> {
        let until = self.until_ms.load(Ordering::SeqCst);
        if until <= now_ms {
            return None;
        }
        let mode = if self.all.load(Ordering::SeqCst) {
            PauseMode::All
        } else {
            PauseMode::Write
        };
        Some((mode, until))
    }

    /// Whether a pause is in force: the cheap check before looking closer. A pause found
    /// ended is cleared, so that later checks stop at the first load.
    pub fn armed(&self) -> bool {
        let until = self.until_ms.load(Ordering::Relaxed);
        if until == 0 {
            return false;
        }
        if until > crate::keyspace::unix_ms() {
            return true;
        }
        // Fails harmlessly when a new pause was set meanwhile.
        let _ = self
            .until_ms
            .compare_exchange(until, 0, Ordering::SeqCst, Ordering::Relaxed);
        false
    }

    /// Whether a command (`writes`: it writes or may replicate) must wait at `now_ms`.
    pub fn holds(&self, writes: bool, now_ms: u64) -> bool {
        self.current(now_ms)
            .is_some_and(|(mode, _)| writes || mode == PauseMode::All)
    }

    /// Resolves once a command (`writes` as in [`PauseState::holds`]) may run: the pause
    /// ended, was lifted, or changed to one that lets it through.
    pub async fn released(&self, writes: bool) {
        loop {
            // Registered before looking, so a change in between still wakes us.
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let now = crate::keyspace::unix_ms();
            let Some((_, until)) = self.current(now).filter(|_| self.holds(writes, now)) else {
                return;
            };
            let left = std::time::Duration::from_millis(until - now);
            tokio::select! {
                _ = tokio::time::sleep(left) => {}
                _ = &mut changed => {}
            }
        }
    }
}

impl ClientRegistry {
    /// Registers a new connection and returns its handle, or `None` when `max_clients`
    /// connections are already registered (`maxclients`).
    pub fn register(
        &self,
        addr: SocketAddr,
        laddr: SocketAddr,
        fd: i64,
        max_clients: usize,
    ) -> Option<Arc<ClientHandle>> {
        let mut clients = self.clients.lock();
        if clients.len() >= max_clients {
            return None;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let handle = Arc::new(ClientHandle {
            id,
            addr,
            laddr,
            fd,
            created: Instant::now(),
            last_interaction_ms: AtomicU64::new(0),
            info: Mutex::new(ClientInfo::default()),
            flags: AtomicU32::new(0),
            killed: AtomicBool::new(false),
            kill_signal: Notify::new(),
        });
        clients.insert(id, handle.clone());
        Some(handle)
    }

    pub fn unregister(&self, id: u64) {
        self.clients.lock().remove(&id);
    }

    /// Closes a connection: it leaves the registry at once (CLIENT LIST no longer shows it,
    /// its slot under `maxclients` is free) and its task closes the socket.
    pub fn kill(&self, client: &ClientHandle) {
        self.unregister(client.id);
        client.signal_kill();
    }

    pub fn get(&self, id: u64) -> Option<Arc<ClientHandle>> {
        self.clients.lock().get(&id).cloned()
    }

    /// Every live connection, by ascending id.
    pub fn all(&self) -> Vec<Arc<ClientHandle>> {
        self.clients.lock().values().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.clients.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn registry_enforces_max_clients_and_kill_frees_a_slot() {
        let registry = ClientRegistry::default();
        let a = registry.register(addr(1), addr(6379), 7, 2).unwrap();
        let b = registry.register(addr(2), addr(6379), 8, 2).unwrap();
        assert!(registry.register(addr(3), addr(6379), 9, 2).is_none());
        assert_eq!((a.id, b.id), (1, 2));
        registry.kill(&a);
        assert!(a.is_killed());
        assert_eq!(registry.len(), 1);
        let c = registry.register(addr(3), addr(6379), 9, 2).unwrap();
        assert_eq!(c.id, 3, "ids are never reused");
    }

    #[test]
    fn list_line_has_redis_fields_in_order() {
        let registry = ClientRegistry::default();
        let h = registry.register(addr(5000), addr(6379), 11, 10).unwrap();
        h.set_flag(ClientFlags::NO_EVICT, true);
        h.set_flag(ClientFlags::MONITOR, true);
        {
            let mut info = h.info.lock();
            info.name = "worker".into();
            info.last_cmd = Some(CommandName {
                name: "client",
                sub: Some("list"),
            });
            info.lib_name = "redis-py".into();
        }
        let line = h.describe(10);
        let keys: Vec<&str> = line
            .split(' ')
            .map(|kv| kv.split('=').next().unwrap())
            .collect();
        assert_eq!(
            keys.join(" "),
            "id addr laddr fd name age idle flags db sub psub ssub multi qbuf qbuf-free \
             argv-mem multi-mem rbs rbp obl oll omem tot-mem events cmd user redir resp \
             lib-name lib-ver"
        );
        assert!(
            line.starts_with("id=1 addr=127.0.0.1:5000 laddr=127.0.0.1:6379 fd=11 name=worker ")
        );
        assert!(line.contains(" flags=Oe "), "{line}");
        assert!(line.contains(" multi=-1 "));
        assert!(
            line.contains(
                " cmd=client|list user=default redir=-1 resp=2 lib-name=redis-py lib-ver="
            )
        );
    }

    #[test]
    fn reply_skip_silences_two_replies() {
        let registry = ClientRegistry::default();
        let h = registry.register(addr(1), addr(2), 3, 10).unwrap();
        let mut c = ClientState::new(h, true);
        // CLIENT REPLY SKIP sets SkipNext while it runs: its own reply and the next are dropped.
        c.reply_mode = ReplyMode::SkipNext;
        assert!(!c.reply_wanted());
        assert!(!c.reply_wanted());
        assert!(c.reply_wanted());
        c.suppress_reply = true;
        assert!(!c.reply_wanted());
        assert!(c.reply_wanted());
    }

    #[test]
    fn pauses_merge_and_end() {
        let pause = PauseState::default();
        let now = crate::keyspace::unix_ms();
        assert!(!pause.armed());
        assert_eq!(pause.pause(PauseMode::All, now + 200, now), now + 200);
        // A later, shorter WRITE pause keeps the longer end and the stricter mode.
        assert_eq!(pause.pause(PauseMode::Write, now + 10, now), now + 200);
        assert!(pause.holds(false, now + 100), "ALL holds reads");
        assert!(!pause.holds(true, now + 200), "ended");
        pause.unpause();
        assert!(!pause.armed());
        pause.pause(PauseMode::Write, now + 100_000, now);
        assert!(pause.holds(true, now) && !pause.holds(false, now));
        pause.pause(PauseMode::Write, 1, 0);
        assert!(pause.armed());
        pause.unpause();
        pause.pause(PauseMode::All, now.saturating_sub(1), now);
        assert!(!pause.armed(), "a pause that already ended");
        assert_eq!(pause.until_ms.load(Ordering::Relaxed), 0, "and is cleared");
    }

    fn event(db: usize, key: &str, kind: KeyEventKind) -> KeyEvent {
        KeyEvent {
            db,
            key: Bytes::copy_from_slice(key.as_bytes()),
            kind,
        }
    }

    #[test]
    fn watched_keys_are_touched_by_changes_of_their_own_db_key() {
        let registry = Arc::new(WatchRegistry::default());
        let mut set = WatchSet::new(registry.clone());
        set.add(0, Bytes::from_static(b"k"), false);
        let value = Entry::persistent(crate::keyspace::Value::new_hash());
        registry.on_event(&event(1, "k", KeyEventKind::Written), Some(&value));
        registry.on_event(&event(0, "j", KeyEventKind::Deleted), None);
        assert!(!set.is_dirty(), "another db, another key");
        registry.on_event(&event(0, "k", KeyEventKind::Expired), None);
        assert!(set.is_dirty());
        let mut again = WatchSet::new(registry.clone());
        again.add(0, Bytes::from_static(b"k"), false);
        again.add(0, Bytes::from_static(b"j"), false);
        // A touched client counts no more, as Redis 7.4 unwatches it at once.
        assert_eq!(registry.counts(), (1, 2));
        registry.on_event(&event(0, "j", KeyEventKind::Deleted), None);
        assert_eq!(registry.counts(), (0, 0));
        drop((set, again));
        assert_eq!(registry.counts(), (0, 0));
        assert_eq!(registry.watched.load(Ordering::Relaxed), 0);
        assert!(registry.keys.lock().is_empty(), "dropping unwatches");
    }

    #[test]
    fn a_key_expired_when_watched_changes_only_when_written() {
        let registry = Arc::new(WatchRegistry::default());
        let mut set = WatchSet::new(registry.clone());
        set.add(0, Bytes::from_static(b"k"), true);
        assert!(set.live_when_watched().is_empty());
        // Its reclamation is no change; a value written after it is.
        registry.on_event(&event(0, "k", KeyEventKind::Expired), None);
        assert!(!set.is_dirty());
        assert_eq!(set.live_when_watched().len(), 1);
        let value = Entry::persistent(crate::keyspace::Value::new_hash());
        registry.on_event(&event(0, "k", KeyEventKind::Written), Some(&value));
        assert!(set.is_dirty());
    }

    #[test]
    fn flush_and_swap_touch_keys_that_existed_on_either_side() {
        let registry = Arc::new(WatchRegistry::default());
        // Stored keys: db 0 has `a` (live) and `x` (expired); db 1 has `b` and `y` (expired).
        let stored = |db: usize, key: &[u8]| match (db, key) {
            (0, b"a") | (1, b"b") => Some(false),
            (0, b"x") | (1, b"y") => Some(true),
            _ => None,
        };
        let watch = |key: &'static [u8], expired: bool| {
            let mut set = WatchSet::new(registry.clone());
            set.add(0, Bytes::from_static(key), expired);
            set
        };
        let (a, b, y, missing) = (
            watch(b"a", false),
            watch(b"b", false),
            watch(b"y", false),
            watch(b"m", false),
        );
        let x = watch(b"x", true);
        registry.before_db_replaced(1, None, &stored);
        assert!(!a.is_dirty() && !b.is_dirty(), "db 1 flushed, db 0 watched");
        registry.before_db_replaced(0, Some(1), &stored);
        assert!(a.is_dirty(), "existed before");
        assert!(b.is_dirty(), "exists after");
        assert!(!missing.is_dirty(), "in neither");
        // A missing key replaced by an expired one counts as expired when watched.
        assert!(!y.is_dirty());
        assert_eq!(y.live_when_watched().len(), 0);
        // An expired key swapped away (replaced by nothing) is no change either.
        assert!(!x.is_dirty());
        assert_eq!(x.live_when_watched().len(), 1);
    }

    #[test]
    fn type_names() {
        assert_eq!(ClientType::parse(b"SLAVE"), Some(ClientType::Replica));
        assert_eq!(ClientType::parse(b"pubsub"), Some(ClientType::PubSub));
        assert_eq!(ClientType::parse(b"primary"), None);
        assert_eq!(ClientFlags::empty().letters(), "N");
    }
}
