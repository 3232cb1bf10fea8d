//! What the views show (TestBackend): the details tree in Wireshark's words,
//! a malformed frame's reason, help at 80x24, the shifted-letter views, TLS
//! columns and flow-field filters. A module of its own: `tests.rs` is long enough.

use super::store::Limits;
use super::tests::{batch_matches, ch, key, load, load_filtered, screen, tui_matches, HTTP, RST};
use super::*;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// The tree's lines as drawn (labels, not field names).
fn tree_texts(app: &App) -> Vec<String> {
    app.tree()
        .iter()
        .map(|l| {
            if l.header {
                l.text.clone()
            } else {
                l.pretty.clone()
            }
        })
        .collect()
}

#[test]
fn details_speak_wiresharks_language_and_filter_on_a_value() {
    let mut app = load_filtered(HTTP, "", 0, Limits::default());
    screen(&mut app, 200, 60);
    key(&mut app, KeyCode::Enter); // packets of the first flow
    ch(&mut app, 'j'); // the SYN-ACK
    key(&mut app, KeyCode::Enter); // details
    app.detail.expanded[crate::tui::detail::Section::Flags.index()] = true;
    let lines = tree_texts(&app);
    for want in [
        "Source Port: 18080",
        "[Stream index: 0]",
        "[Next Sequence Number: 1]",
        ".... ...1 .... = Acknowledgment: Set",
        ".... .... ..1. = Syn: Set",
        ".... .... ...0 = Fin: Not set",
        "[Expert Info (Chat/Sequence): Connection establish acknowledge (SYN+ACK): server port 18080]",
    ] {
        assert!(lines.iter().any(|l| l == want), "{want} not in {lines:#?}");
    }
    // Field names on demand; the pane title names the selected field.
    let i = app
        .tree()
        .iter()
        .position(|l| l.field == Some("tcp.srcport"))
        .unwrap();
    for _ in 0..i {
        ch(&mut app, 'j');
    }
    let s = screen(&mut app, 200, 60);
    assert!(
        s.contains("Source Port: 18080") && s.contains("tcp.srcport · = filter"),
        "{s}"
    );
    ch(&mut app, 'v');
    assert!(screen(&mut app, 200, 60).contains("tcp.srcport: 18080"));
    ch(&mut app, 'v');
    // + prepares the filter in the bar, = applies it.
    ch(&mut app, '+');
    assert!(app.filter.editing);
    assert_eq!(app.filter.input, "tcp.srcport == 18080");
    key(&mut app, KeyCode::Esc);
    ch(&mut app, '=');
    app.settle();
    assert_eq!(app.filter.applied, "tcp.srcport == 18080");
    assert_eq!(
        tui_matches(&app),
        batch_matches(HTTP, "tcp.srcport == 18080")
    );
}

#[test]
fn a_malformed_frame_says_why_at_the_top() {
    let mut app = load("tests/conformance/zeek-tcp-truncated-header.pcap");
    screen(&mut app, 120, 40);
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    let lines = tree_texts(&app);
    assert!(
        lines
            .first()
            .is_some_and(|l| l == "[Malformed Packet: TCP header cut by the snaplen]"),
        "{lines:#?}"
    );
}

#[test]
fn help_scrolls_at_80x24_to_its_last_line() {
    let mut app = load(HTTP);
    ch(&mut app, '?');
    assert!(!screen(&mut app, 80, 24).contains("Mouse"));
    for _ in 0..3 {
        key(&mut app, KeyCode::PageDown);
    }
    assert!(screen(&mut app, 80, 24).contains("Mouse"));
    key(&mut app, KeyCode::Esc);
    assert_eq!((app.help, app.help_scroll), (false, 0));
}

#[test]
fn shifted_letters_open_their_views() {
    let mut app = load(HTTP);
    app.on_key(KeyEvent::new(KeyCode::Char('C'), KeyModifiers::SHIFT));
    assert!(app.column_picker.is_some());
    key(&mut app, KeyCode::Esc);
    app.on_key(KeyEvent::new(KeyCode::Char('T'), KeyModifiers::SHIFT));
    assert!(app.timeline.is_some());
}

#[test]
fn tls_flows_show_their_server_name_and_version() {
    let mut app = load("tests/conformance/tls/captures/zeek-tls-chrome-34-google.pcap");
    assert!(app.store.has_tls);
    let s = screen(&mut app, 200, 60);
    assert!(s.contains("SNI") && s.contains("TLS"), "{s}");
    assert!(s.contains("google.de"), "{s}");
    assert!(s.contains("1.2"), "{s}");
    // A capture without TLS keeps the columns out of the way.
    let mut plain = load(HTTP);
    assert!(!screen(&mut plain, 200, 60).contains("SNI"));
}

#[test]
fn flow_field_filters_select_flows_by_the_state_the_table_shows() {
    use crate::track::HsState;
    let compile = |s: &str| super::filter::default_compiler().unwrap()(s).unwrap();
    assert!(compile("hs.state == \"established\"").flow_level());
    assert!(
        compile("hs.conn_state in {\"SF\", \"S0\"} and not hs.history contains \"R\"").flow_level()
    );
    assert!(compile("tcp.stream == 3 or hs.packets > 10").flow_level());
    assert!(!compile("hs.state == \"established\" and tcp.len > 0").flow_level());
    assert!(!compile("tcp").flow_level());
    assert!(!compile("http").flow_level());
    assert!(!compile("tcp.port == 80").flow_level());
    let mut some_but_not_all = 0;
    for path in [
        HTTP,
        "sample-captures/http-get.pcap",
        "sample-captures/many-short.pcap",
        RST,
    ] {
        for state in [
            HsState::Established,
            HsState::Closed,
            HsState::Refused,
            HsState::Reset,
        ] {
            let filter = format!("hs.state == \"{}\"", state.name());
            for apply_at in [0, 1, 1000] {
                let mut app = load_filtered(path, &filter, apply_at, Limits::default());
                let total = app.store.flows.len();
                let mut want: Vec<u32> = (0..total as u32)
                    .filter(|&s| app.store.flow(s).unwrap().sum.hs.state == state)
                    .collect();
                let mut rows = app.flows.rows.clone();
                rows.sort_unstable();
                want.sort_unstable();
                assert_eq!(rows, want, "{path} {filter} applied after batch {apply_at}");
                // The packet list keeps batch -Y semantics.
                assert_eq!(
                    tui_matches(&app),
                    batch_matches(path, &filter),
                    "{path} {filter}"
                );
                if !want.is_empty() && want.len() < total {
                    some_but_not_all += 1;
                    let s = screen(&mut app, 160, 40);
                    assert!(s.contains(&format!("{} of {total}", want.len())), "{s}");
                }
            }
        }
    }
    assert!(some_but_not_all > 0);
}
