//! Evaluation of a parsed [`Query`] against one index's data: each query node becomes the
//! bitmap of live doc ids it matches, a KNN clause then takes the nearest K of the filter's
//! documents, and the hits come out in RediSearch's default order.
//!
//! Scoring: a query with text terms scores each hit with the request's scorer
//! ([`super::score`], TFIDF by default) over the hit's [`Match`]: a text term is the union
//! of the dictionary terms it stands for (the word and, unless VERBATIM or quoted, its
//! synonyms, its phonetic term on PHONETIC fields and its stem expansions; a prefix's,
//! suffix's or infix's expansions), a phrase the intersection of its
//! words, AND an intersection and OR a union of the children that matched, `~` its child, a
//! numeric range a virtual match; tags, vector clauses and `-` add nothing (their postings
//! carry no term statistics). Without text every hit scores 1.0. Order: score descending,
//! then doc id ascending — also for KNN, whose results are not distance-ordered unless the
//! caller sorts them (SORTBY).
//!
//! Runs under the index's read lock; it must not touch the keyspace.

use std::borrow::Cow;
use std::collections::HashMap;
use std::time::Instant;

use roaring::RoaringBitmap;

use super::document::FieldValue;
use super::fields::geo;
use super::fields::text::{TermPostings, TextView, WordStemmer, phonetic_term};
use super::index::{Data, FieldIndex, Hit, NodeStats, SearchOptions};
use super::query::{KnnClause, Query, QueryNode, TextTerm, wildcard_match};
use super::score::{self, Collection, DocFigures, Match};
use super::vector::VectorIndex;
use super::{Deadline, DocId, FieldKind, IndexDef, SearchError};

/// Whether `node` (its attributes aside) is an intersection or union of two clauses or
/// more: the only roots whose slop may differ from 1.
fn aggregate_root(node: &QueryNode) -> bool {
    match node {
        QueryNode::Attributed { node, .. } => aggregate_root(node),
        QueryNode::And(children) | QueryNode::Or(children) => children.len() > 1,
        _ => false,
    }
}

/// Runs `query` over `data`.
pub(super) fn search(
    def: &IndexDef,
    data: &Data,
    query: &Query,
    options: &SearchOptions,
) -> Result<Vec<Hit>, SearchError> {
    let mut eval = Eval::new(def, data, options)?;
    eval.check_phonetic(&query.filter)?;
    // Documents whose key expired but is not reclaimed yet are filtered out, like INKEYS.
    let unexpired = data.docs.live_at(options.now_ms);
    let some_expired = matches!(unexpired, Cow::Owned(_));
    // `*` without INKEYS filters nothing: a KNN then searches the vector index unfiltered
    // (its graph path) and the filter bitmap is never built.
    let unfiltered = query.filter == QueryNode::All && options.in_keys.is_none() && !some_expired;
    let mut ids = match (unfiltered, &query.knn) {
        (true, Some(_)) => RoaringBitmap::new(),
        _ => eval.node(&query.filter)?,
    };
    if some_expired {
        ids &= unexpired.as_ref();
    }
    if let Some(keys) = &options.in_keys {
        ids &= keys
            .iter()
            .filter_map(|k| data.docs.id_of(k))
            .map(|id| id.0)
            .collect::<RoaringBitmap>();
    }
    let mut yields = std::mem::take(&mut eval.yields);
    let ids: Vec<u32> = match &query.knn {
        None => ids.iter().collect(),
        Some(knn) => {
            let nearest = eval.knn(knn, (!unfiltered).then_some(&ids))?;
            let name = knn.score_field();
            let mut ids = Vec::with_capacity(nearest.len());
            for (id, distance) in nearest {
                yields.entry(id).or_default().push((name.clone(), distance));
                ids.push(id);
            }
            ids.sort_unstable();
            ids
        }
    };
    let scored = has_text(&query.filter);
    // Offsets are read only when a slop other than 1 is possible: a root of two clauses
    // or more under a scorer that divides by it.
    let by_slop = scored && options.scorer.divides_by_slop() && aggregate_root(&query.filter);
    if by_slop {
        eval.gather_offsets(&query.filter)?;
    }
    let collection = Collection {
        num_docs: data.docs.len() as u64,
        total_len: data.text.total_len(),
    };
    // Building hits is part of gathering, and stops on the deadline; but when matching
    // already stopped on it, the few documents it found all become hits (as RediSearch
    // passes on whatever its iterators read), unless the query is to fail anyway.
    let deadline = &options.deadline;
    let matching_cut = deadline.reached();
    let mut hits: Vec<Hit> = ids
        .into_iter()
        .take_while(|_| match matching_cut {
            true => !deadline.abandoned(),
            false => !deadline.reached(),
        })
        .filter_map(|id| {
            let doc = data.docs.get(DocId(id))?;
            let (score, explanation) = match scored {
                true => {
                    let stats = data.text.doc_stats(DocId(id));
                    let figures = DocFigures {
                        len: stats.map_or(0, |s| s.len),
                        slop: match by_slop {
                            true => eval.slop(&query.filter, DocId(id)),
                            false => 1,
                        },
                        max_freq: stats.map_or(0, |s| s.max_freq),
                        score: stats.map_or(def.score, |s| s.score),
                        payload: stats.and_then(|s| s.payload.as_deref()),
                    };
                    let m = eval.matched(&query.filter, DocId(id));
                    let m = m.unwrap_or(Match::Union(Vec::new()));
                    let payload = options.payload.as_deref();
                    let (score, explanation) =
                        score::score(options.scorer, &m, &figures, &collection, payload);
                    (score, options.explain.then_some(explanation))
                }
                false => (1.0, None),
            };
            let mut terms = Vec::new();
            if options.matched_terms {
                eval.matched_terms(&query.filter, DocId(id), &mut terms);
            }
            Some(Hit {
                id: DocId(id),
                key: doc.key.clone(),
                score,
                explanation,
                distances: yields.remove(&id).unwrap_or_default(),
                terms,
            })
        })
        .collect();
    if scored {
        // Stable: equal scores keep ascending doc ids.
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
    }
    Ok(hits)
}

/// FT.PROFILE: each node of `node`'s tree evaluated on its own, timed, with its match count.
pub(super) fn profile(
    def: &IndexDef,
    data: &Data,
    node: &QueryNode,
    options: &SearchOptions,
) -> Result<NodeStats, SearchError> {
    Eval::new(def, data, options)?.profile(node)
}

