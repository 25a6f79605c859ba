//! TEXT fields end to end on the tantivy engine: every SCORER against hand-computed values,
//! EXPLAINSCORE's nested reply in RESP2 and RESP3, stemming (LANGUAGE, NOSTEM, VERBATIM),
//! WEIGHT, suffix and infix terms, read-your-writes across connections, a concurrent writer
//! never showing a half-replaced document, and TFIDF / BM25 relevance on real definitions
//! (the gcide-minilm dataset; skipped when absent) against a straightforward model.

mod common;
mod vector_data;

use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::{Client, Server, V};

/// (key, score) of each hit of a `WITHSCORES NOCONTENT` search, RESP2.
fn scored(c: &mut Client, query: &[&str]) -> Vec<(String, f64)> {
    let mut args = vec!["FT.SEARCH"];
    args.extend_from_slice(query);
    args.extend(["WITHSCORES", "NOCONTENT", "LIMIT", "0", "100"]);
    let reply = c.cmd(&args);
    assert!(!reply.is_error(), "{query:?}: {reply:?}");
    reply.items()[1..]
        .chunks(2)
        .map(|pair| {
            let score = pair[1].text().parse::<f64>().expect("score");
            (pair[0].text(), score)
        })
        .collect()
}

fn keys(c: &mut Client, query: &[&str]) -> Vec<String> {
    let mut hits: Vec<String> = scored(c, query).into_iter().map(|(k, _)| k).collect();
    hits.sort();
    hits
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1e-300)
}

fn assert_scores(got: &[(String, f64)], want: &[(&str, f64)]) {
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for ((gk, gs), (wk, ws)) in got.iter().zip(want) {
        assert_eq!(gk, wk, "{got:?} vs {want:?}");
        assert!(close(*gs, *ws), "{gk}: {gs} vs {ws}");
    }
}

/// Index `s` over `s:*`: TEXT t (WEIGHT 2), TEXT b, NUMERIC n; words of three letters
/// (never stemmed) so the statistics are easy to count by hand.
fn scorer_fixture(c: &mut Client) {
    let create = "FT.CREATE s ON HASH PREFIX 1 s: PAYLOAD_FIELD p SCHEMA t TEXT WEIGHT 2 \
                  b TEXT n NUMERIC";
    assert_eq!(c.q(create), V::ok());
    c.q("HSET s:1 t cat b dog n 5 p ab");
    c.cmd(&["HSET", "s:2", "t", "dog", "b", "cat cat cat"]);
    c.cmd(&["HSET", "s:3", "b", "fox fox"]);
    c.q("HSET s:4 t sun n 7");
}

// Per document, RediSearch's frequencies (t occurrences count 2): s:1 cat 2, dog 1 (len 3,
// max 2); s:2 dog 2, cat 3 (len 5, max 3); s:3 fox 2 (len 2, max 2); s:4 sun 2 (len 2).
// N = 4, average length 12 / 4 = 3. cat: df 2, dog: df 2.

