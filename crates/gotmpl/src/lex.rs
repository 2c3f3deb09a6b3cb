//! The lexer: template source to tokens, with Go `text/template`'s delimiters, trim markers and
//! comments, and byte positions for error messages.

use super::error::ParseError;

/// One token and where it starts (byte offset in the source).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Token {
    /// What was read.
    pub kind: Tok,
    /// Byte offset where it starts.
    pub pos: usize,
}

/// Token kinds.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    /// Plain text outside actions (trim markers already applied).
    Text(String),
    /// `{{` (or `{{-`).
    Open,
    /// `}}` (or `-}}`).
    Close,
    /// Whitespace inside an action (separates arguments).
    Space,
    /// `|`
    Pipe,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `:=`
    Declare,
    /// `=`
    Assign,
    /// `,`
    Comma,
    /// A quoted or raw string, unescaped.
    Str(String),
    /// A character constant, as its code point.
    Char(i64),
    /// A number as written.
    Number(String),
    /// `true` / `false`
    Bool(bool),
    /// `nil`
    Nil,
    /// `.`
    Dot,
    /// `.name` (without the dot).
    Field(String),
    /// `$name` or `$` (without the `$`; empty for `$`).
    Variable(String),
    /// A function name or keyword.
    Ident(String),
}

const TRIM_CHARS: &[char] = &[' ', '\t', '\r', '\n'];

/// Splits the source into tokens.
pub(crate) fn lex(src: &str) -> Result<Vec<Token>, ParseError> {
    let mut lx = Lexer {
        src,
        pos: 0,
        tokens: Vec::new(),
        trim_next_text: false,
    };
    lx.run()?;
    Ok(lx.tokens)
}

struct Lexer<'s> {
    src: &'s str,
    pos: usize,
    tokens: Vec<Token>,
    trim_next_text: bool,
}

fn is_trim_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_ident_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

impl<'s> Lexer<'s> {
    fn err(&self, at: usize, msg: impl Into<String>) -> ParseError {
        ParseError::at(self.src, at, msg)
    }

    fn push(&mut self, kind: Tok, pos: usize) {
        self.tokens.push(Token { kind, pos });
    }

    fn run(&mut self) -> Result<(), ParseError> {
        while self.pos < self.src.len() {
            let rest = &self.src[self.pos..];
            let open = rest.find("{{");
            let text_end = open.map_or(self.src.len(), |i| self.pos + i);
            let mut text = &self.src[self.pos..text_end];
            if self.trim_next_text {
                text = text.trim_start_matches(TRIM_CHARS);
                self.trim_next_text = false;
            }
            let Some(_) = open else {
                if !text.is_empty() {
                    self.push(Tok::Text(text.to_string()), self.pos);
                }
                self.pos = self.src.len();
                break;
            };
            let bytes = self.src.as_bytes();
            let trim_left = bytes.get(text_end + 2) == Some(&b'-')
                && bytes.get(text_end + 3).is_some_and(|c| is_trim_space(*c));
            if trim_left {
                text = text.trim_end_matches(TRIM_CHARS);
            }
            if !text.is_empty() {
                self.push(Tok::Text(text.to_string()), self.pos);
            }
            self.pos = text_end + if trim_left { 3 } else { 2 };
            self.action(text_end)?;
        }
        Ok(())
    }

