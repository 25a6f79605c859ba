//! Sorted sets, blocking pops included.
//!
//! Keys: `z:a` .. `z:d` hold general sorted sets (scores with ties, infinities, negatives,
//! fractions), `zl:a` / `zl:b` only ever hold score 0, so lex ranges (whose result Redis
//! leaves unspecified for mixed scores) are asked only there. `k1` and `h1` from the other
//! pools come up now and then for WRONGTYPE paths, and the sets group's `s:a` .. `s:c` as
//! inputs of ZUNION / ZINTER / ZDIFF / ZINTERCARD.

use super::{Entry, Gen, cmd, ops};
use crate::ops::{Arg, Check::*, Op, argv};

const ZKEYS: &[&str] = &["z:a", "z:b", "z:c", "z:d"];
const LEX_KEYS: &[&str] = &["zl:a", "zl:b"];
const OTHER_TYPES: &[&str] = &["k1", "h1"];
/// Plain sets from the sets group's pool: ZUNION, ZINTER, ZDIFF and ZINTERCARD take them
/// as sorted sets with score 1.
const SET_INPUTS: &[&str] = &["s:a", "s:b", "s:c"];
const MEMBERS: &[&str] = &[
    "a", "b", "c", "d", "e", "f", "g", "", "m\u{0}x", "ü", "aa", "b1",
];
const SCORES: &[&str] = &[
    "0", "1", "1", "2", "2", "3", "-1", "1.5", "-2.25", "0.1", "1e3", "1e-5", "inf", "-inf",
    "+inf", "-0", "100", "3.0", "1e20",
];
const BAD_SCORES: &[&str] = &[
    "abc",
    "nan",
    "",
    "(1",
    " 1",
    "1x",
    "0x10",
    "1e400",
    "1e-400",
    "-Infinity",
];
const SCORE_BOUNDS: &[&str] = &[
    "-inf", "+inf", "inf", "0", "(0", "1", "(1", "1.5", "(2", "2", "3", "(3", "10", "(-1", "-1",
    "1e3", "(inf", "(-inf",
];
const BAD_SCORE_BOUNDS: &[&str] = &["abc", "(", "[1", "nan", "", " 2", "0x3", "(1e400", "1 "];
const LEX_BOUNDS: &[&str] = &[
    "-", "+", "[a", "(a", "[b", "(b", "[c", "(c", "[e", "(e", "[", "(", "[zz", "(aa", "[b1",
];
const BAD_LEX_BOUNDS: &[&str] = &["a", "", "--", "++", "1"];

