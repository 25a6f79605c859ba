//! Transactions: MULTI EXEC DISCARD WATCH UNWATCH.

use super::CommandSpec;

/// This group's rows of the command table.
pub static COMMANDS: &[CommandSpec] = &[];
