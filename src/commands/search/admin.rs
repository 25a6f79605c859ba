//! Index administration: FT.CREATE, FT.INFO, FT._LIST, FT.DROPINDEX, FT.TAGVALS,
//! FT.ALIASADD / ALIASUPDATE / ALIASDEL and FT.CONFIG.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::backfill;
use crate::commands::{Args, ExecCtx};
use crate::error::CmdError;
use crate::protocol::{Protocol, Reply};
use crate::pubsub::NotifyClass;
use crate::search::aggregate::cursor::CURSOR_CAPACITY;
use crate::search::config::MAX_DIALECT;
use crate::search::index::{Index, IndexStats};
use crate::search::registry::AliasOp;
use crate::search::{FieldDef, FieldKind, IndexDef, SearchError, VectorAlgorithm};
use crate::state::ServerState;

/// The module FT.* belongs to, as MODULE LIST, INFO and HELLO advertise it: RediSearch 2.10's
/// name and a version in its range, which clients gate features on.
pub const MODULE_NAME: &str = "search";
pub const MODULE_VERSION: i64 = 21020;

/// Keys FT.DROPINDEX DD deletes under one lock, so other clients' commands interleave.
const DROP_BATCH: usize = 512;

/// The module's MODULE LIST / HELLO entry: a map (a flat array in RESP2).
pub fn module_entry() -> Reply {
    let path = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    Reply::Map(vec![
        (Reply::bulk_str("name"), Reply::bulk_str(MODULE_NAME)),
        (Reply::bulk_str("ver"), Reply::Integer(MODULE_VERSION)),
        (Reply::bulk_str("path"), Reply::bulk_str(path)),
        (Reply::bulk_str("args"), Reply::Array(Vec::new())),
    ])
}

/// The module's line in INFO's `# Modules` section.
pub fn module_info_line() -> String {
    format!(
        "name={MODULE_NAME},ver={MODULE_VERSION},api=1,filters=0,usedby=[],using=[],options=[handle-io-errors]"
    )
}

/// Milliseconds spent indexing `stats`' documents, divided in single precision as RediSearch
/// does (FT.INFO and INFO `total_indexing_time`).
pub(super) fn indexing_ms(stats: &IndexStats) -> f64 {
    let micros = stats.indexing_micros.load(Ordering::Relaxed);
    f64::from(micros as f32 / 1000.0)
}

/// The next argument as a name (index, alias, attribute, setting); names are text.
fn next_name(args: &mut Args) -> Result<String, CmdError> {
    Ok(String::from_utf8_lossy(&args.next_bytes()?).into_owned())
}

/// `FT.CREATE index [options] SCHEMA field ...`: registers the index and, unless
/// SKIPINITIALSCAN, starts indexing the hashes already stored.
pub fn ft_create(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    if ctx.db() != 0 {
        return Err(SearchError::other("Cannot create index on db != 0").into());
    }
    let name = next_name(args)?;
    // RediSearch refuses an existing name before reading the rest.
    if ctx.state.search.names().contains(&name) {
        return Err(SearchError::IndexExists.into());
    }
    let def = IndexDef::parse(&name, &args.rest())?;
    let scan = !def.skip_initial_scan;
    let index = ctx.state.search.create(def)?;
    start(ctx, index, scan);
    Ok(Reply::ok())
}

/// Sets a new (or altered) index going: its TEMPORARY expiry, and its initial scan if `scan`.
fn start(ctx: &ExecCtx, index: Arc<Index>, scan: bool) {
    if let Some(secs) = index.def.temporary {
        drop_when_idle(ctx.state.handle(), index.clone(), Duration::from_secs(secs));
    }
    if scan {
        backfill::start(ctx.state.handle(), index);
    }
}

/// The index (or aliased index) `name`, or RediSearch's `Unknown index name`.
fn known_index(ctx: &ExecCtx, name: &str) -> Result<Arc<Index>, CmdError> {
    Ok(ctx
        .state
        .search
        .get(name)
        .ok_or(SearchError::UnknownIndexName)?)
}

