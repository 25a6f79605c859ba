//! Stream commands (XADD ... XINFO), consumer groups and blocking XREAD / XREADGROUP.

use super::CommandSpec;

/// This group's rows of the command table.
pub static COMMANDS: &[CommandSpec] = &[];
