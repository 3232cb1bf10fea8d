//! The filter bar and applying a filter: over what is stored, and over the whole capture through a background scan.

use super::*;

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
        /// A flow-level filter also judges every flow by its summary: the
        /// next flow to judge (up to `flows_end`).
        flows_next: u64,
        flows_end: u64,
    },
}

impl FilterJob {
    pub fn progress(&self) -> f64 {
        let (done, total) = match self {
            FilterJob::Flows { next, end } => (*next, *end),
            FilterJob::Packets {
                read,
                horizon,
                flows_next,
                flows_end,
                ..
            } => (*read + *flows_next, *horizon + *flows_end),
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
    pub(super) hist_pos: Option<usize>,
    /// The input compiles (always true for the quick filter).
    pub check: Result<(), String>,
    check_due: bool,
    pub compiler: Option<Compiler>,
    pub active: Active,
    /// The compiled filter in force tests only flow fields: the flows pane
    /// shows the flows whose summary matches ([`FlowEntry::quick`] holds it).
    pub flow_level: bool,
    pub job: Option<FilterJob>,
    /// How long the last filter took to apply.
    pub last_run: Option<Duration>,
    pub(super) job_started: Option<Instant>,
}

impl FilterBar {
    pub(super) fn new(compiler: Option<Compiler>) -> FilterBar {
        FilterBar {
            input: String::new(),
            cursor: 0,
            editing: false,
            applied: String::new(),
            history: Vec::new(),
            hist_pos: None,
            check: Ok(()),
            check_due: false,
            compiler,
            active: Active::None,
            flow_level: false,
            job: None,
            last_run: None,
            job_started: None,
        }
    }
    pub fn is_quick(&self) -> bool {
        self.compiler.is_none()
    }
    /// The input changed: check it before the next frame (`refresh_check`),
    /// once however many keys came in between (a paste is thousands).
    pub(super) fn recheck(&mut self) {
        self.check_due = true;
    }

    /// Compile the input if it changed since the last check.
    pub fn refresh_check(&mut self) {
        if std::mem::take(&mut self.check_due) {
            self.check = match (self.compiler, self.input.trim().is_empty()) {
                (Some(c), false) => c(&self.input).map(|_| ()),
                _ => Ok(()),
            };
        }
    }
}

impl App {
    // ---------------------------------------------------------------- filter

    pub fn flow_visible(&self, e: &FlowEntry) -> bool {
        match &self.filter.active {
            Active::None => true,
            Active::Quick(_) => e.quick,
            Active::Compiled(_) if self.filter.flow_level => e.quick,
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
        self.filter.flow_level = matches!(&active, Active::Compiled(f) if f.flow_level());
        self.filter.active = active;
        self.filter.job_started = Some(Instant::now());
        self.filter.job = match &self.filter.active {
            Active::None => {
                self.filter.job_started = None;
                None
            }
            Active::Quick(_) => {
                for e in self.store.flows.iter_mut() {
                    e.quick = false;
                }
                let end = self.store.flows.len() as u64;
                Some(FilterJob::Flows { next: 0, end })
            }
            Active::Compiled(f) => {
                for e in self.store.flows.iter_mut() {
                    e.matched = 0;
                    e.quick = false;
                }
                let flows_end = if self.filter.flow_level {
                    self.store.flows.len() as u64
                } else {
                    0
                };
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
                        flows_next: 0,
                        flows_end,
                    }),
                    _ => {
                        // Nothing to re-read: flows are still judged by their summaries.
                        let (link, t0) = (self.store.link, self.store.counts.first_ts.unwrap_or(0));
                        for s in 0..self.store.flows.len() {
                            let m = self.filter.flow_level
                                && (self.store.flow(s as u32))
                                    .is_some_and(|e| flow_matches(&**f, &e, link, t0));
                            self.store.flows[s].quick = m;
                        }
                        None
                    }
                }
            }
        };
        self.flows.follow = false;
        self.rebuild_flows();
        self.sync_packets(true);
    }

    /// Run the filter job until `deadline`. Returns true if unfinished.
    pub(super) fn step_filter(&mut self, deadline: Instant) -> bool {
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
                    let m = self.store.flow(*next as u32).is_some_and(|e| q.matches(&e));
                    self.store.flows[*next as usize].quick = m;
                    *next += 1;
                    n += 1;
                    if n % 1024 == 0 && Instant::now() >= deadline {
                        break;
                    }
                }
                *next >= *end
            }
            FilterJob::Packets {
                scan,
                cursor,
                read,
                flows_next,
                flows_end,
                ..
            } => {
                if let Active::Compiled(f) = &self.filter.active {
                    // Flows first, by their summaries (a flow-level filter only).
                    let (link, t0) = (self.store.link, self.store.counts.first_ts.unwrap_or(0));
                    let mut n = 0u32;
                    while *flows_next < *flows_end {
                        if let Some(e) = self.store.flow(*flows_next as u32) {
                            let m = flow_matches(&**f, &e, link, t0);
                            self.store.flows[*flows_next as usize].quick = m;
                        }
                        *flows_next += 1;
                        n += 1;
                        if n % 1024 == 0 && Instant::now() >= deadline {
                            break;
                        }
                    }
                }
                let mut finished = false;
                // Matches are applied until the turn's deadline; the rest wait in the channel.
                while let Some(msg) = (!finished && Instant::now() < deadline)
                    .then(|| scan.next())
                    .flatten()
                {
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
    pub(super) fn mark_matched(&mut self, cursor: &mut u64, number: u64) {
        *cursor = (*cursor).max(self.store.base());
        while self.store.get(*cursor).is_some_and(|r| r.number() < number) {
            *cursor += 1;
        }
        if let Some(r) = self.store.get_mut(*cursor).filter(|r| r.number() == number) {
            if !r.matched() {
                r.set_matched(true);
                let stream = r.meta.stream as usize;
                if let Some(e) = self.store.flows.get_mut(stream) {
                    e.matched += 1;
                }
            }
        }
    }
}
