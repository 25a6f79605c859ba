//! End-to-end vector benchmark over RESP: loads a dataset into hashes with pipelined HSET,
//! builds FT indexes (HNSW and FLAT, created after the load = background scan, and before it =
//! indexing during ingest), runs KNN query sets (EF_RUNTIME sweep, 1 and N connections, tag and
//! numeric filters) and scores recall@k against exact answers. Prints one JSON line per
//! measurement on stdout, progress on stderr.
//!
//! Talks to a running server only through its port; benches/vector.py starts the server, runs
//! this tool and the index-level / peer benchmarks, and writes the report.
//!
//!     cargo bench --bench vector_resp -- --port 6379 --flushall
//!     cargo bench --bench vector_resp -- --port 6379 --flushall --rows 2000 --queries 100 \
//!         --phases load,hnsw --efs 10,40
//!
//! `--help` lists the options. The tool FLUSHALLs between phases, so it refuses a non-empty
//! server unless `--flushall` is given.

mod cli;
mod dataset;
mod load;
mod paired;
mod resp;
mod search;
mod truth;
#[path = "../../tests/vector_data/mod.rs"]
mod vector_data;

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use cli::{command, list};
use dataset::{Dataset, Filter};
use resp::Conn;
use search::{Algo, QuerySet};

const SYSTEM: &str = "ferrostack-resp";
const INDEX: &str = "idx";
const PHASES: [&str; 4] = ["load", "hnsw", "flat", "live"];

const HELP: &str = "\
vector_resp: KNN benchmark of a RESP server with FT.* (see benches/vector.py)

  --host H              server address (127.0.0.1)
  --port P              server port (6379)
  --data DIR            dataset directory (base.f32, queries.f32, gt.i32, gt_dist.f32,
                        meta.jsonl); default as datasets/README.md says
  --dim N               vector dimension (384)
  --rows N              load only the first N base rows (all); exact answers are then
                        computed here instead of read from gt.i32
  --queries N           use only the first N queries (all)
  --k N                 neighbours per query (10)
  --phases LIST         of load,hnsw,flat,live (all): load = HSET without an index (ingest
                        rate, bytes per document); hnsw / flat = FT.CREATE after the load
                        (build time) and the query sets; live = FT.CREATE HNSW on an empty
                        server, then the load (ingest rate with indexing)
  --efs LIST            HNSW EF_RUNTIME sweep (10,20,40,80,100,160,320)
  --filter-efs LIST     EF_RUNTIME values for the filtered HNSW queries (same as --efs)
  --filters LIST        hybrid filters: field=value (TAG) or field=lo..hi (NUMERIC)
                        (letter=s,letter=k,chars=100..140); 'none' for no filtered runs
  --conns LIST          client connections for unfiltered queries (1,8); filtered use the first
  --passes N            run each query set N times (1)
  --paired N            after the HNSW query sets, build the same index in this process and
                        run N rounds per EF_RUNTIME of one RESP pass (1 connection) then one
                        in-process pass: the RESP / index-level ratio measured side by side
                        (0: off)
  --m N                 HNSW M (16)
  --ef-construction N   HNSW EF_CONSTRUCTION (200)
  --batch N             HSETs per pipelined round trip (500)
  --load-conns N        connections loading in parallel (4)
  --timeout SECS        longest wait for an index build (1800)
  --settle SECS         pause after FT.INFO reports the build done, before querying (0):
                        a server may still be moving vectors into its graph in the
                        background (searching them exactly meanwhile), which FT.INFO
                        does not show
  --flushall            allow flushing a non-empty server";

struct Options {
    addr: String,
    data: PathBuf,
    dim: usize,
    rows: usize,
    queries: usize,
    k: usize,
    phases: Vec<String>,
    efs: Vec<u32>,
    filter_efs: Vec<u32>,
    filters: Vec<Filter>,
    conns: Vec<usize>,
    passes: usize,
    paired: usize,
    m: u32,
    ef_construction: u32,
    batch: usize,
    load_conns: usize,
    timeout: Duration,
    settle: Duration,
    flushall: bool,
}

fn default_data_dir() -> PathBuf {
    vector_data::dir()
}

