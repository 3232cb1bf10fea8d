//! What a packet's row shows of the diff: the `hs.diff.*` fields read it
//! through `PacketView::diff`, which only `hs-tui diff` sets (the plain `-r`
//! path leaves it `None` and pays nothing).

use super::{Conn, PktDiff, Side};
use crate::fields::{PacketView, Value};
use std::borrow::Cow;

/// One packet's diff annotation, borrowed for the time it is printed or filtered.
#[derive(Clone, Copy, Debug)]
pub struct DiffView<'a> {
    pub side: Side,
    pub row: &'a PktDiff,
    /// Frame numbers of the same packet in the other capture (every copy, on a sender's row).
    pub peer_frames: &'a [u64],
    /// B's clock minus A's, ns.
    pub clock_offset_ns: i64,
    pub conn: Option<&'a Conn>,
}

fn u8v(b: bool) -> Value<'static> {
    Value::UInt(b as u64)
}

pub fn side<'a>(p: &PacketView<'a>, o: &mut Vec<Value<'a>>) {
    if let Some(d) = p.diff {
        o.push(Value::Str(Cow::Borrowed(d.side.letter())));
    }
}
pub fn peer_frame<'a>(p: &PacketView<'a>, o: &mut Vec<Value<'a>>) {
    if let Some(d) = p.diff {
        o.extend(d.peer_frames.iter().map(|&f| Value::UInt(f)));
    }
}
pub fn lost<'a>(p: &PacketView<'a>, o: &mut Vec<Value<'a>>) {
    if let Some(d) = p.diff {
        o.push(u8v(d.row.lost()));
    }
}
pub fn capture_drop<'a>(p: &PacketView<'a>, o: &mut Vec<Value<'a>>) {
    if let Some(d) = p.diff {
        o.push(u8v(d.row.unseen_at_sender()));
    }
}
pub fn owd<'a>(p: &PacketView<'a>, o: &mut Vec<Value<'a>>) {
    if let Some(d) = p.diff.filter(|d| d.row.owd != super::matching::NO_OWD) {
        o.push(Value::Time(d.row.owd));
    }
}
pub fn clock_offset<'a>(p: &PacketView<'a>, o: &mut Vec<Value<'a>>) {
    if let Some(d) = p.diff {
        o.push(Value::Time(d.clock_offset_ns));
    }
}
pub fn reordered<'a>(p: &PacketView<'a>, o: &mut Vec<Value<'a>>) {
    if let Some(d) = p.diff {
        o.push(u8v(d.row.reordered));
    }
}
pub fn duplicate<'a>(p: &PacketView<'a>, o: &mut Vec<Value<'a>>) {
    if let Some(d) = p.diff {
        o.push(u8v(d.row.duplicate()));
    }
}
pub fn copies<'a>(p: &PacketView<'a>, o: &mut Vec<Value<'a>>) {
    if let Some(d) = p.diff.filter(|d| d.row.sender) {
        o.push(Value::UInt(d.row.copies as u64));
    }
}
pub fn role<'a>(p: &PacketView<'a>, o: &mut Vec<Value<'a>>) {
    if let Some(d) = p.diff {
        let r = if d.row.sender { "sender" } else { "receiver" };
        o.push(Value::Str(Cow::Borrowed(r)));
    }
}
pub fn dir<'a>(p: &PacketView<'a>, o: &mut Vec<Value<'a>>) {
    if let Some(d) = p.diff {
        let r = if d.row.dir_ab { "a2b" } else { "b2a" };
        o.push(Value::Str(Cow::Borrowed(r)));
    }
}
fn conn<'a>(p: &PacketView<'a>) -> Option<&'a Conn> {
    p.diff.and_then(|d| d.conn)
}
pub fn conn_id<'a>(p: &PacketView<'a>, o: &mut Vec<Value<'a>>) {
    o.extend(conn(p).map(|c| Value::UInt(c.id as u64)));
}
pub fn handshake<'a>(p: &PacketView<'a>, o: &mut Vec<Value<'a>>) {
    o.extend(conn(p).map(|c| Value::Str(Cow::Borrowed(c.handshake.as_str()))));
}
pub fn result<'a>(p: &PacketView<'a>, o: &mut Vec<Value<'a>>) {
    o.extend(conn(p).map(|c| Value::Str(Cow::Borrowed(c.result.name()))));
}
pub fn verdict<'a>(p: &PacketView<'a>, o: &mut Vec<Value<'a>>) {
    o.extend(conn(p).map(|c| Value::Str(Cow::Borrowed(c.verdict.as_str()))));
}
pub fn problem<'a>(p: &PacketView<'a>, o: &mut Vec<Value<'a>>) {
    o.extend(conn(p).map(|c| u8v(c.problem)));
}
pub fn syn_lost<'a>(p: &PacketView<'a>, o: &mut Vec<Value<'a>>) {
    o.extend(conn(p).map(|c| Value::UInt(c.syn_lost as u64)));
}
pub fn synack_lost<'a>(p: &PacketView<'a>, o: &mut Vec<Value<'a>>) {
    o.extend(conn(p).map(|c| Value::UInt(c.synack_lost as u64)));
}
pub fn client_wait<'a>(p: &PacketView<'a>, o: &mut Vec<Value<'a>>) {
    o.extend(conn(p).and_then(|c| c.client_wait).map(Value::Time));
}
pub fn server_wait<'a>(p: &PacketView<'a>, o: &mut Vec<Value<'a>>) {
    o.extend(conn(p).and_then(|c| c.server_wait).map(Value::Time));
}
