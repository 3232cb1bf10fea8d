//! The compiled filter and its per-packet evaluation.
//!
//! Compilation resolved every field to its registry entry (a function
//! pointer) and converted every literal to the field's type, so evaluation
//! only collects occurrences and compares. Occurrences go into scratch
//! vectors recycled through a thread-local pool: after the first packet, the
//! common cases allocate nothing.

use super::ast::SliceRange;
use super::protocols::{self, AppProto};
use crate::decode::{proto, IpHeader};
use crate::fields::{self, FastGetter, Field, FieldType, PacketView, Value};
use std::borrow::Cow;
use std::cell::Cell;
use std::cmp::Ordering;

/// A protocol layer read as bytes (for `==`, `contains`, `matches`, slices).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    Frame,
    Eth,
    Ip,
    Ipv6,
    Tcp,
    Udp,
    Icmp,
    Icmpv6,
}

impl Layer {
    pub fn of(name: &str) -> Option<Layer> {
        Some(match name {
            "frame" => Layer::Frame,
            "eth" => Layer::Eth,
            "ip" => Layer::Ip,
            "ipv6" => Layer::Ipv6,
            "tcp" => Layer::Tcp,
            "udp" => Layer::Udp,
            "icmp" => Layer::Icmp,
            "icmpv6" => Layer::Icmpv6,
            _ => return None,
        })
    }
}

