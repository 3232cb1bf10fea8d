//! Type checking and compilation: the syntax tree against the field
//! registry, into evaluation nodes. Every error tshark 4.0.17 reports when
//! it compiles a filter is reported here, with tshark's wording where we
//! know it (SEMANTICS.md §7.5).

use super::ast::{CmpOp, Expr, Operand, Quant, SetItem};
use super::eval::{Item, Layer, Lit, Node, Rel, Rhs, Src};
use super::protocols;
use super::{FilterError, Span};
use crate::fields::{self, FieldType};
use std::net::{Ipv4Addr, Ipv6Addr};

type R<T> = Result<T, FilterError>;

/// A value's type as the filter engine sees it (Wireshark's FT_* families).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    /// Unsigned integer of this many bytes.
    UInt(u8),
    Int,
    Bool,
    Time,
    V4,
    V6,
    Mac,
    Str,
    Bytes,
    /// FT_NONE: present or absent, nothing to compare.
    Label,
    Proto,
    FrameNum,
}

impl Ty {
    fn of(ft: FieldType) -> Ty {
        match ft {
            FieldType::UInt { max, .. } => Ty::UInt(match max {
                0..=0xff => 1,
                0x100..=0xffff => 2,
                0x1_0000..=0xffff_ffff => 4,
                _ => 8,
            }),
            FieldType::Int => Ty::Int,
            FieldType::Bool => Ty::Bool,
            // frame.time_epoch is an FT_RELATIVE_TIME in 4.0.
            FieldType::RelTime | FieldType::AbsTime => Ty::Time,
            FieldType::Ipv4 => Ty::V4,
            FieldType::Ipv6 => Ty::V6,
            FieldType::Mac => Ty::Mac,
            FieldType::Str => Ty::Str,
            FieldType::Bytes => Ty::Bytes,
            FieldType::None => Ty::Label,
            FieldType::Protocol => Ty::Proto,
            FieldType::FrameNum => Ty::FrameNum,
        }
    }

    /// Wireshark 4.0's name for the type, as its error messages print it.
    pub fn name(self) -> &'static str {
        match self {
            Ty::UInt(1) => "Unsigned integer (1 byte)",
            Ty::UInt(2) => "Unsigned integer (2 bytes)",
            Ty::UInt(4) => "Unsigned integer (4 bytes)",
            Ty::UInt(_) => "Unsigned integer (8 bytes)",
            Ty::Int => "Signed integer (4 bytes)",
            Ty::Bool => "Boolean",
            Ty::Time => "Time offset",
            Ty::V4 => "IPv4 address",
            Ty::V6 => "IPv6 address",
            Ty::Mac => "Ethernet or other MAC address",
            Ty::Str => "Character string",
            Ty::Bytes => "Byte sequence",
            Ty::Label => "Label",
            Ty::Proto => "Protocol",
            Ty::FrameNum => "Frame number",
        }
    }

    fn ft_name(self) -> &'static str {
        match self {
            Ty::UInt(1) => "FT_UINT8",
            Ty::UInt(2) => "FT_UINT16",
            Ty::UInt(4) => "FT_UINT32",
            Ty::UInt(_) => "FT_UINT64",
            Ty::Int => "FT_INT32",
            Ty::Bool => "FT_BOOLEAN",
            Ty::Time => "FT_RELATIVE_TIME",
            Ty::V4 => "FT_IPv4",
            Ty::V6 => "FT_IPv6",
            Ty::Mac => "FT_ETHER",
            Ty::Str => "FT_STRING",
            Ty::Bytes => "FT_BYTES",
            Ty::Label => "FT_NONE",
            Ty::Proto => "FT_PROTOCOL",
            Ty::FrameNum => "FT_FRAMENUM",
        }
    }

    fn max(self) -> u64 {
        match self {
            Ty::UInt(1) => u8::MAX as u64,
            Ty::UInt(2) => u16::MAX as u64,
            Ty::UInt(4) | Ty::FrameNum => u32::MAX as u64,
            _ => u64::MAX,
        }
    }

    /// Types whose values can be compared with each other.
    fn family(self) -> u8 {
        match self {
            Ty::UInt(_) | Ty::FrameNum => 0,
            Ty::Int => 1,
            Ty::Bool => 2,
            Ty::Time => 3,
            Ty::V4 => 4,
            Ty::V6 => 5,
            Ty::Mac | Ty::Bytes | Ty::Proto => 6,
            Ty::Str => 7,
            Ty::Label => 8,
        }
    }

    fn bytes_like(self) -> bool {
        matches!(self, Ty::Str | Ty::Bytes | Ty::Mac | Ty::Proto)
    }
}

