//! FT.SEARCH's arguments after the query: every option in any order, case-insensitive, with
//! RediSearch 2.10's error texts (its `AREQ_Compile` / `parseQueryArgs` rules: `Bad arguments
//! for X: ...`, `Unknown argument \`X\` at position N for <main>` ...).
//!
//! Parsing needs nothing but the arguments, the connection's protocol and MAXSEARCHRESULTS:
//! no index, no lock. Options that only steer RediSearch's own planning
//! (EXPANDER, WITHCOUNT ...) are checked for well-formedness and accepted.

use bytes::Bytes;

use crate::commands::Args;
use crate::error::CmdError;
use crate::protocol::Protocol;
use crate::search::config::MAX_DIALECT;
use crate::search::query::{GeoFilter, GeoUnit, NumBound, Params};
use crate::search::score::Scorer;

/// `AC_Strerror` texts of RediSearch's argument cursor.
const NO_ARG: &str = "Expected an argument, but none provided";
const NOT_CONVERTIBLE: &str = "Could not convert argument to expected type";
const OUT_OF_BOUNDS: &str = "Value is outside acceptable bounds";

/// One FT.SEARCH request as the client wrote it.
#[derive(Debug, Default)]
pub struct Request {
    pub query: Bytes,
    /// NOCONTENT, RETURN 0, or LIMIT 0 0: no field lists in the reply.
    pub no_content: bool,
    pub verbatim: bool,
    /// `SLOP n` (a negative n: none) and `INORDER`.
    pub slop: Option<u32>,
    pub in_order: bool,
    pub with_scores: bool,
    pub with_payloads: bool,
    pub with_sort_keys: bool,
    pub explain_score: bool,
    /// Legacy `FILTER field min max` clauses, all required.
    pub filters: Vec<NumericFilter>,
    /// `GEOFILTER field lon lat radius unit` clauses, all required.
    pub geo_filters: Vec<(String, GeoFilter)>,
    pub in_keys: Option<Vec<Bytes>>,
    pub in_fields: Option<Vec<String>>,
    /// `RETURN`: the fields to send, `None` for all of them.
    pub returns: Option<Vec<ReturnField>>,
    pub summarize: Option<Summarize>,
    pub highlight: Option<Highlight>,
    pub scorer: Option<String>,
    /// `PAYLOAD`: what the HAMMING scorer compares documents' payloads with.
    pub payload: Option<Bytes>,
    pub language: Option<String>,
    pub sort: Option<SortBy>,
    /// LIMIT offset num (default 0 10).
    pub offset: u64,
    pub num: u64,
    /// LIMIT 0 0: only the count.
    pub count_only: bool,
    pub params: Params,
    pub dialect: Option<u32>,
    /// `TIMEOUT ms` (0: none); `None`: the TIMEOUT setting.
    pub timeout: Option<u64>,
}

/// `FILTER field min max`.
#[derive(Debug, Clone)]
pub struct NumericFilter {
    pub field: String,
    pub min: NumBound,
    pub max: NumBound,
}

/// One `RETURN` entry: where the value comes from and the name it is sent under.
#[derive(Debug, Clone, PartialEq)]
pub struct ReturnField {
    pub path: String,
    pub name: String,
}

/// `SORTBY field [ASC|DESC]`.
#[derive(Debug, Clone, PartialEq)]
pub struct SortBy {
    pub field: String,
    pub ascending: bool,
}

/// `SUMMARIZE [FIELDS n f...] [FRAGS n] [LEN n] [SEPARATOR s]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Summarize {
    pub fields: Option<Vec<String>>,
    pub frags: usize,
    pub len: usize,
    pub separator: String,
}

/// `HIGHLIGHT [FIELDS n f...] [TAGS open close]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Highlight {
    pub fields: Option<Vec<String>>,
    pub open: String,
    pub close: String,
}

pub(in crate::commands::search) fn coded(text: impl Into<String>) -> CmdError {
    CmdError::Coded(text.into())
}

