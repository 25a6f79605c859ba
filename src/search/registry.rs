//! The registry of FT indexes and aliases, and the keyspace observer that keeps every index
//! in step with the keyspace.
//!
//! Indexes follow database 0 only (FT.CREATE refuses other databases, as RediSearch does).
//! On every change of a key in database 0, each index whose prefixes cover the key re-indexes
//! it (a hash) or drops it (deleted, expired, or no longer a hash). FLUSHDB / FLUSHALL empty
//! the indexes; SWAPDB involving database 0 empties them and asks for a re-scan of the new
//! contents (see [`Registry::take_rescans`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::{Mutex, RwLock};

use super::config::SearchConfig;
use super::dict::Dictionaries;
use super::index::Index;
use super::stats::QueryStats;
use super::{IndexDef, SearchError};
use crate::keyspace::{Entry, KeyEvent, KeyEventKind, KeyObserver, Value};

/// Indexes by name, and aliases.
#[derive(Default)]
pub struct Registry {
    /// FT.CONFIG settings.
    pub config: SearchConfig,
    /// FT.DICTADD's dictionaries.
    pub dicts: Dictionaries,
    /// Module-wide query counters (INFO's search sections).
    pub queries: QueryStats,
    inner: RwLock<Inner>,
    /// Whether any index exists: read by every keyspace write ([`KeyObserver::listening`]),
    /// so it is an atomic rather than the lock. Changed only under `inner`'s write lock.
    any: AtomicBool,
    /// Indexes whose documents were dropped wholesale (SWAPDB) and must be scanned again;
    /// the command layer, which can reach the keyspace, drains it.
    rescans: Mutex<Vec<Arc<Index>>>,
    /// While a dataset loads: indexes created meanwhile, whose saved HNSW graphs are to be
    /// adopted once it is loaded (`None` when no load runs).
    restoring: Mutex<Option<Vec<Arc<Index>>>>,
}

#[derive(Default)]
struct Inner {
    /// In creation order (FT._LIST).
    indexes: Vec<Arc<Index>>,
    /// alias -> index name.
    aliases: HashMap<String, String>,
}

impl Inner {
    fn by_name(&self, name: &str) -> Option<&Arc<Index>> {
        self.indexes.iter().find(|i| i.def.name == name)
    }

    /// Removes the index at `pos` and the aliases pointing at it.
    fn remove_at(&mut self, pos: usize) -> Arc<Index> {
        let index = self.indexes.remove(pos);
        self.aliases.retain(|_, t| *t != index.def.name);
        index
    }
}

/// Which name an alias command targets.
pub enum AliasOp {
    Add,
    Update,
}

impl Registry {
    /// Registers a new index (its documents come from the caller's initial scan).
    pub fn create(&self, def: IndexDef) -> Result<Arc<Index>, SearchError> {
        let mut inner = self.inner.write();
        if inner.by_name(&def.name).is_some() {
            return Err(SearchError::IndexExists);
        }
        let index = Arc::new(Index::new(def)?);
        inner.indexes.push(index.clone());
        self.any.store(true, Ordering::Release);
        self.note_restoring(&index);
        Ok(index)
    }

    /// From now on until [`Registry::end_load`], indexes created are held for restoring
    /// ([`Index::begin_restore`]).
    pub fn begin_load(&self) {
        *self.restoring.lock() = Some(Vec::new());
    }

    /// Ends [`Registry::begin_load`]: the indexes created meanwhile.
    pub fn end_load(&self) -> Vec<Arc<Index>> {
        self.restoring.lock().take().unwrap_or_default()
    }

    fn note_restoring(&self, index: &Arc<Index>) {
        if let Some(created) = self.restoring.lock().as_mut() {
            index.begin_restore();
            created.push(index.clone());
        }
    }

    /// FT.ALTER: puts a new, empty index with definition `def` in `old`'s place (same name,
    /// same aliases) and stops `old` (its scan ends). The caller scans the keyspace into the
    /// new index. Fails if `old` is no longer registered (dropped or replaced meanwhile).
    pub fn replace(&self, old: &Arc<Index>, def: IndexDef) -> Result<Arc<Index>, SearchError> {
        let mut inner = self.inner.write();
        let pos = inner
            .indexes
            .iter()
            .position(|i| Arc::ptr_eq(i, old))
            .ok_or(SearchError::UnknownIndexName)?;
        let index = Arc::new(Index::new(def)?);
        inner.indexes[pos] = index.clone();
        old.mark_dropped();
        self.note_restoring(&index);
        Ok(index)
    }

