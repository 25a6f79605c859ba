//! The sorted set value: member -> score map plus the score order ([`index::ScoreIndex`]),
//! and the encoding name Redis would report. Depends only on `bytes`, `indexmap` and the
//! keyspace's hasher; the commands live in `commands::zset`.
//!
//! Redis holds a small sorted set as a listpack and switches for good to a skiplist when a
//! new member would make it longer than `zset-max-listpack-entries` or the member is longer
//! than `zset-max-listpack-value`; it never switches back on removal. Results that are
//! built whole (ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE, RESTORE) get the listpack exactly when
//! they fit. [`ZSetValue`] records which of the two Redis would use.

pub mod index;

use bytes::Bytes;
pub use index::ScoreIndex;
use indexmap::IndexMap;

use super::value::Hasher;

/// `zset-max-listpack-entries` and `zset-max-listpack-value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZSetLimits {
    pub entries: usize,
    pub value: usize,
}

impl Default for ZSetLimits {
    /// Redis 7's defaults.
    fn default() -> Self {
        ZSetLimits {
            entries: 128,
            value: 64,
        }
    }
}

impl ZSetLimits {
    /// Whether a whole set of `len` members, the longest `max_member` bytes, fits a listpack.
    pub fn fits(&self, len: usize, max_member: usize) -> bool {
        len <= self.entries && max_member <= self.value
    }
}

/// One end of a score range: `1.5` (inclusive) or `(1.5` (exclusive).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreBound {
    pub value: f64,
    pub exclusive: bool,
}

/// One end of a lex range: `-`, `+`, `[member` or `(member`.
#[derive(Debug, Clone, PartialEq)]
pub enum LexBound {
    Min,
    Max,
    Inclusive(Bytes),
    Exclusive(Bytes),
}

impl LexBound {
    /// Whether `member` lies below this bound taken as a range's minimum.
    fn below_min(&self, member: &[u8]) -> bool {
        match self {
            LexBound::Min => false,
            LexBound::Max => true,
            LexBound::Inclusive(b) => member < b.as_ref(),
            LexBound::Exclusive(b) => member <= b.as_ref(),
        }
    }

    /// Whether `member` lies at or below this bound taken as a range's maximum.
    fn within_max(&self, member: &[u8]) -> bool {
        match self {
            LexBound::Min => false,
            LexBound::Max => true,
            LexBound::Inclusive(b) => member <= b.as_ref(),
            LexBound::Exclusive(b) => member < b.as_ref(),
        }
    }
}

/// A sorted set: scores by member, and the members in score order with ranks.
#[derive(Debug, Clone)]
pub struct ZSetValue {
    scores: IndexMap<Bytes, f64, Hasher>,
    index: ScoreIndex,
    listpack: bool,
}

impl Default for ZSetValue {
    fn default() -> Self {
        ZSetValue {
            scores: IndexMap::default(),
            index: ScoreIndex::default(),
            listpack: true,
        }
    }
}

impl PartialEq for ZSetValue {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self.scores.iter().all(|(m, s)| {
                other
                    .scores
                    .get(m)
                    .is_some_and(|o| o.to_bits() == s.to_bits())
            })
    }
}

impl ZSetValue {
    /// A set built whole from `pairs` (a store command's result, RESTORE): a listpack
    /// exactly when it fits `limits`. A repeated member keeps its last score.
    pub fn built(pairs: impl IntoIterator<Item = (Bytes, f64)>, limits: &ZSetLimits) -> ZSetValue {
        let mut set = ZSetValue {
            listpack: false,
            ..ZSetValue::default()
        };
        let mut longest = 0;
        for (member, score) in pairs {
            longest = longest.max(member.len());
            set.insert(member, score, limits);
        }
        if limits.fits(set.len(), longest) {
            // Converted to a listpack, which stores -0 as 0.
            let mut compact = ZSetValue::default();
            for (member, score) in set.scores {
                compact.insert(member, score, limits);
            }
            return compact;
        }
        set
    }

    pub fn len(&self) -> usize {
        self.scores.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }

    /// Whether Redis would hold this set as a listpack.
    pub fn is_listpack(&self) -> bool {
        self.listpack
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding(&self) -> &'static str {
        if self.listpack {
            "listpack"
        } else {
            "skiplist"
        }
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.scores.get(member).copied()
    }

    /// Sets `member`'s score; returns the previous one. A new member that would not fit the
    /// listpack `limits` ends the listpack encoding.
    pub fn insert(&mut self, member: Bytes, score: f64, limits: &ZSetLimits) -> Option<f64> {
        match self.scores.get_mut(&member) {
            Some(old) => {
                let previous = *old;
                let score = if self.listpack { score + 0.0 } else { score };
                if previous.to_bits() != score.to_bits() {
                    *old = score;
                    self.index.remove(previous, &member);
                    self.index.insert(score, member);
                }
                Some(previous)
            }
            None => {
                if self.len() + 1 > limits.entries || member.len() > limits.value {
                    self.listpack = false;
                }
                // A listpack keeps scores as text that reads back -0 as 0.
                let score = if self.listpack { score + 0.0 } else { score };
                self.scores.insert(member.clone(), score);
                self.index.insert(score, member);
                None
            }
        }
    }

