//! The keyspace: 16 (configurable) databases, each split into N mutex-guarded shards holding
//! `key -> Entry`. It is the only code that mutates data and the only emitter of change events.
//!
//! All access goes through a [`Guard`], which locks the shards a command needs in ascending
//! `(db, shard)` order, applies lazy expiry on lookup, removes aggregates that became empty,
//! and, when dropped, delivers the change events to the registered [`KeyObserver`]s while the
//! locks are still held. [`rdb`] serializes single values in Redis's DUMP / RDB object format;
//! [`lru`] holds the arithmetic of Redis's per-value access records (OBJECT IDLETIME / FREQ);
//! [`suggest`] the FT.SUGADD suggestion dictionaries (RediSearch's `trietype0` values);
//! `capture` takes point-in-time copies of every database for BGSAVE.
//! This module depends only on `error` and `glob`.

mod capture;
pub mod events;
mod expire;
mod guard;
pub mod list;
pub mod lru;
pub mod rdb;
mod scan;
pub mod set;
pub mod stream;
pub mod suggest;
pub mod value;
pub mod zset;

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use indexmap::{IndexMap, IndexSet};
use parking_lot::Mutex;
use smallvec::SmallVec;

pub use capture::Capture;
pub use events::{KeyEvent, KeyEventKind, KeyNotice, KeyObserver};
pub use guard::{Guard, Ttl};
pub use scan::{scan_indexmap, scan_positions};
pub use value::{
    EncodingConfig, Entry, HashFields, HashLimits, HashValue, Hasher, ListValue, SetLimits,
    SetValue, StrValue, StreamValue, SuggestValue, Value, ZSetLimits, ZSetValue,
};

/// One shard: its keys, and the subset of them that carry a TTL (sampled by active expiry).
#[derive(Default)]
pub(crate) struct Shard {
    map: IndexMap<bytes::Bytes, Entry, Hasher>,
    volatile: IndexSet<bytes::Bytes, Hasher>,
    /// Keys written as a hash with field TTLs, sampled by active field expiry. May hold keys
    /// that no longer qualify; the sampling drops them.
    field_volatile: IndexSet<bytes::Bytes, Hasher>,
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
    pub stats: KeyspaceStats,
    /// Whether the periodic expiry cycle runs (DEBUG SET-ACTIVE-EXPIRE turns it off so tests
    /// can observe lazy expiry).
    pub active_expire: AtomicBool,
    /// Unix milliseconds until which no key is reclaimed (CLIENT PAUSE keeps the dataset
    /// static); 0 when expiry runs.
    expiry_suspended_until: AtomicU64,
    /// How accesses are recorded: see [`Keyspace::track_accesses`].
    tracking: AccessTracking,
    /// Which [`KeyNotice`]s observers hear of ([`KeyObserver::on_notice`]), one bit per
    /// variant; none unless someone listens (keyspace notifications), so they cost nothing.
    reported_notices: AtomicU8,
    /// The point-in-time copy in progress (BGSAVE), see [`capture`].
    capture: capture::CaptureSlot,
}

