//! Redis's long-double arithmetic for INCRBYFLOAT and HINCRBYFLOAT, reproduced exactly.
//!
//! Redis parses both operands with `strtold`, adds them in the x87 80-bit extended format and
//! prints the sum with `%.17Lf`, trimming trailing zeros. Doing the same in f64 prints
//! different digits (`5005.6` vs Redis's `5005.60000000000000009`), so the sum is computed with
//! `rustc_apfloat`'s x87 type and formatted here with an exact decimal expansion.
//! Depends only on `error` and `commands::args` number syntax.

use rustc_apfloat::ieee::X87DoubleExtended;
use rustc_apfloat::{Float, Round, Status};

use crate::commands::args::parse_f64;
use crate::error::CmdError;

/// Longest number text Redis accepts (its MAX_LONG_DOUBLE_CHARS, 5 KiB).
const MAX_TEXT: usize = 5 * 1024;

/// An x87 80-bit extended-precision value.
#[derive(Debug, Clone, Copy)]
pub struct LongDouble(X87DoubleExtended);

impl LongDouble {
    pub const ZERO: LongDouble = LongDouble(X87DoubleExtended::ZERO);

    pub fn is_finite(self) -> bool {
        self.0.is_finite()
    }

    /// Parses like Redis's `string2ld`: `strtold` syntax (decimal, `inf`, C hex floats), no
    /// surrounding spaces, no NaN, and out-of-range values refused.
    pub fn parse(text: &[u8]) -> Result<LongDouble, CmdError> {
        if text.len() >= MAX_TEXT {
            return Err(CmdError::NotFloat);
        }
        let s = std::str::from_utf8(text).map_err(|_| CmdError::NotFloat)?;
        let unsigned = s.trim_start_matches(['+', '-']);
        // Compare bytes: the text may start with a multi-byte character.
        let is_hex = unsigned.len() > 2 && unsigned.as_bytes()[..2].eq_ignore_ascii_case(b"0x");
        let source = if is_hex {
            let digits = &unsigned[2..];
            if digits.starts_with(['+', '-']) || s.len() - unsigned.len() > 1 {
                return Err(CmdError::NotFloat);
            }
            // C allows a hex float without a binary exponent; the parser wants one.
            if digits.contains(['p', 'P']) {
                s.to_string()
            } else {
                format!("{s}p0")
            }
        } else {
            // The decimal syntax (and `inf`) is exactly what `parse_f64` accepts.
            if parse_f64(text)?.is_infinite() && !unsigned.chars().any(|c| c.is_ascii_digit()) {
                let inf = X87DoubleExtended::INFINITY;
                return Ok(LongDouble(if s.starts_with('-') { -inf } else { inf }));
            }
            s.to_string()
        };
        let parsed = X87DoubleExtended::from_str_r(&source, Round::NearestTiesToEven)
            .map_err(|_| CmdError::NotFloat)?;
        let value = parsed.value;
        let out_of_range = parsed.status.contains(Status::OVERFLOW)
            || (parsed.status.contains(Status::UNDERFLOW) && value.is_zero());
        if out_of_range || value.is_nan() {
            return Err(CmdError::NotFloat);
        }
        Ok(LongDouble(value))
    }

    /// `self + other` rounded to 80 bits, as text (`%.17Lf` with trailing zeros trimmed), or
    /// Redis's error when the sum is not finite.
    pub fn add_to_text(self, other: LongDouble) -> Result<String, CmdError> {
        let sum = (self.0 + other.0).value;
        if !sum.is_finite() {
            return Err(CmdError::NanOrInfinity);
        }
        Ok(format_human(sum))
    }
}

/// `%.17Lf`, then trailing zeros (and a bare `.`) removed; `-0` becomes `0`.
fn format_human(value: X87DoubleExtended) -> String {
    let bits = value.to_bits();
    let negative = (bits >> 79) & 1 == 1;
    let biased = ((bits >> 64) & 0x7fff) as i64;
    let significand = bits as u64;
    // value = significand * 2^shift (denormals use the minimum exponent).
    let shift = biased.max(1) - 16383 - 63;
    let mut digits = if shift >= 0 {
        let mut integer = decimal_of_shifted(significand, shift as u32);
        integer.push_str(&"0".repeat(17));
        integer
    } else {
        scaled_fraction(significand, (-shift) as u32).to_string()
    };
    if digits.len() < 18 {
        digits = format!("{digits:0>18}");
    }
    let point = digits.len() - 17;
    let mut text = format!("{}.{}", &digits[..point], &digits[point..]);
    let kept = text.trim_end_matches('0').trim_end_matches('.').len();
    text.truncate(kept);
    if negative && text != "0" {
        text.insert(0, '-');
    }
    text
}

/// round(significand * 10^17 / 2^k), ties to even: the digits of the value with 17 decimals.
fn scaled_fraction(significand: u64, k: u32) -> u128 {
    let numerator = u128::from(significand) * 10u128.pow(17);
    if k >= 128 {
        return 0; // numerator < 2^121, so the quotient is below one half
    }
    let quotient = numerator >> k;
    let remainder = numerator & ((1u128 << k) - 1);
    let half = 1u128 << (k - 1).min(127);
    if k > 0 && (remainder > half || (remainder == half && quotient & 1 == 1)) {
        quotient + 1
    } else {
        quotient
    }
}

