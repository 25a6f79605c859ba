//! Server configuration with Redis's option names and syntax: command-line `--name value ...`,
//! redis.conf files (one directive per line, `sdssplitargs` quoting, `include`), and the
//! runtime `CONFIG GET / SET` view of the same table.
//!
//! Values are kept in their canonical text form (what `CONFIG GET` prints) and validated by
//! each parameter's kind. Depends on `protocol` (argument splitting) and `glob` only.

use std::collections::HashMap;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicI64, Ordering};

use parking_lot::RwLock;

use crate::protocol::decode::split_args;

/// How a parameter's value is validated and printed.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// An integer within bounds.
    Int { min: i64, max: i64 },
    /// A byte size accepting `k kb m mb g gb` suffixes; printed in bytes.
    Memory,
    /// `yes` / `no`.
    Bool,
    /// Free text.
    Str,
    /// One of a fixed set of words.
    Enum(&'static [&'static str]),
    /// `save` rules: pairs of integers, or the empty string.
    Save,
}

/// One configuration parameter.
pub struct Param {
    pub name: &'static str,
    pub default: &'static str,
    pub kind: Kind,
    /// Whether `CONFIG SET` may change it at runtime.
    pub mutable: bool,
}

const fn p(name: &'static str, default: &'static str, kind: Kind, mutable: bool) -> Param {
    Param {
        name,
        default,
        kind,
        mutable,
    }
}

const INT: Kind = Kind::Int {
    min: i64::MIN,
    max: i64::MAX,
};
const NONNEG: Kind = Kind::Int {
    min: 0,
    max: i64::MAX,
};

/// Every parameter the server understands. Unknown names are refused at start-up and by
/// CONFIG SET, as Redis does.
pub static PARAMS: &[Param] = &[
    p("port", "6379", Kind::Int { min: 0, max: 65535 }, false),
    p("bind", "127.0.0.1", Kind::Str, false),
    p("protected-mode", "yes", Kind::Bool, true),
    p("requirepass", "", Kind::Str, true),
    p(
        "databases",
        "16",
        Kind::Int {
            min: 1,
            max: i32::MAX as i64,
        },
        false,
    ),
    p("shards", "16", Kind::Int { min: 1, max: 1024 }, false),
    p("dir", ".", Kind::Str, true),
    p("dbfilename", "dump.rdb", Kind::Str, true),
    p("save", "3600 1 300 100 60 10000", Kind::Save, true),
    p("appendonly", "no", Kind::Bool, true),
    p(
        "appendfsync",
        "everysec",
        Kind::Enum(&["always", "everysec", "no"]),
        true,
    ),
    p("appendfilename", "appendonly.aof", Kind::Str, false),
    p("appenddirname", "appendonlydir", Kind::Str, false),
    p("maxmemory", "0", Kind::Memory, true),
    p(
        "maxmemory-policy",
        "noeviction",
        Kind::Enum(&[
            "volatile-lru",
            "allkeys-lru",
            "volatile-lfu",
            "allkeys-lfu",
            "volatile-random",
            "allkeys-random",
            "volatile-ttl",
            "noeviction",
        ]),
        true,
    ),
    p(
        "maxmemory-samples",
        "5",
        Kind::Int { min: 1, max: 64 },
        true,
    ),
    p(
        "maxclients",
        "10000",
        Kind::Int {
            min: 1,
            max: i32::MAX as i64,
        },
        true,
    ),
    p("timeout", "0", NONNEG, true),
    p("tcp-keepalive", "300", NONNEG, true),
    p("tcp-backlog", "511", NONNEG, false),
    p(
        "loglevel",
        "notice",
        Kind::Enum(&["debug", "verbose", "notice", "warning", "nothing"]),
        true,
    ),
    p("logfile", "", Kind::Str, false),
    p("hz", "10", Kind::Int { min: 1, max: 500 }, true),
    p("proto-max-bulk-len", "536870912", Kind::Memory, true),
    p(
        "client-query-buffer-limit",
        "1073741824",
        Kind::Memory,
        true,
    ),
    p("notify-keyspace-events", "", Kind::Str, true),
    p("slowlog-log-slower-than", "10000", INT, true),
    p("slowlog-max-len", "128", NONNEG, true),
    p("latency-monitor-threshold", "0", NONNEG, true),
    p("lua-time-limit", "5000", NONNEG, true),
    p("busy-reply-threshold", "5000", NONNEG, true),
    p("hash-max-listpack-entries", "128", NONNEG, true),
    p("hash-max-listpack-value", "64", NONNEG, true),
    p("stop-writes-on-bgsave-error", "yes", Kind::Bool, true),
    p("rdbcompression", "yes", Kind::Bool, true),
    p("rdbchecksum", "yes", Kind::Bool, true),
    p("io-threads", "1", Kind::Int { min: 1, max: 128 }, false),
    p("daemonize", "no", Kind::Enum(&["no"]), false),
    p("pidfile", "", Kind::Str, false),
];

