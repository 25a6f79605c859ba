//! The keyspace: 16 (configurable) databases, each split into N mutex-guarded shards holding
//! `key -> Entry`. It is the only code that mutates data and the only emitter of change events.
//!
//! All access goes through a [`Guard`], which locks the shards a command needs in ascending
//! `(db, shard)` order, applies lazy expiry on lookup, removes aggregates that became empty,
//! and, when dropped, delivers the change events to the registered [`KeyObserver`]s while the
//! locks are still held. [`rdb`] serializes single values in Redis's DUMP / RDB object format.
//! This module depends only on `error` and `glob`.

pub mod events;
mod expire;
mod guard;
pub mod rdb;
mod scan;
pub mod value;

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use indexmap::{IndexMap, IndexSet};
use parking_lot::Mutex;
use smallvec::SmallVec;

pub use events::{KeyEvent, KeyEventKind, KeyObserver};
pub use guard::{Guard, Ttl};
pub use scan::scan_indexmap;
pub use value::{
    EncodingConfig, Entry, Frequency, HashFields, HashLimits, HashValue, Hasher, StrValue, Value,
};

/// One shard: its keys, and the subset of them that carry a TTL (sampled by active expiry).
#[derive(Default)]
pub(crate) struct Shard {
    map: IndexMap<bytes::Bytes, Entry, Hasher>,
    volatile: IndexSet<bytes::Bytes, Hasher>,
}

struct Db {
    shards: Box<[Mutex<Shard>]>,
}

/// Counters INFO reports for the keyspace.
#[derive(Default)]
pub struct KeyspaceStats {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub expired_keys: AtomicU64,
}

impl KeyspaceStats {
    pub fn reset(&self) {
        for c in [&self.hits, &self.misses, &self.expired_keys] {
            c.store(0, Ordering::Relaxed);
        }
    }
}

/// All databases.
pub struct Keyspace {
    dbs: Box<[Db]>,
    observers: Vec<Arc<dyn KeyObserver>>,
    router: foldhash::fast::FixedState,
    started: Instant,
    pub stats: KeyspaceStats,
    /// Whether the periodic expiry cycle runs (DEBUG SET-ACTIVE-EXPIRE turns it off so tests
    /// can observe lazy expiry).
    pub active_expire: AtomicBool,
    /// Unix milliseconds until which no key is reclaimed (CLIENT PAUSE keeps the dataset
    /// static); 0 when expiry runs.
    expiry_suspended_until: AtomicU64,
    /// How accesses are recorded: see [`Keyspace::track_accesses`].
    tracking: AccessTracking,
}

/// What a key access updates, set from `maxmemory-policy`, `lfu-log-factor` and
/// `lfu-decay-time`.
#[derive(Default)]
struct AccessTracking {
    frequency: AtomicBool,
    log_factor: AtomicU32,
    decay_minutes: AtomicU32,
}

/// The access clock's reading at start-up: about 34 years of seconds, the longest idle time a
/// key can be given.
const CLOCK_START: u32 = 1 << 30;

