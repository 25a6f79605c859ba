//! The seeded random command generator. [`commands`] is the list of everything the
//! differential test sends, one row per command form with its weight and comparison rule —
//! read it to see what is covered.
//!
//! All commands draw keys, fields and values from small pools, so they collide: wrong types,
//! missing keys, existing targets, other databases. Time-dependent arguments are chosen so
//! that both servers must agree: TTLs are either long (far beyond the test's duration,
//! drawn from a wide range so two of them never tie), already past, or a few milliseconds
//! followed by a sleep that outlasts them.

use crate::ops::{Arg, Check, Op, argv};

/// Connections per server: 0 and 1 start in RESP2, 2 and 3 switch to RESP3 with HELLO 3.
pub const CONNECTIONS: usize = 4;
/// Databases the generator selects, moves and swaps between (others only in error cases).
pub const DATABASES: i64 = 4;

/// Keys string commands mostly use; hash commands mostly use [`HASH_KEYS`]. Each picks from
/// the other pool now and then (string commands, being more numerous, less often), so
/// wrong-type errors stay common without drowning the rest.
#[rustfmt::skip]
const KEYS: &[&[u8]] = &[
    b"k1", b"k2", b"k3", b"k4", b"key:b", b"bin\x00\xff", "ünï".as_bytes(),
];
const HASH_KEYS: &[&[u8]] = &[b"h1", b"h2", b"key:a", b"{t}x"];
#[rustfmt::skip]
const FIELDS: &[&[u8]] = &[
    b"f1",
    b"f2",
    b"f3",
    b"f4",
    b"f5",
    b"",
    b"fld\x00\xff",
    "ü".as_bytes(),
];
const VALUES: &[&str] = &[
    "",
    "v",
    "hello",
    "0",
    "1",
    "-1",
    "42",
    "10.5",
    "3.0",
    "1e3",
    " 7",
    "007",
    "+5",
    "0x1A",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "inf",
    "nan",
    "héllo wörld",
    "a b c",
    "12345678901234567890",
];
const INTS: &[&str] = &[
    "0",
    "1",
    "-1",
    "5",
    "100",
    "-100",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "abc",
    "",
    " 1",
    "1.5",
    "0x10",
    "+3",
    "007",
];
const FLOATS: &[&str] = &[
    "0",
    "1",
    "-1",
    "0.5",
    "-2.25",
    "1.5e3",
    "0.1",
    "3.3",
    "-0.7",
    "1e-5",
    "5.0e-1",
    "1e308",
    "-1e308",
    "inf",
    "-inf",
    "nan",
    "abc",
    "",
    " 1",
    "0x10",
    "1.7976931348623157e308",
];
const PATTERNS: &[&str] = &[
    "*", "k*", "k?", "key:*", "h[12]", "h[^1]", "*a*", "[k-l]*", "\\{t\\}*", "{t}*", "bin\x00*",
    "nomatch", "", "[", "k[", "*\\", "f*", "g1*", "?", "*:[ab]", "[!k]*",
];
/// Junk appended by arity mutation: never a small positive number, which could become a
/// TTL of a few seconds that expires during the run on one server only.
const JUNK: &[&str] = &[
    "junk",
    "-1",
    "0",
    "99999999999999999999",
    "nx",
    "k1",
    "\u{ff}",
];
/// Commands whose arity grew after Redis 7.0 (ZRANK / ZREVRANK WITHSCORE, 7.2).
const ARITY_GREW_SINCE_7_0: &[&str] = &["ZRANK", "ZREVRANK"];
/// Commands COMMAND INFO / DOCS / GETKEYS are asked about. CLIENT is left out: Redis 7.2+
/// added subcommands (SETINFO, NO-TOUCH) that the 7.0 oracle lacks.
const COMMAND_NAMES: &[&str] = &[
    "get",
    "set",
    "getex",
    "getdel",
    "getset",
    "setnx",
    "setex",
    "psetex",
    "mset",
    "msetnx",
    "mget",
    "append",
    "strlen",
    "getrange",
    "setrange",
    "incr",
    "incrby",
    "incrbyfloat",
    "decr",
    "decrby",
    "lcs",
    "hset",
    "hsetnx",
    "hget",
    "hmget",
    "hmset",
    "hgetall",
    "hdel",
    "hlen",
    "hexists",
    "hkeys",
    "hvals",
    "hincrby",
    "hincrbyfloat",
    "hstrlen",
    "hrandfield",
    "hscan",
    "del",
    "unlink",
    "exists",
    "type",
    "rename",
    "renamenx",
    "copy",
    "move",
    "keys",
    "scan",
    "randomkey",
    "touch",
    "object",
    "object|encoding",
    "dump",
    "restore",
    "expire",
    "pexpire",
    "expireat",
    "pexpireat",
    "ttl",
    "pttl",
    "expiretime",
    "pexpiretime",
    "persist",
    "select",
    "swapdb",
    "dbsize",
    "flushdb",
    "flushall",
    "info",
    "config",
    "config|get",
    "command",
    "time",
    "slowlog",
    "memory|usage",
    "ping",
    "echo",
    "auth",
    "hello",
    "reset",
    "nosuchcommand",
];
/// CONFIG SET targets: only parameters whose effect is deterministic (no positive slowlog
/// threshold, no maxmemory limit, no timeout that would drop idle test connections).
const CONFIG_SETTABLE: &[(&str, &[&str])] = &[
    (
        "hash-max-listpack-entries",
        &["0", "1", "4", "128", "512", "-1", "abc"],
    ),
    ("hash-max-listpack-value", &["0", "8", "64", "abc"]),
    ("hash-max-ziplist-entries", &["64", "512"]),
    ("slowlog-log-slower-than", &["0", "-1", "abc"]),
    ("slowlog-max-len", &["0", "3", "128", "-1"]),
    (
        "maxmemory-policy",
        &[
            "noeviction",
            "allkeys-lru",
            "allkeys-lfu",
            "volatile-lfu",
            "bogus",
        ],
    ),
    ("maxmemory", &["0", "abc"]),
    ("no-such-param", &["1"]),
];
/// Parameters the runner restores after a resync (keep-going mode).
pub const CONFIG_RESET: &[&str] = &[
    "notify-keyspace-events",
    "hash-max-listpack-entries",
    "hash-max-listpack-value",
    "slowlog-log-slower-than",
    "slowlog-max-len",
    "maxmemory-policy",
    "maxmemory",
    "stream-node-max-entries",
    "zset-max-listpack-entries",
    "zset-max-listpack-value",
];
const CONFIG_GETTABLE: &[&str] = &[
    "hash-max-listpack-entries",
    "hash-max-listpack-value",
    "hash-max-*",
    "slowlog-log-slower-than",
    "slowlog-max-len",
    "maxmemory",
    "maxmemory-policy",
    "databases",
    "save",
    "appendonly",
    "no-such-param",
    "hash-max-ziplist-entries",
    "SLOWLOG-MAX-LEN",
    "*listpack-entries",
];
const INFO_SECTIONS: &[&str] = &[
    "",
    "default",
    "all",
    "everything",
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "keyspace",
    "errorstats",
    "commandstats",
    "latencystats",
    "cluster",
    "bogus",
    "KEYSPACE",
    "server keyspace",
];

