//! Recall of the vector indexes on real embeddings (the shared gcide-minilm dataset, a
//! subset so the test stays quick): FLAT is exact, HNSW (M 16, EF_CONSTRUCTION 200) reaches
//! recall@10 >= 0.95 at EF_RUNTIME <= 100, unfiltered and with ~1% and ~10% tag filters and
//! a numeric range filter. Skips (with a message) when the dataset directory is absent.

// A failed insert or query aborts the test.
#![allow(clippy::unwrap_used)]

mod vector_data;

use ferrostack::search::vector::VectorIndex;
use ferrostack::search::{Deadline, DocId, Metric, VectorAlgorithm, VectorParams};
use roaring::RoaringBitmap;
use vector_data::{DIM, Dataset, kth, recall};

/// Every 6th base row: 5295 rows.
const STRIDE: usize = 6;
const QUERIES: usize = 100;
const K: usize = 10;

fn build(data: &Dataset, algorithm: VectorAlgorithm) -> VectorIndex {
    let index = VectorIndex::new(&VectorParams::new(algorithm, DIM, Metric::Cosine));
    for r in 0..data.rows() {
        let blob: Vec<u8> = data.row(r).iter().flat_map(|x| x.to_le_bytes()).collect();
        index.insert(DocId(r as u32), &blob).unwrap();
    }
    index.wait_indexed();
    index
}

/// Mean recall@K of `index` over the queries (`truth[q]`: distances of query q to every
/// row), restricted to `rows` when given.
fn mean_recall(
    data: &Dataset,
    truth: &[Vec<f64>],
    index: &VectorIndex,
    ef: Option<usize>,
    rows: Option<&[u32]>,
) -> f64 {
    let filter: Option<RoaringBitmap> = rows.map(|r| r.iter().copied().collect());
    let expected = rows.map_or(data.rows(), |r| r.len()).min(K);
    let total: f64 = (0..data.query_count())
        .map(|q| {
            let blob: Vec<u8> = data.query(q).iter().flat_map(|x| x.to_le_bytes()).collect();
            let query = index.query_vector(&blob).unwrap();
            let hits = index.knn(&query, K, ef, filter.as_ref(), &Deadline::default());
            assert!(hits.len() <= K);
            if let Some(f) = &filter {
                assert!(hits.iter().all(|(id, _)| f.contains(id.0)));
            }
            let dists: Vec<f32> = hits.iter().map(|(_, d)| *d as f32).collect();
            recall(&dists, kth(&truth[q], K, rows), expected)
        })
        .sum();
    total / data.query_count() as f64
}

#[test]
fn flat_and_hnsw_recall_on_gcide_minilm() {
    let Some(data) = Dataset::load(STRIDE, QUERIES) else {
        eprintln!(
            "SKIPPED: dataset directory {} absent",
            vector_data::dir().display()
        );
        return;
    };
    let truth: Vec<Vec<f64>> = (0..data.query_count()).map(|q| data.distances(q)).collect();
    let letter_k = data.select(|m| m.letter == "k");
    let letter_s = data.select(|m| m.letter == "s");
    let chars = data.select(|m| (100.0..=140.0).contains(&m.chars));
    let filters: [(&str, Option<&[u32]>); 4] = [
        ("none", None),
        ("letter=k", Some(&letter_k)),
        ("letter=s", Some(&letter_s)),
        ("chars 100..140", Some(&chars)),
    ];

    let t = std::time::Instant::now();
    let flat = build(&data, VectorAlgorithm::Flat);
    for (name, rows) in filters {
        assert_eq!(
            mean_recall(&data, &truth, &flat, None, rows),
            1.0,
            "FLAT recall, filter {name}"
        );
    }

    eprintln!("FLAT done in {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let hnsw = build(&data, VectorAlgorithm::Hnsw);
    eprintln!("HNSW built in {:?}", t.elapsed());
    for (name, rows) in filters {
        let r = mean_recall(&data, &truth, &hnsw, Some(100), rows);
        eprintln!(
            "HNSW recall@{K} ef 100 filter {name} ({} rows): {r:.4}",
            rows.map_or(data.rows(), |r| r.len())
        );
        assert!(r >= 0.95, "HNSW recall@{K} {r} < 0.95 with filter {name}");
    }
}
