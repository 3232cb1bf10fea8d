//! Rendering snapshots (ratatui's `TestBackend`, insta) of every view at
//! 80x24 and 200x60, and the state machine driven by synthetic keys. The
//! captures go through the real capture thread, decoder and tracker.

use super::app::{Focus, SourceInfo, TimeFormat};
use super::store::Limits;
use super::*;
use crate::capture::{ReadOptions, SourceSpec};
use crate::track::Budget;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::backend::TestBackend;
use ratatui::style::Color;

pub const HTTP: &str = "tests/data/lo-http-refused.pcap";
pub const SYN_UNANSWERED: &str = "sample-captures/half-open.pcap";
pub const RST: &str = "sample-captures/reset.pcap";
pub const CUT: &str = "tests/data/http-get-cut.pcap";

/// Load a capture the way the TUI does, to the end.
pub fn load_with(path: &str, limits: Limits) -> App {
    let spec = SourceSpec::File(path.into());
    let opened = capture::open(&spec).expect("open sample capture");
    let file_size = std::fs::metadata(path).ok().map(|m| m.len());
    let mut app = App::new(
        SourceInfo {
            name: path.into(),
            live: false,
            file_size,
            path: Some(path.into()),
        },
        opened.link,
        Budget::default(),
        limits,
        None,
    );
    app.utc = true;
    let read = ReadOptions {
        offsets: true,
        ..Default::default()
    };
    let running = capture::spawn(opened, read);
    while let Ok(ev) = running.events.recv() {
        let done = matches!(ev, Event::Done(_));
        app.on_event(ev);
        if done {
            break;
        }
    }
    app.settle();
    app
}

/// An empty view of a live capture on Ethernet, fed by the test.
fn live_app() -> App {
    App::new(
        SourceInfo {
            name: "lo".into(),
            live: true,
            file_size: None,
            path: None,
        },
        crate::decode::LinkType::Ethernet,
        Budget::default(),
        Limits::default(),
        None,
    )
}

/// Ingest a capture's batches into `app` as if they arrived live.
fn feed(app: &mut App, path: &str) {
    let spec = SourceSpec::File(path.into());
    let running = capture::spawn(capture::open(&spec).unwrap(), ReadOptions::default());
    while let Ok(ev) = running.events.recv() {
        match ev {
            Event::Batch(b) => app.ingest(&b),
            Event::Done(_) => break,
            _ => {}
        }
    }
}

pub fn load(path: &str) -> App {
    load_with(path, Limits::default())
}

pub(super) fn terminal(w: u16, h: u16) -> Terminal<TestBackend> {
    Terminal::new(TestBackend::new(w, h)).unwrap()
}

/// Render once and return the screen as text.
pub(super) fn screen(app: &mut App, w: u16, h: u16) -> String {
    let mut t = terminal(w, h);
    render(&mut t, app).unwrap();
    t.backend().to_string()
}

pub(super) fn key(app: &mut App, code: KeyCode) {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
}

pub(super) fn ch(app: &mut App, c: char) {
    key(app, KeyCode::Char(c));
}

fn typed(app: &mut App, s: &str) {
    for c in s.chars() {
        ch(app, c);
    }
}

/// Snapshot a view at both sizes; `setup` runs on a fresh app after a first render at that size.
pub(super) fn both_sizes(name: &str, path: &str, setup: impl Fn(&mut App)) {
    for (w, h) in [(80u16, 24u16), (200, 60)] {
        let mut app = load(path);
        screen(&mut app, w, h);
        setup(&mut app);
        app.settle();
        let s = screen(&mut app, w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), s);
    }
}

#[test]
fn view_flows() {
    both_sizes("flows", HTTP, |_| {});
}

#[test]
fn view_packets() {
    both_sizes("packets", HTTP, |app| {
        key(app, KeyCode::Enter);
    });
}

#[test]
fn view_ladder() {
    both_sizes("ladder", HTTP, |app| {
        key(app, KeyCode::Enter);
        ch(app, 'l');
    });
}

#[test]
fn view_details() {
    both_sizes("details", HTTP, |app| {
        key(app, KeyCode::Enter);
        ch(app, 'j');
        ch(app, 'j');
        ch(app, 'j');
        key(app, KeyCode::Enter);
        // Walk to a field so the hex dump highlights it.
        ch(app, 'j');
        ch(app, 'j');
    });
}

#[test]
fn view_help() {
    both_sizes("help", HTTP, |app| ch(app, '?'));
}

#[test]
fn view_filter_editing() {
    both_sizes("filter_editing", HTTP, |app| {
        ch(app, '/');
        typed(app, "refused");
    });
}

#[test]
fn view_filter_applied() {
    both_sizes("filter_applied", HTTP, |app| {
        ch(app, '/');
        typed(app, "refused");
        key(app, KeyCode::Enter);
    });
}

#[test]
fn view_half_open_and_retransmissions() {
    both_sizes("half_open", SYN_UNANSWERED, |app| {
        ch(app, 'j');
        key(app, KeyCode::Enter);
    });
}

#[test]
fn view_reset_ladder() {
    both_sizes("reset_ladder", RST, |app| {
        key(app, KeyCode::Enter);
        ch(app, 'l');
    });
}

#[test]
fn view_capture_error_is_kept_on_screen() {
    both_sizes("capture_error", CUT, |_| {});
}

#[test]
fn view_sorted_by_irtt_with_raw_seq_and_clock_time() {
    both_sizes("sorted_raw_clock", HTTP, |app| {
        ch(app, 's');
        ch(app, 's');
        ch(app, 's');
        key(app, KeyCode::Enter);
        ch(app, 'r');
        ch(app, 't');
        ch(app, 't');
    });
}

#[test]
fn too_small() {
    let mut app = load(HTTP);
    let s = screen(&mut app, 79, 23);
    assert!(
        s.contains("terminal too small (need 80x24, have 79x23)"),
        "{s}"
    );
    assert!(app.areas.too_small);
    // Keys still work, and growing the terminal brings the view back.
    ch(&mut app, 'j');
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("Flows"), "{s}");
}

// ---------------------------------------------------------------- colours

fn find(t: &Terminal<TestBackend>, text: &str) -> Option<(u16, u16)> {
    let buf = t.backend().buffer();
    for y in 0..buf.area.height {
        let line: String = (0..buf.area.width)
            .map(|x| buf[(x, y)].symbol().to_string())
            .collect();
        if let Some(i) = line.find(text) {
            let col = line[..i].chars().count() as u16;
            return Some((col, y));
        }
    }
    None
}

