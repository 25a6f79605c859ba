//! An HNSW graph (Malkov & Yashunin) over f32 vectors: layered neighbour lists in flat
//! arrays, a generation-stamped visited set per thread, and a search that applies an id
//! filter during traversal (filtered-out nodes are walked through but never returned).
//!
//! Concurrency: one writer at a time (inserts hold an upgradable read lock while they search
//! and choose links, and take the write lock only to publish them), any number of readers
//! alongside. Nodes are never removed; the caller filters out ids that are no longer live.
//!
//! Must not depend on anything outside `search::vector` and `search::Metric`.

use std::borrow::Cow;
use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use parking_lot::{RwLock, RwLockUpgradableReadGuard};

use super::metric::distance;
use super::store::Hit;
use crate::search::Metric;

/// Layers above this are never drawn (with M >= 2 a level this high has probability < 2^-31).
const MAX_LEVEL: usize = 31;

/// Construction parameters.
#[derive(Debug, Clone, Copy)]
pub struct HnswParams {
    pub metric: Metric,
    pub dim: usize,
    /// Links per node on upper layers (layer 0 keeps twice as many).
    pub m: usize,
    pub ef_construction: usize,
    pub capacity: usize,
}

pub struct Hnsw {
    params: HnswParams,
    m0: usize,
    level_mult: f64,
    rng: AtomicU64,
    /// Names this graph's content across saves: a graph read back from a file keeps the
    /// file's, so an unchanged graph (same instance, same node count) need not be written
    /// again.
    instance: u64,
    layers: RwLock<Layers>,
}

/// A graph's content as it is saved and loaded. Nodes are named by their document's key,
/// not by id: ids are handed out afresh when a dataset is loaded.
pub struct GraphImage<'a> {
    pub metric: Metric,
    pub dim: usize,
    pub m: usize,
    pub ef_construction: usize,
    pub instance: u64,
    /// State of the level generator.
    pub rng: u64,
    pub entry: Option<u32>,
    pub top_level: usize,
    /// Node -> vector, `dim` values each.
    pub vectors: Cow<'a, [f32]>,
    /// Layer-0 links, `2m + 1` slots per node (count first).
    pub base: Cow<'a, [u32]>,
    /// Node -> links of layers 1..=level, `m + 1` slots per layer (count first).
    pub upper: Cow<'a, [Box<[u32]>]>,
    /// Node -> the key of the document it held when saved (`None`: no live document's).
    pub keys: Vec<Option<Bytes>>,
}

impl GraphImage<'_> {
    pub fn nodes(&self) -> usize {
        self.keys.len()
    }

    /// Checks that the arrays make a graph a search can walk: sizes agree, every link names
    /// a node that has the layer, the entry point is on the top layer. A file that passes
    /// its checksum passes this too; it keeps a damaged one from ever indexing out of bounds.
    fn check(&self) -> Result<(), String> {
        let n = self.nodes();
        let (m, m0) = (self.m, 2 * self.m);
        let bad = |what: &str| Err(format!("the saved graph is damaged ({what})"));
        if self.vectors.len() != n * self.dim
            || self.base.len() != n * (m0 + 1)
            || self.upper.len() != n
        {
            return bad("array sizes");
        }
        let level = |node: u32| self.upper[node as usize].len() / (m + 1);
        for (node, upper) in self.upper.iter().enumerate() {
            if upper.len() % (m + 1) != 0 || level(node as u32) > self.top_level {
                return bad("levels");
            }
            let lists = std::iter::once((0, &self.base[node * (m0 + 1)..(node + 1) * (m0 + 1)]))
                .chain(
                    upper
                        .chunks_exact(m + 1)
                        .enumerate()
                        .map(|(i, l)| (i + 1, l)),
                );
            for (lc, list) in lists {
                let count = list[0] as usize;
                if count >= list.len()
                    || list[1..=count]
                        .iter()
                        .any(|&t| t as usize >= n || level(t) < lc)
                {
                    return bad("links");
                }
            }
        }
        match self.entry {
            None if n == 0 => Ok(()),
            Some(e) if (e as usize) < n && level(e) == self.top_level => Ok(()),
            _ => bad("entry point"),
        }
    }
}

