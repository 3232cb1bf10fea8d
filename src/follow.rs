//! Follow TCP Stream: the payload of one TCP conversation, each direction put
//! back in sequence order, as tshark 4.0.17 prints it with
//! `-q -z follow,tcp,ascii|hex|raw|ebcdic|yaml,N` (and `follow,tls`, which
//! prints no payload without decryption keys).
//!
//! [`Follower`] is Wireshark's TCP follow tap (`packet-tcp.c`,
//! `follow_tcp_tap_listener` and `check_follow_fragments`), fed one segment
//! at a time in capture order with the numbers the tracker shows
//! (`tcp.seq`/`tcp.ack`, relative when analysed):
//! - the first segment seen sets the client (node 0) and, per direction, the
//!   next expected sequence number (a SYN's data starts at seq + 1);
//! - a segment that starts before it and ends after it contributes only its
//!   new tail; one that adds nothing (a plain retransmission, a pure ACK) is
//!   dropped;
//! - a segment beyond it is held as a fragment until the gap fills, or until
//!   the other side acknowledges past it: then a chunk
//!   `[N bytes missing in capture file]` (with its terminating NUL, as
//!   Wireshark writes it) stands for the gap.
//!
//! Data after a FIN and on a SYN is payload like any other. Only captured
//! bytes are kept (a snaplen-cut segment still advances the sequence by its
//! full length). The rendering ([`render`]) is tshark's `tap-follow.c`.

use crate::fields::PacketView;
use crate::track::Endpoint;
use std::io::{self, Write};
use std::net::IpAddr;

/// The protocol whose payload is followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    Tcp,
    /// TLS application data: tshark shows decrypted data only, and hs-tui has
    /// no keys, so the payload is always empty (as tshark's without keys).
    Tls,
}

/// How the payload is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Ascii,
    /// ASCII, then read as EBCDIC (tshark's order: '.' for non-printables first).
    Ebcdic,
    Hex,
    Raw,
    /// Peers, then per chunk its frame, side, time and base64 data.
    Yaml,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Ascii => "ascii",
            Mode::Ebcdic => "ebcdic",
            Mode::Hex => "hex",
            Mode::Raw => "raw",
            Mode::Yaml => "yaml",
        }
    }
}

/// Which conversation: a stream index, or the packets between two endpoints
/// (whatever their stream: a reused port pair merges, as in tshark).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Stream(u32),
    Addr(Endpoint, Endpoint),
}

/// One `-z follow,...` argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FollowSpec {
    pub proto: Proto,
    pub mode: Mode,
    pub target: Target,
    /// The chunks printed, 1-based and inclusive (tshark's optional range).
    pub chunk_min: u32,
    pub chunk_max: u32,
}

fn err(what: &str) -> String {
    format!("follow - {what} (expected follow,tcp|tls,ascii|hex|raw|ebcdic|yaml,STREAM or ADDR:PORT,ADDR:PORT, optionally followed by ,FIRST[-LAST] chunks)")
}

impl FollowSpec {
    /// `None` when `z` is not a follow argument at all.
    pub fn parse(z: &str) -> Option<Result<FollowSpec, String>> {
        let rest = z.strip_prefix("follow,")?;
        Some(Self::parse_rest(rest))
    }

