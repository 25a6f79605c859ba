//! MULTI / EXEC / DISCARD / WATCH.
//!
//! A transaction step runs on one connection: MULTI, a few commands drawn from the string,
//! hash, key, set and bitmap rows of the generator (sometimes broken: a missing argument, an
//! unknown command, a nested MULTI or WATCH; blocking pops, which answer at once inside
//! EXEC), then EXEC or DISCARD. The WATCH steps watch keys on one connection, maybe write on
//! another, and EXEC on the first; one of them lets a watched key expire before EXEC.

use super::{Entry, Gen, Make, ops};
use crate::ops::{Arg, Check::*, Op, argv};

/// Rows (of the foundation and other groups) whose commands may be queued: deterministic,
/// compared exactly, and harmless inside a transaction.
const QUEUEABLE: &[&str] = &[
    "GET",
    "SET",
    "GETDEL",
    "GETSET",
    "SETNX",
    "MSET",
    "MGET",
    "APPEND",
    "STRLEN",
    "GETRANGE",
    "SETRANGE",
    "INCR",
    "DECR",
    "INCRBY",
    "INCRBYFLOAT",
    "HSET",
    "HSETNX",
    "HGET",
    "HMGET",
    "HDEL",
    "HLEN",
    "HEXISTS",
    "HINCRBY",
    "HINCRBYFLOAT",
    "HSTRLEN",
    "DEL",
    "EXISTS",
    "TYPE",
    "RENAME",
    "RENAMENX",
    "COPY",
    "MOVE",
    "PERSIST",
    "EXPIRE",
    "PEXPIRE",
    "SELECT",
    "PING",
    "ECHO",
    "<unknown command>",
    "SADD",
    "SREM",
    "SISMEMBER",
    "SCARD",
    "SMOVE",
    "SETBIT",
    "GETBIT",
    "BITCOUNT",
    "PFADD",
    "LPUSH / RPUSH",
    "LPOP / RPOP",
    "LLEN",
    "LRANGE",
    "LMOVE",
    "LMPOP",
];
/// Keys for the blocking pops queued inside MULTI (the lists group's keys and a string).
const BLOCKING_KEYS: &[&str] = &["l:a", "l:b", "k1", "nolist"];

#[rustfmt::skip]
pub fn commands() -> Vec<Entry> {
    vec![
        ops(12, "MULTI ... EXEC | DISCARD", |g| g.transaction()),
        ops(6, "WATCH, a write on another connection, MULTI ... EXEC", |g| g.watched_transaction()),
        ops(1, "WATCH a key that expires before EXEC", |g| g.watch_expiring()),
        ops(1, "UNWATCH / EXEC / DISCARD outside MULTI", |g| {
            let conn = g.conn();
            let name = g.pick(&["UNWATCH", "EXEC", "DISCARD"]);
            vec![Op::Cmd { conn, argv: argv![name], check: Exact }]
        }),
    ]
}

impl Gen {
    /// A command from a [`QUEUEABLE`] row, sometimes with its last argument dropped (an
    /// arity error that aborts the transaction).
    fn queueable(&mut self) -> Vec<Arg> {
        let rows: Vec<usize> = (0..self.entries.len())
            .filter(|&i| QUEUEABLE.contains(&self.entries[i].name))
            .collect();
        let row = rows[self.rng.range(0, rows.len() as i64 - 1) as usize];
        let Make::Cmd(_, make) = self.entries[row].make else {
            unreachable!("queueable rows are single commands");
        };
        let mut argv = make(self);
        if self.chance(4) {
            argv.pop();
        }
        argv
    }

