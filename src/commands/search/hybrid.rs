//! FT.HYBRID (Redis 8.4's hybrid search): a text query and a vector query over one index,
//! their ranked results fused into one list (Reciprocal Rank Fusion or a linear
//! combination of scores), then FT.AGGREGATE's post-processing steps over the fused rows.
//!
//! `FT.HYBRID idx SEARCH query [SCORER s] [YIELD_SCORE_AS name]
//!    VSIM @field vector [KNN n K k [EF_RUNTIME e] [YIELD_SCORE_AS name]]
//!      [RANGE n RADIUS r [EPSILON e] [YIELD_SCORE_AS name]] [FILTER query] [YIELD_SCORE_AS name]
//!    [COMBINE RRF n [CONSTANT c] [WINDOW w] [YIELD_SCORE_AS name]
//!      | COMBINE LINEAR n [ALPHA a BETA b] [WINDOW w] [YIELD_SCORE_AS name]]
//!    [LOAD ...] [GROUPBY ...] [APPLY ...] [SORTBY ...] [FILTER expr] [LIMIT o n]
//!    [PARAMS n name value ...] [TIMEOUT ms]`
//!
//! The text side is the query executor with the request's scorer (BM25STD by default), in
//! its score order; the vector side a KNN (K nearest, 10 by default) or VECTOR_RANGE query
//! restricted by FILTER, in distance order. Each list is cut to WINDOW (20 by default)
//! before fusion. RRF scores a document `sum 1 / (CONSTANT + rank)` over the lists it is in
//! (ranks from 1, CONSTANT 60 by default); LINEAR `ALPHA * text score + BETA * vector
//! score` (0.3 and 0.7 by default), the vector score being the distance normalised to
//! [0, 1] by the field's metric as RediSearch does (L2 `1 / (1 + d)`, COSINE `1 - d / 2`,
//! IP `(1 + d) / 2`). That normalised score is also what the VSIM YIELD_SCORE_AS yields.
//!
//! Rows hold `__key` and `__score` (the fused score) unless LOAD says which fields to
//! send, plus the yielded scores; they come in fused-score order (equal scores in the order
//! the documents were first seen: text list, then vector list), 10 unless LIMIT says. An
//! explicit LIMIT also stands for K and WINDOW when those are not given, and RRF never
//! asks the KNN for more than WINDOW neighbours, as in RediSearch.
//!
//! The reply is RediSearch 8.4's: `total_results`, `results` (one map per row), `warnings`
//! and `execution_time` (milliseconds), a flat array in RESP2 and a map in RESP3.
//! WITHCURSOR (one cursor per sub-query in RediSearch) is not supported and refused.

use std::collections::HashMap;
use std::time::Instant;

use bytes::Bytes;

use super::aggregate::{Load, load_into, parse_step, value_reply};
use super::query::options::{
    bad_args, coded, parse_params, parse_timeout, parse_unsigned, scorer, text,
};
use super::query::{deadline, may_take_long};
use crate::commands::{Args, ExecCtx};
use crate::error::CmdError;
use crate::protocol::{Protocol, Reply};
use crate::search::aggregate::{Pipeline, Row, Step};
use crate::search::expr::Value;
use crate::search::index::{Hit, Index, SearchOptions};
use crate::search::query::{KnnClause, Params, Query, QueryNode, check_knn};
use crate::search::schema::{FieldKind, Metric};
use crate::search::{IndexDef, SearchError};

/// Neighbours a KNN asks for when neither K nor LIMIT says.
const DEFAULT_K: usize = 10;
/// Results taken from each list into the fusion when neither WINDOW nor LIMIT says.
const DEFAULT_WINDOW: usize = 20;
/// Rows sent when LIMIT does not say.
const DEFAULT_LIMIT: usize = 10;
const DEFAULT_RRF_CONSTANT: f64 = 60.0;
const MAX_RRF_CONSTANT: f64 = 100_000.0;
const DEFAULT_ALPHA: f64 = 0.3;
const DEFAULT_BETA: f64 = 0.7;
/// Largest K and WINDOW RediSearch accepts (2^58).
const MAX_K: i64 = 1 << 58;
/// RediSearch's hybrid queries are always parsed as dialect 2.
const DIALECT: u32 = 2;

