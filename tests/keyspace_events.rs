//! The keyspace is the only emitter of change events: every write path must produce them, in
//! order, with the value after the change. Drives the library API directly.

use std::sync::Arc;

use bytes::Bytes;
use ferrostack::keyspace::{
    Entry, HashLimits, KeyEvent, KeyEventKind, KeyObserver, Keyspace, StrValue, Ttl, Value,
};
use parking_lot::Mutex;

/// (db, key, kind, type of the value after the change)
type Seen = (usize, String, KeyEventKind, Option<String>);

#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<Seen>>,
}

impl KeyObserver for Recorder {
    fn on_event(&self, event: &KeyEvent, entry: Option<&Entry>) {
        let shown = entry.map(|e| e.value.type_name().to_string());
        self.seen.lock().push((
            event.db,
            String::from_utf8_lossy(&event.key).into_owned(),
            event.kind.clone(),
            shown,
        ));
    }
}

impl Recorder {
    fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.seen.lock())
    }
}

fn setup(shards: usize) -> (Keyspace, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    let ks = Keyspace::new(16, shards, vec![recorder.clone() as Arc<dyn KeyObserver>]);
    (ks, recorder)
}

fn key(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn hset(ks: &Keyspace, db: usize, k: &str, field: &str) {
    let k = key(k);
    let mut g = ks.lock(db, &[&k]);
    let hash = g.get_or_insert_with(&k, Value::new_hash);
    if let Value::Hash(h) = hash {
        h.insert(key(field), key("v"), &HashLimits::default());
    }
}

#[test]
fn every_write_path_emits_its_event() {
    for shards in [1, 4] {
        let (ks, rec) = setup(shards);
        use KeyEventKind::*;
        let hash = Some("hash".to_string());

        hset(&ks, 0, "doc:1", "title");
        assert_eq!(rec.take(), vec![(0, "doc:1".into(), Written, hash.clone())]);

        // Removing the last field deletes the key and reports a deletion, not a write.
        {
            let k = key("doc:1");
            let mut g = ks.lock(0, &[&k]);
            if let Some(Value::Hash(h)) = g.get_mut(&k) {
                h.remove(b"title");
            }
        }
        assert_eq!(rec.take(), vec![(0, "doc:1".into(), Deleted, None)]);

        // SET over a hash: one write whose value is now a string.
        hset(&ks, 0, "doc:2", "f");
        rec.take();
        {
            let k = key("doc:2");
            let mut g = ks.lock(0, &[&k]);
            g.insert(k.clone(), Value::Str(StrValue::text(key("x"))), Ttl::Clear);
        }
        assert_eq!(
            rec.take(),
            vec![(0, "doc:2".into(), Written, Some("string".into()))]
        );

        // RENAME: the source is deleted, then the destination appears renamed.
        hset(&ks, 0, "a", "f");
        rec.take();
        {
            let (a, b) = (key("a"), key("b"));
            let mut g = ks.lock(0, &[&a, &b]);
            assert!(g.rename(&a, &b));
        }
        assert_eq!(
            rec.take(),
            vec![
                (0, "a".into(), Deleted, None),
                (0, "b".into(), Renamed { from: key("a") }, hash.clone()),
            ]
        );

        // MOVE-like transfer between databases.
        {
            let b = key("b");
            let mut g = ks.lock_across(&[(0, &b), (3, &b)]);
            let entry = g.remove(&b).expect("b exists");
            g.select(3);
            g.insert(b.clone(), entry.value, Ttl::Clear);
        }
        assert_eq!(
            rec.take(),
            vec![
                (0, "b".into(), Deleted, None),
                (3, "b".into(), Written, hash.clone())
            ]
        );

        // Lazy expiry reports Expired once.
        {
            let k = key("ttl");
            let mut g = ks.lock(0, &[&k]);
            let past = g.now_ms() - 1;
            g.insert(
                k.clone(),
                Value::Str(StrValue::text(key("v"))),
                Ttl::At(past),
            );
        }
        rec.take();
        {
            let k = key("ttl");
            let mut g = ks.lock(0, &[&k]);
            assert!(g.get(&k).is_none());
            assert!(g.get(&k).is_none());
        }
        assert_eq!(rec.take(), vec![(0, "ttl".into(), Expired, None)]);

        // Active expiry reclaims untouched keys and reports them.
        {
            let k = key("idle");
            let mut g = ks.lock(5, &[&k]);
            let past = g.now_ms() - 1;
            g.insert(
                k.clone(),
                Value::Str(StrValue::text(key("v"))),
                Ttl::At(past),
            );
        }
        rec.take();
        while ks.active_expire_cycle() == 0 {}
        assert_eq!(rec.take(), vec![(5, "idle".into(), Expired, None)]);

        // FLUSHDB and SWAPDB are whole-database events.
        hset(&ks, 1, "x", "f");
        rec.take();
        ks.lock_db(1).flush();
        assert_eq!(rec.take(), vec![(1, "".into(), Flushed, None)]);
        {
            let mut g = ks.lock_all();
            g.select(2);
            g.swap_db(3);
        }
        assert_eq!(
            rec.take(),
            vec![
                (2, "".into(), Swapped { other: 3 }, None),
                (3, "".into(), Swapped { other: 2 }, None),
            ]
        );
        let mut g = ks.lock(2, &[&key("b")]);
        assert!(g.contains(&key("b")), "SWAPDB moved db 3's key into db 2");
    }
}
