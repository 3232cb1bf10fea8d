//! The detail pane: the layer tree of the selected packet and its bytes.

use super::{theme, title};
use crate::tui::app::{App, Areas, Focus};
use crate::tui::detail::{Alert, TreeLine};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

/// Columns of one hex dump line: offset, 16 bytes in two groups, ASCII.
pub const HEX_WIDTH: u16 = 6 + 16 * 3 + 1 + 1 + 16;

fn tree_line(l: &TreeLine, width: usize, names: bool) -> Line<'static> {
    let indent = "  ".repeat(l.depth as usize);
    if !l.header && !names {
        let style = match l.alert {
            Some(Alert::Error) => theme::ERROR,
            Some(Alert::Warn) => Style::new().fg(ratatui::style::Color::Yellow),
            None => Style::new(),
        };
        return Line::from(vec![
            Span::raw(indent),
            Span::styled(l.pretty.clone(), style),
        ]);
    }
    if l.header {
        let mark = if l.expanded { "▾ " } else { "▸ " };
        return Line::from(vec![
            Span::raw(indent),
            Span::raw(mark),
            Span::styled(l.text.clone(), theme::HEADER),
        ]);
    }
    let name = l.field.unwrap_or("");
    let mut spans = vec![
        Span::raw(indent),
        Span::styled(
            format!("{name}: "),
            Style::new().fg(ratatui::style::Color::Cyan),
        ),
    ];
    spans.push(Span::raw(l.text.clone()));
    let used = l.depth as usize * 2 + name.len() + 2 + l.text.chars().count();
    if used + 4 + l.desc.len() <= width {
        spans.push(Span::styled(format!("  {}", l.desc), theme::DIM));
    }
    Line::from(spans)
}

/// Hex dump lines for `bytes`, the bytes in `span` highlighted, starting at line `first`.
pub fn hex_lines(
    bytes: &[u8],
    span: Option<(usize, usize)>,
    first: usize,
    count: usize,
) -> Vec<Line<'static>> {
    let in_span = |i: usize| span.is_some_and(|(s, l)| i >= s && i < s + l);
    let mut out = Vec::new();
    for (n, chunk) in bytes.chunks(16).enumerate().skip(first).take(count) {
        let base = n * 16;
        let mut spans = vec![Span::styled(format!("{base:04x}  "), theme::DIM)];
        for i in 0..16 {
            let (txt, hit) = match chunk.get(i) {
                Some(b) => (format!("{b:02x}"), in_span(base + i)),
                None => ("  ".to_string(), false),
            };
            spans.push(Span::styled(
                txt,
                if hit { theme::HIGHLIGHT } else { Style::new() },
            ));
            let gap_hit = hit && i < 15 && in_span(base + i + 1) && i != 7;
            spans.push(Span::styled(
                if i == 7 { "  " } else { " " },
                if gap_hit {
                    theme::HIGHLIGHT
                } else {
                    Style::new()
                },
            ));
        }
        spans.push(Span::raw(" "));
        for (i, &b) in chunk.iter().enumerate() {
            let c = if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            };
            spans.push(Span::styled(
                c.to_string(),
                if in_span(base + i) {
                    theme::HIGHLIGHT
                } else {
                    Style::new()
                },
            ));
        }
        out.push(Line::from(spans));
    }
    out
}

pub fn draw(frame: &mut Frame<'_>, a: &Areas, app: &App) {
    let focused = app.focus == Focus::Details;
    let tree = app.tree();
    let sel = app.packets.selected();
    let rec = sel.and_then(|g| app.store.get(g));
    // As Wireshark's status bar: the selected line's field name, and what it offers.
    let field = tree
        .get(app.detail.list.sel)
        .and_then(|l| l.field)
        .filter(|_| focused);
    let extra = match (rec, field) {
        (Some(r), Some(f)) => format!("frame {} · {f} · = filter · + edit · v names", r.number()),
        (Some(r), None) => format!("frame {}", r.number()),
        _ => String::new(),
    };
    // The tree block spans from the details' top to the tree body's bottom.
    let tree_block = Rect {
        x: a.tree.x - 1,
        y: a.tree.y - 1,
        width: a.tree.width + 2,
        height: a.tree.height + 2,
    };
    let block = Block::bordered()
        .title(title("Details", &extra))
        .title_style(theme::title(focused))
        .border_style(theme::border(focused));
    frame.render_widget(block, tree_block);
    let h = a.tree.height as usize;
    let w = a.tree.width as usize;
    let start = app.detail.list.offset.min(tree.len());
    let end = (start + h).min(tree.len());
    let mut lines: Vec<Line> = Vec::with_capacity(end - start);
    for (i, l) in tree[start..end].iter().enumerate() {
        let selected = start + i == app.detail.list.sel;
        let mut line = tree_line(l, w, app.detail.names);
        if selected {
            line = line.style(theme::selected(focused));
        }
        lines.push(line);
    }
    if tree.is_empty() {
        lines.push(Line::styled(" select a packet", theme::DIM));
    }
    frame.render_widget(Paragraph::new(lines), a.tree);

    // Bytes, scrolled so the selected line's bytes show.
    let hex_inner = crate::tui::app::pane_body(a.hex);
    let span = if focused {
        tree.get(app.detail.list.sel).and_then(|l| l.span)
    } else {
        None
    };
    let hex_focused = app.focus == Focus::Bytes;
    let bytes = app.packets.selected().and_then(|g| app.store.bytes(g));
    let (bytes_title, lines) = match rec {
        Some(_) => match &bytes {
            Some(b) => {
                let total = b.len().div_ceil(16);
                let hh = hex_inner.height as usize;
                let first = match span {
                    _ if hex_focused => app.detail.hex_offset.min(total.saturating_sub(hh)),
                    Some((s, _)) if s / 16 >= hh => (s / 16).min(total.saturating_sub(hh)),
                    _ => 0,
                };
                (format!("{} bytes", b.len()), hex_lines(b, span, first, hh))
            }
            None => (
                "not kept".into(),
                vec![Line::styled(
                    " bytes not kept (the live spool was full); fields rebuilt from the record",
                    theme::DIM,
                )],
            ),
        },
        None => (String::new(), Vec::new()),
    };
    let hex_block = Block::bordered()
        .title(title("Bytes", &bytes_title))
        .title_style(theme::title(hex_focused))
        .border_style(theme::border(hex_focused));
    frame.render_widget(hex_block, a.hex);
    frame.render_widget(Paragraph::new(lines), hex_inner);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_dump_layout() {
        let bytes: Vec<u8> = (0u8..20).collect();
        let lines = hex_lines(&bytes, Some((14, 4)), 0, 4);
        assert_eq!(lines.len(), 2);
        let text: String = lines[0].spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(
            text,
            "0000  00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f  ................"
        );
        assert_eq!(text.chars().count() as u16, HEX_WIDTH);
        let hl: Vec<&str> = lines[0]
            .spans
            .iter()
            .filter(|s| s.style == theme::HIGHLIGHT)
            .map(|s| s.content.as_ref())
            .collect();
        assert!(hl.contains(&"0e") && hl.contains(&"0f"));
    }
}
