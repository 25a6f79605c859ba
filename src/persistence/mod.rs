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

use std::path::Path;

/// Removes from `dir` the temporary files (`temp-<pid>...`) that saves and rewrites of a
/// process that no longer runs left behind when it was killed mid-write (they are never
/// loaded, but they fill the disk). Returns how many went.
pub fn remove_stale_temp_files(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| is_stale_temp(&e.file_name().to_string_lossy()))
        .filter(|e| std::fs::remove_file(e.path()).is_ok())
        .count()
}

/// A `temp-` file whose writer (the first number in its name) is another process that is
/// gone. Our own temp files, and those of live processes, are being written.
pub fn is_stale_temp(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("temp-") else {
        return false;
    };
    let digits: String = rest
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    match digits.parse::<u32>() {
        Ok(pid) => pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_temp_files_are_those_of_gone_processes() {
        // Pids are below 2^22 on Linux: this one never runs.
        assert!(is_stale_temp("temp-4294967.rdb"));
        assert!(is_stale_temp("temp-rewriteaof-bg-4294967.aof"));
        assert!(is_stale_temp("temp-4294967-3.graph"));
        let own = std::process::id();
        assert!(!is_stale_temp(&format!("temp-{own}.rdb")));
        assert!(!is_stale_temp("temp-1.rdb"), "pid 1 runs");
        assert!(!is_stale_temp("temp-appendonly.aof.manifest"));
        assert!(!is_stale_temp("dump.rdb"));
    }
}
