//! TLS handshake dissection as tshark 4.0.17 does it in one pass
//! (packet-tls.c, packet-tls-utils.c), fed by the engine once per TCP
//! segment in capture order. What it reproduces:
//!
//! - **Which bytes are TLS**: a conversation already handed to TLS (the
//!   heuristic matched once, a STARTTLS-style upgrade or a tunnel, see
//!   [`upgrade`]); else the first port of (server, lower, higher) that tshark's
//!   table gives to some dissector decides (TLS ports are TLS, others are not,
//!   HTTP on 80 and IRC on 6667 included); else the TLS heuristic (a record
//!   header) on unclaimed ports, which then owns the conversation.
//! - **TCP reassembly of records**: a record split over segments is
//!   dissected on the segment that completes it; earlier segments show no
//!   record. Retransmitted and out-of-order segments are never dissected (4.0
//!   defaults), and a lost segment inside a record stalls that direction.
//! - **Handshake reassembly across records**, reported on the record that
//!   completes a message; a record holding only a fragment still has
//!   `tls.handshake` (no type). A handshake record that looks encrypted
//!   (`is_encrypted_handshake_message`: ≥ 16 bytes and a zero explicit nonce,
//!   a ChangeCipherSpec in an earlier frame of that direction, an unknown type
//!   or a length ≥ 64 KiB) is an "Encrypted Handshake Message": `tls.handshake`
//!   without a type.
//! - SSLv2 records never have `tls.handshake` (only `tls.handshake.type` of
//!   an SSLv2 ClientHello / ServerHello, as tshark fills it).
//!
//! **Memory**: per TLS conversation and direction, at most one incomplete
//! record (a record is < 64 KiB + 5 bytes) and one incomplete handshake
//! message, capped at 64 KiB (a larger message, e.g. a certificate chain over
//! 64 KiB, is abandoned and never reported: tshark would report it). Only
//! conversations that are TLS or may become TLS (an upgrade watch) are held,
//! and only while the tracker holds the stream (its `--max-streams` budget);
//! a FIN or RST frees that direction's buffers.

pub mod hello;
pub mod ja4;
pub mod ports;
pub mod upgrade;

pub use hello::HsMsg;

use crate::fields::PacketView;
use crate::filter::protocols::{tcp_payload, tcp_port_owner, tls_record};
use crate::track::analysis::flag;
use rustc_hash::FxHashMap;
use upgrade::{Step, Watch};

/// Cap of a handshake message being reassembled.
pub const MAX_HANDSHAKE: usize = 64 * 1024;

/// One TLS record of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    /// `tls.record.version`.
    pub version: u16,
    /// `tls.record.content_type` (`None`: SSLv2, or TLS 1.3 application data).
    pub content_type: Option<u8>,
    /// TLS 1.3 application data, which tshark shows as `tls.record.opaque_type`.
    pub opaque: bool,
}

/// What tshark's TLS dissector adds to one frame.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsFrame {
    pub records: Vec<Record>,
    /// `tls.handshake` is present (a message, a fragment or an encrypted one).
    pub handshake: bool,
    /// Complete handshake messages with a known type, in order.
    pub msgs: Vec<HsMsg>,
    /// Alert records: (level, description) when readable (2 bytes), else `None` (encrypted).
    pub alerts: Vec<Option<(u8, u8)>>,
}

impl TlsFrame {
    fn clear(&mut self) {
        self.records.clear();
        self.handshake = false;
        self.msgs.clear();
        self.alerts.clear();
    }
    fn is_empty(&self) -> bool {
        self.records.is_empty() && !self.handshake
    }
}

