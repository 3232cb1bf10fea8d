//! Application protocols as bare filter tests: `tls` (and its alias `ssl`),
//! `http`, `dns`, `snmp`, `ssh`, `dhcp` (alias `bootp`), `ntp`, `quic`.
//!
//! hs-tui has no application dissectors, so it decides which of these
//! protocols a frame carries the way Wireshark 4.0.17 picks a dissector:
//!
//! - Only a TCP segment or UDP datagram with captured payload can carry one
//!   (Wireshark calls no subdissector for an empty segment, so a SYN or pure
//!   ACK on port 443 is never `tls`). TCP or UDP quoted inside an ICMP error
//!   never carries one, and neither does a TCP retransmission or
//!   out-of-order segment (Wireshark shows "Retransmitted TCP segment data").
//! - TCP tries the server port (the SYN's destination, when the handshake was
//!   seen), then the lower port, then the higher; UDP tries the lower port,
//!   then the higher. The first port that some Wireshark dissector claims
//!   decides (the tables below are `tshark -G decodes` of 4.0.17); a port
//!   claimed by a dissector hs-tui does not know (SMTP on 25, `gsm_ipa` on
//!   5000, ...) means "none of ours".
//! - With no claimed port, the enabled heuristics run: a TLS record header
//!   (`tls`), an HTTP request or status line (`http`), a QUIC long header
//!   with a known version (`quic`).
//!
//! Per protocol, once the port has chosen it:
//! - `ssh`, `dns`, `snmp`, `dhcp`, `ntp`: every segment with payload
//!   (Wireshark shows these layers even when the payload is malformed).
//! - `quic`: a long header with a known version on any unclaimed UDP port;
//!   on UDP port 443 also a short header (Wireshark needs to have seen the
//!   connection's handshake for those, which is the common case).
//! - `tls` and `http` follow Wireshark's TCP reassembly ([`AppState`], used by
//!   every filter that names them): a TLS record split over segments shows
//!   `tls` where it starts and where it completes (one pass), not in the
//!   middle; an HTTP message shows `http` on the segment that completes its
//!   headers and body (`Content-Length`, chunked, or until the FIN; no body
//!   for HEAD, 1xx, 204, 304). Like Wireshark's HTTP dissector, data that is
//!   not a request or response is "Continuation" `http` only once the
//!   conversation had a request (or when its first line looks like a
//!   header), binary data otherwise is not HTTP, and text without a complete
//!   first line waits for more. On a TLS port, data that is not a record
//!   is still `tls` ("Ignored Unknown Record"). A gap (lost segment) inside a
//!   PDU stalls that direction, as reassembly waits for the missing bytes.
//!   [`detect`] is the same judgement without state, segment by segment.
//!
//! Where this differs from Wireshark (each case is in the conformance
//! test's allow-list when a capture exercises it):
//! - **Reassembly is approximated.** Retransmissions that fill a gap are not
//!   replayed into the stalled PDU, SSH and DNS-over-TCP PDUs are not
//!   reassembled (every segment with payload counts), and Wireshark's
//!   header-line heuristics on binary mid-stream data are only approximated.
//! - **Conversations.** Wireshark follows protocol switches within a
//!   conversation. For TLS the engine's TLS dissector (`crate::engine::tls`)
//!   follows STARTTLS-style upgrades, SOCKS and HTTP CONNECT tunnels and
//!   ports whose dissector turns TLS down, and tells [`AppState`] which
//!   segments are TLS ([`AppState::observe_tls`]); HTTP Upgrade and QUIC
//!   connections known from their handshake are not followed.
//! - DNS or other application data quoted in an ICMP error is dissected by
//!   Wireshark; hs-tui does not look inside quoted payloads.

use crate::fields::PacketView;
use crate::track::analysis::flag;

/// The application protocols hs-tui can recognise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppProto {
    Tls,
    Http,
    Dns,
    Snmp,
    Ssh,
    Dhcp,
    Ntp,
    Quic,
}

/// Names accepted in filters, with aliases (`ssl` is Wireshark's registered alias of `tls`).
pub const NAMES: &[(&str, AppProto)] = &[
    ("tls", AppProto::Tls),
    ("ssl", AppProto::Tls),
    ("http", AppProto::Http),
    ("dns", AppProto::Dns),
    ("snmp", AppProto::Snmp),
    ("ssh", AppProto::Ssh),
    ("dhcp", AppProto::Dhcp),
    ("bootp", AppProto::Dhcp),
    ("ntp", AppProto::Ntp),
    ("quic", AppProto::Quic),
];

pub fn lookup(name: &str) -> Option<AppProto> {
    NAMES.iter().find(|(n, _)| *n == name).map(|&(_, p)| p)
}

/// Who owns a port in Wireshark's `tcp.port` / `udp.port` tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Owner {
    Tls,
    Http,
    Ssh,
    Dns,
    Snmp,
    Ntp,
    Dhcp,
    /// A dissector hs-tui does not emulate.
    Other,
}

/// What the ports (or heuristics) make of a segment, before any reassembly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    None,
    /// A protocol shown on every segment that reaches it.
    Whole(AppProto),
    /// TLS records; `owned` when a port belongs to TLS (else the heuristic found a record).
    Tls {
        owned: bool,
    },
    /// HTTP messages; `owned` when a port belongs to HTTP.
    Http {
        owned: bool,
    },
}

/// The TCP payload Wireshark hands to a subdissector, if any: captured
/// bytes, not a quoted header, not a retransmission or out-of-order segment
/// (those are shown as "Retransmitted TCP segment data", never dissected again).
pub(crate) fn tcp_payload<'a>(p: &PacketView<'a>) -> Option<&'a [u8]> {
    let f = p.frame;
    let t = f.tcp.as_ref()?;
    if t.quoted || !t.has_fixed || t.bogus_hdr_len() || f.payload_cap == 0 {
        return None;
    }
    if p.meta
        .is_some_and(|m| m.analysis.flags & (flag::ANY_RETRANSMISSION | flag::OUT_OF_ORDER) != 0)
    {
        return None;
    }
    let payload = f.payload(p.bytes);
    (!payload.is_empty()).then_some(payload)
}

