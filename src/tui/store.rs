//! The UI-side packet store: every tracked TCP packet as a compact record,
//! the flows table keyed by stream index, and the counters of the status bar.
//!
//! # Memory budget
//!
//! A record is about 136 bytes (`PacketRec`): the header fields the packet
//! list and the ladder show, the engine's per-packet results packed into
//! `CompactMeta` (rare analysis values live in a side table), and where the
//! frame's bytes are. Bytes are never held in memory: they are read back
//! from the capture file by offset (Wireshark's design) or, for a live
//! capture or standard input, from a spool file the store writes as packets
//! arrive (bounded by `Limits::spool_bytes`, 4 GiB by default).
//!
//! * at most `Limits::max_packets` records (`--tui-max-packets`, default
//!   20,000,000); beyond it the oldest records leave memory (the status bar
//!   counts them). Filters and saves re-read the file, so for a file they
//!   still cover every packet.
//!
//! Flow summaries are never dropped (about 750 bytes per flow here, plus the
//! tracker's own state per live stream, which `--max-streams` bounds).
//! Non-TCP frames are counted, not stored.

use super::filter::PacketFilter;
use crate::capture::frames::FrameFile;
use crate::capture::Batch;
use crate::decode::{self, proto, Frame, IpHeader, LinkType, TcpHeader, TcpOptions};
use crate::engine::Engine;
use crate::output::pcap_file::PcapWriter;
use crate::track::{Budget, Findings, FlowSummary, HsState, Phase, TcpMeta};
use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};

/// Records per chunk of the record store (about 4 MB).
const CHUNK: usize = 1 << 15;

/// An append-only deque kept in fixed-size chunks: growing never copies
/// what is stored (a `VecDeque` of a million records would move ~128 MB in
/// one go when it doubles, a visible stall), and the oldest records leave a
/// chunk at a time.
struct Chunked<T> {
    chunks: VecDeque<Vec<T>>,
    /// Records already removed from the front chunk.
    head: usize,
    len: usize,
}

impl<T> Chunked<T> {
    fn new() -> Self {
        Chunked {
            chunks: VecDeque::new(),
            head: 0,
            len: 0,
        }
    }
    fn len(&self) -> usize {
        self.len
    }
    fn get(&self, i: usize) -> Option<&T> {
        if i >= self.len {
            return None;
        }
        let j = i + self.head;
        self.chunks.get(j / CHUNK)?.get(j % CHUNK)
    }
    fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        if i >= self.len {
            return None;
        }
        let j = i + self.head;
        self.chunks.get_mut(j / CHUNK)?.get_mut(j % CHUNK)
    }
    fn push_back(&mut self, v: T) {
        if self.chunks.back().is_none_or(|c| c.len() == CHUNK) {
            self.chunks.push_back(Vec::with_capacity(CHUNK));
        }
        if let Some(c) = self.chunks.back_mut() {
            c.push(v);
            self.len += 1;
        }
    }
    /// Remove the oldest record, letting `f` see it (and take what it holds) first.
    fn pop_front_with(&mut self, f: impl FnOnce(&mut T)) {
        if self.len == 0 {
            return;
        }
        if let Some(c) = self.chunks.front_mut() {
            f(&mut c[self.head]);
        }
        self.head += 1;
        self.len -= 1;
        if self.head == CHUNK {
            self.chunks.pop_front();
            self.head = 0;
        }
    }
}

/// Record and spool budgets of the store.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_packets: usize,
    /// Bytes the spool file of a live capture (or standard input) may reach.
    pub spool_bytes: u64,
}

impl Limits {
    pub const DEFAULT_MAX_PACKETS: usize = 20_000_000;
    pub const DEFAULT_SPOOL_BYTES: u64 = 4 << 30;

