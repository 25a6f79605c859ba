//! Persistence: what the server writes to disk so its data outlives the process.
//! `snapshot` owns the RDB snapshot (SAVE, BGSAVE, `save` rules, loading at start-up) and
//! `rdb_file` its on-disk format; `aof` the append-only file (Redis 7's multi-part layout:
//! manifest, base, incremental files). Depends on `keyspace` only: the command layer
//! decides what goes into a snapshot and applies one, and replays an AOF through the
//! dispatcher (`commands::snapshot`, `commands::aof`).

pub mod aof;
pub mod rdb_file;
pub mod snapshot;
