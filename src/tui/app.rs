//! `App`: all of the UI's state and every state transition (keys, mouse,
//! capture events, background jobs). No rendering here; `ui` draws from
//! `&App`. Work that could take long (ingesting a large file, applying a
//! filter to a million packets, saving) runs in slices bounded by a
//! deadline, so the event loop answers a key within one frame.

use super::detail::{self, TreeLine, SECTIONS};
use super::filter::PacketFilter;
use super::filter::{CompiledFilter, Compiler, QuickFilter};
use super::jobs::{Scan, ScanMsg, ScanSpec, StreamSet};
use super::keys::{self, Action};
use super::store::{FlowEntry, Limits, PacketRec, Store};
use crate::capture::{Batch, Event};
use crate::decode::LinkType;
use crate::output::pcap_file::{Create, PcapWriter};
use crate::track::Budget;
use crossbeam_channel::{Receiver, TryRecvError};
use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::{Position, Rect};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    Flows,
    Packets,
    Details,
    /// The bytes of the selected packet (scrolls by rows of 16 bytes).
    Bytes,
}

/// The packet time column (`t` cycles).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeFormat {
    /// Since the flow's first packet.
    Flow,
    /// Since the capture's first packet (Wireshark's default column).
    Capture,
    /// Time of day.
    Clock,
    /// Since the flow's previous packet.
    Delta,
}

impl TimeFormat {
    pub fn next(self) -> TimeFormat {
        match self {
            TimeFormat::Flow => TimeFormat::Capture,
            TimeFormat::Capture => TimeFormat::Clock,
            TimeFormat::Clock => TimeFormat::Delta,
            TimeFormat::Delta => TimeFormat::Flow,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            TimeFormat::Flow => "since flow start",
            TimeFormat::Capture => "since capture start",
            TimeFormat::Clock => "time of day",
            TimeFormat::Delta => "delta",
        }
    }
}

/// Columns of the flows table that sort (`s` cycles).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    Stream,
    Flow,
    State,
    Irtt,
    SynRtx,
    Packets,
    Bytes,
    Duration,
    LastSeen,
}

impl SortKey {
    pub const ALL: [SortKey; 9] = [
        SortKey::Stream,
        SortKey::Flow,
        SortKey::State,
        SortKey::Irtt,
        SortKey::SynRtx,
        SortKey::Packets,
        SortKey::Bytes,
        SortKey::Duration,
        SortKey::LastSeen,
    ];
    pub fn next(self) -> SortKey {
        let i = Self::ALL.iter().position(|&k| k == self).unwrap_or(0);
        Self::ALL[(i + 1) % Self::ALL.len()]
    }
    /// Numbers sort largest first by default; names and the stream index ascending.
    pub fn default_desc(self) -> bool {
        !matches!(self, SortKey::Stream | SortKey::Flow | SortKey::State)
    }
    pub fn name(self) -> &'static str {
        match self {
            SortKey::Stream => "stream",
            SortKey::Flow => "client → server",
            SortKey::State => "state",
            SortKey::Irtt => "initial RTT",
            SortKey::SynRtx => "SYN retransmissions",
            SortKey::Packets => "packets",
            SortKey::Bytes => "bytes",
            SortKey::Duration => "duration",
            SortKey::LastSeen => "last seen",
        }
    }
}

/// Screen areas of the last layout (for mouse hits and page sizes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Areas {
    pub filter: Rect,
    /// Panes, borders included; `Rect::default()` when not shown.
    pub flows: Rect,
    pub packets: Rect,
    pub details: Rect,
    /// Inside the details pane: the tree and the hex dump.
    pub tree: Rect,
    pub hex: Rect,
    pub status: Rect,
    /// The terminal is below 80x24.
    pub too_small: bool,
}

/// Rows of a bordered table pane (below the border and the header row).
pub fn table_body(pane: Rect) -> Rect {
    Rect {
        x: pane.x + 1,
        y: pane.y + 2,
        width: pane.width.saturating_sub(2),
        height: pane.height.saturating_sub(3),
    }
}

/// Rows of a bordered pane without a header row.
pub fn pane_body(pane: Rect) -> Rect {
    Rect {
        x: pane.x + 1,
        y: pane.y + 1,
        width: pane.width.saturating_sub(2),
        height: pane.height.saturating_sub(2),
    }
}

/// The flows table's state.
#[derive(Debug, Default)]
pub struct FlowsView {
    /// Stream indices of the visible flows, in display order.
    pub rows: Vec<u32>,
    pub sel: usize,
    pub offset: usize,
    /// Keep the selection on the newest flow as flows arrive.
    pub follow: bool,
    dirty: bool,
    last_rebuild: Option<Instant>,
}

impl FlowsView {
    pub fn selected(&self) -> Option<u32> {
        self.rows.get(self.sel).copied()
    }
}

/// The packet list (and ladder) of the selected flow.
#[derive(Debug, Default)]
pub struct PacketsView {
    pub stream: Option<u32>,
    /// Global packet indices of the flow's visible packets.
    pub rows: Vec<u64>,
    pub sel: usize,
    pub offset: usize,
}

impl PacketsView {
    pub fn selected(&self) -> Option<u64> {
        self.rows.get(self.sel).copied()
    }
}

#[derive(Debug)]
pub struct DetailView {
    pub expanded: [bool; SECTIONS.len()],
    pub sel: usize,
    pub offset: usize,
    /// First row of the bytes pane when it has the focus.
    pub hex_offset: usize,
}

impl Default for DetailView {
    fn default() -> Self {
        DetailView {
            expanded: SECTIONS.map(|s| s.default_expanded()),
            sel: 0,
            offset: 0,
            hex_offset: 0,
        }
    }
}

/// The filter in force.
pub enum Active {
    None,
    Quick(QuickFilter),
    Compiled(CompiledFilter),
}

/// A filter being applied over what is already stored.
pub enum FilterJob {
    /// Quick filter: flows, next index and end.
    Flows { next: u64, end: u64 },
    /// Compiled filter: the capture re-read from its first frame up to
    /// `horizon` (the frames stored when it was applied; later frames are
    /// filtered as they arrive). `cursor` is the next record to match against.
    Packets {
        scan: Scan,
        cursor: u64,
        read: u64,
        horizon: u64,
    },
}

