//! Server-wide counters INFO reports (stats, errorstats) and the slow log.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use parking_lot::Mutex;

/// Counters updated by the connection layer and the dispatcher.
#[derive(Default)]
pub struct Stats {
    pub total_connections_received: AtomicU64,
    pub total_commands_processed: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
    pub total_error_replies: AtomicU64,
    /// Error replies by error code (`ERR`, `WRONGTYPE`, ...).
    pub errors: Mutex<BTreeMap<String, u64>>,
    pub slowlog: Mutex<SlowLog>,
}

impl Stats {
    pub fn count_error(&self, code: &str) {
        self.total_error_replies.fetch_add(1, Ordering::Relaxed);
        *self.errors.lock().entry(code.to_string()).or_default() += 1;
    }

    /// CONFIG RESETSTAT.
    pub fn reset(&self) {
        for c in [
            &self.total_connections_received,
            &self.total_commands_processed,
            &self.rejected_connections,
            &self.net_input_bytes,
            &self.net_output_bytes,
            &self.total_error_replies,
        ] {
            c.store(0, Ordering::Relaxed);
        }
        self.errors.lock().clear();
    }
}

/// One slow-log entry.
#[derive(Debug, Clone)]
pub struct SlowLogEntry {
    pub id: u64,
    pub timestamp: u64,
    pub micros: u64,
    pub argv: Vec<Bytes>,
    pub peer: String,
    pub client_name: String,
}

/// The slow log: newest entries first, bounded by `slowlog-max-len`.
#[derive(Default)]
pub struct SlowLog {
    pub next_id: u64,
    pub entries: VecDeque<SlowLogEntry>,
}

impl SlowLog {
    pub fn push(&mut self, mut entry: SlowLogEntry, max_len: usize) {
        entry.id = self.next_id;
        self.next_id += 1;
        self.entries.push_front(entry);
        self.entries.truncate(max_len);
    }
}
