//! The follow view in the TUI (TestBackend, insta): ASCII and hex, scrolling,
//! no control bytes on screen, and `w` saving tshark's text. A module of its
//! own: `tests.rs` is long enough.

use super::app::Focus;
use super::tests::{both_sizes, ch, key, load, screen, terminal, HTTP};
use super::*;
use crossterm::event::KeyCode;

const CRAFTED: &str = "tests/follow/captures/follow-crafted.pcap";

/// Select the flow of `stream` in the flows pane.
fn select_stream(app: &mut App, stream: u32) {
    ch(app, 'g');
    for _ in 0..stream {
        ch(app, 'j');
    }
    assert_eq!(app.packets.stream, Some(stream));
}

#[test]
fn follow_view_snapshots() {
    both_sizes("follow_ascii", HTTP, |app| {
        select_stream(app, 1);
        ch(app, 'f');
    });
    both_sizes("follow_hex", CRAFTED, |app| {
        ch(app, 'f');
        app.settle();
        ch(app, 'x');
    });
}

#[test]
fn follow_view_scrolls_toggles_and_closes() {
    let mut app = load(CRAFTED);
    screen(&mut app, 80, 24);
    ch(&mut app, 'f');
    app.settle();
    let v = app.follow.as_ref().expect("follow view open");
    let data = v.data.as_ref().expect("stream read");
    assert_eq!(data.follower.chunks.len(), 7);
    ch(&mut app, 'x');
    let v = app.follow.as_ref().unwrap();
    assert!(v.hex);
    let rows = v.rows();
    let page = app.follow_page();
    assert!(rows > page, "{rows} rows, page {page}");
    ch(&mut app, 'j');
    assert_eq!(app.follow.as_ref().unwrap().offset, 1);
    key(&mut app, KeyCode::PageDown);
    ch(&mut app, 'G');
    assert_eq!(app.follow.as_ref().unwrap().offset, rows - page);
    ch(&mut app, 'g');
    assert_eq!(app.follow.as_ref().unwrap().offset, 0);
    ch(&mut app, 'x');
    assert!(!app.follow.as_ref().unwrap().hex);
    // Keys of the main view do nothing while it is open; Esc goes back.
    ch(&mut app, 'l');
    assert!(!app.ladder);
    key(&mut app, KeyCode::Esc);
    assert!(app.follow.is_none());
    // From the packets pane too.
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.focus, Focus::Packets);
    ch(&mut app, 'f');
    assert!(app.follow.is_some());
    ch(&mut app, 'f');
    assert!(app.follow.is_none());
}

#[test]
fn follow_view_puts_no_control_bytes_on_screen() {
    // Stream 0 carries every byte value, ESC sequences and BEL included.
    for hex in [false, true] {
        let mut app = load(CRAFTED);
        screen(&mut app, 200, 60);
        ch(&mut app, 'f');
        app.settle();
        if hex {
            ch(&mut app, 'x');
        }
        let mut t = terminal(200, 60);
        render(&mut t, &mut app).unwrap();
        let buf = t.backend().buffer();
        let mut text = String::new();
        for c in buf.content() {
            assert!(
                !c.symbol().chars().any(|ch| ch.is_control()),
                "control character {:?} on screen",
                c.symbol()
            );
            text.push_str(c.symbol());
        }
        if !hex {
            assert!(text.contains("\\x1b[2J\\x07"), "escapes shown as text");
        }
    }
}

#[test]
fn follow_view_saves_tshark_text() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = load(CRAFTED);
    app.save_dir = dir.path().to_path_buf();
    screen(&mut app, 80, 24);
    select_stream(&mut app, 6);
    ch(&mut app, 'f');
    app.settle();
    ch(&mut app, 'w');
    app.settle();
    let msg = app.message.clone().map(|m| m.1).unwrap_or_default();
    assert!(msg.starts_with("saved the stream to"), "{msg}");
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
    assert_eq!(files.len(), 1);
    let got = std::fs::read(files[0].path()).unwrap();
    let want =
        std::fs::read("tests/follow/expected/follow-follow-crafted__tcp_ascii_6.txt").unwrap();
    assert!(
        got == want,
        "the saved text is tshark's -z follow,tcp,ascii,6"
    );
}