impl FilterJob {
    pub fn progress(&self) -> f64 {
        let (done, total) = match self {
            FilterJob::Flows { next, end } => (*next, *end),
            FilterJob::Packets { read, horizon, .. } => (*read, *horizon),
        };
        done as f64 / total.max(1) as f64
    }
    /// How far the job is (for redraw decisions).
    pub fn position(&self) -> u64 {
        match self {
            FilterJob::Flows { next, .. } => *next,
            FilterJob::Packets { read, .. } => *read,
        }
    }
}

pub struct FilterBar {
    pub input: String,
    /// Byte offset of the cursor in `input` (on a char boundary).
    pub cursor: usize,
    pub editing: bool,
    /// The text of the filter in force.
    pub applied: String,
    pub history: Vec<String>,
    hist_pos: Option<usize>,
    /// The input compiles (always true for the quick filter).
    pub check: Result<(), String>,
    pub compiler: Option<Compiler>,
    pub active: Active,
    pub job: Option<FilterJob>,
    /// How long the last filter took to apply.
    pub last_run: Option<Duration>,
    job_started: Option<Instant>,
}

impl FilterBar {
    fn new(compiler: Option<Compiler>) -> FilterBar {
        FilterBar {
            input: String::new(),
            cursor: 0,
            editing: false,
            applied: String::new(),
            history: Vec::new(),
            hist_pos: None,
            check: Ok(()),
            compiler,
            active: Active::None,
            job: None,
            last_run: None,
            job_started: None,
        }
    }
    pub fn is_quick(&self) -> bool {
        self.compiler.is_none()
    }
    fn recheck(&mut self) {
        self.check = match (self.compiler, self.input.trim().is_empty()) {
            (Some(c), false) => c(&self.input).map(|_| ()),
            _ => Ok(()),
        };
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Severity {
    Info,
    Error,
}

/// Where the packets come from, for the status bar.
#[derive(Clone, Debug, Default)]
pub struct SourceInfo {
    pub name: String,
    pub live: bool,
    pub file_size: Option<u64>,
    /// The capture file, when the source is one: frame bytes are read back from it.
    pub path: Option<PathBuf>,
}

/// The capture thread's last word.
#[derive(Clone, Debug, Default)]
pub struct CaptureStatus {
    pub done: bool,
    pub error: Option<String>,
    pub stats: Option<crate::capture::Stats>,
}

/// One server's handshakes, for the servers view (`i`): the tally the `-q`
/// summary counts, its initial RTTs sorted.
pub struct ServerRow {
    pub server: crate::track::Endpoint,
    pub tally: crate::engine::servers::ServerTally,
}

/// Per-server handshake statistics and an initial-RTT histogram.
pub struct ServersView {
    pub rows: Vec<ServerRow>,
    pub selected: usize,
}

impl ServersView {
    /// Built from the flows' latest summaries (streams without a handshake are left out).
    pub fn build<'a>(flows: impl Iterator<Item = &'a crate::track::FlowSummary>) -> ServersView {
        use crate::engine::servers::{ranked, server_of, ServerTally};
        let mut by: std::collections::HashMap<crate::track::Endpoint, ServerTally> =
            Default::default();
        for f in flows {
            if let Some(server) = server_of(f) {
                by.entry(server).or_default().add(f);
            }
        }
        let rows = ranked(&by)
            .into_iter()
            .map(|(server, t)| {
                let mut tally = t.clone();
                tally.irtt.sort_unstable();
                ServerRow { server, tally }
            })
            .collect();
        ServersView { rows, selected: 0 }
    }
}

/// The filter presets picker: named filters from `filters/`.
pub struct Picker {
    pub items: Vec<crate::filter::presets::Preset>,
    pub selected: usize,
}

/// Figures recomputed a few times a second, not every frame.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub median_irtt: Option<i64>,
    /// SYN floods and port scans among the flows so far (refreshed every 2 s at most).
    pub alarms: Vec<crate::track::alarms::Alarm>,
    /// Packets per second over the last seconds (live captures).
    pub rate: Option<f64>,
}

/// `w` running: the capture re-read and the kept frames written.
struct SaveJob {
    path: PathBuf,
    scan: Scan,
    /// What the saved file lacks, said when it is done (a spool that stopped).
    lacks: Option<String>,
}

pub struct App {
    pub store: Store,
    pub source: SourceInfo,
    pub focus: Focus,
    pub ladder: bool,
    pub time: TimeFormat,
    pub raw_seq: bool,
    pub sort: SortKey,
    pub sort_desc: bool,
    pub paused: bool,
    pending: VecDeque<Batch>,
    pub pending_packets: u64,
    pub filter: FilterBar,
    pub flows: FlowsView,
    pub packets: PacketsView,
    pub detail: DetailView,
    pub help: bool,
    /// The presets picker (`F`), when open.
    pub picker: Option<Picker>,
    /// The servers view (`i`), when open.
    pub servers: Option<ServersView>,
    /// The alarms overlay (`a`) is open.
    pub alarms: bool,
    /// When the message last changed (info messages fade after `MESSAGE_FOR`).
    pub(crate) message_seen: Option<(String, Instant)>,
    pub capture: CaptureStatus,
    pub message: Option<(Severity, String)>,
    pub summary: Summary,
    pub areas: Areas,
    pub quit: bool,
    /// Clock times in UTC instead of local time (tests).
    pub utc: bool,
    pub save_dir: PathBuf,
    save: Option<SaveJob>,
    rate_samples: VecDeque<(Instant, u64)>,
    last_summary: Option<Instant>,
    last_alarms: Option<Instant>,
    /// Alarm thresholds (from the command line).
    pub alarm_cfg: crate::track::alarms::AlarmConfig,
    /// The engine's stream state was freed at the end of the source.
    released: bool,
}

/// How long an informational message stays in the status line.
pub(crate) const MESSAGE_FOR: Duration = Duration::from_secs(6);

/// How often data changes may re-sort the flows table.
const REBUILD_EVERY: Duration = Duration::from_millis(250);
const SUMMARY_EVERY: Duration = Duration::from_millis(500);

