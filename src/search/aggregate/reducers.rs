//! GROUPBY's reducers: parsing `REDUCE fn nargs args... [AS name]` ([`ReducerSpec::parse`])
//! and the per-group state each one folds rows into ([`State`]).
//!
//! Numbers are read from numbers and from strings spelling one; values that are neither
//! are skipped by the numeric reducers, as in RediSearch.

use std::collections::HashSet;

use rand::RngExt;

use super::Row;
use crate::search::SearchError;
use crate::search::expr::{Properties, Value, compare};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Count,
    CountDistinct,
    CountDistinctish,
    Sum,
    Min,
    Max,
    Avg,
    StdDev,
    Quantile,
    ToList,
    FirstValue,
    RandomSample,
}

/// One parsed `REDUCE` clause.
#[derive(Debug, Clone, PartialEq)]
pub struct ReducerSpec {
    kind: Kind,
    /// The property the reducer reads (none for COUNT).
    field: Option<String>,
    /// FIRST_VALUE `BY @f [ASC|DESC]`: the property ordering the rows, and the direction.
    by: Option<(String, bool)>,
    /// QUANTILE's fraction.
    quantile: f64,
    /// RANDOM_SAMPLE's size.
    sample: usize,
    /// The output name: AS, else `__generated_alias<fn><args>`.
    pub alias: String,
}

/// A property argument: `@name` or a bare name.
fn property(arg: &str) -> String {
    arg.strip_prefix('@').unwrap_or(arg).to_string()
}

impl ReducerSpec {
    /// Parses reducer `name` with its `args` (the `nargs` arguments after the name).
    pub fn parse(
        name: &str,
        args: &[String],
        alias: Option<String>,
    ) -> Result<ReducerSpec, SearchError> {
        const KINDS: &[(&str, Kind)] = &[
            ("COUNT", Kind::Count),
            ("COUNT_DISTINCT", Kind::CountDistinct),
            ("COUNT_DISTINCTISH", Kind::CountDistinctish),
            ("SUM", Kind::Sum),
            ("MIN", Kind::Min),
            ("MAX", Kind::Max),
            ("AVG", Kind::Avg),
            ("STDDEV", Kind::StdDev),
            ("QUANTILE", Kind::Quantile),
            ("TOLIST", Kind::ToList),
            ("FIRST_VALUE", Kind::FirstValue),
            ("RANDOM_SAMPLE", Kind::RandomSample),
        ];
        let kind = KINDS
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|&(_, k)| k)
            .ok_or_else(|| SearchError::other(format!("No such reducer: {name}")))?;
        let upper = name.to_ascii_uppercase();
        let bad = |what: &str| SearchError::other(format!("{what} for {upper}"));
        let mut spec = ReducerSpec {
            kind,
            field: None,
            by: None,
            quantile: 0.0,
            sample: 0,
            alias: String::new(),
        };
        match kind {
            Kind::Count => {
                if !args.is_empty() {
                    return Err(SearchError::other("Count accepts 0 values only"));
                }
            }
            Kind::Quantile => {
                if args.len() != 2 {
                    return Err(bad("Bad arguments"));
                }
                spec.field = Some(property(&args[0]));
                spec.quantile = args[1]
                    .parse::<f64>()
                    .ok()
                    .filter(|q| (0.0..=1.0).contains(q))
                    .ok_or_else(|| SearchError::other("Quantile must be between 0.0 and 1.0"))?;
            }
            Kind::RandomSample => {
                if args.len() != 2 {
                    return Err(bad("Bad arguments"));
                }
                spec.field = Some(property(&args[0]));
                spec.sample = args[1]
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=1000).contains(n))
                    .ok_or_else(|| SearchError::other("Sample size must be between 1 and 1000"))?;
            }
            Kind::FirstValue => {
                let by = match args {
                    [_] => None,
                    [_, by, f] if by.eq_ignore_ascii_case("BY") => Some((property(f), true)),
                    [_, by, f, dir] if by.eq_ignore_ascii_case("BY") => {
                        let ascending = if dir.eq_ignore_ascii_case("ASC") {
                            true
                        } else if dir.eq_ignore_ascii_case("DESC") {
                            false
                        } else {
                            return Err(bad("Bad arguments"));
                        };
                        Some((property(f), ascending))
                    }
                    _ => return Err(bad("Bad arguments")),
                };
                spec.field = Some(property(&args[0]));
                spec.by = by;
            }
            _ => {
                if args.len() != 1 {
                    return Err(bad("Bad arguments"));
                }
                spec.field = Some(property(&args[0]));
            }
        }
        spec.alias = alias.unwrap_or_else(|| {
            let args: Vec<String> = args.iter().map(|a| property(a)).collect();
            format!(
                "__generated_alias{}{}",
                name.to_ascii_lowercase(),
                args.join(",")
            )
        });
        Ok(spec)
    }

    /// The properties the reducer reads.
    pub fn reads(&self) -> impl Iterator<Item = &String> {
        self.field.iter().chain(self.by.as_ref().map(|(f, _)| f))
    }

    pub(super) fn start(&self) -> State {
        State::default()
    }
}

