//! The documents the text benchmark loads (the gcide dictionary passages, or a seeded synthetic
//! corpus with a Zipf-like vocabulary) and the query strings drawn from them. Knows nothing
//! about the server.

use std::collections::HashMap;

use crate::dataset::Dataset;

/// One hash: `text` (TEXT), `tag` (TAG), `num` (NUMERIC), and for gcide the 384-d `embedding`.
pub struct Doc {
    pub text: String,
    pub tag: String,
    pub num: i64,
}

pub struct Corpus {
    pub name: &'static str,
    pub docs: Vec<Doc>,
    /// The gcide embeddings (row r belongs to doc r); `None` for the synthetic corpus.
    pub vectors: Option<Dataset>,
}

/// splitmix64: a seeded generator small and fast enough for millions of draws, and the same
/// sequence on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl Corpus {
    /// The gcide passages: tag = part of speech, num = passage length in characters.
    pub fn gcide(data: Dataset) -> Corpus {
        let docs = data
            .meta
            .iter()
            .map(|m| Doc {
                text: m.text.clone(),
                tag: m.pos.clone(),
                num: m.chars,
            })
            .collect();
        Corpus {
            name: "gcide",
            docs,
            vectors: Some(data),
        }
    }

    /// `rows` documents of 10 to 60 words drawn from a `vocab`-word vocabulary with Zipf
    /// (s = 1) frequencies, one of 16 tags, and a number in 0..10000.
    pub fn synthetic(rows: usize, vocab: usize, seed: u64) -> Corpus {
        const SYLLABLES: [&str; 24] = [
            "ka", "lo", "mi", "ne", "ru", "ta", "vo", "si", "da", "pe", "gu", "ro", "ba", "fi",
            "ze", "mo", "ti", "la", "nu", "ko", "re", "sa", "di", "po",
        ];
        // Word w spells w in base 24 with one syllable per digit, so every word is distinct;
        // the closing "x" keeps the stemmer from folding two words into one stem.
        let words: Vec<String> = (0..vocab)
            .map(|mut w| {
                let mut word = String::new();
                loop {
                    word.push_str(SYLLABLES[w % SYLLABLES.len()]);
                    w /= SYLLABLES.len();
                    if w == 0 {
                        break;
                    }
                }
                word.push('x');
                word
            })
            .collect();
        // Cumulative Zipf weights, sampled by binary search.
        let mut cdf = Vec::with_capacity(vocab);
        let mut total = 0.0;
        for rank in 1..=vocab {
            total += 1.0 / rank as f64;
            cdf.push(total);
        }
        let mut rng = Rng::new(seed);
        let docs = (0..rows)
            .map(|_| {
                let len = 10 + rng.below(51);
                let mut text = String::with_capacity(len * 8);
                for i in 0..len {
                    let u = rng.unit() * total;
                    let w = cdf.partition_point(|&c| c < u).min(vocab - 1);
                    if i > 0 {
                        text.push(' ');
                    }
                    text.push_str(&words[w]);
                }
                Doc {
                    text,
                    tag: format!("t{}", rng.below(16)),
                    num: rng.below(10_000) as i64,
                }
            })
            .collect();
        Corpus {
            name: "synthetic",
            docs,
            vectors: None,
        }
    }
}

/// What a query set exercises.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    Term,
    And,
    Phrase,
    Prefix,
    Fuzzy,
    TagRange,
    TextTag,
    Hybrid,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Term,
        Kind::And,
        Kind::Phrase,
        Kind::Prefix,
        Kind::Fuzzy,
        Kind::TagRange,
        Kind::TextTag,
        Kind::Hybrid,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Term => "term",
            Kind::And => "and",
            Kind::Phrase => "phrase",
            Kind::Prefix => "prefix",
            Kind::Fuzzy => "fuzzy",
            Kind::TagRange => "tag_range",
            Kind::TextTag => "text_tag",
            Kind::Hybrid => "hybrid_knn",
        }
    }
}

