//! Index definitions as FT.CREATE describes them: which keys an index covers (`ON HASH`,
//! `PREFIX`, `FILTER`), its options, and its fields (`SCHEMA`), with RediSearch's defaults.
//! Parsing FT.CREATE's arguments into an [`IndexDef`] lives here too; FT.INFO reads these
//! types back.

use bytes::Bytes;

use super::SearchError;
use super::expr::Expr;

/// One index's definition.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexDef {
    pub name: String,
    /// Key prefixes the index covers; one empty prefix (every key) when FT.CREATE names none.
    pub prefixes: Vec<Bytes>,
    /// `FILTER {expr}`, kept as written (FT.INFO shows it) ...
    pub filter: Option<String>,
    /// ... and parsed: only hashes for which it holds are indexed.
    pub filter_expr: Option<Expr>,
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
    /// Negative index options FT.INFO lists under `index_options`, in the order FT.INFO
    /// lists them (`NOFREQS`, `NOFIELDS`, `NOOFFSETS`, `NOHL`, then `MAXTEXTFIELDS`).
    pub options: Vec<String>,
    /// `TEMPORARY secs`.
    pub temporary: Option<u64>,
    pub fields: Vec<FieldDef>,
    /// FT.CREATE's arguments after the index name, with the fields FT.ALTER added appended:
    /// what recreates this definition (the AOF writes it back as an FT.CREATE).
    pub create_args: Vec<Bytes>,
}

/// RediSearch's default stopwords, used unless FT.CREATE gives `STOPWORDS`.
pub const DEFAULT_STOPWORDS: &[&str] = &[
    "a", "is", "the", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into",
    "it", "no", "not", "of", "on", "or", "such", "that", "their", "then", "there", "these", "they",
    "this", "to", "was", "will", "with",
];

impl IndexDef {
    /// An index named `name` with FT.CREATE's defaults: every key, no filter, no fields.
    pub fn new(name: &str) -> IndexDef {
        IndexDef {
            name: name.to_string(),
            prefixes: Vec::new(),
            filter: None,
            filter_expr: None,
            language: "english".to_string(),
            language_field: None,
            score: 1.0,
            score_field: None,
            payload_field: None,
            stopwords: None,
            skip_initial_scan: false,
            options: Vec::new(),
            temporary: None,
            fields: Vec::new(),
            create_args: Vec::new(),
        }
    }

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
    /// Points written `"lon,lat"`.
    Geo,
    Vector(VectorParams),
}

impl FieldKind {
    /// The type name FT.INFO reports (`TEXT`, `TAG`, `NUMERIC`, `GEO`, `VECTOR`).
    pub fn type_name(&self) -> &'static str {
        match self {
            FieldKind::Text { .. } => "TEXT",
            FieldKind::Tag { .. } => "TAG",
            FieldKind::Numeric => "NUMERIC",
            FieldKind::Geo => "GEO",
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
    /// FLOAT32 vectors of `dim` dimensions with RediSearch's defaults for every optional
    /// attribute.
    pub fn new(algorithm: VectorAlgorithm, dim: usize, metric: Metric) -> VectorParams {
        VectorParams {
            algorithm,
            data_type: VectorType::Float32,
            dim,
            metric,
            initial_cap: None,
            block_size: 1024,
            m: 16,
            ef_construction: 200,
            ef_runtime: 10,
            epsilon: 0.01,
        }
    }

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

// ---------------------------------------------------------------------------------------------
// FT.CREATE arguments

/// Languages `LANGUAGE` accepts: RediSearch's stemmer languages.
pub const LANGUAGES: &[&str] = &[
    "arabic",
    "armenian",
    "basque",
    "catalan",
    "chinese",
    "danish",
    "dutch",
    "english",
    "finnish",
    "french",
    "german",
    "greek",
    "hindi",
    "hungarian",
    "indonesian",
    "irish",
    "italian",
    "lithuanian",
    "nepali",
    "norwegian",
    "portuguese",
    "romanian",
    "russian",
    "serbian",
    "spanish",
    "swedish",
    "tamil",
    "turkish",
    "yiddish",
];

/// Attributes one index may have, and TEXT attributes among them (RediSearch's limits).
const MAX_FIELDS: usize = 1024;
const MAX_TEXT_FIELDS: usize = 128;
/// Past this many TEXT fields RediSearch switches to its wide schema, which FT.INFO reports
/// as `MAXTEXTFIELDS` (unless NOFIELDS made field flags unnecessary).
const WIDE_SCHEMA_TEXT_FIELDS: usize = 32;
/// Bounds that keep vector sizes and graph degrees allocatable: a larger value is refused as
/// out of bounds rather than left to fail when the first vector arrives.
const MAX_DIM: u64 = 1 << 20;
const MAX_HNSW_M: u64 = 1 << 15;

/// Why an argument could not be read, worded as RediSearch's argument cursor words it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum ArgFault {
    Missing,
    NotANumber,
    OutOfBounds,
    Unknown,
}

impl ArgFault {
    fn text(self) -> &'static str {
        match self {
            ArgFault::Missing => "Expected an argument, but none provided",
            ArgFault::NotANumber => "Could not convert argument to expected type",
            ArgFault::OutOfBounds => "Value is outside acceptable bounds",
            ArgFault::Unknown => "Unknown argument",
        }
    }
}

/// `Bad arguments for <what>: <why>`.
fn bad_args(what: &str, fault: ArgFault) -> SearchError {
    SearchError::Other(format!("Bad arguments for {what}: {}", fault.text()))
}