#[test]
fn state_colours() {
    let mut app = load(HTTP);
    let mut t = terminal(200, 60);
    render(&mut t, &mut app).unwrap();
    let (x, y) = find(&t, "refused").unwrap();
    assert_eq!(t.backend().buffer()[(x, y)].fg, Color::Red);
    let (x, y) = find(&t, "closed").unwrap();
    assert_eq!(t.backend().buffer()[(x, y)].fg, Color::Gray);

    let mut app = load(SYN_UNANSWERED);
    render(&mut t, &mut app).unwrap();
    let (x, y) = find(&t, "half-open").unwrap();
    assert_eq!(t.backend().buffer()[(x, y)].fg, Color::Yellow);

    let mut app = load(RST);
    render(&mut t, &mut app).unwrap();
    let (x, y) = find(&t, "reset").unwrap();
    assert_eq!(t.backend().buffer()[(x, y)].fg, Color::Magenta);
}

#[test]
fn bad_tcp_rows_are_red_on_black() {
    let mut app = load(SYN_UNANSWERED);
    let mut t = terminal(200, 60);
    render(&mut t, &mut app).unwrap();
    ch(&mut app, 'j');
    render(&mut t, &mut app).unwrap();
    let (x, y) = find(&t, "Retransmission").unwrap();
    let c = &t.backend().buffer()[(x, y)];
    assert_eq!((c.fg, c.bg), (Color::LightRed, Color::Black));
    // The first SYN is not bad: Wireshark's SYN/FIN grey.
    let (x, y) = find(&t, "1 SYN").unwrap();
    assert_eq!(t.backend().buffer()[(x, y)].bg, Color::Gray);
}

// ---------------------------------------------------------------- state machine

#[test]
fn loads_every_flow_and_counts_outcomes() {
    let app = load(HTTP);
    assert!(app.loaded());
    assert_eq!(app.store.flows.len(), 5);
    assert_eq!(app.flows.rows, vec![0, 1, 2, 3, 4]);
    assert_eq!(app.store.counts.completed, 4);
    assert_eq!(
        app.store.counts.states[store::state_index(crate::track::HsState::Refused)],
        1
    );
    assert_eq!(app.packets.stream, Some(0));
    assert_eq!(app.packets.rows.len(), 12);
    assert!(app.summary.median_irtt.is_some());
    assert_eq!(app.progress(), Some(1.0));
}

#[test]
fn drill_in_and_back_out() {
    let mut app = load(HTTP);
    assert_eq!(app.focus, Focus::Flows);
    ch(&mut app, 'j');
    assert_eq!(app.flows.list.sel, 1);
    assert_eq!(app.packets.stream, Some(1));
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.focus, Focus::Packets);
    ch(&mut app, 'G');
    assert_eq!(app.packets.list.sel, 11);
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.focus, Focus::Details);
    let tree = app.tree();
    assert!(tree.iter().any(|l| l.field == Some("tcp.seq")));
    assert!(tree.iter().any(|l| l.field == Some("hs.state")));
    // Fold TCP from its header line.
    let tcp = tree
        .iter()
        .position(|l| l.header && l.section == detail::Section::Tcp)
        .unwrap();
    app.detail.list.sel = tcp;
    key(&mut app, KeyCode::Enter);
    assert!(!app.tree().iter().any(|l| l.field == Some("tcp.seq")));
    key(&mut app, KeyCode::Right);
    assert!(app.tree().iter().any(|l| l.field == Some("tcp.seq")));
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.focus, Focus::Packets);
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.focus, Focus::Flows);
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.focus, Focus::Packets);
    key(&mut app, KeyCode::BackTab);
    assert_eq!(app.focus, Focus::Flows);
}

#[test]
fn navigation_keys_clamp() {
    let mut app = load(HTTP);
    screen(&mut app, 80, 24);
    key(&mut app, KeyCode::Up);
    assert_eq!(app.flows.list.sel, 0);
    key(&mut app, KeyCode::PageDown);
    assert_eq!(app.flows.list.sel, 4);
    assert!(
        !app.flows.follow,
        "paging to the end does not start following; G does"
    );
    ch(&mut app, 'g');
    assert_eq!(app.flows.list.sel, 0);
    assert!(!app.flows.follow);
    ch(&mut app, 'G');
    assert!(app.flows.follow);
    key(&mut app, KeyCode::PageUp);
    assert_eq!(app.flows.list.sel, 0);
    assert!(!app.flows.follow);
}

#[test]
fn toggles() {
    let mut app = load(HTTP);
    assert!(!app.raw_seq);
    ch(&mut app, 'r');
    assert!(app.raw_seq);
    assert_eq!(app.time, TimeFormat::Flow);
    for want in [
        TimeFormat::Capture,
        TimeFormat::Clock,
        TimeFormat::Delta,
        TimeFormat::Flow,
    ] {
        ch(&mut app, 't');
        assert_eq!(app.time, want);
    }
    ch(&mut app, 'l');
    assert!(app.ladder);
    ch(&mut app, 'l');
    assert!(!app.ladder);
    ch(&mut app, 'p');
    assert!(app.paused);
    ch(&mut app, ' ');
    assert!(!app.paused);
    ch(&mut app, '?');
    assert!(app.help);
    ch(&mut app, 'j');
    assert_eq!(
        app.flows.list.sel, 0,
        "keys other than close do nothing under the help"
    );
    key(&mut app, KeyCode::Esc);
    assert!(!app.help);
    ch(&mut app, 'q');
    assert!(app.quit);
}

#[test]
fn ctrl_c_quits() {
    let mut app = load(HTTP);
    app.on_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert!(app.quit);
    assert_eq!(app.quit_signal, Some(libc::SIGINT), "exit status 130");
    let mut app = load(HTTP);
    ch(&mut app, 'q');
    assert!(app.quit);
    assert_eq!(app.quit_signal, None, "exit status 0");
}

