//! FT.SEARCH: option parsing (any order), running the query, and the reply in RediSearch's
//! RESP2 array / RESP3 map shapes.

use crate::commands::{Args, ExecCtx};
use crate::error::CmdError;
use crate::protocol::Reply;

pub fn ft_search(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let _ = (ctx, args);
    todo!()
}
