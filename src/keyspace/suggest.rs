//! Suggestion dictionaries: the value FT.SUGADD stores under a key (RediSearch's `trietype0`
//! module type), and its completion search.
//!
//! Entries are kept in a sorted map keyed by the case-folded string first, so the entries
//! completing a prefix are one range of the map; the original string is kept (and returned)
//! as added. Scores are single precision, as RediSearch's trie stores them, so the scores
//! FT.SUGGET reports are the ones RediSearch would.

use std::collections::BTreeMap;

use bytes::Bytes;

/// The longest suggestion (in characters) RediSearch's trie accepts.
const MAX_STRING_LEN: usize = 255;

/// A suggestion dictionary.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SuggestValue {
    entries: BTreeMap<SuggestKey, Suggestion>,
}

/// Sorts entries by their folded text, then by the exact string.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct SuggestKey {
    folded: String,
    original: Bytes,
}

impl SuggestKey {
    fn new(original: Bytes) -> SuggestKey {
        SuggestKey {
            folded: fold(&original),
            original,
        }
    }
}

/// One suggestion's score and optional payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub score: f32,
    pub payload: Option<Bytes>,
}

/// One FT.SUGGET result.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion<'a> {
    pub text: &'a Bytes,
    /// The stored score weighed by distance and by how much the suggestion extends the prefix.
    pub score: f64,
    pub payload: Option<&'a Bytes>,
}

/// Text lower-cased character by character (invalid UTF-8 read leniently): what matching
/// compares, so completion ignores case.
pub fn fold(text: &[u8]) -> String {
    String::from_utf8_lossy(text)
        .chars()
        .flat_map(char::to_lowercase)
        .collect()
}

impl SuggestValue {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds `text` or updates it: `incr` adds `score` to the existing score instead of
    /// replacing it; a payload replaces the stored one, none keeps it. Empty strings and
    /// strings longer than the trie allows are ignored, as RediSearch does. Returns whether
    /// the dictionary gained an entry.
    pub fn add(&mut self, text: Bytes, score: f64, incr: bool, payload: Option<Bytes>) -> bool {
        if !Self::accepts(&text) {
            return false;
        }
        // Single precision, as the trie keeps it.
        let score = score as f32;
        match self.entries.get_mut(&SuggestKey::new(text.clone())) {
            Some(entry) => {
                entry.score = if incr { entry.score + score } else { score };
                if payload.is_some() {
                    entry.payload = payload;
                }
                false
            }
            None => {
                self.entries
                    .insert(SuggestKey::new(text), Suggestion { score, payload });
                true
            }
        }
    }

    /// Whether `text` can be stored: not empty, and shorter than the trie's limit.
    pub fn accepts(text: &[u8]) -> bool {
        let chars = String::from_utf8_lossy(text).chars().count();
        chars > 0 && chars < MAX_STRING_LEN
    }

    pub fn contains(&self, text: &[u8]) -> bool {
        self.entries
            .contains_key(&SuggestKey::new(Bytes::copy_from_slice(text)))
    }

    /// Removes exactly `text`; whether it was there.
    pub fn remove(&mut self, text: &[u8]) -> bool {
        self.entries
            .remove(&SuggestKey::new(Bytes::copy_from_slice(text)))
            .is_some()
    }

    /// Every entry in the dictionary's order: what DUMP writes.
    pub fn iter(&self) -> impl Iterator<Item = (&Bytes, &Suggestion)> {
        self.entries.iter().map(|(k, v)| (&k.original, v))
    }

