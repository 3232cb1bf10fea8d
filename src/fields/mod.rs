//! The one field registry: every field hs-tui can print (`-T fields -e`),
//! list (`--list-fields`), put in JSON, or test in a display filter.
//! Names and value formats follow tshark 4.0.17 wherever tshark has the
//! field; hs-tui's own handshake fields live under `hs.`.

mod fast;
pub mod info;
mod labels;
mod tls;
mod value;

pub use fast::{fast_getter, fast_u64, FastGetter, FastU64, Scalars};
pub use tls::needs_tls;
pub use value::{write_mac, write_secs, FieldType, Value};

use crate::decode::tcp::flags as fl;
use crate::decode::{proto, Frame, IpHeader, TcpHeader};
use crate::track::{analysis::flag, FlowSummary, TcpMeta};
use std::borrow::Cow;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::OnceLock;

/// Everything known about one packet, borrowed for the time it is printed or filtered.
#[derive(Clone, Copy)]
pub struct PacketView<'a> {
    pub frame: &'a Frame,
    pub bytes: &'a [u8],
    pub meta: Option<&'a TcpMeta>,
    pub flow: Option<&'a FlowSummary>,
    /// Timestamp of the capture's first frame, and of the previous frame.
    pub first_ts: i64,
    pub prev_ts: i64,
    /// The application protocol as the engine recognised it, following TLS
    /// records and HTTP messages across segments in capture order
    /// (`Some(None)`: none). `None` when not computed: a filter then judges
    /// the segment alone, which gives the same answer for every segment the
    /// engine would not have looked at.
    pub app: Option<Option<crate::filter::protocols::AppProto>>,
    /// The two-point diff's annotation (`hs-tui diff` only; `None` elsewhere).
    pub diff: Option<&'a crate::diff::DiffView<'a>>,
    /// What the engine's TLS dissector found in this frame (`None`: no TLS
    /// record, or dissection off).
    pub tls: Option<&'a crate::engine::tls::TlsFrame>,
    /// What the packet's TLS conversation negotiated so far (`hs.tls.*`).
    pub tls_stream: Option<&'a crate::engine::tls::TlsSummary>,
}

impl<'a> PacketView<'a> {
    pub fn tcp(&self) -> Option<&'a TcpHeader> {
        self.frame.tcp.as_ref()
    }
    /// The TCP header, only when it has the fixed part (16+ bytes).
    pub(crate) fn tcpf(&self) -> Option<&'a TcpHeader> {
        self.frame.tcp.as_ref().filter(|t| t.has_fixed)
    }
    /// Relative numbers only when the tracker analysed the segment.
    pub(crate) fn analyzed(&self) -> Option<&'a TcpMeta> {
        self.meta.filter(|m| m.analyzed)
    }
    pub(crate) fn ips(&self) -> impl Iterator<Item = &'a IpHeader> {
        self.frame.ip.iter().chain(self.frame.inner_ip.iter())
    }
}

pub type Getter = for<'a> fn(&PacketView<'a>, &mut Vec<Value<'a>>);

/// The registry's fields with one value per stream (the stream as of a packet): the
/// flows table filters on them as on its own columns, and the Parquet stream table has
/// a column of each but `hs.start` (its `hs_start` is a timestamp), in this order.
pub const FLOW_FIELDS: &[&str] = &[
    "hs.client",
    "hs.client_port",
    "hs.server",
    "hs.server_port",
    "hs.state",
    "hs.conn_state",
    "hs.history",
    "hs.completeness",
    "hs.rtt",
    "hs.rtt.syn_synack",
    "hs.rtt.synack_ack",
    "hs.rtt.syn_rst",
    "hs.rtt.syn_data",
    "hs.syn_retransmissions",
    "hs.synack_retransmissions",
    "hs.wrong_ack",
    "hs.packets",
    "hs.bytes",
    "hs.duration",
    "hs.mss.client",
    "hs.mss.server",
    "hs.wscale.client",
    "hs.wscale.server",
    "hs.sack_permitted",
    "hs.timestamps",
    "hs.ecn",
    "hs.tfo",
    "hs.simultaneous_open",
    "hs.start",
];

pub struct Field {
    pub name: &'static str,
    pub ty: FieldType,
    pub desc: &'static str,
    pub get: Getter,
}

impl Field {
    /// Collect this field's occurrences in `p` into `out` (cleared first).
    #[inline]
    pub fn values<'a>(&self, p: &PacketView<'a>, out: &mut Vec<Value<'a>>) {
        out.clear();
        (self.get)(p, out);
    }
}

const HEX2: FieldType = FieldType::UInt { max: 0xff, hex: 2 };
const HEX4: FieldType = FieldType::UInt {
    max: 0xffff,
    hex: 4,
};
const FLAGS: FieldType = FieldType::UInt { max: 0xfff, hex: 4 };

fn u(v: impl Into<u64>) -> Value<'static> {
    Value::UInt(v.into())
}
fn s(v: &'static str) -> Value<'static> {
    Value::Str(Cow::Borrowed(v))
}
fn ip_value(a: IpAddr) -> Value<'static> {
    match a {
        IpAddr::V4(a) => Value::V4(a),
        IpAddr::V6(a) => Value::V6(a),
    }
}

macro_rules! tcp_flag {
    ($name:literal, $bit:expr, $desc:literal) => {
        Field {
            name: $name,
            ty: FieldType::Bool,
            desc: $desc,
            get: |p, o| {
                // tshark stops before the flags on a bogus (< 20) header length.
                if let Some(t) = p.tcpf().filter(|t| !t.bogus_hdr_len()) {
                    o.push(Value::Bool(t.flags & $bit != 0))
                }
            },
        }
    };
}

macro_rules! analysis_flag {
    ($name:literal, $bit:expr, $desc:literal) => {
        Field {
            name: $name,
            ty: FieldType::None,
            desc: $desc,
            get: |p, o| {
                if p.meta.is_some_and(|m| m.analysis.flags & $bit != 0) {
                    o.push(Value::Present)
                }
            },
        }
    };
}

/// A TCP expert item of tshark's, as a field present on the packets that raise it.
macro_rules! expert_field {
    ($name:literal, $desc:literal, $test:expr) => {
        Field {
            name: $name,
            ty: FieldType::None,
            desc: $desc,
            get: |p, o| {
                let test: fn(&PacketView<'_>, &TcpHeader) -> bool = $test;
                if p.tcpf().is_some_and(|t| !t.bogus_hdr_len() && test(p, t)) {
                    o.push(Value::Present)
                }
            },
        }
    };
}

/// `tcp.analysis.duplicate_ack` occurs twice in tshark's tree (the flag and
/// its expert item), so `-T fields` prints `1,1`.
fn dup_ack_field<'a>(p: &PacketView<'a>, o: &mut Vec<Value<'a>>) {
    if p.meta
        .is_some_and(|m| m.analysis.flags & flag::DUPLICATE_ACK != 0)
    {
        o.push(Value::Present);
        o.push(Value::Present);
    }
}

