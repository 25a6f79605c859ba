//! Request decoding: RESP multibulk frames and inline commands, with Redis's size limits and
//! protocol error texts.
//!
//! A multibulk request is first walked header by header (`*N`, then `$len` per argument) so
//! limits are enforced as soon as a header arrives — a client announcing `$99999999999` is
//! refused at once instead of being buffered — and nesting is refused before any recursive
//! parser sees it. A complete frame is then parsed with the redis-protocol crate. Every argument
//! is copied into its own `Bytes`, so a stored value never pins the connection's read buffer;
//! short arguments share one allocation with their reference count (see [`copy_arg`]).

use bytes::{Buf, Bytes, BytesMut};
use redis_protocol::resp2::decode::decode_range;
use redis_protocol::resp2::types::RangeFrame;

use super::text::split_args;
use crate::error::ProtocolError;

/// Longest inline command, and longest `*N` / `$N` header line, Redis buffers (64 KiB).
const MAX_INLINE: usize = 64 * 1024;
/// Largest argument count Redis accepts in one request.
const MAX_MULTIBULK: i64 = i32::MAX as i64;
/// Before authentication Redis only accepts small requests.
const UNAUTH_MAX_MULTIBULK: i64 = 10;
const UNAUTH_MAX_BULK: i64 = 16 * 1024;

/// Size limits applied while decoding.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `proto-max-bulk-len`: largest single argument.
    pub max_bulk_len: i64,
    /// Whether the connection has authenticated (or needs no authentication).
    pub authenticated: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len: 512 * 1024 * 1024,
            authenticated: true,
        }
    }
}

/// Decodes one request from the front of `buf`, consuming it.
///
/// Returns `Ok(None)` when more bytes are needed and `Ok(Some(argv))` for a complete request;
/// an empty `argv` (blank inline line, `*0`, `*-1`) is a request with nothing to run.
pub fn decode_request(
    buf: &mut BytesMut,
    limits: Limits,
) -> Result<Option<Vec<Bytes>>, ProtocolError> {
    if buf.is_empty() {
        return Ok(None);
    }
    if buf[0] == b'*' {
        decode_multibulk(buf, limits)
    } else {
        decode_inline(buf)
    }
}

/// Finds the end of the header line starting at `start`: the index of its `\r`.
fn header_end(buf: &[u8], start: usize) -> Option<usize> {
    memchr_cr(&buf[start..]).map(|i| start + i)
}

fn memchr_cr(hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&b| b == b'\r')
}

/// Parses a header integer as Redis's `string2ll` does: `0`, or an optional `-` and digits
/// without a leading zero; no `+`, no spaces, no overflow.
fn parse_header_int(bytes: &[u8]) -> Option<i64> {
    if bytes == b"0" {
        return Some(0);
    }
    let (negative, digits) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    if !matches!(digits.first(), Some(b'1'..=b'9')) {
        return None;
    }
    let mut value: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        // Accumulate negatively so i64::MIN parses too.
        value = value.checked_mul(10)?.checked_sub(i64::from(d - b'0'))?;
    }
    if negative {
        Some(value)
    } else {
        value.checked_neg()
    }
}

