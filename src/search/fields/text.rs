//! TEXT fields: RediSearch's tokenizer and stemming, and the full-text postings of every TEXT
//! field of one FT index, held in a tantivy index.
//!
//! Documents are analysed here, before the FT index's lock is taken: split into lower-cased
//! words (stopwords dropped), and each word of 4 letters or more whose stem differs gets its
//! stem indexed too, at the same position, as `+stem` (RediSearch's stem terms); in a
//! PHONETIC field each word of 3 bytes or more also gets its Double Metaphone primary code,
//! at the same position, as `<CODE` (RediSearch's phonetic terms). Word positions run on
//! across a document's TEXT fields in schema order, as RediSearch's tokenizer numbers them,
//! so SLOP, INORDER, exact phrases and the slop scorers measure across fields. Each
//! schema TEXT field is one tantivy field; a u64 field holds our [`DocId`], by which a
//! replaced or deleted document is removed (`delete_term`).
//!
//! tantivy only sees segments once committed. Writes never commit: they mark the index
//! dirty, and [`TextIndex::view`] (every search, FT.INFO) commits and reloads first when it
//! is — one commit covers every write since the last — so a write is visible to the next
//! search. A timer thread per index makes the same commit every second while it is dirty,
//! so that the one a search makes stays small.
//!
//! Scoring statistics are RediSearch's: a (term, document) frequency adds, per occurrence,
//! the field's WEIGHT as an integer (at least 1; a stem a fifth of it), summed over every
//! field; a document's length adds them all and its max frequency is its most frequent
//! term's. Lengths and max frequencies are kept per document here; frequencies and document
//! frequencies are read from tantivy's postings.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use levenshtein_automata::{DFA, Distance, LevenshteinAutomatonBuilder, SINK_STATE};
use parking_lot::Mutex;
use roaring::RoaringBitmap;
use rphonetic::DoubleMetaphone;
use tantivy::IndexSettings;
use tantivy::columnar::Column;
use tantivy::indexer::IndexWriterOptions;
use tantivy::postings::Postings;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    Language, PreTokenizedString, RawTokenizer, Stemmer, TextAnalyzer, Token,
};
use tantivy::{
    DocSet, IndexReader, IndexWriter, ReloadPolicy, Searcher, TERMINATED, TantivyDocument, Term,
};
use tantivy_fst::Automaton;
use tantivy_fst::automaton::AlwaysMatch;

use crate::search::{DocId, FieldKind, IndexDef, SearchError};

/// How many terms one prefix, suffix or infix query expands to at most (RediSearch's
/// MAXPREFIXEXPANSIONS).
const MAX_PREFIX_EXPANSIONS: usize = 200;

/// Words shorter than this are not stemmed (RediSearch's MINSTEMLEN).
pub const MIN_STEM_LEN: usize = 4;

/// What marks a stem term in the dictionary (RediSearch's STEM_PREFIX).
pub const STEM_PREFIX: char = '+';

/// What marks a phonetic code in the dictionary (RediSearch's PHONETIC_PREFIX).
pub const PHONETIC_PREFIX: char = '<';

/// Words shorter than this many bytes get no phonetic code (RediSearch's
/// MIN_PHONETIC_TERM_LEN default).
pub const MIN_PHONETIC_LEN: usize = 3;

/// Bytes of tantivy's indexing arena (its minimum).
const WRITER_ARENA_BYTES: usize = 15_000_000;

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

/// Whether `a` turns into `b` with at most `max` single-character insertions, deletions
/// or substitutions (Levenshtein distance; fuzzy terms).
pub fn within_edits(a: &str, b: &str, max: u8) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let max = usize::from(max);
    if a.len().abs_diff(b.len()) > max {
        return false;
    }
    // One row of the edit-distance table at a time.
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut next = Vec::with_capacity(row.len());
        next.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitute = row[j] + usize::from(ca != cb);
            next.push(substitute.min(row[j + 1] + 1).min(next[j] + 1));
        }
        row = next;
    }
    row[b.len()] <= max
}

/// The most edits a fuzzy term allows (`%%%word%%%`).
pub const MAX_FUZZY_DISTANCE: u8 = 3;

/// Levenshtein automaton builders by edit distance, built on first use (their tables take
/// a while). Plain Levenshtein, as RediSearch counts it: a transposition is two edits.
static LEVENSHTEIN: [OnceLock<LevenshteinAutomatonBuilder>; MAX_FUZZY_DISTANCE as usize + 1] =
    [const { OnceLock::new() }; MAX_FUZZY_DISTANCE as usize + 1];

/// The words within some edits of one word (the [`within_edits`] relation), as an automaton
/// over UTF-8 bytes: searching the term dictionary with it visits only the branches that can
/// still match instead of every term.
struct Fuzzy(DFA);

impl Fuzzy {
    fn new(word: &str, distance: u8) -> Result<Fuzzy, SearchError> {
        let builder = LEVENSHTEIN
            .get(usize::from(distance))
            .ok_or_else(|| SearchError::other(format!("fuzzy distance {distance} too large")))?
            .get_or_init(|| LevenshteinAutomatonBuilder::new(distance, false));
        Ok(Fuzzy(builder.build_dfa(word)))
    }
}

