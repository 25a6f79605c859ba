//! An order-statistics tree over `(score, member)`: the ordered half of a sorted set.
//!
//! A treap (binary search tree whose nodes also obey a heap order on random priorities, so
//! its expected depth is O(log n)) where every node knows the size of its subtree. That gives
//! insert, remove, rank of an element, element at a rank and "how many elements come before
//! this bound" in O(log n), and iteration over a rank range in O(log n + k). Nodes live in an
//! arena (`Vec`) addressed by `u32`, with a free list, so there are no per-node allocations
//! and no unsafe code. Scores are never NaN; ties are ordered by member bytes, as in Redis.

use std::cmp::Ordering;

use bytes::Bytes;

const NIL: u32 = u32::MAX;

#[derive(Debug, Clone)]
struct Node {
    score: f64,
    member: Bytes,
    priority: u32,
    left: u32,
    right: u32,
    size: u32,
}

/// Elements sorted by score, then member.
#[derive(Debug, Clone)]
pub struct ScoreIndex {
    nodes: Vec<Node>,
    free: Vec<u32>,
    root: u32,
    /// xorshift state for node priorities (deterministic: the shape never shows outside).
    seed: u32,
}

impl Default for ScoreIndex {
    fn default() -> Self {
        ScoreIndex {
            nodes: Vec::new(),
            free: Vec::new(),
            root: NIL,
            seed: 0x9E37_79B9,
        }
    }
}

/// Redis's element order: by score, then by member bytes.
pub fn compare(a_score: f64, a_member: &[u8], b_score: f64, b_member: &[u8]) -> Ordering {
    a_score
        .partial_cmp(&b_score)
        .unwrap_or(Ordering::Equal)
        .then_with(|| a_member.cmp(b_member))
}

impl ScoreIndex {
    pub fn len(&self) -> usize {
        self.size(self.root)
    }

    pub fn is_empty(&self) -> bool {
        self.root == NIL
    }

    fn size(&self, n: u32) -> usize {
        if n == NIL {
            0
        } else {
            self.nodes[n as usize].size as usize
        }
    }

    fn node(&self, n: u32) -> &Node {
        &self.nodes[n as usize]
    }

    fn update(&mut self, n: u32) {
        let size = 1 + self.size(self.node(n).left) + self.size(self.node(n).right);
        self.nodes[n as usize].size = size as u32;
    }

    fn next_priority(&mut self) -> u32 {
        let mut x = self.seed;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.seed = x;
        x
    }

    /// Splits subtree `t` into (elements for which `goes_left` holds, the rest). `goes_left`
    /// must hold for a prefix of the order.
    fn split(&mut self, t: u32, goes_left: &impl Fn(f64, &[u8]) -> bool) -> (u32, u32) {
        if t == NIL {
            return (NIL, NIL);
        }
        let (score, left, right) = {
            let n = self.node(t);
            (n.score, n.left, n.right)
        };
        if goes_left(score, &self.nodes[t as usize].member) {
            let (a, b) = self.split(right, goes_left);
            self.nodes[t as usize].right = a;
            self.update(t);
            (t, b)
        } else {
            let (a, b) = self.split(left, goes_left);
            self.nodes[t as usize].left = b;
            self.update(t);
            (a, t)
        }
    }

    /// Joins two subtrees where every element of `a` precedes every element of `b`.
    fn merge(&mut self, a: u32, b: u32) -> u32 {
        if a == NIL {
            return b;
        }
        if b == NIL {
            return a;
        }
        if self.node(a).priority > self.node(b).priority {
            let right = self.node(a).right;
            let merged = self.merge(right, b);
            self.nodes[a as usize].right = merged;
            self.update(a);
            a
        } else {
            let left = self.node(b).left;
            let merged = self.merge(a, left);
            self.nodes[b as usize].left = merged;
            self.update(b);
            b
        }
    }

