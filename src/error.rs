//! Error types, one enum per layer, with every error text written exactly as Redis writes it.
//!
//! `CmdError` is what a command handler returns; its `Display` is the reply line without the
//! leading `-`, and [`CmdError::to_bytes`] the exact bytes sent: errors that echo user input
//! carry it raw, cut the way Redis's C formatting cuts it (see [`c_str`]). `ProtocolError` is what the request decoder returns; the connection answers it
//! with `-ERR Protocol error: ...` and closes the socket, as Redis does.
//! This module depends on nothing else in the crate.

use std::fmt;

use bytes::Bytes;

/// A user-visible command failure. The `Display` text is the full error line (`ERR ...`,
/// `WRONGTYPE ...`), so the first word is the error code INFO `errorstats` counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CmdError {
    WrongType,
    NotInteger,
    NotFloat,
    Syntax,
    Overflow,
    OutOfRange,
    /// `ERR value is out of range, value must between MIN and MAX` (an integer argument that
    /// parses but misses a narrower range, e.g. a 32-bit database index).
    NotBetween(i64, i64),
    InvalidExpire(&'static str),
    /// APPEND / SETRANGE would grow a string past `proto-max-bulk-len`.
    StringTooLong,
    /// SETRANGE with a negative offset.
    OffsetOutOfRange,
    /// INCRBYFLOAT whose result is not a finite number.
    NanOrInfinity,
    /// DECRBY by i64::MIN, whose negation overflows.
    DecrementOverflow,
    /// LCS over a key that holds another type.
    LcsNotStrings,
    /// LCS with both LEN and IDX.
    LcsLenAndIdx,
    /// LCS over a string whose length does not fit its 32-bit table.
    LcsTooLong,
    /// LCS whose table could not be allocated.
    LcsNoMemory,
    /// HINCRBY over a field whose value is not an integer.
    HashNotInteger,
    /// HINCRBYFLOAT over a field whose value is not a number.
    HashNotFloat,
    /// HINCRBYFLOAT with a NaN or infinite increment.
    NanOrInfinityValue,
    /// A count outside the range a command can serve (HRANDFIELD ... WITHVALUES).
    ValueOutOfRange,
    /// A count of `i64::MIN`, which the random-member commands cannot negate.
    CountOutOfRange,
    /// A SCAN-family cursor that is not an unsigned 64-bit number.
    InvalidCursor,
    NoSuchKey,
    /// `ERR source and destination objects are the same` (MOVE, COPY).
    SameObject,
    /// `BUSYKEY Target key name already exists.` (RESTORE without REPLACE).
    BusyKey,
    /// `ERR DUMP payload version or checksum are wrong` (RESTORE).
    DumpPayload,
    /// `ERR Bad data format` (RESTORE of a malformed or unsupported payload).
    BadDataFormat,
    DbIndexOutOfRange,
    InvalidDbIndex,
    NoAuth,
    WrongPass,
    /// `ERR wrong number of arguments for 'name' command`
    WrongArity(String),
    /// The unknown-command reply, built by [`CmdError::unknown_command`]; raw bytes.
    UnknownCommand(Bytes),
    /// `ERR unknown subcommand 'sub'. Try CMD HELP.`, `sub` raw as the user sent it.
    UnknownSubcommand {
        command: String,
        sub: Bytes,
    },
    /// Any other `ERR <message>` reply; the message is given without the `ERR ` prefix.
    Err(String),
    /// An `ERR <message>` reply whose message echoes user input, as raw bytes; built by
    /// [`CmdError::err_echo`].
    ErrEcho(Bytes),
    /// A reply with its own error code, e.g. `BUSYKEY Target key name already exists.`
    Coded(String),
}

/// The refusal of writes after a failed background save (`stop-writes-on-bgsave-error`).
pub const MISCONF: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

impl CmdError {
    /// Redis's unknown-command text: the name, then the arguments, quoted, while the quoted
    /// text is under 128 bytes, each cut to what is left of those 128.
    pub fn unknown_command(name: &[u8], args: &[Bytes]) -> CmdError {
        let mut quoted = Vec::new();
        for arg in args {
            if quoted.len() >= 128 {
                break;
            }
            quoted.push(b'\'');
            quoted.extend_from_slice(c_str(arg, 128 - (quoted.len() - 1)));
            quoted.extend_from_slice(b"' ");
        }
        let mut text = b"ERR unknown command '".to_vec();
        text.extend_from_slice(c_str(name, 128));
        text.extend_from_slice(b"', with args beginning with: ");
        text.extend_from_slice(&quoted);
        CmdError::UnknownCommand(Bytes::from(text))
    }

