//! Sets: every set command and option, error paths, the three encodings (integer members
//! for intsets, strings, long members and big sets for hash tables), DUMP / RESTORE.
//!
//! Commands that write only ever target the set pool (a set created at another pool's key
//! would be a listpack here and a hash table on the 7.0 oracle, which the other groups'
//! exact OBJECT ENCODING checks would flag); reads and sources sometimes name other pools'
//! keys, and `SET` now and then puts a string at a set key, so WRONGTYPE paths are common.

use super::{Check::*, Entry, Gen, HASH_KEYS, KEYS, cmd, ops};
use crate::ops::{Arg, Op, argv};

const SET_KEYS: &[&[u8]] = &[b"s:a", b"s:b", b"s:c", b"s:d", b"s:{x}\x00"];

/// Mostly integers (intsets, and their canonical-text edge cases), then short strings,
/// binary, and a member longer than `set-max-listpack-value`.
const MEMBERS: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "-1",
    "10",
    "100",
    "70000",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "007",
    "-0",
    "+1",
    " 1",
    "a",
    "b",
    "c",
    "",
    "hello world",
    "ü",
    "bin\u{0}x",
];

const SET_PATTERNS: &[&str] = &["*", "1*", "?", "[ab]", "m1*", "*0", "nomatch", "-*"];

#[rustfmt::skip]
pub fn commands() -> Vec<Entry> {
    vec![
        cmd(30, "SADD", Exact, |g| { let mut a = argv!["SADD", g.set_key()]; a.extend(g.members(1, 4)); a }),
        cmd(2, "SADD (big set)", Exact, |g| g.big_sadd()),
        cmd(2, "SET (a string at a set key)", Exact, |g| argv!["SET", g.set_key(), "str"]),
        cmd(12, "SREM", Exact, |g| { let mut a = argv!["SREM", g.set_key()]; a.extend(g.members(1, 3)); a }),
        cmd(12, "SMEMBERS", SetMembers, |g| argv!["SMEMBERS", g.set_read_key()]),
        cmd(8, "SISMEMBER", Exact, |g| argv!["SISMEMBER", g.set_read_key(), g.member()]),
        cmd(6, "SMISMEMBER", Exact, |g| { let mut a = argv!["SMISMEMBER", g.set_read_key()]; a.extend(g.members(1, 4)); a }),
        cmd(8, "SCARD", Exact, |g| argv!["SCARD", g.set_read_key()]),
        cmd(8, "SPOP", SetPick, |g| g.spop()),
        cmd(8, "SRANDMEMBER", SetPick, |g| g.srandmember()),
        cmd(6, "SMOVE", Exact, |g| argv!["SMOVE", g.set_key(), g.set_key(), g.member()]),
        cmd(6, "SMOVE (source of another type)", Exact, |g| argv!["SMOVE", g.set_read_key(), g.set_key(), g.member()]),
        cmd(6, "SUNION", Unordered, |g| { let mut a = argv!["SUNION"]; a.extend(g.set_sources()); a }),
        cmd(6, "SINTER", Unordered, |g| { let mut a = argv!["SINTER"]; a.extend(g.set_sources()); a }),
        cmd(6, "SDIFF", Unordered, |g| { let mut a = argv!["SDIFF"]; a.extend(g.set_sources()); a }),
        cmd(4, "SUNIONSTORE", Exact, |g| { let mut a = argv!["SUNIONSTORE", g.set_key()]; a.extend(g.set_sources()); a }),
        cmd(4, "SINTERSTORE", Exact, |g| { let mut a = argv!["SINTERSTORE", g.set_key()]; a.extend(g.set_sources()); a }),
        cmd(4, "SDIFFSTORE", Exact, |g| { let mut a = argv!["SDIFFSTORE", g.set_key()]; a.extend(g.set_sources()); a }),
        cmd(6, "SINTERCARD", Exact, |g| g.sintercard()),
        ops(6, "SSCAN", |g| g.sscan()),
        cmd(8, "OBJECT ENCODING (set)", SetEncoding, |g| argv!["OBJECT", "ENCODING", g.set_key()]),
        ops(3, "DUMP + RESTORE (sets)", |g| g.set_dump_restore()),
        cmd(2, "EXPIRE (set)", Exact, |g| argv!["EXPIRE", g.set_key(), g.long_secs()]),
        cmd(2, "TTL (set)", Near(1), |g| argv!["TTL", g.set_key()]),
        cmd(1, "DEL (set)", Exact, |g| argv!["DEL", g.set_key()]),
    ]
}

impl Gen {
    /// A key of the set pool.
    fn set_key(&mut self) -> Arg {
        self.pick_bytes(SET_KEYS).into()
    }

