//! Vector indexes of VECTOR fields: FLAT (exact scan over contiguous vectors) and HNSW
//! (graph search), behind one [`VectorIndex`] type that the rest of the search engine uses.
//!
//! Vectors are stored as f32 (FLOAT64 blobs are converted), COSINE vectors normalised at
//! insert, and distances are reported as RediSearch reports them (see
//! [`crate::search::Metric`]). Internally synchronised: every method takes `&self`, so
//! searches run alongside inserts; expensive work (graph inserts, rebuilds) runs on a
//! background thread, and vectors not yet in the graph are searched exactly, so every insert
//! is visible to the next query.
//!
//! Must not depend on anything outside `crate::search`.

use roaring::RoaringBitmap;

use super::{DocId, SearchError, VectorParams};

/// One VECTOR field's index.
pub struct VectorIndex {}

/// A query vector checked against the index (size, conversion, normalisation).
pub struct QueryVector {}

impl VectorIndex {
    pub fn new(params: &VectorParams) -> VectorIndex {
        let _ = params;
        todo!()
    }

    /// Adds (or replaces) the vector of `id`. A blob of the wrong size is refused with
    /// `Could not add vector with blob size N (expected size M)` and nothing changes.
    pub fn insert(&self, id: DocId, blob: &[u8]) -> Result<(), SearchError> {
        let _ = (id, blob);
        todo!()
    }

    /// Forgets `id` (its vector is no longer returned).
    pub fn remove(&self, id: DocId) {
        let _ = id;
        todo!()
    }

    /// Removes every vector.
    pub fn clear(&self) {
        todo!()
    }

    /// Checks and prepares a query blob; a wrong size gives RediSearch's `Error parsing vector
    /// similarity query: query vector blob size (N) does not match index's expected size (M).`
    pub fn query_vector(&self, blob: &[u8]) -> Result<QueryVector, SearchError> {
        let _ = blob;
        todo!()
    }

    /// The `k` nearest live vectors, nearest first (ties by ascending id), restricted to the
    /// ids in `filter` when given. `ef_runtime` overrides the index's EF_RUNTIME (HNSW).
    /// Chooses exact scan or graph search from the filter's size, so recall holds at every
    /// selectivity.
    pub fn knn(
        &self,
        query: &QueryVector,
        k: usize,
        ef_runtime: Option<usize>,
        filter: Option<&RoaringBitmap>,
    ) -> Vec<(DocId, f32)> {
        let _ = (query, k, ef_runtime, filter);
        todo!()
    }

    /// Every live vector within `radius` (HNSW: widened by `epsilon`, default the index's),
    /// nearest first, restricted to `filter` when given.
    pub fn range(
        &self,
        query: &QueryVector,
        radius: f32,
        epsilon: Option<f64>,
        filter: Option<&RoaringBitmap>,
    ) -> Vec<(DocId, f32)> {
        let _ = (query, radius, epsilon, filter);
        todo!()
    }

    /// Live vectors.
    pub fn len(&self) -> usize {
        todo!()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes used by vectors and graph (FT.INFO `vector_index_sz_mb`).
    pub fn memory_bytes(&self) -> usize {
        todo!()
    }
}
