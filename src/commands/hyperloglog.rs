//! HyperLogLog commands (PFADD PFCOUNT PFMERGE) over string values in Redis's HLL format.

use super::CommandSpec;

/// This group's rows of the command table.
pub static COMMANDS: &[CommandSpec] = &[];
