//! Keys and mouse.

use super::*;

impl App {
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
        if self.prompt.is_some() {
            self.on_prompt_key(ev);
            return;
        }
        // Ctrl-C quits as SIGINT would (exit status 130), whatever is open.
        if ev.code == KeyCode::Char('c')
            && ev.modifiers.contains(KeyModifiers::CONTROL)
            && self.prompt.is_none()
        {
            self.quit = true;
            self.quit_signal = Some(libc::SIGINT);
            return;
        }
        let action = keys::action_for(&ev);
        if self.follow.is_some() {
            self.on_follow_key(&ev, action);
            return;
        }
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
        if self.expert.is_some() {
            self.on_expert(action);
            return;
        }
        if self.timeline.is_some() {
            self.on_timeline_key(ev, action);
            return;
        }
        if self.column_picker.is_some() {
            self.on_column_key(ev, action);
            return;
        }
        if let Some(v) = self.servers.as_mut() {
            match action {
                Some(Action::Up) => v.selected = v.selected.saturating_sub(1),
                Some(Action::Down) => {
                    v.selected = (v.selected + 1).min(v.rows.len().saturating_sub(1))
                }
                Some(Action::Back | Action::Quit | Action::Servers) => self.servers = None,
                // Enter: the flows table shows this server's flows.
                Some(Action::Enter) => {
                    let server = v.rows.get(v.selected).map(|r| r.server);
                    self.servers = None;
                    if let Some(server) = server {
                        let text = format!("hs.server == \"{server}\"");
                        self.filter.input = text.clone();
                        self.filter.cursor = text.len();
                        self.apply_filter(&text);
                        self.focus = Focus::Flows;
                    }
                }
                _ => {}
            }
            return;
        }
        if self.help {
            match action {
                Some(Action::Help | Action::Back | Action::Quit) => {
                    self.help = false;
                    self.help_scroll = 0;
                }
                Some(Action::Down) => self.help_scroll = (self.help_scroll + 1).min(60),
                Some(Action::Up) => self.help_scroll = self.help_scroll.saturating_sub(1),
                Some(Action::PageDown) => self.help_scroll = (self.help_scroll + 10).min(60),
                Some(Action::PageUp) => self.help_scroll = self.help_scroll.saturating_sub(10),
                _ => {}
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
                let shown: Vec<SortKey> = self.columns.shown_flows().collect();
                self.sort = self.sort.next_of(&shown);
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
                self.servers = Some(ServersView::build(self.store.all_flows()));
            }
            Action::Presets => {
                let (items, _) = crate::filter::presets::all();
                self.picker = Some(Picker { items, selected: 0 });
            }
            Action::Help => self.help = true,
            Action::Expert => self.expert = Some(0),
            Action::Timeline => self.open_timeline(),
            Action::FieldNames => self.detail.names = !self.detail.names,
            Action::Columns => {
                self.column_picker = Some(crate::tui::columns::ColumnPicker {
                    packets: self.focus != Focus::Flows,
                    selected: 0,
                })
            }
            Action::ApplyAsFilter | Action::PrepareFilter => {
                let expr = (self.focus == Focus::Details)
                    .then(|| {
                        self.tree()
                            .get(self.detail.list.sel)
                            .and_then(|l| l.filter.clone())
                    })
                    .flatten();
                match expr {
                    Some(e) if a == Action::ApplyAsFilter => {
                        self.filter.input = e.clone();
                        self.filter.cursor = e.len();
                        self.apply_filter(&e);
                    }
                    Some(e) => {
                        self.on_action(Action::EditFilter);
                        self.filter.input = e;
                        self.filter.cursor = self.filter.input.len();
                        self.filter.recheck();
                    }
                    None => {
                        self.message = Some((
                            Severity::Info,
                            "select a field in the details pane (Tab) to filter on it".into(),
                        ))
                    }
                }
            }
            Action::GoTo => self.open_prompt(PromptKind::GoTo),
            Action::Find => self.open_prompt(PromptKind::Find(FindMode::Filter)),
            Action::FindNext => self.find_again(true),
            Action::FindPrev => self.find_again(false),
            Action::TimeRef => {
                let sel = self.packets.selected().and_then(|g| self.store.get(g));
                self.time_ref = match (sel, self.time_ref) {
                    (Some(r), Some((n, _))) if n == r.number() => None,
                    (Some(r), _) => Some((r.number(), r.ts_ns)),
                    (None, _) => None,
                };
                if self.time_ref.is_some()
                    && !matches!(self.time, TimeFormat::Flow | TimeFormat::Capture)
                {
                    self.time = TimeFormat::Capture;
                }
            }
            Action::Follow => self.start_follow(),
            Action::Alarms => {
                // Fresh: alarms walk every flow, so they are otherwise refreshed every 2 s.
                self.last_alarms = None;
                self.refresh_summary();
                self.alarms = true;
            }
        }
    }

    /// Keys in the expert overlay: move, Enter filters the packets of the line.
    pub(super) fn on_expert(&mut self, action: Option<Action>) {
        let Some(sel) = self.expert else { return };
        let lines = expert_lines(&self.store.expert);
        let last = lines.len().saturating_sub(1);
        match action {
            Some(Action::Up) => self.expert = Some(sel.saturating_sub(1)),
            Some(Action::Down) => self.expert = Some((sel + 1).min(last)),
            Some(Action::PageUp) => self.expert = Some(sel.saturating_sub(10)),
            Some(Action::PageDown) => self.expert = Some((sel + 10).min(last)),
            Some(Action::Top) => self.expert = Some(0),
            Some(Action::Bottom) => self.expert = Some(last),
            Some(Action::Back | Action::Quit | Action::Expert) => self.expert = None,
            Some(Action::Enter) => {
                self.expert = None;
                if let Some(e) = lines.get(sel) {
                    let text = e.kind.filter();
                    self.filter.input = text.clone();
                    self.filter.cursor = text.len();
                    self.apply_filter(&text);
                }
            }
            _ => {}
        }
    }

    /// The column chooser: move, Space shows or hides, < and > reorder.
    pub(super) fn on_column_key(&mut self, ev: KeyEvent, action: Option<Action>) {
        use crate::tui::columns::move_item;
        let Some(p) = self.column_picker.as_mut() else {
            return;
        };
        let n = if p.packets {
            self.columns.packets.len()
        } else {
            self.columns.flows.len()
        };
        match (ev.code, action) {
            (KeyCode::Char(' '), _) => {
                let (shown, total) = if p.packets {
                    let c = &mut self.columns.packets[p.selected];
                    c.1 = !c.1;
                    (self.columns.shown_packets().count(), n)
                } else {
                    let c = &mut self.columns.flows[p.selected];
                    c.1 = !c.1;
                    (self.columns.shown_flows().count(), n)
                };
                // At least one column stays.
                if shown == 0 && total > 0 {
                    if p.packets {
                        self.columns.packets[p.selected].1 = true;
                    } else {
                        self.columns.flows[p.selected].1 = true;
                    }
                }
            }
            (KeyCode::Char(c @ ('<' | '>')), _) => {
                p.selected = if p.packets {
                    move_item(&mut self.columns.packets, p.selected, c == '>')
                } else {
                    move_item(&mut self.columns.flows, p.selected, c == '>')
                };
            }
            (_, Some(Action::Up)) => p.selected = p.selected.saturating_sub(1),
            (_, Some(Action::Down)) => p.selected = (p.selected + 1).min(n.saturating_sub(1)),
            (_, Some(Action::Top)) => p.selected = 0,
            (_, Some(Action::Bottom)) => p.selected = n.saturating_sub(1),
            (KeyCode::Tab, _) => {
                p.packets = !p.packets;
                p.selected = 0;
            }
            (_, Some(Action::Back | Action::Quit | Action::Columns | Action::Enter)) => {
                self.column_picker = None;
                // A hidden sort column no longer sorts.
                if !self.columns.shown_flows().any(|c| c == self.sort) {
                    self.sort = SortKey::Stream;
                    self.sort_desc = false;
                    self.rebuild_flows();
                }
                if let Err(e) = self.remember() {
                    self.message = Some((Severity::Error, e));
                }
            }
            _ => {}
        }
    }

    /// Save the columns and the filter history to the configuration file
    /// (only when the view was started with one: never from the tests).
    pub fn remember(&mut self) -> Result<(), String> {
        if !self.config_enabled {
            return Ok(());
        }
        let r = crate::tui::columns::Remembered {
            columns: self.columns.clone(),
            history: self.filter.history.clone(),
        };
        r.save()
            .map_err(|e| format!("cannot save the settings: {e}"))
    }

    pub(super) fn on_picker(&mut self, action: Option<Action>) {
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

    pub(super) fn on_filter_key(&mut self, ev: KeyEvent) {
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

    /// Pasted text (bracketed paste): into the filter bar in one piece,
    /// opening it if need be; line breaks become spaces.
    pub fn on_paste(&mut self, text: &str) {
        if !self.filter.editing {
            self.on_action(Action::EditFilter);
        }
        let clean: String = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let f = &mut self.filter;
        f.input.insert_str(f.cursor, &clean);
        f.cursor += clean.len();
        f.recheck();
    }

    /// Handle a mouse event: click selects, the wheel scrolls.
    pub fn on_mouse(&mut self, ev: MouseEvent) {
        if self.help || self.areas.too_small {
            return;
        }
        if self.follow.is_some() {
            let page = self.follow_page();
            let d = match ev.kind {
                MouseEventKind::ScrollUp => -3,
                MouseEventKind::ScrollDown => 3,
                _ => return,
            };
            if let Some(v) = self.follow.as_mut() {
                v.scroll(d, page);
            }
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
                    Focus::Flows => (table_body(self.areas.flows), self.flows.list.offset),
                    Focus::Packets => (table_body(self.areas.packets), self.packets.list.offset),
                    Focus::Details => (self.areas.tree, self.detail.list.offset),
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
}

pub(super) fn prev_boundary(s: &str, i: usize) -> usize {
    s[..i]
        .char_indices()
        .next_back()
        .map(|(p, _)| p)
        .unwrap_or(0)
}

pub(super) fn next_boundary(s: &str, i: usize) -> usize {
    s[i..].chars().next().map(|c| i + c.len_utf8()).unwrap_or(i)
}

/// The first `${NAME}` placeholder of a preset that has no `:-default`.
pub(super) fn required_placeholder(expr: &str) -> Option<String> {
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

/// The expert overlay's lines, most severe first, each severity in order of first appearance.
pub fn expert_lines(t: &crate::output::expert::ExpertTally) -> Vec<&crate::output::expert::Entry> {
    crate::output::expert::Severity::ALL
        .iter()
        .flat_map(|&s| t.entries(s))
        .collect()
}
