//! Paired RESP / index-level rounds (`--paired N`): the same HNSW index (same M and
//! EF_CONSTRUCTION) is also built in this process with the library's `VectorIndex`, and each
//! EF_RUNTIME then runs N rounds of one RESP pass over one connection followed by one
//! in-process pass over the same query vectors. A shared machine's speed drifts by tens of
//! percent over minutes, so a RESP / index-level ratio is only meaningful between runs made
//! side by side; the median of the per-round ratios is the figure to read.

use std::time::Instant;

use ferrostack::search::vector::VectorIndex;
use ferrostack::search::{Deadline, DocId, Metric, VectorAlgorithm, VectorParams, VectorType};

use crate::dataset::Dataset;
use crate::load::blob;

/// The index built in this process over the base rows (row number = doc id).
pub struct InProcess {
    index: VectorIndex,
    queries: Vec<Vec<u8>>,
}

impl InProcess {
    /// Builds the index and waits until every vector is in the graph; returns it with the
    /// build time in seconds.
    pub fn build(data: &Dataset, m: u32, ef_construction: u32) -> Result<(InProcess, f64), String> {
        let index = VectorIndex::new(&VectorParams {
            algorithm: VectorAlgorithm::Hnsw,
            data_type: VectorType::Float32,
            dim: data.dim,
            metric: Metric::Cosine,
            initial_cap: Some(data.rows()),
            block_size: 1024,
            m: m as usize,
            ef_construction: ef_construction as usize,
            ef_runtime: 10,
            epsilon: 0.01,
        });
        let start = Instant::now();
        for r in 0..data.rows() {
            index
                .insert(DocId(r as u32), &blob(data.row(r)))
                .map_err(|e| format!("in-process insert of row {r}: {e}"))?;
        }
        index.wait_indexed();
        let queries = (0..data.num_queries())
            .map(|q| blob(data.query(q)))
            .collect();
        Ok((InProcess { index, queries }, start.elapsed().as_secs_f64()))
    }

    /// One pass over every query, single-threaded, as the index-level bench runs them
    /// (blob conversion included); returns queries per second.
    pub fn pass(&self, k: usize, ef: u32) -> Result<f64, String> {
        let start = Instant::now();
        for q in &self.queries {
            let query = self
                .index
                .query_vector(q)
                .map_err(|e| format!("in-process query: {e}"))?;
            std::hint::black_box(self.index.knn(
                &query,
                k,
                Some(ef as usize),
                None,
                &Deadline::default(),
            ));
        }
        Ok(self.queries.len() as f64 / start.elapsed().as_secs_f64())
    }
}

/// The median of `values` (the mean of the middle two for an even count).
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}
