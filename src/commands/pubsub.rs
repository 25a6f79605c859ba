//! Pub/sub commands (SUBSCRIBE PUBLISH PUBSUB ... SSUBSCRIBE SPUBLISH). The registry and the
//! per-connection subscription state live in `crate::pubsub`; these handlers parse
//! arguments and shape replies.

use bytes::Bytes;

use super::table::{Acl, CommandSpec, Flags, KeyFlags, KeySpec};
use super::{Args, ExecCtx};
use crate::error::CmdError;
use crate::protocol::Reply;
use crate::pubsub::{self, Kind};

const G: &str = "pubsub";
const LS: Flags = Flags::LOADING.union(Flags::STALE);
/// SUBSCRIBE and friends: `pubsub noscript loading stale`.
const SUB: Flags = Flags::PUBSUB.union(Flags::NOSCRIPT).union(LS);
/// PUBLISH, SPUBLISH: `pubsub loading stale fast`.
const PUB: Flags = Flags::PUBSUB.union(LS).union(Flags::FAST);
/// PUBSUB subcommands: `pubsub loading stale`.
const INTROSPECT: Flags = Flags::PUBSUB.union(LS);

static PUBSUB_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        summary: "Returns the active channels.",
        since: "2.8.0",
        complexity: "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)",
        ..CommandSpec::new("channels", -2, INTROSPECT, G, pubsub_channels)
    },
    CommandSpec {
        summary: "Returns helpful text about the different subcommands.",
        since: "6.2.0",
        complexity: "O(1)",
        // Redis files the container and its HELP under no ACL category but @slow.
        acl: Acl::empty(),
        ..CommandSpec::new("help", 2, LS, G, pubsub_help)
    },
    CommandSpec {
        summary: "Returns a count of unique pattern subscriptions.",
        since: "2.8.0",
        complexity: "O(1)",
        ..CommandSpec::new("numpat", 2, INTROSPECT, G, pubsub_numpat)
    },
    CommandSpec {
        summary: "Returns a count of subscribers to channels.",
        since: "2.8.0",
        complexity: "O(N) for the NUMSUB subcommand, where N is the number of requested channels",
        ..CommandSpec::new("numsub", -2, INTROSPECT, G, pubsub_numsub)
    },
    CommandSpec {
        summary: "Returns the active shard channels.",
        since: "7.0.0",
        complexity: "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).",
        ..CommandSpec::new("shardchannels", -2, INTROSPECT, G, pubsub_shardchannels)
    },
    CommandSpec {
        summary: "Returns the count of subscribers of shard channels.",
        since: "7.0.0",
        complexity: "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels",
        ..CommandSpec::new("shardnumsub", -2, INTROSPECT, G, pubsub_shardnumsub)
    },
];

/// This group's rows of the command table.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        summary: "Listens for messages published to channels.",
        since: "2.0.0",
        complexity: "O(N) where N is the number of channels to subscribe to.",
        ..CommandSpec::new("subscribe", -2, SUB, G, subscribe)
    },
    CommandSpec {
        summary: "Stops listening to messages posted to channels.",
        since: "2.0.0",
        complexity: "O(N) where N is the number of channels to unsubscribe.",
        ..CommandSpec::new("unsubscribe", -1, SUB, G, unsubscribe)
    },
    CommandSpec {
        summary: "Listens for messages published to channels that match one or more patterns.",
        since: "2.0.0",
        complexity: "O(N) where N is the number of patterns to subscribe to.",
        ..CommandSpec::new("psubscribe", -2, SUB, G, psubscribe)
    },
    CommandSpec {
        summary: "Stops listening to messages published to channels that match one or more patterns.",
        since: "2.0.0",
        complexity: "O(N) where N is the number of patterns to unsubscribe.",
        ..CommandSpec::new("punsubscribe", -1, SUB, G, punsubscribe)
    },
    CommandSpec {
        summary: "Posts a message to a channel.",
        since: "2.0.0",
        complexity: "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).",
        ..CommandSpec::new("publish", 3, PUB, G, publish)
    },
    CommandSpec {
        summary: "A container for Pub/Sub commands.",
        since: "2.8.0",
        complexity: "Depends on subcommand.",
        handler: None,
        acl: Acl::empty(),
        subcommands: PUBSUB_SUBCOMMANDS,
        ..CommandSpec::new("pubsub", -2, Flags::empty(), G, pubsub_help)
    },
    CommandSpec {
        keys: &[KeySpec::range(1, -1, 1, KeyFlags::NOT_KEY)],
        summary: "Listens for messages published to shard channels.",
        since: "7.0.0",
        complexity: "O(N) where N is the number of shard channels to subscribe to.",
        ..CommandSpec::new("ssubscribe", -2, SUB, G, ssubscribe)
    },
    CommandSpec {
        keys: &[KeySpec::range(1, -1, 1, KeyFlags::NOT_KEY)],
        summary: "Stops listening to messages posted to shard channels.",
        since: "7.0.0",
        complexity: "O(N) where N is the number of shard channels to unsubscribe.",
        ..CommandSpec::new("sunsubscribe", -1, SUB, G, sunsubscribe)
    },
    CommandSpec {
        keys: &[KeySpec::key(1, KeyFlags::NOT_KEY)],
        summary: "Post a message to a shard channel",
        since: "7.0.0",
        complexity: "O(N) where N is the number of clients subscribed to the receiving shard channel.",
        ..CommandSpec::new("spublish", 3, PUB, G, spublish)
    },
];

