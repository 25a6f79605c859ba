//! FT.AGGREGATE and FT.CURSOR READ / DEL: argument parsing (options in any order, pipeline
//! steps in command order), running the query, loading each document's fields into a row,
//! running [`Pipeline`] over the rows, and the replies in RediSearch 2.10's RESP2 / RESP3
//! shapes (values sent as strings, numbers as `%lld` / `%.12g`).
//!
//! Order of work, as FT.SEARCH's ([`super::query`]): parse (no lock) ->
//! [`crate::search::index::Index::search`] (the index locks itself) -> load each hit's fields
//! under its own shard lock, never while an index lock is held -> the pipeline; loading and
//! pipeline run off the async worker when the rows are many.

use std::time::Instant;

use bytes::Bytes;

use super::profile::step_processors;
use super::query::options::{
    bad_args, coded, limit_pair, parse_dialect, parse_params, parse_timeout, parse_unsigned,
    scorer, text, value_of, var_args,
};
use super::query::{
    Phases, Processor, deadline, format_number, live_field, may_take_long, measured_search,
    resp3_results, yielded_fields,
};
use crate::commands::{Args, ExecCtx};
use crate::error::CmdError;
use crate::keyspace::Value as KeyValue;
use crate::protocol::{Protocol, Reply};
use crate::search::aggregate::cursor::Batch;
use crate::search::aggregate::{Output, Pipeline, ReducerSpec, Row, Step};
use crate::search::expr::{Expr, Value};
use crate::search::index::{Hit, SearchOptions};
use crate::search::query::Params;
use crate::search::stats::Running;
use crate::search::{IndexDef, SearchError};

/// Loading and running the pipeline over more rows than this happens off the async worker.
const SMALL_ROWS: usize = 5_000;

/// What LOAD asks for.
#[derive(Debug, Default, PartialEq)]
pub(super) enum Load {
    #[default]
    Nothing,
    /// `LOAD *`: every field of the hash.
    All,
    /// `LOAD n @f [AS a] ...`: (hash field or `__key`, row name).
    Fields(Vec<(String, String)>),
}

impl Load {
    /// Whether the rows get a field named `name` from it.
    pub(super) fn provides(&self, name: &str) -> bool {
        match self {
            Load::All => true,
            Load::Fields(fields) => fields.iter().any(|(_, n)| n == name),
            Load::Nothing => false,
        }
    }
}

#[derive(Debug, Default)]
struct Request {
    query: Bytes,
    verbatim: bool,
    in_keys: Option<Vec<Bytes>>,
    in_fields: Option<Vec<String>>,
    load: Load,
    pipeline: Pipeline,
    params: Params,
    dialect: Option<u32>,
    add_scores: bool,
    scorer: Option<String>,
    /// WITHCURSOR: rows per read (0: the default) and MAXIDLE (`None`: CURSOR_MAX_IDLE).
    cursor: Option<(usize, Option<u64>)>,
    /// `TIMEOUT ms` (0: none); `None`: the TIMEOUT setting.
    timeout: Option<u64>,
}

/// Parses the arguments after the index name; `max_results` is MAXAGGREGATERESULTS.
fn parse(args: &mut Args, max_results: u64) -> Result<Request, CmdError> {
    let mut req = Request {
        query: args.next_bytes()?,
        ..Request::default()
    };
    let mut params_seen = false;
    while let Some(arg) = args.peek().cloned() {
        let position = args.argv().len() - args.remaining() - 2;
        let _ = args.next();
        match arg.to_ascii_uppercase().as_slice() {
            b"VERBATIM" => req.verbatim = true,
            b"ADDSCORES" => req.add_scores = true,
            b"WITHSCHEMA" | b"NOSTOPWORDS" | b"INORDER" | b"WITHCOUNT" | b"WITHOUTCOUNT" => {}
            b"LANGUAGE" | b"EXPANDER" | b"PAYLOAD" | b"SLOP" => {
                value_of(args, &text(&arg))?;
            }
            b"INKEYS" => req.in_keys = Some(var_args(args, "INKEYS")?),
            b"INFIELDS" => {
                let fields = var_args(args, "INFIELDS")?;
                req.in_fields = Some(fields.iter().map(|f| text(f)).collect());
            }
            b"RETURN" | b"SUMMARIZE" | b"HIGHLIGHT" => {
                return Err(coded(format!(
                    "{} is not supported on FT.AGGREGATE",
                    text(&arg.to_ascii_uppercase())
                )));
            }
            b"SCORER" => req.scorer = Some(text(&value_of(args, "SCORER")?)),
            b"TIMEOUT" => req.timeout = Some(parse_timeout(args)?),
            b"DIALECT" => req.dialect = Some(parse_dialect(args)?),
            b"PARAMS" => req.params = parse_params(args, &mut params_seen)?,
            b"WITHCURSOR" => req.cursor = Some(parse_cursor(args)?),
            keyword => {
                if !parse_step(keyword, args, &mut req.pipeline, &mut req.load, max_results)? {
                    return Err(coded(format!(
                        "Unknown argument `{}` at position {position} for <main>",
                        text(&arg)
                    )));
                }
            }
        }
    }
    Ok(req)
}