/// `FT.ALTER index [SKIPINITIALSCAN] SCHEMA ADD field options...`: the index with the new
/// fields takes the old one's place (name, aliases, TEMPORARY) and every covered hash is
/// scanned into it in the background, so existing documents get the new fields indexed.
/// With SKIPINITIALSCAN the scan still runs (the new index starts empty) but indexes the
/// existing documents without the added fields, as RediSearch leaves them.
pub fn ft_alter(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let index = known_index(ctx, &next_name(args)?)?;
    let skip_scan = args.eat("SKIPINITIALSCAN");
    if !args.eat("SCHEMA") {
        return Err(SearchError::other("ALTER must be followed by SCHEMA").into());
    }
    if !args.eat("ADD") {
        return Err(SearchError::other("Unknown action passed to ALTER SCHEMA").into());
    }
    if args.remaining() == 0 {
        return Err(SearchError::other("No fields provided").into());
    }
    let def = index.def.with_added_fields(&args.rest())?;
    let hidden = match skip_scan {
        true => def.fields[index.def.fields.len()..]
            .iter()
            .map(|f| f.identifier.clone())
            .collect(),
        false => Vec::new(),
    };
    let altered = ctx.state.search.replace(&index, def)?;
    start(ctx, altered.clone(), false);
    backfill::start_hiding(ctx.state.handle(), altered, hidden);
    Ok(Reply::ok())
}

/// `TEMPORARY secs`: drops the index (not its documents) once it has gone `idle` without
/// a use (FT.SEARCH, FT.INFO ...), as RediSearch's per-index timer does.
fn drop_when_idle(state: Arc<ServerState>, index: Arc<Index>, idle: Duration) {
    let watch = move || {
        let mut uses = index.stats.uses.load(Ordering::Relaxed);
        let mut last_use = Instant::now();
        loop {
            // Wake at least once a second to notice uses and a drop by FT.DROPINDEX.
            let left = idle.saturating_sub(last_use.elapsed());
            std::thread::sleep(left.min(Duration::from_secs(1)));
            let now_uses = index.stats.uses.load(Ordering::Relaxed);
            if now_uses != uses {
                uses = now_uses;
                last_use = Instant::now();
            } else if last_use.elapsed() >= idle {
                state.search.drop_exact(&index);
                return;
            }
            let live = state.search.get(&index.def.name);
            if !live.is_some_and(|i| Arc::ptr_eq(&i, &index)) {
                return;
            }
        }
    };
    if let Err(e) = std::thread::Builder::new()
        .name("ft-temporary".into())
        .spawn(watch)
    {
        tracing::warn!("TEMPORARY index will not expire: {e}");
    }
}