    /// Lexes one action; `open` is the offset of its `{{`.
    fn action(&mut self, open: usize) -> Result<(), ParseError> {
        // Comment: `{{/* ... */}}`, directly after the delimiter (and trim marker).
        let after_space = self.src[self.pos..].trim_start_matches(TRIM_CHARS);
        let skipped = self.src.len() - self.pos - after_space.len();
        if after_space.starts_with("/*") && (skipped == 0 || self.src[..self.pos].ends_with('-')) {
            let start = self.pos + skipped;
            let Some(end) = self.src[start + 2..].find("*/") else {
                return Err(self.err(open, "unclosed comment"));
            };
            let mut p = start + 2 + end + 2;
            let rest = &self.src[p..];
            if let Some(r) = rest
                .strip_prefix(" -}}")
                .or_else(|| rest.strip_prefix("\t-}}"))
            {
                self.trim_next_text = true;
                p = self.src.len() - r.len();
            } else if rest.starts_with("}}") {
                p += 2;
            } else {
                return Err(self.err(p, "comment ends before closing delimiter"));
            }
            self.pos = p;
            return Ok(());
        }
        self.push(Tok::Open, open);
        let mut paren_depth = 0usize;
        loop {
            let rest = &self.src[self.pos..];
            let Some(c) = rest.chars().next() else {
                return Err(self.err(open, "unclosed action"));
            };
            let start = self.pos;
            if rest.starts_with("}}") {
                self.pos += 2;
                self.push(Tok::Close, start);
                return Ok(());
            }
            if is_trim_space(c as u8) && c.is_ascii() {
                let trimmed = rest.trim_start_matches(TRIM_CHARS);
                if let Some(r) = trimmed.strip_prefix("-}}") {
                    self.trim_next_text = true;
                    let close = self.src.len() - r.len() - 3;
                    self.pos = self.src.len() - r.len();
                    self.push(Tok::Close, close);
                    return Ok(());
                }
                self.pos += rest.len() - trimmed.len();
                self.push(Tok::Space, start);
                continue;
            }
            match c {
                '|' => self.single(Tok::Pipe),
                '(' => {
                    paren_depth += 1;
                    self.single(Tok::LParen)
                }
                ')' => {
                    if paren_depth == 0 {
                        return Err(self.err(start, "unexpected right paren"));
                    }
                    paren_depth -= 1;
                    self.single(Tok::RParen)
                }
                ',' => self.single(Tok::Comma),
                '=' => self.single(Tok::Assign),
                ':' => {
                    if rest.starts_with(":=") {
                        self.pos += 2;
                        self.push(Tok::Declare, start);
                    } else {
                        return Err(self.err(start, "expected :="));
                    }
                }
                '"' => self.quoted()?,
                '`' => {
                    let Some(end) = rest[1..].find('`') else {
                        return Err(self.err(start, "unterminated raw quoted string"));
                    };
                    let s = rest[1..1 + end].replace('\r', "");
                    self.pos += end + 2;
                    self.push(Tok::Str(s), start);
                }
                '\'' => self.char_constant()?,
                '$' => {
                    self.pos += 1;
                    let name = self.ident_chars(false);
                    self.push(Tok::Variable(name), start);
                }
                '.' => {
                    let next = rest[1..].chars().next();
                    if next.is_some_and(|n| n.is_ascii_digit()) {
                        self.number()?;
                    } else if next.is_some_and(is_ident_char) {
                        self.pos += 1;
                        let name = self.ident_chars(true);
                        self.push(Tok::Field(name), start);
                    } else {
                        self.single(Tok::Dot);
                    }
                }
                c if c == '+' || c == '-' || c.is_ascii_digit() => self.number()?,
                c if is_ident_char(c) => {
                    let word = self.ident_chars(false);
                    let kind = match word.as_str() {
                        "true" => Tok::Bool(true),
                        "false" => Tok::Bool(false),
                        "nil" => Tok::Nil,
                        _ => Tok::Ident(word),
                    };
                    self.push(kind, start);
                }
                other => {
                    return Err(self.err(
                        start,
                        format!("unrecognized character in action: {other:?}"),
                    ));
                }
            }
        }
    }

    fn single(&mut self, kind: Tok) {
        let start = self.pos;
        self.pos += 1;
        self.push(kind, start);
    }