/// What a TLS conversation negotiated so far (the `hs.tls.*` fields).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsSummary {
    /// SNI of the first ClientHello.
    pub sni: Option<String>,
    /// JA4 of the first ClientHello.
    pub ja4: Option<String>,
    /// The first ServerHello that is not a HelloRetryRequest: its
    /// supported_version, else its handshake version; cipher suite; ALPN.
    pub version: Option<u16>,
    pub cipher: Option<u16>,
    pub alpn: Option<String>,
    /// Time and frame of the first ClientHello and that ServerHello.
    pub ch_ts: Option<i64>,
    pub ch_frame: Option<u64>,
    pub sh_ts: Option<i64>,
    pub sh_frame: Option<u64>,
    /// ClientHellos and ServerHellos seen (HelloRetryRequests included).
    pub client_hellos: u32,
    pub server_hellos: u32,
    pub hrr_frame: Option<u64>,
    /// What came after the hellos: the server's flight, Finished, first
    /// application data each way, the first alert (the set-up legs).
    pub times: crate::engine::legs::TlsTimes,
}

impl TlsSummary {
    fn update(&mut self, out: &TlsFrame, dir: u8, frame: u64, ts: i64) {
        if out.handshake {
            self.hellos(out, frame, ts); // SSLv2 hellos have no tls.handshake
        }
        if !out.is_empty() {
            let tls13 = self.version == Some(0x0304);
            self.times.update(self.sh_ts, tls13, out, dir, frame, ts);
        }
    }

    fn hellos(&mut self, out: &TlsFrame, frame: u64, ts: i64) {
        for m in &out.msgs {
            match m.ty {
                1 => {
                    self.client_hellos += 1;
                    if self.ch_frame.is_none() {
                        self.ch_frame = Some(frame);
                        self.ch_ts = Some(ts);
                        self.sni = m.sni.first().cloned();
                        self.ja4 = m.ja4.as_ref().map(|j| j.0.clone());
                    }
                }
                2 => {
                    self.server_hellos += 1;
                    if m.hrr {
                        self.hrr_frame.get_or_insert(frame);
                    } else if self.sh_frame.is_none() {
                        self.sh_frame = Some(frame);
                        self.sh_ts = Some(ts);
                        self.version = m.supported_versions.first().copied().or(m.version);
                        self.cipher = m.ciphers.first().copied();
                        self.alpn = m.alpn.first().cloned();
                    }
                }
                _ => {}
            }
        }
    }

    /// ClientHello to ServerHello.
    pub fn ch_to_sh(&self) -> Option<i64> {
        Some(self.sh_ts? - self.ch_ts?)
    }
}

/// Who decides what a conversation's bytes are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// TLS from here on (port, heuristic, upgrade).
    Tls,
    /// An application dissector that may hand over: the watch and its server port.
    Watch(Watch, u16),
    /// A tunnel to this port: its table, else the heuristic; `socks`: a SOCKS tunnel.
    Tunnel(u16, bool),
}

/// One direction of a TLS conversation.
#[derive(Debug, Default)]
struct Dir {
    /// An incomplete record, from its header.
    pending: Vec<u8>,
    /// Bytes still to skip: the rest of a record that lost a segment (it never
    /// completes; what follows it in the stream is dissected).
    skip: usize,
    /// Relative sequence number after the last segment dissected.
    nxt: Option<u32>,
    /// An incomplete handshake message (header included).
    hs: Option<Vec<u8>>,
    /// Frame of this direction's last ChangeCipherSpec (0: none).
    ccs_frame: u64,
}

#[derive(Debug)]
struct Stream {
    mode: Mode,
    /// The session version (`session->version`, 0 unknown) and TLS 1.3 draft number.
    version: u16,
    draft: u8,
    dirs: [Dir; 2],
    summary: TlsSummary,
}

impl Stream {
    fn new(mode: Mode) -> Stream {
        Stream {
            mode,
            version: 0,
            draft: 0,
            dirs: [Dir::default(), Dir::default()],
            summary: TlsSummary::default(),
        }
    }
}