/// How the vector side searches.
#[derive(Debug, Clone, PartialEq)]
enum Method {
    /// `None` K: not given (LIMIT or the default stands for it).
    Knn {
        k: Option<usize>,
        ef_runtime: Option<usize>,
    },
    Range {
        radius: f64,
        epsilon: Option<f64>,
    },
}

/// The VSIM clause.
#[derive(Debug, Clone, PartialEq)]
struct Vsim {
    /// The attribute, `@` removed.
    field: String,
    /// `$name` (a PARAMS reference) or the vector itself.
    vector: Bytes,
    method: Method,
    /// A query (FT.SEARCH syntax) the vector candidates must match.
    filter: Option<Bytes>,
    yield_as: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Fusion {
    Rrf { constant: f64 },
    Linear { alpha: f64, beta: f64 },
}

#[derive(Debug, Clone, PartialEq)]
struct Combine {
    fusion: Fusion,
    window: Option<usize>,
    yield_as: Option<String>,
}

impl Default for Combine {
    fn default() -> Combine {
        Combine {
            fusion: Fusion::Rrf {
                constant: DEFAULT_RRF_CONSTANT,
            },
            window: None,
            yield_as: None,
        }
    }
}

#[derive(Debug)]
struct Request {
    search: Bytes,
    scorer: Option<String>,
    search_yield: Option<String>,
    vsim: Vsim,
    combine: Combine,
    load: Load,
    pipeline: Pipeline,
    params: Params,
    timeout: Option<u64>,
}

/// Parses the arguments after the index name; `max_results` bounds LIMIT.
fn parse(args: &mut Args, max_results: u64) -> Result<Request, CmdError> {
    if !args.eat("SEARCH") {
        return Err(coded("SEARCH argument is required"));
    }
    let search = args
        .next()
        .ok_or_else(|| coded("No query string provided for SEARCH"))?;
    let (mut scorer, mut search_yield) = (None, None);
    loop {
        if args.eat("SCORER") {
            scorer = Some(text(&required(args, "SCORER")?));
        } else if args.eat("YIELD_SCORE_AS") {
            search_yield = Some(text(&required(args, "YIELD_SCORE_AS")?));
        } else {
            break;
        }
    }
    if !args.eat("VSIM") {
        return match args.peek() {
            Some(arg) => Err(coded(format!("Unknown argument `{}` in SEARCH", text(arg)))),
            None => Err(coded("VSIM argument is required")),
        };
    }
    let vsim = parse_vsim(args)?;
    let combine = if args.eat("COMBINE") {
        parse_combine(args)?
    } else {
        Combine::default()
    };
    let mut req = Request {
        search,
        scorer,
        search_yield,
        vsim,
        combine,
        load: Load::Nothing,
        pipeline: Pipeline::default(),
        params: Params::new(),
        timeout: None,
    };
    let mut params_seen = false;
    while let Some(arg) = args.next() {
        match arg.to_ascii_uppercase().as_slice() {
            b"PARAMS" => req.params = parse_params(args, &mut params_seen)?,
            b"TIMEOUT" => req.timeout = Some(parse_timeout(args)?),
            b"WITHCURSOR" => return Err(coded("WITHCURSOR is not supported on FT.HYBRID")),
            keyword => {
                if !parse_step(keyword, args, &mut req.pipeline, &mut req.load, max_results)? {
                    return Err(coded(format!("Unknown argument `{}`", text(&arg))));
                }
            }
        }
    }
    Ok(req)
}

/// The value after `name`, which must be there.
fn required(args: &mut Args, name: &str) -> Result<Bytes, CmdError> {
    args.next()
        .ok_or_else(|| coded(format!("Missing argument value for {name}")))
}

/// `VSIM @field vector` and what follows it, in any order: KNN / RANGE (one of them),
/// FILTER, YIELD_SCORE_AS.
fn parse_vsim(args: &mut Args) -> Result<Vsim, CmdError> {
    let field = args
        .next()
        .ok_or_else(|| coded("Missing vector field name"))?;
    let field = match text(&field).strip_prefix('@') {
        Some(name) if !name.is_empty() => name.to_string(),
        _ => return Err(coded("Missing @ prefix for vector field name")),
    };
    let vector = args
        .next()
        .ok_or_else(|| coded("Missing vector argument"))?;
    let mut vsim = Vsim {
        field,
        vector,
        method: Method::Knn {
            k: None,
            ef_runtime: None,
        },
        filter: None,
        yield_as: None,
    };
    let mut method_seen = false;
    while let Some(keyword) = args.peek().map(|a| a.to_ascii_uppercase()) {
        match keyword.as_slice() {
            b"KNN" | b"RANGE" if method_seen => {
                return Err(coded("Only one of KNN or RANGE may be given"));
            }
            b"KNN" | b"RANGE" => {
                let _ = args.next();
                method_seen = true;
                let knn = keyword.as_slice() == b"KNN";
                vsim.method = parse_method(args, knn, &mut vsim.yield_as)?;
            }
            b"FILTER" if vsim.filter.is_none() => {
                let _ = args.next();
                vsim.filter = Some(required(args, "FILTER")?);
            }
            b"YIELD_SCORE_AS" => {
                let _ = args.next();
                set_yield(&mut vsim.yield_as, required(args, "YIELD_SCORE_AS")?)?;
            }
            _ => break,
        }
    }
    Ok(vsim)
}

fn set_yield(slot: &mut Option<String>, name: Bytes) -> Result<(), CmdError> {
    if slot.is_some() {
        return Err(coded("Duplicate YIELD_SCORE_AS argument"));
    }
    *slot = Some(text(&name));
    Ok(())
}

/// `count name value ...`: the pairs of a KNN, RANGE or COMBINE clause (names upper-cased).
fn pairs(args: &mut Args) -> Result<Vec<(String, Bytes)>, CmdError> {
    let count = args.next().ok_or_else(|| coded("Missing argument count"))?;
    let n = parse_unsigned(&count)
        .map_err(|_| coded("Invalid argument count: expected an unsigned integer"))?;
    if n == 0 || n % 2 != 0 {
        return Err(coded(format!(
            "Invalid argument count: {n} (must be a positive even number for key/value pairs)"
        )));
    }
    let available = args.remaining() as u64;
    if n > available {
        let verb = if available == 1 { "was" } else { "were" };
        return Err(coded(format!(
            "Expected arguments {n}, but {available} {verb} provided"
        )));
    }
    let items: Vec<Bytes> = args.by_ref().take(n as usize).collect();
    Ok(items
        .chunks(2)
        .map(|pair| (text(&pair[0]).to_ascii_uppercase(), pair[1].clone()))
        .collect())
}

/// A whole number, also written in scientific notation (`1e3`) as RediSearch reads K.
fn whole_number(arg: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(arg).ok()?;
    if let Ok(n) = text.parse::<i64>() {
        return Some(n);
    }
    let n: f64 = text.parse().ok()?;
    (n.is_finite() && n.fract() == 0.0 && n.abs() < 9.2e18).then_some(n as i64)
}

fn finite(arg: &[u8]) -> Option<f64> {
    let n: f64 = std::str::from_utf8(arg).ok()?.trim().parse().ok()?;
    n.is_finite().then_some(n)
}

fn parse_method(
    args: &mut Args,
    knn: bool,
    yield_as: &mut Option<String>,
) -> Result<Method, CmdError> {
    let clause = if knn { "KNN" } else { "RANGE" };
    let (mut k, mut ef_runtime, mut radius, mut epsilon) = (None, None, None, None);
    for (name, value) in pairs(args)? {
        let duplicate = || coded(format!("Duplicate {name} argument"));
        match (knn, name.as_str()) {
            (true, "K") => {
                if k.is_some() {
                    return Err(duplicate());
                }
                let n = whole_number(&value)
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| coded("Invalid K value"))?;
                if n > MAX_K {
                    return Err(coded("KNN K parameter is too large"));
                }
                k = Some(n as usize);
            }
            (true, "EF_RUNTIME") => {
                if ef_runtime.is_some() {
                    return Err(duplicate());
                }
                let n = parse_unsigned(&value)
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| coded("Invalid EF_RUNTIME value"))?;
                ef_runtime = Some(usize::try_from(n).unwrap_or(usize::MAX));
            }
            (false, "RADIUS") => {
                if radius.is_some() {
                    return Err(duplicate());
                }
                radius = Some(finite(&value).ok_or_else(|| coded("Invalid RADIUS value"))?);
            }
            (false, "EPSILON") => {
                if epsilon.is_some() {
                    return Err(duplicate());
                }
                let e = finite(&value)
                    .filter(|e| *e > 0.0)
                    .ok_or_else(|| coded("Invalid EPSILON value"))?;
                epsilon = Some(e);
            }
            (_, "YIELD_SCORE_AS") => set_yield(yield_as, value)?,
            _ => {
                return Err(coded(format!("Unknown argument `{name}` in {clause}")));
            }
        }
    }
    if knn {
        if k.is_none() {
            return Err(coded("Missing required argument K"));
        }
        return Ok(Method::Knn { k, ef_runtime });
    }
    let radius = radius.ok_or_else(|| coded("Missing required argument RADIUS"))?;
    Ok(Method::Range { radius, epsilon })
}

