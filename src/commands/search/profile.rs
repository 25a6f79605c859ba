//! FT.PROFILE `idx SEARCH|AGGREGATE [LIMITED] QUERY query [options]`: runs FT.SEARCH or
//! FT.AGGREGATE with every phase timed and answers `[results, profile]` (RESP2) or the
//! results map with a `profile` entry (RESP3), in RediSearch 2.10's layout: total, parsing
//! and pipeline times, a warning slot, the iterator tree (one entry per query node, with the
//! documents that node matches and the time it took on its own) and the result processors:
//! for SEARCH Index, Scorer, Sorter, Pager/Limiter (with a LIMIT offset), Loader (Index and
//! Counter for `LIMIT 0 0`); for AGGREGATE Index, Loader (when documents are read) and one
//! per pipeline step (Grouper, Sorter or Pager/Limiter, `Projector - ...` for APPLY,
//! `Filter - ...` for FILTER), a SORTBY with a LIMIT offset giving a Sorter, then a
//! Pager/Limiter, as RediSearch builds its arrange step.
//! Times are milliseconds.

use std::time::{Duration, Instant};

use super::aggregate::aggregate_with;
use super::query::{Phases, Processor, search_with};
use crate::commands::{Args, ExecCtx};
use crate::error::CmdError;
use crate::protocol::{Protocol, Reply};
use crate::search::SearchError;
use crate::search::aggregate::{Step, StepStats};
use crate::search::expr::{BinOp, Expr, FUNCTIONS};
use crate::search::index::NodeStats;
use crate::search::query::{QueryNode, TagPattern, TextTerm};

pub fn ft_profile(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let name = String::from_utf8_lossy(&args.next_bytes()?).into_owned();
    let kind = args.next_bytes()?;
    let aggregate = kind.eq_ignore_ascii_case(b"AGGREGATE");
    if !aggregate && !kind.eq_ignore_ascii_case(b"SEARCH") {
        return Err(SearchError::other("No `SEARCH` or `AGGREGATE` provided").into());
    }
    let mut keyword = args.next_bytes()?;
    let limited = keyword.eq_ignore_ascii_case(b"LIMITED");
    if limited {
        keyword = args.next_bytes()?;
    }
    if !keyword.eq_ignore_ascii_case(b"QUERY") {
        return Err(SearchError::other("The QUERY keyword is expected").into());
    }
    let started = Instant::now();
    let mut phases = Phases::default();
    let results = match aggregate {
        true => aggregate_with(ctx, &name, args, Some(&mut phases))?,
        false => search_with(ctx, &name, args, Some(&mut phases))?,
    };
    let total = started.elapsed();
    let resp3 = ctx.client.protocol == Protocol::Resp3;
    let profile = Profile {
        total,
        phases: &phases,
        limited,
    };
    Ok(match results {
        Reply::Map(mut entries) if resp3 => {
            entries.push((Reply::simple("profile"), profile.render(true)));
            Reply::Map(entries)
        }
        results => Reply::Array(vec![results, profile.render(false)]),
    })
}

/// How RediSearch names the result processor of an FT.AGGREGATE pipeline step. APPLY and
/// FILTER are named after their expression's root: `Projector - Function startswith`,
/// `Filter - Predicate >`.
pub(super) fn step_processor(step: &Step) -> String {
    let evaluator = |kind: &str, expr: &Expr| {
        let root = match expr {
            Expr::Literal(_) => "Literal".to_string(),
            Expr::Property(name) => format!("Property {name}"),
            Expr::Negate(_) => "Operator -".to_string(),
            Expr::Not(_) => "Inverted".to_string(),
            Expr::Binary(op, ..) => match op {
                BinOp::Add => "Operator +",
                BinOp::Sub => "Operator -",
                BinOp::Mul => "Operator *",
                BinOp::Div => "Operator /",
                BinOp::Mod => "Operator %",
                BinOp::Pow => "Operator ^",
                BinOp::Eq => "Predicate ==",
                BinOp::Ne => "Predicate !=",
                BinOp::Lt => "Predicate <",
                BinOp::Le => "Predicate <=",
                BinOp::Gt => "Predicate >",
                BinOp::Ge => "Predicate >=",
                BinOp::And => "Predicate &&",
                BinOp::Or => "Predicate ||",
            }
            .to_string(),
            Expr::Call(func, _) => {
                let name = FUNCTIONS
                    .iter()
                    .find(|(_, f, ..)| f == func)
                    .map_or("", |(name, ..)| name);
                format!("Function {name}")
            }
        };
        format!("{kind} - {root}")
    };
    match step {
        Step::GroupBy { .. } => "Grouper".to_string(),
        Step::Arrange(arrange) if !arrange.keys.is_empty() => "Sorter".to_string(),
        Step::Arrange(_) => "Pager/Limiter".to_string(),
        Step::Apply { expr, .. } => evaluator("Projector", expr),
        Step::Filter(expr) => evaluator("Filter", expr),
    }
}

