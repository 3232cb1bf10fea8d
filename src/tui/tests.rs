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
        },
        opened.link,
        Budget::default(),
        limits,
        None,
    );
    app.utc = true;
    let running = capture::spawn(opened, ReadOptions::default());
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

pub fn load(path: &str) -> App {
    load_with(path, Limits::default())
}

fn terminal(w: u16, h: u16) -> Terminal<TestBackend> {
    Terminal::new(TestBackend::new(w, h)).unwrap()
}

/// Render once and return the screen as text.
fn screen(app: &mut App, w: u16, h: u16) -> String {
    let mut t = terminal(w, h);
    render(&mut t, app).unwrap();
    t.backend().to_string()
}

fn key(app: &mut App, code: KeyCode) {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn ch(app: &mut App, c: char) {
    key(app, KeyCode::Char(c));
}

fn typed(app: &mut App, s: &str) {
    for c in s.chars() {
        ch(app, c);
    }
}

/// Snapshot a view at both sizes; `setup` runs on a fresh app after a first render at that size.
fn both_sizes(name: &str, path: &str, setup: impl Fn(&mut App)) {
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
    assert_eq!(app.flows.sel, 1);
    assert_eq!(app.packets.stream, Some(1));
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.focus, Focus::Packets);
    ch(&mut app, 'G');
    assert_eq!(app.packets.sel, 11);
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
    app.detail.sel = tcp;
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
    assert_eq!(app.flows.sel, 0);
    key(&mut app, KeyCode::PageDown);
    assert_eq!(app.flows.sel, 4);
    assert!(
        !app.flows.follow,
        "paging to the end does not start following; G does"
    );
    ch(&mut app, 'g');
    assert_eq!(app.flows.sel, 0);
    assert!(!app.flows.follow);
    ch(&mut app, 'G');
    assert!(app.flows.follow);
    key(&mut app, KeyCode::PageUp);
    assert_eq!(app.flows.sel, 0);
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
        app.flows.sel, 0,
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
        "syn" => Ok(Box::new(SynOnly)),
        other => Err(format!("unknown filter '{other}'")),
    }
}

#[test]
fn compiled_filter_hook() {
    let mut app = load(HTTP);
    app.filter.compiler = Some(syn_compiler);
    ch(&mut app, '/');
    typed(&mut app, "sy");
    assert!(app.filter.check.is_err());
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("unknown filter 'sy'"), "{s}");
    ch(&mut app, 'n');
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
    assert_eq!(app.flows.sel, 3);
    assert_eq!(app.packets.stream, Some(3));
    click(&mut app, body.x + 5, body.y, MouseEventKind::ScrollDown);
    assert_eq!(app.flows.sel, 4);
    let pbody = app::table_body(app.areas.packets);
    click(
        &mut app,
        pbody.x + 5,
        pbody.y + 1,
        MouseEventKind::Down(MouseButton::Left),
    );
    assert_eq!(app.focus, Focus::Packets);
    assert_eq!(app.packets.sel, 1);
    click(&mut app, 3, 0, MouseEventKind::Down(MouseButton::Left));
    assert!(app.filter.editing);
}

#[test]
fn pause_queues_a_live_capture_and_resumes() {
    let mut app = load(HTTP);
    app.source.live = true;
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
    let mut app = App::new(
        SourceInfo {
            name: "lo".into(),
            live: true,
            file_size: None,
        },
        crate::decode::LinkType::Ethernet,
        Budget::default(),
        Limits::default(),
        None,
    );
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
    assert_eq!(app.flows.sel, 4, "follows the newest flow");
    ch(&mut app, 'k');
    assert!(!app.flows.follow);
    // New flows arrive (other ports): the selection stays.
    let spec = SourceSpec::File(SYN_UNANSWERED.into());
    let running = capture::spawn(capture::open(&spec).unwrap(), ReadOptions::default());
    while let Ok(ev) = running.events.recv() {
        match ev {
            Event::Batch(b) => app.ingest(&b),
            Event::Done(_) => break,
            _ => {}
        }
    }
    app.settle();
    assert_eq!(app.flows.rows.len(), 7);
    assert_eq!(app.flows.sel, 3, "stays where the user scrolled");
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
fn budget_drops_bytes_then_packets_and_the_ui_copes() {
    let mut app = load_with(
        HTTP,
        Limits {
            max_packets: 20,
            max_bytes: 600,
        },
    );
    assert_eq!(app.store.len(), 20);
    assert_eq!(app.store.flows.len(), 5);
    // The first flow's packets are gone, its row stays.
    let s = screen(&mut app, 200, 60);
    assert!(s.contains("dropped from memory"), "{s}");
    key(&mut app, KeyCode::Enter);
    ch(&mut app, 'G');
    key(&mut app, KeyCode::Enter);
    // A packet without bytes still has a detail tree.
    app.flows.sel = 3;
    app.sync_packets(true);
    let g = app.packets.rows[0];
    assert!(app.store.get(g).unwrap().bytes.is_none());
    assert!(app.tree().iter().any(|l| l.field == Some("tcp.seq")));
    let s = screen(&mut app, 200, 60);
    assert!(s.contains("bytes dropped from memory"), "{s}");
}

#[test]
fn alarms_show_in_the_status_bar() {
    let mut app = load("sample-captures/syn-flood.pcap");
    let s = screen(&mut app, 200, 60);
    assert!(
        s.contains("⚠ SYN flood on 127.0.0.1:18093 (185 half-open)"),
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
        (v.rows[0].attempts, v.rows[0].completed, v.rows[0].half_open),
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
