//! FT.SEARCH: option parsing (any order, [`options`]), running the query, ordering and paging
//! the hits (SORTBY / LIMIT), loading the returned fields from the keyspace, and the reply in
//! RediSearch 2.10's RESP2 array / RESP3 map shapes.
//!
//! Order of work, as the architecture asks: parse (no lock) -> [`Index::search`] (the index
//! locks itself) -> sort and page -> load each returned key under its own shard lock, never
//! while an index lock is held. Searching and sorting whose cost grows with the data run off
//! the async worker ([`crate::scripting::off_worker`]), so a big scan does not stall other
//! clients; bounded ones (small index, unfiltered HNSW KNN) stay on it ([`may_take_long`]).

mod highlight;
pub(super) mod options;

use std::cmp::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;

use self::options::{Request, ReturnField};
use crate::commands::{Args, ExecCtx};
use crate::error::CmdError;
use crate::keyspace::{HashValue, Value};
use crate::protocol::reply::{format_double_g, format_double_g17};
use crate::protocol::{Protocol, Reply};
use crate::search::deadline::sorted_prefix;
use crate::search::index::{Hit, Index, NodeStats, SearchOptions, SortKey};
use crate::search::query::{Query, QueryNode};
use crate::search::score::Explanation;
use crate::search::stats::Running;
use crate::search::{Deadline, FieldKind, IndexDef, SearchError, VectorAlgorithm};

pub fn ft_search(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let name = String::from_utf8_lossy(&args.next_bytes()?).into_owned();
    search_with(ctx, &name, args, None)
}

/// Where FT.PROFILE's timings and counts come from: each phase of one FT.SEARCH or
/// FT.AGGREGATE, measured.
#[derive(Debug, Default)]
pub(super) struct Phases {
    /// Reading the options and parsing the query.
    pub parsing: Duration,
    /// Resolving yields, sorting, highlighting, the load plan or the pipeline's names.
    pub pipeline: Duration,
    /// The query's tree, each node evaluated on its own.
    pub iterators: Option<(Query, NodeStats)>,
    /// Matching (and scoring) documents: time, hits.
    pub index: (Duration, u64),
    /// The result processors after Index, in order.
    pub processors: Vec<Processor>,
    /// The query ran out of time (its results are partial).
    pub timed_out: bool,
}

/// One result processor of a profile: its RediSearch name, its time and the results it
/// passed on.
#[derive(Debug)]
pub(super) struct Processor {
    pub name: String,
    pub time: Duration,
    pub count: u64,
}

impl Processor {
    pub fn new(name: impl Into<String>, time: Duration, count: u64) -> Processor {
        Processor {
            name: name.into(),
            time,
            count,
        }
    }
}