/// Where a value comes from.
pub enum Src {
    Field(&'static Field),
    Layer(Layer),
    App(AppProto),
    Slice(Box<Src>, Vec<SliceRange>),
    /// `value & mask`.
    Mask(Box<Src>, Lit),
    /// `len(value)`; `Some(n)` for fixed-width types (an integer's byte width).
    Len(Box<Src>, Option<u64>),
    /// `count(value)`.
    Count(Box<Src>),
    /// `upper(value)` (true) or `lower(value)`.
    Case(Box<Src>, bool),
}

/// A literal, already converted to the type of the field it is compared with.
#[derive(Clone, Debug, PartialEq)]
pub enum Lit {
    U(u64),
    I(i64),
    B(bool),
    /// Nanoseconds.
    T(i64),
    /// Address and netmask (all ones without a CIDR suffix).
    V4(u32, u32),
    V6(u128, u128),
    Mac([u8; 6]),
    Bytes(Vec<u8>),
    /// A literal no value of the field can equal or be ordered against
    /// (a negative number for an unsigned field, as Wireshark 4.0 accepts it).
    Never,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rel {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Rel {
    #[inline]
    fn holds(self, ord: Option<Ordering>) -> bool {
        match self {
            Rel::Eq => ord == Some(Ordering::Equal),
            Rel::Ne => ord != Some(Ordering::Equal),
            Rel::Gt => ord == Some(Ordering::Greater),
            Rel::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
            Rel::Lt => ord == Some(Ordering::Less),
            Rel::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
        }
    }
}

pub enum Rhs {
    Lit(Lit),
    Src(Src),
}

pub enum Item {
    One(Lit),
    Range(Lit, Lit),
    Src(Src),
}

// Built once per filter and walked per packet: variant sizes do not matter.
#[allow(clippy::large_enum_variant)]
pub enum Node {
    /// Some operand is true (an `or` chain, flattened).
    Any(Vec<Node>),
    /// Every operand is true (an `and` chain, flattened).
    All(Vec<Node>),
    Not(Box<Node>),
    Exists(Src),
    /// `value & mask` as a test: some occurrence is non-zero.
    NonZero(Src),
    /// `all`: the value exists and every occurrence satisfies the relation;
    /// otherwise some occurrence does.
    Cmp {
        src: Src,
        all: bool,
        rel: Rel,
        rhs: Rhs,
    },
    Contains {
        src: Src,
        needle: memchr::memmem::Finder<'static>,
    },
    Matches {
        src: Src,
        re: regex::bytes::Regex,
    },
    In {
        src: Src,
        items: Vec<Item>,
    },
    /// The fast form of a common test (see `specialize`).
    Fast(FastTest),
    /// `and` / `or` chains of fast tests: a flat loop, no tree to walk.
    FastAll(Vec<FastTest>),
    FastAny(Vec<FastTest>),
}

/// A common test in fast form: the field's scalars are read straight from
/// the packet (`fields::fast_getter`), no value vectors, possibly negated.
pub struct FastTest {
    get: FastGetter,
    op: FastOp,
    negate: bool,
}

enum FastOp {
    Exists,
    /// `value & mask <rel> lit & mask` over unsigned, boolean (0/1) and IPv4
    /// (u32) values; the mask is all ones but for an address with a CIDR suffix.
    /// `all`: the value exists and every occurrence satisfies the relation.
    Cmp {
        all: bool,
        rel: Rel,
        lit: u64,
        mask: u64,
    },
    /// `value in {a, b..c}` over unsigned values, as inclusive ranges.
    In(Box<[(u64, u64)]>),
}

impl FastTest {
    #[inline]
    fn eval(&self, p: &PacketView<'_>) -> bool {
        let holds =
            |rel: Rel, v: u64, lit: u64, mask: u64| rel.holds(Some((v & mask).cmp(&(lit & mask))));
        let r = match (&self.op, self.get) {
            (FastOp::Exists, FastGetter::Flag(g)) => g(p),
            (FastOp::Exists, get) => get.for_each(p, |_| true),
            (
                &FastOp::Cmp {
                    all: false,
                    rel,
                    lit,
                    mask,
                },
                get,
            ) => get.for_each(p, |v| holds(rel, v, lit, mask)),
            (&FastOp::Cmp { rel, lit, mask, .. }, get) => {
                // "all": the value exists and no occurrence fails the relation.
                let (mut seen, mut failed) = (false, false);
                get.for_each(p, |v| {
                    seen = true;
                    failed = !holds(rel, v, lit, mask);
                    failed
                });
                seen && !failed
            }
            (FastOp::In(ranges), get) => {
                get.for_each(p, |v| ranges.iter().any(|&(lo, hi)| lo <= v && v <= hi))
            }
        };
        r != self.negate
    }
}

/// Scratch vectors for one evaluation, and the packet's application protocol once known.
pub struct Pool<'a> {
    /// The vector kept between packets (see `with_pool`).
    first: Option<Vec<Value<'a>>>,
    /// More vectors, for nested values (field against field, sets of fields, `count`).
    free: Vec<Vec<Value<'a>>>,
    app: Option<Option<AppProto>>,
}

impl<'a> Pool<'a> {
    /// A pool that holds nothing: for filters made only of fast nodes, which never take from it.
    pub fn empty(app: Option<Option<AppProto>>) -> Pool<'a> {
        Pool {
            first: None,
            free: Vec::new(),
            app,
        }
    }
    /// The packet's application protocol: given by the caller (reassembly-aware), or judged per segment once.
    #[inline]
    fn app(&mut self, p: &PacketView<'_>) -> Option<AppProto> {
        *self.app.get_or_insert_with(|| protocols::detect(p))
    }
    #[inline]
    fn take(&mut self) -> Vec<Value<'a>> {
        match self.first.take() {
            Some(v) => v,
            None => self.free.pop().unwrap_or_else(|| Vec::with_capacity(8)),
        }
    }
    #[inline]
    fn give(&mut self, mut v: Vec<Value<'a>>) {
        v.clear();
        if self.first.is_none() {
            self.first = Some(v);
        } else {
            self.free.push(v);
        }
    }
}

