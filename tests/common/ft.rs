//! FT.* test support for the search consistency, model and robustness tests: the test schema,
//! vector blobs, FT.SEARCH / FT.INFO reply readers, a seeded generator, and the brute-force
//! evaluation of what an index over a set of hashes must answer, compared query by query with
//! what the server answers ([`check_index`]).
//!
//! The expected answers come only from hash contents and RediSearch's indexing rules (a doc
//! whose NUMERIC does not parse or whose vector blob has the wrong size is not indexed at all),
//! never from the server's own index.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::{Client, V};

/// Hashes by key, each a field -> value map: what a keyspace (or a model of one) holds.
pub type Hashes = BTreeMap<String, BTreeMap<String, Vec<u8>>>;

/// Dimension of both test vector fields.
pub const DIM: usize = 2;

/// Creates index `name` over `prefixes` with the test schema: TAG `t`, NUMERIC `n`, a 2-d
/// FLOAT32 L2 vector twice, as FLAT (`v`) and as HNSW (`h`), and TEXT `s`.
pub fn create_index(c: &mut Client, name: &str, prefixes: &[&str]) -> V {
    let mut args: Vec<String> = vec!["FT.CREATE".into(), name.into(), "ON".into(), "HASH".into()];
    args.push("PREFIX".into());
    args.push(prefixes.len().to_string());
    args.extend(prefixes.iter().map(|p| p.to_string()));
    args.extend(
        "SCHEMA t TAG n NUMERIC \
         v VECTOR FLAT 6 TYPE FLOAT32 DIM 2 DISTANCE_METRIC L2 \
         h VECTOR HNSW 6 TYPE FLOAT32 DIM 2 DISTANCE_METRIC L2 s TEXT"
            .split_whitespace()
            .map(String::from),
    );
    c.cmd(&args)
}

/// Little-endian FLOAT32 bytes of `v`, as clients send vectors.
pub fn blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// HSET of a complete test document: tag, numeric, and the same vector in `v` and `h`.
pub fn put(c: &mut Client, key: &str, tag: &str, num: f64, vec: [f32; 2]) {
    let b = blob(&vec);
    let n = num.to_string();
    let reply = c.cmd(&[
        b"HSET".as_ref(),
        key.as_bytes(),
        b"t",
        tag.as_bytes(),
        b"n",
        n.as_bytes(),
        b"v",
        &b,
        b"h",
        &b,
    ]);
    assert!(matches!(reply, V::Int(_)), "HSET {key}: {reply:?}");
}

/// What one hash contributes to a test index, or `None` when the document must not be indexed.
#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    pub tags: BTreeSet<String>,
    pub num: Option<f64>,
    pub v: Option<[f32; 2]>,
    pub h: Option<[f32; 2]>,
    /// Lowercased words of `s`. Tests write only words that are their own stem and no
    /// stopword, so a word query matches exactly the documents holding the word.
    pub words: BTreeSet<String>,
}

impl Doc {
    fn vector(&self, field: &str) -> Option<[f32; 2]> {
        if field == "v" { self.v } else { self.h }
    }
}

/// RediSearch's HASH indexing rules for the test schema.
pub fn indexed_doc(fields: &BTreeMap<String, Vec<u8>>) -> Option<Doc> {
    let tags = fields.get("t").map_or_else(BTreeSet::new, |t| {
        String::from_utf8_lossy(t)
            .split(',')
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty())
            .collect()
    });
    let num = match fields.get("n") {
        None => None,
        Some(n) => Some(String::from_utf8_lossy(n).trim().parse::<f64>().ok()?),
    };
    let vector = |name: &str| -> Result<Option<[f32; 2]>, ()> {
        match fields.get(name) {
            None => Ok(None),
            Some(b) if b.len() == DIM * 4 => Ok(Some([
                f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
                f32::from_le_bytes([b[4], b[5], b[6], b[7]]),
            ])),
            Some(_) => Err(()),
        }
    };
    let words = fields.get("s").map_or_else(BTreeSet::new, |s| {
        String::from_utf8_lossy(s)
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    });
    Some(Doc {
        tags,
        num,
        v: vector("v").ok()?,
        h: vector("h").ok()?,
        words,
    })
}

/// The documents an index over `prefixes` must hold for `hashes`.
pub fn expected_docs(hashes: &Hashes, prefixes: &[&str]) -> BTreeMap<String, Doc> {
    hashes
        .iter()
        .filter(|(k, _)| prefixes.iter().any(|p| k.starts_with(p)))
        .filter_map(|(k, f)| Some((k.clone(), indexed_doc(f)?)))
        .collect()
}