/// A resolved value: where it comes from, its type and how to name it in errors.
struct Typed {
    src: Src,
    ty: Ty,
    name: String,
    span: Span,
}

impl Typed {
    /// tshark's error for a value whose type the operator does not take.
    fn cannot_participate(&self, op: &str) -> FilterError {
        FilterError::at(
            format!(
                "{} (type={}) cannot participate in {op} comparison.",
                self.name,
                self.ty.name()
            ),
            self.span,
        )
    }
}

/// What a name resolves to.
enum Named {
    Field(&'static fields::Field),
    App(protocols::AppProto),
}

fn resolve(name: &str) -> Option<Named> {
    if let Some(f) = fields::by_name(name) {
        return Some(Named::Field(f));
    }
    protocols::lookup(name).map(Named::App)
}

/// The known field or protocol name nearest to `name`, for "did you mean".
pub fn suggest(name: &str) -> Option<String> {
    // Numbers, addresses and other literals get no suggestion.
    if !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        return None;
    }
    let lower = name.to_ascii_lowercase();
    if lower != name && resolve(&lower).is_some() {
        return Some(lower);
    }
    // Known names are short: a long word is no typo of one, and the distance is
    // quadratic in the word's length (a pasted 100 kB word took 0.8 s).
    if name.len() > fields::MAX_SUGGEST_LEN {
        return None;
    }
    let limit = |n: &str| if n.len() <= 4 { 1 } else { 2.max(n.len() / 5) };
    let names = fields::FIELDS
        .iter()
        .map(|f| f.name)
        .chain(protocols::NAMES.iter().map(|(n, _)| *n));
    names
        // The distance is at least the difference in length: skip those too far apart.
        .filter(|n| n.len().abs_diff(name.len()) <= limit(n))
        .map(|n| (osa_distance(name, n), n))
        .filter(|&(d, n)| d > 0 && d <= limit(n))
        .min_by_key(|&(d, _)| d)
        .map(|(_, n)| n.to_string())
}

/// Edit distance counting an adjacent transposition as one edit ("tsl" -> "tls").
fn osa_distance(a: &str, b: &str) -> usize {
    #[cfg(test)]
    fields::DISTANCES.with(|c| c.set(c.get() + 1));
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        d[i * w] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(w) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    d[a.len() * w + b.len()]
}

pub struct Compiler<'s> {
    pub src: &'s str,
}

fn bytes_src(t: Typed) -> R<Typed> {
    // A protocol compared, searched or sliced is read as its bytes.
    if t.ty != Ty::Proto {
        return Ok(t);
    }
    let src = match t.src {
        Src::Field(f) => match Layer::of(f.name) {
            Some(l) => Src::Layer(l),
            None => {
                return Err(FilterError::at(
                    format!("hs-tui cannot read the bytes of the {} protocol.", f.name),
                    t.span,
                ));
            }
        },
        other => other,
    };
    Ok(Typed { src, ..t })
}