#[test]
fn sort_cycles_and_keeps_the_selection() {
    let mut app = load(HTTP);
    ch(&mut app, 'j');
    ch(&mut app, 'j');
    let selected = app.flows.selected();
    ch(&mut app, 's');
    assert_eq!(app.sort, app::SortKey::Flow);
    assert_eq!(app.flows.selected(), selected);
    // Sort by packets, largest first: the refused flow (2 packets) is last.
    while app.sort != app::SortKey::Packets {
        ch(&mut app, 's');
    }
    assert!(app.sort_desc);
    let last = *app.flows.rows.last().unwrap();
    assert_eq!(app.store.flow(last).unwrap().state_name(), "refused");
    ch(&mut app, 'S');
    assert_eq!(
        app.store.flow(app.flows.rows[0]).unwrap().state_name(),
        "refused"
    );
    assert_eq!(app.flows.selected(), selected);
}

#[test]
fn quick_filter_and_history() {
    let mut app = load(HTTP);
    ch(&mut app, '/');
    assert!(app.filter.editing);
    typed(&mut app, "refused");
    // Not applied until Enter.
    assert_eq!(app.flows.rows.len(), 5);
    key(&mut app, KeyCode::Enter);
    app.settle();
    assert!(!app.filter.editing);
    assert_eq!(app.flows.rows.len(), 1);
    assert_eq!(
        app.store.flow(app.flows.rows[0]).unwrap().state_name(),
        "refused"
    );
    assert_eq!(app.packets.stream, Some(app.flows.rows[0]));
    // A number is a stream or a port.
    ch(&mut app, '/');
    key(&mut app, KeyCode::Home);
    app.on_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    typed(&mut app, "18080 !2");
    key(&mut app, KeyCode::Enter);
    app.settle();
    assert_eq!(app.flows.rows, vec![0, 1, 4]);
    // Esc cancels an edit.
    ch(&mut app, '/');
    typed(&mut app, "xyz");
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.filter.applied, "18080 !2");
    // History: up goes back.
    ch(&mut app, '/');
    key(&mut app, KeyCode::Up);
    assert_eq!(app.filter.input, "18080 !2");
    key(&mut app, KeyCode::Up);
    assert_eq!(app.filter.input, "refused");
    key(&mut app, KeyCode::Down);
    assert_eq!(app.filter.input, "18080 !2");
    key(&mut app, KeyCode::Down);
    assert_eq!(app.filter.input, "");
    // Editing keys.
    typed(&mut app, "héllo");
    key(&mut app, KeyCode::Left);
    key(&mut app, KeyCode::Backspace);
    key(&mut app, KeyCode::Delete);
    assert_eq!(app.filter.input, "hél");
    // An empty filter shows everything again.
    app.on_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    key(&mut app, KeyCode::Enter);
    app.settle();
    assert_eq!(app.flows.rows.len(), 5);
}

/// A stand-in for the display-filter engine: `syn` matches SYN packets.
struct SynOnly;
impl filter::PacketFilter for SynOnly {
    fn matches(&self, p: &crate::fields::PacketView<'_>) -> bool {
        let f = crate::fields::by_name("tcp.flags.syn").unwrap();
        let mut v = Vec::new();
        f.values(p, &mut v);
        v.first() == Some(&crate::fields::Value::Bool(true))
    }
}

fn syn_compiler(s: &str) -> Result<filter::CompiledFilter, String> {
    match s.trim() {
        "syn" => Ok(std::sync::Arc::new(SynOnly)),
        other => Err(format!("unknown filter '{other}'")),
    }
}

#[test]
fn compiled_filter_hook() {
    let mut app = load(HTTP);
    app.filter.compiler = Some(syn_compiler);
    ch(&mut app, '/');
    typed(&mut app, "sy");
    app.filter.refresh_check();
    assert!(app.filter.check.is_err());
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("unknown filter 'sy'"), "{s}");
    ch(&mut app, 'n');
    app.filter.refresh_check();
    assert!(app.filter.check.is_ok());
    key(&mut app, KeyCode::Enter);
    app.settle();
    // Every flow has a SYN; each flow's list shows only its SYN (and SYN-ACK).
    assert_eq!(app.flows.rows.len(), 5);
    assert_eq!(app.packets.rows.len(), 2);
    let r = app.store.get(app.packets.rows[0]).unwrap();
    assert_eq!(
        r.flags & crate::decode::tcp::flags::SYN,
        crate::decode::tcp::flags::SYN
    );
    // A bad filter is not applied.
    ch(&mut app, '/');
    app.on_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    typed(&mut app, "nonsense");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.filter.applied, "syn");
    assert!(app
        .message
        .as_ref()
        .is_some_and(|m| m.1.contains("not applied")));
}

#[test]
fn mouse_selects_and_scrolls() {
    let mut app = load(HTTP);
    screen(&mut app, 80, 24);
    let body = app::table_body(app.areas.flows);
    let click = |app: &mut App, x: u16, y: u16, kind: MouseEventKind| {
        app.on_mouse(MouseEvent {
            kind,
            column: x,
            row: y,
            modifiers: KeyModifiers::NONE,
        });
    };
    click(
        &mut app,
        body.x + 5,
        body.y + 3,
        MouseEventKind::Down(MouseButton::Left),
    );
    assert_eq!(app.flows.list.sel, 3);
    assert_eq!(app.packets.stream, Some(3));
    click(&mut app, body.x + 5, body.y, MouseEventKind::ScrollDown);
    assert_eq!(app.flows.list.sel, 4);
    let pbody = app::table_body(app.areas.packets);
    click(
        &mut app,
        pbody.x + 5,
        pbody.y + 1,
        MouseEventKind::Down(MouseButton::Left),
    );
    assert_eq!(app.focus, Focus::Packets);
    assert_eq!(app.packets.list.sel, 1);
    click(&mut app, 3, 0, MouseEventKind::Down(MouseButton::Left));
    assert!(app.filter.editing);
}

