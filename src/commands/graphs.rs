//! The HNSW graphs saved beside snapshots and AOF rewrites (`persistence::graph_file`):
//! writing them after a save, and adopting them after a load, so a restart does not build
//! every graph again.
//!
//! While a dataset loads, the registry holds the HNSW workers of every index the load
//! creates. Once it is loaded, each such index waits for its initial scan to end, then
//! adopts the saved graph of each HNSW field that has one: the nodes whose key still holds
//! the same vector answer at once, and the workers place whatever no node answers for
//! (documents written after the graph was saved).

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::persistence::graph_file;
use crate::search::index::Index;
use crate::state::ServerState;

/// Writes the graph of every HNSW field of every saved (non-TEMPORARY) index to
/// `dir/hnsw-graphs`, skipping graphs unchanged since their file was written, and removes
/// the files of indexes that are gone. Errors are logged: the snapshot itself is written
/// already, and a missing graph only means it is built again at the next start.
pub fn save(state: &ServerState) {
    let dir = state.config.get("dir");
    let mut keep = Vec::new();
    for name in state.search.names() {
        let Some(index) = state.search.get(&name) else {
            continue;
        };
        if index.def.temporary.is_some() {
            continue;
        }
        for attribute in index.graph_attributes() {
            let path = graph_file::path(&dir, &name, &attribute);
            keep.push(path.clone());
            if index.restoring() {
                // Its saved graph is still to be adopted: that file is the one to keep.
                continue;
            }
            let saved = graph_file::saved_version(&path);
            let started = Instant::now();
            let written = index.with_graph_image(&attribute, |image| {
                if saved == Some(graph_file::version_of(image)) {
                    return Ok(None);
                }
                graph_file::write(&path, image).map(|bytes| Some((bytes, image.nodes())))
            });
            match written {
                Some(Ok(Some((bytes, nodes)))) => tracing::info!(
                    "HNSW graph of {name}/{attribute} saved ({nodes} nodes, {bytes} bytes in {:.3} seconds)",
                    started.elapsed().as_secs_f64()
                ),
                Some(Err(e)) => {
                    tracing::warn!("Can't save the HNSW graph of {name}/{attribute}: {e}")
                }
                _ => {}
            }
        }
    }
    graph_file::remove_others(&dir, &keep);
}

/// Runs `load` (a snapshot or AOF load) with the HNSW workers of the indexes it creates
/// held, then adopts their saved graphs in the background.
pub fn load_adopting<R>(state: &Arc<ServerState>, load: impl FnOnce() -> R) -> R {
    state.search.begin_load();
    let loaded = load();
    for index in state.search.end_load() {
        adopt_when_scanned(state, index);
    }
    loaded
}

/// On a thread of its own: once `index`'s initial scan is done, adopts the saved graph of
/// each of its HNSW fields, then lets its workers go.
fn adopt_when_scanned(state: &Arc<ServerState>, index: Arc<Index>) {
    let dir = state.config.get("dir");
    let spawned = std::thread::Builder::new()
        .name("ft-graph-load".into())
        .spawn({
            let index = index.clone();
            move || {
                while index
                    .stats
                    .indexing
                    .load(std::sync::atomic::Ordering::Acquire)
                    && !index.is_dropped()
                {
                    std::thread::sleep(Duration::from_millis(2));
                }
                if !index.is_dropped() {
                    adopt(&dir, &index);
                }
                index.end_restore();
            }
        });
    if let Err(e) = spawned {
        tracing::warn!("Can't start loading the saved HNSW graphs ({e}): they are built again");
        index.end_restore();
    }
}

fn adopt(dir: &str, index: &Index) {
    let name = &index.def.name;
    for attribute in index.graph_attributes() {
        let path = graph_file::path(dir, name, &attribute);
        if !path.exists() {
            continue;
        }
        let started = Instant::now();
        let adopted = graph_file::read(&path).and_then(|image| {
            let nodes = image.nodes();
            index
                .adopt_graph(&attribute, image)
                .map(|adopted| (adopted, nodes))
                .map_err(|e| e.to_string())
        });
        match adopted {
            Ok((adopted, nodes)) => tracing::info!(
                "HNSW graph of {name}/{attribute} loaded from {}: {adopted} of its {nodes} nodes adopted in {:.3} seconds",
                path.display(),
                started.elapsed().as_secs_f64()
            ),
            Err(e) => tracing::warn!(
                "The saved HNSW graph of {name}/{attribute} ({}) is not used, the graph is built again: {e}",
                path.display()
            ),
        }
    }
}