#[rustfmt::skip]
pub fn commands() -> Vec<Entry> {
    vec![
        cmd(40, "ZADD", Exact, |g| g.zadd()),
        cmd(12, "ZADD (lex set)", Exact, |g| g.zadd_lex()),
        cmd(2, "ZADD (skiplist-busting size)", Exact, |g| g.big_zadd()),
        cmd(10, "ZINCRBY", Exact, |g| argv!["ZINCRBY", g.zkey(), g.zscore_arg(), g.zmember()]),
        cmd(12, "ZREM", Exact, |g| { let mut a = argv!["ZREM", g.zkey()]; a.extend(g.zmembers(1, 3)); a }),
        cmd(15, "ZSCORE", Exact, |g| argv!["ZSCORE", g.zkey(), g.zmember()]),
        cmd(6, "ZMSCORE", Exact, |g| { let mut a = argv!["ZMSCORE", g.zkey()]; a.extend(g.zmembers(1, 4)); a }),
        cmd(10, "ZCARD", Exact, |g| argv!["ZCARD", g.zkey_or_lex()]),
        cmd(8, "ZCOUNT", Exact, |g| argv!["ZCOUNT", g.zkey(), g.zscore_bound(), g.zscore_bound()]),
        cmd(8, "ZLEXCOUNT", Exact, |g| argv!["ZLEXCOUNT", g.zlex_key(), g.zlex_bound(), g.zlex_bound()]),
        cmd(25, "ZRANGE", Exact, |g| g.zrange()),
        cmd(6, "ZRANGESTORE", Exact, |g| g.zrangestore()),
        cmd(8, "ZREVRANGE", Exact, |g| g.zrank_range("ZREVRANGE")),
        cmd(8, "ZRANGEBYSCORE", Exact, |g| g.zrange_by_score("ZRANGEBYSCORE")),
        cmd(6, "ZREVRANGEBYSCORE", Exact, |g| g.zrange_by_score("ZREVRANGEBYSCORE")),
        cmd(6, "ZRANGEBYLEX", Exact, |g| g.zrange_by_lex("ZRANGEBYLEX")),
        cmd(6, "ZREVRANGEBYLEX", Exact, |g| g.zrange_by_lex("ZREVRANGEBYLEX")),
        cmd(10, "ZRANK", Exact, |g| argv![g.pick(&["ZRANK", "ZREVRANK"]), g.zkey_or_lex(), g.zmember()]),
        cmd(4, "ZREMRANGEBYRANK", Exact, |g| argv!["ZREMRANGEBYRANK", g.zkey_or_lex(), g.zrank_arg(), g.zrank_arg()]),
        cmd(4, "ZREMRANGEBYSCORE", Exact, |g| argv!["ZREMRANGEBYSCORE", g.zkey(), g.zscore_bound(), g.zscore_bound()]),
        cmd(4, "ZREMRANGEBYLEX", Exact, |g| argv!["ZREMRANGEBYLEX", g.zlex_key(), g.zlex_bound(), g.zlex_bound()]),
        cmd(8, "ZPOPMIN/ZPOPMAX", Exact, |g| g.zpop()),
        cmd(6, "ZMPOP", Exact, |g| g.zmpop()),
        cmd(8, "ZUNION/ZINTER/ZDIFF", Exact, |g| g.zsetop(false)),
        cmd(6, "ZUNIONSTORE/ZINTERSTORE/ZDIFFSTORE", Exact, |g| g.zsetop(true)),
        cmd(4, "ZINTERCARD", Exact, |g| g.zintercard()),
        cmd(8, "ZRANDMEMBER", ZRandMember, |g| g.zrandmember()),
        ops(6, "ZSCAN", |g| g.zscan()),
        cmd(4, "OBJECT ENCODING (zset)", Exact, |g| argv!["OBJECT", "ENCODING", g.zkey_or_lex()]),
        cmd(3, "CONFIG SET zset-max-listpack-*", Exact, |g| g.zset_config()),
        ops(3, "DUMP + RESTORE (zset)", |g| g.zset_dump_restore()),
        cmd(3, "BZPOPMIN/BZPOPMAX/BZMPOP (served at once or timing out)", Exact, |g| g.bzpop_now()),
        ops(4, "BZPOPMIN/BZPOPMAX/BZMPOP woken by ZADD", |g| g.bzpop_woken()),
        ops(1, "BZPOPMIN FIFO between two clients", |g| g.bzpop_fifo()),
    ]
}

impl Gen {
    /// A sorted-set key; sometimes one of another type.
    fn zkey(&mut self) -> Arg {
        if self.chance(5) {
            self.pick(OTHER_TYPES).into()
        } else {
            self.pick(ZKEYS).into()
        }
    }

    /// An input of ZUNION / ZINTER / ZDIFF / ZINTERCARD: a sorted set, sometimes a set.
    fn zsetop_input(&mut self) -> Arg {
        if self.chance(20) {
            self.pick(SET_INPUTS).into()
        } else {
            self.zkey()
        }
    }

    fn zlex_key(&mut self) -> Arg {
        if self.chance(4) {
            self.pick(OTHER_TYPES).into()
        } else {
            self.pick(LEX_KEYS).into()
        }
    }

    fn zkey_or_lex(&mut self) -> Arg {
        if self.chance(25) {
            self.zlex_key()
        } else {
            self.zkey()
        }
    }

    fn zmember(&mut self) -> Arg {
        if self.chance(3) {
            "m".repeat(65).into()
        } else {
            self.pick(MEMBERS).into()
        }
    }

    fn zmembers(&mut self, lo: i64, hi: i64) -> Vec<Arg> {
        (0..self.rng.range(lo, hi))
            .map(|_| self.zmember())
            .collect()
    }

    fn zscore_arg(&mut self) -> Arg {
        if self.chance(4) {
            self.pick(BAD_SCORES).into()
        } else if self.chance(20) {
            self.rng.range(-20, 20).into()
        } else {
            self.pick(SCORES).into()
        }
    }

    fn zscore_bound(&mut self) -> Arg {
        if self.chance(4) {
            self.pick(BAD_SCORE_BOUNDS).into()
        } else {
            self.pick(SCORE_BOUNDS).into()
        }
    }

    fn zlex_bound(&mut self) -> Arg {
        if self.chance(4) {
            self.pick(BAD_LEX_BOUNDS).into()
        } else {
            self.pick(LEX_BOUNDS).into()
        }
    }