impl App {
    pub fn new(
        source: SourceInfo,
        link: LinkType,
        budget: Budget,
        limits: Limits,
        compiler: Option<Compiler>,
    ) -> App {
        let live = source.live;
        App {
            store: Store::new(link, budget, limits),
            source,
            focus: Focus::Flows,
            ladder: false,
            time: TimeFormat::Flow,
            raw_seq: false,
            sort: SortKey::Stream,
            sort_desc: false,
            paused: false,
            pending: VecDeque::new(),
            pending_packets: 0,
            filter: FilterBar::new(compiler),
            flows: FlowsView {
                follow: live,
                ..FlowsView::default()
            },
            packets: PacketsView::default(),
            detail: DetailView::default(),
            help: false,
            picker: None,
            servers: None,
            alarms: false,
            message_seen: None,
            capture: CaptureStatus::default(),
            message: None,
            summary: Summary::default(),
            areas: Areas::default(),
            quit: false,
            utc: false,
            save_dir: PathBuf::from("."),
            save: None,
            rate_samples: VecDeque::new(),
            last_summary: None,
            last_alarms: None,
            alarm_cfg: Default::default(),
            released: false,
        }
    }

    // ---------------------------------------------------------------- capture

    /// Take events from the capture thread until `deadline`. Batches are
    /// ingested as they come; while the display is paused they queue
    /// instead (a file stops being read, a live capture keeps being drained
    /// so the kernel drops nothing). Returns true if more may be waiting.
    pub fn pump(&mut self, rx: &Receiver<Event>, deadline: Instant) -> bool {
        loop {
            if !self.paused {
                if let Some(b) = self.pending.pop_front() {
                    self.pending_packets -= b.len() as u64;
                    self.ingest(&b);
                    if Instant::now() >= deadline {
                        return true;
                    }
                    continue;
                }
            } else if !self.source.live && !self.pending.is_empty() {
                return false;
            }
            match rx.try_recv() {
                Ok(ev) => self.on_event(ev),
                Err(TryRecvError::Empty) => return false,
                Err(TryRecvError::Disconnected) => {
                    self.capture.done = true;
                    return false;
                }
            }
            if Instant::now() >= deadline {
                return true;
            }
        }
    }

    /// One event from the capture thread.
    pub fn on_event(&mut self, ev: Event) {
        match ev {
            Event::Batch(b) => {
                if self.paused {
                    self.pending_packets += b.len() as u64;
                    self.pending.push_back(b);
                    // A long pause must not outgrow the packet budget.
                    while self.pending_packets > self.store.limits.max_packets as u64 {
                        let Some(old) = self.pending.pop_front() else {
                            break;
                        };
                        self.pending_packets -= old.len() as u64;
                        self.ingest(&old);
                    }
                } else {
                    self.ingest(&b);
                }
            }
            Event::Stats(s) => self.capture.stats = Some(s),
            Event::Done(e) => {
                self.capture.done = true;
                // Everything is in: recompute alarms at the next summary.
                self.last_alarms = None;
                if let Some(e) = e {
                    self.capture.error = Some(e.to_string());
                }
            }
        }
    }

    /// Track and store a batch, and keep the views and the filter up to date.
    pub fn ingest(&mut self, batch: &Batch) {
        let sel_stream = self.packets.stream;
        let append_flows = self.sort == SortKey::Stream && !self.sort_desc && !self.flows.dirty;
        // Visibility of the flows first seen in this batch, by stream - flows_before.
        let mut new_vis: Vec<bool> = Vec::new();
        let mut new_pkts: Vec<u64> = Vec::new();
        let mut dirty = false;
        let active = &self.filter.active;
        let flows_before = self.store.flows.len();
        let compiled = match active {
            Active::Compiled(f) => Some(&**f as &dyn PacketFilter),
            _ => None,
        };
        let path = self.source.path.as_deref();
        self.store.ingest_batch(batch, path, compiled, |store, g| {
            let Some(r) = store.get(g) else { return };
            let stream = r.meta.stream;
            let (was, now, pkt_visible) = match active {
                Active::None => (true, true, true),
                Active::Quick(q) => {
                    let e = &mut store.flows[stream as usize];
                    let was = e.quick;
                    e.quick = q.matches(e);
                    (was, e.quick, true)
                }
                Active::Compiled(_) => {
                    // The store evaluated the filter on the engine's view and counted it.
                    let m = r.matched();
                    let e = &store.flows[stream as usize];
                    (e.matched > m as u32, e.matched > 0, m)
                }
            };
            if let Some(i) = (stream as usize).checked_sub(flows_before) {
                if new_vis.len() <= i {
                    new_vis.resize(i + 1, false);
                }
                if new_vis[i] && !now {
                    dirty = true;
                }
                new_vis[i] |= now;
            } else if was != now {
                dirty = true;
            }
            if pkt_visible && Some(stream) == sel_stream {
                new_pkts.push(g);
            }
        });
        let new_rows = new_vis
            .iter()
            .enumerate()
            .filter(|(_, &v)| v)
            .map(|(i, _)| (flows_before + i) as u32);
        if append_flows && !dirty {
            self.flows.rows.extend(new_rows);
        } else {
            self.flows.dirty = true;
        }
        if self.sort != SortKey::Stream || self.sort_desc {
            // Counters changed under a sort by a counter.
            self.flows.dirty = true;
        }
        self.packets.rows.extend_from_slice(&new_pkts);
        // Evicted packets leave the list.
        let base = self.store.base();
        let cut = self.packets.rows.partition_point(|&g| g < base);
        if cut > 0 {
            self.packets.rows.drain(..cut);
            self.packets.sel = self.packets.sel.saturating_sub(cut);
            self.packets.offset = self.packets.offset.saturating_sub(cut);
        }
        if self.flows.follow && !self.flows.rows.is_empty() {
            self.select_flow_row(self.flows.rows.len() - 1);
        } else if self.packets.stream.is_none() && !self.flows.rows.is_empty() {
            self.select_flow_row(self.flows.sel);
        }
    }

    /// The capture ended and everything it sent is in the store.
    pub fn loaded(&self) -> bool {
        self.capture.done && self.pending.is_empty()
    }

    /// Loading progress of a file, 0..=1.
    pub fn progress(&self) -> Option<f64> {
        let size = self.source.file_size.filter(|&s| s > 0)?;
        if self.loaded() {
            return Some(1.0);
        }
        Some((self.store.counts.source_bytes as f64 / size as f64).min(0.99))
    }

    // ---------------------------------------------------------------- background work