    fn parse_rest(rest: &str) -> Result<FollowSpec, String> {
        let (proto, rest) = if let Some(r) = rest.strip_prefix("tcp") {
            (Proto::Tcp, r)
        } else if let Some(r) = rest.strip_prefix("tls") {
            (Proto::Tls, r)
        } else {
            return Err(err("supported protocols are tcp and tls"));
        };
        let (mode, rest) = if let Some(r) = rest.strip_prefix(",hex") {
            (Mode::Hex, r)
        } else if let Some(r) = rest.strip_prefix(",ascii") {
            (Mode::Ascii, r)
        } else if let Some(r) = rest.strip_prefix(",ebcdic") {
            (Mode::Ebcdic, r)
        } else if let Some(r) = rest.strip_prefix(",raw") {
            (Mode::Raw, r)
        } else if let Some(r) = rest.strip_prefix(",yaml") {
            (Mode::Yaml, r)
        } else {
            return Err(err("Invalid display mode."));
        };
        let rest = rest
            .strip_prefix(',')
            .ok_or_else(|| err("Invalid address."))?;
        let mut parts = rest.split(',');
        let first = parts.next().unwrap_or("");
        let target = if !first.is_empty() && first.bytes().all(|b| b.is_ascii_digit()) {
            Target::Stream(first.parse().map_err(|_| err("Invalid stream index."))?)
        } else {
            let a = parse_endpoint(first)?;
            let b = parse_endpoint(parts.next().unwrap_or(""))?;
            if a.0.is_ipv4() != b.0.is_ipv4() {
                return Err(err("Mismatched IP address types."));
            }
            Target::Addr(a, b)
        };
        let (chunk_min, chunk_max) = match parts.next() {
            None => (1, u32::MAX),
            Some(r) => {
                let num = |s: &str| {
                    s.parse::<u32>()
                        .ok()
                        .filter(|_| s.bytes().all(|b| b.is_ascii_digit()))
                };
                let (lo, hi) = match r.split_once('-') {
                    Some((lo, hi)) => (num(lo), num(hi)),
                    None => (num(r), num(r)),
                };
                match (lo, hi) {
                    (Some(lo), Some(hi)) if lo >= 1 && lo <= hi => (lo, hi),
                    (Some(_), Some(_)) => return Err(err("Invalid range value.")),
                    _ => return Err(err("Invalid range.")),
                }
            }
        };
        if parts.next().is_some() {
            return Err(err("Invalid parameter."));
        }
        Ok(FollowSpec {
            proto,
            mode,
            target,
            chunk_min,
            chunk_max,
        })
    }

    /// The `Filter:` line: the display filter tshark's follow tap uses.
    pub fn filter_text(&self) -> String {
        match self.target {
            Target::Stream(n) => format!("tcp.stream eq {n}"),
            Target::Addr(a, b) => {
                let v = if a.0.is_ipv6() { "v6" } else { "" };
                let (a0, a1, b0, b1) = (a.0, a.1, b.0, b.1);
                format!(
                    "((ip{v}.src eq {a0} and tcp.srcport eq {a1}) and (ip{v}.dst eq {b0} and tcp.dstport eq {b1})) or \
((ip{v}.src eq {b0} and tcp.srcport eq {b1}) and (ip{v}.dst eq {a0} and tcp.dstport eq {a1}))"
                )
            }
        }
    }

    /// Does the follow tap see this packet? (Its filter matches, and the TCP
    /// segment length is known: not an ICMP-quoted header.)
    pub fn matches(&self, v: &PacketView<'_>) -> bool {
        let Some(seg) = segment_of(v) else {
            return false;
        };
        match self.target {
            Target::Stream(n) => seg.stream == n,
            Target::Addr(a, b) => (seg.src == a && seg.dst == b) || (seg.src == b && seg.dst == a),
        }
    }
}

/// `ADDR:PORT` or `[V6ADDR]:PORT`.
fn parse_endpoint(s: &str) -> Result<Endpoint, String> {
    let (addr, port) = if let Some(r) = s.strip_prefix('[') {
        let (a, p) = r.split_once("]:").ok_or_else(|| err("Invalid address."))?;
        (a, p)
    } else {
        s.rsplit_once(':').ok_or_else(|| err("Invalid address."))?
    };
    let ip: IpAddr = addr.parse().map_err(|_| err("Invalid address."))?;
    if s.starts_with('[') != ip.is_ipv6() {
        return Err(err("Invalid address."));
    }
    let port = port
        .parse::<u16>()
        .ok()
        .filter(|&p| p > 0)
        .ok_or_else(|| err("Invalid port."))?;
    Ok(Endpoint(ip, port))
}

