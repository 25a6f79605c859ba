//! Streams, consumer groups and blocking reads.
//!
//! Ids are mostly explicit and small (`ms` 1..=120), so both servers hold the same entries;
//! now and then `*` adds an entry whose id comes from each server's clock, and every stream
//! reply is compared by [`Check::Stream`], which sets such ids (and times, idle times)
//! aside. XREAD's `+` id (Redis 7.4) is not sent: the 7.0 oracle rejects it.

use super::{Entry, Gen, Op, cmd, ops};
use crate::ops::{Arg, Check::*, argv};

/// Stream keys, plus a string and a hash key of the other pools for WRONGTYPE paths.
const STREAM_KEYS: &[&str] = &["x:a", "x:b", "x:c", "x:a", "x:b"];
const OTHER_KEYS: &[&str] = &["k1", "h1", "x:none"];
/// The key blocking reads wait on; only `*` adds go to it, so a waiting reader is always
/// woken.
const BLOCK_KEY: &str = "x:blk";
const GROUPS: &[&str] = &["g1", "g2", "g1"];
const CONSUMERS: &[&str] = &["c1", "c2", "c3", "c4"];
const XFIELDS: &[&str] = &["f1", "f2", "name", ""];
const XVALUES: &[&str] = &["v", "1", "hello", "", "-5", "a b"];
/// Ids that are no ids, or edge ones.
const ODD_IDS: &[&str] = &[
    "abc",
    "-1",
    "1-x",
    "1-",
    "0-0",
    "0",
    "18446744073709551615-18446744073709551615",
    "18446744073709551616",
    "+3",
    " 4",
    "2-18446744073709551615",
];
/// Minimum idle times: everything or (except entries given an old TIME) nothing, never a
/// threshold the run's own timing could cross.
const MIN_IDLE: &[&str] = &["0", "0", "0", "10000000000", "-5", "abc"];
const COUNTS: &[&str] = &["0", "1", "2", "3", "10", "-1", "abc"];

impl Gen {
    fn xkey(&mut self) -> Arg {
        if self.chance(92) {
            self.pick(STREAM_KEYS).into()
        } else {
            self.pick(OTHER_KEYS).into()
        }
    }

    fn xid_ms(&mut self) -> i64 {
        self.rng.range(1, 400)
    }

    /// The key of a group command: mostly `x:a`, where groups are created most.
    fn xgkey(&mut self) -> Arg {
        if self.chance(70) {
            "x:a".into()
        } else {
            self.xkey()
        }
    }

    /// An explicit id (sometimes just `ms`), now and then an odd one.
    fn xid(&mut self) -> Arg {
        match self.rng.range(0, 19) {
            0 => self.pick(ODD_IDS).into(),
            1..=5 => self.xid_ms().to_string().into(),
            _ => format!("{}-{}", self.xid_ms(), self.rng.range(0, 3)).into(),
        }
    }

    fn xids(&mut self, lo: i64, hi: i64) -> Vec<Arg> {
        (0..self.rng.range(lo, hi)).map(|_| self.xid()).collect()
    }

    /// A range end: `-`, `+`, an id, or an exclusive `(id`.
    fn xrange_end(&mut self) -> Arg {
        match self.rng.range(0, 9) {
            0 | 1 => "-".into(),
            2 | 3 => "+".into(),
            4 | 5 => {
                let id = self.xid();
                let mut text = b"(".to_vec();
                text.extend(id.resolve());
                text.into()
            }
            6 => self.pick(&["(", "(-", "(+", "(0-0"]).into(),
            _ => self.xid(),
        }
    }

    fn xfields(&mut self) -> Vec<Arg> {
        let mut out = Vec::new();
        for _ in 0..self.rng.range(1, 3) {
            out.push(self.pick(XFIELDS).into());
            out.push(self.pick(XVALUES).into());
        }
        out
    }

    fn xgroup_name(&mut self) -> Arg {
        self.pick(GROUPS).into()
    }

    fn xconsumer(&mut self) -> Arg {
        self.pick(CONSUMERS).into()
    }

