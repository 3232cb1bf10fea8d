//! The parsed filter: a syntax tree with spans, and its canonical printing.
//!
//! Printing a tree (`Display`) gives filter text that parses back to the same
//! tree: operators are printed in their canonical spelling (`==`, `and`),
//! strings with escapes, and parentheses exactly where precedence needs them.
//!
//! `and`/`or` chains are n-ary (one node holding every operand), not nested
//! binary nodes: a chain of 20,000 terms is then one level deep, so the derived
//! `Drop`, `Clone`, `PartialEq` and `Debug`, the printer and the compiler never
//! recurse over its length. Only parentheses and `not` nest, and the parser
//! limits those (`parser::MAX_DEPTH`).

use super::Span;
use std::fmt;

/// A boolean expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// `a or b or ...`: two or more operands.
    Or(Vec<Expr>),
    /// `a and b and ...`: two or more operands.
    And(Vec<Expr>),
    Not(Box<Expr>),
    /// A bare value: existence of a field or protocol, or `x & mask` non-zero.
    Test(Operand),
    /// `[any|all] lhs OP rhs`.
    Compare {
        quant: Option<Quant>,
        op: CmpOp,
        lhs: Operand,
        rhs: Operand,
        op_span: Span,
    },
    Contains {
        lhs: Operand,
        rhs: Operand,
        op_span: Span,
    },
    Matches {
        lhs: Operand,
        rhs: Operand,
        op_span: Span,
    },
    /// `lhs in {...}` or, with `negated`, `lhs not in {...}`.
    In {
        lhs: Operand,
        negated: bool,
        items: Vec<SetItem>,
        op_span: Span,
    },
}

/// Comparison operators. `any_eq` is `Eq` and `all_ne` is `Ne`; the `any`/`all`
/// prefixes are kept apart in `Expr::Compare::quant`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    /// `==`, `eq`, `any_eq`: some occurrence is equal.
    Eq,
    /// `!=`, `ne`, `all_ne`: the field exists and no occurrence is equal.
    Ne,
    /// `===`, `all_eq`: the field exists and every occurrence is equal.
    AllEq,
    /// `!==`, `~=`, `any_ne`: some occurrence differs.
    AnyNe,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CmpOp {
    pub fn from_text(s: &str) -> Option<CmpOp> {
        Some(match s {
            "==" | "eq" | "any_eq" => CmpOp::Eq,
            "!=" | "ne" | "all_ne" => CmpOp::Ne,
            "===" | "all_eq" => CmpOp::AllEq,
            "!==" | "~=" | "any_ne" => CmpOp::AnyNe,
            ">" | "gt" => CmpOp::Gt,
            ">=" | "ge" => CmpOp::Ge,
            "<" | "lt" => CmpOp::Lt,
            "<=" | "le" => CmpOp::Le,
            _ => return None,
        })
    }
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::AllEq => "===",
            CmpOp::AnyNe => "!==",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quant {
    Any,
    All,
}

/// A value: a field or a literal (the compiler decides which a word is),
/// possibly sliced, masked or passed through a function.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// An unquoted word: a field or protocol name, or a literal such as `80`,
    /// `10.0.0.0/8`, `00:11:22:33:44:55`, `TRUE`.
    Word(String, Span),
    /// A quoted string, escapes decoded.
    Str(Vec<u8>, Span),
    /// A character constant, `'P'`.
    Char(u8, Span),
    /// `value[ranges]`.
    Slice(Box<Operand>, Vec<SliceRange>, Span),
    /// `value & mask`.
    BitAnd(Box<Operand>, Box<Operand>, Span),
    /// `name(args)`.
    Call(String, Vec<Operand>, Span),
}

impl Operand {
    pub fn span(&self) -> Span {
        match self {
            Operand::Word(_, s)
            | Operand::Str(_, s)
            | Operand::Char(_, s)
            | Operand::Slice(_, _, s)
            | Operand::BitAnd(_, _, s)
            | Operand::Call(_, _, s) => *s,
        }
    }
}

