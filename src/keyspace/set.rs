//! The set value: its members and the encoding Redis 7.4 would report for them.
//!
//! Members live in an `IndexSet`, so SSCAN can page with a stable cursor (see
//! `scan_indexmap`) and SPOP / SRANDMEMBER pick by position in O(1). The encoding is part of
//! what clients see, so it is tracked exactly as Redis 7.4 chooses it:
//! - `intset`: every member is an integer (its canonical decimal text) and there are at most
//!   `set-max-intset-entries`. Members are kept sorted by value, the order Redis replies in.
//! - `listpack`: a small set (at most `set-max-listpack-entries` members, none longer than
//!   `set-max-listpack-value`), in insertion order, which removals keep.
//! - `hashtable`: anything else; no defined order, so removals may reorder (`swap_remove`).
//!
//! A set only ever moves down that list (intset -> listpack -> hashtable, or intset ->
//! hashtable), except where Redis builds a new set: SPOP of most members, the STORE commands
//! and RESTORE.

use bytes::Bytes;
use indexmap::IndexSet;

use super::value::{Hasher, canonical_i64};

/// The members of a set.
pub type SetMembers = IndexSet<Bytes, Hasher>;

/// How Redis holds a set (`OBJECT ENCODING`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetEncoding {
    Intset,
    Listpack,
    Hashtable,
}

/// `set-max-intset-entries`, `set-max-listpack-entries` and `set-max-listpack-value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetLimits {
    pub intset_entries: usize,
    pub listpack_entries: usize,
    pub listpack_value: usize,
}

impl Default for SetLimits {
    fn default() -> Self {
        SetLimits::DEFAULT
    }
}

impl SetLimits {
    /// Redis 7.4's defaults.
    pub const DEFAULT: SetLimits = SetLimits {
        intset_entries: 512,
        listpack_entries: 128,
        listpack_value: 64,
    };

    /// Redis caps the intset size at 2^30 members whatever the setting.
    fn intset_max(&self) -> usize {
        self.intset_entries.min(1 << 30)
    }
}

/// A set and its encoding.
#[derive(Debug, Clone, PartialEq)]
pub struct SetValue {
    members: SetMembers,
    encoding: SetEncoding,
}

impl Default for SetValue {
    /// An empty intset: the start of every set Redis builds member by member.
    fn default() -> Self {
        SetValue::with_encoding(SetEncoding::Intset)
    }
}

impl SetValue {
    /// An empty set in `encoding`.
    pub fn with_encoding(encoding: SetEncoding) -> SetValue {
        SetValue {
            members: SetMembers::default(),
            encoding,
        }
    }

    /// The empty set SADD or SMOVE creates for `first`, about to receive `size_hint` members
    /// (Redis's `setTypeCreate`).
    pub fn for_first(first: &[u8], size_hint: usize, limits: &SetLimits) -> SetValue {
        let encoding = if canonical_i64(first).is_some() && size_hint <= limits.intset_max() {
            SetEncoding::Intset
        } else if size_hint <= limits.listpack_entries {
            SetEncoding::Listpack
        } else {
            SetEncoding::Hashtable
        };
        SetValue::with_encoding(encoding)
    }

    /// A set holding `members`, added one by one from an empty intset as Redis loads a
    /// plain set (RESTORE) or builds the result of SUNIONSTORE / SDIFFSTORE. Returns `None`
    /// when a member repeats.
    pub fn collect(
        members: impl IntoIterator<Item = Bytes>,
        limits: &SetLimits,
    ) -> Option<SetValue> {
        let mut set = SetValue::default();
        for member in members {
            if !set.insert(member, limits) {
                return None;
            }
        }
        Some(set)
    }

    /// An intset built from members already known to be distinct integers (RESTORE of an
    /// intset payload), converted to a hash table when over the limit as Redis does on load.
    pub fn from_integers(values: &[i64], limits: &SetLimits) -> SetValue {
        let mut sorted = values.to_vec();
        sorted.sort_unstable();
        let members = sorted
            .iter()
            .map(|n| Bytes::copy_from_slice(itoa::Buffer::new().format(*n).as_bytes()))
            .collect();
        let encoding = if values.len() > limits.intset_entries {
            SetEncoding::Hashtable
        } else {
            SetEncoding::Intset
        };
        SetValue { members, encoding }
    }