/// What the follow tap reads from one packet.
#[derive(Clone, Copy, Debug)]
pub struct Segment<'a> {
    pub stream: u32,
    pub src: Endpoint,
    pub dst: Endpoint,
    /// `tcp.seq` / `tcp.ack` as shown (relative when analysed).
    pub seq: u32,
    pub ack: u32,
    pub syn: bool,
    /// `tcp.len`.
    pub seg_len: u32,
    /// The captured payload (at most `seg_len` bytes).
    pub data: &'a [u8],
    pub frame: u64,
    pub ts_ns: i64,
}

/// The segment a packet gives the follow tap, if any.
pub fn segment_of<'a>(v: &PacketView<'a>) -> Option<Segment<'a>> {
    let meta = v.meta?;
    // As `-z conv,tcp`: options the dissector stopped in (cut, or a bad length) end the
    // dissection before the TCP taps.
    let tcp = v
        .frame
        .tcp
        .as_ref()
        .filter(|t| t.has_fixed && t.hdr_len >= 20 && !t.quoted && !t.options.truncated)?;
    let seg_len = tcp.seg_len?;
    let ip = v.frame.tcp_ip()?;
    let data = v.frame.payload(v.bytes);
    let data = &data[..data.len().min(seg_len as usize)];
    Some(Segment {
        stream: meta.stream,
        src: Endpoint(ip.src, tcp.src_port),
        dst: Endpoint(ip.dst, tcp.dst_port),
        seq: meta.seq,
        ack: meta.ack,
        syn: tcp.syn(),
        seg_len,
        data,
        frame: v.frame.number,
        ts_ns: v.frame.ts_ns,
    })
}

/// One piece of payload in stream order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    /// Sent by node 1 (the side that did not send the first segment).
    pub from_server: bool,
    pub frame: u64,
    /// The frame's time (0 for a gap marker, as Wireshark leaves it).
    pub ts_ns: i64,
    pub data: Vec<u8>,
}

struct Fragment {
    seq: u32,
    chunk: Chunk,
}

fn lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}
fn gt(a: u32, b: u32) -> bool {
    (b.wrapping_sub(a) as i32) < 0
}

/// Wireshark's TCP follow state for one conversation.
pub struct Follower {
    /// Node 0 (the first segment's source) and node 1.
    pub client: Option<(Endpoint, Endpoint)>,
    seq: [u32; 2],
    bytes_written: [u64; 2],
    fragments: [Vec<Fragment>; 2],
    /// The payload in the order tshark prints it.
    pub chunks: Vec<Chunk>,
    /// Bytes held in `chunks` and fragments.
    held: usize,
    /// Keep at most this many bytes; later data is counted, not kept.
    cap: usize,
    /// Bytes that were not kept because of the cap.
    pub dropped: u64,
}

impl Default for Follower {
    fn default() -> Self {
        Follower::new(usize::MAX)
    }
}

impl Follower {
    /// A follower that keeps at most `cap` payload bytes.
    pub fn new(cap: usize) -> Follower {
        Follower {
            client: None,
            seq: [0; 2],
            bytes_written: [0; 2],
            fragments: [Vec::new(), Vec::new()],
            chunks: Vec::new(),
            held: 0,
            cap,
            dropped: 0,
        }
    }

    /// The payload was cut at the cap.
    pub fn truncated(&self) -> bool {
        self.dropped > 0
    }

    fn push(&mut self, c: Chunk) {
        if self.held.saturating_add(c.data.len()) > self.cap {
            self.dropped += c.data.len() as u64;
            return;
        }
        self.held += c.data.len();
        self.chunks.push(c);
    }