/// The TLS state of every conversation, and the result for the last packet.
#[derive(Debug, Default)]
pub struct TlsState {
    /// Boxed: growing the map moves 16-byte entries, not 330-byte states
    /// (a rehash of 115k inline states stalled the interactive view for 40-70 ms).
    streams: FxHashMap<u32, Box<Stream>>,
    out: TlsFrame,
    /// The last packet started TLS in a SOCKS tunnel (see [`TlsState::new_conversation`]).
    new_conversation: bool,
    /// The last packet went to the TLS dissector.
    tls_segment: bool,
    /// Only streams whose first payload segment starts TLS (by port, a STARTTLS-style
    /// watch other than HTTP's, or the record heuristic) are followed: the reports' cheap mode.
    lite: bool,
}

/// What the ports say of a segment before any state.
enum First {
    Tls,
    Watch(Watch, u16),
    /// Owned by a dissector that never hands over.
    Never,
    /// Unclaimed: the heuristic decides.
    Heuristic,
}

fn first_look(p: &PacketView<'_>, payload: &[u8]) -> First {
    let record = tls_record(payload);
    let Some(t) = p.frame.tcp.as_ref() else {
        return First::Never;
    };
    let server = p.flow.and_then(|fl| fl.server()).map(|e| e.1);
    let (lo, hi) = (t.src_port.min(t.dst_port), t.src_port.max(t.dst_port));
    for port in [server, Some(lo), Some(hi)].into_iter().flatten() {
        let watch = |http| upgrade::watch_for(port, http).map(|w| First::Watch(w, port));
        if record && ports::rejects_tls(port) {
            // That dissector turns a TLS record down: the next port, then the heuristics.
            continue;
        }
        match tcp_port_owner(port) {
            Some((true, _)) => return First::Tls,
            Some((false, http)) => return watch(http).unwrap_or(First::Never),
            // MySQL, PostgreSQL and SOCKS are in tshark's table as "Other" too;
            // a port hs-tui's table lacks still gets its watch.
            None => {
                if let Some(w) = watch(false) {
                    return w;
                }
            }
        }
    }
    First::Heuristic
}

impl TlsState {
    pub fn new() -> TlsState {
        TlsState::default()
    }

    /// The reports' mode: a stream is TLS (or watched for an upgrade) only
    /// from its first payload segment on, so a TLS-free capture costs almost
    /// nothing (no state for streams that began otherwise).
    pub fn new_lite() -> TlsState {
        TlsState {
            lite: true,
            ..TlsState::default()
        }
    }

    /// What the last [`TlsState::observe`] found (`None`: no TLS in that frame).
    pub fn last(&self) -> Option<&TlsFrame> {
        (!self.out.is_empty()).then_some(&self.out)
    }

    /// Did the last packet start TLS inside a SOCKS tunnel? tshark then
    /// creates a conversation that uses up a `tcp.stream` number.
    pub fn new_conversation(&self) -> bool {
        self.new_conversation
    }

    /// Conversations held (TLS or watched for an upgrade).
    pub fn held(&self) -> usize {
        self.streams.len()
    }

    /// One packet in capture order.
    #[inline]
    pub fn observe(&mut self, p: &PacketView<'_>) {
        self.out.clear();
        self.new_conversation = false;
        self.tls_segment = false;
        if self.lite && self.streams.is_empty() && !first_payload(p) {
            return; // the reports' mode on a capture without TLS so far: nothing to do
        }
        self.observe_stream(p);
    }

