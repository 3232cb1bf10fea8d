//! The timeline view (`T`): per time bucket, the handshakes that began in it
//! as a stacked column (completed, refused, reset, half-open, mid-stream),
//! and below, the bucket's initial-RTT p50 and p99. A cursor column and an
//! optional range are highlighted; Enter filters the flows to them.

use super::servers::pct;
use super::theme;
use crate::engine::servers::ServerTally;
use crate::tui::app::{App, TimelineView};
use crate::tui::fmt;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

/// Outcome segments, bottom to top, with their colours.
const SEGMENTS: [(&str, Color); 5] = [
    ("completed", Color::Green),
    ("refused", Color::Red),
    ("reset", Color::Magenta),
    ("half-open", Color::Yellow),
    ("mid-stream", Color::DarkGray),
];

fn counts(b: &ServerTally) -> [u64; 5] {
    [b.completed, b.refused, b.reset, b.half_open, b.mid_stream]
}

/// (p50, p99) of a bucket's initial RTTs (sorted when the timeline was built).
fn rtts(b: &ServerTally) -> (Option<i64>, Option<i64>) {
    (pct(&b.irtt, 0.5), pct(&b.irtt, 0.99))
}

/// The first bucket shown, so that the cursor stays in view.
fn first_shown(v: &TimelineView, columns: usize) -> usize {
    let n = v.data.buckets.len();
    if n <= columns {
        0
    } else {
        v.cursor.saturating_sub(columns / 2).min(n - columns)
    }
}

pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &App, v: &TimelineView) {
    let width = fmt::duration(v.data.width_ns);
    let title = format!(
        " timeline · {width} buckets · ←→ move · Space range · +/- width · Enter filter flows · Esc "
    );
    let inner = super::overlay(
        frame,
        area,
        area.width.saturating_sub(2),
        area.height.saturating_sub(2),
        &title,
    );
    if inner.height < 8 || inner.width < 20 {
        return;
    }
    let (a, b) = v.range();
    let mut sum = ServerTally::default();
    for t in v.data.buckets.get(a..=b).unwrap_or(&[]) {
        sum.attempts += t.attempts;
        sum.completed += t.completed;
        sum.refused += t.refused;
        sum.reset += t.reset;
        sum.half_open += t.half_open;
        sum.mid_stream += t.mid_stream;
        sum.irtt.extend_from_slice(&t.irtt);
    }
    sum.irtt.sort_unstable();
    let (p50, p99) = rtts(&sum);
    let rtt = |x: Option<i64>| x.map(fmt::duration).unwrap_or_else(|| "—".into());
    let head = format!(
        "{} – {} s: opened {} · completed {} · refused {} · reset {} · half-open {} · mid-stream {} · iRTT p50 {} p99 {}",
        fmt::secs(v.data.offset(a)),
        fmt::secs(v.data.offset(b + 1)),
        sum.attempts,
        sum.completed,
        sum.refused,
        sum.reset,
        sum.half_open,
        sum.mid_stream,
        rtt(p50),
        rtt(p99),
    );
    let mut legend: Vec<Span> = vec![Span::raw("  ")];
    for (name, c) in SEGMENTS {
        legend.push(Span::styled("█ ", Style::new().fg(c)));
        legend.push(Span::raw(format!("{name}  ")));
    }
    legend.push(Span::styled("• ", Style::new().fg(Color::Cyan)));
    legend.push(Span::raw("iRTT p50  "));
    legend.push(Span::styled("· ", Style::new().fg(Color::Yellow)));
    legend.push(Span::raw("iRTT p99"));
    let top = Rect { height: 2, ..inner };
    frame.render_widget(
        Paragraph::new(vec![
            Line::styled(fmt::fit(&head, inner.width as usize), theme::HEADER),
            Line::from(legend),
        ]),
        top,
    );
    if v.data.buckets.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled("  no flows yet", theme::DIM)),
            Rect {
                y: inner.y + 3,
                height: 1,
                ..inner
            },
        );
        return;
    }
    // Charts: outcomes take 60% of the rest, RTT the remainder.
    let rest = inner.height - 3;
    let h_out = (rest * 3 / 5).max(3);
    let h_rtt = rest - h_out - 1;
    let label_w = 8u16;
    let columns = inner.width.saturating_sub(label_w) as usize;
    let first = first_shown(v, columns);
    let shown = &v.data.buckets[first..(first + columns).min(v.data.buckets.len())];
    let chart_x = inner.x + label_w;
    let out_area = Rect {
        x: chart_x,
        y: inner.y + 3,
        width: columns as u16,
        height: h_out,
    };
    let rtt_area = Rect {
        x: chart_x,
        y: out_area.y + h_out + 1,
        width: columns as u16,
        height: h_rtt,
    };
    let selected = |i: usize| (a..=b).contains(&(first + i));
    let buf = frame.buffer_mut();

    // Stacked outcome columns.
    let max = shown
        .iter()
        .map(|t| counts(t).iter().sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    label(buf, inner.x, out_area.y, &max.to_string());
    label(buf, inner.x, out_area.y + h_out - 1, "0");
    for (i, t) in shown.iter().enumerate() {
        let x = out_area.x + i as u16;
        let c = counts(t);
        let total: u64 = c.iter().sum();
        let height = ((total as f64 / max as f64) * h_out as f64).ceil() as u16;
        // Segment boundaries in rows, by cumulative share of the column.
        let mut acc = 0u64;
        let mut row = 0u16;
        for (k, &n) in c.iter().enumerate() {
            acc += n;
            let upto = if total == 0 {
                0
            } else {
                ((acc as f64 / total as f64) * height as f64).round() as u16
            };
            while row < upto.min(h_out) {
                let y = out_area.y + h_out - 1 - row;
                buf[(x, y)].set_char('█').set_fg(SEGMENTS[k].1);
                row += 1;
            }
        }
        if selected(i) {
            for y in out_area.y..out_area.y + h_out {
                let cell = &mut buf[(x, y)];
                if cell.symbol() == " " {
                    cell.set_char('░').set_fg(Color::DarkGray);
                }
            }
        }
    }
    // Time axis between the charts: the cursor's bucket start.
    let axis_y = out_area.y + h_out;
    let cursor_x = out_area.x + (v.cursor - first) as u16;
    buf[(cursor_x, axis_y)].set_char('▲').set_fg(Color::Cyan);
    let t = format!("{} s", fmt::secs(v.data.offset(v.cursor)));
    let tx = (cursor_x + 2).min(inner.x + inner.width.saturating_sub(t.len() as u16));
    buf.set_string(tx, axis_y, &t, Style::new().fg(Color::Cyan));

    // Initial RTT p50 (•) and p99 (·) per column, on a common scale.
    if h_rtt >= 2 {
        let per: Vec<(Option<i64>, Option<i64>)> = shown.iter().map(rtts).collect();
        let top_ns = per
            .iter()
            .filter_map(|p| p.1.or(p.0))
            .max()
            .unwrap_or(0)
            .max(1);
        label(buf, inner.x, rtt_area.y, &fmt::duration(top_ns));
        label(buf, inner.x, rtt_area.y + h_rtt - 1, "0");
        let row_of = |ns: i64| {
            let r = ((ns as f64 / top_ns as f64) * (h_rtt - 1) as f64).round() as u16;
            rtt_area.y + h_rtt - 1 - r.min(h_rtt - 1)
        };
        for (i, (m, p)) in per.iter().enumerate() {
            let x = rtt_area.x + i as u16;
            if selected(i) {
                for y in rtt_area.y..rtt_area.y + h_rtt {
                    buf[(x, y)].set_char('░').set_fg(Color::DarkGray);
                }
            }
            if let Some(p) = p {
                buf[(x, row_of(*p))]
                    .set_char('·')
                    .set_fg(Color::Yellow)
                    .set_style(Modifier::BOLD);
            }
            if let Some(m) = m {
                buf[(x, row_of(*m))].set_char('•').set_fg(Color::Cyan);
            }
        }
    }
    let _ = app;
}

/// A right-aligned axis label in the 7 columns left of a chart.
fn label(buf: &mut Buffer, x: u16, y: u16, text: &str) {
    let t = fmt::fit(text, 7);
    let pad = 7usize.saturating_sub(t.chars().count()) as u16;
    buf.set_string(x + pad, y, t, theme::DIM);
}
