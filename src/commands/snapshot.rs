//! Snapshot commands (SAVE, BGSAVE) and the glue between the server and
//! `persistence::snapshot`: what a snapshot holds (every database's keys, FUNCTION
//! libraries, search index definitions), saving on SHUTDOWN / SIGTERM / FLUSHALL / the
//! `save` rules, loading at start-up and DEBUG RELOAD, and the MISCONF refusal of writes
//! after a failed background save.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::table::{Acl, CommandSpec, Flags};
use super::{Args, ExecCtx};
use crate::error::{CmdError, MISCONF};
use bytes::Bytes;

use crate::keyspace::{Capture, Ttl, rdb};
use crate::persistence::rdb_file::{Access, Image, IndexRecord, Loaded};
use crate::persistence::snapshot::{self, AccessMode};
use crate::progress::Progress;
use crate::protocol::Reply;
use crate::scripting::functions::RestorePolicy;
use crate::search::schema::IndexDef;
use crate::state::ServerState;

const SAVE_FLAGS: Flags = Flags::ADMIN
    .union(Flags::NOSCRIPT)
    .union(Flags::NO_ASYNC_LOADING);

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        summary: "Synchronously saves the database(s) to disk.",
        since: "1.0.0",
        complexity: "O(N) where N is the total number of keys in all databases",
        acl: Acl::ADMIN.union(Acl::DANGEROUS),
        ..CommandSpec::new("save", 1, SAVE_FLAGS.union(Flags::NO_MULTI), "server", save)
    },
    CommandSpec {
        summary: "Asynchronously saves the database(s) to disk.",
        since: "1.0.0",
        complexity: "O(1)",
        acl: Acl::ADMIN.union(Acl::DANGEROUS),
        ..CommandSpec::new("bgsave", -1, SAVE_FLAGS, "server", bgsave)
    },
];

/// `SAVE`: writes the snapshot now, holding up this client (others keep being served: the
/// image is cloned first, then written).
fn save(ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    if ctx.state.snapshots.in_progress() {
        return Err(CmdError::err("Background save already in progress"));
    }
    match save_now(ctx.state) {
        true => Ok(Reply::ok()),
        false => Err(CmdError::Coded("ERR".into())),
    }
}

/// `BGSAVE [SCHEDULE]`
fn bgsave(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    // SCHEDULE matters in Redis while another child process (an AOF rewrite) runs; no
    // such process holds up a snapshot here, so it starts at once either way.
    match args.next() {
        None => {}
        Some(arg) if args.is_empty() && arg.eq_ignore_ascii_case(b"schedule") => {}
        Some(_) => return Err(CmdError::Syntax),
    }
    if ctx.state.snapshots.in_progress() {
        return Err(CmdError::err("Background save already in progress"));
    }
    // Inside MULTI Redis defers the save to its timer; here the image is taken at once,
    // which is the same point in time (EXEC runs alone).
    let in_exec = ctx.client.tx.executing;
    start_bgsave(ctx.state);
    Ok(Reply::simple(match in_exec {
        true => "Background saving scheduled",
        false => "Background saving started",
    }))
}

/// A snapshot whose moment is fixed: the keys are being captured, the libraries, index
/// definitions (with aliases and synonyms) and dictionaries were read at that moment.
pub(super) struct Pending {
    capture: Arc<Capture>,
    mode: AccessMode,
    functions: Vec<Bytes>,
    indexes: Vec<IndexRecord>,
    dicts: Vec<(String, Vec<String>)>,
}