    fn zrank_arg(&mut self) -> Arg {
        match self.rng.range(0, 9) {
            0 => self
                .pick(&["abc", "9223372036854775807", "-9223372036854775808", "1.5"])
                .into(),
            _ => self.rng.range(-8, 8).into(),
        }
    }

    /// `LIMIT offset count` or nothing.
    fn zlimit(&mut self) -> Vec<Arg> {
        if !self.chance(40) {
            return Vec::new();
        }
        let offset: Arg = match self.rng.range(0, 9) {
            0 => "-1".into(),
            1 => "abc".into(),
            _ => self.rng.range(0, 5).into(),
        };
        let count: Arg = match self.rng.range(0, 9) {
            0 | 1 => "-1".into(),
            2 => "0".into(),
            _ => self.rng.range(1, 5).into(),
        };
        let mut a = vec![self.kw("LIMIT"), offset];
        // Now and then LIMIT without its count.
        if !self.chance(5) {
            a.push(count);
        }
        a
    }

    fn zadd(&mut self) -> Vec<Arg> {
        let mut a = argv!["ZADD", self.zkey()];
        for flag in ["NX", "XX", "GT", "LT", "CH", "INCR"] {
            if self.chance(12) {
                a.push(self.kw(flag));
            }
        }
        let n = if self.chance(70) {
            1
        } else {
            self.rng.range(2, 4)
        };
        for _ in 0..n {
            a.push(self.zscore_arg());
            a.push(self.zmember());
        }
        if self.chance(4) {
            a.pop();
        }
        a
    }

    /// ZADD with score 0 on a lex key.
    fn zadd_lex(&mut self) -> Vec<Arg> {
        let mut a = argv!["ZADD", self.zlex_key()];
        if self.chance(10) {
            let flag = self.pick(&["NX", "XX", "CH"]);
            a.push(self.kw(flag));
        }
        for _ in 0..self.rng.range(1, 4) {
            a.push("0".into());
            a.push(self.pick(MEMBERS).into());
        }
        a
    }

    /// Enough members to pass zset-max-listpack-entries (128 by default).
    fn big_zadd(&mut self) -> Vec<Arg> {
        let mut a = argv!["ZADD", self.pick(ZKEYS)];
        for i in 0..self.rng.range(120, 140) {
            a.push(self.rng.range(-5, 5).into());
            a.push(format!("n{i}").into());
        }
        a
    }

    fn zrange(&mut self) -> Vec<Arg> {
        let by = self.rng.range(0, 2);
        let (key, min, max) = match by {
            0 => (self.zkey_or_lex(), self.zrank_arg(), self.zrank_arg()),
            1 => (self.zkey(), self.zscore_bound(), self.zscore_bound()),
            _ => (self.zlex_key(), self.zlex_bound(), self.zlex_bound()),
        };
        let mut a = argv!["ZRANGE", key, min, max];
        let mut opts: Vec<Vec<Arg>> = Vec::new();
        match by {
            1 => opts.push(vec![self.kw("BYSCORE")]),
            2 => opts.push(vec![self.kw("BYLEX")]),
            _ if self.chance(5) => opts.push(vec![self.kw("BYSCORE")]),
            _ => {}
        }
        if self.chance(30) {
            opts.push(vec![self.kw("REV")]);
        }
        if by != 0 || self.chance(5) {
            let limit = self.zlimit();
            if !limit.is_empty() {
                opts.push(limit);
            }
        }
        if self.chance(if by == 2 { 5 } else { 40 }) {
            opts.push(vec![self.kw("WITHSCORES")]);
        }
        self.shuffle(&mut opts);
        a.extend(opts.concat());
        a
    }

    fn zrangestore(&mut self) -> Vec<Arg> {
        let mut a = self.zrange();
        a[0] = "ZRANGESTORE".into();
        // Never store into a lex key: it must keep score 0 only.
        a.insert(1, self.pick(ZKEYS).into());
        a
    }

    fn zrank_range(&mut self, name: &str) -> Vec<Arg> {
        let mut a = argv![name, self.zkey_or_lex(), self.zrank_arg(), self.zrank_arg()];
        if self.chance(40) {
            a.push(self.kw("WITHSCORES"));
        }
        a
    }

