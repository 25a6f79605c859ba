//! One FT index: its definition, document table, field indexes and statistics, with the
//! upsert / remove operations the registry applies on keyspace changes and the search
//! execution FT.SEARCH runs (evaluation itself is [`super::exec`]'s).
//!
//! Locking: the data sits behind one `RwLock`. Writers (upsert / remove, called under the
//! keyspace shard lock of the key) parse the hash before taking it and hold it only to swap
//! postings; searches hold it for reading while computing matching ids, never while
//! loading documents. Nothing here calls back into the keyspace or the registry.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use bytes::Bytes;
use parking_lot::{Mutex, RwLock};

use super::aggregate::cursor::Cursors;
use super::document::{DocTable, Document, FieldValue};
use super::expr::{Properties, Value};
use super::fields::text::{Analyzed, Analyzer};
use super::fields::{GeoIndex, NumericIndex, TagIndex, TextIndex, geo, numeric, tag};
use super::query::{Query, QueryNode};
use super::score::{Explanation, Scorer};
use super::stats::Dialects;
use super::synonyms::SynonymMap;
use super::vector::{GraphImage, VectorIndex};
use super::{DocId, FieldDef, FieldKind, IndexDef, SearchError, VectorAlgorithm};
use crate::keyspace::value::HashValue;

/// One index.
pub struct Index {
    pub def: IndexDef,
    pub stats: IndexStats,
    data: RwLock<Data>,
    /// Set once the index is dropped, so a running backfill stops.
    dropped: AtomicBool,
    /// Which backfill is the current one: each start bumps it and an older scan stops.
    scan_generation: AtomicU64,
    /// A load is filling the index and saved HNSW graphs wait to be adopted.
    restoring: AtomicBool,
    /// FT.AGGREGATE cursors over this index; they go when the index is dropped.
    pub cursors: Cursors,
}

/// Counters FT.INFO reports.
#[derive(Default)]
pub struct IndexStats {
    /// Documents that could not be indexed (`hash_indexing_failures`).
    pub failures: AtomicU64,
    /// The last indexing error and the key it happened on.
    pub last_error: Mutex<Option<(String, Bytes)>>,
    /// The initial scan (backfill) is running.
    pub indexing: AtomicBool,
    /// Backfill progress in millionths (1_000_000 = done).
    pub progress_ppm: AtomicU64,
    /// FT.SEARCH / FT.AGGREGATE calls (`number_of_uses`).
    pub uses: AtomicU64,
    /// Time spent indexing documents, in microseconds (`total_indexing_time`).
    pub indexing_micros: AtomicU64,
    /// Queries running on the index right now ([`super::stats::Running`]).
    pub active_queries: AtomicU64,
    /// The query dialects its queries used (`dialect_stats`).
    pub dialects: Dialects,
    /// Failures by the schema position of the field whose value failed (FT.INFO
    /// `field statistics`).
    pub field_errors: Mutex<HashMap<usize, FieldErrors>>,
}

/// One field's share of the indexing failures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldErrors {
    pub failures: u64,
    /// The last error and the key it happened on.
    pub last_error: Option<(String, Bytes)>,
}

/// A snapshot of an index's size figures for FT.INFO.
#[derive(Debug, Clone, Default)]
pub struct IndexInfo {
    pub num_docs: u64,
    pub max_doc_id: u64,
    pub num_terms: u64,
    pub num_records: u64,
    pub inverted_bytes: u64,
    pub vector_index_bytes: u64,
    pub doc_table_bytes: u64,
    pub tag_overhead_bytes: u64,
    pub text_overhead_bytes: u64,
    /// Vectors of every VECTOR field, and those an HNSW worker has yet to put in its graph
    /// (searched exactly meanwhile).
    pub vectors: u64,
    pub vectors_pending: u64,
    /// FT.INFO `indexing`: the initial scan runs, or an HNSW worker has vectors to place.
    pub indexing: bool,
    /// FT.INFO `percent_indexed`: the lower of the scan's progress and the graph's share of
    /// the vectors; below 1 exactly while `indexing`.
    pub percent_indexed: f64,
    /// The initial scan (one background thread) runs.
    pub scanning: bool,
    /// HNSW fields whose worker thread has vectors to place.
    pub busy_graph_workers: u64,
    /// Graph nodes of removed or replaced vectors, skipped until a rebuild.
    pub vectors_marked_deleted: u64,
}

impl IndexInfo {
    /// Every structure's bytes (FT.INFO `total_index_memory_sz_mb`).
    pub fn total_bytes(&self) -> u64 {
        self.inverted_bytes
            + self.vector_index_bytes
            + self.doc_table_bytes
            + self.tag_overhead_bytes
            + self.text_overhead_bytes
    }
}

/// One matching document, as [`Index::search`] returns it.
#[derive(Debug, Clone)]
pub struct Hit {
    pub id: DocId,
    pub key: Bytes,
    /// Text score (1.0 when the query has no scored text).
    pub score: f64,
    /// How the score came about (with [`SearchOptions::explain`] and scored text).
    pub explanation: Option<Explanation>,
    /// Yielded distances: the KNN score field (alias or `__<field>_score`) and every
    /// VECTOR_RANGE `$YIELD_DISTANCE_AS`, by name.
    pub distances: Vec<(String, f64)>,
    /// The dictionary terms the document matched, in query order (with
    /// [`SearchOptions::matched_terms`]).
    pub terms: Vec<String>,
}

