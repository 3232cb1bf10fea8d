//! Expert information for TCP, as tshark 4.0's TCP dissector reports it
//! (`-z expert`, Wireshark's Analyze > Expert Information): one item per note
//! a packet raises, tallied by severity, protocol and summary in the order of
//! first appearance (tap-expert.c keeps one list per severity and bumps the
//! count of an equal summary). Only the TCP dissector's items are produced;
//! tshark also lists other protocols' (HTTP chats, IPv4 TTL notes).

use crate::decode::tcp::flags as fl;
use crate::fields::PacketView;
use crate::track::analysis::flag;
use smallvec::SmallVec;
use std::collections::HashMap;
use std::io::{self, Write};

/// tshark's severities, most severe first (the order `-z expert` prints them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warn,
    Note,
    Chat,
    Comment,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Error,
        Severity::Warn,
        Severity::Note,
        Severity::Chat,
        Severity::Comment,
    ];
    /// The section title of `-z expert`.
    pub fn title(self) -> &'static str {
        match self {
            Severity::Error => "Errors",
            Severity::Warn => "Warns",
            Severity::Note => "Notes",
            Severity::Chat => "Chats",
            Severity::Comment => "Comments",
        }
    }
    /// As Wireshark's tree says it: `[Expert Info (Warning/Sequence): ...]`.
    pub fn tree_name(self) -> &'static str {
        match self {
            Severity::Error => "Error",
            Severity::Warn => "Warning",
            Severity::Note => "Note",
            Severity::Chat => "Chat",
            Severity::Comment => "Comment",
        }
    }
    /// The level word of `-z expert,LEVEL` and of the TUI overlay.
    pub fn word(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warn => "warn",
            Severity::Note => "note",
            Severity::Chat => "chat",
            Severity::Comment => "comment",
        }
    }
}

/// One expert item kind of the TCP dissector. The argument of the three
/// parameterised summaries (a port, a duplicate-ACK number) is part of the key,
/// as in tshark, where it is part of the summary text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    AckNonzero,
    Syn(u16),
    SynAck(u16),
    Fin,
    FinActive,
    FinPassive,
    Rst,
    UrgentNonzero,
    MssAbsent,
    MssPresent,
    DSack,
    TfoSyn,
    OptLenInvalid(u8),
    /// An analysis flag (one of `flag::*`), or a duplicate ACK with its number.
    Analysis(u32),
    DupAck(u32),
}