/// Squared L2, as RediSearch reports L2 distances.
pub fn l2(a: [f32; 2], b: [f32; 2]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (f64::from(*x) - f64::from(y)).powi(2))
        .sum()
}

/// One FT.SEARCH result: the key and its returned fields (`None` for a key that vanished
/// while the query ran, which RediSearch answers with a nil field list).
pub type Hit = (String, Option<Vec<(String, Vec<u8>)>>);

/// Decodes a RESP2 FT.SEARCH reply: the total and the hits (fields empty with NOCONTENT).
pub fn parse_search(reply: &V, content: bool) -> Result<(i64, Vec<Hit>), String> {
    let V::Array(items) = reply else {
        return Err(format!("not a search reply: {reply:?}"));
    };
    let Some(V::Int(total)) = items.first() else {
        return Err(format!("no total in {reply:?}"));
    };
    let mut hits = Vec::new();
    let mut rest = items[1..].iter();
    while let Some(id) = rest.next() {
        let V::Bulk(id) = id else {
            return Err(format!("bad id {id:?} in {reply:?}"));
        };
        let mut fields = Some(Vec::new());
        if content {
            match rest.next() {
                Some(V::Nil) => fields = None,
                Some(V::Array(kv)) => {
                    for pair in kv.chunks(2) {
                        let [V::Bulk(k), V::Bulk(v)] = pair else {
                            return Err(format!("bad field pair {pair:?} in {reply:?}"));
                        };
                        let pair = (String::from_utf8_lossy(k).into_owned(), v.clone());
                        fields.get_or_insert_default().push(pair);
                    }
                }
                other => return Err(format!("bad fields {other:?} in {reply:?}")),
            }
        }
        hits.push((String::from_utf8_lossy(id).into_owned(), fields));
    }
    Ok((*total, hits))
}

/// Ids matching `query` (dialect 2, every match).
pub fn search_ids(c: &mut Client, index: &str, query: &str) -> Result<BTreeSet<String>, String> {
    let reply = c.cmd(&[
        "FT.SEARCH",
        index,
        query,
        "NOCONTENT",
        "LIMIT",
        "0",
        "100000",
        "DIALECT",
        "2",
    ]);
    let (total, hits) = parse_search(&reply, false).map_err(|e| format!("{query}: {e}"))?;
    let ids: BTreeSet<String> = hits.into_iter().map(|(id, _)| id).collect();
    if total != ids.len() as i64 {
        return Err(format!("{query}: total {total} but ids {ids:?}"));
    }
    Ok(ids)
}

/// `[filter]=>[KNN k @field $q AS d]`, nearest first: (id, reported distance).
pub fn knn(
    c: &mut Client,
    index: &str,
    filter: &str,
    field: &str,
    q: [f32; 2],
    k: usize,
) -> Result<Vec<(String, f64)>, String> {
    let query = format!("{filter}=>[KNN {k} @{field} $q AS d]");
    knn_blob(c, index, &query, &blob(&q), k)
}

/// FT.SEARCH `query`, a KNN query yielding its distance `AS d`, with `$q` = `q`, sorted by
/// distance: (id, reported distance) of the first `k`.
pub fn knn_blob(
    c: &mut Client,
    index: &str,
    query: &str,
    q: &[u8],
    k: usize,
) -> Result<Vec<(String, f64)>, String> {
    let reply = c.cmd(&[
        b"FT.SEARCH".as_ref(),
        index.as_bytes(),
        query.as_bytes(),
        b"PARAMS",
        b"2",
        b"q",
        q,
        b"SORTBY",
        b"d",
        b"RETURN",
        b"1",
        b"d",
        b"LIMIT",
        b"0",
        k.to_string().as_bytes(),
        b"DIALECT",
        b"2",
    ]);
    let (total, hits) = parse_search(&reply, true).map_err(|e| format!("{query}: {e}"))?;
    if total != hits.len() as i64 {
        return Err(format!("{query}: total {total} but {} hits", hits.len()));
    }
    hits.into_iter()
        .map(|(id, fields)| {
            let d = fields
                .iter()
                .flatten()
                .find(|(k, _)| k == "d")
                .and_then(|(_, v)| String::from_utf8_lossy(v).parse::<f64>().ok())
                .ok_or_else(|| format!("{query}: no distance for {id}: {fields:?}"))?;
            Ok((id, d))
        })
        .collect()
}