/// FT.PROFILE's view of one query node: how many documents it matches on its own and how
/// long that took, with the same for its children (in the node's order).
#[derive(Debug, Clone, PartialEq)]
pub struct NodeStats {
    pub matches: u64,
    pub time: std::time::Duration,
    pub children: Vec<NodeStats>,
}

/// Restrictions FT.SEARCH options put on a query.
#[derive(Debug, Clone, Default)]
pub struct SearchOptions {
    /// `INKEYS`: only these keys.
    pub in_keys: Option<Vec<Bytes>>,
    /// `INFIELDS`: text terms only match in these attributes.
    pub in_fields: Option<Vec<String>>,
    /// `SLOP`: the words an intersection of text terms matched may have at most this many
    /// other words between them (positions run on across a document's TEXT fields).
    pub slop: Option<u32>,
    /// `INORDER`: ... and must come in the query's order.
    pub in_order: bool,
    /// `VERBATIM`: query words are not stem-expanded.
    pub verbatim: bool,
    /// `LANGUAGE`: the language query words are stemmed in (default: the index's).
    pub language: Option<String>,
    /// `SCORER`.
    pub scorer: Scorer,
    /// `EXPLAINSCORE`: hits carry their score's explanation.
    pub explain: bool,
    /// `PAYLOAD` (the HAMMING scorer compares it with documents' payloads).
    pub payload: Option<Bytes>,
    /// Hits carry the terms they matched (FT.AGGREGATE's `matched_terms()`).
    pub matched_terms: bool,
    /// When the query runs (Unix milliseconds): documents whose key has expired by then
    /// are left out even before expiry reclaims the key. 0 leaves none out.
    pub now_ms: u64,
    /// The query's time budget: matching stops early once it is spent.
    pub deadline: super::Deadline,
}

/// A value to order results by (SORTBY), read from the index.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
pub enum SortKey {
    Num(f64),
    Str(String),
}

/// The postings of one schema field. TEXT fields share [`Data::text`].
pub(super) enum FieldIndex {
    Numeric(NumericIndex),
    Geo(GeoIndex),
    Tag(TagIndex),
    Text,
    Vector(Arc<VectorIndex>),
}

/// Everything behind the index's lock.
pub(super) struct Data {
    pub(super) docs: DocTable,
    /// One per schema field, in schema order.
    pub(super) fields: Vec<FieldIndex>,
    pub(super) text: TextIndex,
    /// FT.SYNUPDATE's groups; documents coming and going leave them alone.
    pub(super) synonyms: SynonymMap,
}

/// What a hash contributes to the field indexes, computed before taking the lock.
struct Parsed<'h> {
    values: Box<[Option<FieldValue>]>,
    /// The indexed TEXT fields, analysed.
    text: Analyzed,
    /// (field position, blob) of VECTOR fields.
    vectors: Vec<(usize, &'h [u8])>,
}

/// A hash as a `FILTER` expression sees it: `@__key` is the key name, `@name` the hash
/// field the attribute `name` reads (else the hash field `name` itself), with values as
/// strings; a field whose TTL has passed is missing.
struct HashProperties<'a> {
    def: &'a IndexDef,
    key: &'a [u8],
    hash: &'a HashValue,
    now_ms: u64,
}

impl Properties for HashProperties<'_> {
    fn property(&self, name: &str) -> Value {
        if name == "__key" {
            return Value::Str(String::from_utf8_lossy(self.key).into_owned());
        }
        let field = self
            .def
            .field(name)
            .map_or(name.as_bytes(), |f| &f.identifier[..]);
        let live = self
            .hash
            .field_expire_at(field)
            .is_none_or(|at| at >= self.now_ms);
        match self.hash.get(field) {
            Some(raw) if live => Value::Str(String::from_utf8_lossy(raw).into_owned()),
            _ => Value::Null,
        }
    }
}

impl Index {
    pub fn new(def: IndexDef) -> Result<Index, SearchError> {
        let text = TextIndex::new(&def)?;
        let fields = def
            .fields
            .iter()
            .map(|f| match &f.kind {
                FieldKind::Numeric => FieldIndex::Numeric(NumericIndex::default()),
                FieldKind::Geo => FieldIndex::Geo(GeoIndex::default()),
                FieldKind::Tag { .. } => FieldIndex::Tag(TagIndex::default()),
                FieldKind::Text { .. } => FieldIndex::Text,
                FieldKind::Vector(params) => FieldIndex::Vector(Arc::new(VectorIndex::new(params))),
            })
            .collect();
        let stats = IndexStats {
            progress_ppm: AtomicU64::new(1_000_000),
            ..IndexStats::default()
        };
        Ok(Index {
            def,
            stats,
            data: RwLock::new(Data {
                docs: DocTable::default(),
                fields,
                text,
                synonyms: SynonymMap::default(),
            }),
            dropped: AtomicBool::new(false),
            scan_generation: AtomicU64::new(0),
            restoring: AtomicBool::new(false),
            cursors: Cursors::default(),
        })
    }

