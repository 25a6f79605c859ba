//! Redis 7 functions: libraries loaded with FUNCTION LOAD (`#!lua name=<lib>` and code that
//! calls `redis.register_function`), the functions they register, and FCALL / FCALL_RO.
//!
//! Functions run in their own Lua state (the functions engine), which SCRIPT FLUSH leaves
//! alone; its library code sees only the library API while it loads (functions.lua). Each
//! registered callback is kept in the engine's `compiled` table under its function name;
//! function names are unique across libraries without regard to case. This module keeps the
//! libraries' metadata (name, code, functions with description and
//! flags) for FUNCTION LIST / STATS and for FCALL's checks.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use mlua::{Function, Table, Value};
use parking_lot::Mutex;

use super::{Call, Engine, Scripting};
use crate::clients::ClientState;
use crate::error::CmdError;
use crate::protocol::Reply;
use crate::state::ServerState;

/// Keys of the functions engine's `compiled` table holding functions.lua's globals table and
/// loader (function names cannot contain '.').
pub(super) const ENV: &str = "ferrostack.env";
pub(super) const LOAD: &str = "ferrostack.load";

/// How long library code may run while it loads, as in Redis.
const LOAD_TIMEOUT: Duration = Duration::from_millis(500);

const NAME_RULES: &str = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

/// The functions engine and its libraries.
#[derive(Default)]
pub(super) struct Functions {
    /// Created on first use; FUNCTION FLUSH drops it with the libraries.
    engine: Mutex<Option<Engine>>,
    /// Library name -> library.
    libraries: Mutex<BTreeMap<String, Library>>,
}

struct Library {
    code: Bytes,
    /// Function name -> what FUNCTION LIST shows of it.
    functions: BTreeMap<String, Registered>,
}

struct Registered {
    description: Option<Bytes>,
    /// Declared flags in canonical order (`no-writes`, `allow-oom`, ...).
    flags: Vec<String>,
}

/// A library compiled and run, not yet installed.
struct Prepared {
    name: String,
    code: Bytes,
    functions: Vec<(String, Function, Registered)>,
}

/// How FUNCTION RESTORE treats libraries that exist already.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum RestorePolicy {
    /// Fail on a name collision (the default).
    Append,
    /// Replace libraries of the same name.
    Replace,
    /// Drop every library first.
    Flush,
}

/// How FCALL was called.
pub struct FunctionCall<'a> {
    pub name: &'a [u8],
    /// After the function name: `numkeys key... arg...`.
    pub rest: &'a [Bytes],
    /// FCALL_RO.
    pub read_only: bool,
    /// The whole command, for FUNCTION STATS.
    pub argv: &'a [Bytes],
}

/// `#!<engine> name=<library>`: the engine and library names, and where the code after the
/// shebang line starts (its newline kept, so line numbers count from the shebang).
fn metadata(code: &[u8]) -> Result<(String, String, usize), CmdError> {
    if !code.starts_with(b"#!") {
        return Err(CmdError::err("Missing library metadata"));
    }
    let invalid = || CmdError::err("Invalid library metadata");
    let end = code.iter().position(|&b| b == b'\n').ok_or_else(invalid)?;
    let parts = crate::protocol::split_args(&code[..end]).ok_or_else(invalid)?;
    let (engine, options) = parts.split_first().ok_or_else(invalid)?;
    let engine = String::from_utf8_lossy(engine.get(2..).unwrap_or_default()).into_owned();
    let mut name = None;
    for part in options {
        match part.get(..5) {
            Some(prefix) if prefix.eq_ignore_ascii_case(b"name=") => {
                if name.is_some() {
                    return Err(CmdError::err(
                        "Invalid metadata value, name argument was given multiple times",
                    ));
                }
                name = Some(String::from_utf8_lossy(&part[5..]).into_owned());
            }
            _ => {
                return Err(CmdError::err(format!(
                    "Invalid metadata value given: {}",
                    String::from_utf8_lossy(part)
                )));
            }
        }
    }
    let name = name.ok_or_else(|| CmdError::err("Library name was not given"))?;
    Ok((engine, name, end))
}

