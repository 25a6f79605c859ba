//! The append-only file, in Redis 7's multi-part layout: a directory (`appenddirname`) holding
//! a manifest (`<appendfilename>.manifest`, lines `file <name> seq <n> type b|h|i`), one base
//! file (the keyspace as commands, written by a rewrite) and the incremental files written
//! since, in order. Redis 7 and ferrostack can load each other's directories. A base is
//! written as an RDB file (`aof-use-rdb-preamble yes`, the default), followed by commands for
//! what RDB 10 cannot hold, or as commands.
//!
//! What gets appended is decided above, in `commands::propagate`: every command that changed
//! data hands its [`Record`]s (the command in the form Redis propagates it) to
//! [`Aof::submit`] together with a sequence number it took, while still holding its shard
//! locks, at its first change ([`Aof::take_seq`]). Commands run on many threads, so records
//! arrive out of order; they are written strictly in sequence order, which is the order in
//! which their writes happened to any one key. `SELECT` is inserted whenever the database
//! changes.
//!
//! Durability (`appendfsync`): the buffer reaches the file before any reply goes out
//! ([`Aof::before_reply`]); with `always` everything written so far is also fsynced first
//! ([`Aof::try_sync`]: one fsync covers every connection's records so far), with `everysec` a background thread fsyncs once a
//! second, with `no` the kernel decides.
//!
//! This module only knows files and bytes: the keyspace walk of a rewrite and the replay of
//! a file at start-up are in `commands::aof`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, AtomicU64, Ordering};
use std::time::Instant;

use bytes::Bytes;
use parking_lot::Mutex;

use crate::keyspace::{Entry, KeyEvent, KeyEventKind, KeyObserver};

/// One command as it goes to the file: `argv` run in database `db`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub db: usize,
    pub argv: Vec<Bytes>,
}

impl Record {
    pub fn new(db: usize, argv: Vec<Bytes>) -> Record {
        Record { db, argv }
    }

    /// A record of static words and byte arguments: `Record::of(0, &[b"DEL", key])`.
    pub fn of(db: usize, argv: &[&[u8]]) -> Record {
        Record {
            db,
            argv: argv.iter().map(|a| Bytes::copy_from_slice(a)).collect(),
        }
    }
}

/// `appendfsync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fsync {
    Always,
    EverySec,
    No,
}

impl Fsync {
    pub fn parse(name: &str) -> Fsync {
        match name {
            "always" => Fsync::Always,
            "no" => Fsync::No,
            _ => Fsync::EverySec,
        }
    }
}

/// Appends one command in RESP multibulk form, as every AOF stores it.
pub fn encode_command(out: &mut Vec<u8>, argv: &[Bytes]) {
    let mut number = itoa::Buffer::new();
    out.push(b'*');
    out.extend_from_slice(number.format(argv.len()).as_bytes());
    out.extend_from_slice(b"\r\n");
    for arg in argv {
        out.push(b'$');
        out.extend_from_slice(number.format(arg.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
}

/// Encodes records, inserting `SELECT` where the database changes; `db` is the database the
/// file is at, updated.
pub fn encode_records(out: &mut Vec<u8>, db: &mut Option<usize>, records: &[Record]) {
    for record in records {
        if *db != Some(record.db) {
            let index = Bytes::from(record.db.to_string());
            encode_command(out, &[Bytes::from_static(b"SELECT"), index]);
            *db = Some(record.db);
        }
        encode_command(out, &record.argv);
    }
}

/// What parsing the next command of a file found.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A command and the offset just past it.
    Command(Vec<Bytes>, usize),
    /// The file ends at this offset.
    End,
    /// The file ends inside a command (a crash during a write): the last complete one ends
    /// at the offset parsing started from.
    Truncated,
    /// Not an AOF command at this offset.
    Corrupt(String),
}

/// Parses the command that starts at `pos` of `data`. Annotation lines (`#...`, Redis's
/// timestamp annotations) are skipped.
pub fn parse_command(data: &Bytes, mut pos: usize) -> Parsed {
    while data.get(pos) == Some(&b'#') {
        match find_crlf(data, pos) {
            Some(end) => pos = end + 2,
            None => return Parsed::Truncated,
        }
    }
    if pos >= data.len() {
        return Parsed::End;
    }
    let start = pos;
    let header = |pos: usize, tag: u8| -> Result<Option<(usize, usize)>, String> {
        if data[pos] != tag {
            return Err(format!(
                "Bad file format reading the append only file at offset {pos}: expected '{}'",
                tag as char
            ));
        }
        let Some(end) = find_crlf(data, pos) else {
            return Ok(None);
        };
        let text = std::str::from_utf8(&data[pos + 1..end]).unwrap_or("");
        match text.parse::<usize>() {
            Ok(n) => Ok(Some((n, end + 2))),
            Err(_) => Err(format!(
                "Bad file format reading the append only file at offset {pos}: bad count"
            )),
        }
    };
    let (argc, mut pos) = match header(start, b'*') {
        Ok(Some(found)) => found,
        Ok(None) => return Parsed::Truncated,
        Err(e) => return Parsed::Corrupt(e),
    };
    if argc == 0 {
        return Parsed::Corrupt(format!("Bad file format: empty command at offset {start}"));
    }
    let mut argv = Vec::with_capacity(argc.min(1024));
    for _ in 0..argc {
        if pos >= data.len() {
            return Parsed::Truncated;
        }
        let (len, body) = match header(pos, b'$') {
            Ok(Some(found)) => found,
            Ok(None) => return Parsed::Truncated,
            Err(e) => return Parsed::Corrupt(e),
        };
        let Some(end) = body.checked_add(len) else {
            return Parsed::Corrupt(format!("Bad bulk length at offset {pos}"));
        };
        if end + 2 > data.len() {
            return Parsed::Truncated;
        }
        if &data[end..end + 2] != b"\r\n" {
            return Parsed::Corrupt(format!(
                "Bad file format reading the append only file at offset {end}: missing CRLF"
            ));
        }
        argv.push(data.slice(body..end));
        pos = end + 2;
    }
    Parsed::Command(argv, pos)
}

fn find_crlf(data: &[u8], from: usize) -> Option<usize> {
    data.get(from..)?
        .windows(2)
        .position(|w| w == b"\r\n")
        .map(|i| from + i)
}

/// A file the manifest lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestFile {
    pub name: String,
    pub seq: u64,
}

/// The manifest: which files make up the AOF, in load order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    pub base: Option<ManifestFile>,
    /// Files a rewrite replaced that have not been deleted yet (type `h`).
    pub history: Vec<ManifestFile>,
    pub incrs: Vec<ManifestFile>,
}

