//! RediSearch 2.10's scorers (FT.SEARCH `SCORER`) and their EXPLAINSCORE texts.
//!
//! A hit's match is described as a [`Match`] tree mirroring RediSearch's index results: one
//! `Term` per dictionary term the document matched (its frequency and document frequency),
//! `Union` for a word's expansions (stems, prefix terms) and for OR, `Intersection` for AND
//! and phrases, `Virtual` for a numeric range (frequency 1). The scorers walk it:
//!
//! - TFIDF: Σ freq · idf, idf = logb(1 + N / df) (binary exponent), times the document
//!   score, over the document's max term frequency; TFIDF.DOCNORM over its length instead.
//! - BM25 (RediSearch's own): Σ idf · f / (f + k1 (1 − b + b · avgLen)), k1 1.2, b 0.5, the
//!   TFIDF idf and the *average* length (as RediSearch computes it), times the doc score.
//! - BM25STD: Σ idf' · f (k1 + 1) / (f + k1 (1 − b + b · len / avgLen)), k1 1.2, b 0.75,
//!   idf' = ln(1 + (N − df + 0.5) / (df + 0.5)), times the document score.
//! - DISMAX: a term counts its frequency, unions their maximum, intersections their sum.
//! - DOCSCORE: the document score. HAMMING: 1 / (1 + differing bits) between the query's
//!   PAYLOAD and the document's, 0 unless both exist with the same length.
//!
//! TFIDF (both norms) and BM25 are then divided by the match's "slop" ([`min_offset_delta`]):
//! how far apart the words of the root intersection's (or union's) children lie.

use crate::search::SearchError;

/// A scoring function by its RediSearch name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Scorer {
    #[default]
    Tfidf,
    TfidfDocnorm,
    Bm25,
    Bm25Std,
    Dismax,
    DocScore,
    Hamming,
}

impl Scorer {
    /// TFIDF (both norms) and BM25 divide by the match's slop ([`min_offset_delta`]).
    pub fn divides_by_slop(self) -> bool {
        matches!(self, Scorer::Tfidf | Scorer::TfidfDocnorm | Scorer::Bm25)
    }

    /// The scorer RediSearch registers as `name` (exact, case-sensitive like RediSearch).
    pub fn by_name(name: &str) -> Result<Scorer, SearchError> {
        Ok(match name {
            "TFIDF" => Scorer::Tfidf,
            "TFIDF.DOCNORM" => Scorer::TfidfDocnorm,
            "BM25" => Scorer::Bm25,
            "BM25STD" => Scorer::Bm25Std,
            "DISMAX" => Scorer::Dismax,
            "DOCSCORE" => Scorer::DocScore,
            "HAMMING" => Scorer::Hamming,
            _ => return Err(SearchError::other(format!("No such scorer {name}"))),
        })
    }
}

/// How a document matched the query, as scorers see it.
#[derive(Debug, Clone, PartialEq)]
pub enum Match {
    Term {
        freq: u32,
        doc_freq: u64,
    },
    Union(Vec<Match>),
    Intersection(Vec<Match>),
    /// A match without term statistics (numeric range): frequency 1.
    Virtual,
    /// A clause with a `$weight` attribute: its score times the weight.
    Weighted(f64, Box<Match>),
}

/// The collection figures scorers need.
#[derive(Debug, Clone, Copy)]
pub struct Collection {
    pub num_docs: u64,
    /// Total length of all documents.
    pub total_len: u64,
}

impl Collection {
    fn avg_len(&self) -> f64 {
        match self.num_docs {
            0 => 0.0,
            n => self.total_len as f64 / n as f64,
        }
    }

    /// RediSearch's TFIDF idf: logb(1 + N / df), logb being the binary exponent.
    pub fn idf(&self, doc_freq: u64) -> f64 {
        (1.0 + self.num_docs as f64 / doc_freq.max(1) as f64)
            .log2()
            .floor()
    }

    /// BM25STD's idf: ln(1 + (N − df + 0.5) / (df + 0.5)).
    pub fn bm25_idf(&self, doc_freq: u64) -> f64 {
        let (n, df) = (self.num_docs as f64, doc_freq as f64);
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }
}

