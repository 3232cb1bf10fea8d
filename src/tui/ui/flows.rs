//! The flows table.

use super::{theme, title};
use crate::tui::app::{table_body, App, Focus, SortKey};
use crate::tui::fmt;
use crate::tui::store::Flow;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Row, Table};
use ratatui::Frame;

/// A column is named by the key it sorts by: every column sorts.
type Col = SortKey;

/// Columns that fit `width`, with their widths and headers. The client →
/// server column gets `label_w` (the widest label) if it can; optional
/// columns show when they fit beside it.
fn columns(
    width: u16,
    stream_digits: u16,
    wide: bool,
    label_w: u16,
    shown: &[Col],
) -> Vec<(Col, u16, &'static str)> {
    // The column counts SYNs sent again: say so at every width.
    let (stream_h, rtx_h) = if wide {
        ("Stream", "SYN rtx")
    } else {
        ("#", "SYNrtx")
    };
    // One column more for the sort arrow.
    let hw = |h: &str| h.chars().count() as u16 + 1;
    let spec = |c: Col| -> (Col, u16, &'static str) {
        match c {
            Col::Stream => (c, stream_digits.max(hw(stream_h)), stream_h),
            Col::Flow => (c, 0, "Client → Server"),
            Col::State => (c, 12, "State"),
            Col::Irtt => (c, 8, "iRTT"),
            Col::SynRtx => (c, hw(rtx_h), rtx_h),
            Col::Packets => (c, 6, "Pkts"),
            Col::Bytes => (c, 8, "Bytes"),
            Col::Duration => (c, 9, "Duration"),
            Col::LastSeen => (c, 10, "Last seen"),
            Col::Service => (c, 10, "Service"),
            Col::Sni => (c, 24, "SNI"),
            Col::TlsVersion => (c, 7, "TLS"),
            // "TLS alert handshake_failure(40) from server" whole.
            Col::Failure => (c, 44, "Set-up failure"),
        }
    };
    let mut cols: Vec<(Col, u16, &str)> = shown.iter().map(|&c| spec(c)).collect();
    let has_flow = shown.contains(&Col::Flow);
    let label_w = if has_flow {
        label_w.max(hw("Client → Server"))
    } else {
        0
    };
    // Marker column + spacing between columns.
    let used = |c: &[(Col, u16, &str)]| 2 + c.iter().map(|x| x.1 + 1).sum::<u16>();
    // Columns that do not fit go from the end (the client → server column shrinks instead).
    while used(&cols) + label_w > width && cols.len() > 1 {
        let Some(i) = cols.iter().rposition(|c| c.0 != Col::Flow) else {
            break;
        };
        cols.remove(i);
    }
    let room = width.saturating_sub(used(&cols));
    if let Some(f) = cols.iter_mut().find(|c| c.0 == Col::Flow) {
        f.1 = room.min(label_w + 2);
    }
    cols
}

/// "client → server" in `w` columns: when it does not fit, the client's
/// address goes first (its port stays), so the server always shows.
fn fit_label(s: &crate::track::FlowSummary, w: usize) -> String {
    let full = crate::tui::store::flow_label(s);
    if full.chars().count() <= w {
        return full;
    }
    let (c, srv) = s.client_server();
    let short = format!("…:{} → {srv}", c.1);
    if short.chars().count() <= w {
        return short;
    }
    fmt::fit(&format!("→ {srv}"), w)
}

/// A TLS version as people say it (`1.3`), drafts and SSL included.
fn tls_version_name(v: u16) -> String {
    match v {
        0x0300 => "SSL3".into(),
        0x0301 => "1.0".into(),
        0x0302 => "1.1".into(),
        0x0303 => "1.2".into(),
        0x0304 => "1.3".into(),
        0x7f00..=0x7fff => format!("1.3d{}", v & 0xff),
        _ => format!("{v:#06x}"),
    }
}