    pub fn wrong_arity(name: &str) -> CmdError {
        CmdError::WrongArity(name.to_ascii_lowercase())
    }

    pub fn unknown_subcommand(command: &str, sub: &[u8]) -> CmdError {
        CmdError::UnknownSubcommand {
            command: command.to_ascii_uppercase(),
            sub: Bytes::copy_from_slice(c_str(sub, 128)),
        }
    }

    /// A subcommand its handler rejects, usually for its number of arguments (Redis's
    /// `addReplySubcommandSyntaxError`): `sub` as the user sent it.
    pub fn subcommand_syntax(command: &str, sub: &[u8]) -> CmdError {
        CmdError::err_echo(&[
            b"unknown subcommand or wrong number of arguments for '",
            c_str(sub, 128),
            format!("'. Try {} HELP.", command.to_ascii_uppercase()).as_bytes(),
        ])
    }

    pub fn err(msg: impl Into<String>) -> CmdError {
        CmdError::Err(msg.into())
    }

    /// `ERR ` followed by `parts`, some of them user input (pass it through [`c_str`]).
    pub fn err_echo(parts: &[&[u8]]) -> CmdError {
        let mut text = b"ERR ".to_vec();
        for part in parts {
            text.extend_from_slice(part);
        }
        CmdError::ErrEcho(Bytes::from(text))
    }

    /// An error with its own code (`NOGROUP ...`) whose text echoes user input: `parts`
    /// joined as raw bytes, the first starting with the code.
    pub fn coded_echo(parts: &[&[u8]]) -> CmdError {
        CmdError::ErrEcho(Bytes::from(parts.concat()))
    }

    /// The error line as sent, without the leading `-`.
    pub fn to_bytes(&self) -> Bytes {
        match self {
            CmdError::UnknownCommand(text) | CmdError::ErrEcho(text) => text.clone(),
            CmdError::UnknownSubcommand { command, sub } => {
                let mut text = b"ERR unknown subcommand '".to_vec();
                text.extend_from_slice(sub);
                text.extend_from_slice(format!("'. Try {command} HELP.").as_bytes());
                Bytes::from(text)
            }
            other => Bytes::from(other.to_string()),
        }
    }

    /// The error code: the first word of the reply (`ERR`, `WRONGTYPE`, ...).
    pub fn code(&self) -> String {
        let text = self.to_string();
        text.split(' ').next().unwrap_or("ERR").to_string()
    }
}

impl fmt::Display for CmdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CmdError::WrongType => {
                f.write_str("WRONGTYPE Operation against a key holding the wrong kind of value")
            }
            CmdError::NotInteger => f.write_str("ERR value is not an integer or out of range"),
            CmdError::NotFloat => f.write_str("ERR value is not a valid float"),
            CmdError::Syntax => f.write_str("ERR syntax error"),
            CmdError::Overflow => f.write_str("ERR increment or decrement would overflow"),
            CmdError::OutOfRange => f.write_str("ERR index out of range"),
            CmdError::NotBetween(min, max) => {
                write!(
                    f,
                    "ERR value is out of range, value must between {min} and {max}"
                )
            }
            CmdError::InvalidExpire(cmd) => write!(f, "ERR invalid expire time in '{cmd}' command"),
            CmdError::StringTooLong => {
                f.write_str("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
            }
            CmdError::OffsetOutOfRange => f.write_str("ERR offset is out of range"),
            CmdError::NanOrInfinity => f.write_str("ERR increment would produce NaN or Infinity"),
            CmdError::DecrementOverflow => f.write_str("ERR decrement would overflow"),
            CmdError::LcsNotStrings => {
                f.write_str("ERR The specified keys must contain string values")
            }
            CmdError::LcsLenAndIdx => {
                f.write_str("ERR If you want both the length and indexes, please just use IDX.")
            }
            CmdError::LcsTooLong => f.write_str("ERR String too long for LCS"),
            CmdError::LcsNoMemory => {
                f.write_str("ERR Insufficient memory, failed allocating transient memory for LCS")
            }
            CmdError::HashNotInteger => f.write_str("ERR hash value is not an integer"),
            CmdError::HashNotFloat => f.write_str("ERR hash value is not a float"),
            CmdError::NanOrInfinityValue => f.write_str("ERR value is NaN or Infinity"),
            CmdError::ValueOutOfRange => f.write_str("ERR value is out of range"),
            CmdError::CountOutOfRange => f.write_str(
                "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
            ),
            CmdError::InvalidCursor => f.write_str("ERR invalid cursor"),
            CmdError::NoSuchKey => f.write_str("ERR no such key"),
            CmdError::SameObject => f.write_str("ERR source and destination objects are the same"),
            CmdError::BusyKey => f.write_str("BUSYKEY Target key name already exists."),
            CmdError::DumpPayload => f.write_str("ERR DUMP payload version or checksum are wrong"),
            CmdError::BadDataFormat => f.write_str("ERR Bad data format"),
            CmdError::DbIndexOutOfRange => f.write_str("ERR DB index is out of range"),
            CmdError::InvalidDbIndex => f.write_str("ERR value is not an integer or out of range"),
            CmdError::NoAuth => f.write_str("NOAUTH Authentication required."),
            CmdError::WrongPass => {
                f.write_str("WRONGPASS invalid username-password pair or user is disabled.")
            }
            CmdError::WrongArity(name) => {
                write!(f, "ERR wrong number of arguments for '{name}' command")
            }
            // Lossy: the exact bytes come from `to_bytes`.
            CmdError::UnknownCommand(_)
            | CmdError::UnknownSubcommand { .. }
            | CmdError::ErrEcho(_) => f.write_str(&String::from_utf8_lossy(&self.to_bytes())),
            CmdError::Err(msg) => write!(f, "ERR {msg}"),
            CmdError::Coded(text) => f.write_str(text),
        }
    }
}