impl Automaton for Fuzzy {
    type State = u32;

    fn start(&self) -> u32 {
        self.0.initial_state()
    }

    fn is_match(&self, state: &u32) -> bool {
        matches!(self.0.distance(*state), Distance::Exact(_))
    }

    fn can_match(&self, state: &u32) -> bool {
        *state != SINK_STATE
    }

    fn accept(&self, state: &u32, byte: u8) -> u32 {
        self.0.transition(*state, byte)
    }
}

/// The phonetic term of `word`: `<` and its Double Metaphone primary code (at most 4
/// letters), the only code RediSearch indexes or queries; `None` when the code is empty (a
/// word without letters).
pub fn phonetic_term(word: &str) -> Option<String> {
    let code = DoubleMetaphone::default().double_metaphone(word).primary();
    (!code.is_empty()).then(|| format!("{PHONETIC_PREFIX}{code}"))
}

/// Whether dictionary term `term` is a word as written, not a stem or phonetic term.
fn is_word(term: &str) -> bool {
    !term.starts_with([STEM_PREFIX, PHONETIC_PREFIX])
}

/// The snowball stemmer of a RediSearch language, through tantivy's [`Stemmer`] filter.
pub struct WordStemmer(TextAnalyzer);

impl WordStemmer {
    /// The stemmer of `language` (a RediSearch LANGUAGE name, any case); `None` for the
    /// languages tantivy has no stemmer for (RediSearch then does not stem either).
    pub fn new(language: &str) -> Option<WordStemmer> {
        let language = match language.to_ascii_lowercase().as_str() {
            "arabic" => Language::Arabic,
            "danish" => Language::Danish,
            "dutch" => Language::Dutch,
            "english" => Language::English,
            "finnish" => Language::Finnish,
            "french" => Language::French,
            "german" => Language::German,
            "greek" => Language::Greek,
            "hungarian" => Language::Hungarian,
            "italian" => Language::Italian,
            "norwegian" => Language::Norwegian,
            "portuguese" => Language::Portuguese,
            "romanian" => Language::Romanian,
            "russian" => Language::Russian,
            "spanish" => Language::Spanish,
            "swedish" => Language::Swedish,
            "tamil" => Language::Tamil,
            "turkish" => Language::Turkish,
            _ => return None,
        };
        let analyzer = TextAnalyzer::builder(RawTokenizer::default())
            .filter(Stemmer::new(language))
            .build();
        Some(WordStemmer(analyzer))
    }

    pub fn stem(&mut self, word: &str) -> String {
        let mut stream = self.0.token_stream(word);
        match stream.next() {
            Some(token) => token.text.clone(),
            None => word.to_string(),
        }
    }

    /// The terms a query word stands for (RediSearch's stemming query expander): the word,
    /// `+stem` (the documents whose words have that stem), and the stem itself when it
    /// differs from the word.
    pub fn expand(&mut self, word: &str) -> Vec<String> {
        let stem = self.stem(word);
        let mut terms = vec![word.to_string(), format!("{STEM_PREFIX}{stem}")];
        if stem != word {
            terms.push(stem);
        }
        terms
    }
}

/// What the frequency of a term grows by per occurrence in a field of WEIGHT `weight`
/// (RediSearch counts integer weights, at least 1; stems count a fifth).
fn increment(weight: f64, stem: bool) -> u32 {
    let weight = if stem { weight * 0.2 } else { weight };
    (weight as u32).max(1)
}

/// A document's own scoring figures.
#[derive(Debug, Clone, PartialEq)]
pub struct DocStats {
    /// Sum of every term increment (RediSearch's document length).
    pub len: u32,
    /// The highest term frequency.
    pub max_freq: u32,
    /// Distinct terms (its share of `num_records`).
    pub terms: u32,
    /// The a-priori document score (SCORE / SCORE_FIELD).
    pub score: f64,
    /// The PAYLOAD_FIELD value (the HAMMING scorer's).
    pub payload: Option<Bytes>,
}

/// One document's TEXT fields, analysed.
pub struct Analyzed {
    /// (field position, tokens) of each field with words.
    fields: Vec<(u16, Vec<Token>)>,
    stats: DocStats,
}

/// Analyses one document's TEXT fields in turn: tokenizes, stems, counts.
pub struct Analyzer<'d> {
    def: &'d IndexDef,
    stemmer: Option<WordStemmer>,
    fields: Vec<(u16, Vec<Token>)>,
    freqs: HashMap<String, u32>,
    len: u32,
    /// The position of the document's next word, whichever field it is in.
    next_position: usize,
}