    pub fn for_packets(max_packets: usize) -> Limits {
        Limits {
            max_packets: max_packets.max(1),
            spool_bytes: Self::DEFAULT_SPOOL_BYTES,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::for_packets(Self::DEFAULT_MAX_PACKETS)
    }
}

const PHASES: [Phase; 7] = [
    Phase::Syn,
    Phase::SynAck,
    Phase::HandshakeAck,
    Phase::Data,
    Phase::Ack,
    Phase::Fin,
    Phase::Rst,
];

fn phase_code(p: Phase) -> u8 {
    PHASES.iter().position(|&x| x == p).unwrap_or(4) as u8
}
fn state_code(s: HsState) -> u8 {
    HsState::ALL.iter().position(|&x| x == s).unwrap_or(0) as u8
}

/// Index of a state in `HsState::ALL` (for per-state counters).
pub fn state_index(s: HsState) -> usize {
    state_code(s) as usize
}

mod bit {
    pub const ANALYZED: u16 = 1 << 0;
    pub const NXTSEQ: u16 = 1 << 1;
    pub const LEN: u16 = 1 << 2;
    pub const HAS_TREE: u16 = 1 << 3;
    pub const IRTT: u16 = 1 << 4;
    pub const RECORD: u16 = 1 << 5;
    pub const ACKS_FRAME: u16 = 1 << 6;
    pub const ACK_RTT: u16 = 1 << 7;
    pub const BIF: u16 = 1 << 8;
    pub const PUSH: u16 = 1 << 9;
    pub const EXTRA: u16 = 1 << 10;
    pub const SCALE: u16 = 1 << 11;
}

/// `TcpMeta` packed: the values are the same, the `Option`s are bits, and
/// the rare findings (dup-ACK numbers, RTO) live in `Store::extras`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CompactMeta {
    pub stream: u32,
    pub seq: u32,
    pub ack: u32,
    nxtseq: u32,
    len: u32,
    pub window: u32,
    rev_base: u32,
    /// `tcp.analysis` flag bits.
    pub analysis: u32,
    bytes_in_flight: u32,
    push_bytes: u32,
    time_delta_ns: i64,
    acks_frame: u64,
    ack_rtt_ns: i64,
    bits: u16,
    scale: i32,
    completeness: u8,
    pub dir: u8,
    phase: u8,
    hs_state: u8,
    /// 0 unknown, 1 server, 2 client.
    from_client: u8,
}

/// The findings that are rare enough to keep out of every record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Extra {
    dup_ack_num: u32,
    dup_ack_frame: u64,
    rto_ns: Option<i64>,
    rto_frame: Option<u64>,
}

impl CompactMeta {
    fn pack(m: &TcpMeta) -> (CompactMeta, Option<Extra>) {
        let a = &m.analysis;
        let mut bits = 0u16;
        let mut set = |b: u16, on: bool| {
            if on {
                bits |= b
            }
        };
        set(bit::ANALYZED, m.analyzed);
        set(bit::NXTSEQ, m.nxtseq.is_some());
        set(bit::LEN, m.len.is_some());
        set(bit::HAS_TREE, m.has_tree);
        set(bit::IRTT, m.irtt_ns.is_some());
        set(bit::RECORD, a.record);
        set(bit::ACKS_FRAME, a.acks_frame.is_some());
        set(bit::ACK_RTT, a.ack_rtt_ns.is_some());
        set(bit::BIF, a.bytes_in_flight.is_some());
        set(bit::PUSH, a.push_bytes_sent.is_some());
        set(bit::SCALE, m.scalefactor.is_some());
        let extra = Extra {
            dup_ack_num: a.dup_ack_num,
            dup_ack_frame: a.dup_ack_frame,
            rto_ns: a.rto_ns,
            rto_frame: a.rto_frame,
        };
        let has_extra = extra != Extra::default();
        set(bit::EXTRA, has_extra);
        let c = CompactMeta {
            stream: m.stream,
            seq: m.seq,
            ack: m.ack,
            nxtseq: m.nxtseq.unwrap_or(0),
            len: m.len.unwrap_or(0),
            window: m.window,
            rev_base: m.rev_base,
            analysis: a.flags,
            bytes_in_flight: a.bytes_in_flight.unwrap_or(0),
            push_bytes: a.push_bytes_sent.unwrap_or(0),
            time_delta_ns: m.time_delta_ns,
            acks_frame: a.acks_frame.unwrap_or(0),
            ack_rtt_ns: a.ack_rtt_ns.unwrap_or(0),
            bits,
            scale: m.scalefactor.unwrap_or(0),
            completeness: m.completeness,
            dir: m.dir,
            phase: phase_code(m.phase),
            hs_state: state_code(m.hs_state),
            from_client: match m.from_client {
                None => 0,
                Some(false) => 1,
                Some(true) => 2,
            },
        };
        (c, has_extra.then_some(extra))
    }

    fn has(&self, b: u16) -> bool {
        self.bits & b != 0
    }

    pub fn analyzed(&self) -> bool {
        self.has(bit::ANALYZED)
    }
    /// The segment length, when the tracker knew it.
    pub fn seg_len(&self) -> Option<u32> {
        self.has(bit::LEN).then_some(self.len)
    }
    pub fn phase(&self) -> Phase {
        PHASES[(self.phase as usize).min(PHASES.len() - 1)]
    }
    pub fn hs_state(&self) -> HsState {
        HsState::ALL[(self.hs_state as usize).min(HsState::ALL.len() - 1)]
    }
    pub fn from_client(&self) -> Option<bool> {
        match self.from_client {
            0 => None,
            c => Some(c == 2),
        }
    }
    pub fn time_delta_ns(&self) -> i64 {
        self.time_delta_ns
    }
    /// Whether tshark would show the initial RTT on this packet.
    pub fn shows_irtt(&self) -> bool {
        self.has(bit::IRTT)
    }

