//! Persistence: what the server writes to disk so its data outlives the process. `aof` is
//! the append-only file (Redis 7's multi-part layout: manifest, base, incremental files).
//! Loading a file replays it through the command dispatcher, which lives above this module
//! (`commands::aof`).

pub mod aof;
