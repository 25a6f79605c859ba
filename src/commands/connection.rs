//! Connection group: PING, ECHO, QUIT, SELECT, HELLO, AUTH, RESET and CLIENT, plus the two
//! server-group commands that act on connections and the process: MONITOR and SHUTDOWN.
//!
//! Authentication knows one user, `default`, whose password is `requirepass` (no password:
//! every password is accepted, Redis's `nopass`), until ACLs exist.

use bytes::Bytes;
use tokio::sync::mpsc;

use super::args::parse_i64;
use super::table::{Acl, CommandSpec, Flags};
use super::{Args, ExecCtx};
use crate::clients::{ClientFlags, ClientHandle, ClientType, PauseMode, ReplyMode};
use crate::error::{CmdError, c_str};
use crate::keyspace::unix_ms;
use crate::protocol::{Protocol, Reply};

const G: &str = "connection";

/// NOSCRIPT | LOADING | STALE: the flags every CLIENT subcommand carries.
const CLIENT_FLAGS: Flags = Flags::NOSCRIPT.union(Flags::LOADING).union(Flags::STALE);
/// What AUTH, HELLO, RESET and QUIT share: usable before authentication, at any time.
const HANDSHAKE_FLAGS: Flags = Flags::NOSCRIPT
    .union(Flags::LOADING)
    .union(Flags::STALE)
    .union(Flags::FAST)
    .union(Flags::NO_AUTH)
    .union(Flags::ALLOW_BUSY);

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        summary: "Returns the server's liveliness response.",
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        ..CommandSpec::new("ping", -1, Flags::FAST.union(Flags::SENTINEL), G, ping)
    },
    CommandSpec {
        summary: "Returns the given string.",
        ..CommandSpec::new(
            "echo",
            2,
            Flags::LOADING.union(Flags::STALE).union(Flags::FAST),
            G,
            echo,
        )
    },
    CommandSpec {
        summary: "Closes the connection.",
        ..CommandSpec::new("quit", -1, HANDSHAKE_FLAGS, G, quit)
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
            HANDSHAKE_FLAGS.union(Flags::SENTINEL),
            G,
            hello,
        )
    },
    CommandSpec {
        summary: "Authenticates the connection.",
        ..CommandSpec::new("auth", -2, HANDSHAKE_FLAGS, G, auth)
    },
    CommandSpec {
        summary: "Resets the connection.",
        since: "6.2.0",
        ..CommandSpec::new("reset", 1, HANDSHAKE_FLAGS, G, reset)
    },
    CommandSpec {
        summary: "A container for client connection commands.",
        // Redis's containers declare no category of their own.
        acl: Acl::empty(),
        since: "2.4.0",
        handler: None,
        subcommands: CLIENT_SUBCOMMANDS,
        ..CommandSpec::new("client", -2, Flags::empty(), G, client_help)
    },
    CommandSpec {
        summary: "Listens for all requests received by the server in real-time.",
        ..CommandSpec::new(
            "monitor",
            1,
            Flags::ADMIN.union(CLIENT_FLAGS),
            "server",
            monitor,
        )
    },
    CommandSpec {
        summary: "Synchronously saves the database(s) to disk and shuts down the Redis server.",
        ..CommandSpec::new(
            "shutdown",
            -1,
            Flags::ADMIN
                .union(CLIENT_FLAGS)
                .union(Flags::NO_MULTI)
                .union(Flags::ALLOW_BUSY),
            "server",
            shutdown,
        )
    },
];