    /// The full `TcpMeta` again; `flow` supplies the stream start and iRTT.
    fn unpack(&self, flow: &FlowSummary, ts_ns: i64, extra: Option<&Extra>) -> TcpMeta {
        let e = extra.copied().unwrap_or_default();
        let opt32 = |b: u16, v: u32| self.has(b).then_some(v);
        TcpMeta {
            stream: self.stream,
            dir: self.dir,
            analyzed: self.has(bit::ANALYZED),
            seq: self.seq,
            ack: self.ack,
            nxtseq: opt32(bit::NXTSEQ, self.nxtseq),
            len: opt32(bit::LEN, self.len),
            completeness: self.completeness,
            window: self.window,
            scalefactor: self.has(bit::SCALE).then_some(self.scale),
            time_rel_ns: ts_ns - flow.first_ts,
            time_delta_ns: self.time_delta_ns,
            analysis: Findings {
                flags: self.analysis,
                dup_ack_num: e.dup_ack_num,
                dup_ack_frame: e.dup_ack_frame,
                acks_frame: self.has(bit::ACKS_FRAME).then_some(self.acks_frame),
                ack_rtt_ns: self.has(bit::ACK_RTT).then_some(self.ack_rtt_ns),
                bytes_in_flight: opt32(bit::BIF, self.bytes_in_flight),
                push_bytes_sent: opt32(bit::PUSH, self.push_bytes),
                rto_ns: e.rto_ns,
                rto_frame: e.rto_frame,
                record: self.has(bit::RECORD),
            },
            has_tree: self.has(bit::HAS_TREE),
            irtt_ns: if self.has(bit::IRTT) {
                flow.irtt_ns
            } else {
                None
            },
            rev_base: self.rev_base,
            phase: self.phase(),
            from_client: self.from_client(),
            hs_state: self.hs_state(),
        }
    }
}

pub mod rec_bit {
    pub const MALFORMED: u8 = 1 << 0;
    /// Matches the active compiled display filter.
    pub const MATCHED: u8 = 1 << 1;
    pub const QUOTED: u8 = 1 << 2;
    pub const TRUNCATED: u8 = 1 << 3;
}

/// One stored packet.
#[derive(Clone, Debug)]
pub struct PacketRec {
    pub number: u64,
    pub ts_ns: i64,
    /// Time since the previous frame of the capture (`frame.time_delta`).
    pub frame_delta_ns: i64,
    pub wire_len: u32,
    pub cap_len: u32,
    pub seq_raw: u32,
    pub ack_raw: u32,
    pub win_raw: u16,
    pub flags: u16,
    pub hdr_len: u8,
    pub bits: u8,
    pub meta: CompactMeta,
    /// Where the frame's bytes are in the backing file ([`NO_BYTES`]: nowhere).
    pub offset: u64,
}

/// The offset of a frame whose bytes were not kept (the spool was full).
pub const NO_BYTES: u64 = u64::MAX;

impl PacketRec {
    pub fn matched(&self) -> bool {
        self.bits & rec_bit::MATCHED != 0
    }
    pub fn set_matched(&mut self, on: bool) {
        if on {
            self.bits |= rec_bit::MATCHED;
        } else {
            self.bits &= !rec_bit::MATCHED;
        }
    }
    pub fn malformed(&self) -> bool {
        self.bits & rec_bit::MALFORMED != 0
    }
    pub fn has_bytes(&self) -> bool {
        self.offset != NO_BYTES
    }
}

/// A row of the flows table.
#[derive(Clone, Debug)]
pub struct FlowEntry {
    pub sum: FlowSummary,
    /// Global indices of the stream's stored packets, oldest first.
    pub packets: VecDeque<u64>,
    /// Packets matching the active compiled filter.
    pub matched: u32,
    /// Matches the active quick filter.
    pub quick: bool,
    /// "client -> server", lower case, for the quick filter.
    pub label: Box<str>,
    label_client: Option<u8>,
    /// What the stream's TLS negotiated so far (`hs.tls.*`).
    pub tls: Option<Box<crate::engine::tls::TlsSummary>>,
}

impl FlowEntry {
    fn new(sum: FlowSummary) -> FlowEntry {
        let label = flow_label(&sum).to_lowercase().into_boxed_str();
        FlowEntry {
            label_client: sum.hs.client,
            sum,
            packets: VecDeque::new(),
            matched: 0,
            quick: true,
            label,
            tls: None,
        }
    }

    /// The state as the flows table names it: an unanswered SYN is half-open.
    pub fn state_name(&self) -> &'static str {
        state_label(self.sum.hs.state)
    }
}

/// Display name of a handshake state.
pub fn state_label(s: HsState) -> &'static str {
    match s {
        HsState::SynSent => "half-open",
        s => s.name(),
    }
}

