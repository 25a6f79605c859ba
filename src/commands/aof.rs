//! The AOF's work that needs the whole server: loading it at start-up by replaying its
//! commands, rewriting it from the keyspace (BGREWRITEAOF, `auto-aof-rewrite-*`,
//! `CONFIG SET appendonly yes`), and the once-a-second background tick (`everysec` fsync,
//! automatic rewrites). The files themselves are `persistence::aof`.
//!
//! A rewrite holds the exec gate for writing while it switches to a new incremental file and
//! copies the keyspace, then writes the base from that copy on a thread of its own while
//! clients are served. The base is in command form: `FUNCTION LOAD`, `FT.CREATE` and the
//! search dictionaries and synonyms first (so the keys that follow are indexed as they load),
//! then `SELECT` and `RESTORE key ttl payload ABSTTL` per key (DUMP's payload, which Redis 7
//! loads too), and `HPEXPIREAT` for hash fields with a TTL.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;

use super::{Args, CommandSpec, ExecCtx, Flags};
use crate::clients::ClientState;
use crate::error::CmdError;
use crate::keyspace::{Value, rdb};
use crate::persistence::aof::{self, Location, Parsed, Record, Rewrite};
use crate::persistence::rdb_file::{DbImage, KeyImage};
use crate::persistence::snapshot::{self, AccessMode};
use crate::protocol::Reply;
use crate::state::ServerState;

/// BGREWRITEAOF's row (group `server`, as in Redis).
pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    summary: "Asynchronously rewrites the append-only file to disk.",
    since: "1.0.0",
    complexity: "O(1)",
    ..CommandSpec::new(
        "bgrewriteaof",
        1,
        Flags::ADMIN
            .union(Flags::NOSCRIPT)
            .union(Flags::NO_ASYNC_LOADING),
        "server",
        bgrewriteaof,
    )
}];

/// Where the configuration puts the AOF.
pub fn location(state: &ServerState) -> Location {
    let config = &state.config;
    Location::new(
        &config.get("dir"),
        &config.get("appenddirname"),
        &config.get("appendfilename"),
    )
}

fn bgrewriteaof(ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    if ctx.state.aof.rewriting() {
        return Err(CmdError::err(
            "Background append only file rewriting already in progress",
        ));
    }
    spawn_rewrite(ctx.state.handle(), false);
    Ok(Reply::simple(
        "Background append only file rewriting started",
    ))
}

/// Starts a rewrite on a thread of its own; with `enable`, first opens the AOF
/// (`CONFIG SET appendonly yes`).
pub fn spawn_rewrite(state: Arc<ServerState>, enable: bool) {
    state.aof.schedule_rewrite();
    let spawned = std::thread::Builder::new()
        .name("aof-rewrite".into())
        .spawn(move || {
            if let Err(e) = rewrite(&state, enable) {
                tracing::warn!("Background append only file rewriting failed: {e}");
            }
        });
    if let Err(e) = spawned {
        tracing::warn!("Can't start the AOF rewrite: {e}");
    }
}

/// Rewrites the AOF: with every command held back for an instant, switch to a new
/// incremental file and fix the keyspace's image (a capture, as BGSAVE's); then, while
/// clients are served, copy it, write the base and install it.
fn rewrite(state: &ServerState, enable: bool) -> Result<(), String> {
    let location = location(state);
    // A capture in progress (a BGSAVE copying) would be waited for under the gate below,
    // holding every client back meanwhile: wait for it here.
    while state.keyspace.capture_in_progress() {
        std::thread::sleep(Duration::from_millis(2));
    }
    let (started, head, capture) = {
        // Nothing may run between the switch to the new incremental file and the capture.
        let _gate = state
            .exec_gate
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if enable && !state.aof.enabled() {
            state.aof.open(&location)?;
        }
        let started = state.aof.start_rewrite(&location)?;
        (started, definitions(state), state.keyspace.begin_capture())
    };
    let dbs = snapshot::captured_keys(&state.keyspace, &capture, AccessMode::None);
    let written = write_base(&started, &head, &dbs).map_err(|e| e.to_string());
    match written {
        Ok(()) => {
            state.aof.finish_rewrite(started)?;
            super::graphs::save(state);
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_file(started.temp_path());
            state.aof.rewrite_failed();
            Err(e)
        }
    }
}

