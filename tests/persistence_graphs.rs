//! HNSW graphs saved beside snapshots and AOF rewrites (`dir/hnsw-graphs/`): a restart
//! adopts them instead of building the graphs again and answers KNN queries as before;
//! documents changed, deleted or added after a graph was saved are answered by their
//! current vectors; a damaged graph file is ignored (the graph is built again) and never
//! stops the start; the files of dropped indexes go at the next save.
//!
//! Run: `cargo test --test persistence_graphs`.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::ft::{Rng, info_num, knn_blob, wait_indexed};
use common::{Client, Server, TempDir, V};

const DIM: usize = 16;
/// Two HNSW fields (FLOAT32 cosine, FLOAT64 L2) and a FLAT one. M 4 and EF_RUNTIME 10 keep
/// the graph's answers approximate, so a graph built again would answer differently.
const CREATE: &str = "FT.CREATE idx PREFIX 1 doc: SCHEMA \
    v VECTOR HNSW 10 TYPE FLOAT32 DIM 16 DISTANCE_METRIC COSINE M 4 EF_CONSTRUCTION 20 \
    w VECTOR HNSW 10 TYPE FLOAT64 DIM 16 DISTANCE_METRIC L2 M 4 EF_CONSTRUCTION 20 \
    f VECTOR FLAT 6 TYPE FLOAT32 DIM 16 DISTANCE_METRIC L2 \
    t TAG";

/// The graph file of `index`'s field `field` under `dir`.
fn graph(dir: &TempDir, index: &str, field: &str) -> PathBuf {
    dir.path()
        .join("hnsw-graphs")
        .join(format!("{index}.{field}.graph"))
}

fn ferro(dir: &TempDir, extra: &[&str]) -> Server {
    let mut args = vec!["--dir", dir.str(), "--enable-debug-command", "yes"];
    args.extend_from_slice(extra);
    Server::start(&args)
}

fn vector(rng: &mut Rng) -> [f32; DIM] {
    std::array::from_fn(|_| (rng.below(2001) as f32 - 1000.0) / 1000.0)
}

