//! The TCP header and its options, read from whatever bytes were captured.
//!
//! We read the fixed header ourselves rather than through etherparse's
//! `TcpHeaderSlice` because an observer must keep going where a stack would
//! reject: Wireshark still shows ports, seq and flags when the snaplen cut the
//! options (zeek-tcp-truncated-header) or the data offset is bogus, and
//! etherparse's option iterator stops at the first kind it does not know
//! (TFO = 34, MPTCP = 30), losing every option after it.

/// TCP flag bits as they sit in the 12 bits after the data offset.
pub mod flags {
    pub const FIN: u16 = 0x001;
    pub const SYN: u16 = 0x002;
    pub const RST: u16 = 0x004;
    pub const PSH: u16 = 0x008;
    pub const ACK: u16 = 0x010;
    pub const URG: u16 = 0x020;
    pub const ECE: u16 = 0x040;
    pub const CWR: u16 = 0x080;
    pub const AE: u16 = 0x100;
    pub const RES: u16 = 0xE00;
}

/// TCP Fast Open option as Wireshark classifies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tfo {
    /// Option length 2: a cookie request.
    Request,
    /// Option length > 2: a cookie.
    Cookie,
}

/// Options we interpret; the raw option bytes stay in the frame for the detail view.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpOptions {
    pub mss: Option<u16>,
    /// Shift as sent (not clamped; Wireshark clamps at 14 when applying it).
    pub wscale: Option<u8>,
    pub sack_perm: bool,
    /// SACK blocks (left, right), raw sequence numbers. At most 4 fit in 40 bytes.
    pub sack: [(u32, u32); 4],
    pub sack_count: u8,
    pub timestamp: Option<(u32, u32)>,
    pub tfo: Option<Tfo>,
    /// An option length < 2 or one running past the header: parsing stopped there.
    pub bad_len: bool,
    /// The options were cut by the snaplen.
    pub truncated: bool,
    /// A fixed-size option had another length: the length it should have had.
    pub len_invalid: Option<u8>,
    /// Number of options parsed (including NOP/EOL), for the detail view.
    pub count: u8,
}

impl TcpOptions {
    pub fn sack_blocks(&self) -> &[(u32, u32)] {
        &self.sack[..self.sack_count as usize]
    }
}

/// A parsed TCP header. `seg_len` is the payload length as the IP header
/// declares it (never from captured bytes); `None` when it cannot be known
/// (ICMP-quoted header, or a header longer than the IP payload).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpHeader {
    pub src_port: u16,
    pub dst_port: u16,
    /// False when fewer than 16 header bytes were captured: only the ports are known.
    pub has_fixed: bool,
    pub seq: u32,
    pub ack: u32,
    /// Header length in bytes, from the data offset (may be bogus, < 20).
    pub hdr_len: u8,
    pub flags: u16,
    pub window: u16,
    /// Present when 20 header bytes were captured.
    pub checksum: Option<u16>,
    pub urgent: u16,
    pub options: TcpOptions,
    pub seg_len: Option<u32>,
    /// The header was quoted inside an ICMP error.
    pub quoted: bool,
}

impl TcpHeader {
    #[inline]
    pub fn has(&self, f: u16) -> bool {
        self.flags & f != 0
    }
    #[inline]
    pub fn syn(&self) -> bool {
        self.has(flags::SYN)
    }
    #[inline]
    pub fn ack_flag(&self) -> bool {
        self.has(flags::ACK)
    }
    #[inline]
    pub fn fin(&self) -> bool {
        self.has(flags::FIN)
    }
    #[inline]
    pub fn rst(&self) -> bool {
        self.has(flags::RST)
    }
    /// Wireshark's data offset < 5 case: "bogus TCP header length".
    pub fn bogus_hdr_len(&self) -> bool {
        self.has_fixed && self.hdr_len < 20
    }
}

/// Why a TCP header could not be fully read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpProblem {
    /// Fewer than 4 bytes: not even the ports.
    NoPorts,
    /// Fewer than 16 bytes: ports only; Wireshark gives such a frame no stream.
    Short,
    /// Data offset below 5.
    BogusHeaderLen,
    /// Header longer than the IP payload.
    HeaderPastPayload,
    /// Header or options cut by the snaplen.
    Truncated,
}

impl TcpProblem {
    pub fn reason(self) -> &'static str {
        match self {
            TcpProblem::NoPorts => "TCP header truncated before the ports",
            TcpProblem::Short => "TCP header truncated (fewer than 16 bytes)",
            TcpProblem::BogusHeaderLen => "bogus TCP header length (must be at least 20)",
            TcpProblem::HeaderPastPayload => "TCP header longer than the IP payload",
            TcpProblem::Truncated => "TCP header cut by the snaplen",
        }
    }
}

