//! Suggestion dictionaries: FT.SUGADD, FT.SUGGET, FT.SUGDEL and FT.SUGLEN over keys holding a
//! [`SuggestValue`] (RediSearch's `trietype0` module type). Unlike other FT.* commands they
//! address keys, so they work in every database and answer WRONGTYPE for other types.

use super::count_reply;
use crate::commands::args::{eq_ignore_case, parse_f64};
use crate::commands::{Args, ExecCtx};
use crate::error::CmdError;
use crate::keyspace::{SuggestValue, Value};
use crate::protocol::Reply;
use crate::search::SearchError;

/// Prefixes of at least this many bytes are refused (RediSearch's 100 two-byte runes).
const MAX_PREFIX_BYTES: usize = 200;

/// FT.SUGGET's default MAX.
const DEFAULT_MAX: usize = 5;

/// `FT.SUGADD key string score [INCR] [PAYLOAD payload]`: the dictionary's size after adding.
pub fn ft_sugadd(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    if args.remaining() > 6 {
        return Err(CmdError::wrong_arity("ft.sugadd"));
    }
    let key = args.next_bytes()?;
    let text = args.next_bytes()?;
    let score = args.next_bytes()?;
    let mut incr = false;
    let mut payload = None;
    while let Some(arg) = args.next() {
        if eq_ignore_case(&arg, "incr") {
            incr = true;
        } else if eq_ignore_case(&arg, "payload") {
            let value = args.next().ok_or_else(|| {
                SearchError::other("Invalid payload: Expected an argument, but none provided")
            })?;
            payload = Some(value);
        } else {
            let arg = String::from_utf8_lossy(&arg);
            return Err(SearchError::Other(format!("Unknown argument `{arg}`")).into());
        }
    }
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let exists = match guard.lookup_write(&key) {
        Some(entry) => entry.value.as_suggest().map(|_| true)?,
        None => false,
    };
    let score = parse_f64(&score).map_err(|_| CmdError::err("invalid score"))?;
    // A string the dictionary ignores (empty, too long) creates no empty dictionary.
    if !exists && !SuggestValue::accepts(&text) {
        return Ok(Reply::Integer(0));
    }
    let dict = guard
        .get_or_insert_with(&key, || Value::Suggest(SuggestValue::default()))
        .as_suggest_mut()?;
    dict.add(text, score, incr, payload);
    Ok(count_reply(dict.len()))
}

/// `FT.SUGLEN key`.
pub fn ft_suglen(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let len = match guard.get(&key) {
        Some(value) => value.as_suggest()?.len(),
        None => 0,
    };
    Ok(count_reply(len))
}

/// `FT.SUGDEL key string`: 1 when the string was there; the last one's removal deletes the key.
pub fn ft_sugdel(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let text = args.next_bytes()?;
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let present = match guard.lookup_write(&key) {
        Some(entry) => entry.value.as_suggest()?.contains(&text),
        None => false,
    };
    if present {
        guard
            .get_mut(&key)
            .ok_or(CmdError::NoSuchKey)?
            .as_suggest_mut()?
            .remove(&text);
    }
    Ok(Reply::Integer(present.into()))
}

/// FT.SUGGET's options.
#[derive(Debug, PartialEq)]
struct GetOptions {
    fuzzy: bool,
    max: usize,
    with_scores: bool,
    with_payloads: bool,
}

/// Parses FT.SUGGET's options; TRIM and OPTIMIZE are accepted and change nothing here.
fn parse_get_options(args: &mut Args) -> Result<GetOptions, SearchError> {
    let mut options = GetOptions {
        fuzzy: false,
        max: DEFAULT_MAX,
        with_scores: false,
        with_payloads: false,
    };
    while let Some(arg) = args.next() {
        if eq_ignore_case(&arg, "fuzzy") {
            options.fuzzy = true;
        } else if eq_ignore_case(&arg, "withscores") {
            options.with_scores = true;
        } else if eq_ignore_case(&arg, "withpayloads") {
            options.with_payloads = true;
        } else if eq_ignore_case(&arg, "trim") || eq_ignore_case(&arg, "optimize") {
        } else if eq_ignore_case(&arg, "max") {
            let fault = match args.next() {
                None => "Expected an argument, but none provided",
                Some(n) => match std::str::from_utf8(&n).ok().map(str::parse::<i64>) {
                    Some(Ok(n)) if n >= 1 => {
                        options.max = usize::try_from(n).unwrap_or(usize::MAX);
                        continue;
                    }
                    Some(Ok(_)) => "Value is outside acceptable bounds",
                    _ => "Could not convert argument to expected type",
                },
            };
            return Err(SearchError::Other(format!("MAX: {fault}")));
        } else {
            let arg = String::from_utf8_lossy(&arg);
            return Err(SearchError::Other(format!("Unrecognized argument: {arg}")));
        }
    }
    Ok(options)
}

/// `FT.SUGGET key prefix [FUZZY] [WITHSCORES] [WITHPAYLOADS] [MAX n]`: a flat array of the
/// best completions, each followed by its score and / or payload (nil when it has none).
pub fn ft_sugget(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    if args.remaining() > 9 {
        return Err(CmdError::wrong_arity("ft.sugget"));
    }
    let key = args.next_bytes()?;
    let prefix = args.next_bytes()?;
    if prefix.len() >= MAX_PREFIX_BYTES {
        return Err(SearchError::other("Invalid query length").into());
    }
    let options = parse_get_options(args)?;
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let Some(value) = guard.get(&key) else {
        return Ok(Reply::Array(Vec::new()));
    };
    let dict = value.as_suggest()?;
    let mut reply = Vec::new();
    for found in dict.complete(&prefix, options.fuzzy, options.max) {
        reply.push(Reply::Bulk(found.text.clone()));
        if options.with_scores {
            reply.push(Reply::Double(found.score));
        }
        if options.with_payloads {
            reply.push(found.payload.cloned().map_or(Reply::Nil, Reply::Bulk));
        }
    }
    Ok(Reply::Array(reply))
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn parse(line: &str) -> Result<GetOptions, String> {
        let argv: Vec<Bytes> = line
            .split_whitespace()
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect();
        parse_get_options(&mut Args::new(argv, 0)).map_err(|e| e.to_string())
    }

    #[test]
    fn sugget_options() {
        let all = parse("fuzzy WITHSCORES withpayloads MAX 7 trim").unwrap();
        assert_eq!(
            all,
            GetOptions {
                fuzzy: true,
                max: 7,
                with_scores: true,
                with_payloads: true
            }
        );
        assert_eq!(parse("").unwrap().max, 5);
        assert_eq!(
            parse("MAX 0").unwrap_err(),
            "MAX: Value is outside acceptable bounds"
        );
        assert_eq!(
            parse("MAX x").unwrap_err(),
            "MAX: Could not convert argument to expected type"
        );
        assert_eq!(
            parse("MAX").unwrap_err(),
            "MAX: Expected an argument, but none provided"
        );
        assert_eq!(parse("FOO").unwrap_err(), "Unrecognized argument: FOO");
    }
}
