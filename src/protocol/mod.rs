//! RESP wire format: request decoding (multibulk via the redis-protocol crate, plus inline
//! commands) and reply encoding in RESP2 or RESP3.
//!
//! This layer knows RESP, not keys: it must not import `server`, `commands`, `keyspace` or
//! `search`.

pub mod decode;
pub mod encode;
pub mod reply;
pub mod text;

pub use decode::{Limits, decode_request};
pub use encode::encode;
pub use reply::{Protocol, Reply, format_double};
pub use text::{repr, split_args};
