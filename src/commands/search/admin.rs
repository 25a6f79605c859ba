//! Index administration: FT.CREATE, FT.INFO, FT._LIST, FT.DROPINDEX, FT.TAGVALS,
//! FT.ALIASADD / ALIASUPDATE / ALIASDEL and FT.CONFIG.

use bytes::Bytes;

use super::backfill;
use crate::commands::{Args, ExecCtx};
use crate::error::CmdError;
use crate::protocol::Reply;
use crate::pubsub::NotifyClass;
use crate::search::{IndexDef, SearchError};

/// The module FT.* belongs to, as MODULE LIST, INFO and HELLO advertise it: RediSearch 2.10's
/// name and a version in its range, which clients gate features on.
pub const MODULE_NAME: &str = "search";
pub const MODULE_VERSION: i64 = 21020;

/// Keys FT.DROPINDEX DD deletes under one lock, so other clients' commands interleave.
const DROP_BATCH: usize = 512;

/// The module's MODULE LIST / HELLO entry: a map (a flat array in RESP2).
pub fn module_entry() -> Reply {
    let path = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    Reply::Map(vec![
        (Reply::bulk_str("name"), Reply::bulk_str(MODULE_NAME)),
        (Reply::bulk_str("ver"), Reply::Integer(MODULE_VERSION)),
        (Reply::bulk_str("path"), Reply::bulk_str(path)),
        (Reply::bulk_str("args"), Reply::Array(Vec::new())),
    ])
}

/// The module's line in INFO's `# Modules` section.
pub fn module_info_line() -> String {
    format!(
        "name={MODULE_NAME},ver={MODULE_VERSION},api=1,filters=0,usedby=[],using=[],options=[handle-io-errors]"
    )
}

/// `FT.CREATE index [options] SCHEMA field ...`: registers the index and, unless
/// SKIPINITIALSCAN, starts indexing the hashes already stored.
pub fn ft_create(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    if ctx.db() != 0 {
        return Err(SearchError::other("Cannot create index on db != 0").into());
    }
    let name = String::from_utf8_lossy(&args.next_bytes()?).into_owned();
    // RediSearch refuses an existing name before reading the rest.
    if ctx.state.search.names().contains(&name) {
        return Err(SearchError::IndexExists.into());
    }
    let def = IndexDef::parse(&name, &args.rest())?;
    let scan = !def.skip_initial_scan;
    let index = ctx.state.search.create(def)?;
    if scan {
        backfill::start(ctx.state.handle(), index);
    }
    Ok(Reply::ok())
}

pub fn ft_info(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let _ = (ctx, args);
    todo!()
}

/// `FT._LIST`: index names in creation order (a set in RESP3).
pub fn ft_list(ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    let names = ctx.state.search.names();
    Ok(Reply::Set(names.into_iter().map(Reply::bulk_str).collect()))
}

/// `FT.DROPINDEX index [DD]`: forgets the index (aliases resolve); with DD also deletes
/// every key it holds. A third argument other than DD is ignored, as RediSearch does.
pub fn ft_dropindex(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    if args.remaining() > 2 {
        return Err(CmdError::WrongArity("ft.dropindex".into()));
    }
    let name = String::from_utf8_lossy(&args.next_bytes()?).into_owned();
    let delete_docs = args.eat("DD");
    // Out of the registry first: the deletions below must not reach the dropped index.
    let index = ctx
        .state
        .search
        .drop_index(&name)
        .ok_or(SearchError::UnknownIndexNameCap)?;
    if delete_docs {
        for batch in index.keys().chunks(DROP_BATCH) {
            delete_keys(ctx, batch);
        }
    }
    Ok(Reply::ok())
}

/// Deletes `keys` from database 0, where the indexes live, with DEL's notifications.
fn delete_keys(ctx: &ExecCtx, keys: &[Bytes]) {
    let mut guard = ctx.ks().lock(0, keys);
    for key in keys {
        if guard.remove(key).is_some() {
            ctx.notify_in(0, NotifyClass::GENERIC, "del", key);
        }
    }
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
