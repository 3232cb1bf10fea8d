//! The status bar: source and mode, counters, handshake outcomes, median
//! initial RTT, rate; a second line for a message or a capture error.

use super::theme;
use crate::track::HsState;
use crate::tui::app::{App, Severity};
use crate::tui::fmt;
use crate::tui::store::state_index;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

struct Seg {
    long: Vec<Span<'static>>,
    short: Vec<Span<'static>>,
    /// Lower is more important: the last to be dropped.
    prio: u8,
    /// Lower is shortened first when the line is too long.
    shorten: u8,
    is_short: bool,
}

fn seg(long: Vec<Span<'static>>, short: Vec<Span<'static>>, prio: u8) -> Seg {
    // Shorten the chatty segments first, the handshake outcomes last.
    let shorten = match prio {
        5 => 0,
        4 => 1,
        0 => 2,
        1 => 3,
        3 => 4,
        _ => 5,
    };
    Seg {
        long,
        short,
        prio,
        shorten,
        is_short: false,
    }
}

fn plain(s: String) -> Vec<Span<'static>> {
    vec![Span::raw(s)]
}

fn width(spans: &[Span<'_>]) -> usize {
    spans.iter().map(|s| s.content.chars().count()).sum()
}

fn bar(p: f64, w: usize) -> String {
    let full = ((p * w as f64).round() as usize).min(w);
    format!("{}{}", "█".repeat(full), "░".repeat(w - full))
}

/// The segments of the first line, in display order.
fn segments(app: &App) -> Vec<Seg> {
    let c = &app.store.counts;
    let mut v = Vec::new();
    let name = if app.source.live {
        app.source.name.clone()
    } else {
        std::path::Path::new(&app.source.name)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let mode: Vec<Span<'static>> = if app.paused {
        let q = if app.pending_packets > 0 {
            format!(" +{} queued", fmt::count(app.pending_packets))
        } else {
            String::new()
        };
        vec![Span::styled(
            format!("❚❚ PAUSED{q}"),
            Style::new().fg(Color::Black).bg(Color::Yellow),
        )]
    } else if app.source.live && !app.capture.done {
        vec![Span::styled(
            "● LIVE",
            Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
        )]
    } else if app.source.live {
        vec![Span::styled("stopped", theme::DIM)]
    } else if let Some(p) = app.progress().filter(|_| !app.loaded()) {
        vec![Span::styled(
            format!("loading {:>2.0}% {}", p * 100.0, bar(p, 10)),
            Style::new().fg(Color::Yellow),
        )]
    } else if app.capture.error.is_some() {
        vec![Span::styled("read error", theme::ERROR)]
    } else if !app.loaded() {
        // Standard input: no size to measure progress against.
        vec![Span::styled("reading …", Style::new().fg(Color::Yellow))]
    } else {
        vec![Span::styled("loaded", theme::DIM)]
    };
    let mut long = vec![Span::styled(name.clone(), theme::HEADER), Span::raw(" ")];
    long.extend(mode.clone());
    let mut short = vec![Span::styled(fmt::fit(&name, 16), theme::HEADER)];
    // Narrow: "loaded" goes without saying.
    if !app.loaded() || app.source.live || app.capture.error.is_some() || app.paused {
        short.push(Span::raw(" "));
        short.extend(mode);
    }
    v.push(seg(long, short, 0));

    if let Some(first) = app.summary.alarms.first() {
        let n = app.summary.alarms.len();
        let more = if n > 1 {
            format!(" (+{} more, a: list)", n - 1)
        } else {
            " (a: details)".to_string()
        };
        let style = Style::new()
            .fg(Color::White)
            .bg(Color::Red)
            .add_modifier(Modifier::BOLD);
        v.push(seg(
            vec![Span::styled(format!("⚠ {}{more}", first.headline()), style)],
            vec![Span::styled(
                format!("⚠ {n} alarm{} (a)", if n > 1 { "s" } else { "" }),
                style,
            )],
            0,
        ));
    }
    if let Some(job) = &app.filter.job {
        let t = format!(
            "filtering {:>2.0}% {}",
            job.progress() * 100.0,
            bar(job.progress(), 8)
        );
        v.push(seg(
            vec![Span::styled(t.clone(), Style::new().fg(Color::Yellow))],
            vec![Span::styled(t, Style::new().fg(Color::Yellow))],
            0,
        ));
    }

    v.push(seg(
        plain(format!("{} packets", fmt::count(c.frames))),
        plain(format!("{} pkts", fmt::count(c.frames))),
        1,
    ));
    if app.source.live {
        let dropped = app
            .capture
            .stats
            .map(|s| s.dropped + s.if_dropped)
            .unwrap_or(0);
        let style = if dropped > 0 {
            theme::ERROR
        } else {
            Style::new()
        };
        v.push(seg(
            vec![Span::styled(format!("{dropped} dropped"), style)],
            vec![Span::styled(format!("{dropped} drop"), style)],
            2,
        ));
    }
    // A budget that dropped something says so where the user looks.
    if c.evicted > 0 {
        let t = format!("{} oldest packets out of memory", fmt::count(c.evicted));
        v.push(seg(
            vec![Span::styled(
                format!("{t} (--tui-max-packets)"),
                theme::ERROR,
            )],
            vec![Span::styled(t, theme::ERROR)],
            0,
        ));
    }
    if let Some(why) = app.store.spool_stopped() {
        let t = format!("{} packets without bytes", fmt::count(c.bytes_dropped));
        v.push(seg(
            vec![Span::styled(format!("{t}: {why}"), theme::ERROR)],
            vec![Span::styled(t, theme::ERROR)],
            0,
        ));
    }
    let mstyle = if c.malformed > 0 {
        Style::new().fg(Color::Yellow)
    } else {
        Style::new()
    };
    v.push(seg(
        vec![Span::styled(format!("{} malformed", c.malformed), mstyle)],
        vec![Span::styled(format!("{} bad", c.malformed), mstyle)],
        4,
    ));
    let flows = app.store.flows.len() as u64;
    v.push(seg(
        plain(format!("{} flows", fmt::count(flows))),
        plain(format!("{} flows", fmt::count(flows))),
        1,
    ));
    let st = |s: HsState| c.states[state_index(s)];
    let half = st(HsState::SynSent) + st(HsState::SynReceived);
    let outcome = |n: u64, word: &str, color: Color| {
        Span::styled(format!("{} {word}", fmt::count(n)), Style::new().fg(color))
    };
    let long = vec![
        outcome(c.completed, "completed", Color::Green),
        Span::raw(" · "),
        outcome(st(HsState::Refused), "refused", Color::Red),
        Span::raw(" · "),
        outcome(half, "half-open", Color::Yellow),
        Span::raw(" · "),
        outcome(st(HsState::Reset), "reset", Color::Magenta),
    ];
    let short = vec![
        outcome(c.completed, "ok", Color::Green),
        Span::raw(" "),
        outcome(st(HsState::Refused), "ref", Color::Red),
        Span::raw(" "),
        outcome(half, "half", Color::Yellow),
        Span::raw(" "),
        outcome(st(HsState::Reset), "rst", Color::Magenta),
    ];
    v.push(seg(long, short, 2));
    let irtt = app
        .summary
        .median_irtt
        .map(fmt::duration)
        .unwrap_or_else(|| "—".into());
    v.push(seg(
        plain(format!("median iRTT {irtt}")),
        plain(format!("iRTT {irtt}")),
        3,
    ));
    if let Some(r) = app.summary.rate.filter(|_| app.source.live) {
        v.push(seg(
            plain(format!("{} pkt/s", fmt::count(r.round() as u64))),
            plain(format!("{}/s", fmt::count(r.round() as u64))),
            4,
        ));
    }
    // "?" is cheap and the way to discover everything else: shortened first, dropped late.
    let mut help = seg(
        vec![Span::styled("? help", theme::DIM)],
        vec![Span::styled("? help", theme::DIM)],
        3,
    );
    help.shorten = 0;
    help.short = vec![Span::styled("?", theme::DIM)];
    v.push(help);
    v
}

/// Lay the segments out in `w` columns: long forms; then short forms, the
/// least telling first; then drop the least important.
fn fit(mut segs: Vec<Seg>, w: usize) -> Line<'static> {
    const SEP: &str = " │ ";
    let total = |segs: &[Seg]| -> usize {
        segs.iter()
            .map(|s| width(if s.is_short { &s.short } else { &s.long }))
            .sum::<usize>()
            + SEP.chars().count() * segs.len().saturating_sub(1)
            + 1
    };
    let mut order: Vec<usize> = (0..segs.len()).collect();
    order.sort_by_key(|&i| (segs[i].shorten, i));
    for i in order {
        if total(&segs) <= w {
            break;
        }
        segs[i].is_short = true;
    }
    while total(&segs) > w && segs.len() > 1 {
        let worst = segs
            .iter()
            .enumerate()
            .max_by_key(|(i, s)| (s.prio, *i))
            .map(|(i, _)| i)
            .unwrap_or(0);
        segs.remove(worst);
    }
    let mut spans = vec![Span::raw(" ")];
    for (i, s) in segs.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(SEP, theme::DIM));
        }
        spans.extend(if s.is_short { s.short } else { s.long });
    }
    Line::from(spans)
}

pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let line = fit(segments(app), area.width as usize);
    let first = Rect { height: 1, ..area };
    frame.render_widget(
        Paragraph::new(line).style(Style::new().bg(Color::Indexed(236))),
        first,
    );
    // Then the capture error (kept on screen), then the latest message.
    let mut y = area.y + 1;
    let mut line2 = |style: Style, text: String| {
        if y < area.y + area.height {
            let r = Rect {
                y,
                height: 1,
                ..area
            };
            frame.render_widget(
                Paragraph::new(fmt::fit(&text, area.width as usize)).style(style),
                r,
            );
            y += 1;
        }
    };
    if let Some(e) = &app.capture.error {
        line2(theme::ERROR, format!(" capture error: {e}"));
    }
    match &app.message {
        Some((Severity::Error, m)) => line2(theme::ERROR, format!(" {m}")),
        Some((Severity::Info, m)) => line2(Style::new().fg(Color::Cyan), format!(" {m}")),
        None => {}
    }
}

/// The alarms overlay (`a`): every alarm raised, in full, wrapped to the width.
pub fn draw_alarms(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let w = area.width.saturating_sub(4).min(120);
    let n = app.summary.alarms.len();
    let title = format!(" alarms · {n} raised · Esc close ");
    let inner = super::overlay(frame, area, w, area.height.saturating_sub(2), &title);
    let mut lines = Vec::new();
    if n == 0 {
        lines.push(Line::styled(
            "  no alarms: no SYN flood, no port scan",
            theme::DIM,
        ));
    }
    for a in &app.summary.alarms {
        lines.push(Line::styled(
            format!("⚠ {}", a.headline()),
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        ));
        lines.push(Line::from(format!("  {a}")));
        lines.push(Line::from(""));
    }
    frame.render_widget(
        Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: false }),
        inner,
    );
}

