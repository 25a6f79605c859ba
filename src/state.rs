//! `ServerState`: everything shared by all connections and lent to command handlers — the
//! keyspace, configuration, client registry, statistics and the shutdown signal. Lives below
//! `commands` and `server`; it knows nothing about sockets.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Weak};
use std::time::Instant;

use bytes::Bytes;
use crossbeam_utils::sync::ShardedLock;
use parking_lot::Mutex;
use tokio::sync::{Notify, mpsc};

use crate::blocking::Blocking;
use crate::clients::{ClientRegistry, WatchRegistry};
use crate::config::Config;
use crate::keyspace::{KeyObserver, Keyspace};
use crate::pubsub::{KeyspaceNotifier, PubSub};
use crate::stats::Stats;

/// Shared server state.
pub struct ServerState {
    pub config: Config,
    pub keyspace: Keyspace,
    pub clients: ClientRegistry,
    pub stats: Stats,
    /// Pub/sub channels, patterns and keyspace-notification settings.
    pub pubsub: Arc<PubSub>,
    pub started: Instant,
    /// Connections in MONITOR mode receive every executed command's feed line.
    pub monitors: Mutex<Vec<mpsc::UnboundedSender<Bytes>>>,
    pub has_monitors: AtomicBool,
    /// Set and notified by SHUTDOWN or a signal.
    pub shutting_down: AtomicBool,
    pub shutdown: Notify,
    /// Makes EXEC and scripts atomic: every command runs holding it for reading, an
    /// `exclusive` command (EXEC, EVAL, FCALL) for writing. Readers are per-thread, so the
    /// common case touches no shared cache line.
    pub exec_gate: ShardedLock<()>,
    /// The Lua engine, script cache and running script (EVAL, SCRIPT, FCALL).
    pub scripting: crate::scripting::Scripting,
    /// Clients blocked on keys (BLPOP, XREAD BLOCK ...); also a keyspace observer.
    pub blocking: Arc<Blocking>,
    /// WATCHed keys; also a keyspace observer.
    pub watches: Arc<WatchRegistry>,
    /// FT indexes; also a keyspace observer.
    pub search: Arc<crate::search::Registry>,
    /// RDB snapshots: last save, background save, outcome.
    pub snapshots: Arc<crate::persistence::snapshot::Snapshots>,
    /// The append-only file; its observer sees every change.
    pub aof: Arc<crate::persistence::aof::Aof>,
    /// This state itself, for work that outlives a command (FT.CREATE's background scan).
    me: Weak<ServerState>,
}

impl ServerState {
    pub fn new(config: Config) -> Arc<ServerState> {
        ServerState::with_observers(config, Vec::new())
    }

    /// A state whose keyspace also reports its changes to `extra` observers (tests that
    /// record the events a command emits).
    pub fn with_observers(config: Config, extra: Vec<Arc<dyn KeyObserver>>) -> Arc<ServerState> {
        let databases = config.get_int("databases") as usize;
        let shards = config.get_int("shards") as usize;
        let blocking = Arc::new(Blocking::default());
        let watches = Arc::new(WatchRegistry::default());
        let pubsub = Arc::new(PubSub::default());
        let search = Arc::new(crate::search::Registry::default());
        let aof = Arc::new(crate::persistence::aof::Aof::default());
        // Keys reclaimed by expiry, added or missed are announced (`expired`, `new`, `keymiss`).
        let mut observers: Vec<Arc<dyn KeyObserver>> = vec![
            blocking.clone(),
            watches.clone(),
            Arc::new(KeyspaceNotifier(pubsub.clone())),
            search.clone(),
            Arc::new(crate::persistence::aof::AofObserver(aof.clone())),
        ];
        observers.extend(extra);
        let state = Arc::new_cyclic(|me| ServerState {
            keyspace: Keyspace::new(databases, shards, observers),
            pubsub,
            config,
            clients: ClientRegistry::default(),
            stats: Stats::default(),
            started: Instant::now(),
            monitors: Mutex::new(Vec::new()),
            has_monitors: AtomicBool::new(false),
            shutting_down: AtomicBool::new(false),
            shutdown: Notify::new(),
            exec_gate: ShardedLock::new(()),
            scripting: Default::default(),
            blocking,
            watches,
            search,
            snapshots: Default::default(),
            aof,
            me: me.clone(),
        });
        state.apply_config();
        // Redis creates its shared integers once the configuration is loaded.
        state.keyspace.reset_shared_records();
        state
    }

    /// Passes the configuration the keyspace acts on to it: at start-up and after every
    /// CONFIG SET.
    pub fn apply_config(&self) {
        let config = &self.config;
        let u32_of = |name| u32::try_from(config.get_int(name)).unwrap_or(u32::MAX);
        self.keyspace.track_accesses(
            config.get("maxmemory-policy").ends_with("-lfu"),
            u32_of("lfu-log-factor"),
            u32_of("lfu-decay-time"),
        );
        let notices = self
            .pubsub
            .set_events(&config.get("notify-keyspace-events"));
        self.keyspace.report_notices(&notices);
        crate::keyspace::rdb::set_compression(config.get_bool("rdbcompression"));
        let fsync = crate::persistence::aof::Fsync::parse(&config.get("appendfsync"));
        self.aof
            .configure(fsync, config.get_bool("lazyfree-lazy-expire"));
    }

    /// A counted handle on this state, for background work.
    pub fn handle(&self) -> Arc<ServerState> {
        // The state is only ever reached through its Arc, which outlives every caller.
        self.me
            .upgrade()
            .expect("server state is alive while in use")
    }

    /// Asks every task to stop (SHUTDOWN, SIGTERM).
    pub fn request_shutdown(&self) {
        // A running script would keep its thread, and so the process, alive.
        self.scripting.abort();
        self.shutting_down
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.shutdown.notify_waiters();
    }
}
