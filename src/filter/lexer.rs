//! The display-filter lexer: text to tokens, each with its byte span.
//!
//! Like Wireshark 4.0's scanner, a field name and most literals (numbers,
//! addresses, byte strings, CIDR blocks) are one token kind, a *word*: a run
//! of letters, digits and `_ . : / -`. What a word means is decided later,
//! against the field it is compared with. `..` always splits a word
//! (`1..3`), so set ranges need no spaces.

use super::{FilterError, Span};

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// A field name, keyword or unquoted literal.
    Word,
    /// A double-quoted string, escapes decoded (it may hold any bytes).
    Str(Vec<u8>),
    /// A C character constant, `'P'` or `'\x50'`.
    Char(u8),
    LParen,
    RParen,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Comma,
    DotDot,
    /// `==`, `!=`, `===`, `!==`, `~=`, `>`, `>=`, `<`, `<=`.
    Rel,
    /// `~` (matches).
    Tilde,
    AndAnd,
    OrOr,
    Bang,
    Amp,
    /// `+ * %` and a lone `-` or `/`: arithmetic, which hs-tui does not evaluate.
    Arith,
    /// Any other printable character (`=`, `@`, `$`, `;`, `^`, `#` ...).
    Other,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
}

impl Token {
    pub fn text<'s>(&self, src: &'s str) -> &'s str {
        &src[self.span.0..self.span.1]
    }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'/' | b'-')
}

/// Split `src` into tokens. Errors carry the span of the offending text.
pub fn lex(src: &str) -> Result<Vec<Token>, FilterError> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let two = |s: &[u8]| b[i..].starts_with(s);
        let (tok, len) = if two(b"===") || two(b"!==") {
            (Tok::Rel, 3)
        } else if two(b"==") || two(b"!=") || two(b"~=") || two(b">=") || two(b"<=") {
            (Tok::Rel, 2)
        } else if two(b"&&") {
            (Tok::AndAnd, 2)
        } else if two(b"||") {
            (Tok::OrOr, 2)
        } else if two(b"..") {
            (Tok::DotDot, 2)
        } else if (c == b'r' || c == b'R') && b.get(i + 1) == Some(&b'"') {
            let (bytes, end) = raw_string(src, i)?;
            out.push(Token {
                tok: Tok::Str(bytes),
                span: Span(start, end),
            });
            i = end;
            continue;
        } else if c == b'"' {
            let (bytes, end) = string(src, i)?;
            out.push(Token {
                tok: Tok::Str(bytes),
                span: Span(start, end),
            });
            i = end;
            continue;
        } else if c == b'\'' {
            let (v, end) = char_const(src, i)?;
            out.push(Token {
                tok: Tok::Char(v),
                span: Span(start, end),
            });
            i = end;
            continue;
        } else if is_word_byte(c) || c == b'+' && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
            let mut j = i + 1;
            while j < b.len() && is_word_byte(b[j]) && !b[j..].starts_with(b"..") {
                j += 1;
            }
            let tok = if j == i + 1 && (c == b'-' || c == b'/') {
                Tok::Arith
            } else {
                Tok::Word
            };
            (tok, j - i)
        } else {
            let tok = match c {
                b'(' => Tok::LParen,
                b')' => Tok::RParen,
                b'{' => Tok::LBrace,
                b'}' => Tok::RBrace,
                b'[' => Tok::LBracket,
                b']' => Tok::RBracket,
                b',' => Tok::Comma,
                b'>' | b'<' => Tok::Rel,
                b'~' => Tok::Tilde,
                b'!' => Tok::Bang,
                b'&' => Tok::Amp,
                b'+' | b'*' | b'%' => Tok::Arith,
                c if c.is_ascii_graphic() => Tok::Other,
                _ => {
                    let len = src[i..].chars().next().map_or(1, char::len_utf8);
                    return Err(FilterError::at(
                        "Non-printable ASCII characters may only appear inside double-quotes.",
                        Span(i, i + len),
                    ));
                }
            };
            (tok, 1)
        };
        out.push(Token {
            tok,
            span: Span(start, start + len),
        });
        i += len;
    }
    Ok(out)
}

