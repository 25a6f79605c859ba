//! The shared gcide-minilm embeddings (384-d, unit norm, with tags and numbers per row) as the
//! vector recall test and the index benchmark read them, and the brute-force ground truth
//! and tie-tolerant recall they score with.
//!
//! Where: see [`dir`] (datasets/README.md explains the lookup). Files (little
//! endian, row-major): `base.f32` (rows x 384), `queries.f32`, `meta.jsonl` (one object per
//! base row: `letter`, `domain`, `chars` ...). The dataset's own `gt.i32` covers the whole
//! base only, so ground truth for subsets and filters is computed here by brute force.
// Test and bench support: a malformed dataset file should abort loudly.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

pub const DIM: usize = 384;

/// `$GCIDE_MINILM_DIR`, else `$FERRO_DATASETS/gcide-minilm`, else the first
/// `shared/datasets/gcide-minilm` beside the repository or one of its parent directories.
pub fn dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("GCIDE_MINILM_DIR") {
        return dir.into();
    }
    if let Some(root) = std::env::var_os("FERRO_DATASETS") {
        return PathBuf::from(root).join("gcide-minilm");
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    repo.ancestors()
        .skip(1)
        .map(|up| up.join("shared/datasets/gcide-minilm"))
        .find(|dir| dir.is_dir())
        .unwrap_or_else(|| repo.join("../shared/datasets/gcide-minilm"))
}

/// Per-row filterable fields.
pub struct Meta {
    pub letter: String,
    pub domain: String,
    pub chars: f64,
}

pub struct Dataset {
    /// `rows() x DIM` values.
    pub base: Vec<f32>,
    pub queries: Vec<f32>,
    pub meta: Vec<Meta>,
}

impl Dataset {
    /// Every `stride`-th base row (rows are in headword order, so a stride keeps the tag
    /// mix) and the first `max_queries` queries, or `None` when the dataset directory is
    /// absent.
    pub fn load(stride: usize, max_queries: usize) -> Option<Dataset> {
        let dir = dir();
        if !dir.is_dir() {
            return None;
        }
        let read_f32 = |name: &str, step: usize, rows: usize| -> Vec<f32> {
            let bytes = std::fs::read(dir.join(name)).unwrap();
            bytes
                .chunks_exact(DIM * 4)
                .step_by(step)
                .take(rows)
                .flat_map(|row| {
                    row.chunks_exact(4)
                        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                })
                .collect()
        };
        let base = read_f32("base.f32", stride, usize::MAX);
        let queries = read_f32("queries.f32", 1, max_queries);
        let meta_text = std::fs::read_to_string(dir.join("meta.jsonl")).unwrap();
        let meta = meta_text
            .lines()
            .step_by(stride)
            .map(|line| {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                Meta {
                    letter: v["letter"].as_str().unwrap().to_string(),
                    domain: v["domain"].as_str().unwrap().to_string(),
                    chars: v["chars"].as_f64().unwrap(),
                }
            })
            .collect();
        Some(Dataset {
            base,
            queries,
            meta,
        })
    }

    pub fn rows(&self) -> usize {
        self.base.len() / DIM
    }

    pub fn row(&self, r: usize) -> &[f32] {
        &self.base[r * DIM..(r + 1) * DIM]
    }

    pub fn query_count(&self) -> usize {
        self.queries.len() / DIM
    }

    pub fn query(&self, q: usize) -> &[f32] {
        &self.queries[q * DIM..(q + 1) * DIM]
    }

    /// Rows whose meta satisfies `keep`.
    pub fn select(&self, keep: impl Fn(&Meta) -> bool) -> Vec<u32> {
        (0..self.rows() as u32)
            .filter(|&r| keep(&self.meta[r as usize]))
            .collect()
    }

    /// The COSINE distance (`1 - cos`, vectors are unit norm) of query `q` to every row, in
    /// f64 by a plain loop: the brute-force ground truth.
    pub fn distances(&self, q: usize) -> Vec<f64> {
        let qv = self.query(q);
        (0..self.rows())
            .map(|r| {
                1.0 - self
                    .row(r)
                    .iter()
                    .zip(qv)
                    .map(|(a, b)| *a as f64 * *b as f64)
                    .sum::<f64>()
            })
            .collect()
    }
}

/// The `k`-th smallest of `dists` restricted to `rows` (all when `None`): the threshold a
/// tie-tolerant recall counts hits against.
pub fn kth(dists: &[f64], k: usize, rows: Option<&[u32]>) -> f64 {
    let mut d: Vec<f64> = match rows {
        Some(rows) => rows.iter().map(|&r| dists[r as usize]).collect(),
        None => dists.to_vec(),
    };
    if d.is_empty() || k == 0 {
        return f64::INFINITY;
    }
    let k = k.min(d.len());
    d.select_nth_unstable_by(k - 1, |a, b| a.total_cmp(b));
    d[k - 1]
}

/// Recall@k of one answer: the share of the `k` expected hits found, counting a returned
/// distance as a hit when it is within the `k`-th true distance (plus a float tolerance), so
/// ties at the boundary are not held against the index. `expected` is min(k, candidates).
pub fn recall(returned: &[f32], kth: f64, expected: usize) -> f64 {
    if expected == 0 {
        return 1.0;
    }
    let hits = returned
        .iter()
        .filter(|&&d| (d as f64) <= kth + 1e-6)
        .count();
    hits.min(expected) as f64 / expected as f64
}