    /// Adds an element; the caller guarantees `member` is not in the index.
    pub fn insert(&mut self, score: f64, member: Bytes) {
        let priority = self.next_priority();
        let node = Node {
            score,
            member,
            priority,
            left: NIL,
            right: NIL,
            size: 1,
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.nodes[id as usize] = node;
                id
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        self.root = self.insert_node(self.root, id);
    }

    /// Inserts node `id` into subtree `t`: down the search path to where its priority
    /// belongs in the heap order, then the subtree there is split around it. One walk down
    /// instead of a split and two merges of the whole tree.
    fn insert_node(&mut self, t: u32, id: u32) -> u32 {
        if t == NIL {
            return id;
        }
        let (score, member) = {
            let n = self.node(id);
            (n.score, n.member.clone())
        };
        if self.node(id).priority > self.node(t).priority {
            let (left, right) =
                self.split(t, &|s, m| compare(s, m, score, &member) == Ordering::Less);
            let n = &mut self.nodes[id as usize];
            n.left = left;
            n.right = right;
            self.update(id);
            return id;
        }
        let goes_left = {
            let n = self.node(t);
            compare(score, &member, n.score, &n.member) == Ordering::Less
        };
        if goes_left {
            let left = self.insert_node(self.node(t).left, id);
            self.nodes[t as usize].left = left;
        } else {
            let right = self.insert_node(self.node(t).right, id);
            self.nodes[t as usize].right = right;
        }
        self.update(t);
        t
    }

    /// Removes the element `(score, member)`; returns whether it was there.
    pub fn remove(&mut self, score: f64, member: &[u8]) -> bool {
        let (root, found) = self.remove_from(self.root, score, member);
        self.root = root;
        if self.root == NIL {
            // Reclaim the arena when the set empties.
            self.nodes = Vec::new();
            self.free = Vec::new();
        }
        found
    }

    /// Removes `(score, member)` from subtree `t`: down the search path to the node, which
    /// its two children, merged, replace. Returns the new subtree and whether it was found.
    fn remove_from(&mut self, t: u32, score: f64, member: &[u8]) -> (u32, bool) {
        if t == NIL {
            return (NIL, false);
        }
        let (order, left, right) = {
            let n = self.node(t);
            (compare(score, member, n.score, &n.member), n.left, n.right)
        };
        let found = match order {
            Ordering::Equal => {
                self.nodes[t as usize].member = Bytes::new();
                self.free.push(t);
                return (self.merge(left, right), true);
            }
            Ordering::Less => {
                let (sub, found) = self.remove_from(left, score, member);
                self.nodes[t as usize].left = sub;
                found
            }
            Ordering::Greater => {
                let (sub, found) = self.remove_from(right, score, member);
                self.nodes[t as usize].right = sub;
                found
            }
        };
        if found {
            self.update(t);
        }
        (t, found)
    }

    /// How many elements satisfy `before`, which must hold for a prefix of the order (for
    /// example "score below the range's minimum").
    pub fn count_before(&self, before: impl Fn(f64, &[u8]) -> bool) -> usize {
        let mut count = 0;
        let mut t = self.root;
        while t != NIL {
            let n = self.node(t);
            if before(n.score, &n.member) {
                count += self.size(n.left) + 1;
                t = n.right;
            } else {
                t = n.left;
            }
        }
        count
    }

    /// The 0-based rank of `(score, member)`, which must be present.
    pub fn rank(&self, score: f64, member: &[u8]) -> usize {
        self.count_before(|s, m| compare(s, m, score, member) == Ordering::Less)
    }

    /// The element at 0-based `rank`.
    pub fn get(&self, rank: usize) -> Option<(f64, &Bytes)> {
        let mut t = self.root;
        let mut rank = rank;
        while t != NIL {
            let n = self.node(t);
            let left = self.size(n.left);
            match rank.cmp(&left) {
                Ordering::Less => t = n.left,
                Ordering::Equal => return Some((n.score, &n.member)),
                Ordering::Greater => {
                    rank -= left + 1;
                    t = n.right;
                }
            }
        }
        None
    }

    /// Visits the elements of ranks `start..end` in order.
    pub fn for_range(&self, start: usize, end: usize, mut visit: impl FnMut(f64, &Bytes)) {
        self.visit(self.root, 0, start, end.min(self.len()), &mut visit);
    }

    /// In-order walk of subtree `t`, whose first element has rank `offset`, skipping
    /// subtrees entirely outside `start..end`.
    fn visit(
        &self,
        t: u32,
        offset: usize,
        start: usize,
        end: usize,
        visit: &mut impl FnMut(f64, &Bytes),
    ) {
        if t == NIL || start >= end {
            return;
        }
        let n = self.node(t);
        let here = offset + self.size(n.left);
        if start < here {
            self.visit(n.left, offset, start, end, visit);
        }
        if (start..end).contains(&here) {
            visit(n.score, &n.member);
        }
        if end > here + 1 {
            self.visit(n.right, here + 1, start, end, visit);
        }
    }

    /// The elements of ranks `start..end`, in order.
    pub fn range(&self, start: usize, end: usize) -> Vec<(f64, Bytes)> {
        let mut out = Vec::with_capacity(end.saturating_sub(start).min(self.len()));
        self.for_range(start, end, |s, m| out.push((s, m.clone())));
        out
    }

    /// Bytes held by the arena (MEMORY USAGE).
    pub fn heap_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// A total order on (score, member) for the model.
    #[derive(Debug, Clone, PartialEq)]
    struct Key(f64, Vec<u8>);
    impl Eq for Key {}
    impl PartialOrd for Key {
        fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
            Some(self.cmp(o))
        }
    }
    impl Ord for Key {
        fn cmp(&self, o: &Self) -> Ordering {
            compare(self.0, &self.1, o.0, &o.1)
        }
    }

