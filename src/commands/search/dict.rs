//! FT.DICTADD, FT.DICTDEL and FT.DICTDUMP over the server's spell-check dictionaries
//! ([`crate::search::dict`]).

use super::{count_reply, text};
use crate::commands::{Args, ExecCtx};
use crate::error::CmdError;
use crate::protocol::Reply;
use crate::search::SearchError;

/// `FT.DICTADD dict term [term ...]`: how many terms were new.
pub fn ft_dictadd(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let dict = text(&args.next_bytes()?);
    let terms = args.rest().iter().map(|t| text(t)).collect::<Vec<_>>();
    Ok(count_reply(ctx.state.search.dicts.add(&dict, terms)))
}

/// `FT.DICTDEL dict term [term ...]`: how many terms were removed.
pub fn ft_dictdel(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let dict = text(&args.next_bytes()?);
    let terms = args.rest().iter().map(|t| text(t)).collect::<Vec<_>>();
    let removed = ctx
        .state
        .search
        .dicts
        .remove(&dict, terms.iter().map(String::as_str));
    Ok(count_reply(removed))
}

/// `FT.DICTDUMP dict`: the terms in lexicographic order (a set in RESP3).
pub fn ft_dictdump(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let dict = text(&args.next_bytes()?);
    let terms = ctx
        .state
        .search
        .dicts
        .terms(&dict)
        .ok_or_else(|| SearchError::other("could not open dict key"))?;
    Ok(Reply::Set(terms.into_iter().map(Reply::bulk_str).collect()))
}
