//! The vectors of one index, contiguous f32 (or f64) rows (one slot per live document), and the exact
//! searches over them: top-k and radius, over every row or over a set of ids.
//!
//! Removing a row moves the last row into its slot, so rows stay dense and a full scan reads
//! memory sequentially.
//!
//! Must not depend on anything outside `search::vector` and `search::{DocId, Metric}`.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use roaring::RoaringBitmap;

use super::metric::{Element, distance};
use crate::search::{Deadline, Metric};

/// Rows of `dim` values (f32, or f64 for FLOAT64 indexes' exact distances), addressed by
/// document id.
pub struct VectorStore<T = f32> {
    dim: usize,
    data: Vec<T>,
    /// Slot -> document id.
    ids: Vec<u32>,
    /// Document id -> slot.
    slots: HashMap<u32, u32, foldhash::fast::RandomState>,
}

impl<T: Element> VectorStore<T> {
    pub fn new(dim: usize, capacity: usize) -> VectorStore<T> {
        VectorStore {
            dim,
            data: Vec::with_capacity(capacity.saturating_mul(dim)),
            ids: Vec::with_capacity(capacity),
            slots: HashMap::with_capacity_and_hasher(capacity, Default::default()),
        }
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Adds `id`'s row, replacing the previous one if any. `v` has `dim` values.
    pub fn put(&mut self, id: u32, v: &[T]) {
        debug_assert_eq!(v.len(), self.dim);
        match self.slots.get(&id) {
            Some(&slot) => {
                let at = slot as usize * self.dim;
                self.data[at..at + self.dim].copy_from_slice(v);
            }
            None => {
                self.slots.insert(id, self.ids.len() as u32);
                self.ids.push(id);
                self.data.extend_from_slice(v);
            }
        }
    }

    /// Removes `id`'s row; true if it was there.
    pub fn remove(&mut self, id: u32) -> bool {
        let Some(slot) = self.slots.remove(&id) else {
            return false;
        };
        let slot = slot as usize;
        let last = self.ids.len() - 1;
        if slot != last {
            let moved = self.ids[last];
            self.ids[slot] = moved;
            self.slots.insert(moved, slot as u32);
            self.data
                .copy_within(last * self.dim..(last + 1) * self.dim, slot * self.dim);
        }
        self.ids.pop();
        self.data.truncate(last * self.dim);
        true
    }

    pub fn clear(&mut self) {
        self.data.clear();
        self.ids.clear();
        self.slots.clear();
    }

    pub fn get(&self, id: u32) -> Option<&[T]> {
        let at = *self.slots.get(&id)? as usize * self.dim;
        Some(&self.data[at..at + self.dim])
    }

    /// Every (id, row), in slot order.
    pub fn rows(&self) -> impl Iterator<Item = (u32, &[T])> {
        self.ids
            .iter()
            .copied()
            .zip(self.data.chunks_exact(self.dim.max(1)))
    }

    /// Bytes held by rows and tables.
    pub fn memory_bytes(&self) -> usize {
        self.data.capacity() * size_of::<T>() + self.ids.capacity() * 4 + self.slots.capacity() * 12
    }

    /// Calls `f(id, row)` for every row whose id is in `only` (all rows when `None`),
    /// walking whichever of the two sets is smaller.
    pub fn for_each(
        &self,
        only: Option<&RoaringBitmap>,
        deadline: &Deadline,
        mut f: impl FnMut(u32, &[T]),
    ) {
        match only {
            Some(set) if (set.len() as usize) < self.len() => {
                for id in set.iter().take_while(|_| !deadline.reached()) {
                    if let Some(v) = self.get(id) {
                        f(id, v);
                    }
                }
            }
            Some(set) => {
                for (id, v) in self.rows().take_while(|_| !deadline.reached()) {
                    if set.contains(id) {
                        f(id, v);
                    }
                }
            }
            None => self
                .rows()
                .take_while(|_| !deadline.reached())
                .for_each(|(id, v)| f(id, v)),
        }
    }

    /// The `k` rows nearest to `q` among `only` (or all), nearest first, ties by id.
    pub fn top_k(
        &self,
        metric: Metric,
        q: &[T],
        k: usize,
        only: Option<&RoaringBitmap>,
        deadline: &Deadline,
    ) -> Vec<Hit<T>> {
        let mut top = TopK::new(k);
        self.for_each(only, deadline, |id, v| {
            top.push(Hit {
                dist: distance(metric, q, v),
                id,
            })
        });
        top.into_sorted()
    }

    /// Every row within `radius` of `q` among `only` (or all), nearest first, ties by id.
    pub fn within(
        &self,
        metric: Metric,
        q: &[T],
        radius: T,
        only: Option<&RoaringBitmap>,
        deadline: &Deadline,
    ) -> Vec<Hit<T>> {
        let mut hits = Vec::new();
        self.for_each(only, deadline, |id, v| {
            let dist = distance(metric, q, v);
            if dist <= radius {
                hits.push(Hit { dist, id });
            }
        });
        hits.sort_unstable();
        hits
    }
}

/// A search result: a document id and its distance. Ordered by distance, then id.
#[derive(Debug, Clone, Copy)]
pub struct Hit<T = f32> {
    pub dist: T,
    pub id: u32,
}

impl<T: Element> PartialEq for Hit<T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl<T: Element> Eq for Hit<T> {}

impl<T: Element> Ord for Hit<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.dist
            .total_cmp(&other.dist)
            .then(self.id.cmp(&other.id))
    }
}

