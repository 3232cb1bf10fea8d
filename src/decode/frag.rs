//! IPv4 and IPv6 fragment reassembly, as tshark does it by default: the fragments of
//! one datagram (same addresses, identification and protocol) are collected
//! in capture order, in any order of offsets, and the frame that completes
//! the datagram carries its transport header (TCP or UDP), decoded from the
//! reassembled bytes. Frames before it stay marked as fragments.
//!
//! Runs where frames are decoded in capture order (the capture thread). A
//! reassembled frame has `proto::REASSEMBLED`; its transport payload is not
//! in the frame's own bytes, so `payload_cap` is 0 (the payload bytes are
//! not shown, nor checked by the checksum verifier).
//!
//! Bounded: at most `MAX_PENDING` datagrams and `MAX_BYTES` bytes wait for
//! their missing fragments; beyond that the oldest are dropped.

use super::{proto, tcp, Frame, UdpHeader};
use std::collections::VecDeque;
use std::net::IpAddr;

type FoldMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

const MAX_PENDING: usize = 4096;
const MAX_BYTES: usize = 16 << 20;

/// The note the decoder leaves on a fragment it could not decode further.
pub const NOTE: &str = "IP fragment (not reassembled)";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    src: IpAddr,
    dst: IpAddr,
    id: u16,
    proto: u8,
}

#[derive(Default)]
struct Pending {
    /// (offset, bytes) as they came.
    pieces: Vec<(u32, Vec<u8>)>,
    /// Known once the last fragment (MF clear) was seen.
    total: Option<u32>,
    bytes: usize,
}

impl Pending {
    /// The datagram's payload, once every byte up to the end is covered.
    fn complete(&mut self) -> Option<Vec<u8>> {
        let total = self.total? as usize;
        self.pieces.sort_by_key(|p| p.0);
        let mut covered = 0usize;
        for (off, b) in &self.pieces {
            if *off as usize > covered {
                return None;
            }
            covered = covered.max(*off as usize + b.len());
        }
        if covered < total {
            return None;
        }
        let mut out = vec![0u8; total];
        for (off, b) in &self.pieces {
            let start = (*off as usize).min(total);
            let end = (start + b.len()).min(total);
            out[start..end].copy_from_slice(&b[..end - start]);
        }
        Some(out)
    }
}

/// Fragments waiting for the rest of their datagram (IPv6 identifications
/// are keyed on their low 16 bits).
#[derive(Default)]
pub struct Defrag {
    table: FoldMap<Key, Pending>,
    order: VecDeque<Key>,
    bytes: usize,
}

impl Defrag {
    /// A frame the decoder marked as an IPv4 fragment: keep its piece, and if
    /// it completes the datagram, decode the transport header into the frame.
    pub fn feed(&mut self, f: &mut Frame, bytes: &[u8]) {
        let Some(ip) = f.ip.filter(|i| i.is_fragment()) else {
            return;
        };
        if f.inner_ip.is_some() {
            return;
        }
        let start = ip.offset as usize + ip.hdr_len as usize;
        // IPv4's length counts its header; IPv6's payload length counts the extension headers.
        let whole = if ip.is_v6() {
            ip.len_field as usize + 40
        } else {
            ip.len_field as usize
        };
        let declared = whole.saturating_sub(ip.hdr_len as usize);
        // A fragment cut by the snaplen cannot be put back together (nor can tshark).
        let Some(piece) = bytes.get(start..start + declared) else {
            return;
        };
        let key = Key {
            src: ip.src,
            dst: ip.dst,
            id: ip.id,
            proto: ip.proto,
        };
        let off = ip.frag_offset as u32;
        if !self.table.contains_key(&key) {
            self.order.push_back(key);
        }
        let p = self.table.entry(key).or_default();
        p.pieces.push((off, piece.to_vec()));
        p.bytes += piece.len();
        self.bytes += piece.len();
        if !ip.more_fragments {
            p.total = Some(off + piece.len() as u32);
        }
        if let Some(data) = p.complete() {
            let freed = p.bytes;
            self.table.remove(&key);
            self.bytes -= freed;
            transport(f, ip.proto, &data);
        }
        self.bound();
    }

