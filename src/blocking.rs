//! Blocking commands (BLPOP, BLMOVE, BZPOPMIN, XREAD BLOCK ...): the request a handler makes
//! when it finds nothing to serve, and the timeout arguments those commands share.
//!
//! A handler that would block calls [`ExecCtx::block`] with a [`BlockRequest`]. The connection
//! then waits; when one of the keys is written with a value of the awaited type, the command
//! is run again on the client's behalf (Redis 7.2's model) and its reply sent, or the client
//! keeps waiting if it still finds nothing. Inside MULTI and scripts nothing blocks: the
//! command answers its timeout reply at once. Depends on `commands` (for the context) and
//! `protocol`; never on `server`.

use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::commands::ExecCtx;
use crate::commands::args::{parse_f64, parse_i64};
use crate::error::CmdError;
use crate::protocol::Reply;

/// What a blocked command waits for.
#[derive(Debug, Clone)]
pub struct BlockRequest {
    /// The keys whose writes may let the command through, in argument order.
    pub keys: Vec<Bytes>,
    /// The type (`TYPE` name: "list", "zset", "stream") a key must hold to wake the client.
    pub value_type: &'static str,
    /// Whether deleting a key also wakes the client (XREADGROUP then fails, as in Redis).
    pub wake_on_delete: bool,
    /// When to give up; `None` waits forever (a timeout of 0).
    pub deadline: Option<Instant>,
    /// The reply sent when the deadline passes (a null of the command's shape).
    pub timeout_reply: Reply,
    /// The command to run again when woken, when it is not the one the client sent (XREAD's
    /// `$` becomes the stream's last id at the time it blocked).
    pub retry_argv: Option<Vec<Bytes>>,
}

impl ExecCtx<'_> {
    /// Blocks the calling client on `request`; returns the reply to give now: the timeout
    /// reply where blocking is denied (MULTI, scripts), else a placeholder the connection
    /// never sends.
    pub fn block(&mut self, request: BlockRequest) -> Reply {
        if self.client.deny_blocking {
            return request.timeout_reply;
        }
        self.client.blocked = Some(request);
        Reply::Nil
    }
}

/// A timeout in seconds as BLPOP, BLMOVE, BZPOPMIN ... take it: a non-negative float,
/// rounded up to whole milliseconds; 0 means forever (`None`).
pub fn timeout_secs(arg: &[u8]) -> Result<Option<Duration>, CmdError> {
    let secs =
        parse_f64(arg).map_err(|_| CmdError::err("timeout is not a float or out of range"))?;
    let ms = (secs * 1000.0).ceil();
    if ms > i64::MAX as f64 {
        return Err(CmdError::err("timeout is out of range"));
    }
    checked_timeout(ms as i64)
}

/// A timeout in milliseconds as XREAD / XREADGROUP BLOCK take it: a non-negative integer;
/// 0 means forever (`None`).
pub fn timeout_ms(arg: &[u8]) -> Result<Option<Duration>, CmdError> {
    let ms =
        parse_i64(arg).map_err(|_| CmdError::err("timeout is not an integer or out of range"))?;
    checked_timeout(ms)
}

fn checked_timeout(ms: i64) -> Result<Option<Duration>, CmdError> {
    if ms < 0 {
        return Err(CmdError::err("timeout is negative"));
    }
    let now_ms = i64::try_from(crate::keyspace::unix_ms()).unwrap_or(i64::MAX);
    if ms > i64::MAX - now_ms {
        return Err(CmdError::err("timeout is out of range"));
    }
    Ok((ms > 0).then(|| Duration::from_millis(ms as u64)))
}

/// The deadline of a timeout parsed by [`timeout_secs`] or [`timeout_ms`].
pub fn deadline(timeout: Option<Duration>) -> Option<Instant> {
    timeout.map(|t| Instant::now() + t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_parse_like_redis() {
        assert_eq!(timeout_secs(b"0").unwrap(), None);
        assert_eq!(
            timeout_secs(b"0.0001").unwrap(),
            Some(Duration::from_millis(1)),
            "rounded up"
        );
        assert_eq!(
            timeout_secs(b"1.5").unwrap(),
            Some(Duration::from_millis(1500))
        );
        let text = |r: Result<Option<Duration>, CmdError>| r.unwrap_err().to_string();
        assert_eq!(text(timeout_secs(b"-1")), "ERR timeout is negative");
        assert_eq!(
            text(timeout_secs(b"abc")),
            "ERR timeout is not a float or out of range"
        );
        assert_eq!(text(timeout_secs(b"inf")), "ERR timeout is out of range");
        assert_eq!(
            text(timeout_ms(b"1.5")),
            "ERR timeout is not an integer or out of range"
        );
        assert_eq!(text(timeout_ms(b"-5")), "ERR timeout is negative");
        assert_eq!(
            timeout_ms(b"250").unwrap(),
            Some(Duration::from_millis(250))
        );
    }
}