fn classify_tcp(p: &PacketView<'_>, payload: &[u8]) -> Class {
    let Some(t) = p.frame.tcp.as_ref() else {
        return Class::None;
    };
    let server = p.flow.and_then(|fl| fl.server()).map(|e| e.1);
    let (lo, hi) = (t.src_port.min(t.dst_port), t.src_port.max(t.dst_port));
    for port in [server, Some(lo), Some(hi)].into_iter().flatten() {
        if let Some(owner) = owner(TCP_PORTS, port) {
            return match owner {
                Owner::Tls => Class::Tls { owned: true },
                Owner::Http => Class::Http { owned: true },
                Owner::Ssh => Class::Whole(AppProto::Ssh),
                Owner::Dns => Class::Whole(AppProto::Dns),
                Owner::Snmp => Class::Whole(AppProto::Snmp),
                Owner::Ntp => Class::Whole(AppProto::Ntp),
                Owner::Dhcp => Class::Whole(AppProto::Dhcp),
                Owner::Other => Class::None,
            };
        }
    }
    if tls_record(payload) {
        Class::Tls { owned: false }
    } else if http_start(payload) {
        Class::Http { owned: false }
    } else {
        Class::None
    }
}

fn detect_udp(p: &PacketView<'_>) -> Option<AppProto> {
    let f = p.frame;
    let u = f.udp.as_ref()?;
    let payload = f.payload(p.bytes);
    if payload.is_empty() || f.tcp.is_some() {
        return None;
    }
    let (lo, hi) = (u.src_port.min(u.dst_port), u.src_port.max(u.dst_port));
    for port in [lo, hi] {
        if let Some(owner) = owner(UDP_PORTS, port) {
            return match owner {
                Owner::Dns => Some(AppProto::Dns),
                Owner::Snmp => Some(AppProto::Snmp),
                Owner::Ntp => Some(AppProto::Ntp),
                Owner::Dhcp => Some(AppProto::Dhcp),
                _ => None,
            };
        }
    }
    if quic_long_header(payload)
        || (u.src_port == 443 || u.dst_port == 443) && quic_short_header(payload)
    {
        return Some(AppProto::Quic);
    }
    None
}

/// The application protocol of this frame judged on the segment alone (no
/// reassembly state): a TLS segment must start with a record header, an
/// HTTP segment with a request or status line. [`AppState`] does better.
pub fn detect(p: &PacketView<'_>) -> Option<AppProto> {
    if p.frame.tcp.is_some() {
        let payload = tcp_payload(p)?;
        return match classify_tcp(p, payload) {
            Class::None => None,
            Class::Whole(a) => Some(a),
            Class::Tls { .. } => tls_record(payload).then_some(AppProto::Tls),
            Class::Http { .. } => http_start(payload).then_some(AppProto::Http),
        };
    }
    detect_udp(p)
}

/// A PDU that started in an earlier segment of one direction of a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Pending {
    /// The rest of a TLS record: this many bytes.
    TlsRecord(u64),
    /// The first bytes of a TLS record header.
    TlsHeader(Vec<u8>),
    /// The start of an HTTP message whose first line or headers are incomplete.
    HttpStart(Vec<u8>),
    /// The rest of an HTTP body: this many bytes.
    HttpBody(u64),
    /// A chunked HTTP body.
    HttpChunked(Chunked),
    /// An HTTP response body that ends when the connection closes.
    HttpUntilClose,
    /// Segments were lost inside a PDU: it never completes.
    Stalled,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
struct Chunked {
    /// Bytes left of the current chunk's data and its CRLF.
    data_left: u64,
    /// A size or trailer line read so far.
    line: Vec<u8>,
    /// The last (zero-size) chunk was seen: reading trailers.
    trailers: bool,
}

const MAX_BUFFER: usize = 64 * 1024;

/// Reassembly-aware recognition of TLS and HTTP, which Wireshark shows on
/// the segment that completes a record or message (and, for TLS in one
/// pass, also on the segment where a record starts). The engine feeds it
/// every packet once, in capture order, through [`AppState::observe`].
///
/// Memory: one entry per stream direction with a PDU in progress.
#[derive(Debug, Default)]
pub struct AppState {
    pending: rustc_hash::FxHashMap<(u32, u8), Pending>,
    /// Streams whose last request was HEAD (its response has no body).
    head: rustc_hash::FxHashSet<u32>,
    /// Streams where an HTTP request was seen: later non-HTTP data is "Continuation".
    requests: rustc_hash::FxHashSet<u32>,
}

impl AppState {
    pub fn new() -> AppState {
        AppState::default()
    }

    /// Can this packet change the state or get a different answer from
    /// [`detect`]? Only TCP segments with payload, a FIN or a RST can; the
    /// engine skips [`AppState::observe`] for the rest.
    pub fn needs(p: &PacketView<'_>) -> bool {
        use crate::decode::tcp::flags::{FIN, RST};
        p.frame
            .tcp
            .as_ref()
            .is_some_and(|t| !t.quoted && (p.frame.payload_cap > 0 || t.flags & (FIN | RST) != 0))
    }

    /// The application protocol of the next frame in capture order (one of ours), updating the reassembly state.
    pub fn observe(&mut self, p: &PacketView<'_>) -> Option<AppProto> {
        self.judge(p, false)
    }

    /// [`AppState::observe`] for a segment of a conversation the TLS
    /// dissector already owns (a STARTTLS-style upgrade, a tunnel, or a port
    /// whose dissector turns TLS down): its bytes are TLS whatever the ports say.
    pub fn observe_tls(&mut self, p: &PacketView<'_>, tls: bool) -> Option<AppProto> {
        self.judge(p, tls)
    }

