//! Lua scripting (EVAL EVALSHA SCRIPT ...) and functions (FUNCTION FCALL).

use super::CommandSpec;

/// This group's rows of the command table.
pub static COMMANDS: &[CommandSpec] = &[];
