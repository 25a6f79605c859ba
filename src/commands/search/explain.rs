//! FT.EXPLAIN / FT.EXPLAINCLI: the parsed query tree, rendered as RediSearch renders it.
//!
//! Both take FT.SEARCH's arguments (redis-py's `explain()` sends the whole query, `LIMIT`
//! and `DIALECT` included), read with FT.SEARCH's option parser; only the query text,
//! PARAMS and DIALECT matter. FT.EXPLAIN answers one bulk string, FT.EXPLAINCLI the same
//! text split into lines (ending with an empty one, as RediSearch does).

use bytes::Bytes;

use super::query::options;
use crate::commands::{Args, ExecCtx};
use crate::error::CmdError;
use crate::protocol::Reply;
use crate::search::SearchError;
use crate::search::query::{explain, parse};

pub fn ft_explain(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    Ok(Reply::Bulk(Bytes::from(explain_text(ctx, args)?)))
}

pub fn ft_explaincli(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let text = explain_text(ctx, args)?;
    Ok(Reply::Array(
        text.split('\n')
            .map(|line| Reply::Bulk(Bytes::copy_from_slice(line.as_bytes())))
            .collect(),
    ))
}

/// `index query [FT.SEARCH options]` -> the rendered plan.
fn explain_text(ctx: &mut ExecCtx, args: &mut Args) -> Result<String, CmdError> {
    let name = String::from_utf8_lossy(&args.next_bytes()?).into_owned();
    let search = &ctx.state.search;
    let req = options::parse(
        args,
        ctx.client.protocol,
        search.config.max_search_results(),
    )?;
    let index = search
        .get(&name)
        .ok_or(SearchError::NoSuchIndexSuffix(name))?;
    let dialect = req
        .dialect
        .unwrap_or_else(|| search.config.default_dialect());
    let query = parse(&req.query, &index.def, &req.params, dialect)?;
    Ok(explain(&query))
}
