//! The filter bar: what is applied, or the line being typed (green when it
//! compiles, red with the error under it when it does not).

use super::theme;
use crate::tui::app::App;
use crate::tui::fmt;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

/// What the bar says about the filter language in use (long and short forms).
pub fn hint(app: &App) -> (&'static str, &'static str) {
    if app.filter.is_quick() {
        (
            "quick filter (display filters are not built in yet): stream or port numbers, address or state words, !word negates · / to edit ",
            "quick filter: stream/port, address, state; !word · / edit ",
        )
    } else {
        (
            "display filter, Wireshark syntax · / to edit ",
            "display filter · / edit ",
        )
    }
}

pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let f = &app.filter;
    let row = Rect { height: 1, ..area };
    let w = area.width as usize;
    if let Some(p) = &app.prompt {
        draw_prompt(frame, row, p);
        return;
    }
    if f.editing {
        let label = " Filter ▸ ";
        let ok = f.check.is_ok();
        let style = if ok {
            Style::new().fg(Color::Green)
        } else {
            Style::new().fg(Color::LightRed)
        };
        // Keep the cursor in view: show the tail of a long line.
        let avail = w.saturating_sub(label.len() + 1);
        let before: String = f.input[..f.cursor].chars().collect();
        let skip = before.chars().count().saturating_sub(avail);
        let shown: String = f.input.chars().skip(skip).take(avail).collect();
        let line = Line::from(vec![
            Span::styled(label, theme::HEADER.fg(Color::Cyan)),
            Span::styled(shown, style),
        ]);
        frame.render_widget(
            Paragraph::new(line).style(Style::new().bg(Color::Indexed(235))),
            row,
        );
        let cx = area.x + (label.chars().count() + before.chars().count() - skip) as u16;
        frame.set_cursor_position(Position {
            x: cx.min(area.x + area.width - 1),
            y: area.y,
        });
        if let (Err(e), true) = (&f.check, area.height > 1) {
            let r = Rect {
                y: area.y + 1,
                height: 1,
                ..area
            };
            frame.render_widget(
                Paragraph::new(fmt::fit(&format!("          {e}"), w)).style(theme::ERROR),
                r,
            );
        }
        return;
    }
    let mut spans = vec![Span::styled(" Filter: ", theme::HEADER)];
    if f.applied.is_empty() {
        spans.push(Span::styled("(none)", theme::DIM));
    } else {
        spans.push(Span::styled(
            f.applied.clone(),
            Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
        ));
    }
    let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
    let (long, short) = hint(app);
    let room = w.saturating_sub(used + 2);
    let tail = if long.chars().count() <= room {
        long
    } else {
        short
    };
    if room > 10 {
        let t = fmt::fit(tail, room);
        spans.push(Span::raw(" ".repeat(w - used - t.chars().count())));
        spans.push(Span::styled(t, theme::DIM));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), row);
}

/// The go-to / find prompt (Ctrl-G, Ctrl-F) in the bar's place.
fn draw_prompt(frame: &mut Frame<'_>, row: Rect, p: &crate::tui::app::Prompt) {
    use crate::tui::app::PromptKind;
    let (label, hint) = match p.kind {
        PromptKind::GoTo => (" Go to packet ▸ ".to_string(), "  Enter go · Esc cancel"),
        PromptKind::Find(m) => (
            format!(" Find {} ▸ ", m.name()),
            "  Enter find · Tab filter/string/hex · Esc",
        ),
    };
    let w = row.width as usize;
    let avail = w.saturating_sub(label.chars().count() + 1);
    // The tail of a long line stays in view, escaped like every other text.
    let text: String = p
        .input
        .chars()
        .map(|c| if c.is_control() { '·' } else { c })
        .collect();
    let n = text.chars().count();
    let shown: String = text.chars().skip(n.saturating_sub(avail)).collect();
    let used = label.chars().count() + shown.chars().count();
    let mut spans = vec![
        Span::styled(label.clone(), theme::HEADER.fg(Color::Cyan)),
        Span::raw(shown.clone()),
    ];
    if used + hint.chars().count() < w {
        spans.push(Span::styled(hint, theme::DIM));
    }
    frame.render_widget(
        Paragraph::new(Line::from(spans)).style(Style::new().bg(Color::Indexed(235))),
        row,
    );
    let cx = row.x + used.min(w.saturating_sub(1)) as u16;
    frame.set_cursor_position(Position { x: cx, y: row.y });
}