#[test]
fn pause_queues_a_live_capture_and_resumes() {
    let mut app = live_app();
    feed(&mut app, HTTP);
    app.settle();
    assert_eq!(app.store.counts.frames, 51);
    ch(&mut app, 'p');
    let (tx, rx) = crossbeam_channel::unbounded();
    // Replay the same file as if it arrived live: it queues while paused.
    let spec = SourceSpec::File(HTTP.into());
    let running = capture::spawn(capture::open(&spec).unwrap(), ReadOptions::default());
    while let Ok(ev) = running.events.recv() {
        let done = matches!(ev, Event::Done(_));
        if let Event::Batch(b) = ev {
            tx.send(Event::Batch(b)).unwrap();
        }
        if done {
            break;
        }
    }
    let frames = app.store.counts.frames;
    app.pump(
        &rx,
        std::time::Instant::now() + std::time::Duration::from_secs(5),
    );
    assert_eq!(
        app.store.counts.frames, frames,
        "nothing is applied while paused"
    );
    assert_eq!(app.pending_packets, 51);
    let s = screen(&mut app, 120, 30);
    assert!(s.contains("PAUSED +51 queued"), "{s}");
    ch(&mut app, 'p');
    app.pump(
        &rx,
        std::time::Instant::now() + std::time::Duration::from_secs(5),
    );
    app.settle();
    assert_eq!(app.store.counts.frames, frames + 51);
    assert_eq!(app.pending_packets, 0);
}

#[test]
fn follows_new_flows_live_unless_scrolled() {
    let mut app = live_app();
    assert!(app.flows.follow);
    let spec = SourceSpec::File(HTTP.into());
    let running = capture::spawn(capture::open(&spec).unwrap(), ReadOptions::default());
    let mut batches = Vec::new();
    while let Ok(ev) = running.events.recv() {
        match ev {
            Event::Batch(b) => batches.push(b),
            Event::Done(_) => break,
            _ => {}
        }
    }
    for b in &batches {
        app.ingest(b);
    }
    app.settle();
    assert_eq!(app.flows.list.sel, 4, "follows the newest flow");
    ch(&mut app, 'k');
    assert!(!app.flows.follow);
    // New flows arrive (other ports): the selection stays.
    feed(&mut app, SYN_UNANSWERED);
    app.settle();
    assert_eq!(app.flows.rows.len(), 7);
    assert_eq!(app.flows.list.sel, 3, "stays where the user scrolled");
}

#[test]
fn save_writes_the_shown_packets() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = load(HTTP);
    app.save_dir = dir.path().to_path_buf();
    // The refused flow only.
    ch(&mut app, '/');
    typed(&mut app, "refused");
    key(&mut app, KeyCode::Enter);
    ch(&mut app, 'w');
    app.settle();
    let msg = app.message.clone().unwrap().1;
    assert!(msg.starts_with("saved 2 packets to "), "{msg}");
    let path = msg.trim_start_matches("saved 2 packets to ");
    assert!(path.starts_with(dir.path().to_str().unwrap()));
    let s = screen(&mut app, 200, 60);
    assert!(s.contains("saved 2 packets to"), "{s}");
    // Read it back.
    let mut cap = pcap::Capture::from_file(path).unwrap();
    let mut n = 0;
    while cap.next_packet().is_ok() {
        n += 1;
    }
    assert_eq!(n, 2);
    // From the packet list, only that flow's packets.
    let mut app = load(HTTP);
    app.save_dir = dir.path().to_path_buf();
    key(&mut app, KeyCode::Enter);
    ch(&mut app, 'w');
    app.settle();
    assert!(app.message.unwrap().1.starts_with("saved 12 packets to "));
}

#[test]
fn record_budget_is_said_and_bytes_come_from_the_file() {
    let mut app = load_with(
        HTTP,
        Limits {
            max_packets: 20,
            spool_bytes: 1 << 20,
        },
    );
    assert_eq!(app.store.len(), 20);
    assert_eq!(app.store.flows.len(), 5);
    let s = screen(&mut app, 200, 60);
    assert!(s.contains("oldest packets out of memory"), "{s}");
    // The first flow's packets are gone, its row stays.
    key(&mut app, KeyCode::Enter);
    ch(&mut app, 'G');
    key(&mut app, KeyCode::Enter);
    app.flows.list.sel = 3;
    app.sync_packets(true);
    let g = app.packets.rows[0];
    // Bytes are read back from the capture file by offset.
    let want = crate::engine::tests::frames(HTTP)
        .into_iter()
        .find(|(f, _)| f.number == app.store.get(g).unwrap().number())
        .unwrap()
        .1;
    assert_eq!(app.store.bytes(g), Some(want));
    assert!(app.tree().iter().any(|l| l.field == Some("tcp.seq")));
}

/// Frame numbers `hs-tui -Y FILTER` prints for a capture (batch mode's answer).
pub(super) fn batch_matches(path: &str, filter: &str) -> Vec<u64> {
    let f = crate::filter::Filter::compile(filter).unwrap();
    let mut e = crate::engine::Engine::new(Budget::default());
    e.dissect(crate::engine::AppLayer::App.when(f.uses_app()));
    let mut out = Vec::new();
    for (fr, b) in crate::engine::tests::frames(path) {
        if f.matches(&e.process(&fr, &b)) {
            out.push(fr.number);
        }
    }
    out
}

/// Frame numbers of the packets the TUI marks as matching.
pub(super) fn tui_matches(app: &App) -> Vec<u64> {
    (app.store.base()..app.store.end())
        .filter_map(|g| app.store.get(g))
        .filter(|r| r.matched())
        .map(|r| r.number())
        .collect()
}

/// A compiled-filter app over `path`, fed batch by batch; `apply_at` is
/// the batch before which the filter is applied (0: before the load).
pub(super) fn load_filtered(path: &str, filter: &str, apply_at: usize, limits: Limits) -> App {
    let spec = SourceSpec::File(path.into());
    let opened = capture::open(&spec).unwrap();
    let mut app = App::new(
        SourceInfo {
            name: path.into(),
            live: false,
            file_size: None,
            path: Some(path.into()),
        },
        opened.link,
        Budget::default(),
        limits,
        super::filter::default_compiler(),
    );
    let read = ReadOptions {
        offsets: true,
        ..Default::default()
    };
    let running = capture::spawn(opened, read);
    let mut batches = 0;
    if apply_at == 0 {
        app.apply_filter(filter);
    }
    while let Ok(ev) = running.events.recv() {
        batches += matches!(ev, Event::Batch(_)) as usize;
        let done = matches!(ev, Event::Done(_));
        app.on_event(ev);
        if batches == apply_at {
            app.apply_filter(filter);
        }
        if done {
            break;
        }
    }
    if apply_at > batches {
        app.apply_filter(filter);
    }
    app.settle();
    app
}

