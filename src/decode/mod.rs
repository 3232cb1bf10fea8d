//! Frame decoding: link layer, IP, and the transport headers hs-tui cares about.
//!
//! Contract (after smoltcp's `wire`): `decode` never panics, whatever the
//! bytes. Every frame yields a `Frame`; a frame that is cut short or
//! malformed keeps every layer that could be read and carries the reason in
//! `Frame::problem`. Etherparse slices the link and IP layers (VLAN, SLL v1,
//! IPv4, IPv6 and its extension headers); we add what it lacks: SLL2, BSD
//! NULL/loopback, and a TCP reader that tolerates truncation (see `tcp`).

pub mod checksum;
pub mod frag;
pub mod tcp;

use etherparse::LaxIpSlice;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
pub use tcp::{TcpHeader, TcpOptions, TcpProblem};

/// Link-layer header types (LINKTYPE_* values from pcap files and libpcap).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkType {
    Null,
    Ethernet,
    Raw,
    Loop,
    LinuxSll,
    LinuxSll2,
    Ipv4,
    Ipv6,
    Other(i32),
}

impl LinkType {
    pub fn from_linktype(v: i32) -> LinkType {
        match v {
            0 => LinkType::Null,
            1 => LinkType::Ethernet,
            101 | 12 | 14 => LinkType::Raw,
            108 => LinkType::Loop,
            113 => LinkType::LinuxSll,
            276 => LinkType::LinuxSll2,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            other => LinkType::Other(other),
        }
    }
    pub fn to_linktype(self) -> i32 {
        match self {
            LinkType::Null => 0,
            LinkType::Ethernet => 1,
            LinkType::Raw => 101,
            LinkType::Loop => 108,
            LinkType::LinuxSll => 113,
            LinkType::LinuxSll2 => 276,
            LinkType::Ipv4 => 228,
            LinkType::Ipv6 => 229,
            LinkType::Other(v) => v,
        }
    }
    /// The name Wireshark gives the link layer in `frame.protocols`.
    pub fn proto_name(self) -> &'static str {
        match self {
            LinkType::Null | LinkType::Loop => "null",
            LinkType::Ethernet => "eth",
            LinkType::Raw | LinkType::Ipv4 | LinkType::Ipv6 => "raw",
            LinkType::LinuxSll => "sll",
            LinkType::LinuxSll2 => "sll",
            LinkType::Other(_) => "unknown",
        }
    }
}

/// Which layers a frame has, for `frame.protocols` and display-filter protocol tests.
pub mod proto {
    pub const ETH: u32 = 1 << 0;
    pub const VLAN: u32 = 1 << 1;
    pub const SLL: u32 = 1 << 2;
    pub const NULL: u32 = 1 << 3;
    pub const IP: u32 = 1 << 4;
    pub const IPV6: u32 = 1 << 5;
    pub const ARP: u32 = 1 << 6;
    pub const ICMP: u32 = 1 << 7;
    pub const ICMPV6: u32 = 1 << 8;
    pub const TCP: u32 = 1 << 9;
    pub const UDP: u32 = 1 << 10;
    pub const RAW: u32 = 1 << 11;
    pub const IGMP: u32 = 1 << 12;
    /// The transport header came from reassembled IPv4 fragments (`decode::frag`).
    pub const REASSEMBLED: u32 = 1 << 13;
}

/// Encapsulation layers between the link header and IP (`Frame::layers`).
pub mod layer {
    /// 802.1Q tag (0x8100, 0x9100).
    pub const VLAN: u8 = 1;
    /// 802.1ad service tag (0x88a8).
    pub const QINQ: u8 = 2;
    /// An MPLS label stack (0x8847, 0x8848).
    pub const MPLS: u8 = 3;
    /// PPPoE session and its PPP header (0x8864).
    pub const PPPOE: u8 = 4;
    /// 802.1ah backbone service instance tag and the customer MAC header (0x88e7).
    pub const PBB: u8 = 5;
    /// Cisco VN-Tag (0x8926).
    pub const VNTAG: u8 = 6;
    /// Cisco FabricPath header and the inner Ethernet header (0x8903).
    pub const CFP: u8 = 7;
    /// MPLS pseudowire control word and the Ethernet frame it carries.
    pub const PWETH: u8 = 8;
    /// 802.1ah after an 802.1ad tag: Wireshark names no layer for it.
    pub const PBB_IN_QINQ: u8 = 9;