thread_local! {
    /// Set while a CLIENT NO-TOUCH connection's command runs on this thread (handlers are
    /// synchronous, so the command cannot move to another thread meanwhile).
    static NO_TOUCH: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with key access-time updates switched off when `no_touch` is set
/// (CLIENT NO-TOUCH). Guards created inside `f` read and write without touching.
pub fn with_touch_mode<R>(no_touch: bool, f: impl FnOnce() -> R) -> R {
    if !no_touch {
        return f();
    }
    /// Restores the default even when `f` panics.
    struct Restore;
    impl Drop for Restore {
        fn drop(&mut self) {
            NO_TOUCH.set(false);
        }
    }
    NO_TOUCH.set(true);
    let _restore = Restore;
    f()
}

/// Whether lookups on this thread refresh access times right now.
fn touching() -> bool {
    !NO_TOUCH.get()
}

/// Redis's LFU clock: Unix time in minutes, modulo 2^16.
pub fn lfu_minute() -> u16 {
    (unix_ms() / 60_000) as u16
}

/// Current Unix time in milliseconds.
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Keyspace {
    /// A keyspace of `databases` databases with `shards` shards each (both at least 1).
    pub fn new(databases: usize, shards: usize, observers: Vec<Arc<dyn KeyObserver>>) -> Self {
        let dbs = (0..databases.max(1))
            .map(|_| Db {
                shards: (0..shards.max(1))
                    .map(|_| Mutex::new(Shard::default()))
                    .collect(),
            })
            .collect();
        Keyspace {
            dbs,
            observers,
            router: foldhash::fast::FixedState::with_seed(0x5eed),
            started: Instant::now(),
            stats: KeyspaceStats::default(),
            active_expire: AtomicBool::new(true),
            expiry_suspended_until: AtomicU64::new(0),
            tracking: AccessTracking::default(),
        }
    }

    /// Sets what key accesses record: the access time (OBJECT IDLETIME), or under an LFU
    /// `maxmemory-policy` (`frequency`) the access frequency counter (OBJECT FREQ) with
    /// `lfu-log-factor` and `lfu-decay-time`, as Redis does.
    pub fn track_accesses(&self, frequency: bool, log_factor: u32, decay_minutes: u32) {
        let t = &self.tracking;
        t.log_factor.store(log_factor, Ordering::Relaxed);
        t.decay_minutes.store(decay_minutes, Ordering::Relaxed);
        t.frequency.store(frequency, Ordering::Relaxed);
    }

    /// Whether accesses update the frequency counter rather than the access time.
    pub fn tracks_frequency(&self) -> bool {
        self.tracking.frequency.load(Ordering::Relaxed)
    }

    /// A key's access frequency now (OBJECT FREQ): its counter after decay.
    pub fn frequency(&self, entry: &Entry) -> u8 {
        let decay = self.tracking.decay_minutes.load(Ordering::Relaxed);
        entry.frequency.current(lfu_minute(), decay)
    }

    /// Records an access to `entry` the way the current policy wants it.
    fn record_access(&self, entry: &mut Entry) {
        if !self.tracks_frequency() {
            entry.accessed = self.clock();
            return;
        }
        use rand::RngExt;
        let t = &self.tracking;
        entry.frequency.record(
            lfu_minute(),
            t.log_factor.load(Ordering::Relaxed),
            t.decay_minutes.load(Ordering::Relaxed),
            rand::rng().random::<f64>(),
        );
    }

    /// Suspends reclaiming expired keys until `until_ms` (Unix milliseconds; 0 resumes at
    /// once), as Redis does while clients are paused: expired keys read as missing but stay
    /// in place, counted by DBSIZE, until expiry resumes.
    pub fn suspend_expiry_until(&self, until_ms: u64) {
        self.expiry_suspended_until
            .store(until_ms, Ordering::SeqCst);
    }

    /// Whether expired keys are left in place at `now_ms`.
    pub fn expiry_suspended(&self, now_ms: u64) -> bool {
        now_ms < self.expiry_suspended_until.load(Ordering::Relaxed)
    }

    pub fn databases(&self) -> usize {
        self.dbs.len()
    }

    pub fn shard_count(&self) -> usize {
        self.dbs[0].shards.len()
    }

    /// The clock of `Entry::accessed`, in seconds. It starts at `CLOCK_START` rather than 0
    /// so that RESTORE ... IDLETIME can date a key's last access to before start-up.
    pub fn clock(&self) -> u32 {
        CLOCK_START.saturating_add(self.started.elapsed().as_secs() as u32)
    }

    fn shard_of(&self, key: &[u8]) -> usize {
        use std::hash::BuildHasher;
        (self.router.hash_one(key) % self.shard_count() as u64) as usize
    }

    /// Locks the shards holding `keys` in database `db`.
    pub fn lock<K: AsRef<[u8]>>(&self, db: usize, keys: &[K]) -> Guard<'_> {
        let mut slots: SmallVec<[(usize, usize); 4]> = keys
            .iter()
            .map(|k| (db, self.shard_of(k.as_ref())))
            .collect();
        self.lock_slots(db, &mut slots)
    }

    /// Locks the shards of keys that live in different databases (MOVE, COPY ... DB).
    /// The guard starts on the first key's database.
    pub fn lock_across<K: AsRef<[u8]>>(&self, keys: &[(usize, K)]) -> Guard<'_> {
        let mut slots: SmallVec<[(usize, usize); 4]> = keys
            .iter()
            .map(|(db, k)| (*db, self.shard_of(k.as_ref())))
            .collect();
        let first = keys.first().map_or(0, |(db, _)| *db);
        self.lock_slots(first, &mut slots)
    }

    /// Locks every shard of database `db` (KEYS, SCAN, DBSIZE, FLUSHDB, RANDOMKEY).
    pub fn lock_db(&self, db: usize) -> Guard<'_> {
        let mut slots: SmallVec<[(usize, usize); 4]> =
            (0..self.shard_count()).map(|s| (db, s)).collect();
        self.lock_slots(db, &mut slots)
    }

    /// Locks every shard of every database (FLUSHALL, SWAPDB, INFO keyspace).
    pub fn lock_all(&self) -> Guard<'_> {
        let mut slots: SmallVec<[(usize, usize); 4]> = (0..self.databases())
            .flat_map(|db| (0..self.shard_count()).map(move |s| (db, s)))
            .collect();
        self.lock_slots(0, &mut slots)
    }

    fn lock_slots(&self, db: usize, slots: &mut SmallVec<[(usize, usize); 4]>) -> Guard<'_> {
        // Ascending (db, shard) order is the lock order that makes multi-shard writes
        // deadlock-free.
        slots.sort_unstable();
        slots.dedup();
        let locked = slots
            .iter()
            .map(|&(d, s)| ((d, s), self.dbs[d].shards[s].lock()))
            .collect();
        Guard::new(self, db, locked)
    }

    /// Keys and keys-with-TTL per database, without taking more than one shard lock at a time
    /// (INFO keyspace, DBSIZE-like statistics).
    pub fn db_sizes(&self) -> Vec<(usize, usize)> {
        self.dbs
            .iter()
            .map(|db| {
                db.shards.iter().fold((0, 0), |(k, v), s| {
                    let s = s.lock();
                    (k + s.map.len(), v + s.volatile.len())
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod touch_tests {
    use std::time::Duration;

    use bytes::Bytes;

    use super::*;

    #[test]
    fn no_touch_mode_leaves_access_times_alone() {
        let ks = Keyspace::new(1, 1, Vec::new());
        let key = Bytes::from_static(b"k");
        let accessed = || ks.lock(0, &[&key]).peek(&key).map(|e| e.accessed);
        ks.lock(0, &[&key]).insert(
            key.clone(),
            Value::Str(StrValue::text(Bytes::from_static(b"v"))),
            Ttl::Clear,
        );
        let start = accessed().expect("key exists");
        // The access clock counts whole seconds.
        std::thread::sleep(Duration::from_millis(1100));
        with_touch_mode(true, || {
            let mut guard = ks.lock(0, &[&key]);
            assert!(guard.get(&key).is_some());
            assert!(guard.get_mut(&key).is_some());
        });
        assert_eq!(accessed(), Some(start));
        assert!(touching(), "the mode ends with the command");
        let _ = ks.lock(0, &[&key]).get(&key);
        assert_eq!(accessed(), Some(start + 1));
        let _ = std::panic::catch_unwind(|| with_touch_mode(true, || panic!("handler bug")));
        assert!(touching(), "the mode ends even when the command panics");
    }
}
