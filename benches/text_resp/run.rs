//! Timed closed loops over RESP: a query set on N connections, and the steady write load
//! (one connection writing HSETs one at a time, optionally beside one connection searching).

use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::corpus::{Corpus, Doc, Query};
use crate::load::blob;
use crate::resp::{Conn, Reply};

/// What a loop measured: one latency per request, the wall time, and the summed FT.SEARCH
/// totals (hits) of the queries.
#[derive(Default)]
pub struct Sample {
    pub latencies: Vec<Duration>,
    pub wall: Duration,
    pub hits: u64,
}

impl Sample {
    pub fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.wall.as_secs_f64()
    }

    /// The latency at quantile `q`, in milliseconds.
    pub fn quantile_ms(&mut self, q: f64) -> f64 {
        self.latencies.sort_unstable();
        let n = self.latencies.len();
        let rank = ((q * n as f64).ceil() as usize).clamp(1, n.max(1));
        self.latencies
            .get(rank - 1)
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    }

    pub fn mean_hits(&self) -> f64 {
        self.hits as f64 / self.latencies.len().max(1) as f64
    }
}

/// When a loop stops: after `max` requests or `time`, whichever comes first.
#[derive(Clone, Copy)]
pub struct Budget {
    pub max: usize,
    pub time: Duration,
}

/// Buffers the HSET of `doc` (and of the embedding blob, when given) under `key`.
pub fn send_hset(
    conn: &mut Conn,
    key: &str,
    doc: &Doc,
    embedding: Option<&[u8]>,
) -> io::Result<()> {
    let num = doc.num.to_string();
    let mut args: Vec<&[u8]> = vec![
        b"HSET",
        key.as_bytes(),
        b"text",
        doc.text.as_bytes(),
        b"tag",
        doc.tag.as_bytes(),
        b"num",
        num.as_bytes(),
    ];
    if let Some(e) = embedding {
        args.extend([b"embedding".as_ref(), e]);
    }
    conn.send(&args)
}

/// One FT.SEARCH returning the first 10 ids (NOCONTENT: the cost of the search, not of reading
/// hashes back); returns the reply's total.
pub fn search(conn: &mut Conn, index: &str, q: &Query, corpus: &Corpus) -> Result<u64, String> {
    let vector = match (q.vector_of, &corpus.vectors) {
        (Some(row), Some(data)) => Some(blob(data.row(row))),
        _ => None,
    };
    let mut args: Vec<&[u8]> = vec![
        b"FT.SEARCH",
        index.as_bytes(),
        q.text.as_bytes(),
        b"NOCONTENT",
        b"LIMIT",
        b"0",
        b"10",
        b"DIALECT",
        b"2",
    ];
    if let Some(v) = &vector {
        args.extend([b"PARAMS".as_ref(), b"2", b"vec", v]);
    }
    let reply = conn
        .call(&args)
        .map_err(|e| format!("FT.SEARCH: {e}"))?
        .ok()
        .map_err(|e| format!("FT.SEARCH {:?}: {e}", q.text))?;
    match reply {
        Reply::Array(items) => match items.first() {
            Some(Reply::Int(total)) => Ok(*total as u64),
            other => Err(format!("FT.SEARCH {:?}: total is {other:?}", q.text)),
        },
        other => Err(format!("FT.SEARCH {:?}: reply {other:?}", q.text)),
    }
}

/// Runs `queries` round-robin on `conns` connections, each sending its next query when the
/// previous reply arrived, until the budget is spent.
pub fn queries(
    addr: &str,
    index: &str,
    corpus: &Corpus,
    queries: &[Query],
    conns: usize,
    budget: Budget,
) -> Result<Sample, String> {
    let next = AtomicUsize::new(0);
    let clients = (0..conns.max(1))
        .map(|_| Conn::connect(addr).map_err(|e| format!("connect {addr}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let start = Instant::now();
    let parts = thread::scope(|s| {
        let workers: Vec<_> = clients
            .into_iter()
            .map(|mut conn| {
                let next = &next;
                s.spawn(move || {
                    let mut part = Sample::default();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= budget.max || start.elapsed() >= budget.time {
                            return Ok(part);
                        }
                        let t = Instant::now();
                        part.hits += search(&mut conn, index, &queries[i % queries.len()], corpus)?;
                        part.latencies.push(t.elapsed());
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect::<Result<Vec<_>, String>>()
    })?;
    let mut all = Sample {
        wall: start.elapsed(),
        ..Sample::default()
    };
    for part in parts {
        all.hits += part.hits;
        all.latencies.extend(part.latencies);
    }
    Ok(all)
}

/// The steady write load: one connection writes new `doc:w<n>` hashes (the corpus's documents
/// again, under new keys) one HSET per round trip for `time`; when `search` is given, another
/// connection runs those queries back to back meanwhile. Each such query finds the index
/// written since the last one, so it pays for a commit and reader reload first.
/// Returns (writer, searcher) samples; `first` numbers the writer's keys.
pub fn write_load(
    addr: &str,
    index: &str,
    corpus: &Corpus,
    search_with: Option<&[Query]>,
    first: usize,
    time: Duration,
) -> Result<(Sample, Sample), String> {
    let stop = AtomicBool::new(false);
    let mut writer_conn = Conn::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    let mut search_conn = Conn::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    let start = Instant::now();
    thread::scope(|s| {
        let stop = &stop;
        let searcher = s.spawn(move || {
            let mut sample = Sample::default();
            let Some(queries) = search_with else {
                return Ok(sample);
            };
            for q in queries.iter().cycle() {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let t = Instant::now();
                sample.hits += search(&mut search_conn, index, q, corpus)?;
                sample.latencies.push(t.elapsed());
            }
            sample.wall = start.elapsed();
            Ok::<_, String>(sample)
        });
        let mut writer = Sample::default();
        let result = (first..).try_for_each(|n| {
            if start.elapsed() >= time {
                return Err(None);
            }
            let key = format!("doc:w{n}");
            let t = Instant::now();
            let reply = send_hset(
                &mut writer_conn,
                &key,
                &corpus.docs[n % corpus.docs.len()],
                None,
            )
            .and_then(|()| writer_conn.flush())
            .and_then(|()| writer_conn.read())
            .map_err(|e| Some(format!("HSET: {e}")))?;
            writer.latencies.push(t.elapsed());
            match reply {
                Reply::Int(_) => Ok(()),
                other => Err(Some(format!("HSET {key}: {other:?}"))),
            }
        });
        writer.wall = start.elapsed();
        stop.store(true, Ordering::Relaxed);
        let searched = searcher
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e))?;
        match result {
            Err(Some(e)) => Err(e),
            _ => Ok((writer, searched)),
        }
    })
}
