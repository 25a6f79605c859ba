//! Point-in-time copies of the whole keyspace without a fork and without a long pause
//! (BGSAVE). A capture starts with every shard locked for an instant, which fixes the moment
//! it reflects, and marks every shard pending. From then on, whoever locks a pending shard
//! first — a command about to read or change it, or the thread finishing the capture —
//! copies its live entries before doing anything else with it, so no change made after the
//! start can reach the copy. A command waits only for the shards it touches that are still
//! pending; values share their byte buffers with the originals, so a copy clones containers
//! and reference counts, not data.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use parking_lot::Mutex;

use super::{Keyspace, Shard};
use crate::keyspace::Entry;

/// A capture in progress; see the module docs.
pub struct Capture {
    /// The capture's moment: entries expired by then are left out.
    now_ms: u64,
    /// One flag per `(db, shard)`: not copied yet.
    pending: Box<[AtomicBool]>,
    copies: Mutex<Vec<Vec<(Bytes, Entry)>>>,
}

/// The capture in progress, if any (`Keyspace::capture`).
#[derive(Default)]
pub(super) struct CaptureSlot {
    /// Read by every locker: whether a capture is in progress.
    active: AtomicBool,
    current: Mutex<Option<Arc<Capture>>>,
}

impl Keyspace {
    /// Starts a capture of every database as it is now; waits for a capture in progress
    /// to finish first. Must not be called while holding a guard.
    pub fn begin_capture(&self) -> Arc<Capture> {
        loop {
            let guard = self.lock_all();
            if !self.capture.active.load(Ordering::Acquire) {
                let slots = self.databases() * self.shard_count();
                let capture = Arc::new(Capture {
                    now_ms: guard.now_ms(),
                    pending: (0..slots).map(|_| AtomicBool::new(true)).collect(),
                    copies: Mutex::new((0..slots).map(|_| Vec::new()).collect()),
                });
                *self.capture.current.lock() = Some(capture.clone());
                self.capture.active.store(true, Ordering::Release);
                return capture;
            }
            drop(guard);
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    /// Copies the shards still pending, ends the capture, and returns every database's live
    /// entries as they were when it began (one list per database, index = db number).
    pub fn finish_capture(&self, capture: &Capture) -> Vec<Vec<(Bytes, Entry)>> {
        let shards = self.shard_count();
        // Every shard is locked once, pending or not: locking copies a pending shard, and
        // waits for a command that is copying one (it holds that shard's lock until its
        // copy is stored).
        for db in 0..self.databases() {
            for shard in 0..shards {
                drop(self.lock_slots(db, &mut smallvec::smallvec![(db, shard)]));
            }
        }
        self.capture.active.store(false, Ordering::Release);
        *self.capture.current.lock() = None;
        let mut copies = capture.copies.lock();
        (0..self.databases())
            .map(|db| {
                (0..shards)
                    .flat_map(|shard| std::mem::take(&mut copies[db * shards + shard]))
                    .collect()
            })
            .collect()
    }

    /// Whether a capture is in progress. The periodic expiry cycle pauses meanwhile: it
    /// would otherwise copy every pending shard on the thread that runs it, which also
    /// serves clients.
    pub fn capture_in_progress(&self) -> bool {
        self.capture.active.load(Ordering::Acquire)
    }

    /// Called with freshly locked shards: copies those a capture still waits for.
    pub(super) fn copy_pending<'a>(
        &self,
        locked: impl Iterator<Item = ((usize, usize), &'a Shard)>,
    ) {
        if !self.capture.active.load(Ordering::Acquire) {
            return;
        }
        let Some(capture) = self.capture.current.lock().clone() else {
            return;
        };
        let shards = self.shard_count();
        for ((db, shard), contents) in locked {
            let slot = db * shards + shard;
            if !capture.pending[slot].swap(false, Ordering::AcqRel) {
                continue;
            }
            let copy: Vec<(Bytes, Entry)> = contents
                .map
                .iter()
                .filter(|(_, entry)| entry.is_live(capture.now_ms))
                .map(|(key, entry)| (key.clone(), entry.clone()))
                .collect();
            capture.copies.lock()[slot] = copy;
        }
    }
}

impl Capture {
    /// The capture's moment, in Unix milliseconds.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::{StrValue, Ttl, Value};

    fn set(ks: &Keyspace, db: usize, key: &str, value: &str) {
        let key = Bytes::from(key.to_string());
        let mut g = ks.lock(db, &[&key]);
        g.insert(
            key.clone(),
            Value::Str(StrValue::text(Bytes::from(value.to_string()))),
            Ttl::Clear,
        );
    }

    fn value_of(copy: &[(Bytes, Entry)], key: &str) -> Option<Bytes> {
        copy.iter()
            .find(|(k, _)| k.as_ref() == key.as_bytes())
            .map(|(_, e)| match &e.value {
                Value::Str(s) => Bytes::copy_from_slice(s),
                _ => Bytes::new(),
            })
    }

    #[test]
    fn a_capture_is_the_moment_it_began() {
        let ks = Keyspace::new(2, 4, Vec::new());
        for i in 0..100 {
            set(&ks, 0, &format!("k{i}"), "old");
        }
        set(&ks, 1, "other", "x");
        let capture = ks.begin_capture();
        for i in 0..100 {
            set(&ks, 0, &format!("k{i}"), "new");
        }
        set(&ks, 0, "added", "later");
        let dbs = ks.finish_capture(&capture);
        assert_eq!(dbs.len(), 2);
        assert_eq!(dbs[0].len(), 100);
        assert!(value_of(&dbs[0], "added").is_none());
        for i in 0..100 {
            assert_eq!(value_of(&dbs[0], &format!("k{i}")).unwrap(), "old");
        }
        assert_eq!(dbs[1].len(), 1);
        // Finished: writes are no longer copied, and a new capture sees them.
        let again = ks.begin_capture();
        let dbs = ks.finish_capture(&again);
        assert_eq!(value_of(&dbs[0], "k0").unwrap(), "new");
        assert_eq!(dbs[0].len(), 101);
    }

    #[test]
    fn active_expiry_waits_for_the_capture() {
        let ks = Keyspace::new(1, 4, Vec::new());
        let key = Bytes::from_static(b"gone");
        let mut g = ks.lock(0, &[&key]);
        let at = g.now_ms() + 20;
        g.insert(
            key.clone(),
            Value::Str(StrValue::text(Bytes::from_static(b"v"))),
            Ttl::At(at),
        );
        drop(g);
        let capture = ks.begin_capture();
        std::thread::sleep(std::time::Duration::from_millis(30));
        assert_eq!(ks.active_expire_cycle(), 0, "paused while capturing");
        ks.finish_capture(&capture);
        assert_eq!(ks.active_expire_cycle(), 1);
    }

    /// Commands copying shards while the capture finishes: no shard's copy is lost.
    #[test]
    fn concurrent_writers_never_lose_a_shard() {
        let ks = Keyspace::new(1, 16, Vec::new());
        for round in 0..20 {
            for i in 0..2000 {
                set(&ks, 0, &format!("k{i}"), "old");
            }
            let capture = ks.begin_capture();
            std::thread::scope(|scope| {
                for t in 0..3 {
                    let ks = &ks;
                    scope.spawn(move || {
                        for i in (t..2000).step_by(3) {
                            set(ks, 0, &format!("k{i}"), "new");
                        }
                    });
                }
                let dbs = ks.finish_capture(&capture);
                assert_eq!(dbs[0].len(), 2000, "round {round}");
                assert!(dbs[0].iter().all(|(k, _)| {
                    value_of(&dbs[0], &String::from_utf8_lossy(k)).unwrap() == "old"
                }));
            });
        }
    }
}
