//! The initial scan of FT.CREATE (and the re-scan after SWAPDB): walks database 0 in chunks
//! on a background thread, indexing each covered hash while holding its shard lock, so a
//! concurrent write or delete of the same key is never overtaken; FT.INFO shows `indexing`
//! and `percent_indexed` meanwhile, and a scan that runs more than a couple of seconds logs
//! its progress ([`crate::progress`]).
//!
//! Each chunk holds database 0's shard locks for about [`HOLD_TARGET`], so other clients'
//! commands interleave with the scan. A key already in the index was (re-)indexed by a write after
//! the index started following the keyspace, so the scan leaves it alone.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::keyspace::Value;
use crate::progress::Progress;
use crate::search::index::Index;
use crate::state::ServerState;

/// How long one chunk may hold database 0's shard locks; the chunk size (keys visited per
/// hold) adapts to it, since indexing cost per key varies by orders of magnitude (a
/// numeric field vs. an HNSW insert).
const HOLD_TARGET: Duration = Duration::from_millis(2);
/// Chunk size bounds.
const CHUNK_MIN: usize = 1;
const CHUNK_MAX: usize = 1024;

/// Starts scanning database 0 into `index` in the background. A scan already running for
/// the index stops; so does this one when the index is dropped.
pub fn start(state: Arc<ServerState>, index: Arc<Index>) {
    start_hiding(state, index, Vec::new());
}

/// [`start`], indexing the scanned hashes as if they lacked the fields `hidden` (FT.ALTER
/// SKIPINITIALSCAN: documents already there are not indexed for the fields added). A hash
/// written after the scan started is indexed whole by the write path, and the scan leaves
/// it alone.
pub fn start_hiding(state: Arc<ServerState>, index: Arc<Index>, hidden: Vec<Bytes>) {
    let ticket = index.begin_scan();
    let spawned = std::thread::Builder::new()
        .name("ft-backfill".into())
        .spawn({
            let (state, index, hidden) = (state.clone(), index.clone(), hidden.clone());
            move || scan(&state, &index, ticket, &hidden)
        });
    if let Err(err) = spawned {
        // Without a thread, scan here: slower for this client, but the index is complete.
        tracing::warn!("cannot start a backfill thread ({err}); scanning inline");
        scan(&state, &index, ticket, &hidden);
    }
}