impl Manifest {
    /// Parses a manifest as Redis 7 writes it; `#` lines are comments.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let mut manifest = Manifest::default();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            let (mut name, mut seq, mut kind) = (None, None, None);
            for pair in words.chunks(2) {
                match pair {
                    ["file", v] => name = Some(v.trim_matches('"').to_string()),
                    ["seq", v] => seq = v.parse::<u64>().ok(),
                    ["type", v] => kind = Some(*v),
                    // Keys a later version may add are ignored, as Redis does.
                    [_, _] => {}
                    _ => return Err(format!("Invalid AOF manifest line: {line}")),
                }
            }
            let (Some(name), Some(seq), Some(kind)) = (name, seq, kind) else {
                return Err(format!("Invalid AOF manifest line: {line}"));
            };
            let file = ManifestFile { name, seq };
            match kind {
                "b" if manifest.base.is_none() => manifest.base = Some(file),
                "b" => return Err("Found duplicate base file information".to_string()),
                "h" => manifest.history.push(file),
                "i" => {
                    if manifest
                        .incrs
                        .last()
                        .is_some_and(|last| last.seq >= file.seq)
                    {
                        return Err("Found a non-monotonic sequence number".to_string());
                    }
                    manifest.incrs.push(file)
                }
                _ => return Err(format!("Unknown AOF file type in manifest: {kind}")),
            }
        }
        Ok(manifest)
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut line = |file: &ManifestFile, kind: &str| {
            out.push_str(&format!(
                "file {} seq {} type {kind}\n",
                file.name, file.seq
            ));
        };
        if let Some(base) = &self.base {
            line(base, "b");
        }
        for file in &self.history {
            line(file, "h");
        }
        for file in &self.incrs {
            line(file, "i");
        }
        out
    }

    /// The files to load, in order: the base, then every incremental file.
    pub fn load_order(&self) -> Vec<&ManifestFile> {
        self.base.iter().chain(self.incrs.iter()).collect()
    }

    fn next_incr_seq(&self) -> u64 {
        self.incrs.last().map_or(1, |f| f.seq + 1)
    }

    fn next_base_seq(&self) -> u64 {
        self.base.as_ref().map_or(1, |f| f.seq + 1)
    }
}

/// Where the AOF lives: `dir/appenddirname`, files named after `appendfilename`.
#[derive(Debug, Clone)]
pub struct Location {
    pub dir: PathBuf,
    pub filename: String,
}

impl Location {
    pub fn new(dir: &str, dirname: &str, filename: &str) -> Location {
        Location {
            dir: Path::new(dir).join(dirname),
            filename: filename.to_string(),
        }
    }

    pub fn manifest_path(&self) -> PathBuf {
        self.dir.join(format!("{}.manifest", self.filename))
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn incr_name(&self, seq: u64) -> String {
        format!("{}.{seq}.incr.aof", self.filename)
    }

    /// A base's name: `.base.rdb` for an RDB-preamble base, `.base.aof` for commands.
    fn base_name(&self, seq: u64, rdb: bool) -> String {
        let kind = if rdb { "rdb" } else { "aof" };
        format!("{}.{seq}.base.{kind}", self.filename)
    }

    /// The manifest on disk; `None` when there is none.
    pub fn read_manifest(&self) -> Result<Option<Manifest>, String> {
        match fs::read_to_string(self.manifest_path()) {
            Ok(text) => Manifest::parse(&text).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("Can't read the AOF manifest: {e}")),
        }
    }

