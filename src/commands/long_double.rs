//! The x87 80-bit `long double` arithmetic of Redis's float increments, done in software.
//!
//! HINCRBYFLOAT (and INCRBYFLOAT) parse both numbers with C's `strtold`, add them as
//! `long double` (64-bit significand on x86-64) and print the sum with `%.17Lf`, trailing zeros
//! removed. Doing the same in `f64` prints different text: Redis answers `0.3` for 0.1 + 0.2
//! because the error of the wider sum stays below the 17th decimal. This module reproduces the
//! three steps exactly: correctly rounded parsing (decimal and hexadecimal, subnormals
//! included), correctly rounded addition, and exact decimal printing. Depends on nothing.

use std::cmp::Ordering;

/// Bits in the significand, the integer bit included.
const PRECISION: i64 = 64;
/// Exponent of the lowest significand bit of the smallest subnormal (2^-16445).
const MIN_EXP: i64 = -16445;
/// Exponent of the lowest significand bit of the largest finite values.
const MAX_EXP: i64 = 16383 - (PRECISION - 1);
/// Longest text Redis's `string2ld` accepts (its buffer is 5 KiB including the NUL).
const MAX_TEXT: usize = 5 * 1024;

/// A `long double` value; NaN is never produced (parsing rejects it, addition reports it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LongDouble {
    /// `mant × 2^exp`. Normal values have the top significand bit set; subnormals have
    /// `exp == MIN_EXP`; zero has `mant == 0`.
    Finite {
        negative: bool,
        mant: u64,
        exp: i64,
    },
    Infinite {
        negative: bool,
    },
}

impl LongDouble {
    pub const ZERO: LongDouble = LongDouble::Finite {
        negative: false,
        mant: 0,
        exp: 0,
    };