/// Whether `node` has text terms that score.
fn has_text(node: &QueryNode) -> bool {
    match node {
        QueryNode::Text { .. } => true,
        QueryNode::And(children) | QueryNode::Or(children) => children.iter().any(has_text),
        QueryNode::Optional(child) | QueryNode::Attributed { node: child, .. } => has_text(child),
        _ => false,
    }
}

/// Whether one occurrence per list — word positions, one list per query term — can be
/// picked with at most `slop` other words between them, in list order when `in_order`
/// (RediSearch: span = last − first − (terms − 1) ≤ slop). Positions run on across a
/// document's fields, so occurrences in different fields combine, as in RediSearch.
fn within_slop(lists: &[&[u32]], slop: u32, in_order: bool) -> bool {
    if lists.is_empty() {
        return true;
    }
    let k = lists.len() as i64;
    let fits = |lo: u32, hi: u32| i64::from(hi) - i64::from(lo) - (k - 1) <= i64::from(slop);
    let sorted: Vec<Vec<u32>> = lists
        .iter()
        .map(|l| {
            let mut at = l.to_vec();
            at.sort_unstable();
            at
        })
        .collect();
    if in_order {
        // From each start, the earliest following occurrence of each next term.
        return sorted[0].iter().any(|&start| {
            let mut prev = start;
            sorted[1..].iter().all(|at| {
                let next = at.partition_point(|&p| p <= prev);
                at.get(next).is_some_and(|&p| {
                    prev = p;
                    true
                })
            }) && fits(start, prev)
        });
    }
    // The narrowest windows holding every term: slide over all occurrences in order.
    let mut all: Vec<(u32, usize)> = sorted
        .iter()
        .enumerate()
        .flat_map(|(i, at)| at.iter().map(move |&p| (p, i)))
        .collect();
    all.sort_unstable();
    let mut counts = vec![0usize; sorted.len()];
    let (mut covered, mut lo) = (0, 0);
    for hi in 0..all.len() {
        counts[all[hi].1] += 1;
        if counts[all[hi].1] == 1 {
            covered += 1;
        }
        while covered == sorted.len() {
            if fits(all[lo].0, all[hi].0) {
                return true;
            }
            counts[all[lo].1] -= 1;
            if counts[all[lo].1] == 0 {
                covered -= 1;
            }
            lo += 1;
        }
    }
    false
}

/// (frequency, document frequency) of a text node's terms, by doc id.
type TermStats = HashMap<u32, Vec<(u32, u64)>, foldhash::fast::RandomState>;

struct Eval<'a> {
    def: &'a IndexDef,
    data: &'a Data,
    text: TextView<'a>,
    /// The query language's stemmer (`None`: VERBATIM, or a language without one).
    stemmer: Option<WordStemmer>,
    /// VERBATIM: words stand for themselves only.
    verbatim: bool,
    /// INFIELDS as field positions.
    in_fields: Option<Vec<u16>>,
    /// SLOP and INORDER.
    slop: Option<u32>,
    in_order: bool,
    /// The postings of each text node's terms (a phrase's words), by node address.
    terms: HashMap<*const QueryNode, Vec<TermPostings>>,
    /// For scoring, the (frequency, document frequency) of each text node's terms in each
    /// document having them, in term order, by node address then doc id: one lookup per
    /// scored document, where looking each term up would cost one per expansion (a
    /// prefix has up to 200).
    term_stats: HashMap<*const QueryNode, TermStats>,
    /// Distances yielded by VECTOR_RANGE clauses, by doc id.
    yields: HashMap<u32, Vec<(String, f64)>>,
    /// The sorted word offsets of each text node's terms, by node address then doc id:
    /// filled by [`Eval::gather_offsets`] when the scorer divides by the slop.
    offsets: HashMap<*const QueryNode, HashMap<u32, Vec<u32>>>,
    /// The query's budget: a node cut short matches a subset of its documents.
    deadline: &'a Deadline,
}