/// The library name and where its code starts, after the checks Redis makes before running
/// any of it (metadata, name, engine).
fn header(code: &[u8]) -> Result<(String, usize), CmdError> {
    let (engine_name, name, body_start) = metadata(code)?;
    if !valid_name(&name) {
        return Err(CmdError::err(NAME_RULES));
    }
    if !engine_name.eq_ignore_ascii_case("lua") {
        return Err(CmdError::err(format!("Engine '{engine_name}' not found")));
    }
    Ok((name, body_start))
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// An error of the Lua side that should not happen (it would be a bug here, not the user's).
fn internal(e: mlua::Error) -> CmdError {
    CmdError::err(format!("Error in the functions engine: {e}"))
}

fn bulk(text: &str) -> Reply {
    Reply::bulk_str(text)
}

/// The Lua value of a registration (`{callback, description, flags}`).
fn registration(value: &Table) -> mlua::Result<(Function, Registered)> {
    let callback: Function = value.raw_get("callback")?;
    let description = match value.raw_get::<Value>("description")? {
        Value::String(s) => Some(Bytes::copy_from_slice(&s.as_bytes())),
        _ => None,
    };
    let flags: Vec<String> = value
        .raw_get::<Table>("flags")?
        .sequence_values()
        .collect::<mlua::Result<_>>()?;
    Ok((callback, Registered { description, flags }))
}

impl Functions {
    fn with_engine<R>(
        &self,
        scripting: &Scripting,
        f: impl FnOnce(&Engine) -> R,
    ) -> Result<R, CmdError> {
        let mut slot = self.engine.lock();
        if slot.is_none() {
            let engine = Engine::new(scripting.kill.clone(), true)
                .map_err(|e| CmdError::err(format!("Error creating the functions engine: {e}")))?;
            *slot = Some(engine);
        }
        match slot.as_ref() {
            Some(engine) => Ok(f(engine)),
            None => Err(CmdError::err("Functions engine unavailable")),
        }
    }
}

impl Engine {
    /// Compiles and runs the library `name` (its code after the shebang line is `body`).
    fn prepare(
        &self,
        name: String,
        code: &Bytes,
        body: &[u8],
        timeout: Option<Duration>,
    ) -> Result<Prepared, CmdError> {
        let functions = self.load_library(body, timeout)?;
        if functions.is_empty() {
            return Err(CmdError::err("No functions registered"));
        }
        Ok(Prepared {
            name,
            code: code.clone(),
            functions,
        })
    }

    /// Compiles and runs a library's code: the functions it registered.
    fn load_library(
        &self,
        code: &[u8],
        timeout: Option<Duration>,
    ) -> Result<Vec<(String, Function, Registered)>, CmdError> {
        let env: Table = self.compiled.raw_get(ENV).map_err(internal)?;
        let load: Function = self.compiled.raw_get(LOAD).map_err(internal)?;
        let chunk = self
            .lua
            .load(code)
            .set_name("@user_function")
            .set_environment(env)
            .into_function()
            .map_err(|e| {
                let message = match &e {
                    mlua::Error::SyntaxError { message, .. } => message.clone(),
                    other => other.to_string(),
                };
                CmdError::err(format!("Error compiling function: {message}"))
            })?;
        *self.load_deadline.lock() = timeout.map(|t| Instant::now() + t);
        let outcome = super::off_worker(|| load.call::<(bool, Value)>(chunk));
        *self.load_deadline.lock() = None;
        let (ok, result) = outcome.map_err(internal)?;
        let registered = match result {
            Value::Table(table) if ok => table,
            other => {
                let text = match other {
                    Value::String(s) => s.to_string_lossy(),
                    _ => "ERR unknown error".into(),
                };
                return Err(CmdError::err(format!(
                    "Error registering functions: {text}"
                )));
            }
        };
        let mut functions = Vec::new();
        for pair in registered.pairs::<String, Table>() {
            let (name, value) = pair.map_err(internal)?;
            let (callback, info) = registration(&value).map_err(internal)?;
            functions.push((name, callback, info));
        }
        Ok(functions)
    }
}

/// The first function of `prepared` that a library other than those being replaced has.
fn collision(libraries: &BTreeMap<String, Library>, prepared: &[Prepared]) -> Option<String> {
    prepared
        .iter()
        .flat_map(|p| &p.functions)
        .find_map(|(function, _, _)| {
            libraries
                .iter()
                .filter(|(lib, _)| !prepared.iter().any(|p| p.name == **lib))
                .any(|(_, l)| l.functions.keys().any(|f| f.eq_ignore_ascii_case(function)))
                .then(|| function.clone())
        })
}

/// A function of `library` that one of `prepared` registered already.
fn library_collision(prepared: &[Prepared], library: &Prepared) -> Option<String> {
    library.functions.iter().find_map(|(function, _, _)| {
        prepared
            .iter()
            .any(|p| {
                p.functions
                    .iter()
                    .any(|(f, _, _)| f.eq_ignore_ascii_case(function))
            })
            .then(|| function.clone())
    })
}

/// Forgets the callbacks of `names` in the engine.
fn unset<'a>(engine: &Engine, names: impl IntoIterator<Item = &'a String>) -> Result<(), CmdError> {
    for function in names {
        engine
            .compiled
            .raw_set(function.as_str(), Value::Nil)
            .map_err(internal)?;
    }
    Ok(())
}

