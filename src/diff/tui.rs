//! The two-lane ladder of `hs-tui diff A B`: the connections on top, and the
//! selected one below as two timelines, the client's point on the left and
//! the server's on the right. Each packet is a line from its sender's lane at
//! the time it was sent to the receiver's lane at the time it arrived (both
//! in A's clock, the offset removed), so it slants with its one-way delay; a
//! lost packet stops halfway in a cross. Rows follow the events in time;
//! a quiet stretch longer than a few delays is folded into one `⋮` row.

use super::run::{clock_line, Loaded};
use super::{human, Conn, Side};
use crate::decode::tcp::flags as fl;
use crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::backend::{Backend, CrosstermBackend};
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::{Frame, Terminal};
use std::io::{self, IsTerminal};
use std::process::ExitCode;
use std::time::Duration;

/// What the view shows.
#[derive(Clone, Debug, Default)]
pub struct State {
    /// Index into `shown`.
    pub sel: usize,
    /// First ladder row shown.
    pub scroll: usize,
    pub problems_only: bool,
    /// Connection numbers listed.
    pub shown: Vec<usize>,
    pub quit: bool,
}

impl State {
    pub fn new(l: &Loaded) -> State {
        let mut s = State::default();
        s.refresh(l);
        s
    }
    fn refresh(&mut self, l: &Loaded) {
        let cur = self.shown.get(self.sel).copied();
        self.shown = (0..l.diff.conns.len())
            .filter(|&i| !self.problems_only || l.diff.conns[i].problem)
            .collect();
        self.sel = cur
            .and_then(|c| self.shown.iter().position(|&x| x >= c))
            .unwrap_or(0)
            .min(self.shown.len().saturating_sub(1));
        self.scroll = 0;
    }
    /// Select connection `id` (if listed).
    pub fn select(&mut self, id: usize) {
        if let Some(p) = self.shown.iter().position(|&x| x == id) {
            self.sel = p;
            self.scroll = 0;
        }
    }
    pub fn on_key(&mut self, l: &Loaded, k: KeyEvent) {
        let n = self.shown.len();
        match k.code {
            KeyCode::Char('q') | KeyCode::Esc => self.quit = true,
            KeyCode::Down | KeyCode::Char('j') => {
                self.sel = (self.sel + 1).min(n.saturating_sub(1));
                self.scroll = 0;
            }
            KeyCode::Up | KeyCode::Char('k') => {
                self.sel = self.sel.saturating_sub(1);
                self.scroll = 0;
            }
            KeyCode::PageDown | KeyCode::Char(' ') | KeyCode::Char('J') => self.scroll += 10,
            KeyCode::PageUp | KeyCode::Char('K') => self.scroll = self.scroll.saturating_sub(10),
            KeyCode::Home | KeyCode::Char('g') => {
                self.sel = 0;
                self.scroll = 0;
            }
            KeyCode::End | KeyCode::Char('G') => {
                self.sel = n.saturating_sub(1);
                self.scroll = 0;
            }
            KeyCode::Char('p') => {
                self.problems_only = !self.problems_only;
                self.refresh(l);
            }
            _ => {}
        }
    }
}

/// One packet on the ladder.
struct Arrow {
    c2s: bool,
    label: String,
    send: i64,
    /// Arrival of each copy (A's clock).
    arrivals: Vec<i64>,
    lost: bool,
    /// Seen only at the receiver: no send time at the sender's point.
    unseen: bool,
    odd: bool,
    hs: bool,
}

fn label(flags: u16, len: u32) -> String {
    let mut names = Vec::new();
    if flags & fl::SYN != 0 {
        names.push("SYN");
    }
    if flags & fl::FIN != 0 {
        names.push("FIN");
    }
    if flags & fl::RST != 0 {
        names.push("RST");
    }
    if flags & fl::PSH != 0 {
        names.push("PSH");
    }
    if flags & fl::ACK != 0 {
        names.push("ACK");
    }
    let mut s = names.join(",");
    if s == "SYN,ACK" {
        s = "SYN-ACK".into();
    }
    if len > 0 {
        s.push_str(&format!(" {len}B"));
    }
    s
}