/// FT.SEARCH on index `name` with the arguments after it; `phases`, when given, is filled
/// with what FT.PROFILE reports.
pub(super) fn search_with(
    ctx: &mut ExecCtx,
    name: &str,
    args: &mut Args,
    phases: Option<&mut Phases>,
) -> Result<Reply, CmdError> {
    let started = Instant::now();
    let name = name.to_string();
    let search = &ctx.state.search;
    let mut req = options::parse(
        args,
        ctx.client.protocol,
        search.config.max_search_results(),
    )?;
    let index = search.get(&name).ok_or(SearchError::NoSuchIndex(name))?;
    let _running = Running::start(&index.stats.active_queries);
    options::check_names(&req)?;
    let dialect = req
        .dialect
        .unwrap_or_else(|| search.config.default_dialect());
    let mut query = crate::search::query::parse(&req.query, &index.def, &req.params, dialect)?;
    add_legacy_filters(&mut query, &req, &index.def);
    let parsed = Instant::now();
    let yields = yielded_fields(&query, &index.def)?;
    let sort = match &req.sort {
        Some(sort) => Some(SortSource::resolve(&sort.field, &yields, &index.def)?),
        None => None,
    };
    let marker = highlight::Marker::new(&mut req, &query, &index.def)?;

    let options = SearchOptions {
        in_keys: req.in_keys.clone(),
        in_fields: req.in_fields.clone(),
        verbatim: req.verbatim,
        slop: req.slop,
        in_order: req.in_order,
        language: req.language.clone(),
        scorer: options::scorer(req.scorer.as_deref())?,
        explain: req.explain_score,
        payload: req.payload.clone(),
        now_ms: crate::keyspace::unix_ms(),
        deadline: deadline(started, req.timeout, &search.config),
        matched_terms: false,
    };
    let end = req
        .offset
        .saturating_add(req.num)
        .min(search.config.max_search_results());
    let plan = LoadPlan::new(&req, &yields, sort.as_ref(), &index.def);
    let planned = Instant::now();
    let profiling = phases.is_some();
    let run = || {
        let (hits, iterators, index_time) = measured_search(&index, &query, &options, profiling)?;
        let sorting = Instant::now();
        let matched = hits.len() as u64;
        let page = select_page(&index, hits, sort.as_ref(), &req, end, &options.deadline);
        let times = (index_time, sorting.elapsed(), matched);
        Ok::<_, SearchError>((page, iterators, times))
    };
    let (page, iterators, (index_time, sort_time, matched)) =
        if may_take_long(&index, &query, &options) {
            crate::scripting::off_worker(run)?
        } else {
            run()?
        };
    let loading = Instant::now();
    let deadline = &options.deadline;
    let rows = page
        .hits
        .iter()
        .zip(page.sort_keys)
        .take_while(|_| !deadline.abandoned())
        .map(|(hit, sort_key)| {
            let mut row = plan.load(ctx, hit, sort_key);
            if let (Some(marker), Some(Some(fields))) = (&marker, &mut row.fields) {
                marker.apply(fields);
            }
            row
        })
        .collect::<Vec<_>>();
    let timed_out = deadline.timed_out();
    if timed_out && deadline.fails() && !profiling {
        return Err(SearchError::Timeout.into());
    }
    if let Some(phases) = phases {
        // Scoring happens while matching, so the Scorer (and a KNN's Metrics Applier)
        // pass on every hit with no time of their own: it is inside Index's.
        let processors = if req.count_only {
            vec![Processor::new("Counter", Duration::ZERO, 1)]
        } else {
            let mut list = Vec::new();
            if query.knn.is_some() {
                list.push(Processor::new("Metrics Applier", Duration::ZERO, matched));
            }
            list.push(Processor::new("Scorer", Duration::ZERO, matched));
            list.push(Processor::new("Sorter", sort_time, matched));
            // A LIMIT offset adds a pager after the sorter, as in RediSearch.
            if req.offset > 0 {
                list.push(Processor::new(
                    "Pager/Limiter",
                    Duration::ZERO,
                    page.hits.len() as u64,
                ));
            }
            list.push(Processor::new(
                "Loader",
                loading.elapsed(),
                rows.len() as u64,
            ));
            list
        };
        *phases = Phases {
            parsing: parsed - started,
            pipeline: planned - parsed,
            iterators: iterators.map(|stats| (query.clone(), stats)),
            index: (index_time, matched),
            processors,
            timed_out,
        };
    }
    let results = Results {
        total: page.total,
        hits: &page.hits,
        rows,
        timed_out,
    };
    search
        .queries
        .record_query(&index.stats.dialects, dialect, started.elapsed());
    Ok(reply(&req, ctx.client.protocol, results))
}

/// The budget of a query started at `started`: its TIMEOUT argument, else the TIMEOUT
/// setting (0: none either way), and ON_TIMEOUT.
pub(super) fn deadline(
    started: Instant,
    timeout: Option<u64>,
    config: &crate::search::config::SearchConfig,
) -> Deadline {
    let budget = timeout.unwrap_or_else(|| config.timeout_ms());
    Deadline::new(started, budget, config.on_timeout_fail())
}