/// The document a score is for.
#[derive(Debug, Clone, Copy)]
pub struct DocFigures<'a> {
    pub len: u32,
    /// The match's [`min_offset_delta`] (1 when the root is not an aggregate).
    pub slop: u32,
    pub max_freq: u32,
    pub score: f64,
    pub payload: Option<&'a [u8]>,
}

/// A score's explanation: a line, and the explanations it is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    pub text: String,
    pub children: Vec<Explanation>,
}

impl Explanation {
    fn leaf(text: String) -> Explanation {
        Explanation {
            text,
            children: Vec::new(),
        }
    }
}

/// RediSearch's slop of a match whose root has `children` (each child's sorted word
/// offsets in the document, `None` for a child without offsets: numeric, tag, virtual):
/// each two consecutive children having offsets (skipping those without) add the square of
/// their closest offsets' distance; the slop is the square root of the sum, truncated. With
/// nothing added it is the number of children less one, and 1 for fewer than two children.
pub fn min_offset_delta(children: &[Option<&[u32]>]) -> u32 {
    if children.len() <= 1 {
        return 1;
    }
    let with_offsets: Vec<&[u32]> = children.iter().flatten().copied().collect();
    let sum: u64 = with_offsets
        .windows(2)
        .map(|pair| u64::from(closest(pair[0], pair[1])).pow(2))
        .sum();
    match sum {
        0 => u32::try_from(children.len() - 1).unwrap_or(u32::MAX),
        sum => (sum as f64).sqrt() as u32,
    }
}

/// The smallest distance between an offset of `a` and one of `b` (both sorted), walking
/// both lists together.
fn closest(a: &[u32], b: &[u32]) -> u32 {
    let (mut i, mut j) = (0, 0);
    let mut best = u32::MAX;
    while i < a.len() && j < b.len() && best > 1 {
        best = best.min(a[i].abs_diff(b[j]));
        if b[j] > a[i] {
            i += 1;
        } else {
            j += 1;
        }
    }
    best
}

const BM25_K1: f64 = 1.2;
const BM25_B: f64 = 0.5;
const BM25STD_B: f64 = 0.75;

/// Scores one document under `scorer`: its match, its figures, the collection's, and the
/// query's PAYLOAD (HAMMING).
pub fn score(
    scorer: Scorer,
    m: &Match,
    doc: &DocFigures,
    collection: &Collection,
    query_payload: Option<&[u8]>,
) -> (f64, Explanation) {
    match scorer {
        Scorer::Tfidf | Scorer::TfidfDocnorm => {
            if doc.score == 0.0 {
                return (0.0, Explanation::leaf("Document score is 0".into()));
            }
            let norm = match scorer {
                Scorer::Tfidf => doc.max_freq,
                _ => doc.len,
            };
            let (raw, child) = tfidf(m, collection);
            let slop = doc.slop.max(1);
            let score = doc.score * raw / f64::from(norm.max(1)) / f64::from(slop);
            let text = format!(
                "Final TFIDF : words TFIDF {raw:.2} * document score {:.2} / norm {norm} / slop {slop}",
                doc.score
            );
            (score, parent(text, child))
        }
        Scorer::Bm25 => {
            let (raw, child) = bm25(m, collection.avg_len(), collection);
            let slop = doc.slop.max(1);
            let text = format!(
                "Final BM25 : words BM25 {raw:.2} * document score {:.2} / slop {slop}",
                doc.score
            );
            (doc.score * raw / f64::from(slop), parent(text, child))
        }
        Scorer::Bm25Std => {
            let ratio = match collection.avg_len() {
                avg if avg > 0.0 => f64::from(doc.len) / avg,
                _ => 0.0,
            };
            let (raw, child) = bm25std(m, ratio, collection);
            let text = format!(
                "Final BM25STD : words BM25STD {raw:.2} * document score {:.2}",
                doc.score
            );
            (doc.score * raw, parent(text, child))
        }
        Scorer::Dismax => dismax(m),
        Scorer::DocScore => (
            doc.score,
            Explanation::leaf(format!("Document's score is {:.2}", doc.score)),
        ),
        Scorer::Hamming => match (query_payload, doc.payload) {
            (Some(q), Some(d)) if !q.is_empty() && q.len() == d.len() => {
                let bits: u32 = q.iter().zip(d).map(|(a, b)| (a ^ b).count_ones()).sum();
                let result = 1.0 / f64::from(bits + 1);
                let text = format!(
                    "String length is {}. Bit count is {bits}. Result is (1 / count + 1) = {result:.2}",
                    q.len()
                );
                (result, Explanation::leaf(text))
            }
            _ => (
                0.0,
                Explanation::leaf("Payloads provided to scorer vary in length".into()),
            ),
        },
    }
}

