//! Writes a `Reply` as RESP2 or RESP3 bytes into the connection's output buffer.
//!
//! Replies are written straight into one buffer per batch (no intermediate frame tree), which
//! is what keeps pipelined throughput high.

use bytes::{BufMut, BytesMut};

use super::reply::{Protocol, Reply, format_double_g17};

/// Appends the encoding of `reply` to `out`.
pub fn encode(reply: &Reply, proto: Protocol, out: &mut BytesMut) {
    let resp3 = proto == Protocol::Resp3;
    match reply {
        Reply::Simple(text) => line(out, b'+', text.as_bytes()),
        Reply::Error(text) => line(out, b'-', &sanitize_error(text)),
        Reply::Integer(n) => int_line(out, b':', *n),
        Reply::Bulk(bytes) => bulk(out, bytes),
        Reply::Nil if resp3 => out.put_slice(b"_\r\n"),
        Reply::Nil => out.put_slice(b"$-1\r\n"),
        Reply::NilArray if resp3 => out.put_slice(b"_\r\n"),
        Reply::NilArray => out.put_slice(b"*-1\r\n"),
        Reply::Array(items) => aggregate(out, b'*', items, proto),
        Reply::Set(items) => aggregate(out, if resp3 { b'~' } else { b'*' }, items, proto),
        Reply::Push(items) => aggregate(out, if resp3 { b'>' } else { b'*' }, items, proto),
        Reply::Map(pairs) => {
            if resp3 {
                int_line(out, b'%', pairs.len() as i64);
            } else {
                int_line(out, b'*', 2 * pairs.len() as i64);
            }
            for (k, v) in pairs {
                encode(k, proto, out);
                encode(v, proto, out);
            }
        }
        Reply::Double(d) if resp3 => line(out, b',', format_double_g17(*d).as_bytes()),
        Reply::Double(d) => bulk(out, format_double_g17(*d).as_bytes()),
        Reply::Bool(b) if resp3 => out.put_slice(if *b { b"#t\r\n" } else { b"#f\r\n" }),
        Reply::Bool(b) => int_line(out, b':', i64::from(*b)),
        Reply::Verbatim(format, text) if resp3 => {
            int_line(out, b'=', (text.len() + 4) as i64);
            out.put_slice(format.as_bytes());
            out.put_u8(b':');
            out.put_slice(text);
            out.put_slice(b"\r\n");
        }
        Reply::Verbatim(_, text) => bulk(out, text),
        Reply::BigNumber(n) if resp3 => line(out, b'(', n.as_bytes()),
        Reply::BigNumber(n) => bulk(out, n.as_bytes()),
    }
}

fn aggregate(out: &mut BytesMut, kind: u8, items: &[Reply], proto: Protocol) {
    int_line(out, kind, items.len() as i64);
    for item in items {
        encode(item, proto, out);
    }
}

fn line(out: &mut BytesMut, kind: u8, text: &[u8]) {
    out.reserve(text.len() + 3);
    out.put_u8(kind);
    out.put_slice(text);
    out.put_slice(b"\r\n");
}

fn int_line(out: &mut BytesMut, kind: u8, n: i64) {
    let mut buf = itoa::Buffer::new();
    line(out, kind, buf.format(n).as_bytes());
}

fn bulk(out: &mut BytesMut, bytes: &[u8]) {
    let mut buf = itoa::Buffer::new();
    let len = buf.format(bytes.len());
    out.reserve(len.len() + bytes.len() + 5);
    out.put_u8(b'$');
    out.put_slice(len.as_bytes());
    out.put_slice(b"\r\n");
    out.put_slice(bytes);
    out.put_slice(b"\r\n");
}

/// Error lines must stay one line: Redis replaces CR and LF with spaces.
fn sanitize_error(text: &[u8]) -> Vec<u8> {
    text.iter()
        .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b })
        .collect()
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn enc(reply: Reply, proto: Protocol) -> Vec<u8> {
        let mut out = BytesMut::new();
        encode(&reply, proto, &mut out);
        out.to_vec()
    }

    #[test]
    fn resp2_and_resp3_shapes() {
        let map = Reply::Map(vec![(Reply::bulk_str("a"), Reply::Integer(1))]);
        assert_eq!(
            enc(map.clone(), Protocol::Resp2),
            b"*2\r\n$1\r\na\r\n:1\r\n"
        );
        assert_eq!(enc(map, Protocol::Resp3), b"%1\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(enc(Reply::Nil, Protocol::Resp2), b"$-1\r\n");
        assert_eq!(enc(Reply::NilArray, Protocol::Resp2), b"*-1\r\n");
        assert_eq!(enc(Reply::Nil, Protocol::Resp3), b"_\r\n");
        assert_eq!(enc(Reply::Double(1.5), Protocol::Resp2), b"$3\r\n1.5\r\n");
        assert_eq!(enc(Reply::Double(1.5), Protocol::Resp3), b",1.5\r\n");
        assert_eq!(enc(Reply::Bool(true), Protocol::Resp2), b":1\r\n");
        assert_eq!(
            enc(
                Reply::Verbatim("txt", Bytes::from_static(b"hi")),
                Protocol::Resp3
            ),
            b"=6\r\ntxt:hi\r\n"
        );
        assert_eq!(
            enc(
                Reply::Error(Bytes::from_static(b"ERR a\nb\xff")),
                Protocol::Resp2
            ),
            b"-ERR a b\xff\r\n"
        );
    }
}