impl std::error::Error for CmdError {}

/// A malformed request. Redis answers `-ERR Protocol error: <text>` and closes the connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("invalid multibulk length")]
    InvalidMultibulkLength,
    #[error("invalid bulk length")]
    InvalidBulkLength,
    #[error("expected '$', got '{0}'")]
    ExpectedDollar(char),
    #[error("too big mbulk count string")]
    TooBigMbulkCount,
    #[error("too big bulk count string")]
    TooBigBulkCount,
    #[error("too big inline request")]
    TooBigInline,
    #[error("unbalanced quotes in request")]
    UnbalancedQuotes,
    /// The frame passed our header checks but the RESP library rejected it.
    #[error("{0}")]
    Malformed(String),
}

/// User input as Redis echoes it in errors, through C's `%s` (`max` = `usize::MAX`) or
/// `%.128s` (`max` = 128): the bytes before the first NUL, at most `max` of them, raw.
/// (CR and LF become spaces when the error line is encoded.)
pub fn c_str(bytes: &[u8], max: usize) -> &[u8] {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    &bytes[..end.min(max)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_match_redis() {
        assert_eq!(
            CmdError::wrong_arity("GET").to_string(),
            "ERR wrong number of arguments for 'get' command"
        );
        let e = CmdError::unknown_command(b"foo", &[Bytes::from_static(b"a")]);
        assert_eq!(
            e.to_string(),
            "ERR unknown command 'foo', with args beginning with: 'a' "
        );
        // Raw bytes, each argument cut at its first NUL.
        let args = [
            Bytes::from_static(b"ab\x00cd\xff"),
            Bytes::from_static(b"\xfe"),
        ];
        assert_eq!(
            CmdError::unknown_command(b"foo\x00bar", &args).to_bytes(),
            &b"ERR unknown command 'foo', with args beginning with: 'ab' '\xfe' "[..]
        );
        // The quoted arguments stop once they reach 128 bytes; the last is cut to fit.
        let long = [
            Bytes::from(vec![b'y'; 100]),
            Bytes::from(vec![b'z'; 100]),
            Bytes::from_static(b"w"),
        ];
        let text = CmdError::unknown_command(b"foo", &long).to_bytes();
        let expected = format!("'{}' '{}' ", "y".repeat(100), "z".repeat(25));
        assert!(text.ends_with(expected.as_bytes()), "{text:?}");
        assert_eq!(CmdError::WrongType.code(), "WRONGTYPE");
        assert_eq!(
            CmdError::unknown_subcommand("client", b"foo").to_string(),
            "ERR unknown subcommand 'foo'. Try CLIENT HELP."
        );
        assert_eq!(
            CmdError::unknown_subcommand("object", b"\xffx\x00y").to_bytes(),
            &b"ERR unknown subcommand '\xffx'. Try OBJECT HELP."[..]
        );
        assert_eq!(
            CmdError::err_echo(&[b"Unsupported option ", c_str(b"nx\x00\xff", usize::MAX)])
                .to_bytes(),
            &b"ERR Unsupported option nx"[..]
        );
        assert_eq!(CmdError::err_echo(&[b"x"]).code(), "ERR");
    }
}
