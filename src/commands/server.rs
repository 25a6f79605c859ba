//! Server group: INFO, CONFIG, COMMAND, DBSIZE, FLUSHDB, SLOWLOG, ... plus the slow-log helper
//! the dispatcher uses. (CLIENT, MONITOR and SHUTDOWN live in `connection`.)

use bytes::Bytes;

use super::table::CommandSpec;
use crate::clients::ClientState;
use crate::state::ServerState;
use crate::stats::SlowLogEntry;

pub static COMMANDS: &[CommandSpec] = &[];

/// Adds a command to the slow log when it ran longer than `slowlog-log-slower-than`.
pub fn record_slow(state: &ServerState, client: &ClientState, argv: &[Bytes], micros: u64) {
    let threshold = state.config.get_int("slowlog-log-slower-than");
    if threshold < 0 || (micros as i64) < threshold {
        return;
    }
    // Redis keeps at most 32 arguments and 128 bytes per argument.
    let mut kept: Vec<Bytes> = argv
        .iter()
        .take(32)
        .map(|a| {
            if a.len() > 128 {
                let mut s = a[..128].to_vec();
                s.extend_from_slice(format!("... ({} more bytes)", a.len() - 128).as_bytes());
                Bytes::from(s)
            } else {
                a.clone()
            }
        })
        .collect();
    if argv.len() > 32 {
        kept.truncate(31);
        kept.push(Bytes::from(format!(
            "... ({} more arguments)",
            argv.len() - 31
        )));
    }
    let entry = SlowLogEntry {
        id: 0,
        timestamp: crate::keyspace::unix_ms() / 1000,
        micros,
        argv: kept,
        peer: client.handle.addr.to_string(),
        client_name: client.handle.info.lock().name.clone(),
    };
    let max_len = state.config.get_int("slowlog-max-len").max(0) as usize;
    state.stats.slowlog.lock().push(entry, max_len);
}
