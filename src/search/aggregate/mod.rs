//! FT.AGGREGATE's pipeline: the rows a query's documents become, and the steps (GROUPBY with
//! its reducers, SORTBY, APPLY, FILTER, LIMIT) applied to them in the order the command
//! wrote them, as RediSearch does. Cursors over a finished pipeline's rows live in
//! [`cursor`].
//!
//! This module knows nothing of keys or hashes: the command layer loads each document's
//! fields into a [`Row`] (checking first, with [`Pipeline::source_fields`], which names the
//! steps read), then [`Pipeline::run`] transforms the rows.

pub mod cursor;
mod reducers;

use std::cmp::Ordering;
use std::collections::HashMap;
use std::time::{Duration, Instant};

pub use reducers::ReducerSpec;

use super::deadline::sorted_prefix;
use super::expr::{Expr, Properties, Value, compare};
use super::{Deadline, SearchError};

/// One row of an aggregation: named values in the order they were added.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    pub fields: Vec<(String, Value)>,
    /// The query terms the row's document matched (`matched_terms()`); empty for a group.
    pub terms: Vec<String>,
}

impl Row {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Sets `name`, in place when the row has it already (APPLY over a loaded field).
    pub fn set(&mut self, name: &str, value: Value) {
        match self.fields.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.fields.push((name.to_string(), value)),
        }
    }
}

impl Properties for Row {
    fn property(&self, name: &str) -> Value {
        self.get(name).cloned().unwrap_or(Value::Null)
    }

    fn matched_terms(&self) -> Option<&[String]> {
        Some(&self.terms)
    }
}

/// One step of the pipeline.
#[derive(Debug, Clone)]
pub enum Step {
    /// `GROUPBY n @k ... REDUCE ...`: one row per distinct combination of the keys, holding
    /// the keys and every reducer's result.
    GroupBy {
        keys: Vec<String>,
        reducers: Vec<ReducerSpec>,
    },
    /// SORTBY and LIMIT: RediSearch folds every SORTBY / LIMIT between two GROUPBYs into
    /// one step at the place of the first ([`Pipeline::arrange`]).
    Arrange(Arrange),
    /// `APPLY expr AS name`.
    Apply { expr: Expr, name: String },
    /// `FILTER expr`: keeps the rows for which the expression holds.
    Filter(Expr),
}

/// Sorting and paging: rows are sorted by `keys` (when given) keeping the first
/// `offset + limit` (10 when that is 0, RediSearch's default), then paged.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Arrange {
    /// (property, ascending); empty without SORTBY.
    pub keys: Vec<(String, bool)>,
    pub offset: usize,
    /// LIMIT's count, or SORTBY's MAX, whichever came last; 0 when unset.
    pub limit: usize,
    /// LIMIT was given: `LIMIT 0 0` sends no rows, only the count.
    pub limited: bool,
}

/// How many rows a sort keeps when neither LIMIT nor MAX says.
const DEFAULT_LIMIT: usize = 10;

/// The steps of one FT.AGGREGATE, in command order.
#[derive(Debug, Clone, Default)]
pub struct Pipeline {
    pub steps: Vec<Step>,
}

/// What running a pipeline gives: the rows, and the result count RediSearch reports: the
/// matching documents, less those a FILTER dropped, or the groups of the last GROUPBY
/// (sorting and paging leave it alone).
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub rows: Vec<Row>,
    pub total: usize,
}

/// What one step of a measured run ([`Pipeline::run_measured`]) took and gave.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepStats {
    pub time: Duration,
    /// Rows the step passed on.
    pub rows: usize,
}

/// Which step reads a name, for the error RediSearch gives when it is unknown.
#[derive(Clone, Copy)]
enum Reader {
    Group,
    Sort,
    Expression,
}

fn unknown(name: &str, reader: Reader) -> SearchError {
    SearchError::other(match reader {
        Reader::Group => format!("No such property `{name}`"),
        Reader::Sort => format!("Property `{name}` not loaded nor in schema"),
        Reader::Expression => format!("Property `{name}` not loaded nor in pipeline"),
    })
}

