//! TLS handshake dissection and JA4 against their judges:
//! `tests/conformance/tls/compare.py` (tshark 4.0.17's stored answers, strict
//! formats, 100% on the visible set), `tests/conformance/ja4/compare.py`
//! (FoxIO's published fingerprints, 100%), and, when tshark itself is
//! installed, more `tls.*` fields frame by frame on every TLS capture.
//! Without python3 (or tshark for the last test) this is a reported skip.

mod common;

use common::{bin, hs_tui, require_tool};
use std::path::Path;
use std::process::Command;

fn run_judge(script: &str, args: &[&str], test: &str) {
    if !require_tool("python3", test) {
        return;
    }
    let out = Command::new("python3")
        .arg(script)
        .arg(bin())
        .args(args)
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last: Vec<&str> = stdout.lines().rev().take(30).collect();
    assert!(
        out.status.success(),
        "{script} fell below its bar:\n{}",
        last.into_iter().rev().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn tls_handshake_fields_match_tshark_on_every_capture() {
    let dir = "tests/conformance/tls";
    run_judge(
        &format!("{dir}/compare.py"),
        &[
            &format!("{dir}/captures"),
            "--expected",
            &format!("{dir}/expected"),
            "--strict",
            "--min",
            "1.0",
        ],
        "tls_handshake_fields_match_tshark_on_every_capture",
    );
}

#[test]
fn ja4_matches_foxio_on_every_client_hello() {
    let dir = "tests/conformance/ja4";
    run_judge(
        &format!("{dir}/compare.py"),
        &[&format!("{dir}/captures"), "--min", "1.0"],
        "ja4_matches_foxio_on_every_client_hello",
    );
}

/// More fields than the judge compares, on every frame with a TLS record.
const FIELDS: &[&str] = &[
    "frame.number",
    "tcp.stream",
    "tls.handshake.type",
    "tls.handshake.version",
    "tls.record.version",
    "tls.record.content_type",
    "tls.handshake.extensions_server_name",
    "tls.handshake.extensions_alpn_str",
    "tls.handshake.ciphersuite",
    "tls.handshake.extensions.supported_version",
    "tls.handshake.session_id_length",
    "tls.handshake.random",
    "tls.handshake.extension.type",
    "tls.alert_message.level",
    "tls.alert_message.desc",
    "tls.handshake.certificate_length",
];

#[test]
fn more_tls_fields_match_live_tshark() {
    const TEST: &str = "more_tls_fields_match_live_tshark";
    if !require_tool("tshark", TEST) {
        return;
    }
    let config = tempfile::tempdir().unwrap();
    let mut caps: Vec<_> = std::fs::read_dir("tests/conformance/tls/captures")
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    caps.sort();
    let mut args: Vec<String> = Vec::new();
    for f in FIELDS {
        args.push("-e".into());
        args.push(f.to_string());
    }
    let mut bad = Vec::new();
    for cap in &caps {
        let common = |filter: &str| -> Vec<String> {
            let mut a: Vec<String> = vec!["-r".into(), cap.display().to_string()];
            a.extend(
                [
                    "-Y",
                    filter,
                    "-T",
                    "fields",
                    "-E",
                    "occurrence=a",
                    "-E",
                    "aggregator=,",
                ]
                .map(String::from),
            );
            a.extend(args.iter().cloned());
            a
        };
        let a = common("tls.record.version or tls.handshake.type");
        let theirs = Command::new("tshark")
            .arg("-n")
            .args(&a)
            .env("WIRESHARK_CONFIG_DIR", config.path())
            .env("LC_ALL", "C")
            .output()
            .expect("run tshark");
        let ours = hs_tui(&a);
        assert_eq!(ours.code, Some(0), "{}", cap.display());
        let (t, o) = (
            String::from_utf8_lossy(&theirs.stdout).into_owned(),
            ours.stdout,
        );
        for (x, y) in t.lines().zip(o.lines()) {
            if x != y {
                let name = Path::new(cap)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                let first = |s: &str| s.split('\t').next().unwrap_or("").to_string();
                bad.push(format!(
                    "{name} frame tshark {} hs-tui {}",
                    first(x),
                    first(y)
                ));
                break;
            }
        }
        if t.lines().count() != o.lines().count() {
            bad.push(format!(
                "{}: {} rows from tshark, {} from hs-tui",
                cap.display(),
                t.lines().count(),
                o.lines().count()
            ));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn ssl_names_alias_tls_and_json_carries_tls_fields() {
    let cap = "tests/conformance/tls/captures/zeek-tls-chrome-34-google.pcap";
    let a = hs_tui(&[
        "-r",
        cap,
        "-Y",
        "ssl.handshake.type == 1",
        "-T",
        "fields",
        "-e",
        "ssl.handshake.extensions_server_name",
        "-e",
        "tls.handshake.ja4",
    ]);
    assert_eq!(a.code, Some(0));
    let text = a.stdout;
    assert_eq!(text.lines().count(), 1);
    assert!(
        text.starts_with("google.de\tt12d"),
        "{}",
        text.chars().take(80).collect::<String>()
    );
    let j = hs_tui(&["-r", cap, "-Y", "tls.handshake.type == 2", "-T", "json"]);
    let json = j.stdout;
    assert!(
        json.contains("\"tls.handshake.ciphersuite\": \"0xc02f\"")
            || json.contains("\"tls.handshake.ciphersuite\":\"0xc02f\""),
        "no cipher in the JSON"
    );
}

/// `hs.tls.*` and `hs.setup.sh` against the per-stream answers (`expected/*.streams.tsv`:
/// SNI of the first ClientHello, negotiated version, cipher, ALPN, ClientHello to ServerHello).
#[test]
fn per_stream_tls_fields_match_the_streams_tables() {
    let dir = Path::new("tests/conformance/tls");
    let mut caps: Vec<_> = std::fs::read_dir(dir.join("captures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    caps.sort();
    let mut bad = Vec::new();
    let mut checked = 0;
    for cap in &caps {
        let stem = cap.file_stem().unwrap().to_string_lossy().into_owned();
        let table =
            std::fs::read_to_string(dir.join(format!("expected/{stem}.streams.tsv"))).unwrap();
        let out = hs_tui(&[
            "-r",
            &cap.display().to_string(),
            "-T",
            "fields",
            "-e",
            "tcp.stream",
            "-e",
            "hs.tls.sni",
            "-e",
            "hs.tls.version",
            "-e",
            "hs.tls.cipher",
            "-e",
            "hs.tls.alpn",
            "-e",
            "hs.setup.sh",
        ]);
        assert_eq!(out.code, Some(0), "{stem}");
        // The last packet of each stream carries everything it negotiated.
        let mut last = std::collections::HashMap::new();
        for line in out.stdout.lines() {
            let cols: Vec<&str> = line.split('\t').collect();
            last.insert(cols[0].to_string(), cols[1..].join("\t"));
        }
        for row in table.lines().skip(1) {
            let c: Vec<&str> = row.split('\t').collect();
            // stream sni version cipher alpn client_hello_frame server_hello_frame ch_to_sh ...
            let want = [c[1], c[2], c[3], c[4], c[7]].join("\t");
            let got = last.get(c[0]).cloned().unwrap_or_default();
            checked += 1;
            if got != want {
                bad.push(format!("{stem} stream {}: want [{want}] got [{got}]", c[0]));
            }
        }
    }
    assert!(checked >= 15, "{checked} streams");
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// The bare `tls` test follows the TLS dissector's hand-overs (STARTTLS, tunnels, ports
/// whose dissector turns TLS down): the same frames as tshark's `-Y tls`.
#[test]
fn bare_tls_matches_live_tshark_on_tls_captures() {
    const TEST: &str = "bare_tls_matches_live_tshark_on_tls_captures";
    if !require_tool("tshark", TEST) {
        return;
    }
    let config = tempfile::tempdir().unwrap();
    let mut bad = Vec::new();
    for dir in [
        "tests/conformance/tls/captures",
        "tests/conformance/ja4/captures",
    ] {
        for e in std::fs::read_dir(dir).unwrap() {
            let cap = e.unwrap().path();
            if cap.to_string_lossy().contains("quic")
                || cap.to_string_lossy().contains("foxio-tls-handshake")
            {
                continue; // TLS inside QUIC is not dissected
            }
            let a = [
                "-r",
                &cap.display().to_string(),
                "-Y",
                "tls",
                "-T",
                "fields",
                "-e",
                "frame.number",
            ]
            .map(String::from);
            let theirs = Command::new("tshark")
                .arg("-n")
                .args(&a)
                .env("WIRESHARK_CONFIG_DIR", config.path())
                .output()
                .expect("run tshark");
            let ours = hs_tui(&a);
            if String::from_utf8_lossy(&theirs.stdout) != ours.stdout {
                bad.push(cap.display().to_string());
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
