//! Lists, blocking list pops included, over a small pool of `l:` keys. Commands that only
//! read, pop or change existing lists also pick string and hash keys now and then, for
//! WRONGTYPE; commands that can create a list (pushes, move destinations) stay in the list
//! pool, so no other group's key ever holds a list. OBJECT ENCODING is not compared for
//! lists: the oracle (Redis 7.0) always reports quicklist where 7.4 reports listpack.
//! Blocking steps send the command on one connection, push on another and then read the
//! first one's reply; timeouts are short, so a step that wakes nobody ends quickly.

use super::{Check::*, Entry, Gen, HASH_KEYS, KEYS, cmd, ops};
use crate::ops::{Arg, Op, argv};

const LIST_KEYS: &[&[u8]] = &[b"l:a", b"l:b", b"l:c", b"l:d", b"l:\x00\xff"];
/// Elements: few distinct ones, so LREM, LPOS and LINSERT find matches.
const ELEMENTS: &[&str] = &["a", "b", "c", "1", "-7", "", "hello", "a b"];
const INDEXES: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "-2",
    "5",
    "-100",
    "100",
    "9223372036854775807",
    "-9223372036854775808",
    "abc",
    "1.5",
];
const COUNTS: &[&str] = &["0", "1", "2", "3", "10", "-1", "abc", "9223372036854775807"];
/// Blocking timeouts: ones that outlast the push, bad ones. None ends before the push:
/// Redis notices timeouts only on its event loop's ticks (up to 100 ms late), so which of
/// a short timeout and a push wins differs between servers.
const TIMEOUTS: &[&str] = &["0.2", "0.3", "-1", "abc"];
/// How long a blocking step waits before pushing, so both servers have taken the blocking
/// command first (it and the push come on different connections).
const SETTLE_MS: u64 = 40;

impl Gen {
    /// A list key that a command may create.
    fn lkey_new(&mut self) -> Arg {
        self.pick_bytes(LIST_KEYS).into()
    }

    /// A list key; now and then a string or hash key (for WRONGTYPE).
    fn lkey(&mut self) -> Arg {
        let pool = match self.rng.range(0, 19) {
            0 => KEYS,
            1 => HASH_KEYS,
            _ => LIST_KEYS,
        };
        self.pick_bytes(pool).into()
    }

    fn lkeys(&mut self, lo: i64, hi: i64) -> Vec<Arg> {
        (0..self.rng.range(lo, hi)).map(|_| self.lkey()).collect()
    }

    fn element(&mut self) -> Arg {
        if self.chance(10) {
            self.value()
        } else {
            self.pick(ELEMENTS).into()
        }
    }

    fn elements(&mut self, lo: i64, hi: i64) -> Vec<Arg> {
        (0..self.rng.range(lo, hi))
            .map(|_| self.element())
            .collect()
    }

    fn lindex_arg(&mut self) -> Arg {
        if self.chance(70) {
            self.rng.range(-6, 6).into()
        } else {
            self.pick(INDEXES).into()
        }
    }

    fn end(&mut self) -> Arg {
        if self.chance(97) {
            let end = self.pick(&["LEFT", "RIGHT"]);
            self.kw(end)
        } else {
            self.pick(&["UP", "", "LEFTX"]).into()
        }
    }

    fn push(&mut self) -> Vec<Arg> {
        let name = self.pick(&["LPUSH", "RPUSH"]);
        let mut a = argv![name, self.lkey_new()];
        a.extend(self.elements(1, 6));
        a
    }

    fn pop(&mut self) -> Vec<Arg> {
        let name = self.pick(&["LPOP", "RPOP"]);
        let mut a = argv![name, self.lkey()];
        if self.chance(50) {
            a.push(self.pick(COUNTS).into());
        }
        a
    }

    fn lpos(&mut self) -> Vec<Arg> {
        let mut a = argv!["LPOS", self.lkey(), self.element()];
        for _ in 0..self.rng.range(0, 3) {
            match self.rng.range(0, 9) {
                0..=2 => {
                    a.push(self.kw("RANK"));
                    // Not LONG_MIN: Redis 7.0 negates it (fixed in 7.2, which we follow).
                    let rank = self.pick(&["1", "2", "-1", "-2", "3", "0", "x"]);
                    a.push(rank.into());
                }
                3..=5 => {
                    a.push(self.kw("COUNT"));
                    a.push(self.pick(&["0", "1", "2", "-1", "x"]).into());
                }
                6..=7 => {
                    a.push(self.kw("MAXLEN"));
                    a.push(self.pick(&["0", "1", "3", "-1"]).into());
                }
                _ => a.push(self.pick(&["BOGUS", "COUNT"]).into()),
            }
        }
        a
    }

    fn lmpop_tail(&mut self) -> Vec<Arg> {
        let keys = self.lkeys(1, 3);
        let numkeys: Arg = if self.chance(92) {
            (keys.len() as i64).into()
        } else {
            self.pick(&["0", "-1", "x", "5"]).into()
        };
        let mut a = vec![numkeys];
        a.extend(keys);
        a.push(self.end());
        if self.chance(50) {
            a.push(self.kw("COUNT"));
            a.push(self.pick(&["1", "2", "5", "0", "-1", "x"]).into());
        }
        a
    }