    /// [`TlsState::observe`] past its cheap early exit (inlined into the engine's loop).
    fn observe_stream(&mut self, p: &PacketView<'_>) {
        let Some(m) = p.meta.filter(|m| m.analyzed) else {
            return;
        };
        let Some(t) = p.frame.tcp.as_ref() else {
            return;
        };
        let d = m.dir as usize;
        let Some(payload) = tcp_payload(p) else {
            use crate::decode::tcp::flags::{FIN, RST};
            if t.flags & (FIN | RST) != 0 {
                if let Some(s) = self.streams.get_mut(&m.stream) {
                    let dir = &mut s.dirs[d];
                    dir.pending = Vec::new();
                    dir.hs = None;
                }
            }
            return;
        };
        let lost = m.analysis.flags & flag::LOST_SEGMENT != 0;
        let s = match self.streams.get_mut(&m.stream) {
            Some(s) => s,
            None if self.lite && (!first_payload(p) || http_by_port(p)) => return,
            None => {
                let mode = match first_look(p, payload) {
                    First::Tls => Mode::Tls,
                    // The reports' mode leaves HTTP (CONNECT, Upgrade) alone: it is most traffic.
                    First::Watch(Watch::Http { .. }, _) if self.lite => return,
                    First::Watch(w, port) => Mode::Watch(w, port),
                    First::Never => return,
                    First::Heuristic if tls_record(payload) => Mode::Tls,
                    First::Heuristic => return,
                };
                self.streams
                    .entry(m.stream)
                    .or_insert_with(|| Box::new(Stream::new(mode)))
            }
        };
        let tls = match s.mode {
            Mode::Tls => true,
            Mode::Watch(_, port) if ports::rejects_tls(port) && tls_record(payload) => true,
            Mode::Watch(w, port) => {
                let (w, step) = upgrade::step(w, t.dst_port == port, payload);
                s.mode = match step {
                    Step::Stay => Mode::Watch(w, port),
                    Step::Tls => Mode::Tls,
                    Step::Tunnel(to) => Mode::Tunnel(to, port == 1080),
                };
                false
            }
            Mode::Tunnel(port, socks) => {
                let tls = match tcp_port_owner(port) {
                    Some((tls, _)) => tls,
                    None => tls_record(payload),
                };
                self.new_conversation = tls && socks;
                tls
            }
        };
        if !tls {
            if matches!(s.mode, Mode::Watch(Watch::Done, _)) {
                self.streams.remove(&m.stream);
            }
            return;
        }
        s.mode = Mode::Tls;
        self.tls_segment = true;
        let gap = match s.dirs[d].nxt {
            Some(n) if lost => (m.seq.wrapping_sub(n) as i32).max(0) as usize,
            _ => 0,
        };
        let reported = m.len.unwrap_or(payload.len() as u32);
        s.dirs[d].nxt = Some(m.seq.wrapping_add(reported));
        if (payload.len() as u32) < reported {
            // Cut short by the snapshot length: tshark cannot desegment it
            // and dissects the captured bytes alone (see `truncated_segment`).
            truncated_segment(
                s,
                d,
                payload,
                reported as usize,
                p.frame.number,
                &mut self.out,
            );
        } else {
            segment(s, d, payload, gap, p.frame.number, &mut self.out);
        }
        s.summary
            .update(&self.out, m.dir, p.frame.number, p.frame.ts_ns);
    }

    /// Drop a stream's state (the tracker retired it).
    pub fn forget(&mut self, stream: u32) {
        self.streams.remove(&stream);
    }

    /// Forget a stream, returning its summary when it saw a hello (as [`Self::summary`]).
    pub fn take(&mut self, stream: u32) -> Option<TlsSummary> {
        self.streams
            .remove(&stream)
            .map(|s| s.summary)
            .filter(|s| s.client_hellos + s.server_hellos > 0)
    }

    /// Did the last packet go to the TLS dissector?
    pub fn segment_was_tls(&self) -> bool {
        self.tls_segment
    }

    /// What this conversation negotiated so far, once it has a ClientHello or ServerHello.
    pub fn summary(&self, stream: u32) -> Option<&TlsSummary> {
        if self.streams.is_empty() {
            return None; // every packet of a capture without TLS asks: no hashing then
        }
        self.streams
            .get(&stream)
            .map(|s| &s.summary)
            .filter(|s| s.client_hellos + s.server_hellos > 0)
    }
}

