//! The parsed form of a query. Field names are resolved attribute names (checked against the
//! schema by the parser); `$param` references are already substituted.

use bytes::Bytes;

/// A whole query: a filter, optionally followed by `=>[KNN ...]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub filter: QueryNode,
    pub knn: Option<KnnClause>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum QueryNode {
    /// `*`: every document.
    All,
    /// Documents matching every child (juxtaposition).
    And(Vec<QueryNode>),
    /// Documents matching any child (`|`).
    Or(Vec<QueryNode>),
    /// `-x`: documents not matching the child.
    Not(Box<QueryNode>),
    /// `~x`: matches everything; the child only contributes to the score.
    Optional(Box<QueryNode>),
    /// A text term, restricted to `fields` (attribute names) or every TEXT field when `None`.
    Text {
        fields: Option<Vec<String>>,
        term: TextTerm,
    },
    /// `@field:{a | b | pre*}`: any of the patterns.
    Tag {
        field: String,
        patterns: Vec<TagPattern>,
    },
    /// `@field:[min max]`.
    Numeric {
        field: String,
        min: NumBound,
        max: NumBound,
    },
    /// `@field:[VECTOR_RANGE r $blob]=>{$YIELD_DISTANCE_AS: d; $EPSILON: e}`.
    VectorRange {
        field: String,
        radius: f64,
        blob: Bytes,
        /// The `$param` name the blob came from (FT.EXPLAIN prints it).
        blob_param: String,
        yield_as: Option<String>,
        epsilon: Option<f64>,
    },
    /// `@field:[lon lat radius unit]`, and FT.SEARCH's GEOFILTER: points within the circle.
    Geo { field: String, filter: GeoFilter },
    /// `ismissing(@field)`.
    IsMissing(String),
    /// `clause => { $weight: w; $slop: s; $inorder: true; }`: the clause with its scoring
    /// attributes. Only written when an attribute differs from its default, so a query
    /// without attributes has the same tree as before; matching looks through it.
    Attributed {
        node: Box<QueryNode>,
        attrs: ClauseAttrs,
    },
    /// Matches nothing (a query made only of stopwords, an empty tag list ...).
    Nothing,
}

/// Scoring attributes of a clause (`=>{...}`); defaults: weight 1, no slop limit, any
/// order, phonetic matching as the field says.
#[derive(Debug, Clone, PartialEq)]
pub struct ClauseAttrs {
    pub weight: f64,
    pub slop: Option<i64>,
    pub inorder: bool,
    pub phonetic: Option<bool>,
}

impl Default for ClauseAttrs {
    fn default() -> ClauseAttrs {
        ClauseAttrs {
            weight: 1.0,
            slop: None,
            inorder: false,
            phonetic: None,
        }
    }
}

/// One text term as written (already lower-cased; stopwords removed by the parser).
#[derive(Debug, Clone, PartialEq)]
pub enum TextTerm {
    Word(String),
    /// `"word"`: the word alone, never expanded (no stems, synonyms or phonetic terms), as
    /// RediSearch treats a quoted word.
    Exact(String),
    /// `hel*`
    Prefix(String),
    /// `*llo`
    Suffix(String),
    /// `*ell*`
    Infix(String),
    /// `"hello world"`: the words in this order, adjacent, each as written (an exact phrase
    /// is never expanded).
    Phrase(Vec<String>),
    /// `w'he?l*'`: terms matching the pattern (see [`wildcard_match`]), escapes kept.
    Wildcard(String),
    /// `%hello%` (distance 1) to `%%%hello%%%` (3): the terms within that many
    /// Levenshtein edits.
    Fuzzy {
        word: String,
        distance: u8,
    },
}

/// One alternative inside `{ ... }` of a tag query, unescaped, not yet case-folded.
#[derive(Debug, Clone, PartialEq)]
pub enum TagPattern {
    Exact(String),
    /// `pre*`
    Prefix(String),
    /// `*suf`
    Suffix(String),
    /// `*in*`
    Infix(String),
    /// `w'pat*ern'`: tags matching the pattern (see [`wildcard_match`]), escapes kept.
    Wildcard(String),
}