macro_rules! proto_field {
    ($name:literal, $bit:expr, $desc:literal) => {
        Field {
            name: $name,
            ty: FieldType::Protocol,
            desc: $desc,
            get: |p, o| {
                if p.frame.has($bit) {
                    o.push(Value::Present)
                }
            },
        }
    };
}

thread_local! {
    /// `frame.file`: the capture this thread is reading (`None`: live or standard input).
    static CAPTURE_FILE: std::cell::RefCell<Option<std::sync::Arc<str>>> =
        const { std::cell::RefCell::new(None) };
}

/// Say which capture file the packets this thread dissects come from (`frame.file`);
/// `None` for a live capture or standard input. Set once per capture, before its packets.
pub fn set_capture_file(name: Option<&str>) {
    CAPTURE_FILE.with(|c| *c.borrow_mut() = name.map(std::sync::Arc::from));
}

fn capture_file(o: &mut Vec<Value<'_>>) {
    CAPTURE_FILE.with(|c| {
        if let Some(s) = &*c.borrow() {
            o.push(Value::Str(Cow::Owned(s.to_string())))
        }
    })
}

/// The registry. Order is the order of `--list-fields`.
pub static FIELDS: &[Field] = &[
    // ---- frame ----
    Field { name: "frame", ty: FieldType::Protocol, desc: "Frame", get: |_, o| o.push(Value::Present) },
    Field { name: "frame.number", ty: FieldType::U32, desc: "Frame number, from 1", get: |p, o| o.push(u(p.frame.number)) },
    Field {
        name: "frame.time_epoch",
        ty: FieldType::AbsTime,
        desc: "Capture time, seconds since the epoch",
        get: |p, o| o.push(Value::Time(p.frame.ts_ns)),
    },
    Field {
        name: "frame.time_relative",
        ty: FieldType::RelTime,
        desc: "Time since the first frame",
        get: |p, o| o.push(Value::Time(p.frame.ts_ns - p.first_ts)),
    },
    Field {
        name: "frame.time_delta",
        ty: FieldType::RelTime,
        desc: "Time since the previous frame",
        get: |p, o| o.push(Value::Time(p.frame.ts_ns - p.prev_ts)),
    },
    Field { name: "frame.len", ty: FieldType::U32, desc: "Frame length on the wire", get: |p, o| o.push(u(p.frame.wire_len)) },
    Field { name: "frame.cap_len", ty: FieldType::U32, desc: "Bytes captured", get: |p, o| o.push(u(p.frame.cap_len)) },
    Field {
        name: "frame.file",
        ty: FieldType::Str,
        desc: "The capture file the frame was read from, as named on the command line (absent for a live capture or standard input; hs-tui)",
        get: |_, o| capture_file(o),
    },
    Field {
        name: "frame.protocols",
        ty: FieldType::Str,
        desc: "Protocols in the frame, outermost first",
        get: |p, o| o.push(Value::Str(Cow::Owned(info::protocols(p.frame)))),
    },
    Field {
        name: "frame.malformed",
        ty: FieldType::Str,
        desc: "Why the frame is malformed or truncated (hs-tui)",
        get: |p, o| {
            if let Some(r) = p.frame.problem {
                o.push(s(r))
            }
        },
    },
    // ---- link ----
    proto_field!("eth", proto::ETH, "Ethernet"),
    Field { name: "eth.src", ty: FieldType::Mac, desc: "Source MAC", get: |p, o| o.extend(p.frame.eth_src.map(Value::Mac)) },
    Field { name: "eth.dst", ty: FieldType::Mac, desc: "Destination MAC", get: |p, o| o.extend(p.frame.eth_dst.map(Value::Mac)) },
    Field {
        name: "eth.addr",
        ty: FieldType::Mac,
        desc: "Source or destination MAC",
        get: |p, o| {
            o.extend(p.frame.eth_dst.map(Value::Mac));
            o.extend(p.frame.eth_src.map(Value::Mac));
        },
    },
    Field {
        name: "eth.type",
        ty: HEX4,
        desc: "Ethertype",
        get: |p, o| {
            if p.frame.has(proto::ETH) {
                o.extend(p.frame.ethertype.map(u))
            }
        },
    },
    proto_field!("vlan", proto::VLAN, "802.1Q VLAN"),
    Field {
        name: "vlan.id",
        ty: FieldType::U16,
        desc: "VLAN identifier (one per tag)",
        get: |p, o| o.extend(p.frame.vlan_tci[..p.frame.vlan_count as usize].iter().map(|&v| u(v & 0x0fff))),
    },
    Field {
        name: "vlan.priority",
        ty: FieldType::U16,
        desc: "VLAN priority (PCP, one per tag)",
        get: |p, o| o.extend(p.frame.vlan_tci[..p.frame.vlan_count as usize].iter().map(|&v| u(v >> 13))),
    },
    Field {
        name: "vlan.dei",
        ty: FieldType::Bool,
        desc: "Drop eligible indicator (one per tag)",
        get: |p, o| o.extend(p.frame.vlan_tci[..p.frame.vlan_count as usize].iter().map(|&v| Value::Bool(v & 0x1000 != 0))),
    },
    proto_field!("sll", proto::SLL, "Linux cooked capture"),
    proto_field!("null", proto::NULL, "BSD loopback"),
    // ---- ARP ----
    proto_field!("arp", proto::ARP, "ARP"),
    Field { name: "arp.opcode", ty: FieldType::U16, desc: "ARP opcode", get: |p, o| o.extend(p.frame.arp.map(|a| u(a.opcode))) },
    Field {
        name: "arp.src.proto_ipv4",
        ty: FieldType::Ipv4,
        desc: "ARP sender IPv4",
        get: |p, o| o.extend(p.frame.arp.map(|a| Value::V4(a.sender_ip))),
    },
    Field {
        name: "arp.dst.proto_ipv4",
        ty: FieldType::Ipv4,
        desc: "ARP target IPv4",
        get: |p, o| o.extend(p.frame.arp.map(|a| Value::V4(a.target_ip))),
    },
    Field {
        name: "arp.src.hw_mac",
        ty: FieldType::Mac,
        desc: "ARP sender MAC",
        get: |p, o| o.extend(p.frame.arp.map(|a| Value::Mac(a.sender_mac))),
    },
    Field {
        name: "arp.dst.hw_mac",
        ty: FieldType::Mac,
        desc: "ARP target MAC",
        get: |p, o| o.extend(p.frame.arp.map(|a| Value::Mac(a.target_mac))),
    },
    // ---- IPv4 ----
    proto_field!("ip", proto::IP, "IPv4"),
    Field {
        name: "ip.src",
        ty: FieldType::Ipv4,
        desc: "IPv4 source (outer, then ICMP-quoted)",
        get: |p, o| o.extend(p.ips().filter(|i| !i.is_v6()).map(|i| ip_value(i.src))),
    },
    Field {
        name: "ip.dst",
        ty: FieldType::Ipv4,
        desc: "IPv4 destination",
        get: |p, o| o.extend(p.ips().filter(|i| !i.is_v6()).map(|i| ip_value(i.dst))),
    },
    Field {
        name: "ip.addr",
        ty: FieldType::Ipv4,
        desc: "IPv4 source or destination",
        get: |p, o| {
            for i in p.ips().filter(|i| !i.is_v6()) {
                o.push(ip_value(i.src));
                o.push(ip_value(i.dst));
            }
        },
    },
    Field {
        name: "ip.proto",
        ty: FieldType::U8,
        desc: "IPv4 protocol",
        get: |p, o| o.extend(p.ips().filter(|i| !i.is_v6()).map(|i| u(i.proto))),
    },
    Field { name: "ip.ttl", ty: FieldType::U8, desc: "IPv4 TTL", get: |p, o| o.extend(p.ips().filter(|i| !i.is_v6()).map(|i| u(i.ttl))) },
    Field { name: "ip.id", ty: HEX4, desc: "IPv4 identification", get: |p, o| o.extend(p.ips().filter(|i| !i.is_v6()).map(|i| u(i.id))) },
    Field {
        name: "ip.len",
        ty: FieldType::U16,
        desc: "IPv4 total length",
        get: |p, o| o.extend(p.ips().filter(|i| !i.is_v6()).map(|i| u(i.len_field))),
    },
    Field {
        name: "ip.hdr_len",
        ty: FieldType::U8,
        desc: "IPv4 header length",
        get: |p, o| o.extend(p.ips().filter(|i| !i.is_v6()).map(|i| u(i.hdr_len))),
    },
    Field { name: "ip.dsfield", ty: HEX2, desc: "IPv4 DS field", get: |p, o| o.extend(p.ips().filter(|i| !i.is_v6()).map(|i| u(i.tos))) },
    Field {
        name: "ip.flags.df",
        ty: FieldType::Bool,
        desc: "IPv4 don't fragment",
        get: |p, o| o.extend(p.ips().filter(|i| !i.is_v6()).map(|i| Value::Bool(i.dont_fragment))),
    },
    Field {
        name: "ip.flags.mf",
        ty: FieldType::Bool,
        desc: "IPv4 more fragments",
        get: |p, o| o.extend(p.ips().filter(|i| !i.is_v6()).map(|i| Value::Bool(i.more_fragments))),
    },
    Field {
        name: "ip.frag_offset",
        ty: FieldType::U16,
        desc: "IPv4 fragment offset (bytes)",
        get: |p, o| o.extend(p.ips().filter(|i| !i.is_v6()).map(|i| u(i.frag_offset))),
    },
    Field {
        name: "ip.checksum",
        ty: HEX4,
        desc: "IPv4 header checksum",
        get: |p, o| o.extend(p.ips().filter(|i| !i.is_v6()).map(|i| u(i.checksum))),
    },
    Field {
        name: "ip.checksum.status",
        ty: FieldType::U8,
        desc: "IPv4 header checksum status: 0 bad, 1 good, 2 unverified (-o tcp.check_checksum:TRUE checks it too)",
        get: |p, o| {
            if p.frame.ip.is_some_and(|i| !i.is_v6()) {
                o.push(u(crate::decode::checksum::ipv4_status(p.frame, p.bytes)))
            }
        },
    },
    // ---- IPv6 ----
    proto_field!("ipv6", proto::IPV6, "IPv6"),
    Field {
        name: "ipv6.src",
        ty: FieldType::Ipv6,
        desc: "IPv6 source",
        get: |p, o| o.extend(p.ips().filter(|i| i.is_v6()).map(|i| ip_value(i.src))),
    },
    Field {
        name: "ipv6.dst",
        ty: FieldType::Ipv6,
        desc: "IPv6 destination",
        get: |p, o| o.extend(p.ips().filter(|i| i.is_v6()).map(|i| ip_value(i.dst))),
    },
    Field {
        name: "ipv6.addr",
        ty: FieldType::Ipv6,
        desc: "IPv6 source or destination",
        get: |p, o| {
            for i in p.ips().filter(|i| i.is_v6()) {
                o.push(ip_value(i.src));
                o.push(ip_value(i.dst));
            }
        },
    },
    Field {
        name: "ipv6.nxt",
        ty: FieldType::U8,
        desc: "IPv6 next header (transport)",
        get: |p, o| o.extend(p.ips().filter(|i| i.is_v6()).map(|i| u(i.proto))),
    },
    Field { name: "ipv6.hlim", ty: FieldType::U8, desc: "IPv6 hop limit", get: |p, o| o.extend(p.ips().filter(|i| i.is_v6()).map(|i| u(i.ttl))) },
    Field {
        name: "ipv6.plen",
        ty: FieldType::U16,
        desc: "IPv6 payload length",
        get: |p, o| o.extend(p.ips().filter(|i| i.is_v6()).map(|i| u(i.len_field))),
    },
    // ---- ICMP ----
    proto_field!("icmp", proto::ICMP, "ICMP"),
    Field {
        name: "icmp.type",
        ty: FieldType::U8,
        desc: "ICMP type",
        get: |p, o| o.extend(p.frame.icmp.filter(|i| !i.v6).map(|i| u(i.icmp_type))),
    },
    Field { name: "icmp.code", ty: FieldType::U8, desc: "ICMP code", get: |p, o| o.extend(p.frame.icmp.filter(|i| !i.v6).map(|i| u(i.code))) },
    proto_field!("icmpv6", proto::ICMPV6, "ICMPv6"),
    Field {
        name: "icmpv6.type",
        ty: FieldType::U8,
        desc: "ICMPv6 type",
        get: |p, o| o.extend(p.frame.icmp.filter(|i| i.v6).map(|i| u(i.icmp_type))),
    },
    Field { name: "icmpv6.code", ty: FieldType::U8, desc: "ICMPv6 code", get: |p, o| o.extend(p.frame.icmp.filter(|i| i.v6).map(|i| u(i.code))) },
    // ---- UDP ----
    proto_field!("udp", proto::UDP, "UDP"),
    Field { name: "udp.srcport", ty: FieldType::U16, desc: "UDP source port", get: |p, o| o.extend(p.frame.udp.map(|h| u(h.src_port))) },
    Field { name: "udp.dstport", ty: FieldType::U16, desc: "UDP destination port", get: |p, o| o.extend(p.frame.udp.map(|h| u(h.dst_port))) },
    Field {
        name: "udp.port",
        ty: FieldType::U16,
        desc: "UDP source or destination port",
        get: |p, o| {
            if let Some(h) = p.frame.udp {
                o.push(u(h.src_port));
                o.push(u(h.dst_port));
            }
        },
    },
    Field { name: "udp.length", ty: FieldType::U16, desc: "UDP length", get: |p, o| o.extend(p.frame.udp.map(|h| u(h.length))) },
    // ---- TCP header ----
    proto_field!("tcp", proto::TCP, "TCP"),
    Field { name: "tcp.srcport", ty: FieldType::U16, desc: "Source port", get: |p, o| o.extend(p.tcp().map(|t| u(t.src_port))) },
    Field { name: "tcp.dstport", ty: FieldType::U16, desc: "Destination port", get: |p, o| o.extend(p.tcp().map(|t| u(t.dst_port))) },
    Field {
        name: "tcp.port",
        ty: FieldType::U16,
        desc: "Source or destination port",
        get: |p, o| {
            if let Some(t) = p.tcp() {
                o.push(u(t.src_port));
                o.push(u(t.dst_port));
            }
        },
    },
    Field { name: "tcp.stream", ty: FieldType::U32, desc: "Stream index, as Wireshark numbers them", get: |p, o| o.extend(p.meta.map(|m| u(m.stream))) },
    Field {
        name: "tcp.completeness",
        ty: FieldType::U8,
        desc: "Conversation completeness bitmask (one-pass: value before this frame)",
        get: |p, o| o.extend(p.meta.map(|m| u(m.completeness))),
    },
    Field {
        name: "tcp.len",
        ty: FieldType::U32,
        desc: "Segment length (from the IP header)",
        get: |p, o| o.extend(p.analyzed().and_then(|m| m.len).map(u)),
    },
    Field {
        name: "tcp.seq",
        ty: FieldType::U32,
        desc: "Sequence number (relative)",
        get: |p, o| o.extend(p.meta.map(|m| u(m.seq))),
    },
    Field {
        name: "tcp.seq_raw",
        ty: FieldType::U32,
        desc: "Sequence number (raw)",
        get: |p, o| o.extend(p.tcpf().filter(|t| !t.quoted).map(|t| u(t.seq))),
    },
    Field {
        name: "tcp.nxtseq",
        ty: FieldType::U32,
        desc: "Next sequence number (relative)",
        get: |p, o| o.extend(p.analyzed().and_then(|m| m.nxtseq).map(u)),
    },
    Field {
        name: "tcp.ack",
        ty: FieldType::U32,
        desc: "Acknowledgment number (relative; raw without the ACK flag)",
        get: |p, o| o.extend(p.meta.filter(|_| p.tcpf().is_some_and(|t| !t.bogus_hdr_len())).map(|m| u(m.ack))),
    },
    Field {
        name: "tcp.ack_raw",
        ty: FieldType::U32,
        desc: "Acknowledgment number (raw)",
        get: |p, o| o.extend(p.tcpf().filter(|t| !t.bogus_hdr_len()).map(|t| u(t.ack))),
    },
    Field { name: "tcp.hdr_len", ty: FieldType::U8, desc: "Header length", get: |p, o| o.extend(p.tcpf().map(|t| u(t.hdr_len))) },
    Field { name: "tcp.flags", ty: FLAGS, desc: "Flags", get: |p, o| o.extend(p.tcpf().filter(|t| !t.bogus_hdr_len()).map(|t| u(t.flags))) },
    tcp_flag!("tcp.flags.res", fl::RES, "Reserved bits"),
    tcp_flag!("tcp.flags.ae", fl::AE, "Accurate ECN"),
    tcp_flag!("tcp.flags.cwr", fl::CWR, "Congestion Window Reduced"),
    tcp_flag!("tcp.flags.ece", fl::ECE, "ECN-Echo"),
    tcp_flag!("tcp.flags.urg", fl::URG, "Urgent"),
    tcp_flag!("tcp.flags.ack", fl::ACK, "Acknowledgment"),
    tcp_flag!("tcp.flags.push", fl::PSH, "Push"),
    tcp_flag!("tcp.flags.reset", fl::RST, "Reset"),
    tcp_flag!("tcp.flags.syn", fl::SYN, "Syn"),
    tcp_flag!("tcp.flags.fin", fl::FIN, "Fin"),
    Field {
        name: "tcp.flags.str",
        ty: FieldType::Str,
        desc: "Flags as RRRACEUAPRSF with · for unset",
        get: |p, o| {
            o.extend(p.tcpf().filter(|t| !t.bogus_hdr_len()).map(|t| Value::Str(Cow::Owned(info::flags_str(t.flags)))))
        },
    },
    Field {
        name: "tcp.window_size_value",
        ty: FieldType::U16,
        desc: "Window (raw 16-bit value)",
        get: |p, o| o.extend(p.tcpf().filter(|t| !t.bogus_hdr_len()).map(|t| u(t.window))),
    },
    Field {
        name: "tcp.window_size",
        ty: FieldType::U32,
        desc: "Window, scaled when the shift is known",
        get: |p, o| o.extend(p.meta.filter(|_| p.tcpf().is_some_and(|t| !t.bogus_hdr_len())).map(|m| u(m.window))),
    },
    Field {
        name: "tcp.window_size_scalefactor",
        ty: FieldType::Int,
        desc: "Window scale factor (-1 unknown, -2 no scaling; absent on SYNs)",
        get: |p, o| o.extend(p.meta.and_then(|m| m.scalefactor).map(|v| Value::Int(v as i64))),
    },
    Field {
        name: "tcp.checksum",
        ty: HEX4,
        desc: "Checksum",
        get: |p, o| o.extend(p.tcpf().filter(|t| !t.bogus_hdr_len()).and_then(|t| t.checksum).map(u)),
    },
    Field {
        name: "tcp.checksum.status",
        ty: FieldType::U8,
        desc: "Checksum status: 0 bad, 1 good, 2 unverified (off by default, as in Wireshark; -o tcp.check_checksum:TRUE)",
        get: |p, o| {
            if p.tcpf().filter(|t| !t.bogus_hdr_len()).and_then(|t| t.checksum).is_some() {
                o.push(u(crate::decode::checksum::tcp_status(p.frame, p.bytes)))
            }
        },
    },
    Field {
        name: "tcp.urgent_pointer",
        ty: FieldType::U16,
        desc: "Urgent pointer",
        get: |p, o| o.extend(p.tcpf().filter(|t| t.checksum.is_some() && !t.bogus_hdr_len()).map(|t| u(t.urgent))),
    },
    Field {
        name: "tcp.payload",
        ty: FieldType::Bytes,
        desc: "Captured payload bytes",
        get: |p, o| {
            if p.tcpf().is_some() && p.frame.payload_cap > 0 {
                o.push(Value::Bytes(Cow::Borrowed(p.frame.payload(p.bytes))))
            }
        },
    },
    // ---- TCP options ----
    Field {
        name: "tcp.options.mss_val",
        ty: FieldType::U16,
        desc: "MSS option value",
        get: |p, o| o.extend(p.tcpf().and_then(|t| t.options.mss).map(u)),
    },
    Field {
        name: "tcp.options.wscale.shift",
        ty: FieldType::U8,
        desc: "Window scale shift",
        get: |p, o| o.extend(p.tcpf().and_then(|t| t.options.wscale).map(u)),
    },
    Field {
        name: "tcp.options.wscale.multiplier",
        ty: FieldType::U16,
        desc: "Window scale multiplier (1 << min(shift, 14))",
        get: |p, o| o.extend(p.tcpf().and_then(|t| t.options.wscale).map(|w| u(1u64 << w.min(14)))),
    },
    Field {
        name: "tcp.options.sack_perm",
        ty: FieldType::Bytes,
        desc: "SACK permitted option (raw bytes)",
        get: |p, o| {
            if p.tcpf().is_some_and(|t| t.options.sack_perm) {
                o.push(Value::Bytes(Cow::Borrowed(&[4, 2])))
            }
        },
    },
    Field {
        name: "tcp.options.sack_le",
        ty: FieldType::U32,
        desc: "SACK left edge (relative to the peer's base)",
        get: |p, o| {
            if let (Some(t), Some(m)) = (p.tcpf(), p.analyzed()) {
                o.extend(t.options.sack_blocks().iter().map(|b| u(b.0.wrapping_sub(m.rev_base))))
            }
        },
    },
    Field {
        name: "tcp.options.sack_re",
        ty: FieldType::U32,
        desc: "SACK right edge (relative to the peer's base)",
        get: |p, o| {
            if let (Some(t), Some(m)) = (p.tcpf(), p.analyzed()) {
                o.extend(t.options.sack_blocks().iter().map(|b| u(b.1.wrapping_sub(m.rev_base))))
            }
        },
    },
    Field {
        name: "tcp.options.sack.count",
        ty: FieldType::U8,
        desc: "Number of SACK blocks",
        get: |p, o| o.extend(p.tcpf().filter(|t| t.options.sack_count > 0).map(|t| u(t.options.sack_count))),
    },
    Field {
        name: "tcp.options.timestamp.tsval",
        ty: FieldType::U32,
        desc: "Timestamp value",
        get: |p, o| o.extend(p.tcpf().and_then(|t| t.options.timestamp).map(|x| u(x.0))),
    },
    Field {
        name: "tcp.options.timestamp.tsecr",
        ty: FieldType::U32,
        desc: "Timestamp echo reply",
        get: |p, o| o.extend(p.tcpf().and_then(|t| t.options.timestamp).map(|x| u(x.1))),
    },
    Field {
        name: "tcp.options.tfo",
        ty: FieldType::None,
        desc: "TCP Fast Open option",
        get: |p, o| {
            if p.tcpf().is_some_and(|t| t.options.tfo.is_some()) {
                o.push(Value::Present)
            }
        },
    },
    // ---- TCP conversation timing ----
    Field {
        name: "tcp.time_relative",
        ty: FieldType::RelTime,
        desc: "Time since the stream's first frame",
        get: |p, o| o.extend(p.meta.filter(|_| p.tcpf().is_some_and(|t| !t.bogus_hdr_len())).map(|m| Value::Time(m.time_rel_ns))),
    },
    Field {
        name: "tcp.time_delta",
        ty: FieldType::RelTime,
        desc: "Time since the stream's previous frame",
        get: |p, o| o.extend(p.meta.filter(|_| p.tcpf().is_some_and(|t| !t.bogus_hdr_len())).map(|m| Value::Time(m.time_delta_ns))),
    },
    // ---- TCP analysis ----
    Field {
        name: "tcp.analysis",
        ty: FieldType::None,
        desc: "SEQ/ACK analysis subtree present",
        get: |p, o| {
            if p.meta.is_some_and(|m| m.has_tree) {
                o.push(Value::Present)
            }
        },
    },
    Field {
        name: "tcp.analysis.flags",
        ty: FieldType::None,
        desc: "Any analysis flag is set",
        get: |p, o| {
            if p.meta.is_some_and(|m| m.analysis.flags != 0) {
                o.push(Value::Present)
            }
        },
    },
    Field {
        name: "tcp.analysis.initial_rtt",
        ty: FieldType::RelTime,
        desc: "Initial RTT: first ACK without SYN minus the most recent SYN (shown as Wireshark does)",
        get: |p, o| o.extend(p.meta.and_then(|m| m.irtt_ns).map(Value::Time)),
    },
    Field {
        name: "tcp.analysis.ack_rtt",
        ty: FieldType::RelTime,
        desc: "RTT to ACK the segment in acks_frame",
        get: |p, o| o.extend(p.meta.and_then(|m| m.analysis.ack_rtt_ns).map(Value::Time)),
    },
    Field {
        name: "tcp.analysis.acks_frame",
        ty: FieldType::FrameNum,
        desc: "This is an ACK to the segment in this frame",
        get: |p, o| o.extend(p.meta.and_then(|m| m.analysis.acks_frame).map(u)),
    },
    Field {
        name: "tcp.analysis.bytes_in_flight",
        ty: FieldType::U32,
        desc: "Bytes in flight",
        get: |p, o| o.extend(p.meta.and_then(|m| m.analysis.bytes_in_flight).map(u)),
    },
    Field {
        name: "tcp.analysis.push_bytes_sent",
        ty: FieldType::U32,
        desc: "Bytes sent since the last PSH flag",
        get: |p, o| o.extend(p.meta.and_then(|m| m.analysis.push_bytes_sent).map(u)),
    },
    Field {
        name: "tcp.analysis.duplicate_ack_num",
        ty: FieldType::U32,
        desc: "Duplicate ACK number",
        get: |p, o| o.extend(p.meta.filter(|m| m.analysis.dup_ack_num != 0).map(|m| u(m.analysis.dup_ack_num))),
    },
    Field {
        name: "tcp.analysis.duplicate_ack_frame",
        ty: FieldType::FrameNum,
        desc: "Frame this is a duplicate of",
        get: |p, o| o.extend(p.meta.filter(|m| m.analysis.dup_ack_num != 0).map(|m| u(m.analysis.dup_ack_frame))),
    },
    Field {
        name: "tcp.analysis.rto",
        ty: FieldType::RelTime,
        desc: "Retransmission timeout observed",
        get: |p, o| o.extend(p.meta.and_then(|m| m.analysis.rto_ns).map(Value::Time)),
    },
    Field {
        name: "tcp.analysis.rto_frame",
        ty: FieldType::FrameNum,
        desc: "RTO measured from this frame",
        get: |p, o| o.extend(p.meta.and_then(|m| m.analysis.rto_frame).map(u)),
    },
    analysis_flag!("tcp.analysis.retransmission", flag::ANY_RETRANSMISSION, "Retransmission (also set on fast and spurious)"),
    analysis_flag!("tcp.analysis.fast_retransmission", flag::FAST_RETRANSMISSION, "Fast retransmission"),
    analysis_flag!("tcp.analysis.spurious_retransmission", flag::SPURIOUS_RETRANSMISSION, "Spurious retransmission"),
    analysis_flag!("tcp.analysis.out_of_order", flag::OUT_OF_ORDER, "Out-of-order segment"),
    analysis_flag!("tcp.analysis.lost_segment", flag::LOST_SEGMENT, "Previous segment not captured"),
    analysis_flag!("tcp.analysis.ack_lost_segment", flag::ACK_LOST_SEGMENT, "ACKed segment that wasn't captured"),
    Field { name: "tcp.analysis.duplicate_ack", ty: FieldType::None, desc: "Duplicate ACK", get: dup_ack_field },
    analysis_flag!("tcp.analysis.zero_window", flag::ZERO_WINDOW, "Zero window"),
    analysis_flag!("tcp.analysis.zero_window_probe", flag::ZERO_WINDOW_PROBE, "Zero window probe"),
    analysis_flag!("tcp.analysis.zero_window_probe_ack", flag::ZERO_WINDOW_PROBE_ACK, "Zero window probe ACK"),
    analysis_flag!("tcp.analysis.keep_alive", flag::KEEP_ALIVE, "Keep-alive"),
    analysis_flag!("tcp.analysis.keep_alive_ack", flag::KEEP_ALIVE_ACK, "Keep-alive ACK"),
    analysis_flag!("tcp.analysis.reused_ports", flag::REUSED_PORTS, "Port numbers reused"),
    analysis_flag!("tcp.analysis.window_update", flag::WINDOW_UPDATE, "Window update"),
    analysis_flag!("tcp.analysis.window_full", flag::WINDOW_FULL, "Window full"),
    // ---- TCP expert items (`-z expert`), as filterable presence fields ----
    expert_field!("tcp.connection.syn", "Connection establish request (SYN)", |_p, t| t.syn() && !t.ack_flag()),
    expert_field!("tcp.connection.synack", "Connection establish acknowledge (SYN+ACK)", |_p, t| t.syn() && t.ack_flag()),
    expert_field!("tcp.connection.fin", "Connection finish (FIN)", |_p, t| t.fin()),
    expert_field!("tcp.connection.fin_active", "This frame initiates the connection closing", |p, _t| crate::output::expert::fin_active(p) == Some(true)),
    expert_field!("tcp.connection.fin_passive", "This frame undergoes the connection closing", |p, _t| crate::output::expert::fin_active(p) == Some(false)),
    expert_field!("tcp.connection.rst", "Connection reset (RST)", |_p, t| t.rst()),
    expert_field!("tcp.ack.nonzero", "The acknowledgment number field is nonzero while the ACK flag is not set", |_p, t| !t.ack_flag() && t.ack != 0),
    expert_field!("tcp.urgent_pointer.non_zero", "The urgent pointer field is nonzero while the URG flag is not set", |_p, t| t.checksum.is_some() && !t.has(fl::URG) && t.urgent != 0),
    expert_field!("tcp.options.mss.absent", "The SYN packet does not contain a MSS option", |_p, t| t.hdr_len > 20 && !t.options.truncated && t.syn() && t.options.mss.is_none()),
    expert_field!("tcp.options.mss.present", "The non-SYN packet does contain a MSS option", |_p, t| t.hdr_len > 20 && !t.options.truncated && !t.syn() && t.options.mss.is_some()),
    expert_field!("tcp.options.sack.dsack", "D-SACK Sequence", |p, t| t.hdr_len > 20 && !t.options.truncated && crate::output::expert::dsack(p)),
    expert_field!("tcp.option.len.invalid", "A fixed-size option has another length", |_p, t| t.options.len_invalid.is_some()),
    expert_field!("tcp.analysis.tfo_syn", "TCP SYN with TFO Cookie", |_p, t| t.hdr_len > 20 && t.syn() && !t.ack_flag() && t.options.tfo == Some(crate::decode::tcp::Tfo::Cookie)),
    // ---- hs-tui handshake fields (per packet) ----
    proto_hs(),
    Field {
        name: "hs.phase",
        ty: FieldType::Str,
        desc: "The packet's part: syn, syn-ack, handshake-ack, data, ack, fin, rst",
        get: |p, o| o.extend(p.analyzed().map(|m| s(m.phase.name()))),
    },
    Field {
        name: "hs.step",
        ty: FieldType::U8,
        desc: "Handshake step: 1 SYN, 2 SYN-ACK, 3 ACK (absent otherwise)",
        get: |p, o| o.extend(p.analyzed().map(|m| m.phase.step()).filter(|&x| x > 0).map(u)),
    },
    Field {
        name: "hs.role",
        ty: FieldType::Str,
        desc: "Who sent the packet: client (the SYN's sender) or server",
        get: |p, o| o.extend(p.meta.and_then(|m| m.from_client).map(|c| s(if c { "client" } else { "server" }))),
    },
    Field {
        name: "hs.state",
        ty: FieldType::Str,
        desc: "Connection state after this packet: syn-sent, syn-received, established, refused, reset, closing, closed, mid-stream",
        get: |p, o| o.extend(p.meta.map(|m| s(m.hs_state.name()))),
    },
    // ---- hs-tui flow fields (the stream as of this packet) ----
    Field {
        name: "hs.client",
        ty: FieldType::Str,
        desc: "Client endpoint addr:port (ephemeral side)",
        get: |p, o| o.extend(p.flow.map(|f| Value::Str(Cow::Owned(f.client_server().0.to_string())))),
    },
    Field {
        name: "hs.server",
        ty: FieldType::Str,
        desc: "Server endpoint addr:port",
        get: |p, o| o.extend(p.flow.map(|f| Value::Str(Cow::Owned(f.client_server().1.to_string())))),
    },
    Field {
        name: "hs.client_port",
        ty: FieldType::U16,
        desc: "Client (ephemeral) port",
        get: |p, o| o.extend(p.flow.map(|f| u(f.client_server().0 .1))),
    },
    Field {
        name: "hs.server_port",
        ty: FieldType::U16,
        desc: "Server port",
        get: |p, o| o.extend(p.flow.map(|f| u(f.client_server().1 .1))),
    },
    Field {
        name: "hs.rtt",
        ty: FieldType::RelTime,
        desc: "The stream's initial RTT once known (on every packet, unlike tcp.analysis.initial_rtt)",
        get: |p, o| o.extend(p.flow.and_then(|f| f.irtt_ns).map(Value::Time)),
    },
    Field {
        name: "hs.rtt.syn_synack",
        ty: FieldType::RelTime,
        desc: "Last SYN to first SYN-ACK",
        get: |p, o| o.extend(p.flow.and_then(|f| f.hs.syn_to_synack()).map(Value::Time)),
    },
    Field {
        name: "hs.rtt.synack_ack",
        ty: FieldType::RelTime,
        desc: "SYN-ACK to the client's handshake ACK",
        get: |p, o| o.extend(p.flow.and_then(|f| f.hs.synack_to_ack()).map(Value::Time)),
    },
    Field {
        name: "hs.rtt.syn_rst",
        ty: FieldType::RelTime,
        desc: "First SYN to the RST that ended a handshake that never completed (refused or reset)",
        get: |p, o| o.extend(p.flow.and_then(|f| f.hs.syn_to_rst()).map(Value::Time)),
    },
    Field {
        name: "hs.rtt.syn_data",
        ty: FieldType::RelTime,
        desc: "First SYN to first payload byte",
        get: |p, o| o.extend(p.flow.and_then(|f| f.hs.syn_to_data()).map(Value::Time)),
    },
    Field {
        name: "hs.syn_retransmissions",
        ty: FieldType::U32,
        desc: "SYNs re-sent by the client",
        get: |p, o| o.extend(p.flow.map(|f| u(f.hs.syn_retransmissions()))),
    },
    Field {
        name: "hs.synack_retransmissions",
        ty: FieldType::U32,
        desc: "SYN-ACKs re-sent by the server",
        get: |p, o| o.extend(p.flow.map(|f| u(f.hs.synack_retransmissions()))),
    },
    Field {
        name: "hs.wrong_ack",
        ty: FieldType::Bool,
        desc: "A SYN-ACK acknowledged something other than the client ISN + 1",
        get: |p, o| o.extend(p.flow.map(|f| Value::Bool(f.hs.wrong_ack))),
    },
    Field {
        name: "hs.conn_state",
        ty: FieldType::Str,
        desc: "Zeek conn_state (S0, S1, SF, REJ, RSTO, RSTR, SH, OTH, ...)",
        get: |p, o| o.extend(p.flow.map(|f| s(f.zeek.conn_state()))),
    },
    Field {
        name: "hs.history",
        ty: FieldType::Str,
        desc: "Zeek history letters (ShADadFf ...)",
        get: |p, o| o.extend(p.flow.map(|f| Value::Str(Cow::Owned(f.zeek.history().to_string())))),
    },
    Field {
        name: "hs.completeness",
        ty: FieldType::U8,
        desc: "The stream's completeness including this frame, as Wireshark's GUI (two passes) ends with it",
        get: |p, o| o.extend(p.flow.map(|f| u(f.final_completeness()))),
    },
    Field { name: "hs.packets", ty: FieldType::U64, desc: "Packets in the stream so far", get: |p, o| o.extend(p.flow.map(|f| u(f.total_frames()))) },
    Field { name: "hs.bytes", ty: FieldType::U64, desc: "Frame bytes in the stream so far", get: |p, o| o.extend(p.flow.map(|f| u(f.total_bytes()))) },
    Field {
        name: "hs.duration",
        ty: FieldType::RelTime,
        desc: "First to latest packet of the stream",
        get: |p, o| o.extend(p.flow.map(|f| Value::Time(f.duration_ns()))),
    },
    Field {
        name: "hs.start",
        ty: FieldType::RelTime,
        desc: "When the stream's first packet came, since the capture's first packet",
        get: |p, o| o.extend(p.flow.map(|f| Value::Time(f.first_ts - p.first_ts))),
    },
    Field {
        name: "hs.mss.client",
        ty: FieldType::U16,
        desc: "MSS the client offered on its SYN",
        get: |p, o| o.extend(p.flow.and_then(|f| side_opts(f, true)).and_then(|s| s.mss).map(u)),
    },
    Field {
        name: "hs.mss.server",
        ty: FieldType::U16,
        desc: "MSS the server offered on its SYN-ACK",
        get: |p, o| o.extend(p.flow.and_then(|f| side_opts(f, false)).and_then(|s| s.mss).map(u)),
    },
    Field {
        name: "hs.wscale.client",
        ty: FieldType::U8,
        desc: "Window scale shift the client offered",
        get: |p, o| o.extend(p.flow.and_then(|f| side_opts(f, true)).and_then(|s| s.wscale).map(u)),
    },
    Field {
        name: "hs.wscale.server",
        ty: FieldType::U8,
        desc: "Window scale shift the server offered",
        get: |p, o| o.extend(p.flow.and_then(|f| side_opts(f, false)).and_then(|s| s.wscale).map(u)),
    },
    Field {
        name: "hs.sack_permitted",
        ty: FieldType::Bool,
        desc: "SACK negotiated: both the SYN and the SYN-ACK carried SACK_PERM",
        get: |p, o| o.extend(p.flow.filter(|f| f.syn_opts.iter().all(|s| s.seen)).map(|f| Value::Bool(f.syn_opts.iter().all(|s| s.sack_perm)))),
    },
    Field {
        name: "hs.timestamps",
        ty: FieldType::Bool,
        desc: "TCP timestamps negotiated: both handshake packets carried them",
        get: |p, o| o.extend(p.flow.filter(|f| f.syn_opts.iter().all(|s| s.seen)).map(|f| Value::Bool(f.syn_opts.iter().all(|s| s.timestamps)))),
    },
    Field {
        name: "hs.tfo",
        ty: FieldType::Bool,
        desc: "Data carried on the SYN (TCP Fast Open)",
        get: |p, o| o.extend(p.flow.map(|f| Value::Bool(f.hs.syn_data))),
    },
    Field {
        name: "hs.ecn",
        ty: FieldType::Bool,
        desc: "ECN negotiated on the handshake",
        get: |p, o| o.extend(p.flow.map(|f| Value::Bool(f.ecn))),
    },
    Field {
        name: "hs.simultaneous_open",
        ty: FieldType::Bool,
        desc: "Both sides sent a SYN",
        get: |p, o| o.extend(p.flow.map(|f| Value::Bool(f.hs.simultaneous))),
    },
    // ---- two-point diff (hs-tui diff; see src/diff/) ----
    Field { name: "hs.diff.side", ty: FieldType::Str, desc: "Two-point diff: the capture this row is from, a or b", get: crate::diff::view::side },
    Field { name: "hs.diff.peer_frame", ty: FieldType::FrameNum, desc: "Two-point diff: the same packet's frame number in the other capture (every copy; empty when absent)", get: crate::diff::view::peer_frame },
    Field { name: "hs.diff.lost", ty: FieldType::U8, desc: "Two-point diff: 1 on the sender's row when the packet never reached the other point", get: crate::diff::view::lost },
    Field { name: "hs.diff.capture_drop", ty: FieldType::U8, desc: "Two-point diff: 1 when seen at the receiver only: a capture drop at the sender's point, not a network loss", get: crate::diff::view::capture_drop },
    Field { name: "hs.diff.owd", ty: FieldType::RelTime, desc: "Two-point diff: one-way delay with the clock offset removed (seconds)", get: crate::diff::view::owd },
    Field { name: "hs.diff.clock_offset", ty: FieldType::RelTime, desc: "Two-point diff: B's clock minus A's (seconds)", get: crate::diff::view::clock_offset },
    Field { name: "hs.diff.reordered", ty: FieldType::U8, desc: "Two-point diff: 1 when a packet sent earlier in the same direction arrived after this one", get: crate::diff::view::reordered },
    Field { name: "hs.diff.duplicate", ty: FieldType::U8, desc: "Two-point diff: 1 when the packet arrived more than once (receiver: a second or later copy)", get: crate::diff::view::duplicate },
    Field { name: "hs.diff.copies", ty: FieldType::U16, desc: "Two-point diff: copies that reached the other point (sender's row)", get: crate::diff::view::copies },
    Field { name: "hs.diff.role", ty: FieldType::Str, desc: "Two-point diff: sender or receiver (this capture's point for this packet)", get: crate::diff::view::role },
    Field { name: "hs.diff.dir", ty: FieldType::Str, desc: "Two-point diff: a2b or b2a", get: crate::diff::view::dir },
    Field { name: "hs.diff.conn", ty: FieldType::U32, desc: "Two-point diff: connection number", get: crate::diff::view::conn_id },
    Field { name: "hs.diff.handshake", ty: FieldType::Str, desc: "Two-point diff: the connection's handshake, e.g. SYN#1 lost c2s; SYN#2 delivered; ...", get: crate::diff::view::handshake },
    Field { name: "hs.diff.result", ty: FieldType::Str, desc: "Two-point diff: established, refused, half-open or no-answer", get: crate::diff::view::result },
    Field { name: "hs.diff.verdict", ty: FieldType::Str, desc: "Two-point diff: the connection's verdict in words", get: crate::diff::view::verdict },
    Field { name: "hs.diff.problem", ty: FieldType::U8, desc: "Two-point diff: 1 when the connection lost, duplicated or reordered packets, or was not established", get: crate::diff::view::problem },
    Field { name: "hs.diff.syn_lost", ty: FieldType::U32, desc: "Two-point diff: the connection's SYNs lost on the way", get: crate::diff::view::syn_lost },
    Field { name: "hs.diff.synack_lost", ty: FieldType::U32, desc: "Two-point diff: the connection's SYN-ACKs lost on the way", get: crate::diff::view::synack_lost },
    Field { name: "hs.diff.client_wait", ty: FieldType::RelTime, desc: "Two-point diff: at the client's point, first SYN to the first SYN-ACK received (seconds)", get: crate::diff::view::client_wait },
    Field { name: "hs.diff.server_wait", ty: FieldType::RelTime, desc: "Two-point diff: at the server's point, first SYN-ACK to the first packet acknowledging it (seconds)", get: crate::diff::view::server_wait },
    // ---- TLS (src/fields/tls.rs) ----
    tls::HANDSHAKE,
    tls::TYPE,
    tls::VERSION,
    tls::RECORD_VERSION,
    tls::CONTENT_TYPE,
    tls::OPAQUE_TYPE,
    tls::SNI,
    tls::ALPN,
    tls::CIPHER,
    tls::SUPPORTED_VERSION,
    tls::SESSION_ID_LENGTH,
    tls::RANDOM,
    tls::EXTENSION_TYPE,
    tls::CERTIFICATE,
    tls::CERTIFICATE_LENGTH,
    tls::ALERT,
    tls::ALERT_LEVEL,
    tls::ALERT_DESC,
    tls::JA4,
    tls::JA4_R,
    tls::HS_SNI,
    tls::HS_VERSION,
    tls::HS_CIPHER,
    tls::HS_ALPN,
    tls::HS_JA4,
    tls::HS_SETUP_TCP,
    tls::HS_SETUP_CH,
    tls::HS_SETUP_SH,
    tls::HS_SETUP_FLIGHT,
    tls::HS_SETUP_TLS,
    tls::HS_SETUP_TTFB,
    tls::HS_SETUP_TOTAL,
    tls::HS_FAILURE,
    // ---- columns ----
    Field {
        name: "_ws.col.Info",
        ty: FieldType::Str,
        desc: "The Info column, as tshark writes it",
        get: |p, o| o.push(Value::Str(Cow::Owned(info::info(p)))),
    },
    Field {
        name: "_ws.col.Protocol",
        ty: FieldType::Str,
        desc: "The Protocol column",
        get: |p, o| o.push(s(info::protocol_column(p.frame))),
    },
];