    /// Indexes (or re-indexes, under a fresh doc id) the hash stored at `key`. A value that
    /// cannot be indexed drops the document and counts an indexing failure; a hash the
    /// index's `FILTER` rejects is not covered: dropped if indexed, no failure counted.
    /// `expire_at` is the key's expiry time, if it has one: queries leave the document out
    /// from then on. The time it takes counts in `total_indexing_time`.
    pub fn upsert(&self, key: &Bytes, hash: &HashValue, expire_at: Option<u64>, now_ms: u64) {
        let started = Instant::now();
        self.index_hash(key, hash, expire_at, now_ms);
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.stats
            .indexing_micros
            .fetch_add(micros, Ordering::Relaxed);
    }

    fn index_hash(&self, key: &Bytes, hash: &HashValue, expire_at: Option<u64>, now_ms: u64) {
        if let Some(filter) = &self.def.filter_expr {
            let props = HashProperties {
                def: &self.def,
                key,
                hash,
                now_ms,
            };
            if !filter.matches(&props) {
                return self.remove(key);
            }
        }
        let parsed = self.parse(hash, now_ms);
        let mut data = self.data.write();
        data.remove(&self.def, key);
        let parsed = match parsed {
            Ok(parsed) => parsed,
            Err((pos, error)) => return self.fail(key, pos, error),
        };
        let id = data.docs.insert(Document {
            key: key.clone(),
            values: parsed.values,
            expire_at,
        });
        if let Err((pos, error)) = data.add_postings(&self.def, id, parsed.text, &parsed.vectors) {
            data.remove(&self.def, key);
            self.fail(key, pos, error.to_string());
        }
    }