/// How key accesses are recorded (set from `maxmemory-policy`, `lfu-log-factor` and
/// `lfu-decay-time`), and the access records of Redis's shared integer objects.
struct AccessTracking {
    /// An LFU policy is in force: records hold access frequencies, not times.
    lfu: AtomicBool,
    log_factor: AtomicU32,
    decay_minutes: AtomicU32,
    /// One record per shared integer 0..9999. Redis keeps one object per such integer for
    /// all the keys holding it, so an access through any of them updates the same record.
    shared: Box<[AtomicU32]>,
}

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
            stats: KeyspaceStats::default(),
            active_expire: AtomicBool::new(true),
            expiry_suspended_until: AtomicU64::new(0),
            reported_notices: AtomicU8::new(0),
            capture: Default::default(),
            tracking: AccessTracking {
                lfu: AtomicBool::new(false),
                log_factor: AtomicU32::new(10),
                decay_minutes: AtomicU32::new(1),
                shared: (0..value::SHARED_INTEGERS)
                    .map(|_| AtomicU32::new(lru::lru_clock(unix_ms())))
                    .collect(),
            },
        }
    }

    /// Sets what key accesses record: the access time (OBJECT IDLETIME), or under an LFU
    /// `maxmemory-policy` (`lfu`) the access frequency (OBJECT FREQ) with `lfu-log-factor`
    /// and `lfu-decay-time`, as Redis does.
    pub fn track_accesses(&self, lfu: bool, log_factor: u32, decay_minutes: u32) {
        let t = &self.tracking;
        t.log_factor.store(log_factor, Ordering::Relaxed);
        t.decay_minutes.store(decay_minutes, Ordering::Relaxed);
        t.lfu.store(lfu, Ordering::Relaxed);
    }

    /// Whether any observer wants change events now ([`KeyObserver::listening`]).
    pub(crate) fn listening(&self) -> bool {
        self.observers.iter().any(|o| o.listening())
    }

    /// Sets which notices observers hear of through [`KeyObserver::on_notice`].
    pub fn report_notices(&self, notices: &[KeyNotice]) {
        let bits = notices.iter().fold(0, |bits, n| bits | (1u8 << *n as u8));
        self.reported_notices.store(bits, Ordering::Relaxed);
    }

    pub(crate) fn reports(&self, notice: KeyNotice) -> bool {
        self.reported_notices.load(Ordering::Relaxed) & (1u8 << notice as u8) != 0
    }

    /// Gives the shared integers a new value's access record under the current policy, as
    /// Redis does when it creates them at start-up.
    pub fn reset_shared_records(&self) {
        let fresh = self.fresh_record(unix_ms());
        for record in &self.tracking.shared {
            record.store(fresh, Ordering::Relaxed);
        }
    }

    /// Whether accesses update access frequencies rather than access times.
    pub fn tracks_frequency(&self) -> bool {
        self.tracking.lfu.load(Ordering::Relaxed)
    }

    /// The access record of a new value.
    fn fresh_record(&self, now_ms: u64) -> u32 {
        if self.tracks_frequency() {
            lru::lfu_new(now_ms)
        } else {
            lru::lru_clock(now_ms)
        }
    }

    /// The shared record of a shared integer value.
    fn shared_record(&self, value: &Value) -> Option<&AtomicU32> {
        match value {
            Value::Str(s) => s.shared_integer().and_then(|n| self.tracking.shared.get(n)),
            _ => None,
        }
    }

    /// The access record of `entry`'s value.
    fn record(&self, entry: &Entry) -> u32 {
        self.shared_record(&entry.value)
            .map_or(entry.lru, |shared| shared.load(Ordering::Relaxed))
    }

    /// Replaces the access record of `entry`'s value.
    fn set_record(&self, entry: &mut Entry, lru: u32) {
        match self.shared_record(&entry.value) {
            Some(shared) => shared.store(lru, Ordering::Relaxed),
            None => entry.lru = lru,
        }
    }

    /// Records an access to `entry` at `now_ms` the way the current policy wants it.
    fn record_access(&self, entry: &mut Entry, now_ms: u64) {
        let lru = if self.tracks_frequency() {
            use rand::RngExt;
            let t = &self.tracking;
            lru::lfu_accessed(
                self.record(entry),
                now_ms,
                t.log_factor.load(Ordering::Relaxed),
                t.decay_minutes.load(Ordering::Relaxed),
                rand::rng().random::<f64>(),
            )
        } else {
            lru::lru_clock(now_ms)
        };
        self.set_record(entry, lru);
    }

    /// Seconds since the last access to `entry` (OBJECT IDLETIME), reading its record as an
    /// access time.
    pub fn idle_secs(&self, entry: &Entry, now_ms: u64) -> u64 {
        lru::idle_secs(self.record(entry), now_ms)
    }

    /// The access frequency of `entry` (OBJECT FREQ), reading its record as an LFU one.
    pub fn frequency(&self, entry: &Entry, now_ms: u64) -> u8 {
        let decay = self.tracking.decay_minutes.load(Ordering::Relaxed);
        lru::lfu_counter(self.record(entry), now_ms, decay)
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

    fn shard_of(&self, key: &[u8]) -> usize {
        use std::hash::BuildHasher;
        (self.router.hash_one(key) % self.shard_count() as u64) as usize
    }

    /// Locks the shards holding `keys` in database `db`.
    pub fn lock<K: AsRef<[u8]>>(&self, db: usize, keys: &[K]) -> Guard<'_> {
        // Push loops, not collects: SmallVec's generic collect costs more than the locking
        // itself for the one-key commands that dominate.
        let mut slots: SmallVec<[(usize, usize); 4]> = SmallVec::new();
        for key in keys {
            slots.push((db, self.shard_of(key.as_ref())));
        }
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
        let mut locked: guard::Locked = SmallVec::new();
        for &(d, s) in slots.iter() {
            locked.push(((d, s), self.dbs[d].shards[s].lock()));
        }
        // A capture in progress copies these shards before anyone changes them.
        self.copy_pending(locked.iter().map(|(slot, shard)| (*slot, &**shard)));
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
        let accessed = || ks.lock(0, &[&key]).peek(&key).map(|e| e.lru);
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
        assert!(accessed() > Some(start));
        let _ = std::panic::catch_unwind(|| with_touch_mode(true, || panic!("handler bug")));
        assert!(touching(), "the mode ends even when the command panics");
    }

    /// Keys holding the same shared integer share its access record, as in Redis.
    #[test]
    fn shared_integers_share_their_access_record() {
        let ks = Keyspace::new(1, 1, Vec::new());
        let sharing = EncodingConfig {
            share_integers: true,
            hash: HashLimits::default(),
            list_max_listpack_size: -2,
            set: SetLimits::DEFAULT,
            zset: ZSetLimits::default(),
        };
        let (a, b) = (Bytes::from_static(b"a"), Bytes::from_static(b"b"));
        let mut guard = ks.lock(0, &[&a, &b]);
        for key in [&a, &b] {
            let five = Value::string(Bytes::from_static(b"5"), &sharing);
            guard.insert(key.clone(), five, Ttl::Clear);
        }
        assert!(guard.set_idle(&a, 1000));
        let now = guard.now_ms();
        let idle = |g: &mut Guard, k: &Bytes| g.peek(k).map(|e| ks.idle_secs(e, now));
        assert_eq!(idle(&mut guard, &b), Some(1000));
        guard.get(&b);
        assert_eq!(idle(&mut guard, &a), Some(0));
    }
}
