//! Bitmap commands (SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD) over string values.

use super::CommandSpec;

/// This group's rows of the command table.
pub static COMMANDS: &[CommandSpec] = &[];