#[test]
fn every_scorer_matches_its_formula() {
    let server = Server::start(&[]);
    let mut c = server.client();
    scorer_fixture(&mut c);
    let idf = (1.0f64 + 4.0 / 2.0).log2().floor(); // 1
    // TFIDF: freq * idf / max freq.
    assert_scores(
        &scored(&mut c, &["s", "cat"]),
        &[("s:1", 2.0 * idf / 2.0), ("s:2", 3.0 * idf / 3.0)],
    );
    assert_scores(
        &scored(&mut c, &["s", "cat", "SCORER", "TFIDF.DOCNORM"]),
        &[("s:1", 2.0 / 3.0), ("s:2", 3.0 / 5.0)],
    );
    // BM25: idf * f / (f + 1.2 * (0.5 + 0.5 * avg 3)).
    let bm25 = |f: f64| idf * f / (f + 1.2 * (0.5 + 0.5 * 3.0));
    assert_scores(
        &scored(&mut c, &["s", "cat", "SCORER", "BM25"]),
        &[("s:2", bm25(3.0)), ("s:1", bm25(2.0))],
    );
    // BM25STD: ln(1 + (N - df + .5) / (df + .5)) * f * 2.2 / (f + 1.2 (.25 + .75 len / 3)).
    let idf_std = (1.0f64 + 2.5 / 2.5).ln();
    let std = |f: f64, len: f64| idf_std * f * 2.2 / (f + 1.2 * (0.25 + 0.75 * len / 3.0));
    // Both come to 1.389 · 0.625: a tie up to rounding, so compared by key.
    let mut got = scored(&mut c, &["s", "cat", "SCORER", "BM25STD"]);
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_scores(&got, &[("s:1", std(2.0, 3.0)), ("s:2", std(3.0, 5.0))]);
    // DISMAX: an intersection sums its terms' frequencies, a union takes the largest.
    assert_scores(
        &scored(&mut c, &["s", "cat dog", "SCORER", "DISMAX"]),
        &[("s:2", 5.0), ("s:1", 3.0)],
    );
    assert_scores(
        &scored(&mut c, &["s", "cat|dog", "SCORER", "DISMAX"]),
        &[("s:2", 3.0), ("s:1", 2.0)],
    );
    // A numeric range counts frequency 1.
    assert_scores(
        &scored(&mut c, &["s", "cat @n:[0 10]", "SCORER", "DISMAX"]),
        &[("s:1", 3.0)],
    );
    assert_scores(
        &scored(&mut c, &["s", "cat", "SCORER", "DOCSCORE"]),
        &[("s:1", 1.0), ("s:2", 1.0)],
    );
    // HAMMING: `ab` against `aa` differs in 2 bits; without a payload 0.
    assert_scores(
        &scored(&mut c, &["s", "cat", "SCORER", "HAMMING", "PAYLOAD", "aa"]),
        &[("s:1", 1.0 / 3.0), ("s:2", 0.0)],
    );
    let err = c.q("FT.SEARCH s cat SCORER bm25");
    assert_eq!(err, V::err("No such scorer bm25"));
}

#[test]
fn optional_clauses_score_and_aggregate_uses_the_scorer() {
    let server = Server::start(&[]);
    let mut c = server.client();
    scorer_fixture(&mut c);
    // `~cat` keeps every document; those having cat score by it.
    let mut got = scored(&mut c, &["s", "fox ~cat", "SCORER", "DISMAX"]);
    assert_scores(&got, &[("s:3", 2.0)]);
    got = scored(&mut c, &["s", "@n:[0 10] ~cat", "SCORER", "DISMAX"]);
    assert_scores(&got, &[("s:1", 3.0), ("s:4", 1.0)]);
    // FT.AGGREGATE's ADDSCORES follows SCORER (TFIDF when none is given).
    let scores = |c: &mut Client, scorer: &[&str]| -> Vec<String> {
        let mut args = vec!["FT.AGGREGATE", "s", "cat"];
        args.extend_from_slice(scorer);
        args.extend(["ADDSCORES", "SORTBY", "2", "@__score", "DESC"]);
        let reply = c.cmd(&args);
        reply.items()[1..]
            .iter()
            .map(|r| r.items()[1].text())
            .collect()
    };
    assert_eq!(scores(&mut c, &["SCORER", "DISMAX"]), ["3", "2"]);
    assert_eq!(scores(&mut c, &[]), ["1", "1"]);
}

#[test]
fn tfidf_and_bm25_divide_by_the_distance_between_the_words() {
    let server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(
        c.q("FT.CREATE x ON HASH PREFIX 1 x: SCHEMA t TEXT"),
        V::ok()
    );
    c.cmd(&["HSET", "x:1", "t", "cat dog"]);
    c.cmd(&["HSET", "x:2", "t", "cat owl elk dog"]);
    // cat and dog: idf logb(1 + 2/2) = 1, frequency 1, max frequency 1: 2 before the
    // slop, which is 1 for adjacent words and 3 in x:2 (offsets 0 and 3). A union of
    // both words is divided the same way.
    for query in ["cat dog", "cat|dog"] {
        assert_scores(
            &scored(&mut c, &["x", query]),
            &[("x:1", 2.0), ("x:2", 2.0 / 3.0)],
        );
    }
    let reply = c.cmd(&[
        "FT.SEARCH",
        "x",
        "dog cat",
        "WITHSCORES",
        "EXPLAINSCORE",
        "NOCONTENT",
    ]);
    assert_eq!(reply.items()[3], V::bulk("x:2"), "{reply:?}");
    let explained = &reply.items()[4].items()[1].items()[0];
    assert_eq!(
        explained.text(),
        "Final TFIDF : words TFIDF 2.00 * document score 1.00 / norm 1 / slop 3"
    );
    // BM25: idf 1 · f / (f + 1.2 (0.5 + 0.5 · avg 3)) per word, over the slop.
    let bm25 = 2.0 / (1.0 + 1.2 * (0.5 + 0.5 * 3.0));
    assert_scores(
        &scored(&mut c, &["x", "cat dog", "SCORER", "BM25"]),
        &[("x:1", bm25), ("x:2", bm25 / 3.0)],
    );
    // BM25STD and DISMAX do not.
    assert_scores(
        &scored(&mut c, &["x", "cat dog", "SCORER", "DISMAX"]),
        &[("x:1", 2.0), ("x:2", 2.0)],
    );
}