    /// The `frame.protocols` text of a layer (after the one before it).
    pub fn name(code: u8) -> &'static str {
        match code {
            VLAN => "vlan:ethertype",
            QINQ => "ieee8021ad:ethertype",
            MPLS => "mpls",
            PPPOE => "pppoes:ppp",
            PBB => "ieee8021ah:ethertype",
            VNTAG => "vntag:ethertype",
            CFP => "cfp:eth:ethertype",
            PWETH => "pwethheuristic:pwethcw:eth:ethertype",
            _ => "",
        }
    }
}

/// An IP header, reduced to what the tracker, output and filters need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpHeader {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// The transport protocol number (after IPv6 extension headers).
    pub proto: u8,
    pub ttl: u8,
    pub id: u16,
    pub tos: u8,
    /// IPv4 flags: more fragments / don't fragment; fragment offset in bytes.
    pub more_fragments: bool,
    pub dont_fragment: bool,
    pub frag_offset: u16,
    pub checksum: u16,
    /// Header length in bytes (IPv4 IHL*4, or 40 + extension headers for IPv6).
    pub hdr_len: u16,
    /// Total length field (IPv4) or payload length field (IPv6).
    pub len_field: u32,
    /// Offset of the IP header in the frame.
    pub offset: u32,
}

impl IpHeader {
    /// Nothing decoded yet (filled in place by the decoder).
    pub const EMPTY: IpHeader = IpHeader {
        src: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        dst: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        proto: 0,
        ttl: 0,
        id: 0,
        tos: 0,
        more_fragments: false,
        dont_fragment: false,
        frag_offset: 0,
        checksum: 0,
        hdr_len: 0,
        len_field: 0,
        offset: 0,
    };
    /// A header with these addresses and protocol and nothing else known
    /// (for records rebuilt without their bytes, and for tests).
    pub fn bare(src: IpAddr, dst: IpAddr, proto: u8) -> IpHeader {
        IpHeader {
            src,
            dst,
            proto,
            ..IpHeader::EMPTY
        }
    }

