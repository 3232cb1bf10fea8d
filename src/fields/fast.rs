//! Fast getters for the hottest fields: the same values as the registry's
//! getters (a test checks them frame by frame on every sample and shared
//! capture), read straight from the packet without building `Value`s.
//! `-T fields` prints through `fast_u64`; display filters compare through
//! `fast_getter`.

use super::PacketView;
use crate::decode::proto;
use crate::decode::tcp::flags as fl;
use crate::track::analysis::flag;
use std::net::IpAddr;

/// A single-valued numeric field.
pub type FastU64 = fn(&PacketView<'_>) -> Option<u64>;

pub fn fast_u64(name: &str) -> Option<FastU64> {
    // Only undecorated decimal fields; anything printed in hex or as text stays generic.
    Some(match name {
        "frame.number" => |p| Some(p.frame.number),
        "frame.len" => |p| Some(p.frame.wire_len as u64),
        "tcp.stream" => |p| p.meta.map(|m| m.stream as u64),
        "tcp.seq" => |p| p.meta.map(|m| m.seq as u64),
        "tcp.ack" => |p| {
            p.meta
                .filter(|_| p.tcpf().is_some_and(|t| !t.bogus_hdr_len()))
                .map(|m| m.ack as u64)
        },
        "tcp.len" => |p| {
            p.meta
                .filter(|m| m.analyzed)
                .and_then(|m| m.len)
                .map(u64::from)
        },
        "tcp.nxtseq" => |p| {
            p.meta
                .filter(|m| m.analyzed)
                .and_then(|m| m.nxtseq)
                .map(u64::from)
        },
        "tcp.srcport" => |p| p.frame.tcp.as_ref().map(|t| t.src_port as u64),
        "tcp.dstport" => |p| p.frame.tcp.as_ref().map(|t| t.dst_port as u64),
        "tcp.completeness" => |p| p.meta.map(|m| m.completeness as u64),
        _ => return None,
    })
}

/// Up to four occurrences of an unsigned, boolean (0/1), IPv4 (as its u32)
/// or presence-only (1) field.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Scalars {
    n: u8,
    v: [u64; 4],
}

impl Scalars {
    pub const NONE: Scalars = Scalars { n: 0, v: [0; 4] };

    #[inline]
    pub fn opt(x: Option<u64>) -> Scalars {
        match x {
            Some(x) => Scalars {
                n: 1,
                v: [x, 0, 0, 0],
            },
            None => Scalars::NONE,
        }
    }
    /// A presence-only field occurring once when `on`.
    #[inline]
    pub fn present(on: bool) -> Scalars {
        Scalars {
            n: on as u8,
            v: [1, 0, 0, 0],
        }
    }
    #[inline]
    pub fn push(&mut self, x: u64) {
        if let Some(slot) = self.v.get_mut(self.n as usize) {
            *slot = x;
            self.n += 1;
        }
    }
    #[inline]
    pub fn as_slice(&self) -> &[u64] {
        &self.v[..self.n as usize]
    }
}

