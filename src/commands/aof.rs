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
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;

use super::{Args, CommandSpec, ExecCtx, Flags, snapshot};
use crate::clients::ClientState;
use crate::error::CmdError;
use crate::keyspace::{Value, rdb};
use crate::persistence::aof::{self, Location, Parsed, Record, Rewrite};
use crate::persistence::rdb_file::{self, Image, KeyImage};
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
    let rdb_base = state.config.get_bool("aof-use-rdb-preamble");
    let (started, pending) = {
        // Nothing may run between the switch to the new incremental file and the capture.
        let _gate = state
            .exec_gate
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if enable && !state.aof.enabled() {
            state.aof.open(&location)?;
        }
        let started = state.aof.start_rewrite(&location, rdb_base)?;
        (started, snapshot::begin_image(state))
    };
    let image = snapshot::finish_image(state, pending);
    let written = write_base(&started, &image, rdb_base).map_err(|e| e.to_string());
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

/// What is not a key but must come back, as the commands that make them: functions,
/// indexes (with their aliases and synonyms) and spell-check dictionaries.
fn definitions(image: &Image) -> Vec<Record> {
    let word = |w: &str| Bytes::copy_from_slice(w.as_bytes());
    let mut out = Vec::new();
    for code in &image.functions {
        out.push(Record::new(
            0,
            vec![word("FUNCTION"), word("LOAD"), code.clone()],
        ));
    }
    for index in &image.indexes {
        let mut create = vec![word("FT.CREATE"), word(&index.name)];
        create.extend(index.args.iter().cloned());
        out.push(Record::new(0, create));
        for alias in &index.aliases {
            out.push(Record::new(
                0,
                vec![word("FT.ALIASADD"), word(alias), word(&index.name)],
            ));
        }
        for (group, terms) in &index.synonyms {
            let mut update = vec![word("FT.SYNUPDATE"), word(&index.name), word(group)];
            update.push(word("SKIPINITIALSCAN"));
            update.extend(terms.iter().map(|t| word(t)));
            out.push(Record::new(0, update));
        }
    }
    for (dict, terms) in &image.dicts {
        let mut add = vec![word("FT.DICTADD"), word(dict)];
        add.extend(terms.iter().map(|t| word(t)));
        out.push(Record::new(0, add));
    }
    out
}

/// Writes the base to the rewrite's temporary file and fsyncs it: with `rdb_base` an RDB
/// file (a snapshot of the image), else every definition and key as commands.
fn write_base(rewrite: &Rewrite, image: &Image, rdb_base: bool) -> std::io::Result<()> {
    let file = File::create(rewrite.temp_path())?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    if rdb_base {
        let used = crate::stats::memory().allocated;
        rdb_file::write(&mut out, image, used, true, &AtomicBool::new(false))?;
    } else {
        let mut buf = Vec::new();
        let mut db = None;
        aof::encode_records(&mut buf, &mut db, &definitions(image));
        for keys in &image.dbs {
            for key in &keys.keys {
                let mut records = vec![restore_record(keys.db, key)];
                records.extend(field_ttl_records(keys.db, key));
                aof::encode_records(&mut buf, &mut db, &records);
                if buf.len() > 1 << 16 {
                    out.write_all(&buf)?;
                    buf.clear();
                }
            }
        }
        out.write_all(&buf)?;
    }
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()
}

/// The `RESTORE` that recreates one key (with its expiry time).
fn restore_record(db: usize, copied: &KeyImage) -> Record {
    let mut restore = vec![Bytes::from_static(b"RESTORE"), copied.key.clone()];
    restore.push(Bytes::from(copied.expire_at.unwrap_or(0).to_string()));
    restore.push(Bytes::from(rdb::dump(&copied.value)));
    if copied.expire_at.is_some() {
        restore.push(Bytes::from_static(b"ABSTTL"));
    }
    Record::new(db, restore)
}

/// The `HPEXPIREAT`s that give a hash's fields their expiry times again (a DUMP payload
/// does not hold them).
fn field_ttl_records(db: usize, copied: &KeyImage) -> Vec<Record> {
    let Value::Hash(hash) = &copied.value else {
        return Vec::new();
    };
    if !hash.has_field_ttls() {
        return Vec::new();
    }
    hash.into_iter()
        .filter_map(|(field, _)| {
            let at = hash.field_expire_at(field)?;
            let argv = vec![
                Bytes::from_static(b"HPEXPIREAT"),
                copied.key.clone(),
                Bytes::from(at.to_string()),
                Bytes::from_static(b"FIELDS"),
                Bytes::from_static(b"1"),
                field.clone(),
            ];
            Some(Record::new(db, argv))
        })
        .collect()
}

/// Start-up with `appendonly yes`: loads the AOF (creating it, with a base of whatever is
/// in memory, when there is none) and starts appending. An error means the server must not
/// start.
pub fn start(state: &Arc<ServerState>) -> Result<(), String> {
    let location = location(state);
    let loaded = load(state, &location)?;
    if !loaded {
        let rdb_base = state.config.get_bool("aof-use-rdb-preamble");
        let started = state.aof.start_rewrite(&location, rdb_base)?;
        tracing::info!(
            "Creating AOF base file {} on server start",
            started.base_name
        );
        let image = snapshot::finish_image(state, snapshot::begin_image(state));
        write_base(&started, &image, rdb_base)
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
    let mut pos = 0;
    let mut count = 0;
    // A base written with aof-use-rdb-preamble (Redis's default) starts with an RDB file;
    // commands may follow it.
    if data.starts_with(b"REDIS") {
        let (keys, length) = super::snapshot::load_rdb(state, &path)?;
        (pos, count) = (length, keys as usize);
    }
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