/// The SYN options of the client's (or the server's) side, once seen.
fn side_opts(f: &FlowSummary, client: bool) -> Option<&crate::track::SynOptions> {
    let c = f.hs.client? as usize;
    let side = if client { c } else { 1 - c };
    Some(&f.syn_opts[side]).filter(|s| s.seen)
}

const fn proto_hs() -> Field {
    Field {
        name: "hs",
        ty: FieldType::Protocol,
        desc: "hs-tui handshake fields (present on every tracked TCP packet)",
        get: |p, o| {
            if p.meta.is_some() {
                o.push(Value::Present)
            }
        },
    }
}

fn index() -> &'static HashMap<&'static str, usize> {
    static INDEX: OnceLock<HashMap<&'static str, usize>> = OnceLock::new();
    INDEX.get_or_init(|| {
        FIELDS
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name, i))
            .collect()
    })
}

/// Look a field up by its exact name.
pub fn by_name(name: &str) -> Option<&'static Field> {
    if let Some(rest) = name.strip_prefix("ssl.") {
        // Wireshark registers `ssl.*` as aliases of `tls.*`.
        return index()
            .get(format!("tls.{rest}").as_str())
            .map(|&i| &FIELDS[i]);
    }
    index().get(name).map(|&i| &FIELDS[i])
}