    /// Do deferred work until `deadline`: the filter job, saving, re-sorting,
    /// the status figures. Returns true if work remains.
    pub fn work(&mut self, deadline: Instant) -> bool {
        // Spooled frames become readable (details, hex) once on disk.
        self.store.flush_spool();
        self.age_message();
        if self.loaded() && !self.released {
            self.released = true;
            self.store.release_engine();
        }
        let mut more = false;
        // Re-sorting a large table takes a turn of its own, so no turn does
        // a filter slice and a re-sort together.
        let due = self
            .flows
            .last_rebuild
            .is_none_or(|t| t.elapsed() >= REBUILD_EVERY);
        if self.flows.dirty && due {
            self.rebuild_flows();
            more = self.filter.job.is_some() || self.save.is_some();
        } else {
            if self.filter.job.is_some() {
                more |= self.step_filter(deadline);
            }
            if self.save.is_some() {
                more |= self.step_save(deadline);
            }
        }
        if self
            .last_summary
            .is_none_or(|t| t.elapsed() >= SUMMARY_EVERY)
        {
            self.refresh_summary();
        }
        more || (!self.paused && !self.pending.is_empty())
    }

    /// An informational message goes after `MESSAGE_FOR`; an error stays
    /// until replaced or until what it was about is fixed.
    fn age_message(&mut self) {
        let now = Instant::now();
        match &self.message {
            None => self.message_seen = None,
            Some((sev, text)) => match &self.message_seen {
                Some((seen, at)) if seen == text => {
                    if *sev == Severity::Info
                        && now.duration_since(*at) >= MESSAGE_FOR
                        && self.save.is_none()
                    {
                        self.message = None;
                        self.message_seen = None;
                    }
                }
                _ => self.message_seen = Some((text.clone(), now)),
            },
        }
    }

    /// Finish all deferred work now (tests, end of a file).
    pub fn settle(&mut self) {
        let far = Instant::now() + Duration::from_secs(3600);
        while self.work(far) {}
        if self.flows.dirty {
            self.rebuild_flows();
        }
        self.refresh_summary();
    }

    fn refresh_summary(&mut self) {
        let now = Instant::now();
        self.last_summary = Some(now);
        let mut rtts: Vec<i64> = self
            .store
            .flows
            .iter()
            .filter_map(|f| f.sum.handshake_rtt())
            .collect();
        self.summary.median_irtt = if rtts.is_empty() {
            None
        } else {
            let mid = rtts.len() / 2;
            Some(*rtts.select_nth_unstable(mid).1)
        };
        // Alarms walk every flow: not more often than every 2 s.
        if self
            .last_alarms
            .is_none_or(|t| now.duration_since(t) >= Duration::from_secs(2))
        {
            self.last_alarms = Some(now);
            let mut alarms = crate::track::alarms::Alarms::new(self.alarm_cfg);
            for f in self.store.flows.iter() {
                alarms.add(&f.sum);
            }
            self.summary.alarms = alarms.raised();
        }
        if self.source.live {
            self.rate_samples.push_back((now, self.store.counts.frames));
            while self.rate_samples.len() > 2
                && now.duration_since(self.rate_samples[0].0) > Duration::from_secs(5)
            {
                self.rate_samples.pop_front();
            }
            let (t0, n0) = self.rate_samples[0];
            let dt = now.duration_since(t0).as_secs_f64();
            self.summary.rate = (dt > 0.2).then(|| (self.store.counts.frames - n0) as f64 / dt);
        }
    }

    // ---------------------------------------------------------------- filter

    pub fn flow_visible(&self, e: &FlowEntry) -> bool {
        match &self.filter.active {
            Active::None => true,
            Active::Quick(_) => e.quick,
            Active::Compiled(_) => e.matched > 0,
        }
    }

    pub fn packet_visible(&self, r: &PacketRec) -> bool {
        match &self.filter.active {
            Active::Compiled(_) => r.matched(),
            _ => true,
        }
    }

    /// Apply `text` as the filter (Enter in the filter bar).
    pub fn apply_filter(&mut self, text: &str) {
        let text = text.trim().to_string();
        if !text.is_empty() {
            self.filter.history.retain(|h| *h != text);
            self.filter.history.push(text.clone());
        }
        let active = if text.is_empty() {
            Active::None
        } else if let Some(c) = self.filter.compiler {
            match c(&text) {
                Ok(f) => Active::Compiled(f),
                Err(e) => {
                    self.message = Some((Severity::Error, format!("filter not applied: {e}")));
                    return;
                }
            }
        } else {
            Active::Quick(QuickFilter::parse(&text))
        };
        // The filter now in force answers any complaint about the last one.
        if self
            .message
            .as_ref()
            .is_some_and(|(_, m)| m.starts_with("filter not applied"))
        {
            self.message = None;
        }
        self.filter.applied = text;
        self.filter.active = active;
        self.filter.job_started = Some(Instant::now());
        self.filter.job = match &self.filter.active {
            Active::None => {
                self.filter.job_started = None;
                None
            }
            Active::Quick(_) => {
                for e in &mut self.store.flows {
                    e.quick = false;
                }
                let end = self.store.flows.len() as u64;
                Some(FilterJob::Flows { next: 0, end })
            }
            Active::Compiled(f) => {
                for e in &mut self.store.flows {
                    e.matched = 0;
                }
                for g in self.store.base()..self.store.end() {
                    if let Some(r) = self.store.get_mut(g) {
                        r.set_matched(false);
                    }
                }
                let horizon = self.store.counts.frames;
                match self.store.backing_file() {
                    Some((path, _)) if horizon > 0 => Some(FilterJob::Packets {
                        scan: Scan::start(ScanSpec {
                            path,
                            frames: Some(horizon),
                            budget: self.store.budget,
                            filter: Some(f.clone()),
                            streams: None,
                            save: None,
                        }),
                        cursor: self.store.base(),
                        read: 0,
                        horizon,
                    }),
                    _ => None,
                }
            }
        };
        self.flows.follow = false;
        self.rebuild_flows();
        self.sync_packets(true);
    }

    /// Run the filter job until `deadline`. Returns true if unfinished.
    fn step_filter(&mut self, deadline: Instant) -> bool {
        let Some(mut job) = self.filter.job.take() else {
            return false;
        };
        let finished = match &mut job {
            FilterJob::Flows { next, end } => {
                let Active::Quick(q) = &self.filter.active else {
                    return false;
                };
                let mut n = 0u32;
                while *next < *end {
                    let e = &mut self.store.flows[*next as usize];
                    e.quick = q.matches(e);
                    *next += 1;
                    n += 1;
                    if n % 1024 == 0 && Instant::now() >= deadline {
                        break;
                    }
                }
                *next >= *end
            }
            FilterJob::Packets {
                scan, cursor, read, ..
            } => {
                let mut finished = false;
                for msg in scan.poll() {
                    match msg {
                        ScanMsg::Kept(numbers, r) => {
                            *read = r;
                            for n in numbers {
                                self.mark_matched(cursor, n);
                            }
                        }
                        ScanMsg::Done { error, .. } => {
                            finished = true;
                            if let Some(e) = error {
                                self.message =
                                    Some((Severity::Error, format!("filter incomplete: {e}")));
                            }
                        }
                    }
                }
                finished
            }
        };
        self.flows.dirty = true;
        if finished {
            self.filter.last_run = self.filter.job_started.take().map(|t| t.elapsed());
            self.rebuild_flows();
            self.sync_packets(true);
            false
        } else {
            self.filter.job = Some(job);
            true
        }
    }

