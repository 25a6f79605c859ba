//! Connection group: PING, ECHO, QUIT, SELECT, HELLO, AUTH, RESET, CLIENT ...

use super::table::{CommandSpec, Flags};
use super::{Args, ExecCtx};
use crate::error::CmdError;
use crate::protocol::{Protocol, Reply};

const G: &str = "connection";

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        summary: "Returns the server's liveliness response.",
        ..CommandSpec::new("ping", -1, Flags::FAST.union(Flags::SENTINEL), G, ping)
    },
    CommandSpec {
        summary: "Returns the given string.",
        ..CommandSpec::new("echo", 2, Flags::FAST, G, echo)
    },
    CommandSpec {
        summary: "Closes the connection.",
        ..CommandSpec::new(
            "quit",
            -1,
            Flags::ALLOW_BUSY
                .union(Flags::NOSCRIPT)
                .union(Flags::LOADING)
                .union(Flags::STALE)
                .union(Flags::FAST)
                .union(Flags::NO_AUTH),
            G,
            quit,
        )
    },
    CommandSpec {
        summary: "Changes the selected database.",
        ..CommandSpec::new(
            "select",
            2,
            Flags::LOADING.union(Flags::STALE).union(Flags::FAST),
            G,
            select,
        )
    },
    CommandSpec {
        summary: "Handshakes with the Redis server.",
        since: "6.0.0",
        ..CommandSpec::new(
            "hello",
            -1,
            Flags::NOSCRIPT
                .union(Flags::LOADING)
                .union(Flags::STALE)
                .union(Flags::FAST)
                .union(Flags::NO_AUTH)
                .union(Flags::SENTINEL)
                .union(Flags::ALLOW_BUSY),
            G,
            hello,
        )
    },
];

fn ping(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    // In RESP2 subscribed mode PING answers differently; that belongs to the pub/sub layer.
    let _ = ctx;
    match args.remaining() {
        0 => Ok(Reply::simple("PONG")),
        1 => Ok(Reply::Bulk(args.next_bytes()?)),
        _ => Err(CmdError::wrong_arity("ping")),
    }
}

fn echo(_ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    Ok(Reply::Bulk(args.next_bytes()?))
}

fn quit(ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    ctx.client.close_after_reply = true;
    Ok(Reply::ok())
}

fn select(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let index = args.next_i64().map_err(|_| CmdError::InvalidDbIndex)?;
    if index < 0 || index as usize >= ctx.ks().databases() {
        return Err(CmdError::DbIndexOutOfRange);
    }
    ctx.client.db = index as usize;
    Ok(Reply::ok())
}

/// `HELLO [protover [AUTH username password] [SETNAME clientname]]`
fn hello(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let mut protocol = ctx.client.protocol;
    if let Some(ver) = args.next() {
        protocol = match super::args::parse_i64(&ver) {
            Ok(2) => Protocol::Resp2,
            Ok(3) => Protocol::Resp3,
            Ok(_) => {
                return Err(CmdError::Coded(
                    "NOPROTO unsupported protocol version".into(),
                ));
            }
            Err(_) => {
                return Err(CmdError::err(
                    "Protocol version is not an integer or out of range",
                ));
            }
        };
    }
    let mut name = None;
    while let Some(opt) = args.next() {
        if opt.eq_ignore_ascii_case(b"AUTH") && args.remaining() >= 2 {
            let user = args.next_bytes()?;
            let pass = args.next_bytes()?;
            super::server::authenticate(ctx, &user, &pass)?;
        } else if opt.eq_ignore_ascii_case(b"SETNAME") && args.remaining() >= 1 {
            name = Some(args.next_bytes()?);
        } else {
            return Err(CmdError::err(format!(
                "Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(&opt)
            )));
        }
    }
    if !ctx.client.authenticated {
        return Err(CmdError::Coded(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time".into(),
        ));
    }
    if let Some(name) = name {
        super::server::set_client_name(ctx, &name)?;
    }
    ctx.client.protocol = protocol;
    ctx.client.handle.info.lock().resp = if protocol == Protocol::Resp3 { 3 } else { 2 };
    let field = |k: &str| Reply::bulk_str(k);
    Ok(Reply::Map(vec![
        (field("server"), field("redis")),
        (field("version"), field(crate::REDIS_VERSION)),
        (
            field("proto"),
            Reply::Integer(if protocol == Protocol::Resp3 { 3 } else { 2 }),
        ),
        (field("id"), Reply::Integer(ctx.client.id() as i64)),
        (field("mode"), field("standalone")),
        (field("role"), field("master")),
        (field("modules"), Reply::Array(Vec::<Reply>::new())),
    ]))
}