/// Re-type an emptied vector. `collect` over a `vec::IntoIter` reuses the
/// allocation in place (same layout), so this costs no allocation.
fn relife<'x, 'y>(mut v: Vec<Value<'x>>) -> Vec<Value<'y>> {
    v.clear();
    v.into_iter()
        .map(|_| -> Value<'y> { unreachable!("the vector was cleared") })
        .collect()
}

thread_local! {
    /// One scratch vector per thread, kept from packet to packet.
    static SCRATCH: Cell<Vec<Value<'static>>> = const { Cell::new(Vec::new()) };
}

/// Run `f` with scratch vectors: the thread's kept vector first, so the
/// common filters allocate nothing per packet. `app` is the packet's
/// application protocol when the caller already knows it.
pub fn with_pool<'a, R>(app: Option<Option<AppProto>>, f: impl FnOnce(&mut Pool<'a>) -> R) -> R {
    SCRATCH.with(|cell| {
        let kept = cell.take();
        let first = (kept.capacity() > 0).then(|| relife(kept));
        let mut pool = Pool {
            first,
            free: Vec::new(),
            app,
        };
        let r = f(&mut pool);
        if let Some(v) = pool.first.take().or_else(|| pool.free.pop()) {
            cell.set(relife(v));
        }
        r
    })
}

#[inline]
fn as_bytes<'v>(v: &'v Value<'_>) -> Option<&'v [u8]> {
    match v {
        Value::Bytes(b) => Some(b),
        Value::Str(s) => Some(s.as_bytes()),
        Value::Mac(m) => Some(m),
        _ => None,
    }
}

/// Compare an occurrence with a literal of the field's type.
#[inline]
fn cmp_lit(v: &Value<'_>, lit: &Lit) -> Option<Ordering> {
    match (v, lit) {
        (Value::UInt(a), Lit::U(b)) => Some(a.cmp(b)),
        (Value::Int(a), Lit::I(b)) => Some(a.cmp(b)),
        (Value::Bool(a), Lit::B(b)) => Some(a.cmp(b)),
        (Value::Time(a), Lit::T(b)) => Some(a.cmp(b)),
        (Value::V4(a), Lit::V4(b, m)) => Some((u32::from(*a) & m).cmp(&(b & m))),
        (Value::V6(a), Lit::V6(b, m)) => Some((u128::from(*a) & m).cmp(&(b & m))),
        (Value::Mac(a), Lit::Mac(b)) => Some(a.cmp(b)),
        (_, Lit::Bytes(b)) => as_bytes(v).map(|a| a.cmp(b.as_slice())),
        _ => None,
    }
}

/// Compare two occurrences (field against field).
fn cmp_vals(a: &Value<'_>, b: &Value<'_>) -> Option<Ordering> {
    match (a, b) {
        (Value::UInt(x), Value::UInt(y)) => Some(x.cmp(y)),
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Time(x), Value::Time(y)) => Some(x.cmp(y)),
        (Value::V4(x), Value::V4(y)) => Some(x.cmp(y)),
        (Value::V6(x), Value::V6(y)) => Some(x.cmp(y)),
        (Value::Present, Value::Present) => Some(Ordering::Equal),
        _ => Some(as_bytes(a)?.cmp(as_bytes(b)?)),
    }
}

fn mask<'a>(v: Value<'a>, m: &Lit) -> Option<Value<'a>> {
    Some(match (v, m) {
        (Value::UInt(a), Lit::U(b)) => Value::UInt(a & b),
        (Value::Int(a), Lit::I(b)) => Value::Int(a & b),
        (Value::Bool(a), Lit::B(b)) => Value::Bool(a && *b),
        (Value::V4(a), Lit::V4(b, _)) => Value::V4((u32::from(a) & b).into()),
        (Value::V6(a), Lit::V6(b, _)) => Value::V6((u128::from(a) & b).into()),
        (v, Lit::Bytes(b)) => {
            let a = as_bytes(&v)?;
            Value::Bytes(Cow::Owned(a.iter().zip(b).map(|(x, y)| x & y).collect()))
        }
        (v, Lit::Mac(b)) => {
            let a = as_bytes(&v)?;
            Value::Bytes(Cow::Owned(a.iter().zip(b).map(|(x, y)| x & y).collect()))
        }
        _ => return None,
    })
}

fn non_zero(v: &Value<'_>) -> bool {
    match v {
        Value::UInt(a) => *a != 0,
        Value::Int(a) => *a != 0,
        Value::Bool(a) => *a,
        Value::V4(a) => u32::from(*a) != 0,
        Value::V6(a) => u128::from(*a) != 0,
        v => as_bytes(v).is_some_and(|b| b.iter().any(|&x| x != 0)),
    }
}