#[inline]
fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}
#[inline]
fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Parse a TCP header from captured bytes `b`. `ip_payload_len` is the IP
/// payload length the IP header declares (`None` if unknown).
/// Returns `None` when fewer than 4 bytes were captured.
pub fn parse(
    b: &[u8],
    ip_payload_len: Option<u32>,
    quoted: bool,
) -> Option<(TcpHeader, Option<TcpProblem>)> {
    let mut h = TcpHeader::default();
    let problem = parse_into(&mut h, b, ip_payload_len, quoted)?;
    Some((h, problem))
}

/// `parse`, writing into `h` (which must be `TcpHeader::default()`).
/// Decoding fills the frame in place: building a 100-byte header on the
/// stack and moving it stalls on store forwarding at every copy.
#[inline]
pub fn parse_into(
    h: &mut TcpHeader,
    b: &[u8],
    ip_payload_len: Option<u32>,
    quoted: bool,
) -> Option<Option<TcpProblem>> {
    if b.len() < 4 {
        return None;
    }
    h.src_port = be16(b, 0);
    h.dst_port = be16(b, 2);
    h.quoted = quoted;
    if b.len() < 16 {
        return Some(Some(TcpProblem::Short));
    }
    h.has_fixed = true;
    h.seq = be32(b, 4);
    h.ack = be32(b, 8);
    let off_flags = be16(b, 12);
    h.hdr_len = ((off_flags >> 12) * 4) as u8;
    h.flags = off_flags & 0x0FFF;
    h.window = be16(b, 14);
    if b.len() >= 20 {
        h.checksum = Some(be16(b, 16));
        h.urgent = be16(b, 18);
    }
    let mut problem = None;
    if !quoted {
        // Wireshark computes the length even for a bogus (< 20) header length, counting header bytes as payload.
        match ip_payload_len {
            Some(l) if l >= h.hdr_len as u32 => h.seg_len = Some(l - h.hdr_len as u32),
            _ => problem = Some(TcpProblem::HeaderPastPayload),
        }
    }
    if h.hdr_len < 20 {
        return Some(Some(TcpProblem::BogusHeaderLen));
    }
    let hdr_end = h.hdr_len as usize;
    if b.len() < hdr_end {
        h.options.truncated = true;
        problem = problem.or(Some(TcpProblem::Truncated));
    }
    if b.len() > 20 {
        parse_options_into(&mut h.options, &b[20..hdr_end.min(b.len())], hdr_end - 20);
    }
    Some(problem)
}

/// Parse options. `full_len` is the option space the header declares; `o`
/// may be shorter when the snaplen cut it.
pub fn parse_options(o: &[u8], full_len: usize) -> TcpOptions {
    let mut opts = TcpOptions::default();
    parse_options_into(&mut opts, o, full_len);
    opts
}

/// `parse_options` into `opts` (which must be `TcpOptions::default()`).
#[inline]
fn parse_options_into(opts: &mut TcpOptions, o: &[u8], full_len: usize) {
    opts.truncated = o.len() < full_len;
    let mut i = 0;
    while i < o.len() {
        let kind = o[i];
        opts.count = opts.count.saturating_add(1);
        match kind {
            0 => break, // EOL: the rest is padding
            1 => {
                i += 1;
                continue;
            }
            _ => {}
        }
        let Some(&len) = o.get(i + 1) else {
            // Cut after the kind byte.
            if o.len() >= full_len {
                opts.bad_len = true;
            }
            break;
        };
        let len = len as usize;
        if len < 2 {
            opts.bad_len = true;
            break;
        }
        if i + len > o.len() {
            // Either the snaplen cut it (the header declares more), or it really runs past the header.
            if i + len > full_len {
                opts.bad_len = true;
            }
            break;
        }
        let body = &o[i + 2..i + len];
        let want = fixed_option_len(kind);
        if want.is_some_and(|w| w as usize != len) && opts.len_invalid.is_none() {
            opts.len_invalid = want;
        }
        match (kind, len) {
            (2, 4) => opts.mss = Some(be16(body, 0)),
            (3, 3) => opts.wscale = Some(body[0]),
            (4, 2) => opts.sack_perm = true,
            (5, _) if len >= 10 && (len - 2) % 8 == 0 => {
                for blk in body.chunks_exact(8) {
                    if (opts.sack_count as usize) < opts.sack.len() {
                        opts.sack[opts.sack_count as usize] = (be32(blk, 0), be32(blk, 4));
                        opts.sack_count += 1;
                    }
                }
            }
            (8, 10) => opts.timestamp = Some((be32(body, 0), be32(body, 4))),
            (34, 2) => opts.tfo = Some(Tfo::Request),
            (34, _) => opts.tfo = Some(Tfo::Cookie),
            // Experimental TFO: kind 254 with magic 0xF989.
            (254, _) if len >= 4 && be16(body, 0) == 0xF989 => {
                opts.tfo = Some(if len == 4 { Tfo::Request } else { Tfo::Cookie })
            }
            _ => {}
        }
        i += len;
    }
}

