//! Snapshots of the dataset on disk (`dir/dbfilename`): taking a point-in-time image of the
//! keyspace, writing it safely, reading it back, the `save <seconds> <changes>` rules, and
//! the state INFO persistence reports (`rdb_*`).
//!
//! Writing never leaves a broken snapshot in place: the file is written as `temp-<pid>.rdb`
//! in `dir`, flushed to disk (fsync), then renamed over the old one, as Redis does.
//!
//! There is no fork: a background save starts a keyspace capture (`Keyspace::begin_capture`:
//! every shard locked for an instant, then copied shard by shard by whoever touches it
//! first) and serializes the copy on a thread of its own.
//! Which library code and search indexes go in is decided by the command layer, which also
//! applies a loaded image; this module knows the keyspace and the file format only.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Instant;

use parking_lot::Mutex;

use super::rdb_file::{self, Access, DbImage, Image, KeyImage};
use crate::keyspace::{Capture, Keyspace, unix_ms};

/// Seconds between a failed background save and the next one the `save` rules start
/// (Redis's `CONFIG_BGSAVE_RETRY_DELAY`).
const RETRY_DELAY_SECS: u64 = 5;

/// Snapshot state shared by the server: last save, background save in progress, outcome.
pub struct Snapshots {
    status: Mutex<Status>,
    /// The running background save's thread.
    job: Mutex<Option<JoinHandle<()>>>,
    /// Asks the running background save to stop (SHUTDOWN, FLUSHALL, a foreground save).
    cancel: AtomicBool,
    /// Set while the last background save failed: write commands then check whether to
    /// answer MISCONF (a flag, so the common case reads no configuration).
    failed: AtomicBool,
    /// Held while a file is written and renamed: one writer at a time.
    writing: Mutex<()>,
}

struct Status {
    /// Unix seconds of the last successful save (start-up time before any).
    last_save: u64,
    /// Unix seconds the last background save was started (`lastbgsave_try`).
    last_try: u64,
    last_bgsave_secs: i64,
    in_progress: Option<Instant>,
    saves: u64,
    last_load_loaded: u64,
    last_load_expired: u64,
}

/// What INFO persistence shows.
pub struct Info {
    pub last_save: u64,
    pub bgsave_in_progress: bool,
    pub last_bgsave_ok: bool,
    pub last_bgsave_secs: i64,
    pub current_bgsave_secs: i64,
    pub saves: u64,
    pub last_load_loaded: u64,
    pub last_load_expired: u64,
}

impl Default for Snapshots {
    fn default() -> Self {
        Snapshots {
            status: Mutex::new(Status {
                last_save: unix_ms() / 1000,
                last_try: 0,
                last_bgsave_secs: -1,
                in_progress: None,
                saves: 0,
                last_load_loaded: 0,
                last_load_expired: 0,
            }),
            job: Mutex::new(None),
            cancel: AtomicBool::new(false),
            failed: AtomicBool::new(false),
            writing: Mutex::new(()),
        }
    }
}

/// Which access record keys are saved with, from `maxmemory-policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessMode {
    None,
    Lru,
    Lfu,
}

impl AccessMode {
    pub fn of_policy(policy: &str) -> AccessMode {
        if policy.ends_with("-lru") {
            AccessMode::Lru
        } else if policy.ends_with("-lfu") {
            AccessMode::Lfu
        } else {
            AccessMode::None
        }
    }
}

/// Ends `capture` and returns its keys as saved: the live entries of every non-empty
/// database at the capture's moment, with their access records.
pub fn captured_keys(ks: &Keyspace, capture: &Capture, mode: AccessMode) -> Vec<DbImage> {
    let now = capture.now_ms();
    ks.finish_capture(capture)
        .into_iter()
        .enumerate()
        .filter(|(_, entries)| !entries.is_empty())
        .map(|(db, entries)| DbImage {
            db,
            keys: entries
                .into_iter()
                .map(|(key, entry)| KeyImage {
                    access: match mode {
                        AccessMode::None => Access::None,
                        AccessMode::Lru => Access::IdleSecs(ks.idle_secs(&entry, now)),
                        AccessMode::Lfu => Access::Freq(ks.frequency(&entry, now)),
                    },
                    key,
                    value: entry.value,
                    expire_at: entry.expire_at,
                })
                .collect(),
        })
        .collect()
}