/// One query of a set: the dialect-2 query string and, for hybrid queries, the doc whose
/// embedding is the KNN vector.
pub struct Query {
    pub text: String,
    pub vector_of: Option<usize>,
}

/// RediSearch's default stop words of four letters or more (shorter words are never picked).
const STOPWORDS: [&str; 11] = [
    "into", "that", "their", "then", "there", "these", "they", "this", "will", "with", "such",
];

fn tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// Draws the query sets from the corpus: `per_kind` queries of each kind, each built from one
/// randomly chosen document so that it matches at least that document (up to the server's
/// tokenizer). Terms are "mid-frequency": in 0.05% to 5% of the documents, neither so rare that
/// the query is a point lookup nor so common that it returns most of the index.
pub struct QueryMaker<'a> {
    corpus: &'a Corpus,
    df: HashMap<String, u32>,
    rng: Rng,
}

impl<'a> QueryMaker<'a> {
    pub fn new(corpus: &'a Corpus, seed: u64) -> QueryMaker<'a> {
        let mut df: HashMap<String, u32> = HashMap::new();
        for doc in &corpus.docs {
            let mut seen: Vec<String> = tokens(&doc.text).collect();
            seen.sort_unstable();
            seen.dedup();
            for w in seen {
                *df.entry(w).or_default() += 1;
            }
        }
        QueryMaker {
            corpus,
            df,
            rng: Rng::new(seed),
        }
    }

    fn mid(&self, word: &str, min_len: usize) -> bool {
        let n = self.corpus.docs.len() as f64;
        let df = self.df.get(word).copied().unwrap_or(0) as f64;
        word.len() >= min_len
            && word.chars().all(char::is_alphabetic)
            && !STOPWORDS.contains(&word)
            && df >= (n * 0.0005).max(2.0)
            && df <= n * 0.05
    }

    /// The query of `kind` built from document `d`, or `None` when the document has no
    /// suitable words.
    fn query_of(&self, kind: Kind, d: usize) -> Option<Query> {
        let doc = &self.corpus.docs[d];
        let words: Vec<String> = tokens(&doc.text).collect();
        let mids: Vec<&String> = words.iter().filter(|w| self.mid(w, 4)).collect();
        let tag = &doc.tag;
        let text = match kind {
            Kind::Term => mids.first()?.to_string(),
            Kind::And => {
                let (a, b) = (mids.first()?, mids.iter().rfind(|w| **w != mids[0])?);
                format!("{a} {b}")
            }
            Kind::Phrase => {
                let pair = words.windows(2).find(|p| {
                    p.iter()
                        .all(|w| w.len() >= 4 && !STOPWORDS.contains(&w.as_str()))
                        && (self.mid(&p[0], 4) || self.mid(&p[1], 4))
                })?;
                format!("\"{} {}\"", pair[0], pair[1])
            }
            Kind::Prefix => format!("{}*", &mids.iter().find(|w| w.len() >= 5)?[..3]),
            Kind::Fuzzy => format!("%{}%", mids.iter().find(|w| w.len() >= 5)?),
            Kind::TagRange => {
                let (lo, hi) = (doc.num - doc.num / 10, doc.num + doc.num / 10);
                format!("@tag:{{{tag}}} @num:[{lo} {hi}]")
            }
            Kind::TextTag => format!("{} @tag:{{{tag}}}", mids.first()?),
            Kind::Hybrid => {
                self.corpus.vectors.as_ref()?;
                format!("({})=>[KNN 10 @embedding $vec]", mids.first()?)
            }
        };
        Some(Query {
            text,
            vector_of: (kind == Kind::Hybrid).then_some(d),
        })
    }

    /// Up to `n` queries of `kind` (fewer if the corpus offers fewer within 20 n draws).
    pub fn make(&mut self, kind: Kind, n: usize) -> Vec<Query> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n * 20 {
            if out.len() == n {
                break;
            }
            let d = self.rng.below(self.corpus.docs.len());
            out.extend(self.query_of(kind, d));
        }
        out
    }
}