    /// Reads and checks every schema field of `hash` (fields whose TTL has passed count as
    /// absent). The first bad value fails the whole document, with its field's position and
    /// RediSearch's error text.
    fn parse<'h>(&self, hash: &'h HashValue, now_ms: u64) -> Result<Parsed<'h>, (usize, String)> {
        let live = |name: &[u8]| {
            let expired = hash.field_expire_at(name).is_some_and(|at| at < now_ms);
            hash.get(name).filter(|_| !expired)
        };
        let own = |name: &Option<String>| name.as_ref().and_then(|n| live(n.as_bytes()));
        // LANGUAGE_FIELD / SCORE_FIELD: a document's own language and score, when valid.
        let language = own(&self.def.language_field)
            .map(|l| String::from_utf8_lossy(l).to_lowercase())
            .filter(|l| super::schema::LANGUAGES.contains(&l.as_str()))
            .unwrap_or_else(|| self.def.language.clone());
        let score = own(&self.def.score_field)
            .and_then(|s| std::str::from_utf8(s).ok()?.parse::<f64>().ok())
            .filter(|s| (0.0..=1.0).contains(s))
            .unwrap_or(self.def.score);
        let payload = own(&self.def.payload_field).cloned();
        let mut analyzer = Analyzer::new(&self.def, &language);
        let mut values = vec![None; self.def.fields.len()].into_boxed_slice();
        let mut vectors = Vec::new();
        for (pos, field) in self.def.fields.iter().enumerate() {
            let Some(raw) = hash.get(&field.identifier[..]) else {
                continue;
            };
            if hash
                .field_expire_at(&field.identifier)
                .is_some_and(|at| at < now_ms)
            {
                continue;
            }
            values[pos] = Some(match &field.kind {
                FieldKind::Numeric => {
                    FieldValue::Number(numeric::parse(raw).map_err(|e| (pos, e))?)
                }
                FieldKind::Geo => {
                    let point = geo::parse(raw).map_err(|e| (pos, e))?;
                    FieldValue::Geo(point, String::from_utf8_lossy(raw).into_owned())
                }
                FieldKind::Tag { .. } => {
                    FieldValue::Text(String::from_utf8_lossy(raw).into_owned())
                }
                FieldKind::Text { .. } => {
                    let value = String::from_utf8_lossy(raw).into_owned();
                    // Text postings name fields by a u16 position; a schema is far smaller.
                    if let (false, Ok(text_pos)) = (field.noindex, u16::try_from(pos)) {
                        analyzer.add(text_pos, &value);
                    }
                    FieldValue::Text(value)
                }
                FieldKind::Vector(params) => {
                    if raw.len() != params.blob_len() {
                        return Err((
                            pos,
                            format!(
                                "Could not add vector with blob size {} (expected size {})",
                                raw.len(),
                                params.blob_len()
                            ),
                        ));
                    }
                    vectors.push((pos, &raw[..]));
                    FieldValue::Vector
                }
            });
        }
        Ok(Parsed {
            values,
            text: analyzer.finish(score, payload),
            vectors,
        })
    }

    /// Counts a document that could not be indexed because of field `pos`.
    fn fail(&self, key: &Bytes, pos: usize, error: String) {
        self.stats.failures.fetch_add(1, Ordering::Relaxed);
        let last = Some((error, key.clone()));
        let mut fields = self.stats.field_errors.lock();
        let field = fields.entry(pos).or_default();
        field.failures += 1;
        field.last_error = last.clone();
        drop(fields);
        *self.stats.last_error.lock() = last;
    }

    /// The failures field `attribute`'s values caused.
    pub fn field_errors(&self, attribute: &str) -> FieldErrors {
        self.def
            .field_index(attribute)
            .and_then(|pos| self.stats.field_errors.lock().get(&pos).cloned())
            .unwrap_or_default()
    }

    /// Drops the document of `key`, if indexed.
    pub fn remove(&self, key: &[u8]) {
        self.data.write().remove(&self.def, key);
    }

    /// Drops every document (FLUSHDB, SWAPDB before re-scanning).
    pub fn clear(&self) {
        let mut data = self.data.write();
        data.docs.clear();
        if let Err(e) = data.text.clear() {
            tracing::error!("FT index {}: {e}", self.def.name);
        }
        for field in &mut data.fields {
            match field {
                FieldIndex::Numeric(n) => n.clear(),
                FieldIndex::Geo(g) => g.clear(),
                FieldIndex::Tag(t) => t.clear(),
                FieldIndex::Text => {}
                FieldIndex::Vector(v) => v.clear(),
            }
        }
    }

    /// The HNSW fields' attributes and vector indexes.
    fn graphs(&self) -> Vec<(String, Arc<VectorIndex>)> {
        let data = self.data.read();
        self.def
            .fields
            .iter()
            .zip(&data.fields)
            .filter_map(|(field, index)| match (&field.kind, index) {
                (FieldKind::Vector(p), FieldIndex::Vector(v))
                    if p.algorithm == VectorAlgorithm::Hnsw =>
                {
                    Some((field.attribute.clone(), Arc::clone(v)))
                }
                _ => None,
            })
            .collect()
    }

    fn graph(&self, attribute: &str) -> Option<Arc<VectorIndex>> {
        self.graphs()
            .into_iter()
            .find_map(|(name, v)| (name == attribute).then_some(v))
    }

    /// The attributes of the HNSW fields.
    pub fn graph_attributes(&self) -> Vec<String> {
        self.graphs().into_iter().map(|(name, _)| name).collect()
    }

    /// A load is about to fill the index: its HNSW workers wait until [`Index::end_restore`]
    /// (a graph they built meanwhile would be replaced by the saved one).
    pub fn begin_restore(&self) {
        if !self.restoring.swap(true, Ordering::SeqCst) {
            for (_, v) in self.graphs() {
                v.hold_graph();
            }
        }
    }

    /// Ends [`Index::begin_restore`]: the workers place whatever no saved graph answers for.
    pub fn end_restore(&self) {
        if self.restoring.swap(false, Ordering::SeqCst) {
            for (_, v) in self.graphs() {
                v.release_graph();
            }
        }
    }

    /// Between [`Index::begin_restore`] and [`Index::end_restore`].
    pub fn restoring(&self) -> bool {
        self.restoring.load(Ordering::SeqCst)
    }

    /// Calls `f` with the image of the HNSW graph of `attribute`, each node named by the key
    /// of the document it holds (`None` if no such field).
    pub fn with_graph_image<R>(
        &self,
        attribute: &str,
        f: impl FnOnce(&GraphImage<'_>) -> R,
    ) -> Option<R> {
        let keys_of = |ids: &[u32]| {
            let data = self.data.read();
            ids.iter()
                .map(|&id| data.docs.get(DocId(id)).map(|d| d.key.clone()))
                .collect()
        };
        self.graph(attribute)?.with_graph_image(keys_of, f)
    }

    /// Puts a saved graph in place of `attribute`'s: each node answers for the document its
    /// key names now if that document's vector is still the node's, bit for bit; the other
    /// documents' vectors are placed by the worker as usual. Returns the nodes adopted.
    pub fn adopt_graph(&self, attribute: &str, image: GraphImage<'_>) -> Result<u64, SearchError> {
        let v = self
            .graph(attribute)
            .ok_or_else(|| SearchError::Other(format!("no HNSW field '{attribute}'")))?;
        let mut data = self.data.write();
        let ids: Vec<Option<u32>> = image
            .keys
            .iter()
            .map(|key| Some(data.docs.id_of(key.as_ref()?)?.0))
            .collect();
        v.adopt_graph(image, &ids, || data.docs.reserve_id())
    }

    /// Whether `key` is indexed.
    pub fn contains(&self, key: &[u8]) -> bool {
        self.data.read().docs.id_of(key).is_some()
    }

    /// How many documents are indexed (cheap, unlike [`Index::info`]).
    /// FT.SYNUPDATE: adds `terms` to synonym group `group`.
    pub fn update_synonyms(&self, group: &str, terms: impl IntoIterator<Item = String>) {
        self.data.write().synonyms.update(group, terms);
    }

    /// FT.SYNDUMP: every synonym term with its group ids.
    pub fn synonyms(&self) -> Vec<(String, Vec<String>)> {
        self.data.read().synonyms.dump()
    }

    /// Every synonym group id with its terms, by id: what FT.SYNUPDATE calls recreate them.
    pub fn synonym_groups(&self) -> Vec<(String, Vec<String>)> {
        let mut groups: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for (term, ids) in self.synonyms() {
            for id in ids {
                groups.entry(id).or_default().push(term.clone());
            }
        }
        groups.into_iter().collect()
    }

    /// Runs `read` on the text index under the index's read lock (FT.SPELLCHECK reads its
    /// terms through [`TextIndex::terms_with_doc_freq`] and [`TextIndex::word`]).
    pub fn with_text<R>(&self, read: impl FnOnce(&TextIndex) -> R) -> R {
        read(&self.data.read().text)
    }

    pub fn num_docs(&self) -> usize {
        self.data.read().docs.len()
    }

    /// Keys of every live document, in doc-id order (FT.DROPINDEX DD).
    pub fn keys(&self) -> Vec<Bytes> {
        let data = self.data.read();
        data.docs
            .live()
            .iter()
            .filter_map(|id| data.docs.get(DocId(id)).map(|d| d.key.clone()))
            .collect()
    }

    /// FT.INFO's figures, the text index's with every write so far.
    pub fn info(&self) -> IndexInfo {
        self.figures(true)
    }

    /// [`Index::info`] with the text index's figures as of its last commit (at most a
    /// commit interval old): for INFO, which monitoring polls and which must not force a
    /// commit each time.
    pub fn info_as_committed(&self) -> IndexInfo {
        self.figures(false)
    }

    fn figures(&self, latest_text: bool) -> IndexInfo {
        // The scan state is read before the figures: a scan seen finished has every document
        // in the snapshot below (`finish_scan` publishes after its last upsert). Read after
        // them, a scan finishing in between showed `indexing 0` with its last chunk missing
        // from `num_docs`.
        let scanning = self.stats.indexing.load(Ordering::Acquire);
        let scanned = if scanning {
            // A scan finishing between the two loads may already show all its progress;
            // `percent_indexed` stays below 1 while `indexing` says 1.
            (self.stats.progress_ppm.load(Ordering::Relaxed) as f64 / 1e6).min(0.999_999)
        } else {
            1.0
        };
        let data = self.data.read();
        // An engine failure shows as an empty text index rather than failing FT.INFO. While
        // a scan still adds documents the text figures are those of the last commit: clients
        // poll FT.INFO until `indexing` drops, and a commit per poll slowed the scan tenfold.
        let view = match scanning || !latest_text {
            true => data.text.last_commit_view(),
            false => data.text.view(),
        };
        let (num_terms, text_bytes) = match view {
            Ok(view) => (view.num_terms().unwrap_or(0), view.memory_bytes()),
            Err(_) => (0, 0),
        };
        let mut info = IndexInfo {
            num_docs: data.docs.len() as u64,
            max_doc_id: u64::from(data.docs.max_id()),
            num_terms,
            num_records: data.text.records(),
            inverted_bytes: text_bytes,
            doc_table_bytes: data.docs.memory_bytes() as u64,
            scanning,
            ..IndexInfo::default()
        };
        for field in &data.fields {
            match field {
                FieldIndex::Numeric(n) => {
                    info.num_records += n.records();
                    info.inverted_bytes += n.memory_bytes() as u64;
                }
                FieldIndex::Geo(g) => {
                    info.num_records += g.records();
                    info.inverted_bytes += g.memory_bytes() as u64;
                }
                FieldIndex::Tag(t) => {
                    info.num_records += t.records();
                    info.tag_overhead_bytes += t.memory_bytes() as u64;
                }
                FieldIndex::Text => {}
                FieldIndex::Vector(v) => {
                    info.num_records += v.len() as u64;
                    info.vectors += v.len() as u64;
                    let pending = v.pending_len();
                    info.vectors_pending += pending;
                    info.busy_graph_workers += u64::from(pending > 0);
                    info.vectors_marked_deleted += v.marked_deleted();
                    info.vector_index_bytes += v.memory_bytes() as u64;
                }
            }
        }
        // Queries answer pending vectors exactly (correct, only slower), but clients polling
        // `indexing` until 0 expect the index at full speed then.
        info.indexing = scanning || info.vectors_pending > 0;
        let in_graph = if info.vectors_pending > 0 {
            let share = 1.0 - info.vectors_pending as f64 / info.vectors.max(1) as f64;
            share.clamp(0.0, 0.999_999)
        } else {
            1.0
        };
        info.percent_indexed = scanned.min(in_graph);
        info
    }

    /// Every document matching `query`, in RediSearch's default order (text score, then
    /// ascending doc id). A KNN query returns at most its K nearest documents among those
    /// passing its filter, each with its distance in [`Hit::distances`].
    pub fn search(&self, query: &Query, options: &SearchOptions) -> Result<Vec<Hit>, SearchError> {
        self.stats.uses.fetch_add(1, Ordering::Relaxed);
        let data = self.data.read();
        super::exec::search(&self.def, &data, query, options)
    }

    /// FT.PROFILE: every node of `filter`'s tree evaluated on its own (see [`NodeStats`]).
    pub fn profile(
        &self,
        filter: &QueryNode,
        options: &SearchOptions,
    ) -> Result<NodeStats, SearchError> {
        let data = self.data.read();
        super::exec::profile(&self.def, &data, filter, options)
    }

    /// Every indexed TEXT word (stems left out) with how many documents have it, in term
    /// order: the dictionary FT.SPELLCHECK suggests from.
    pub fn terms_with_doc_freq(&self) -> Result<Vec<(String, u64)>, SearchError> {
        self.data.read().text.view()?.terms_with_doc_freq()
    }

    /// The value of attribute `attribute` of each hit, as SORTBY compares them (`None`:
    /// the document has no value for it). Numeric fields compare as numbers, others as
    /// strings (lower-cased unless the field is UNF). A name that is not a schema field
    /// but a yielded distance of the hit (KNN score field, `$YIELD_DISTANCE_AS`) sorts by
    /// that distance.
    pub fn sort_keys(&self, hits: &[Hit], attribute: &str) -> Vec<Option<SortKey>> {
        let Some(pos) = self.def.field_index(attribute) else {
            return hits
                .iter()
                .map(|h| {
                    h.distances
                        .iter()
                        .find(|(name, _)| name == attribute)
                        .map(|&(_, d)| SortKey::Num(d))
                })
                .collect();
        };
        let unf = self.def.fields[pos].unf;
        let data = self.data.read();
        hits.iter()
            .map(|h| {
                let doc = data.docs.get(h.id)?;
                match doc.values.get(pos)?.as_ref()? {
                    FieldValue::Number(n) => Some(SortKey::Num(*n)),
                    // Points sort by their text as written (never normalised).
                    FieldValue::Geo(_, s) => Some(SortKey::Str(s.clone())),
                    FieldValue::Text(s) if unf => Some(SortKey::Str(s.clone())),
                    FieldValue::Text(s) => Some(SortKey::Str(s.to_lowercase())),
                    FieldValue::Vector => None,
                }
            })
            .collect()
    }

    /// FT.TAGVALS: the distinct normalised values of TAG field `attribute`.
    pub fn tag_values(&self, attribute: &str) -> Result<Vec<String>, SearchError> {
        let pos = self
            .def
            .field_index(attribute)
            .ok_or_else(|| SearchError::other("No such field"))?;
        match &self.data.read().fields[pos] {
            FieldIndex::Tag(t) => Ok(t.values()),
            _ => Err(SearchError::other("Not a tag field")),
        }
    }

    /// Marks the index dropped (FT.DROPINDEX): a running backfill stops.
    pub fn mark_dropped(&self) {
        self.dropped.store(true, Ordering::SeqCst);
    }

    /// Dropped, or replaced by FT.ALTER.
    pub fn is_dropped(&self) -> bool {
        self.dropped.load(Ordering::SeqCst)
    }

    /// Starts a (re-)scan: FT.INFO shows `indexing` from now on. Returns the scan's ticket
    /// for [`Index::scan_current`] / [`Index::finish_scan`]; an older scan stops.
    pub fn begin_scan(&self) -> u64 {
        let ticket = self.scan_generation.fetch_add(1, Ordering::SeqCst) + 1;
        self.stats.progress_ppm.store(0, Ordering::Relaxed);
        self.stats.indexing.store(true, Ordering::Relaxed);
        ticket
    }

    /// Whether the scan holding `ticket` should go on (the index is live and no newer scan
    /// replaced it).
    pub fn scan_current(&self, ticket: u64) -> bool {
        !self.dropped.load(Ordering::SeqCst)
            && self.scan_generation.load(Ordering::SeqCst) == ticket
    }

    /// Ends the scan holding `ticket`, if it is still the current one.
    pub fn finish_scan(&self, ticket: u64) {
        if self.scan_current(ticket) {
            self.stats.progress_ppm.store(1_000_000, Ordering::Relaxed);
            // Release: whoever sees the scan finished sees every document it indexed.
            self.stats.indexing.store(false, Ordering::Release);
        }
    }
}

