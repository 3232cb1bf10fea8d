//! The ladder diagram (flow graph) of the selected flow: the client's and
//! the server's lifelines, one arrow per packet with its flags and numbers,
//! the time on the left, and the handshake's legs and the point where the
//! connection is established on the right. Same rows and selection as the
//! packet list, so `l` flips between the two without losing the place.

use super::packets::{analysis_notes, arrow, seq_ack, time_header, time_text};
use super::{theme, title};
use crate::track::{HsState, Phase};
use crate::tui::app::{pane_body, App, Focus};
use crate::tui::fmt;
use crate::tui::store::PacketRec;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

/// Text on the arrow.
fn label(app: &App, g: u64, r: &PacketRec) -> String {
    let (seq, ack) = seq_ack(app, g, r);
    // TLS messages first: they are what the set-up is waiting for.
    let mut s = match app.store.tls_frame(g).map(super::ladder_tls::messages) {
        Some(t) if !t.is_empty() => format!("{t} · "),
        _ => String::new(),
    };
    s.push_str(&format!("{} Seq={seq}", fmt::flags(r.flags)));
    if !ack.is_empty() {
        s.push_str(&format!(" Ack={ack}"));
    }
    if let Some(l) = app.store.seg_len(g, r).filter(|&l| l > 0) {
        s.push_str(&format!(" Len={l}"));
    }
    s
}

/// The arrow between the lifelines, `width` columns wide (lifelines included).
pub fn arrow_text(to_server: bool, label: &str, width: usize) -> String {
    let body = width.saturating_sub(2);
    let l = fmt::fit(label, body.saturating_sub(4));
    let dashes = body.saturating_sub(4 + l.chars().count());
    let d = "─".repeat(dashes);
    if to_server {
        format!("│─ {l} {d}▶│")
    } else {
        format!("│◀{d} {l} ─│")
    }
}

/// Remarks for the right-hand column: the handshake's legs and the point
/// where the connection is established, then the analysis findings.
fn remarks(app: &App, g: u64, r: &PacketRec) -> String {
    let Some(e) = app.store.flow(r.meta.stream) else {
        return String::new();
    };
    let hs = &e.sum.hs;
    let mut parts: Vec<String> = Vec::new();
    if r.meta.analyzed() {
        match r.meta.phase() {
            Phase::SynAck if hs.synack_ts == Some(r.ts_ns) => {
                if let Some(d) = hs.syn_to_synack() {
                    parts.push(format!("SYN→SYN-ACK {}", fmt::duration(d)));
                }
            }
            Phase::HandshakeAck => {
                let mut s = "✔ established".to_string();
                if let Some(d) = hs.synack_to_ack() {
                    s.push_str(&format!(" +{} after SYN-ACK", fmt::duration(d)));
                }
                parts.push(s);
            }
            Phase::Rst if r.meta.hs_state() == HsState::Refused => parts.push("✘ refused".into()),
            Phase::Rst => parts.push("reset".into()),
            _ => {}
        }
    }
    if let Some(t) = e.tls.as_deref() {
        parts.extend(super::ladder_tls::remarks(&e.sum, t, r.number()));
    }
    parts.extend(analysis_notes(app, g, r));
    parts.join(" · ")
}

fn arrow_style(r: &PacketRec) -> Style {
    use crate::decode::tcp::flags as fl;
    if crate::track::analysis::flag::is_bad(r.meta.analysis()) {
        Style::new().fg(ratatui::style::Color::LightRed)
    } else if r.flags & fl::RST != 0 {
        Style::new().fg(ratatui::style::Color::Red)
    } else if matches!(
        r.meta.phase(),
        Phase::Syn | Phase::SynAck | Phase::HandshakeAck
    ) && r.meta.analyzed()
    {
        theme::HANDSHAKE
    } else if r.flags & fl::FIN != 0 {
        Style::new().fg(ratatui::style::Color::Gray)
    } else {
        Style::new()
    }
}

/// The summary in the title: the handshake's legs.
fn handshake_summary(app: &App, stream: u32) -> String {
    let Some(e) = app.store.flow(stream) else {
        return String::new();
    };
    let hs = &e.sum.hs;
    let mut s = e.state_name().to_string();
    match (hs.syn_to_synack(), hs.synack_to_ack()) {
        (Some(a), Some(b)) => s.push_str(&format!(
            " · handshake {} + {}",
            fmt::duration(a),
            fmt::duration(b)
        )),
        (Some(a), None) => s.push_str(&format!(" · SYN→SYN-ACK {}", fmt::duration(a))),
        _ => {}
    }
    if let Some(rtt) = e.sum.irtt_ns {
        s.push_str(&format!(" · iRTT {}", fmt::duration(rtt)));
    }
    s.push_str(&super::ladder_tls::title_legs(&e.sum, e.tls.as_deref()));
    if hs.syn_retransmissions() > 0 {
        s.push_str(&format!(
            " · {} SYN retransmissions",
            hs.syn_retransmissions()
        ));
    }
    s
}

pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let focused = app.focus == Focus::Packets;
    let v = &app.packets;
    let name = match v.stream {
        Some(s) => format!("Ladder of stream {s}"),
        None => "Ladder".into(),
    };
    let extra = v
        .stream
        .map(|s| handshake_summary(app, s))
        .unwrap_or_default();
    let block = Block::bordered()
        .title(title(&name, &extra))
        .title_style(theme::title(focused))
        .border_style(theme::border(focused));
    let inner = pane_body(area);
    frame.render_widget(block, area);
    let Some(e) = v.stream.and_then(|s| app.store.flow(s)) else {
        frame.render_widget(
            Paragraph::new(" select a flow above ").style(theme::DIM),
            inner,
        );
        return;
    };
    let (client, server) = e.sum.client_server();
    let w = inner.width as usize;
    let h = inner.height.saturating_sub(1) as usize;
    let start = v.list.offset.min(v.rows.len());
    let end = (start + h).min(v.rows.len());
    let rows: Vec<(u64, &PacketRec)> = v.rows[start..end]
        .iter()
        .filter_map(|&g| app.store.get(g).map(|r| (g, r)))
        .collect();
    let times: Vec<String> = rows.iter().map(|&(g, r)| time_text(app, g, r)).collect();
    let tw = times
        .iter()
        .map(|t| t.len())
        .max()
        .unwrap_or(0)
        .max(time_header(app).len());
    let c = format!("client {client}");
    let s = format!("server {server}");
    // marker, time, gap, lanes, gap, remarks: the lanes take 3/5 of the
    // room, at least what the endpoint names need, leaving 16 for remarks.
    let avail = w.saturating_sub(tw + 3);
    let names = c.chars().count() + s.chars().count() + 2;
    let lanes = (avail * 3 / 5)
        .max(names)
        .clamp(24, 72)
        .min(avail.saturating_sub(16).max(24))
        .min(avail);
    let mut lines: Vec<Line> = Vec::with_capacity(rows.len() + 1);
    // Header: who is on which side.
    let half = lanes / 2;
    let head = format!(
        "  {:>tw$} {:<half$}{:>rest$}",
        time_header(app),
        fmt::fit(&c, half.saturating_sub(1)),
        fmt::fit(&s, lanes - half),
        rest = lanes - half
    );
    lines.push(Line::styled(head, theme::HEADER));
    for (i, ((g, r), t)) in rows.iter().zip(times).enumerate() {
        let selected = start + i == v.list.sel;
        let to_server = arrow(r) == "→";
        let arrow_s = arrow_text(to_server, &label(app, *g, r), lanes);
        let rem = remarks(app, *g, r);
        let rem_w = w.saturating_sub(tw + 3 + lanes + 1);
        let mut spans = vec![
            Span::raw(if selected { "▶ " } else { "  " }),
            Span::raw(format!("{t:>tw$} ")),
            Span::styled(arrow_s, arrow_style(r)),
            Span::raw(" "),
        ];
        let rem_style = if rem.starts_with('✔') {
            theme::HANDSHAKE.add_modifier(Modifier::BOLD)
        } else if rem.starts_with('✘') || crate::track::analysis::flag::is_bad(r.meta.analysis())
        {
            theme::ERROR
        } else {
            theme::DIM
        };
        spans.push(Span::styled(fmt::fit(&rem, rem_w), rem_style));
        let mut line = Line::from(spans);
        if selected {
            line = line.style(theme::selected(focused));
        }
        lines.push(line);
    }
    if v.rows.is_empty() {
        lines.push(Line::styled("  no packet of this flow to draw", theme::DIM));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrows_span_the_lanes() {
        let a = arrow_text(true, "SYN Seq=0", 24);
        assert_eq!(a, "│─ SYN Seq=0 ─────────▶│");
        assert_eq!(a.chars().count(), 24);
        let b = arrow_text(false, "SYN,ACK Seq=0 Ack=1", 24);
        assert_eq!(b.chars().count(), 24);
        assert!(b.starts_with("│◀"));
        let c = arrow_text(true, "a very long label that cannot fit at all", 24);
        assert_eq!(c.chars().count(), 24);
    }
}
