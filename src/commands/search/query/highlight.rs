//! SUMMARIZE and HIGHLIGHT: rewriting returned TEXT values around the query's terms.
//!
//! RediSearch works from the term offsets it stored at indexing; here the returned value is
//! re-split with the TEXT tokenizer's separators and each word is compared, lower-cased, with
//! the query's positive words, prefixes, suffixes, infixes and fuzzy words, and (unless
//! VERBATIM) by stem with its words, as the stem expansions matched. HIGHLIGHT wraps every
//! matching word in the open / close tags. SUMMARIZE keeps up to FRAGS windows of LEN words around matches (in document
//! order, overlapping windows merged), each followed by the separator; a value without any
//! match is cut to its first LEN words. RediSearch picks fragments by term score, so the
//! chosen fragments can differ from its choice, never the words inside them.

use bytes::Bytes;

use super::options::{Highlight, Request, Summarize};
use parking_lot::Mutex;

use crate::search::fields::text::{MIN_STEM_LEN, WordStemmer, is_separator, within_edits};
use crate::search::query::{Query, QueryNode, TextTerm};
use crate::search::{FieldKind, IndexDef, SearchError};

/// The words a returned value is matched against.
#[derive(Debug, Default, PartialEq)]
struct Terms {
    words: Vec<String>,
    prefixes: Vec<String>,
    suffixes: Vec<String>,
    infixes: Vec<String>,
    /// Fuzzy words with their edit distance.
    fuzzy: Vec<(String, u8)>,
}

impl Terms {
    /// The terms a document matched positively (not those under `-`).
    fn of(query: &Query) -> Terms {
        fn walk(node: &QueryNode, terms: &mut Terms) {
            match node {
                QueryNode::And(children) | QueryNode::Or(children) => {
                    children.iter().for_each(|c| walk(c, terms));
                }
                QueryNode::Optional(child) | QueryNode::Attributed { node: child, .. } => {
                    walk(child, terms)
                }
                QueryNode::Text { term, .. } => match term {
                    TextTerm::Word(w) | TextTerm::Exact(w) => terms.words.push(w.clone()),
                    TextTerm::Prefix(p) => terms.prefixes.push(p.clone()),
                    TextTerm::Suffix(p) => terms.suffixes.push(p.clone()),
                    TextTerm::Infix(p) => terms.infixes.push(p.clone()),
                    TextTerm::Fuzzy { word, distance } => {
                        terms.fuzzy.push((word.clone(), *distance))
                    }
                    TextTerm::Phrase(words) => terms.words.extend(words.iter().cloned()),
                    // Wildcard terms are matched in the index, not marked in the text.
                    TextTerm::Wildcard(_) => {}
                },
                _ => {}
            }
        }
        let mut terms = Terms::default();
        walk(&query.filter, &mut terms);
        terms
    }

    fn matches(&self, word: &str) -> bool {
        let word = word.to_lowercase();
        self.words.contains(&word)
            || self.prefixes.iter().any(|p| word.starts_with(p))
            || self.suffixes.iter().any(|p| word.ends_with(p))
            || self.infixes.iter().any(|p| word.contains(p.as_str()))
            || self.fuzzy.iter().any(|(w, d)| within_edits(&word, w, *d))
    }
}

/// Byte ranges of the words of `text`.
fn words(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (is_separator(c), start) {
            (true, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, text.len()));
    }
    spans
}

/// SUMMARIZE / HIGHLIGHT of one request, ready to apply to loaded field lists.
pub struct Marker {
    terms: Terms,
    summarize: Option<Summarize>,
    highlight: Option<Highlight>,
    /// Returned names of the schema's TEXT fields (by attribute and identifier).
    text_fields: Vec<Bytes>,
    /// Unless VERBATIM: the query language's stemmer and the stems of the query's words. A
    /// word matched through its stem is marked too (RediSearch marks the offsets it
    /// matched, stem expansions included).
    stems: Option<(Mutex<WordStemmer>, Vec<String>)>,
}