impl Data {
    /// Removes `key`'s document from the table and every field index.
    fn remove(&mut self, def: &IndexDef, key: &[u8]) {
        let Some((id, doc)) = self.docs.remove(key) else {
            return;
        };
        self.text.remove(id);
        for ((field, index), value) in def.fields.iter().zip(&mut self.fields).zip(&doc.values) {
            match (index, value) {
                (FieldIndex::Numeric(n), Some(FieldValue::Number(v))) => n.remove(id, *v),
                (FieldIndex::Geo(g), Some(FieldValue::Geo(p, _))) => g.remove(id, *p),
                (FieldIndex::Tag(t), Some(FieldValue::Text(s))) => t.remove(id, &tags_of(field, s)),
                (FieldIndex::Vector(v), Some(FieldValue::Vector)) => v.remove(id),
                _ => {}
            }
        }
    }

    /// Adds document `id` (already in the table) to the field indexes. A vector the vector
    /// index refuses fails it, with the field's position (the caller then removes the
    /// document again).
    fn add_postings(
        &mut self,
        def: &IndexDef,
        id: DocId,
        text: Analyzed,
        vectors: &[(usize, &[u8])],
    ) -> Result<(), (usize, SearchError)> {
        let Data {
            docs,
            fields,
            text: text_index,
            ..
        } = self;
        let Some(doc) = docs.get(id) else {
            return Ok(());
        };
        let first_text = def
            .fields
            .iter()
            .position(|f| matches!(f.kind, FieldKind::Text { .. }))
            .unwrap_or(0);
        text_index.insert(id, text).map_err(|e| (first_text, e))?;
        for ((field, index), value) in def.fields.iter().zip(fields.iter_mut()).zip(&doc.values) {
            if field.noindex {
                continue;
            }
            match (index, value) {
                (FieldIndex::Numeric(n), Some(FieldValue::Number(v))) => n.insert(id, *v),
                (FieldIndex::Geo(g), Some(FieldValue::Geo(p, _))) => g.insert(id, *p),
                (FieldIndex::Tag(t), Some(FieldValue::Text(s))) => t.insert(id, &tags_of(field, s)),
                _ => {}
            }
        }
        for (pos, blob) in vectors {
            if let Some(FieldIndex::Vector(v)) = fields.get(*pos) {
                v.insert(id, blob).map_err(|e| (*pos, e))?;
            }
        }
        Ok(())
    }
}

