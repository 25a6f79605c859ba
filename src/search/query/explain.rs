//! FT.EXPLAIN's rendering of a parsed query, in RediSearch's layout: one node per line,
//! children indented by two spaces inside `NAME {` ... `}`, text terms prefixed by the
//! fields they are restricted to (`@title:hello`), numbers as C's `%f`, a KNN query as a
//! `VECTOR {...}` node around its filter.
//!
//! Divergences: terms are shown without stemming expansions (`+word(expanded)`), since the
//! text index does not stem; vector runtime parameters are listed under their canonical
//! names in a fixed order; query attributes (`$weight` ...) are not shown, as the AST does
//! not keep them.

use std::fmt::Write;

use super::ast::{KnnClause, NumBound, Query, QueryNode, TagPattern, TextTerm};

pub fn explain(query: &Query) -> String {
    let mut out = String::new();
    match &query.knn {
        None => node(&mut out, &query.filter, 0),
        Some(knn) => {
            out.push_str("VECTOR {");
            if query.filter != QueryNode::All {
                out.push('\n');
                node(&mut out, &query.filter, 1);
                out.push_str("} => {");
            }
            knn_line(&mut out, knn);
            out.push_str("}\n");
        }
    }
    out
}

fn pad(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

/// `NAME {` + children one level deeper + `}`.
fn block(out: &mut String, name: &str, children: &[QueryNode], depth: usize) {
    out.push_str(name);
    out.push('\n');
    for c in children {
        node(out, c, depth + 1);
    }
    pad(out, depth);
    out.push_str("}\n");
}

fn node(out: &mut String, n: &QueryNode, depth: usize) {
    pad(out, depth);
    match n {
        QueryNode::All => out.push_str("<WILDCARD>\n"),
        QueryNode::Nothing => out.push_str("<empty>\n"),
        QueryNode::And(kids) => block(out, "INTERSECT {", kids, depth),
        QueryNode::Or(kids) => block(out, "UNION {", kids, depth),
        QueryNode::Not(kid) => block(out, "NOT{", std::slice::from_ref(kid), depth),
        QueryNode::Optional(kid) => block(out, "OPTIONAL{", std::slice::from_ref(kid), depth),
        QueryNode::Text { fields, term } => {
            let prefix = match fields {
                None => String::new(),
                Some(f) if f.is_empty() => "@NULL:".to_string(),
                Some(f) => format!("@{}:", f.join("|")),
            };
            out.push_str(&prefix);
            match term {
                TextTerm::Word(w) | TextTerm::Exact(w) => word(out, w),
                TextTerm::Prefix(p) => affix(out, "PREFIX", p, false, true),
                TextTerm::Suffix(s) => affix(out, "SUFFIX", s, true, false),
                TextTerm::Infix(s) => affix(out, "INFIX", s, true, true),
                TextTerm::Wildcard(w) => wildcard(out, w),
                TextTerm::Fuzzy { word, .. } => {
                    let _ = writeln!(out, "FUZZY{{{word}}}");
                }
                TextTerm::Phrase(words) => {
                    out.push_str("EXACT {\n");
                    for w in words {
                        pad(out, depth + 1);
                        out.push_str(&prefix);
                        word(out, w);
                    }
                    pad(out, depth);
                    out.push_str("}\n");
                }
            }
        }
        QueryNode::Tag { field, patterns } => {
            let _ = writeln!(out, "TAG:@{field} {{");
            for p in patterns {
                pad(out, depth + 1);
                match p {
                    TagPattern::Exact(t) => word(out, t),
                    TagPattern::Prefix(t) => affix(out, "PREFIX", t, false, true),
                    TagPattern::Suffix(t) => affix(out, "SUFFIX", t, true, false),
                    TagPattern::Infix(t) => affix(out, "INFIX", t, true, true),
                    TagPattern::Wildcard(w) => wildcard(out, w),
                }
            }
            pad(out, depth);
            out.push_str("}\n");
        }
        QueryNode::Numeric { field, min, max } => {
            let _ = writeln!(
                out,
                "NUMERIC {{{:.6} {} @{field} {} {:.6}}}",
                min.value,
                op(min),
                op(max),
                max.value
            );
        }
        QueryNode::VectorRange {
            field,
            radius,
            blob_param,
            yield_as,
            epsilon,
            ..
        } => {
            let _ = write!(
                out,
                "VECTOR {{Vectors that are within {} distance radius from `${blob_param}` \
                 in vector index associated with field @{field}",
                fmt_g(*radius)
            );
            if let Some(e) = epsilon {
                let _ = write!(out, ", EPSILON = {}", fmt_g(*e));
            }
            if let Some(y) = yield_as {
                let _ = write!(out, ", yields distance as `{y}`");
            }
            out.push_str("}\n");
        }
        QueryNode::Geo { field, filter } => {
            let _ = writeln!(
                out,
                "GEO {field}:{{{:.6},{:.6} --> {:.6} {}}}",
                filter.lon,
                filter.lat,
                filter.radius,
                filter.unit.name()
            );
        }
        QueryNode::Attributed { node: inner, attrs } => {
            // The attributes follow the clause's last line: `} => { $weight: 2; }`.
            let mut clause = String::new();
            node(&mut clause, inner, depth);
            clause.pop();
            out.push_str(clause.trim_start());
            out.push_str(" => {");
            if attrs.weight != 1.0 {
                let _ = write!(out, " $weight: {};", fmt_g(attrs.weight));
            }
            if let Some(slop) = attrs.slop {
                let _ = write!(out, " $slop: {slop};");
            }
            if attrs.inorder {
                out.push_str(" $inorder: true;");
            }
            if let Some(p) = attrs.phonetic {
                let _ = write!(out, " $phonetic: {p};");
            }
            out.push_str(" }\n");
        }
        QueryNode::IsMissing(field) => {
            let _ = writeln!(out, "ISMISSING{{{field}}}");
        }
    }
}

fn word(out: &mut String, w: &str) {
    out.push_str(if w.is_empty() { "\"\"" } else { w });
    out.push('\n');
}

fn wildcard(out: &mut String, pattern: &str) {
    let _ = writeln!(out, "WILDCARD{{{pattern}}}");
}

fn affix(out: &mut String, name: &str, text: &str, lead: bool, trail: bool) {
    let star = |on: bool| if on { "*" } else { "" };
    let _ = writeln!(out, "{name}{{{}{text}{}}}", star(lead), star(trail));
}

fn op(bound: &NumBound) -> &'static str {
    if bound.inclusive { "<=" } else { "<" }
}