/// "client → server".
pub fn flow_label(s: &FlowSummary) -> String {
    let (c, srv) = s.client_server();
    format!("{c} → {srv}")
}

/// Counters for the status bar.
#[derive(Clone, Debug, Default)]
pub struct Counts {
    /// Every frame read.
    pub frames: u64,
    pub tcp: u64,
    pub malformed: u64,
    /// Records dropped by the packet budget, and frames the full spool could not keep.
    pub evicted: u64,
    pub bytes_dropped: u64,
    /// Frames in the backing file (what a filter or save job can re-read).
    pub backed: u64,
    /// Why no spool file could be made, if so.
    pub spool_error: Option<String>,
    /// Approximate bytes of the source consumed (for the loading progress).
    pub source_bytes: u64,
    pub first_ts: Option<i64>,
    pub last_ts: i64,
    /// Flows per `HsState` (index as in `HsState::ALL`) and flows whose handshake completed.
    pub states: [u64; 8],
    pub completed: u64,
}

/// Where frame bytes live once read: the capture file itself, or a spool
/// file the store writes (live capture, standard input).
pub enum Backing {
    /// Nothing yet (the first batch decides).
    Unset,
    File {
        path: PathBuf,
        reader: FrameFile,
    },
    Spool(Spool),
}

/// The spool of a live capture: a temporary pcap file, deleted on exit.
pub struct Spool {
    file: tempfile::NamedTempFile,
    writer: PcapWriter,
    reader: FrameFile,
    /// Set when the spool stopped (budget reached or a write failed), and why.
    pub stopped: Option<String>,
}

impl Spool {
    fn create(link: LinkType) -> std::io::Result<Spool> {
        let file = tempfile::Builder::new()
            .prefix("hs-tui-spool-")
            .suffix(".pcap")
            .tempfile()?;
        // The header goes straight to disk, so the reader can open the file now.
        let writer = PcapWriter::from_file(file.reopen()?, file.path(), link.to_linktype() as u32)?;
        let reader = FrameFile::from_file(file.reopen()?)?;
        Ok(Spool {
            file,
            writer,
            reader,
            stopped: None,
        })
    }
}

pub struct Store {
    pub link: LinkType,
    engine: Engine,
    recs: Chunked<PacketRec>,
    base: u64,
    extras: FxHashMap<u64, Extra>,
    /// What the TLS dissector found, per stored packet that has a TLS record.
    tls: FxHashMap<u64, Box<crate::engine::tls::TlsFrame>>,
    /// Some flow negotiated TLS (the SNI and TLS columns show only then).
    pub has_tls: bool,
    /// Flow rows, boxed: growing the table moves pointers, not 500-byte rows
    /// (doubling 131k rows in place stalled a turn for 45 ms).
    pub flows: Vec<Box<FlowEntry>>,
    pub limits: Limits,
    pub counts: Counts,
    /// Widest "client → server" label so far (stable column widths).
    pub label_width: usize,
    pub backing: Backing,
    /// The budget the engine runs with (filter and save jobs must use the same to number streams alike).
    pub budget: Budget,
    /// Every packet's TCP expert items, tallied as `-z expert` does (the `e` overlay).
    pub expert: crate::output::expert::ExpertTally,
}

impl Store {
    pub fn new(link: LinkType, budget: Budget, limits: Limits) -> Store {
        let mut engine = Engine::new(budget);
        // A filter may test tls/http at any time: follow them from the first packet.
        engine.track_app(true);
        Store {
            link,
            engine,
            recs: Chunked::new(),
            base: 0,
            extras: FxHashMap::default(),
            tls: FxHashMap::default(),
            has_tls: false,
            flows: Vec::new(),
            limits,
            counts: Counts::default(),
            label_width: 0,
            backing: Backing::Unset,
            budget,
            expert: Default::default(),
        }
    }

    /// The global index of frame `number`'s record, if it is held
    /// (records are in frame order: a binary search).
    pub fn find_number(&self, number: u64) -> Option<u64> {
        let (mut lo, mut hi) = (self.base, self.end());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.get(mid).is_some_and(|r| r.number < number) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        self.get(lo).filter(|r| r.number == number).map(|_| lo)
    }

    /// Global index of the oldest stored record.
    pub fn base(&self) -> u64 {
        self.base
    }
    /// One past the newest record's global index.
    pub fn end(&self) -> u64 {
        self.base + self.recs.len() as u64
    }
    pub fn len(&self) -> usize {
        self.recs.len()
    }
    pub fn is_empty(&self) -> bool {
        self.recs.len() == 0
    }

