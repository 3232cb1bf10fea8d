//! The UI-side packet store: every tracked TCP packet as a compact record,
//! the flows table keyed by stream index, and the counters of the status bar.
//!
//! # Memory budget
//!
//! A record is 48 bytes (`PacketRec`): what the packet list and the ladder
//! draw, the stream it belongs to and a link to the stream's next stored
//! record (so a flow's packet list costs no more), and where the frame's
//! bytes are. Bytes are never held in memory: they are read back from the
//! capture file by offset (Wireshark's design) or, for a live capture or
//! standard input, from a spool file the store writes as packets arrive
//! (bounded by `Limits::spool_bytes`, 4 GiB by default). The rest of the
//! tracker's results for a packet are replayed from the file when asked
//! (`Store::meta`): the stream alone, through a fresh tracker.
//!
//! * at most `Limits::max_packets` records (`--tui-max-packets`, default
//!   20,000,000); beyond it the oldest records leave memory (the status bar
//!   counts them). Filters and saves re-read the file, so for a file they
//!   still cover every packet.
//!
//! Flow summaries are never dropped: a 64-byte row per flow, whose summary
//! the engine holds while it follows the stream (one copy, within the
//! tracker's state per live stream, which `--max-streams` bounds) and the row
//! keeps packed once the engine lets the stream go (`FlowSummary::pack`:
//! 127-140 bytes on average on the perf captures).
//! Non-TCP frames are counted, not stored.

use super::filter::PacketFilter;
use crate::capture::frames::FrameFile;
use crate::capture::Batch;
use crate::decode::{self, proto, Frame, IpHeader, LinkType, TcpHeader, TcpOptions};
use crate::engine::Engine;
use crate::output::pcap_file::PcapWriter;
use crate::track::{Budget, Findings, FlowSummary, HsState, Phase, TcpMeta, Tracker};
use rustc_hash::FxHashMap;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Results a replay keeps on either side of the packet asked for.
const REPLAY_WINDOW: usize = 20_000;

/// A window of one stream's replayed tracker results.
struct Replay {
    stream: u32,
    /// The range of records the replay covered (asking again within it
    /// does not replay again, even where it stopped early).
    tried: (u64, u64),
    /// It stopped before the end of its range (bytes not readable, or a
    /// packet that did not agree with its record).
    stopped: bool,
    gs: Vec<u64>,
    metas: Vec<TcpMeta>,
}

/// Records per chunk of the record store (about 2 MB).
const CHUNK: usize = 1 << 15;

