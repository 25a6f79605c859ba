//! End-to-end full-text benchmark over RESP: per corpus (the gcide dictionary passages, and a
//! seeded synthetic corpus with a Zipf-like vocabulary), FT.CREATE with a TEXT + TAG + NUMERIC
//! schema, a pipelined HSET load with the index present (ingest rate, then the time until the
//! last document is searchable), query sets (term, two-term AND, phrase, prefix, fuzzy,
//! tag + numeric range, text + tag, and on gcide hybrid text + KNN) on 1 and N connections, and
//! the cost of commits under a steady write load. Prints one JSON line per measurement on
//! stdout, progress on stderr; benches/text.py starts the server and writes the report.
//!
//!     cargo bench --bench text_resp -- --port 6379 --flushall
//!     cargo bench --bench text_resp -- --port 6379 --flushall --corpora synthetic \
//!         --synthetic-rows 20000 --seconds 1
//!
//! `--help` lists the options. The tool FLUSHALLs before each corpus, so it refuses a non-empty
//! server unless `--flushall` is given.

#[path = "../vector_resp/cli.rs"]
mod cli;
mod corpus;
// The vector benchmark's RESP client, dataset reader, pipelined loader and FT.INFO polling;
// this tool uses part of each (not the KNN query sets or the metadata filters).
#[allow(dead_code)]
#[path = "../vector_resp/dataset.rs"]
mod dataset;
#[allow(dead_code)]
#[path = "../vector_resp/load.rs"]
mod load;
#[allow(dead_code)]
#[path = "../vector_resp/resp.rs"]
mod resp;
mod run;
#[allow(dead_code)]
#[path = "../vector_resp/search.rs"]
mod search;
#[path = "../../tests/vector_data/mod.rs"]
mod vector_data;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use cli::{command, list};
use corpus::{Corpus, Kind, Query, QueryMaker};
use dataset::Dataset;
use resp::Conn;
use run::{Budget, Sample};

const SYSTEM: &str = "ferrostack-resp";
const INDEX: &str = "idx";
/// The second index of the hybrid queries (text + FLAT vector over the same hashes).
const HYBRID_INDEX: &str = "idxv";
const CORPORA: [&str; 2] = ["gcide", "synthetic"];

const HELP: &str = "\
text_resp: full-text benchmark of a RESP server with FT.* (see benches/text.py)

  --host H              server address (127.0.0.1)
  --port P              server port (6379)
  --corpora LIST        of gcide,synthetic (both)
  --data DIR            gcide dataset directory (meta.jsonl, base.f32); default as
                        datasets/README.md says
  --rows N              load only the first N gcide rows (all)
  --synthetic-rows N    synthetic documents (200000)
  --vocab N             synthetic vocabulary size (50000)
  --seed N              seed of the synthetic corpus and of the query draws (42)
  --per-kind N          distinct queries drawn per query kind (500)
  --max-queries N       most queries per query set (20000)
  --seconds S           longest run of a query set, in seconds (3)
  --conns LIST          client connections per query set (1,4)
  --batch N             HSETs per pipelined round trip (500)
  --load-conns N        connections loading in parallel (4)
  --write-seconds S     length of each write-load run (5; 0 skips the write load)
  --timeout SECS        longest wait for an index to catch up (1800)
  --flushall            allow flushing a non-empty server
  --workload-dir DIR    also write each corpus's documents and query sets to
                        DIR/<corpus>.jsonl, for measuring a peer engine on the same work";

struct Options {
    addr: String,
    corpora: Vec<String>,
    data: PathBuf,
    rows: usize,
    synthetic_rows: usize,
    vocab: usize,
    seed: u64,
    per_kind: usize,
    budget: Budget,
    conns: Vec<usize>,
    batch: usize,
    load_conns: usize,
    write_time: Duration,
    timeout: Duration,
    flushall: bool,
    workload_dir: Option<PathBuf>,
}