    /// Reads identifier characters. In field names a `-` followed by a letter continues the name
    /// (`.deployments.my-service`): Go rejects that as a bad number, so accepting it changes the
    /// meaning of no valid template.
    fn ident_chars(&mut self, field: bool) -> String {
        let rest = &self.src[self.pos..];
        let mut end = 0;
        let mut chars = rest.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if is_ident_char(c) {
                end = i + c.len_utf8();
            } else if field && c == '-' && end > 0 {
                match chars.peek() {
                    Some((_, n)) if n.is_alphabetic() || *n == '_' => end = i + 1,
                    _ => break,
                }
            } else {
                break;
            }
        }
        self.pos += end;
        rest[..end].to_string()
    }

    fn number(&mut self) -> Result<(), ParseError> {
        let start = self.pos;
        let rest = &self.src[self.pos..];
        let mut end = 0;
        let bytes = rest.as_bytes();
        if matches!(bytes.first(), Some(b'+' | b'-')) {
            end = 1;
        }
        let hex = rest[end..].starts_with("0x") || rest[end..].starts_with("0X");
        while let Some(&b) = bytes.get(end) {
            let exp_sign = matches!(b, b'+' | b'-')
                && end > 0
                && if hex {
                    matches!(bytes[end - 1], b'p' | b'P')
                } else {
                    matches!(bytes[end - 1], b'e' | b'E')
                };
            if b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || exp_sign {
                end += 1;
            } else {
                break;
            }
        }
        let text = &rest[..end];
        self.pos += end;
        if parse_number(text).is_none() {
            return Err(self.err(start, format!("bad number syntax: {text:?}")));
        }
        self.push(Tok::Number(text.to_string()), start);
        Ok(())
    }

    fn quoted(&mut self) -> Result<(), ParseError> {
        let start = self.pos;
        let rest = &self.src[self.pos + 1..];
        let mut out = String::new();
        let mut chars = rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += 1 + i + 1;
                    self.push(Tok::Str(out), start);
                    return Ok(());
                }
                '\n' => break,
                '\\' => {
                    let Some((_, e)) = chars.next() else { break };
                    match unescape(e, &mut chars, '"') {
                        Some(ch) => out.push(ch),
                        None => {
                            return Err(self.err(start + 1 + i, "invalid escape in quoted string"));
                        }
                    }
                }
                c => out.push(c),
            }
        }
        Err(self.err(start, "unterminated quoted string"))
    }

    fn char_constant(&mut self) -> Result<(), ParseError> {
        let start = self.pos;
        let rest = &self.src[self.pos + 1..];
        let mut chars = rest.char_indices();
        let value = match chars.next() {
            Some((_, '\\')) => chars
                .next()
                .and_then(|(_, e)| unescape(e, &mut chars, '\'')),
            Some((_, '\'')) | Some((_, '\n')) | None => None,
            Some((_, c)) => Some(c),
        };
        match (value, chars.next()) {
            (Some(c), Some((i, '\''))) => {
                self.pos += 1 + i + 1;
                self.push(Tok::Char(c as i64), start);
                Ok(())
            }
            _ => Err(self.err(start, "unterminated character constant")),
        }
    }
}

/// Decodes the escape after a backslash (`e` is the character after it).
fn unescape(e: char, chars: &mut std::str::CharIndices<'_>, quote: char) -> Option<char> {
    let mut hex = |n: usize| -> Option<char> {
        let mut v = 0u32;
        for _ in 0..n {
            v = v * 16 + chars.next()?.1.to_digit(16)?;
        }
        char::from_u32(v)
    };
    match e {
        'n' => Some('\n'),
        't' => Some('\t'),
        'r' => Some('\r'),
        'a' => Some('\x07'),
        'b' => Some('\x08'),
        'f' => Some('\x0c'),
        'v' => Some('\x0b'),
        '\\' => Some('\\'),
        'x' => hex(2),
        'u' => hex(4),
        'U' => hex(8),
        '0'..='7' => {
            let mut v = e.to_digit(8)?;
            for _ in 0..2 {
                v = v * 8 + chars.next()?.1.to_digit(8)?;
            }
            char::from_u32(v)
        }
        c if c == quote => Some(c),
        _ => None,
    }
}

/// A parsed number literal.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Number {
    /// An integer constant.
    Int(i64),
    /// A floating-point constant.
    Float(f64),
}