fn arrows(l: &Loaded, c: &Conn) -> Vec<Arrow> {
    let theta = l.diff.clock.offset_ns;
    let to_a = |side: Side, t: i64| match side {
        Side::A => t,
        Side::B => t.saturating_sub(theta),
    };
    let mut out = Vec::new();
    for &(side, i) in &c.pkts {
        let cap = match side {
            Side::A => &l.a,
            Side::B => &l.b,
        };
        let Some(p) = cap.pkts.get(i as usize) else {
            continue;
        };
        let Some(r) = l.diff.rows(side).get(i as usize) else {
            continue;
        };
        // c2s: the packet leaves the client's point.
        let c2s = r.dir_ab == c.client_at_a;
        let other = match side {
            Side::A => &l.b,
            Side::B => &l.a,
        };
        let (send, arrivals) = if r.sender {
            let frames = l.diff.peer_frames(&l.a, &l.b, side, i);
            let arr = frames
                .iter()
                .filter_map(|&f| other.by_frame(f))
                .map(|j| to_a(side.other(), other.pkts[j].ts))
                .collect();
            (to_a(side, p.ts), arr)
        } else {
            // Seen at the receiver only: draw it as if sent one median delay before.
            let t = to_a(side, p.ts);
            let owd = l.diff.median_owd[if r.dir_ab { 0 } else { 1 }].unwrap_or(0);
            (t.saturating_sub(owd), vec![t])
        };
        let hs = p.flags & (fl::SYN | fl::RST) != 0;
        out.push(Arrow {
            c2s,
            label: label(p.flags, p.len),
            send,
            arrivals,
            lost: r.lost(),
            unseen: r.unseen_at_sender(),
            odd: r.duplicate() || r.reordered,
            hs,
        });
    }
    out
}

/// A ladder row: texts of the two lanes and the cells of the middle.
#[derive(Clone)]
struct Row {
    left: String,
    right: String,
    mid: Vec<(char, Style)>,
    gap: Option<i64>,
}

/// Lay the arrows out on rows (one per event, a folded row for a long quiet stretch).
fn ladder(l: &Loaded, c: &Conn, mid_w: usize) -> Vec<Row> {
    let arrows = arrows(l, c);
    // Events: (time, is_arrival, arrow, copy).
    let mut evs: Vec<(i64, bool, usize, usize)> = Vec::new();
    for (k, a) in arrows.iter().enumerate() {
        if !a.unseen {
            evs.push((a.send, false, k, 0));
        }
        for (j, &t) in a.arrivals.iter().enumerate() {
            evs.push((t.max(a.send), true, k, j));
        }
    }
    evs.sort();
    let typical = c
        .dirs
        .iter()
        .filter_map(|d| d.median())
        .max()
        .unwrap_or(10_000_000);
    let fold = (typical * 4).max(50_000_000);
    let start = c.start;
    let blank = Row {
        left: String::new(),
        right: String::new(),
        mid: vec![(' ', Style::new()); mid_w],
        gap: None,
    };
    let mut rows: Vec<Row> = Vec::new();
    let mut send_row = vec![usize::MAX; arrows.len()];
    let mut arr_rows: Vec<Vec<usize>> = vec![Vec::new(); arrows.len()];
    let mut prev: Option<i64> = None;
    for &(t, arrival, k, j) in &evs {
        if let Some(p) = prev {
            if t.saturating_sub(p) > fold {
                let mut r = blank.clone();
                r.gap = Some(t.saturating_sub(p));
                rows.push(r);
            }
        }
        prev = Some(t);
        let a = &arrows[k];
        let mut r = blank.clone();
        let time = format!("{:>9.3}", t.saturating_sub(start) as f64 / 1e6);
        // The client's lane is on the left.
        let at_left = a.c2s != arrival;
        let mut text = format!("{time} {}", a.label);
        if !arrival && a.lost {
            text.push_str(" ✕ lost");
        }
        if arrival && j > 0 {
            text.push_str(" (copy)");
        }
        if arrival && a.unseen {
            text.push_str(" (not seen at the sender)");
        }
        if at_left {
            r.left = text;
        } else {
            r.right = text;
        }
        if arrival {
            arr_rows[k].push(rows.len());
        } else {
            send_row[k] = rows.len();
        }
        rows.push(r);
    }
    // Lifelines, then the arrows.
    let last = mid_w.saturating_sub(1);
    for r in rows.iter_mut() {
        if mid_w >= 2 {
            r.mid[0] = ('│', Style::new().fg(Color::DarkGray));
            r.mid[last] = ('│', Style::new().fg(Color::DarkGray));
        }
    }
    if mid_w < 6 {
        return rows;
    }
    for (k, a) in arrows.iter().enumerate() {
        let style = if a.lost {
            Style::new().fg(Color::LightRed)
        } else if a.unseen || a.odd {
            Style::new().fg(Color::Yellow)
        } else if a.hs {
            Style::new().fg(Color::Cyan)
        } else {
            Style::new()
        };
        let (x0, x1) = if a.c2s { (1, last - 1) } else { (last - 1, 1) };
        if a.lost {
            let r0 = send_row[k];
            if r0 == usize::MAX {
                continue;
            }
            // On its own row: half a line, ending in a cross.
            let r1 = r0;
            let xm = (x0 + x1) / 2;
            draw(&mut rows, r0, r1, x0, xm, style, Some('✕'));
            continue;
        }
        for &r1 in &arr_rows[k] {
            let r0 = if a.unseen { r1 } else { send_row[k] };
            if r0 == usize::MAX {
                continue;
            }
            let head = if a.c2s { '▶' } else { '◀' };
            draw(&mut rows, r0, r1.max(r0), x0, x1, style, Some(head));
        }
    }
    rows
}

