//! RediSearch's expression language (FT.CREATE `FILTER`, FT.AGGREGATE `APPLY` /
//! `FILTER`): [`Expr::parse`] turns the text into an AST once, [`Expr::eval`] evaluates it
//! against any [`Properties`] (a hash being indexed, a row of an aggregation).
//!
//! Covered: numbers (`inf`), quoted strings, `@property`, `NULL`, arithmetic `+ - * / % ^`,
//! comparisons, `&& || !`, parentheses and the functions in [`FUNCTIONS`] (string, math,
//! and UTC time functions over Unix seconds, [`super::datetime`]). Precedence, from
//! loosest: `||`, `&&`, `!`, comparisons (not chainable), `+ -`, `* / %`, unary `-`, `^`
//! (right-associative; `-2^2` is 4 as in RediSearch, whose lexer reads `-2` as one number) — `!@a == 1` negates the comparison, as in RediSearch.
//!
//! This module knows nothing of keys, hashes or indexes: values come through [`Properties`].

use std::cmp::Ordering;

use super::SearchError;
use super::datetime::{Civil, days_from_civil, expand_conversions};
use super::fields::geo::{self, GeoPoint};

/// A value an expression reads or computes.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Number(f64),
    Str(String),
    /// A list, as aggregation reducers (TOLIST, RANDOM_SAMPLE) produce.
    Array(Vec<Value>),
    /// Bytes that are not UTF-8 (a vector blob an aggregation loads), kept as they are;
    /// expressions read them as text with invalid sequences replaced.
    Bytes(bytes::Bytes),
}

impl Value {
    /// RediSearch's truth test: a non-zero number, a non-empty string.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Number(n) => *n != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::Array(items) => !items.is_empty(),
            Value::Bytes(b) => !b.is_empty(),
        }
    }

    /// The value as a number: numbers, and strings that spell one.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Value::Null | Value::Array(_) | Value::Bytes(_) => None,
            Value::Number(n) => Some(*n),
            Value::Str(s) => s.trim().parse().ok(),
        }
    }

    /// The value as text: strings, and numbers written as RediSearch writes them
    /// (integral values without a fraction).
    pub fn as_text(&self) -> Option<String> {
        match self {
            Value::Null | Value::Array(_) => None,
            Value::Number(n) if n.fract() == 0.0 && n.abs() < 1e17 => Some(format!("{n:.0}")),
            Value::Number(n) => Some(n.to_string()),
            Value::Str(s) => Some(s.clone()),
            Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        }
    }

    fn boolean(b: bool) -> Value {
        Value::Number(if b { 1.0 } else { 0.0 })
    }
}

/// Where `@name` gets its value; a property that does not exist is [`Value::Null`].
pub trait Properties {
    fn property(&self, name: &str) -> Value;

    /// The query terms the document behind these properties matched, in query order
    /// (`matched_terms()`); `None` where there is no such document (a hash being indexed,
    /// a group).
    fn matched_terms(&self) -> Option<&[String]> {
        None
    }
}