/// The graph proper. Node numbers are dense, in insertion order.
struct Layers {
    dim: usize,
    /// Node -> vector, `dim` values each.
    vectors: Vec<f32>,
    /// Node -> caller's id.
    ids: Vec<u32>,
    /// Layer-0 links: `m0 + 1` slots per node, the first holding the count.
    base: Vec<u32>,
    /// Node -> links of layers 1..=level, `m + 1` slots per layer (count first).
    upper: Vec<Box<[u32]>>,
    entry: Option<u32>,
    top_level: usize,
}

/// Links one insert adds: the new node's lists per layer, and neighbours' replaced lists.
struct LinkPlan {
    own: Vec<Vec<u32>>,
    neighbours: Vec<(u32, usize, Vec<u32>)>,
}

thread_local! {
    static VISITED: RefCell<Visited> = const { RefCell::new(Visited { stamps: Vec::new(), generation: 0 }) };
}

/// Nodes seen by the current search: a node is visited when its stamp is the generation.
struct Visited {
    stamps: Vec<u16>,
    generation: u16,
}

impl Visited {
    fn reset(&mut self, nodes: usize) {
        if self.stamps.len() < nodes {
            self.stamps.resize(nodes, 0);
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.stamps.fill(0);
            self.generation = 1;
        }
    }

    /// Marks `node`; true if it was not marked yet.
    #[inline]
    fn insert(&mut self, node: u32) -> bool {
        let stamp = &mut self.stamps[node as usize];
        let fresh = *stamp != self.generation;
        *stamp = self.generation;
        fresh
    }
}

impl Layers {
    #[inline]
    fn vector(&self, node: u32) -> &[f32] {
        let at = node as usize * self.dim;
        &self.vectors[at..at + self.dim]
    }

    #[inline]
    fn links(&self, node: u32, level: usize, m0: usize, m: usize) -> &[u32] {
        let list = if level == 0 {
            &self.base[node as usize * (m0 + 1)..(node as usize + 1) * (m0 + 1)]
        } else {
            let all = &self.upper[node as usize];
            &all[(level - 1) * (m + 1)..level * (m + 1)]
        };
        &list[1..1 + list[0] as usize]
    }