/// `Bad arguments for <name>: <reason>` (RediSearch's `QERR_MKBADARGS_AC`).
pub(in crate::commands::search) fn bad_args(name: &str, reason: &str) -> CmdError {
    coded(format!("Bad arguments for {name}: {reason}"))
}

pub(in crate::commands::search) fn text(arg: &[u8]) -> String {
    String::from_utf8_lossy(arg).into_owned()
}

/// An unsigned decimal integer as RediSearch's cursor reads one: an optional `+`, digits.
pub(in crate::commands::search) fn parse_unsigned(arg: &[u8]) -> Result<u64, &'static str> {
    let text = std::str::from_utf8(arg).map_err(|_| NOT_CONVERTIBLE)?;
    if text.starts_with('-') && text.len() > 1 && text[1..].bytes().all(|b| b.is_ascii_digit()) {
        return Err(OUT_OF_BOUNDS);
    }
    let digits = text.strip_prefix('+').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NOT_CONVERTIBLE);
    }
    digits.parse().map_err(|_| OUT_OF_BOUNDS)
}

/// The argument after keyword `name`.
pub(in crate::commands::search) fn value_of(
    args: &mut Args,
    name: &str,
) -> Result<Bytes, CmdError> {
    args.next().ok_or_else(|| bad_args(name, NO_ARG))
}

/// `name n a1 .. an`: the `n` arguments after the count.
pub(in crate::commands::search) fn var_args(
    args: &mut Args,
    name: &str,
) -> Result<Vec<Bytes>, CmdError> {
    let count = value_of(args, name)?;
    let n = parse_unsigned(&count).map_err(|reason| bad_args(name, reason))?;
    if n > args.remaining() as u64 {
        return Err(bad_args(name, NO_ARG));
    }
    Ok(args.by_ref().take(n as usize).collect())
}

