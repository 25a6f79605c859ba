//! Index definitions as FT.CREATE describes them: which keys an index covers (`ON HASH`,
//! `PREFIX`, `FILTER`), its options, and its fields (`SCHEMA`), with RediSearch's defaults.
//! Parsing FT.CREATE's arguments into an [`IndexDef`] lives here too; FT.INFO reads these
//! types back.

use bytes::Bytes;

/// One index's definition.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexDef {
    pub name: String,
    /// Key prefixes the index covers; one empty prefix (every key) when FT.CREATE names none.
    pub prefixes: Vec<Bytes>,
    /// `FILTER {expr}`, kept as written.
    pub filter: Option<String>,
    /// `LANGUAGE`, default `english`.
    pub language: String,
    pub language_field: Option<String>,
    /// `SCORE`, default 1.0.
    pub score: f64,
    pub score_field: Option<String>,
    pub payload_field: Option<String>,
    /// `STOPWORDS n ...`; `None` means RediSearch's default list.
    pub stopwords: Option<Vec<String>>,
    pub skip_initial_scan: bool,
    /// Negative index options FT.INFO lists under `index_options`, in the order given.
    pub options: Vec<String>,
    /// `TEMPORARY secs`.
    pub temporary: Option<u64>,
    pub fields: Vec<FieldDef>,
}

/// RediSearch's default stopwords, used unless FT.CREATE gives `STOPWORDS`.
pub const DEFAULT_STOPWORDS: &[&str] = &[
    "a", "is", "the", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into",
    "it", "no", "not", "of", "on", "or", "such", "that", "their", "then", "there", "these", "they",
    "this", "to", "was", "will", "with",
];

impl IndexDef {
    /// Whether `word` (lower-cased) is a stopword of this index: neither indexed nor
    /// searched for.
    pub fn is_stopword(&self, word: &str) -> bool {
        match &self.stopwords {
            Some(list) => list.iter().any(|w| w == word),
            None => DEFAULT_STOPWORDS.contains(&word),
        }
    }

    /// The field queries call `attribute` (its `AS` name, else its identifier).
    pub fn field(&self, attribute: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.attribute == attribute)
    }

    /// The position of that field in [`IndexDef::fields`].
    pub fn field_index(&self, attribute: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.attribute == attribute)
    }

    /// Whether a key falls under this index's prefixes.
    pub fn covers(&self, key: &[u8]) -> bool {
        self.prefixes.iter().any(|p| key.starts_with(p))
    }
}

/// One `SCHEMA` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDef {
    /// The hash field the value is read from.
    pub identifier: Bytes,
    /// The name queries, RETURN and replies use: the `AS` alias, else the identifier.
    pub attribute: String,
    pub kind: FieldKind,
    pub sortable: bool,
    pub unf: bool,
    pub noindex: bool,
    pub index_missing: bool,
    pub index_empty: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FieldKind {
    Text {
        weight: f64,
        nostem: bool,
        phonetic: Option<String>,
        with_suffix_trie: bool,
    },
    Tag {
        separator: u8,
        case_sensitive: bool,
        with_suffix_trie: bool,
    },
    Numeric,
    Vector(VectorParams),
}

impl FieldKind {
    /// The type name FT.INFO reports (`TEXT`, `TAG`, `NUMERIC`, `VECTOR`).
    pub fn type_name(&self) -> &'static str {
        match self {
            FieldKind::Text { .. } => "TEXT",
            FieldKind::Tag { .. } => "TAG",
            FieldKind::Numeric => "NUMERIC",
            FieldKind::Vector(_) => "VECTOR",
        }
    }
}

/// A VECTOR field's parameters, with RediSearch's defaults for those not given.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorParams {
    pub algorithm: VectorAlgorithm,
    pub data_type: VectorType,
    pub dim: usize,
    pub metric: Metric,
    /// `INITIAL_CAP`: a capacity hint.
    pub initial_cap: Option<usize>,
    /// FLAT `BLOCK_SIZE`, default 1024.
    pub block_size: usize,
    /// HNSW `M`, default 16.
    pub m: usize,
    /// HNSW `EF_CONSTRUCTION`, default 200.
    pub ef_construction: usize,
    /// HNSW `EF_RUNTIME`, default 10; a query may override it.
    pub ef_runtime: usize,
    /// HNSW `EPSILON` for range queries, default 0.01.
    pub epsilon: f64,
}

impl VectorParams {
    /// The exact blob length a document's or a query's vector must have.
    pub fn blob_len(&self) -> usize {
        self.dim * self.data_type.size()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VectorAlgorithm {
    Flat,
    Hnsw,
}

impl VectorAlgorithm {
    pub fn name(self) -> &'static str {
        match self {
            VectorAlgorithm::Flat => "FLAT",
            VectorAlgorithm::Hnsw => "HNSW",
        }
    }
}

/// Element type of the vectors as clients send them. Vectors are kept as f32 inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VectorType {
    Float32,
    Float64,
}

impl VectorType {
    /// Bytes per element in a blob.
    pub fn size(self) -> usize {
        match self {
            VectorType::Float32 => 4,
            VectorType::Float64 => 8,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            VectorType::Float32 => "FLOAT32",
            VectorType::Float64 => "FLOAT64",
        }
    }
}

/// Distance metric; distances are reported as RediSearch reports them: L2 squared,
/// IP `1 - dot`, COSINE `1 - cos`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    L2,
    Ip,
    Cosine,
}

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Metric::L2 => "L2",
            Metric::Ip => "IP",
            Metric::Cosine => "COSINE",
        }
    }
}