/// One row of the command list.
pub struct Entry {
    pub weight: u32,
    pub name: &'static str,
    pub make: Make,
}

pub enum Make {
    /// A single command compared by the given rule.
    Cmd(Check, fn(&mut Gen) -> Vec<Arg>),
    /// A composite step (scans, DUMP/RESTORE, commands that need a settled keyspace).
    Ops(fn(&mut Gen) -> Vec<Op>),
}

fn cmd(weight: u32, name: &'static str, check: Check, f: fn(&mut Gen) -> Vec<Arg>) -> Entry {
    Entry {
        weight,
        name,
        make: Make::Cmd(check, f),
    }
}

fn ops(weight: u32, name: &'static str, f: fn(&mut Gen) -> Vec<Op>) -> Entry {
    Entry {
        weight,
        name,
        make: Make::Ops(f),
    }
}

use Check::*;

// One file per command group added after the foundation, each with its own key pools and
// argument helpers (`impl Gen` blocks) and a `commands()` list.
#[path = "generator/bitmaps.rs"]
mod bitmaps;
#[path = "generator/hash_ttl.rs"]
mod hash_ttl;
#[path = "generator/hyperloglog.rs"]
mod hyperloglog;
#[path = "generator/lists.rs"]
mod lists;
#[path = "generator/pubsub.rs"]
mod pubsub;
#[path = "generator/scripting.rs"]
mod scripting;
#[path = "generator/sets.rs"]
mod sets;
#[path = "generator/sort.rs"]
mod sort;
#[path = "generator/streams.rs"]
mod streams;
#[path = "generator/transactions.rs"]
mod transactions;
#[path = "generator/zsets.rs"]
mod zsets;

/// Everything the differential test sends. Weights are relative frequencies.
pub fn commands() -> Vec<Entry> {
    let mut all = foundation();
    for group in [
        bitmaps::commands,
        hash_ttl::commands,
        hyperloglog::commands,
        lists::commands,
        pubsub::commands,
        scripting::commands,
        sets::commands,
        sort::commands,
        streams::commands,
        transactions::commands,
        zsets::commands,
    ] {
        all.extend(group());
    }
    all
}