#[test]
fn score_and_score_field_weigh_documents() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let create = "FT.CREATE d ON HASH PREFIX 1 d: SCORE 0.5 SCORE_FIELD sc SCHEMA t TEXT";
    assert_eq!(c.q(create), V::ok());
    c.q("HSET d:1 t cat");
    c.q("HSET d:2 t cat sc 0.25");
    // TFIDF: idf logb(1 + 2/2) = 1, freq 1 over max 1, times the document score.
    assert_scores(
        &scored(&mut c, &["d", "cat"]),
        &[("d:1", 0.5), ("d:2", 0.25)],
    );
    assert_scores(
        &scored(&mut c, &["d", "cat", "SCORER", "DOCSCORE"]),
        &[("d:1", 0.5), ("d:2", 0.25)],
    );
}

#[test]
fn explainscore_nests_explanations_in_both_protocols() {
    let server = Server::start(&[]);
    let mut c = server.client();
    scorer_fixture(&mut c);
    let query = "FT.SEARCH s sun WITHSCORES EXPLAINSCORE NOCONTENT";
    let reply = c.q(query);
    let items = reply.items();
    assert_eq!(items[1], V::bulk("s:4"));
    let score = items[2].items();
    // idf logb(1 + 4/1) = 2, freq 2, max freq 2.
    assert_eq!(score[0].text().parse::<f64>().expect("score"), 2.0);
    let want = V::Array(vec![
        V::Simple("Final TFIDF : words TFIDF 4.00 * document score 1.00 / norm 2 / slop 1".into()),
        V::Array(vec![V::Array(vec![
            V::Simple("(Weight 1.00 * total children TFIDF 4.00)".into()),
            V::Array(vec![V::Simple(
                "(TFIDF 4.00 = Weight 1.00 * TF 2 * IDF 2.00)".into(),
            )]),
        ])]),
    ]);
    assert_eq!(score[1], want);
    c.resp3();
    let score = c.q(query).field("results").items()[0]
        .field("score")
        .items();
    assert_eq!(score[0].text().parse::<f64>().expect("score"), 2.0);
    assert_eq!(score[1], want);
}

#[test]
fn stemming_language_nostem_and_verbatim() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let create = "FT.CREATE e ON HASH PREFIX 1 e: SCHEMA t TEXT raw TEXT NOSTEM";
    assert_eq!(c.q(create), V::ok());
    c.q("HSET e:1 t running");
    c.q("HSET e:2 t runs");
    c.q("HSET e:3 raw running");
    c.q("HSET e:4 t run");
    // `run` matches every stemmed `run` form; NOSTEM fields keep only the word.
    assert_eq!(keys(&mut c, &["e", "run"]), ["e:1", "e:2", "e:4"]);
    assert_eq!(
        keys(&mut c, &["e", "running"]),
        ["e:1", "e:2", "e:3", "e:4"]
    );
    assert_eq!(keys(&mut c, &["e", "running", "VERBATIM"]), ["e:1", "e:3"]);
    assert_eq!(keys(&mut c, &["e", "@raw:run"]), Vec::<String>::new());
    // HIGHLIGHT marks the words the stems matched, unless VERBATIM.
    let highlighted = |c: &mut Client, extra: &[&str]| -> Vec<String> {
        let mut args = vec!["FT.SEARCH", "e", "@t:run", "HIGHLIGHT", "RETURN", "1", "t"];
        args.extend_from_slice(extra);
        let reply = c.cmd(&args);
        let mut values: Vec<String> = reply.items()[1..]
            .chunks(2)
            .map(|p| p[1].items()[1].text())
            .collect();
        values.sort();
        values
    };
    assert_eq!(
        highlighted(&mut c, &[]),
        ["<b>run</b>", "<b>running</b>", "<b>runs</b>"]
    );
    assert_eq!(highlighted(&mut c, &["VERBATIM"]), ["<b>run</b>"]);

    let create = "FT.CREATE g ON HASH PREFIX 1 g: LANGUAGE german SCHEMA t TEXT";
    assert_eq!(c.q(create), V::ok());
    c.q("HSET g:1 t Häuser");
    assert_eq!(keys(&mut c, &["g", "haus"]), ["g:1"]);
    // LANGUAGE_FIELD: the document's own language.
    let create = "FT.CREATE l ON HASH PREFIX 1 l: LANGUAGE_FIELD lang SCHEMA t TEXT";
    assert_eq!(c.q(create), V::ok());
    c.q("HSET l:1 t Häuser lang german");
    c.q("HSET l:2 t Häuser");
    assert_eq!(keys(&mut c, &["l", "haus", "LANGUAGE", "german"]), ["l:1"]);
    let bad = c.q("FT.CREATE x ON HASH LANGUAGE klingon SCHEMA t TEXT");
    assert_eq!(bad, V::err("Invalid language"));
    let bad = c.q("FT.SEARCH e run LANGUAGE klingon");
    assert_eq!(bad, V::err("No such language"));
}