/// How many terms `matched_terms()` returns at most, and without a valid argument
/// (RediSearch's cap).
const MAX_MATCHED_TERMS: usize = 100;

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Literal(Value),
    Property(String),
    Negate(Box<Expr>),
    Not(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Call(Func, Vec<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Func {
    Lower,
    Upper,
    Strlen,
    Substr,
    StartsWith,
    Contains,
    Format,
    Split,
    ToNumber,
    ToStr,
    Exists,
    Abs,
    Floor,
    Ceil,
    Sqrt,
    Log,
    Log2,
    Exp,
    TimeFmt,
    ParseTime,
    Minute,
    Hour,
    Day,
    Month,
    Year,
    DayOfWeek,
    DayOfMonth,
    DayOfYear,
    MonthOfYear,
    GeoDistance,
    MatchedTerms,
}

/// The functions known to the parser: name (case-insensitive), function, and the least and
/// most arguments it takes.
pub const FUNCTIONS: &[(&str, Func, usize, usize)] = &[
    ("lower", Func::Lower, 1, 1),
    ("upper", Func::Upper, 1, 1),
    ("strlen", Func::Strlen, 1, 1),
    ("substr", Func::Substr, 3, 3),
    ("startswith", Func::StartsWith, 2, 2),
    ("contains", Func::Contains, 2, 2),
    ("format", Func::Format, 1, usize::MAX),
    ("split", Func::Split, 1, 3),
    ("to_number", Func::ToNumber, 1, 1),
    ("to_str", Func::ToStr, 1, 1),
    ("exists", Func::Exists, 1, 1),
    ("abs", Func::Abs, 1, 1),
    ("floor", Func::Floor, 1, 1),
    ("ceil", Func::Ceil, 1, 1),
    ("sqrt", Func::Sqrt, 1, 1),
    ("log", Func::Log, 1, 1),
    ("log2", Func::Log2, 1, 1),
    ("exp", Func::Exp, 1, 1),
    ("timefmt", Func::TimeFmt, 1, 2),
    ("parsetime", Func::ParseTime, 1, 2),
    ("minute", Func::Minute, 1, 1),
    ("hour", Func::Hour, 1, 1),
    ("day", Func::Day, 1, 1),
    ("month", Func::Month, 1, 1),
    ("year", Func::Year, 1, 1),
    ("dayofweek", Func::DayOfWeek, 1, 1),
    ("dayofmonth", Func::DayOfMonth, 1, 1),
    ("dayofyear", Func::DayOfYear, 1, 1),
    ("monthofyear", Func::MonthOfYear, 1, 1),
    ("geodistance", Func::GeoDistance, 2, 4),
    ("matched_terms", Func::MatchedTerms, 0, 1),
];

/// `timefmt` / `parsetime`'s default format.
const TIME_FORMAT: &str = "%FT%TZ";

/// Bounds that keep parsing and evaluating client input far from the stack's end: the
/// evaluation recurses once per AST level, which is at most one per token.
const MAX_TOKENS: usize = 1024;
const MAX_NESTING: usize = 128;

impl Expr {
    /// Parses `text`; errors use RediSearch's wording (`Syntax error at offset N near 'X'`,
    /// `Unknown symbol 'x'`, `Unknown function name 'f'`, `Function 'f' expects ...`).
    pub fn parse(text: &str) -> Result<Expr, SearchError> {
        let tokens = lex(text)?;
        if tokens.len() > MAX_TOKENS {
            let t = &tokens[MAX_TOKENS];
            return Err(syntax(t, "expression too long"));
        }
        let mut p = Parser {
            tokens,
            pos: 0,
            nesting: 0,
            end: text.len(),
        };
        let expr = p.or()?;
        match p.tokens.get(p.pos) {
            None => Ok(expr),
            Some(t) => Err(syntax(t, "")),
        }
    }

    /// Evaluates against `props`. Arithmetic on a value that is not a number fails, as in
    /// RediSearch; comparisons are numeric when both sides are numbers (or strings spelling
    /// one), else by bytes, with NULL below everything.
    pub fn eval(&self, props: &dyn Properties) -> Result<Value, SearchError> {
        Ok(match self {
            Expr::Literal(v) => v.clone(),
            Expr::Property(name) => props.property(name),
            Expr::Negate(e) => Value::Number(-number(&e.eval(props)?)?),
            Expr::Not(e) => Value::boolean(!e.eval(props)?.truthy()),
            Expr::Binary(BinOp::And, l, r) => {
                Value::boolean(l.eval(props)?.truthy() && r.eval(props)?.truthy())
            }
            Expr::Binary(BinOp::Or, l, r) => {
                Value::boolean(l.eval(props)?.truthy() || r.eval(props)?.truthy())
            }
            Expr::Binary(op, l, r) => binary(*op, l.eval(props)?, r.eval(props)?)?,
            Expr::Call(func, args) => {
                let args = args
                    .iter()
                    .map(|a| a.eval(props))
                    .collect::<Result<Vec<_>, _>>()?;
                call(*func, &args, props)?
            }
        })
    }

    /// The names of the properties the expression reads, in the order they appear (each
    /// once), so a caller can check them or load them before evaluating.
    pub fn properties(&self) -> Vec<String> {
        fn walk(e: &Expr, out: &mut Vec<String>) {
            match e {
                Expr::Literal(_) => {}
                Expr::Property(name) if !out.contains(name) => out.push(name.clone()),
                Expr::Property(_) => {}
                Expr::Negate(inner) | Expr::Not(inner) => walk(inner, out),
                Expr::Binary(_, l, r) => {
                    walk(l, out);
                    walk(r, out);
                }
                Expr::Call(_, args) => args.iter().for_each(|a| walk(a, out)),
            }
        }
        let mut out = Vec::new();
        walk(self, &mut out);
        out
    }

    /// Whether the expression calls `matched_terms()` (the caller must then collect the
    /// terms each document matched).
    pub fn reads_matched_terms(&self) -> bool {
        match self {
            Expr::Literal(_) | Expr::Property(_) => false,
            Expr::Negate(inner) | Expr::Not(inner) => inner.reads_matched_terms(),
            Expr::Binary(_, l, r) => l.reads_matched_terms() || r.reads_matched_terms(),
            Expr::Call(func, args) => {
                *func == Func::MatchedTerms || args.iter().any(Expr::reads_matched_terms)
            }
        }
    }

    /// Whether the expression holds for `props`; an evaluation error counts as false.
    pub fn matches(&self, props: &dyn Properties) -> bool {
        self.eval(props).is_ok_and(|v| v.truthy())
    }
}

fn number(v: &Value) -> Result<f64, SearchError> {
    v.as_number()
        .ok_or_else(|| SearchError::other("Could not convert value to a number"))
}

fn binary(op: BinOp, l: Value, r: Value) -> Result<Value, SearchError> {
    let ordering = || compare(&l, &r);
    Ok(match op {
        BinOp::Eq => Value::boolean(ordering() == Some(Ordering::Equal)),
        BinOp::Ne => Value::boolean(ordering() != Some(Ordering::Equal)),
        BinOp::Lt => Value::boolean(ordering() == Some(Ordering::Less)),
        BinOp::Le => Value::boolean(matches!(ordering(), Some(Ordering::Less | Ordering::Equal))),
        BinOp::Gt => Value::boolean(ordering() == Some(Ordering::Greater)),
        BinOp::Ge => Value::boolean(matches!(
            ordering(),
            Some(Ordering::Greater | Ordering::Equal)
        )),
        _ => {
            let (a, b) = (number(&l)?, number(&r)?);
            Value::Number(match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                BinOp::Mul => a * b,
                BinOp::Div => a / b,
                BinOp::Mod => a % b,
                _ => a.powf(b),
            })
        }
    })
}

/// `None` when the numbers are not comparable (NaN): every comparison but `!=` is false.
pub fn compare(l: &Value, r: &Value) -> Option<Ordering> {
    match (l, r) {
        (Value::Null, Value::Null) => Some(Ordering::Equal),
        (Value::Null, _) => Some(Ordering::Less),
        (_, Value::Null) => Some(Ordering::Greater),
        _ => match (l.as_number(), r.as_number()) {
            (Some(a), Some(b)) => a.partial_cmp(&b),
            _ => l.as_text().cmp(&r.as_text()).into(),
        },
    }
}

fn call(func: Func, args: &[Value], props: &dyn Properties) -> Result<Value, SearchError> {
    let text = |i: usize| args[i].as_text();
    let math = |f: fn(f64) -> f64| Ok(Value::Number(f(number(&args[0])?)));
    match func {
        Func::Exists => Ok(Value::boolean(args[0] != Value::Null)),
        Func::Lower => Ok(text(0).map_or(Value::Null, |s| Value::Str(s.to_ascii_lowercase()))),
        Func::Upper => Ok(text(0).map_or(Value::Null, |s| Value::Str(s.to_ascii_uppercase()))),
        Func::Strlen => Ok(text(0).map_or(Value::Null, |s| Value::Number(s.len() as f64))),
        Func::StartsWith => match (text(0), text(1)) {
            (Some(s), Some(p)) => Ok(Value::boolean(s.starts_with(&p))),
            _ => Err(SearchError::other(
                "Invalid type for startswith. Expected string",
            )),
        },
        Func::Contains => match (text(0), text(1)) {
            // The number of non-overlapping occurrences; an empty needle is found
            // between every two characters.
            (Some(s), Some(p)) if p.is_empty() => Ok(Value::Number((s.len() + 1) as f64)),
            (Some(s), Some(p)) => Ok(Value::Number(s.matches(&p).count() as f64)),
            _ => Err(SearchError::other(
                "Invalid type for contains. Expected string",
            )),
        },
        Func::Substr => {
            let s = text(0)
                .ok_or_else(|| SearchError::other("Invalid type for substr. Expected string"))?;
            substr(&s, number(&args[1])?, number(&args[2])?)
        }
        Func::Format => format(args),
        Func::Split => Ok(split(args)),
        Func::ToNumber => Ok(args[0].as_number().map_or(Value::Null, Value::Number)),
        Func::ToStr => Ok(text(0).map_or(Value::Null, Value::Str)),
        Func::Abs => math(f64::abs),
        Func::Floor => math(f64::floor),
        Func::Ceil => math(f64::ceil),
        Func::Sqrt => math(f64::sqrt),
        Func::Log => math(f64::ln),
        Func::Log2 => math(f64::log2),
        Func::Exp => math(f64::exp),
        Func::TimeFmt
        | Func::ParseTime
        | Func::Minute
        | Func::Hour
        | Func::Day
        | Func::Month
        | Func::Year
        | Func::DayOfWeek
        | Func::DayOfMonth
        | Func::DayOfYear
        | Func::MonthOfYear => Ok(time(func, args)),
        Func::GeoDistance => Ok(geodistance(args)),
        Func::MatchedTerms => Ok(matched_terms(
            props.matched_terms(),
            args.first().and_then(Value::as_number),
        )),
    }
}

/// `matched_terms(max)`: the first `max` terms (1 to 100; any other or no argument means
/// 100) of `terms` as a list, null when there are none.
fn matched_terms(terms: Option<&[String]>, max: Option<f64>) -> Value {
    let max = match max {
        Some(n) if (1.0..=MAX_MATCHED_TERMS as f64).contains(&n) => n as usize,
        _ => MAX_MATCHED_TERMS,
    };
    match terms {
        Some(terms) if !terms.is_empty() => Value::Array(
            terms
                .iter()
                .take(max)
                .map(|t| Value::Str(t.clone()))
                .collect(),
        ),
        _ => Value::Null,
    }
}

/// `geodistance`: meters between two points, rounded to centimeters, each point one
/// argument (`"lon,lat"` text, or a number: a geohash) or two (longitude, latitude):
/// `(p, q)`, `(lon, lat, q)`, `(p, lon, lat)`, `(lon, lat, lon, lat)`. A value that is not
/// a point gives NaN, as in RediSearch.
fn geodistance(args: &[Value]) -> Value {
    let point = |v: &Value| match v {
        Value::Str(s) => geo::parse_lon_lat(s.as_bytes()).ok(),
        Value::Bytes(b) => geo::parse_lon_lat(b).ok(),
        Value::Number(n) => Some(geo::decode_geohash(*n)),
        Value::Null | Value::Array(_) => None,
    };
    let lon_lat = |lon: &Value, lat: &Value| {
        Some(GeoPoint {
            lon: lon.as_number()?,
            lat: lat.as_number()?,
        })
    };
    let points = match args {
        [p, q] => point(p).zip(point(q)),
        [lon, lat, q] if lon.as_number().is_some() => lon_lat(lon, lat).zip(point(q)),
        [p, lon, lat] => point(p).zip(lon_lat(lon, lat)),
        [lon1, lat1, lon2, lat2] => lon_lat(lon1, lat1).zip(lon_lat(lon2, lat2)),
        _ => None,
    };
    let meters = points.map_or(f64::NAN, |(p, q)| geo::distance(p, q));
    Value::Number((meters * 100.0).round() / 100.0)
}

/// `format(fmt, args...)`: each `%s` takes the next argument as text (`(null)` for null),
/// `%%` is a percent sign.
fn format(args: &[Value]) -> Result<Value, SearchError> {
    let Value::Str(fmt) = &args[0] else {
        return Err(SearchError::other(
            "Invalid type for format. Expected string",
        ));
    };
    let mut next = args[1..].iter();
    let out = expand_conversions(fmt, |conversion, out| {
        match conversion {
            Some('%') => out.push('%'),
            Some('s') => {
                let arg = next
                    .next()
                    .ok_or_else(|| SearchError::other("Not enough arguments for format"))?;
                out.push_str(&arg.as_text().unwrap_or_else(|| "(null)".to_string()));
            }
            _ => return Err(SearchError::other("Invalid format string")),
        }
        Ok(())
    })?;
    Ok(Value::Str(out))
}

/// `split(s, [sep = ","], [strip = " "])`: the pieces between any of `sep`'s characters,
/// each stripped of `strip`'s characters at both ends, empty pieces left out.
fn split(args: &[Value]) -> Value {
    let arg = |i: usize, default: &str| {
        args.get(i)
            .map_or(Some(default.to_string()), Value::as_text)
    };
    let (Some(s), Some(sep), Some(strip)) = (arg(0, ""), arg(1, ","), arg(2, " ")) else {
        return Value::Null;
    };
    Value::Array(
        s.split(|c| sep.contains(c))
            .map(|piece| piece.trim_matches(|c| strip.contains(c)))
            .filter(|piece| !piece.is_empty())
            .map(|piece| Value::Str(piece.to_string()))
            .collect(),
    )
}

/// The time functions over Unix seconds (UTC); a value that is not a time is null.
fn time(func: Func, args: &[Value]) -> Value {
    let fmt = args
        .get(1)
        .map_or(Some(TIME_FORMAT.to_string()), Value::as_text);
    if func == Func::ParseTime {
        return match (args[0].as_text(), fmt) {
            (Some(text), Some(fmt)) => {
                Civil::parse(&text, &fmt).map_or(Value::Null, |t| Value::Number(t.to_unix() as f64))
            }
            _ => Value::Null,
        };
    }
    let Some(secs) = args[0].as_number().filter(|n| n.is_finite()) else {
        return Value::Null;
    };
    let secs = secs.floor() as i64;
    let t = Civil::from_unix(secs);
    let n = |v: i64| Value::Number(v as f64);
    match func {
        Func::TimeFmt => fmt.map_or(Value::Null, |f| Value::Str(t.format(&f))),
        Func::Minute => n(secs - secs.rem_euclid(60)),
        Func::Hour => n(secs - secs.rem_euclid(3600)),
        Func::Day => n(secs - secs.rem_euclid(86_400)),
        Func::Month => n(days_from_civil(t.year, t.month, 1) * 86_400),
        Func::Year => n(t.year),
        Func::DayOfWeek => n(i64::from(t.weekday())),
        Func::DayOfMonth => n(i64::from(t.day)),
        Func::DayOfYear => n(i64::from(t.day_of_year())),
        _ => n(i64::from(t.month) - 1),
    }
}

/// `substr(s, offset, len)` in bytes: a negative offset counts from the end, a negative
/// length stops that many bytes before the end; both are clamped to the string.
fn substr(s: &str, offset: f64, len: f64) -> Result<Value, SearchError> {
    let size = s.len() as i64;
    // Saturating float-to-int casts: any double is a valid argument.
    let (mut offset, mut len) = (offset as i64, len as i64);
    if offset < 0 {
        offset += size;
    }
    offset = offset.clamp(0, size);
    if len < 0 {
        len = (size - offset + len).max(0);
    }
    len = len.min(size - offset);
    let bytes = &s.as_bytes()[offset as usize..(offset + len) as usize];
    Ok(Value::Str(String::from_utf8_lossy(bytes).into_owned()))
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Number(f64),
    Str(String),
    Property(String),
    Symbol(String),
    LParen,
    RParen,
    Comma,
    Op(&'static str),
}

#[derive(Debug)]
struct Token {
    tok: Tok,
    /// Byte offset and length in the expression text.
    pos: usize,
    text: String,
}

fn syntax(t: &Token, reason: &str) -> SearchError {
    let mut text = format!("Syntax error at offset {} near '{}'", t.pos, t.text);
    if !reason.is_empty() {
        text.push_str(": ");
        text.push_str(reason);
    }
    SearchError::Other(text)
}

const OPERATORS: &[&str] = &[
    "==", "!=", "<=", ">=", "&&", "||", "+", "-", "*", "/", "%", "^", "<", ">", "!",
];

fn lex(text: &str) -> Result<Vec<Token>, SearchError> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let tok = if c.is_ascii_whitespace() {
            i += 1;
            continue;
        } else if c.is_ascii_digit()
            || (c == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            i = number_end(bytes, i);
            match text[start..i].parse() {
                Ok(n) => Tok::Number(n),
                Err(_) => return Err(bad_token(text, start, i)),
            }
        } else if c == b'"' || c == b'\'' {
            let (s, end) =
                string_literal(text, i).ok_or_else(|| bad_token(text, start, text.len()))?;
            i = end;
            Tok::Str(s)
        } else if c == b'@' {
            let (name, end) = property(text, i + 1);
            if name.is_empty() {
                return Err(bad_token(text, start, start + 1));
            }
            i = end;
            Tok::Property(name)
        } else if c.is_ascii_alphabetic() {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            match &text[start..i] {
                "inf" => Tok::Number(f64::INFINITY),
                name => Tok::Symbol(name.to_string()),
            }
        } else if c == b'(' || c == b')' || c == b',' {
            i += 1;
            match c {
                b'(' => Tok::LParen,
                b')' => Tok::RParen,
                _ => Tok::Comma,
            }
        } else if let Some(op) = OPERATORS.iter().find(|op| text[i..].starts_with(**op)) {
            i += op.len();
            Tok::Op(op)
        } else {
            let end = text[i..]
                .chars()
                .next()
                .map_or(i + 1, |ch| i + ch.len_utf8());
            return Err(bad_token(text, start, end));
        };
        tokens.push(Token {
            tok,
            pos: start,
            text: text[start..i].to_string(),
        });
    }
    Ok(tokens)
}

