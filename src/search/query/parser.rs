//! Recursive-descent parser of the query language into the [`ast`](super::ast), resolving
//! `@field` names against the index definition, substituting `$params` and dropping
//! stopwords, with RediSearch's error texts.
//!
//! Dialect 2 (and above) grammar:
//! ```text
//! query   := filter? ("=>" "[" knn "]" ("=>" "{" attrs "}")?)?
//! filter  := and ("|" and)*                     OR binds looser than AND
//! and     := unary+
//! unary   := "-" unary | "~" unary | postfix   a modifier applies to the next clause only
//! postfix := primary ("=>" "{" attrs "}")*
//! primary := "(" filter ")" | "*" | "\"" words "\"" | word | $param | ismissing(@f)
//!          | @f(|g)*":" (unary | "{" tags "}" | "[" range "]" | "[" lon lat radius unit "]")
//!          | @f (==|!=|>|>=|<|<=) number
//! ```
//! Dialect 1 keeps RediSearch's older precedence: `|` binds tighter than juxtaposition, and
//! a field modifier or `-` covers the rest of the juxtaposed clauses; `$params`, KNN and
//! VECTOR_RANGE do not exist there and unknown fields match nothing instead of failing.
//!
//! A clause that vanishes (a stopword, or a group made only of them) is `None` while parsing
//! and is dropped from its parent, as RediSearch drops it.

use bytes::Bytes;

use super::Params;
use super::ast::{
    ClauseAttrs, GeoFilter, GeoUnit, HybridPolicy, KnnClause, NumBound, Query, QueryNode,
    TagPattern, TextTerm,
};
use super::explain::fmt_g;
use super::lexer::{CmpOp, Lexer, RawTag, Tok, Token};
use crate::search::{FieldKind, IndexDef, SearchError, VectorAlgorithm};

/// Nesting deeper than this is refused with RediSearch's parser-stack-overflow error
/// (bounded recursion for any input).
const MAX_DEPTH: usize = 128;

/// RediSearch's bound on KNN's K.
const MAX_KNN_K: usize = 1 << 58;

const VEC_PARAMS_ERR: &str = "Error parsing vector similarity parameters: ";

/// Parses `text` for index `def` under `dialect` (1 or 2+; KNN, VECTOR_RANGE and `$params`
/// need 2 or more), with RediSearch's error texts.
pub fn parse(
    text: &[u8],
    def: &IndexDef,
    params: &Params,
    dialect: u32,
) -> Result<Query, SearchError> {
    let mut p = Parser {
        lex: Lexer::new(text),
        def,
        params,
        dialect,
        text_fields: None,
        depth: 0,
    };
    p.query()
}

struct Parser<'a> {
    lex: Lexer<'a>,
    def: &'a IndexDef,
    params: &'a Params,
    dialect: u32,
    /// The fields of the enclosing `@f:` text modifier, if any.
    text_fields: Option<Vec<String>>,
    depth: usize,
}

type Node = Option<QueryNode>;

/// One `$name: value` of an attribute block.
struct Attr {
    name: String,
    value: String,
}

impl<'a> Parser<'a> {
    // ---- errors ------------------------------------------------------------------------

    fn syntax(&self, tok: &Token) -> SearchError {
        let (start, end) = if tok.kind == Tok::End {
            self.lex.last()
        } else {
            (tok.start, tok.end)
        };
        SearchError::Syntax {
            offset: start,
            near: self.lex.text(start, end),
        }
    }

    /// A syntax error at a byte offset reached by a raw scan: near the token found there.
    fn syntax_at(&self, offset: usize) -> SearchError {
        let mut l = self.lex.clone();
        l.seek(offset);
        let tok = l.next();
        self.syntax(&tok)
    }

    fn next(&mut self) -> Token {
        self.lex.next()
    }

    fn peek(&self) -> Token {
        self.lex.peek()
    }

    fn expect(&mut self, kind: Tok) -> Result<Token, SearchError> {
        let t = self.next();
        if t.kind == kind {
            Ok(t)
        } else {
            Err(self.syntax(&t))
        }
    }