/// `FT.INFO index`: RediSearch 2.10's layout, key for key, in the order clients read it
/// (redisvl reads `index_definition` and `attributes` by position). Called with an alias,
/// it reports the index's own name.
pub fn ft_info(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let index = known_index(ctx, &next_name(args)?)?;
    // Loading an index by name counts as a use in RediSearch, FT.INFO included.
    index.stats.uses.fetch_add(1, Ordering::Relaxed);
    let resp3 = ctx.client.protocol == Protocol::Resp3;
    let def = &index.def;
    let info = index.info();
    let stats = &index.stats;
    let failures = stats.failures.load(Ordering::Relaxed);
    let last_error = stats.last_error.lock().clone();
    let global_cursors = ctx.state.search.cursor_count();
    let docs = info.num_docs as f32;
    let records = info.num_records as f32;
    let mut out = vec![
        kv("index_name", text(&def.name)),
        kv(
            "index_options",
            Reply::Array(def.options.iter().map(|o| Reply::simple(o)).collect()),
        ),
        kv("index_definition", index_definition(def)),
        kv(
            "attributes",
            Reply::Array(def.fields.iter().map(|f| attribute(f, resp3)).collect()),
        ),
        kv("num_docs", count(info.num_docs)),
        kv("max_doc_id", count(info.max_doc_id)),
        kv("num_terms", count(info.num_terms)),
        kv("num_records", count(info.num_records)),
        kv("inverted_sz_mb", megabytes(info.inverted_bytes)),
        kv("vector_index_sz_mb", megabytes(info.vector_index_bytes)),
        // This engine keeps none of the following RediSearch structures.
        kv("total_inverted_index_blocks", Reply::Integer(0)),
        kv("offset_vectors_sz_mb", megabytes(0)),
        kv("doc_table_size_mb", megabytes(info.doc_table_bytes)),
        kv("sortable_values_size_mb", megabytes(0)),
        kv("key_table_size_mb", megabytes(0)),
        kv("tag_overhead_sz_mb", megabytes(info.tag_overhead_bytes)),
        kv("text_overhead_sz_mb", megabytes(info.text_overhead_bytes)),
        kv("total_index_memory_sz_mb", megabytes(info.total_bytes())),
        kv("geoshapes_sz_mb", megabytes(0)),
        // RediSearch divides in single precision and reports 0/0 as nan.
        kv(
            "records_per_doc_avg",
            Reply::Double(f64::from(records / docs)),
        ),
        kv(
            "bytes_per_record_avg",
            Reply::Double(f64::from(info.inverted_bytes as f32 / records)),
        ),
        kv(
            "offsets_per_term_avg",
            Reply::Double(f64::from(0.0 / records)),
        ),
        kv("offset_bits_per_record_avg", Reply::Double(f64::NAN)),
        kv("hash_indexing_failures", count(failures)),
        kv(
            "total_indexing_time",
            Reply::Double(indexing_ms(&index.stats)),
        ),
        kv("indexing", Reply::Integer(i64::from(info.indexing))),
        kv("percent_indexed", Reply::Double(info.percent_indexed)),
        kv("number_of_uses", count(stats.uses.load(Ordering::Relaxed))),
        kv("cleaning", Reply::Integer(0)),
        kv("gc_stats", gc_stats()),
        kv(
            "cursor_stats",
            // Cursors are idle between reads, and reads run to completion.
            Reply::Map(vec![
                kv("global_idle", count(global_cursors)),
                kv("global_total", count(global_cursors)),
                kv("index_capacity", count(CURSOR_CAPACITY as u64)),
                kv("index_total", count(index.cursors.len() as u64)),
            ]),
        ),
    ];
    if let Some(words) = &def.stopwords {
        out.push(kv(
            "stopwords_list",
            Reply::Array(words.iter().map(Reply::bulk_str).collect()),
        ));
    }
    out.push(kv(
        "dialect_stats",
        Reply::Map(
            (1..=MAX_DIALECT)
                .map(|d| {
                    let used = stats.dialects.used(d);
                    (
                        Reply::simple(&format!("dialect_{d}")),
                        Reply::Integer(used.into()),
                    )
                })
                .collect(),
        ),
    ));
    out.push(kv("Index Errors", index_errors(failures, last_error)));
    let field_stats = def.fields.iter().map(|f| {
        Reply::Map(vec![
            kv("identifier", text(&String::from_utf8_lossy(&f.identifier))),
            kv("attribute", text(&f.attribute)),
            // Failures are counted per document, not per field.
            kv("Index Errors", index_errors(0, None)),
        ])
    });
    out.push(kv("field statistics", Reply::Array(field_stats.collect())));
    Ok(Reply::Map(out))
}

fn kv(key: &str, value: Reply) -> (Reply, Reply) {
    (Reply::simple(key), value)
}

/// Text RediSearch replies as a status line; one that cannot be a status line (a CR or LF
/// inside) goes as a bulk string.
fn text(value: &str) -> Reply {
    if value.contains(['\r', '\n']) {
        Reply::bulk_str(value)
    } else {
        Reply::simple(value)
    }
}

fn count(n: u64) -> Reply {
    Reply::Integer(i64::try_from(n).unwrap_or(i64::MAX))
}

/// A size in MiB, computed in single precision as RediSearch does.
fn megabytes(bytes: u64) -> Reply {
    Reply::Double(f64::from(bytes as f32 / 1_048_576.0))
}

/// `index_definition`: key type first and prefixes second, where redisvl reads them.
fn index_definition(def: &IndexDef) -> Reply {
    let prefixes = def
        .prefixes
        .iter()
        .map(|p| text(&String::from_utf8_lossy(p)))
        .collect();
    let mut out = vec![
        kv("key_type", Reply::simple("HASH")),
        kv("prefixes", Reply::Array(prefixes)),
    ];
    if let Some(filter) = &def.filter {
        out.push(kv("filter", text(filter)));
    }
    if def.language != "english" {
        out.push(kv("default_language", Reply::simple(&def.language)));
    }
    if let Some(field) = &def.language_field {
        out.push(kv("language_field", text(field)));
    }
    if def.score != 0.0 {
        out.push(kv("default_score", Reply::Double(def.score)));
    }
    if let Some(field) = &def.score_field {
        out.push(kv("score_field", text(field)));
    }
    if let Some(field) = &def.payload_field {
        out.push(kv("payload_field", text(field)));
    }
    out.push(kv("indexes_all", Reply::simple("false")));
    Reply::Map(out)
}