fn cell(app: &App, e: &Flow<'_>, c: Col, w: u16) -> Cell<'static> {
    let s = &e.sum;
    let right = |t: String| Cell::from(Line::from(t).right_aligned());
    match c {
        Col::Stream => right(s.stream.to_string()),
        Col::Flow => Cell::from(fit_label(s, w as usize)),
        Col::State => Cell::from(e.state_name()).style(theme::state(s.hs.state)),
        Col::Irtt => right(
            s.handshake_rtt()
                .map(fmt::duration)
                .unwrap_or_else(|| "—".into()),
        ),
        Col::SynRtx => right(s.hs.syn_retransmissions().to_string()),
        Col::Sni => Cell::from(
            e.tls
                .as_ref()
                .and_then(|t| t.sni.as_deref())
                .map(|n| fmt::fit(&crate::tui::detail::escape(n), w as usize))
                .unwrap_or_default(),
        ),
        Col::Failure => Cell::from(
            app.failure(e)
                .map(|t| fmt::fit(&t, w as usize))
                .unwrap_or_default(),
        )
        .style(theme::state(s.hs.state)),
        Col::TlsVersion => Cell::from(
            e.tls
                .as_ref()
                .and_then(|t| t.version)
                .map(tls_version_name)
                .unwrap_or_default(),
        ),
        Col::Service => Cell::from(match s.server() {
            Some(e) => {
                crate::tui::columns::service(e.1).map_or_else(|| e.1.to_string(), str::to_string)
            }
            None => "—".to_string(),
        }),
        Col::Packets => right(fmt::count(s.total_frames())),
        Col::Bytes => right(fmt::bytes(s.total_bytes())),
        Col::Duration => right(fmt::duration(s.duration_ns())),
        Col::LastSeen => right(if app.source.live {
            format!(
                "{} ago",
                fmt::duration(app.store.counts.last_ts - s.last_ts)
            )
        } else {
            fmt::secs(s.last_ts - app.store.counts.first_ts.unwrap_or(s.last_ts))
        }),
    }
}

pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let focused = app.focus == Focus::Flows;
    let v = &app.flows;
    let total = app.store.flows.len();
    let mut extra = if v.rows.len() == total {
        format!("{total}")
    } else {
        format!("{} of {total}", v.rows.len())
    };
    let dir = if app.sort_desc { "▼" } else { "▲" };
    extra.push_str(&format!(" · sort: {} {dir}", app.sort.name()));
    if v.follow {
        extra.push_str(" · following");
    }
    let block = Block::bordered()
        .title(title("Flows", &extra))
        .title_style(theme::title(focused))
        .border_style(theme::border(focused));
    let body = table_body(area);
    let inner_w = area.width.saturating_sub(2);
    let max_stream = app.store.flows.len().saturating_sub(1).to_string().len() as u16;
    // The TLS columns only once some flow negotiated TLS.
    let shown: Vec<Col> = app
        .columns
        .shown_flows()
        .filter(|c| app.store.has_tls || !matches!(c, Col::Sni | Col::TlsVersion))
        .collect();
    let cols = columns(
        inner_w,
        max_stream,
        inner_w >= 120,
        app.store.label_width as u16,
        &shown,
    );
    let h = body.height as usize;
    let start = v.list.offset.min(v.rows.len());
    let end = (start + h).min(v.rows.len());
    let rows: Vec<Row> = v.rows[start..end]
        .iter()
        .enumerate()
        .filter_map(|(i, &stream)| {
            let e = app.store.flow(stream)?;
            let selected = start + i == v.list.sel;
            let mut cells = vec![Cell::from(if selected { "▶" } else { " " })];
            cells.extend(cols.iter().map(|&(c, w, _)| cell(app, &e, c, w)));
            let style = if selected {
                theme::selected(focused)
            } else {
                Style::new()
            };
            Some(Row::new(cells).style(style))
        })
        .collect();
    let mut header = vec![Cell::from(" ")];
    header.extend(cols.iter().map(|&(c, _, name)| {
        let mut t = name.to_string();
        if c == app.sort {
            t.push_str(dir);
        }
        match c {
            Col::Flow | Col::State | Col::Service | Col::Sni | Col::TlsVersion | Col::Failure => {
                Cell::from(t)
            }
            _ => Cell::from(Line::from(t).right_aligned()),
        }
    }));
    let mut widths = vec![Constraint::Length(1)];
    widths.extend(cols.iter().map(|&(_, w, _)| Constraint::Length(w)));
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme::HEADER))
        .column_spacing(1)
        .block(block);
    if v.rows.is_empty() {
        let note = if app.store.flows.is_empty() {
            if app.loaded() {
                " no TCP flows in this capture "
            } else {
                " waiting for TCP packets … "
            }
        } else {
            " no flow matches the filter "
        };
        frame.render_widget(table, area);
        frame.render_widget(
            ratatui::widgets::Paragraph::new(note).style(theme::DIM),
            body,
        );
        return;
    }
    frame.render_widget(table, area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_fit_the_width() {
        // As drawn for a capture without TLS.
        let all: Vec<Col> = crate::tui::columns::Columns::default()
            .shown_flows()
            .filter(|c| !matches!(c, Col::Sni | Col::TlsVersion))
            .collect();
        let columns = |w, d, wide, l| columns(w, d, wide, l, &all);
        for w in [78u16, 100, 140, 198] {
            let cols = columns(w, 3, w >= 120, 33);
            let used: u16 = 2 + cols.iter().map(|c| c.1 + 1).sum::<u16>();
            assert!(used <= w + 1, "{w}: {used}");
            assert!(cols[1].1 >= 33, "{w}: flow column {}", cols[1].1);
        }
        assert_eq!(columns(198, 3, true, 33).len(), 10);
        assert_eq!(columns(78, 3, false, 33).len(), 6);
        // A long IPv6 label squeezes the optional columns out first.
        assert_eq!(columns(140, 3, true, 90).len(), 6);
    }
}