/// A `$weight` clause's score: the weight times its child's.
fn weighted(weight: f64, (value, child): (f64, Explanation)) -> (f64, Explanation) {
    let res = weight * value;
    let text = format!("({res:.2} = Weight {weight:.2} * {value:.2})");
    (res, parent(text, child))
}

fn parent(text: String, child: Explanation) -> Explanation {
    Explanation {
        text,
        children: vec![child],
    }
}

/// Sums `f` over `children`, explaining each.
fn aggregate(
    children: &[Match],
    mut f: impl FnMut(&Match) -> (f64, Explanation),
) -> (f64, Vec<Explanation>) {
    let mut sum = 0.0;
    let mut explanations = Vec::with_capacity(children.len());
    for child in children {
        let (value, explanation) = f(child);
        sum += value;
        explanations.push(explanation);
    }
    (sum, explanations)
}

fn tfidf(m: &Match, c: &Collection) -> (f64, Explanation) {
    match m {
        Match::Term { freq, doc_freq } => {
            let idf = c.idf(*doc_freq);
            let res = f64::from(*freq) * idf;
            let text = format!("(TFIDF {res:.2} = Weight 1.00 * TF {freq} * IDF {idf:.2})");
            (res, Explanation::leaf(text))
        }
        Match::Union(children) | Match::Intersection(children) => {
            let (sum, children) = aggregate(children, |m| tfidf(m, c));
            let text = format!("(Weight 1.00 * total children TFIDF {sum:.2})");
            (sum, Explanation { text, children })
        }
        Match::Virtual => (
            1.0,
            Explanation::leaf("(TFIDF 1.00 = Weight 1.00 * Frequency 1)".into()),
        ),
        Match::Weighted(w, child) => weighted(*w, tfidf(child, c)),
    }
}

fn bm25(m: &Match, avg_len: f64, c: &Collection) -> (f64, Explanation) {
    let norm = |f: f64| f + BM25_K1 * (1.0 - BM25_B + BM25_B * avg_len);
    match m {
        Match::Term { freq, doc_freq } => {
            let (idf, f) = (c.idf(*doc_freq), f64::from(*freq));
            let res = idf * f / norm(f);
            let text = format!(
                "({res:.2} = IDF {idf:.2} * F {freq} / (F {freq} + k1 1.2 * (1 - b 0.5 + b 0.5 * \
                 Average Len {avg_len:.2})))"
            );
            (res, Explanation::leaf(text))
        }
        Match::Union(children) | Match::Intersection(children) => {
            let (sum, children) = aggregate(children, |m| bm25(m, avg_len, c));
            let text = format!("(Weight 1.00 * children BM25 {sum:.2})");
            (sum, Explanation { text, children })
        }
        Match::Virtual => {
            let res = 1.0 / norm(1.0);
            let text = format!(
                "({res:.2} = Weight 1.00 * F 1 / (F 1 + k1 1.2 * (1 - b 0.5 + b 0.5 * Average \
                 Len {avg_len:.2})))"
            );
            (res, Explanation::leaf(text))
        }
        Match::Weighted(w, child) => weighted(*w, bm25(child, avg_len, c)),
    }
}