fn parse_options() -> Result<Option<Options>, String> {
    let mut o = Options {
        addr: String::new(),
        data: default_data_dir(),
        dim: 384,
        rows: usize::MAX,
        queries: usize::MAX,
        k: 10,
        phases: PHASES.iter().map(|p| p.to_string()).collect(),
        efs: vec![10, 20, 40, 80, 100, 160, 320],
        filter_efs: Vec::new(),
        filters: Vec::new(),
        conns: vec![1, 8],
        passes: 1,
        paired: 0,
        m: 16,
        ef_construction: 200,
        batch: 500,
        load_conns: 4,
        timeout: Duration::from_secs(1800),
        settle: Duration::ZERO,
        flushall: false,
    };
    let (mut host, mut port) = ("127.0.0.1".to_owned(), 6379u16);
    let mut filters = "letter=s,letter=k,chars=100..140".to_owned();
    let mut filter_efs = None;
    let Some(line) = cli::parse(HELP)? else {
        return Ok(None);
    };
    o.flushall = line.flushall;
    for (flag, value) in line.values {
        let num = |v: &str| cli::num::<usize>(&flag, v);
        match flag.as_str() {
            "--host" => host = value,
            "--port" => port = cli::num(&flag, &value)?,
            "--data" => o.data = value.into(),
            "--dim" => o.dim = num(&value)?,
            "--rows" => o.rows = num(&value)?,
            "--queries" => o.queries = num(&value)?,
            "--k" => o.k = num(&value)?,
            "--phases" => o.phases = list(&flag, &value)?,
            "--efs" => o.efs = list(&flag, &value)?,
            "--filter-efs" => filter_efs = Some(list(&flag, &value)?),
            "--filters" => filters = value,
            "--conns" => o.conns = list(&flag, &value)?,
            "--passes" => o.passes = num(&value)?.max(1),
            "--paired" => o.paired = num(&value)?,
            "--m" => o.m = num(&value)? as u32,
            "--ef-construction" => o.ef_construction = num(&value)? as u32,
            "--batch" => o.batch = num(&value)?.max(1),
            "--load-conns" => o.load_conns = num(&value)?.max(1),
            "--timeout" => o.timeout = Duration::from_secs(num(&value)? as u64),
            "--settle" => o.settle = Duration::from_secs(num(&value)? as u64),
            _ => return Err(format!("unknown option {flag} (see --help)")),
        }
    }
    if let Some(p) = o.phases.iter().find(|p| !PHASES.contains(&p.as_str())) {
        return Err(format!(
            "--phases: unknown phase {p:?} (known: {})",
            PHASES.join(",")
        ));
    }
    if o.conns.is_empty() || o.efs.is_empty() || o.k == 0 {
        return Err("--conns, --efs and --k must not be empty or zero".into());
    }
    o.filter_efs = filter_efs.unwrap_or_else(|| o.efs.clone());
    o.filters = if filters == "none" {
        Vec::new()
    } else {
        filters
            .split(',')
            .map(Filter::parse)
            .collect::<Result<_, _>>()?
    };
    o.addr = format!("{host}:{port}");
    Ok(Some(o))
}

/// Prints one result line (stdout is the machine-readable channel).
fn emit(mut line: Value) {
    line["system"] = json!(SYSTEM);
    println!("{line}");
    let _ = std::io::stdout().flush();
}

fn used_memory(conn: &mut Conn) -> Result<u64, String> {
    let info = conn
        .call_str(&["INFO", "memory"])
        .map_err(|e| format!("INFO: {e}"))?
        .text()
        .ok_or("INFO memory: not a string")?;
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| "INFO memory: no used_memory".into())
}

fn per_doc(after: u64, before: u64, docs: usize) -> f64 {
    (after as f64 - before as f64) / docs.max(1) as f64
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The latency at quantile `q` of sorted `latencies`.
fn percentile(sorted: &[Duration], q: f64) -> Duration {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1));
    sorted.get(rank - 1).copied().unwrap_or_default()
}

/// The benchmark run: one control connection, the dataset, and exact answers per filter
/// (computed once, on first use).
struct Bench {
    o: Options,
    ctl: Conn,
    data: Dataset,
    truths: HashMap<String, truth::Truth>,
}

impl Bench {
    fn flush(&mut self) -> Result<(), String> {
        command(&mut self.ctl, &["FLUSHALL"]).map(drop)
    }

