//! Column text: tshark's Info and Protocol columns and `frame.protocols`.

use super::PacketView;
use crate::decode::tcp::{flags as fl, option_spans};
use crate::decode::{proto, Frame, LinkType};
use crate::track::analysis::flag;
use std::fmt::Write as _;

/// `tcp.flags.str`: 12 characters over RRRACEUAPRSF, `·` for unset bits.
pub fn flags_str(flags: u16) -> String {
    const LETTERS: &[u8; 12] = b"RRRACEUAPRSF";
    let mut s = String::with_capacity(24);
    for (i, &c) in LETTERS.iter().enumerate() {
        let bit = 1u16 << (11 - i);
        if flags & bit != 0 {
            s.push(c as char);
        } else {
            s.push('·');
        }
    }
    s
}

/// Flag names in Wireshark's Info order: FIN, SYN, RST, PSH, ACK, URG, ECE, CWR, AE, Reserved.
pub fn flag_names(flags: u16) -> String {
    const NAMES: [(u16, &str); 10] = [
        (fl::FIN, "FIN"),
        (fl::SYN, "SYN"),
        (fl::RST, "RST"),
        (fl::PSH, "PSH"),
        (fl::ACK, "ACK"),
        (fl::URG, "URG"),
        (fl::ECE, "ECE"),
        (fl::CWR, "CWR"),
        (fl::AE, "AE"),
        (fl::RES, "Reserved"),
    ];
    let mut s = String::new();
    for (bit, name) in NAMES {
        if flags & bit != 0 {
            if !s.is_empty() {
                s.push_str(", ");
            }
            s.push_str(name);
        }
    }
    if s.is_empty() {
        s.push_str("<None>");
    }
    s
}

/// `frame.protocols` for the layers we decode (application layers are not named).
pub fn protocols(f: &Frame) -> String {
    let mut s = String::from(match f.link {
        LinkType::Ethernet if f.has(proto::ETH) => "eth:ethertype",
        LinkType::LinuxSll | LinkType::LinuxSll2 if f.has(proto::SLL) => "sll:ethertype",
        LinkType::Null | LinkType::Loop => "null",
        LinkType::Raw | LinkType::Ipv4 | LinkType::Ipv6 => "raw",
        _ => "",
    });
    // FabricPath follows the outer Ethernet header without Wireshark's "ethertype" step.
    if f.layer_codes().next() == Some(crate::decode::layer::CFP) {
        if let Some(stripped) = s.strip_suffix(":ethertype") {
            s = stripped.to_string();
        }
    }
    for code in f.layer_codes() {
        let name = crate::decode::layer::name(code);
        if !name.is_empty() {
            s.push(':');
            s.push_str(name);
        }
    }
    let mut push = |p: &str| {
        if !s.is_empty() {
            s.push(':');
        }
        s.push_str(p);
    };
    if f.has(proto::ARP) {
        push("arp");
    }
    if let Some(ip) = &f.ip {
        push(if ip.is_v6() { "ipv6" } else { "ip" });
        if ip.is_v6() && ip.is_fragment() {
            push("ipv6.fraghdr");
        }
    }
    if let Some(icmp) = &f.icmp {
        push(if icmp.v6 { "icmpv6" } else { "icmp" });
        if let Some(inner) = &f.inner_ip {
            push(if inner.is_v6() { "ipv6" } else { "ip" });
        }
    }
    if f.tcp.is_some() {
        push("tcp");
    } else if f.udp.is_some() {
        push("udp");
    } else if f.ip.is_some_and(|ip| ip.is_fragment()) && f.icmp.is_none() {
        // A fragment that does not complete its datagram: Wireshark shows its bytes as data.
        push("data");
    }
    s
}

pub fn protocol_column(f: &Frame) -> &'static str {
    if let Some(i) = &f.icmp {
        return if i.v6 { "ICMPv6" } else { "ICMP" };
    }
    if f.tcp.is_some() {
        "TCP"
    } else if f.udp.is_some() {
        "UDP"
    } else if f.arp.is_some() {
        "ARP"
    } else if let Some(ip) = &f.ip {
        if ip.is_v6() {
            "IPv6"
        } else {
            "IPv4"
        }
    } else {
        match f.link {
            LinkType::Ethernet => "Ethernet",
            _ => "Frame",
        }
    }
}

/// The analysis labels as tshark prepends them: each goes to the front, so
/// the text runs in reverse of the printing order (§3.3).
pub fn analysis_labels(flags: u32, dup_num: u32, dup_frame: u64) -> String {
    let mut s = String::new();
    for (bit, _, label) in flag::ALL {
        if flags & bit != 0 {
            let tag = if bit == flag::DUPLICATE_ACK {
                format!("[TCP Dup ACK {dup_frame}#{dup_num}] ")
            } else {
                format!("[{label}] ")
            };
            s.insert_str(0, &tag);
        }
    }
    s
}