/// Resolve a (possibly negative) offset against `len`.
fn offset(i: i64, len: usize) -> Option<usize> {
    if i >= 0 {
        Some(i as usize)
    } else {
        len.checked_sub(i.unsigned_abs() as usize)
    }
}

fn range_of(r: &SliceRange, len: usize) -> Option<(usize, usize)> {
    let (s, e) = match *r {
        SliceRange::Len(s, l) => {
            let s = offset(s, len)?;
            (s, s.checked_add(usize::try_from(l).ok()?)?)
        }
        SliceRange::End(s, e) => {
            let (s, e) = (offset(s, len)?, offset(e, len)?);
            (s, e.checked_add(1)?)
        }
        SliceRange::ToEnd(s) => (offset(s, len)?, len),
    };
    (s < e && e <= len).then_some((s, e))
}

fn slice_value<'a>(v: Value<'a>, ranges: &[SliceRange]) -> Option<Value<'a>> {
    fn borrowed<'a>(v: &Value<'a>) -> Option<&'a [u8]> {
        match v {
            Value::Bytes(Cow::Borrowed(b)) => Some(b),
            Value::Str(Cow::Borrowed(s)) => Some(s.as_bytes()),
            _ => None,
        }
    }
    if let (Some(b), [r]) = (borrowed(&v), ranges) {
        let (s, e) = range_of(r, b.len())?;
        return Some(Value::Bytes(Cow::Borrowed(&b[s..e])));
    }
    let b = as_bytes(&v)?;
    let mut out = Vec::new();
    for r in ranges {
        let (s, e) = range_of(r, b.len())?;
        out.extend_from_slice(&b[s..e]);
    }
    Some(Value::Bytes(Cow::Owned(out)))
}

/// Replace each value by `f(value)`, dropping those that give `None`.
fn map_in_place<'a>(out: &mut Vec<Value<'a>>, mut f: impl FnMut(Value<'a>) -> Option<Value<'a>>) {
    let mut kept = 0;
    for i in 0..out.len() {
        let v = std::mem::replace(&mut out[i], Value::Present);
        if let Some(nv) = f(v) {
            out[kept] = nv;
            kept += 1;
        }
    }
    out.truncate(kept);
}

fn ip_end(ip: &IpHeader, cap: usize) -> usize {
    let start = ip.offset as usize;
    let end = if ip.is_v6() {
        if ip.len_field == 0 {
            cap
        } else {
            start + 40 + ip.len_field as usize
        }
    } else if ip.len_field == 0 {
        cap
    } else {
        start + ip.len_field as usize
    };
    end.min(cap)
}

fn push_range<'a>(b: &'a [u8], start: usize, end: usize, out: &mut Vec<Value<'a>>) {
    let end = end.min(b.len());
    if start <= end {
        out.push(Value::Bytes(Cow::Borrowed(&b[start..end])));
    }
}

fn layer_bytes<'a>(l: Layer, p: &PacketView<'a>, out: &mut Vec<Value<'a>>) {
    let (f, b) = (p.frame, p.bytes);
    match l {
        Layer::Frame => out.push(Value::Bytes(Cow::Borrowed(b))),
        Layer::Eth => {
            if f.has(proto::ETH) {
                out.push(Value::Bytes(Cow::Borrowed(b)))
            }
        }
        Layer::Ip | Layer::Ipv6 => {
            let v6 = l == Layer::Ipv6;
            for ip in
                f.ip.iter()
                    .chain(f.inner_ip.iter())
                    .filter(|i| i.is_v6() == v6)
            {
                push_range(b, ip.offset as usize, ip_end(ip, b.len()), out);
            }
        }
        Layer::Tcp => {
            if f.tcp.is_some() {
                if let Some(ip) = f.tcp_ip() {
                    let start = ip.offset as usize + ip.hdr_len as usize;
                    push_range(b, start, ip_end(ip, b.len()), out);
                }
            }
        }
        Layer::Udp => {
            if f.udp.is_some() {
                let ip = match (&f.ip, &f.inner_ip) {
                    (_, Some(inner)) if inner.proto == 17 && f.icmp.is_some() => Some(inner),
                    (outer, _) => outer.as_ref(),
                };
                if let Some(ip) = ip {
                    push_range(
                        b,
                        ip.offset as usize + ip.hdr_len as usize,
                        ip_end(ip, b.len()),
                        out,
                    );
                }
            }
        }
        Layer::Icmp | Layer::Icmpv6 => {
            let v6 = l == Layer::Icmpv6;
            if let (Some(ic), Some(ip)) = (f.icmp.as_ref(), f.ip.as_ref()) {
                if ic.v6 == v6 {
                    push_range(
                        b,
                        ip.offset as usize + ip.hdr_len as usize,
                        ip_end(ip, b.len()),
                        out,
                    );
                }
            }
        }
    }
}