    /// Replaces the manifest atomically: written to a temporary file, fsynced, renamed.
    fn write_manifest(&self, manifest: &Manifest) -> std::io::Result<()> {
        let tmp = self.dir.join(format!("temp-{}.manifest", self.filename));
        let mut file = File::create(&tmp)?;
        file.write_all(manifest.render().as_bytes())?;
        file.sync_all()?;
        fs::rename(&tmp, self.manifest_path())?;
        File::open(&self.dir)?.sync_all()
    }
}

/// Records waiting for their turn, and the encoded bytes not yet written to the file.
struct Queue {
    /// The next sequence number to encode.
    next: u64,
    waiting: BTreeMap<u64, Vec<Record>>,
    buf: Vec<u8>,
    /// The database the file is at after `buf`.
    db: Option<usize>,
}

/// The open AOF.
struct Files {
    location: Location,
    manifest: Manifest,
    /// The incremental file being appended to.
    incr: File,
}

/// What the file side has done: written and fsynced up to which sequence number.
struct Output {
    files: Option<Files>,
    /// Every record below this sequence number is in the file.
    written_below: u64,
    /// ... and below this one also fsynced.
    synced_below: u64,
}

/// A rewrite between [`Aof::start_rewrite`] and [`Aof::finish_rewrite`].
#[derive(Debug)]
pub struct Rewrite {
    pub location: Location,
    /// The base file to write (its final name; write to a temporary file first).
    pub base_name: String,
    base_seq: u64,
    /// The first incremental file that belongs to the new base.
    first_incr_seq: Option<u64>,
    started: Instant,
}

impl Rewrite {
    /// Where the new base is written before it is renamed into place.
    pub fn temp_path(&self) -> PathBuf {
        self.location
            .path(&format!("temp-rewriteaof-bg-{}.aof", std::process::id()))
    }
}

/// Appends `buf` whole or not at all: after a failed or short write the file is cut back
/// to its length before it, so no half record is left for a later write to follow.
fn append_whole(file: &mut File, buf: &[u8]) -> std::io::Result<()> {
    let mut written = 0;
    while written < buf.len() {
        match file.write(&buf[written..]) {
            Ok(0) => {
                return Err(std::io::Error::from(std::io::ErrorKind::WriteZero));
            }
            Ok(n) => written += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                if written > 0
                    && let Ok(meta) = file.metadata()
                {
                    let _ = file.set_len(meta.len().saturating_sub(written as u64));
                }
                return Err(e);
            }
        }
    }
    Ok(())
}