/// Installs prepared libraries, replacing those of the same names.
fn install(
    engine: &Engine,
    libraries: &mut BTreeMap<String, Library>,
    prepared: Vec<Prepared>,
) -> Result<(), CmdError> {
    for new in prepared {
        if let Some(old) = libraries.remove(&new.name) {
            unset(engine, old.functions.keys())?;
        }
        let mut registered = BTreeMap::new();
        for (function, callback, info) in new.functions {
            engine
                .compiled
                .raw_set(function.as_str(), callback)
                .map_err(internal)?;
            registered.insert(function, info);
        }
        libraries.insert(
            new.name,
            Library {
                code: new.code,
                functions: registered,
            },
        );
    }
    Ok(())
}

impl Scripting {
    /// FUNCTION LOAD [REPLACE]: returns the library's name.
    pub fn function_load(&self, code: &Bytes, replace: bool) -> Result<String, CmdError> {
        let (name, body_start) = header(code)?;
        let functions = &self.functions;
        let mut libraries = functions.libraries.lock();
        if libraries.contains_key(&name) && !replace {
            return Err(CmdError::err(format!("Library '{name}' already exists")));
        }
        functions.with_engine(self, |engine| {
            let body = &code[body_start..];
            let prepared = vec![engine.prepare(name.clone(), code, body, Some(LOAD_TIMEOUT))?];
            if let Some(function) = collision(&libraries, &prepared) {
                return Err(CmdError::err(format!("Function {function} already exists")));
            }
            install(engine, &mut libraries, prepared)?;
            Ok(name)
        })?
    }

    /// FUNCTION DUMP: every library's code.
    pub fn function_dump(&self) -> Bytes {
        let libraries = self.functions.libraries.lock();
        Bytes::from(crate::keyspace::rdb::dump_functions(
            libraries.values().map(|l| &l.code[..]),
        ))
    }

    /// FUNCTION RESTORE: loads every library of a FUNCTION DUMP payload, or none.
    pub fn function_restore(&self, payload: &[u8], policy: RestorePolicy) -> Result<(), CmdError> {
        let codes = crate::keyspace::rdb::restore_functions(payload).map_err(CmdError::err)?;
        let functions = &self.functions;
        let mut libraries = functions.libraries.lock();
        functions.with_engine(self, |engine| {
            // The payload's libraries load as into an empty server first.
            let mut prepared: Vec<Prepared> = Vec::new();
            for code in codes {
                let (name, body_start) = header(&code)?;
                if prepared.iter().any(|p| p.name == name) {
                    return Err(CmdError::err(format!("Library '{name}' already exists")));
                }
                let library = engine.prepare(name, &code, &code[body_start..], None)?;
                if let Some(function) = library_collision(&prepared, &library) {
                    return Err(CmdError::err(format!("Function {function} already exists")));
                }
                prepared.push(library);
            }
            match policy {
                RestorePolicy::Flush => {
                    unset(engine, libraries.values().flat_map(|l| l.functions.keys()))?;
                    libraries.clear();
                }
                RestorePolicy::Append => {
                    if let Some(p) = prepared.iter().find(|p| libraries.contains_key(&p.name)) {
                        return Err(CmdError::err(format!("Library {} already exists", p.name)));
                    }
                }
                RestorePolicy::Replace => {}
            }
            if let Some(function) = collision(&libraries, &prepared) {
                return Err(CmdError::err(format!("Function {function} already exists")));
            }
            install(engine, &mut libraries, prepared)
        })?
    }

    /// FUNCTION DELETE.
    pub fn function_delete(&self, name: &[u8]) -> Result<(), CmdError> {
        let name = String::from_utf8_lossy(name);
        let mut libraries = self.functions.libraries.lock();
        let library = libraries
            .remove(name.as_ref())
            .ok_or_else(|| CmdError::err("Library not found"))?;
        if let Some(engine) = self.functions.engine.lock().as_ref() {
            unset(engine, library.functions.keys())?;
        }
        Ok(())
    }

    /// FUNCTION FLUSH: every library goes, with the Lua state they lived in.
    pub fn function_flush(&self) {
        let mut libraries = self.functions.libraries.lock();
        libraries.clear();
        *self.functions.engine.lock() = None;
    }