impl<'a> Eval<'a> {
    fn new(
        def: &'a IndexDef,
        data: &'a Data,
        options: &'a SearchOptions,
    ) -> Result<Eval<'a>, SearchError> {
        let in_fields = options.in_fields.as_ref().map(|names| {
            names
                .iter()
                .filter_map(|n| def.field_index(n))
                .filter_map(|p| u16::try_from(p).ok())
                .collect()
        });
        let language = options.language.as_deref().unwrap_or(&def.language);
        Ok(Eval {
            def,
            data,
            text: data.text.view()?,
            stemmer: (!options.verbatim)
                .then(|| WordStemmer::new(language))
                .flatten(),
            verbatim: options.verbatim,
            in_fields,
            slop: options.slop,
            in_order: options.in_order,
            terms: HashMap::new(),
            term_stats: HashMap::new(),
            yields: HashMap::new(),
            offsets: HashMap::new(),
            deadline: &options.deadline,
        })
    }

    fn profile(&mut self, node: &QueryNode) -> Result<NodeStats, SearchError> {
        let start = Instant::now();
        let matches = self.node(node)?.len();
        let time = start.elapsed();
        let children = match node {
            QueryNode::And(children) | QueryNode::Or(children) => children
                .iter()
                .map(|c| self.profile(c))
                .collect::<Result<_, _>>()?,
            QueryNode::Not(child)
            | QueryNode::Optional(child)
            | QueryNode::Attributed { node: child, .. } => vec![self.profile(child)?],
            _ => Vec::new(),
        };
        Ok(NodeStats {
            matches,
            time,
            children,
        })
    }

    fn live(&self) -> RoaringBitmap {
        self.data.docs.live().clone()
    }

    fn node(&mut self, node: &QueryNode) -> Result<RoaringBitmap, SearchError> {
        Ok(match node {
            QueryNode::All => self.live(),
            // Every document matches; the child is still evaluated so that the documents
            // having it score by it (its postings are what `matched` reads).
            QueryNode::Optional(child) => {
                self.node(child)?;
                self.live()
            }
            QueryNode::Nothing => RoaringBitmap::new(),
            QueryNode::And(children) => {
                let mut children = children.iter();
                let mut acc = match children.next() {
                    Some(first) => self.node(first)?,
                    None => return Ok(self.live()),
                };
                for child in children {
                    if acc.is_empty() {
                        break;
                    }
                    acc &= self.node(child)?;
                }
                let (QueryNode::And(all), false) = (node, acc.is_empty()) else {
                    return Ok(acc);
                };
                match self.slop.is_some() || self.in_order {
                    true => self.within_range(all, acc)?,
                    false => acc,
                }
            }
            QueryNode::Or(children) => {
                let mut acc = RoaringBitmap::new();
                for child in children {
                    acc |= self.node(child)?;
                }
                acc
            }
            QueryNode::Not(child) => {
                let child = self.node(child)?;
                // A child cut short matched too few documents, so its complement would
                // hold documents the query does not match: keep none instead.
                match self.deadline.reached() {
                    true => RoaringBitmap::new(),
                    false => self.live() - child,
                }
            }
            // `$phonetic` is read by the text term it is attached to, as in RediSearch.
            QueryNode::Attributed { node: inner, attrs } => match inner.as_ref() {
                QueryNode::Text { fields, term } => {
                    self.text(inner, fields.as_deref(), term, attrs.phonetic)?
                }
                _ => self.node(inner)?,
            },
            QueryNode::Text { fields, term } => self.text(node, fields.as_deref(), term, None)?,
            QueryNode::Tag { field, patterns } => {
                let Some((FieldIndex::Tag(tags), kind)) = self.indexed(field) else {
                    return Ok(RoaringBitmap::new());
                };
                let case_sensitive = matches!(
                    kind,
                    FieldKind::Tag {
                        case_sensitive: true,
                        ..
                    }
                );
                patterns.iter().fold(RoaringBitmap::new(), |acc, p| {
                    acc | tags.matching(p, case_sensitive)
                })
            }
            QueryNode::Numeric { field, min, max } => match self.indexed(field) {
                Some((FieldIndex::Numeric(n), _)) => n.range(*min, *max, self.deadline),
                _ => RoaringBitmap::new(),
            },
            QueryNode::Geo { field, filter } => match self.indexed(field) {
                Some((FieldIndex::Geo(g), _)) => g.within(filter),
                _ => RoaringBitmap::new(),
            },
            QueryNode::VectorRange {
                field,
                radius,
                blob,
                yield_as,
                epsilon,
                ..
            } => {
                let vectors = self.vectors(field)?;
                let query = vectors.query_vector(blob)?;
                let mut ids = RoaringBitmap::new();
                let within = vectors.range(&query, *radius, *epsilon, None, self.deadline);
                for (id, distance) in within {
                    if !self.data.docs.live().contains(id.0) {
                        continue;
                    }
                    ids.insert(id.0);
                    if let Some(name) = yield_as {
                        let yielded = self.yields.entry(id.0).or_default();
                        yielded.push((name.clone(), distance));
                    }
                }
                ids
            }
            QueryNode::IsMissing(field) => match self.def.field_index(field) {
                Some(pos) => self
                    .data
                    .docs
                    .live()
                    .iter()
                    .take_while(|_| !self.deadline.reached())
                    .filter(|&id| {
                        self.data
                            .docs
                            .get(DocId(id))
                            .is_some_and(|d| d.values.get(pos).is_some_and(Option::is_none))
                    })
                    .collect(),
                None => RoaringBitmap::new(),
            },
        })
    }

    /// The documents text node `node` (`term` in the TEXT fields named `fields`) matches,
    /// keeping the postings of its terms for scoring. `phonetic`: its `$phonetic` attribute.
    fn text(
        &mut self,
        node: &QueryNode,
        fields: Option<&[String]>,
        term: &TextTerm,
        phonetic: Option<bool>,
    ) -> Result<RoaringBitmap, SearchError> {
        let fields = self.text_fields(fields);
        let fields = fields.as_deref();
        let (ids, postings) = match term {
            TextTerm::Phrase(words) => {
                let postings = words
                    .iter()
                    .map(|w| self.text.term(w, fields))
                    .collect::<Result<Vec<_>, _>>()?;
                (self.text.phrase(words, fields)?, postings)
            }
            _ => {
                let postings = self
                    .expansions(term, fields, phonetic)?
                    .iter()
                    .take_while(|_| !self.deadline.reached())
                    .map(|t| self.text.term(t, fields))
                    .collect::<Result<Vec<_>, _>>()?;
                let ids = postings
                    .iter()
                    .fold(RoaringBitmap::new(), |acc, p| acc | &p.docs);
                (ids, postings)
            }
        };
        let mut stats = TermStats::default();
        for p in &postings {
            for (&id, &freq) in &p.freqs {
                stats.entry(id).or_default().push((freq, p.doc_freq));
            }
        }
        self.term_stats.insert(node as *const QueryNode, stats);
        self.terms.insert(node as *const QueryNode, postings);
        Ok(ids)
    }

    /// Refuses a `$phonetic` attribute on a word whose fields are not PHONETIC anywhere in
    /// `node`, also where evaluation would stop early (RediSearch expands, and so checks,
    /// the whole query first). VERBATIM expands nothing and checks nothing.
    fn check_phonetic(&self, node: &QueryNode) -> Result<(), SearchError> {
        match node {
            QueryNode::Attributed { node: inner, attrs } => match inner.as_ref() {
                QueryNode::Text {
                    fields,
                    term: TextTerm::Word(_),
                } if !self.verbatim => {
                    let fields = self.text_fields(fields.as_deref());
                    self.phonetic(fields.as_deref(), attrs.phonetic).map(drop)
                }
                _ => self.check_phonetic(inner),
            },
            QueryNode::And(children) | QueryNode::Or(children) => children
                .iter()
                .try_for_each(|child| self.check_phonetic(child)),
            QueryNode::Not(child) | QueryNode::Optional(child) => self.check_phonetic(child),
            _ => Ok(()),
        }
    }

    /// Whether a word matched in TEXT positions `fields` (`None`: any) also stands for its
    /// phonetic term: as its `$phonetic` attribute `asked` says, else when one of the
    /// fields is PHONETIC. Asking on fields none of which is PHONETIC is RediSearch's error.
    fn phonetic(&self, fields: Option<&[u16]>, asked: Option<bool>) -> Result<bool, SearchError> {
        let is_phonetic = |pos: usize| {
            matches!(
                self.def.fields.get(pos).map(|f| &f.kind),
                Some(FieldKind::Text {
                    phonetic: Some(_),
                    ..
                })
            )
        };
        let any = match fields {
            None => (0..self.def.fields.len()).any(is_phonetic),
            Some(positions) => positions.iter().any(|&p| is_phonetic(usize::from(p))),
        };
        match asked {
            Some(_) if !any => Err(SearchError::other("field does not support phonetics")),
            Some(on) => Ok(on),
            None => Ok(any),
        }
    }

    /// The index of searchable (not NOINDEX) field `attribute`, with its kind.
    fn indexed(&self, attribute: &str) -> Option<(&'a FieldIndex, &'a FieldKind)> {
        let pos = self.def.field_index(attribute)?;
        let field = &self.def.fields[pos];
        (!field.noindex).then(|| (&self.data.fields[pos], &field.kind))
    }

    fn vectors(&self, attribute: &str) -> Result<&'a VectorIndex, SearchError> {
        match self.indexed(attribute) {
            Some((FieldIndex::Vector(v), _)) => Ok(v),
            _ => Err(SearchError::other(format!(
                "Expected a VECTOR field: {attribute}"
            ))),
        }
    }

    /// The TEXT field positions a term may match in: the named ones (all when `None`),
    /// narrowed by INFIELDS. `None`: any TEXT field.
    fn text_fields(&self, named: Option<&[String]>) -> Option<Vec<u16>> {
        let named: Option<Vec<u16>> = named.map(|names| {
            names
                .iter()
                .filter_map(|n| self.def.field_index(n))
                .filter(|&p| matches!(self.def.fields[p].kind, FieldKind::Text { .. }))
                .filter_map(|p| u16::try_from(p).ok())
                .collect()
        });
        match (named, &self.in_fields) {
            (None, None) => None,
            (Some(named), None) => Some(named),
            (None, Some(inf)) => Some(inf.clone()),
            (Some(named), Some(inf)) => {
                Some(named.into_iter().filter(|p| inf.contains(p)).collect())
            }
        }
    }

    /// Reads the word offsets of every text node under `node` (after [`Eval::node`] found
    /// their postings), for [`Eval::slop`].
    fn gather_offsets(&mut self, node: &QueryNode) -> Result<(), SearchError> {
        match node {
            QueryNode::Text { fields, .. } => {
                let fields = self.text_fields(fields.as_deref());
                let mut by_doc: HashMap<u32, Vec<u32>> = HashMap::new();
                for p in self
                    .terms
                    .get(&(node as *const QueryNode))
                    .into_iter()
                    .flatten()
                {
                    for (id, at) in self.text.positions(&p.term, fields.as_deref())? {
                        by_doc.entry(id).or_default().extend(at);
                    }
                }
                for offsets in by_doc.values_mut() {
                    offsets.sort_unstable();
                    offsets.dedup();
                }
                self.offsets.insert(node as *const QueryNode, by_doc);
            }
            QueryNode::And(children) | QueryNode::Or(children) => {
                for child in children {
                    self.gather_offsets(child)?;
                }
            }
            QueryNode::Optional(child) | QueryNode::Attributed { node: child, .. } => {
                self.gather_offsets(child)?;
            }
            _ => {}
        }
        Ok(())
    }

    /// The slop TFIDF and BM25 divide document `id`'s score by: RediSearch's minimal offset
    /// delta ([`score::min_offset_delta`]) of the root intersection's children, or of the
    /// root union's children the document matched. Offsets run on across fields, as
    /// RediSearch numbers them.
    fn slop(&self, root: &QueryNode, id: DocId) -> u32 {
        let children: Vec<Option<Vec<u32>>> = match root {
            QueryNode::Attributed { node, .. } => return self.slop(node, id),
            QueryNode::And(children) => children.iter().map(|c| self.offsets_of(c, id)).collect(),
            QueryNode::Or(children) => children
                .iter()
                .filter(|c| self.matched(c, id).is_some())
                .map(|c| self.offsets_of(c, id))
                .collect(),
            _ => return 1,
        };
        let lists: Vec<Option<&[u32]>> = children.iter().map(Option::as_deref).collect();
        score::min_offset_delta(&lists)
    }

    /// The sorted word offsets `node` matched in document `id`; `None` for a node without
    /// words (numeric, tag, geo, negation) or one the document lacks.
    fn offsets_of(&self, node: &QueryNode, id: DocId) -> Option<Vec<u32>> {
        match node {
            QueryNode::Text { .. } => self
                .offsets
                .get(&(node as *const QueryNode))?
                .get(&id.0)
                .cloned(),
            QueryNode::And(children) | QueryNode::Or(children) => {
                let mut all: Vec<u32> = children
                    .iter()
                    .filter_map(|c| self.offsets_of(c, id))
                    .flatten()
                    .collect();
                all.sort_unstable();
                all.dedup();
                (!all.is_empty()).then_some(all)
            }
            QueryNode::Optional(child) | QueryNode::Attributed { node: child, .. } => {
                self.offsets_of(child, id)
            }
            _ => None,
        }
    }

    /// Keeps the documents of `ids` (matching every child of an intersection) where the
    /// words its text children matched lie within SLOP other words of each other (positions
    /// run on across fields), and with INORDER in the children's order.
    fn within_range(
        &self,
        children: &[QueryNode],
        ids: RoaringBitmap,
    ) -> Result<RoaringBitmap, SearchError> {
        let mut lists = Vec::new();
        for child in children {
            let QueryNode::Text { fields, term } = child else {
                continue;
            };
            let postings = self.terms.get(&(child as *const QueryNode));
            let (false, Some(postings)) = (matches!(term, TextTerm::Phrase(_)), postings) else {
                continue;
            };
            let fields = self.text_fields(fields.as_deref());
            let mut merged: HashMap<u32, Vec<u32>> = HashMap::new();
            for p in postings {
                for (id, at) in self.text.positions(&p.term, fields.as_deref())? {
                    if ids.contains(id) {
                        merged.entry(id).or_default().extend(at);
                    }
                }
            }
            lists.push(merged);
        }
        if lists.len() < 2 {
            return Ok(ids);
        }
        let slop = self.slop.unwrap_or(u32::MAX);
        Ok(ids
            .iter()
            .take_while(|_| !self.deadline.reached())
            .filter(|id| {
                let per_child: Vec<&[u32]> = lists
                    .iter()
                    .map(|l| l.get(id).map_or(&[][..], Vec::as_slice))
                    .collect();
                within_slop(&per_child, slop, self.in_order)
            })
            .collect())
    }

    /// The dictionary terms a (non-phrase) text term in TEXT positions `fields` stands for:
    /// a word, its synonyms and their stem expansions, and its phonetic term (see
    /// [`Eval::phonetic`]; `phonetic` is the term's `$phonetic`) — none of them under
    /// VERBATIM or for an exact word; or a prefix's, suffix's, infix's ... expansions.
    fn expansions(
        &mut self,
        term: &TextTerm,
        fields: Option<&[u16]>,
        phonetic: Option<bool>,
    ) -> Result<Vec<String>, SearchError> {
        let text = &self.text;
        match term {
            TextTerm::Exact(w) => Ok(vec![w.clone()]),
            TextTerm::Word(w) if self.verbatim => Ok(vec![w.clone()]),
            TextTerm::Word(w) => {
                let mut terms: Vec<String> = Vec::new();
                for word in self.data.synonyms.expand(w) {
                    let expanded = match &mut self.stemmer {
                        Some(stemmer) => stemmer.expand(word),
                        None => vec![word.to_string()],
                    };
                    for term in expanded {
                        if !terms.contains(&term) {
                            terms.push(term);
                        }
                    }
                }
                // Right after the word, where RediSearch's expander puts it.
                if self.phonetic(fields, phonetic)?
                    && let Some(code) = phonetic_term(w)
                {
                    terms.insert(1, code);
                }
                Ok(terms)
            }
            TextTerm::Prefix(p) => text.expand_prefix(p),
            TextTerm::Suffix(s) => text.expand_where(|t| t.ends_with(s.as_str())),
            TextTerm::Infix(s) => text.expand_where(|t| t.contains(s.as_str())),
            TextTerm::Wildcard(w) => text.expand_where(|t| wildcard_match(w, t)),
            TextTerm::Fuzzy { word, distance } => text.expand_fuzzy(word, *distance),
            TextTerm::Phrase(_) => Ok(Vec::new()),
        }
    }

    /// The `k` nearest documents among `filter` (all when `None`), by doc id, with distances.
    fn knn(
        &self,
        knn: &KnnClause,
        filter: Option<&RoaringBitmap>,
    ) -> Result<Vec<(u32, f64)>, SearchError> {
        let vectors = self.vectors(&knn.field)?;
        let query = vectors.query_vector(&knn.blob)?;
        if knn.k == 0 || filter.is_some_and(RoaringBitmap::is_empty) {
            return Ok(Vec::new());
        }
        let live = self.data.docs.live();
        // No more than there are candidates: K may be as large as 2^58.
        let candidates = filter.unwrap_or(live).len();
        let k = knn.k.min(usize::try_from(candidates).unwrap_or(usize::MAX));
        Ok(vectors
            .knn(&query, k, knn.ef_runtime, filter, self.deadline)
            .into_iter()
            .filter(|(id, _)| live.contains(id.0))
            .map(|(id, d)| (id.0, d))
            .collect())
    }

    /// Appends the dictionary terms document `id` matched under `node` to `out`, in query
    /// order: each text node's terms the document has (a word's expansions, a phrase's
    /// words), as RediSearch walks its result tree; nothing under `-`.
    fn matched_terms(&self, node: &QueryNode, id: DocId, out: &mut Vec<String>) {
        match node {
            QueryNode::Text { .. } => {
                let postings = self.terms.get(&(node as *const QueryNode));
                for p in postings.into_iter().flatten() {
                    if p.freqs.contains_key(&id.0) {
                        out.push(p.term.clone());
                    }
                }
            }
            QueryNode::And(children) | QueryNode::Or(children) => {
                for child in children {
                    self.matched_terms(child, id, out);
                }
            }
            QueryNode::Optional(child) | QueryNode::Attributed { node: child, .. } => {
                self.matched_terms(child, id, out);
            }
            _ => {}
        }
    }

    /// How document `id` matched `node` (`None`: it did not, or adds nothing to scores).
    fn matched(&self, node: &QueryNode, id: DocId) -> Option<Match> {
        let children = |nodes: &[QueryNode]| -> Vec<Match> {
            nodes.iter().filter_map(|c| self.matched(c, id)).collect()
        };
        match node {
            QueryNode::Text { term, .. } => {
                let stats = self.term_stats.get(&(node as *const QueryNode))?;
                let terms: Vec<Match> = stats
                    .get(&id.0)?
                    .iter()
                    .map(|&(freq, doc_freq)| Match::Term { freq, doc_freq })
                    .collect();
                match term {
                    TextTerm::Phrase(_) => Some(Match::Intersection(terms)),
                    _ => Some(Match::Union(terms)),
                }
            }
            QueryNode::And(nodes) => Some(Match::Intersection(children(nodes))),
            QueryNode::Or(nodes) => {
                let matched = children(nodes);
                (!matched.is_empty()).then_some(Match::Union(matched))
            }
            QueryNode::Optional(child) => self.matched(child, id),
            QueryNode::Attributed { node, attrs } => self
                .matched(node, id)
                .map(|m| Match::Weighted(attrs.weight, Box::new(m))),
            QueryNode::Numeric { field, min, max } => {
                let value = self.def.field_index(field).and_then(|pos| {
                    match self.data.docs.get(id)?.values.get(pos)? {
                        Some(FieldValue::Number(v)) => Some(*v),
                        _ => None,
                    }
                });
                let within = |v: f64| {
                    (v > min.value || (min.inclusive && v == min.value))
                        && (v < max.value || (max.inclusive && v == max.value))
                };
                value.filter(|&v| within(v)).map(|_| Match::Virtual)
            }
            // A point in the circle counts as one matching numeric record, as in RediSearch
            // (whose geo filter is a union of numeric ranges over geohashes).
            QueryNode::Geo { field, filter } => {
                let point = self.def.field_index(field).and_then(|pos| {
                    match self.data.docs.get(id)?.values.get(pos)? {
                        Some(FieldValue::Geo(p, _)) => Some(*p),
                        _ => None,
                    }
                });
                point
                    .filter(|&p| geo::contains(filter, p))
                    .map(|_| Match::Virtual)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::super::index::testing::*;
    use super::super::index::{Index, SearchOptions};
    use super::super::query::{ClauseAttrs, NumBound, TagPattern};
    use super::super::{Metric, VectorAlgorithm};
    use super::*;

    type Fields<'a> = &'a [(&'a str, &'a [u8])];

    /// doc:1..doc:4 with a title, tags, a price and (for some) a body.
    fn sample() -> Index {
        let mut missing = tag("opt");
        missing.index_missing = true;
        let index = Index::new(def(vec![
            text("title"),
            text("body"),
            tag("tags"),
            numeric("price"),
            missing,
        ]))
        .expect("index");
        let docs: [(&str, Fields); 4] = [
            (
                "doc:1",
                &[
                    ("title", b"hello world world"),
                    ("tags", b"red,blue"),
                    ("price", b"10"),
                    ("opt", b"x"),
                ],
            ),
            (
                "doc:2",
                &[
                    ("title", b"goodbye world"),
                    ("body", b"hello hello hello"),
                    ("tags", b"Red"),
                    ("price", b"20"),
                ],
            ),
            (
                "doc:3",
                &[
                    ("title", b"world peace"),
                    ("tags", b"green"),
                    ("price", b"-inf"),
                ],
            ),
            (
                "doc:4",
                &[("title", b"the hello of the world"), ("price", b"30.5")],
            ),
        ];
        for (k, fields) in docs {
            index.upsert(&Bytes::from(k), &hash(fields), None, 0);
        }
        index
    }

    fn word(w: &str) -> QueryNode {
        QueryNode::Text {
            fields: None,
            term: TextTerm::Word(w.into()),
        }
    }

    fn in_field(f: &str, term: TextTerm) -> QueryNode {
        QueryNode::Text {
            fields: Some(vec![f.into()]),
            term,
        }
    }

    fn tags(field: &str, patterns: Vec<TagPattern>) -> QueryNode {
        QueryNode::Tag {
            field: field.into(),
            patterns,
        }
    }

    fn range(min: f64, min_inc: bool, max: f64, max_inc: bool) -> QueryNode {
        QueryNode::Numeric {
            field: "price".into(),
            min: NumBound {
                value: min,
                inclusive: min_inc,
            },
            max: NumBound {
                value: max,
                inclusive: max_inc,
            },
        }
    }

    fn run_with(index: &Index, filter: QueryNode, options: &SearchOptions) -> Vec<String> {
        let query = Query { filter, knn: None };
        index
            .search(&query, options)
            .expect("search")
            .iter()
            .map(|h| String::from_utf8_lossy(&h.key).into_owned())
            .collect()
    }

    fn run(index: &Index, filter: QueryNode) -> Vec<String> {
        run_with(index, filter, &SearchOptions::default())
    }

    #[test]
    fn weight_attribute_scales_the_clause_score() {
        let index = sample();
        let scores = |filter: QueryNode| {
            let query = Query { filter, knn: None };
            let hits = index
                .search(&query, &SearchOptions::default())
                .expect("search");
            let mut scores: Vec<(String, f64)> = hits
                .iter()
                .map(|h| (String::from_utf8_lossy(&h.key).into_owned(), h.score))
                .collect();
            scores.sort_by(|a, b| a.0.cmp(&b.0));
            scores
        };
        let weighted = QueryNode::Attributed {
            node: Box::new(word("hello")),
            attrs: ClauseAttrs {
                weight: 2.0,
                ..ClauseAttrs::default()
            },
        };
        let plain = scores(word("hello"));
        let doubled = scores(weighted);
        assert_eq!(plain.len(), 3);
        for ((k1, s1), (k2, s2)) in plain.iter().zip(&doubled) {
            assert_eq!(k1, k2);
            assert!((s2 - 2.0 * s1).abs() < 1e-9, "{s1} {s2}");
        }
    }

    #[test]
    fn boolean_structure() {
        let index = sample();
        assert_eq!(
            run(&index, QueryNode::All),
            ["doc:1", "doc:2", "doc:3", "doc:4"]
        );
        assert!(run(&index, QueryNode::Nothing).is_empty());
        let and = QueryNode::And(vec![
            word("world"),
            tags("tags", vec![TagPattern::Exact("red".into())]),
        ]);
        assert_eq!(run(&index, and), ["doc:1", "doc:2"]);
        let or = QueryNode::Or(vec![word("peace"), range(25.0, true, f64::INFINITY, true)]);
        assert_eq!(run(&index, or), ["doc:3", "doc:4"]);
        let not = QueryNode::Not(Box::new(tags(
            "tags",
            vec![TagPattern::Exact("red".into())],
        )));
        assert_eq!(run(&index, not), ["doc:3", "doc:4"]);
        // `~x` filters nothing.
        let optional = QueryNode::And(vec![
            range(f64::NEG_INFINITY, true, 20.0, true),
            QueryNode::Optional(Box::new(word("peace"))),
        ]);
        let mut hits = run(&index, optional);
        hits.sort();
        assert_eq!(hits, ["doc:1", "doc:2", "doc:3"]);
    }

    #[test]
    fn numeric_and_tag_clauses() {
        let index = sample();
        assert_eq!(
            run(&index, range(10.0, true, 20.0, true)),
            ["doc:1", "doc:2"]
        );
        assert_eq!(run(&index, range(10.0, false, 20.0, true)), ["doc:2"]);
        assert_eq!(
            run(&index, range(f64::NEG_INFINITY, true, 0.0, true)),
            ["doc:3"]
        );
        let t = |p| run(&index, tags("tags", vec![p]));
        assert_eq!(t(TagPattern::Exact("RED".into())), ["doc:1", "doc:2"]);
        assert_eq!(t(TagPattern::Prefix("gr".into())), ["doc:3"]);
        assert_eq!(t(TagPattern::Suffix("ue".into())), ["doc:1"]);
        assert_eq!(t(TagPattern::Infix("ee".into())), ["doc:3"]);
        let any = tags(
            "tags",
            vec![
                TagPattern::Exact("blue".into()),
                TagPattern::Exact("green".into()),
            ],
        );
        assert_eq!(run(&index, any), ["doc:1", "doc:3"]);
        // Unknown fields match nothing.
        assert!(run(&index, tags("nope", vec![TagPattern::Exact("red".into())])).is_empty());
    }

    #[test]
    fn text_terms_fields_and_phrases() {
        let index = sample();
        let mut hello = run(&index, word("hello"));
        hello.sort();
        assert_eq!(hello, ["doc:1", "doc:2", "doc:4"]);
        assert_eq!(
            run(&index, in_field("title", TextTerm::Word("hello".into()))),
            ["doc:4", "doc:1"]
        );
        let infields = SearchOptions {
            in_fields: Some(vec!["body".into()]),
            ..SearchOptions::default()
        };
        assert_eq!(run_with(&index, word("hello"), &infields), ["doc:2"]);
        let mut wild = run(&index, in_field("title", TextTerm::Wildcard("h?l*".into())));
        wild.sort();
        assert_eq!(wild, ["doc:1", "doc:4"]);
        let wild = run(
            &index,
            tags("tags", vec![TagPattern::Wildcard("r?d".into())]),
        );
        assert_eq!(wild, ["doc:1", "doc:2"]);
        let mut prefix = run(
            &index,
            QueryNode::Text {
                fields: None,
                term: TextTerm::Prefix("good".into()),
            },
        );
        prefix.sort();
        assert_eq!(prefix, ["doc:2"]);
        let phrase = |words: &[&str]| {
            let mut hits = run(
                &index,
                QueryNode::Text {
                    fields: None,
                    term: TextTerm::Phrase(words.iter().map(|w| w.to_string()).collect()),
                },
            );
            hits.sort();
            hits
        };
        assert_eq!(phrase(&["hello", "world"]), ["doc:1", "doc:4"]);
        // doc:2's title ends with `world` and its body starts with `hello`: positions run
        // on across fields, as in RediSearch.
        assert_eq!(phrase(&["world", "hello"]), ["doc:2"]);
        assert_eq!(phrase(&["hello", "goodbye"]), Vec::<String>::new());
    }

    #[test]
    fn slop_windows() {
        let a: &[u32] = &[1, 9];
        let b: &[u32] = &[4, 12];
        let c: &[u32] = &[6];
        // a@1 b@4: two words between them; b@4 a@9: four.
        assert!(within_slop(&[a, b], 2, false));
        assert!(!within_slop(&[a, b], 1, false));
        assert!(within_slop(&[b, a], 4, true));
        assert!(!within_slop(&[b, a], 3, true));
        // a@1 b@4 c@6: span 6 - 1 - 2 = 3; unordered b@4 c@6 a@9: 3 too.
        assert!(within_slop(&[a, b, c], 3, true));
        assert!(!within_slop(&[a, b, c], 2, false));
        // a@9 b@12 in order: two words between.
        assert!(within_slop(&[c, a, b], 4, true));
        assert!(!within_slop(&[b, c], 0, true));
    }

    #[test]
    fn text_hits_come_in_score_order() {
        let index = sample();
        // In doc:1 another term is more frequent, which lowers its term frequency; doc:2 and
        // doc:4 tie and keep doc-id order.
        assert_eq!(run(&index, word("hello")), ["doc:2", "doc:4", "doc:1"]);
        let query = Query {
            filter: word("hello"),
            knn: None,
        };
        let hits = index
            .search(&query, &SearchOptions::default())
            .expect("search");
        assert!(hits.iter().all(|h| h.score > 0.0));
        let query = Query {
            filter: QueryNode::All,
            knn: None,
        };
        let hits = index
            .search(&query, &SearchOptions::default())
            .expect("search");
        assert!(hits.iter().all(|h| h.score == 1.0));
    }

    #[test]
    fn inkeys_and_ismissing() {
        let index = sample();
        let inkeys = SearchOptions {
            in_keys: Some(vec![
                Bytes::from("doc:4"),
                Bytes::from("doc:2"),
                Bytes::from("x"),
            ]),
            ..SearchOptions::default()
        };
        assert_eq!(
            run_with(&index, QueryNode::All, &inkeys),
            ["doc:2", "doc:4"]
        );
        assert_eq!(
            run(&index, QueryNode::IsMissing("opt".into())),
            ["doc:2", "doc:3", "doc:4"]
        );
    }

    #[test]
    fn updates_and_removals_are_seen_by_every_clause() {
        let index = sample();
        index.upsert(
            &Bytes::from("doc:1"),
            &hash(&[("title", b"changed"), ("price", b"99")]),
            None,
            0,
        );
        assert_eq!(run(&index, range(99.0, true, 99.0, true)), ["doc:1"]);
        assert!(run(&index, range(10.0, true, 10.0, true)).is_empty());
        assert_eq!(
            run(&index, tags("tags", vec![TagPattern::Exact("red".into())])),
            ["doc:2"]
        );
        index.remove(b"doc:2");
        assert!(run(&index, tags("tags", vec![TagPattern::Exact("red".into())])).is_empty());
        // Ids are handed out in indexing order: doc:1 was re-indexed last.
        assert_eq!(run(&index, QueryNode::All), ["doc:3", "doc:4", "doc:1"]);
    }

    /// doc:0..doc:9 with vector [i, 0] and tag `even` / `odd`; text `ping` on multiples
    /// of three, twice on 6.
    fn vectors(algorithm: VectorAlgorithm, metric: Metric) -> Index {
        let index = Index::new(def(vec![
            tag("parity"),
            text("t"),
            vector("v", algorithm, 2, metric),
        ]))
        .expect("index");
        for i in 0..10 {
            let v = blob(&[i as f32, 0.0]);
            let parity: &[u8] = if i % 2 == 0 { b"even" } else { b"odd" };
            let t: &[u8] = match i {
                6 => b"ping ping",
                i if i % 3 == 0 => b"ping pong pong",
                _ => b"",
            };
            let fields = [("parity", parity), ("t", t), ("v", &v[..])];
            index.upsert(&Bytes::from(format!("doc:{i}")), &hash(&fields), None, 0);
        }
        index
    }

    fn knn(k: usize, at: &[f32]) -> KnnClause {
        KnnClause::new(k, "v".into(), Bytes::from(blob(at)), "vec".into())
    }

    /// (key, first distance) of each hit.
    fn nearest(index: &Index, filter: QueryNode, knn: KnnClause) -> Vec<(String, f64)> {
        let query = Query {
            filter,
            knn: Some(knn),
        };
        let hits = index.search(&query, &SearchOptions::default());
        hits.expect("search")
            .into_iter()
            .map(|h| {
                let key = String::from_utf8_lossy(&h.key).into_owned();
                (key, h.distances.first().map_or(f64::NAN, |d| d.1))
            })
            .collect()
    }

    fn owned(pairs: &[(&str, f64)]) -> Vec<(String, f64)> {
        pairs.iter().map(|(k, d)| (k.to_string(), *d)).collect()
    }

    #[test]
    fn knn_returns_the_k_nearest_in_doc_id_order() {
        for algorithm in [VectorAlgorithm::Flat, VectorAlgorithm::Hnsw] {
            let index = vectors(algorithm, Metric::L2);
            // Squared L2 distances; ids in indexing order, not distance order.
            assert_eq!(
                nearest(&index, QueryNode::All, knn(3, &[2.0, 0.0])),
                owned(&[("doc:1", 1.0), ("doc:2", 0.0), ("doc:3", 1.0)])
            );
            let odd = tags("parity", vec![TagPattern::Exact("odd".into())]);
            let keys: Vec<String> = nearest(&index, odd, knn(2, &[0.0, 0.0]))
                .into_iter()
                .map(|(k, _)| k)
                .collect();
            assert_eq!(keys, ["doc:1", "doc:3"]);
            assert!(nearest(&index, QueryNode::All, knn(0, &[0.0, 0.0])).is_empty());
            assert!(nearest(&index, QueryNode::Nothing, knn(3, &[0.0, 0.0])).is_empty());
            // More than there are: every document with a vector.
            assert_eq!(
                nearest(&index, QueryNode::All, knn(50, &[0.0, 0.0])).len(),
                10
            );
        }
    }

    #[test]
    fn knn_hits_carry_the_score_field_and_follow_updates() {
        let index = vectors(VectorAlgorithm::Flat, Metric::L2);
        let mut clause = knn(1, &[9.0, 0.0]);
        let query = Query {
            filter: QueryNode::All,
            knn: Some(clause.clone()),
        };
        let hits = index
            .search(&query, &SearchOptions::default())
            .expect("search");
        assert_eq!(hits[0].distances, [("__v_score".to_string(), 0.0)]);
        index.remove(b"doc:9");
        let v = blob(&[100.0, 0.0]);
        index.upsert(&Bytes::from("doc:4"), &hash(&[("v", &v[..])]), None, 0);
        clause.alias = Some("dist".into());
        assert_eq!(
            nearest(&index, QueryNode::All, clause.clone()),
            owned(&[("doc:8", 1.0)])
        );
        let query = Query {
            filter: QueryNode::All,
            knn: Some(clause),
        };
        let hits = index
            .search(&query, &SearchOptions::default())
            .expect("search");
        assert_eq!(hits[0].distances[0].0, "dist");
        let far = nearest(&index, QueryNode::All, knn(1, &[99.0, 0.0]));
        assert_eq!(far, owned(&[("doc:4", 1.0)]));
    }

    #[test]
    fn knn_with_text_orders_by_score_then_id() {
        let index = vectors(VectorAlgorithm::Flat, Metric::L2);
        let keys: Vec<String> = nearest(&index, word("ping"), knn(3, &[0.0, 0.0]))
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        // doc:6 has only `ping` (tf 2 over max 2); doc:0 and doc:3 have `pong` twice.
        assert_eq!(keys, ["doc:6", "doc:0", "doc:3"]);
    }

    #[test]
    fn vector_blobs_of_the_wrong_size() {
        let index = vectors(VectorAlgorithm::Flat, Metric::Cosine);
        index.upsert(&Bytes::from("doc:0"), &hash(&[("v", b"aaaa")]), None, 0);
        assert_eq!(index.info().num_docs, 9);
        assert_eq!(
            index
                .stats
                .failures
                .load(std::sync::atomic::Ordering::Relaxed),
            1
        );
        assert_eq!(
            *index.stats.last_error.lock(),
            Some((
                "Could not add vector with blob size 4 (expected size 8)".to_string(),
                Bytes::from("doc:0")
            ))
        );
        assert_eq!(index.field_errors("v").failures, 1);
        let mut clause = knn(1, &[0.0, 0.0]);
        clause.blob = Bytes::from_static(b"1234567");
        let query = Query {
            filter: QueryNode::All,
            knn: Some(clause),
        };
        let err = index
            .search(&query, &SearchOptions::default())
            .expect_err("bad blob");
        assert_eq!(
            err.to_string(),
            "Error parsing vector similarity query: query vector blob size (7) does not match \
             index's expected size (8)."
        );
    }

    #[test]
    fn vector_range_yields_distances_and_combines() {
        let index = vectors(VectorAlgorithm::Flat, Metric::L2);
        let within = |radius: f64, yield_as: Option<&str>| QueryNode::VectorRange {
            field: "v".into(),
            radius,
            blob: Bytes::from(blob(&[0.0, 0.0])),
            blob_param: "vec".into(),
            yield_as: yield_as.map(str::to_string),
            epsilon: None,
        };
        let query = Query {
            filter: within(4.0, Some("d")),
            knn: None,
        };
        let hits = index
            .search(&query, &SearchOptions::default())
            .expect("search");
        let got: Vec<(String, Vec<(String, f64)>)> = hits
            .into_iter()
            .map(|h| (String::from_utf8_lossy(&h.key).into_owned(), h.distances))
            .collect();
        let d = |x: f64| vec![("d".to_string(), x)];
        assert_eq!(
            got,
            [
                ("doc:0".to_string(), d(0.0)),
                ("doc:1".to_string(), d(1.0)),
                ("doc:2".to_string(), d(4.0)),
            ]
        );
        let odd_within = QueryNode::And(vec![
            within(10.0, None),
            tags("parity", vec![TagPattern::Exact("odd".into())]),
        ]);
        assert_eq!(run(&index, odd_within), ["doc:1", "doc:3"]);
        // A range can be the filter of a KNN.
        let hits = nearest(&index, within(10.0, None), knn(1, &[3.0, 0.0]));
        assert_eq!(hits, owned(&[("doc:3", 0.0)]));
    }
}