#[test]
fn filter_during_load_after_load_and_batch_agree() {
    // One file bigger than a batch (1,024 frames), tls/http among the filters.
    let path = "tests/data/lo-tshark-http.pcapng";
    let big = "sample-captures/many-short.pcap";
    for (p, filter) in [
        (big, "tcp.flags.syn == 1"),
        (big, "hs.state == \"established\" and tcp.len > 0"),
        (big, "http"),
        (path, "http or tls"),
        (HTTP, "tcp.analysis.flags or tcp.flags.reset == 1"),
    ] {
        let want = batch_matches(p, filter);
        assert!(!want.is_empty(), "{p} {filter}");
        for apply_at in [0, 1, 2, 1000] {
            let app = load_filtered(p, filter, apply_at, Limits::default());
            assert_eq!(
                tui_matches(&app),
                want,
                "{p} {filter} applied after batch {apply_at}"
            );
        }
    }
}

#[test]
fn filter_after_load_covers_packets_out_of_memory() {
    // Only 10 records in memory; the filter still reads the whole file, so
    // the flows whose packets left memory are still found, and `w` saves all.
    let dir = tempfile::tempdir().unwrap();
    let filter = "tcp.flags.reset == 1";
    let want = batch_matches(HTTP, filter);
    let limits = Limits {
        max_packets: 10,
        spool_bytes: 1 << 20,
    };
    let mut app = load_filtered(HTTP, filter, 1000, limits);
    app.save_dir = dir.path().to_path_buf();
    ch(&mut app, 'w');
    app.settle();
    let msg = app.message.clone().unwrap().1;
    let prefix = format!("saved {} packets to ", want.len());
    assert!(msg.starts_with(&prefix), "{msg}");
    let saved = crate::engine::tests::frames(msg.trim_start_matches(&prefix));
    assert_eq!(saved.len(), want.len());
}

#[test]
fn save_covers_the_whole_file_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = load_with(
        HTTP,
        Limits {
            max_packets: 5,
            spool_bytes: 1 << 20,
        },
    );
    app.save_dir = dir.path().to_path_buf();
    ch(&mut app, 'w');
    app.settle();
    let all = crate::engine::tests::frames(HTTP);
    let msg = app.message.clone().unwrap().1;
    let prefix = format!("saved {} packets to ", all.len());
    assert!(msg.starts_with(&prefix), "{msg}");
    let path = msg.trim_start_matches(&prefix).to_string();
    let saved = crate::engine::tests::frames(&path);
    assert_eq!(
        saved.iter().map(|(_, b)| b.clone()).collect::<Vec<_>>(),
        all.iter().map(|(_, b)| b.clone()).collect::<Vec<_>>()
    );
}

#[test]
fn alarms_show_in_the_status_bar() {
    let mut app = load("sample-captures/syn-flood.pcap");
    let s = screen(&mut app, 200, 60);
    assert!(
        s.contains("⚠ SYN flood on 127.0.0.1:18093 (185 incomplete handshakes)"),
        "{s}"
    );
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("⚠ 1 alarm") || s.contains("⚠ SYN flood"), "{s}");
    let mut app = load("sample-captures/port-scan.pcap");
    assert!(screen(&mut app, 200, 60).contains("⚠ port scan of 127.0.0.1 by 127.0.0.1 (101 ports)"));
    let mut app = load(HTTP);
    assert!(!screen(&mut app, 200, 60).contains('⚠'));
}

#[test]
fn presets_picker_applies_or_asks_for_a_value() {
    let mut app = load(HTTP);
    ch(&mut app, 'F');
    assert!(app.picker.is_some());
    let s = screen(&mut app, 120, 40);
    assert!(
        s.contains("filter presets") && s.contains("handshakes-only"),
        "{s}"
    );
    // The third preset is `resets`: applied as @resets.
    ch(&mut app, 'j');
    ch(&mut app, 'j');
    key(&mut app, KeyCode::Enter);
    assert!(app.picker.is_none());
    assert_eq!(app.filter.applied, "@resets");
    // host-only-tcp needs HOST: the bar opens with the placeholder to fill.
    ch(&mut app, 'F');
    let last = app
        .picker
        .as_ref()
        .unwrap()
        .items
        .iter()
        .position(|p| p.name == "host-only-tcp")
        .unwrap();
    for _ in 0..last {
        ch(&mut app, 'j');
    }
    key(&mut app, KeyCode::Enter);
    assert!(app.filter.editing);
    assert_eq!(app.filter.input, "@host-only-tcp:HOST=");
    // Esc closes the picker without applying anything.
    key(&mut app, KeyCode::Esc);
    ch(&mut app, 'F');
    key(&mut app, KeyCode::Esc);
    assert!(app.picker.is_none());
}

#[test]
fn servers_view_shows_outcomes_and_an_rtt_histogram() {
    let mut app = load("sample-captures/half-open.pcap");
    ch(&mut app, 'i');
    let v = app.servers.as_ref().expect("servers view");
    assert_eq!(
        (
            v.rows[0].tally.attempts,
            v.rows[0].tally.completed,
            v.rows[0].tally.half_open
        ),
        (2, 1, 1)
    );
    for (w, h) in [(200, 60), (80, 24)] {
        let s = screen(&mut app, w, h);
        assert!(
            s.contains("127.0.0.1:18092") && s.contains("Initial RTT of 127.0.0.1:18092"),
            "{s}"
        );
        assert!(s.contains("< 100µs") && s.contains('█'), "{s}");
    }
    key(&mut app, KeyCode::Esc);
    assert!(app.servers.is_none());
}