/// One range of a slice, as Wireshark writes them: `[i:j]` (start, length),
/// `[i-j]` (start, inclusive end), `[i]`, `[:j]`, `[i:]`. Negative offsets
/// count from the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SliceRange {
    /// `i:len` (also `i`, which is `i:1`, and `:len`, which is `0:len`).
    Len(i64, u64),
    /// `i-j`, both ends included.
    End(i64, i64),
    /// `i:`: to the end.
    ToEnd(i64),
}

#[derive(Clone, Debug, PartialEq)]
pub enum SetItem {
    One(Operand),
    Range(Operand, Operand),
}

fn write_bytes_quoted(f: &mut fmt::Formatter<'_>, b: &[u8]) -> fmt::Result {
    f.write_str("\"")?;
    for &c in b {
        match c {
            b'"' => f.write_str("\\\"")?,
            b'\\' => f.write_str("\\\\")?,
            0x20..=0x7e => write!(f, "{}", c as char)?,
            _ => write!(f, "\\x{c:02x}")?,
        }
    }
    f.write_str("\"")
}

impl fmt::Display for SliceRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SliceRange::Len(s, l) => write!(f, "{s}:{l}"),
            SliceRange::End(s, e) => write!(f, "{s}-{e}"),
            SliceRange::ToEnd(s) => write!(f, "{s}:"),
        }
    }
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Word(w, _) => f.write_str(w),
            Operand::Str(b, _) => write_bytes_quoted(f, b),
            Operand::Char(c, _) => match *c {
                b'\'' => f.write_str("'\\''"),
                b'\\' => f.write_str("'\\\\'"),
                0x20..=0x7e => write!(f, "'{}'", *c as char),
                c => write!(f, "'\\x{c:02x}'"),
            },
            Operand::Slice(v, ranges, _) => {
                write!(f, "{v}[")?;
                for (i, r) in ranges.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{r}")?;
                }
                f.write_str("]")
            }
            Operand::BitAnd(a, b, _) => write!(f, "{a} & {b}"),
            Operand::Call(name, args, _) => {
                write!(f, "{name}(")?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str(")")
            }
        }
    }
}

impl fmt::Display for SetItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetItem::One(v) => write!(f, "{v}"),
            SetItem::Range(a, b) => write!(f, "{a}..{b}"),
        }
    }
}

impl Expr {
    fn is_or(&self) -> bool {
        matches!(self, Expr::Or(..))
    }
    fn is_binary(&self) -> bool {
        matches!(self, Expr::Or(..) | Expr::And(..))
    }
}

struct Paren<'a>(&'a Expr, bool);

impl fmt::Display for Paren<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.1 {
            write!(f, "({})", self.0)
        } else {
            write!(f, "{}", self.0)
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // A chain is one node, so an operand that is itself a chain of the
            // same operator was parenthesized: keep the parentheses to keep its shape.
            Expr::Or(v) => {
                for (i, e) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" or ")?;
                    }
                    write!(f, "{}", Paren(e, e.is_or()))?;
                }
                Ok(())
            }
            Expr::And(v) => {
                for (i, e) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" and ")?;
                    }
                    write!(f, "{}", Paren(e, e.is_binary()))?;
                }
                Ok(())
            }
            Expr::Not(e) => write!(f, "not {}", Paren(e, e.is_binary())),
            Expr::Test(v) => write!(f, "{v}"),
            Expr::Compare {
                quant,
                op,
                lhs,
                rhs,
                ..
            } => {
                match quant {
                    Some(Quant::Any) => f.write_str("any ")?,
                    Some(Quant::All) => f.write_str("all ")?,
                    None => {}
                }
                write!(f, "{lhs} {} {rhs}", op.symbol())
            }
            Expr::Contains { lhs, rhs, .. } => write!(f, "{lhs} contains {rhs}"),
            Expr::Matches { lhs, rhs, .. } => write!(f, "{lhs} matches {rhs}"),
            Expr::In {
                lhs,
                negated,
                items,
                ..
            } => {
                write!(f, "{lhs} {}in {{", if *negated { "not " } else { "" })?;
                for (i, it) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{it}")?;
                }
                f.write_str("}")
            }
        }
    }
}
