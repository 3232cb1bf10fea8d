//! The help overlay, printed from the key binding table.

use super::theme;
use crate::tui::keys::{key_name, BINDINGS, FILTER_KEYS, FOLLOW_KEYS, MOUSE};
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

const KEY_W: usize = 13;

fn entry(keys: &str, help: &str) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!(" {keys:<KEY_W$}"), Style::new().fg(Color::Cyan)),
        Span::raw(help.to_string()),
    ])
}

/// Every line of the help, in two columns.
pub fn columns() -> (Vec<Line<'static>>, Vec<Line<'static>>) {
    let all: Vec<Line> = BINDINGS
        .iter()
        .map(|b| {
            entry(
                &b.keys.iter().map(key_name).collect::<Vec<_>>().join(" "),
                b.help,
            )
        })
        .collect();
    let half = all.len().div_ceil(2);
    let mut left: Vec<Line> = all[..half].to_vec();
    left.push(Line::from(""));
    left.push(Line::styled(" In the follow view (f)", theme::HEADER));
    left.extend(FOLLOW_KEYS.iter().map(|(k, h)| entry(k, h)));
    let mut right: Vec<Line> = all[half..].to_vec();
    right.push(Line::from(""));
    right.push(Line::styled(" While editing the filter", theme::HEADER));
    right.extend(FILTER_KEYS.iter().map(|(k, h)| entry(k, h)));
    right.push(Line::from(""));
    right.push(Line::styled(" Mouse", theme::HEADER));
    right.extend(MOUSE.iter().map(|(k, h)| entry(k, h)));
    (left, right)
}

pub fn draw(frame: &mut Frame<'_>, area: Rect, scroll: u16) {
    let (left, right) = columns();
    let col_w = 40u16;
    let lines = left.len().max(right.len()) as u16;
    let h = lines + 3;
    // Taller than the screen: ↑↓ scroll it.
    let fits = h <= area.height;
    let title = if fits {
        " hs-tui keys · ? or Esc closes "
    } else {
        " hs-tui keys · ↑↓ PgUp PgDn scroll · ? or Esc closes "
    };
    let inner = super::overlay(frame, area, col_w * 2 + 3, h, title);
    let scroll = scroll.min(lines.saturating_sub(inner.height));
    let lw = inner.width / 2;
    let lr = Rect { width: lw, ..inner };
    let rr = Rect {
        x: inner.x + lw + 1,
        width: inner.width.saturating_sub(lw + 1),
        ..inner
    };
    frame.render_widget(Paragraph::new(left).scroll((scroll, 0)), lr);
    frame.render_widget(Paragraph::new(right).scroll((scroll, 0)), rr);
}

/// The presets picker overlay.
pub fn draw_picker(frame: &mut Frame<'_>, area: Rect, picker: &crate::tui::app::Picker) {
    let lines: Vec<Line> = picker
        .items
        .iter()
        .enumerate()
        .flat_map(|(i, p)| {
            let mark = if i == picker.selected { "▶ " } else { "  " };
            let name_style = if i == picker.selected {
                theme::title(true)
            } else {
                Style::new().fg(Color::Cyan)
            };
            [
                Line::from(vec![
                    Span::raw(mark),
                    Span::styled(p.name.clone(), name_style),
                    Span::raw("  "),
                    Span::raw(p.expr.clone()),
                ]),
                Line::styled(format!("    {}", p.desc), theme::DIM),
            ]
        })
        .collect();
    let w = area.width.saturating_sub(4).min(110);
    let inner = super::overlay(
        frame,
        area,
        w,
        lines.len() as u16 + 2,
        " filter presets · ↑↓ choose · Enter apply · Esc close ",
    );
    frame.render_widget(Paragraph::new(lines), inner);
}
