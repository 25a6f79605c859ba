//! The Lua engine behind EVAL and friends: one Lua 5.1 state per server, sandboxed as Redis 7
//! sandboxes it, the script cache (SHA1 -> body), and what SCRIPT KILL and the BUSY replies
//! need to know about the script running now.
//!
//! A script runs inside an `exclusive` command, so no other command interleaves with it; its
//! `redis.call`s go through `commands::execute_nested`. The `redis` table is built in Lua
//! (prelude.lua) around one Rust primitive, `exec`, that runs a command and converts the
//! reply (convert.rs).

mod bit;
mod cjson;
mod cmsgpack;
pub mod convert;
pub mod functions;
mod struct_lib;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::Instant;

use bytes::Bytes;
use mlua::{Function, HookTriggers, Lua, LuaOptions, MultiValue, StdLib, Table, Value, VmState};
use parking_lot::Mutex;

use crate::clients::ClientState;
use crate::commands::{Flags, table};
use crate::error::CmdError;
use crate::protocol::{Protocol, Reply};
use crate::state::ServerState;

/// What `SCRIPT KILL`, `FUNCTION KILL` and `FUNCTION STATS` see of the script running now.
struct Running {
    started: Instant,
    /// Whether it ran a write command: it then cannot be killed.
    wrote: bool,
    /// A function's name and the FCALL that runs it; `None` for EVAL.
    function: Option<(String, Vec<Bytes>)>,
}

const BUSY_EVAL: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

/// Scripting state shared by all connections (`ServerState::scripting`).
#[derive(Default)]
pub struct Scripting {
    /// Created on first use and dropped by SCRIPT FLUSH.
    engine: Mutex<Option<Engine>>,
    /// SHA1 (lower-case hex) -> body of every script loaded or evaluated since the last flush.
    bodies: Mutex<HashMap<String, Bytes>>,
    running: Mutex<Option<Running>>,
    /// The functions engine and its libraries (FUNCTION, FCALL); SCRIPT FLUSH leaves them.
    functions: functions::Functions,
    /// Set by SCRIPT KILL; the engine's instruction hook stops the script when it sees it.
    kill: Arc<AtomicBool>,
}

/// How a script was started.
pub struct Call<'a> {
    pub sha: &'a str,
    pub keys: &'a [Bytes],
    pub args: &'a [Bytes],
    /// EVAL_RO / EVALSHA_RO, or a function that declared no-writes: write commands are
    /// refused.
    pub read_only: bool,
    /// A function (named by `sha`), called with KEYS and ARGV as its arguments.
    pub function: bool,
}

struct Engine {
    lua: Lua,
    /// Runs a compiled body under the error handler (prelude.lua).
    runner: Function,
    /// SHA1 -> compiled body (EVAL), or function name -> callback (functions engine).
    compiled: Table,
    /// The RESP version `redis.setresp` chose for the running script (2 at its start).
    resp: Arc<AtomicU8>,
    /// When a FUNCTION LOAD running now must stop.
    load_deadline: Arc<Mutex<Option<Instant>>>,
}

/// The registry slot where the running script's `exec` callback lives while it runs.
const EXEC_SLOT: &str = "ferrostack.exec";

/// Chunk name of the prelude, whose frames error positions skip.
const PRELUDE_NAME: &str = "=ferrostack";

const KILLED: &str = "ERR Script killed by user with SCRIPT KILL...";

/// Runs `f`, which may take long (a script, a wait for one), telling the tokio runtime so:
/// the worker thread's other connections move to another thread meanwhile, so they can be
/// answered (BUSY, SCRIPT KILL) while a script runs.
pub fn off_worker<R>(f: impl FnOnce() -> R) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// Runs a step of a recursion whose depth scripts decide (nested replies, cjson), growing the
/// stack on the heap when little is left, so a deep value cannot overflow the thread's stack.
pub(crate) fn deep<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(64 * 1024, 1024 * 1024, f)
}

/// Lower-case hex SHA1 of `data`, as script names are written.
pub fn sha1_hex(data: &[u8]) -> String {
    sha1_smol::Sha1::from(data).digest().to_string()
}

impl Scripting {
    /// Remembers `body` and returns its SHA1 (SCRIPT LOAD compiles it too, see `load`).
    fn remember(&self, body: &Bytes) -> String {
        let sha = sha1_hex(body);
        self.bodies
            .lock()
            .entry(sha.clone())
            .or_insert_with(|| body.clone());
        sha
    }