impl Compiler<'_> {
    fn text(&self, s: Span) -> &str {
        self.src.get(s.0..s.1).unwrap_or("")
    }

    pub fn expr(&self, e: &Expr) -> R<Node> {
        Ok(match e {
            // A loop over the chain, kept plain (no closures or iterator adaptors): this
            // function recurses once per nesting level, and its frame must stay small.
            Expr::Or(v) | Expr::And(v) => {
                let or = matches!(e, Expr::Or(_));
                let mut nodes = Vec::with_capacity(v.len());
                for x in v {
                    nodes.push(self.expr(x)?);
                }
                Node::chain(or, nodes)
            }
            Expr::Not(a) => {
                // `not not x` is `x`: a run of `not`s compiles to at most one.
                let (mut inner, mut odd) = (&**a, true);
                while let Expr::Not(b) = inner {
                    (inner, odd) = (b, !odd);
                }
                let n = self.expr(inner)?;
                if odd {
                    Node::Not(Box::new(n))
                } else {
                    n
                }
            }
            _ => self.leaf(e)?,
        })
    }

    /// Everything but `and`, `or` and `not`: kept out of `expr`, which recurses once per
    /// nesting level, so that its stack frame stays small (200 levels of nesting in a
    /// 2 MiB thread stack, debug build).
    #[inline(never)]
    fn leaf(&self, e: &Expr) -> R<Node> {
        Ok(match e {
            Expr::Or(_) | Expr::And(_) | Expr::Not(_) => self.expr(e)?,
            Expr::Test(v) => self.test(v)?,
            Expr::Compare {
                quant,
                op,
                lhs,
                rhs,
                op_span,
            } => {
                let op_text = self.text(*op_span);
                let l = self.value(lhs, &format!("Left side of \"{op_text}\" expression"))?;
                if l.ty == Ty::Label {
                    return Err(l.cannot_participate(op_text));
                }
                let l = bytes_src(l)?;
                let (all, rel) = match (op, quant) {
                    (CmpOp::Eq, Some(Quant::All)) => (true, Rel::Eq),
                    (CmpOp::Eq, _) => (false, Rel::Eq),
                    (CmpOp::Ne, Some(Quant::Any)) => (false, Rel::Ne),
                    (CmpOp::Ne, _) => (true, Rel::Ne),
                    (CmpOp::AllEq, Some(Quant::Any)) => (false, Rel::Eq),
                    (CmpOp::AllEq, _) => (true, Rel::Eq),
                    (CmpOp::AnyNe, Some(Quant::All)) => (true, Rel::Ne),
                    (CmpOp::AnyNe, _) => (false, Rel::Ne),
                    (o, q) => (
                        q == &Some(Quant::All),
                        match o {
                            CmpOp::Gt => Rel::Gt,
                            CmpOp::Ge => Rel::Ge,
                            CmpOp::Lt => Rel::Lt,
                            _ => Rel::Le,
                        },
                    ),
                };
                let rhs = self.rhs(rhs, &l)?;
                Node::Cmp {
                    src: l.src,
                    all,
                    rel,
                    rhs,
                }
            }
            Expr::Contains { lhs, rhs, .. } => {
                let l = self.value(lhs, "Left side of contains expression")?;
                if !l.ty.bytes_like() {
                    return Err(l.cannot_participate("contains"));
                }
                let l = bytes_src(l)?;
                let needle = match self.rhs(rhs, &l)? {
                    Rhs::Lit(Lit::Bytes(b)) => b,
                    Rhs::Lit(Lit::Mac(m)) => m.to_vec(),
                    _ => {
                        return Err(FilterError::at(
                            "hs-tui supports only a literal on the right side of contains.",
                            rhs.span(),
                        ))
                    }
                };
                Node::Contains {
                    src: l.src,
                    needle: memchr::memmem::Finder::new(&needle).into_owned(),
                }
            }
            Expr::Matches { lhs, rhs, op_span } => {
                let op_text = self.text(*op_span);
                let l = self.value(lhs, &format!("Left side of {op_text} expression"))?;
                let Operand::Str(pattern, _) = rhs else {
                    return Err(FilterError::at(
                        "Matches requires a double quoted string on the right side.",
                        rhs.span(),
                    ));
                };
                let re = regex(pattern)?;
                if !matches!(l.ty, Ty::Str | Ty::Bytes | Ty::Proto) {
                    return Err(l.cannot_participate(op_text));
                }
                let l = bytes_src(l)?;
                Node::Matches { src: l.src, re }
            }
            Expr::In { lhs, items, .. } => {
                let l = match lhs {
                    Operand::Word(..)
                    | Operand::Slice(..)
                    | Operand::Call(..)
                    | Operand::BitAnd(..) => self.value(lhs, "").map_err(|e| {
                        if matches!(lhs, Operand::Word(w, _) if resolve(w).is_none()) {
                            FilterError::at(
                                "Only a field may be tested for membership in a set.",
                                lhs.span(),
                            )
                        } else {
                            e
                        }
                    })?,
                    _ => {
                        return Err(FilterError::at(
                            "Only a field may be tested for membership in a set.",
                            lhs.span(),
                        ))
                    }
                };
                if l.ty == Ty::Label {
                    return Err(l.cannot_participate("\"in\""));
                }
                let l = bytes_src(l)?;
                let mut out = Vec::with_capacity(items.len());
                for it in items {
                    out.push(match it {
                        SetItem::One(v) => match self.rhs(v, &l)? {
                            Rhs::Lit(x) => Item::One(x),
                            Rhs::Src(s) => Item::Src(s),
                        },
                        SetItem::Range(a, b) => Item::Range(self.lit(a, &l)?, self.lit(b, &l)?),
                    });
                }
                let node = Node::In {
                    src: l.src,
                    items: out,
                };
                match e {
                    Expr::In { negated: true, .. } => Node::Not(Box::new(node)),
                    _ => node,
                }
            }
        })
    }

    fn unknown_name(&self, w: &str, span: Span, message: String) -> FilterError {
        let mut e = FilterError::at(message, span);
        e.suggestion = suggest(w);
        e
    }

    /// A bare value used as a test.
    fn test(&self, v: &Operand) -> R<Node> {
        match v {
            Operand::Word(w, span) => match resolve(w) {
                Some(_) => Ok(Node::Exists(self.value(v, "")?.src)),
                None => Err(self.unknown_name(
                    w,
                    *span,
                    format!("{w} is neither a field nor a protocol name."),
                )),
            },
            Operand::Call(name, _, span) => {
                self.value(v, "")?;
                Err(FilterError::at(
                    "You cannot test whether a function is present.",
                    Span(span.0, span.0 + name.len()),
                ))
            }
            Operand::BitAnd(..) => Ok(Node::NonZero(self.value(v, "")?.src)),
            Operand::Slice(..) => Ok(Node::Exists(self.value(v, "")?.src)),
            Operand::Str(_, span) | Operand::Char(_, span) => Err(FilterError::at(
                format!(
                    "{} is neither a field nor a protocol name.",
                    self.text(*span)
                ),
                *span,
            )),
        }
    }

    /// A value that must be a field, protocol, slice, mask or function
    /// (the left side of a relation). `what` starts the error for a literal.
    fn value(&self, v: &Operand, what: &str) -> R<Typed> {
        match v {
            Operand::Word(w, span) => match resolve(w) {
                Some(Named::Field(f)) => Ok(Typed {
                    src: Src::Field(f),
                    ty: Ty::of(f.ty),
                    name: w.clone(),
                    span: *span,
                }),
                Some(Named::App(a)) => Ok(Typed {
                    src: Src::App(a),
                    ty: Ty::Proto,
                    name: w.clone(),
                    span: *span,
                }),
                None => Err(self.unknown_name(
                    w,
                    *span,
                    format!("{what} must be a field or function, not {w}."),
                )),
            },
            Operand::Str(_, span) | Operand::Char(_, span) => Err(FilterError::at(
                format!(
                    "{what} must be a field or function, not {}.",
                    self.text(*span)
                ),
                *span,
            )),
            Operand::Slice(inner, ranges, span) => {
                let t = self.value(inner, what)?;
                if !t.ty.bytes_like() {
                    return Err(FilterError::at(
                        format!(
                            "\"{}\" is a {} and cannot be sliced into a sequence of bytes.",
                            t.name,
                            t.ty.name()
                        ),
                        t.span,
                    ));
                }
                let t = bytes_src(t)?;
                Ok(Typed {
                    src: Src::Slice(Box::new(t.src), ranges.clone()),
                    ty: Ty::Bytes,
                    name: self.text(*span).to_string(),
                    span: *span,
                })
            }
            Operand::BitAnd(a, m, span) => {
                // tshark takes an unknown name here for a constant: "Constant arithmetic ...".
                if let Operand::Word(w, wspan) = a.as_ref() {
                    if resolve(w).is_none() {
                        let mut e = self.unknown_name(w, *wspan, String::new());
                        e.message = "Constant arithmetic expression on the LHS is invalid.".into();
                        return Err(e);
                    }
                }
                let t = self.value(a, what)?;
                if matches!(t.ty, Ty::Time | Ty::Str | Ty::Label) {
                    return Err(FilterError::at(
                        format!("{} cannot &.", t.ty.ft_name()),
                        t.span,
                    ));
                }
                let t = bytes_src(t)?;
                let mask = self.lit(m, &t)?;
                Ok(Typed {
                    src: Src::Mask(Box::new(t.src), mask),
                    ty: t.ty,
                    name: t.name,
                    span: *span,
                })
            }
            Operand::Call(name, args, span) => self.call(name, args, *span),
        }
    }

    fn call(&self, name: &str, args: &[Operand], span: Span) -> R<Typed> {
        let name_span = Span(span.0, span.0 + name.len());
        let one = || -> R<&Operand> {
            match args {
                [a] => Ok(a),
                _ => Err(FilterError::at(
                    format!("Function {name}() takes exactly one argument."),
                    name_span,
                )),
            }
        };
        let typed = |src, ty| Typed {
            src,
            ty,
            name: self.text(span).to_string(),
            span,
        };
        match name {
            "len" => {
                let t = self.value(one()?, "Argument of len()")?;
                let fixed = match t.ty {
                    Ty::UInt(n) => Some(n as u64),
                    Ty::FrameNum => Some(4),
                    Ty::Int => Some(4),
                    Ty::V4 | Ty::V6 | Ty::Mac | Ty::Str | Ty::Bytes | Ty::Proto => None,
                    _ => {
                        return Err(FilterError::at(
                            format!("{} (type={}) has no length.", t.name, t.ty.name()),
                            t.span,
                        ))
                    }
                };
                let t = bytes_src(t)?;
                Ok(typed(Src::Len(Box::new(t.src), fixed), Ty::UInt(4)))
            }
            "count" => {
                let t = self.value(one()?, "Argument of count()")?;
                Ok(typed(Src::Count(Box::new(t.src)), Ty::UInt(4)))
            }
            "upper" | "lower" => {
                let t = self.value(one()?, &format!("Argument of {name}()"))?;
                if t.ty != Ty::Str {
                    return Err(FilterError::at(
                        format!("Only string type fields can be used as parameter for {name}()"),
                        t.span,
                    ));
                }
                Ok(typed(Src::Case(Box::new(t.src), name == "upper"), Ty::Str))
            }
            "string" | "max" | "min" | "abs" => Err(FilterError::at(
                format!("Function '{name}' is not supported by hs-tui."),
                name_span,
            )),
            _ => Err(FilterError::at(
                format!("Function '{name}' does not exist"),
                name_span,
            )),
        }
    }

    /// The right side of a relation: another field, or a literal of the left side's type.
    fn rhs(&self, v: &Operand, l: &Typed) -> R<Rhs> {
        let is_value = match v {
            Operand::Word(w, _) => resolve(w).is_some(),
            Operand::Slice(..) | Operand::Call(..) | Operand::BitAnd(..) => true,
            Operand::Str(..) | Operand::Char(..) => false,
        };
        if !is_value {
            return Ok(Rhs::Lit(self.lit(v, l)?));
        }
        let r = self.value(v, "Right side")?;
        if r.ty.family() != l.ty.family() || r.ty == Ty::Label {
            return Err(FilterError::at(
                format!("{} and {} are not of compatible types.", l.name, r.name),
                r.span,
            ));
        }
        Ok(Rhs::Src(bytes_src(r)?.src))
    }

    /// Convert a literal to the type of `l`.
    fn lit(&self, v: &Operand, l: &Typed) -> R<Lit> {
        let ty = l.ty;
        let span = v.span();
        let from_string = |s: &[u8]| {
            FilterError::at(
                format!(
                    "{} cannot be converted from a string (\"{}\").",
                    ty.name(),
                    String::from_utf8_lossy(s)
                ),
                span,
            )
        };
        match v {
            Operand::Str(s, _) => match ty {
                Ty::Str | Ty::Bytes | Ty::Proto => Ok(Lit::Bytes(s.clone())),
                Ty::Bool => Err(FilterError::at(
                    format!(
                        "\"{}\" cannot be found among the possible values for {}.",
                        String::from_utf8_lossy(s),
                        l.name
                    ),
                    span,
                )),
                _ => Err(from_string(s)),
            },
            Operand::Char(c, _) => Ok(match ty {
                Ty::UInt(_) | Ty::FrameNum => Lit::U(*c as u64),
                Ty::Int => Lit::I(*c as i64),
                Ty::Bool => Lit::B(*c != 0),
                Ty::Str | Ty::Bytes | Ty::Proto => Lit::Bytes(vec![*c]),
                _ => {
                    return Err(FilterError::at(
                        format!(
                            "{} cannot be converted from a character constant.",
                            ty.name()
                        ),
                        span,
                    ))
                }
            }),
            Operand::Word(w, span) => word_lit(w, *span, ty, &l.name),
            Operand::Slice(..) | Operand::Call(..) | Operand::BitAnd(..) => Err(FilterError::at(
                format!("\"{}\" was unexpected in this context.", self.text(span)),
                span,
            )),
        }
    }
}

