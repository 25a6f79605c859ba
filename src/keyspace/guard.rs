//! `Guard`: a command's locked view of some shards. Every read and write of a key goes through
//! it; it applies lazy expiry, records change events and delivers them when dropped.
//!
//! Events are only recorded when something reads them: registered observers, or the
//! empty-aggregate check after a write through mutable access (HDEL of the last field deletes
//! the key). A plain GET or SET with no observers records nothing and allocates nothing here.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use parking_lot::MutexGuard;
use smallvec::SmallVec;

use super::events::{KeyEvent, KeyEventKind, KeyNotice};
use super::value::{Entry, Value};
use super::{Keyspace, Shard, unix_ms};

/// What a write does to the key's time to live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ttl {
    /// Keep the existing expiry (SET KEEPTTL, HSET, APPEND ...).
    Keep,
    /// Remove any expiry (plain SET).
    Clear,
    /// Expire at this Unix time in milliseconds.
    At(u64),
}

/// What a write does with the access record of the value it replaces.
enum Record {
    /// Overwrite: under an LFU policy the new value takes over the old one's frequency.
    Inherit,
    /// A new value with a new record.
    Fresh,
    /// A moved value with its own record.
    Keep(u32),
}

pub(super) type Locked<'a> = SmallVec<[((usize, usize), MutexGuard<'a, Shard>); 4]>;

/// Locked shards plus the events of the writes made through them.
pub struct Guard<'a> {
    ks: &'a Keyspace,
    db: usize,
    locked: Locked<'a>,
    events: Vec<KeyEvent>,
    /// Set once a write may have left an empty aggregate, which `finish` must delete. From
    /// then on events are recorded even without observers.
    check_empty: bool,
    now: u64,
    /// Whether lookups refresh access times (off under CLIENT NO-TOUCH).
    touch: bool,
    /// The (db, key)s whose access this command has recorded: a command looks a key up once
    /// in Redis, so its later reads and writes of that key through this guard (a write after
    /// the lookup that checked the type) do not count again, which matters to LFU counters.
    accessed_keys: SmallVec<[(usize, Bytes); 2]>,
}

impl<'a> Guard<'a> {
    pub(super) fn new(ks: &'a Keyspace, db: usize, locked: Locked<'a>) -> Self {
        Guard {
            ks,
            db,
            locked,
            events: Vec::new(),
            check_empty: false,
            now: unix_ms(),
            touch: super::touching(),
            accessed_keys: SmallVec::new(),
        }
    }

    /// The time this guard treats as "now" (one clock reading per command, as Redis does).
    pub fn now_ms(&self) -> u64 {
        self.now
    }

    /// The database key operations apply to.
    pub fn db(&self) -> usize {
        self.db
    }

    /// Switches to another database whose shards this guard holds (MOVE, COPY ... DB).
    pub fn select(&mut self, db: usize) {
        self.db = db;
    }