/// An I/O error as C's strerror words it (what Redis puts in its messages).
fn strerror(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// INFO persistence's aof_* counters.
#[derive(Default)]
struct AofStats {
    rewrites: AtomicU64,
    consecutive_failures: AtomicU64,
    last_rewrite_ok: AtomicBool,
    last_rewrite_secs: AtomicI64,
    rewrite_started: Mutex<Option<Instant>>,
    scheduled: AtomicBool,
    last_write_ok: AtomicBool,
    /// Why the last write or fsync failed (strerror's text), while `last_write_ok` is false.
    last_write_error: Mutex<String>,
    /// The running rewrite took over data a failed write left unwritten: its success ends
    /// the write error.
    covered_by_rewrite: AtomicBool,
    /// Bytes of the base file and of the whole AOF, as last known.
    base_size: AtomicU64,
    current_size: AtomicU64,
}

/// The append-only file of a running server.
pub struct Aof {
    enabled: AtomicBool,
    fsync: AtomicU8,
    /// `lazyfree-lazy-expire`: expired keys are appended as UNLINK instead of DEL.
    unlink_expired: AtomicBool,
    next_seq: AtomicU64,
    queue: Mutex<Queue>,
    output: Mutex<Output>,
    rewriting: AtomicBool,
    stats: AofStats,
    /// `Output::synced_below`, readable without the lock, and the event of its advancing.
    synced_below: AtomicU64,
    synced: tokio::sync::Notify,
}

impl Default for Aof {
    fn default() -> Self {
        let stats = AofStats::default();
        stats.last_rewrite_ok.store(true, Ordering::Relaxed);
        stats.last_write_ok.store(true, Ordering::Relaxed);
        stats.last_rewrite_secs.store(-1, Ordering::Relaxed);
        Aof {
            enabled: AtomicBool::new(false),
            fsync: AtomicU8::new(1),
            unlink_expired: AtomicBool::new(false),
            next_seq: AtomicU64::new(1),
            queue: Mutex::new(Queue {
                next: 1,
                waiting: BTreeMap::new(),
                buf: Vec::new(),
                db: None,
            }),
            output: Mutex::new(Output {
                files: None,
                written_below: 1,
                synced_below: 1,
            }),
            rewriting: AtomicBool::new(false),
            stats,
            synced_below: AtomicU64::new(1),
            synced: tokio::sync::Notify::new(),
        }
    }
}

impl Aof {
    /// Whether commands are being appended.
    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Acquire)
    }

    /// Applies `appendfsync` and `lazyfree-lazy-expire`.
    pub fn configure(&self, fsync: Fsync, unlink_expired: bool) {
        self.fsync.store(fsync as u8, Ordering::Relaxed);
        self.unlink_expired.store(unlink_expired, Ordering::Relaxed);
    }

    fn fsync_mode(&self) -> Fsync {
        match self.fsync.load(Ordering::Relaxed) {
            0 => Fsync::Always,
            2 => Fsync::No,
            _ => Fsync::EverySec,
        }
    }

    /// The next position in the file's order. Take it while holding the locks of the
    /// write it orders, and always [`submit`](Self::submit) it, even with no records.
    pub fn take_seq(&self) -> u64 {
        self.next_seq.fetch_add(1, Ordering::AcqRel)
    }

    /// Hands over the records of sequence number `seq`; they are encoded once every
    /// smaller number has been submitted.
    pub fn submit(&self, seq: u64, records: Vec<Record>) {
        let mut queue = self.queue.lock();
        if seq < queue.next {
            // Taken before the file was opened (the enabling rewrite covers it).
            return;
        }
        queue.waiting.insert(seq, records);
        let queue = &mut *queue;
        while let Some(records) = queue.waiting.remove(&queue.next) {
            encode_records(&mut queue.buf, &mut queue.db, &records);
            queue.next += 1;
        }
    }

    /// Whether [`before_reply`](Self::before_reply) waits for an fsync (`always`).
    pub fn syncs_before_reply(&self) -> bool {
        self.enabled() && self.fsync_mode() == Fsync::Always
    }

    fn publish_synced(&self, output: &Output) {
        self.synced_below
            .store(output.synced_below, Ordering::Release);
        self.synced.notify_waiters();
    }

    /// The records a reply must wait for under `appendfsync always`: every one taken so
    /// far (see [`Aof::before_reply`] for why not only the connection's own). A command
    /// that took one may still be running: its record is submitted when it ends.
    pub fn taken(&self) -> u64 {
        self.next_seq.load(Ordering::Acquire) - 1
    }

    /// Whether every record up to `seq` is on disk (or the AOF is off).
    pub fn synced_through(&self, seq: u64) -> bool {
        !self.enabled() || self.synced_below.load(Ordering::Acquire) > seq
    }

    /// Fires each time records reach the disk: a connection waiting under `always` takes a
    /// [`Notified`](tokio::sync::Notified) before checking [`Aof::synced_through`].
    pub fn synced_event(&self) -> &tokio::sync::Notify {
        &self.synced
    }

    /// Writes and fsyncs what is buffered if no one else is doing it (`None` then: wait for
    /// [`Aof::synced_event`]). One fsync covers every connection's records so far (group
    /// commit). Blocks for the fsync: call it off the async workers.
    pub fn try_sync(&self) -> Option<()> {
        let mut output = self.output.try_lock()?;
        self.write_buffered(&mut output);
        self.fsync_locked(&mut output);
        Some(())
    }

    /// Writes what is buffered to the file (`everysec`, `no`), so a reply never acknowledges
    /// what a crash of the process would lose. Under `always` the connection waits for the
    /// fsync instead ([`Aof::try_sync`]), for every record taken so far, not only its own:
    /// a reply may show another client's write (a read, or a blocked BLMOVE served by
    /// another client's push), and as in Redis nothing a reply shows may be lost after it.
    pub fn before_reply(&self) {
        if self.enabled() {
            self.write_buffered(&mut self.output.lock());
        }
    }

    /// Moves the encoded buffer into the file.
    fn write_buffered(&self, output: &mut Output) {
        let (buf, below) = {
            let mut queue = self.queue.lock();
            (std::mem::take(&mut queue.buf), queue.next)
        };
        let Some(files) = output.files.as_mut() else {
            return;
        };
        if !buf.is_empty() {
            if let Err(e) = append_whole(&mut files.incr, &buf) {
                self.write_failed("Error writing to the AOF file", &e);
                // Kept, in front of what came since, for the next attempt (a reply or the
                // once-a-second tick), as Redis keeps its AOF buffer.
                let mut queue = self.queue.lock();
                let newer = std::mem::replace(&mut queue.buf, buf);
                queue.buf.extend_from_slice(&newer);
                return;
            }
            if !self.stats.last_write_ok.swap(true, Ordering::Relaxed) {
                tracing::warn!("AOF write error looks solved, Redis can write again.");
            }
            self.stats
                .current_size
                .fetch_add(buf.len() as u64, Ordering::Relaxed);
        }
        output.written_below = below;
    }

    /// Records a failed write or fsync: INFO shows `aof_last_write_status:err` and writes
    /// are refused with MISCONF until one succeeds. Under `appendfsync always` nothing can
    /// be acknowledged any more, so the server exits, as Redis does.
    fn write_failed(&self, what: &str, e: &std::io::Error) {
        let reason = strerror(e);
        tracing::warn!("{what}: {reason}");
        *self.stats.last_write_error.lock() = reason;
        self.stats.last_write_ok.store(false, Ordering::Relaxed);
        if self.fsync_mode() == Fsync::Always {
            tracing::error!(
                "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting..."
            );
            std::process::exit(1);
        }
    }

    /// Why writes must be refused: the last write or fsync of the AOF failed (strerror's
    /// text), while the AOF is on.
    pub fn write_error(&self) -> Option<String> {
        (self.enabled() && !self.stats.last_write_ok.load(Ordering::Relaxed))
            .then(|| self.stats.last_write_error.lock().clone())
    }

    fn fsync_locked(&self, output: &mut Output) {
        if output.synced_below >= output.written_below {
            return;
        }
        if let Some(files) = output.files.as_ref()
            && let Err(e) = files.incr.sync_data()
        {
            // Not counted synced: the next fsync covers it again.
            return self.write_failed("Error fsyncing the AOF file", &e);
        }
        // An fsync error is over once an fsync succeeds (a write error only once its data
        // is written).
        if self.queue.lock().buf.is_empty()
            && !self.stats.last_write_ok.swap(true, Ordering::Relaxed)
        {
            tracing::warn!("AOF write error looks solved, Redis can write again.");
        }
        output.synced_below = output.written_below;
        self.publish_synced(output);
    }

    /// Once a second (`everysec`): writes and fsyncs what is buffered.
    pub fn tick(&self) {
        if !self.enabled() {
            return;
        }
        let mut output = self.output.lock();
        self.write_buffered(&mut output);
        if self.fsync_mode() == Fsync::EverySec {
            self.fsync_locked(&mut output);
        }
    }

    /// Starts appending to the AOF described by `location`'s manifest, opening (or creating)
    /// its last incremental file. Called at start-up after loading, and by
    /// `CONFIG SET appendonly yes` before its rewrite.
    pub fn open(&self, location: &Location) -> Result<(), String> {
        fs::create_dir_all(&location.dir)
            .map_err(|e| format!("Can't create the AOF directory: {e}"))?;
        let mut manifest = location.read_manifest()?.unwrap_or_default();
        let incr = match manifest.incrs.last() {
            Some(last) => last.name.clone(),
            None => {
                let seq = manifest.next_incr_seq();
                let name = location.incr_name(seq);
                tracing::info!("Creating AOF incr file {name} on server start");
                manifest.incrs.push(ManifestFile {
                    name: name.clone(),
                    seq,
                });
                name
            }
        };
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(location.path(&incr))
            .map_err(|e| format!("Can't open the append-only file {incr}: {e}"))?;
        location
            .write_manifest(&manifest)
            .map_err(|e| format!("Can't write the AOF manifest: {e}"))?;
        self.refresh_sizes(location, &manifest);
        let mut output = self.output.lock();
        let mut queue = self.queue.lock();
        // The file starts at no database: the first record selects its own.
        queue.db = None;
        queue.buf.clear();
        queue.waiting.clear();
        queue.next = self.next_seq.load(Ordering::Acquire);
        output.written_below = queue.next;
        output.synced_below = queue.next;
        self.publish_synced(&output);
        output.files = Some(Files {
            location: location.clone(),
            manifest,
            incr: file,
        });
        self.enabled.store(true, Ordering::Release);
        Ok(())
    }

    /// Stops appending (`CONFIG SET appendonly no`, shutdown): flushes, fsyncs, closes.
    pub fn close(&self) {
        let mut output = self.output.lock();
        self.write_buffered(&mut output);
        self.fsync_locked(&mut output);
        self.enabled.store(false, Ordering::Release);
        output.files = None;
    }

    /// Begins a rewrite: everything buffered goes to the current incremental file, and a
    /// new one (listed in the manifest) receives what follows, so the new base only has to
    /// reflect the keyspace as it is now. The caller must hold writes back until it has its
    /// copy of the keyspace. Fails when a rewrite is already running.
    /// `rdb_base`: the base will be written in RDB format (`aof-use-rdb-preamble`).
    pub fn start_rewrite(&self, fallback: &Location, rdb_base: bool) -> Result<Rewrite, String> {
        if self.rewriting.swap(true, Ordering::AcqRel) {
            return Err("Background append only file rewriting already in progress".into());
        }
        *self.stats.rewrite_started.lock() = Some(Instant::now());
        self.stats.scheduled.store(false, Ordering::Relaxed);
        let started = self.rotate(fallback, rdb_base);
        if started.is_err() {
            self.rewrite_failed();
        }
        started
    }

    fn rotate(&self, fallback: &Location, rdb_base: bool) -> Result<Rewrite, String> {
        let mut output = self.output.lock();
        self.write_buffered(&mut output);
        self.fsync_locked(&mut output);
        let Some(files) = output.files.as_mut() else {
            // Not appending: the rewrite only writes a base (and the manifest naming it).
            let manifest = fallback.read_manifest()?.unwrap_or_default();
            fs::create_dir_all(&fallback.dir).map_err(|e| e.to_string())?;
            return Ok(Rewrite {
                location: fallback.clone(),
                base_name: fallback.base_name(manifest.next_base_seq(), rdb_base),
                base_seq: manifest.next_base_seq(),
                first_incr_seq: None,
                started: Instant::now(),
            });
        };
        let seq = files.manifest.next_incr_seq();
        let name = files.location.incr_name(seq);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(files.location.path(&name))
            .map_err(|e| format!("Can't open the new AOF incr file {name}: {e}"))?;
        let mut manifest = files.manifest.clone();
        manifest.incrs.push(ManifestFile { name, seq });
        files
            .location
            .write_manifest(&manifest)
            .map_err(|e| format!("Can't write the AOF manifest: {e}"))?;
        files.manifest = manifest;
        files.incr = file;
        let mut queue = self.queue.lock();
        // The new file starts without a selected database.
        queue.db = None;
        if !queue.buf.is_empty() {
            // What a failed write left behind is in the keyspace the rewrite copies next
            // (under the same gate): written to the new file too, it would apply twice. It
            // is on disk once the base is; until then writes stay refused.
            queue.buf.clear();
            self.stats.covered_by_rewrite.store(true, Ordering::Relaxed);
        }
        Ok(Rewrite {
            location: files.location.clone(),
            base_name: files
                .location
                .base_name(files.manifest.next_base_seq(), rdb_base),
            base_seq: files.manifest.next_base_seq(),
            first_incr_seq: Some(seq),
            started: Instant::now(),
        })
    }

    /// Ends a rewrite whose base was written (and fsynced) to `rewrite.temp_path()`: the
    /// base takes its name, the manifest is swapped to list it and the incremental files
    /// from the rewrite's start, and the files it replaces are deleted.
    pub fn finish_rewrite(&self, rewrite: Rewrite) -> Result<(), String> {
        let result = self.install(&rewrite);
        match &result {
            Ok(()) => {
                self.stats.rewrites.fetch_add(1, Ordering::Relaxed);
                self.stats.consecutive_failures.store(0, Ordering::Relaxed);
                self.stats.last_rewrite_ok.store(true, Ordering::Relaxed);
                let secs = rewrite.started.elapsed().as_secs() as i64;
                self.stats.last_rewrite_secs.store(secs, Ordering::Relaxed);
                *self.stats.rewrite_started.lock() = None;
                self.rewriting.store(false, Ordering::Release);
                tracing::info!("Background AOF rewrite finished successfully");
                if self.stats.covered_by_rewrite.swap(false, Ordering::Relaxed)
                    && !self.stats.last_write_ok.swap(true, Ordering::Relaxed)
                {
                    tracing::warn!("AOF write error looks solved, Redis can write again.");
                }
            }
            Err(e) => {
                tracing::warn!("Background AOF rewrite failed: {e}");
                self.rewrite_failed();
            }
        }
        result
    }

    /// Records a failed rewrite (INFO `aof_last_bgrewrite_status:err`).
    pub fn rewrite_failed(&self) {
        self.stats
            .covered_by_rewrite
            .store(false, Ordering::Relaxed);
        self.stats.last_rewrite_ok.store(false, Ordering::Relaxed);
        self.stats
            .consecutive_failures
            .fetch_add(1, Ordering::Relaxed);
        *self.stats.rewrite_started.lock() = None;
        self.rewriting.store(false, Ordering::Release);
    }

    fn install(&self, rewrite: &Rewrite) -> Result<(), String> {
        let location = &rewrite.location;
        let mut output = self.output.lock();
        let current = match output.files.as_ref() {
            Some(files) => files.manifest.clone(),
            None => location.read_manifest()?.unwrap_or_default(),
        };
        fs::rename(rewrite.temp_path(), location.path(&rewrite.base_name))
            .map_err(|e| format!("Can't rename the rewritten base: {e}"))?;
        let mut manifest = Manifest {
            base: Some(ManifestFile {
                name: rewrite.base_name.clone(),
                seq: rewrite.base_seq,
            }),
            history: Vec::new(),
            incrs: current
                .incrs
                .iter()
                .filter(|f| rewrite.first_incr_seq.is_some_and(|first| f.seq >= first))
                .cloned()
                .collect(),
        };
        location
            .write_manifest(&manifest)
            .map_err(|e| format!("Can't write the AOF manifest: {e}"))?;
        // Replaced files are no longer listed: delete them (Redis lists them as history
        // first and deletes them in the background; nothing reads them either way).
        let kept: Vec<&str> = manifest
            .load_order()
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        let replaced = current
            .load_order()
            .into_iter()
            .chain(current.history.iter());
        for old in replaced {
            if !kept.contains(&old.name.as_str()) {
                let _ = fs::remove_file(location.path(&old.name));
            }
        }
        manifest.history.clear();
        if let Some(files) = output.files.as_mut() {
            files.manifest = manifest.clone();
        }
        drop(output);
        self.refresh_sizes(location, &manifest);
        Ok(())
    }

    fn refresh_sizes(&self, location: &Location, manifest: &Manifest) {
        let size = |f: &ManifestFile| fs::metadata(location.path(&f.name)).map_or(0, |m| m.len());
        let base = manifest.base.as_ref().map_or(0, size);
        let total: u64 = manifest.load_order().into_iter().map(size).sum();
        self.stats.base_size.store(base, Ordering::Relaxed);
        self.stats.current_size.store(total, Ordering::Relaxed);
    }

    /// Whether `auto-aof-rewrite-percentage` / `-min-size` call for a rewrite now.
    pub fn wants_auto_rewrite(&self, percentage: i64, min_size: i64) -> bool {
        if !self.enabled() || percentage <= 0 || self.rewriting.load(Ordering::Acquire) {
            return false;
        }
        let current = self.stats.current_size.load(Ordering::Relaxed);
        if current < u64::try_from(min_size).unwrap_or(0) {
            return false;
        }
        let base = self.stats.base_size.load(Ordering::Relaxed).max(1);
        let growth = (current.saturating_sub(base)) * 100 / base;
        growth >= u64::try_from(percentage).unwrap_or(u64::MAX)
    }

    pub fn rewriting(&self) -> bool {
        self.rewriting.load(Ordering::Acquire)
    }

    /// INFO persistence's aof_* fields, in Redis's order.
    pub fn info_fields(&self) -> Vec<(&'static str, String)> {
        let s = &self.stats;
        let flag = |b: bool| if b { "1" } else { "0" }.to_string();
        let status = |b: bool| if b { "ok" } else { "err" }.to_string();
        let current_secs = s
            .rewrite_started
            .lock()
            .map_or(-1, |t| t.elapsed().as_secs() as i64);
        let mut fields = vec![
            ("aof_enabled", flag(self.enabled())),
            ("aof_rewrite_in_progress", flag(self.rewriting())),
            (
                "aof_rewrite_scheduled",
                flag(s.scheduled.load(Ordering::Relaxed)),
            ),
            (
                "aof_last_rewrite_time_sec",
                s.last_rewrite_secs.load(Ordering::Relaxed).to_string(),
            ),
            ("aof_current_rewrite_time_sec", current_secs.to_string()),
            (
                "aof_last_bgrewrite_status",
                status(s.last_rewrite_ok.load(Ordering::Relaxed)),
            ),
            (
                "aof_rewrites",
                s.rewrites.load(Ordering::Relaxed).to_string(),
            ),
            (
                "aof_rewrites_consecutive_failures",
                s.consecutive_failures.load(Ordering::Relaxed).to_string(),
            ),
            (
                "aof_last_write_status",
                status(s.last_write_ok.load(Ordering::Relaxed)),
            ),
            ("aof_last_cow_size", "0".to_string()),
            ("module_fork_in_progress", "0".to_string()),
            ("module_fork_last_cow_size", "0".to_string()),
        ];
        if self.enabled() {
            let buffered = self.queue.lock().buf.len();
            fields.extend([
                (
                    "aof_current_size",
                    s.current_size.load(Ordering::Relaxed).to_string(),
                ),
                (
                    "aof_base_size",
                    s.base_size.load(Ordering::Relaxed).to_string(),
                ),
                ("aof_pending_rewrite", "0".to_string()),
                ("aof_buffer_length", buffered.to_string()),
                ("aof_pending_bio_fsync", "0".to_string()),
                ("aof_delayed_fsync", "0".to_string()),
            ]);
        }
        fields
    }

    /// Marks a rewrite as scheduled (INFO `aof_rewrite_scheduled`).
    pub fn schedule_rewrite(&self) {
        self.stats.scheduled.store(true, Ordering::Relaxed);
    }
}