/// Strings, hashes, keys, server and connection commands.
#[rustfmt::skip]
fn foundation() -> Vec<Entry> {
    vec![
        // ---- strings ----
        cmd(40, "GET", Exact, |g| argv!["GET", g.key()]),
        cmd(40, "SET", Exact, |g| { let mut a = argv!["SET", g.key(), g.value()]; a.extend(g.set_options()); a }),
        cmd(10, "GETEX", Exact, |g| { let mut a = argv!["GETEX", g.key()]; a.extend(g.getex_options()); a }),
        cmd(6, "GETDEL", Exact, |g| argv!["GETDEL", g.key()]),
        cmd(6, "GETSET", Exact, |g| argv!["GETSET", g.key(), g.value()]),
        cmd(6, "SETNX", Exact, |g| argv!["SETNX", g.key(), g.value()]),
        cmd(6, "SETEX", Exact, |g| argv!["SETEX", g.key(), g.ttl_secs_arg(), g.value()]),
        cmd(6, "PSETEX", Exact, |g| argv!["PSETEX", g.key(), g.ttl_ms_arg(), g.value()]),
        cmd(10, "MSET", Exact, |g| { let mut a = argv!["MSET"]; a.extend(g.pairs(|g| g.key(), 1, 3)); a }),
        cmd(6, "MSETNX", Exact, |g| { let mut a = argv!["MSETNX"]; a.extend(g.pairs(|g| g.key(), 1, 3)); a }),
        cmd(12, "MGET", Exact, |g| { let mut a = argv!["MGET"]; a.extend(g.keys(1, 4)); a }),
        cmd(12, "APPEND", Exact, |g| argv!["APPEND", g.key(), g.value()]),
        cmd(8, "STRLEN", Exact, |g| argv!["STRLEN", g.key()]),
        cmd(10, "GETRANGE", Exact, |g| argv!["GETRANGE", g.key(), g.offset(), g.offset()]),
        cmd(10, "SETRANGE", Exact, |g| argv!["SETRANGE", g.key(), g.setrange_offset(), g.value()]),
        cmd(12, "INCR", Exact, |g| argv!["INCR", g.key()]),
        cmd(8, "DECR", Exact, |g| argv!["DECR", g.key()]),
        cmd(10, "INCRBY", Exact, |g| argv!["INCRBY", g.key(), g.int()]),
        cmd(8, "DECRBY", Exact, |g| argv!["DECRBY", g.key(), g.int()]),
        cmd(10, "INCRBYFLOAT", Exact, |g| argv!["INCRBYFLOAT", g.key(), g.float()]),
        cmd(8, "LCS", Exact, |g| { let mut a = argv!["LCS", g.key(), g.key()]; a.extend(g.lcs_options()); a }),

        // ---- hashes ----
        cmd(40, "HSET", Exact, |g| { let mut a = argv!["HSET", g.hkey()]; a.extend(g.pairs(|g| g.field(), 1, 3)); a }),
        cmd(2, "HSET (listpack-busting size)", Exact, |g| g.big_hset()),
        cmd(6, "HSETNX", Exact, |g| argv!["HSETNX", g.hkey(), g.field(), g.value()]),
        cmd(25, "HGET", Exact, |g| argv!["HGET", g.hkey(), g.field()]),
        cmd(10, "HMGET", Exact, |g| { let mut a = argv!["HMGET", g.hkey()]; a.extend(g.fields(1, 4)); a }),
        cmd(6, "HMSET", Exact, |g| { let mut a = argv!["HMSET", g.hkey()]; a.extend(g.pairs(|g| g.field(), 1, 3)); a }),
        cmd(15, "HGETALL", HashOrder, |g| argv!["HGETALL", g.hkey()]),
        cmd(12, "HDEL", Exact, |g| { let mut a = argv!["HDEL", g.hkey()]; a.extend(g.fields(1, 3)); a }),
        cmd(8, "HLEN", Exact, |g| argv!["HLEN", g.hkey()]),
        cmd(8, "HEXISTS", Exact, |g| argv!["HEXISTS", g.hkey(), g.field()]),
        cmd(8, "HKEYS", HashOrder, |g| argv!["HKEYS", g.hkey()]),
        cmd(8, "HVALS", HashOrder, |g| argv!["HVALS", g.hkey()]),
        cmd(10, "HINCRBY", Exact, |g| argv!["HINCRBY", g.hkey(), g.field(), g.int()]),
        cmd(8, "HINCRBYFLOAT", Exact, |g| argv!["HINCRBYFLOAT", g.hkey(), g.field(), g.float()]),
        cmd(6, "HSTRLEN", Exact, |g| argv!["HSTRLEN", g.hkey(), g.field()]),
        cmd(10, "HRANDFIELD", HRandField, |g| g.hrandfield()),
        ops(8, "HSCAN", |g| g.hscan()),

        // ---- keys and expiry ----
        cmd(10, "DEL", Exact, |g| { let mut a = argv!["DEL"]; a.extend(g.keys(1, 3)); a }),
        cmd(5, "UNLINK", Exact, |g| { let mut a = argv!["UNLINK"]; a.extend(g.keys(1, 3)); a }),
        cmd(10, "EXISTS", Exact, |g| { let mut a = argv!["EXISTS"]; a.extend(g.keys(1, 3)); a }),
        cmd(10, "TYPE", Exact, |g| argv!["TYPE", g.any_key()]),
        cmd(6, "RENAME", Exact, |g| argv!["RENAME", g.any_key(), g.any_key()]),
        cmd(5, "RENAMENX", Exact, |g| argv!["RENAMENX", g.any_key(), g.any_key()]),
        cmd(6, "COPY", Exact, |g| { let mut a = argv!["COPY", g.any_key(), g.any_key()]; a.extend(g.copy_options()); a }),
        cmd(5, "MOVE", Exact, |g| argv!["MOVE", g.any_key(), g.db_arg()]),
        cmd(6, "KEYS", Unordered, |g| argv!["KEYS", g.pattern()]),
        ops(6, "SCAN", |g| g.scan()),
        cmd(5, "RANDOMKEY", RandomKey, |_| argv!["RANDOMKEY"]),
        cmd(5, "TOUCH", Exact, |g| { let mut a = argv!["TOUCH"]; a.extend(g.keys(1, 3)); a }),
        cmd(6, "OBJECT ENCODING", Exact, |g| argv!["OBJECT", "ENCODING", g.any_key()]),
        cmd(3, "OBJECT REFCOUNT", Exact, |g| argv!["OBJECT", "REFCOUNT", g.any_key()]),
        cmd(3, "OBJECT IDLETIME", Near(2), |g| argv!["OBJECT", "IDLETIME", g.any_key()]),
        cmd(2, "OBJECT FREQ", AnyInt, |g| argv!["OBJECT", "FREQ", g.any_key()]),
        cmd(1, "OBJECT HELP", Help, |_| argv!["OBJECT", "HELP"]),
        cmd(1, "OBJECT <bad subcommand>", Exact, |g| argv!["OBJECT", g.pick(&["bogus", "encodings", ""]), g.any_key()]),
        ops(5, "DUMP + RESTORE", |g| g.dump_restore()),
        cmd(10, "EXPIRE", Exact, |g| { let mut a = argv!["EXPIRE", g.any_key(), g.ttl_secs_arg()]; a.extend(g.expire_options()); a }),
        cmd(8, "PEXPIRE", Exact, |g| { let mut a = argv!["PEXPIRE", g.any_key(), g.ttl_ms_arg()]; a.extend(g.expire_options()); a }),
        cmd(5, "EXPIREAT", Exact, |g| { let mut a = argv!["EXPIREAT", g.any_key(), g.unix_secs_arg()]; a.extend(g.expire_options()); a }),
        cmd(5, "PEXPIREAT", Exact, |g| { let mut a = argv!["PEXPIREAT", g.any_key(), g.unix_ms_arg()]; a.extend(g.expire_options()); a }),
        cmd(10, "TTL", Near(1), |g| argv!["TTL", g.any_key()]),
        cmd(8, "PTTL", Near(500), |g| argv!["PTTL", g.any_key()]),
        cmd(5, "EXPIRETIME", Near(1), |g| argv!["EXPIRETIME", g.any_key()]),
        cmd(5, "PEXPIRETIME", Near(500), |g| argv!["PEXPIRETIME", g.any_key()]),
        cmd(6, "PERSIST", Exact, |g| argv!["PERSIST", g.any_key()]),

        // ---- server ----
        cmd(12, "SELECT", Exact, |g| argv!["SELECT", g.db_arg()]),
        cmd(2, "SWAPDB", Exact, |g| argv!["SWAPDB", g.db_arg(), g.db_arg()]),
        ops(4, "DBSIZE", |g| vec![Op::Settle, g.op(argv!["DBSIZE"], Exact)]),
        cmd(1, "FLUSHDB", Exact, |g| { let mut a = argv!["FLUSHDB"]; a.extend(g.flush_option()); a }),
        cmd(1, "FLUSHALL", Exact, |g| { let mut a = argv!["FLUSHALL"]; a.extend(g.flush_option()); a }),
        ops(3, "INFO", |g| { let a = g.info_args(); vec![Op::Settle, g.op(a, Info)] }),
        cmd(4, "CONFIG GET", ConfigGet, |g| { let mut a = argv!["CONFIG", "GET"]; a.extend(g.some(CONFIG_GETTABLE, 1, 3)); a }),
        cmd(4, "CONFIG SET", Exact, |g| g.config_set()),
        cmd(1, "CONFIG RESETSTAT", Exact, |_| argv!["CONFIG", "RESETSTAT"]),
        cmd(1, "CONFIG REWRITE", Exact, |_| argv!["CONFIG", "REWRITE"]),
        cmd(1, "CONFIG HELP", Help, |_| argv!["CONFIG", "HELP"]),
        cmd(1, "CONFIG <bad subcommand>", Exact, |_| argv!["CONFIG", "bogus"]),
        cmd(3, "COMMAND INFO", CommandInfo, |g| { let mut a = argv!["COMMAND", "INFO"]; a.extend(g.some(COMMAND_NAMES, 1, 3)); a }),
        cmd(1, "COMMAND COUNT", AnyInt, |_| argv!["COMMAND", "COUNT"]),
        cmd(1, "COMMAND DOCS", CommandDocs, |g| { let mut a = argv!["COMMAND", "DOCS"]; a.extend(g.some(COMMAND_NAMES, 1, 3)); a }),
        cmd(3, "COMMAND GETKEYS", Exact, |g| g.command_getkeys("GETKEYS")),
        cmd(1, "COMMAND GETKEYSANDFLAGS", Exact, |g| g.command_getkeys("GETKEYSANDFLAGS")),
        cmd(1, "COMMAND HELP", Help, |_| argv!["COMMAND", "HELP"]),
        cmd(2, "TIME", Time, |_| argv!["TIME"]),
        cmd(2, "SLOWLOG GET", Slowlog, |g| { let mut a = argv!["SLOWLOG", "GET"]; if g.chance(70) { a.push(g.pick(&["0", "1", "5", "-1", "-2", "abc"]).into()); } a }),
        cmd(2, "SLOWLOG LEN", SlowlogLen, |_| argv!["SLOWLOG", "LEN"]),
        cmd(1, "SLOWLOG RESET", Exact, |_| argv!["SLOWLOG", "RESET"]),
        cmd(1, "SLOWLOG HELP", Help, |_| argv!["SLOWLOG", "HELP"]),
        // MEMORY USAGE does not expire keys: Redis reports logically expired ones until reaped.
        ops(4, "MEMORY USAGE", |g| { let mut a = argv!["MEMORY", "USAGE", g.any_key()]; if g.chance(30) { a.extend(argv!["SAMPLES", g.pick(&["0", "5", "-1", "abc"])]); } vec![Op::Settle, g.op(a, NilOrInt)] }),
        cmd(1, "MEMORY HELP", Help, |_| argv!["MEMORY", "HELP"]),

        // ---- connection ----
        cmd(4, "PING", Exact, |g| if g.chance(50) { argv!["PING"] } else { argv!["PING", g.value()] }),
        cmd(3, "ECHO", Exact, |g| argv!["ECHO", g.value()]),
        cmd(2, "CLIENT ID", AnyInt, |_| argv!["CLIENT", "ID"]),
        cmd(2, "CLIENT SETNAME", Exact, |g| argv!["CLIENT", "SETNAME", g.pick(&["app", "worker-1", "", "bad name", "new\nline"])]),
        cmd(2, "CLIENT GETNAME", Exact, |_| argv!["CLIENT", "GETNAME"]),
        cmd(2, "CLIENT INFO", ClientList, |_| argv!["CLIENT", "INFO"]),
        cmd(2, "CLIENT LIST", ClientList, |g| g.client_list()),
        cmd(1, "CLIENT KILL (no match / bad filter)", Exact, |g| g.client_kill()),
        cmd(1, "CLIENT PAUSE (bad arguments)", Exact, |g| g.client_pause_error()),
        cmd(1, "CLIENT PAUSE (a few ms, then a sleep)", Exact, |g| g.client_pause()),
        cmd(1, "CLIENT UNPAUSE", Exact, |_| argv!["CLIENT", "UNPAUSE"]),
        cmd(1, "CLIENT NO-EVICT", Exact, |g| argv!["CLIENT", "NO-EVICT", g.pick(&["on", "off", "OFF", "maybe"])]),
        // CLIENT TRACKING, CACHING, GETREDIR and TRACKINGINFO are left out: client-side
        // caching is not built, so the server answers them with the unknown-subcommand error
        // until it is (their replies must not be faked).

        cmd(1, "CLIENT HELP", Help, |_| argv!["CLIENT", "HELP"]),
        cmd(1, "CLIENT <bad subcommand>", Exact, |_| argv!["CLIENT", "bogus"]),
        cmd(2, "AUTH (no password set)", Exact, |g| if g.chance(50) { argv!["AUTH", "pw"] } else { argv!["AUTH", g.pick(&["default", "bob"]), "pw"] }),
        cmd(3, "HELLO", Hello, |g| g.hello()),
        ops(1, "RESET (then CLIENT NO-EVICT off)", |g| g.reset()),
        cmd(1, "<unknown command>", Exact, |g| argv![g.pick(&["GETT", "HSETT", "FOO"]), g.key(), g.value()]),
    ]
}