/// Parse an integer the way Wireshark's scanner does: decimal, `0x` hex,
/// `0b` binary, leading-`0` octal, with an optional sign.
fn parse_int(w: &str) -> Result<(bool, u128), ()> {
    let (neg, body) = match w.as_bytes().first() {
        Some(b'-') => (true, &w[1..]),
        Some(b'+') => (false, &w[1..]),
        _ => (false, w),
    };
    let (radix, digits) =
        if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (16, h)
        } else if let Some(b) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
            (2, b)
        } else if body.len() > 1 && body.starts_with('0') {
            (8, &body[1..])
        } else {
            (10, body)
        };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(());
    }
    // Saturate far past u64 so that overflow can be told apart from "too big".
    let mut v: u128 = 0;
    for c in digits.chars() {
        v = (v * radix as u128 + c.to_digit(radix).unwrap_or(0) as u128).min(u128::MAX / 32);
    }
    Ok((neg, v))
}

/// `ADDR/BITS` into its address and prefix length text.
fn split_prefix(w: &str) -> (&str, Option<&str>) {
    match w.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (w, None),
    }
}

/// The prefix length of a CIDR literal (`width`, all ones, without one).
fn prefix_len(
    bits: Option<&str>,
    width: u32,
    too_long: impl Fn(u32) -> String,
    bad: impl Fn() -> String,
) -> Result<u32, String> {
    match bits.map(str::parse::<u32>) {
        None => Ok(width),
        Some(Ok(n)) if n > width => Err(too_long(n)),
        Some(Ok(n)) => Ok(n),
        Some(Err(_)) => Err(bad()),
    }
}