    fn zrange_by_score(&mut self, name: &str) -> Vec<Arg> {
        let mut a = argv![name, self.zkey(), self.zscore_bound(), self.zscore_bound()];
        let mut opts = vec![self.zlimit()];
        if self.chance(40) {
            opts.push(vec![self.kw("WITHSCORES")]);
        }
        self.shuffle(&mut opts);
        a.extend(opts.concat());
        a
    }

    fn zrange_by_lex(&mut self, name: &str) -> Vec<Arg> {
        let mut a = argv![name, self.zlex_key(), self.zlex_bound(), self.zlex_bound()];
        a.extend(self.zlimit());
        a
    }

    fn zcount_arg(&mut self) -> Arg {
        match self.rng.range(0, 9) {
            0 => self.pick(&["-1", "abc", "0"]).into(),
            _ => self.rng.range(1, 4).into(),
        }
    }

    fn zpop(&mut self) -> Vec<Arg> {
        let mut a = argv![self.pick(&["ZPOPMIN", "ZPOPMAX"]), self.zkey_or_lex()];
        if self.chance(50) {
            a.push(self.zcount_arg());
        }
        a
    }

    /// `numkeys key... MIN|MAX [COUNT n]` for ZMPOP / BZMPOP.
    fn zmpop_args(&mut self) -> Vec<Arg> {
        let n = self.rng.range(1, 3);
        let numkeys: Arg = if self.chance(5) {
            self.pick(&["0", "-1", "abc", "9"]).into()
        } else {
            n.into()
        };
        let mut a = vec![numkeys];
        for _ in 0..n {
            a.push(self.zkey_or_lex());
        }
        a.push(if self.chance(4) {
            "SIDEWAYS".into()
        } else {
            let side = self.pick(&["MIN", "MAX"]);
            self.kw(side)
        });
        if self.chance(40) {
            a.push(self.kw("COUNT"));
            a.push(self.zcount_arg());
        }
        a
    }

    fn zmpop(&mut self) -> Vec<Arg> {
        let mut a = argv!["ZMPOP"];
        a.extend(self.zmpop_args());
        a
    }

    /// ZUNION / ZINTER / ZDIFF, or their STORE forms, with WEIGHTS / AGGREGATE /
    /// WITHSCORES (also where they are refused).
    fn zsetop(&mut self, store: bool) -> Vec<Arg> {
        let op = self.pick(&["ZUNION", "ZINTER", "ZDIFF"]);
        let mut a: Vec<Arg> = if store {
            argv![format!("{op}STORE"), self.pick(ZKEYS)]
        } else {
            argv![op]
        };
        let n = self.rng.range(1, 3);
        a.push(if self.chance(4) {
            self.pick(&["0", "-1", "abc", "7"]).into()
        } else {
            n.into()
        });
        for _ in 0..n {
            a.push(self.zsetop_input());
        }
        let mut opts: Vec<Vec<Arg>> = Vec::new();
        if self.chance(30) {
            let mut w = vec![self.kw("WEIGHTS")];
            for _ in 0..n {
                w.push(
                    self.pick(&["1", "2", "-1", "0", "0.5", "inf", "-inf", "abc"])
                        .into(),
                );
            }
            opts.push(w);
        }
        if self.chance(30) {
            let how = self.pick(&["SUM", "MIN", "MAX", "AVG"]);
            opts.push(vec![self.kw("AGGREGATE"), self.kw(how)]);
        }
        if self.chance(if store { 3 } else { 50 }) {
            opts.push(vec![self.kw("WITHSCORES")]);
        }
        self.shuffle(&mut opts);
        a.extend(opts.concat());
        a
    }

    fn zintercard(&mut self) -> Vec<Arg> {
        let n = self.rng.range(1, 3);
        let mut a = argv!["ZINTERCARD", n];
        for _ in 0..n {
            a.push(self.zsetop_input());
        }
        if self.chance(40) {
            a.push(self.kw("LIMIT"));
            a.push(self.pick(&["0", "1", "2", "-1", "abc"]).into());
        }
        a
    }