static CLIENT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        summary: "Returns the unique client ID of the connection.",
        since: "5.0.0",
        ..CommandSpec::new("id", 2, CLIENT_FLAGS, G, client_id)
    },
    CommandSpec {
        summary: "Returns information about the connection.",
        tips: &["nondeterministic_output"],
        since: "6.2.0",
        ..CommandSpec::new("info", 2, CLIENT_FLAGS, G, client_info)
    },
    CommandSpec {
        summary: "Lists open connections.",
        tips: &["nondeterministic_output"],
        since: "2.4.0",
        ..CommandSpec::new("list", -2, Flags::ADMIN.union(CLIENT_FLAGS), G, client_list)
    },
    CommandSpec {
        summary: "Terminates open connections.",
        since: "2.4.0",
        ..CommandSpec::new("kill", -3, Flags::ADMIN.union(CLIENT_FLAGS), G, client_kill)
    },
    CommandSpec {
        summary: "Sets the connection name.",
        since: "2.6.9",
        ..CommandSpec::new("setname", 3, CLIENT_FLAGS, G, client_setname)
    },
    CommandSpec {
        summary: "Returns the name of the connection.",
        since: "2.6.9",
        ..CommandSpec::new("getname", 2, CLIENT_FLAGS, G, client_getname)
    },
    CommandSpec {
        summary: "Sets information specific to the client or connection.",
        since: "7.2.0",
        ..CommandSpec::new("setinfo", 4, CLIENT_FLAGS, G, client_setinfo)
    },
    CommandSpec {
        summary: "Instructs the server whether to reply to commands.",
        since: "3.2.0",
        ..CommandSpec::new("reply", 3, CLIENT_FLAGS, G, client_reply)
    },
    CommandSpec {
        summary: "Unblocks a client blocked by a blocking command from a different connection.",
        since: "5.0.0",
        ..CommandSpec::new(
            "unblock",
            -3,
            Flags::ADMIN.union(CLIENT_FLAGS),
            G,
            client_unblock,
        )
    },
    CommandSpec {
        summary: "Sets the client eviction mode of the connection.",
        since: "7.0.0",
        ..CommandSpec::new(
            "no-evict",
            3,
            Flags::ADMIN.union(CLIENT_FLAGS),
            G,
            client_no_evict,
        )
    },
    CommandSpec {
        summary: "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.",
        since: "7.2.0",
        ..CommandSpec::new("no-touch", 3, CLIENT_FLAGS, G, client_no_touch)
    },
    CommandSpec {
        summary: "Suspends commands processing.",
        since: "3.0.0",
        ..CommandSpec::new(
            "pause",
            -3,
            Flags::ADMIN.union(CLIENT_FLAGS),
            G,
            client_pause,
        )
    },
    CommandSpec {
        summary: "Resumes processing commands from paused clients.",
        since: "6.2.0",
        ..CommandSpec::new(
            "unpause",
            2,
            Flags::ADMIN.union(CLIENT_FLAGS),
            G,
            client_unpause,
        )
    },
    CommandSpec {
        summary: "Returns helpful text about the different subcommands.",
        since: "5.0.0",
        ..CommandSpec::new(
            "help",
            2,
            Flags::LOADING.union(Flags::STALE),
            G,
            client_help,
        )
    },
];

fn ping(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let message = match args.remaining() {
        0 => None,
        1 => Some(args.next_bytes()?),
        _ => return Err(CmdError::wrong_arity("ping")),
    };
    // In RESP2 subscribed mode PING answers in the pub/sub shape.
    if let Some(reply) = crate::pubsub::subscribed_ping(ctx.client, message.clone()) {
        return Ok(reply);
    }
    Ok(message.map_or_else(|| Reply::simple("PONG"), Reply::Bulk))
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

/// Compares secrets in time that depends only on their lengths, so a wrong password's
/// shared prefix cannot be measured.
fn secrets_equal(a: &[u8], b: &[u8]) -> bool {
    let longest = a.len().max(b.len());
    let mut diff = u8::from(a.len() != b.len());
    for i in 0..longest {
        diff |= a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0);
    }
    diff == 0
}

/// Authenticates the connection as `user`. Failed attempts leave an authenticated connection
/// authenticated, as in Redis.
fn authenticate(ctx: &mut ExecCtx, user: &[u8], pass: &[u8]) -> Result<(), CmdError> {
    let required = ctx.state.config.get("requirepass");
    let accepted =
        user == b"default" && (required.is_empty() || secrets_equal(required.as_bytes(), pass));
    if !accepted {
        return Err(CmdError::WrongPass);
    }
    ctx.client.authenticated = true;
    ctx.client.user = "default".to_string();
    ctx.client.handle.info.lock().user = "default".to_string();
    Ok(())
}