/// A line from (x0, r0) to (x1, r1), going down one row per step of the slope.
fn draw(
    rows: &mut [Row],
    r0: usize,
    r1: usize,
    x0: usize,
    x1: usize,
    st: Style,
    end: Option<char>,
) {
    let n = r1 - r0 + 1;
    let right = x1 >= x0;
    let span = x0.abs_diff(x1) + 1;
    for (i, row) in rows.iter_mut().enumerate().take(r1 + 1).skip(r0) {
        let k = i - r0;
        let from = span * k / n;
        let to = (span * (k + 1) / n).max(from + 1);
        for step in from..to.min(span) {
            let x = if right { x0 + step } else { x0 - step };
            let ch = if step + 1 == to && i < r1 {
                if right {
                    '╲'
                } else {
                    '╱'
                }
            } else {
                '─'
            };
            if let Some(c) = row.mid.get_mut(x) {
                *c = (ch, st);
            }
        }
        if i == r1 {
            if let (Some(e), Some(c)) = (end, row.mid.get_mut(x1)) {
                *c = (e, st);
            }
        }
    }
}

fn fit(s: &str, w: usize) -> String {
    let n = s.chars().count();
    if n <= w {
        format!("{s:<w$}")
    } else if w == 0 {
        String::new()
    } else {
        let mut t: String = s.chars().take(w - 1).collect();
        t.push('…');
        t
    }
}

fn conn_line(c: &Conn, w: usize, selected: bool) -> Line<'static> {
    let mark = if c.problem { "✘" } else { "✔" };
    let text = format!(
        "{}{:>4} {mark} {} → {}  {}  {}",
        if selected { "▶" } else { " " },
        c.id,
        c.client,
        c.server,
        c.result.name(),
        c.verdict
    );
    let mut st = if c.problem {
        Style::new().fg(Color::LightRed)
    } else {
        Style::new()
    };
    if selected {
        st = st.add_modifier(Modifier::REVERSED);
    }
    Line::from(Span::styled(fit(&text, w), st))
}