/// The index's hits for `query` and the time matching took; with `profiling`, first each
/// node of the query's tree evaluated on its own (FT.PROFILE's iterators).
pub(super) fn measured_search(
    index: &Index,
    query: &Query,
    options: &SearchOptions,
    profiling: bool,
) -> Result<(Vec<Hit>, Option<NodeStats>, Duration), SearchError> {
    let iterators = match profiling {
        true => Some(index.profile(&query.filter, options)?),
        false => None,
    };
    let searched = Instant::now();
    let hits = index.search(query, options)?;
    Ok((hits, iterators, searched.elapsed()))
}

/// Indexes up to this many documents are searched on the async worker itself: scanning them
/// costs less than handing the worker's other connections to another thread (about 50 µs
/// per query measured through RESP).
const SMALL_INDEX_DOCS: usize = 5_000;

/// Whether a search's cost may grow with the data, so that it should run off the async
/// worker ([`crate::scripting::off_worker`]). An unfiltered KNN over an HNSW graph visits a
/// bounded part of the graph (EF_RUNTIME, K) whatever the index size, so it stays on the
/// worker and keeps single-connection KNN latency low; so does anything on a small index.
pub(super) fn may_take_long(index: &Index, query: &Query, options: &SearchOptions) -> bool {
    let graph_knn = query.filter == QueryNode::All
        && options.in_keys.is_none()
        && query.knn.as_ref().is_some_and(|knn| {
            index.def.field(&knn.field).is_some_and(
                |f| matches!(&f.kind, FieldKind::Vector(p) if p.algorithm == VectorAlgorithm::Hnsw),
            )
        });
    !graph_knn && index.num_docs() > SMALL_INDEX_DOCS
}

/// FILTER (numeric) and GEOFILTER clauses join the query's filter. A FILTER on a field that
/// is not NUMERIC, and a GEOFILTER on one that is not GEO, match nothing, as in RediSearch
/// where such a clause yields an empty iterator.
fn add_legacy_filters(query: &mut Query, req: &Request, def: &IndexDef) {
    if req.filters.is_empty() && req.geo_filters.is_empty() {
        return;
    }
    let mut clauses = vec![std::mem::replace(&mut query.filter, QueryNode::All)];
    for filter in &req.filters {
        let numeric = def
            .field(&filter.field)
            .is_some_and(|f| matches!(f.kind, FieldKind::Numeric));
        clauses.push(if numeric {
            QueryNode::Numeric {
                field: filter.field.clone(),
                min: filter.min,
                max: filter.max,
            }
        } else {
            QueryNode::Nothing
        });
    }
    for (field, filter) in &req.geo_filters {
        let geo = def
            .field(field)
            .is_some_and(|f| matches!(f.kind, FieldKind::Geo));
        clauses.push(if geo {
            QueryNode::Geo {
                field: field.clone(),
                filter: *filter,
            }
        } else {
            QueryNode::Nothing
        });
    }
    query.filter = QueryNode::And(clauses);
}

/// The names of the distances the query yields: the KNN score field and every VECTOR_RANGE
/// `$YIELD_DISTANCE_AS`, in the order RediSearch creates them (ranges in query order, then
/// KNN). A name that is a schema attribute, or given twice, is refused as RediSearch does.
pub(super) fn yielded_fields(query: &Query, def: &IndexDef) -> Result<Vec<String>, SearchError> {
    fn walk(node: &QueryNode, out: &mut Vec<String>) {
        match node {
            QueryNode::And(children) | QueryNode::Or(children) => {
                children.iter().for_each(|c| walk(c, out));
            }
            QueryNode::Not(child)
            | QueryNode::Optional(child)
            | QueryNode::Attributed { node: child, .. } => walk(child, out),
            QueryNode::VectorRange {
                yield_as: Some(name),
                ..
            } => out.push(name.clone()),
            _ => {}
        }
    }
    let mut names = Vec::new();
    walk(&query.filter, &mut names);
    names.extend(query.knn.as_ref().map(|k| k.score_field()));
    for (i, name) in names.iter().enumerate() {
        if def.field(name).is_some() {
            return Err(SearchError::other(format!(
                "Property `{name}` already exists in schema"
            )));
        }
        if names[..i].contains(name) {
            return Err(SearchError::other(format!(
                "Property `{name}` specified more than once"
            )));
        }
    }
    Ok(names)
}