/// What the commands of one execution unit changed, collected while it runs (see
/// `commands::propagate`), per thread: the keyspace reports changes on the thread that
/// makes them.
#[derive(Debug, Default)]
pub struct Capture {
    /// Taken at the unit's first change, under that change's shard locks.
    pub seq: Option<u64>,
    /// Whether the current command changed a key.
    pub changed: bool,
    /// What has to go to the file so far, in order: keys the unit's commands found expired
    /// (as DEL) and the finished nested commands' records.
    pub records: Vec<Record>,
    /// What the current command asked to propagate instead of its argv.
    pub replaced: Option<Vec<Record>>,
}

thread_local! {
    static CAPTURE: RefCell<Option<Capture>> = const { RefCell::new(None) };
}

/// Starts capturing on this thread; returns the capture it replaces (restore it with
/// [`end_capture`]).
pub fn begin_capture() -> Option<Capture> {
    CAPTURE.with(|c| c.borrow_mut().replace(Capture::default()))
}

/// Ends the capture begun by [`begin_capture`], restoring `outer`.
pub fn end_capture(outer: Option<Capture>) -> Option<Capture> {
    CAPTURE.with(|c| std::mem::replace(&mut *c.borrow_mut(), outer))
}

/// Runs `f` on this thread's capture, if one is open.
pub fn with_capture<R>(f: impl FnOnce(&mut Capture) -> R) -> Option<R> {
    CAPTURE.with(|c| c.borrow_mut().as_mut().map(f))
}