impl Marker {
    /// `None` without SUMMARIZE / HIGHLIGHT. Restricts the returned fields to the FIELDS
    /// lists when there is no RETURN, and refuses a named field outside the schema, as
    /// RediSearch does.
    pub fn new(
        req: &mut Request,
        query: &Query,
        def: &IndexDef,
    ) -> Result<Option<Marker>, SearchError> {
        if req.summarize.is_none() && req.highlight.is_none() {
            return Ok(None);
        }
        if def.options.iter().any(|o| o == "NOHL") {
            // RediSearch's text, typo included.
            return Err(SearchError::other(
                "Cannot use highlight/summarize because NOOFSETS was specified at index level",
            ));
        }
        let listed: Vec<String> = [
            req.summarize.as_ref().and_then(|s| s.fields.clone()),
            req.highlight.as_ref().and_then(|h| h.fields.clone()),
        ]
        .into_iter()
        .flatten()
        .flatten()
        .collect();
        if req.returns.is_none() && !listed.is_empty() {
            let mut returns: Vec<super::options::ReturnField> = Vec::new();
            for name in &listed {
                if !returns.iter().any(|r| r.name == *name) {
                    returns.push(super::options::ReturnField {
                        path: name.clone(),
                        name: name.clone(),
                    });
                }
            }
            req.returns = Some(returns);
        }
        let named = req.returns.iter().flatten().map(|r| r.path.as_str());
        for name in named.chain(listed.iter().map(String::as_str)) {
            if def.field(name).is_none() {
                return Err(SearchError::other(format!(
                    "Property `{name}` is not in schema"
                )));
            }
        }
        let text_fields = def
            .fields
            .iter()
            .filter(|f| matches!(f.kind, FieldKind::Text { .. }))
            .flat_map(|f| {
                [
                    Bytes::copy_from_slice(f.attribute.as_bytes()),
                    f.identifier.clone(),
                ]
            })
            .collect();
        let terms = Terms::of(query);
        let language = req.language.as_deref().unwrap_or(&def.language);
        let stemmer = (!req.verbatim)
            .then(|| WordStemmer::new(language))
            .flatten();
        let stems = stemmer.map(|mut stemmer| {
            let stems = terms.words.iter().map(|w| stemmer.stem(w)).collect();
            (Mutex::new(stemmer), stems)
        });
        Ok(Some(Marker {
            terms,
            summarize: req.summarize.clone(),
            highlight: req.highlight.clone(),
            text_fields,
            stems,
        }))
    }

    /// Whether a word of a returned value matched the query: as written, or as a word
    /// whose stem a query word shares (or that is a query word's stem).
    fn matches(&self, word: &str) -> bool {
        if self.terms.matches(word) {
            return true;
        }
        let Some((stemmer, stems)) = &self.stems else {
            return false;
        };
        let word = word.to_lowercase();
        stems.contains(&word)
            || (word.chars().count() >= MIN_STEM_LEN && stems.contains(&stemmer.lock().stem(&word)))
    }

    /// Rewrites the TEXT values of one result's field list.
    pub fn apply(&self, fields: &mut [(Bytes, Bytes)]) {
        for (name, value) in fields.iter_mut() {
            if !self.text_fields.contains(name) {
                continue;
            }
            let wants = |list: &Option<Vec<String>>| {
                list.as_ref()
                    .is_none_or(|l| l.iter().any(|f| f.as_bytes() == name.as_ref()))
            };
            let summarize = self.summarize.as_ref().filter(|s| wants(&s.fields));
            let highlight = self.highlight.as_ref().filter(|h| wants(&h.fields));
            if summarize.is_none() && highlight.is_none() {
                continue;
            }
            let text = String::from_utf8_lossy(value).into_owned();
            let out = match summarize {
                Some(s) => self.summarize(&text, s, highlight),
                None => highlight.map_or(text.clone(), |h| self.highlight(&text, h)),
            };
            *value = Bytes::from(out);
        }
    }