/// One `attributes` entry: a flat list with bare flags at the end in RESP2, a map with a
/// `flags` array in RESP3.
fn attribute(field: &FieldDef, resp3: bool) -> Reply {
    let mut pairs = vec![
        kv(
            "identifier",
            text(&String::from_utf8_lossy(&field.identifier)),
        ),
        kv("attribute", text(&field.attribute)),
        kv("type", Reply::simple(field.kind.type_name())),
    ];
    let mut case_sensitive = false;
    let mut nostem = false;
    let mut suffix_trie = false;
    match &field.kind {
        FieldKind::Text {
            weight,
            nostem: no_stem,
            with_suffix_trie,
            ..
        } => {
            pairs.push(kv("WEIGHT", Reply::Double(*weight)));
            nostem = *no_stem;
            suffix_trie = *with_suffix_trie;
        }
        FieldKind::Tag {
            separator,
            case_sensitive: cs,
            with_suffix_trie,
        } => {
            pairs.push(kv(
                "SEPARATOR",
                text(&String::from_utf8_lossy(&[*separator])),
            ));
            case_sensitive = *cs;
            suffix_trie = *with_suffix_trie;
        }
        FieldKind::Numeric | FieldKind::Geo => {}
        FieldKind::Vector(params) => {
            pairs.extend([
                kv("algorithm", Reply::simple(params.algorithm.name())),
                kv("data_type", Reply::simple(params.data_type.name())),
                kv("dim", count(params.dim as u64)),
                kv("distance_metric", Reply::simple(params.metric.name())),
            ]);
            if params.algorithm == VectorAlgorithm::Hnsw {
                pairs.extend([
                    kv("M", count(params.m as u64)),
                    kv("ef_construction", count(params.ef_construction as u64)),
                ]);
            }
        }
    }
    let flags: Vec<Reply> = [
        (case_sensitive, "CASESENSITIVE"),
        (field.sortable, "SORTABLE"),
        (field.unf, "UNF"),
        (nostem, "NOSTEM"),
        (field.noindex, "NOINDEX"),
        (suffix_trie, "WITHSUFFIXTRIE"),
        (field.index_empty, "INDEXEMPTY"),
        (field.index_missing, "INDEXMISSING"),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, flag)| Reply::simple(flag))
    .collect();
    if resp3 {
        pairs.push(kv("flags", Reply::Array(flags)));
        return Reply::Map(pairs);
    }
    let mut list: Vec<Reply> = pairs.into_iter().flat_map(|(k, v)| [k, v]).collect();
    list.extend(flags);
    Reply::Array(list)
}

/// An `Index Errors` map.
fn index_errors(failures: u64, last: Option<(String, Bytes)>) -> Reply {
    let (error, key) = match last {
        Some((error, key)) => (error, Reply::Bulk(key)),
        None => ("N/A".to_string(), Reply::bulk_str("N/A")),
    };
    Reply::Map(vec![
        kv("indexing failures", count(failures)),
        kv("last indexing error", text(&error)),
        kv("last indexing error key", key),
    ])
}

/// `gc_stats`: this engine has no RediSearch-style garbage collector, so no cycles ran;
/// RediSearch reports the average over zero cycles as nan.
fn gc_stats() -> Reply {
    let zero = |key| kv(key, Reply::Double(0.0));
    Reply::Map(vec![
        zero("bytes_collected"),
        zero("total_ms_run"),
        zero("total_cycles"),
        kv("average_cycle_time_ms", Reply::Double(f64::NAN)),
        zero("last_run_time_ms"),
        zero("gc_numeric_trees_missed"),
        zero("gc_blocks_denied"),
    ])
}

/// `FT._LIST`: index names in creation order (a set in RESP3).
pub fn ft_list(ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    let names = ctx.state.search.names();
    Ok(Reply::Set(names.into_iter().map(Reply::bulk_str).collect()))
}