/// Fixes the moment of a snapshot: the pause clients see is the instant every shard is
/// locked to start the capture.
pub(super) fn begin_image(state: &ServerState) -> Pending {
    let mode = AccessMode::of_policy(&state.config.get("maxmemory-policy"));
    let functions = rdb::restore_functions(&state.scripting.function_dump()).unwrap_or_default();
    let indexes = state
        .search
        .names()
        .into_iter()
        .filter_map(|name| state.search.get(&name))
        // RediSearch does not save TEMPORARY indexes.
        .filter(|index| index.def.temporary.is_none())
        .map(|index| IndexRecord {
            name: index.def.name.clone(),
            args: index.def.create_args.clone(),
            aliases: state.search.aliases_of(&index.def.name),
            synonyms: index.synonym_groups(),
        })
        .collect();
    Pending {
        capture: state.keyspace.begin_capture(),
        mode,
        functions,
        indexes,
        dicts: state.search.dicts.all(),
    }
}

/// Copies what the capture has not copied yet and assembles the image.
pub(super) fn finish_image(state: &ServerState, pending: Pending) -> Image {
    Image {
        dbs: snapshot::captured_keys(&state.keyspace, &pending.capture, pending.mode),
        functions: pending.functions,
        indexes: pending.indexes,
        dicts: pending.dicts,
    }
}

/// Writes `image` to `dir/dbfilename`, logging as Redis does. `dirty_before` changes are
/// accounted saved on success.
fn write(
    state: &ServerState,
    image: &Image,
    dirty_before: u64,
    cancel: &std::sync::atomic::AtomicBool,
) -> bool {
    let dir = state.config.get("dir");
    let name = state.config.get("dbfilename");
    let used = crate::stats::memory().allocated;
    let started = Instant::now();
    match snapshot::write_file(std::path::Path::new(&dir), &name, image, used, cancel) {
        Ok(bytes) => {
            state.stats.dirty.fetch_sub(
                dirty_before.min(state.stats.dirty.load(Ordering::Relaxed)),
                Ordering::Relaxed,
            );
            let secs = started.elapsed().as_secs_f64();
            tracing::info!(
                "DB saved on disk ({} keys, {bytes} bytes in {secs:.3} seconds)",
                image.key_count()
            );
            super::graphs::save(state);
            true
        }
        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {
            tracing::warn!("Background saving cancelled");
            false
        }
        Err(e) => {
            tracing::warn!("Write error saving DB on disk: {e}");
            false
        }
    }
}

/// A foreground save (SAVE, SHUTDOWN, FLUSHALL, DEBUG RELOAD): true on success.
pub fn save_now(state: &ServerState) -> bool {
    let dirty_before = state.stats.dirty.load(Ordering::Relaxed);
    let image = finish_image(state, begin_image(state));
    state
        .snapshots
        .run_foreground(|cancel| write(state, &image, dirty_before, cancel))
}

/// Takes the image now and writes it on a thread of its own. Does nothing if a background
/// save is already running.
pub fn start_bgsave(state: &ServerState) {
    if !state.snapshots.begin_background() {
        return;
    }
    let started = Instant::now();
    let dirty_before = state.stats.dirty.load(Ordering::Relaxed);
    let pending = begin_image(state);
    tracing::info!(
        "Background saving started (dataset fixed in {:.3} ms)",
        started.elapsed().as_secs_f64() * 1000.0
    );
    let handle = state.handle();
    state.snapshots.spawn(move |cancel| {
        let copying = Instant::now();
        let image = finish_image(&handle, pending);
        tracing::info!(
            "Background saving copied {} keys in {:.3} ms",
            image.key_count(),
            copying.elapsed().as_secs_f64() * 1000.0
        );
        let ok = write(&handle, &image, dirty_before, cancel);
        if ok {
            tracing::info!("Background saving terminated with success");
        } else {
            tracing::warn!("Background saving error");
        }
        ok
    });
}

/// The timer's check (ten times a second): the log line of a background save to start now,
/// because a `save` rule holds.
pub fn save_due(state: &ServerState) -> Option<String> {
    let rules = snapshot::rules(&state.config.get("save"));
    let dirty = state.stats.dirty.load(Ordering::Relaxed);
    state.snapshots.due(&rules, dirty)
}

