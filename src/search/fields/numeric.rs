//! NUMERIC fields: documents by value, for inclusive / exclusive range queries with
//! infinite bounds.
//!
//! Entries live in buckets of neighbouring values (like RediSearch's numeric range tree
//! leaves): each bucket keeps its `(value, id)` entries sorted plus a bitmap of its ids. A range
//! query unions the bitmaps of the buckets it covers whole and filters only the two buckets at
//! its edges, so its cost follows the number of buckets, not the number of distinct values —
//! a range over timestamps or prices, where every document has its own value, stays cheap.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::ops::Bound;

use roaring::{MultiOps, RoaringBitmap};

use crate::search::DocId;
use crate::search::query::NumBound;

/// Parses a hash value as RediSearch does (a double; `inf` / `-inf` accepted). The error is
/// the text FT.INFO reports as the last indexing error.
pub fn parse(raw: &[u8]) -> Result<f64, String> {
    let invalid = || format!("Invalid numeric value: '{}'", String::from_utf8_lossy(raw));
    let text = std::str::from_utf8(raw).map_err(|_| invalid())?;
    match text.trim_start().parse::<f64>() {
        Ok(v) if !v.is_nan() => Ok(normalise(v)),
        _ => Err(invalid()),
    }
}

/// `-0` and `0` are one value.
fn normalise(v: f64) -> f64 {
    v + 0.0
}

/// An f64 ordered by `total_cmp` (NaN never gets in).
#[derive(Debug, Clone, Copy)]
struct Key(f64);

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Key {}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Key) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Key) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// Entries a bucket holds before it splits. Small enough that inserting into the sorted
/// entries and filtering an edge bucket are cheap, large enough that a wide range unions few
/// bitmaps.
const BUCKET_ENTRIES: usize = 512;

/// The entries of one value interval, sorted by (value, id), and their ids.
#[derive(Default)]
struct Bucket {
    entries: Vec<(Key, u32)>,
    ids: RoaringBitmap,
}

impl Bucket {
    /// Where `(value, id)` is or would go.
    fn position(&self, value: Key, id: u32) -> Result<usize, usize> {
        self.entries
            .binary_search_by(|&(v, i)| v.cmp(&value).then(i.cmp(&id)))
    }

    /// The bucket's ids whose value lies within the bounds.
    fn filtered(&self, lo: Bound<Key>, hi: Bound<Key>) -> impl Iterator<Item = u32> + '_ {
        let first = self.entries.partition_point(|&(v, _)| !above(lo, v));
        self.entries[first..]
            .iter()
            .take_while(move |&&(v, _)| below(hi, v))
            .map(|&(_, id)| id)
    }

    /// Splits off the upper half, never between two entries of one value (a bucket of one
    /// value stays whole, however large). Returns the new bucket's key and the bucket.
    fn split(&mut self) -> Option<(Key, Bucket)> {
        let middle = self.entries.len() / 2;
        let at = (middle..self.entries.len())
            .chain((1..middle).rev())
            .find(|&i| self.entries[i - 1].0 != self.entries[i].0)?;
        let upper: Vec<(Key, u32)> = self.entries.split_off(at);
        self.ids = self.entries.iter().map(|&(_, id)| id).collect();
        let ids = upper.iter().map(|&(_, id)| id).collect();
        Some((
            upper[0].0,
            Bucket {
                entries: upper,
                ids,
            },
        ))
    }
}

/// One NUMERIC field's postings: buckets keyed by the lowest value they may hold (the first
/// bucket's key is its lowest value; a value below it goes there and lowers the key).
#[derive(Default)]
pub struct NumericIndex {
    buckets: BTreeMap<Key, Bucket>,
    records: u64,
}

impl NumericIndex {
    /// The key of the bucket `value` belongs to.
    fn bucket_of(&self, value: Key) -> Option<Key> {
        self.buckets
            .range(..=value)
            .next_back()
            .or_else(|| self.buckets.iter().next())
            .map(|(k, _)| *k)
    }