    /// Frame `number` matched the filter: mark its record (records are in
    /// frame order; `cursor` only moves forward). Non-TCP frames have none.
    fn mark_matched(&mut self, cursor: &mut u64, number: u64) {
        *cursor = (*cursor).max(self.store.base());
        while self.store.get(*cursor).is_some_and(|r| r.number < number) {
            *cursor += 1;
        }
        if let Some(r) = self.store.get_mut(*cursor).filter(|r| r.number == number) {
            if !r.matched() {
                r.set_matched(true);
                let stream = r.meta.stream as usize;
                if let Some(e) = self.store.flows.get_mut(stream) {
                    e.matched += 1;
                }
            }
        }
    }

    // ---------------------------------------------------------------- views

    fn sort_key(&self, e: &FlowEntry) -> (i128, u32) {
        let s = &e.sum;
        let k: i128 = match self.sort {
            SortKey::Stream | SortKey::Flow => 0,
            SortKey::State => super::store::state_index(s.hs.state) as i128,
            SortKey::Irtt => s.handshake_rtt().map(|v| v as i128).unwrap_or(-1),
            SortKey::SynRtx => s.hs.syn_retransmissions() as i128,
            SortKey::Packets => s.total_frames() as i128,
            SortKey::Bytes => s.total_bytes() as i128,
            SortKey::Duration => s.duration_ns() as i128,
            SortKey::LastSeen => s.last_ts as i128,
        };
        (k, s.stream)
    }

    /// Recompute the visible, sorted flow list, keeping the selected flow selected.
    pub fn rebuild_flows(&mut self) {
        let selected = self.flows.selected();
        let mut rows: Vec<u32> = self
            .store
            .flows
            .iter()
            .filter(|e| self.flow_visible(e))
            .map(|e| e.sum.stream)
            .collect();
        let flows = &self.store.flows;
        let desc = self.sort_desc;
        match self.sort {
            SortKey::Stream => {
                if desc {
                    rows.reverse();
                }
            }
            SortKey::Flow => {
                rows.sort_by(|&a, &b| {
                    let o = flows[a as usize].label.cmp(&flows[b as usize].label);
                    (if desc { o.reverse() } else { o }).then(a.cmp(&b))
                });
            }
            _ => {
                let mut keyed: Vec<((i128, u32), u32)> = rows
                    .iter()
                    .map(|&s| (self.sort_key(&flows[s as usize]), s))
                    .collect();
                keyed.sort_unstable_by(|a, b| {
                    let o = a.0 .0.cmp(&b.0 .0);
                    (if desc { o.reverse() } else { o }).then(a.0 .1.cmp(&b.0 .1))
                });
                rows = keyed.into_iter().map(|(_, s)| s).collect();
            }
        }
        self.flows.rows = rows;
        self.flows.dirty = false;
        self.flows.last_rebuild = Some(Instant::now());
        let n = self.flows.rows.len();
        let sel = if self.flows.follow && n > 0 {
            n - 1
        } else {
            match selected.and_then(|s| self.flows.rows.iter().position(|&x| x == s)) {
                Some(i) => i,
                None => self.flows.sel.min(n.saturating_sub(1)),
            }
        };
        self.select_flow_row(sel);
    }

    /// Select row `i` of the flows table.
    fn select_flow_row(&mut self, i: usize) {
        let n = self.flows.rows.len();
        self.flows.sel = i.min(n.saturating_sub(1));
        let h = self.page(Focus::Flows);
        self.flows.offset = scroll_to(self.flows.sel, self.flows.offset, h, n);
        self.sync_packets(false);
    }

    /// Make the packet list show the selected flow (`force`: rebuild even if it is the same flow).
    pub fn sync_packets(&mut self, force: bool) {
        let stream = self.flows.selected();
        if stream == self.packets.stream && !force {
            return;
        }
        let same = stream == self.packets.stream;
        let keep = if same { self.packets.selected() } else { None };
        self.packets.stream = stream;
        self.packets.rows = match stream.and_then(|s| self.store.flow(s)) {
            Some(e) => e
                .packets
                .iter()
                .copied()
                .filter(|&g| self.store.get(g).is_some_and(|r| self.packet_visible(r)))
                .collect(),
            None => Vec::new(),
        };
        self.packets.sel = match keep {
            Some(g) => self
                .packets
                .rows
                .partition_point(|&x| x < g)
                .min(self.packets.rows.len().saturating_sub(1)),
            None => 0,
        };
        if !same {
            self.packets.offset = 0;
        }
        let h = self.page(Focus::Packets);
        self.packets.offset = scroll_to(
            self.packets.sel,
            self.packets.offset,
            h,
            self.packets.rows.len(),
        );
    }

    /// The detail tree of the selected packet, as shown.
    pub fn tree(&self) -> Vec<TreeLine> {
        match self.packets.selected() {
            Some(g) => detail::build(&self.store, g, &self.detail.expanded),
            None => Vec::new(),
        }
    }

    /// Rows a page holds in a pane (from the last layout; 10 before the first).
    pub fn page(&self, pane: Focus) -> usize {
        let h = match pane {
            Focus::Flows => table_body(self.areas.flows).height,
            Focus::Packets => table_body(self.areas.packets).height,
            Focus::Details => self.areas.tree.height,
            Focus::Bytes => pane_body(self.areas.hex).height,
        } as usize;
        if h == 0 {
            10
        } else {
            h
        }
    }

    /// A new layout: keep every selection in view.
    pub fn set_areas(&mut self, areas: Areas) {
        if areas == self.areas {
            return;
        }
        self.areas = areas;
        self.flows.offset = scroll_to(
            self.flows.sel,
            self.flows.offset,
            self.page(Focus::Flows),
            self.flows.rows.len(),
        );
        self.packets.offset = scroll_to(
            self.packets.sel,
            self.packets.offset,
            self.page(Focus::Packets),
            self.packets.rows.len(),
        );
        let n = self.tree().len();
        self.detail.offset = scroll_to(
            self.detail.sel,
            self.detail.offset,
            self.page(Focus::Details),
            n,
        );
    }

