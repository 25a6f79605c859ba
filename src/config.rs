//! Server configuration with Redis's option names and syntax: command-line `--name value ...`,
//! redis.conf files (one directive per line, `sdssplitargs` quoting, `include`), and the
//! runtime `CONFIG GET / SET / REWRITE` view of the same table.
//!
//! Values are kept in their canonical text form (what `CONFIG GET` prints) and validated by
//! each parameter's kind, with Redis's error texts. Depends on `protocol` (argument splitting)
//! and `glob` only.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{LazyLock, OnceLock};

use parking_lot::RwLock;

use crate::protocol::{repr, split_args};

/// A validator for values with their own syntax: gets the current canonical value and the
/// new text, returns the new canonical value.
pub type Check = fn(&str, &str) -> Result<String, ConfigError>;

/// How a parameter's value is validated and printed.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// An integer within bounds.
    Int { min: i64, max: i64 },
    /// A byte size accepting `k kb m mb g gb` suffixes; printed in bytes.
    Memory,
    /// A byte size, or a percentage of `maxmemory` written `N%`.
    MemoryOrPercent,
    /// `yes` / `no`.
    Bool,
    /// Free text.
    Str,
    /// One of a fixed set of words.
    Enum(&'static [&'static str]),
    /// A value with its own syntax. `words` marks values that are lists of words (`save`,
    /// `bind`), written unquoted by CONFIG REWRITE.
    Custom { check: Check, words: bool },
}

/// Who may change a parameter after start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// CONFIG SET may change it.
    Mutable,
    /// Only the command line or the config file may set it.
    Immutable,
    /// CONFIG SET may change it only when `enable-protected-configs` allows (Redis's
    /// `PROTECTED_CONFIG`: `dir`, `dbfilename`).
    Protected,
}

/// One configuration parameter.
pub struct Param {
    pub name: &'static str,
    pub default: &'static str,
    pub kind: Kind,
    pub access: Access,
}

const fn p(name: &'static str, default: &'static str, kind: Kind, access: Access) -> Param {
    Param {
        name,
        default,
        kind,
        access,
    }
}

/// A runtime-mutable parameter.
const fn m(name: &'static str, default: &'static str, kind: Kind) -> Param {
    p(name, default, kind, Access::Mutable)
}

/// A parameter fixed after start-up.
const fn fixed(name: &'static str, default: &'static str, kind: Kind) -> Param {
    p(name, default, kind, Access::Immutable)
}

const fn int(min: i64, max: i64) -> Kind {
    Kind::Int { min, max }
}

const I32: i64 = i32::MAX as i64;
const NONNEG: Kind = int(0, i64::MAX);
const NONNEG32: Kind = int(0, I32);
const PORT: Kind = int(0, 65535);
const BOOL: Kind = Kind::Bool;
const STR: Kind = Kind::Str;
const MEM: Kind = Kind::Memory;

