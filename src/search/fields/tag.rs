//! TAG fields: documents by normalised tag value, with exact, prefix, suffix and infix
//! matching.

use std::collections::BTreeMap;

use roaring::RoaringBitmap;

use crate::search::DocId;
use crate::search::query::{TagPattern, wildcard_match};

/// Splits a hash value into its tags as RediSearch does: on `separator`, each part trimmed
/// of surrounding whitespace, lower-cased unless `case_sensitive`, empty parts dropped (an
/// entirely empty value is the tag `""` under INDEXEMPTY), duplicates dropped.
pub fn split(raw: &str, separator: u8, case_sensitive: bool, index_empty: bool) -> Vec<String> {
    if raw.trim().is_empty() {
        return match index_empty {
            true => vec![String::new()],
            false => Vec::new(),
        };
    }
    let mut tags: Vec<String> = Vec::new();
    for part in raw.split(char::from(separator)) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let tag = fold(part, case_sensitive);
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    tags
}

/// A tag (or a query's tag pattern) as the index compares it.
pub fn fold(tag: &str, case_sensitive: bool) -> String {
    match case_sensitive {
        true => tag.to_string(),
        false => tag.to_lowercase(),
    }
}

/// One TAG field's postings.
#[derive(Default)]
pub struct TagIndex {
    by_tag: BTreeMap<String, RoaringBitmap>,
    records: u64,
    /// Bytes of the distinct tag strings, kept as they come and go so that FT.INFO's
    /// memory figure costs nothing.
    tag_bytes: usize,
}

impl TagIndex {
    pub fn insert(&mut self, id: DocId, tags: &[String]) {
        for tag in tags {
            let ids = self.by_tag.entry(tag.clone()).or_insert_with(|| {
                self.tag_bytes += tag.len();
                RoaringBitmap::new()
            });
            if ids.insert(id.0) {
                self.records += 1;
            }
        }
    }

    pub fn remove(&mut self, id: DocId, tags: &[String]) {
        for tag in tags {
            if let Some(ids) = self.by_tag.get_mut(tag)
                && ids.remove(id.0)
            {
                self.records -= 1;
                if ids.is_empty() {
                    self.by_tag.remove(tag);
                    self.tag_bytes -= tag.len();
                }
            }
        }
    }

    pub fn clear(&mut self) {
        self.by_tag.clear();
        self.records = 0;
        self.tag_bytes = 0;
    }

    /// Documents with a tag matching `pattern` (folded as the field folds its values).
    pub fn matching(&self, pattern: &TagPattern, case_sensitive: bool) -> RoaringBitmap {
        let union = |pred: &dyn Fn(&str) -> bool| {
            self.by_tag
                .iter()
                .filter(|(tag, _)| pred(tag))
                .fold(RoaringBitmap::new(), |acc, (_, ids)| acc | ids)
        };
        match pattern {
            TagPattern::Exact(t) => self
                .by_tag
                .get(&fold(t.trim(), case_sensitive))
                .cloned()
                .unwrap_or_default(),
            TagPattern::Prefix(p) => {
                let p = fold(p.trim_start(), case_sensitive);
                self.by_tag
                    .range(p.clone()..)
                    .take_while(|(tag, _)| tag.starts_with(&p))
                    .fold(RoaringBitmap::new(), |acc, (_, ids)| acc | ids)
            }
            TagPattern::Suffix(s) => {
                let s = fold(s.trim_end(), case_sensitive);
                union(&|tag| tag.ends_with(&s))
            }
            TagPattern::Infix(s) => {
                let s = fold(s, case_sensitive);
                union(&|tag| tag.contains(&s))
            }
            TagPattern::Wildcard(w) => {
                let w = fold(w, case_sensitive);
                union(&|tag| wildcard_match(&w, tag))
            }
        }
    }

    /// The distinct tags indexed (FT.TAGVALS), in byte order.
    pub fn values(&self) -> Vec<String> {
        self.by_tag.keys().cloned().collect()
    }

    /// Index entries (FT.INFO `num_records`).
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Approximate bytes used.
    pub fn memory_bytes(&self) -> usize {
        // An estimate from running counts (a map entry per tag, about 4 bytes per posting),
        // so that FT.INFO never walks the postings under the index lock.
        self.tag_bytes + self.by_tag.len() * 64 + self.records as usize * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(bits: RoaringBitmap) -> Vec<u32> {
        bits.iter().collect()
    }

    #[test]
    fn splits_trims_and_folds() {
        assert_eq!(
            split(" Red , blue,,RED ", b',', false, false),
            ["red", "blue"]
        );
        assert_eq!(split("Red|Blue", b'|', true, false), ["Red", "Blue"]);
        assert_eq!(split("john doe", b',', false, false), ["john doe"]);
        assert!(split("  ", b',', false, false).is_empty());
        assert_eq!(split("", b',', false, true), [""]);
    }

    #[test]
    fn matches_exact_prefix_suffix_infix() {
        let mut t = TagIndex::default();
        t.insert(DocId(1), &split("tech,science", b',', false, false));
        t.insert(DocId(2), &split("biotech", b',', false, false));
        t.insert(DocId(3), &split("Technology", b',', false, false));
        let m = |p: TagPattern| ids(t.matching(&p, false));
        assert_eq!(m(TagPattern::Exact("TECH".into())), vec![1]);
        assert_eq!(m(TagPattern::Prefix("tech".into())), vec![1, 3]);
        assert_eq!(m(TagPattern::Suffix("tech".into())), vec![1, 2]);
        assert_eq!(m(TagPattern::Infix("ech".into())), vec![1, 2, 3]);
        assert!(m(TagPattern::Exact("none".into())).is_empty());
        assert_eq!(m(TagPattern::Wildcard("TECH*".into())), vec![1, 3]);
        assert_eq!(m(TagPattern::Wildcard("?iotech".into())), vec![2]);
        assert_eq!(m(TagPattern::Wildcard("*e*h".into())), vec![1, 2]);
        t.remove(DocId(1), &["tech".into(), "science".into()]);
        assert_eq!(
            ids(t.matching(&TagPattern::Prefix("tech".into()), false)),
            vec![3]
        );
        assert_eq!(t.values(), ["biotech", "technology"]);
        assert_eq!(t.records(), 2);
    }

    #[test]
    fn case_sensitive_fields_match_exactly() {
        let mut t = TagIndex::default();
        t.insert(DocId(1), &split("Red", b',', true, false));
        assert_eq!(
            ids(t.matching(&TagPattern::Exact("Red".into()), true)),
            vec![1]
        );
        assert!(
            t.matching(&TagPattern::Exact("red".into()), true)
                .is_empty()
        );
    }
}