/// The result processors of one FT.AGGREGATE step that took `stats` over `input` rows: one
/// ([`step_processor`]), but a sort with a LIMIT offset is a Sorter (keeping offset + limit
/// rows) followed by a Pager/Limiter, as in RediSearch.
pub(super) fn step_processors(step: &Step, stats: &StepStats, input: u64) -> Vec<Processor> {
    let rows = stats.rows as u64;
    match step {
        Step::Arrange(arrange) if !arrange.keys.is_empty() && arrange.offset > 0 => {
            let kept = arrange.offset.saturating_add(arrange.limit) as u64;
            vec![
                Processor::new("Sorter", stats.time, input.min(kept)),
                Processor::new("Pager/Limiter", Duration::ZERO, rows),
            ]
        }
        _ => vec![Processor::new(step_processor(step), stats.time, rows)],
    }
}

/// One entry of the profile: named values, nested entries, or lists of entries.
struct Entry(Vec<(&'static str, Value)>);

enum Value {
    Plain(Reply),
    One(Entry),
    Many(Vec<Entry>),
}

impl Entry {
    /// RESP3: a map, nested lists as arrays. RESP2: a flat array where a list's entries
    /// follow its key one by one, as RediSearch writes them.
    fn render(self, resp3: bool) -> Reply {
        if resp3 {
            return Reply::Map(
                self.0
                    .into_iter()
                    .map(|(k, v)| {
                        let v = match v {
                            Value::Plain(r) => r,
                            Value::One(e) => e.render(true),
                            Value::Many(list) => {
                                Reply::Array(list.into_iter().map(|e| e.render(true)).collect())
                            }
                        };
                        (Reply::simple(k), v)
                    })
                    .collect(),
            );
        }
        let mut out = Vec::new();
        for (k, v) in self.0 {
            out.push(Reply::simple(k));
            match v {
                Value::Plain(r) => out.push(r),
                Value::One(e) => out.push(e.render(false)),
                Value::Many(list) => out.extend(list.into_iter().map(|e| e.render(false))),
            }
        }
        Reply::Array(out)
    }
}

fn ms(d: Duration) -> Value {
    Value::Plain(Reply::Double(d.as_secs_f64() * 1000.0))
}

fn count(n: u64) -> Value {
    Value::Plain(Reply::Integer(i64::try_from(n).unwrap_or(i64::MAX)))
}

fn text(s: impl Into<String>) -> Value {
    Value::Plain(Reply::Simple(s.into()))
}

struct Profile<'a> {
    total: Duration,
    phases: &'a Phases,
    limited: bool,
}

impl Profile<'_> {
    /// RESP3: one map. RESP2: one `[name, value...]` array per entry.
    fn render(&self, resp3: bool) -> Reply {
        // Without a warning RediSearch writes the key alone in RESP2, `None` in RESP3. A
        // query out of time reports it here whatever ON_TIMEOUT says: FT.PROFILE does not
        // fail on a timeout.
        let warning = match (self.phases.timed_out, resp3) {
            (true, _) => text(SearchError::Timeout.to_string()),
            (false, true) => text("None"),
            (false, false) => Value::Many(Vec::new()),
        };
        let entries = vec![
            ("Total profile time", ms(self.total)),
            ("Parsing time", ms(self.phases.parsing)),
            ("Pipeline creation time", ms(self.phases.pipeline)),
            ("Warning", warning),
            (
                "Iterators profile",
                Value::Many(self.iterators().into_iter().collect()),
            ),
            ("Result processors profile", Value::Many(self.processors())),
        ];
        if resp3 {
            return Entry(entries).render(true);
        }
        Reply::Array(
            entries
                .into_iter()
                .map(|e| Entry(vec![e]).render(false))
                .collect(),
        )
    }

    /// The root iterator: the KNN over its filter, or the filter's tree.
    fn iterators(&self) -> Option<Entry> {
        let (query, stats) = self.phases.iterators.as_ref()?;
        let tree = iterator(&query.filter, stats, self.limited);
        let Some(_) = &query.knn else {
            return Some(tree);
        };
        let (time, hits) = self.phases.index;
        let mut knn = Entry(vec![
            ("Type", text("VECTOR")),
            ("Time", ms(time)),
            ("Counter", count(hits)),
        ]);
        if query.filter != QueryNode::All {
            knn.0.push(("Child iterator", Value::One(tree)));
        }
        Some(knn)
    }

    fn processors(&self) -> Vec<Entry> {
        let processor = |name: &str, time: Duration, n: u64| {
            Entry(vec![
                ("Type", text(name)),
                ("Time", ms(time)),
                ("Counter", count(n)),
            ])
        };
        let (index_time, matched) = self.phases.index;
        let mut out = vec![processor("Index", index_time, matched)];
        out.extend(
            self.phases
                .processors
                .iter()
                .map(|p| processor(&p.name, p.time, p.count)),
        );
        out
    }
}

