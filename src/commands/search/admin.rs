//! Index administration: FT.CREATE, FT.INFO, FT._LIST, FT.DROPINDEX, FT.TAGVALS,
//! FT.ALIASADD / ALIASUPDATE / ALIASDEL and FT.CONFIG.

use crate::commands::{Args, ExecCtx};
use crate::error::CmdError;
use crate::protocol::Reply;

pub fn ft_create(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let _ = (ctx, args);
    todo!()
}

pub fn ft_info(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let _ = (ctx, args);
    todo!()
}

pub fn ft_list(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let _ = (ctx, args);
    todo!()
}

pub fn ft_dropindex(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let _ = (ctx, args);
    todo!()
}

pub fn ft_tagvals(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let _ = (ctx, args);
    todo!()
}

pub fn ft_aliasadd(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let _ = (ctx, args);
    todo!()
}

pub fn ft_aliasupdate(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let _ = (ctx, args);
    todo!()
}

pub fn ft_aliasdel(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let _ = (ctx, args);
    todo!()
}

pub fn ft_config(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let _ = (ctx, args);
    todo!()
}
