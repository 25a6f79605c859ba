//! The `Reply` value every command returns, independent of the wire protocol.

use bytes::Bytes;

/// The protocol version a connection speaks, chosen by `HELLO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    #[default]
    Resp2,
    Resp3,
}

/// A reply in protocol-neutral form. RESP3-only kinds degrade to their RESP2 forms when encoded
/// for a RESP2 connection (map -> flat array, double -> bulk string, bool -> integer, ...).
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `+<text>`
    Simple(String),
    /// `-<text>`: the full error line, including its code (`ERR ...`). Bytes, because errors
    /// echo user input as Redis does: raw.
    Error(Bytes),
    Integer(i64),
    Bulk(Bytes),
    /// A missing value: RESP2 `$-1`, RESP3 `_`.
    Nil,
    /// A missing aggregate: RESP2 `*-1`, RESP3 `_`.
    NilArray,
    Array(Vec<Reply>),
    Map(Vec<(Reply, Reply)>),
    Set(Vec<Reply>),
    Double(f64),
    Bool(bool),
    /// RESP3 verbatim string with its three-letter format (`txt`, `mkd`); RESP2 bulk string.
    Verbatim(&'static str, Bytes),
    BigNumber(String),
    /// An out-of-band message (pub/sub, invalidation): RESP3 `>`, RESP2 array.
    Push(Vec<Reply>),
}

impl Reply {
    pub fn ok() -> Reply {
        Reply::Simple("OK".to_string())
    }

    pub fn simple(text: &str) -> Reply {
        Reply::Simple(text.to_string())
    }

    pub fn bulk(bytes: impl Into<Bytes>) -> Reply {
        Reply::Bulk(bytes.into())
    }

    /// A bulk string copied from a slice.
    pub fn bulk_from(bytes: &[u8]) -> Reply {
        Reply::Bulk(Bytes::copy_from_slice(bytes))
    }

    /// A bulk string holding the decimal form of an integer or text.
    pub fn bulk_str(text: impl AsRef<str>) -> Reply {
        Reply::Bulk(Bytes::copy_from_slice(text.as_ref().as_bytes()))
    }

    pub fn opt_bulk(bytes: Option<Bytes>) -> Reply {
        bytes.map_or(Reply::Nil, Reply::Bulk)
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }
}

impl From<crate::error::CmdError> for Reply {
    fn from(e: crate::error::CmdError) -> Reply {
        Reply::Error(e.to_bytes())
    }
}

/// Formats a double as Redis does in replies: `inf`, `-inf`, `nan`, integral values without a
/// fraction, otherwise the shortest text that reads back as the same double, with `%g`-style
/// exponents (`1e+20`) beyond 17 digits.
pub fn format_double(value: f64) -> String {
    if value.is_nan() {
        return "nan".to_string();
    }
    if value.is_infinite() {
        return if value > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if value == 0.0 {
        return if value.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    let exp = value.abs().log10().floor() as i32;
    if (-5..17).contains(&exp) {
        // Rust's Display is already the shortest round-trip form, without exponent.
        format!("{value}")
    } else {
        let text = format!("{value:e}");
        // Rust writes `1e20` / `1.5e-7`; C's %g writes `1e+20` / `1.5e-07`.
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        let (sign, digits) = match exponent.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', exponent),
        };
        format!("{mantissa}e{sign}{digits:0>2}")
    }
}

/// Formats a double as C's `%.17g`, which Redis 7.0 uses for every double reply (ZSCORE,
/// ZRANGE WITHSCORES, RESP3 doubles): 17 significant digits, trailing zeros dropped, `%g`
/// exponents (`1e+20`) from 1e17 up or below 1e-4.
pub fn format_double_g17(value: f64) -> String {
    format_double_g(value, 17)
}

/// Formats a double as C's `%.<precision>g` (`precision` >= 1): that many significant
/// digits, trailing zeros dropped, `%g` exponents from 10^precision up or below 1e-4.
pub fn format_double_g(value: f64, precision: usize) -> String {
    if value.is_nan() {
        return "nan".to_string();
    }
    if value.is_infinite() {
        return if value > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if value == 0.0 {
        return if value.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    let precision = precision.max(1);
    // One rounding to `precision` significant digits; the exponent is the rounded value's,
    // and fixed notation places the same digits around the point.
    let sci = format!("{:.*e}", precision - 1, value.abs());
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i64 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::with_capacity(precision + 8);
    if value < 0.0 {
        out.push('-');
    }
    if (-4..precision as i64).contains(&exponent) {
        if exponent >= 0 {
            let (int, frac) = digits.split_at(exponent as usize + 1);
            out.push_str(int);
            out.push('.');
            out.push_str(frac);
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exponent - 1) as usize));
            out.push_str(&digits);
        }
        trim_fraction(&mut out);
    } else {
        out.push_str(mantissa);
        trim_fraction(&mut out);
        let sign = if exponent < 0 { '-' } else { '+' };
        out.push_str(&format!("e{sign}{:02}", exponent.abs()));
    }
    out
}

/// Drops trailing zeros after a decimal point, and the point when nothing follows it.
fn trim_fraction(text: &mut String) {
    if text.contains('.') {
        let kept = text.trim_end_matches('0').trim_end_matches('.').len();
        text.truncate(kept);
    }
}

#[cfg(test)]
mod tests {
    use super::{format_double, format_double_g, format_double_g17};

    #[test]
    fn doubles_format_like_redis() {
        assert_eq!(format_double(1.0), "1");
        assert_eq!(format_double(10.6), "10.6");
        assert_eq!(format_double(-0.5), "-0.5");
        assert_eq!(format_double(f64::INFINITY), "inf");
        assert_eq!(format_double(1e20), "1e+20");
        assert_eq!(format_double(1.5e-7), "1.5e-07");
        assert_eq!(format_double(5000.0), "5000");
    }

    #[test]
    fn g17_matches_c() {
        assert_eq!(format_double_g17(1.1), "1.1000000000000001");
        assert_eq!(format_double_g17(10.6), "10.6");
        assert_eq!(format_double_g17(2.0), "2");
        assert_eq!(format_double_g17(1e20), "1e+20");
        assert_eq!(format_double_g17(1.5e-7), "1.4999999999999999e-07");
        assert_eq!(format_double_g17(0.0001), "0.0001");
        assert_eq!(format_double_g17(-0.5), "-0.5");
        assert_eq!(format_double_g17(1e16), "10000000000000000");
        assert_eq!(format_double_g17(1e17), "1e+17");
        assert_eq!(format_double_g17(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn g12_matches_c() {
        assert_eq!(
            format_double_g(0.051_316_738_128_662, 12),
            "0.0513167381287"
        );
        assert_eq!(
            format_double_g(3.094_850_098_213_45e26, 12),
            "3.09485009821e+26"
        );
        assert_eq!(format_double_g(123456789012.6, 12), "123456789013");
        assert_eq!(format_double_g(1e12, 12), "1e+12");
        assert_eq!(format_double_g(0.5, 12), "0.5");
        assert_eq!(format_double_g(0.00001, 12), "1e-05");
    }
}