/// Walks the headers of a multibulk frame. Returns the frame's total length once every argument
/// has arrived, `None` while incomplete, or the protocol error Redis would send.
fn scan_multibulk(buf: &[u8], limits: Limits) -> Result<Option<(usize, usize)>, ProtocolError> {
    let Some(cr) = header_end(buf, 1) else {
        return if buf.len() > MAX_INLINE {
            Err(ProtocolError::TooBigMbulkCount)
        } else {
            Ok(None)
        };
    };
    let count = parse_header_int(&buf[1..cr]).ok_or(ProtocolError::InvalidMultibulkLength)?;
    if count > MAX_MULTIBULK {
        return Err(ProtocolError::InvalidMultibulkLength);
    }
    if count > UNAUTH_MAX_MULTIBULK && !limits.authenticated {
        return Err(ProtocolError::Malformed(
            "unauthenticated multibulk length".into(),
        ));
    }
    let mut pos = cr + 2;
    if count <= 0 {
        return Ok(if buf.len() >= pos {
            Some((pos, 0))
        } else {
            None
        });
    }
    for _ in 0..count {
        if pos >= buf.len() {
            return Ok(None);
        }
        if buf[pos] != b'$' {
            return Err(ProtocolError::ExpectedDollar(buf[pos] as char));
        }
        let Some(cr) = header_end(buf, pos + 1) else {
            return if buf.len() - pos > MAX_INLINE {
                Err(ProtocolError::TooBigBulkCount)
            } else {
                Ok(None)
            };
        };
        let len = parse_header_int(&buf[pos + 1..cr]).ok_or(ProtocolError::InvalidBulkLength)?;
        if len < 0 || len > limits.max_bulk_len {
            return Err(ProtocolError::InvalidBulkLength);
        }
        if len > UNAUTH_MAX_BULK && !limits.authenticated {
            return Err(ProtocolError::Malformed(
                "unauthenticated bulk length".into(),
            ));
        }
        pos = cr + 2 + len as usize + 2;
        if pos > buf.len() {
            return Ok(None);
        }
    }
    Ok(Some((pos, count as usize)))
}

fn decode_multibulk(
    buf: &mut BytesMut,
    limits: Limits,
) -> Result<Option<Vec<Bytes>>, ProtocolError> {
    let Some((frame_len, count)) = scan_multibulk(buf, limits)? else {
        return Ok(None);
    };
    if count == 0 {
        buf.advance(frame_len);
        return Ok(Some(Vec::new()));
    }
    let frame = decode_range(&buf[..frame_len])
        .map_err(|e| ProtocolError::Malformed(e.details().to_string()))?;
    let Some((RangeFrame::Array(items), used)) = frame else {
        return Err(ProtocolError::Malformed("invalid multibulk frame".into()));
    };
    if used != frame_len {
        return Err(ProtocolError::Malformed("invalid multibulk frame".into()));
    }
    let mut argv = Vec::with_capacity(count);
    for item in items {
        let RangeFrame::BulkString((start, end)) = item else {
            return Err(ProtocolError::ExpectedDollar('?'));
        };
        argv.push(copy_arg(&buf[start..end]));
    }
    buf.advance(frame_len);
    Ok(Some(argv))
}

/// Arguments up to this length live inline with their reference count: together one 64-byte
/// allocation, one cache line, like Redis's embedded strings.
const INLINE_ARG: usize = 55;

struct InlineArg {
    len: u8,
    bytes: [u8; INLINE_ARG],
}

// The reference count (one word) plus the argument fill exactly one 64-byte block.
const _: () = assert!(std::mem::size_of::<usize>() + std::mem::size_of::<InlineArg>() == 64);