    /// One segment of the followed conversation, in capture order.
    pub fn segment(&mut self, s: &Segment<'_>) {
        let mut sequence = s.seq;
        if s.syn {
            sequence = sequence.wrapping_add(1);
        }
        let mut length = s.seg_len;
        let (client, _) = *self.client.get_or_insert((s.src, s.dst));
        let srv = usize::from(client != s.src);
        let other = 1 - srv;
        // Does this frame acknowledge held fragments of the other side?
        while !self.fragments[other].is_empty() && self.check_fragments(other, s.ack, s.frame, true)
        {
        }
        if self.bytes_written[srv] == 0 && self.seq[srv] == 0 {
            self.seq[srv] = sequence;
        }
        let mut data = s.data;
        if lt(sequence, self.seq[srv]) {
            // Dated, but it may carry more than what was seen.
            let nextseq = sequence.wrapping_add(length);
            if gt(nextseq, self.seq[srv]) {
                let skip = self.seq[srv].wrapping_sub(sequence) as usize;
                data = data.get(skip..).unwrap_or(&[]);
                sequence = self.seq[srv];
                length = nextseq.wrapping_sub(self.seq[srv]);
            }
        }
        if data.is_empty() || lt(sequence, self.seq[srv]) {
            return;
        }
        let chunk = Chunk {
            from_server: srv == 1,
            frame: s.frame,
            ts_ns: s.ts_ns,
            data: data.to_vec(),
        };
        if sequence == self.seq[srv] {
            self.seq[srv] = self.seq[srv].wrapping_add(length);
            self.bytes_written[srv] += chunk.data.len() as u64;
            self.push(chunk);
            while self.check_fragments(srv, 0, s.frame, false) {}
        } else if self.held.saturating_add(chunk.data.len()) > self.cap {
            self.dropped += chunk.data.len() as u64;
        } else {
            self.held += chunk.data.len();
            self.fragments[srv].push(Fragment {
                seq: sequence,
                chunk,
            });
        }
    }

    /// `check_follow_fragments`: apply one held fragment if it fits (or is
    /// acknowledged, with a placeholder for the gap). True if one was applied.
    fn check_fragments(&mut self, dir: usize, acked: u32, frame: u64, use_ack: bool) -> bool {
        let Some(first) = self.fragments[dir].first() else {
            return false;
        };
        let mut lowest = first.seq;
        let next = self.seq[dir];
        for i in 0..self.fragments[dir].len() {
            let f = &self.fragments[dir][i];
            if gt(lowest, f.seq) {
                lowest = f.seq;
            }
            let len = f.chunk.data.len() as u32;
            if lt(f.seq, next) {
                let newseq = f.seq.wrapping_add(len);
                let f = self.fragments[dir].remove(i);
                self.held -= f.chunk.data.len();
                if gt(newseq, next) {
                    let new_pos = next.wrapping_sub(f.seq) as usize;
                    if let Some(tail) = f.chunk.data.get(new_pos..).filter(|t| !t.is_empty()) {
                        let c = Chunk {
                            from_server: f.chunk.from_server,
                            frame: f.chunk.frame,
                            ts_ns: f.chunk.ts_ns,
                            data: tail.to_vec(),
                        };
                        self.push(c);
                    }
                    self.seq[dir] = next.wrapping_add(len.wrapping_sub(new_pos as u32));
                }
                return true;
            }
            if f.seq == next {
                let f = self.fragments[dir].remove(i);
                self.held -= f.chunk.data.len();
                self.seq[dir] = next.wrapping_add(len);
                if !f.chunk.data.is_empty() {
                    self.push(f.chunk);
                }
                return true;
            }
        }
        if use_ack && gt(acked, lowest) {
            let missing = lowest.wrapping_sub(next) as i32;
            let mut data = format!("[{missing} bytes missing in capture file]").into_bytes();
            data.push(0);
            self.push(Chunk {
                from_server: dir == 1,
                frame,
                ts_ns: 0,
                data,
            });
            self.seq[dir] = lowest;
            return true;
        }
        false
    }
}

const SEPARATOR: &str = "===================================================================\n";

