//! Request decoding: RESP multibulk frames and inline commands, with Redis's size limits and
//! protocol error texts.
//!
//! A multibulk request is first walked header by header (`*N`, then `$len` per argument) so
//! limits are enforced as soon as a header arrives — a client announcing `$99999999999` is
//! refused at once instead of being buffered — and nesting is refused before any recursive
//! parser sees it. A complete frame is then parsed with the redis-protocol crate. Every argument
//! is copied into its own `Bytes`, so a stored value never pins the connection's read buffer.

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

/// Parses a header integer as Redis's `string2ll` does: optional `-`, digits, no spaces.
fn parse_header_int(bytes: &[u8]) -> Option<i64> {
    std::str::from_utf8(bytes).ok()?.parse::<i64>().ok()
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
    let argv = match frame {
        Some((RangeFrame::Array(items), used)) if used == frame_len => items
            .into_iter()
            .map(|item| match item {
                RangeFrame::BulkString((start, end)) => {
                    Ok(Bytes::copy_from_slice(&buf[start..end]))
                }
                _ => Err(ProtocolError::ExpectedDollar('?')),
            })
            .collect::<Result<Vec<_>, _>>()?,
        _ => return Err(ProtocolError::Malformed("invalid multibulk frame".into())),
    };
    buf.advance(frame_len);
    Ok(Some(argv))
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
}
