//! Server group: INFO, CONFIG, COMMAND, CLIENT, DBSIZE, FLUSHDB, SLOWLOG, ... plus the auth and
//! slow-log helpers the dispatcher uses.

use bytes::Bytes;

use super::ExecCtx;
use super::table::CommandSpec;
use crate::clients::ClientState;
use crate::error::CmdError;
use crate::state::ServerState;
use crate::stats::SlowLogEntry;

pub static COMMANDS: &[CommandSpec] = &[];

/// Checks a password against `requirepass` (the `default` user only, until ACLs exist).
pub fn authenticate(ctx: &mut ExecCtx, user: &[u8], pass: &[u8]) -> Result<(), CmdError> {
    let required = ctx.state.config.get("requirepass");
    let ok = user == b"default" && !required.is_empty() && required.as_bytes() == pass;
    if ok {
        ctx.client.authenticated = true;
        Ok(())
    } else {
        Err(CmdError::WrongPass)
    }
}

/// CLIENT SETNAME / HELLO SETNAME: names may not contain spaces, newlines or special
/// characters.
pub fn set_client_name(ctx: &mut ExecCtx, name: &[u8]) -> Result<(), CmdError> {
    if name.iter().any(|&b| !(b'!'..=b'~').contains(&b)) {
        return Err(CmdError::err(
            "Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    ctx.client.handle.info.lock().name = String::from_utf8_lossy(name).into_owned();
    Ok(())
}

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