/// Every parameter the server understands, under its Redis name. Unknown names are refused at
/// start-up and by CONFIG SET, as Redis does.
///
/// The table has two parts. The first holds parameters the server acts on. The second holds
/// parameters accepted so that existing redis.conf files and clients work unchanged, whose
/// value is stored and reported but changes nothing yet; where accepting another value would
/// promise a feature that does not exist (daemonizing, TLS, cluster, replication, unix
/// sockets), only the default is accepted.
pub static PARAMS: &[Param] = &[
    // --- In effect ---
    fixed("port", "6379", PORT),
    // Redis's built-in default is `* -::*`; listening on loopback only is the safer default.
    fixed(
        "bind",
        "127.0.0.1",
        Kind::Custom {
            check: check_bind,
            words: true,
        },
    ),
    m("requirepass", "", STR),
    fixed("databases", "16", int(1, I32)),
    // ferrostack's own: shards per database (lock granularity).
    fixed("shards", "16", int(1, 1024)),
    m("maxclients", "10000", int(1, u32::MAX as i64)),
    m("hz", "10", NONNEG32),
    fixed("logfile", "", STR),
    // Read at start-up: changing it at runtime does not change the log level yet.
    m(
        "loglevel",
        "notice",
        Kind::Enum(&["debug", "verbose", "notice", "warning", "nothing"]),
    ),
    m("proto-max-bulk-len", "536870912", MEM),
    m("client-query-buffer-limit", "1073741824", MEM),
    m("slowlog-log-slower-than", "10000", int(-1, i64::MAX)),
    m("slowlog-max-len", "128", NONNEG),
    // Gates DEBUG: `no`, `yes`, or `local` (loopback connections only).
    fixed(
        "enable-debug-command",
        "no",
        Kind::Enum(&["no", "yes", "local"]),
    ),
    // Gates CONFIG SET of protected parameters (`dir`, `dbfilename`).
    fixed(
        "enable-protected-configs",
        "no",
        Kind::Enum(&["no", "yes", "local"]),
    ),
    // Reported by INFO memory; enforcement (eviction, OOM errors) comes with the eviction work.
    m("maxmemory", "0", MEM),
    m(
        "maxmemory-policy",
        "noeviction",
        Kind::Enum(&[
            "volatile-lru",
            "volatile-lfu",
            "volatile-random",
            "volatile-ttl",
            "allkeys-lru",
            "allkeys-lfu",
            "allkeys-random",
            "noeviction",
        ]),
    ),
    // --- Accepted for compatibility: stored and reported, no effect yet ---
    // Persistence (snapshots and AOF do not exist yet).
    p(
        "dir",
        ".",
        Kind::Custom {
            check: check_dir,
            words: false,
        },
        Access::Protected,
    ),
    p("dbfilename", "dump.rdb", STR, Access::Protected),
    m(
        "save",
        "3600 1 300 100 60 10000",
        Kind::Custom {
            check: check_save,
            words: true,
        },
    ),
    m("stop-writes-on-bgsave-error", "yes", BOOL),
    m("rdbcompression", "yes", BOOL),
    fixed("rdbchecksum", "yes", BOOL),
    m("rdb-del-sync-files", "no", BOOL),
    m("rdb-save-incremental-fsync", "yes", BOOL),
    m(
        "sanitize-dump-payload",
        "no",
        Kind::Enum(&["no", "yes", "clients"]),
    ),
    m("appendonly", "no", BOOL),
    fixed("appendfilename", "appendonly.aof", STR),
    fixed("appenddirname", "appendonlydir", STR),
    m(
        "appendfsync",
        "everysec",
        Kind::Enum(&["always", "everysec", "no"]),
    ),
    m("no-appendfsync-on-rewrite", "no", BOOL),
    m("auto-aof-rewrite-percentage", "100", NONNEG32),
    m("auto-aof-rewrite-min-size", "67108864", MEM),
    m("aof-load-truncated", "yes", BOOL),
    m("aof-use-rdb-preamble", "yes", BOOL),
    m("aof-timestamp-enabled", "no", BOOL),
    m("aof-rewrite-incremental-fsync", "yes", BOOL),
    m("aof-disable-auto-gc", "no", BOOL),
    // Memory management and eviction.
    m("maxmemory-samples", "5", int(1, I32)),
    m("maxmemory-eviction-tenacity", "10", int(0, 100)),
    m("maxmemory-clients", "0", Kind::MemoryOrPercent),
    m("lfu-log-factor", "10", NONNEG32),
    m("lfu-decay-time", "1", NONNEG32),
    m("active-expire-effort", "1", int(1, 10)),
    m("lazyfree-lazy-eviction", "no", BOOL),
    m("lazyfree-lazy-expire", "no", BOOL),
    m("lazyfree-lazy-server-del", "no", BOOL),
    m("lazyfree-lazy-user-del", "no", BOOL),
    m("lazyfree-lazy-user-flush", "no", BOOL),
    m("activerehashing", "yes", BOOL),
    m("activedefrag", "no", BOOL),
    m("active-defrag-ignore-bytes", "104857600", MEM),
    m("active-defrag-threshold-lower", "10", int(0, 1000)),
    m("active-defrag-threshold-upper", "100", int(0, 1000)),
    m("active-defrag-cycle-min", "1", int(1, 99)),
    m("active-defrag-cycle-max", "25", int(1, 99)),
    m("active-defrag-max-scan-fields", "1000", int(1, i64::MAX)),
    fixed("jemalloc-bg-thread", "yes", BOOL),
    m(
        "oom-score-adj",
        "no",
        Kind::Enum(&["no", "yes", "relative", "absolute"]),
    ),
    m(
        "oom-score-adj-values",
        "0 200 800",
        Kind::Custom {
            check: check_oom_values,
            words: true,
        },
    ),
    fixed("disable-thp", "yes", BOOL),
    // Encodings: values are not converted between compact and full encodings.
    m("hash-max-listpack-entries", "512", NONNEG),
    m("hash-max-listpack-value", "64", MEM),
    m("list-max-listpack-size", "-2", int(i32::MIN as i64, I32)),
    m("list-compress-depth", "0", NONNEG32),
    m("set-max-intset-entries", "512", NONNEG),
    m("set-max-listpack-entries", "128", NONNEG),
    m("set-max-listpack-value", "64", MEM),
    m("zset-max-listpack-entries", "128", NONNEG),
    m("zset-max-listpack-value", "64", MEM),
    m("hll-sparse-max-bytes", "3000", MEM),
    m("stream-node-max-bytes", "4096", MEM),
    m("stream-node-max-entries", "100", NONNEG),
    // Connections and clients.
    m("protected-mode", "yes", BOOL),
    m("timeout", "0", NONNEG32),
    m("tcp-keepalive", "300", NONNEG32),
    fixed("tcp-backlog", "511", NONNEG32),
    m(
        "client-output-buffer-limit",
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        Kind::Custom {
            check: check_output_buffer_limit,
            words: true,
        },
    ),
    m("tracking-table-max-keys", "1000000", NONNEG),
    m(
        "notify-keyspace-events",
        "",
        Kind::Custom {
            check: check_keyspace_events,
            words: false,
        },
    ),
    m("acllog-max-len", "128", NONNEG),
    fixed("aclfile", "", STR),
    m(
        "acl-pubsub-default",
        "resetchannels",
        Kind::Enum(&["allchannels", "resetchannels"]),
    ),
    fixed("io-threads", "1", int(1, 128)),
    fixed("io-threads-do-reads", "no", BOOL),
    m("busy-reply-threshold", "5000", NONNEG),
    m("latency-monitor-threshold", "0", NONNEG),
    m("latency-tracking", "yes", BOOL),
    m(
        "latency-tracking-info-percentiles",
        "50 99 99.9",
        Kind::Custom {
            check: check_percentiles,
            words: true,
        },
    ),
    m("dynamic-hz", "yes", BOOL),
    m("shutdown-timeout", "10", NONNEG32),
    m(
        "shutdown-on-sigint",
        "default",
        Kind::Enum(&["default", "save", "nosave", "now", "force"]),
    ),
    m(
        "shutdown-on-sigterm",
        "default",
        Kind::Enum(&["default", "save", "nosave", "now", "force"]),
    ),
    fixed(
        "enable-module-command",
        "no",
        Kind::Enum(&["no", "yes", "local"]),
    ),
    // Process and logging.
    fixed("pidfile", "", STR),
    fixed(
        "supervised",
        "no",
        Kind::Enum(&["upstart", "systemd", "auto", "no"]),
    ),
    fixed("always-show-logo", "no", BOOL),
    fixed("set-proc-title", "yes", BOOL),
    m(
        "proc-title-template",
        "{title} {listen-addr} {server-mode}",
        STR,
    ),
    fixed("syslog-enabled", "no", BOOL),
    fixed("syslog-ident", "redis", STR),
    fixed("syslog-facility", "local0", STR),
    m("crash-log-enabled", "yes", BOOL),
    m("crash-memcheck-enabled", "yes", BOOL),
    m("ignore-warnings", "", STR),
    // Replication: the server is always a master without replicas.
    m("masterauth", "", STR),
    m("masteruser", "", STR),
    m("replica-serve-stale-data", "yes", BOOL),
    m("replica-read-only", "yes", BOOL),
    m("replica-ignore-maxmemory", "yes", BOOL),
    m("replica-lazy-flush", "no", BOOL),
    m("replica-priority", "100", NONNEG32),
    m("replica-announced", "yes", BOOL),
    m("replica-announce-ip", "", STR),
    m("replica-announce-port", "0", PORT),
    m("min-replicas-to-write", "0", NONNEG32),
    m("min-replicas-max-lag", "10", NONNEG32),
    m("repl-ping-replica-period", "10", int(1, I32)),
    m("repl-timeout", "60", int(1, I32)),
    m("repl-backlog-size", "1048576", MEM),
    m("repl-backlog-ttl", "3600", NONNEG),
    m("repl-diskless-sync", "yes", BOOL),
    m("repl-diskless-sync-delay", "5", NONNEG32),
    m("repl-diskless-sync-max-replicas", "0", NONNEG32),
    m(
        "repl-diskless-load",
        "disabled",
        Kind::Enum(&["disabled", "on-empty-db", "swapdb"]),
    ),
    m("repl-disable-tcp-nodelay", "no", BOOL),
    // --- Features that do not exist: only the default is accepted ---
    fixed("daemonize", "no", Kind::Enum(&["no"])),
    fixed("replicaof", "", Kind::Enum(&[""])),
    fixed("cluster-enabled", "no", Kind::Enum(&["no"])),
    fixed("unixsocket", "", Kind::Enum(&[""])),
    fixed("unixsocketperm", "0", int(0, 0)),
    m("tls-port", "0", int(0, 0)),
];