    /// Loads every row; `index` names the index that exists during the load, for the output.
    fn load(&mut self, index: &str) -> Result<(), String> {
        let (rows, batch, conns) = (self.data.rows(), self.o.batch, self.o.load_conns);
        eprintln!("loading {rows} documents ({batch} per batch, {conns} connections)...");
        let start = Instant::now();
        let took = load::load(&self.o.addr, &self.data, batch, conns)?;
        let mut line = json!({
            "phase": "ingest", "index": index, "docs": rows, "batch": batch, "conns": conns,
            "load_s": took.as_secs_f64(), "docs_per_s": rows as f64 / took.as_secs_f64(),
        });
        if index != "none" {
            // Indexing may trail the writes; the ingest rate counts until the index caught up.
            let p = search::wait_indexed(&mut self.ctl, INDEX, self.o.timeout)?;
            let total = start.elapsed();
            line["catchup_s"] = json!((total - took).as_secs_f64());
            line["indexed_docs"] = json!(p.num_docs);
            line["indexing_failures"] = json!(p.failures);
            line["docs_per_s_indexed"] = json!(rows as f64 / total.as_secs_f64());
        }
        emit(line);
        Ok(())
    }

    /// FT.CREATE over the loaded documents and the time until the background scan finished.
    fn build(&mut self, algo: Algo, used_before: u64) -> Result<f64, String> {
        eprintln!(
            "building {} index over {} documents...",
            algo.name(),
            self.data.rows()
        );
        let start = Instant::now();
        search::create(&mut self.ctl, INDEX, algo, self.o.dim)?;
        let p = search::wait_indexed(&mut self.ctl, INDEX, self.o.timeout)?;
        let build_s = start.elapsed().as_secs_f64();
        let used = used_memory(&mut self.ctl)?;
        emit(json!({
            "phase": "build", "algo": algo.name(), "docs": self.data.rows(),
            "indexed_docs": p.num_docs, "indexing_failures": p.failures, "build_s": build_s,
            "index_bytes_per_doc": per_doc(used, used_before, self.data.rows()),
            "used_memory": used,
        }));
        Ok(build_s)
    }

    fn queries(
        &mut self,
        algo: Algo,
        filter: &Filter,
        ef: Option<u32>,
        conns: usize,
        build_s: f64,
    ) -> Result<(), String> {
        let set = QuerySet {
            index: INDEX,
            filter,
            ef,
            k: self.o.k,
            passes: self.o.passes,
        };
        let run = search::run(&self.o.addr, &self.data, &set, conns)?;
        let truth = exact_answers(&mut self.truths, &self.data, filter, self.o.k)?;
        let recall = truth::recall(&self.data, filter, truth, &run.results, self.o.k)?;
        let mut lat = run.latencies;
        lat.sort_unstable();
        let line = json!({
            "algo": algo.name(), "ef": ef, "filter": filter.name(), "conns": conns,
            "k": self.o.k, "queries": lat.len(), "recall": recall,
            "qps": lat.len() as f64 / run.wall.as_secs_f64(),
            "p50_ms": millis(percentile(&lat, 0.50)), "p99_ms": millis(percentile(&lat, 0.99)),
            "build_s": build_s, "docs": self.data.rows(),
        });
        eprintln!(
            "  {} ef={:<4} filter={:<14} conns={conns}: recall {recall:.4}, {:.0} qps",
            algo.name(),
            ef.map_or("-".into(), |e| e.to_string()),
            filter.name(),
            line["qps"].as_f64().unwrap_or_default(),
        );
        emit(line);
        Ok(())
    }

    /// Builds `algo` over the loaded data and runs its query sets, then drops the index.
    fn index_phase(&mut self, algo: Algo, used_before: u64) -> Result<(), String> {
        let build_s = self.build(algo, used_before)?;
        if !self.o.settle.is_zero() {
            eprintln!("settling {:?} before the queries...", self.o.settle);
            std::thread::sleep(self.o.settle);
        }
        let efs: Vec<Option<u32>> = match algo {
            Algo::Hnsw { .. } => self.o.efs.iter().copied().map(Some).collect(),
            Algo::Flat => vec![None],
        };
        for &ef in &efs {
            for conns in self.o.conns.clone() {
                self.queries(algo, &Filter::All, ef, conns, build_s)?;
            }
        }
        let filter_efs: Vec<Option<u32>> = match algo {
            Algo::Hnsw { .. } => self.o.filter_efs.iter().copied().map(Some).collect(),
            Algo::Flat => vec![None],
        };
        for filter in self.o.filters.clone() {
            for &ef in &filter_efs {
                self.queries(algo, &filter, ef, self.o.conns[0], build_s)?;
            }
        }
        if let Algo::Hnsw { m, ef_construction } = algo
            && self.o.paired > 0
        {
            self.paired(m, ef_construction)?;
        }
        search::drop_index(&mut self.ctl, INDEX)
    }