    /// The index called `name`, or the one `name` is an alias of.
    pub fn get(&self, name: &str) -> Option<Arc<Index>> {
        let inner = self.inner.read();
        let target = inner.aliases.get(name).map_or(name, String::as_str);
        inner.by_name(target).cloned()
    }

    /// Removes the index called `name` (or aliased `name`) and its aliases.
    pub fn drop_index(&self, name: &str) -> Option<Arc<Index>> {
        let mut inner = self.inner.write();
        let target = inner
            .aliases
            .get(name)
            .cloned()
            .unwrap_or_else(|| name.to_string());
        let pos = inner.indexes.iter().position(|i| i.def.name == target)?;
        let index = inner.remove_at(pos);
        self.any.store(!inner.indexes.is_empty(), Ordering::Release);
        index.mark_dropped();
        Some(index)
    }

    /// Removes `index` itself, with its aliases, unless it is already gone (dropped, or
    /// replaced by a namesake). Whether it was removed.
    pub fn drop_exact(&self, index: &Arc<Index>) -> bool {
        let mut inner = self.inner.write();
        let Some(pos) = inner.indexes.iter().position(|i| Arc::ptr_eq(i, index)) else {
            return false;
        };
        inner.remove_at(pos);
        self.any.store(!inner.indexes.is_empty(), Ordering::Release);
        true
    }

    /// FLUSHALL / FLUSHDB of database 0: every index goes, with its aliases, as RediSearch
    /// drops them (a later FT.SEARCH answers `No such index idx`). The indexes are freed on
    /// a thread of their own: this runs under the flush's shard locks, and a text index's
    /// writer waits for its threads when dropped.
    fn drop_all(&self) {
        let mut inner = self.inner.write();
        let dropped = std::mem::take(&mut inner.indexes);
        inner.aliases.clear();
        self.any.store(false, Ordering::Release);
        drop(inner);
        dropped.iter().for_each(|i| i.mark_dropped());
        self.rescans.lock().clear();
        if !dropped.is_empty() {
            std::thread::spawn(move || drop(dropped));
        }
    }

    /// Index names in creation order.
    pub fn names(&self) -> Vec<String> {
        self.inner
            .read()
            .indexes
            .iter()
            .map(|i| i.def.name.clone())
            .collect()
    }

    /// FT.ALIASADD / FT.ALIASUPDATE: points `alias` at index `index` (not itself an alias).
    pub fn set_alias(&self, alias: &str, index: &str, op: AliasOp) -> Result<(), SearchError> {
        let mut inner = self.inner.write();
        if inner.by_name(index).is_none() {
            return Err(SearchError::other(
                "Unknown index name (or name is an alias itself)",
            ));
        }
        if inner.by_name(alias).is_some() {
            return Err(SearchError::other(
                "Alias conflicts with an existing index name",
            ));
        }
        if matches!(op, AliasOp::Add) && inner.aliases.contains_key(alias) {
            return Err(SearchError::other("Alias already exists"));
        }
        inner.aliases.insert(alias.to_string(), index.to_string());
        Ok(())
    }

    /// FT.ALIASDEL.
    pub fn remove_alias(&self, alias: &str) -> Result<(), SearchError> {
        match self.inner.write().aliases.remove(alias) {
            Some(_) => Ok(()),
            None => Err(SearchError::other("Alias does not exist")),
        }
    }

    /// Aliases pointing at `index`.
    pub fn aliases_of(&self, index: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .inner
            .read()
            .aliases
            .iter()
            .filter(|(_, t)| *t == index)
            .map(|(a, _)| a.clone())
            .collect();
        out.sort();
        out
    }

    /// Indexes that need their documents scanned again (after SWAPDB), taken once.
    pub fn take_rescans(&self) -> Vec<Arc<Index>> {
        std::mem::take(&mut *self.rescans.lock())
    }

    /// Every index, in creation order.
    pub fn all(&self) -> Vec<Arc<Index>> {
        self.inner.read().indexes.clone()
    }

    /// FT.AGGREGATE cursors open on all indexes.
    pub fn cursor_count(&self) -> u64 {
        let inner = self.inner.read();
        inner.indexes.iter().map(|i| i.cursors.len() as u64).sum()
    }
}

impl KeyObserver for Registry {
    fn listening(&self) -> bool {
        self.any.load(Ordering::Acquire)
    }