impl Pipeline {
    /// The SORTBY / LIMIT step of the current segment (since the last GROUPBY), added at
    /// the end when there is none yet.
    pub fn arrange(&mut self) -> &mut Arrange {
        let existing = self
            .steps
            .iter()
            .rev()
            .take_while(|s| !matches!(s, Step::GroupBy { .. }))
            .position(|s| matches!(s, Step::Arrange(_)));
        let at = match existing {
            Some(back) => self.steps.len() - 1 - back,
            None => {
                self.steps.push(Step::Arrange(Arrange::default()));
                self.steps.len() - 1
            }
        };
        match &mut self.steps[at] {
            Step::Arrange(arrange) => arrange,
            _ => unreachable!("the step found or pushed is an Arrange"),
        }
    }

    /// Whether an APPLY or FILTER calls `matched_terms()`: the search must then record the
    /// terms each document matched.
    pub fn reads_matched_terms(&self) -> bool {
        self.steps.iter().any(|step| match step {
            Step::Apply { expr, .. } | Step::Filter(expr) => expr.reads_matched_terms(),
            Step::GroupBy { .. } | Step::Arrange(_) => false,
        })
    }

    /// Checks every name the steps read and returns the ones the documents must provide
    /// (read before the first GROUPBY and not made by an APPLY), in first-use order.
    /// `source` tells which names a document can provide (loaded fields, schema attributes,
    /// yielded distances, `__key`, `__score`); any other name, and after a GROUPBY any
    /// name that is neither a group key nor a reducer's output, is an error.
    pub fn source_fields(&self, source: &dyn Fn(&str) -> bool) -> Result<Vec<String>, SearchError> {
        let mut wanted: Vec<String> = Vec::new();
        // Names the pipeline has made; `None` until a GROUPBY replaces the document rows.
        let mut made: Vec<String> = Vec::new();
        let mut grouped = false;
        let mut read = |name: &str, made: &Vec<String>, grouped: bool, reader: Reader| {
            if made.iter().any(|m| m == name) {
                return Ok(());
            }
            if grouped || !source(name) {
                return Err(unknown(name, reader));
            }
            if !wanted.iter().any(|w| w == name) {
                wanted.push(name.to_string());
            }
            Ok(())
        };
        for step in &self.steps {
            match step {
                Step::GroupBy { keys, reducers } => {
                    for key in keys {
                        read(key, &made, grouped, Reader::Group)?;
                    }
                    for reducer in reducers {
                        for name in reducer.reads() {
                            read(name, &made, grouped, Reader::Expression)?;
                        }
                    }
                    made = keys.clone();
                    made.extend(reducers.iter().map(|r| r.alias.clone()));
                    grouped = true;
                }
                Step::Arrange(arrange) => {
                    for (key, _) in &arrange.keys {
                        read(key, &made, grouped, Reader::Sort)?;
                    }
                }
                Step::Apply { expr, name } => {
                    for prop in expr.properties() {
                        read(&prop, &made, grouped, Reader::Expression)?;
                    }
                    made.push(name.clone());
                }
                Step::Filter(expr) => {
                    for prop in expr.properties() {
                        read(&prop, &made, grouped, Reader::Expression)?;
                    }
                }
            }
        }
        Ok(wanted)
    }

    /// Runs the steps over `rows`. An APPLY whose expression fails on a row leaves the
    /// value out of that row (RediSearch sets it to null); a FILTER that fails drops it.
    pub fn run(&self, rows: Vec<Row>) -> Output {
        self.run_measured(rows, &mut Vec::new(), &Deadline::default())
    }