    /// `--paired`: RESP and in-process passes side by side, per EF_RUNTIME (see `paired`).
    fn paired(&mut self, m: u32, ef_construction: u32) -> Result<(), String> {
        eprintln!("building the same HNSW index in process for the paired rounds...");
        let (local, local_build_s) = paired::InProcess::build(&self.data, m, ef_construction)?;
        for &ef in &self.o.efs {
            let set = QuerySet {
                index: INDEX,
                filter: &Filter::All,
                ef: Some(ef),
                k: self.o.k,
                passes: 1,
            };
            let (mut resp_qps, mut index_qps) = (Vec::new(), Vec::new());
            for _ in 0..self.o.paired {
                let run = search::run(&self.o.addr, &self.data, &set, 1)?;
                resp_qps.push(run.latencies.len() as f64 / run.wall.as_secs_f64());
                index_qps.push(local.pass(self.o.k, ef)?);
            }
            let ratios: Vec<f64> = resp_qps
                .iter()
                .zip(&index_qps)
                .map(|(r, i)| r / i)
                .collect();
            let median_ratio = paired::median(&ratios);
            eprintln!(
                "  paired ef={ef:<4}: RESP / index-level median {median_ratio:.2} {ratios:.2?}"
            );
            emit(json!({
                "phase": "paired", "algo": "HNSW", "ef": ef, "conns": 1, "k": self.o.k,
                "rounds": self.o.paired, "queries": self.data.num_queries(),
                "resp_qps": resp_qps, "index_qps": index_qps, "ratios": ratios,
                "median_resp_qps": paired::median(&resp_qps),
                "median_index_qps": paired::median(&index_qps),
                "median_ratio": median_ratio, "index_build_s": local_build_s,
            }));
        }
        Ok(())
    }

    fn run(&mut self) -> Result<(), String> {
        let has = |p: &str| self.o.phases.iter().any(|x| x == p);
        let (hnsw, flat, live) = (has("hnsw"), has("flat"), has("live"));
        let algo_hnsw = Algo::Hnsw {
            m: self.o.m,
            ef_construction: self.o.ef_construction,
        };
        if has("load") || hnsw || flat {
            self.flush()?;
            let empty = used_memory(&mut self.ctl)?;
            self.load("none")?;
            let loaded = used_memory(&mut self.ctl)?;
            emit(json!({
                "phase": "memory", "docs": self.data.rows(), "used_memory_empty": empty,
                "used_memory_loaded": loaded,
                "bytes_per_doc": per_doc(loaded, empty, self.data.rows()),
            }));
            if hnsw {
                self.index_phase(algo_hnsw, loaded)?;
            }
            if flat {
                let before = used_memory(&mut self.ctl)?;
                self.index_phase(Algo::Flat, before)?;
            }
        }
        if live {
            self.flush()?;
            let empty = used_memory(&mut self.ctl)?;
            search::create(&mut self.ctl, INDEX, algo_hnsw, self.o.dim)?;
            self.load("HNSW")?;
            let indexed = used_memory(&mut self.ctl)?;
            emit(json!({
                "phase": "memory", "index": "HNSW", "docs": self.data.rows(),
                "used_memory_empty": empty, "used_memory_indexed": indexed,
                "bytes_per_doc": per_doc(indexed, empty, self.data.rows()),
            }));
            search::drop_index(&mut self.ctl, INDEX)?;
        }
        self.flush()
    }
}

/// The exact answers for `filter`, computed on first use and kept in `cache`.
fn exact_answers<'a>(
    cache: &'a mut HashMap<String, truth::Truth>,
    data: &Dataset,
    filter: &Filter,
    k: usize,
) -> Result<&'a truth::Truth, String> {
    let name = filter.name();
    if !cache.contains_key(&name) {
        let start = Instant::now();
        let t = truth::exact(data, filter, k)?;
        eprintln!(
            "exact answers for filter {name}: {:.1}s",
            start.elapsed().as_secs_f64()
        );
        cache.insert(name.clone(), t);
    }
    Ok(&cache[&name])
}

fn start(o: Options) -> Result<(), String> {
    let ctl = cli::control(&o.addr, o.flushall)?;
    let data = Dataset::load(&o.data, o.dim, o.rows, o.queries)?;
    eprintln!(
        "dataset {}: {} rows, {} queries, dim {}",
        o.data.display(),
        data.rows(),
        data.num_queries(),
        o.dim
    );
    Bench {
        o,
        ctl,
        data,
        truths: HashMap::new(),
    }
    .run()
}

fn main() -> ExitCode {
    match parse_options().and_then(|o| o.map_or(Ok(()), start)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vector_resp: {e}");
            ExitCode::FAILURE
        }
    }
}
