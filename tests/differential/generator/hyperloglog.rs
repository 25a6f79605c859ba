//! HyperLogLog: PFADD PFCOUNT PFMERGE over `hll:` keys that overlap the string and bitmap
//! keys, with GET of the HLL strings compared byte for byte. Some PFADDs carry a few hundred
//! elements so HLLs cross from the sparse to the dense representation, and CONFIG SET of
//! `hll-sparse-max-bytes` moves that threshold.

use super::{Check::*, Entry, Gen, HASH_KEYS, KEYS, cmd};
use crate::ops::{Arg, argv};

const HLL_KEYS: &[&[u8]] = &[b"hll:a", b"hll:b", b"hll:c"];

impl Gen {
    /// An HLL key; sometimes a string, bitmap or hash key.
    fn pfkey(&mut self) -> Arg {
        let pool: &[&[u8]] = match self.rng.range(0, 19) {
            0 => HASH_KEYS,
            1 => KEYS,
            2 => &[b"b:a"],
            _ => HLL_KEYS,
        };
        self.pick_bytes(pool).into()
    }

    fn pfkeys(&mut self, lo: i64, hi: i64) -> Vec<Arg> {
        (0..self.rng.range(lo, hi)).map(|_| self.pfkey()).collect()
    }

    /// Elements: a few, or a few hundred (sparse -> dense), from pools that overlap.
    fn pf_elements(&mut self) -> Vec<Arg> {
        let count = match self.rng.range(0, 9) {
            0 => self.rng.range(200, 600),
            1 => 0,
            _ => self.rng.range(1, 6),
        };
        let space = *[50, 2_000, 100_000]
            .get(self.rng.range(0, 2) as usize)
            .unwrap_or(&50);
        (0..count)
            .map(|_| match self.rng.range(0, 19) {
                0 => self.value(),
                _ => format!("e{}", self.rng.range(0, space)).into(),
            })
            .collect()
    }
}

#[rustfmt::skip]
pub fn commands() -> Vec<Entry> {
    vec![
        cmd(25, "PFADD", Exact, |g| { let mut a = argv!["PFADD", g.pfkey()]; a.extend(g.pf_elements()); a }),
        cmd(12, "PFCOUNT", Exact, |g| { let mut a = argv!["PFCOUNT"]; a.extend(g.pfkeys(1, 3)); a }),
        cmd(8, "PFMERGE", Exact, |g| { let mut a = argv!["PFMERGE"]; a.extend(g.pfkeys(1, 3)); a }),
        cmd(12, "GET (hll)", Exact, |g| argv!["GET", g.pfkey()]),
        cmd(3, "OBJECT ENCODING (hll)", Exact, |g| argv!["OBJECT", "ENCODING", g.pfkey()]),
        cmd(2, "CONFIG SET hll-sparse-max-bytes", Exact, |g| argv!["CONFIG", "SET", "hll-sparse-max-bytes", g.pick(&["100", "500", "3000", "8000"])]),
        cmd(3, "PFDEBUG", Exact, |g| { let sub = g.pick(&["GETREG", "DECODE", "ENCODING", "TODENSE", "bogus"]); argv!["PFDEBUG", g.kw(sub), g.pfkey()] }),
        cmd(1, "COMMAND INFO (hll)", CommandInfo, |g| argv!["COMMAND", "INFO", g.pick(&["pfadd", "pfcount", "pfmerge", "pfdebug"])]),
        cmd(1, "SETRANGE (hll corruption)", Exact, |g| argv!["SETRANGE", g.pfkey(), g.rng.range(0, 24), g.pick(&["\u{7f}", "\u{1}", "x", "\u{0}"])]),
    ]
}
