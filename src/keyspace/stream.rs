//! The stream value: entries ordered by id, the id bookkeeping Redis 7 keeps (last id,
//! entries added, max deleted id, first id) and consumer groups with their pending entries
//! lists (PEL) and consumers. Depends only on `bytes`; the commands live in `commands::stream`.
//!
//! Redis stores entries in listpack "nodes" of at most `stream-node-max-entries` entries
//! (and `stream-node-max-bytes` bytes). Approximate trimming (`MAXLEN ~`, `MINID ~`) removes
//! whole nodes only, and XINFO reports the node count, so the node boundaries are tracked
//! here ([`Node`]) beside the entries themselves.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use bytes::Bytes;

use super::value::canonical_i64;

/// A stream entry id: milliseconds and sequence number, ordered as Redis orders them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const ZERO: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    /// The next id, or `None` past the last possible one.
    pub fn incr(self) -> Option<StreamId> {
        match (self.ms, self.seq) {
            (u64::MAX, u64::MAX) => None,
            (ms, u64::MAX) => Some(StreamId::new(ms + 1, 0)),
            (ms, seq) => Some(StreamId::new(ms, seq + 1)),
        }
    }

    /// The previous id, or `None` before 0-0.
    pub fn decr(self) -> Option<StreamId> {
        match (self.ms, self.seq) {
            (0, 0) => None,
            (ms, 0) => Some(StreamId::new(ms - 1, u64::MAX)),
            (ms, seq) => Some(StreamId::new(ms, seq - 1)),
        }
    }

    pub fn is_zero(self) -> bool {
        self == StreamId::ZERO
    }

    /// The `ms-seq` text Redis replies with.
    pub fn to_bytes(self) -> Bytes {
        Bytes::from(self.to_string())
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// `entries_read` of a group whose position in the stream is unknown (Redis's
/// `SCG_INVALID_ENTRIES_READ`).
pub const INVALID_ENTRIES_READ: i64 = -1;

/// One listpack node as Redis would have laid it out: how many entries it holds (live and
/// deleted), its last id, its master entry's field names and its size in bytes.
#[derive(Debug, Clone, PartialEq)]
struct Node {
    live: u64,
    deleted: u64,
    last: StreamId,
    master_fields: Vec<Bytes>,
    bytes: usize,
}

/// A pending (delivered, not yet acknowledged) entry of a group.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingEntry {
    pub consumer: Bytes,
    /// Unix time in ms of the last delivery.
    pub delivery_time: u64,
    pub delivery_count: u64,
}

/// A consumer of a group.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Consumer {
    /// Unix time in ms of the consumer's last attempted interaction.
    pub seen_time: u64,
    /// The ids this consumer owns in the group's PEL.
    pub pel: BTreeSet<StreamId>,
}

/// A consumer group.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub last_id: StreamId,
    /// Logical count of entries the group has read, or [`INVALID_ENTRIES_READ`].
    pub entries_read: i64,
    pub pel: BTreeMap<StreamId, PendingEntry>,
    /// Consumers by name (Redis keeps them in a radix tree: byte order).
    pub consumers: BTreeMap<Bytes, Consumer>,
}

impl Group {
    pub fn new(last_id: StreamId, entries_read: i64) -> Group {
        Group {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            consumers: BTreeMap::new(),
        }
    }

    /// Creates consumer `name` seen at `now`; false if it existed.
    pub fn create_consumer(&mut self, name: &Bytes, now: u64) -> bool {
        if self.consumers.contains_key(name) {
            return false;
        }
        self.consumers.insert(
            name.clone(),
            Consumer {
                seen_time: now,
                pel: BTreeSet::new(),
            },
        );
        true
    }