fn word_lit(w: &str, span: Span, ty: Ty, field: &str) -> R<Lit> {
    let err = |m: String| Err(FilterError::at(m, span));
    match ty {
        Ty::UInt(_) | Ty::FrameNum => match parse_int(w) {
            Err(()) => err(format!("\"{w}\" is not a valid number.")),
            Ok((_, v)) if v > u64::MAX as u128 => {
                err(format!("\"{w}\" causes an integer overflow."))
            }
            // A negative literal compiles in 4.0 but equals nothing.
            Ok((true, _)) => Ok(Lit::Never),
            Ok((false, v)) if v > ty.max() as u128 => err(format!(
                "\"{w}\" too big for this field, maximum {}.",
                ty.max()
            )),
            Ok((false, v)) => Ok(Lit::U(v as u64)),
        },
        Ty::Int => match parse_int(w) {
            Err(()) => err(format!("\"{w}\" is not a valid number.")),
            Ok((neg, v)) => {
                let limit = if neg { 1u128 << 31 } else { (1u128 << 31) - 1 };
                if v > limit {
                    // tshark names the magnitude, and points at it (past the sign).
                    let digits = w.trim_start_matches(['-', '+']);
                    let at = span.1 - digits.len();
                    return Err(FilterError::at(
                        format!("\"{digits}\" too big for this field, maximum 2147483647."),
                        Span(at, span.1),
                    ));
                }
                Ok(Lit::I(if neg { -(v as i64) } else { v as i64 }))
            }
        },
        Ty::Bool => match w {
            "TRUE" | "True" => Ok(Lit::B(true)),
            "FALSE" | "False" => Ok(Lit::B(false)),
            _ => match parse_int(w) {
                Ok((_, v)) => Ok(Lit::B(v != 0)),
                Err(()) => err(format!(
                    "\"{w}\" cannot be found among the possible values for {field}."
                )),
            },
        },
        Ty::Time => parse_time(w)
            .map(Lit::T)
            .ok_or(())
            .or_else(|()| err(format!("\"{w}\" is not a valid time."))),
        Ty::V4 => {
            let bad = || format!("\"{w}\" is not a valid hostname or IPv4 address.");
            let (addr, bits) = split_prefix(w);
            let Ok(a) = addr.parse::<Ipv4Addr>() else {
                return err(bad());
            };
            let too_long =
                |n| format!("Netmask bits in a CIDR IPv4 address should be <= 32, not {n}");
            match prefix_len(bits, 32, too_long, bad) {
                Ok(n) => Ok(Lit::V4(
                    u32::from(a),
                    u32::MAX.checked_shl(32 - n).unwrap_or(0),
                )),
                Err(m) => err(m),
            }
        }
        Ty::V6 => {
            let bad = || format!("\"{w}\" is not a valid hostname or IPv6 address.");
            let (addr, bits) = split_prefix(w);
            let Ok(a) = addr.parse::<Ipv6Addr>() else {
                return err(bad());
            };
            let too_long = |n| format!("Prefix in a IPv6 address should be <= 128, not {n}");
            match prefix_len(bits, 128, too_long, bad) {
                Ok(n) => Ok(Lit::V6(
                    u128::from(a),
                    u128::MAX.checked_shl(128 - n).unwrap_or(0),
                )),
                Err(m) => err(m),
            }
        }
        Ty::Mac => match hex_bytes(w) {
            Some(b) if b.len() == 6 => Ok(Lit::Mac([b[0], b[1], b[2], b[3], b[4], b[5]])),
            Some(b) if b.len() < 6 => err(format!(
                "\"{w}\" contains too few bytes to be a valid Ethernet address."
            )),
            Some(_) => err(format!(
                "\"{w}\" contains too many bytes to be a valid Ethernet address."
            )),
            None => err(format!("\"{w}\" is not a valid Ethernet address.")),
        },
        Ty::Str => Ok(Lit::Bytes(w.as_bytes().to_vec())),
        Ty::Bytes | Ty::Proto => match hex_bytes(w) {
            Some(b) => Ok(Lit::Bytes(b)),
            None => match parse_int(w) {
                Ok((false, v)) if v <= 255 => Ok(Lit::Bytes(vec![v as u8])),
                _ => err(format!("\"{w}\" is not a valid byte string.")),
            },
        },
        Ty::Label => err(format!(
            "{field} (type=Label) cannot be compared with a value."
        )),
    }
}