    /// The body cached under `sha` (case-insensitive), for EVALSHA.
    pub fn body(&self, sha: &[u8]) -> Option<(String, Bytes)> {
        let sha = String::from_utf8_lossy(sha).to_ascii_lowercase();
        let body = self.bodies.lock().get(&sha)?.clone();
        Some((sha, body))
    }

    pub fn exists(&self, sha: &[u8]) -> bool {
        self.body(sha).is_some()
    }

    /// SCRIPT FLUSH: forgets every script and starts a fresh Lua state.
    pub fn flush(&self) {
        self.bodies.lock().clear();
        *self.engine.lock() = None;
    }

    /// SCRIPT LOAD: compiles `body` and caches it; returns its SHA1.
    pub fn load(&self, body: &Bytes) -> Result<String, CmdError> {
        let sha = sha1_hex(body);
        self.with_engine(|engine| engine.compile(&sha, body))??;
        self.remember(body);
        Ok(sha)
    }

    /// SCRIPT KILL (`eval`) or FUNCTION KILL: each stops only its own kind of script.
    pub fn kill(&self, eval: bool) -> Result<(), CmdError> {
        match &*self.running.lock() {
            None => Err(CmdError::Coded(
                "NOTBUSY No scripts in execution right now.".into(),
            )),
            Some(running) if running.wrote => Err(CmdError::Coded(
                "UNKILLABLE Sorry the script already executed write commands against the \
                 dataset. You can either wait the script termination or kill the server in a \
                 hard way using the SHUTDOWN NOSAVE command."
                    .into(),
            )),
            Some(running) if running.function.is_some() == eval => {
                Err(CmdError::Coded(busy_text(running).into()))
            }
            Some(_) => {
                self.kill.store(true, Ordering::SeqCst);
                Ok(())
            }
        }
    }

    /// Stops the running script, if any, even one that wrote (SHUTDOWN).
    pub fn abort(&self) {
        if self.running.lock().is_some() {
            self.kill.store(true, Ordering::SeqCst);
        }
    }

    /// The BUSY error other clients get while a script has run longer than `threshold_ms`.
    pub fn busy_error(&self, threshold_ms: u64) -> Option<CmdError> {
        let running = self.running.lock();
        let running = running.as_ref()?;
        (running.started.elapsed().as_millis() >= u128::from(threshold_ms))
            .then(|| CmdError::Coded(busy_text(running).into()))
    }

    fn with_engine<R>(&self, f: impl FnOnce(&Engine) -> R) -> Result<R, CmdError> {
        let mut slot = self.engine.lock();
        if slot.is_none() {
            let engine = Engine::new(self.kill.clone(), false)
                .map_err(|e| CmdError::err(format!("Error creating the Lua engine: {e}")))?;
            *slot = Some(engine);
        }
        match slot.as_ref() {
            Some(engine) => Ok(f(engine)),
            None => Err(CmdError::err("Lua engine unavailable")),
        }
    }

    /// EVAL / EVALSHA: runs `body` (cached under `call.sha`) and returns its reply.
    pub fn eval(
        &self,
        state: &ServerState,
        client: &mut ClientState,
        body: &Bytes,
        call: Call<'_>,
    ) -> Result<Reply, CmdError> {
        self.with_engine(|engine| {
            // Only a script that compiles is cached.
            engine.compile(call.sha, body)?;
            self.remember(body);
            self.supervise(None, || engine.run(self, state, client, &call))
        })?
    }

    /// Runs a script (`function`: a function's name and its FCALL) as the running one, which
    /// SCRIPT KILL / FUNCTION KILL, BUSY replies and FUNCTION STATS see.
    fn supervise(
        &self,
        function: Option<(String, Vec<Bytes>)>,
        run: impl FnOnce() -> Result<Reply, CmdError>,
    ) -> Result<Reply, CmdError> {
        self.kill.store(false, Ordering::SeqCst);
        *self.running.lock() = Some(Running {
            started: Instant::now(),
            wrote: false,
            function,
        });
        let result = off_worker(run);
        *self.running.lock() = None;
        self.kill.store(false, Ordering::SeqCst);
        result
    }

    fn mark_write(&self) {
        if let Some(running) = self.running.lock().as_mut() {
            running.wrote = true;
        }
    }
}

fn busy_text(running: &Running) -> &'static str {
    if running.function.is_some() {
        BUSY_FUNCTION
    } else {
        BUSY_EVAL
    }
}

