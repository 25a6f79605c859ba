//! Persistence: what survives a restart. `snapshot` owns the RDB snapshot (SAVE, BGSAVE,
//! `save` rules, loading at start-up) and `rdb_file` its on-disk format. Depends on
//! `keyspace` only; the command layer decides what goes into a snapshot and applies one.

pub mod rdb_file;
pub mod snapshot;