/// `COMBINE RRF n ...` or `COMBINE LINEAR n ...` (RRF when neither is named).
fn parse_combine(args: &mut Args) -> Result<Combine, CmdError> {
    let linear = if args.eat("LINEAR") {
        true
    } else {
        let _ = args.eat("RRF");
        false
    };
    let mut combine = Combine::default();
    // RRF's count may be left out when nothing follows it.
    let numbered = args.peek().is_some_and(|a| parse_unsigned(a).is_ok());
    if !numbered && !linear {
        return Ok(combine);
    }
    let clause = if linear { "LINEAR" } else { "RRF" };
    let (mut constant, mut alpha, mut beta) = (None, None, None);
    for (name, value) in pairs(args)? {
        let slot = match (linear, name.as_str()) {
            (false, "CONSTANT") => &mut constant,
            (true, "ALPHA") => &mut alpha,
            (true, "BETA") => &mut beta,
            (_, "WINDOW") => {
                if combine.window.is_some() {
                    return Err(coded("Duplicate WINDOW argument"));
                }
                combine.window = Some(parse_window(&value)?);
                continue;
            }
            (_, "YIELD_SCORE_AS") => {
                set_yield(&mut combine.yield_as, value)?;
                continue;
            }
            _ => return Err(coded(format!("Unknown argument `{name}` in {clause}"))),
        };
        if slot.is_some() {
            return Err(coded(format!("Duplicate {name} argument")));
        }
        let n = finite(&value)
            .ok_or_else(|| bad_args(&name, "Could not convert argument to expected type"))?;
        *slot = Some(n);
    }
    combine.fusion = if linear {
        match (alpha, beta) {
            (Some(alpha), Some(beta)) => Fusion::Linear { alpha, beta },
            (None, None) => Fusion::Linear {
                alpha: DEFAULT_ALPHA,
                beta: DEFAULT_BETA,
            },
            (Some(_), None) => return Err(coded("Missing value for BETA")),
            (None, Some(_)) => return Err(coded("Missing value for ALPHA")),
        }
    } else {
        let constant = constant.unwrap_or(DEFAULT_RRF_CONSTANT);
        if constant < 0.0 {
            return Err(bad_args("CONSTANT", "Value below minimum"));
        }
        if constant > MAX_RRF_CONSTANT {
            return Err(bad_args("CONSTANT", "Value above maximum"));
        }
        Fusion::Rrf { constant }
    };
    Ok(combine)
}

