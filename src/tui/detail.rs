//! The detail pane's model: a foldable tree of one packet's layers, built
//! from the field registry (every field that has a value for the packet
//! shows, under the layer its name belongs to), and the byte range each line
//! covers in the frame, for the hex dump's highlight.

use super::fmt::duration;
use super::store::Store;
use crate::decode::{Frame, LinkType};
use crate::fields::{self, FieldType, Value};

/// Layers of the tree, in display order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Frame,
    Link,
    Ip,
    Icmp,
    Tcp,
    Flags,
    Options,
    Analysis,
    Handshake,
    Tls,
    Payload,
}

pub const SECTIONS: [Section; 11] = [
    Section::Frame,
    Section::Link,
    Section::Ip,
    Section::Icmp,
    Section::Tcp,
    Section::Flags,
    Section::Options,
    Section::Analysis,
    Section::Handshake,
    Section::Tls,
    Section::Payload,
];

impl Section {
    pub fn index(self) -> usize {
        SECTIONS.iter().position(|&s| s == self).unwrap_or(0)
    }
    /// Flags, options and the analysis hang under TCP.
    fn depth(self) -> u8 {
        match self {
            Section::Flags | Section::Options | Section::Analysis => 1,
            _ => 0,
        }
    }
    /// Folded or unfolded when the TUI starts.
    pub fn default_expanded(self) -> bool {
        matches!(self, Section::Tcp | Section::Analysis | Section::Handshake)
    }
}

/// Which section a registry field belongs to (`None`: not shown).
pub fn section_of(name: &str) -> Option<Section> {
    let top = name.split('.').next().unwrap_or(name);
    Some(match top {
        "frame" => Section::Frame,
        "eth" | "vlan" | "sll" | "null" => Section::Link,
        "ip" | "ipv6" => Section::Ip,
        "icmp" | "icmpv6" => Section::Icmp,
        "tcp" if name.starts_with("tcp.options.") => Section::Options,
        "tcp" if name == "tcp.flags" || name.starts_with("tcp.flags.") => Section::Flags,
        "tcp" if name.starts_with("tcp.analysis") => Section::Analysis,
        "tcp" if name == "tcp.payload" => Section::Payload,
        "tcp" => Section::Tcp,
        "hs" => Section::Handshake,
        "tls" => Section::Tls,
        _ => return None,
    })
}