impl<'d> Analyzer<'d> {
    /// An analyser for a document of index `def` in `language` (the index's LANGUAGE
    /// unless the document's LANGUAGE_FIELD names one).
    pub fn new(def: &'d IndexDef, language: &str) -> Analyzer<'d> {
        Analyzer {
            def,
            stemmer: WordStemmer::new(language),
            fields: Vec::new(),
            freqs: HashMap::new(),
            len: 0,
            next_position: 0,
        }
    }

    /// Adds the value of TEXT field `pos`.
    pub fn add(&mut self, pos: u16, value: &str) {
        let Some(FieldKind::Text {
            weight,
            nostem,
            phonetic,
            ..
        }) = self.def.fields.get(usize::from(pos)).map(|f| &f.kind)
        else {
            return;
        };
        let words = tokenize(value, &|w| self.def.is_stopword(w));
        let mut tokens = Vec::with_capacity(words.len());
        let mut count = |term: &str, stem: bool| {
            let inc = increment(*weight, stem);
            *self.freqs.entry(term.to_string()).or_default() += inc;
            self.len += inc;
        };
        let first = self.next_position;
        self.next_position += words.len();
        for (position, word) in (first..).zip(words) {
            let stem = match (&mut self.stemmer, *nostem) {
                (Some(stemmer), false) if word.chars().count() >= MIN_STEM_LEN => {
                    Some(stemmer.stem(&word)).filter(|s| *s != word)
                }
                _ => None,
            };
            let code = match phonetic {
                Some(_) if word.len() >= MIN_PHONETIC_LEN => phonetic_term(&word),
                _ => None,
            };
            count(&word, false);
            tokens.push(token(word, position));
            if let Some(stem) = stem {
                let stem = format!("{STEM_PREFIX}{stem}");
                count(&stem, true);
                tokens.push(token(stem, position));
            }
            // A phonetic term counts as the word does (RediSearch gives it the field's
            // weight, not a stem's fifth).
            if let Some(code) = code {
                count(&code, false);
                tokens.push(token(code, position));
            }
        }
        if !tokens.is_empty() {
            self.fields.push((pos, tokens));
        }
    }

    /// The analysis, with the document's a-priori `score` and payload.
    pub fn finish(self, score: f64, payload: Option<Bytes>) -> Analyzed {
        let stats = DocStats {
            len: self.len,
            max_freq: self.freqs.values().copied().max().unwrap_or(0),
            terms: u32::try_from(self.freqs.len()).unwrap_or(u32::MAX),
            score,
            payload,
        };
        Analyzed {
            fields: self.fields,
            stats,
        }
    }
}

fn token(text: String, position: usize) -> Token {
    Token {
        offset_from: 0,
        offset_to: 0,
        position,
        text,
        position_length: 1,
    }
}

fn engine_error(e: impl std::fmt::Display) -> SearchError {
    SearchError::other(format!("full-text engine: {e}"))
}

/// How often a timer commits an index written to since its last commit, so that the
/// commit a search makes first stays small.
const COMMIT_INTERVAL: Duration = Duration::from_secs(1);

/// The writer and reader of one tantivy index, shared with its commit timer.
struct Engine {
    writer: Mutex<IndexWriter>,
    reader: IndexReader,
    /// Writes since the last commit.
    dirty: AtomicBool,
}

impl Engine {
    /// Commits and reloads the reader if anything was written since the last commit.
    fn commit_if_dirty(&self) -> Result<(), SearchError> {
        if !self.dirty.load(Ordering::Acquire) {
            return Ok(());
        }
        let mut writer = self.writer.lock();
        // Another caller may have committed while this one waited for the writer. The flag
        // is cleared only once the reader sees the commit: a search finding it clear must
        // find every earlier write visible (writers set it under this same lock).
        if self.dirty.load(Ordering::Acquire) {
            writer.commit().map_err(engine_error)?;
            self.reader.reload().map_err(engine_error)?;
            self.dirty.store(false, Ordering::Release);
        }
        Ok(())
    }

    /// Commits every [`COMMIT_INTERVAL`] while the index lives. The timer holds the engine
    /// weakly: dropping the FT index ends it.
    fn start_timer(engine: &Arc<Engine>) -> Result<(), SearchError> {
        let engine = Arc::downgrade(engine);
        std::thread::Builder::new()
            .name("ft-text-commit".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(COMMIT_INTERVAL);
                    let Some(engine) = engine.upgrade() else {
                        return;
                    };
                    if let Err(e) = engine.commit_if_dirty() {
                        tracing::error!("{e}");
                    }
                }
            })
            .map(drop)
            .map_err(engine_error)
    }
}

/// The text postings of every TEXT field of one FT index.
pub struct TextIndex {
    engine: Arc<Engine>,
    /// Holds each document's [`DocId`].
    id_field: Field,
    /// The tantivy field of each schema position (`None`: not a TEXT field).
    fields: Vec<Option<Field>>,
    /// WEIGHT of each schema position (1 for other fields).
    weights: Vec<f64>,
    docs: HashMap<u32, DocStats>,
    total_len: u64,
    records: u64,
}