impl Kind {
    pub fn severity(self) -> Severity {
        use Severity::*;
        match self {
            Kind::Syn(_) | Kind::SynAck(_) | Kind::Fin => Chat,
            Kind::Rst | Kind::MssPresent | Kind::DSack => Warn,
            Kind::Analysis(f) => match f {
                flag::WINDOW_UPDATE => Chat,
                flag::OUT_OF_ORDER
                | flag::LOST_SEGMENT
                | flag::ACK_LOST_SEGMENT
                | flag::ZERO_WINDOW
                | flag::WINDOW_FULL => Warn,
                _ => Note,
            },
            _ => Note,
        }
    }
    /// tshark's expert group.
    pub fn group(self) -> &'static str {
        match self {
            Kind::AckNonzero | Kind::UrgentNonzero | Kind::MssAbsent | Kind::MssPresent => {
                "Protocol"
            }
            _ => "Sequence",
        }
    }
    /// The summary, word for word as tshark prints it.
    pub fn summary(self) -> String {
        match self {
            Kind::Syn(p) => format!("Connection establish request (SYN): server port {p}"),
            Kind::SynAck(p) => {
                format!("Connection establish acknowledge (SYN+ACK): server port {p}")
            }
            Kind::DupAck(n) => format!("Duplicate ACK (#{n})"),
            Kind::AckNonzero => {
                "The acknowledgment number field is nonzero while the ACK flag is not set".into()
            }
            Kind::Fin => "Connection finish (FIN)".into(),
            Kind::FinActive => "This frame initiates the connection closing".into(),
            Kind::FinPassive => "This frame undergoes the connection closing".into(),
            Kind::Rst => "Connection reset (RST)".into(),
            Kind::UrgentNonzero => {
                "The urgent pointer field is nonzero while the URG flag is not set".into()
            }
            Kind::MssAbsent => "The SYN packet does not contain a MSS option".into(),
            Kind::MssPresent => "The non-SYN packet does contain a MSS option".into(),
            Kind::DSack => "D-SACK Sequence".into(),
            Kind::TfoSyn => "TCP SYN with TFO Cookie".into(),
            Kind::OptLenInvalid(n) => format!("option length should be {n}"),
            Kind::Analysis(f) => analysis_summary(f).into(),
        }
    }
    /// A display filter that selects exactly the packets of this item.
    pub fn filter(self) -> String {
        match self {
            Kind::Syn(p) => format!("tcp.connection.syn && tcp.dstport == {p}"),
            Kind::SynAck(p) => format!("tcp.connection.synack && tcp.srcport == {p}"),
            Kind::DupAck(n) => format!("tcp.analysis.duplicate_ack_num == {n}"),
            Kind::AckNonzero => "tcp.ack.nonzero".into(),
            Kind::Fin => "tcp.connection.fin".into(),
            Kind::FinActive => "tcp.connection.fin_active".into(),
            Kind::FinPassive => "tcp.connection.fin_passive".into(),
            Kind::Rst => "tcp.connection.rst".into(),
            Kind::UrgentNonzero => "tcp.urgent_pointer.non_zero".into(),
            Kind::MssAbsent => "tcp.options.mss.absent".into(),
            Kind::MssPresent => "tcp.options.mss.present".into(),
            Kind::DSack => "tcp.options.sack.dsack".into(),
            Kind::TfoSyn => "tcp.analysis.tfo_syn".into(),
            Kind::OptLenInvalid(_) => "tcp.option.len.invalid".into(),
            Kind::Analysis(f) => {
                let name = flag::ALL
                    .iter()
                    .find(|(b, ..)| *b == f)
                    .map_or("flags", |x| x.1);
                format!("tcp.analysis.{name}")
            }
        }
    }
}

fn analysis_summary(f: u32) -> &'static str {
    match f {
        flag::REUSED_PORTS => {
            "A new tcp session is started with the same ports as an earlier session in this trace"
        }
        flag::RETRANSMISSION => "This frame is a (suspected) retransmission",
        flag::FAST_RETRANSMISSION => "This frame is a (suspected) fast retransmission",
        flag::SPURIOUS_RETRANSMISSION => "This frame is a (suspected) spurious retransmission",
        flag::OUT_OF_ORDER => "This frame is a (suspected) out-of-order segment",
        flag::LOST_SEGMENT => "Previous segment(s) not captured (common at capture start)",
        flag::ACK_LOST_SEGMENT => "ACKed segment that wasn't captured (common at capture start)",
        flag::WINDOW_UPDATE => "TCP window update",
        flag::WINDOW_FULL => "TCP window specified by the receiver is now completely full",
        flag::KEEP_ALIVE => "TCP keep-alive segment",
        flag::KEEP_ALIVE_ACK => "ACK to a TCP keep-alive segment",
        flag::ZERO_WINDOW_PROBE => "TCP Zero Window Probe",
        flag::ZERO_WINDOW => "TCP Zero Window segment",
        flag::ZERO_WINDOW_PROBE_ACK => "ACK to a TCP Zero Window Probe",
        _ => "TCP analysis flag",
    }
}

/// Is this the sender's FIN that starts the close (Wireshark's
/// `closing_initiator`: no FIN came from the other side first)?
pub fn fin_active(p: &PacketView<'_>) -> Option<bool> {
    let (t, m, f) = (p.tcpf()?, p.meta?, p.flow?);
    (t.fin() && m.analyzed && f.closing != 0).then_some(f.closing == m.dir + 1)
}