#[test]
fn weights_suffixes_and_infixes() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let create = "FT.CREATE w ON HASH PREFIX 1 w: SCHEMA a TEXT WEIGHT 3 b TEXT";
    assert_eq!(c.q(create), V::ok());
    c.q("HSET w:1 a hello b other");
    c.q("HSET w:2 b hello a other");
    // idf logb(1 + 2/2) = 1; w:1 hello 3 of max 3, w:2 hello 1 of max 3 (`other` in a).
    assert_scores(
        &scored(&mut c, &["w", "hello", "VERBATIM"]),
        &[("w:1", 1.0), ("w:2", 1.0 / 3.0)],
    );
    assert_eq!(keys(&mut c, &["w", "*llo"]), ["w:1", "w:2"]);
    assert_eq!(keys(&mut c, &["w", "*the*"]), ["w:1", "w:2"]);
    assert_eq!(keys(&mut c, &["w", "@a:*ell*"]), ["w:1"]);
    assert_eq!(keys(&mut c, &["w", "*zz*"]), Vec::<String>::new());
}

#[test]
fn slop_and_inorder_bound_the_distance_between_words() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let create = "FT.CREATE p ON HASH PREFIX 1 p: SCHEMA t TEXT u TEXT";
    assert_eq!(c.q(create), V::ok());
    c.cmd(&["HSET", "p:1", "t", "quick brown fox"]);
    c.cmd(&["HSET", "p:2", "t", "fox jumps over quick dogs"]);
    c.cmd(&["HSET", "p:3", "t", "quick", "u", "fox"]);
    let q = |c: &mut Client, extra: &[&str]| {
        let mut args = vec!["p", "quick fox", "VERBATIM"];
        args.extend_from_slice(extra);
        keys(c, &args)
    };
    assert_eq!(q(&mut c, &[]), ["p:1", "p:2", "p:3"]);
    // p:1 has one word between them, p:2 two; p:3 has them adjacent across its fields
    // (RediSearch numbers a document's words on across its TEXT fields).
    assert_eq!(q(&mut c, &["SLOP", "0"]), ["p:3"]);
    assert_eq!(q(&mut c, &["SLOP", "1"]), ["p:1", "p:3"]);
    assert_eq!(q(&mut c, &["SLOP", "2"]), ["p:1", "p:2", "p:3"]);
    assert_eq!(q(&mut c, &["INORDER"]), ["p:1", "p:3"]);
    assert_eq!(q(&mut c, &["SLOP", "5", "INORDER"]), ["p:1", "p:3"]);
    // An exact phrase may run from one field into the next, as in RediSearch.
    assert_eq!(keys(&mut c, &["p", "\"quick fox\""]), ["p:3"]);
    assert_eq!(q(&mut c, &["SLOP", "-1"]), ["p:1", "p:2", "p:3"]);
    let bad = c.cmd(&["FT.SEARCH", "p", "quick", "SLOP", "x"]);
    assert!(bad.is_error());
}