    /// A listpack set loaded as it was stored (RESTORE), a hash table when over the limit.
    pub fn from_listpack(members: SetMembers, limits: &SetLimits) -> SetValue {
        let encoding = if members.len() > limits.listpack_entries {
            SetEncoding::Hashtable
        } else {
            SetEncoding::Listpack
        };
        SetValue { members, encoding }
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn encoding_kind(&self) -> SetEncoding {
        self.encoding
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding(&self) -> &'static str {
        match self.encoding {
            SetEncoding::Intset => "intset",
            SetEncoding::Listpack => "listpack",
            SetEncoding::Hashtable => "hashtable",
        }
    }

    /// The members in the order Redis iterates them (intset: ascending).
    pub fn members(&self) -> &SetMembers {
        &self.members
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        self.members.contains(member)
    }

    /// The member at `index` (for random picks).
    pub fn get_index(&self, index: usize) -> Option<&Bytes> {
        self.members.get_index(index)
    }

    /// Converts to a hash table ahead of a write that will add up to `size_hint` members
    /// when they could not fit the compact encoding (Redis's `setTypeMaybeConvert`).
    pub fn reserve_for(&mut self, size_hint: usize, limits: &SetLimits) {
        let over = match self.encoding {
            SetEncoding::Intset => size_hint > limits.intset_max(),
            SetEncoding::Listpack => size_hint > limits.listpack_entries,
            SetEncoding::Hashtable => false,
        };
        if over {
            self.encoding = SetEncoding::Hashtable;
        }
    }

    /// Adds `member`; false when it was already there. Converts as Redis's `setTypeAdd`
    /// does: an intset takes integers until it passes its limit (then becomes a hash table);
    /// the first non-integer makes it a listpack when that fits, else a hash table; a
    /// listpack becomes a hash table on the member that would pass its limits.
    pub fn insert(&mut self, member: Bytes, limits: &SetLimits) -> bool {
        if self.members.contains(&member) {
            return false;
        }
        match self.encoding {
            SetEncoding::Intset => match canonical_i64(&member) {
                Some(value) => {
                    let at = self
                        .members
                        .binary_search_by_key(&value, |m| canonical_i64(m).unwrap_or(i64::MAX))
                        .unwrap_or_else(|at| at);
                    self.members.shift_insert(at, member);
                    if self.members.len() > limits.intset_max() {
                        self.encoding = SetEncoding::Hashtable;
                    }
                    return true;
                }
                None => {
                    let longest = self.members.iter().map(Bytes::len).max().unwrap_or(0);
                    self.encoding = if self.members.len() < limits.listpack_entries
                        && member.len() <= limits.listpack_value
                        && longest <= limits.listpack_value
                    {
                        SetEncoding::Listpack
                    } else {
                        SetEncoding::Hashtable
                    };
                }
            },
            SetEncoding::Listpack => {
                if self.members.len() >= limits.listpack_entries
                    || member.len() > limits.listpack_value
                {
                    self.encoding = SetEncoding::Hashtable;
                }
            }
            SetEncoding::Hashtable => {}
        }
        self.members.insert(member)
    }

    /// Removes `member`; false when it was not there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self.members.get_index_of(member) {
            Some(index) => {
                self.remove_index(index);
                true
            }
            None => false,
        }
    }

    /// Removes and returns the member at `index`. Compact encodings keep their order.
    pub fn remove_index(&mut self, index: usize) -> Option<Bytes> {
        match self.encoding {
            SetEncoding::Hashtable => self.members.swap_remove_index(index),
            SetEncoding::Intset | SetEncoding::Listpack => self.members.shift_remove_index(index),
        }
    }

    /// After a STORE command built this set: a listpack of integers only becomes an intset
    /// when small enough (Redis's `maybeConvertToIntset`).
    pub fn compact_integers(&mut self, limits: &SetLimits) {
        if self.encoding == SetEncoding::Listpack
            && self.members.len() <= limits.intset_max()
            && self.members.iter().all(|m| canonical_i64(m).is_some())
        {
            self.members
                .sort_by_cached_key(|m| canonical_i64(m).unwrap_or(i64::MAX));
            self.encoding = SetEncoding::Intset;
        }
    }

    /// Bytes held, estimated from up to `samples` members (MEMORY USAGE).
    pub fn memory_usage(&self, samples: usize) -> usize {
        let sampled: Vec<usize> = self
            .members
            .iter()
            .take(samples.max(1))
            .map(Bytes::len)
            .collect();
        let average = sampled.iter().sum::<usize>() / sampled.len().max(1);
        let per_member = match self.encoding {
            SetEncoding::Intset => 8,
            SetEncoding::Listpack => average + 2,
            SetEncoding::Hashtable => average + 24 + std::mem::size_of::<Bytes>(),
        };
        16 + per_member * self.members.len()
    }
}