    fn judge(&mut self, p: &PacketView<'_>, tls: bool) -> Option<AppProto> {
        if p.frame.tcp.is_none() {
            return detect_udp(p);
        }
        let m = p.meta.filter(|m| m.analyzed)?;
        let key = (m.stream, m.dir);
        let flags = p.frame.tcp.as_ref().map_or(0, |t| t.flags);
        let Some(payload) = tcp_payload(p) else {
            // A body that runs to the close completes on the FIN; a RST abandons everything.
            if flags & crate::decode::tcp::flags::RST != 0 {
                self.pending.remove(&key);
                self.pending.remove(&(m.stream, 1 - m.dir));
            } else if flags & crate::decode::tcp::flags::FIN != 0
                && self.pending.get(&key) == Some(&Pending::HttpUntilClose)
            {
                self.pending.remove(&key);
                return Some(AppProto::Http);
            }
            return None;
        };
        if m.analysis.flags & flag::LOST_SEGMENT != 0 && self.pending.contains_key(&key) {
            // A gap inside a PDU: Wireshark's reassembly waits for the missing
            // bytes, so nothing more of this direction is dissected.
            self.pending.insert(key, Pending::Stalled);
        }
        if self.pending.get(&key) == Some(&Pending::Stalled) {
            return None;
        }
        let class = if tls {
            Class::Tls { owned: true }
        } else {
            match classify_tcp(p, payload) {
                // The heuristic gave the conversation to HTTP (a request was seen):
                // later segments go to HTTP whatever they start with.
                Class::None if self.requests.contains(&m.stream) => Class::Http { owned: true },
                class => class,
            }
        };
        let reported = m.len.map_or(payload.len() as u64, u64::from);
        if (payload.len() as u64) < reported {
            return self.truncated(m.stream, &key, class, payload);
        }
        let pending = self.pending.remove(&key);
        let tls_pending = matches!(pending, Some(Pending::TlsRecord(_) | Pending::TlsHeader(_)));
        let (shown, next) = match class {
            Class::Whole(a) => return Some(a),
            Class::Tls { owned } => tls_segment(payload, pending, owned),
            Class::Http { owned } => self.http_segment(m.stream, payload, pending, owned),
            // A heuristic conversation continues where its PDU left off.
            Class::None if tls_pending => tls_segment(payload, pending, false),
            Class::None if pending.is_some() => {
                self.http_segment(m.stream, payload, pending, false)
            }
            Class::None => return None,
        };
        if let Some(next) = next {
            self.pending.insert(key, next);
        }
        let is_fin = flags & crate::decode::tcp::flags::FIN != 0;
        if is_fin && self.pending.get(&key) == Some(&Pending::HttpUntilClose) {
            self.pending.remove(&key);
            return Some(AppProto::Http);
        }
        shown
    }

    /// A segment the capture cut short (`frame.cap_len` below the packet's
    /// length). TCP cannot desegment it, so tshark hands the dissector its
    /// captured bytes alone: a message that starts here is shown here (up to
    /// "[Packet size limited during capture]"), and reassembly in progress,
    /// if any, is left as it was. No state is kept for it: a capture taken
    /// with a small snapshot length holds none per connection.
    fn truncated(
        &mut self,
        stream: u32,
        key: &(u32, u8),
        class: Class,
        payload: &[u8],
    ) -> Option<AppProto> {
        let pending = self.pending.get(key);
        let tls_pending = matches!(pending, Some(Pending::TlsRecord(_) | Pending::TlsHeader(_)));
        let (shown, next) = match class {
            Class::Whole(a) => return Some(a),
            // The TLS dissector shows its layer whatever the cut left of the
            // records. (tshark's TCP still waits for a record that runs past the
            // segment, holding later segments back as plain TCP: not followed.)
            Class::Tls { .. } => (Some(AppProto::Tls), None),
            // The heuristic wants a whole first line with the HTTP token.
            Class::Http { owned: false } if !heuristic_http_line(payload) => (None, None),
            // Without desegmentation the first line ends where the bytes do.
            Class::Http { .. } if !http_start(payload) => {
                let line = &payload[..line_end(payload).unwrap_or(payload.len())];
                let continuation = self.requests.contains(&stream) || header_like(line);
                (continuation.then_some(AppProto::Http), None)
            }
            Class::Http { owned } => self.http_segment(stream, payload, None, owned),
            // A conversation a heuristic gave to a dissector stays with it.
            Class::None if tls_pending => (Some(AppProto::Tls), None),
            Class::None if pending.is_some() => self.http_segment(stream, payload, None, true),
            Class::None => return None,
        };
        // An HTTP message cut short is dissected as far as it was captured.
        let shown = shown.or(match next {
            Some(
                Pending::HttpStart(_)
                | Pending::HttpBody(_)
                | Pending::HttpChunked(_)
                | Pending::HttpUntilClose,
            ) => Some(AppProto::Http),
            _ => None,
        });
        if shown == Some(AppProto::Http) {
            // The conversation is HTTP's from now on (its later data is "Continuation").
            self.requests.insert(stream);
        }
        shown
    }

    /// One HTTP segment: returns whether a message completes (or continuation
    /// data is shown) here, and what is left pending.
    fn http_segment(
        &mut self,
        stream: u32,
        data: &[u8],
        pend: Option<Pending>,
        owned: bool,
    ) -> (Option<AppProto>, Option<Pending>) {
        let mut shown = false;
        let mut pos = 0usize;
        let mut state = pend;
        loop {
            let rest = &data[pos..];
            match state.take() {
                Some(Pending::HttpBody(left)) => {
                    if (rest.len() as u64) < left {
                        return (
                            shown.then_some(AppProto::Http),
                            Some(Pending::HttpBody(left - rest.len() as u64)),
                        );
                    }
                    pos += left as usize;
                    shown = true;
                }
                Some(Pending::HttpChunked(mut c)) => match chunked(&mut c, rest) {
                    Some(used) => {
                        pos += used;
                        shown = true;
                    }
                    None => {
                        return (
                            shown.then_some(AppProto::Http),
                            Some(Pending::HttpChunked(c)),
                        )
                    }
                },
                Some(Pending::HttpUntilClose) => {
                    return (
                        shown.then_some(AppProto::Http),
                        Some(Pending::HttpUntilClose),
                    )
                }
                Some(Pending::HttpStart(mut buf)) => {
                    let old = buf.len();
                    buf.extend_from_slice(&rest[..rest.len().min(MAX_BUFFER)]);
                    match self.http_message(stream, &buf) {
                        Msg::NeedMore if buf.len() < MAX_BUFFER => {
                            return (
                                shown.then_some(AppProto::Http),
                                Some(Pending::HttpStart(buf)),
                            )
                        }
                        Msg::NeedMore => return (shown.then_some(AppProto::Http), None),
                        Msg::Continuation => return (Some(AppProto::Http), None),
                        Msg::NotHttp => return (shown.then_some(AppProto::Http), None),
                        Msg::Headers { len, body } => {
                            pos += len.saturating_sub(old);
                            state = body;
                            if state.is_none() {
                                shown = true;
                            }
                            continue;
                        }
                    }
                }
                Some(_) | None => {
                    if rest.is_empty() {
                        return (shown.then_some(AppProto::Http), None);
                    }
                    // A message starts here (a heuristic port needs a request or status line).
                    if !owned && !http_start(rest) {
                        return (shown.then_some(AppProto::Http), None);
                    }
                    match self.http_message(stream, rest) {
                        Msg::NeedMore => {
                            let buf = rest[..rest.len().min(MAX_BUFFER)].to_vec();
                            return (
                                shown.then_some(AppProto::Http),
                                Some(Pending::HttpStart(buf)),
                            );
                        }
                        Msg::Continuation => {
                            return ((owned || shown).then_some(AppProto::Http), None)
                        }
                        Msg::NotHttp => return (shown.then_some(AppProto::Http), None),
                        Msg::Headers { len, body } => {
                            pos += len;
                            state = body;
                            if state.is_none() {
                                shown = true;
                            }
                            continue;
                        }
                    }
                }
            }
        }
    }