    /// `$name` -> its PARAMS value (dialect 2+ only).
    fn param(&self, tok: &Token, name: &str) -> Result<&'a Bytes, SearchError> {
        if self.dialect < 2 {
            return Err(self.syntax(tok));
        }
        self.params
            .get(name)
            .ok_or_else(|| SearchError::other(format!("No such parameter `{name}`")))
    }

    fn param_str(&self, tok: &Token, name: &str) -> Result<String, SearchError> {
        Ok(String::from_utf8_lossy(self.param(tok, name)?).into_owned())
    }

    fn enter(&mut self) -> Result<(), SearchError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(SearchError::other(
                "Parser stack overflow. Try moving nested parentheses more to the left",
            ));
        }
        Ok(())
    }

    // ---- structure -----------------------------------------------------------------------

    fn query(&mut self) -> Result<Query, SearchError> {
        if self.peek().kind == Tok::End {
            return Ok(Query {
                filter: QueryNode::Nothing,
                knn: None,
            });
        }
        if self.dialect >= 2 {
            // The filter of a KNN is one clause (`*`, `(...)`, `@f:...`): `a b=>[KNN ...]`
            // is a syntax error in RediSearch, as `=>` binds tighter than juxtaposition.
            let start = self.lex.clone();
            if let Ok(first) = self.postfix()
                && self.at_knn_arrow()
            {
                return self.knn_query(first);
            }
            // Start over from a clean state (a failed attempt may have stopped mid-way).
            self.lex = start;
            self.depth = 0;
            self.text_fields = None;
        }
        let filter = self.filter()?;
        let t = self.next();
        match t.kind {
            Tok::End => Ok(Query {
                filter: filter.unwrap_or(QueryNode::Nothing),
                knn: None,
            }),
            Tok::Arrow if self.dialect >= 2 && self.lex.next_byte_is(b'[') => {
                let bracket = self.next();
                Err(self.syntax(&bracket))
            }
            _ => Err(self.syntax(&t)),
        }
    }

    fn at_knn_arrow(&self) -> bool {
        self.peek().kind == Tok::Arrow && self.lex.next_byte_is_after_arrow(b'[')
    }

    /// `=>[KNN ...]` after its filter clause, then the end of the query.
    fn knn_query(&mut self, filter: Node) -> Result<Query, SearchError> {
        self.next();
        self.expect(Tok::LBracket)?;
        let has_filter = !matches!(filter, None | Some(QueryNode::All));
        let knn = self.knn(has_filter)?;
        let end = self.next();
        if end.kind != Tok::End {
            return Err(self.syntax(&end));
        }
        Ok(Query {
            filter: filter.unwrap_or(QueryNode::All),
            knn: Some(knn),
        })
    }

    /// A whole filter: `|`-separated in dialect 2, juxtaposed in dialect 1.
    fn filter(&mut self) -> Result<Node, SearchError> {
        self.nested(|p| p.or_of(Self::and))
    }

    /// One nesting level (bounded by `MAX_DEPTH`) around `dialect2`'s parse; dialect 1 reads
    /// juxtaposed OR-groups at every level.
    fn nested(
        &mut self,
        dialect2: impl FnOnce(&mut Self) -> Result<Node, SearchError>,
    ) -> Result<Node, SearchError> {
        self.enter()?;
        let r = if self.dialect >= 2 {
            dialect2(self)
        } else {
            self.and_of(Self::or_v1)
        };
        self.depth -= 1;
        r
    }

    fn and(&mut self) -> Result<Node, SearchError> {
        self.and_of(Self::unary)
    }

    /// Dialect 1: `a|b` groups bind tighter than juxtaposition.
    fn or_v1(&mut self) -> Result<Node, SearchError> {
        self.or_of(Self::unary)
    }

    fn or_of(
        &mut self,
        item: fn(&mut Self) -> Result<Node, SearchError>,
    ) -> Result<Node, SearchError> {
        let mut alts = vec![item(self)?];
        while self.peek().kind == Tok::Pipe {
            self.next();
            alts.push(item(self)?);
        }
        Ok(combine(alts, false))
    }

    fn and_of(
        &mut self,
        item: fn(&mut Self) -> Result<Node, SearchError>,
    ) -> Result<Node, SearchError> {
        let mut items = Vec::new();
        loop {
            let t = self.peek();
            match t.kind {
                Tok::End | Tok::RParen | Tok::Arrow => break,
                Tok::Pipe if self.dialect >= 2 => break,
                _ => items.push(item(self)?),
            }
        }
        if items.is_empty() {
            let t = self.peek();
            return Err(self.syntax(&t));
        }
        Ok(combine(items, true))
    }

    fn unary(&mut self) -> Result<Node, SearchError> {
        let t = self.peek();
        match t.kind {
            Tok::Minus | Tok::Tilde => {
                self.next();
                let inner = self.nested(Self::unary)?;
                Ok(inner.map(|n| {
                    if t.kind == Tok::Minus {
                        QueryNode::Not(Box::new(n))
                    } else {
                        QueryNode::Optional(Box::new(n))
                    }
                }))
            }
            _ => self.postfix(),
        }
    }

    fn postfix(&mut self) -> Result<Node, SearchError> {
        let mut node = self.primary()?;
        while self.peek().kind == Tok::Arrow && self.lex.next_byte_is_after_arrow(b'{') {
            self.next();
            self.next();
            let attrs = self.attributes()?;
            node = match node {
                Some(n) => Some(self.apply_attributes(n, attrs)?),
                None => None,
            };
        }
        Ok(node)
    }

    fn primary(&mut self) -> Result<Node, SearchError> {
        let t = self.next();
        match t.kind {
            Tok::LParen => {
                let inner = self.filter()?;
                self.expect(Tok::RParen)?;
                Ok(inner)
            }
            Tok::Star => Ok(Some(QueryNode::All)),
            Tok::Quote => self.phrase(),
            Tok::Stray => Err(self.syntax(&t)),
            // Wildcard patterns exist from dialect 2 on.
            Tok::Wildcard(ref pattern) if self.dialect >= 2 => {
                let pattern = self.wildcard_pattern(pattern, t.start)?;
                Ok(Some(self.text(TextTerm::Wildcard(pattern.to_lowercase()))))
            }
            Tok::Field(ref name) => {
                let name = name.clone();
                self.field_clause(&t, name)
            }
            Tok::Param(ref name) => {
                let value = self.param_str(&t, name)?;
                Ok(Some(self.text(TextTerm::Word(value.to_lowercase()))))
            }
            Tok::Fuzzy { ref text, distance } => Ok(Some(self.text(TextTerm::Fuzzy {
                word: text.to_lowercase(),
                distance,
            }))),
            Tok::Word {
                ref text,
                lead_star,
                trail_star,
            } => {
                if self.dialect >= 2
                    && !lead_star
                    && !trail_star
                    && text.eq_ignore_ascii_case("ismissing")
                    && self.peek().kind == Tok::LParen
                    && self.peek().start == t.end
                {
                    return self.is_missing();
                }
                let word = text.to_lowercase();
                let term = match (lead_star, trail_star) {
                    (true, true) => TextTerm::Infix(word),
                    (true, false) => TextTerm::Suffix(word),
                    (false, true) => TextTerm::Prefix(word),
                    (false, false) if self.def.is_stopword(&word) => return Ok(None),
                    (false, false) => TextTerm::Word(word),
                };
                Ok(Some(self.text(term)))
            }
            _ => Err(self.syntax(&t)),
        }
    }

    fn text(&self, term: TextTerm) -> QueryNode {
        QueryNode::Text {
            fields: self.text_fields.clone(),
            term,
        }
    }

    /// `"w1 w2 ..."`: one word is that word, exact; more are a phrase without stopwords.
    fn phrase(&mut self) -> Result<Node, SearchError> {
        let mut words = Vec::new();
        loop {
            let t = self.next();
            match t.kind {
                Tok::Quote => break,
                Tok::Word { ref text, .. } => words.push(text.to_lowercase()),
                // Inside quotes `$x` is the word "$x", not a parameter.
                Tok::Param(ref name) => words.push(format!("${}", name.to_lowercase())),
                _ => return Err(self.syntax(&t)),
            }
        }
        Ok(match words.len() {
            0 => None,
            1 => Some(self.text(TextTerm::Exact(words.remove(0)))),
            _ => {
                words.retain(|w| !self.def.is_stopword(w));
                match words.len() {
                    0 => None,
                    _ => Some(self.text(TextTerm::Phrase(words))),
                }
            }
        })
    }

    // ---- fields --------------------------------------------------------------------------

    /// Resolves `@name` (written at `offset`) to its field's kind. An unknown field is an
    /// error from dialect 2 on; in dialect 1 it is `Ok(None)` and the clause matches nothing.
    fn resolve(&self, name: &str, offset: usize) -> Result<Option<&'a FieldKind>, SearchError> {
        match self.def.field(name) {
            Some(f) => Ok(Some(&f.kind)),
            None if self.dialect >= 2 => Err(SearchError::other(format!(
                "Unknown field at offset {offset} near {name}"
            ))),
            None => Ok(None),
        }
    }

    fn field_clause(&mut self, at: &Token, name: String) -> Result<Node, SearchError> {
        let mut names = vec![(name, at.start)];
        while self.peek().kind == Tok::Pipe {
            self.next();
            let t = self.next();
            match t.kind {
                Tok::Word {
                    ref text,
                    lead_star: false,
                    trail_star: false,
                } => names.push((text.clone(), t.start)),
                _ => return Err(self.syntax(&t)),
            }
        }
        let t = self.next();
        match t.kind {
            Tok::Colon => {}
            Tok::Cmp(op) if names.len() == 1 && self.dialect >= 2 => {
                return self.comparison(&names[0], op);
            }
            _ => return Err(self.syntax(&t)),
        }
        let next = self.peek();
        match next.kind {
            Tok::LBrace if names.len() == 1 => {
                self.next();
                self.tag_clause(&names[0])
            }
            Tok::LBracket if names.len() == 1 => {
                self.next();
                self.bracket_clause(&names[0])
            }
            Tok::LBrace | Tok::LBracket => Err(self.syntax(&next)),
            _ => self.text_clause(&names),
        }
    }

    /// `@a|b:clause`: text terms inside only search those TEXT fields.
    fn text_clause(&mut self, names: &[(String, usize)]) -> Result<Node, SearchError> {
        let mut fields = Vec::new();
        for (name, offset) in names {
            if let Some(FieldKind::Text { .. }) = self.resolve(name, *offset)? {
                fields.push(name.clone());
            }
        }
        // Nested modifiers narrow: `@a:(@b:x)` searches fields in both.
        if let Some(outer) = &self.text_fields {
            fields.retain(|f| outer.contains(f));
        }
        let saved = self.text_fields.replace(fields);
        let body = self.nested(Self::unary);
        self.text_fields = saved;
        body
    }

    fn tag_clause(&mut self, (name, offset): &(String, usize)) -> Result<Node, SearchError> {
        let kind = self.resolve(name, *offset)?;
        let raw = self.lex.tag_list().map_err(|off| self.syntax_at(off))?;
        if kind.is_some_and(|k| !matches!(k, FieldKind::Tag { .. })) {
            return Err(self.wrong_type(name, *offset, "TAG"));
        }
        let mut patterns = Vec::with_capacity(raw.len());
        for tag in raw {
            patterns.push(self.tag_pattern(tag)?);
        }
        Ok(Some(match kind {
            Some(_) => QueryNode::Tag {
                field: name.clone(),
                patterns,
            },
            None => QueryNode::Nothing,
        }))
    }

    fn tag_pattern(&self, tag: RawTag) -> Result<TagPattern, SearchError> {
        if tag.quoted {
            return Ok(TagPattern::Exact(tag.text));
        }
        if tag.wildcard {
            if self.dialect < 2 {
                return Err(self.syntax_at(tag.start));
            }
            return Ok(TagPattern::Wildcard(
                self.wildcard_pattern(&tag.text, tag.start)?,
            ));
        }
        let text = match (tag.param, self.dialect >= 2) {
            (true, true) => self.param_str(&self.param_token(&tag.text, tag.start), &tag.text)?,
            // Dialect 1 has no parameters: `$` is part of the tag.
            (true, false) => format!("${}", tag.text),
            (false, _) => tag.text,
        };
        if text.is_empty() && !tag.param {
            return Err(self.syntax_at(tag.start));
        }
        Ok(match (tag.lead_star, tag.trail_star) {
            (true, true) => TagPattern::Infix(text),
            (true, false) => TagPattern::Suffix(text),
            (false, true) => TagPattern::Prefix(text),
            (false, false) => TagPattern::Exact(text),
        })
    }

    /// The pattern of `w'...'` written at `start`: as written, or the value of `w'$param'`.
    fn wildcard_pattern(&self, pattern: &str, start: usize) -> Result<String, SearchError> {
        match pattern.strip_prefix('$') {
            Some(name) => self.param_str(&self.param_token(name, start + 2), name),
            None => Ok(pattern.to_string()),
        }
    }

    /// The error for tag / numeric / vector syntax on a field of another type.
    fn wrong_type(&self, name: &str, offset: usize, want: &str) -> SearchError {
        SearchError::other(format!(
            "Expected a {want} field at offset {offset} near {name}"
        ))
    }

    /// `@f:[...]`: a numeric range or a VECTOR_RANGE.
    fn bracket_clause(&mut self, (name, offset): &(String, usize)) -> Result<Node, SearchError> {
        let (start, first) = self.lex.chunk();
        if first.eq_ignore_ascii_case("VECTOR_RANGE") {
            if self.dialect < 2 {
                return Err(self.syntax_at(start));
            }
            return self.vector_range(name, *offset);
        }
        let kind = self.resolve(name, *offset)?;
        // RediSearch's grammar tells a range `[min max]` from a geo filter `[lon lat radius
        // unit]` by shape, then checks the field's type.
        match (kind, self.bracket_items()) {
            (Some(FieldKind::Geo), Some(1 | 2)) => {
                return Err(self.wrong_type(name, *offset, "NUMERIC"));
            }
            (Some(FieldKind::Geo), _) => return self.geo_clause(name, start, &first),
            (Some(_), Some(4)) => return Err(self.wrong_type(name, *offset, "GEO")),
            (Some(FieldKind::Numeric), _) | (None, _) => {}
            (Some(_), _) => return Err(self.wrong_type(name, *offset, "NUMERIC")),
        }
        let min = self.bound(start, &first)?;
        let (start2, second) = self.lex.chunk();
        let max = if second.is_empty() {
            // `@n:[5]`: one value.
            if self.dialect < 2 {
                return Err(self.syntax_at(start2));
            }
            min
        } else {
            self.bound(start2, &second)?
        };
        self.close_bracket()?;
        Ok(Some(match kind {
            Some(_) => QueryNode::Numeric {
                field: name.clone(),
                min,
                max,
            },
            None => QueryNode::Nothing,
        }))
    }

    /// How many items the bracket being read holds (its first read already), up to five;
    /// `None` when it is not closed after them.
    fn bracket_items(&self) -> Option<usize> {
        let mut ahead = self.lex.clone();
        let rest = (0..4).take_while(|_| !ahead.chunk().1.is_empty()).count();
        ahead.skip_ws();
        (ahead.peek().kind == Tok::RBracket).then_some(rest + 1)
    }

    /// `@g:[lon lat radius unit]` on a GEO field, any part a `$param`; `first` (at `start`)
    /// is the longitude. Checked as RediSearch checks its geo filters.
    fn geo_clause(&mut self, name: &str, start: usize, first: &str) -> Result<Node, SearchError> {
        let lon = self.geo_number(start, first)?;
        let (start, chunk) = self.lex.chunk();
        let lat = self.geo_number(start, &chunk)?;
        let (start, chunk) = self.lex.chunk();
        let radius = self.geo_number(start, &chunk)?;
        let (start, chunk) = self.lex.chunk();
        if chunk.is_empty() {
            return Err(self.syntax_at(start));
        }
        let unit = match chunk.strip_prefix('$') {
            Some(param) => {
                let tok = self.param_token(param, start);
                self.param(&tok, param)?.clone()
            }
            None => Bytes::from(chunk),
        };
        self.close_bracket()?;
        let unit =
            GeoUnit::parse(&unit).ok_or_else(|| SearchError::other("Invalid GeoFilter unit"))?;
        if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
            return Err(SearchError::other("Invalid GeoFilter lat/lon"));
        }
        if radius <= 0.0 {
            return Err(SearchError::other("Invalid GeoFilter radius"));
        }
        Ok(Some(QueryNode::Geo {
            field: name.to_string(),
            filter: GeoFilter {
                lon,
                lat,
                radius,
                unit,
            },
        }))
    }

    /// A number of a geo filter as written at `start`, or the value of its `$param`.
    fn geo_number(&self, start: usize, chunk: &str) -> Result<f64, SearchError> {
        if let Some(param) = chunk.strip_prefix('$') {
            let value = self.param_str(&self.param_token(param, start), param)?;
            return parse_number(&value).ok_or_else(|| invalid_numeric_param(&value, param));
        }
        parse_number(chunk).ok_or_else(|| self.syntax_at(start))
    }

    /// The token of `$name` written at `start` (for errors about it).
    fn param_token(&self, name: &str, start: usize) -> Token {
        Token {
            kind: Tok::Param(name.into()),
            start,
            end: start + 1 + name.len(),
        }
    }

    fn close_bracket(&mut self) -> Result<(), SearchError> {
        self.lex.skip_ws();
        let at = self.lex.pos();
        let t = self.next();
        if t.kind == Tok::RBracket {
            Ok(())
        } else {
            Err(self.syntax_at(at))
        }
    }

    /// One numeric bound as written: `10`, `(10`, `-inf`, `+inf`, `$p`, `($p`.
    fn bound(&self, start: usize, chunk: &str) -> Result<NumBound, SearchError> {
        let (exclusive, body) = match chunk.strip_prefix('(') {
            Some(rest) => (true, rest),
            None => (false, chunk),
        };
        if let Some(name) = body.strip_prefix('$') {
            let tok = Token {
                kind: Tok::Param(name.into()),
                start,
                end: start + chunk.len(),
            };
            let value = self.param_str(&tok, name)?;
            // A parameter may carry the `(` itself.
            let (excl2, v) = match value.strip_prefix('(') {
                Some(rest) => (true, rest),
                None => (false, value.as_str()),
            };
            let n = parse_number(v).ok_or_else(|| invalid_numeric_param(&value, name))?;
            return Ok(NumBound {
                value: n,
                inclusive: !(exclusive || excl2),
            });
        }
        match parse_number(body) {
            Some(value) => Ok(NumBound {
                value,
                inclusive: !exclusive,
            }),
            None if chunk.is_empty() => Err(self.syntax_at(start)),
            None => Err(SearchError::Syntax {
                offset: start + usize::from(exclusive),
                near: body.to_string(),
            }),
        }
    }

    /// `@n==5`, `@n!=5`, `@n>5`, `@n>=5`, `@n<5`, `@n<=5`.
    fn comparison(
        &mut self,
        (name, offset): &(String, usize),
        op: CmpOp,
    ) -> Result<Node, SearchError> {
        let kind = self.resolve(name, *offset)?;
        if kind.is_some_and(|k| !matches!(k, FieldKind::Numeric)) {
            return Err(self.wrong_type(name, *offset, "NUMERIC"));
        }
        let value = self.number(parse_number)?;
        let at = |inclusive| NumBound { value, inclusive };
        let inf = |value: f64| NumBound {
            value,
            inclusive: true,
        };
        let (min, max) = match op {
            CmpOp::Eq | CmpOp::Ne => (at(true), at(true)),
            CmpOp::Gt => (at(false), inf(f64::INFINITY)),
            CmpOp::Ge => (at(true), inf(f64::INFINITY)),
            CmpOp::Lt => (inf(f64::NEG_INFINITY), at(false)),
            CmpOp::Le => (inf(f64::NEG_INFINITY), at(true)),
        };
        let node = QueryNode::Numeric {
            field: name.clone(),
            min,
            max,
        };
        Ok(Some(if op == CmpOp::Ne {
            QueryNode::Not(Box::new(node))
        } else {
            node
        }))
    }

    /// `ismissing(@f)`; the word and `(` are consumed up to the `(`.
    fn is_missing(&mut self) -> Result<Node, SearchError> {
        self.expect(Tok::LParen)?;
        let t = self.next();
        let Tok::Field(ref name) = t.kind else {
            return Err(self.syntax(&t));
        };
        self.expect(Tok::RParen)?;
        let field = self.def.field(name).ok_or_else(|| {
            SearchError::other(format!("Unknown field at offset {} near {name}", t.start))
        })?;
        if !field.index_missing {
            return Err(SearchError::other(
                "'ismissing' requires field to be defined with 'INDEXMISSING'",
            ));
        }
        Ok(Some(QueryNode::IsMissing(name.clone())))
    }

    // ---- vectors -------------------------------------------------------------------------

    /// The vector field `@name` at `offset`, or RediSearch's error.
    fn vector_field(
        &self,
        name: &str,
        offset: usize,
    ) -> Result<&'a crate::search::VectorParams, SearchError> {
        match self.resolve(name, offset)? {
            Some(FieldKind::Vector(p)) => Ok(p),
            _ => Err(self.wrong_type(name, offset, "VECTOR")),
        }
    }

    /// The next token as a plain word, or the value of a `$param`.
    fn value(&mut self) -> Result<String, SearchError> {
        let t = self.next();
        match t.kind {
            Tok::Word {
                ref text,
                lead_star: false,
                trail_star: false,
            } => Ok(text.clone()),
            Tok::Param(ref p) => self.param_str(&t, p),
            _ => Err(self.syntax(&t)),
        }
    }

    /// A number written in place or passed as a `$param`, read by `read`: a bad word is a
    /// syntax error at it, a bad parameter value RediSearch's invalid-parameter error.
    fn number<T>(&mut self, read: impl Fn(&str) -> Option<T>) -> Result<T, SearchError> {
        let t = self.next();
        match t.kind {
            Tok::Word {
                ref text,
                lead_star: false,
                trail_star: false,
            } => read(text).ok_or_else(|| self.syntax(&t)),
            Tok::Param(ref p) => {
                let v = self.param_str(&t, p)?;
                read(&v).ok_or_else(|| invalid_numeric_param(&v, p))
            }
            _ => Err(self.syntax(&t)),
        }
    }

    /// A `$param` holding the query vector: its value and its name.
    fn blob(&mut self) -> Result<(Bytes, String), SearchError> {
        let t = self.next();
        match t.kind {
            Tok::Param(ref name) => Ok((self.param(&t, name)?.clone(), name.clone())),
            _ => Err(self.syntax(&t)),
        }
    }

    /// `@f:[VECTOR_RANGE r $blob]`; `VECTOR_RANGE` is consumed.
    fn vector_range(&mut self, name: &str, offset: usize) -> Result<Node, SearchError> {
        self.vector_field(name, offset)?;
        let radius = self.number(parse_number)?;
        let (blob, blob_param) = self.blob()?;
        self.expect(Tok::RBracket)?;
        if radius < 0.0 {
            return Err(SearchError::other(format!(
                "Error parsing vector similarity query: negative radius ({}) given in a range query",
                fmt_g(radius)
            )));
        }
        Ok(Some(QueryNode::VectorRange {
            field: name.to_string(),
            radius,
            blob,
            blob_param,
            yield_as: None,
            epsilon: None,
        }))
    }

    /// `KNN k @field $blob [attr value | AS alias]...]`; `[` is consumed.
    fn knn(&mut self, hybrid: bool) -> Result<KnnClause, SearchError> {
        let t = self.next();
        match t.kind {
            Tok::Word { ref text, .. } if text.eq_ignore_ascii_case("KNN") => {}
            _ => return Err(self.syntax(&t)),
        }
        let k = self.number(|text| text.parse::<usize>().ok())?;
        if k > MAX_KNN_K {
            return Err(SearchError::other("KNN K parameter is too large"));
        }
        let t = self.next();
        let Tok::Field(ref field) = t.kind else {
            return Err(self.syntax(&t));
        };
        let field = field.clone();
        let vparams = self.vector_field(&field, t.start)?;
        let (blob, blob_param) = self.blob()?;
        let mut knn = KnnClause::new(k, field, blob, blob_param);
        let mut attrs = Vec::new();
        loop {
            let t = self.next();
            match t.kind {
                Tok::RBracket => break,
                Tok::Word {
                    ref text,
                    lead_star: false,
                    trail_star: false,
                } => {
                    let name = text.clone();
                    let value = self.value()?;
                    if name.eq_ignore_ascii_case("AS") {
                        self.set_alias(&mut knn.alias, value)?;
                    } else {
                        attrs.push((name, value));
                    }
                }
                _ => return Err(self.syntax(&t)),
            }
        }
        if self.peek().kind == Tok::Arrow && self.lex.next_byte_is_after_arrow(b'{') {
            self.next();
            self.next();
            for a in self.attributes()? {
                if a.name.eq_ignore_ascii_case("yield_distance_as") {
                    self.set_alias(&mut knn.alias, a.value)?;
                } else {
                    attrs.push((a.name, a.value));
                }
            }
        }
        for (name, value) in attrs {
            apply_knn_param(&mut knn, &name, &value)?;
        }
        check_knn(&knn, hybrid, vparams.algorithm)?;
        if let Some(alias) = knn.alias.as_ref().filter(|a| self.def.field(a).is_some()) {
            return Err(SearchError::other(format!(
                "Property `{alias}` already exists in schema"
            )));
        }
        Ok(knn)
    }

    fn set_alias(&self, slot: &mut Option<String>, value: String) -> Result<(), SearchError> {
        if let Some(old) = slot {
            return Err(SearchError::other(format!(
                "Distance field was specified twice for vector query: {old} and {value}"
            )));
        }
        *slot = Some(value);
        Ok(())
    }

    // ---- attributes ----------------------------------------------------------------------

    /// `$name: value; ...}` after `=>{` (the braces' inside and the closing `}`).
    fn attributes(&mut self) -> Result<Vec<Attr>, SearchError> {
        let mut out = Vec::new();
        loop {
            let t = self.next();
            match t.kind {
                Tok::RBrace => return Ok(out),
                Tok::Semicolon => continue,
                Tok::Param(ref name) => {
                    let name = name.clone();
                    self.expect(Tok::Colon)?;
                    let value = self.value()?;
                    out.push(Attr { name, value });
                    let sep = self.peek();
                    if !matches!(sep.kind, Tok::Semicolon | Tok::RBrace) {
                        return Err(self.syntax(&sep));
                    }
                }
                _ => return Err(self.syntax(&t)),
            }
        }
    }

    /// Applies `=>{...}` to a clause: `$YIELD_DISTANCE_AS` / `$EPSILON` on a VECTOR_RANGE;
    /// `$weight`, `$slop`, `$inorder`, `$phonetic` wrap the clause in
    /// [`QueryNode::Attributed`] when any differs from its default.
    fn apply_attributes(
        &self,
        mut node: QueryNode,
        attrs: Vec<Attr>,
    ) -> Result<QueryNode, SearchError> {
        let mut scoring = ClauseAttrs::default();
        for a in attrs {
            let lower = a.name.to_ascii_lowercase();
            match (&mut node, lower.as_str()) {
                (QueryNode::VectorRange { yield_as, .. }, "yield_distance_as") => {
                    self.set_alias(yield_as, a.value)?;
                }
                (QueryNode::VectorRange { epsilon, .. }, "epsilon") => {
                    *epsilon = Some(parse_positive_f64(&a.value).ok_or_else(|| {
                        SearchError::other(format!("{VEC_PARAMS_ERR}Invalid EPSILON value"))
                    })?);
                }
                (QueryNode::VectorRange { .. }, "ef_runtime" | "hybrid_policy" | "batch_size") => {
                    return Err(SearchError::other(format!(
                        "{VEC_PARAMS_ERR}hybrid query attributes were sent for a non-hybrid query"
                    )));
                }
                (_, "weight") => {
                    scoring.weight = parse_positive_f64(&a.value)
                        .ok_or_else(|| SearchError::other("Invalid value for weight attribute"))?;
                }
                (_, "slop") => {
                    scoring.slop = Some(
                        a.value
                            .parse::<i64>()
                            .map_err(|_| SearchError::other("Invalid value for slop attribute"))?,
                    );
                }
                (_, "inorder" | "phonetic") => {
                    let on = match a.value.to_ascii_lowercase().as_str() {
                        "true" | "1" => true,
                        "false" | "0" => false,
                        _ => {
                            return Err(SearchError::other(format!(
                                "Invalid value for {lower} attribute"
                            )));
                        }
                    };
                    if lower == "inorder" {
                        scoring.inorder = on;
                    } else {
                        scoring.phonetic = Some(on);
                    }
                }
                _ => {
                    return Err(SearchError::other(format!("Invalid attribute {}", a.name)));
                }
            }
        }
        if scoring == ClauseAttrs::default() {
            return Ok(node);
        }
        Ok(QueryNode::Attributed {
            node: Box::new(node),
            attrs: scoring,
        })
    }
}