    pub fn keyspace(&self) -> &'a Keyspace {
        self.ks
    }

    fn shard_index(&self, key: &[u8]) -> usize {
        let slot = (self.db, self.ks.shard_of(key));
        // A handler touching a key outside the shards it locked is a bug in that handler.
        self.locked
            .iter()
            .position(|(s, _)| *s == slot)
            .unwrap_or_else(|| panic!("shard {slot:?} used without its lock"))
    }

    fn shard(&mut self, key: &[u8]) -> &mut Shard {
        let i = self.shard_index(key);
        &mut self.locked[i].1
    }

    /// Records a change, if observers or the empty-aggregate check will look at it.
    fn emit(&mut self, key: &Bytes, kind: KeyEventKind) {
        if kind == KeyEventKind::Expired {
            self.note(KeyNotice::Expired, key);
        }
        if self.check_empty || self.ks.listening() {
            self.events.push(KeyEvent {
                db: self.db,
                key: key.clone(),
                kind,
            });
        }
    }

    /// Index of a live key in its shard, reclaiming it first if it has expired.
    fn live_index(&mut self, key: &[u8]) -> Option<(usize, usize)> {
        let now = self.now;
        let si = self.shard_index(key);
        let shard = &mut self.locked[si].1;
        let idx = shard.map.get_index_of(key)?;
        let expired = shard.map[idx].expire_at.is_some_and(|at| at <= now);
        if !expired {
            return Some((si, idx));
        }
        if self.ks.expiry_suspended(now) {
            // Logically gone, physically kept until expiry resumes (CLIENT PAUSE).
            return None;
        }
        let (k, _) = shard.map.swap_remove_index(idx)?;
        shard.volatile.swap_remove(key);
        self.ks.stats.expired_keys.fetch_add(1, Ordering::Relaxed);
        self.emit(&k, KeyEventKind::Expired);
        None
    }

    /// A read lookup: counts a keyspace hit or miss and records the access.
    pub fn get(&mut self, key: &[u8]) -> Option<&Value> {
        match self.live_index(key) {
            Some((si, idx)) => {
                self.ks.stats.hits.fetch_add(1, Ordering::Relaxed);
                Some(&self.accessed(si, idx).value)
            }
            None => {
                self.count_miss(key, true);
                None
            }
        }
    }

    /// Counts a keyspace miss; `announce`: a `keymiss` notice too (not for OBJECT).
    fn count_miss(&mut self, key: &[u8], announce: bool) {
        self.ks.stats.misses.fetch_add(1, Ordering::Relaxed);
        if announce {
            self.note(KeyNotice::Missed, key);
        }
    }

    /// Looks at a live key without counting a hit or touching its access time
    /// (TYPE, OBJECT, TTL ...).
    pub fn peek(&mut self, key: &[u8]) -> Option<&Entry> {
        let (si, idx) = self.live_index(key)?;
        Some(&self.locked[si].1.map[idx])
    }

    /// A read lookup that counts a keyspace hit or miss but leaves the access time alone
    /// (EXISTS, TYPE, TTL, OBJECT: Redis's `LOOKUP_NOTOUCH` reads).
    pub fn inspect(&mut self, key: &[u8]) -> Option<&Entry> {
        self.inspect_with(key, true)
    }

    /// [`Guard::inspect`] whose miss is not announced as a `keymiss` (OBJECT, as in Redis).
    pub fn inspect_unannounced(&mut self, key: &[u8]) -> Option<&Entry> {
        self.inspect_with(key, false)
    }

    fn inspect_with(&mut self, key: &[u8], announce: bool) -> Option<&Entry> {
        let Some((si, idx)) = self.live_index(key) else {
            self.count_miss(key, announce);
            return None;
        };
        self.ks.stats.hits.fetch_add(1, Ordering::Relaxed);
        Some(&self.locked[si].1.map[idx])
    }

    /// Makes a live key look last accessed `secs` seconds ago (RESTORE ... IDLETIME). Returns
    /// false when the key is missing.
    pub fn set_idle(&mut self, key: &[u8], secs: u64) -> bool {
        let lru = super::lru::with_idle(secs, self.now);
        self.set_record(key, lru)
    }

    /// Sets a live key's access frequency counter (RESTORE ... FREQ). Returns false when the
    /// key is missing.
    pub fn set_frequency(&mut self, key: &[u8], counter: u8) -> bool {
        let lru = super::lru::lfu_with_counter(counter, self.now);
        self.set_record(key, lru)
    }

    fn set_record(&mut self, key: &[u8], lru: u32) -> bool {
        let Some((si, idx)) = self.live_index(key) else {
            return false;
        };
        self.ks.set_record(&mut self.locked[si].1.map[idx], lru);
        true
    }

    pub fn contains(&mut self, key: &[u8]) -> bool {
        self.live_index(key).is_some()
    }

    /// A write command's lookup (Redis's `lookupKeyWrite`): the live entry, after recording an
    /// access to it, without counting a keyspace hit or miss. Write commands look up before
    /// they check the type or parse the old value, so the access counts even when they then
    /// fail (WRONGTYPE, not an integer ...).
    pub fn lookup_write(&mut self, key: &[u8]) -> Option<&Entry> {
        let (si, idx) = self.live_index(key)?;
        Some(self.accessed(si, idx))
    }

    /// [`Guard::lookup_write`] for its side effect: whether the key is live.
    pub fn touch(&mut self, key: &[u8]) -> bool {
        self.lookup_write(key).is_some()
    }

    /// The entry at `(si, idx)` after recording an access to it (unless CLIENT NO-TOUCH, or
    /// this command already did).
    fn accessed(&mut self, si: usize, idx: usize) -> &mut Entry {
        let db = self.db;
        let map = &mut self.locked[si].1.map;
        if self.touch
            && let Some((key, entry)) = map.get_index_mut(idx)
            && !self.accessed_keys.iter().any(|(d, k)| *d == db && k == key)
        {
            self.accessed_keys.push((db, key.clone()));
            self.ks.record_access(entry, self.now);
        }
        &mut map[idx]
    }

    /// A persistent entry for a value created now.
    fn new_entry(&self, value: Value) -> Entry {
        Entry {
            value,
            expire_at: None,
            lru: self.ks.fresh_record(self.now),
        }
    }

    /// Mutable access for a write; the key is reported as written.
    pub fn get_mut(&mut self, key: &Bytes) -> Option<&mut Value> {
        let (si, idx) = self.live_index(key)?;
        self.check_empty = true;
        self.emit(key, KeyEventKind::Written);
        Some(&mut self.accessed(si, idx).value)
    }

    /// Mutable access for bookkeeping Redis does not count as a change of the key (a stream
    /// group's cursor and PEL, a consumer's seen time): no written event, so neither WATCH
    /// nor blocked clients hear of it.
    pub fn get_mut_quiet(&mut self, key: &[u8]) -> Option<&mut Value> {
        let (si, idx) = self.live_index(key)?;
        Some(&mut self.accessed(si, idx).value)
    }

    /// Mutable access, creating the key with `make()` when it is missing.
    pub fn get_or_insert_with(&mut self, key: &Bytes, make: impl FnOnce() -> Value) -> &mut Value {
        let live = self.live_index(key);
        self.check_empty = true;
        self.emit(key, KeyEventKind::Written);
        if let Some((si, idx)) = live {
            return &mut self.accessed(si, idx).value;
        }
        let entry = self.new_entry(make());
        self.note(KeyNotice::Created, key);
        let shard = self.shard(key);
        // Over an expired entry left in place while expiry is suspended, which had a TTL.
        shard.volatile.swap_remove(key);
        let (idx, _) = shard.map.insert_full(key.clone(), entry);
        &mut shard.map[idx].value
    }

    /// Stores `value` under `key`, overwriting any old value (SET, INCR, APPEND ...). Returns
    /// the old live entry. As in Redis, under an LFU policy the new value takes over the old
    /// one's access frequency.
    pub fn insert(&mut self, key: Bytes, value: Value, ttl: Ttl) -> Option<Entry> {
        self.store(key, value, ttl, Record::Inherit)
    }

    /// Stores `value` under `key` as a new value: any old one is dropped with its access
    /// history (COPY, RESTORE: Redis deletes the old key, then adds).
    pub fn replace(&mut self, key: Bytes, value: Value, ttl: Ttl) -> Option<Entry> {
        self.store(key, value, ttl, Record::Fresh)
    }

    /// Stores an entry taken from another key or database (MOVE): its value, expiry and
    /// access record travel with it, as Redis moves the object itself.
    pub fn put_moved(&mut self, key: Bytes, entry: Entry) -> Option<Entry> {
        let ttl = entry.expire_at.map_or(Ttl::Clear, Ttl::At);
        self.store(key, entry.value, ttl, Record::Keep(entry.lru))
    }

    /// Writes `value` under `key`. A live old entry is overwritten in its slot (one lookup,
    /// returned by value); otherwise the key is inserted.
    fn store(&mut self, key: Bytes, value: Value, ttl: Ttl, record: Record) -> Option<Entry> {
        // Both are settled in `finish`: empty aggregates are deleted, hashes with field TTLs
        // are registered for active field expiry.
        if value.is_empty_aggregate() || matches!(&value, Value::Hash(h) if h.has_field_ttls()) {
            self.check_empty = true;
        }
        let live = self.live_index(&key);
        let mut entry = self.new_entry(value);
        if let Some((si, idx)) = live {
            // Redis looks the old value up for writing first, which counts as an access.
            let ks = self.ks;
            let old = self.accessed(si, idx);
            entry.expire_at = old.expire_at;
            if matches!(record, Record::Inherit) && ks.tracks_frequency() {
                ks.set_record(&mut entry, ks.record(old));
            }
        }
        if let Record::Keep(lru) = record {
            entry.lru = lru;
        }
        entry.expire_at = match ttl {
            Ttl::Keep => entry.expire_at,
            Ttl::Clear => None,
            Ttl::At(at) => Some(at),
        };
        let has_ttl = entry.expire_at.is_some();
        // Redis adds the key anew unless an ordinary write overwrites a live one.
        if live.is_none() || !matches!(record, Record::Inherit) {
            self.note(KeyNotice::Created, &key);
        }
        let old = match live {
            Some((si, idx)) => {
                let shard = &mut self.locked[si].1;
                let old = std::mem::replace(&mut shard.map[idx], entry);
                // `volatile` holds exactly the keys with a TTL.
                if has_ttl {
                    shard.volatile.insert(key.clone());
                } else if old.expire_at.is_some() {
                    shard.volatile.swap_remove(&key);
                }
                Some(old)
            }
            None => {
                let shard = self.shard(&key);
                // Possibly over an expired entry left in place while expiry is suspended,
                // which had a TTL; it is replaced but not returned.
                if has_ttl {
                    shard.volatile.insert(key.clone());
                } else {
                    shard.volatile.swap_remove(&key);
                }
                shard.map.insert(key.clone(), entry);
                None
            }
        };
        self.emit(&key, KeyEventKind::Written);
        old
    }

    /// Removes a live key, reporting it deleted. Returns its entry.
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let (si, idx) = self.live_index(key)?;
        let shard = &mut self.locked[si].1;
        let (k, entry) = shard.map.swap_remove_index(idx)?;
        shard.volatile.swap_remove(key);
        self.emit(&k, KeyEventKind::Deleted);
        Some(entry)
    }

    /// The expiry of a live key: `None` if the key is missing, `Some(None)` if it is persistent.
    pub fn expire_at(&mut self, key: &[u8]) -> Option<Option<u64>> {
        self.peek(key).map(|e| e.expire_at)
    }

    /// Sets or clears the expiry of a live key. Returns false when the key is missing.
    /// Changing only the TTL is not a value change, so no event is emitted.
    pub fn set_expire(&mut self, key: &Bytes, at: Option<u64>) -> bool {
        let Some((si, idx)) = self.live_index(key) else {
            return false;
        };
        let shard = &mut self.locked[si].1;
        let old = std::mem::replace(&mut shard.map[idx].expire_at, at);
        if at.is_some() {
            shard.volatile.insert(key.clone());
        } else {
            shard.volatile.swap_remove(key);
        }
        // Setting a time to live, or removing one, changes the key as WATCH sees it in Redis.
        if at.is_some() || old.is_some() {
            self.emit(key, KeyEventKind::Written);
        }
        true
    }

    /// Moves `from` to `to`, overwriting `to` and keeping the TTL and access record. False if
    /// `from` is missing.
    pub fn rename(&mut self, from: &Bytes, to: &Bytes) -> bool {
        let Some(entry) = self.remove(from) else {
            return false;
        };
        self.put_moved(to.clone(), entry);
        if let Some(last) = self.events.last_mut() {
            last.kind = KeyEventKind::Renamed { from: from.clone() };
        }
        true
    }

    /// Number of keys in the locked shards of the current database (expired ones included
    /// until reclaimed, as in Redis).
    pub fn len(&self) -> usize {
        self.current_shards().map(|s| s.map.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of keys with a TTL in the locked shards of the current database.
    pub fn volatile_len(&self) -> usize {
        self.current_shards().map(|s| s.volatile.len()).sum()
    }

    fn current_shards(&self) -> impl Iterator<Item = &Shard> {
        let db = self.db;
        self.locked
            .iter()
            .filter(move |((d, _), _)| *d == db)
            .map(|(_, s)| &**s)
    }

    /// Removes every key of the current database (its shards must all be locked).
    pub fn flush(&mut self) {
        let db = self.db;
        self.announce_replacement(db, None);
        for ((d, _), shard) in self.locked.iter_mut() {
            if *d == db {
                shard.map = Default::default();
                shard.volatile = Default::default();
                shard.field_volatile = Default::default();
            }
        }
        self.emit(&Bytes::new(), KeyEventKind::Flushed);
    }

    /// Exchanges the contents of the current database with `other` (both fully locked).
    pub fn swap_db(&mut self, other: usize) {
        let db = self.db;
        if db == other {
            return;
        }
        self.announce_replacement(db, Some(other));
        self.announce_replacement(other, Some(db));
        let shards = self.ks.shard_count();
        for s in 0..shards {
            let a = self.locked.iter().position(|(slot, _)| *slot == (db, s));
            let b = self.locked.iter().position(|(slot, _)| *slot == (other, s));
            if let (Some(a), Some(b)) = (a, b) {
                let (lo, hi) = (a.min(b), a.max(b));
                let (left, right) = self.locked.split_at_mut(hi);
                std::mem::swap(&mut *left[lo].1, &mut *right[0].1);
            }
        }
        self.emit(&Bytes::new(), KeyEventKind::Swapped { other });
        self.db = other;
        self.emit(&Bytes::new(), KeyEventKind::Swapped { other: db });
        self.db = db;
    }

    /// Tells the observers that `db` is about to be emptied or swapped with `replaced_with`
    /// (see [`super::KeyObserver::before_db_replaced`]).
    fn announce_replacement(&self, db: usize, replaced_with: Option<usize>) {
        if self.ks.observers.is_empty() {
            return;
        }
        let stored = |d: usize, key: &[u8]| {
            let slot = (d, self.ks.shard_of(key));
            let (_, shard) = self.locked.iter().find(|(s, _)| *s == slot)?;
            shard.map.get(key).map(|e| !e.is_live(self.now))
        };
        for observer in &self.ks.observers {
            observer.before_db_replaced(db, replaced_with, &stored);
        }
    }

    /// The entry stored under `key` in the current database, expired or not: no lazy expiry,
    /// no statistics, no access record (WATCH asks whether a key has already expired).
    pub fn stored(&self, key: &[u8]) -> Option<&Entry> {
        let i = self.shard_index(key);
        self.locked[i].1.map.get(key)
    }

    /// Visits the entries of the current database's locked shards (expired entries included;
    /// callers filter with [`Entry::is_live`]).
    pub fn for_each(&self, mut visit: impl FnMut(&Bytes, &Entry)) {
        for shard in self.current_shards() {
            for (k, e) in &shard.map {
                visit(k, e);
            }
        }
    }

    /// One step of a cursor walk over the current database's live entries, for statistics
    /// (INFO's TTL estimate): nothing is reclaimed. See [`Guard::scan`] for the cursor.
    pub fn walk(&mut self, cursor: u64, count: usize, visit: impl FnMut(&Bytes, &Entry)) -> u64 {
        self.scan_step(cursor, count, false, |_| true, visit)
    }

    /// One SCAN step over the current database. `cursor` 0 starts; a returned 0 means done.
    /// Every key present for the whole iteration is returned at least once. `matches` filters
    /// the keys met (SCAN's MATCH); `visit` sees the live ones that pass. As in Redis, an
    /// expired key that passes `matches` is reclaimed on the way, so a full SCAN leaves no
    /// logically expired key behind among those it was asked about.
    pub fn scan(
        &mut self,
        cursor: u64,
        count: usize,
        matches: impl FnMut(&Bytes) -> bool,
        visit: impl FnMut(&Bytes, &Entry),
    ) -> u64 {
        self.scan_step(cursor, count, true, matches, visit)
    }

    fn scan_step(
        &mut self,
        cursor: u64,
        count: usize,
        reclaim: bool,
        mut matches: impl FnMut(&Bytes) -> bool,
        mut visit: impl FnMut(&Bytes, &Entry),
    ) -> u64 {
        let shards = self.ks.shard_count() as u64;
        let mut shard = (cursor % shards) as usize;
        let mut remaining = (cursor / shards) as usize;
        let mut budget = count.max(1);
        let now = self.now;
        let db = self.db;
        let reclaim = reclaim && !self.ks.expiry_suspended(now);
        loop {
            let Some(pos) = self
                .locked
                .iter()
                .position(|(slot, _)| *slot == (db, shard))
            else {
                return 0;
            };
            let map = &self.locked[pos].1.map;
            let mut expired = Vec::new();
            let (next, visited) = super::scan::scan_indexmap(map, remaining, budget, |k, e| {
                if !matches(k) {
                    return;
                }
                if e.is_live(now) {
                    visit(k, e);
                } else if reclaim {
                    expired.push(k.clone());
                }
            });
            // Only visited positions (at or above `next`) lose their entry, and `swap_remove`
            // fills a hole from the top, which is visited too: the cursor stays valid.
            for key in expired {
                let shard = &mut self.locked[pos].1;
                shard.volatile.swap_remove(&key);
                if shard.map.swap_remove(&key).is_some() {
                    self.ks.stats.expired_keys.fetch_add(1, Ordering::Relaxed);
                    self.emit(&key, KeyEventKind::Expired);
                }
            }
            budget = budget.saturating_sub(visited);
            if next != 0 {
                return next as u64 * shards + shard as u64;
            }
            shard += 1;
            remaining = 0;
            if shard as u64 >= shards {
                return 0;
            }
            if budget == 0 {
                return shard as u64;
            }
        }
    }

    /// A random live key of the current database, if any.
    pub fn random_key(&mut self) -> Option<Bytes> {
        use rand::RngExt;
        let total = self.len();
        let mut rng = rand::rng();
        for _ in 0..100.min(total.max(1)) {
            if total == 0 {
                return None;
            }
            let mut pick = rng.random_range(0..total);
            let mut found = None;
            for shard in self.current_shards() {
                if pick < shard.map.len() {
                    found = shard.map.get_index(pick).map(|(k, _)| k.clone());
                    break;
                }
                pick -= shard.map.len();
            }
            if let Some(key) = found
                && self.contains(&key)
            {
                return Some(key);
            }
        }
        // Mostly expired keys: fall back to a full pass. While expiry is suspended the
        // expired keys are still there, and Redis then answers with one of them.
        let now = self.now;
        let (mut live, mut any) = (None, None);
        self.for_each(|k, e| {
            if live.is_none() && e.is_live(now) {
                live = Some(k.clone());
            }
            any.get_or_insert_with(|| k.clone());
        });
        live.or(any.filter(|_| self.ks.expiry_suspended(now)))
    }

    /// Reclaims up to `samples` expired keys from one locked shard; returns (sampled, expired).
    pub(super) fn expire_sample(&mut self, pos: usize, samples: usize) -> (usize, usize) {
        use rand::RngExt;
        let now = self.now;
        let mut rng = rand::rng();
        let mut expired = Vec::new();
        let shard = &mut self.locked[pos].1;
        let n = shard.volatile.len().min(samples);
        for _ in 0..n {
            let i = rng.random_range(0..shard.volatile.len());
            let Some(key) = shard.volatile.get_index(i) else {
                break;
            };
            if shard
                .map
                .get(key)
                .is_none_or(|e| e.expire_at.is_none_or(|at| at <= now))
            {
                let key = key.clone();
                shard.volatile.swap_remove_index(i);
                if shard.map.swap_remove(&key).is_some() {
                    expired.push(key);
                }
            }
        }
        let count = expired.len();
        self.db = self.locked[pos].0.0;
        for key in expired {
            self.ks.stats.expired_keys.fetch_add(1, Ordering::Relaxed);
            self.emit(&key, KeyEventKind::Expired);
        }
        (n, count)
    }

    /// Deletes the due fields of up to `samples` hashes with field TTLs from one locked shard
    /// (Redis's active field expiry); returns (sampled, hashes that lost fields).
    pub(super) fn expire_fields_sample(&mut self, pos: usize, samples: usize) -> (usize, usize) {
        use rand::RngExt;
        let now = self.now;
        let mut rng = rand::rng();
        let mut reaped = Vec::new();
        let shard = &mut self.locked[pos].1;
        let n = shard.field_volatile.len().min(samples);
        for _ in 0..n {
            let i = rng.random_range(0..shard.field_volatile.len());
            let Some(key) = shard.field_volatile.get_index(i).cloned() else {
                break;
            };
            match shard.map.get_mut(&key).map(|e| &mut e.value) {
                Some(Value::Hash(hash)) if hash.has_field_ttls() => {
                    if hash.remove_expired(now) > 0 {
                        reaped.push(key);
                    }
                }
                _ => {
                    shard.field_volatile.swap_remove_index(i);
                }
            }
        }
        let count = reaped.len();
        self.db = self.locked[pos].0.0;
        // `finish` deletes the hashes left empty.
        self.check_empty |= count > 0;
        for key in reaped {
            self.emit(&key, KeyEventKind::FieldsExpired);
            self.emit(&key, KeyEventKind::Written);
        }
        (n, count)
    }

    pub(super) fn locked_slots(&self) -> usize {
        self.locked.len()
    }

    /// Tells the observers of `notice` on `key` now, if the keyspace reports it.
    fn note(&self, notice: KeyNotice, key: &[u8]) {
        if self.ks.reports(notice) {
            let key = Bytes::copy_from_slice(key);
            for observer in &self.ks.observers {
                observer.on_notice(notice, self.db, &key);
            }
        }
    }

    /// Turns writes that left an empty aggregate into deletions, registers hashes that have
    /// field TTLs for active field expiry, then tells the observers.
    fn finish(&mut self) {
        if self.events.is_empty() {
            return;
        }
        let events = std::mem::take(&mut self.events);
        let mut out: Vec<KeyEvent> = Vec::with_capacity(events.len());
        for event in events {
            let mut event = event;
            if matches!(
                event.kind,
                KeyEventKind::Written | KeyEventKind::Renamed { .. }
            ) {
                self.db = event.db;
                let si = self.shard_index(&event.key);
                let shard = &mut self.locked[si].1;
                match shard.map.get(&event.key) {
                    None => continue,
                    Some(e) if e.value.is_empty_aggregate() => {
                        shard.map.swap_remove(&event.key);
                        shard.volatile.swap_remove(&event.key);
                        shard.field_volatile.swap_remove(&event.key);
                        event.kind = KeyEventKind::Deleted;
                    }
                    Some(e) => {
                        if matches!(&e.value, Value::Hash(h) if h.has_field_ttls()) {
                            shard.field_volatile.insert(event.key.clone());
                        }
                    }
                }
            }
            // Several writes to one key in a row need one notification.
            if out.last().is_some_and(|last| *last == event) {
                continue;
            }
            out.push(event);
        }
        if self.ks.observers.is_empty() {
            return;
        }
        for event in &out {
            self.db = event.db;
            let entry = match event.kind {
                KeyEventKind::Written | KeyEventKind::Renamed { .. } => {
                    let si = self.shard_index(&event.key);
                    self.locked[si].1.map.get(&event.key)
                }
                _ => None,
            };
            for observer in &self.ks.observers {
                observer.on_event(event, entry);
            }
        }
    }
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        // Runs before the shard locks (fields) are released.
        self.finish();
    }
}

