//! Lua scripting commands: EVAL EVALSHA EVAL_RO EVALSHA_RO, SCRIPT, and Redis 7 functions
//! (FCALL FCALL_RO FUNCTION). The engines (sandbox, `redis` library, conversions, function
//! libraries) live in `crate::scripting`.

use bytes::Bytes;

use super::table::Acl;
use super::{Args, CommandSpec, ExecCtx, Flags, KeyFlags, KeySpec};
use crate::error::CmdError;
use crate::protocol::Reply;
use crate::scripting::Call;
use crate::scripting::functions::{FunctionCall, RestorePolicy};

const G: &str = "scripting";

const EVAL_FLAGS: Flags = Flags::NOSCRIPT
    .union(Flags::STALE)
    .union(Flags::SKIP_MONITOR)
    .union(Flags::NO_MANDATORY_KEYS);

/// `numkeys key...` after the script: Redis cannot tell what a script does with them.
const fn script_keys(flags: KeyFlags) -> KeySpec {
    KeySpec::keynum(2, 0, 1, 1, flags)
}

const EVAL_KEYS: &[KeySpec] = &[script_keys(KeyFlags::RW_ACCESS_UPDATE)
    .notes("We cannot tell how the keys will be used so we assume the worst, RW and UPDATE")];
const EVALSHA_KEYS: &[KeySpec] = &[script_keys(KeyFlags::RW_ACCESS_UPDATE)];
const EVAL_RO_KEYS: &[KeySpec] = &[script_keys(KeyFlags::RO_ACCESS)
    .notes("We cannot tell how the keys will be used so we assume the worst, RO and ACCESS")];
const EVALSHA_RO_KEYS: &[KeySpec] = &[script_keys(KeyFlags::RO_ACCESS)];

/// Redis's key finder for scripts when the key count is not a valid count: no keys (the
/// count is read as C's `atoi` reads it, and one past the arguments finds none).
fn script_getkeys(argv: &[Bytes], flags: KeyFlags) -> Option<Vec<(usize, KeyFlags)>> {
    let count = argv.get(2).map_or(0, |n| atoi(n));
    let available = argv.len().saturating_sub(3);
    let count = usize::try_from(count).unwrap_or(0);
    if count > available {
        return Some(Vec::new());
    }
    Some((3..3 + count).map(|i| (i, flags)).collect())
}

/// C's `atoi`: an optional sign and the leading digits, 0 without any.
fn atoi(text: &[u8]) -> i64 {
    let (negative, digits) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let value = digits
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .fold(0i64, |n, &d| {
            n.saturating_mul(10).saturating_add(i64::from(d - b'0'))
        });
    if negative { -value } else { value }
}

fn eval_getkeys(argv: &[Bytes]) -> Option<Vec<(usize, KeyFlags)>> {
    script_getkeys(argv, KeyFlags::RW_ACCESS_UPDATE)
}

fn eval_ro_getkeys(argv: &[Bytes]) -> Option<Vec<(usize, KeyFlags)>> {
    script_getkeys(argv, KeyFlags::RO_ACCESS)
}

const fn eval_row(
    name: &'static str,
    flags: Flags,
    keys: &'static [KeySpec],
    summary: &'static str,
    since: &'static str,
    handler: super::table::Handler,
) -> CommandSpec {
    let read_only = flags.contains(Flags::READONLY);
    CommandSpec {
        keys,
        getkeys: Some(if read_only {
            eval_ro_getkeys
        } else {
            eval_getkeys
        }),
        summary,
        since,
        complexity: "Depends on the script that is executed.",
        exclusive: true,
        ..CommandSpec::new(name, -3, flags, G, handler)
    }
}

const SCRIPT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        summary: "Determines whether server-side Lua scripts exist in the script cache.",
        since: "2.6.0",
        complexity: "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).",
        tips: &[
            "request_policy:all_shards",
            "response_policy:agg_logical_and",
        ],
        ..CommandSpec::new("exists", -3, Flags::NOSCRIPT, G, script_exists)
    },
    CommandSpec {
        summary: "Removes all server-side Lua scripts from the script cache.",
        since: "2.6.0",
        complexity: "O(N) with N being the number of scripts in cache",
        tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
        ..CommandSpec::new("flush", -2, Flags::NOSCRIPT, G, script_flush)
    },
    CommandSpec {
        summary: "Returns helpful text about the different subcommands.",
        since: "5.0.0",
        complexity: "O(1)",
        ..CommandSpec::new(
            "help",
            2,
            Flags::LOADING.union(Flags::STALE),
            G,
            script_help,
        )
    },
    CommandSpec {
        summary: "Terminates a server-side Lua script during execution.",
        since: "2.6.0",
        complexity: "O(1)",
        tips: &["request_policy:all_shards", "response_policy:one_succeeded"],
        ..CommandSpec::new(
            "kill",
            2,
            Flags::NOSCRIPT.union(Flags::ALLOW_BUSY),
            G,
            script_kill,
        )
    },
    CommandSpec {
        summary: "Loads a server-side Lua script to the script cache.",
        since: "2.6.0",
        complexity: "O(N) with N being the length in bytes of the script body.",
        tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
        ..CommandSpec::new(
            "load",
            3,
            Flags::NOSCRIPT.union(Flags::STALE),
            G,
            script_load,
        )
    },
];