impl TextIndex {
    /// An empty index for the TEXT fields of `def`, in RAM.
    pub fn new(def: &IndexDef) -> Result<TextIndex, SearchError> {
        let mut schema = Schema::builder();
        let id_field = schema.add_u64_field("id", INDEXED | FAST);
        let options = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default().set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let fields = def
            .fields
            .iter()
            .enumerate()
            .map(|(pos, f)| {
                let text = matches!(f.kind, FieldKind::Text { .. }) && !f.noindex;
                text.then(|| schema.add_text_field(&format!("f{pos}"), options.clone()))
            })
            .collect();
        let weights = def
            .fields
            .iter()
            .map(|f| match f.kind {
                FieldKind::Text { weight, .. } => weight,
                _ => 1.0,
            })
            .collect();
        // Every search after a write commits, and each commit writes a segment: without a
        // doc store compression thread per segment (there are no stored fields to compress),
        // a commit spawns no thread beyond the indexing worker tantivy restarts.
        let settings = IndexSettings {
            docstore_compress_dedicated_thread: false,
            ..IndexSettings::default()
        };
        let index = tantivy::Index::builder()
            .schema(schema.build())
            .settings(settings)
            .create_in_ram()
            .map_err(engine_error)?;
        // One indexing and one merging thread per FT index: there may be many indexes.
        let options = IndexWriterOptions::builder()
            .memory_budget_per_thread(WRITER_ARENA_BYTES)
            .num_worker_threads(1)
            .num_merge_threads(1)
            .build();
        let writer = index.writer_with_options(options).map_err(engine_error)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(engine_error)?;
        let engine = Arc::new(Engine {
            writer: Mutex::new(writer),
            reader,
            dirty: AtomicBool::new(false),
        });
        Engine::start_timer(&engine)?;
        Ok(TextIndex {
            engine,
            id_field,
            fields,
            weights,
            docs: HashMap::new(),
            total_len: 0,
            records: 0,
        })
    }

    /// Indexes document `id` (not indexed yet).
    pub fn insert(&mut self, id: DocId, doc: Analyzed) -> Result<(), SearchError> {
        if !doc.fields.is_empty() {
            let mut tantivy_doc = TantivyDocument::new();
            tantivy_doc.add_u64(self.id_field, u64::from(id.0));
            for (pos, tokens) in doc.fields {
                if let Some(Some(field)) = self.fields.get(usize::from(pos)) {
                    let text = PreTokenizedString {
                        text: String::new(),
                        tokens,
                    };
                    tantivy_doc.add_pre_tokenized_text(*field, text);
                }
            }
            let writer = self.engine.writer.lock();
            writer.add_document(tantivy_doc).map_err(engine_error)?;
            self.engine.dirty.store(true, Ordering::Release);
        }
        self.total_len += u64::from(doc.stats.len);
        self.records += u64::from(doc.stats.terms);
        self.docs.insert(id.0, doc.stats);
        Ok(())
    }

    pub fn remove(&mut self, id: DocId) {
        let Some(stats) = self.docs.remove(&id.0) else {
            return;
        };
        self.total_len -= u64::from(stats.len);
        self.records -= u64::from(stats.terms);
        if stats.terms > 0 {
            let writer = self.engine.writer.lock();
            writer.delete_term(Term::from_field_u64(self.id_field, u64::from(id.0)));
            self.engine.dirty.store(true, Ordering::Release);
        }
    }

    pub fn clear(&mut self) -> Result<(), SearchError> {
        self.docs.clear();
        self.total_len = 0;
        self.records = 0;
        let writer = self.engine.writer.lock();
        writer.delete_all_documents().map_err(engine_error)?;
        self.engine.dirty.store(true, Ordering::Release);
        Ok(())
    }

    /// A consistent view of every write so far, for one search: commits first if
    /// anything was written since the last commit.
    pub fn view(&self) -> Result<TextView<'_>, SearchError> {
        self.engine.commit_if_dirty()?;
        self.last_commit_view()
    }

    /// A view of the writes up to the last commit (at most [`COMMIT_INTERVAL`] old), for
    /// figures that need not include the latest writes: committing costs the writer a new
    /// segment, which a client polling FT.INFO during a background scan must not force.
    pub fn last_commit_view(&self) -> Result<TextView<'_>, SearchError> {
        let searcher = self.engine.reader.searcher();
        let ids = searcher
            .segment_readers()
            .iter()
            .map(|segment| segment.fast_fields().u64("id"))
            .collect::<Result<_, _>>()
            .map_err(engine_error)?;
        Ok(TextView {
            index: self,
            searcher,
            ids,
        })
    }

    /// Document `id`'s figures (zeroes for a document without text).
    pub fn doc_stats(&self, id: DocId) -> Option<&DocStats> {
        self.docs.get(&id.0)
    }

    /// Total length of every document (BM25's average length is this over the documents).
    pub fn total_len(&self) -> u64 {
        self.total_len
    }

    /// (term, document) entries (FT.INFO `num_records`).
    pub fn records(&self) -> u64 {
        self.records
    }

    /// The increment of one occurrence in the field at schema position `pos`.
    fn increment_of(&self, pos: usize, stem: bool) -> u32 {
        increment(self.weights.get(pos).copied().unwrap_or(1.0), stem)
    }

    /// The tantivy fields of TEXT positions `fields` (`None`: every TEXT field).
    fn tantivy_fields(&self, fields: Option<&[u16]>) -> Vec<Field> {
        match fields {
            None => self.fields.iter().flatten().copied().collect(),
            Some(positions) => positions
                .iter()
                .filter_map(|&p| self.fields.get(usize::from(p)).copied().flatten())
                .collect(),
        }
    }
}

/// One term's postings over a view: which documents have it in the asked fields, and the
/// statistics scoring needs.
#[derive(Debug, Default)]
pub struct TermPostings {
    pub term: String,
    /// Documents with the term in the asked fields.
    pub docs: RoaringBitmap,
    /// The term's frequency in each of `docs` (over every field, as RediSearch counts it).
    pub freqs: HashMap<u32, u32>,
    /// Documents with the term in any field.
    pub doc_freq: u64,
}