/// Parses everything after the index name. `max_results` is MAXSEARCHRESULTS.
pub fn parse(args: &mut Args, protocol: Protocol, max_results: u64) -> Result<Request, CmdError> {
    let mut req = Request {
        query: args.next_bytes()?,
        num: 10,
        ..Request::default()
    };
    let mut explicit_return = false;
    let mut params_seen = false;
    while let Some(arg) = args.peek().cloned() {
        let position = args.argv().len() - args.remaining() - 2;
        let _ = args.next();
        let keyword = arg.to_ascii_uppercase();
        match keyword.as_slice() {
            b"NOCONTENT" => req.no_content = true,
            b"VERBATIM" => req.verbatim = true,
            b"NOSTOPWORDS" | b"WITHCOUNT" | b"WITHOUTCOUNT" => {}
            b"INORDER" => req.in_order = true,
            b"WITHSCORES" => req.with_scores = true,
            b"WITHPAYLOADS" => req.with_payloads = true,
            b"WITHSORTKEYS" => req.with_sort_keys = true,
            b"EXPLAINSCORE" => req.explain_score = true,
            b"SLOP" => {
                let slop = value_of(args, "SLOP")?;
                let text = std::str::from_utf8(&slop).unwrap_or("");
                let Ok(slop) = text.parse::<i64>() else {
                    return Err(bad_args("SLOP", NOT_CONVERTIBLE));
                };
                // A negative SLOP is RediSearch's "no limit".
                req.slop = u32::try_from(slop).ok();
            }
            b"LANGUAGE" => req.language = Some(text(&value_of(args, "LANGUAGE")?)),
            b"EXPANDER" => {
                value_of(args, "EXPANDER")?;
            }
            b"PAYLOAD" => req.payload = Some(value_of(args, "PAYLOAD")?),
            b"SCORER" => req.scorer = Some(text(&value_of(args, "SCORER")?)),
            b"INKEYS" => req.in_keys = Some(var_args(args, "INKEYS")?),
            b"INFIELDS" => {
                let fields = var_args(args, "INFIELDS")?;
                req.in_fields = Some(fields.iter().map(|f| text(f)).collect());
            }
            b"RETURN" => {
                explicit_return = true;
                req.returns = Some(parse_return(&var_args(args, "RETURN")?)?);
            }
            b"SUMMARIZE" => {
                req.summarize = Some(
                    parse_summarize(args).ok_or_else(|| coded("Bad arguments for SUMMARIZE"))?,
                )
            }
            b"HIGHLIGHT" => {
                req.highlight = Some(
                    parse_highlight(args).ok_or_else(|| coded("Bad arguments for HIGHLIGHT"))?,
                )
            }
            b"FILTER" => req.filters.push(parse_filter(args)?),
            b"GEOFILTER" => req.geo_filters.push(parse_geofilter(args)?),
            b"LIMIT" => parse_limit(args, &mut req, max_results)?,
            b"SORTBY" => {
                if req.sort.is_some() {
                    return Err(coded("Multiple SORTBY steps are not allowed"));
                }
                req.sort = Some(parse_sortby(args)?);
            }
            b"TIMEOUT" => req.timeout = Some(parse_timeout(args)?),
            b"PARAMS" => req.params = parse_params(args, &mut params_seen)?,
            b"DIALECT" => req.dialect = Some(parse_dialect(args)?),
            b"FORMAT" => {
                let format = args
                    .next()
                    .ok_or_else(|| coded("Need an argument for FORMAT"))?;
                if format.eq_ignore_ascii_case(b"EXPAND") {
                    return Err(coded(if protocol == Protocol::Resp3 {
                        "EXPAND format is only supported with JSON"
                    } else {
                        "EXPAND format is only supported with RESP3"
                    }));
                }
                if !format.eq_ignore_ascii_case(b"STRING") {
                    return Err(coded(format!("FORMAT {} is not supported", text(&format))));
                }
            }
            b"GROUPBY" | b"REDUCE" => {
                return Err(coded(format!(
                    "option `{}` is mutually exclusive with simple (i.e. search) options",
                    text(&keyword)
                )));
            }
            _ => {
                return Err(coded(format!(
                    "Unknown argument `{}` at position {position} for <main>",
                    text(&arg)
                )));
            }
        }
    }
    if req.explain_score && !req.with_scores {
        return Err(coded("EXPLAINSCORE must be accompanied with WITHSCORES"));
    }
    if explicit_return && req.returns.as_ref().is_some_and(Vec::is_empty) {
        req.no_content = true;
    }
    if req.count_only {
        req.no_content = true;
    }
    Ok(req)
}

/// TIMEOUT's value: the query's budget in milliseconds, 0 for none.
pub(in crate::commands::search) fn parse_timeout(args: &mut Args) -> Result<u64, CmdError> {
    let timeout = args
        .next()
        .ok_or_else(|| coded("Need argument for TIMEOUT"))?;
    parse_unsigned(&timeout).map_err(|_| coded("TIMEOUT requires a non negative integer"))
}

pub(in crate::commands::search) fn parse_dialect(args: &mut Args) -> Result<u32, CmdError> {
    let dialect = args
        .next()
        .ok_or_else(|| coded("Need an argument for DIALECT"))?;
    match parse_unsigned(&dialect) {
        Ok(d @ 1..=4) => Ok(d as u32),
        _ => Err(coded(format!(
            "DIALECT requires a non negative integer >=1 and <= {MAX_DIALECT}"
        ))),
    }
}

/// RETURN's list: `identifier [AS name]` entries.
fn parse_return(list: &[Bytes]) -> Result<Vec<ReturnField>, CmdError> {
    let mut out: Vec<ReturnField> = Vec::new();
    let mut items = list.iter();
    while let Some(path) = items.next() {
        let path = text(path);
        let mut name = path.clone();
        if items
            .as_slice()
            .first()
            .is_some_and(|a| a.eq_ignore_ascii_case(b"AS"))
        {
            let _ = items.next();
            let alias = items
                .next()
                .ok_or_else(|| coded("RETURN path AS name - must be accompanied with NAME"))?;
            if alias.eq_ignore_ascii_case(b"AS") {
                return Err(coded("Alias for RETURN cannot be `AS`"));
            }
            name = text(alias);
        }
        // A name given twice is one returned field (the first path wins).
        if !out.iter().any(|f| f.name == name) {
            out.push(ReturnField { path, name });
        }
    }
    Ok(out)
}

