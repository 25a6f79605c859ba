//! Error types, one enum per layer, with every error text written exactly as Redis writes it.
//!
//! `CmdError` is what a command handler returns; its `Display` is the reply line without the
//! leading `-`. `ProtocolError` is what the request decoder returns; the connection answers it
//! with `-ERR Protocol error: ...` and closes the socket, as Redis does.
//! This module depends on nothing else in the crate.

use std::fmt;

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
    /// The unknown-command reply, built by [`CmdError::unknown_command`].
    UnknownCommand(String),
    /// `ERR unknown subcommand 'sub'. Try CMD HELP.`
    UnknownSubcommand {
        command: String,
        sub: String,
    },
    /// Any other `ERR <message>` reply; the message is given without the `ERR ` prefix.
    Err(String),
    /// A reply with its own error code, e.g. `BUSYKEY Target key name already exists.`
    Coded(String),
}

impl CmdError {
    /// Redis's unknown-command text: the name and up to the first 128 bytes of the arguments.
    pub fn unknown_command(name: &[u8], args: &[bytes::Bytes]) -> CmdError {
        let mut text = format!(
            "ERR unknown command '{}', with args beginning with: ",
            printable(name, 128)
        );
        for arg in args {
            text.push('\'');
            text.push_str(&printable(arg, 128));
            text.push_str("' ");
        }
        CmdError::UnknownCommand(text)
    }

    pub fn wrong_arity(name: &str) -> CmdError {
        CmdError::WrongArity(name.to_ascii_lowercase())
    }

    pub fn unknown_subcommand(command: &str, sub: &[u8]) -> CmdError {
        CmdError::UnknownSubcommand {
            command: command.to_ascii_uppercase(),
            sub: printable(sub, 128),
        }
    }

    pub fn err(msg: impl Into<String>) -> CmdError {
        CmdError::Err(msg.into())
    }

    /// A container command's own rejection of a subcommand's arguments (Redis's
    /// `addReplySubcommandSyntaxError`): `sub` as the client typed it.
    pub fn subcommand_syntax(command: &str, sub: &[u8]) -> CmdError {
        CmdError::Err(format!(
            "unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
            printable(sub, 128),
            command.to_ascii_uppercase()
        ))
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
            CmdError::UnknownCommand(text) => f.write_str(text),
            CmdError::UnknownSubcommand { command, sub } => {
                write!(f, "ERR unknown subcommand '{sub}'. Try {command} HELP.")
            }
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

/// Renders bytes the way Redis echoes user input in errors: lossy UTF-8, truncated.
pub fn printable(bytes: &[u8], max: usize) -> String {
    let cut = &bytes[..bytes.len().min(max)];
    String::from_utf8_lossy(cut).into_owned()
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
        let e = CmdError::unknown_command(b"foo", &[bytes::Bytes::from_static(b"a")]);
        assert_eq!(
            e.to_string(),
            "ERR unknown command 'foo', with args beginning with: 'a' "
        );
        assert_eq!(CmdError::WrongType.code(), "WRONGTYPE");
        assert_eq!(
            CmdError::unknown_subcommand("client", b"foo").to_string(),
            "ERR unknown subcommand 'foo'. Try CLIENT HELP."
        );
    }
}