/// Starts the background save [`save_due`] announced, between commands as Redis's timer
/// runs: never inside EXEC or a script.
pub fn start_due(state: &ServerState, reason: &str) {
    tracing::info!("{reason}");
    let _gate = state.exec_gate.read();
    start_bgsave(state);
}

/// Whether `save` rules are configured (SHUTDOWN and SIGTERM then save, as FLUSHALL does).
pub fn has_save_rules(state: &ServerState) -> bool {
    !snapshot::rules(&state.config.get("save")).is_empty()
}

/// The final save of SHUTDOWN or a signal: a running background save is stopped first
/// (its temp file removed), as Redis kills its child.
pub fn save_for_shutdown(state: &ServerState) -> bool {
    if state.snapshots.in_progress() {
        tracing::warn!("There is a child saving an .rdb. Killing it!");
        state.snapshots.cancel_background();
    }
    tracing::info!("Saving the final RDB snapshot before exiting.");
    let ok = save_now(state);
    if !ok {
        tracing::warn!("Error trying to save the DB, can't exit.");
    }
    ok
}

/// After FLUSHALL, as Redis: a save in progress is stopped (it would write the old data),
/// and with `save` rules the emptied dataset is saved at once.
pub fn save_after_flushall(state: &ServerState) {
    state.snapshots.cancel_background();
    if has_save_rules(state) {
        save_now(state);
    }
}

/// Whether a command that writes must be refused with MISCONF, as Redis decides it: the
/// last background save failed while `save` rules exist and `stop-writes-on-bgsave-error`
/// is on, or the AOF is on and its last write or fsync failed.
pub fn refuses_writes(state: &ServerState) -> Option<CmdError> {
    if state.snapshots.last_failed()
        && state.config.get_bool("stop-writes-on-bgsave-error")
        && has_save_rules(state)
    {
        return Some(CmdError::Coded(MISCONF.into()));
    }
    let reason = state.aof.write_error()?;
    Some(CmdError::Coded(format!(
        "MISCONF Errors writing to the AOF file: {reason}"
    )))
}