impl<T: Element> PartialOrd for Hit<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The `k` smallest hits pushed so far (a max-heap of them).
pub struct TopK<T = f32> {
    k: usize,
    heap: BinaryHeap<Hit<T>>,
}

impl<T: Element> TopK<T> {
    pub fn new(k: usize) -> TopK<T> {
        TopK {
            k,
            heap: BinaryHeap::with_capacity(k.min(4096) + 1),
        }
    }

    #[inline]
    pub fn push(&mut self, hit: Hit<T>) {
        if self.heap.len() < self.k {
            self.heap.push(hit);
        } else if let Some(mut worst) = self.heap.peek_mut()
            && hit < *worst
        {
            *worst = hit;
        }
    }

    pub fn into_sorted(self) -> Vec<Hit<T>> {
        self.heap.into_sorted_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(rows: &[(u32, [f32; 2])]) -> VectorStore {
        let mut s = VectorStore::new(2, 0);
        for (id, v) in rows {
            s.put(*id, v);
        }
        s
    }

    #[test]
    fn put_replace_remove_keep_rows_dense() {
        let mut s = store(&[(1, [1.0, 0.0]), (2, [2.0, 0.0]), (3, [3.0, 0.0])]);
        s.put(2, &[5.0, 5.0]);
        assert_eq!(s.get(2), Some(&[5.0f32, 5.0][..]));
        assert!(s.remove(1));
        assert!(!s.remove(1));
        assert_eq!(s.len(), 2);
        assert_eq!(s.get(3), Some(&[3.0f32, 0.0][..]));
        assert_eq!(s.get(1), None);
        let mut seen: Vec<u32> = s.rows().map(|(id, _)| id).collect();
        seen.sort();
        assert_eq!(seen, vec![2, 3]);
        s.clear();
        assert_eq!(s.len(), 0);
    }

    #[test]
    fn top_k_orders_by_distance_then_id() {
        let s = store(&[
            (5, [1.0, 0.0]),
            (3, [1.0, 0.0]),
            (4, [0.0, 0.0]),
            (9, [3.0, 0.0]),
        ]);
        let hits = s.top_k(Metric::L2, &[0.0, 0.0], 3, None, &Deadline::default());
        let ids: Vec<u32> = hits.iter().map(|h| h.id).collect();
        assert_eq!(ids, vec![4, 3, 5]);
        assert_eq!(hits[1].dist, 1.0);
        let only: RoaringBitmap = [9u32, 5, 77].into_iter().collect();
        let ids: Vec<u32> = s
            .top_k(
                Metric::L2,
                &[0.0, 0.0],
                10,
                Some(&only),
                &Deadline::default(),
            )
            .iter()
            .map(|h| h.id)
            .collect();
        assert_eq!(ids, vec![5, 9]);
    }

    #[test]
    fn within_radius() {
        let s = store(&[(1, [1.0, 0.0]), (2, [2.0, 0.0]), (3, [3.0, 0.0])]);
        let ids: Vec<u32> = s
            .within(Metric::L2, &[0.0, 0.0], 4.0, None, &Deadline::default())
            .iter()
            .map(|h| h.id)
            .collect();
        assert_eq!(ids, vec![1, 2]);
    }
}
