//! Pub/sub commands (SUBSCRIBE PUBLISH PUBSUB ... SSUBSCRIBE SPUBLISH).

use super::CommandSpec;

/// This group's rows of the command table.
pub static COMMANDS: &[CommandSpec] = &[];
