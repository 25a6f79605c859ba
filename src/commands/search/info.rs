//! The search module's INFO sections, as RediSearch 2.10 fills them through Redis's module
//! INFO API: `search_version`, `search_index`, `search_fields_statistics`, `search_memory`,
//! `search_cursors`, `search_gc`, `search_queries`, `search_warnings_and_errors`,
//! `search_dialect_statistics` and `search_runtime_configurations`. Which INFO arguments
//! print them, and the `search_` prefix on section and field names, are the INFO command's
//! business (`commands::server`), as they are Redis's rather than the module's.
//!
//! Values are formatted as the module API formats them: integers as they are, doubles as
//! `%.17g` (so `used_memory_indexes:34217`, `used_memory_indexes_human:0.0326...`), and a
//! dictionary field as `Name=value,...`.
//!
//! Every figure is this server's own. Where RediSearch reports on machinery this engine
//! does not have, the field says what is true here: no garbage collector (the GC figures
//! are 0: documents leave the indexes when they are deleted), no out-of-memory pause of the
//! initial scan. Settings with no counterpart here (`enableGC`, `gc_scan_size`,
//! `max_doc_table_size`, `bm25std_tanh_factor`) are left out of the runtime configuration.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::admin::{MODULE_VERSION, indexing_ms};
use crate::protocol::reply::format_double_g17;
use crate::search::aggregate::cursor::DEFAULT_READ_SIZE;
use crate::search::config::MAX_DIALECT;
use crate::search::fields::text::{MIN_PHONETIC_LEN, MIN_STEM_LEN};
use crate::search::index::{Index, IndexInfo};
use crate::search::{FieldDef, FieldKind, VectorAlgorithm};
use crate::state::ServerState;

/// One section: its name and `field: value` lines, both without the module's prefix.
pub struct Section {
    pub name: &'static str,
    pub fields: Vec<(String, String)>,
}

impl Section {
    fn new(name: &'static str) -> Section {
        Section {
            name,
            fields: Vec::new(),
        }
    }

    fn field(&mut self, name: &str, value: impl ToString) {
        self.fields.push((name.to_string(), value.to_string()));
    }

    /// A field the module API adds as a double (`%.17g`).
    fn double(&mut self, name: &str, value: f64) {
        self.field(name, format_double_g17(value));
    }
}

/// An index with its figures, read once per INFO.
type Measured = (Arc<Index>, IndexInfo);