/// `FT.DROPINDEX index [DD]`: forgets the index (aliases resolve); with DD also deletes
/// every key it holds. A third argument other than DD is ignored, as RediSearch does.
pub fn ft_dropindex(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    if args.remaining() > 2 {
        return Err(CmdError::WrongArity("ft.dropindex".into()));
    }
    let name = next_name(args)?;
    let delete_docs = args.eat("DD");
    // Out of the registry first: the deletions below must not reach the dropped index.
    let index = ctx
        .state
        .search
        .drop_index(&name)
        .ok_or(SearchError::UnknownIndexNameCap)?;
    if delete_docs {
        for batch in index.keys().chunks(DROP_BATCH) {
            delete_keys(ctx, batch);
        }
    }
    Ok(Reply::ok())
}

/// Deletes `keys` from database 0, where the indexes live, with DEL's notifications.
fn delete_keys(ctx: &ExecCtx, keys: &[Bytes]) {
    let mut guard = ctx.ks().lock(0, keys);
    for key in keys {
        if guard.remove(key).is_some() {
            ctx.notify_in(0, NotifyClass::GENERIC, "del", key);
        }
    }
}

/// `FT.TAGVALS index field`: the distinct values of a TAG field (a set in RESP3).
pub fn ft_tagvals(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let name = next_name(args)?;
    let attribute = next_name(args)?;
    let index = ctx
        .state
        .search
        .get(&name)
        .ok_or(SearchError::UnknownIndexNameCap)?;
    match index.def.field(&attribute).map(|f| &f.kind) {
        None => return Err(SearchError::other("No such field").into()),
        Some(FieldKind::Tag { .. }) => {}
        Some(_) => return Err(SearchError::other("Not a tag field").into()),
    }
    let values = index.tag_values(&attribute)?;
    Ok(Reply::Set(
        values.into_iter().map(Reply::bulk_str).collect(),
    ))
}

/// `FT.ALIASADD alias index`.
pub fn ft_aliasadd(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    set_alias(ctx, args, AliasOp::Add)
}

/// `FT.ALIASUPDATE alias index`: adds the alias or moves it to `index`.
pub fn ft_aliasupdate(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    set_alias(ctx, args, AliasOp::Update)
}

fn set_alias(ctx: &mut ExecCtx, args: &mut Args, op: AliasOp) -> Result<Reply, CmdError> {
    let alias = next_name(args)?;
    let index = next_name(args)?;
    ctx.state.search.set_alias(&alias, &index, op)?;
    Ok(Reply::ok())
}

/// `FT.ALIASDEL alias`.
pub fn ft_aliasdel(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let alias = next_name(args)?;
    ctx.state.search.remove_alias(&alias)?;
    Ok(Reply::ok())
}

/// `FT.CONFIG GET name|* | SET name value | HELP name|*`. GET and HELP answer
/// `[[name, value], ...]` in RESP2 and a map in RESP3, as RediSearch does; SET with extra
/// arguments answers `EXCESSARGS` after storing, an unknown action a status line.
pub fn ft_config(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    if args.remaining() < 2 {
        return Err(CmdError::WrongArity("ft.config".into()));
    }
    let action = args.next_bytes()?.to_ascii_uppercase();
    let name = next_name(args)?;
    let config = &ctx.state.search.config;
    let resp3 = ctx.client.protocol == Protocol::Resp3;
    match action.as_slice() {
        b"GET" | b"HELP" => {
            let help = action.as_slice() == b"HELP";
            let settings = config.get(&name);
            if resp3 {
                let pairs = settings.into_iter().map(|s| {
                    let value = Reply::bulk_str(&s.value);
                    let value = if help {
                        Reply::Map(vec![
                            (Reply::simple("Description"), Reply::simple(s.help)),
                            (Reply::simple("Value"), value),
                        ])
                    } else {
                        value
                    };
                    (Reply::simple(s.name), value)
                });
                return Ok(Reply::Map(pairs.collect()));
            }
            let rows = settings.into_iter().map(|s| {
                let mut row = vec![Reply::simple(s.name)];
                if help {
                    row.extend([
                        Reply::simple("Description"),
                        Reply::simple(s.help),
                        Reply::simple("Value"),
                    ]);
                }
                row.push(Reply::bulk_str(&s.value));
                Reply::Array(row)
            });
            Ok(Reply::Array(rows.collect()))
        }
        b"SET" => {
            let value = args
                .next()
                .ok_or_else(|| SearchError::other("Expected an argument, but none provided"))?;
            config.set(&name, &value)?;
            Ok(Reply::simple(if args.is_empty() {
                "OK"
            } else {
                "EXCESSARGS"
            }))
        }
        _ => Ok(Reply::simple("No such configuration action")),
    }
}