    pub fn insert(&mut self, id: DocId, value: f64) {
        let value = Key(normalise(value));
        let key = match self.bucket_of(value) {
            // Below the first bucket: that bucket now starts at `value`.
            Some(key) if value < key => {
                let bucket = self.buckets.remove(&key).unwrap_or_default();
                self.buckets.insert(value, bucket);
                value
            }
            Some(key) => key,
            None => value,
        };
        let bucket = self.buckets.entry(key).or_default();
        let Err(at) = bucket.position(value, id.0) else {
            return;
        };
        bucket.entries.insert(at, (value, id.0));
        bucket.ids.insert(id.0);
        self.records += 1;
        if bucket.entries.len() > BUCKET_ENTRIES
            && let Some((upper_key, upper)) = bucket.split()
        {
            self.buckets.insert(upper_key, upper);
        }
    }

    pub fn remove(&mut self, id: DocId, value: f64) {
        let value = Key(normalise(value));
        let Some(key) = self.bucket_of(value) else {
            return;
        };
        let Some(bucket) = self.buckets.get_mut(&key) else {
            return;
        };
        let Ok(at) = bucket.position(value, id.0) else {
            return;
        };
        bucket.entries.remove(at);
        self.records -= 1;
        // A document may hold several values of one field; keep its id while one remains.
        if !bucket.entries.iter().any(|&(_, other)| other == id.0) {
            bucket.ids.remove(id.0);
        }
        if bucket.entries.is_empty() {
            self.buckets.remove(&key);
        }
    }

    pub fn clear(&mut self) {
        self.buckets.clear();
        self.records = 0;
    }

    /// Documents whose value lies between `min` and `max`.
    pub fn range(&self, min: NumBound, max: NumBound) -> RoaringBitmap {
        let (lo, hi) = (normalise(min.value), normalise(max.value));
        let empty = lo.is_nan()
            || hi.is_nan()
            || lo > hi
            || (lo == hi && !(min.inclusive && max.inclusive));
        if empty {
            return RoaringBitmap::new();
        }
        let bound = |v: f64, inclusive: bool| match inclusive {
            true => Bound::Included(Key(v)),
            false => Bound::Excluded(Key(v)),
        };
        let first = match self.bucket_of(Key(lo)) {
            // BTreeMap::range panics on an inverted range.
            Some(first) if first <= Key(hi) => first,
            _ => return RoaringBitmap::new(),
        };
        let (lo, hi) = (bound(lo, min.inclusive), bound(hi, max.inclusive));
        let mut whole = Vec::new();
        let mut edges = Vec::new();
        for (_, bucket) in self.buckets.range((Bound::Included(first), hi)) {
            let (Some(low), Some(high)) = (bucket.entries.first(), bucket.entries.last()) else {
                continue;
            };
            if above(lo, low.0) && below(hi, high.0) {
                whole.push(&bucket.ids);
            } else {
                edges.extend(bucket.filtered(lo, hi));
            }
        }
        let mut out = whole.union();
        out.extend(edges);
        out
    }

    /// Index entries (FT.INFO `num_records`).
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Approximate bytes used.
    pub fn memory_bytes(&self) -> usize {
        // An estimate from running counts (16 bytes per sorted entry plus about 4 per bitmap
        // posting, and a tree node per bucket), so that FT.INFO never walks the tree under the
        // index lock.
        self.buckets.len() * 64 + self.records() as usize * 20
    }
}

/// Whether `v` satisfies a lower bound.
fn above(lo: Bound<Key>, v: Key) -> bool {
    match lo {
        Bound::Included(b) => v >= b,
        Bound::Excluded(b) => v > b,
        Bound::Unbounded => true,
    }
}

