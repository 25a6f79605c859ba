//! TEXT fields: a simple tokenizer and an inverted index of terms with their positions, for
//! word, prefix and exact-phrase queries scored by TF-IDF.
//!
//! One index holds every TEXT field of an FT index; each occurrence records its field (the
//! field's position in the schema) so queries can be restricted to some fields. The
//! full-text work (stemming, tantivy) replaces this later; until then terms are matched
//! exactly as tokenised.

use std::collections::{BTreeMap, HashMap};

use roaring::RoaringBitmap;

use crate::search::DocId;

/// How many terms one prefix query expands to at most (RediSearch's MAXPREFIXEXPANSIONS).
const MAX_PREFIX_EXPANSIONS: usize = 200;

/// Whether RediSearch's default tokenizer splits words at byte `c`.
pub fn is_separator(c: char) -> bool {
    c.is_whitespace() || ",./(){}[]:;~!@#$%^&*-=+|'`\"<>?".contains(c)
}

/// Splits `text` into lower-cased terms, in order, dropping the stopwords. A backslash
/// makes the next character part of the word even if it is a separator.
pub fn tokenize(text: &str, is_stopword: &dyn Fn(&str) -> bool) -> Vec<String> {
    let mut terms = Vec::new();
    let mut word = String::new();
    let mut flush = |word: &mut String| {
        if !word.is_empty() {
            let term = word.to_lowercase();
            word.clear();
            if !is_stopword(&term) {
                terms.push(term);
            }
        }
    };
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(escaped) = chars.next() {
                word.push(escaped);
            }
        } else if is_separator(c) {
            flush(&mut word);
        } else {
            word.push(c);
        }
    }
    flush(&mut word);
    terms
}

/// Where a term occurs in one document: (field position in the schema, 1-based word
/// position within that field).
type Occurrence = (u16, u32);

#[derive(Default)]
struct Postings {
    docs: RoaringBitmap,
    hits: HashMap<u32, Vec<Occurrence>>,
}

impl Postings {
    /// Whether document `id` has an occurrence in one of `fields` (`None`: any field).
    fn in_fields(&self, id: u32, fields: Option<&[u16]>) -> bool {
        match fields {
            None => true,
            Some(fields) => self
                .hits
                .get(&id)
                .is_some_and(|occ| occ.iter().any(|(f, _)| fields.contains(f))),
        }
    }

    fn docs_in(&self, fields: Option<&[u16]>) -> RoaringBitmap {
        match fields {
            None => self.docs.clone(),
            Some(_) => self
                .docs
                .iter()
                .filter(|&id| self.in_fields(id, fields))
                .collect(),
        }
    }
}

/// Per document: its distinct terms (to remove it) and the frequency of its most frequent
/// term (TF normalisation).
struct DocTerms {
    terms: Vec<String>,
    max_freq: u32,
}

/// The text postings of every TEXT field of one FT index.
#[derive(Default)]
pub struct TextIndex {
    terms: BTreeMap<String, Postings>,
    docs: HashMap<u32, DocTerms>,
    records: u64,
    /// Approximate bytes of the postings, kept as documents come and go so that FT.INFO's
    /// memory figure costs nothing.
    bytes: usize,
}

/// Estimated bytes of a term's entry, of one (term, document) posting, and of one position.
const TERM_BYTES: usize = 64;
const POSTING_BYTES: usize = 28;
const POSITION_BYTES: usize = 8;

impl TextIndex {
    /// Indexes document `id` whose TEXT fields tokenised to `fields`: (field position,
    /// terms in order).
    pub fn insert(&mut self, id: DocId, fields: &[(u16, Vec<String>)]) {
        let mut freq: HashMap<&str, u32> = HashMap::new();
        for (field, terms) in fields {
            for (pos, term) in terms.iter().enumerate() {
                *freq.entry(term).or_default() += 1;
                let postings = self.terms.entry(term.clone()).or_insert_with(|| {
                    self.bytes += term.len() + TERM_BYTES;
                    Postings::default()
                });
                if postings.docs.insert(id.0) {
                    self.records += 1;
                    self.bytes += POSTING_BYTES;
                }
                self.bytes += POSITION_BYTES;
                postings
                    .hits
                    .entry(id.0)
                    .or_default()
                    .push((*field, pos as u32 + 1));
            }
        }
        if freq.is_empty() {
            return;
        }
        let max_freq = freq.values().copied().max().unwrap_or(1);
        let terms = freq.into_keys().map(str::to_string).collect();
        self.docs.insert(id.0, DocTerms { terms, max_freq });
    }