    pub fn is_v6(&self) -> bool {
        self.src.is_ipv6()
    }
    pub fn is_fragment(&self) -> bool {
        self.more_fragments || self.frag_offset != 0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdpHeader {
    pub src_port: u16,
    pub dst_port: u16,
    pub length: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcmpHeader {
    pub v6: bool,
    pub icmp_type: u8,
    pub code: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArpHeader {
    pub opcode: u16,
    pub sender_mac: [u8; 6],
    pub sender_ip: Ipv4Addr,
    pub target_mac: [u8; 6],
    pub target_ip: Ipv4Addr,
}

/// One decoded frame. Small, owned and `Copy`-free of borrowed data: layers
/// are values, payloads are offsets into the frame bytes kept beside it.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    /// 1-based, as Wireshark's `frame.number`.
    pub number: u64,
    /// Nanoseconds since the Unix epoch.
    pub ts_ns: i64,
    /// Original length on the wire.
    pub wire_len: u32,
    /// Bytes captured.
    pub cap_len: u32,
    pub link: LinkType,
    pub protos: u32,
    pub eth_src: Option<[u8; 6]>,
    pub eth_dst: Option<[u8; 6]>,
    /// The link layer's protocol type (ethertype), when there is one.
    pub ethertype: Option<u16>,
    pub vlan_tci: [u16; 3],
    pub vlan_count: u8,
    /// The encapsulation layers between the link header and IP, in order:
    /// up to 8 [`layer`] codes, one per 4 bits from the low end (0 ends the
    /// list); `frame.protocols` names them. Packed so the frame stays small.
    pub layers: u32,
    pub ip: Option<IpHeader>,
    /// The IP header quoted inside an ICMP error, if any.
    pub inner_ip: Option<IpHeader>,
    pub tcp: Option<TcpHeader>,
    pub udp: Option<UdpHeader>,
    pub icmp: Option<IcmpHeader>,
    pub arp: Option<ArpHeader>,
    /// Where the transport payload starts in the frame, and how many of its bytes were captured.
    pub payload_off: u32,
    pub payload_cap: u32,
    /// The first problem met, if any: the frame was cut short or is malformed.
    pub problem: Option<&'static str>,
    /// The frame was cut by the snaplen (caplen < what the headers declare).
    pub truncated: bool,
    /// `track::flow_hash`, when the capture thread computed it (0: not computed).
    pub flow_hash: u64,
}

impl Frame {
    /// A frame with nothing decoded yet.
    pub fn new(number: u64, ts_ns: i64, wire_len: u32, cap_len: u32, link: LinkType) -> Frame {
        Frame {
            number,
            ts_ns,
            wire_len,
            cap_len,
            link,
            protos: 0,
            eth_src: None,
            eth_dst: None,
            ethertype: None,
            vlan_tci: [0; 3],
            vlan_count: 0,
            layers: 0,
            ip: None,
            inner_ip: None,
            tcp: None,
            udp: None,
            icmp: None,
            arp: None,
            payload_off: 0,
            payload_cap: 0,
            problem: None,
            truncated: false,
            flow_hash: 0,
        }
    }

    pub fn has(&self, p: u32) -> bool {
        self.protos & p != 0
    }

    /// The TCP payload bytes that were captured.
    pub fn payload<'a>(&self, bytes: &'a [u8]) -> &'a [u8] {
        let start = (self.payload_off as usize).min(bytes.len());
        let end = (start + self.payload_cap as usize).min(bytes.len());
        &bytes[start..end]
    }

    /// The IP addresses that identify the TCP conversation: the quoted inner
    /// header's for an ICMP error, otherwise the outer one's.
    pub fn tcp_ip(&self) -> Option<&IpHeader> {
        match (&self.tcp, &self.inner_ip) {
            (Some(t), Some(inner)) if t.quoted => Some(inner),
            _ => self.ip.as_ref(),
        }
    }

    fn push_layer(&mut self, code: u8) {
        let n = self.layer_codes().count();
        if n < 8 {
            self.layers |= ((code & 0xf) as u32) << (4 * n);
        }
    }

    /// The encapsulation layers, outermost first.
    pub fn layer_codes(&self) -> impl Iterator<Item = u8> {
        let l = self.layers;
        (0..8)
            .map(move |i| ((l >> (4 * i)) & 0xf) as u8)
            .take_while(|&c| c != 0)
    }

    fn note(&mut self, problem: &'static str) {
        if self.problem.is_none() {
            self.problem = Some(problem);
        }
    }
}

/// Decode one frame. Never panics.
pub fn decode(link: LinkType, number: u64, ts_ns: i64, wire_len: u32, data: &[u8]) -> Frame {
    let mut f = Frame::new(number, ts_ns, wire_len, data.len() as u32, link);
    decode_into(&mut f, data);
    f
}

/// Decode into a fresh `Frame::new` already placed where it will live (the
/// capture thread's batch), saving a 300-byte move per packet.
pub fn decode_into(f: &mut Frame, data: &[u8]) {
    let link = f.link;
    let wire_len = f.wire_len;
    if (data.len() as u32) < wire_len {
        f.truncated = true;
    }
    // A damaged record header: more bytes captured than were on the wire. Wireshark
    // decodes every captured byte (the reported length is the larger of the two); so do
    // we, and say the record is damaged.
    if data.len() as u32 > wire_len {
        f.note("captured length larger than original length");
    }
    let base = data.as_ptr() as usize;
    match link {
        LinkType::Ethernet => {
            if data.len() < 14 {
                f.note("Ethernet header truncated");
            } else {
                f.protos |= proto::ETH;
                f.eth_dst = Some([data[0], data[1], data[2], data[3], data[4], data[5]]);
                f.eth_src = Some([data[6], data[7], data[8], data[9], data[10], data[11]]);
                let et = u16::from_be_bytes([data[12], data[13]]);
                f.ethertype = Some(et);
                ether_payload(f, base, et, &data[14..]);
            }
        }
        LinkType::LinuxSll | LinkType::LinuxSll2 => {
            let (hdr_len, proto_at) = if link == LinkType::LinuxSll {
                (16, 14)
            } else {
                (20, 0)
            };
            if data.len() < hdr_len {
                f.note("Linux cooked header truncated");
            } else {
                f.protos |= proto::SLL;
                let et = u16::from_be_bytes([data[proto_at], data[proto_at + 1]]);
                f.ethertype = Some(et);
                ether_payload(f, base, et, &data[hdr_len..]);
            }
        }
        LinkType::Null | LinkType::Loop => {
            if data.len() < 4 {
                f.note("loopback header truncated");
            } else {
                f.protos |= proto::NULL;
                let raw = [data[0], data[1], data[2], data[3]];
                // DLT_NULL is host byte order of the writer; DLT_LOOP is always big-endian.
                let family = if link == LinkType::Loop || raw[0] == 0 && raw[1] == 0 {
                    u32::from_be_bytes(raw)
                } else {
                    u32::from_le_bytes(raw)
                };
                match family {
                    2 | 24 | 28 | 30 => ip_only(f, base, &data[4..]),
                    _ => f.note("unknown loopback address family"),
                }
            }
        }
        LinkType::Raw | LinkType::Ipv4 | LinkType::Ipv6 => {
            f.protos |= proto::RAW;
            ip_only(f, base, data)
        }
        LinkType::Other(_) => f.note("unsupported link type"),
    }
}

/// What follows a link header with an ethertype: VLAN tags (802.1Q/QinQ),
/// MPLS, PPPoE, 802.1ah, VN-Tag and Cisco FabricPath (as Wireshark and Zeek
/// decode them), then IPv4, IPv6 or ARP. Other ethertypes are left undecoded.
fn ether_payload(f: &mut Frame, base: usize, mut et: u16, mut data: &[u8]) {
    // Bounded: every layer consumes bytes, and the layer list is bounded too.
    for _ in 0..16 {
        match et {
            0x8100 | 0x88a8 | 0x9100 => {
                if data.len() < 4 {
                    f.note("VLAN tag truncated");
                    return;
                }
                f.protos |= proto::VLAN;
                if (f.vlan_count as usize) < f.vlan_tci.len() {
                    f.vlan_tci[f.vlan_count as usize] = u16::from_be_bytes([data[0], data[1]]);
                    f.vlan_count += 1;
                }
                f.push_layer(if et == 0x88a8 {
                    layer::QINQ
                } else {
                    layer::VLAN
                });
                et = u16::from_be_bytes([data[2], data[3]]);
                data = &data[4..];
            }
            0x8847 | 0x8848 => {
                // Labels until the bottom of the stack, then IP by its version
                // nibble, or a pseudowire control word and an Ethernet frame.
                f.push_layer(layer::MPLS);
                loop {
                    if data.len() < 4 {
                        f.note("MPLS label truncated");
                        return;
                    }
                    let bottom = data[2] & 1 != 0;
                    data = &data[4..];
                    if bottom {
                        break;
                    }
                }
                match data.first().map(|b| b >> 4) {
                    Some(4) | Some(6) => return ip_only(f, base, data),
                    Some(0) if data.len() >= 18 => {
                        f.push_layer(layer::PWETH);
                        et = u16::from_be_bytes([data[16], data[17]]);
                        data = &data[18..];
                    }
                    _ => return,
                }
            }
            0x8864 => {
                // PPPoE session header (6 bytes), then the PPP protocol.
                if data.len() < 8 {
                    f.note("PPPoE header truncated");
                    return;
                }
                f.push_layer(layer::PPPOE);
                let ppp = u16::from_be_bytes([data[6], data[7]]);
                data = &data[8..];
                match ppp {
                    0x0021 | 0x0057 => return ip_only(f, base, data),
                    _ => return,
                }
            }
            0x88e7 => {
                // I-TAG (4 bytes), then the customer MAC header.
                if data.len() < 18 {
                    f.note("802.1ah header truncated");
                    return;
                }
                let after_qinq = f.layer_codes().last() == Some(layer::QINQ);
                f.push_layer(if after_qinq {
                    layer::PBB_IN_QINQ
                } else {
                    layer::PBB
                });
                et = u16::from_be_bytes([data[16], data[17]]);
                data = &data[18..];
            }
            0x8926 => {
                if data.len() < 6 {
                    f.note("VN-Tag truncated");
                    return;
                }
                f.push_layer(layer::VNTAG);
                et = u16::from_be_bytes([data[4], data[5]]);
                data = &data[6..];
            }
            0x8903 => {
                // FabricPath tag (2 bytes after the ethertype), then the inner Ethernet header.
                if data.len() < 16 {
                    f.note("FabricPath header truncated");
                    return;
                }
                f.push_layer(layer::CFP);
                et = u16::from_be_bytes([data[14], data[15]]);
                data = &data[16..];
            }
            0x0800 | 0x86dd => return ip_only(f, base, data),
            0x0806 => {
                f.protos |= proto::ARP;
                let b = data;
                if b.len() >= 28 {
                    let mac =
                        |at: usize| [b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4], b[at + 5]];
                    f.arp = Some(ArpHeader {
                        opcode: u16::from_be_bytes([b[6], b[7]]),
                        sender_mac: mac(8),
                        sender_ip: Ipv4Addr::new(b[14], b[15], b[16], b[17]),
                        target_mac: mac(18),
                        target_ip: Ipv4Addr::new(b[24], b[25], b[26], b[27]),
                    });
                } else {
                    f.note("ARP packet truncated");
                }
                return;
            }
            _ => return,
        }
    }
}