/// A D-SACK (RFC 2883): the first block lies below the cumulative ACK, or
/// inside the second block.
pub fn dsack(p: &PacketView<'_>) -> bool {
    let Some(t) = p.tcpf() else { return false };
    let b = t.options.sack_blocks();
    let Some(&(le, re)) = b.first() else {
        return false;
    };
    let lt = |a: u32, b: u32| (a.wrapping_sub(b) as i32) < 0;
    (t.ack_flag() && !lt(t.ack, re)) || b.get(1).is_some_and(|&(l2, r2)| !lt(le, l2) && !lt(r2, re))
}

/// The TCP expert items of one packet, in the order the dissector adds them.
pub fn items(p: &PacketView<'_>) -> SmallVec<[Kind; 4]> {
    let mut out = SmallVec::new();
    let Some(t) = p.tcpf() else { return out };
    if t.bogus_hdr_len() {
        return out;
    }
    if !t.ack_flag() && t.ack != 0 {
        out.push(Kind::AckNonzero);
    }
    if t.syn() {
        out.push(if t.ack_flag() {
            Kind::SynAck(t.src_port)
        } else {
            Kind::Syn(t.dst_port)
        });
    }
    if t.fin() {
        out.push(Kind::Fin);
        match fin_active(p) {
            Some(false) => out.push(Kind::FinPassive),
            Some(true) => out.push(Kind::FinActive),
            None => {}
        }
    }
    if t.rst() {
        out.push(Kind::Rst);
    }
    if t.checksum.is_some() && !t.has(fl::URG) && t.urgent != 0 {
        out.push(Kind::UrgentNonzero);
    }
    if let Some(n) = t.options.len_invalid {
        out.push(Kind::OptLenInvalid(n));
    }
    if t.hdr_len > 20 && !t.options.truncated {
        match (t.syn(), t.options.mss.is_some()) {
            (true, false) => out.push(Kind::MssAbsent),
            (false, true) => out.push(Kind::MssPresent),
            _ => {}
        }
        if dsack(p) {
            out.push(Kind::DSack);
        }
        if t.syn() && !t.ack_flag() && t.options.tfo == Some(crate::decode::tcp::Tfo::Cookie) {
            out.push(Kind::TfoSyn);
        }
    }
    if let Some(m) = p.meta.filter(|m| m.analysis.flags != 0) {
        let f = m.analysis.flags;
        for &(bit, ..) in flag::ALL.iter() {
            if f & bit == 0 {
                continue;
            }
            match bit {
                flag::DUPLICATE_ACK => out.push(Kind::DupAck(m.analysis.dup_ack_num)),
                // A fast or spurious retransmission is also a retransmission.
                flag::FAST_RETRANSMISSION | flag::SPURIOUS_RETRANSMISSION => {
                    out.push(Kind::Analysis(bit));
                    if f & flag::RETRANSMISSION == 0 {
                        out.push(Kind::Analysis(flag::RETRANSMISSION));
                    }
                }
                _ => out.push(Kind::Analysis(bit)),
            }
        }
    }
    out
}

/// One line of the summary.
#[derive(Clone, Debug)]
pub struct Entry {
    pub kind: Kind,
    pub count: u64,
    /// The first packet that raised it.
    pub first_frame: u64,
}

/// The tally of every packet's items: what `-z expert` prints and the TUI's
/// expert overlay lists.
#[derive(Clone, Debug, Default)]
pub struct ExpertTally {
    /// Per severity, entries in the order of first appearance.
    lists: [Vec<Entry>; 5],
    index: HashMap<Kind, usize>,
}

impl ExpertTally {
    pub fn packet(&mut self, p: &PacketView<'_>) {
        for k in items(p) {
            let sev = k.severity() as usize;
            match self.index.get(&k) {
                Some(&i) => self.lists[sev][i].count += 1,
                None => {
                    self.index.insert(k, self.lists[sev].len());
                    self.lists[sev].push(Entry {
                        kind: k,
                        count: 1,
                        first_frame: p.frame.number,
                    });
                }
            }
        }
    }

    pub fn entries(&self, s: Severity) -> &[Entry] {
        &self.lists[s as usize]
    }