    /// Deletes consumer `name` and its pending entries; the number of entries it had pending.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let consumer = self.consumers.remove(name)?;
        for id in &consumer.pel {
            self.pel.remove(id);
        }
        Some(consumer.pel.len())
    }

    /// Removes `id` from the PEL (its owner's too); whether it was pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        let Some(pending) = self.pel.remove(&id) else {
            return false;
        };
        if let Some(owner) = self.consumers.get_mut(&pending.consumer) {
            owner.pel.remove(&id);
        }
        true
    }

    /// Gives pending entry `id` to `consumer` (creating the PEL entry when missing), moving
    /// it out of its previous owner's list. Returns the entry to update.
    pub fn assign(&mut self, id: StreamId, consumer: &Bytes, now: u64) -> &mut PendingEntry {
        let pending = self.pel.entry(id).or_insert_with(|| PendingEntry {
            consumer: Bytes::new(),
            delivery_time: now,
            delivery_count: 1,
        });
        if pending.consumer != *consumer {
            if let Some(old) = self.consumers.get_mut(&pending.consumer) {
                old.pel.remove(&id);
            }
            pending.consumer = consumer.clone();
        }
        self.consumers
            .entry(consumer.clone())
            .or_default()
            .pel
            .insert(id);
        pending
    }
}

/// A node as [`StreamValue::nodes`] lists it: master id, master field names, live entries.
pub type StreamNode<'a> = (StreamId, &'a [Bytes], Vec<(StreamId, &'a Vec<Bytes>)>);

/// How XADD / XTRIM trim.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Trim {
    MaxLen(u64),
    MinId(StreamId),
}

/// A stream.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StreamValue {
    /// Entries by id: field, value, field, value ...
    entries: BTreeMap<StreamId, Vec<Bytes>>,
    /// Listpack nodes by their first (master) id.
    nodes: BTreeMap<StreamId, Node>,
    pub last_id: StreamId,
    /// The id of the first entry, 0-0 when empty (`recorded-first-entry-id`).
    pub first_id: StreamId,
    pub max_deleted_id: StreamId,
    /// Entries ever added (`entries-added`).
    pub entries_added: u64,
    /// Consumer groups by name (Redis's radix tree: byte order).
    pub groups: BTreeMap<Bytes, Group>,
}

/// Node layout limits (`stream-node-max-entries`, `stream-node-max-bytes`).
#[derive(Debug, Clone, Copy)]
pub struct NodeLimits {
    pub entries: u64,
    pub bytes: usize,
}

/// Bytes of a listpack integer element: encoding, data and back-length.
fn lp_int_bytes(n: i64) -> usize {
    match n {
        0..=127 => 2,
        -4096..=4095 => 3,
        -32_768..=32_767 => 4,
        -8_388_608..=8_388_607 => 5,
        -2_147_483_648..=2_147_483_647 => 6,
        _ => 10,
    }
}

/// Bytes of a listpack string element (stored as an integer when it is one's canonical
/// text, as Redis stores it).
fn lp_str_bytes(s: &[u8]) -> usize {
    if let Some(n) = canonical_i64(s) {
        return lp_int_bytes(n);
    }
    let len = s.len();
    let data = len
        + match len {
            0..=63 => 1,
            64..=4095 => 2,
            _ => 5,
        };
    data + match data {
        0..=127 => 1,
        128..=16_382 => 2,
        16_383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    }
}

/// Bytes an entry takes in a node whose master entry is `master` with `master_fields`.
fn entry_bytes(master: StreamId, master_fields: &[Bytes], id: StreamId, fields: &[Bytes]) -> usize {
    let pairs = fields.len() / 2;
    let same = pairs == master_fields.len() && fields.iter().step_by(2).eq(master_fields.iter());
    let head = lp_int_bytes(0)
        + lp_int_bytes(id.ms.wrapping_sub(master.ms) as i64)
        + lp_int_bytes(id.seq.wrapping_sub(master.seq) as i64);
    let body: usize = if same {
        fields
            .iter()
            .skip(1)
            .step_by(2)
            .map(|v| lp_str_bytes(v))
            .sum::<usize>()
            + lp_int_bytes(pairs as i64 + 3)
    } else {
        lp_int_bytes(pairs as i64)
            + fields.iter().map(|f| lp_str_bytes(f)).sum::<usize>()
            + lp_int_bytes(2 * pairs as i64 + 4)
    };
    head + body
}