/// Does the port table alone give this conversation to HTTP (what the reports'
/// mode leaves alone), without reading its payload (a cache miss per stream)?
/// Asked of every stream's first payload: each port's answer is worked out once.
fn http_by_port(p: &PacketView<'_>) -> bool {
    let Some(t) = p.frame.tcp.as_ref() else {
        return false;
    };
    let server = p.flow.and_then(|fl| fl.server()).map(|e| e.1);
    let (lo, hi) = (t.src_port.min(t.dst_port), t.src_port.max(t.dst_port));
    for port in [server, Some(lo), Some(hi)].into_iter().flatten() {
        if let Some(http) = port_decides_http(port) {
            return http;
        }
    }
    false
}

/// What one port says in [`http_by_port`]: `Some(true)` HTTP, `Some(false)` not
/// HTTP (TLS or another protocol may take it), `None` the port says nothing.
/// The port tables are fixed, so the answer is remembered per port (a byte each).
fn port_decides_http(port: u16) -> Option<bool> {
    use std::sync::atomic::{AtomicU8, Ordering};
    static DECIDED: [AtomicU8; 65536] = [const { AtomicU8::new(0) }; 65536];
    const NOTHING: u8 = 1;
    const NOT_HTTP: u8 = 2;
    const HTTP: u8 = 3;
    let slot = &DECIDED[port as usize];
    let known = match slot.load(Ordering::Relaxed) {
        0 => {
            let v = if ports::rejects_tls(port) {
                NOT_HTTP
            } else {
                match tcp_port_owner(port) {
                    Some((true, _)) => NOT_HTTP,
                    Some((false, http)) => {
                        if matches!(
                            upgrade::watch_for(port, http),
                            None | Some(Watch::Http { .. })
                        ) {
                            HTTP
                        } else {
                            NOT_HTTP
                        }
                    }
                    None if upgrade::watch_for(port, false).is_some() => NOT_HTTP,
                    None => NOTHING,
                }
            };
            slot.store(v, Ordering::Relaxed);
            v
        }
        v => v,
    };
    match known {
        HTTP => Some(true),
        NOT_HTTP => Some(false),
        _ => None,
    }
}

/// Is this the first segment with payload of its stream (or a segment without payload)?
fn first_payload(p: &PacketView<'_>) -> bool {
    let len = p.meta.and_then(|m| m.len).unwrap_or(0) as u64;
    p.flow.is_some_and(|f| f.payload[0] + f.payload[1] <= len)
}

/// Valid record content types (`ssl_is_valid_content_type`).
fn valid_content_type(c: u8) -> bool {
    (20..=25).contains(&c)
}

/// `ssl_looks_like_sslv3`: a content type and a known record version.
fn looks_like_v3(b: &[u8]) -> bool {
    b.len() >= 3
        && valid_content_type(b[0])
        && matches!(u16::from_be_bytes([b[1], b[2]]), 0x0300..=0x0303 | 0x0101)
}

/// An SSLv2 record: 2-byte header with the high bit, then a ClientHello (1),
/// ClientMasterKey (2) or ServerHello (4) with an SSL/TLS version.
fn looks_like_v2(b: &[u8]) -> Option<(usize, u8)> {
    if b.len() < 5 || b[0] & 0x80 == 0 {
        return None;
    }
    let len = (((b[0] & 0x7f) as usize) << 8 | b[1] as usize) + 2;
    let ty = b[2];
    let version = match ty {
        1 => u16::from_be_bytes([b[3], b[4]]),
        4 => u16::from_be_bytes([*b.get(5)?, *b.get(6)?]),
        2 => 0x0002,
        _ => return None,
    };
    matches!(version, 0x0002 | 0x0300..=0x0303).then_some((len, ty))
}

/// Bytes a pending record still needs (0: only a header is pending, its length unknown).
fn record_need(pending: &[u8]) -> usize {
    if pending.len() < 5 {
        return 0;
    }
    (5 + u16::from_be_bytes([pending[3], pending[4]]) as usize).saturating_sub(pending.len())
}