/// Draw the whole view.
pub fn render(f: &mut Frame, l: &Loaded, st: &State) {
    let area = f.area();
    let list_h = (area.height / 3).clamp(3, 12);
    let [title, list, head, lanes, ladder_area, help] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(list_h),
        Constraint::Length(3),
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let w = area.width as usize;
    let clock = &l.diff.clock;
    let bound = clock
        .bound_ns
        .map(|b| format!(" (±{})", human(b)))
        .unwrap_or_default();
    let nat = if l.diff.nat.flows_rewritten > 0 {
        "  NAT seen"
    } else {
        ""
    };
    let t = format!(
        " hs-tui diff  A {} ⇄ B {}  clock offset B−A {:+.3} ms{bound}{nat}",
        l.a.name,
        l.b.name,
        clock.offset_ns as f64 / 1e6
    );
    f.render_widget(
        Paragraph::new(fit(&t, w)).style(Style::new().add_modifier(Modifier::REVERSED)),
        title,
    );
    // Connection list, the selection kept in view.
    let block = Block::default().borders(Borders::BOTTOM).title(format!(
        " connections: {} shown of {}{} ",
        st.shown.len(),
        l.diff.conns.len(),
        if st.problems_only {
            ", problems only"
        } else {
            ""
        }
    ));
    let inner = block.inner(list);
    f.render_widget(block, list);
    let h = inner.height as usize;
    let first = st.sel.saturating_sub(h.saturating_sub(1));
    let lines: Vec<Line> = st
        .shown
        .iter()
        .enumerate()
        .skip(first)
        .take(h)
        .filter_map(|(k, &ci)| l.diff.conns.get(ci).map(|c| conn_line(c, w, k == st.sel)))
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
    let Some(c) = st.shown.get(st.sel).and_then(|&i| l.diff.conns.get(i)) else {
        f.render_widget(Paragraph::new(" no connection"), head);
        return;
    };
    let fam = if c.v4 { "IPv4" } else { "IPv6" };
    let waits = format!(
        "client waited {} (SYN→SYN-ACK) · server waited {} (SYN-ACK→ACK)",
        c.client_wait.map(human).unwrap_or_else(|| "-".into()),
        c.server_wait.map(human).unwrap_or_else(|| "-".into())
    );
    let head_lines = vec![
        Line::from(Span::styled(
            fit(
                &format!(
                    " conn {} {} → {} ({fam}) {} · {}",
                    c.id,
                    c.client,
                    c.server,
                    c.result.name(),
                    c.handshake
                ),
                w,
            ),
            Style::new().add_modifier(Modifier::BOLD),
        )),
        Line::from(fit(&format!(" {}", c.verdict), w)),
        Line::from(fit(&format!(" {waits}"), w)),
    ];
    f.render_widget(Paragraph::new(head_lines), head);
    // Lanes: client | slanting lines | server.
    let side_w = (w.saturating_sub(2) * 3 / 10).clamp(8, 40);
    let mid_w = w.saturating_sub(2 * side_w + 2);
    let (cp, sp) = if c.client_at_a {
        ("a", "b")
    } else {
        ("b", "a")
    };
    let lanes_text = format!(
        "{} {} {}",
        fit(&format!(" client ({cp}) ms"), side_w),
        fit(&format!("{:^mid_w$}", "one-way delay →"), mid_w),
        fit(&format!("server ({sp}) ms"), side_w)
    );
    f.render_widget(
        Paragraph::new(lanes_text).style(Style::new().add_modifier(Modifier::UNDERLINED)),
        lanes,
    );
    let rows = ladder(l, c, mid_w);
    let h = ladder_area.height as usize;
    let scroll = st.scroll.min(rows.len().saturating_sub(h));
    let lines: Vec<Line> = rows
        .iter()
        .skip(scroll)
        .take(h)
        .map(|r| {
            if let Some(g) = r.gap {
                let t = format!("{:>w$}", format!("⋮ {} later", human(g)), w = side_w);
                return Line::from(Span::styled(fit(&t, w), Style::new().fg(Color::DarkGray)));
            }
            let mut spans = vec![Span::raw(fit(&r.left, side_w)), Span::raw(" ")];
            spans.extend(r.mid.iter().map(|&(ch, s)| Span::styled(ch.to_string(), s)));
            spans.push(Span::raw(" "));
            spans.push(Span::raw(fit(&r.right, side_w)));
            Line::from(spans)
        })
        .collect();
    f.render_widget(Paragraph::new(lines), ladder_area);
    let help_text = format!(
        " ↑↓ connection  PgUp/PgDn scroll  p problems only  q quit   {}",
        clock_line(l)
    );
    f.render_widget(
        Paragraph::new(fit(&help_text, w)).style(Style::new().fg(Color::DarkGray)),
        help,
    );
}