/// Old names Redis still accepts, and CONFIG GET still lists, for the parameters above.
pub static ALIASES: &[(&str, &str)] = &[
    ("slaveof", "replicaof"),
    ("slave-serve-stale-data", "replica-serve-stale-data"),
    ("slave-read-only", "replica-read-only"),
    ("slave-ignore-maxmemory", "replica-ignore-maxmemory"),
    ("slave-lazy-flush", "replica-lazy-flush"),
    ("slave-priority", "replica-priority"),
    ("slave-announce-ip", "replica-announce-ip"),
    ("slave-announce-port", "replica-announce-port"),
    ("min-slaves-to-write", "min-replicas-to-write"),
    ("min-slaves-max-lag", "min-replicas-max-lag"),
    ("repl-ping-slave-period", "repl-ping-replica-period"),
    ("hash-max-ziplist-entries", "hash-max-listpack-entries"),
    ("hash-max-ziplist-value", "hash-max-listpack-value"),
    ("list-max-ziplist-size", "list-max-listpack-size"),
    ("zset-max-ziplist-entries", "zset-max-listpack-entries"),
    ("zset-max-ziplist-value", "zset-max-listpack-value"),
    ("lua-time-limit", "busy-reply-threshold"),
];

/// Why a configuration could not be applied. The texts are Redis's.
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
    #[error("argument must be a memory or percent value")]
    NotMemoryOrPercent,
    #[error("argument(s) must be one of the following: {0}")]
    NotInEnum(String),
    #[error("can't set immutable config")]
    Immutable,
    #[error("can't set protected config")]
    Protected,
    /// A message of a parameter with its own syntax.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    File(String),
}