/// FUNCTION's subcommands.
const FUNCTION_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        summary: "Deletes a library and its functions.",
        since: "7.0.0",
        complexity: "O(1)",
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        ..CommandSpec::new(
            "delete",
            3,
            Flags::WRITE.union(Flags::NOSCRIPT),
            G,
            function_delete,
        )
    },
    CommandSpec {
        summary: "Dumps all libraries into a serialized binary payload.",
        since: "7.0.0",
        complexity: "O(N) where N is the number of functions",
        ..CommandSpec::new("dump", 2, Flags::NOSCRIPT, G, function_dump)
    },
    CommandSpec {
        summary: "Deletes all libraries and functions.",
        since: "7.0.0",
        complexity: "O(N) where N is the number of functions deleted",
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        ..CommandSpec::new(
            "flush",
            -2,
            Flags::WRITE.union(Flags::NOSCRIPT),
            G,
            function_flush,
        )
    },
    CommandSpec {
        summary: "Returns helpful text about the different subcommands.",
        since: "7.0.0",
        complexity: "O(1)",
        ..CommandSpec::new(
            "help",
            2,
            Flags::LOADING.union(Flags::STALE),
            G,
            function_help,
        )
    },
    CommandSpec {
        summary: "Terminates a function during execution.",
        since: "7.0.0",
        complexity: "O(1)",
        tips: &["request_policy:all_shards", "response_policy:one_succeeded"],
        ..CommandSpec::new(
            "kill",
            2,
            Flags::NOSCRIPT.union(Flags::ALLOW_BUSY),
            G,
            function_kill,
        )
    },
    CommandSpec {
        summary: "Returns information about all libraries.",
        since: "7.0.0",
        complexity: "O(N) where N is the number of functions",
        tips: &["nondeterministic_output_order"],
        ..CommandSpec::new("list", -2, Flags::NOSCRIPT, G, function_list)
    },
    CommandSpec {
        summary: "Creates a library.",
        since: "7.0.0",
        complexity: "O(1) (considering compilation time is redundant)",
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        ..CommandSpec::new(
            "load",
            -3,
            Flags::WRITE.union(Flags::DENYOOM).union(Flags::NOSCRIPT),
            G,
            function_load,
        )
    },
    CommandSpec {
        summary: "Restores all libraries from a payload.",
        since: "7.0.0",
        complexity: "O(N) where N is the number of functions on the payload",
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        ..CommandSpec::new(
            "restore",
            -3,
            Flags::WRITE.union(Flags::DENYOOM).union(Flags::NOSCRIPT),
            G,
            function_restore,
        )
    },
    CommandSpec {
        summary: "Returns information about a function during execution.",
        since: "7.0.0",
        complexity: "O(1)",
        tips: &[
            "nondeterministic_output",
            "request_policy:all_shards",
            "response_policy:special",
        ],
        ..CommandSpec::new(
            "stats",
            2,
            Flags::NOSCRIPT.union(Flags::ALLOW_BUSY),
            G,
            function_stats,
        )
    },
];