fn knn_line(out: &mut String, knn: &KnnClause) {
    let _ = write!(
        out,
        "K={} nearest vectors to `${}` in vector index associated with field @{}",
        knn.k, knn.blob_param, knn.field
    );
    if let Some(ef) = knn.ef_runtime {
        let _ = write!(out, ", EF_RUNTIME = {ef}");
    }
    if let Some(p) = knn.hybrid_policy {
        let name = match p {
            super::ast::HybridPolicy::Batches => "BATCHES",
            super::ast::HybridPolicy::AdhocBf => "ADHOC_BF",
        };
        let _ = write!(out, ", HYBRID_POLICY = {name}");
    }
    if let Some(b) = knn.batch_size {
        let _ = write!(out, ", BATCH_SIZE = {b}");
    }
    let _ = write!(out, ", yields distance as `{}`", knn.score_field());
}

/// C's `%g`: 6 significant digits, trailing zeros dropped, exponent form below 1e-4 and
/// from 1e6 up (`0.1`, `2`, `1e-05`, `1.23457e+06`).
pub(super) fn fmt_g(v: f64) -> String {
    if !v.is_finite() {
        return if v.is_nan() {
            "nan".into()
        } else if v > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    if v == 0.0 {
        return "0".into();
    }
    let sci = format!("{v:.5e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let trim = |s: &str| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if (-4..6).contains(&exp) {
        let decimals = usize::try_from(5 - exp).unwrap_or(0);
        trim(&format!("{v:.decimals$}"))
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mantissa), exp.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{def, params};
    use super::*;
    use crate::search::query::parse;

    fn ex(q: &str) -> String {
        let parsed =
            parse(q.as_bytes(), &def(), &params(), 2).unwrap_or_else(|e| panic!("{q}: {e}"));
        explain(&parsed)
    }

    #[test]
    fn layouts() {
        let cases: &[(&str, &str)] = &[
            ("*", "<WILDCARD>\n"),
            ("the", "<empty>\n"),
            ("hello", "hello\n"),
            ("-20*", "PREFIX{-20*}\n"),
            ("-\\20*", "NOT{\n  PREFIX{20*}\n}\n"),
            (
                "*llo *ell*",
                "INTERSECT {\n  SUFFIX{*llo}\n  INFIX{*ell*}\n}\n",
            ),
            (
                "hello world | @n:[10 (20]",
                "UNION {\n  INTERSECT {\n    hello\n    world\n  }\n  NUMERIC {10.000000 <= @n < 20.000000}\n}\n",
            ),
            ("@n:[-inf 5]", "NUMERIC {-inf <= @n <= 5.000000}\n"),
            ("@title|body:(x)", "@title|body:x\n"),
            ("\"what what\"", "EXACT {\n  what\n  what\n}\n"),
            (
                "@title:\"a1 b1\"",
                "@title:EXACT {\n  @title:a1\n  @title:b1\n}\n",
            ),
            ("~x", "OPTIONAL{\n  x\n}\n"),
            (
                "@t:{foo | b\\ c | pre*}",
                "TAG:@t {\n  foo\n  b c\n  PREFIX{pre*}\n}\n",
            ),
            ("ismissing(@opt)", "ISMISSING{opt}\n"),
            ("w'hel*o?'", "WILDCARD{hel*o?}\n"),
            ("@t:{w'$word'}", "TAG:@t {\n  WILDCARD{Hello}\n}\n"),
            ("w'$word'", "WILDCARD{hello}\n"),
            ("x => { $weight: 2 }", "x => { $weight: 2; }\n"),
            (
                "@t:{w'a?c'}=>{$weight:3.4; $inorder: true;}",
                "TAG:@t {\n  WILDCARD{a?c}\n} => { $weight: 3.4; $inorder: true; }\n",
            ),
            (
                "-(x y)=>{$slop: 1}",
                "NOT{\n  INTERSECT {\n    x\n    y\n  } => { $slop: 1; }\n}\n",
            ),
            ("@t:{w'a?c' | d}", "TAG:@t {\n  WILDCARD{a?c}\n  d\n}\n"),
            (
                "@g:[120.53232 12.112233 30.5 ft]",
                "GEO g:{120.532320,12.112233 --> 30.500000 ft}\n",
            ),
            (
                "@g:[$lon $lat $rad $unit] -@g:[1 2 3 M]",
                "INTERSECT {\n  GEO g:{10.000000,20.000000 --> 30.000000 km}\n  NOT{\n    GEO g:{1.000000,2.000000 --> 3.000000 m}\n  }\n}\n",
            ),
            (
                "*=>[KNN $k @v $vec EF_RUNTIME 100]",
                "VECTOR {K=5 nearest vectors to `$vec` in vector index associated with field @v, EF_RUNTIME = 100, yields distance as `__v_score`}\n",
            ),
            (
                "(@title:hello world) => [KNN 10 @v $vec AS d]",
                "VECTOR {\n  INTERSECT {\n    @title:hello\n    world\n  }\n} => {K=10 nearest vectors to `$vec` in vector index associated with field @v, yields distance as `d`}\n",
            ),
            (
                "@v:[VECTOR_RANGE $r $vec]=>{$epsilon: 1.2; $yield_distance_as:dist}",
                "VECTOR {Vectors that are within 0.2 distance radius from `$vec` in vector index associated with field @v, EPSILON = 1.2, yields distance as `dist`}\n",
            ),
        ];
        for (q, want) in cases {
            assert_eq!(ex(q), *want, "{q}");
        }
    }

    #[test]
    fn percent_g() {
        for (v, s) in [
            (0.1, "0.1"),
            (2.0, "2"),
            (1e-5, "1e-05"),
            (1234567.0, "1.23457e+06"),
            (-1.0, "-1"),
            (0.0, "0"),
            (123456.0, "123456"),
        ] {
            assert_eq!(fmt_g(v), s);
        }
    }
}