/// Hex byte pairs separated by `:`, `-` or `.` (or not separated), or the
/// Cisco form `0011.2233.4455`.
fn hex_bytes(w: &str) -> Option<Vec<u8>> {
    let pair = |s: &str| {
        (s.len() == 2 && s.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| u8::from_str_radix(s, 16).ok())
            .flatten()
    };
    for sep in [':', '-', '.'] {
        if w.contains(sep) {
            let parts: Vec<&str> = w.split(sep).collect();
            if parts.iter().all(|p| p.len() == 2) {
                return parts.into_iter().map(pair).collect();
            }
            if sep == '.' && parts.iter().all(|p| p.len() == 4) {
                return parts
                    .into_iter()
                    .flat_map(|p| [&p[..2], &p[2..]])
                    .map(pair)
                    .collect();
            }
            return None;
        }
    }
    if w.is_empty() || w.len() % 2 != 0 {
        return None;
    }
    (0..w.len())
        .step_by(2)
        .map(|i| w.get(i..i + 2).and_then(pair))
        .collect()
}

/// Seconds with up to 9 decimals, optionally signed, to nanoseconds.
fn parse_time(w: &str) -> Option<i64> {
    let (neg, body) = match w.as_bytes().first() {
        Some(b'-') => (true, &w[1..]),
        Some(b'+') => (false, &w[1..]),
        _ => (false, w),
    };
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, f),
        None => (body, ""),
    };
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 9
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    if body.contains('.') && frac.is_empty() {
        return None;
    }
    let secs: i64 = int.parse().ok()?;
    let mut ns: i64 = 0;
    for (i, c) in frac.bytes().enumerate() {
        ns += (c - b'0') as i64 * 10i64.pow(8 - i as u32);
    }
    let total = secs.checked_mul(1_000_000_000)?.checked_add(ns)?;
    Some(if neg { -total } else { total })
}