    /// A key for a read: now and then one of another group's pool.
    fn set_read_key(&mut self) -> Arg {
        if self.chance(8) {
            let pool = if self.chance(50) { KEYS } else { HASH_KEYS };
            self.pick_bytes(pool).into()
        } else {
            self.set_key()
        }
    }

    fn member(&mut self) -> Arg {
        if self.chance(4) {
            "x".repeat(65).into()
        } else if self.chance(10) {
            format!("m{}", self.rng.range(0, 160)).into()
        } else {
            self.pick(MEMBERS).into()
        }
    }

    fn members(&mut self, lo: i64, hi: i64) -> Vec<Arg> {
        (0..self.rng.range(lo, hi)).map(|_| self.member()).collect()
    }

    /// One to four source keys.
    fn set_sources(&mut self) -> Vec<Arg> {
        (0..self.rng.range(1, 4))
            .map(|_| self.set_read_key())
            .collect()
    }

    /// A set past the listpack limit (strings) or past the intset limit (integers), so
    /// both servers hold a hash table.
    fn big_sadd(&mut self) -> Vec<Arg> {
        let mut a = argv!["SADD", self.set_key()];
        if self.chance(60) {
            let n = self.rng.range(130, 160);
            a.extend((0..n).map(|i| Arg::from(format!("m{i}"))));
        } else {
            let n = self.rng.range(513, 560);
            a.extend((0..n).map(Arg::from));
        }
        a
    }

    fn spop(&mut self) -> Vec<Arg> {
        let mut a = argv!["SPOP", self.set_read_key()];
        if self.chance(60) {
            let count: Arg = match self.rng.range(0, 9) {
                0 => self
                    .pick(&["-1", "abc", "0", "200", "9223372036854775807"])
                    .into(),
                _ => self.rng.range(1, 6).into(),
            };
            a.push(count);
        }
        a
    }

    fn srandmember(&mut self) -> Vec<Arg> {
        let mut a = argv!["SRANDMEMBER", self.set_read_key()];
        if self.chance(75) {
            let count: Arg = match self.rng.range(0, 9) {
                0 => self
                    .pick(&[
                        "-9223372036854775808",
                        "9223372036854775807",
                        "abc",
                        "0",
                        "1000",
                    ])
                    .into(),
                1..=3 => self.rng.range(-10, -1).into(),
                _ => self.rng.range(1, 10).into(),
            };
            a.push(count);
        }
        a
    }

    fn sintercard(&mut self) -> Vec<Arg> {
        let keys = self.set_sources();
        let numkeys: Arg = match self.rng.range(0, 19) {
            0 => self.pick(&["0", "-1", "abc"]).into(),
            1 => (keys.len() as i64 + 1).into(),
            _ => (keys.len() as i64).into(),
        };
        let mut a = argv!["SINTERCARD", numkeys];
        a.extend(keys);
        if self.chance(40) {
            a.push(self.kw("LIMIT"));
            a.push(self.pick(&["0", "1", "2", "5", "-1", "abc"]).into());
        }
        if self.chance(4) {
            a.push(self.pick(&["BOGUS", "LIMIT"]).into());
        }
        a
    }

    fn sscan(&mut self) -> Vec<Op> {
        let mut argv = argv!["SSCAN", self.set_read_key(), self.start_cursor()];
        let mut opts: Vec<Vec<Arg>> = Vec::new();
        if self.chance(50) {
            opts.push(vec![self.kw("MATCH"), self.pick(SET_PATTERNS).into()]);
        }
        if self.chance(50) {
            let count: Arg = if self.chance(90) {
                self.rng.range(1, 20).into()
            } else {
                self.pick(&["0", "-1", "abc"]).into()
            };
            opts.push(vec![self.kw("COUNT"), count]);
        }
        if self.chance(5) {
            opts.push(vec![self.kw("NOVALUES")]);
        }
        self.shuffle(&mut opts);
        argv.extend(opts.concat());
        vec![Op::Scan {
            conn: self.conn(),
            argv,
            cursor_at: 2,
        }]
    }

    /// DUMP a set key and RESTORE the oracle's payload at a set key on both, then compare
    /// the restored key's encoding.
    fn set_dump_restore(&mut self) -> Vec<Op> {
        let src = self.set_key();
        let dst = self.set_key();
        let mut opts = Vec::new();
        if self.chance(60) {
            opts.push(self.kw("REPLACE"));
        }
        let conn = self.conn();
        vec![
            Op::DumpRestore {
                conn,
                src,
                dst: dst.clone(),
                ttl: "0".into(),
                opts,
                corrupt: self.chance(8),
            },
            Op::Cmd {
                conn,
                argv: argv!["OBJECT", "ENCODING", dst.clone()],
                check: SetEncoding,
            },
            Op::Cmd {
                conn,
                argv: argv!["SMEMBERS", dst],
                check: SetMembers,
            },
        ]
    }
}