fn invalid(text: &str) -> ConfigError {
    ConfigError::Invalid(text.to_string())
}

/// The live configuration.
pub struct Config {
    values: RwLock<HashMap<&'static str, String>>,
    /// Numeric view of every parameter (`yes` = 1), read lock-free on hot paths.
    numbers: Box<[AtomicI64]>,
    /// The config file the server was started with (absolute), for CONFIG REWRITE and INFO.
    file: Option<PathBuf>,
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
            file: None,
        }
    }
}

/// Parameter index by name, aliases included. foldhash, not SipHash: hot paths read
/// parameters (`get_int`) for every request.
static POSITIONS: LazyLock<foldhash::HashMap<&'static str, usize>> = LazyLock::new(|| {
    let mut map: foldhash::HashMap<&'static str, usize> = PARAMS
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name, i))
        .collect();
    for (alias, name) in ALIASES {
        if let Some(&i) = map.get(name) {
            map.insert(alias, i);
        }
    }
    map
});

fn position(name: &str) -> Option<usize> {
    POSITIONS
        .get(name)
        .copied()
        .or_else(|| POSITIONS.get(name.to_ascii_lowercase().as_str()).copied())
}

/// A numeric parameter whose name is resolved once, for values read on every request:
/// `static LIMIT: IntParam = IntParam::new("proto-max-bulk-len");` then `LIMIT.get(&config)`.
/// Reads what [`Config::get_int`] would, without hashing the name each time.
pub struct IntParam {
    name: &'static str,
    position: OnceLock<Option<usize>>,
}

impl IntParam {
    pub const fn new(name: &'static str) -> IntParam {
        IntParam {
            name,
            position: OnceLock::new(),
        }
    }

    pub fn get(&self, config: &Config) -> i64 {
        let position = *self.position.get_or_init(|| position(self.name));
        position.map_or(0, |i| config.numbers[i].load(Ordering::Relaxed))
    }
}

/// The parameter called `name` (or one of its aliases), case-insensitively.
pub fn find(name: &str) -> Option<&'static Param> {
    position(name).map(|i| &PARAMS[i])
}

/// The number a canonical value stands for: integers as such, `yes` as 1, anything else 0.
fn numeric(value: &str) -> i64 {
    if value == "yes" {
        return 1;
    }
    value.parse().unwrap_or(0)
}

/// Parses an integer as strictly as Redis (`string2ll`): no sign `+`, no spaces, no leading
/// zeros — exactly the texts that print back unchanged.
fn parse_strict(text: &str) -> Option<i64> {
    text.parse::<i64>().ok().filter(|n| n.to_string() == text)
}