    /// What follows MULTI on `conn`: queued commands (now and then one refused while
    /// queueing), then EXEC or, less often, DISCARD. Blocking pops only when the MULTI before
    /// is sure to have worked (`blocking`): outside a transaction they would really block.
    fn queue_and_finish(&mut self, conn: usize, blocking: bool) -> Vec<Op> {
        let mut out = Vec::new();
        for _ in 0..self.rng.range(0, 4) {
            let argv = match self.rng.range(0, 39) {
                0 => argv!["MULTI"],
                1 => argv!["WATCH", self.key()],
                // Blocking is denied inside EXEC: these answer at once.
                2 | 3 if blocking => {
                    let name = self.pick(&["BLPOP", "BRPOP"]);
                    let key = self.pick(BLOCKING_KEYS);
                    argv![name, key, self.pick(&["0", "1"])]
                }
                4 if blocking => {
                    let (from, to) = (self.pick(BLOCKING_KEYS), self.pick(BLOCKING_KEYS));
                    argv!["BLMOVE", from, to, "LEFT", "RIGHT", "0"]
                }
                _ => self.queueable(),
            };
            out.push(Op::Cmd {
                conn,
                argv,
                check: Exact,
            });
        }
        let end = if self.chance(85) { "EXEC" } else { "DISCARD" };
        out.push(Op::Cmd {
            conn,
            argv: argv![end],
            check: Exact,
        });
        out
    }

    fn transaction(&mut self) -> Vec<Op> {
        let conn = self.conn();
        // The step's first command, so it may be mutated into a MULTI that fails.
        let mut out = vec![Op::Cmd {
            conn,
            argv: argv!["MULTI"],
            check: Exact,
        }];
        out.extend(self.queue_and_finish(conn, false));
        out
    }

    /// A connection other than `conn`.
    fn other_conn(&mut self, conn: usize) -> usize {
        let shift = self.rng.range(1, super::CONNECTIONS as i64 - 1) as usize;
        (conn + shift) % super::CONNECTIONS
    }

    fn watched_transaction(&mut self) -> Vec<Op> {
        let conn = self.conn();
        let mut watch = argv!["WATCH"];
        for _ in 0..self.rng.range(1, 3) {
            watch.push(self.any_key());
        }
        let mut out = vec![Op::Cmd {
            conn,
            argv: watch,
            check: Exact,
        }];
        // Another connection writes (or reads, or flushes) in between, or nobody does.
        let other = self.other_conn(conn);
        match self.rng.range(0, 9) {
            0 => {}
            1 => out.push(Op::Cmd {
                conn: other,
                argv: argv!["FLUSHDB"],
                check: Exact,
            }),
            2 => {
                let (a, b) = (self.db_arg(), self.db_arg());
                out.push(Op::Cmd {
                    conn: other,
                    argv: argv!["SWAPDB", a, b],
                    check: Exact,
                });
            }
            _ => {
                let argv = self.queueable();
                out.push(Op::Cmd {
                    conn: other,
                    argv,
                    check: Exact,
                });
            }
        }
        if self.chance(20) {
            out.push(Op::Cmd {
                conn,
                argv: argv!["UNWATCH"],
                check: Exact,
            });
        }
        out.push(Op::Cmd {
            conn,
            argv: argv!["MULTI"],
            check: Exact,
        });
        out.extend(self.queue_and_finish(conn, true));
        out
    }

    /// WATCH a key with a TTL that passes before EXEC: EXEC fails (Redis 7), unless the key
    /// had already gone. The TTL leaves the runner time to send WATCH to both servers.
    fn watch_expiring(&mut self) -> Vec<Op> {
        let conn = self.conn();
        let key = self.key();
        vec![
            Op::Cmd {
                conn,
                argv: argv!["SET", key.clone(), "v", "PX", "300"],
                check: Exact,
            },
            Op::Cmd {
                conn,
                argv: argv!["WATCH", key.clone()],
                check: Exact,
            },
            Op::Sleep(400),
            Op::Cmd {
                conn,
                argv: argv!["MULTI"],
                check: Exact,
            },
            Op::Cmd {
                conn,
                argv: argv!["GET", key],
                check: Exact,
            },
            Op::Cmd {
                conn,
                argv: argv!["EXEC"],
                check: Exact,
            },
        ]
    }
}