/// A `FIELDS n f...` list at the start of SUMMARIZE / HIGHLIGHT.
fn field_list(args: &mut Args) -> Option<Option<Vec<String>>> {
    if !args.eat("FIELDS") {
        return Some(None);
    }
    let fields = var_args(args, "FIELDS").ok()?;
    Some(Some(fields.iter().map(|f| text(f)).collect()))
}

fn parse_summarize(args: &mut Args) -> Option<Summarize> {
    let mut summarize = Summarize {
        fields: field_list(args)?,
        frags: 3,
        len: 20,
        separator: "... ".to_string(),
    };
    loop {
        if args.eat("LEN") {
            summarize.len = usize::try_from(parse_unsigned(&args.next()?).ok()?).ok()?;
        } else if args.eat("FRAGS") {
            summarize.frags = usize::try_from(parse_unsigned(&args.next()?).ok()?).ok()?;
        } else if args.eat("SEPARATOR") {
            summarize.separator = text(&args.next()?);
        } else {
            return Some(summarize);
        }
    }
}

fn parse_highlight(args: &mut Args) -> Option<Highlight> {
    let mut highlight = Highlight {
        fields: field_list(args)?,
        open: "<b>".to_string(),
        close: "</b>".to_string(),
    };
    while args.eat("TAGS") {
        if args.remaining() < 2 {
            return None;
        }
        highlight.open = text(&args.next()?);
        highlight.close = text(&args.next()?);
    }
    Some(highlight)
}

/// A numeric bound as FILTER writes it: `(` for exclusive, `-inf` / `+inf` / `inf`.
fn parse_bound(arg: &[u8]) -> Option<NumBound> {
    let (inclusive, number) = match arg.strip_prefix(b"(") {
        Some(rest) => (false, rest),
        None => (true, arg),
    };
    let text = std::str::from_utf8(number).ok()?;
    let value = match text.to_ascii_lowercase().as_str() {
        "inf" | "+inf" => f64::INFINITY,
        "-inf" => f64::NEG_INFINITY,
        lower if lower.contains("inf") || lower.contains("nan") => return None,
        _ => text.parse().ok()?,
    };
    Some(NumBound { value, inclusive })
}

fn parse_filter(args: &mut Args) -> Result<NumericFilter, CmdError> {
    if args.remaining() < 3 {
        return Err(coded("FILTER requires 3 arguments"));
    }
    let field = text(&args.next_bytes()?);
    let min = args.next_bytes()?;
    let min = parse_bound(&min).ok_or_else(|| coded(format!("Bad lower range: {}", text(&min))))?;
    let max = args.next_bytes()?;
    let max = parse_bound(&max).ok_or_else(|| coded(format!("Bad upper range: {}", text(&max))))?;
    Ok(NumericFilter { field, min, max })
}

/// `GEOFILTER field lon lat radius m|km|mi|ft`: its field and circle.
fn parse_geofilter(args: &mut Args) -> Result<(String, GeoFilter), CmdError> {
    if args.remaining() < 5 {
        return Err(coded("GEOFILTER requires 5 arguments"));
    }
    let field = text(&args.next_bytes()?);
    let mut numbers = [0.0; 3];
    for slot in &mut numbers {
        *slot = crate::commands::args::parse_f64(&args.next_bytes()?)
            .map_err(|_| coded("Invalid GeoFilter lat/lon/radius"))?;
    }
    let unit = GeoUnit::parse(&args.next_bytes()?).ok_or_else(|| coded("Unknown distance unit"))?;
    let [lon, lat, radius] = numbers;
    Ok((
        field,
        GeoFilter {
            lon,
            lat,
            radius,
            unit,
        },
    ))
}

