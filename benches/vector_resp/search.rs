//! The FT.* side of the benchmark: creating the index over `doc:` hashes, waiting for its
//! background scan, and running a KNN query set over one or more connections with per-query
//! latencies.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::dataset::{Dataset, Filter};
use crate::load::blob;
use crate::resp::{Conn, Reply};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Algo {
    Hnsw { m: u32, ef_construction: u32 },
    Flat,
}

impl Algo {
    pub fn name(self) -> &'static str {
        match self {
            Algo::Hnsw { .. } => "HNSW",
            Algo::Flat => "FLAT",
        }
    }
}

/// FT.CREATE over `doc:*` with the vector field and the metadata the filters use.
pub fn create(conn: &mut Conn, index: &str, algo: Algo, dim: usize) -> Result<(), String> {
    let dim = dim.to_string();
    let mut args = vec![
        "FT.CREATE",
        index,
        "ON",
        "HASH",
        "PREFIX",
        "1",
        "doc:",
        "SCHEMA",
        "embedding",
        "VECTOR",
    ];
    let (m, efc);
    match algo {
        Algo::Hnsw {
            m: m_,
            ef_construction,
        } => {
            (m, efc) = (m_.to_string(), ef_construction.to_string());
            args.extend(["HNSW", "10", "M", &m, "EF_CONSTRUCTION", &efc]);
        }
        Algo::Flat => args.extend(["FLAT", "6"]),
    }
    args.extend(["TYPE", "FLOAT32", "DIM", &dim, "DISTANCE_METRIC", "COSINE"]);
    args.extend([
        "letter", "TAG", "domain", "TAG", "pos", "TAG", "chars", "NUMERIC", "text", "TEXT",
    ]);
    let reply = conn
        .call_str(&args)
        .map_err(|e| format!("FT.CREATE: {e}"))?;
    reply
        .ok()
        .map(drop)
        .map_err(|e| format!("FT.CREATE {index}: {e}"))
}

pub fn drop_index(conn: &mut Conn, index: &str) -> Result<(), String> {
    let reply = conn
        .call_str(&["FT.DROPINDEX", index])
        .map_err(|e| format!("FT.DROPINDEX: {e}"))?;
    reply
        .ok()
        .map(drop)
        .map_err(|e| format!("FT.DROPINDEX {index}: {e}"))
}

/// What FT.INFO says about the index's progress.
pub struct Progress {
    pub indexing: bool,
    pub percent: f64,
    pub num_docs: u64,
    pub failures: u64,
}

pub fn progress(conn: &mut Conn, index: &str) -> Result<Progress, String> {
    let info = conn
        .call_str(&["FT.INFO", index])
        .map_err(|e| format!("FT.INFO: {e}"))?
        .ok()
        .map_err(|e| format!("FT.INFO {index}: {e}"))?;
    let number = |key: &str| {
        info.field(key)
            .and_then(Reply::number)
            .ok_or_else(|| format!("FT.INFO {index}: no numeric {key:?}"))
    };
    Ok(Progress {
        indexing: number("indexing")? != 0.0,
        percent: number("percent_indexed")?,
        num_docs: number("num_docs")? as u64,
        failures: number("hash_indexing_failures")? as u64,
    })
}

/// Polls FT.INFO until the background scan is over and everything is indexed.
pub fn wait_indexed(conn: &mut Conn, index: &str, timeout: Duration) -> Result<Progress, String> {
    let deadline = Instant::now() + timeout;
    loop {
        let p = progress(conn, index)?;
        if !p.indexing && p.percent >= 1.0 {
            return Ok(p);
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{index}: still indexing after {timeout:?} ({:.1}% done)",
                p.percent * 100.0
            ));
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// One KNN query set's outcome: the rows each query returned (first pass) and every query's
/// latency.
pub struct QueryRun {
    pub results: Vec<Vec<u32>>,
    pub latencies: Vec<Duration>,
    pub wall: Duration,
}

pub struct QuerySet<'a> {
    pub index: &'a str,
    pub filter: &'a Filter,
    /// EF_RUNTIME for HNSW; `None` sends no EF_RUNTIME (FLAT rejects it).
    pub ef: Option<u32>,
    pub k: usize,
    /// Each query runs this many times (latencies of all, results of the first).
    pub passes: usize,
}