/// Why a configuration could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("Bad directive or wrong number of arguments")]
    UnknownDirective,
    #[error("argument must be 'yes' or 'no'")]
    NotBool,
    #[error("argument couldn't be parsed into an integer")]
    NotInteger,
    #[error("argument must be between {0} and {1} inclusive")]
    OutOfRange(i64, i64),
    #[error("argument must be a memory value")]
    NotMemory,
    #[error("argument(s) must be one of the following: {0}")]
    NotInEnum(String),
    #[error("Invalid save parameters")]
    BadSave,
    #[error("can't set immutable config")]
    Immutable,
    #[error("{0}")]
    File(String),
}

/// The live configuration.
pub struct Config {
    values: RwLock<HashMap<&'static str, String>>,
    /// Numeric view of every parameter (`yes` = 1), read lock-free on hot paths.
    numbers: Box<[AtomicI64]>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            values: RwLock::new(
                PARAMS
                    .iter()
                    .map(|p| (p.name, p.default.to_string()))
                    .collect(),
            ),
            numbers: PARAMS
                .iter()
                .map(|p| AtomicI64::new(numeric(p.default)))
                .collect(),
        }
    }
}

static POSITIONS: LazyLock<HashMap<&'static str, usize>> = LazyLock::new(|| {
    PARAMS
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name, i))
        .collect()
});

fn position(name: &str) -> Option<usize> {
    POSITIONS
        .get(name)
        .copied()
        .or_else(|| POSITIONS.get(name.to_ascii_lowercase().as_str()).copied())
}

fn find(name: &str) -> Option<&'static Param> {
    position(name).map(|i| &PARAMS[i])
}

/// The number a canonical value stands for: integers as such, `yes` as 1, anything else 0.
fn numeric(value: &str) -> i64 {
    if value == "yes" {
        return 1;
    }
    value.parse().unwrap_or(0)
}

/// Parses `512mb`-style sizes into bytes.
pub fn parse_memory(text: &str) -> Option<i64> {
    let lower = text.to_ascii_lowercase();
    let split = lower
        .find(|c: char| !(c.is_ascii_digit() || c == '-'))
        .unwrap_or(lower.len());
    let (num, unit) = lower.split_at(split);
    let mult: i64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    num.parse::<i64>().ok()?.checked_mul(mult)
}