/// This group's rows of the command table.
pub static COMMANDS: &[CommandSpec] = &[
    eval_row(
        "eval",
        EVAL_FLAGS,
        EVAL_KEYS,
        "Executes a server-side Lua script.",
        "2.6.0",
        eval,
    ),
    eval_row(
        "evalsha",
        EVAL_FLAGS,
        EVALSHA_KEYS,
        "Executes a server-side Lua script by SHA1 digest.",
        "2.6.0",
        evalsha,
    ),
    eval_row(
        "eval_ro",
        EVAL_FLAGS.union(Flags::READONLY),
        EVAL_RO_KEYS,
        "Executes a read-only server-side Lua script.",
        "7.0.0",
        eval_ro,
    ),
    eval_row(
        "evalsha_ro",
        EVAL_FLAGS.union(Flags::READONLY),
        EVALSHA_RO_KEYS,
        "Executes a read-only server-side Lua script by SHA1 digest.",
        "7.0.0",
        evalsha_ro,
    ),
    CommandSpec {
        complexity: "Depends on the function that is executed.",
        ..eval_row(
            "fcall",
            EVAL_FLAGS,
            EVAL_KEYS,
            "Invokes a function.",
            "7.0.0",
            fcall,
        )
    },
    CommandSpec {
        complexity: "Depends on the function that is executed.",
        ..eval_row(
            "fcall_ro",
            EVAL_FLAGS.union(Flags::READONLY),
            EVAL_RO_KEYS,
            "Invokes a read-only function.",
            "7.0.0",
            fcall_ro,
        )
    },
    CommandSpec {
        summary: "A container for function commands.",
        since: "7.0.0",
        complexity: "Depends on subcommand.",
        acl: Acl::empty(),
        handler: None,
        subcommands: FUNCTION_SUBCOMMANDS,
        ..CommandSpec::new("function", -2, Flags::empty(), G, function_help)
    },
    CommandSpec {
        summary: "A container for Lua scripts management commands.",
        since: "2.6.0",
        complexity: "Depends on subcommand.",
        acl: Acl::empty(),
        handler: None,
        subcommands: SCRIPT_SUBCOMMANDS,
        ..CommandSpec::new("script", -2, Flags::empty(), G, script_help)
    },
];

fn eval(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    run_script(ctx, args, false, false)
}

fn evalsha(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    run_script(ctx, args, true, false)
}

fn eval_ro(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    run_script(ctx, args, false, true)
}

fn evalsha_ro(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    run_script(ctx, args, true, true)
}

/// `EVAL body numkeys key... arg...` and its variants; `by_sha`: the first argument is a
/// cached script's SHA1.
fn run_script(
    ctx: &mut ExecCtx,
    args: &mut Args,
    by_sha: bool,
    read_only: bool,
) -> Result<Reply, CmdError> {
    let first = args.next_bytes()?;
    let (keys, argv) = split_keys(args)?;
    let scripting = &ctx.state.scripting;
    let (sha, body) = if by_sha {
        scripting.body(&first).ok_or_else(|| {
            CmdError::Coded("NOSCRIPT No matching script. Please use EVAL.".into())
        })?
    } else {
        (crate::scripting::sha1_hex(&first), first)
    };
    let call = Call {
        sha: &sha,
        keys: &keys,
        args: &argv,
        read_only,
        function: false,
    };
    let reply = scripting.eval(ctx.state, ctx.client, &body, call)?;
    count_failed(args, &reply);
    Ok(reply)
}