/// A committed, reloaded snapshot of a [`TextIndex`] for one search.
pub struct TextView<'a> {
    index: &'a TextIndex,
    searcher: Searcher,
    /// Each segment's column of our doc ids, in the searcher's segment order (opened once
    /// per view, not once per term).
    ids: Vec<Column<u64>>,
}

impl TextView<'_> {
    /// Calls `visit` with our doc id, the term frequency and (when `positions`, else
    /// empty) the word positions of every live posting of `term` in tantivy field `field`
    /// of the view's segment number `seg`.
    fn each_posting(
        &self,
        seg: usize,
        field: Field,
        term: &str,
        positions: bool,
        mut visit: impl FnMut(u32, u32, &[u32]),
    ) -> Result<(), SearchError> {
        let (Some(segment), Some(ids)) =
            (self.searcher.segment_readers().get(seg), self.ids.get(seg))
        else {
            return Ok(());
        };
        let inverted = segment.inverted_index(field).map_err(engine_error)?;
        let option = match positions {
            true => IndexRecordOption::WithFreqsAndPositions,
            false => IndexRecordOption::WithFreqs,
        };
        let Some(mut postings) = inverted
            .read_postings(&Term::from_field_text(field, term), option)
            .map_err(engine_error)?
        else {
            return Ok(());
        };
        let mut at = Vec::new();
        let mut doc = postings.doc();
        while doc != TERMINATED {
            let id = ids.first(doc).and_then(|id| u32::try_from(id).ok());
            if let (false, Some(id)) = (segment.is_deleted(doc), id) {
                if positions {
                    postings.positions(&mut at);
                }
                visit(id, postings.term_freq(), &at);
            }
            doc = postings.advance();
        }
        Ok(())
    }

    /// `term`'s postings, matching in TEXT positions `fields` (`None`: any).
    pub fn term(&self, term: &str, fields: Option<&[u16]>) -> Result<TermPostings, SearchError> {
        let stem = term.starts_with(STEM_PREFIX);
        let mut out = TermPostings {
            term: term.to_string(),
            ..TermPostings::default()
        };
        let mut any = RoaringBitmap::new();
        for seg in 0..self.ids.len() {
            for (pos, field) in self.index.fields.iter().enumerate() {
                let Some(field) = field else { continue };
                let asked = fields.is_none_or(|f| u16::try_from(pos).is_ok_and(|p| f.contains(&p)));
                let inc = self.index.increment_of(pos, stem);
                self.each_posting(seg, *field, term, false, |id, tf, _| {
                    any.insert(id);
                    *out.freqs.entry(id).or_default() += tf * inc;
                    if asked {
                        out.docs.insert(id);
                    }
                })?;
            }
        }
        out.freqs.retain(|id, _| out.docs.contains(*id));
        out.doc_freq = any.len();
        Ok(out)
    }

    /// The word positions of `term` in each live document (positions run on across
    /// fields), within `fields` (`None`: any TEXT field).
    pub fn positions(
        &self,
        term: &str,
        fields: Option<&[u16]>,
    ) -> Result<HashMap<u32, Vec<u32>>, SearchError> {
        let mut out: HashMap<u32, Vec<u32>> = HashMap::new();
        for seg in 0..self.ids.len() {
            for field in self.index.tantivy_fields(fields) {
                self.each_posting(seg, field, term, true, |id, _, positions| {
                    out.entry(id).or_default().extend_from_slice(positions);
                })?;
            }
        }
        Ok(out)
    }

    /// Documents containing `words` adjacent and in order in `fields`: positions run on
    /// across fields, so a phrase may start in one field and end in the next, as in
    /// RediSearch.
    pub fn phrase(
        &self,
        words: &[String],
        fields: Option<&[u16]>,
    ) -> Result<RoaringBitmap, SearchError> {
        let mut out = RoaringBitmap::new();
        if words.is_empty() {
            return Ok(out);
        }
        // A document lives in one segment: its positions in every field are there.
        for seg in 0..self.ids.len() {
            // Positions of each word, by document, over the fields.
            let mut per_word: Vec<HashMap<u32, Vec<u32>>> = vec![HashMap::new(); words.len()];
            for field in self.index.tantivy_fields(fields) {
                for (word, at) in words.iter().zip(&mut per_word) {
                    self.each_posting(seg, field, word, true, |id, _, positions| {
                        at.entry(id).or_default().extend_from_slice(positions);
                    })?;
                }
            }
            let (first, rest) = per_word.split_at(1);
            for (id, starts) in &first[0] {
                let adjacent = starts.iter().any(|&start| {
                    rest.iter().enumerate().all(|(i, word)| {
                        let want = start + i as u32 + 1;
                        word.get(id).is_some_and(|at| at.contains(&want))
                    })
                });
                if adjacent {
                    out.insert(*id);
                }
            }
        }
        Ok(out)
    }

    /// The live dictionary words (stems and phonetic terms left out) that `automaton` and
    /// `matches` accept, in order, from `start` on until `stop` accepts one, at most `limit`
    /// of them.
    fn dictionary<A: Automaton>(
        &self,
        limit: usize,
        automaton: &A,
        start: &str,
        matches: impl Fn(&str) -> bool,
        stop: impl Fn(&str) -> bool,
    ) -> Result<Vec<String>, SearchError>
    where
        A::State: Clone,
    {
        let mut terms = BTreeSet::new();
        for segment in self.searcher.segment_readers() {
            for field in self.index.tantivy_fields(None) {
                let inverted = segment.inverted_index(field).map_err(engine_error)?;
                let mut stream = inverted
                    .terms()
                    .search(automaton)
                    .ge(start.as_bytes())
                    .into_stream()
                    .map_err(engine_error)?;
                while stream.advance() {
                    let Ok(term) = std::str::from_utf8(stream.key()) else {
                        continue;
                    };
                    if stop(term) {
                        break;
                    }
                    if is_word(term) && matches(term) {
                        terms.insert(term.to_string());
                    }
                }
            }
        }
        let mut live = Vec::new();
        for term in terms {
            if live.len() == limit {
                break;
            }
            if self.has_live(&term)? {
                live.push(term);
            }
        }
        Ok(live)
    }

    /// Whether a live document has `term` (deleted documents stay in tantivy's dictionary
    /// until their segment is merged).
    fn has_live(&self, term: &str) -> Result<bool, SearchError> {
        for segment in self.searcher.segment_readers() {
            for field in self.index.tantivy_fields(None) {
                let inverted = segment.inverted_index(field).map_err(engine_error)?;
                let postings = inverted
                    .read_postings(
                        &Term::from_field_text(field, term),
                        IndexRecordOption::Basic,
                    )
                    .map_err(engine_error)?;
                let Some(mut postings) = postings else {
                    continue;
                };
                // Stops at the first live document.
                let mut doc = postings.doc();
                while doc != TERMINATED {
                    if !segment.is_deleted(doc) {
                        return Ok(true);
                    }
                    doc = postings.advance();
                }
            }
        }
        Ok(false)
    }

    /// The indexed terms starting with `prefix` (at most RediSearch's expansion limit).
    pub fn expand_prefix(&self, prefix: &str) -> Result<Vec<String>, SearchError> {
        self.dictionary(
            MAX_PREFIX_EXPANSIONS,
            &AlwaysMatch,
            prefix,
            |_| true,
            |t| !t.starts_with(prefix),
        )
    }

    /// The indexed terms within `distance` edits of `word` (at most RediSearch's expansion
    /// limit).
    pub fn expand_fuzzy(&self, word: &str, distance: u8) -> Result<Vec<String>, SearchError> {
        let fuzzy = Fuzzy::new(word, distance)?;
        self.dictionary(MAX_PREFIX_EXPANSIONS, &fuzzy, "", |_| true, |_| false)
    }

    /// The indexed terms `matches` accepts (suffix and infix queries walk the dictionary),
    /// at most RediSearch's expansion limit.
    pub fn expand_where(&self, matches: impl Fn(&str) -> bool) -> Result<Vec<String>, SearchError> {
        self.dictionary(MAX_PREFIX_EXPANSIONS, &AlwaysMatch, "", matches, |_| false)
    }

    /// Every distinct live term, stems included (FT.INFO `num_terms`).
    pub fn num_terms(&self) -> Result<u64, SearchError> {
        let mut terms = BTreeSet::new();
        for segment in self.searcher.segment_readers() {
            for field in self.index.tantivy_fields(None) {
                let inverted = segment.inverted_index(field).map_err(engine_error)?;
                let mut stream = inverted.terms().stream().map_err(engine_error)?;
                while stream.advance() {
                    terms.insert(stream.key().to_vec());
                }
            }
        }
        let mut live = 0;
        for term in terms {
            if self.has_live(&String::from_utf8_lossy(&term))? {
                live += 1;
            }
        }
        Ok(live)
    }

    /// Every indexed word (stems and phonetic terms left out) with the number of live documents having it,
    /// in term order (FT.SPELLCHECK's dictionary).
    pub fn terms_with_doc_freq(&self) -> Result<Vec<(String, u64)>, SearchError> {
        let mut out = Vec::new();
        for term in self.dictionary(usize::MAX, &AlwaysMatch, "", |_| true, |_| false)? {
            let doc_freq = self.term(&term, None)?.doc_freq;
            out.push((term, doc_freq));
        }
        Ok(out)
    }

    /// Approximate bytes of tantivy's segments.
    pub fn memory_bytes(&self) -> u64 {
        self.searcher
            .space_usage()
            .map_or(0, |usage| usage.total().get_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::index::testing::{def, text};
    use crate::search::schema::DEFAULT_STOPWORDS;

    fn tok(text: &str) -> Vec<String> {
        tokenize(text, &|w| DEFAULT_STOPWORDS.contains(&w))
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
    fn edit_distances() {
        assert!(within_edits("hello", "hello", 1));
        assert!(within_edits("hallo", "hello", 1));
        assert!(within_edits("hell", "hello", 1));
        assert!(within_edits("helloo", "hello", 1));
        assert!(!within_edits("hlelo", "hello", 1));
        assert!(within_edits("hlelo", "hello", 2));
        assert!(!within_edits("help", "hello", 1));
        assert!(within_edits("hxlp", "hello", 3));
        assert!(!within_edits("h", "hello", 3));
        assert!(within_edits("écolé", "ecole", 2));
    }

    #[test]
    fn fuzzy_automaton_agrees_with_edit_distance() {
        // Every word of up to 4 letters over an alphabet with a two-byte letter.
        let mut words = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = words
                .iter()
                .flat_map(|w| ['a', 'b', 'é'].map(|c| format!("{w}{c}")))
                .collect();
            words.extend(longer);
        }
        words.sort();
        words.dedup();
        for query in ["ab", "abé", "baab", "é"] {
            for distance in 1..=MAX_FUZZY_DISTANCE {
                let fuzzy = Fuzzy::new(query, distance).expect("automaton");
                for word in &words {
                    let state = word.bytes().fold(fuzzy.start(), |s, b| fuzzy.accept(&s, b));
                    assert_eq!(
                        fuzzy.is_match(&state),
                        within_edits(word, query, distance),
                        "{word:?} within {distance} of {query:?}"
                    );
                }
            }
        }
        assert!(Fuzzy::new("ab", MAX_FUZZY_DISTANCE + 1).is_err());
    }

    #[test]
    fn stemmers_and_query_expansion() {
        let mut english = WordStemmer::new("English").expect("english");
        assert_eq!(english.stem("running"), "run");
        assert_eq!(english.stem("libraries"), "librari");
        assert_eq!(english.expand("running"), ["running", "+run", "run"]);
        assert_eq!(english.expand("run"), ["run", "+run"]);
        let mut german = WordStemmer::new("german").expect("german");
        assert_eq!(german.stem("häuser"), "haus");
        assert!(WordStemmer::new("chinese").is_none());
    }

    /// An index of TEXT fields `t` (WEIGHT 2) and `n` (NOSTEM).
    fn two_fields() -> IndexDef {
        let mut t = text("t");
        let mut n = text("n");
        if let FieldKind::Text { weight, .. } = &mut t.kind {
            *weight = 2.5;
        }
        if let FieldKind::Text { nostem, .. } = &mut n.kind {
            *nostem = true;
        }
        def(vec![t, n])
    }

    fn analyze(def: &IndexDef, t: &str, n: &str) -> Analyzed {
        let mut analyzer = Analyzer::new(def, "english");
        analyzer.add(0, t);
        analyzer.add(1, n);
        analyzer.finish(1.0, None)
    }

    #[test]
    fn analysis_counts_weights_and_stems() {
        let def = two_fields();
        let doc = analyze(&def, "Running runs", "running");
        // t: running +2, +run +1 (a fifth of 2.5 rounds up to 1), runs +2, +run +1;
        // n (NOSTEM): running +1.
        assert_eq!(
            doc.stats,
            DocStats {
                len: 7,
                max_freq: 3,
                terms: 3,
                score: 1.0,
                payload: None,
            }
        );
        let texts: Vec<(u16, Vec<(&str, usize)>)> = doc
            .fields
            .iter()
            .map(|(f, tokens)| {
                (
                    *f,
                    tokens
                        .iter()
                        .map(|t| (t.text.as_str(), t.position))
                        .collect(),
                )
            })
            .collect();
        assert_eq!(
            texts,
            [
                (
                    0,
                    vec![("running", 0), ("+run", 0), ("runs", 1), ("+run", 1)]
                ),
                // Positions run on across fields.
                (1, vec![("running", 2)]),
            ]
        );
        // Words under four letters are not stemmed.
        let mut analyzer = Analyzer::new(&def, "english");
        analyzer.add(0, "ran");
        assert_eq!(analyzer.finish(1.0, None).stats.terms, 1);
    }

    #[test]
    fn phonetic_terms_are_double_metaphone_primaries() {
        for (word, term) in [
            ("john", "<JN"),
            ("jon", "<JN"),
            ("morfix", "<MRFK"),
            ("morphix", "<MRFK"),
            ("smith", "<SM0"),
            ("schmidt", "<XMT"),
            ("knight", "<NT"),
            ("thompson", "<TMPS"),
            ("xavier", "<SF"),
        ] {
            assert_eq!(phonetic_term(word).as_deref(), Some(term), "{word}");
        }
        // No letters, no code.
        assert_eq!(phonetic_term("2015"), None);
    }

    #[test]
    fn phonetic_fields_index_codes_at_the_word_position() {
        let mut name = text("name");
        if let FieldKind::Text { phonetic, .. } = &mut name.kind {
            *phonetic = Some("dm:en".into());
        }
        let def = def(vec![name, text("plain")]);
        let mut analyzer = Analyzer::new(&def, "english");
        analyzer.add(0, "Jon runs 04 2015");
        analyzer.add(1, "john");
        let doc = analyzer.finish(1.0, None);
        let tokens: Vec<(u16, &str, usize)> = doc
            .fields
            .iter()
            .flat_map(|(f, tokens)| tokens.iter().map(|t| (*f, t.text.as_str(), t.position)))
            .collect();
        // `04` is under 3 bytes; `2015` has no code; `plain` is not PHONETIC.
        assert_eq!(
            tokens,
            [
                (0, "jon", 0),
                (0, "<JN", 0),
                (0, "runs", 1),
                (0, "+run", 1),
                (0, "<RNS", 1),
                (0, "04", 2),
                (0, "2015", 3),
                (1, "john", 4),
            ]
        );
        // A code counts as a word does: jon <JN runs +run <RNS 04 2015 john, 1 each.
        assert_eq!((doc.stats.len, doc.stats.terms), (8, 8));

        let mut index = TextIndex::new(&def).expect("index");
        index.insert(DocId(1), doc).expect("insert");
        let view = index.view().expect("view");
        assert_eq!(ids(&view.term("<JN", None).expect("term").docs), [1]);
        // Dictionary walks list words only.
        assert_eq!(view.expand_prefix("").expect("prefix").len(), 5);
        assert!(
            view.expand_where(|t| t.contains('<'))
                .expect("where")
                .is_empty()
        );
    }

    #[test]
    fn a_timer_commits_writes_nobody_searched() {
        let def = two_fields();
        let mut index = TextIndex::new(&def).expect("index");
        index
            .insert(DocId(1), analyze(&def, "cat", ""))
            .expect("insert");
        assert!(index.engine.dirty.load(Ordering::Acquire));
        let deadline = std::time::Instant::now() + 10 * COMMIT_INTERVAL;
        // No search: only the timer can make the reader see it.
        while index.engine.reader.searcher().num_docs() == 0 {
            assert!(std::time::Instant::now() < deadline, "no timer commit");
            std::thread::sleep(COMMIT_INTERVAL / 10);
        }
        assert!(!index.engine.dirty.load(Ordering::Acquire));
    }

    fn ids(bits: &RoaringBitmap) -> Vec<u32> {
        bits.iter().collect()
    }

    #[test]
    fn postings_dictionary_and_phrases() {
        let def = two_fields();
        let mut index = TextIndex::new(&def).expect("index");
        let docs = [
            (1, "hello world", "goodbye moon"),
            (2, "world hello", "help running"),
            (3, "running late", ""),
        ];
        for (id, t, n) in docs {
            index
                .insert(DocId(id), analyze(&def, t, n))
                .expect("insert");
        }
        let view = index.view().expect("view");
        let hello = view.term("hello", None).expect("term");
        assert_eq!(ids(&hello.docs), [1, 2]);
        assert_eq!(hello.doc_freq, 2);
        // Frequencies count integer weights: 2 in `t`.
        assert_eq!(hello.freqs.get(&1), Some(&2));
        let help = view.term("help", Some(&[0])).expect("term");
        assert!(help.docs.is_empty());
        assert_eq!(help.doc_freq, 1);
        // `running` in NOSTEM `n` has no stem; in `t` it has.
        assert_eq!(ids(&view.term("+run", None).expect("term").docs), [3]);
        assert_eq!(
            ids(&view.term("running", Some(&[1])).expect("term").docs),
            [2]
        );
        assert_eq!(
            view.expand_prefix("hel").expect("prefix"),
            ["hello", "help"]
        );
        assert_eq!(
            view.expand_fuzzy("hel", 2).expect("fuzzy"),
            ["hello", "help"]
        );
        assert_eq!(view.expand_fuzzy("wrld", 1).expect("fuzzy"), ["world"]);
        // Stem terms are not words: `+run` is one edit from `run` but left out.
        assert!(view.expand_fuzzy("run", 1).expect("fuzzy").is_empty());
        let suffix = view.expand_where(|w| w.ends_with("oon")).expect("suffix");
        assert_eq!(suffix, ["moon"]);
        let phrase = |words: &[&str], f: Option<&[u16]>| {
            let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
            ids(&view.phrase(&words, f).expect("phrase"))
        };
        assert_eq!(phrase(&["hello", "world"], None), [1]);
        assert_eq!(phrase(&["world", "hello"], None), [2]);
        // Positions run on across fields: `t`'s last word and `n`'s first are adjacent.
        assert_eq!(phrase(&["world", "goodbye"], None), [1]);
        assert!(phrase(&["world", "goodbye"], Some(&[0])).is_empty());
        assert!(phrase(&["hello", "world"], Some(&[1])).is_empty());
        // hello world goodbye moon help running +run late.
        assert_eq!(view.num_terms().expect("terms"), 8);
        drop(view);

        index.remove(DocId(1));
        let view = index.view().expect("view");
        assert_eq!(ids(&view.term("hello", None).expect("term").docs), [2]);
        assert!(view.term("goodbye", None).expect("term").docs.is_empty());
        // Deleted documents' terms stay in tantivy's dictionary but are not live.
        assert_eq!(
            view.expand_prefix("go").expect("prefix"),
            Vec::<String>::new()
        );
        assert_eq!(view.num_terms().expect("terms"), 6);
        assert_eq!(
            view.terms_with_doc_freq().expect("terms"),
            [
                ("hello".to_string(), 1),
                ("help".to_string(), 1),
                ("late".to_string(), 1),
                ("running".to_string(), 2),
                ("world".to_string(), 1),
            ]
        );
        drop(view);
        // doc 2: 4 (term, document) entries, doc 3: 3.
        assert_eq!(index.records(), 7);
        index.clear().expect("clear");
        let view = index.view().expect("view");
        assert_eq!(view.num_terms().expect("terms"), 0);
        assert_eq!((index.records(), index.total_len()), (0, 0));
    }
}