/// Whether `v` satisfies an upper bound.
fn below(hi: Bound<Key>, v: Key) -> bool {
    match hi {
        Bound::Included(b) => v <= b,
        Bound::Excluded(b) => v < b,
        Bound::Unbounded => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(value: f64, inclusive: bool) -> NumBound {
        NumBound { value, inclusive }
    }

    fn ids(bits: RoaringBitmap) -> Vec<u32> {
        bits.iter().collect()
    }

    #[test]
    fn parses_like_redisearch() {
        assert_eq!(parse(b"10"), Ok(10.0));
        assert_eq!(parse(b"-1.5e3"), Ok(-1500.0));
        assert_eq!(parse(b"inf"), Ok(f64::INFINITY));
        assert_eq!(parse(b"-inf"), Ok(f64::NEG_INFINITY));
        assert_eq!(parse(b"+inf"), Ok(f64::INFINITY));
        assert_eq!(parse(b"aaaa"), Err("Invalid numeric value: 'aaaa'".into()));
        assert!(parse(b"").is_err());
        assert!(parse(b"nan").is_err());
        assert!(parse(b"1x").is_err());
    }

    #[test]
    fn ranges_honour_bounds_and_infinities() {
        let mut n = NumericIndex::default();
        for (id, v) in [(1, 1.0), (2, 5.0), (3, 10.0), (4, f64::INFINITY), (5, -0.0)] {
            n.insert(DocId(id), v);
        }
        assert_eq!(ids(n.range(b(1.0, true), b(10.0, true))), vec![1, 2, 3]);
        assert_eq!(ids(n.range(b(1.0, false), b(10.0, false))), vec![2]);
        assert_eq!(ids(n.range(b(5.0, true), b(5.0, true))), vec![2]);
        assert!(n.range(b(5.0, false), b(5.0, true)).is_empty());
        assert!(n.range(b(10.0, true), b(1.0, true)).is_empty());
        assert_eq!(
            ids(n.range(b(f64::NEG_INFINITY, true), b(f64::INFINITY, true))),
            vec![1, 2, 3, 4, 5]
        );
        assert_eq!(
            ids(n.range(b(10.0, false), b(f64::INFINITY, true))),
            vec![4]
        );
        assert_eq!(ids(n.range(b(0.0, true), b(0.0, true))), vec![5]);
        n.remove(DocId(2), 5.0);
        assert!(n.range(b(5.0, true), b(5.0, true)).is_empty());
        assert_eq!(n.records(), 4);
        assert!(n.range(b(-5.0, true), b(-1.0, true)).is_empty());
        assert!(n.range(b(20.0, true), b(30.0, true)).is_empty());
    }

    proptest::proptest! {
        /// Against a plain list of (value, id) entries, with enough entries of few distinct
        /// values that buckets split, hold runs of one value, empty out and get re-keyed.
        #[test]
        fn ranges_match_a_model(
            ops in proptest::collection::vec((0u32..3000, 0u32..400, proptest::bool::weighted(0.8)), 1..4000),
            queries in proptest::collection::vec((-10i32..420, -10i32..420, proptest::bool::ANY, proptest::bool::ANY), 20),
        ) {
            let mut n = NumericIndex::default();
            let mut model: std::collections::BTreeSet<(u32, u32)> = Default::default();
            for (id, value, insert) in ops {
                // Coarse values: many documents share one.
                let value = value / 4;
                if insert {
                    n.insert(DocId(id), value as f64);
                    model.insert((value, id));
                } else if let Some(&(v, i)) = model.iter().find(|(_, i)| *i == id) {
                    n.remove(DocId(i), v as f64);
                    model.remove(&(v, i));
                }
            }
            proptest::prop_assert_eq!(n.records(), model.len() as u64);
            for (lo, hi, lo_in, hi_in) in queries {
                let (lo, hi) = (lo as f64 / 4.0, hi as f64 / 4.0);
                let inside = |v: f64| (if lo_in { v >= lo } else { v > lo }) && (if hi_in { v <= hi } else { v < hi });
                let expected: RoaringBitmap = model.iter().filter(|(v, _)| inside(*v as f64)).map(|&(_, id)| id).collect();
                proptest::prop_assert_eq!(n.range(b(lo, lo_in), b(hi, hi_in)), expected);
            }
        }
    }
}