/// An IP packet: etherparse's lax IP slicer (IPv4, IPv6 and its extension
/// headers, lengths checked against what was captured), then our transport readers.
fn ip_only(f: &mut Frame, base: usize, data: &[u8]) {
    if data.is_empty() {
        f.note("no IP header");
        return;
    }
    let ip = f.ip.insert(IpHeader::EMPTY);
    let Some((payload, declared, fragmented)) = slice_ip(ip, base, data) else {
        f.ip = None;
        f.note("IP header malformed or truncated");
        return;
    };
    // Like Wireshark, believe the IP length only as far as the frame's reported length
    // reaches: the wire length, or the captured length when a damaged record has more.
    let reported = f.wire_len.max(f.cap_len);
    let on_wire = reported.saturating_sub(ip.offset + ip.hdr_len as u32);
    let declared = declared.map(|d| d.min(on_wire));
    let (v6, proto_num) = (ip.is_v6(), ip.proto);
    f.protos |= if v6 { proto::IPV6 } else { proto::IP };
    if payload.len() < declared.unwrap_or(0) as usize {
        f.truncated = true;
    }
    transport(f, base, proto_num, payload, declared, fragmented);
}

/// Slice an IP packet with etherparse's lax slicers and fill `out` in place
/// (a header built on the stack and moved costs a store-forwarding stall per
/// copy). Returns the captured payload, the payload length the header
/// declares, and whether the payload is a fragment.
#[inline]
fn slice_ip<'a>(
    out: &mut IpHeader,
    base: usize,
    data: &'a [u8],
) -> Option<(&'a [u8], Option<u32>, bool)> {
    // The IPv4 slicer alone is what LaxIpSlice runs for version 4, with a smaller result to move.
    if data[0] >> 4 == 4 {
        let (v4, _) = etherparse::LaxIpv4Slice::from_slice(data).ok()?;
        return Some(fill_v4(out, base, &v4));
    }
    match LaxIpSlice::from_slice(data).ok()?.0 {
        LaxIpSlice::Ipv4(v4) => Some(fill_v4(out, base, &v4)),
        LaxIpSlice::Ipv6(v6) => Some(fill_v6(out, base, &v6)),
    }
}

