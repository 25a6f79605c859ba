//! The list value: a deque of elements with O(1) pushes and pops at both ends, and the
//! encoding Redis 7.4 would report for it.
//!
//! Redis keeps a small list in one listpack and a larger one in a quicklist (a linked list of
//! listpacks). `list-max-listpack-size` sets the limit: a positive value is a number of
//! entries, a negative one a byte size (-1 = 4 KiB ... -5 = 64 KiB). A write that would pass
//! the limit converts the list to a quicklist; since Redis 7.2 a quicklist converts back
//! once it shrinks to half the limit. To decide as Redis does, the list keeps a running
//! estimate of the bytes its elements take in a listpack. Redis also requires the quicklist
//! to be down to one node before converting back; without modelling nodes, a list within
//! half the limit is taken to fit in one. Depends only on `bytes`; the commands live in
//! `commands::list`.

use std::collections::VecDeque;

use bytes::Bytes;

/// Listpack header (total bytes u32 + count u16) and end marker.
const LISTPACK_OVERHEAD: usize = 7;
/// The byte limits of the negative `list-max-listpack-size` settings, -1 first.
const SIZE_LIMITS: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// A count-limited listpack is still converted past this many bytes (Redis's safety limit).
const SIZE_SAFETY_LIMIT: usize = 8192;

/// A list.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListValue {
    items: VecDeque<Bytes>,
    /// Sum of the listpack entry sizes of `items` (see [`entry_size`]).
    entry_bytes: usize,
    /// Whether Redis would hold the list as a quicklist rather than one listpack.
    quicklist: bool,
}

/// Which end of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Head,
    Tail,
}

impl ListValue {
    /// A list of `items`, encoded as Redis encodes a loaded list: a listpack when the whole
    /// list fits within `limit` (`list-max-listpack-size`).
    pub fn from_items(items: impl IntoIterator<Item = Bytes>, limit: i64) -> ListValue {
        let items: VecDeque<Bytes> = items.into_iter().collect();
        let entry_bytes = items.iter().map(|i| entry_size(i)).sum();
        let mut list = ListValue {
            items,
            entry_bytes,
            quicklist: false,
        };
        list.quicklist = exceeds(limit, list.listpack_bytes(), list.items.len());
        list
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding(&self) -> &'static str {
        if self.quicklist {
            "quicklist"
        } else {
            "listpack"
        }
    }

    /// Whether the list is held as a quicklist.
    pub fn is_quicklist(&self) -> bool {
        self.quicklist
    }

    /// The elements, head first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Bytes> + ExactSizeIterator {
        self.items.iter()
    }

    /// The elements at `from..to` (in range), found without walking the ones before.
    pub fn range(&self, from: usize, to: usize) -> impl Iterator<Item = &Bytes> {
        self.items.range(from..to)
    }

    pub fn get(&self, index: usize) -> Option<&Bytes> {
        self.items.get(index)
    }

    /// Bytes the listpack holding this list would take.
    fn listpack_bytes(&self) -> usize {
        LISTPACK_OVERHEAD + self.entry_bytes
    }

    /// Before a write adds `added` (raw argument strings): converts to a quicklist when the
    /// listpack would pass the limit, as Redis checks before pushing or inserting.
    pub fn grow_check<'a>(&mut self, added: impl IntoIterator<Item = &'a Bytes>, limit: i64) {
        if self.quicklist {
            return;
        }
        let (count, bytes) = added
            .into_iter()
            .fold((0, 0), |(c, b), item| (c + 1, b + item.len()));
        if exceeds(
            limit,
            self.listpack_bytes() + bytes,
            self.items.len() + count,
        ) {
            self.quicklist = true;
        }
    }

    /// After a write removed or replaced elements: a quicklist that has shrunk to half the
    /// limit becomes a listpack again (Redis 7.2+).
    pub fn shrink_check(&mut self, limit: i64) {
        if !self.quicklist || self.items.is_empty() {
            return;
        }
        let (size_limit, count_limit) = node_limits(limit);
        let (size_limit, count_limit) = (size_limit.map(|s| s / 2), count_limit.map(|c| c / 2));
        let bytes = self.listpack_bytes();
        // A count-limited quicklist node is only one node while within the safety size.
        let fits = match (size_limit, count_limit) {
            (Some(size), _) => bytes <= size,
            (None, Some(count)) => bytes <= SIZE_SAFETY_LIMIT && self.items.len() <= count,
            (None, None) => true,
        };
        if fits {
            self.quicklist = false;
        }
    }

    pub fn push(&mut self, end: End, item: Bytes) {
        self.entry_bytes += entry_size(&item);
        match end {
            End::Head => self.items.push_front(item),
            End::Tail => self.items.push_back(item),
        }
    }

    pub fn pop(&mut self, end: End) -> Option<Bytes> {
        let item = match end {
            End::Head => self.items.pop_front(),
            End::Tail => self.items.pop_back(),
        }?;
        self.entry_bytes -= entry_size(&item);
        Some(item)
    }

    /// Replaces the element at `index`; false when out of range.
    pub fn set(&mut self, index: usize, item: Bytes) -> bool {
        let Some(slot) = self.items.get_mut(index) else {
            return false;
        };
        self.entry_bytes = self.entry_bytes - entry_size(slot) + entry_size(&item);
        *slot = item;
        true
    }

    pub fn insert(&mut self, index: usize, item: Bytes) {
        self.entry_bytes += entry_size(&item);
        self.items.insert(index, item);
    }

    /// Keeps only the elements at `start..end` (clamped).
    pub fn keep_range(&mut self, start: usize, end: usize) {
        let end = end.min(self.items.len());
        let start = start.min(end);
        let removed: usize = self
            .items
            .iter()
            .take(start)
            .chain(self.items.iter().skip(end))
            .map(|i| entry_size(i))
            .sum();
        self.items.truncate(end);
        self.items.drain(..start);
        self.entry_bytes -= removed;
    }

    /// Removes up to `limit` elements equal to `item` (all when `None`), scanning from `from`.
    /// Returns how many went.
    pub fn remove_matching(&mut self, item: &[u8], limit: Option<usize>, from: End) -> usize {
        let mut left = limit.unwrap_or(usize::MAX);
        let mut keep = vec![true; self.items.len()];
        let order: Box<dyn Iterator<Item = usize>> = match from {
            End::Head => Box::new(0..self.items.len()),
            End::Tail => Box::new((0..self.items.len()).rev()),
        };
        for i in order {
            if left == 0 {
                break;
            }
            if self.items[i] == item {
                keep[i] = false;
                left -= 1;
            }
        }
        let before = self.items.len();
        let mut flags = keep.into_iter();
        let mut removed_bytes = 0;
        self.items.retain(|i| {
            let keep = flags.next().unwrap_or(true);
            if !keep {
                removed_bytes += entry_size(i);
            }
            keep
        });
        self.entry_bytes -= removed_bytes;
        before - self.items.len()
    }

    /// Bytes held, estimated from up to `samples` elements (MEMORY USAGE).
    pub fn memory_usage(&self, samples: usize) -> usize {
        let sampled: Vec<usize> = self
            .items
            .iter()
            .take(samples.max(1))
            .map(Bytes::len)
            .collect();
        let average = sampled.iter().sum::<usize>() / sampled.len().max(1);
        self.items.capacity() * std::mem::size_of::<Bytes>() + average * self.items.len()
    }
}

