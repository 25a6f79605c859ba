//! Index-level vector benchmark on the shared gcide-minilm embeddings: builds FLAT and HNSW
//! (M 16, EF_CONSTRUCTION 200, COSINE) in process, then for HNSW sweeps EF_RUNTIME and
//! reports recall@10 (tie-tolerant), single-thread QPS and p50 / p99 latency, unfiltered and
//! with tag (letter=k ~0.8%, letter=s ~10%) and numeric (chars range) filters.
//! `--algo hnsw_rs` measures the hnsw_rs crate on the same data (same M / EF_CONSTRUCTION,
//! simsimd distance, filters as its filter callback): the graph the index replaced.
//!
//! `cargo bench --bench vector_index -- [--json FILE] [--queries N] [--efs 10,20,...]
//! [--algo flat|hnsw|both] [--filters none,letter=k,...]`. One JSON object per line (stdout,
//! or FILE):
//! `{"system":"ferrostack-index","algo":"HNSW","ef":40,"filter":"none","recall":0.97,
//! "qps":1234.5,"p50_ms":0.8,"p99_ms":1.9,"build_s":12.3,"rows":31768,"queries":1000,"k":10}`.
#![allow(clippy::unwrap_used)]

#[path = "../tests/vector_data/mod.rs"]
mod vector_data;

use std::io::Write;
use std::time::Instant;

use ferrostack::search::vector::VectorIndex;
use ferrostack::search::{Deadline, DocId, Metric, VectorAlgorithm, VectorParams, VectorType};
use roaring::RoaringBitmap;
use vector_data::{DIM, Dataset, kth, recall};

const K: usize = 10;

/// One query of the system under test: blob and filter in, distances out.
type RunQuery<'a> = dyn Fn(&[u8], Option<&RoaringBitmap>) -> Vec<f32> + 'a;

struct Args {
    json: Option<String>,
    queries: usize,
    efs: Vec<usize>,
    algos: Vec<VectorAlgorithm>,
    hnsw_rs: bool,
    filters: Vec<String>,
}

fn parse_args() -> Args {
    let mut args = Args {
        json: None,
        queries: 1000,
        efs: vec![10, 20, 40, 80, 100, 160, 320],
        algos: vec![VectorAlgorithm::Flat, VectorAlgorithm::Hnsw],
        hnsw_rs: false,
        filters: ["none", "letter=k", "letter=s", "chars=100..140"]
            .map(String::from)
            .to_vec(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--json" => args.json = it.next(),
            "--queries" => args.queries = it.next().unwrap().parse().unwrap(),
            "--efs" => {
                args.efs = it
                    .next()
                    .unwrap()
                    .split(',')
                    .map(|s| s.parse().unwrap())
                    .collect()
            }
            "--algo" => {
                let algo = it.next().unwrap().to_ascii_lowercase();
                args.hnsw_rs = algo == "hnsw_rs";
                args.algos = match algo.as_str() {
                    "flat" => vec![VectorAlgorithm::Flat],
                    "hnsw" => vec![VectorAlgorithm::Hnsw],
                    "hnsw_rs" => vec![],
                    _ => vec![VectorAlgorithm::Flat, VectorAlgorithm::Hnsw],
                }
            }
            "--filters" => args.filters = it.next().unwrap().split(',').map(String::from).collect(),
            // `cargo bench` passes `--bench`.
            _ => {}
        }
    }
    args
}

/// The rows a filter name selects: `none`, `letter=x`, `domain=x`, `chars=a..b`.
fn filter_rows(data: &Dataset, name: &str) -> Option<Vec<u32>> {
    let (field, value) = name.split_once('=')?;
    Some(match field {
        "letter" => data.select(|m| m.letter == value),
        "domain" => data.select(|m| m.domain == value),
        "chars" => {
            let (lo, hi) = value.split_once("..").unwrap();
            let (lo, hi): (f64, f64) = (lo.parse().unwrap(), hi.parse().unwrap());
            data.select(|m| (lo..=hi).contains(&m.chars))
        }
        _ => panic!("unknown filter {name}"),
    })
}

