//! `App`: all of the UI's state and every state transition (keys, mouse,
//! capture events, background jobs). No rendering here; `ui` draws from
//! `&App`. Work that could take long (ingesting a large file, applying a
//! filter to a million packets, saving) runs in slices bounded by a
//! deadline, so the event loop answers a key within one frame.

mod filtering;
mod find;
mod follow;
mod input;
mod save;
mod state;
mod timeline;
mod views;

pub use filtering::{Active, FilterBar, FilterJob};
pub use find::{FindMode, FindState, Prompt, PromptKind};
use save::SaveJob;
pub use state::*;

use super::detail::{self, TreeLine, SECTIONS};
use super::filter::PacketFilter;
use super::filter::{flow_matches, CompiledFilter, Compiler, QuickFilter};
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
    /// Lines the help overlay is scrolled by (it is taller than 24 rows).
    pub help_scroll: u16,
    /// The presets picker (`F`), when open.
    pub picker: Option<Picker>,
    /// The servers view (`i`), when open.
    pub servers: Option<ServersView>,
    /// The alarms overlay (`a`) is open.
    pub alarms: bool,
    /// The expert information overlay (`e`): the selected line, when open.
    pub expert: Option<usize>,
    /// The go-to or find prompt, when open (drawn in the filter bar's place).
    pub prompt: Option<Prompt>,
    /// The last find and its matches (`n` / `N` move between them).
    pub find: Option<FindState>,
    /// The time reference (Ctrl-T): frame number and time of the packet that is time zero.
    pub time_ref: Option<(u64, i64)>,
    /// The timeline view (`T`), when open.
    pub timeline: Option<TimelineView>,
    /// The columns of the two tables, and the chooser (`C`) when open.
    pub columns: crate::tui::columns::Columns,
    pub column_picker: Option<crate::tui::columns::ColumnPicker>,
    /// Columns and filter history are saved to the configuration file.
    pub config_enabled: bool,
    /// Follow TCP Stream (`f`), when open.
    pub follow: Option<crate::tui::follow_view::FollowView>,
    /// When the message last changed (info messages fade after `MESSAGE_FOR`).
    pub(crate) message_seen: Option<(String, Instant)>,
    pub capture: CaptureStatus,
    pub message: Option<(Severity, String)>,
    pub summary: Summary,
    pub areas: Areas,
    pub quit: bool,
    /// Quit by a signal or by Ctrl-C (SIGINT's key): the exit status is 128 + it.
    pub quit_signal: Option<i32>,
    /// Clock times in UTC instead of local time (tests).
    pub utc: bool,
    pub save_dir: PathBuf,
    save: Option<SaveJob>,
    rate_samples: VecDeque<(Instant, u64)>,
    last_summary: Option<Instant>,
    last_alarms: Option<Instant>,
    /// A pass over the flows for the alarms and the median iRTT, in progress.
    alarm_pass: Option<FlowPass>,
    /// Alarm thresholds (from the command line).
    pub alarm_cfg: crate::track::alarms::AlarmConfig,
}