fn subscribe(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    Ok(pubsub::subscribe(ctx, Kind::Channel, args.rest()))
}

fn psubscribe(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    Ok(pubsub::subscribe(ctx, Kind::Pattern, args.rest()))
}

fn ssubscribe(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    Ok(pubsub::subscribe(ctx, Kind::Shard, args.rest()))
}

fn unsubscribe(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    Ok(pubsub::unsubscribe(ctx, Kind::Channel, args.rest()))
}

fn punsubscribe(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    Ok(pubsub::unsubscribe(ctx, Kind::Pattern, args.rest()))
}

fn sunsubscribe(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    Ok(pubsub::unsubscribe(ctx, Kind::Shard, args.rest()))
}

fn publish(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let channel = args.next_bytes()?;
    let message = args.next_bytes()?;
    let receivers = ctx.state.pubsub.publish(&channel, &message);
    Ok(Reply::Integer(receivers as i64))
}

fn spublish(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let channel = args.next_bytes()?;
    let message = args.next_bytes()?;
    let receivers = ctx.state.pubsub.publish_shard(&channel, &message);
    Ok(Reply::Integer(receivers as i64))
}

fn pubsub_help(_ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    Ok(super::server::help_reply(
        "PUBSUB",
        &[
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
        ],
    ))
}

/// `PUBSUB CHANNELS [pattern]` and `PUBSUB SHARDCHANNELS [pattern]`.
fn list_channels(ctx: &mut ExecCtx, args: &mut Args, shard: bool) -> Result<Reply, CmdError> {
    if args.remaining() > 1 {
        let sub = args.argv()[1].clone();
        return Err(CmdError::subcommand_syntax("pubsub", &sub));
    }
    let pattern = args.next();
    let names = ctx.state.pubsub.channels(shard, pattern.as_deref());
    Ok(Reply::Array(names.into_iter().map(Reply::Bulk).collect()))
}

fn pubsub_channels(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    list_channels(ctx, args, false)
}

fn pubsub_shardchannels(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    list_channels(ctx, args, true)
}

/// `PUBSUB NUMSUB` / `SHARDNUMSUB`: a flat array of channel, count pairs (in RESP3 too).
fn count_subscribers(ctx: &mut ExecCtx, args: &mut Args, shard: bool) -> Reply {
    let channels: Vec<Bytes> = args.rest();
    let mut out = Vec::with_capacity(channels.len() * 2);
    for channel in channels {
        let count = ctx.state.pubsub.subscriber_count(shard, &channel);
        out.push(Reply::Bulk(channel));
        out.push(Reply::Integer(count as i64));
    }
    Reply::Array(out)
}

fn pubsub_numsub(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    Ok(count_subscribers(ctx, args, false))
}

fn pubsub_shardnumsub(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    Ok(count_subscribers(ctx, args, true))
}

fn pubsub_numpat(ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    Ok(Reply::Integer(ctx.state.pubsub.counts().1 as i64))
}