fn build(data: &Dataset, algorithm: VectorAlgorithm) -> (VectorIndex, f64) {
    let index = VectorIndex::new(&VectorParams {
        algorithm,
        data_type: VectorType::Float32,
        dim: DIM,
        metric: Metric::Cosine,
        initial_cap: Some(data.rows()),
        block_size: 1024,
        m: 16,
        ef_construction: 200,
        ef_runtime: 10,
        epsilon: 0.01,
    });
    let blobs: Vec<Vec<u8>> = (0..data.rows())
        .map(|r| data.row(r).iter().flat_map(|x| x.to_le_bytes()).collect())
        .collect();
    let t = Instant::now();
    for (r, blob) in blobs.iter().enumerate() {
        index.insert(DocId(r as u32), blob).unwrap();
    }
    index.wait_indexed();
    (index, t.elapsed().as_secs_f64())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

fn main() {
    let args = parse_args();
    let Some(data) = Dataset::load(1, args.queries) else {
        eprintln!("dataset directory {} absent", vector_data::dir().display());
        std::process::exit(2);
    };
    let mut out: Box<dyn Write> = match &args.json {
        Some(path) => Box::new(std::fs::File::create(path).unwrap()),
        None => Box::new(std::io::stdout()),
    };
    let t = Instant::now();
    let truth: Vec<Vec<f64>> = (0..data.query_count()).map(|q| data.distances(q)).collect();
    eprintln!(
        "ground truth: {} queries x {} rows in {:.1?}",
        data.query_count(),
        data.rows(),
        t.elapsed()
    );
    let filters: Vec<(String, Option<Vec<u32>>, Vec<f64>)> = args
        .filters
        .iter()
        .map(|name| {
            let rows = filter_rows(&data, name);
            let kths = truth.iter().map(|d| kth(d, K, rows.as_deref())).collect();
            (name.clone(), rows, kths)
        })
        .collect();
    let blobs: Vec<Vec<u8>> = (0..data.query_count())
        .map(|q| data.query(q).iter().flat_map(|x| x.to_le_bytes()).collect())
        .collect();

    let mut emit = |system: &str,
                    algo: &str,
                    ef: Option<usize>,
                    build_s: f64,
                    filter: usize,
                    run: &RunQuery| {
        let (name, rows, kths) = &filters[filter];
        let bitmap: Option<RoaringBitmap> = rows.as_ref().map(|r| r.iter().copied().collect());
        let expected = rows.as_ref().map_or(data.rows(), |r| r.len()).min(K);
        let mut lat = Vec::with_capacity(blobs.len());
        let mut total_recall = 0.0;
        let start = Instant::now();
        for (q, blob) in blobs.iter().enumerate() {
            let t = Instant::now();
            let dists = run(blob, bitmap.as_ref());
            lat.push(t.elapsed().as_secs_f64() * 1e3);
            total_recall += recall(&dists, kths[q], expected);
        }
        let secs = start.elapsed().as_secs_f64();
        lat.sort_by(f64::total_cmp);
        let line = serde_json::json!({
            "system": system,
            "algo": algo,
            "ef": ef,
            "filter": name,
            "filter_rows": rows.as_ref().map_or(data.rows(), |r| r.len()),
            "recall": total_recall / blobs.len() as f64,
            "qps": blobs.len() as f64 / secs,
            "p50_ms": percentile(&lat, 0.5),
            "p99_ms": percentile(&lat, 0.99),
            "build_s": build_s,
            "rows": data.rows(),
            "queries": blobs.len(),
            "k": K,
        });
        writeln!(out, "{line}").unwrap();
        out.flush().unwrap();
    };

    for &algo in &args.algos {
        let (index, build_s) = build(&data, algo);
        eprintln!(
            "{} built in {build_s:.2}s, {} MiB",
            algo.name(),
            index.memory_bytes() >> 20
        );
        let efs: Vec<Option<usize>> = match algo {
            VectorAlgorithm::Flat => vec![None],
            VectorAlgorithm::Hnsw => args.efs.iter().map(|&e| Some(e)).collect(),
        };
        for filter in 0..filters.len() {
            for &ef in &efs {
                let run = |blob: &[u8], bitmap: Option<&RoaringBitmap>| {
                    let query = index.query_vector(blob).unwrap();
                    index
                        .knn(&query, K, ef, bitmap, &Deadline::default())
                        .iter()
                        .map(|(_, d)| *d as f32)
                        .collect()
                };
                emit("ferrostack-index", algo.name(), ef, build_s, filter, &run);
            }
        }
    }

    if args.hnsw_rs {
        let (graph, build_s) = hnsw_rs_peer::build(&data);
        eprintln!("hnsw_rs built in {build_s:.2}s");
        for filter in 0..filters.len() {
            for &ef in &args.efs {
                let run = |blob: &[u8], bitmap: Option<&RoaringBitmap>| {
                    hnsw_rs_peer::search(&graph, blob, K, ef, bitmap)
                };
                emit("hnsw_rs", "HNSW", Some(ef), build_s, filter, &run);
            }
        }
    }
}

/// The hnsw_rs crate on the same data, for comparison with the index's own graph.
mod hnsw_rs_peer {
    use std::time::Instant;

    use hnsw_rs::anndists::dist::distances::Distance;
    use hnsw_rs::hnsw::Hnsw;
    use roaring::RoaringBitmap;
    use simsimd::SpatialSimilarity;

    use super::{DIM, Dataset};

    /// `1 - dot` of unit vectors by simsimd, clamped at 0 as hnsw_rs requires.
    pub struct CosineUnit;

    impl Distance<f32> for CosineUnit {
        fn eval(&self, a: &[f32], b: &[f32]) -> f32 {
            (1.0 - f32::dot(a, b).unwrap() as f32).max(0.0)
        }
    }

    pub fn build(data: &Dataset) -> (Hnsw<'static, f32, CosineUnit>, f64) {
        let t = Instant::now();
        let graph = Hnsw::new(16, data.rows(), 16, 200, CosineUnit);
        for r in 0..data.rows() {
            graph.insert_slice((data.row(r), r));
        }
        (graph, t.elapsed().as_secs_f64())
    }

    pub fn search(
        graph: &Hnsw<'static, f32, CosineUnit>,
        blob: &[u8],
        k: usize,
        ef: usize,
        filter: Option<&RoaringBitmap>,
    ) -> Vec<f32> {
        let q: Vec<f32> = blob
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        debug_assert_eq!(q.len(), DIM);
        let hits = match filter {
            Some(f) => {
                let keep = |id: &usize| f.contains(*id as u32);
                graph.search_filter(&q, k, ef, Some(&keep))
            }
            None => graph.search(&q, k, ef),
        };
        hits.iter().map(|n| n.distance).collect()
    }
}
