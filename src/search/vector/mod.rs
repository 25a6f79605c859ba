//! Vector indexes of VECTOR fields: FLAT (exact scan over contiguous vectors) and HNSW
//! (graph search), behind one [`VectorIndex`] type that the rest of the search engine uses.
//!
//! Vectors are stored as f32, COSINE vectors normalised at insert, and distances are reported
//! as RediSearch reports them (see [`crate::search::Metric`]). FLOAT64 indexes also keep an
//! f64 copy of every vector (normalised in f64): RediSearch computes their distances in
//! double, so every distance they report or compare with a radius is computed in f64, while
//! their graph is navigated (and KNN candidates chosen) in f32, then re-scored in f64. Internally synchronised: every method takes `&self`, so
//! searches run alongside inserts. HNSW keeps every live vector in the exact store too:
//! vectors not (yet) in the graph are searched exactly, so every insert is visible to the
//! next query, and selective filters are answered by an exact scan.
//!
//! Range queries (`VECTOR_RANGE`) are answered exactly by both algorithms (RediSearch's HNSW
//! answer is an approximation of this; `EPSILON` only bounds how approximate it may be).
//!
//! Must not depend on anything outside `crate::search`.

mod graph;
mod hnsw;
mod metric;
mod store;

use std::sync::Arc;

use bytes::Bytes;
use roaring::RoaringBitmap;

use self::graph::{GraphState, Shared};
use self::hnsw::HnswParams;
use self::metric::Element;
use self::store::{Hit, VectorStore};
use super::{Deadline, DocId, Metric, SearchError, VectorAlgorithm, VectorParams, VectorType};

pub use self::hnsw::GraphImage;
pub use self::metric::distance;

/// A filtered KNN scans the allowed ids exactly when `allowed² <= EXACT_COST_RATIO × ef ×
/// live`. Why: an exact scan costs ~`allowed` distances, a graph search with the filter
/// applied during traversal ~`ef / selectivity` (it walks past filtered-out nodes), i.e.
/// `ef × live / allowed`. Measured on 31768 384-d vectors (benches/vector_index.rs): a 10%
/// filter costs 0.2 ms exact against 0.55 ms (ef 10) to 2.2 ms (ef 40) through the graph,
/// and the exact answer has recall 1. The ratio puts the break-even there.
const EXACT_COST_RATIO: f64 = 40.0;

/// One VECTOR field's index.
pub struct VectorIndex {
    metric: Metric,
    dim: usize,
    data_type: VectorType,
    ef_runtime: usize,
    shared: Arc<Shared>,
    /// HNSW with a running background worker (without one, pending vectors stay pending and
    /// are searched exactly for good: nothing is "still indexing").
    worker: bool,
}

/// The state behind the index lock.
struct Inner {
    /// Every live vector.
    store: VectorStore,
    /// FLOAT64 only: every live vector in f64, for the distances reported.
    wide: Option<VectorStore<f64>>,
    /// HNSW only.
    graph: Option<GraphState>,
}

/// A query vector checked against the index (size, conversion, normalisation).
pub struct QueryVector {
    v: Vec<f32>,
    /// FLOAT64 indexes only.
    wide: Option<Vec<f64>>,
}

impl VectorIndex {
    pub fn new(params: &VectorParams) -> VectorIndex {
        // INITIAL_CAP is a hint: reserve at most 64 MiB of vectors up front.
        let max_rows = (64 << 20) / (params.dim * 4).max(1);
        let capacity = params.initial_cap.unwrap_or(0).min(max_rows);
        let graph = (params.algorithm == VectorAlgorithm::Hnsw).then(|| {
            GraphState::new(HnswParams {
                metric: params.metric,
                dim: params.dim,
                m: params.m,
                ef_construction: params.ef_construction.max(1),
                capacity,
            })
        });
        let has_graph = graph.is_some();
        let shared = Arc::new(Shared::new(Inner {
            store: VectorStore::new(params.dim, capacity),
            wide: (params.data_type == VectorType::Float64)
                .then(|| VectorStore::new(params.dim, capacity)),
            graph,
        }));
        // Without a worker, pending vectors are simply searched exactly.
        let worker = has_graph && graph::spawn_worker(&shared).is_some();
        VectorIndex {
            metric: params.metric,
            dim: params.dim,
            data_type: params.data_type,
            ef_runtime: params.ef_runtime.max(1),
            shared,
            worker,
        }
    }