    /// Parse the start of an HTTP message.
    fn http_message(&mut self, stream: u32, b: &[u8]) -> Msg {
        // Like Wireshark's dissect_http_message: skip one leading CRLF, give up
        // on binary data, wait for a complete first line, then decide.
        let skip = if b.len() > 3 && b.starts_with(b"\r\n") {
            2
        } else {
            0
        };
        let b = &b[skip..];
        let seen = self.requests.contains(&stream);
        let Some(&first) = b.first() else {
            return Msg::NeedMore;
        };
        if !(0x20..0x7f).contains(&first) {
            return if seen {
                Msg::Continuation
            } else {
                Msg::NotHttp
            };
        }
        if !http_start(b) {
            let Some(line) = line_end(b) else {
                return Msg::NeedMore;
            };
            // Continuation data of a conversation that had a request, or a
            // first line that looks like a header ("Name: value").
            return if seen || header_like(&b[..line]) {
                Msg::Continuation
            } else {
                Msg::NotHttp
            };
        }
        let Some(end) = find(b, b"\r\n\r\n")
            .map(|i| i + 4)
            .or_else(|| find(b, b"\n\n").map(|i| i + 2))
        else {
            return Msg::NeedMore;
        };
        let head = &b[..end];
        let response = head.starts_with(b"HTTP/");
        let mut body = None;
        if response {
            let status = head
                .get(9..12)
                .and_then(|s| std::str::from_utf8(s).ok())
                .and_then(|s| s.parse::<u16>().ok())
                .unwrap_or(200);
            let no_body = (100..200).contains(&status)
                || status == 204
                || status == 304
                || self.head.remove(&stream);
            if !no_body {
                body = Some(match content_length(head) {
                    Some(0) => None,
                    Some(n) => Some(Pending::HttpBody(n)),
                    None if is_chunked(head) => Some(Pending::HttpChunked(Chunked::default())),
                    None => Some(Pending::HttpUntilClose),
                })
                .flatten();
            }
        } else {
            if head.starts_with(b"HEAD ") {
                self.head.insert(stream);
            }
            if let Some(n) = content_length(head) {
                body = (n > 0).then_some(Pending::HttpBody(n));
            } else if is_chunked(head) {
                body = Some(Pending::HttpChunked(Chunked::default()));
            }
        }
        if !response {
            self.requests.insert(stream);
        }
        Msg::Headers {
            len: skip + end,
            body,
        }
    }
}

/// Where the first line ends (a CR or LF), unless a final CR may still be followed by LF.
fn line_end(b: &[u8]) -> Option<usize> {
    let i = b.iter().position(|&c| c == b'\r' || c == b'\n')?;
    (!(b[i] == b'\r' && i + 1 == b.len())).then_some(i)
}

/// A header line: a token of printable non-separator characters, then a colon.
fn header_like(line: &[u8]) -> bool {
    for &c in line {
        match c {
            b':' => return true,
            b'(' | b')' | b'<' | b'>' | b'@' | b',' | b';' | b'\\' | b'"' | b'/' | b'[' | b']'
            | b'?' | b'=' | b'{' | b'}' | b' ' => return false,
            0x21..=0x7e => {}
            _ => return false,
        }
    }
    false
}

enum Msg {
    NeedMore,
    /// Not HTTP: nothing shown, nothing pending.
    NotHttp,
    /// Shown as HTTP "Continuation" data.
    Continuation,
    /// Headers end after `len` bytes; `body` is what must follow.
    Headers {
        len: usize,
        body: Option<Pending>,
    },
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

/// The value of a header (case-insensitive name), from the header block.
fn header<'a>(head: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    head.split(|&c| c == b'\n').skip(1).find_map(|line| {
        let colon = line.iter().position(|&c| c == b':')?;
        line[..colon]
            .trim_ascii()
            .eq_ignore_ascii_case(name)
            .then(|| line[colon + 1..].trim_ascii())
    })
}

