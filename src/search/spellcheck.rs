//! FT.SPELLCHECK: for each word of a query that no indexed document contains, the indexed
//! terms (and the terms of TERMS INCLUDE dictionaries) within a Levenshtein distance, scored
//! as RediSearch scores them: the suggestion's document frequency over the number of
//! documents, 0 for dictionary terms the index does not hold. Words found in a TERMS EXCLUDE
//! dictionary are not checked.

use super::SearchError;
use super::dict::Dictionaries;
use super::index::Index;
use super::query::{Query, QueryNode, TextTerm};

/// FT.SPELLCHECK's options.
#[derive(Debug, Clone, PartialEq)]
pub struct SpellcheckOptions {
    /// The largest edit distance of a suggestion (1 to 4).
    pub distance: usize,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
}

/// One checked word and its suggestions, best first: (score, suggestion).
#[derive(Debug, Clone, PartialEq)]
pub struct Misspelled {
    pub term: String,
    pub suggestions: Vec<(f64, String)>,
}

/// A word of the query and the TEXT fields it is restricted to (`None`: every field).
struct Word {
    chars: Vec<char>,
    fields: Option<Vec<u16>>,
    /// In a TERMS EXCLUDE dictionary: not checked.
    excluded: bool,
}

/// Checks the words of `query` against `index` and the dictionaries `options` names (each
/// must exist). As in RediSearch, a word restricted to fields (`@f:word`) only gets the
/// suggestions some document has in those fields, and its suggestions still score by their
/// document frequency over every field.
pub fn spellcheck(
    index: &Index,
    dicts: &Dictionaries,
    query: &Query,
    options: &SpellcheckOptions,
) -> Result<Vec<Misspelled>, SearchError> {
    let mut include = Vec::new();
    for name in options.include.iter().chain(&options.exclude) {
        let terms = dicts
            .terms(name)
            .ok_or_else(|| SearchError::Other(format!("Dict does not exist: {name}")))?;
        if options.include.contains(name) {
            include.extend(terms);
        }
    }
    let mut found = Vec::new();
    query_words(&query.filter, &mut found);
    let words: Vec<Word> = found
        .into_iter()
        .map(|(word, fields)| Word {
            excluded: options.exclude.iter().any(|d| dicts.contains(d, &word)),
            chars: word.chars().collect(),
            fields: fields.map(|names| {
                names
                    .iter()
                    .filter_map(|n| index.def.field_index(n))
                    .filter_map(|p| u16::try_from(p).ok())
                    .collect()
            }),
        })
        .collect();
    let distance = options.distance;
    let total = index.num_docs().max(1) as f64;
    index.with_text(|text| {
        let text = text.view()?;
        // A term is offered for a word restricted to fields only when a document has it there.
        let in_fields = |term: &str, word: &Word| match &word.fields {
            None => Ok(true),
            Some(fields) => Ok::<_, SearchError>(!text.term(term, Some(fields))?.docs.is_empty()),
        };
        let mut held = vec![false; words.len()];
        let mut near: Vec<Vec<(f64, String)>> = vec![Vec::new(); words.len()];
        for (term, docs) in text.terms_with_doc_freq()? {
            let chars: Vec<char> = term.chars().collect();
            for (i, word) in words.iter().enumerate() {
                if chars == word.chars {
                    held[i] = true;
                } else if within(&word.chars, &chars, distance) && in_fields(&term, word)? {
                    near[i].push((docs as f64, term.clone()));
                }
            }
        }
        let mut out = Vec::new();
        for ((word, held), mut suggestions) in words.iter().zip(held).zip(near) {
            let term: String = word.chars.iter().collect();
            if held || word.excluded {
                continue;
            }
            for extra in &include {
                let folded: Vec<char> = extra.chars().flat_map(char::to_lowercase).collect();
                // Unindexed dictionary terms score 0; indexed ones must be in the fields.
                let offered = text.term(extra, None)?.docs.is_empty() || in_fields(extra, word)?;
                if offered
                    && within(&word.chars, &folded, distance)
                    && !suggestions.iter().any(|(_, s)| s == extra)
                {
                    suggestions.push((0.0, extra.clone()));
                }
            }
            for (score, _) in &mut suggestions {
                *score /= total;
            }
            suggestions.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
            out.push(Misspelled { term, suggestions });
        }
        Ok(out)
    })
}

/// The plain words of a query with the fields each is restricted to (phrase words included;
/// prefixes and the like are not words), in query order.
fn query_words(node: &QueryNode, out: &mut Vec<(String, Option<Vec<String>>)>) {
    match node {
        QueryNode::And(children) | QueryNode::Or(children) => {
            children.iter().for_each(|c| query_words(c, out));
        }
        QueryNode::Not(child) | QueryNode::Optional(child) => query_words(child, out),
        QueryNode::Attributed { node, .. } => query_words(node, out),
        QueryNode::Text { term, fields } => match term {
            TextTerm::Word(w) | TextTerm::Exact(w) => out.push((w.clone(), fields.clone())),
            TextTerm::Phrase(words) => {
                out.extend(words.iter().map(|w| (w.clone(), fields.clone())));
            }
            TextTerm::Prefix(_)
            | TextTerm::Suffix(_)
            | TextTerm::Infix(_)
            | TextTerm::Wildcard(_)
            | TextTerm::Fuzzy { .. } => {}
        },
        _ => {}
    }
}

/// Whether the Levenshtein distance between `a` and `b` is at most `max`.
fn within(a: &[char], b: &[char], max: usize) -> bool {
    if a.len().abs_diff(b.len()) > max {
        return false;
    }
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
        if row.iter().min().is_some_and(|&m| m > max) {
            return false;
        }
    }
    row[b.len()] <= max
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn levenshtein_bound() {
        assert!(within(&chars("name"), &chars("name1"), 1));
        assert!(within(&chars("elioh"), &chars("elior"), 1));
        assert!(!within(&chars("name"), &chars("body1"), 3));
        assert!(within(&chars("kitten"), &chars("sitting"), 3));
        assert!(!within(&chars("kitten"), &chars("sitting"), 2));
        assert!(within(&chars(""), &chars("ab"), 2));
    }

    #[test]
    fn words_of_a_query() {
        let word = |w: &str| QueryNode::Text {
            fields: None,
            term: TextTerm::Word(w.into()),
        };
        let node = QueryNode::And(vec![
            word("a"),
            QueryNode::Not(Box::new(word("b"))),
            QueryNode::Text {
                fields: None,
                term: TextTerm::Prefix("c".into()),
            },
            QueryNode::Text {
                fields: Some(vec!["f".into()]),
                term: TextTerm::Phrase(vec!["d".into(), "e".into()]),
            },
        ]);
        let mut out = Vec::new();
        query_words(&node, &mut out);
        let f = Some(vec!["f".to_string()]);
        let want = [("a", None), ("b", None), ("d", f.clone()), ("e", f)]
            .map(|(w, fields)| (w.to_string(), fields));
        assert_eq!(out, want);
    }
}