/// A double-quoted string starting at `at`; returns the decoded bytes and the end offset.
fn string(src: &str, at: usize) -> Result<(Vec<u8>, usize), FilterError> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = at + 1;
    loop {
        match b.get(i) {
            None => {
                return Err(FilterError::at(
                    "The final quote was missing from a quoted string.",
                    Span(at, at + 1),
                ))
            }
            Some(b'"') => return Ok((out, i + 1)),
            Some(b'\\') => {
                let (v, next) = escape(src, i)?;
                out.extend_from_slice(&v);
                i = next;
            }
            Some(&c) => {
                out.push(c);
                i += 1;
            }
        }
    }
}

/// `r"..."`: backslashes are kept; `\"` does not end the string.
fn raw_string(src: &str, at: usize) -> Result<(Vec<u8>, usize), FilterError> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = at + 2;
    loop {
        match b.get(i) {
            None => {
                return Err(FilterError::at(
                    "The final quote was missing from a quoted string.",
                    Span(at + 1, at + 2),
                ))
            }
            Some(b'"') => return Ok((out, i + 1)),
            Some(b'\\') if b.get(i + 1).is_some() => {
                out.extend_from_slice(&b[i..i + 2]);
                i += 2;
            }
            Some(&c) => {
                out.push(c);
                i += 1;
            }
        }
    }
}

fn char_const(src: &str, at: usize) -> Result<(u8, usize), FilterError> {
    let b = src.as_bytes();
    let missing = || {
        FilterError::at(
            "The final quote was missing from a character constant.",
            Span(at, at + 1),
        )
    };
    let (bytes, next) = match b.get(at + 1) {
        None => return Err(missing()),
        Some(b'\\') => escape(src, at + 1)?,
        Some(_) => {
            let len = src[at + 1..].chars().next().map_or(1, char::len_utf8);
            (src.as_bytes()[at + 1..at + 1 + len].to_vec(), at + 1 + len)
        }
    };
    if b.get(next) != Some(&b'\'') {
        return Err(missing());
    }
    if bytes.len() != 1 {
        return Err(FilterError::at(
            format!("{} is not a valid character constant.", &src[at..next + 1]),
            Span(at, next + 1),
        ));
    }
    Ok((bytes[0], next + 1))
}