/// tshark's `follow_draw` for one follow: the banner, the chunks in the mode
/// asked for, the trailer.
pub fn render(spec: &FollowSpec, f: &Follower, w: &mut dyn Write) -> io::Result<()> {
    let proto = match spec.proto {
        Proto::Tcp => "tcp",
        Proto::Tls => "tls",
    };
    let mut out = Vec::with_capacity(256);
    if spec.mode == Mode::Yaml {
        return render_yaml(spec, f, w);
    }
    out.extend_from_slice(b"\n");
    out.extend_from_slice(SEPARATOR.as_bytes());
    let _ = writeln!(out, "Follow: {proto},{}", spec.mode.name());
    let _ = writeln!(out, "Filter: {}", spec.filter_text());
    match f.client {
        Some((a, b)) => {
            let _ = writeln!(out, "Node 0: {a}\nNode 1: {b}");
        }
        None => out.extend_from_slice(b"Node 0: :0\nNode 1: :0\n"),
    }
    w.write_all(&out)?;
    let mut pos = [0u32; 2];
    for (i, c) in f.chunks.iter().enumerate() {
        let chunk = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let d = usize::from(c.from_server);
        if chunk < spec.chunk_min || chunk > spec.chunk_max {
            pos[d] = pos[d].wrapping_add(c.data.len() as u32);
            continue;
        }
        out.clear();
        write_chunk(spec.mode, c, pos[d], &mut out);
        pos[d] = pos[d].wrapping_add(c.data.len() as u32);
        w.write_all(&out)?;
    }
    w.write_all(SEPARATOR.as_bytes())
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// What Wireshark's `EBCDIC_to_ASCII` makes of bytes 0x20..=0x7e (the only ones
/// left after the ASCII clean-up, with '\r' and '\n', which it keeps). Read
/// off tshark 4.0.17's `follow,tcp,ebcdic` output for every byte value.
const EBCDIC_PRINTABLE: &[u8; 95] = b" !\"#$%&'()*+,-./..23456789:;<=.? ...........<(+|&.........!$*);^-/........|,%_>?..........:#@'=";

/// One chunk as tshark prints it.
pub fn write_chunk(mode: Mode, c: &Chunk, offset: u32, out: &mut Vec<u8>) {
    let tab: &[u8] = if c.from_server { b"\t" } else { b"" };
    match mode {
        Mode::Ascii => {
            out.extend_from_slice(tab);
            let _ = writeln!(out, "{}", c.data.len());
            out.extend(c.data.iter().map(|&b| match b {
                b'\r' | b'\n' | 0x20..=0x7e => b,
                _ => b'.',
            }));
            out.push(b'\n');
        }
        Mode::Ebcdic => {
            out.extend_from_slice(tab);
            let _ = writeln!(out, "{}", c.data.len());
            out.extend(c.data.iter().map(|&b| match b {
                b'\r' | b'\n' => b,
                0x20..=0x7e => EBCDIC_PRINTABLE[usize::from(b - 0x20)],
                _ => EBCDIC_PRINTABLE[usize::from(b'.' - 0x20)],
            }));
            out.push(b'\n');
        }
        Mode::Raw => {
            out.extend_from_slice(tab);
            for &b in &c.data {
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 15)]);
            }
            out.push(b'\n');
        }
        Mode::Hex => hex_lines(tab, offset, &c.data, out),
        Mode::Yaml => yaml_chunk(c, out),
    }
}

/// tshark's YAML: the peers (a host without brackets), then the chunks; no banner.
fn render_yaml(spec: &FollowSpec, f: &Follower, w: &mut dyn Write) -> io::Result<()> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"peers:\n");
    for (i, e) in [f.client.map(|c| c.0), f.client.map(|c| c.1)]
        .into_iter()
        .enumerate()
    {
        let (host, port) = e.map_or((String::new(), 0), |e| (e.0.to_string(), e.1));
        let _ = writeln!(out, "  - peer: {i}\n    host: {host}\n    port: {port}");
    }
    out.extend_from_slice(b"packets:\n");
    w.write_all(&out)?;
    for (i, c) in f.chunks.iter().enumerate() {
        let chunk = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if chunk < spec.chunk_min || chunk > spec.chunk_max {
            continue;
        }
        out.clear();
        yaml_chunk(c, &mut out);
        w.write_all(&out)?;
    }
    Ok(())
}

fn yaml_chunk(c: &Chunk, out: &mut Vec<u8>) {
    // nstime_to_sec: seconds and nanoseconds summed as doubles.
    let secs = c.ts_ns.div_euclid(1_000_000_000) as f64;
    let nsecs = c.ts_ns.rem_euclid(1_000_000_000) as f64;
    let _ = writeln!(
        out,
        "  - packet: {}\n    peer: {}\n    timestamp: {:.9}\n    data: !!binary |",
        c.frame,
        u8::from(c.from_server),
        secs + nsecs / 1_000_000_000.0
    );
    for line in c.data.chunks(57) {
        out.extend_from_slice(b"      ");
        base64(line, out);
        out.push(b'\n');
    }
}