/// Small deterministic PRNG (SplitMix64): the same seed gives the same commands on every
/// platform and with any version of the `rand` crate.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % ((hi - lo) as u64 + 1)) as i64
    }
}

/// The generator's state: the PRNG, the command list, and the sleep the current step needs.
pub struct Gen {
    rng: Rng,
    entries: Vec<Entry>,
    total_weight: u32,
    sleep_ms: u64,
}

impl Gen {
    pub fn new(seed: u64) -> Gen {
        let entries = commands();
        let total_weight = entries.iter().map(|e| e.weight).sum();
        Gen {
            rng: Rng::new(seed),
            entries,
            total_weight,
            sleep_ms: 0,
        }
    }

    /// The next step: one entry's operations, sometimes with the first command's name case
    /// changed or its arity broken, followed by a sleep if it set a short TTL.
    pub fn step(&mut self) -> Vec<Op> {
        let mut pick = self.rng.range(0, self.total_weight as i64 - 1) as u32;
        let index = self
            .entries
            .iter()
            .position(|e| {
                if pick < e.weight {
                    return true;
                }
                pick -= e.weight;
                false
            })
            .expect("weights add up");
        self.sleep_ms = 0;
        let mut ops = match self.entries[index].make {
            Make::Cmd(check, make) => {
                let argv = make(self);
                vec![self.op(argv, check)]
            }
            Make::Ops(make) => make(self),
        };
        // Only the step's own command: later ones are follow-ups that must run as written.
        if let Some(Op::Cmd { argv, .. }) = ops.iter_mut().find(|op| matches!(op, Op::Cmd { .. })) {
            self.mutate(argv);
        }
        if self.sleep_ms > 0 {
            ops.push(Op::Sleep(self.sleep_ms));
        }
        ops
    }