impl Src {
    /// Collect this value's occurrences into `out` (which is cleared first).
    pub fn collect<'a>(&self, p: &PacketView<'a>, out: &mut Vec<Value<'a>>, pool: &mut Pool<'a>) {
        out.clear();
        match self {
            Src::Field(f) => (f.get)(p, out),
            Src::Layer(l) => layer_bytes(*l, p, out),
            Src::App(a) => {
                if pool.app(p) == Some(*a) {
                    out.push(Value::Bytes(Cow::Borrowed(p.frame.payload(p.bytes))));
                }
            }
            Src::Slice(inner, ranges) => {
                inner.collect(p, out, pool);
                map_in_place(out, |v| slice_value(v, ranges));
            }
            Src::Mask(inner, m) => {
                inner.collect(p, out, pool);
                map_in_place(out, |v| mask(v, m));
            }
            Src::Len(inner, fixed) => {
                inner.collect(p, out, pool);
                map_in_place(out, |v| {
                    let n = match (fixed, &v) {
                        (Some(n), _) => *n,
                        (None, Value::V4(_)) => 4,
                        (None, Value::V6(_)) => 16,
                        (None, v) => as_bytes(v)?.len() as u64,
                    };
                    Some(Value::UInt(n))
                });
            }
            Src::Count(inner) => {
                let mut tmp = pool.take();
                inner.collect(p, &mut tmp, pool);
                if !tmp.is_empty() {
                    out.push(Value::UInt(tmp.len() as u64));
                }
                pool.give(tmp);
            }
            Src::Case(inner, upper) => {
                inner.collect(p, out, pool);
                map_in_place(out, |v| match v {
                    Value::Str(s) => Some(Value::Str(Cow::Owned(if *upper {
                        s.to_ascii_uppercase()
                    } else {
                        s.to_ascii_lowercase()
                    }))),
                    _ => None,
                });
            }
        }
    }
}

impl Src {
    fn uses_app(&self) -> bool {
        match self {
            // Only TLS and HTTP need reassembly state; the others are judged per packet.
            Src::App(a) => matches!(a, AppProto::Tls | AppProto::Http),
            // `tls.*` fields read the engine's TLS dissection.
            Src::Field(f) => crate::fields::needs_tls(f),
            Src::Layer(_) => false,
            Src::Slice(s, _)
            | Src::Mask(s, _)
            | Src::Len(s, _)
            | Src::Count(s)
            | Src::Case(s, _) => s.uses_app(),
        }
    }
}

impl Node {
    /// An `or` (`Node::Any`) or `and` (`Node::All`) of `nodes`, with operands that are
    /// chains of the same operator merged in (one flat loop to evaluate).
    pub fn chain(or: bool, nodes: Vec<Node>) -> Node {
        let mut flat = Vec::with_capacity(nodes.len());
        for n in nodes {
            match n {
                Node::Any(v) if or => flat.extend(v),
                Node::All(v) if !or => flat.extend(v),
                n => flat.push(n),
            }
        }
        if flat.len() == 1 {
            return flat.pop().unwrap();
        }
        if or {
            Node::Any(flat)
        } else {
            Node::All(flat)
        }
    }