/// tshark's Info column for a frame.
pub fn info(p: &PacketView<'_>) -> String {
    let f = p.frame;
    let mut s = String::new();
    if let (Some(t), true) = (f.tcp.as_ref(), f.tcp.as_ref().is_some_and(|t| t.has_fixed)) {
        if let Some(icmp) = &f.icmp {
            let _ = write!(
                s,
                "{} (type={}, code={}) ",
                icmp_name(icmp.v6, icmp.icmp_type),
                icmp.icmp_type,
                icmp.code
            );
        }
        if let Some(m) = p.meta {
            s.push_str(&analysis_labels(
                m.analysis.flags,
                m.analysis.dup_ack_num,
                m.analysis.dup_ack_frame,
            ));
        }
        let _ = write!(
            s,
            "{} → {} [{}]",
            t.src_port,
            t.dst_port,
            flag_names(t.flags)
        );
        let (seq, ack, win) = match p.meta {
            Some(m) => (m.seq, m.ack, m.window),
            None => (t.seq, t.ack, t.window as u32),
        };
        if t.bogus_hdr_len() {
            let _ = write!(
                s,
                " Seq={seq} Win={}, bogus TCP header length ({}, must be at least 20)",
                t.window, t.hdr_len
            );
            return s;
        }
        let _ = write!(s, " Seq={seq}");
        if t.ack_flag() {
            let _ = write!(s, " Ack={ack}");
        }
        let _ = write!(s, " Win={win}");
        if crate::decode::checksum::tcp_status(f, p.bytes) == crate::decode::checksum::BAD {
            s.push_str(" [TCP CHECKSUM INCORRECT]");
        }
        if t.has(fl::URG) {
            let _ = write!(s, " Urg={}", t.urgent);
        }
        if let Some(len) = p.meta.and_then(|m| m.len) {
            let _ = write!(s, " Len={len}");
        }
        option_tokens(p, &mut s);
        return s;
    }
    if let Some(t) = &f.tcp {
        let _ = write!(s, "{} → {} [TCP header truncated]", t.src_port, t.dst_port);
        return s;
    }
    if let Some(u) = &f.udp {
        let _ = write!(
            s,
            "{} → {} Len={}",
            u.src_port,
            u.dst_port,
            u.length.saturating_sub(8)
        );
        return s;
    }
    if let Some(i) = &f.icmp {
        let _ = write!(
            s,
            "{} (type={}, code={})",
            icmp_name(i.v6, i.icmp_type),
            i.icmp_type,
            i.code
        );
        return s;
    }
    if let Some(a) = &f.arp {
        match a.opcode {
            1 => {
                let _ = write!(s, "Who has {}? Tell {}", a.target_ip, a.sender_ip);
            }
            2 => {
                let mut mac = String::new();
                super::write_mac(&mut mac, &a.sender_mac);
                let _ = write!(s, "{} is at {}", a.sender_ip, mac);
            }
            op => {
                let _ = write!(s, "ARP opcode {op}");
            }
        }
        return s;
    }
    if let Some(r) = f.problem {
        s.push_str(r);
    }
    s
}

fn icmp_name(v6: bool, t: u8) -> &'static str {
    match (v6, t) {
        (false, 0) => "Echo (ping) reply",
        (false, 3) => "Destination unreachable",
        (false, 8) => "Echo (ping) request",
        (false, 11) => "Time-to-live exceeded",
        (true, 1) => "Destination Unreachable",
        (true, 128) => "Echo (ping) request",
        (true, 129) => "Echo (ping) reply",
        (true, 135) => "Neighbor Solicitation",
        (true, 136) => "Neighbor Advertisement",
        _ => "ICMP",
    }
}

/// Option tokens in header order, after `Len=` (§5).
fn option_tokens(p: &PacketView<'_>, s: &mut String) {
    let f = p.frame;
    let Some(t) = f.tcp.as_ref() else { return };
    let Some(ip) = f.tcp_ip() else { return };
    // The options live after the fixed header; find them in the captured bytes.
    let tcp_off = ip.offset as usize + ip.hdr_len as usize;
    let start = tcp_off + 20;
    let end = (tcp_off + t.hdr_len as usize).min(p.bytes.len());
    if start >= end {
        return;
    }
    let o = &p.bytes[start..end];
    let rev_base = p.meta.map(|m| m.rev_base).unwrap_or(0);
    for (kind, at, len) in option_spans(o) {
        let body = &o[at..at + len];
        match kind {
            2 if len == 4 => {
                let _ = write!(s, " MSS={}", u16::from_be_bytes([body[2], body[3]]));
            }
            3 if len == 3 => {
                let _ = write!(s, " WS={}", 1u32 << body[2].min(14));
            }
            4 if len == 2 => s.push_str(" SACK_PERM"),
            5 if len >= 10 => {
                for blk in body[2..].chunks_exact(8) {
                    let l =
                        u32::from_be_bytes([blk[0], blk[1], blk[2], blk[3]]).wrapping_sub(rev_base);
                    let r =
                        u32::from_be_bytes([blk[4], blk[5], blk[6], blk[7]]).wrapping_sub(rev_base);
                    let _ = write!(s, " SLE={l} SRE={r}");
                }
            }
            8 if len == 10 => {
                let v = u32::from_be_bytes([body[2], body[3], body[4], body[5]]);
                let e = u32::from_be_bytes([body[6], body[7], body[8], body[9]]);
                let _ = write!(s, " TSval={v} TSecr={e}");
            }
            34 => s.push_str(if len == 2 { " TFO=R" } else { " TFO=C" }),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_texts() {
        assert_eq!(flags_str(0x012), "·······A··S·");
        assert_eq!(flag_names(0x012), "SYN, ACK");
        assert_eq!(flag_names(0), "<None>");
        assert_eq!(flag_names(0x0c2), "SYN, ECE, CWR");
    }

    #[test]
    fn labels_run_in_reverse_printing_order() {
        let l = analysis_labels(flag::ZERO_WINDOW | flag::ZERO_WINDOW_PROBE_ACK, 0, 0);
        assert_eq!(l, "[TCP ZeroWindowProbeAck] [TCP ZeroWindow] ");
        let l = analysis_labels(flag::LOST_SEGMENT | flag::REUSED_PORTS, 0, 0);
        assert_eq!(
            l,
            "[TCP Previous segment not captured] [TCP Port numbers reused] "
        );
    }
}
