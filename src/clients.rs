//! Client connections as the commands see them: the per-connection `ClientState` and the
//! registry behind CLIENT LIST / KILL / INFO. Lives below `commands` so handlers can use it
//! without knowing the networking layer.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::protocol::Protocol;

/// What CLIENT LIST shows about a connection, updated by its task once per batch.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub name: String,
    pub db: usize,
    pub last_cmd: String,
    pub resp: u8,
    pub lib_name: String,
    pub lib_ver: String,
    pub user: String,
    pub flags: String,
    pub query_buf: usize,
}

/// The shared handle of one connection.
pub struct ClientHandle {
    pub id: u64,
    pub addr: SocketAddr,
    pub laddr: SocketAddr,
    pub created: Instant,
    pub last_active: Mutex<Instant>,
    pub info: Mutex<ClientInfo>,
    /// Set by CLIENT KILL; the connection task closes when it sees it.
    pub killed: AtomicBool,
    pub kill_signal: Notify,
}

impl ClientHandle {
    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        self.kill_signal.notify_one();
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
    /// Set by QUIT (and protocol errors): close after writing the pending replies.
    pub close_after_reply: bool,
    /// Set by MONITOR: the connection switches to streaming the command feed.
    pub monitoring: bool,
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
            monitoring: false,
        }
    }

    pub fn id(&self) -> u64 {
        self.handle.id
    }
}

/// All live connections, by id.
#[derive(Default)]
pub struct ClientRegistry {
    next_id: AtomicU64,
    clients: Mutex<BTreeMap<u64, Arc<ClientHandle>>>,
}

impl ClientRegistry {
    /// Registers a new connection and returns its handle.
    pub fn register(&self, addr: SocketAddr, laddr: SocketAddr) -> Arc<ClientHandle> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let now = Instant::now();
        let handle = Arc::new(ClientHandle {
            id,
            addr,
            laddr,
            created: now,
            last_active: Mutex::new(now),
            info: Mutex::new(ClientInfo {
                resp: 2,
                user: "default".into(),
                ..ClientInfo::default()
            }),
            killed: AtomicBool::new(false),
            kill_signal: Notify::new(),
        });
        self.clients.lock().insert(id, handle.clone());
        handle
    }

    pub fn unregister(&self, id: u64) {
        self.clients.lock().remove(&id);
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
