//! The set-up legs in the TUI (TestBackend, insta): the ladder of a TLS
//! stream with its messages and legs, and the servers view's legs, SNIs and
//! connection reuse. A module of its own: `tests.rs` is long enough.

use super::tests::load;
use super::*;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;

const TLS12: &str = "tests/conformance/tls/captures/lo-tls12-resume-id.pcap";
const ALERT: &str = "tests/conformance/tls/captures/zeek-tls13draft16-ff52-aborted.pcap";

fn screen(app: &mut App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    render(&mut t, app).unwrap();
    t.backend().to_string()
}

fn key(app: &mut App, code: KeyCode) {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
}

#[test]
fn ladder_shows_tls_messages_and_legs() {
    let mut app = load(TLS12);
    screen(&mut app, 160, 60);
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Char('l'));
    app.settle();
    let s = screen(&mut app, 160, 60);
    for want in [
        "ClientHello · PSH,ACK",
        "ServerHello, Certificate",
        "ClientHello +1.54ms after ACK",
        "ServerHello +259µs after ClientHello",
        "✔ TLS done +926µs after ClientHello",
        "first response byte: TTFB 46µs",
        "TLS 926µs · TTFB 46µs · set-up total 2.61ms",
    ] {
        assert!(s.contains(want), "missing {want:?}:\n{s}");
    }
    insta::assert_snapshot!("legs_ladder_tls12_160x60", s);
}

#[test]
fn ladder_says_which_alert_ended_the_handshake() {
    let mut app = load(ALERT);
    screen(&mut app, 160, 40);
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Char('l'));
    app.settle();
    let s = screen(&mut app, 160, 40);
    assert!(s.contains("Alert protocol_version"), "{s}");
    assert!(
        s.contains("✘ TLS alert protocol_version(70) from server"),
        "{s}"
    );
}

#[test]
fn servers_view_shows_legs_sni_and_reuse() {
    for (w, h) in [(120u16, 40u16), (80, 24)] {
        let mut app = load(TLS12);
        screen(&mut app, w, h);
        key(&mut app, KeyCode::Char('i'));
        let v = app.servers.as_ref().expect("servers view");
        let row = &v.rows[0];
        assert_eq!(row.tally.snis, vec![("resume.example".to_string(), 2)]);
        assert_eq!(row.clients.len(), 1);
        assert_eq!(row.clients[0].1.conns, 2);
        assert!(
            row.tally.legs.iter().all(|l| l.len() == 2),
            "every leg of both"
        );
        let s = screen(&mut app, w, h);
        insta::assert_snapshot!(format!("legs_servers_{w}x{h}"), s);
        if w == 120 {
            for want in [
                "Set-up legs, p50 (p90)",
                "SNI resume.example",
                "ttfb",
                "Connection reuse: 1 clients",
                "set-up 2.5%",
            ] {
                assert!(s.contains(want), "missing {want:?}:\n{s}");
            }
        }
    }
}