impl<'a> IntoIterator for &'a SetValue {
    type Item = &'a Bytes;
    type IntoIter = indexmap::set::Iter<'a, Bytes>;

    fn into_iter(self) -> Self::IntoIter {
        self.members.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    const SMALL: SetLimits = SetLimits {
        intset_entries: 4,
        listpack_entries: 3,
        listpack_value: 5,
    };

    fn order(set: &SetValue) -> Vec<&[u8]> {
        set.members().iter().map(|m| m.as_ref()).collect()
    }

    #[test]
    fn intset_is_sorted_and_converts_on_size() {
        let mut s = SetValue::for_first(b"5", 1, &SMALL);
        for m in ["5", "-2", "10", "3"] {
            assert!(s.insert(b(m), &SMALL));
        }
        assert!(!s.insert(b("3"), &SMALL));
        assert_eq!(s.encoding(), "intset");
        assert_eq!(order(&s), [&b"-2"[..], b"3", b"5", b"10"]);
        s.insert(b("7"), &SMALL);
        assert_eq!(s.encoding(), "hashtable", "over set-max-intset-entries");
    }

    #[test]
    fn first_string_makes_a_listpack_when_it_fits() {
        let mut s = SetValue::for_first(b"1", 1, &SMALL);
        s.insert(b("1"), &SMALL);
        s.insert(b("abc"), &SMALL);
        assert_eq!(s.encoding(), "listpack");
        s.insert(b("2"), &SMALL);
        assert_eq!(order(&s), [&b"1"[..], b"abc", b"2"], "insertion order");
        s.remove(b"1");
        assert_eq!(order(&s), [&b"abc"[..], b"2"]);
        s.insert(b("toolong"), &SMALL);
        assert_eq!(s.encoding(), "hashtable");
        s.remove(b"toolong");
        assert_eq!(s.encoding(), "hashtable", "never converts back");

        let mut s = SetValue::for_first(b"1", 1, &SMALL);
        s.insert(b("1"), &SMALL);
        s.insert(b("waytoolong"), &SMALL);
        assert_eq!(s.encoding(), "hashtable");
    }

    #[test]
    fn size_hints_choose_the_encoding() {
        assert_eq!(SetValue::for_first(b"1", 5, &SMALL).encoding(), "hashtable");
        assert_eq!(SetValue::for_first(b"1", 4, &SMALL).encoding(), "intset");
        assert_eq!(SetValue::for_first(b"a", 3, &SMALL).encoding(), "listpack");
        assert_eq!(SetValue::for_first(b"01", 1, &SMALL).encoding(), "listpack");
        let mut s = SetValue::for_first(b"a", 1, &SMALL);
        s.reserve_for(4, &SMALL);
        assert_eq!(s.encoding(), "hashtable");
    }

    #[test]
    fn integer_listpack_compacts_to_intset() {
        let mut s = SetValue::with_encoding(SetEncoding::Listpack);
        s.insert(b("9"), &SMALL);
        s.insert(b("-1"), &SMALL);
        s.compact_integers(&SMALL);
        assert_eq!(s.encoding(), "intset");
        assert_eq!(order(&s), [&b"-1"[..], b"9"]);
        assert!(SetValue::collect([b("1"), b("1")], &SMALL).is_none());
    }
}