impl Entry {
    /// Whether the entry is not expired at `now_ms`.
    pub fn is_live(&self, now_ms: u64) -> bool {
        self.expire_at.is_none_or(|at| at > now_ms)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bytes::Bytes;
    use parking_lot::Mutex;

    use super::super::value::{Entry, HashLimits, StrValue};
    use super::super::{KeyEvent, KeyEventKind, KeyObserver, Keyspace, Ttl, Value};

    /// Records every event with the value the observer was shown.
    #[derive(Default)]
    struct Recorder(Mutex<Vec<(KeyEvent, Option<Value>)>>);

    impl KeyObserver for Recorder {
        fn on_event(&self, event: &KeyEvent, entry: Option<&Entry>) {
            self.0
                .lock()
                .push((event.clone(), entry.map(|e| e.value.clone())));
        }
    }

    fn observed() -> (Keyspace, Arc<Recorder>) {
        let recorder = Arc::new(Recorder::default());
        let ks = Keyspace::new(2, 4, vec![recorder.clone() as Arc<dyn KeyObserver>]);
        (ks, recorder)
    }

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    fn s(v: &str) -> Value {
        Value::Str(StrValue::text(b(v)))
    }

    fn kinds(recorder: &Recorder) -> Vec<(KeyEventKind, Bytes)> {
        let mut events = recorder.0.lock();
        events.drain(..).map(|(e, _)| (e.kind, e.key)).collect()
    }

    #[test]
    fn insert_keeps_or_clears_the_ttl() {
        let ks = Keyspace::new(1, 4, Vec::new());
        let key = b("k");
        let mut g = ks.lock(0, &[&key]);
        let later = g.now_ms() + 60_000;
        assert!(g.insert(key.clone(), s("1"), Ttl::At(later)).is_none());
        assert_eq!(g.volatile_len(), 1);
        let old = g.insert(key.clone(), s("2"), Ttl::Keep);
        assert_eq!(old.map(|e| e.value), Some(s("1")));
        assert_eq!(g.expire_at(&key), Some(Some(later)));
        assert_eq!(g.volatile_len(), 1);
        g.insert(key.clone(), s("3"), Ttl::Clear);
        assert_eq!(g.expire_at(&key), Some(None));
        assert_eq!(g.volatile_len(), 0);
        g.insert(key.clone(), s("4"), Ttl::Clear);
        assert_eq!(g.volatile_len(), 0);
        assert_eq!(g.get(&key), Some(&s("4")));
        assert_eq!(g.len(), 1);
    }

    #[test]
    fn observers_see_the_value_after_the_command_once_per_run_of_writes() {
        let (ks, recorder) = observed();
        let key = b("k");
        {
            let mut g = ks.lock(0, &[&key]);
            g.insert(key.clone(), s("a"), Ttl::Clear);
            g.insert(key.clone(), s("b"), Ttl::Clear);
        }
        let events = std::mem::take(&mut *recorder.0.lock());
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].0.kind, KeyEventKind::Written);
        assert_eq!(events[0].1, Some(s("b")));
    }

    #[test]
    fn rename_is_reported_as_deleted_then_renamed() {
        let (ks, recorder) = observed();
        let (from, to) = (b("from"), b("to"));
        ks.lock(0, &[&from])
            .insert(from.clone(), s("v"), Ttl::Clear);
        kinds(&recorder);
        assert!(ks.lock(0, &[&from, &to]).rename(&from, &to));
        assert_eq!(
            kinds(&recorder),
            vec![
                (KeyEventKind::Deleted, from.clone()),
                (KeyEventKind::Renamed { from: from.clone() }, to.clone()),
            ]
        );
    }

    #[test]
    fn emptied_aggregates_are_deleted_with_or_without_observers() {
        let (observed_ks, recorder) = observed();
        let plain_ks = Keyspace::new(1, 4, Vec::new());
        let limits = HashLimits::default();
        for ks in [&observed_ks, &plain_ks] {
            let (key, field) = (b("h"), b("f"));
            {
                let mut g = ks.lock(0, &[&key]);
                let hash = g.get_or_insert_with(&key, Value::new_hash);
                hash.as_hash_mut()
                    .unwrap()
                    .insert(field.clone(), b("v"), &limits);
            }
            {
                let mut g = ks.lock(0, &[&key]);
                g.get_mut(&key)
                    .unwrap()
                    .as_hash_mut()
                    .unwrap()
                    .remove(&field);
            }
            let mut g = ks.lock(0, &[&key]);
            assert!(!g.contains(&key), "an empty hash must not survive");
            // A hash created empty by a command that then fails is removed too.
            g.get_or_insert_with(&key, Value::new_hash);
            drop(g);
            assert!(!ks.lock(0, &[&key]).contains(&key));
            // And one stored empty.
            ks.lock(0, &[&key])
                .insert(key.clone(), Value::new_hash(), Ttl::Clear);
            assert!(!ks.lock(0, &[&key]).contains(&key));
        }
        assert_eq!(
            kinds(&recorder),
            vec![
                (KeyEventKind::Written, b("h")),
                (KeyEventKind::Deleted, b("h")),
                (KeyEventKind::Deleted, b("h")),
                (KeyEventKind::Deleted, b("h")),
            ]
        );
    }

    #[test]
    fn no_events_are_kept_without_observers() {
        let ks = Keyspace::new(1, 4, Vec::new());
        let key = b("k");
        let mut g = ks.lock(0, &[&key]);
        g.insert(key.clone(), s("v"), Ttl::Clear);
        g.remove(&key);
        assert!(g.events.is_empty());
    }
}
