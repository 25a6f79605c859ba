//! String group: GET, SET and the rest of Redis's string commands.

use super::table::{CommandSpec, Flags, Keys};
use super::{Args, ExecCtx};
use crate::error::CmdError;
use crate::keyspace::{Ttl, Value};
use crate::protocol::Reply;

const G: &str = "string";
const KEY1: Keys = Keys::Range {
    first: 1,
    last: 1,
    step: 1,
};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        keys: KEY1,
        summary: "Returns the string value of a key.",
        ..CommandSpec::new("get", 2, Flags::READONLY.union(Flags::FAST), G, get)
    },
    CommandSpec {
        keys: KEY1,
        summary: "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
        ..CommandSpec::new("set", -3, Flags::WRITE.union(Flags::DENYOOM), G, set)
    },
];

fn get(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    match guard.get(&key) {
        None => Ok(Reply::Nil),
        Some(value) => Ok(Reply::Bulk(value.as_str()?.clone())),
    }
}

fn set(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let value = args.next_bytes()?;
    if !args.is_empty() {
        return Err(CmdError::Syntax);
    }
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    guard.insert(key, Value::Str(value), Ttl::Clear);
    Ok(Reply::ok())
}