    /// Move the selection of `pane` to `to` (clamped).
    fn move_to(&mut self, pane: Focus, to: i64) {
        match pane {
            Focus::Flows => {
                let n = self.flows.rows.len();
                if n == 0 {
                    return;
                }
                let i = to.clamp(0, n as i64 - 1) as usize;
                self.flows.follow = i == n - 1 && self.flows.follow;
                self.select_flow_row(i);
            }
            Focus::Packets => {
                let n = self.packets.rows.len();
                if n == 0 {
                    return;
                }
                self.packets.sel = to.clamp(0, n as i64 - 1) as usize;
                self.detail.hex_offset = 0;
                self.packets.offset = scroll_to(
                    self.packets.sel,
                    self.packets.offset,
                    self.page(Focus::Packets),
                    n,
                );
            }
            Focus::Details => {
                let n = self.tree().len();
                if n == 0 {
                    return;
                }
                self.detail.sel = to.clamp(0, n as i64 - 1) as usize;
                self.detail.offset = scroll_to(
                    self.detail.sel,
                    self.detail.offset,
                    self.page(Focus::Details),
                    n,
                );
            }
            Focus::Bytes => {
                let rows = self.hex_rows();
                let last = rows.saturating_sub(self.page(Focus::Bytes));
                self.detail.hex_offset = to.clamp(0, last as i64) as usize;
            }
        }
    }

    /// Rows of 16 bytes the selected packet has.
    fn hex_rows(&self) -> usize {
        self.packets
            .selected()
            .and_then(|g| self.store.get(g))
            .map_or(0, |r| (r.cap_len as usize).div_ceil(16))
    }

    fn current(&self, pane: Focus) -> i64 {
        (match pane {
            Focus::Flows => self.flows.sel,
            Focus::Packets => self.packets.sel,
            Focus::Details => self.detail.sel,
            Focus::Bytes => self.detail.hex_offset,
        }) as i64
    }

    fn move_by(&mut self, pane: Focus, d: i64) {
        let to = self.current(pane) + d;
        self.move_to(pane, to);
    }

    fn set_focus(&mut self, f: Focus) {
        match f {
            Focus::Packets if self.packets.stream.is_none() => {}
            Focus::Details if self.packets.selected().is_none() => {}
            Focus::Bytes if self.packets.selected().is_none() || self.areas.hex.height < 3 => {}
            _ => self.focus = f,
        }
    }

    fn toggle_section(&mut self, open: Option<bool>) {
        let tree = self.tree();
        let Some(line) = tree.get(self.detail.sel) else {
            return;
        };
        let i = line.section.index();
        if line.header {
            let v = open.unwrap_or(!self.detail.expanded[i]);
            self.detail.expanded[i] = v;
        } else if open == Some(false) {
            // Fold from a field: go to its layer line.
            if let Some(h) = tree
                .iter()
                .position(|l| l.header && l.section == line.section)
            {
                self.detail.sel = h;
            }
        }
        let n = self.tree().len();
        self.detail.sel = self.detail.sel.min(n.saturating_sub(1));
        self.detail.offset = scroll_to(
            self.detail.sel,
            self.detail.offset,
            self.page(Focus::Details),
            n,
        );
    }

    // ---------------------------------------------------------------- input

    /// Handle one key press.
    pub fn on_key(&mut self, ev: KeyEvent) {
        if ev.kind == KeyEventKind::Release {
            return;
        }
        if self.filter.editing {
            self.on_filter_key(ev);
            return;
        }
        let action = keys::action_for(&ev);
        if self.picker.is_some() {
            self.on_picker(action);
            return;
        }
        if self.alarms {
            if matches!(action, Some(Action::Alarms | Action::Back | Action::Quit)) {
                self.alarms = false;
            }
            return;
        }
        if let Some(v) = self.servers.as_mut() {
            match action {
                Some(Action::Up) => v.selected = v.selected.saturating_sub(1),
                Some(Action::Down) => {
                    v.selected = (v.selected + 1).min(v.rows.len().saturating_sub(1))
                }
                Some(Action::Back | Action::Quit | Action::Servers) => self.servers = None,
                _ => {}
            }
            return;
        }
        if self.help {
            if matches!(action, Some(Action::Help | Action::Back | Action::Quit)) {
                self.help = false;
            }
            return;
        }
        if let Some(a) = action {
            self.on_action(a);
        }
    }