#[inline]
fn fill_v4<'a>(
    out: &mut IpHeader,
    base: usize,
    v4: &etherparse::LaxIpv4Slice<'a>,
) -> (&'a [u8], Option<u32>, bool) {
    let h = v4.header();
    let hdr_len = h.ihl() as u16 * 4;
    let total = h.total_len();
    let pl = v4.payload();
    let declared = if total >= hdr_len {
        Some((total - hdr_len) as u32)
    } else {
        None
    };
    // etherparse falls back to the captured length when total_len is 0 (TSO); so do we.
    let declared = match declared {
        Some(0) if total == 0 => Some(pl.payload.len() as u32),
        d => d,
    };
    let frag = h.fragments_offset();
    out.src = IpAddr::V4(h.source_addr());
    out.dst = IpAddr::V4(h.destination_addr());
    out.proto = h.protocol().0;
    out.ttl = h.ttl();
    out.id = h.identification();
    out.tos = h.slice()[1];
    out.more_fragments = h.more_fragments();
    out.dont_fragment = h.dont_fragment();
    out.frag_offset = frag.value().wrapping_mul(8);
    out.checksum = h.header_checksum();
    out.hdr_len = hdr_len;
    out.len_field = total as u32;
    out.offset = offset_of(base, h.slice());
    (pl.payload, declared, pl.fragmented)
}