/// Largest listpack Redis lets a stream node reach whatever the configuration.
const LISTPACK_MAX_BYTES: usize = 1 << 30;

impl StreamValue {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding(&self) -> &'static str {
        "stream"
    }

    /// Number of listpack nodes (XINFO `radix-tree-keys`).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Nodes of the radix tree Redis keeps the listpack nodes in (XINFO `radix-tree-nodes`),
    /// counted as Redis's rax lays out 16-byte big-endian keys: a compressed node for every
    /// run of bytes shared by all keys below it, a branching node where they part, and a
    /// leaf per key.
    pub fn radix_tree_nodes(&self) -> usize {
        fn count(keys: &[[u8; 16]], depth: usize) -> usize {
            match keys {
                [] => 0,
                [_] if depth == 16 => 1,
                [_] => 2,
                _ => {
                    let first = &keys[0];
                    let last = &keys[keys.len() - 1];
                    let shared = (depth..16).take_while(|&i| first[i] == last[i]).count();
                    if shared > 0 {
                        return 1 + count(keys, depth + shared);
                    }
                    // Sorted keys: each first byte's group is a contiguous run.
                    let mut total = 1;
                    let mut start = 0;
                    while start < keys.len() {
                        let byte = keys[start][depth];
                        let end = start
                            + keys[start..]
                                .iter()
                                .take_while(|k| k[depth] == byte)
                                .count();
                        total += count(&keys[start..end], depth + 1);
                        start = end;
                    }
                    total
                }
            }
        }
        let keys: Vec<[u8; 16]> = self
            .nodes
            .keys()
            .map(|id| {
                let mut key = [0u8; 16];
                key[..8].copy_from_slice(&id.ms.to_be_bytes());
                key[8..].copy_from_slice(&id.seq.to_be_bytes());
                key
            })
            .collect();
        1.max(count(&keys, 0))
    }

    /// Bytes held, estimated from up to `samples` entries (MEMORY USAGE).
    pub fn memory_usage(&self, samples: usize) -> usize {
        let sampled: Vec<usize> = self
            .entries
            .values()
            .take(samples.max(1))
            .map(|fields| fields.iter().map(|f| lp_str_bytes(f)).sum())
            .collect();
        let average = sampled.iter().sum::<usize>() / sampled.len().max(1);
        let groups: usize = self
            .groups
            .values()
            .map(|g| 64 + g.pel.len() * 48 + g.consumers.len() * 64)
            .sum();
        64 + self.nodes.len() * 32 + average * self.entries.len() + groups
    }

    pub fn get(&self, id: StreamId) -> Option<&Vec<Bytes>> {
        self.entries.get(&id)
    }

    /// The first and last entries.
    pub fn first(&self) -> Option<(StreamId, &Vec<Bytes>)> {
        self.entries.iter().next().map(|(id, f)| (*id, f))
    }

    pub fn last(&self) -> Option<(StreamId, &Vec<Bytes>)> {
        self.entries.iter().next_back().map(|(id, f)| (*id, f))
    }

    /// Entries with ids in `start..=end`, in order (reversed if `rev`).
    pub fn range(
        &self,
        start: StreamId,
        end: StreamId,
        rev: bool,
    ) -> Box<dyn Iterator<Item = (StreamId, &Vec<Bytes>)> + '_> {
        if start > end {
            return Box::new(std::iter::empty());
        }
        let iter = self.entries.range(start..=end).map(|(id, f)| (*id, f));
        if rev {
            Box::new(iter.rev())
        } else {
            Box::new(iter)
        }
    }

    /// Appends an entry with `id` (greater than `last_id`; the caller checks).
    pub fn append(&mut self, id: StreamId, fields: Vec<Bytes>, limits: NodeLimits) {
        let max_bytes = match limits.bytes {
            0 => LISTPACK_MAX_BYTES,
            n => n.min(LISTPACK_MAX_BYTES),
        };
        // Redis opens a new node when the tail's bytes plus the new strings' lengths reach
        // the byte limit, or the tail holds the maximum number of entries (deleted included).
        let fits = self.nodes.iter().next_back().is_some_and(|(_, node)| {
            let strings: usize = fields.iter().map(Bytes::len).sum();
            node.bytes + strings < max_bytes
                && (limits.entries == 0 || node.live + node.deleted < limits.entries)
        });
        match self.nodes.iter_mut().next_back() {
            Some((&master, node)) if fits => {
                node.bytes += entry_bytes(master, &node.master_fields, id, &fields)
                    + lp_int_bytes((node.live + 1) as i64)
                    - lp_int_bytes(node.live as i64);
                node.live += 1;
                node.last = id;
            }
            _ => {
                let master_fields: Vec<Bytes> = fields.iter().step_by(2).cloned().collect();
                // Header and end, then the master entry: count, deleted, field count, the
                // field names and its terminator.
                let bytes = 7
                    + lp_int_bytes(1)
                    + lp_int_bytes(0)
                    + lp_int_bytes(master_fields.len() as i64)
                    + master_fields.iter().map(|f| lp_str_bytes(f)).sum::<usize>()
                    + lp_int_bytes(0)
                    + entry_bytes(id, &master_fields, id, &fields);
                self.nodes.insert(
                    id,
                    Node {
                        live: 1,
                        deleted: 0,
                        last: id,
                        master_fields,
                        bytes,
                    },
                );
            }
        }
        self.entries.insert(id, fields);
        self.last_id = id;
        self.entries_added = self.entries_added.wrapping_add(1);
        if self.entries.len() == 1 {
            self.first_id = id;
        }
    }

    /// The listpack nodes in order: each node's first (master) id, master field names and
    /// live entries (DUMP).
    pub fn nodes(&self) -> impl Iterator<Item = StreamNode<'_>> + '_ {
        self.nodes.iter().map(|(&master, node)| {
            let live = self
                .entries
                .range(master..=node.last)
                .map(|(id, f)| (*id, f))
                .collect();
            (master, &node.master_fields[..], live)
        })
    }

    /// Appends a node read from a payload (RESTORE): its master id and field names, live
    /// entries, how many deleted ones it still held, its last id and size. False when it does not follow the
    /// nodes before it in id order, or holds nothing.
    pub fn push_loaded_node(
        &mut self,
        master: StreamId,
        master_fields: Vec<Bytes>,
        entries: Vec<(StreamId, Vec<Bytes>)>,
        deleted: u64,
        last: StreamId,
        bytes: usize,
    ) -> bool {
        let after_previous = self
            .nodes
            .iter()
            .next_back()
            .is_none_or(|(_, n)| n.last < master);
        let ordered = entries.windows(2).all(|w| w[0].0 < w[1].0)
            && entries.iter().all(|(id, _)| master <= *id && *id <= last);
        if !after_previous || !ordered || entries.is_empty() {
            return false;
        }
        let live = entries.len() as u64;
        self.entries.extend(entries);
        self.nodes.insert(
            master,
            Node {
                live,
                deleted,
                last,
                master_fields,
                bytes,
            },
        );
        true
    }

    /// Deletes entry `id` (XDEL); whether it existed. Updates the first and max deleted ids.
    pub fn delete(&mut self, id: StreamId) -> bool {
        if self.entries.remove(&id).is_none() {
            return false;
        }
        if let Some((&master, node)) = self.nodes.range_mut(..=id).next_back() {
            node.live = node.live.saturating_sub(1);
            node.deleted += 1;
            if node.live == 0 {
                self.nodes.remove(&master);
            }
        }
        if id > self.max_deleted_id {
            self.max_deleted_id = id;
        }
        if id == self.first_id {
            self.refresh_first_id();
        } else if self.entries.is_empty() {
            self.first_id = StreamId::ZERO;
        }
        true
    }

    fn refresh_first_id(&mut self) {
        self.first_id = self.first().map_or(StreamId::ZERO, |(id, _)| id);
    }

    /// Trims as XADD / XTRIM do: exactly, or (`approx`) whole nodes only and at most `limit`
    /// entries (0: no limit). Returns the number of entries removed.
    pub fn trim(&mut self, trim: Trim, approx: bool, limit: u64) -> u64 {
        let mut removed = 0u64;
        while let Some((&master, node)) = self.nodes.iter().next() {
            if let Trim::MaxLen(max) = trim
                && self.entries.len() as u64 <= max
            {
                break;
            }
            let live = node.live;
            if limit > 0 && removed + live > limit {
                break;
            }
            let whole = match trim {
                Trim::MaxLen(max) => (self.entries.len() as u64).saturating_sub(live) >= max,
                Trim::MinId(min) => node.last < min,
            };
            if whole {
                let last = node.last;
                self.nodes.remove(&master);
                let doomed: Vec<StreamId> = self
                    .entries
                    .range(master..=last)
                    .map(|(id, _)| *id)
                    .collect();
                for id in doomed {
                    self.entries.remove(&id);
                }
                removed += live;
                continue;
            }
            if approx {
                break;
            }
            // Within the node: delete entries one by one from its head.
            let candidates: Vec<StreamId> = self
                .entries
                .range(master..=node.last)
                .map(|(id, _)| *id)
                .collect();
            let mut gone = 0;
            for id in candidates {
                let stop = match trim {
                    Trim::MaxLen(max) => self.entries.len() as u64 <= max,
                    Trim::MinId(min) => id >= min,
                };
                if stop {
                    break;
                }
                self.entries.remove(&id);
                gone += 1;
            }
            if let Some(node) = self.nodes.get_mut(&master) {
                node.live = node.live.saturating_sub(gone);
                node.deleted += gone;
            }
            removed += gone;
            break;
        }
        if removed > 0 {
            self.refresh_first_id();
        }
        removed
    }

    /// Whether an XDEL tombstone may lie within `start..=end` (Redis's
    /// `streamRangeHasTombstones`).
    pub fn range_has_tombstones(&self, start: StreamId, end: StreamId) -> bool {
        if self.entries.is_empty() || self.max_deleted_id.is_zero() {
            return false;
        }
        if self.first_id > self.max_deleted_id {
            return false;
        }
        start <= self.max_deleted_id && self.max_deleted_id <= end
    }

    /// The logical position (entries added up to and including `id`) of `id`, when it can be
    /// known (Redis's `streamEstimateDistanceFromFirstEverEntry`).
    pub fn estimate_entries_read(&self, id: StreamId) -> i64 {
        let added = self.entries_added as i64;
        if self.entries_added == 0 {
            return 0;
        }
        if self.entries.is_empty() && id <= self.last_id {
            return added;
        }
        if id == self.last_id {
            return added;
        }
        if id > self.last_id {
            return INVALID_ENTRIES_READ;
        }
        if self.max_deleted_id.is_zero() || self.max_deleted_id < self.first_id {
            let len = self.entries.len() as i64;
            if id < self.first_id {
                return added.wrapping_sub(len);
            }
            if id == self.first_id {
                return added.wrapping_sub(len).wrapping_add(1);
            }
        }
        INVALID_ENTRIES_READ
    }

    /// A group's lag: entries not yet delivered to it, when it can be known.
    pub fn lag(&self, group: &Group) -> Option<i64> {
        let added = self.entries_added as i64;
        if self.entries_added == 0 {
            return Some(0);
        }
        if group.entries_read != INVALID_ENTRIES_READ
            && !self.range_has_tombstones(group.last_id, StreamId::MAX)
        {
            return Some(added.wrapping_sub(group.entries_read));
        }
        match self.estimate_entries_read(group.last_id) {
            INVALID_ENTRIES_READ => None,
            read => Some(added.wrapping_sub(read)),
        }
    }

    /// Moves `group`'s last delivered id forward to `id` (XREADGROUP `>` delivering it),
    /// keeping its `entries_read` counter.
    pub fn advance_group(&mut self, group: &Bytes, id: StreamId) {
        let tombstones = self.range_has_tombstones(id, StreamId::MAX);
        let estimate = self.estimate_entries_read(id);
        let added = self.entries_added;
        let Some(g) = self.groups.get_mut(group) else {
            return;
        };
        if id <= g.last_id {
            return;
        }
        if g.entries_read != INVALID_ENTRIES_READ && !tombstones {
            g.entries_read = g.entries_read.wrapping_add(1);
        } else if added > 0 {
            g.entries_read = estimate;
        }
        g.last_id = id;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> NodeLimits {
        NodeLimits {
            entries: 3,
            bytes: 4096,
        }
    }

    fn filled(n: u64) -> StreamValue {
        let mut s = StreamValue::default();
        for i in 1..=n {
            s.append(
                StreamId::new(i, 0),
                vec![Bytes::from("f"), Bytes::from("v")],
                limits(),
            );
        }
        s
    }

    #[test]
    fn ids_step_across_their_limits() {
        assert_eq!(StreamId::new(1, u64::MAX).incr(), Some(StreamId::new(2, 0)));
        assert_eq!(StreamId::MAX.incr(), None);
        assert_eq!(StreamId::new(2, 0).decr(), Some(StreamId::new(1, u64::MAX)));
        assert_eq!(StreamId::ZERO.decr(), None);
    }

    #[test]
    fn approximate_trim_removes_whole_nodes_only() {
        let mut s = filled(10);
        assert_eq!(s.node_count(), 4);
        assert_eq!(s.trim(Trim::MaxLen(5), true, 0), 3);
        assert_eq!(s.len(), 7);
        assert_eq!(s.trim(Trim::MaxLen(5), false, 0), 2);
        assert_eq!(s.len(), 5);
        assert_eq!(s.first_id, StreamId::new(6, 0));
        assert_eq!(s.trim(Trim::MinId(StreamId::new(8, 0)), false, 0), 2);
        assert_eq!(s.first_id, StreamId::new(8, 0));
    }

    #[test]
    fn radix_tree_nodes_count_like_rax() {
        let one = NodeLimits {
            entries: 1,
            bytes: 4096,
        };
        let mut s = StreamValue::default();
        assert_eq!(s.radix_tree_nodes(), 1, "an empty rax is its root");
        s.append(StreamId::new(14, 0), vec![Bytes::from("f")], one);
        assert_eq!(s.radix_tree_nodes(), 2, "a compressed node and the key");
        s.append(StreamId::new(27, 0), vec![Bytes::from("f")], one);
        assert_eq!(
            s.radix_tree_nodes(),
            6,
            "shared prefix, branch, two chains, two keys"
        );
        s.append(StreamId::new(27, 1), vec![Bytes::from("f")], one);
        assert_eq!(s.radix_tree_nodes(), 8, "as redis-server 7.0 reports it");
    }

    #[test]
    fn deletes_track_tombstones_and_lag() {
        let mut s = filled(4);
        let mut g = Group::new(StreamId::ZERO, 0);
        assert_eq!(s.lag(&g), Some(4));
        assert!(s.delete(StreamId::new(2, 0)));
        assert!(!s.delete(StreamId::new(2, 0)));
        assert_eq!(s.max_deleted_id, StreamId::new(2, 0));
        assert_eq!(s.lag(&g), None, "a tombstone lies ahead of the group");
        g.last_id = StreamId::new(4, 0);
        g.entries_read = INVALID_ENTRIES_READ;
        assert_eq!(s.lag(&g), Some(0));
        assert!(s.delete(StreamId::new(1, 0)));
        assert_eq!(s.first_id, StreamId::new(3, 0));
    }
}