/// The bytes of one segment in one direction; `gap`: bytes lost before it.
fn segment(s: &mut Stream, d: usize, payload: &[u8], gap: usize, frame: u64, out: &mut TlsFrame) {
    let dir = &mut s.dirs[d];
    let mut payload = payload;
    if gap > 0 {
        // tshark's reassembly of the pending record cannot complete; bytes of
        // this segment past the record's end are dissected afresh.
        let need = record_need(&dir.pending) + dir.skip;
        dir.skip = need.saturating_sub(gap);
        dir.pending = Vec::new();
    }
    if dir.skip > 0 {
        let n = dir.skip.min(payload.len());
        dir.skip -= n;
        payload = &payload[n..];
    }
    let joined;
    let data: &[u8] = if dir.pending.is_empty() {
        payload
    } else {
        let mut b = std::mem::take(&mut dir.pending);
        b.extend_from_slice(payload);
        joined = b;
        &joined
    };
    let mut pos = 0;
    while pos < data.len() {
        let rest = &data[pos..];
        if rest.len() < 5 {
            // A split header: wait for one more segment if it may be a record.
            if valid_content_type(rest[0]) {
                s.dirs[d].pending = rest.to_vec();
            }
            return;
        }
        if starts_v3_record(s, rest) {
            let len = u16::from_be_bytes([rest[3], rest[4]]) as usize;
            if rest.len() < 5 + len {
                s.dirs[d].pending = rest.to_vec();
                return;
            }
            let version = u16::from_be_bytes([rest[1], rest[2]]);
            record(s, d, rest[0], version, &rest[5..5 + len], frame, out);
            pos += 5 + len;
        } else if s.version == 0x0002 || looks_like_v2(rest).is_some() {
            // An SSLv2 record: 2-byte header (high bit) or 3-byte (padding).
            let (hdr, len) = if rest[0] & 0x80 != 0 {
                (2, ((rest[0] & 0x7f) as usize) << 8 | rest[1] as usize)
            } else {
                (3, ((rest[0] & 0x3f) as usize) << 8 | rest[1] as usize)
            };
            if rest.len() < hdr + len {
                s.dirs[d].pending = rest.to_vec();
                return;
            }
            v2_record(s, &rest[hdr..hdr + len], out);
            pos += hdr + len;
        } else {
            // "Continuation Data" / "Ignored Unknown Record": the rest of the segment.
            return;
        }
    }
}

/// Does `rest` (5 bytes at least) start an SSLv3/TLS record, as tshark decides it: a
/// content type once the stream's version is known, else a plausible header; but not an
/// SSLv2 ClientHello, which a client may send after the version is known.
fn starts_v3_record(s: &Stream, rest: &[u8]) -> bool {
    let known = s.version != 0 && s.version != 0x0002;
    (known && valid_content_type(rest[0]) || looks_like_v3(rest))
        && !(known && is_v2_client_hello(rest))
}

/// A segment whose bytes the capture cut short (`frame.cap_len` below the
/// packet's length). TCP cannot desegment it, so tshark hands the TLS
/// dissector these bytes alone, leaving any reassembly in progress as it
/// was (`reported`: the segment's length on the wire). Whole records are
/// dissected. A record that runs past the segment is passed over in
/// silence (it cannot be reassembled); one that ends inside the segment but
/// past the captured bytes shows its header (content type, version,
/// length) and ends the frame ("[Packet size limited during capture]").
/// Its handshake messages are dissected as far as captured only in TLS 1.3:
/// before that, tshark first copies the whole message for the handshake
/// hash, which fails on the missing bytes.
fn truncated_segment(
    s: &mut Stream,
    d: usize,
    payload: &[u8],
    reported: usize,
    frame: u64,
    out: &mut TlsFrame,
) {
    let mut pos = 0;
    while payload.len() - pos >= 5 {
        let rest = &payload[pos..];
        if !starts_v3_record(s, rest) {
            return; // SSLv2 or continuation data: nothing tshark shows a field of
        }
        let len = u16::from_be_bytes([rest[3], rest[4]]) as usize;
        let version = u16::from_be_bytes([rest[1], rest[2]]);
        if rest.len() < 5 + len {
            if pos + 5 + len > reported {
                return; // passed over: it could only be reassembled
            }
            // Read before the exception: the byte after the header is captured.
            if let Some(&next) = rest.get(5) {
                try_set_version(s, rest[0], Some(next), version);
            }
            out.records.push(Record {
                version,
                content_type: Some(rest[0]),
                opaque: false,
            });
            if rest[0] == 22 && s.version == 0x0304 {
                partial_handshake(s, d, &rest[5..], frame, out);
            }
            return;
        }
        record(s, d, rest[0], version, &rest[5..5 + len], frame, out);
        pos += 5 + len;
    }
}

