//! The packet list of the selected flow.

use super::{theme, title};
use crate::track::analysis::flag;
use crate::track::Phase;
use crate::tui::app::{table_body, App, Focus, TimeFormat};
use crate::tui::columns::PacketCol;
use crate::tui::fmt;
use crate::tui::store::PacketRec;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Row, Table};
use ratatui::Frame;

/// The time column of a packet, in the chosen format.
pub fn time_text(app: &App, g: u64, r: &PacketRec) -> String {
    let flow_start = app
        .store
        .flow(r.meta.stream)
        .map(|e| e.sum.first_ts)
        .unwrap_or(r.ts_ns);
    // A time reference (Ctrl-T) is time zero for the flow and capture columns, as in Wireshark.
    if let (Some((n, ts)), TimeFormat::Flow | TimeFormat::Capture) = (app.time_ref, app.time) {
        return if r.number() == n {
            "*REF*".into()
        } else {
            fmt::secs(r.ts_ns - ts)
        };
    }
    match app.time {
        TimeFormat::Flow => fmt::secs(r.ts_ns - flow_start),
        TimeFormat::Capture => fmt::secs(r.ts_ns - app.store.counts.first_ts.unwrap_or(r.ts_ns)),
        TimeFormat::Clock => fmt::clock(r.ts_ns, app.utc),
        TimeFormat::Delta => fmt::secs(app.store.time_delta_ns(g)),
    }
}

pub fn time_header(app: &App) -> &'static str {
    let t = app.time;
    if app.time_ref.is_some() && matches!(t, TimeFormat::Flow | TimeFormat::Capture) {
        return "Since ref";
    }
    match t {
        TimeFormat::Flow => "Time",
        TimeFormat::Capture => "Capture t",
        TimeFormat::Clock => "Clock",
        TimeFormat::Delta => "Delta",
    }
}

/// → for client to server, ← back (A→B when no handshake told who the client is).
pub fn arrow(r: &PacketRec) -> &'static str {
    let to_server = r.meta.from_client().unwrap_or(r.meta.dir() == 0);
    if to_server {
        "→"
    } else {
        "←"
    }
}

/// Sequence and acknowledgment numbers as shown (relative or raw).
pub fn seq_ack(app: &App, g: u64, r: &PacketRec) -> (String, String) {
    let ackf = r.flags & crate::decode::tcp::flags::ACK != 0;
    // Raw numbers are read back from the frame (records keep the displayed ones).
    let raw = app.raw_seq.then(|| app.store.frame(g)).flatten();
    let (s, a) = match raw.as_ref().and_then(|f| f.tcp.as_ref()) {
        Some(t) => (t.seq, t.ack),
        None => (r.meta.seq, r.meta.ack),
    };
    (
        s.to_string(),
        if ackf { a.to_string() } else { String::new() },
    )
}

/// The handshake step or phase of a packet.
pub fn step(r: &PacketRec) -> &'static str {
    if !r.meta.analyzed() {
        return "";
    }
    match r.meta.phase() {
        Phase::Syn => "1 SYN",
        Phase::SynAck => "2 SYNACK",
        Phase::HandshakeAck => "3 ACK",
        Phase::Data => "data",
        Phase::Ack => "ack",
        Phase::Fin => "fin",
        Phase::Rst => "rst",
    }
}

/// The analysis findings of a packet: Wireshark's labels without "TCP ".
pub fn analysis_notes(app: &App, g: u64, r: &PacketRec) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    for (bit, _, label) in flag::ALL.iter().rev() {
        if r.meta.analysis() & bit != 0 {
            if *bit == flag::DUPLICATE_ACK {
                let (f, n) = app.store.dup_ack(g);
                parts.push(format!("Dup ACK {f}#{n}"));
            } else {
                parts.push(label.trim_start_matches("TCP ").to_string());
            }
        }
    }
    if r.malformed() {
        parts.push("malformed".into());
    }
    parts
}

/// The notes column: the handshake's milestones, then the analysis.
pub fn notes(app: &App, g: u64, r: &PacketRec) -> String {
    let mut parts: Vec<String> = Vec::new();
    let flow = app.store.flow(r.meta.stream);
    if r.meta.analyzed() && r.meta.phase() == Phase::HandshakeAck {
        match flow.and_then(|f| f.sum.irtt_ns) {
            Some(rtt) => parts.push(format!("established, iRTT {}", fmt::duration(rtt))),
            None => parts.push("established".into()),
        }
    }
    if r.meta.phase() == Phase::Rst && r.meta.hs_state() == crate::track::HsState::Refused {
        parts.push("refused".into());
    }
    parts.extend(analysis_notes(app, g, r));
    parts.join(", ")
}

pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let focused = app.focus == Focus::Packets;
    let v = &app.packets;
    let flow = v.stream.and_then(|s| app.store.flow(s));
    let name = match v.stream {
        Some(s) => format!("Packets of stream {s}"),
        None => "Packets".into(),
    };
    let mut extra = String::new();
    if let Some(e) = &flow {
        extra = crate::tui::store::flow_label(&e.sum);
        let total = e.sum.total_frames() as usize;
        if v.rows.len() != total {
            extra.push_str(&format!(" · {} of {total}", v.rows.len()));
        } else {
            extra.push_str(&format!(" · {total}"));
        }
        if app.raw_seq {
            extra.push_str(" · raw seq");
        }
    }
    let block = Block::bordered()
        .title(title(&name, &extra))
        .title_style(theme::title(focused))
        .border_style(theme::border(focused));
    let body = table_body(area);
    let h = body.height as usize;
    let start = v.list.offset.min(v.rows.len());
    let end = (start + h).min(v.rows.len());
    let visible: Vec<(u64, &PacketRec)> = v.rows[start..end]
        .iter()
        .filter_map(|&g| app.store.get(g).map(|r| (g, r)))
        .collect();

    // Widths follow the visible rows.
    struct RowText {
        no: String,
        time: String,
        dir: &'static str,
        flags: String,
        seq: String,
        ack: String,
        len: String,
        win: String,
        step: &'static str,
        notes: String,
        style: Style,
    }
    let texts: Vec<RowText> = visible
        .iter()
        .map(|&(g, r)| {
            let (seq, ack) = seq_ack(app, g, r);
            RowText {
                no: r.number().to_string(),
                time: time_text(app, g, r),
                dir: arrow(r),
                flags: fmt::flags(r.flags),
                seq,
                ack,
                len: (app.store.seg_len(g, r))
                    .map(|l| l.to_string())
                    .unwrap_or_default(),
                win: r.meta.window().to_string(),
                step: step(r),
                notes: notes(app, g, r),
                style: theme::packet(r.flags, r.meta.analysis()),
            }
        })
        .collect();
    let w = |hdr: &str, f: &dyn Fn(&RowText) -> usize| {
        texts
            .iter()
            .map(f)
            .max()
            .unwrap_or(0)
            .max(hdr.chars().count()) as u16
    };
    let time_h = time_header(app);
    let shown: Vec<PacketCol> = app.columns.shown_packets().collect();
    // Per column: width, header, right-aligned.
    let spec = |c: PacketCol| -> (Constraint, &'static str, bool) {
        match c {
            PacketCol::No => (Constraint::Length(w("No.", &|t| t.no.len())), "No.", true),
            PacketCol::Time => (
                Constraint::Length(w(time_h, &|t| t.time.len())),
                time_h,
                true,
            ),
            PacketCol::Dir => (Constraint::Length(1), " ", false),
            PacketCol::Flags => (
                Constraint::Length(w("Flags", &|t| t.flags.len())),
                "Flags",
                false,
            ),
            PacketCol::Seq => (Constraint::Length(w("Seq", &|t| t.seq.len())), "Seq", true),
            PacketCol::Ack => (Constraint::Length(w("Ack", &|t| t.ack.len())), "Ack", true),
            PacketCol::Len => (Constraint::Length(w("Len", &|t| t.len.len())), "Len", true),
            PacketCol::Win => (Constraint::Length(w("Win", &|t| t.win.len())), "Win", true),
            PacketCol::Step => (Constraint::Length(8), "Step", false),
            PacketCol::Notes => (Constraint::Fill(1), "Notes", false),
        }
    };
    let specs: Vec<_> = shown.iter().map(|&c| spec(c)).collect();
    let mut widths = vec![Constraint::Length(1)];
    widths.extend(specs.iter().map(|s| s.0));
    let rows: Vec<Row> = texts
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            let selected = start + i == v.list.sel;
            let style = if selected {
                t.style.patch(theme::selected(focused))
            } else {
                t.style
            };
            let mut cells = vec![Cell::from(if selected { "▶" } else { " " })];
            for (&c, s) in shown.iter().zip(&specs) {
                let text: String = match c {
                    PacketCol::No => t.no.clone(),
                    PacketCol::Time => t.time.clone(),
                    PacketCol::Dir => t.dir.to_string(),
                    PacketCol::Flags => t.flags.clone(),
                    PacketCol::Seq => t.seq.clone(),
                    PacketCol::Ack => t.ack.clone(),
                    PacketCol::Len => t.len.clone(),
                    PacketCol::Win => t.win.clone(),
                    PacketCol::Step => t.step.to_string(),
                    PacketCol::Notes => t.notes.clone(),
                };
                cells.push(if s.2 {
                    Cell::from(Line::from(text).right_aligned())
                } else {
                    Cell::from(text)
                });
            }
            Row::new(cells).style(style)
        })
        .collect();
    let mut header_cells = vec![Cell::from(" ")];
    header_cells.extend(specs.iter().map(|s| {
        if s.2 {
            Cell::from(Line::from(s.1).right_aligned())
        } else {
            Cell::from(s.1)
        }
    }));
    let header = Row::new(header_cells).style(theme::HEADER);
    let table = Table::new(rows, widths)
        .header(header)
        .column_spacing(1)
        .block(block);
    if v.rows.is_empty() {
        let note = match (v.stream, flow) {
            (None, _) => " select a flow above ",
            (Some(_), Some(e)) if e.stored == 0 => {
                " this flow's packets were dropped from memory (--tui-max-packets) "
            }
            _ => " no packet of this flow matches the filter ",
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
