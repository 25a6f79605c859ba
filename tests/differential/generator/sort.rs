//! SORT and SORT_RO over their own keys: each step builds a list, a set of integers or
//! strings, or a sorted set, plus weight strings (`sw_<element>`) and weight hashes
//! (`sh_<element>` field `f`), then sorts it with random options. A set without a defined
//! order (a hash table in 7.0, a listpack in 7.4) is compared as unordered and never paged
//! when the sort keeps its native order (BY a constant) or all weights may tie.

use super::{Check::*, Entry, Gen, ops};
use crate::ops::{Arg, Op, argv};

const ELEMENTS: &[&str] = &["3", "1", "10", "-2", "1.5", "a", "B", "ab", "", "7", "x y"];
const NUMBERS: &[&str] = &["3", "1", "10", "-2", "1.5", "7", "0", "42"];
const WEIGHTS: &[&str] = &["1", "-5", "30", "2.5", "abc", "", "1e3", "inf"];
const BY: &[&str] = &["sw_*", "sh_*->f", "nosort", "sw_*->", "sw_", "missing_*"];
const GET: &[&str] = &["#", "sw_*", "sh_*->f", "nostar", "sh_*->"];

impl Gen {
    /// One SORT step: build the source and the weights, sort, read a stored result back.
    fn sort_step(&mut self) -> Vec<Op> {
        let kind = self.rng.range(0, 3);
        let numeric = self.chance(50);
        let pool = if numeric { NUMBERS } else { ELEMENTS };
        let elements: Vec<&str> = (0..self.rng.range(0, 6)).map(|_| self.pick(pool)).collect();
        let mut ops = vec![self.op(argv!["DEL", "sort:src", "sort:dst", "sort:other"], Exact)];
        let src: Vec<Arg> = match kind {
            0 => argv!["RPUSH", "sort:src"],
            1 => argv!["SADD", "sort:src"],
            _ => argv!["ZADD", "sort:src"],
        };
        if !elements.is_empty() {
            let mut build = src;
            for (i, element) in elements.iter().enumerate() {
                if kind == 2 {
                    build.push(Arg::from(((i as i64 * 7) % 5).to_string()));
                }
                build.push(Arg::from(*element));
            }
            ops.push(self.op(build, Exact));
        }
        if self.chance(15) {
            ops.push(self.op(argv!["SET", "sort:other", "x"], Exact));
        }
        for element in &elements {
            if self.chance(70) {
                let weight = self.pick(WEIGHTS);
                ops.push(self.op(argv!["SET", format!("sw_{element}"), weight], Exact));
            }
            if self.chance(50) {
                let weight = self.pick(WEIGHTS);
                ops.push(self.op(argv!["HSET", format!("sh_{element}"), "f", weight], Exact));
            }
        }
        let readonly = self.chance(30);
        let key = if self.chance(8) {
            "sort:other"
        } else {
            "sort:src"
        };
        let mut sort = argv![if readonly { "SORT_RO" } else { "SORT" }, key];
        let mut by_pattern = false;
        let mut limited = false;
        let mut store = false;
        for _ in 0..self.rng.range(0, 4) {
            match self.rng.range(0, 7) {
                0 => sort.push("DESC".into()),
                1 => sort.push("ALPHA".into()),
                2 => {
                    by_pattern = true;
                    sort.extend(argv!["BY", self.pick(BY)]);
                }
                3 => sort.extend(argv!["GET", self.pick(GET)]),
                4 => {
                    limited = true;
                    let start = self.pick(&["0", "1", "-1", "3", "x"]);
                    let count = self.pick(&["1", "2", "-1", "10"]);
                    sort.extend(argv!["LIMIT", start, count]);
                }
                5 if !readonly => {
                    store = true;
                    sort.extend(argv!["STORE", "sort:dst"]);
                }
                _ => sort.push(self.pick(&["ASC", "BOGUS", "LIMIT", "BY"]).into()),
            }
        }
        // A set's own order differs between servers: compare as unordered, whole.
        let set_order_shows = kind == 1 && by_pattern;
        if set_order_shows && limited {
            return ops;
        }
        let check = if set_order_shows { Unordered } else { Exact };
        ops.push(self.op(sort, check));
        if store {
            ops.push(self.op(argv!["LRANGE", "sort:dst", "0", "-1"], check));
        }
        ops
    }
}

pub fn commands() -> Vec<Entry> {
    vec![ops(12, "SORT", |g| g.sort_step())]
}