/// One KNN runtime parameter (from `[KNN ... NAME value]` or `=>{$NAME: value}`).
fn apply_knn_param(knn: &mut KnnClause, name: &str, value: &str) -> Result<(), SearchError> {
    let bad = |what: &str| SearchError::other(format!("{VEC_PARAMS_ERR}Invalid {what} value"));
    let positive = |what: &str| {
        value
            .parse::<usize>()
            .ok()
            .filter(|v| *v > 0)
            .ok_or_else(|| bad(what))
    };
    match name.to_ascii_uppercase().as_str() {
        "EF_RUNTIME" => set_once(&mut knn.ef_runtime, positive("EF_RUNTIME")?),
        "EPSILON" => {
            let v = parse_positive_f64(value).ok_or_else(|| bad("EPSILON"))?;
            set_once(&mut knn.epsilon, v)
        }
        "BATCH_SIZE" => set_once(&mut knn.batch_size, positive("batch size")?),
        "HYBRID_POLICY" => {
            let p = if value.eq_ignore_ascii_case("BATCHES") {
                HybridPolicy::Batches
            } else if value.eq_ignore_ascii_case("ADHOC_BF") {
                HybridPolicy::AdhocBf
            } else {
                return Err(SearchError::other(format!(
                    "{VEC_PARAMS_ERR}invalid hybrid policy was given"
                )));
            };
            set_once(&mut knn.hybrid_policy, p)
        }
        _ => Err(SearchError::other(format!(
            "{VEC_PARAMS_ERR}Unknown parameter `{name}`"
        ))),
    }
}