    /// Removes `member`; returns its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let score = self.scores.swap_remove(member)?;
        self.index.remove(score, member);
        Some(score)
    }

    /// `member`'s 0-based rank in ascending order.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        let score = self.score(member)?;
        Some(self.index.rank(score, member))
    }

    /// The element at 0-based ascending `rank`.
    pub fn at(&self, rank: usize) -> Option<(f64, &Bytes)> {
        self.index.get(rank)
    }

    /// The elements of ascending ranks `start..end`.
    pub fn range(&self, start: usize, end: usize) -> Vec<(f64, Bytes)> {
        self.index.range(start, end)
    }

    /// Visits the elements of ascending ranks `start..end` without copying them.
    pub fn for_range(&self, start: usize, end: usize, visit: impl FnMut(f64, &Bytes)) {
        self.index.for_range(start, end, visit);
    }

    /// The ranks `start..end` of the elements with scores between `min` and `max`.
    pub fn score_ranks(&self, min: ScoreBound, max: ScoreBound) -> (usize, usize) {
        let start = self.index.count_before(|s, _| {
            if min.exclusive {
                s <= min.value
            } else {
                s < min.value
            }
        });
        let end = self.index.count_before(|s, _| {
            if max.exclusive {
                s < max.value
            } else {
                s <= max.value
            }
        });
        (start, end.max(start))
    }

    /// The ranks `start..end` of the elements whose members lie between `min` and `max`
    /// (meaningful when all scores are equal, as for Redis).
    pub fn lex_ranks(&self, min: &LexBound, max: &LexBound) -> (usize, usize) {
        let start = self.index.count_before(|_, m| min.below_min(m));
        let end = self.index.count_before(|_, m| max.within_max(m));
        (start, end.max(start))
    }

    /// The member -> score map, for cursor scans and random picks (its order is not the
    /// score order).
    pub fn scores(&self) -> &IndexMap<Bytes, f64, Hasher> {
        &self.scores
    }

    /// Bytes held, estimated from up to `samples` elements (MEMORY USAGE).
    pub fn memory_usage(&self, samples: usize) -> usize {
        let sampled: Vec<usize> = self
            .scores
            .keys()
            .take(samples.max(1))
            .map(Bytes::len)
            .collect();
        let average = sampled.iter().sum::<usize>() / sampled.len().max(1);
        let per_entry = std::mem::size_of::<(Bytes, f64)>() + 2 * average;
        self.scores.capacity() * per_entry + self.index.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn encoding_converts_once_on_growth() {
        let limits = ZSetLimits {
            entries: 2,
            value: 3,
        };
        let mut z = ZSetValue::default();
        z.insert(b("a"), 1.0, &limits);
        z.insert(b("b"), 2.0, &limits);
        z.insert(b("a"), 5.0, &limits);
        assert_eq!(z.encoding(), "listpack");
        z.insert(b("c"), 3.0, &limits);
        assert_eq!(z.encoding(), "skiplist");
        z.remove(b"c");
        assert_eq!(z.encoding(), "skiplist", "never converts back");
        let mut long = ZSetValue::default();
        long.insert(b("long"), 1.0, &limits);
        assert!(!long.is_listpack());
        assert!(ZSetValue::built([(b("a"), 1.0), (b("b"), 1.0)], &limits).is_listpack());
        assert!(!ZSetValue::built([(b("abcd"), 1.0)], &limits).is_listpack());
        let negative_zero = |z: &ZSetValue| z.score(b"a").unwrap().is_sign_negative();
        assert!(!negative_zero(&ZSetValue::built([(b("a"), -0.0)], &limits)));
        assert!(negative_zero(&ZSetValue::built(
            [(b("a"), -0.0), (b("b"), 1.0), (b("c"), 1.0)],
            &limits
        )));
    }

    #[test]
    fn ranks_follow_updates_and_ranges() {
        let limits = ZSetLimits::default();
        let mut z = ZSetValue::default();
        for (m, s) in [("a", 1.0), ("b", 2.0), ("c", 3.0), ("d", 3.0)] {
            z.insert(b(m), s, &limits);
        }
        assert_eq!(z.rank(b"c"), Some(2));
        assert_eq!(z.insert(b("a"), 10.0, &limits), Some(1.0));
        assert_eq!(z.rank(b"a"), Some(3));
        assert_eq!(z.at(0), Some((2.0, &b("b"))));
        let incl = |v| ScoreBound {
            value: v,
            exclusive: false,
        };
        let excl = |v| ScoreBound {
            value: v,
            exclusive: true,
        };
        assert_eq!(z.score_ranks(incl(2.0), incl(3.0)), (0, 3));
        assert_eq!(z.score_ranks(excl(2.0), incl(3.0)), (1, 3));
        assert_eq!(z.score_ranks(excl(3.0), excl(10.0)), (3, 3));
        assert_eq!(z.score_ranks(incl(5.0), incl(1.0)), (3, 3));
        let mut lex = ZSetValue::default();
        for m in ["a", "b", "c", "d"] {
            lex.insert(b(m), 0.0, &limits);
        }
        let ranks = |min, max| lex.lex_ranks(&min, &max);
        assert_eq!(ranks(LexBound::Min, LexBound::Max), (0, 4));
        assert_eq!(
            ranks(LexBound::Exclusive(b("a")), LexBound::Inclusive(b("c"))),
            (1, 3)
        );
        assert_eq!(ranks(LexBound::Max, LexBound::Min), (4, 4));
        assert_eq!(z.remove(b"zz"), None);
        assert_eq!(z.remove(b"b"), Some(2.0));
        assert_eq!(z.rank(b"c"), Some(0));
    }
}