/// FT.INFO as name -> value (RESP2 flat pairs or RESP3 map).
pub fn ft_info(c: &mut Client, index: &str) -> Result<BTreeMap<String, V>, String> {
    let reply = c.cmd(&["FT.INFO", index]);
    if !matches!(reply, V::Array(_) | V::Map(_)) {
        return Err(format!("FT.INFO {index}: {reply:?}"));
    }
    let items = reply.items();
    Ok(items
        .chunks(2)
        .filter(|p| p.len() == 2 && matches!(p[0], V::Bulk(_) | V::Simple(_)))
        .map(|p| (p[0].text(), p[1].clone()))
        .collect())
}

/// A numeric FT.INFO field (integer, RESP2 bulk double or RESP3 double).
pub fn info_num(c: &mut Client, index: &str, field: &str) -> Result<f64, String> {
    let info = ft_info(c, index)?;
    let value = info
        .get(field)
        .ok_or_else(|| format!("FT.INFO {index} has no {field}"))?;
    match value {
        V::Int(n) => Ok(*n as f64),
        V::Bulk(_) | V::Simple(_) | V::Double(_) => value
            .text()
            .parse()
            .map_err(|_| format!("FT.INFO {field} = {value:?}")),
        other => Err(format!("FT.INFO {field} = {other:?}")),
    }
}

