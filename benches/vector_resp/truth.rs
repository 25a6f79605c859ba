//! Exact answers and recall scoring: cosine distance (`1 - cos`, what COSINE indexes report),
//! brute-force filtered top-k over the dataset, and recall@k with the dataset's tie tolerance.
//! Independent of the server and of its vector kernels on purpose.

use std::thread;

use crate::dataset::{Dataset, Filter};

/// A returned row counts as a hit if its distance is within this of the k-th true distance
/// (the dataset README's rule: equal distances may rank in any order).
const TIE_TOLERANCE: f32 = 1e-6;

/// Exact top-k (row, distance) lists, best first, one per query.
pub type Truth = Vec<Vec<(u32, f32)>>;

pub fn cosine_distance(a: &[f32], b: &[f32]) -> f32 {
    // Eight independent lanes let the compiler vectorise the loop.
    let (mut dot, mut na, mut nb) = ([0f32; 8], [0f32; 8], [0f32; 8]);
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            dot[i] += x[i] * y[i];
            na[i] += x[i] * x[i];
            nb[i] += y[i] * y[i];
        }
    }
    for (x, y) in ra.iter().zip(rb) {
        dot[0] += x * y;
        na[0] += x * x;
        nb[0] += y * y;
    }
    let (dot, na, nb) = (
        dot.iter().sum::<f32>(),
        na.iter().sum::<f32>(),
        nb.iter().sum::<f32>(),
    );
    if na == 0.0 || nb == 0.0 {
        return 1.0;
    }
    1.0 - dot / (na.sqrt() * nb.sqrt())
}

/// The exact top-`k` rows passing `filter` for every query. Unfiltered, over the whole base
/// set, it is the dataset's own ground truth file; otherwise a brute-force scan on all cores.
pub fn exact(data: &Dataset, filter: &Filter, k: usize) -> Result<Truth, String> {
    if let (Filter::All, Some(gt)) = (filter, &data.truth)
        && k <= gt.k
    {
        return Ok((0..data.num_queries())
            .map(|q| {
                (0..k)
                    .map(|j| (gt.rows[q * gt.k + j] as u32, gt.dists[q * gt.k + j]))
                    .collect()
            })
            .collect());
    }
    let mut passing = Vec::new();
    for (row, meta) in data.meta.iter().enumerate() {
        if filter.matches(meta)? {
            passing.push(row as u32);
        }
    }
    let nq = data.num_queries();
    let threads = thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(nq.max(1));
    let per = nq.div_ceil(threads);
    let passing = &passing;
    Ok(thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    (t * per..((t + 1) * per).min(nq))
                        .map(|q| top_k(data, data.query(q), passing, k))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    }))
}

fn top_k(data: &Dataset, query: &[f32], rows: &[u32], k: usize) -> Vec<(u32, f32)> {
    let mut scored: Vec<(u32, f32)> = rows
        .iter()
        .map(|&r| (r, cosine_distance(query, data.row(r as usize))))
        .collect();
    let by_distance = |a: &(u32, f32), b: &(u32, f32)| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0));
    if scored.len() > k {
        scored.select_nth_unstable_by(k, by_distance);
        scored.truncate(k);
    }
    scored.sort_unstable_by(by_distance);
    scored
}

/// Mean recall@k of `results` (returned rows per query). A returned row is a hit if it passes
/// the filter and is in the exact list or ties with its last entry; duplicates count once.
/// Queries with fewer than k passing rows are scored against what exists.
pub fn recall(
    data: &Dataset,
    filter: &Filter,
    truth: &Truth,
    results: &[Vec<u32>],
    k: usize,
) -> Result<f64, String> {
    let mut total = 0.0;
    for (q, (exact, got)) in truth.iter().zip(results).enumerate() {
        let want = exact.len().min(k);
        if want == 0 {
            total += 1.0;
            continue;
        }
        let last = exact[want - 1].1;
        let mut seen = Vec::with_capacity(got.len());
        let mut hits = 0;
        for &row in got.iter().take(k) {
            if seen.contains(&row) || row as usize >= data.rows() {
                continue;
            }
            seen.push(row);
            if !filter.matches(&data.meta[row as usize])? {
                continue;
            }
            let listed = exact[..want].iter().any(|&(r, _)| r == row);
            if listed
                || cosine_distance(data.query(q), data.row(row as usize)) <= last + TIE_TOLERANCE
            {
                hits += 1;
            }
        }
        total += hits.min(want) as f64 / want as f64;
    }
    Ok(total / truth.len().max(1) as f64)
}