    pub fn on_action(&mut self, a: Action) {
        let pane = self.focus;
        match a {
            Action::Quit => self.quit = true,
            Action::Up => self.move_by(pane, -1),
            Action::Down => self.move_by(pane, 1),
            Action::PageUp => self.move_by(pane, -(self.page(pane) as i64)),
            Action::PageDown => self.move_by(pane, self.page(pane) as i64),
            Action::Top => {
                if pane == Focus::Flows {
                    self.flows.follow = false;
                }
                self.move_to(pane, 0)
            }
            Action::Bottom => {
                if pane == Focus::Flows {
                    self.flows.follow = true;
                }
                self.move_to(pane, i64::MAX / 2)
            }
            Action::Enter => match pane {
                Focus::Flows => self.set_focus(Focus::Packets),
                Focus::Packets => self.set_focus(Focus::Details),
                Focus::Details => self.toggle_section(None),
                Focus::Bytes => {}
            },
            Action::Back => match pane {
                Focus::Bytes => self.focus = Focus::Details,
                Focus::Details => self.focus = Focus::Packets,
                Focus::Packets => self.focus = Focus::Flows,
                Focus::Flows => self.message = None,
            },
            Action::NextPane => {
                let next = match pane {
                    Focus::Flows => Focus::Packets,
                    Focus::Packets => Focus::Details,
                    Focus::Details => Focus::Bytes,
                    Focus::Bytes => Focus::Flows,
                };
                self.set_focus(next);
                if self.focus == pane {
                    // Nothing selected to go to: wrap around.
                    self.focus = Focus::Flows;
                }
            }
            Action::PrevPane => {
                let prev = match pane {
                    Focus::Flows => Focus::Bytes,
                    Focus::Packets => Focus::Flows,
                    Focus::Details => Focus::Packets,
                    Focus::Bytes => Focus::Details,
                };
                self.set_focus(prev);
                if self.focus == pane && pane == Focus::Flows {
                    // No bytes pane to go to: the details, or wherever is possible.
                    self.set_focus(Focus::Details);
                }
                self.set_focus(prev);
            }
            Action::Expand => match pane {
                Focus::Details => self.toggle_section(Some(true)),
                Focus::Flows => self.set_focus(Focus::Packets),
                Focus::Packets => self.set_focus(Focus::Details),
                Focus::Bytes => {}
            },
            Action::Collapse => match pane {
                Focus::Details => self.toggle_section(Some(false)),
                Focus::Packets => self.focus = Focus::Flows,
                Focus::Flows | Focus::Bytes => {}
            },
            Action::EditFilter => {
                self.filter.editing = true;
                self.filter.input = self.filter.applied.clone();
                self.filter.cursor = self.filter.input.len();
                self.filter.hist_pos = None;
                self.filter.recheck();
            }
            Action::Pause => {
                self.paused = !self.paused;
                if !self.paused {
                    self.flows.dirty = true;
                }
            }
            Action::ToggleSeq => self.raw_seq = !self.raw_seq,
            Action::CycleTime => self.time = self.time.next(),
            Action::CycleSort => {
                self.sort = self.sort.next();
                self.sort_desc = self.sort.default_desc();
                self.flows.follow = false;
                self.rebuild_flows();
            }
            Action::ReverseSort => {
                self.sort_desc = !self.sort_desc;
                self.flows.follow = false;
                self.rebuild_flows();
            }
            Action::ToggleLadder => self.ladder = !self.ladder,
            Action::Save => self.start_save(),
            Action::Servers => {
                self.servers = Some(ServersView::build(self.store.flows.iter().map(|f| &f.sum)));
            }
            Action::Presets => {
                let (items, _) = crate::filter::presets::all();
                self.picker = Some(Picker { items, selected: 0 });
            }
            Action::Help => self.help = true,
            Action::Alarms => {
                // Fresh: alarms walk every flow, so they are otherwise refreshed every 2 s.
                self.last_alarms = None;
                self.refresh_summary();
                self.alarms = true;
            }
        }
    }

    fn on_picker(&mut self, action: Option<Action>) {
        let Some(p) = self.picker.as_mut() else {
            return;
        };
        match action {
            Some(Action::Up) => p.selected = p.selected.saturating_sub(1),
            Some(Action::Down) => {
                p.selected = (p.selected + 1).min(p.items.len().saturating_sub(1))
            }
            Some(Action::Back | Action::Quit | Action::Presets) => self.picker = None,
            Some(Action::Enter) => {
                let Some(item) = p.items.get(p.selected).cloned() else {
                    self.picker = None;
                    return;
                };
                self.picker = None;
                // A placeholder without a default needs a value: let the user type it.
                match required_placeholder(&item.expr) {
                    Some(var) => {
                        self.on_action(Action::EditFilter);
                        self.filter.input = format!("@{}:{var}=", item.name);
                        self.filter.cursor = self.filter.input.len();
                        self.filter.recheck();
                    }
                    None => self.apply_filter(&format!("@{}", item.name)),
                }
            }
            _ => {}
        }
    }

    fn on_filter_key(&mut self, ev: KeyEvent) {
        let f = &mut self.filter;
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        match ev.code {
            KeyCode::Enter => {
                f.editing = false;
                let text = f.input.clone();
                self.apply_filter(&text);
                return;
            }
            KeyCode::Esc => {
                f.editing = false;
                f.input = f.applied.clone();
                f.check = Ok(());
                return;
            }
            KeyCode::Char('c') if ctrl => {
                f.editing = false;
                f.input = f.applied.clone();
                return;
            }
            KeyCode::Char('u') if ctrl => {
                f.input.clear();
                f.cursor = 0;
            }
            KeyCode::Up => {
                if f.history.is_empty() {
                    return;
                }
                let i = match f.hist_pos {
                    None => f.history.len() - 1,
                    Some(i) => i.saturating_sub(1),
                };
                f.hist_pos = Some(i);
                f.input = f.history[i].clone();
                f.cursor = f.input.len();
            }
            KeyCode::Down => match f.hist_pos {
                Some(i) if i + 1 < f.history.len() => {
                    f.hist_pos = Some(i + 1);
                    f.input = f.history[i + 1].clone();
                    f.cursor = f.input.len();
                }
                Some(_) => {
                    f.hist_pos = None;
                    f.input.clear();
                    f.cursor = 0;
                }
                None => {}
            },
            KeyCode::Left => f.cursor = prev_boundary(&f.input, f.cursor),
            KeyCode::Right => f.cursor = next_boundary(&f.input, f.cursor),
            KeyCode::Home => f.cursor = 0,
            KeyCode::End => f.cursor = f.input.len(),
            KeyCode::Backspace => {
                if f.cursor > 0 {
                    let p = prev_boundary(&f.input, f.cursor);
                    f.input.replace_range(p..f.cursor, "");
                    f.cursor = p;
                }
            }
            KeyCode::Delete => {
                if f.cursor < f.input.len() {
                    let n = next_boundary(&f.input, f.cursor);
                    f.input.replace_range(f.cursor..n, "");
                }
            }
            KeyCode::Char(c) if !ctrl => {
                f.input.insert(f.cursor, c);
                f.cursor += c.len_utf8();
            }
            _ => return,
        }
        f.recheck();
    }

    /// Handle a mouse event: click selects, the wheel scrolls.
    pub fn on_mouse(&mut self, ev: MouseEvent) {
        if self.help || self.areas.too_small {
            return;
        }
        let pos = Position {
            x: ev.column,
            y: ev.row,
        };
        let hit = |r: Rect| r.contains(pos);
        let pane = if hit(self.areas.flows) {
            Some(Focus::Flows)
        } else if hit(self.areas.packets) {
            Some(Focus::Packets)
        } else if hit(self.areas.hex) {
            Some(Focus::Bytes)
        } else if hit(self.areas.details) {
            Some(Focus::Details)
        } else {
            None
        };
        match ev.kind {
            MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => {
                let d = if ev.kind == MouseEventKind::ScrollUp {
                    -3
                } else {
                    3
                };
                if let Some(p) = pane {
                    if p == Focus::Flows {
                        self.flows.follow = false;
                    }
                    self.move_by(p, d);
                }
            }
            MouseEventKind::Down(MouseButton::Left) => {
                if hit(self.areas.filter) && !self.filter.editing {
                    self.on_action(Action::EditFilter);
                    return;
                }
                let Some(p) = pane else { return };
                let (body, offset) = match p {
                    Focus::Flows => (table_body(self.areas.flows), self.flows.offset),
                    Focus::Packets => (table_body(self.areas.packets), self.packets.offset),
                    Focus::Details => (self.areas.tree, self.detail.offset),
                    Focus::Bytes => (Rect::default(), 0),
                };
                if body.contains(pos) {
                    let row = offset + (pos.y - body.y) as usize;
                    if p == Focus::Flows {
                        self.flows.follow = false;
                    }
                    let n = match p {
                        Focus::Flows => self.flows.rows.len(),
                        Focus::Packets => self.packets.rows.len(),
                        Focus::Details => self.tree().len(),
                        Focus::Bytes => 0,
                    };
                    if row < n {
                        self.move_to(p, row as i64);
                    }
                }
                self.set_focus(p);
            }
            _ => {}
        }
    }