/// Loads `dir/dbfilename` at start-up (unless the AOF is on: then the AOF is the source).
/// A missing file is an empty dataset; a corrupt or truncated one is an error, and nothing
/// was loaded.
pub fn load_at_startup(state: &Arc<ServerState>) -> Result<(), String> {
    if state.config.get_bool("appendonly") {
        return Ok(());
    }
    let started = Instant::now();
    let Some(loaded) = read(state)? else {
        return Ok(());
    };
    let (keys, expired) = apply(state, loaded)?;
    tracing::info!("Done loading RDB, keys loaded: {keys}, keys expired: {expired}.");
    tracing::info!(
        "DB loaded from disk: {:.3} seconds",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn read(state: &ServerState) -> Result<Option<Loaded>, String> {
    let path = snapshot::path(&state.config.get("dir"), &state.config.get("dbfilename"));
    read_path(state, &path)
}

/// Loads the RDB at the start of the file at `path` (an AOF base written with
/// `aof-use-rdb-preamble`); returns the keys loaded and the RDB's length in bytes (commands
/// may follow it). A missing file is an error.
pub fn load_rdb(state: &Arc<ServerState>, path: &Path) -> Result<(u64, usize), String> {
    let loaded = read_path(state, path)?
        .ok_or_else(|| format!("Can't open the RDB file {}", path.display()))?;
    let length = loaded.length;
    let (keys, _) = apply(state, loaded)?;
    Ok((keys, length))
}

fn read_path(state: &ServerState, path: &Path) -> Result<Option<Loaded>, String> {
    let encodings = super::ExecCtx::encodings_of(state);
    let loaded = snapshot::read_file(path, &encodings, state.keyspace.databases())?;
    if let Some(loaded) = &loaded {
        for module in &loaded.skipped_modules {
            tracing::warn!("Skipped the auxiliary data of module '{module}' (not loaded here)");
        }
    }
    Ok(loaded)
}

/// Puts a decoded snapshot in place: keys (with expiry and access record), libraries,
/// search indexes with their aliases and synonyms (re-indexed from the loaded keys in the
/// background), spell-check dictionaries. Returns the keys
/// loaded and skipped as expired.
fn apply(state: &Arc<ServerState>, loaded: Loaded) -> Result<(u64, u64), String> {
    let Loaded { image, expired, .. } = loaded;
    if !image.functions.is_empty() {
        let payload = rdb::dump_functions(image.functions.iter().map(|c| &c[..]));
        state
            .scripting
            .function_restore(&payload, RestorePolicy::Replace)
            .map_err(|e| format!("Failed loading the functions of the RDB file: {e}"))?;
    }
    let total: usize = image.dbs.iter().map(|db| db.keys.len()).sum();
    let mut progress = Progress::start("keys");
    let mut keys = 0u64;
    for db in image.dbs {
        for key in db.keys {
            let mut guard = state.keyspace.lock(db.db, &[&key.key]);
            let ttl = key.expire_at.map_or(Ttl::Clear, Ttl::At);
            guard.replace(key.key.clone(), key.value, ttl);
            // As Redis: a record applies when it is of the kind the policy keeps.
            let lfu = state.keyspace.tracks_frequency();
            match key.access {
                Access::IdleSecs(secs) if !lfu => {
                    guard.set_idle(&key.key, secs);
                }
                Access::Freq(counter) if lfu => {
                    guard.set_frequency(&key.key, counter);
                }
                _ => {}
            }
            keys += 1;
            if let Some(report) = progress.tick(keys, keys as f64 / total.max(1) as f64) {
                tracing::info!("Loading RDB keys: {report}");
            }
        }
    }
    for record in image.indexes {
        let def = IndexDef::parse(&record.name, &record.args)
            .map_err(|e| format!("Failed loading the search index '{}': {e}", record.name))?;
        let index = match state.search.create(def) {
            Ok(index) => index,
            // DEBUG RELOAD NOFLUSH-style reloads keep existing indexes.
            Err(_) => continue,
        };
        for alias in &record.aliases {
            let _ =
                state
                    .search
                    .set_alias(alias, &record.name, crate::search::registry::AliasOp::Add);
        }
        for (group, terms) in record.synonyms {
            index.update_synonyms(&group, terms);
        }
        super::search::backfill::start(state.clone(), index);
    }
    for (name, terms) in image.dicts {
        state.search.dicts.add(&name, terms);
    }
    state.snapshots.record_load(keys, expired);
    Ok((keys, expired))
}

/// DEBUG RELOAD: save (unless `save` is false), empty every database (unless `flush` is
/// false: loaded keys then replace those of the same name), load the file back.
pub fn debug_reload(state: &Arc<ServerState>, save: bool, flush: bool) -> Result<(), CmdError> {
    if save && !save_now(state) {
        return Err(CmdError::Coded("ERR".into()));
    }
    let failed = || CmdError::err("Error trying to load the RDB dump, check server logs.");
    let loaded = match read(state) {
        Ok(Some(loaded)) => loaded,
        Ok(None) => return Err(failed()),
        Err(e) => {
            tracing::warn!("{e}");
            return Err(failed());
        }
    };
    if flush {
        empty_dataset(state);
    }
    super::graphs::load_adopting(state, || apply(state, loaded)).map_err(|e| {
        tracing::warn!("{e}");
        failed()
    })?;
    tracing::info!("DB reloaded by DEBUG RELOAD");
    Ok(())
}

/// Every database emptied, every library and search index dropped (Redis's `emptyData`
/// before a load).
fn empty_dataset(state: &ServerState) {
    let mut guard = state.keyspace.lock_all();
    for db in 0..state.keyspace.databases() {
        guard.select(db);
        guard.flush();
    }
    drop(guard);
    state.scripting.function_flush();
    for name in state.search.names() {
        state.search.drop_index(&name);
    }
}