    fn blob_len(&self) -> usize {
        self.dim * self.data_type.size()
    }

    /// The f32 vector of a blob of the right length and, for FLOAT64, its f64 vector; both
    /// normalised for COSINE (the f32 one is the f64 one's rounding).
    fn decode(&self, blob: &[u8]) -> (Vec<f32>, Option<Vec<f64>>) {
        match self.data_type {
            VectorType::Float32 => {
                let mut v: Vec<f32> = blob
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect();
                if self.metric == Metric::Cosine {
                    metric::normalise(&mut v);
                }
                (v, None)
            }
            VectorType::Float64 => {
                let mut wide: Vec<f64> = blob
                    .chunks_exact(8)
                    .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
                    .collect();
                if self.metric == Metric::Cosine {
                    metric::normalise(&mut wide);
                }
                (wide.iter().map(|&x| x as f32).collect(), Some(wide))
            }
        }
    }

    /// Adds (or replaces) the vector of `id`. A blob of the wrong size is refused with
    /// `Could not add vector with blob size N (expected size M)` and nothing changes.
    /// HNSW: the vector is searched exactly until the background worker has put it in the
    /// graph.
    pub fn insert(&self, id: DocId, blob: &[u8]) -> Result<(), SearchError> {
        if blob.len() != self.blob_len() {
            return Err(SearchError::Other(format!(
                "Could not add vector with blob size {} (expected size {})",
                blob.len(),
                self.blob_len()
            )));
        }
        let (v, wide) = self.decode(blob);
        let mut inner = self.shared.inner.write();
        inner.store.put(id.0, &v);
        if let (Some(store), Some(wide)) = (&mut inner.wide, wide) {
            store.put(id.0, &wide);
        }
        if let Some(graph) = &mut inner.graph {
            graph.on_insert(id.0);
            drop(inner);
            self.shared.poke();
        }
        Ok(())
    }

    /// Forgets `id` (its vector is no longer returned).
    pub fn remove(&self, id: DocId) {
        let mut inner = self.shared.inner.write();
        let Inner { store, wide, graph } = &mut *inner;
        if let Some(wide) = wide {
            wide.remove(id.0);
        }
        if store.remove(id.0)
            && let Some(graph) = graph
        {
            graph.on_remove(id.0);
            drop(inner);
            self.shared.poke();
        }
    }

    /// Removes every vector.
    pub fn clear(&self) {
        let mut inner = self.shared.inner.write();
        inner.store.clear();
        if let Some(wide) = &mut inner.wide {
            wide.clear();
        }
        if let Some(graph) = &mut inner.graph {
            graph.clear();
        }
    }

    /// Holds the HNSW worker until [`VectorIndex::release_graph`] (see
    /// [`VectorIndex::adopt_graph`]); inserts are searched exactly meanwhile. Nothing for FLAT.
    pub fn hold_graph(&self) {
        self.shared.hold();
    }

    pub fn release_graph(&self) {
        self.shared.release();
    }

