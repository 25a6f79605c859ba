//! What HSCAN, SSCAN and ZSCAN share: their options after the cursor and their reply.

use bytes::Bytes;

use super::Args;
use super::args::eq_ignore_case;
use crate::error::CmdError;
use crate::glob::glob_match;
use crate::protocol::Reply;

/// `[MATCH pattern] [COUNT count]` (and HSCAN's `NOVALUES`), parsed once the key is found,
/// as Redis does: a missing key answers an empty page whatever the options.
pub struct ScanOptions {
    pub count: usize,
    /// `None` for no pattern or `*`.
    pub pattern: Option<Bytes>,
    /// HSCAN NOVALUES: fields only.
    pub novalues: bool,
}

impl ScanOptions {
    /// Parses the remaining arguments; `NOVALUES` is accepted only when `novalues_allowed`.
    pub fn parse(args: &mut Args, novalues_allowed: bool) -> Result<ScanOptions, CmdError> {
        let mut opts = ScanOptions {
            count: 10,
            pattern: None,
            novalues: false,
        };
        while let Some(opt) = args.next() {
            let has_value = !args.is_empty();
            if eq_ignore_case(&opt, "count") && has_value {
                let count = args.next_i64()?;
                if count < 1 {
                    return Err(CmdError::Syntax);
                }
                opts.count = usize::try_from(count).unwrap_or(usize::MAX);
            } else if eq_ignore_case(&opt, "match") && has_value {
                let pattern = args.next_bytes()?;
                opts.pattern = (pattern.as_ref() != b"*").then_some(pattern);
            } else if novalues_allowed && eq_ignore_case(&opt, "novalues") {
                opts.novalues = true;
            } else {
                return Err(CmdError::Syntax);
            }
        }
        Ok(opts)
    }

    /// Whether `item` passes the MATCH pattern.
    pub fn matches(&self, item: &[u8]) -> bool {
        self.pattern
            .as_ref()
            .is_none_or(|p| glob_match(p, item, false))
    }
}

/// A SCAN-family page: the next cursor and the items.
pub fn scan_reply(cursor: u64, items: Vec<Reply>) -> Reply {
    Reply::Array(vec![
        Reply::bulk_str(cursor.to_string()),
        Reply::Array(items),
    ])
}