    fn zrandmember(&mut self) -> Vec<Arg> {
        let mut a = argv!["ZRANDMEMBER", self.zkey_or_lex()];
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
                a.push(self.kw("WITHSCORES"));
            }
        }
        a
    }

    fn zscan(&mut self) -> Vec<Op> {
        let mut argv = argv!["ZSCAN", self.zkey_or_lex(), self.start_cursor()];
        argv.extend(self.scan_options(false));
        vec![Op::Scan {
            conn: self.conn(),
            argv,
            cursor_at: 2,
        }]
    }

    fn zset_config(&mut self) -> Vec<Arg> {
        let (name, values): (&str, &[&str]) = if self.chance(50) {
            (
                "zset-max-listpack-entries",
                &["0", "2", "4", "128", "-1", "abc"],
            )
        } else {
            ("zset-max-listpack-value", &["0", "1", "8", "64", "abc"])
        };
        argv!["CONFIG", "SET", name, self.pick(values)]
    }

    fn zset_dump_restore(&mut self) -> Vec<Op> {
        let src = self.zkey_or_lex();
        let dst = self.pick(ZKEYS).into();
        vec![Op::DumpRestore {
            conn: self.conn(),
            src,
            dst,
            ttl: "0".into(),
            opts: vec![self.kw("REPLACE")],
            corrupt: self.chance(8),
        }]
    }

    fn zblock_timeout(&mut self) -> Arg {
        match self.rng.range(0, 9) {
            // Not `inf`: 7.0 casts it to a negative integer ("timeout is negative"), 7.2+
            // reports it out of range, as ferrostack does.
            0 => self.pick(&["-1", "abc"]).into(),
            _ => self.pick(&["0.01", "0.02", "0.05"]).into(),
        }
    }

    /// A blocking pop whose keys are the `keys` given; `timeout` first for BZMPOP.
    fn bzpop_args(&mut self, keys: Vec<Arg>, timeout: Arg) -> Vec<Arg> {
        match self.rng.range(0, 2) {
            0 | 1 => {
                let mut a = argv![self.pick(&["BZPOPMIN", "BZPOPMAX"])];
                a.extend(keys);
                a.push(timeout);
                a
            }
            _ => {
                let mut a = argv!["BZMPOP", timeout, keys.len() as i64];
                a.extend(keys);
                let side = self.pick(&["MIN", "MAX"]);
                a.push(self.kw(side));
                if self.chance(40) {
                    a.push(self.kw("COUNT"));
                    a.push(self.zcount_arg());
                }
                a
            }
        }
    }

    /// A blocking pop on existing keys (served at once) or a short timeout.
    fn bzpop_now(&mut self) -> Vec<Arg> {
        let keys = (0..self.rng.range(1, 3))
            .map(|_| self.zkey_or_lex())
            .collect();
        let timeout = self.zblock_timeout();
        self.bzpop_args(keys, timeout)
    }

    /// A client blocks (or is served at once); another adds to one of its keys, then the
    /// first's reply is compared. The timeout is long enough that the write always comes
    /// first.
    fn bzpop_woken(&mut self) -> Vec<Op> {
        let keys: Vec<Arg> = (0..self.rng.range(1, 2))
            .map(|_| self.pick(ZKEYS).into())
            .collect();
        let target = keys[0].clone();
        let blocked = self.conn();
        let writer = (blocked + 1) % super::CONNECTIONS;
        let argv = self.bzpop_args(keys, "5".into());
        let mut zadd = argv!["ZADD", target];
        for _ in 0..self.rng.range(1, 3) {
            zadd.push(self.pick(SCORES).into());
            zadd.push(self.pick(MEMBERS).into());
        }
        vec![
            Op::Send {
                conn: blocked,
                argv,
            },
            Op::Sleep(20),
            Op::Cmd {
                conn: writer,
                argv: zadd,
                check: Exact,
            },
            Op::Recv {
                conn: blocked,
                check: Exact,
            },
        ]
    }

    /// Two clients block on the same key; one member arrives: the first to block gets it,
    /// the second times out.
    fn bzpop_fifo(&mut self) -> Vec<Op> {
        let key: Arg = self.pick(ZKEYS).into();
        let first = self.conn();
        let second = (first + 1) % super::CONNECTIONS;
        let writer = (first + 2) % super::CONNECTIONS;
        vec![
            Op::Cmd {
                conn: writer,
                argv: argv!["DEL", key.clone()],
                check: Exact,
            },
            Op::Send {
                conn: first,
                argv: argv!["BZPOPMIN", key.clone(), "1"],
            },
            Op::Sleep(20),
            Op::Send {
                conn: second,
                argv: argv!["BZPOPMAX", key.clone(), "0.2"],
            },
            Op::Sleep(20),
            Op::Cmd {
                conn: writer,
                argv: argv!["ZADD", key, "1", "a"],
                check: Exact,
            },
            Op::Recv {
                conn: first,
                check: Exact,
            },
            Op::Recv {
                conn: second,
                check: Exact,
            },
        ]
    }
}