/// Bytes in megabytes, as RediSearch's `_human` memory figures are.
fn megabytes(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Every section, in RediSearch's order, from the current state of every index.
pub fn sections(state: &ServerState) -> Vec<Section> {
    let indexes: Vec<Measured> = state
        .search
        .all()
        .into_iter()
        .map(|index| {
            let info = index.info_as_committed();
            (index, info)
        })
        .collect();
    vec![
        version(),
        activity(&indexes),
        fields(&indexes),
        memory(&indexes),
        cursors(state),
        garbage_collector(&indexes),
        queries(state, &indexes),
        errors(&indexes),
        dialects(state),
        runtime_configuration(state),
    ]
}

fn version() -> Section {
    let mut s = Section::new("version");
    let (major, minor, patch) = (
        MODULE_VERSION / 10000,
        MODULE_VERSION / 100 % 100,
        MODULE_VERSION % 100,
    );
    s.field("version", format!("{major}.{minor}.{patch}"));
    s.field("redis_version", format!("{} - oss", crate::REDIS_VERSION));
    s
}

/// Indexes and what they are busy with: an index is indexing while its initial scan runs
/// or an HNSW worker has vectors to place, and each of those is a thread writing to it.
fn activity(indexes: &[Measured]) -> Section {
    let mut s = Section::new("index");
    let querying = |index: &Index| index.stats.active_queries.load(Ordering::Relaxed) > 0;
    let count = |pred: &dyn Fn(&Index, &IndexInfo) -> bool| {
        indexes.iter().filter(|(i, info)| pred(i, info)).count()
    };
    s.field("number_of_indexes", indexes.len());
    s.field(
        "number_of_active_indexes",
        count(&|i, info| querying(i) || info.indexing),
    );
    s.field(
        "number_of_active_indexes_running_queries",
        count(&|i, _| querying(i)),
    );
    s.field(
        "number_of_active_indexes_indexing",
        count(&|_, info| info.indexing),
    );
    let writers: u64 = indexes
        .iter()
        .map(|(_, info)| u64::from(info.scanning) + info.busy_graph_workers)
        .sum();
    s.field("total_active_write_threads", writers);
    s
}

/// Per field type, over every index: how many fields, how many SORTABLE / NOINDEX (and
/// CASESENSITIVE tags, FLAT / HNSW vectors), and the documents their values failed to
/// index. A type no index uses has no line.
fn fields(indexes: &[Measured]) -> Section {
    let mut s = Section::new("fields_statistics");
    for kind in ["Text", "Numeric", "Tag", "Geo", "Vector"] {
        let mut tally = FieldTally::default();
        for (index, _) in indexes {
            let errors = index.stats.field_errors.lock();
            for (pos, field) in index.def.fields.iter().enumerate() {
                if type_label(field) == kind {
                    let failures = errors.get(&pos).map_or(0, |e| e.failures);
                    tally.add(field, failures);
                }
            }
        }
        if tally.fields > 0 {
            let name = format!("fields_{}", kind.to_ascii_lowercase());
            s.field(&name, tally.render(kind));
        }
    }
    s
}

/// The label RediSearch gives a field's type in INFO.
fn type_label(field: &FieldDef) -> &'static str {
    match field.kind {
        FieldKind::Text { .. } => "Text",
        FieldKind::Numeric => "Numeric",
        FieldKind::Tag { .. } => "Tag",
        FieldKind::Geo => "Geo",
        FieldKind::Vector(_) => "Vector",
    }
}

/// The fields of one type.
#[derive(Default)]
struct FieldTally {
    fields: u64,
    sortable: u64,
    noindex: u64,
    case_sensitive: u64,
    flat: u64,
    hnsw: u64,
    errors: u64,
}

impl FieldTally {
    fn add(&mut self, field: &FieldDef, failures: u64) {
        self.fields += 1;
        self.sortable += u64::from(field.sortable);
        self.noindex += u64::from(field.noindex);
        match &field.kind {
            FieldKind::Tag { case_sensitive, .. } => {
                self.case_sensitive += u64::from(*case_sensitive)
            }
            FieldKind::Vector(params) => match params.algorithm {
                VectorAlgorithm::Flat => self.flat += 1,
                VectorAlgorithm::Hnsw => self.hnsw += 1,
            },
            _ => {}
        }
        self.errors += failures;
    }

    /// `Text=2,Sortable=1,IndexErrors=0`: counts that are 0 are left out, but for the
    /// field count and the errors.
    fn render(&self, kind: &str) -> String {
        let optional = [
            ("Sortable", self.sortable),
            ("NoIndex", self.noindex),
            ("CaseSensitive", self.case_sensitive),
            ("Flat", self.flat),
            ("HNSW", self.hnsw),
        ];
        let mut parts = vec![format!("{kind}={}", self.fields)];
        parts.extend(
            optional
                .iter()
                .filter(|(_, n)| *n > 0)
                .map(|(name, n)| format!("{name}={n}")),
        );
        parts.push(format!("IndexErrors={}", self.errors));
        parts.join(",")
    }
}

fn memory(indexes: &[Measured]) -> Section {
    let mut s = Section::new("memory");
    let sizes = indexes.iter().map(|(_, info)| info.total_bytes());
    let total: u64 = sizes.clone().sum();
    let smallest = sizes.clone().min().unwrap_or(0);
    let largest = sizes.max().unwrap_or(0);
    for (name, bytes) in [
        ("used_memory_indexes", total),
        ("smallest_memory_index", smallest),
        ("largest_memory_index", largest),
    ] {
        s.double(name, bytes as f64);
        s.double(&format!("{name}_human"), megabytes(bytes));
    }
    let indexing: f64 = indexes.iter().map(|(i, _)| indexing_ms(&i.stats)).sum();
    s.double("total_indexing_time", indexing);
    let vectors: u64 = indexes.iter().map(|(_, i)| i.vector_index_bytes).sum();
    s.double("used_memory_vector_index", vectors as f64);
    s
}

