//! Recursive-descent parser for the Wireshark 4.0 display-filter grammar
//! (SEMANTICS.md §7.1): `or` < `and` < `not` < comparisons; keywords are
//! lower-case only; sets need commas.

use super::ast::{CmpOp, Expr, Operand, Quant, SetItem, SliceRange};
use super::lexer::{lex, Tok, Token};
use super::{FilterError, Span};

/// Nesting deeper than this is an error rather than a stack overflow.
pub const MAX_DEPTH: usize = 200;

const KEYWORDS: &[&str] = &[
    "and", "or", "not", "in", "contains", "matches", "any", "all", "eq", "ne", "gt", "lt", "ge",
    "le", "any_eq", "all_ne", "all_eq", "any_ne",
];

pub fn is_keyword(w: &str) -> bool {
    KEYWORDS.contains(&w)
}

/// Parse filter text. An empty (or blank) filter is `Ok(None)`: it matches everything.
pub fn parse(src: &str) -> Result<Option<Expr>, FilterError> {
    let toks = lex(src)?;
    if toks.is_empty() {
        return Ok(None);
    }
    let mut p = Parser {
        src,
        toks,
        pos: 0,
        depth: 0,
    };
    let e = p.expr()?;
    if p.pos < p.toks.len() {
        return Err(p.unexpected());
    }
    Ok(Some(e))
}

struct Parser<'s> {
    src: &'s str,
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
}