/// The expert information overlay (`e`): tshark's `-z expert` as a list; each
/// line leads to its packets (Enter applies its filter).
pub fn draw_expert(frame: &mut Frame<'_>, area: Rect, app: &App, selected: usize) {
    use crate::output::expert::Severity as Sev;
    let t = &app.store.expert;
    let w = area.width.saturating_sub(4).min(120);
    let totals: Vec<String> = Sev::ALL
        .iter()
        .filter(|&&s| t.total(s) > 0)
        .map(|&s| format!("{} {}", t.total(s), s.word()))
        .collect();
    let title = if totals.is_empty() {
        " expert info · Esc close ".to_string()
    } else {
        format!(
            " expert info · {} · Enter filter · Esc close ",
            totals.join(", ")
        )
    };
    let inner = super::overlay(frame, area, w, area.height.saturating_sub(2), &title);
    let mut lines = Vec::new();
    let mut sel_line = 0;
    let mut i = 0;
    if t.is_empty() {
        lines.push(Line::styled("  no expert notes", theme::DIM));
    }
    for s in Sev::ALL {
        let list = t.entries(s);
        if list.is_empty() {
            continue;
        }
        let colour = match s {
            Sev::Error => Color::Red,
            Sev::Warn => Color::Yellow,
            Sev::Note => Color::Cyan,
            _ => Color::Gray,
        };
        lines.push(Line::styled(
            format!("{} ({})", s.title(), t.total(s)),
            Style::new().fg(colour).add_modifier(Modifier::BOLD),
        ));
        for e in list {
            // The group column only where the summary still fits beside it.
            let text = if inner.width >= 100 {
                format!(
                    "{:>9}  {:<8}  {}",
                    e.count,
                    e.kind.group(),
                    e.kind.summary()
                )
            } else {
                format!("{:>7}  {}", e.count, e.kind.summary())
            };
            let style = if i == selected {
                sel_line = lines.len();
                theme::HIGHLIGHT
            } else {
                Style::new()
            };
            lines.push(Line::styled(text, style));
            i += 1;
        }
    }
    // Keep the selected line in view.
    let h = inner.height as usize;
    let top = sel_line.saturating_sub(h.saturating_sub(1));
    frame.render_widget(Paragraph::new(lines).scroll((top as u16, 0)), inner);
}

/// The column chooser (`C`).
pub fn draw_columns(
    frame: &mut Frame<'_>,
    area: Rect,
    app: &App,
    p: crate::tui::columns::ColumnPicker,
) {
    use crate::tui::columns::flow_key;
    let table = if p.packets { "packets" } else { "flows" };
    let title = format!(" {table} columns · Space show/hide · < > move · Tab other table · Esc ");
    let names: Vec<(String, bool)> = if p.packets {
        app.columns
            .packets
            .iter()
            .map(|&(c, on)| (c.key().to_string(), on))
            .collect()
    } else {
        app.columns
            .flows
            .iter()
            .map(|&(c, on)| (flow_key(c).to_string(), on))
            .collect()
    };
    let h = names.len() as u16 + 2;
    let inner = super::overlay(
        frame,
        area,
        (title.chars().count() as u16 + 2).min(area.width),
        h,
        &title,
    );
    let lines: Vec<Line> = names
        .iter()
        .enumerate()
        .map(|(i, (n, on))| {
            let text = format!(" [{}] {n}", if *on { "x" } else { " " });
            if i == p.selected {
                Line::styled(text, theme::HIGHLIGHT)
            } else {
                Line::from(text)
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
