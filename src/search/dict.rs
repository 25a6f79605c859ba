//! Spell-check dictionaries (FT.DICTADD / DICTDEL / DICTDUMP): named sets of terms, global to
//! the server rather than keys, as in RediSearch 2.10. FT.SPELLCHECK reads them for its
//! TERMS INCLUDE / EXCLUDE options. A dictionary whose last term is deleted ceases to exist;
//! flushing database 0 (FLUSHALL, FLUSHDB) drops them all, as RediSearch's flush handler
//! clears its dictionaries with its indexes.

use std::collections::{BTreeMap, BTreeSet};

use parking_lot::RwLock;

/// Every dictionary, by name; terms in lexicographic order (DICTDUMP's order).
#[derive(Default)]
pub struct Dictionaries {
    dicts: RwLock<BTreeMap<String, BTreeSet<String>>>,
}

impl Dictionaries {
    /// Adds `terms` to `dict` (creating it); how many were new.
    pub fn add(&self, dict: &str, terms: impl IntoIterator<Item = String>) -> usize {
        let mut dicts = self.dicts.write();
        let set = dicts.entry(dict.to_string()).or_default();
        terms.into_iter().filter(|t| set.insert(t.clone())).count()
    }

    /// Removes `terms` from `dict`; how many were there.
    pub fn remove<'t>(&self, dict: &str, terms: impl IntoIterator<Item = &'t str>) -> usize {
        let mut dicts = self.dicts.write();
        let Some(set) = dicts.get_mut(dict) else {
            return 0;
        };
        let removed = terms.into_iter().filter(|t| set.remove(*t)).count();
        if set.is_empty() {
            dicts.remove(dict);
        }
        removed
    }

    /// The terms of `dict`, `None` when it does not exist.
    pub fn terms(&self, dict: &str) -> Option<Vec<String>> {
        self.dicts
            .read()
            .get(dict)
            .map(|set| set.iter().cloned().collect())
    }

    /// Drops every dictionary.
    pub fn clear(&self) {
        self.dicts.write().clear();
    }

    /// Every dictionary with its terms (what the AOF writes back as FT.DICTADD).
    pub fn all(&self) -> Vec<(String, Vec<String>)> {
        let dicts = self.dicts.read();
        dicts
            .iter()
            .map(|(name, set)| (name.clone(), set.iter().cloned().collect()))
            .collect()
    }

    /// Whether `dict` exists and holds `term`.
    pub fn contains(&self, dict: &str, term: &str) -> bool {
        self.dicts
            .read()
            .get(dict)
            .is_some_and(|s| s.contains(term))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(terms: &[&str]) -> Vec<String> {
        terms.iter().map(|t| t.to_string()).collect()
    }

    #[test]
    fn add_remove_dump() {
        let d = Dictionaries::default();
        assert_eq!(d.add("d", owned(&["b", "a", "c"])), 3);
        assert_eq!(d.add("d", owned(&["a", "d"])), 1);
        assert_eq!(d.terms("d").unwrap(), owned(&["a", "b", "c", "d"]));
        assert!(d.contains("d", "a"));
        assert!(!d.contains("x", "a"));
        assert_eq!(d.remove("d", ["a", "z"]), 1);
        assert_eq!(d.remove("x", ["a"]), 0);
        assert_eq!(d.remove("d", ["b", "c", "d"]), 3);
        assert_eq!(d.terms("d"), None);
    }
}