    pub fn get(&self, g: u64) -> Option<&PacketRec> {
        g.checked_sub(self.base)
            .and_then(|i| self.recs.get(i as usize))
    }
    pub fn get_mut(&mut self, g: u64) -> Option<&mut PacketRec> {
        g.checked_sub(self.base)
            .and_then(|i| self.recs.get_mut(i as usize))
    }
    pub fn flow(&self, stream: u32) -> Option<&FlowEntry> {
        self.flows.get(stream as usize).map(|e| &**e)
    }
    /// What the TLS dissector found in a stored packet (the ladder's TLS messages).
    pub fn tls_frame(&self, g: u64) -> Option<&crate::engine::tls::TlsFrame> {
        self.tls.get(&g).map(|t| &**t)
    }

    /// The file a filter or save job re-reads, with the frames it holds.
    /// `None` when there is none (a spool that could not be created).
    pub fn backing_file(&mut self) -> Option<(PathBuf, u64)> {
        match &mut self.backing {
            Backing::File { path, .. } => Some((path.clone(), self.counts.backed)),
            Backing::Spool(sp) => {
                if let Err(e) = sp.writer.flush() {
                    sp.stopped.get_or_insert_with(|| e.to_string());
                }
                Some((sp.file.path().to_path_buf(), sp.writer.packets()))
            }
            Backing::Unset => None,
        }
    }

    /// Keep the bytes of a frame: note its offset in the file, or spool it.
    fn back(&mut self, bytes: &[u8], f: &Frame, offset: Option<u64>, path: Option<&Path>) -> u64 {
        if let Backing::Unset = self.backing {
            self.backing = match (offset, path.map(FrameFile::open)) {
                (Some(_), Some(Ok(reader))) => Backing::File {
                    path: path.map(Path::to_path_buf).unwrap_or_default(),
                    reader,
                },
                _ => match Spool::create(self.link) {
                    Ok(sp) => Backing::Spool(sp),
                    Err(e) => {
                        self.counts.spool_error = Some(format!("cannot create a spool file: {e}"));
                        Backing::Unset
                    }
                },
            };
        }
        match &mut self.backing {
            Backing::File { .. } => {
                self.counts.backed += 1;
                offset.unwrap_or(NO_BYTES)
            }
            Backing::Spool(sp) if sp.stopped.is_none() => {
                if sp.writer.len() + 16 + bytes.len() as u64 > self.limits.spool_bytes {
                    sp.stopped = Some(format!(
                        "spool budget of {} MiB reached",
                        self.limits.spool_bytes >> 20
                    ));
                }
                match sp
                    .stopped
                    .is_none()
                    .then(|| sp.writer.write(f.ts_ns, f.wire_len, bytes))
                {
                    Some(Ok(at)) => {
                        self.counts.backed += 1;
                        at
                    }
                    Some(Err(e)) => {
                        sp.stopped = Some(e.to_string());
                        self.counts.bytes_dropped += 1;
                        NO_BYTES
                    }
                    None => {
                        self.counts.bytes_dropped += 1;
                        NO_BYTES
                    }
                }
            }
            _ => {
                self.counts.bytes_dropped += 1;
                NO_BYTES
            }
        }
    }

    /// Why the spool stopped keeping frames, if it did.
    pub fn spool_stopped(&self) -> Option<&str> {
        match &self.backing {
            Backing::Spool(sp) => sp.stopped.as_deref(),
            _ => self.counts.spool_error.as_deref(),
        }
    }

    /// The captured bytes of a stored packet, read back from the backing file.
    pub fn bytes(&self, g: u64) -> Option<Vec<u8>> {
        let r = self.get(g)?;
        if !r.has_bytes() {
            return None;
        }
        let reader = match &self.backing {
            Backing::File { reader, .. } => reader,
            Backing::Spool(sp) => &sp.reader,
            Backing::Unset => return None,
        };
        if let Backing::Spool(sp) = &self.backing {
            if r.offset >= sp.writer.flushed_len() {
                // Not on disk yet: the caller asks again after the next flush.
                return None;
            }
        }
        let mut buf = Vec::new();
        reader.read(r.offset, &mut buf).ok()?;
        Some(buf)
    }

    /// Push spooled frames to disk so they can be read back (once per event-loop turn).
    pub fn flush_spool(&mut self) {
        if let Backing::Spool(sp) = &mut self.backing {
            if sp.stopped.is_none() {
                if let Err(e) = sp.writer.flush() {
                    sp.stopped = Some(e.to_string());
                }
            }
        }
    }

