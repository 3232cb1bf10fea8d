//! The TUI's state types: focus, formats, sort keys, the panes' views and the overlays' data.

use super::*;

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
    /// The server port's service name (from /etc/services).
    Service,
    /// The TLS server name the client asked for, and the version the server chose.
    Sni,
    TlsVersion,
    /// What went wrong with the set-up, in plain words (`hs.failure` at the stream's end).
    Failure,
}

impl SortKey {
    pub const ALL: [SortKey; 13] = [
        SortKey::Stream,
        SortKey::Flow,
        SortKey::State,
        SortKey::Irtt,
        SortKey::SynRtx,
        SortKey::Packets,
        SortKey::Bytes,
        SortKey::Duration,
        SortKey::LastSeen,
        SortKey::Service,
        SortKey::Sni,
        SortKey::TlsVersion,
        SortKey::Failure,
    ];
    /// The next of `shown` (the columns on screen) after this one.
    pub fn next_of(self, shown: &[SortKey]) -> SortKey {
        let i = shown.iter().position(|&k| k == self);
        match i {
            Some(i) => shown[(i + 1) % shown.len()],
            None => shown.first().copied().unwrap_or(SortKey::Stream),
        }
    }
    /// Numbers sort largest first by default; names and the stream index ascending.
    pub fn default_desc(self) -> bool {
        !matches!(
            self,
            SortKey::Stream
                | SortKey::Flow
                | SortKey::State
                | SortKey::Service
                | SortKey::Sni
                | SortKey::Failure
        )
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
            SortKey::Service => "service",
            SortKey::Sni => "TLS server name",
            SortKey::TlsVersion => "TLS version",
            SortKey::Failure => "set-up failure",
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
    /// Selected row and scroll.
    pub list: ListState,
    /// Keep the selection on the newest flow as flows arrive.
    pub follow: bool,
    pub(super) dirty: bool,
    pub(super) last_rebuild: Option<Instant>,
}

impl FlowsView {
    pub fn selected(&self) -> Option<u32> {
        self.rows.get(self.list.sel).copied()
    }
}

/// The packet list (and ladder) of the selected flow.
#[derive(Debug, Default)]
pub struct PacketsView {
    pub stream: Option<u32>,
    /// Global packet indices of the flow's visible packets.
    pub rows: Vec<u64>,
    /// Selected row and scroll.
    pub list: ListState,
}

impl PacketsView {
    pub fn selected(&self) -> Option<u64> {
        self.rows.get(self.list.sel).copied()
    }
}

#[derive(Debug)]
pub struct DetailView {
    pub expanded: [bool; SECTIONS.len()],
    /// Selected row and scroll.
    pub list: ListState,
    /// First row of the bytes pane when it has the focus.
    pub hex_offset: usize,
    /// Show field names (`tcp.srcport: 40374`) instead of Wireshark's labels (`v`).
    pub names: bool,
}

impl Default for DetailView {
    fn default() -> Self {
        DetailView {
            expanded: SECTIONS.map(|s| s.default_expanded()),
            list: ListState::default(),
            hex_offset: 0,
            names: false,
        }
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
/// summary counts, its initial RTTs and set-up legs sorted, and its clients'
/// connection reuse (most connections first).
pub struct ServerRow {
    pub server: crate::track::Endpoint,
    pub tally: crate::engine::servers::ServerTally,
    pub clients: Vec<(std::net::IpAddr, crate::engine::servers::PairTally)>,
}

/// Per-server handshake statistics and an initial-RTT histogram.
pub struct ServersView {
    pub rows: Vec<ServerRow>,
    pub selected: usize,
}

impl ServersView {
    /// Built from the flows' latest summaries and TLS summaries (streams without a handshake are left out).
    pub fn build<'a>(flows: impl Iterator<Item = crate::tui::store::Flow<'a>>) -> ServersView {
        use crate::engine::legs::{failure, Legs};
        use crate::engine::servers::{pair_of, ranked, PairMap, PairTally, ServerTally};
        let mut by: std::collections::HashMap<crate::track::Endpoint, ServerTally> =
            Default::default();
        // The pairs as `-q` keys them (IPv4 pairs packed into one integer).
        let mut pairs = PairMap::default();
        for flow in flows {
            let (f, t) = (&*flow.sum, flow.entry.tls.as_deref());
            if let Some(server) = f.server() {
                let legs = Legs::of(f, t);
                let st = by.entry(server).or_default();
                st.add(f);
                let sni = t.and_then(|t| t.sni.as_deref());
                st.add_setup(&legs, sni, failure(f, t, true).is_some());
                if let Some(tally) = pair_of(f).and_then(|p| pairs.tally(p, usize::MAX)) {
                    tally.add(f, legs.setup(f, t));
                }
            }
        }
        let mut clients: std::collections::HashMap<
            crate::track::Endpoint,
            Vec<(std::net::IpAddr, PairTally)>,
        > = Default::default();
        for ((c, s), t) in pairs.iter() {
            clients.entry(s).or_default().push((c, t.clone()));
        }
        let rows = ranked(&by)
            .into_iter()
            .map(|(server, t)| {
                let mut tally = t.clone();
                tally.irtt.sort_unstable();
                for v in &mut tally.legs {
                    v.sort_unstable();
                }
                let mut clients = clients.remove(&server).unwrap_or_default();
                clients.sort_by(|a, b| b.1.conns.cmp(&a.1.conns).then(a.0.cmp(&b.0)));
                ServerRow {
                    server,
                    tally,
                    clients,
                }
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

/// The selection and scroll of a list pane (flows, packets, details): every pane scrolls alike.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ListState {
    pub sel: usize,
    /// The first row shown.
    pub offset: usize,
}

impl ListState {
    /// Select row `to` of `n` (clamped) and scroll it into a window of `page` rows.
    /// False when there is nothing to select.
    pub fn select(&mut self, to: i64, n: usize, page: usize) -> bool {
        if n == 0 {
            return false;
        }
        self.sel = to.clamp(0, n as i64 - 1) as usize;
        self.keep_in_view(page, n);
        true
    }
    /// Scroll so the selection shows in a window of `page` rows of `n`.
    pub fn keep_in_view(&mut self, page: usize, n: usize) {
        self.offset = scroll_to(self.sel, self.offset, page, n);
    }
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

/// The timeline view (`T`): handshake outcomes and initial RTT per time
/// bucket, a cursor over the buckets and an optional range mark.
pub struct TimelineView {
    pub data: crate::engine::timeline::Timeline,
    /// The bucket width was chosen by `+`/`-` (else it follows the window width).
    pub fixed_width: bool,
    pub cursor: usize,
    /// The other end of a selected range (Space marks it).
    pub mark: Option<usize>,
    pub built: Instant,
}

impl TimelineView {
    /// Count the flows into buckets of `width_ns` from the capture's start.
    pub fn build<'a>(
        flows: impl Iterator<Item = crate::tui::store::Flow<'a>>,
        start: i64,
        width_ns: i64,
    ) -> crate::engine::timeline::Timeline {
        let mut t = crate::engine::timeline::Timeline::new(start, width_ns);
        for f in flows {
            t.add(&f.sum);
        }
        // Sorted once here, so drawing reads the percentiles directly.
        for b in &mut t.buckets {
            b.irtt.sort_unstable();
        }
        t
    }

    /// The selected buckets, first to last.
    pub fn range(&self) -> (usize, usize) {
        let m = self.mark.unwrap_or(self.cursor);
        (m.min(self.cursor), m.max(self.cursor))
    }
}
