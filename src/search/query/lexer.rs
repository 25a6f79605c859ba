//! Tokens of the query language with their byte offsets in the query text.
//!
//! The language is context-sensitive in two places: the inside of a tag list `{...}`
//! (spaces and most punctuation belong to the tag) and the inside of a bracket `[...]`
//! (numbers such as `-inf`, `(10` or `1e-05`). The parser reads those two with the raw
//! scanners here ([`Lexer::tag_list`], [`Lexer::chunk`]); everything else goes through
//! [`Lexer::next`]. This module knows nothing of index definitions or parameters.

/// One token. `start..end` is its byte range in the query text.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: Tok,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    LParen,
    RParen,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Pipe,
    Minus,
    Tilde,
    Colon,
    Semicolon,
    /// `=>`
    Arrow,
    /// A lone `*`.
    Star,
    Quote,
    /// `==`, `!=`, `>`, `>=`, `<`, `<=` (numeric comparisons after a field).
    Cmp(CmpOp),
    /// `@name`, unescaped.
    Field(String),
    /// `$name`.
    Param(String),
    /// A character that starts no token where it stands (a lone `@`, an unclosed `w'`).
    Stray,
    /// `w'pattern'`: the pattern as written between the quotes (escapes kept).
    Wildcard(String),
    /// `%word%`, `%%word%%` or `%%%word%%%`: a fuzzy word (unescaped, case kept) and its
    /// edit distance, the number of `%` on each side.
    Fuzzy {
        text: String,
        distance: u8,
    },
    /// A word (unescaped, case kept) with its `*` marks: `pre*`, `*suf`, `*in*`.
    Word {
        text: String,
        lead_star: bool,
        trail_star: bool,
    },
    End,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A tag alternative read raw from inside `{...}`.
#[derive(Debug, Clone, PartialEq)]
pub struct RawTag {
    /// Unescaped, surrounding unescaped whitespace trimmed.
    pub text: String,
    /// Byte offset where the alternative starts (after leading whitespace).
    pub start: usize,
    /// The alternative started with an unescaped `*` (stripped from `text`).
    pub lead_star: bool,
    /// The alternative ended with an unescaped `*` (stripped from `text`).
    pub trail_star: bool,
    /// The alternative was an unescaped `$name` (`text` is the name), possibly inside
    /// stars (`*$p*`).
    pub param: bool,
    /// The alternative was wrapped in double quotes (`text` is the inside).
    pub quoted: bool,
    /// The alternative was `w'pattern'` (`text` is the pattern, escapes kept).
    pub wildcard: bool,
}

/// Characters that end a word unless escaped. `_` is a word character; bytes >= 0x80 (UTF-8
/// multi-byte sequences) are word characters.
fn is_separator(b: u8) -> bool {
    b.is_ascii_whitespace() || (b.is_ascii_punctuation() && b != b'_')
}

/// The scanner over one query text.
#[derive(Clone)]
pub struct Lexer<'a> {
    src: &'a [u8],
    pos: usize,
    /// Byte range of the last token read: RediSearch reports a syntax error at the end of
    /// the text near that token.
    last: (usize, usize),
}