    #[test]
    fn agrees_with_a_sorted_model() {
        let mut index = ScoreIndex::default();
        let mut model: BTreeSet<Key> = BTreeSet::new();
        let mut x: u64 = 12345;
        for step in 0..4000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let member = format!("m{}", (x >> 33) % 300).into_bytes();
            let score = ((x >> 20) % 7) as f64 - 3.0;
            if let Some(old) = model.iter().find(|k| k.1 == member).cloned() {
                assert!(index.remove(old.0, &old.1));
                model.remove(&old);
            }
            if step % 3 != 0 {
                index.insert(score, Bytes::from(member.clone()));
                model.insert(Key(score, member));
            }
            assert_eq!(index.len(), model.len());
        }
        let all: Vec<Key> = model.iter().cloned().collect();
        let got: Vec<Key> = index
            .range(0, usize::MAX)
            .into_iter()
            .map(|(s, m)| Key(s, m.to_vec()))
            .collect();
        assert_eq!(got, all);
        for (rank, k) in all.iter().enumerate() {
            assert_eq!(index.rank(k.0, &k.1), rank);
            let (s, m) = index.get(rank).unwrap();
            assert_eq!((s, m.as_ref()), (k.0, k.1.as_slice()));
        }
        assert!(index.get(all.len()).is_none());
        let below_zero = all.iter().filter(|k| k.0 < 0.0).count();
        assert_eq!(index.count_before(|s, _| s < 0.0), below_zero);
        let middle: Vec<Key> = index
            .range(5, 9)
            .into_iter()
            .map(|(s, m)| Key(s, m.to_vec()))
            .collect();
        assert_eq!(middle, all[5..9].to_vec());
        assert!(!index.remove(100.0, b"absent"));
    }

    #[test]
    fn ties_order_by_member_and_emptying_resets() {
        let mut index = ScoreIndex::default();
        for m in ["c", "a", "b"] {
            index.insert(1.0, Bytes::from(m));
        }
        index.insert(f64::NEG_INFINITY, Bytes::from("z"));
        let order: Vec<Bytes> = index.range(0, 10).into_iter().map(|(_, m)| m).collect();
        assert_eq!(order, ["z", "a", "b", "c"]);
        for (s, m) in [(1.0, "a"), (1.0, "b"), (1.0, "c"), (f64::NEG_INFINITY, "z")] {
            assert!(index.remove(s, m.as_bytes()));
        }
        assert!(index.is_empty());
        assert_eq!(index.heap_bytes(), 0);
    }
}