    /// The best `max` completions of `prefix` (case-insensitive). With `fuzzy`, suggestions
    /// whose beginning is within Levenshtein distance 1 of the prefix match too. As in
    /// RediSearch, a score is divided by `sqrt(1 + |len(suggestion) - len(prefix)|)` and, when
    /// fuzzy, multiplied by `exp(-2 * distance)`; ties keep the dictionary's order.
    pub fn complete(&self, prefix: &[u8], fuzzy: bool, max: usize) -> Vec<Completion<'_>> {
        let folded: Vec<char> = fold(prefix).chars().collect();
        let weigh = |key: &SuggestKey, entry: &Suggestion, distance: usize| {
            let len = key.folded.chars().count();
            let mut score = f64::from(entry.score);
            if fuzzy {
                score *= (-2.0 * distance as f64).exp();
            }
            score /= (1.0 + len.abs_diff(folded.len()) as f64).sqrt();
            score
        };
        let mut found: Vec<(&SuggestKey, &Suggestion, f64)> = if fuzzy {
            self.entries
                .iter()
                .filter_map(|(k, v)| {
                    let distance = prefix_distance(&folded, &k.folded);
                    (distance <= 1).then(|| (k, v, weigh(k, v, distance)))
                })
                .collect()
        } else {
            let start: String = folded.iter().collect();
            self.entries
                .range(
                    SuggestKey {
                        folded: start.clone(),
                        original: Bytes::new(),
                    }..,
                )
                .take_while(|(k, _)| k.folded.starts_with(&start))
                .map(|(k, v)| (k, v, weigh(k, v, 0)))
                .collect()
        };
        // Stable: equal scores stay in dictionary order.
        found.sort_by(|a, b| b.2.total_cmp(&a.2));
        found
            .into_iter()
            .take(max)
            .map(|(k, v, score)| Completion {
                text: &k.original,
                score,
                payload: v.payload.as_ref(),
            })
            .collect()
    }

    /// A rough size for MEMORY USAGE.
    pub fn memory_usage(&self) -> usize {
        self.entries
            .iter()
            .map(|(k, v)| {
                k.folded.len() + k.original.len() + v.payload.as_ref().map_or(0, Bytes::len) + 64
            })
            .sum()
    }
}

/// The smallest Levenshtein distance between `query` and any beginning of `text`.
fn prefix_distance(query: &[char], text: &str) -> usize {
    // row[j]: distance between the text read so far and query[..j].
    let mut row: Vec<usize> = (0..=query.len()).collect();
    let mut best = row[query.len()];
    for (i, c) in text.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, q) in query.iter().enumerate() {
            let substitution = diagonal + usize::from(*q != c);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
        best = best.min(row[query.len()]);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dict(entries: &[(&str, f64)]) -> SuggestValue {
        let mut d = SuggestValue::default();
        for (text, score) in entries {
            d.add(Bytes::copy_from_slice(text.as_bytes()), *score, false, None);
        }
        d
    }

    fn texts(found: &[Completion<'_>]) -> Vec<String> {
        found
            .iter()
            .map(|c| String::from_utf8_lossy(c.text).into_owned())
            .collect()
    }

    #[test]
    fn add_replaces_or_increments() {
        let mut d = dict(&[("hello", 1.0)]);
        assert!(!d.add(Bytes::from_static(b"hello"), 2.0, true, None));
        assert_eq!(d.complete(b"hello", false, 5)[0].score, 3.0);
        d.add(Bytes::from_static(b"hello"), 0.5, false, None);
        assert_eq!(d.complete(b"hello", false, 5)[0].score, 0.5);
        assert!(!d.add(Bytes::new(), 1.0, false, None));
        assert_eq!(d.len(), 1);
    }

    #[test]
    fn prefix_matches_ignore_case_and_weigh_length() {
        let d = dict(&[("Hello World", 1.0), ("help", 1.0), ("world", 5.0)]);
        let found = d.complete(b"HEL", false, 5);
        assert_eq!(texts(&found), ["help", "Hello World"]);
        assert!((found[0].score - 1.0 / 2f64.sqrt()).abs() < 1e-12);
        assert!(d.complete(b"x", false, 5).is_empty());
    }

    #[test]
    fn fuzzy_allows_one_edit_in_the_prefix() {
        let d = dict(&[
            ("hello", 1.0),
            ("jello", 1.0),
            ("yellow", 1.0),
            ("help", 1.0),
        ]);
        let found = d.complete(b"hell", true, 10);
        assert_eq!(texts(&found), ["hello", "help", "jello", "yellow"]);
        assert!((found[0].score - 1.0 / 2f64.sqrt()).abs() < 1e-12);
        let jello = 1.0 * (-2f64).exp() / 2f64.sqrt();
        assert!((found[2].score - jello).abs() < 1e-12);
        assert_eq!(texts(&d.complete(b"hel", true, 2)), ["help", "hello"]);
    }

    #[test]
    fn prefix_distance_is_the_best_over_beginnings() {
        let q: Vec<char> = "abc".chars().collect();
        assert_eq!(prefix_distance(&q, "abcdef"), 0);
        assert_eq!(prefix_distance(&q, "abxdef"), 1);
        assert_eq!(prefix_distance(&q, "xbc"), 1);
        assert_eq!(prefix_distance(&q, "xyz"), 3);
        assert_eq!(prefix_distance(&[], "abc"), 0);
    }
}