/// Decimal digits of significand * 2^k (k up to 16383), with a little-endian base-1e9 bignum.
fn decimal_of_shifted(significand: u64, k: u32) -> String {
    const BASE: u64 = 1_000_000_000;
    let mut limbs: Vec<u64> = vec![
        significand % BASE,
        (significand / BASE) % BASE,
        significand / BASE / BASE,
    ];
    let mut remaining = k;
    while remaining > 0 {
        let step = remaining.min(30);
        let mut carry = 0u64;
        for limb in limbs.iter_mut() {
            let v = (*limb << step) + carry;
            *limb = v % BASE;
            carry = v / BASE;
        }
        while carry > 0 {
            limbs.push(carry % BASE);
            carry /= BASE;
        }
        remaining -= step;
    }
    while limbs.len() > 1 && limbs.last() == Some(&0) {
        limbs.pop();
    }
    let mut text = limbs.last().map_or_else(String::new, u64::to_string);
    for limb in limbs.iter().rev().skip(1) {
        text.push_str(&format!("{limb:09}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incr(a: &str, b: &str) -> Result<String, CmdError> {
        LongDouble::parse(a.as_bytes())?.add_to_text(LongDouble::parse(b.as_bytes())?)
    }

    #[test]
    fn sums_print_like_redis() {
        // Expected texts are what Redis 7.0.15 answers for INCRBYFLOAT.
        assert_eq!(incr("10.5", "0.1").unwrap(), "10.6");
        assert_eq!(incr("0", "12345.6789").unwrap(), "12345.67889999999999961");
        assert_eq!(incr("0", "5005.6").unwrap(), "5005.60000000000000009");
        assert_eq!(incr("0.1", "0.2").unwrap(), "0.3");
        assert_eq!(
            incr("0", "9223372036854775808").unwrap(),
            "9223372036854775808"
        );
        assert_eq!(incr("5.0e3", "2.0e2").unwrap(), "5200");
        assert_eq!(incr("0", "-0").unwrap(), "0");
        assert_eq!(incr("0", "1e-20").unwrap(), "0");
        assert_eq!(incr("0", "0x1p-2").unwrap(), "0.25");
        assert_eq!(incr("0", "0x10").unwrap(), "16");
        assert_eq!(incr("1", "-3.5").unwrap(), "-2.5");
        assert_eq!(incr("0", "-0X1.8p1").unwrap(), "-3");
        assert_eq!(incr("0", "0x.8").unwrap(), "0.5");
        assert_eq!(incr("+1.5", ".5").unwrap(), "2");
        assert_eq!(
            incr("0", "0x123456789abcdef0123").unwrap(),
            "5373003642731685151232"
        );
        assert_eq!(incr("0", "1e20").unwrap(), "100000000000000000000");
    }

    #[test]
    fn errors_like_redis() {
        assert_eq!(incr("0", "inf"), Err(CmdError::NanOrInfinity));
        assert_eq!(incr("inf", "-inf"), Err(CmdError::NanOrInfinity));
        for bad in [
            "nan",
            " 1",
            "1e",
            "abc",
            "0x",
            "1e5000",
            "1e-5000",
            "",
            "0x1p",
            "0xg",
            "0x1p+",
            "0x1.2.3",
            "--1",
            "0x-1",
            "a€1",
            "é1",
            "\u{0}\u{0}?V",
        ] {
            assert!(
                LongDouble::parse(bad.as_bytes()).is_err(),
                "{bad:?} must be refused"
            );
        }
        let long = "1".repeat(MAX_TEXT);
        assert_eq!(
            LongDouble::parse(long.as_bytes()).unwrap_err(),
            CmdError::NotFloat
        );
    }

    #[test]
    fn extremes_print_like_redis() {
        // Texts captured from Redis 7.0.15.
        assert_eq!(
            incr("0", "1e300").unwrap(),
            "1000000000000000000008997324079559193870523944273290747938260082321265646596180935755849152083750497190350372508614274835903592556184672983913096260520748646287327135641843653294084255107606016789726652932370030551382947620994540294772781889620606179267611627097410650567187386105690089424915104006144"
        );
        assert_eq!(
            incr("0", "0.000000000000000015").unwrap(),
            "0.00000000000000002"
        );
        assert_eq!(
            incr("0", "0.000000000000000025").unwrap(),
            "0.00000000000000002"
        );
        assert_eq!(incr("0", "-1e-300").unwrap(), "0");
        let text = incr("0", "1e4000").unwrap();
        assert_eq!(text.len(), 4000);
        assert!(text.starts_with("999999999999999999996546387309"));
        assert!(text.ends_with("9901340672"));
    }

    fn sum(a: &str, b: &str) -> Option<String> {
        let a = LongDouble::parse(a.as_bytes()).expect("a parses");
        let b = LongDouble::parse(b.as_bytes()).expect("b parses");
        a.add_to_text(b).ok()
    }

    /// Expected texts are what Redis 7.0 on x86-64 replies to INCRBYFLOAT / HINCRBYFLOAT.
    #[test]
    fn more_sums_print_like_redis() {
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
    fn largest_values_print_every_digit() {
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
            assert!(LongDouble::parse(bad.as_bytes()).is_err(), "{bad:?}");
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
            assert!(LongDouble::parse(good.as_bytes()).is_ok(), "{good:?}");
        }
        assert!(LongDouble::parse(&[b'1'; MAX_TEXT]).is_err());
    }
}