impl Engine {
    /// A sandboxed Lua state; `functions`: the functions engine, whose library code runs
    /// with functions.lua's globals (see `functions::Functions`).
    fn new(kill: Arc<AtomicBool>, functions: bool) -> mlua::Result<Engine> {
        let lua = Lua::new_with(
            StdLib::TABLE | StdLib::STRING | StdLib::MATH,
            LuaOptions::default(),
        )?;
        // Redis seeds math.random identically at start-up.
        lua.load("math.randomseed(0)").exec()?;
        let resp = Arc::new(AtomicU8::new(2));
        let natives = natives(&lua, &resp)?;
        let position = lua.create_function(|lua, ()| Ok(user_position(lua)))?;
        let message = lua.create_function(|_, error: Value| {
            Ok(match error {
                Value::Error(error) => error_message(&error),
                other => (format!("ERR {}", other.type_name()), false),
            })
        })?;
        lua.globals().raw_set("bit", bit::library(&lua)?)?;
        lua.globals()
            .raw_set("cjson", cjson::library(&lua, raise_here)?)?;
        lua.globals()
            .raw_set("cmsgpack", cmsgpack::library(&lua)?)?;
        lua.globals()
            .raw_set("struct", struct_lib::library(&lua)?)?;
        let message_fn = message.clone();
        let runner: Function = lua
            .load(include_str!("prelude.lua"))
            .set_name(PRELUDE_NAME)
            .call((natives, position, message))?;
        let globals = lua.globals();
        globals.raw_set("_VERSION", "Lua 5.1")?;
        let redis: Table = globals.raw_get("redis")?;
        redis.raw_set("REDIS_VERSION", crate::REDIS_VERSION)?;
        redis.raw_set("REDIS_VERSION_NUM", redis_version_num())?;
        let compiled = lua.create_table()?;
        if functions {
            let (env, load, library_redis, register): (Table, Function, Table, Function) = lua
                .load(include_str!("functions.lua"))
                .set_name(PRELUDE_NAME)
                .call(message_fn)?;
            let native = lua.create_function(move |_, args: MultiValue| {
                match register.call::<Option<String>>(args)? {
                    None => Ok(()),
                    Some(text) => Err(raise(&text)),
                }
            })?;
            library_redis.raw_set("register_function", native)?;
            compiled.raw_set(functions::ENV, env)?;
            compiled.raw_set(functions::LOAD, load)?;
        }
        // Checked every so many instructions: how SCRIPT KILL reaches a running script, and
        // how a FUNCTION LOAD that takes too long is stopped.
        let load_deadline: Arc<Mutex<Option<Instant>>> = Arc::default();
        let deadline = load_deadline.clone();
        lua.set_hook(
            HookTriggers::new().every_nth_instruction(10_000),
            move |_, _| {
                if kill.load(Ordering::Relaxed) {
                    Err(raise(KILLED))
                } else if deadline.lock().is_some_and(|d| Instant::now() >= d) {
                    Err(raise("ERR FUNCTION LOAD timeout"))
                } else {
                    Ok(VmState::Continue)
                }
            },
        )?;
        Ok(Engine {
            lua,
            runner,
            compiled,
            resp,
            load_deadline,
        })
    }

    /// Compiles `body` under `sha` unless already compiled.
    fn compile(&self, sha: &str, body: &[u8]) -> Result<(), CmdError> {
        if self
            .compiled
            .raw_get::<Value>(sha)
            .is_ok_and(|v| !v.is_nil())
        {
            return Ok(());
        }
        let function = self
            .lua
            .load(body)
            .set_name("@user_script")
            .into_function()
            .map_err(|e| {
                let message = match &e {
                    mlua::Error::SyntaxError { message, .. } => message.clone(),
                    other => other.to_string(),
                };
                CmdError::Coded(format!(
                    "ERR Error compiling script (new function): {message}"
                ))
            })?;
        self.compiled
            .raw_set(sha, function)
            .map_err(|e| CmdError::err(e.to_string()))
    }

