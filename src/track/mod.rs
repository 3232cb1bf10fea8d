//! The stream tracker: Wireshark's `tcp.stream` numbering, relative
//! sequence numbers, `tcp.completeness`, window scaling, initial RTT and the
//! per-segment analysis, all one-pass as tshark 4.0.17 computes them
//! (SEMANTICS.md §1–§5), plus hs-tui's handshake record and Zeek's conn_state.
//!
//! Time is an argument (each frame's timestamp), never read from a clock, so
//! results are deterministic and live capture equals reading the saved file.
//!
//! Memory is bounded by `Budget`: streams beyond `max_streams` are retired
//! oldest-idle-first into a compact `FlowSummary`. A retired four-tuple that
//! shows up again starts a new stream index, which is where numbering departs
//! from Wireshark (which never forgets); with the default budget no capture
//! under a million concurrent connections is affected.

pub mod alarms;
pub mod analysis;
pub mod handshake;
mod pack;
pub mod seq;
mod table;
pub mod zeek;

use crate::decode::tcp::flags as fl;
use crate::decode::Frame;
pub use analysis::Findings;
use analysis::{flag, FlowAnalysis, Segment};
pub use handshake::{Handshake, HsState, Phase};
use std::net::IpAddr;
use table::Table;
pub use zeek::ZeekConn;

/// Completeness bits (§4).
pub mod completeness {
    pub const SYN: u8 = 1;
    pub const SYNACK: u8 = 2;
    pub const ACK: u8 = 4;
    pub const DATA: u8 = 8;
    pub const FIN: u8 = 16;
    pub const RST: u8 = 32;
}

/// Memory budgets for the tracker (documented in the README).
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Streams kept with full analysis state. Beyond this, the least recently
    /// seen quarter is retired into summaries.
    pub max_streams: usize,
    /// Retire streams idle for longer than this (nanoseconds); 0 = never (Wireshark's rule).
    pub idle_timeout_ns: i64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            max_streams: 150_000,
            idle_timeout_ns: 0,
        }
    }
}

/// An endpoint: address and port. Prints as `addr:port`, with brackets
/// around an IPv6 address (`[::1]:443`), everywhere hs-tui shows one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint(pub IpAddr, pub u16);

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            IpAddr::V4(a) => f.pad(V4Text::with_port(a, self.1).as_str()),
            IpAddr::V6(a) => write!(f, "[{a}]:{}", self.1),
        }
    }
}

impl Endpoint {
    /// `addr:port` handed to `out`, IPv4 without allocating (an IPv6 text is written into
    /// `scratch`): IPv6 in brackets when `brackets` (as `Display` writes it), or bare, as
    /// tshark's conversation tables print it.
    pub fn text<R>(&self, brackets: bool, scratch: &mut String, out: impl FnOnce(&str) -> R) -> R {
        use std::fmt::Write;
        match self.0 {
            IpAddr::V4(a) => out(V4Text::with_port(a, self.1).as_str()),
            IpAddr::V6(a) => {
                scratch.clear();
                let _ = match brackets {
                    true => write!(scratch, "[{a}]:{}", self.1),
                    false => write!(scratch, "{a}:{}", self.1),
                };
                out(scratch)
            }
        }
    }
}

/// `a.b.c.d` or `a.b.c.d:port`, formatted into a buffer of its own: the formatter's
/// machinery costs more than the rest of a row where millions are written (the export's
/// addresses and endpoints).
pub struct V4Text {
    buf: [u8; 21],
    len: u8,
}