/// BM25STD over a match; `ratio` is the document's length over the average.
fn bm25std(m: &Match, ratio: f64, c: &Collection) -> (f64, Explanation) {
    let tf = |f: f64| f * (BM25_K1 + 1.0) / (f + BM25_K1 * (1.0 - BM25STD_B + BM25STD_B * ratio));
    match m {
        Match::Term { freq, doc_freq } => {
            let idf = c.bm25_idf(*doc_freq);
            let res = idf * tf(f64::from(*freq));
            let text = format!(
                "({res:.2} = IDF {idf:.2} * F {freq} * (k1 1.2 + 1) / (F {freq} + k1 1.2 * (1 - \
                 b 0.75 + b 0.75 * Doc Len / Average Len {ratio:.2})))"
            );
            (res, Explanation::leaf(text))
        }
        Match::Union(children) | Match::Intersection(children) => {
            let (sum, children) = aggregate(children, |m| bm25std(m, ratio, c));
            let text = format!("(Weight 1.00 * children BM25STD {sum:.2})");
            (sum, Explanation { text, children })
        }
        Match::Virtual => {
            let res = tf(1.0);
            (
                res,
                Explanation::leaf(format!("({res:.2} = BM25STD of F 1)")),
            )
        }
        Match::Weighted(w, child) => weighted(*w, bm25std(child, ratio, c)),
    }
}