/// An append-only deque kept in fixed-size chunks: growing never copies
/// what is stored (a `VecDeque` of a million records would move ~128 MB in
/// one go when it doubles, a visible stall), and the oldest records leave a
/// chunk at a time.
pub struct Chunked<T> {
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
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        let head = self.head;
        (self.chunks.iter().enumerate()).flat_map(move |(i, c)| &c[if i == 0 { head } else { 0 }..])
    }
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> {
        let head = self.head;
        (self.chunks.iter_mut().enumerate())
            .flat_map(move |(i, c)| &mut c[if i == 0 { head } else { 0 }..])
    }
    pub fn get(&self, i: usize) -> Option<&T> {
        if i >= self.len {
            return None;
        }
        let j = i + self.head;
        self.chunks.get(j / CHUNK)?.get(j % CHUNK)
    }
    pub fn get_mut(&mut self, i: usize) -> Option<&mut T> {
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
    pub fn push(&mut self, v: T) {
        self.push_back(v)
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

impl<T> std::ops::Index<usize> for Chunked<T> {
    type Output = T;
    fn index(&self, i: usize) -> &T {
        self.get(i).expect("index within the length")
    }
}

impl<T> std::ops::IndexMut<usize> for Chunked<T> {
    fn index_mut(&mut self, i: usize) -> &mut T {
        self.get_mut(i).expect("index within the length")
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
    /// Packed into `CompactMeta::packed`: dir (bit 0), phase (1-3),
    /// from_client (4-5), hs_state (6-8), analyzed (9), length known (10).
    pub const DIR: u16 = 1 << 0;
    pub const PHASE_SHIFT: u16 = 1;
    pub const FROM_CLIENT_SHIFT: u16 = 4;
    pub const STATE_SHIFT: u16 = 6;
    pub const ANALYZED: u16 = 1 << 9;
    pub const LEN: u16 = 1 << 10;
    /// Bits 11-14: the shift that rebuilds the window from `CompactMeta::win`.
    pub const WIN_SHIFT: u16 = 11;
    /// The length needs more than 16 bits (IPv6 jumbograms, Linux BIG TCP):
    /// it is in the store's side table of rare values (`Extra::big_len`).
    pub const LEN_BIG: u16 = 1 << 15;
}

/// What the packet list and the ladder draw of the tracker's results (20
/// bytes). Everything else of `TcpMeta` (raw numbers, next sequence number,
/// bytes in flight, RTTs, acked frames, completeness...) is derived again
/// on demand by replaying the stream from the file (`Store::meta`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CompactMeta {
    pub stream: u32,
    pub seq: u32,
    pub ack: u32,
    /// The calculated window is a 16-bit window shifted left by at most 14
    /// (`bit::WIN_SHIFT`), so its low bits below the shift are zero and these
    /// 16 bits and the shift hold it exactly.
    win: u16,
    /// `tcp.len`; a longer segment (`bit::LEN_BIG`) keeps it in `Extra`.
    len: u16,
    /// `tcp.analysis` flag bits (15 of them).
    analysis: u16,
    packed: u16,
}

/// The findings that are rare enough to keep out of every record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Extra {
    /// A `tcp.len` above 65,535 (`bit::LEN_BIG`).
    big_len: Option<u32>,
    dup_ack_num: u32,
    dup_ack_frame: u64,
    rto_ns: Option<i64>,
    rto_frame: Option<u64>,
}

impl Extra {
    fn of(m: &TcpMeta) -> Option<Extra> {
        let a = &m.analysis;
        let extra = Extra {
            big_len: m.len.filter(|&l| l > u16::MAX as u32),
            dup_ack_num: a.dup_ack_num,
            dup_ack_frame: a.dup_ack_frame,
            rto_ns: a.rto_ns,
            rto_frame: a.rto_frame,
        };
        (extra != Extra::default()).then_some(extra)
    }
}

impl CompactMeta {
    fn pack(m: &TcpMeta) -> CompactMeta {
        let mut packed = (m.dir & 1) as u16
            | (phase_code(m.phase) as u16) << bit::PHASE_SHIFT
            | (match m.from_client {
                None => 0u16,
                Some(false) => 1,
                Some(true) => 2,
            }) << bit::FROM_CLIENT_SHIFT
            | (state_code(m.hs_state) as u16 & 7) << bit::STATE_SHIFT;
        if m.analyzed {
            packed |= bit::ANALYZED;
        }
        if m.len.is_some() {
            packed |= bit::LEN;
        }
        let len = m.len.unwrap_or(0);
        if len > u16::MAX as u32 {
            packed |= bit::LEN_BIG;
        }
        let shift = (32 - m.window.leading_zeros()).saturating_sub(16).min(15);
        packed |= (shift as u16) << bit::WIN_SHIFT;
        // Whatever does not fit is kept wrong, so `agrees` fails and a replay stops.
        CompactMeta {
            stream: m.stream,
            seq: m.seq,
            ack: m.ack,
            win: (m.window >> shift) as u16,
            len: if len > u16::MAX as u32 { 0 } else { len as u16 },
            analysis: m.analysis.flags as u16,
            packed,
        }
    }

    /// `tcp.window_size` (the calculated window).
    pub fn window(&self) -> u32 {
        (self.win as u32) << ((self.packed >> bit::WIN_SHIFT) & 15)
    }
    /// `tcp.analysis` flag bits (`track::analysis::flag`).
    pub fn analysis(&self) -> u32 {
        self.analysis as u32
    }

    fn has(&self, b: u16) -> bool {
        self.packed & b != 0
    }

    /// 0 when sent by endpoint A, else 1.
    pub fn dir(&self) -> u8 {
        (self.packed & bit::DIR) as u8
    }
    pub fn analyzed(&self) -> bool {
        self.has(bit::ANALYZED)
    }
    /// The segment length, when the tracker knew it and it fits 16 bits
    /// (else `Store::seg_len` has it).
    fn seg_len(&self) -> Option<u32> {
        (self.has(bit::LEN) && !self.has(bit::LEN_BIG)).then_some(self.len as u32)
    }
    pub fn phase(&self) -> Phase {
        PHASES[((self.packed >> bit::PHASE_SHIFT) as usize & 7).min(PHASES.len() - 1)]
    }
    pub fn hs_state(&self) -> HsState {
        HsState::ALL[((self.packed >> bit::STATE_SHIFT) as usize & 7).min(HsState::ALL.len() - 1)]
    }
    pub fn from_client(&self) -> Option<bool> {
        match (self.packed >> bit::FROM_CLIENT_SHIFT) & 3 {
            0 => None,
            c => Some(c == 2),
        }
    }

    /// Whether a replayed `TcpMeta` agrees with what the record kept (the
    /// replay stops trusting itself at the first disagreement).
    fn agrees(&self, m: &TcpMeta) -> bool {
        CompactMeta::pack(m) == *self
            && self.window() == m.window
            && self.analysis() == m.analysis.flags
            && (self.has(bit::LEN_BIG) || self.seg_len() == m.len)
    }

    /// A `TcpMeta` from the record alone, for a packet whose stream cannot
    /// be replayed (its first packets left memory, or their bytes were not
    /// kept): what the record holds is exact, the rest is left out.
    fn partial(&self, flow: &FlowSummary, ts_ns: i64, extra: Option<&Extra>) -> TcpMeta {
        let e = extra.copied().unwrap_or_default();
        TcpMeta {
            stream: self.stream,
            dir: self.dir(),
            analyzed: self.analyzed(),
            seq: self.seq,
            ack: self.ack,
            nxtseq: None,
            len: self.seg_len().or(e.big_len),
            completeness: 0,
            window: self.window(),
            scalefactor: None,
            time_rel_ns: ts_ns - flow.first_ts,
            time_delta_ns: 0,
            analysis: Findings {
                flags: self.analysis(),
                dup_ack_num: e.dup_ack_num,
                dup_ack_frame: e.dup_ack_frame,
                rto_ns: e.rto_ns,
                rto_frame: e.rto_frame,
                record: self.analysis != 0,
                ..Findings::default()
            },
            has_tree: self.analysis != 0,
            irtt_ns: None,
            rev_base: 0,
            phase: self.phase(),
            from_client: self.from_client(),
            hs_state: self.hs_state(),
        }
    }
}

pub mod rec_bit {
    pub const MALFORMED: u16 = 1 << 0;
    /// Matches the active compiled display filter.
    pub const MATCHED: u16 = 1 << 1;
    pub const QUOTED: u16 = 1 << 2;
    pub const TRUNCATED: u16 = 1 << 3;
    /// Has an entry in `Store::extras` (rare analysis findings).
    pub const EXTRA: u16 = 1 << 4;
}

/// One stored packet: 48 bytes. The frame's bytes stay in the file (read
/// back by `offset`); the tracker's full results are replayed on demand.
#[derive(Clone, Debug)]
pub struct PacketRec {
    pub ts_ns: i64,
    /// Where the frame's bytes are in the backing file ([`NO_BYTES`]: nowhere).
    pub offset: u64,
    /// The frame number (its low 32 bits: see [`PacketRec::number`]).
    number: u32,
    /// How many records later the stream's next stored packet is (0: none yet).
    next: u32,
    pub flags: u16,
    pub bits: u16,
    pub meta: CompactMeta,
}

/// The offset of a frame whose bytes were not kept (the spool was full).
pub const NO_BYTES: u64 = u64::MAX;

/// "No record" in a flow's list of stored packets.
const NONE: u64 = u64::MAX;

impl PacketRec {
    /// The frame number. Records keep 32 bits of it: a view of a capture
    /// past 4,294,967,295 frames numbers them modulo 2^32.
    pub fn number(&self) -> u64 {
        self.number as u64
    }
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

/// What a record without bytes (a full spool) still needs to rebuild its frame.
#[derive(Clone, Copy, Debug)]
struct NoBytes {
    wire_len: u32,
    cap_len: u32,
    seq_raw: u32,
    ack_raw: u32,
    win_raw: u16,
    hdr_len: u8,
}

/// Where a flow row's summary is.
#[derive(Clone, Debug)]
enum Held {
    /// In the engine, which still follows the stream, filed under this
    /// hash of its four-tuple (one copy of the summary, the engine's).
    Engine(u64),
    /// Let go by the engine: in `Store::retiring` at this position (counted
    /// from the first ever retired), until packed in a later turn.
    Retiring(u64),
    /// Packed (`FlowSummary::pack`, about 130 bytes where the summary is 472).
    Packed(Box<[u8]>),
}

/// A row of the flows table: 64 bytes, the summary apart ([`Held`]);
/// [`Store::flow`] gives both together.
#[derive(Clone, Debug)]
pub struct FlowEntry {
    held: Held,
    /// The stream's stored packets: the first and last record's global
    /// index (`NONE` when none is held); records link to the next one.
    first: u64,
    last: u64,
    /// What the stream's TLS negotiated so far (`hs.tls.*`).
    pub tls: Option<Box<crate::engine::tls::TlsSummary>>,
    /// How many of the stream's packets are held.
    pub stored: u32,
    /// Packets matching the active compiled filter.
    pub matched: u32,
    /// As of the stream's latest packet, for the status bar's counts
    /// (which change on every packet, so they are kept unpacked).
    state: HsState,
    client: Option<u8>,
    /// The handshake completed (`hs.ack_ts` is set).
    done: bool,
    /// Matches the active quick filter.
    pub quick: bool,
}

impl FlowEntry {
    fn new(sum: &FlowSummary) -> FlowEntry {
        FlowEntry {
            held: Held::Engine(crate::track::summary_hash(sum)),
            first: NONE,
            last: NONE,
            tls: None,
            stored: 0,
            matched: 0,
            state: sum.hs.state,
            client: sum.hs.client,
            done: sum.hs.ack_ts.is_some(),
            quick: true,
        }
    }

    /// Follow the stream's latest packet (the engine holds the rest).
    fn follow(&mut self, sum: &FlowSummary) {
        self.state = sum.hs.state;
        self.client = sum.hs.client;
        self.done = sum.hs.ack_ts.is_some();
    }

    /// Keep `sum` here, packed: the engine let the stream go (or a test sets it).
    pub(crate) fn keep(&mut self, sum: &FlowSummary) {
        let mut b = Vec::with_capacity(160);
        sum.pack(&mut b);
        self.held = Held::Packed(b.into_boxed_slice());
        self.follow(sum);
    }

    /// Bytes of the packed summary (0 until packed).
    pub fn packed_len(&self) -> usize {
        match &self.held {
            Held::Packed(b) => b.len(),
            _ => 0,
        }
    }

    pub fn hs_state(&self) -> HsState {
        self.state
    }

    /// The state as the flows table names it: an unanswered SYN is half-open.
    pub fn state_name(&self) -> &'static str {
        state_label(self.state)
    }
}

/// A flow row with its summary: borrowed from the engine while it holds the
/// stream, unpacked from the row after.
pub struct Flow<'a> {
    pub entry: &'a FlowEntry,
    pub sum: std::borrow::Cow<'a, FlowSummary>,
}

