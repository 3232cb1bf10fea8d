//! The timeline view's state changes: open, rebuild as flows arrive, move
//! the cursor, change the bucket width, and filter the flows to a range.

use super::*;
use crate::engine::timeline::{step_width, Timeline};

/// A live or loading timeline is recounted this often.
const REFRESH_EVERY: Duration = Duration::from_secs(1);

impl App {
    fn timeline_start(&self) -> i64 {
        self.store.counts.first_ts.unwrap_or(0)
    }

    /// Columns the chart has (the window less the axis labels).
    fn timeline_columns(&self) -> usize {
        let w = self.areas.filter.width.max(80) as usize;
        w.saturating_sub(14).max(10)
    }

    pub(super) fn open_timeline(&mut self) {
        let start = self.timeline_start();
        let end = self.store.counts.last_ts.max(start);
        let width = Timeline::nice_width(end - start, self.timeline_columns());
        let data = TimelineView::build(self.store.all_flows(), start, width);
        let cursor = data.buckets.len().saturating_sub(1);
        self.timeline = Some(TimelineView {
            data,
            fixed_width: false,
            cursor,
            mark: None,
            built: Instant::now(),
        });
    }

    /// Recount the flows (`force`, or every second while flows still arrive).
    pub(super) fn refresh_timeline(&mut self, force: bool) {
        let Some(v) = &self.timeline else { return };
        let arriving = !self.loaded() || self.source.live;
        if !(force || arriving && v.built.elapsed() >= REFRESH_EVERY) {
            return;
        }
        let start = self.timeline_start();
        let width = if v.fixed_width {
            v.data.width_ns
        } else {
            let end = self.store.counts.last_ts.max(start);
            Timeline::nice_width(end - start, self.timeline_columns())
        };
        let data = TimelineView::build(self.store.all_flows(), start, width);
        if let Some(v) = self.timeline.as_mut() {
            let last = data.buckets.len().saturating_sub(1);
            v.cursor = v.cursor.min(last);
            v.mark = v.mark.map(|m| m.min(last));
            v.data = data;
            v.built = Instant::now();
        }
    }

    pub(super) fn on_timeline_key(&mut self, ev: KeyEvent, action: Option<Action>) {
        let Some(v) = self.timeline.as_mut() else {
            return;
        };
        let last = v.data.buckets.len().saturating_sub(1);
        match (ev.code, action) {
            (KeyCode::Left | KeyCode::Char('h'), _) => v.cursor = v.cursor.saturating_sub(1),
            (KeyCode::Right | KeyCode::Char('l'), _) => v.cursor = (v.cursor + 1).min(last),
            (_, Some(Action::Top)) => v.cursor = 0,
            (_, Some(Action::Bottom)) => v.cursor = last,
            (KeyCode::Char(' '), _) => {
                v.mark = match v.mark {
                    Some(_) => None,
                    None => Some(v.cursor),
                }
            }
            (KeyCode::Char(c @ ('+' | '-')), _) => {
                // Keep the cursor on the same moment at the new width.
                let at = v.data.offset(v.cursor);
                let w = step_width(v.data.width_ns, c == '+');
                v.fixed_width = true;
                v.data.width_ns = w;
                v.mark = None;
                self.refresh_timeline(true);
                if let Some(v) = self.timeline.as_mut() {
                    let last = v.data.buckets.len().saturating_sub(1);
                    v.cursor = ((at / w) as usize).min(last);
                }
            }
            (_, Some(Action::Enter)) => {
                let (a, b) = v.range();
                let (from, to) = (v.data.offset(a), v.data.offset(b + 1));
                self.timeline = None;
                let text = format!(
                    "hs.start >= {} && hs.start < {}",
                    crate::tui::fmt::secs(from),
                    crate::tui::fmt::secs(to)
                );
                self.filter.input = text.clone();
                self.filter.cursor = text.len();
                self.apply_filter(&text);
                self.focus = Focus::Flows;
            }
            (_, Some(Action::Back | Action::Quit | Action::Timeline)) => self.timeline = None,
            _ => {}
        }
    }
}
