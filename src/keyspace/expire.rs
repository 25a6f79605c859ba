//! Active expiry: a periodic sampling of keys with a TTL, like Redis's `activeExpireCycle`,
//! so keys nobody touches again are reclaimed; then the same for hashes with field TTLs
//! (Redis 7.4's active field expiry), whose due fields are deleted — and the hash with
//! them when none is left.

use super::{Guard, Keyspace};

/// Keys sampled per shard per round.
const SAMPLES: usize = 20;
/// Repeat a shard while more than this share of its sample had expired.
const REPEAT_PERCENT: usize = 25;
/// Upper bound on rounds per shard per cycle, to keep each lock hold short.
const MAX_ROUNDS: usize = 16;

impl Keyspace {
    /// One expiry cycle over every shard of every database. Returns the keys reclaimed plus
    /// the hashes that lost expired fields.
    pub fn active_expire_cycle(&self) -> usize {
        if !self
            .active_expire
            .load(std::sync::atomic::Ordering::Relaxed)
            || self.expiry_suspended(super::unix_ms())
            || self.capture_in_progress()
        {
            return 0;
        }
        let mut total = 0;
        for db in 0..self.databases() {
            for shard in 0..self.shard_count() {
                let mut guard = self.lock_slots(db, &mut smallvec::smallvec![(db, shard)]);
                debug_assert_eq!(guard.locked_slots(), 1);
                for sample in [Guard::expire_sample, Guard::expire_fields_sample] {
                    for _ in 0..MAX_ROUNDS {
                        let (sampled, expired) = sample(&mut guard, 0, SAMPLES);
                        total += expired;
                        if sampled == 0 || expired * 100 <= sampled * REPEAT_PERCENT {
                            break;
                        }
                    }
                }
            }
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::super::{HashLimits, Keyspace, StrValue, Ttl, Value};

    #[test]
    fn reclaims_untouched_keys() {
        let ks = Keyspace::new(1, 4, Vec::new());
        for i in 0..100 {
            let key = Bytes::from(format!("k{i}"));
            let mut g = ks.lock(0, &[&key]);
            let past = g.now_ms() - 1;
            g.insert(
                key.clone(),
                Value::Str(StrValue::text(Bytes::from_static(b"v"))),
                Ttl::At(past),
            );
        }
        let mut reclaimed = 0;
        for _ in 0..50 {
            reclaimed += ks.active_expire_cycle();
        }
        assert_eq!(reclaimed, 100);
        assert_eq!(ks.db_sizes()[0], (0, 0));
    }

    #[test]
    fn reclaims_expired_hash_fields() {
        let ks = Keyspace::new(1, 2, Vec::new());
        let limits = HashLimits::default();
        let (gone, kept) = (Bytes::from_static(b"gone"), Bytes::from_static(b"kept"));
        let f = |s: &'static str| Bytes::from_static(s.as_bytes());
        {
            let mut g = ks.lock(0, &[&gone, &kept]);
            let past = g.now_ms() - 1;
            for key in [&gone, &kept] {
                let h = g
                    .get_or_insert_with(key, Value::new_hash)
                    .as_hash_mut()
                    .unwrap();
                h.insert(f("a"), f("1"), &limits);
                h.set_field_expire(b"a", past);
            }
            let h = g.get_mut(&kept).unwrap().as_hash_mut().unwrap();
            h.insert(f("b"), f("2"), &limits);
        }
        for _ in 0..10 {
            ks.active_expire_cycle();
        }
        let mut g = ks.lock(0, &[&gone, &kept]);
        assert!(
            g.peek(&gone).is_none(),
            "a hash whose last field expired is deleted"
        );
        let kept = g.get(&kept).unwrap().as_hash().unwrap();
        assert_eq!(kept.len(), 1);
        assert!(!kept.has_field_ttls());
    }
}