/// Parses `512mb`-style sizes into bytes.
pub fn parse_memory(text: &str) -> Option<i64> {
    let lower = text.to_ascii_lowercase();
    let split = lower
        .find(|c: char| !c.is_ascii_digit())
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

/// Validates `value` for `param` (whose current value is `current`) and returns its
/// canonical text.
fn canonical(param: &Param, current: &str, value: &str) -> Result<String, ConfigError> {
    match param.kind {
        Kind::Int { min, max } => {
            let n = parse_strict(value).ok_or(ConfigError::NotInteger)?;
            if n < min || n > max {
                return Err(ConfigError::OutOfRange(min, max));
            }
            // Redis accepts any `hz` and clamps it to what the timer can do.
            let n = if param.name == "hz" {
                n.clamp(1, 500)
            } else {
                n
            };
            Ok(n.to_string())
        }
        Kind::Memory => parse_memory(value)
            .map(|n| n.to_string())
            .ok_or(ConfigError::NotMemory),
        Kind::MemoryOrPercent => match value.strip_suffix('%') {
            Some(pct) => parse_strict(pct)
                .filter(|n| *n >= 0)
                .map(|n| format!("{n}%"))
                .ok_or(ConfigError::NotMemoryOrPercent),
            None => parse_memory(value)
                .map(|n| n.to_string())
                .ok_or(ConfigError::NotMemoryOrPercent),
        },
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
        Kind::Custom { check, .. } => check(current, value),
    }
}

/// `save` rules: pairs of positive integers (seconds, changes), or nothing.
fn check_save(_current: &str, value: &str) -> Result<String, ConfigError> {
    let parts: Vec<&str> = value.split_whitespace().collect();
    if !parts.len().is_multiple_of(2) || parts.iter().any(|p| parse_strict(p).is_none_or(|n| n < 0))
    {
        return Err(invalid("Invalid save parameters"));
    }
    Ok(parts.join(" "))
}

fn check_bind(_current: &str, value: &str) -> Result<String, ConfigError> {
    let words: Vec<&str> = value.split_whitespace().collect();
    if words.is_empty() || words.len() > 16 {
        return Err(invalid("Too many bind addresses specified."));
    }
    Ok(words.join(" "))
}

/// `dir` is kept as an absolute path, as Redis shows it (it `chdir`s there).
fn check_dir(_current: &str, value: &str) -> Result<String, ConfigError> {
    let path = std::fs::canonicalize(value).map_err(|e| {
        ConfigError::Invalid(
            e.to_string()
                .split(" (os error")
                .next()
                .unwrap_or("")
                .into(),
        )
    })?;
    if !path.is_dir() {
        return Err(invalid("Not a directory"));
    }
    Ok(path.to_string_lossy().into_owned())
}

fn check_oom_values(_current: &str, value: &str) -> Result<String, ConfigError> {
    let parts: Vec<&str> = value.split_whitespace().collect();
    if parts.len() != 3 {
        return Err(invalid("wrong number of arguments"));
    }
    let mut out = Vec::new();
    for part in parts {
        match parse_strict(part) {
            Some(n) if (-2000..=2000).contains(&n) => out.push(n.to_string()),
            _ => {
                return Err(invalid(
                    "Invalid oom-score-adj-values, elements must be between -2000 and 2000.",
                ));
            }
        }
    }
    Ok(out.join(" "))
}

fn check_percentiles(_current: &str, value: &str) -> Result<String, ConfigError> {
    let mut out = Vec::new();
    for part in value.split_whitespace() {
        let n: f64 = part
            .parse()
            .map_err(|_| invalid("Invalid latency-tracking-info-percentiles parameters"))?;
        if !(0.0..=100.0).contains(&n) {
            return Err(invalid(
                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]",
            ));
        }
        out.push(n.to_string());
    }
    Ok(out.join(" "))
}

/// `client-output-buffer-limit`: groups of `class hard soft seconds`; classes not named keep
/// their current limits. Printed for all three classes, `replica` as `slave`.
fn check_output_buffer_limit(current: &str, value: &str) -> Result<String, ConfigError> {
    const CLASSES: [&str; 3] = ["normal", "slave", "pubsub"];
    let mut limits: Vec<Vec<String>> = current
        .split_whitespace()
        .collect::<Vec<_>>()
        .chunks(4)
        .map(|c| c[1..].iter().map(|s| s.to_string()).collect())
        .collect();
    let words: Vec<&str> = value.split_whitespace().collect();
    if words.is_empty() || !words.len().is_multiple_of(4) || limits.len() != CLASSES.len() {
        return Err(invalid(
            "Wrong number of arguments in buffer limit configuration.",
        ));
    }
    for group in words.chunks(4) {
        let class = match group[0].to_ascii_lowercase().as_str() {
            "normal" => 0,
            "slave" | "replica" => 1,
            "pubsub" => 2,
            _ => {
                return Err(invalid(
                    "Invalid client class specified in buffer limit configuration.",
                ));
            }
        };
        let hard = parse_memory(group[1]);
        let soft = parse_memory(group[2]);
        let seconds = parse_strict(group[3]).filter(|n| *n >= 0);
        let (Some(hard), Some(soft), Some(seconds)) = (hard, soft, seconds) else {
            return Err(invalid(
                "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
            ));
        };
        limits[class] = vec![hard.to_string(), soft.to_string(), seconds.to_string()];
    }
    Ok(CLASSES
        .iter()
        .zip(&limits)
        .map(|(class, l)| format!("{class} {}", l.join(" ")))
        .collect::<Vec<_>>()
        .join(" "))
}

/// Keyspace-notification classes, in the order Redis prints them; `A` stands for all of
/// `g$lshzxetd`.
const EVENT_CLASSES: &str = "g$lshzxetd";

fn check_keyspace_events(_current: &str, value: &str) -> Result<String, ConfigError> {
    let mut classes = String::new();
    let (mut keyspace, mut keyevent, mut miss, mut new) = (false, false, false, false);
    for c in value.chars() {
        match c {
            'A' => classes.push_str(EVENT_CLASSES),
            'K' => keyspace = true,
            'E' => keyevent = true,
            'm' => miss = true,
            'n' => new = true,
            c if EVENT_CLASSES.contains(c) => classes.push(c),
            _ => {
                return Err(invalid(
                    "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.",
                ));
            }
        }
    }
    let mut out = String::new();
    if EVENT_CLASSES.chars().all(|c| classes.contains(c)) {
        out.push('A');
    } else {
        out.extend(EVENT_CLASSES.chars().filter(|c| classes.contains(*c)));
    }
    if new {
        out.push('n');
    }
    if keyspace {
        out.push('K');
    }
    if keyevent {
        out.push('E');
    }
    if miss {
        out.push('m');
    }
    Ok(out)
}