/// Names longer than this get no "did you mean": every known name is far shorter, and
/// the edit distance is quadratic in the length.
pub const MAX_SUGGEST_LEN: usize = 64;

/// Wireshark's label of a field ("Source Port" for `tcp.srcport`), or hs-tui's
/// description of a field Wireshark does not have.
pub fn label(name: &str) -> &'static str {
    match labels::LABELS.binary_search_by(|(n, _)| (*n).cmp(name)) {
        Ok(i) => labels::LABELS[i].1,
        Err(_) => by_name(name).map_or("", |f| f.desc),
    }
}

/// Wireshark shows the field in brackets: it is worked out, not read from the
/// packet (stream index, relative numbers, analysis, hs-tui's own fields).
pub fn generated(name: &str) -> bool {
    name.starts_with("hs.")
        || name.starts_with("tcp.analysis")
        || name.starts_with("tcp.connection.")
        || name.ends_with(".ja4")
        || name.ends_with(".ja4_r")
        || matches!(
            name,
            "tcp.stream"
                | "tcp.completeness"
                | "tcp.nxtseq"
                | "tcp.window_size"
                | "tcp.window_size_scalefactor"
                | "tcp.checksum.status"
                | "tcp.time_relative"
                | "tcp.time_delta"
                | "tcp.flags.str"
                | "frame.time_relative"
                | "frame.time_delta"
                | "frame.time_delta_displayed"
                | "frame.malformed"
        )
}

