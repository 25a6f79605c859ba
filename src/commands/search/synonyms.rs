//! FT.SYNUPDATE and FT.SYNDUMP: an index's synonym groups ([`crate::search::synonyms`]).

use super::text;
use crate::commands::{Args, ExecCtx};
use crate::error::CmdError;
use crate::protocol::{Protocol, Reply};
use crate::search::SearchError;

/// `FT.SYNUPDATE index group [SKIPINITIALSCAN] term [term ...]`.
pub fn ft_synupdate(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let name = text(&args.next_bytes()?);
    let group = text(&args.next_bytes()?);
    let index = ctx
        .state
        .search
        .get(&name)
        .ok_or(SearchError::UnknownIndexName)?;
    // Synonyms apply at query time, so documents indexed earlier match them either way.
    args.eat("skipinitialscan");
    let terms = args.rest().iter().map(|t| text(t)).collect::<Vec<_>>();
    index.update_synonyms(&group, terms);
    Ok(Reply::ok())
}

/// `FT.SYNDUMP index`: each term with its group ids (a map in RESP3, flat pairs in RESP2).
pub fn ft_syndump(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let name = text(&args.next_bytes()?);
    let index = ctx
        .state
        .search
        .get(&name)
        .ok_or(SearchError::NoSuchIndexSuffix(name))?;
    let pairs = index.synonyms().into_iter().map(|(term, groups)| {
        let groups = groups.into_iter().map(Reply::bulk_str).collect();
        (Reply::bulk_str(term), Reply::Array(groups))
    });
    Ok(match ctx.client.protocol {
        Protocol::Resp3 => Reply::Map(pairs.collect()),
        _ => Reply::Array(pairs.flat_map(|(k, v)| [k, v]).collect()),
    })
}
