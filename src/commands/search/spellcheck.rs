//! FT.SPELLCHECK: argument parsing and the reply (RESP2 `[["TERM", term, [[score,
//! suggestion], ...]], ...]`, RESP3 `{"results": {term: [{suggestion: score}, ...]}}`).

use bytes::Bytes;

use crate::commands::args::{eq_ignore_case, parse_i64};
use crate::commands::{Args, ExecCtx};
use crate::error::CmdError;
use crate::protocol::{Protocol, Reply};
use crate::search::SearchError;
use crate::search::query::{Params, parse};
use crate::search::spellcheck::{Misspelled, SpellcheckOptions, spellcheck};

/// RediSearch's largest DISTANCE.
const MAX_DISTANCE: i64 = 4;

/// Options after the query, read as RediSearch reads them: each keyword wherever it appears.
fn parse_options(rest: &[Bytes]) -> Result<(SpellcheckOptions, Option<u32>), SearchError> {
    let mut options = SpellcheckOptions {
        distance: 1,
        include: Vec::new(),
        exclude: Vec::new(),
    };
    let mut dialect = None;
    let name = |b: &Bytes| String::from_utf8_lossy(b).into_owned();
    if let Some(at) = rest.iter().position(|a| eq_ignore_case(a, "distance")) {
        let value = rest.get(at + 1).ok_or_else(|| {
            SearchError::other("DISTANCE arg is given but no DISTANCE comes after")
        })?;
        match parse_i64(value) {
            Ok(n) if (1..=MAX_DISTANCE).contains(&n) => options.distance = n as usize,
            _ => {
                return Err(SearchError::other(
                    "bad distance given, distance must be a natural number between 1 to 4",
                ));
            }
        }
    }
    for (at, _) in rest
        .iter()
        .enumerate()
        .filter(|(_, a)| eq_ignore_case(a, "terms"))
    {
        let (Some(op), Some(dict)) = (rest.get(at + 1), rest.get(at + 2)) else {
            return Err(SearchError::other(
                "TERM arg is given but no TERM params comes after",
            ));
        };
        if eq_ignore_case(op, "include") {
            options.include.push(name(dict));
        } else if eq_ignore_case(op, "exclude") {
            options.exclude.push(name(dict));
        } else {
            return Err(SearchError::other(
                "bad format, exlude/include operation was not given",
            ));
        }
    }
    if let Some(at) = rest.iter().position(|a| eq_ignore_case(a, "dialect")) {
        let value = rest.get(at + 1).and_then(|v| parse_i64(v).ok());
        match value {
            Some(n @ 1..=4) => dialect = Some(n as u32),
            _ => {
                return Err(SearchError::other(
                    "DIALECT requires a non negative integer >=1 and <= 4",
                ));
            }
        }
    }
    if rest.iter().any(|a| eq_ignore_case(a, "fullscoreinfo")) {
        return Err(SearchError::other("FULLSCOREINFO is not supported"));
    }
    Ok((options, dialect))
}

/// `FT.SPELLCHECK index query [DISTANCE d] [TERMS INCLUDE|EXCLUDE dict]... [DIALECT n]`.
pub fn ft_spellcheck(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let name = String::from_utf8_lossy(&args.next_bytes()?).into_owned();
    let query = args.next_bytes()?;
    let search = &ctx.state.search;
    let index = search.get(&name).ok_or(SearchError::UnknownIndexNameCap)?;
    let (options, dialect) = parse_options(&args.rest())?;
    let dialect = dialect.unwrap_or_else(|| search.config.default_dialect());
    let query = parse(&query, &index.def, &Params::new(), dialect)?;
    let checked = spellcheck(&index, &search.dicts, &query, &options)?;
    Ok(reply(checked, ctx.client.protocol))
}

fn reply(checked: Vec<Misspelled>, protocol: Protocol) -> Reply {
    if protocol == Protocol::Resp3 {
        let terms = checked
            .into_iter()
            .map(|m| {
                let suggestions = m
                    .suggestions
                    .into_iter()
                    .map(|(score, s)| Reply::Map(vec![(Reply::bulk_str(s), Reply::Double(score))]))
                    .collect();
                (Reply::bulk_str(m.term), Reply::Array(suggestions))
            })
            .collect();
        return Reply::Map(vec![(Reply::bulk_str("results"), Reply::Map(terms))]);
    }
    Reply::Array(
        checked
            .into_iter()
            .map(|m| {
                let suggestions = m
                    .suggestions
                    .into_iter()
                    .map(|(score, s)| Reply::Array(vec![Reply::Double(score), Reply::bulk_str(s)]))
                    .collect();
                Reply::Array(vec![
                    Reply::simple("TERM"),
                    Reply::bulk_str(m.term),
                    Reply::Array(suggestions),
                ])
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_line(line: &str) -> Result<(SpellcheckOptions, Option<u32>), String> {
        let argv: Vec<Bytes> = line
            .split_whitespace()
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect();
        parse_options(&argv).map_err(|e| e.to_string())
    }

    #[test]
    fn options() {
        let (o, d) = parse_line("DISTANCE 3 TERMS include a terms EXCLUDE b DIALECT 2").unwrap();
        assert_eq!(o.distance, 3);
        assert_eq!(o.include, ["a"]);
        assert_eq!(o.exclude, ["b"]);
        assert_eq!(d, Some(2));
        let bad_distance = "bad distance given, distance must be a natural number between 1 to 4";
        for line in ["DISTANCE 0", "DISTANCE 5", "DISTANCE x"] {
            assert_eq!(parse_line(line).unwrap_err(), bad_distance);
        }
        assert_eq!(
            parse_line("DISTANCE").unwrap_err(),
            "DISTANCE arg is given but no DISTANCE comes after"
        );
        assert_eq!(
            parse_line("TERMS INCLUDE").unwrap_err(),
            "TERM arg is given but no TERM params comes after"
        );
        assert_eq!(
            parse_line("TERMS FOO d").unwrap_err(),
            "bad format, exlude/include operation was not given"
        );
    }
}