/// The captured start of a TLS 1.3 handshake record cut short: whole
/// messages, then the fields of the last one as far as its bytes go.
fn partial_handshake(s: &mut Stream, d: usize, body: &[u8], frame: u64, out: &mut TlsFrame) {
    out.handshake = true;
    if looks_encrypted(body, s.dirs[d].ccs_frame, frame) {
        return;
    }
    let (mut off, mut first) = (0, true);
    while body.len() - off >= 4 {
        let end = (off + msg_len(&body[off..])).min(body.len());
        full(s, &body[off..end], first, out);
        off = end;
        first = false;
    }
}

/// An SSLv2 record (`dissect_ssl2_record`): `tls.record.version` 0x0002;
/// a cleartext ClientHello (1), ClientMasterKey (2) or ServerHello (4) gives
/// `tls.handshake.type` and its fields, but never `tls.handshake`.
fn v2_record(s: &mut Stream, body: &[u8], out: &mut TlsFrame) {
    out.records.push(Record {
        version: 0x0002,
        content_type: None,
        opaque: false,
    });
    let Some(&ty) = body.first() else { return };
    if s.version == 0 && (2..=8).contains(&ty) {
        s.version = 0x0002;
    }
    let be16 = |i: usize| body.get(i..i + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let valid_version = |v: Option<u16>| matches!(v, Some(0x0002 | 0x0300..=0x0304));
    let mut m = HsMsg {
        ty,
        ..HsMsg::default()
    };
    match ty {
        1 if valid_version(be16(1)) => {
            m.version = be16(1);
            m.session_id_len = be16(5).map(|n| n as u8);
        }
        4 if valid_version(be16(3)) => {
            m.version = be16(3);
            m.cert_lengths.extend(be16(5).map(u32::from));
        }
        2 if [4, 6, 8]
            .iter()
            .map(|&i| be16(i).map(usize::from))
            .sum::<Option<usize>>()
            .is_some_and(|n| n <= body.len()) => {}
        _ => return,
    }
    out.msgs.push(m);
}

/// `ssl_is_v2_client_hello`: an SSLv2 ClientHello even once the version is known.
fn is_v2_client_hello(b: &[u8]) -> bool {
    b.len() >= 5 && b[0] & 0x80 != 0 && b[2] == 1 && looks_like_v2(b).is_some()
}

/// `tls_try_get_version`: a record or hello version as a session version and draft.
fn session_version(v: u16) -> Option<(u16, u8)> {
    match v {
        0x0300..=0x0304 => Some((v, 0)),
        0x7f00..=0x7fff => Some((0x0304, (v & 0xff) as u8)),
        0x7e01 | 0x7e02 => Some((0x0304, if v == 0x7e01 { 26 } else { 28 })),
        _ => None,
    }
}

fn set_version(s: &mut Stream, v: u16) {
    if let Some((v, draft)) = session_version(v) {
        s.version = v;
        s.draft = draft;
    }
}

/// `ssl_try_set_version`: a conversation without a version takes the record's
/// when the record is authoritative (anything but a ClientHello); `next` is
/// the body's first byte.
fn try_set_version(s: &mut Stream, ct: u8, next: Option<u8>, version: u16) {
    if s.version != 0 {
        return;
    }
    let authoritative = match ct {
        20 | 21 | 23 => true,
        22 => next.is_some_and(|t| t != 1 && hello::known_type(t)),
        _ => false,
    };
    if authoritative {
        set_version(s, version);
    }
}

fn record(
    s: &mut Stream,
    d: usize,
    ct: u8,
    version: u16,
    body: &[u8],
    frame: u64,
    out: &mut TlsFrame,
) {
    try_set_version(s, ct, body.first().copied(), version);
    let opaque = s.version == 0x0304 && ct == 23;
    out.records.push(Record {
        version,
        content_type: (!opaque).then_some(ct),
        opaque,
    });
    match ct {
        // A TLS 1.3 CCS is a dummy: tshark leaves the direction's state alone.
        20 if s.version != 0x0304 => s.dirs[d].ccs_frame = frame,
        21 => out
            .alerts
            .push((body.len() == 2).then(|| (body[0], body[1]))),
        22 => handshake(s, d, body, frame, out),
        _ => {}
    }
}

/// `is_encrypted_handshake_message` for a record that starts no reassembly.
fn looks_encrypted(body: &[u8], ccs_frame: u64, frame: u64) -> bool {
    if body.len() < 16 {
        return false;
    }
    if body[..5] == [0; 5] || ccs_frame != 0 && frame > ccs_frame {
        return true;
    }
    !hello::known_type(body[0]) || u32::from_be_bytes([0, body[1], body[2], body[3]]) >= 0x1_0000
}

fn msg_len(h: &[u8]) -> usize {
    4 + u32::from_be_bytes([0, h[1], h[2], h[3]]) as usize
}

/// One handshake record (`dissect_tls_handshake`).
fn handshake(s: &mut Stream, d: usize, body: &[u8], frame: u64, out: &mut TlsFrame) {
    let mut off = 0;
    let mut first = true;
    if let Some(mut buf) = s.dirs[d].hs.take() {
        // Continue the message in reassembly.
        let have = buf.len();
        let mut take = body.len();
        let mut need = 0;
        if have + body.len() >= 4 {
            let mut head = [0u8; 4];
            for (h, &b) in head.iter_mut().zip(buf.iter().chain(body)) {
                *h = b;
            }
            need = msg_len(&head);
            take = take.min(need - have);
        }
        buf.extend_from_slice(&body[..take]);
        out.handshake = true;
        if need == 0 || buf.len() < need {
            if buf.len() <= MAX_HANDSHAKE {
                s.dirs[d].hs = Some(buf);
            }
            return;
        }
        full(s, &buf, true, out);
        off = take;
        first = false;
    } else if looks_encrypted(body, s.dirs[d].ccs_frame, frame) {
        out.handshake = true;
        return;
    }
    while off < body.len() {
        let rest = &body[off..];
        let len = if rest.len() >= 4 { msg_len(rest) } else { 0 };
        if len == 0 || rest.len() < len {
            out.handshake = true;
            if len <= MAX_HANDSHAKE {
                s.dirs[d].hs = Some(rest.to_vec());
            }
            return;
        }
        full(s, &rest[..len], first, out);
        off += len;
        first = false;
    }
}

/// One complete message, header included (`dissect_tls_handshake_full`).
fn full(s: &mut Stream, msg: &[u8], first: bool, out: &mut TlsFrame) {
    let ty = msg[0];
    let known = hello::known_type(ty);
    if !known && !first {
        return;
    }
    out.handshake = true;
    if !known {
        return;
    }
    let body = &msg[4..];
    if first && ty == 2 && body.len() > 2 {
        let (v, _) = hello::scan_server_hello(body);
        set_version(s, v);
    }
    let tls13 = s.version == 0x0304;
    let draft_lt22 = tls13 && s.draft > 0 && s.draft < 22;
    out.msgs.push(hello::parse(ty, body, tls13, draft_lt22));
}

#[cfg(test)]
mod tests;
