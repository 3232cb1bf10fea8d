//! The servers view: handshake outcomes and initial-RTT percentiles per
//! server, and a histogram of the selected server's initial RTTs.

use super::theme;
use crate::tui::app::ServersView;
use crate::tui::fmt;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

/// Histogram buckets (upper bounds in nanoseconds), decades from 10 µs to 1 s.
const BUCKETS: [(i64, &str); 7] = [
    (10_000, "< 10µs"),
    (100_000, "< 100µs"),
    (1_000_000, "< 1ms"),
    (10_000_000, "< 10ms"),
    (100_000_000, "< 100ms"),
    (1_000_000_000, "< 1s"),
    (i64::MAX, ">= 1s"),
];

pub(super) fn pct(v: &[i64], p: f64) -> Option<i64> {
    if v.is_empty() {
        return None;
    }
    let i = ((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
    Some(v[i])
}

fn rtt(v: Option<i64>) -> String {
    v.map(fmt::duration).unwrap_or_else(|| "—".into())
}

pub fn draw(frame: &mut Frame<'_>, area: Rect, view: &ServersView) {
    let w = area.width.saturating_sub(4).min(110);
    let title = " servers · handshakes and initial RTT · ↑↓ choose · Enter its flows · Esc close ";
    let inner = super::overlay(frame, area, w, area.height.saturating_sub(2), title);
    let mut lines = vec![Line::styled(
        format!(
            "  {:<24} {:>8} {:>5} {:>5} {:>5} {:>5} {:>8} {:>8} {:>8}",
            "Server", "Attempts", "Done", "Refus", "Half", "Reset", "p50", "p90", "max"
        ),
        theme::HEADER,
    )];
    let hist_h = BUCKETS.len() as u16 + 2;
    let table_h = inner.height.saturating_sub(hist_h + 1) as usize;
    let start = view.selected.saturating_sub(table_h.saturating_sub(2));
    for (i, s) in view
        .rows
        .iter()
        .enumerate()
        .skip(start)
        .take(table_h.saturating_sub(1))
    {
        let mark = if i == view.selected { "▶ " } else { "  " };
        let text = format!(
            "{mark}{:<24} {:>8} {:>5} {:>5} {:>5} {:>5} {:>8} {:>8} {:>8}",
            fmt::fit(&s.server.to_string(), 24),
            s.tally.attempts,
            s.tally.completed,
            s.tally.refused,
            s.tally.half_open,
            s.tally.reset,
            rtt(pct(&s.tally.irtt, 0.5)),
            rtt(pct(&s.tally.irtt, 0.9)),
            rtt(s.tally.irtt.last().copied()),
        );
        let style = if i == view.selected {
            theme::title(true)
        } else {
            Style::new()
        };
        lines.push(Line::styled(text, style));
    }
    if view.rows.is_empty() {
        lines.push(Line::styled("  no handshakes yet", theme::DIM));
    }
    while lines.len() < table_h {
        lines.push(Line::from(""));
    }
    if let Some(s) = view.rows.get(view.selected) {
        lines.push(Line::styled(
            format!(
                "  Initial RTT of {} ({} handshakes with an RTT)",
                s.server,
                s.tally.irtt.len()
            ),
            theme::HEADER,
        ));
        let mut counts = [0usize; BUCKETS.len()];
        for &x in &s.tally.irtt {
            let b = BUCKETS
                .iter()
                .position(|(up, _)| x < *up)
                .unwrap_or(BUCKETS.len() - 1);
            counts[b] += 1;
        }
        let max = counts.iter().copied().max().unwrap_or(0).max(1);
        let bar_w = (inner.width as usize).saturating_sub(24).max(1);
        for (i, (_, label)) in BUCKETS.iter().enumerate() {
            let n = counts[i];
            let len = (n * bar_w).div_ceil(max).min(bar_w);
            lines.push(Line::from(vec![
                Span::raw(format!("  {label:>8} {n:>8} ")),
                Span::styled("█".repeat(len), Style::new().fg(Color::Green)),
            ]));
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