/// The tags a TAG field's value holds (none for other fields).
fn tags_of(field: &FieldDef, value: &str) -> Vec<String> {
    match &field.kind {
        FieldKind::Tag {
            separator,
            case_sensitive,
            ..
        } => tag::split(value, *separator, *case_sensitive, field.index_empty),
        _ => Vec::new(),
    }
}

/// Builders for unit tests of the search engine: definitions and hashes made by hand.
#[cfg(test)]
pub(crate) mod testing {
    use bytes::Bytes;

    use crate::keyspace::value::{HashLimits, HashValue};
    use crate::search::{FieldDef, FieldKind, IndexDef, Metric, VectorAlgorithm, VectorParams};

    pub fn field(name: &str, kind: FieldKind) -> FieldDef {
        FieldDef {
            identifier: Bytes::from(name.to_string()),
            attribute: name.to_string(),
            kind,
            sortable: false,
            unf: false,
            noindex: false,
            index_missing: false,
            index_empty: false,
        }
    }

    pub fn text(name: &str) -> FieldDef {
        field(
            name,
            FieldKind::Text {
                weight: 1.0,
                nostem: false,
                phonetic: None,
                with_suffix_trie: false,
            },
        )
    }

    pub fn tag(name: &str) -> FieldDef {
        field(
            name,
            FieldKind::Tag {
                separator: b',',
                case_sensitive: false,
                with_suffix_trie: false,
            },
        )
    }