    /// Parses `text` as Redis's `string2ld` does: C `strtold` syntax (decimal, `0x` hexadecimal
    /// with a `p` exponent, `inf` / `infinity`), the whole text consumed, no leading space,
    /// shorter than 5 KiB. NaN, overflow and a nonzero number that rounds to zero are
    /// rejected, as Redis rejects them.
    pub fn parse(text: &[u8]) -> Option<LongDouble> {
        if text.is_empty() || text.len() >= MAX_TEXT {
            return None;
        }
        let (negative, body) = match text.split_first() {
            Some((b'-', rest)) => (true, rest),
            Some((b'+', rest)) => (false, rest),
            _ => (false, text),
        };
        if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
            return Some(LongDouble::Infinite { negative });
        }
        let hex = body
            .strip_prefix(b"0x")
            .or_else(|| body.strip_prefix(b"0X"));
        let (digits, scale) = match hex {
            Some(hex) => parse_number(hex, 16, b'p')?,
            None => parse_number(body, 10, b'e')?,
        };
        if digits.is_zero() {
            return Some(LongDouble::Finite {
                negative,
                mant: 0,
                exp: 0,
            });
        }
        let value = match hex {
            Some(_) => from_binary(negative, digits, scale)?,
            None => from_decimal(negative, digits, scale)?,
        };
        // strtold reports overflow and total underflow with ERANGE; Redis refuses both.
        match value {
            LongDouble::Finite { mant: 0, .. } | LongDouble::Infinite { .. } => None,
            finite => Some(finite),
        }
    }

    pub fn is_finite(self) -> bool {
        matches!(self, LongDouble::Finite { .. })
    }

    /// `self + other` rounded to nearest (ties to even), or `None` when the sum is NaN or
    /// infinite.
    pub fn checked_add(self, other: LongDouble) -> Option<LongDouble> {
        let (
            LongDouble::Finite {
                negative: an,
                mant: am,
                exp: ae,
            },
            LongDouble::Finite {
                negative: bn,
                mant: bm,
                exp: be,
            },
        ) = (self, other)
        else {
            return None;
        };
        if am == 0 && bm == 0 {
            let negative = an && bn;
            return Some(LongDouble::Finite {
                negative,
                mant: 0,
                exp: 0,
            });
        }
        if am == 0 {
            return Some(other);
        }
        if bm == 0 {
            return Some(self);
        }
        // Align on the operand with the larger exponent, keeping 62 spare low bits; what
        // falls below them only matters as a sticky bit.
        let ((big_neg, big_mant, big_exp), (small_neg, small_mant, small_exp)) = if ae >= be {
            ((an, am, ae), (bn, bm, be))
        } else {
            ((bn, bm, be), (an, am, ae))
        };
        let gap = big_exp - small_exp;
        let x = u128::from(big_mant) << 62;
        let (y, sticky) = if gap <= 62 {
            (u128::from(small_mant) << (62 - gap), false)
        } else if gap - 62 >= 128 {
            (0, true)
        } else {
            let cut = (gap - 62) as u32;
            let small = u128::from(small_mant);
            (small >> cut, small & ((1u128 << cut) - 1) != 0)
        };
        let base = big_exp - 62;
        let sum = if big_neg == small_neg {
            round(big_neg, x + y, sticky, base)
        } else if sticky {
            // The true y is a little above the truncated one (and x is far above both).
            round(big_neg, x - y - 1, true, base)
        } else {
            match x.cmp(&y) {
                Ordering::Greater => round(big_neg, x - y, false, base),
                Ordering::Less => round(small_neg, y - x, false, base),
                Ordering::Equal => LongDouble::ZERO,
            }
        };
        sum.is_finite().then_some(sum)
    }

    /// The text Redis stores and replies for a float increment (`ld2string` in its human
    /// mode): `%.17Lf` with trailing zeros and a trailing point removed, `-0` shown as `0`.
    pub fn to_human_string(self) -> String {
        let (negative, mant, exp) = match self {
            LongDouble::Infinite { negative } => {
                return if negative { "-inf" } else { "inf" }.to_string();
            }
            LongDouble::Finite {
                negative,
                mant,
                exp,
            } => (negative, mant, exp),
        };
        let mut text = String::new();
        if negative {
            text.push('-');
        }
        if exp >= 0 {
            // An integer: no fraction digits survive the trimming.
            text.push_str(&Big::from_u64(mant).shl(exp as usize).to_decimal());
        } else {
            // Round mant × 2^exp × 10^17 to an integer, ties to even, as glibc does.
            const SCALE: u128 = 100_000_000_000_000_000;
            let scaled = u128::from(mant) * SCALE;
            let shift = -exp;
            let fixed = if shift >= 128 {
                0 // below 2^-7 units: rounds to zero
            } else {
                let kept = scaled >> shift;
                let rest = scaled & ((1u128 << shift) - 1);
                let half = 1u128 << (shift - 1);
                let up = rest > half || (rest == half && kept & 1 == 1);
                kept + u128::from(up)
            };
            let fraction = format!("{:017}", fixed % SCALE);
            text.push_str(&(fixed / SCALE).to_string());
            let fraction = fraction.trim_end_matches('0');
            if !fraction.is_empty() {
                text.push('.');
                text.push_str(fraction);
            }
        }
        if text == "-0" {
            text = "0".to_string();
        }
        text
    }
}