/// `AUTH [username] password`
fn auth(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let (user, pass) = match args.remaining() {
        1 => {
            if ctx.state.config.get("requirepass").is_empty() {
                return Err(CmdError::err(
                    "AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
                ));
            }
            (Bytes::from_static(b"default"), args.next_bytes()?)
        }
        2 => (args.next_bytes()?, args.next_bytes()?),
        _ => return Err(CmdError::Syntax),
    };
    authenticate(ctx, &user, &pass)?;
    Ok(Reply::ok())
}

/// Client names and CLIENT SETINFO values must keep CLIENT LIST splittable on spaces.
fn printable_attr(value: &[u8]) -> bool {
    value.iter().all(|b| (b'!'..=b'~').contains(b))
}

fn check_client_name(name: &[u8]) -> Result<(), CmdError> {
    if printable_attr(name) {
        Ok(())
    } else {
        Err(CmdError::err(
            "Client names cannot contain spaces, newlines or special characters.",
        ))
    }
}

/// Sets (or, with an empty name, clears) the connection name; validated by the caller.
fn store_client_name(handle: &ClientHandle, name: &[u8]) {
    handle.info.lock().name = String::from_utf8_lossy(name).into_owned();
}

/// `HELLO [protover [AUTH username password] [SETNAME clientname]]`: every option is checked
/// before anything changes, then AUTH, then the name and protocol.
fn hello(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let mut protocol = None;
    if let Some(ver) = args.next() {
        protocol = match parse_i64(&ver) {
            Ok(2) => Some(Protocol::Resp2),
            Ok(3) => Some(Protocol::Resp3),
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
    let mut credentials = None;
    let mut name = None;
    while let Some(opt) = args.next() {
        if opt.eq_ignore_ascii_case(b"AUTH") && args.remaining() >= 2 {
            credentials = Some((args.next_bytes()?, args.next_bytes()?));
        } else if opt.eq_ignore_ascii_case(b"SETNAME") && args.remaining() >= 1 {
            let new_name = args.next_bytes()?;
            check_client_name(&new_name)?;
            name = Some(new_name);
        } else {
            return Err(CmdError::err_echo(&[
                b"Syntax error in HELLO option '",
                c_str(&opt, usize::MAX),
                b"'",
            ]));
        }
    }
    if let Some((user, pass)) = credentials {
        authenticate(ctx, &user, &pass)?;
    }
    if !ctx.client.authenticated {
        return Err(CmdError::Coded(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time".into(),
        ));
    }
    if let Some(name) = name {
        store_client_name(&ctx.client.handle, &name);
    }
    if let Some(protocol) = protocol {
        ctx.client.set_protocol(protocol);
    }
    let proto = match ctx.client.protocol {
        Protocol::Resp2 => 2,
        Protocol::Resp3 => 3,
    };
    let field = |k: &str| Reply::bulk_str(k);
    Ok(Reply::Map(vec![
        (field("server"), field("redis")),
        (field("version"), field(crate::REDIS_VERSION)),
        (field("proto"), Reply::Integer(proto)),
        (field("id"), Reply::Integer(ctx.client.id() as i64)),
        (field("mode"), field("standalone")),
        (field("role"), field("master")),
        (
            field("modules"),
            Reply::Array(vec![super::search::module_entry()]),
        ),
    ]))
}

/// Leaves monitor mode: dropping the receiver makes the dispatcher forget the sender.
fn stop_monitoring(ctx: &mut ExecCtx) {
    ctx.client.monitor = None;
    ctx.client.handle.set_flag(ClientFlags::MONITOR, false);
}

/// `RESET`: back to the state of a new connection — database 0, RESP2, no name, replies on,
/// monitor mode off, CLIENT NO-EVICT / NO-TOUCH off, and unauthenticated when a password is
/// required. Library attributes (CLIENT SETINFO) survive, as in Redis. Transaction and
/// subscription state belong to their own modules, which must clear them here too.
fn reset(ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    super::transaction::discard_transaction(ctx.client);
    ctx.client.db = 0;
    ctx.client.set_protocol(Protocol::Resp2);
    store_client_name(&ctx.client.handle, b"");
    ctx.client.reply_mode = ReplyMode::On;
    stop_monitoring(ctx);
    crate::pubsub::leave_all(ctx.state, ctx.client);
    ctx.client
        .handle
        .set_flag(ClientFlags::NO_EVICT.union(ClientFlags::NO_TOUCH), false);
    ctx.client.authenticated = ctx.state.config.get("requirepass").is_empty();
    ctx.client.user = "default".to_string();
    Ok(Reply::simple("RESET"))
}

/// `MONITOR`: from now on every command another client (or this one) runs arrives as a
/// `+<feed line>`. The connection keeps serving commands meanwhile. A repeated MONITOR gets
/// no reply at all, as in Redis.
fn monitor(ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    // Inside EXEC (or a script) every command must answer in place.
    if ctx.client.deny_blocking {
        return Err(CmdError::err(
            "MONITOR isn't allowed for DENY BLOCKING client",
        ));
    }
    if ctx.client.monitor.is_some() {
        ctx.client.suppress_reply = true;
        return Ok(Reply::ok());
    }
    let (tx, rx) = mpsc::unbounded_channel();
    {
        // Under the lock, so a concurrent feed that empties the list cannot clear the flag
        // after this sender was added.
        let mut monitors = ctx.state.monitors.lock();
        monitors.push(tx);
        ctx.state
            .has_monitors
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }
    ctx.client.monitor = Some(rx);
    ctx.client.handle.set_flag(ClientFlags::MONITOR, true);
    Ok(Reply::ok())
}

/// `SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT]`
///
/// Saves the snapshot first when asked (SAVE) or when `save` rules exist (unless NOSAVE); a
/// failed save keeps the server running with Redis's error, unless FORCE says to exit
/// anyway. On success the server stops and this connection is closed without a reply,
/// which is what clients expect.
fn shutdown(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let (mut nosave, mut save, mut force, mut abort, mut now) = (false, false, false, false, false);
    for arg in args.by_ref() {
        let flag = match arg.to_ascii_lowercase().as_slice() {
            b"nosave" => &mut nosave,
            b"save" => &mut save,
            b"now" => &mut now,
            b"force" => &mut force,
            b"abort" => &mut abort,
            _ => return Err(CmdError::Syntax),
        };
        *flag = true;
    }
    if (abort && (nosave || save || now || force)) || (nosave && save) {
        return Err(CmdError::Syntax);
    }
    if abort {
        // Shutdowns complete at once (there are no replicas to wait for), so none is ever
        // in progress.
        return Err(CmdError::err("No shutdown in progress."));
    }
    let wants_save = save || (!nosave && super::snapshot::has_save_rules(ctx.state));
    if wants_save && !super::snapshot::save_for_shutdown(ctx.state) {
        if !force {
            tracing::warn!(
                "Errors trying to shut down the server. Check the logs for more information."
            );
            return Err(CmdError::err("Errors trying to SHUTDOWN. Check logs."));
        }
        tracing::warn!("Error trying to save the DB. Exit anyway.");
    }
    tracing::warn!("User requested shutdown...");
    ctx.state.request_shutdown();
    ctx.client.suppress_reply = true;
    ctx.client.close_after_reply = true;
    Ok(Reply::ok())
}

fn client_id(ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    Ok(Reply::Integer(ctx.client.id() as i64))
}

/// The arguments' total size, which CLIENT LIST reports as `argv-mem` for the caller.
fn argv_mem(args: &Args) -> usize {
    args.argv().iter().map(Bytes::len).sum()
}

/// One line per client, each ending in a newline.
fn describe_clients<'a>(
    ctx: &mut ExecCtx,
    args: &Args,
    clients: impl IntoIterator<Item = &'a ClientHandle>,
) -> Reply {
    ctx.client.publish();
    let me = ctx.client.id();
    let mem = argv_mem(args);
    let mut text = String::new();
    for client in clients {
        text.push_str(&client.describe(if client.id == me { mem } else { 0 }));
        text.push('\n');
    }
    Reply::Verbatim("txt", Bytes::from(text))
}

fn client_info(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let me = ctx.client.handle.clone();
    Ok(describe_clients(ctx, args, [&*me]))
}

/// `CLIENT LIST [TYPE normal|master|replica|pubsub] | [ID id [id ...]]`
fn client_list(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let registry = &ctx.state.clients;
    let clients = if args.remaining() == 2 && args.eat("TYPE") {
        let name = args.next_bytes()?;
        let kind = ClientType::parse(&name).ok_or_else(|| unknown_type(&name))?;
        let mut all = registry.all();
        all.retain(|c| c.client_type() == kind);
        all
    } else if args.remaining() >= 2 && args.eat("ID") {
        let mut listed = Vec::new();
        for id in args.by_ref() {
            let id = parse_i64(&id).map_err(|_| CmdError::err("Invalid client ID"))?;
            listed.extend(u64::try_from(id).ok().and_then(|id| registry.get(id)));
        }
        listed
    } else if args.is_empty() {
        registry.all()
    } else {
        return Err(CmdError::Syntax);
    };
    Ok(describe_clients(ctx, args, clients.iter().map(|c| &**c)))
}

fn unknown_type(name: &[u8]) -> CmdError {
    CmdError::err_echo(&[b"Unknown client type '", c_str(name, usize::MAX), b"'"])
}

/// What the filter form of CLIENT KILL selects; every given criterion must match.
struct KillFilter {
    id: Option<u64>,
    addr: Option<Bytes>,
    laddr: Option<Bytes>,
    kind: Option<ClientType>,
    max_age_secs: Option<u64>,
    skip_me: bool,
}

impl KillFilter {
    fn parse(args: &mut Args) -> Result<KillFilter, CmdError> {
        let mut filter = KillFilter {
            id: None,
            addr: None,
            laddr: None,
            kind: None,
            max_age_secs: None,
            skip_me: true,
        };
        while let Some(opt) = args.next() {
            let Some(value) = args.next() else {
                return Err(CmdError::Syntax);
            };
            match opt.to_ascii_lowercase().as_slice() {
                b"id" => {
                    let id = parse_i64(&value)
                        .ok()
                        .filter(|id| *id > 0)
                        .ok_or_else(|| CmdError::err("client-id should be greater than 0"))?;
                    filter.id = Some(id as u64);
                }
                b"maxage" => {
                    let age = parse_i64(&value)
                        .map_err(|_| CmdError::err("maxage is not an integer or out of range"))?;
                    if age <= 0 {
                        return Err(CmdError::err("maxage should be greater than 0"));
                    }
                    filter.max_age_secs = Some(age as u64);
                }
                b"type" => {
                    filter.kind =
                        Some(ClientType::parse(&value).ok_or_else(|| unknown_type(&value))?);
                }
                b"addr" => filter.addr = Some(value),
                b"laddr" => filter.laddr = Some(value),
                // `default` is the only user until ACLs exist, and every connection runs as it.
                b"user" if value.as_ref() == b"default" => {}
                b"user" => {
                    return Err(CmdError::err_echo(&[
                        b"No such user '",
                        c_str(&value, usize::MAX),
                        b"'",
                    ]));
                }
                b"skipme" => {
                    filter.skip_me = match value.to_ascii_lowercase().as_slice() {
                        b"yes" => true,
                        b"no" => false,
                        _ => return Err(CmdError::Syntax),
                    };
                }
                _ => return Err(CmdError::Syntax),
            }
        }
        Ok(filter)
    }

    fn matches(&self, client: &ClientHandle, me: u64) -> bool {
        let same = |want: &Option<Bytes>, have: std::net::SocketAddr| {
            want.as_ref()
                .is_none_or(|w| w.as_ref() == have.to_string().as_bytes())
        };
        self.id.is_none_or(|id| client.id == id)
            && same(&self.addr, client.addr)
            && same(&self.laddr, client.laddr)
            && self.kind.is_none_or(|k| client.client_type() == k)
            && self
                .max_age_secs
                .is_none_or(|max| client.age().as_secs() >= max)
            && !(self.skip_me && client.id == me)
    }
}

/// `CLIENT KILL ip:port` (replies OK or `No such client`, may kill the caller) or
/// `CLIENT KILL <filter> <value> ...` (replies the number killed; skips the caller unless
/// `SKIPME no`). The caller, when killed, gets its reply first.
fn client_kill(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let old_form = args.remaining() == 1;
    let filter = if old_form {
        KillFilter {
            id: None,
            addr: Some(args.next_bytes()?),
            laddr: None,
            kind: None,
            max_age_secs: None,
            skip_me: false,
        }
    } else {
        KillFilter::parse(args)?
    };
    let me = ctx.client.id();
    let mut killed = 0;
    for client in ctx.state.clients.all() {
        if !filter.matches(&client, me) {
            continue;
        }
        killed += 1;
        if client.id == me {
            ctx.client.close_after_reply = true;
        } else {
            ctx.state.clients.kill(&client);
        }
    }
    match (old_form, killed) {
        (true, 0) => Err(CmdError::err("No such client")),
        (true, _) => Ok(Reply::ok()),
        (false, n) => Ok(Reply::Integer(n)),
    }
}

fn client_setname(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let name = args.next_bytes()?;
    check_client_name(&name)?;
    store_client_name(&ctx.client.handle, &name);
    Ok(Reply::ok())
}

fn client_getname(ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    let name = ctx.client.handle.info.lock().name.clone();
    Ok(if name.is_empty() {
        Reply::Nil
    } else {
        Reply::bulk(name)
    })
}

/// `CLIENT SETINFO LIB-NAME|LIB-VER value` (an empty value clears the attribute).
fn client_setinfo(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let attr = args.next_bytes()?;
    let value = args.next_bytes()?;
    let lib_name = if attr.eq_ignore_ascii_case(b"lib-name") {
        true
    } else if attr.eq_ignore_ascii_case(b"lib-ver") {
        false
    } else {
        return Err(CmdError::err_echo(&[
            b"Unrecognized option '",
            c_str(&attr, usize::MAX),
            b"'",
        ]));
    };
    if !printable_attr(&value) {
        return Err(CmdError::err_echo(&[
            c_str(&attr, usize::MAX),
            b" cannot contain spaces, newlines or special characters.",
        ]));
    }
    let value = String::from_utf8_lossy(&value).into_owned();
    let mut info = ctx.client.handle.info.lock();
    if lib_name {
        info.lib_name = value;
    } else {
        info.lib_ver = value;
    }
    Ok(Reply::ok())
}

/// `CLIENT REPLY ON|OFF|SKIP`. OFF and SKIP are themselves not answered; the connection
/// layer applies the mode (see `ClientState::reply_wanted`).
fn client_reply(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let mode = args.next_bytes()?;
    match mode.to_ascii_lowercase().as_slice() {
        b"on" => ctx.client.reply_mode = ReplyMode::On,
        b"off" => ctx.client.reply_mode = ReplyMode::Off,
        // SKIP while replies are off changes nothing.
        b"skip" if ctx.client.reply_mode != ReplyMode::Off => {
            ctx.client.reply_mode = ReplyMode::SkipNext;
        }
        b"skip" => {}
        _ => return Err(CmdError::Syntax),
    }
    Ok(Reply::ok())
}

/// Shared by NO-EVICT and NO-TOUCH: `ON` / `OFF` toggles a flag of this connection.
fn set_own_flag(ctx: &mut ExecCtx, args: &mut Args, flag: ClientFlags) -> Result<Reply, CmdError> {
    let on = match args.next_bytes()?.to_ascii_lowercase().as_slice() {
        b"on" => true,
        b"off" => false,
        _ => return Err(CmdError::Syntax),
    };
    ctx.client.handle.set_flag(flag, on);
    Ok(Reply::ok())
}

/// `CLIENT NO-EVICT ON|OFF`. Client eviction (`maxmemory-clients`) does not exist, so no
/// client is ever evicted; the flag is recorded and shown in CLIENT LIST (`e`).
fn client_no_evict(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    set_own_flag(ctx, args, ClientFlags::NO_EVICT)
}

/// `CLIENT UNBLOCK id [TIMEOUT|ERROR]`: ends another client's wait on a blocking command
/// with its timeout reply or an UNBLOCKED error. 1 if it was blocked, else 0. The reason is
/// checked before the id, as in Redis.
fn client_unblock(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    if args.remaining() > 2 {
        return Err(CmdError::subcommand_syntax("client", &args.argv()[1]));
    }
    let id = args.next_bytes()?;
    let error = match args.next() {
        None => false,
        Some(word) if word.eq_ignore_ascii_case(b"timeout") => false,
        Some(word) if word.eq_ignore_ascii_case(b"error") => true,
        Some(_) => {
            return Err(CmdError::err(
                "CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
            ));
        }
    };
    let id = parse_i64(&id)?;
    let unblocked = u64::try_from(id)
        .ok()
        .and_then(|id| ctx.state.blocking.unblock(id, error));
    if let Some(command) = &unblocked {
        super::count_unblocked(ctx.state, command);
    }
    Ok(Reply::Integer(i64::from(unblocked.is_some())))
}

/// `CLIENT NO-TOUCH ON|OFF`: while on, this connection's commands (except TOUCH) leave key
/// access times untouched; the dispatcher applies it.
fn client_no_touch(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    set_own_flag(ctx, args, ClientFlags::NO_TOUCH)
}

/// `CLIENT PAUSE timeout [WRITE|ALL]`: holds back every command (ALL, the default) or those
/// that write (WRITE) for `timeout` milliseconds, and suspends key expiry meanwhile. The
/// connection layer does the waiting. The mode is checked before the timeout, as in Redis.
fn client_pause(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    if args.remaining() > 2 {
        // Redis checks this argument count inside CLIENT itself.
        return Err(CmdError::subcommand_syntax("client", &args.argv()[1]));
    }
    let timeout = args.next_bytes()?;
    let mode = match args.next() {
        None => PauseMode::All,
        Some(word) if word.eq_ignore_ascii_case(b"write") => PauseMode::Write,
        Some(word) if word.eq_ignore_ascii_case(b"all") => PauseMode::All,
        Some(_) => return Err(CmdError::err("CLIENT PAUSE mode must be WRITE or ALL")),
    };
    let ms = parse_i64(&timeout)
        .map_err(|_| CmdError::err("timeout is not an integer or out of range"))?;
    if ms < 0 {
        return Err(CmdError::err("timeout is negative"));
    }
    let now = unix_ms();
    // Redis 7.2+ refuses an end past the clock's range (7.0 let it wrap around).
    let until = u64::try_from(ms)
        .ok()
        .and_then(|ms| ms.checked_add(now))
        .filter(|&until| i64::try_from(until).is_ok())
        .ok_or_else(|| CmdError::err("timeout is out of range"))?;
    let until = ctx.state.clients.pause.pause(mode, until, now);
    ctx.ks().suspend_expiry_until(until);
    Ok(Reply::ok())
}

/// `CLIENT UNPAUSE`: ends the pause at once; held commands run and keys expire again.
fn client_unpause(ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    ctx.state.clients.pause.unpause();
    ctx.ks().suspend_expiry_until(0);
    Ok(Reply::ok())
}

/// The subcommands this server implements, worded as Redis 7.4 words them.
const CLIENT_HELP: &[&str] = &[
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "    * ID <client-id>",
    "      Kill connections by client id.",
    "    * MAXAGE <maxage>",
    "      Kill connections older than the specified age.",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "SETINFO <option> <value>",
    "    Set client meta attr. Options are:",
    "    * LIB-NAME: the client lib name.",
    "    * LIB-VER: the client lib version.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "NO-TOUCH (ON|OFF)",
    "    Will not touch LRU/LFU stats when this mode is on.",
    "HELP",
    "    Prints this help.",
];

fn client_help(_ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    Ok(Reply::Array(
        CLIENT_HELP.iter().map(|line| Reply::simple(line)).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_comparison() {
        assert!(secrets_equal(b"pw", b"pw"));
        assert!(!secrets_equal(b"pw", b"pw2"));
        assert!(!secrets_equal(b"pw", b"px"));
        assert!(!secrets_equal(b"", b"\0"));
        assert!(secrets_equal(b"", b""));
    }

    #[test]
    fn attribute_charset() {
        assert!(printable_attr(b"redis-py(1.0)"));
        assert!(printable_attr(b""));
        assert!(!printable_attr(b"a b"));
        assert!(!printable_attr(b"a\nb"));
        assert!(!printable_attr("é".as_bytes()));
    }
}