/// [`bad_args`] for an index option, as a `map_err` argument.
fn named(what: &'static str) -> impl Fn(ArgFault) -> SearchError {
    move |fault| bad_args(what, fault)
}

fn lossy(arg: &[u8]) -> String {
    String::from_utf8_lossy(arg).into_owned()
}

/// FT.CREATE's arguments, consumed front to back; keywords compare ignoring ASCII case.
struct Cursor<'a> {
    args: &'a [Bytes],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn at_end(&self) -> bool {
        self.pos >= self.args.len()
    }

    fn peek(&self) -> Option<&'a Bytes> {
        self.args.get(self.pos)
    }

    fn next(&mut self) -> Option<&'a Bytes> {
        let arg = self.args.get(self.pos);
        self.pos += usize::from(arg.is_some());
        arg
    }

    fn eat(&mut self, keyword: &str) -> bool {
        let hit = self
            .peek()
            .is_some_and(|a| a.eq_ignore_ascii_case(keyword.as_bytes()));
        self.pos += usize::from(hit);
        hit
    }

    fn string(&mut self) -> Result<String, ArgFault> {
        self.next().map(|a| lossy(a)).ok_or(ArgFault::Missing)
    }

    /// A whole number in `min..=max`.
    fn size(&mut self, min: u64, max: u64) -> Result<u64, ArgFault> {
        let arg = self.next().ok_or(ArgFault::Missing)?;
        let value: i64 = std::str::from_utf8(arg)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or(ArgFault::NotANumber)?;
        u64::try_from(value)
            .ok()
            .filter(|v| (min..=max).contains(v))
            .ok_or(ArgFault::OutOfBounds)
    }

    /// A number, at least `min` when given.
    fn double(&mut self, min: Option<f64>) -> Result<f64, ArgFault> {
        let arg = self.next().ok_or(ArgFault::Missing)?;
        let value: f64 = std::str::from_utf8(arg)
            .ok()
            .and_then(|s| s.parse().ok())
            .filter(|v: &f64| !v.is_nan())
            .ok_or(ArgFault::NotANumber)?;
        match min {
            Some(min) if value < min => Err(ArgFault::OutOfBounds),
            _ => Ok(value),
        }
    }

    /// `count item...`: the items.
    fn counted(&mut self) -> Result<&'a [Bytes], ArgFault> {
        let count = self.size(0, u64::MAX)?;
        let count = usize::try_from(count).map_err(|_| ArgFault::OutOfBounds)?;
        let items = self
            .args
            .get(self.pos..)
            .and_then(|rest| rest.get(..count))
            .ok_or(ArgFault::Missing)?;
        self.pos += count;
        Ok(items)
    }
}

/// Index-wide flags FT.INFO reports under `index_options`.
#[derive(Default)]
struct StorageFlags {
    no_freqs: bool,
    no_fields: bool,
    no_offsets: bool,
    no_highlight: bool,
    max_text_fields: bool,
}

impl IndexDef {
    /// Parses FT.CREATE's arguments after the index name: index options in any order, then
    /// `SCHEMA` and the fields. Errors carry RediSearch 2.10's texts.
    pub fn parse(name: &str, args: &[Bytes]) -> Result<IndexDef, SearchError> {
        let mut c = Cursor { args, pos: 0 };
        let mut def = IndexDef::new(name);
        let mut flags = StorageFlags::default();
        while let Some(arg) = c.peek() {
            let keyword = arg.to_ascii_uppercase();
            c.pos += 1;
            match keyword.as_slice() {
                b"ON" => {
                    let kind = c.string().map_err(named("ON"))?;
                    if !kind.eq_ignore_ascii_case("HASH") {
                        // What RediSearch answers for JSON when RedisJSON is not loaded.
                        return Err(SearchError::Other(format!("Invalid rule type: {kind}")));
                    }
                }
                b"PREFIX" => {
                    let prefixes = c.counted().map_err(named("PREFIX"))?;
                    def.prefixes = prefixes.to_vec();
                }
                b"FILTER" => {
                    let text = c.string().map_err(named("FILTER"))?;
                    def.filter_expr = Some(Expr::parse(&text)?);
                    def.filter = Some(text);
                }
                b"LANGUAGE" => {
                    let language = c.string().map_err(named("LANGUAGE"))?.to_lowercase();
                    if !LANGUAGES.contains(&language.as_str()) {
                        return Err(SearchError::other("Invalid language"));
                    }
                    def.language = language;
                }
                b"LANGUAGE_FIELD" => {
                    def.language_field = Some(c.string().map_err(named("LANGUAGE_FIELD"))?)
                }
                b"SCORE" => {
                    let text = c.string().map_err(named("SCORE"))?;
                    def.score = text
                        .parse()
                        .ok()
                        .filter(|s| (0.0..=1.0).contains(s))
                        .ok_or_else(|| SearchError::other("Invalid score"))?;
                }
                b"SCORE_FIELD" => def.score_field = Some(c.string().map_err(named("SCORE_FIELD"))?),
                b"PAYLOAD_FIELD" => {
                    def.payload_field = Some(c.string().map_err(named("PAYLOAD_FIELD"))?)
                }
                b"TEMPORARY" => {
                    let secs = c.size(0, i64::MAX as u64).map_err(named("TEMPORARY"))?;
                    def.temporary = Some(secs);
                }
                b"STOPWORDS" => {
                    let words = c.counted().map_err(named("STOPWORDS"))?;
                    def.stopwords = Some(words.iter().map(|w| lossy(w).to_lowercase()).collect());
                }
                b"MAXTEXTFIELDS" => flags.max_text_fields = true,
                b"NOOFFSETS" => flags.no_offsets = true,
                b"NOHL" => flags.no_highlight = true,
                b"NOFIELDS" => flags.no_fields = true,
                b"NOFREQS" => flags.no_freqs = true,
                b"SKIPINITIALSCAN" => def.skip_initial_scan = true,
                // Accepted and without effect, as in RediSearch.
                b"ASYNC" | b"NOSCOREIDX" => {}
                _ => {
                    c.pos -= 1;
                    break;
                }
            }
        }
        if def.prefixes.is_empty() {
            def.prefixes.push(Bytes::new());
        }
        if !c.eat("SCHEMA") {
            return Err(match c.peek() {
                Some(arg) => SearchError::Other(format!("Unknown argument `{}`", lossy(arg))),
                None => SearchError::other("No schema found"),
            });
        }
        if c.at_end() {
            return Err(SearchError::other("Fields arguments are missing"));
        }
        let text_fields = parse_fields(&mut c, &mut def)?;
        flags.max_text_fields |= text_fields > WIDE_SCHEMA_TEXT_FIELDS && !flags.no_fields;
        let listed = [
            (flags.no_freqs, "NOFREQS"),
            (flags.no_fields, "NOFIELDS"),
            (flags.no_offsets, "NOOFFSETS"),
            // Without offsets there is nothing to highlight with either.
            (flags.no_highlight || flags.no_offsets, "NOHL"),
            (flags.max_text_fields, "MAXTEXTFIELDS"),
        ];
        def.options = listed
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, name)| name.to_string())
            .collect();
        def.create_args = args.to_vec();
        Ok(def)
    }
}