/// WINDOW: a whole number from 1 to 2^58, with RediSearch's argument errors.
fn parse_window(value: &[u8]) -> Result<usize, CmdError> {
    let n = std::str::from_utf8(value)
        .ok()
        .and_then(|t| t.parse::<i64>().ok())
        .ok_or_else(|| bad_args("WINDOW", "Could not convert argument to expected type"))?;
    match n {
        n if n < 0 => Err(bad_args("WINDOW", "Value is outside acceptable bounds")),
        0 => Err(bad_args("WINDOW", "Value below minimum")),
        n if n > MAX_K => Err(bad_args("WINDOW", "Value above maximum")),
        n => Ok(n as usize),
    }
}

/// The vector query yields its distances under this name (KNN and RANGE alike).
fn distance_name(field: &str) -> String {
    format!("__{field}_score")
}

impl Vsim {
    /// The vector side as a query of the executor: `(FILTER)=>[KNN k @field $vec]`, or
    /// `@field:[VECTOR_RANGE r $vec] (FILTER)`. Returns it with the field's metric.
    fn query(
        &self,
        def: &IndexDef,
        params: &Params,
        k: usize,
    ) -> Result<(Query, Metric), SearchError> {
        let vector = match def.field(&self.field).map(|f| &f.kind) {
            Some(FieldKind::Vector(vector)) => vector,
            _ => {
                return Err(SearchError::other(format!(
                    "Expected a VECTOR field: {}",
                    self.field
                )));
            }
        };
        let (blob, blob_param) = match self.vector.strip_prefix(b"$") {
            Some(name) => {
                let name = text(name);
                let blob = params
                    .get(&name)
                    .cloned()
                    .ok_or_else(|| SearchError::other(format!("No such parameter `{name}`")))?;
                (blob, name)
            }
            None => (self.vector.clone(), String::new()),
        };
        let filter = match &self.filter {
            Some(filter) => {
                let parsed = crate::search::query::parse(filter, def, params, DIALECT)?;
                if parsed.knn.is_some() {
                    return Err(SearchError::other(
                        "Vector expressions are not allowed in FT.HYBRID VSIM FILTER",
                    ));
                }
                parsed.filter
            }
            None => QueryNode::All,
        };
        let query = match &self.method {
            Method::Knn { ef_runtime, .. } => {
                let mut knn = KnnClause::new(k, self.field.clone(), blob, blob_param);
                knn.ef_runtime = *ef_runtime;
                knn.alias = Some(distance_name(&self.field));
                check_knn(&knn, false, vector.algorithm)?;
                Query {
                    filter,
                    knn: Some(knn),
                }
            }
            Method::Range { radius, epsilon } => {
                let range = QueryNode::VectorRange {
                    field: self.field.clone(),
                    radius: *radius,
                    blob,
                    blob_param,
                    yield_as: Some(distance_name(&self.field)),
                    epsilon: *epsilon,
                };
                let filter = match filter {
                    QueryNode::All => range,
                    other => QueryNode::And(vec![range, other]),
                };
                Query { filter, knn: None }
            }
        };
        Ok((query, vector.metric))
    }
}