#[test]
fn client_and_server_are_the_same_in_the_tui_and_in_z_hs() {
    for path in [
        HTTP,
        RST,
        SYN_UNANSWERED,
        "sample-captures/ipv6-http.pcap",
        "sample-captures/syn-flood.pcap",
        // RST-only streams: no handshake says who the client is.
        "tests/conformance/stopddos-syn-ecn-cwr-flood.pcapng",
        "tests/conformance/zeek-tcp-missing-syn.pcap",
    ] {
        let app = load(path);
        let mut stats = crate::output::report::Stats::default();
        stats.parse("hs").unwrap();
        let mut reports = crate::output::report::Reports::new(stats);
        for e in app.store.all_flows() {
            reports.add(&e.sum);
        }
        let mut out = Vec::new();
        reports.write(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let mut rows = 0;
        // The handshakes table (the set-up legs' table after it has no endpoints).
        for line in text
            .lines()
            .take_while(|l| !l.starts_with("Connection set-up"))
        {
            let w: Vec<&str> = line.split_whitespace().collect();
            let Some(stream) = w.first().and_then(|s| s.parse::<usize>().ok()) else {
                continue;
            };
            let label = crate::tui::store::flow_label(&app.store.flow(stream as u32).unwrap().sum);
            assert_eq!(
                format!("{} → {}", w[1], w[2]),
                label,
                "{path} stream {stream}"
            );
            rows += 1;
        }
        assert_eq!(rows, app.store.flows.len(), "{path}");
    }
}

#[test]
fn a_good_filter_clears_the_last_filters_error_and_info_fades() {
    let mut app = load_filtered(HTTP, "tcp", 1000, Limits::default());
    app.apply_filter("tcp.nonsense == 1");
    assert!(app
        .message
        .as_ref()
        .unwrap()
        .1
        .starts_with("filter not applied"));
    // The error stays while it is true...
    app.work(std::time::Instant::now());
    assert!(app.message.is_some());
    // ...and goes when a good filter is in force.
    app.apply_filter("tcp.port == 80");
    assert!(app.message.is_none(), "{:?}", app.message);
    // An informational message fades after a while; an error does not.
    app.message = Some((super::app::Severity::Info, "saved 1 packets to x".into()));
    app.work(std::time::Instant::now());
    app.message_seen = app
        .message_seen
        .take()
        .map(|(t, at)| (t, at - super::app::MESSAGE_FOR));
    app.work(std::time::Instant::now());
    assert!(app.message.is_none());
    app.message = Some((super::app::Severity::Error, "cannot save: x".into()));
    app.work(std::time::Instant::now());
    app.message_seen = app
        .message_seen
        .take()
        .map(|(t, at)| (t, at - super::app::MESSAGE_FOR));
    app.work(std::time::Instant::now());
    assert!(app.message.is_some());
}

#[test]
fn alarms_overlay_lists_every_alarm_in_full() {
    let mut app = load("sample-captures/syn-flood.pcap");
    ch(&mut app, 'a');
    assert!(app.alarms);
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("alarms · 1 raised"), "{s}");
    assert!(s.contains("185 incomplete handshakes within"), "{s}");
    assert!(s.contains("top sources: 127.0.0.1 (185)"), "{s}");
    ch(&mut app, 'a');
    assert!(!app.alarms);
    // Listed in the help.
    ch(&mut app, '?');
    assert!(screen(&mut app, 200, 60).contains("alarms, in full"));
}

#[test]
fn the_bytes_pane_takes_the_focus_and_scrolls() {
    let mut app = load(HTTP);
    key(&mut app, KeyCode::Enter);
    ch(&mut app, 'j');
    ch(&mut app, 'j');
    ch(&mut app, 'j');
    screen(&mut app, 120, 40);
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.focus, Focus::Details);
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.focus, Focus::Bytes);
    let before = screen(&mut app, 120, 40);
    assert!(before.contains("0000  00 00"), "{before}");
    ch(&mut app, 'j');
    ch(&mut app, 'j');
    let after = screen(&mut app, 120, 40);
    assert!(
        !after.contains("0000  00 00") && after.contains("0020  "),
        "{after}"
    );
    // End goes to the last rows; Esc back to the details.
    ch(&mut app, 'G');
    let end = screen(&mut app, 120, 40);
    assert!(end.contains("0090  "), "{end}");
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.focus, Focus::Details);
}

#[test]
fn narrow_flows_column_keeps_the_server() {
    let mut app = load("sample-captures/ipv6-http.pcap");
    for s in 0..app.store.flows.len() {
        // A long client address, as real IPv6 ones are.
        let mut sum = app.store.flow(s as u32).unwrap().sum.into_owned();
        sum.a.0 = "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1".parse().unwrap();
        app.store.flows[s].keep(&sum);
    }
    app.store.label_width = 80;
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("→ [::1]:18081"), "{s}");
}

#[test]
fn refused_flows_have_no_irtt_but_a_syn_to_rst_time() {
    let app = load(HTTP);
    let refused = app
        .store
        .all_flows()
        .find(|e| e.sum.hs.state == crate::track::HsState::Refused)
        .unwrap();
    assert_eq!(refused.sum.handshake_rtt(), None);
    assert_eq!(refused.sum.hs.syn_to_rst(), Some(34_000));
    let done = app.store.flow(0).unwrap().sum;
    assert_eq!(done.handshake_rtt(), done.irtt_ns);
    assert_eq!(done.hs.syn_to_rst(), None);
}

#[test]
fn a_long_paste_is_checked_once_and_applies() {
    let mut app = load_filtered(HTTP, "tcp", 1000, Limits::default());
    // 4,000 terms, 16 kB and more, pasted in one piece: one compile, no freeze.
    let long = vec!["tcp.port == 18080"; 4000].join(" or ");
    assert!(long.len() > 16_000);
    app.apply_filter("");
    app.on_paste(&long);
    assert!(app.filter.editing);
    assert!(app.filter.input == long, "the paste went in whole");
    let s = screen(&mut app, 80, 24);
    assert!(app.filter.check.is_ok(), "{:?}", app.filter.check);
    assert!(s.contains("Filter ▸"), "{s}");
    key(&mut app, KeyCode::Enter);
    app.settle();
    assert_eq!(
        app.flows.rows.len(),
        4,
        "the refused flow (port 1) is left out"
    );
    // Typed keys too are checked once per frame, not once per key.
    ch(&mut app, '/');
    typed(&mut app, " and nonsense.field == 1");
    assert!(app.filter.check.is_ok(), "not checked before the frame");
    let s = screen(&mut app, 120, 30);
    assert!(app.filter.check.is_err());
    assert!(s.contains("nonsense.field"), "{s}");
}

#[test]
fn view_expert_overlay() {
    both_sizes("expert", "sample-captures/reset.pcap", |app| ch(app, 'e'));
}

