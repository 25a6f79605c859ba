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
    /// `ismissing(@field)`.
    IsMissing(String),
    /// Matches nothing (a query made only of stopwords, an empty tag list ...).
    Nothing,
}

/// One text term as written (already lower-cased; stopwords removed by the parser).
#[derive(Debug, Clone, PartialEq)]
pub enum TextTerm {
    Word(String),
    /// `hel*`
    Prefix(String),
    /// `*llo`
    Suffix(String),
    /// `*ell*`
    Infix(String),
    /// `"hello world"`: the words in this order, adjacent.
    Phrase(Vec<String>),
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
}

/// A numeric range bound. `-inf` / `+inf` are infinite values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NumBound {
    pub value: f64,
    pub inclusive: bool,
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