/// What a reducer has gathered for one group.
#[derive(Debug, Default)]
pub(super) struct State {
    count: usize,
    numbers: Vec<f64>,
    distinct: HashSet<String>,
    /// TOLIST's distinct values, in first-seen order; RANDOM_SAMPLE's reservoir.
    list: Vec<Value>,
    /// RANDOM_SAMPLE: how many values were offered to the reservoir.
    sampled: usize,
    /// FIRST_VALUE: the value kept and the BY value it was kept for.
    first: Option<(Value, Value)>,
}

impl State {
    pub(super) fn add(&mut self, spec: &ReducerSpec, row: &Row) {
        self.count += 1;
        let Some(field) = &spec.field else { return };
        let value = row.property(field);
        match spec.kind {
            Kind::Count => {}
            Kind::CountDistinct | Kind::CountDistinctish | Kind::ToList => {
                if let Some(text) = value.as_text()
                    && self.distinct.insert(text)
                    && spec.kind == Kind::ToList
                {
                    self.list.push(value);
                }
            }
            Kind::Sum | Kind::Min | Kind::Max | Kind::Avg | Kind::StdDev | Kind::Quantile => {
                if let Some(n) = value.as_number() {
                    self.numbers.push(n);
                }
            }
            Kind::FirstValue => {
                let Some((by, ascending)) = &spec.by else {
                    if self.first.is_none() {
                        self.first = Some((value, Value::Null));
                    }
                    return;
                };
                let key = row.property(by);
                let better = match &self.first {
                    None => true,
                    Some((_, kept)) if *kept == Value::Null => key != Value::Null,
                    Some(_) if key == Value::Null => false,
                    Some((_, kept)) => {
                        let order = compare(&key, kept);
                        if *ascending {
                            order == Some(std::cmp::Ordering::Less)
                        } else {
                            order == Some(std::cmp::Ordering::Greater)
                        }
                    }
                };
                if better {
                    self.first = Some((value, key));
                }
            }
            Kind::RandomSample => {
                if value == Value::Null {
                    return;
                }
                // Reservoir sampling over the values seen so far.
                self.sampled += 1;
                let seen = self.sampled;
                if self.list.len() < spec.sample {
                    self.list.push(value);
                } else {
                    let slot = rand::rng().random_range(0..seen);
                    if slot < spec.sample {
                        self.list[slot] = value;
                    }
                }
            }
        }
    }