fn bad_token(text: &str, start: usize, end: usize) -> SearchError {
    SearchError::Other(format!(
        "Syntax error at offset {start} near '{}'",
        &text[start..end]
    ))
}

/// The end of `digits[.digits][e[+-]digits]` starting at `i`.
fn number_end(b: &[u8], mut i: usize) -> usize {
    let digits = |mut i: usize| {
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        i
    };
    i = digits(i);
    if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i = digits(i + 1);
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(b.get(i + 1), Some(b'+' | b'-')));
        if b.get(i + 1 + sign).is_some_and(u8::is_ascii_digit) {
            i = digits(i + 1 + sign);
        }
    }
    i
}

/// A string quoted by `text[start]`, with backslash escapes resolved, and the offset after
/// its closing quote; `None` when it is not closed on the same line.
fn string_literal(text: &str, start: usize) -> Option<(String, usize)> {
    let quote = text[start..].chars().next()?;
    let mut out = String::new();
    let mut chars = text[start + 1..].char_indices();
    while let Some((at, ch)) = chars.next() {
        match ch {
            '\\' => out.push(chars.next()?.1),
            '\n' => return None,
            c if c == quote => return Some((out, start + 1 + at + 1)),
            c => out.push(c),
        }
    }
    None
}

/// A property name after `@`: letters, digits, `_`, non-ASCII characters and
/// backslash-escaped punctuation or spaces.
fn property(text: &str, start: usize) -> (String, usize) {
    let mut name = String::new();
    let mut chars = text[start..].char_indices().peekable();
    while let Some(&(at, ch)) = chars.peek() {
        if ch == '\\' {
            let mut ahead = chars.clone();
            ahead.next();
            match ahead.next() {
                Some((_, e)) if e.is_ascii_punctuation() || e.is_whitespace() => {
                    name.push(e);
                    chars = ahead;
                    continue;
                }
                _ => return (name, start + at),
            }
        }
        if ch.is_alphanumeric() || ch == '_' || !ch.is_ascii() && !ch.is_whitespace() {
            name.push(ch);
            chars.next();
        } else {
            return (name, start + at);
        }
    }
    (name, text.len())
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    nesting: usize,
    /// The text's length: the offset reported when the expression ends too early.
    end: usize,
}

