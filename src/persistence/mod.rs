//! Persistence: what the server writes to disk so its data outlives the process.
//! `snapshot` owns the RDB snapshot (SAVE, BGSAVE, `save` rules, loading at start-up) and
//! `rdb_file` its on-disk format; `aof` the append-only file (Redis 7's multi-part layout:
//! manifest, base, incremental files); `graph_file` the HNSW graphs saved beside them.
//! Depends on `keyspace`, and on the search layer's graph image only: the command layer
//! decides what goes into a snapshot and applies one, and replays an AOF through the
//! dispatcher (`commands::snapshot`, `commands::aof`, `commands::graphs`).

pub mod aof;
pub mod graph_file;
pub mod rdb_file;
pub mod snapshot;
