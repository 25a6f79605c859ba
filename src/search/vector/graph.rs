//! The HNSW graph of an index (hnsw_rs) and the bookkeeping that lets it live with deletes
//! and updates: graph points are never removed, a removed or replaced id just stops being
//! *current* (a tombstone) and searches skip it; ids whose vector is not in the graph are
//! *pending* and searched exactly by the caller. Past a share of tombstones the graph is
//! rebuilt from the live vectors.
//!
//! Must not depend on anything outside `search::vector` and `search::Metric`.

use hnsw_rs::anndists::dist::distances::Distance;
use hnsw_rs::hnsw::Hnsw;
use roaring::RoaringBitmap;

use super::metric::distance;
use super::store::VectorStore;
use crate::search::Metric;

/// hnsw_rs's layer bound (it caps at 16).
const MAX_LAYERS: usize = 16;
/// A rebuild is due once tombstones are this share of graph points ...
const REBUILD_DEAD_SHARE: f64 = 0.25;
/// ... and at least this many.
const REBUILD_DEAD_MIN: u64 = 128;

/// The distance the graph orders by: the metric's, mapped monotonically onto `[0, inf)`
/// because hnsw_rs requires non-negative distances (IP's `1 - dot` is negative for long
/// vectors). Callers re-score hits with the true distance.
pub struct GraphDistance(pub Metric);

impl Distance<f32> for GraphDistance {
    #[inline]
    fn eval(&self, a: &[f32], b: &[f32]) -> f32 {
        let d = distance(self.0, a, b);
        match self.0 {
            Metric::L2 => d,
            // Normalised vectors: `1 - dot` is in [0, 2] up to rounding.
            Metric::Cosine => d.max(0.0),
            Metric::Ip => {
                if d >= 0.0 {
                    d + 1.0
                } else {
                    d.exp()
                }
            }
        }
    }
}

/// Construction parameters of a graph.
#[derive(Debug, Clone, Copy)]
pub struct GraphParams {
    pub metric: Metric,
    pub m: usize,
    pub ef_construction: usize,
    pub capacity: usize,
}

pub struct Graph {
    params: GraphParams,
    hnsw: Hnsw<'static, f32, GraphDistance>,
    /// Every id with a point in the graph (current or tombstoned).
    points: RoaringBitmap,
    /// Ids whose graph point is their live vector.
    current: RoaringBitmap,
    /// Live ids whose vector is not in the graph.
    pending: RoaringBitmap,
}

impl Graph {
    pub fn new(params: GraphParams) -> Graph {
        Graph {
            params,
            hnsw: new_hnsw(&params, params.capacity),
            points: RoaringBitmap::new(),
            current: RoaringBitmap::new(),
            pending: RoaringBitmap::new(),
        }
    }

    /// Records `id`'s new vector `v` (already stored by the caller).
    pub fn insert(&mut self, id: u32, v: &[f32]) {
        if self.points.contains(id) {
            // The graph cannot move a point: the old one becomes a tombstone and the new
            // vector is searched exactly until the next rebuild.
            self.current.remove(id);
            self.pending.insert(id);
        } else {
            self.hnsw.insert_slice((v, id as usize));
            self.points.insert(id);
            self.current.insert(id);
        }
    }

    pub fn remove(&mut self, id: u32) {
        self.current.remove(id);
        self.pending.remove(id);
    }

    pub fn clear(&mut self) {
        *self = Graph::new(GraphParams {
            capacity: 0,
            ..self.params
        });
    }

    /// Ids searched by the graph.
    pub fn current(&self) -> &RoaringBitmap {
        &self.current
    }

    /// Live ids the caller must search exactly.
    pub fn pending(&self) -> &RoaringBitmap {
        &self.pending
    }

    fn tombstones(&self) -> u64 {
        self.points.len() - self.current.len()
    }

    /// Approximate nearest current ids to `q` (graph order, not re-scored), restricted to
    /// `allowed` (a subset of [`Graph::current`]) when given. `ef` is widened by the share
    /// of tombstones the search walks through.
    pub fn search(
        &self,
        q: &[f32],
        k: usize,
        ef: usize,
        allowed: Option<&RoaringBitmap>,
    ) -> Vec<u32> {
        let live = self.current.len().max(1) as f64;
        let widen = self.points.len() as f64 / live;
        let ef = ((ef.max(k) as f64 * widen).ceil() as usize).max(k);
        let hits = match allowed {
            Some(set) => {
                let keep = |id: &usize| set.contains(*id as u32);
                self.hnsw.search_filter(q, k, ef, Some(&keep))
            }
            None if self.tombstones() > 0 => {
                let keep = |id: &usize| self.current.contains(*id as u32);
                self.hnsw.search_filter(q, k, ef, Some(&keep))
            }
            None => self.hnsw.search_filter(q, k, ef, None),
        };
        hits.iter().map(|n| n.d_id as u32).collect()
    }

    pub fn needs_rebuild(&self) -> bool {
        let dead = self.tombstones();
        dead >= REBUILD_DEAD_MIN && dead as f64 > self.points.len() as f64 * REBUILD_DEAD_SHARE
    }

    /// A fresh graph of every vector in `store` (tombstones dropped, pending ids added).
    pub fn rebuild(&mut self, store: &VectorStore) {
        let hnsw = new_hnsw(&self.params, store.len());
        let mut points = RoaringBitmap::new();
        for (id, v) in store.rows() {
            hnsw.insert_slice((v, id as usize));
            points.insert(id);
        }
        self.hnsw = hnsw;
        self.current = points.clone();
        self.points = points;
        self.pending.clear();
    }

    /// Bytes of the graph: its copy of the vectors and its neighbour lists (estimated from
    /// hnsw_rs's layout: per point a vector, an id pair, and per link an `Arc` and a distance).
    pub fn memory_bytes(&self, dim: usize) -> usize {
        let per_point = dim * 4 + 64 + 2 * self.params.m * 24 + MAX_LAYERS * 24;
        self.points.len() as usize * per_point
            + (self.points.serialized_size()
                + self.current.serialized_size()
                + self.pending.serialized_size())
    }
}

fn new_hnsw(params: &GraphParams, capacity: usize) -> Hnsw<'static, f32, GraphDistance> {
    Hnsw::new(
        params.m,
        capacity.max(1024),
        MAX_LAYERS,
        params.ef_construction,
        GraphDistance(params.metric),
    )
}