/// The keyspace observer that feeds captures: marks the running command as having changed
/// data, records keys found expired, and appends expiry that happens outside any command
/// (the active expiry cycle) directly.
pub struct AofObserver(pub std::sync::Arc<Aof>);

impl KeyObserver for AofObserver {
    fn on_event(&self, event: &KeyEvent, _entry: Option<&Entry>) {
        if !self.0.enabled() {
            return;
        }
        let aof = &self.0;
        let verb = match aof.unlink_expired.load(Ordering::Relaxed) {
            true => Bytes::from_static(b"UNLINK"),
            false => Bytes::from_static(b"DEL"),
        };
        let expired = |db| Record::new(db, vec![verb.clone(), event.key.clone()]);
        let inside = with_capture(|capture| {
            capture.seq.get_or_insert_with(|| aof.take_seq());
            match event.kind {
                KeyEventKind::Expired => capture.records.push(expired(event.db)),
                // Active field expiry: the fields' absolute expiry times are in the file
                // (HPEXPIREAT), so a replay expires them as well.
                KeyEventKind::FieldsExpired => {}
                _ => capture.changed = true,
            }
        });
        if inside.is_none() && event.kind == KeyEventKind::Expired {
            let seq = aof.take_seq();
            aof.submit(seq, vec![expired(event.db)]);
        }
    }