    /// [`Pipeline::run`], pushing onto `stats` each step's time and the rows it passed on
    /// (FT.PROFILE's result processors). Every step works through all its rows unless
    /// `deadline` is abandoned (the query will fail for want of time); the output is then
    /// partial and meant to be dropped.
    pub fn run_measured(
        &self,
        mut rows: Vec<Row>,
        stats: &mut Vec<StepStats>,
        deadline: &Deadline,
    ) -> Output {
        let mut total = rows.len();
        let on_time = |_: &Row| !deadline.abandoned();
        for step in &self.steps {
            let started = Instant::now();
            rows = match step {
                Step::GroupBy { keys, reducers } => {
                    let rows = rows.into_iter().take_while(on_time);
                    let groups = group(rows, keys, reducers);
                    total = groups.len();
                    groups
                }
                Step::Arrange(arrange) => arrange.apply(rows, deadline),
                Step::Apply { expr, name } => rows
                    .into_iter()
                    .take_while(on_time)
                    .map(|mut row| {
                        let value = expr.eval(&row).unwrap_or(Value::Null);
                        row.set(name, value);
                        row
                    })
                    .collect(),
                Step::Filter(expr) => {
                    let before = rows.len();
                    let kept: Vec<Row> = rows
                        .into_iter()
                        .take_while(on_time)
                        .filter(|r| expr.matches(r))
                        .collect();
                    total -= (before - kept.len()).min(total);
                    kept
                }
            };
            stats.push(StepStats {
                time: started.elapsed(),
                rows: rows.len(),
            });
        }
        Output { total, rows }
    }
}

impl Arrange {
    fn apply(&self, rows: Vec<Row>, deadline: &Deadline) -> Vec<Row> {
        if self.limited && self.limit == 0 {
            return Vec::new();
        }
        let mut rows = rows;
        let sorted = !self.keys.is_empty();
        if sorted {
            let keep = match self.offset.saturating_add(self.limit) {
                0 => DEFAULT_LIMIT,
                n => n,
            };
            rows = sort(rows, &self.keys, keep, deadline);
        }
        if self.offset > 0 || (self.limit > 0 && !sorted) {
            rows = rows
                .into_iter()
                .skip(self.offset)
                .take(self.limit)
                .collect();
        }
        rows
    }
}

/// SORTBY's order: by each key in turn (numbers as numbers, else text), rows missing a key
/// after those having it whichever the direction; equal rows keep their order. Keeps the
/// first `max`.
fn sort(rows: Vec<Row>, keys: &[(String, bool)], max: usize, deadline: &Deadline) -> Vec<Row> {
    let compare_rows = |a: &Row, b: &Row| {
        for (key, ascending) in keys {
            let order = match (a.get(key), b.get(key)) {
                (None | Some(Value::Null), None | Some(Value::Null)) => Ordering::Equal,
                (None | Some(Value::Null), _) => Ordering::Greater,
                (_, None | Some(Value::Null)) => Ordering::Less,
                (Some(x), Some(y)) => {
                    let order = compare(x, y).unwrap_or(Ordering::Equal);
                    if *ascending { order } else { order.reverse() }
                }
            };
            if order != Ordering::Equal {
                return order;
            }
        }
        Ordering::Equal
    };
    sorted_prefix(rows, max, deadline, compare_rows)
}

/// A group's identity: its key values as text (`None` for a missing value).
type GroupKey = Vec<Option<String>>;