    #[inline]
    fn prefetch(&self, node: u32) {
        #[cfg(target_arch = "x86_64")]
        {
            let at = node as usize * self.dim;
            if let Some(v) = self.vectors.get(at..at + self.dim) {
                // SAFETY: prefetching is a hint and never faults; the pointer is in bounds.
                unsafe {
                    use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
                    _mm_prefetch::<_MM_HINT_T0>(v.as_ptr().cast());
                    _mm_prefetch::<_MM_HINT_T0>(v.as_ptr().add(16).cast());
                }
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = node;
    }
}

impl Hnsw {
    pub fn new(params: HnswParams) -> Hnsw {
        let m = params.m.clamp(2, 512);
        let capacity = params.capacity;
        Hnsw {
            params: HnswParams { m, ..params },
            m0: 2 * m,
            level_mult: 1.0 / (m as f64).ln(),
            rng: AtomicU64::new(0x9E37_79B9_7F4A_7C15),
            instance: rand::random(),
            layers: RwLock::new(Layers {
                dim: params.dim,
                vectors: Vec::with_capacity(capacity * params.dim),
                ids: Vec::with_capacity(capacity),
                base: Vec::with_capacity(capacity * (2 * m + 1)),
                upper: Vec::with_capacity(capacity),
                entry: None,
                top_level: 0,
            }),
        }
    }

    /// The graph `image` describes, its nodes holding `ids` (one per node), or why the
    /// image is not a graph. The image's parameters are taken as they are: the caller checks
    /// they are the index's.
    pub fn from_image(image: GraphImage<'_>, ids: Vec<u32>) -> Result<Hnsw, String> {
        image.check()?;
        if ids.len() != image.nodes() {
            return Err("one id per node is needed".into());
        }
        let params = HnswParams {
            metric: image.metric,
            dim: image.dim,
            m: image.m,
            ef_construction: image.ef_construction,
            capacity: 0,
        };
        let mut hnsw = Hnsw::new(params);
        if hnsw.params.m != image.m {
            return Err(format!("the saved graph has M {}", image.m));
        }
        hnsw.rng = AtomicU64::new(image.rng);
        hnsw.instance = image.instance;
        hnsw.layers = RwLock::new(Layers {
            dim: image.dim,
            vectors: image.vectors.into_owned(),
            ids,
            base: image.base.into_owned(),
            upper: image.upper.into_owned(),
            entry: image.entry,
            top_level: image.top_level,
        });
        Ok(hnsw)
    }

    /// The caller's id of every node, in node order.
    pub fn ids(&self) -> Vec<u32> {
        self.layers.read().ids.clone()
    }

    /// Calls `f` with the graph's image, its nodes named by `keys` (one per node, as
    /// [`Hnsw::ids`] listed them). Holds the graph's read lock meanwhile: the caller makes
    /// sure no insert is waiting for it, or searches would queue behind that insert.
    pub fn with_image<R>(
        &self,
        mut keys: Vec<Option<Bytes>>,
        f: impl FnOnce(&GraphImage<'_>) -> R,
    ) -> R {
        let layers = self.layers.read();
        // A node added since the ids were listed is named by no key: it loads as dead.
        keys.resize(layers.ids.len(), None);
        f(&GraphImage {
            metric: self.params.metric,
            dim: layers.dim,
            m: self.params.m,
            ef_construction: self.params.ef_construction,
            instance: self.instance,
            rng: self.rng.load(Ordering::Relaxed),
            entry: layers.entry,
            top_level: layers.top_level,
            vectors: Cow::Borrowed(&layers.vectors),
            base: Cow::Borrowed(&layers.base),
            upper: Cow::Borrowed(&layers.upper),
            keys,
        })
    }

    /// Nodes in the graph, those a background batch is still adding included.
    pub fn len(&self) -> usize {
        self.layers.read().ids.len()
    }

    pub fn memory_bytes(&self) -> usize {
        let l = self.layers.read();
        l.vectors.capacity() * 4
            + l.ids.capacity() * 4
            + l.base.capacity() * 4
            + l.upper.capacity() * 16
            + l.upper.iter().map(|u| u.len() * 4).sum::<usize>()
    }

    /// A level drawn from the geometric distribution of the paper (splitmix64 stream).
    fn random_level(&self) -> usize {
        let mut z = self.rng.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let u = ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        ((-u.ln() * self.level_mult) as usize).min(MAX_LEVEL)
    }

    /// Adds `v` (of length `dim`) under the caller's `id`.
    pub fn insert(&self, id: u32, v: &[f32]) {
        let level = self.random_level();
        let layers = self.layers.upgradable_read();
        let node = layers.ids.len() as u32;
        let plan = layers
            .entry
            .map(|entry| self.plan_links(&layers, node, v, level, entry));
        let mut layers = RwLockUpgradableReadGuard::upgrade(layers);
        let (m, m0) = (self.params.m, self.m0);
        layers.vectors.extend_from_slice(v);
        layers.ids.push(id);
        let base_len = layers.base.len();
        layers.base.resize(base_len + m0 + 1, 0);
        layers
            .upper
            .push(vec![0; level * (m + 1)].into_boxed_slice());
        if let Some(plan) = plan {
            for (lc, own) in plan.own.iter().enumerate() {
                set_links(&mut layers, node, lc, own, m0, m);
            }
            for (nb, lc, list) in &plan.neighbours {
                set_links(&mut layers, *nb, *lc, list, m0, m);
            }
        }
        if layers.entry.is_none() || level > layers.top_level {
            layers.entry = Some(node);
            layers.top_level = level;
        }
    }

    /// Chooses the links of a new node (not yet in `layers`) and its neighbours' new lists.
    fn plan_links(
        &self,
        layers: &Layers,
        node: u32,
        v: &[f32],
        level: usize,
        entry: u32,
    ) -> LinkPlan {
        let metric = self.params.metric;
        let vec_of = |n: u32| if n == node { v } else { layers.vector(n) };
        let mut ep = Hit {
            dist: distance(metric, v, layers.vector(entry)),
            id: entry,
        };
        for lc in (level + 1..=layers.top_level).rev() {
            ep = self.greedy(layers, v, ep, lc);
        }
        let top = level.min(layers.top_level);
        let mut plan = LinkPlan {
            own: vec![Vec::new(); top + 1],
            neighbours: Vec::new(),
        };
        let mut eps = vec![ep];
        for lc in (0..=top).rev() {
            let found = self.search_layer(
                layers,
                v,
                &eps,
                self.params.ef_construction,
                lc,
                None::<fn(u32) -> bool>,
            );
            let chosen = self.select(&found, self.params.m, &vec_of);
            let cap = if lc == 0 { self.m0 } else { self.params.m };
            for nb in &chosen {
                let current = layers.links(nb.id, lc, self.m0, self.params.m);
                let list = if current.len() < cap {
                    let mut list = current.to_vec();
                    list.push(node);
                    list
                } else {
                    let base = layers.vector(nb.id);
                    let mut cands: Vec<Hit> = current
                        .iter()
                        .chain(std::iter::once(&node))
                        .map(|&n| Hit {
                            dist: distance(metric, base, vec_of(n)),
                            id: n,
                        })
                        .collect();
                    cands.sort_unstable();
                    self.select(&cands, cap, &vec_of)
                        .iter()
                        .map(|h| h.id)
                        .collect()
                };
                plan.neighbours.push((nb.id, lc, list));
            }
            plan.own[lc] = chosen.iter().map(|h| h.id).collect();
            eps = found;
        }
        plan
    }

    /// The heuristic of the paper: keep a candidate (nearest first) only if it is closer to
    /// the base than to every candidate kept so far, up to `m`.
    fn select<'a>(&self, sorted: &[Hit], m: usize, vec_of: &impl Fn(u32) -> &'a [f32]) -> Vec<Hit> {
        let mut kept: Vec<Hit> = Vec::with_capacity(m);
        for c in sorted {
            if kept.len() >= m {
                break;
            }
            let cv = vec_of(c.id);
            if kept
                .iter()
                .all(|r| distance(self.params.metric, cv, vec_of(r.id)) > c.dist)
            {
                kept.push(*c);
            }
        }
        kept
    }

    /// Descends one layer greedily from `ep` towards `q`.
    fn greedy(&self, layers: &Layers, q: &[f32], mut ep: Hit, level: usize) -> Hit {
        loop {
            let mut moved = false;
            for &n in layers.links(ep.id, level, self.m0, self.params.m) {
                let d = distance(self.params.metric, q, layers.vector(n));
                if d < ep.dist {
                    ep = Hit { dist: d, id: n };
                    moved = true;
                }
            }
            if !moved {
                return ep;
            }
        }
    }

    /// The `ef` nearest nodes of `level` reachable from `entries` (nearest first), keeping
    /// only nodes whose caller id passes `keep` in the result while walking through all.
    fn search_layer(
        &self,
        layers: &Layers,
        q: &[f32],
        entries: &[Hit],
        ef: usize,
        level: usize,
        keep: Option<impl Fn(u32) -> bool>,
    ) -> Vec<Hit> {
        let metric = self.params.metric;
        let passes = |node: u32| keep.as_ref().is_none_or(|f| f(layers.ids[node as usize]));
        VISITED.with_borrow_mut(|visited| {
            visited.reset(layers.ids.len());
            let mut candidates: BinaryHeap<Reverse<Hit>> = BinaryHeap::with_capacity(ef * 2);
            let mut results: BinaryHeap<Hit> = BinaryHeap::with_capacity(ef + 1);
            for &e in entries {
                if visited.insert(e.id) {
                    candidates.push(Reverse(e));
                    if passes(e.id) {
                        results.push(e);
                    }
                }
            }
            while results.len() > ef {
                results.pop();
            }
            while let Some(Reverse(c)) = candidates.pop() {
                if results.len() >= ef && results.peek().is_some_and(|w| c.dist > w.dist) {
                    break;
                }
                let links = layers.links(c.id, level, self.m0, self.params.m);
                if let Some(&first) = links.first() {
                    layers.prefetch(first);
                }
                for (i, &n) in links.iter().enumerate() {
                    if let Some(&next) = links.get(i + 1) {
                        layers.prefetch(next);
                    }
                    if !visited.insert(n) {
                        continue;
                    }
                    let d = distance(metric, q, layers.vector(n));
                    let worst = results.peek().map_or(f32::INFINITY, |w| w.dist);
                    if results.len() < ef || d < worst {
                        candidates.push(Reverse(Hit { dist: d, id: n }));
                        if passes(n) {
                            results.push(Hit { dist: d, id: n });
                            if results.len() > ef {
                                results.pop();
                            }
                        }
                    }
                }
            }
            results.into_sorted_vec()
        })
    }

    /// The `k` nearest nodes to `q` whose ids pass `keep` (all when `None`), as (id,
    /// distance), nearest first; `ef` (>= k) is the width of the layer-0 search.
    pub fn search(
        &self,
        q: &[f32],
        k: usize,
        ef: usize,
        keep: Option<impl Fn(u32) -> bool>,
    ) -> Vec<Hit> {
        let layers = self.layers.read();
        let Some(entry) = layers.entry else {
            return Vec::new();
        };
        let mut ep = Hit {
            dist: distance(self.params.metric, q, layers.vector(entry)),
            id: entry,
        };
        for lc in (1..=layers.top_level).rev() {
            ep = self.greedy(&layers, q, ep, lc);
        }
        // A client's k or EF_RUNTIME may be huge: no search is wider than the graph.
        let ef = ef.max(k).min(layers.ids.len());
        let mut found = self.search_layer(&layers, q, &[ep], ef, 0, keep);
        found.truncate(k);
        for h in &mut found {
            h.id = layers.ids[h.id as usize];
        }
        found
    }
}

fn set_links(layers: &mut Layers, node: u32, level: usize, list: &[u32], m0: usize, m: usize) {
    let slot = if level == 0 {
        &mut layers.base[node as usize * (m0 + 1)..(node as usize + 1) * (m0 + 1)]
    } else {
        &mut layers.upper[node as usize][(level - 1) * (m + 1)..level * (m + 1)]
    };
    let n = list.len().min(slot.len() - 1);
    slot[0] = n as u32;
    slot[1..1 + n].copy_from_slice(&list[..n]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(dim: usize) -> Hnsw {
        Hnsw::new(HnswParams {
            metric: Metric::L2,
            dim,
            m: 8,
            ef_construction: 64,
            capacity: 0,
        })
    }

    #[test]
    fn empty_graph_finds_nothing() {
        assert!(
            graph(2)
                .search(&[0.0, 0.0], 3, 10, None::<fn(u32) -> bool>)
                .is_empty()
        );
    }

    #[test]
    fn finds_exact_neighbours_on_a_small_grid() {
        let g = graph(2);
        for i in 0..400u32 {
            g.insert(
                i + 1000,
                &[(i % 20) as f32 + 0.01 * i as f32, (i / 20) as f32],
            );
        }
        for i in (0..400u32).step_by(37) {
            let q = [(i % 20) as f32 + 0.01 * i as f32, (i / 20) as f32];
            let hits = g.search(&q, 1, 32, None::<fn(u32) -> bool>);
            assert_eq!(
                hits[0],
                Hit {
                    dist: 0.0,
                    id: i + 1000
                }
            );
        }
        let odd = g.search(&[5.0, 5.0], 5, 64, Some(|id: u32| id % 2 == 1));
        assert_eq!(odd.len(), 5);
        assert!(odd.iter().all(|h| h.id % 2 == 1));
        assert!(odd.windows(2).all(|w| w[0] <= w[1]));
    }
}