/// One post-processing step FT.AGGREGATE and FT.HYBRID share (LOAD, GROUPBY, SORTBY,
/// APPLY, FILTER, LIMIT), `keyword` (upper-cased) already consumed: adds it to `pipeline`
/// (or sets `load`) and returns true, or returns false when `keyword` is none of them.
pub(super) fn parse_step(
    keyword: &[u8],
    args: &mut Args,
    pipeline: &mut Pipeline,
    load: &mut Load,
    max_results: u64,
) -> Result<bool, CmdError> {
    match keyword {
        b"LOAD" => {
            if pipeline
                .steps
                .iter()
                .any(|s| matches!(s, Step::GroupBy { .. }))
            {
                return Err(coded("LOAD cannot be applied after projectors or reducers"));
            }
            *load = parse_load(args)?;
        }
        b"GROUPBY" => pipeline.steps.push(parse_groupby(args)?),
        b"SORTBY" => parse_sortby(args, pipeline)?,
        b"APPLY" => {
            let expr = text(&value_of(args, "APPLY")?);
            let name = if args.eat("AS") {
                args.next()
                    .map(|a| text(&a))
                    .ok_or_else(|| bad_args("AS", "needs argument"))?
            } else {
                expr.clone()
            };
            pipeline.steps.push(Step::Apply {
                expr: Expr::parse(&expr)?,
                name,
            });
        }
        b"FILTER" => {
            let expr = text(&value_of(args, "FILTER")?);
            pipeline.steps.push(Step::Filter(Expr::parse(&expr)?));
        }
        b"LIMIT" => {
            let (offset, num) = limit_pair(args, max_results)?;
            let arrange = pipeline.arrange();
            arrange.limited = true;
            arrange.offset = usize::try_from(offset).unwrap_or(usize::MAX);
            arrange.limit = usize::try_from(num).unwrap_or(usize::MAX);
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// A property reference of GROUPBY / SORTBY: `@name`.
fn property(arg: &[u8], step: &str) -> Result<String, CmdError> {
    let name = text(arg);
    match name.strip_prefix('@') {
        Some(p) => Ok(p.to_string()),
        None => Err(bad_args(
            step,
            &format!("Unknown property `{name}`. Did you mean `@{name}`?"),
        )),
    }
}

fn parse_load(args: &mut Args) -> Result<Load, CmdError> {
    let count = value_of(args, "LOAD")?;
    if &count[..] == b"*" {
        return Ok(Load::All);
    }
    let n = parse_unsigned(&count).map_err(|reason| bad_args("LOAD", reason))?;
    if n > args.remaining() as u64 {
        return Err(bad_args("LOAD", "Expected an argument, but none provided"));
    }
    let items: Vec<String> = args.by_ref().take(n as usize).map(|a| text(&a)).collect();
    let mut fields = Vec::new();
    let mut items = items.into_iter().peekable();
    while let Some(item) = items.next() {
        let path = item.strip_prefix('@').unwrap_or(&item).to_string();
        let name = if items.peek().is_some_and(|a| a.eq_ignore_ascii_case("AS")) {
            items.next();
            items
                .next()
                .ok_or_else(|| bad_args("LOAD", "Expected an argument, but none provided"))?
        } else {
            path.clone()
        };
        fields.push((path, name));
    }
    Ok(Load::Fields(fields))
}

/// WITHCURSOR's `COUNT n` and `MAXIDLE ms`, each at least 1 as RediSearch requires.
fn parse_cursor(args: &mut Args) -> Result<(usize, Option<u64>), CmdError> {
    let (mut count, mut max_idle) = (0, None);
    let positive = |args: &mut Args, name: &str| -> Result<u64, CmdError> {
        let n = value_of(args, name)?;
        match parse_unsigned(&n) {
            Ok(0) => Err(bad_args(name, "Value is outside acceptable bounds")),
            Ok(n) => Ok(n),
            Err(reason) => Err(bad_args(name, reason)),
        }
    };
    loop {
        if args.eat("COUNT") {
            count = usize::try_from(positive(args, "COUNT")?).unwrap_or(usize::MAX);
        } else if args.eat("MAXIDLE") {
            max_idle = Some(positive(args, "MAXIDLE")?);
        } else {
            return Ok((count, max_idle));
        }
    }
}

fn parse_groupby(args: &mut Args) -> Result<Step, CmdError> {
    let keys = var_args(args, "GROUPBY")?
        .iter()
        .map(|k| property(k, "GROUPBY"))
        .collect::<Result<Vec<_>, _>>()?;
    let mut reducers = Vec::new();
    while args.eat("REDUCE") {
        let name = text(&value_of(args, "REDUCE")?);
        let reducer_args: Vec<String> = var_args(args, &name)?.iter().map(|a| text(a)).collect();
        let alias = if args.eat("AS") {
            Some(text(&value_of(args, "AS")?))
        } else {
            None
        };
        reducers.push(ReducerSpec::parse(&name, &reducer_args, alias)?);
    }
    Ok(Step::GroupBy { keys, reducers })
}

/// `SORTBY n @f [ASC|DESC] ... [MAX m]` into the segment's arrange step.
fn parse_sortby(args: &mut Args, pipeline: &mut Pipeline) -> Result<(), CmdError> {
    let list = var_args(args, "SORTBY")?;
    let arrange = pipeline.arrange();
    if !arrange.keys.is_empty() {
        return Err(coded(
            "Multiple SORTBY steps are not allowed. Sort multiple fields in a single step",
        ));
    }
    let mut keys: Vec<(String, bool)> = Vec::new();
    for item in &list {
        let item = text(item);
        if let Some(name) = item.strip_prefix('@') {
            keys.push((name.to_string(), true));
            continue;
        }
        let ascending = item.eq_ignore_ascii_case("ASC");
        match keys.last_mut() {
            Some(last) if ascending || item.eq_ignore_ascii_case("DESC") => last.1 = ascending,
            _ => {
                return Err(coded(format!(
                    "MISSING ASC or DESC after sort field ({item})"
                )));
            }
        }
    }
    if keys.is_empty() {
        return Err(coded("Bad SORTBY arguments"));
    }
    if args.eat("MAX") {
        let n = value_of(args, "MAX")?;
        let n = parse_unsigned(&n).map_err(|reason| bad_args("MAX", reason))?;
        arrange.limit = usize::try_from(n).unwrap_or(usize::MAX);
    }
    arrange.keys = keys;
    Ok(())
}

pub fn ft_aggregate(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let name = text(&args.next_bytes()?);
    aggregate_with(ctx, &name, args, None)
}

/// FT.AGGREGATE on index `name` with the arguments after it; `phases`, when given, is
/// filled with what FT.PROFILE reports (which refuses WITHCURSOR, as RediSearch does).
pub(super) fn aggregate_with(
    ctx: &mut ExecCtx,
    name: &str,
    args: &mut Args,
    phases: Option<&mut Phases>,
) -> Result<Reply, CmdError> {
    let started = Instant::now();
    let search = &ctx.state.search;
    let req = parse(args, search.config.max_aggregate_results())?;
    if phases.is_some() && req.cursor.is_some() {
        return Err(SearchError::other("FT.PROFILE does not support cursor").into());
    }
    let index = search
        .get(name)
        .ok_or_else(|| SearchError::NoSuchIndex(name.to_string()))?;
    let _running = Running::start(&index.stats.active_queries);
    let scorer = scorer(req.scorer.as_deref())?;
    let dialect = req
        .dialect
        .unwrap_or_else(|| search.config.default_dialect());
    let query = crate::search::query::parse(&req.query, &index.def, &req.params, dialect)?;
    let parsed = Instant::now();
    let yields = yielded_fields(&query, &index.def)?;
    let source = |name: &str| {
        req.load.provides(name)
            || index.def.field(name).is_some()
            || yields.iter().any(|y| y == name)
            || name == "__key"
            || (name == "__score" && req.add_scores)
    };
    let wanted = req.pipeline.source_fields(&source)?;

    let options = SearchOptions {
        in_keys: req.in_keys.clone(),
        in_fields: req.in_fields.clone(),
        verbatim: req.verbatim,
        scorer,
        now_ms: crate::keyspace::unix_ms(),
        deadline: deadline(started, req.timeout, &search.config),
        matched_terms: req.pipeline.reads_matched_terms(),
        ..SearchOptions::default()
    };
    let planned = Instant::now();
    let profiling = phases.is_some();
    let run = || measured_search(&index, &query, &options, profiling);
    let (hits, iterators, index_time) = if may_take_long(&index, &query, &options) {
        crate::scripting::off_worker(run)?
    } else {
        run()?
    };
    let deadline = &options.deadline;
    let build = || {
        let loading = Instant::now();
        let rows: Vec<Row> = hits
            .iter()
            .take_while(|_| !deadline.abandoned())
            .map(|hit| load_row(ctx, hit, &req, &yields, &wanted, &index.def))
            .collect();
        let load_time = loading.elapsed();
        let mut steps = Vec::new();
        let output = req.pipeline.run_measured(rows, &mut steps, deadline);
        (output, load_time, steps)
    };
    let (output, load_time, steps) = if hits.len() > SMALL_ROWS {
        crate::scripting::off_worker(build)
    } else {
        build()
    };
    let timed_out = deadline.timed_out();
    if timed_out && deadline.fails() && !profiling {
        return Err(SearchError::Timeout.into());
    }
    if let Some(phases) = phases {
        let matched = hits.len() as u64;
        let mut processors = Vec::new();
        if req.load != Load::Nothing || !wanted.is_empty() {
            processors.push(Processor::new("Loader", load_time, matched));
        }
        let mut input = matched;
        for (step, stats) in req.pipeline.steps.iter().zip(&steps) {
            processors.extend(step_processors(step, stats, input));
            input = stats.rows as u64;
        }
        *phases = Phases {
            parsing: parsed - started,
            pipeline: planned - parsed,
            iterators: iterators.map(|stats| (query.clone(), stats)),
            index: (index_time, matched),
            processors,
            timed_out,
        };
    }
    let protocol = ctx.client.protocol;
    let reply = match req.cursor {
        Some((count, max_idle)) => {
            // MAXIDLE is capped at CURSOR_MAX_IDLE, its default.
            let cap = search.config.cursor_max_idle_ms();
            let max_idle = max_idle.map_or(cap, |ms| ms.min(cap));
            let batch = index
                .cursors
                .open(output.rows, output.total, count, max_idle)?;
            cursor_reply(batch, protocol, timed_out)
        }
        None => rows_reply(output, protocol, timed_out),
    };
    search
        .queries
        .record_query(&index.stats.dialects, dialect, started.elapsed());
    Ok(reply)
}

/// One hit as a row: its matched terms, yielded distances, `__score` (ADDSCORES), the LOAD
/// fields, then the other names the pipeline reads from documents ([`load_into`]).
fn load_row(
    ctx: &ExecCtx,
    hit: &Hit,
    req: &Request,
    yields: &[String],
    wanted: &[String],
    def: &IndexDef,
) -> Row {
    let mut row = Row {
        terms: hit.terms.clone(),
        ..Row::default()
    };
    for (name, distance) in &hit.distances {
        if yields.contains(name) {
            row.set(name, Value::Number(*distance));
        }
    }
    if req.add_scores {
        row.set("__score", Value::Number(hit.score));
    }
    load_into(ctx, &hit.key, &req.load, wanted, def, &mut row);
    row
}

/// Adds to `row` (document `key`'s row, holding what the search gave already) the LOAD
/// fields, then every `wanted` name it still lacks. Hash fields are read under the key's
/// shard lock, and only when something is to be read from the hash; a key gone since the
/// search gives a row without them.
pub(super) fn load_into(
    ctx: &ExecCtx,
    key: &Bytes,
    load: &Load,
    wanted: &[String],
    def: &IndexDef,
    row: &mut Row,
) {
    let key_text = || Value::Str(String::from_utf8_lossy(key).into_owned());
    let identifier = |name: &str| match def.field(name) {
        Some(field) => field.identifier.clone(),
        None => Bytes::copy_from_slice(name.as_bytes()),
    };
    let reads_hash =
        *load != Load::Nothing || wanted.iter().any(|w| w != "__key" && row.get(w).is_none());
    if !reads_hash {
        if wanted.iter().any(|w| w == "__key") && row.get("__key").is_none() {
            row.set("__key", key_text());
        }
        return;
    }
    let mut guard = ctx.ks().lock(0, &[key]);
    let now = guard.now_ms();
    let hash = match guard.peek(key).map(|e| &e.value) {
        Some(KeyValue::Hash(hash)) => Some(hash),
        _ => None,
    };
    // Hash values stay bytes when they are not text (vector blobs), sent back unchanged.
    let read = |field: &[u8]| {
        hash.and_then(|h| live_field(h, field, now))
            .map(|v| match std::str::from_utf8(v) {
                Ok(text) => Value::Str(text.to_string()),
                Err(_) => Value::Bytes(v.clone()),
            })
    };
    let lookup = |path: &str| {
        if path == "__key" {
            Some(key_text())
        } else {
            read(&identifier(path))
        }
    };
    match load {
        Load::All => {
            if let Some(hash) = hash {
                for (field, _) in hash.iter() {
                    if let Some(value) = read(field) {
                        row.set(&String::from_utf8_lossy(field), value);
                    }
                }
            }
        }
        Load::Fields(fields) => {
            for (path, name) in fields {
                if let Some(value) = lookup(path) {
                    row.set(name, value);
                }
            }
        }
        Load::Nothing => {}
    }
    for name in wanted {
        if row.get(name).is_none()
            && let Some(value) = lookup(name)
        {
            row.set(name, value);
        }
    }
}

/// FT.CURSOR READ idx cid [COUNT n] | DEL idx cid.
pub fn ft_cursor(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let sub = args.next_bytes()?.to_ascii_uppercase();
    let name = text(&args.next_bytes()?);
    let id = args.next_bytes()?;
    let id: u64 = std::str::from_utf8(&id)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| coded("Bad cursor ID"))?;
    let index = ctx.state.search.get(&name);
    let not_found = || CmdError::from(SearchError::other(format!("Cursor not found, id: {id}")));
    match sub.as_slice() {
        b"READ" => {
            let count = if args.eat("COUNT") {
                let n = value_of(args, "COUNT")?;
                let n = parse_unsigned(&n).map_err(|reason| bad_args("COUNT", reason))?;
                Some(usize::try_from(n).unwrap_or(usize::MAX))
            } else {
                None
            };
            if let Some(extra) = args.next() {
                return Err(coded(format!("Unknown argument `{}`", text(&extra))));
            }
            let started = Instant::now();
            let batch = index.ok_or_else(not_found)?.cursors.read(id, count)?;
            let reply = cursor_reply(batch, ctx.client.protocol, false);
            ctx.state
                .search
                .queries
                .record_cursor_read(started.elapsed());
            Ok(reply)
        }
        b"DEL" => {
            if args.remaining() > 0 {
                return Err(CmdError::WrongArity("FT.CURSOR".into()));
            }
            index.ok_or_else(not_found)?.cursors.delete(id)?;
            Ok(Reply::ok())
        }
        _ => Err(coded("Unknown subcommand")),
    }
}

/// A row value as RediSearch sends it: strings as they are, numbers as `%lld` / `%.12g`,
/// lists as arrays, null as nil.
pub(super) fn value_reply(value: Value) -> Reply {
    match value {
        Value::Null => Reply::Nil,
        Value::Number(n) => Reply::bulk(format_number(n)),
        Value::Str(s) => Reply::bulk(s),
        Value::Bytes(b) => Reply::Bulk(b),
        Value::Array(items) => Reply::Array(items.into_iter().map(value_reply).collect()),
    }
}

/// RESP2 `[total, [name, value, ...], ...]`; RESP3 the map FT.SEARCH also sends, each
/// row's fields under `extra_attributes`, with the timeout `warning` of partial results.
fn rows_reply(output: Output, protocol: Protocol, timed_out: bool) -> Reply {
    let total = Reply::Integer(i64::try_from(output.total).unwrap_or(i64::MAX));
    if protocol == Protocol::Resp3 {
        let key = |k: &str| Reply::simple(k);
        let results: Vec<Reply> = output
            .rows
            .into_iter()
            .map(|row| {
                let fields = row
                    .fields
                    .into_iter()
                    .map(|(name, value)| (Reply::bulk(name), value_reply(value)))
                    .collect();
                Reply::Map(vec![
                    (key("extra_attributes"), Reply::Map(fields)),
                    (key("values"), Reply::Array(Vec::new())),
                ])
            })
            .collect();
        return resp3_results(results, total, timed_out);
    }
    let mut out = vec![total];
    out.extend(output.rows.into_iter().map(|row| {
        Reply::Array(
            row.fields
                .into_iter()
                .flat_map(|(name, value)| [Reply::bulk(name), value_reply(value)])
                .collect(),
        )
    }));
    Reply::Array(out)
}

/// `[rows reply, cursor id]` in both protocols; `timed_out`: the aggregation that opened
/// the cursor ran out of time.
fn cursor_reply(batch: Batch, protocol: Protocol, timed_out: bool) -> Reply {
    let output = Output {
        rows: batch.rows,
        total: batch.total,
    };
    Reply::Array(vec![
        rows_reply(output, protocol, timed_out),
        Reply::Integer(i64::try_from(batch.cursor_id).unwrap_or(i64::MAX)),
    ])
}