#[inline]
fn fill_v6<'a>(
    out: &mut IpHeader,
    base: usize,
    v6: &etherparse::LaxIpv6Slice<'a>,
) -> (&'a [u8], Option<u32>, bool) {
    let h = v6.header();
    let pl = v6.payload();
    let ext_len = offset_of(h.slice().as_ptr() as usize, pl.payload).saturating_sub(40);
    let plen = h.payload_length() as u32;
    // A jumbogram (BIG TCP) has payload length 0 and its real length in a hop-by-hop option;
    // etherparse then takes the captured length, and so do we.
    let declared = if plen == 0 {
        Some(pl.payload.len() as u32)
    } else {
        plen.checked_sub(ext_len)
    };
    *out = IpHeader {
        src: IpAddr::V6(Ipv6Addr::from(h.source())),
        dst: IpAddr::V6(Ipv6Addr::from(h.destination())),
        proto: pl.ip_number.0,
        ttl: h.hop_limit(),
        id: 0,
        tos: h.traffic_class(),
        more_fragments: false,
        dont_fragment: false,
        frag_offset: 0,
        checksum: 0,
        hdr_len: 40 + ext_len as u16,
        len_field: plen,
        offset: offset_of(base, h.slice()),
    };
    if pl.fragmented {
        // The fragment header's offset, flag and (low 16 bits of the) identification,
        // for `frag::Defrag`.
        // Walked here with bounds checks: etherparse's extension iterator
        // trusts the slice, which a lax parse of a damaged header does not
        // guarantee (a fuzzed capture made it read past the end).
        if let Some((off, more, id)) =
            v6_fragment_header(h.next_header().0, v6.extensions().slice())
        {
            out.frag_offset = off;
            out.more_fragments = more;
            out.id = id as u16;
        }
    }
    (pl.payload, declared, pl.fragmented)
}

/// The fragment header among IPv6 extension headers `ext` (the first one's
/// type is `next`): byte offset, more-fragments flag and identification.
fn v6_fragment_header(mut next: u8, mut ext: &[u8]) -> Option<(u16, bool, u32)> {
    loop {
        let len = match next {
            44 => {
                let b = ext.get(..8)?;
                let field = u16::from_be_bytes([b[2], b[3]]);
                let id = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
                return Some((field & 0xfff8, field & 1 != 0, id));
            }
            0 | 43 | 60 => (*ext.get(1)? as usize + 1) * 8,
            51 => (*ext.get(1)? as usize + 2) * 4,
            _ => return None,
        };
        next = *ext.first()?;
        ext = ext.get(len..)?;
    }
}

fn offset_of(base: usize, s: &[u8]) -> u32 {
    (s.as_ptr() as usize).saturating_sub(base) as u32
}