    fn run(
        &self,
        scripting: &Scripting,
        state: &ServerState,
        client: &mut ClientState,
        call: &Call<'_>,
    ) -> Result<Reply, CmdError> {
        let lua = &self.lua;
        let internal = |e: mlua::Error| CmdError::err(format!("Error running script: {e}"));
        let body: Function = self.compiled.raw_get(call.sha).map_err(internal)?;
        let keys = strings_table(lua, call.keys).map_err(internal)?;
        let args = strings_table(lua, call.args).map_err(internal)?;
        // A script reads KEYS and ARGV as globals, a function gets them as arguments.
        let params = if call.function {
            MultiValue::from_iter([Value::Table(keys), Value::Table(args)])
        } else {
            let globals = lua.globals();
            globals.raw_set("KEYS", keys).map_err(internal)?;
            globals.raw_set("ARGV", args).map_err(internal)?;
            MultiValue::new()
        };
        // The script's commands must not show as the caller's last command, and since Redis
        // 7 a SELECT inside a script does not change the caller's database.
        let saved = (
            client.deny_blocking,
            client.protocol,
            client.db,
            client.last_cmd.take(),
        );
        client.deny_blocking = true;
        let read_only = call.read_only;
        self.resp.store(2, Ordering::Relaxed);
        let outcome = lua.scope(|scope| {
            let exec = scope.create_function_mut(|lua, args: MultiValue| {
                let resp = self.resp.load(Ordering::Relaxed);
                run_command(lua, scripting, state, client, read_only, resp, args)
            })?;
            lua.set_named_registry_value(EXEC_SLOT, exec)?;
            let result = self.runner.call::<(bool, Value)>((body, params));
            lua.unset_named_registry_value(EXEC_SLOT)?;
            result
        });
        client.deny_blocking = saved.0;
        client.protocol = saved.1;
        client.db = saved.2;
        client.last_cmd = saved.3;
        // `resp`: the version the script chose last, which decides how booleans come out.
        let (ok, value) = outcome.map_err(internal)?;
        if !ok {
            return script_error(&value, call.sha);
        }
        let resp = self.resp.load(Ordering::Relaxed);
        match convert::lua_to_reply(&value, resp) {
            Reply::Error(text) if !counted(&value) => {
                Err(CmdError::Coded(String::from_utf8_lossy(&text).into_owned()))
            }
            reply => Ok(reply),
        }
    }
}

/// Whether `value` is the error table of a failed command, already in the error statistics.
fn counted(value: &Value) -> bool {
    matches!(value, Value::Table(t) if t.raw_get::<bool>(convert::COUNTED).unwrap_or(false))
}

/// The error reply of a script that failed with `error` (an error table from the handler):
/// `Ok(Reply::Error)` when the error statistics counted it already (a failed command's
/// error), `Err` when the reply is still to be counted.
fn script_error(error: &Value, sha: &str) -> Result<Reply, CmdError> {
    let Value::Table(table) = error else {
        return Err(CmdError::err(format!("Error running script {sha}")));
    };
    let text = match table.raw_get::<Value>("err") {
        Ok(Value::String(s)) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
        _ => "ERR unknown error".to_string(),
    };
    let source = table
        .raw_get::<Option<String>>("source")
        .ok()
        .flatten()
        .unwrap_or_else(|| "?".into());
    let line = table
        .raw_get::<Option<i64>>("line")
        .ok()
        .flatten()
        .unwrap_or(0);
    let text = format!("{text} script: {sha}, on {source}:{line}.").replace(['\r', '\n'], " ");
    if counted(error) {
        Ok(Reply::Error(Bytes::from(text)))
    } else {
        Err(CmdError::Coded(text))
    }
}

fn strings_table(lua: &Lua, items: &[Bytes]) -> mlua::Result<Table> {
    let table = lua.create_table_with_capacity(items.len(), 0)?;
    for (i, item) in items.iter().enumerate() {
        table.raw_set(i + 1, lua.create_string(item)?)?;
    }
    Ok(table)
}

/// `REDIS_VERSION_NUM`: 0x00MMmmpp.
fn redis_version_num() -> i64 {
    let mut parts = crate::REDIS_VERSION
        .split('.')
        .map(|p| p.parse::<i64>().unwrap_or(0));
    let mut next = || parts.next().unwrap_or(0);
    (next() << 16) | (next() << 8) | next()
}

/// The innermost frame of the user's code: `(source, line)` for an error's position.
fn user_position(lua: &Lua) -> (Option<String>, Option<i64>) {
    for level in 1.. {
        let frame = lua.inspect_stack(level, |debug| {
            let source = debug.source();
            let name = source.source.as_deref().map(str::to_string);
            let is_c = source.what == "C";
            (name, is_c, debug.current_line())
        });
        let Some((name, is_c, line)) = frame else {
            break;
        };
        if is_c || name.as_deref() == Some(PRELUDE_NAME) {
            continue;
        }
        return (name, line.map(|l| l as i64));
    }
    (None, None)
}