/// Cursors wait idle between reads, and a read runs to completion within its command: every
/// cursor INFO can see is idle.
fn cursors(state: &ServerState) -> Section {
    let mut s = Section::new("cursors");
    let open = state.search.cursor_count();
    s.field("global_idle", open);
    s.field("global_total", open);
    s
}

/// No garbage collector runs here: a deleted document leaves every structure at once, so
/// nothing waits to be collected. HNSW graphs do keep the nodes of removed vectors until
/// their worker rebuilds the graph; those are the vectors marked deleted.
fn garbage_collector(indexes: &[Measured]) -> Section {
    let mut s = Section::new("gc");
    s.double("bytes_collected", 0.0);
    s.double("total_cycles", 0.0);
    s.double("total_ms_run", 0.0);
    s.field("total_docs_not_collected_by_gc", 0);
    let marked: u64 = indexes.iter().map(|(_, i)| i.vectors_marked_deleted).sum();
    s.field("marked_deleted_vectors", marked);
    s
}

fn queries(state: &ServerState, indexes: &[Measured]) -> Section {
    let mut s = Section::new("queries");
    let figures = state.search.queries.figures();
    s.field("total_queries_processed", figures.processed);
    s.field("total_query_commands", figures.commands);
    s.field("total_query_execution_time_ms", figures.execution_ms);
    let running: u64 = indexes
        .iter()
        .map(|(i, _)| i.stats.active_queries.load(Ordering::Relaxed))
        .sum();
    s.field("total_active_queries", running);
    s
}

/// Documents that failed to index, over all indexes and in the index with most. The
/// initial scan never stops for lack of memory here, so no index failed that way.
fn errors(indexes: &[Measured]) -> Section {
    let mut s = Section::new("warnings_and_errors");
    let failures: Vec<u64> = indexes
        .iter()
        .map(|(i, _)| i.stats.failures.load(Ordering::Relaxed))
        .collect();
    s.double(
        "errors_indexing_failures",
        failures.iter().sum::<u64>() as f64,
    );
    let most = failures.iter().copied().max().unwrap_or(0);
    s.double("errors_for_index_with_max_failures", most as f64);
    s.field("OOM_indexing_failures_indexes_count", 0);
    s
}

/// Whether any query used each dialect (0 or 1, as RediSearch reports it).
fn dialects(state: &ServerState) -> Section {
    let mut s = Section::new("dialect_statistics");
    for dialect in 1..=MAX_DIALECT {
        let used = state.search.queries.dialects.used(dialect);
        s.field(&format!("dialect_{dialect}"), u8::from(used));
    }
    s
}