fn parse_options() -> Result<Option<Options>, String> {
    let mut o = Options {
        addr: String::new(),
        corpora: CORPORA.iter().map(|c| c.to_string()).collect(),
        data: vector_data::dir(),
        rows: usize::MAX,
        synthetic_rows: 200_000,
        vocab: 50_000,
        seed: 42,
        per_kind: 500,
        budget: Budget {
            max: 20_000,
            time: Duration::from_secs(3),
        },
        conns: vec![1, 4],
        batch: 500,
        load_conns: 4,
        write_time: Duration::from_secs(5),
        timeout: Duration::from_secs(1800),
        flushall: false,
        workload_dir: None,
    };
    let (mut host, mut port) = ("127.0.0.1".to_owned(), 6379u16);
    let Some(line) = cli::parse(HELP)? else {
        return Ok(None);
    };
    o.flushall = line.flushall;
    for (flag, value) in line.values {
        let num = |v: &str| cli::num::<usize>(&flag, v);
        let secs = |v: &str| {
            Duration::try_from_secs_f64(cli::num(&flag, v)?).map_err(|e| format!("{flag}: {e}"))
        };
        match flag.as_str() {
            "--host" => host = value,
            "--port" => port = cli::num(&flag, &value)?,
            "--corpora" => o.corpora = list(&flag, &value)?,
            "--data" => o.data = value.into(),
            "--rows" => o.rows = num(&value)?,
            "--synthetic-rows" => o.synthetic_rows = num(&value)?.max(1),
            "--vocab" => o.vocab = num(&value)?.max(1),
            "--seed" => o.seed = num(&value)? as u64,
            "--per-kind" => o.per_kind = num(&value)?.max(1),
            "--max-queries" => o.budget.max = num(&value)?.max(1),
            "--seconds" => o.budget.time = secs(&value)?,
            "--conns" => o.conns = list(&flag, &value)?,
            "--batch" => o.batch = num(&value)?.max(1),
            "--load-conns" => o.load_conns = num(&value)?.max(1),
            "--write-seconds" => o.write_time = secs(&value)?,
            "--timeout" => o.timeout = Duration::from_secs(num(&value)? as u64),
            "--workload-dir" => o.workload_dir = Some(value.into()),
            _ => return Err(format!("unknown option {flag} (see --help)")),
        }
    }
    if let Some(c) = o.corpora.iter().find(|c| !CORPORA.contains(&c.as_str())) {
        return Err(format!(
            "--corpora: unknown corpus {c:?} (known: {})",
            CORPORA.join(",")
        ));
    }
    if o.conns.is_empty() || o.conns.contains(&0) {
        return Err("--conns must list connection counts above zero".into());
    }
    o.addr = format!("{host}:{port}");
    Ok(Some(o))
}

/// Prints one result line (stdout is the machine-readable channel).
fn emit(corpus: &Corpus, mut line: Value) {
    line["system"] = json!(SYSTEM);
    line["corpus"] = json!(corpus.name);
    line["docs"] = json!(corpus.docs.len());
    println!("{line}");
    let _ = std::io::stdout().flush();
}

/// Latency and throughput fields of a sample, for a JSON line.
fn figures(sample: &mut Sample) -> Value {
    json!({
        "requests": sample.latencies.len(), "per_s": sample.rate(),
        "p50_ms": sample.quantile_ms(0.50), "p99_ms": sample.quantile_ms(0.99),
        "mean_hits": sample.mean_hits(),
    })
}

fn merge(mut line: Value, extra: Value) -> Value {
    if let (Some(line), Value::Object(extra)) = (line.as_object_mut(), extra) {
        line.extend(extra);
    }
    line
}

struct Bench<'a> {
    o: &'a Options,
    ctl: Conn,
    corpus: Corpus,
}

