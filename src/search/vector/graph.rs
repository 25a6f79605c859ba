//! The tiered HNSW side of an index: which live ids the graph answers for, and the
//! background worker that feeds it.
//!
//! An insert only lands in the exact store and in `pending` (searched exactly, so it is
//! visible to the very next query); the worker moves pending vectors into the graph in
//! batches, outside the index lock. A removed or replaced id stops being `current` (a
//! tombstone: its node stays in the graph and searches skip it); ids are never re-placed, a
//! replaced one stays pending. Past a share of tombstones the worker rebuilds the graph from
//! a snapshot of the live vectors and swaps it in; ids touched meanwhile stay pending.
//!
//! The worker can be held: it then leaves the graph alone (a save reads it under its read
//! lock, a graph loaded from disk is about to replace it) and inserts queue up as pending.
//!
//! Must not depend on anything outside `search::vector` and `search::Metric`.

use std::sync::Arc;

use parking_lot::{Condvar, Mutex, RwLock};
use roaring::RoaringBitmap;

use super::hnsw::{GraphImage, Hnsw, HnswParams};
use super::store::VectorStore;

/// A rebuild is due once tombstones are this share of graph nodes ...
const REBUILD_DEAD_SHARE: f64 = 0.25;
/// ... and at least this many.
const REBUILD_DEAD_MIN: u64 = 256;
/// Vectors the worker copies out and inserts per round (the index lock is free meanwhile).
const BATCH: usize = 256;

/// What the graph covers. Lives under the index lock, beside the store.
pub struct GraphState {
    params: HnswParams,
    pub hnsw: Arc<Hnsw>,
    /// Every id with a node in `hnsw` (current or tombstoned).
    points: RoaringBitmap,
    /// Live ids whose node holds their vector.
    current: RoaringBitmap,
    /// Live ids the graph does not answer for: searched exactly.
    pending: RoaringBitmap,
    /// Ids inserted or removed since the worker took its current job.
    touched: RoaringBitmap,
}

impl GraphState {
    pub fn new(params: HnswParams) -> GraphState {
        GraphState {
            params,
            hnsw: Arc::new(Hnsw::new(params)),
            points: RoaringBitmap::new(),
            current: RoaringBitmap::new(),
            pending: RoaringBitmap::new(),
            touched: RoaringBitmap::new(),
        }
    }

    pub fn on_insert(&mut self, id: u32) {
        self.current.remove(id);
        self.pending.insert(id);
        self.touched.insert(id);
    }

    pub fn on_remove(&mut self, id: u32) {
        self.current.remove(id);
        self.pending.remove(id);
        self.touched.insert(id);
    }

    /// Forgets everything; a job of the worker in flight finds the graph replaced and drops
    /// its result.
    pub fn clear(&mut self) {
        *self = GraphState::new(HnswParams {
            capacity: 0,
            ..self.params
        });
    }

    pub fn current(&self) -> &RoaringBitmap {
        &self.current
    }

    pub fn pending(&self) -> &RoaringBitmap {
        &self.pending
    }

    /// Graph nodes per current id (>= 1): how much wider a search must look to meet the
    /// same number of live nodes.
    pub fn dead_ratio(&self) -> f64 {
        self.points.len().max(1) as f64 / self.current.len().max(1) as f64
    }

    /// True when every graph node is current (no id filter is needed). Counts the nodes of
    /// the graph itself: a batch the worker is inserting adds nodes before it publishes them
    /// in `points`, and those are still pending (or already removed).
    pub fn all_current(&self) -> bool {
        self.hnsw.len() as u64 == self.current.len()
    }

    /// Nodes whose id is no longer current (removed or replaced vectors).
    pub fn tombstones(&self) -> u64 {
        self.points.len() - self.current.len()
    }

    fn needs_rebuild(&self) -> bool {
        let dead = self.tombstones();
        dead >= REBUILD_DEAD_MIN && dead as f64 > self.points.len() as f64 * REBUILD_DEAD_SHARE
    }

    /// Pending ids the graph can take (replaced ids wait for a rebuild).
    fn placeable(&self) -> RoaringBitmap {
        &self.pending - &self.points
    }

    /// How many pending ids the graph can take.
    pub fn placeable_len(&self) -> u64 {
        self.pending.difference_len(&self.points)
    }

    /// True when the worker has nothing to do.
    pub fn settled(&self) -> bool {
        !self.needs_rebuild() && self.placeable().is_empty()
    }