impl std::ops::Deref for Flow<'_> {
    type Target = FlowEntry;
    fn deref(&self) -> &FlowEntry {
        self.entry
    }
}

impl Flow<'_> {
    /// "client -> server", lower case, for the quick filter and the Flow sort.
    pub fn label(&self) -> String {
        flow_label(&self.sum).to_lowercase()
    }
}

/// Summaries the engine let go, waiting to be packed into their rows.
#[derive(Default)]
struct Retiring {
    sums: VecDeque<FlowSummary>,
    /// Position of `sums[0]`, counted from the first ever retired.
    base: u64,
}

/// Row `e` (stream `stream`) with its summary.
fn flow_of<'a>(
    engine: &'a Engine,
    retiring: &'a Retiring,
    e: &'a FlowEntry,
    stream: u32,
) -> Flow<'a> {
    use std::borrow::Cow;
    let sum = match &e.held {
        Held::Engine(hash) => engine.live_summary(*hash, stream).map(Cow::Borrowed),
        Held::Retiring(i) => (retiring.sums)
            .get(i.wrapping_sub(retiring.base) as usize)
            .map(Cow::Borrowed),
        Held::Packed(b) => Some(Cow::Owned(FlowSummary::unpack(b))),
    };
    // Never empty: the engine hands over every stream it lets go.
    let sum = sum.unwrap_or_else(|| Cow::Owned(FlowSummary::unpack(&[])));
    Flow { entry: e, sum }
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
    /// The previous frame's time (`frame.time_delta`) of records whose
    /// previous frame is not the record before them (a non-TCP frame in
    /// between, or the oldest record).
    prev_ts: FxHashMap<u64, i64>,
    /// Records without bytes (a full spool): what rebuilds their frame.
    nobytes: FxHashMap<u64, NoBytes>,
    /// Frames whose TCP header came from reassembled IP fragments: their
    /// own bytes do not decode to it, so a replay reads it here.
    reasm: FxHashMap<u64, Box<Frame>>,
    /// The last stream replayed for `meta` (a window of its results).
    replay: RefCell<Option<Replay>>,
    /// What the TLS dissector found, per stored packet that has a TLS record.
    tls: FxHashMap<u64, Box<crate::engine::tls::TlsFrame>>,
    /// Some flow negotiated TLS (the SNI and TLS columns show only then).
    pub has_tls: bool,
    /// Flow rows, indexed by stream (64 bytes each: see [`FlowEntry`]),
    /// in chunks: doubling a million rows would move 64 MB in one turn.
    pub flows: Chunked<FlowEntry>,
    retiring: Retiring,
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
    pub fn new(link: LinkType, budget: Budget, mut limits: Limits) -> Store {
        // A record links to its stream's next one by a 32-bit distance.
        limits.max_packets = limits.max_packets.clamp(1, u32::MAX as usize);
        let mut engine = Engine::new(budget);
        // A filter may test tls/http at any time: follow them from the first packet.
        engine.dissect(crate::engine::AppLayer::App);
        // A retired stream's summary moves into its flow row (packed).
        engine.keep_retired_summaries(true);
        Store {
            link,
            engine,
            recs: Chunked::new(),
            base: 0,
            extras: FxHashMap::default(),
            prev_ts: FxHashMap::default(),
            nobytes: FxHashMap::default(),
            reasm: FxHashMap::default(),
            replay: RefCell::new(None),
            tls: FxHashMap::default(),
            has_tls: false,
            flows: Chunked::new(),
            retiring: Retiring::default(),
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
            if self.get(mid).is_some_and(|r| r.number() < number) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        self.get(lo).filter(|r| r.number() == number).map(|_| lo)
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
    pub fn flow(&self, stream: u32) -> Option<Flow<'_>> {
        let e = self.flows.get(stream as usize)?;
        Some(flow_of(&self.engine, &self.retiring, e, stream))
    }
    /// Every flow row with its summary, in stream order.
    pub fn all_flows(&self) -> impl Iterator<Item = Flow<'_>> {
        let (engine, retiring) = (&self.engine, &self.retiring);
        (self.flows.iter().enumerate()).map(move |(i, e)| flow_of(engine, retiring, e, i as u32))
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
        self.read_frame(g).map(|(b, _)| b)
    }

    /// The captured bytes of a stored packet and its length on the wire.
    pub fn read_frame(&self, g: u64) -> Option<(Vec<u8>, u32)> {
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
        let wire = reader.read_frame(r.offset, &mut buf).ok()?;
        Some((buf, wire))
    }

    /// Push spooled frames to disk so they can be read back (once per event-loop turn).
    pub fn flush_spool(&mut self) {
        if let Backing::Spool(_) = &self.backing {
            // More of the spool is readable: a replay that stopped early may go further.
            if self.replay.get_mut().as_ref().is_some_and(|r| r.stopped) {
                *self.replay.get_mut() = None;
            }
        }
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
        let prev_ts = view.prev_ts;
        let matched = filter.is_some_and(|flt| flt.matches(&view));
        let (Some(&meta), Some(sum)) = (view.meta, view.flow) else {
            self.sync_counts();
            return None;
        };
        let idx = meta.stream as usize;
        let c = &mut self.counts;
        if idx == self.flows.len() {
            let e = FlowEntry::new(sum);
            c.states[state_index(e.state)] += 1;
            self.label_width = self.label_width.max(flow_label(sum).chars().count());
            self.flows.push(e);
        } else if let Some(e) = self.flows.get_mut(idx) {
            let (old_state, old_done, old_client) = (e.state, e.done, e.client);
            e.follow(sum);
            c.states[state_index(old_state)] -= 1;
            c.states[state_index(e.state)] += 1;
            c.completed -= old_done as u64;
            if old_client != e.client {
                self.label_width = self.label_width.max(flow_label(sum).chars().count());
            }
        } else {
            self.keep_retired();
            self.sync_counts();
            return None;
        }
        self.sync_counts();
        self.counts.completed += self.flows[idx].done as u64;
        self.keep_retired();
        let extra = Extra::of(&meta);
        let cm = CompactMeta::pack(&meta);
        // Link the record into its stream's list.
        let e = &mut self.flows[idx];
        let last = e.last;
        e.last = g;
        e.stored += 1;
        e.matched += matched as u32;
        if last == NONE || last < self.base {
            e.first = g;
        } else if let Some(r) = self.recs.get_mut((last - self.base) as usize) {
            // At most `max_packets` (< 2^32) records apart.
            r.next = (g - last) as u32;
        }
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
        // `frame.time_delta`: the record before, unless a frame not stored came between.
        let before = self
            .recs
            .len()
            .checked_sub(1)
            .and_then(|i| self.recs.get(i));
        if !before
            .is_some_and(|b| b.number.wrapping_add(1) == f.number as u32 && b.ts_ns == prev_ts)
        {
            self.prev_ts.insert(g, prev_ts);
        }
        if f.has(proto::REASSEMBLED) {
            self.reasm.insert(g, Box::new(f.clone()));
        }
        let tcp = f.tcp.as_ref();
        if offset == NO_BYTES {
            self.nobytes.insert(
                g,
                NoBytes {
                    wire_len: f.wire_len,
                    cap_len: f.cap_len,
                    seq_raw: tcp.map_or(0, |t| t.seq),
                    ack_raw: tcp.map_or(0, |t| t.ack),
                    win_raw: tcp.map_or(0, |t| t.window),
                    hdr_len: tcp.map_or(0, |t| t.hdr_len),
                },
            );
        }
        let mut bits = 0u16;
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
        if extra.is_some() {
            bits |= rec_bit::EXTRA;
        }
        self.recs.push_back(PacketRec {
            ts_ns: f.ts_ns,
            offset,
            number: f.number as u32,
            next: 0,
            flags: tcp.map_or(0, |t| t.flags),
            bits,
            meta: cm,
        });
        if self
            .replay
            .get_mut()
            .as_ref()
            .is_some_and(|r| r.stream == meta.stream && r.stopped)
        {
            // A replay that stopped early (bytes not on disk yet) may go further now.
            // A complete one stays valid: later packets are past its range.
            *self.replay.get_mut() = None;
        }
        self.enforce_limits();
        Some(g)
    }

    /// The streams the engine let go (budget sweep, port reuse): their
    /// summaries, final now, wait in `retiring` to be packed into their
    /// rows by `pack_retired` (a sweep lets 37k go at once: packing them
    /// in the same turn would hold a key up for 50 ms).
    fn keep_retired(&mut self) {
        if !self.engine.has_retired() {
            return;
        }
        let r = &mut self.retiring;
        let sums = self.engine.take_retired();
        let at = r.base + r.sums.len() as u64;
        for (i, sum) in sums.iter().enumerate() {
            if let Some(e) = self.flows.get_mut(sum.stream as usize) {
                e.held = Held::Retiring(at + i as u64);
            }
        }
        if r.sums.is_empty() {
            // Taken over as it is: a sweep's 100k summaries are 50 MB to copy.
            r.sums = VecDeque::from(sums);
        } else {
            r.sums.extend(sums);
        }
    }

    /// Pack retired summaries into their rows until `deadline`; true while some wait.
    pub fn pack_retired(&mut self, deadline: Instant) -> bool {
        let r = &mut self.retiring;
        let mut n = 0u32;
        while let Some(sum) = r.sums.pop_front() {
            r.base += 1;
            if let Some(e) = self.flows.get_mut(sum.stream as usize) {
                e.keep(&sum);
            }
            n += 1;
            if n % 256 == 0 && Instant::now() >= deadline {
                break;
            }
        }
        if r.sums.is_empty() && r.sums.capacity() > 1024 {
            // A sweep's worth (17 MB) need not stay allocated.
            r.sums = VecDeque::new();
        }
        !r.sums.is_empty()
    }

    /// A file of `bytes` is coming: reserve the stream table for as many
    /// streams as it can plausibly hold (one per 600 bytes of capture, at
    /// most 4M), so it never moves while the view must answer keys.
    pub fn expect_file(&mut self, bytes: u64) {
        self.engine
            .reserve_streams(((bytes / 600) as usize).min(1 << 22));
    }

    /// Whether the engine's stream budget may sweep within `packets` packets.
    pub fn sweep_near(&self, packets: usize) -> bool {
        self.engine.sweep_near(packets)
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
                gone = Some((
                    r.meta.stream,
                    r.matched(),
                    r.bits,
                    r.next,
                    r.number,
                    r.ts_ns,
                ))
            });
            let Some((stream, matched, bits, next, number, ts)) = gone else {
                break;
            };
            if let Some(e) = self.flows.get_mut(stream as usize) {
                if e.first == g {
                    e.first = if next == 0 { NONE } else { g + next as u64 };
                    if e.first == NONE {
                        e.last = NONE;
                    }
                    e.stored = e.stored.saturating_sub(1);
                }
                if matched {
                    e.matched = e.matched.saturating_sub(1);
                }
            }
            if bits & rec_bit::EXTRA != 0 {
                self.extras.remove(&g);
            }
            if !self.tls.is_empty() {
                self.tls.remove(&g);
            }
            if !self.nobytes.is_empty() {
                self.nobytes.remove(&g);
            }
            if !self.reasm.is_empty() {
                self.reasm.remove(&g);
            }
            self.prev_ts.remove(&g);
            self.base += 1;
            // The new oldest record's previous frame is gone: keep its time.
            if let Some(r) = self.recs.get(0) {
                if r.number == number.wrapping_add(1) {
                    self.prev_ts.entry(self.base).or_insert(ts);
                }
            }
            self.counts.evicted += 1;
        }
    }

    /// The stream's stored packets, oldest first (global indices).
    pub fn stream_packets(&self, stream: u32) -> impl Iterator<Item = u64> + '_ {
        let mut g = self.flow(stream).map_or(NONE, |e| e.first);
        std::iter::from_fn(move || {
            let r = self.get(g)?;
            let cur = g;
            g = match r.next {
                0 => NONE,
                n => g + n as u64,
            };
            Some(cur)
        })
    }

    /// The full tracker results for a stored packet: replayed from the file
    /// (the stream alone, through a fresh tracker: the same results as the
    /// full run, which the record's own fields confirm packet by packet).
    /// A stream whose first packets left memory or were never backed has
    /// only what the record holds (see `CompactMeta::partial`).
    pub fn meta(&self, g: u64) -> Option<TcpMeta> {
        let r = self.get(g)?;
        let flow = self.flow(r.meta.stream)?;
        if let Some(m) = self.replayed(g, r.meta.stream) {
            return Some(m);
        }
        Some(r.meta.partial(&flow.sum, r.ts_ns, self.extras.get(&g)))
    }

    /// The rare findings of a packet (dup-ACK number and frame, RTO), kept
    /// in memory so the packet list shows them without a replay.
    pub fn dup_ack(&self, g: u64) -> (u64, u32) {
        self.extras
            .get(&g)
            .map_or((0, 0), |e| (e.dup_ack_frame, e.dup_ack_num))
    }

    /// `time_delta` of a packet (time since the stream's previous frame).
    pub fn time_delta_ns(&self, g: u64) -> i64 {
        self.meta(g).map_or(0, |m| m.time_delta_ns)
    }

    fn replayed(&self, g: u64, stream: u32) -> Option<TcpMeta> {
        if let Some(rp) = self.replay.borrow().as_ref() {
            if rp.stream == stream && (rp.tried.0..=rp.tried.1).contains(&g) {
                return rp.gs.binary_search(&g).ok().map(|i| rp.metas[i]);
            }
        }
        let rp = self.replay_stream(stream, g);
        let out = rp.gs.binary_search(&g).ok().map(|i| rp.metas[i]);
        *self.replay.borrow_mut() = Some(rp);
        out
    }

    /// Replay `stream` from its first packet through a fresh tracker, up to
    /// `REPLAY_WINDOW` packets past `g`, keeping the results around `g`.
    fn replay_stream(&self, stream: u32, g: u64) -> Replay {
        let mut rp = Replay {
            stream,
            tried: (0, u64::MAX),
            stopped: true,
            gs: Vec::new(),
            metas: Vec::new(),
        };
        let Some(flow) = self.flow(stream) else {
            return rp;
        };
        let Some(first) = self.get(flow.first) else {
            return rp;
        };
        if first.number() != flow.sum.first_frame & u32::MAX as u64 {
            // The stream's first packets left memory: nothing to replay from.
            return rp;
        }
        let list: Vec<u64> = self.stream_packets(stream).collect();
        let Ok(p) = list.binary_search(&g) else {
            return rp;
        };
        let lo = p.saturating_sub(REPLAY_WINDOW);
        let hi = (p + REPLAY_WINDOW + 1).min(list.len());
        rp.tried = (list[lo], list[hi - 1]);
        let mut tracker = Tracker::new(Budget::default());
        if first.meta.analysis() & crate::track::analysis::flag::REUSED_PORTS != 0 {
            tracker.start_as_reused();
        }
        let mut buf = Vec::new();
        for (i, &x) in list[..hi].iter().enumerate() {
            let Some(rec) = self.get(x) else {
                break;
            };
            let f = match self.reasm.get(&x) {
                Some(f) => Frame {
                    flow_hash: 0,
                    ..**f
                },
                None => {
                    let Some(reader) = self.reader_for(x) else {
                        break;
                    };
                    let Ok(wire) = reader.read_frame(rec.offset, &mut buf) else {
                        break;
                    };
                    decode::decode(self.link, rec.number(), rec.ts_ns, wire, &buf)
                }
            };
            let Some((m, _)) = tracker.process(&f) else {
                break;
            };
            let m = TcpMeta { stream, ..*m };
            if !rec.meta.agrees(&m) {
                break;
            }
            if i >= lo {
                rp.gs.push(x);
                rp.metas.push(m);
            }
            if i + 1 == hi {
                rp.stopped = false;
            }
        }
        rp
    }

    /// The reader that holds record `g`'s bytes, when they can be read now.
    fn reader_for(&self, g: u64) -> Option<&FrameFile> {
        let r = self.get(g)?;
        if !r.has_bytes() {
            return None;
        }
        match &self.backing {
            Backing::File { reader, .. } => Some(reader),
            Backing::Spool(sp) if r.offset < sp.writer.flushed_len() => Some(&sp.reader),
            _ => None,
        }
    }

    /// The decoded frame: decoded again from the bytes when they are still
    /// held, otherwise rebuilt from the record (no options, no payload).
    /// Record `g`'s `tcp.len`, when the tracker knew it.
    pub fn seg_len(&self, g: u64, r: &PacketRec) -> Option<u32> {
        if r.meta.has(bit::LEN_BIG) {
            return self.extras.get(&g).and_then(|e| e.big_len);
        }
        r.meta.seg_len()
    }

    pub fn frame(&self, g: u64) -> Option<Frame> {
        let r = self.get(g)?;
        if let Some((b, wire)) = self.read_frame(g) {
            return Some(decode::decode(self.link, r.number(), r.ts_ns, wire, &b));
        }
        let flow = self.flow(r.meta.stream)?;
        let flow = &*flow.sum;
        let raw = self.nobytes.get(&g).copied().unwrap_or(NoBytes {
            wire_len: 0,
            cap_len: 0,
            seq_raw: r.meta.seq,
            ack_raw: r.meta.ack,
            win_raw: r.meta.window().min(u16::MAX as u32) as u16,
            hdr_len: 20,
        });
        let (src, dst) = if r.meta.dir() == 0 {
            (flow.a, flow.b)
        } else {
            (flow.b, flow.a)
        };
        let v6 = src.0.is_ipv6();
        let len = self.seg_len(g, r).unwrap_or(0);
        let ip = IpHeader {
            hdr_len: if v6 { 40 } else { 20 },
            len_field: if v6 {
                raw.hdr_len as u32 + len
            } else {
                20 + raw.hdr_len as u32 + len
            },
            ..IpHeader::bare(src.0, dst.0, 6)
        };
        let tcp = TcpHeader {
            src_port: src.1,
            dst_port: dst.1,
            has_fixed: true,
            seq: raw.seq_raw,
            ack: raw.ack_raw,
            hdr_len: raw.hdr_len,
            flags: r.flags,
            window: raw.win_raw,
            checksum: None,
            urgent: 0,
            options: TcpOptions::default(),
            seg_len: self.seg_len(g, r),
            quoted: r.bits & rec_bit::QUOTED != 0,
        };
        Some(Frame {
            number: r.number(),
            ts_ns: r.ts_ns,
            wire_len: raw.wire_len,
            cap_len: raw.cap_len,
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
        let (bytes, frame) = match self.read_frame(g) {
            Some((b, wire)) => {
                let f = decode::decode(self.link, r.number(), r.ts_ns, wire, &b);
                (b, f)
            }
            None => (Vec::new(), self.frame(g)?),
        };
        let prev_ts = match self.prev_ts.get(&g) {
            Some(&t) => t,
            None => g
                .checked_sub(1)
                .and_then(|p| self.get(p))
                .map_or(r.ts_ns, |p| p.ts_ns),
        };
        let meta = self.meta(g)?;
        let flow = self.flow(r.meta.stream)?;
        let view = crate::fields::PacketView {
            frame: &frame,
            bytes: &bytes,
            meta: Some(&meta),
            flow: Some(&*flow.sum),
            first_ts: self.counts.first_ts.unwrap_or(r.ts_ns),
            prev_ts,
            app: None,
            diff: None,
            tls: self.tls.get(&g).map(|t| &**t),
            tls_stream: flow.tls.as_deref(),
        };
        Some(k(&view))
    }
}

#[cfg(test)]
mod tests;