    pub(super) fn finish(self, spec: &ReducerSpec) -> Value {
        let n = self.numbers.len() as f64;
        let number = Value::Number;
        match spec.kind {
            Kind::Count => number(self.count as f64),
            Kind::CountDistinct | Kind::CountDistinctish => number(self.distinct.len() as f64),
            Kind::Sum => number(self.numbers.iter().sum()),
            Kind::Min => number(self.numbers.iter().copied().fold(f64::INFINITY, f64::min)),
            Kind::Max => number(
                self.numbers
                    .iter()
                    .copied()
                    .fold(f64::NEG_INFINITY, f64::max),
            ),
            Kind::Avg if n == 0.0 => number(0.0),
            Kind::Avg => number(self.numbers.iter().sum::<f64>() / n),
            Kind::StdDev if n < 2.0 => number(0.0),
            Kind::StdDev => {
                let mean = self.numbers.iter().sum::<f64>() / n;
                let squares: f64 = self.numbers.iter().map(|x| (x - mean).powi(2)).sum();
                number((squares / (n - 1.0)).sqrt())
            }
            Kind::Quantile => {
                let mut sorted = self.numbers;
                if sorted.is_empty() {
                    return Value::Null;
                }
                sorted.sort_by(f64::total_cmp);
                // Nearest rank: the smallest value with at least `q` of the values at or below it.
                let rank = (spec.quantile * sorted.len() as f64).ceil() as usize;
                number(sorted[rank.saturating_sub(1).min(sorted.len() - 1)])
            }
            Kind::ToList | Kind::RandomSample => Value::Array(self.list),
            Kind::FirstValue => self.first.map_or(Value::Null, |(v, _)| v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::aggregate::tests::row;

    fn reduce(name: &str, args: &[&str], rows: &[Row]) -> Value {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let spec = ReducerSpec::parse(name, &args, None).unwrap();
        let mut state = spec.start();
        for r in rows {
            state.add(&spec, r);
        }
        state.finish(&spec)
    }

    fn nums() -> Vec<Row> {
        vec![
            row(&[("n", "10"), ("t", "RediSearch"), ("o", "2")]),
            row(&[("n", "3"), ("t", "RedisAI"), ("o", "1")]),
            row(&[("n", "8"), ("t", "RedisJson"), ("o", "3")]),
            row(&[("t", "RedisAI")]),
        ]
    }

    #[test]
    fn numeric_reducers() {
        let rows = nums();
        assert_eq!(reduce("count", &[], &rows), Value::Number(4.0));
        assert_eq!(reduce("SUM", &["@n"], &rows), Value::Number(21.0));
        assert_eq!(reduce("MIN", &["@n"], &rows), Value::Number(3.0));
        assert_eq!(reduce("MAX", &["n"], &rows), Value::Number(10.0));
        assert_eq!(reduce("AVG", &["@n"], &rows), Value::Number(7.0));
        let Value::Number(sd) = reduce("STDDEV", &["@n"], &rows) else {
            panic!()
        };
        assert!((sd - 3.605_551_275_463_989).abs() < 1e-12);
        assert_eq!(
            reduce("QUANTILE", &["@n", "0.5"], &rows),
            Value::Number(8.0)
        );
        assert_eq!(reduce("QUANTILE", &["@n", "1"], &rows), Value::Number(10.0));
        assert_eq!(reduce("QUANTILE", &["@n", "0"], &rows), Value::Number(3.0));
    }

    #[test]
    fn value_reducers() {
        let rows = nums();
        assert_eq!(reduce("COUNT_DISTINCT", &["@t"], &rows), Value::Number(3.0));
        assert_eq!(
            reduce("COUNT_DISTINCTISH", &["@t"], &rows),
            Value::Number(3.0)
        );
        assert_eq!(
            reduce("TOLIST", &["@t"], &rows),
            Value::Array(
                ["RediSearch", "RedisAI", "RedisJson"]
                    .map(|s| Value::Str(s.into()))
                    .to_vec()
            )
        );
        let s = |v: &str| Value::Str(v.into());
        assert_eq!(reduce("FIRST_VALUE", &["@t"], &rows), s("RediSearch"));
        assert_eq!(
            reduce("FIRST_VALUE", &["@t", "BY", "@o"], &rows),
            s("RedisAI")
        );
        assert_eq!(
            reduce("FIRST_VALUE", &["@t", "BY", "@o", "DESC"], &rows),
            s("RedisJson")
        );
        let Value::Array(sample) = reduce("RANDOM_SAMPLE", &["@t", "2"], &rows) else {
            panic!()
        };
        assert_eq!(sample.len(), 2);
        let Value::Array(all) = reduce("RANDOM_SAMPLE", &["@t", "10"], &rows) else {
            panic!()
        };
        assert_eq!(all.len(), 4);
    }

    #[test]
    fn aliases_and_errors() {
        let alias = |name: &str, args: &[&str]| {
            let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            ReducerSpec::parse(name, &args, None).unwrap().alias
        };
        assert_eq!(alias("COUNT", &[]), "__generated_aliascount");
        assert_eq!(
            alias("count_distinct", &["@title"]),
            "__generated_aliascount_distincttitle"
        );
        assert_eq!(
            alias("QUANTILE", &["@random_num", "0.5"]),
            "__generated_aliasquantilerandom_num,0.5"
        );
        let err = |name: &str, args: &[&str]| {
            let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            ReducerSpec::parse(name, &args, None)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(err("NOPE", &[]), "No such reducer: NOPE");
        assert_eq!(err("COUNT", &["x"]), "Count accepts 0 values only");
        assert_eq!(err("sum", &[]), "Bad arguments for SUM");
        assert_eq!(
            err("QUANTILE", &["@n", "2"]),
            "Quantile must be between 0.0 and 1.0"
        );
        assert_eq!(
            err("FIRST_VALUE", &["@n", "BY"]),
            "Bad arguments for FIRST_VALUE"
        );
    }
}