    /// Replaces the graph with the one `image` describes. `ids` holds, per node, the id of
    /// the live document its key names now, if any: a node whose vector is still that
    /// document's (bit for bit) answers for it; any other node stays as a tombstone under an
    /// id from `fresh` (never a document's). Live vectors no node answers for go pending.
    /// Returns how many nodes were adopted, or why the image does not fit this index.
    pub fn adopt(
        &mut self,
        store: &VectorStore,
        image: GraphImage<'_>,
        ids: &[Option<u32>],
        mut fresh: impl FnMut() -> u32,
    ) -> Result<u64, String> {
        let p = &self.params;
        if (image.metric, image.dim, image.ef_construction) != (p.metric, p.dim, p.ef_construction)
            || image.m != p.m.clamp(2, 512)
        {
            return Err(format!(
                "the saved graph was built with other parameters (DIM {}, M {}, EF_CONSTRUCTION {}, {})",
                image.dim,
                image.m,
                image.ef_construction,
                image.metric.name()
            ));
        }
        let mut current = RoaringBitmap::new();
        let node_ids: Vec<u32> = (0..image.nodes())
            .map(|node| {
                let saved = &image.vectors.get(node * p.dim..(node + 1) * p.dim);
                match ids.get(node).copied().flatten() {
                    Some(id)
                        if !current.contains(id)
                            && store
                                .get(id)
                                .zip(*saved)
                                .is_some_and(|(live, saved)| same_bits(live, saved)) =>
                    {
                        current.insert(id);
                        id
                    }
                    _ => fresh(),
                }
            })
            .collect();
        let points: RoaringBitmap = node_ids.iter().copied().collect();
        let hnsw = Hnsw::from_image(image, node_ids)?;
        let live: RoaringBitmap = store.rows().map(|(id, _)| id).collect();
        self.pending = &live - &current;
        self.points = points;
        self.touched = RoaringBitmap::new();
        self.hnsw = Arc::new(hnsw);
        let adopted = current.len();
        self.current = current;
        Ok(adopted)
    }

    pub fn memory_bytes(&self) -> usize {
        self.hnsw.memory_bytes()
            + (self.points.serialized_size()
                + self.current.serialized_size()
                + self.pending.serialized_size())
    }
}

/// The index state the worker shares with the index.
pub struct Shared {
    pub inner: RwLock<super::Inner>,
    signal: Mutex<Signal>,
    wake: Condvar,
}

#[derive(Default)]
struct Signal {
    /// Work may be waiting.
    dirty: bool,
    /// The worker is between taking a job and publishing it.
    busy: bool,
    /// The index is gone: the worker ends.
    closed: bool,
    /// Holds in force ([`Shared::hold`]): the worker takes no job meanwhile.
    held: u32,
    /// The worker is inserting into the shared graph.
    placing: bool,
}

impl Shared {
    pub fn new(inner: super::Inner) -> Shared {
        Shared {
            inner: RwLock::new(inner),
            signal: Mutex::new(Signal::default()),
            wake: Condvar::new(),
        }
    }

    /// Tells the worker the graph may have work.
    pub fn poke(&self) {
        self.signal.lock().dirty = true;
        self.wake.notify_all();
    }

    /// True while the worker holds a job or has not looked at the latest change.
    pub fn worker_active(&self) -> bool {
        let s = self.signal.lock();
        (s.dirty || s.busy) && !s.closed
    }

    fn closed(&self) -> bool {
        self.signal.lock().closed
    }

    /// Holds the worker: it finishes the insert in hand, publishes its batch so far and
    /// takes no job until [`Shared::release`]. Returns once it has stopped inserting.
    pub fn hold(&self) {
        let mut s = self.signal.lock();
        s.held += 1;
        while s.placing && !s.closed {
            self.wake.wait(&mut s);
        }
    }

    /// Ends one [`Shared::hold`].
    pub fn release(&self) {
        let mut s = self.signal.lock();
        s.held = s.held.saturating_sub(1);
        self.wake.notify_all();
    }

    /// Whether an insert job should stop: the index is gone, or the worker is held.
    fn interrupted(&self) -> bool {
        let s = self.signal.lock();
        s.closed || s.held > 0
    }

    fn set_placing(&self, placing: bool) {
        self.signal.lock().placing = placing;
        self.wake.notify_all();
    }
}

