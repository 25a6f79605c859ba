//! Bitmaps: SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO over a small pool of
//! `b:` keys that overlaps the string keys (and now and then a hash key, for WRONGTYPE).
//! Offsets cluster around byte and word boundaries and stay within a few KB.

use super::{Check::*, Entry, Gen, HASH_KEYS, KEYS, cmd};
use crate::ops::{Arg, argv};

const BIT_KEYS: &[&[u8]] = &[b"b:a", b"b:b", b"b:c", b"k1"];
const FIELD_TYPES: &[&str] = &[
    "u1", "i1", "u4", "i4", "u7", "i8", "u8", "u15", "i16", "u31", "i32", "i33", "u63", "i63",
    "i64", "u64", "i65", "u0", "x8", "I8", "i", "u08",
];
const BIT_INTS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "127",
    "128",
    "-128",
    "255",
    "256",
    "65535",
    "-32769",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "abc",
];

impl Gen {
    /// A bitmap key; sometimes a string or hash key.
    fn bkey(&mut self) -> Arg {
        let pool = match self.rng.range(0, 19) {
            0 => HASH_KEYS,
            1 | 2 => KEYS,
            _ => BIT_KEYS,
        };
        self.pick_bytes(pool).into()
    }

    /// A bit offset: near byte/word boundaries, up to a few KB of bits, or invalid.
    fn bit_offset(&mut self) -> Arg {
        match self.rng.range(0, 19) {
            0 => self
                .pick(&["-1", "abc", "4294967296", "34359738368", "1.5", ""])
                .into(),
            1 => self.rng.range(0, 40_000).into(),
            _ => {
                let base = self.rng.range(0, 12) * 8;
                (base + self.rng.range(-1, 1)).max(0).into()
            }
        }
    }

    /// A BITCOUNT / BITPOS index: small, negative, or out of range.
    fn bit_index(&mut self) -> Arg {
        match self.rng.range(0, 9) {
            0 => self
                .pick(&["abc", "9223372036854775807", "-9223372036854775808"])
                .into(),
            1 => self.rng.range(-200, 200).into(),
            _ => self.rng.range(-20, 20).into(),
        }
    }

    fn bit_unit(&mut self) -> Vec<Arg> {
        match self.rng.range(0, 5) {
            0 => vec![self.kw("BYTE")],
            1 | 2 => vec![self.kw("BIT")],
            3 if self.chance(20) => vec!["bogus".into()],
            _ => vec![],
        }
    }

    fn bitcount(&mut self) -> Vec<Arg> {
        let mut a = argv!["BITCOUNT", self.bkey()];
        if self.chance(75) {
            a.push(self.bit_index());
            a.push(self.bit_index());
            a.extend(self.bit_unit());
        } else if self.chance(20) {
            a.push(self.bit_index());
        }
        a
    }

    fn bitpos(&mut self) -> Vec<Arg> {
        let bit = if self.chance(90) {
            self.pick(&["0", "1"])
        } else {
            self.pick(&["2", "-1", "x"])
        };
        let mut a = argv!["BITPOS", self.bkey(), bit];
        match self.rng.range(0, 3) {
            0 => {}
            1 => a.push(self.bit_index()),
            _ => {
                a.push(self.bit_index());
                a.push(self.bit_index());
                a.extend(self.bit_unit());
            }
        }
        a
    }

    fn bitop(&mut self) -> Vec<Arg> {
        let op = if self.chance(95) {
            self.pick(&["AND", "OR", "XOR", "NOT"])
        } else {
            "NAND"
        };
        let mut a = argv!["BITOP", self.kw(op), self.bkey()];
        let sources = if op == "NOT" && self.chance(90) {
            1
        } else {
            self.rng.range(1, 3)
        };
        for _ in 0..sources {
            a.push(self.bkey());
        }
        a
    }

    /// A BITFIELD offset: plain or `#n`, near boundaries, sometimes invalid.
    fn field_offset(&mut self) -> Arg {
        match self.rng.range(0, 14) {
            0 => self
                .pick(&["-1", "#-1", "#", "abc", "4294967296", "#99999999999"])
                .into(),
            1..=4 => format!("#{}", self.rng.range(0, 40)).into(),
            _ => (self.rng.range(0, 64) + self.rng.range(0, 3) * 61).into(),
        }
    }

    fn field_type(&mut self) -> Arg {
        if self.chance(90) {
            self.pick(&FIELD_TYPES[..15]).into()
        } else {
            self.pick(FIELD_TYPES).into()
        }
    }

    /// BITFIELD subcommands; `read_only` keeps to GET (and OVERFLOW) most of the time.
    fn bitfield_ops(&mut self, read_only: bool) -> Vec<Arg> {
        let mut a = Vec::new();
        for _ in 0..self.rng.range(0, 4) {
            let roll = self.rng.range(0, 19);
            if roll < 2 {
                a.push(self.kw("OVERFLOW"));
                let kind = if self.chance(95) {
                    self.pick(&["WRAP", "SAT", "FAIL"])
                } else {
                    "BOGUS"
                };
                a.push(self.kw(kind));
            } else if roll < 8 || (read_only && roll < 18) {
                a.extend([self.kw("GET"), self.field_type(), self.field_offset()]);
            } else if roll < 18 {
                let sub = self.pick(&["SET", "INCRBY"]);
                a.extend([self.kw(sub), self.field_type(), self.field_offset()]);
                a.push(self.pick(BIT_INTS).into());
            } else {
                a.push(self.pick(&["GET", "bogus", "SET"]).into());
            }
        }
        a
    }
}

#[rustfmt::skip]
pub fn commands() -> Vec<Entry> {
    vec![
        cmd(25, "SETBIT", Exact, |g| { let bit = if g.chance(95) { g.pick(&["0", "1"]) } else { g.pick(&["2", "-1", "x"]) }; argv!["SETBIT", g.bkey(), g.bit_offset(), bit] }),
        cmd(15, "GETBIT", Exact, |g| argv!["GETBIT", g.bkey(), g.bit_offset()]),
        cmd(12, "BITCOUNT", Exact, |g| g.bitcount()),
        cmd(12, "BITPOS", Exact, |g| g.bitpos()),
        cmd(8, "BITOP", Exact, |g| g.bitop()),
        cmd(15, "BITFIELD", Exact, |g| { let mut a = argv!["BITFIELD", g.bkey()]; a.extend(g.bitfield_ops(false)); a }),
        cmd(6, "BITFIELD_RO", Exact, |g| { let mut a = argv!["BITFIELD_RO", g.bkey()]; a.extend(g.bitfield_ops(true)); a }),
        cmd(1, "COMMAND INFO (bitmap)", CommandInfo, |g| argv!["COMMAND", "INFO", g.pick(&["setbit", "getbit", "bitcount", "bitpos", "bitop", "bitfield", "bitfield_ro"])]),
        cmd(1, "COMMAND GETKEYSANDFLAGS (bitfield)", Exact, |g| { let mut a = argv!["COMMAND", "GETKEYSANDFLAGS", "BITFIELD", "b:a"]; let ro = g.chance(50); a.extend(g.bitfield_ops(ro)); a }),
        cmd(10, "GET (bitmap)", Exact, |g| argv!["GET", g.bkey()]),
        cmd(4, "OBJECT ENCODING (bitmap)", Exact, |g| argv!["OBJECT", "ENCODING", g.bkey()]),
        cmd(3, "SET (bitmap key)", Exact, |g| argv!["SET", g.bkey(), g.value()]),
        cmd(2, "DEL (bitmap key)", Exact, |g| argv!["DEL", g.bkey()]),
    ]
}
