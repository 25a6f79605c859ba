//! Generic group: key-space commands that work on any type (DEL, EXISTS, EXPIRE, SCAN, ...).

use super::table::CommandSpec;

pub static COMMANDS: &[CommandSpec] = &[];
