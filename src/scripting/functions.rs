//! Redis 7 functions: libraries loaded with FUNCTION LOAD (`#!lua name=<lib>` and code that
//! calls `redis.register_function`), the functions they register, and FCALL / FCALL_RO.
//!
//! Functions run in their own Lua state (the functions engine), which SCRIPT FLUSH leaves
//! alone; its library code sees only the library API while it loads (functions.lua). Each
//! registered callback is kept in the engine's `compiled` table under its function name;
//! this module keeps the libraries' metadata (name, code, functions with description and
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
    /// Compiles and runs a library's code: the functions it registered.
    fn load_library(&self, code: &[u8]) -> Result<Vec<(String, Function, Registered)>, CmdError> {
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
        *self.load_deadline.lock() = Some(Instant::now() + LOAD_TIMEOUT);
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

impl Scripting {
    /// FUNCTION LOAD [REPLACE]: returns the library's name.
    pub fn function_load(&self, code: &Bytes, replace: bool) -> Result<String, CmdError> {
        let (engine_name, name, body_start) = metadata(code)?;
        if !valid_name(&name) {
            return Err(CmdError::err(NAME_RULES));
        }
        if !engine_name.eq_ignore_ascii_case("lua") {
            return Err(CmdError::err(format!("Engine '{engine_name}' not found")));
        }
        let functions = &self.functions;
        let mut libraries = functions.libraries.lock();
        if libraries.contains_key(&name) && !replace {
            return Err(CmdError::err(format!("Library '{name}' already exists")));
        }
        functions.with_engine(self, |engine| {
            let loaded = engine.load_library(&code[body_start..])?;
            if loaded.is_empty() {
                return Err(CmdError::err("No functions registered"));
            }
            for (function, _, _) in &loaded {
                let taken = libraries
                    .iter()
                    .any(|(lib, l)| *lib != name && l.functions.contains_key(function));
                if taken {
                    return Err(CmdError::err(format!("Function {function} already exists")));
                }
            }
            if let Some(old) = libraries.remove(&name) {
                for function in old.functions.keys() {
                    engine
                        .compiled
                        .raw_set(function.as_str(), Value::Nil)
                        .map_err(internal)?;
                }
            }
            let mut registered = BTreeMap::new();
            for (function, callback, info) in loaded {
                engine
                    .compiled
                    .raw_set(function.as_str(), callback)
                    .map_err(internal)?;
                registered.insert(function, info);
            }
            libraries.insert(
                name.clone(),
                Library {
                    code: code.clone(),
                    functions: registered,
                },
            );
            Ok(name)
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
            for function in library.functions.keys() {
                engine
                    .compiled
                    .raw_set(function.as_str(), Value::Nil)
                    .map_err(internal)?;
            }
        }
        Ok(())
    }

    /// FUNCTION FLUSH: every library goes, with the Lua state they lived in.
    pub fn function_flush(&self) {
        let mut libraries = self.functions.libraries.lock();
        libraries.clear();
        *self.functions.engine.lock() = None;
    }

    /// FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE].
    pub fn function_list(&self, pattern: Option<&[u8]>, with_code: bool) -> Reply {
        let libraries = self.functions.libraries.lock();
        let listed = libraries
            .iter()
            .filter(|(name, _)| {
                pattern.is_none_or(|p| crate::glob::glob_match(p, name.as_bytes(), false))
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
        let name = String::from_utf8_lossy(call.name).into_owned();
        let no_writes = {
            let libraries = self.functions.libraries.lock();
            let info = libraries
                .values()
                .find_map(|l| l.functions.get(&name))
                .ok_or_else(|| CmdError::err("Function not found"))?;
            info.flags.iter().any(|f| f == "no-writes")
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