impl IndexDef {
    /// FT.ALTER's `SCHEMA ADD field options...`: this definition with those fields appended,
    /// read and limited as FT.CREATE reads its schema.
    pub fn with_added_fields(&self, args: &[Bytes]) -> Result<IndexDef, SearchError> {
        let mut def = self.clone();
        parse_fields(&mut Cursor { args, pos: 0 }, &mut def)?;
        def.create_args.extend_from_slice(args);
        Ok(def)
    }
}

/// Reads `SCHEMA` entries up to the end of the arguments into `def.fields`, within
/// RediSearch's limits. Returns how many indexed TEXT fields the schema then has.
fn parse_fields(c: &mut Cursor, def: &mut IndexDef) -> Result<usize, SearchError> {
    while !c.at_end() {
        if def.fields.len() == MAX_FIELDS {
            return Err(SearchError::Other(format!(
                "Schema is limited to {MAX_FIELDS} fields"
            )));
        }
        let field = parse_field(c, def)?;
        def.fields.push(field);
    }
    let text_fields = def
        .fields
        .iter()
        .filter(|f| matches!(f.kind, FieldKind::Text { .. }) && !f.noindex)
        .count();
    if text_fields > MAX_TEXT_FIELDS {
        return Err(SearchError::Other(format!(
            "Schema is limited to {MAX_TEXT_FIELDS} TEXT fields"
        )));
    }
    Ok(text_fields)
}

/// The field types FT.CREATE accepts here, before their options are read.
#[derive(Clone, Copy, PartialEq)]
enum Type {
    Text,
    Tag,
    Numeric,
    Geo,
}

/// One `SCHEMA` entry: `identifier [AS attribute] type [options]`.
fn parse_field(c: &mut Cursor, def: &IndexDef) -> Result<FieldDef, SearchError> {
    let identifier = c.next().cloned().unwrap_or_default();
    let attribute = if c.eat("AS") {
        c.next()
            .map(|a| lossy(a))
            .ok_or_else(|| SearchError::other("AS requires an argument"))?
    } else {
        lossy(&identifier)
    };
    if def.field(&attribute).is_some() {
        return Err(SearchError::Other(format!(
            "Duplicate field in schema - {attribute}"
        )));
    }
    let mut field = FieldDef {
        identifier,
        attribute,
        kind: FieldKind::Numeric,
        sortable: false,
        unf: false,
        noindex: false,
        index_missing: false,
        index_empty: false,
    };
    let Some(type_name) = c.next() else {
        return Err(SearchError::Other(format!(
            "Field `{}` does not have a type",
            field.attribute
        )));
    };
    let ty = match type_name.to_ascii_uppercase().as_slice() {
        b"TEXT" => Type::Text,
        b"TAG" => Type::Tag,
        b"NUMERIC" => Type::Numeric,
        b"GEO" => Type::Geo,
        b"VECTOR" => {
            field.kind = FieldKind::Vector(parse_vector(c)?);
            field.index_missing = c.eat("INDEXMISSING");
            return Ok(field);
        }
        // GEOSHAPE and anything else: RediSearch's answer for a type it does not know.
        _ => {
            return Err(SearchError::Other(format!(
                "Invalid field type for field `{}`",
                field.attribute
            )));
        }
    };
    let (mut weight, mut nostem, mut phonetic) = (1.0, false, None);
    let (mut separator, mut case_sensitive, mut with_suffix_trie) = (b',', false, false);
    let textual = matches!(ty, Type::Text | Type::Tag);
    loop {
        if c.eat("SORTABLE") {
            field.sortable = true;
            field.unf |= c.eat("UNF");
        } else if c.eat("NOINDEX") {
            field.noindex = true;
        } else if c.eat("INDEXMISSING") {
            field.index_missing = true;
        } else if textual && c.eat("INDEXEMPTY") {
            field.index_empty = true;
        } else if textual && c.eat("WITHSUFFIXTRIE") {
            with_suffix_trie = true;
        } else if ty == Type::Text && c.eat("NOSTEM") {
            nostem = true;
        } else if ty == Type::Text && c.eat("WEIGHT") {
            weight = c.double(None).map_err(|f| bad_args("weight", f))?;
        } else if ty == Type::Text && c.eat("PHONETIC") {
            let matcher = c
                .next()
                .ok_or_else(|| SearchError::other("PHONETIC requires an argument"))?;
            phonetic = Some(parse_phonetic(matcher)?);
        } else if ty == Type::Tag && c.eat("SEPARATOR") {
            let sep = c
                .next()
                .ok_or_else(|| SearchError::other("SEPARATOR requires an argument"))?;
            separator = match sep.as_ref() {
                [one] => *one,
                _ => {
                    return Err(SearchError::Other(format!(
                        "Tag separator must be a single character. Got `{}`",
                        lossy(sep)
                    )));
                }
            };
        } else if ty == Type::Tag && c.eat("CASESENSITIVE") {
            case_sensitive = true;
        } else {
            break;
        }
    }
    // Numbers, points and case-sensitive tags are never normalised: their sort values are UNF.
    field.unf |= field.sortable && (matches!(ty, Type::Numeric | Type::Geo) || case_sensitive);
    if field.noindex && field.index_missing {
        return Err(SearchError::Other(format!(
            "'Field cannot be defined with both `NOINDEX` and `INDEXMISSING` `{}` '",
            field.attribute
        )));
    }
    field.kind = match ty {
        Type::Text => FieldKind::Text {
            weight,
            nostem,
            phonetic,
            with_suffix_trie,
        },
        Type::Tag => FieldKind::Tag {
            separator,
            case_sensitive,
            with_suffix_trie,
        },
        Type::Numeric => FieldKind::Numeric,
        Type::Geo => FieldKind::Geo,
    };
    Ok(field)
}