/// Writes `image` to `dir/name` through `dir/temp-<pid>.rdb`: written, fsynced, renamed.
/// Returns the file's size. On failure the temp file is removed and any old snapshot is
/// left as it was.
pub fn write_file(
    dir: &Path,
    name: &str,
    image: &Image,
    used_mem: u64,
    cancel: &AtomicBool,
) -> io::Result<u64> {
    let temp = dir.join(format!("temp-{}.rdb", std::process::id()));
    let result = write_temp(&temp, image, used_mem, cancel)
        .and_then(|size| std::fs::rename(&temp, dir.join(name)).map(|()| size));
    match result {
        Ok(size) => {
            // The rename itself is durable once the directory is synced.
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
            Ok(size)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            Err(e)
        }
    }
}

fn write_temp(temp: &Path, image: &Image, used_mem: u64, cancel: &AtomicBool) -> io::Result<u64> {
    let file = File::create(temp).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "Failed opening the temp RDB file {} (in server root dir {}) for saving: {e}",
                temp.file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default(),
                temp.parent()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            ),
        )
    })?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let size = rdb_file::write(&mut out, image, used_mem, false, cancel)?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(size)
}

/// Reads and decodes the snapshot at `path`: `Ok(None)` when there is none.
pub fn read_file(
    path: &Path,
    config: &crate::keyspace::EncodingConfig,
    databases: usize,
) -> Result<Option<rdb_file::Loaded>, String> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("Fatal error loading the DB: {e}. Exiting.")),
    };
    rdb_file::read(&bytes, config, databases, unix_ms())
        .map(Some)
        .map_err(|e| e.to_string())
}

/// The snapshot file's path: `dir/dbfilename`.
pub fn path(dir: &str, dbfilename: &str) -> PathBuf {
    Path::new(dir).join(dbfilename)
}

/// The `save` option's rules: `(seconds, changes)` pairs.
pub fn rules(save: &str) -> Vec<(u64, u64)> {
    let numbers: Vec<u64> = save
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    numbers.chunks_exact(2).map(|p| (p[0], p[1])).collect()
}

impl Snapshots {
    /// Marks a background save as started; false if one is already running.
    pub fn begin_background(&self) -> bool {
        let mut s = self.status.lock();
        if s.in_progress.is_some() {
            return false;
        }
        s.in_progress = Some(Instant::now());
        s.last_try = unix_ms() / 1000;
        s.saves += 1;
        true
    }

    /// Runs `work` (which writes the file) on a thread of its own and records its outcome.
    /// `begin_background` must have returned true.
    pub fn spawn(self: &Arc<Self>, work: impl FnOnce(&AtomicBool) -> bool + Send + 'static) {
        let mut job = self.job.lock();
        let snapshots = self.clone();
        let spawned = std::thread::Builder::new()
            .name("bgsave".into())
            .spawn(move || {
                let ok = {
                    let _writing = snapshots.writing.lock();
                    work(&snapshots.cancel)
                };
                // A save stopped on purpose (SHUTDOWN, FLUSHALL) is no failure, as Redis
                // does not count a child it killed itself.
                let cancelled = snapshots.cancel.load(Ordering::Relaxed);
                snapshots.end_background(ok, cancelled);
            });
        match spawned {
            Ok(handle) => *job = Some(handle),
            Err(e) => {
                tracing::warn!("Can't save in background: {e}");
                drop(job);
                self.end_background(false, false);
            }
        }
    }

    fn end_background(&self, ok: bool, cancelled: bool) {
        let mut s = self.status.lock();
        if let Some(started) = s.in_progress.take() {
            s.last_bgsave_secs = started.elapsed().as_secs() as i64;
        }
        if ok {
            s.last_save = unix_ms() / 1000;
        }
        if !cancelled {
            self.failed.store(!ok, Ordering::Relaxed);
        }
    }

    /// Stops a running background save (its temp file is removed, the old snapshot stays)
    /// and waits for it.
    pub fn cancel_background(&self) {
        let handle = self.job.lock().take();
        if let Some(handle) = handle {
            self.cancel.store(true, Ordering::Relaxed);
            let _ = handle.join();
            self.cancel.store(false, Ordering::Relaxed);
        }
    }

    /// Runs a foreground save's `work` (SAVE, SHUTDOWN, FLUSHALL, DEBUG RELOAD) and records
    /// a success as Redis does: the save time, and the last-save status cleared.
    pub fn run_foreground(&self, work: impl FnOnce(&AtomicBool) -> bool) -> bool {
        self.status.lock().saves += 1;
        let ok = {
            let _writing = self.writing.lock();
            work(&AtomicBool::new(false))
        };
        if ok {
            self.status.lock().last_save = unix_ms() / 1000;
            self.failed.store(false, Ordering::Relaxed);
        }
        ok
    }

