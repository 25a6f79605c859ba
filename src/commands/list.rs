//! List commands (LPUSH ... LMPOP) and the blocking ones (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP).

use super::CommandSpec;

/// This group's rows of the command table.
pub static COMMANDS: &[CommandSpec] = &[];