/// What is not a key but must come back: functions, indexes (with their aliases and
/// synonyms) and spell-check dictionaries, as the commands that make them.
fn definitions(state: &ServerState) -> Vec<Record> {
    let word = |w: &str| Bytes::copy_from_slice(w.as_bytes());
    let mut out = Vec::new();
    let functions = state.scripting.function_dump();
    for code in rdb::restore_functions(&functions).unwrap_or_default() {
        out.push(Record::new(0, vec![word("FUNCTION"), word("LOAD"), code]));
    }
    let search = &state.search;
    for name in search.names() {
        let Some(index) = search.get(&name) else {
            continue;
        };
        let mut create = vec![word("FT.CREATE"), word(&name)];
        create.extend(index.def.create_args.iter().cloned());
        out.push(Record::new(0, create));
        for alias in search.aliases_of(&name) {
            out.push(Record::new(
                0,
                vec![word("FT.ALIASADD"), word(&alias), word(&name)],
            ));
        }
        for (group, terms) in index.synonym_groups() {
            let mut update = vec![word("FT.SYNUPDATE"), word(&name), word(&group)];
            update.push(word("SKIPINITIALSCAN"));
            update.extend(terms.iter().map(|t| word(t)));
            out.push(Record::new(0, update));
        }
    }
    for (dict, terms) in search.dicts.all() {
        let mut add = vec![word("FT.DICTADD"), word(&dict)];
        add.extend(terms.iter().map(|t| word(t)));
        out.push(Record::new(0, add));
    }
    out
}

/// Writes the base to the rewrite's temporary file and fsyncs it.
fn write_base(rewrite: &Rewrite, head: &[Record], dbs: &[DbImage]) -> std::io::Result<()> {
    let file = File::create(rewrite.temp_path())?;
    let mut out = BufWriter::new(file);
    let mut buf = Vec::new();
    let mut db = None;
    aof::encode_records(&mut buf, &mut db, head);
    for image in dbs {
        for key in &image.keys {
            aof::encode_records(&mut buf, &mut db, &key_records(image.db, key));
            if buf.len() > 1 << 16 {
                out.write_all(&buf)?;
                buf.clear();
            }
        }
    }
    out.write_all(&buf)?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()
}

/// The commands that recreate one key: `RESTORE`, then its hash fields' expiry times.
fn key_records(db: usize, copied: &KeyImage) -> Vec<Record> {
    let int = |n: u64| Bytes::from(n.to_string());
    let key = copied.key.clone();
    let mut restore = vec![Bytes::from_static(b"RESTORE"), key.clone()];
    restore.push(int(copied.expire_at.unwrap_or(0)));
    restore.push(Bytes::from(rdb::dump(&copied.value)));
    if copied.expire_at.is_some() {
        restore.push(Bytes::from_static(b"ABSTTL"));
    }
    let mut records = vec![Record::new(db, restore)];
    if let Value::Hash(hash) = &copied.value
        && hash.has_field_ttls()
    {
        for (field, _) in hash {
            if let Some(at) = hash.field_expire_at(field) {
                let argv = vec![
                    Bytes::from_static(b"HPEXPIREAT"),
                    key.clone(),
                    int(at),
                    Bytes::from_static(b"FIELDS"),
                    Bytes::from_static(b"1"),
                    field.clone(),
                ];
                records.push(Record::new(db, argv));
            }
        }
    }
    records
}

/// Start-up with `appendonly yes`: loads the AOF (creating it, with a base of whatever is
/// in memory, when there is none) and starts appending. An error means the server must not
/// start.
pub fn start(state: &Arc<ServerState>) -> Result<(), String> {
    let location = location(state);
    let loaded = load(state, &location)?;
    if !loaded {
        let started = state.aof.start_rewrite(&location)?;
        tracing::info!(
            "Creating AOF base file {} on server start",
            started.base_name
        );
        let capture = state.keyspace.begin_capture();
        let dbs = snapshot::captured_keys(&state.keyspace, &capture, AccessMode::None);
        write_base(&started, &definitions(state), &dbs)
            .map_err(|e| format!("Can't write the AOF base file: {e}"))?;
        state.aof.finish_rewrite(started)?;
    }
    state.aof.open(&location)
}