/// An error a native `redis.*` function raises; its text is the error reply's (`ERR ...`).
/// `counted`: the error of a failed command, already in the error statistics.
#[derive(Debug)]
struct Raised {
    text: String,
    counted: bool,
}

impl std::fmt::Display for Raised {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for Raised {}

fn raise(text: &str) -> mlua::Error {
    mlua::Error::external(Raised {
        text: text.to_string(),
        counted: false,
    })
}

/// An error a library function raises as lua's `luaL_error` writes it: `ERR`, the calling
/// line of the script, the message.
fn raise_here(lua: &Lua, message: &str) -> mlua::Error {
    let (source, line) = user_position(lua);
    let source = source.unwrap_or_default();
    let source = source.strip_prefix('@').unwrap_or(&source);
    raise(&format!("ERR {source}:{}: {message}", line.unwrap_or(0)))
}

/// A bad argument error as `luaL_argerror` writes it, naming the function as the script
/// called it (`struct.pack(...)` -> 'pack').
fn arg_error(lua: &Lua, arg: usize, message: &str) -> mlua::Error {
    let name = lua
        .inspect_stack(0, |debug| debug.names().name.map(|n| n.into_owned()))
        .flatten()
        .unwrap_or_else(|| "?".into());
    raise_here(lua, &format!("bad argument #{arg} to '{name}' ({message})"))
}

/// The error reply text of an error a Rust function raised inside Lua, and whether it was
/// counted already.
fn error_message(error: &mlua::Error) -> (String, bool) {
    match error {
        mlua::Error::CallbackError { cause, .. } => error_message(cause),
        mlua::Error::ExternalError(inner) => match inner.downcast_ref::<Raised>() {
            Some(raised) => (raised.text.clone(), raised.counted),
            None => (format!("ERR {inner}"), false),
        },
        other => (format!("ERR {other}"), false),
    }
}

/// A Lua value as a number, if it is one.
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Integer(n) => Some(*n as f64),
        Value::Number(n) => Some(*n),
        _ => None,
    }
}

/// The functions of the `redis` table that can fail, so they are C functions as in Redis
/// (an error's position is then the caller's line, even for `return redis.call(...)`).
fn natives(lua: &Lua, resp: &Arc<AtomicU8>) -> mlua::Result<Table> {
    let natives = lua.create_table()?;
    // redis.call and redis.pcall reach the running script's context through `EXEC_SLOT`.
    let exec = |lua: &Lua, args: MultiValue| -> mlua::Result<(bool, Value)> {
        lua.named_registry_value::<Function>(EXEC_SLOT)?.call(args)
    };
    natives.raw_set(
        "call",
        lua.create_function(move |lua, args: MultiValue| match exec(lua, args)? {
            (true, value) => Ok(value),
            (false, error) => {
                let (text, counted) = match &error {
                    Value::Table(t) => (
                        t.raw_get::<String>("err").unwrap_or_default(),
                        t.raw_get::<bool>(convert::COUNTED).unwrap_or(false),
                    ),
                    _ => (String::new(), false),
                };
                Err(mlua::Error::external(Raised { text, counted }))
            }
        })?,
    )?;
    natives.raw_set(
        "pcall",
        lua.create_function(move |lua, args: MultiValue| Ok(exec(lua, args)?.1))?,
    )?;
    natives.raw_set(
        "sha1hex",
        lua.create_function(|lua, args: MultiValue| {
            if args.len() != 1 {
                return Err(raise("ERR wrong number of arguments"));
            }
            let text = args
                .into_iter()
                .next()
                .and_then(|v| lua.coerce_string(v).ok().flatten());
            let bytes = text.map(|s| s.as_bytes().to_vec()).unwrap_or_default();
            Ok(sha1_hex(&bytes))
        })?,
    )?;
    let chosen = resp.clone();
    natives.raw_set(
        "setresp",
        lua.create_function(move |_, args: MultiValue| {
            if args.len() != 1 {
                return Err(raise("ERR redis.setresp() requires one argument."));
            }
            match args.front().and_then(number) {
                Some(v) if v == 2.0 || v == 3.0 => {
                    chosen.store(v as u8, Ordering::Relaxed);
                    Ok(())
                }
                _ => Err(raise("ERR RESP version must be 2 or 3.")),
            }
        })?,
    )?;
    natives.raw_set(
        "log",
        lua.create_function(|lua, args: MultiValue| {
            if args.len() < 2 {
                return Err(raise("ERR redis.log() requires two arguments or more."));
            }
            let mut args = args.into_iter();
            let level = match args.next().as_ref().and_then(number) {
                Some(l) if (0.0..=3.0).contains(&l) => l as u8,
                _ => return Err(raise("ERR Invalid debug level.")),
            };
            let parts: Vec<String> = args
                .filter_map(|v| lua.coerce_string(v).ok().flatten())
                .map(|s| s.to_string_lossy())
                .collect();
            let message = parts.join(" ");
            match level {
                0 => tracing::debug!("{message}"),
                1 | 2 => tracing::info!("{message}"),
                _ => tracing::warn!("{message}"),
            }
            Ok(())
        })?,
    )?;
    natives.raw_set(
        "set_repl",
        lua.create_function(|_, args: MultiValue| {
            if args.len() != 1 {
                return Err(raise("ERR redis.set_repl() requires one argument."));
            }
            match args.front().and_then(number) {
                Some(flags) if (0.0..=3.0).contains(&flags) => Ok(()),
                _ => Err(raise(
                    "ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
                )),
            }
        })?,
    )?;
    Ok(natives)
}