    pub fn remove(&mut self, id: DocId) {
        let Some(doc) = self.docs.remove(&id.0) else {
            return;
        };
        for term in doc.terms {
            if let Some(postings) = self.terms.get_mut(&term) {
                if let Some(positions) = postings.hits.remove(&id.0) {
                    self.bytes -= positions.len() * POSITION_BYTES;
                }
                if postings.docs.remove(id.0) {
                    self.records -= 1;
                    self.bytes -= POSTING_BYTES;
                }
                if postings.docs.is_empty() {
                    self.terms.remove(&term);
                    self.bytes -= term.len() + TERM_BYTES;
                }
            }
        }
    }

    pub fn clear(&mut self) {
        self.terms.clear();
        self.docs.clear();
        self.records = 0;
        self.bytes = 0;
    }

    /// Documents containing `term` in one of `fields` (`None`: any TEXT field).
    pub fn word(&self, term: &str, fields: Option<&[u16]>) -> RoaringBitmap {
        self.terms
            .get(term)
            .map(|p| p.docs_in(fields))
            .unwrap_or_default()
    }

    /// The indexed terms starting with `prefix` (at most RediSearch's expansion limit).
    pub fn expand_prefix(&self, prefix: &str) -> Vec<&str> {
        self.terms
            .range::<str, _>((
                std::ops::Bound::Included(prefix),
                std::ops::Bound::Unbounded,
            ))
            .map(|(t, _)| t.as_str())
            .take_while(|t| t.starts_with(prefix))
            .take(MAX_PREFIX_EXPANSIONS)
            .collect()
    }

    /// Every indexed term with the number of documents containing it in any field
    /// (FT.SPELLCHECK's candidates and their scores).
    pub fn terms_with_doc_freq(&self) -> impl Iterator<Item = (&str, u64)> {
        self.terms.iter().map(|(t, p)| (t.as_str(), p.docs.len()))
    }

    /// The indexed terms `matches` accepts (suffix and infix queries walk the dictionary),
    /// at most RediSearch's expansion limit.
    pub fn expand_where(&self, matches: impl Fn(&str) -> bool) -> Vec<&str> {
        self.terms
            .keys()
            .map(String::as_str)
            .filter(|t| matches(t))
            .take(MAX_PREFIX_EXPANSIONS)
            .collect()
    }

    /// Documents containing `words` adjacent and in order, within one of `fields`.
    pub fn phrase(&self, words: &[String], fields: Option<&[u16]>) -> RoaringBitmap {
        let Some(postings) = words
            .iter()
            .map(|w| self.terms.get(w))
            .collect::<Option<Vec<_>>>()
        else {
            return RoaringBitmap::new();
        };
        let Some(first) = postings.first() else {
            return RoaringBitmap::new();
        };
        let candidates = postings
            .iter()
            .skip(1)
            .fold(first.docs.clone(), |acc, p| acc & &p.docs);
        candidates
            .iter()
            .filter(|id| {
                let occurrences =
                    |i: usize| postings[i].hits.get(id).map_or(&[][..], Vec::as_slice);
                occurrences(0).iter().any(|&(field, pos)| {
                    fields.is_none_or(|f| f.contains(&field))
                        && (1..postings.len())
                            .all(|i| occurrences(i).contains(&(field, pos + i as u32)))
                })
            })
            .collect()
    }

    /// TF-IDF of `term` in document `id` (0 when absent) as RediSearch's TFIDF scorer
    /// computes it before normalisation: occurrences in `fields` (`None`: any) weighted by
    /// `weights[field]`, times idf = logb(1 + docs / docs with the term) over `total_docs`
    /// documents (logb: the binary exponent, as RediSearch uses).
    pub fn tfidf(
        &self,
        term: &str,
        id: DocId,
        fields: Option<&[u16]>,
        weights: &[f64],
        total_docs: u64,
    ) -> f64 {
        let Some(postings) = self.terms.get(term) else {
            return 0.0;
        };
        let Some(occurrences) = postings.hits.get(&id.0) else {
            return 0.0;
        };
        let tf: f64 = occurrences
            .iter()
            .filter(|(f, _)| fields.is_none_or(|fs| fs.contains(f)))
            .map(|&(f, _)| weights.get(usize::from(f)).copied().unwrap_or(1.0))
            .sum();
        let idf = (1.0 + total_docs as f64 / postings.docs.len().max(1) as f64)
            .log2()
            .floor();
        tf * idf
    }

