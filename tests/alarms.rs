//! Handshake alarms on loopback recordings: a SYN flood against 127.0.0.1 and
//! a port scan of 127.0.0.1 (see sample-captures/README.md).

mod common;

use common::{hs_tui, sample};

#[test]
fn syn_flood_is_raised_with_its_target_and_sources() {
    let out = hs_tui(&["-q", "-r", &sample("syn-flood.pcap").display().to_string()]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("SYN flood"))
        .unwrap_or_else(|| panic!("{}", out.stdout));
    assert!(
        line.contains("SYN flood on 127.0.0.1:18093: 185 incomplete handshakes within"),
        "{line}"
    );
    assert!(line.contains("top sources: 127.0.0.1 (185)"), "{line}");
    // A higher threshold silences it.
    let out = hs_tui(&[
        "-q",
        "-r",
        &sample("syn-flood.pcap").display().to_string(),
        "--synflood-min",
        "500",
    ]);
    assert!(out.stdout.contains("Alarms: none"), "{}", out.stdout);
}

#[test]
fn port_scan_is_raised_with_the_open_port() {
    let out = hs_tui(&["-q", "-r", &sample("port-scan.pcap").display().to_string()]);
    assert!(
        out.stdout
            .contains("port scan of 127.0.0.1 by 127.0.0.1: 101 ports in")
            && out
                .stdout
                .contains("100 refused or unanswered; open: 20050"),
        "{}",
        out.stdout
    );
}

#[test]
fn alarms_in_json_summary() {
    let out = hs_tui(&[
        "-q",
        "-T",
        "json",
        "-r",
        &sample("port-scan.pcap").display().to_string(),
    ]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON summary");
    assert_eq!(v["alarms"][0]["kind"], "port_scan");
    assert_eq!(v["alarms"][0]["open_ports"], serde_json::json!([20050]));
    assert_eq!(v["streams"], 101);
    let out = hs_tui(&[
        "-q",
        "-T",
        "json",
        "-r",
        &sample("syn-flood.pcap").display().to_string(),
    ]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["alarms"][0]["kind"], "syn_flood");
    assert_eq!(v["servers"][0]["half_open"], 185);
}

#[test]
fn ordinary_traffic_raises_nothing() {
    for f in [
        "http-get.pcap",
        "many-short.pcap",
        "refused.pcap",
        "reset.pcap",
        "half-open.pcap",
    ] {
        let out = hs_tui(&["-q", "-r", &sample(f).display().to_string()]);
        assert!(out.stdout.contains("Alarms: none"), "{f}: {}", out.stdout);
    }
}