/// A walk over every flow, a slice per turn: the alarms and the initial RTTs.
struct FlowPass {
    alarms: crate::track::alarms::Alarms,
    rtts: Vec<i64>,
    next: usize,
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
        let file_size = source.file_size;
        let mut app = App {
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
            help_scroll: 0,
            picker: None,
            servers: None,
            alarms: false,
            expert: None,
            prompt: None,
            find: None,
            time_ref: None,
            timeline: None,
            columns: Default::default(),
            column_picker: None,
            config_enabled: false,
            follow: None,
            message_seen: None,
            capture: CaptureStatus::default(),
            message: None,
            summary: Summary::default(),
            areas: Areas::default(),
            quit: false,
            quit_signal: None,
            utc: false,
            save_dir: PathBuf::from("."),
            save: None,
            rate_samples: VecDeque::new(),
            last_summary: None,
            last_alarms: None,
            alarm_pass: None,
            alarm_cfg: Default::default(),
        };
        if let Some(size) = file_size {
            app.store.expect_file(size);
        }
        app
    }

    // ---------------------------------------------------------------- capture

    /// Take events from the capture thread until `deadline`. Batches are
    /// ingested as they come; while the display is paused they queue
    /// instead (a file stops being read, a live capture keeps being drained
    /// so the kernel drops nothing). Returns true if more may be waiting.
    pub fn pump(&mut self, rx: &Receiver<Event>, deadline: Instant) -> bool {
        // A batch that may set off the tracker's budget sweep (tens of ms)
        // waits for the next turn to begin with it, rather than end this one.
        let mut took = false;
        loop {
            if !self.paused {
                if let Some(n) = self.pending.front().map(|b| b.len()) {
                    if took && self.store.sweep_near(n) {
                        return true;
                    }
                    if let Some(b) = self.pending.pop_front() {
                        self.pending_packets -= b.len() as u64;
                        self.ingest(&b);
                        took = true;
                    }
                    if Instant::now() >= deadline {
                        return true;
                    }
                    continue;
                }
            } else if !self.source.live && !self.pending.is_empty() {
                return false;
            }
            match rx.try_recv() {
                Ok(Event::Batch(b)) if !self.paused && took && self.store.sweep_near(b.len()) => {
                    self.pending_packets += b.len() as u64;
                    self.pending.push_back(b);
                    return true;
                }
                Ok(ev) => {
                    took |= matches!(ev, Event::Batch(_)) && !self.paused;
                    self.on_event(ev);
                }
                Err(TryRecvError::Empty) => return false,
                Err(TryRecvError::Disconnected) => {
                    // The capture thread always says Done: gone without it, it crashed.
                    if !self.capture.done {
                        self.capture.error.get_or_insert_with(|| {
                            "the capture thread stopped unexpectedly".into()
                        });
                    }
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
        let flow_level = self.filter.flow_level;
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
                    let now = store.flow(stream).is_some_and(|f| q.matches(&f));
                    let e = &mut store.flows[stream as usize];
                    let was = std::mem::replace(&mut e.quick, now);
                    (was, now, true)
                }
                Active::Compiled(f) if flow_level => {
                    // Flows by their summary; packets as batch `-Y` judged them.
                    let m = r.matched();
                    let (link, t0) = (store.link, store.counts.first_ts.unwrap_or(0));
                    let now = store
                        .flow(stream)
                        .is_some_and(|e| flow_matches(&**f, &e, link, t0));
                    let e = &mut store.flows[stream as usize];
                    let was = std::mem::replace(&mut e.quick, now);
                    (was, now, m)
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
            self.packets.list.sel = self.packets.list.sel.saturating_sub(cut);
            self.packets.list.offset = self.packets.list.offset.saturating_sub(cut);
        }
        if self.flows.follow && !self.flows.rows.is_empty() {
            self.select_flow_row(self.flows.rows.len() - 1);
        } else if self.packets.stream.is_none() && !self.flows.rows.is_empty() {
            self.select_flow_row(self.flows.list.sel);
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
        let mut more = false;
        // A turn whose intake already used its time (a budget sweep) leaves
        // the periodic re-sort and summary to the next turn.
        let late = Instant::now() >= deadline;
        // Re-sorting a large table takes a turn of its own, so no turn does
        // a filter slice and a re-sort together.
        let due = !late
            && self
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
        if !late
            && self
                .last_summary
                .is_none_or(|t| t.elapsed() >= SUMMARY_EVERY)
        {
            self.refresh_summary();
        }
        more |= self.store.pack_retired(deadline);
        more |= self.step_alarms(deadline);
        more |= self.step_find(deadline);
        self.refresh_timeline(false);
        more |= self.step_follow();
        more || (!self.paused && !self.pending.is_empty())
    }

    /// An informational message goes after `MESSAGE_FOR`; an error stays
    /// until replaced or until what it was about is fixed.
    pub(super) fn age_message(&mut self) {
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
        while self.step_alarms(far) {}
    }

    pub(super) fn refresh_summary(&mut self) {
        let now = Instant::now();
        self.last_summary = Some(now);
        // Alarms and the median iRTT walk every flow: not more often than
        // every 2 s, a slice per turn (`step_alarms`).
        if self.alarm_pass.is_none()
            && self
                .last_alarms
                .is_none_or(|t| now.duration_since(t) >= Duration::from_secs(2))
        {
            self.last_alarms = Some(now);
            self.alarm_pass = Some(FlowPass {
                alarms: crate::track::alarms::Alarms::new(self.alarm_cfg),
                rtts: Vec::new(),
                next: 0,
            });
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

    /// Walk the flows for the alarms and the median iRTT until `deadline`; true while unfinished.
    fn step_alarms(&mut self, deadline: Instant) -> bool {
        let Some(mut pass) = self.alarm_pass.take() else {
            return false;
        };
        let store = &self.store;
        while pass.next < store.flows.len() {
            let end = (pass.next + 1024).min(store.flows.len());
            for s in pass.next..end {
                let f = store.flow(s as u32).expect("a row");
                pass.alarms.add(&f.sum);
                pass.rtts.extend(f.sum.handshake_rtt());
            }
            pass.next = end;
            if Instant::now() >= deadline {
                self.alarm_pass = Some(pass);
                return true;
            }
        }
        self.summary.alarms = pass.alarms.raised();
        let mid = pass.rtts.len() / 2;
        self.summary.median_irtt =
            (!pass.rtts.is_empty()).then(|| *pass.rtts.select_nth_unstable(mid).1);
        false
    }
}