    /// A command on a random connection.
    pub fn op(&mut self, argv: Vec<Arg>, check: Check) -> Op {
        Op::Cmd {
            conn: self.conn(),
            argv,
            check,
        }
    }

    fn conn(&mut self) -> usize {
        self.rng.range(0, CONNECTIONS as i64 - 1) as usize
    }

    /// Now and then: mixed-case command name, a dropped last argument or an extra one.
    fn mutate(&mut self, argv: &mut Vec<Arg>) {
        if self.chance(15)
            && let Arg::Lit(name) = &mut argv[0]
        {
            for b in name.iter_mut() {
                if self.chance(50) {
                    *b = b.to_ascii_lowercase();
                }
            }
        }
        // A bare COMMAND (or COMMAND INFO / DOCS without names) lists every command the
        // server has, which can never match between Redis versions.
        let is_command = matches!(&argv[0], Arg::Lit(n) if n.eq_ignore_ascii_case(b"COMMAND"));
        // Commands that take more arguments since 7.0 (ZRANK ... WITHSCORE) answer an extra
        // one differently from the oracle: they only lose one.
        let grew = matches!(&argv[0], Arg::Lit(n) if ARITY_GREW_SINCE_7_0.iter().any(|c| n.eq_ignore_ascii_case(c.as_bytes())));
        if self.chance(3) {
            if argv.len() > 1 && !is_command && (grew || self.chance(50)) {
                argv.pop();
            } else {
                argv.push(self.pick(JUNK).into());
            }
        }
    }