    /// MAXLEN / MINID with `=` / `~` and sometimes LIMIT (XADD's are optional).
    fn xtrim_args(&mut self, optional: bool) -> Vec<Arg> {
        if optional && self.chance(70) {
            return Vec::new();
        }
        let mut out = Vec::new();
        let minid = self.chance(40);
        out.push(self.kw(if minid { "MINID" } else { "MAXLEN" }));
        match self.rng.range(0, 2) {
            0 => out.push("~".into()),
            1 => out.push("=".into()),
            _ => {}
        }
        out.push(if minid {
            self.xid()
        } else {
            self.pick(&["0", "1", "2", "3", "5", "8", "-1", "abc"])
                .into()
        });
        if self.chance(20) {
            out.push(self.kw("LIMIT"));
            out.push(self.pick(&["0", "1", "2", "100", "-1"]).into());
        }
        if self.chance(3) {
            out.push(self.kw(if minid { "MAXLEN" } else { "MINID" }));
            out.push("1".into());
        }
        out
    }

    fn xadd(&mut self) -> Vec<Arg> {
        let mut a = argv!["XADD", self.xkey()];
        if self.chance(10) {
            a.push(self.kw("NOMKSTREAM"));
        }
        a.extend(self.xtrim_args(true));
        a.push(match self.rng.range(0, 19) {
            0 if self.chance(40) => "*".into(),
            1..=4 => format!("{}-*", self.xid_ms()).into(),
            _ => self.xid(),
        });
        a.extend(self.xfields());
        a
    }

    /// XREAD / XREADGROUP `STREAMS k.. id..`; `group` uses `>` mostly.
    fn xstreams(&mut self, group: bool) -> Vec<Arg> {
        let n = self.rng.range(1, 2);
        let keys: Vec<Arg> = (0..n)
            .map(|_| if group { self.xgkey() } else { self.xkey() })
            .collect();
        let mut a = vec![self.kw("STREAMS")];
        a.extend(keys);
        for _ in 0..n {
            a.push(match (group, self.rng.range(0, 9)) {
                (true, 0..=5) => ">".into(),
                (true, 6) => "$".into(),
                (false, 0..=2) => "$".into(),
                (_, 7) => "0".into(),
                _ => self.xid(),
            });
        }
        if self.chance(3) {
            a.pop();
        }
        a
    }

    fn xread(&mut self) -> Vec<Arg> {
        let mut a = argv!["XREAD"];
        if self.chance(40) {
            a.push(self.kw("COUNT"));
            a.push(self.pick(COUNTS).into());
        }
        if self.chance(3) {
            let option = self.pick(&["NOACK", "GROUP"]);
            a.push(self.kw(option));
        }
        a.extend(self.xstreams(false));
        a
    }

    fn xreadgroup(&mut self) -> Vec<Arg> {
        let mut a = argv!["XREADGROUP"];
        if self.chance(97) {
            a.extend([self.kw("GROUP"), self.xgroup_name(), self.xconsumer()]);
        }
        if self.chance(40) {
            a.push(self.kw("COUNT"));
            a.push(self.pick(COUNTS).into());
        }
        if self.chance(20) {
            a.push(self.kw("NOACK"));
        }
        a.extend(self.xstreams(true));
        a
    }

    fn xgroup_create(&mut self) -> Vec<Arg> {
        let id: Arg = if self.chance(40) {
            self.pick(&["$", "0", "$"]).into()
        } else {
            self.xid()
        };
        let mut a = argv![
            "XGROUP",
            self.kw("CREATE"),
            self.xgkey(),
            self.xgroup_name(),
            id
        ];
        if self.chance(80) {
            a.push(self.kw("MKSTREAM"));
        }
        if self.chance(20) {
            a.push(self.kw("ENTRIESREAD"));
            a.push(self.pick(&["0", "2", "5", "-1", "-2", "abc"]).into());
        }
        a
    }

    fn xgroup_setid(&mut self) -> Vec<Arg> {
        let id: Arg = if self.chance(30) {
            self.pick(&["$", "0", "-", "+"]).into()
        } else {
            self.xid()
        };
        let mut a = argv![
            "XGROUP",
            self.kw("SETID"),
            self.xgkey(),
            self.xgroup_name(),
            id
        ];
        if self.chance(30) {
            a.push(self.kw("ENTRIESREAD"));
            a.push(self.pick(&["0", "3", "-1", "-3", "abc"]).into());
        }
        a
    }

    fn xpending(&mut self) -> Vec<Arg> {
        let mut a = argv!["XPENDING", self.xgkey(), self.xgroup_name()];
        if self.chance(25) {
            return a;
        }
        if self.chance(30) {
            a.push(self.kw("IDLE"));
            a.push(self.pick(MIN_IDLE).into());
        }
        a.extend([
            self.xrange_end(),
            self.xrange_end(),
            self.pick(COUNTS).into(),
        ]);
        if self.chance(40) {
            a.push(self.xconsumer());
        }
        a
    }

