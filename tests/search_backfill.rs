//! The initial scan of FT.CREATE over hashes already stored: once FT.INFO reports `indexing 0`
//! every covered hash is indexed (num_docs, FT.SEARCH `*` total), with or without a vector
//! field, and with writers adding and deleting keys during the scan; an HNSW index keeps
//! `indexing 1` until its graph has taken every pending vector.

mod common;

use std::time::{Duration, Instant};

use common::ft::{ft_info, info_num, search_ids, wait_indexed};
use common::{Client, Server, V};

/// Pipelines `HSET doc:<i> ...` for `range`, each with a tag, a number, text and (when
/// `dim > 0`) a FLOAT32 vector of `dim` components.
fn load(c: &mut Client, range: std::ops::Range<usize>, dim: usize) {
    let ids: Vec<usize> = range.collect();
    for batch in ids.chunks(1000) {
        for &i in batch {
            let key = format!("doc:{i}");
            let tag = format!("t{}", i % 7);
            let num = i.to_string();
            // Every vector distinct (a multiplicative hash of (i, d)): with only a few
            // distinct ones, graph inserts were so cheap the worker kept up with the load.
            let v: Vec<u8> = (0..dim)
                .flat_map(|d| {
                    let h = ((i * 1000 + d) as u32).wrapping_mul(2_654_435_761) >> 16;
                    (h as f32 / 65536.0 + 0.01).to_le_bytes()
                })
                .collect();
            let mut args: Vec<&[u8]> = vec![
                b"HSET",
                key.as_bytes(),
                b"tags",
                tag.as_bytes(),
                b"n",
                num.as_bytes(),
                b"text",
                b"some words here",
            ];
            if dim > 0 {
                args.extend([b"embedding".as_ref(), &v]);
            }
            c.send(&args);
        }
        for _ in batch {
            assert_eq!(c.read(), V::Int(if dim > 0 { 4 } else { 3 }));
        }
    }
}

fn create(c: &mut Client, dim: usize) {
    let mut line =
        "FT.CREATE idx ON HASH PREFIX 1 doc: SCHEMA tags TAG n NUMERIC text TEXT".to_string();
    if dim > 0 {
        line += &format!(
            " embedding VECTOR HNSW 10 TYPE FLOAT32 DIM {dim} DISTANCE_METRIC COSINE M 16 EF_CONSTRUCTION 200"
        );
    }
    assert_eq!(c.q(&line), V::ok());
}

/// `*` total of FT.SEARCH (LIMIT 0 0).
fn total(c: &mut Client) -> i64 {
    let reply = c.q("FT.SEARCH idx * LIMIT 0 0");
    match &reply {
        V::Array(items) => match items.first() {
            Some(V::Int(n)) => *n,
            _ => panic!("FT.SEARCH reply {reply:?}"),
        },
        _ => panic!("FT.SEARCH reply {reply:?}"),
    }
}

fn num(c: &mut Client, field: &str) -> f64 {
    info_num(c, "idx", field).unwrap_or_else(|e| panic!("{e}"))
}

/// Polls FT.INFO as clients do and checks the first reply saying `indexing 0` itself: the
/// benchmark read `num_docs` from that reply and once found the scan's last chunk missing.
fn assert_complete(c: &mut Client, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(120);
    let info = loop {
        let info = ft_info(c, "idx").unwrap_or_else(|e| panic!("{e}"));
        if info.get("indexing") == Some(&V::Int(0)) {
            break info;
        }
        assert!(Instant::now() < deadline, "still indexing");
    };
    let field = |name: &str| info.get(name).map(V::text).unwrap_or_default();
    assert_eq!(field("percent_indexed"), "1");
    assert_eq!(field("hash_indexing_failures"), "0");
    assert_eq!(field("num_docs"), n.to_string());
    assert_eq!(total(c), n as i64);
}

#[test]
fn scan_indexes_every_preloaded_hash() {
    const N: usize = 20_000;
    let server = Server::start(&[]);
    let mut c = server.client();
    load(&mut c, 0..N, 0);
    create(&mut c, 0);
    assert_complete(&mut c, N);
}

#[test]
fn scan_indexes_every_preloaded_hash_with_a_vector() {
    const N: usize = 20_000;
    let server = Server::start(&[]);
    let mut c = server.client();
    load(&mut c, 0..N, 8);
    create(&mut c, 8);
    assert_complete(&mut c, N);
}

/// Writers add and delete keys while the scan runs; afterwards the index holds exactly the
/// keyspace's covered hashes.
/// The benchmark's shape (31,768 hashes, 384-d vectors); slow in a debug build.
#[test]
#[ignore]
fn scan_indexes_a_benchmark_sized_load() {
    const N: usize = 31_768;
    let server = Server::start(&[]);
    let mut c = server.client();
    // As the benchmark loads: 4 connections taking 500-row batches in turn.
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let mut c = server.client();
                loop {
                    let b = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) * 500;
                    if b >= N {
                        break;
                    }
                    load(&mut c, b..(b + 500).min(N), 384);
                }
            });
        }
    });
    create(&mut c, 384);
    assert_complete(&mut c, N);
}

#[test]
fn scan_with_concurrent_writers_matches_the_keyspace() {
    const N: usize = 20_000;
    let server = Server::start(&[]);
    let mut c = server.client();
    load(&mut c, 0..N, 4);
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let port = server.port;
            std::thread::spawn(move || {
                let mut c = Client::connect(port);
                for round in 0..5 {
                    let base = N + (w * 5 + round) * 1000;
                    load(&mut c, base..base + 1000, 4);
                    for i in (w * 3000 + round * 600..).take(600) {
                        c.send(&["DEL", &format!("doc:{i}")]);
                    }
                    for _ in 0..600 {
                        assert!(matches!(c.read(), V::Int(_)));
                    }
                }
            })
        })
        .collect();
    create(&mut c, 4);
    for w in writers {
        w.join().expect("writer");
    }
    wait_indexed(&mut c, "idx");
    let expected = common::ft::snapshot(&mut c)
        .into_keys()
        .collect::<std::collections::BTreeSet<_>>();
    let indexed = search_ids(&mut c, "idx", "*").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(indexed.len(), expected.len());
    assert_eq!(indexed, expected);
    assert_eq!(num(&mut c, "num_docs"), expected.len() as f64);
}

/// FT.INFO keeps `indexing 1` while the HNSW worker still has vectors to put in the graph,
/// with `percent_indexed` below 1, and reaches `indexing 0` / 1 once it is idle.
#[test]
fn hnsw_backlog_keeps_indexing_until_the_graph_has_caught_up() {
    const N: usize = 5_000;
    // 384 components (as sentence embeddings have): a graph insert then costs far more than
    // the HSET that queues it, so the worker is still busy when the load ends.
    const DIM: usize = 384;
    let server = Server::start(&[]);
    let mut c = server.client();
    create(&mut c, DIM);
    // Written after FT.CREATE: no scan runs, only the graph worker has work.
    load(&mut c, 0..N, DIM);
    assert_eq!(num(&mut c, "indexing"), 1.0, "graph worker had a backlog");
    assert!(num(&mut c, "percent_indexed") < 1.0);
    let deadline = Instant::now() + Duration::from_secs(120);
    while num(&mut c, "indexing") != 0.0 {
        assert!(Instant::now() < deadline, "graph never caught up");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(num(&mut c, "percent_indexed"), 1.0);
    assert_eq!(num(&mut c, "num_docs"), N as f64);
    assert_eq!(total(&mut c), N as i64);
}