/// What SORTBY orders by.
#[derive(Debug, Clone, PartialEq)]
enum SortSource {
    /// A yielded distance, by name.
    Distance(String),
    /// A schema attribute, read through the index.
    Attribute(String),
}

impl SortSource {
    /// RediSearch sorts by a yielded value or a schema field; anything else is neither loaded
    /// nor known.
    fn resolve(field: &str, yields: &[String], def: &IndexDef) -> Result<SortSource, SearchError> {
        if yields.iter().any(|y| y == field) {
            Ok(SortSource::Distance(field.to_string()))
        } else if def.field(field).is_some() {
            Ok(SortSource::Attribute(field.to_string()))
        } else {
            Err(SearchError::other(format!(
                "Property `{field}` not loaded nor in schema"
            )))
        }
    }
}

/// The hits LIMIT selects, with their sort keys (for WITHSORTKEYS), and the match count.
struct Page {
    total: usize,
    hits: Vec<Hit>,
    sort_keys: Vec<Option<SortKey>>,
}

/// Orders the hits (SORTBY; otherwise the index's order: score, then doc id) and keeps
/// positions `offset .. end`. An abandoned `deadline` may cut the sort short.
fn select_page(
    index: &Index,
    hits: Vec<Hit>,
    sort: Option<&SortSource>,
    req: &Request,
    end: u64,
    deadline: &Deadline,
) -> Page {
    let total = hits.len();
    if req.count_only {
        return Page {
            total,
            hits: Vec::new(),
            sort_keys: Vec::new(),
        };
    }
    let end = usize::try_from(end).unwrap_or(usize::MAX).min(total);
    let start = usize::try_from(req.offset).unwrap_or(usize::MAX).min(end);
    let Some(sort) = sort else {
        let hits: Vec<Hit> = hits.into_iter().skip(start).take(end - start).collect();
        let sort_keys = vec![None; hits.len()];
        return Page {
            total,
            hits,
            sort_keys,
        };
    };
    let ascending = req.sort.as_ref().is_none_or(|s| s.ascending);
    let (SortSource::Distance(name) | SortSource::Attribute(name)) = sort;
    let keys = index.sort_keys(&hits, name);
    let compare =
        |a: &usize, b: &usize| compare_keys(keys[*a].as_ref(), keys[*b].as_ref(), ascending);
    let order = sorted_prefix((0..total).collect(), end, deadline, compare);
    let mut hits: Vec<Option<Hit>> = hits.into_iter().map(Some).collect();
    let mut keys: Vec<Option<SortKey>> = keys;
    let mut page_hits = Vec::with_capacity(end - start);
    let mut page_keys = Vec::with_capacity(end - start);
    for &i in order.iter().take(end).skip(start) {
        if let Some(hit) = hits[i].take() {
            page_hits.push(hit);
            page_keys.push(keys[i].take());
        }
    }
    Page {
        total,
        hits: page_hits,
        sort_keys: page_keys,
    }
}

/// SORTBY's order: present values by value (numbers before strings), then documents without
/// a value, whichever the direction.
fn compare_keys(a: Option<&SortKey>, b: Option<&SortKey>, ascending: bool) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => {
            let order = match (x, y) {
                (SortKey::Num(x), SortKey::Num(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
                (SortKey::Str(x), SortKey::Str(y)) => x.cmp(y),
                (SortKey::Num(_), SortKey::Str(_)) => Ordering::Less,
                (SortKey::Str(_), SortKey::Num(_)) => Ordering::Greater,
            };
            if ascending { order } else { order.reverse() }
        }
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

fn distance(hit: &Hit, name: &str) -> Option<f64> {
    hit.distances
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, d)| *d)
}

/// A number as RediSearch prints computed values: `%lld` when integral, else `%.12g`.
pub(super) fn format_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 9.2e18 {
        format!("{}", value as i64)
    } else {
        format_double_g(value, 12)
    }
}