    fn bound(&mut self) {
        while self.table.len() > MAX_PENDING || self.bytes > MAX_BYTES {
            let Some(k) = self.order.pop_front() else {
                break;
            };
            if let Some(p) = self.table.remove(&k) {
                self.bytes -= p.bytes;
            }
        }
        if self.order.len() > 2 * self.table.len() + 64 {
            let table = &self.table;
            self.order.retain(|k| table.contains_key(k));
        }
    }
}

/// The transport header of a reassembled datagram, into the frame.
fn transport(f: &mut Frame, ip_proto: u8, data: &[u8]) {
    match ip_proto {
        6 => {
            let mut h = tcp::TcpHeader::default();
            let Some(problem) = tcp::parse_into(&mut h, data, Some(data.len() as u32), false)
            else {
                return;
            };
            f.tcp = Some(h);
            f.protos |= proto::TCP | proto::REASSEMBLED;
            f.problem = problem.map(|p| p.reason());
        }
        17 if data.len() >= 8 => {
            f.udp = Some(UdpHeader {
                src_port: u16::from_be_bytes([data[0], data[1]]),
                dst_port: u16::from_be_bytes([data[2], data[3]]),
                length: u16::from_be_bytes([data[4], data[5]]),
            });
            f.protos |= proto::UDP | proto::REASSEMBLED;
            f.problem = None;
        }
        _ => {}
    }
    f.payload_off = 0;
    f.payload_cap = 0;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{decode, LinkType};

    /// An IPv4 fragment of protocol 6 carrying `payload` at `off`.
    fn frag(id: u16, off: u16, more: bool, payload: &[u8]) -> Vec<u8> {
        let flags = (if more { 0x2000 } else { 0 }) | (off / 8);
        let len = 20 + payload.len() as u16;
        let mut v = vec![0x45, 0];
        v.extend_from_slice(&len.to_be_bytes());
        v.extend_from_slice(&id.to_be_bytes());
        v.extend_from_slice(&flags.to_be_bytes());
        v.extend_from_slice(&[64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        v.extend_from_slice(payload);
        v
    }

    fn feed(d: &mut Defrag, bytes: &[u8]) -> Frame {
        let mut f = decode(LinkType::Raw, 1, 0, bytes.len() as u32, bytes);
        if f.problem == Some(NOTE) {
            d.feed(&mut f, bytes);
        }
        f
    }

    fn syn_with(n: usize) -> Vec<u8> {
        let mut t = vec![
            0x9c, 0x40, 0, 80, 0, 0, 3, 0xe8, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
        ];
        t.extend(std::iter::repeat_n(b'x', n));
        t
    }

    #[test]
    fn reassembles_in_any_order_on_the_completing_frame() {
        let t = syn_with(40);
        let mut d = Defrag::default();
        let last = feed(&mut d, &frag(7, 24, false, &t[24..]));
        assert!(last.tcp.is_none() && d.table.len() == 1);
        let first = feed(&mut d, &frag(7, 0, true, &t[..24]));
        let h = first.tcp.expect("reassembled on the completing frame");
        assert_eq!(
            (h.src_port, h.seg_len, first.problem),
            (40000, Some(40), None)
        );
        assert!(first.has(proto::REASSEMBLED) && d.table.is_empty() && d.bytes == 0);
    }

    #[test]
    fn a_hole_keeps_waiting_and_pending_datagrams_are_bounded() {
        let t = syn_with(40);
        let mut d = Defrag::default();
        feed(&mut d, &frag(1, 0, true, &t[..16]));
        let f = feed(&mut d, &frag(1, 24, false, &t[24..]));
        assert!(f.tcp.is_none(), "bytes 16..24 missing");
        for id in 0..(MAX_PENDING as u16 + 100) {
            feed(&mut d, &frag(id.wrapping_add(2), 0, true, &t[..16]));
        }
        assert!(d.table.len() <= MAX_PENDING && d.order.len() <= 2 * MAX_PENDING + 64);
    }
}