/// Replays the AOF described by `location`'s manifest; `false` when there is none.
pub fn load(state: &Arc<ServerState>, location: &Location) -> Result<bool, String> {
    let Some(manifest) = location.read_manifest()? else {
        return Ok(false);
    };
    let handle = state
        .clients
        .register(
            SocketAddr::from(([0, 0, 0, 0], 0)),
            SocketAddr::from(([0, 0, 0, 0], 0)),
            -1,
            usize::MAX,
        )
        .ok_or("Can't create the AOF loading client")?;
    let mut client = ClientState::new(handle.clone(), true);
    client.deny_blocking = true;
    let files = manifest.load_order();
    let started = std::time::Instant::now();
    let mut total = 0;
    let mut result = Ok(());
    for (i, file) in files.iter().enumerate() {
        let last = i + 1 == files.len();
        match load_file(state, &mut client, location, &file.name, last) {
            Ok(count) => total += count,
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    state.clients.unregister(handle.id);
    result?;
    tracing::info!(
        "DB loaded from append only file: {:.3} seconds, {total} commands",
        started.elapsed().as_secs_f64()
    );
    Ok(true)
}

/// Replays one file (a base in RDB format loads as a snapshot); a truncated end is cut off
/// when it is the last file and `aof-load-truncated` allows it. Returns the commands (or
/// keys) loaded.
fn load_file(
    state: &Arc<ServerState>,
    client: &mut ClientState,
    location: &Location,
    name: &str,
    last: bool,
) -> Result<usize, String> {
    let path = location.path(name);
    let data = match std::fs::read(&path) {
        Ok(data) => Bytes::from(data),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !last => {
            return Err(format!("Append-only file {name} doesn't exist"));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(format!("Can't read the append-only file {name}: {e}")),
    };
    // A base written with aof-use-rdb-preamble (Redis's default) is an RDB file.
    if data.starts_with(b"REDIS") {
        let (keys, _) = super::snapshot::load_rdb(state, &path)?;
        return Ok(keys as usize);
    }
    let mut pos = 0;
    let mut count = 0;
    loop {
        match aof::parse_command(&data, pos) {
            Parsed::Command(argv, next) => {
                // As Redis: a command this server does not know would silently lose data.
                if super::table().command(&argv[0]).is_none() {
                    return Err(format!(
                        "Unknown command '{}' reading the append only file {name}",
                        String::from_utf8_lossy(&argv[0])
                    ));
                }
                let reply = super::execute(state, client, argv);
                if let Reply::Error(e) = &reply {
                    tracing::debug!(
                        "AOF command at offset {pos} of {name} failed: {}",
                        String::from_utf8_lossy(e)
                    );
                }
                pos = next;
                count += 1;
            }
            Parsed::End => break,
            Parsed::Truncated if last && state.config.get_bool("aof-load-truncated") => {
                tracing::warn!(
                    "!!! Warning: short read while loading the AOF file {name}!!! \
                     AOF loaded anyway because aof-load-truncated is enabled; \
                     truncating it to its last valid command at offset {pos}"
                );
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(|e| format!("Can't open {name} to truncate it: {e}"))?;
                file.set_len(pos as u64)
                    .and_then(|()| file.sync_all())
                    .map_err(|e| format!("Can't truncate {name}: {e}"))?;
                break;
            }
            Parsed::Truncated => {
                return Err(format!(
                    "Unexpected end of file reading the append only file {name} at offset \
                     {pos}. You can: 1) Make a backup of your AOF file, then use \
                     ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can \
                     set the 'aof-load-truncated' configuration option to yes and restart \
                     the server."
                ));
            }
            Parsed::Corrupt(e) => {
                return Err(format!(
                    "{e} in {name}. Bad file format reading the append only file: make a \
                     backup of your AOF file, then use ./redis-check-aof --fix \
                     <filename.manifest>"
                ));
            }
        }
    }
    // A transaction the file leaves open was cut off by a crash: it never happened.
    if client.tx.queueing() {
        tracing::warn!("Revert incomplete MULTI/EXEC transaction in AOF file {name}");
        super::transaction::discard_transaction(client);
    }
    Ok(count)
}

/// `CONFIG SET appendonly`: opens the AOF with a rewrite, or closes it.
pub fn appendonly_changed(state: &ServerState) {
    let on = state.config.get_bool("appendonly");
    if on && !state.aof.enabled() {
        spawn_rewrite(state.handle(), true);
    } else if !on && state.aof.enabled() {
        state.aof.close();
    }
}

/// The once-a-second work: `everysec` fsync and automatic rewrites.
pub fn spawn_ticker(state: Arc<ServerState>) {
    let spawned = std::thread::Builder::new()
        .name("aof-tick".into())
        .spawn(move || {
            while !state.shutting_down.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_secs(1));
                state.aof.tick();
                let percentage = state.config.get_int("auto-aof-rewrite-percentage");
                let min_size = state.config.get_int("auto-aof-rewrite-min-size");
                if state.aof.wants_auto_rewrite(percentage, min_size) {
                    tracing::info!("Starting automatic rewriting of AOF");
                    spawn_rewrite(state.clone(), false);
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!("Can't start the AOF timer: {e}");
    }
}