    fn xclaim(&mut self) -> Vec<Arg> {
        let mut a = argv![
            "XCLAIM",
            self.xgkey(),
            self.xgroup_name(),
            self.xconsumer(),
            self.pick(MIN_IDLE)
        ];
        a.extend(self.xids(1, 3));
        if self.chance(20) {
            a.push(self.kw("IDLE"));
            a.push(self.pick(&["0", "100000000", "abc"]).into());
        } else if self.chance(15) {
            // Absolute times far in the past are kept as they are; others become "now".
            a.push(self.kw("TIME"));
            a.push(self.pick(&["5", "-1", "abc", "99999999999999"]).into());
        }
        if self.chance(20) {
            a.push(self.kw("RETRYCOUNT"));
            a.push(self.pick(&["0", "7", "-2", "abc"]).into());
        }
        if self.chance(20) {
            a.push(self.kw("FORCE"));
        }
        if self.chance(25) {
            a.push(self.kw("JUSTID"));
        }
        if self.chance(10) {
            a.push(self.kw("LASTID"));
            a.push(self.xid());
        }
        if self.chance(3) {
            a.push("BOGUS".into());
        }
        a
    }

    fn xautoclaim(&mut self) -> Vec<Arg> {
        let mut a = argv![
            "XAUTOCLAIM",
            self.xgkey(),
            self.xgroup_name(),
            self.xconsumer(),
            self.pick(MIN_IDLE),
            self.xrange_end()
        ];
        if self.chance(40) {
            a.push(self.kw("COUNT"));
            a.push(self.pick(&["1", "2", "5", "0", "-1", "abc"]).into());
        }
        if self.chance(25) {
            a.push(self.kw("JUSTID"));
        }
        a
    }

    fn xsetid(&mut self) -> Vec<Arg> {
        let mut a = argv!["XSETID", self.xkey(), self.xid()];
        if self.chance(25) {
            a.push(self.kw("ENTRIESADDED"));
            a.push(self.pick(&["0", "5", "50", "-1", "abc"]).into());
        }
        if self.chance(25) {
            a.push(self.kw("MAXDELETEDID"));
            a.push(self.xid());
        }
        a
    }

    fn xinfo(&mut self) -> Vec<Arg> {
        match self.rng.range(0, 9) {
            0..=3 => {
                let mut a = argv!["XINFO", self.kw("STREAM"), self.xkey()];
                if self.chance(40) {
                    a.push(self.kw("FULL"));
                    if self.chance(50) {
                        a.push(self.kw("COUNT"));
                        a.push(self.pick(&["0", "1", "2", "-1", "abc"]).into());
                    }
                }
                a
            }
            4..=6 => argv!["XINFO", self.kw("GROUPS"), self.xkey()],
            _ => argv![
                "XINFO",
                self.kw("CONSUMERS"),
                self.xgkey(),
                self.xgroup_name()
            ],
        }
    }

    /// DUMP a stream key, RESTORE the oracle's payload on both, then look at the copy.
    fn xdump_restore(&mut self) -> Vec<Op> {
        let conn = self.rng.range(0, 3) as usize;
        let src = self.xkey();
        let dst: Arg = self.pick(&["x:copy", "x:copy", "x:copy", "x:b"]).into();
        let mut opts = Vec::new();
        if self.chance(60) {
            opts.push(self.kw("REPLACE"));
        }
        let corrupt = self.chance(8);
        vec![
            Op::DumpRestore {
                conn,
                src,
                dst: dst.clone(),
                ttl: "0".into(),
                opts,
                corrupt,
            },
            Op::Cmd {
                conn,
                argv: argv!["XINFO", "STREAM", dst, "FULL"],
                check: Stream,
            },
        ]
    }

    /// A reader blocks on [`BLOCK_KEY`], another connection adds to it, the reader's reply
    /// is compared. Sometimes nothing is added and the short timeout answers.
    fn xblock(&mut self) -> Vec<Op> {
        let reader = self.rng.range(0, 3) as usize;
        let writer = (reader + 1 + self.rng.range(0, 2) as usize) % 4;
        let wake = self.chance(80);
        let timeout = if wake { "5000" } else { "30" };
        let mut ops = Vec::new();
        let read = if self.chance(50) {
            argv![
                "XREAD",
                self.kw("BLOCK"),
                timeout,
                "STREAMS",
                BLOCK_KEY,
                "$"
            ]
        } else {
            let group = self.xgroup_name();
            ops.push(Op::Cmd {
                conn: writer,
                argv: argv![
                    "XGROUP",
                    "CREATE",
                    BLOCK_KEY,
                    group.clone(),
                    "$",
                    "MKSTREAM"
                ],
                check: Stream,
            });
            argv![
                "XREADGROUP",
                "GROUP",
                group,
                self.xconsumer(),
                self.kw("BLOCK"),
                timeout,
                "STREAMS",
                BLOCK_KEY,
                ">"
            ]
        };
        ops.push(Op::Send {
            conn: reader,
            argv: read,
        });
        if wake {
            ops.push(Op::Sleep(50));
            ops.push(Op::Cmd {
                conn: writer,
                argv: argv!["XADD", BLOCK_KEY, "*", "f", "v"],
                check: Stream,
            });
        }
        ops.push(Op::Recv {
            conn: reader,
            check: Stream,
        });
        ops
    }
}