/// Fills a KNN parameter's slot; a parameter given twice is refused.
fn set_once<T>(slot: &mut Option<T>, value: T) -> Result<(), SearchError> {
    match slot.replace(value) {
        Some(_) => Err(SearchError::other(format!(
            "{VEC_PARAMS_ERR}Parameter was specified twice"
        ))),
        None => Ok(()),
    }
}

/// The combinations of KNN parameters RediSearch refuses (FT.HYBRID's KNN clause too).
pub fn check_knn(
    knn: &KnnClause,
    hybrid: bool,
    algorithm: VectorAlgorithm,
) -> Result<(), SearchError> {
    let err = |text: &str| Err(SearchError::other(format!("{VEC_PARAMS_ERR}{text}")));
    if knn.epsilon.is_some() {
        return err("range query attributes were sent for a non-range query");
    }
    if !hybrid && (knn.hybrid_policy.is_some() || knn.batch_size.is_some()) {
        return err("hybrid query attributes were sent for a non-hybrid query");
    }
    if knn.hybrid_policy == Some(HybridPolicy::AdhocBf) {
        if knn.batch_size.is_some() {
            return err("'batch size' is irrelevant for the selected policy");
        }
        if knn.ef_runtime.is_some() {
            return err("'EF_RUNTIME' is irrelevant for the selected policy");
        }
    }
    if knn.ef_runtime.is_some() && algorithm == VectorAlgorithm::Flat {
        return err("Unknown parameter `EF_RUNTIME`");
    }
    Ok(())
}

/// Folds the parts of an AND / OR: vanished parts are dropped, a single part stands alone,
/// and nested nodes of the same kind are flattened.
fn combine(parts: Vec<Node>, and: bool) -> Node {
    let mut kids: Vec<QueryNode> = Vec::new();
    for p in parts.into_iter().flatten() {
        match p {
            QueryNode::And(inner) if and => kids.extend(inner),
            QueryNode::Or(inner) if !and => kids.extend(inner),
            p => kids.push(p),
        }
    }
    match kids.len() {
        0 => None,
        1 => kids.pop(),
        _ if and => Some(QueryNode::And(kids)),
        _ => Some(QueryNode::Or(kids)),
    }
}

fn invalid_numeric_param(value: &str, name: &str) -> SearchError {
    SearchError::other(format!(
        "Invalid numeric value ({value}) for parameter `{name}`"
    ))
}

/// A number as queries write it: decimal, exponent, `inf`, `+inf`, `-inf`; never NaN.
fn parse_number(s: &str) -> Option<f64> {
    let v: f64 = s.parse().ok()?;
    (!v.is_nan()).then_some(v)
}

fn parse_positive_f64(s: &str) -> Option<f64> {
    parse_number(s).filter(|v| *v > 0.0 && v.is_finite())
}