/// Validates `value` for `param` and returns its canonical text.
fn canonical(param: &Param, value: &str) -> Result<String, ConfigError> {
    match param.kind {
        Kind::Int { min, max } => {
            let n: i64 = value.parse().map_err(|_| ConfigError::NotInteger)?;
            if n < min || n > max {
                return Err(ConfigError::OutOfRange(min, max));
            }
            Ok(n.to_string())
        }
        Kind::Memory => parse_memory(value)
            .filter(|n| *n >= 0)
            .map(|n| n.to_string())
            .ok_or(ConfigError::NotMemory),
        Kind::Bool => match value.to_ascii_lowercase().as_str() {
            "yes" => Ok("yes".into()),
            "no" => Ok("no".into()),
            _ => Err(ConfigError::NotBool),
        },
        Kind::Str => Ok(value.to_string()),
        Kind::Enum(words) => words
            .iter()
            .find(|w| w.eq_ignore_ascii_case(value))
            .map(|w| w.to_string())
            .ok_or_else(|| ConfigError::NotInEnum(words.join(", "))),
        Kind::Save => {
            let parts: Vec<&str> = value.split_whitespace().collect();
            if !parts.len().is_multiple_of(2) || parts.iter().any(|p| p.parse::<u64>().is_err()) {
                return Err(ConfigError::BadSave);
            }
            Ok(parts.join(" "))
        }
    }
}

impl Config {
    /// Builds a configuration from redis-server style arguments:
    /// `[path/to/redis.conf] [--name value ...] ...`.
    pub fn from_args(args: &[String]) -> Result<Config, String> {
        let config = Config::default();
        let mut rest = args;
        if let Some(first) = rest.first()
            && !first.starts_with("--")
        {
            let text = std::fs::read_to_string(first)
                .map_err(|e| format!("Fatal error, can't open config file '{first}': {e}"))?;
            config.load_text(&text)?;
            rest = &rest[1..];
        }
        // `--name v1 v2 --other v` becomes the directive lines `name v1 v2` and `other v`.
        let mut lines: Vec<Vec<String>> = Vec::new();
        for arg in rest {
            if let Some(name) = arg.strip_prefix("--") {
                lines.push(vec![name.to_string()]);
            } else if let Some(line) = lines.last_mut() {
                line.push(arg.clone());
            } else {
                return Err(format!("Invalid argument '{arg}'"));
            }
        }
        for line in lines {
            let shown = line.join(" ");
            config
                .apply_directive(&line)
                .map_err(|e| fatal(&format!("command line option '{shown}'"), &shown, &e))?;
        }
        Ok(config)
    }

