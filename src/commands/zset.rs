//! Sorted set commands (ZADD ... ZSCAN) and the blocking BZPOPMIN BZPOPMAX BZMPOP.

use super::CommandSpec;

/// This group's rows of the command table.
pub static COMMANDS: &[CommandSpec] = &[];