#[rustfmt::skip]
pub fn commands() -> Vec<Entry> {
    vec![
        cmd(40, "XADD", Stream, |g| g.xadd()),
        cmd(8, "XLEN", Exact, |g| argv!["XLEN", g.xkey()]),
        cmd(15, "XRANGE", Stream, |g| {
            let mut a = argv!["XRANGE", g.xkey(), g.xrange_end(), g.xrange_end()];
            if g.chance(30) { a.push(g.kw("COUNT")); a.push(g.pick(COUNTS).into()); }
            a
        }),
        cmd(10, "XREVRANGE", Stream, |g| {
            let mut a = argv!["XREVRANGE", g.xkey(), g.xrange_end(), g.xrange_end()];
            if g.chance(30) { a.push(g.kw("COUNT")); a.push(g.pick(COUNTS).into()); }
            a
        }),
        cmd(10, "XDEL", Exact, |g| { let mut a = argv!["XDEL", g.xkey()]; a.extend(g.xids(1, 3)); a }),
        cmd(8, "XTRIM", Exact, |g| { let mut a = argv!["XTRIM", g.xkey()]; a.extend(g.xtrim_args(false)); a }),
        cmd(2, "DEL (stream)", Exact, |g| argv!["DEL", g.xkey()]),
        cmd(4, "XSETID", Exact, |g| g.xsetid()),
        cmd(12, "XREAD", Stream, |g| g.xread()),
        cmd(12, "XGROUP CREATE", Exact, |g| g.xgroup_create()),
        cmd(4, "XGROUP SETID", Exact, |g| g.xgroup_setid()),
        cmd(3, "XGROUP DESTROY", Exact, |g| argv!["XGROUP", g.kw("DESTROY"), g.xgkey(), g.xgroup_name()]),
        cmd(4, "XGROUP CREATECONSUMER", Exact, |g| argv!["XGROUP", g.kw("CREATECONSUMER"), g.xgkey(), g.xgroup_name(), g.xconsumer()]),
        cmd(3, "XGROUP DELCONSUMER", Exact, |g| argv!["XGROUP", g.kw("DELCONSUMER"), g.xgkey(), g.xgroup_name(), g.xconsumer()]),
        cmd(1, "XGROUP HELP", Help, |g| argv!["XGROUP", g.kw("HELP")]),
        cmd(1, "XGROUP <bad subcommand>", Exact, |g| argv!["XGROUP", g.pick(&["bogus", "create"]), g.xkey()]),
        cmd(20, "XREADGROUP", Stream, |g| g.xreadgroup()),
        cmd(10, "XACK", Exact, |g| { let mut a = argv!["XACK", g.xgkey(), g.xgroup_name()]; a.extend(g.xids(1, 3)); a }),
        cmd(10, "XPENDING", Stream, |g| g.xpending()),
        cmd(8, "XCLAIM", Stream, |g| g.xclaim()),
        cmd(8, "XAUTOCLAIM", Stream, |g| g.xautoclaim()),
        cmd(12, "XINFO", Stream, |g| g.xinfo()),
        cmd(1, "XINFO HELP", Help, |g| argv!["XINFO", g.kw("HELP")]),
        cmd(2, "CONFIG SET stream-node-max-entries", Exact, |g| argv!["CONFIG", "SET", "stream-node-max-entries", g.pick(&["2", "3", "5", "100"])]),
        cmd(3, "TYPE / OBJECT ENCODING (stream)", Exact, |g| {
            if g.chance(50) { argv!["TYPE", g.xkey()] } else { argv!["OBJECT", "ENCODING", g.xkey()] }
        }),
        ops(4, "XREAD / XREADGROUP BLOCK", |g| g.xblock()),
        ops(4, "DUMP + RESTORE (stream)", |g| g.xdump_restore()),
    ]
}