/// The settings RediSearch lists that this engine has. An unlimited result count shows as
/// -1, as RediSearch prints its unlimited value there.
fn runtime_configuration(state: &ServerState) -> Section {
    let mut s = Section::new("runtime_configurations");
    let config = &state.search.config;
    let limit = |n: u64| i64::try_from(n).unwrap_or(-1);
    s.field("minimal_term_prefix", config.min_prefix());
    s.field("minimal_stem_length", MIN_STEM_LEN);
    s.field("maximal_prefix_expansions", config.max_prefix_expansions());
    s.field("query_timeout_ms", config.timeout_ms());
    s.field(
        "timeout_policy",
        if config.on_timeout_fail() {
            "fail"
        } else {
            "return"
        },
    );
    s.field("cursor_read_size", DEFAULT_READ_SIZE);
    s.field("cursor_max_idle_time", config.cursor_max_idle_ms());
    s.field("max_search_results", limit(config.max_search_results()));
    s.field(
        "max_aggregate_results",
        limit(config.max_aggregate_results()),
    );
    s.field("min_phonetic_term_length", MIN_PHONETIC_LEN);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::search::IndexDef;

    fn create(state: &ServerState, name: &str, schema: &str) {
        let args: Vec<bytes::Bytes> = format!("SCHEMA {schema}")
            .split(' ')
            .map(|a| bytes::Bytes::from(a.to_string()))
            .collect();
        let def = IndexDef::parse(name, &args).expect("schema");
        state.search.create(def).expect("create");
    }

    fn section<'a>(sections: &'a [Section], name: &str) -> &'a [(String, String)] {
        &sections
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no section {name}"))
            .fields
    }

    fn value<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The field lines RediSearch's own test expects for the same three indexes
    /// (tests/pytests/test_info_modules.py), with 2.10's `IndexErrors` added.
    #[test]
    fn field_statistics_as_redisearch_counts_them() {
        let state = ServerState::new(Config::default());
        create(
            &state,
            "idx1",
            "title TEXT SORTABLE body TEXT NOINDEX id NUMERIC subject GEO",
        );
        create(
            &state,
            "idx2",
            "t1 TAG CASESENSITIVE SORTABLE t2 TAG id NUMERIC NOINDEX",
        );
        create(
            &state,
            "idx3",
            "vf VECTOR FLAT 6 TYPE FLOAT32 DIM 4 DISTANCE_METRIC L2 \
             vh VECTOR HNSW 6 TYPE FLOAT32 DIM 4 DISTANCE_METRIC L2",
        );
        let all = sections(&state);
        let names: Vec<&str> = all.iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            [
                "version",
                "index",
                "fields_statistics",
                "memory",
                "cursors",
                "gc",
                "queries",
                "warnings_and_errors",
                "dialect_statistics",
                "runtime_configurations",
            ]
        );
        let fields = section(&all, "fields_statistics");
        let expected = [
            ("fields_text", "Text=2,Sortable=1,NoIndex=1,IndexErrors=0"),
            ("fields_numeric", "Numeric=2,NoIndex=1,IndexErrors=0"),
            (
                "fields_tag",
                "Tag=2,Sortable=1,CaseSensitive=1,IndexErrors=0",
            ),
            ("fields_geo", "Geo=1,IndexErrors=0"),
            ("fields_vector", "Vector=2,Flat=1,HNSW=1,IndexErrors=0"),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        assert_eq!(fields, expected);
        assert_eq!(
            value(section(&all, "index"), "number_of_indexes"),
            Some("3")
        );
        assert_eq!(value(section(&all, "version"), "version"), Some("2.10.20"));
    }

    #[test]
    fn memory_figures_add_up() {
        let state = ServerState::new(Config::default());
        let none = sections(&state);
        let memory = section(&none, "memory");
        assert_eq!(value(memory, "used_memory_indexes"), Some("0"));
        assert_eq!(value(memory, "smallest_memory_index_human"), Some("0"));
        assert!(section(&none, "fields_statistics").is_empty());
        create(&state, "a", "n NUMERIC");
        create(
            &state,
            "b",
            "t TAG v VECTOR FLAT 6 TYPE FLOAT32 DIM 4 DISTANCE_METRIC L2",
        );
        let all = sections(&state);
        let memory = section(&all, "memory");
        let num = |name: &str| -> f64 {
            value(memory, name)
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name}"))
        };
        let sizes: Vec<u64> = state
            .search
            .all()
            .iter()
            .map(|i| i.info_as_committed().total_bytes())
            .collect();
        assert_eq!(num("used_memory_indexes"), sizes.iter().sum::<u64>() as f64);
        assert_eq!(
            num("smallest_memory_index"),
            *sizes.iter().min().unwrap() as f64
        );
        assert_eq!(
            num("largest_memory_index"),
            *sizes.iter().max().unwrap() as f64
        );
        assert_eq!(
            num("used_memory_indexes_human"),
            num("used_memory_indexes") / 1048576.0
        );
    }
}