fn dismax(m: &Match) -> (f64, Explanation) {
    match m {
        Match::Term { freq, .. } => {
            let res = f64::from(*freq);
            let text = format!("DISMAX {res:.2} = Weight 1.00 * Frequency {freq}");
            (res, Explanation::leaf(text))
        }
        Match::Virtual => (
            1.0,
            Explanation::leaf("DISMAX 1.00 = Weight 1.00 * Frequency 1".into()),
        ),
        Match::Intersection(children) => {
            let (sum, children) = aggregate(children, dismax);
            let text = format!("{sum:.2} = Weight 1.00 * children DISMAX {sum:.2}");
            (sum, Explanation { text, children })
        }
        Match::Union(children) => {
            let mut best = 0.0f64;
            let children = children
                .iter()
                .map(|c| {
                    let (value, explanation) = dismax(c);
                    best = best.max(value);
                    explanation
                })
                .collect();
            let text = format!("{best:.2} = Weight 1.00 * children DISMAX {best:.2}");
            (best, Explanation { text, children })
        }
        Match::Weighted(w, child) => weighted(*w, dismax(child)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(freq: u32, doc_freq: u64) -> Match {
        Match::Term { freq, doc_freq }
    }

    const DOC: DocFigures = DocFigures {
        len: 10,
        slop: 1,
        max_freq: 4,
        score: 0.5,
        payload: None,
    };
    const COLLECTION: Collection = Collection {
        num_docs: 100,
        total_len: 800,
    };

    fn run(scorer: Scorer, m: &Match) -> f64 {
        score(scorer, m, &DOC, &COLLECTION, None).0
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1.0)
    }

    #[test]
    fn idfs() {
        // logb(1 + 100/10) = logb(11) = 3; logb(1 + 100/100) = 1.
        assert_eq!(COLLECTION.idf(10), 3.0);
        assert_eq!(COLLECTION.idf(100), 1.0);
        assert_eq!(COLLECTION.idf(0), 6.0);
        assert!(close(COLLECTION.bm25_idf(10), (1.0f64 + 90.5 / 10.5).ln()));
    }

    #[test]
    fn tfidf_and_docnorm() {
        let m = Match::Intersection(vec![term(2, 10), Match::Union(vec![term(1, 100)])]);
        // (2·3 + 1·1) · 0.5 / max_freq 4, and / len 10.
        assert_eq!(run(Scorer::Tfidf, &m), 7.0 * 0.5 / 4.0);
        assert_eq!(run(Scorer::TfidfDocnorm, &m), 7.0 * 0.5 / 10.0);
        let zero = DocFigures { score: 0.0, ..DOC };
        assert_eq!(score(Scorer::Tfidf, &m, &zero, &COLLECTION, None).0, 0.0);
    }

    #[test]
    fn min_offset_delta_as_redisearch_computes_it() {
        let a: &[u32] = &[1, 9, 13, 16, 22];
        let b: &[u32] = &[4, 7, 32];
        let c: &[u32] = &[20, 25];
        // Closest a-b: 9 - 7 = 2.
        assert_eq!(min_offset_delta(&[Some(a), Some(b)]), 2);
        // Then b-c: 32 - 25 = 7; sqrt(2² + 7²) = 7.28.
        assert_eq!(min_offset_delta(&[Some(a), Some(b), Some(c)]), 7);
        // Children without offsets are skipped between those with them...
        assert_eq!(min_offset_delta(&[Some(a), None, Some(b)]), 2);
        // ...and when no distance is found the slop is the children less one.
        assert_eq!(min_offset_delta(&[Some(a), None, None]), 2);
        assert_eq!(min_offset_delta(&[Some(&[3]), Some(&[3])]), 1);
        assert_eq!(min_offset_delta(&[Some(a)]), 1);
        assert_eq!(min_offset_delta(&[]), 1);
    }

    #[test]
    fn tfidf_and_bm25_divide_by_the_slop() {
        let m = Match::Intersection(vec![term(2, 10), term(1, 100)]);
        let far = DocFigures { slop: 4, ..DOC };
        for scorer in [Scorer::Tfidf, Scorer::TfidfDocnorm, Scorer::Bm25] {
            let near = score(scorer, &m, &DOC, &COLLECTION, None);
            let (s, explanation) = score(scorer, &m, &far, &COLLECTION, None);
            assert!((s - near.0 / 4.0).abs() < 1e-12, "{scorer:?}");
            assert!(explanation.text.ends_with("/ slop 4"), "{explanation:?}");
        }
        // BM25STD and DISMAX ignore it.
        for scorer in [Scorer::Bm25Std, Scorer::Dismax] {
            let near = score(scorer, &m, &DOC, &COLLECTION, None).0;
            assert_eq!(
                score(scorer, &m, &far, &COLLECTION, None).0,
                near,
                "{scorer:?}"
            );
        }
    }

    #[test]
    fn bm25_variants() {
        let m = Match::Union(vec![term(2, 10), term(1, 100)]);
        // RediSearch's BM25 uses the average length itself (8).
        let d = |f: f64| f + 1.2 * (1.0 - 0.5 + 0.5 * 8.0);
        let want = 0.5 * (3.0 * 2.0 / d(2.0) + 1.0 * 1.0 / d(1.0));
        assert!(close(run(Scorer::Bm25, &m), want));
        // BM25STD: len 10 over average 8.
        let tf = |f: f64| f * 2.2 / (f + 1.2 * (0.25 + 0.75 * 10.0 / 8.0));
        let idf = |df: f64| (1.0 + (100.0 - df + 0.5) / (df + 0.5)).ln();
        let want = 0.5 * (idf(10.0) * tf(2.0) + idf(100.0) * tf(1.0));
        assert!(close(run(Scorer::Bm25Std, &m), want));
    }

    #[test]
    fn dismax_docscore_hamming() {
        let m = Match::Intersection(vec![
            Match::Union(vec![term(2, 1), term(5, 1)]),
            term(3, 1),
            Match::Virtual,
        ]);
        assert_eq!(run(Scorer::Dismax, &m), 5.0 + 3.0 + 1.0);
        assert_eq!(run(Scorer::DocScore, &m), 0.5);
        let doc = DocFigures {
            payload: Some(&[0b1010, 0xff]),
            ..DOC
        };
        let hamming = |q: &[u8]| score(Scorer::Hamming, &m, &doc, &COLLECTION, Some(q)).0;
        assert_eq!(hamming(&[0b1010, 0xff]), 1.0);
        assert_eq!(hamming(&[0b0000, 0xfe]), 1.0 / 4.0);
        assert_eq!(hamming(&[1]), 0.0);
        assert_eq!(run(Scorer::Hamming, &m), 0.0);
    }

    #[test]
    fn names_and_explanations() {
        assert_eq!(Scorer::by_name("BM25STD"), Ok(Scorer::Bm25Std));
        assert_eq!(
            Scorer::by_name("bm25").map_err(|e| e.to_string()),
            Err("No such scorer bm25".to_string())
        );
        let (_, explanation) = score(Scorer::Tfidf, &term(1, 100), &DOC, &COLLECTION, None);
        assert_eq!(
            explanation,
            Explanation {
                text: "Final TFIDF : words TFIDF 1.00 * document score 0.50 / norm 4 / slop 1"
                    .into(),
                children: vec![Explanation::leaf(
                    "(TFIDF 1.00 = Weight 1.00 * TF 1 * IDF 1.00)".into()
                )],
            }
        );
    }
}