    fn lmove(&mut self) -> Vec<Arg> {
        argv![
            "LMOVE",
            self.lkey(),
            self.lkey_new(),
            self.end(),
            self.end()
        ]
    }

    /// DUMP a list on both, RESTORE the oracle's payload on both, and read the result.
    fn list_dump_restore(&mut self) -> Vec<Op> {
        let conn = self.conn();
        let dst = self.lkey_new();
        vec![
            Op::DumpRestore {
                conn,
                src: self.lkey_new(),
                dst: dst.clone(),
                ttl: "0".into(),
                opts: if self.chance(60) {
                    vec![self.kw("REPLACE")]
                } else {
                    vec![]
                },
                corrupt: self.chance(8),
            },
            Op::Cmd {
                conn,
                argv: argv!["LRANGE", dst, "0", "-1"],
                check: Exact,
            },
        ]
    }

    /// A blocking command on one connection, maybe a push on another, then its reply.
    fn blocking(&mut self) -> Vec<Op> {
        let waiter = self.conn();
        let pusher = (waiter + 1 + self.rng.range(0, 2) as usize) % super::CONNECTIONS;
        let timeout: Arg = self.pick(TIMEOUTS).into();
        let argv = match self.rng.range(0, 4) {
            0 | 1 => {
                let name = self.pick(&["BLPOP", "BRPOP"]);
                let mut a = argv![name];
                a.extend(self.lkeys(1, 3));
                a.push(timeout);
                a
            }
            2 => {
                let mut a = argv![
                    "BLMOVE",
                    self.lkey(),
                    self.lkey_new(),
                    self.end(),
                    self.end()
                ];
                a.push(timeout);
                a
            }
            3 => argv!["BRPOPLPUSH", self.lkey(), self.lkey_new(), timeout],
            _ => {
                let mut a = argv!["BLMPOP", timeout];
                a.extend(self.lmpop_tail());
                a
            }
        };
        let mut steps = vec![Op::Send { conn: waiter, argv }, Op::Sleep(SETTLE_MS)];
        if self.chance(70) {
            steps.push(Op::Cmd {
                conn: pusher,
                argv: self.push(),
                check: Exact,
            });
        }
        steps.push(Op::Recv {
            conn: waiter,
            check: Exact,
        });
        steps
    }
}

#[rustfmt::skip]
pub fn commands() -> Vec<Entry> {
    vec![
        cmd(24, "LPUSH / RPUSH", Exact, |g| g.push()),
        cmd(6, "LPUSHX / RPUSHX", Exact, |g| {
            let name = g.pick(&["LPUSHX", "RPUSHX"]);
            let mut a = argv![name, g.lkey()];
            a.extend(g.elements(1, 3));
            a
        }),
        cmd(14, "LPOP / RPOP", Exact, |g| g.pop()),
        cmd(6, "LLEN", Exact, |g| argv!["LLEN", g.lkey()]),
        cmd(14, "LRANGE", Exact, |g| argv!["LRANGE", g.lkey(), g.lindex_arg(), g.lindex_arg()]),
        cmd(6, "LINDEX", Exact, |g| argv!["LINDEX", g.lkey(), g.lindex_arg()]),
        cmd(6, "LSET", Exact, |g| argv!["LSET", g.lkey(), g.lindex_arg(), g.element()]),
        cmd(6, "LINSERT", Exact, |g| {
            let side = if g.chance(95) { g.pick(&["BEFORE", "AFTER"]) } else { "MIDDLE" };
            argv!["LINSERT", g.lkey(), g.kw(side), g.element(), g.element()]
        }),
        cmd(6, "LREM", Exact, |g| {
            let count: Arg = if g.chance(85) { g.rng.range(-3, 3).into() } else { g.pick(&["x", "1.5"]).into() };
            argv!["LREM", g.lkey(), count, g.element()]
        }),
        cmd(4, "LTRIM", Exact, |g| argv!["LTRIM", g.lkey(), g.lindex_arg(), g.lindex_arg()]),
        cmd(8, "LPOS", Exact, |g| g.lpos()),
        cmd(6, "LMOVE", Exact, |g| g.lmove()),
        cmd(4, "RPOPLPUSH", Exact, |g| argv!["RPOPLPUSH", g.lkey(), g.lkey_new()]),
        cmd(6, "LMPOP", Exact, |g| {
            let mut a = argv!["LMPOP"];
            a.extend(g.lmpop_tail());
            a
        }),
        cmd(2, "TYPE (list)", Exact, |g| argv!["TYPE", g.lkey()]),
        cmd(2, "DEL (list)", Exact, |g| argv!["DEL", g.lkey_new()]),
        ops(4, "DUMP + RESTORE (list)", |g| g.list_dump_restore()),
        ops(8, "blocking list command", |g| g.blocking()),
    ]
}