fn parse_limit(args: &mut Args, req: &mut Request, max_results: u64) -> Result<(), CmdError> {
    let (offset, num) = limit_pair(args, max_results)?;
    if offset > max_results {
        return Err(coded(format!("OFFSET exceeds maximum of {max_results}")));
    }
    req.offset = offset;
    req.num = num;
    req.count_only = num == 0;
    Ok(())
}

/// `LIMIT offset num` of FT.SEARCH and FT.AGGREGATE, with RediSearch's checks: two numbers,
/// `num` 0 only with `offset` 0, `num` at most `max_results`.
pub(in crate::commands::search) fn limit_pair(
    args: &mut Args,
    max_results: u64,
) -> Result<(u64, u64), CmdError> {
    if args.remaining() < 2 {
        return Err(coded("LIMIT requires two arguments"));
    }
    let offset = args.next_bytes()?;
    let num = args.next_bytes()?;
    let (Ok(offset), Ok(num)) = (parse_unsigned(&offset), parse_unsigned(&num)) else {
        return Err(coded("LIMIT needs two numeric arguments"));
    };
    if num == 0 && offset != 0 {
        return Err(coded("The `offset` of the LIMIT must be 0 when `num` is 0"));
    }
    if num > max_results {
        return Err(coded(format!("LIMIT exceeds maximum of {max_results}")));
    }
    Ok((offset, num))
}

fn parse_sortby(args: &mut Args) -> Result<SortBy, CmdError> {
    let field = args.next().ok_or_else(|| coded("Bad SORTBY arguments"))?;
    let ascending = if args.eat("DESC") {
        false
    } else {
        args.eat("ASC");
        true
    };
    if args.eat("MAX") {
        return Err(coded("SORTBY MAX is not supported by FT.SEARCH"));
    }
    Ok(SortBy {
        field: text(&field),
        ascending,
    })
}

/// PARAMS' list; `seen` refuses a second PARAMS, as RediSearch does.
pub(in crate::commands::search) fn parse_params(
    args: &mut Args,
    seen: &mut bool,
) -> Result<Params, CmdError> {
    if *seen {
        return Err(coded(
            "Multiple PARAMS are not allowed. Parameters can be defined only once",
        ));
    }
    *seen = true;
    let list = var_args(args, "PARAMS")?;
    if list.is_empty() || list.len() % 2 == 1 {
        return Err(coded("Parameters must be specified in PARAM VALUE pairs"));
    }
    let mut params = Params::new();
    for pair in list.chunks(2) {
        let name = text(&pair[0]);
        if params.contains_key(&name) {
            return Err(coded(format!("Duplicate parameter `{name}`")));
        }
        params.insert(name, pair[1].clone());
    }
    Ok(params)
}

/// Checks LANGUAGE and SCORER against what RediSearch knows; it does so once it has found
/// the index, so an unknown index is reported first.
pub fn check_names(req: &Request) -> Result<(), CmdError> {
    if let Some(language) = &req.language {
        let known = crate::search::schema::LANGUAGES;
        if !known.iter().any(|l| l.eq_ignore_ascii_case(language)) {
            return Err(coded("No such language"));
        }
    }
    scorer(req.scorer.as_deref()).map(|_| ())
}