#[test]
fn expert_overlay_lines_lead_to_their_packets() {
    let path = "sample-captures/reset.pcap";
    let mut app = load_filtered(path, "", 0, Limits::default());
    ch(&mut app, 'e');
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("expert info · 2 warn, 4 chat"), "{s}");
    assert!(
        s.contains("Warns (2)") && s.contains("Connection reset (RST)"),
        "{s}"
    );
    // Down to the SYN+ACK line (Warns: 1 line, Chats: SYN, SYN+ACK), then back up to RST.
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    assert_eq!(app.expert, Some(2), "clamped at the last line");
    key(&mut app, KeyCode::Up);
    key(&mut app, KeyCode::Up);
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.expert, None);
    app.settle();
    assert_eq!(app.filter.input, "tcp.connection.rst");
    let want = batch_matches(path, "tcp.connection.rst");
    assert_eq!(want.len(), 2);
    assert_eq!(tui_matches(&app), want);
    // Esc and `e` close it; it is listed in the help.
    ch(&mut app, 'e');
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.expert, None);
    ch(&mut app, '?');
    assert!(screen(&mut app, 200, 60).contains("expert information"));
}

fn ctrl_key(app: &mut App, c: char) {
    app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL));
}

fn selected_number(app: &App) -> Option<u64> {
    app.packets
        .selected()
        .and_then(|g| app.store.get(g))
        .map(|r| r.number())
}

#[test]
fn view_go_to_and_find_prompts() {
    both_sizes("goto_prompt", "sample-captures/many-short.pcap", |app| {
        ctrl_key(app, 'g');
        typed(app, "12x3");
    });
    both_sizes("find_prompt", "sample-captures/many-short.pcap", |app| {
        ctrl_key(app, 'f');
        key(app, KeyCode::Tab);
        typed(app, "GET /");
    });
}

#[test]
fn go_to_selects_the_packet_in_its_flow() {
    let mut app = load("sample-captures/many-short.pcap");
    screen(&mut app, 120, 40);
    ctrl_key(&mut app, 'g');
    assert!(screen(&mut app, 120, 40).contains("Go to packet ▸"));
    typed(&mut app, "4x01"); // letters are ignored
    key(&mut app, KeyCode::Enter);
    assert!(app.prompt.is_none());
    assert_eq!(selected_number(&app), Some(401));
    assert_eq!(app.focus, Focus::Packets);
    let stream = app
        .store
        .get(app.packets.selected().unwrap())
        .unwrap()
        .meta
        .stream;
    assert_eq!(app.flows.selected(), Some(stream));
    // A number past the end says so and moves nothing.
    ctrl_key(&mut app, 'g');
    typed(&mut app, "999999");
    key(&mut app, KeyCode::Enter);
    assert_eq!(selected_number(&app), Some(401));
    let (_, m) = app.message.clone().unwrap();
    assert!(m.contains("no packet 999999"), "{m}");
    // Esc cancels.
    ctrl_key(&mut app, 'g');
    key(&mut app, KeyCode::Esc);
    assert!(app.prompt.is_none());
}

/// Frames whose bytes contain `needle`, ASCII case ignored.
fn frames_containing(path: &str, needle: &[u8]) -> Vec<u64> {
    crate::engine::tests::frames(path)
        .into_iter()
        .filter(|(_, b)| {
            b.windows(needle.len())
                .any(|w| w.eq_ignore_ascii_case(needle))
        })
        .map(|(f, _)| f.number)
        .collect()
}

#[test]
fn find_by_filter_string_and_hex_moves_without_hiding() {
    let path = "sample-captures/many-short.pcap";
    let mut app = load_filtered(path, "", 0, Limits::default());
    let flows_before = app.flows.rows.len();
    // By display filter: the first match, then n and N.
    let want = batch_matches(path, "tcp.flags.fin == 1");
    assert!(want.len() > 3);
    ctrl_key(&mut app, 'f');
    typed(&mut app, "tcp.flags.fin == 1");
    key(&mut app, KeyCode::Enter);
    app.settle();
    assert_eq!(selected_number(&app), Some(want[0]));
    assert_eq!(app.flows.rows.len(), flows_before, "find hides nothing");
    ch(&mut app, 'n');
    assert_eq!(selected_number(&app), Some(want[1]));
    ch(&mut app, 'n');
    assert_eq!(selected_number(&app), Some(want[2]));
    ch(&mut app, 'N');
    assert_eq!(selected_number(&app), Some(want[1]));
    ch(&mut app, 'N');
    ch(&mut app, 'N');
    assert_eq!(selected_number(&app), Some(*want.last().unwrap()), "wraps");
    assert!(app.message.as_ref().unwrap().1.contains("wrapped"));
    // By string (case ignored), then by hex: "GET" is 47 45 54.
    let want = frames_containing(path, b"get /");
    assert!(!want.is_empty());
    ctrl_key(&mut app, 'f');
    key(&mut app, KeyCode::Tab);
    ctrl_key(&mut app, 'u');
    typed(&mut app, "get /");
    key(&mut app, KeyCode::Enter);
    app.settle();
    let after = want
        .iter()
        .copied()
        .find(|&n| n > *batch_matches(path, "tcp.flags.fin == 1").last().unwrap());
    assert_eq!(selected_number(&app), Some(after.unwrap_or(want[0])));
    ctrl_key(&mut app, 'f');
    key(&mut app, KeyCode::Tab);
    ctrl_key(&mut app, 'u');
    typed(&mut app, "47 45 54 20 2f");
    key(&mut app, KeyCode::Enter);
    app.settle();
    let n = selected_number(&app).unwrap();
    assert!(frames_containing(path, b"GET /").contains(&n));
    // Bad hex and a filter that does not compile are said, not run.
    ctrl_key(&mut app, 'f');
    ctrl_key(&mut app, 'u');
    typed(&mut app, "4");
    key(&mut app, KeyCode::Enter);
    assert!(app.message.as_ref().unwrap().1.contains("not hex bytes"));
    // Listed in the help.
    ch(&mut app, '?');
    let s = screen(&mut app, 200, 60);
    assert!(
        s.contains("go to packet number") && s.contains("find the next match"),
        "{s}"
    );
}

#[test]
fn enter_on_a_server_filters_the_flows_to_it() {
    let path = "sample-captures/many-short.pcap";
    let mut app = load_filtered(path, "", 0, Limits::default());
    let all = app.flows.rows.len();
    ch(&mut app, 'i');
    let server = app.servers.as_ref().unwrap().rows[0].server;
    key(&mut app, KeyCode::Enter);
    app.settle();
    assert!(app.servers.is_none());
    assert_eq!(app.filter.applied, format!("hs.server == \"{server}\""));
    let shown: Vec<u32> = app.flows.rows.clone();
    assert!(!shown.is_empty() && shown.len() <= all);
    for s in shown {
        assert_eq!(app.store.flow(s).unwrap().sum.server(), Some(server));
    }
    let s = screen(&mut app, 120, 40);
    assert!(
        s.contains(&format!("Filter: hs.server == \"{server}\"")),
        "{s}"
    );
}