    fn on_event(&self, event: &KeyEvent, entry: Option<&Entry>) {
        // SWAPDB reports both sides; database 0's own event is the one that matters.
        if event.db != 0 {
            return;
        }
        match &event.kind {
            KeyEventKind::Flushed => self.drop_all(),
            // The `Written` (or `Deleted`) event that follows re-indexes the key.
            KeyEventKind::FieldsExpired => {}
            KeyEventKind::Swapped { .. } => {
                let all = self.all();
                all.iter().for_each(|i| i.clear());
                self.rescans.lock().extend(all);
            }
            _ => {
                let inner = self.inner.read();
                for index in inner.indexes.iter().filter(|i| i.def.covers(&event.key)) {
                    match entry {
                        Some(Entry {
                            value: Value::Hash(hash),
                            expire_at,
                            ..
                        }) => {
                            index.upsert(&event.key, hash, *expire_at, crate::keyspace::unix_ms())
                        }
                        _ => index.remove(&event.key),
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::keyspace::value::StrValue;
    use crate::search::index::testing::{def, hash, numeric};

    fn event(db: usize, key: &str, kind: KeyEventKind) -> KeyEvent {
        KeyEvent {
            db,
            key: Bytes::from(key.to_string()),
            kind,
        }
    }

    #[test]
    fn follows_covered_hashes_of_db0_only() {
        let registry = Registry::default();
        assert!(!registry.listening());
        let index = registry.create(def(vec![numeric("n")])).expect("create");
        assert!(registry.listening());
        let doc = Entry::persistent(Value::Hash(hash(&[("n", b"1")])));
        registry.on_event(&event(0, "doc:1", KeyEventKind::Written), Some(&doc));
        registry.on_event(&event(0, "other:1", KeyEventKind::Written), Some(&doc));
        registry.on_event(&event(1, "doc:2", KeyEventKind::Written), Some(&doc));
        assert_eq!(index.keys(), [Bytes::from_static(b"doc:1")]);
        // The key became a string: it leaves the index.
        let string = Entry::persistent(Value::Str(StrValue::text(Bytes::from_static(b"x"))));
        registry.on_event(&event(0, "doc:1", KeyEventKind::Written), Some(&string));
        assert!(index.keys().is_empty());
        registry.on_event(&event(0, "doc:1", KeyEventKind::Written), Some(&doc));
        registry.on_event(&event(0, "doc:1", KeyEventKind::Expired), None);
        assert!(index.keys().is_empty());
        registry.on_event(&event(0, "doc:3", KeyEventKind::Written), Some(&doc));
        registry.on_event(&event(1, "", KeyEventKind::Flushed), None);
        assert_eq!(index.keys().len(), 1);
        registry.set_alias("a", "idx", AliasOp::Add).expect("alias");
        // Flushing database 0 drops every index and alias, as RediSearch does.
        registry.on_event(&event(0, "", KeyEventKind::Flushed), None);
        assert!(registry.names().is_empty() && registry.get("a").is_none());
        assert!(!registry.listening());
    }

    #[test]
    fn swapdb_clears_and_asks_for_a_rescan_once() {
        let registry = Registry::default();
        let index = registry.create(def(vec![numeric("n")])).expect("create");
        let doc = Entry::persistent(Value::Hash(hash(&[("n", b"1")])));
        registry.on_event(&event(0, "doc:1", KeyEventKind::Written), Some(&doc));
        registry.on_event(&event(1, "", KeyEventKind::Swapped { other: 0 }), None);
        registry.on_event(&event(0, "", KeyEventKind::Swapped { other: 1 }), None);
        assert!(index.keys().is_empty());
        assert_eq!(registry.take_rescans().len(), 1);
        assert!(registry.take_rescans().is_empty());
    }

    #[test]
    fn dropping_an_index_stops_its_scan_and_its_aliases() {
        let registry = Registry::default();
        let index = registry.create(def(vec![])).expect("create");
        registry.set_alias("a", "idx", AliasOp::Add).expect("alias");
        let ticket = index.begin_scan();
        assert!(registry.drop_index("a").is_some());
        assert!(!index.scan_current(ticket));
        assert!(registry.get("a").is_none());
        assert!(registry.names().is_empty());
    }

    #[test]
    fn replacing_an_index_keeps_its_name_and_aliases() {
        let registry = Registry::default();
        let old = registry.create(def(vec![])).expect("create");
        registry.set_alias("a", "idx", AliasOp::Add).expect("alias");
        let ticket = old.begin_scan();
        let new = registry
            .replace(&old, def(vec![numeric("n")]))
            .expect("replace");
        assert!(!old.scan_current(ticket));
        let by_alias = registry.get("a").expect("alias");
        assert!(Arc::ptr_eq(&by_alias, &new));
        assert_eq!(registry.names(), ["idx"]);
        // The replaced index is gone: replacing it again fails.
        assert_eq!(
            registry.replace(&old, def(vec![])).err(),
            Some(SearchError::UnknownIndexName)
        );
    }
}