    /// Track and store one frame. `offset` is its place in the source file
    /// (`path`), when the source is one. `filter`, when given, is evaluated
    /// on the engine's view (exactly what batch `-Y` sees) and sets
    /// [`rec_bit::MATCHED`]. Returns the record's global index, or `None`
    /// for a frame the tracker does not follow (not TCP).
    pub fn ingest(
        &mut self,
        f: &Frame,
        bytes: &[u8],
        offset: Option<u64>,
        path: Option<&Path>,
        filter: Option<&dyn PacketFilter>,
    ) -> Option<u64> {
        let g = self.base + self.recs.len() as u64;
        let offset = self.back(bytes, f, offset, path);
        self.counts.source_bytes += 16 + bytes.len() as u64;
        // Fields apart from the engine's are updated while its view is borrowed.
        let view = self.engine.process(f, bytes);
        self.expert.packet(&view);
        let tls = view.tls.map(|t| Box::new(t.clone()));
        // The stream's TLS summary, copied only when it changed.
        let tls_sum = match (view.tls_stream, view.meta) {
            (Some(s), Some(m))
                if self
                    .flows
                    .get(m.stream as usize)
                    .and_then(|e| e.tls.as_deref())
                    != Some(s) =>
            {
                Some(Box::new(s.clone()))
            }
            _ => None,
        };
        let frame_delta_ns = f.ts_ns - view.prev_ts;
        let matched = filter.is_some_and(|flt| flt.matches(&view));
        let (Some(&meta), Some(sum)) = (view.meta, view.flow) else {
            self.sync_counts();
            return None;
        };
        let idx = meta.stream as usize;
        let c = &mut self.counts;
        if idx == self.flows.len() {
            let e = Box::new(FlowEntry::new(sum.clone()));
            c.states[state_index(e.sum.hs.state)] += 1;
            self.label_width = self.label_width.max(e.label.chars().count());
            self.flows.push(e);
        } else if let Some(e) = self.flows.get_mut(idx) {
            let (old_state, old_done) = (e.sum.hs.state, e.sum.hs.ack_ts.is_some());
            e.sum.clone_from(sum);
            c.states[state_index(old_state)] -= 1;
            c.states[state_index(e.sum.hs.state)] += 1;
            c.completed -= old_done as u64;
            if e.label_client != e.sum.hs.client {
                e.label = flow_label(&e.sum).to_lowercase().into_boxed_str();
                e.label_client = e.sum.hs.client;
                self.label_width = self.label_width.max(e.label.chars().count());
            }
        } else {
            self.sync_counts();
            return None;
        }
        self.sync_counts();
        self.counts.completed += self.flows[idx].sum.hs.ack_ts.is_some() as u64;
        self.flows[idx].packets.push_back(g);
        self.flows[idx].matched += matched as u32;
        if self.engine.has_retired() {
            // The summaries are already in the table (as of each stream's last packet).
            self.engine.take_retired();
        }
        let tcp = f.tcp.as_ref();
        let (cm, extra) = CompactMeta::pack(&meta);
        if let Some(x) = extra {
            self.extras.insert(g, x);
        }
        if let Some(t) = tls {
            self.tls.insert(g, t);
        }
        if let Some(t) = tls_sum {
            self.flows[idx].tls = Some(t);
            self.has_tls = true;
        }
        let mut bits = 0u8;
        if f.problem.is_some() {
            bits |= rec_bit::MALFORMED;
        }
        if tcp.is_some_and(|t| t.quoted) {
            bits |= rec_bit::QUOTED;
        }
        if f.truncated {
            bits |= rec_bit::TRUNCATED;
        }
        if matched {
            bits |= rec_bit::MATCHED;
        }
        self.recs.push_back(PacketRec {
            number: f.number,
            ts_ns: f.ts_ns,
            frame_delta_ns,
            wire_len: f.wire_len,
            cap_len: f.cap_len,
            seq_raw: tcp.map_or(0, |t| t.seq),
            ack_raw: tcp.map_or(0, |t| t.ack),
            win_raw: tcp.map_or(0, |t| t.window),
            flags: tcp.map_or(0, |t| t.flags),
            hdr_len: tcp.map_or(0, |t| t.hdr_len),
            bits,
            meta: cm,
            offset,
        });
        self.enforce_limits();
        Some(g)
    }

    /// A file of `bytes` is coming: reserve the stream table for as many
    /// streams as it can plausibly hold (one per 600 bytes of capture, at
    /// most 4M), so it never moves while the view must answer keys.
    pub fn expect_file(&mut self, bytes: u64) {
        self.engine
            .reserve_streams(((bytes / 600) as usize).min(1 << 22));
    }

    /// The status bar's counters follow the engine's.
    fn sync_counts(&mut self) {
        let e = self.engine.counts();
        let c = &mut self.counts;
        c.frames = e.frames;
        c.tcp = e.tcp;
        c.malformed = e.malformed;
        c.first_ts = e.first_ts;
        c.last_ts = e.last_ts;
    }

    /// Ingest a whole batch; `each` sees every stored record's index.
    pub fn ingest_batch(
        &mut self,
        batch: &Batch,
        path: Option<&Path>,
        filter: Option<&dyn PacketFilter>,
        mut each: impl FnMut(&mut Store, u64),
    ) {
        for (i, (f, bytes)) in batch.iter().enumerate() {
            let offset = batch.offsets.get(i).copied();
            if let Some(g) = self.ingest(f, bytes, offset, path, filter) {
                each(self, g);
            }
        }
    }

