//! Argument cursor and the strict number parsing Redis applies to arguments.

use bytes::Bytes;

use crate::error::CmdError;

/// The arguments of one command, consumed front to back. `argv[0]` (the command name) is
/// skipped on creation; subcommand handlers see the cursor positioned after the subcommand.
pub struct Args {
    argv: Vec<Bytes>,
    pos: usize,
}

impl Args {
    pub fn new(argv: Vec<Bytes>, pos: usize) -> Args {
        Args { argv, pos }
    }

    /// Every argument including the command name.
    pub fn argv(&self) -> &[Bytes] {
        &self.argv
    }

    pub fn remaining(&self) -> usize {
        self.argv.len() - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub fn peek(&self) -> Option<&Bytes> {
        self.argv.get(self.pos)
    }

    /// The next argument, or `ERR syntax error` when there is none.
    pub fn next_bytes(&mut self) -> Result<Bytes, CmdError> {
        self.next().ok_or(CmdError::Syntax)
    }

    /// The next argument parsed as a Redis integer.
    pub fn next_i64(&mut self) -> Result<i64, CmdError> {
        parse_i64(&self.next_bytes()?)
    }

    /// The next argument parsed as a Redis double.
    pub fn next_f64(&mut self) -> Result<f64, CmdError> {
        parse_f64(&self.next_bytes()?)
    }

    /// Consumes the next argument if it equals `keyword`, ignoring ASCII case.
    pub fn eat(&mut self, keyword: &str) -> bool {
        match self.peek() {
            Some(a) if a.eq_ignore_ascii_case(keyword.as_bytes()) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    /// All arguments not consumed yet.
    pub fn rest(&mut self) -> Vec<Bytes> {
        let rest = self.argv[self.pos..].to_vec();
        self.pos = self.argv.len();
        rest
    }
}

impl Iterator for Args {
    type Item = Bytes;

    fn next(&mut self) -> Option<Bytes> {
        let arg = self.argv.get(self.pos).cloned();
        if arg.is_some() {
            self.pos += 1;
        }
        arg
    }
}

/// Parses an integer with Redis's `string2ll` rules: optional `-`, no `+`, no spaces, no
/// leading zeros, must fit in i64.
pub fn parse_i64(bytes: &[u8]) -> Result<i64, CmdError> {
    let digits = bytes.strip_prefix(b"-").unwrap_or(bytes);
    let valid = !digits.is_empty()
        && digits.len() <= 20
        && digits.iter().all(u8::is_ascii_digit)
        && (digits[0] != b'0' || bytes == b"0");
    if !valid {
        return Err(CmdError::NotInteger);
    }
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(CmdError::NotInteger)
}

/// Parses a double as Redis's `string2d` does: no spaces, no NaN, `inf` accepted.
pub fn parse_f64(bytes: &[u8]) -> Result<f64, CmdError> {
    let text = std::str::from_utf8(bytes).map_err(|_| CmdError::NotFloat)?;
    if text.is_empty()
        || text.starts_with(char::is_whitespace)
        || text.ends_with(char::is_whitespace)
    {
        return Err(CmdError::NotFloat);
    }
    let lower = text.to_ascii_lowercase();
    let value: f64 = match lower.as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        _ if lower.contains("nan") || lower.contains("inf") => return Err(CmdError::NotFloat),
        _ => text.parse().map_err(|_| CmdError::NotFloat)?,
    };
    Ok(value)
}

/// Parses a SCAN-family cursor as Redis 7.0 does with C's `strtoul`: decimal digits after an
/// optional sign, no leading space, at most `u64::MAX`; a negative cursor wraps around and an
/// empty one is 0. C reads the argument only up to its first NUL byte.
pub fn parse_cursor(arg: &[u8]) -> Result<u64, CmdError> {
    let text = arg.split(|&b| b == 0).next().unwrap_or_default();
    if text.is_empty() {
        return Ok(0);
    }
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    if digits.is_empty() {
        return Err(CmdError::InvalidCursor);
    }
    let value = digits.iter().try_fold(0u64, |acc, &d| {
        if !d.is_ascii_digit() {
            return None;
        }
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    });
    let value = value.ok_or(CmdError::InvalidCursor)?;
    Ok(if negative {
        value.wrapping_neg()
    } else {
        value
    })
}

/// Whether two arguments are equal ignoring ASCII case.
pub fn eq_ignore_case(a: &[u8], b: &str) -> bool {
    a.eq_ignore_ascii_case(b.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_integers() {
        assert_eq!(parse_i64(b"-12"), Ok(-12));
        assert_eq!(parse_i64(b"0"), Ok(0));
        for bad in [
            &b"+1"[..],
            b" 1",
            b"01",
            b"-0",
            b"",
            b"1.0",
            b"99999999999999999999",
        ] {
            assert_eq!(parse_i64(bad), Err(CmdError::NotInteger), "{bad:?}");
        }
    }

    #[test]
    fn strict_doubles() {
        assert_eq!(parse_f64(b"1.5"), Ok(1.5));
        assert_eq!(parse_f64(b"-inf"), Ok(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"1e3"), Ok(1000.0));
        for bad in [&b"nan"[..], b" 1", b"abc", b""] {
            assert_eq!(parse_f64(bad), Err(CmdError::NotFloat));
        }
    }

    #[test]
    fn cursors_parse_like_strtoul() {
        assert_eq!(parse_cursor(b"0"), Ok(0));
        assert_eq!(parse_cursor(b"+17"), Ok(17));
        assert_eq!(parse_cursor(b"007"), Ok(7));
        assert_eq!(parse_cursor(b""), Ok(0));
        assert_eq!(parse_cursor(b"-1"), Ok(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551615"), Ok(u64::MAX));
        assert_eq!(parse_cursor(b"12\0junk"), Ok(12));
        for bad in [
            &b"x"[..],
            b" 1",
            b"1 ",
            b"-",
            b"+",
            b"0x10",
            b"18446744073709551616",
            b"abc",
            b"1x",
        ] {
            assert_eq!(parse_cursor(bad), Err(CmdError::InvalidCursor), "{bad:?}");
        }
    }
}