#[cfg(test)]
thread_local! {
    /// Edit distances computed, so tests can check the suggestion search is bounded.
    pub static DISTANCES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The registered name closest to `name` (for "did you mean" hints).
pub fn nearest(name: &str) -> Option<&'static str> {
    if name.len() > MAX_SUGGEST_LEN {
        return None;
    }
    let limit = |n: &str| 2.max(n.len() / 5);
    FIELDS
        .iter()
        // The distance is at least the difference in length.
        .filter(|f| f.name.len().abs_diff(name.len()) <= limit(f.name))
        .map(|f| (edit_distance(name, f.name), f.name))
        .filter(|&(d, n)| d <= limit(n))
        .min_by_key(|&(d, _)| d)
        .map(|(_, n)| n)
}

/// Levenshtein distance on bytes.
pub fn edit_distance(a: &str, b: &str) -> usize {
    #[cfg(test)]
    DISTANCES.with(|c| c.set(c.get() + 1));
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, &x) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, &y) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + (x != y) as usize)
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        assert_eq!(index().len(), FIELDS.len(), "duplicate field name");
        assert!(by_name("tcp.stream").is_some());
        assert!(by_name("tcp.strem").is_none());
    }

    #[test]
    fn suggests_nearest() {
        assert_eq!(nearest("tcp.flgs"), Some("tcp.flags"));
        assert_eq!(nearest("ip.adr"), Some("ip.addr"));
        assert_eq!(nearest("completely.unknown.thing"), None);
        // Bounded: a 100 kB name is compared with nothing; a short one with few names.
        DISTANCES.with(|c| c.set(0));
        assert_eq!(nearest(&"tcp.x".repeat(20_000)), None);
        assert_eq!(DISTANCES.with(|c| c.get()), 0);
        assert_eq!(nearest("tcp.flgs"), Some("tcp.flags"));
        assert!(DISTANCES.with(|c| c.get()) < FIELDS.len() / 2);
    }
}
