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

pub use reducers::ReducerSpec;

use super::SearchError;
use super::expr::{Expr, Properties, Value, compare};

/// One row of an aggregation: named values in the order they were added.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    pub fields: Vec<(String, Value)>,
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
    /// `SORTBY n @f [ASC|DESC] ... [MAX m]`.
    SortBy {
        keys: Vec<(String, bool)>,
        max: Option<usize>,
    },
    /// `APPLY expr AS name`.
    Apply { expr: Expr, name: String },
    /// `FILTER expr`: keeps the rows for which the expression holds.
    Filter(Expr),
    /// `LIMIT offset num`.
    Limit { offset: usize, num: usize },
}

/// The steps of one FT.AGGREGATE, in command order.
#[derive(Debug, Clone, Default)]
pub struct Pipeline {
    pub steps: Vec<Step>,
}

/// What running a pipeline gives: the rows, and the result count RediSearch reports (the
/// rows before the last LIMIT cut them).
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub rows: Vec<Row>,
    pub total: usize,
}

fn not_loaded(name: &str) -> SearchError {
    SearchError::other(format!("Property `{name}` not loaded nor in pipeline"))
}

impl Pipeline {
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
        let mut read = |name: &str, made: &Vec<String>, grouped: bool| {
            if made.iter().any(|m| m == name) {
                return Ok(());
            }
            if grouped || !source(name) {
                return Err(not_loaded(name));
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
                        read(key, &made, grouped)?;
                    }
                    for reducer in reducers {
                        for name in reducer.reads() {
                            read(name, &made, grouped)?;
                        }
                    }
                    made = keys.clone();
                    made.extend(reducers.iter().map(|r| r.alias.clone()));
                    grouped = true;
                }
                Step::SortBy { keys, .. } => {
                    for (key, _) in keys {
                        read(key, &made, grouped)?;
                    }
                }
                Step::Apply { expr, name } => {
                    for prop in expr.properties() {
                        read(&prop, &made, grouped)?;
                    }
                    made.push(name.clone());
                }
                Step::Filter(expr) => {
                    for prop in expr.properties() {
                        read(&prop, &made, grouped)?;
                    }
                }
                Step::Limit { .. } => {}
            }
        }
        Ok(wanted)
    }

    /// Runs the steps over `rows`. An APPLY whose expression fails on a row leaves the
    /// value out of that row (RediSearch sets it to null); a FILTER that fails drops it.
    pub fn run(&self, mut rows: Vec<Row>) -> Output {
        let last_limit = self
            .steps
            .iter()
            .rposition(|s| matches!(s, Step::Limit { .. }));
        let mut total = None;
        for (i, step) in self.steps.iter().enumerate() {
            if Some(i) == last_limit {
                total = Some(rows.len());
            }
            rows = match step {
                Step::GroupBy { keys, reducers } => group(rows, keys, reducers),
                Step::SortBy { keys, max } => sort(rows, keys, *max),
                Step::Apply { expr, name } => {
                    for row in &mut rows {
                        let value = expr.eval(row).unwrap_or(Value::Null);
                        row.set(name, value);
                    }
                    rows
                }
                Step::Filter(expr) => rows.into_iter().filter(|r| expr.matches(r)).collect(),
                Step::Limit { offset, num } => rows.into_iter().skip(*offset).take(*num).collect(),
            };
        }
        Output {
            total: total.unwrap_or(rows.len()),
            rows,
        }
    }
}

/// SORTBY's order: by each key in turn (numbers as numbers, else text), rows missing a key
/// after those having it whichever the direction; equal rows keep their order.
fn sort(mut rows: Vec<Row>, keys: &[(String, bool)], max: Option<usize>) -> Vec<Row> {
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
    rows.sort_by(compare_rows);
    if let Some(max) = max {
        rows.truncate(max);
    }
    rows
}

/// A group's identity: its key values as text (`None` for a missing value).
type GroupKey = Vec<Option<String>>;

fn group(rows: Vec<Row>, keys: &[String], reducers: &[ReducerSpec]) -> Vec<Row> {
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

    #[test]
    fn sort_numbers_as_numbers_missing_last_and_max() {
        let p = pipeline(vec![Step::SortBy {
            keys: vec![("price".into(), false)],
            max: Some(3),
        }]);
        let out = p.run(rows());
        assert_eq!(
            values(&out, "price"),
            ["10", "8", "3"].map(|s| Value::Str(s.into()))
        );
        let p = pipeline(vec![Step::SortBy {
            keys: vec![("brand".into(), true), ("price".into(), true)],
            max: None,
        }]);
        let out = p.run(rows());
        assert_eq!(
            values(&out, "price"),
            ["8", "10", "3", "1"].map(|s| Value::Str(s.into()))
        );
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
            Step::Limit { offset: 1, num: 5 },
        ]);
        let out = p.run(rows());
        assert_eq!(out.total, 3);
        assert_eq!(out.rows.len(), 2);
        assert_eq!(out.rows[0].property("brand"), Value::Str("b".into()));
        assert_eq!(out.rows[0].property("tens"), Value::Number(10.0));
        assert_eq!(out.rows[1].get("brand"), Some(&Value::Null));
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
                fields: vec![("n".into(), Value::Number(4.0))]
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
            Step::SortBy {
                keys: vec![("__generated_aliassump1".into(), true)],
                max: None,
            },
        ]);
        assert_eq!(p.source_fields(&known).unwrap(), ["price", "brand"]);
        let after_group = pipeline(vec![
            Step::GroupBy {
                keys: vec!["brand".into()],
                reducers: vec![],
            },
            Step::SortBy {
                keys: vec![("price".into(), true)],
                max: None,
            },
        ]);
        assert_eq!(
            after_group.source_fields(&known).unwrap_err().to_string(),
            "Property `price` not loaded nor in pipeline"
        );
        let unknown = pipeline(vec![Step::Filter(Expr::parse("@nope > 1").unwrap())]);
        assert_eq!(
            unknown.source_fields(&known).unwrap_err().to_string(),
            "Property `nope` not loaded nor in pipeline"
        );
    }
}
