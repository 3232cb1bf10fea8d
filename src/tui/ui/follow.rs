//! The follow view (`f`): the selected flow's payload, client and server in
//! two colours, over the panes between the filter bar and the status bar.

use super::theme;
use crate::tui::fmt;
use crate::tui::App;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

/// Wireshark's colours: the client in red, the server in blue.
pub const CLIENT: Style = Style::new().fg(Color::LightRed);
pub const SERVER: Style = Style::new().fg(Color::LightBlue);

pub fn draw(frame: &mut Frame<'_>, app: &App) {
    let Some(v) = &app.follow else {
        return;
    };
    let top = app.areas.filter.y + app.areas.filter.height;
    let area = Rect {
        x: app.areas.filter.x,
        y: top,
        width: app.areas.filter.width,
        height: app.areas.status.y.saturating_sub(top),
    };
    if area.height < 3 {
        return;
    }
    frame.render_widget(Clear, area);
    let mode = if v.hex { "hex" } else { "ascii" };
    let block = Block::bordered()
        .title(format!(
            " Follow TCP stream {} · {mode} · x ascii/hex · w save · Esc back ",
            v.stream
        ))
        .title_style(theme::title(true))
        .border_style(theme::border(true));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let (client, server) = v.ends;
    let mut lines = Vec::with_capacity(inner.height as usize);
    let head = match (&v.data, &v.error) {
        (_, Some(e)) => vec![Span::styled(format!("cannot follow: {e}"), theme::ERROR)],
        (None, None) => vec![Span::styled(
            format!("reading the capture … {} frames", v.read),
            theme::DIM,
        )],
        (Some(d), None) => {
            let mut s = vec![
                Span::styled(
                    format!(
                        "{client} sent {} ({} {})",
                        fmt::bytes(d.bytes[0]),
                        d.chunks[0],
                        if d.chunks[0] == 1 { "chunk" } else { "chunks" }
                    ),
                    CLIENT,
                ),
                Span::raw("  "),
                Span::styled(
                    format!(
                        "{server} sent {} ({} {})",
                        fmt::bytes(d.bytes[1]),
                        d.chunks[1],
                        if d.chunks[1] == 1 { "chunk" } else { "chunks" }
                    ),
                    SERVER,
                ),
            ];
            if d.follower.truncated() {
                s.push(Span::styled(
                    format!(
                        "  · first {} MiB kept, {} more not shown",
                        crate::tui::follow_view::HOLD >> 20,
                        fmt::bytes(d.follower.dropped)
                    ),
                    theme::ERROR,
                ));
            }
            let rows = d.rows(v.hex);
            if rows > 0 {
                s.push(Span::styled(
                    format!(
                        "  · rows {}-{} of {rows}",
                        v.offset + 1,
                        (v.offset + inner.height as usize - 1).min(rows)
                    ),
                    theme::DIM,
                ));
            }
            s
        }
    };
    lines.push(Line::from(head));
    if let Some(d) = &v.data {
        if d.rows(v.hex) == 0 {
            lines.push(Line::styled("  (no payload in this stream)", theme::DIM));
        }
        for i in v.offset..v.offset + (inner.height as usize).saturating_sub(1) {
            let Some((server_sent, text)) = d.row(v.hex, i) else {
                break;
            };
            let style = if server_sent { SERVER } else { CLIENT };
            lines.push(Line::styled(text, style));
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