/// A distance as the [0, 1] score RediSearch's hybrid search gives it (1: the same vector).
fn normalised(metric: Metric, distance: f64) -> f64 {
    match metric {
        Metric::L2 => 1.0 / (1.0 + distance),
        Metric::Cosine => (2.0 - distance) / 2.0,
        Metric::Ip => (1.0 + distance) / 2.0,
    }
}

/// One document of the fused list: its search score and vector score where it was in that
/// list, with its rank there (from 1).
#[derive(Debug, Clone, PartialEq)]
struct Fused {
    key: Bytes,
    search: Option<(usize, f64)>,
    vector: Option<(usize, f64)>,
    score: f64,
}

/// Fuses the two ranked lists (each already cut to the window), best first; equal scores
/// keep the order documents were first seen in (search list, then vector list).
fn fuse(search: &[(Bytes, f64)], vector: &[(Bytes, f64)], fusion: Fusion) -> Vec<Fused> {
    let mut fused: Vec<Fused> = Vec::new();
    let mut at: HashMap<Bytes, usize> = HashMap::new();
    for (list, is_search) in [(search, true), (vector, false)] {
        for (rank, (key, score)) in list.iter().enumerate() {
            let slot = *at.entry(key.clone()).or_insert_with(|| {
                fused.push(Fused {
                    key: key.clone(),
                    search: None,
                    vector: None,
                    score: 0.0,
                });
                fused.len() - 1
            });
            let entry = Some((rank + 1, *score));
            if is_search {
                fused[slot].search = entry;
            } else {
                fused[slot].vector = entry;
            }
        }
    }
    for doc in &mut fused {
        doc.score = match fusion {
            Fusion::Rrf { constant } => [doc.search, doc.vector]
                .into_iter()
                .flatten()
                .map(|(rank, _)| 1.0 / (constant + rank as f64))
                .sum(),
            Fusion::Linear { alpha, beta } => {
                alpha * doc.search.map_or(0.0, |s| s.1) + beta * doc.vector.map_or(0.0, |v| v.1)
            }
        };
    }
    fused.sort_by(|a, b| b.score.total_cmp(&a.score));
    fused
}