impl<'a> Lexer<'a> {
    pub fn new(src: &'a [u8]) -> Lexer<'a> {
        Lexer {
            src,
            pos: 0,
            last: (0, 0),
        }
    }

    /// The current byte offset.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// The source text of `start..end`, for error messages.
    pub fn text(&self, start: usize, end: usize) -> String {
        String::from_utf8_lossy(&self.src[start.min(self.src.len())..end.min(self.src.len())])
            .into_owned()
    }

    fn at(&self, i: usize) -> Option<u8> {
        self.src.get(i).copied()
    }

    pub fn skip_ws(&mut self) {
        while self.at(self.pos).is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    /// The next token without consuming it.
    pub fn peek(&self) -> Token {
        self.clone().next()
    }

    /// Whether the next non-space byte is `b` (used to tell `=>[` from `=>{`).
    pub fn next_byte_is(&self, b: u8) -> bool {
        let mut l = self.clone();
        l.skip_ws();
        l.at(l.pos) == Some(b)
    }

    /// Whether the next token is `=>` followed (after spaces) by `b`.
    pub fn next_byte_is_after_arrow(&self, b: u8) -> bool {
        let mut l = self.clone();
        l.next().kind == Tok::Arrow && l.next_byte_is(b)
    }

    /// Scans a word starting at `self.pos` (escapes honoured); returns it unescaped.
    fn word(&mut self) -> String {
        let mut out = Vec::new();
        while let Some(b) = self.at(self.pos) {
            if b == b'\\' {
                // A backslash makes the next byte part of the word, whatever it is.
                match self.at(self.pos + 1) {
                    Some(n) => {
                        out.push(n);
                        self.pos += 2;
                    }
                    None => self.pos += 1,
                }
            } else if is_separator(b) {
                break;
            } else {
                out.push(b);
                self.pos += 1;
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Length of a number starting at `i` (`-12`, `3.5`, `1e-05`), if one does.
    fn number_len(&self, i: usize) -> Option<usize> {
        let mut j = i;
        if matches!(self.at(j), Some(b'-' | b'+')) {
            j += 1;
        }
        let digits = |l: &Lexer, mut k: usize| {
            let s = k;
            while l.at(k).is_some_and(|b| b.is_ascii_digit()) {
                k += 1;
            }
            (k, k > s)
        };
        let (k, any) = digits(self, j);
        let mut j = k;
        let mut any_digit = any;
        if self.at(j) == Some(b'.') {
            let (k, any) = digits(self, j + 1);
            if any {
                j = k;
                any_digit = true;
            }
        }
        if !any_digit {
            return None;
        }
        if matches!(self.at(j), Some(b'e' | b'E')) {
            let mut k = j + 1;
            if matches!(self.at(k), Some(b'-' | b'+')) {
                k += 1;
            }
            let (k, any) = digits(self, k);
            if any {
                j = k;
            }
        }
        Some(j - i)
    }

    /// Length of the word starting at `i` (escapes included), without consuming it.
    fn word_len(&self, i: usize) -> usize {
        let mut l = Lexer {
            src: self.src,
            pos: i,
            last: (i, i),
        };
        l.word();
        l.pos - i
    }

    /// Byte range of the last token read (by [`Lexer::next`], [`Lexer::chunk`] or
    /// [`Lexer::tag_list`]).
    pub fn last(&self) -> (usize, usize) {
        self.last
    }

    /// The next token in ordinary (text) context; see [`Lexer::scan`].
    pub fn next(&mut self) -> Token {
        let t = self.scan();
        if t.kind != Tok::End {
            self.last = (t.start, t.end);
        }
        t
    }

    /// The next token in ordinary (text) context. Punctuation with no meaning in the
    /// language separates words and is otherwise ignored, as RediSearch's lexer does.
    fn scan(&mut self) -> Token {
        loop {
            self.skip_ws();
            let start = self.pos;
            let Some(b) = self.at(start) else {
                return Token {
                    kind: Tok::End,
                    start,
                    end: start,
                };
            };
            let two = self.at(start + 1);
            let (kind, len) = match b {
                b'(' => (Tok::LParen, 1),
                b')' => (Tok::RParen, 1),
                b'{' => (Tok::LBrace, 1),
                b'}' => (Tok::RBrace, 1),
                b'[' => (Tok::LBracket, 1),
                b']' => (Tok::RBracket, 1),
                b'|' => (Tok::Pipe, 1),
                b'~' => (Tok::Tilde, 1),
                b':' => (Tok::Colon, 1),
                b';' => (Tok::Semicolon, 1),
                b'"' => (Tok::Quote, 1),
                b'=' if two == Some(b'>') => (Tok::Arrow, 2),
                b'=' if two == Some(b'=') => (Tok::Cmp(CmpOp::Eq), 2),
                b'!' if two == Some(b'=') => (Tok::Cmp(CmpOp::Ne), 2),
                b'>' if two == Some(b'=') => (Tok::Cmp(CmpOp::Ge), 2),
                b'<' if two == Some(b'=') => (Tok::Cmp(CmpOp::Le), 2),
                b'>' => (Tok::Cmp(CmpOp::Gt), 1),
                b'<' => (Tok::Cmp(CmpOp::Lt), 1),
                b'-' | b'+' | b'.' | b'0'..=b'9' if self.number_len(start).is_some() => {
                    // A number is a word (`-20` is the term "-20", not NOT 20) unless a
                    // longer word starts here (`3d35`).
                    let n = self.number_len(start).unwrap_or(0);
                    let w = self.word_len(start);
                    if w > n {
                        return self.word_token(start);
                    }
                    self.pos = start + n;
                    let text = self.text(start, start + n);
                    return self.finish_word(start, text, false);
                }
                b'-' => (Tok::Minus, 1),
                b'@' => {
                    self.pos = start + 1;
                    let name = self.word();
                    if name.is_empty() {
                        return Token {
                            kind: Tok::Stray,
                            start,
                            end: start + 1,
                        };
                    }
                    return Token {
                        kind: Tok::Field(name),
                        start,
                        end: self.pos,
                    };
                }
                b'$' if two.is_some_and(|n| !is_separator(n) || n == b'\\') => {
                    self.pos = start + 1;
                    let name = self.word();
                    return Token {
                        kind: Tok::Param(name),
                        start,
                        end: self.pos,
                    };
                }
                b'*' => {
                    if two.is_some_and(|n| !is_separator(n) || n == b'\\') {
                        self.pos = start + 1;
                        let text = self.word();
                        return self.finish_word(start, text, true);
                    }
                    (Tok::Star, 1)
                }
                b'w' if two == Some(b'\'') => {
                    let kind = match self.wildcard_end(start) {
                        Some(end) => {
                            self.pos = end;
                            Tok::Wildcard(self.text(start + 2, end - 1))
                        }
                        None => {
                            self.pos = self.src.len();
                            Tok::Stray
                        }
                    };
                    return Token {
                        kind,
                        start,
                        end: self.pos,
                    };
                }
                b'\\' => return self.word_token(start),
                b'%' => match self.fuzzy(start) {
                    Some(token) => return token,
                    None => {
                        // Not a balanced fuzzy term: its `%` marks separate words.
                        let marks = self.src[start..].iter().take_while(|&&b| b == b'%');
                        self.pos = start + marks.count();
                        continue;
                    }
                },
                _ if is_separator(b) => {
                    self.pos += 1;
                    continue;
                }
                _ => return self.word_token(start),
            };
            self.pos = start + len;
            return Token {
                kind,
                start,
                end: self.pos,
            };
        }
    }

    /// The end (after the closing quote) of the `w'...'` starting at `start`, if closed;
    /// `\` escapes the next character, a quote included.
    fn wildcard_end(&self, start: usize) -> Option<usize> {
        let mut i = start + 2;
        loop {
            match self.at(i)? {
                b'\'' => return Some(i + 1),
                b'\\' => i += 2,
                _ => i += 1,
            }
        }
    }

    /// A fuzzy term starting at `start` (a `%`): 1 to 3 `%`, a word, as many `%` again.
    fn fuzzy(&mut self, start: usize) -> Option<Token> {
        let marks = self.src[start..].iter().take_while(|&&b| b == b'%').count();
        if !(1..=3).contains(&marks) {
            return None;
        }
        self.pos = start + marks;
        let text = self.word();
        let end = self.pos + marks;
        let closed = self
            .src
            .get(self.pos..end)
            .is_some_and(|s| s.iter().all(|&b| b == b'%'));
        if text.is_empty() || !closed || self.at(end) == Some(b'%') {
            self.pos = start;
            return None;
        }
        self.pos = end;
        Some(Token {
            kind: Tok::Fuzzy {
                text,
                distance: marks as u8,
            },
            start,
            end,
        })
    }

    fn word_token(&mut self, start: usize) -> Token {
        self.pos = start;
        let text = self.word();
        self.finish_word(start, text, false)
    }

    /// Attaches a directly following `*` (prefix mark) to a word just scanned.
    fn finish_word(&mut self, start: usize, text: String, lead_star: bool) -> Token {
        let trail_star = self.at(self.pos) == Some(b'*');
        if trail_star {
            self.pos += 1;
        }
        Token {
            kind: Tok::Word {
                text,
                lead_star,
                trail_star,
            },
            start,
            end: self.pos,
        }
    }

    /// Reads one whitespace-delimited chunk inside `[...]` (a bound such as `(10`, `-inf`,
    /// `$lo`, or a keyword), stopping before `]` or whitespace. Returns its start and text
    /// (empty at `]` or the end of the text).
    pub fn chunk(&mut self) -> (usize, String) {
        self.skip_ws();
        let start = self.pos;
        // `(` only opens a chunk; `[(5 (10]` and `[ ( 5 ...` are not distinguished further.
        if self.at(self.pos) == Some(b'(') {
            self.pos += 1;
        }
        while let Some(b) = self.at(self.pos) {
            if b.is_ascii_whitespace() || b == b']' || b == b'[' {
                break;
            }
            self.pos += 1;
        }
        if self.pos > start {
            self.last = (start, self.pos);
        }
        (start, self.text(start, self.pos))
    }

    /// Reads the alternatives of a tag list; `self.pos` is just after `{`. Consumes the
    /// closing `}`. Errors with the offset where the list went wrong (`Err(offset)`).
    pub fn tag_list(&mut self) -> Result<Vec<RawTag>, usize> {
        let mut tags = Vec::new();
        loop {
            self.skip_ws();
            let start = self.pos;
            let tag = match self.at(start) {
                None => return Err(start),
                Some(b'"') => self.quoted_tag(start)?,
                Some(b'w') if self.at(start + 1) == Some(b'\'') => {
                    let end = self.wildcard_end(start).ok_or(start)?;
                    self.pos = end;
                    RawTag {
                        text: self.text(start + 2, end - 1),
                        start,
                        lead_star: false,
                        trail_star: false,
                        param: false,
                        quoted: false,
                        wildcard: true,
                    }
                }
                Some(_) => self.plain_tag(start),
            };
            self.skip_ws();
            self.last = (start, self.pos);
            let empty = tag.text.is_empty() && !tag.lead_star && !tag.trail_star && !tag.param;
            match self.at(self.pos) {
                Some(b'|') if !empty => {
                    self.pos += 1;
                    tags.push(tag);
                }
                Some(b'}') if !empty => {
                    self.pos += 1;
                    tags.push(tag);
                    return Ok(tags);
                }
                _ => return Err(self.pos),
            }
        }
    }

    fn quoted_tag(&mut self, start: usize) -> Result<RawTag, usize> {
        let mut out = Vec::new();
        let mut i = start + 1;
        loop {
            match self.at(i) {
                None => return Err(start),
                Some(b'"') => break,
                Some(b'\\') if self.at(i + 1).is_some() => {
                    out.push(self.at(i + 1).unwrap_or(b'\\'));
                    i += 2;
                }
                Some(b) => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        self.pos = i + 1;
        Ok(RawTag {
            text: String::from_utf8_lossy(&out).into_owned(),
            start,
            lead_star: false,
            trail_star: false,
            param: false,
            quoted: true,
            wildcard: false,
        })
    }

    /// A tag up to an unescaped `|` or `}`; inner spaces are kept, outer ones trimmed.
    fn plain_tag(&mut self, start: usize) -> RawTag {
        let mut out: Vec<u8> = Vec::new();
        // Length of `out` up to its last byte that is not unescaped whitespace.
        let mut keep = 0;
        let mut lead_star = false;
        let mut trail_star = false;
        let mut param = false;
        while let Some(b) = self.at(self.pos) {
            match b {
                b'|' | b'}' => break,
                // `$name`, possibly inside stars (`*$p*`): a parameter reference.
                b'$' if out.is_empty() && !param => {
                    param = true;
                    self.pos += 1;
                }
                b'\\' => {
                    match self.at(self.pos + 1) {
                        Some(n) if n.is_ascii_punctuation() || n.is_ascii_whitespace() => {
                            out.push(n)
                        }
                        Some(n) => out.extend_from_slice(&[b, n]),
                        None => {}
                    }
                    self.pos += 2;
                    keep = out.len();
                    trail_star = false;
                }
                b'*' if out.is_empty() && !lead_star => {
                    lead_star = true;
                    self.pos += 1;
                }
                _ => {
                    out.push(b);
                    self.pos += 1;
                    if !b.is_ascii_whitespace() {
                        keep = out.len();
                        trail_star = b == b'*';
                    }
                }
            }
        }
        self.pos = self.pos.min(self.src.len());
        out.truncate(keep);
        if trail_star {
            out.pop();
        }
        RawTag {
            text: String::from_utf8_lossy(&out).into_owned(),
            start,
            lead_star,
            trail_star,
            param,
            quoted: false,
            wildcard: false,
        }
    }

    /// Skips to `pos` (after a raw scan decided where a construct ends).
    pub fn seek(&mut self, pos: usize) {
        self.pos = pos.min(self.src.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<Tok> {
        let mut l = Lexer::new(s.as_bytes());
        let mut out = Vec::new();
        loop {
            let t = l.next();
            if t.kind == Tok::End {
                return out;
            }
            out.push(t.kind);
        }
    }

    fn w(s: &str) -> Tok {
        Tok::Word {
            text: s.into(),
            lead_star: false,
            trail_star: false,
        }
    }

    #[test]
    fn fuzzy_terms() {
        let fuzzy = |text: &str, distance| Tok::Fuzzy {
            text: text.into(),
            distance,
        };
        assert_eq!(
            kinds("%hel% %%Hello%% %%%a\\%b%%% x"),
            vec![fuzzy("hel", 1), fuzzy("Hello", 2), fuzzy("a%b", 3), w("x")]
        );
        // Unbalanced or too many marks: `%` only separates words.
        assert_eq!(kinds("%%hel% %%%%x%%%% %y"), vec![w("hel"), w("x"), w("y")]);
    }

    #[test]
    fn words_numbers_and_marks() {
        assert_eq!(
            kinds("hello -20 -x 3d35 10.5 hel* *fix *mid* a\\ b"),
            vec![
                w("hello"),
                w("-20"),
                Tok::Minus,
                w("x"),
                w("3d35"),
                w("10.5"),
                Tok::Word {
                    text: "hel".into(),
                    lead_star: false,
                    trail_star: true
                },
                Tok::Word {
                    text: "fix".into(),
                    lead_star: true,
                    trail_star: false
                },
                Tok::Word {
                    text: "mid".into(),
                    lead_star: true,
                    trail_star: true
                },
                w("a b"),
            ]
        );
    }

    #[test]
    fn punctuation_tokens() {
        assert_eq!(
            kinds("@f:(x)|$p=>[*]{;}~ \"q\", @n>=1"),
            vec![
                Tok::Field("f".into()),
                Tok::Colon,
                Tok::LParen,
                w("x"),
                Tok::RParen,
                Tok::Pipe,
                Tok::Param("p".into()),
                Tok::Arrow,
                Tok::LBracket,
                Tok::Star,
                Tok::RBracket,
                Tok::LBrace,
                Tok::Semicolon,
                Tok::RBrace,
                Tok::Tilde,
                Tok::Quote,
                w("q"),
                Tok::Quote,
                Tok::Field("n".into()),
                Tok::Cmp(CmpOp::Ge),
                w("1"),
            ]
        );
    }

    #[test]
    fn offsets() {
        let mut l = Lexer::new(b"  @title:hello");
        let t = l.next();
        assert_eq!((t.start, t.end), (2, 8));
        assert_eq!(l.next().start, 8);
        let t = l.next();
        assert_eq!((t.start, t.end), (9, 14));
    }

    #[test]
    fn tag_lists() {
        let mut l = Lexer::new(b" a | b\\ c |  pre* | *suf|*in*| $p | hello world | x\\|y}rest");
        let tags = l.tag_list().unwrap();
        let got: Vec<(&str, bool, bool, bool)> = tags
            .iter()
            .map(|t| (t.text.as_str(), t.lead_star, t.trail_star, t.param))
            .collect();
        assert_eq!(
            got,
            vec![
                ("a", false, false, false),
                ("b c", false, false, false),
                ("pre", false, true, false),
                ("suf", true, false, false),
                ("in", true, true, false),
                ("p", false, false, true),
                ("hello world", false, false, false),
                ("x|y", false, false, false),
            ]
        );
        assert_eq!(l.pos(), 55);
    }

    #[test]
    fn tag_list_errors() {
        assert_eq!(Lexer::new(b"}").tag_list(), Err(0));
        assert_eq!(Lexer::new(b"a||b}").tag_list(), Err(2));
        assert_eq!(Lexer::new(b"a").tag_list(), Err(1));
    }

    #[test]
    fn chunks() {
        let mut l = Lexer::new(b" (10  -inf]");
        assert_eq!(l.chunk(), (1, "(10".to_string()));
        assert_eq!(l.chunk(), (6, "-inf".to_string()));
        assert_eq!(l.chunk(), (10, String::new()));
    }
}