/// Draw once on any backend (tests use ratatui's TestBackend).
pub fn draw_on<B: Backend>(t: &mut Terminal<B>, l: &Loaded, st: &State) -> Result<(), B::Error> {
    t.draw(|f| render(f, l, st)).map(|_| ())
}

/// Restores the terminal when dropped, also on a panic.
struct Guard;
impl Drop for Guard {
    fn drop(&mut self) {
        let _ = disable_raw_mode();
        let _ = execute!(io::stdout(), LeaveAlternateScreen, crossterm::cursor::Show);
    }
}

/// Run the view until `q`.
pub fn run(l: &Loaded) -> anyhow::Result<ExitCode> {
    if !io::stdout().is_terminal() {
        anyhow::bail!("the ladder view needs a terminal on standard output (use -q or -T fields)");
    }
    let mut st = State::new(l);
    // Start on the first connection with a problem.
    if let Some(c) = l.diff.conns.iter().find(|c| c.problem) {
        st.select(c.id as usize);
    }
    enable_raw_mode()?;
    let _guard = Guard;
    execute!(io::stdout(), EnterAlternateScreen)?;
    let mut term = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    while !st.quit {
        term.draw(|f| render(f, l, &st))?;
        if event::poll(Duration::from_millis(250))? {
            if let Event::Key(k) = event::read()? {
                if k.kind != KeyEventKind::Release {
                    st.on_key(l, k);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::matching::Options;
    use crossterm::event::KeyModifiers;
    use ratatui::backend::TestBackend;

    const SET: &str = "tests/conformance/twopoint/visible";

    fn loaded() -> Loaded {
        crate::diff::run::load_pair(
            &format!("{SET}/client.pcap"),
            &format!("{SET}/server.pcap"),
            &Options::default(),
        )
        .expect("load the visible set")
    }

    fn screen(l: &Loaded, st: &State, w: u16, h: u16) -> String {
        let mut t = Terminal::new(TestBackend::new(w, h)).expect("terminal");
        draw_on(&mut t, l, st).expect("draw");
        t.backend().to_string()
    }

    #[test]
    fn ladder_snapshots() {
        let l = loaded();
        let mut st = State::new(&l);
        // A lost SYN and its retransmission (conn 4), then a lost SYN-ACK.
        st.select(4);
        for (w, h) in [(80, 24), (200, 60)] {
            insta::assert_snapshot!(format!("diff_syn_lost_{w}x{h}"), screen(&l, &st, w, h));
        }
        let sa = l
            .diff
            .conns
            .iter()
            .find(|c| c.synack_lost > 0)
            .expect("a lost SYN-ACK in the set");
        st.select(sa.id as usize);
        insta::assert_snapshot!("diff_synack_lost_200x60", screen(&l, &st, 200, 60));
    }

    #[test]
    fn keys_move_filter_and_quit() {
        let l = loaded();
        let mut st = State::new(&l);
        let k = |c| KeyEvent::new(c, KeyModifiers::NONE);
        st.on_key(&l, k(KeyCode::Down));
        assert_eq!(st.sel, 1);
        st.on_key(&l, k(KeyCode::Char('p')));
        assert!(st.shown.iter().all(|&i| l.diff.conns[i].problem));
        assert!(st.shown.len() < l.diff.conns.len());
        st.on_key(&l, k(KeyCode::End));
        st.on_key(&l, k(KeyCode::PageDown));
        // Any size, scrolled past the end: drawn without a panic.
        for (w, h) in [(1, 1), (10, 5), (40, 12), (80, 24)] {
            let _ = screen(&l, &st, w, h);
        }
        st.on_key(&l, k(KeyCode::Char('q')));
        assert!(st.quit);
    }
}