    /// How often document `id`'s most frequent term occurs (at least 1): RediSearch divides
    /// a document's TF-IDF by it.
    pub fn max_freq(&self, id: DocId) -> u32 {
        self.docs.get(&id.0).map_or(1, |d| d.max_freq.max(1))
    }

    /// Distinct terms (FT.INFO `num_terms`).
    pub fn num_terms(&self) -> u64 {
        self.terms.len() as u64
    }

    /// (term, document) entries (FT.INFO `num_records`).
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Approximate bytes used by the postings.
    pub fn memory_bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::schema::DEFAULT_STOPWORDS;

    fn tok(text: &str) -> Vec<String> {
        tokenize(text, &|w| DEFAULT_STOPWORDS.contains(&w))
    }

    fn ids(bits: RoaringBitmap) -> Vec<u32> {
        bits.iter().collect()
    }

    #[test]
    fn tokenizer_splits_folds_and_drops_stopwords() {
        assert_eq!(
            tok("Hello, World! The quick-brown fox"),
            ["hello", "world", "quick", "brown", "fox"]
        );
        assert_eq!(
            tok("snake_case stays; a\\-b is one"),
            ["snake_case", "stays", "a-b", "one"]
        );
        assert_eq!(tok("-20 dollars"), ["20", "dollars"]);
        assert!(tok("  ,.;  the and ").is_empty());
        assert_eq!(tok("ÉCOLE"), ["école"]);
    }

    #[test]
    fn words_prefixes_and_phrases() {
        let mut t = TextIndex::default();
        t.insert(
            DocId(1),
            &[(0, tok("hello world")), (1, tok("goodbye moon"))],
        );
        t.insert(DocId(2), &[(0, tok("world hello")), (1, tok("help"))]);
        assert_eq!(ids(t.word("hello", None)), vec![1, 2]);
        assert_eq!(ids(t.word("help", Some(&[0]))), Vec::<u32>::new());
        assert_eq!(ids(t.word("help", Some(&[1]))), vec![2]);
        assert_eq!(t.expand_prefix("hel"), ["hello", "help"]);
        assert_eq!(t.expand_where(|w| w.ends_with("oon")), ["moon"]);
        let phrase = |words: &str, f: Option<&[u16]>| ids(t.phrase(&tok(words), f));
        assert_eq!(phrase("hello world", None), vec![1]);
        assert_eq!(phrase("world hello", None), vec![2]);
        // The phrase must lie within one field.
        assert!(phrase("world goodbye", None).is_empty());
        assert!(phrase("hello world", Some(&[1])).is_empty());
        t.remove(DocId(1));
        assert_eq!(ids(t.word("hello", None)), vec![2]);
        assert!(t.word("goodbye", None).is_empty());
        assert_eq!(t.num_terms(), 3);
        assert_eq!(t.records(), 3);
    }

    #[test]
    fn tfidf_weighs_frequency_and_rarity() {
        let mut t = TextIndex::default();
        t.insert(DocId(1), &[(0, tok("apple apple banana"))]);
        t.insert(DocId(2), &[(0, tok("apple banana banana cherry"))]);
        t.insert(DocId(3), &[(0, tok("banana"))]);
        let w = [1.0];
        let s = |term: &str, id: u32| t.tfidf(term, DocId(id), None, &w, 3);
        // idf: logb(1 + 3/2) = 1, logb(1 + 3/1) = 2, logb(1 + 3/3) = 1.
        assert_eq!(s("apple", 1), 2.0);
        assert_eq!(s("cherry", 2), 2.0);
        assert_eq!(s("banana", 2), 2.0);
        assert_eq!(s("cherry", 1), 0.0);
        assert_eq!(t.tfidf("apple", DocId(1), None, &[2.5], 3), 5.0);
        assert_eq!((t.max_freq(DocId(1)), t.max_freq(DocId(2))), (2, 2));
        assert_eq!(t.max_freq(DocId(9)), 1);
    }
}