fn content_length(head: &[u8]) -> Option<u64> {
    std::str::from_utf8(header(head, b"content-length")?)
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn is_chunked(head: &[u8]) -> bool {
    header(head, b"transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().windows(7).any(|w| w == b"chunked"))
}

/// Consume chunked body bytes; `Some(used)` when the body ends within `data`.
fn chunked(c: &mut Chunked, data: &[u8]) -> Option<usize> {
    let mut pos = 0;
    while pos < data.len() {
        if c.data_left > 0 {
            let take = (c.data_left as usize).min(data.len() - pos);
            c.data_left -= take as u64;
            pos += take;
            continue;
        }
        let nl = data[pos..].iter().position(|&b| b == b'\n');
        let end = nl.map_or(data.len(), |i| pos + i + 1);
        if c.line.len() < 1024 {
            c.line.extend_from_slice(&data[pos..end]);
        }
        pos = end;
        nl?;
        let line = std::mem::take(&mut c.line);
        let line = line.trim_ascii();
        if c.trailers {
            if line.is_empty() {
                return Some(pos);
            }
            continue;
        }
        let hex = line.split(|&b| b == b';').next().unwrap_or(&[]);
        let size = std::str::from_utf8(hex)
            .ok()
            .and_then(|h| u64::from_str_radix(h.trim(), 16).ok())
            .unwrap_or(0);
        if size == 0 {
            c.trailers = true;
        } else {
            c.data_left = size + 2;
        }
    }
    None
}

/// One TLS segment: whether a record starts or completes here, and what is left pending.
fn tls_segment(
    data: &[u8],
    pend: Option<Pending>,
    owned: bool,
) -> (Option<AppProto>, Option<Pending>) {
    let mut shown = false;
    let mut pos = 0usize;
    let mut header_buf: Vec<u8> = Vec::new();
    match pend {
        Some(Pending::TlsRecord(left)) => {
            if (data.len() as u64) < left {
                return (None, Some(Pending::TlsRecord(left - data.len() as u64)));
            }
            pos = left as usize;
            shown = true;
        }
        Some(Pending::TlsHeader(buf)) => header_buf = buf,
        _ => {}
    }
    loop {
        if !header_buf.is_empty() {
            let need = 5 - header_buf.len();
            let take = need.min(data.len() - pos);
            header_buf.extend_from_slice(&data[pos..pos + take]);
            pos += take;
            if header_buf.len() < 5 {
                return (
                    shown.then_some(AppProto::Tls),
                    Some(Pending::TlsHeader(header_buf)),
                );
            }
            let body = u16::from_be_bytes([header_buf[3], header_buf[4]]) as u64;
            header_buf.clear();
            shown = true;
            let avail = (data.len() - pos) as u64;
            if avail < body {
                return (Some(AppProto::Tls), Some(Pending::TlsRecord(body - avail)));
            }
            pos += body as usize;
            continue;
        }
        let rest = &data[pos..];
        if rest.is_empty() {
            return (shown.then_some(AppProto::Tls), None);
        }
        if tls_record(rest) {
            shown = true;
            let len = 5 + u16::from_be_bytes([rest[3], rest[4]]) as u64;
            if (rest.len() as u64) < len {
                return (
                    Some(AppProto::Tls),
                    Some(Pending::TlsRecord(len - rest.len() as u64)),
                );
            }
            pos += len as usize;
            continue;
        }
        if rest.len() < 5 && (20..=24).contains(&rest[0]) && rest.get(1).is_none_or(|&v| v == 3) {
            header_buf = rest.to_vec();
            pos = data.len();
            continue;
        }
        // Not a record: on a TLS port Wireshark still shows the layer ("Ignored Unknown Record").
        return ((shown || owned && pos == 0).then_some(AppProto::Tls), None);
    }
}

/// Who owns a TCP port in tshark's table, as the TLS dissector needs to know:
/// `Some(true)` TLS, `Some(false)` another dissector (`http`: HTTP), `None` nobody.
pub(crate) fn tcp_port_owner(port: u16) -> Option<(bool, bool)> {
    owner(TCP_PORTS, port).map(|o| (o == Owner::Tls, o == Owner::Http))
}

fn owner(table: &[(u16, Owner)], port: u16) -> Option<Owner> {
    if port == 0 {
        return None; // Wireshark ignores port 0
    }
    table
        .binary_search_by_key(&port, |&(p, _)| p)
        .ok()
        .map(|i| table[i].1)
}

/// A TLS (or SSL 3.0) record header: content type, version 3.x, length.
pub fn tls_record(b: &[u8]) -> bool {
    b.len() >= 5
        && (20..=24).contains(&b[0])
        && b[1] == 3
        && b[2] <= 4
        && u16::from_be_bytes([b[3], b[4]]) <= 16384 + 2048
}

const METHODS: &[&[u8]] = &[
    b"GET",
    b"POST",
    b"HEAD",
    b"PUT",
    b"DELETE",
    b"OPTIONS",
    b"CONNECT",
    b"TRACE",
    b"PATCH",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"SEARCH",
    b"NOTIFY",
    b"SUBSCRIBE",
    b"UNSUBSCRIBE",
    b"M-SEARCH",
];

/// `dissect_http_heur_tcp`'s test: a first line ended within the bytes, that
/// starts with `HTTP/1.` or ends with `HTTP/1.x` (any case).
fn heuristic_http_line(b: &[u8]) -> bool {
    let Some(n) = line_end(b) else {
        return false;
    };
    let token = |at: usize| {
        b.get(at..at + 7)
            .is_some_and(|t| t.eq_ignore_ascii_case(b"HTTP/1."))
    };
    n != 8 && (n >= 8 && token(n - 8) || token(0))
}

/// An HTTP request line (`METHOD `) or status line (`HTTP/`).
pub fn http_start(b: &[u8]) -> bool {
    if b.starts_with(b"HTTP/") {
        return true;
    }
    METHODS
        .iter()
        .any(|m| b.len() > m.len() && b.starts_with(m) && b[m.len()] == b' ')
}

fn quic_version_known(v: u32) -> bool {
    // v1, v2, drafts (0xff0000xx), and the version-negotiation value 0.
    matches!(v, 0 | 1 | 0x6b33_43cf | 0x709a_50c4) || v >> 8 == 0x00ff_0000
}

/// A QUIC long header: form and fixed bits, a known version, sane connection-ID lengths.
pub fn quic_long_header(b: &[u8]) -> bool {
    if b.len() < 7 || b[0] & 0x80 == 0 {
        return false;
    }
    let version = u32::from_be_bytes([b[1], b[2], b[3], b[4]]);
    if !quic_version_known(version) || (version != 0 && b[0] & 0x40 == 0) {
        return false;
    }
    let dcid = b[5] as usize;
    if dcid > 20 || b.len() < 7 + dcid {
        return false;
    }
    let scid = b[6 + dcid] as usize;
    scid <= 20 && b.len() >= 7 + dcid + scid
}

/// A QUIC short header: form bit clear, fixed bit set, room for a connection ID.
pub fn quic_short_header(b: &[u8]) -> bool {
    b.len() >= 20 && b[0] & 0xc0 == 0x40
}

use Owner::{Dhcp, Dns, Http, Ntp, Other, Snmp, Ssh, Tls};

/// `tshark -G decodes` (4.0.17), `tcp.port` rows, sorted by port.
#[rustfmt::skip]
static TCP_PORTS: &[(u16, Owner)] = &[
    (7, Other), (13, Other), (19, Other), (20, Other), (21, Other), (22, Ssh), (23, Other), (25, Other), 
    (37, Other), (42, Other), (43, Other), (49, Other), (53, Dns), (70, Other), (79, Other), (80, Http), 
    (88, Other), (102, Other), (104, Other), (110, Other), (111, Other), (119, Other), (123, Ntp), (139, Other), 
    (143, Other), (161, Snmp), (162, Snmp), (179, Other), (199, Other), (210, Other), (323, Other), (324, Tls), 
    (389, Other), (427, Other), (443, Tls), (445, Other), (464, Other), (465, Tls), (473, Other), (500, Other), 
    (502, Other), (512, Other), (513, Other), (514, Other), (515, Other), (524, Other), (547, Other), (548, Other), 
    (554, Other), (564, Other), (587, Other), (631, Http), (636, Tls), (639, Other), (646, Other), (647, Other), 
    (674, Other), (705, Other), (802, Tls), (829, Other), (853, Tls), (854, Other), (862, Other), (873, Other), 
    (925, Other), (988, Other), (993, Tls), (995, Tls), (1080, Other), (1090, Other), (1099, Other), (1102, Other), 
    (1153, Other), (1194, Other), (1213, Other), (1300, Tls), (1344, Other), (1433, Other), (1521, Other), (1533, Other), 
    (1547, Other), (1723, Other), (1755, Other), (1861, Other), (1863, Other), (1883, Other), (1900, Http), (1935, Other), 
    (1978, Other), (1979, Other), (1998, Other), (2000, Other), (2001, Other), (2065, Other), (2099, Other), (2123, Other), 
    (2126, Other), (2152, Other), (2190, Other), (2221, Tls), (2234, Other), (2240, Other), (2269, Other), (2321, Other), 
    (2322, Other), (2345, Other), (2401, Other), (2404, Other), (2424, Other), (2427, Other), (2433, Other), (2443, Tls), 
    (2501, Other), (2502, Other), (2571, Other), (2575, Other), (2600, Other), (2710, Http), (2727, Other), (2812, Other), 
    (2855, Other), (2869, Http), (2944, Other), (2945, Other), (3002, Other), (3003, Other), (3006, Other), (3014, Other), 
    (3016, Other), (3017, Other), (3018, Other), (3019, Other), (3050, Other), (3128, Http), (3132, Http), (3205, Other), 
    (3245, Other), (3246, Other), (3247, Other), (3248, Other), (3249, Tls), (3250, Tls), (3251, Tls), (3252, Tls), 
    (3268, Other), (3288, Other), (3306, Other), (3333, Other), (3334, Other), (3357, Other), (3369, Other), (3386, Other), 
    (3389, Other), (3452, Other), (3478, Other), (3496, Tls), (3567, Other), (3632, Other), (3671, Other), (3689, Http), 
    (3724, Other), (3804, Other), (3860, Other), (3863, Other), (3868, Other), (3918, Other), (4002, Other), (4058, Other), 
    (4155, Other), (4189, Other), (4222, Other), (4223, Other), (4224, Other), (4249, Other), (4250, Other), (4321, Other), 
    (4342, Other), (4369, Other), (4420, Other), (4551, Other), (4555, Other), (4556, Other), (4661, Other), (4662, Other), 
    (4663, Other), (4712, Other), (4730, Other), (4737, Other), (4739, Other), (4788, Other), (4840, Other), (4880, Other), 
    (5000, Other), (5010, Other), (5060, Other), (5061, Tls), (5066, Other), (5084, Other), (5094, Other), (5190, Other), 
    (5222, Other), (5253, Other), (5353, Dns), (5432, Other), (5445, Other), (5500, Other), (5501, Other), (5534, Other), 
    (5555, Other), (5671, Tls), (5672, Other), (5683, Other), (5684, Tls), (5701, Other), (5721, Other), (5868, Tls), 
    (5900, Other), (5901, Other), (5985, Http), (5997, Other), (6000, Other), (6001, Other), (6002, Other), (6003, Other), 
    (6004, Other), (6005, Other), (6006, Other), (6007, Other), (6008, Other), (6009, Other), (6010, Other), (6011, Other), 
    (6012, Other), (6013, Other), (6014, Other), (6015, Other), (6016, Other), (6017, Other), (6018, Other), (6019, Other), 
    (6020, Other), (6021, Other), (6022, Other), (6023, Other), (6024, Other), (6025, Other), (6026, Other), (6027, Other), 
    (6028, Other), (6029, Other), (6030, Other), (6031, Other), (6032, Other), (6033, Other), (6034, Other), (6035, Other), 
    (6036, Other), (6037, Other), (6038, Other), (6039, Other), (6040, Other), (6041, Other), (6042, Other), (6043, Other), 
    (6044, Other), (6045, Other), (6046, Other), (6047, Other), (6048, Other), (6049, Other), (6050, Other), (6051, Other), 
    (6052, Other), (6053, Other), (6054, Other), (6055, Other), (6056, Other), (6057, Other), (6058, Other), (6059, Other), 
    (6060, Other), (6061, Other), (6062, Other), (6063, Other), (6068, Other), (6075, Other), (6084, Other), (6121, Other), 
    (6160, Other), (6346, Other), (6379, Other), (6417, Other), (6653, Other), (6666, Other), (6667, Other), (6668, Other), 
    (6881, Other), (6882, Other), (6883, Other), (6884, Other), (6885, Other), (6886, Other), (6887, Other), (6888, Other), 
    (6889, Other), (7000, Other), (7075, Other), (7171, Other), (7172, Other), (7236, Other), (7275, Other), (7276, Other), 
    (7871, Other), (7890, Other), (7900, Other), (7911, Other), (7930, Other), (8004, Other), (8009, Other), (8010, Other), 
    (8023, Other), (8074, Other), (8080, Http), (8085, Other), (8088, Http), (8554, Other), (8567, Other), (8883, Tls), 
    (9000, Other), (9009, Other), (9042, Other), (9092, Other), (9168, Other), (9300, Other), (9418, Other), (9600, Other), 
    (9955, Other), (9956, Other), (9999, Other), (10000, Other), (10288, Other), (11207, Tls), (11210, Other), (11211, Other), 
    (11371, Http), (13400, Other), (13819, Other), (14001, Other), (15740, Other), (17500, Other), (17755, Other), (17756, Other), 
    (19006, Other), (19042, Other), (19043, Other), (19506, Other), (19543, Other), (19999, Tls), (20000, Other), (20256, Other), 
    (21064, Other), (22222, Other), (24800, Other), (27017, Tls), (29418, Ssh), (30000, Other), (30001, Other), (30002, Other), 
    (30003, Other), (30004, Other), (30005, Other), (30006, Other), (30007, Other), (30008, Other), (30009, Other), (30010, Other), 
    (30011, Other), (30012, Other), (30013, Other), (30014, Other), (30015, Other), (30016, Other), (30017, Other), (30018, Other), 
    (30019, Other), (30020, Other), (30021, Other), (30022, Other), (30023, Other), (30024, Other), (30025, Other), (30026, Other), 
    (30027, Other), (30028, Other), (30029, Other), (30030, Other), (30031, Other), (30032, Other), (30033, Other), (30034, Other), 
    (30035, Other), (30036, Other), (30037, Other), (30038, Other), (30039, Other), (30040, Other), (30041, Other), (30042, Other), 
    (30043, Other), (30044, Other), (30045, Other), (30046, Other), (30047, Other), (30048, Other), (30049, Other), (30050, Other), 
    (30051, Other), (30052, Other), (30053, Other), (30054, Other), (30055, Other), (30056, Other), (30057, Other), (30058, Other), 
    (30059, Other), (30060, Other), (30061, Other), (30062, Other), (30063, Other), (30064, Other), (30065, Other), (30066, Other), 
    (30067, Other), (30068, Other), (30069, Other), (30070, Other), (30071, Other), (30072, Other), (30073, Other), (30074, Other), 
    (30075, Other), (30076, Other), (30077, Other), (30078, Other), (30079, Other), (30080, Other), (30081, Other), (30082, Other), 
    (30083, Other), (30084, Other), (30085, Other), (30086, Other), (30087, Other), (30088, Other), (30089, Other), (30090, Other), 
    (30091, Other), (30092, Other), (30093, Other), (30094, Other), (30095, Other), (30096, Other), (30097, Other), (30098, Other), 
    (30099, Other), (30100, Other), (30101, Other), (30102, Other), (30103, Other), (30104, Other), (30105, Other), (30106, Other), 
    (30107, Other), (30108, Other), (30109, Other), (30110, Other), (30111, Other), (30112, Other), (30113, Other), (30114, Other), 
    (30115, Other), (30116, Other), (30117, Other), (30118, Other), (30119, Other), (30120, Other), (30121, Other), (30122, Other), 
    (30123, Other), (30124, Other), (30125, Other), (30126, Other), (30127, Other), (30128, Other), (30129, Other), (30130, Other), 
    (30131, Other), (30132, Other), (30133, Other), (30134, Other), (30135, Other), (30136, Other), (30137, Other), (30138, Other), 
    (30139, Other), (30140, Other), (30141, Other), (30142, Other), (30143, Other), (30144, Other), (30145, Other), (30146, Other), 
    (30147, Other), (30148, Other), (30149, Other), (30150, Other), (30151, Other), (30152, Other), (30153, Other), (30154, Other), 
    (30155, Other), (30156, Other), (30157, Other), (30158, Other), (30159, Other), (30160, Other), (30161, Other), (30162, Other), 
    (30163, Other), (30164, Other), (30165, Other), (30166, Other), (30167, Other), (30168, Other), (30169, Other), (30170, Other), 
    (30171, Other), (30172, Other), (30173, Other), (30174, Other), (30175, Other), (30176, Other), (30177, Other), (30178, Other), 
    (30179, Other), (30180, Other), (30181, Other), (30182, Other), (30183, Other), (30184, Other), (30185, Other), (30186, Other), 
    (30187, Other), (30188, Other), (30189, Other), (30190, Other), (30191, Other), (30192, Other), (30193, Other), (30194, Other), 
    (30195, Other), (30196, Other), (30197, Other), (30198, Other), (30199, Other), (30200, Other), (34980, Other), (44321, Other), 
    (44322, Other), (44818, Other), (48049, Other), (48898, Other), (57000, Other)
];

/// `tshark -G decodes` (4.0.17), `udp.port` rows, sorted by port.
#[rustfmt::skip]
static UDP_PORTS: &[(u16, Owner)] = &[
    (7, Other), (13, Other), (19, Other), (37, Other), (49, Other), (53, Dns), (67, Dhcp), (68, Dhcp), 
    (69, Other), (88, Other), (111, Other), (123, Ntp), (137, Other), (138, Other), (161, Snmp), (162, Snmp), 
    (173, Other), (177, Other), (213, Other), (269, Other), (319, Other), (320, Other), (389, Other), (427, Other), 
    (434, Other), (464, Other), (473, Other), (496, Other), (500, Other), (502, Other), (513, Other), (514, Other), 
    (520, Other), (521, Other), (524, Other), (525, Other), (539, Other), (546, Other), (547, Other), (573, Other), 
    (623, Other), (631, Other), (646, Other), (654, Other), (664, Other), (698, Other), (699, Other), (701, Other), 
    (750, Other), (853, Other), (854, Other), (910, Other), (921, Other), (925, Other), (1001, Other), (1044, Other), 
    (1052, Other), (1069, Other), (1089, Other), (1090, Other), (1091, Other), (1101, Other), (1113, Other), (1153, Other), 
    (1194, Other), (1293, Other), (1547, Other), (1628, Other), (1629, Other), (1645, Other), (1646, Other), (1700, Other), 
    (1701, Other), (1718, Other), (1719, Other), (1745, Other), (1755, Other), (1812, Other), (1813, Other), (1900, Other), 
    (1985, Other), (2029, Other), (2048, Other), (2055, Other), (2067, Other), (2099, Other), (2123, Other), (2152, Other), 
    (2157, Other), (2190, Other), (2221, Other), (2222, Other), (2231, Other), (2246, Other), (2268, Other), (2269, Other), 
    (2313, Other), (2345, Other), (2424, Other), (2427, Other), (2428, Other), (2727, Other), (2887, Other), (2944, Other), 
    (2945, Other), (2948, Other), (2949, Other), (2960, Other), (3000, Other), (3121, Other), (3130, Other), (3205, Other), 
    (3222, Other), (3250, Other), (3333, Other), (3343, Other), (3357, Other), (3386, Other), (3389, Other), (3452, Other), 
    (3455, Other), (3478, Other), (3483, Other), (3503, Other), (3540, Other), (3544, Other), (3567, Other), (3622, Other), 
    (3671, Other), (3784, Other), (3785, Other), (3792, Other), (3799, Other), (3804, Other), (3819, Other), (3863, Other), 
    (3956, Other), (4000, Other), (4011, Dhcp), (4058, Other), (4305, Other), (4306, Other), (4307, Other), (4341, Other), 
    (4342, Other), (4500, Other), (4533, Other), (4534, Other), (4551, Other), (4555, Other), (4556, Other), (4569, Other), 
    (4665, Other), (4672, Other), (4713, Other), (4729, Other), (4739, Other), (4754, Other), (4784, Other), (4789, Other), 
    (4790, Other), (4791, Other), (4991, Other), (5000, Other), (5001, Other), (5031, Other), (5050, Other), (5060, Other), 
    (5072, Other), (5094, Other), (5246, Other), (5247, Other), (5264, Other), (5265, Other), (5350, Other), (5351, Other), 
    (5353, Other), (5355, Other), (5404, Other), (5405, Other), (5436, Other), (5555, Other), (5567, Other), (5678, Other), 
    (5683, Other), (5684, Other), (5868, Other), (6060, Other), (6073, Other), (6081, Other), (6084, Other), (6087, Other), 
    (6118, Other), (6160, Other), (6343, Other), (6543, Other), (6635, Other), (6666, Other), (6696, Other), (6784, Other), 
    (6970, Other), (7000, Other), (7001, Other), (7002, Other), (7003, Other), (7004, Other), (7005, Other), (7006, Other), 
    (7007, Other), (7008, Other), (7009, Other), (7010, Other), (7021, Other), (7074, Other), (7075, Other), (7255, Other), 
    (7275, Other), (7784, Other), (8000, Other), (8116, Other), (8161, Snmp), (8200, Other), (8211, Other), (8600, Other), 
    (8611, Other), (8612, Other), (8613, Other), (8614, Other), (8755, Other), (8767, Other), (8805, Other), (8848, Other), 
    (9003, Other), (9200, Other), (9201, Other), (9202, Other), (9203, Other), (9214, Other), (9600, Other), (9875, Other), 
    (9877, Other), (9899, Other), (9901, Other), (9955, Other), (9956, Other), (9996, Other), (9999, Other), (10253, Other), 
    (10500, Other), (11211, Other), (11273, Other), (11898, Other), (12000, Other), (12001, Other), (12002, Other), (12003, Other), 
    (12004, Other), (12220, Other), (12222, Other), (12223, Other), (13400, Other), (13819, Other), (13907, Other), (13910, Other), 
    (17220, Other), (17500, Other), (17754, Other), (17755, Other), (17756, Other), (18246, Other), (19132, Other), (19788, Other), 
    (19948, Other), (19999, Other), (20000, Other), (20561, Other), (22222, Other), (23272, Other), (24576, Other), (24577, Other), 
    (25826, Other), (26000, Other), (27036, Other), (27500, Other), (27910, Other), (27950, Other), (27951, Other), (27952, Other), 
    (27953, Other), (27960, Other), (27961, Other), (27962, Other), (27963, Other), (30030, Other), (32000, Other), (32512, Other), 
    (34962, Other), (34980, Other), (37008, Other), (41170, Other), (44818, Other), (45564, Other), (47000, Other), (47808, Other), 
    (49999, Other), (54328, Other), (56000, Other), (56001, Other), (56500, Other), (56501, Other), (57000, Other), (57001, Other), 
    (57032, Other), (57033, Other), (57500, Other), (57501, Other), (57532, Other), (57533, Other), (59000, Other), (59001, Other), 
    (59032, Other), (59033, Other), (59500, Other), (59501, Other), (59532, Other), (59533, Other), (60001, Other)
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted() {
        for t in [TCP_PORTS, UDP_PORTS] {
            assert!(t.windows(2).all(|w| w[0].0 < w[1].0));
        }
        assert_eq!(owner(TCP_PORTS, 443), Some(Tls));
        assert_eq!(owner(TCP_PORTS, 80), Some(Http));
        assert_eq!(owner(TCP_PORTS, 25), Some(Other));
        assert_eq!(owner(TCP_PORTS, 8443), None);
        assert_eq!(owner(TCP_PORTS, 22), Some(Ssh));
        assert_eq!(owner(UDP_PORTS, 53), Some(Dns));
        assert_eq!(owner(UDP_PORTS, 161), Some(Snmp));
        assert_eq!(owner(UDP_PORTS, 67), Some(Dhcp));
        assert_eq!(owner(UDP_PORTS, 123), Some(Ntp));
        assert_eq!(owner(UDP_PORTS, 443), None);
        assert_eq!(owner(UDP_PORTS, 0), None);
    }

    #[test]
    fn payload_checks() {
        assert!(tls_record(&[0x16, 3, 1, 0, 5, 1]));
        assert!(!tls_record(&[0x16, 3, 1, 0xff, 0xff]));
        assert!(!tls_record(&[0x15, 2, 1, 0, 5]));
        assert!(!tls_record(&[0x16, 3]));
        assert!(http_start(b"GET / HTTP/1.1\r\n"));
        assert!(http_start(b"HTTP/1.0 200 OK\r\n"));
        assert!(!http_start(b"GETX / HTTP/1.1"));
        assert!(!http_start(b"GET"));
        let mut initial = vec![0xc3, 0, 0, 0, 1, 8];
        initial.extend_from_slice(&[0xaa; 8]);
        initial.push(0);
        initial.extend_from_slice(&[0; 20]);
        assert!(quic_long_header(&initial));
        initial[4] = 0x77;
        assert!(!quic_long_header(&initial));
        assert!(quic_short_header(&[0x41; 30]));
        assert!(!quic_short_header(&[0x81; 30]));
    }

    #[test]
    fn names() {
        assert_eq!(lookup("ssl"), Some(AppProto::Tls));
        assert_eq!(lookup("tls"), Some(AppProto::Tls));
        assert_eq!(lookup("TLS"), None);
    }
}