impl Config {
    /// Builds a configuration from redis-server style arguments:
    /// `[path/to/redis.conf] [--name value ...] ...`.
    pub fn from_args(args: &[String]) -> Result<Config, String> {
        let mut config = Config::default();
        let mut rest = args;
        if let Some(first) = rest.first()
            && !first.starts_with("--")
        {
            let text = std::fs::read_to_string(first)
                .map_err(|e| format!("Fatal error, can't open config file '{first}': {e}"))?;
            config.load_text(&text)?;
            config.file = Some(std::fs::canonicalize(first).unwrap_or_else(|_| first.into()));
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
        // `dir` is shown as an absolute path even when left at its default.
        let dir = config.get("dir");
        if let Ok(absolute) = check_dir("", &dir) {
            config.force("dir", absolute);
        }
        Ok(config)
    }

    /// The config file given at start-up, if any.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
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
        let words_kind = matches!(param.kind, Kind::Custom { words: true, .. });
        // `--save` alone (or `save ""`) disables snapshots, as in redis-server.
        if values.is_empty() && param.name != "save" {
            return Err(ConfigError::UnknownDirective);
        }
        if values.len() > 1 && !words_kind {
            return Err(ConfigError::UnknownDirective);
        }
        let joined = values.join(" ");
        let mut map = self.values.write();
        let current = map[param.name].clone();
        // Repeated `save` lines accumulate, as in redis.conf.
        let value = match param.name {
            "save" if !joined.is_empty() && current != param.default => {
                format!("{current} {joined}")
            }
            _ => joined,
        };
        let value = canonical(param, &current, value.trim())?;
        self.store(param, &mut map, value);
        Ok(())
    }

    /// `CONFIG SET name value ...`: validates every pair first and applies them only if all
    /// are valid. On failure returns the offending pair's index with the reason.
    ///
    /// As in Redis, every name is looked up before any value is checked, so an unknown,
    /// immutable, protected or repeated name is reported (the first such) even when an
    /// earlier value is invalid. A name repeats only when spelled the same (ignoring case):
    /// Redis 7 keeps a parameter and its alias apart, so `hash-max-ziplist-entries 1
    /// hash-max-listpack-entries 2` sets the parameter twice, the last value winning.
    pub fn set_many(
        &self,
        pairs: &[(String, String)],
        allow_protected: bool,
    ) -> Result<(), (usize, ConfigError)> {
        let mut params: Vec<&'static Param> = Vec::with_capacity(pairs.len());
        for (i, (name, _)) in pairs.iter().enumerate() {
            let fail = |e: ConfigError| (i, e);
            let param = find(name).ok_or_else(|| fail(ConfigError::UnknownDirective))?;
            match param.access {
                Access::Immutable => return Err(fail(ConfigError::Immutable)),
                Access::Protected if !allow_protected => {
                    return Err(fail(ConfigError::Protected));
                }
                _ => {}
            }
            if pairs[..i]
                .iter()
                .any(|(earlier, _)| earlier.eq_ignore_ascii_case(name))
            {
                return Err(fail(invalid("duplicate parameter")));
            }
            params.push(param);
        }
        let mut map = self.values.write();
        let mut staged: Vec<(&'static Param, String)> = Vec::with_capacity(pairs.len());
        for (i, ((_, value), param)) in pairs.iter().zip(params).enumerate() {
            // A parameter set twice (through its alias) is checked against its staged value.
            let current = staged
                .iter()
                .rev()
                .find(|(p, _)| p.name == param.name)
                .map_or(map[param.name].as_str(), |(_, v)| v.as_str());
            let value = canonical(param, current, value).map_err(|e| (i, e))?;
            staged.push((param, value));
        }
        for (param, value) in staged {
            self.store(param, &mut map, value);
        }
        Ok(())
    }

    /// `CONFIG SET name value` for a single parameter.
    pub fn set(&self, name: &str, value: &str) -> Result<(), ConfigError> {
        self.set_many(&[(name.to_string(), value.to_string())], false)
            .map_err(|(_, e)| e)
    }

    fn store(&self, param: &'static Param, map: &mut HashMap<&'static str, String>, value: String) {
        if let Some(i) = position(param.name) {
            self.numbers[i].store(numeric(&value), Ordering::Relaxed);
        }
        map.insert(param.name, value);
    }

    /// Sets a value the server computed itself (no validation).
    fn force(&self, name: &str, value: String) {
        if let Some(param) = find(name) {
            self.store(param, &mut self.values.write(), value);
        }
    }

    /// Whether `name` is a known parameter.
    pub fn is_known(name: &str) -> bool {
        find(name).is_some()
    }

    /// `CONFIG GET pattern`: every (name, value) whose name or alias matches the glob,
    /// sorted by name.
    pub fn matching(&self, pattern: &str) -> Vec<(&'static str, String)> {
        let map = self.values.read();
        let names = PARAMS
            .iter()
            .map(|p| (p.name, p.name))
            .chain(ALIASES.iter().copied());
        let mut out: Vec<_> = names
            .filter(|(shown, _)| {
                crate::glob::glob_match(pattern.as_bytes(), shown.as_bytes(), true)
            })
            .map(|(shown, name)| (shown, map[name].clone()))
            .collect();
        out.sort_by_key(|(n, _)| *n);
        out
    }

    /// The canonical text of a parameter.
    pub fn get(&self, name: &str) -> String {
        let name = find(name).map_or(name, |p| p.name);
        self.values.read().get(name).cloned().unwrap_or_default()
    }

    /// A numeric parameter (integers, memory sizes in bytes, booleans as 0 / 1), lock-free.
    pub fn get_int(&self, name: &str) -> i64 {
        position(name).map_or(0, |i| self.numbers[i].load(Ordering::Relaxed))
    }

    pub fn get_bool(&self, name: &str) -> bool {
        self.get_int(name) == 1 && self.get(name) == "yes"
    }

    /// CONFIG REWRITE: rewrites the start-up config file so it holds the running
    /// configuration. Directives of known parameters are updated in place (their later
    /// repetitions dropped), comments and unknown lines are kept, and parameters that differ
    /// from their defaults but are not in the file are appended.
    pub fn rewrite(&self) -> Result<(), String> {
        let path = self
            .file
            .as_deref()
            .ok_or_else(|| "The server is running without a config file".to_string())?;
        let old = std::fs::read_to_string(path).unwrap_or_default();
        let text = self.rewritten(&old);
        let tmp = path.with_extension("rewrite.tmp");
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| format!("Rewriting config file: {e}"))
    }