impl AsRef<[u8]> for InlineArg {
    fn as_ref(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// Copies one argument out of the read buffer into its own allocation.
///
/// Handlers clone arguments (the cursor hands out clones, the keyspace keeps one). A plain
/// `Bytes::copy_from_slice` buffer gets its reference count allocated separately on the first
/// clone, so every stored key and value would cost a second allocation and a second cache line
/// to touch when it is overwritten. Short arguments are therefore reference-counted from the
/// start, with their bytes in the same block.
fn copy_arg(arg: &[u8]) -> Bytes {
    if arg.len() > INLINE_ARG {
        return Bytes::copy_from_slice(arg);
    }
    let mut inline = InlineArg {
        len: arg.len() as u8,
        bytes: [0; INLINE_ARG],
    };
    inline.bytes[..arg.len()].copy_from_slice(arg);
    Bytes::from_owner(inline)
}

fn decode_inline(buf: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ProtocolError> {
    let Some(nl) = buf.iter().position(|&b| b == b'\n') else {
        return if buf.len() > MAX_INLINE {
            Err(ProtocolError::TooBigInline)
        } else {
            Ok(None)
        };
    };
    let mut line = &buf[..nl];
    if line.last() == Some(&b'\r') {
        line = &line[..line.len() - 1];
    }
    let argv = split_args(line).ok_or(ProtocolError::UnbalancedQuotes)?;
    buf.advance(nl + 1);
    Ok(Some(argv.into_iter().map(Bytes::from).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(input: &[u8]) -> Result<Vec<Vec<Bytes>>, ProtocolError> {
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        while let Some(argv) = decode_request(&mut buf, Limits::default())? {
            out.push(argv);
        }
        Ok(out)
    }

    #[test]
    fn pipelined_multibulk_and_inline() {
        let got = decode_all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\nset a \"b c\"\n").unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], vec![Bytes::from("GET"), Bytes::from("k")]);
        assert_eq!(got[1], vec![Bytes::from("PING")]);
        assert_eq!(
            got[2],
            vec![Bytes::from("set"), Bytes::from("a"), Bytes::from("b c")]
        );
    }

    #[test]
    fn incomplete_frames_wait() {
        assert!(decode_all(b"*2\r\n$3\r\nGET\r\n$1\r\n").unwrap().is_empty());
        assert!(decode_all(b"*2\r\n$3\r\nGE").unwrap().is_empty());
        assert!(decode_all(b"PIN").unwrap().is_empty());
    }

    #[test]
    fn redis_protocol_errors() {
        assert_eq!(decode_all(b"*-5\r\n").unwrap(), vec![Vec::<Bytes>::new()]);
        assert_eq!(
            decode_all(b"*1\r\n$99999999999\r\n"),
            Err(ProtocolError::InvalidBulkLength)
        );
        assert_eq!(
            decode_all(b"*x\r\n"),
            Err(ProtocolError::InvalidMultibulkLength)
        );
        assert_eq!(
            decode_all(b"*1\r\n*1\r\n$1\r\na\r\n"),
            Err(ProtocolError::ExpectedDollar('*'))
        );
        assert_eq!(
            decode_all(b"set a \"b\n"),
            Err(ProtocolError::UnbalancedQuotes)
        );
        assert_eq!(
            decode_all(&vec![b'a'; 70_000]),
            Err(ProtocolError::TooBigInline)
        );
    }

    #[test]
    fn short_and_long_arguments_round_trip() {
        let long = vec![b'x'; INLINE_ARG + 1];
        let exact = vec![b'y'; INLINE_ARG];
        let mut input = b"*4\r\n$0\r\n\r\n".to_vec();
        for arg in [&b"key"[..], &exact, &long] {
            input.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            input.extend_from_slice(arg);
            input.extend_from_slice(b"\r\n");
        }
        let got = decode_all(&input).unwrap();
        assert_eq!(
            got,
            vec![vec![
                Bytes::new(),
                Bytes::from("key"),
                exact.into(),
                long.into()
            ]]
        );
        let clone = got[0][1].clone();
        drop(got);
        assert_eq!(clone, "key");
    }

    #[test]
    fn header_integers_follow_string2ll() {
        for (text, value) in [
            (&b"0"[..], Some(0)),
            (b"12", Some(12)),
            (b"-1", Some(-1)),
            (b"9223372036854775807", Some(i64::MAX)),
            (b"-9223372036854775808", Some(i64::MIN)),
            (b"9223372036854775808", None),
            (b"01", None),
            (b"+1", None),
            (b"-0", None),
            (b" 1", None),
            (b"1 ", None),
            (b"", None),
            (b"-", None),
        ] {
            assert_eq!(parse_header_int(text), value, "{text:?}");
        }
        // Redis refuses these headers; a lenient parser would accept them.
        assert_eq!(
            decode_all(b"*01\r\n$4\r\nPING\r\n"),
            Err(ProtocolError::InvalidMultibulkLength)
        );
        assert_eq!(
            decode_all(b"*1\r\n$+4\r\nPING\r\n"),
            Err(ProtocolError::InvalidBulkLength)
        );
    }
}
