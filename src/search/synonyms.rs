//! Synonym groups of one index (FT.SYNUPDATE / FT.SYNDUMP) and their use at query time: a
//! text word also matches every other term of the groups it belongs to. RediSearch expands
//! synonyms when it indexes a document; expanding the query instead gives the same matches,
//! for documents indexed before an update too (so SKIPINITIALSCAN changes nothing here).

use std::collections::BTreeMap;

/// Group id -> terms, and term -> group ids, both in the order they were added. Terms are
/// lower-cased, as the tokenizer lower-cases indexed words.
#[derive(Debug, Default)]
pub struct SynonymMap {
    groups: BTreeMap<String, Vec<String>>,
    by_term: BTreeMap<String, Vec<String>>,
}

impl SynonymMap {
    /// Adds `terms` to group `group` (creating it).
    pub fn update(&mut self, group: &str, terms: impl IntoIterator<Item = String>) {
        let members = self.groups.entry(group.to_string()).or_default();
        for term in terms {
            let term = term.to_lowercase();
            if members.contains(&term) {
                continue;
            }
            members.push(term.clone());
            self.by_term
                .entry(term)
                .or_default()
                .push(group.to_string());
        }
    }

    /// Every term with the ids of its groups (FT.SYNDUMP), terms in lexicographic order.
    pub fn dump(&self) -> Vec<(String, Vec<String>)> {
        self.by_term
            .iter()
            .map(|(term, groups)| (term.clone(), groups.clone()))
            .collect()
    }

    /// `word` followed by the other terms of its groups, each once.
    pub fn expand<'s>(&'s self, word: &'s str) -> Vec<&'s str> {
        let mut terms = vec![word];
        for group in self.by_term.get(word).into_iter().flatten() {
            for term in self.groups.get(group).into_iter().flatten() {
                if !terms.contains(&term.as_str()) {
                    terms.push(term);
                }
            }
        }
        terms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(terms: &[&str]) -> Vec<String> {
        terms.iter().map(|t| t.to_string()).collect()
    }

    #[test]
    fn groups_expand_words() {
        let mut map = SynonymMap::default();
        map.update("g1", owned(&["Boy", "child"]));
        map.update("g2", owned(&["child", "kid"]));
        map.update("g1", owned(&["boy", "lad"]));
        assert_eq!(map.expand("boy"), ["boy", "child", "lad"]);
        assert_eq!(map.expand("child"), ["child", "boy", "lad", "kid"]);
        assert_eq!(map.expand("other"), ["other"]);
        assert_eq!(
            map.dump(),
            vec![
                ("boy".to_string(), owned(&["g1"])),
                ("child".to_string(), owned(&["g1", "g2"])),
                ("kid".to_string(), owned(&["g2"])),
                ("lad".to_string(), owned(&["g1"])),
            ]
        );
    }
}