/// Whether `text` matches a `w'...'` pattern: `*` stands for any run of characters, `?` for
/// one, and `\` makes the next character literal.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Positions to resume from after the last `*`: (pattern after it, text it absorbed to).
    let (mut pi, mut ti, mut star) = (0, 0, None::<(usize, usize)>);
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi + 1, ti));
                pi += 1;
                continue;
            }
            Some('?') => {
                pi += 1;
                ti += 1;
                continue;
            }
            Some('\\') if p.get(pi + 1) == Some(&t[ti]) => {
                pi += 2;
                ti += 1;
                continue;
            }
            Some(c) if *c != '\\' && *c == t[ti] => {
                pi += 1;
                ti += 1;
                continue;
            }
            _ => {}
        }
        match star {
            Some((resume, absorbed)) => {
                pi = resume;
                ti = absorbed + 1;
                star = Some((resume, absorbed + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// A numeric range bound. `-inf` / `+inf` are infinite values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NumBound {
    pub value: f64,
    pub inclusive: bool,
}

/// A circle on the earth: a center (degrees) and a radius in `unit`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoFilter {
    pub lon: f64,
    pub lat: f64,
    pub radius: f64,
    pub unit: GeoUnit,
}

/// The distance units GEO filters accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeoUnit {
    M,
    Km,
    Mi,
    Ft,
}

impl GeoUnit {
    /// `m`, `km`, `mi` or `ft`, in any case.
    pub fn parse(text: &[u8]) -> Option<GeoUnit> {
        [GeoUnit::M, GeoUnit::Km, GeoUnit::Mi, GeoUnit::Ft]
            .into_iter()
            .find(|u| text.eq_ignore_ascii_case(u.name().as_bytes()))
    }

    pub fn name(self) -> &'static str {
        match self {
            GeoUnit::M => "m",
            GeoUnit::Km => "km",
            GeoUnit::Mi => "mi",
            GeoUnit::Ft => "ft",
        }
    }

    /// Meters in one unit (Redis's factors).
    pub fn meters(self) -> f64 {
        match self {
            GeoUnit::M => 1.0,
            GeoUnit::Km => 1000.0,
            GeoUnit::Mi => 1609.34,
            GeoUnit::Ft => 0.3048,
        }
    }
}

/// `=>[KNN k @field $blob EF_RUNTIME n AS alias ...]`.
#[derive(Debug, Clone, PartialEq)]
pub struct KnnClause {
    pub k: usize,
    pub field: String,
    pub blob: Bytes,
    /// The `$param` name the blob came from (FT.EXPLAIN prints it).
    pub blob_param: String,
    pub ef_runtime: Option<usize>,
    pub epsilon: Option<f64>,
    /// Name of the yielded distance field; `__<field>_score` when not given.
    pub alias: Option<String>,
    pub hybrid_policy: Option<HybridPolicy>,
    pub batch_size: Option<usize>,
}

impl KnnClause {
    /// `KNN k @field $blob_param` with no attributes (`blob` is the parameter's value).
    pub fn new(k: usize, field: String, blob: Bytes, blob_param: String) -> KnnClause {
        KnnClause {
            k,
            field,
            blob,
            blob_param,
            ef_runtime: None,
            epsilon: None,
            alias: None,
            hybrid_policy: None,
            batch_size: None,
        }
    }

    /// The name the distance is returned under.
    pub fn score_field(&self) -> String {
        match &self.alias {
            Some(a) => a.clone(),
            None => format!("__{}_score", self.field),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HybridPolicy {
    Batches,
    AdhocBf,
}

#[cfg(test)]
mod tests {
    use super::wildcard_match;

    #[test]
    fn wildcard_patterns() {
        for (pattern, text, want) in [
            ("hel*", "hello", true),
            ("hel*", "help", true),
            ("hel*", "hel", true),
            ("h?llo", "hallo", true),
            ("h?llo", "hllo", false),
            ("*llo", "hello", true),
            ("*l*o", "hello", true),
            ("*l*o", "hellx", false),
            ("a\\*b", "a*b", true),
            ("a\\*b", "axb", false),
            ("a\\?", "a?", true),
            ("", "", true),
            ("", "a", false),
            ("**", "", true),
            ("é*", "étoile", true),
        ] {
            assert_eq!(wildcard_match(pattern, text), want, "{pattern} {text}");
        }
    }
}