    fn enforce_limits(&mut self) {
        while self.recs.len() > self.limits.max_packets {
            let g = self.base;
            let mut gone = None;
            self.recs.pop_front_with(|r| {
                gone = Some((r.meta.stream, r.matched(), r.meta.has(bit::EXTRA)));
            });
            let Some((stream, matched, extra)) = gone else {
                break;
            };
            if let Some(e) = self.flows.get_mut(stream as usize) {
                if e.packets.front() == Some(&g) {
                    e.packets.pop_front();
                }
                if matched {
                    e.matched = e.matched.saturating_sub(1);
                }
            }
            if extra {
                self.extras.remove(&g);
            }
            if !self.tls.is_empty() {
                self.tls.remove(&g);
            }
            self.base += 1;
            self.counts.evicted += 1;
        }
    }

    /// The full tracker results for a stored packet.
    pub fn meta(&self, g: u64) -> Option<TcpMeta> {
        let r = self.get(g)?;
        let flow = self.flow(r.meta.stream)?;
        Some(r.meta.unpack(&flow.sum, r.ts_ns, self.extras.get(&g)))
    }

    /// The decoded frame: decoded again from the bytes when they are still
    /// held, otherwise rebuilt from the record (no options, no payload).
    pub fn frame(&self, g: u64) -> Option<Frame> {
        let r = self.get(g)?;
        if let Some(b) = self.bytes(g) {
            return Some(decode::decode(self.link, r.number, r.ts_ns, r.wire_len, &b));
        }
        let flow = &self.flow(r.meta.stream)?.sum;
        let (src, dst) = if r.meta.dir == 0 {
            (flow.a, flow.b)
        } else {
            (flow.b, flow.a)
        };
        let v6 = src.0.is_ipv6();
        let len = r.meta.seg_len().unwrap_or(0);
        let ip = IpHeader {
            hdr_len: if v6 { 40 } else { 20 },
            len_field: if v6 {
                r.hdr_len as u32 + len
            } else {
                20 + r.hdr_len as u32 + len
            },
            ..IpHeader::bare(src.0, dst.0, 6)
        };
        let tcp = TcpHeader {
            src_port: src.1,
            dst_port: dst.1,
            has_fixed: true,
            seq: r.seq_raw,
            ack: r.ack_raw,
            hdr_len: r.hdr_len,
            flags: r.flags,
            window: r.win_raw,
            checksum: None,
            urgent: 0,
            options: TcpOptions::default(),
            seg_len: r.meta.seg_len(),
            quoted: r.bits & rec_bit::QUOTED != 0,
        };
        Some(Frame {
            number: r.number,
            ts_ns: r.ts_ns,
            wire_len: r.wire_len,
            cap_len: r.cap_len,
            link: self.link,
            protos: proto::TCP | if v6 { proto::IPV6 } else { proto::IP },
            eth_src: None,
            eth_dst: None,
            ethertype: None,
            vlan_tci: [0; 3],
            vlan_count: 0,
            layers: 0,
            ip: Some(ip),
            inner_ip: None,
            tcp: Some(tcp),
            udp: None,
            icmp: None,
            arp: None,
            payload_off: 0,
            payload_cap: 0,
            problem: None,
            truncated: r.bits & rec_bit::TRUNCATED != 0,
            flow_hash: 0,
        })
    }