/// `PHONETIC dm:<lang>`: double metaphone for English, French, Portuguese or Spanish.
fn parse_phonetic(matcher: &[u8]) -> Result<String, SearchError> {
    match matcher {
        [b'd', b'm', b':', lang @ ..] if [&b"en"[..], b"pt", b"fr", b"es"].contains(&lang) => {
            Ok(lossy(matcher))
        }
        _ => Err(SearchError::other(
            "Matcher Format: <2 chars algorithm>:<2 chars language>. Support algorithms: \
             double metaphone (dm). Supported languages: English (en), French (fr), \
             Portuguese (pt) and Spanish (es)",
        )),
    }
}

/// `VECTOR {FLAT|HNSW} nargs name value ...`, with RediSearch's defaults for what is not given.
fn parse_vector(c: &mut Cursor) -> Result<VectorParams, SearchError> {
    const ALGORITHM: &str = "vector similarity algorithm";
    let algorithm = match c.next().map(|a| a.to_ascii_uppercase()).as_deref() {
        Some(b"FLAT") => VectorAlgorithm::Flat,
        Some(b"HNSW") => VectorAlgorithm::Hnsw,
        Some(_) => return Err(bad_args(ALGORITHM, ArgFault::Unknown)),
        None => return Err(bad_args(ALGORITHM, ArgFault::Missing)),
    };
    let label = algorithm.name();
    let nargs = c
        .size(0, u64::MAX)
        .map_err(|f| bad_args("vector similarity number of parameters", f))?;
    if nargs % 2 == 1 {
        // The two algorithms word this differently in RediSearch.
        let tail = match algorithm {
            VectorAlgorithm::Hnsw => {
                "(as algorithm parameters should be submitted as named arguments)"
            }
            VectorAlgorithm::Flat => {
                "as algorithm parameters (should be submitted as named arguments)"
            }
        };
        return Err(SearchError::Other(format!(
            "Bad number of arguments for vector similarity index: got {nargs} but expected even number {tail}"
        )));
    }
    let mut params = VectorParams::new(algorithm, 0, Metric::L2);
    let (mut has_type, mut has_dim, mut has_metric) = (false, false, false);
    let expected = nargs / 2;
    let mut given = 0;
    while given < expected && !c.at_end() {
        let name = c.next().cloned().unwrap_or_default();
        let key = name.to_ascii_uppercase();
        let key_text = lossy(&key);
        let bad = |fault| {
            bad_args(
                &format!("vector similarity {label} index `{key_text}`"),
                fault,
            )
        };
        let size = |c: &mut Cursor, min, max| -> Result<usize, SearchError> {
            let value = c.size(min, max).map_err(bad)?;
            usize::try_from(value).map_err(|_| bad(ArgFault::OutOfBounds))
        };
        let hnsw = algorithm == VectorAlgorithm::Hnsw;
        match key.as_slice() {
            b"TYPE" => {
                let text = c.next().ok_or(ArgFault::Missing).map_err(bad)?;
                params.data_type = match text.to_ascii_uppercase().as_slice() {
                    b"FLOAT32" => VectorType::Float32,
                    b"FLOAT64" => VectorType::Float64,
                    // FLOAT16, BFLOAT16 and the integer types are not supported here.
                    _ => return Err(bad(ArgFault::Unknown)),
                };
                has_type = true;
            }
            b"DIM" => {
                params.dim = size(c, 1, MAX_DIM)?;
                has_dim = true;
            }
            b"DISTANCE_METRIC" => {
                let text = c.next().ok_or(ArgFault::Missing).map_err(bad)?;
                params.metric = match text.to_ascii_uppercase().as_slice() {
                    b"L2" => Metric::L2,
                    b"IP" => Metric::Ip,
                    b"COSINE" => Metric::Cosine,
                    _ => return Err(bad(ArgFault::Unknown)),
                };
                has_metric = true;
            }
            b"INITIAL_CAP" => params.initial_cap = Some(size(c, 0, u64::from(u32::MAX))?),
            b"BLOCK_SIZE" if !hnsw => params.block_size = size(c, 1, u64::from(u32::MAX))?,
            b"M" if hnsw => params.m = size(c, 1, MAX_HNSW_M)?,
            b"EF_CONSTRUCTION" if hnsw => params.ef_construction = size(c, 1, u64::from(u32::MAX))?,
            b"EF_RUNTIME" if hnsw => params.ef_runtime = size(c, 1, u64::from(u32::MAX))?,
            b"EPSILON" if hnsw => params.epsilon = c.double(Some(0.0)).map_err(bad)?,
            _ => {
                return Err(SearchError::Other(format!(
                    "Bad arguments for algorithm {label}: {}",
                    lossy(&name)
                )));
            }
        }
        given += 1;
    }
    if given < expected {
        return Err(SearchError::Other(format!(
            "Expected {} parameters but got {}",
            expected * 2,
            given * 2
        )));
    }
    for (present, what) in [
        (has_type, "TYPE"),
        (has_dim, "DIM"),
        (has_metric, "DISTANCE_METRIC"),
    ] {
        if !present {
            return Err(SearchError::Other(format!(
                "Missing mandatory parameter: cannot create {label} index without specifying {what} argument"
            )));
        }
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<IndexDef, SearchError> {
        let args: Vec<Bytes> = line
            .split_whitespace()
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect();
        IndexDef::parse("idx", &args)
    }

    fn err(line: &str) -> String {
        match parse(line) {
            Ok(def) => panic!("{line:?} parsed: {def:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn vector(def: &IndexDef, attribute: &str) -> VectorParams {
        match &def.field(attribute).expect("field").kind {
            FieldKind::Vector(p) => p.clone(),
            other => panic!("not a vector: {other:?}"),
        }
    }

    #[test]
    fn redis_py_create_index() {
        let def = parse(
            "ON HASH PREFIX 1 doc: SCORE 1.0 SCHEMA title TEXT WEIGHT 1.0 tag TAG SEPARATOR , \
             price NUMERIC v VECTOR HNSW 6 TYPE FLOAT32 DIM 4 DISTANCE_METRIC COSINE",
        )
        .expect("parse");
        assert_eq!(def.name, "idx");
        assert_eq!(def.prefixes, vec![Bytes::from_static(b"doc:")]);
        assert_eq!(def.score, 1.0);
        assert_eq!(def.language, "english");
        assert!(def.options.is_empty());
        assert!(def.stopwords.is_none());
        assert!(!def.skip_initial_scan);
        let kinds: Vec<&str> = def.fields.iter().map(|f| f.kind.type_name()).collect();
        assert_eq!(kinds, ["TEXT", "TAG", "NUMERIC", "VECTOR"]);
        assert_eq!(
            def.fields[0].kind,
            FieldKind::Text {
                weight: 1.0,
                nostem: false,
                phonetic: None,
                with_suffix_trie: false
            }
        );
        let v = vector(&def, "v");
        assert_eq!(v.algorithm, VectorAlgorithm::Hnsw);
        assert_eq!(v.data_type, VectorType::Float32);
        assert_eq!((v.dim, v.metric, v.blob_len()), (4, Metric::Cosine, 16));
        // RediSearch's defaults.
        assert_eq!((v.m, v.ef_construction, v.ef_runtime), (16, 200, 10));
        assert_eq!((v.epsilon, v.block_size, v.initial_cap), (0.01, 1024, None));
    }

    #[test]
    fn redisvl_schema() {
        let def = parse(
            "ON HASH PREFIX 1 rvl SCORE 1.0 SCHEMA \
             user TAG SEPARATOR , CASESENSITIVE WITHSUFFIXTRIE \
             bio TEXT WEIGHT 1 NOSTEM PHONETIC dm:en WITHSUFFIXTRIE INDEXEMPTY INDEXMISSING SORTABLE UNF \
             age NUMERIC INDEXMISSING SORTABLE \
             emb VECTOR HNSW 14 TYPE FLOAT64 DIM 3 DISTANCE_METRIC L2 M 32 EF_CONSTRUCTION 100 \
             EF_RUNTIME 20 EPSILON 0.5 INDEXMISSING \
             flat VECTOR FLAT 10 TYPE FLOAT32 DIM 2 DISTANCE_METRIC IP INITIAL_CAP 5 BLOCK_SIZE 64",
        )
        .expect("parse");
        let user = def.field("user").expect("user");
        assert_eq!(
            user.kind,
            FieldKind::Tag {
                separator: b',',
                case_sensitive: true,
                with_suffix_trie: true
            }
        );
        let bio = def.field("bio").expect("bio");
        assert_eq!(
            bio.kind,
            FieldKind::Text {
                weight: 1.0,
                nostem: true,
                phonetic: Some("dm:en".into()),
                with_suffix_trie: true
            }
        );
        assert!(bio.index_empty && bio.index_missing && bio.sortable && bio.unf);
        let age = def.field("age").expect("age");
        // NUMERIC SORTABLE is always UNF.
        assert!(age.index_missing && age.sortable && age.unf);
        let emb = vector(&def, "emb");
        assert_eq!(emb.data_type, VectorType::Float64);
        assert_eq!(emb.blob_len(), 24);
        assert_eq!(
            (emb.m, emb.ef_construction, emb.ef_runtime, emb.epsilon),
            (32, 100, 20, 0.5)
        );
        assert!(def.field("emb").expect("emb").index_missing);
        let flat = vector(&def, "flat");
        assert_eq!(flat.algorithm, VectorAlgorithm::Flat);
        assert_eq!(
            (flat.metric, flat.initial_cap, flat.block_size),
            (Metric::Ip, Some(5), 64)
        );
    }

    #[test]
    fn added_fields() {
        let def = parse("PREFIX 1 p: SCHEMA t TEXT").expect("parse");
        let args = |line: &str| -> Vec<Bytes> {
            line.split_whitespace()
                .map(|a| Bytes::copy_from_slice(a.as_bytes()))
                .collect()
        };
        let altered = def
            .with_added_fields(&args("n NUMERIC SORTABLE g GEO"))
            .expect("add");
        let names: Vec<&str> = altered
            .fields
            .iter()
            .map(|f| f.attribute.as_str())
            .collect();
        assert_eq!(names, ["t", "n", "g"]);
        assert_eq!(altered.prefixes, def.prefixes);
        let dup = def.with_added_fields(&args("x TAG t TAG")).unwrap_err();
        assert_eq!(dup.to_string(), "Duplicate field in schema - t");
    }

    #[test]
    fn geo_fields() {
        let def = parse("SCHEMA loc GEO SORTABLE other AS o geo NOINDEX m GEO INDEXMISSING")
            .expect("parse");
        let loc = def.field("loc").expect("loc");
        // GEO SORTABLE is always UNF, as NUMERIC is.
        assert!(loc.kind == FieldKind::Geo && loc.sortable && loc.unf);
        assert_eq!(loc.kind.type_name(), "GEO");
        assert!(def.field("o").expect("o").noindex);
        assert!(def.field("m").expect("m").index_missing);
        // TAG / TEXT options are not GEO's: the next word starts a new field.
        assert_eq!(
            err("SCHEMA loc GEO INDEXEMPTY"),
            "Field `INDEXEMPTY` does not have a type"
        );
    }

    #[test]
    fn options_in_any_order_and_any_case() {
        let def = parse(
            "stopwords 2 Foo bar skipinitialscan nofreqs language German score 0.5 \
             prefix 2 a: b: filter @x>1 language_field lang score_field s payload_field p \
             temporary 60 nohl nofields maxtextfields async noscoreidx on hash schema \
             t text sortable noindex",
        )
        .expect("parse");
        assert_eq!(
            def.stopwords,
            Some(vec!["foo".to_string(), "bar".to_string()])
        );
        assert!(def.is_stopword("foo") && !def.is_stopword("the"));
        assert!(def.skip_initial_scan);
        assert_eq!(def.language, "german");
        assert_eq!(def.score, 0.5);
        assert_eq!(def.prefixes.len(), 2);
        assert!(def.covers(b"b:1") && !def.covers(b"c:1"));
        assert_eq!(def.filter.as_deref(), Some("@x>1"));
        assert_eq!(def.language_field.as_deref(), Some("lang"));
        assert_eq!(def.score_field.as_deref(), Some("s"));
        assert_eq!(def.payload_field.as_deref(), Some("p"));
        assert_eq!(def.temporary, Some(60));
        assert_eq!(
            def.options,
            ["NOFREQS", "NOFIELDS", "NOHL", "MAXTEXTFIELDS"]
        );
        let t = def.field("t").expect("t");
        assert!(t.sortable && t.noindex && !t.unf);
    }

    #[test]
    fn defaults_without_options() {
        let def = parse("SCHEMA n NUMERIC").expect("parse");
        // No PREFIX: one empty prefix, every key.
        assert_eq!(def.prefixes, vec![Bytes::new()]);
        assert!(def.covers(b"anything"));
        assert!(def.is_stopword("the"));
        assert_eq!(def.temporary, None);
        let def = parse("STOPWORDS 0 PREFIX 0 SCHEMA n NUMERIC").expect("parse");
        assert_eq!(def.stopwords, Some(vec![]));
        assert!(!def.is_stopword("the"));
        assert_eq!(def.prefixes, vec![Bytes::new()]);
    }

    #[test]
    fn aliases_and_doubly_indexed_fields() {
        let def = parse("SCHEMA sku AS sku_text TEXT sku AS sku_tag TAG $.x AS x NUMERIC")
            .expect("parse");
        let text = def.field("sku_text").expect("sku_text");
        assert_eq!(text.identifier, Bytes::from_static(b"sku"));
        assert_eq!(def.field_index("sku_tag"), Some(1));
        assert!(def.field("sku").is_none());
    }

    #[test]
    fn storage_flags_as_info_lists_them() {
        let def = parse("NOOFFSETS SCHEMA t TEXT").expect("parse");
        assert_eq!(def.options, ["NOOFFSETS", "NOHL"]);
        let many: String = (0..33).map(|i| format!(" t{i} TEXT")).collect();
        let def = parse(&format!("SCHEMA{many}")).expect("parse");
        assert_eq!(def.options, ["MAXTEXTFIELDS"]);
        let def = parse(&format!("NOFIELDS SCHEMA{many}")).expect("parse");
        assert_eq!(def.options, ["NOFIELDS"]);
    }

    #[test]
    fn index_option_errors() {
        assert_eq!(err("FOO SCHEMA t TEXT"), "Unknown argument `FOO`");
        assert_eq!(err("PREFIX 1 a: nope"), "Unknown argument `nope`");
        assert_eq!(err(""), "No schema found");
        assert_eq!(err("PREFIX 1 a:"), "No schema found");
        assert_eq!(err("SCHEMA"), "Fields arguments are missing");
        assert_eq!(err("ON JSON SCHEMA t TEXT"), "Invalid rule type: JSON");
        assert_eq!(
            err("ON"),
            "Bad arguments for ON: Expected an argument, but none provided"
        );
        assert_eq!(
            err("PREFIX x SCHEMA t TEXT"),
            "Bad arguments for PREFIX: Could not convert argument to expected type"
        );
        assert_eq!(
            err("PREFIX 5 a b"),
            "Bad arguments for PREFIX: Expected an argument, but none provided"
        );
        assert_eq!(
            err("STOPWORDS 3 a"),
            "Bad arguments for STOPWORDS: Expected an argument, but none provided"
        );
        assert_eq!(err("SCORE 2 SCHEMA t TEXT"), "Invalid score");
        assert_eq!(err("SCORE x SCHEMA t TEXT"), "Invalid score");
        assert_eq!(err("LANGUAGE klingon SCHEMA t TEXT"), "Invalid language");
        assert_eq!(
            err("TEMPORARY soon SCHEMA t TEXT"),
            "Bad arguments for TEMPORARY: Could not convert argument to expected type"
        );
        assert_eq!(
            err("FILTER"),
            "Bad arguments for FILTER: Expected an argument, but none provided"
        );
    }

    #[test]
    fn field_errors() {
        assert_eq!(err("SCHEMA t TEXT t TAG"), "Duplicate field in schema - t");
        assert_eq!(
            err("SCHEMA a AS t TEXT b AS t TAG"),
            "Duplicate field in schema - t"
        );
        assert_eq!(err("SCHEMA t"), "Field `t` does not have a type");
        assert_eq!(err("SCHEMA t AS"), "AS requires an argument");
        assert_eq!(err("SCHEMA t BLOB"), "Invalid field type for field `t`");
        assert_eq!(
            err("SCHEMA loc GEOSHAPE"),
            "Invalid field type for field `loc`"
        );
        assert_eq!(err("SCHEMA s GEOSHAPE"), "Invalid field type for field `s`");
        assert_eq!(
            err("SCHEMA t TEXT WEIGHT heavy"),
            "Bad arguments for weight: Could not convert argument to expected type"
        );
        assert_eq!(
            err("SCHEMA t TEXT PHONETIC"),
            "PHONETIC requires an argument"
        );
        assert!(err("SCHEMA t TEXT PHONETIC dm:de").starts_with("Matcher Format: "));
        assert_eq!(
            err("SCHEMA t TAG SEPARATOR"),
            "SEPARATOR requires an argument"
        );
        assert_eq!(
            err("SCHEMA t TAG SEPARATOR ;;"),
            "Tag separator must be a single character. Got `;;`"
        );
        assert_eq!(
            err("SCHEMA t TAG NOINDEX INDEXMISSING"),
            "'Field cannot be defined with both `NOINDEX` and `INDEXMISSING` `t` '"
        );
        // An option of another type reads as the next field's name.
        assert_eq!(
            err("SCHEMA n NUMERIC NOSTEM"),
            "Field `NOSTEM` does not have a type"
        );
        let many: String = (0..129).map(|i| format!(" t{i} TEXT")).collect();
        assert_eq!(
            err(&format!("SCHEMA{many}")),
            "Schema is limited to 128 TEXT fields"
        );
        let many: String = (0..1025).map(|i| format!(" n{i} NUMERIC")).collect();
        assert_eq!(
            err(&format!("SCHEMA{many}")),
            "Schema is limited to 1024 fields"
        );
    }

    #[test]
    fn vector_errors() {
        let cases = [
            (
                "v VECTOR",
                "Bad arguments for vector similarity algorithm: Expected an argument, but none provided",
            ),
            (
                "v VECTOR REDIS 6 TYPE FLOAT32 DIM 4 DISTANCE_METRIC IP",
                "Bad arguments for vector similarity algorithm: Unknown argument",
            ),
            (
                "v VECTOR SVS-VAMANA 6 TYPE FLOAT32 DIM 4 DISTANCE_METRIC IP",
                "Bad arguments for vector similarity algorithm: Unknown argument",
            ),
            (
                "v VECTOR HNSW",
                "Bad arguments for vector similarity number of parameters: Expected an argument, but none provided",
            ),
            (
                "v VECTOR HNSW six",
                "Bad arguments for vector similarity number of parameters: Could not convert argument to expected type",
            ),
            ("v VECTOR HNSW 6", "Expected 6 parameters but got 0"),
            (
                "v VECTOR HNSW 1",
                "Bad number of arguments for vector similarity index: got 1 but expected even number (as algorithm parameters should be submitted as named arguments)",
            ),
            (
                "v VECTOR FLAT 3",
                "Bad number of arguments for vector similarity index: got 3 but expected even number as algorithm parameters (should be submitted as named arguments)",
            ),
            (
                "v VECTOR HNSW 2 SIZE 4",
                "Bad arguments for algorithm HNSW: SIZE",
            ),
            (
                "v VECTOR HNSW 8 TYPE FLOAT32 DIM 4 DISTANCE_METRIC IP BLOCK_SIZE 5",
                "Bad arguments for algorithm HNSW: BLOCK_SIZE",
            ),
            (
                "v VECTOR FLAT 8 TYPE FLOAT32 DIM 4 DISTANCE_METRIC IP M 5",
                "Bad arguments for algorithm FLAT: M",
            ),
            (
                "v VECTOR HNSW 2 TYPE",
                "Bad arguments for vector similarity HNSW index `TYPE`: Expected an argument, but none provided",
            ),
            (
                "v VECTOR HNSW 6 TYPE FLOAT16 DIM 4 DISTANCE_METRIC IP",
                "Bad arguments for vector similarity HNSW index `TYPE`: Unknown argument",
            ),
            (
                "v VECTOR FLAT 6 TYPE FLOAT32 DIM 0 DISTANCE_METRIC IP",
                "Bad arguments for vector similarity FLAT index `DIM`: Value is outside acceptable bounds",
            ),
            (
                "v VECTOR FLAT 6 TYPE FLOAT32 DIM str DISTANCE_METRIC IP",
                "Bad arguments for vector similarity FLAT index `DIM`: Could not convert argument to expected type",
            ),
            (
                "v VECTOR HNSW 6 TYPE FLOAT32 DIM 4 DISTANCE_METRIC REDIS",
                "Bad arguments for vector similarity HNSW index `DISTANCE_METRIC`: Unknown argument",
            ),
            (
                "v VECTOR HNSW 8 TYPE FLOAT32 DIM 4 DISTANCE_METRIC IP M str",
                "Bad arguments for vector similarity HNSW index `M`: Could not convert argument to expected type",
            ),
            (
                "v VECTOR HNSW 8 TYPE FLOAT32 DIM 4 DISTANCE_METRIC IP EF_CONSTRUCTION 0",
                "Bad arguments for vector similarity HNSW index `EF_CONSTRUCTION`: Value is outside acceptable bounds",
            ),
            (
                "v VECTOR HNSW 8 TYPE FLOAT32 DIM 4 DISTANCE_METRIC IP EF_RUNTIME 14.3",
                "Bad arguments for vector similarity HNSW index `EF_RUNTIME`: Could not convert argument to expected type",
            ),
            (
                "v VECTOR HNSW 8 TYPE FLOAT32 DIM 4 DISTANCE_METRIC IP EF_RUNTIME -10",
                "Bad arguments for vector similarity HNSW index `EF_RUNTIME`: Value is outside acceptable bounds",
            ),
            (
                "v VECTOR HNSW 8 TYPE FLOAT32 DIM 4 DISTANCE_METRIC IP EPSILON -1",
                "Bad arguments for vector similarity HNSW index `EPSILON`: Value is outside acceptable bounds",
            ),
            (
                "v VECTOR HNSW 8 TYPE FLOAT32 DIM 4 DISTANCE_METRIC IP INITIAL_CAP str",
                "Bad arguments for vector similarity HNSW index `INITIAL_CAP`: Could not convert argument to expected type",
            ),
            (
                "v VECTOR FLAT 8 TYPE FLOAT32 DIM 4 DISTANCE_METRIC IP BLOCK_SIZE 0",
                "Bad arguments for vector similarity FLAT index `BLOCK_SIZE`: Value is outside acceptable bounds",
            ),
            (
                "v VECTOR HNSW 4 DIM 1024 DISTANCE_METRIC IP",
                "Missing mandatory parameter: cannot create HNSW index without specifying TYPE argument",
            ),
            (
                "v VECTOR FLAT 4 TYPE FLOAT32 DISTANCE_METRIC IP",
                "Missing mandatory parameter: cannot create FLAT index without specifying DIM argument",
            ),
            (
                "v VECTOR HNSW 4 TYPE FLOAT32 DIM 1024",
                "Missing mandatory parameter: cannot create HNSW index without specifying DISTANCE_METRIC argument",
            ),
        ];
        for (schema, expected) in cases {
            assert_eq!(err(&format!("SCHEMA {schema}")), expected, "{schema}");
        }
    }

    proptest::proptest! {
        /// Any token soup parses or fails cleanly; what parses is well formed.
        #[test]
        fn arbitrary_arguments_never_panic(tokens in proptest::collection::vec(
            proptest::sample::select(vec![
                "ON", "HASH", "JSON", "PREFIX", "FILTER", "LANGUAGE", "english", "SCORE",
                "TEMPORARY", "STOPWORDS", "NOHL", "SCHEMA", "AS", "TEXT", "TAG", "NUMERIC",
                "VECTOR", "GEO", "FLAT", "HNSW", "TYPE", "FLOAT32", "DIM", "DISTANCE_METRIC",
                "L2", "M", "EPSILON", "INITIAL_CAP", "BLOCK_SIZE", "WEIGHT", "SEPARATOR",
                "PHONETIC", "dm:en", "SORTABLE", "UNF", "NOINDEX", "INDEXMISSING",
                "INDEXEMPTY", "CASESENSITIVE", "0", "1", "2", "6", "-1", "1.5", "nan",
                "99999999999999999999", "", "x", "y",
            ]),
            0..40,
        )) {
            let args: Vec<Bytes> = tokens.iter().map(|t| Bytes::copy_from_slice(t.as_bytes())).collect();
            if let Ok(def) = IndexDef::parse("idx", &args) {
                proptest::prop_assert!(!def.prefixes.is_empty());
                proptest::prop_assert!(!def.fields.is_empty());
                for (i, field) in def.fields.iter().enumerate() {
                    proptest::prop_assert_eq!(def.field_index(&field.attribute), Some(i));
                    if let FieldKind::Vector(p) = &field.kind {
                        proptest::prop_assert!(p.dim >= 1);
                    }
                }
            }
        }
    }

    #[test]
    fn vector_keywords_are_case_insensitive() {
        let def = parse("SCHEMA v vector hnsw 6 type float32 dim 2 distance_metric cosine")
            .expect("parse");
        assert_eq!(vector(&def, "v").metric, Metric::Cosine);
    }
}