/// Where one returned field's value comes from.
#[derive(Debug, Clone, PartialEq)]
enum Source {
    /// A yielded distance, by name.
    Distance(String),
    /// A hash field.
    Hash(Bytes),
}

/// One returned field: the name it is sent under and its source.
#[derive(Debug, Clone, PartialEq)]
struct Slot {
    name: Bytes,
    source: Source,
}

/// Which fields each result carries, in RediSearch's order: the yielded distances first, then
/// the SORTBY attribute, then the RETURN list (or every hash field).
struct LoadPlan {
    /// The fixed slots: every one with RETURN; the leading ones without it.
    slots: Vec<Slot>,
    /// No RETURN: every hash field follows the fixed slots.
    all_fields: bool,
    /// Field lists are sent (no NOCONTENT).
    content: bool,
    /// WITHPAYLOADS, and the hash field holding a document's payload.
    payloads: bool,
    payload_field: Bytes,
}

impl LoadPlan {
    fn new(
        req: &Request,
        yields: &[String],
        sort: Option<&SortSource>,
        def: &IndexDef,
    ) -> LoadPlan {
        let hash_source = |path: &str| match def.field(path) {
            Some(field) => Source::Hash(field.identifier.clone()),
            None => Source::Hash(Bytes::copy_from_slice(path.as_bytes())),
        };
        // Slot names in the order RediSearch creates its lookup keys.
        let mut leading: Vec<String> = yields.to_vec();
        if let Some(SortSource::Attribute(name)) = sort {
            leading.push(name.clone());
        }
        let source_of = |name: &str, path: &str| {
            if yields.iter().any(|y| y == name) {
                Source::Distance(name.to_string())
            } else {
                hash_source(path)
            }
        };
        let slot = |name: &str, source: Source| Slot {
            name: Bytes::copy_from_slice(name.as_bytes()),
            source,
        };
        let slots = match &req.returns {
            Some(returns) => {
                let wanted = |name: &str| returns.iter().find(|r| r.name == name);
                let mut slots: Vec<Slot> = leading
                    .iter()
                    .filter_map(|name| wanted(name))
                    .map(|r: &ReturnField| slot(&r.name, source_of(&r.name, &r.path)))
                    .collect();
                for r in returns {
                    if !leading.contains(&r.name) {
                        slots.push(slot(&r.name, source_of(&r.name, &r.path)));
                    }
                }
                slots
            }
            None => leading
                .iter()
                .map(|name| slot(name, source_of(name, name)))
                .collect(),
        };
        LoadPlan {
            slots,
            all_fields: req.returns.is_none(),
            content: !req.no_content,
            payloads: req.with_payloads,
            payload_field: def
                .payload_field
                .as_deref()
                .map_or(Bytes::from_static(b"__payload"), |f| {
                    Bytes::copy_from_slice(f.as_bytes())
                }),
        }
    }

    /// Whether a row needs the document's hash (its fields or payload), not only the hit's
    /// yielded distances.
    fn reads_hash(&self) -> bool {
        self.payloads
            || self.all_fields
            || self
                .slots
                .iter()
                .any(|s| matches!(s.source, Source::Hash(_)))
    }

    /// What the reply carries for one hit, read under its key's shard lock: its field list
    /// (`None` when the key vanished, or stopped being a hash, since the search) and payload.
    /// A row of yielded distances only (`RETURN 1 dist`, the usual KNN request) takes no
    /// lock.
    fn load(&self, ctx: &ExecCtx, hit: &Hit, sort_key: Option<SortKey>) -> Row {
        let mut row = Row {
            fields: None,
            payload: None,
            sort_key,
        };
        if !self.content && !self.payloads {
            return row;
        }
        if !self.reads_hash() {
            row.fields = Some(Some(self.fields(hit, None, 0)));
            return row;
        }
        let mut guard = ctx.ks().lock(0, &[&hit.key]);
        let now = guard.now_ms();
        let hash = match guard.peek(&hit.key).map(|e| &e.value) {
            Some(Value::Hash(hash)) => Some(hash),
            _ => None,
        };
        if self.payloads {
            row.payload = hash
                .and_then(|h| live_field(h, &self.payload_field, now))
                .cloned();
        }
        if self.content {
            row.fields = Some(hash.map(|hash| self.fields(hit, Some(hash), now)));
        }
        row
    }

