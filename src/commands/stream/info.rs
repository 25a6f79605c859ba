//! XINFO STREAM [FULL [COUNT n]], XINFO GROUPS, XINFO CONSUMERS and XINFO HELP, with the
//! fields Redis 7.0 reports (maps in RESP3, flat pairs in RESP2).

use bytes::Bytes;

use super::group::no_group;
use super::{entry_reply, id_reply, now_ms, read_stream};
use crate::commands::args::{eq_ignore_case, parse_i64};
use crate::commands::{Args, ExecCtx};
use crate::error::CmdError;
use crate::keyspace::stream::{Group, INVALID_ENTRIES_READ};
use crate::keyspace::{Guard, StreamValue};
use crate::protocol::Reply;

fn field(name: &str, value: Reply) -> (Reply, Reply) {
    (Reply::bulk_str(name), value)
}

fn int(n: impl TryInto<i64>) -> Reply {
    Reply::Integer(n.try_into().unwrap_or(i64::MAX))
}

/// The stream at `key`, or `ERR no such key`.
fn existing<'g>(guard: &'g mut Guard, key: &[u8]) -> Result<&'g StreamValue, CmdError> {
    read_stream(guard, key)?.ok_or(CmdError::NoSuchKey)
}

fn entries_read_reply(group: &Group) -> Reply {
    match group.entries_read {
        INVALID_ENTRIES_READ => Reply::Nil,
        n => Reply::Integer(n),
    }
}

fn lag_reply(stream: &StreamValue, group: &Group) -> Reply {
    stream.lag(group).map_or(Reply::Nil, Reply::Integer)
}

pub(super) fn xinfo_groups(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.argv()[2].clone();
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let stream = existing(&mut guard, &key)?;
    let groups = stream
        .groups
        .iter()
        .map(|(name, g)| {
            Reply::Map(vec![
                field("name", Reply::Bulk(name.clone())),
                field("consumers", int(g.consumers.len())),
                field("pending", int(g.pel.len())),
                field("last-delivered-id", id_reply(g.last_id)),
                field("entries-read", entries_read_reply(g)),
                field("lag", lag_reply(stream, g)),
            ])
        })
        .collect();
    Ok(Reply::Array(groups))
}

pub(super) fn xinfo_consumers(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.argv()[2].clone();
    let name = args.argv()[3].clone();
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let stream = existing(&mut guard, &key)?;
    let group = stream
        .groups
        .get(&name)
        .ok_or_else(|| no_group(&key, &name))?;
    let now = now_ms();
    let consumers = group
        .consumers
        .iter()
        .map(|(name, c)| {
            Reply::Map(vec![
                field("name", Reply::Bulk(name.clone())),
                field("pending", int(c.pel.len())),
                field("idle", int(now.saturating_sub(c.seen_time))),
            ])
        })
        .collect();
    Ok(Reply::Array(consumers))
}

pub(super) fn xinfo_stream(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let argv = args.argv().to_vec();
    let key = argv[2].clone();
    let mut guard = ctx.ks().lock(ctx.db(), &[&key]);
    let stream = existing(&mut guard, &key)?;
    let options = &argv[3..];
    let syntax = || CmdError::subcommand_syntax("xinfo", &argv[1]);
    let full = match options.len() {
        0 => None,
        1 | 3 if !eq_ignore_case(&options[0], "full") => return Err(syntax()),
        1 => Some(10),
        3 if !eq_ignore_case(&options[1], "count") => return Err(syntax()),
        3 => Some(match parse_i64(&options[2])? {
            n if n < 0 => 10,
            n => n,
        }),
        _ => return Err(syntax()),
    };
    let mut fields = vec![
        field("length", int(stream.len())),
        field("radix-tree-keys", int(stream.node_count())),
        field("radix-tree-nodes", int(stream.radix_tree_nodes())),
        field("last-generated-id", id_reply(stream.last_id)),
        field("max-deleted-entry-id", id_reply(stream.max_deleted_id)),
        field("entries-added", int(stream.entries_added)),
        field("recorded-first-entry-id", id_reply(stream.first_id)),
    ];
    let Some(count) = full else {
        let edge = |e: Option<(_, &Vec<Bytes>)>| e.map_or(Reply::Nil, |(id, f)| entry_reply(id, f));
        fields.push(field("groups", int(stream.groups.len())));
        fields.push(field("first-entry", edge(stream.first())));
        fields.push(field("last-entry", edge(stream.last())));
        return Ok(Reply::Map(fields));
    };
    let limit = match count {
        0 => usize::MAX,
        n => usize::try_from(n).unwrap_or(usize::MAX),
    };
    let entries = stream
        .range(
            Default::default(),
            crate::keyspace::stream::StreamId::MAX,
            false,
        )
        .take(limit)
        .map(|(id, f)| entry_reply(id, f))
        .collect();
    fields.push(field("entries", Reply::Array(entries)));
    let groups = stream
        .groups
        .iter()
        .map(|(name, g)| full_group(stream, name, g, limit))
        .collect();
    fields.push(field("groups", Reply::Array(groups)));
    Ok(Reply::Map(fields))
}

/// One group in XINFO STREAM FULL.
fn full_group(stream: &StreamValue, name: &Bytes, group: &Group, limit: usize) -> Reply {
    let pending = group
        .pel
        .iter()
        .take(limit)
        .map(|(id, p)| {
            Reply::Array(vec![
                id_reply(*id),
                Reply::Bulk(p.consumer.clone()),
                int(p.delivery_time),
                int(p.delivery_count),
            ])
        })
        .collect();
    let consumers = group
        .consumers
        .iter()
        .map(|(cname, c)| {
            let own = c
                .pel
                .iter()
                .take(limit)
                .filter_map(|id| group.pel.get(id).map(|p| (id, p)))
                .map(|(id, p)| {
                    Reply::Array(vec![
                        id_reply(*id),
                        int(p.delivery_time),
                        int(p.delivery_count),
                    ])
                })
                .collect();
            Reply::Map(vec![
                field("name", Reply::Bulk(cname.clone())),
                field("seen-time", int(c.seen_time)),
                field("pel-count", int(c.pel.len())),
                field("pending", Reply::Array(own)),
            ])
        })
        .collect();
    Reply::Map(vec![
        field("name", Reply::Bulk(name.clone())),
        field("last-delivered-id", id_reply(group.last_id)),
        field("entries-read", entries_read_reply(group)),
        field("lag", lag_reply(stream, group)),
        field("pel-count", int(group.pel.len())),
        field("pending", Reply::Array(pending)),
        field("consumers", Reply::Array(consumers)),
    ])
}

pub(super) fn xinfo_help(_ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    Ok(super::help_reply(
        "XINFO",
        &[
            "CONSUMERS <key> <groupname>",
            "    Show consumers of <groupname>.",
            "GROUPS <key>",
            "    Show the stream consumer groups.",
            "STREAM <key> [FULL [COUNT <count>]",
            "    Show information about the stream.",
        ],
    ))
}