    /// Calls `f` with the image of the HNSW graph (`None` for FLAT), its nodes named by
    /// `keys_of(ids)`. The worker is held meanwhile, so inserts wait in `pending` while the
    /// graph is read and searches go on.
    pub fn with_graph_image<R>(
        &self,
        keys_of: impl FnOnce(&[u32]) -> Vec<Option<Bytes>>,
        f: impl FnOnce(&GraphImage<'_>) -> R,
    ) -> Option<R> {
        let hnsw = Arc::clone(&self.shared.inner.read().graph.as_ref()?.hnsw);
        self.shared.hold();
        let keys = keys_of(&hnsw.ids());
        let image = hnsw.with_image(keys, f);
        self.shared.release();
        Some(image)
    }

    /// Puts the graph `image` describes in place of the current one (see
    /// [`graph::GraphState::adopt`]: `ids` names each node's live document, if any, and
    /// `fresh` gives ids to nodes that answer for none). Returns the nodes adopted.
    pub fn adopt_graph(
        &self,
        image: GraphImage<'_>,
        ids: &[Option<u32>],
        fresh: impl FnMut() -> u32,
    ) -> Result<u64, SearchError> {
        let mut inner = self.shared.inner.write();
        let Inner { store, graph, .. } = &mut *inner;
        let graph = graph
            .as_mut()
            .ok_or_else(|| SearchError::Other("not an HNSW index".into()))?;
        let adopted = graph
            .adopt(store, image, ids, fresh)
            .map_err(SearchError::Other)?;
        drop(inner);
        self.shared.poke();
        Ok(adopted)
    }

    /// Blocks until the background worker has put every pending vector in the graph and
    /// finished any rebuild (for benchmarks and tests; queries never need to wait).
    pub fn wait_indexed(&self) {
        loop {
            let settled = self
                .shared
                .inner
                .read()
                .graph
                .as_ref()
                .is_none_or(GraphState::settled);
            if settled && !self.shared.worker_active() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    /// How many vectors the background worker has yet to put in the graph (0 for FLAT, and
    /// when no worker runs). Replaced vectors waiting for a rebuild do not count: the worker
    /// may never take them, and they are answered exactly like any pending vector. Cheap: a
    /// read lock and a bitmap difference, never waiting for the worker.
    pub fn pending_len(&self) -> u64 {
        if !self.worker {
            return 0;
        }
        self.shared
            .inner
            .read()
            .graph
            .as_ref()
            .map_or(0, GraphState::placeable_len)
    }

    /// Graph nodes left by removed or replaced vectors (tombstones), which searches skip
    /// until the worker rebuilds the graph: RediSearch's vectors "marked deleted".
    pub fn marked_deleted(&self) -> u64 {
        self.shared
            .inner
            .read()
            .graph
            .as_ref()
            .map_or(0, GraphState::tombstones)
    }

    /// Checks and prepares a query blob; a wrong size gives RediSearch's `Error parsing vector
    /// similarity query: query vector blob size (N) does not match index's expected size (M).`
    pub fn query_vector(&self, blob: &[u8]) -> Result<QueryVector, SearchError> {
        if blob.len() != self.blob_len() {
            return Err(SearchError::Other(format!(
                "Error parsing vector similarity query: query vector blob size ({}) does not match index's expected size ({}).",
                blob.len(),
                self.blob_len()
            )));
        }
        let (v, wide) = self.decode(blob);
        Ok(QueryVector { v, wide })
    }

    /// The `k` nearest live vectors, nearest first (ties by ascending id), restricted to the
    /// ids in `filter` when given. `ef_runtime` overrides the index's EF_RUNTIME (HNSW).
    /// Chooses exact scan or graph search from the filter's size, so recall holds at every
    /// selectivity. FLOAT64: distances in f64 (FLAT: an exact f64 scan; HNSW: the f32
    /// search's hits re-scored). An exact scan stops early once `deadline` is reached,
    /// answering the nearest of the vectors it compared.
    pub fn knn(
        &self,
        query: &QueryVector,
        k: usize,
        ef_runtime: Option<usize>,
        filter: Option<&RoaringBitmap>,
        deadline: &Deadline,
    ) -> Vec<(DocId, f64)> {
        if k == 0 {
            return Vec::new();
        }
        let inner = self.shared.inner.read();
        let q = &query.v;
        match (&inner.graph, &inner.wide, &query.wide) {
            (None, Some(wide), Some(qw)) => {
                to_results(wide.top_k(self.metric, qw, k, filter, deadline))
            }
            (None, ..) => to_results(inner.store.top_k(self.metric, q, k, filter, deadline)),
            (Some(graph), wide, qw) => {
                let ef = ef_runtime.unwrap_or(self.ef_runtime).max(1);
                let search = GraphSearch { q, k, ef, filter };
                let hits = self.graph_knn(&inner.store, graph, search, deadline);
                match (wide, qw) {
                    (Some(wide), Some(qw)) => self.rescore(wide, qw, hits),
                    _ => to_results(hits),
                }
            }
        }
    }

    /// `hits`' distances recomputed from the f64 vectors, nearest first, ties by id.
    fn rescore(&self, wide: &VectorStore<f64>, q: &[f64], hits: Vec<Hit>) -> Vec<(DocId, f64)> {
        let mut hits: Vec<Hit<f64>> = hits
            .into_iter()
            .filter_map(|h| {
                let v = wide.get(h.id)?;
                Some(Hit {
                    dist: distance(self.metric, q, v),
                    id: h.id,
                })
            })
            .collect();
        hits.sort_unstable();
        to_results(hits)
    }

    /// HNSW KNN: exact over a selective filter, else graph search (filtered during traversal,
    /// widened by the share of tombstones) merged with an exact search of the pending vectors.
    fn graph_knn(
        &self,
        store: &VectorStore,
        graph: &GraphState,
        search: GraphSearch<'_>,
        deadline: &Deadline,
    ) -> Vec<Hit> {
        let GraphSearch { q, k, ef, filter } = search;
        let (in_graph, pending) = match filter {
            Some(f) => {
                let in_graph = f & graph.current();
                let allowed = (in_graph.len() + f.intersection_len(graph.pending())) as f64;
                let graph_cost = EXACT_COST_RATIO * ef.max(k) as f64 * store.len() as f64;
                if allowed * allowed <= graph_cost {
                    return store.top_k(self.metric, q, k, Some(f), deadline);
                }
                (Some(in_graph), f & graph.pending())
            }
            None => (None, graph.pending().clone()),
        };
        let ef = ((ef.max(k) as f64) * graph.dead_ratio()).ceil() as usize;
        let mut hits = match (&in_graph, graph.all_current()) {
            (Some(set), _) => graph.hnsw.search(q, k, ef, Some(|id| set.contains(id))),
            (None, false) => graph
                .hnsw
                .search(q, k, ef, Some(|id| graph.current().contains(id))),
            (None, true) => {
                let mut hits = graph.hnsw.search(q, k, ef, None::<fn(u32) -> bool>);
                // The worker may have added nodes since `all_current` was checked; those ids
                // are pending (answered by the exact search below) or removed.
                hits.retain(|h| graph.current().contains(h.id));
                hits
            }
        };
        let reachable = in_graph
            .as_ref()
            .map_or(graph.current().len(), RoaringBitmap::len);
        if (hits.len() as u64) < reachable.min(k as u64) {
            // The filter cut the graph into pieces the search could not reach: answer exactly.
            return store.top_k(self.metric, q, k, filter, deadline);
        }
        if !pending.is_empty() {
            hits.extend(store.top_k(self.metric, q, k, Some(&pending), deadline));
            hits.sort_unstable();
            hits.truncate(k);
        }
        hits
    }

    /// Every live vector within `radius` (HNSW: widened by `epsilon`, default the index's),
    /// nearest first, restricted to `filter` when given. Answered exactly (FLOAT64: in f64),
    /// so `epsilon` (which only bounds the approximation of a graph search) has no effect.
    /// The scan stops early once `deadline` is reached.
    pub fn range(
        &self,
        query: &QueryVector,
        radius: f64,
        epsilon: Option<f64>,
        filter: Option<&RoaringBitmap>,
        deadline: &Deadline,
    ) -> Vec<(DocId, f64)> {
        let _ = epsilon; // see above: the search is exact
        let inner = self.shared.inner.read();
        match (&inner.wide, &query.wide) {
            (Some(wide), Some(qw)) => {
                to_results(wide.within(self.metric, qw, radius, filter, deadline))
            }
            _ => to_results(inner.store.within(
                self.metric,
                &query.v,
                radius as f32,
                filter,
                deadline,
            )),
        }
    }

    /// Live vectors.
    pub fn len(&self) -> usize {
        self.shared.inner.read().store.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes used by vectors and graph (FT.INFO `vector_index_sz_mb`).
    pub fn memory_bytes(&self) -> usize {
        let inner = self.shared.inner.read();
        inner.store.memory_bytes()
            + inner.wide.as_ref().map_or(0, VectorStore::memory_bytes)
            + inner.graph.as_ref().map_or(0, GraphState::memory_bytes)
    }
}

impl Drop for VectorIndex {
    fn drop(&mut self) {
        graph::stop_worker(&self.shared);
    }
}

/// One graph KNN request: the query vector, K, EF and the ids allowed.
#[derive(Clone, Copy)]
struct GraphSearch<'a> {
    q: &'a [f32],
    k: usize,
    ef: usize,
    filter: Option<&'a RoaringBitmap>,
}

fn to_results<T: Element>(hits: Vec<Hit<T>>) -> Vec<(DocId, f64)> {
    hits.into_iter()
        .map(|h| (DocId(h.id), h.dist.to_f64()))
        .collect()
}

#[cfg(test)]
mod tests;