/// Runs every query `passes` times over `conns` connections, each connection sending its next
/// query when the previous reply arrived (closed loop).
pub fn run(addr: &str, data: &Dataset, set: &QuerySet, conns: usize) -> Result<QueryRun, String> {
    let ef = if set.ef.is_some() {
        " EF_RUNTIME $ef"
    } else {
        ""
    };
    let query = format!(
        "{}=>[KNN {} @embedding $vec{ef} AS dist]",
        set.filter.query_prefix(),
        set.k
    );
    let blobs: Vec<Vec<u8>> = (0..data.num_queries())
        .map(|q| blob(data.query(q)))
        .collect();
    let nq = blobs.len();
    let total = nq * set.passes;
    let next = AtomicUsize::new(0);
    let conns = conns.max(1);
    // Connect before starting the clock.
    let clients = (0..conns)
        .map(|_| Conn::connect(addr).map_err(|e| format!("connect {addr}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let start = Instant::now();
    let answers = thread::scope(|s| {
        let workers: Vec<_> = clients
            .into_iter()
            .map(|mut conn| {
                let (query, blobs, next) = (&query, &blobs, &next);
                s.spawn(move || {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= total {
                            return Ok(out);
                        }
                        let t = Instant::now();
                        let rows = search(&mut conn, set, query, &blobs[i % nq])?;
                        out.push((i, rows, t.elapsed()));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect::<Result<Vec<Vec<_>>, String>>()
    })?;
    let wall = start.elapsed();
    let mut results = vec![Vec::new(); nq];
    let mut latencies = Vec::with_capacity(total);
    for (i, rows, latency) in answers.into_iter().flatten() {
        if i < nq {
            results[i] = rows;
        }
        latencies.push(latency);
    }
    Ok(QueryRun {
        results,
        latencies,
        wall,
    })
}

/// One FT.SEARCH; returns the rows of the returned `doc:<row>` keys in reply order.
fn search(conn: &mut Conn, set: &QuerySet, query: &str, vec: &[u8]) -> Result<Vec<u32>, String> {
    let k = set.k.to_string();
    let ef = set.ef.map(|ef| ef.to_string());
    let mut args: Vec<&[u8]> = vec![
        b"FT.SEARCH",
        set.index.as_bytes(),
        query.as_bytes(),
        b"SORTBY",
        b"dist",
        b"LIMIT",
        b"0",
        k.as_bytes(),
        b"RETURN",
        b"1",
        b"dist",
        b"DIALECT",
        b"2",
        b"PARAMS",
    ];
    match &ef {
        Some(ef) => args.extend([b"4".as_ref(), b"vec", vec, b"ef", ef.as_bytes()]),
        None => args.extend([b"2".as_ref(), b"vec", vec]),
    }
    let reply = conn.call(&args).map_err(|e| format!("FT.SEARCH: {e}"))?;
    let Reply::Array(items) = reply
        .ok()
        .map_err(|e| format!("FT.SEARCH {query:?}: {e}"))?
    else {
        return Err("FT.SEARCH: reply is not an array".into());
    };
    // [total, key, [field, value, ...], key, ...]: the top-level strings are the keys.
    items
        .iter()
        .skip(1)
        .filter_map(|item| match item {
            Reply::Bulk(key) => Some(key),
            _ => None,
        })
        .map(|key| {
            std::str::from_utf8(key)
                .ok()
                .and_then(|k| k.strip_prefix("doc:"))
                .and_then(|r| r.parse().ok())
                .ok_or_else(|| format!("FT.SEARCH returned key {:?}", String::from_utf8_lossy(key)))
        })
        .collect()
}