    pub fn numeric(name: &str) -> FieldDef {
        field(name, FieldKind::Numeric)
    }

    pub fn vector(name: &str, algorithm: VectorAlgorithm, dim: usize, metric: Metric) -> FieldDef {
        field(
            name,
            FieldKind::Vector(VectorParams::new(algorithm, dim, metric)),
        )
    }

    /// An index over keys starting with `doc:`.
    pub fn def(fields: Vec<FieldDef>) -> IndexDef {
        IndexDef {
            prefixes: vec![Bytes::from_static(b"doc:")],
            fields,
            ..IndexDef::new("idx")
        }
    }

    pub fn hash(pairs: &[(&str, &[u8])]) -> HashValue {
        let mut h = HashValue::default();
        for (f, v) in pairs {
            h.insert(
                Bytes::from(f.to_string()),
                Bytes::copy_from_slice(v),
                &HashLimits::default(),
            );
        }
        h
    }

    pub fn blob(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use crate::search::expr::Expr;
    use crate::search::query::QueryNode;

    fn key(k: &str) -> Bytes {
        Bytes::from(k.to_string())
    }

    fn all(index: &Index) -> Vec<String> {
        let query = Query {
            filter: QueryNode::All,
            knn: None,
        };
        let hits = index.search(&query, &SearchOptions::default());
        hits.expect("search")
            .iter()
            .map(|h| String::from_utf8_lossy(&h.key).into_owned())
            .collect()
    }

    #[test]
    fn filter_decides_coverage_by_alias_key_and_field_ttl() {
        let mut n = numeric("n");
        n.identifier = Bytes::from_static(b"raw_n");
        let mut d = def(vec![n]);
        let text = "@n > 1 && startswith(@__key, 'doc:a') && !exists(@gone)";
        d.filter_expr = Some(Expr::parse(text).expect("filter"));
        let index = Index::new(d).expect("index");
        index.upsert(&key("doc:a1"), &hash(&[("raw_n", b"5")]), None, 0);
        index.upsert(&key("doc:b1"), &hash(&[("raw_n", b"5")]), None, 0);
        index.upsert(&key("doc:a2"), &hash(&[("raw_n", b"0")]), None, 0);
        assert_eq!(all(&index), ["doc:a1"]);
        // Stops matching: leaves the index, and it is no indexing failure.
        index.upsert(&key("doc:a1"), &hash(&[("raw_n", b"1")]), None, 0);
        assert!(all(&index).is_empty());
        assert_eq!(index.stats.failures.load(Ordering::Relaxed), 0);
        // A field whose TTL passed is missing to the filter as to the index.
        let mut h = hash(&[("raw_n", b"2"), ("gone", b"x")]);
        h.set_field_expire(b"gone", 1_000);
        index.upsert(&key("doc:a1"), &h, None, 500);
        assert!(all(&index).is_empty());
        index.upsert(&key("doc:a1"), &h, None, 2_000);
        assert_eq!(all(&index), ["doc:a1"]);
    }

    #[test]
    fn upsert_reindexes_under_a_fresh_id_and_remove_drops() {
        let index = Index::new(def(vec![text("t"), numeric("n")])).expect("index");
        index.upsert(
            &key("doc:1"),
            &hash(&[("t", b"hello"), ("n", b"1")]),
            None,
            0,
        );
        index.upsert(&key("doc:2"), &hash(&[("other", b"x")]), None, 0);
        // A hash without any schema field is still a document.
        assert_eq!(all(&index), ["doc:1", "doc:2"]);
        index.upsert(&key("doc:1"), &hash(&[("t", b"bye"), ("n", b"2")]), None, 0);
        assert_eq!(all(&index), ["doc:2", "doc:1"]);
        let info = index.info();
        assert_eq!((info.num_docs, info.max_doc_id), (2, 3));
        assert_eq!(info.num_terms, 1);
        assert_eq!(info.num_records, 2);
        assert_eq!(
            index.terms_with_doc_freq(),
            Ok(vec![("bye".to_string(), 1)])
        );
        index.remove(b"doc:2");
        assert_eq!(all(&index), ["doc:1"]);
        assert_eq!(index.keys(), [key("doc:1")]);
        index.clear();
        assert!(all(&index).is_empty());
        assert_eq!(index.info().num_records, 0);
    }

    #[test]
    fn a_bad_numeric_drops_the_whole_document() {
        let index = Index::new(def(vec![text("t"), numeric("n")])).expect("index");
        index.upsert(
            &key("doc:1"),
            &hash(&[("t", b"hello"), ("n", b"1")]),
            None,
            0,
        );
        index.upsert(
            &key("doc:1"),
            &hash(&[("t", b"hello"), ("n", b"aaaa")]),
            None,
            0,
        );
        assert!(all(&index).is_empty());
        assert_eq!(index.info().num_terms, 0);
        assert_eq!(index.stats.failures.load(Ordering::Relaxed), 1);
        let last = Some(("Invalid numeric value: 'aaaa'".to_string(), key("doc:1")));
        assert_eq!(*index.stats.last_error.lock(), last);
        assert_eq!(
            index.field_errors("n"),
            FieldErrors {
                failures: 1,
                last_error: last
            }
        );
        assert_eq!(index.field_errors("t"), FieldErrors::default());
    }

    #[test]
    fn expired_hash_fields_are_absent() {
        let index = Index::new(def(vec![numeric("n")])).expect("index");
        let mut h = hash(&[("n", b"5")]);
        h.set_field_expire(b"n", 1_000);
        index.upsert(&key("doc:1"), &h, None, 2_000);
        let hits = vec![Hit {
            id: DocId(1),
            key: key("doc:1"),
            score: 1.0,
            explanation: None,
            distances: Vec::new(),
            terms: Vec::new(),
        }];
        assert_eq!(index.sort_keys(&hits, "n"), vec![None]);
        index.upsert(&key("doc:1"), &h, None, 500);
        let hits = vec![Hit {
            id: DocId(2),
            ..hits[0].clone()
        }];
        assert_eq!(index.sort_keys(&hits, "n"), vec![Some(SortKey::Num(5.0))]);
    }

    #[test]
    fn sort_keys_read_stored_values_and_distances() {
        let mut title = text("title");
        title.noindex = true;
        title.sortable = true;
        let index = Index::new(def(vec![title, tag("t")])).expect("index");
        index.upsert(
            &key("doc:1"),
            &hash(&[("title", b"Zebra"), ("t", b"A,b")]),
            None,
            0,
        );
        let hit = Hit {
            id: DocId(1),
            key: key("doc:1"),
            score: 1.0,
            explanation: None,
            distances: vec![("dist".into(), 0.5)],
            terms: Vec::new(),
        };
        let hits = [hit];
        assert_eq!(
            index.sort_keys(&hits, "title"),
            vec![Some(SortKey::Str("zebra".into()))]
        );
        assert_eq!(
            index.sort_keys(&hits, "t"),
            vec![Some(SortKey::Str("a,b".into()))]
        );
        assert_eq!(
            index.sort_keys(&hits, "dist"),
            vec![Some(SortKey::Num(0.5))]
        );
        assert_eq!(index.sort_keys(&hits, "nope"), vec![None]);
        assert_eq!(
            index.tag_values("t"),
            Ok(vec!["a".to_string(), "b".to_string()])
        );
        assert!(index.tag_values("title").is_err());
    }

    #[test]
    fn scans_track_the_current_ticket() {
        let index = Index::new(def(vec![])).expect("index");
        assert_eq!(index.stats.progress_ppm.load(Ordering::Relaxed), 1_000_000);
        let first = index.begin_scan();
        assert!(index.stats.indexing.load(Ordering::Relaxed));
        let second = index.begin_scan();
        assert!(!index.scan_current(first));
        index.finish_scan(first);
        assert!(index.stats.indexing.load(Ordering::Relaxed));
        index.finish_scan(second);
        assert!(!index.stats.indexing.load(Ordering::Relaxed));
        let third = index.begin_scan();
        index.mark_dropped();
        assert!(!index.scan_current(third));
    }
}