/// Waits until FT.INFO reports the index's background scan finished.
pub fn wait_indexed(c: &mut Client, index: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if info_num(c, index, "indexing").unwrap_or_else(|e| panic!("{e}")) == 0.0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{index} still indexing after 60 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every hash of the connection's current database, read through SCAN / TYPE / HGETALL.
pub fn snapshot(c: &mut Client) -> Hashes {
    let mut keys = BTreeSet::new();
    let mut cursor = "0".to_string();
    loop {
        let reply = c.cmd(&["SCAN", &cursor, "COUNT", "1000"]);
        let items = reply.items();
        cursor = items[0].text();
        keys.extend(items[1].items().iter().map(V::text));
        if cursor == "0" {
            break;
        }
    }
    // Pipelined in chunks: TYPE of each key, then HGETALL of the hashes.
    let keys: Vec<String> = keys.into_iter().collect();
    let mut hashes = Hashes::new();
    for chunk in keys.chunks(500) {
        chunk.iter().for_each(|k| c.send(&["TYPE", k]));
        let types: Vec<V> = chunk.iter().map(|_| c.read()).collect();
        let chunk: Vec<&String> = chunk
            .iter()
            .zip(types)
            .filter(|(_, t)| *t == V::Simple("hash".into()))
            .map(|(k, _)| k)
            .collect();
        chunk.iter().for_each(|k| c.send(&["HGETALL", k]));
        for key in chunk {
            let pairs = c.read().items();
            let fields: BTreeMap<String, Vec<u8>> = pairs
                .chunks(2)
                .map(|p| match (&p[0], &p[1]) {
                    (V::Bulk(k), V::Bulk(v)) => {
                        (String::from_utf8_lossy(k).into_owned(), v.clone())
                    }
                    other => panic!("HGETALL {key}: {other:?}"),
                })
                .collect();
            if !fields.is_empty() {
                hashes.insert(key.clone(), fields);
            }
        }
    }
    hashes
}

/// How much of the HNSW field's KNN answers [`check_index`] may assert.
#[derive(Clone, Copy, PartialEq)]
pub enum Hnsw {
    /// Small indexes: the graph search must be exact.
    Exact,
    /// Approximate: every hit must be a live document with a vector, at its true distance.
    LiveHitsOnly,
}

/// Compares what index `index` answers with the brute-force evaluation over `hashes`: `*`
/// (ids and total), FT.INFO `num_docs`, every tag, every text word, numeric ranges, and KNN (unfiltered and
/// tag-filtered, k = 5, two query points) on the FLAT field `v` (exact) and the HNSW field `h`.
pub fn check_index(
    c: &mut Client,
    index: &str,
    prefixes: &[&str],
    hashes: &Hashes,
    hnsw: Hnsw,
) -> Result<(), String> {
    let docs = expected_docs(hashes, prefixes);
    let matching = |pred: &dyn Fn(&Doc) -> bool| -> BTreeSet<String> {
        docs.iter()
            .filter(|(_, d)| pred(d))
            .map(|(k, _)| k.clone())
            .collect()
    };
    let compare = |query: &str, got: BTreeSet<String>, want: BTreeSet<String>| {
        if got == want {
            Ok(())
        } else {
            Err(format!(
                "{index} `{query}`: got {got:?}, expected {want:?} \
                 (missing {:?}, extra {:?})",
                want.difference(&got).collect::<Vec<_>>(),
                got.difference(&want).collect::<Vec<_>>()
            ))
        }
    };

    let all = search_ids(c, index, "*")?;
    compare("*", all, matching(&|_| true))?;
    let num_docs = info_num(c, index, "num_docs")?;
    if num_docs != docs.len() as f64 {
        return Err(format!(
            "{index} FT.INFO num_docs {num_docs}, expected {}",
            docs.len()
        ));
    }

    let mut tags: BTreeSet<String> = docs.values().flat_map(|d| d.tags.clone()).collect();
    tags.insert("nosuchtag".into());
    for tag in &tags {
        let query = format!("@t:{{{tag}}}");
        let got = search_ids(c, index, &query)?;
        compare(&query, got, matching(&|d| d.tags.contains(tag)))?;
    }

    let mut words: BTreeSet<String> = docs.values().flat_map(|d| d.words.clone()).collect();
    words.insert("nosuchword".into());
    for word in &words {
        for query in [format!("@s:{word}"), word.clone()] {
            let got = search_ids(c, index, &query)?;
            compare(&query, got, matching(&|d| d.words.contains(word)))?;
        }
    }

    let mut nums: Vec<f64> = docs.values().filter_map(|d| d.num).collect();
    nums.sort_by(f64::total_cmp);
    let mut ranges = vec![(
        "-inf".to_string(),
        "+inf".to_string(),
        f64::NEG_INFINITY,
        f64::INFINITY,
    )];
    if let (Some(lo), Some(hi)) = (nums.first(), nums.last()) {
        let mid = nums[nums.len() / 2];
        ranges.push((format!("{lo}"), format!("{mid}"), *lo, mid));
        ranges.push((
            format!("({mid}"),
            "+inf".into(),
            mid.next_up(),
            f64::INFINITY,
        ));
        ranges.push((format!("{hi}"), format!("{hi}"), *hi, *hi));
    }
    for (lo_s, hi_s, lo, hi) in ranges {
        let query = format!("@n:[{lo_s} {hi_s}]");
        let got = search_ids(c, index, &query)?;
        compare(
            &query,
            got,
            matching(&|d| d.num.is_some_and(|n| n >= lo && n <= hi)),
        )?;
    }

    let first_tag = tags.iter().next().cloned().unwrap_or_default();
    for field in ["v", "h"] {
        for q in [[0.0, 0.0], [3.0, -1.5]] {
            for filter in ["*".to_string(), format!("(@t:{{{first_tag}}})")] {
                let got = knn(c, index, &filter, field, q, 5)?;
                let mut want: Vec<(String, f64)> = docs
                    .iter()
                    .filter(|(_, d)| filter == "*" || d.tags.contains(&first_tag))
                    .filter_map(|(k, d)| Some((k.clone(), l2(d.vector(field)?, q))))
                    .collect();
                let what = format!("{index} `{filter}=>[KNN 5 @{field}]` at {q:?}");
                let truth: BTreeMap<&str, f64> =
                    want.iter().map(|(k, d)| (k.as_str(), *d)).collect();
                let close = |a: f64, b: f64| (a - b).abs() <= 1e-4 * (1.0 + b.abs());
                let mut seen = BTreeSet::new();
                for (id, d) in &got {
                    let Some(true_d) = truth.get(id.as_str()) else {
                        return Err(format!("{what}: {id} is not an eligible doc; got {got:?}"));
                    };
                    if !close(*d, *true_d) || !seen.insert(id.clone()) {
                        return Err(format!(
                            "{what}: {id} reported at {d}, true distance {true_d}; got {got:?}"
                        ));
                    }
                }
                if got.windows(2).any(|w| w[0].1 > w[1].1) {
                    return Err(format!("{what}: not sorted by distance: {got:?}"));
                }
                if field == "h" && hnsw == Hnsw::LiveHitsOnly {
                    continue;
                }
                want.sort_by(|a, b| a.1.total_cmp(&b.1));
                want.truncate(5);
                let same =
                    got.len() == want.len() && got.iter().zip(&want).all(|(g, w)| close(g.1, w.1));
                if !same {
                    return Err(format!("{what}: got {got:?}, expected {want:?}"));
                }
            }
        }
    }
    Ok(())
}

/// Polls `check` until it passes or `timeout` elapses; the last error otherwise.
pub fn eventually(
    timeout: Duration,
    mut check: impl FnMut() -> Result<(), String>,
) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    loop {
        match check() {
            Ok(()) => return Ok(()),
            Err(e) if Instant::now() >= deadline => return Err(e),
            Err(_) => std::thread::sleep(Duration::from_millis(25)),
        }
    }
}

/// The seeded generator the search tests draw from, so a run replays from a printed seed
/// (rand's `StdRng`, fixed by the lockfile).
pub struct Rng(StdRng);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(StdRng::seed_from_u64(seed))
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        self.0.random_range(0..n)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.0.random_bool(p)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}