/// Runs `query` on the index, off the async worker when it may take long.
fn run(index: &Index, query: &Query, options: &SearchOptions) -> Result<Vec<Hit>, SearchError> {
    let search = || index.search(query, options);
    if may_take_long(index, query, options) {
        crate::scripting::off_worker(search)
    } else {
        search()
    }
}

pub fn ft_hybrid(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let started = Instant::now();
    let name = text(&args.next_bytes()?);
    let search = &ctx.state.search;
    let mut req = parse(args, search.config.max_aggregate_results())?;
    let index = search
        .get(&name)
        .ok_or_else(|| SearchError::NoSuchIndex(name.clone()))?;
    let scorer = scorer(Some(req.scorer.as_deref().unwrap_or("BM25STD")))?;

    // An explicit LIMIT stands for K and WINDOW when they are not given.
    let limit = req.pipeline.steps.iter().find_map(|s| match s {
        Step::Arrange(a) if a.limited && a.limit > 0 => Some(a.limit),
        _ => None,
    });
    if limit.is_none() {
        let arrange = req.pipeline.arrange();
        if !arrange.limited && arrange.limit == 0 {
            arrange.limit = DEFAULT_LIMIT;
        }
    }
    let window = req.combine.window.or(limit).unwrap_or(DEFAULT_WINDOW);
    let k = match req.vsim.method {
        Method::Knn { k, .. } => k.or(limit).unwrap_or(DEFAULT_K),
        // RANGE takes every document within the radius.
        Method::Range { .. } => 0,
    };
    let k = match req.combine.fusion {
        Fusion::Rrf { .. } => k.min(window),
        Fusion::Linear { .. } => k,
    };

    let text_query = crate::search::query::parse(&req.search, &index.def, &req.params, DIALECT)?;
    if text_query.knn.is_some() {
        return Err(
            SearchError::other("Vector expressions are not allowed in FT.HYBRID SEARCH").into(),
        );
    }
    let (vector_query, metric) = req.vsim.query(&index.def, &req.params, k)?;

    let yields: Vec<String> = [&req.search_yield, &req.vsim.yield_as, &req.combine.yield_as]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    let source = |name: &str| {
        req.load.provides(name)
            || index.def.field(name).is_some()
            || yields.iter().any(|y| y == name)
            || name == "__key"
            || name == "__score"
    };
    let wanted = req.pipeline.source_fields(&source)?;

    let options = SearchOptions {
        scorer,
        now_ms: crate::keyspace::unix_ms(),
        deadline: deadline(started, req.timeout, &search.config),
        ..SearchOptions::default()
    };
    let search_list: Vec<(Bytes, f64)> = run(&index, &text_query, &options)?
        .into_iter()
        .take(window)
        .map(|hit| (hit.key, hit.score))
        .collect();
    let distance = distance_name(&req.vsim.field);
    let mut nearest: Vec<(Bytes, f64)> = run(&index, &vector_query, &options)?
        .into_iter()
        .filter_map(|hit| {
            let d = hit.distances.iter().find(|(n, _)| *n == distance)?.1;
            Some((hit.key, d))
        })
        .collect();
    // Nearest first; the executor returns equal distances in doc id order, kept stable.
    nearest.sort_by(|a, b| a.1.total_cmp(&b.1));
    nearest.truncate(window);
    let vector_list: Vec<(Bytes, f64)> = nearest
        .into_iter()
        .map(|(key, d)| (key, normalised(metric, d)))
        .collect();
    let fused = fuse(&search_list, &vector_list, req.combine.fusion);

    let rows: Vec<Row> = fused
        .iter()
        .map(|doc| {
            let mut row = Row::default();
            if req.load == Load::Nothing {
                row.set("__key", Value::Str(text(&doc.key)));
            }
            if req.load == Load::Nothing || wanted.iter().any(|w| w == "__score") {
                row.set("__score", Value::Number(doc.score));
            }
            let scores = [
                (&req.search_yield, doc.search.map(|s| s.1)),
                (&req.vsim.yield_as, doc.vector.map(|v| v.1)),
                (&req.combine.yield_as, Some(doc.score)),
            ];
            for (name, score) in scores {
                if let (Some(name), Some(score)) = (name, score) {
                    row.set(name, Value::Number(score));
                }
            }
            load_into(ctx, &doc.key, &req.load, &wanted, &index.def, &mut row);
            row
        })
        .collect();
    let deadline = &options.deadline;
    let output = req.pipeline.run_measured(rows, &mut Vec::new(), deadline);
    let timed_out = deadline.timed_out();
    if timed_out && deadline.fails() {
        return Err(SearchError::Timeout.into());
    }
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok(reply(
        output.rows,
        output.total,
        timed_out,
        elapsed_ms,
        ctx.client.protocol,
    ))
}