impl V4Text {
    pub fn new(a: std::net::Ipv4Addr) -> V4Text {
        let mut out = V4Text {
            buf: [0; 21],
            len: 0,
        };
        let mut n = itoa::Buffer::new();
        for (i, o) in a.octets().iter().enumerate() {
            if i > 0 {
                out.push(b".");
            }
            out.push(n.format(*o).as_bytes());
        }
        out
    }
    pub fn with_port(a: std::net::Ipv4Addr, port: u16) -> V4Text {
        let mut out = V4Text::new(a);
        out.push(b":");
        out.push(itoa::Buffer::new().format(port).as_bytes());
        out
    }
    fn push(&mut self, s: &[u8]) {
        let at = self.len as usize;
        // At most 15 + 1 + 5 bytes: it always fits.
        if let Some(dst) = self.buf.get_mut(at..at + s.len()) {
            dst.copy_from_slice(s);
            self.len += s.len() as u8;
        }
    }
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len as usize]).unwrap_or("")
    }
}

/// Unordered endpoint pair: both directions map to one key. Addresses are
/// kept as integers (IPv4 mapped into IPv6 space), 8-byte aligned, so a
/// table slot stays small (40-byte key + boxed value).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ConnKey {
    lo: [u64; 2],
    hi: [u64; 2],
    lo_port: u16,
    hi_port: u16,
}

/// Every word of the key, once: the derive would hash each array as a slice
/// (a length, then a byte-string write), which costs twice as much per packet.
impl std::hash::Hash for ConnKey {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        h.write_u64(self.lo[0]);
        h.write_u64(self.lo[1]);
        h.write_u64(self.hi[0]);
        h.write_u64(self.hi[1]);
        h.write_u32((self.lo_port as u32) << 16 | self.hi_port as u32);
    }
}

fn addr_bits(a: IpAddr) -> [u64; 2] {
    let v = match a {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    };
    [(v >> 64) as u64, v as u64]
}

/// The hash the stream table files a frame's four-tuple under, or 0 when the
/// frame has no TCP header to track. The capture thread computes it, so the
/// packet loop can prefetch (`Tracker::prefetch_slot`).
pub fn flow_hash(f: &Frame) -> u64 {
    match (f.tcp.as_ref(), f.tcp_ip()) {
        (Some(t), Some(ip)) if t.has_fixed => table::hash_key(&ConnKey::new(
            Endpoint(ip.src, t.src_port),
            Endpoint(ip.dst, t.dst_port),
        )),
        _ => 0,
    }
}

impl ConnKey {
    fn new(a: Endpoint, b: Endpoint) -> ConnKey {
        let (a, b) = ((addr_bits(a.0), a.1), (addr_bits(b.0), b.1));
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        ConnKey {
            lo: lo.0,
            hi: hi.0,
            lo_port: lo.1,
            hi_port: hi.1,
        }
    }
}

/// The hash a stream is filed under (see [`Tracker::live_summary`]).
pub fn summary_hash(s: &FlowSummary) -> u64 {
    table::hash_key(&ConnKey::new(s.a, s.b))
}

/// Per-packet results of the tracker: every TCP field that depends on state.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TcpMeta {
    pub stream: u32,
    /// 0 when sent by endpoint A (the stream's first source), else 1.
    pub dir: u8,
    /// Seq/ack analysis ran (the segment length is known); otherwise the
    /// numbers are raw (ICMP-quoted header, header past the IP payload).
    pub analyzed: bool,
    /// Displayed `tcp.seq` / `tcp.ack` (relative when `analyzed`).
    pub seq: u32,
    pub ack: u32,
    pub nxtseq: Option<u32>,
    pub len: Option<u32>,
    /// One-pass `tcp.completeness`: the value before this frame (§4).
    pub completeness: u8,
    /// `tcp.window_size` and `tcp.window_size_scalefactor` (absent on SYNs).
    pub window: u32,
    pub scalefactor: Option<i32>,
    pub time_rel_ns: i64,
    pub time_delta_ns: i64,
    pub analysis: Findings,
    /// The frame has a "SEQ/ACK analysis" subtree (which is where iRTT shows, §3.4).
    pub has_tree: bool,
    pub irtt_ns: Option<i64>,
    /// The base of the other direction, for relative SACK edges.
    pub rev_base: u32,
    pub phase: Phase,
    /// The sender is the client (the SYN's sender), when known.
    pub from_client: Option<bool>,
    pub hs_state: HsState,
}