impl Bench<'_> {
    /// FT.CREATE with the index present during the load, the pipelined load, and the time from
    /// the last HSET reply until FT.INFO reports every document and a term query answered.
    fn ingest(&mut self, probe: &Query) -> Result<(), String> {
        let create =
            format!("FT.CREATE {INDEX} ON HASH PREFIX 1 doc: SCHEMA text TEXT tag TAG num NUMERIC");
        command(
            &mut self.ctl,
            &create.split_whitespace().collect::<Vec<_>>(),
        )?;
        let (o, corpus) = (self.o, &self.corpus);
        eprintln!(
            "{}: loading {} documents ({} per batch, {} connections)...",
            corpus.name,
            corpus.docs.len(),
            o.batch,
            o.load_conns
        );
        let load_s = load::pipelined(
            &o.addr,
            corpus.docs.len(),
            o.batch,
            o.load_conns,
            |conn, row| {
                let embedding = corpus.vectors.as_ref().map(|d| load::blob(d.row(row)));
                run::send_hset(
                    conn,
                    &format!("doc:{row}"),
                    &corpus.docs[row],
                    embedding.as_deref(),
                )
            },
        )?
        .as_secs_f64();
        let loaded = Instant::now();
        let p = search::wait_indexed(&mut self.ctl, INDEX, o.timeout)?;
        let indexed_s = loaded.elapsed().as_secs_f64();
        let first = Instant::now();
        let hits = run::search(&mut self.ctl, INDEX, probe, corpus)?;
        let first_query_ms = first.elapsed().as_secs_f64() * 1e3;
        let searchable_s = loaded.elapsed().as_secs_f64();
        let again = Instant::now();
        run::search(&mut self.ctl, INDEX, probe, corpus)?;
        let repeat_query_ms = again.elapsed().as_secs_f64() * 1e3;
        let docs = corpus.docs.len() as f64;
        eprintln!(
            "  {:.0} docs/s; searchable {searchable_s:.3}s after the last write",
            docs / load_s
        );
        emit(
            corpus,
            json!({
                "phase": "ingest", "batch": o.batch, "conns": o.load_conns, "load_s": load_s,
                "docs_per_s": docs / load_s, "indexed_docs": p.num_docs,
                "indexing_failures": p.failures, "indexed_s": indexed_s,
                "probe": probe.text, "probe_hits": hits, "first_query_ms": first_query_ms,
                "repeat_query_ms": repeat_query_ms, "searchable_s": searchable_s,
                "docs_per_s_searchable": docs / (load_s + searchable_s),
            }),
        );
        Ok(())
    }

    fn query_sets(&mut self, kind: Kind, index: &str, queries: &[Query]) -> Result<(), String> {
        if queries.is_empty() {
            eprintln!("  {}: the corpus offers no such queries", kind.name());
            return Ok(());
        }
        for &conns in &self.o.conns {
            let mut s = run::queries(
                &self.o.addr,
                index,
                &self.corpus,
                queries,
                conns,
                self.o.budget,
            )?;
            eprintln!(
                "  {:<11} conns={conns}: {:>7.0} qps, p50 {:.3} ms, p99 {:.3} ms, {:.0} hits",
                kind.name(),
                s.rate(),
                s.quantile_ms(0.5),
                s.quantile_ms(0.99),
                s.mean_hits()
            );
            let line = json!({
                "phase": "query", "kind": kind.name(), "conns": conns,
                "distinct_queries": queries.len(), "example": queries[0].text,
            });
            emit(&self.corpus, merge(line, figures(&mut s)));
        }
        Ok(())
    }

    /// The hybrid queries need the vectors indexed: a second index (TEXT + FLAT vector) over
    /// the same hashes, built by a background scan, timed, and dropped afterwards.
    fn hybrid(&mut self, queries: &[Query]) -> Result<(), String> {
        let Some(data) = &self.corpus.vectors else {
            return Ok(());
        };
        let create = format!(
            "FT.CREATE {HYBRID_INDEX} ON HASH PREFIX 1 doc: SCHEMA text TEXT embedding VECTOR \
             FLAT 6 TYPE FLOAT32 DIM {} DISTANCE_METRIC COSINE",
            data.dim
        );
        let start = Instant::now();
        command(
            &mut self.ctl,
            &create.split_whitespace().collect::<Vec<_>>(),
        )?;
        search::wait_indexed(&mut self.ctl, HYBRID_INDEX, self.o.timeout)?;
        let build_s = start.elapsed().as_secs_f64();
        eprintln!("  {HYBRID_INDEX} (TEXT + FLAT vector) built in {build_s:.2}s");
        emit(
            &self.corpus,
            json!({"phase": "build", "index": "TEXT+FLAT", "build_s": build_s}),
        );
        self.query_sets(Kind::Hybrid, HYBRID_INDEX, queries)?;
        search::drop_index(&mut self.ctl, HYBRID_INDEX)
    }

    /// Writer alone, term queries on the quiet index, then both at once.
    fn write_load(&mut self, terms: &[Query]) -> Result<(), String> {
        let (addr, time) = (&self.o.addr, self.o.write_time);
        if time.is_zero() || terms.is_empty() {
            return Ok(());
        }
        eprintln!("  write load ({time:?} per run)...");
        let (mut alone, _) = run::write_load(addr, INDEX, &self.corpus, None, 0, time)?;
        let written = alone.latencies.len();
        let quiet_budget = Budget {
            max: usize::MAX,
            time,
        };
        let mut quiet = run::queries(addr, INDEX, &self.corpus, terms, 1, quiet_budget)?;
        let (mut busy_writer, mut busy_search) =
            run::write_load(addr, INDEX, &self.corpus, Some(terms), written, time)?;
        eprintln!(
            "    writer alone {:.0}/s, beside the searcher {:.0}/s; term p50 quiet {:.3} ms, \
             under writes {:.3} ms",
            alone.rate(),
            busy_writer.rate(),
            quiet.quantile_ms(0.5),
            busy_search.quantile_ms(0.5)
        );
        for (mode, role, sample) in [
            ("writer_alone", "writer", &mut alone),
            ("search_quiet", "search", &mut quiet),
            ("writer_and_search", "writer", &mut busy_writer),
            ("writer_and_search", "search", &mut busy_search),
        ] {
            let line = json!({"phase": "write_load", "mode": mode, "role": role});
            emit(&self.corpus, merge(line, figures(sample)));
        }
        Ok(())
    }

    fn run(&mut self) -> Result<(), String> {
        command(&mut self.ctl, &["FLUSHALL"])?;
        let mut maker = QueryMaker::new(&self.corpus, self.o.seed);
        let sets: Vec<(Kind, Vec<Query>)> = Kind::ALL
            .iter()
            .map(|&k| (k, maker.make(k, self.o.per_kind)))
            .collect();
        if let Some(dir) = &self.o.workload_dir {
            write_workload(dir, &self.corpus, &sets)?;
        }
        let terms = &sets[0].1;
        let probe = terms.first().ok_or("the corpus offers no term queries")?;
        self.ingest(probe)?;
        for (kind, queries) in &sets {
            match kind {
                Kind::Hybrid => self.hybrid(queries)?,
                _ => self.query_sets(*kind, INDEX, queries)?,
            }
        }
        self.write_load(terms)?;
        // The next corpus creates its own index under the same name.
        search::drop_index(&mut self.ctl, INDEX)?;
        command(&mut self.ctl, &["FLUSHALL"]).map(drop)
    }
}

