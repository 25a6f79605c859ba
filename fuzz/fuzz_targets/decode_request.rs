//! Fuzzes the RESP request decoder (`ferrostack::protocol::decode_request`).
//!
//! The first input byte picks the limits (a small `proto-max-bulk-len`, unauthenticated
//! limits) and a chunk size; the rest is the byte stream a client sends. Properties checked:
//! - decoding never panics and never loops: every `Some` consumes input, every `None`
//!   consumes nothing;
//! - feeding the stream in small chunks (as TCP may deliver it) gives exactly the same
//!   requests and the same error as decoding it in one piece, so truncated frames that are
//!   completed later decode as if they had arrived whole.
//!
//! Large allocations from announced lengths are caught by libFuzzer's malloc limit.
//!
//! Run with `-max_len=4096` (see fuzz/README.md): inputs must stay below the 64 KiB inline
//! limit, beyond which Redis itself answers differently depending on how the bytes arrive.
//! `RUSTC_BOOTSTRAP=1 cargo fuzz run decode_request corpus/decode_request \
//!   seeds/decode_request -- -max_len=4096 -malloc_limit_mb=512 -max_total_time=300`

#![no_main]

use bytes::{Bytes, BytesMut};
use ferrostack::error::ProtocolError;
use ferrostack::protocol::{Limits, decode_request};
use libfuzzer_sys::fuzz_target;

/// Every request decoded from `input` delivered `chunk` bytes at a time, and the protocol
/// error that ended the stream, if any.
fn decode_stream(
    input: &[u8],
    limits: Limits,
    chunk: usize,
) -> (Vec<Vec<Bytes>>, Option<ProtocolError>) {
    let mut buf = BytesMut::new();
    let mut requests = Vec::new();
    for piece in input.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            let before = buf.len();
            match decode_request(&mut buf, limits) {
                Ok(Some(argv)) => {
                    assert!(buf.len() < before, "a decoded request must consume input");
                    requests.push(argv);
                }
                Ok(None) => {
                    assert_eq!(buf.len(), before, "waiting for more must consume nothing");
                    break;
                }
                Err(e) => return (requests, Some(e)),
            }
        }
    }
    (requests, None)
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, input)) = data.split_first() else {
        return;
    };
    let limits = Limits {
        max_bulk_len: if control & 1 == 0 {
            512 * 1024 * 1024
        } else {
            64
        },
        authenticated: control & 2 == 0,
    };
    let chunk = usize::from(control >> 2) + 1;
    let whole = decode_stream(input, limits, input.len().max(1));
    let chunked = decode_stream(input, limits, chunk);
    assert_eq!(whole, chunked, "chunk size {chunk} changed the result");
});