/// Everything kept about a stream once its packets are gone: the flows
/// table, `-z conv,tcp`, the handshake report and flow-level filter fields.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowSummary {
    pub stream: u32,
    /// A is the source of the stream's first frame.
    pub a: Endpoint,
    pub b: Endpoint,
    pub first_frame: u64,
    pub last_frame: u64,
    pub first_ts: i64,
    pub last_ts: i64,
    /// Frames, frame bytes (`frame.len`) and payload bytes, A->B and B->A.
    pub frames: [u64; 2],
    pub bytes: [u64; 2],
    pub payload: [u64; 2],
    pub syn: u32,
    pub synack: u32,
    pub fin: u32,
    pub rst: u32,
    /// Accumulated completeness (one pass).
    pub completeness: u8,
    /// What Wireshark's second pass adds: the stream's first frame re-counted
    /// with the later-frame rules (§4; zeek-tcp-missing-syn ends at 30, not 28).
    pub first_frame_bits: u8,
    pub irtt_ns: Option<i64>,
    pub hs: Handshake,
    pub zeek: ZeekConn,
    /// Counts of analysis findings.
    pub retransmissions: u32,
    pub dup_acks: u32,
    pub lost_segments: u32,
    pub zero_windows: u32,
    /// Frames counted by `-z conv,tcp` exclude ICMP-quoted headers.
    pub conv_frames: [u64; 2],
    pub conv_bytes: [u64; 2],
    /// Options each side offered on its SYN: MSS, window shift, SACK permitted, timestamps.
    pub syn_opts: [SynOptions; 2],
    pub ecn: bool,
    /// Who sent the first FIN (Wireshark's `closing_initiator`): 0 nobody yet, 1 A, 2 B.
    pub closing: u8,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SynOptions {
    pub seen: bool,
    pub mss: Option<u16>,
    pub wscale: Option<u8>,
    pub sack_perm: bool,
    pub timestamps: bool,
    pub tfo: bool,
}