/// Parses Go number syntax: decimal, `0x`/`0o`/`0b`/leading-zero octal integers with `_`
/// separators, and decimal floats with optional exponent.
pub(crate) fn parse_number(text: &str) -> Option<Number> {
    let (neg, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if body.is_empty() || body.starts_with('_') || body.ends_with('_') {
        return None;
    }
    let clean = body.replace('_', "");
    let lower = clean.to_ascii_lowercase();
    let radix_int = |digits: &str, radix: u32| i64::from_str_radix(digits, radix).ok();
    let int = if let Some(d) = lower.strip_prefix("0x") {
        radix_int(d, 16)
    } else if let Some(d) = lower.strip_prefix("0o") {
        radix_int(d, 8)
    } else if let Some(d) = lower.strip_prefix("0b") {
        radix_int(d, 2)
    } else if lower.len() > 1 && lower.starts_with('0') && lower.bytes().all(|b| b.is_ascii_digit())
    {
        radix_int(&lower[1..], 8)
    } else if lower.bytes().all(|b| b.is_ascii_digit()) {
        lower.parse().ok()
    } else {
        None
    };
    if let Some(i) = int {
        return Some(Number::Int(if neg { -i } else { i }));
    }
    let valid_float = lower
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'+' | b'-'))
        && lower
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || b == b'.');
    if !valid_float {
        return None;
    }
    let f: f64 = lower.parse().ok()?;
    Some(Number::Float(if neg { -f } else { f }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Tok> {
        lex(src).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn text_and_a_field_action_become_tokens() {
        assert_eq!(
            kinds("a {{ .spec.image }}"),
            vec![
                Tok::Text("a ".into()),
                Tok::Open,
                Tok::Space,
                Tok::Field("spec".into()),
                Tok::Field("image".into()),
                Tok::Space,
                Tok::Close
            ]
        );
    }

    #[test]
    fn trim_markers_remove_surrounding_whitespace() {
        assert_eq!(
            kinds("a \n {{- 1 -}} \n b"),
            vec![
                Tok::Text("a".into()),
                Tok::Open,
                Tok::Space,
                Tok::Number("1".into()),
                Tok::Close,
                Tok::Text("b".into())
            ]
        );
    }

    #[test]
    fn a_dash_without_space_is_a_negative_number_not_a_trim_marker() {
        assert_eq!(
            kinds("{{-3}}"),
            vec![Tok::Open, Tok::Number("-3".into()), Tok::Close]
        );
    }

    #[test]
    fn comments_vanish_and_may_trim() {
        assert_eq!(
            kinds("a {{/* hi */}} b"),
            vec![Tok::Text("a ".into()), Tok::Text(" b".into())]
        );
        assert_eq!(
            kinds("a {{- /* hi */ -}} b"),
            vec![Tok::Text("a".into()), Tok::Text("b".into())]
        );
    }

    #[test]
    fn strings_decode_go_escapes() {
        assert_eq!(
            kinds(r#"{{"a\n\"\x41\u00e9"}}"#)[1],
            Tok::Str("a\n\"Aé".into())
        );
        assert_eq!(kinds("{{`raw\\n`}}")[1], Tok::Str("raw\\n".into()));
        assert_eq!(kinds("{{'a'}}")[1], Tok::Char(97));
    }

    #[test]
    fn hyphenated_field_names_are_one_field() {
        assert_eq!(kinds("{{.a.my-svc}}")[2], Tok::Field("my-svc".into()));
    }

    #[test]
    fn unclosed_actions_and_strings_are_errors_with_positions() {
        let e = lex("x\n  {{ .spec.image").unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.line, e.col),
            ("unclosed action", 2, 3)
        );
        assert_eq!(
            lex("{{ \"abc }}").unwrap_err().message,
            "unterminated quoted string"
        );
        assert_eq!(
            lex("{{ 1x }}").unwrap_err().message,
            "bad number syntax: \"1x\""
        );
    }

    #[test]
    fn numbers_follow_go_syntax() {
        assert_eq!(parse_number("42"), Some(Number::Int(42)));
        assert_eq!(parse_number("-0x1F"), Some(Number::Int(-31)));
        assert_eq!(parse_number("017"), Some(Number::Int(15)));
        assert_eq!(parse_number("1_000"), Some(Number::Int(1000)));
        assert_eq!(parse_number("1.5e3"), Some(Number::Float(1500.0)));
        assert_eq!(parse_number("1.0"), Some(Number::Float(1.0)));
        assert_eq!(parse_number("1e"), None);
        assert_eq!(parse_number("abc"), None);
    }
}