/// The `exec` primitive behind redis.call / redis.pcall: `(command, args...)` ->
/// `(true, reply)` or `(false, error table)`.
fn run_command(
    lua: &Lua,
    scripting: &Scripting,
    state: &ServerState,
    client: &mut ClientState,
    read_only: bool,
    resp: u8,
    args: MultiValue,
) -> mlua::Result<(bool, Value)> {
    // Misuse of the library: reported to the script, counted only if it becomes the reply.
    let fail = |text: &str| -> mlua::Result<(bool, Value)> {
        Ok((
            false,
            Value::Table(convert::error_table(lua, text.as_bytes())?),
        ))
    };
    // A command refused here is counted in the error statistics at once (and as rejected on
    // the command), as Redis counts it.
    let refuse = |stats: Option<&crate::commands::CommandStats>, text: &str| {
        if let Some(stats) = stats {
            stats.rejected_calls.fetch_add(1, Ordering::Relaxed);
        }
        state.stats.count_error("ERR");
        let table = convert::error_table(lua, text.as_bytes())?;
        table.raw_set(convert::COUNTED, true)?;
        Ok((false, Value::Table(table)))
    };
    let mut argv = Vec::with_capacity(args.len());
    for arg in args {
        argv.push(match arg {
            Value::String(s) => Bytes::copy_from_slice(&s.as_bytes()),
            Value::Integer(n) => Bytes::from(n.to_string()),
            Value::Number(n) => Bytes::from(convert::format_g17(n)),
            _ => return fail("ERR Lua redis lib command arguments must be strings or integers"),
        });
    }
    if argv.is_empty() {
        return fail("ERR Please specify at least one argument for this redis lib call");
    }
    let Some(command) = table().command(&argv[0]) else {
        return refuse(None, "ERR Unknown Redis command called from script");
    };
    let spec = command.spec;
    let stats = Some(&command.stats);
    if !spec.arity_ok(argv.len()) {
        return refuse(
            stats,
            "ERR Wrong number of args calling Redis command from script",
        );
    }
    let runs = match argv.get(1) {
        Some(name) if !spec.subcommands.is_empty() => spec.subcommand(name).unwrap_or(spec),
        _ => spec,
    };
    let flags = spec.flags | runs.flags;
    if flags.contains(Flags::NOSCRIPT) {
        return refuse(stats, "ERR This Redis command is not allowed from script");
    }
    let writes = flags.contains(Flags::WRITE);
    if writes && read_only {
        return refuse(
            stats,
            "ERR Write commands are not allowed from read-only scripts.",
        );
    }
    client.protocol = if resp == 3 {
        Protocol::Resp3
    } else {
        Protocol::Resp2
    };
    let reply = crate::commands::execute_nested(state, client, argv);
    if writes && !matches!(reply, Reply::Error(_)) {
        scripting.mark_write();
    }
    Ok(match convert::reply_to_lua(lua, reply, resp)? {
        Ok(value) => (true, value),
        Err(error) => (false, error),
    })
}