/// One line of the tree.
#[derive(Clone, Debug, PartialEq)]
pub struct TreeLine {
    pub section: Section,
    pub depth: u8,
    /// A foldable layer line (else a field).
    pub header: bool,
    pub expanded: bool,
    /// Header text, or the field's value.
    pub text: String,
    pub field: Option<&'static str>,
    pub desc: &'static str,
    /// The line as Wireshark words it: `Source Port: 40374`, `[Stream index: 0]`,
    /// `.... ...1 .... = Acknowledgment: Set`, `[Expert Info (Chat/Sequence): ...]`.
    pub pretty: String,
    /// "Apply as filter": an expression that matches this line's value.
    pub filter: Option<String>,
    /// A problem (malformed frame, a warning or error expert item): drawn in red or yellow.
    pub alert: Option<Alert>,
    /// Bytes of the frame this line covers (start, length).
    pub span: Option<(usize, usize)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alert {
    Warn,
    Error,
}

/// Control characters and escapes never reach the terminal: shown as `\xNN`.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// The bits of a TCP flag in the 12-bit flags field.
fn flag_mask(name: &str) -> Option<u16> {
    Some(match name {
        "tcp.flags.res" => 0xe00,
        "tcp.flags.ae" => 0x100,
        "tcp.flags.cwr" => 0x080,
        "tcp.flags.ece" => 0x040,
        "tcp.flags.urg" => 0x020,
        "tcp.flags.ack" => 0x010,
        "tcp.flags.push" => 0x008,
        "tcp.flags.reset" => 0x004,
        "tcp.flags.syn" => 0x002,
        "tcp.flags.fin" => 0x001,
        _ => return None,
    })
}

/// Wireshark's bit picture of a flag: `.... ...1 .... = Acknowledgment: Set`.
fn flag_bits(flags: u16, mask: u16, label: &str) -> String {
    let mut bits = String::new();
    for i in (0..12).rev() {
        let b = 1u16 << i;
        bits.push(if mask & b == 0 {
            '.'
        } else if flags & b != 0 {
            '1'
        } else {
            '0'
        });
        if i % 4 == 0 && i > 0 {
            bits.push(' ');
        }
    }
    let set = if flags & mask != 0 { "Set" } else { "Not set" };
    format!("{bits} = {label}: {set}")
}

/// The expert fields are drawn as expert lines, not as bare presence lines.
fn is_expert_field(name: &str) -> bool {
    name.starts_with("tcp.connection.")
        || matches!(
            name,
            "tcp.ack.nonzero"
                | "tcp.urgent_pointer.non_zero"
                | "tcp.options.mss.absent"
                | "tcp.options.mss.present"
                | "tcp.options.sack.dsack"
                | "tcp.option.len.invalid"
                | "tcp.analysis.tfo_syn"
        )
}

/// A filter expression that matches the first value.
fn filter_expr(name: &str, ty: FieldType, vals: &[Value<'_>]) -> String {
    match (ty, vals.first()) {
        (FieldType::None | FieldType::Protocol, _) | (_, None) => name.to_string(),
        (FieldType::Str, Some(v)) => {
            let mut t = String::new();
            v.write(ty, &mut t);
            format!(
                "{name} == \"{}\"",
                t.replace('\\', "\\\\").replace('"', "\\\"")
            )
        }
        (_, Some(v)) => {
            let mut t = String::new();
            v.write(ty, &mut t);
            format!("{name} == {t}")
        }
    }
}

/// Offsets of the layers in a decoded frame.
struct Offsets {
    ip: Option<(usize, usize)>,
    tcp: Option<(usize, usize)>,
}

fn offsets(f: &Frame) -> Offsets {
    let ip = f
        .tcp_ip()
        .or(f.ip.as_ref())
        .map(|i| (i.offset as usize, i.hdr_len as usize));
    let tcp = match (ip, &f.tcp) {
        (Some((o, l)), Some(t)) => Some((o + l, (t.hdr_len as usize).max(20))),
        _ => None,
    };
    Offsets { ip, tcp }
}

/// The bytes a field covers, when it maps to a fixed place in its header.
fn field_span(name: &str, f: &Frame, o: &Offsets) -> Option<(usize, usize)> {
    let link_len = o.ip.map(|i| i.0).unwrap_or(0);
    let in_eth =
        |a: usize, l: usize| (f.link == LinkType::Ethernet && link_len >= 14).then_some((a, l));
    let v6 = f.ip.is_some_and(|i| i.is_v6());
    let in_ip = |a: usize, l: usize| o.ip.map(|(s, _)| (s + a, l));
    let in_tcp = |a: usize, l: usize| o.tcp.map(|(s, _)| (s + a, l));
    match name {
        "eth.dst" => in_eth(0, 6),
        "eth.src" => in_eth(6, 6),
        "eth.type" => in_eth(12, 2),
        "ip.dsfield" => in_ip(1, 1),
        "ip.len" => in_ip(2, 2),
        "ip.id" => in_ip(4, 2),
        "ip.flags.df" | "ip.flags.mf" | "ip.frag_offset" => in_ip(6, 2),
        "ip.ttl" => in_ip(8, 1),
        "ip.proto" => in_ip(9, 1),
        "ip.checksum" => in_ip(10, 2),
        "ip.src" if !v6 => in_ip(12, 4),
        "ip.dst" if !v6 => in_ip(16, 4),
        "ip.hdr_len" => in_ip(0, 1),
        "ipv6.plen" => in_ip(4, 2),
        "ipv6.nxt" => in_ip(6, 1),
        "ipv6.hlim" => in_ip(7, 1),
        "ipv6.src" => in_ip(8, 16),
        "ipv6.dst" => in_ip(24, 16),
        "tcp.srcport" => in_tcp(0, 2),
        "tcp.dstport" => in_tcp(2, 2),
        "tcp.port" => in_tcp(0, 4),
        "tcp.seq" | "tcp.seq_raw" => in_tcp(4, 4),
        "tcp.ack" | "tcp.ack_raw" => in_tcp(8, 4),
        "tcp.hdr_len" => in_tcp(12, 1),
        n if n == "tcp.flags" || n.starts_with("tcp.flags.") => in_tcp(12, 2),
        "tcp.window_size_value" | "tcp.window_size" => in_tcp(14, 2),
        "tcp.checksum" | "tcp.checksum.status" => in_tcp(16, 2),
        "tcp.urgent_pointer" => in_tcp(18, 2),
        _ => None,
    }
}

fn section_span(s: Section, f: &Frame, o: &Offsets) -> Option<(usize, usize)> {
    match s {
        Section::Frame => Some((0, f.cap_len as usize)),
        Section::Link => o.ip.map(|(s, _)| (0, s)).filter(|x| x.1 > 0),
        Section::Ip => o.ip,
        Section::Icmp => None,
        Section::Tcp => o.tcp,
        Section::Flags => o.tcp.map(|(s, _)| (s + 12, 2)),
        Section::Options => o
            .tcp
            .map(|(s, l)| (s + 20, l.saturating_sub(20)))
            .filter(|x| x.1 > 0),
        Section::Payload | Section::Tls => {
            (f.payload_cap > 0).then_some((f.payload_off as usize, f.payload_cap as usize))
        }
        Section::Analysis | Section::Handshake => None,
    }
}

fn header_text(s: Section, p: &fields::PacketView<'_>, n_fields: usize) -> String {
    let f = p.frame;
    match s {
        Section::Frame => format!(
            "Frame {}: {} bytes on wire, {} bytes captured",
            f.number, f.wire_len, f.cap_len
        ),
        Section::Link => match f.link {
            LinkType::Ethernet => {
                let (mut src, mut dst) = (String::new(), String::new());
                if let (Some(a), Some(b)) = (f.eth_src, f.eth_dst) {
                    fields::write_mac(&mut src, &a);
                    fields::write_mac(&mut dst, &b);
                }
                format!("Ethernet II, Src: {src}, Dst: {dst}")
            }
            LinkType::LinuxSll | LinkType::LinuxSll2 => "Linux cooked capture".into(),
            LinkType::Null | LinkType::Loop => "Null/Loopback".into(),
            _ => "Link layer".into(),
        },
        Section::Ip => match f.ip {
            Some(ip) if ip.is_v6() => format!(
                "Internet Protocol Version 6, Src: {}, Dst: {}",
                ip.src, ip.dst
            ),
            Some(ip) => format!(
                "Internet Protocol Version 4, Src: {}, Dst: {}",
                ip.src, ip.dst
            ),
            None => "Internet Protocol".into(),
        },
        Section::Icmp => "Internet Control Message Protocol".into(),
        Section::Tcp => match (f.tcp, p.meta) {
            (Some(t), Some(m)) => {
                let mut s = format!(
                    "Transmission Control Protocol, Src Port: {}, Dst Port: {}, Seq: {}",
                    t.src_port, t.dst_port, m.seq
                );
                if t.ack_flag() {
                    s.push_str(&format!(", Ack: {}", m.ack));
                }
                if let Some(l) = m.len {
                    s.push_str(&format!(", Len: {l}"));
                }
                s
            }
            _ => "Transmission Control Protocol".into(),
        },
        Section::Flags => match f.tcp {
            Some(t) => format!(
                "Flags: 0x{:03x} ({})",
                t.flags,
                fields::info::flag_names(t.flags)
            ),
            None => "Flags".into(),
        },
        Section::Options => format!("Options ({} fields)", n_fields),
        Section::Analysis => "[SEQ/ACK analysis]".into(),
        Section::Handshake => match p.meta {
            Some(m) if m.analyzed => format!(
                "hs-tui handshake: {}, stream {}",
                m.phase.name(),
                super::store::state_label(m.hs_state)
            ),
            Some(m) => format!(
                "hs-tui handshake: stream {}",
                super::store::state_label(m.hs_state)
            ),
            None => "hs-tui handshake".into(),
        },
        Section::Tls => format!(
            "Transport Layer Security ({} record{})",
            p.tls.map_or(0, |t| t.records.len()),
            if p.tls.map_or(0, |t| t.records.len()) == 1 {
                ""
            } else {
                "s"
            }
        ),
        Section::Payload => format!("Data ({} bytes)", f.payload_cap),
    }
}

/// A field's values as one line of text.
fn value_text(ty: FieldType, vals: &[Value<'_>]) -> String {
    let mut out = String::new();
    for (i, v) in vals.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        match v {
            Value::Bytes(b) if b.len() > 24 => {
                for x in b.iter().take(24) {
                    out.push_str(&format!("{x:02x}"));
                }
                out.push_str(&format!("… ({} bytes)", b.len()));
            }
            Value::Time(ns) if ty == FieldType::RelTime => {
                v.write(ty, &mut out);
                out.push_str(&format!(" s ({})", duration(*ns)));
            }
            _ => v.write(ty, &mut out),
        }
    }
    out
}

/// Wireshark's words for a conversation-completeness bitmask (SYN 1, SYN-ACK 2,
/// ACK 4, data 8, FIN 16, RST 32), as its tree shows them.
fn completeness_name(c: u64) -> &'static str {
    match c {
        1 => "Incomplete, SYN_SENT",
        3 => "Incomplete, CLIENT_ESTABLISHED",
        7 => "Incomplete, ESTABLISHED",
        15 => "Incomplete, DATA",
        c if c & 7 == 7 && c & 48 != 0 && c & 8 != 0 => "Complete, WITH_DATA",
        c if c & 7 == 7 && c & 48 != 0 => "Complete, NO_DATA",
        _ => "Incomplete",
    }
}

/// The tree for packet `g`: the visible lines given which sections are unfolded.
pub fn build(store: &Store, g: u64, expanded: &[bool; SECTIONS.len()]) -> Vec<TreeLine> {
    store
        .with_view(g, |p| {
            let o = offsets(p.frame);
            let mut per: Vec<Vec<TreeLine>> = vec![Vec::new(); SECTIONS.len()];
            let mut vals = Vec::new();
            for f in fields::FIELDS {
                if matches!(f.ty, FieldType::Protocol) {
                    continue;
                }
                let Some(sec) = section_of(f.name) else {
                    continue;
                };
                if is_expert_field(f.name) {
                    continue;
                }
                f.values(p, &mut vals);
                if vals.is_empty() {
                    continue;
                }
                let label = fields::label(f.name);
                let mut value = escape(&value_text(f.ty, &vals));
                if let (true, [Value::UInt(c)]) = (f.name.ends_with(".completeness"), &vals[..]) {
                    value = format!("{} ({c})", completeness_name(*c));
                }
                let pretty = match (flag_mask(f.name), p.tcp()) {
                    (Some(mask), Some(t)) => flag_bits(t.flags, mask, label),
                    _ if matches!(f.ty, FieldType::None) => label.to_string(),
                    _ => format!("{label}: {value}"),
                };
                let pretty = if fields::generated(f.name) {
                    format!("[{pretty}]")
                } else {
                    pretty
                };
                per[sec.index()].push(TreeLine {
                    pretty,
                    filter: Some(filter_expr(f.name, f.ty, &vals)),
                    alert: None,
                    section: sec,
                    depth: sec.depth() + 1,
                    header: false,
                    expanded: false,
                    text: value,
                    field: Some(f.name),
                    desc: f.desc,
                    span: field_span(f.name, p.frame, &o)
                        .or_else(|| section_span(sec, p.frame, &o)),
                });
            }
            // Expert items, as Wireshark lists them in the tree.
            for k in crate::output::expert::items(p) {
                use crate::output::expert::Severity as S;
                let expr = k.filter();
                let name = expr.split_whitespace().next().unwrap_or("");
                let field = fields::by_name(name).map(|f| f.name);
                let sec = section_of(name).unwrap_or(Section::Tcp);
                let sev = k.severity();
                let pretty = format!(
                    "[Expert Info ({}/{}): {}]",
                    sev.tree_name(),
                    k.group(),
                    k.summary()
                );
                per[sec.index()].push(TreeLine {
                    section: sec,
                    depth: sec.depth() + 1,
                    header: false,
                    expanded: false,
                    text: k.summary(),
                    field,
                    desc: "expert information",
                    pretty,
                    filter: Some(expr),
                    alert: match sev {
                        S::Error => Some(Alert::Error),
                        S::Warn => Some(Alert::Warn),
                        _ => None,
                    },
                    span: section_span(sec, p.frame, &o),
                });
            }
            let mut out = Vec::new();
            // A malformed or cut frame says why first, whatever is folded.
            if let Some(why) = p.frame.problem {
                out.push(TreeLine {
                    section: Section::Frame,
                    depth: 0,
                    header: false,
                    expanded: false,
                    text: why.to_string(),
                    field: Some("frame.malformed"),
                    desc: "why the frame is malformed",
                    pretty: format!("[Malformed Packet: {why}]"),
                    filter: Some("frame.malformed".into()),
                    alert: Some(Alert::Error),
                    span: None,
                });
            }
            for (i, sec) in SECTIONS.iter().enumerate() {
                // TCP flags, options and analysis only show inside an unfolded TCP.
                if sec.depth() > 0 && !expanded[Section::Tcp.index()] {
                    continue;
                }
                let lines = std::mem::take(&mut per[i]);
                if lines.is_empty() && *sec != Section::Payload {
                    continue;
                }
                if *sec == Section::Payload && p.frame.payload_cap == 0 {
                    continue;
                }
                out.push(TreeLine {
                    section: *sec,
                    depth: sec.depth(),
                    header: true,
                    expanded: expanded[i],
                    text: header_text(*sec, p, lines.len()),
                    field: None,
                    desc: "",
                    pretty: String::new(),
                    filter: None,
                    alert: None,
                    span: section_span(*sec, p.frame, &o),
                });
                if expanded[i] {
                    out.extend(lines);
                }
            }
            out
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completeness_is_named_as_wireshark_names_it() {
        // Every value tshark 4.0.17 printed with -V over the corpus.
        for (c, name) in [
            (0, "Incomplete"),
            (1, "Incomplete, SYN_SENT"),
            (3, "Incomplete, CLIENT_ESTABLISHED"),
            (7, "Incomplete, ESTABLISHED"),
            (15, "Incomplete, DATA"),
            (12, "Incomplete"),
            (33, "Incomplete"),
            (37, "Incomplete"),
            (23, "Complete, NO_DATA"),
            (39, "Complete, NO_DATA"),
            (31, "Complete, WITH_DATA"),
            (47, "Complete, WITH_DATA"),
            (63, "Complete, WITH_DATA"),
        ] {
            assert_eq!(completeness_name(c), name, "{c}");
        }
    }

    #[test]
    fn every_shown_field_has_a_section() {
        // Fields of layers the store never holds (UDP, ARP) and the columns are left out on purpose.
        for f in fields::FIELDS {
            let top = f.name.split('.').next().unwrap();
            let shown = section_of(f.name).is_some();
            let expected = !matches!(top, "udp" | "arp" | "_ws");
            assert_eq!(shown, expected, "{}", f.name);
        }
    }
}