/// Vectors equal bit for bit (NaN payloads included).
fn same_bits(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// Starts the worker of `shared`; it runs until [`stop_worker`]. `None` if no thread could
/// be started: pending vectors are then searched exactly.
pub fn spawn_worker(shared: &Arc<Shared>) -> Option<std::thread::JoinHandle<()>> {
    let shared = Arc::clone(shared);
    std::thread::Builder::new()
        .name("ft-hnsw".into())
        .spawn(move || run(&shared))
        .ok()
}

/// Ends the worker (at its next check: between inserts of a batch or of a rebuild).
pub fn stop_worker(shared: &Shared) {
    shared.signal.lock().closed = true;
    shared.wake.notify_all();
}

enum Job {
    Insert(Arc<Hnsw>, Vec<(u32, Vec<f32>)>),
    Rebuild(Arc<Hnsw>, HnswParams, Vec<(u32, Vec<f32>)>),
}

fn run(shared: &Shared) {
    loop {
        {
            let mut s = shared.signal.lock();
            while (!s.dirty || s.held > 0) && !s.closed {
                shared.wake.wait(&mut s);
            }
            if s.closed {
                return;
            }
            s.dirty = false;
            s.busy = true;
        }
        loop {
            {
                // Checked and set as one, so a hold never misses an insert starting.
                let mut s = shared.signal.lock();
                if s.held > 0 {
                    // Resumed where it stopped once released.
                    s.dirty = true;
                    s.busy = false;
                    shared.wake.notify_all();
                    break;
                }
                s.placing = true;
            }
            let job = take_job(&mut shared.inner.write());
            let Some(job) = job else {
                let mut s = shared.signal.lock();
                s.busy = false;
                s.placing = false;
                shared.wake.notify_all();
                break;
            };
            if matches!(job, Job::Rebuild(..)) {
                // A rebuild works on a graph of its own: a hold need not wait for it.
                shared.set_placing(false);
            }
            let open = do_job(shared, job);
            shared.set_placing(false);
            if !open {
                return;
            }
        }
    }
}

fn take_job(inner: &mut super::Inner) -> Option<Job> {
    let super::Inner { store, graph, .. } = inner;
    let graph = graph.as_mut()?;
    if graph.needs_rebuild() {
        graph.touched.clear();
        let rows = store
            .rows()
            .map(|(id, v)| (id, v.to_vec()))
            .collect::<Vec<_>>();
        let params = HnswParams {
            capacity: rows.len(),
            ..graph.params
        };
        return Some(Job::Rebuild(Arc::clone(&graph.hnsw), params, rows));
    }
    let ids: Vec<u32> = graph.placeable().iter().take(BATCH).collect();
    if ids.is_empty() {
        return None;
    }
    graph.touched.clear();
    let rows = ids
        .iter()
        .filter_map(|&id| store.get(id).map(|v| (id, v.to_vec())))
        .collect();
    Some(Job::Insert(Arc::clone(&graph.hnsw), rows))
}

/// Runs `job` with no index lock held and publishes it; false if the index is closed.
fn do_job(shared: &Shared, job: Job) -> bool {
    match job {
        Job::Insert(hnsw, rows) => {
            let mut placed = 0;
            for (id, v) in &rows {
                if shared.interrupted() {
                    break;
                }
                hnsw.insert(*id, v);
                placed += 1;
            }
            if shared.closed() {
                return false;
            }
            // Rows not placed stay pending, for the next job.
            let mut inner = shared.inner.write();
            if let Some(g) = inner.graph.as_mut().filter(|g| Arc::ptr_eq(&g.hnsw, &hnsw)) {
                for (id, _) in &rows[..placed] {
                    g.points.insert(*id);
                    if !g.touched.contains(*id) {
                        g.current.insert(*id);
                        g.pending.remove(*id);
                    }
                }
            }
        }
        Job::Rebuild(old, params, rows) => {
            let fresh = Arc::new(Hnsw::new(params));
            for (id, v) in &rows {
                if shared.closed() {
                    return false;
                }
                fresh.insert(*id, v);
            }
            let mut inner = shared.inner.write();
            if let Some(g) = inner.graph.as_mut().filter(|g| Arc::ptr_eq(&g.hnsw, &old)) {
                let live = &g.current | &g.pending;
                let points: RoaringBitmap = rows.iter().map(|(id, _)| *id).collect();
                g.current = &points - &g.touched;
                g.pending = &live - &g.current;
                g.points = points;
                g.hnsw = fresh;
            }
        }
    }
    true
}