    /// The new text of a config file whose current text is `old`.
    fn rewritten(&self, old: &str) -> String {
        let map = self.values.read();
        let mut written: Vec<&'static str> = Vec::new();
        let mut out = String::new();
        for raw in old.lines() {
            let trimmed = raw.trim();
            let name = split_args(trimmed.as_bytes())
                .and_then(|w| w.into_iter().next())
                .map(|w| String::from_utf8_lossy(&w).into_owned());
            let param = match name {
                Some(n) if !trimmed.starts_with('#') => find(&n),
                _ => None,
            };
            match param {
                None => {
                    out.push_str(raw);
                    out.push('\n');
                }
                Some(p) if written.contains(&p.name) => {}
                Some(p) => {
                    written.push(p.name);
                    out.push_str(&directive(p, &map[p.name]));
                }
            }
        }
        let missing: Vec<&Param> = PARAMS
            .iter()
            .filter(|p| !written.contains(&p.name) && map[p.name] != p.default)
            .collect();
        if !missing.is_empty() {
            out.push_str("# Generated by CONFIG REWRITE\n");
            for p in missing {
                out.push_str(&directive(p, &map[p.name]));
            }
        }
        out
    }
}

/// One config-file line for `param = value`.
fn directive(param: &Param, value: &str) -> String {
    let text = match param.kind {
        Kind::Custom { words: true, .. } if !value.is_empty() => value
            .split_whitespace()
            .map(quote)
            .collect::<Vec<_>>()
            .join(" "),
        _ => quote(value),
    };
    format!("{} {text}\n", param.name)
}