#[test]
fn fuzzy_terms_match_within_their_edit_distance() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let create = "FT.CREATE f ON HASH PREFIX 1 f: SCHEMA t TEXT";
    assert_eq!(c.q(create), V::ok());
    c.q("HSET f:1 t hello");
    c.q("HSET f:2 t hallo");
    c.q("HSET f:3 t hxllx");
    c.q("HSET f:4 t world");
    assert_eq!(keys(&mut c, &["f", "%hello%"]), ["f:1", "f:2"]);
    assert_eq!(keys(&mut c, &["f", "%%HELLO%%"]), ["f:1", "f:2", "f:3"]);
    assert_eq!(keys(&mut c, &["f", "%%%wxrxd%%%"]), ["f:4"]);
    assert_eq!(
        keys(&mut c, &["f", "%%%wxrxd%%% | %hallo%"]),
        ["f:1", "f:2", "f:4"]
    );
    let explain = c.cmd(&["FT.EXPLAIN", "f", "%%hello%%"]);
    assert_eq!(explain, V::bulk("FUZZY{hello}\n"));
    let reply = c.cmd(&["FT.SEARCH", "f", "%hello%", "HIGHLIGHT", "RETURN", "1", "t"]);
    let fields: Vec<String> = reply.items()[1..]
        .chunks(2)
        .map(|p| p[1].items()[1].text())
        .collect();
    assert_eq!(fields, ["<b>hello</b>", "<b>hallo</b>"]);
}

#[test]
fn a_write_is_seen_by_the_next_search_on_another_connection() {
    let server = Server::start(&[]);
    let mut writer = server.client();
    let mut reader = server.client();
    let create = "FT.CREATE r ON HASH PREFIX 1 r: SCHEMA t TEXT";
    assert_eq!(writer.q(create), V::ok());
    for i in 0..200 {
        writer.q(&format!("HSET r:{} t word{i}", i % 7));
        let hits = keys(&mut reader, &["r", &format!("word{i}")]);
        assert_eq!(hits, [format!("r:{}", i % 7)], "write {i}");
        if i % 10 == 0 {
            writer.q(&format!("DEL r:{}", i % 7));
            assert!(keys(&mut reader, &["r", &format!("word{i}")]).is_empty());
        }
    }
}

