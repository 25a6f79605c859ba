//! Hash group: HSET, HGET and the rest of Redis's hash commands.

use super::table::CommandSpec;

pub static COMMANDS: &[CommandSpec] = &[];