    /// Replace the common tests on fields with fast getters by their fast
    /// forms, and test fast operands of `and`/`or` first (the operators have
    /// no side effects, so the order changes only the cost).
    pub fn specialize(self) -> Node {
        fn fast_first(v: Vec<Node>) -> Vec<Node> {
            let (mut fast, slow): (Vec<Node>, Vec<Node>) = v
                .into_iter()
                .map(Node::specialize)
                .partition(|n| !n.needs_pool());
            fast.extend(slow);
            fast
        }
        fn leaves(v: Vec<Node>) -> Result<Vec<FastTest>, Vec<Node>> {
            if v.iter().all(|n| matches!(n, Node::Fast(_))) {
                Ok(v.into_iter()
                    .filter_map(|n| match n {
                        Node::Fast(t) => Some(t),
                        _ => None,
                    })
                    .collect())
            } else {
                Err(v)
            }
        }
        match self {
            Node::Any(v) => leaves(fast_first(v)).map_or_else(Node::Any, Node::FastAny),
            Node::All(v) => leaves(fast_first(v)).map_or_else(Node::All, Node::FastAll),
            Node::Not(a) => match a.specialize() {
                Node::Fast(mut t) => {
                    t.negate = !t.negate;
                    Node::Fast(t)
                }
                other => Node::Not(Box::new(other)),
            },
            other => other.specialize_leaf(),
        }
    }

    /// The leaves of `specialize`, out of the recursion's stack frames.
    #[inline(never)]
    fn specialize_leaf(self) -> Node {
        let fast = |get, op| {
            Node::Fast(FastTest {
                get,
                op,
                negate: false,
            })
        };
        match self {
            Node::Exists(Src::Field(f)) => match fields::fast_getter(f.name) {
                Some(get) => fast(get, FastOp::Exists),
                None => Node::Exists(Src::Field(f)),
            },
            Node::Cmp {
                src: Src::Field(f),
                all,
                rel,
                rhs: Rhs::Lit(lit),
            } => {
                let fast = fields::fast_getter(f.name).and_then(|get| {
                    let (lit, mask) = match (f.ty, &lit) {
                        (FieldType::UInt { .. } | FieldType::FrameNum, Lit::U(x)) => (*x, u64::MAX),
                        (FieldType::Bool, Lit::B(b)) => (*b as u64, u64::MAX),
                        (FieldType::Ipv4, Lit::V4(a, m)) => (*a as u64, *m as u64),
                        _ => return None,
                    };
                    Some(fast(
                        get,
                        FastOp::Cmp {
                            all,
                            rel,
                            lit,
                            mask,
                        },
                    ))
                });
                fast.unwrap_or(Node::Cmp {
                    src: Src::Field(f),
                    all,
                    rel,
                    rhs: Rhs::Lit(lit),
                })
            }
            Node::In {
                src: Src::Field(f),
                items,
            } => {
                let unsigned = matches!(f.ty, FieldType::UInt { .. } | FieldType::FrameNum);
                let ranges: Option<Box<[(u64, u64)]>> = items
                    .iter()
                    .map(|i| match i {
                        Item::One(Lit::U(x)) => Some((*x, *x)),
                        Item::Range(Lit::U(a), Lit::U(b)) => Some((*a, *b)),
                        _ => None,
                    })
                    .collect();
                match (fields::fast_getter(f.name), ranges) {
                    (Some(get), Some(ranges)) if unsigned => fast(get, FastOp::In(ranges)),
                    _ => Node::In {
                        src: Src::Field(f),
                        items,
                    },
                }
            }
            other => other,
        }
    }

    /// Does evaluating this node need scratch vectors (is any part of it not fast)?
    pub fn needs_pool(&self) -> bool {
        match self {
            Node::Any(v) | Node::All(v) => v.iter().any(Node::needs_pool),
            Node::Not(a) => a.needs_pool(),
            Node::Fast(_) | Node::FastAll(_) | Node::FastAny(_) => false,
            _ => true,
        }
    }

