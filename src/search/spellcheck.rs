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

/// Checks the words of `query` against `index` and the dictionaries `options` names (each
/// must exist).
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
    let mut words = Vec::new();
    query_words(&query.filter, &mut words);
    let distance = options.distance;
    let words: Vec<Vec<char>> = words.iter().map(|w| w.chars().collect()).collect();
    // Per word: whether the index holds it, and the indexed terms near it.
    let (found, mut near) = index.with_text_terms(|terms| {
        let mut found = vec![false; words.len()];
        let mut near: Vec<Vec<(f64, String)>> = vec![Vec::new(); words.len()];
        for (term, docs) in terms {
            let chars: Vec<char> = term.chars().collect();
            for (i, word) in words.iter().enumerate() {
                if chars == *word {
                    found[i] = true;
                } else if within(word, &chars, distance) {
                    near[i].push((docs as f64, term.to_string()));
                }
            }
        }
        (found, near)
    });
    let total = index.num_docs().max(1) as f64;
    let mut out = Vec::new();
    for (i, word) in words.iter().enumerate() {
        let term: String = word.iter().collect();
        let excluded = options.exclude.iter().any(|d| dicts.contains(d, &term));
        if found[i] || excluded {
            continue;
        }
        let mut suggestions = std::mem::take(&mut near[i]);
        for extra in &include {
            let folded: Vec<char> = extra.chars().flat_map(char::to_lowercase).collect();
            if within(word, &folded, distance) && !suggestions.iter().any(|(_, s)| s == extra) {
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
}

/// The plain words of a query (phrase words included; prefixes and the like are not words),
/// in query order.
fn query_words(node: &QueryNode, out: &mut Vec<String>) {
    match node {
        QueryNode::And(children) | QueryNode::Or(children) => {
            children.iter().for_each(|c| query_words(c, out));
        }
        QueryNode::Not(child) | QueryNode::Optional(child) => query_words(child, out),
        QueryNode::Text { term, .. } => match term {
            TextTerm::Word(w) => out.push(w.clone()),
            TextTerm::Phrase(words) => out.extend(words.iter().cloned()),
            TextTerm::Prefix(_) | TextTerm::Suffix(_) | TextTerm::Infix(_) => {}
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
                fields: None,
                term: TextTerm::Phrase(vec!["d".into(), "e".into()]),
            },
        ]);
        let mut out = Vec::new();
        query_words(&node, &mut out);
        assert_eq!(out, ["a", "b", "d", "e"]);
    }
}