/// A field's fast getter: a single number, a presence-only field that occurs
/// at most once (protocols, most analysis flags), or a few scalars.
/// The two fields filters test most, `ip.addr` (and `ip.src`, `ip.dst`) and
/// `tcp.port`, are read inline rather than through a function pointer.
#[derive(Clone, Copy)]
pub enum FastGetter {
    One(FastU64),
    Flag(fn(&PacketView<'_>) -> bool),
    Many(fn(&PacketView<'_>) -> Scalars),
    /// IPv4 source and/or destination addresses, outer then ICMP-quoted header.
    Addrs {
        src: bool,
        dst: bool,
    },
    /// TCP source and destination ports.
    Ports,
}

impl FastGetter {
    #[inline]
    pub fn get(self, p: &PacketView<'_>) -> Scalars {
        match self {
            FastGetter::One(g) => Scalars::opt(g(p)),
            FastGetter::Flag(g) => Scalars::present(g(p)),
            FastGetter::Many(g) => g(p),
            FastGetter::Addrs { .. } | FastGetter::Ports => {
                let mut s = Scalars::NONE;
                self.for_each(p, |v| {
                    s.push(v);
                    false
                });
                s
            }
        }
    }

    /// Call `f` on each occurrence, in the registry's order, until it returns true;
    /// returns whether it did.
    #[inline]
    pub fn for_each(self, p: &PacketView<'_>, mut f: impl FnMut(u64) -> bool) -> bool {
        match self {
            FastGetter::Addrs { src, dst } => {
                for ip in p.ips() {
                    if ip.is_v6() {
                        continue;
                    }
                    if src && f(v4_bits(ip.src)) {
                        return true;
                    }
                    if dst && f(v4_bits(ip.dst)) {
                        return true;
                    }
                }
                false
            }
            FastGetter::Ports => p
                .tcp()
                .is_some_and(|t| f(t.src_port as u64) || f(t.dst_port as u64)),
            FastGetter::One(g) => g(p).is_some_and(f),
            FastGetter::Flag(g) => g(p) && f(1),
            FastGetter::Many(g) => g(p).as_slice().iter().any(|&v| f(v)),
        }
    }
}

#[inline]
fn v4_bits(a: IpAddr) -> u64 {
    match a {
        IpAddr::V4(a) => u32::from(a) as u64,
        IpAddr::V6(_) => 0,
    }
}

/// The fast getter of `name`, when it has one.
pub fn fast_getter(name: &str) -> Option<FastGetter> {
    if let Some(g) = fast_u64(name) {
        return Some(FastGetter::One(g));
    }
    macro_rules! protocol {
        ($bit:expr) => {
            |p| p.frame.has($bit)
        };
    }
    macro_rules! analysis {
        ($bit:expr) => {
            |p| p.meta.is_some_and(|m| m.analysis.flags & $bit != 0)
        };
    }
    let flag: fn(&PacketView<'_>) -> bool = match name {
        "eth" => protocol!(proto::ETH),
        "vlan" => protocol!(proto::VLAN),
        "sll" => protocol!(proto::SLL),
        "null" => protocol!(proto::NULL),
        "arp" => protocol!(proto::ARP),
        "ip" => protocol!(proto::IP),
        "ipv6" => protocol!(proto::IPV6),
        "icmp" => protocol!(proto::ICMP),
        "icmpv6" => protocol!(proto::ICMPV6),
        "udp" => protocol!(proto::UDP),
        "tcp" => protocol!(proto::TCP),
        "tcp.analysis" => |p| p.meta.is_some_and(|m| m.has_tree),
        "tcp.analysis.flags" => |p| p.meta.is_some_and(|m| m.analysis.flags != 0),
        "tcp.analysis.retransmission" => analysis!(flag::ANY_RETRANSMISSION),
        "tcp.analysis.fast_retransmission" => analysis!(flag::FAST_RETRANSMISSION),
        "tcp.analysis.spurious_retransmission" => analysis!(flag::SPURIOUS_RETRANSMISSION),
        "tcp.analysis.out_of_order" => analysis!(flag::OUT_OF_ORDER),
        "tcp.analysis.lost_segment" => analysis!(flag::LOST_SEGMENT),
        "tcp.analysis.ack_lost_segment" => analysis!(flag::ACK_LOST_SEGMENT),
        "tcp.analysis.zero_window" => analysis!(flag::ZERO_WINDOW),
        "tcp.analysis.zero_window_probe" => analysis!(flag::ZERO_WINDOW_PROBE),
        "tcp.analysis.zero_window_probe_ack" => analysis!(flag::ZERO_WINDOW_PROBE_ACK),
        "tcp.analysis.keep_alive" => analysis!(flag::KEEP_ALIVE),
        "tcp.analysis.keep_alive_ack" => analysis!(flag::KEEP_ALIVE_ACK),
        "tcp.analysis.reused_ports" => analysis!(flag::REUSED_PORTS),
        "tcp.analysis.window_update" => analysis!(flag::WINDOW_UPDATE),
        "tcp.analysis.window_full" => analysis!(flag::WINDOW_FULL),
        // The registry lists outer then ICMP-quoted headers, source before destination.
        "ip.src" => {
            return Some(FastGetter::Addrs {
                src: true,
                dst: false,
            })
        }
        "ip.dst" => {
            return Some(FastGetter::Addrs {
                src: false,
                dst: true,
            })
        }
        "ip.addr" => {
            return Some(FastGetter::Addrs {
                src: true,
                dst: true,
            })
        }
        "tcp.port" => return Some(FastGetter::Ports),
        _ => return fast_scalars(name).map(FastGetter::Many),
    };
    Some(FastGetter::Flag(flag))
}

/// The multi-valued fast getters.
fn fast_scalars(name: &str) -> Option<fn(&PacketView<'_>) -> Scalars> {
    macro_rules! tcp_flag {
        ($bit:expr) => {
            |p| {
                Scalars::opt(
                    p.tcpf()
                        .filter(|t| !t.bogus_hdr_len())
                        .map(|t| (t.flags & $bit != 0) as u64),
                )
            }
        };
    }
    Some(match name {
        "tcp.flags" => |p| {
            Scalars::opt(
                p.tcpf()
                    .filter(|t| !t.bogus_hdr_len())
                    .map(|t| t.flags as u64),
            )
        },
        "tcp.flags.cwr" => tcp_flag!(fl::CWR),
        "tcp.flags.ece" => tcp_flag!(fl::ECE),
        "tcp.flags.urg" => tcp_flag!(fl::URG),
        "tcp.flags.ack" => tcp_flag!(fl::ACK),
        "tcp.flags.push" => tcp_flag!(fl::PSH),
        "tcp.flags.reset" => tcp_flag!(fl::RST),
        "tcp.flags.syn" => tcp_flag!(fl::SYN),
        "tcp.flags.fin" => tcp_flag!(fl::FIN),
        "tcp.analysis.duplicate_ack" => |p| {
            // Twice, as in tshark's tree (the flag and its expert item).
            let dup = p
                .meta
                .is_some_and(|m| m.analysis.flags & flag::DUPLICATE_ACK != 0);
            Scalars {
                n: 2 * dup as u8,
                v: [1, 1, 0, 0],
            }
        },
        _ => return None,
    })
}

/// Every registry field with a fast getter: the equivalence test walks the
/// registry, so a fast path added for any field is tested without a list to keep.
#[cfg(test)]
fn fast_names() -> Vec<&'static str> {
    crate::fields::FIELDS
        .iter()
        .map(|f| f.name)
        .filter(|n| fast_getter(n).is_some())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::{by_name, Value};

    #[test]
    fn every_fast_name_has_a_getter_and_a_registry_field() {
        let names = fast_names();
        // As many as the fast paths written (a fast path for a name the registry lacks would never run).
        assert!(names.len() >= 51, "{names:?}");
        for name in &names {
            assert!(by_name(name).is_some(), "{name}");
        }
        assert!(fast_getter("tcp.payload").is_none());
    }

    fn capture_files() -> Vec<std::path::PathBuf> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files: Vec<std::path::PathBuf> = Vec::new();
        for dir in [
            root.join("sample-captures"),
            root.join("tests/conformance"),
            root.join("tests/data"),
        ] {
            if let Ok(rd) = std::fs::read_dir(&dir) {
                files.extend(
                    rd.flatten()
                        .map(|e| e.path())
                        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng")),
                );
            }
        }
        files
    }

    /// The fast getters must give exactly what the registry gives, frame by frame.
    #[test]
    fn fast_getters_agree_with_the_registry_on_real_captures() {
        let mut checked = 0u64;
        for file in capture_files() {
            let Ok(mut cap) = pcap::Capture::from_file_with_precision(&file, pcap::Precision::Nano)
            else {
                continue;
            };
            let link = crate::decode::LinkType::from_linktype(cap.get_datalink().0);
            let mut tracker = crate::track::Tracker::default();
            let mut n = 0;
            while let Ok(pkt) = cap.next_packet() {
                n += 1;
                let data = pkt.data.to_vec();
                let f = crate::decode::decode(link, n, 1, pkt.header.len, &data);
                let tracked = tracker.process(&f).map(|(m, s)| (*m, s.clone()));
                let view = PacketView {
                    frame: &f,
                    bytes: &data,
                    meta: tracked.as_ref().map(|t| &t.0),
                    flow: tracked.as_ref().map(|t| &t.1),
                    first_ts: 1,
                    prev_ts: 1,
                    app: None,
                    diff: None,
                    tls: None,
                    tls_stream: None,
                };
                let mut vals = Vec::new();
                for name in fast_names() {
                    by_name(name).unwrap().values(&view, &mut vals);
                    let slow: Vec<u64> = vals
                        .iter()
                        .map(|v| match v {
                            Value::UInt(x) => *x,
                            Value::Bool(b) => *b as u64,
                            Value::V4(a) => u32::from(*a) as u64,
                            Value::Present => 1,
                            other => panic!("{name}: not a scalar: {other:?}"),
                        })
                        .collect();
                    let fast = fast_getter(name).unwrap().get(&view);
                    assert_eq!(
                        fast.as_slice(),
                        slow.as_slice(),
                        "{} frame {n} {name}",
                        file.display()
                    );
                    if let Some(g) = fast_u64(name) {
                        assert_eq!(g(&view), slow.first().copied(), "{name}");
                        assert!(slow.len() <= 1, "{name} is not single-valued");
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked > 10_000, "only {checked} values checked");
    }
}
