//! A batch's cells before they are Arrow columns: the fast columns are read from the
//! batch's rows ([`super::row`]), the others are filled into Arrow builders through the
//! registry. The writer thread turns each column into an Arrow array.

use super::row::{PacketRow, RowCol};
use super::{Builder, Col, Get, Kind};
use crate::fields::{self, PacketView, Value};
use arrow_array::ArrayRef;

/// One column's cells of the current batch.
pub(super) enum Cells {
    /// Read from the batch's [`PacketRow`]s (the packet table's fast columns).
    Row(RowCol),
    /// Read through the registry, straight into a builder (slow columns, lists, streams).
    Built(Builder),
}

impl Cells {
    pub(super) fn new(get: Get, kind: Kind) -> Cells {
        match get {
            Get::Row(c) => Cells::Row(c),
            Get::Generic | Get::All | Get::Stream(_) => Cells::Built(Builder::new(kind)),
        }
    }

    /// An empty batch of the same column.
    pub(super) fn fresh(&self, kind: Kind) -> Cells {
        match self {
            Cells::Row(c) => Cells::Row(*c),
            Cells::Built(_) => Cells::Built(Builder::new(kind)),
        }
    }

    /// The builder of a registry column.
    pub(super) fn builder(&mut self) -> &mut Builder {
        match self {
            Cells::Built(b) => b,
            Cells::Row(_) => unreachable!("a row column has no builder"),
        }
    }

    /// Column `c`'s cell of packet `v`, for a registry column (a row column's cell is in
    /// the packet's [`PacketRow`]).
    #[inline]
    pub(super) fn push<'a>(
        &mut self,
        c: &Col,
        v: &PacketView<'a>,
        text: &mut String,
        values: &mut Vec<Value<'a>>,
    ) {
        if let Cells::Built(b) = self {
            match c.get {
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
            }
        }
    }
}

/// Rows per block when the row columns are filled: 128 rows of about 220 bytes stay in
/// the first-level cache while each column is read from them.
pub(super) const BLOCK_ROWS: usize = 128;

/// The Arrow columns of a batch's `cells` (each with its column index), of the kinds
/// `kinds` gives by index; `rows`: the batch's rows (on the writer thread).
pub(super) fn into_arrays(
    cells: Vec<(usize, Cells)>,
    kinds: &[Kind],
    rows: &[PacketRow],
    fmt: &mut Formats,
) -> Vec<(usize, ArrayRef)> {
    let mut built: Vec<(usize, Option<RowCol>, Builder)> = cells
        .into_iter()
        .map(|(i, c)| match c {
            Cells::Row(col) => (i, Some(col), Builder::new(kinds[i])),
            Cells::Built(b) => (i, None, b),
        })
        .collect();
    for block in rows.chunks(BLOCK_ROWS) {
        for (_, col, b) in built.iter_mut() {
            if let Some(col) = col {
                col.extend(b, block, fmt);
            }
        }
    }
    built
        .into_iter()
        .map(|(i, _, mut b)| (i, b.finish()))
        .collect()
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
    /// An IPv4 address as text.
    pub(super) fn addr(&mut self, a: std::net::Ipv4Addr) -> &str {
        self.addrs.get(a)
    }
    pub(super) fn flags_str(&mut self, flags: u16) -> &str {
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
            slot.1.push_str(crate::track::V4Text::new(a).as_str());
        }
        &slot.1
    }
}
