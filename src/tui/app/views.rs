//! Keeping the panes in step: the sorted flows table, the selected flow's packets, the detail tree, and moving selections.

use super::*;
use crate::tui::store::Flow;

impl App {
    // ---------------------------------------------------------------- views

    pub(super) fn sort_key(&self, e: &Flow<'_>) -> (i128, u32) {
        let s = &e.sum;
        let k: i128 = match self.sort {
            SortKey::Stream | SortKey::Flow => 0,
            SortKey::Service => s.server().map_or(-1, |e| e.1 as i128),
            SortKey::TlsVersion => e
                .tls
                .as_ref()
                .and_then(|t| t.version)
                .map_or(-1, |v| v as i128),
            // By the name's first 15 bytes (ties keep stream order).
            SortKey::Sni => e.tls.as_ref().and_then(|t| t.sni.as_ref()).map_or(-1, |n| {
                n.bytes().take(15).fold(0i128, |a, b| a * 256 + b as i128)
            }),
            // By the words' first 15 bytes, as the SNI.
            SortKey::Failure => self.failure(e).map_or(-1, |n| {
                n.bytes().take(15).fold(0i128, |a, b| a * 256 + b as i128)
            }),
            SortKey::State => crate::tui::store::state_index(s.hs.state) as i128,
            SortKey::Irtt => s.handshake_rtt().map(|v| v as i128).unwrap_or(-1),
            SortKey::SynRtx => s.hs.syn_retransmissions() as i128,
            SortKey::Packets => s.total_frames() as i128,
            SortKey::Bytes => s.total_bytes() as i128,
            SortKey::Duration => s.duration_ns() as i128,
            SortKey::LastSeen => s.last_ts as i128,
        };
        (k, s.stream)
    }

    /// What went wrong with a flow's set-up, in plain words. Once a file is loaded every
    /// stream is over, so what was never answered is said; before, only once the client
    /// gave up (as `hs.failure` on a packet).
    pub fn failure(&self, e: &Flow<'_>) -> Option<std::borrow::Cow<'static, str>> {
        crate::engine::legs::failure(&e.sum, e.tls.as_deref(), self.loaded())
    }

    /// Recompute the visible, sorted flow list, keeping the selected flow selected.
    pub fn rebuild_flows(&mut self) {
        let selected = self.flows.selected();
        let mut rows: Vec<u32> = self
            .store
            .flows
            .iter()
            .enumerate()
            .filter(|(_, e)| self.flow_visible(e))
            .map(|(s, _)| s as u32)
            .collect();
        let store = &self.store;
        let desc = self.sort_desc;
        match self.sort {
            SortKey::Stream => {
                if desc {
                    rows.reverse();
                }
            }
            SortKey::Flow => {
                // Labels are formatted on demand: once per row here.
                let mut keyed: Vec<(String, u32)> = rows
                    .iter()
                    .map(|&s| (store.flow(s).map(|f| f.label()).unwrap_or_default(), s))
                    .collect();
                keyed.sort_unstable_by(|a, b| {
                    let o = a.0.cmp(&b.0);
                    (if desc { o.reverse() } else { o }).then(a.1.cmp(&b.1))
                });
                rows = keyed.into_iter().map(|(_, s)| s).collect();
            }
            _ => {
                let mut keyed: Vec<((i128, u32), u32)> = rows
                    .iter()
                    .filter_map(|&s| Some((self.sort_key(&store.flow(s)?), s)))
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
                None => self.flows.list.sel.min(n.saturating_sub(1)),
            }
        };
        self.select_flow_row(sel);
    }

    /// Select row `i` of the flows table.
    pub(super) fn select_flow_row(&mut self, i: usize) {
        let n = self.flows.rows.len();
        self.flows.list.sel = i.min(n.saturating_sub(1));
        let h = self.page(Focus::Flows);
        self.flows.list.keep_in_view(h, n);
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
            Some(_) => self
                .store
                .stream_packets(stream.unwrap_or_default())
                .filter(|&g| self.store.get(g).is_some_and(|r| self.packet_visible(r)))
                .collect(),
            None => Vec::new(),
        };
        self.packets.list.sel = match keep {
            Some(g) => self
                .packets
                .rows
                .partition_point(|&x| x < g)
                .min(self.packets.rows.len().saturating_sub(1)),
            None => 0,
        };
        if !same {
            self.packets.list.offset = 0;
        }
        let h = self.page(Focus::Packets);
        self.packets.list.keep_in_view(h, self.packets.rows.len());
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
        self.flows
            .list
            .keep_in_view(self.page(Focus::Flows), self.flows.rows.len());
        self.packets
            .list
            .keep_in_view(self.page(Focus::Packets), self.packets.rows.len());
        let n = self.tree().len();
        self.detail.list.keep_in_view(self.page(Focus::Details), n);
    }

    /// Move the selection of `pane` to `to` (clamped).
    pub(super) fn move_to(&mut self, pane: Focus, to: i64) {
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
                let (n, page) = (self.packets.rows.len(), self.page(Focus::Packets));
                if self.packets.list.select(to, n, page) {
                    self.detail.hex_offset = 0;
                }
            }
            Focus::Details => {
                let (n, page) = (self.tree().len(), self.page(Focus::Details));
                self.detail.list.select(to, n, page);
            }
            Focus::Bytes => {
                let rows = self.hex_rows();
                let last = rows.saturating_sub(self.page(Focus::Bytes));
                self.detail.hex_offset = to.clamp(0, last as i64) as usize;
            }
        }
    }

    /// Rows of 16 bytes the selected packet has.
    pub(super) fn hex_rows(&self) -> usize {
        self.packets
            .selected()
            .and_then(|g| self.store.bytes(g))
            .map_or(0, |b| b.len().div_ceil(16))
    }

    pub(super) fn current(&self, pane: Focus) -> i64 {
        (match pane {
            Focus::Flows => self.flows.list.sel,
            Focus::Packets => self.packets.list.sel,
            Focus::Details => self.detail.list.sel,
            Focus::Bytes => self.detail.hex_offset,
        }) as i64
    }

    pub(super) fn move_by(&mut self, pane: Focus, d: i64) {
        let to = self.current(pane) + d;
        self.move_to(pane, to);
    }

    pub(super) fn set_focus(&mut self, f: Focus) {
        match f {
            Focus::Packets if self.packets.stream.is_none() => {}
            Focus::Details if self.packets.selected().is_none() => {}
            Focus::Bytes if self.packets.selected().is_none() || self.areas.hex.height < 3 => {}
            _ => self.focus = f,
        }
    }

    pub(super) fn toggle_section(&mut self, open: Option<bool>) {
        let tree = self.tree();
        let Some(line) = tree.get(self.detail.list.sel) else {
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
                self.detail.list.sel = h;
            }
        }
        let n = self.tree().len();
        self.detail.list.sel = self.detail.list.sel.min(n.saturating_sub(1));
        self.detail.list.keep_in_view(self.page(Focus::Details), n);
    }
}