/// The length Wireshark requires of a fixed-size option (else "option length
/// should be N"): MSS, window scale, SACK permitted, echo, echo reply,
/// timestamps, CC, CC.NEW, CC.ECHO, MD5, quick-start, user timeout.
fn fixed_option_len(kind: u8) -> Option<u8> {
    Some(match kind {
        2 => 4,
        3 => 3,
        4 => 2,
        6 | 7 | 11 | 12 | 13 => 6,
        8 => 10,
        19 => 18,
        27 => 8,
        28 => 4,
        _ => return None,
    })
}

/// Iterate the options for display: (kind, offset within the options, length).
pub fn option_spans(o: &[u8]) -> Vec<(u8, usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < o.len() {
        let kind = o[i];
        if kind == 0 || kind == 1 {
            out.push((kind, i, 1));
            if kind == 0 {
                break;
            }
            i += 1;
            continue;
        }
        let len = o.get(i + 1).copied().unwrap_or(0) as usize;
        if len < 2 || i + len > o.len() {
            out.push((kind, i, o.len() - i));
            break;
        }
        out.push((kind, i, len));
        i += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // A Linux SYN: MSS 65495, SACK_PERM, TS, NOP, WS 7.
    const SYN: [u8; 40] = [
        0xb2, 0x64, 0x46, 0xa0, 0xf6, 0x2d, 0x8f, 0x21, 0, 0, 0, 0, 0xa0, 0x02, 0xff, 0xd7, 0xfe,
        0x30, 0, 0, 2, 4, 0xff, 0xd7, 4, 2, 8, 10, 0x77, 0x78, 0x9a, 0x44, 0, 0, 0, 0, 1, 3, 3, 7,
    ];

    #[test]
    fn full_syn() {
        let (h, p) = parse(&SYN, Some(40), false).unwrap();
        assert_eq!(p, None);
        assert_eq!((h.src_port, h.dst_port), (45668, 18080));
        assert_eq!(h.seq, 0xf62d8f21);
        assert_eq!(h.hdr_len, 40);
        assert_eq!(h.flags, flags::SYN);
        assert_eq!(h.window, 65495);
        assert_eq!(h.seg_len, Some(0));
        assert_eq!(h.options.mss, Some(65495));
        assert!(h.options.sack_perm);
        assert_eq!(h.options.timestamp, Some((0x77789a44, 0)));
        assert_eq!(h.options.wscale, Some(7));
        assert!(!h.options.truncated && !h.options.bad_len);
    }

    #[test]
    fn cut_by_snaplen_keeps_leading_options() {
        let (h, p) = parse(&SYN[..34], Some(40), false).unwrap();
        assert_eq!(p, Some(TcpProblem::Truncated));
        assert_eq!(h.options.mss, Some(65495));
        assert!(h.options.sack_perm);
        assert_eq!(h.options.timestamp, None);
        assert!(h.options.truncated && !h.options.bad_len);
        assert_eq!(h.seg_len, Some(0));
    }

    #[test]
    fn fewer_than_16_bytes_gives_ports_only() {
        let (h, p) = parse(&SYN[..12], Some(40), false).unwrap();
        assert_eq!(p, Some(TcpProblem::Short));
        assert!(!h.has_fixed);
        assert_eq!(h.dst_port, 18080);
        assert!(parse(&SYN[..3], Some(40), false).is_none());
    }

    #[test]
    fn bogus_data_offset() {
        let mut b = SYN;
        b[12] = 0x40;
        let (h, p) = parse(&b, Some(40), false).unwrap();
        assert_eq!(p, Some(TcpProblem::BogusHeaderLen));
        assert!(h.bogus_hdr_len());
        assert_eq!(h.seg_len, Some(24));
    }

    #[test]
    fn header_longer_than_ip_payload() {
        let (h, p) = parse(&SYN, Some(30), false).unwrap();
        assert_eq!(p, Some(TcpProblem::HeaderPastPayload));
        assert_eq!(h.seg_len, None);
    }

    #[test]
    fn unknown_option_does_not_stop_parsing() {
        // MPTCP (30) len 4, then TFO cookie (34) len 10, then MSS.
        let o = [30, 4, 0, 0, 34, 10, 1, 2, 3, 4, 5, 6, 7, 8, 2, 4, 5, 0xb4];
        let opts = parse_options(&o, o.len());
        assert_eq!(opts.tfo, Some(Tfo::Cookie));
        assert_eq!(opts.mss, Some(1460));
    }

    #[test]
    fn bad_option_length_stops() {
        let o = [2, 1, 5, 0xb4];
        let opts = parse_options(&o, o.len());
        assert!(opts.bad_len);
        assert_eq!(opts.mss, None);
        let o = [2, 8, 5, 0xb4];
        assert!(parse_options(&o, o.len()).bad_len);
    }

    #[test]
    fn sack_blocks() {
        let o = [1, 1, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4];
        let opts = parse_options(&o, o.len());
        assert_eq!(opts.sack_blocks(), &[(1, 2), (3, 4)]);
    }
}
