//! NUMERIC fields: documents by value, for inclusive / exclusive range queries with
//! infinite bounds.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::ops::Bound;

use roaring::RoaringBitmap;

use crate::search::query::NumBound;
use crate::search::{Deadline, DocId};

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

/// One NUMERIC field's postings.
#[derive(Default)]
pub struct NumericIndex {
    by_value: BTreeMap<Key, RoaringBitmap>,
    records: u64,
}

impl NumericIndex {
    pub fn insert(&mut self, id: DocId, value: f64) {
        if self
            .by_value
            .entry(Key(normalise(value)))
            .or_default()
            .insert(id.0)
        {
            self.records += 1;
        }
    }

    pub fn remove(&mut self, id: DocId, value: f64) {
        let key = Key(normalise(value));
        if let Some(ids) = self.by_value.get_mut(&key)
            && ids.remove(id.0)
        {
            self.records -= 1;
            if ids.is_empty() {
                self.by_value.remove(&key);
            }
        }
    }

    pub fn clear(&mut self) {
        self.by_value.clear();
        self.records = 0;
    }

    /// Documents whose value lies between `min` and `max`.
    pub fn range(&self, min: NumBound, max: NumBound, deadline: &Deadline) -> RoaringBitmap {
        let (lo, hi) = (normalise(min.value), normalise(max.value));
        // BTreeMap::range panics on an inverted or empty-exclusive range.
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
        self.by_value
            .range((bound(lo, min.inclusive), bound(hi, max.inclusive)))
            .take_while(|_| !deadline.reached())
            .fold(RoaringBitmap::new(), |acc, (_, ids)| acc | ids)
    }

    /// Index entries (FT.INFO `num_records`).
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Approximate bytes used.
    pub fn memory_bytes(&self) -> usize {
        // An estimate from running counts (a tree entry per distinct value, about 4 bytes
        // per posting), so that FT.INFO never walks the tree under the index lock.
        self.by_value.len() * 48 + self.records() as usize * 4
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
        assert_eq!(
            ids(n.range(b(1.0, true), b(10.0, true), &Deadline::default())),
            vec![1, 2, 3]
        );
        assert_eq!(
            ids(n.range(b(1.0, false), b(10.0, false), &Deadline::default())),
            vec![2]
        );
        assert_eq!(
            ids(n.range(b(5.0, true), b(5.0, true), &Deadline::default())),
            vec![2]
        );
        assert!(
            n.range(b(5.0, false), b(5.0, true), &Deadline::default())
                .is_empty()
        );
        assert!(
            n.range(b(10.0, true), b(1.0, true), &Deadline::default())
                .is_empty()
        );
        assert_eq!(
            ids(n.range(
                b(f64::NEG_INFINITY, true),
                b(f64::INFINITY, true),
                &Deadline::default()
            )),
            vec![1, 2, 3, 4, 5]
        );
        assert_eq!(
            ids(n.range(b(10.0, false), b(f64::INFINITY, true), &Deadline::default())),
            vec![4]
        );
        assert_eq!(
            ids(n.range(b(0.0, true), b(0.0, true), &Deadline::default())),
            vec![5]
        );
        n.remove(DocId(2), 5.0);
        assert!(
            n.range(b(5.0, true), b(5.0, true), &Deadline::default())
                .is_empty()
        );
        assert_eq!(n.records(), 4);
    }
}
