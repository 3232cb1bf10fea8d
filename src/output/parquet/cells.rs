//! A batch's cells before they are Arrow columns. The thread that tracks packets only
//! stores each fast column's value as it was read (an integer, a flags word, an address,
//! a `&'static` name); the writer thread turns a whole column into an Arrow array at once,
//! formatting addresses and flags there. Filling Arrow builders cell by cell on the
//! tracking thread cost three times the tracking itself.

use super::{Builder, Col, Get, Kind};
use crate::fields::{self, PacketView, Value};
use arrow_array::builder::StringBuilder;
use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int32Array, Int64Array, StringArray,
    TimestampMicrosecondArray,
};
use std::net::IpAddr;
use std::sync::Arc;

/// `hs.history` as the flow holds it: short, fixed-size, so copied without allocating.
#[derive(Clone, Copy)]
pub(super) struct History {
    bytes: [u8; 24],
    len: u8,
}

impl History {
    fn of(f: &crate::track::FlowSummary) -> History {
        let (bytes, len) = f.zeek.history_raw();
        History {
            bytes,
            len: len.min(24) as u8,
        }
    }
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or("")
    }
}

/// One column's cells of the current batch.
pub(super) enum Cells {
    Int(fields::FastU64, Vec<Option<u64>>),
    Flag(fn(&PacketView<'_>) -> bool, Vec<bool>),
    /// Nanoseconds.
    Time(fn(&PacketView<'_>) -> Option<i64>, Vec<Option<i64>>),
    Name(
        fn(&PacketView<'_>) -> Option<&'static str>,
        Vec<Option<&'static str>>,
    ),
    History(Vec<Option<History>>),
    Ip {
        v6: bool,
        dst: bool,
        cells: Vec<Option<IpAddr>>,
    },
    Flags(Vec<Option<u16>>),
    /// Read through the registry, straight into a builder (slow columns, lists, streams).
    Built(Builder),
}

impl Cells {
    pub(super) fn new(get: Get, kind: Kind, rows: usize) -> Cells {
        match get {
            Get::U64(g) => Cells::Int(g, Vec::with_capacity(rows)),
            Get::Flag(g) => Cells::Flag(g, Vec::with_capacity(rows)),
            Get::Time(g) => Cells::Time(g, Vec::with_capacity(rows)),
            Get::Str(g) => Cells::Name(g, Vec::with_capacity(rows)),
            Get::History => Cells::History(Vec::with_capacity(rows)),
            Get::Ip { v6, dst } => Cells::Ip {
                v6,
                dst,
                cells: Vec::with_capacity(rows),
            },
            Get::FlagsStr => Cells::Flags(Vec::with_capacity(rows)),
            Get::Generic | Get::All => Cells::Built(Builder::new(kind)),
        }
    }

    /// An empty batch of the same column.
    pub(super) fn fresh(&self, kind: Kind, rows: usize) -> Cells {
        match self {
            Cells::Int(g, _) => Cells::Int(*g, Vec::with_capacity(rows)),
            Cells::Flag(g, _) => Cells::Flag(*g, Vec::with_capacity(rows)),
            Cells::Time(g, _) => Cells::Time(*g, Vec::with_capacity(rows)),
            Cells::Name(g, _) => Cells::Name(*g, Vec::with_capacity(rows)),
            Cells::History(_) => Cells::History(Vec::with_capacity(rows)),
            Cells::Ip { v6, dst, .. } => Cells::Ip {
                v6: *v6,
                dst: *dst,
                cells: Vec::with_capacity(rows),
            },
            Cells::Flags(_) => Cells::Flags(Vec::with_capacity(rows)),
            Cells::Built(_) => Cells::Built(Builder::new(kind)),
        }
    }

    /// The builder of a registry column.
    pub(super) fn builder(&mut self) -> &mut Builder {
        match self {
            Cells::Built(b) => b,
            _ => unreachable!("a fast column has no builder"),
        }
    }

    /// Column `c`'s cell of packet `v`.
    #[inline]
    pub(super) fn push<'a>(
        &mut self,
        c: &Col,
        v: &PacketView<'a>,
        text: &mut String,
        values: &mut Vec<Value<'a>>,
    ) {
        match self {
            Cells::Int(g, cells) => cells.push(g(v)),
            Cells::Flag(g, cells) => cells.push(g(v)),
            Cells::Time(g, cells) => cells.push(g(v)),
            Cells::Name(g, cells) => cells.push(g(v)),
            Cells::History(cells) => cells.push(v.flow.map(History::of)),
            Cells::Ip { v6, dst, cells } => {
                let ip = v.ips().find(|i| i.is_v6() == *v6);
                cells.push(ip.map(|i| if *dst { i.dst } else { i.src }));
            }
            Cells::Flags(cells) => {
                cells.push(v.tcpf().filter(|t| !t.bogus_hdr_len()).map(|t| t.flags))
            }
            Cells::Built(b) => match c.get {
                Get::All => {
                    if v.tls.is_none() && c.field.name.starts_with("tls.") {
                        b.push_all(None, text);
                    } else {
                        c.field.values(v, values);
                        b.push_all(Some(values), text);
                    }
                }
                _ => {
                    c.field.values(v, values);
                    b.push(values.first(), text);
                }
            },
        }
    }

    /// The Arrow column, of `kind` (on the writer thread).
    pub(super) fn into_array(self, kind: Kind, fmt: &mut Formats) -> ArrayRef {
        match self {
            Cells::Int(_, cells) => match kind {
                Kind::I32 => Arc::new(Int32Array::from_iter(
                    cells.iter().map(|x| x.and_then(|x| i32::try_from(x).ok())),
                )),
                _ => Arc::new(Int64Array::from_iter(
                    cells.iter().map(|x| x.and_then(|x| i64::try_from(x).ok())),
                )),
            },
            Cells::Flag(_, cells) => Arc::new(BooleanArray::from(cells)),
            Cells::Time(_, cells) => match kind {
                Kind::Timestamp => Arc::new(
                    TimestampMicrosecondArray::from_iter(
                        cells.iter().map(|x| x.map(|ns| ns.div_euclid(1000))),
                    )
                    .with_timezone("UTC"),
                ),
                _ => Arc::new(Float64Array::from_iter(
                    cells.iter().map(|x| x.map(|ns| ns as f64 / 1e9)),
                )),
            },
            Cells::Name(_, cells) => Arc::new(cells.into_iter().collect::<StringArray>()),
            Cells::History(cells) => Arc::new(
                cells
                    .iter()
                    .map(|h| h.as_ref().map(History::as_str))
                    .collect::<StringArray>(),
            ),
            Cells::Ip { cells, .. } => {
                let mut b = StringBuilder::with_capacity(cells.len(), cells.len() * 10);
                for ip in &cells {
                    match ip {
                        Some(IpAddr::V4(a)) => b.append_value(fmt.addrs.get(*a)),
                        Some(a) => b.append_value(a.to_string()),
                        None => b.append_null(),
                    }
                }
                Arc::new(b.finish())
            }
            Cells::Flags(cells) => {
                let mut b = StringBuilder::with_capacity(cells.len(), cells.len() * 10);
                for f in &cells {
                    match f {
                        Some(f) => b.append_value(fmt.flags_str(*f)),
                        None => b.append_null(),
                    }
                }
                Arc::new(b.finish())
            }
            Cells::Built(mut b) => b.finish(),
        }
    }
}

/// The writer thread's formatting caches.
pub(super) struct Formats {
    addrs: AddrCache,
    flags: Vec<Option<Box<str>>>,
    other: String,
}

impl Formats {
    pub(super) fn new() -> Formats {
        Formats {
            addrs: AddrCache::new(),
            flags: vec![None; 1 << 12],
            other: String::new(),
        }
    }
    fn flags_str(&mut self, flags: u16) -> &str {
        match self.flags.get_mut(flags as usize) {
            Some(slot) => {
                slot.get_or_insert_with(|| fields::info::flags_str(flags).into_boxed_str())
            }
            // Beyond the 12 bits the table covers (never seen in practice): not cached.
            None => {
                self.other = fields::info::flags_str(flags);
                &self.other
            }
        }
    }
}

/// Formatted IPv4 addresses, by address: formatting each one per row costs more than
/// the rest of the row. Direct-mapped, so a miss costs one formatting.
struct AddrCache {
    slots: Vec<(u32, String)>,
}

impl AddrCache {
    const SLOTS: usize = 1024;
    fn new() -> AddrCache {
        // An empty string: an empty slot.
        AddrCache {
            slots: vec![(0, String::new()); Self::SLOTS],
        }
    }
    #[inline]
    fn get(&mut self, a: std::net::Ipv4Addr) -> &str {
        let bits = u32::from(a);
        let i = (bits.wrapping_mul(0x9E37_79B9) >> 22) as usize % Self::SLOTS;
        let slot = &mut self.slots[i];
        if slot.0 != bits || slot.1.is_empty() {
            slot.0 = bits;
            slot.1.clear();
            let mut n = itoa::Buffer::new();
            for (k, o) in a.octets().iter().enumerate() {
                if k > 0 {
                    slot.1.push('.');
                }
                slot.1.push_str(n.format(*o));
            }
        }
        &slot.1
    }
}
