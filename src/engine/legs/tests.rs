//! The legs and failure words on real captures, through the engine.

use super::*;
use crate::engine::Engine;
use crate::track::Budget;

/// Every stream's final summary and TLS summary, as the reports get them.
fn streams(path: &str) -> Vec<(FlowSummary, Option<TlsSummary>)> {
    let mut e = Engine::new(Budget::default());
    e.dissect(crate::engine::AppLayer::App);
    for (f, b) in crate::engine::tests::frames(path) {
        e.process(&f, &b);
    }
    let mut v: Vec<(FlowSummary, Option<TlsSummary>)> = e
        .take_retired_with_tls()
        .into_iter()
        .map(|(s, t)| (s, t.map(|t| *t)))
        .collect();
    v.extend(
        e.summaries()
            .map(|s| (s.clone(), e.tls_summary(s.stream).cloned())),
    );
    v.sort_by_key(|(s, _)| s.stream);
    v
}

const TLS: &str = "tests/conformance/tls/captures";

#[test]
fn tls12_resumption_legs_add_up() {
    let v = streams(&format!("{TLS}/lo-tls12-resume-id.pcap"));
    assert_eq!(v.len(), 2);
    for (f, t) in &v {
        let t = t.as_ref().expect("TLS");
        let l = Legs::of(f, Some(t));
        let (tcp, ch, sh, tls) = (l.tcp.unwrap(), l.ch.unwrap(), l.sh.unwrap(), l.tls.unwrap());
        assert!(tls >= sh, "the handshake ends after the ServerHello: {l:?}");
        // The legs are consecutive: SYN → ACK → ClientHello → ServerHello.
        assert_eq!(f.hs.syn_first_ts.unwrap() + tcp + ch + sh, t.sh_ts.unwrap());
        // Resumption: ServerHello, ChangeCipherSpec and Finished in one flight.
        assert!(t.times.server_fin_ts.is_some() && t.times.client_fin_ts.is_some());
        let total = l.total.unwrap();
        assert!(total >= tcp + ch + tls, "{l:?}");
        assert_eq!(failure(f, Some(t), true), None);
        assert!(l.setup(f, Some(t)).unwrap() >= tcp);
    }
}

#[test]
fn tls13_finished_is_the_clients_first_encrypted_record() {
    let v = streams(&format!("{TLS}/lo-tls13-split-3seg.pcap"));
    let (f, t) = &v[0];
    let t = t.as_ref().unwrap();
    assert_eq!(t.version, Some(0x0304));
    let x = &t.times;
    assert!(x.client_fin_frame.unwrap() > t.sh_frame.unwrap());
    assert!(x.client_data_frame.unwrap() >= x.client_fin_frame.unwrap());
    assert!(x.server_data_frame.unwrap() > x.client_data_frame.unwrap());
    let l = Legs::of(f, Some(t));
    assert_eq!(l.tls, Some(x.client_fin_ts.unwrap() - t.ch_ts.unwrap()));
}

#[test]
fn failures_in_plain_words() {
    let words = |path: &str| -> Vec<Option<String>> {
        streams(path)
            .iter()
            .map(|(f, t)| failure(f, t.as_ref(), true).map(String::from))
            .collect()
    };
    let alert = words(&format!("{TLS}/zeek-tls13draft16-ff52-aborted.pcap"));
    assert!(alert
        .iter()
        .all(|w| w.as_deref() == Some("TLS alert protocol_version(70) from server")));
    let hrr = words(&format!("{TLS}/zeek-tls-hrr.pcap"));
    assert_eq!(
        hrr[0].as_deref(),
        Some("server closed after its HelloRetryRequest")
    );
    let refused = words("tests/conformance/lo-refused.pcap");
    assert!(refused
        .iter()
        .any(|w| w.as_deref() == Some("refused (RST to SYN)")));
    let unanswered = words("tests/conformance/lo-syn-unanswered.pcap");
    assert!(unanswered
        .iter()
        .any(|w| w.as_deref() == Some("SYN never answered")));
    // A completed plain HTTP exchange has no failure and a time to first byte.
    for (f, t) in streams("sample-captures/http-get.pcap") {
        assert_eq!(failure(&f, t.as_ref(), true), None);
        assert!(Legs::of(&f, t.as_ref()).ttfb.is_some());
    }
}

#[test]
fn unanswered_words_wait_for_the_end_or_the_client_giving_up() {
    let (f, _) = streams("tests/conformance/lo-syn-unanswered.pcap")
        .into_iter()
        .find(|(f, _)| f.hs.state == HsState::SynSent)
        .expect("an unanswered SYN");
    assert_eq!(failure(&f, None, false), None, "not over yet on a packet");
    assert_eq!(
        failure(&f, None, true).as_deref(),
        Some("SYN never answered")
    );
}

#[test]
fn alert_names() {
    assert_eq!(alert_name(40), "handshake_failure");
    assert_eq!(alert_name(112), "unrecognized_name");
    assert_eq!(alert_name(255), "unknown");
}