impl FlowSummary {
    pub fn client(&self) -> Option<Endpoint> {
        self.hs.client.map(|d| if d == 0 { self.a } else { self.b })
    }
    pub fn server(&self) -> Option<Endpoint> {
        self.hs.client.map(|d| if d == 0 { self.b } else { self.a })
    }
    /// Client and server, falling back to "higher port is the client" when no handshake was seen.
    pub fn client_server(&self) -> (Endpoint, Endpoint) {
        match self.hs.client {
            Some(0) => (self.a, self.b),
            Some(_) => (self.b, self.a),
            None if self.a.1 >= self.b.1 => (self.a, self.b),
            None => (self.b, self.a),
        }
    }
    /// The initial RTT of a completed three-way handshake (what the flows
    /// table and the status bar show as iRTT). A refused or reset attempt
    /// has none: its SYN→RST time is `hs.syn_to_rst()`.
    pub fn handshake_rtt(&self) -> Option<i64> {
        self.irtt_ns.filter(|_| self.hs.ack_ts.is_some())
    }
    pub fn total_frames(&self) -> u64 {
        self.frames[0] + self.frames[1]
    }
    pub fn total_bytes(&self) -> u64 {
        self.bytes[0] + self.bytes[1]
    }
    /// The completeness Wireshark's GUI (two passes) shows on the stream's
    /// latest frame: the first frame's re-count appears from the second frame on.
    pub fn final_completeness(&self) -> u8 {
        if self.total_frames() > 1 {
            self.completeness | self.first_frame_bits
        } else {
            self.completeness
        }
    }
    pub fn duration_ns(&self) -> i64 {
        self.last_ts - self.first_ts
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Direction {
    base: Option<u32>,
}

/// Bytes the tracker holds per stream it follows (for memory budgets).
pub const STREAM_BYTES: usize = std::mem::size_of::<Stream>();

struct Stream {
    /// The table's key and its hash (first: a lookup compares the key).
    key: ConnKey,
    hash: u64,
    sum: FlowSummary,
    dirs: [Direction; 2],
    flows: [FlowAnalysis; 2],
    ts_prev: i64,
    ts_mru_syn: i64,
    /// 0 = not known yet (Wireshark's nstime_is_zero).
    first_rtt: i64,
}

impl Stream {
    fn new(key: ConnKey, hash: u64, index: u32, a: Endpoint, b: Endpoint, f: &Frame) -> Stream {
        Stream {
            key,
            hash,
            sum: FlowSummary {
                stream: index,
                a,
                b,
                first_frame: f.number,
                last_frame: f.number,
                first_ts: f.ts_ns,
                last_ts: f.ts_ns,
                frames: [0; 2],
                bytes: [0; 2],
                payload: [0; 2],
                syn: 0,
                synack: 0,
                fin: 0,
                rst: 0,
                completeness: 0,
                first_frame_bits: 0,
                irtt_ns: None,
                hs: Handshake::default(),
                zeek: ZeekConn::default(),
                retransmissions: 0,
                dup_acks: 0,
                lost_segments: 0,
                zero_windows: 0,
                conv_frames: [0; 2],
                conv_bytes: [0; 2],
                syn_opts: [SynOptions::default(); 2],
                ecn: false,
                closing: 0,
            },
            dirs: [Direction::default(); 2],
            flows: [FlowAnalysis::default(), FlowAnalysis::default()],
            ts_prev: f.ts_ns,
            ts_mru_syn: 0,
            first_rtt: 0,
        }
    }
}

/// Totals across all streams, for the status bar and the summary.
#[derive(Clone, Copy, Debug, Default)]
pub struct Totals {
    pub streams: u64,
    pub tcp_frames: u64,
    pub retired: u64,
    pub live_streams: u64,
}

pub struct Tracker {
    streams: Table,
    next_index: u32,
    budget: Budget,
    retired: Vec<FlowSummary>,
    /// Without summaries (`keep_retired_summaries(false)`): only the
    /// indexes of the streams retired since the last `take_retired_streams`.
    retired_ids: Vec<u32>,
    keep_summaries: bool,
    totals: Totals,
    last_ts: i64,
    sweeps_ts: i64,
    analyze: bool,
    /// The next new stream began by port reuse (see `start_as_reused`).
    replay_reused: bool,
    /// The last frame's results (see `process`).
    meta: TcpMeta,
}

impl Default for Tracker {
    fn default() -> Self {
        Tracker::new(Budget::default())
    }
}

impl Tracker {
    pub fn new(budget: Budget) -> Tracker {
        Tracker {
            streams: Table::new(),
            next_index: 0,
            budget,
            retired: Vec::new(),
            retired_ids: Vec::new(),
            keep_summaries: true,
            totals: Totals::default(),
            last_ts: 0,
            sweeps_ts: 0,
            analyze: true,
            replay_reused: false,
            meta: TcpMeta::default(),
        }
    }

    /// Replaying one stream on its own (the TUI re-derives a stream's
    /// results from the file): the stream began when a SYN with a new ISN
    /// reused a known four-tuple, so its first frame must be treated as
    /// that SYN was in the full run (not a new conversation; flagged
    /// `tcp.analysis.reused_ports`).
    pub fn start_as_reused(&mut self) {
        self.replay_reused = true;
    }

    /// Wireshark's `tcp.analyze_sequence_numbers`: off leaves relative numbers
    /// and handshakes, without the `tcp.analysis.*` findings.
    /// Use up one stream index: tshark's SOCKS tunnel makes a conversation of
    /// its own when the tunnelled protocol is first dissected, and that
    /// conversation takes the next `tcp.stream` number.
    pub fn skip_index(&mut self) {
        self.next_index = self.next_index.wrapping_add(1);
    }

    /// Room for `n` streams up front (see `Table::reserve`).
    pub fn reserve_streams(&mut self, n: usize) {
        self.streams.reserve(n);
    }

    pub fn set_analysis(&mut self, on: bool) {
        self.analyze = on;
    }

    pub fn totals(&self) -> Totals {
        Totals {
            live_streams: self.streams.len() as u64,
            ..self.totals
        }
    }

    /// Summaries of streams retired since the last call (port reuse, budget, idle timeout).
    pub fn take_retired(&mut self) -> Vec<FlowSummary> {
        std::mem::take(&mut self.retired)
    }

    /// Whether any retired summaries (or, without summaries, indexes) are waiting.
    pub fn has_retired(&self) -> bool {
        !self.retired.is_empty() || !self.retired_ids.is_empty()
    }

    /// Off: a retired stream leaves only its index (`take_retired_streams`),
    /// for a caller that keeps every summary itself (the interactive view):
    /// a budget sweep then copies no summary.
    pub fn keep_retired_summaries(&mut self, on: bool) {
        self.keep_summaries = on;
    }

    /// Indexes of the streams retired since the last call, without summaries
    /// (see `keep_retired_summaries`).
    pub fn take_retired_streams(&mut self) -> Vec<u32> {
        std::mem::take(&mut self.retired_ids)
    }

    /// Whether a budget sweep may come within the next `packets` packets
    /// (each may start a stream), so an interactive caller can begin a turn
    /// with it instead of ending one with it.
    pub fn sweep_near(&self, packets: usize) -> bool {
        self.streams.len() + packets > self.budget.max_streams
    }

    /// The summary of stream `stream` while the tracker still holds it;
    /// `hash` is its four-tuple's ([`summary_hash`]).
    pub fn live_summary(&self, hash: u64, stream: u32) -> Option<&FlowSummary> {
        self.streams.find_stream(hash, stream).map(|s| &s.sum)
    }

    /// Every stream's summary, retired ones first, then the live ones in order of creation.
    pub fn summaries(&self) -> impl Iterator<Item = &FlowSummary> {
        self.retired
            .iter()
            .chain(self.streams.iter().map(|s| &s.sum))
    }

    /// Retire everything (end of capture) and return all summaries not yet taken.
    pub fn finish(&mut self) -> Vec<FlowSummary> {
        let mut out = std::mem::take(&mut self.retired);
        out.extend(self.streams.iter().map(|s| s.sum.clone()));
        self.streams = Table::new();
        out
    }

    /// Warm the caches for a frame `process` will see in a few packets: its
    /// table slot (call this some packets ahead) ...
    #[inline]
    pub fn prefetch_slot(&self, f: &Frame) {
        if f.flow_hash != 0 {
            self.streams.prefetch_slot(f.flow_hash);
        }
    }

    /// ... then its stream (fewer packets ahead, once the slot is in cache).
    /// Neither changes anything; both only hide memory latency.
    #[inline]
    pub fn prefetch_stream(&self, f: &Frame) {
        if f.flow_hash != 0 {
            self.streams.prefetch_stream(f.flow_hash);
        }
    }

    /// Keep the table within budget: drop the least recently seen quarter
    /// (amortised O(1) per packet), and anything idle past the timeout.
    fn enforce_budget(&mut self, now: i64) {
        let over = self.streams.len() > self.budget.max_streams;
        let idle_due = self.budget.idle_timeout_ns > 0
            && now - self.sweeps_ts > self.budget.idle_timeout_ns / 4;
        if !over && !idle_due {
            return;
        }
        self.sweeps_ts = now;
        let mut cutoff = if self.budget.idle_timeout_ns > 0 {
            now - self.budget.idle_timeout_ns
        } else {
            i64::MIN
        };
        // Each stream's last time from the table's side array, then only the retired ones are read.
        let seen = self.streams.scan_seen();
        if over {
            let mut last: Vec<i64> = seen.iter().map(|e| e.2).collect();
            let k = last.len() / 4;
            let (_, nth, _) = last.select_nth_unstable(k);
            cutoff = cutoff.max(*nth);
        }
        let (mut kept, mut gone) = (Vec::with_capacity(seen.len()), Vec::new());
        if self.keep_summaries {
            let n = seen.iter().filter(|e| e.2 <= cutoff).count();
            self.retired.reserve(n);
        }
        for &(idx, hash, last_ts) in &seen {
            if last_ts <= cutoff {
                if self.keep_summaries {
                    self.retired.push(self.streams.get(idx).sum.clone());
                } else {
                    self.retired_ids.push(self.streams.get(idx).sum.stream);
                }
                gone.push(idx);
            } else {
                kept.push((idx, hash));
            }
        }
        let n = gone.len() as u64;
        self.streams.keep_only(&kept, gone.into_iter());
        self.totals.retired += n;
    }

    /// Track one frame. Returns `None` for frames without a TCP header that
    /// reaches Wireshark's conversation lookup (fewer than 16 header bytes).
    /// The results live in the tracker until the next call: built in place,
    /// not moved (a 190-byte copy per packet shows in profiles).
    pub fn process(&mut self, f: &Frame) -> Option<(&TcpMeta, &FlowSummary)> {
        let tcp = f.tcp.as_ref()?;
        if !tcp.has_fixed {
            return None;
        }
        let ip = f.tcp_ip()?;
        let now = f.ts_ns;
        if now > self.last_ts {
            self.last_ts = now;
        }
        self.totals.tcp_frames += 1;
        let src = Endpoint(ip.src, tcp.src_port);
        let dst = Endpoint(ip.dst, tcp.dst_port);
        let key = ConnKey::new(src, dst);
        // The capture thread usually hashed the four-tuple already (see `flow_hash`).
        let hash = if f.flow_hash != 0 {
            f.flow_hash
        } else {
            table::hash_key(&key)
        };
        let syn = tcp.syn();
        let ackf = tcp.ack_flag();
        let pure_syn = syn && !ackf;

        // Conversation lookup (§1). `is_new` is Wireshark's `conversation_is_new`:
        // the only way the completeness rule knows it sees the first frame.
        // Budget first (it may retire streams), then exactly one table lookup per packet.
        self.enforce_budget(now);
        let analyze = self.analyze;
        let Tracker {
            streams,
            next_index,
            retired,
            retired_ids,
            keep_summaries,
            totals,
            meta,
            replay_reused,
            ..
        } = self;
        let mut new_stream = || {
            let index = *next_index;
            *next_index = next_index.wrapping_add(1);
            totals.streams += 1;
            Stream::new(key, hash, index, src, dst, f)
        };
        let mut is_new = false;
        let mut reused = false;
        let st: &mut Stream = match streams.find(hash, &key) {
            Err(at) => {
                let idx = streams.insert(at, new_stream());
                let st = streams.get_mut(idx);
                if std::mem::take(replay_reused) && pure_syn {
                    reused = true;
                    st.sum.completeness = completeness::SYN;
                } else {
                    is_new = true;
                }
                st
            }
            Ok(idx) => {
                // Every frame that reaches the lookup sets `sum.last_ts` (below).
                streams.touch(idx, now);
                let st = streams.get_mut(idx);
                let d = (st.sum.a != src) as usize;
                // Port reuse: a pure SYN whose seq differs from a known base starts a new stream.
                // A same-ISN SYN stays (a retransmission in 4.0.17), resetting nextseq.
                if pure_syn {
                    if let Some(base) = st.dirs[d].base {
                        if tcp.seq != base {
                            reused = true;
                            let old = std::mem::replace(st, new_stream());
                            if *keep_summaries {
                                retired.push(old.sum);
                            } else {
                                retired_ids.push(old.sum.stream);
                            }
                            st.sum.completeness = completeness::SYN;
                        } else {
                            st.flows[d].reset_nextseq_for_syn();
                        }
                    }
                }
                st
            }
        };
        let d = (st.sum.a != src) as usize;
        let r = 1 - d;
        // A SYN-ACK with a new ISN overwrites that direction's base and stays in the stream.
        if syn && ackf {
            if let Some(base) = st.dirs[d].base {
                if base != tcp.seq {
                    st.dirs[d].base = Some(tcp.seq);
                    reused = true;
                }
            }
        }

        let m: &mut TcpMeta = meta;
        *m = TcpMeta {
            stream: st.sum.stream,
            dir: d as u8,
            seq: tcp.seq,
            ack: tcp.ack,
            window: tcp.window as u32,
            completeness: st.sum.completeness,
            ..TcpMeta::default()
        };

        // Frame statistics and timestamps (every frame that reached the lookup).
        st.sum.last_frame = f.number;
        st.sum.last_ts = now;
        st.sum.frames[d] += 1;
        st.sum.bytes[d] += f.wire_len as u64;
        if !tcp.quoted {
            st.sum.conv_frames[d] += 1;
            st.sum.conv_bytes[d] += f.wire_len as u64;
        }
        m.time_rel_ns = now - st.sum.first_ts;
        m.time_delta_ns = now - st.ts_prev;
        st.ts_prev = now;
        let opts = &tcp.options;
        // The displayed scale uses the state before this frame's own options.
        m.scalefactor = scalefactor(syn, st.flows[d].win_scale);

        // The segment-length block: bases, analysis, relative numbers (§2, §3).
        // ICMP-quoted headers and headers longer than the IP payload skip it.
        let mut fnd = Findings::default();
        if reused {
            fnd.flags |= flag::REUSED_PORTS;
            fnd.record = true;
        }
        let seg_len = if tcp.quoted { None } else { tcp.seg_len };
        if let Some(len) = seg_len {
            m.analyzed = true;
            m.len = Some(len);
            st.sum.payload[d] += len as u64;
            let base = *st.dirs[d].base.get_or_insert(if syn {
                tcp.seq
            } else {
                tcp.seq.wrapping_sub(1)
            });
            if ackf && st.dirs[r].base.is_none() {
                st.dirs[r].base = Some(tcp.ack.wrapping_sub(1));
            }
            let seg = Segment {
                frame: f.number,
                ts: now,
                seq: tcp.seq,
                ack: tcp.ack,
                len,
                window: tcp.window,
                syn,
                ack_flag: ackf,
                fin: tcp.fin(),
                rst: tcp.rst(),
                psh: tcp.has(fl::PSH),
            };
            let (fa, fb) = st.flows.split_at_mut(1);
            let (fwd, rev) = if d == 0 {
                (&mut fa[0], &mut fb[0])
            } else {
                (&mut fb[0], &mut fa[0])
            };
            if analyze {
                analysis::analyze(fwd, rev, &seg, base, st.first_rtt, &mut fnd);
            }
            let rev_base = st.dirs[r].base.unwrap_or(0);
            m.seq = tcp.seq.wrapping_sub(base);
            if ackf {
                m.ack = tcp.ack.wrapping_sub(rev_base);
            }
            m.rev_base = rev_base;
            if !syn && st.flows[d].win_scale >= 0 {
                m.window = (tcp.window as u32) << st.flows[d].win_scale;
            }
            let sf = (syn || tcp.fin()) as u32;
            m.nxtseq = Some(m.seq.wrapping_add(len).wrapping_add(sf));
        }
        // A bogus header length ends dissection here: no completeness, options or iRTT.
        if tcp.bogus_hdr_len() {
            // The analysis ran (and its state persists), but nothing of it is shown.
            m.nxtseq = None;
            m.hs_state = st.sum.hs.state;
            return Some((&*m, &st.sum));
        }

        // Completeness (§4). ICMP-quoted headers count too, with length 0.
        let len = seg_len.unwrap_or(0);
        let later = later_frame_bits(syn, ackf, tcp.fin(), tcp.rst(), len);
        if is_new {
            if pure_syn {
                st.sum.completeness |= completeness::SYN;
                if len > 0 {
                    st.sum.completeness |= completeness::DATA;
                }
            }
            st.sum.first_frame_bits = later;
        } else {
            st.sum.completeness |= later;
        }
        if reused && pure_syn {
            m.completeness = completeness::SYN;
        }

        // SYN bookkeeping, then the initial RTT (after the analysis, §3.4).
        if syn {
            if !ackf {
                st.ts_mru_syn = now;
            }
            st.flows[d].is_first_ack = true;
        }
        if ackf && !syn {
            if st.ts_mru_syn != 0 && st.first_rtt == 0 {
                st.first_rtt = now - st.ts_mru_syn;
            }
            st.flows[d].is_first_ack = false;
        }

        // Options: a window-scale option is stored for its sender; SACK blocks feed the peer's BiF.
        if let Some(ws) = opts.wscale {
            st.flows[d].win_scale = ws.min(14) as i8;
        }
        if m.analyzed {
            st.flows[d].set_sack(opts.sack_blocks());
        }
        m.has_tree = fnd.record;
        if m.has_tree && st.first_rtt != 0 {
            m.irtt_ns = Some(st.first_rtt);
        }
        m.analysis = fnd;

        // Window-scaling verification on SYNs (§5): no option on a SYN means no scaling either way.
        if syn {
            if st.flows[d].win_scale == -1 {
                st.flows[d].win_scale = -2;
                st.flows[r].win_scale = -2;
            } else if ackf && st.flows[r].win_scale == -2 {
                st.flows[d].win_scale = -2;
            }
            st.sum.syn_opts[d] = SynOptions {
                seen: true,
                mss: opts.mss,
                wscale: opts.wscale,
                sack_perm: opts.sack_perm,
                timestamps: opts.timestamp.is_some(),
                tfo: opts.tfo.is_some(),
            };
            if tcp.has(fl::ECE) && (ackf || tcp.has(fl::CWR)) {
                st.sum.ecn = true;
            }
        }

        // Stream statistics and hs-tui's handshake record.
        let s = &mut st.sum;
        if st.first_rtt != 0 {
            s.irtt_ns = Some(st.first_rtt);
        }
        if m.analyzed {
            if syn {
                if ackf {
                    s.synack += 1;
                } else {
                    s.syn += 1;
                }
            }
            s.fin += tcp.fin() as u32;
            if tcp.fin() && s.closing == 0 {
                s.closing = d as u8 + 1;
            }
            s.rst += tcp.rst() as u32;
            s.retransmissions += (fnd.flags & flag::ANY_RETRANSMISSION != 0) as u32;
            s.dup_acks += (fnd.flags & flag::DUPLICATE_ACK != 0) as u32;
            s.lost_segments += (fnd.flags & flag::LOST_SEGMENT != 0) as u32;
            s.zero_windows += (fnd.flags & flag::ZERO_WINDOW != 0) as u32;
            m.phase = s.hs.step(d as u8, now, tcp.seq, tcp.ack, tcp.flags, len);
            s.zeek.step(d as u8, tcp.seq, tcp.flags, len, tcp.window);
        }
        m.from_client = s.hs.client.map(|c| c as usize == d);
        m.hs_state = s.hs.state;
        Some((&*m, &st.sum))
    }
}

/// Completeness bits a frame adds when it is not the conversation's first (§4).
fn later_frame_bits(syn: bool, ack: bool, fin: bool, rst: bool, len: u32) -> u8 {
    let mut c = 0;
    if syn && ack {
        c |= completeness::SYNACK;
    }
    if ack && !syn {
        c |= if len == 0 {
            completeness::ACK
        } else {
            completeness::DATA
        };
    }
    if fin && ack {
        c |= completeness::FIN;
    }
    if rst {
        c |= completeness::RST;
    }
    c
}

fn scalefactor(syn: bool, ws: i8) -> Option<i32> {
    if syn {
        None
    } else if ws >= 0 {
        Some(1 << ws)
    } else {
        Some(ws as i32)
    }
}

#[cfg(test)]
mod tests;