#[test]
fn a_searcher_never_sees_a_half_replaced_document() {
    let server = Server::start(&[]);
    let mut c = server.client();
    let create = "FT.CREATE h ON HASH PREFIX 1 h: SCHEMA t TEXT";
    assert_eq!(c.q(create), V::ok());
    for k in 0..20 {
        c.cmd(&["HSET", &format!("h:{k}"), "t", "always gen0"]);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let mut w = server.client();
    let writer_stop = stop.clone();
    let writer = std::thread::spawn(move || {
        let mut generation = 1;
        while !writer_stop.load(Ordering::Relaxed) {
            for k in 0..20 {
                let text = format!("always gen{generation}");
                w.cmd(&["HSET", &format!("h:{k}"), "t", &text]);
            }
            generation += 1;
        }
    });
    for _ in 0..300 {
        let reply = c.q("FT.SEARCH h always NOCONTENT LIMIT 0 0");
        assert_eq!(reply.items()[0], V::Int(20), "{reply:?}");
    }
    stop.store(true, Ordering::Relaxed);
    writer.join().expect("writer");
}

/// The words RediSearch's tokenizer makes of `text`, stopwords dropped (the model's own
/// splitting, written from the rules: separators, lower-casing, backslash escapes).
fn model_words(text: &str) -> Vec<String> {
    const STOPWORDS: &[&str] = &[
        "a", "is", "the", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in",
        "into", "it", "no", "not", "of", "on", "or", "such", "that", "their", "then", "there",
        "these", "they", "this", "to", "was", "will", "with",
    ];
    let separators = ",./(){}[]:;~!@#$%^&*-=+|'`\"<>?";
    let mut words = Vec::new();
    let mut word = String::new();
    let mut chars = text.chars();
    let mut push = |word: &mut String| {
        let w = word.to_lowercase();
        if !w.is_empty() && !STOPWORDS.contains(&w.as_str()) {
            words.push(w);
        }
        word.clear();
    };
    while let Some(ch) = chars.next() {
        if ch == '\\' {
            word.extend(chars.next());
        } else if ch.is_whitespace() || separators.contains(ch) {
            push(&mut word);
        } else {
            word.push(ch);
        }
    }
    push(&mut word);
    words
}

/// Term frequencies, word offsets, length and max frequency of each model document.
struct ModelDoc {
    freqs: HashMap<String, u32>,
    offsets: HashMap<String, Vec<u32>>,
    len: u32,
    max_freq: u32,
}

impl ModelDoc {
    /// RediSearch's slop of an intersection of `words`: the square root (truncated) of the
    /// sum of the squared closest distances between consecutive words' offsets.
    fn slop(&self, words: &[String]) -> f64 {
        if words.len() < 2 {
            return 1.0;
        }
        let sum: u64 = words
            .windows(2)
            .map(|pair| {
                let (a, b) = (&self.offsets[&pair[0]], &self.offsets[&pair[1]]);
                let closest = a
                    .iter()
                    .flat_map(|x| b.iter().map(move |y| x.abs_diff(*y)))
                    .min()
                    .unwrap_or(0);
                u64::from(closest).pow(2)
            })
            .sum();
        match sum {
            0 => (words.len() - 1) as f64,
            sum => (sum as f64).sqrt().floor(),
        }
    }
}

#[test]
fn tfidf_and_bm25_rank_definitions_like_the_formulas() {
    let path = vector_data::dir().join("meta.jsonl");
    let Ok(file) = std::fs::File::open(&path) else {
        eprintln!("skipped: no dataset at {}", path.display());
        return;
    };
    let server = Server::start(&[]);
    let mut c = server.client();
    // NOSTEM and VERBATIM: no stem terms, so the model needs no stemmer.
    let create = "FT.CREATE def ON HASH PREFIX 1 def: SCHEMA text TEXT NOSTEM";
    assert_eq!(c.q(create), V::ok());
    let mut docs: BTreeMap<String, ModelDoc> = BTreeMap::new();
    for (row, line) in std::io::BufReader::new(file)
        .lines()
        .take(2_000)
        .enumerate()
    {
        let line = line.expect("line");
        let meta: serde_json::Value = serde_json::from_str(&line).expect("json");
        let text = meta["text"].as_str().unwrap_or_default().to_string();
        let key = format!("def:{row}");
        let reply = c.cmd(&["HSET", &key, "text", &text]);
        assert!(!reply.is_error(), "{reply:?}");
        let mut freqs: HashMap<String, u32> = HashMap::new();
        let mut offsets: HashMap<String, Vec<u32>> = HashMap::new();
        for (at, w) in model_words(&text).into_iter().enumerate() {
            offsets.entry(w.clone()).or_default().push(at as u32);
            *freqs.entry(w).or_default() += 1;
        }
        let len = freqs.values().sum();
        let max_freq = freqs.values().copied().max().unwrap_or(0);
        docs.insert(
            key,
            ModelDoc {
                freqs,
                offsets,
                len,
                max_freq,
            },
        );
    }
    let n = docs.len() as f64;
    let avg = docs.values().map(|d| f64::from(d.len)).sum::<f64>() / n;
    let df = |w: &str| docs.values().filter(|d| d.freqs.contains_key(w)).count() as f64;
    let idf = |w: &str| (1.0 + n / df(w).max(1.0)).log2().floor();
    let queries = [
        "water",
        "plant",
        "person",
        "small",
        "act",
        "color",
        "state",
        "used",
        "any",
        "form",
        "animal",
        "having",
        "body",
        "water plant",
        "small animal",
        "light",
        "kind",
        "made",
        "one",
        "genus",
    ];
    for scorer in ["TFIDF", "BM25"] {
        for query in queries {
            let words = model_words(query);
            let model = |d: &ModelDoc| -> Option<f64> {
                let mut sum = 0.0;
                for w in &words {
                    let f = f64::from(*d.freqs.get(w)?);
                    sum += match scorer {
                        "TFIDF" => f * idf(w),
                        _ => idf(w) * f / (f + 1.2 * (0.5 + 0.5 * avg)),
                    };
                }
                Some(
                    match scorer {
                        "TFIDF" => sum / f64::from(d.max_freq),
                        _ => sum,
                    } / d.slop(&words),
                )
            };
            let mut want: Vec<f64> = docs.values().filter_map(model).collect();
            want.sort_by(|a, b| b.total_cmp(a));
            let args = [
                "def",
                query,
                "VERBATIM",
                "SCORER",
                scorer,
                "WITHSCORES",
                "NOCONTENT",
            ];
            let reply = c.cmd(&[&["FT.SEARCH"][..], &args[..]].concat());
            let items = reply.items();
            assert_eq!(items[0], V::Int(want.len() as i64), "{scorer} {query}");
            let got: Vec<(String, f64)> = items[1..]
                .chunks(2)
                .map(|p| (p[0].text(), p[1].text().parse().expect("score")))
                .collect();
            assert_eq!(got.len(), want.len().min(10), "{scorer} {query}");
            for ((key, score), expected) in got.iter().zip(&want) {
                assert!(
                    close(*score, *expected),
                    "{scorer} {query}: {score} vs {expected}"
                );
                let own = model(&docs[key]).expect("a hit the model matches");
                assert!(
                    close(*score, own),
                    "{scorer} {query} {key}: {score} vs {own}"
                );
            }
        }
    }
}