/// Writes the corpus and its query sets as JSON lines (`{"doc", "text", "tag", "num"}`, then
/// `{"kind", "query"}` in the order the query loops send them), so that a peer engine can be
/// measured on exactly the same documents and queries.
fn write_workload(dir: &Path, corpus: &Corpus, sets: &[(Kind, Vec<Query>)]) -> Result<(), String> {
    let path = dir.join(format!("{}.jsonl", corpus.name));
    let failed = |e: std::io::Error| format!("{}: {e}", path.display());
    std::fs::create_dir_all(dir).map_err(failed)?;
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).map_err(failed)?);
    for (i, d) in corpus.docs.iter().enumerate() {
        let line = json!({"doc": i, "text": d.text, "tag": d.tag, "num": d.num});
        writeln!(out, "{line}").map_err(failed)?;
    }
    for (kind, queries) in sets {
        for q in queries {
            writeln!(out, "{}", json!({"kind": kind.name(), "query": q.text})).map_err(failed)?;
        }
    }
    out.flush().map_err(failed)
}

fn start(o: Options) -> Result<(), String> {
    cli::control(&o.addr, o.flushall)?;
    for name in &o.corpora {
        let started = Instant::now();
        let corpus = match name.as_str() {
            "gcide" => Corpus::gcide(Dataset::load(&o.data, 384, o.rows, 0)?),
            _ => Corpus::synthetic(o.synthetic_rows, o.vocab, o.seed),
        };
        eprintln!(
            "{name}: {} documents ready in {:.1}s",
            corpus.docs.len(),
            started.elapsed().as_secs_f64()
        );
        let ctl = cli::control(&o.addr, true)?;
        Bench { o: &o, ctl, corpus }.run()?;
    }
    Ok(())
}

fn main() -> ExitCode {
    match parse_options().and_then(|o| o.map_or(Ok(()), start)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("text_resp: {e}");
            ExitCode::FAILURE
        }
    }
}