    fn highlight(&self, text: &str, tags: &Highlight) -> String {
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end) in words(text) {
            if self.matches(&text[start..end]) {
                out.push_str(&text[at..start]);
                out.push_str(&tags.open);
                out.push_str(&text[start..end]);
                out.push_str(&tags.close);
                at = end;
            }
        }
        out.push_str(&text[at..]);
        out
    }

    fn summarize(&self, text: &str, settings: &Summarize, tags: Option<&Highlight>) -> String {
        let spans = words(text);
        let len = settings.len.max(1);
        let matches: Vec<usize> = (0..spans.len())
            .filter(|&i| self.matches(&text[spans[i].0..spans[i].1]))
            .collect();
        let mark = |part: &str| tags.map_or(part.to_string(), |h| self.highlight(part, h));
        if matches.is_empty() {
            let end = spans
                .get(len.min(spans.len()).wrapping_sub(1))
                .map_or(0, |s| s.1);
            return mark(&text[..end]);
        }
        // Windows of `len` words starting a little before each match, merged when they touch.
        let mut windows: Vec<(usize, usize)> = Vec::new();
        for m in matches {
            let first = m.saturating_sub(len / 4);
            let last = first.saturating_add(len - 1).min(spans.len() - 1);
            match windows.last_mut() {
                Some(w) if first <= w.1 + 1 => w.1 = w.1.max(last),
                _ => windows.push((first, last)),
            }
        }
        let mut out = String::new();
        for (first, last) in windows.into_iter().take(settings.frags.max(1)) {
            out.push_str(&mark(&text[spans[first].0..spans[last].1]));
            out.push_str(&settings.separator);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marker(words: &[&str], prefixes: &[&str]) -> Marker {
        Marker {
            terms: Terms {
                words: words.iter().map(|w| w.to_string()).collect(),
                prefixes: prefixes.iter().map(|p| p.to_string()).collect(),
                ..Terms::default()
            },
            summarize: None,
            highlight: None,
            text_fields: vec![],
            stems: None,
        }
    }

    fn tags() -> Highlight {
        Highlight {
            fields: None,
            open: "<b>".into(),
            close: "</b>".into(),
        }
    }

    #[test]
    fn highlights_whole_words_case_insensitively() {
        let m = marker(&["foo"], &["ba"]);
        assert_eq!(
            m.highlight("Foo, food bar! baz", &tags()),
            "<b>Foo</b>, food <b>bar</b>! <b>baz</b>"
        );
        assert_eq!(m.highlight("", &tags()), "");
    }

    #[test]
    fn summarizes_around_matches() {
        let m = marker(&["isaac"], &[]);
        let settings = Summarize {
            fields: None,
            frags: 2,
            len: 3,
            separator: "... ".into(),
        };
        let text = "one two Isaac three four five six seven Isaac eight nine";
        assert_eq!(
            m.summarize(text, &settings, None),
            "Isaac three four... Isaac eight nine... "
        );
        let huge = Summarize {
            len: usize::MAX,
            ..settings.clone()
        };
        assert_eq!(m.summarize(text, &huge, None), format!("{text}... "));
        let none = marker(&["zzz"], &[]);
        assert_eq!(none.summarize(text, &settings, None), "one two Isaac");
        assert_eq!(
            m.summarize(text, &settings, Some(&tags())),
            "<b>Isaac</b> three four... <b>Isaac</b> eight nine... "
        );
    }

    #[test]
    fn negated_terms_are_not_marked() {
        let query = Query {
            filter: QueryNode::And(vec![
                QueryNode::Text {
                    fields: None,
                    term: TextTerm::Word("a".into()),
                },
                QueryNode::Not(Box::new(QueryNode::Text {
                    fields: None,
                    term: TextTerm::Word("b".into()),
                })),
            ]),
            knn: None,
        };
        assert_eq!(Terms::of(&query).words, vec!["a".to_string()]);
    }
}