fn transport(
    f: &mut Frame,
    base: usize,
    ip_proto: u8,
    payload: &[u8],
    declared: Option<u32>,
    fragmented: bool,
) {
    if fragmented {
        // Marked here; the capture thread's `frag::Defrag` puts IPv4 datagrams back
        // together and decodes the transport on the frame that completes one.
        f.note(frag::NOTE);
        return;
    }
    match ip_proto {
        6 => {
            let h = f.tcp.insert(TcpHeader::default());
            let Some(problem) = tcp::parse_into(h, payload, declared, false) else {
                f.tcp = None;
                f.note("TCP header truncated before the ports");
                return;
            };
            let (has_fixed, hl) = (h.has_fixed, h.hdr_len as usize);
            f.protos |= proto::TCP;
            if let Some(p) = problem {
                if p == TcpProblem::Truncated {
                    f.truncated = true;
                }
                f.note(p.reason());
            }
            if has_fixed && hl >= 20 && payload.len() > hl {
                f.payload_off = offset_of(base, &payload[hl..]);
                f.payload_cap = (payload.len() - hl) as u32;
            }
        }
        17 => {
            if payload.len() < 8 {
                f.note("UDP header truncated");
                return;
            }
            f.protos |= proto::UDP;
            let length = u16::from_be_bytes([payload[4], payload[5]]);
            f.udp = Some(UdpHeader {
                src_port: u16::from_be_bytes([payload[0], payload[1]]),
                dst_port: u16::from_be_bytes([payload[2], payload[3]]),
                length,
            });
            // The UDP length bounds the payload when it is plausible; else take what was captured.
            let end = if (8..=payload.len()).contains(&(length as usize)) {
                length as usize
            } else {
                payload.len()
            };
            f.payload_off = offset_of(base, &payload[8..]);
            f.payload_cap = (end - 8) as u32;
        }
        1 | 58 => {
            let v6 = ip_proto == 58;
            f.protos |= if v6 { proto::ICMPV6 } else { proto::ICMP };
            if payload.len() < 4 {
                f.note("ICMP header truncated");
                return;
            }
            let (t, code) = (payload[0], payload[1]);
            f.icmp = Some(IcmpHeader {
                v6,
                icmp_type: t,
                code,
            });
            let is_error = if v6 {
                (1..=4).contains(&t)
            } else {
                matches!(t, 3 | 4 | 5 | 11 | 12)
            };
            if is_error && payload.len() > 8 {
                quoted(f, base, &payload[8..]);
            }
        }
        2 => f.protos |= proto::IGMP,
        _ => {}
    }
}

/// An ICMP error quotes the offending IP header and the start of its
/// transport header; Wireshark dissects a quoted TCP header as TCP (it gets a
/// stream index, but raw numbers and no analysis).
fn quoted(f: &mut Frame, base: usize, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    let mut ip = IpHeader::EMPTY;
    let Some((payload, _, fragmented)) = slice_ip(&mut ip, base, data) else {
        return;
    };
    f.protos |= if ip.is_v6() { proto::IPV6 } else { proto::IP };
    f.inner_ip = Some(ip);
    if fragmented {
        return;
    }
    match ip.proto {
        6 => {
            if let Some((h, _)) = tcp::parse(payload, None, true) {
                f.protos |= proto::TCP;
                // Whatever the error quoted beyond the header is the quoted segment's payload.
                let hl = h.hdr_len as usize;
                if h.has_fixed && hl >= 20 && payload.len() > hl {
                    f.payload_off = offset_of(base, &payload[hl..]);
                    f.payload_cap = (payload.len() - hl) as u32;
                }
                f.tcp = Some(h);
            }
        }
        17 if payload.len() >= 8 => {
            f.protos |= proto::UDP;
            f.udp = Some(UdpHeader {
                src_port: u16::from_be_bytes([payload[0], payload[1]]),
                dst_port: u16::from_be_bytes([payload[2], payload[3]]),
                length: u16::from_be_bytes([payload[4], payload[5]]),
            });
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests;