/// Splits `[digits][.digits][<marker>[+-]digits]` (at least one mantissa digit) into its
/// digits as an integer and the power of the radix (decimal) or of two (hexadecimal) to scale
/// them by.
fn parse_number(text: &[u8], radix: u32, marker: u8) -> Option<(Big, i64)> {
    let (mantissa, exponent) = match text.iter().position(|c| c.eq_ignore_ascii_case(&marker)) {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    let (whole, fraction) = match mantissa.iter().position(|&c| c == b'.') {
        Some(at) => (&mantissa[..at], &mantissa[at + 1..]),
        None => (mantissa, &[][..]),
    };
    if whole.len() + fraction.len() == 0 {
        return None;
    }
    let mut digits = Big::default();
    for &c in whole.iter().chain(fraction) {
        let d = char::from(c).to_digit(radix)?;
        digits.mul_add_small(radix, d);
    }
    // Each fraction digit divides by the radix: by 10, or by 2^4 for hexadecimal.
    let per_digit = if radix == 16 { 4 } else { 1 };
    let mut scale = -(fraction.len() as i64) * per_digit;
    if let Some(exponent) = exponent {
        let (sign, magnitude) = match exponent.split_first() {
            Some((b'-', rest)) => (-1, rest),
            Some((b'+', rest)) => (1, rest),
            _ => (1, exponent),
        };
        if magnitude.is_empty() || !magnitude.iter().all(u8::is_ascii_digit) {
            return None;
        }
        // Saturate: far past the range checks below, every such number is 0 or infinite.
        let value = magnitude.iter().fold(0i64, |acc, &c| {
            (acc * 10 + i64::from(c - b'0')).min(1_000_000)
        });
        scale += sign * value;
    }
    Some((digits, scale))
}

/// `digits × 10^scale`, correctly rounded.
fn from_decimal(negative: bool, digits: Big, scale: i64) -> Option<LongDouble> {
    // Bounds on log10 of the value from the bit length of the digits, to skip the exact
    // arithmetic where the answer is surely infinite (past 1.19e4932) or zero (under half
    // the smallest subnormal, 3.6e-4951).
    let bits = digits.bit_len() as f64;
    if (bits - 1.0) * std::f64::consts::LOG10_2 + scale as f64 > 4933.0 {
        return None;
    }
    if bits * std::f64::consts::LOG10_2 + (scale as f64) < -4953.0 {
        return None;
    }
    // 10^scale = 5^scale × 2^scale: the power of two goes to the exponent.
    let fives = Big::pow5(scale.unsigned_abs() as usize);
    Some(if scale >= 0 {
        from_ratio(negative, digits.mul(&fives), Big::from_u64(1), scale)
    } else {
        from_ratio(negative, digits, fives, scale)
    })
}

/// `digits × 2^scale`, correctly rounded.
fn from_binary(negative: bool, digits: Big, scale: i64) -> Option<LongDouble> {
    // The leading bit's exponent: past 16383 is infinite, under -16446 rounds to zero.
    let top = digits.bit_len() as i64 - 1 + scale;
    if !(MIN_EXP - 2..=16383).contains(&top) {
        return None;
    }
    Some(from_ratio(negative, digits, Big::from_u64(1), scale))
}

/// `num / den × 2^exp`, correctly rounded.
fn from_ratio(negative: bool, num: Big, den: Big, exp: i64) -> LongDouble {
    // Scale so the quotient has 68 or 69 bits: enough below the 64 kept to round exactly,
    // with the remainder as the sticky bit.
    let shift = 68 - (num.bit_len() as i64 - den.bit_len() as i64);
    let (num, den) = if shift >= 0 {
        (num.shl(shift as usize), den)
    } else {
        (num, den.shl(shift.unsigned_abs() as usize))
    };
    let (quotient, inexact) = num.div_bounded(&den, 70);
    round(negative, quotient, inexact, exp - shift)
}

/// Rounds `(q + f) × 2^exp` to the nearest long double, ties to even, where the fraction `f`
/// is in (0, 1) when `sticky` and 0 otherwise. Callers pass a `q` with spare low bits whenever
/// `sticky` is set, so the rounding bit is always known.
fn round(negative: bool, q: u128, sticky: bool, exp: i64) -> LongDouble {
    if q == 0 {
        return LongDouble::Finite {
            negative,
            mant: 0,
            exp: 0,
        };
    }
    let bits = 128 - i64::from(q.leading_zeros());
    let top = exp + bits - 1;
    let lsb = (top - (PRECISION - 1)).max(MIN_EXP);
    let drop = lsb - exp;
    let (mant, lsb) = if drop <= 0 {
        ((q << drop.unsigned_abs()) as u64, lsb)
    } else if drop > 128 {
        (0, lsb) // below half of the lowest kept bit
    } else {
        let (kept, rest) = if drop == 128 {
            (0, q)
        } else {
            (q >> drop, q & ((1u128 << drop) - 1))
        };
        let half = 1u128 << (drop - 1);
        let up = rest > half || (rest == half && (sticky || kept & 1 == 1));
        let rounded = kept + u128::from(up);
        // Rounding up may carry into a 65th bit.
        if rounded >> PRECISION != 0 {
            ((rounded >> 1) as u64, lsb + 1)
        } else {
            (rounded as u64, lsb)
        }
    };
    if mant == 0 {
        return LongDouble::Finite {
            negative,
            mant: 0,
            exp: 0,
        };
    }
    if lsb > MAX_EXP {
        return LongDouble::Infinite { negative };
    }
    LongDouble::Finite {
        negative,
        mant,
        exp: lsb,
    }
}

/// Unsigned big integer, little-endian 32-bit limbs without high zero limbs: just what exact
/// conversion between decimal text and binary floating point needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Big(Vec<u32>);

impl Big {
    fn from_u64(v: u64) -> Big {
        let mut big = Big(vec![v as u32, (v >> 32) as u32]);
        big.trim();
        big
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    fn bit_len(&self) -> usize {
        self.0
            .last()
            .map_or(0, |top| self.0.len() * 32 - top.leading_zeros() as usize)
    }

    /// `self = self × m + a`.
    fn mul_add_small(&mut self, m: u32, a: u32) {
        let mut carry = u64::from(a);
        for limb in &mut self.0 {
            let v = u64::from(*limb) * u64::from(m) + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry != 0 {
            self.0.push(carry as u32);
        }
        self.trim();
    }

    fn mul(&self, other: &Big) -> Big {
        let mut out = vec![0u32; self.0.len() + other.0.len()];
        for (i, &a) in self.0.iter().enumerate() {
            let mut carry = 0u64;
            for (j, &b) in other.0.iter().enumerate() {
                let v = u64::from(a) * u64::from(b) + u64::from(out[i + j]) + carry;
                out[i + j] = v as u32;
                carry = v >> 32;
            }
            out[i + other.0.len()] = carry as u32;
        }
        let mut big = Big(out);
        big.trim();
        big
    }

    fn pow5(n: usize) -> Big {
        // 5^13 is the largest power of five that fits a limb.
        const FIVE_13: u32 = 1_220_703_125;
        let mut big = Big::from_u64(1);
        for _ in 0..n / 13 {
            big.mul_add_small(FIVE_13, 0);
        }
        big.mul_add_small(5u32.pow((n % 13) as u32), 0);
        big
    }

    fn shl(&self, bits: usize) -> Big {
        if self.is_zero() {
            return Big::default();
        }
        let (limbs, bits) = (bits / 32, (bits % 32) as u32);
        let mut out = vec![0u32; limbs];
        let mut carry = 0u32;
        for &limb in &self.0 {
            out.push(if bits == 0 {
                limb
            } else {
                (limb << bits) | carry
            });
            carry = if bits == 0 { 0 } else { limb >> (32 - bits) };
        }
        out.push(carry);
        let mut big = Big(out);
        big.trim();
        big
    }

    fn cmp(&self, other: &Big) -> Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
    }

    /// `self -= other`, for `self >= other`.
    fn sub_assign(&mut self, other: &Big) {
        let mut borrow = false;
        for (i, limb) in self.0.iter_mut().enumerate() {
            let (v, under) = limb.overflowing_sub(other.0.get(i).copied().unwrap_or(0));
            let (v, under_again) = v.overflowing_sub(u32::from(borrow));
            *limb = v;
            borrow = under || under_again;
        }
        self.trim();
    }

    /// `self / den` when the quotient is known to be below `2^bits` (bits <= 128), and
    /// whether a remainder was left.
    fn div_bounded(mut self, den: &Big, bits: u32) -> (u128, bool) {
        let mut quotient = 0u128;
        for i in (0..bits).rev() {
            let step = den.shl(i as usize);
            if self.cmp(&step) != Ordering::Less {
                self.sub_assign(&step);
                quotient |= 1u128 << i;
            }
        }
        (quotient, !self.is_zero())
    }

    fn to_decimal(&self) -> String {
        const CHUNK: u64 = 1_000_000_000;
        let mut rest = self.0.clone();
        let mut chunks = Vec::new();
        while !rest.is_empty() {
            let mut remainder = 0u64;
            for limb in rest.iter_mut().rev() {
                let v = (remainder << 32) | u64::from(*limb);
                *limb = (v / CHUNK) as u32;
                remainder = v % CHUNK;
            }
            while rest.last() == Some(&0) {
                rest.pop();
            }
            chunks.push(remainder);
        }
        let mut text = chunks.pop().unwrap_or(0).to_string();
        for chunk in chunks.iter().rev() {
            text.push_str(&format!("{chunk:09}"));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(a: &str, b: &str) -> Option<String> {
        let a = LongDouble::parse(a.as_bytes()).expect("a parses");
        let b = LongDouble::parse(b.as_bytes()).expect("b parses");
        a.checked_add(b).map(LongDouble::to_human_string)
    }

    /// Expected texts are what Redis 7.0 on x86-64 replies to INCRBYFLOAT / HINCRBYFLOAT.
    #[test]
    fn sums_print_like_redis() {
        for (a, b, expected) in [
            ("0", "0.1", "0.1"),
            ("0.1", "0.2", "0.3"),
            ("10.5", "0.1", "10.6"),
            ("3", "-1.5", "1.5"),
            ("0", "-1e-20", "0"),
            ("0", "1.5e-7", "0.00000015"),
            ("0", "5.0e3", "5000"),
            ("0", "0x1p-3", "0.125"),
            ("0", "0X1.8P3", "12"),
            ("0", ".5", "0.5"),
            ("0", "5.", "5"),
            ("0", "+.5e-3", "0.0005"),
            ("17179869184", "1.5", "17179869185.5"),
            ("9223372036854775807", "1", "9223372036854775808"),
            ("-9223372036854775808", "-1", "-9223372036854775809"),
            ("0", "3.0000000000000000000000000000001", "3"),
            ("0", "0.1234567890123456789", "0.12345678901234568"),
            (
                "0",
                "123456789012345678901234567890",
                "123456789012345678899921813504",
            ),
            ("0", "1e-4950", "0"),
            ("0", "1e-17", "0.00000000000000001"),
            ("0", "5e-18", "0"),
            ("1", "-1", "0"),
            ("-0", "0", "0"),
            ("2.5", "0.0000000000000000025", "2.5"),
            ("0", "18446744073709551615", "18446744073709551615"),
            ("0", "18446744073709551617", "18446744073709551616"),
            ("0", "0.30000000000000000000000000000000000000000001", "0.3"),
            (
                "1",
                "1e100",
                "9999999999999999999669353532207342619498699019828496079271391541752018669482644324418977840117055488",
            ),
            ("0", "0x1p-16445", "0"),
        ] {
            assert_eq!(sum(a, b).as_deref(), Some(expected), "{a} + {b}");
        }
    }

    #[test]
    fn huge_values_print_every_digit() {
        let text = sum("0", "1e4000").expect("finite");
        assert_eq!(text.len(), 4000);
        assert!(text.starts_with("99999999999999999999654638730996237849324925835069"));
        assert!(text.ends_with("020629864357825543441956972190272729951206648276349901340672"));
        let max = sum("0", "0x1.fffffffffffffffep16383").expect("finite");
        assert!(max.starts_with("11897314953572317650212638530309702051690633222946242"));
        assert_eq!(max.len(), 4933);
    }

    #[test]
    fn overflowing_sums_are_refused() {
        assert_eq!(sum("1.18973149535723176502e+4932", "1e4932"), None);
        assert_eq!(sum("inf", "1"), None);
        assert_eq!(sum("inf", "-inf"), None);
    }

    #[test]
    fn parsing_follows_strtold_and_redis_checks() {
        for bad in [
            "",
            "1e5000",
            "1e-5000",
            "1e-4951",
            " 1",
            "1 ",
            "nan",
            "NaN",
            "-nan",
            "0x",
            "0x.",
            "0x1p",
            "1e",
            "1e+",
            ".",
            "+",
            "-",
            "infin",
            "0x1p16384",
            "0x1p-16446",
            "1_0",
            "1e-2147483649",
            "1..2",
            "0x1g",
        ] {
            assert_eq!(LongDouble::parse(bad.as_bytes()), None, "{bad:?}");
        }
        for good in [
            "infinity",
            "-Infinity",
            "inF",
            "0e999999999",
            "0.0e-99999999999999999999",
            "0x1.8p-16446",
            "-0",
            "007",
        ] {
            assert!(LongDouble::parse(good.as_bytes()).is_some(), "{good:?}");
        }
        assert!(LongDouble::parse(&[b'1'; MAX_TEXT]).is_none());
    }
}