    // ---------------------------------------------------------------- saving

    /// `w`: the packets shown, re-read from the capture (the whole file,
    /// also during the load) and written to a new file. In the packets or
    /// details pane, the selected flow's shown packets only.
    fn start_save(&mut self) {
        if self.save.is_some() {
            self.message = Some((Severity::Info, "a save is already running".into()));
            return;
        }
        let stream = match self.focus {
            Focus::Packets | Focus::Details | Focus::Bytes => self.packets.stream,
            Focus::Flows => None,
        };
        let (filter, streams) = match (&self.filter.active, stream) {
            (Active::Compiled(f), s) => (Some(f.clone()), s.map(StreamSet::one)),
            (_, Some(s)) => (None, Some(StreamSet::one(s))),
            // The quick filter judges flows: decided here, even while its job runs.
            (Active::Quick(q), None) => (
                None,
                Some(
                    self.store
                        .flows
                        .iter()
                        .filter(|e| q.matches(e))
                        .map(|e| e.sum.stream)
                        .collect(),
                ),
            ),
            (Active::None, None) => (None, None),
        };
        let Some((backing, backed)) = self.store.backing_file() else {
            self.message = Some((Severity::Error, "nothing to save yet".into()));
            return;
        };
        let is_file = self.source.path.is_some();
        let lacks = match self.store.spool_stopped() {
            Some(why) => Some(format!(
                "it lacks {} packets the spool could not keep ({why})",
                self.store.counts.frames.saturating_sub(backed)
            )),
            None => None,
        };
        let stem = std::path::Path::new(&self.source.name)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "capture".into());
        let when = chrono::Local::now().format("%Y%m%d-%H%M%S");
        let scope = stream.map(|s| format!("-stream{s}")).unwrap_or_default();
        let name = format!("hs-tui-{stem}{scope}-{when}.pcap");
        let link = self.store.link.to_linktype() as u32;
        let mut first_error = None;
        let mut writer = None;
        for dir in save_dirs(&self.save_dir) {
            let path = dir.join(&name);
            match PcapWriter::create(&path, link, Create::Exclusive) {
                Ok(w) => {
                    writer = Some(w);
                    break;
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        let Some(writer) = writer else {
            let why =
                first_error.map_or_else(|| "no directory to save in".into(), |e| e.to_string());
            self.message = Some((Severity::Error, format!("cannot save: {why}")));
            return;
        };
        let path = writer.path().to_path_buf();
        self.message = Some((Severity::Info, format!("saving to {} …", path.display())));
        self.save = Some(SaveJob {
            path,
            scan: Scan::start(ScanSpec {
                path: backing,
                // A file is read whole; a spool as far as it goes now.
                frames: (!is_file).then_some(backed),
                budget: self.store.budget,
                filter,
                streams: streams.map(Arc::new),
                save: Some(writer),
            }),
            lacks,
        });
    }

    fn step_save(&mut self, _deadline: Instant) -> bool {
        let Some(job) = self.save.take() else {
            return false;
        };
        for msg in job.scan.poll() {
            if let ScanMsg::Done { kept, error, .. } = msg {
                let mut text = format!("saved {kept} packets to {}", job.path.display());
                if let Some(l) = &job.lacks {
                    text.push_str(&format!("; {l}"));
                }
                self.message = Some(match error {
                    None => (Severity::Info, text),
                    Some(e) => (
                        Severity::Error,
                        format!("saving to {} failed: {e}", job.path.display()),
                    ),
                });
                return false;
            }
        }
        self.save = Some(job);
        true
    }
}

/// Where `w` tries to create its file: the chosen directory (the current
/// one by default), then `$XDG_STATE_HOME/hs-tui`, then `$HOME`. Never a
/// shared directory such as /tmp, where a name can be guessed.
fn save_dirs(first: &std::path::Path) -> Vec<PathBuf> {
    let mut v = vec![first.to_path_buf()];
    if let Some(x) = std::env::var_os("XDG_STATE_HOME").filter(|x| !x.is_empty()) {
        let d = PathBuf::from(x).join("hs-tui");
        let _ = std::fs::create_dir_all(&d);
        v.push(d);
    }
    if let Some(h) = std::env::var_os("HOME").filter(|x| !x.is_empty()) {
        v.push(PathBuf::from(h));
    }
    v
}

/// The scroll offset that keeps `sel` within a window of `h` rows.
pub fn scroll_to(sel: usize, offset: usize, h: usize, n: usize) -> usize {
    let h = h.max(1);
    let mut off = offset;
    if sel < off {
        off = sel;
    } else if sel >= off + h {
        off = sel + 1 - h;
    }
    // Don't leave empty rows at the bottom when the list could fill them.
    off.min(n.saturating_sub(h))
}

fn prev_boundary(s: &str, i: usize) -> usize {
    s[..i]
        .char_indices()
        .next_back()
        .map(|(p, _)| p)
        .unwrap_or(0)
}

fn next_boundary(s: &str, i: usize) -> usize {
    s[i..].chars().next().map(|c| i + c.len_utf8()).unwrap_or(i)
}

/// The first `${NAME}` placeholder of a preset that has no `:-default`.
fn required_placeholder(expr: &str) -> Option<String> {
    let mut rest = expr;
    while let Some(i) = rest.find("${") {
        let tail = &rest[i + 2..];
        let end = tail.find('}')?;
        let inner = &tail[..end];
        if !inner.contains(":-") {
            return Some(inner.to_string());
        }
        rest = &tail[end..];
    }
    None
}