/// An error reply the error statistics counted already (a failed command's, which the script
/// raised or returned) still makes the script a failed call, as in Redis.
fn count_failed(args: &Args, reply: &Reply) {
    if let Reply::Error(_) = reply
        && let Some(stats) =
            super::table().stats(&String::from_utf8_lossy(&args.argv()[0]).to_ascii_lowercase())
    {
        stats
            .failed_calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

fn fcall(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    run_function(ctx, args, false)
}

fn fcall_ro(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    run_function(ctx, args, true)
}

/// `FCALL function numkeys key... arg...` and FCALL_RO.
fn run_function(ctx: &mut ExecCtx, args: &mut Args, read_only: bool) -> Result<Reply, CmdError> {
    let name = args.next_bytes()?;
    let rest = args.rest();
    let call = FunctionCall {
        name: &name,
        rest: &rest,
        read_only,
        argv: args.argv(),
    };
    let reply = ctx.state.scripting.fcall(ctx.state, ctx.client, call)?;
    count_failed(args, &reply);
    Ok(reply)
}

/// `FUNCTION LOAD [REPLACE] code`.
fn function_load(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let mut replace = false;
    while args.remaining() > 1 {
        let option = args.next_bytes()?;
        if option.eq_ignore_ascii_case(b"REPLACE") {
            replace = true;
        } else {
            return Err(CmdError::err(format!(
                "Unknown option given: {}",
                String::from_utf8_lossy(&option)
            )));
        }
    }
    let code = args.next_bytes()?;
    let name = ctx.state.scripting.function_load(&code, replace)?;
    Ok(Reply::Bulk(Bytes::from(name)))
}

fn function_delete(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    ctx.state.scripting.function_delete(&args.next_bytes()?)?;
    Ok(Reply::ok())
}

fn function_flush(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    if args.remaining() > 1 {
        return Err(CmdError::subcommand_syntax("function", &args.argv()[1]));
    }
    // ASYNC and SYNC both flush at once: dropping the libraries is quick.
    let valid = args.remaining() == 0 || args.eat("ASYNC") || args.eat("SYNC");
    if !valid {
        return Err(CmdError::err(
            "FUNCTION FLUSH only supports SYNC|ASYNC option",
        ));
    }
    ctx.state.scripting.function_flush();
    Ok(Reply::ok())
}

/// `FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]`, each option at most once.
fn function_list(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let mut with_code = false;
    let mut pattern: Option<Bytes> = None;
    while args.remaining() > 0 {
        let option = args.next_bytes()?;
        if !with_code && option.eq_ignore_ascii_case(b"WITHCODE") {
            with_code = true;
        } else if pattern.is_none() && option.eq_ignore_ascii_case(b"LIBRARYNAME") {
            if args.remaining() == 0 {
                return Err(CmdError::err("library name argument was not given"));
            }
            pattern = Some(args.next_bytes()?);
        } else {
            return Err(CmdError::err(format!(
                "Unknown argument {}",
                String::from_utf8_lossy(&option)
            )));
        }
    }
    Ok(ctx
        .state
        .scripting
        .function_list(pattern.as_deref(), with_code))
}

fn function_dump(ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    Ok(Reply::Bulk(ctx.state.scripting.function_dump()))
}

/// `FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]`.
fn function_restore(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    if args.remaining() > 2 {
        return Err(CmdError::subcommand_syntax("function", &args.argv()[1]));
    }
    let payload = args.next_bytes()?;
    let policy = if args.remaining() == 0 || args.eat("APPEND") {
        RestorePolicy::Append
    } else if args.eat("REPLACE") {
        RestorePolicy::Replace
    } else if args.eat("FLUSH") {
        RestorePolicy::Flush
    } else {
        return Err(CmdError::err(
            "Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
        ));
    };
    ctx.state.scripting.function_restore(&payload, policy)?;
    Ok(Reply::ok())
}

fn function_stats(ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    ctx.state.scripting.function_stats()
}

fn function_kill(ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    ctx.state.scripting.kill(false)?;
    Ok(Reply::ok())
}

fn function_help(_ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    Ok(super::server::help_reply(
        "FUNCTION",
        &[
            "LOAD [REPLACE] <FUNCTION CODE>",
            "    Create a new library with the given library name and code.",
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Library description",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "STATS",
            "    Return information about the current function running:",
            "    * Function name",
            "    * Command used to run the function",
            "    * Duration in MS that the function is running",
            "    If no function is running, return nil",
            "    In addition, returns a list of available engines.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
            "DUMP",
            "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
            "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
            "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
            "    control how to handle existing libraries (default APPEND):",
            "    * FLUSH: delete all existing libraries.",
            "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
            "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
            "      libraries with the new libraries (notice that even on this option there is a chance of failure",
            "      in case of functions name collision with another library).",
        ],
    ))
}

/// `numkeys key... arg...` -> (keys, args), with Redis's errors for a bad count.
fn split_keys(args: &mut Args) -> Result<(Vec<Bytes>, Vec<Bytes>), CmdError> {
    let numkeys = args.next_i64()?;
    if numkeys < 0 {
        return Err(CmdError::err("Number of keys can't be negative"));
    }
    let rest = args.rest();
    if numkeys as u64 > rest.len() as u64 {
        return Err(CmdError::err(
            "Number of keys can't be greater than number of args",
        ));
    }
    let (keys, argv) = rest.split_at(numkeys as usize);
    Ok((keys.to_vec(), argv.to_vec()))
}

fn script_load(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let body = args.next_bytes()?;
    let sha = ctx.state.scripting.load(&body)?;
    Ok(Reply::Bulk(Bytes::from(sha)))
}

fn script_exists(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    let scripting = &ctx.state.scripting;
    let found = args
        .rest()
        .iter()
        .map(|sha| Reply::Integer(i64::from(scripting.exists(sha))))
        .collect();
    Ok(Reply::Array(found))
}

fn script_flush(ctx: &mut ExecCtx, args: &mut Args) -> Result<Reply, CmdError> {
    // ASYNC and SYNC both flush at once: dropping the Lua state is quick.
    let valid = match args.remaining() {
        0 => true,
        1 => args.eat("ASYNC") || args.eat("SYNC"),
        _ => false,
    };
    if !valid {
        return Err(CmdError::err("SCRIPT FLUSH only support SYNC|ASYNC option"));
    }
    ctx.state.scripting.flush();
    Ok(Reply::ok())
}

fn script_kill(ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    ctx.state.scripting.kill(true)?;
    Ok(Reply::ok())
}

fn script_help(_ctx: &mut ExecCtx, _args: &mut Args) -> Result<Reply, CmdError> {
    Ok(super::server::help_reply(
        "SCRIPT",
        &[
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it.",
        ],
    ))
}