    pub fn total(&self, s: Severity) -> u64 {
        self.entries(s).iter().map(|e| e.count).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// tshark's `-z expert` layout, for the severities at or above `min`.
    pub fn write(&self, w: &mut dyn Write, min: Severity) -> io::Result<()> {
        for s in Severity::ALL.into_iter().filter(|&s| s <= min) {
            let list = self.entries(s);
            if list.is_empty() {
                continue;
            }
            write!(w, "\n{} ({})\n=============\n", s.title(), self.total(s))?;
            writeln!(w, "   Frequency      Group           Protocol  Summary")?;
            for e in list {
                writeln!(
                    w,
                    "{:>12} {:>10} {:>18}  {}",
                    e.count,
                    e.kind.group(),
                    "TCP",
                    e.kind.summary()
                )?;
            }
        }
        Ok(())
    }
}

/// `-z expert[,error|warn|note|chat|comment][,FILTER]`.
#[derive(Clone, Debug)]
pub struct ExpertOptions {
    pub min: Severity,
    pub filter: Option<String>,
}

impl ExpertOptions {
    pub fn parse(z: &str) -> Option<Result<ExpertOptions, String>> {
        let rest = z.strip_prefix("expert")?;
        if !(rest.is_empty() || rest.starts_with(',')) {
            return None;
        }
        let mut rest = rest.strip_prefix(',').unwrap_or(rest);
        let mut min = Severity::Comment;
        for s in Severity::ALL {
            let w = s.word();
            if rest.len() >= w.len()
                && rest[..w.len()].eq_ignore_ascii_case(w)
                && matches!(rest.as_bytes().get(w.len()), None | Some(b','))
            {
                min = s;
                rest = rest[w.len()..].strip_prefix(',').unwrap_or("");
                break;
            }
        }
        let filter = (!rest.is_empty()).then(|| rest.to_string());
        if let Some(f) = &filter {
            if let Err(e) = crate::filter::Filter::compile(f) {
                return Some(Err(format!(
                    "Expert tap error (Filter \"{f}\" is invalid - {e})"
                )));
            }
        }
        Some(Ok(ExpertOptions { min, filter }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_parse_level_and_filter() {
        let o = ExpertOptions::parse("expert").unwrap().unwrap();
        assert_eq!(o.min, Severity::Comment);
        assert!(o.filter.is_none());
        let o = ExpertOptions::parse("expert,warn").unwrap().unwrap();
        assert_eq!(o.min, Severity::Warn);
        let o = ExpertOptions::parse("expert,Note,tcp.port == 80")
            .unwrap()
            .unwrap();
        assert_eq!(
            (o.min, o.filter.as_deref()),
            (Severity::Note, Some("tcp.port == 80"))
        );
        let o = ExpertOptions::parse("expert,tcp").unwrap().unwrap();
        assert_eq!(
            (o.min, o.filter.as_deref()),
            (Severity::Comment, Some("tcp"))
        );
        assert!(ExpertOptions::parse("expert,tcp.port ==").unwrap().is_err());
        assert!(ExpertOptions::parse("experts").is_none());
        assert!(ExpertOptions::parse("conv,tcp").is_none());
    }

    #[test]
    fn severities_and_summaries_follow_tshark() {
        assert_eq!(Kind::Rst.severity(), Severity::Warn);
        assert_eq!(Kind::Syn(80).severity(), Severity::Chat);
        assert_eq!(
            Kind::Analysis(flag::WINDOW_UPDATE).severity(),
            Severity::Chat
        );
        assert_eq!(
            Kind::Analysis(flag::RETRANSMISSION).severity(),
            Severity::Note
        );
        assert_eq!(
            Kind::Analysis(flag::LOST_SEGMENT).severity(),
            Severity::Warn
        );
        assert_eq!(Kind::DupAck(3).summary(), "Duplicate ACK (#3)");
        assert_eq!(Kind::AckNonzero.group(), "Protocol");
        assert_eq!(
            Kind::Analysis(flag::OUT_OF_ORDER).filter(),
            "tcp.analysis.out_of_order"
        );
    }
}