    /// The field list of one hit: the slots in order, then (without RETURN) every other
    /// field of `hash` whose time to live has not passed at `now`.
    fn fields(&self, hit: &Hit, hash: Option<&HashValue>, now: u64) -> Vec<(Bytes, Bytes)> {
        let mut out: Vec<(Bytes, Bytes)> = Vec::with_capacity(self.slots.len());
        for slot in &self.slots {
            let value = match &slot.source {
                Source::Distance(name) => {
                    distance(hit, name).map(|d| Bytes::from(format_number(d)))
                }
                Source::Hash(field) => hash.and_then(|h| live_field(h, field, now)).cloned(),
            };
            if let Some(value) = value {
                out.push((slot.name.clone(), value));
            }
        }
        if let (true, Some(hash)) = (self.all_fields, hash) {
            for (field, value) in hash.iter() {
                if live_field(hash, field, now).is_some()
                    && !self.slots.iter().any(|s| s.name == *field)
                {
                    out.push((field.clone(), value.clone()));
                }
            }
        }
        out
    }
}

/// The value of `field` in `hash`, unless its time to live has passed at `now`.
pub(super) fn live_field<'h>(hash: &'h HashValue, field: &[u8], now: u64) -> Option<&'h Bytes> {
    hash.get(field)
        .filter(|_| hash.field_expire_at(field).is_none_or(|at| at >= now))
}

/// What one result carries besides its key and score.
struct Row {
    /// `None`: NOCONTENT. `Some(None)`: the key vanished.
    fields: Option<Option<Vec<(Bytes, Bytes)>>>,
    payload: Option<Bytes>,
    sort_key: Option<SortKey>,
}

/// WITHSORTKEYS' value: `#<%.17g>` for a number, `$<text>` for a string, nil without one.
fn sort_key_reply(key: Option<&SortKey>) -> Reply {
    match key {
        Some(SortKey::Num(n)) => Reply::bulk(format!("#{}", format_double_g17(*n))),
        Some(SortKey::Str(s)) => Reply::bulk(format!("${s}")),
        None => Reply::Nil,
    }
}

/// WITHSCORES' value; with EXPLAINSCORE `[score, explanation]`, the explanation nested
/// as RediSearch sends it: a line alone, or `[line, [children...]]`.
fn score_reply(req: &Request, hit: &Hit) -> Reply {
    fn explanation(e: &Explanation) -> Reply {
        match e.children.is_empty() {
            true => Reply::simple(&e.text),
            false => Reply::Array(vec![
                Reply::simple(&e.text),
                Reply::Array(e.children.iter().map(explanation).collect()),
            ]),
        }
    }
    if req.explain_score {
        let explained = match &hit.explanation {
            Some(e) => explanation(e),
            // Without text terms nothing was scored: RediSearch's score of such hits.
            None => Reply::Array(vec![Reply::bulk(format!(
                "Final score: {}",
                format_double_g17(hit.score)
            ))]),
        };
        Reply::Array(vec![Reply::Double(hit.score), explained])
    } else {
        Reply::Double(hit.score)
    }
}

fn fields_reply(fields: Option<Vec<(Bytes, Bytes)>>, resp3: bool) -> Reply {
    match fields {
        // RediSearch replies a null (RESP2 `$-1`) for a key that vanished.
        None => Reply::Nil,
        Some(fields) if resp3 => Reply::Map(
            fields
                .into_iter()
                .map(|(k, v)| (Reply::Bulk(k), Reply::Bulk(v)))
                .collect(),
        ),
        Some(fields) => Reply::Array(
            fields
                .into_iter()
                .flat_map(|(k, v)| [Reply::Bulk(k), Reply::Bulk(v)])
                .collect(),
        ),
    }
}