/// The SCORER named (TFIDF when none is), which must be one of RediSearch's scorers.
pub(in crate::commands::search) fn scorer(name: Option<&str>) -> Result<Scorer, CmdError> {
    match name {
        Some(name) => Scorer::by_name(name).map_err(|e| coded(e.to_string())),
        None => Ok(Scorer::default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_line(line: &str) -> Result<Request, String> {
        parse_words(&line.split(' ').collect::<Vec<_>>())
    }

    fn parse_words(words: &[&str]) -> Result<Request, String> {
        let argv: Vec<Bytes> = ["FT.SEARCH", "idx"]
            .iter()
            .chain(words)
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect();
        let mut args = Args::new(argv, 2);
        parse(&mut args, Protocol::Resp2, 1_000_000).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults() {
        let req = parse_line("*").expect("parses");
        assert_eq!(req.query.as_ref(), b"*");
        assert_eq!((req.offset, req.num, req.count_only), (0, 10, false));
        assert!(!req.no_content && req.returns.is_none() && req.sort.is_none());
        assert_eq!(req.dialect, None);
    }

    #[test]
    fn redis_py_order_any_case() {
        let req = parse_line(
            "@t:{x} nocontent INFIELDS 1 t VERBATIM NOSTOPWORDS FILTER n (1 +inf WITHPAYLOADS \
             SCORER BM25 WITHSCORES INKEYS 2 a b SLOP 1 TIMEOUT 100 INORDER RETURN 3 t AS tt \
             SORTBY n desc LANGUAGE English EXPANDER x DIALECT 2 SUMMARIZE FIELDS 1 t LEN 5 \
             HIGHLIGHT TAGS <i> </i> LIMIT 5 20 PARAMS 2 vec abc",
        )
        .expect("parses");
        assert!(req.no_content && req.verbatim && req.with_scores && req.with_payloads);
        assert_eq!(req.in_fields, Some(vec!["t".to_string()]));
        assert_eq!(req.filters.len(), 1);
        assert_eq!(
            req.filters[0].min,
            NumBound {
                value: 1.0,
                inclusive: false
            }
        );
        assert_eq!(req.filters[0].max.value, f64::INFINITY);
        assert_eq!(req.scorer.as_deref(), Some("BM25"));
        assert_eq!(req.in_keys.as_ref().map(Vec::len), Some(2));
        assert_eq!(
            req.returns,
            Some(vec![ReturnField {
                path: "t".into(),
                name: "tt".into()
            }])
        );
        assert_eq!(
            req.sort,
            Some(SortBy {
                field: "n".into(),
                ascending: false
            })
        );
        assert_eq!(req.dialect, Some(2));
        assert_eq!(req.summarize.as_ref().map(|s| s.len), Some(5));
        assert_eq!(req.highlight.as_ref().map(|h| h.open.as_str()), Some("<i>"));
        assert_eq!((req.offset, req.num), (5, 20));
        assert_eq!(req.params.get("vec").map(|v| v.as_ref()), Some(&b"abc"[..]));
    }

    #[test]
    fn return_zero_and_limit_zero_mean_no_content() {
        assert!(parse_line("* RETURN 0").expect("parses").no_content);
        let req = parse_line("* LIMIT 0 0").expect("parses");
        assert!(req.no_content && req.count_only);
    }

    #[test]
    fn errors_carry_redisearch_texts() {
        let cases = [
            ("* FOO", "Unknown argument `FOO` at position 1 for <main>"),
            (
                "* NOCONTENT FOO",
                "Unknown argument `FOO` at position 2 for <main>",
            ),
            (
                "* LIMIT 0 10 bar",
                "Unknown argument `bar` at position 4 for <main>",
            ),
            (
                "* PARAMS 4 a 1",
                "Bad arguments for PARAMS: Expected an argument, but none provided",
            ),
            (
                "* PARAMS",
                "Bad arguments for PARAMS: Expected an argument, but none provided",
            ),
            (
                "* PARAMS x",
                "Bad arguments for PARAMS: Could not convert argument to expected type",
            ),
            (
                "* PARAMS 1 a",
                "Parameters must be specified in PARAM VALUE pairs",
            ),
            (
                "* PARAMS 0",
                "Parameters must be specified in PARAM VALUE pairs",
            ),
            ("* PARAMS 4 a 1 a 2", "Duplicate parameter `a`"),
            (
                "* PARAMS 2 a 1 PARAMS 2 b 2",
                "Multiple PARAMS are not allowed. Parameters can be defined only once",
            ),
            ("* LIMIT 0", "LIMIT requires two arguments"),
            ("* LIMIT a 1", "LIMIT needs two numeric arguments"),
            ("* LIMIT -1 1", "LIMIT needs two numeric arguments"),
            (
                "* LIMIT 5 0",
                "The `offset` of the LIMIT must be 0 when `num` is 0",
            ),
            ("* LIMIT 0 1000001", "LIMIT exceeds maximum of 1000000"),
            ("* LIMIT 1000001 1", "OFFSET exceeds maximum of 1000000"),
            ("* DIALECT", "Need an argument for DIALECT"),
            (
                "* DIALECT 5",
                "DIALECT requires a non negative integer >=1 and <= 4",
            ),
            (
                "* DIALECT 0",
                "DIALECT requires a non negative integer >=1 and <= 4",
            ),
            ("* TIMEOUT", "Need argument for TIMEOUT"),
            ("* TIMEOUT -5", "TIMEOUT requires a non negative integer"),
            ("* SORTBY", "Bad SORTBY arguments"),
            (
                "* SORTBY a SORTBY b",
                "Multiple SORTBY steps are not allowed",
            ),
            (
                "* SORTBY a MAX 3",
                "SORTBY MAX is not supported by FT.SEARCH",
            ),
            (
                "* RETURN 2 a",
                "Bad arguments for RETURN: Expected an argument, but none provided",
            ),
            (
                "* RETURN 2 a AS",
                "RETURN path AS name - must be accompanied with NAME",
            ),
            ("* RETURN 3 a AS as", "Alias for RETURN cannot be `AS`"),
            (
                "* INKEYS",
                "Bad arguments for INKEYS: Expected an argument, but none provided",
            ),
            (
                "* SLOP x",
                "Bad arguments for SLOP: Could not convert argument to expected type",
            ),
            (
                "* LANGUAGE",
                "Bad arguments for LANGUAGE: Expected an argument, but none provided",
            ),
            ("* FILTER n 1", "FILTER requires 3 arguments"),
            ("* FILTER n x 2", "Bad lower range: x"),
            ("* FILTER n 1 (y", "Bad upper range: (y"),
            ("* WITHSCORES EXPLAINSCORE", ""),
            (
                "* EXPLAINSCORE",
                "EXPLAINSCORE must be accompanied with WITHSCORES",
            ),
            ("* SUMMARIZE FIELDS 3 a", "Bad arguments for SUMMARIZE"),
            ("* HIGHLIGHT TAGS <b>", "Bad arguments for HIGHLIGHT"),
            (
                "* FORMAT EXPAND",
                "EXPAND format is only supported with RESP3",
            ),
            ("* FORMAT JSON", "FORMAT JSON is not supported"),
            (
                "* GROUPBY 1 @a",
                "option `GROUPBY` is mutually exclusive with simple (i.e. search) options",
            ),
        ];
        for (line, want) in cases {
            let got = parse_line(line).err().unwrap_or_default();
            assert_eq!(got, want, "{line}");
        }
    }

    #[test]
    fn scorer_and_language_names() {
        let check = |line: &str| {
            let req = parse_line(line).expect("parses");
            check_names(&req).err().map(|e| e.to_string())
        };
        assert_eq!(check("* SCORER BM25STD LANGUAGE German"), None);
        assert_eq!(
            check("* SCORER bm25"),
            Some("No such scorer bm25".to_string())
        );
        assert_eq!(
            check("* LANGUAGE klingon"),
            Some("No such language".to_string())
        );
    }

    #[test]
    fn bounds() {
        assert_eq!(
            parse_bound(b"-inf").map(|b| b.value),
            Some(f64::NEG_INFINITY)
        );
        assert_eq!(
            parse_bound(b"(2.5"),
            Some(NumBound {
                value: 2.5,
                inclusive: false
            })
        );
        assert_eq!(parse_bound(b"nan"), None);
        assert_eq!(parse_bound(b""), None);
    }
}