/// One escape sequence starting at the backslash at `at`.
fn escape(src: &str, at: usize) -> Result<(Vec<u8>, usize), FilterError> {
    let b = src.as_bytes();
    let bad = |len: usize| {
        let end = (at + len).min(src.len());
        let end = (end..=src.len())
            .find(|&e| src.is_char_boundary(e))
            .unwrap_or(src.len());
        FilterError::at(
            format!("{} is not a valid character escape sequence", &src[at..end]),
            Span(at, end),
        )
    };
    let Some(&c) = b.get(at + 1) else {
        return Err(FilterError::at(
            "The final quote was missing from a quoted string.",
            Span(at, at + 1),
        ));
    };
    let simple = match c {
        b'\\' => Some(b'\\'),
        b'"' => Some(b'"'),
        b'\'' => Some(b'\''),
        b'a' => Some(7),
        b'b' => Some(8),
        b'f' => Some(12),
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        b'v' => Some(11),
        _ => None,
    };
    if let Some(v) = simple {
        return Ok((vec![v], at + 2));
    }
    let hex_run = |from: usize, max: usize| {
        let mut j = from;
        while j < b.len() && j - from < max && b[j].is_ascii_hexdigit() {
            j += 1;
        }
        j
    };
    match c {
        b'x' => {
            let end = hex_run(at + 2, 2);
            if end == at + 2 {
                return Err(bad(2));
            }
            Ok((
                vec![u8::from_str_radix(&src[at + 2..end], 16).unwrap_or(0)],
                end,
            ))
        }
        b'0'..=b'7' => {
            let mut j = at + 1;
            while j < b.len() && j - (at + 1) < 3 && (b'0'..=b'7').contains(&b[j]) {
                j += 1;
            }
            let v = u32::from_str_radix(&src[at + 1..j], 8).unwrap_or(0);
            if v > 255 {
                return Err(bad(j - at));
            }
            Ok((vec![v as u8], j))
        }
        b'u' | b'U' => {
            let want = if c == b'u' { 4 } else { 8 };
            let end = hex_run(at + 2, want);
            if end - (at + 2) != want {
                return Err(bad(end - at));
            }
            let v = u32::from_str_radix(&src[at + 2..end], 16).unwrap_or(u32::MAX);
            let ch = char::from_u32(v).ok_or_else(|| bad(end - at))?;
            let mut buf = [0u8; 4];
            Ok((ch.encode_utf8(&mut buf).as_bytes().to_vec(), end))
        }
        _ => Err(bad(2)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<(Tok, &str)> {
        lex(s)
            .unwrap()
            .into_iter()
            .map(|t| (t.tok.clone(), t.text(s)))
            .collect()
    }

    #[test]
    fn words_and_operators() {
        assert_eq!(
            kinds("tcp.port==80&&!udp"),
            vec![
                (Tok::Word, "tcp.port"),
                (Tok::Rel, "=="),
                (Tok::Word, "80"),
                (Tok::AndAnd, "&&"),
                (Tok::Bang, "!"),
                (Tok::Word, "udp")
            ]
        );
        assert_eq!(
            kinds("a === b !== c ~= d"),
            vec![
                (Tok::Word, "a"),
                (Tok::Rel, "==="),
                (Tok::Word, "b"),
                (Tok::Rel, "!=="),
                (Tok::Word, "c"),
                (Tok::Rel, "~="),
                (Tok::Word, "d")
            ]
        );
        assert_eq!(
            kinds("ip.addr == 10.0.0.0/8"),
            vec![
                (Tok::Word, "ip.addr"),
                (Tok::Rel, "=="),
                (Tok::Word, "10.0.0.0/8")
            ]
        );
        assert_eq!(
            kinds("x ~ y || z"),
            vec![
                (Tok::Word, "x"),
                (Tok::Tilde, "~"),
                (Tok::Word, "y"),
                (Tok::OrOr, "||"),
                (Tok::Word, "z")
            ]
        );
    }

    #[test]
    fn ranges_split_words() {
        assert_eq!(
            kinds("{1..3, 7}"),
            vec![
                (Tok::LBrace, "{"),
                (Tok::Word, "1"),
                (Tok::DotDot, ".."),
                (Tok::Word, "3"),
                (Tok::Comma, ","),
                (Tok::Word, "7"),
                (Tok::RBrace, "}")
            ]
        );
        assert_eq!(kinds("10.0.0.5..10.0.0.9")[0], (Tok::Word, "10.0.0.5"));
        assert_eq!(
            kinds("fe80::1 -"),
            vec![(Tok::Word, "fe80::1"), (Tok::Arith, "-")]
        );
        assert_eq!(kinds("x[1:2,-1]")[2], (Tok::Word, "1:2"));
    }

    #[test]
    fn strings_and_escapes() {
        let t = lex(r#""a\"b\\c\x41\101\n\u00b7""#).unwrap();
        assert_eq!(t[0].tok, Tok::Str(b"a\"b\\cAA\n\xc2\xb7".to_vec()));
        let t = lex(r#"r"\x61\"b""#).unwrap();
        assert_eq!(t[0].tok, Tok::Str(br#"\x61\"b"#.to_vec()));
        assert_eq!(lex("'P'").unwrap()[0].tok, Tok::Char(b'P'));
        assert_eq!(lex(r"'\x50'").unwrap()[0].tok, Tok::Char(b'P'));
        assert_eq!(lex(r"'\n'").unwrap()[0].tok, Tok::Char(b'\n'));
    }

    #[test]
    fn lexer_errors() {
        let e = lex(r#"x contains "a"#).unwrap_err();
        assert_eq!(
            e.message,
            "The final quote was missing from a quoted string."
        );
        assert_eq!(e.span, Some((11, 12)));
        let e = lex(r#"x contains "\q""#).unwrap_err();
        assert_eq!(e.message, r"\q is not a valid character escape sequence");
        assert_eq!(e.span, Some((12, 14)));
        let e = lex("x == ·").unwrap_err();
        assert_eq!(
            e.message,
            "Non-printable ASCII characters may only appear inside double-quotes."
        );
        assert_eq!(e.span, Some((5, 7)));
        assert!(lex("'ab'").is_err());
        assert!(lex("'a").is_err());
        assert!(lex(r#""\"#).is_err());
    }

    #[test]
    fn punctuation() {
        assert_eq!(
            kinds("@ $ ; ^ = #")
                .iter()
                .filter(|(t, _)| *t == Tok::Other)
                .count(),
            6
        );
        assert_eq!(
            kinds("a + b * c % d")
                .iter()
                .filter(|(t, _)| *t == Tok::Arith)
                .count(),
            3
        );
    }
}