/// The (byte, count) limits of one listpack under `list-max-listpack-size` = `fill`.
fn node_limits(fill: i64) -> (Option<usize>, Option<usize>) {
    if fill >= 0 {
        (None, Some(usize::try_from(fill).unwrap_or(0).max(1)))
    } else {
        let level = usize::try_from(-(fill + 1))
            .unwrap_or(0)
            .min(SIZE_LIMITS.len() - 1);
        (Some(SIZE_LIMITS[level]), None)
    }
}

/// Whether a listpack of `bytes` bytes and `count` entries passes the limit `fill`.
fn exceeds(fill: i64, bytes: usize, count: usize) -> bool {
    match node_limits(fill) {
        (Some(size), _) => bytes > size,
        (None, Some(max)) => bytes > SIZE_SAFETY_LIMIT || count > max,
        (None, None) => false,
    }
}

/// Bytes one element takes in a listpack: encoding byte(s), data and back length. Strings
/// that are canonical integers are stored as integers, in 1 to 9 bytes.
fn entry_size(item: &[u8]) -> usize {
    let body = match integer_value(item) {
        Some(v) if (0..=127).contains(&v) => 1,
        Some(v) if (-4096..=4095).contains(&v) => 2,
        Some(v) if i16::try_from(v).is_ok() => 3,
        Some(v) if (-(1 << 23)..(1 << 23)).contains(&v) => 4,
        Some(v) if i32::try_from(v).is_ok() => 5,
        Some(_) => 9,
        None if item.len() < 64 => 1 + item.len(),
        None if item.len() < 4096 => 2 + item.len(),
        None => 5 + item.len(),
    };
    let back_len = match body {
        0..128 => 1,
        128..16384 => 2,
        16384..2097152 => 3,
        2097152..268435456 => 4,
        _ => 5,
    };
    body + back_len
}

/// `item` as an integer when it is one written canonically (no sign on 0, no leading zeros).
fn integer_value(item: &[u8]) -> Option<i64> {
    if item.is_empty() || item.len() > 20 {
        return None;
    }
    let v: i64 = std::str::from_utf8(item).ok()?.parse().ok()?;
    (itoa::Buffer::new().format(v).as_bytes() == item).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> ListValue {
        ListValue::from_items(items.iter().map(|s| Bytes::from(s.to_string())), 128)
    }

    #[test]
    fn entry_sizes_follow_listpack_encodings() {
        assert_eq!(entry_size(b"5"), 2);
        assert_eq!(entry_size(b"-1"), 3);
        assert_eq!(entry_size(b"100000"), 5);
        assert_eq!(entry_size(b"05"), 4, "not canonical: a string");
        assert_eq!(entry_size(b"abc"), 5);
        assert_eq!(entry_size(&[b'x'; 100]), 103);
    }

    #[test]
    fn count_limit_converts_and_half_converts_back() {
        let mut l = list(&[]);
        for i in 0..5 {
            let item = Bytes::from(format!("v{i}"));
            l.grow_check([&item], 4);
            l.push(End::Tail, item);
        }
        assert!(l.is_quicklist());
        l.pop(End::Head);
        l.pop(End::Head);
        l.shrink_check(4);
        assert!(l.is_quicklist(), "3 > half of 4");
        l.pop(End::Head);
        l.shrink_check(4);
        assert_eq!(l.encoding(), "listpack");
    }

    #[test]
    fn edits_keep_the_byte_estimate() {
        let mut l = list(&["a", "b", "a", "c", "a"]);
        assert_eq!(l.remove_matching(b"a", Some(2), End::Tail), 2);
        assert_eq!(l.iter().cloned().collect::<Vec<_>>(), ["a", "b", "c"]);
        l.keep_range(1, 2);
        assert_eq!(l.iter().cloned().collect::<Vec<_>>(), ["b"]);
        l.set(0, Bytes::from_static(b"zz"));
        assert_eq!(l.entry_bytes, entry_size(b"zz"));
    }
}