    /// Applies a redis.conf text.
    pub fn load_text(&self, text: &str) -> Result<(), String> {
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words = split_args(line.as_bytes()).ok_or_else(|| {
                fatal(
                    &format!("line {}", n + 1),
                    line,
                    &ConfigError::File("Unbalanced quotes in configuration line".into()),
                )
            })?;
            let words: Vec<String> = words
                .into_iter()
                .map(|w| String::from_utf8_lossy(&w).into_owned())
                .collect();
            if words[0].eq_ignore_ascii_case("include") && words.len() == 2 {
                let inner = std::fs::read_to_string(&words[1]).map_err(|e| {
                    format!("Fatal error, can't open config file '{}': {e}", words[1])
                })?;
                self.load_text(&inner)?;
                continue;
            }
            self.apply_directive(&words)
                .map_err(|e| fatal(&format!("line {}", n + 1), line, &e))?;
        }
        Ok(())
    }

    /// Applies one directive (`name value...`) at start-up: immutable parameters allowed.
    fn apply_directive(&self, words: &[String]) -> Result<(), ConfigError> {
        let (name, values) = words.split_first().ok_or(ConfigError::UnknownDirective)?;
        let param = find(name).ok_or(ConfigError::UnknownDirective)?;
        // `--save` alone (or `save ""`) disables snapshots, as in redis-server.
        if values.is_empty() && !matches!(param.kind, Kind::Save) {
            return Err(ConfigError::UnknownDirective);
        }
        let joined = values.join(" ");
        let mut map = self.values.write();
        // Repeated `save` lines accumulate, as in redis.conf.
        let value = match param.kind {
            Kind::Save if !joined.is_empty() && map[param.name] != param.default => {
                format!("{} {joined}", map[param.name])
            }
            _ => joined,
        };
        let value = canonical(param, value.trim())?;
        self.store(param, &mut map, value);
        Ok(())
    }

    /// `CONFIG SET name value` at runtime.
    pub fn set(&self, name: &str, value: &str) -> Result<(), ConfigError> {
        let param = find(name).ok_or(ConfigError::UnknownDirective)?;
        if !param.mutable {
            return Err(ConfigError::Immutable);
        }
        let value = canonical(param, value)?;
        self.store(param, &mut self.values.write(), value);
        Ok(())
    }

    fn store(&self, param: &'static Param, map: &mut HashMap<&'static str, String>, value: String) {
        if let Some(i) = position(param.name) {
            self.numbers[i].store(numeric(&value), Ordering::Relaxed);
        }
        map.insert(param.name, value);
    }

    /// Whether `name` is a known parameter.
    pub fn is_known(name: &str) -> bool {
        find(name).is_some()
    }

    /// `CONFIG GET pattern`: every (name, value) whose name matches the glob.
    pub fn matching(&self, pattern: &str) -> Vec<(&'static str, String)> {
        let map = self.values.read();
        let mut out: Vec<_> = PARAMS
            .iter()
            .filter(|p| crate::glob::glob_match(pattern.as_bytes(), p.name.as_bytes(), true))
            .map(|p| (p.name, map[p.name].clone()))
            .collect();
        out.sort_by_key(|(n, _)| *n);
        out
    }

    /// The canonical text of a parameter.
    pub fn get(&self, name: &str) -> String {
        self.values.read().get(name).cloned().unwrap_or_default()
    }

    /// A numeric parameter (integers, memory sizes in bytes, booleans as 0 / 1), lock-free.
    pub fn get_int(&self, name: &str) -> i64 {
        position(name).map_or(0, |i| self.numbers[i].load(Ordering::Relaxed))
    }

    pub fn get_bool(&self, name: &str) -> bool {
        self.get_int(name) == 1 && self.get(name) == "yes"
    }
}

fn fatal(place: &str, line: &str, e: &ConfigError) -> String {
    format!(
        "\n*** FATAL CONFIG FILE ERROR (ferrostack {}) ***\nReading the configuration file, at {place}\n>>> '{line}'\n{e}",
        env!("CARGO_PKG_VERSION")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn command_line_like_redis_server() {
        let c = Config::from_args(&args("--port 6380 --save --appendonly yes")).unwrap();
        assert_eq!(c.get("save"), "");
        let Err(e) = Config::from_args(&args("--port")) else {
            panic!("a directive without value must fail")
        };
        assert!(e.contains("Bad directive"), "{e}");
        let c = Config::from_args(&args("--port 6380 --appendonly yes --maxmemory 1gb")).unwrap();
        assert_eq!(c.get_int("port"), 6380);
        assert!(c.get_bool("appendonly"));
        assert_eq!(c.get("maxmemory"), "1073741824");
        assert!(Config::from_args(&args("--nosuch 1")).is_err());
        assert!(Config::from_args(&args("--port notanumber")).is_err());
    }

    #[test]
    fn config_file_syntax() {
        let c = Config::default();
        c.load_text("# comment\nport 7000\nsave 900 1\nsave 300 10\nrequirepass \"a b\"\n")
            .unwrap();
        assert_eq!(c.get("port"), "7000");
        assert_eq!(c.get("save"), "900 1 300 10");
        assert_eq!(c.get("requirepass"), "a b");
        assert!(c.load_text("bogus 1\n").unwrap_err().contains("line 1"));
    }

    #[test]
    fn config_set_and_get() {
        let c = Config::default();
        c.set("maxmemory", "100mb").unwrap();
        assert_eq!(c.matching("maxmem*")[0].1, "104857600");
        assert_eq!(c.set("port", "1"), Err(ConfigError::Immutable));
        assert_eq!(c.set("appendonly", "maybe"), Err(ConfigError::NotBool));
    }
}