/// One node's iterator entry, named as RediSearch names the iterator it builds for it.
fn iterator(node: &QueryNode, stats: &NodeStats, limited: bool) -> Entry {
    // Attributes change scoring only: the clause's own iterator stands for it.
    if let (QueryNode::Attributed { node, .. }, [inner]) = (node, stats.children.as_slice()) {
        return iterator(node, inner, limited);
    }
    let (kind, query_type, term): (&str, Option<String>, Option<String>) = match node {
        QueryNode::All => ("WILDCARD", None, None),
        QueryNode::Nothing => ("EMPTY", None, None),
        QueryNode::And(_) => ("INTERSECT", None, None),
        QueryNode::Or(_) => ("UNION", Some("UNION".into()), None),
        QueryNode::Not(_) => ("NOT", None, None),
        QueryNode::Optional(_) => ("OPTIONAL", None, None),
        QueryNode::Text { term, .. } => match term {
            TextTerm::Word(w) | TextTerm::Exact(w) => ("TEXT", None, Some(w.clone())),
            TextTerm::Prefix(p) => ("UNION", Some(format!("PREFIX - {p}")), None),
            TextTerm::Suffix(s) => ("UNION", Some(format!("SUFFIX - {s}")), None),
            TextTerm::Infix(s) => ("UNION", Some(format!("INFIX - {s}")), None),
            TextTerm::Wildcard(w) => ("UNION", Some(format!("WILDCARD - {w}")), None),
            TextTerm::Fuzzy { word, .. } => ("UNION", Some(format!("FUZZY - {word}")), None),
            TextTerm::Phrase(_) => ("INTERSECT", None, None),
        },
        QueryNode::Tag { patterns, .. } => match patterns.as_slice() {
            [TagPattern::Exact(t)] => ("TAG", None, Some(t.clone())),
            _ => ("UNION", Some("TAG".into()), None),
        },
        QueryNode::Numeric { min, max, .. } => (
            "NUMERIC",
            None,
            Some(format!("{} - {}", min.value, max.value)),
        ),
        QueryNode::Geo { .. } => ("UNION", Some("GEO".into()), None),
        QueryNode::VectorRange { .. } => ("METRIC - VECTOR DISTANCE", None, None),
        QueryNode::IsMissing(_) => ("MISSING", None, None),
        QueryNode::Attributed { .. } => ("EMPTY", None, None),
    };
    let mut entry = Entry(vec![("Type", text(kind))]);
    if let Some(q) = query_type {
        entry.0.push(("Query type", text(q)));
    }
    let leaf_term = term.is_some();
    if let Some(t) = term {
        entry.0.push(("Term", text(t)));
    }
    entry.0.push(("Time", ms(stats.time)));
    entry.0.push(("Counter", count(stats.matches)));
    if leaf_term {
        entry.0.push(("Size", count(stats.matches)));
    }
    let children = || {
        let kids = match node {
            QueryNode::And(c) | QueryNode::Or(c) => c.iter().collect(),
            QueryNode::Not(c) | QueryNode::Optional(c) => vec![c.as_ref()],
            _ => Vec::new(),
        };
        kids.into_iter()
            .zip(&stats.children)
            .map(|(n, s)| iterator(n, s, limited))
            .collect::<Vec<_>>()
    };
    match node {
        QueryNode::Or(c) if limited => entry.0.push((
            "Child iterators",
            text(format!(
                "The number of iterators in the union is {}",
                c.len()
            )),
        )),
        QueryNode::And(_) | QueryNode::Or(_) => {
            entry.0.push(("Child iterators", Value::Many(children())));
        }
        QueryNode::Not(_) | QueryNode::Optional(_) => {
            if let Some(child) = children().pop() {
                entry.0.push(("Child iterator", Value::One(child)));
            }
        }
        _ => {}
    }
    entry
}