type R<T> = Result<T, FilterError>;

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }
    fn peek_at(&self, k: usize) -> Option<&Token> {
        self.toks.get(self.pos + k)
    }
    fn text(&self, t: &Token) -> &str {
        t.text(self.src)
    }
    /// The current token is a word spelled `w`.
    fn is_word(&self, w: &str) -> bool {
        self.peek()
            .is_some_and(|t| t.tok == Tok::Word && self.text(t) == w)
    }
    fn is_word_at(&self, k: usize, w: &str) -> bool {
        self.peek_at(k)
            .is_some_and(|t| t.tok == Tok::Word && self.text(t) == w)
    }
    fn bump(&mut self) -> Token {
        let t = self.toks[self.pos].clone();
        self.pos += 1;
        t
    }
    /// "X was unexpected" for the current token, or "unexpected end".
    fn unexpected(&self) -> FilterError {
        match self.peek() {
            Some(t) => FilterError::at(
                format!("\"{}\" was unexpected in this context.", self.text(t)),
                t.span,
            ),
            None => FilterError::new("Unexpected end of filter expression."),
        }
    }
    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let span = self.peek().map(|t| t.span).unwrap_or(Span(0, 0));
            return Err(FilterError::at(
                format!("The filter is nested too deeply (more than {MAX_DEPTH} levels)."),
                span,
            ));
        }
        Ok(())
    }

    /// An `or` chain, collected into one node (see `ast`): no recursion over its length.
    fn expr(&mut self) -> R<Expr> {
        let mut v = vec![self.and_expr()?];
        while self.is_word("or") || self.peek().is_some_and(|t| t.tok == Tok::OrOr) {
            self.bump();
            v.push(self.and_expr()?);
        }
        Ok(if v.len() == 1 {
            v.pop().unwrap()
        } else {
            Expr::Or(v)
        })
    }

    fn and_expr(&mut self) -> R<Expr> {
        let mut v = vec![self.unary()?];
        while self.is_word("and") || self.peek().is_some_and(|t| t.tok == Tok::AndAnd) {
            self.bump();
            v.push(self.unary()?);
        }
        Ok(if v.len() == 1 {
            v.pop().unwrap()
        } else {
            Expr::And(v)
        })
    }

    fn unary(&mut self) -> R<Expr> {
        if self.is_word("not") || self.peek().is_some_and(|t| t.tok == Tok::Bang) {
            self.bump();
            self.enter()?;
            let e = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(e)));
        }
        if self.peek().is_some_and(|t| t.tok == Tok::LParen) {
            self.bump();
            self.enter()?;
            let e = self.expr()?;
            self.depth -= 1;
            match self.peek() {
                Some(t) if t.tok == Tok::RParen => {
                    self.bump();
                    return Ok(e);
                }
                _ => return Err(self.unexpected()),
            }
        }
        self.test()
    }

    // Not inlined into `unary`, which recurses once per nesting level.
    #[inline(never)]
    fn test(&mut self) -> R<Expr> {
        let quant = if self.is_word("any") {
            self.bump();
            Some(Quant::Any)
        } else if self.is_word("all") {
            self.bump();
            Some(Quant::All)
        } else {
            None
        };
        let lhs = self.operand()?;
        let Some(t) = self.peek().cloned() else {
            return match quant {
                Some(_) => Err(self.unexpected()),
                None => Ok(Expr::Test(lhs)),
            };
        };
        let text = self.text(&t).to_string();
        let cmp = match t.tok {
            Tok::Rel => CmpOp::from_text(&text),
            Tok::Word => CmpOp::from_text(&text),
            _ => None,
        };
        if let Some(op) = cmp {
            self.bump();
            let rhs = self.operand()?;
            return Ok(Expr::Compare {
                quant,
                op,
                lhs,
                rhs,
                op_span: t.span,
            });
        }
        if quant.is_some() {
            return Err(self.unexpected());
        }
        if t.tok == Tok::Word && text == "contains" {
            self.bump();
            let rhs = self.operand()?;
            return Ok(Expr::Contains {
                lhs,
                rhs,
                op_span: t.span,
            });
        }
        if t.tok == Tok::Tilde || (t.tok == Tok::Word && text == "matches") {
            self.bump();
            let rhs = self.operand()?;
            return Ok(Expr::Matches {
                lhs,
                rhs,
                op_span: t.span,
            });
        }
        if t.tok == Tok::Word && text == "in" {
            self.bump();
            let items = self.set()?;
            return Ok(Expr::In {
                lhs,
                negated: false,
                items,
                op_span: t.span,
            });
        }
        if t.tok == Tok::Word && text == "not" && self.is_word_at(1, "in") {
            self.bump();
            let t2 = self.bump();
            let items = self.set()?;
            return Ok(Expr::In {
                lhs,
                negated: true,
                items,
                op_span: Span(t.span.0, t2.span.1),
            });
        }
        Ok(Expr::Test(lhs))
    }

    fn set(&mut self) -> R<Vec<SetItem>> {
        match self.peek() {
            Some(t) if t.tok == Tok::LBrace => {
                self.bump();
            }
            _ => return Err(self.unexpected()),
        }
        let mut items = Vec::new();
        loop {
            let a = self.operand()?;
            let item = if self.peek().is_some_and(|t| t.tok == Tok::DotDot) {
                self.bump();
                SetItem::Range(a, self.operand()?)
            } else {
                SetItem::One(a)
            };
            items.push(item);
            match self.peek().map(|t| &t.tok) {
                Some(Tok::Comma) => {
                    self.bump();
                }
                Some(Tok::RBrace) => {
                    self.bump();
                    return Ok(items);
                }
                _ => return Err(self.unexpected()),
            }
        }
    }

    /// atom ('&' atom)*
    fn operand(&mut self) -> R<Operand> {
        let mut v = self.atom()?;
        while self.peek().is_some_and(|t| t.tok == Tok::Amp) {
            self.bump();
            let m = self.atom()?;
            let span = Span(v.span().0, m.span().1);
            v = Operand::BitAnd(Box::new(v), Box::new(m), span);
        }
        if let Some(t) = self.peek() {
            if t.tok == Tok::Arith {
                return Err(FilterError::at(
                    format!(
                        "Arithmetic (\"{}\") is not supported by hs-tui's display filters.",
                        self.text(t)
                    ),
                    t.span,
                ));
            }
        }
        Ok(v)
    }

    fn atom(&mut self) -> R<Operand> {
        let Some(t) = self.peek().cloned() else {
            return Err(self.unexpected());
        };
        let mut v = match &t.tok {
            Tok::Word if !is_keyword(self.text(&t)) => {
                self.bump();
                let name = self.text(&t).to_string();
                if self.peek().is_some_and(|n| n.tok == Tok::LParen) {
                    self.call(name, t.span)?
                } else {
                    Operand::Word(name, t.span)
                }
            }
            Tok::Str(b) => {
                self.bump();
                Operand::Str(b.clone(), t.span)
            }
            Tok::Char(c) => {
                self.bump();
                Operand::Char(*c, t.span)
            }
            // `{ value }` groups a value (for arithmetic in Wireshark); it means the value.
            Tok::LBrace => {
                self.bump();
                self.enter()?;
                let v = self.operand()?;
                self.depth -= 1;
                match self.peek() {
                    Some(r) if r.tok == Tok::RBrace => {
                        self.bump();
                        return Ok(v);
                    }
                    _ => return Err(self.unexpected()),
                }
            }
            _ => return Err(self.unexpected()),
        };
        if self.peek().is_some_and(|n| n.tok == Tok::LBracket) {
            self.bump();
            let mut ranges = Vec::new();
            loop {
                let Some(r) = self.peek().cloned() else {
                    return Err(self.unexpected());
                };
                if r.tok != Tok::Word {
                    return Err(self.unexpected());
                }
                self.bump();
                ranges.push(parse_range(self.text(&r)).ok_or_else(|| {
                    FilterError::at(
                        format!("\"{}\" is not a valid slice range.", self.text(&r)),
                        r.span,
                    )
                })?);
                match self.peek().map(|t| &t.tok) {
                    Some(Tok::Comma) => {
                        self.bump();
                    }
                    Some(Tok::RBracket) => {
                        let end = self.bump().span.1;
                        v = Operand::Slice(Box::new(v), ranges, Span(t.span.0, end));
                        break;
                    }
                    _ => return Err(self.unexpected()),
                }
            }
        }
        Ok(v)
    }

    fn call(&mut self, name: String, name_span: Span) -> R<Operand> {
        self.bump(); // (
        self.enter()?;
        let mut args = Vec::new();
        if self.peek().is_some_and(|t| t.tok == Tok::RParen) {
            let end = self.bump().span.1;
            self.depth -= 1;
            return Ok(Operand::Call(name, args, Span(name_span.0, end)));
        }
        loop {
            args.push(self.operand()?);
            match self.peek().map(|t| &t.tok) {
                Some(Tok::Comma) => {
                    self.bump();
                }
                Some(Tok::RParen) => {
                    let end = self.bump().span.1;
                    self.depth -= 1;
                    return Ok(Operand::Call(name, args, Span(name_span.0, end)));
                }
                _ => return Err(self.unexpected()),
            }
        }
    }
}