/// Standard base64 with padding.
fn base64(data: &[u8], out: &mut Vec<u8>) {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for g in data.chunks(3) {
        let b = [g[0], *g.get(1).unwrap_or(&0), *g.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(A[(n >> 18) as usize & 63]);
        out.push(A[(n >> 12) as usize & 63]);
        out.push(if g.len() > 1 {
            A[(n >> 6) as usize & 63]
        } else {
            b'='
        });
        out.push(if g.len() > 2 {
            A[n as usize & 63]
        } else {
            b'='
        });
    }
}

/// `follow_print_hex`: 16 bytes a line, an offset counted per direction,
/// an extra space after the eighth byte in both columns.
pub fn hex_lines(prefix: &[u8], mut offset: u32, data: &[u8], out: &mut Vec<u8>) {
    for line in data.chunks(16) {
        out.extend_from_slice(prefix);
        let _ = write!(out, "{offset:08X}  ");
        for i in 0..16 {
            match line.get(i) {
                Some(&b) => {
                    out.push(HEX[usize::from(b >> 4)]);
                    out.push(HEX[usize::from(b & 15)]);
                    out.push(b' ');
                }
                None => out.extend_from_slice(b"   "),
            }
            if i == 7 {
                out.push(b' ');
            }
        }
        out.push(b' ');
        for (i, &b) in line.iter().enumerate() {
            out.push(if (0x20..0x7f).contains(&b) { b } else { b'.' });
            if i == 7 {
                out.push(b' ');
            }
        }
        // tshark drops one trailing space: the column space of an 8-byte
        // line, or a space byte that ends a line.
        if out.last() == Some(&b' ') {
            out.pop();
        }
        out.push(b'\n');
        offset = offset.wrapping_add(16);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tshark_arguments() {
        let s = FollowSpec::parse("follow,tcp,ascii,3").unwrap().unwrap();
        assert_eq!(s.target, Target::Stream(3));
        assert_eq!((s.chunk_min, s.chunk_max), (1, u32::MAX));
        let s = FollowSpec::parse("follow,tcp,hex,0,2-4").unwrap().unwrap();
        assert_eq!((s.chunk_min, s.chunk_max), (2, 4));
        let s = FollowSpec::parse("follow,tls,raw,[::1]:49172,[::1]:18110")
            .unwrap()
            .unwrap();
        assert_eq!(s.proto, Proto::Tls);
        assert_eq!(
            s.filter_text(),
            "((ipv6.src eq ::1 and tcp.srcport eq 49172) and (ipv6.dst eq ::1 and tcp.dstport eq 18110)) or ((ipv6.src eq ::1 and tcp.srcport eq 18110) and (ipv6.dst eq ::1 and tcp.dstport eq 49172))"
        );
        assert!(FollowSpec::parse("conv,tcp").is_none());
        for bad in [
            "follow,tcp,ascii",
            "follow,tcp,utf-8,0",
            "follow,tcp,ebcdicx,0",
            "follow,udp,ascii,0",
            "follow,tcp,ascii,0,0",
            "follow,tcp,ascii,0,3-2",
            "follow,tcp,ascii,1.2.3.4:0,1.2.3.4:5",
            "follow,tcp,ascii,1.2.3.4:1,[::1]:5",
            "follow,tcp,ascii,0,1,2",
            "follow,tcp,ascii,99999999999",
        ] {
            assert!(FollowSpec::parse(bad).unwrap().is_err(), "{bad}");
        }
    }

    #[test]
    fn hex_lines_match_tshark_layout() {
        let mut out = Vec::new();
        hex_lines(b"", 0, b"GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", &mut out);
        let want =
            "00000000  47 45 54 20 2f 20 48 54  54 50 2f 31 2e 31 0d 0a  GET / HT TP/1.1..\n\
00000010  41 63 63 65 70 74 3a 20  2a 2f 2a 0d 0a 0d 0a     Accept:  */*....\n";
        assert_eq!(String::from_utf8(out).unwrap(), want);
        let mut out = Vec::new();
        hex_lines(b"\t", 0x9b, b"12345678", &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\t0000009B  31 32 33 34 35 36 37 38                           12345678\n"
        );
    }

    fn seg(src: u16, seq: u32, ack: u32, data: &[u8]) -> Segment<'_> {
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let (a, b) = (Endpoint(ip, 1000), Endpoint(ip, 80));
        let (s, d) = if src == 1000 { (a, b) } else { (b, a) };
        Segment {
            stream: 0,
            src: s,
            dst: d,
            seq,
            ack,
            syn: false,
            seg_len: data.len() as u32,
            data,
            frame: 1,
            ts_ns: 0,
        }
    }

    #[test]
    fn reorders_merges_and_marks_gaps() {
        let mut f = Follower::default();
        f.segment(&seg(1000, 1, 1, b"abc"));
        f.segment(&seg(1000, 7, 1, b"ghi")); // ahead: held
        f.segment(&seg(1000, 4, 1, b"def")); // fills the gap
        f.segment(&seg(1000, 2, 1, b"bcdefghijk")); // overlap: only "jk"
        f.segment(&seg(1000, 20, 1, b"xyz")); // a gap of 8 (12..20)
        f.segment(&seg(80, 1, 23, b"")); // acked past: placeholder, then the data
        let got: Vec<&[u8]> = f.chunks.iter().map(|c| c.data.as_slice()).collect();
        assert_eq!(
            got,
            [
                &b"abc"[..],
                b"def",
                b"ghi",
                b"jk",
                b"[8 bytes missing in capture file]\0",
                b"xyz"
            ]
        );
    }

    #[test]
    fn cap_keeps_the_first_bytes() {
        let mut f = Follower::new(4);
        f.segment(&seg(1000, 1, 1, b"abc"));
        f.segment(&seg(1000, 4, 1, b"def"));
        assert_eq!(f.chunks.len(), 1);
        assert!(f.truncated());
    }

    proptest::proptest! {
        /// Any segments in any order: no panic, the cap holds, and every kept byte
        /// came from some segment or is a gap marker.
        #[test]
        fn never_panics_and_respects_the_cap(
            segs in proptest::collection::vec(
                (proptest::bool::ANY, 0u32..64, 0u32..64, proptest::bool::ANY, 0usize..20, 0u32..24),
                0..40,
            ),
            base in proptest::num::u32::ANY,
            cap in 0usize..200,
        ) {
            let mut f = Follower::new(cap);
            let payload = [b'x'; 32];
            for (server, seq, ack, syn, len, seg_len) in segs {
                let mut s = seg(if server { 80 } else { 1000 }, base.wrapping_add(seq), base.wrapping_add(ack), &payload[..len]);
                s.syn = syn;
                s.seg_len = seg_len;
                f.segment(&s);
            }
            let held: usize = f.chunks.iter().map(|c| c.data.len()).sum();
            proptest::prop_assert!(held <= cap);
            proptest::prop_assert!(f.chunks.iter().all(|c| !c.data.is_empty()));
        }

        /// In-order segments come out as they went in.
        #[test]
        fn in_order_data_is_kept_whole(pieces in proptest::collection::vec(1usize..30, 1..20), isn in proptest::num::u32::ANY) {
            let mut f = Follower::default();
            let mut seq = isn;
            let mut want = Vec::new();
            for (i, n) in pieces.iter().enumerate() {
                let data: Vec<u8> = (0..*n).map(|k| (i * 31 + k) as u8).collect();
                f.segment(&seg(1000, seq, 1, &data));
                seq = seq.wrapping_add(*n as u32);
                want.extend_from_slice(&data);
            }
            let got: Vec<u8> = f.chunks.iter().flat_map(|c| c.data.iter().copied()).collect();
            proptest::prop_assert_eq!(got, want);
        }
    }
}
