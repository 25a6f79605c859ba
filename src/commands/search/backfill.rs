//! The initial scan of FT.CREATE (and the re-scan after SWAPDB): walks database 0 in chunks
//! on a background thread, indexing each covered hash while holding its shard lock, so a
//! concurrent write or delete of the same key is never overtaken; FT.INFO shows `indexing`
//! and `percent_indexed` meanwhile.
//!
//! Each chunk holds database 0's shard locks only for a few keys, so other clients' commands
//! interleave with the scan. A key already in the index was (re-)indexed by a write after
//! the index started following the keyspace, so the scan leaves it alone.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::keyspace::Value;
use crate::search::index::Index;
use crate::state::ServerState;

/// Keys visited per lock hold.
const CHUNK: usize = 64;

/// Starts scanning database 0 into `index` in the background. A scan already running for
/// the index stops; so does this one when the index is dropped.
pub fn start(state: Arc<ServerState>, index: Arc<Index>) {
    let ticket = index.begin_scan();
    let spawned = std::thread::Builder::new()
        .name("ft-backfill".into())
        .spawn({
            let (state, index) = (state.clone(), index.clone());
            move || scan(&state, &index, ticket)
        });
    if let Err(err) = spawned {
        // Without a thread, scan here: slower for this client, but the index is complete.
        tracing::warn!("cannot start a backfill thread ({err}); scanning inline");
        scan(&state, &index, ticket);
    }
}

fn scan(state: &ServerState, index: &Index, ticket: u64) {
    let ks = &state.keyspace;
    let total = ks.db_sizes().first().map_or(0, |&(keys, _)| keys).max(1) as u64;
    let mut visited = 0u64;
    let mut cursor = 0;
    loop {
        if !index.scan_current(ticket) {
            return;
        }
        let mut guard = ks.lock_db(0);
        let now = guard.now_ms();
        cursor = guard.scan(
            cursor,
            CHUNK,
            |key| index.def.covers(key),
            |key, entry| {
                if let Value::Hash(hash) = &entry.value
                    && !index.contains(key)
                {
                    index.upsert(key, hash, now);
                }
            },
        );
        drop(guard);
        visited += CHUNK as u64;
        let ppm = (visited * 1_000_000 / total).min(999_999);
        index.stats.progress_ppm.store(ppm, Ordering::Relaxed);
        if cursor == 0 {
            break;
        }
        std::thread::yield_now();
    }
    index.finish_scan(ticket);
}