    /// Does the filter test TLS or HTTP (which need reassembly state)?
    pub fn uses_app(&self) -> bool {
        match self {
            Node::Fast(_) | Node::FastAll(_) | Node::FastAny(_) => false,
            Node::Any(v) | Node::All(v) => v.iter().any(Node::uses_app),
            Node::Not(a) => a.uses_app(),
            Node::Exists(s)
            | Node::NonZero(s)
            | Node::Contains { src: s, .. }
            | Node::Matches { src: s, .. } => s.uses_app(),
            Node::Cmp { src, rhs, .. } => {
                src.uses_app() || matches!(rhs, Rhs::Src(r) if r.uses_app())
            }
            Node::In { src, items } => {
                src.uses_app()
                    || items
                        .iter()
                        .any(|i| matches!(i, Item::Src(r) if r.uses_app()))
            }
        }
    }

    /// The value of a fast node (or of the negation of one); `None` for the others.
    #[inline]
    pub fn eval_fast(&self, p: &PacketView<'_>) -> Option<bool> {
        Some(match self {
            Node::Fast(t) => t.eval(p),
            Node::FastAll(v) => v.iter().all(|t| t.eval(p)),
            Node::FastAny(v) => v.iter().any(|t| t.eval(p)),
            Node::Not(a) => !a.eval_fast(p)?,
            _ => return None,
        })
    }

    pub fn eval<'a>(&self, p: &PacketView<'a>, pool: &mut Pool<'a>) -> bool {
        match self {
            // Fast operands are evaluated here, not through a recursive call of this
            // (large) function: its prologue alone costs more than a fast test.
            Node::Any(v) => v
                .iter()
                .any(|n| n.eval_fast(p).unwrap_or_else(|| n.eval(p, pool))),
            Node::All(v) => v
                .iter()
                .all(|n| n.eval_fast(p).unwrap_or_else(|| n.eval(p, pool))),
            Node::Not(a) => !a.eval_fast(p).unwrap_or_else(|| a.eval(p, pool)),
            Node::Fast(_) | Node::FastAll(_) | Node::FastAny(_) => {
                self.eval_fast(p).unwrap_or(false)
            }
            _ => self.eval_leaf(p, pool),
        }
    }

    /// The tests that collect values: out of `eval`, which recurses once per nesting
    /// level, so that its stack frame stays small.
    #[inline(never)]
    fn eval_leaf<'a>(&self, p: &PacketView<'a>, pool: &mut Pool<'a>) -> bool {
        match self {
            Node::Any(_) | Node::All(_) | Node::Not(_) => self.eval(p, pool),
            Node::Fast(_) | Node::FastAll(_) | Node::FastAny(_) => {
                self.eval_fast(p).unwrap_or(false)
            }
            Node::Exists(Src::App(a)) => pool.app(p) == Some(*a),
            Node::Exists(src) => with_values(src, p, pool, |v, _| !v.is_empty()),
            Node::NonZero(src) => with_values(src, p, pool, |v, _| v.iter().any(non_zero)),
            Node::Cmp { src, all, rel, rhs } => with_values(src, p, pool, |vals, pool| match rhs {
                Rhs::Lit(lit) => {
                    let pred = |v: &Value<'_>| rel.holds(cmp_lit(v, lit));
                    if *all {
                        !vals.is_empty() && vals.iter().all(pred)
                    } else {
                        vals.iter().any(pred)
                    }
                }
                Rhs::Src(other) => with_values(other, p, pool, |ws, _| {
                    let pred = |v: &Value<'_>, w: &Value<'_>| rel.holds(cmp_vals(v, w));
                    if *all {
                        !vals.is_empty()
                            && !ws.is_empty()
                            && vals.iter().all(|v| ws.iter().all(|w| pred(v, w)))
                    } else {
                        vals.iter().any(|v| ws.iter().any(|w| pred(v, w)))
                    }
                }),
            }),
            Node::Contains { src, needle } => with_values(src, p, pool, |vals, _| {
                vals.iter()
                    .any(|v| as_bytes(v).is_some_and(|b| needle.find(b).is_some()))
            }),
            Node::Matches { src, re } => with_values(src, p, pool, |vals, _| {
                vals.iter()
                    .any(|v| as_bytes(v).is_some_and(|b| re.is_match(b)))
            }),
            Node::In { src, items } => with_values(src, p, pool, |vals, pool| {
                items.iter().any(|item| match item {
                    Item::One(l) => vals.iter().any(|v| cmp_lit(v, l) == Some(Ordering::Equal)),
                    Item::Range(lo, hi) => vals.iter().any(|v| {
                        matches!(cmp_lit(v, lo), Some(Ordering::Greater | Ordering::Equal))
                            && matches!(cmp_lit(v, hi), Some(Ordering::Less | Ordering::Equal))
                    }),
                    Item::Src(s) => with_values(s, p, pool, |ws, _| {
                        vals.iter()
                            .any(|v| ws.iter().any(|w| cmp_vals(v, w) == Some(Ordering::Equal)))
                    }),
                })
            }),
        }
    }
}