    /// Everything the field registry needs for one packet.
    pub fn with_view<R>(
        &self,
        g: u64,
        k: impl FnOnce(&crate::fields::PacketView<'_>) -> R,
    ) -> Option<R> {
        let r = self.get(g)?;
        let bytes = self.bytes(g).unwrap_or_default();
        let frame = match bytes.is_empty() {
            false => decode::decode(self.link, r.number, r.ts_ns, r.wire_len, &bytes),
            true => self.frame(g)?,
        };
        let meta = self.meta(g)?;
        let flow = self.flow(r.meta.stream)?;
        let view = crate::fields::PacketView {
            frame: &frame,
            bytes: &bytes,
            meta: Some(&meta),
            flow: Some(&flow.sum),
            first_ts: self.counts.first_ts.unwrap_or(r.ts_ns),
            prev_ts: r.ts_ns - r.frame_delta_ns,
            app: None,
            diff: None,
            tls: self.tls.get(&g).map(|t| &**t),
            tls_stream: flow.tls.as_deref(),
        };
        Some(k(&view))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(path: &str) -> Vec<(Frame, Vec<u8>)> {
        crate::engine::tests::frames(path)
    }

    #[test]
    fn chunked_deque_across_chunks() {
        let mut c: Chunked<u64> = Chunked::new();
        let n = CHUNK as u64 * 2 + 10;
        for i in 0..n {
            c.push_back(i);
        }
        assert_eq!(c.len() as u64, n);
        assert_eq!(c.get(CHUNK + 3), Some(&(CHUNK as u64 + 3)));
        let mut seen = Vec::new();
        for _ in 0..CHUNK + 5 {
            c.pop_front_with(|v| seen.push(*v));
        }
        assert_eq!(seen.len(), CHUNK + 5);
        assert_eq!(seen[CHUNK + 4], CHUNK as u64 + 4);
        assert_eq!(c.chunks.len(), 2);
        assert_eq!(c.get(0), Some(&(CHUNK as u64 + 5)));
        *c.get_mut(1).unwrap() = 7;
        assert_eq!(c.get(1), Some(&7));
        assert_eq!(c.get(c.len()), None);
        while c.len() > 0 {
            c.pop_front_with(|_| {});
        }
        c.push_back(1);
        assert_eq!(c.get(0), Some(&1));
    }

    #[test]
    fn compact_meta_round_trips() {
        for path in [
            "tests/data/lo-http-refused.pcap",
            "sample-captures/half-open.pcap",
            "sample-captures/reset.pcap",
        ] {
            let frames = read(path);
            let mut tracker = crate::track::Tracker::new(Budget::default());
            let mut store = Store::new(LinkType::Ethernet, Budget::default(), Limits::default());
            for (f, b) in &frames {
                let want = tracker.process(f).map(|(m, _)| *m);
                let g = store.ingest(f, b, None, None, None);
                store.flush_spool();
                assert_eq!(want.is_some(), g.is_some());
                if let (Some(want), Some(g)) = (want, g) {
                    assert_eq!(store.meta(g).unwrap(), want, "{path} frame {}", f.number);
                    // The rebuilt frame has everything but the capture thread's hash.
                    let f = Frame { flow_hash: 0, ..*f };
                    assert_eq!(store.frame(g).unwrap(), f);
                }
            }
        }
    }

    #[test]
    fn details_see_the_tls_dissection_and_the_stream_summary() {
        let frames = read("tests/conformance/tls/captures/zeek-tls-chrome-34-google.pcap");
        let mut store = Store::new(LinkType::Ethernet, Budget::default(), Limits::default());
        for (f, b) in &frames {
            store.ingest(f, b, None, None, None);
        }
        store.flush_spool();
        let g = (store.base()..store.end())
            .find(|&g| store.get(g).unwrap().number == 4)
            .unwrap();
        let (ty, sni) = store
            .with_view(g, |p| {
                (
                    p.tls.map(|t| t.msgs[0].ty),
                    p.tls_stream.and_then(|s| s.sni.clone()),
                )
            })
            .unwrap();
        assert_eq!(ty, Some(1));
        assert_eq!(sni.as_deref(), Some("google.de"));
    }

    #[test]
    fn record_budget_drops_records_but_keeps_flows_and_bytes_come_back() {
        let frames = read("tests/data/lo-http-refused.pcap");
        let limits = Limits {
            max_packets: 10,
            spool_bytes: 1 << 20,
        };
        let mut store = Store::new(LinkType::Ethernet, Budget::default(), limits);
        for (f, b) in &frames {
            store.ingest(f, b, None, None, None);
        }
        store.flush_spool();
        assert_eq!(store.len(), 10);
        assert_eq!(store.base(), frames.len() as u64 - 10);
        assert_eq!(store.counts.evicted, frames.len() as u64 - 10);
        assert_eq!(store.flows.len(), 5);
        assert_eq!(store.flows[0].sum.total_frames(), 12);
        assert!(store.flows[0].packets.is_empty());
        let kept: usize = store.flows.iter().map(|f| f.packets.len()).sum();
        assert_eq!(kept, 10);
        // Every kept record reads its bytes back from the spool.
        for g in store.base()..store.end() {
            let n = store.get(g).unwrap().number;
            let want = &frames.iter().find(|(f, _)| f.number == n).unwrap().1;
            assert_eq!(store.bytes(g).as_ref(), Some(want));
        }
        assert_eq!(store.counts.states.iter().sum::<u64>(), 5);
    }

    #[test]
    fn a_full_spool_says_so_and_keeps_the_records() {
        let frames = read("tests/data/lo-http-refused.pcap");
        let limits = Limits {
            max_packets: 1000,
            spool_bytes: 24 + 300,
        };
        let mut store = Store::new(LinkType::Ethernet, Budget::default(), limits);
        for (f, b) in &frames {
            store.ingest(f, b, None, None, None);
        }
        assert_eq!(store.len(), frames.len());
        assert!(store.counts.bytes_dropped > 0);
        assert!(store.spool_stopped().unwrap().contains("spool budget"));
        assert!(store.bytes(store.end() - 1).is_none());
        // A record without bytes still has its fields (rebuilt from the record).
        assert!(store.frame(store.end() - 1).unwrap().tcp.is_some());
    }
}