    fn listening(&self) -> bool {
        self.0.enabled()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<Bytes> {
        words.iter().map(|w| Bytes::from(w.to_string())).collect()
    }

    #[test]
    fn commands_round_trip_and_truncation_is_told_from_corruption() {
        let mut out = Vec::new();
        let mut db = None;
        encode_records(
            &mut out,
            &mut db,
            &[
                Record::new(0, argv(&["SET", "k", "v\r\n"])),
                Record::new(3, argv(&["DEL", "k"])),
            ],
        );
        let data = Bytes::from(out.clone());
        let mut pos = 0;
        let mut seen = Vec::new();
        while let Parsed::Command(cmd, next) = parse_command(&data, pos) {
            seen.push(cmd);
            pos = next;
        }
        assert_eq!(
            seen,
            vec![
                argv(&["SELECT", "0"]),
                argv(&["SET", "k", "v\r\n"]),
                argv(&["SELECT", "3"]),
                argv(&["DEL", "k"]),
            ]
        );
        assert_eq!(parse_command(&data, pos), Parsed::End);
        for cut in 1..out.len() {
            let data = Bytes::copy_from_slice(&out[..cut]);
            let mut pos = 0;
            let end = loop {
                match parse_command(&data, pos) {
                    Parsed::Command(_, next) => pos = next,
                    other => break other,
                }
            };
            assert!(matches!(end, Parsed::Truncated | Parsed::End), "cut {cut}");
        }
        let corrupt = Bytes::from_static(b"*1\r\n$3\r\nfoo\r\nxyz\r\n");
        assert!(matches!(parse_command(&corrupt, 13), Parsed::Corrupt(_)));
        let annotated = Bytes::from_static(b"#TS:123\r\n*1\r\n$4\r\nPING\r\n");
        assert!(matches!(
            parse_command(&annotated, 0),
            Parsed::Command(_, 23)
        ));
    }

    #[test]
    fn manifest_parses_what_redis_writes() {
        let text = "file appendonly.aof.1.base.rdb seq 1 type b\n\
                    file appendonly.aof.1.incr.aof seq 1 type h\n\
                    file appendonly.aof.2.incr.aof seq 2 type i\n";
        let m = Manifest::parse(text).unwrap();
        assert_eq!(m.base.as_ref().unwrap().name, "appendonly.aof.1.base.rdb");
        assert_eq!(m.history.len(), 1);
        assert_eq!(m.incrs[0].seq, 2);
        assert_eq!(m.render(), text);
        assert!(Manifest::parse("file x seq 1 type z\n").is_err());
        assert!(Manifest::parse("file x seq 2 type i\nfile y seq 1 type i\n").is_err());
    }

    #[test]
    fn records_are_written_in_sequence_order() {
        let aof = Aof::default();
        let (a, b) = (aof.take_seq(), aof.take_seq());
        aof.submit(b, vec![Record::new(0, argv(&["SET", "k", "2"]))]);
        assert!(
            aof.queue.lock().buf.is_empty(),
            "waits for the smaller number"
        );
        aof.submit(a, vec![Record::new(0, argv(&["SET", "k", "1"]))]);
        let buf = Bytes::from(aof.queue.lock().buf.clone());
        let first = parse_command(&buf, 0);
        let Parsed::Command(_, pos) = first else {
            panic!("{first:?}")
        };
        assert_eq!(
            parse_command(&buf, pos),
            Parsed::Command(argv(&["SET", "k", "1"]), pos + 27)
        );
    }
}