/// Collect `src` into a pooled vector and run `f` on it.
#[inline]
fn with_values<'a, R>(
    src: &Src,
    p: &PacketView<'a>,
    pool: &mut Pool<'a>,
    f: impl FnOnce(&[Value<'a>], &mut Pool<'a>) -> R,
) -> R {
    let mut v = pool.take();
    src.collect(p, &mut v, pool);
    let r = f(&v, pool);
    pool.give(v);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relife_keeps_the_allocation() {
        let mut v: Vec<Value<'static>> = Vec::with_capacity(16);
        v.push(Value::UInt(1));
        let ptr = v.as_ptr() as usize;
        let w: Vec<Value<'_>> = relife(v);
        assert_eq!(w.as_ptr() as usize, ptr);
        assert!(w.capacity() >= 16);
    }

    #[test]
    fn slices() {
        let b: &[u8] = &[1, 2, 3, 4, 5];
        let s = |r: &[SliceRange]| match slice_value(Value::Bytes(Cow::Borrowed(b)), r) {
            Some(Value::Bytes(x)) => Some(x.into_owned()),
            _ => None,
        };
        assert_eq!(s(&[SliceRange::Len(1, 2)]), Some(vec![2, 3]));
        assert_eq!(s(&[SliceRange::End(1, 2)]), Some(vec![2, 3]));
        assert_eq!(s(&[SliceRange::Len(-1, 1)]), Some(vec![5]));
        assert_eq!(s(&[SliceRange::ToEnd(3)]), Some(vec![4, 5]));
        assert_eq!(
            s(&[SliceRange::Len(0, 1), SliceRange::Len(4, 1)]),
            Some(vec![1, 5])
        );
        assert_eq!(s(&[SliceRange::Len(4, 2)]), None);
        assert_eq!(s(&[SliceRange::Len(-6, 1)]), None);
        assert_eq!(s(&[SliceRange::ToEnd(5)]), None);
    }

    #[test]
    fn literal_comparisons() {
        use std::net::Ipv4Addr;
        let net = Lit::V4(u32::from(Ipv4Addr::new(10, 0, 0, 0)), 0xffff_ff00);
        assert_eq!(
            cmp_lit(&Value::V4(Ipv4Addr::new(10, 0, 0, 9)), &net),
            Some(Ordering::Equal)
        );
        assert_eq!(
            cmp_lit(&Value::V4(Ipv4Addr::new(10, 0, 1, 9)), &net),
            Some(Ordering::Greater)
        );
        assert_eq!(cmp_lit(&Value::UInt(5), &Lit::Never), None);
        assert!(Rel::Ne.holds(None));
        assert!(!Rel::Eq.holds(None));
        assert!(!Rel::Lt.holds(None));
        assert_eq!(
            cmp_lit(
                &Value::Str(Cow::Borrowed("abc")),
                &Lit::Bytes(b"abd".to_vec())
            ),
            Some(Ordering::Less)
        );
        assert_eq!(mask(Value::UInt(0x12), &Lit::U(0x02)), Some(Value::UInt(2)));
        assert!(!non_zero(&Value::UInt(0)));
    }
}