/// RESP2 `[total_results, n, results, [[name, value, ...], ...], warnings, [...],
/// execution_time, ms]`; RESP3 the same as a map, each row a map. `timed_out`: the results
/// are partial, which the warnings say.
fn reply(
    rows: Vec<Row>,
    total: usize,
    timed_out: bool,
    elapsed_ms: f64,
    protocol: Protocol,
) -> Reply {
    let resp3 = protocol == Protocol::Resp3;
    let results = rows
        .into_iter()
        .map(|row| {
            let fields = row
                .fields
                .into_iter()
                .map(|(name, value)| (Reply::bulk(name), value_reply(value)));
            if resp3 {
                Reply::Map(fields.collect())
            } else {
                Reply::Array(fields.flat_map(|(k, v)| [k, v]).collect())
            }
        })
        .collect();
    let entries = [
        (
            "total_results",
            Reply::Integer(i64::try_from(total).unwrap_or(i64::MAX)),
        ),
        ("results", Reply::Array(results)),
        (
            "warnings",
            Reply::Array(match timed_out {
                true => vec![Reply::simple(&SearchError::Timeout.to_string())],
                false => Vec::new(),
            }),
        ),
        ("execution_time", Reply::Double(elapsed_ms)),
    ];
    if resp3 {
        Reply::Map(
            entries
                .into_iter()
                .map(|(k, v)| (Reply::simple(k), v))
                .collect(),
        )
    } else {
        Reply::Array(
            entries
                .into_iter()
                .flat_map(|(k, v)| [Reply::simple(k), v])
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[(&str, f64)]) -> Vec<(Bytes, f64)> {
        items
            .iter()
            .map(|(k, s)| (Bytes::copy_from_slice(k.as_bytes()), *s))
            .collect()
    }

    fn keys(fused: &[Fused]) -> Vec<&[u8]> {
        fused.iter().map(|f| f.key.as_ref()).collect()
    }

    #[test]
    fn rrf_sums_reciprocal_ranks_and_keeps_first_seen_order_on_ties() {
        let search = list(&[("a", 3.0), ("b", 2.0), ("c", 1.0)]);
        let vector = list(&[("d", 1.0), ("b", 0.5), ("a", 0.2)]);
        let fused = fuse(&search, &vector, Fusion::Rrf { constant: 1.0 });
        // a: 1/2 + 1/4, b: 1/3 + 1/3, d: 1/2, c: 1/4.
        assert_eq!(keys(&fused), [b"a".as_ref(), b"b", b"d", b"c"]);
        assert!((fused[0].score - 0.75).abs() < 1e-12);
        assert!((fused[1].score - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(fused[1].search, Some((2, 2.0)));
        assert_eq!(fused[1].vector, Some((2, 0.5)));
        assert_eq!(fused[3].vector, None);
        let tied = fuse(
            &list(&[("x", 1.0)]),
            &list(&[("y", 1.0)]),
            Fusion::Rrf { constant: 60.0 },
        );
        assert_eq!(keys(&tied), [b"x".as_ref(), b"y"]);
    }

    #[test]
    fn linear_weighs_scores_missing_sides_count_zero() {
        let search = list(&[("a", 2.0), ("b", 1.0)]);
        let vector = list(&[("b", 1.0), ("c", 0.5)]);
        let fused = fuse(
            &search,
            &vector,
            Fusion::Linear {
                alpha: 0.3,
                beta: 0.7,
            },
        );
        let scores: Vec<(&[u8], f64)> = fused.iter().map(|f| (f.key.as_ref(), f.score)).collect();
        assert_eq!(keys(&fused), [b"b".as_ref(), b"a", b"c"]);
        assert!((scores[0].1 - 1.0).abs() < 1e-12);
        assert!((scores[1].1 - 0.6).abs() < 1e-12);
        assert!((scores[2].1 - 0.35).abs() < 1e-12);
    }

    #[test]
    fn distances_normalise_per_metric() {
        assert_eq!(normalised(Metric::L2, 0.0), 1.0);
        assert_eq!(normalised(Metric::L2, 1.0), 0.5);
        assert_eq!(normalised(Metric::Cosine, 0.0), 1.0);
        assert_eq!(normalised(Metric::Cosine, 2.0), 0.0);
        assert_eq!(normalised(Metric::Ip, 1.0), 1.0);
    }

    #[test]
    fn window_bounds() {
        let err = |v: &str| parse_window(v.as_bytes()).unwrap_err().to_string();
        assert_eq!(parse_window(b"20").ok(), Some(20));
        assert_eq!(err("0"), "Bad arguments for WINDOW: Value below minimum");
        assert_eq!(
            err("-1"),
            "Bad arguments for WINDOW: Value is outside acceptable bounds"
        );
        assert_eq!(
            err("288230376151711745"),
            "Bad arguments for WINDOW: Value above maximum"
        );
        assert_eq!(
            err("1.5"),
            "Bad arguments for WINDOW: Could not convert argument to expected type"
        );
        assert_eq!(whole_number(b"1e3"), Some(1000));
        assert_eq!(whole_number(b"1.5"), None);
    }
}