/// Compile a `matches` pattern as PCRE2 does for Wireshark 4.0: caseless,
/// bytes (not UTF) mode.
fn regex(pattern: &[u8]) -> R<regex::bytes::Regex> {
    let mut pat = String::with_capacity(pattern.len());
    for &b in pattern {
        if b.is_ascii() {
            pat.push(b as char);
        } else {
            pat.push_str(&format!("\\x{b:02X}"));
        }
    }
    regex::bytes::RegexBuilder::new(&pat)
        .case_insensitive(true)
        .unicode(false)
        .size_limit(1 << 22)
        .build()
        .map_err(|e| {
            let text = e.to_string();
            let why = if text.contains("unclosed group") {
                "missing closing parenthesis".to_string()
            } else if text.contains("unopened group") {
                "unmatched closing parenthesis".to_string()
            } else if text.contains("unclosed character class") {
                "missing terminating ] for character class".to_string()
            } else if text.contains("repetition operator missing expression") {
                "quantifier does not follow a repeatable item".to_string()
            } else {
                text.lines()
                    .rev()
                    .find_map(|l| l.trim().strip_prefix("error: "))
                    .unwrap_or("invalid pattern")
                    .to_string()
            };
            FilterError::new(format!("Regex compilation error: {why}."))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers() {
        assert_eq!(parse_int("80"), Ok((false, 80)));
        assert_eq!(parse_int("0x50"), Ok((false, 80)));
        assert_eq!(parse_int("0120"), Ok((false, 80)));
        assert_eq!(parse_int("0b1010000"), Ok((false, 80)));
        assert_eq!(parse_int("-1"), Ok((true, 1)));
        assert_eq!(parse_int("+1"), Ok((false, 1)));
        assert_eq!(parse_int("0"), Ok((false, 0)));
        assert!(parse_int("099").is_err());
        assert!(parse_int("0x").is_err());
        assert!(parse_int("0b102").is_err());
        assert!(parse_int("1_0").is_err());
        assert!(parse_int("1e2").is_err());
        assert!(parse_int("abc").is_err());
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("1"), Some(1_000_000_000));
        assert_eq!(parse_time("0.01"), Some(10_000_000));
        assert_eq!(parse_time("00.01"), Some(10_000_000));
        assert_eq!(parse_time("-1.5"), Some(-1_500_000_000));
        assert_eq!(parse_time("0.000000001"), Some(1));
        assert_eq!(parse_time("0.0000000001"), None);
        assert_eq!(parse_time("1e-2"), None);
        assert_eq!(parse_time("0x1"), None);
        assert_eq!(parse_time("1."), None);
        assert_eq!(parse_time("abc"), None);
    }

    #[test]
    fn byte_strings() {
        assert_eq!(hex_bytes("16:03"), Some(vec![0x16, 3]));
        assert_eq!(hex_bytes("16-03"), Some(vec![0x16, 3]));
        assert_eq!(hex_bytes("1603"), Some(vec![0x16, 3]));
        assert_eq!(
            hex_bytes("0011.2233.4455"),
            Some(vec![0, 0x11, 0x22, 0x33, 0x44, 0x55])
        );
        assert_eq!(hex_bytes("ff.ff.ff.ff.ff.ff"), Some(vec![0xff; 6]));
        assert_eq!(hex_bytes("zz"), None);
        assert_eq!(hex_bytes("1:2"), None);
        assert_eq!(hex_bytes("123"), None);
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest("tcp.flgs").as_deref(), Some("tcp.flags"));
        assert_eq!(suggest("TCP").as_deref(), Some("tcp"));
        assert_eq!(suggest("tsl").as_deref(), Some("tls"));
        assert_eq!(suggest("completely.unknown.thing"), None);
        assert_eq!(suggest("80"), None);
        assert_eq!(suggest("10.0.0.1"), None);
    }

    /// A 100 kB unknown name gets its error without any distance computed (it took
    /// 0.8 s of quadratic work); names near the limit still get suggestions.
    #[test]
    fn suggestions_are_bounded() {
        let calls = || fields::DISTANCES.with(|c| c.replace(0));
        calls();
        let long = format!("tcp.{}", "x".repeat(100_000));
        assert_eq!(suggest(&long), None);
        assert_eq!(calls(), 0);
        let e = Compiler { src: &long }
            .expr(&super::super::parser::parse(&long).unwrap().unwrap())
            .err()
            .expect("unknown name");
        assert!(e.suggestion.is_none());
        assert_eq!(calls(), 0);
        // Only names of about the same length are compared.
        assert_eq!(suggest("tcp.flgs").as_deref(), Some("tcp.flags"));
        let n = calls();
        assert!(n > 0 && n < fields::FIELDS.len() / 2, "{n} distances");
        let near = "tcp.analysis.duplicate_ack_frme";
        assert_eq!(
            suggest(near).as_deref(),
            Some("tcp.analysis.duplicate_ack_frame")
        );
    }
}