    /// FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]; the pattern ignores case, as in Redis.
    pub fn function_list(&self, pattern: Option<&[u8]>, with_code: bool) -> Reply {
        let libraries = self.functions.libraries.lock();
        let listed = libraries
            .iter()
            .filter(|(name, _)| {
                pattern.is_none_or(|p| crate::glob::glob_match(p, name.as_bytes(), true))
            })
            .map(|(name, library)| {
                let functions = library
                    .functions
                    .iter()
                    .map(|(function, info)| {
                        Reply::Map(vec![
                            (bulk("name"), bulk(function)),
                            (
                                bulk("description"),
                                info.description.clone().map_or(Reply::Nil, Reply::Bulk),
                            ),
                            (
                                bulk("flags"),
                                Reply::Set(info.flags.iter().map(|f| Reply::simple(f)).collect()),
                            ),
                        ])
                    })
                    .collect();
                let mut fields = vec![
                    (bulk("library_name"), bulk(name)),
                    (bulk("engine"), bulk("LUA")),
                    (bulk("functions"), Reply::Array(functions)),
                ];
                if with_code {
                    fields.push((bulk("library_code"), Reply::Bulk(library.code.clone())));
                }
                Reply::Map(fields)
            })
            .collect();
        Reply::Array(listed)
    }

    /// FUNCTION STATS: the function running now (an EVAL running is BUSY) and the counts.
    pub fn function_stats(&self) -> Result<Reply, CmdError> {
        let running = match &*self.running.lock() {
            None => Reply::Nil,
            Some(running) => match &running.function {
                None => return Err(CmdError::Coded(super::BUSY_EVAL.into())),
                Some((name, argv)) => Reply::Map(vec![
                    (bulk("name"), bulk(name)),
                    (
                        bulk("command"),
                        Reply::Array(argv.iter().cloned().map(Reply::Bulk).collect()),
                    ),
                    (
                        bulk("duration_ms"),
                        Reply::Integer(running.started.elapsed().as_millis() as i64),
                    ),
                ]),
            },
        };
        let libraries = self.functions.libraries.lock();
        let functions: usize = libraries.values().map(|l| l.functions.len()).sum();
        Ok(Reply::Map(vec![
            (bulk("running_script"), running),
            (
                bulk("engines"),
                Reply::Map(vec![(
                    bulk("LUA"),
                    Reply::Map(vec![
                        (
                            bulk("libraries_count"),
                            Reply::Integer(libraries.len() as i64),
                        ),
                        (bulk("functions_count"), Reply::Integer(functions as i64)),
                    ]),
                )]),
            ),
        ]))
    }

    /// FCALL / FCALL_RO.
    pub fn fcall(
        &self,
        state: &ServerState,
        client: &mut ClientState,
        call: FunctionCall<'_>,
    ) -> Result<Reply, CmdError> {
        // Function names are looked up without regard to case, as Redis does; the function
        // runs (and errors name it) under its registered name.
        let called = String::from_utf8_lossy(call.name);
        let (name, no_writes) = {
            let libraries = self.functions.libraries.lock();
            let (name, info) = libraries
                .values()
                .flat_map(|l| &l.functions)
                .find(|(name, _)| name.eq_ignore_ascii_case(&called))
                .ok_or_else(|| CmdError::err("Function not found"))?;
            (name.clone(), info.flags.iter().any(|f| f == "no-writes"))
        };
        let bad_count = || CmdError::err("Bad number of keys provided");
        let (count, rest) = call.rest.split_first().ok_or_else(bad_count)?;
        let numkeys = crate::commands::args::parse_i64(count).map_err(|_| bad_count())?;
        if numkeys > rest.len() as i64 {
            return Err(CmdError::err(
                "Number of keys can't be greater than number of args",
            ));
        }
        if numkeys < 0 {
            return Err(CmdError::err("Number of keys can't be negative"));
        }
        if call.read_only && !no_writes {
            return Err(CmdError::err(
                "Can not execute a script with write flag using *_ro command.",
            ));
        }
        let (keys, args) = rest.split_at(numkeys as usize);
        let run = Call {
            sha: &name,
            keys,
            args,
            read_only: call.read_only || no_writes,
            function: true,
        };
        let function = Some((name.clone(), call.argv.to_vec()));
        self.functions.with_engine(self, |engine| {
            self.supervise(function, || engine.run(self, state, client, &run))
        })?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebang_metadata() {
        let (engine, name, at) = metadata(b"#!lua name=mylib\nreturn 1").unwrap();
        assert_eq!((engine.as_str(), name.as_str(), at), ("lua", "mylib", 16));
        let error = |code: &[u8]| metadata(code).unwrap_err();
        assert_eq!(
            error(b"return 1"),
            CmdError::err("Missing library metadata")
        );
        assert_eq!(
            error(b"#!lua name=x"),
            CmdError::err("Invalid library metadata")
        );
        assert_eq!(
            error(b"#!lua\n"),
            CmdError::err("Library name was not given")
        );
        assert_eq!(
            error(b"#!lua name=a x=1\n"),
            CmdError::err("Invalid metadata value given: x=1")
        );
    }

    #[test]
    fn names() {
        assert!(valid_name("my_lib1"));
        assert!(!valid_name(""));
        assert!(!valid_name("a-b"));
    }
}
