//! FT.EXPLAIN / FT.EXPLAINCLI: the parsed query tree, rendered as RediSearch renders it.

use crate::commands::{Args, ExecCtx};
use crate::error::CmdError;
use crate::protocol::Reply;

pub fn ft_explain(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let _ = (ctx, args);
    todo!()
}

pub fn ft_explaincli(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let _ = (ctx, args);
    todo!()
}