#[test]
fn view_time_reference() {
    both_sizes("time_ref", "sample-captures/http-get.pcap", |app| {
        key(app, KeyCode::Enter);
        ch(app, 'j');
        ch(app, 'j');
        ch(app, 'j');
        ctrl_key(app, 't');
    });
}

#[test]
fn time_reference_is_time_zero_and_toggles() {
    let mut app = load("sample-captures/http-get.pcap");
    key(&mut app, KeyCode::Enter);
    for _ in 0..3 {
        ch(&mut app, 'j');
    }
    ctrl_key(&mut app, 't');
    let r4 = app.store.get(app.packets.selected().unwrap()).unwrap();
    let (n4, ts4) = (r4.number(), r4.ts_ns);
    assert_eq!(app.time_ref, Some((n4, ts4)));
    let s = screen(&mut app, 120, 40);
    assert!(s.contains("*REF*") && s.contains("Since ref"), "{s}");
    // Packet 1 is before the reference: a negative time.
    let r1 = app.store.get(app.packets.rows[0]).unwrap();
    let t1 = crate::tui::ui::time_text(&app, app.packets.rows[0], r1);
    assert_eq!(t1, crate::tui::fmt::secs(r1.ts_ns - ts4));
    assert!(t1.starts_with('-'), "{t1}");
    ctrl_key(&mut app, 't');
    assert_eq!(app.time_ref, None);
    assert!(!screen(&mut app, 120, 40).contains("*REF*"));
}

#[test]
fn view_timeline() {
    both_sizes("timeline", "sample-captures/many-short.pcap", |app| {
        ch(app, 'T')
    });
}

#[test]
fn timeline_range_filters_the_flows_opened_in_it() {
    let path = "sample-captures/many-short.pcap";
    let mut app = load_filtered(path, "", 0, Limits::default());
    screen(&mut app, 120, 40);
    ch(&mut app, 'T');
    let v = app.timeline.as_ref().expect("timeline open");
    let total: u64 = v
        .data
        .buckets
        .iter()
        .map(|b| b.attempts + b.mid_stream)
        .sum();
    assert_eq!(total as usize, app.store.flows.len());
    // Finer buckets, then the first bucket to the third as a range.
    let w0 = v.data.width_ns;
    key(&mut app, KeyCode::Char('-'));
    let w1 = app.timeline.as_ref().unwrap().data.width_ns;
    assert!(w1 < w0, "{w1} < {w0}");
    key(&mut app, KeyCode::Char('+'));
    assert_eq!(app.timeline.as_ref().unwrap().data.width_ns, w0);
    ch(&mut app, 'g');
    ch(&mut app, ' ');
    key(&mut app, KeyCode::Right);
    key(&mut app, KeyCode::Right);
    let v = app.timeline.as_ref().unwrap();
    assert_eq!(v.range(), (0, 2));
    let (from, to) = (v.data.offset(0), v.data.offset(3));
    let start = app.store.counts.first_ts.unwrap();
    let want: Vec<u32> = app
        .store
        .all_flows()
        .filter(|e| (from..to).contains(&(e.sum.first_ts - start)))
        .map(|e| e.sum.stream)
        .collect();
    assert!(!want.is_empty() && want.len() < app.store.flows.len());
    let s = screen(&mut app, 120, 40);
    assert!(
        s.contains("timeline ·") && s.contains(&format!("opened {}", want.len())),
        "{s}"
    );
    key(&mut app, KeyCode::Enter);
    app.settle();
    assert!(app.timeline.is_none());
    assert!(
        app.filter
            .applied
            .starts_with("hs.start >= 0.000000 && hs.start < "),
        "{}",
        app.filter.applied
    );
    let mut shown = app.flows.rows.clone();
    shown.sort();
    assert_eq!(shown, want);
    ch(&mut app, 'T');
    key(&mut app, KeyCode::Esc);
    assert!(app.timeline.is_none());
}

#[test]
fn view_column_chooser() {
    both_sizes("columns", HTTP, |app| ch(app, 'C'));
}

#[test]
fn columns_are_chosen_ordered_and_remembered() {
    let mut app = load(HTTP);
    screen(&mut app, 200, 60);
    ch(&mut app, 'C');
    assert_eq!(app.column_picker.map(|p| p.packets), Some(false));
    // Hide the stream column, show the service column and move it first.
    key(&mut app, KeyCode::Char(' '));
    for _ in 0..9 {
        ch(&mut app, 'j');
    }
    key(&mut app, KeyCode::Char(' '));
    for _ in 0..9 {
        key(&mut app, KeyCode::Char('<'));
    }
    key(&mut app, KeyCode::Esc);
    assert!(app.column_picker.is_none());
    use crate::tui::app::SortKey;
    let shown: Vec<SortKey> = app.columns.shown_flows().collect();
    assert_eq!(shown.first(), Some(&SortKey::Service));
    assert!(!shown.contains(&SortKey::Stream));
    let s = screen(&mut app, 200, 60);
    assert!(s.contains("Service") && !s.contains("Stream▲"), "{s}");
    // Port 18080 has no /etc/services name: the number shows.
    assert!(s.contains("18080"), "{s}");
    // The packets table: hide the notes.
    key(&mut app, KeyCode::Enter);
    ch(&mut app, 'C');
    assert_eq!(app.column_picker.map(|p| p.packets), Some(true));
    for _ in 0..9 {
        ch(&mut app, 'j');
    }
    key(&mut app, KeyCode::Char(' '));
    key(&mut app, KeyCode::Esc);
    assert!(!screen(&mut app, 200, 60).contains("Notes"));
    // Remembered as JSON, and read back the same.
    let r = crate::tui::columns::Remembered {
        columns: app.columns.clone(),
        history: vec!["tls".into()],
    };
    let back = crate::tui::columns::Remembered::from_json(&r.to_json()).unwrap();
    assert_eq!(back.columns.shown_flows().collect::<Vec<_>>(), shown);
    assert_eq!(back.history, vec!["tls".to_string()]);
    // Sorting cycles through the columns on screen only.
    for _ in 0..20 {
        ch(&mut app, 's');
        assert!(app.columns.shown_flows().any(|c| c == app.sort));
    }
}
