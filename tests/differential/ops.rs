//! What the generator produces and the runner executes: operations made of arguments, each
//! with the rule that decides whether the two servers' replies agree.

use std::time::{SystemTime, UNIX_EPOCH};

/// One command argument. Times are resolved when the command is sent, so a reproduced run
/// (same seed) sends the same relative deadlines.
#[derive(Debug, Clone)]
pub enum Arg {
    Lit(Vec<u8>),
    /// Unix time in seconds, now plus this offset.
    UnixSecs(i64),
    /// Unix time in milliseconds, now plus this offset.
    UnixMs(i64),
}

impl Arg {
    pub fn resolve(&self) -> Vec<u8> {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_millis() as i64;
        match self {
            Arg::Lit(bytes) => bytes.clone(),
            Arg::UnixSecs(offset) => (now_ms / 1000 + offset).to_string().into_bytes(),
            Arg::UnixMs(offset) => (now_ms + offset).to_string().into_bytes(),
        }
    }
}

impl From<&str> for Arg {
    fn from(s: &str) -> Arg {
        Arg::Lit(s.as_bytes().to_vec())
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Arg {
        Arg::Lit(s.into_bytes())
    }
}

impl From<Vec<u8>> for Arg {
    fn from(b: Vec<u8>) -> Arg {
        Arg::Lit(b)
    }
}

impl From<&[u8]> for Arg {
    fn from(b: &[u8]) -> Arg {
        Arg::Lit(b.to_vec())
    }
}

impl From<i64> for Arg {
    fn from(n: i64) -> Arg {
        Arg::Lit(n.to_string().into_bytes())
    }
}

/// Builds a `Vec<Arg>` from anything `Arg: From` accepts.
macro_rules! argv {
    ($($a:expr),* $(,)?) => { vec![$($crate::ops::Arg::from($a)),*] };
}
pub(crate) use argv;

/// How two replies to the same command are compared. Every rule first accepts byte-identical
/// replies and treats any error reply as needing an exact match; the rule only decides
/// between two non-error replies that differ in bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Check {
    /// Byte-for-byte identical RESP.
    Exact,
    /// The same elements in any order (KEYS: Redis's order is its hash table's).
    Unordered,
    /// HGETALL / HKEYS / HVALS: exact order while Redis keeps the hash as a listpack
    /// (insertion order), any order once it is a hash table. Asks OBJECT ENCODING first.
    HashOrder,
    /// Integers within this distance (TTLs, idle times); negative codes must match exactly.
    Near(i64),
    /// Any integer on both sides (CLIENT ID, COMMAND COUNT, OBJECT FREQ under LFU).
    AnyInt,
    /// Both nil or both integers (MEMORY USAGE).
    NilOrInt,
    /// TIME: two integers, seconds within 2 of each other.
    Time,
    /// HELLO: the same map except `id` (any integer) and `version` (any string).
    Hello,
    /// INFO: same sections; keyspace, errorstats and command call counts equal; the
    /// fields clients read present (see check.rs).
    Info,
    /// CLIENT LIST / CLIENT INFO: the same connections with the same name, db, flags, ...
    ClientList,
    /// A HELP reply: any non-empty array of strings.
    Help,
    /// SLOWLOG GET: the same logged commands and client names; ids, times and peers free.
    Slowlog,
    /// SLOWLOG LEN: exact unless SCAN pages (whose number differs) were logged.
    SlowlogLen,
    /// COMMAND INFO: exact, but a container's subcommands in any order.
    CommandInfo,
    /// CONFIG GET: the same name/value pairs in any order.
    ConfigGet,
    /// COMMAND DOCS: the same command names (doc texts differ between Redis versions).
    CommandDocs,
    /// RANDOMKEY: nil on both, or a key that EXISTS on both servers.
    RandomKey,
    /// HRANDFIELD: same count and shape, members (and values) of the hash, distinct when
    /// the count is positive.
    HRandField,
    /// Stream replies: ids generated from the clock (`*`), unix-ms times and idle times
    /// compared as placeholders; everything else exact.
    Stream,
    /// SPOP / SRANDMEMBER: same count and shape, members of the set as it was before the
    /// command, distinct when the count is positive. After an SPOP that popped different
    /// members, both servers are brought back to the same content (the runner re-adds
    /// everything either popped, then removes what the other server popped).
    SetPick,
    /// OBJECT ENCODING of a set: exact, except that a set Redis 7.0 (the oracle, which has
    /// no listpack sets) holds as an intset or hash table may be a listpack here, as in 7.4.
    SetEncoding,
    /// SMEMBERS: exact order when both servers hold the set as an intset (ascending in every
    /// Redis version), any order otherwise. Asks OBJECT ENCODING on both first.
    SetMembers,
    /// ZRANDMEMBER: as HRANDFIELD, against the sorted set's members and scores.
    ZRandMember,
}

/// One unit of work for the runner.
#[derive(Debug, Clone)]
pub enum Op {
    /// Send `argv` on connection `conn` of both servers and compare by `check`.
    Cmd {
        conn: usize,
        argv: Vec<Arg>,
        check: Check,
    },
    /// SCAN / HSCAN / ZSCAN iterated to completion on each server with its own cursors; the sets of
    /// returned keys (or field/value pairs) must be equal. `cursor_at` is the cursor's index.
    Scan {
        conn: usize,
        argv: Vec<Arg>,
        cursor_at: usize,
    },
    /// DUMP `src` on both servers (nil on both or a payload on both), then RESTORE with the
    /// oracle's payload (corrupted when `corrupt`) on both: `RESTORE dst ttl <payload> opts..`.
    DumpRestore {
        conn: usize,
        src: Arg,
        dst: Arg,
        ttl: Arg,
        opts: Vec<Arg>,
        corrupt: bool,
    },
    /// A full SCAN of databases 0..=3 on a side connection, so both servers have deleted
    /// every logically expired key before a command that sees unexpired keys (DBSIZE, INFO
    /// keyspace, MEMORY USAGE).
    Settle,
    /// Wait until short TTLs set by the previous command have passed on both servers.
    Sleep(u64),
    /// Send `argv` on connection `conn` of both servers without reading the reply: a command
    /// that blocks (BLPOP) or a subscription whose messages come later. A later `Recv` on
    /// the same connection reads it.
    Send { conn: usize, argv: Vec<Arg> },
    /// Read one reply (or push message) on connection `conn` of both servers and compare
    /// them by `check`; attributed to the last command `Send` put on that connection.
    Recv { conn: usize, check: Check },
}