fn group(rows: impl Iterator<Item = Row>, keys: &[String], reducers: &[ReducerSpec]) -> Vec<Row> {
    let mut order: Vec<(Vec<Value>, Vec<reducers::State>)> = Vec::new();
    let mut index: HashMap<GroupKey, usize> = HashMap::new();
    for row in rows {
        let values: Vec<Value> = keys.iter().map(|k| row.property(k)).collect();
        let id: GroupKey = values.iter().map(Value::as_text).collect();
        let slot = *index.entry(id).or_insert_with(|| {
            order.push((values, reducers.iter().map(ReducerSpec::start).collect()));
            order.len() - 1
        });
        for (spec, state) in reducers.iter().zip(&mut order[slot].1) {
            state.add(spec, &row);
        }
    }
    // GROUPBY 0 over no rows still makes its one (empty) group, as RediSearch does.
    if keys.is_empty() && order.is_empty() {
        order.push((
            Vec::new(),
            reducers.iter().map(ReducerSpec::start).collect(),
        ));
    }
    order
        .into_iter()
        .map(|(values, states)| {
            let mut row = Row::default();
            for (key, value) in keys.iter().zip(values) {
                row.fields.push((key.clone(), value));
            }
            for (spec, state) in reducers.iter().zip(states) {
                row.fields.push((spec.alias.clone(), state.finish(spec)));
            }
            row
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn row(pairs: &[(&str, &str)]) -> Row {
        Row {
            fields: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), Value::Str(v.to_string())))
                .collect(),
            terms: Vec::new(),
        }
    }

    fn rows() -> Vec<Row> {
        vec![
            row(&[("brand", "a"), ("price", "10")]),
            row(&[("brand", "b"), ("price", "3")]),
            row(&[("brand", "a"), ("price", "8")]),
            row(&[("price", "1")]),
        ]
    }

    fn pipeline(steps: Vec<Step>) -> Pipeline {
        Pipeline { steps }
    }

    fn values(out: &Output, name: &str) -> Vec<Value> {
        out.rows.iter().map(|r| r.property(name)).collect()
    }

    fn sort_by(keys: &[(&str, bool)], offset: usize, limit: usize) -> Step {
        Step::Arrange(Arrange {
            keys: keys.iter().map(|(k, a)| (k.to_string(), *a)).collect(),
            offset,
            limit,
            limited: false,
        })
    }

    #[test]
    fn sort_numbers_as_numbers_missing_last_and_max() {
        let out = pipeline(vec![sort_by(&[("price", false)], 0, 3)]).run(rows());
        assert_eq!(
            values(&out, "price"),
            ["10", "8", "3"].map(|s| Value::Str(s.into()))
        );
        assert_eq!(out.total, 4);
        let out = pipeline(vec![sort_by(&[("brand", true), ("price", true)], 0, 0)]).run(rows());
        assert_eq!(
            values(&out, "price"),
            ["8", "10", "3", "1"].map(|s| Value::Str(s.into()))
        );
    }

    #[test]
    fn a_sort_keeps_ten_rows_unless_limit_or_max_says() {
        let many: Vec<Row> = (0..25).map(|i| row(&[("n", &i.to_string())])).collect();
        let count = |arrange: Arrange| pipeline(vec![Step::Arrange(arrange)]).run(many.clone());
        let by_n = vec![("n".to_string(), true)];
        let sorted = |offset, limit| Arrange {
            keys: by_n.clone(),
            offset,
            limit,
            limited: false,
        };
        assert_eq!(count(sorted(0, 0)).rows.len(), 10);
        assert_eq!(count(sorted(0, 20)).rows.len(), 20);
        let page = count(sorted(20, 3));
        assert_eq!(
            values(&page, "n"),
            ["20", "21", "22"].map(|s| Value::Str(s.into()))
        );
        assert_eq!(page.total, 25);
        let unsorted = Arrange {
            offset: 0,
            limit: 0,
            limited: true,
            keys: vec![],
        };
        assert!(count(unsorted.clone()).rows.is_empty());
        let paged = Arrange {
            limit: 30,
            ..unsorted
        };
        assert_eq!(count(paged).rows.len(), 25);
    }

    #[test]
    fn sortby_and_limit_of_a_segment_share_one_step() {
        let mut p = Pipeline::default();
        p.arrange().limit = 5;
        p.steps.push(Step::Filter(Expr::parse("1").unwrap()));
        p.arrange().keys = vec![("n".into(), true)];
        assert_eq!(p.steps.len(), 2);
        p.steps.push(Step::GroupBy {
            keys: vec!["n".into()],
            reducers: vec![],
        });
        p.arrange();
        assert_eq!(p.steps.len(), 4);
    }

    #[test]
    fn group_apply_filter_limit_in_order() {
        let p = pipeline(vec![
            Step::GroupBy {
                keys: vec!["brand".into()],
                reducers: vec![ReducerSpec::parse("COUNT", &[], None).unwrap()],
            },
            Step::Apply {
                expr: Expr::parse("@__generated_aliascount * 10").unwrap(),
                name: "tens".into(),
            },
            Step::Filter(Expr::parse("@tens >= 10").unwrap()),
            Step::Arrange(Arrange {
                offset: 1,
                limit: 5,
                limited: true,
                keys: vec![],
            }),
        ]);
        let out = p.run(rows());
        assert_eq!(out.total, 3);
        assert_eq!(out.rows.len(), 2);
        assert_eq!(out.rows[0].property("brand"), Value::Str("b".into()));
        assert_eq!(out.rows[0].property("tens"), Value::Number(10.0));
        assert_eq!(out.rows[1].get("brand"), Some(&Value::Null));
        let filtered = pipeline(vec![Step::Filter(Expr::parse("@price > 5").unwrap())]);
        assert_eq!(filtered.run(rows()).total, 2);
    }

    #[test]
    fn measured_run_reports_rows_passed_on_by_each_step() {
        let p = pipeline(vec![
            Step::Filter(Expr::parse("@price > 5").unwrap()),
            Step::GroupBy {
                keys: vec!["brand".into()],
                reducers: vec![],
            },
        ]);
        let mut stats = Vec::new();
        let out = p.run_measured(rows(), &mut stats, &Deadline::default());
        let passed: Vec<usize> = stats.iter().map(|s| s.rows).collect();
        assert_eq!(passed, [2, out.rows.len()]);
        assert_eq!(out, p.run(rows()));
    }

    #[test]
    fn apply_replaces_a_field_in_place_and_failures_are_null() {
        let p = pipeline(vec![
            Step::Apply {
                expr: Expr::parse("@price * 2").unwrap(),
                name: "price".into(),
            },
            Step::Apply {
                expr: Expr::parse("@brand * 2").unwrap(),
                name: "bad".into(),
            },
        ]);
        let out = p.run(rows());
        assert_eq!(out.rows[0].fields[1], ("price".into(), Value::Number(20.0)));
        assert_eq!(out.rows[0].get("bad"), Some(&Value::Null));
    }

    #[test]
    fn group_by_nothing_makes_one_group_even_without_rows() {
        let p = pipeline(vec![Step::GroupBy {
            keys: vec![],
            reducers: vec![ReducerSpec::parse("COUNT", &[], Some("n".into())).unwrap()],
        }]);
        assert_eq!(
            p.run(rows()).rows,
            vec![Row {
                fields: vec![("n".into(), Value::Number(4.0))],
                terms: Vec::new(),
            }]
        );
        assert_eq!(
            p.run(Vec::new()).rows[0].get("n"),
            Some(&Value::Number(0.0))
        );
    }

    #[test]
    fn source_fields_checks_names_through_the_steps() {
        let known = |n: &str| ["brand", "price", "title"].contains(&n);
        let p = pipeline(vec![
            Step::Apply {
                expr: Expr::parse("@price + 1").unwrap(),
                name: "p1".into(),
            },
            Step::GroupBy {
                keys: vec!["brand".into()],
                reducers: vec![ReducerSpec::parse("SUM", &["@p1".into()], None).unwrap()],
            },
            sort_by(&[("__generated_aliassump1", true)], 0, 0),
        ]);
        assert_eq!(p.source_fields(&known).unwrap(), ["price", "brand"]);
        let after_group = pipeline(vec![
            Step::GroupBy {
                keys: vec!["brand".into()],
                reducers: vec![],
            },
            sort_by(&[("price", true)], 0, 0),
        ]);
        assert_eq!(
            after_group.source_fields(&known).unwrap_err().to_string(),
            "Property `price` not loaded nor in schema"
        );
        let group_unknown = pipeline(vec![Step::GroupBy {
            keys: vec!["nope".into()],
            reducers: vec![],
        }]);
        assert_eq!(
            group_unknown.source_fields(&known).unwrap_err().to_string(),
            "No such property `nope`"
        );
        let unknown = pipeline(vec![Step::Filter(Expr::parse("@nope > 1").unwrap())]);
        assert_eq!(
            unknown.source_fields(&known).unwrap_err().to_string(),
            "Property `nope` not loaded nor in pipeline"
        );
    }
}