impl Parser {
    fn peek_op(&self, ops: &[&str]) -> Option<&'static str> {
        match self.tokens.get(self.pos).map(|t| &t.tok) {
            Some(Tok::Op(op)) if ops.contains(op) => Some(op),
            _ => None,
        }
    }

    /// The binary operator of `ops` (symbol, operator) at the current token, if any.
    fn peek_binop(&self, ops: &[(&str, BinOp)]) -> Option<BinOp> {
        match self.tokens.get(self.pos).map(|t| &t.tok) {
            Some(Tok::Op(op)) => ops.iter().find(|(s, _)| s == op).map(|&(_, b)| b),
            _ => None,
        }
    }

    fn error_here(&self) -> SearchError {
        match self.tokens.get(self.pos) {
            Some(t) => syntax(t, ""),
            None => SearchError::Other(format!("Syntax error at offset {} near ''", self.end)),
        }
    }

    /// Enters one level of recursion (parentheses, unary operators, `^`, calls).
    fn nest(&mut self) -> Result<(), SearchError> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            let t = &self.tokens[self.pos.min(self.tokens.len() - 1)];
            return Err(syntax(t, "expression too deeply nested"));
        }
        Ok(())
    }

    fn binary_chain(
        &mut self,
        ops: &[(&str, BinOp)],
        next: fn(&mut Parser) -> Result<Expr, SearchError>,
    ) -> Result<Expr, SearchError> {
        let mut left = next(self)?;
        while let Some(op) = self.peek_binop(ops) {
            self.pos += 1;
            let right = next(self)?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn or(&mut self) -> Result<Expr, SearchError> {
        self.binary_chain(&[("||", BinOp::Or)], Parser::and)
    }

    fn and(&mut self) -> Result<Expr, SearchError> {
        self.binary_chain(&[("&&", BinOp::And)], Parser::not)
    }

    fn not(&mut self) -> Result<Expr, SearchError> {
        if self.peek_op(&["!"]).is_some() {
            self.pos += 1;
            self.nest()?;
            let inner = self.not()?;
            self.nesting -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, SearchError> {
        const OPS: &[(&str, BinOp)] = &[
            ("==", BinOp::Eq),
            ("!=", BinOp::Ne),
            ("<=", BinOp::Le),
            (">=", BinOp::Ge),
            ("<", BinOp::Lt),
            (">", BinOp::Gt),
        ];
        let left = self.additive()?;
        let Some(op) = self.peek_binop(OPS) else {
            return Ok(left);
        };
        self.pos += 1;
        let right = self.additive()?;
        // Comparisons do not chain: `a < b < c` is a syntax error.
        if self.peek_binop(OPS).is_some() {
            return Err(self.error_here());
        }
        Ok(Expr::Binary(op, Box::new(left), Box::new(right)))
    }

    fn additive(&mut self) -> Result<Expr, SearchError> {
        self.binary_chain(
            &[("+", BinOp::Add), ("-", BinOp::Sub)],
            Parser::multiplicative,
        )
    }

    fn multiplicative(&mut self) -> Result<Expr, SearchError> {
        self.binary_chain(
            &[("*", BinOp::Mul), ("/", BinOp::Div), ("%", BinOp::Mod)],
            Parser::unary,
        )
    }

    /// A sign applies to everything after it up to `*` / `/` / `%` (`-@a^2` is `-(@a^2)`),
    /// except before a number: RediSearch lexes `-2` as one number, so `-2^2` is 4.
    fn unary(&mut self) -> Result<Expr, SearchError> {
        let Some(sign) = self.peek_op(&["-", "+"]) else {
            let base = self.primary()?;
            return self.power(base);
        };
        self.pos += 1;
        if let Some(Tok::Number(n)) = self.tokens.get(self.pos).map(|t| &t.tok) {
            let n = if sign == "-" { -n } else { *n };
            self.pos += 1;
            return self.power(Expr::Literal(Value::Number(n)));
        }
        self.nest()?;
        let inner = self.unary()?;
        self.nesting -= 1;
        Ok(if sign == "-" {
            Expr::Negate(Box::new(inner))
        } else {
            inner
        })
    }

    /// `base`, raised to `^ ...` if one follows (right-associative).
    fn power(&mut self, base: Expr) -> Result<Expr, SearchError> {
        if self.peek_op(&["^"]).is_none() {
            return Ok(base);
        }
        self.pos += 1;
        self.nest()?;
        let exponent = self.unary()?;
        self.nesting -= 1;
        Ok(Expr::Binary(BinOp::Pow, Box::new(base), Box::new(exponent)))
    }

    fn primary(&mut self) -> Result<Expr, SearchError> {
        let Some(t) = self.tokens.get(self.pos) else {
            return Err(self.error_here());
        };
        let expr = match &t.tok {
            Tok::Number(n) => Expr::Literal(Value::Number(*n)),
            Tok::Str(s) => Expr::Literal(Value::Str(s.clone())),
            Tok::Property(name) => Expr::Property(name.clone()),
            Tok::LParen => {
                self.pos += 1;
                self.nest()?;
                let inner = self.or()?;
                self.nesting -= 1;
                self.expect(Tok::RParen)?;
                return Ok(inner);
            }
            Tok::Symbol(name) => {
                let name = name.clone();
                if self.tokens.get(self.pos + 1).map(|t| &t.tok) == Some(&Tok::LParen) {
                    self.pos += 2;
                    return self.call(&name);
                }
                if name == "NULL" {
                    Expr::Literal(Value::Null)
                } else {
                    return Err(SearchError::Other(format!("Unknown symbol '{name}'")));
                }
            }
            Tok::RParen | Tok::Comma | Tok::Op(_) => return Err(self.error_here()),
        };
        self.pos += 1;
        Ok(expr)
    }

    fn expect(&mut self, tok: Tok) -> Result<(), SearchError> {
        match self.tokens.get(self.pos) {
            Some(t) if t.tok == tok => {
                self.pos += 1;
                Ok(())
            }
            _ => Err(self.error_here()),
        }
    }

    /// `name(` has been read: the arguments, the `)`, then the arity check.
    fn call(&mut self, name: &str) -> Result<Expr, SearchError> {
        self.nest()?;
        let mut args = Vec::new();
        if self.tokens.get(self.pos).map(|t| &t.tok) != Some(&Tok::RParen) {
            args.push(self.or()?);
            while self.tokens.get(self.pos).map(|t| &t.tok) == Some(&Tok::Comma) {
                self.pos += 1;
                args.push(self.or()?);
            }
        }
        self.expect(Tok::RParen)?;
        self.nesting -= 1;
        let Some(&(_, func, least, most)) = FUNCTIONS
            .iter()
            .find(|(n, _, _, _)| n.eq_ignore_ascii_case(name))
        else {
            return Err(SearchError::Other(format!(
                "Unknown function name '{name}'"
            )));
        };
        if args.len() < least || args.len() > most {
            let expected = if least == most {
                least.to_string()
            } else if most == usize::MAX {
                format!("at least {least}")
            } else {
                format!("{least} to {most}")
            };
            return Err(SearchError::Other(format!(
                "Function '{name}' expects {expected} arguments, but got {}",
                args.len()
            )));
        }
        Ok(Expr::Call(func, args))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    struct Row(HashMap<&'static str, &'static str>);

    impl Properties for Row {
        fn property(&self, name: &str) -> Value {
            self.0
                .get(name)
                .map_or(Value::Null, |v| Value::Str(v.to_string()))
        }
    }

    fn row() -> Row {
        Row(HashMap::from([
            ("age", "20"),
            ("name", "Alice"),
            ("__key", "p:alice"),
            ("ten", "10"),
            ("nine", "9"),
        ]))
    }

    fn eval(text: &str) -> Value {
        Expr::parse(text)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .eval(&row())
            .unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn num(text: &str) -> f64 {
        match eval(text) {
            Value::Number(n) => n,
            other => panic!("{text}: {other:?}"),
        }
    }

    fn parse_error(text: &str) -> String {
        match Expr::parse(text) {
            Ok(e) => panic!("{text} parsed as {e:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn arithmetic_and_precedence() {
        assert_eq!(num("1 + 2 * 3"), 7.0);
        assert_eq!(num("(1 + 2) * 3"), 9.0);
        assert_eq!(num("2 ^ 3 ^ 2"), 512.0);
        assert_eq!(num("-2 ^ 2"), 4.0);
        assert_eq!(num("10 - 2 - 3"), 5.0);
        assert_eq!(num("3-2"), 1.0);
        assert_eq!(num("7 % 4"), 3.0);
        assert_eq!(num("1 / 4"), 0.25);
        assert_eq!(num("1.5e2 + .5"), 150.5);
        assert_eq!(num("@age * 2"), 40.0);
        assert_eq!(num("-inf"), f64::NEG_INFINITY);
        assert_eq!(num("- @age"), -20.0);
    }

    #[test]
    fn comparisons_numeric_or_textual() {
        assert_eq!(num("@age > 18"), 1.0);
        assert_eq!(num("@age >= 21"), 0.0);
        assert_eq!(
            num("@ten > @nine"),
            1.0,
            "numeric strings compare as numbers"
        );
        assert_eq!(num("'10' > '9'"), 1.0);
        assert_eq!(num("'abc' < 'abd'"), 1.0);
        assert_eq!(num("@name == \"Alice\""), 1.0);
        assert_eq!(num("@name != 'Alice'"), 0.0);
        assert_eq!(num("@missing == NULL"), 1.0);
        assert_eq!(num("@missing > 1"), 0.0);
        assert_eq!(num("@missing < 1"), 1.0, "NULL sorts below everything");
        assert_eq!(num("20 == 20.0"), 1.0);
    }

    #[test]
    fn logic_short_circuits_and_negates() {
        assert_eq!(num("@age > 18 && startswith(@__key, 'p:a')"), 1.0);
        assert_eq!(num("@age > 18 && startswith(@__key, 'p:b')"), 0.0);
        assert_eq!(num("0 || 'x'"), 1.0);
        assert_eq!(num("!@age == 20"), 0.0, "! binds looser than ==");
        assert_eq!(num("!!1"), 1.0);
        assert_eq!(num("!''"), 1.0);
        // The right side would fail (arithmetic on a string) but is never evaluated.
        assert_eq!(num("0 && (@name + 1)"), 0.0);
        assert_eq!(num("1 || (@name + 1)"), 1.0);
    }

    #[test]
    fn aggregation_functions() {
        let s = |v: &str| Value::Str(v.into());
        let n = Value::Number;
        let list = |items: &[&str]| Value::Array(items.iter().map(|i| s(i)).collect());
        assert_eq!(eval("log2(8)"), n(3.0));
        assert_eq!(eval("exp(0)"), n(1.0));
        assert_eq!(eval("format('%s is %s%%', @name, @age)"), s("Alice is 20%"));
        assert_eq!(eval("format('%s', @missing)"), s("(null)"));
        assert_eq!(eval("split(' a, b ,,c ')"), list(&["a", "b", "c"]));
        assert_eq!(eval("split('a-b:c', '-:')"), list(&["a", "b", "c"]));
        assert_eq!(eval("split('xax,b', ',', 'x')"), list(&["a", "b"]));
        assert_eq!(eval("to_number('2.5') + 1"), n(3.5));
        assert_eq!(eval("to_str(2) == '2'"), n(1.0));
        // 2023-11-14T22:13:20Z, a Tuesday.
        let t = "1700000000";
        let at = |f: &str| eval(&format!("{f}({t})"));
        assert_eq!(at("timefmt"), s("2023-11-14T22:13:20Z"));
        assert_eq!(eval(&format!("timefmt({t}, '%Y/%m')")), s("2023/11"));
        assert_eq!(
            eval("parsetime('2023-11-14T22:13:20Z')"),
            n(1_700_000_000.0)
        );
        assert_eq!(
            eval("parsetime('14.11.2023', '%d.%m.%Y')"),
            n(1_699_920_000.0)
        );
        assert_eq!(eval("parsetime('junk')"), Value::Null);
        assert_eq!(at("minute"), n(1_699_999_980.0));
        assert_eq!(at("hour"), n(1_699_999_200.0));
        assert_eq!(at("day"), n(1_699_920_000.0));
        assert_eq!(at("month"), n(1_698_796_800.0));
        assert_eq!(at("year"), n(2023.0));
        assert_eq!(at("dayofweek"), n(2.0));
        assert_eq!(at("dayofmonth"), n(14.0));
        assert_eq!(at("dayofyear"), n(317.0));
        assert_eq!(at("monthofyear"), n(10.0));
        assert_eq!(eval("day(@name)"), Value::Null);
        let blob = Value::Bytes(bytes::Bytes::from_static(b"a\xff"));
        assert!(blob.truthy());
        assert_eq!(blob.as_number(), None);
        assert_eq!(blob.as_text().as_deref(), Some("a\u{fffd}"));
        let err = |text: &str| Expr::parse(text).unwrap_err().to_string();
        assert_eq!(
            err("split()"),
            "Function 'split' expects 1 to 3 arguments, but got 0"
        );
        assert_eq!(
            err("format()"),
            "Function 'format' expects at least 1 arguments, but got 0"
        );
        let failed = |text: &str| {
            Expr::parse(text)
                .unwrap()
                .eval(&row())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            failed("format('%s %s', 1)"),
            "Not enough arguments for format"
        );
        assert_eq!(
            failed("format(1)"),
            "Invalid type for format. Expected string"
        );
    }

    /// A document that matched `terms`.
    struct Matched(Vec<String>);

    impl Properties for Matched {
        fn property(&self, _: &str) -> Value {
            Value::Null
        }

        fn matched_terms(&self) -> Option<&[String]> {
            Some(&self.0)
        }
    }

    #[test]
    fn matched_terms_lists_the_first_terms() {
        let terms: Vec<String> = (0..150).map(|i| format!("t{i}")).collect();
        let doc = Matched(terms);
        let len = |text: &str| match Expr::parse(text).and_then(|e| e.eval(&doc)) {
            Ok(Value::Array(items)) => {
                assert_eq!(items[0], Value::Str("t0".into()));
                items.len()
            }
            other => panic!("{text}: {other:?}"),
        };
        // At most 100; an argument from 1 to 100 (a number or a string spelling one)
        // lowers it, any other means 100.
        assert_eq!(len("matched_terms()"), 100);
        assert_eq!(len("matched_terms(2)"), 2);
        assert_eq!(len("matched_terms('3')"), 3);
        assert_eq!(len("matched_terms(2.9)"), 2);
        assert_eq!(len("matched_terms(0)"), 100);
        assert_eq!(len("matched_terms(500)"), 100);
        assert_eq!(len("matched_terms('x')"), 100);
        // Nothing matched, or no document behind the properties (a group): null.
        assert_eq!(
            Expr::parse("matched_terms()").and_then(|e| e.eval(&Matched(Vec::new()))),
            Ok(Value::Null)
        );
        assert_eq!(eval("matched_terms()"), Value::Null);
        assert!(Expr::parse("1 + matched_terms(3)").is_ok_and(|e| e.reads_matched_terms()));
        assert!(!Expr::parse("lower(@name)").is_ok_and(|e| e.reads_matched_terms()));
        assert!(parse_error("matched_terms(1, 2)").contains("expects 0 to 1 arguments"));
    }

    #[test]
    fn functions() {
        assert_eq!(num("exists(@age)"), 1.0);
        assert_eq!(num("exists(@nope)"), 0.0);
        assert_eq!(eval("lower(@name)"), Value::Str("alice".into()));
        assert_eq!(eval("UPPER(@name)"), Value::Str("ALICE".into()));
        assert_eq!(eval("lower(@nope)"), Value::Null);
        assert_eq!(num("strlen(@name)"), 5.0);
        assert_eq!(num("contains(@name, 'l')"), 1.0);
        assert_eq!(num("contains('banana', 'an')"), 2.0);
        assert_eq!(num("contains(@name, 'z')"), 0.0);
        assert_eq!(num("abs(-3) + floor(2.7) + ceil(2.2) + sqrt(16)"), 12.0);
        assert_eq!(num("log(1)"), 0.0);
        assert_eq!(eval("substr('hello', 1, 3)"), Value::Str("ell".into()));
        assert_eq!(eval("substr('hello', -3, 2)"), Value::Str("ll".into()));
        assert_eq!(eval("substr('hello', 1, -1)"), Value::Str("ell".into()));
        assert_eq!(eval("substr('hello', 3, 100)"), Value::Str("lo".into()));
        assert_eq!(eval("substr('hello', 99, 1)"), Value::Str(String::new()));
        assert_eq!(num("startswith(@__key, \"p:\")"), 1.0);
        assert_eq!(
            num("startswith(123, 12)"),
            1.0,
            "numbers read as their text"
        );
    }

    #[test]
    fn strings_and_properties_lex() {
        assert_eq!(eval(r"'it\'s'"), Value::Str("it's".into()));
        assert_eq!(eval(r#""a\"b""#), Value::Str("a\"b".into()));
        let e = Expr::parse(r"@a\ b + @__key").unwrap_or_else(|e| panic!("{e}"));
        let Expr::Binary(BinOp::Add, l, r) = e else {
            panic!("{e:?}")
        };
        assert_eq!(*l, Expr::Property("a b".into()));
        assert_eq!(*r, Expr::Property("__key".into()));
    }

    #[test]
    fn evaluation_errors_are_false_for_matches() {
        let e = Expr::parse("@name + 1").unwrap_or_else(|e| panic!("{e}"));
        assert!(e.eval(&row()).is_err());
        assert!(!e.matches(&row()));
        let e = Expr::parse("@missing * 2 > 1").unwrap_or_else(|e| panic!("{e}"));
        assert!(!e.matches(&row()));
    }

    #[test]
    fn parse_errors_use_redisearch_wording() {
        assert_eq!(parse_error("a"), "Unknown symbol 'a'");
        assert_eq!(parse_error("nosuch(1)"), "Unknown function name 'nosuch'");
        assert_eq!(
            parse_error("startswith(@a)"),
            "Function 'startswith' expects 2 arguments, but got 1"
        );
        assert_eq!(parse_error("1 +"), "Syntax error at offset 3 near ''");
        assert_eq!(parse_error("(1 + 2"), "Syntax error at offset 6 near ''");
        assert_eq!(parse_error("1 2"), "Syntax error at offset 2 near '2'");
        assert_eq!(
            parse_error("@a > 1 > 0"),
            "Syntax error at offset 7 near '>'"
        );
        assert_eq!(parse_error("@a = 1"), "Syntax error at offset 3 near '='");
        assert_eq!(
            parse_error("'open"),
            "Syntax error at offset 0 near ''open'"
        );
        assert_eq!(parse_error("@"), "Syntax error at offset 0 near '@'");
        assert_eq!(parse_error(""), "Syntax error at offset 0 near ''");
    }

    #[test]
    fn hostile_input_is_bounded() {
        let deep = format!("{}1{}", "(".repeat(300), ")".repeat(300));
        assert!(parse_error(&deep).contains("too deeply nested"));
        let long = vec!["1"; 5_000].join("+");
        assert!(parse_error(&long).contains("too long"));
        let bangs = format!("{}1", "!".repeat(300));
        assert!(parse_error(&bangs).contains("too deeply nested"));
        assert_eq!(num(&vec!["1"; 500].join("+")), 500.0);
    }
}