    pub fn in_progress(&self) -> bool {
        self.status.lock().in_progress.is_some()
    }

    /// Whether the last background save failed.
    pub fn last_failed(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }

    pub fn last_save(&self) -> u64 {
        self.status.lock().last_save
    }

    /// Whether the timer should start a background save now: a `save` rule (`seconds`
    /// passed since the last save with at least `changes` changes) holds, and the last
    /// attempt did not fail within the retry delay. Returns the log line announcing it.
    pub fn due(&self, rules: &[(u64, u64)], dirty: u64) -> Option<String> {
        let s = self.status.lock();
        if s.in_progress.is_some() {
            return None;
        }
        let now = unix_ms() / 1000;
        let may_retry = !self.failed.load(Ordering::Relaxed)
            || now.saturating_sub(s.last_try) > RETRY_DELAY_SECS;
        rules
            .iter()
            .find(|&&(seconds, changes)| {
                dirty >= changes && now.saturating_sub(s.last_save) > seconds && may_retry
            })
            .map(|(seconds, changes)| format!("{changes} changes in {seconds} seconds. Saving..."))
    }

    pub fn record_load(&self, loaded: u64, expired: u64) {
        let mut s = self.status.lock();
        s.last_load_loaded = loaded;
        s.last_load_expired = expired;
    }

    pub fn info(&self) -> Info {
        let s = self.status.lock();
        Info {
            last_save: s.last_save,
            bgsave_in_progress: s.in_progress.is_some(),
            last_bgsave_ok: !self.failed.load(Ordering::Relaxed),
            last_bgsave_secs: s.last_bgsave_secs,
            current_bgsave_secs: s
                .in_progress
                .map_or(-1, |started| started.elapsed().as_secs() as i64),
            saves: s.saves,
            last_load_loaded: s.last_load_loaded,
            last_load_expired: s.last_load_expired,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_rules_parse() {
        assert_eq!(rules("3600 1 300 100"), vec![(3600, 1), (300, 100)]);
        assert!(rules("").is_empty());
    }

    #[test]
    fn rules_fire_on_changes_and_time() {
        let s = Snapshots::default();
        s.status.lock().last_save -= 10;
        assert!(s.due(&[(5, 2)], 1).is_none(), "too few changes");
        assert!(s.due(&[(60, 1)], 5).is_none(), "too soon");
        assert_eq!(
            s.due(&[(60, 1), (5, 2)], 2).as_deref(),
            Some("2 changes in 5 seconds. Saving...")
        );
        assert!(s.begin_background());
        assert!(!s.begin_background(), "one at a time");
        assert!(s.due(&[(5, 2)], 2).is_none(), "in progress");
    }

    #[test]
    fn a_cancelled_save_is_no_failure() {
        let s = Arc::new(Snapshots::default());
        assert!(s.begin_background());
        s.spawn(|cancel| {
            while !cancel.load(Ordering::Relaxed) {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            false
        });
        s.cancel_background();
        assert!(!s.in_progress());
        assert!(!s.last_failed());
        assert!(s.begin_background());
        s.spawn(|_| false);
        while s.in_progress() {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert!(s.last_failed());
        assert!(s.info().last_bgsave_secs >= 0);
    }

    #[test]
    fn failed_saves_leave_the_old_file() {
        let dir = std::env::temp_dir().join(format!("ferro-snap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("dump.rdb"), b"old").unwrap();
        let cancel = AtomicBool::new(true);
        let image = Image {
            dbs: vec![DbImage {
                db: 0,
                keys: (0..100_000)
                    .map(|i| KeyImage {
                        key: bytes::Bytes::from(format!("key:{i}")),
                        value: crate::keyspace::Value::Str(crate::keyspace::StrValue::text(
                            bytes::Bytes::from_static(b"v"),
                        )),
                        expire_at: None,
                        access: Access::None,
                    })
                    .collect(),
            }],
            ..Image::default()
        };
        let err = write_file(&dir, "dump.rdb", &image, 0, &cancel).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::Interrupted);
        assert_eq!(std::fs::read(dir.join("dump.rdb")).unwrap(), b"old");
        let leftovers = std::fs::read_dir(&dir).unwrap().count();
        assert_eq!(leftovers, 1, "temp file removed");
        cancel.store(false, Ordering::Relaxed);
        write_file(&dir, "dump.rdb", &image, 0, &cancel).unwrap();
        assert!(
            std::fs::read(dir.join("dump.rdb"))
                .unwrap()
                .starts_with(b"REDIS0010")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