fn scan(state: &ServerState, index: &Index, ticket: u64, hidden: &[Bytes]) {
    let ks = &state.keyspace;
    let total = ks.db_sizes().first().map_or(0, |&(keys, _)| keys).max(1) as u64;
    let name = &index.def.name;
    let mut progress = Progress::start("docs");
    let mut indexed = 0u64;
    let mut visited = 0u64;
    let mut cursor = 0;
    let mut chunk = 16;
    loop {
        if !index.scan_current(ticket) {
            if let Some(summary) = progress.finish(indexed) {
                tracing::info!("Indexing '{name}' stopped after {summary}");
            }
            return;
        }
        let started = Instant::now();
        let mut guard = ks.lock_db(0);
        let now = guard.now_ms();
        // A walk, not a SCAN step: the scan leaves the keyspace as it is (no lazy expiry
        // from a background thread); expired keys are skipped and leave by expiry as usual.
        cursor = guard.walk(cursor, chunk, |key, entry| {
            if let Value::Hash(hash) = &entry.value
                && index.def.covers(key)
                && !index.contains(key)
            {
                indexed += 1;
                if hidden.is_empty() {
                    index.upsert(key, hash, entry.expire_at, now);
                } else {
                    let mut visible = hash.clone();
                    for field in hidden {
                        visible.remove(field);
                    }
                    index.upsert(key, &visible, entry.expire_at, now);
                }
            }
        });
        drop(guard);
        visited += chunk as u64;
        let ppm = (visited * 1_000_000 / total).min(999_999);
        index.stats.progress_ppm.store(ppm, Ordering::Relaxed);
        if cursor == 0 {
            break;
        }
        if let Some(report) = progress.tick(indexed, ppm as f64 / 1e6) {
            tracing::info!("Indexing '{name}': {report}");
        }
        let held = started.elapsed();
        chunk = if held > HOLD_TARGET {
            (chunk / 2).max(CHUNK_MIN)
        } else if held < HOLD_TARGET / 4 {
            (chunk * 2).min(CHUNK_MAX)
        } else {
            chunk
        };
        std::thread::yield_now();
    }
    index.finish_scan(ticket);
    if let Some(summary) = progress.finish(indexed) {
        tracing::info!("Indexing '{name}' done: {summary}");
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use bytes::Bytes;

    use super::*;
    use crate::config::Config;
    use crate::keyspace::Ttl;
    use crate::keyspace::value::StrValue;
    use crate::search::index::testing::{def, hash, numeric};

    fn put(state: &ServerState, key: &str, value: Value) {
        let key = Bytes::from(key.to_string());
        let mut guard = state.keyspace.lock(0, &[&key]);
        guard.insert(key, value, Ttl::Clear);
    }

    fn wait_for_scan(index: &Index) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while index.stats.indexing.load(Ordering::Relaxed) {
            assert!(Instant::now() < deadline, "backfill did not finish");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn scans_covered_hashes_and_reports_progress() {
        let state = ServerState::new(Config::default());
        for i in 0..1000 {
            let n = i.to_string();
            put(
                &state,
                &format!("doc:{i}"),
                Value::Hash(hash(&[("n", n.as_bytes())])),
            );
        }
        put(&state, "other:1", Value::Hash(hash(&[("n", b"1")])));
        put(
            &state,
            "doc:string",
            Value::Str(StrValue::text(Bytes::from_static(b"x"))),
        );
        let index = state
            .search
            .create(def(vec![numeric("n")]))
            .expect("create");
        start(state.clone(), index.clone());
        // Writes during the scan are indexed by the keyspace observer meanwhile.
        put(&state, "doc:late", Value::Hash(hash(&[("n", b"5000")])));
        wait_for_scan(&index);
        assert_eq!(index.info().num_docs, 1001);
        assert_eq!(index.stats.progress_ppm.load(Ordering::Relaxed), 1_000_000);
    }

    /// FT.INFO's figures are read as one: a scan seen finished has all its documents counted
    /// (the figures were once taken before the scan state, and a scan finishing in between
    /// showed done with its last chunk missing).
    #[test]
    fn a_finished_scan_is_never_reported_short() {
        const N: u64 = 2_000;
        for round in 0..20 {
            let state = ServerState::new(Config::default());
            for i in 0..N {
                let n = i.to_string();
                put(
                    &state,
                    &format!("doc:{i}"),
                    Value::Hash(hash(&[("n", n.as_bytes())])),
                );
            }
            let index = state
                .search
                .create(def(vec![numeric("n")]))
                .expect("create");
            start(state.clone(), index.clone());
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                let info = index.info();
                if !info.indexing {
                    assert_eq!(info.num_docs, N, "round {round}");
                    assert_eq!(info.percent_indexed, 1.0);
                    break;
                }
                assert!(info.percent_indexed < 1.0);
                assert!(Instant::now() < deadline, "backfill did not finish");
            }
        }
    }

    #[test]
    fn swapdb_empties_and_rescans() {
        let state = ServerState::new(Config::default());
        let index = state
            .search
            .create(def(vec![numeric("n")]))
            .expect("create");
        put(&state, "doc:0", Value::Hash(hash(&[("n", b"0")])));
        assert_eq!(index.info().num_docs, 1);
        {
            let key = Bytes::from_static(b"doc:1");
            let mut guard = state.keyspace.lock(1, &[&key]);
            guard.insert(key, Value::Hash(hash(&[("n", b"1")])), Ttl::Clear);
        }
        state.keyspace.lock_all().swap_db(1);
        assert_eq!(index.info().num_docs, 0);
        let rescans = state.search.take_rescans();
        assert_eq!(rescans.len(), 1);
        for index in rescans {
            start(state.clone(), index);
        }
        wait_for_scan(&index);
        assert_eq!(index.keys(), [Bytes::from_static(b"doc:1")]);
    }
}