    pub fn chance(&mut self, percent: i64) -> bool {
        self.rng.range(0, 99) < percent
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.rng.range(0, items.len() as i64 - 1) as usize]
    }

    fn pick_bytes(&mut self, items: &[&[u8]]) -> Vec<u8> {
        items[self.rng.range(0, items.len() as i64 - 1) as usize].to_vec()
    }

    /// Between `lo` and `hi` distinct-or-not picks from `items`.
    fn some(&mut self, items: &[&str], lo: i64, hi: i64) -> Vec<Arg> {
        (0..self.rng.range(lo, hi))
            .map(|_| self.pick(items).into())
            .collect()
    }

    /// A keyword in random letter case (Redis options are case-insensitive).
    fn kw(&mut self, word: &str) -> Arg {
        match self.rng.range(0, 3) {
            0 => word.to_ascii_lowercase().into(),
            1 => word
                .chars()
                .enumerate()
                .map(|(i, c)| {
                    if i % 2 == 0 {
                        c
                    } else {
                        c.to_ascii_lowercase()
                    }
                })
                .collect::<String>()
                .into(),
            _ => word.into(),
        }
    }

    /// A key, usually a string command's.
    pub fn key(&mut self) -> Arg {
        let pool = if self.chance(95) { KEYS } else { HASH_KEYS };
        self.pick_bytes(pool).into()
    }

    /// A key, usually a hash command's.
    pub fn hkey(&mut self) -> Arg {
        let pool = if self.chance(85) { HASH_KEYS } else { KEYS };
        self.pick_bytes(pool).into()
    }

    /// Any key: keyspace commands treat all types alike.
    pub fn any_key(&mut self) -> Arg {
        let pool = if self.chance(60) { KEYS } else { HASH_KEYS };
        self.pick_bytes(pool).into()
    }

    fn keys(&mut self, lo: i64, hi: i64) -> Vec<Arg> {
        (0..self.rng.range(lo, hi))
            .map(|_| self.any_key())
            .collect()
    }

    /// Mostly the small field pool; sometimes one of the many `g<n>` fields that big hashes
    /// hold.
    fn field(&mut self) -> Arg {
        if self.chance(15) {
            format!("g{}", self.rng.range(0, 600)).into()
        } else {
            self.pick_bytes(FIELDS).into()
        }
    }

    fn fields(&mut self, lo: i64, hi: i64) -> Vec<Arg> {
        (0..self.rng.range(lo, hi)).map(|_| self.field()).collect()
    }

    /// Numbers, text, binary, and lengths around Redis's encoding limits (44-byte embstr,
    /// 64-byte listpack values).
    pub fn value(&mut self) -> Arg {
        match self.rng.range(0, 19) {
            0 => (0..self.rng.range(1, 12))
                .map(|_| self.rng.next_u64() as u8)
                .collect::<Vec<u8>>()
                .into(),
            1 => "x"
                .repeat(
                    *[44, 45, 64, 65, 200]
                        .get(self.rng.range(0, 4) as usize)
                        .unwrap_or(&44),
                )
                .into(),
            2 => self.rng.range(-1000, 100_000).to_string().into(),
            _ => self.pick(VALUES).into(),
        }
    }

    /// `count` key-value (or field-value) pairs; sometimes an odd argument count.
    fn pairs(&mut self, name: fn(&mut Gen) -> Arg, lo: i64, hi: i64) -> Vec<Arg> {
        let mut out = Vec::new();
        for _ in 0..self.rng.range(lo, hi) {
            out.push(name(self));
            out.push(self.value());
        }
        if self.chance(4) {
            out.pop();
        }
        out
    }

    fn int(&mut self) -> Arg {
        if self.chance(40) {
            self.rng.range(-50, 50).into()
        } else {
            self.pick(INTS).into()
        }
    }

    fn float(&mut self) -> Arg {
        self.pick(FLOATS).into()
    }

    /// GETRANGE offsets: small, negative, or far out of range.
    fn offset(&mut self) -> Arg {
        match self.rng.range(0, 9) {
            0 => self
                .pick(&[
                    "9223372036854775807",
                    "-9223372036854775808",
                    "abc",
                    "1000000",
                ])
                .into(),
            1..=3 => self.rng.range(-20, -1).into(),
            _ => self.rng.range(0, 20).into(),
        }
    }

    /// SETRANGE offsets stay small (memory) or so large Redis refuses them without
    /// allocating: 536870912 + a non-empty value exceeds proto-max-bulk-len.
    fn setrange_offset(&mut self) -> Arg {
        match self.rng.range(0, 9) {
            0 => self
                .pick(&["536870912", "9223372036854775807", "-1", "abc", "1.5"])
                .into(),
            _ => self.rng.range(0, 200).into(),
        }
    }

    fn db_arg(&mut self) -> Arg {
        if self.chance(90) {
            self.rng.range(0, DATABASES - 1).into()
        } else {
            self.pick(&["16", "-1", "abc", "9223372036854775808"])
                .into()
        }
    }

    /// A long TTL in seconds (never expires during a run; wide range so no two tie).
    fn long_secs(&mut self) -> i64 {
        self.rng.range(1_000, 10_000_000)
    }

    fn long_ms(&mut self) -> i64 {
        self.rng.range(1_000_000, 10_000_000_000)
    }

    /// A TTL of a few milliseconds; the step then sleeps until it has passed.
    fn short_ms(&mut self) -> i64 {
        let ms = self.rng.range(1, 20);
        self.sleep_ms = self.sleep_ms.max(ms as u64 + 40);
        ms
    }

    /// Seconds for EX / SETEX / EXPIRE: long, zero, negative, overflowing or not a number.
    fn ttl_secs_arg(&mut self) -> Arg {
        match self.rng.range(0, 19) {
            0..=13 => self.long_secs().into(),
            14 => "0".into(),
            15 => self.rng.range(-100, -1).into(),
            16 => self
                .pick(&[
                    "9223372036854775807",
                    "9223372036854775",
                    "-9223372036854775808",
                ])
                .into(),
            _ => self.pick(&["abc", "1.5", ""]).into(),
        }
    }

    /// Milliseconds for PX / PSETEX / PEXPIRE, including a few that expire right away.
    fn ttl_ms_arg(&mut self) -> Arg {
        match self.rng.range(0, 19) {
            0..=10 => self.long_ms().into(),
            11..=13 => self.short_ms().into(),
            14 => "0".into(),
            15 => self.rng.range(-100, -1).into(),
            16 => self
                .pick(&["9223372036854775807", "-9223372036854775808"])
                .into(),
            _ => self.pick(&["abc", "1.5", ""]).into(),
        }
    }

    /// Absolute seconds for EXAT / EXPIREAT: future, past, zero, overflowing.
    fn unix_secs_arg(&mut self) -> Arg {
        match self.rng.range(0, 9) {
            0..=5 => Arg::UnixSecs(self.long_secs()),
            6 => Arg::UnixSecs(-self.rng.range(1, 100_000)),
            7 => "0".into(),
            8 => self.pick(&["9223372036854775807", "-1"]).into(),
            _ => "abc".into(),
        }
    }

    /// Absolute milliseconds for PXAT / PEXPIREAT: future, a few ms ahead, past, invalid.
    fn unix_ms_arg(&mut self) -> Arg {
        match self.rng.range(0, 9) {
            0..=4 => Arg::UnixMs(self.long_ms()),
            5 => Arg::UnixMs(self.short_ms()),
            6 => Arg::UnixMs(-self.rng.range(1, 100_000_000)),
            7 => "0".into(),
            8 => self.pick(&["9223372036854775807", "-1"]).into(),
            _ => "abc".into(),
        }
    }

    /// SET options in random order: NX/XX, GET, one expiry (or a conflicting pair).
    fn set_options(&mut self) -> Vec<Arg> {
        let mut opts: Vec<Vec<Arg>> = Vec::new();
        match self.rng.range(0, 9) {
            0 => opts.push(vec![self.kw("NX")]),
            1 => opts.push(vec![self.kw("XX")]),
            2 if self.chance(20) => opts.push(vec![self.kw("NX"), self.kw("XX")]),
            _ => {}
        }
        if self.chance(20) {
            opts.push(vec![self.kw("GET")]);
        }
        let expiries = self.rng.range(0, 12);
        for _ in 0..if self.chance(5) { 2 } else { 1 } {
            match expiries {
                0 => opts.push(vec![self.kw("EX"), self.ttl_secs_arg()]),
                1 => opts.push(vec![self.kw("PX"), self.ttl_ms_arg()]),
                2 => opts.push(vec![self.kw("EXAT"), self.unix_secs_arg()]),
                3 => opts.push(vec![self.kw("PXAT"), self.unix_ms_arg()]),
                4 => opts.push(vec![self.kw("KEEPTTL")]),
                5 if self.chance(10) => opts.push(vec![self.kw("BOGUS")]),
                _ => {}
            }
        }
        self.shuffle(&mut opts);
        opts.concat()
    }

    fn getex_options(&mut self) -> Vec<Arg> {
        let mut out = match self.rng.range(0, 7) {
            0 => vec![self.kw("EX"), self.ttl_secs_arg()],
            1 => vec![self.kw("PX"), self.ttl_ms_arg()],
            2 => vec![self.kw("EXAT"), self.unix_secs_arg()],
            3 => vec![self.kw("PXAT"), self.unix_ms_arg()],
            4 => vec![self.kw("PERSIST")],
            5 => vec![self.kw("KEEPTTL")],
            _ => vec![],
        };
        if self.chance(5) {
            out.push(self.kw("PERSIST"));
        }
        out
    }

    /// NX / XX / GT / LT, sometimes an incompatible pair or an unknown word.
    fn expire_options(&mut self) -> Vec<Arg> {
        match self.rng.range(0, 14) {
            0 => vec![self.kw("NX")],
            1 => vec![self.kw("XX")],
            2 => vec![self.kw("GT")],
            3 => vec![self.kw("LT")],
            4 => vec![self.kw("XX"), self.kw("GT")],
            5 => vec![self.kw("NX"), self.kw("XX")],
            6 => vec![self.kw("GT"), self.kw("LT")],
            7 => vec![self.kw("NX"), self.kw("LT")],
            8 => vec![self.kw("FOO")],
            _ => vec![],
        }
    }

    fn lcs_options(&mut self) -> Vec<Arg> {
        let mut out = Vec::new();
        if self.chance(30) {
            out.push(self.kw("LEN"));
        }
        if self.chance(40) {
            out.push(self.kw("IDX"));
        }
        if self.chance(25) {
            out.push(self.kw("MINMATCHLEN"));
            out.push(self.pick(&["0", "1", "2", "4", "-1", "abc"]).into());
        }
        if self.chance(25) {
            out.push(self.kw("WITHMATCHLEN"));
        }
        if self.chance(3) {
            out.push(self.kw("BOGUS"));
        }
        out
    }

    fn copy_options(&mut self) -> Vec<Arg> {
        let mut out = Vec::new();
        if self.chance(40) {
            out.push(self.kw("DB"));
            out.push(self.db_arg());
        }
        if self.chance(40) {
            out.push(self.kw("REPLACE"));
        }
        out
    }

    fn flush_option(&mut self) -> Vec<Arg> {
        match self.rng.range(0, 5) {
            0 => vec![self.kw("ASYNC")],
            1 => vec![self.kw("SYNC")],
            2 if self.chance(30) => vec![self.kw("BOGUS")],
            _ => vec![],
        }
    }

    fn pattern(&mut self) -> Arg {
        self.pick(PATTERNS).into()
    }

    /// An HSET with more fields than the listpack limit, or with a value longer than it.
    fn big_hset(&mut self) -> Vec<Arg> {
        let mut a = argv!["HSET", self.hkey()];
        let n = self.rng.range(513, 600);
        for i in 0..n {
            a.push(format!("g{i}").into());
            a.push(format!("{}", i * 7).into());
        }
        a
    }

    fn hrandfield(&mut self) -> Vec<Arg> {
        let mut a = argv!["HRANDFIELD", self.hkey()];
        if self.chance(75) {
            let count: Arg = match self.rng.range(0, 9) {
                0 => self
                    .pick(&["-9223372036854775808", "9223372036854775807", "abc", "0"])
                    .into(),
                1..=3 => self.rng.range(-10, -1).into(),
                _ => self.rng.range(1, 10).into(),
            };
            a.push(count);
            if self.chance(50) {
                a.push(self.kw("WITHVALUES"));
            }
        }
        a
    }

    /// A cursor to start from: 0, or one that must be refused.
    fn start_cursor(&mut self) -> Arg {
        if self.chance(95) {
            "0".into()
        } else {
            self.pick(&["abc", "1.5", "", "18446744073709551616"])
                .into()
        }
    }

    fn scan_options(&mut self, with_type: bool) -> Vec<Arg> {
        let mut opts: Vec<Vec<Arg>> = Vec::new();
        if self.chance(50) {
            opts.push(vec![self.kw("MATCH"), self.pattern()]);
        }
        if self.chance(50) {
            let count = if self.chance(90) {
                self.rng.range(1, 20).into()
            } else {
                self.pick(&["0", "-1", "abc"]).into()
            };
            opts.push(vec![self.kw("COUNT"), count]);
        }
        if with_type && self.chance(30) {
            opts.push(vec![
                self.kw("TYPE"),
                // No "none": Redis 7.0 then returns logically expired keys it has not
                // reaped yet, which depends on its active-expiry timing.
                self.pick(&["string", "hash", "list", "bogus", "STRING"])
                    .into(),
            ]);
        }
        if self.chance(3) {
            opts.push(vec![self.kw("BOGUS")]);
        }
        self.shuffle(&mut opts);
        opts.concat()
    }

    fn scan(&mut self) -> Vec<Op> {
        let mut argv = argv!["SCAN", self.start_cursor()];
        argv.extend(self.scan_options(true));
        vec![Op::Scan {
            conn: self.conn(),
            argv,
            cursor_at: 1,
        }]
    }

    fn hscan(&mut self) -> Vec<Op> {
        let mut argv = argv!["HSCAN", self.hkey(), self.start_cursor()];
        argv.extend(self.scan_options(false));
        vec![Op::Scan {
            conn: self.conn(),
            argv,
            cursor_at: 2,
        }]
    }

    fn dump_restore(&mut self) -> Vec<Op> {
        let ttl: Arg = match self.rng.range(0, 9) {
            0..=4 => "0".into(),
            5 | 6 => self.long_ms().into(),
            7 => "-5".into(),
            _ => "abc".into(),
        };
        let mut opts = Vec::new();
        if self.chance(50) {
            opts.push(self.kw("REPLACE"));
        }
        if self.chance(10) {
            opts.push(self.kw("ABSTTL"));
        }
        if self.chance(15) {
            opts.push(self.kw("IDLETIME"));
            opts.push(self.pick(&["1000", "0", "-1", "abc"]).into());
        }
        if self.chance(8) {
            opts.push(self.kw("FREQ"));
            opts.push(self.pick(&["5", "300", "-1"]).into());
        }
        let src = self.any_key();
        let dst = self.any_key();
        let corrupt = self.chance(8);
        vec![Op::DumpRestore {
            conn: self.conn(),
            src,
            dst,
            ttl,
            opts,
            corrupt,
        }]
    }

    fn info_args(&mut self) -> Vec<Arg> {
        let mut a = argv!["INFO"];
        let section = self.pick(INFO_SECTIONS);
        a.extend(section.split_whitespace().map(Arg::from));
        a
    }

    fn config_set(&mut self) -> Vec<Arg> {
        let mut a = argv!["CONFIG", "SET"];
        for _ in 0..if self.chance(20) { 2 } else { 1 } {
            let (name, values) =
                CONFIG_SETTABLE[self.rng.range(0, CONFIG_SETTABLE.len() as i64 - 1) as usize];
            a.push(name.into());
            a.push(self.pick(values).into());
        }
        a
    }

    fn command_getkeys(&mut self, sub: &str) -> Vec<Arg> {
        let mut a = argv!["COMMAND", sub];
        let forms: &[&[&str]] = &[
            &["SET", "k1", "v", "EX", "10"],
            &["MSET", "a", "1", "b", "2"],
            &["GET"],
            &["GET", "k1"],
            &["PING"],
            &["bogus", "x"],
            &["HSET", "h", "f", "v"],
            &["COPY", "a", "b"],
            &["RENAME", "a", "b"],
            &["LCS", "a", "b"],
            &["DEL", "a", "b", "c"],
            &["OBJECT", "ENCODING", "k"],
            &["MEMORY", "USAGE", "k"],
            &[],
        ];
        let form = forms[self.rng.range(0, forms.len() as i64 - 1) as usize];
        a.extend(form.iter().map(|s| Arg::from(*s)));
        a
    }

    fn client_list(&mut self) -> Vec<Arg> {
        match self.rng.range(0, 5) {
            0 => argv![
                "CLIENT",
                "LIST",
                "TYPE",
                self.pick(&["normal", "pubsub", "replica", "master", "bogus"])
            ],
            1 => argv!["CLIENT", "LIST", "ID", self.pick(&["999999", "abc", "0"])],
            _ => argv!["CLIENT", "LIST"],
        }
    }

    /// CLIENT PAUSE forms Redis refuses. No timeout past the clock's range: Redis 7.0 lets
    /// the end time wrap around and answers OK, later versions refuse it.
    fn client_pause_error(&mut self) -> Vec<Arg> {
        match self.rng.range(0, 4) {
            0 => argv![
                "CLIENT",
                "PAUSE",
                self.pick(&["10", "abc"]),
                self.pick(&["bogus", ""])
            ],
            1 => argv![
                "CLIENT",
                "PAUSE",
                self.pick(&["abc", "1.5", "", "9223372036854775808"])
            ],
            2 => argv![
                "CLIENT",
                "PAUSE",
                self.pick(&["-1", "-9223372036854775808"])
            ],
            3 => argv!["CLIENT", "PAUSE", "10", self.kw("WRITE"), "extra"],
            _ => argv!["CLIENT", "PAUSE"],
        }
    }

    /// A pause short enough to end during the step's sleep, so no later command (of either
    /// server) meets it: only its reply and its lack of lasting effect are compared. 0 is a
    /// pause that has already ended.
    fn client_pause(&mut self) -> Vec<Arg> {
        let ms = if self.chance(30) { 0 } else { self.short_ms() };
        let mut a = argv!["CLIENT", "PAUSE", ms];
        if self.chance(70) {
            let mode = self.pick(&["WRITE", "ALL"]);
            a.push(self.kw(mode));
        }
        a
    }

    /// RESET, then CLIENT NO-EVICT off on the same connection: Redis 7.2+ clears the
    /// no-evict flag on RESET (as ferrostack does), 7.0 keeps it, so the flag is cleared
    /// explicitly to keep CLIENT LIST comparable.
    fn reset(&mut self) -> Vec<Op> {
        let conn = self.conn();
        vec![
            Op::Cmd {
                conn,
                argv: argv!["RESET"],
                check: Exact,
            },
            Op::Cmd {
                conn,
                argv: argv!["CLIENT", "NO-EVICT", "off"],
                check: Exact,
            },
        ]
    }

    /// Only filters that match no test connection: killing one would end the run.
    fn client_kill(&mut self) -> Vec<Arg> {
        match self.rng.range(0, 5) {
            0 => argv!["CLIENT", "KILL", "1.2.3.4:5"],
            1 => argv!["CLIENT", "KILL", "ID", self.pick(&["999999", "abc"])],
            2 => argv!["CLIENT", "KILL", "ADDR", "10.0.0.1:1"],
            3 => argv!["CLIENT", "KILL", "LADDR", "10.0.0.1:1"],
            _ => argv!["CLIENT", "KILL", "BOGUS", "x"],
        }
    }

    fn hello(&mut self) -> Vec<Arg> {
        let mut a = argv!["HELLO"];
        if self.chance(85) {
            a.push(self.pick(&["2", "3", "3", "4", "abc"]).into());
            if self.chance(25) {
                a.extend(argv![self.kw("SETNAME"), self.pick(&["app", "bad name"])]);
            }
            if self.chance(10) {
                a.extend(argv![self.kw("AUTH"), "default", "wrong"]);
            }
        }
        a
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.rng.range(0, i as i64) as usize;
            items.swap(i, j);
        }
    }
}

/// The command list as (name, weight) rows, for the coverage printout.
pub fn rows() -> Vec<(&'static str, u32)> {
    commands().iter().map(|e| (e.name, e.weight)).collect()
}
