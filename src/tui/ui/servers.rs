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
    // Histogram and legs side by side, then up to 3 clients' reuse.
    let hist_h = BUCKETS.len() as u16 + 2 + 4;
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
        let half = (inner.width as usize / 2).max(30);
        let mut left = vec![Line::styled(
            fmt::fit(
                &format!(
                    "  Initial RTT of {} ({} handshakes with an RTT)",
                    s.server,
                    s.tally.irtt.len()
                ),
                half,
            ),
            theme::HEADER,
        )];
        let mut counts = [0usize; BUCKETS.len()];
        for &x in &s.tally.irtt {
            let b = BUCKETS
                .iter()
                .position(|(up, _)| x < *up)
                .unwrap_or(BUCKETS.len() - 1);
            counts[b] += 1;
        }
        let max = counts.iter().copied().max().unwrap_or(0).max(1);
        let bar_w = half.saturating_sub(22).max(1);
        for (i, (_, label)) in BUCKETS.iter().enumerate() {
            let n = counts[i];
            let len = (n * bar_w).div_ceil(max).min(bar_w);
            left.push(Line::from(vec![
                Span::raw(format!("  {label:>8} {n:>8} ")),
                Span::styled("█".repeat(len), Style::new().fg(Color::Green)),
            ]));
        }
        let right = legs_lines(s, (inner.width as usize).saturating_sub(half));
        let n = left.len().max(right.len());
        for i in 0..n {
            let mut spans = left.get(i).map(|l| l.spans.clone()).unwrap_or_default();
            let used: usize = spans.iter().map(|sp| sp.content.chars().count()).sum();
            spans.push(Span::raw(" ".repeat(half.saturating_sub(used))));
            if let Some(r) = right.get(i) {
                spans.extend(r.spans.iter().cloned());
            }
            lines.push(Line::from(spans));
        }
        lines.extend(reuse_lines(s, inner.width as usize));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The selected server's set-up legs: p50 of each, a bar per leg scaled to the longest.
fn legs_lines(s: &crate::tui::app::ServerRow, width: usize) -> Vec<Line<'static>> {
    use crate::engine::legs::LEG_NAMES;
    let mut out = vec![Line::styled(
        fmt::fit(
            &format!(
                "Set-up legs, p50 (p90) · {} failed{}",
                s.tally.failed,
                if s.tally.snis.is_empty() {
                    String::new()
                } else {
                    format!(" · SNI {}", s.tally.sni_text())
                }
            ),
            width,
        ),
        theme::HEADER,
    )];
    // `total` spans the others: the bars compare the legs with it.
    let p50: Vec<Option<i64>> = s.tally.legs.iter().map(|v| pct(v, 0.5)).collect();
    let max = p50.iter().flatten().copied().max().unwrap_or(0).max(1);
    let bar_w = width.saturating_sub(28).max(1);
    const COLORS: [Color; 7] = [
        Color::Cyan,
        Color::Blue,
        Color::Magenta,
        Color::Yellow,
        Color::LightMagenta,
        Color::Green,
        Color::White,
    ];
    for (i, name) in LEG_NAMES.iter().enumerate() {
        let Some(x) = p50[i] else {
            out.push(Line::styled(format!("{name:>6}        —"), theme::DIM));
            continue;
        };
        let len = ((x as i128 * bar_w as i128).div_euclid(max as i128) as usize).clamp(1, bar_w);
        out.push(Line::from(vec![
            Span::raw(format!(
                "{name:>6} {:>8} ({:>8}) ",
                fmt::duration(x),
                rtt(pct(&s.tally.legs[i], 0.9))
            )),
            Span::styled("█".repeat(len), Style::new().fg(COLORS[i])),
        ]));
    }
    out
}

/// Connection reuse of the selected server's busiest clients.
fn reuse_lines(s: &crate::tui::app::ServerRow, width: usize) -> Vec<Line<'static>> {
    let mut out = vec![Line::styled(
        fmt::fit(
            &format!(
                "  Connection reuse: {} clients · conns, lifetime p50 / max, share of lifetime in set-up",
                s.clients.len()
            ),
            width,
        ),
        theme::HEADER,
    )];
    for (client, t) in s.clients.iter().take(3) {
        let (med, max) = t.life_median_max().unwrap_or((0, 0));
        out.push(Line::raw(fmt::fit(
            &format!(
                "  {:<24} {:>7} conns  life {:>9} / {:>9}  set-up {}",
                client.to_string(),
                t.conns,
                fmt::duration(med),
                fmt::duration(max),
                t.setup_percent()
                    .map_or("—".to_string(), |p| format!("{p:.1}%"))
            ),
            width,
        )));
    }
    out
}