/// RediSearch 2.10's RESP3 reply of FT.SEARCH and FT.AGGREGATE around its `results`; a
/// query that ran out of time (ON_TIMEOUT RETURN) says so under `warning`.
pub(super) fn resp3_results(results: Vec<Reply>, total: Reply, timed_out: bool) -> Reply {
    let key = |k: &str| Reply::simple(k);
    let warnings = match timed_out {
        true => vec![Reply::simple(&SearchError::Timeout.to_string())],
        false => Vec::new(),
    };
    Reply::Map(vec![
        (key("attributes"), Reply::Array(Vec::new())),
        (key("format"), Reply::simple("STRING")),
        (key("results"), Reply::Array(results)),
        (key("total_results"), total),
        (key("warning"), Reply::Array(warnings)),
    ])
}

/// What FT.SEARCH answers: the match count, the page's hits and their rows, and whether
/// the query ran out of time.
struct Results<'a> {
    total: usize,
    hits: &'a [Hit],
    rows: Vec<Row>,
    timed_out: bool,
}

/// The reply: RESP2 `[total, key, score?, payload?, sortkey?, fields?, ...]`, RESP3 the map
/// RediSearch 2.10 sends (`attributes`, `format`, `results`, `total_results`, `warning`).
/// Rows may be fewer than hits when loading was abandoned.
fn reply(req: &Request, protocol: Protocol, results: Results) -> Reply {
    let Results {
        total,
        hits,
        rows,
        timed_out,
    } = results;
    let total = Reply::Integer(i64::try_from(total).unwrap_or(i64::MAX));
    let key = |k: &str| Reply::simple(k);
    if protocol == Protocol::Resp3 {
        let results = hits
            .iter()
            .zip(rows)
            .map(|(hit, row)| {
                let mut entry = vec![(key("id"), Reply::Bulk(hit.key.clone()))];
                if req.with_scores {
                    entry.push((key("score"), score_reply(req, hit)));
                }
                if req.with_payloads {
                    entry.push((key("payload"), Reply::opt_bulk(row.payload)));
                }
                if req.with_sort_keys {
                    entry.push((key("sortkey"), sort_key_reply(row.sort_key.as_ref())));
                }
                if let Some(fields) = row.fields {
                    entry.push((key("extra_attributes"), fields_reply(fields, true)));
                }
                entry.push((key("values"), Reply::Array(Vec::new())));
                Reply::Map(entry)
            })
            .collect();
        return resp3_results(results, total, timed_out);
    }
    let mut out = vec![total];
    for (hit, row) in hits.iter().zip(rows) {
        out.push(Reply::Bulk(hit.key.clone()));
        if req.with_scores {
            out.push(score_reply(req, hit));
        }
        if req.with_payloads {
            out.push(Reply::opt_bulk(row.payload));
        }
        if req.with_sort_keys {
            out.push(sort_key_reply(row.sort_key.as_ref()));
        }
        if let Some(fields) = row.fields {
            out.push(fields_reply(fields, false));
        }
    }
    Reply::Array(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_like_redisearch() {
        assert_eq!(format_number(0.0), "0");
        assert_eq!(format_number(12800.0), "12800");
        assert_eq!(format_number(0.051_316_738_128_662_11), "0.0513167381287");
        assert_eq!(format_number(1.329_227_995_784_916e36), "1.32922799578e+36");
        assert_eq!(format_number(-0.5), "-0.5");
    }

    #[test]
    fn missing_sort_values_go_last_both_ways() {
        let one = Some(SortKey::Num(1.0));
        let two = Some(SortKey::Num(2.0));
        let text = Some(SortKey::Str("a".into()));
        for ascending in [true, false] {
            assert_eq!(compare_keys(one.as_ref(), None, ascending), Ordering::Less);
            assert_eq!(
                compare_keys(None, two.as_ref(), ascending),
                Ordering::Greater
            );
        }
        assert_eq!(
            compare_keys(one.as_ref(), two.as_ref(), true),
            Ordering::Less
        );
        assert_eq!(
            compare_keys(one.as_ref(), two.as_ref(), false),
            Ordering::Greater
        );
        assert_eq!(
            compare_keys(one.as_ref(), text.as_ref(), true),
            Ordering::Less
        );
    }

    #[test]
    fn only_unbounded_searches_of_big_indexes_leave_the_worker() {
        use crate::search::Metric;
        use crate::search::index::testing::{blob, def, hash, tag, vector};
        use crate::search::query::KnnClause;

        let index = Index::new(def(vec![
            tag("t"),
            vector("h", VectorAlgorithm::Hnsw, 2, Metric::L2),
            vector("f", VectorAlgorithm::Flat, 2, Metric::L2),
        ]))
        .expect("index");
        let knn = |field: &str, filter: QueryNode| Query {
            filter,
            knn: Some(KnnClause::new(
                3,
                field.into(),
                blob(&[0.0, 0.0]).into(),
                "q".into(),
            )),
        };
        let tagged = || QueryNode::Tag {
            field: "t".into(),
            patterns: vec![crate::search::query::TagPattern::Exact("x".into())],
        };
        let plain = Query {
            filter: QueryNode::All,
            knn: None,
        };
        let none = SearchOptions::default();
        for i in 0..=SMALL_INDEX_DOCS {
            let v = blob(&[i as f32, 0.0]);
            let doc = hash(&[("t", b"x"), ("h", &v), ("f", &v)]);
            index.upsert(&Bytes::from(format!("doc:{i}")), &doc, None, 0);
        }
        assert!(may_take_long(&index, &plain, &none));
        assert!(may_take_long(&index, &knn("f", QueryNode::All), &none));
        assert!(may_take_long(&index, &knn("h", tagged()), &none));
        assert!(!may_take_long(&index, &knn("h", QueryNode::All), &none));
        index.remove(b"doc:0");
        assert!(!may_take_long(&index, &plain, &none));
    }

    #[test]
    fn a_key_gone_between_search_and_load_has_nil_fields() {
        let hit = Hit {
            id: crate::search::DocId(1),
            key: Bytes::from_static(b"doc:x"),
            score: 1.0,
            explanation: None,
            distances: Vec::new(),
            terms: Vec::new(),
        };
        let row = || Row {
            fields: Some(None),
            payload: None,
            sort_key: None,
        };
        let req = Request::default();
        let results = |timed_out| Results {
            total: 1,
            hits: std::slice::from_ref(&hit),
            rows: vec![row()],
            timed_out,
        };
        let resp2 = reply(&req, Protocol::Resp2, results(false));
        assert_eq!(
            resp2,
            Reply::Array(vec![Reply::Integer(1), Reply::bulk("doc:x"), Reply::Nil])
        );
        // RESP2 has no room for the timeout warning: partial results look whole.
        assert_eq!(reply(&req, Protocol::Resp2, results(true)), resp2);
        let Reply::Map(timed_out) = reply(&req, Protocol::Resp3, results(true)) else {
            panic!("RESP3 replies are maps")
        };
        assert_eq!(
            timed_out[4],
            (
                Reply::simple("warning"),
                Reply::Array(vec![Reply::simple("Timeout limit was reached")])
            )
        );
        let Reply::Map(top) = reply(&req, Protocol::Resp3, results(false)) else {
            panic!("RESP3 replies are maps")
        };
        assert_eq!(
            top[2].1,
            Reply::Array(vec![Reply::Map(vec![
                (Reply::simple("id"), Reply::bulk("doc:x")),
                (Reply::simple("extra_attributes"), Reply::Nil),
                (Reply::simple("values"), Reply::Array(Vec::new())),
            ])])
        );
    }

    #[test]
    fn sort_keys_serialise_with_type_marks() {
        assert_eq!(
            sort_key_reply(Some(&SortKey::Num(1.5))),
            Reply::bulk("#1.5")
        );
        assert_eq!(
            sort_key_reply(Some(&SortKey::Str("abc".into()))),
            Reply::bulk("$abc")
        );
        assert_eq!(sort_key_reply(None), Reply::Nil);
    }
}