/// Quotes a word for a config file when it needs it (empty, spaces, quotes, control bytes).
fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\'' && b != b'\\');
    if plain {
        word.to_string()
    } else {
        format!("\"{}\"", repr(word.as_bytes()))
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
        assert!(Config::from_args(&args("--daemonize yes")).is_err());
        assert!(Config::from_args(&args("--port 1 2")).is_err());
        let c = Config::from_args(&args("--bind 127.0.0.1 -::1 --save 900 1 --save 60 5")).unwrap();
        assert_eq!(c.get("bind"), "127.0.0.1 -::1");
        assert_eq!(c.get("save"), "900 1 60 5");
        assert!(c.get("dir").starts_with('/'));
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
        c.load_text("hash-max-ziplist-entries 100\nslaveof \"\"\n")
            .unwrap();
        assert_eq!(c.get("hash-max-listpack-entries"), "100");
    }

    #[test]
    fn int_params_follow_config_set() {
        static HZ: IntParam = IntParam::new("hz");
        static UNKNOWN: IntParam = IntParam::new("no-such-parameter");
        let c = Config::default();
        assert_eq!(HZ.get(&c), 10);
        c.set("hz", "50").unwrap();
        assert_eq!(HZ.get(&c), 50);
        assert_eq!(HZ.get(&c), c.get_int("hz"));
        assert_eq!(UNKNOWN.get(&c), 0);
    }

    #[test]
    fn config_set_and_get() {
        let c = Config::default();
        c.set("maxmemory", "100mb").unwrap();
        assert_eq!(c.matching("maxmem*")[0].1, "104857600");
        assert_eq!(c.set("port", "1"), Err(ConfigError::Immutable));
        assert_eq!(c.set("dbfilename", "x"), Err(ConfigError::Protected));
        assert_eq!(c.set("appendonly", "maybe"), Err(ConfigError::NotBool));
        assert_eq!(c.set("hz", "05"), Err(ConfigError::NotInteger));
        assert_eq!(c.set("hz", "+5"), Err(ConfigError::NotInteger));
        c.set("hz", "100000").unwrap();
        assert_eq!(c.get("hz"), "500");
        assert_eq!(c.set("timeout", "-1"), Err(ConfigError::OutOfRange(0, I32)));
        assert_eq!(c.set("maxmemory", "1.5mb"), Err(ConfigError::NotMemory));
        c.set("maxmemory-clients", "10%").unwrap();
        assert_eq!(c.get("maxmemory-clients"), "10%");
        // Aliases read and write the same value.
        c.set("hash-max-ziplist-entries", "7").unwrap();
        assert_eq!(c.get("hash-max-listpack-entries"), "7");
        let both = c.matching("hash-max-*-entries");
        assert_eq!(both.len(), 2, "{both:?}");
    }

    #[test]
    fn set_many_is_atomic() {
        let c = Config::default();
        let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        let err = c
            .set_many(&pairs(&[("maxmemory", "1mb"), ("hz", "x")]), false)
            .unwrap_err();
        assert_eq!(err, (1, ConfigError::NotInteger));
        assert_eq!(c.get("maxmemory"), "0");
        // An alias is not a duplicate: both are set in order (Redis 7).
        c.set_many(
            &pairs(&[
                ("hash-max-ziplist-entries", "512"),
                ("hash-max-listpack-entries", "128"),
            ]),
            false,
        )
        .unwrap();
        assert_eq!(c.get_int("hash-max-listpack-entries"), 128);
        let err = c
            .set_many(&pairs(&[("hz", "x"), ("nosuch", "1")]), false)
            .unwrap_err();
        assert_eq!(err, (1, ConfigError::UnknownDirective));
        let err = c
            .set_many(&pairs(&[("hz", "1"), ("HZ", "2")]), false)
            .unwrap_err();
        assert_eq!(err, (1, invalid("duplicate parameter")));
        c.set_many(&pairs(&[("maxmemory", "1mb"), ("hz", "20")]), false)
            .unwrap();
        assert_eq!((c.get_int("maxmemory"), c.get_int("hz")), (1048576, 20));
        c.set_many(&pairs(&[("dbfilename", "x.rdb")]), true)
            .unwrap();
        assert_eq!(c.get("dbfilename"), "x.rdb");
    }

    #[test]
    fn special_syntaxes() {
        let c = Config::default();
        c.set("notify-keyspace-events", "KEA").unwrap();
        assert_eq!(c.get("notify-keyspace-events"), "AKE");
        c.set("notify-keyspace-events", "Kgx").unwrap();
        assert_eq!(c.get("notify-keyspace-events"), "gxK");
        assert!(c.set("notify-keyspace-events", "Q").is_err());
        c.set("client-output-buffer-limit", "replica 1mb 2mb 3")
            .unwrap();
        assert_eq!(
            c.get("client-output-buffer-limit"),
            "normal 0 0 0 slave 1048576 2097152 3 pubsub 33554432 8388608 60"
        );
        assert!(c.set("client-output-buffer-limit", "foo 1 2 3").is_err());
        assert!(c.set("oom-score-adj-values", "1 2").is_err());
        c.set("latency-tracking-info-percentiles", "50 99.9")
            .unwrap();
        assert_eq!(c.get("latency-tracking-info-percentiles"), "50 99.9");
        assert!(c.set("save", "1 2 3").is_err());
    }

    #[test]
    fn rewrite_keeps_comments_and_updates_values() {
        let c = Config::default();
        c.load_text("# my redis\nport 7000\nmaxmemory 1mb\nmaxmemory 2mb\n")
            .unwrap();
        c.set("maxmemory", "3mb").unwrap();
        c.set("requirepass", "a b").unwrap();
        let text = c.rewritten("# my redis\nport 7000\nmaxmemory 1mb\nmaxmemory 2mb\n");
        assert!(
            text.starts_with("# my redis\nport 7000\nmaxmemory 3145728\n"),
            "{text}"
        );
        assert!(text.contains("requirepass \"a b\"\n"), "{text}");
        assert_eq!(text.matches("maxmemory ").count(), 1, "{text}");
        let again = Config::default();
        again.load_text(&text).unwrap();
        assert_eq!(again.get("requirepass"), "a b");
        assert_eq!(again.get("maxmemory"), "3145728");
    }
}