fn blob32(v: &[f32; DIM]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn blob64(v: &[f32; DIM]) -> Vec<u8> {
    v.iter().flat_map(|&x| f64::from(x).to_le_bytes()).collect()
}

/// HSETs `doc:<i>` for every `(i, vector)`, pipelined.
fn put(c: &mut Client, docs: &[(usize, [f32; DIM])]) {
    for chunk in docs.chunks(200) {
        for (i, v) in chunk {
            let key = format!("doc:{i}");
            let tag = format!("t{}", i % 5);
            c.send(&[
                b"HSET".as_ref(),
                key.as_bytes(),
                b"v",
                &blob32(v),
                b"w",
                &blob64(v),
                b"f",
                &blob32(v),
                b"t",
                tag.as_bytes(),
            ]);
        }
        for _ in chunk {
            assert!(!c.read().is_error());
        }
    }
}

/// The top 10 of a KNN query on `field`, nearest first: (key, distance as replied).
fn knn(c: &mut Client, field: &str, q: &[f32; DIM], ef: usize) -> Vec<(String, f64)> {
    // FLAT fields take no EF_RUNTIME.
    let ef = if field == "f" {
        String::new()
    } else {
        format!("EF_RUNTIME {ef} ")
    };
    let query = format!("*=>[KNN 10 @{field} $q {ef}AS d]");
    let blob = if field == "w" { blob64(q) } else { blob32(q) };
    knn_blob(c, "idx", &query, &blob, 10).unwrap_or_else(|e| panic!("{e}"))
}

/// Every field's answers to `queries`, with the graphs searched narrowly (EF_RUNTIME 10).
fn answers(c: &mut Client, queries: &[[f32; DIM]]) -> Vec<Vec<(String, f64)>> {
    ["v", "w", "f"]
        .iter()
        .flat_map(|field| queries.iter().map(move |q| (field, q)))
        .map(|(field, q)| knn(c, field, q, 10))
        .collect()
}

/// Waits until the index is scanned and its graphs hold every vector.
fn settled(c: &mut Client) {
    wait_indexed(c, "idx");
}

fn adopted_line(server: &Server, field: &str) -> String {
    let what = format!("HNSW graph of idx/{field} loaded from");
    server
        .log_line(&what, Duration::from_secs(60))
        .unwrap_or_else(|| panic!("no log line '{what}'"))
}

#[test]
fn a_restart_adopts_the_saved_graphs_and_answers_as_before() {
    let dir = TempDir::new("adopt");
    let mut rng = Rng::new(11);
    let docs: Vec<_> = (0..2000).map(|i| (i, vector(&mut rng))).collect();
    let queries: Vec<_> = (0..20).map(|_| vector(&mut rng)).collect();
    let before = {
        let server = ferro(&dir, &[]);
        let mut c = server.client();
        assert_eq!(c.q(CREATE), V::ok());
        put(&mut c, &docs);
        settled(&mut c);
        let before = answers(&mut c, &queries);
        assert_eq!(c.q("SAVE"), V::ok());
        before
    };
    for field in ["v", "w"] {
        assert!(
            graph(&dir, "idx", field).exists(),
            "no graph file for {field}"
        );
    }
    assert!(
        !graph(&dir, "idx", "f").exists(),
        "FLAT fields have no graph"
    );

    let server = ferro(&dir, &[]);
    let mut c = server.client();
    for field in ["v", "w"] {
        let line = adopted_line(&server, field);
        assert!(line.contains("2000 of its 2000 nodes adopted"), "{line}");
    }
    settled(&mut c);
    assert_eq!(info_num(&mut c, "idx", "num_docs").unwrap(), 2000.0);
    assert_eq!(answers(&mut c, &queries), before);
    // The graph adopted is the file's: saving again leaves the file alone.
    let written = std::fs::metadata(graph(&dir, "idx", "v"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(c.q("SAVE"), V::ok());
    assert_eq!(
        std::fs::metadata(graph(&dir, "idx", "v"))
            .unwrap()
            .modified()
            .unwrap(),
        written
    );
    assert!(
        server
            .log_line("HNSW graph of idx/v saved", Duration::ZERO)
            .is_none()
    );
    // DEBUG RELOAD goes through the same load.
    assert_eq!(c.q("DEBUG RELOAD"), V::ok());
    settled(&mut c);
    assert_eq!(answers(&mut c, &queries), before);
}

#[test]
fn writes_after_the_saved_graph_are_answered_by_their_current_vectors() {
    let dir = TempDir::new("aof");
    let mut rng = Rng::new(12);
    let docs: Vec<_> = (0..1500).map(|i| (i, vector(&mut rng))).collect();
    let changed: Vec<_> = (0..100).map(|i| (i * 7, vector(&mut rng))).collect();
    let added: Vec<_> = (1500..1600).map(|i| (i, vector(&mut rng))).collect();
    let deleted: Vec<usize> = (0..50).map(|i| i * 7 + 1).collect();
    {
        let server = ferro(&dir, &["--appendonly", "yes", "--appendfsync", "always"]);
        let mut c = server.client();
        assert_eq!(c.q(CREATE), V::ok());
        put(&mut c, &docs);
        settled(&mut c);
        c.q("BGREWRITEAOF");
        server
            .log_line("HNSW graph of idx/w saved", Duration::from_secs(60))
            .expect("the rewrite saves the graphs");
        put(&mut c, &changed);
        put(&mut c, &added);
        for i in &deleted {
            assert_eq!(c.q(&format!("DEL doc:{i}")), V::Int(1));
        }
        // Dropped without SHUTDOWN: killed.
    }
    let server = ferro(&dir, &["--appendonly", "yes"]);
    let mut c = server.client();
    for field in ["v", "w"] {
        let line = adopted_line(&server, field);
        assert!(line.contains("1350 of its 1500 nodes adopted"), "{line}");
    }
    settled(&mut c);
    assert_eq!(info_num(&mut c, "idx", "num_docs").unwrap(), 1550.0);
    for field in ["v", "w"] {
        for (i, v) in changed.iter().chain(&added) {
            let hits = knn(&mut c, field, v, 100);
            assert_eq!(hits[0].0, format!("doc:{i}"), "{field}: {hits:?}");
        }
        for (_, v) in docs.iter().filter(|(i, _)| deleted.contains(i)) {
            let hits = knn(&mut c, field, v, 100);
            assert!(
                hits.iter().all(|(key, _)| {
                    let i: usize = key["doc:".len()..].parse().unwrap();
                    !deleted.contains(&i)
                }),
                "{field}: deleted documents returned: {hits:?}"
            );
        }
    }
}

#[test]
fn a_damaged_graph_file_is_ignored_and_the_graph_built_again() {
    let dir = TempDir::new("damaged");
    let mut rng = Rng::new(13);
    let docs: Vec<_> = (0..600).map(|i| (i, vector(&mut rng))).collect();
    {
        let server = ferro(&dir, &[]);
        let mut c = server.client();
        assert_eq!(c.q(CREATE), V::ok());
        put(&mut c, &docs);
        settled(&mut c);
        assert_eq!(c.q("SAVE"), V::ok());
    }
    let path = graph(&dir, "idx", "v");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let server = ferro(&dir, &[]);
    let mut c = server.client();
    let refused = server
        .log_line("The saved HNSW graph of idx/v", Duration::from_secs(60))
        .expect("the damaged file is reported");
    assert!(refused.contains("is not used"), "{refused}");
    assert!(adopted_line(&server, "w").contains("600 of its 600 nodes adopted"));
    settled(&mut c);
    for (i, v) in docs.iter().step_by(37) {
        assert_eq!(knn(&mut c, "v", v, 100)[0].0, format!("doc:{i}"));
    }
    // The graph built again is saved over the damaged file.
    assert_eq!(c.q("SAVE"), V::ok());
    drop(server);
    let server = ferro(&dir, &[]);
    assert!(adopted_line(&server, "v").contains("600 of its 600 nodes adopted"));
}

#[test]
fn graph_files_follow_the_indexes() {
    let dir = TempDir::new("drop");
    let server = ferro(&dir, &[]);
    let mut c = server.client();
    assert_eq!(c.q(CREATE), V::ok());
    assert_eq!(
        c.q("FT.CREATE my.idx/2 SCHEMA v VECTOR HNSW 6 TYPE FLOAT32 DIM 16 DISTANCE_METRIC L2"),
        V::ok()
    );
    assert_eq!(c.q("FT.CREATE tmp TEMPORARY 100 SCHEMA v VECTOR HNSW 6 TYPE FLOAT32 DIM 16 DISTANCE_METRIC L2"), V::ok());
    put(&mut c, &[(1, vector(&mut Rng::new(14)))]);
    settled(&mut c);
    assert_eq!(c.q("SAVE"), V::ok());
    let listing = || {
        let mut names: Vec<String> = std::fs::read_dir(dir.path().join("hnsw-graphs"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        listing(),
        ["idx.v.graph", "idx.w.graph", "my%2Eidx%2F2.v.graph"]
    );
    assert_eq!(c.q("FT.DROPINDEX idx"), V::ok());
    assert_eq!(c.q("SAVE"), V::ok());
    assert_eq!(listing(), ["my%2Eidx%2F2.v.graph"]);
}