fn num(s: &str) -> Option<i64> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: i64 = digits.parse().ok()?;
    Some(if neg { -v } else { v })
}

/// `i`, `i:j`, `i-j`, `:j`, `i:` (with optional minus signs on offsets).
fn parse_range(s: &str) -> Option<SliceRange> {
    if let Some(len) = s.strip_prefix(':') {
        return Some(SliceRange::Len(0, len.parse().ok()?));
    }
    // The start may itself begin with '-'.
    let body_at = usize::from(s.starts_with('-'));
    match s[body_at..].find([':', '-']).map(|k| k + body_at) {
        None => Some(SliceRange::Len(num(s)?, 1)),
        Some(k) => {
            let start = num(&s[..k])?;
            let rest = &s[k + 1..];
            if s.as_bytes()[k] == b':' {
                if rest.is_empty() {
                    Some(SliceRange::ToEnd(start))
                } else {
                    Some(SliceRange::Len(start, rest.parse().ok()?))
                }
            } else {
                Some(SliceRange::End(start, num(rest)?))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Expr {
        parse(s).unwrap_or_else(|e| panic!("{s}: {e}")).unwrap()
    }
    fn err(s: &str) -> FilterError {
        parse(s).unwrap_err()
    }
    fn canon(s: &str) -> String {
        p(s).to_string()
    }

    #[test]
    fn precedence() {
        assert_eq!(canon("tcp and udp or arp"), "tcp and udp or arp");
        assert!(matches!(p("tcp and udp or arp"), Expr::Or(..)));
        assert!(matches!(p("tcp or udp and arp"), Expr::Or(..)));
        assert_eq!(canon("tcp or (udp or arp)"), "tcp or (udp or arp)");
        assert_eq!(canon("tcp or udp or arp"), "tcp or udp or arp");
        assert!(matches!(p("tcp or udp or arp"), Expr::Or(ref v) if v.len() == 3));
        assert!(
            matches!(p("a and b and c or d"), Expr::Or(ref v) if v.len() == 2 && matches!(v[0], Expr::And(ref w) if w.len() == 3))
        );
        assert_eq!(canon("(tcp or udp) and arp"), "(tcp or udp) and arp");
        assert_eq!(canon("!tcp && udp || !(arp)"), "not tcp and udp or not arp");
        assert_eq!(canon("not (tcp and udp)"), "not (tcp and udp)");
        assert!(matches!(p("not tcp.port == 80"), Expr::Not(..)));
        assert!(matches!(p("not not tcp"), Expr::Not(ref e) if matches!(**e, Expr::Not(_))));
    }

    #[test]
    fn comparisons() {
        assert_eq!(canon("tcp.port eq 80"), "tcp.port == 80");
        assert_eq!(canon("tcp.port any_eq 80"), "tcp.port == 80");
        assert_eq!(canon("tcp.port all_ne 80"), "tcp.port != 80");
        assert_eq!(canon("tcp.port ~= 80"), "tcp.port !== 80");
        assert_eq!(canon("tcp.port all_eq 80"), "tcp.port === 80");
        assert_eq!(canon("all ip.addr != 10.0.0.1"), "all ip.addr != 10.0.0.1");
        assert_eq!(canon("any tcp.port ge 80"), "any tcp.port >= 80");
        assert_eq!(
            canon("tcp.flags & 0x12 == 0x12"),
            "tcp.flags & 0x12 == 0x12"
        );
        assert_eq!(canon("frame ~ \"a\\x00b\""), "frame matches \"a\\x00b\"");
        assert_eq!(
            canon("tcp.payload contains 16:03"),
            "tcp.payload contains 16:03"
        );
        assert_eq!(
            canon("tcp.port in{80,443..445}"),
            "tcp.port in {80, 443..445}"
        );
        assert_eq!(canon("tcp.port not in {80}"), "tcp.port not in {80}");
        assert_eq!(
            canon("tcp.payload[0:2] == 16:03"),
            "tcp.payload[0:2] == 16:03"
        );
        assert_eq!(
            canon("tcp.payload[-1, 1-2, :3, 4:, 5]"),
            "tcp.payload[-1:1,1-2,0:3,4:,5:1]"
        );
        assert_eq!(canon("len(tcp.payload) > 2"), "len(tcp.payload) > 2");
        assert_eq!(canon("tcp.port == 'P'"), "tcp.port == 'P'");
    }

    #[test]
    fn errors_like_tshark() {
        let e = err("tcp xor udp");
        assert_eq!(e.message, "\"xor\" was unexpected in this context.");
        assert_eq!(e.span, Some((4, 7)));
        assert_eq!(err("tcp.port = 80").span, Some((9, 10)));
        assert_eq!(
            err("tcp.port in {80 443}").message,
            "\"443\" was unexpected in this context."
        );
        assert_eq!(
            err("tcp.port in {80,}").message,
            "\"}\" was unexpected in this context."
        );
        assert_eq!(
            err("tcp.port in {}").message,
            "\"}\" was unexpected in this context."
        );
        assert_eq!(
            err("tcp.port in {..80}").message,
            "\"..\" was unexpected in this context."
        );
        assert_eq!(
            err("tcp.port in 80").message,
            "\"80\" was unexpected in this context."
        );
        assert_eq!(
            err("tcp.port >= 80 and <= 90").message,
            "\"<=\" was unexpected in this context."
        );
        assert_eq!(err("()").span, Some((1, 2)));
        assert_eq!(err("(tcp))").span, Some((5, 6)));
        assert_eq!(
            err("tcp AND udp").message,
            "\"AND\" was unexpected in this context."
        );
        assert_eq!(err("tcp ^^ udp").span, Some((4, 5)));
        for s in [
            "tcp and",
            "(tcp",
            "{",
            "not",
            "!",
            "any tcp",
            "tcp.port ==",
            "tcp.port in {80",
            "tcp.port == 80 or",
        ] {
            let e = err(s);
            assert_eq!(e.message, "Unexpected end of filter expression.", "{s}");
            assert_eq!(e.span, None);
        }
        assert!(err("tcp.port + 1 == 81").message.starts_with("Arithmetic"));
        assert_eq!(canon("tcp.port == {80}"), "tcp.port == 80");
        assert_eq!(canon("{tcp.port} == 80"), "tcp.port == 80");
    }

    #[test]
    fn empty_filter() {
        assert_eq!(parse("").unwrap(), None);
        assert_eq!(parse("   ").unwrap(), None);
    }

    #[test]
    fn depth_limit() {
        let deep = "(".repeat(10_000) + "tcp" + &")".repeat(10_000);
        assert!(err(&deep).message.contains("nested too deeply"));
        let nots = "!".repeat(10_000) + "tcp";
        assert!(err(&nots).message.contains("nested too deeply"));
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range("3"), Some(SliceRange::Len(3, 1)));
        assert_eq!(parse_range("-3"), Some(SliceRange::Len(-3, 1)));
        assert_eq!(parse_range("1:2"), Some(SliceRange::Len(1, 2)));
        assert_eq!(parse_range("1-2"), Some(SliceRange::End(1, 2)));
        assert_eq!(parse_range("-3--1"), Some(SliceRange::End(-3, -1)));
        assert_eq!(parse_range(":2"), Some(SliceRange::Len(0, 2)));
        assert_eq!(parse_range("4:"), Some(SliceRange::ToEnd(4)));
        assert_eq!(parse_range("x"), None);
        assert_eq!(parse_range("1:x"), None);
    }
}
